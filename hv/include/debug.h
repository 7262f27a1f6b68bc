/*
 * The debugger: the one module of the hypervisor that knows GDB exists. It owns
 * the debug line, implements gdbstub's target interface, and stops and resumes
 * every vCPU together (all-stop).
 */
#ifndef HV_DEBUG_H
#define HV_DEBUG_H

#include "hv.h"
#include "sched.h"

void debug_init(void);
/* A Group 0 FIQ reached EL2 while the guest ran (vectors.S). */
void trap_lower_fiq(struct trap_frame *f);
/* The debug line with no interrupt of its own: polled at DEBUG_POLL_HZ (sched.c). */
#define DEBUG_POLL_HZ 100
void debug_poll_line(struct pcpu *cpu);
/* The hypervisor's interrupts in a pCPU's idle loop, where a Ctrl-C may come. */
void debug_idle_fiqs(struct pcpu *cpu);
/* A pCPU with nothing loaded while a stop is under way: parked until GDB resumes. */
void debug_park_pcpu(struct pcpu *cpu);
/* v is being loaded (context.c): GDB's debug registers, or the guest's own. */
void debug_load_registers(struct vcpu *v);
/* Exception-class handlers for the guest's debug exceptions (trap.c's table). */
void debug_trap_brk(struct trap_frame *f, struct trap_event *ev);
void debug_trap_step(struct trap_frame *f, struct trap_event *ev);
void debug_trap_hw_break(struct trap_frame *f, struct trap_event *ev);
void debug_trap_watch(struct trap_frame *f, struct trap_event *ev);
void debug_log(const char *text);
void debug_stop_for_event(struct trap_frame *f, struct trap_event *ev, const char *text, u64 pc);
/* A trapped WFI woke: stop here if the debugger wants every vCPU stopped. */
void debug_check_stop(struct trap_frame *f);
/* A stage-2 watchpoint (s2watch.c) of enum watch_kind kind hit at va: stop for GDB. */
void debug_stop_for_watch(struct trap_frame *f, unsigned kind, u64 va);
/*
 * What the scheduler and every load ask of the debugger, read inline there:
 * whether a stop is under way and whether GDB owns the debug registers.
 */
enum dbg_state { DBG_RUNNING, DBG_STOPPING, DBG_STOPPED };
extern struct debug_now {
	volatile u32 state; /* enum dbg_state */
	bool attached;	    /* GDB has spoken: breakpoints and TDE are ours */
} debug_now;

/* Guest access to a debug register while GDB owns them: shadowed. */
static inline bool debug_owns_debug_registers(void)
{
	return debug_now.attached;
}

/* At every load; the common case, nobody's debug registers in use, is these tests. */
static inline void debug_load(struct vcpu *v)
{
	const struct vcpu_debug *d = &v->dbg;

	/* Its stepping, guest_dbg_in_use or restore_guest_dbg, with one load. */
	if (debug_now.attached || d->load_work || (sched_shared && vcpu_pcpu(v)->guest_dbg_in_hw))
		debug_load_registers(v);
}
/* Every vCPU parked for GDB: the moment stage 2 may be changed. */
bool debug_guest_stopped(void);
/* A guest VA through vCPU vcpu's stage 1 (GDB's selected thread), the guest stopped. */
bool debug_va_to_ipa(unsigned vcpu, u64 va, u64 *ipa);
/* A stop is being made or the guest is stopped: nobody waits on another vCPU then. */
static inline bool debug_stop_under_way(void)
{
	return __atomic_load_n(&debug_now.state, __ATOMIC_ACQUIRE) != DBG_RUNNING;
}
struct sysreg_desc;
bool debug_guest_debug_register(struct vcpu *v, const struct sysreg_desc *d, struct emul_access *acc);

#endif
