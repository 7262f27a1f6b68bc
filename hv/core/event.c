/* The event ring, statistics and the names the user sees for classes and outcomes. */
#include "trapvisor/event.h"
#include "lib.h"

static const char *const class_names[TRAP_CLASS_COUNT] = {
	[TRAP_WFI] = "wfi",	  [TRAP_WFE] = "wfe",	  [TRAP_HVC] = "hvc",
	[TRAP_SMC] = "smc",	  [TRAP_SYSREG] = "sysreg", [TRAP_ID] = "id",
	[TRAP_VM] = "vm",	  [TRAP_CACHE] = "cache", [TRAP_DEBUG] = "debug",
	[TRAP_PMU] = "pmu",	  [TRAP_FP] = "fp",	  [TRAP_MMIO] = "mmio",
	[TRAP_ABORT] = "abort",	  [TRAP_OTHER] = "other", [TRAP_WATCH] = "watch",
	[TRAP_IRQ] = "irq",	  [TRAP_SCHED] = "sched",
};

static const char *const op_names[] = {
	[OP_NONE] = "-",     [OP_READ] = "read", [OP_WRITE] = "write",
	[OP_CALL] = "call",  [OP_WAIT] = "wait", [OP_MAINT] = "maint", [OP_DELIVER] = "deliver",
	[OP_SWITCH] = "switch",
};

static const char *const outcome_names[] = {
	[OUT_EMULATED] = "emulated",
	[OUT_FORWARDED] = "forwarded",
	[OUT_UNDEF_INJECTED] = "undef-injected",
	[OUT_ABORT_INJECTED] = "abort-injected",
	[OUT_NOT_SUPPORTED] = "not-supported",
};

const char *trap_class_name(unsigned cls)
{
	return cls < TRAP_CLASS_COUNT ? class_names[cls] : "?";
}

int trap_class_by_name(const char *name, size_t len)
{
	for (unsigned i = 0; i < TRAP_CLASS_COUNT; i++)
		if (strlen(class_names[i]) == len && !memcmp(class_names[i], name, len))
			return (int)i;
	return -1;
}

const char *event_op_name(unsigned op)
{
	return op < ARRAY_SIZE(op_names) ? op_names[op] : "?";
}

const char *event_outcome_name(unsigned outcome)
{
	return outcome < ARRAY_SIZE(outcome_names) ? outcome_names[outcome] : "?";
}

void event_ring_reset(struct event_ring *r)
{
	memset(r, 0, sizeof(*r));
}

/*
 * The writer fills slot head % SIZE before it publishes head + 1, and that slot
 * still holds record head - SIZE. So a reader on another CPU can trust only the
 * last SIZE - 1 records: the ring keeps EVENT_RING_KEPT of them.
 */
u64 event_ring_oldest(const struct event_ring *r)
{
	u64 head = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);

	return head > EVENT_RING_KEPT ? head - EVENT_RING_KEPT : 0;
}

u64 event_ring_dropped(const struct event_ring *r, u64 since)
{
	u64 oldest = event_ring_oldest(r);

	return since < oldest ? oldest - since : 0;
}

/*
 * A seqlock without a lock: check the range, copy, then check that the writer
 * did not start on this slot meanwhile (head moved past seq + KEPT) and that
 * the slot holds the record asked for.
 */
bool event_ring_get(const struct event_ring *r, u64 seq, struct trap_event *out)
{
	const struct trap_event *slot = &r->slots[seq & (EVENT_RING_SIZE - 1)];
	u64 head = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);

	if (seq >= head || head - seq > EVENT_RING_KEPT)
		return false;
	memcpy(out, slot, sizeof(*out));
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	head = __atomic_load_n(&r->head, __ATOMIC_RELAXED);
	return out->seq == seq && head - seq <= EVENT_RING_KEPT;
}

