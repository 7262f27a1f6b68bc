/*
 * The scheduler (sched.h). Placement is fixed, vCPU n on pCPU n % pCPUs: a
 * vCPU's list registers, its private physical interrupts and the SPIs routed
 * to it then stay on one redistributor, each event ring keeps one writer, and
 * nothing has to move a vCPU's state between pCPUs. Balancing load is left
 * out on purpose: the debugger's user wants to know where a vCPU runs.
 *
 * A pCPU switches only on behalf of the vCPU it runs, in that vCPU's own trap
 * (or from its idle loop): the running vCPU's hypervisor code calls
 * switch_to(), which puts it, loads the next one and switches stacks. The
 * vCPU switched away from resumes, later, right there, so a vCPU that waits
 * is simply a stack that is not running; nothing else is saved for it.
 *
 * Locking: each pCPU's sched_lock covers its run queue and the state changes
 * of the vCPUs placed on it. A waker sets the vCPU's exit_work before it
 * looks at the state, and sched_block() sets the state before it looks at
 * exit_work, both under the lock, so a wake-up is never lost in between.
 */
#include "sched.h"
#include "hv.h"
#include "lib.h"
#include "gic.h"
#include "debug.h"
#include "catch.h"
#include "s2watch.h"
#include "arch/sysreg.h"

/* CNTHP, the EL2 physical timer (D11.2.4) */
#define CNTHP_CTL_EL2 S3_4_C14_C2_1
#define CNTHP_CVAL_EL2 S3_4_C14_C2_2
#define CNT_CTL_ENABLE BIT(0)
#define CNT_CTL_IMASK BIT(1)
#define NEVER (~0ull)

const char *const sched_reason_names[SCHED_REASONS] = {
	[SCHED_WFI] = "wfi", [SCHED_SLICE] = "slice", [SCHED_WAKE] = "wake",
	[SCHED_OFF] = "off", [SCHED_DEBUG] = "debug", [SCHED_IDLE] = "idle",
};

bool sched_shared;
static u64 slice_ticks; /* SCHED_SLICE_MS in CNTPCT ticks */

static u64 now(void)
{
	return sysreg_read(cntpct_el0);
}

void sched_place(struct vcpu *v, struct pcpu *cpu)
{
	v->pcpu = cpu;
	v->regs = &v->frame;
	v->event_cursor.ring = &v->events;
	v->event_cursor.meta = META_CPU(cpu->id, v->id);
	if (!cpu->fp_owner)
		cpu->fp_owner = v; /* its registers, reset at its CPU_ON (fp_dirty) */
	slice_ticks = sysreg_read(cntfrq_el0) / 1000 * SCHED_SLICE_MS;
	cpu->placed_vcpus[cpu->placed] = v;
	if (++cpu->placed > 1)
		sched_shared = true;
}

/* ---- the run queue: lock held ------------------------------------------------------ */

static void runq_push(struct pcpu *cpu, struct vcpu *v)
{
	v->next_queued = NULL;
	if (cpu->runq_tail)
		cpu->runq_tail->next_queued = v;
	else
		cpu->runq_head = v;
	cpu->runq_tail = v;
	v->sched_stats.since = now();
}

/*
 * The next vCPU to run: none while a debugger stop is under way; else the
 * first on the queue that GDB does not hold, but a vCPU GDB is stepping first
 * of all (nothing else of its pCPU runs during a step).
 */
static inline __attribute__((always_inline)) struct vcpu *runq_pop(struct pcpu *cpu)
{
	struct vcpu **link, *best = NULL, **best_link = NULL;

	if (debug_stop_under_way())
		return NULL; /* none runs until the debugger lets the guest go */
	best = cpu->runq_head;
	if (best && !best->next_queued && !best->dbg.held) {
		/* Alone in the queue (the usual case, 2 vCPUs per pCPU). */
		cpu->runq_head = cpu->runq_tail = NULL;
		return best;
	}
	best = NULL;
	for (link = &cpu->runq_head; *link; link = &(*link)->next_queued) {
		struct vcpu *v = *link;
		if (v->dbg.held)
			continue;
		if (!best || (v->dbg.stepping && !best->dbg.stepping)) {
			best = v;
			best_link = link;
		}
	}
	if (!best)
		return NULL;
	*best_link = best->next_queued;
	if (cpu->runq_tail == best) {
		cpu->runq_tail = NULL;
		for (struct vcpu *v = cpu->runq_head; v; v = v->next_queued)
			cpu->runq_tail = v;
	}
	best->next_queued = NULL;
	return best;
}

/* ---- the EL2 timer ------------------------------------------------------------------- */

#define PPI_VTIMER 27
#define PPI_PTIMER 30

/*
 * CNTPCT at which a put vCPU's timers would assert interrupts that end its
 * WFI (one it disabled, or masks by priority, would wake it for nothing,
 * again and again, and each wake-up preempts its pCPU's running vCPU).
 */
static inline __attribute__((always_inline)) u64 timer_deadline(const struct vcpu *v)
{
	const u64 *r = v->ctx.el1;
	u64 t = NEVER;

	if ((r[CTX_CNTV_CTL_EL0] & (CNT_CTL_ENABLE | CNT_CTL_IMASK)) == CNT_CTL_ENABLE &&
	    vgic_could_wake(v, PPI_VTIMER))
		t = r[CTX_CNTV_CVAL_EL0] + guest.cntvoff; /* CNTVOFF_EL2 of every vCPU */
	if ((r[CTX_CNTP_CTL_EL0] & (CNT_CTL_ENABLE | CNT_CTL_IMASK)) == CNT_CTL_ENABLE &&
	    vgic_could_wake(v, PPI_PTIMER) && r[CTX_CNTP_CVAL_EL0] < t)
		t = r[CTX_CNTP_CVAL_EL0];
	return t;
}

static inline __attribute__((always_inline)) void timer_program(struct pcpu *cpu)
{
	u64 t = cpu->slice_end < cpu->poll_at ? cpu->slice_end : cpu->poll_at;

	for (unsigned i = 0; i < cpu->placed; i++) {
		struct vcpu *v = cpu->placed_vcpus[i];
		if (v->state == VCPU_IDLE) {
			u64 d = timer_deadline(v);
			t = d < t ? d : t;
		}
	}
	if (t == NEVER) {
		sysreg_write(CNTHP_CTL_EL2, 0);
	} else {
		sysreg_write(CNTHP_CVAL_EL2, t);
		sysreg_write(CNTHP_CTL_EL2, CNT_CTL_ENABLE);
	}
	isb();
}

void sched_timer_program(struct pcpu *cpu)
{
	timer_program(cpu);
}

static void resched(struct pcpu *cpu)
{
	struct vcpu *curr = __atomic_load_n(&cpu->curr, __ATOMIC_ACQUIRE);

	cpu->resched = true;
	if (curr)
		__atomic_or_fetch(&curr->exit_work, EXIT_WORK_SCHED, __ATOMIC_RELEASE);
}

void sched_timer_fired(struct pcpu *cpu)
{
	u64 t = now();

	if (cpu->slice_end <= t) {
		cpu->slice_end = NEVER;
		resched(cpu);
	}
	for (unsigned i = 0; i < cpu->placed; i++) {
		struct vcpu *v = cpu->placed_vcpus[i];
		if (v->state == VCPU_IDLE && timer_deadline(v) <= t)
			sched_wake(v);
	}
	if (cpu->poll_at <= t) {
		cpu->poll_at = t + sysreg_read(cntfrq_el0) / DEBUG_POLL_HZ;
		debug_poll_line(cpu);
	}
	sched_timer_program(cpu);
}

/* ---- switching --------------------------------------------------------------------- */

/* A sched event in this pCPU's ring: `in` came in (NULL: the idle loop), `out` left. */
static struct trap_event *record(struct pcpu *cpu, struct vcpu *out, struct vcpu *in, unsigned reason, u64 t)
{
	struct event_ring *ring = pcpu_ring(cpu);
	u64 seq = ring->head;
	struct trap_event *ev = event_ring_slot(ring, seq);

	if (cpu->placed < 2)
		return NULL; /* a pCPU alone with its vCPU switches nothing worth a record */
	ev->seq = seq;
	ev->time = t;
	ev->elr = in ? in->ctx.pc : 0;
	ev->addr = out ? out->id : SCHED_NO_VCPU;
	ev->value = reason;
	ev->esr = 0;
	ev->el2_ticks = 0;
	ev->meta = (in ? in->event_cursor.meta : META_CPU(cpu->id, SCHED_NO_VCPU)) | /* META_CPU(cpu, in) */
		   META_KIND(TRAP_SCHED, OP_SWITCH, OUT_EMULATED);
	ev->width = 0;
	event_ring_publish(ring, seq);
	return ev;
}

/*
 * Switch this pCPU from prev to next (either NULL: the idle loop). Returns in
 * prev's context once something switches back to it; then prev is loaded
 * again and runs.
 */
static void switch_to(struct pcpu *cpu, struct vcpu *prev, struct vcpu *next, unsigned reason)
{
	u64 t = now();
	struct trap_event *ev;

	struct sched_context discarded;

	if (prev) {
		prev->sched_stats.run_ticks += t - prev->sched_stats.since;
		prev->sched_stats.since = t;
		context_put(prev);
		/* Off only now that it is put: a CPU_ON may start it afresh. */
		if (reason == SCHED_OFF)
			__atomic_store_n(&prev->state, VCPU_OFF, __ATOMIC_RELEASE);
	}
	if (next) {
		if (next->state == VCPU_RUNNABLE || next->state == VCPU_ON_PENDING)
			next->sched_stats.wait_ticks += t - next->sched_stats.since;
		next->sched_stats.since = t;
		trap_stat_add(&next->stats[TRAP_SCHED], 0); /* its switches in: the sched class's count */
	}
	ev = record(cpu, prev, next, reason, t);
	__atomic_store_n(&cpu->curr, next, __ATOMIC_RELEASE);
	cpu->resched = false;
	if (next) {
		next->state = VCPU_RUNNING;
		context_load(next);
		cpu->slice_end = cpu->runq_head ? t + slice_ticks : NEVER;
	} else {
		cpu->slice_end = NEVER;
	}
	timer_program(cpu);
	cpu->switch_event = ev;
	/* A vCPU going off is never resumed where it stops: CPU_ON gives it a
	 * first entry, which the save must not overwrite. */
	sched_switch_stack(!prev ? &cpu->idle_ctx : reason == SCHED_OFF ? &discarded : &prev->sched_ctx,
			   next ? &next->sched_ctx : &cpu->idle_ctx);
}

/*
 * v was just switched in (back in its own context): `hv catch sched` on it.
 * Not after a debugger stop, whose resume would only stop it again.
 */
static void switched_in(struct vcpu *v)
{
	struct trap_event *ev = vcpu_pcpu(v)->switch_event;

	if (ev && catch_is_catching(TRAP_SCHED))
		catch_check(v->regs, ev, 0);
}

/* Whether the running vCPU must keep its pCPU: a step, GDB's or a stage-2 watch's. */
static bool pinned_now(struct pcpu *cpu, struct vcpu *v)
{
	return v->dbg.stepping || s2watch_stepping(cpu);
}

bool sched_block(struct vcpu *v)
{
	struct pcpu *cpu = vcpu_pcpu(v);
	struct vcpu *next;

	spin_lock(&cpu->sched_lock);
	__atomic_store_n(&v->state, VCPU_IDLE, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&v->exit_work, __ATOMIC_SEQ_CST) & EXIT_WORK_VGIC || debug_stop_under_way()) {
		v->state = VCPU_RUNNING;
		spin_unlock(&cpu->sched_lock);
		return false;
	}
	next = runq_pop(cpu);
	spin_unlock(&cpu->sched_lock);
	switch_to(cpu, v, next, SCHED_WFI);
	switched_in(v);
	return true;
}

void sched_wake(struct vcpu *v)
{
	struct pcpu *cpu = vcpu_pcpu(v);
	bool woke = false;

	if (__atomic_load_n(&v->state, __ATOMIC_SEQ_CST) != VCPU_IDLE)
		return;
	spin_lock(&cpu->sched_lock);
	if (v->state == VCPU_IDLE) {
		v->state = VCPU_RUNNABLE;
		runq_push(cpu, v);
		woke = true;
	}
	spin_unlock(&cpu->sched_lock);
	if (!woke)
		return;
	resched(cpu);
	if (cpu != this_pcpu())
		gic_kick(cpu);
}

void sched_start(struct vcpu *v)
{
	struct pcpu *cpu = vcpu_pcpu(v);

	spin_lock(&cpu->sched_lock);
	runq_push(cpu, v);
	__atomic_store_n(&v->state, VCPU_ON_PENDING, __ATOMIC_RELEASE);
	spin_unlock(&cpu->sched_lock);
	resched(cpu);
	if (cpu != this_pcpu())
		gic_kick(cpu);
}

void sched_yield(struct vcpu *v)
{
	struct pcpu *cpu = vcpu_pcpu(v);
	struct vcpu *next;
	bool slice;

	if (pinned_now(cpu, v))
		return;
	slice = cpu->slice_end <= now();
	spin_lock(&cpu->sched_lock);
	next = runq_pop(cpu);
	if (next) {
		v->state = VCPU_RUNNABLE;
		runq_push(cpu, v);
	}
	spin_unlock(&cpu->sched_lock);
	cpu->resched = false;
	if (next) {
		switch_to(cpu, v, next, slice ? SCHED_SLICE : SCHED_WAKE);
		switched_in(v);
	}
}

void sched_exit(struct vcpu *v)
{
	struct pcpu *cpu = vcpu_pcpu(v);
	struct vcpu *next;

	spin_lock(&cpu->sched_lock);
	next = runq_pop(cpu);
	spin_unlock(&cpu->sched_lock);
	switch_to(cpu, v, next, SCHED_OFF);
	hv_panic("vCPU %u ran on after CPU_OFF", v->id);
}

void sched_park(struct vcpu *v)
{
	struct pcpu *cpu = vcpu_pcpu(v);

	spin_lock(&cpu->sched_lock);
	v->state = VCPU_RUNNABLE;
	/* First in line again once the debugger lets the guest go. */
	v->next_queued = cpu->runq_head;
	cpu->runq_head = v;
	if (!cpu->runq_tail)
		cpu->runq_tail = v;
	v->sched_stats.since = now();
	spin_unlock(&cpu->sched_lock);
	context_park_trap(v);
	switch_to(cpu, v, NULL, SCHED_DEBUG);
	context_unpark_trap(v);
}

/*
 * A vCPU's first instructions after CPU_ON: its stack is empty, its context
 * loaded by switch_to(). Reached from sched_first_entry_thunk (switch.S).
 */
void __attribute__((noreturn)) sched_first_entry(struct trap_frame *f)
{
	struct vcpu *v = vcpu_of_frame(f);

	switched_in(v);
	trap_finish_exit(f);
	guest_enter(f);
}

/*
 * A pCPU with nothing to run: it takes the guest's interrupts for its vCPUs
 * that are not loaded, the hypervisor's own (the kick, CNTHP, the debug
 * line), stops for the debugger, and sleeps in WFI between them.
 */
void sched_idle_loop(struct pcpu *cpu)
{
	for (;;) {
		struct vcpu *next;

		vgic_idle_irqs(cpu);
		debug_idle_fiqs(cpu);
		if (debug_stop_under_way())
			debug_park_pcpu(cpu);
		spin_lock(&cpu->sched_lock);
		next = runq_pop(cpu);
		spin_unlock(&cpu->sched_lock);
		if (next) {
			switch_to(cpu, NULL, next, SCHED_IDLE);
			continue;
		}
		/* A wake-up after the look above kicks this pCPU: the WFI ends at
		 * once. A stop that began meanwhile may have had its kick taken
		 * already (the park's wait takes every kick pending): look again. */
		if (debug_stop_under_way())
			continue;
		dsb(sy);
		wfi();
	}
}
