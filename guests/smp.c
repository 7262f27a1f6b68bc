/*
 * PSCI SMP bring-up: every vCPU the device tree names is turned on by its MPIDR
 * (the tree's cpu reg), reports in with that MPIDR, is turned off, and is turned
 * on again; every PSCI answer is checked against DEN0022. Booted with
 * trapvisor.vmpidr=..., the tree, PSCI and MPIDR_EL1 must all say the virtual ones.
 */
#include "guest.h"

#define PSCI_VERSION 0x84000000ul
#define PSCI_CPU_SUSPEND64 0xc4000001ul
#define PSCI_CPU_ON64 0xc4000003ul
#define PSCI_AFFINITY_INFO64 0xc4000004ul
#define PSCI_MIGRATE_INFO_TYPE 0x84000006ul
#define PSCI_SYSTEM_RESET 0x84000009ul
#define PSCI_FEATURES 0x8400000aul
#define SMCCC_VERSION 0x80000000ul

#define NOT_SUPPORTED ((u64)-1)
#define INVALID_PARAMETERS ((u64)-2)
#define ALREADY_ON ((u64)-4)
#define INVALID_ADDRESS ((u64)-9)
#define AFF_ON 0
#define AFF_OFF 1

/* The device tree's CPUs; the boot vCPU is cpus[0], the others follow. */
static u64 cpus[8];
static unsigned ncpus;

static volatile unsigned arrived, wave;
static volatile u64 seen_context[8], seen_mpidr[8];
static volatile bool release;

void secondary_main(unsigned index)
{
	seen_context[index] = index;
	seen_mpidr[index] = read_sysreg(mpidr_el1);
	__atomic_add_fetch(&arrived, 1, __ATOMIC_SEQ_CST);
	while (!release)
		asm volatile("yield");
	/* returning calls CPU_OFF (head.S) */
}

/* The CPUs of the device tree, the boot vCPU first; false if it is not among them. */
static bool find_cpus(u64 dtb)
{
	bool found;

	ncpus = fdt_cpus_self_first(dtb, cpus, 8, &found);
	return found;
}

/* How many of the tree's CPUs PSCI knows. */
static unsigned count_cpus(void)
{
	unsigned n = 0;

	for (unsigned i = 0; i < ncpus; i++)
		if (smc_call(PSCI_AFFINITY_INFO64, cpus[i], 0, 0) != INVALID_PARAMETERS)
			n++;
	return n;
}

static void wait_off(u64 mpidr)
{
	for (unsigned spin = 0; spin < 10000000; spin++)
		if (smc_call(PSCI_AFFINITY_INFO64, mpidr, 0, 0) == AFF_OFF)
			return;
}

static void bring_up_all(unsigned n, const char *what)
{
	arrived = 0;
	release = false;
	for (unsigned i = 1; i < n; i++)
		check_eq(smc_call(PSCI_CPU_ON64, cpus[i], (u64)secondary_entry, i), 0, "CPU_ON");
	/* A second is ample under TCG; a vCPU that never starts must not hang the test. */
	u64 deadline = read_sysreg(cntvct_el0) + read_sysreg(cntfrq_el0);
	while (arrived != n - 1 && read_sysreg(cntvct_el0) < deadline)
		asm volatile("yield");
	check(arrived == n - 1, "%s: %u of %u secondary vCPUs reported in", what, arrived, n - 1);
	for (unsigned i = 1; i < n; i++) {
		check_eq(seen_context[i], i, "the context id reaches x0");
		check_eq(seen_mpidr[i] & MPIDR_AFF_MASK, cpus[i], "each vCPU reads the MPIDR it was started by");
		check_eq(smc_call(PSCI_AFFINITY_INFO64, cpus[i], 0, 0), AFF_ON, "AFFINITY_INFO says ON");
	}
	check_eq(smc_call(PSCI_CPU_ON64, cpus[1], (u64)secondary_entry, 1), ALREADY_ON, "CPU_ON of a running vCPU");
	release = true;
	for (unsigned i = 1; i < n; i++) {
		wait_off(cpus[i]);
		check_eq(smc_call(PSCI_AFFINITY_INFO64, cpus[i], 0, 0), AFF_OFF, "CPU_OFF leaves it OFF");
	}
}

int main(u64 dtb)
{
	unsigned n;
	u64 t0, interval = read_sysreg(cntfrq_el0) / 1000;

	gprintf("smp: PSCI under trapvisor\n");
	check_eq(smc_call(PSCI_VERSION, 0, 0, 0), 0x10001, "PSCI_VERSION is 1.1 (SMC)");
	check_eq(hvc_call(PSCI_VERSION, 0, 0, 0), 0x10001, "PSCI_VERSION is 1.1 (HVC)");
	check_eq(smc_call(PSCI_FEATURES, PSCI_CPU_ON64, 0, 0), 0, "FEATURES(CPU_ON)");
	check_eq(smc_call(PSCI_FEATURES, PSCI_SYSTEM_RESET, 0, 0), 0, "FEATURES(SYSTEM_RESET)");
	check_eq(smc_call(PSCI_FEATURES, SMCCC_VERSION, 0, 0), NOT_SUPPORTED, "FEATURES(SMCCC_VERSION)");
	check_eq(smc_call(PSCI_FEATURES, 0xc4000006ul, 0, 0), NOT_SUPPORTED, "no SMC64 MIGRATE_INFO_TYPE");
	check_eq(smc_call(PSCI_MIGRATE_INFO_TYPE, 0, 0, 0), 2, "MIGRATE_INFO_TYPE: no migration needed");
	check_eq(smc_call(0x8400001ful, 0, 0, 0), NOT_SUPPORTED, "an unimplemented PSCI function");
	check(find_cpus(dtb), "the boot vCPU's MPIDR (%#lx) is a CPU of the device tree", cpus[0]);
	check_eq(smc_call(PSCI_AFFINITY_INFO64, cpus[0], 1, 0), AFF_ON, "AFFINITY_INFO level 1 includes the boot vCPU");
	check_eq(smc_call(PSCI_AFFINITY_INFO64, cpus[0], 4, 0), INVALID_PARAMETERS, "AFFINITY_INFO level 4");

	n = count_cpus();
	gprintf("smp: %u vCPUs:", n);
	for (unsigned i = 0; i < ncpus; i++)
		gprintf(" %#lx", cpus[i]);
	gprintf("\n");
	check_eq(n, ncpus, "PSCI knows every CPU of the device tree");
	check(n >= 2, "more than one vCPU to test with (%u)", n);
	check_eq(smc_call(PSCI_CPU_ON64, 0x80, (u64)secondary_entry, 0), INVALID_PARAMETERS, "CPU_ON of a missing MPIDR");
	check_eq(smc_call(PSCI_CPU_ON64, cpus[1], 0x40200000ul, 0), INVALID_ADDRESS, "CPU_ON into hypervisor memory");
	check_eq(smc_call(PSCI_CPU_ON64, cpus[1], (u64)secondary_entry + 2, 0), INVALID_ADDRESS,
		 "CPU_ON at a misaligned entry");
	bring_up_all(n, "first wave");
	bring_up_all(n, "second wave after CPU_OFF");

	gic_init_cpu();
	/* The count before the timer is armed: a vCPU may be descheduled for
	 * longer than the interval anywhere (its pCPU shared, or the host's
	 * thread not run), and one read after arming could come after the
	 * deadline, making a due timer look early. */
	t0 = read_sysreg(cntvct_el0);
	timer_arm_ticks(interval);
	/* Standby ends at a wake-up event, which PSCI lets come early (the
	 * hypervisor's own kick between its pCPUs is one): a few early returns
	 * are allowed, a suspend that does not wait is not. */
	u64 r;
	unsigned early = 0;
	while ((r = smc_call(PSCI_CPU_SUSPEND64, 0, 0, 0)) == 0 && !(read_sysreg(cntv_ctl_el0) & 4) && early < 3)
		early++; /* CNTV_CTL.ISTATUS: the timer is due */
	check_eq(r, 0, "CPU_SUSPEND (standby) returns SUCCESS");
	check((read_sysreg(cntv_ctl_el0) & 4) && read_sysreg(cntvct_el0) - t0 >= interval * 9 / 10,
	      "CPU_SUSPEND waited for the timer (%u early returns)", early);
	timer_disarm();
	return 0;
}
