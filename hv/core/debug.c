/*
 * The debugger: gdbstub's target, implemented once.
 *
 * All-stop. A vCPU that must stop for GDB (a breakpoint, the end of a step,
 * Ctrl-C from the debug line) becomes the *stopper*: it sends SGI 15 (Group 0, a FIQ
 * at EL2) to every other pCPU, waits until each running vCPU has *parked*
 * (snapshotted the registers only its pCPU can read, then waits in WFI), reports
 * the stop to GDB, and then serves the debug line itself until GDB resumes.
 * Registers come from the snapshots; guest memory is read by the parked pCPU of
 * the vCPU GDB names (a remote call), through that vCPU's own translation.
 *
 * While the guest runs, the debug line's receive interrupt (its PCI INTx,
 * made a Group 0 FIQ for pCPU 0) brings what GDB sends to EL2, so Ctrl-C stops
 * even a guest that never traps. Where the device tree names no line for it,
 * the EL2 timer polls the line instead.
 */
#include "debug.h"
#include "gdbstub.h"
#include "gic.h"
#include "lib.h"
#include "console.h"
#include "platform.h"
#include "sysreg.h"
#include "mm.h"
#include "catch.h"
#include "s2watch.h"
#include "arch/sysreg.h"

#define POLL_HZ 100
#define PARK_TIMEOUT_MS 500
#define SW_BREAKPOINTS 64
#define BRK_TRAPVISOR 0xd420f9c0u /* brk #0x7ce: trapvisor's breakpoint */
#define SPSR_SS BIT(21)
#define MDSCR_SS BIT(0)
#define MDSCR_MDE BIT(15)
#define OSLSR_OSLK BIT(1) /* OSLSR_EL1: the OS Lock is locked */
#define OSDLR_DLK BIT(0)  /* OSDLR_EL1: the OS Double Lock */
#define ENC_OSLAR_EL1 SYSREG_ENC(2, 0, 1, 0, 4)
#define ENC_OSLSR_EL1 SYSREG_ENC(2, 0, 1, 1, 4)
#define ENC_OSDLR_EL1 SYSREG_ENC(2, 0, 1, 3, 4)

/* CNTHP, the EL2 physical timer (D11.2.4) */
#define CNTHP_CTL_EL2 S3_4_C14_C2_1
#define CNTHP_TVAL_EL2 S3_4_C14_C2_0
#define CNTHP_CVAL_EL2 S3_4_C14_C2_2
#define CNT_CTL_ENABLE BIT(0)

enum dbg_state { DBG_RUNNING, DBG_STOPPING, DBG_STOPPED };

struct sw_breakpoint {
	u64 va, pa;
	u32 saved;
	bool used;
};

/* A hardware breakpoint or watchpoint slot: what goes into DBG{B,W}{V,C}R<n>. */
struct hw_slot {
	bool used;
	u8 type; /* enum gdb_bp_type */
	u64 addr, len;
	u64 value, control;
};

#define HW_SLOTS 16
/* DBGBCR<n>_EL1: E, PMC=EL1+EL0, BAS=all four bytes, unlinked address match */
#define DBGBCR_E BIT(0)
#define DBGBCR_PMC_EL1_EL0 (3ULL << 1)
#define DBGBCR_BAS_A64 (0xfULL << 5)
/* DBGWCR<n>_EL1: E, PAC=EL1+EL0, LSC [4:3] (1 load, 2 store), BAS [12:5], MASK [28:24] */
#define DBGWCR_LSC(x) ((u64)(x) << 3)
#define DBGWCR_BAS(x) ((u64)(x) << 5)
#define DBGWCR_MASK(x) ((u64)(x) << 24)

static struct {
	struct gdbstub stub;
	spinlock_t stub_lock; /* one caller in the stub at a time */
	volatile u32 state;   /* enum dbg_state */
	volatile u32 resume_gen;
	volatile bool interrupt_requested;
	volatile u32 stopper; /* the pCPU stopping the guest: parking vCPUs wake it */
	u64 stopped_at;	      /* CNTPCT when the last vCPU parked: the guest's time stopped */
	bool attached;	      /* GDB has spoken: breakpoints and TDE are ours */
	struct gdb_action actions[MAX_VCPUS]; /* by vCPU id, as GDB's threads */
	struct sw_breakpoint sw[SW_BREAKPOINTS];
	struct hw_slot hw_bp[HW_SLOTS], hw_wp[HW_SLOTS];
	unsigned hw_bp_count, hw_wp_count; /* what this CPU implements */
	/* The system registers GDB sees: indexes into sysreg_table, and names. */
	unsigned sysreg_count;
	u16 sysreg_index[DEBUG_MAX_SYSREGS];
	char sysreg_names[DEBUG_MAX_SYSREGS][24];
} dbg;

static const char *const hv_reg_names[] = { "esr", "far", "hpfar", "ec", "seq", "cntvoff" };
#define HV_REGS ARRAY_SIZE(hv_reg_names)

bool debug_owns_debug_registers(void)
{
	return dbg.attached;
}

bool debug_guest_stopped(void)
{
	return __atomic_load_n(&dbg.state, __ATOMIC_ACQUIRE) == DBG_STOPPED;
}

bool debug_stop_under_way(void)
{
	return __atomic_load_n(&dbg.state, __ATOMIC_ACQUIRE) != DBG_RUNNING;
}

/* ---- the pieces of a vCPU only its own pCPU can touch ---------------------- */

/* DBGBVR<n> (op2 4), DBGBCR<n> (5), DBGWVR<n> (6), DBGWCR<n> (7): 2,0,0,n,op2 */
static const struct sysreg_desc *debug_reg(unsigned op2, unsigned n)
{
	return sysreg_find(SYSREG_ENC(2, 0, 0, n, op2));
}

static void fp_save(struct vcpu_debug *d)
{
	u64 cptr = sysreg_read(cptr_el2);

	sysreg_write(cptr_el2, cptr & ~CPTR_TFP); /* the fp class may trap it */
	isb();
	asm volatile("stp q0, q1, [%0, #0]\n stp q2, q3, [%0, #32]\n stp q4, q5, [%0, #64]\n"
		     "stp q6, q7, [%0, #96]\n stp q8, q9, [%0, #128]\n stp q10, q11, [%0, #160]\n"
		     "stp q12, q13, [%0, #192]\n stp q14, q15, [%0, #224]\n stp q16, q17, [%0, #256]\n"
		     "stp q18, q19, [%0, #288]\n stp q20, q21, [%0, #320]\n stp q22, q23, [%0, #352]\n"
		     "stp q24, q25, [%0, #384]\n stp q26, q27, [%0, #416]\n stp q28, q29, [%0, #448]\n"
		     "stp q30, q31, [%0, #480]\n" ::"r"(d->vregs) : "memory");
	d->fpsr = sysreg_read(fpsr);
	d->fpcr = sysreg_read(fpcr);
	sysreg_write(cptr_el2, cptr);
	isb();
}

static void fp_restore(const struct vcpu_debug *d)
{
	u64 cptr = sysreg_read(cptr_el2);

	sysreg_write(cptr_el2, cptr & ~CPTR_TFP);
	isb();
	asm volatile("ldp q0, q1, [%0, #0]\n ldp q2, q3, [%0, #32]\n ldp q4, q5, [%0, #64]\n"
		     "ldp q6, q7, [%0, #96]\n ldp q8, q9, [%0, #128]\n ldp q10, q11, [%0, #160]\n"
		     "ldp q12, q13, [%0, #192]\n ldp q14, q15, [%0, #224]\n ldp q16, q17, [%0, #256]\n"
		     "ldp q18, q19, [%0, #288]\n ldp q20, q21, [%0, #320]\n ldp q22, q23, [%0, #352]\n"
		     "ldp q24, q25, [%0, #384]\n ldp q26, q27, [%0, #416]\n ldp q28, q29, [%0, #448]\n"
		     "ldp q30, q31, [%0, #480]\n" ::"r"(d->vregs) : "memory");
	sysreg_write(fpsr, d->fpsr);
	sysreg_write(fpcr, d->fpcr);
	sysreg_write(cptr_el2, cptr);
	isb();
}

static void snapshot(struct pcpu *cpu)
{
	struct vcpu *v = cpu->curr;
	struct vcpu_debug *d = &v->dbg;
	const struct event_ring *ring = cpu->event_cursor.ring; /* traced or not */
	u64 head = ring->head;

	s2watch_cancel(cpu); /* a step over a watched page's access: done again after the resume */
	vgic_cpu_save(v);    /* for `monitor hv irq` on the pCPU that serves GDB */

	d->pc = trap_pc();
	d->pstate = trap_pstate();
	d->sp_el0 = sysreg_read(sp_el0);
	d->sp_el1 = sysreg_read(sp_el1);
	fp_save(d);
	d->fp_valid = true;
	d->fp_dirty = d->sp_dirty = false;
	/* Some registers the table names may be missing on this CPU (CCSIDR2_EL1
	 * without FEAT_CCIDX, say): probed, and shown as unavailable. */
	for (unsigned i = 0; i < dbg.sysreg_count; i++) {
		el2_probe_begin();
		d->sysregs[i] = sysreg_guest_value(v, &sysreg_table[dbg.sysreg_index[i]]);
		if (el2_probe_end())
			d->sysregs_valid[i / 64] |= BIT(i % 64);
		else
			d->sysregs_valid[i / 64] &= ~BIT(i % 64);
	}
	memset(d->sysregs_dirty, 0, sizeof(d->sysregs_dirty));
	if (!d->guest_dbg_captured) {
		/* First stop since GDB attached: keep the guest's own debug
		 * registers, which GDB's breakpoints are about to replace. */
		for (unsigned n = 0; n < dbg.hw_bp_count; n++) {
			d->guest_dbg[0][n][0] = debug_reg(4, n)->hw_read();
			d->guest_dbg[0][n][1] = debug_reg(5, n)->hw_read();
		}
		for (unsigned n = 0; n < dbg.hw_wp_count; n++) {
			d->guest_dbg[1][n][0] = debug_reg(6, n)->hw_read();
			d->guest_dbg[1][n][1] = debug_reg(7, n)->hw_read();
		}
		d->mdscr_guest = sysreg_read(mdscr_el1);
		d->oslk_guest = sysreg_read(oslsr_el1) & OSLSR_OSLK;
		d->osdlk_guest = sysreg_read(osdlr_el1) & OSDLR_DLK;
		d->guest_dbg_captured = true;
	}
	d->far = sysreg_read(far_el2);
	d->hpfar = sysreg_read(hpfar_el2);
	/* The hypervisor registers: the event being handled if the stop is about
	 * it (a catchpoint), else the last trap completed. An interrupt delivered
	 * is an event but not a trap: its record says nothing of a syndrome. */
	if (d->event) {
		d->esr = d->event->esr;
		d->seq = d->event->seq;
	} else {
		u64 oldest = event_ring_oldest(ring), seq = head;
		while (seq > oldest && event_ring_slot((struct event_ring *)ring, seq - 1)->cls == TRAP_IRQ)
			seq--;
		d->esr = seq > oldest ? event_ring_slot((struct event_ring *)ring, seq - 1)->esr : 0;
		d->seq = seq ? seq - 1 : 0;
	}
	d->ec = ESR_EC(d->esr);
}

static void write_back(struct pcpu *cpu)
{
	struct vcpu_debug *d = &cpu->curr->dbg;

	for (unsigned i = 0; i < dbg.sysreg_count; i++)
		if (d->sysregs_dirty[i / 64] & BIT(i % 64))
			sysreg_table[dbg.sysreg_index[i]].hw_write(d->sysregs[i]);
	if (d->sp_dirty) {
		sysreg_write(sp_el0, d->sp_el0);
		sysreg_write(sp_el1, d->sp_el1);
	}
	if (d->fp_dirty)
		fp_restore(d);
	trap_set_pc(d->pc);
	trap_set_pstate(d->pstate);
	isb();
}

/* ---- guest memory, through a vCPU's own two stages ------------------------- */

struct mem_op {
	u64 addr;
	u8 *buf;
	size_t len, done;
	bool write;
};

/* Guest VA -> PA with the hardware walker (stage 1 then 2), as an EL1 read. */
static bool guest_va_to_pa(u64 va, u64 *pa)
{
	u64 saved = sysreg_read(par_el1), vttbr = sysreg_read(vttbr_el2), par;

	/* Through the guest's own stage 2: a watched page must still read for GDB. */
	sysreg_write(vttbr_el2, stage2_vttbr(false));
	isb();
	asm volatile("at s12e1r, %0" ::"r"(va));
	isb();
	par = sysreg_read(par_el1);
	sysreg_write(par_el1, saved); /* PAR_EL1 is the guest's */
	sysreg_write(vttbr_el2, vttbr);
	isb();
	if (par & 1)
		return false;
	*pa = (par & 0x000ffffffffff000ull) | (va & 0xfff);
	return true;
}

/*
 * Copy page by page. Only guest RAM is reachable: never the hypervisor's slice
 * (not mapped at stage 2 in the first place) and never a device, whose
 * registers may change state when read.
 */
static void mem_op_local(void *arg)
{
	struct mem_op *op = arg;

	op->done = 0;
	while (op->done < op->len) {
		u64 va = op->addr + op->done, pa;
		size_t chunk = SZ_4K - (va & (SZ_4K - 1));

		if (chunk > op->len - op->done)
			chunk = op->len - op->done;
		if (!guest_va_to_pa(va, &pa) || !guest_ram_contains(pa, chunk))
			break;
		if (op->write) {
			memcpy((void *)pa, op->buf + op->done, chunk);
			for (u64 line = ALIGN_DOWN(pa, 64); line < pa + chunk; line += 64)
				asm volatile("dc cvau, %0" ::"r"(line) : "memory");
		} else {
			memcpy(op->buf + op->done, (const void *)pa, chunk);
		}
		op->done += chunk;
	}
	if (op->write && op->done) {
		dsb(ish);
		cache_ic_invalidate_all();
	}
}

/* Run fn on the pCPU of vCPU `vcpu` (parked), or here if that is this one. */
static void run_on_vcpu(unsigned vcpu, void (*fn)(void *), void *arg)
{
	struct vcpu *v = vcpu_by_id(vcpu);
	struct pcpu *cpu = vcpu_pcpu(v);

	if (cpu == this_pcpu() || !v->dbg.parked) {
		fn(arg);
		return;
	}
	cpu->call.fn = fn;
	cpu->call.arg = arg;
	__atomic_store_n(&cpu->call.requested, cpu->call.requested + 1, __ATOMIC_RELEASE);
	gic_send_sgi(cpu->mpidr, GIC_SGI_KICK); /* wakes it from its WFI */
	while (__atomic_load_n(&cpu->call.done, __ATOMIC_ACQUIRE) != cpu->call.requested)
		;
}

/*
 * What a guest VA is on vCPU `vcpu`: through its own stage 1 (on its pCPU, a
 * parked one answering a remote call), as GDB means an address of the thread
 * it selected. ipa: stage 1 only; pa: both stages, as an EL1 read.
 */
struct va_query {
	u64 va, ipa, pa, fsc;
	bool ipa_ok, pa_ok;
};

static void va_query_local(void *arg)
{
	struct va_query *q = arg;

	q->ipa_ok = guest_va_to_ipa_as(q->va, false, false, &q->ipa, &q->fsc);
	q->pa_ok = guest_va_to_pa(q->va, &q->pa);
}

static struct va_query va_query_on(unsigned vcpu, u64 va)
{
	struct va_query q = { .va = va };

	run_on_vcpu(vcpu, va_query_local, &q);
	return q;
}

bool debug_va_to_ipa(unsigned vcpu, u64 va, u64 *ipa)
{
	struct va_query q = va_query_on(vcpu, va);

	*ipa = q.ipa;
	return q.ipa_ok;
}

static void serve_remote_call(struct pcpu *cpu)
{
	u32 req = __atomic_load_n(&cpu->call.requested, __ATOMIC_ACQUIRE);

	if (req == cpu->call.done)
		return;
	cpu->call.fn(cpu->call.arg);
	__atomic_store_n(&cpu->call.done, req, __ATOMIC_RELEASE);
}

/* ---- parking and resuming ------------------------------------------------- */

static void timer_rearm(void);

/*
 * Put GDB's breakpoints and watchpoints into this pCPU's debug registers, or,
 * once GDB has gone, the guest's own values back.
 */
/* One kind of slot: breakpoints (op2 4/5, kind 0) or watchpoints (6/7, 1). */
static bool apply_slots(struct vcpu_debug *d, const struct hw_slot *slots, unsigned count, unsigned op2,
			unsigned kind)
{
	bool any = false;

	for (unsigned n = 0; n < count; n++) {
		const struct hw_slot *s = &slots[n];
		u64 value = dbg.attached ? (s->used ? s->value : 0) : d->guest_dbg[kind][n][0];
		u64 control = dbg.attached ? (s->used ? s->control : 0) : d->guest_dbg[kind][n][1];
		debug_reg(op2, n)->hw_write(value);
		debug_reg(op2 + 1, n)->hw_write(control);
		any |= dbg.attached && s->used;
	}
	return any;
}

static void apply_debug_registers(struct pcpu *cpu)
{
	struct vcpu_debug *d = &cpu->curr->dbg;
	bool any = apply_slots(d, dbg.hw_bp, dbg.hw_bp_count, 4, 0);

	any |= apply_slots(d, dbg.hw_wp, dbg.hw_wp_count, 6, 1);
	/* MDSCR_EL1.MDE makes the hardware check breakpoints and watchpoints. */
	if (dbg.attached) {
		sysreg_write(mdscr_el1, (sysreg_read(mdscr_el1) & ~MDSCR_MDE) | (any ? MDSCR_MDE : 0));
	} else {
		sysreg_write(mdscr_el1, d->mdscr_guest);
		sysreg_write(osdlr_el1, d->osdlk_guest ? OSDLR_DLK : 0);
		sysreg_write(oslar_el1, d->oslk_guest ? 1 : 0);
	}
	isb();
}

static void apply_resume_action(struct pcpu *cpu)
{
	struct vcpu_debug *d = &cpu->curr->dbg;
	struct gdb_action a = dbg.actions[cpu->curr->id];

	apply_debug_registers(cpu);
	sysreg_write(cntvoff_el2, guest.cntvoff);
	s2watch_load();
	d->stepping = a.kind == GDB_ACTION_STEP;
	/* A step is one instruction, with the guest's interrupts held off so it
	 * does not land in the guest's interrupt handler. */
	gic_mask_guest_interrupts(d->stepping);
	if (d->stepping) {
		sysreg_write(mdscr_el1, sysreg_read(mdscr_el1) | MDSCR_SS);
		d->pstate |= SPSR_SS;
	}
	write_back(cpu);
	trap_apply(cpu);
	/* A stepped WFI must not sleep with the guest's interrupts held off: trap
	 * it, and trap.c completes it at once (WFI may always complete early). */
	if (d->stepping) {
		sysreg_write(hcr_el2, sysreg_read(hcr_el2) | HCR_TWI);
		isb();
	}
}

/*
 * A step GDB asked for but that another vCPU's stop interrupted: the vCPU is
 * parked mid-step, and GDB's next resume decides afresh.
 */
static void cancel_step(struct pcpu *cpu)
{
	struct vcpu_debug *d = &cpu->curr->dbg;

	if (!d->stepping)
		return;
	d->stepping = false;
	sysreg_write(mdscr_el1, sysreg_read(mdscr_el1) & ~MDSCR_SS);
	trap_set_pstate(trap_pstate() & ~SPSR_SS);
	gic_mask_guest_interrupts(false);
}

/*
 * Wait here, serving remote calls, until GDB resumes the guest. The wait is a
 * WFI (an emulator's host thread sleeps); the stopper's SGI wakes it.
 */
/*
 * Stay parked, serving remote calls, until a resume whose action for this vCPU
 * is not "stay stopped" (a vCont that names other threads only). gen: the
 * resume generation already seen.
 */
static void wait_until_resumed(struct pcpu *cpu, u32 gen)
{
	for (;;) {
		while (__atomic_load_n(&dbg.resume_gen, __ATOMIC_ACQUIRE) == gen) {
			serve_remote_call(cpu);
			if (__atomic_load_n(&dbg.resume_gen, __ATOMIC_ACQUIRE) == gen &&
			    __atomic_load_n(&cpu->call.requested, __ATOMIC_ACQUIRE) == cpu->call.done)
				gic_wait_for_fiq();
		}
		gen = __atomic_load_n(&dbg.resume_gen, __ATOMIC_ACQUIRE);
		if (dbg.actions[cpu->curr->id].kind != GDB_ACTION_STOP)
			return;
	}
}

/*
 * gen is the resume generation read *before* the caller saw that a stop is
 * under way: if GDB resumed in between, the wait ends at once instead of
 * lasting until the next resume (a vCPU left parked while the guest runs).
 */
static void park(struct pcpu *cpu, bool in_wfi, u32 gen)
{
	struct vcpu_debug *d = &cpu->curr->dbg;

	for (;;) {
		cancel_step(cpu);
		snapshot(cpu);
		d->stopped_in_wfi = in_wfi;
		__atomic_store_n(&d->parked, true, __ATOMIC_RELEASE);
		/* Against stop_all's fence: if this reads a stopper from before,
		 * that stopper's own look at `parked` comes after and sees it. */
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		gic_send_sgi(pcpus[__atomic_load_n(&dbg.stopper, __ATOMIC_RELAXED)].mpidr, GIC_SGI_KICK);
		wait_until_resumed(cpu, gen);
		apply_resume_action(cpu);
		__atomic_store_n(&d->parked, false, __ATOMIC_RELEASE);
		/* The next stop may have begun already (a step ends within
		 * microseconds), and its SGI was taken by the wait above: nothing
		 * else would bring this vCPU back for it. */
		gen = __atomic_load_n(&dbg.resume_gen, __ATOMIC_ACQUIRE);
		if (__atomic_load_n(&dbg.state, __ATOMIC_ACQUIRE) == DBG_RUNNING)
			return;
	}
}

static bool others_parked(const struct vcpu *me)
{
	for (unsigned i = 0; i < vcpu_count; i++) {
		struct vcpu *v = vcpu_by_id(i);
		if (v != me && v->state != VCPU_OFF && !v->dbg.parked)
			return false;
	}
	return true;
}

/*
 * The stopper serves GDB until it resumes the guest. Between packets it sleeps
 * in WFI: the line's interrupt, moved to this pCPU for the stop, wakes it (a
 * 10 ms timer too, for a line without one). Spinning on the device instead keeps
 * an emulator's device lock so busy that each packet takes ~100 ms.
 */
static void serve_line_while_stopped(struct pcpu *cpu)
{
	gic_phys_route(plat.dbg_line_intid, cpu->mpidr);
	while (__atomic_load_n(&dbg.state, __ATOMIC_ACQUIRE) == DBG_STOPPED) {
		/* The lock also keeps the line's receive state to one reader. */
		spin_lock(&dbg.stub_lock);
		int c = dbg_line_getc();
		if (c >= 0)
			gdbstub_handle_byte(&dbg.stub, (u8)c);
		spin_unlock(&dbg.stub_lock);
		if (c >= 0)
			continue;
		sysreg_write(CNTHP_TVAL_EL2, sysreg_read(cntfrq_el0) / 100);
		sysreg_write(CNTHP_CTL_EL2, CNT_CTL_ENABLE);
		isb();
		gic_wait_for_fiq();
	}
	sysreg_write(CNTHP_CTL_EL2, 0);
	if (!plat.dbg_line_intid && cpu->id == 0)
		timer_rearm(); /* pCPU 0 polls the line again while the guest runs */
	gic_phys_route(plat.dbg_line_intid, pcpus[0].mpidr);
}

static void park_if_stopping(struct pcpu *cpu, bool in_wfi);

/*
 * Stop every vCPU and tell GDB why; return when GDB resumes. Called on the
 * pCPU whose vCPU saw the reason, in its trap (guest registers saved).
 */
static void stop_all(struct pcpu *cpu, const struct gdb_stop *stop)
{
	u32 running = DBG_RUNNING, gen = __atomic_load_n(&dbg.resume_gen, __ATOMIC_ACQUIRE);
	u64 deadline;

	if (!__atomic_compare_exchange_n(&dbg.state, &running, DBG_STOPPING, false, __ATOMIC_ACQ_REL,
					 __ATOMIC_ACQUIRE)) {
		/* Another vCPU is already stopping the guest: be stopped with it. A
		 * breakpoint hit here is hit again after the resume. */
		park(cpu, false, gen);
		return;
	}
	dbg.interrupt_requested = false;
	snapshot(cpu);
	cpu->curr->dbg.stopped_in_wfi = false;
	cpu->curr->dbg.parked = true;
	__atomic_store_n(&dbg.stopper, cpu->id, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	gic_send_kick_to_others();
	/* Each vCPU that parks kicks us back: sleep rather than spin, so an
	 * emulator's host thread for that vCPU gets a host CPU to park on
	 * (spinning here cost milliseconds a stop on a 2-core host). */
	deadline = sysreg_read(cntpct_el0) + sysreg_read(cntfrq_el0) / 1000 * PARK_TIMEOUT_MS;
	while (!others_parked(cpu->curr) && sysreg_read(cntpct_el0) < deadline) {
		sysreg_write(CNTHP_CVAL_EL2, deadline);
		sysreg_write(CNTHP_CTL_EL2, CNT_CTL_ENABLE);
		isb();
		gic_wait_for_fiq();
	}
	sysreg_write(CNTHP_CTL_EL2, 0);
	dbg.stopped_at = sysreg_read(cntpct_el0);
	__atomic_store_n(&dbg.state, DBG_STOPPED, __ATOMIC_RELEASE);
	spin_lock(&dbg.stub_lock);
	gdbstub_report_stop(&dbg.stub, stop);
	spin_unlock(&dbg.stub_lock);
	serve_line_while_stopped(cpu);
	gic_send_kick_to_others(); /* wakes the parked pCPUs: they see the resume */
	if (dbg.actions[cpu->curr->id].kind == GDB_ACTION_STOP) /* GDB resumed others only */
		wait_until_resumed(cpu, __atomic_load_n(&dbg.resume_gen, __ATOMIC_ACQUIRE));
	apply_resume_action(cpu);
	cpu->curr->dbg.parked = false;
	park_if_stopping(cpu, false); /* as in park(): a stop that began meanwhile */
}

/* A stop requested elsewhere (the SGI, or a wake from WFI): park if so. */
static void park_if_stopping(struct pcpu *cpu, bool in_wfi)
{
	u32 gen = __atomic_load_n(&dbg.resume_gen, __ATOMIC_ACQUIRE);

	if (__atomic_load_n(&dbg.state, __ATOMIC_ACQUIRE) != DBG_RUNNING)
		park(cpu, in_wfi, gen);
}

void debug_check_stop(struct trap_frame *f)
{
	park_if_stopping(pcpu_of_frame(f), true);
}

void debug_stop_for_watch(struct trap_frame *f, unsigned kind, u64 va)
{
	struct gdb_stop stop = { .vcpu = pcpu_of_frame(f)->curr->id, .addr = va,
				 .reason = kind == WATCH_READ	 ? GDB_STOP_RWATCH
					   : kind == WATCH_ACCESS ? GDB_STOP_AWATCH
								  : GDB_STOP_WATCH };

	stop_all(pcpu_of_frame(f), &stop);
}

void debug_park_if_stopping(struct pcpu *cpu)
{
	park_if_stopping(cpu, false);
}

/* ---- the debug line while the guest runs ----------------------------------- */

static void stop_for_interrupt(struct pcpu *cpu)
{
	struct gdb_stop stop = { .vcpu = cpu->curr->id, .reason = GDB_STOP_SIGNAL, .signal = GDB_SIGNAL_INT };

	stop_all(cpu, &stop);
}

/* Feed what GDB sent to the stub; true if it asked for a stop (Ctrl-C, '?'). */
static bool drain_line(void)
{
	int c;

	spin_lock(&dbg.stub_lock);
	while ((c = dbg_line_getc()) >= 0) {
		dbg.attached = true;
		gdbstub_handle_byte(&dbg.stub, (u8)c);
	}
	spin_unlock(&dbg.stub_lock);
	return dbg.interrupt_requested;
}

static void timer_rearm(void)
{
	sysreg_write(CNTHP_TVAL_EL2, sysreg_read(cntfrq_el0) / POLL_HZ);
	sysreg_write(CNTHP_CTL_EL2, CNT_CTL_ENABLE);
	isb();
}

void trap_lower_fiq(struct trap_frame *f)
{
	struct pcpu *cpu = pcpu_of_frame(f);
	unsigned intid = gic_ack_fiq();
	bool line = intid == GIC_PPI_HV_TIMER || (plat.dbg_line_intid && intid == plat.dbg_line_intid);
	bool stop = false;

	if (intid == GIC_SPURIOUS) {
		trap_finish_exit(f);
		return;
	}
	if (intid == GIC_PPI_HV_TIMER)
		timer_rearm();
	if (line)
		stop = drain_line(); /* before the EOI: the INTx is level */
	gic_eoi_fiq(intid);
	if (stop)
		stop_for_interrupt(cpu);
	else
		park_if_stopping(cpu, false);
	trap_finish_exit(f); /* the kick may bring virtual interrupts (EXIT_WORK_VGIC) */
}

/* pCPU 0 with its vCPU off. While the guest is stopped the stopper reads the
 * line. */
void debug_poll_idle(void)
{
	if (__atomic_load_n(&dbg.state, __ATOMIC_ACQUIRE) != DBG_RUNNING)
		return;
	if (drain_line())
		dbg.interrupt_requested = false; /* nothing runs here to stop */
}

/* ---- the guest's debug exceptions ----------------------------------------- */

static struct sw_breakpoint *sw_find(u64 va)
{
	for (unsigned i = 0; i < SW_BREAKPOINTS; i++)
		if (dbg.sw[i].used && dbg.sw[i].va == va)
			return &dbg.sw[i];
	return NULL;
}

/* The guest's own debug exception (BRK, step, ...): give it back to the guest. */
static void reinject(struct trap_frame *f, struct trap_event *ev)
{
	vcpu_inject_debug(f, ev->esr);
	ev->outcome = OUT_EMULATED;
}

void debug_trap_brk(struct trap_frame *f, struct trap_event *ev)
{
	struct gdb_stop stop = { .vcpu = pcpu_of_frame(f)->curr->id, .reason = GDB_STOP_SWBREAK };

	if (!dbg.attached || !sw_find(trap_pc())) {
		reinject(f, ev);
		return;
	}
	stop_all(pcpu_of_frame(f), &stop);
}

/*
 * A catchpoint matched: stop with the PC on the trapping instruction (pc) and
 * the event in the hypervisor registers. When GDB resumes, the handler goes on
 * and the operation completes; a step counts it as the instruction stepped.
 */
void debug_stop_for_event(struct trap_frame *f, struct trap_event *ev, const char *text, u64 pc)
{
	struct pcpu *cpu = pcpu_of_frame(f);
	struct gdb_stop stop = { .vcpu = cpu->curr->id, .reason = GDB_STOP_SIGNAL, .signal = GDB_SIGNAL_TRAP, .text = text };
	u64 elr = trap_pc();

	if (!dbg.attached)
		return;
	trap_set_pc(pc);
	cpu->curr->dbg.event = ev;
	stop_all(cpu, &stop);
	cpu->curr->dbg.event = NULL;
	if (trap_pc() == pc)
		trap_set_pc(elr); /* GDB left the PC alone: carry on where the trap would */
	if (cpu->curr->dbg.stepping)
		trap_set_pstate(trap_pstate() & ~SPSR_SS); /* the step ends right after the eret */
}

/* A line for GDB's console while the guest runs (a catchpoint's log action),
 * or for the hypervisor's console when no GDB listens. */
void debug_log(const char *text)
{
	if (dbg.attached && gdbstub_is_running(&dbg.stub)) {
		char line[200];
		int n = snprintf(line, sizeof(line), "%s\n", text);
		spin_lock(&dbg.stub_lock);
		gdbstub_console_write(&dbg.stub, line, n < (int)sizeof(line) ? (size_t)n : sizeof(line) - 1);
		spin_unlock(&dbg.stub_lock);
	} else {
		printk("trapvisor: %s\n", text);
	}
}

void debug_trap_step(struct trap_frame *f, struct trap_event *ev)
{
	struct pcpu *cpu = pcpu_of_frame(f);
	struct gdb_stop stop = { .vcpu = cpu->curr->id, .reason = GDB_STOP_SIGNAL };

	if (s2watch_step_done(cpu) && !cpu->curr->dbg.stepping) {
		ev->cls = TRAP_WATCH; /* the end of a step over a watched page's access */
		return;
	}
	if (!cpu->curr->dbg.stepping) {
		reinject(f, ev);
		return;
	}
	cpu->curr->dbg.stepping = false;
	sysreg_write(mdscr_el1, sysreg_read(mdscr_el1) & ~MDSCR_SS);
	trap_set_pstate(trap_pstate() & ~SPSR_SS);
	gic_mask_guest_interrupts(false);
	stop_all(cpu, &stop);
}

/* While GDB is attached the debug registers hold only its breakpoints. */
void debug_trap_hw_break(struct trap_frame *f, struct trap_event *ev)
{
	struct gdb_stop stop = { .vcpu = pcpu_of_frame(f)->curr->id, .reason = GDB_STOP_HWBREAK };

	if (!dbg.attached) {
		reinject(f, ev);
		return;
	}
	stop_all(pcpu_of_frame(f), &stop);
}

void debug_trap_watch(struct trap_frame *f, struct trap_event *ev)
{
	u64 far = sysreg_read(far_el2);
	struct gdb_stop stop = { .vcpu = pcpu_of_frame(f)->curr->id, .reason = GDB_STOP_WATCH, .addr = far };

	if (!dbg.attached) {
		reinject(f, ev);
		return;
	}
	/* Report the watchpoint the access fell in, by its kind. */
	for (unsigned n = 0; n < dbg.hw_wp_count; n++) {
		const struct hw_slot *s = &dbg.hw_wp[n];
		if (s->used && far + 8 > s->addr && far < s->addr + s->len) {
			stop.reason = s->type == GDB_BP_READ ? GDB_STOP_RWATCH
				      : s->type == GDB_BP_ACCESS ? GDB_STOP_AWATCH
								 : GDB_STOP_WATCH;
			stop.addr = far < s->addr ? s->addr : far;
			break;
		}
	}
	stop_all(pcpu_of_frame(f), &stop);
}

/* Guest accesses to debug registers while GDB owns the hardware ones. */
bool debug_guest_debug_register(struct vcpu *v, const struct sysreg_desc *d, struct emul_access *acc)
{
	unsigned op2 = SYSREG_ENC_OP2(d->enc), n = SYSREG_ENC_CRM(d->enc);
	u64 *shadow = NULL;

	if (d->kind == SR_DBG_BRP)
		shadow = &v->dbg.guest_dbg[0][n][op2 == 5];
	else if (d->kind == SR_DBG_WRP)
		shadow = &v->dbg.guest_dbg[1][n][op2 == 7];
	else if (d->enc == SYSREG_ENC(2, 0, 0, 2, 2)) /* MDSCR_EL1 */
		shadow = &v->dbg.mdscr_guest;
	/* The locks: OSLAR_EL1 sets the lock that OSLSR_EL1.OSLK shows. */
	if (d->enc == ENC_OSLAR_EL1 && acc->write) {
		v->dbg.oslk_guest = acc->value & 1;
		return true;
	}
	if (d->enc == ENC_OSLSR_EL1 && !acc->write) {
		acc->value = (d->hw_read() & ~OSLSR_OSLK) | (v->dbg.oslk_guest ? OSLSR_OSLK : 0);
		return true;
	}
	if (d->enc == ENC_OSDLR_EL1) {
		if (acc->write)
			v->dbg.osdlk_guest = acc->value & OSDLR_DLK;
		else
			acc->value = v->dbg.osdlk_guest ? OSDLR_DLK : 0;
		return true;
	}
	if (!shadow)
		return false;
	if (acc->write)
		*shadow = acc->value;
	else
		acc->value = *shadow;
	return true;
}

/* ---- gdbstub's target interface --------------------------------------------- */

static void target_write(void *ctx, const uint8_t *buf, size_t len)
{
	dbg_line_write(buf, len);
}

static unsigned target_vcpu_count(void *ctx)
{
	return vcpu_count;
}

static void target_vcpu_describe(void *ctx, unsigned vcpu, char *buf, size_t size)
{
	struct vcpu *v = vcpu_by_id(vcpu);
	const char *what = v->state == VCPU_OFF		? "off"
			   : v->dbg.stopped_in_wfi	? "stopped in WFI"
			   : v->dbg.parked		? "stopped"
			   : v->state == VCPU_IDLE	? "in WFI"
							: "running";

	snprintf(buf, size, "vCPU %u (MPIDR %#lx): %s", vcpu, v->vmpidr, what);
}

static bool target_reg_describe(void *ctx, unsigned index, struct gdb_reg_desc *out)
{
	if (index < dbg.sysreg_count) {
		*out = (struct gdb_reg_desc){ dbg.sysreg_names[index], 64, GDB_FEATURE_SYSTEM, NULL };
		return true;
	}
	index -= dbg.sysreg_count;
	if (index >= HV_REGS)
		return false;
	*out = (struct gdb_reg_desc){ hv_reg_names[index], 64, GDB_FEATURE_HYPERVISOR, NULL };
	return true;
}

/* Where GDB register regno of vCPU v lives, and how wide it is; NULL if nowhere. */
static void *reg_location(struct vcpu *v, unsigned regno, size_t *size, bool *is_sys, unsigned *sys)
{
	struct vcpu_debug *d = &v->dbg;
	bool sp_el0 = (d->pstate & 0x1f) == 0x4 || (d->pstate & 0x1f) == 0x0;

	*is_sys = false;
	*size = 8;
	if (regno <= GDB_REG_X30)
		return &v->regs->x[regno];
	if (regno == GDB_REG_SP)
		return sp_el0 ? &d->sp_el0 : &d->sp_el1;
	if (regno == GDB_REG_PC)
		return &d->pc;
	if (regno == GDB_REG_CPSR) {
		*size = 4;
		return &d->pstate;
	}
	if (regno >= GDB_REG_V0 && regno < GDB_REG_V0 + 32) {
		*size = 16;
		return d->fp_valid ? d->vregs[regno - GDB_REG_V0] : NULL;
	}
	if (regno == GDB_REG_FPSR || regno == GDB_REG_FPCR) {
		*size = 4;
		return regno == GDB_REG_FPSR ? (void *)&d->fpsr : (void *)&d->fpcr;
	}
	regno -= GDB_REG_FIRST_EXTRA;
	if (regno < dbg.sysreg_count) {
		*is_sys = true;
		*sys = regno;
		return (d->sysregs_valid[regno / 64] & BIT(regno % 64)) ? &d->sysregs[regno] : NULL;
	}
	regno -= dbg.sysreg_count;
	switch (regno) {
	case 0:
		return &d->esr;
	case 1:
		return &d->far;
	case 2:
		return &d->hpfar;
	case 3:
		return &d->ec;
	case 4:
		return &d->seq;
	case 5:
		return &guest.cntvoff;
	}
	return NULL;
}

static bool target_reg_read(void *ctx, unsigned vcpu, unsigned regno, uint8_t *buf, size_t size)
{
	struct vcpu *v = vcpu_by_id(vcpu);
	size_t width;
	bool is_sys;
	unsigned sys;
	void *p;

	if (!v->dbg.parked)
		return false; /* off: it has no registers */
	p = reg_location(v, regno, &width, &is_sys, &sys);
	if (!p)
		return false;
	memset(buf, 0, size);
	memcpy(buf, p, width < size ? width : size);
	return true;
}

static bool target_reg_write(void *ctx, unsigned vcpu, unsigned regno, const uint8_t *buf, size_t size)
{
	struct vcpu *v = vcpu_by_id(vcpu);
	struct vcpu_debug *d = &v->dbg;
	size_t width;
	bool is_sys;
	unsigned sys;
	void *p;

	if (!d->parked || regno >= GDB_REG_FIRST_EXTRA + dbg.sysreg_count)
		return false; /* the hypervisor's registers are read-only */
	p = reg_location(v, regno, &width, &is_sys, &sys);
	if (!p)
		return false;
	if (is_sys) {
		if (sysreg_table[dbg.sysreg_index[sys]].kind != SR_RW)
			return false;
		d->sysregs_dirty[sys / 64] |= BIT(sys % 64);
	}
	if (regno == GDB_REG_SP)
		d->sp_dirty = true;
	if (regno >= GDB_REG_V0 && regno <= GDB_REG_FPCR)
		d->fp_dirty = true;
	memcpy(p, buf, width < size ? width : size);
	return true;
}

static size_t mem_access(unsigned vcpu, u64 addr, u8 *buf, size_t len, bool write)
{
	struct mem_op op = { addr, buf, len, 0, write };

	run_on_vcpu(vcpu, mem_op_local, &op);
	return op.done;
}

static size_t target_mem_read(void *ctx, unsigned vcpu, uint64_t addr, uint8_t *buf, size_t len)
{
	return mem_access(vcpu, addr, buf, len, false);
}

static size_t target_mem_write(void *ctx, unsigned vcpu, uint64_t addr, const uint8_t *buf, size_t len)
{
	return mem_access(vcpu, addr, (u8 *)buf, len, true);
}

/* Each vCPU does what GDB says: continue, step, or stay stopped (a vCont that
 * names other threads only, e.g. with scheduler-locking on). */
/*
 * Guest time stops while the debugger holds the guest, as under QEMU's own
 * gdbstub and KVM: the virtual counter of every vCPU skips the time since the
 * last vCPU parked (not since the stop began: a vCPU still running then must
 * not see its clock go back). Each pCPU takes the new offset as it resumes
 * (apply_resume_action), before its vCPU runs again, so all vCPUs agree; a
 * guest timer that fell due in wall time has not in guest time, so nothing
 * fires in a burst. The physical counter has no offset (docs/user-guide.md).
 */
static void target_resume(void *ctx, const struct gdb_action *actions, unsigned count)
{
	if (__atomic_load_n(&dbg.state, __ATOMIC_ACQUIRE) == DBG_STOPPED)
		guest.cntvoff += sysreg_read(cntpct_el0) - dbg.stopped_at;
	for (unsigned i = 0; i < count && i < MAX_VCPUS; i++)
		dbg.actions[i] = actions[i];
	__atomic_store_n(&dbg.state, DBG_RUNNING, __ATOMIC_RELEASE);
	__atomic_add_fetch(&dbg.resume_gen, 1, __ATOMIC_RELEASE);
}

static void target_interrupt(void *ctx)
{
	dbg.interrupt_requested = true;
}

static enum gdb_bp_result sw_insert(unsigned vcpu, u64 va)
{
	struct sw_breakpoint *b = NULL;
	u32 insn = BRK_TRAPVISOR;
	struct va_query q;
	u64 pa;

	if (sw_find(va))
		return GDB_BP_OK;
	for (unsigned i = 0; i < SW_BREAKPOINTS && !b; i++)
		if (!dbg.sw[i].used)
			b = &dbg.sw[i];
	if (!b || (va & 3))
		return GDB_BP_ERROR;
	q = va_query_on(vcpu, va);
	pa = q.pa;
	if (!q.pa_ok || !guest_ram_contains(pa, 4))
		return GDB_BP_ERROR;
	b->va = va;
	b->pa = pa;
	b->saved = *(volatile u32 *)pa;
	if (mem_access(vcpu, va, (u8 *)&insn, 4, true) != 4)
		return GDB_BP_ERROR;
	b->used = true;
	return GDB_BP_OK;
}

static enum gdb_bp_result sw_remove(u64 va)
{
	struct sw_breakpoint *b = sw_find(va);

	if (!b)
		return GDB_BP_ERROR;
	mem_access(this_vcpu()->id, va, (u8 *)&b->saved, 4, true);
	b->used = false;
	return GDB_BP_OK;
}

/*
 * A watchpoint covers bytes BAS of the aligned doubleword at value, or with
 * MASK a naturally aligned power-of-two range of 8 bytes to 2 GiB (D2.10).
 */
static bool watch_encode(u64 addr, u64 len, u64 *value, u64 *control)
{
	if (len == 0)
		return false;
	if ((addr & 7) + len <= 8) {
		*value = addr & ~7ULL;
		*control = DBGWCR_BAS(((1ULL << len) - 1) << (addr & 7));
		return true;
	}
	for (unsigned bits = 3; bits <= 31; bits++) {
		if ((1ULL << bits) == len && !(addr & (len - 1))) {
			*value = addr;
			*control = DBGWCR_BAS(0xff) | DBGWCR_MASK(bits);
			return true;
		}
	}
	return false;
}

static enum gdb_bp_result hw_insert(enum gdb_bp_type type, u64 addr, u64 len)
{
	bool watch = type != GDB_BP_HW;
	struct hw_slot *slots = watch ? dbg.hw_wp : dbg.hw_bp;
	unsigned count = watch ? dbg.hw_wp_count : dbg.hw_bp_count;
	struct hw_slot s = { true, type, addr, len, 0, 0 };

	if (watch) {
		if (!watch_encode(addr, len, &s.value, &s.control))
			return GDB_BP_ERROR;
		s.control |= DBGBCR_E | DBGBCR_PMC_EL1_EL0 |
			     DBGWCR_LSC(type == GDB_BP_READ ? 1 : type == GDB_BP_WRITE ? 2 : 3);
	} else {
		if (addr & 3)
			return GDB_BP_ERROR;
		s.value = addr;
		s.control = DBGBCR_E | DBGBCR_PMC_EL1_EL0 | DBGBCR_BAS_A64;
	}
	for (unsigned n = 0; n < count; n++) {
		if (!slots[n].used) {
			slots[n] = s; /* written to every pCPU's registers as it resumes */
			return GDB_BP_OK;
		}
	}
	return GDB_BP_ERROR; /* no slot left: GDB says so */
}

static enum gdb_bp_result hw_remove(enum gdb_bp_type type, u64 addr, u64 len)
{
	bool watch = type != GDB_BP_HW;
	struct hw_slot *slots = watch ? dbg.hw_wp : dbg.hw_bp;
	unsigned count = watch ? dbg.hw_wp_count : dbg.hw_bp_count;

	for (unsigned n = 0; n < count; n++) {
		if (slots[n].used && slots[n].type == type && slots[n].addr == addr &&
		    (!watch || slots[n].len == len)) {
			slots[n].used = false;
			return GDB_BP_OK;
		}
	}
	return GDB_BP_ERROR;
}

static enum watch_kind watch_kind_of(enum gdb_bp_type type)
{
	return type == GDB_BP_READ ? WATCH_READ : type == GDB_BP_ACCESS ? WATCH_ACCESS : WATCH_WRITE;
}

/* A watchpoint the debug registers cannot take (too long, or none left) goes to stage 2. */
static enum gdb_bp_result target_bp_insert(void *ctx, unsigned vcpu, enum gdb_bp_type type, uint64_t addr,
					   uint64_t kind)
{
	if (vcpu >= vcpu_count)
		return GDB_BP_ERROR;
	if (type == GDB_BP_SW)
		return sw_insert(vcpu, addr);
	if (hw_insert(type, addr, kind) == GDB_BP_OK)
		return GDB_BP_OK;
	/* Stage 2 changes only while every vCPU is stopped (break-before-make). */
	if (type == GDB_BP_HW || !debug_guest_stopped())
		return GDB_BP_ERROR;
	return s2watch_insert(watch_kind_of(type), addr, kind, vcpu) ? GDB_BP_ERROR : GDB_BP_OK;
}

static enum gdb_bp_result target_bp_remove(void *ctx, unsigned vcpu, enum gdb_bp_type type, uint64_t addr,
					   uint64_t kind)
{
	if (type == GDB_BP_SW)
		return sw_remove(addr);
	if (hw_remove(type, addr, kind) == GDB_BP_OK)
		return GDB_BP_OK;
	return type != GDB_BP_HW && debug_guest_stopped() && s2watch_remove(watch_kind_of(type), addr, kind)
		       ? GDB_BP_OK
		       : GDB_BP_ERROR;
}

static void detach_all(void)
{
	for (unsigned i = 0; i < SW_BREAKPOINTS; i++)
		if (dbg.sw[i].used)
			sw_remove(dbg.sw[i].va);
	memset(dbg.hw_bp, 0, sizeof(dbg.hw_bp));
	memset(dbg.hw_wp, 0, sizeof(dbg.hw_wp));
	s2watch_remove_all();
	dbg.attached = false; /* each pCPU gives the guest its debug registers back as it resumes */
	for (unsigned i = 0; i < vcpu_count; i++)
		vcpu_by_id(i)->dbg.guest_dbg_captured = false;
	for (unsigned i = 0; i < MAX_VCPUS; i++)
		dbg.actions[i] = (struct gdb_action){ GDB_ACTION_CONTINUE, 0 };
}

static void target_detach(void *ctx)
{
	detach_all();
	target_resume(ctx, dbg.actions, vcpu_count);
}

static void target_kill(void *ctx)
{
	printk("trapvisor: killed from GDB; powering off\n");
	hv_system_off();
}

int debug_monitor(const char *cmd, gdb_output_fn *out, void *out_arg);

static int target_monitor(void *ctx, const char *cmd, gdb_output_fn *out, void *out_arg)
{
	return debug_monitor(cmd, out, out_arg);
}

static const struct gdb_target_ops target_ops = {
	.write = target_write,
	.vcpu_count = target_vcpu_count,
	.vcpu_describe = target_vcpu_describe,
	.reg_describe = target_reg_describe,
	.reg_read = target_reg_read,
	.reg_write = target_reg_write,
	.mem_read = target_mem_read,
	.mem_write = target_mem_write,
	.resume = target_resume,
	.interrupt = target_interrupt,
	.bp_insert = target_bp_insert,
	.bp_remove = target_bp_remove,
	.monitor = target_monitor,
	.detach = target_detach,
	.kill = target_kill,
};

/* The GDB-visible system registers: every register (not SYS instruction) the
 * table can read, except the numbered debug/PMU ones that may not exist. */
static void list_sysregs(void)
{
	for (unsigned i = 0; i < sysreg_count && dbg.sysreg_count < DEBUG_MAX_SYSREGS; i++) {
		const struct sysreg_desc *d = &sysreg_table[i];
		char *name = dbg.sysreg_names[dbg.sysreg_count];

		if (d->kind != SR_RW && d->kind != SR_RO && d->kind != SR_ID && d->kind != SR_MIDR &&
		    d->kind != SR_MPIDR)
			continue;
		for (unsigned c = 0; d->name[c] && c < sizeof(dbg.sysreg_names[0]) - 1; c++)
			name[c] = d->name[c] >= 'A' && d->name[c] <= 'Z' ? d->name[c] - 'A' + 'a' : d->name[c];
		dbg.sysreg_index[dbg.sysreg_count++] = i;
	}
}

void debug_init(void)
{
	u64 dfr0 = sysreg_read(id_aa64dfr0_el1);

	/* ID_AA64DFR0_EL1.BRPs [15:12] and WRPs [23:20]: number minus one. */
	dbg.hw_bp_count = FIELD(dfr0, 15, 12) + 1;
	dbg.hw_wp_count = FIELD(dfr0, 23, 20) + 1;
	list_sysregs();
	gdbstub_init(&dbg.stub, &target_ops, NULL, true);
	if (!plat.dbg_line)
		return;
	if (plat.dbg_line_intid) {
		gic_take_spi(plat.dbg_line_intid, pcpus[0].mpidr);
		plat.dbg_line->enable_rx_interrupt();
	} else {
		timer_rearm(); /* no interrupt line known: poll at POLL_HZ */
	}
}

