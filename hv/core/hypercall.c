/*
 * trapvisor's own hypercalls, in the SMCCC vendor-specific hypervisor range.
 * They exist for test guests (switch a trap class, ask for the trace or the
 * statistics, read a count to compare with what the guest did) and answer
 * only when the hypervisor was booted with trapvisor.hypercalls=on; otherwise
 * they are NOT_SUPPORTED like any unknown call, so a guest learns nothing.
 */
#include "hv.h"
#include "lib.h"
#include "console.h"
#include "trapvisor/hypercall.h"

static u64 stat_count(u64 cls, u64 vcpu)
{
	u64 n = 0;

	if (cls >= TRAP_CLASS_COUNT)
		return SMCCC_NOT_SUPPORTED;
	for (unsigned i = 0; i < vcpu_count; i++)
		if (vcpu == TV_ALL_VCPUS || vcpu == i)
			n += vcpu_stats(vcpu_by_id(i))[cls].count;
	return n;
}

void hypercall_handle(struct vcpu *v, struct trap_frame *f, struct trap_event *ev)
{
	u64 a1 = f->x[1], a2 = f->x[2], ret = 0;

	ev->outcome = OUT_EMULATED;
	switch (f->x[0]) {
	case TV_HC_TRACE:
		event_print_recent(&console_sink, a1 > EVENT_RING_SIZE ? EVENT_RING_SIZE : a1);
		break;
	case TV_HC_STATS:
		stats_print(&console_sink);
		break;
	case TV_HC_TRAP:
		if (a1 >= TRAP_CLASS_COUNT || trap_class_always_on(a1) || a2 > 1) {
			ret = TV_HC_INVALID;
			break;
		}
		trap_class_set(a1, a2);
		break;
	case TV_HC_STAT_COUNT:
		ret = stat_count(a1, a2);
		break;
	default:
		ret = SMCCC_NOT_SUPPORTED;
		ev->outcome = OUT_NOT_SUPPORTED;
	}
	f->x[0] = ret;
}
