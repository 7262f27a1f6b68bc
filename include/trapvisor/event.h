/*
 * Trap events: one fixed-size record per trap, written once into a per-CPU ring.
 *
 * Trace, statistics and (later) catchpoints and the registers GDB sees are all
 * views of these records. The ring never blocks the trapping CPU: it overwrites
 * the oldest record, and readers learn how many they lost from the sequence
 * numbers (see event_ring_dropped()).
 */
#ifndef TRAPVISOR_EVENT_H
#define TRAPVISOR_EVENT_H

#include "trapvisor/types.h"

/* What the user switches on and off, catches and counts. */
enum trap_class {
	TRAP_WFI,
	TRAP_WFE,
	TRAP_HVC,
	TRAP_SMC,
	TRAP_SYSREG, /* system registers not in a finer class (ACTLR_EL1, ...) */
	TRAP_ID,     /* ID registers: HCR_EL2.TID1/TID2/TID3 */
	TRAP_VM,     /* virtual-memory controls: HCR_EL2.TVM/TRVM */
	TRAP_CACHE,  /* cache and TLB maintenance: HCR_EL2.TSW/TPCP/TPU/TTLB */
	TRAP_DEBUG,  /* debug registers: MDCR_EL2.TDA/TDOSA/TDRA */
	TRAP_PMU,    /* PMU registers: MDCR_EL2.TPM/TPMCR */
	TRAP_FP,     /* first FP/SIMD use: CPTR_EL2.TFP */
	TRAP_MMIO,   /* stage-2 data aborts on emulated or watched device ranges */
	TRAP_ABORT,  /* stage-2 faults outside any device: injected into the guest */
	TRAP_OTHER,  /* anything else the guest made EL2 see */
	TRAP_WATCH,  /* stage-2 watchpoints: an access to a watched page, hit (value 1) or missed */
	TRAP_IRQ,    /* a virtual interrupt put in a list register: addr INTID, value priority */
	TRAP_SCHED,  /* a pCPU switched vCPUs: vcpu the one in, addr the one out, value why (sched.h) */
	TRAP_CLASS_COUNT
};

enum event_op {
	OP_NONE,
	OP_READ,
	OP_WRITE,
	OP_CALL, /* HVC/SMC: addr holds the function id (x0), value the result */
	OP_WAIT, /* WFI/WFE */
	OP_MAINT, /* cache/TLB maintenance: value holds Xt */
	OP_DELIVER, /* an interrupt given to the guest */
	OP_SWITCH /* a vCPU switched in */
};

enum event_outcome {
	OUT_EMULATED,	    /* the hypervisor performed it for the guest */
	OUT_FORWARDED,	    /* performed on the real hardware on the guest's behalf */
	OUT_UNDEF_INJECTED, /* guest received an UNDEFINED exception */
	OUT_ABORT_INJECTED, /* guest received a synchronous external abort */
	OUT_NOT_SUPPORTED,  /* HVC/SMC answered with SMCCC NOT_SUPPORTED */
};

/*
 * What is derivable is not stored: the exception class and an HVC/SMC
 * immediate are in the ESR, the instruction's address follows from ELR and
 * the class (event_pc()). Every byte written here is paid on every trap.
 */
struct trap_event {
	u64 seq;   /* per-CPU, from 0, never reused */
	u64 time;  /* CNTPCT_EL0 at vector entry */
	u64 elr;   /* ELR_EL2 at the trap */
	u64 addr;  /* IPA, SYSREG_ENC(), or SMCCC function id */
	u64 value; /* value read/written, call result, Xt of maintenance */
	u32 esr;
	u32 el2_ticks; /* CNTPCT ticks spent in EL2 for this trap */
	/* The small fields share one word: the trap path sets them in one store. */
	union {
		struct {
			u8 pcpu;
			u8 vcpu;
			u8 cls;	    /* enum trap_class */
			u8 op;	    /* enum event_op */
			u8 outcome; /* enum event_outcome */
			u8 width;   /* access width in bytes, 0 if none */
			u8 reg;	    /* general register involved, 0xff if none */
			u8 reserved0;
		};
		u64 meta;
	};
	u64 reserved;
};
_Static_assert(sizeof(struct trap_event) == 64, "trap_event is one cache line");

#define META_CPU(pcpu, vcpu) ((u64)(pcpu) | (u64)(vcpu) << 8)
#define META_KIND(cls, op, outcome) ((u64)(cls) << 16 | (u64)(op) << 24 | (u64)(outcome) << 32 | 0xffull << 48)

/* The address of the trapping instruction: an HVC's ELR points past it. */
static inline u64 event_pc(const struct trap_event *e)
{
	return (e->esr >> 26) == 0x16 /* EC_HVC64 */ ? e->elr - 4 : e->elr;
}

#define EVENT_RING_ORDER 10
#define EVENT_RING_SIZE (1u << EVENT_RING_ORDER)
#define EVENT_RING_KEPT (EVENT_RING_SIZE - 1) /* readable records: see event_ring_oldest() */

struct event_ring {
	u64 head; /* records written so far; the next one goes to slots[head % SIZE] */
	struct trap_event slots[EVENT_RING_SIZE];
};

struct trap_stat {
	u64 count;
	u64 ticks;
};

/*
 * The writer's side, the same for the trap path and the tests: the record for
 * sequence seq is filled in place in its slot and published with a release
 * store of the head, so a record is written exactly once and readers see it
 * whole (see event_ring_get()).
 */
static inline struct trap_event *event_ring_slot(struct event_ring *r, u64 seq)
{
	return &r->slots[seq & (EVENT_RING_SIZE - 1)];
}

static inline void event_ring_publish(struct event_ring *r, u64 seq)
{
	__atomic_store_n(&r->head, seq + 1, __ATOMIC_RELEASE);
}

static inline struct trap_event *event_ring_next(struct event_ring *r)
{
	return event_ring_slot(r, r->head);
}

static inline void event_ring_commit(struct event_ring *r)
{
	event_ring_publish(r, r->head);
}

void event_ring_reset(struct event_ring *r);
/* Records older than this sequence number have been overwritten. */
u64 event_ring_oldest(const struct event_ring *r);
/* Records the reader wanted (from sequence `since`) that were overwritten. */
u64 event_ring_dropped(const struct event_ring *r, u64 since);
/* Copy the record with sequence `seq`; false if not (or no longer) in the ring. */
bool event_ring_get(const struct event_ring *r, u64 seq, struct trap_event *out);

/*
 * Count and time per class are exact, kept on the trap path. The shortest and
 * longest times are taken from the events still in the ring when asked for
 * (stats_print), which keeps two compares and two stores off every trap.
 */
static inline void trap_stat_add(struct trap_stat *s, u64 ticks)
{
	s->count++;
	s->ticks += ticks;
}

const char *trap_class_name(unsigned cls);
int trap_class_by_name(const char *name, size_t len);
const char *event_op_name(unsigned op);
const char *event_outcome_name(unsigned outcome);

#endif
