/*
 * The scheduler: vCPUs on pCPUs (hv/core/sched.c, docs/architecture.md
 * "Scheduling"). Each vCPU is placed on one pCPU for good; each pCPU runs its
 * vCPUs round-robin from a run queue of its own, switches when the running
 * one waits (a trapped WFI with nothing pending, CPU_OFF, a debugger stop) or
 * its time slice ends, and waits at EL2 in its idle loop when none can run.
 */
#ifndef HV_SCHED_H
#define HV_SCHED_H

#include "trapvisor/types.h"

struct vcpu;
struct pcpu;

/* Why a pCPU switched: a sched event's value. */
enum sched_reason {
	SCHED_WFI,     /* the vCPU left waits for an interrupt */
	SCHED_SLICE,   /* its time slice ended */
	SCHED_WAKE,    /* a vCPU woke on this pCPU and takes it */
	SCHED_OFF,     /* CPU_OFF */
	SCHED_DEBUG,   /* a debugger stop */
	SCHED_IDLE,    /* from the idle loop: nothing ran */
	SCHED_REASONS
};
extern const char *const sched_reason_names[SCHED_REASONS];
#define SCHED_NO_VCPU 0xff /* a sched event's addr when one side is the idle loop */

/*
 * Short, because a guest's spinlock waits in WFE, which QEMU never traps: a
 * vCPU spinning on a lock its pCPU's other vCPU holds cannot give the pCPU
 * back, and burns the whole slice. Linux to userspace, 4 vCPUs on 2 pCPUs
 * under icount: 1.57-1.67 s with 10 ms slices, 0.91-0.96 s with 2 ms (bare
 * QEMU -smp 4: 0.84 s).
 */
#define SCHED_SLICE_MS 2

/* At boot, before any pCPU runs: vCPU v on cpu. */
void sched_place(struct vcpu *v, struct pcpu *cpu);
/* Every pCPU ends its boot here: it never returns. */
void __attribute__((noreturn)) sched_idle_loop(struct pcpu *cpu);

/* From v's own trap: wait until sched_wake(v). False if something is pending already. */
bool sched_block(struct vcpu *v);
/* Make a waiting vCPU runnable, kicking its pCPU (any pCPU may call it). */
void sched_wake(struct vcpu *v);
/* A vCPU that CPU_ON made ready to start: onto its pCPU's run queue. */
void sched_start(struct vcpu *v);
/* From v's own trap, at the end of its exit: another vCPU of its pCPU may run. */
void sched_yield(struct vcpu *v);
/* From v's own trap after CPU_OFF: its pCPU goes on without it. */
void __attribute__((noreturn)) sched_exit(struct vcpu *v);
/* From v's own trap, for a debugger stop: returns once the debugger lets it run. */
void sched_park(struct vcpu *v);
/* The EL2 timer (CNTHP) fired on this pCPU: slices, descheduled vCPUs' timers, the poll. */
void sched_timer_fired(struct pcpu *cpu);
/* Arm CNTHP for this pCPU's next deadline. */
void sched_timer_program(struct pcpu *cpu);
/* Whether more than one vCPU is placed on some pCPU. */
extern bool sched_shared;

/* switch.S: save this context's callee-saved registers and stack, resume to's. */
struct sched_context;
void sched_switch_stack(struct sched_context *from, const struct sched_context *to);
void sched_first_entry_thunk(void);

/* vgic.c: the virtual CPU interface and private interrupts at load and put
 * (a put only of a vCPU whose interface is loaded, v->loaded). */
void vgic_cpu_put(struct vcpu *v);
void vgic_cpu_load(struct vcpu *v);
/* Whether v's private interrupt intid, made pending, would end v's WFI. */
bool vgic_could_wake(const struct vcpu *v, unsigned intid);
/* Guest interrupts taken while no vCPU is loaded here. */
void vgic_idle_irqs(struct pcpu *cpu);

#endif
