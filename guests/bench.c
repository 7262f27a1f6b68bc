/*
 * Instructions per trap round trip, measured deterministically (design.md):
 * under QEMU -icount shift=0 every instruction is one ns. Each trapping
 * operation runs N times in a loop; the same loop with a NOP in its place is
 * subtracted, so what is left is the trap: from the trapping instruction to
 * the eret back, the hypervisor's instructions included.
 *
 * Two counters, read around the same loops:
 *  - CNTVCT (62.5 MHz, so 16 instructions a tick), the method of design.md;
 *  - PMU event 0x08 INST_RETIRED counting at EL1 and EL2 (PMEVTYPER.NSH),
 *    exact under icount, and the only one that can measure a trapped WFI:
 *    the time a WFI sleeps is not instructions.
 * Booted with trapvisor.trap=wfi,id and -smp 1 (the instruction count is shared).
 * While vCPUs share a pCPU the hypervisor hides the PMU (it does not switch
 * it), so the sched boot counts with CNTVCT alone.
 *
 * Two interrupt paths as well (docs/performance.md says what each includes):
 *  - the virtual timer interrupt: from the instant CNTVCT reaches CNTV_CVAL
 *    to the first instruction of the guest's IRQ vector, which reads CNTVCT;
 *    the same guest on bare QEMU (no EL2) gives the baseline to subtract;
 *  - an SGI to another vCPU: the trapped ICC_SGI1R_EL1 write's round trip,
 *    on 2 vCPUs, in windows the target vCPU provably did not run in.
 * And the scheduler's switch: 2 vCPUs on 1 pCPU, a WFI that gives the pCPU
 * to the other vCPU, from the WFI to the eret into that vCPU.
 * Which of the four boots this is, the guest's command line says:
 *   (nothing)    the trap loops and the virtual timer, under trapvisor, -smp 1
 *   bench.bare   the virtual timer alone, on bare QEMU at EL1, -smp 1
 *   bench.sgi    SGIs to vCPU 1 (and to it powered off), under trapvisor, -smp 2
 *   bench.sched  2 vCPUs sharing 1 pCPU: the null HVC and the WFI switch
 */
#include "guest.h"

#define N 4000
#define ECAM 0x4010000000ul
#define NULL_HVC_FID 0ul /* x0 = 0: no such function, answered NOT_SUPPORTED */
#define INST_RETIRED 0x08
#define PMEVTYPER_NSH (1ul << 27)  /* count at EL2 too */
#define WFI_WAKE_TICKS 40

struct counts {
	u64 ticks, insns;
};

static bool pmu_on; /* the PMU counts: not in the sched boot */

static u64 pmu_count(void)
{
	return pmu_on ? read_sysreg(pmevcntr0_el0) : 0;
}

#define LOOP(name, insn, setup, after)                                         \
	static struct counts name(void)                                        \
	{                                                                      \
		u64 t0, t1, i0, i1;                                            \
		t0 = read_sysreg(cntvct_el0);                                  \
		i0 = pmu_count();                                              \
		for (unsigned i = 0; i < N; i++) {                             \
			setup;                                                 \
			asm volatile("mov x0, %0\n" insn                       \
				     ::"r"(NULL_HVC_FID), "r"(ECAM)            \
				     : "x0", "x1", "x2", "x3", "memory");      \
			after;                                                 \
		}                                                              \
		i1 = pmu_count();                                              \
		t1 = read_sysreg(cntvct_el0);                                  \
		return (struct counts){ t1 - t0, i1 - i0 };                    \
	}

LOOP(loop_nop, "nop", , )
LOOP(loop_hvc, "hvc #0", , )
LOOP(loop_idreg, "mrs x1, id_aa64isar0_el1", , )
LOOP(loop_mmio, "ldr w1, [%1]", , )
LOOP(loop_mmio_inner, "ldr w1, [%1, #0x1000]", , ) /* ECAM's second page: 00:00.1 */
/* The timer wakes each WFI; the baseline does the same with a NOP. */
LOOP(loop_timer_nop, "nop", timer_arm_ticks(WFI_WAKE_TICKS), timer_disarm())
LOOP(loop_wfi, "wfi", timer_arm_ticks(WFI_WAKE_TICKS), timer_disarm())

static void report(const char *name, struct counts op, struct counts base, bool by_ticks)
{
	u64 ns_per_tick = 1000000000ul / read_sysreg(cntfrq_el0);
	u64 insns = (op.insns - base.insns) / N;

	if (by_ticks)
		gprintf("BENCH: %s %lu instructions (CNTVCT: %lu)\n", name, insns,
			(op.ticks - base.ticks) * ns_per_tick / N);
	else
		gprintf("BENCH: %s %lu instructions\n", name, insns);
}

/* ---- the virtual timer interrupt ---------------------------------------------------- */

/*
 * One sample: arm the virtual timer TIMER_LEAD_TICKS ahead, unmask IRQs and
 * spin; the IRQ vector's first instruction after `phase` NOPs reads CNTVCT
 * into x9, which ends the spin. Under icount the interrupt is raised at the
 * instruction where the virtual count reaches CNTV_CVAL (a tick boundary),
 * so (x9 - CVAL) ticks = floor((X + phase) / 16) for the X instructions
 * from that boundary to the read. Summed over the 16 phases that is exactly
 * X (Hermite's identity: sum over j of floor((X + j) / 16) = X), so CNTVCT's
 * 16-instruction tick costs no resolution.
 *
 * The vectors: 16 tables, one per phase, each 2 KiB (VBAR_EL1's alignment).
 * The guest runs at EL1 on SP_EL1, so its IRQ is the table's entry 5 (0x280);
 * every other entry goes to the library's vector of the same kind. After the
 * read (not counted), the IRQ is acknowledged, the timer stopped, the IRQ
 * ended and the spin loop resumed: the INTID comes back in x10, the
 * interrupted PC in x12, both checked.
 */
#define TIMER_ROUNDS 64 /* 64 x 16 phases = 1024 interrupts */
#define TIMER_LEAD_TICKS 4 /* 64 instructions: the spin loop is reached well before */

asm("	.pushsection .text.bench_vectors, \"ax\"\n"
    "	.macro bench_vector kind\n"
    "	.balign 0x80\n"
    "	b	guest_vectors + \\kind * 0x80\n"
    "	.endm\n"
    "	.macro bench_vector_table phase\n"
    "	.balign 2048\n"
    "	bench_vector 0\n"
    "	bench_vector 1\n"
    "	bench_vector 2\n"
    "	bench_vector 3\n"
    "	bench_vector 4\n"
    "	.balign 0x80\n"	/* 0x280: IRQ, current EL with SP_ELx */
    "	.rept \\phase\n"
    "	nop\n"
    "	.endr\n"
    "	mrs	x9, cntvct_el0\n"
    "	b	bench_timer_irq\n"
    "	bench_vector 6\n"
    "	bench_vector 7\n"
    "	bench_vector 8\n"
    "	bench_vector 9\n"
    "	bench_vector 10\n"
    "	bench_vector 11\n"
    "	bench_vector 12\n"
    "	bench_vector 13\n"
    "	bench_vector 14\n"
    "	bench_vector 15\n"
    "	.endm\n"
    "	.balign 2048\n"
    "	.global bench_vectors\n"
    "bench_vectors:\n"
    "	.irp phase, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n"
    "	bench_vector_table \\phase\n"
    "	.endr\n"
    "bench_timer_irq:\n"
    "	mrs	x10, S3_0_C12_C12_0\n" /* ICC_IAR1_EL1 */
    "	mrs	x12, elr_el1\n"
    "	msr	cntv_ctl_el0, xzr\n"	/* the timer's line goes low before the EOI */
    "	isb\n"
    "	msr	S3_0_C12_C12_1, x10\n" /* ICC_EOIR1_EL1 */
    "	isb\n"
    "	eret\n"
    "	.popsection\n");

extern char bench_vectors[], bench_spin[], guest_vectors[];

struct timer_sample {
	u64 cval, read, intid, elr;
};

static struct timer_sample __attribute__((noinline)) timer_sample(unsigned phase)
{
	register u64 read asm("x9") = 0;
	register u64 intid asm("x10");
	register u64 cval asm("x11");
	register u64 elr asm("x12");

	write_sysreg(vbar_el1, (u64)bench_vectors + 2048 * phase);
	isb();
	asm volatile("mrs	x11, cntvct_el0\n"
		     "add	x11, x11, %[lead]\n"
		     "msr	cntv_cval_el0, x11\n"
		     "mov	x12, #1\n" /* CNTV_CTL_EL0.ENABLE, IMASK clear */
		     "msr	cntv_ctl_el0, x12\n"
		     "isb\n"
		     "msr	daifclr, #2\n"
		     "	.global bench_spin\n"
		     "bench_spin:\n"
		     "cbz	x9, bench_spin\n"
		     "msr	daifset, #2\n"
		     : "+r"(read), "=r"(intid), "=r"(cval), "=r"(elr)
		     : [lead] "I"(TIMER_LEAD_TICKS)
		     : "memory");
	return (struct timer_sample){ cval, read, intid & 0xffffff, elr };
}

static void timer_bench(void)
{
	u64 total = 0, round_min = ~0ul, round_max = 0;
	unsigned bad = 0;
	struct timer_sample s;

	for (unsigned phase = 0; phase < 16; phase++) /* once round, not counted */
		timer_sample(phase);
	for (unsigned r = 0; r < TIMER_ROUNDS; r++) {
		u64 sum = 0;
		for (unsigned phase = 0; phase < 16; phase++) {
			s = timer_sample(phase);
			if (s.intid != TIMER_PPI || s.elr != (u64)bench_spin || s.read < s.cval) {
				if (!bad++)
					gprintf("timer sample: INTID %lu at %#lx, read %lu for CVAL %lu\n", s.intid, s.elr,
						s.read, s.cval);
				continue;
			}
			sum += s.read - s.cval;
		}
		total += sum;
		round_min = sum < round_min ? sum : round_min;
		round_max = sum > round_max ? sum : round_max;
	}
	write_sysreg(vbar_el1, (u64)guest_vectors);
	isb();
	check(!bad, "%u virtual timer interrupts, each INTID %u taken in the spin loop", 16 * TIMER_ROUNDS, TIMER_PPI);
	gprintf("BENCH: virtual-timer-irq %lu instructions (%u interrupts; a round of 16: %lu..%lu)\n",
		total / TIMER_ROUNDS, 16 * TIMER_ROUNDS, round_min, round_max);
}

/* ---- SGIs to another vCPU ------------------------------------------------------------ */

/*
 * vCPU 0 writes ICC_SGI1R_EL1 for SGI_INTID on vCPU 1, N times, against the
 * same loop with a NOP. On 2 vCPUs the instruction count is the machine's:
 * whatever vCPU 1 runs while the loop does is in the figure. vCPU 1 idles in
 * WFI with the SGI enabled; each time it wakes it counts (target_wakes, and
 * target_sgis for each SGI it takes). QEMU (one TCG thread for all CPUs
 * under icount) runs the CPUs in turn: the kick the hypervisor sends to
 * vCPU 1's pCPU makes it runnable, and it runs when vCPU 0's turn ends, not
 * at the write. A window in which neither count moved is one in which vCPU 1
 * did not run, so what was counted is vCPU 0's instructions alone: the
 * sender's path. Windows in which vCPU 1 ran are discarded; two clean ones
 * must agree.
 */
#define SGI_INTID 1
#define SGI_WINDOWS 8
#define PSCI_CPU_ON64 0xc4000003ul
#define RAM_BASE 0x40000000ul /* the device tree, when QEMU boots the ELF itself */

static volatile bool sgi_mode;
static volatile u64 target_ready, target_wakes, target_sgis;

#define SGI_LOOP(name, insn)                                                   \
	static struct counts __attribute__((noinline)) name(u64 value)         \
	{                                                                      \
		u64 t0, t1, i0, i1;                                            \
		t0 = read_sysreg(cntvct_el0);                                  \
		i0 = read_sysreg(pmevcntr0_el0);                               \
		for (unsigned i = 0; i < N; i++)                               \
			asm volatile(insn ::"r"(value) : "memory");            \
		i1 = read_sysreg(pmevcntr0_el0);                               \
		t1 = read_sysreg(cntvct_el0);                                  \
		return (struct counts){ t1 - t0, i1 - i0 };                    \
	}

SGI_LOOP(loop_sgi_nop, "nop")
SGI_LOOP(loop_sgi, "msr S3_0_C12_C11_5, %0") /* ICC_SGI1R_EL1 */

/* ICC_SGI1R_EL1 for one target: TargetList, Aff1, INTID, Aff2, RS, Aff3. */
static u64 sgir_for(u64 mpidr, unsigned intid)
{
	u64 aff0 = FIELD(mpidr, 7, 0);

	return BIT(aff0 % 16) | FIELD(mpidr, 15, 8) << 16 | (u64)intid << 24 | FIELD(mpidr, 23, 16) << 32 |
	       (aff0 / 16) << 44 | FIELD(mpidr, 39, 32) << 48;
}

/* vCPU index's SGI_INTID: Group 1, enabled, on its redistributor (any vCPU may write it). */
static void target_sgi_config(unsigned index)
{
	u64 sgi_frame = GICR_BASE + index * 0x20000ul + 0x10000ul;

	*(volatile u32 *)(sgi_frame + 0x080) |= 1u << SGI_INTID; /* GICR_IGROUPR0 */
	*(volatile u32 *)(sgi_frame + 0x100) = 1u << SGI_INTID;	 /* GICR_ISENABLER0 */
}

static void target_irq(void)
{
	u64 iar = read_sysreg(S3_0_C12_C12_0); /* ICC_IAR1_EL1 */

	if ((iar & 0xffffff) == SGI_INTID)
		__atomic_add_fetch(&target_sgis, 1, __ATOMIC_RELEASE);
	write_sysreg(S3_0_C12_C12_1, iar); /* ICC_EOIR1_EL1 */
	isb();
}

/*
 * Waits up to `ticks` of CNTVCT for *p to pass `than`. Under icount QEMU runs
 * the CPUs in turn on one thread, and a CPU that spins keeps its turn for a
 * long time (vCPU 1 did not start in 3 s of virtual time while vCPU 0 spun
 * here without a YIELD); a YIELD ends the turn, so this loop yields. The
 * measured loops never do.
 */
static bool wait_above(volatile u64 *p, u64 than, u64 ticks)
{
	u64 end = read_sysreg(cntvct_el0) + ticks;

	while (__atomic_load_n(p, __ATOMIC_ACQUIRE) <= than) {
		if (read_sysreg(cntvct_el0) > end)
			return false;
		asm volatile("yield"); /* under icount QEMU then runs the other CPU */
	}
	return true;
}

/* Both SGI boots run on two CPUs: the MPIDR of the one that is not this one, or ~0. */
static u64 other_cpu(u64 dtb)
{
	u64 regs[4], self = read_sysreg(mpidr_el1) & MPIDR_AFF_MASK, other = ~0ul;
	unsigned n = fdt_cpu_regs(dtb, regs, 4);

	for (unsigned i = 0; i < n; i++)
		if (regs[i] != self)
			other = regs[i];
	check(n == 2 && other != ~0ul, "the device tree names 2 CPUs (%u)", n);
	return n == 2 ? other : ~0ul;
}

static void sgi_bench(u64 dtb)
{
	u64 other = other_cpu(dtb), value, wakes, sgis;
	unsigned clean = 0, dirty = 0;
	u64 second = read_sysreg(cntfrq_el0);
	struct counts base, off, on[2];

	if (other == ~0ul)
		return;
	value = sgir_for(other, SGI_INTID);

	/* vCPU 1 off: the SGI is made pending (Group 1 and enabled on its
	 * redistributor, as it will have it), and no kick is sent. */
	target_sgi_config(1);
	base = loop_sgi_nop(value);
	check(base.insns > 0, "the PMU counts retired instructions (needs -icount)");
	off = loop_sgi(value);
	report("sgi-to-off-vcpu", off, base, true);

	sgi_mode = true;
	check(psci_call(PSCI_CPU_ON64, other, (u64)secondary_entry, 1) == 0, "vCPU 1 powered on (CPU_ON)");
	/* Up, it takes an SGI: the one the loop above left pending, if its
	 * power-on kept it, or this one. */
	check(wait_above(&target_ready, 0, second), "vCPU 1 is up");
	asm volatile("msr S3_0_C12_C11_5, %0" ::"r"(value) : "memory");
	check(wait_above(&target_sgis, 0, second), "vCPU 1 takes an SGI from vCPU 0");

	for (unsigned w = 0; w < SGI_WINDOWS && clean < 2; w++) {
		wakes = __atomic_load_n(&target_wakes, __ATOMIC_ACQUIRE);
		sgis = __atomic_load_n(&target_sgis, __ATOMIC_ACQUIRE);
		base = loop_sgi_nop(value);
		on[clean] = loop_sgi(value);
		if (__atomic_load_n(&target_wakes, __ATOMIC_ACQUIRE) == wakes &&
		    __atomic_load_n(&target_sgis, __ATOMIC_ACQUIRE) == sgis) {
			on[clean].insns -= base.insns;
			on[clean].ticks -= base.ticks;
			clean++;
		} else {
			dirty++;
		}
		/* What the window sent reaches vCPU 1 once it runs. */
		check(wait_above(&target_sgis, sgis, second), "vCPU 1 took the SGIs of window %u", w);
	}
	check(clean == 2 && on[0].insns == on[1].insns,
	      "two windows in which vCPU 1 did not run (%u discarded) agree: %lu, %lu instructions per %u SGIs", dirty,
	      clean > 0 ? on[0].insns : 0, clean > 1 ? on[1].insns : 0, N);
	if (clean == 2)
		gprintf("BENCH: sgi-to-vcpu1 %lu instructions (CNTVCT: %lu; vCPU 1 ran in %u of %u windows, discarded)\n",
			on[0].insns / N, on[0].ticks * (1000000000ul / second) / N, dirty, clean + dirty);
}

/* ---- a WFI that switches to another vCPU ------------------------------------------ */

/*
 * 2 vCPUs on 1 pCPU (--smp 2 --pcpus 1): one instruction count for both,
 * and CNTVCT is the guest's on both, so the count vCPU 1 reads goes on from
 * the one vCPU 0 read. (The PMU, exact, is not the guest's while vCPUs share
 * a pCPU: the hypervisor hides it.) The two play ping-pong:
 *
 *   vCPU 0, round r: turn = r; read CNTVCT; WFI with nothing pending: it
 *     blocks and the pCPU goes to vCPU 1 (the switch measured); woken, read
 *     CNTVCT, acknowledge the SGI that woke it.
 *   vCPU 1, turn t: wait for turn t (vCPU 0 is blocked in its round t);
 *     read CNTVCT; write ICC_SGI1R_EL1 for vCPU 0: the trap wakes vCPU 0,
 *     and its exit gives the pCPU to it, vCPU 1 staying runnable (the wake);
 *     back, read CNTVCT.
 *
 * So vCPU 1 is always preempted right after its SGI write and resumes there:
 * the first instruction it runs after vCPU 0's WFI is its read. resume - wfi
 * is the WFI's trap, sched_block, the switch (put, load, the stacks) and vCPU
 * 1's way out of its own trap to the eret into it, and the window's own
 * instructions, which the same window with a NOP in place of the trapping
 * instruction gives. Likewise woken - sgi for the wake, the SGI write to the
 * eret into the vCPU it woke.
 *
 * Exact although CNTVCT ticks every 16 instructions: each read is a vernier,
 * 17 reads in a row (VERNIER), and where the count steps among them says how
 * far into its tick the first one was. Two verniers b - a instructions apart,
 * whose counts step at their k_a-th and k_b-th reads, have
 * b - a = 16 (count_b - count_a) + k_a - k_b. Every round then gives the
 * same figure, and the bench checks that it does.
 *
 * How it starts: vCPU 1 comes up and blocks in WFI (the null HVC is measured
 * meanwhile, with the vCPUs sharing the pCPU); vCPU 0's SGI wakes it, and
 * vCPU 1 spins until its time slice ends and vCPU 0 runs again. Round 1 then
 * resumes vCPU 1 in that spin, not after its write: rounds from 2 on are
 * counted, up to the last but one (vCPU 1 stores what it read before its SGI
 * only after it resumes).
 */
#define SWITCH_ROUNDS 64
#define VERNIER_READS 17

/* 17 reads of CNTVCT into x1-x17, then (VERNIER_STORE) into 17 u64s at a register. */
#define VERNIER                                                                                   \
	"mrs x1, cntvct_el0\n mrs x2, cntvct_el0\n mrs x3, cntvct_el0\n mrs x4, cntvct_el0\n"     \
	"mrs x5, cntvct_el0\n mrs x6, cntvct_el0\n mrs x7, cntvct_el0\n mrs x8, cntvct_el0\n"     \
	"mrs x9, cntvct_el0\n mrs x10, cntvct_el0\n mrs x11, cntvct_el0\n mrs x12, cntvct_el0\n" \
	"mrs x13, cntvct_el0\n mrs x14, cntvct_el0\n mrs x15, cntvct_el0\n mrs x16, cntvct_el0\n" \
	"mrs x17, cntvct_el0\n"
#define VERNIER_STORE(p)                                                                          \
	"stp x1, x2, [" p "]\n stp x3, x4, [" p ", #16]\n stp x5, x6, [" p ", #32]\n"          \
	"stp x7, x8, [" p ", #48]\n stp x9, x10, [" p ", #64]\n stp x11, x12, [" p ", #80]\n"  \
	"stp x13, x14, [" p ", #96]\n stp x15, x16, [" p ", #112]\n str x17, [" p ", #128]\n"
#define VERNIER_STORE_LEN 9
#define VERNIER_CLOBBERS "x1", "x2", "x3", "x4", "x5", "x6", "x7", "x8", "x9", "x10", "x11", "x12", "x13", \
			 "x14", "x15", "x16", "x17", "memory"

struct vernier {
	u64 count[VERNIER_READS];
};

static volatile bool sched_mode, switch_go;
static volatile u64 switch_turn, vcpu0_sgir;
/* By vCPU 0's round: its verniers around its WFI, vCPU 1's after it resumed
 * and before the SGI that ends the round. */
static struct vernier sw_wfi[SWITCH_ROUNDS + 2], sw_woken[SWITCH_ROUNDS + 2];
static struct vernier sw_resume[SWITCH_ROUNDS + 2], sw_sgi[SWITCH_ROUNDS + 2];

/* The read (1..16) at which the count stepped, 0 if it did not step once. */
static unsigned vernier_step(const struct vernier *v)
{
	for (unsigned k = 1; k < VERNIER_READS; k++)
		if (v->count[k] != v->count[0])
			return v->count[k] == v->count[0] + 1 ? k : 0;
	return 0;
}

/* Instructions from vernier a's first read to vernier b's, or 0 if either is not one. */
static u64 vernier_distance(const struct vernier *a, const struct vernier *b, u64 ns_per_tick)
{
	unsigned ka = vernier_step(a), kb = vernier_step(b);

	if (!ka || !kb || ns_per_tick != 16)
		return 0;
	return (b->count[0] - a->count[0]) * 16 + ka - kb;
}

/* The INTID acknowledged (ended too), or 1023 with nothing pending. */
static unsigned sgi_ack(void)
{
	u64 iar = read_sysreg(S3_0_C12_C12_0); /* ICC_IAR1_EL1 */

	if ((iar & 0xffffff) < 1020) {
		write_sysreg(S3_0_C12_C12_1, iar); /* ICC_EOIR1_EL1 */
		isb();
	}
	return iar & 0xffffff;
}

/* vCPU 1 of the sched boot. */
static void switch_partner(unsigned index)
{
	u64 to_vcpu0 = vcpu0_sgir;

	gic_init_cpu();
	target_sgi_config(index);
	__atomic_store_n(&target_ready, 1, __ATOMIC_RELEASE);
	while (!switch_go) { /* blocked: its pCPU is vCPU 0's */
		asm volatile("wfi" ::: "memory");
		sgi_ack();
	}
	for (unsigned t = 1; t <= SWITCH_ROUNDS; t++) {
		while (__atomic_load_n(&switch_turn, __ATOMIC_ACQUIRE) != t)
			;
		asm volatile(VERNIER VERNIER_STORE("%0")
			     "msr S3_0_C12_C11_5, %2\n" /* ICC_SGI1R_EL1: vCPU 0 runs */
			     VERNIER			/* vCPU 0's next WFI: here */
			     VERNIER_STORE("%1")
			     :: "r"(&sw_sgi[t]), "r"(&sw_resume[t + 1]), "r"(to_vcpu0)
			     : VERNIER_CLOBBERS);
	}
}

/* vCPU 0's window: a vernier, insn, its store, a vernier, its store. */
#define SWITCH_WINDOW(insn, before, after)                                                          \
	asm volatile(VERNIER insn "\n" VERNIER_STORE("%0") VERNIER VERNIER_STORE("%1")::"r"(before), \
		     "r"(after)                                                                       \
		     : VERNIER_CLOBBERS)

static void sched_bench(u64 dtb)
{
	u64 self = read_sysreg(mpidr_el1) & MPIDR_AFF_MASK, other = other_cpu(dtb);
	u64 second = read_sysreg(cntfrq_el0), ns_per_tick = 1000000000ul / second;
	u64 sw = 0, wake = 0, window;
	unsigned acks_bad = 0, sw_bad = 0, wake_bad = 0, count = 0;
	struct counts hvc_base, hvc;
	struct vernier before, after;

	if (other == ~0ul)
		return;
	vcpu0_sgir = sgir_for(self, SGI_INTID);
	target_sgi_config(0);
	sched_mode = true;
	check(psci_call(PSCI_CPU_ON64, other, (u64)secondary_entry, 1) == 0, "vCPU 1 powered on (CPU_ON)");
	check(wait_above(&target_ready, 0, second), "vCPU 1 is up");

	/* The null HVC with vCPU 1 blocked in WFI on this pCPU. */
	hvc_base = loop_nop();
	hvc = loop_hvc();
	gprintf("BENCH: null-hvc-shared %lu instructions (CNTVCT)\n",
		((hvc.ticks - hvc_base.ticks) * ns_per_tick + N / 2) / N);

	/* The window with a NOP: the vernier's 17 reads, the NOP and the store. */
	SWITCH_WINDOW("nop", &before, &after);
	window = vernier_distance(&before, &after, ns_per_tick);
	check(window == VERNIER_READS + 1 + VERNIER_STORE_LEN,
	      "CNTVCT read 17 times in a row measures the window with a NOP exactly: %lu instructions, want %u",
	      window, VERNIER_READS + 1 + VERNIER_STORE_LEN);

	switch_go = true;
	asm volatile("msr S3_0_C12_C11_5, %0" ::"r"(sgir_for(other, SGI_INTID)) : "memory");
	for (unsigned r = 1; r <= SWITCH_ROUNDS; r++) {
		__atomic_store_n(&switch_turn, r, __ATOMIC_RELEASE);
		SWITCH_WINDOW("wfi", &sw_wfi[r], &sw_woken[r]);
		acks_bad += sgi_ack() != SGI_INTID;
	}

	/* vCPU 1 stores its read before the last SGI only once it runs again.
	 * From vCPU 0's vernier to vCPU 1's: its reads and the WFI, with a NOP
	 * VERNIER_READS + 1; from vCPU 1's to vCPU 0's: its reads, its store,
	 * the write, vCPU 0's store of the first vernier. */
	for (unsigned r = 2; r < SWITCH_ROUNDS; r++, count++) {
		u64 s = vernier_distance(&sw_wfi[r], &sw_resume[r], ns_per_tick) - (VERNIER_READS + 1);
		u64 w = vernier_distance(&sw_sgi[r], &sw_woken[r], ns_per_tick) -
			(VERNIER_READS + 2 * VERNIER_STORE_LEN + 1);
		sw_bad += r > 2 && s != sw;
		wake_bad += r > 2 && w != wake;
		sw = s;
		wake = w;
	}
	check(!acks_bad, "each WFI woken by vCPU 1's SGI %u (%u rounds not)", SGI_INTID, acks_bad);
	check(!sw_bad && !wake_bad && sw < 100000 && wake < 100000,
	      "every round the same switch and the same wake-up (%u and %u rounds not; last %lu, %lu)", sw_bad,
	      wake_bad, sw, wake);
	gprintf("BENCH: wfi-switch %lu instructions (CNTVCT verniers, %u switches, all the same)\n", sw, count);
	gprintf("BENCH: sgi-switch %lu instructions (CNTVCT verniers, %u wake-ups, all the same)\n", wake, count);
}

/* ---- boot --------------------------------------------------------------------------- */

static bool has_word(const char *s, u32 len, const char *word)
{
	size_t n = strlen(word);

	if (!s)
		return false;
	for (u32 i = 0; i + n <= len && s[i]; i++)
		if ((i == 0 || s[i - 1] == ' ') && !strncmp(s + i, word, n) && (s[i + n] == ' ' || s[i + n] == '\0'))
			return true;
	return false;
}

int main(u64 x0)
{
	struct counts base, timer_base;
	u64 dtb = fdt_valid(x0) ? x0 : RAM_BASE;
	u32 len = 0;
	const char *args = fdt_prop(dtb, "/chosen", "bootargs", &len);

	psci_conduit_from_dt(dtb); /* bare QEMU answers PSCI on HVC only */
	gic_init_cpu();
	if (has_word(args, len, "bench.bare")) {
		timer_bench(); /* no EL2 here: nothing else to measure */
		return 0;
	}
	if (has_word(args, len, "bench.sched")) {
		sched_bench(dtb); /* the PMU is not the guest's there */
		return 0;
	}
	write_sysreg(pmevtyper0_el0, INST_RETIRED | PMEVTYPER_NSH);
	write_sysreg(pmcntenset_el0, 1);
	write_sysreg(pmcr_el0, read_sysreg(pmcr_el0) | 1); /* PMCR_EL0.E */
	isb();
	pmu_on = true;
	if (has_word(args, len, "bench.sgi")) {
		sgi_bench(dtb);
		return 0;
	}
	base = loop_nop();
	check(base.insns > 0, "the PMU counts retired instructions (needs -icount)");
	report("null-hvc", loop_hvc(), base, true);
	report("id-register-read", loop_idreg(), base, true);
	report("mmio-read", loop_mmio(), base, true);
	report("mmio-read-inner", loop_mmio_inner(), base, true);
	timer_base = loop_timer_nop();
	report("wfi", loop_wfi(), timer_base, false);
	timer_bench();
	return 0;
}

/* vCPU 1: of the sched boot, vCPU 0's partner; of the SGI boot, the target, idle in WFI with its SGI enabled. */
void secondary_main(unsigned index)
{
	if (sched_mode) {
		switch_partner(index);
		return;
	}
	if (!sgi_mode)
		return;
	gic_init_cpu();
	target_sgi_config(index);
	guest_irq_handler = target_irq;
	__atomic_store_n(&target_ready, 1, __ATOMIC_RELEASE);
	asm volatile("msr daifclr, #2" ::: "memory");
	for (;;) {
		asm volatile("wfi" ::: "memory");
		__atomic_add_fetch(&target_wakes, 1, __ATOMIC_RELEASE);
	}
}
