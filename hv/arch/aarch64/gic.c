/*
 * The physical GICv3 at EL2 (gic.h). QEMU's virt GIC has a single security
 * state (GICD_CTLR.DS = 1): Group 0 is signalled as FIQ, Group 1 as IRQ, and
 * with HCR_EL2.IMO and FMO set both come to EL2 from the guest.
 */
#include "gic.h"
#include "hv.h"
#include "platform.h"
#include "arch/sysreg.h"

/* Distributor (GICv3 spec 12.9) */
#define GICD_CTLR 0x0000
#define GICD_CTLR_ENABLE_G0 BIT(0) /* with DS = 1 */
#define GICD_CTLR_ENABLE_G1 BIT(1)
#define GICD_CTLR_ARE BIT(4)
#define GICD_CTLR_RWP BIT(31)
#define GICD_TYPER 0x0004
#define GICD_IGROUPR 0x0080
#define GICD_ISENABLER 0x0100
#define GICD_ICENABLER 0x0180
#define GICD_ISPENDR 0x0200
#define GICD_ICPENDR 0x0280
#define GICD_ICACTIVER 0x0380
#define GICD_IPRIORITYR 0x0400
#define GICD_ICFGR 0x0c00
#define GICD_IGRPMODR 0x0d00
#define GICD_IROUTER 0x6000

/* Redistributor: RD_base then SGI_base, 64 KiB each (12.10/12.11) */
#define GICR_STRIDE 0x20000
#define GICR_SGI_FRAME 0x10000
#define GICR_WAKER 0x0014
#define GICR_WAKER_PROCESSOR_SLEEP BIT(1)
#define GICR_WAKER_CHILDREN_ASLEEP BIT(2)
#define GICR_IGROUPR0 0x0080
#define GICR_ISENABLER0 0x0100
#define GICR_ICENABLER0 0x0180
#define GICR_ISPENDR0 0x0200
#define GICR_ICPENDR0 0x0280
#define GICR_ISACTIVER0 0x0300
#define GICR_ICACTIVER0 0x0380
#define GICR_IPRIORITYR 0x0400
#define GICR_IGRPMODR0 0x0d00

#define HV_GROUP0_PRIVATE (BIT(GIC_SGI_KICK) | BIT(GIC_PPI_HV_TIMER)) /* the maintenance PPI is Group 1 */
#define HV_PRIORITY 0x00 /* highest: preempts anything the guest runs */
#define PRIORITY_BYTES(p) ((p) * 0x01010101u)
#define PMR_ALL 0xff

/* ICC_* as the hypervisor sees them at EL2 (always the physical interface). */
#define ICC_SRE_EL2 S3_4_C12_C9_5
#define ICC_SRE_ALL 0xf		/* SRE, DFB, DIB, Enable (EL1 may use ICC_SRE_EL1) */
#define ICC_PMR_EL1 S3_0_C4_C6_0
#define ICC_IAR0_EL1 S3_0_C12_C8_0
#define ICC_EOIR0_EL1 S3_0_C12_C8_1
#define ICC_CTLR_EL1 S3_0_C12_C12_4
#define ICC_CTLR_EOIMODE BIT(1)
#define ICC_IGRPEN0_EL1 S3_0_C12_C12_6
#define ICC_IGRPEN1_EL1 S3_0_C12_C12_7
#define ICC_SGI0R_EL1 S3_0_C12_C11_7
#define ICH_HCR_EL2 S3_4_C12_C11_0
#define ICH_HCR_EN BIT(0)
#define SGIR_INTID_SHIFT 24
#define SGIR_IRM BIT(40)	/* every PE but this one */

unsigned gic_hv_spi;
static unsigned spi_end;

static volatile u32 *reg32(u64 addr)
{
	return (volatile u32 *)addr;
}

static u64 sgi_frame(unsigned cpu)
{
	return plat.gicr_base + (u64)cpu * GICR_STRIDE + GICR_SGI_FRAME;
}

static void dist_wait_rwp(void)
{
	while (*reg32(plat.gicd_base + GICD_CTLR) & GICD_CTLR_RWP)
		;
}

/* Every SPI the guest's: Group 1, one priority, off until the guest enables it. */
void gic_init(void)
{
	u64 d = plat.gicd_base;

	spi_end = 32 * ((*reg32(d + GICD_TYPER) & 0x1f) + 1);
	if (spi_end > 1020)
		spi_end = 1020;
	*reg32(d + GICD_CTLR) = GICD_CTLR_ARE;
	dist_wait_rwp();
	for (unsigned intid = 32; intid < spi_end; intid += 32) {
		*reg32(d + GICD_ICENABLER + intid / 8) = ~0u;
		*reg32(d + GICD_ICPENDR + intid / 8) = ~0u;
		*reg32(d + GICD_ICACTIVER + intid / 8) = ~0u;
		*reg32(d + GICD_IGROUPR + intid / 8) = ~0u;
		*reg32(d + GICD_IGRPMODR + intid / 8) = 0;
	}
	for (unsigned intid = 32; intid < spi_end; intid += 4)
		*reg32(d + GICD_IPRIORITYR + intid) = PRIORITY_BYTES(GIC_GUEST_PRIORITY);
	dist_wait_rwp();
	*reg32(d + GICD_CTLR) = GICD_CTLR_ARE | GICD_CTLR_ENABLE_G0 | GICD_CTLR_ENABLE_G1;
}

unsigned gic_spi_end(void)
{
	return spi_end;
}

void gic_take_spi(unsigned intid, u64 mpidr)
{
	u64 d = plat.gicd_base;

	if (intid < 32 || intid >= spi_end)
		return;
	gic_hv_spi = intid;
	*reg32(d + GICD_ICENABLER + 4 * (intid / 32)) = BIT(intid % 32);
	*reg32(d + GICD_IGROUPR + 4 * (intid / 32)) &= ~(u32)BIT(intid % 32);
	*(volatile u8 *)(d + GICD_IPRIORITYR + intid) = HV_PRIORITY;
	*reg32(d + GICD_ICFGR + 4 * (intid / 16)) &= ~(3u << 2 * (intid % 16)); /* level */
	*(volatile u64 *)(d + GICD_IROUTER + 8 * intid) = mpidr & MPIDR_AFF_MASK;
	*reg32(d + GICD_ISENABLER + 4 * (intid / 32)) = BIT(intid % 32);
}

/*
 * This pCPU's redistributor awake, its private interrupts the guest's (Group
 * 1, off) but the hypervisor's two Group 0 ones and the maintenance interrupt;
 * the CPU interface with split drop and deactivation.
 */
void gic_cpu_init(unsigned cpu)
{
	u64 rd = plat.gicr_base + (u64)cpu * GICR_STRIDE, sgi = sgi_frame(cpu);
	volatile u8 *prio = (volatile u8 *)(sgi + GICR_IPRIORITYR);

	*reg32(rd + GICR_WAKER) &= ~(u32)GICR_WAKER_PROCESSOR_SLEEP;
	while (*reg32(rd + GICR_WAKER) & GICR_WAKER_CHILDREN_ASLEEP)
		;
	*reg32(sgi + GICR_ICENABLER0) = ~0u;
	*reg32(sgi + GICR_ICPENDR0) = ~0u;
	*reg32(sgi + GICR_ICACTIVER0) = ~0u;
	*reg32(sgi + GICR_IGROUPR0) = ~(u32)HV_GROUP0_PRIVATE;
	*reg32(sgi + GICR_IGRPMODR0) = 0;
	for (unsigned intid = 0; intid < 32; intid += 4)
		*reg32(sgi + GICR_IPRIORITYR + intid) = PRIORITY_BYTES(GIC_GUEST_PRIORITY);
	prio[GIC_SGI_KICK] = HV_PRIORITY;
	prio[GIC_PPI_HV_TIMER] = HV_PRIORITY;
	*reg32(sgi + GICR_ISENABLER0) = HV_GROUP0_PRIVATE | BIT(GIC_PPI_MAINTENANCE);
	sysreg_write(ICC_SRE_EL2, ICC_SRE_ALL);
	isb();
	sysreg_write(ICC_CTLR_EL1, sysreg_read(ICC_CTLR_EL1) | ICC_CTLR_EOIMODE);
	sysreg_write(ICC_PMR_EL1, PMR_ALL);
	sysreg_write(ICC_IGRPEN0_EL1, 1);
	sysreg_write(ICC_IGRPEN1_EL1, 1);
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
	sysreg_write(ICC_DIR_EL1, intid);
	isb();
}

/* ICC_SGI0R_EL1's value for SGI intid to the PE mpidr (TargetList, Aff1-3, RS). */
u64 gic_sgir_for(u64 mpidr, unsigned intid)
{
	u64 aff0 = FIELD(mpidr, 7, 0);

	return BIT(aff0 % 16) | FIELD(mpidr, 15, 8) << 16 | (u64)intid << SGIR_INTID_SHIFT |
	       FIELD(mpidr, 23, 16) << 32 | (aff0 / 16) << 44 | FIELD(mpidr, 39, 32) << 48;
}

void gic_send_sgi(u64 mpidr, unsigned intid)
{
	dsb(ish);
	sysreg_write(ICC_SGI0R_EL1, gic_sgir_for(mpidr, intid));
	isb();
}

void gic_kick(struct pcpu *cpu)
{
	dsb(ish);
	sysreg_write(ICC_SGI0R_EL1, cpu->kick_sgir);
	isb();
}

void gic_send_kick_to_others(void)
{
	dsb(ish);
	sysreg_write(ICC_SGI0R_EL1, SGIR_IRM | (u64)GIC_SGI_KICK << SGIR_INTID_SHIFT);
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

	sysreg_write(ICC_PMR_EL1, GIC_GUEST_PRIORITY);
	isb();
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

void gic_mask_guest_interrupts(bool masked)
{
	struct vcpu *v = this_vcpu();

	v->vgic.masked = masked;
	sysreg_write(ICC_PMR_EL1, masked ? GIC_GUEST_PRIORITY : PMR_ALL);
	sysreg_write(ICH_HCR_EL2, masked ? sysreg_read(ICH_HCR_EL2) & ~ICH_HCR_EN
				       : sysreg_read(ICH_HCR_EL2) | ICH_HCR_EN);
	isb();
}

u32 gic_dist_reg(u64 off)
{
	return *reg32(plat.gicd_base + off);
}

u32 gic_redist_reg(unsigned cpu, u64 off)
{
	return *reg32(plat.gicr_base + (u64)cpu * GICR_STRIDE + off);
}

/* The word and bit of intid in a bitmap register, distributor or this pCPU's frame. */
static volatile u32 *bitmap_word(u64 dist_reg, u64 redist_reg, unsigned intid, unsigned cpu)
{
	if (intid < 32)
		return reg32(sgi_frame(cpu) + redist_reg);
	return reg32(plat.gicd_base + dist_reg + 4 * (intid / 32));
}

void gic_phys_enable(unsigned intid, unsigned cpu, bool on)
{
	if (gic_is_hypervisors(intid) || intid >= spi_end)
		return;
	*bitmap_word(on ? GICD_ISENABLER : GICD_ICENABLER, on ? GICR_ISENABLER0 : GICR_ICENABLER0, intid, cpu) =
		BIT(intid % 32);
}

void gic_phys_pend(unsigned intid, unsigned cpu, bool on)
{
	if (gic_is_hypervisors(intid) || intid >= spi_end)
		return;
	*bitmap_word(on ? GICD_ISPENDR : GICD_ICPENDR, on ? GICR_ISPENDR0 : GICR_ICPENDR0, intid, cpu) =
		BIT(intid % 32);
}

bool gic_phys_pending(unsigned intid, unsigned cpu)
{
	if (gic_is_hypervisors(intid) || intid >= spi_end)
		return false;
	return *bitmap_word(GICD_ISPENDR, GICR_ISPENDR0, intid, cpu) & BIT(intid % 32);
}

void gic_phys_deactivate(unsigned intid, unsigned cpu)
{
	if (gic_is_hypervisors(intid) || intid >= spi_end)
		return;
	*bitmap_word(GICD_ICACTIVER, GICR_ICACTIVER0, intid, cpu) = BIT(intid % 32);
}

/*
 * The enable and active bits of the private interrupts in mask, on pCPU
 * cpu's redistributor: a vCPU's while it is loaded there (vgic.c). A put
 * takes them and leaves them inactive; a load gives them back.
 */
u32 gic_ppis_take_active(unsigned cpu, u32 mask)
{
	u32 active = *reg32(sgi_frame(cpu) + GICR_ISACTIVER0) & mask;

	if (active)
		*reg32(sgi_frame(cpu) + GICR_ICACTIVER0) = active;
	return active;
}

void gic_ppis_load(unsigned cpu, u32 mask, u32 enabled, u32 active)
{
	*reg32(sgi_frame(cpu) + GICR_ICENABLER0) = ~enabled & mask;
	*reg32(sgi_frame(cpu) + GICR_ISENABLER0) = enabled & mask;
	if (active & mask)
		*reg32(sgi_frame(cpu) + GICR_ISACTIVER0) = active & mask;
}

/* An SPI's trigger (a PPI's is the device's, fixed). */
void gic_phys_set_edge(unsigned intid, bool edge)
{
	volatile u32 *w = reg32(plat.gicd_base + GICD_ICFGR + 4 * (intid / 16));
	u32 bit = 2u << 2 * (intid % 16);

	if (intid < 32 || intid >= spi_end || gic_is_hypervisors(intid))
		return;
	*w = edge ? *w | bit : *w & ~bit;
}

void gic_phys_route(unsigned intid, u64 mpidr)
{
	if (intid >= 32 && intid < spi_end && (intid == gic_hv_spi || !gic_is_hypervisors(intid)))
		*(volatile u64 *)(plat.gicd_base + GICD_IROUTER + 8 * intid) = mpidr & MPIDR_AFF_MASK;
}
