/*
 * Core data of the hypervisor: the physical CPUs (struct pcpu, pcpus[]), the
 * guest's vCPUs (struct vcpu, vcpu_slots[]) and the guest's memory. A pCPU runs the
 * vCPU pcpu->curr (NULL: its idle loop); a vCPU belongs to vcpu_pcpu(v). The
 * two are numbered apart: a vCPU's id is the guest's number for it (GDB's
 * threads, PSCI targets and MPIDRs, its redistributor, `vcpuN` in the trace),
 * a pCPU's the hardware's (which CPU to kick, whose physical redistributor
 * holds a PPI, whose ring an event is in), and each use says which it means.
 *
 * A vCPU is placed on one pCPU for the guest's lifetime (vCPU n on pCPU
 * n % pcpus, sched.c says why) and shares it with the others placed there. It
 * owns a stack with its trap frame on top, so a trap saves its x0-x30 where
 * its own hypervisor code runs, and a vCPU that waits (a WFI, a debugger
 * stop) is a stack the scheduler switches away from. Its architectural state
 * is in the hardware while it is loaded (v->loaded) and in v->ctx otherwise
 * (arch/context.h); load and put, in the scheduler, are the only copies.
 */
#ifndef HV_H
#define HV_H

#include "trapvisor/types.h"
#include "trapvisor/event.h"
#include "trapvisor/esr.h"
#include "arch/frame.h"
#include "arch/context.h"
#include "lib.h"
#include "trapvisor/hypercall.h"
#include "vgic.h"

#define MAX_CPUS 8  /* pCPUs */
#define MAX_VCPUS 8 /* the guest's CPUs */

#define HV_VERSION "0.1"

enum vcpu_state {
	VCPU_OFF,
	VCPU_ON_CLAIMED, /* a CPU_ON won the race and is writing the entry point */
	VCPU_ON_PENDING, /* CPU_ON accepted, not run since */
	VCPU_RUNNING,	 /* loaded on its pCPU */
	VCPU_IDLE,	 /* blocked in a trapped WFI (or CPU_SUSPEND): waits for an interrupt */
	VCPU_RUNNABLE,	 /* on its pCPU's run queue */
};

#define DEBUG_MAX_SYSREGS 160

/* What the debugger keeps of a vCPU (debug.c). */
struct vcpu_debug {
	bool parked;	/* taken off its pCPU for a debugger stop */
	bool held;	/* GDB's last resume left it stopped (vCont for other threads) */
	/* What makes a load write debug registers (debug_load), tested at once. */
	union {
		struct {
			bool stepping;
			bool guest_dbg_in_use;	/* some guest_dbg control or MDSCR_EL1 enables something */
			bool restore_guest_dbg; /* GDB detached: the guest's own go back at the next load */
		};
		u32 load_work;
	};
	u64 sysregs[DEBUG_MAX_SYSREGS]; /* registers outside the context, as its pCPU parked */
	u64 sysregs_dirty[DEBUG_MAX_SYSREGS / 64];
	u64 sysregs_valid[DEBUG_MAX_SYSREGS / 64];
	u64 esr, far, hpfar, ec, seq; /* the last trap's syndrome: GDB's hypervisor registers */
	const struct trap_event *event; /* the event a catchpoint stopped on, if any */
	/* The guest's own debug registers while GDB owns the real ones, or while
	 * vCPUs share pCPUs: [breakpoint 0 / watchpoint 1][n][value 0 / control 1],
	 * and MDSCR_EL1. */
	u64 guest_dbg[2][16][2];
	u64 mdscr_guest;
	/* ... and its OS Lock and OS Double Lock, which would turn GDB's
	 * breakpoints and steps off: kept here, the hardware's stay open. */
	bool oslk_guest, osdlk_guest;
	bool guest_dbg_captured;
};

/* Where a vCPU's hypervisor code stopped when its pCPU switched away (switch.S). */
struct sched_context {
	u64 x19_x28[10];
	u64 fp, lr, sp;
};
_Static_assert(__builtin_offsetof(struct sched_context, sp) == 96, "the layout switch.S saves");

struct pcpu;

/*
 * A vCPU. The frame tops its stack, and the hot block follows it (event
 * cursor, exit_work, id, statistics): everything after the frame that a trap
 * touches sits within a load's reach of it, so the trap path addresses it
 * from the frame pointer it is handed.
 */
struct vcpu {
	/* First, so that the fields a switch uses are within an immediate's
	 * reach of the vCPU's address; its stack is right below (vcpu_slot). */
	struct trap_frame frame;
	struct event_cursor {
		struct event_ring *ring; /* its events, or its pCPU's untraced while tracing is off */
		u64 meta;		 /* META_CPU() of its pCPU and itself */
	} event_cursor;			 /* read with one ldp on every trap */
	volatile u32 exit_work;	 /* EXIT_WORK_*: done after the trap, before eret */
	unsigned id;		 /* the guest's number for it: GDB thread id - 1, its redistributor */
	struct trap_stat stats[TRAP_CLASS_COUNT]; /* its traps: counts and EL2 time per class */
	/* Next, what an interrupt's direct route reads (vgic.c): within an
	 * immediate's reach of the frame too. */
	struct vgic_cpu vgic;

	struct pcpu *pcpu;  /* the pCPU it is placed on */
	volatile u32 state; /* enum vcpu_state; written by other pCPUs (CPU_ON, wake) */
	bool loaded;	    /* its state is in its pCPU's registers, not in ctx */
	volatile bool in_wfi; /* alone on its pCPU, sleeping in a trapped WFI there */
	u64 vmpidr;
	u64 vpidr;
	/* CPU_ON / CPU_SUSPEND resume point, handed over by psci.c */
	u64 entry;
	u64 context_id;
	struct trap_frame *regs; /* its x0-x30: &frame */
	struct vcpu_context ctx;
	struct sched_context sched_ctx;
	struct vcpu *next_queued; /* its pCPU's run queue */
	struct vcpu_sched_stats {
		u64 run_ticks, wait_ticks; /* its switches in: stats[TRAP_SCHED].count */
		u64 since; /* CNTPCT of the last change between running and waiting */
	} sched_stats;
	struct vcpu_debug dbg; /* before the ring: its flags within a load's reach (debug_load) */
	struct trap_stat stats_base[TRAP_CLASS_COUNT]; /* `hv stats reset` */
	struct vcpu_sched_stats sched_base;
	/* Its trap events: one ring per vCPU, because a trap's record stays
	 * open in it while the vCPU waits in that trap (a WFI) and others of its
	 * pCPU run and trap. */
	u64 trace_from;		 /* `hv trace clear`: readers start here */
	u64 stats_from;		 /* `hv stats reset`: the first event min/max look at */
	struct event_ring events;
} __attribute__((aligned(64)));

/*
 * The hot block's layout is pinned: trap_lower_sync() addresses the event
 * cursor (one ldp), the statistics and exit_work from the frame pointer it is
 * handed, and the null HVC's instruction count (docs/performance.md) depends
 * on these offsets staying within an immediate's reach and unchanged.
 */
#define VCPU_FROM_FRAME(field) (__builtin_offsetof(struct vcpu, field) - __builtin_offsetof(struct vcpu, frame))
_Static_assert(__builtin_offsetof(struct vcpu, frame) == 0, "a vCPU's address is its frame's");

/* A vCPU and its EL2 stack, its frame right above the stack (arch/frame.h). */
struct vcpu_slot {
	u8 stack[VCPU_STACK_SIZE] __attribute__((aligned(16)));
	struct vcpu vcpu;
};
_Static_assert(__builtin_offsetof(struct vcpu_slot, vcpu) == VCPU_STACK_SIZE, "the frame right above the stack (vectors.S)");
_Static_assert(VCPU_FROM_FRAME(event_cursor) == FRAME_SIZE, "the event cursor right after the frame");
_Static_assert(sizeof(struct event_cursor) == 16, "the event cursor is read with one ldp");
_Static_assert(VCPU_FROM_FRAME(exit_work) == FRAME_SIZE + 16, "exit_work after the cursor");
_Static_assert(VCPU_FROM_FRAME(stats) == FRAME_SIZE + 24, "the statistics after exit_work and the id");

static inline struct vcpu *vcpu_of_frame(struct trap_frame *f)
{
	return (struct vcpu *)((u8 *)f - __builtin_offsetof(struct vcpu, frame));
}

/* A physical CPU: its run queue, its event rings (its idle loop's stack is pcpu_stacks[id]). */
struct pcpu {
	unsigned id;
	struct vcpu *curr; /* the vCPU it runs; NULL in its idle loop */
	struct vcpu *last_loaded; /* whose translations its TLB may hold */
	struct vcpu *fp_owner;	  /* whose FP/SIMD state its registers hold (context.c) */
	u64 mpidr;
	u64 kick_sgir; /* ICC_SGI0R_EL1 for GIC_SGI_KICK to this pCPU, computed once */
	u64 mdcr_base; /* MDCR_EL2 with only HPMN set: all counters the guest's */
	spinlock_t sched_lock;	 /* its run queue and its vCPUs' state changes */
	struct vcpu *runq_head, *runq_tail;
	unsigned placed;	 /* vCPUs placed on it: */
	struct vcpu *placed_vcpus[MAX_VCPUS];
	volatile bool resched;	 /* a vCPU woke here: switch at the next exit */
	volatile u32 parked_for; /* the debugger's stop it parked for (debug.c's stop_seq) */
	bool guest_dbg_in_hw;	 /* its debug registers hold something a vCPU set */
	u16 lrs_held;		 /* list registers the vCPU put last may have left valid */
	u32 ppis_enabled_hw;	 /* the guest's private interrupts its redistributor enables now */
	u64 trap_key;		 /* the trap classes and GDB's attachment trap_cached is for */
	struct trap_control {
		u64 hcr, mdcr, cptr;
	} trap_cached;
	u64 slice_end;		 /* CNTPCT when the running vCPU's slice ends, ~0 if none */
	u64 poll_at;		 /* CNTPCT of the debug line's next poll, ~0 if none */
	struct sched_context idle_ctx;
	struct trap_event *switch_event; /* the sched event of the last switch here */
	volatile bool el2_probe_armed, el2_probe_faulted;
	u64 el2_probe_elr, el2_probe_spsr; /* the trapped vCPU's, which a probe's fault overwrites */
	u64 trace_from;		 /* for its scheduler ring, as a vCPU's */
	u64 stats_from;
	struct event_ring events; /* its scheduler's switches (sched events) */
	/* Where records go while tracing is off: written, never read, so the
	 * trap path is the same instructions either way. */
	struct event_ring untraced;
} __attribute__((aligned(64)));

extern struct pcpu pcpus[MAX_CPUS];
extern unsigned pcpu_count;
extern struct vcpu_slot vcpu_slots[MAX_VCPUS];
extern unsigned vcpu_count;

static inline struct pcpu *this_pcpu(void)
{
#ifndef HOST_TEST
	struct pcpu *p;
	asm volatile("mrs %0, tpidr_el2" : "=r"(p));
	return p;
#else
	extern struct pcpu *host_this_pcpu;
	return host_this_pcpu;
#endif
}

/* The vCPU this pCPU runs: the one whose trap is being handled here. */
static inline struct vcpu *this_vcpu(void)
{
	return this_pcpu()->curr;
}

/* By the guest's number (GDB's thread id - 1, a catchpoint's vcpu=, ...). */
static inline struct vcpu *vcpu_by_id(unsigned id)
{
	return id < vcpu_count ? &vcpu_slots[id].vcpu : NULL;
}

/* Where v runs: the pCPU to kick, whose redistributor holds its PPIs. */
static inline struct pcpu *vcpu_pcpu(const struct vcpu *v)
{
	return v->pcpu;
}

/* A vCPU's trap statistics. */
static inline struct trap_stat *vcpu_stats(struct vcpu *v)
{
	return v->stats;
}

/* The ring a pCPU's scheduler events go to now (tracing on or off). */
static inline struct event_ring *pcpu_ring(struct pcpu *cpu)
{
	extern bool trace_on;
	return trace_on ? &cpu->events : &cpu->untraced;
}

/* The guest: identity-mapped RAM [ram_base, ram_end) and what was loaded in it. */
struct guest_config {
	u64 ram_base, ram_end;
	u64 image;	  /* guest Image load address */
	u64 initrd, initrd_size;
	u64 dtb;	  /* where the guest's device tree goes */
	const char *cmdline;
	bool hypercalls;  /* trapvisor vendor hypercalls (test interface) */
	bool stats_at_exit;
	u32 vpidr;
	bool vpidr_set;
	u64 vmpidr[MAX_VCPUS];
	bool vmpidr_set;
	/* CNTVOFF_EL2 of every vCPU: how long the debugger has held the guest,
	 * so its virtual counter does not advance while it is stopped (debug.c). */
	u64 cntvoff;
};
extern struct guest_config guest;

static inline bool guest_ram_contains(u64 ipa, u64 size)
{
	return ipa >= guest.ram_base && size <= guest.ram_end - ipa && ipa < guest.ram_end;
}

/* Work a trap leaves for the end of its exit path (one load there when none). */
#define EXIT_WORK_TRAPS BIT(0)	     /* trap classes changed: re-apply */
#define EXIT_WORK_CPU_OFF BIT(1)     /* PSCI CPU_OFF: park this pCPU */
#define EXIT_WORK_SYSTEM_OFF BIT(2)  /* PSCI SYSTEM_OFF */
#define EXIT_WORK_SYSTEM_RESET BIT(3)
#define EXIT_WORK_VGIC BIT(4)	     /* its virtual interrupts changed: refill the list registers */
#define EXIT_WORK_SCHED BIT(5)	     /* its pCPU has another vCPU to run (sched.c) */

/* Tracing on (the default) or off: whether trap events reach the rings that
 * `hv trace` reads. Statistics are kept either way. */
void trace_set(bool on);
bool trace_is_on(void);
void trace_clear(void);
struct text_sink;
void trace_dump(const struct text_sink *out);
void stats_reset(void);

/* ---- trap classes (vcpu.c) ---- */
struct trap_config {
	u32 enabled; /* bit per enum trap_class; vCPUs re-apply it via EXIT_WORK_TRAPS */
};
extern struct trap_config trap_config;
void trap_class_set(unsigned cls, bool on);
/* The trap controls of loaded vCPU v, into HCR/MDCR/CPTR_EL2. */
void trap_apply(struct vcpu *v);
bool trap_class_always_on(unsigned cls);

/* ---- vCPU operations (vcpu.c) ---- */
void vcpu_init(struct vcpu *v, unsigned id);
/* esr: the trap's ESR_EL2, whose IL says how long the instruction is. */
void vcpu_skip_instr(u64 esr);
void vcpu_inject_undef(struct trap_frame *f);
/* A data abort on va; syndrome: its IL and ISS (DFSC, WnR, CM), the EC is added. */
void vcpu_inject_dabt(struct trap_frame *f, u64 va, u64 syndrome);
/* A synchronous external abort on an instruction fetch at va. */
void vcpu_inject_iabt(struct trap_frame *f, u64 va);
void vcpu_inject_debug(struct trap_frame *f, u64 esr);
struct vcpu *vcpu_by_mpidr(u64 mpidr);
void vcpu_wait_for_interrupt(struct vcpu *v);
void vcpu_wait_for_interrupt_until(struct vcpu *v, u64 cntvct_deadline);
/* CPU_ON: v (off) starts at v->entry with x0 = v->context_id. */
void vcpu_power_on(struct vcpu *v);
/* Out of reset at entry with x0: into v's saved context (v not loaded), or
 * into the registers (v loaded: a CPU_SUSPEND's power-down). */
void vcpu_set_reset_state(struct vcpu *v, u64 entry, u64 x0);

/* ---- guest address translation and caches (arch) ---- */
/* Stage-1 walk of the guest's own tables at the guest's EL; fsc on failure. */
bool guest_va_to_ipa(const struct trap_frame *f, u64 va, bool write, u64 *ipa, u64 *fsc);
/* The same at a given EL (el0, else EL1), whatever the trapped vCPU's. */
bool guest_va_to_ipa_as(u64 va, bool el0, bool write, u64 *ipa, u64 *fsc);
void cache_ic_invalidate_all(void);

/* Into the guest from frame f, ELR/SPSR_EL2 set (vectors.S). */
void __attribute__((noreturn)) guest_enter(struct trap_frame *f);

/* ---- trap dispatch (trap.c) ---- */
/* A handler finds its vCPU with vcpu_of_frame(f) when it needs it. */
typedef void (*trap_handler_fn)(struct trap_frame *f, struct trap_event *ev);
void trap_lower_sync(struct trap_frame *f);
/* The end of every exit: the work it left (EXIT_WORK_*), if any. */
void trap_finish_exit(struct trap_frame *f);

/* ---- PSCI for the guest (psci.c) ---- */
/* PSCI function ids 0x84000000-0x8400001f and their SMC64 forms (DEN0022). */
static inline bool psci_is_call(u64 fid)
{
	return ((fid & ~0x40000000ull) - 0x84000000ull) <= 0x1f;
}
void psci_handle(struct vcpu *v, struct trap_frame *f, struct trap_event *ev);
/* SMCCC return codes */
#define SMCCC_NOT_SUPPORTED ((u64)-1)

/* ---- trapvisor's own hypercalls (hypercall.c) ---- */
static inline bool hypercall_is_ours(u64 fid)
{
	return (fid & ~0xffffull) == TV_HC_BASE;
}
void hypercall_handle(struct vcpu *v, struct trap_frame *f, struct trap_event *ev);

/* ---- system registers (sysreg.c) ---- */

/* ---- MMIO (mmio.c) ---- */
void mmio_trap(struct trap_frame *f, struct trap_event *ev);

/* ---- text output: the console, or GDB's (monitor commands) ---- */
struct text_sink {
	void (*write)(void *arg, const char *text, size_t len);
	void *arg;
};
extern const struct text_sink console_sink;
void sink_printf(const struct text_sink *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- events (trace.c) ---- */
size_t event_format(const struct trap_event *e, char *buf, size_t size);
void event_print_recent(const struct text_sink *s, unsigned n);
void stats_print(const struct text_sink *s);

/*
 * An access that may not exist on this CPU (a system register the table names
 * but the hardware lacks): between begin and end, an exception at EL2 skips the
 * instruction instead of stopping the hypervisor; end says whether it worked.
 */
void el2_probe_begin(void);
bool el2_probe_end(void);

/* ---- firmware beneath us (platform) ---- */
void __attribute__((noreturn)) hv_system_off(void);
void __attribute__((noreturn)) hv_system_reset(void);
void __attribute__((noreturn)) hv_panic(const char *fmt, ...);

#endif
