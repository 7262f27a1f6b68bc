/*
 * The debugger: gdbstub's target, implemented once.
 *
 * All-stop. A vCPU that must stop for GDB (a breakpoint, the end of a step,
 * Ctrl-C from the debug line) begins the stop: its pCPU becomes the
 * *stopper* and sends SGI 15 (Group 0, a FIQ at EL2) to every other pCPU.
 * Each running vCPU then parks: it leaves its pCPU (sched_park, which puts
 * its state into its context) and the pCPU, in its idle loop with nothing
 * loaded, parks too. The stopper's pCPU waits for every pCPU, reports the
 * stop to GDB, and serves the debug line until GDB resumes the guest. Every
 * vCPU is in memory meanwhile: registers are read from and written to its
 * context, guest memory through its own translation registers, taken into
 * the serving pCPU for the walk.
 *
 * While the guest runs, the debug line's receive interrupt (its PCI INTx,
 * made a Group 0 FIQ for pCPU 0) brings what GDB sends to EL2, so Ctrl-C stops
 * even a guest that never traps, or one whose vCPUs all wait. Where the
 * device tree names no line for it, the EL2 timer polls the line instead.
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
#include "sched.h"
#include "arch/sysreg.h"

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
#define ENC_CNTVCT_EL0 SYSREG_ENC(3, 3, 14, 0, 2)

/* CNTHP, the EL2 physical timer (D11.2.4) */
#define CNTHP_CTL_EL2 S3_4_C14_C2_1
#define CNTHP_TVAL_EL2 S3_4_C14_C2_0
#define CNTHP_CVAL_EL2 S3_4_C14_C2_2
#define CNT_CTL_ENABLE BIT(0)


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
	volatile u32 resume_gen;
	volatile bool interrupt_requested;
	volatile u32 stopper; /* the pCPU stopping the guest: parking pCPUs wake it */
	struct gdb_stop stop; /* what the stopper reports once every pCPU has parked */
	volatile u32 stop_seq; /* stops begun: a pCPU parked for this one says so (parked_for) */
	u64 stopped_at;	      /* CNTPCT when the last pCPU parked: the guest's time stopped */
	struct gdb_action actions[MAX_VCPUS]; /* by vCPU id, as GDB's threads */
	struct sw_breakpoint sw[SW_BREAKPOINTS];
	struct hw_slot hw_bp[HW_SLOTS], hw_wp[HW_SLOTS];
	unsigned hw_bp_count, hw_wp_count; /* what this CPU implements */
	/* The system registers GDB sees: indexes into sysreg_table, and names. */
	unsigned sysreg_count;
	u16 sysreg_index[DEBUG_MAX_SYSREGS];
	char sysreg_names[DEBUG_MAX_SYSREGS][24];
} dbg;

struct debug_now debug_now;

static const char *const hv_reg_names[] = { "esr", "far", "hpfar", "ec", "seq", "cntvoff" };
#define HV_REGS ARRAY_SIZE(hv_reg_names)

bool debug_guest_stopped(void)
{
	return __atomic_load_n(&debug_now.state, __ATOMIC_ACQUIRE) == DBG_STOPPED;
}

/* ---- the guest's own debug registers and GDB's ------------------------------- */

/* DBGBVR<n> (op2 4), DBGBCR<n> (5), DBGWVR<n> (6), DBGWCR<n> (7): 2,0,0,n,op2 */
static const struct sysreg_desc *debug_reg(unsigned op2, unsigned n)
{
	return sysreg_find(SYSREG_ENC(2, 0, 0, n, op2));
}

/*
 * The guest's own debug registers are kept apart from the hardware while GDB
 * owns it, and always while vCPUs share pCPUs (the hardware has one set per
 * pCPU): reset values then, with the OS Lock locked as at a cold reset.
 */
static void shadow_init(struct vcpu *v)
{
	struct vcpu_debug *d = &v->dbg;

	memset(d->guest_dbg, 0, sizeof(d->guest_dbg));
	d->mdscr_guest = 0;
	d->oslk_guest = true;
	d->osdlk_guest = false;
	d->guest_dbg_captured = true;
	d->guest_dbg_in_use = false;
}

/* Whether the guest's own debug registers enable anything (debug_load writes them then). */
static void note_guest_debug_use(struct vcpu_debug *d)
{
	bool any = d->mdscr_guest & (MDSCR_MDE | MDSCR_SS);

	for (unsigned k = 0; k < 2 && !any; k++)
		for (unsigned n = 0; n < 16 && !any; n++)
			any = d->guest_dbg[k][n][1] & DBGBCR_E;
	d->guest_dbg_in_use = any;
}

/* v loaded and alone on its pCPU: its own debug registers, before GDB's replace them. */
static void capture_guest_debug(struct vcpu *v)
{
	struct vcpu_debug *d = &v->dbg;

	if (d->guest_dbg_captured)
		return;
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
	note_guest_debug_use(d);
}

/* One kind of slot: breakpoints (op2 4/5, kind 0) or watchpoints (6/7, 1): GDB's or the guest's. */
static bool apply_slots(const struct vcpu_debug *d, const struct hw_slot *slots, unsigned count, unsigned op2,
			unsigned kind, bool gdbs)
{
	bool any = false;

	for (unsigned n = 0; n < count; n++) {
		const struct hw_slot *s = &slots[n];
		u64 value = gdbs ? (s->used ? s->value : 0) : d->guest_dbg[kind][n][0];
		u64 control = gdbs ? (s->used ? s->control : 0) : d->guest_dbg[kind][n][1];
		debug_reg(op2, n)->hw_write(value);
		debug_reg(op2 + 1, n)->hw_write(control);
		any |= control & DBGBCR_E;
	}
	return any;
}

/*
 * What a vCPU being loaded finds in the debug registers (context.c): GDB's
 * breakpoints and watchpoints and its step while GDB is attached; else the
 * guest's own, from the shadow when vCPUs share the pCPU or right after a
 * detach, and otherwise the hardware's, which were the guest's all along.
 */
static void __attribute__((noinline)) load_gdbs(struct vcpu *v)
{
	struct vcpu_debug *d = &v->dbg;
	bool any = apply_slots(d, dbg.hw_bp, dbg.hw_bp_count, 4, 0, true);

	any |= apply_slots(d, dbg.hw_wp, dbg.hw_wp_count, 6, 1, true);
	/* MDSCR_EL1.MDE makes the hardware check them, SS steps. */
	sysreg_write(mdscr_el1, (d->mdscr_guest & ~(MDSCR_MDE | MDSCR_SS)) | (any ? MDSCR_MDE : 0) |
					(d->stepping ? MDSCR_SS : 0));
	vcpu_pcpu(v)->guest_dbg_in_hw = true; /* not the next vCPU's */
}

static void __attribute__((noinline)) load_guests(struct vcpu *v)
{
	struct vcpu_debug *d = &v->dbg;
	struct pcpu *cpu = vcpu_pcpu(v);
	bool any = d->guest_dbg_in_use;

	/* Twenty registers and more: written only when some are in use. */
	if (any || cpu->guest_dbg_in_hw || d->restore_guest_dbg) {
		apply_slots(d, dbg.hw_bp, dbg.hw_bp_count, 4, 0, false);
		apply_slots(d, dbg.hw_wp, dbg.hw_wp_count, 6, 1, false);
		sysreg_write(mdscr_el1, d->mdscr_guest);
		sysreg_write(osdlr_el1, d->osdlk_guest ? OSDLR_DLK : 0);
		sysreg_write(oslar_el1, d->oslk_guest ? 1 : 0);
		cpu->guest_dbg_in_hw = any;
	}
	if (d->restore_guest_dbg) {
		d->restore_guest_dbg = false;
		d->guest_dbg_captured = sched_shared;
	}
}

void debug_load_registers(struct vcpu *v)
{
	struct vcpu_debug *d = &v->dbg;

	if (debug_now.attached)
		load_gdbs(v);
	else if (d->restore_guest_dbg ||
		 (sched_shared && (d->guest_dbg_in_use || vcpu_pcpu(v)->guest_dbg_in_hw)))
		load_guests(v);
	if (d->stepping)
		gic_mask_guest_interrupts(true);
}

/*
 * A step GDB asked for but that another vCPU's stop interrupted: the vCPU is
 * parked mid-step, and GDB's next resume decides afresh. v loaded.
 */
static void cancel_step(struct vcpu *v)
{
	if (!v->dbg.stepping)
		return;
	v->dbg.stepping = false;
	sysreg_write(mdscr_el1, sysreg_read(mdscr_el1) & ~MDSCR_SS);
	trap_set_pstate(trap_pstate() & ~SPSR_SS);
	gic_mask_guest_interrupts(false);
}

/* ---- guest memory, through a vCPU's own two stages ------------------------- */

/* Guest VA -> PA with the hardware walker (stage 1 then 2), as an EL1 read. */
static bool guest_va_to_pa(u64 va, u64 *pa)
{
	u64 vttbr = sysreg_read(vttbr_el2), par;

	/* Through the guest's own stage 2: a watched page must still read for GDB. */
	sysreg_write(vttbr_el2, stage2_vttbr(false));
	isb();
	asm volatile("at s12e1r, %0" ::"r"(va));
	isb();
	par = sysreg_read(par_el1);
	sysreg_write(vttbr_el2, vttbr);
	isb();
	if (par & 1)
		return false;
	*pa = (par & 0x000ffffffffff000ull) | (va & 0xfff);
	return true;
}

/*
 * GDB names a vCPU, and its addresses are through that vCPU's translation.
 * Every vCPU is put while the guest is stopped, so this pCPU (the one serving
 * GDB, in its idle loop) takes the vCPU's translation registers into its own
 * EL1 for the walk: nobody's are loaded here. Its TLB may then hold that
 * vCPU's entries, which the next load cleans (context.c).
 */
static bool translation_of(unsigned vcpu)
{
	struct vcpu *v = vcpu_by_id(vcpu);
	struct pcpu *cpu = this_pcpu();
	const u64 *r;

	if (!v || !debug_guest_stopped() || cpu->curr)
		return false;
	r = v->ctx.el1;
	sysreg_write(sctlr_el1, r[CTX_SCTLR_EL1]);
	sysreg_write(tcr_el1, r[CTX_TCR_EL1]);
	sysreg_write(ttbr0_el1, r[CTX_TTBR0_EL1]);
	sysreg_write(ttbr1_el1, r[CTX_TTBR1_EL1]);
	sysreg_write(mair_el1, r[CTX_MAIR_EL1]);
	isb();
	asm volatile("tlbi vmalle1\n dsb nsh\n isb" ::: "memory");
	cpu->last_loaded = NULL;
	return true;
}

/*
 * Copy page by page. Only guest RAM is reachable: never the hypervisor's slice
 * (not mapped at stage 2 in the first place) and never a device, whose
 * registers may change state when read.
 */
static size_t mem_access(unsigned vcpu, u64 addr, u8 *buf, size_t len, bool write)
{
	size_t done = 0;

	if (!translation_of(vcpu))
		return 0;
	while (done < len) {
		u64 va = addr + done, pa;
		size_t chunk = SZ_4K - (va & (SZ_4K - 1));

		if (chunk > len - done)
			chunk = len - done;
		if (!guest_va_to_pa(va, &pa) || !guest_ram_contains(pa, chunk))
			break;
		if (write) {
			memcpy((void *)pa, buf + done, chunk);
			for (u64 line = ALIGN_DOWN(pa, 64); line < pa + chunk; line += 64)
				asm volatile("dc cvau, %0" ::"r"(line) : "memory");
		} else {
			memcpy(buf + done, (const void *)pa, chunk);
		}
		done += chunk;
	}
	if (write && done) {
		dsb(ish);
		cache_ic_invalidate_all();
	}
	return done;
}

/*
 * What a guest VA is on vCPU `vcpu`, as GDB means an address of the thread
 * it selected. ipa: stage 1 only; pa: both stages, as an EL1 read.
 */
struct va_query {
	u64 ipa, pa, fsc;
	bool ipa_ok, pa_ok;
};

static struct va_query va_query_on(unsigned vcpu, u64 va)
{
	struct va_query q = { 0 };

	if (!translation_of(vcpu))
		return q;
	q.ipa_ok = guest_va_to_ipa_as(va, false, false, &q.ipa, &q.fsc);
	q.pa_ok = guest_va_to_pa(va, &q.pa);
	return q;
}

bool debug_va_to_ipa(unsigned vcpu, u64 va, u64 *ipa)
{
	struct va_query q = va_query_on(vcpu, va);

	*ipa = q.ipa;
	return q.ipa_ok;
}

/* ---- stopping and resuming -------------------------------------------------- */

/*
 * v, loaded and running, stops for the debugger: off its pCPU (sched_park),
 * whose idle loop then parks the pCPU, until GDB lets v run again.
 */
static void park(struct vcpu *v)
{
	if (!sched_shared)
		capture_guest_debug(v);
	s2watch_cancel(vcpu_pcpu(v)); /* a step over a watched page's access: done again after the resume */
	cancel_step(v);
	v->dbg.parked = true;
	sched_park(v);
}

static void park_if_stopping(struct vcpu *v)
{
	if (__atomic_load_n(&debug_now.state, __ATOMIC_ACQUIRE) != DBG_RUNNING)
		park(v);
}

/*
 * The hypervisor registers of a stopped vCPU: the event a catchpoint stopped
 * it on, else the last trap in its ring. An interrupt delivered or a switch
 * is an event but not a trap: its record says nothing of a syndrome.
 */
static void snapshot_hv_regs(struct vcpu *v)
{
	struct vcpu_debug *d = &v->dbg;
	struct event_ring *ring = v->event_cursor.ring; /* traced or not */
	u64 head = ring->head;

	d->far = v->ctx.far;
	d->hpfar = v->ctx.hpfar;
	if (d->event) {
		d->esr = d->event->esr;
		d->seq = d->event->seq;
	} else {
		u64 oldest = event_ring_oldest(ring), seq = head;
		while (seq > oldest && event_ring_slot(ring, seq - 1)->cls == TRAP_IRQ)
			seq--;
		d->esr = seq > oldest ? event_ring_slot(ring, seq - 1)->esr : 0;
		d->seq = seq ? seq - 1 : 0;
	}
	d->ec = ESR_EC(d->esr);
	/* FAR and HPFAR say something only of an abort or a watchpoint; of any
	 * other trap the registers hold what an earlier one left, perhaps another
	 * vCPU's (a vCPU woken from a WFI parks with its pCPU's syndrome). */
	if (d->ec != EC_IABT_LOW && d->ec != EC_DABT_LOW && d->ec != EC_PC_ALIGN && d->ec != EC_WATCHPT_LOW)
		d->far = d->hpfar = 0;
	else if (d->ec == EC_PC_ALIGN || d->ec == EC_WATCHPT_LOW)
		d->hpfar = 0;
}

/*
 * The registers GDB sees that are not in a vCPU's context (the PMU's, the
 * debug OS registers, the counters): this pCPU's, which its vCPUs share.
 * Some the table names may be missing on this CPU (CCSIDR2_EL1 without
 * FEAT_CCIDX, say): probed, and shown as unavailable.
 */
static void snapshot_pcpu_regs(struct pcpu *cpu)
{
	for (unsigned i = 0; i < vcpu_count; i++) {
		struct vcpu *v = vcpu_by_id(i);
		struct vcpu_debug *d = &v->dbg;
		if (v->pcpu != cpu)
			continue;
		for (unsigned r = 0; r < dbg.sysreg_count; r++) {
			const struct sysreg_desc *desc = &sysreg_table[dbg.sysreg_index[r]];
			if (context_slot(desc->enc) >= 0)
				continue;
			el2_probe_begin();
			d->sysregs[r] = sysreg_guest_value(v, desc);
			if (el2_probe_end())
				d->sysregs_valid[r / 64] |= BIT(r % 64);
			else
				d->sysregs_valid[r / 64] &= ~BIT(r % 64);
		}
		memset(d->sysregs_dirty, 0, sizeof(d->sysregs_dirty));
		snapshot_hv_regs(v);
	}
}

/* What GDB wrote of those, into this pCPU's registers before its vCPUs run. */
static void write_back_pcpu_regs(struct pcpu *cpu)
{
	for (unsigned i = 0; i < vcpu_count; i++) {
		struct vcpu_debug *d = &vcpu_by_id(i)->dbg;
		if (vcpu_by_id(i)->pcpu != cpu)
			continue;
		for (unsigned r = 0; r < dbg.sysreg_count; r++)
			if (d->sysregs_dirty[r / 64] & BIT(r % 64))
				sysreg_table[dbg.sysreg_index[r]].hw_write(d->sysregs[r]);
	}
	isb();
}

static bool all_pcpus_parked(void)
{
	/* Parked for this stop: a pCPU still leaving the last one is not. */
	for (unsigned i = 0; i < pcpu_count; i++)
		if (__atomic_load_n(&pcpus[i].parked_for, __ATOMIC_ACQUIRE) != dbg.stop_seq)
			return false;
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
	while (__atomic_load_n(&debug_now.state, __ATOMIC_ACQUIRE) == DBG_STOPPED) {
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
	gic_phys_route(plat.dbg_line_intid, pcpus[0].mpidr);
}

/*
 * A pCPU with no vCPU loaded while a stop is under way (sched.c's idle loop):
 * it says it is parked, and waits until GDB resumes the guest. The stopper's
 * pCPU waits for every other pCPU to park (each kicks it), reports the stop
 * and serves GDB meanwhile.
 */
void debug_park_pcpu(struct pcpu *cpu)
{
	u32 gen = __atomic_load_n(&dbg.resume_gen, __ATOMIC_ACQUIRE);

	if (__atomic_load_n(&debug_now.state, __ATOMIC_ACQUIRE) == DBG_RUNNING)
		return;
	sysreg_write(CNTHP_CTL_EL2, 0);
	snapshot_pcpu_regs(cpu);
	context_fp_flush(cpu); /* GDB reads FP/SIMD from the contexts */
	__atomic_store_n(&cpu->parked_for, __atomic_load_n(&dbg.stop_seq, __ATOMIC_ACQUIRE), __ATOMIC_RELEASE);
	/* Against stop_all's fence: if this reads a stopper from before,
	 * that stopper's own look at `parked` comes after and sees it. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (__atomic_load_n(&dbg.stopper, __ATOMIC_RELAXED) != cpu->id) {
		gic_send_sgi(pcpus[__atomic_load_n(&dbg.stopper, __ATOMIC_RELAXED)].mpidr, GIC_SGI_KICK);
		while (__atomic_load_n(&dbg.resume_gen, __ATOMIC_ACQUIRE) == gen)
			gic_wait_for_fiq();
	} else {
		/* Each pCPU that parks kicks us: sleep rather than spin, so an
		 * emulator's host thread for that pCPU gets a host CPU to park on
		 * (spinning here cost milliseconds a stop on a 2-core host). */
		u64 deadline = sysreg_read(cntpct_el0) + sysreg_read(cntfrq_el0) / 1000 * PARK_TIMEOUT_MS;
		while (!all_pcpus_parked() && sysreg_read(cntpct_el0) < deadline) {
			sysreg_write(CNTHP_CVAL_EL2, deadline);
			sysreg_write(CNTHP_CTL_EL2, CNT_CTL_ENABLE);
			isb();
			gic_wait_for_fiq();
		}
		sysreg_write(CNTHP_CTL_EL2, 0);
		dbg.stopped_at = sysreg_read(cntpct_el0);
		__atomic_store_n(&debug_now.state, DBG_STOPPED, __ATOMIC_RELEASE);
		spin_lock(&dbg.stub_lock);
		gdbstub_report_stop(&dbg.stub, &dbg.stop);
		spin_unlock(&dbg.stub_lock);
		serve_line_while_stopped(cpu);
		gic_send_kick_to_others(); /* wakes the parked pCPUs: they see the resume */
	}
	write_back_pcpu_regs(cpu);
	sysreg_write(cntvoff_el2, guest.cntvoff);
	s2watch_load();
	sched_timer_program(cpu);
}

/* Begin a stop for `stop` on this pCPU; false if another is being made already. */
static bool begin_stop(struct pcpu *cpu, const struct gdb_stop *stop)
{
	u32 running = DBG_RUNNING;

	if (!__atomic_compare_exchange_n(&debug_now.state, &running, DBG_STOPPING, false, __ATOMIC_ACQ_REL,
					 __ATOMIC_ACQUIRE))
		return false;
	dbg.interrupt_requested = false;
	dbg.stop = *stop;
	__atomic_add_fetch(&dbg.stop_seq, 1, __ATOMIC_ACQ_REL);
	__atomic_store_n(&dbg.stopper, cpu->id, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	gic_send_kick_to_others();
	return true;
}

/*
 * Stop every vCPU and tell GDB why; return when GDB lets v run again. Called
 * in v's trap (its registers saved), on its pCPU. If another vCPU is already
 * stopping the guest, v is stopped with it: a breakpoint hit here is hit
 * again after the resume.
 */
static void stop_all(struct vcpu *v, const struct gdb_stop *stop)
{
	begin_stop(vcpu_pcpu(v), stop);
	park(v);
}

void debug_check_stop(struct trap_frame *f)
{
	park_if_stopping(vcpu_of_frame(f));
}

void debug_stop_for_watch(struct trap_frame *f, unsigned kind, u64 va)
{
	struct gdb_stop stop = { .vcpu = vcpu_of_frame(f)->id, .addr = va,
				 .reason = kind == WATCH_READ	 ? GDB_STOP_RWATCH
					   : kind == WATCH_ACCESS ? GDB_STOP_AWATCH
								  : GDB_STOP_WATCH };

	stop_all(vcpu_of_frame(f), &stop);
}

/* ---- the debug line while the guest runs ----------------------------------- */

/* Feed what GDB sent to the stub; true if it asked for a stop (Ctrl-C, '?'). */
static bool drain_line(void)
{
	int c;

	spin_lock(&dbg.stub_lock);
	while ((c = dbg_line_getc()) >= 0) {
		debug_now.attached = true;
		gdbstub_handle_byte(&dbg.stub, (u8)c);
	}
	spin_unlock(&dbg.stub_lock);
	return dbg.interrupt_requested;
}

/* No interrupt line known: sched.c's timer calls this on pCPU 0 at DEBUG_POLL_HZ. */
void debug_poll_line(struct pcpu *cpu)
{
	drain_line();
}

/*
 * The hypervisor's own interrupts pending on this pCPU (Group 0): the kick,
 * CNTHP, the debug line. True if GDB asked for a stop.
 */
static bool take_fiqs(struct pcpu *cpu)
{
	u32 seen = 0;

	for (unsigned i = 0; i < 4; i++) {
		unsigned intid = gic_ack_fiq();
		if (intid == GIC_SPURIOUS)
			break;
		if (intid == GIC_PPI_HV_TIMER)
			sched_timer_fired(cpu);
		else if (plat.dbg_line_intid && intid == plat.dbg_line_intid)
			drain_line(); /* before the EOI: the INTx is level */
		gic_eoi_fiq(intid);
		if (intid < 32 && (seen & BIT(intid)))
			break; /* a level line whose cause remains: once is enough */
		seen |= intid < 32 ? BIT(intid) : 0;
	}
	return __atomic_load_n(&dbg.interrupt_requested, __ATOMIC_ACQUIRE);
}

void trap_lower_fiq(struct trap_frame *f)
{
	struct vcpu *v = vcpu_of_frame(f);
	struct pcpu *cpu = vcpu_pcpu(v);

	if (take_fiqs(cpu)) {
		struct gdb_stop stop = { .vcpu = v->id, .reason = GDB_STOP_SIGNAL, .signal = GDB_SIGNAL_INT };
		stop_all(v, &stop);
	} else {
		park_if_stopping(v);
	}
	if (cpu->resched)
		__atomic_or_fetch(&v->exit_work, EXIT_WORK_SCHED, __ATOMIC_RELEASE);
	trap_finish_exit(f); /* the kick may bring virtual interrupts (EXIT_WORK_VGIC) */
}

/* The same in the idle loop, where no vCPU runs: a Ctrl-C stops the guest from here. */
void debug_idle_fiqs(struct pcpu *cpu)
{
	if (!take_fiqs(cpu) || debug_stop_under_way())
		return;
	struct gdb_stop stop = { .vcpu = 0, .reason = GDB_STOP_SIGNAL, .signal = GDB_SIGNAL_INT };
	/* The thread GDB is told of: one of this pCPU's, if any is on. */
	for (unsigned i = 0; i < vcpu_count; i++) {
		struct vcpu *v = vcpu_by_id(i);
		if (v->pcpu == cpu && v->state != VCPU_OFF) {
			stop.vcpu = v->id;
			break;
		}
	}
	begin_stop(cpu, &stop);
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
	struct gdb_stop stop = { .vcpu = vcpu_of_frame(f)->id, .reason = GDB_STOP_SWBREAK };

	if (!debug_now.attached || !sw_find(trap_pc())) {
		reinject(f, ev);
		return;
	}
	stop_all(vcpu_of_frame(f), &stop);
}

/*
 * A catchpoint matched: stop with the PC on the trapping instruction (pc) and
 * the event in the hypervisor registers. When GDB resumes, the handler goes on
 * and the operation completes; a step counts it as the instruction stepped.
 */
void debug_stop_for_event(struct trap_frame *f, struct trap_event *ev, const char *text, u64 pc)
{
	struct vcpu *v = vcpu_of_frame(f);
	struct gdb_stop stop = { .vcpu = v->id, .reason = GDB_STOP_SIGNAL, .signal = GDB_SIGNAL_TRAP, .text = text };
	u64 elr = trap_pc();

	if (!debug_now.attached)
		return;
	trap_set_pc(pc);
	v->dbg.event = ev;
	stop_all(v, &stop);
	v->dbg.event = NULL;
	if (trap_pc() == pc)
		trap_set_pc(elr); /* GDB left the PC alone: carry on where the trap would */
	if (v->dbg.stepping)
		trap_set_pstate(trap_pstate() & ~SPSR_SS); /* the step ends right after the eret */
}

/* A line for GDB's console while the guest runs (a catchpoint's log action),
 * or for the hypervisor's console when no GDB listens. */
void debug_log(const char *text)
{
	if (debug_now.attached && gdbstub_is_running(&dbg.stub)) {
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
	struct vcpu *v = vcpu_of_frame(f);
	struct gdb_stop stop = { .vcpu = v->id, .reason = GDB_STOP_SIGNAL };

	if (s2watch_step_done(vcpu_pcpu(v)) && !v->dbg.stepping) {
		ev->cls = TRAP_WATCH; /* the end of a step over a watched page's access */
		return;
	}
	if (!v->dbg.stepping) {
		reinject(f, ev);
		return;
	}
	v->dbg.stepping = false;
	sysreg_write(mdscr_el1, sysreg_read(mdscr_el1) & ~MDSCR_SS);
	trap_set_pstate(trap_pstate() & ~SPSR_SS);
	gic_mask_guest_interrupts(false);
	stop_all(v, &stop);
}

/* While GDB is attached the debug registers hold only its breakpoints. */
void debug_trap_hw_break(struct trap_frame *f, struct trap_event *ev)
{
	struct gdb_stop stop = { .vcpu = vcpu_of_frame(f)->id, .reason = GDB_STOP_HWBREAK };

	if (!debug_now.attached) {
		reinject(f, ev);
		return;
	}
	stop_all(vcpu_of_frame(f), &stop);
}

void debug_trap_watch(struct trap_frame *f, struct trap_event *ev)
{
	u64 far = sysreg_read(far_el2);
	struct gdb_stop stop = { .vcpu = vcpu_of_frame(f)->id, .reason = GDB_STOP_WATCH, .addr = far };

	if (!debug_now.attached) {
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
	stop_all(vcpu_of_frame(f), &stop);
}

/* Guest accesses to debug registers while GDB owns the hardware ones, or vCPUs share pCPUs. */
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
		if (!debug_now.attached)
			d->hw_write(acc->value);
		return true;
	}
	if (d->enc == ENC_OSLSR_EL1 && !acc->write) {
		acc->value = (d->hw_read() & ~OSLSR_OSLK) | (v->dbg.oslk_guest ? OSLSR_OSLK : 0);
		return true;
	}
	if (d->enc == ENC_OSDLR_EL1) {
		if (acc->write && !debug_now.attached)
			d->hw_write(acc->value);
		if (acc->write)
			v->dbg.osdlk_guest = acc->value & OSDLR_DLK;
		else
			acc->value = v->dbg.osdlk_guest ? OSDLR_DLK : 0;
		return true;
	}
	if (!shadow)
		return false;
	if (acc->write) {
		*shadow = acc->value;
		note_guest_debug_use(&v->dbg);
	} else {
		acc->value = *shadow;
	}
	/* Shadowed because vCPUs share the pCPU, not for GDB: the hardware is
	 * this vCPU's while it runs, so its write takes effect now too. */
	if (acc->write && !debug_now.attached) {
		d->hw_write(acc->value);
		vcpu_pcpu(v)->guest_dbg_in_hw = true;
	}
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
	unsigned on = vcpu_pcpu(v)->id;
	const char *what = v->state == VCPU_OFF				   ? "off"
			   : v->dbg.held				   ? "held by GDB"
			   : v->dbg.parked				   ? "stopped, was running"
			   : v->state == VCPU_IDLE || v->in_wfi		   ? "blocked in WFI"
			   : v->state == VCPU_RUNNABLE || v->state == VCPU_ON_PENDING ? "runnable, waiting"
									   : "running";

	snprintf(buf, size, "vCPU %u (MPIDR %#lx) on pCPU %u: %s", vcpu, v->vmpidr, on, what);
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

/*
 * Where GDB register regno of a stopped vCPU lives, and how wide it is; NULL
 * if nowhere. Everything of the vCPU is in memory then: its frame, its
 * context, and what its pCPU's registers held when it parked. sys: the index
 * of a system register held apart from the context (written back at resume).
 */
static void *reg_location(struct vcpu *v, unsigned regno, size_t *size, int *sys)
{
	struct vcpu_debug *d = &v->dbg;
	struct vcpu_context *c = &v->ctx;
	bool sp_el0 = (c->pstate & 0x1f) == 0x4 || (c->pstate & 0x1f) == 0x0;

	*sys = -1;
	*size = 8;
	if (regno <= GDB_REG_X30)
		return &v->regs->x[regno];
	if (regno == GDB_REG_SP)
		return &c->el1[sp_el0 ? CTX_SP_EL0 : CTX_SP_EL1];
	if (regno == GDB_REG_PC)
		return &c->pc;
	if (regno == GDB_REG_CPSR) {
		*size = 4;
		return &c->pstate;
	}
	if (regno >= GDB_REG_V0 && regno < GDB_REG_V0 + 32) {
		*size = 16;
		return c->vregs[regno - GDB_REG_V0];
	}
	if (regno == GDB_REG_FPSR || regno == GDB_REG_FPCR) {
		*size = 4;
		return regno == GDB_REG_FPSR ? &c->fpsr : &c->fpcr;
	}
	regno -= GDB_REG_FIRST_EXTRA;
	if (regno < dbg.sysreg_count) {
		int slot = context_slot(sysreg_table[dbg.sysreg_index[regno]].enc);
		if (slot >= 0)
			return &c->el1[slot];
		*sys = (int)regno;
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
	int sys;
	void *p;

	if (!v || v->state == VCPU_OFF || !debug_guest_stopped())
		return false; /* off: it has no registers */
	p = reg_location(v, regno, &width, &sys);
	if (!p)
		return false;
	memset(buf, 0, size);
	memcpy(buf, p, width < size ? width : size);
	/* The guest's time stood still when the last pCPU parked: the same on
	 * every vCPU, whichever pCPU parked first. */
	if (sys >= 0 && sysreg_table[dbg.sysreg_index[sys]].enc == ENC_CNTVCT_EL0) {
		u64 now = dbg.stopped_at - guest.cntvoff;
		memcpy(buf, &now, sizeof(now) < size ? sizeof(now) : size);
	}
	return true;
}

static bool target_reg_write(void *ctx, unsigned vcpu, unsigned regno, const uint8_t *buf, size_t size)
{
	struct vcpu *v = vcpu_by_id(vcpu);
	size_t width;
	int sys;
	void *p;

	if (!v || v->state == VCPU_OFF || !debug_guest_stopped() ||
	    regno >= GDB_REG_FIRST_EXTRA + dbg.sysreg_count)
		return false; /* the hypervisor's registers are read-only */
	p = reg_location(v, regno, &width, &sys);
	if (!p)
		return false;
	if (regno >= GDB_REG_FIRST_EXTRA &&
	    sysreg_table[dbg.sysreg_index[regno - GDB_REG_FIRST_EXTRA]].kind != SR_RW)
		return false;
	if (sys >= 0)
		v->dbg.sysregs_dirty[sys / 64] |= BIT(sys % 64);
	if (regno >= GDB_REG_V0 && regno <= GDB_REG_FPCR)
		v->ctx.fp_dirty = true;
	memcpy(p, buf, width < size ? width : size);
	return true;
}

static size_t target_mem_read(void *ctx, unsigned vcpu, uint64_t addr, uint8_t *buf, size_t len)
{
	return mem_access(vcpu, addr, buf, len, false);
}

static size_t target_mem_write(void *ctx, unsigned vcpu, uint64_t addr, const uint8_t *buf, size_t len)
{
	return mem_access(vcpu, addr, (u8 *)buf, len, true);
}

/*
 * Each vCPU does what GDB says: continue, step, or stay stopped (a vCont that
 * names other threads only, e.g. with scheduler-locking on). A step is one
 * instruction of that vCPU, with nothing else of its pCPU run in between
 * (sched.c), and its interrupts held off so it does not land in the guest's
 * interrupt handler; a vCPU blocked in WFI that is stepped completes its WFI.
 *
 * Guest time stops while the debugger holds the guest, as under QEMU's own
 * gdbstub and KVM: the virtual counter of every vCPU skips the time since the
 * last pCPU parked (not since the stop began: a vCPU still running then must
 * not see its clock go back). Each pCPU takes the new offset as it resumes
 * (debug_park_pcpu), before its vCPUs run again, so all vCPUs agree; a guest
 * timer that fell due in wall time has not in guest time, so nothing fires in
 * a burst. The physical counter has no offset (docs/user-guide.md).
 */
static void target_resume(void *ctx, const struct gdb_action *actions, unsigned count)
{
	u32 wake = 0;

	if (__atomic_load_n(&debug_now.state, __ATOMIC_ACQUIRE) == DBG_STOPPED)
		guest.cntvoff += sysreg_read(cntpct_el0) - dbg.stopped_at;
	for (unsigned i = 0; i < count && i < MAX_VCPUS; i++)
		dbg.actions[i] = actions[i];
	for (unsigned i = 0; i < vcpu_count; i++) {
		struct vcpu *v = vcpu_by_id(i);
		enum gdb_action_kind kind = dbg.actions[i].kind;
		v->dbg.parked = false;
		v->dbg.held = kind == GDB_ACTION_STOP;
		v->dbg.stepping = kind == GDB_ACTION_STEP && v->state != VCPU_OFF;
		if (v->dbg.stepping)
			v->ctx.pstate |= SPSR_SS;
		else
			v->ctx.pstate &= ~SPSR_SS;
		if (v->dbg.stepping && v->state == VCPU_IDLE)
			wake |= BIT(i);
	}
	__atomic_store_n(&debug_now.state, DBG_RUNNING, __ATOMIC_RELEASE);
	__atomic_add_fetch(&dbg.resume_gen, 1, __ATOMIC_RELEASE);
	for (; wake; wake &= wake - 1)
		sched_wake(vcpu_by_id(__builtin_ctz(wake)));
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

/* The instruction back where the breakpoint's translation found it. */
static enum gdb_bp_result sw_remove(u64 va)
{
	struct sw_breakpoint *b = sw_find(va);

	if (!b)
		return GDB_BP_ERROR;
	*(volatile u32 *)b->pa = b->saved;
	asm volatile("dc cvau, %0" ::"r"(b->pa) : "memory");
	dsb(ish);
	cache_ic_invalidate_all();
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
	debug_now.attached = false; /* each vCPU gets its own debug registers back at its next load */
	for (unsigned i = 0; i < vcpu_count; i++)
		vcpu_by_id(i)->dbg.restore_guest_dbg = true;
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
	for (unsigned i = 0; i < vcpu_count; i++)
		if (sched_shared)
			shadow_init(vcpu_by_id(i));
	gdbstub_init(&dbg.stub, &target_ops, NULL, true);
	if (!plat.dbg_line)
		return;
	if (plat.dbg_line_intid) {
		gic_take_spi(plat.dbg_line_intid, pcpus[0].mpidr);
		plat.dbg_line->enable_rx_interrupt();
	} else {
		pcpus[0].poll_at = sysreg_read(cntpct_el0); /* no interrupt line known: poll (sched.c) */
	}
}

