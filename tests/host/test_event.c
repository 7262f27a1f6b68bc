/* The per-CPU trap-event ring, statistics and names (hv/core/event.c, include/trapvisor/event.h). */
#include <stddef.h>
#include <stdlib.h>
#include "check.h"
#include "trapvisor/event.h"

/* The ring is 64 KiB: keep it off the stack. */
static struct event_ring ring;

/* What the trap path does (trap.c): fill the next slot in place, then commit. */
static void record(struct event_ring *r, u64 value)
{
	struct trap_event *e = event_ring_next(r);

	memset(e, 0, sizeof(*e));
	e->seq = r->head;
	e->value = value;
	e->elr = 0x40080000 + 4 * r->head;
	event_ring_commit(r);
}

static void event_layout(void)
{
	CHECK_EQ(sizeof(struct trap_event), 64);
	CHECK_EQ(offsetof(struct trap_event, seq), 0);
	CHECK_EQ(offsetof(struct trap_event, esr), 40);
	CHECK_EQ(offsetof(struct trap_event, pcpu), 48);
	CHECK_EQ(offsetof(struct trap_event, meta), 48);
	CHECK_EQ(offsetof(struct trap_event, reserved), 56);
	CHECK_EQ(EVENT_RING_SIZE & (EVENT_RING_SIZE - 1), 0); /* the index mask needs a power of two */
	CHECK_EQ(offsetof(struct event_ring, slots) % 8, 0);
}

static void ring_empty(void)
{
	struct trap_event e;

	memset(&ring, 0xff, sizeof(ring));
	event_ring_reset(&ring);
	CHECK_EQ(ring.head, 0);
	CHECK_EQ(ring.slots[EVENT_RING_SIZE - 1].seq, 0);
	CHECK_EQ(event_ring_oldest(&ring), 0);
	CHECK_EQ(event_ring_dropped(&ring, 0), 0);
	CHECK(!event_ring_get(&ring, 0, &e));
	CHECK(!event_ring_get(&ring, 1, &e));
	CHECK(event_ring_next(&ring) == &ring.slots[0]);
}

static void ring_next_commit(void)
{
	struct trap_event e;

	event_ring_reset(&ring);
	for (unsigned i = 0; i < 10; i++) {
		CHECK(event_ring_next(&ring) == &ring.slots[i]);
		record(&ring, 100 + i);
		CHECK_EQ(ring.head, i + 1);
	}
	for (unsigned i = 0; i < 10; i++) {
		memset(&e, 0, sizeof(e));
		CHECK(event_ring_get(&ring, i, &e));
		CHECK_EQ(e.seq, i);
		CHECK_EQ(e.value, 100 + i);
		CHECK_EQ(e.elr, 0x40080000 + 4 * i);
	}
	/* Not yet written. */
	CHECK(!event_ring_get(&ring, 10, &e));
	CHECK(!event_ring_get(&ring, ~0ull, &e));
	CHECK_EQ(event_ring_oldest(&ring), 0);
	CHECK_EQ(event_ring_dropped(&ring, 0), 0);
}

static void ring_full_without_loss(void)
{
	struct trap_event e;

	event_ring_reset(&ring);
	for (unsigned i = 0; i < EVENT_RING_SIZE; i++)
		record(&ring, i);
	/* Exactly full: the next write goes to slot 0, so record 0 is no longer
	 * trusted (a reader on another CPU could see it half overwritten). */
	CHECK_EQ(event_ring_oldest(&ring), 1);
	CHECK_EQ(event_ring_dropped(&ring, 0), 1);
	CHECK(!event_ring_get(&ring, 0, &e));
	CHECK(event_ring_get(&ring, 1, &e));
	CHECK_EQ(e.value, 1);
	CHECK(event_ring_get(&ring, EVENT_RING_SIZE - 1, &e));
	CHECK_EQ(e.value, EVENT_RING_SIZE - 1);
	CHECK(event_ring_next(&ring) == &ring.slots[0]);
}

static void ring_wraps_over_oldest(void)
{
	struct trap_event e;
	const u64 n = EVENT_RING_SIZE + 5;

	event_ring_reset(&ring);
	for (u64 i = 0; i < n; i++)
		record(&ring, 1000 + i);
	CHECK_EQ(ring.head, n);
	CHECK_EQ(event_ring_oldest(&ring), 6);
	/* Slot 0..4 now hold records SIZE..SIZE+4. */
	CHECK_EQ(ring.slots[0].seq, EVENT_RING_SIZE);
	CHECK_EQ(ring.slots[4].seq, EVENT_RING_SIZE + 4);
	CHECK_EQ(ring.slots[5].seq, 5);
	CHECK(event_ring_next(&ring) == &ring.slots[5]);
	/* Overwritten, or next to be. */
	for (u64 s = 0; s < 6; s++)
		CHECK(!event_ring_get(&ring, s, &e));
	/* Still there: each sequence number returns its own record. */
	for (u64 s = 6; s < n; s++) {
		memset(&e, 0, sizeof(e));
		CHECK(event_ring_get(&ring, s, &e));
		CHECK_EQ(e.seq, s);
		CHECK_EQ(e.value, 1000 + s);
	}
	/* The future. */
	CHECK(!event_ring_get(&ring, n, &e));
	CHECK(!event_ring_get(&ring, n + EVENT_RING_SIZE, &e));
}

static void ring_dropped(void)
{
	event_ring_reset(&ring);
	for (u64 i = 0; i < 3 * EVENT_RING_SIZE + 7; i++)
		record(&ring, i);
	CHECK_EQ(event_ring_oldest(&ring), 2 * EVENT_RING_SIZE + 8);
	/* A reader that last saw nothing lost everything older than the oldest. */
	CHECK_EQ(event_ring_dropped(&ring, 0), 2 * EVENT_RING_SIZE + 8);
	CHECK_EQ(event_ring_dropped(&ring, 2 * EVENT_RING_SIZE), 8);
	CHECK_EQ(event_ring_dropped(&ring, 2 * EVENT_RING_SIZE + 7), 1);
	CHECK_EQ(event_ring_dropped(&ring, 2 * EVENT_RING_SIZE + 8), 0);
	CHECK_EQ(event_ring_dropped(&ring, ring.head), 0);
	CHECK_EQ(event_ring_dropped(&ring, ring.head + 100), 0);
}

/*
 * A reader whose record was overwritten after it checked the range: the copy
 * carries another sequence number, and get() must refuse it.
 */
static void ring_lapped_slot(void)
{
	struct trap_event e;

	event_ring_reset(&ring);
	for (unsigned i = 0; i < EVENT_RING_SIZE; i++)
		record(&ring, i);
	/* The writer has started the next record (seq = head) in slot 0 but not committed it. */
	event_ring_next(&ring)->seq = ring.head;
	event_ring_next(&ring)->value = 0xdead;
	CHECK_EQ(event_ring_oldest(&ring), 1); /* 0 is the slot being written ... */
	CHECK(!event_ring_get(&ring, 0, &e)); /* ... and is refused */
	CHECK(event_ring_get(&ring, 1, &e));
	CHECK_EQ(e.value, 1);
	/* Any slot whose stored sequence disagrees is refused, wherever it is. */
	ring.slots[17].seq = 17 + EVENT_RING_SIZE;
	CHECK(!event_ring_get(&ring, 17, &e));
	ring.slots[17].seq = 17;
	CHECK(event_ring_get(&ring, 17, &e));
	CHECK_EQ(e.value, 17);
}

/* Sequence numbers far from zero: the index is the low bits, head never wraps back. */
static void ring_large_sequence(void)
{
	struct trap_event e;
	const u64 base = (1ull << 40) + 3;

	event_ring_reset(&ring);
	ring.head = base;
	for (unsigned i = 0; i < 3; i++)
		record(&ring, i);
	CHECK_EQ(event_ring_oldest(&ring), base + 3 - EVENT_RING_KEPT);
	CHECK(event_ring_get(&ring, base + 2, &e));
	CHECK_EQ(e.value, 2);
	CHECK(ring.slots[(base + 2) % EVENT_RING_SIZE].seq == base + 2);
	/* In range by number but never written in this ring: the stored seq says so. */
	CHECK(!event_ring_get(&ring, base - 1, &e));
}

static void stats(void)
{
	struct trap_stat s;

	memset(&s, 0, sizeof(s));
	trap_stat_add(&s, 10);
	CHECK_EQ(s.count, 1);
	CHECK_EQ(s.ticks, 10);
	trap_stat_add(&s, 3);
	trap_stat_add(&s, 0);
	trap_stat_add(&s, 25);
	CHECK_EQ(s.count, 4);
	CHECK_EQ(s.ticks, 38);
	/* el2_ticks is 32 bits per event; the sum needs all 64. */
	memset(&s, 0, sizeof(s));
	trap_stat_add(&s, 0xffffffffull);
	trap_stat_add(&s, 0xffffffffull);
	CHECK_EQ(s.count, 2);
	CHECK_EQ(s.ticks, 0x1fffffffeull);
}

/* META_CPU() | META_KIND(): the trap path's one store of the small fields. */
static void event_meta_word(void)
{
	struct trap_event e;

	memset(&e, 0x5a, sizeof(e));
	e.meta = META_CPU(3, 2) | META_KIND(TRAP_MMIO, OP_WRITE, OUT_FORWARDED);
	CHECK_EQ(e.pcpu, 3);
	CHECK_EQ(e.vcpu, 2);
	CHECK_EQ(e.cls, TRAP_MMIO);
	CHECK_EQ(e.op, OP_WRITE);
	CHECK_EQ(e.outcome, OUT_FORWARDED);
	CHECK_EQ(e.width, 0);	/* none unless a handler says so */
	CHECK_EQ(e.reg, 0xff);	/* no register unless a handler says so */
	CHECK_EQ(e.reserved0, 0);
	/* The largest values of each field stay in their own byte. */
	e.meta = META_CPU(0xff, 0xff) | META_KIND(TRAP_CLASS_COUNT - 1, OP_MAINT, OUT_NOT_SUPPORTED);
	CHECK_EQ(e.pcpu, 0xff);
	CHECK_EQ(e.vcpu, 0xff);
	CHECK_EQ(e.cls, TRAP_CLASS_COUNT - 1);
	CHECK_EQ(e.op, OP_MAINT);
	CHECK_EQ(e.outcome, OUT_NOT_SUPPORTED);
	/* A handler's later stores to single fields land in the same word, and only there. */
	e.width = 4;
	e.reg = 7;
	CHECK_EQ(e.meta >> 40 & 0xff, 4);
	CHECK_EQ(e.meta >> 48 & 0xff, 7);
	CHECK_EQ(e.esr, 0x5a5a5a5a);
	CHECK_EQ(e.el2_ticks, 0x5a5a5a5a);
	CHECK_EQ(e.reserved, 0x5a5a5a5a5a5a5a5aull);
}

/* ELR is stored; the instruction's address is derived from it and the class. */
static void event_pc_from_elr(void)
{
	struct trap_event e;

	memset(&e, 0, sizeof(e));
	e.elr = 0x40081004;
	e.esr = 0x5a000000; /* hvc #0: ELR is past the instruction */
	CHECK_EQ(event_pc(&e), 0x40081000);
	e.esr = 0x5a00abcd; /* hvc #0xabcd */
	CHECK_EQ(event_pc(&e), 0x40081000);
	e.esr = 0x5e000000; /* smc #0: the trap leaves ELR on the instruction */
	CHECK_EQ(event_pc(&e), 0x40081004);
	e.esr = 0x62000000; /* sysreg */
	CHECK_EQ(event_pc(&e), 0x40081004);
	e.esr = 0x92000046; /* data abort */
	CHECK_EQ(event_pc(&e), 0x40081004);
	e.esr = 0x06000000; /* wfi */
	CHECK_EQ(event_pc(&e), 0x40081004);
}

static void class_names(void)
{
	static const char *const expect[TRAP_CLASS_COUNT] = {
		"wfi", "wfe", "hvc", "smc", "sysreg", "id", "vm", "cache",
		"debug", "pmu", "fp", "mmio", "abort", "other", "watch", "irq", "sched",
	};

	for (unsigned c = 0; c < TRAP_CLASS_COUNT; c++) {
		const char *n = trap_class_name(c);
		CHECK_STR(n, expect[c]);
		/* Round trip through the name, and a name is not matched by its prefix. */
		CHECK_EQ(trap_class_by_name(n, strlen(n)), c);
		CHECK_EQ(trap_class_by_name(n, strlen(n) - 1), -1);
		for (unsigned d = c + 1; d < TRAP_CLASS_COUNT; d++)
			CHECK(strcmp(n, trap_class_name(d)) != 0);
	}
	CHECK_STR(trap_class_name(TRAP_CLASS_COUNT), "?");
	CHECK_STR(trap_class_name(~0u), "?");
}

static void class_by_name_uses_len(void)
{
	/* The name need not be terminated: "mmio" out of a longer command line. */
	CHECK_EQ(trap_class_by_name("mmio 0x9000000", 4), TRAP_MMIO);
	CHECK_EQ(trap_class_by_name("sysreg=SCTLR_EL1", 6), TRAP_SYSREG);
	CHECK_EQ(trap_class_by_name("wfi", 4), -1); /* includes the NUL: not a class */
	CHECK_EQ(trap_class_by_name("", 0), -1);
	CHECK_EQ(trap_class_by_name("bogus", 5), -1);
	CHECK_EQ(trap_class_by_name("wfx", 3), -1);
}

static void op_and_outcome_names(void)
{
	CHECK_STR(event_op_name(OP_NONE), "-");
	CHECK_STR(event_op_name(OP_READ), "read");
	CHECK_STR(event_op_name(OP_WRITE), "write");
	CHECK_STR(event_op_name(OP_CALL), "call");
	CHECK_STR(event_op_name(OP_WAIT), "wait");
	CHECK_STR(event_op_name(OP_MAINT), "maint");
	CHECK_STR(event_op_name(OP_DELIVER), "deliver");
	CHECK_STR(event_op_name(OP_SWITCH), "switch");
	CHECK_STR(event_op_name(OP_SWITCH + 1), "?");
	CHECK_STR(event_outcome_name(OUT_EMULATED), "emulated");
	CHECK_STR(event_outcome_name(OUT_FORWARDED), "forwarded");
	CHECK_STR(event_outcome_name(OUT_UNDEF_INJECTED), "undef-injected");
	CHECK_STR(event_outcome_name(OUT_ABORT_INJECTED), "abort-injected");
	CHECK_STR(event_outcome_name(OUT_NOT_SUPPORTED), "not-supported");
	CHECK_STR(event_outcome_name(OUT_NOT_SUPPORTED + 1), "?");
	CHECK_STR(event_outcome_name(~0u), "?");
}

int main(void)
{
	/* Keep the PASS/FAIL lines already printed if a sanitizer aborts the run. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	RUN(event_layout);
	RUN(ring_empty);
	RUN(ring_next_commit);
	RUN(ring_full_without_loss);
	RUN(ring_wraps_over_oldest);
	RUN(ring_dropped);
	RUN(ring_lapped_slot);
	RUN(ring_large_sequence);
	RUN(stats);
	RUN(event_meta_word);
	RUN(event_pc_from_elr);
	RUN(class_names);
	RUN(class_by_name_uses_len);
	RUN(op_and_outcome_names);
	return CHECK_DONE();
}
