/*
 * GICv3 at EL2: Group 0 for the hypervisor, and forwarding of the guest's
 * trapped distributor and redistributor-SGI-frame accesses with the
 * hypervisor's interrupts masked out. QEMU's virt GIC has a single security
 * state (GICD_CTLR.DS = 1): Group 0 is signalled as FIQ, Group 1 as IRQ.
 */
#include "gic.h"
#include "hv.h"
#include "platform.h"
#include "mmio.h"
#include "arch/sysreg.h"

/* Distributor (GICv3 spec 12.9) */
#define GICD_CTLR 0x0000
#define GICD_CTLR_ENABLE_G0 BIT(0) /* with DS = 1 */
#define GICD_CTLR_ARE BIT(4)
#define GICD_TYPER 0x0004
#define GICD_TYPER_MBIS BIT(16)	/* message-based SPIs */
#define GICD_TYPER_LPIS BIT(17)
#define GICD_TYPER_NUM_LPIS (0x1fu << 11)
#define GICD_SETSPI_NSR 0x0040	/* to GICD_CLRSPI_SR 0x0058: message-based SPIs */
#define GICD_SPI_MSG_END 0x0060
#define GICD_IGROUPR 0x0080	/* the bitmap registers, 0x80 bytes each, up to ICACTIVER */
#define GICD_ISENABLER 0x0100
#define GICD_ICACTIVER_END 0x0400
#define GICD_IPRIORITYR 0x0400	/* a byte per INTID */
#define GICD_ICFGR 0x0c00	/* two bits per INTID */
#define GICD_IGRPMODR 0x0d00
#define GICD_IROUTER 0x6000	/* 64 bits per SPI */

/* Redistributor: two 64 KiB frames per CPU, RD_base then SGI_base (12.10/12.11) */
#define GICR_STRIDE 0x20000
#define GICR_SGI_FRAME 0x10000
#define GICR_CTLR 0x0000
#define GICR_CTLR_ENABLE_LPIS BIT(0)
#define GICR_IIDR 0x0004
#define GICR_TYPER 0x0008 /* 64 bits */
#define GICR_TYPER_PLPIS BIT(0)
#define GICR_TYPER_VLPIS BIT(1)
#define GICR_TYPER_DIRECT_LPI BIT(3)
#define GICR_STATUSR 0x0010
#define GICR_WAKER 0x0014
#define GICR_WAKER_PROCESSOR_SLEEP BIT(1)
#define GICR_WAKER_CHILDREN_ASLEEP BIT(2)
#define GICR_ID_REGS 0xffd0 /* PIDR4 .. CIDR3 */
#define GICR_IGROUPR0 0x0080
#define GICR_ISENABLER0 0x0100
#define GICR_ICENABLER0 0x0180
#define GICR_ISPENDR0 0x0200
#define GICR_ICPENDR0 0x0280
#define GICR_ISACTIVER0 0x0300
#define GICR_ICACTIVER0 0x0380
#define GICR_IPRIORITYR 0x0400
#define GICR_ICFGR1 0x0c04
#define GICR_IGRPMODR0 0x0d00

#define HV_INTIDS (BIT(GIC_SGI_KICK) | BIT(GIC_PPI_HV_TIMER))

static unsigned hv_spi; /* the debug line's INTx, 0 if none */
#define HV_PRIORITY 0x00      /* highest: preempts anything the guest runs */
/*
 * The guest's interrupts get no higher priority than this (a lower value is
 * raised to it): on an equal priority the lower INTID wins, so a guest
 * interrupt at 0x00 (the reset value) would hide the debug line's from the
 * CPU, and one active at 0x00 would keep the hypervisor's from preempting.
 */
#define GUEST_PRIORITY_MIN 0x10
#define PRIORITY_BYTES(p) ((p) * 0x01010101u)
#define PMR_ALL 0xff

/* ICC_* as the hypervisor sees them at EL2 (always the physical interface). */
#define ICC_SRE_EL2 S3_4_C12_C9_5
#define ICC_SRE_ALL 0xf		/* SRE, DFB, DIB, Enable (EL1 may use ICC_SRE_EL1) */
#define ICC_PMR_EL1 S3_0_C4_C6_0
#define ICC_IAR0_EL1 S3_0_C12_C8_0
#define ICC_EOIR0_EL1 S3_0_C12_C8_1
#define ICC_IGRPEN0_EL1 S3_0_C12_C12_6
#define ICC_SGI0R_EL1 S3_0_C12_C11_7
#define SGIR_INTID_SHIFT 24
#define SGIR_IRM BIT(40)	/* every PE but this one */

static volatile u32 *reg32(u64 addr)
{
	return (volatile u32 *)addr;
}

static u64 sgi_frame(unsigned cpu)
{
	return plat.gicr_base + (u64)cpu * GICR_STRIDE + GICR_SGI_FRAME;
}

void gic_init(void)
{
	volatile u32 *ctlr = reg32(plat.gicd_base + GICD_CTLR);

	*ctlr |= GICD_CTLR_ARE | GICD_CTLR_ENABLE_G0;
	unsigned spis = 32 * ((*reg32(plat.gicd_base + GICD_TYPER) & 0x1f) + 1);
	for (unsigned intid = 32; intid < spis && intid < 1020; intid += 4)
		*reg32(plat.gicd_base + GICD_IPRIORITYR + intid) = PRIORITY_BYTES(GUEST_PRIORITY_MIN);
}

void gic_take_spi(unsigned intid, u64 mpidr)
{
	u64 d = plat.gicd_base;

	if (intid < 32 || intid > 1019)
		return;
	hv_spi = intid;
	*reg32(d + GICD_ISENABLER + 0x80 + 4 * (intid / 32)) = BIT(intid % 32); /* ICENABLER */
	*reg32(d + GICD_IGROUPR + 4 * (intid / 32)) &= ~(u32)BIT(intid % 32);
	*reg32(d + GICD_IGRPMODR + 4 * (intid / 32)) &= ~(u32)BIT(intid % 32);
	*(volatile u8 *)(d + GICD_IPRIORITYR + intid) = HV_PRIORITY;
	*reg32(d + GICD_ICFGR + 4 * (intid / 16)) &= ~(3u << 2 * (intid % 16)); /* level */
	*(volatile u64 *)(d + GICD_IROUTER + 8 * intid) = mpidr & MPIDR_AFF_MASK;
	*reg32(d + GICD_ISENABLER + 4 * (intid / 32)) = BIT(intid % 32);
}

void gic_cpu_init(unsigned cpu)
{
	u64 sgi = sgi_frame(cpu);
	volatile u8 *prio = (volatile u8 *)(sgi + GICR_IPRIORITYR);

	*reg32(sgi + GICR_IGROUPR0) &= ~(u32)HV_INTIDS;
	*reg32(sgi + GICR_IGRPMODR0) &= ~(u32)HV_INTIDS;
	for (unsigned intid = 0; intid < 32; intid += 4)
		*reg32(sgi + GICR_IPRIORITYR + intid) = PRIORITY_BYTES(GUEST_PRIORITY_MIN);
	prio[GIC_SGI_KICK] = HV_PRIORITY;
	prio[GIC_PPI_HV_TIMER] = HV_PRIORITY;
	*reg32(sgi + GICR_ISENABLER0) = HV_INTIDS;
	sysreg_write(ICC_SRE_EL2, ICC_SRE_ALL);
	isb();
	sysreg_write(ICC_PMR_EL1, PMR_ALL);
	sysreg_write(ICC_IGRPEN0_EL1, 1);
	isb();
}

unsigned gic_ack_fiq(void)
{
	unsigned intid = sysreg_read(ICC_IAR0_EL1) & 0xffffff;

	dsb(sy);
	return intid;
}

void gic_eoi_fiq(unsigned intid)
{
	sysreg_write(ICC_EOIR0_EL1, intid);
	isb();
}

void gic_send_sgi(u64 mpidr, unsigned intid)
{
	u64 aff0 = FIELD(mpidr, 7, 0);

	dsb(ish);
	sysreg_write(ICC_SGI0R_EL1, BIT(aff0 % 16) | FIELD(mpidr, 15, 8) << 16 | (u64)intid << SGIR_INTID_SHIFT |
					   FIELD(mpidr, 23, 16) << 32 | (aff0 / 16) << 44 | FIELD(mpidr, 39, 32) << 48);
	isb();
}

/*
 * Sleep until a Group 0 interrupt is pending (taken or not: FIQs stay masked
 * at EL2), then acknowledge what is pending so the next WFI sleeps again. A
 * level interrupt whose cause remains (the UART with bytes in its FIFO) is
 * pending again right after its EOI: acknowledge each INTID once, or this
 * loop would never end; the caller removes the cause.
 *
 * The guest's interrupts are held off for the WFI: one pending for a stopped
 * guest (its timer, say) would end every WFI at once, and the caller's loop
 * would spin on the debug line's registers, which under QEMU holds the device lock
 * the I/O thread needs (milliseconds a packet).
 */
void gic_wait_for_fiq(void)
{
	u64 pmr = sysreg_read(ICC_PMR_EL1); /* masked already while stepping */
	u32 seen_sgi_ppi = 0;
	unsigned intid, spis = 0;

	gic_mask_guest_interrupts(true);
	wfi();
	sysreg_write(ICC_PMR_EL1, pmr);
	isb();
	while ((intid = gic_ack_fiq()) != GIC_SPURIOUS) {
		gic_eoi_fiq(intid);
		if (intid < 32) {
			if (seen_sgi_ppi & BIT(intid))
				break;
			seen_sgi_ppi |= BIT(intid);
		} else if (++spis > 1) {
			break; /* the hypervisor owns one SPI */
		}
	}
}

void gic_route_spi(unsigned intid, u64 mpidr)
{
	if (intid >= 32 && intid == hv_spi)
		*(volatile u64 *)(plat.gicd_base + GICD_IROUTER + 8 * intid) = mpidr & MPIDR_AFF_MASK;
}

void gic_send_kick_to_others(void)
{
	dsb(ish);
	sysreg_write(ICC_SGI0R_EL1, SGIR_IRM | (u64)GIC_SGI_KICK << SGIR_INTID_SHIFT);
	isb();
}

/*
 * The physical priority mask is the hypervisor's alone (with HCR_EL2.FMO set
 * the guest's ICC_PMR_EL1 is the virtual one), and every guest interrupt is at
 * GUEST_PRIORITY_MIN or lower: a mask of that value holds them all off and
 * lets the hypervisor's through. Pending ones stay pending.
 */
void gic_mask_guest_interrupts(bool masked)
{
	sysreg_write(ICC_PMR_EL1, masked ? GUEST_PRIORITY_MIN : PMR_ALL);
	isb();
}

/*
 * The bits of one 32-bit word of the SGI frame that belong to the hypervisor.
 * off is the word's offset in the frame.
 */
static u32 hv_bits_of(u64 off)
{
	switch (off) {
	case GICR_IGROUPR0:
	case GICR_ISENABLER0:
	case GICR_ICENABLER0:
	case GICR_ISPENDR0:
	case GICR_ICPENDR0:
	case GICR_ISACTIVER0:
	case GICR_ICACTIVER0:
	case GICR_IGRPMODR0:
		return HV_INTIDS;
	case GICR_ICFGR1: /* two bits per PPI 16-31 */
		return 3u << ((GIC_PPI_HV_TIMER - 16) * 2);
	}
	if (off >= GICR_IPRIORITYR && off < GICR_IPRIORITYR + 32) { /* a byte per INTID */
		u32 bits = 0;
		for (unsigned b = 0; b < 4; b++) {
			unsigned intid = (off - GICR_IPRIORITYR) + b;
			if (HV_INTIDS & BIT(intid))
				bits |= 0xffu << (8 * b);
		}
		return bits;
	}
	return 0;
}

/* The same for a word of the distributor: the bits of the debug line's SPI. */
static u32 dist_hv_bits_of(u64 off)
{
	unsigned m = hv_spi;

	if (!m)
		return 0;
	if ((off >= GICD_IGROUPR && off < GICD_ICACTIVER_END) ||
	    (off >= GICD_IGRPMODR && off < GICD_IGRPMODR + 0x80))
		return (off & 0x7f) / 4 == m / 32 ? BIT(m % 32) : 0;
	if (off >= GICD_IPRIORITYR && off < GICD_IPRIORITYR + 1020)
		return (m & ~3u) == off - GICD_IPRIORITYR ? 0xffu << 8 * (m & 3) : 0;
	if (off >= GICD_ICFGR && off < GICD_ICFGR + 256)
		return (off - GICD_ICFGR) / 4 == m / 16 ? 3u << 2 * (m % 16) : 0;
	return 0;
}

/*
 * One access of at most 4 bytes within one 32-bit word whose bits `hv` belong
 * to the hypervisor: the guest reads them as 0 and cannot change them.
 * set_clear: a register where writing 0 changes nothing (ISENABLER & co).
 */
static void masked_access32(u64 word_addr, u32 hv, bool set_clear, unsigned shift, u32 lanes,
			    struct emul_access *acc)
{
	volatile u32 *w = reg32(word_addr);

	if (!acc->write) {
		acc->value = ((*w & ~hv) & lanes) >> shift;
		return;
	}
	u32 val = ((u32)acc->value << shift) & lanes & ~hv;
	if (!hv)
		*w = lanes == ~0u ? val : (*w & ~lanes) | val;
	else if (set_clear)
		*w = val;
	else
		*w = (*w & (hv | ~lanes)) | val;
}

static void sgi_frame_access32(u64 word_addr, u64 off, unsigned shift, u32 lanes, struct emul_access *acc)
{
	masked_access32(word_addr, hv_bits_of(off), off >= GICR_ISENABLER0 && off <= GICR_ICACTIVER0, shift,
			lanes, acc);
}

/* A guest write of priorities (a byte each), each raised to GUEST_PRIORITY_MIN. */
static void floor_priorities(struct emul_access *acc)
{
	for (unsigned b = 0; b < acc->width; b++) {
		u64 byte = 0xffull << 8 * b, min = (u64)GUEST_PRIORITY_MIN << 8 * b;
		if ((acc->value & byte) < min)
			acc->value = (acc->value & ~byte) | min;
	}
}

static bool sgi_frame_access(u64 frame, u64 off, struct emul_access *acc)
{
	if (acc->write && off >= GICR_IPRIORITYR && off < GICR_IPRIORITYR + 32)
		floor_priorities(acc);

	if (acc->width == 8) { /* no 64-bit register here: two words, same rules */
		struct emul_access half = *acc;
		u64 lo, hi;
		half.width = 4;
		half.value = (u32)acc->value;
		sgi_frame_access32(frame + off, off, 0, ~0u, &half);
		lo = half.value;
		half.value = acc->value >> 32;
		sgi_frame_access32(frame + off + 4, off + 4, 0, ~0u, &half);
		hi = half.value;
		if (!acc->write)
			acc->value = lo | hi << 32;
		return true;
	}
	unsigned shift = (off & 3) * 8;
	u32 lanes = (acc->width == 4 ? ~0u : ((1u << (acc->width * 8)) - 1)) << shift;
	sgi_frame_access32(frame + (off & ~3ull), off & ~3ull, shift, lanes, acc);
	return true;
}

/* ProcessorSleep as each redistributor's guest last wrote it: see rd_frame_access. */
static bool guest_processor_sleep[MAX_CPUS];

/*
 * RD_base: the guest gets a redistributor without LPIs. Their tables
 * (GICR_PROPBASER, GICR_PENDBASER) are memory the GIC itself writes, at any
 * physical address the guest names, so they are not the guest's to set: LPIs
 * read as absent, and the guest's GIC has no ITS (fdt.c removes it, stage 2
 * does not map it). ProcessorSleep is the guest's to set and read, but never
 * reaches the hardware: it would stop the hypervisor's own interrupts. Only the
 * registers named here exist for the guest; the rest of the frame reads as
 * zero and ignores writes.
 */
static bool rd_frame_access(u64 frame, unsigned cpu, u64 off, struct emul_access *acc)
{
	u64 word = off & ~3ull;

	if (acc->width == 8 && off != GICR_TYPER) { /* 32-bit registers: two words, each on its own */
		struct emul_access half = *acc;
		u64 lo;
		half.width = 4;
		half.value = (u32)acc->value;
		if (!rd_frame_access(frame, cpu, off, &half))
			return false;
		lo = half.value;
		half.value = acc->value >> 32;
		if (!rd_frame_access(frame, cpu, off + 4, &half))
			return false;
		if (!acc->write)
			acc->value = lo | half.value << 32;
		return true;
	}
	if (off >= GICR_ID_REGS || word == GICR_IIDR || word == GICR_STATUSR)
		return mmio_forward(frame + off, acc);
	if (word == GICR_CTLR) {
		if (acc->write)
			acc->value &= ~(u64)GICR_CTLR_ENABLE_LPIS;
		if (!mmio_forward(frame + off, acc))
			return false;
		if (!acc->write)
			acc->value &= ~(u64)GICR_CTLR_ENABLE_LPIS;
		return true;
	}
	if (off >= GICR_TYPER && off < GICR_TYPER + 8) {
		if (acc->write)
			return true; /* read-only */
		if (!mmio_forward(frame + off, acc))
			return false;
		if (off == GICR_TYPER)
			acc->value &= ~(u64)(GICR_TYPER_PLPIS | GICR_TYPER_VLPIS | GICR_TYPER_DIRECT_LPI);
		return true;
	}
	if (word == GICR_WAKER && acc->width == 4) {
		if (acc->write) {
			guest_processor_sleep[cpu] = acc->value & GICR_WAKER_PROCESSOR_SLEEP;
			acc->value &= ~(u64)GICR_WAKER_PROCESSOR_SLEEP;
			return mmio_forward(frame + off, acc);
		}
		if (!mmio_forward(frame + off, acc))
			return false;
		acc->value &= ~(u64)(GICR_WAKER_PROCESSOR_SLEEP | GICR_WAKER_CHILDREN_ASLEEP);
		if (guest_processor_sleep[cpu])
			acc->value |= GICR_WAKER_PROCESSOR_SLEEP | GICR_WAKER_CHILDREN_ASLEEP;
		return true;
	}
	if (!acc->write)
		acc->value = 0;
	return true;
}

/* The redistributors: those of the machine's CPUs, each two frames; past them, nothing answers. */
bool gicr_access(const struct mmio_region *r, struct emul_access *acc)
{
	unsigned cpu = (acc->addr - r->base) / GICR_STRIDE;
	u64 frame_off = (acc->addr - r->base) % GICR_STRIDE;
	u64 frame = acc->addr - frame_off;

	if (cpu >= pcpu_count)
		return false;
	if (frame_off < GICR_SGI_FRAME)
		return rd_frame_access(frame, cpu, frame_off, acc);
	return sgi_frame_access(frame + GICR_SGI_FRAME, frame_off - GICR_SGI_FRAME, acc);
}

bool gicd_access(const struct mmio_region *r, struct emul_access *acc)
{
	u64 off = acc->addr - r->base;

	if (acc->write && off >= GICD_IPRIORITYR && off < GICD_IPRIORITYR + 1020)
		floor_priorities(acc);
	/* The guest may configure the distributor as it likes, except turning
	 * off Group 0 or affinity routing, which the hypervisor relies on. Any
	 * write that touches GICD_CTLR becomes a whole-word write with them set. */
	if (acc->write && off < GICD_CTLR + 4) {
		volatile u32 *ctlr = reg32(r->base + GICD_CTLR);
		unsigned shift = off * 8;
		u32 lanes = (acc->width >= 4 ? ~0u : ((1u << (acc->width * 8)) - 1)) << shift;
		u32 val = ((u32)acc->value << shift) & lanes;
		*ctlr = (*ctlr & ~lanes) | val | GICD_CTLR_ARE | GICD_CTLR_ENABLE_G0;
		return true;
	}
	/* The message-based SPI registers do not exist for the guest (MBIS = 0):
	 * they would set or clear any SPI's pending state, the debug line's too. */
	if (off >= GICD_SETSPI_NSR && off < GICD_SPI_MSG_END) {
		if (!acc->write)
			acc->value = 0;
		return true;
	}
	/* No LPIs and no message-based SPIs: see rd_frame_access. */
	if (off < GICD_TYPER + 4 && off + acc->width > GICD_TYPER) {
		if (acc->write)
			return true;
		if (!mmio_forward(acc->addr, acc))
			return false;
		u64 hidden = GICD_TYPER_LPIS | GICD_TYPER_MBIS | GICD_TYPER_NUM_LPIS;
		acc->value &= ~(off <= GICD_TYPER ? hidden << (GICD_TYPER - off) * 8 : hidden >> (off - GICD_TYPER) * 8);
		return true;
	}
	if (acc->width == 8 && off < GICD_IROUTER) { /* two words, each checked */
		struct emul_access half = *acc;
		u64 lo;
		half.width = 4;
		half.value = (u32)acc->value;
		if (!gicd_access(r, &half))
			return false;
		lo = half.value;
		half.addr += 4;
		half.value = acc->value >> 32;
		if (!gicd_access(r, &half))
			return false;
		if (!acc->write)
			acc->value = lo | half.value << 32;
		return true;
	}
	/* The debug line's SPI: its routing is not the guest's to change. */
	if (hv_spi && off + acc->width > GICD_IROUTER + 8 * hv_spi && off < GICD_IROUTER + 8 * hv_spi + 8) {
		if (!acc->write)
			acc->value = 0;
		return true;
	}
	if (acc->width <= 4 && (off & 3) + acc->width <= 4 && dist_hv_bits_of(off & ~3ull)) {
		unsigned shift = (off & 3) * 8;
		u32 lanes = (acc->width == 4 ? ~0u : ((1u << (acc->width * 8)) - 1)) << shift;
		u64 word = off & ~3ull;
		masked_access32(r->base + word, dist_hv_bits_of(word),
				word >= GICD_ISENABLER && word < GICD_ICACTIVER_END, shift, lanes, acc);
		return true;
	}
	return mmio_forward(acc->addr, acc);
}
