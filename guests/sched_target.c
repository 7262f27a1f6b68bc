/*
 * sched_target: the guest tests/qemu/gdb_sched.sh debugs, with more vCPUs than
 * pCPUs (scripts/run-qemu --smp 4 --pcpus 2). Every vCPU holds values that are
 * its own, so that a debugger reading another vCPU's saved context, or walking
 * another vCPU's page tables, shows the wrong value:
 *
 *   x19               SCHED_X19(n) on vCPU n, all the time: x19 is a global
 *                     register variable, which nothing in this file uses for
 *                     anything else (and code elsewhere saves and restores);
 *                     a change is kept in sched_x19_seen[n] and printed
 *   TPIDR_EL0         SCHED_TPIDR(n), set at boot; a change is kept in
 *                     sched_tpidr_seen[n] and printed
 *   TPIDR_EL1         n (guests/lib/head.S), and sp in guest_stacks[n * 16 KiB, +16 KiB)
 *   SCHED_PRIVATE_VA  the same virtual address on every vCPU, each its own page
 *                     (stage 1 tables of its own): word 0 holds SCHED_PRIVATE(n),
 *                     written through that address; a change of word 1 is printed
 *   sched_rounds[n]   the rounds of its loop below
 *   FP/SIMD           v0, v1, v2, v8, FPCR and FPSR: SCHED_FP(n, w) in word w of
 *                     struct sched_fp (v0.d[0] is word 0, v0.d[1] word 1, ...),
 *                     SCHED_FPCR(n), SCHED_FPSR(n), set at boot, except word 1,
 *                     v0.d[1]: the vCPU's FP rounds, which it bumps in the register
 *                     every round (sched_fp_round) and then stores in
 *                     sched_fp_want[n]. Every round it also compares all of them
 *                     with sched_fp_want[n]; what differs is printed, kept in
 *                     sched_fp_seen[n] (its bits in sched_fp_changed[n]) and
 *                     taken as the new state. Only this file touches the SIMD
 *                     registers (the guests are built -mgeneral-regs-only), and
 *                     every vCPU uses them every round, so they change hands
 *                     between the vCPUs of a pCPU all the time
 *
 * vCPU 0 spins and never waits, with no trap at all: each round it calls
 * sched_fp_round(), then sched_vcpu0_round() and, every SCHED_HEARTBEAT_MS of
 * guest time, prints every vCPU's rounds ("sched_target: heartbeat H: rounds
 * R0 R1 ..."). The other vCPUs wait a timer tick in a WFI each round (sched_wfi,
 * then sched_woken), then call sched_fp_round(), and the last of them also
 * calls sched_last_round(): a function no other vCPU runs. A vCPU stopped at
 * sched_fp_bumped has just used FP/SIMD: it holds its pCPU's registers (it is
 * the hypervisor's fp_owner there), and the other vCPUs placed there do not.
 */
#include "guest.h"

#define PSCI_CPU_ON 0xc4000003ul
#define SCHED_MAX_VCPUS 8
#define SCHED_TICK_MS 5
#define SCHED_HEARTBEAT_MS 250
#define SCHED_X19(n) (0x5c4ed19000000000ul + (n))
#define SCHED_TPIDR(n) (0x5c4ed0e100000000ul + (n))
#define SCHED_PRIVATE(n) (0x5c4edfa9e0000000ul + (n))
#define SCHED_FP(n, w) (0x5c4ed0f000000000ul + ((u64)(w) << 12) + (n))
/* FPCR: AHP, and DN, FZ and RMode (the rounding mode) from n; FPSR: QC and the
 * cumulative flags IOC..IXC as n + 1. No FP arithmetic here changes either. */
#define SCHED_FPCR(n) (BIT(26) | ((n) & 1ul) << 25 | ((n) >> 2 & 1ul) << 24 | ((n) & 3ul) << 22)
#define SCHED_FPSR(n) (BIT(27) | ((n) + 1ul))
/* Level-1 entry 64 of a 39-bit TTBR0 space: nothing else is mapped there. */
#define SCHED_PRIVATE_VA 0x1000000000ul

/* Stage 1: the format guests/lib/guest.h describes. */

register u64 sched_x19 asm("x19");

struct sched_tables {
	u64 l1[512], l2[512], l3[512];
};

struct sched_private {
	volatile u64 tag, word, pad[510];
};

static struct sched_tables tables[SCHED_MAX_VCPUS] __attribute__((aligned(4096)));
struct sched_private sched_private[SCHED_MAX_VCPUS] __attribute__((aligned(4096)));
volatile u64 sched_rounds[SCHED_MAX_VCPUS];
volatile u64 sched_x19_seen[SCHED_MAX_VCPUS], sched_tpidr_seen[SCHED_MAX_VCPUS];
volatile u64 sched_word_seen[SCHED_MAX_VCPUS], sched_last_calls;
volatile unsigned sched_vcpus, sched_up;

/* A vCPU's FP/SIMD registers, as sched_fp_store() writes them. */
enum { FP_V0_LO, FP_ROUND, FP_V1_LO, FP_V1_HI, FP_V2_LO, FP_V2_HI, FP_V8_LO, FP_V8_HI, FP_FPCR, FP_FPSR, FP_WORDS };
static const char *const fp_names[FP_WORDS] = { "v0.d[0]", "v0.d[1]", "v1.d[0]", "v1.d[1]", "v2.d[0]",
						"v2.d[1]", "v8.d[0]", "v8.d[1]", "fpcr",    "fpsr" };
struct sched_fp {
	u64 w[FP_WORDS];
} __attribute__((aligned(16)));
struct sched_fp sched_fp_want[SCHED_MAX_VCPUS], sched_fp_seen[SCHED_MAX_VCPUS];
volatile u64 sched_fp_changed[SCHED_MAX_VCPUS];

/* This vCPU's stage 1: the first 4 GiB identity-mapped, SCHED_PRIVATE_VA its own page. */
static void sched_mmu_enable(unsigned me)
{
	struct sched_tables *t = &tables[me];

	mmu_identity_4g(t->l1);
	t->l1[SCHED_PRIVATE_VA / SZ_1G] = (u64)t->l2 | DESC_TABLE;
	t->l2[0] = (u64)t->l3 | DESC_TABLE;
	t->l3[0] = (u64)&sched_private[me] | DESC_PAGE | ATTR_NORMAL | DESC_AF | DESC_SH_INNER | DESC_PXN | DESC_UXN;
	mmu_enable_tables(t->l1);
}

static struct sched_private *sched_mine(void)
{
	return (struct sched_private *)SCHED_PRIVATE_VA;
}

/* What a debugger changed in this vCPU's registers or private page, printed once. */
static void sched_check(unsigned me)
{
	u64 tpidr = read_sysreg(tpidr_el0), word = sched_mine()->word;

	if (sched_x19 != sched_x19_seen[me]) {
		sched_x19_seen[me] = sched_x19;
		gprintf("sched_target: vCPU %u x19 changed to %#lx\n", me, sched_x19);
	}
	if (tpidr != sched_tpidr_seen[me]) {
		sched_tpidr_seen[me] = tpidr;
		gprintf("sched_target: vCPU %u TPIDR_EL0 changed to %#lx\n", me, tpidr);
	}
	if (word != sched_word_seen[me]) {
		sched_word_seen[me] = word;
		gprintf("sched_target: vCPU %u private word changed to %#lx\n", me, word);
	}
}

static void sched_fp_store(struct sched_fp *p)
{
	u64 fpcr, fpsr;

	asm volatile("stp q0, q1, [%2]\n stp q2, q8, [%2, #32]\n mrs %0, fpcr\n mrs %1, fpsr"
		     : "=&r"(fpcr), "=&r"(fpsr)
		     : "r"(p->w)
		     : "memory");
	p->w[FP_FPCR] = fpcr;
	p->w[FP_FPSR] = fpsr;
}

static void sched_fp_load(const struct sched_fp *p)
{
	asm volatile("ldp q0, q1, [%0]\n ldp q2, q8, [%0, #32]\n msr fpcr, %1\n msr fpsr, %2" ::"r"(p->w),
		     "r"(p->w[FP_FPCR]), "r"(p->w[FP_FPSR])
		     : "memory");
}

/*
 * One round of this vCPU's FP/SIMD use: all of it compared with what it set,
 * then v0.d[1] bumped. The register changes first, in one instruction, and
 * memory after it, so sched_fp_want[me] says what the registers hold except at
 * sched_fp_bumped, where the register is one ahead (a debugger that stops the
 * vCPU there sees that).
 */
void __attribute__((noipa)) sched_fp_round(unsigned me)
{
	struct sched_fp got, *want = &sched_fp_want[me];
	u64 changed = 0, t;

	sched_fp_store(&got);
	for (unsigned i = 0; i < FP_WORDS; i++)
		if (got.w[i] != want->w[i])
			changed |= BIT(i);
	if (changed) {
		char line[400];
		int n = snprintf(line, sizeof(line), "sched_target: vCPU %u FP/SIMD differs from what it set:", me);

		for (unsigned i = 0; i < FP_WORDS && n < (int)sizeof(line); i++)
			if (changed & BIT(i))
				n += snprintf(line + n, sizeof(line) - n, " %s %#lx -> %#lx", fp_names[i], want->w[i],
					      got.w[i]);
		sched_fp_seen[me] = got;
		sched_fp_changed[me] |= changed;
		*want = got;
		gprintf("%s\n", line);
	}
	asm volatile("mov %0, v0.d[1]\n add %0, %0, #1\n mov v0.d[1], %0\n"
		     ".global sched_fp_bumped\n"
		     "sched_fp_bumped: str %0, [%1]"
		     : "=&r"(t)
		     : "r"(&want->w[FP_ROUND])
		     : "memory");
}

/* One timer tick asleep, woken by the virtual timer (PSTATE.I stays set). The two
 * instructions after the WFI are no branch, for a debugger's stepi. */
static void __attribute__((noipa)) sched_wait_tick(void)
{
	timer_arm_ticks(read_sysreg(cntfrq_el0) / (1000 / SCHED_TICK_MS));
	asm volatile(".global sched_wfi\n"
		     "sched_wfi: wfi\n"
		     ".global sched_woken\n"
		     "sched_woken: nop\n"
		     "nop" ::: "memory");
	timer_disarm();
}

/* Called by vCPU 0 every round, and by no other vCPU. */
void __attribute__((noipa)) sched_vcpu0_round(u64 round)
{
	sched_rounds[0] = round;
}

/* Called every round by the last vCPU, and by no other. */
void __attribute__((noipa)) sched_last_round(u64 round)
{
	sched_last_calls++;
}

static void sched_vcpu_up(unsigned me)
{
	sched_mmu_enable(me);
	gic_init_cpu();
	sched_x19 = SCHED_X19(me);
	sched_x19_seen[me] = sched_x19;
	write_sysreg(tpidr_el0, SCHED_TPIDR(me));
	sched_tpidr_seen[me] = SCHED_TPIDR(me);
	sched_mine()->tag = SCHED_PRIVATE(me);
	sched_word_seen[me] = sched_mine()->word;
	for (unsigned i = 0; i < FP_WORDS; i++)
		sched_fp_want[me].w[i] = i == FP_ROUND ? 0 : SCHED_FP(me, i);
	sched_fp_want[me].w[FP_FPCR] = SCHED_FPCR(me);
	sched_fp_want[me].w[FP_FPSR] = SCHED_FPSR(me);
	sched_fp_load(&sched_fp_want[me]);
	gprintf("sched_target: vCPU %u up (MPIDR %#lx), private tag %#lx\n", me, read_sysreg(mpidr_el1),
		sched_mine()->tag);
	__atomic_add_fetch(&sched_up, 1, __ATOMIC_RELEASE);
}

static void __attribute__((noreturn)) sched_spin(void)
{
	u64 step = read_sysreg(cntfrq_el0) / 1000 * SCHED_HEARTBEAT_MS;
	u64 next = read_sysreg(cntvct_el0) + step;
	char line[160];

	for (u64 round = 1, beat = 1;; round++) {
		sched_fp_round(0);
		sched_vcpu0_round(round);
		sched_check(0);
		if (read_sysreg(cntvct_el0) < next)
			continue;
		next += step;
		/* One line, one gprintf: another vCPU's line never lands inside it. */
		int n = snprintf(line, sizeof(line), "sched_target: heartbeat %lu: rounds", beat++);
		for (unsigned i = 0; i < sched_vcpus && n < (int)sizeof(line); i++)
			n += snprintf(line + n, sizeof(line) - n, " %lu", sched_rounds[i]);
		gprintf("%s\n", line);
	}
}

void secondary_main(unsigned me)
{
	sched_vcpu_up(me);
	while (!__atomic_load_n(&sched_vcpus, __ATOMIC_ACQUIRE))
		;
	for (u64 round = 1;; round++) {
		sched_wait_tick();
		sched_rounds[me] = round;
		sched_fp_round(me);
		if (me == sched_vcpus - 1)
			sched_last_round(round);
		sched_check(me);
	}
}

int main(u64 dtb)
{
	unsigned started = 0;

	gprintf("sched_target: per-vCPU registers and memory for GDB\n");
	sched_vcpu_up(0);
	/* CPU_ON every MPIDR 1..7 that exists: the others answer INVALID_PARAMETERS. */
	for (u64 i = 1; i < SCHED_MAX_VCPUS; i++)
		if (hvc_call(PSCI_CPU_ON, i, (u64)secondary_entry, i) == 0)
			started++;
	while (__atomic_load_n(&sched_up, __ATOMIC_ACQUIRE) != started + 1)
		;
	__atomic_store_n(&sched_vcpus, started + 1, __ATOMIC_RELEASE);
	gprintf("sched_target: ready, %u vCPUs\n", started + 1);
	sched_spin();
}
