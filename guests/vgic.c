/*
 * The GICv3 a guest sees, checked against the architecture (Arm IHI 0069) on
 * 4 vCPUs: the distributor at GICD_BASE, one redistributor per vCPU at
 * GICR_BASE, the system-register CPU interface (ICC_*_EL1), Group 1
 * interrupts, affinity routing. It is the test of trapvisor's virtual GIC, and
 * it is first run on bare QEMU with no hypervisor at all (tests/qemu/vgic.sh,
 * vgic-bare), where every check must pass: that is the reference.
 *
 * vCPU 0 runs the checks; the others serve it (serve(): run the function vCPU
 * 0 posts, report back). IRQs are taken only while a check wants them
 * (PSTATE.I clear); the handler counts each INTID per vCPU, logs the order,
 * and EOIs (and, in EOImode 1, deactivates) unless the check asks otherwise.
 *
 * INTIDs used: SGIs 0-15; PPIs 20-22 (no device behind them on virt) and 27
 * (the virtual timer); SPIs 224-239, which no device of the virt machine uses
 * and which lie below the last SPI QEMU's GICD_TYPER names (255).
 *
 * The boot argument vgic.bare says the machine is bare QEMU: there, LPIs are
 * implemented (QEMU 7.2 always has them), while trapvisor promises a guest
 * none. That is the only expectation that differs between the two.
 */
#include "guest.h"

#define MAX_CPUS 8
#define NCPUS_WANTED 4
#define RAM_BASE 0x40000000ul /* where QEMU puts the device tree for an ELF it boots itself */

/* Distributor (IHI 0069 12.9) */
#define GICD_CTLR 0x0000
#define GICD_CTLR_ENABLE_G0 BIT(0)
#define GICD_CTLR_ENABLE_G1 BIT(1) /* with DS = 1 */
#define GICD_CTLR_ARE BIT(4)
#define GICD_CTLR_DS BIT(6)
#define GICD_CTLR_RWP BIT(31)
#define GICD_TYPER 0x0004
#define GICD_TYPER_LPIS BIT(17)
#define GICD_IIDR 0x0008
/* The bitmap and byte registers sit at the same offsets in a redistributor's SGI frame. */
#define IGROUPR 0x0080
#define ISENABLER 0x0100
#define ICENABLER 0x0180
#define ISPENDR 0x0200
#define ICPENDR 0x0280
#define ISACTIVER 0x0300
#define ICACTIVER 0x0380
#define IPRIORITYR 0x0400
#define ICFGR 0x0c00
#define GICD_IROUTER 0x6000

/* Redistributors (12.10, 12.11): RD_base, then SGI_base, 64 KiB each */
#define GICR_STRIDE 0x20000ul
#define GICR_SGI 0x10000ul
#define GICR_REGION_SIZE 0xf60000ul /* QEMU virt's VIRT_GIC_REDIST, as its device tree says */
#define GICR_CTLR 0x0000
#define GICR_CTLR_RWP BIT(3)
#define GICR_TYPER 0x0008
#define GICR_TYPER_PLPIS BIT(0)
#define GICR_TYPER_VLPIS BIT(1)
#define GICR_TYPER_DIRECT_LPI BIT(3)
#define GICR_TYPER_LAST BIT(4)
#define GICR_WAKER 0x0014
#define GICR_WAKER_PROCESSOR_SLEEP BIT(1)
#define GICR_WAKER_CHILDREN_ASLEEP BIT(2)

/* CPU interface (12.2) */
#define ICC_PMR_EL1 S3_0_C4_C6_0
#define ICC_DIR_EL1 S3_0_C12_C11_1
#define ICC_RPR_EL1 S3_0_C12_C11_3
#define ICC_SGI1R_EL1 S3_0_C12_C11_5
#define ICC_IAR1_EL1 S3_0_C12_C12_0
#define ICC_EOIR1_EL1 S3_0_C12_C12_1
#define ICC_HPPIR1_EL1 S3_0_C12_C12_2
#define ICC_BPR1_EL1 S3_0_C12_C12_3
#define ICC_CTLR_EL1 S3_0_C12_C12_4
#define ICC_SRE_EL1 S3_0_C12_C12_5
#define ICC_IGRPEN1_EL1 S3_0_C12_C12_7
#define ICC_CTLR_CBPR BIT(0)
#define ICC_CTLR_EOIMODE BIT(1)
#define SGIR_IRM BIT(40)
#define INTID_SPURIOUS 1023
/* read_sysreg stringifies its argument: one more level expands the names above. */
#define icc_read(r) read_sysreg(r)
#define icc_write(r, v) write_sysreg(r, v)

#define CNTV_CTL_ENABLE 1u
#define CNTV_CTL_ISTATUS 4u

#define DEFAULT_PRIORITY 0xa0
#define NR_INTIDS 1024
#define LOG_MAX 64

/* The INTIDs of the checks (see the top). */
#define SGI_UNICAST 1
#define SGI_SELF 2
#define SGI_LIST 3
#define SGI_BROADCAST 4
#define PPI_A 20
#define PPI_B 21
#define PPI_C 22
#define SPI_FIRST 224
#define SPI_LAST 239

enum irq_action { ACT_EOI, ACT_KEEP_ACTIVE, ACT_NO_DIR };

struct vcpu {
	/* What the IRQ handler saw. */
	volatile u16 count[NR_INTIDS];
	volatile u16 log[LOG_MAX];
	volatile unsigned nlog, spurious, bad_iar, depth, max_depth;
	volatile u8 action[NR_INTIDS];
	volatile bool eoimode1; /* the handler deactivates with ICC_DIR_EL1 after its EOI */
	void (*volatile hook)(unsigned intid);
	/* The virtual timer run. */
	volatile bool timer_on;
	volatile u64 period, cval, ticks, want_ticks, early, unasserted, max_late, late_periods;
	/* Set by the vCPU itself. */
	u64 mpidr;
	u64 rd, sgi; /* its redistributor's RD_base and SGI_base */
	int frame;
	/* Remote calls from vCPU 0. */
	void (*volatile fn)(u64);
	volatile u64 arg;
	volatile unsigned posted, finished;
	volatile bool arrived, dead;
};

static struct vcpu cpu[MAX_CPUS];
static unsigned ncpus;
static u64 cpu_mpidr[MAX_CPUS]; /* the device tree's, the boot vCPU first */
static volatile bool stop_serving;
static u64 freq;
static bool bare;
static unsigned pribits;
static u64 dtb;

static struct vcpu *me(void)
{
	return &cpu[cpu_index()];
}

/*
 * Device accesses as Linux makes them (readl/writel): one load or store of one
 * register, base register only. The compiler would otherwise pick post-indexed
 * forms in loops, which leave ESR_EL2.ISV = 0: a hypervisor emulating the GIC
 * cannot decode those (trapvisor and KVM give the guest an external abort).
 */
static u8 rd8(u64 a)
{
	u32 v;
	asm volatile("ldrb %w0, [%1]" : "=r"(v) : "r"(a) : "memory");
	return (u8)v;
}
static void wr8(u64 a, u8 v)
{
	asm volatile("strb %w0, [%1]" ::"r"((u32)v), "r"(a) : "memory");
}
static u32 rd32(u64 a)
{
	u32 v;
	asm volatile("ldr %w0, [%1]" : "=r"(v) : "r"(a) : "memory");
	return v;
}
static void wr32(u64 a, u32 v)
{
	asm volatile("str %w0, [%1]" ::"r"(v), "r"(a) : "memory");
}
static u64 rd64(u64 a)
{
	u64 v;
	asm volatile("ldr %0, [%1]" : "=r"(v) : "r"(a) : "memory");
	return v;
}
static void wr64(u64 a, u64 v)
{
	asm volatile("str %0, [%1]" ::"r"(v), "r"(a) : "memory");
}

static void irqs_on(void)
{
	asm volatile("msr daifclr, #2" ::: "memory");
}

static void irqs_off(void)
{
	asm volatile("msr daifset, #2" ::: "memory");
}

static u64 now(void)
{
	isb();
	return read_sysreg(cntvct_el0);
}

static u64 us_ticks(u64 us)
{
	return us * freq / 1000000;
}

static u64 ticks_us(u64 t)
{
	return t * 1000000 / freq;
}

static void delay_us(u64 us)
{
	u64 end = now() + us_ticks(us);

	while (now() < end)
		asm volatile("yield");
}

/* cond, waited for up to us microseconds; its last value. */
#define WAIT_UNTIL(cond, us)                                                                     \
	({                                                                                       \
		u64 end_ = now() + us_ticks(us);                                                 \
		bool ok_;                                                                        \
		while (!(ok_ = (cond)) && now() < end_)                                          \
			asm volatile("yield");                                                   \
		ok_;                                                                             \
	})

/* MPIDR affinity as GICR_TYPER.Affinity_Value and GICD_IROUTER hold it. */
static u32 aff32(u64 mpidr)
{
	return (u32)((mpidr >> 32 & 0xff) << 24 | (mpidr & 0xffffff));
}

static u64 irouter_of(u64 mpidr)
{
	return mpidr & 0xff00fffffful;
}

static u8 priority_mask(void)
{
	return (u8)(0xff00u >> pribits);
}

/* ---- the distributor and redistributor registers of one INTID ----------------------- */

/* The 32-bit word holding intid's bit of the register at off, as vCPU c sees it. */
static u64 bit_word(unsigned c, u64 off, unsigned intid)
{
	return intid < 32 ? cpu[c].sgi + off : GICD_BASE + off + 4 * (intid / 32);
}

static bool irq_bit(unsigned c, u64 off, unsigned intid)
{
	return rd32(bit_word(c, off, intid)) >> (intid % 32) & 1;
}

static void irq_set_bit(unsigned c, u64 off, unsigned intid)
{
	wr32(bit_word(c, off, intid), 1u << (intid % 32));
}

static void wait_rwp(unsigned c, unsigned intid)
{
	if (intid < 32)
		WAIT_UNTIL(!(rd32(cpu[c].rd + GICR_CTLR) & GICR_CTLR_RWP), 10000);
	else
		WAIT_UNTIL(!(rd32(GICD_BASE + GICD_CTLR) & GICD_CTLR_RWP), 10000);
}

static void set_priority(unsigned c, unsigned intid, u8 prio)
{
	wr8((intid < 32 ? cpu[c].sgi : GICD_BASE) + IPRIORITYR + intid, prio);
}

static void irq_disable(unsigned c, unsigned intid)
{
	irq_set_bit(c, ICENABLER, intid);
	wait_rwp(c, intid);
}

static void irq_enable(unsigned c, unsigned intid)
{
	irq_set_bit(c, ISENABLER, intid);
}

/* Edge or level: two bits per INTID, the upper one set for edge. Only while disabled. */
static void set_edge(unsigned c, unsigned intid, bool edge)
{
	u64 a = (intid < 32 ? cpu[c].sgi : GICD_BASE) + ICFGR + 4 * (intid / 16);
	u32 bit = 2u << 2 * (intid % 16);

	wr32(a, edge ? rd32(a) | bit : rd32(a) & ~bit);
}

/* An SPI for the checks: Group 1, its priority, routed to vCPU target, enabled, not pending. */
static void spi_setup(unsigned intid, bool edge, u8 prio, unsigned target)
{
	irq_disable(0, intid);
	set_edge(0, intid, edge);
	wr32(bit_word(0, IGROUPR, intid), rd32(bit_word(0, IGROUPR, intid)) | 1u << (intid % 32));
	set_priority(0, intid, prio);
	wr64(GICD_BASE + GICD_IROUTER + 8 * intid, irouter_of(cpu[target].mpidr));
	irq_set_bit(0, ICPENDR, intid);
	irq_enable(0, intid);
}

static void spi_teardown(unsigned intid)
{
	irq_disable(0, intid);
	irq_set_bit(0, ICPENDR, intid);
	set_priority(0, intid, DEFAULT_PRIORITY);
}

/* ---- SGIs ------------------------------------------------------------------------------ */

/* ICC_SGI1R_EL1 for one target: TargetList[15:0] Aff1[23:16] Aff2[39:32] RS[47:44] Aff3[55:48]. */
static u64 sgi_target(u64 mpidr)
{
	u64 aff0 = mpidr & 0xff;

	return 1ul << (aff0 % 16) | (mpidr >> 8 & 0xff) << 16 | (mpidr >> 16 & 0xff) << 32 | (aff0 / 16) << 44 |
	       (mpidr >> 32 & 0xff) << 48;
}

static void send_sgi(u64 targets, unsigned intid)
{
	asm volatile("dsb sy" ::: "memory");
	icc_write(ICC_SGI1R_EL1, targets | (u64)intid << 24);
	isb();
}

static void sgi_to(unsigned target, unsigned intid)
{
	send_sgi(sgi_target(cpu[target].mpidr), intid);
}

/* Make intid pending for vCPU c: an SGI from this vCPU, a PPI or SPI by ISPENDR. */
static void make_pending(unsigned c, unsigned intid)
{
	if (intid < 16)
		sgi_to(c, intid);
	else
		irq_set_bit(c, ISPENDR, intid);
}

/* ---- the IRQ handler --------------------------------------------------------------------- */

static void eoi(u64 iar, bool deactivate)
{
	icc_write(ICC_EOIR1_EL1, iar);
	if (deactivate)
		icc_write(ICC_DIR_EL1, iar);
	isb();
}

static void timer_tick(struct vcpu *c)
{
	u64 t = now(), ctl = read_sysreg(cntv_ctl_el0);

	if (!(ctl & CNTV_CTL_ISTATUS))
		c->unasserted++; /* not this vCPU's timer that fired */
	if (t < c->cval)
		c->early++;
	else if (t - c->cval > c->max_late)
		c->max_late = t - c->cval;
	if (t >= c->cval + c->period)
		c->late_periods++;
	if (++c->ticks >= c->want_ticks) {
		write_sysreg(cntv_ctl_el0, 0);
		c->timer_on = false;
	} else {
		c->cval += c->period; /* absolute: a late tick does not move the next one */
		write_sysreg(cntv_cval_el0, c->cval);
	}
	isb();
}

static void irq_handler(void)
{
	struct vcpu *c = me();
	/* A nested IRQ (a hook that clears PSTATE.I) overwrites these. */
	u64 elr = read_sysreg(elr_el1), spsr = read_sysreg(spsr_el1);
	u64 iar = icc_read(ICC_IAR1_EL1);
	unsigned intid = iar & 0xffffff;

	if (iar >> 24)
		c->bad_iar++;
	if (intid >= 1020) {
		c->spurious++;
		return;
	}
	if (++c->depth > c->max_depth)
		c->max_depth = c->depth;
	if (intid < NR_INTIDS)
		c->count[intid]++;
	if (c->nlog < LOG_MAX)
		c->log[c->nlog++] = (u16)intid;
	if (intid == TIMER_PPI) {
		if (c->timer_on)
			timer_tick(c);
		else
			write_sysreg(cntv_ctl_el0, 0);
	}
	if (c->hook)
		c->hook(intid);
	irqs_off();
	if (intid >= NR_INTIDS || c->action[intid] != ACT_KEEP_ACTIVE)
		eoi(iar, c->eoimode1 && (intid >= NR_INTIDS || c->action[intid] != ACT_NO_DIR));
	c->depth--;
	write_sysreg(elr_el1, elr);
	write_sysreg(spsr_el1, spsr);
}

static void reset_counts(void)
{
	for (unsigned i = 0; i < ncpus; i++) {
		struct vcpu *c = &cpu[i];
		memset((void *)c->count, 0, sizeof(c->count));
		c->nlog = c->spurious = c->bad_iar = c->max_depth = 0;
	}
}

static unsigned total(unsigned intid)
{
	unsigned n = 0;

	for (unsigned i = 0; i < ncpus; i++)
		n += cpu[i].count[intid];
	return n;
}

/* "1 0 1 1": how many times each vCPU took intid. */
static const char *counts_of(unsigned intid)
{
	static char buf[4 * MAX_CPUS + 1];
	char *p = buf;

	for (unsigned i = 0; i < ncpus; i++)
		p += snprintf(p, buf + sizeof(buf) - p, "%s%u", i ? " " : "", cpu[i].count[intid]);
	return buf;
}

/* Exactly want_at on vCPU at and nothing elsewhere (at = -1: want on everyone but not_at). */
static bool counts_are(unsigned intid, int at, int not_at)
{
	for (unsigned i = 0; i < ncpus; i++) {
		unsigned want = at >= 0 ? (i == (unsigned)at) : (i != (unsigned)not_at);
		if (cpu[i].count[intid] != want)
			return false;
	}
	return true;
}

static const char *log_of(struct vcpu *c)
{
	static char buf[8 * LOG_MAX];
	char *p = buf;

	buf[0] = '\0';
	for (unsigned i = 0; i < c->nlog && p < buf + sizeof(buf) - 8; i++)
		p += snprintf(p, buf + sizeof(buf) - p, "%s%u", i ? " " : "", c->log[i]);
	return buf;
}

static bool log_is(struct vcpu *c, const unsigned *want, unsigned n)
{
	if (c->nlog != n)
		return false;
	for (unsigned i = 0; i < n; i++)
		if (c->log[i] != want[i])
			return false;
	return true;
}

/* ---- remote calls: vCPU 0 posts, the others serve ------------------------------------------ */

static void serve(unsigned index)
{
	struct vcpu *c = &cpu[index];
	unsigned seen = 0;

	while (!stop_serving) {
		unsigned p = __atomic_load_n(&c->posted, __ATOMIC_ACQUIRE);
		if (p != seen) {
			seen = p;
			c->fn(c->arg);
			__atomic_store_n(&c->finished, seen, __ATOMIC_RELEASE);
		}
		asm volatile("yield");
	}
}

static void post(unsigned i, void (*fn)(u64), u64 arg)
{
	if (i == 0 || cpu[i].dead)
		return;
	cpu[i].fn = fn;
	cpu[i].arg = arg;
	__atomic_store_n(&cpu[i].posted, cpu[i].posted + 1, __ATOMIC_RELEASE);
}

static bool finish(unsigned i)
{
	struct vcpu *c = &cpu[i];

	if (i == 0)
		return true;
	if (c->dead)
		return false;
	if (!WAIT_UNTIL(__atomic_load_n(&c->finished, __ATOMIC_ACQUIRE) == c->posted, 3000000)) {
		c->dead = true;
		check(false, "vCPU %u finishes what it was asked to do within 3 s", i);
		return false;
	}
	return true;
}

static bool run_on(unsigned i, void (*fn)(u64), u64 arg)
{
	if (i == 0) {
		fn(arg);
		return true;
	}
	post(i, fn, arg);
	return finish(i);
}

static bool run_everywhere(void (*fn)(u64), u64 arg)
{
	bool ok = true;

	for (unsigned i = 1; i < ncpus; i++)
		post(i, fn, arg);
	fn(arg);
	for (unsigned i = 1; i < ncpus; i++)
		ok &= finish(i);
	return ok;
}

static void do_irqs_on(u64 unused) { irqs_on(); }
static void do_irqs_off(u64 unused) { irqs_off(); }

static void set_eoimode(bool one)
{
	u64 ctlr = icc_read(ICC_CTLR_EL1);

	icc_write(ICC_CTLR_EL1, one ? ctlr | ICC_CTLR_EOIMODE : ctlr & ~(u64)ICC_CTLR_EOIMODE);
	isb();
	me()->eoimode1 = one;
}

static void do_eoimode(u64 one) { set_eoimode(one); }

/* ---- bring-up: each vCPU's redistributor and CPU interface ------------------------------- */

static void cpu_init(u64 unused)
{
	unsigned i = cpu_index();
	struct vcpu *c = me();
	u64 typer = 0, v;
	u32 waker0, waker;

	/* Its redistributor is the one whose GICR_TYPER names its MPIDR. */
	c->frame = -1;
	for (unsigned k = 0; k < GICR_REGION_SIZE / GICR_STRIDE; k++) {
		if (!probe_read(GICR_BASE + k * GICR_STRIDE + GICR_TYPER, 8, &typer))
			break;
		if ((u32)(typer >> 32) == aff32(c->mpidr)) {
			c->frame = (int)k;
			break;
		}
		if (typer & GICR_TYPER_LAST)
			break;
	}
	check(c->frame >= 0, "vCPU %u: its redistributor is the one whose GICR_TYPER.Affinity_Value is its MPIDR %#lx (frame %d)",
	      i, c->mpidr, c->frame);
	if (c->frame < 0)
		c->frame = (int)i; /* so the rest can still run */
	c->rd = GICR_BASE + (u64)c->frame * GICR_STRIDE;
	c->sgi = c->rd + GICR_SGI;

	/* Wake it (12.11.42): ProcessorSleep 0, then ChildrenAsleep goes 0. */
	waker0 = rd32(c->rd + GICR_WAKER);
	wr32(c->rd + GICR_WAKER, waker0 & ~GICR_WAKER_PROCESSOR_SLEEP);
	WAIT_UNTIL(!(rd32(c->rd + GICR_WAKER) & GICR_WAKER_CHILDREN_ASLEEP), 100000);
	waker = rd32(c->rd + GICR_WAKER);
	check(!(waker & (GICR_WAKER_PROCESSOR_SLEEP | GICR_WAKER_CHILDREN_ASLEEP)),
	      "vCPU %u: GICR_WAKER: ChildrenAsleep clears once ProcessorSleep is cleared (%#x at boot, %#x now)", i, waker0,
	      waker);
	/* And round trip: asleep, awake. */
	wr32(c->rd + GICR_WAKER, GICR_WAKER_PROCESSOR_SLEEP);
	bool slept = WAIT_UNTIL(rd32(c->rd + GICR_WAKER) & GICR_WAKER_CHILDREN_ASLEEP, 100000);
	wr32(c->rd + GICR_WAKER, 0);
	bool woke = WAIT_UNTIL(!(rd32(c->rd + GICR_WAKER) & GICR_WAKER_CHILDREN_ASLEEP), 100000);
	check(slept && woke, "vCPU %u: GICR_WAKER: ProcessorSleep 1 sets ChildrenAsleep, 0 clears it again", i);

	icc_write(ICC_SRE_EL1, icc_read(ICC_SRE_EL1) | 7); /* SRE, DFB, DIB */
	isb();
	v = icc_read(ICC_SRE_EL1);
	check(v & 1, "vCPU %u: ICC_SRE_EL1.SRE = 1: the system-register interface is on (%#lx)", i, v);

	u64 ctlr = icc_read(ICC_CTLR_EL1), base = ctlr & ~(u64)(ICC_CTLR_CBPR | ICC_CTLR_EOIMODE);
	icc_write(ICC_CTLR_EL1, base | ICC_CTLR_EOIMODE);
	isb();
	u64 with1 = icc_read(ICC_CTLR_EL1);
	icc_write(ICC_CTLR_EL1, base);
	isb();
	u64 with0 = icc_read(ICC_CTLR_EL1);
	unsigned bits = (unsigned)(with0 >> 8 & 7) + 1;
	if (i == 0)
		pribits = bits;
	check((with1 & ICC_CTLR_EOIMODE) && !(with0 & (ICC_CTLR_EOIMODE | ICC_CTLR_CBPR)) && bits == pribits && bits >= 4,
	      "vCPU %u: ICC_CTLR_EL1 %#lx: EOImode takes 1 and 0, CBPR 0; PRIbits %u, IDbits %lu, A3V %lu", i, ctlr, bits,
	      with0 >> 11 & 7, with0 >> 15 & 1);
	c->eoimode1 = false;

	icc_write(ICC_PMR_EL1, 0);
	isb();
	u64 pmr0 = icc_read(ICC_PMR_EL1);
	icc_write(ICC_PMR_EL1, 0xff);
	isb();
	u64 pmrff = icc_read(ICC_PMR_EL1);
	check(pmr0 == 0 && pmrff == priority_mask(),
	      "vCPU %u: ICC_PMR_EL1 written 0x00 reads %#lx, 0xff reads %#lx (%u priority bits)", i, pmr0, pmrff, pribits);

	icc_write(ICC_BPR1_EL1, 0);
	isb();
	u64 bmin = icc_read(ICC_BPR1_EL1);
	icc_write(ICC_BPR1_EL1, bmin + 1);
	isb();
	u64 bnext = icc_read(ICC_BPR1_EL1);
	icc_write(ICC_BPR1_EL1, 0);
	isb();
	check(bmin == 8 - pribits && bnext == bmin + 1 && icc_read(ICC_BPR1_EL1) == bmin,
	      "vCPU %u: ICC_BPR1_EL1 written 0 reads its minimum %lu (8 - PRIbits: every priority bit preempts), %lu reads %lu",
	      i, bmin, bmin + 1, bnext);

	icc_write(ICC_IGRPEN1_EL1, 1);
	isb();
	v = icc_read(ICC_IGRPEN1_EL1);
	check(v == 1, "vCPU %u: ICC_IGRPEN1_EL1 = 1: Group 1 on (%#lx)", i, v);

	u64 hppir = icc_read(ICC_HPPIR1_EL1), iar = icc_read(ICC_IAR1_EL1);
	check(hppir == INTID_SPURIOUS && iar == INTID_SPURIOUS,
	      "vCPU %u: with nothing pending ICC_HPPIR1_EL1 and ICC_IAR1_EL1 read 1023 (%lu, %lu)", i, hppir, iar);
}

void secondary_main(unsigned index)
{
	struct vcpu *c = &cpu[index];

	c->mpidr = read_sysreg(mpidr_el1);
	__atomic_store_n(&c->arrived, true, __ATOMIC_RELEASE);
	serve(index);
	/* returning calls CPU_OFF (head.S) */
}

#define PSCI_VERSION 0x84000000ul
#define PSCI_CPU_ON64 0xc4000003ul

static bool bring_up(void)
{
	u64 self = read_sysreg(mpidr_el1) & MPIDR_AFF_MASK;
	bool found;

	ncpus = fdt_cpus_self_first(dtb, cpu_mpidr, MAX_CPUS, &found);
	check(found && ncpus == NCPUS_WANTED, "the device tree names %u CPUs, this one (%#lx) among them", ncpus, self);
	for (unsigned i = 1; i < ncpus; i++) {
		u64 r = psci_call(PSCI_CPU_ON64, cpu_mpidr[i], (u64)secondary_entry, i);
		bool up = r == 0 && WAIT_UNTIL(__atomic_load_n(&cpu[i].arrived, __ATOMIC_ACQUIRE), 1000000);
		check(up && (cpu[i].mpidr & MPIDR_AFF_MASK) == cpu_mpidr[i],
		      "vCPU %u comes up through PSCI CPU_ON (%#lx): returned %ld, runs with MPIDR %#lx", i, cpu_mpidr[i],
		      (long)r, cpu[i].mpidr);
		if (!up)
			cpu[i].dead = true;
	}
	return found;
}

static void gicd_init(void)
{
	wr32(GICD_BASE + GICD_CTLR, GICD_CTLR_ARE | GICD_CTLR_ENABLE_G1);
	WAIT_UNTIL(!(rd32(GICD_BASE + GICD_CTLR) & GICD_CTLR_RWP), 10000);
	u32 ctlr = rd32(GICD_BASE + GICD_CTLR);
	check((ctlr & (GICD_CTLR_ARE | GICD_CTLR_ENABLE_G1 | GICD_CTLR_ENABLE_G0)) == (GICD_CTLR_ARE | GICD_CTLR_ENABLE_G1),
	      "GICD_CTLR reads as written: ARE and EnableGrp1 set, EnableGrp0 clear (%#x, DS %u)", ctlr,
	      !!(ctlr & GICD_CTLR_DS));
}

/* ---- no holes: every register bit the architecture gives the guest ---------------------- */

struct dt_spis {
	unsigned max, count;
};

static bool dt_interrupts(const char *path, const char *name, const u8 *val, u32 len, void *ctx)
{
	struct dt_spis *d = ctx;

	if (strcmp(name, "interrupts") || len % 12)
		return false;
	for (u32 off = 0; off < len; off += 12) /* <type number flags>: type 0 SPI, 1 PPI */
		if (fdt_be32(val + off) == 0) {
			unsigned intid = 32 + fdt_be32(val + off + 4);
			d->count++;
			if (intid > d->max)
				d->max = intid;
		}
	return false;
}

/* Bytes at base + first..last-1 take 0x00, 0xff (reading the implemented mask) and the default. */
static bool priorities_writable(u64 base, unsigned first, unsigned last, char *why, size_t size)
{
	unsigned bad = 0;
	int mask = -1;
	char *p = why;

	why[0] = '\0';
	for (unsigned intid = first; intid < last; intid++) {
		u64 a = base + IPRIORITYR + intid;
		wr8(a, 0x00);
		u8 r0 = rd8(a);
		wr8(a, 0xff);
		u8 rff = rd8(a);
		wr8(a, DEFAULT_PRIORITY);
		u8 rd = rd8(a);
		if (mask < 0)
			mask = rff;
		if (r0 != 0 || rff != mask || rd != DEFAULT_PRIORITY) {
			if (bad++ < 4 && p < why + size - 40)
				p += snprintf(p, why + size - p, " %u:%#x/%#x/%#x", intid, r0, rff, rd);
		}
	}
	/* The implemented bits are the top ones, at least 4 of them (IHI 0069 4.8). */
	bool mask_ok = mask >= 0xf0 && (((~mask & 0xff) + 1) & (~mask & 0xff)) == 0;
	if (p < why + size - 40)
		snprintf(p, why + size - p, "%s 0xff reads %#x, %u bad", bad ? ";" : "", mask, bad);
	return !bad && mask_ok;
}

/* 32-bit words at a..: ~0 then 0 written read back, or the bits that do not. */
static u32 bits_not_writable(u64 a)
{
	wr32(a, ~0u);
	u32 ones = rd32(a);
	wr32(a, 0);
	u32 zeros = rd32(a);
	return ~ones | zeros;
}

/* Set-enable and clear-enable words: every bit set by one, cleared by the other, read by both. */
static u32 enable_bits_broken(u64 base, u64 word_off, unsigned c, unsigned intid)
{
	wr32(base + ISENABLER + word_off, ~0u);
	u32 s1 = rd32(base + ISENABLER + word_off), c1 = rd32(base + ICENABLER + word_off);
	wr32(base + ICENABLER + word_off, ~0u);
	wait_rwp(c, intid);
	u32 s0 = rd32(base + ISENABLER + word_off), c0 = rd32(base + ICENABLER + word_off);
	return ~s1 | ~c1 | s0 | c0;
}

static bool expect_external_abort(u64 addr, bool write)
{
	u64 v = 0;
	bool ok = write ? probe_write(addr, 4, 0) : probe_read(addr, 4, &v);
	struct fault_record *f = &faults[cpu_index()];

	return !ok && ESR_EC_OF(f->esr) == 0x25 && (f->esr & 0x3f) == 0x10 && f->far == addr;
}

static void holes(void)
{
	char why[160];
	u32 typer = rd32(GICD_BASE + GICD_TYPER);
	unsigned itlines = typer & 0x1f, nintids = 32 * (itlines + 1);
	struct dt_spis d = { 0, 0 };

	if (nintids > 1020)
		nintids = 1020;
	gprintf("vgic: GICD_TYPER %#x, GICD_IIDR %#x, GICD_CTLR %#x\n", typer, rd32(GICD_BASE + GICD_IIDR),
		rd32(GICD_BASE + GICD_CTLR));
	fdt_walk(dtb, dt_interrupts, &d);
	check(d.count && d.max < nintids && SPI_LAST < nintids,
	      "GICD_TYPER.ITLinesNumber %u: SPIs 32-%u, covering the %u SPIs the device tree names (highest %u) and this test's (%u-%u)",
	      itlines, nintids - 1, d.count, d.max, SPI_FIRST, SPI_LAST);

	/* LPIs: trapvisor hides them (and the ITS); bare QEMU 7.2 always has them. */
	unsigned want = bare ? 1 : 0, plpis_other = 0;
	for (unsigned k = 0; k < ncpus; k++) {
		u64 t = rd64(cpu[k].rd + GICR_TYPER);
		if ((t & GICR_TYPER_PLPIS ? 1u : 0u) != want || (!bare && (t & (GICR_TYPER_VLPIS | GICR_TYPER_DIRECT_LPI))))
			plpis_other++;
	}
	check(!!(typer & GICD_TYPER_LPIS) == want && !plpis_other,
	      "GICD_TYPER.LPIS = %u and every GICR_TYPER.PLPIS the same (%s)", want,
	      bare ? "bare QEMU 7.2 implements LPIs, even with its=off" : "the hypervisor gives the guest no LPIs");

	check(priorities_writable(GICD_BASE, 32, nintids, why, sizeof(why)),
	      "GICD_IPRIORITYR of every SPI 32-%u takes 0x00 and 0xff:%s", nintids - 1, why);

	u32 bad_group = 0, bad_enable = 0;
	unsigned first_bad_group = 0, first_bad_enable = 0;
	for (unsigned w = 1; w < nintids / 32; w++) {
		u32 b = bits_not_writable(GICD_BASE + IGROUPR + 4 * w);
		if (b && !bad_group)
			first_bad_group = 32 * w + (unsigned)__builtin_ctz(b);
		bad_group |= b;
		wr32(GICD_BASE + IGROUPR + 4 * w, ~0u); /* everything Group 1 from here on */
		b = enable_bits_broken(GICD_BASE, 4 * w, 0, 32);
		if (b && !bad_enable)
			first_bad_enable = 32 * w + (unsigned)__builtin_ctz(b);
		bad_enable |= b;
		wr32(GICD_BASE + ICPENDR + 4 * w, ~0u);
	}
	check(!bad_group, "GICD_IGROUPR: the group bit of every SPI takes 1 and 0 (first that does not: %u)", first_bad_group);
	check(!bad_enable, "GICD_ISENABLER/ICENABLER: every SPI can be enabled and disabled, and both read it (first that cannot: %u)",
	      first_bad_enable);

	for (unsigned k = 0; k < ncpus; k++) {
		u64 sgi = cpu[k].sgi;
		check(priorities_writable(sgi, 0, 32, why, sizeof(why)),
		      "redistributor of vCPU %u: GICR_IPRIORITYR of every SGI and PPI takes 0x00 and 0xff:%s", k, why);
		u32 b = bits_not_writable(sgi + IGROUPR);
		check(!b, "redistributor of vCPU %u: GICR_IGROUPR0: the group bit of every INTID 0-31 takes 1 and 0 (not: %#x)", k, b);
		b = enable_bits_broken(sgi, 0, k, 0);
		check(!b, "redistributor of vCPU %u: GICR_ISENABLER0/ICENABLER0: every SGI and PPI can be enabled and disabled (not: %#x)",
		      k, b);
		/* From here on: all Group 1, nothing pending, the SGIs and the timer enabled. */
		wr32(sgi + IGROUPR, ~0u);
		wr32(sgi + ICPENDR, ~0u);
		wr32(sgi + ISENABLER, 0xffffu | 1u << TIMER_PPI);
	}

	/* GICR_TYPER, frame by frame: affinity, processor number, Last. */
	for (unsigned k = 0; k < ncpus; k++) {
		u64 t = 0;
		int owner = -1;
		bool unique = true;
		probe_read(GICR_BASE + k * GICR_STRIDE + GICR_TYPER, 8, &t);
		for (unsigned j = 0; j < ncpus; j++)
			if (cpu[j].frame == (int)k)
				owner = (int)j;
		for (unsigned j = 0; j < ncpus; j++) {
			u64 o = 0;
			if (j != k && probe_read(GICR_BASE + j * GICR_STRIDE + GICR_TYPER, 8, &o) &&
			    (o >> 8 & 0xffff) == (t >> 8 & 0xffff))
				unique = false;
		}
		bool last = t & GICR_TYPER_LAST;
		check(owner >= 0 && (u32)(t >> 32) == aff32(cpu[owner].mpidr) && unique && last == (k == ncpus - 1),
		      "redistributor %u: GICR_TYPER %#lx: Affinity_Value %#x is vCPU %d's MPIDR, Processor_Number %lu (unique), Last %u",
		      k, t, (u32)(t >> 32), owner, t >> 8 & 0xffff, last);
	}

	/* Past the last: no frame answers, wherever one would be. */
	u64 past[] = { GICR_BASE + ncpus * GICR_STRIDE, GICR_BASE + (ncpus + 1) * GICR_STRIDE,
		       GICR_BASE + GICR_REGION_SIZE - GICR_STRIDE };
	u64 offs[] = { GICR_CTLR, GICR_TYPER, GICR_WAKER, GICR_SGI + IGROUPR, GICR_SGI + ISENABLER, GICR_SGI + IPRIORITYR };
	unsigned answered = 0;
	u64 first_answer = 0;
	for (unsigned f = 0; f < ARRAY_SIZE(past); f++)
		for (unsigned o = 0; o < ARRAY_SIZE(offs); o++)
			for (int w = 0; w < 2; w++)
				if (!expect_external_abort(past[f] + offs[o], w)) {
					if (!answered++)
						first_answer = past[f] + offs[o];
				}
	check(!answered,
	      "redistributor frames past the last vCPU's (%#lx, %#lx, %#lx): reads and writes are external aborts (%u not; first %#lx)",
	      past[0], past[1], past[2], answered, first_answer);
}

/* ---- SGIs -------------------------------------------------------------------------------- */

static void sgi_burst(u64 unused)
{
	unsigned self = cpu_index();
	u64 list = 0;

	for (unsigned t = 0; t < ncpus; t++)
		if (t != self)
			sgi_to(t, SGI_UNICAST);
	sgi_to(self, SGI_SELF);
	/* One write with a target list: the others sharing Aff3.Aff2.Aff1 (all, on virt). */
	for (unsigned t = 0; t < ncpus; t++)
		if (t != self && (cpu[t].mpidr & 0xff00ffff00ul) == (cpu[self].mpidr & 0xff00ffff00ul))
			list |= sgi_target(cpu[t].mpidr);
	send_sgi(list, SGI_LIST);
	send_sgi(SGIR_IRM, SGI_BROADCAST);
}

static void all_sgis_to_self(u64 unused)
{
	for (unsigned intid = 0; intid < 16; intid++)
		sgi_to(cpu_index(), intid);
}

static bool only_these(unsigned lo, unsigned hi, bool *odd)
{
	*odd = false;
	for (unsigned i = 0; i < ncpus; i++) {
		struct vcpu *c = &cpu[i];
		if (c->spurious || c->bad_iar)
			*odd = true;
		for (unsigned intid = 0; intid < NR_INTIDS; intid++)
			if ((intid < lo || intid > hi) && c->count[intid])
				*odd = true;
	}
	return !*odd;
}

static void sgi_checks(void)
{
	bool odd, any_odd = false;

	run_everywhere(do_irqs_on, 0);
	for (unsigned s = 0; s < ncpus; s++) {
		reset_counts();
		run_on(s, sgi_burst, 0);
		WAIT_UNTIL(total(SGI_UNICAST) >= ncpus - 1 && total(SGI_SELF) >= 1 && total(SGI_LIST) >= ncpus - 1 &&
				   total(SGI_BROADCAST) >= ncpus - 1,
			   200000);
		delay_us(2000); /* time for a second delivery */
		check(counts_are(SGI_UNICAST, -1, (int)s),
		      "vCPU %u to each other vCPU, one ICC_SGI1R_EL1 write each (SGI %u): once on each other (vCPUs took it %s)", s,
		      SGI_UNICAST, counts_of(SGI_UNICAST));
		check(counts_are(SGI_SELF, (int)s, -1), "vCPU %u to itself (SGI %u): once, on itself only (%s)", s, SGI_SELF,
		      counts_of(SGI_SELF));
		check(counts_are(SGI_LIST, -1, (int)s),
		      "vCPU %u to a target list of the other %u in one write (SGI %u): once on each (%s)", s, ncpus - 1, SGI_LIST,
		      counts_of(SGI_LIST));
		check(counts_are(SGI_BROADCAST, -1, (int)s),
		      "vCPU %u broadcast, IRM = 1 (SGI %u): once on every vCPU but itself (%s)", s, SGI_BROADCAST,
		      counts_of(SGI_BROADCAST));
		only_these(SGI_UNICAST, SGI_BROADCAST, &odd);
		any_odd |= odd;
	}
	check(!any_odd, "in all that, no vCPU took another INTID, read a malformed ICC_IAR1_EL1 or a spurious 1023");

	for (int mode = 0; mode < 2; mode++) {
		run_everywhere(do_eoimode, (u64)mode);
		for (unsigned s = 0; s < ncpus; s++) {
			unsigned missing = 0, extra = 0;
			reset_counts();
			run_on(s, all_sgis_to_self, 0);
			WAIT_UNTIL(({
					   unsigned got = 0;
					   for (unsigned intid = 0; intid < 16; intid++)
						   got += cpu[s].count[intid] != 0;
					   got == 16;
				   }),
				   200000);
			delay_us(1000);
			for (unsigned intid = 0; intid < 16; intid++) {
				if (!cpu[s].count[intid])
					missing |= 1u << intid;
				if (total(intid) > 1 || total(intid) != cpu[s].count[intid])
					extra |= 1u << intid;
			}
			check(!missing && !extra && only_these(0, 15, &odd),
			      "vCPU %u, EOImode %d: each of SGIs 0-15 sent to itself is taken once, there (missing %#x, extra %#x)", s,
			      mode, missing, extra);
		}
	}
	run_everywhere(do_eoimode, 0);
	run_everywhere(do_irqs_off, 0);
}

/* ---- SPIs by GICD_IROUTER ------------------------------------------------------------------ */

#define SPI_EDGE 224
#define SPI_LEVEL 225

static void spi_checks(void)
{
	run_everywhere(do_irqs_on, 0);
	for (unsigned t = 0; t < ncpus; t++) {
		spi_setup(SPI_EDGE, true, DEFAULT_PRIORITY, t);
		u64 route = rd64(GICD_BASE + GICD_IROUTER + 8 * SPI_EDGE);
		reset_counts();
		irq_set_bit(0, ISPENDR, SPI_EDGE);
		WAIT_UNTIL(cpu[t].count[SPI_EDGE] != 0, 200000);
		delay_us(2000);
		check(route == irouter_of(cpu[t].mpidr) && counts_are(SPI_EDGE, (int)t, -1),
		      "edge SPI %u, GICD_IROUTER %#lx (vCPU %u), pended by GICD_ISPENDR: taken once, by vCPU %u only (%s)",
		      SPI_EDGE, route, t, t, counts_of(SPI_EDGE));
	}
	spi_teardown(SPI_EDGE);

	for (unsigned t = 0; t < ncpus; t++) {
		spi_setup(SPI_LEVEL, false, DEFAULT_PRIORITY, t);
		run_on(t, do_irqs_off, 0);
		reset_counts();
		irq_set_bit(0, ISPENDR, SPI_LEVEL);
		delay_us(2000);
		bool held = irq_bit(0, ISPENDR, SPI_LEVEL);
		unsigned before = total(SPI_LEVEL);
		run_on(t, do_irqs_on, 0);
		WAIT_UNTIL(cpu[t].count[SPI_LEVEL] != 0, 200000);
		delay_us(2000);
		bool after = irq_bit(0, ISPENDR, SPI_LEVEL);
		check(held && !before && !after && counts_are(SPI_LEVEL, (int)t, -1),
		      "level SPI %u to vCPU %u by GICD_ISPENDR: still pending after 2 ms masked (%u), then taken once, by it only (%s), not pending after (%u)",
		      SPI_LEVEL, t, held, counts_of(SPI_LEVEL), after);
	}
	spi_teardown(SPI_LEVEL);
	run_everywhere(do_irqs_off, 0);
}

/* ---- priorities, preemption, the priority mask ----------------------------------------------- */

#define SGI_LOW 5
#define SGI_HIGH 6
static struct {
	volatile u64 rpr_low, rpr_high, rpr_back;
	volatile unsigned depth_high;
	volatile bool nested;
	volatile unsigned lo_during, hppir_during;
} obs[MAX_CPUS];

static void preempt_hook(unsigned intid)
{
	struct vcpu *c = me();
	unsigned i = cpu_index();

	if (intid == SGI_LOW) {
		obs[i].rpr_low = icc_read(ICC_RPR_EL1);
		irqs_on();
		sgi_to(i, SGI_HIGH);
		obs[i].nested = WAIT_UNTIL(c->count[SGI_HIGH] != 0, 20000);
		obs[i].rpr_back = icc_read(ICC_RPR_EL1);
		irqs_off();
	} else if (intid == SGI_HIGH) {
		obs[i].rpr_high = icc_read(ICC_RPR_EL1);
		obs[i].depth_high = c->depth;
	}
}

#define SGI_RUNNING 7
#define SGI_WAITING 8
static void wait_hook(unsigned intid)
{
	struct vcpu *c = me();
	unsigned i = cpu_index();

	if (intid == SGI_RUNNING) {
		irqs_on();
		sgi_to(i, SGI_WAITING);
		delay_us(2000);
		obs[i].lo_during = c->count[SGI_WAITING];
		obs[i].hppir_during = icc_read(ICC_HPPIR1_EL1) & 0xffffff;
		irqs_off();
	}
}

/* The 8 of the ordering check: SGIs, a PPI and SPIs, priority order unlike INTID order. */
static const struct {
	unsigned intid;
	u8 prio;
} eight[] = {
	{ 12, 0x60 }, { 13, 0x10 }, { 14, 0x40 }, { PPI_A, 0x70 },
	{ 226, 0x00 }, { 227, 0x50 }, { 228, 0x20 }, { 229, 0x30 },
};
static const unsigned eight_order[] = { 226, 13, 228, 229, 14, 227, 12, PPI_A };

static bool eight_pending(unsigned i)
{
	for (unsigned k = 0; k < ARRAY_SIZE(eight); k++)
		if (!irq_bit(i, ISPENDR, eight[k].intid))
			return false;
	return true;
}

static void priority_checks(u64 unused)
{
	unsigned i = cpu_index();
	struct vcpu *c = me();
	u64 rpr_idle;

	/* A higher priority preempts a running handler once it clears PSTATE.I. */
	set_priority(i, SGI_LOW, 0xc0);
	set_priority(i, SGI_HIGH, 0x40);
	reset_counts();
	obs[i].nested = false;
	obs[i].rpr_low = obs[i].rpr_high = obs[i].rpr_back = 0;
	c->hook = preempt_hook;
	irqs_on();
	sgi_to(i, SGI_LOW);
	WAIT_UNTIL(c->count[SGI_LOW] && c->count[SGI_HIGH], 200000);
	irqs_off();
	c->hook = NULL;
	rpr_idle = icc_read(ICC_RPR_EL1);
	unsigned nested_order[] = { SGI_LOW, SGI_HIGH };
	check(obs[i].nested && obs[i].depth_high == 2 && log_is(c, nested_order, 2),
	      "vCPU %u: SGI %u (priority 0x40) preempts the running handler of SGI %u (0xc0) once it clears PSTATE.I (depth %u, taken: %s)",
	      i, SGI_HIGH, SGI_LOW, obs[i].depth_high, log_of(c));
	check(obs[i].rpr_low == 0xc0 && obs[i].rpr_high == 0x40 && obs[i].rpr_back == 0xc0 && rpr_idle == 0xff,
	      "vCPU %u: ICC_RPR_EL1 is 0xc0 in SGI %u's handler (%#lx), 0x40 in the nested one's (%#lx), 0xc0 after its EOI (%#lx), 0xff after both (%#lx)",
	      i, SGI_LOW, obs[i].rpr_low, obs[i].rpr_high, obs[i].rpr_back, rpr_idle);

	/* A lower priority waits for the EOI. */
	set_priority(i, SGI_RUNNING, 0x40);
	set_priority(i, SGI_WAITING, 0xc0);
	reset_counts();
	obs[i].lo_during = 99;
	obs[i].hppir_during = 0;
	c->hook = wait_hook;
	irqs_on();
	sgi_to(i, SGI_RUNNING);
	WAIT_UNTIL(c->count[SGI_WAITING] != 0, 200000);
	irqs_off();
	c->hook = NULL;
	unsigned wait_order[] = { SGI_RUNNING, SGI_WAITING };
	check(obs[i].lo_during == 0 && obs[i].hppir_during == SGI_WAITING && log_is(c, wait_order, 2),
	      "vCPU %u: SGI %u (0xc0) sent in SGI %u's handler (0x40) waits, PSTATE.I clear: not taken for 2 ms, ICC_HPPIR1_EL1 %u; taken after the EOI (%s)",
	      i, SGI_WAITING, SGI_RUNNING, obs[i].hppir_during, log_of(c));

	/* The priority mask. */
	set_priority(i, 9, 0x80);
	set_priority(i, 10, 0x70);
	set_priority(i, 11, 0xa0);
	reset_counts();
	icc_write(ICC_PMR_EL1, 0x80);
	isb();
	irqs_on();
	sgi_to(i, 9);
	sgi_to(i, 10);
	sgi_to(i, 11);
	WAIT_UNTIL(c->count[10] != 0, 200000);
	delay_us(2000);
	unsigned held9 = c->count[9], held11 = c->count[11], got10 = c->count[10];
	icc_write(ICC_PMR_EL1, 0xff);
	isb();
	WAIT_UNTIL(c->count[9] && c->count[11], 200000);
	irqs_off();
	unsigned pmr_order[] = { 10, 9, 11 };
	check(got10 == 1 && !held9 && !held11 && log_is(c, pmr_order, 3),
	      "vCPU %u: ICC_PMR_EL1 0x80 holds SGIs at 0x80 and 0xa0 back and lets 0x70 through; 0xff releases them in priority order (%s)",
	      i, log_of(c));
	for (unsigned intid = 5; intid <= 11; intid++)
		set_priority(i, intid, DEFAULT_PRIORITY);

	/* Eight pending at once, more than a GIC's list registers hold, taken in priority order. */
	for (unsigned k = 0; k < ARRAY_SIZE(eight); k++) {
		unsigned intid = eight[k].intid;
		if (intid >= 32) {
			spi_setup(intid, true, eight[k].prio, i);
		} else {
			set_priority(i, intid, eight[k].prio);
			irq_enable(i, intid);
		}
	}
	for (int pass = 0; pass < 2; pass++) {
		reset_counts();
		for (unsigned k = 0; k < ARRAY_SIZE(eight); k++)
			make_pending(i, eight[k].intid);
		bool all = WAIT_UNTIL(eight_pending(i), 100000);
		if (pass == 0) {
			check(all, "vCPU %u: 8 SGIs, PPIs and SPIs of distinct priorities pending at once, PSTATE.I set", i);
			irqs_on();
			WAIT_UNTIL(c->nlog >= ARRAY_SIZE(eight), 200000);
			delay_us(1000);
			irqs_off();
			check(log_is(c, eight_order, ARRAY_SIZE(eight)),
			      "vCPU %u: once PSTATE.I is cleared all 8 are taken, in priority order (226 13 228 229 14 227 12 20): %s", i,
			      log_of(c));
			continue;
		}
		/* Polled: ICC_HPPIR1_EL1 names what ICC_IAR1_EL1 then returns. */
		unsigned got[ARRAY_SIZE(eight)], mismatches = 0, n = 0;
		while (n < ARRAY_SIZE(eight)) {
			u64 h;
			if (!WAIT_UNTIL((h = icc_read(ICC_HPPIR1_EL1)) != INTID_SPURIOUS, 10000))
				break;
			u64 iar = icc_read(ICC_IAR1_EL1);
			if ((iar & 0xffffff) != h)
				mismatches++;
			got[n++] = iar & 0xffffff;
			if ((iar & 0xffffff) < 1020)
				eoi(iar, false);
		}
		bool in_order = n == ARRAY_SIZE(eight);
		for (unsigned k = 0; k < n; k++)
			in_order &= got[k] == eight_order[k];
		check(all && n == ARRAY_SIZE(eight) && !mismatches,
		      "vCPU %u: polled with PSTATE.I set, ICC_HPPIR1_EL1 named what ICC_IAR1_EL1 returned each time (%u of %u, %u mismatches)",
		      i, n, (unsigned)ARRAY_SIZE(eight), mismatches);
		check(in_order, "vCPU %u: polled, ICC_IAR1_EL1 returns the 8 in priority order (%u %u %u %u %u %u %u %u)", i, got[0],
		      n > 1 ? got[1] : 0, n > 2 ? got[2] : 0, n > 3 ? got[3] : 0, n > 4 ? got[4] : 0, n > 5 ? got[5] : 0,
		      n > 6 ? got[6] : 0, n > 7 ? got[7] : 0);
		u64 h = icc_read(ICC_HPPIR1_EL1), iar = icc_read(ICC_IAR1_EL1);
		check(h == INTID_SPURIOUS && iar == INTID_SPURIOUS,
		      "vCPU %u: once all are handled ICC_HPPIR1_EL1 and ICC_IAR1_EL1 read 1023 (%lu, %lu)", i, h, iar);
	}
	for (unsigned k = 0; k < ARRAY_SIZE(eight); k++) {
		unsigned intid = eight[k].intid;
		if (intid >= 32) {
			spi_teardown(intid);
		} else {
			set_priority(i, intid, DEFAULT_PRIORITY);
			if (intid >= 16)
				irq_disable(i, intid);
		}
	}
}

/* ---- pending and active state ------------------------------------------------------------- */

static const char *kind_of(unsigned intid)
{
	return intid < 16 ? "SGI" : intid < 32 ? "PPI" : "SPI";
}

static void state_checks(u64 unused)
{
	unsigned i = cpu_index();
	static const unsigned which[] = { 230, SGI_SELF, PPI_B };

	irqs_off();
	spi_setup(230, true, DEFAULT_PRIORITY, i);
	irq_enable(i, PPI_B);
	for (int mode = 0; mode < 2; mode++) {
		set_eoimode(mode);
		for (unsigned k = 0; k < ARRAY_SIZE(which); k++) {
			unsigned intid = which[k];
			u64 iar = INTID_SPURIOUS;
			make_pending(i, intid);
			bool p0 = WAIT_UNTIL(irq_bit(i, ISPENDR, intid), 100000), a0 = irq_bit(i, ISACTIVER, intid);
			WAIT_UNTIL((iar = icc_read(ICC_IAR1_EL1)) != INTID_SPURIOUS, 10000);
			bool p1 = irq_bit(i, ISPENDR, intid), a1 = irq_bit(i, ISACTIVER, intid), ca1 = irq_bit(i, ICACTIVER, intid);
			icc_write(ICC_EOIR1_EL1, iar);
			isb();
			bool a2 = irq_bit(i, ISACTIVER, intid);
			u64 rpr = icc_read(ICC_RPR_EL1);
			bool a3 = a2;
			if (mode) {
				icc_write(ICC_DIR_EL1, iar);
				isb();
				a3 = irq_bit(i, ISACTIVER, intid);
			}
			bool ok = p0 && !a0 && iar == intid && !p1 && a1 && ca1 && rpr == 0xff && !a3 && (mode ? a2 : !a2);
			check(ok,
			      "vCPU %u, EOImode %d, %s %u: pending and not active before ICC_IAR1_EL1 (%u%u), then active, not pending (%u%u%u), %s (%u%u, RPR %#lx)",
			      i, mode, kind_of(intid), intid, p0, a0, a1, ca1, p1,
			      mode ? "still active after the EOI, inactive after ICC_DIR_EL1" : "inactive after the EOI", a2, a3, rpr);
			if (iar != intid && iar < 1020)
				eoi(iar, mode);
		}
	}
	set_eoimode(false);

	/* A pending interrupt that ICPENDR clears is never taken. */
	struct vcpu *c = me();
	static const unsigned cleared[] = { 231, SGI_LIST, PPI_C };
	spi_setup(231, true, DEFAULT_PRIORITY, i);
	irq_enable(i, PPI_C);
	reset_counts();
	for (unsigned k = 0; k < ARRAY_SIZE(cleared); k++)
		make_pending(i, cleared[k]);
	bool pending = WAIT_UNTIL(irq_bit(i, ISPENDR, 231) && irq_bit(i, ISPENDR, SGI_LIST) && irq_bit(i, ISPENDR, PPI_C), 100000);
	for (unsigned k = 0; k < ARRAY_SIZE(cleared); k++)
		irq_set_bit(i, ICPENDR, cleared[k]);
	bool still = irq_bit(i, ISPENDR, 231) || irq_bit(i, ISPENDR, SGI_LIST) || irq_bit(i, ISPENDR, PPI_C);
	irqs_on();
	delay_us(5000);
	irqs_off();
	check(pending && !still && !c->count[231] && !c->count[SGI_LIST] && !c->count[PPI_C] && !c->spurious,
	      "vCPU %u: SPI 231, SGI %u and PPI %u pending (%u), cleared by ICPENDR (%u), are never taken (%u %u %u, %u spurious)", i,
	      SGI_LIST, PPI_C, pending, !still, c->count[231], c->count[SGI_LIST], c->count[PPI_C], c->spurious);
	spi_teardown(230);
	spi_teardown(231);
	irq_disable(i, PPI_B);
	irq_disable(i, PPI_C);
}

/* ---- an interrupt left active ----------------------------------------------------------------- */

#define SPI_STUCK 232
#define SPI_HIGHER 233
#define SGI_HIGHER 9
#define SGI_LOWER 10
#define SPI_DROPPED 234 /* 234-237 */
#define SPI_ALONGSIDE 238
#define SGI_ALONGSIDE 11

static void left_active_checks(u64 unused)
{
	unsigned i = cpu_index();
	struct vcpu *c = me();

	/* Acknowledged, never EOId: its priority stays running. */
	spi_setup(SPI_STUCK, true, 0x80, i);
	spi_setup(SPI_HIGHER, true, 0x60, i);
	set_priority(i, SGI_HIGHER, 0x40);
	set_priority(i, SGI_LOWER, 0xc0);
	c->action[SPI_STUCK] = ACT_KEEP_ACTIVE;
	reset_counts();
	irqs_on();
	irq_set_bit(i, ISPENDR, SPI_STUCK);
	WAIT_UNTIL(c->count[SPI_STUCK] != 0, 200000);
	bool active = irq_bit(i, ISACTIVER, SPI_STUCK);
	u64 rpr = icc_read(ICC_RPR_EL1);
	check(c->count[SPI_STUCK] == 1 && active && rpr == 0x80,
	      "vCPU %u: SPI %u (0x80), taken and never EOId, stays active (%u) at the running priority (ICC_RPR_EL1 %#lx)", i, SPI_STUCK,
	      active, rpr);
	unsigned delivered = 0;
	for (unsigned k = 0; k < 10; k++) {
		sgi_to(i, SGI_HIGHER);
		delivered += WAIT_UNTIL(c->count[SGI_HIGHER] == k + 1, 20000);
	}
	irq_set_bit(i, ISPENDR, SPI_HIGHER);
	bool spi_ok = WAIT_UNTIL(c->count[SPI_HIGHER] == 1, 20000);
	check(delivered == 10 && spi_ok && c->count[SGI_HIGHER] == 10,
	      "vCPU %u: meanwhile higher priorities are still taken: SGI %u (0x40) %u of 10 times, SPI %u (0x60) %u", i, SGI_HIGHER,
	      c->count[SGI_HIGHER], SPI_HIGHER, c->count[SPI_HIGHER]);
	sgi_to(i, SGI_LOWER);
	delay_us(2000);
	unsigned lower_during = c->count[SGI_LOWER];
	irqs_off();
	icc_write(ICC_EOIR1_EL1, SPI_STUCK);
	isb();
	bool inactive = !irq_bit(i, ISACTIVER, SPI_STUCK);
	irqs_on();
	WAIT_UNTIL(c->count[SGI_LOWER] != 0, 20000);
	irqs_off();
	check(!lower_during && c->count[SGI_LOWER] == 1 && inactive && c->count[SPI_STUCK] == 1,
	      "vCPU %u: a lower priority (SGI %u, 0xc0) waits for it and is taken after its late EOI (%u then %u), which deactivates it (%u)",
	      i, SGI_LOWER, lower_during, c->count[SGI_LOWER], inactive);
	c->action[SPI_STUCK] = ACT_EOI;
	spi_teardown(SPI_STUCK);
	spi_teardown(SPI_HIGHER);
	set_priority(i, SGI_HIGHER, DEFAULT_PRIORITY);
	set_priority(i, SGI_LOWER, DEFAULT_PRIORITY);

	/* EOImode 1: four priority-dropped, never deactivated; others still come; one pended again waits. */
	set_eoimode(true);
	for (unsigned k = 0; k < 4; k++) {
		spi_setup(SPI_DROPPED + k, true, DEFAULT_PRIORITY, i);
		c->action[SPI_DROPPED + k] = ACT_NO_DIR;
	}
	spi_setup(SPI_ALONGSIDE, true, DEFAULT_PRIORITY, i);
	reset_counts();
	irqs_on();
	unsigned taken = 0, still_active = 0;
	for (unsigned k = 0; k < 4; k++) {
		irq_set_bit(i, ISPENDR, SPI_DROPPED + k);
		taken += WAIT_UNTIL(c->count[SPI_DROPPED + k] == 1, 20000);
	}
	for (unsigned k = 0; k < 4; k++)
		still_active += irq_bit(i, ISACTIVER, SPI_DROPPED + k);
	rpr = icc_read(ICC_RPR_EL1);
	check(taken == 4 && still_active == 4 && rpr == 0xff,
	      "vCPU %u, EOImode 1: SPIs %u-%u taken and EOId but not deactivated: %u taken, %u still active, ICC_RPR_EL1 %#lx", i,
	      SPI_DROPPED, SPI_DROPPED + 3, taken, still_active, rpr);
	sgi_to(i, SGI_ALONGSIDE);
	irq_set_bit(i, ISPENDR, SPI_ALONGSIDE);
	bool along = WAIT_UNTIL(c->count[SGI_ALONGSIDE] == 1 && c->count[SPI_ALONGSIDE] == 1, 20000);
	check(along, "vCPU %u, EOImode 1: with those 4 active, SGI %u and SPI %u are still taken (%u, %u)", i, SGI_ALONGSIDE,
	      SPI_ALONGSIDE, c->count[SGI_ALONGSIDE], c->count[SPI_ALONGSIDE]);
	irq_set_bit(i, ISPENDR, SPI_DROPPED);
	delay_us(2000);
	unsigned again_during = c->count[SPI_DROPPED];
	bool pend_act = irq_bit(i, ISPENDR, SPI_DROPPED) && irq_bit(i, ISACTIVER, SPI_DROPPED);
	irqs_off();
	for (unsigned k = 0; k < 4; k++)
		icc_write(ICC_DIR_EL1, SPI_DROPPED + k);
	isb();
	c->action[SPI_DROPPED] = ACT_EOI;
	irqs_on();
	WAIT_UNTIL(c->count[SPI_DROPPED] == 2, 20000);
	irqs_off();
	still_active = 0;
	for (unsigned k = 0; k < 4; k++)
		still_active += irq_bit(i, ISACTIVER, SPI_DROPPED + k);
	check(again_during == 1 && pend_act && c->count[SPI_DROPPED] == 2 && !still_active,
	      "vCPU %u, EOImode 1: SPI %u pended again while active is active and pending (%u), not taken (%u) until ICC_DIR_EL1, then taken (%u); %u left active",
	      i, SPI_DROPPED, pend_act, again_during, c->count[SPI_DROPPED], still_active);
	for (unsigned k = 0; k < 4; k++) {
		c->action[SPI_DROPPED + k] = ACT_EOI;
		spi_teardown(SPI_DROPPED + k);
	}
	spi_teardown(SPI_ALONGSIDE);
	set_eoimode(false);
}

/* ---- WFI woken by each kind of interrupt -------------------------------------------------------- */

enum wake_kind { WAKE_SGI, WAKE_SPI, WAKE_TIMER };
#define SGI_WAKE 12
#define SPI_WAKE 239
/* Ends a WFI whose wake-up never came, so that vCPU fails its check and serves on. */
#define SGI_RESCUE 13
static struct {
	volatile bool ready;
	volatile u64 t_sleep, t_wake, t_cause, iar, hppir_before;
} wfi_obs[MAX_CPUS];

static void wfi_sleep(u64 kind)
{
	unsigned i = cpu_index();

	irqs_off();
	wfi_obs[i].hppir_before = icc_read(ICC_HPPIR1_EL1);
	if (kind == WAKE_TIMER) {
		wfi_obs[i].t_cause = now() + us_ticks(2000);
		write_sysreg(cntv_cval_el0, wfi_obs[i].t_cause);
		write_sysreg(cntv_ctl_el0, CNTV_CTL_ENABLE);
		isb();
	}
	wfi_obs[i].t_sleep = now();
	__atomic_store_n(&wfi_obs[i].ready, true, __ATOMIC_RELEASE);
	asm volatile("dsb sy\n wfi" ::: "memory");
	wfi_obs[i].t_wake = now();
	u64 iar = INTID_SPURIOUS;
	WAIT_UNTIL((iar = icc_read(ICC_IAR1_EL1)) != INTID_SPURIOUS, 10000);
	wfi_obs[i].iar = iar;
	if (kind == WAKE_TIMER)
		write_sysreg(cntv_ctl_el0, 0);
	if (iar < 1020)
		eoi(iar, false);
}

static void send_wake_sgi(u64 target)
{
	wfi_obs[target].t_cause = now();
	sgi_to((unsigned)target, SGI_WAKE);
}

static void wfi_checks(void)
{
	static const char *what[] = { "an SGI from vCPU %u", "an SPI pended by vCPU %u", "its virtual timer" };
	unsigned targets[] = { 1 % ncpus, 2 % ncpus, 3 % ncpus };
	unsigned want[] = { SGI_WAKE, SPI_WAKE, TIMER_PPI };

	spi_setup(SPI_WAKE, true, DEFAULT_PRIORITY, targets[WAKE_SPI]);
	for (unsigned kind = WAKE_SGI; kind <= WAKE_TIMER; kind++) {
		unsigned t = targets[kind], by = kind == WAKE_SGI ? 2 % ncpus : 0;
		char cause[40];
		wfi_obs[t].ready = false;
		wfi_obs[t].iar = 0;
		post(t, wfi_sleep, kind);
		WAIT_UNTIL(__atomic_load_n(&wfi_obs[t].ready, __ATOMIC_ACQUIRE), 100000);
		delay_us(1000);
		if (kind == WAKE_SGI) {
			run_on(by, send_wake_sgi, t);
		} else if (kind == WAKE_SPI) {
			wfi_obs[t].t_cause = now();
			irq_set_bit(0, ISPENDR, SPI_WAKE);
		}
		if (!WAIT_UNTIL(__atomic_load_n(&cpu[t].finished, __ATOMIC_ACQUIRE) == cpu[t].posted, 200000))
			sgi_to(t, SGI_RESCUE);
		finish(t);
		snprintf(cause, sizeof(cause), what[kind], by);
		u64 slept = wfi_obs[t].t_wake - wfi_obs[t].t_sleep;
		check(wfi_obs[t].hppir_before == INTID_SPURIOUS && wfi_obs[t].t_wake >= wfi_obs[t].t_cause &&
			      wfi_obs[t].iar == want[kind],
		      "vCPU %u: WFI (PSTATE.I set, nothing pending: %lu) sleeps until %s wakes it: %lu us, %ld us after; ICC_IAR1_EL1 %lu",
		      t, wfi_obs[t].hppir_before, cause, ticks_us(slept),
		      (long)ticks_us(wfi_obs[t].t_wake - wfi_obs[t].t_cause), wfi_obs[t].iar);
	}
	spi_teardown(SPI_WAKE);
}

/* ---- the virtual timer, fast, on every vCPU at once ------------------------------------------------ */

#define TIMER_TICKS 2000
#define TIMER_PERIOD_US 50
static struct {
	volatile u64 elapsed, extra;
	volatile bool done;
} tobs[MAX_CPUS];

static void timer_run(u64 n)
{
	unsigned i = cpu_index();
	struct vcpu *c = me();
	u64 t0, deadline;

	irqs_off();
	c->period = us_ticks(TIMER_PERIOD_US);
	c->ticks = c->early = c->unasserted = c->max_late = c->late_periods = 0;
	c->want_ticks = n;
	c->count[TIMER_PPI] = 0;
	c->timer_on = true;
	t0 = now();
	deadline = t0 + 20 * n * c->period;
	c->cval = t0 + c->period;
	write_sysreg(cntv_cval_el0, c->cval);
	write_sysreg(cntv_ctl_el0, CNTV_CTL_ENABLE);
	isb();
	/* Sleep with PSTATE.I set, take the interrupt after: no tick slips between test and WFI. */
	for (;;) {
		if (c->ticks >= n || now() > deadline)
			break;
		asm volatile("dsb sy\n wfi" ::: "memory");
		irqs_on();
		isb();
		irqs_off();
	}
	tobs[i].elapsed = now() - t0;
	irqs_on();
	delay_us(1000);
	irqs_off();
	write_sysreg(cntv_ctl_el0, 0);
	c->timer_on = false;
	tobs[i].extra = c->count[TIMER_PPI] - c->ticks;
	/* A vCPU whose ticks stopped sleeps in WFI for good: the others wake it past its deadline. */
	__atomic_store_n(&tobs[i].done, true, __ATOMIC_RELEASE);
	u64 until = deadline + us_ticks(10000), t = now();
	WAIT_UNTIL(({
			   bool all = true;
			   for (unsigned j = 0; j < ncpus; j++)
				   all &= cpu[j].dead || __atomic_load_n(&tobs[j].done, __ATOMIC_ACQUIRE);
			   all;
		   }),
		   until > t ? ticks_us(until - t) : 0);
	for (unsigned j = 0; j < ncpus; j++)
		if (!cpu[j].dead && !__atomic_load_n(&tobs[j].done, __ATOMIC_ACQUIRE))
			sgi_to(j, SGI_RESCUE);
}

static void timer_checks(void)
{
	u64 ideal_us = TIMER_TICKS * TIMER_PERIOD_US;

	for (unsigned i = 0; i < ncpus; i++)
		tobs[i].done = false;
	run_everywhere(timer_run, TIMER_TICKS);
	for (unsigned i = 0; i < ncpus; i++) {
		struct vcpu *c = &cpu[i];
		u64 took = ticks_us(tobs[i].elapsed);
		/* The time they take is the emulator's (every tick is an exit under the
		 * virtual GIC; on 2 busy host cores a vCPU thread waits for a CPU): not
		 * a check, only the deadline (20 x ideal) that catches ticks that stop. */
		check(c->ticks == TIMER_TICKS && !c->unasserted && !c->early && !tobs[i].extra,
		      "vCPU %u: %lu/%u timer ticks at %u us, all vCPUs at once, in %lu us (ideal %lu); not its own %lu, early %lu, extra %lu; max %lu us late, %lu over a period",
		      i, c->ticks, TIMER_TICKS, TIMER_PERIOD_US, took, ideal_us, c->unasserted, c->early, tobs[i].extra,
		      ticks_us(c->max_late), c->late_periods);
	}
}

/* ---- main ------------------------------------------------------------------------------------ */

static bool has_word(const char *s, u32 len, const char *word)
{
	size_t n = strlen(word);

	for (u32 i = 0; s && i + n <= len; i++)
		if ((i == 0 || s[i - 1] == ' ') && !strncmp(s + i, word, n) && (s[i + n] == ' ' || s[i + n] == '\0'))
			return true;
	return false;
}

int main(u64 x0)
{
	u32 len = 0;
	const char *args;
	u64 t_start = read_sysreg(cntvct_el0);

	cpu[0].mpidr = read_sysreg(mpidr_el1);

	/* The Linux boot protocol gives the tree in x0; QEMU booting an ELF itself does not. */
	dtb = fdt_valid(x0) ? x0 : RAM_BASE;
	bool conduit = psci_conduit_from_dt(dtb);
	freq = read_sysreg(cntfrq_el0);
	args = fdt_prop(dtb, "/chosen", "bootargs", &len);
	bare = has_word(args, len, "vgic.bare");
	gprintf("vgic: the GICv3 as the guest sees it, on %s\n", bare ? "bare QEMU (no hypervisor)" : "a hypervisor");
	check(fdt_valid(dtb) && conduit, "the device tree (at %#lx) names the PSCI conduit: %s", dtb,
	      psci_conduit_is_hvc() ? "hvc" : "smc");
	u64 version = psci_call(PSCI_VERSION, 0, 0, 0);
	check(version >= 0x10000 && version < 0x80000000ul, "PSCI_VERSION through it: %#lx", version);

	gicd_init();
	cpu_init(0);
	bring_up();
	for (unsigned i = 1; i < ncpus; i++)
		run_on(i, cpu_init, 0);

	guest_irq_handler = irq_handler;
	holes();
	sgi_checks();
	spi_checks();
	priority_checks(0);
	run_on(ncpus - 1, priority_checks, 0);
	state_checks(0);
	run_on(1 % ncpus, left_active_checks, 0);
	wfi_checks();
	timer_checks();

	stop_serving = true;
	gprintf("vgic: %lu ms of guest time\n", ticks_us(read_sysreg(cntvct_el0) - t_start) / 1000);
	return 0;
}
