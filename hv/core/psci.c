/*
 * PSCI 1.1 for the guest (Arm DEN0022), on vCPUs: CPU_ON puts the target on
 * its pCPU's run queue at the requested entry point, CPU_OFF takes the caller
 * off its pCPU for good, and the suspends wait as a WFI does (sched.c).
 */
#include "hv.h"
#include "lib.h"
#include "gic.h"
#include "arch/sysreg.h"

#define PSCI_0_2_FN(n) (0x84000000u + (n))
#define PSCI_0_2_FN64(n) (0xc4000000u + (n))
#define PSCI_VERSION PSCI_0_2_FN(0)
#define PSCI_CPU_SUSPEND PSCI_0_2_FN(1)
#define PSCI_CPU_OFF PSCI_0_2_FN(2)
#define PSCI_CPU_ON PSCI_0_2_FN(3)
#define PSCI_AFFINITY_INFO PSCI_0_2_FN(4)
#define PSCI_MIGRATE_INFO_TYPE PSCI_0_2_FN(6)
#define PSCI_SYSTEM_OFF PSCI_0_2_FN(8)
#define PSCI_SYSTEM_RESET PSCI_0_2_FN(9)
#define PSCI_FEATURES PSCI_0_2_FN(10)

#define PSCI_SUCCESS 0
#define PSCI_NOT_SUPPORTED ((u64)-1)
#define PSCI_INVALID_PARAMETERS ((u64)-2)
#define PSCI_ALREADY_ON ((u64)-4)
#define PSCI_ON_PENDING ((u64)-5)
#define PSCI_INVALID_ADDRESS ((u64)-9)

#define PSCI_VERSION_1_1 0x10001
#define MIGRATE_INFO_NOT_REQUIRED 2
#define AFFINITY_ON 0
#define AFFINITY_OFF 1
#define AFFINITY_ON_PENDING 2
/* power_state (original format): StateType [16], 1 = power down */
#define POWER_STATE_POWERDOWN BIT(16)

/* The function ids we implement, in their 32-bit form. */
static bool implemented(u32 fid)
{
	switch (fid & ~0x40000000u) {
	case PSCI_VERSION:
	case PSCI_CPU_SUSPEND:
	case PSCI_CPU_OFF:
	case PSCI_CPU_ON:
	case PSCI_AFFINITY_INFO:
	case PSCI_MIGRATE_INFO_TYPE:
	case PSCI_SYSTEM_OFF:
	case PSCI_SYSTEM_RESET:
	case PSCI_FEATURES:
		return true;
	}
	return false;
}

/* Functions with 64-bit forms; the others exist only as SMC32 (DEN0022 5.1). */
static bool has_smc64_form(u32 fid)
{
	switch (fid & ~0x40000000u) {
	case PSCI_CPU_SUSPEND:
	case PSCI_CPU_ON:
	case PSCI_AFFINITY_INFO:
		return true;
	}
	return false;
}

static u64 cpu_on(u64 target, u64 entry, u64 context_id)
{
	struct vcpu *t = vcpu_by_mpidr(target);
	u32 old;

	if (!t || (target & ~MPIDR_AFF_MASK))
		return PSCI_INVALID_PARAMETERS;
	if (!guest_ram_contains(entry, 4) || (entry & 3))
		return PSCI_INVALID_ADDRESS;
	/* Several vCPUs may race to turn the same one on: one claims it, and only
	 * then writes where it starts; the others learn it is on its way. */
	old = VCPU_OFF;
	if (!__atomic_compare_exchange_n(&t->state, &old, VCPU_ON_CLAIMED, false,
					 __ATOMIC_ACQUIRE, __ATOMIC_ACQUIRE))
		return old == VCPU_ON_PENDING || old == VCPU_ON_CLAIMED ? PSCI_ON_PENDING
									 : PSCI_ALREADY_ON;
	t->entry = entry;
	t->context_id = context_id;
	vcpu_power_on(t);
	return PSCI_SUCCESS;
}

static u64 affinity_info(u64 target, u64 level)
{
	u64 mask = MPIDR_AFF_MASK;
	u64 result = AFFINITY_OFF;
	bool any = false;

	/* Levels above 0 ask about every CPU whose higher affinity fields match. */
	if (level > 3)
		return PSCI_INVALID_PARAMETERS;
	for (unsigned l = 0; l < level; l++)
		mask &= ~(0xffULL << (l == 3 ? 32 : 8 * l));
	for (unsigned i = 0; i < vcpu_count; i++) {
		struct vcpu *v = vcpu_by_id(i);
		if ((v->vmpidr & mask) != (target & mask))
			continue;
		any = true;
		if (v->state == VCPU_RUNNING || v->state == VCPU_IDLE || v->state == VCPU_RUNNABLE)
			return AFFINITY_ON;
		if (v->state == VCPU_ON_PENDING || v->state == VCPU_ON_CLAIMED)
			result = AFFINITY_ON_PENDING;
	}
	return any ? result : PSCI_INVALID_PARAMETERS;
}

static u64 cpu_suspend(struct vcpu *v, struct trap_frame *f, u64 power_state, u64 entry, u64 context_id)
{
	if (power_state & POWER_STATE_POWERDOWN) {
		if (!guest_ram_contains(entry, 4) || (entry & 3))
			return PSCI_INVALID_ADDRESS;
		vcpu_wait_for_interrupt(v);
		/* Waking from power-down restarts at entry as CPU_ON would. */
		vcpu_set_reset_state(v, entry, context_id);
		return context_id;
	}
	vcpu_wait_for_interrupt(v); /* standby: back to the caller, which PSCI lets happen early */
	return PSCI_SUCCESS;
}

void psci_handle(struct vcpu *v, struct trap_frame *f, struct trap_event *ev)
{
	u64 fid = f->x[0], a1 = f->x[1], a2 = f->x[2], a3 = f->x[3], ret;

	if (!(fid & 0x40000000u)) { /* SMC32: arguments are 32 bits wide */
		a1 = (u32)a1;
		a2 = (u32)a2;
		a3 = (u32)a3;
	} else if (!has_smc64_form(fid)) {
		fid = 0; /* no such 64-bit function */
	}
	ev->outcome = OUT_EMULATED;
	switch (fid & ~0x40000000u) {
	case PSCI_VERSION:
		ret = PSCI_VERSION_1_1;
		break;
	case PSCI_CPU_SUSPEND:
		ret = cpu_suspend(v, f, a1, a2, a3);
		break;
	case PSCI_CPU_OFF:
		/* OFF once it is off its pCPU (sched_exit): a CPU_ON before then
		 * sees it still on. */
		v->exit_work |= EXIT_WORK_CPU_OFF;
		ret = PSCI_SUCCESS;
		break;
	case PSCI_CPU_ON:
		ret = cpu_on(a1, a2, a3);
		break;
	case PSCI_AFFINITY_INFO:
		ret = affinity_info(a1, a2);
		break;
	case PSCI_MIGRATE_INFO_TYPE:
		ret = MIGRATE_INFO_NOT_REQUIRED;
		break;
	case PSCI_SYSTEM_OFF:
		v->exit_work |= EXIT_WORK_SYSTEM_OFF;
		ret = PSCI_SUCCESS;
		break;
	case PSCI_SYSTEM_RESET:
		v->exit_work |= EXIT_WORK_SYSTEM_RESET;
		ret = PSCI_SUCCESS;
		break;
	case PSCI_FEATURES:
		/* For CPU_SUSPEND, 0 also says: original power_state format. */
		ret = psci_is_call(a1) && implemented(a1) &&
		      ((a1 & 0x40000000u) == 0 || has_smc64_form(a1)) ? PSCI_SUCCESS : PSCI_NOT_SUPPORTED;
		break;
	default:
		ret = PSCI_NOT_SUPPORTED;
		ev->outcome = OUT_NOT_SUPPORTED;
	}
	f->x[0] = ret;
}
