/*
 * PSCI for the guest (hv/core/psci.c, with hv/core/vcpu.c) and trapvisor's own
 * hypercalls (hv/core/hypercall.c), on fake vCPUs. The scheduler is
 * hv_fakes.c's: CPU_ON is seen handing its target to sched_start(), the
 * waits going to sched_block() or to a WFI.
 */
#include "check.h"
#include "hv_fakes.h"
#include "sched.h"

#define FN32(n) (0x84000000ull + (n))
#define FN64(n) (0xc4000000ull + (n))
#define VERSION 0
#define CPU_SUSPEND 1
#define CPU_OFF 2
#define CPU_ON 3
#define AFFINITY_INFO 4
#define MIGRATE 5
#define MIGRATE_INFO_TYPE 6
#define MIGRATE_INFO_UP_CPU 7
#define SYSTEM_OFF 8
#define SYSTEM_RESET 9
#define FEATURES 10
#define SMCCC_VERSION 0x80000000ull

#define SUCCESS 0ull
#define NOT_SUPPORTED ((u64)-1)
#define INVALID_PARAMETERS ((u64)-2)
#define ALREADY_ON ((u64)-4)
#define ON_PENDING ((u64)-5)
#define INVALID_ADDRESS ((u64)-9)

#define RAM_BASE 0x40000000ull
#define RAM_END 0x60000000ull

/* Two clusters of two: MPIDR affinities 0x000, 0x001, 0x100, 0x101. */
static const u64 aff[4] = { 0x000, 0x001, 0x100, 0x101 };

static struct trap_event ev;

/*
 * psci.c's waits come here (host.mk links test_psci with
 * --wrap=vcpu_wait_for_interrupt): counted, with the vCPU that waited, then
 * passed on to vcpu.c's own.
 */
void __real_vcpu_wait_for_interrupt(struct vcpu *v);
static unsigned waits;
static struct vcpu *waited;

void __wrap_vcpu_wait_for_interrupt(struct vcpu *v)
{
	waits++;
	waited = v;
	__real_vcpu_wait_for_interrupt(v);
}

static struct vcpu *V(unsigned i)
{
	return &vcpu_slots[i].vcpu;
}

/* Four vCPUs, each alone on its pCPU; vCPU 0 running (loaded), the others off. */
static void setup(void)
{
	fake_reset();
	pcpu_count = vcpu_count = 4;
	for (unsigned i = 0; i < 4; i++) {
		pcpus[i].id = i;
		pcpus[i].mpidr = aff[i] | BIT(31);
		V(i)->id = i;
		V(i)->vmpidr = aff[i] | BIT(31); /* as vcpu_init() sets it: bit 31 is RES1 */
		V(i)->state = VCPU_OFF;
		sched_place(V(i), &pcpus[i]);
	}
	V(0)->state = VCPU_RUNNING;
	V(0)->loaded = true;
	pcpus[0].curr = V(0);
	host_this_pcpu = &pcpus[0];
	waits = 0;
	waited = NULL;
	guest.ram_base = RAM_BASE;
	guest.ram_end = RAM_END;
	trap_config.enabled = 0;
}

/* A call from vCPU `caller`, made on its own pCPU, as trap.c hands it over. */
static u64 call_from(unsigned caller, u64 fid, u64 a1, u64 a2, u64 a3)
{
	struct trap_frame *f = V(caller)->regs;

	host_this_pcpu = &pcpus[caller];
	f->x[0] = fid;
	f->x[1] = a1;
	f->x[2] = a2;
	f->x[3] = a3;
	memset(&ev, 0xee, sizeof(ev));
	psci_handle(V(caller), f, &ev);
	return f->x[0];
}

static u64 call(u64 fid, u64 a1, u64 a2, u64 a3)
{
	return call_from(0, fid, a1, a2, a3);
}

static void version(void)
{
	setup();
	CHECK_EQ(call(FN32(VERSION), 0, 0, 0), 0x10001);
	CHECK_EQ(ev.outcome, OUT_EMULATED);
	/* Garbage in the argument registers changes nothing. */
	CHECK_EQ(call(FN32(VERSION), ~0ull, ~0ull, ~0ull), 0x10001);
	/* VERSION has no SMC64 form. */
	CHECK_EQ(call(FN64(VERSION), 0, 0, 0), NOT_SUPPORTED);
	CHECK_EQ(ev.outcome, OUT_NOT_SUPPORTED);
}

static void features(void)
{
	static const unsigned implemented[] = { VERSION, CPU_SUSPEND, CPU_OFF, CPU_ON, AFFINITY_INFO,
						MIGRATE_INFO_TYPE, SYSTEM_OFF, SYSTEM_RESET, FEATURES };

	setup();
	for (unsigned i = 0; i < ARRAY_SIZE(implemented); i++) {
		unsigned fn = implemented[i];
		bool has64 = fn == CPU_SUSPEND || fn == CPU_ON || fn == AFFINITY_INFO;

		CHECK_EQ(call(FN32(FEATURES), FN32(fn), 0, 0), SUCCESS);
		CHECK_EQ(ev.outcome, OUT_EMULATED);
		CHECK_EQ(call(FN32(FEATURES), FN64(fn), 0, 0), has64 ? SUCCESS : NOT_SUPPORTED);
		CHECK_EQ(ev.outcome, OUT_EMULATED); /* FEATURES itself is supported */
	}
	/* Defined by PSCI but not implemented here, reserved, and outside PSCI. */
	static const u64 unknown[] = {
		FN32(MIGRATE), FN32(MIGRATE_INFO_UP_CPU), FN32(11), FN32(0x12), FN32(0x1f),
		FN64(MIGRATE), FN64(0x1f), FN32(0x20), FN64(0x20), 0x83ffffff,
		SMCCC_VERSION, 0x80000001 /* SMCCC_ARCH_FEATURES */, 0xc6000000, 0,
	};
	for (unsigned i = 0; i < ARRAY_SIZE(unknown); i++)
		CHECK_EQ(call(FN32(FEATURES), unknown[i], 0, 0), NOT_SUPPORTED);
	/* FEATURES is SMC32 only. */
	CHECK_EQ(call(FN64(FEATURES), FN32(VERSION), 0, 0), NOT_SUPPORTED);
	CHECK_EQ(ev.outcome, OUT_NOT_SUPPORTED);
	/* SMC32: the queried id is W1; what is above it does not count. */
	CHECK_EQ(call(FN32(FEATURES), 0xdead000000000000ull | FN32(CPU_ON), 0, 0), SUCCESS);
}

/*
 * CPU_ON hands the target to the scheduler once: its saved context reset to
 * start at the entry point with x0 = the context id, then sched_start(),
 * which makes it ON_PENDING and queues it on its own pCPU.
 */
static void cpu_on_success(void)
{
	const struct fake_call *reset, *start;

	setup();
	CHECK_EQ(call(FN64(CPU_ON), 0x001, 0x40080000, 0x123456789abcdefull), SUCCESS);
	CHECK_EQ(ev.outcome, OUT_EMULATED);
	CHECK_EQ(V(1)->entry, 0x40080000);
	CHECK_EQ(V(1)->context_id, 0x123456789abcdefull);
	CHECK_EQ(fake_calls_of(FAKE_SCHED_START, NULL), 1);
	CHECK_EQ(fake_calls_of(FAKE_SCHED_START, V(1)), 1);
	CHECK_EQ(fake_calls_of(FAKE_CONTEXT_RESET, NULL), 1);
	reset = fake_call_first(FAKE_CONTEXT_RESET, V(1));
	start = fake_call_first(FAKE_SCHED_START, V(1));
	CHECK(reset && start);
	if (!reset || !start)
		return;
	CHECK_EQ(reset->a, 0x40080000);		  /* entry */
	CHECK_EQ(reset->b, 0x123456789abcdefull); /* x0 */
	CHECK(fake_call_index(FAKE_CONTEXT_RESET, V(1)) < fake_call_index(FAKE_SCHED_START, V(1)));
	/* Claimed, not yet pending, until the scheduler has it. */
	CHECK_EQ(reset->state, VCPU_ON_CLAIMED);
	CHECK_EQ(start->state, VCPU_ON_CLAIMED);
	CHECK_EQ(V(1)->state, VCPU_ON_PENDING); /* as sched_start() leaves it */
	/* Its first exit applies the trap classes and fills its list registers. */
	CHECK_EQ(V(1)->exit_work, EXIT_WORK_TRAPS | EXIT_WORK_VGIC);
	/* Nobody else moved. */
	CHECK_EQ(V(0)->state, VCPU_RUNNING);
	CHECK_EQ(V(2)->state, VCPU_OFF);
	CHECK_EQ(V(3)->state, VCPU_OFF);
	CHECK_EQ(V(0)->exit_work, 0);
	CHECK_EQ(V(2)->exit_work, 0);
	CHECK_EQ(V(3)->exit_work, 0);
	/* The other cluster, 32-bit form. */
	CHECK_EQ(call(FN32(CPU_ON), 0x101, 0x40100000, 7), SUCCESS);
	CHECK_EQ(V(3)->entry, 0x40100000);
	CHECK_EQ(V(3)->context_id, 7);
	CHECK_EQ(fake_calls_of(FAKE_SCHED_START, V(3)), 1);
	reset = fake_call_first(FAKE_CONTEXT_RESET, V(3));
	CHECK(reset && reset->a == 0x40100000 && reset->b == 7);
	CHECK_EQ(fake_calls_of(FAKE_SCHED_START, NULL), 2);
}

/*
 * CPU_ON of a vCPU in each state, from vCPU 0: only OFF starts it; while a
 * CPU_ON has it (claimed, or pending on its run queue) it is on its way; once
 * it has run (running, blocked in a WFI, queued again) it is on. AFFINITY_INFO
 * says the same, and nothing of the target changes unless it was off.
 */
static void cpu_on_each_state(void)
{
	static const struct {
		u32 state;
		const char *name;
		u64 cpu_on, affinity;
	} cases[] = {
		{ VCPU_OFF, "off", SUCCESS, 1 /* OFF */ },
		{ VCPU_ON_CLAIMED, "on_claimed", ON_PENDING, 2 /* ON_PENDING */ },
		{ VCPU_ON_PENDING, "on_pending", ON_PENDING, 2 },
		{ VCPU_RUNNING, "running", ALREADY_ON, 0 /* ON */ },
		{ VCPU_IDLE, "idle", ALREADY_ON, 0 },
		{ VCPU_RUNNABLE, "runnable", ALREADY_ON, 0 },
	};

	for (unsigned i = 0; i < ARRAY_SIZE(cases); i++) {
		bool starts = cases[i].cpu_on == SUCCESS;
		u64 ret;

		setup();
		V(2)->state = cases[i].state;
		V(2)->entry = 0x40001000;
		V(2)->context_id = 0x55;
		V(2)->exit_work = EXIT_WORK_SCHED;
		CHECK_EQ(call(FN64(AFFINITY_INFO), 0x100, 0, 0), cases[i].affinity);
		ret = call(FN64(CPU_ON), 0x100, 0x40080000, 0x66);
		if (ret != cases[i].cpu_on)
			printf("CPU_ON of a vCPU %s: %#llx\n", cases[i].name, (unsigned long long)ret);
		CHECK_EQ(ret, cases[i].cpu_on);
		CHECK_EQ(ev.outcome, OUT_EMULATED);
		CHECK_EQ(fake_calls_of(FAKE_SCHED_START, V(2)), starts);
		CHECK_EQ(fake_calls_of(FAKE_CONTEXT_RESET, V(2)), starts);
		CHECK_EQ(fake_calls_of(FAKE_VGIC_VCPU_RESET, V(2)), starts);
		CHECK_EQ(fake_call_count, starts ? 3 : 0);
		CHECK_EQ(V(2)->entry, starts ? 0x40080000 : 0x40001000);
		CHECK_EQ(V(2)->context_id, starts ? 0x66 : 0x55);
		CHECK_EQ(V(2)->state, starts ? VCPU_ON_PENDING : cases[i].state);
		CHECK_EQ(V(2)->exit_work, starts ? EXIT_WORK_TRAPS | EXIT_WORK_VGIC : EXIT_WORK_SCHED);
		/* The 32-bit form answers alike (and, having started it, ON_PENDING). */
		ret = call(FN32(CPU_ON), 0x100, 0x40080000, 0x77);
		CHECK_EQ(ret, starts ? ON_PENDING : cases[i].cpu_on);
		CHECK_EQ(fake_calls_of(FAKE_SCHED_START, V(2)), starts);
		CHECK_EQ(V(2)->context_id, starts ? 0x66 : 0x55);
	}
}

static void cpu_on_already_on_or_pending(void)
{
	setup();
	/* The caller itself, running. */
	CHECK_EQ(call(FN64(CPU_ON), 0x000, 0x40080000, 0), ALREADY_ON);
	CHECK_EQ(V(0)->state, VCPU_RUNNING);
	/* A vCPU in a trapped WFI is on. */
	V(2)->state = VCPU_IDLE;
	CHECK_EQ(call(FN64(CPU_ON), 0x100, 0x40080000, 0), ALREADY_ON);
	CHECK_EQ(V(2)->state, VCPU_IDLE);
	/* Turned on but not yet running. */
	CHECK_EQ(call(FN64(CPU_ON), 0x001, 0x40080000, 0x11), SUCCESS);
	V(3)->state = VCPU_RUNNING;
	CHECK_EQ(call_from(3, FN64(CPU_ON), 0x001, 0x40100000, 0x22), ON_PENDING);
	CHECK_EQ(V(1)->state, VCPU_ON_PENDING);
	/* The loser of the race must not move the winner's entry point, nor
	 * start it a second time. */
	CHECK_EQ(V(1)->entry, 0x40080000);
	CHECK_EQ(V(1)->context_id, 0x11);
	CHECK_EQ(fake_calls_of(FAKE_SCHED_START, V(1)), 1);
	CHECK_EQ(fake_calls_of(FAKE_CONTEXT_RESET, V(1)), 1);
	/* Claimed by a CPU_ON still writing the entry point: on its way, too. */
	V(1)->state = VCPU_ON_CLAIMED;
	CHECK_EQ(call_from(3, FN64(CPU_ON), 0x001, 0x40100000, 0x22), ON_PENDING);
	CHECK_EQ(call(FN64(AFFINITY_INFO), 0x001, 0, 0), 2);
	CHECK_EQ(V(1)->entry, 0x40080000);
	V(1)->state = VCPU_ON_PENDING;
	/* Once it runs, it is on; queued behind another vCPU of its pCPU, too. */
	V(1)->state = VCPU_RUNNING;
	CHECK_EQ(call(FN64(CPU_ON), 0x001, 0x40080000, 0), ALREADY_ON);
	CHECK_EQ(ev.outcome, OUT_EMULATED);
	V(1)->state = VCPU_RUNNABLE;
	CHECK_EQ(call(FN64(CPU_ON), 0x001, 0x40080000, 0), ALREADY_ON);
	CHECK_EQ(call(FN64(AFFINITY_INFO), 0x001, 0, 0), 0);
	CHECK_EQ(fake_calls_of(FAKE_SCHED_START, V(1)), 1);
	CHECK_EQ(V(1)->context_id, 0x11);
}

static void cpu_on_invalid_parameters(void)
{
	setup();
	CHECK_EQ(call(FN64(CPU_ON), 0x002, 0x40080000, 0), INVALID_PARAMETERS);
	CHECK_EQ(call(FN64(CPU_ON), 0x200, 0x40080000, 0), INVALID_PARAMETERS);
	CHECK_EQ(call(FN64(CPU_ON), 0x10000, 0x40080000, 0), INVALID_PARAMETERS);
	CHECK_EQ(call(FN64(CPU_ON), 1ull << 32, 0x40080000, 0), INVALID_PARAMETERS);
	/* Bits outside the affinity fields must be zero, MPIDR's RES1 bit 31 included. */
	CHECK_EQ(call(FN64(CPU_ON), BIT(31) | 0x001, 0x40080000, 0), INVALID_PARAMETERS);
	CHECK_EQ(call(FN64(CPU_ON), BIT(30) | 0x001, 0x40080000, 0), INVALID_PARAMETERS);
	CHECK_EQ(call(FN64(CPU_ON), BIT(40) | 0x001, 0x40080000, 0), INVALID_PARAMETERS);
	for (unsigned i = 1; i < 4; i++)
		CHECK_EQ(V(i)->state, VCPU_OFF);
	/* An invalid target is reported even with an invalid address too. */
	CHECK_EQ(call(FN64(CPU_ON), 0x002, 0x3, 0), INVALID_PARAMETERS);
	CHECK_EQ(fake_call_count, 0); /* nothing reset, nothing started */
}

static void cpu_on_invalid_address(void)
{
	static const u64 bad[] = {
		0, RAM_BASE - 4, RAM_END, RAM_END - 2, RAM_END + 0x1000, 0x40080002, 0x40080001,
		0x09000000, ~0ull - 3, RAM_BASE | (1ull << 40),
	};

	setup();
	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		CHECK_EQ(call(FN64(CPU_ON), 0x001, bad[i], 0), INVALID_ADDRESS);
		CHECK_EQ(V(1)->state, VCPU_OFF);
	}
	CHECK_EQ(fake_call_count, 0);
	/* The first and the last word of RAM are fine. */
	CHECK_EQ(call(FN64(CPU_ON), 0x001, RAM_BASE, 0), SUCCESS);
	CHECK_EQ(V(1)->entry, RAM_BASE);
	CHECK_EQ(call(FN64(CPU_ON), 0x100, RAM_END - 4, 0), SUCCESS);
	CHECK_EQ(V(2)->entry, RAM_END - 4);
}

static void smc32_arguments_truncated(void)
{
	setup();
	/* W1..W3: the upper halves of X1..X3 are not part of an SMC32 call. */
	CHECK_EQ(call(FN32(CPU_ON), 0xffffffff00000101ull, 0xabcdef0040080000ull, 0x1234567800000009ull),
		 SUCCESS);
	CHECK_EQ(V(3)->state, VCPU_ON_PENDING);
	CHECK_EQ(V(3)->entry, 0x40080000);
	CHECK_EQ(V(3)->context_id, 9);
	CHECK(fake_call_first(FAKE_CONTEXT_RESET, V(3)) && fake_call_first(FAKE_CONTEXT_RESET, V(3))->a == 0x40080000 &&
	      fake_call_first(FAKE_CONTEXT_RESET, V(3))->b == 9);
	/* SMC64: all 64 bits count, so the same target is unknown. */
	CHECK_EQ(call(FN64(CPU_ON), 0xffffffff00000001ull, 0x40080000, 0), INVALID_PARAMETERS);
	CHECK_EQ(call(FN64(CPU_ON), 0x001, 0xabcdef0040080000ull, 0), INVALID_ADDRESS);
	/* AFFINITY_INFO level in W2. */
	CHECK_EQ(call(FN32(AFFINITY_INFO), 0x000, 0xffffffff00000000ull, 0), 0 /* ON */);
	CHECK_EQ(call(FN64(AFFINITY_INFO), 0x000, 0xffffffff00000000ull, 0), INVALID_PARAMETERS);
}

static void affinity_info(void)
{
	setup();
	V(0)->state = VCPU_RUNNING;
	V(1)->state = VCPU_OFF;
	V(2)->state = VCPU_ON_PENDING;
	V(3)->state = VCPU_IDLE;
	/* Level 0: one CPU. ON = 0, OFF = 1, ON_PENDING = 2. */
	CHECK_EQ(call(FN64(AFFINITY_INFO), 0x000, 0, 0), 0);
	CHECK_EQ(call(FN64(AFFINITY_INFO), 0x001, 0, 0), 1);
	CHECK_EQ(call(FN64(AFFINITY_INFO), 0x100, 0, 0), 2);
	CHECK_EQ(call(FN64(AFFINITY_INFO), 0x101, 0, 0), 0); /* idle in WFI is on */
	V(3)->state = VCPU_RUNNABLE;
	CHECK_EQ(call(FN64(AFFINITY_INFO), 0x101, 0, 0), 0); /* waiting for its pCPU is on */
	V(1)->state = VCPU_ON_CLAIMED;
	CHECK_EQ(call(FN64(AFFINITY_INFO), 0x001, 0, 0), 2);
	V(1)->state = VCPU_OFF;
	V(3)->state = VCPU_IDLE;
	CHECK_EQ(call(FN32(AFFINITY_INFO), 0x001, 0, 0), 1);
	CHECK_EQ(ev.outcome, OUT_EMULATED);
	CHECK_EQ(call(FN64(AFFINITY_INFO), 0x002, 0, 0), INVALID_PARAMETERS);
	CHECK_EQ(call(FN64(AFFINITY_INFO), 0x200, 0, 0), INVALID_PARAMETERS);
	/* Level 1: a cluster, Aff0 ignored. */
	CHECK_EQ(call(FN64(AFFINITY_INFO), 0x0ff, 1, 0), 0);
	CHECK_EQ(call(FN64(AFFINITY_INFO), 0x1ff, 1, 0), 0);
	V(3)->state = VCPU_OFF;
	CHECK_EQ(call(FN64(AFFINITY_INFO), 0x100, 1, 0), 2); /* one pending, one off */
	V(2)->state = VCPU_OFF;
	CHECK_EQ(call(FN64(AFFINITY_INFO), 0x100, 1, 0), 1);
	CHECK_EQ(call(FN64(AFFINITY_INFO), 0x200, 1, 0), INVALID_PARAMETERS);
	/* Level 2: Aff1 and Aff0 ignored; Aff2 must match. */
	CHECK_EQ(call(FN64(AFFINITY_INFO), 0x0ffff, 2, 0), 0);
	CHECK_EQ(call(FN64(AFFINITY_INFO), 0x10000, 2, 0), INVALID_PARAMETERS);
	V(0)->state = VCPU_OFF;
	V(1)->state = VCPU_ON_PENDING;
	CHECK_EQ(call(FN64(AFFINITY_INFO), 0x0, 2, 0), 2);
	/* Level 3: only Aff3 counts. */
	CHECK_EQ(call(FN64(AFFINITY_INFO), 0xffffff, 3, 0), 2);
	CHECK_EQ(call(FN64(AFFINITY_INFO), 1ull << 32, 3, 0), INVALID_PARAMETERS);
	V(1)->state = VCPU_OFF;
	CHECK_EQ(call(FN64(AFFINITY_INFO), 0x0, 3, 0), 1);
	/* No level 4. */
	CHECK_EQ(call(FN64(AFFINITY_INFO), 0x0, 4, 0), INVALID_PARAMETERS);
	CHECK_EQ(call(FN64(AFFINITY_INFO), 0x0, ~0ull, 0), INVALID_PARAMETERS);
}

static void migrate_info_type(void)
{
	setup();
	CHECK_EQ(call(FN32(MIGRATE_INFO_TYPE), 0, 0, 0), 2); /* no migration needed */
	CHECK_EQ(ev.outcome, OUT_EMULATED);
	CHECK_EQ(call(FN64(MIGRATE_INFO_TYPE), 0, 0, 0), NOT_SUPPORTED);
}

/*
 * CPU_OFF only asks the caller's exit to take it off its pCPU (sched_exit(),
 * which makes it OFF once it is put): until then it is still on, to
 * AFFINITY_INFO and to a CPU_ON, which must not start it afresh under itself.
 */
static void cpu_off(void)
{
	setup();
	V(1)->state = VCPU_RUNNING;
	V(1)->loaded = true;
	pcpus[1].curr = V(1);
	V(1)->exit_work = EXIT_WORK_TRAPS;
	V(2)->state = VCPU_RUNNING;
	CHECK_EQ(call_from(1, FN32(CPU_OFF), 0, 0, 0), SUCCESS);
	CHECK_EQ(ev.outcome, OUT_EMULATED);
	CHECK_EQ(V(1)->state, VCPU_RUNNING);
	CHECK_EQ(V(1)->exit_work, EXIT_WORK_TRAPS | EXIT_WORK_CPU_OFF);
	/* Only the caller: not vCPU 0, not the other one running. */
	CHECK_EQ(V(0)->exit_work, 0);
	CHECK_EQ(V(2)->exit_work, 0);
	CHECK_EQ(V(3)->exit_work, 0);
	CHECK_EQ(V(0)->state, VCPU_RUNNING);
	CHECK_EQ(V(2)->state, VCPU_RUNNING);
	CHECK_EQ(fake_call_count, 0); /* nothing scheduled from inside the call */
	/* Still on until its exit has put it. */
	CHECK_EQ(call_from(0, FN64(AFFINITY_INFO), 0x001, 0, 0), 0);
	CHECK_EQ(call_from(0, FN64(CPU_ON), 0x001, 0x40080000, 0), ALREADY_ON);
	CHECK_EQ(fake_calls_of(FAKE_SCHED_START, NULL), 0);
	/* Off (as sched_exit() leaves it), it can be turned on again. */
	V(1)->state = VCPU_OFF;
	V(1)->loaded = false;
	V(1)->exit_work = 0; /* its exit took the work */
	CHECK_EQ(call_from(0, FN64(AFFINITY_INFO), 0x001, 0, 0), 1);
	CHECK_EQ(call_from(0, FN64(CPU_ON), 0x001, 0x40080000, 0), SUCCESS);
	CHECK_EQ(fake_calls_of(FAKE_SCHED_START, V(1)), 1);
	CHECK_EQ(V(1)->state, VCPU_ON_PENDING);
	/* No SMC64 form. */
	CHECK_EQ(call_from(0, FN64(CPU_OFF), 0, 0, 0), NOT_SUPPORTED);
	CHECK_EQ(V(0)->state, VCPU_RUNNING);
	CHECK_EQ(V(0)->exit_work, 0);
	/* CPU_OFF adds to what the caller's exit already has to do. */
	setup();
	V(0)->exit_work = EXIT_WORK_VGIC | EXIT_WORK_SCHED;
	CHECK_EQ(call_from(0, FN32(CPU_OFF), 0, 0, 0), SUCCESS);
	CHECK_EQ(V(0)->exit_work, EXIT_WORK_VGIC | EXIT_WORK_SCHED | EXIT_WORK_CPU_OFF);
	CHECK_EQ(V(0)->state, VCPU_RUNNING);
}

/* The calling vCPU's exit does the rest, whichever vCPU it is. */
static void system_off_and_reset(void)
{
	setup();
	CHECK_EQ(call_from(0, FN32(SYSTEM_OFF), 0, 0, 0), SUCCESS);
	CHECK_EQ(ev.outcome, OUT_EMULATED);
	CHECK_EQ(V(0)->exit_work, EXIT_WORK_SYSTEM_OFF);
	CHECK_EQ(V(0)->state, VCPU_RUNNING);
	for (unsigned i = 1; i < 4; i++)
		CHECK_EQ(V(i)->exit_work, 0);

	setup();
	V(2)->state = VCPU_RUNNING;
	CHECK_EQ(call_from(2, FN32(SYSTEM_RESET), 0, 0, 0), SUCCESS);
	CHECK_EQ(V(2)->exit_work, EXIT_WORK_SYSTEM_RESET);
	CHECK_EQ(V(0)->exit_work, 0);
	CHECK_EQ(V(1)->exit_work, 0);
	CHECK_EQ(V(3)->exit_work, 0);
	CHECK_EQ(V(2)->state, VCPU_RUNNING);

	setup();
	CHECK_EQ(call(FN64(SYSTEM_OFF), 0, 0, 0), NOT_SUPPORTED);
	CHECK_EQ(call(FN64(SYSTEM_RESET), 0, 0, 0), NOT_SUPPORTED);
	CHECK_EQ(V(0)->exit_work, 0);
}

static void cpu_suspend_standby(void)
{
	setup();
	CHECK_EQ(call(FN32(CPU_SUSPEND), 0, 0, 0), SUCCESS);
	CHECK_EQ(waits, 1); /* it waited for an interrupt, once, on its own vCPU */
	CHECK(waited == V(0));
	CHECK_EQ(ev.outcome, OUT_EMULATED);
	CHECK_EQ(V(0)->state, VCPU_RUNNING); /* woke up */
	CHECK_EQ(V(0)->exit_work, 0);
	/* Alone on its pCPU: a WFI right there, not the scheduler. */
	CHECK_EQ(fake_wfi_calls, 1);
	CHECK_EQ(fake_wfi_in_wfi, 1u << 0);
	CHECK(!V(0)->in_wfi);
	CHECK_EQ(fake_calls_of(FAKE_SCHED_BLOCK, NULL), 0);

	/* Sharing its pCPU with vCPU 1: it blocks, the pCPU goes to others. */
	setup();
	sched_place(V(1), &pcpus[0]);
	CHECK_EQ(call(FN32(CPU_SUSPEND), 0, 0, 0), SUCCESS);
	CHECK_EQ(waits, 1);
	CHECK_EQ(fake_calls_of(FAKE_SCHED_BLOCK, V(0)), 1);
	CHECK_EQ(fake_call_count, 1);
	CHECK_EQ(fake_wfi_calls, 0);
	CHECK(!V(0)->in_wfi);
}

static void cpu_suspend_powerdown(void)
{
	struct trap_frame *f;

	setup();
	f = V(0)->regs;
	trap_set_pc(0x40081004);
	trap_set_pstate(0x3c5);
	fake_sysreg_set("sctlr_el1", 0x30d0199d);
	f->x[19] = 0x1919;
	/* Waking from power-down restarts at entry with x0 = context id, like CPU_ON. */
	CHECK_EQ(call(FN64(CPU_SUSPEND), BIT(16), 0x40090000, 0xc0ffee), 0xc0ffee);
	CHECK_EQ(waits, 1);
	CHECK(waited == V(0));
	CHECK_EQ(ev.outcome, OUT_EMULATED);
	CHECK_EQ(V(0)->state, VCPU_RUNNING);
	CHECK_EQ(trap_pc(), 0x40090000);
	CHECK_EQ(trap_pstate(), SPSR_MODE_EL1H | SPSR_DAIF);
	CHECK_EQ(f->x[19], 0); /* the other registers are reset */
	CHECK_EQ(fake_sysreg_get("sctlr_el1"), SCTLR_EL1_RES1); /* MMU off */
	/* It was loaded: the live registers are its own, the saved context not. */
	CHECK_EQ(fake_calls_of(FAKE_CONTEXT_RESET, NULL), 0);
	CHECK_EQ(fake_wfi_calls, 1);

	/* Sharing its pCPU, it blocks instead, and comes back loaded: the same. */
	setup();
	sched_place(V(2), &pcpus[0]);
	f = V(0)->regs;
	f->x[19] = 0x1919;
	fake_sysreg_set("sctlr_el1", 0x30d0199d);
	CHECK_EQ(call(FN64(CPU_SUSPEND), BIT(16), 0x40090000, 0xc0ffee), 0xc0ffee);
	CHECK_EQ(fake_calls_of(FAKE_SCHED_BLOCK, V(0)), 1);
	CHECK_EQ(fake_wfi_calls, 0);
	CHECK_EQ(trap_pc(), 0x40090000);
	CHECK_EQ(f->x[19], 0);
	CHECK_EQ(fake_sysreg_get("sctlr_el1"), SCTLR_EL1_RES1);
	CHECK_EQ(fake_calls_of(FAKE_CONTEXT_RESET, NULL), 0);

	/* SMC32: context id in W3. */
	setup();
	CHECK_EQ(call(FN32(CPU_SUSPEND), BIT(16), 0x40090000, 0xffffffff00000005ull), 5);
	CHECK_EQ(trap_pc(), 0x40090000);

	/* A bad entry point is refused before suspending, and nothing is reset. */
	setup();
	trap_set_pc(0x40081004);
	fake_sysreg_set("sctlr_el1", 0x30d0199d);
	V(0)->regs->x[19] = 0x1919;
	CHECK_EQ(call(FN64(CPU_SUSPEND), BIT(16), 0x40090002, 0), INVALID_ADDRESS);
	CHECK_EQ(call(FN64(CPU_SUSPEND), BIT(16), RAM_END, 0), INVALID_ADDRESS);
	CHECK_EQ(waits, 0); /* refused before waiting */
	CHECK_EQ(trap_pc(), 0x40081004);
	CHECK_EQ(V(0)->regs->x[19], 0x1919);
	CHECK_EQ(fake_sysreg_get("sctlr_el1"), 0x30d0199d);
	CHECK_EQ(fake_sysreg_writes("sctlr_el1"), 0);
}

/* Only x0 carries a result: every other register is the guest's, untouched. */
static void only_x0_changes(void)
{
	static const u64 calls[][4] = {
		{ FN32(VERSION), 0, 0, 0 },
		{ FN64(CPU_ON), 0x001, 0x40080000, 5 },
		{ FN64(CPU_ON), 0x002, 0x40080000, 5 },
		{ FN64(AFFINITY_INFO), 0x000, 0, 0 },
		{ FN32(FEATURES), FN32(CPU_ON), 0, 0 },
		{ FN32(0x1f), 1, 2, 3 },
	};

	for (unsigned i = 0; i < ARRAY_SIZE(calls); i++) {
		struct trap_frame *f, before;

		setup();
		f = V(0)->regs;
		for (unsigned r = 0; r < 31; r++)
			f->x[r] = 0x0101010101010101ull * r;
		f->x[0] = calls[i][0];
		f->x[1] = calls[i][1];
		f->x[2] = calls[i][2];
		f->x[3] = calls[i][3];
		trap_set_pc(0x40081004);
		before = *f;
		psci_handle(V(0), f, &ev);
		for (unsigned r = 1; r < 31; r++)
			CHECK_EQ(f->x[r], before.x[r]);
		CHECK_EQ(trap_pc(), 0x40081004);
	}
}

static void unknown_function(void)
{
	static const u64 unknown[] = {
		FN32(MIGRATE), FN32(MIGRATE_INFO_UP_CPU), FN32(11), FN32(0x1f), FN64(0x1f),
		FN64(VERSION), FN64(FEATURES), FN64(MIGRATE_INFO_TYPE),
	};

	setup();
	for (unsigned i = 0; i < ARRAY_SIZE(unknown); i++) {
		CHECK_EQ(call(unknown[i], 0x001, 0x40080000, 0), NOT_SUPPORTED);
		CHECK_EQ(ev.outcome, OUT_NOT_SUPPORTED);
	}
	CHECK_EQ(V(1)->state, VCPU_OFF);
	CHECK_EQ(V(0)->exit_work, 0);
	CHECK_EQ(fake_call_count, 0);
}

static void is_call_boundaries(void)
{
	CHECK(!psci_is_call(0x83ffffff));
	CHECK(psci_is_call(0x84000000));
	CHECK(psci_is_call(0x8400001f));
	CHECK(!psci_is_call(0x84000020));
	CHECK(!psci_is_call(0xc3ffffff));
	CHECK(psci_is_call(0xc4000000));
	CHECK(psci_is_call(0xc400001f));
	CHECK(!psci_is_call(0xc4000020));
	/* X0 above 32 bits is not a PSCI id. */
	CHECK(!psci_is_call(0x184000000ull));
	CHECK(!psci_is_call(0xffffffff84000000ull));
	CHECK(!psci_is_call(0x04000000));
	CHECK(!psci_is_call(0));
	CHECK(!psci_is_call(SMCCC_VERSION));
	CHECK(!psci_is_call(0xc6000000)); /* ours */
	CHECK(!psci_is_call(0xc5000000)); /* standard hypervisor service */
}

/* ---- trapvisor's hypercalls ---- */

static u64 hcall(u64 fid, u64 a1, u64 a2)
{
	struct trap_frame *f = V(0)->regs;

	f->x[0] = fid;
	f->x[1] = a1;
	f->x[2] = a2;
	memset(&ev, 0xee, sizeof(ev));
	hypercall_handle(V(0), f, &ev);
	return f->x[0];
}

static void hypercall_range(void)
{
	CHECK(hypercall_is_ours(TV_HC_BASE));
	CHECK(hypercall_is_ours(TV_HC_STAT_COUNT));
	CHECK(hypercall_is_ours(0xc600ffff));
	CHECK(!hypercall_is_ours(0xc6010000));
	CHECK(!hypercall_is_ours(0xc5ffffff));
	CHECK(!hypercall_is_ours(0x86000000)); /* the SMC32 form is not ours */
	CHECK(!hypercall_is_ours(0x1c6000000ull));
	CHECK(!hypercall_is_ours(FN32(VERSION)));
}

static void hypercall_trap_switch(void)
{
	setup();
	CHECK_EQ(hcall(TV_HC_TRAP, TRAP_WFI, 1), 0);
	CHECK_EQ(ev.outcome, OUT_EMULATED);
	CHECK(trap_config.enabled & (1u << TRAP_WFI));
	for (unsigned i = 0; i < vcpu_count; i++)
		CHECK(V(i)->exit_work & EXIT_WORK_TRAPS);
	CHECK_EQ(V(4)->exit_work, 0); /* only the vCPUs that exist */
	CHECK_EQ(hcall(TV_HC_TRAP, TRAP_PMU, 1), 0);
	CHECK_EQ(trap_config.enabled, (1u << TRAP_WFI) | (1u << TRAP_PMU));
	CHECK_EQ(hcall(TV_HC_TRAP, TRAP_WFI, 0), 0);
	CHECK_EQ(trap_config.enabled, 1u << TRAP_PMU);
	for (unsigned i = 0; i < vcpu_count; i++)
		V(i)->exit_work = 0;
	/* Refused: no such class, a class that is always trapped, a bad switch value. */
	CHECK_EQ(hcall(TV_HC_TRAP, TRAP_CLASS_COUNT, 1), TV_HC_INVALID);
	CHECK_EQ(hcall(TV_HC_TRAP, ~0ull, 1), TV_HC_INVALID);
	CHECK_EQ(hcall(TV_HC_TRAP, TRAP_HVC, 0), TV_HC_INVALID);
	CHECK_EQ(hcall(TV_HC_TRAP, TRAP_MMIO, 1), TV_HC_INVALID);
	CHECK_EQ(hcall(TV_HC_TRAP, TRAP_WFE, 2), TV_HC_INVALID);
	CHECK_EQ(trap_config.enabled, 1u << TRAP_PMU);
	for (unsigned i = 0; i < vcpu_count; i++) /* nothing for any vCPU to re-apply */
		CHECK_EQ(V(i)->exit_work, 0);
}

static void hypercall_stat_count(void)
{
	setup();
	vcpu_stats(V(0))[TRAP_HVC].count = 3;
	vcpu_stats(V(1))[TRAP_HVC].count = 4;
	vcpu_stats(V(3))[TRAP_HVC].count = 10;
	vcpu_stats(V(2))[TRAP_WFI].count = 100;
	V(4)->stats[TRAP_HVC].count = 1000; /* beyond vcpu_count: no vCPU's */
	CHECK_EQ(hcall(TV_HC_STAT_COUNT, TRAP_HVC, 1), 4);
	CHECK_EQ(ev.outcome, OUT_EMULATED);
	CHECK_EQ(hcall(TV_HC_STAT_COUNT, TRAP_HVC, TV_ALL_VCPUS), 17);
	CHECK_EQ(hcall(TV_HC_STAT_COUNT, TRAP_WFI, TV_ALL_VCPUS), 100);
	CHECK_EQ(hcall(TV_HC_STAT_COUNT, TRAP_HVC, 4), 0);
	CHECK_EQ(hcall(TV_HC_STAT_COUNT, TRAP_SMC, 0), 0);
	CHECK_EQ(hcall(TV_HC_STAT_COUNT, TRAP_CLASS_COUNT, 0), NOT_SUPPORTED);
}

static void hypercall_trace_and_stats(void)
{
	setup();
	CHECK_EQ(hcall(TV_HC_TRACE, 5, 0), 0);
	CHECK_EQ(fake_event_print_recent_calls, 1);
	CHECK_EQ(fake_event_print_recent_n, 5);
	CHECK_EQ(hcall(TV_HC_TRACE, EVENT_RING_SIZE + 1, 0), 0);
	CHECK_EQ(fake_event_print_recent_n, EVENT_RING_SIZE);
	CHECK_EQ(hcall(TV_HC_TRACE, ~0ull, 0), 0);
	CHECK_EQ(fake_event_print_recent_n, EVENT_RING_SIZE);
	CHECK_EQ(hcall(TV_HC_STATS, 0, 0), 0);
	CHECK_EQ(fake_stats_print_calls, 1);
	CHECK_EQ(ev.outcome, OUT_EMULATED);
}

static void hypercall_unknown(void)
{
	setup();
	CHECK_EQ(hcall(TV_HC_BASE + 4, 0, 0), NOT_SUPPORTED);
	CHECK_EQ(ev.outcome, OUT_NOT_SUPPORTED);
	CHECK_EQ(hcall(0xc600ffff, 0, 0), NOT_SUPPORTED);
	CHECK_EQ(ev.outcome, OUT_NOT_SUPPORTED);
	CHECK_EQ(fake_event_print_recent_calls + fake_stats_print_calls, 0);
}

int main(void)
{
	/* Keep the PASS/FAIL lines already printed if a sanitizer aborts the run. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	RUN(version);
	RUN(features);
	RUN(cpu_on_success);
	RUN(cpu_on_each_state);
	RUN(cpu_on_already_on_or_pending);
	RUN(cpu_on_invalid_parameters);
	RUN(cpu_on_invalid_address);
	RUN(smc32_arguments_truncated);
	RUN(affinity_info);
	RUN(migrate_info_type);
	RUN(cpu_off);
	RUN(system_off_and_reset);
	RUN(cpu_suspend_standby);
	RUN(cpu_suspend_powerdown);
	RUN(only_x0_changes);
	RUN(unknown_function);
	RUN(is_call_boundaries);
	RUN(hypercall_range);
	RUN(hypercall_trap_switch);
	RUN(hypercall_stat_count);
	RUN(hypercall_trace_and_stats);
	RUN(hypercall_unknown);
	return CHECK_DONE();
}
