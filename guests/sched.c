/*
 * vCPUs sharing physical CPUs (issue 11): what a guest must never notice when
 * the hypervisor switches its vCPUs on a physical CPU. The same checks pass on
 * bare QEMU -smp 4 (the reference, tests/qemu/sched.sh), under trapvisor with
 * one vCPU per pCPU, and must pass with 4 vCPUs on 2 pCPUs and on 1.
 *
 *   1 bring-up     every vCPU comes up through PSCI CPU_ON and runs
 *   2 context      each vCPU fills and checks its own patterns, round after
 *                  round: x19-x28 across spins and WFIs, v0-v31, FPCR/FPSR,
 *                  the EL0/EL1 system registers a context switch must carry,
 *                  VBAR_EL1 (a vector table of its own), the PAuth keys and
 *                  PAC results that depend on them
 *   3 idle         vCPUs idling in WFI still tick; the busy one runs meanwhile
 *   4 time slices  a vCPU spinning with DAIF masked does not stop the others
 *   5 SGIs         wake vCPUs waiting in WFI, one to many and in ping-pong
 *   6 timers       every vCPU's virtual timer ticks, waiting or spinning
 *   7 CPU_OFF/ON   of one vCPU, while the others run, a few times
 *   8 stale TLB    each vCPU maps one VA to a page of its own (data and code)
 *                  and must always see its own
 *   9 long handler each vCPU in turn takes its virtual timer interrupt and
 *                  stays in the handler (IRQs masked, not yet EOI'd) until the
 *                  vCPUs sharing its pCPU have run: one interrupt per expiry,
 *                  none again after the EOI
 *  10 PMU          the PMU is not switched, so while vCPUs share pCPUs
 *                  (sched.pcpus=N says so) every vCPU finds none:
 *                  ID_AA64DFR0_EL1.PMUVer and ID_DFR0_EL1.PerfMon read 0,
 *                  PMCR_EL0 and PMCCNTR_EL0, read and written, and
 *                  PMUSERENR_EL0 are UNDEFINED, EL0 cannot read PMCCNTR_EL0,
 *                  the device tree has no PMU node; with a pCPU per vCPU (and
 *                  on bare QEMU) each finds QEMU's PMU and can use it
 *
 * One worker round (worker_round) is the unit of every check: it writes a
 * pattern derived from the vCPU and the round's number into every register it
 * covers, waits (a spin to a deadline, or a WFI until the virtual timer
 * fires) with everything masked, and compares. Every vCPU runs rounds between
 * the other activities, so the patterns are checked across every kind of
 * switch the phases provoke. vCPU 0 drives the phases (phase_run) and prints
 * the verdicts; the others serve (serve) and run rounds in between.
 *
 * Durations are counter time, scaled by the boot argument sched.scale=PERCENT
 * (default 100: about 3 s of guest time in all, on 4 pCPUs).
 */
#include "guest.h"

#define MAX_CPUS 8
#define NCPUS_WANTED 4
#define RAM_BASE 0x40000000ul /* where QEMU puts the device tree for an ELF it boots itself */

/* At sched.scale=100. */
#define ROUND_US 200	  /* a worker round's wait */
#define CONTEXT_MS 1000	  /* check 2: every vCPU runs rounds, half of them WFIs */
#define IDLE_MS 500	  /* check 3 */
#define SPIN_MS 1000	  /* check 4: the masked spin */
#define TICK_US 1000	  /* checks 3 and 6: the virtual timer's period */
#define TIMER_TICKS 100	  /* check 6 */
#define HELLO_ROUNDS 30	  /* check 5: vCPU 0 to every other vCPU */
#define PING_ROUNDS 200	  /* check 5: ping-pong in pairs */
#define OFF_ROUNDS 3	  /* check 7 */
#define BACK_ROUNDS 20	  /* check 7: worker rounds a vCPU turned on again must run */
#define WATCHDOG_MS 20	  /* check 5: a wait for an SGI this long is ended (and counted) by the timer */

/* PSCI (DEN0022) */
#define PSCI_VERSION 0x84000000ul
#define PSCI_CPU_ON64 0xc4000003ul
#define PSCI_AFFINITY_INFO64 0xc4000004ul
#define AFF_ON 0
#define AFF_OFF 1
#define CTX_MAGIC 0x5c4ed0000000ul /* check 7's context ids: magic | round << 8 | vCPU */

/* GICv3 (IHI 0069): a redistributor per vCPU, in vCPU order, as lib/guest.c has it */
#define GICR_STRIDE 0x20000ul
#define GICR_SGI 0x10000ul
#define GICR_IGROUPR0 0x0080
#define GICR_ISENABLER0 0x0100
#define GICR_ICENABLER0 0x0180
#define ICC_SGI1R_EL1 S3_0_C12_C11_5
#define ICC_IAR1_EL1 S3_0_C12_C12_0
#define ICC_EOIR1_EL1 S3_0_C12_C12_1
#define INTID_SPECIAL 1020 /* 1020-1023: nothing to take */
#define SGI_HELLO 1	   /* vCPU 0 to each other vCPU */
#define SGI_PING 2	   /* between the two vCPUs of a pair */
#define SGI_ACK 3	   /* back to vCPU 0 */
/* read_sysreg stringifies its argument: one more level expands the names above. */
#define sys_read(r) read_sysreg(r)
#define sys_write(r, v) write_sysreg(r, v)

/* CNTV_CTL_EL0.ENABLE and .ISTATUS */
#define CNTV_CTL_ENABLE 1u
#define CNTV_CTL_ISTATUS 4u

/* Check 10: exception syndromes (ESR_ELx.EC, D17.2.37), and the PSTATE the way
 * back from an excursion to EL0 returns to (SPSR_EL1: EL1h, DAIF masked). */
#define ESR_EC_UNKNOWN 0x00 /* UNDEFINED */
#define ESR_EC_SVC64 0x15
#define ESR_EC_SYS64 0x18 /* a trapped MSR/MRS: at EL0, PMUSERENR_EL0 says no */
#define ESR_IL (1ul << 25)
#define SPSR_EL1H_MASKED 0x3c5ul

/* Pointer authentication is there if any of ID_AA64ISAR1_EL1.APA [7:4], .API [11:8],
 * ID_AA64ISAR2_EL1.APA3 [15:12] (address keys) or ISAR1.GPA [27:24], .GPI [31:28],
 * ISAR2.GPA3 [11:8] (the generic key) is not 0. */
#define ID_AA64ISAR2_EL1 S3_0_C0_C6_2
/* SCTLR_EL1.EnIA [31], EnIB [30], EnDA [27], EnDB [13]: PACIx/PACDx sign (else they
 * return the pointer unchanged, whatever the key) */
#define SCTLR_EN_PAC (BIT(31) | BIT(30) | BIT(27) | BIT(13))
#define SCTLR_M BIT(0)
#define SCTLR_C BIT(2)
#define SCTLR_I BIT(12)

/* ---- per-vCPU state ------------------------------------------------------------------- */

/* What a check found wrong: how often, and the first time in detail. */
enum err_kind { ERR_GPR, ERR_FP, ERR_SYS, ERR_PAC, ERR_VBAR, ERR_TLB_DATA, ERR_TLB_CODE, ERR_KINDS };

struct err {
	u64 count;
	const char *what;
	unsigned index;
	u64 got, want, round;
};

enum tmode { TM_OFF, TM_PERIODIC, TM_WATCHDOG, TM_LONG };

struct vc {
	unsigned id;
	u64 mpidr;
	volatile bool arrived, dead;
	/* The worker. */
	u64 iter;		   /* rounds started (the pattern's round number) */
	volatile u64 rounds;	   /* rounds finished: this vCPU's progress */
	volatile u64 wfi_rounds;   /* of which waited in WFI */
	volatile u64 seed;	   /* x19's pattern of the round under way (hold_gprs reads it) */
	unsigned table;		   /* the vector table VBAR_EL1 names now */
	bool mmu;		   /* its own stage 1 is on (check 8) */
	u64 tlb_reads;		   /* V read and its code called, each this many times */
	u64 key_first;		   /* APIAKEYLO_EL1 as read before its first write of it */
	struct err err[ERR_KINDS];
	/* Interrupts, counted by the handler. */
	volatile u64 sgis[16], other_irqs, vectors_taken;
	volatile unsigned tmode;
	volatile u64 period, cval, ticks, ticks_want, tick_early, tick_unasserted, max_late, wd_ticks;
	/* The phases. */
	volatile unsigned done_seq;
	volatile u64 waiting_round; /* check 5: about to wait for this round's SGI */
	volatile u64 hello_seen;    /* check 5: counted this round's SGI */
	volatile u64 ctx_seen;	    /* check 7: x0 at the entry CPU_ON named */
	volatile u64 reentries;
	volatile bool el0_out;	    /* check 10: at EL0 until its SVC (el0_call) */
	volatile u64 idle_wfis;
	volatile u64 took;	    /* ticks a timed activity took */
	/* check 9, over this vCPU's turns */
	volatile unsigned long_stage; /* 0: waiting for the first expiry, 1: for the second */
	volatile u64 long_first, long_second, long_early, long_unasserted;
	u64 long_held_min, long_peer_min;
	u64 fp_want[64] __attribute__((aligned(16)));
	u64 fp_got[64] __attribute__((aligned(16)));
} __attribute__((aligned(64)));

static struct vc vcs[MAX_CPUS];
static unsigned ncpus;
static u64 cpu_mpidr[MAX_CPUS]; /* the device tree's, the boot vCPU first */
static u64 freq, scale = 100;
static u64 pcpus; /* sched.pcpus=N: the run shares N pCPUs (0: not said) */
static bool pauth_addr, pauth_generic;

static struct vc *me(void)
{
	return &vcs[cpu_index()];
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

static u64 ticks_ms(u64 t)
{
	return t * 1000 / freq;
}

/* A duration or count of the table at the top, at sched.scale. */
static u64 scaled(u64 v)
{
	u64 s = v * scale / 100;

	return s ? s : 1;
}

static u64 scaled_ms(u64 ms)
{
	return us_ticks(scaled(ms) * 1000);
}

static void irqs_on(void)
{
	asm volatile("msr daifclr, #2" ::: "memory");
}

static void irqs_off(void)
{
	asm volatile("msr daifset, #2" ::: "memory");
}

/* Single loads and stores, base register only: a hypervisor emulating the GIC
 * must be able to decode them (ESR_EL2.ISV, as guests/vgic.c explains). */
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

/* The round's numbers: every register, lane and key gets its own (splitmix64). */
static u64 pattern(unsigned id, u64 round, unsigned what)
{
	u64 z = (u64)id << 56 ^ round << 12 ^ what;

	z += 0x9e3779b97f4a7c15ul;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ul;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebul;
	return z ^ (z >> 31);
}

static void err_note(struct vc *c, enum err_kind k, const char *what, unsigned index, u64 got, u64 want)
{
	struct err *e = &c->err[k];

	if (!e->count++) {
		e->what = what;
		e->index = index;
		e->got = got;
		e->want = want;
		e->round = c->iter - 1;
	}
}

/* ---- exception vectors: a pair of tables per vCPU -------------------------------------- */

/*
 * sched_vectors holds 2 * MAX_CPUS tables of 2 KiB; the worker points VBAR_EL1
 * at one of its vCPU's two, changing each round, so a VBAR_EL1 restored from
 * another vCPU (or from an old round) takes an interrupt in the wrong table,
 * which the handler notices. Frame layout as lib/head.S (regs[19] is x30).
 */
asm(".macro sched_vector table, kind\n"
    "	.balign 0x80\n"
    "	sub	sp, sp, #256\n"
    "	stp	x0, x1, [sp, #0]\n"
    "	stp	x2, x3, [sp, #16]\n"
    "	stp	x4, x5, [sp, #32]\n"
    "	stp	x6, x7, [sp, #48]\n"
    "	stp	x8, x9, [sp, #64]\n"
    "	stp	x10, x11, [sp, #80]\n"
    "	stp	x12, x13, [sp, #96]\n"
    "	stp	x14, x15, [sp, #112]\n"
    "	stp	x16, x17, [sp, #128]\n"
    "	stp	x18, x30, [sp, #144]\n"
    "	mov	x0, #\\kind\n"
    "	mov	x1, #\\table\n"
    "	b	sched_vector_common\n"
    ".endm\n"
    ".macro sched_vector_table table\n"
    "	.balign 2048\n"
    "	.irp kind, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n"
    "	sched_vector \\table, \\kind\n"
    "	.endr\n"
    ".endm\n"
    "	.pushsection .text.sched_vectors, \"ax\"\n"
    "	.balign 2048\n"
    "	.global sched_vectors\n"
    "sched_vectors:\n"
    "	.irp table, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n"
    "	sched_vector_table \\table\n"
    "	.endr\n"
    "sched_vector_common:\n"
    "	mov	x2, sp\n"
    "	bl	sched_exception\n"
    "	ldp	x0, x1, [sp, #0]\n"
    "	ldp	x2, x3, [sp, #16]\n"
    "	ldp	x4, x5, [sp, #32]\n"
    "	ldp	x6, x7, [sp, #48]\n"
    "	ldp	x8, x9, [sp, #64]\n"
    "	ldp	x10, x11, [sp, #80]\n"
    "	ldp	x12, x13, [sp, #96]\n"
    "	ldp	x14, x15, [sp, #112]\n"
    "	ldp	x16, x17, [sp, #128]\n"
    "	ldp	x18, x30, [sp, #144]\n"
    "	add	sp, sp, #256\n"
    "	eret\n"
    "	.popsection\n");
extern char sched_vectors[];
#define VECTOR_TABLE_SIZE 2048

static u64 vector_table(unsigned table)
{
	return (u64)sched_vectors + (u64)table * VECTOR_TABLE_SIZE;
}

/* ---- interrupts ------------------------------------------------------------------------ */

static void long_irq(struct vc *c, u64 t, u64 ctl); /* check 9's handler */

static void timer_irq(struct vc *c)
{
	u64 t = now(), ctl = read_sysreg(cntv_ctl_el0);

	switch (c->tmode) {
	case TM_PERIODIC:
		if (!(ctl & CNTV_CTL_ISTATUS))
			c->tick_unasserted++;
		if (t < c->cval) {
			c->tick_early++;
			break;
		}
		if (t - c->cval > c->max_late)
			c->max_late = t - c->cval;
		if (++c->ticks >= c->ticks_want) {
			write_sysreg(cntv_ctl_el0, 0);
			c->tmode = TM_OFF;
		} else {
			c->cval += c->period; /* absolute: a late tick does not move the next one */
			write_sysreg(cntv_cval_el0, c->cval);
		}
		break;
	case TM_LONG:
		long_irq(c, t, ctl);
		break;
	case TM_WATCHDOG:
		if (ctl & CNTV_CTL_ISTATUS) /* not one watchdog_restart moved on */
			c->wd_ticks++;
		write_sysreg(cntv_cval_el0, t + c->period);
		break;
	default: /* a timer left pending by a round (timer_disarm did not take it) */
		write_sysreg(cntv_ctl_el0, 0);
	}
	isb();
}

void guest_exception(unsigned kind, u64 *regs); /* lib/guest.c: reports, ends the run */

void sched_exception(unsigned kind, unsigned table, u64 *regs)
{
	struct vc *c = me();

	/* Vector 8, a synchronous exception from EL0: the SVC that ends an el0_call
	 * goes back to its caller at EL1 (x30 unchanged at EL0: its return address). */
	if (kind == 8 && c->el0_out && ESR_EC_OF(read_sysreg(esr_el1)) == ESR_EC_SVC64) {
		c->el0_out = false;
		write_sysreg(elr_el1, regs[19]);
		write_sysreg(spsr_el1, SPSR_EL1H_MASKED);
		return;
	}
	if ((kind & 3) != 1) { /* not an IRQ: nothing here expects one */
		guest_exception(kind, regs);
		return;
	}
	c->vectors_taken++;
	if (table != c->table)
		err_note(c, ERR_VBAR, "IRQ taken in table", table, table, c->table);
	u64 iar = sys_read(ICC_IAR1_EL1);
	unsigned intid = iar & 0xffffff;
	if (intid >= INTID_SPECIAL)
		return;
	if (intid == TIMER_PPI)
		timer_irq(c);
	else if (intid < 16)
		c->sgis[intid]++;
	else
		c->other_irqs++;
	sys_write(ICC_EOIR1_EL1, iar);
	isb();
}

/* ICC_SGI1R_EL1 for one target: TargetList[15:0] Aff1[23:16] Aff2[39:32] RS[47:44] Aff3[55:48]. */
static void sgi_send(unsigned target, unsigned intid)
{
	u64 m = vcs[target].mpidr, aff0 = m & 0xff;
	u64 v = 1ul << (aff0 % 16) | (m >> 8 & 0xff) << 16 | (m >> 16 & 0xff) << 32 | (aff0 / 16) << 44 |
		(m >> 32 & 0xff) << 48 | (u64)intid << 24;

	asm volatile("dsb sy" ::: "memory");
	sys_write(ICC_SGI1R_EL1, v);
	isb();
}

/* lib's gic_init_cpu (the distributor from vCPU 0, this redistributor, PPI 27, the
 * CPU interface), and the SGIs. */
static void gic_setup_cpu(void)
{
	u64 sgi = GICR_BASE + cpu_index() * GICR_STRIDE + GICR_SGI;

	gic_init_cpu();
	wr32(sgi + GICR_IGROUPR0, rd32(sgi + GICR_IGROUPR0) | 0xffff);
	wr32(sgi + GICR_ISENABLER0, 0xffff);
}

static void timer_periodic(struct vc *c, u64 period, u64 want)
{
	irqs_off();
	c->ticks = c->tick_early = c->tick_unasserted = c->max_late = 0;
	c->period = period;
	c->ticks_want = want;
	c->cval = now() + period;
	c->tmode = TM_PERIODIC;
	write_sysreg(cntv_cval_el0, c->cval);
	write_sysreg(cntv_ctl_el0, CNTV_CTL_ENABLE);
	isb();
	irqs_on();
}

static void timer_watchdog(struct vc *c, u64 period)
{
	irqs_off();
	c->wd_ticks = 0;
	c->period = period;
	c->tmode = TM_WATCHDOG;
	write_sysreg(cntv_cval_el0, now() + period);
	write_sysreg(cntv_ctl_el0, CNTV_CTL_ENABLE);
	isb();
	irqs_on();
}

/* The watchdog's period starts again: it fires only for a wait that long. */
static void watchdog_restart(struct vc *c)
{
	write_sysreg(cntv_cval_el0, now() + c->period);
	isb();
}

static void timer_stop(struct vc *c)
{
	irqs_off();
	c->tmode = TM_OFF;
	timer_disarm();
	irqs_on();
}

/* ---- the registers a round covers ------------------------------------------------------- */

/*
 * x19-x28 hold seed, seed + K, seed + 2K, ... (K odd) while the vCPU waits:
 * HOLD_SPIN until CNTVCT reaches the deadline, HOLD_WFI_TIMER in WFI until
 * CNTV_CTL.ISTATUS (masked or not, a pending interrupt ends a WFI), HOLD_WFI
 * one WFI with PSTATE as the caller left it (an interrupt taken there runs the
 * handler, C code that keeps x19-x28 as the procedure call standard says).
 * The expected values are rebuilt from memory afterwards; the result has bit
 * n set if x(19 + n) changed.
 */
enum hold { HOLD_SPIN = 0, HOLD_WFI_TIMER = 1, HOLD_WFI = 2 };

static unsigned hold_gprs(const volatile u64 *seed, enum hold how, u64 deadline)
{
	u64 bad;

	asm volatile("ldr	x19, [%[p]]\n"
		     "movz	x10, #0x7c15\n"
		     "movk	x10, #0x7f4a, lsl #16\n"
		     "movk	x10, #0x79b9, lsl #32\n"
		     "movk	x10, #0x9e37, lsl #48\n"
		     "add	x20, x19, x10\n"
		     "add	x21, x20, x10\n"
		     "add	x22, x21, x10\n"
		     "add	x23, x22, x10\n"
		     "add	x24, x23, x10\n"
		     "add	x25, x24, x10\n"
		     "add	x26, x25, x10\n"
		     "add	x27, x26, x10\n"
		     "add	x28, x27, x10\n"
		     "mov	x10, xzr\n"
		     "cbnz	%[how], 2f\n"
		     "1:	isb\n"
		     "mrs	x11, cntvct_el0\n"
		     "cmp	x11, %[d]\n"
		     "b.lo	1b\n"
		     "b	4f\n"
		     "2:	cmp	%[how], #1\n"
		     "b.ne	3f\n"
		     "5:	wfi\n"
		     "mrs	x11, cntv_ctl_el0\n"
		     "tbz	x11, #2, 5b\n"
		     "b	4f\n"
		     "3:	wfi\n"
		     "4:	ldr	x11, [%[p]]\n"
		     "movz	x10, #0x7c15\n"
		     "movk	x10, #0x7f4a, lsl #16\n"
		     "movk	x10, #0x79b9, lsl #32\n"
		     "movk	x10, #0x9e37, lsl #48\n"
		     "mov	%[bad], xzr\n"
		     ".irp r, 19,20,21,22,23,24,25,26,27,28\n"
		     "cmp	x\\r, x11\n"
		     "cset	x12, ne\n"
		     "orr	%[bad], %[bad], x12, lsl #(\\r - 19)\n"
		     "add	x11, x11, x10\n"
		     ".endr\n"
		     : [bad] "=&r"(bad)
		     : [p] "r"(seed), [how] "r"((u64)how), [d] "r"(deadline)
		     : "x10", "x11", "x12", "x19", "x20", "x21", "x22", "x23", "x24", "x25", "x26", "x27", "x28",
		       "cc", "memory");
	return (unsigned)bad;
}

/* v0-v31 from and to memory, v(i / 2) holding words i and i + 1. The guests are
 * built -mgeneral-regs-only: no C code (handler included) touches a SIMD
 * register between the two. */
static void fp_load(const u64 *p)
{
	asm volatile("ld1	{v0.2d, v1.2d, v2.2d, v3.2d}, [%0], #64\n"
		     "ld1	{v4.2d, v5.2d, v6.2d, v7.2d}, [%0], #64\n"
		     "ld1	{v8.2d, v9.2d, v10.2d, v11.2d}, [%0], #64\n"
		     "ld1	{v12.2d, v13.2d, v14.2d, v15.2d}, [%0], #64\n"
		     "ld1	{v16.2d, v17.2d, v18.2d, v19.2d}, [%0], #64\n"
		     "ld1	{v20.2d, v21.2d, v22.2d, v23.2d}, [%0], #64\n"
		     "ld1	{v24.2d, v25.2d, v26.2d, v27.2d}, [%0], #64\n"
		     "ld1	{v28.2d, v29.2d, v30.2d, v31.2d}, [%0], #64\n"
		     : "+r"(p)::"memory");
}

static void fp_store(u64 *p)
{
	asm volatile("st1	{v0.2d, v1.2d, v2.2d, v3.2d}, [%0], #64\n"
		     "st1	{v4.2d, v5.2d, v6.2d, v7.2d}, [%0], #64\n"
		     "st1	{v8.2d, v9.2d, v10.2d, v11.2d}, [%0], #64\n"
		     "st1	{v12.2d, v13.2d, v14.2d, v15.2d}, [%0], #64\n"
		     "st1	{v16.2d, v17.2d, v18.2d, v19.2d}, [%0], #64\n"
		     "st1	{v20.2d, v21.2d, v22.2d, v23.2d}, [%0], #64\n"
		     "st1	{v24.2d, v25.2d, v26.2d, v27.2d}, [%0], #64\n"
		     "st1	{v28.2d, v29.2d, v30.2d, v31.2d}, [%0], #64\n"
		     : "+r"(p)::"memory");
}

/*
 * The system registers a switch must carry, each written with a pattern and
 * read back after the wait. What each one keeps of a write is measured once at
 * boot (regs_discover: all ones, all zeros), so a bit the CPU does not
 * implement is not mistaken for one the hypervisor lost.
 */
#define CTX_REGS(X)                                                                              \
	X(TPIDR_EL0, tpidr_el0)                                                                  \
	X(TPIDRRO_EL0, tpidrro_el0)                                                              \
	X(CONTEXTIDR_EL1, contextidr_el1)                                                        \
	X(SP_EL0, sp_el0)                                                                        \
	X(PAR_EL1, par_el1)                                                                      \
	X(CNTKCTL_EL1, cntkctl_el1)                                                              \
	X(MAIR_EL1, mair_el1)                                                                    \
	X(AMAIR_EL1, amair_el1)                                                                  \
	X(ELR_EL1, elr_el1)                                                                      \
	X(SPSR_EL1, spsr_el1)                                                                    \
	X(ESR_EL1, esr_el1)                                                                      \
	X(FAR_EL1, far_el1)                                                                      \
	X(FPCR, fpcr)                                                                            \
	X(FPSR, fpsr)
#define KEY_REGS(X)                                                                              \
	X(APIAKEYLO_EL1, S3_0_C2_C1_0)                                                           \
	X(APIAKEYHI_EL1, S3_0_C2_C1_1)                                                           \
	X(APIBKEYLO_EL1, S3_0_C2_C1_2)                                                           \
	X(APIBKEYHI_EL1, S3_0_C2_C1_3)                                                           \
	X(APDAKEYLO_EL1, S3_0_C2_C2_0)                                                           \
	X(APDAKEYHI_EL1, S3_0_C2_C2_1)                                                           \
	X(APDBKEYLO_EL1, S3_0_C2_C2_2)                                                           \
	X(APDBKEYHI_EL1, S3_0_C2_C2_3)                                                           \
	X(APGAKEYLO_EL1, S3_0_C2_C3_0)                                                           \
	X(APGAKEYHI_EL1, S3_0_C2_C3_1)

#define REG_ENUM(name, enc) R_##name,
enum { CTX_REGS(REG_ENUM) KEY_REGS(REG_ENUM) R_COUNT };
#define R_KEYS R_APIAKEYLO_EL1
#define REG_RW(name, enc)                                                                        \
	static u64 rd_##name(void) { return read_sysreg(enc); }                                  \
	static void wr_##name(u64 v) { write_sysreg(enc, v); }
CTX_REGS(REG_RW)
KEY_REGS(REG_RW)
#define REG_DESC(name, enc) { #name, rd_##name, wr_##name },
static const struct ctx_reg {
	const char *name;
	u64 (*rd)(void);
	void (*wr)(u64);
} ctx_regs[R_COUNT] = { CTX_REGS(REG_DESC) KEY_REGS(REG_DESC) };
static u64 reg_writable[R_COUNT], reg_fixed[R_COUNT];

/* With everything masked, on vCPU 0 before any round. */
static void regs_discover(void)
{
	unsigned n = pauth_addr ? R_COUNT : R_KEYS;

	for (unsigned i = 0; i < n; i++) {
		ctx_regs[i].wr(~0ul);
		isb();
		u64 ones = ctx_regs[i].rd();
		ctx_regs[i].wr(0);
		isb();
		u64 zeros = ctx_regs[i].rd();
		reg_writable[i] = ones & ~zeros;
		reg_fixed[i] = ones & zeros;
	}
}

/* MAIR_EL1 keeps attributes 0 (Device-nGnRE) and 1 (Normal write-back), which
 * check 8's tables use; the other six get valid encodings from the pattern. */
static u64 mair_pattern(u64 p)
{
	static const u8 attrs[8] = { 0x00, 0x04, 0x08, 0x0c, 0x44, 0xff, 0xbb, 0xaa };
	u64 v = 0xff04;

	for (unsigned i = 2; i < 8; i++)
		v |= (u64)attrs[(p >> (3 * i)) & 7] << (8 * i);
	return v;
}

static u64 reg_want(unsigned i, u64 p)
{
	if (i == R_MAIR_EL1)
		p = mair_pattern(p);
	return (p & reg_writable[i]) | reg_fixed[i];
}

/* PACIA/PACIB/PACDA/PACDB of one pointer and PACGA of one value, with the keys
 * the round wrote: the results depend on them (pauth_selftest shows it). */
enum { PAC_IA, PAC_IB, PAC_DA, PAC_DB, PAC_GA, PAC_COUNT };
static const char *const pac_names[PAC_COUNT] = { "PACIA", "PACIB", "PACDA", "PACDB", "PACGA" };

static void pac_compute(u64 seed, u64 out[PAC_COUNT])
{
	u64 ptr = RAM_BASE + (seed & 0xffff0), mod = seed;
	u64 ia = ptr, ib = ptr, da = ptr, db = ptr, ga = 0;

	if (pauth_addr)
		asm volatile(".arch_extension pauth\n"
			     "pacia	%0, %4\n"
			     "pacib	%1, %4\n"
			     "pacda	%2, %4\n"
			     "pacdb	%3, %4\n"
			     : "+r"(ia), "+r"(ib), "+r"(da), "+r"(db)
			     : "r"(mod));
	if (pauth_generic)
		asm volatile(".arch_extension pauth\n"
			     "pacga	%0, %1, %2\n"
			     : "=r"(ga)
			     : "r"(ptr), "r"(mod));
	out[PAC_IA] = ia;
	out[PAC_IB] = ib;
	out[PAC_DA] = da;
	out[PAC_DB] = db;
	out[PAC_GA] = ga;
}

/* ---- check 8's stage 1: one VA, a page of its own per vCPU ----------------------------------- */

/*
 * Every vCPU runs on tables of its own with the same layout: the first 4 GiB
 * identity-mapped as lib/mmu.c does (GiB 0 device, the rest normal memory),
 * and two 4 KiB pages at TLB_VA: data holding the vCPU's marker, and code
 * returning it (movz x0, #marker; ret). Same ASID (0), same TCR_EL1, SCTLR_EL1
 * and MAIR_EL1 attributes 0-1 on every vCPU: nothing tells one vCPU's
 * translations from another's but the tables, which is what a TLB entry
 * tagged with the guest's VMID does not see. The pages are global (nG = 0):
 * a global entry matches whatever the ASID, so a hypervisor cleaning only by
 * ASID on a switch (TLBI ASIDE1) would still leak it; nG = 1 with the shared
 * ASID 0 leaks only to a hypervisor that cleans nothing. KVM's answer, TLBI
 * VMALLE1 and IC IALLU when another vCPU last ran on that pCPU, removes both.
 *
 * The guest never cleans its TLB after its own setup, so a translation that
 * survives a switch is seen: vCPU A reads V and runs V + 4K, the hypervisor
 * switches its pCPU to vCPU B, B does the same within its round and must find
 * its own marker. Under QEMU TCG this is real: a QEMU CPU's softmmu TLB
 * caches VA -> PA per regime and is flushed only by a TLBI, or as a side effect
 * of a write QEMU 7.2 treats as a possible ASID or regime change: any write of
 * TCR_EL1, SCTLR_EL1 with a new value, TTBR0/1_EL1 with a new ASID, VTTBR_EL2
 * with a new value. A TTBR0_EL1 write that changes only the table address does
 * not flush it (tlb_selftest shows it on vCPU 0), so a hypervisor whose switch
 * restores TTBR0_EL1 but not TCR_EL1 (or only what differs) and forgets the
 * TLBI leaks A's entry to B. Instruction fetch goes through the same TLB and
 * through the per-CPU cache of translated blocks by virtual PC, cleared with
 * it: B would run A's code and return A's marker.
 */
#define TLB_VA 0x1000000000ul /* L1 index 64: outside the identity map */
#define TLB_CODE_VA (TLB_VA + SZ_4K)
#define TLB_DATA_MARK(id) (0x5ced000000000dd0ul | (u64)(id))
#define TLB_CODE_MARK(id) (0xc0d0u | (id))
#define INSN_MOVZ_X0(imm) (0xd2800000u | (u32)(imm) << 5)
#define INSN_RET 0xd65f03c0u

struct tlb_tables {
	u64 l1[512], l2[512], l3[512];
	u64 data[512];
	u32 code[1024];
} __attribute__((aligned(4096)));
static struct tlb_tables tlb_tables[MAX_CPUS];

static void tlb_build(unsigned id)
{
	struct tlb_tables *t = &tlb_tables[id];

	mmu_identity_4g(t->l1);
	t->l1[TLB_VA / SZ_1G] = (u64)t->l2 | DESC_TABLE;
	t->l2[0] = (u64)t->l3 | DESC_TABLE;
	t->l3[0] = (u64)t->data | DESC_PAGE | ATTR_NORMAL | DESC_AF | DESC_SH_INNER | DESC_PXN | DESC_UXN;
	t->l3[1] = (u64)t->code | DESC_PAGE | ATTR_NORMAL | DESC_AF | DESC_SH_INNER | DESC_UXN;
	t->data[0] = TLB_DATA_MARK(id);
	t->code[0] = INSN_MOVZ_X0(TLB_CODE_MARK(id));
	t->code[1] = INSN_RET;
	asm volatile("dc cvau, %0; dsb ish; ic iallu; dsb ish; isb" ::"r"(t->code) : "memory");
}

static u64 tlb_read_data(void)
{
	return *(volatile u64 *)TLB_VA;
}

static u64 tlb_run_code(void)
{
	return ((u64(*)(void))TLB_CODE_VA)();
}

/* This vCPU's stage 1 on, its TLB cleaned once: setup, before any round looks. */
static void tlb_mmu_on(struct vc *c)
{
	mmu_enable_tables(tlb_tables[c->id].l1);
	c->mmu = true;
}

static void tlb_probe(struct vc *c)
{
	if (!c->mmu)
		return;
	u64 d = tlb_read_data(), k = tlb_run_code();
	c->tlb_reads++;
	if (d != TLB_DATA_MARK(c->id))
		err_note(c, ERR_TLB_DATA, "marker", (unsigned)(d & 0xff), d, TLB_DATA_MARK(c->id));
	if (k != TLB_CODE_MARK(c->id))
		err_note(c, ERR_TLB_CODE, "marker", (unsigned)(k & 0xff), k, TLB_CODE_MARK(c->id));
}

/* ---- one worker round ------------------------------------------------------------------------ */

/*
 * Everything masked (DAIF) from the first write to the last compare, so no
 * exception of the guest's own touches ELR/SPSR/ESR/FAR_EL1 in between: what
 * changes them is the hypervisor. how/ticks: the wait (hold_gprs); a
 * HOLD_WFI_TIMER round arms the virtual timer ticks ahead, and is for phases
 * that do not use the timer otherwise.
 */
static void worker_round(struct vc *c, enum hold how, u64 ticks)
{
	u64 it = c->iter++, want[R_COUNT], pac0[PAC_COUNT], pac1[PAC_COUNT], daif = read_sysreg(daif);
	unsigned n = pauth_addr ? R_COUNT : R_KEYS, table = c->id * 2 + (it & 1);
	u64 tpidr1 = pattern(c->id, it, 99) << 32 | c->id; /* cpu_index() is its low half */
	u64 cval = 0;

	asm volatile("msr daifset, #0xf" ::: "memory");
	if (it == 0 && pauth_addr)
		c->key_first = rd_APIAKEYLO_EL1();
	c->seed = pattern(c->id, it, 0);
	for (unsigned i = 0; i < n; i++) {
		want[i] = reg_want(i, pattern(c->id, it, 1 + i));
		ctx_regs[i].wr(want[i]);
	}
	write_sysreg(tpidr_el1, tpidr1);
	c->table = table;
	write_sysreg(vbar_el1, vector_table(table));
	isb();
	for (unsigned i = 0; i < 64; i++)
		c->fp_want[i] = pattern(c->id, it, 100 + i);
	fp_load(c->fp_want);
	pac_compute(c->seed, pac0);
	tlb_probe(c);

	if (how == HOLD_WFI_TIMER) {
		timer_arm_ticks(ticks);
		cval = read_sysreg(cntv_cval_el0);
	}
	unsigned bad = hold_gprs(&c->seed, how, how == HOLD_SPIN ? now() + ticks : 0);
	if (how == HOLD_WFI_TIMER) {
		u64 cval_after = read_sysreg(cntv_cval_el0);
		if (cval_after != cval)
			err_note(c, ERR_SYS, "CNTV_CVAL_EL0", 0, cval_after, cval);
		timer_disarm();
		c->wfi_rounds++;
	}
	if (bad) {
		unsigned r = __builtin_ctz(bad);
		err_note(c, ERR_GPR, "x", 19 + r, bad, 0); /* got: the mask of changed registers */
	}

	tlb_probe(c);
	fp_store(c->fp_got);
	for (unsigned i = 0; i < 64; i++)
		if (c->fp_got[i] != c->fp_want[i]) {
			err_note(c, ERR_FP, "v", i / 2, c->fp_got[i], c->fp_want[i]);
			break;
		}
	for (unsigned i = 0; i < n; i++) {
		u64 got = ctx_regs[i].rd();
		if (got != want[i])
			err_note(c, i >= R_KEYS ? ERR_PAC : i >= R_FPCR ? ERR_FP : ERR_SYS, ctx_regs[i].name, 0,
				 got, want[i]);
	}
	u64 got = read_sysreg(tpidr_el1);
	if (got != tpidr1)
		err_note(c, ERR_SYS, "TPIDR_EL1", 0, got, tpidr1);
	got = read_sysreg(vbar_el1);
	if (got != vector_table(table))
		err_note(c, ERR_SYS, "VBAR_EL1", 0, got, vector_table(table));
	pac_compute(c->seed, pac1);
	for (unsigned i = 0; i < PAC_COUNT; i++)
		if (pac1[i] != pac0[i])
			err_note(c, ERR_PAC, pac_names[i], 0, pac1[i], pac0[i]);

	write_sysreg(daif, daif);
	isb();
	__atomic_store_n(&c->rounds, c->rounds + 1, __ATOMIC_RELEASE);
}

/* Rounds until the deadline, every other one waiting in WFI when timer_free. */
static void work_until(struct vc *c, u64 deadline, bool timer_free)
{
	for (unsigned k = 0; now() < deadline; k++)
		worker_round(c, timer_free && (k & 1) ? HOLD_WFI_TIMER : HOLD_SPIN, us_ticks(ROUND_US));
}

/* One WFI with x19-x28 held, PSTATE as the caller left it. */
static void wfi_held(struct vc *c)
{
	c->seed = pattern(c->id, c->iter++, 0);
	unsigned bad = hold_gprs(&c->seed, HOLD_WFI, 0);
	if (bad)
		err_note(c, ERR_GPR, "x", 19 + __builtin_ctz(bad), bad, 0);
}

/* Wait in WFI for cond, masked between the look and the WFI so no wake-up is
 * lost (the interrupt is taken once unmasked); the timer, if armed, ends the
 * WFIs that nothing else ends. Whether cond came before the deadline. */
#define WAIT_IN_WFI(c, cond, deadline)                                                           \
	({                                                                                       \
		bool ok_;                                                                        \
		irqs_off();                                                                      \
		while (!(ok_ = (cond)) && now() < (deadline)) {                                 \
			wfi_held(c);                                                             \
			irqs_on();                                                               \
			isb();                                                                   \
			irqs_off();                                                              \
		}                                                                                \
		irqs_on();                                                                       \
		ok_;                                                                             \
	})

/* ---- the phases ------------------------------------------------------------------------------- */

/*
 * vCPU 0 starts a phase by bumping phase_seq; every vCPU runs the phase's
 * function (the check's, one function per check, each vCPU its role in it) and
 * reports done_seq; vCPU 0 waits for all, running rounds meanwhile.
 */
typedef void (*phase_fn)(struct vc *c);
static volatile phase_fn phase_current;
static volatile unsigned phase_seq;
static volatile bool phase_over; /* vCPU 0's part is done: the others stop theirs */
static volatile u64 phase_end;

static void serve(struct vc *c, unsigned seen)
{
	for (;;) {
		unsigned seq = __atomic_load_n(&phase_seq, __ATOMIC_ACQUIRE);
		if (seq == seen) {
			worker_round(c, HOLD_SPIN, us_ticks(ROUND_US / 2));
			continue;
		}
		seen = seq;
		phase_current(c);
		__atomic_store_n(&c->done_seq, seq, __ATOMIC_RELEASE);
	}
}

static bool alive(unsigned i)
{
	return i < ncpus && !vcs[i].dead;
}

static void phase_run(const char *name, phase_fn fn, u64 limit)
{
	struct vc *c0 = &vcs[0];
	unsigned seq = phase_seq + 1;
	u64 t0 = now();

	phase_over = false;
	phase_current = fn;
	__atomic_store_n(&phase_seq, seq, __ATOMIC_RELEASE);
	fn(c0);
	phase_over = true;
	u64 deadline = now() + limit;
	for (unsigned i = 1; i < ncpus; i++) {
		if (!alive(i))
			continue;
		while (__atomic_load_n(&vcs[i].done_seq, __ATOMIC_ACQUIRE) != seq && now() < deadline)
			worker_round(c0, HOLD_SPIN, us_ticks(ROUND_US / 2));
		if (vcs[i].done_seq != seq) {
			check(false, "%s: vCPU %u finished its part", name, i);
			vcs[i].dead = true;
		}
	}
	gprintf("sched: %s took %lu ms\n", name, ticks_ms(now() - t0));
}

/* Each vCPU's error counts when a check began, for the verdicts of its window. */
static u64 err_base[MAX_CPUS][ERR_KINDS];

static void err_mark(void)
{
	for (unsigned i = 0; i < ncpus; i++)
		for (unsigned k = 0; k < ERR_KINDS; k++)
			err_base[i][k] = vcs[i].err[k].count;
}

/* One verdict per kind of state, over every vCPU, since err_mark (or the boot). */
static void err_verdict(enum err_kind k, bool since_mark, const char *what)
{
	u64 total = 0;
	unsigned first = ncpus;

	for (unsigned i = 0; i < ncpus; i++) {
		u64 n = vcs[i].err[k].count - (since_mark ? err_base[i][k] : 0);
		if (n && first == ncpus)
			first = i;
		total += n;
	}
	if (!total) {
		check(true, "%s", what);
		return;
	}
	const struct err *e = &vcs[first].err[k];
	char first_one[100];
	if (k == ERR_GPR)
		snprintf(first_one, sizeof(first_one), "x%u changed (x19-x28 mask %#lx)", e->index, e->got);
	else if (k == ERR_VBAR)
		snprintf(first_one, sizeof(first_one), "an IRQ came through table %u, VBAR_EL1 named %lu", e->index, e->want);
	else if (k == ERR_FP && !strcmp(e->what, "v"))
		snprintf(first_one, sizeof(first_one), "v%u read %#lx, want %#lx", e->index, e->got, e->want);
	else
		snprintf(first_one, sizeof(first_one), "%s read %#lx, want %#lx", e->what, e->got, e->want);
	check(false, "%s: %lu wrong; first vCPU %u, round %lu: %s", what, total, first, e->round, first_one);
}

/* ---- check 1: bring-up ----------------------------------------------------------------------- */

static void cpu_setup(struct vc *c)
{
	c->mpidr = read_sysreg(mpidr_el1);
	c->table = c->id * 2;
	write_sysreg(vbar_el1, vector_table(c->table));
	if (pauth_addr)
		write_sysreg(sctlr_el1, read_sysreg(sctlr_el1) | SCTLR_EN_PAC);
	isb();
	gic_setup_cpu();
	irqs_on();
}

void secondary_main(unsigned index)
{
	struct vc *c = &vcs[index];

	cpu_setup(c);
	__atomic_store_n(&c->arrived, true, __ATOMIC_RELEASE);
	serve(c, 0);
}

static void bring_up(u64 dtb)
{
	u64 self = read_sysreg(mpidr_el1) & MPIDR_AFF_MASK;
	bool found;

	ncpus = fdt_cpus_self_first(dtb, cpu_mpidr, MAX_CPUS, &found);
	check(found && ncpus == NCPUS_WANTED, "bring-up: the device tree names %u CPUs (want %u), this one (%#lx) among them",
	      ncpus, NCPUS_WANTED, self);
	for (unsigned i = 1; i < ncpus; i++) {
		vcs[i].id = i;
		u64 r = psci_call(PSCI_CPU_ON64, cpu_mpidr[i], (u64)secondary_entry, i);
		u64 deadline = now() + us_ticks(2000000);
		while (r == 0 && !__atomic_load_n(&vcs[i].arrived, __ATOMIC_ACQUIRE) && now() < deadline)
			asm volatile("yield");
		/* It runs rounds of its own from the moment it is up. */
		u64 r0 = vcs[i].rounds;
		while (vcs[i].arrived && vcs[i].rounds < r0 + 3 && now() < deadline)
			worker_round(&vcs[0], HOLD_SPIN, us_ticks(ROUND_US / 2));
		u64 aff = psci_call(PSCI_AFFINITY_INFO64, cpu_mpidr[i], 0, 0);
		bool up = r == 0 && vcs[i].arrived && vcs[i].rounds >= r0 + 3;
		check(up && aff == AFF_ON && (vcs[i].mpidr & MPIDR_AFF_MASK) == cpu_mpidr[i],
		      "bring-up: vCPU %u (%#lx): CPU_ON returned %ld, it runs (its counter went %lu -> %lu) with MPIDR %#lx, AFFINITY_INFO %lu (ON)",
		      i, cpu_mpidr[i], (long)r, r0, vcs[i].rounds, vcs[i].mpidr, aff);
		if (!up)
			vcs[i].dead = true;
	}
	check_eq(psci_call(PSCI_AFFINITY_INFO64, self, 0, 0), AFF_ON, "bring-up: AFFINITY_INFO of vCPU 0 says ON");
}

/* ---- check 8: stale translations (its setup; the probes run in every round) -------------------- */

static void tlb_phase(struct vc *c)
{
	if (!c->mmu)
		tlb_mmu_on(c);
}

/*
 * On vCPU 0, before the others turn their MMU on: what this TLB does when
 * TTBR0_EL1 moves to vCPU 1's tables with the ASID kept, as a hypervisor's
 * switch without TLBI would leave it. Architecturally either answer is
 * allowed; it says whether check 8 can see a leak on this machine.
 */
static void tlb_selftest(void)
{
	u64 d0 = tlb_read_data(), k0 = tlb_run_code();

	write_sysreg(ttbr0_el1, (u64)tlb_tables[1].l1);
	isb();
	u64 d1 = tlb_read_data(), k1 = tlb_run_code();
	write_sysreg(tcr_el1, TCR_VALUE);
	isb();
	u64 d2 = tlb_read_data(), k2 = tlb_run_code();
	write_sysreg(ttbr0_el1, (u64)tlb_tables[0].l1);
	isb();
	asm volatile("tlbi vmalle1; dsb nsh; ic iallu; dsb nsh; isb" ::: "memory");
	u64 d3 = tlb_read_data(), k3 = tlb_run_code();

	check(d0 == TLB_DATA_MARK(0) && k0 == TLB_CODE_MARK(0) && d3 == TLB_DATA_MARK(0) && k3 == TLB_CODE_MARK(0),
	      "stale TLB: vCPU 0 reads its own marker at V (%#lx) and its code there returns its own (%#lx)", d0, k0);
	gprintf("sched: TLB on vCPU 0: TTBR0_EL1 moved to vCPU 1's tables, same ASID, no TLBI: V reads %s (%#lx), its code returns %s (%#lx)\n",
		d1 == d0 ? "vCPU 0's (stale)" : "vCPU 1's", d1, k1 == k0 ? "vCPU 0's (stale)" : "vCPU 1's", k1);
	gprintf("sched: TLB on vCPU 0: then a write of TCR_EL1 (same value): V reads %s, its code returns %s\n",
		d2 == d0 ? "vCPU 0's (stale)" : "vCPU 1's", k2 == k0 ? "vCPU 0's (stale)" : "vCPU 1's");
	if (d1 == d0 && k1 == k0)
		gprintf("sched: so a switch that restores TTBR0_EL1 without TLBI leaks; check 8 can see it%s\n",
			d2 == d0 ? "" : " unless the switch also writes TCR_EL1 (that flushes here)");
	else
		gprintf("sched: this TLB does not keep the translation across the TTBR0_EL1 change: check 8 cannot see a leak here\n");
}

static void tlb_verdicts(bool since_mark)
{
	for (unsigned i = 0; i < ncpus; i++) {
		struct vc *c = &vcs[i];
		u64 bd = c->err[ERR_TLB_DATA].count - (since_mark ? err_base[i][ERR_TLB_DATA] : 0);
		u64 bk = c->err[ERR_TLB_CODE].count - (since_mark ? err_base[i][ERR_TLB_CODE] : 0);
		if (!bd && !bk)
			check(c->tlb_reads > 0, "stale TLB: vCPU %u read its own marker at V and ran its own code at V + 4K in all %lu probes so far",
			      i, c->tlb_reads);
		else
			check(false, "stale TLB: vCPU %u saw another vCPU's page: %lu data and %lu code probes, the first read %#lx",
			      i, bd, bk, bd ? c->err[ERR_TLB_DATA].got : c->err[ERR_TLB_CODE].got);
	}
}

/* ---- check 2: context integrity --------------------------------------------------------------- */

static u64 phase_rounds0[MAX_CPUS], phase_wfi0[MAX_CPUS];

static void context_phase(struct vc *c)
{
	phase_rounds0[c->id] = c->rounds;
	phase_wfi0[c->id] = c->wfi_rounds;
	work_until(c, phase_end, true);
}

static void context_check(void)
{
	err_mark();
	phase_end = now() + scaled_ms(CONTEXT_MS);
	phase_run("context", context_phase, scaled_ms(CONTEXT_MS) + us_ticks(5000000));
	/* At least a tenth of what a vCPU alone would run. */
	u64 min = scaled(CONTEXT_MS) * 1000 / ROUND_US / 10;
	for (unsigned i = 0; i < ncpus; i++) {
		u64 r = vcs[i].rounds - phase_rounds0[i], w = vcs[i].wfi_rounds - phase_wfi0[i];
		check(alive(i) && r >= min && w >= min / 2,
		      "context: vCPU %u ran %lu rounds in %lu ms, %lu of them across a WFI (want >= %lu and %lu)", i, r,
		      scaled(CONTEXT_MS), w, min, min / 2);
	}
	err_verdict(ERR_GPR, true, "context: x19-x28 survive every spin and WFI of every vCPU");
	err_verdict(ERR_FP, true, "context: v0-v31, FPCR and FPSR survive on every vCPU");
	err_verdict(ERR_SYS, true, "context: the system registers (listed at the start) survive on every vCPU");
	if (pauth_addr || pauth_generic)
		err_verdict(ERR_PAC, true, "context: the PAuth keys and PACIA/PACIB/PACDA/PACDB/PACGA's results survive on every vCPU");
	else
		skip("context: PAuth keys: ID_AA64ISAR1/2_EL1 say this CPU has no pointer authentication");
	/* A vCPU reads its own keys before it first writes them: 0, as its CPU_ON
	 * left them (QEMU's and trapvisor's), never the keys vCPU 0 had set and
	 * left in their pCPU (trapvisor switches keys lazily: context.c). */
	for (unsigned i = 1; i < ncpus && pauth_addr; i++)
		check(alive(i) && vcs[i].key_first == 0,
		      "context: vCPU %u's APIAKEYLO_EL1 before its first write reads %#lx, want 0 (vCPU 0's was %#lx)", i,
		      vcs[i].key_first, vcs[0].key_first);
	tlb_verdicts(true);
}

/* ---- check 3: idle ---------------------------------------------------------------------------- */

static u64 idle_busy_rounds, all_busy_rounds;

/* The reference: every vCPU busy, vCPU 0 counting its rounds. */
static void all_busy_phase(struct vc *c)
{
	u64 r0 = c->rounds;

	while (now() < phase_end)
		worker_round(c, HOLD_SPIN, us_ticks(ROUND_US));
	if (c->id == 0)
		all_busy_rounds = c->rounds - r0;
}

/* The idle loop until phase_end: interrupts unmasked, WFI, the virtual timer every TICK_US. */
static void idle_on_timer(struct vc *c)
{
	u64 t0 = now();

	c->idle_wfis = 0;
	timer_periodic(c, us_ticks(TICK_US), ~0ul);
	while (now() < phase_end) {
		wfi_held(c);
		c->idle_wfis++;
	}
	timer_stop(c);
	c->took = now() - t0;
}

static void idle_phase(struct vc *c)
{
	if (c->id == 0) { /* the busy one */
		u64 r0 = c->rounds;
		while (now() < phase_end)
			worker_round(c, HOLD_SPIN, us_ticks(ROUND_US));
		idle_busy_rounds = c->rounds - r0;
		return;
	}
	idle_on_timer(c);
}

/*
 * How much of its pCPU busy vCPU 0 gets while the others idle is compared with
 * what it gets while they are all busy, in the window just before: host load
 * (CI runs this on 2 busy host cores) slows both alike. Told it shares a pCPU
 * with at least one other vCPU (sched.pcpus=N, N <= vCPUs / 2, the placement
 * balanced), it must get at least 1.5 times as much: a hypervisor that switches
 * at a WFI gives it ~2x on 2 pCPUs and ~4x on 1, one that kept the pCPU for the
 * idler's slice would give it 1x. With no sharing (bare QEMU, one vCPU per
 * pCPU) the ratio only says how many host cores QEMU had; then it must only
 * make progress.
 */
static void idle_check(void)
{
	u64 ms = scaled(IDLE_MS), ideal = ms * 1000 / ROUND_US;

	phase_end = now() + scaled_ms(IDLE_MS) / 2;
	phase_run("all busy", all_busy_phase, scaled_ms(IDLE_MS) + us_ticks(5000000));
	phase_end = now() + scaled_ms(IDLE_MS);
	phase_run("idle", idle_phase, scaled_ms(IDLE_MS) + us_ticks(5000000));
	/* An idler must tick at least once per 40 ms (4 vCPUs on a pCPU with 10 ms
	 * slices), and at most once per period. */
	for (unsigned i = 1; i < ncpus; i++) {
		struct vc *c = &vcs[i];
		u64 most = c->took / us_ticks(TICK_US) + 1; /* the last ones may come after phase_end */
		check(alive(i) && c->ticks >= ms / 40 && c->ticks <= most && c->tick_early == 0 && c->idle_wfis >= ms / 40,
		      "idle: vCPU %u idling in WFI took %lu timer ticks in %lu ms (want %lu..%lu) over %lu WFIs, early %lu",
		      i, c->ticks, ticks_ms(c->took), ms / 40, most, c->idle_wfis, c->tick_early);
	}
	u64 ratio10 = all_busy_rounds ? idle_busy_rounds * 10 / (2 * all_busy_rounds) : 0; /* the reference was half as long */
	bool shared = pcpus && ncpus >= 2 * pcpus;
	check(idle_busy_rounds >= ideal / 10 && (!shared || ratio10 >= 15),
	      "idle: busy vCPU 0 ran %lu rounds of %u us meanwhile, %lu%% of a pCPU, %lu.%lu times its rate with all busy (want >= 10%%%s)",
	      idle_busy_rounds, ROUND_US, idle_busy_rounds * 100 / ideal, ratio10 / 10, ratio10 % 10,
	      shared ? " and 1.5 times: it shares a pCPU" : "");
}

/*
 * Check 3b: the vCPUs of a pCPU need not enable the same private interrupts.
 * vCPUs 2 and 3 disable their virtual timer's PPI 27 and spin; vCPUs 0 and 1
 * idle on their timer as in check 3. With 4 vCPUs on 2 pCPUs or on 1, each
 * idler shares its pCPU with a spinner, so the redistributor's enables must
 * change at every switch between them (trapvisor writes them at a load only
 * when they differ from the last loaded vCPU's: vgic.c).
 */
#define PPI_VTIMER 27

static void ppi_enables_phase(struct vc *c)
{
	u64 sgi = GICR_BASE + cpu_index() * GICR_STRIDE + GICR_SGI;

	if (c->id >= 2) {
		wr32(sgi + GICR_ICENABLER0, 1u << PPI_VTIMER);
		while (now() < phase_end)
			worker_round(c, HOLD_SPIN, us_ticks(ROUND_US));
		wr32(sgi + GICR_ISENABLER0, 1u << PPI_VTIMER);
		return;
	}
	idle_on_timer(c);
}

static void ppi_enables_check(void)
{
	u64 ms = scaled(IDLE_MS);

	if (ncpus < 4) {
		skip("PPI enables: fewer than 4 vCPUs");
		return;
	}
	phase_end = now() + scaled_ms(IDLE_MS);
	phase_run("PPI enables", ppi_enables_phase, scaled_ms(IDLE_MS) + us_ticks(5000000));
	for (unsigned i = 0; i < 2; i++) {
		struct vc *c = &vcs[i];
		u64 most = c->took / us_ticks(TICK_US) + 1;
		check(alive(i) && c->ticks >= ms / 40 && c->ticks <= most && c->tick_early == 0,
		      "PPI enables: vCPU %u idling on its timer took %lu ticks in %lu ms (want %lu..%lu, early %lu) while vCPU %u, its pCPU's other vCPU with 4 on 2, had INTID 27 disabled",
		      i, c->ticks, ms, ms / 40, most, c->tick_early, i + 2);
	}
}

/* ---- check 4: time slices --------------------------------------------------------------------- */

#define SPINNER 1
static volatile bool spinning, spin_done;
static u64 spin_before[MAX_CPUS], spin_after[MAX_CPUS], spin_took;

static void slice_phase(struct vc *c)
{
	if (c->id != SPINNER) { /* busy too, never waiting, until the spinner is done */
		while (!spin_done && now() < phase_end)
			worker_round(c, HOLD_SPIN, us_ticks(ROUND_US));
		return;
	}
	/* One round whose wait is the whole spin, DAIF all set; the others'
	 * counters are read on both sides of it, the flag still up. */
	spinning = true;
	for (unsigned i = 0; i < ncpus; i++)
		spin_before[i] = vcs[i].rounds;
	u64 t0 = now();
	worker_round(c, HOLD_SPIN, scaled_ms(SPIN_MS));
	spin_took = now() - t0;
	for (unsigned i = 0; i < ncpus; i++)
		spin_after[i] = vcs[i].rounds;
	spinning = false;
	spin_done = true;
}

static void slice_check(void)
{
	if (!alive(SPINNER))
		return;
	spin_done = false;
	phase_end = now() + scaled_ms(SPIN_MS) + us_ticks(10000000); /* in case the spinner never ends */
	phase_run("time slices", slice_phase, scaled_ms(SPIN_MS) + us_ticks(10000000));
	for (unsigned i = 0; i < ncpus; i++) {
		if (i == SPINNER)
			continue;
		u64 d = spin_after[i] - spin_before[i];
		check(alive(i) && d >= 10,
		      "time slices: vCPU %u ran %lu rounds while vCPU %u spun %lu ms with DAIF masked (want >= 10)", i, d,
		      SPINNER, ticks_ms(spin_took));
	}
}

/* ---- check 5: SGIs ------------------------------------------------------------------------------ */

static volatile bool hello_failed;
static u64 hello_took;

/* Every other vCPU has reached round r of what (waiting for its SGI, or seen it). */
static bool all_reached(size_t what, u64 r)
{
	for (unsigned t = 1; t < ncpus; t++)
		if (alive(t) && __atomic_load_n((volatile u64 *)((char *)&vcs[t] + what), __ATOMIC_ACQUIRE) < r)
			return false;
	return true;
}

static void hello_phase(struct vc *c)
{
	u64 rounds = scaled(HELLO_ROUNDS), deadline = now() + scaled_ms(200 * HELLO_ROUNDS);

	if (c->id != 0) {
		timer_watchdog(c, us_ticks(WATCHDOG_MS * 1000));
		for (u64 r = 1; r <= rounds && !hello_failed; r++) {
			__atomic_store_n(&c->waiting_round, r, __ATOMIC_RELEASE);
			watchdog_restart(c);
			if (!WAIT_IN_WFI(c, c->sgis[SGI_HELLO] >= r || hello_failed, deadline))
				break;
			__atomic_store_n(&c->hello_seen, r, __ATOMIC_RELEASE);
			sgi_send(0, SGI_ACK); /* a doorbell: SGIs from several vCPUs at once are one pending SGI */
			worker_round(c, HOLD_SPIN, 0);
		}
		timer_stop(c);
		return;
	}
	/* vCPU 0: each round, once every other vCPU is back in its WFI, one SGI to each. */
	u64 t0 = now();
	timer_watchdog(c, us_ticks(1000));
	for (u64 r = 1; r <= rounds && !hello_failed; r++) {
		bool ready = WAIT_IN_WFI(c, all_reached(offsetof(struct vc, waiting_round), r), deadline);
		for (unsigned t = 1; t < ncpus; t++)
			if (alive(t))
				sgi_send(t, SGI_HELLO);
		if (!ready || !WAIT_IN_WFI(c, all_reached(offsetof(struct vc, hello_seen), r), deadline))
			hello_failed = true;
		worker_round(c, HOLD_SPIN, 0);
	}
	hello_took = now() - t0;
	timer_stop(c);
}

static u64 ping_took[MAX_CPUS];

static void ping_phase(struct vc *c)
{
	unsigned peer = c->id ^ 1;
	u64 rounds = scaled(PING_ROUNDS), deadline = now() + scaled_ms(10 * PING_ROUNDS), t0 = now();

	if (!alive(peer))
		return;
	/* The counts were cleared (sgi_reset); both sides in before the first ping. */
	__atomic_store_n(&c->waiting_round, 1, __ATOMIC_RELEASE);
	while (__atomic_load_n(&vcs[peer].waiting_round, __ATOMIC_ACQUIRE) < 1 && now() < deadline)
		worker_round(c, HOLD_SPIN, 0);
	timer_watchdog(c, us_ticks(WATCHDOG_MS * 1000));
	for (u64 r = 1; r <= rounds; r++) {
		watchdog_restart(c);
		if (c->id < peer)
			sgi_send(peer, SGI_PING);
		if (!WAIT_IN_WFI(c, c->sgis[SGI_PING] >= r, deadline))
			break;
		if (c->id > peer)
			sgi_send(peer, SGI_PING);
		worker_round(c, HOLD_SPIN, 0);
	}
	ping_took[c->id] = now() - t0;
	timer_stop(c);
}

/* Between phases, when no SGI is in flight. */
static void sgi_reset(void)
{
	for (unsigned i = 0; i < ncpus; i++) {
		memset((void *)vcs[i].sgis, 0, sizeof(vcs[i].sgis));
		vcs[i].waiting_round = vcs[i].hello_seen = 0;
	}
}

static void sgi_check(void)
{
	u64 rounds = scaled(HELLO_ROUNDS);

	sgi_reset();
	phase_run("SGIs", hello_phase, scaled_ms(200 * HELLO_ROUNDS) + us_ticks(5000000));
	for (unsigned t = 1; t < ncpus; t++) {
		struct vc *c = &vcs[t];
		check(alive(t) && c->sgis[SGI_HELLO] == rounds && c->wd_ticks <= rounds / 2,
		      "SGIs: vCPU %u, waiting in WFI, took %lu of vCPU 0's %lu SGIs, each once; %lu waits outlasted %u ms (want <= %lu)",
		      t, c->sgis[SGI_HELLO], rounds, c->wd_ticks, WATCHDOG_MS, rounds / 2);
	}
	check(!hello_failed, "SGIs: every round of vCPU 0's SGIs was seen by every other vCPU, in %lu ms (%lu doorbells back)",
	      ticks_ms(hello_took), vcs[0].sgis[SGI_ACK]);

	rounds = scaled(PING_ROUNDS);
	sgi_reset();
	phase_run("SGI ping-pong", ping_phase, scaled_ms(10 * PING_ROUNDS) + us_ticks(5000000));
	for (unsigned i = 0; i + 1 < ncpus; i += 2) {
		struct vc *a = &vcs[i], *b = &vcs[i + 1];
		check(alive(i) && alive(i + 1) && a->sgis[SGI_PING] == rounds && b->sgis[SGI_PING] == rounds &&
			      a->wd_ticks + b->wd_ticks <= rounds / 4,
		      "SGIs: ping-pong between vCPUs %u and %u: %lu and %lu of %lu rounds in %lu ms; %lu waits outlasted %u ms (want <= %lu)",
		      i, i + 1, a->sgis[SGI_PING], b->sgis[SGI_PING], rounds, ticks_ms(ping_took[i]),
		      a->wd_ticks + b->wd_ticks, WATCHDOG_MS, rounds / 4);
	}
}

/* ---- check 6: virtual timers ---------------------------------------------------------------------- */

static void timer_phase(struct vc *c)
{
	bool spins = c->id == ncpus - 1; /* the others wait in WFI */
	u64 want = scaled(TIMER_TICKS), t0 = now(), deadline = t0 + scaled_ms(20 * TIMER_TICKS);

	timer_periodic(c, us_ticks(TICK_US), want);
	if (spins)
		while (c->ticks < want && now() < deadline)
			worker_round(c, HOLD_SPIN, us_ticks(ROUND_US / 4)); /* the tick comes between rounds */
	else
		WAIT_IN_WFI(c, c->ticks >= want, deadline);
	c->took = now() - t0;
	timer_stop(c);
}

static void timer_check(void)
{
	u64 want = scaled(TIMER_TICKS);

	phase_run("timers", timer_phase, scaled_ms(20 * TIMER_TICKS) + us_ticks(5000000));
	for (unsigned i = 0; i < ncpus; i++) {
		struct vc *c = &vcs[i];
		check(alive(i) && c->ticks == want && c->tick_early == 0 && c->tick_unasserted == 0,
		      "timers: vCPU %u %s: %lu of %lu virtual timer ticks at %u us in %lu ms, early %lu, not asserted %lu, at most %lu us late",
		      i, i == ncpus - 1 ? "spinning" : "waiting in WFI", c->ticks, want, TICK_US, ticks_ms(c->took),
		      c->tick_early, c->tick_unasserted, c->max_late * 1000000 / freq);
	}
}

/* ---- check 7: CPU_OFF and CPU_ON ------------------------------------------------------------------- */

/*
 * The vCPU turned on again enters at sched_reentry, not secondary_entry, with
 * a context id that names the round: its own stack, vectors and FP on, then C.
 */
asm("	.pushsection .text.sched_reentry, \"ax\"\n"
    "	.global sched_reentry\n"
    "sched_reentry:\n"
    "	and	x1, x0, #0xff\n" /* the vCPU */
    "	msr	tpidr_el1, x1\n"
    "	adrp	x2, guest_stacks\n"
    "	add	x2, x2, :lo12:guest_stacks\n"
    "	add	x3, x1, #1\n"
    "	add	x2, x2, x3, lsl #14\n" /* 16 KiB a vCPU, as lib/head.S */
    "	mov	sp, x2\n"
    "	adrp	x2, sched_vectors\n"
    "	add	x2, x2, :lo12:sched_vectors\n"
    "	add	x2, x2, x1, lsl #12\n" /* its first table: 2 of 2 KiB a vCPU */
    "	msr	vbar_el1, x2\n"
    "	mov	x1, #(3 << 20)\n" /* CPACR_EL1.FPEN */
    "	msr	cpacr_el1, x1\n"
    "	isb\n"
    "	b	sched_reentry_main\n"
    "	.popsection\n");
void sched_reentry(void);

void sched_reentry_main(u64 ctx)
{
	struct vc *c = &vcs[ctx & 0xff];

	c->mmu = false; /* reset: check 8's probes stop for it */
	cpu_setup(c);
	c->ctx_seen = ctx;
	c->reentries++;
	unsigned seq = __atomic_load_n(&phase_seq, __ATOMIC_ACQUIRE);
	__atomic_store_n(&c->done_seq, seq, __ATOMIC_RELEASE);
	serve(c, seq);
}

static u64 off_round;

static void off_phase(struct vc *c)
{
	unsigned t = ncpus - 1;

	if (c->id == t) {
		irqs_off();
		timer_disarm();
		psci_cpu_off();
	}
	if (c->id != 0) {
		while (!phase_over)
			worker_round(c, c->rounds & 1 ? HOLD_WFI_TIMER : HOLD_SPIN, us_ticks(ROUND_US));
		return;
	}
	/* vCPU 0: sees it OFF, turns it on at the other entry, sees it run. */
	struct vc *v = &vcs[t];
	u64 deadline = now() + us_ticks(2000000), aff, ctx = CTX_MAGIC | off_round << 8 | t;
	while ((aff = psci_call(PSCI_AFFINITY_INFO64, cpu_mpidr[t], 0, 0)) != AFF_OFF && now() < deadline)
		worker_round(c, HOLD_SPIN, us_ticks(ROUND_US / 2));
	u64 reentries = v->reentries, r = psci_call(PSCI_CPU_ON64, cpu_mpidr[t], (u64)sched_reentry, ctx);
	deadline = now() + us_ticks(2000000);
	while (v->reentries == reentries && now() < deadline)
		work_until(c, now() + us_ticks(ROUND_US), true);
	u64 r0 = v->rounds;
	while (v->reentries != reentries && v->rounds < r0 + BACK_ROUNDS && now() < deadline)
		work_until(c, now() + us_ticks(ROUND_US), true);
	u64 aff_on = psci_call(PSCI_AFFINITY_INFO64, cpu_mpidr[t], 0, 0);
	check(aff == AFF_OFF && r == 0 && v->reentries == reentries + 1 && v->ctx_seen == ctx &&
		      v->rounds >= r0 + BACK_ROUNDS && aff_on == AFF_ON,
	      "CPU_OFF/ON %lu: vCPU %u went OFF (AFFINITY_INFO %lu), CPU_ON returned %ld, it came back at sched_reentry with x0 %#lx (want %#lx), ran %lu rounds (want >= %u), AFFINITY_INFO %lu",
	      off_round, t, aff, (long)r, v->ctx_seen, ctx, v->rounds - r0, BACK_ROUNDS, aff_on);
	if (v->reentries == reentries)
		v->dead = true;
}

static void off_check(void)
{
	if (ncpus < 2)
		return;
	err_mark();
	for (off_round = 1; off_round <= OFF_ROUNDS && alive(ncpus - 1); off_round++)
		phase_run("CPU_OFF/ON", off_phase, us_ticks(5000000));
	err_verdict(ERR_GPR, true, "CPU_OFF/ON: every vCPU's x19-x28 survive meanwhile");
	err_verdict(ERR_FP, true, "CPU_OFF/ON: every vCPU's FP/SIMD state survives meanwhile");
	err_verdict(ERR_SYS, true, "CPU_OFF/ON: every vCPU's system registers survive meanwhile");
}

/* ---- check 9: a timer interrupt handled across a switch ----------------------------------------- */

/*
 * The virtual timer's interrupt is level: its line stays high from the expiry
 * until the handler disables or re-arms the timer, just before its EOI. Under a
 * hypervisor that owns the GIC, the physical twin is active (acknowledged at
 * EL2) from the expiry to the guest's EOI, and that active state is what keeps
 * the still-high line from interrupting again; while vCPUs share a pCPU it
 * belongs to the vCPU loaded there, so a switch in the middle of a handler
 * must take it along and give it back (docs/architecture.md, load and put).
 *
 * Each vCPU in turn, the others spinning in worker rounds (never waiting, so
 * always runnable): it arms its timer LONG_ARM_US ahead and spins with IRQs
 * unmasked; the handler stays in (IRQs masked, the interrupt acknowledged and
 * not EOI'd) at least LONG_HOLD_MS and, told it shares its pCPU, until every
 * vCPU sharing it has finished a worker round meanwhile. One pCPU runs one
 * vCPU at a time, so a sharer's round finished then proves this vCPU was
 * switched out inside its handler. Then the handler disables the timer and
 * EOIs. The vCPU arms the timer for a second expiry LONG_NEXT_US later and
 * waits for it in WFI, as an idle loop would (a trapped WFI is where the
 * hypervisor looks at what is pending for it), then watches LONG_AFTER_US
 * more, IRQs unmasked. Want, in every turn: the first expiry taken once,
 * asserted and not early, and exactly one interrupt after the EOI, the second
 * expiry's, asserted and not early. A hypervisor that gave the vCPU back
 * without the active state takes the still-high line at EL2 again before the
 * EOI, and makes the interrupt pending once more: the guest gets it after its
 * EOI, in the WFI, with the timer not due (early, not asserted). So it went
 * under tests/mutations/sched.mut's vgic-put-ppi-active-lost, in every turn
 * of every vCPU, on 2 pCPUs and on 1; the checks above, whose handlers are
 * short, see it only when a switch happens to fall inside one.
 */
#define LONG_TURNS 2	   /* per vCPU */
#define LONG_ARM_US 500	   /* the first expiry, from the arming */
#define LONG_HOLD_MS 15	   /* the handler's least time: over 7 slices of 2 ms */
#define LONG_LIMIT_MS 1000 /* its most, waiting for the sharers (not scaled) */
#define LONG_NEXT_US 5000  /* the second expiry, from the EOI */
#define LONG_AFTER_US 2000 /* watched after the second one */

static unsigned long_order[MAX_CPUS * LONG_TURNS], long_turns;
static volatile unsigned long_next; /* the turn under way */

/* vCPUs i and j run on one pCPU: told sched.pcpus=N, vCPU n is on pCPU n % N
 * (docs/architecture.md, scheduling); told nothing, each has its own. */
static bool same_pcpu(unsigned i, unsigned j)
{
	return pcpus && pcpus < ncpus && i != j && i % pcpus == j % pcpus;
}

static bool has_sharers(unsigned i)
{
	for (unsigned j = 0; j < ncpus; j++)
		if (same_pcpu(i, j) && alive(j))
			return true;
	return false;
}

/* The timer's interrupt in TM_LONG, acknowledged (sched_exception EOIs it after). */
static void long_irq(struct vc *c, u64 t, u64 ctl)
{
	bool asserted = ctl & CNTV_CTL_ISTATUS;

	if (!asserted)
		c->long_unasserted++;
	if (t < c->cval)
		c->long_early++;
	if (c->long_stage) {
		c->long_second++;
		if (asserted) /* else its expiry is still to come */
			write_sysreg(cntv_ctl_el0, 0);
		isb();
		return;
	}
	c->long_first++;
	if (!asserted)
		return;
	u64 before[MAX_CPUS], t0 = now(), n;
	u64 least = t0 + scaled_ms(LONG_HOLD_MS), most = t0 + us_ticks(LONG_LIMIT_MS * 1000);
	for (unsigned j = 0; j < ncpus; j++)
		before[j] = vcs[j].rounds;
	for (;;) {
		n = now();
		if (n >= most)
			break;
		if (n < least)
			continue;
		bool all_ran = true;
		for (unsigned j = 0; j < ncpus; j++)
			if (same_pcpu(c->id, j) && alive(j) && vcs[j].rounds == before[j])
				all_ran = false;
		if (all_ran)
			break;
	}
	if (n - t0 < c->long_held_min)
		c->long_held_min = n - t0;
	for (unsigned j = 0; j < ncpus; j++)
		if (same_pcpu(c->id, j) && alive(j) && vcs[j].rounds - before[j] < c->long_peer_min)
			c->long_peer_min = vcs[j].rounds - before[j];
	write_sysreg(cntv_ctl_el0, 0);
	isb();
	c->long_stage = 1;
}

static void long_arm(struct vc *c, u64 ticks)
{
	c->cval = now() + ticks;
	write_sysreg(cntv_cval_el0, c->cval);
	write_sysreg(cntv_ctl_el0, CNTV_CTL_ENABLE);
	isb();
}

static void long_turn(struct vc *c)
{
	irqs_off();
	c->long_stage = 0;
	c->tmode = TM_LONG;
	long_arm(c, us_ticks(LONG_ARM_US));
	irqs_on();
	u64 deadline = now() + us_ticks(2 * LONG_LIMIT_MS * 1000);
	while (c->long_stage == 0 && now() < deadline)
		; /* the interrupt is taken here */
	irqs_off();
	c->long_stage = 1; /* already, unless the first never came */
	long_arm(c, us_ticks(LONG_NEXT_US));
	irqs_on();
	/* The handler disables the timer at the second expiry. */
	WAIT_IN_WFI(c, !(read_sysreg(cntv_ctl_el0) & CNTV_CTL_ENABLE), now() + us_ticks(LONG_LIMIT_MS * 1000));
	u64 after = now() + us_ticks(LONG_AFTER_US);
	while (now() < after)
		;
	timer_stop(c);
}

static void long_phase(struct vc *c)
{
	while (now() < phase_end) {
		unsigned k = __atomic_load_n(&long_next, __ATOMIC_ACQUIRE);
		if (k >= long_turns)
			break;
		if (long_order[k] != c->id) {
			worker_round(c, HOLD_SPIN, us_ticks(ROUND_US / 2));
			continue;
		}
		long_turn(c);
		__atomic_store_n(&long_next, k + 1, __ATOMIC_RELEASE);
	}
}

static void long_check(void)
{
	long_turns = 0;
	for (unsigned k = 0; k < LONG_TURNS; k++)
		for (unsigned i = 0; i < ncpus; i++)
			if (alive(i))
				long_order[long_turns++] = i;
	for (unsigned i = 0; i < ncpus; i++) {
		struct vc *c = &vcs[i];
		c->long_first = c->long_second = c->long_early = c->long_unasserted = 0;
		c->long_held_min = c->long_peer_min = ~0ul;
	}
	long_next = 0;
	phase_end = now() + us_ticks(5000000);
	phase_run("long handler", long_phase, us_ticks(5000000));
	for (unsigned i = 0; i < ncpus; i++) {
		struct vc *c = &vcs[i];
		bool shared = has_sharers(i);
		u64 held = c->long_held_min == ~0ul ? 0 : c->long_held_min;
		u64 ran = c->long_peer_min == ~0ul ? 0 : c->long_peer_min;
		char sharers[48] = "";
		if (shared)
			snprintf(sharers, sizeof(sharers), " while its pCPU's others ran >= %lu rounds", ran);
		check(alive(i) && c->long_first == LONG_TURNS && c->long_second == LONG_TURNS && c->long_early == 0 &&
			      c->long_unasserted == 0 && held >= scaled_ms(LONG_HOLD_MS) && (!shared || ran >= 1),
		      "long handler: vCPU %u: %lu IRQs for %u expiries, each held >= %lu ms before the EOI%s; then %lu for the next %u, in WFI; early %lu, not asserted %lu",
		      i, c->long_first, LONG_TURNS, ticks_ms(held), sharers, c->long_second, LONG_TURNS, c->long_early,
		      c->long_unasserted);
	}
}

/* ---- check 10: the PMU ----------------------------------------------------------------------------- */

/*
 * The PMU's counters are their pCPU's: the hypervisor does not switch them, so
 * while vCPUs share pCPUs one vCPU's would count and show another's, and the
 * guest must find no PMU at all, as on a CPU that has none (issue 11). Such a
 * CPU (no FEAT_PMUv3) has ID_AA64DFR0_EL1.PMUVer [11:8] and ID_DFR0_EL1.PerfMon
 * [27:24] 0 and no PMU registers: an MRS or MSR of one is UNDEFINED (EC 0),
 * at EL1 and at EL0 alike; and the device tree names no PMU, so Linux probes
 * none. With a pCPU per vCPU (and on bare QEMU) the PMU is QEMU's: PMUVer is
 * not 0, its registers are the guest's (PMCCNTR_EL0 keeps what was written,
 * the counters stopped by PMCR_EL0.E = 0), EL0 reads the cycle counter while
 * PMUSERENR_EL0.EN lets it and traps to EL1 when not (EC 0x18, the MRS's own
 * syndrome), and the tree has QEMU's /pmu.
 *
 * Each vCPU probes its own in one phase, everything masked, its stage 1 still
 * off (the code at EL0 is the image itself); the vector (lib/guest.c, armed by
 * fault_expect) records an exception and skips the instruction, so a read
 * that did not happen leaves PMU_UNTOUCHED.
 */
#define PMU_UNTOUCHED 0x5a5a5a5a5a5a5a5aul
#define PMU_CCNTR_VALUE 0x1234567ab0ul /* + the vCPU's id, into PMCCNTR_EL0 */
#define PMCR_E BIT(0)
#define PMUSERENR_EN BIT(0)
/* ESR_EL1 of an UNDEFINED instruction (EC 0, IL: 32 bits), and of a trapped MRS
 * (EC 0x18; ISS: Op0 [21:20], Op2 [19:17], Op1 [16:14], CRn [13:10], Rt [9:5],
 * CRm [4:1], direction [0], 1 for a read). */
#define ESR_UNDEF ((u64)ESR_EC_UNKNOWN << 26 | ESR_IL)
#define ESR_MRS(op0, op1, crn, crm, op2, rt)                                                             \
	((u64)ESR_EC_SYS64 << 26 | ESR_IL | (u64)(op0) << 20 | (u64)(op2) << 17 | (u64)(op1) << 14 |    \
	 (u64)(crn) << 10 | (u64)(rt) << 5 | (u64)(crm) << 1 | 1)
#define ESR_MRS_PMCCNTR_X0 ESR_MRS(3, 3, 9, 13, 0, 0)

struct pmu_probe {
	bool taken;   /* an exception was taken at it */
	u64 esr, elr; /* its syndrome and return address, as the vector saw them */
	u64 pc;	      /* the access's own address */
	u64 value;    /* what a read gave (PMU_UNTOUCHED: nothing) */
};

enum { PMU_PMCR_RD, PMU_PMCR_WR, PMU_CCNTR_WR, PMU_CCNTR_RD, PMU_USERENR_WR, PMU_EL1_PROBES };
static const char *const pmu_el1_names[PMU_EL1_PROBES] = {
	"MRS PMCR_EL0", "MSR PMCR_EL0", "MSR PMCCNTR_EL0", "MRS PMCCNTR_EL0", "MSR PMUSERENR_EL0",
};

static struct pmu_seen {
	u64 aa64dfr0, dfr0;
	struct pmu_probe el1[PMU_EL1_PROBES];
	struct pmu_probe el0_on, el0_off; /* MRS PMCCNTR_EL0 at EL0 after PMUSERENR_EL0 = EN, then = 0 */
	volatile bool done;
} pmu_seen[MAX_CPUS];
static bool pmu_shared; /* sched.pcpus= says the 4 vCPUs share fewer pCPUs */

static void pmu_note(struct pmu_probe *p, u64 value, u64 pc)
{
	const struct fault_record *f = &faults[cpu_index()];

	p->taken = fault_taken();
	p->esr = p->taken ? f->esr : 0;
	p->elr = p->taken ? f->elr : 0;
	p->pc = pc;
	p->value = value;
}

/* One MRS or MSR at EL1 that may be UNDEFINED, its address taken with ADR. */
#define PMU_READ(p, reg)                                                                           \
	({                                                                                         \
		u64 v_ = PMU_UNTOUCHED, pc_;                                                       \
		fault_expect();                                                                    \
		asm volatile("1: mrs %0, " #reg "\n\tadr %1, 1b" : "+r"(v_), "=r"(pc_)::"memory"); \
		pmu_note(p, v_, pc_);                                                              \
		v_;                                                                                \
	})
#define PMU_WRITE(p, reg, val)                                                                     \
	do {                                                                                       \
		u64 pc_;                                                                           \
		fault_expect();                                                                    \
		asm volatile("1: msr " #reg ", %1\n\tadr %0, 1b\n\tisb"                            \
			     : "=&r"(pc_)                                                          \
			     : "r"((u64)(val))                                                     \
			     : "memory");                                                          \
		pmu_note(p, PMU_UNTOUCHED, pc_);                                                   \
	} while (0)

/*
 * el0_call(code): code runs at EL0, DAIF masked, until its SVC #0, which
 * sched_exception makes a return from el0_call with the x0 code left (code
 * touches x0 only; x30 still holds el0_call's return address). el0_pmccntr:
 * x0 = PMU_UNTOUCHED, then MRS x0, PMCCNTR_EL0 at el0_pmccntr_mrs.
 */
u64 el0_call(u64 code);
extern const u32 el0_pmccntr[], el0_pmccntr_mrs[];
asm("	.pushsection .text\n"
    "	.balign 4\n"
    "	.global el0_call\n"
    "	.type el0_call, %function\n"
    "el0_call:\n"
    "	msr	elr_el1, x0\n"
    "	mov	x0, #0x3c0\n" /* SPSR_EL1: EL0t, DAIF masked */
    "	msr	spsr_el1, x0\n"
    "	eret\n"
    "	.global el0_pmccntr, el0_pmccntr_mrs\n"
    "el0_pmccntr:\n"
    "	mov	x0, #0x5a5a\n"
    "	movk	x0, #0x5a5a, lsl #16\n"
    "	movk	x0, #0x5a5a, lsl #32\n"
    "	movk	x0, #0x5a5a, lsl #48\n"
    "el0_pmccntr_mrs:\n"
    "	mrs	x0, pmccntr_el0\n"
    "	svc	#0\n"
    "	.popsection\n");

static void pmu_el0_read(struct vc *c, struct pmu_probe *p)
{
	u64 v;

	fault_expect();
	c->el0_out = true;
	v = el0_call((u64)el0_pmccntr);
	pmu_note(p, v, (u64)el0_pmccntr_mrs);
}

static void pmu_phase(struct vc *c)
{
	struct pmu_seen *s = &pmu_seen[c->id];
	struct pmu_probe restore;
	u64 daif = read_sysreg(daif), pmcr;

	irqs_off();
	s->aa64dfr0 = read_sysreg(id_aa64dfr0_el1);
	s->dfr0 = read_sysreg(id_dfr0_el1);
	pmcr = PMU_READ(&s->el1[PMU_PMCR_RD], pmcr_el0);
	/* Every counter stopped (E = 0): the cycle counter keeps what is written. */
	PMU_WRITE(&s->el1[PMU_PMCR_WR], pmcr_el0, pmcr == PMU_UNTOUCHED ? 0 : pmcr & ~PMCR_E);
	PMU_WRITE(&s->el1[PMU_CCNTR_WR], pmccntr_el0, PMU_CCNTR_VALUE + c->id);
	PMU_READ(&s->el1[PMU_CCNTR_RD], pmccntr_el0);
	PMU_WRITE(&s->el1[PMU_USERENR_WR], pmuserenr_el0, PMUSERENR_EN);
	pmu_el0_read(c, &s->el0_on);
	PMU_WRITE(&restore, pmuserenr_el0, 0);
	pmu_el0_read(c, &s->el0_off);
	write_sysreg(daif, daif);
	s->done = true;
}

/* An UNDEFINED instruction at the access itself, and a read that wrote nothing. */
static bool pmu_undefined(const struct pmu_probe *p)
{
	return p->taken && p->esr == ESR_UNDEF && p->elr == p->pc && p->value == PMU_UNTOUCHED;
}

static void pmu_describe(char *buf, size_t n, const char *what, const struct pmu_probe *p)
{
	if (p->taken)
		snprintf(buf, n, "%s: ESR_EL1 %#lx at %#lx (it is at %#lx)", what, p->esr, p->elr, p->pc);
	else
		snprintf(buf, n, "%s: no exception, read %#lx", what, p->value);
}

/* PMU_EL1_PROBES at EL1 as they must be; else why not. */
static bool pmu_el1_ok(const struct pmu_seen *s, unsigned id, char *why, size_t n)
{
	for (unsigned k = 0; k < PMU_EL1_PROBES; k++)
		if (pmu_shared ? !pmu_undefined(&s->el1[k]) : s->el1[k].taken) {
			pmu_describe(why, n, pmu_el1_names[k], &s->el1[k]);
			return false;
		}
	if (!pmu_shared && s->el1[PMU_CCNTR_RD].value != PMU_CCNTR_VALUE + id) {
		snprintf(why, n, "PMCCNTR_EL0 read %#lx after %#lx was written", s->el1[PMU_CCNTR_RD].value,
			 PMU_CCNTR_VALUE + id);
		return false;
	}
	if (pmu_shared)
		snprintf(why, n, "each UNDEFINED (ESR_EL1 %#lx, at the instruction)", ESR_UNDEF);
	else
		snprintf(why, n, "none trapped, PMCCNTR_EL0 kept %#lx", s->el1[PMU_CCNTR_RD].value);
	return true;
}

static bool pmu_el0_ok(const struct pmu_seen *s, unsigned id, char *why, size_t n)
{
	const struct pmu_probe *on = &s->el0_on, *off = &s->el0_off;

	if (pmu_shared) {
		if (pmu_undefined(on) && pmu_undefined(off)) {
			snprintf(why, n, "UNDEFINED (ESR_EL1 %#lx), EN set or not", ESR_UNDEF);
			return true;
		}
		pmu_describe(why, n, pmu_undefined(on) ? "EN clear" : "EN set", pmu_undefined(on) ? off : on);
		return false;
	}
	if (on->taken || on->value != PMU_CCNTR_VALUE + id) {
		pmu_describe(why, n, "EN set", on);
		return false;
	}
	if (!off->taken || off->esr != ESR_MRS_PMCCNTR_X0 || off->elr != off->pc || off->value != PMU_UNTOUCHED) {
		pmu_describe(why, n, "EN clear", off);
		return false;
	}
	snprintf(why, n, "EN set: read %#lx; EN clear: trapped to EL1, ESR_EL1 %#lx", on->value, off->esr);
	return true;
}

/* The device tree's PMU nodes: compatible "arm,armv8-pmuv3", or "arm,<cpu>-pmu" as
 * the binding (Documentation/devicetree/bindings/arm/pmu.yaml) names them. */
struct pmu_nodes {
	unsigned count;
	char path[40], compat[40]; /* the first one's */
};

static bool pmu_node(const char *path, const char *name, const u8 *val, u32 len, void *ctx)
{
	struct pmu_nodes *q = ctx;
	const char *s = (const char *)val, *end = s + len;

	if (strcmp(name, "compatible"))
		return false;
	for (size_t n; s < end; s += n + 1) {
		n = strnlen(s, end - s);
		bool generic = n == 15 && !strncmp(s, "arm,armv8-pmuv3", n);
		if (generic || (n > 8 && !strncmp(s, "arm,", 4) && !strncmp(s + n - 4, "-pmu", 4))) {
			if (!q->count++) {
				snprintf(q->path, sizeof(q->path), "%s", path);
				snprintf(q->compat, sizeof(q->compat), "%.*s", (int)n, s);
			}
			break;
		}
	}
	return false;
}

static void pmu_check(u64 dtb)
{
	const char *mode = pmu_shared ? "shared: none" : "a pCPU each: QEMU's";
	struct pmu_nodes nodes = { 0 };
	char why[120];

	for (unsigned i = 0; i < NCPUS_WANTED; i++) {
		const struct pmu_seen *s = &pmu_seen[i];
		u64 pmuver = FIELD(s->aa64dfr0, 11, 8), perfmon = FIELD(s->dfr0, 27, 24);
		bool there = alive(i) && s->done;

		check(there && (pmu_shared ? pmuver == 0 && perfmon == 0 : pmuver != 0 && pmuver != 0xf),
		      "PMU (%s): vCPU %u reads ID_AA64DFR0_EL1 %#lx: PMUVer %lu, ID_DFR0_EL1 %#lx: PerfMon %lu%s", mode, i,
		      s->aa64dfr0, pmuver, s->dfr0, perfmon, there ? "" : " (it took no part)");
		check(there && pmu_el1_ok(s, i, why, sizeof(why)),
		      "PMU (%s): vCPU %u at EL1, PMCR_EL0 and PMCCNTR_EL0 read and written, PMUSERENR_EL0 set: %s", mode,
		      i, there ? why : "it took no part");
		check(there && pmu_el0_ok(s, i, why, sizeof(why)),
		      "PMU (%s): vCPU %u at EL0, MRS PMCCNTR_EL0 with PMUSERENR_EL0.EN set, then clear: %s", mode, i,
		      there ? why : "it took no part");
	}
	fdt_walk(dtb, pmu_node, &nodes);
	if (nodes.count)
		snprintf(why, sizeof(why), "%u found, the first %s: %s", nodes.count, nodes.path, nodes.compat);
	else
		snprintf(why, sizeof(why), "none found");
	if (pmu_shared)
		check(nodes.count == 0, "PMU (%s): the device tree has no PMU node (%s)", mode, why);
	else
		check(nodes.count == 1 && !strcmp(nodes.path, "/pmu") && !strcmp(nodes.compat, "arm,armv8-pmuv3"),
		      "PMU (%s): the device tree has QEMU's PMU node, /pmu: arm,armv8-pmuv3 (%s)", mode, why);
}

/*
 * SCXTNUM_EL0/EL1 (FEAT_CSV2_2, or CSV2_1p2): announced by ID_AA64PFR0_EL1.CSV2
 * [59:56] 2, or CSV2 1 with ID_AA64PFR1_EL1.CSV2_frac [35:32] 2. A vCPU told
 * it has them must be able to use them: written, they read back. While the
 * vCPUs share pCPUs trapvisor does not switch them, so none may be announced
 * and each access is UNDEFINED.
 */
#define SCXT_VALUE 0x5c7000ul /* + 16 * the vCPU's id + 0 (EL1) or 1 (EL0) */
enum { SCXT_EL1_WR, SCXT_EL0_WR, SCXT_EL1_RD, SCXT_EL0_RD, SCXT_PROBES };
static const char *const scxt_names[SCXT_PROBES] = {
	"MSR SCXTNUM_EL1", "MSR SCXTNUM_EL0", "MRS SCXTNUM_EL1", "MRS SCXTNUM_EL0",
};

static struct scxt_seen {
	u64 pfr0, pfr1;
	struct pmu_probe probe[SCXT_PROBES];
	volatile bool done;
} scxt_seen[MAX_CPUS];

static bool scxt_announced(const struct scxt_seen *s)
{
	u64 csv2 = FIELD(s->pfr0, 59, 56), frac = FIELD(s->pfr1, 35, 32);

	return csv2 >= 2 || (csv2 == 1 && frac >= 2);
}

static void scxt_phase(struct vc *c)
{
	struct scxt_seen *s = &scxt_seen[c->id];
	u64 daif = read_sysreg(daif);

	irqs_off();
	s->pfr0 = read_sysreg(id_aa64pfr0_el1);
	s->pfr1 = read_sysreg(id_aa64pfr1_el1);
	PMU_WRITE(&s->probe[SCXT_EL1_WR], S3_0_C13_C0_7, SCXT_VALUE + 16 * c->id);
	PMU_WRITE(&s->probe[SCXT_EL0_WR], S3_3_C13_C0_7, SCXT_VALUE + 16 * c->id + 1);
	PMU_READ(&s->probe[SCXT_EL1_RD], S3_0_C13_C0_7);
	PMU_READ(&s->probe[SCXT_EL0_RD], S3_3_C13_C0_7);
	write_sysreg(daif, daif);
	s->done = true;
}

/* The probes as the ID registers say they must be; else why not. */
static bool scxt_ok(const struct scxt_seen *s, unsigned id, char *why, size_t n)
{
	bool there = scxt_announced(s);

	for (unsigned k = 0; k < SCXT_PROBES; k++)
		if (there ? s->probe[k].taken : !pmu_undefined(&s->probe[k])) {
			pmu_describe(why, n, scxt_names[k], &s->probe[k]);
			return false;
		}
	if (there && (s->probe[SCXT_EL1_RD].value != SCXT_VALUE + 16 * id ||
		      s->probe[SCXT_EL0_RD].value != SCXT_VALUE + 16 * id + 1)) {
		snprintf(why, n, "read %#lx and %#lx after %#lx and %#lx were written", s->probe[SCXT_EL1_RD].value,
			 s->probe[SCXT_EL0_RD].value, SCXT_VALUE + 16 * id, SCXT_VALUE + 16 * id + 1);
		return false;
	}
	if (there)
		snprintf(why, n, "announced, and they keep what was written");
	else
		snprintf(why, n, "not announced, and each access UNDEFINED");
	return true;
}

static void scxt_check(void)
{
	char why[120];

	for (unsigned i = 0; i < NCPUS_WANTED; i++) {
		const struct scxt_seen *s = &scxt_seen[i];
		bool there = alive(i) && s->done;

		check(there && !(pmu_shared && scxt_announced(s)) && scxt_ok(s, i, why, sizeof(why)),
		      "SCXTNUM (%s): vCPU %u reads ID_AA64PFR0_EL1.CSV2 %lu, ID_AA64PFR1_EL1.CSV2_frac %lu: %s",
		      pmu_shared ? "shared: not announced" : "a pCPU each: as announced", i, (u64)FIELD(s->pfr0, 59, 56),
		      (u64)FIELD(s->pfr1, 35, 32), !there ? "it took no part" : pmu_shared && scxt_announced(s) ? "announced" : why);
	}
}

/* ---- setup and main ------------------------------------------------------------------------------- */

static void pauth_detect(void)
{
	u64 isar1 = read_sysreg(id_aa64isar1_el1), isar2 = sys_read(ID_AA64ISAR2_EL1);

	pauth_addr = FIELD(isar1, 7, 4) || FIELD(isar1, 11, 8) || FIELD(isar2, 15, 12);
	pauth_generic = FIELD(isar1, 27, 24) || FIELD(isar1, 31, 28) || FIELD(isar2, 11, 8);
	gprintf("sched: ID_AA64ISAR1_EL1 %#lx ID_AA64ISAR2_EL1 %#lx: address authentication %s, generic %s\n", isar1,
		isar2, pauth_addr ? "yes" : "no", pauth_generic ? "yes" : "no");
}

/* The PAC results depend on the keys, and PACIA signs at all (SCTLR_EL1.EnIA):
 * else comparing them across switches would prove nothing. */
static void pauth_selftest(void)
{
	u64 a[PAC_COUNT], b[PAC_COUNT], seed = pattern(0, 0, 7);
	unsigned same = 0;

	if (!pauth_addr && !pauth_generic) {
		skip("context: PAuth: ID_AA64ISAR1/2_EL1 say this CPU has no pointer authentication");
		return;
	}
	for (unsigned i = R_KEYS; i < R_COUNT; i++)
		ctx_regs[i].wr(pattern(0, 1, i));
	isb();
	pac_compute(seed, a);
	for (unsigned i = R_KEYS; i < R_COUNT; i++)
		ctx_regs[i].wr(pattern(0, 2, i));
	isb();
	pac_compute(seed, b);
	for (unsigned i = 0; i < PAC_COUNT; i++)
		if ((i == PAC_GA ? pauth_generic : pauth_addr) && a[i] == b[i])
			same++;
	check(same == 0 && (!pauth_addr || a[PAC_IA] != (RAM_BASE + (seed & 0xffff0))),
	      "context: PAuth: every PAC result changes with its key (PACIA %#lx then %#lx, PACGA %#lx then %#lx)",
	      a[PAC_IA], b[PAC_IA], a[PAC_GA], b[PAC_GA]);
}

static u64 bootarg_u64(u64 dtb, const char *key, u64 dflt)
{
	u32 len = 0;
	const char *args = fdt_prop(dtb, "/chosen", "bootargs", &len);
	size_t klen = strlen(key);
	u64 v;

	for (const char *s = args ? skip_spaces(args) : NULL; s && *s && s < args + len; s = skip_spaces(s + word_len(s)))
		if (word_len(s) > klen && !strncmp(s, key, klen) && parse_u64(s + klen, word_len(s) - klen, &v))
			return v;
	return dflt;
}

int main(u64 x0)
{
	u64 t_start = read_sysreg(cntvct_el0);
	/* The Linux boot protocol gives the tree in x0; QEMU booting an ELF itself does not. */
	u64 dtb = fdt_valid(x0) ? x0 : RAM_BASE;
	struct vc *c0 = &vcs[0];

	freq = read_sysreg(cntfrq_el0);
	bool conduit = psci_conduit_from_dt(dtb);
	scale = bootarg_u64(dtb, "sched.scale=", 100);
	pcpus = bootarg_u64(dtb, "sched.pcpus=", 0);
	gprintf("sched: vCPUs sharing pCPUs; durations at %lu%%; pCPUs %s%lu\n", scale, pcpus ? "" : "not said, ", pcpus);
	check(fdt_valid(dtb) && conduit, "the device tree (at %#lx) names the PSCI conduit: %s", dtb,
	      psci_conduit_is_hvc() ? "hvc" : "smc");
	u64 version = psci_call(PSCI_VERSION, 0, 0, 0);
	check(version >= 0x10000 && version < 0x80000000ul, "PSCI_VERSION: %#lx", version);

	pauth_detect();
	regs_discover();
	gprintf("sched: each round checks x19-x28, v0-v31, TPIDR_EL1, VBAR_EL1, CNTV_CVAL_EL0 (WFI rounds) and, as they keep a write:\n");
	for (unsigned i = 0; i < R_COUNT; i++)
		if (i < R_KEYS || pauth_addr)
			gprintf("sched:   %s %#lx%s\n", ctx_regs[i].name, reg_writable[i],
				reg_fixed[i] ? " (some bits fixed at 1)" : "");
	c0->id = 0;
	cpu_setup(c0);
	pauth_selftest();
	for (unsigned i = 0; i < MAX_CPUS; i++)
		tlb_build(i);

	bring_up(dtb);
	/* Check 10 first: its EL0 code runs with stage 1 off, before check 8 turns it on. */
	pmu_shared = pcpus && pcpus < NCPUS_WANTED;
	phase_run("PMU", pmu_phase, us_ticks(2000000));
	pmu_check(dtb);
	phase_run("SCXTNUM", scxt_phase, us_ticks(2000000));
	scxt_check();
	tlb_mmu_on(c0);
	if (ncpus > 1)
		tlb_selftest();
	phase_run("stale TLB setup", tlb_phase, us_ticks(5000000));
	context_check();
	idle_check();
	ppi_enables_check();
	slice_check();
	sgi_check();
	timer_check();
	long_check();
	off_check();

	/* What every vCPU checked in every round of the whole run. */
	err_verdict(ERR_GPR, false, "whole run: x19-x28 intact in every round of every vCPU");
	err_verdict(ERR_FP, false, "whole run: FP/SIMD state intact in every round");
	err_verdict(ERR_SYS, false, "whole run: system registers intact in every round");
	u64 taken = 0;
	for (unsigned i = 0; i < ncpus; i++)
		taken += vcs[i].vectors_taken;
	if (taken)
		err_verdict(ERR_VBAR, false, "whole run: every IRQ came through the vector table its vCPU's VBAR_EL1 named");
	else
		check(false, "whole run: no IRQ was taken at all");
	if (pauth_addr || pauth_generic)
		err_verdict(ERR_PAC, false, "whole run: PAuth keys and PACs intact in every round");
	tlb_verdicts(false);
	u64 others = 0;
	for (unsigned i = 0; i < ncpus; i++)
		others += vcs[i].other_irqs;
	check(others == 0, "whole run: no vCPU took an interrupt nobody sent (%lu other than SGIs and INTID 27)", others);
	u64 rounds = 0;
	for (unsigned i = 0; i < ncpus; i++)
		rounds += vcs[i].rounds;
	gprintf("sched: %lu worker rounds in %lu ms of guest time\n", rounds, ticks_ms(read_sysreg(cntvct_el0) - t_start));
	return 0;
}
