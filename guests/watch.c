/*
 * The stage-2 watchpoint guest (tests/qemu/watch.sh): on 2 vCPUs it waits for
 * GDB to set `command`, then makes the accesses that scenario names and says
 * so in `done`. Everything a scenario writes it also checks, so an access that
 * a watched page made go wrong shows up as a FAIL on the console.
 */
#include "guest.h"

asm(".arch_extension lse"); /* LDADD, CAS, SWP below: -cpu max has them */

volatile u64 vars[16];			   /* sixteen watchpoints at once */
volatile u8 buf[65536] __attribute__((aligned(4096))); /* one watch on all of it */
/* A page with a watched 64-byte area in its middle and neighbours around it. */
struct kinds_page {
	volatile u64 before[64];
	volatile u64 area[8] __attribute__((aligned(64)));
	volatile u64 after[440];
} __attribute__((aligned(4096)));
struct kinds_page kinds;
volatile u64 shared[2][64] __attribute__((aligned(4096))); /* [0][0] watched; both vCPUs write the rest */
volatile u32 command, done, vcpu1_command, vcpu1_done;
volatile u64 el0_target;

/*
 * make bench (scripts/bench): what an access to a watched page outside its
 * watched range costs, in instructions under -icount, as guests/bench.c counts
 * them (PMU INST_RETIRED at EL1 and EL2, the same loop with a NOP subtracted).
 */
#define BENCH_N 1000
#define INST_RETIRED 0x08
#define PMEVTYPER_NSH (1ul << 27) /* count at EL2 too */

static void op_nop(volatile u64 *p) { asm volatile("nop"); }
static void op_str(volatile u64 *p) { asm volatile("str %0, [%1]" ::"r"(1ul), "r"(p) : "memory"); }
static void op_stp(volatile u64 *p) { asm volatile("stp %0, %0, [%1]" ::"r"(1ul), "r"(p) : "memory"); }
static void op_ecam(volatile u64 *p) { asm volatile("ldr w9, [%0]" ::"r"(0x4010000000ul) : "x9", "memory"); }

static u64 instructions(void (*op)(volatile u64 *), volatile u64 *p)
{
	u64 i0 = read_sysreg(pmevcntr0_el0);

	for (unsigned i = 0; i < BENCH_N; i++)
		op(p);
	return read_sysreg(pmevcntr0_el0) - i0;
}

static void bench_misses(void)
{
	volatile u64 *near = &kinds.after[8]; /* the watched area's page, outside it */
	u64 base;

	write_sysreg(pmevtyper0_el0, INST_RETIRED | PMEVTYPER_NSH);
	write_sysreg(pmcntenset_el0, 1);
	write_sysreg(pmcr_el0, read_sysreg(pmcr_el0) | 1); /* PMCR_EL0.E */
	isb();
	base = instructions(op_nop, near);
	gprintf("BENCH: watch-miss-str %lu instructions\n", (instructions(op_str, near) - base) / BENCH_N);
	gprintf("BENCH: watch-miss-stp %lu instructions\n", (instructions(op_stp, near) - base) / BENCH_N);
	gprintf("BENCH: watch-mmio-read %lu instructions\n", (instructions(op_ecam, near) - base) / BENCH_N);
}

/* Where each scenario ends, for GDB's breakpoint. */
void __attribute__((noinline)) scenario_done(u32 c)
{
	done = c;
	asm volatile("" ::: "memory");
}

static const u32 buf_offsets[] = { 0x1234, 0x0, 0xffff, 0x8001 };

static void writes_to_vars(void)
{
	for (unsigned i = 0; i < 16; i++)
		vars[i] = 100 + i;
}

static void writes_to_buf(void)
{
	for (unsigned i = 0; i < ARRAY_SIZE(buf_offsets); i++)
		buf[buf_offsets[i]] = 0x5a + i;
}

/* rwatch / awatch on vars[3]: a write (no stop for rwatch), then a read. */
static u64 read_after_write(void)
{
	vars[3] = 7;
	return vars[3];
}

/*
 * One access of each kind to kinds.area + off (a hit when off is 0, a miss when
 * it is far enough away): command 40 + kind. Values written are checked.
 */
static void access_kind(unsigned kind, long off)
{
	volatile u64 *a = (volatile u64 *)((u8 *)kinds.area + off);
	u64 one = 1, old = 0, status = 0;

	switch (kind) {
	case 0: asm volatile("stp %0, %0, [%1]" ::"r"(one), "r"(a) : "memory"); break;
	case 1: asm volatile("ldp %0, %1, [%2]" : "=&r"(old), "=&r"(status) : "r"(a) : "memory"); break;
	case 2: asm volatile("str q0, [%0]" ::"r"(a) : "memory"); break;
	case 3: asm volatile("ld1 {v0.2d}, [%0]" ::"r"(a) : "memory"); break;
	case 4: asm volatile("ldadd %1, %0, [%2]" : "=&r"(old) : "r"(one), "r"(a) : "memory"); break;
	case 5: asm volatile("cas %0, %1, [%2]" : "+&r"(old) : "r"(one), "r"(a) : "memory"); break;
	case 6: asm volatile("swp %1, %0, [%2]" : "=&r"(old) : "r"(one), "r"(a) : "memory"); break;
	case 7: asm volatile("ldxr %0, [%1]" : "=&r"(old) : "r"(a) : "memory"); break;
	case 8: asm volatile("str %0, [%1]" ::"r"(~0ull), "r"((u64)a - 4) : "memory"); break; /* unaligned */
	case 9: asm volatile("dc zva, %0" ::"r"(a) : "memory"); break;
	case 10: asm volatile("strb %w0, [%1]" ::"r"(0x5au), "r"(a) : "memory"); break;
	case 11: asm volatile("stp %0, %0, [%1, #-8]" ::"r"(one), "r"(a) : "memory"); break; /* from 8 bytes before */
	}
	(void)old, (void)status;
}

/* Writes all over the page around kinds.area, none in it: nothing may stop. */
static bool neighbour_writes(void)
{
	bool ok = true;

	for (unsigned i = 0; i < 64; i++)
		kinds.before[i] = i * 3;
	for (unsigned i = 0; i < 440; i += 2)
		asm volatile("stp %0, %1, [%2]" ::"r"((u64)i), "r"((u64)i + 1), "r"(&kinds.after[i]) : "memory");
	for (unsigned i = 0; i < 64; i++)
		ok &= kinds.before[i] == i * 3;
	for (unsigned i = 0; i < 440; i++)
		ok &= kinds.after[i] == i;
	return ok;
}

/* Both vCPUs write their half of the watched page at once, then vCPU 1 the watched word. */
#define SHARED_ROUNDS 2000
static bool shared_writes(unsigned me)
{
	bool ok = true;

	for (unsigned r = 0; r < SHARED_ROUNDS; r++)
		for (unsigned i = 1; i < 64; i++)
			shared[me][i] = r * 64 + i;
	for (unsigned i = 1; i < 64; i++)
		ok &= shared[me][i] == (SHARED_ROUNDS - 1) * 64 + i;
	return ok;
}

/* One store to el0_target from EL0: an AArch64 EL0 run that ends with an SVC. */
void el0_store(volatile u64 *target);
void el0_kinds(volatile u64 *area);
asm(".pushsection .text\n"
    ".arch_extension lse\n"
    ".balign 2048\n"
    "el0_vectors:\n"
    ".irp kind, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n"
    ".balign 0x80\n"
    "b el0_return\n"
    ".endr\n"
    "el0_code: str x1, [x0]\n svc #0\n"
    /* The access kinds of access_kind(), from EL0, each on the area at x0. */
    "el0_kinds_code:\n"
    "stp x1, x1, [x0]\n ldp x2, x3, [x0]\n str q0, [x0]\n ld1 {v0.2d}, [x0]\n"
    "ldadd x1, x2, [x0]\n cas x2, x1, [x0]\n swp x1, x2, [x0]\n ldxr x2, [x0]\n"
    "sub x4, x0, #4\n str x1, [x4]\n dc zva, x0\n strb w1, [x0]\n stp x1, x1, [x0, #-8]\n"
    "svc #0\n"
    ".global el0_store\n"
    "el0_store:\n"
    "adr x5, el0_code\n b el0_run\n"
    ".global el0_kinds\n"
    "el0_kinds:\n"
    "adr x5, el0_kinds_code\n"
    "el0_run:\n" /* x0: the address, x5: the EL0 code */
    "stp x29, x30, [sp, #-32]!\n"
    "mrs x2, vbar_el1\n str x2, [sp, #16]\n"
    "adrp x2, el0_saved_sp\n mov x3, sp\n str x3, [x2, :lo12:el0_saved_sp]\n"
    "adr x2, el0_vectors\n msr vbar_el1, x2\n"
    "msr elr_el1, x5\n"
    "mov x2, #0x3c0\n msr spsr_el1, x2\n" /* EL0t, DAIF masked */
    "mov x1, #0x77\n isb\n eret\n"
    "el0_return:\n"
    "adrp x2, el0_saved_sp\n ldr x2, [x2, :lo12:el0_saved_sp]\n mov sp, x2\n"
    "ldr x2, [sp, #16]\n msr vbar_el1, x2\n isb\n"
    "ldp x29, x30, [sp], #32\n ret\n"
    ".popsection\n");
u64 el0_saved_sp;

void secondary_main(unsigned index)
{
	for (;;) {
		u32 c = vcpu1_command;
		if (c == 6) {
			check(shared_writes(1), "vCPU 1's writes to the watched page all landed");
			shared[0][0] = 0xbeef; /* the watched word: GDB stops here, on vCPU 1 */
		}
		if (c) {
			vcpu1_command = 0;
			vcpu1_done = c;
		}
	}
}

int main(u64 dtb)
{
	gprintf("watch: stage-2 watchpoint guest\n");
	if (smc_call(0xc4000003ul, 1, (u64)secondary_entry, 1))
		gprintf("watch: one vCPU only (the two-vCPU scenario needs -smp 2)\n");
	gprintf("watch: ready\n");
	for (;;) {
		u32 c = command;
		switch (c) {
		case 1: writes_to_vars(); break;
		case 2: writes_to_buf(); break;
		case 3: vars[4] = read_after_write(); break;
		case 5: check(neighbour_writes(), "writes around a watched area land and stop nothing"); break;
		case 6:
			vcpu1_command = 6;
			check(shared_writes(0), "vCPU 0's writes to the watched page all landed");
			while (vcpu1_done != 6)
				;
			break;
		case 7: el0_store(&el0_target); break;
		case 9: bench_misses(); break;
		case 10: /* every kind from EL0; DC ZVA there needs SCTLR_EL1.DZE */
			write_sysreg(sctlr_el1, read_sysreg(sctlr_el1) | (1ul << 14));
			isb();
			el0_kinds(kinds.area);
			break;
		case 40 ... 51: access_kind(c - 40, 0); break;
		case 60 ... 71: /* the same kinds far from the area, on the same page */
			access_kind(c - 60, -256);
			break;
		case 8: /* after detach: the watched words are plain memory again */
			vars[0] = 1, vars[9] = 2, buf[0] = 3, kinds.area[0] = 4;
			gprintf("watch: wrote the formerly watched words\n");
			break;
		}
		if (c) {
			command = 0;
			scenario_done(c);
		}
	}
	return 0;
}
