/*
 * Every synchronous exit from the guest comes through trap_lower_sync(): the
 * one table indexed by ESR_EL2.EC, one handler per class, one event record
 * per trap. Handlers fill in the event in place; the dispatcher times it,
 * counts it and publishes it.
 */
#include "hv.h"
#include "lib.h"
#include "console.h"
#include "platform.h"
#include "sysreg.h"
#include "debug.h"
#include "catch.h"
#include "sched.h"
#include "arch/sysreg.h"

static void trap_wfx(struct trap_frame *f, struct trap_event *ev)
{
	unsigned ti = ESR_WFX_TI(ev->esr);

	/* WFE (and WFET) may complete at any time, so a trapped one just returns:
	 * the guest re-checks its condition. WFI sleeps until an interrupt is
	 * pending; WFIT at most until its deadline, and without a valid register
	 * it completes at once, which a WFIT may always do. */
	if (ti & 1) {
		ev->cls = TRAP_WFE;
	} else {
		struct vcpu *v = vcpu_of_frame(f);
		if (ti == WFX_TI_WFI)
			vcpu_wait_for_interrupt(v); /* a stepped one completes at once (vcpu.c) */
		else if (ev->esr & ESR_WFX_RV)
			vcpu_wait_for_interrupt_until(v, frame_get_reg(f, ESR_WFX_RT(ev->esr)));
	}
	vcpu_skip_instr(ev->esr);
	if (!(ti & 1))
		debug_check_stop(f); /* what woke it may be the debugger */
}

/* The calls we answer: PSCI, and ours when the test interface is on. */
static void __attribute__((noinline)) smccc_dispatch(struct trap_frame *f, struct trap_event *ev)
{
	struct vcpu *v = vcpu_of_frame(f);

	if (psci_is_call(f->x[0]))
		psci_handle(v, f, ev);
	else if (guest.hypercalls && hypercall_is_ours(f->x[0]))
		hypercall_handle(v, f, ev);
	else
		f->x[0] = SMCCC_NOT_SUPPORTED;
	ev->value = f->x[0];
}

/*
 * HVC and SMC. A call nobody answers stays on the short path, with no call
 * and no stack frame: the event's defaults (class, op, outcome NOT_SUPPORTED)
 * come from the dispatch table. It is what `make bench` measures.
 */
static void trap_hvc(struct trap_frame *f, struct trap_event *ev)
{
	u64 fid = f->x[0];

	ev->addr = fid;
	if (psci_is_call(fid) || hypercall_is_ours(fid)) {
		smccc_dispatch(f, ev);
		return;
	}
	f->x[0] = SMCCC_NOT_SUPPORTED;
	ev->value = SMCCC_NOT_SUPPORTED;
}

static void trap_smc(struct trap_frame *f, struct trap_event *ev)
{
	vcpu_skip_instr(ev->esr); /* a trapped SMC returns to itself (D1.11.2) */
	trap_hvc(f, ev);
}

static u8 sysreg_event_op(const struct sysreg_desc *d, bool write)
{
	if (d && (d->kind == SR_SYS || d->kind == SR_DC_VA || d->kind == SR_IC_VA))
		return OP_MAINT;
	return write ? OP_WRITE : OP_READ;
}

/*
 * The ISS of an MSR to ICC_SGI1R_EL1 (3, 0, C12, C11, 5) whatever its Rt: a
 * guest IPI, the one register a guest writes at interrupt rates, is sent
 * before the table is searched (docs/performance.md, "SGI to another vCPU").
 */
#define ISS_SYS64(op0, op1, crn, crm, op2) ((op0) << 20 | (op2) << 17 | (op1) << 14 | (crn) << 10 | (crm) << 1)
#define ISS_SYS64_NOT_RT (0x3fffffu & ~(0x1fu << 5))
#define ISS_MSR_ICC_SGI1R ISS_SYS64(3, 0, 12, 11, 5)

static void trap_sysreg(struct trap_frame *f, struct trap_event *ev)
{
	struct emul_access acc;
	const struct sysreg_desc *d;

	if ((ev->esr & ISS_SYS64_NOT_RT) == ISS_MSR_ICC_SGI1R) {
		unsigned rt = ESR_SYS64_RT(ev->esr);
		ev->value = frame_get_reg(f, rt);
		vgic_send_sgi(vcpu_of_frame(f), ev->value, true);
		ev->addr = SYSREG_ENC(3, 0, 12, 11, 5);
		ev->op = OP_WRITE;
		ev->width = 8;
		ev->reg = rt;
		vcpu_skip_instr(ev->esr);
		return;
	}
	esr_decode_sys64(ev->esr, &acc);
	d = sysreg_find(acc.addr);
	if (!d && !vcpu_of_frame(f)->ctx.pauth_live && context_is_pauth_key(acc.addr)) {
		/* HCR_EL2.APK: its keys are loaded, and the access runs again */
		context_pauth_claim(vcpu_of_frame(f));
		ev->cls = TRAP_OTHER;
		ev->addr = acc.addr;
		return;
	}
	ev->cls = sysreg_class_of(d, acc.addr);
	ev->outcome = sysreg_emulate(vcpu_of_frame(f), f, d, &acc);
	ev->op = sysreg_event_op(d, acc.write);
	ev->addr = acc.addr;
	ev->value = acc.value;
	ev->width = 8;
	ev->reg = acc.reg;
	if (ev->outcome == OUT_UNDEF_INJECTED)
		vcpu_inject_undef(f);
	else if (ev->outcome != OUT_ABORT_INJECTED)
		vcpu_skip_instr(ev->esr);
}

/*
 * First FP/SIMD use since the vCPU was loaded, while the fp class is on or
 * while its pCPU's registers hold another vCPU's (context.c switches them
 * lazily): recorded, the vCPU's own registers loaded if need be, and the
 * trap lifted so the guest runs on. The next load (or trap-class change)
 * re-arms it.
 */
static void trap_fp(struct trap_frame *f, struct trap_event *ev)
{
	if (ESR_EC(ev->esr) == EC_SVE && sched_shared) {
		vcpu_inject_undef(f); /* SVE is not the guest's while vCPUs share pCPUs (vcpu.c) */
		ev->outcome = OUT_UNDEF_INJECTED;
		return;
	}
	context_fp_claim(vcpu_of_frame(f));
}

/*
 * A PAC instruction of a vCPU whose keys are not live (context.c): its keys
 * loaded, and the instruction, not yet executed, runs again.
 */
static void trap_pauth(struct trap_frame *f, struct trap_event *ev)
{
	struct vcpu *v = vcpu_of_frame(f);

	if (v->ctx.pauth_live) { /* its API is set: a trap that cannot be */
		vcpu_inject_undef(f);
		ev->outcome = OUT_UNDEF_INJECTED;
		return;
	}
	context_pauth_claim(v);
}

static void trap_iabt(struct trap_frame *f, struct trap_event *ev)
{
	u64 far = sysreg_read(far_el2);

	ev->addr = (FIELD(sysreg_read(hpfar_el2), 43, 4) << 12) | (far & 0xfff);
	vcpu_inject_iabt(f, far);
}

/* Anything else: the guest did something the hypervisor does not emulate. */
static void trap_unknown(struct trap_frame *f, struct trap_event *ev)
{
	vcpu_inject_undef(f);
}

/*
 * The one table of exception classes: the handler, and the event's class, op
 * and outcome unless the handler says otherwise.
 */
struct exc_class {
	trap_handler_fn handle;
	u64 meta; /* META_KIND() */
};

#define EXC(fn, cls, op, outcome) { fn, META_KIND(cls, op, outcome) }

static struct exc_class exc_classes[EC_MAX + 1] = {
	[0 ... EC_MAX] = EXC(trap_unknown, TRAP_OTHER, OP_NONE, OUT_UNDEF_INJECTED),
	[EC_WFX] = EXC(trap_wfx, TRAP_WFI, OP_WAIT, OUT_EMULATED),
	[EC_FP_ASIMD] = EXC(trap_fp, TRAP_FP, OP_NONE, OUT_EMULATED),
	[EC_HVC64] = EXC(trap_hvc, TRAP_HVC, OP_CALL, OUT_NOT_SUPPORTED),
	[EC_SMC64] = EXC(trap_smc, TRAP_SMC, OP_CALL, OUT_NOT_SUPPORTED),
	[EC_SYS64] = EXC(trap_sysreg, TRAP_SYSREG, OP_NONE, OUT_EMULATED),
	[EC_SVE] = EXC(trap_fp, TRAP_FP, OP_NONE, OUT_EMULATED),
	[EC_PAC] = EXC(trap_pauth, TRAP_OTHER, OP_NONE, OUT_EMULATED),
	[EC_IABT_LOW] = EXC(trap_iabt, TRAP_ABORT, OP_READ, OUT_ABORT_INJECTED),
	[EC_DABT_LOW] = EXC(mmio_trap, TRAP_MMIO, OP_NONE, OUT_EMULATED),
	[EC_BRK64] = EXC(debug_trap_brk, TRAP_DEBUG, OP_NONE, OUT_EMULATED),
	[EC_SOFTSTP_LOW] = EXC(debug_trap_step, TRAP_DEBUG, OP_NONE, OUT_EMULATED),
	[EC_BREAKPT_LOW] = EXC(debug_trap_hw_break, TRAP_DEBUG, OP_NONE, OUT_EMULATED),
	[EC_WATCHPT_LOW] = EXC(debug_trap_watch, TRAP_DEBUG, OP_NONE, OUT_EMULATED),
};

/*
 * The same handlers with catchpoints checked (catch.c), swapped into the table
 * only while a catchpoint is on. A write, a wait or a call is checked before
 * it happens; a read once its value is known (the PC is shown on the read).
 */
static void catch_wfx(struct trap_frame *f, struct trap_event *ev)
{
	if (ESR_WFX_TI(ev->esr) & 1)
		ev->cls = TRAP_WFE;
	catch_check(f, ev, 0);
	trap_wfx(f, ev);
}

static void catch_fp(struct trap_frame *f, struct trap_event *ev)
{
	catch_check(f, ev, 0);
	trap_fp(f, ev);
}

static void catch_hvc(struct trap_frame *f, struct trap_event *ev)
{
	ev->addr = f->x[0];
	catch_check(f, ev, 4); /* ELR_EL2 is past an HVC */
	trap_hvc(f, ev);
}

static void catch_smc(struct trap_frame *f, struct trap_event *ev)
{
	ev->addr = f->x[0];
	catch_check(f, ev, 0);
	trap_smc(f, ev);
}

static bool completed(const struct trap_event *ev)
{
	return ev->outcome == OUT_EMULATED || ev->outcome == OUT_FORWARDED;
}

static void catch_sysreg(struct trap_frame *f, struct trap_event *ev)
{
	struct emul_access acc;

	esr_decode_sys64(ev->esr, &acc);
	if (acc.write) {
		const struct sysreg_desc *d = sysreg_find(acc.addr);
		ev->cls = sysreg_class_of(d, acc.addr);
		ev->op = sysreg_event_op(d, true);
		ev->addr = acc.addr;
		ev->value = frame_get_reg(f, acc.reg);
		catch_check(f, ev, 0);
		trap_sysreg(f, ev);
	} else {
		trap_sysreg(f, ev);
		if (completed(ev))
			catch_check(f, ev, 4); /* the read is done: the PC moved on */
	}
}

static void catch_mmio(struct trap_frame *f, struct trap_event *ev)
{
	if (ev->esr & ESR_DABT_WNR && ev->esr & ESR_DABT_ISV) {
		unsigned width = 1u << ESR_DABT_SAS(ev->esr);
		ev->op = OP_WRITE;
		ev->width = width;
		ev->addr = (FIELD(sysreg_read(hpfar_el2), 43, 4) << 12) | (sysreg_read(far_el2) & 0xfff);
		ev->value = frame_get_reg(f, ESR_DABT_SRT(ev->esr)) & (width == 8 ? ~0ULL : (1ULL << width * 8) - 1);
		catch_check(f, ev, 0);
		mmio_trap(f, ev);
	} else {
		mmio_trap(f, ev);
		if (completed(ev) && ev->op == OP_READ)
			catch_check(f, ev, 4);
	}
}

/* classes: the trap classes some catchpoint is on (bit per enum trap_class). */
void trap_catching(u32 classes)
{
	const u32 sysregs = BIT(TRAP_SYSREG) | BIT(TRAP_ID) | BIT(TRAP_VM) | BIT(TRAP_CACHE) |
			    BIT(TRAP_DEBUG) | BIT(TRAP_PMU);

	exc_classes[EC_WFX].handle = classes & (BIT(TRAP_WFI) | BIT(TRAP_WFE)) ? catch_wfx : trap_wfx;
	exc_classes[EC_HVC64].handle = classes & BIT(TRAP_HVC) ? catch_hvc : trap_hvc;
	exc_classes[EC_SMC64].handle = classes & BIT(TRAP_SMC) ? catch_smc : trap_smc;
	exc_classes[EC_SYS64].handle = classes & sysregs ? catch_sysreg : trap_sysreg;
	exc_classes[EC_DABT_LOW].handle = classes & BIT(TRAP_MMIO) ? catch_mmio : mmio_trap;
	exc_classes[EC_FP_ASIMD].handle = classes & BIT(TRAP_FP) ? catch_fp : trap_fp;
	exc_classes[EC_SVE].handle = classes & BIT(TRAP_FP) ? catch_fp : trap_fp;
	dsb(ish);
}

static void __attribute__((noinline)) trap_exit_work(struct trap_frame *f)
{
	struct vcpu *v = vcpu_of_frame(f);
	u32 work = __atomic_exchange_n(&v->exit_work, 0, __ATOMIC_ACQUIRE);

	if (work & EXIT_WORK_TRAPS)
		trap_apply(v);
	if (work & EXIT_WORK_VGIC)
		vgic_update(v, f);
	if (work & (EXIT_WORK_SYSTEM_OFF | EXIT_WORK_SYSTEM_RESET)) {
		if (guest.stats_at_exit)
			stats_print(&console_sink);
		printk("trapvisor: guest asked for system %s\n",
		       work & EXIT_WORK_SYSTEM_OFF ? "off" : "reset");
		if (work & EXIT_WORK_SYSTEM_OFF)
			hv_system_off();
		hv_system_reset();
	}
	if (work & EXIT_WORK_CPU_OFF)
		sched_exit(v);
	/* Last: the vCPU that comes back here later finds its exit done. */
	if (work & EXIT_WORK_SCHED)
		sched_yield(v);
}

void trap_lower_sync(struct trap_frame *f)
{
	struct vcpu *v = vcpu_of_frame(f);
	u64 t0 = sysreg_read(cntpct_el0);
	u64 esr = sysreg_read(esr_el2);
	const struct exc_class ec = exc_classes[ESR_EC(esr)]; /* one ldp */
	struct event_cursor cur = v->event_cursor;
	u64 seq = cur.ring->head;
	struct trap_event *ev = event_ring_slot(cur.ring, seq);
	u64 ticks;

	ev->seq = seq;
	ev->time = t0;
	ev->elr = trap_pc();
	ev->addr = 0;
	ev->value = 0;
	ev->esr = esr;
	ev->meta = cur.meta | ec.meta;
	ec.handle(f, ev);
	ticks = sysreg_read(cntpct_el0) - t0;
	ev->el2_ticks = ticks;
	trap_stat_add(&v->stats[ev->cls], ticks);
	event_ring_publish(cur.ring, seq);
	if (v->exit_work)
		trap_exit_work(f);
}

void trap_finish_exit(struct trap_frame *f)
{
	if (vcpu_of_frame(f)->exit_work)
		trap_exit_work(f);
}

/* A fault in the hypervisor itself, or an exception it never expects. */
static const char *const vector_names[16] = {
	"sync/EL2t", "irq/EL2t", "fiq/EL2t", "serror/EL2t", "sync/EL2h", "irq/EL2h",
	"fiq/EL2h", "serror/EL2h", "sync/lower64", "irq/lower64", "fiq/lower64",
	"serror/lower64", "sync/lower32", "irq/lower32", "fiq/lower32", "serror/lower32",
};

/*
 * Returns true when the exception was a probe the hypervisor made on purpose
 * (el2_probe_begin): the faulting instruction is skipped and the probe fails.
 */
bool el2_report_unexpected(struct trap_frame *f, unsigned vector)
{
	u64 esr = sysreg_read(esr_el2);
	struct pcpu *cpu = this_pcpu();

	if (vector == 4 && cpu->el2_probe_armed) { /* sync, from EL2 itself */
		cpu->el2_probe_armed = false;
		cpu->el2_probe_faulted = true;
		trap_set_pc(trap_pc() + 4);
		return true;
	}
	printk("\ntrapvisor: unexpected exception %s on pCPU %u\n", vector_names[vector & 15], cpu->id);
	printk("  ESR_EL2 %#010lx  EC %#04x (%s)  IL %u  ISS %#09x\n", esr, ESR_EC(esr),
	       esr_ec_name(ESR_EC(esr)), (unsigned)!!(esr & ESR_IL), ESR_ISS(esr));
	printk("  ELR_EL2 %#018lx  SPSR_EL2 %#010lx  FAR_EL2 %#018lx\n", sysreg_read(elr_el2),
	       sysreg_read(spsr_el2), sysreg_read(far_el2));
	for (unsigned i = 0; i < 31; i += 2) {
		if (i == 30)
			printk("  x30 %016lx\n", f->x[30]);
		else
			printk("  x%-2u %016lx  x%-2u %016lx\n", i, f->x[i], i + 1, f->x[i + 1]);
	}
	printk("trapvisor: pCPU %u stopped; the others go on\n", cpu->id);
	return false;
}

void el2_probe_begin(void)
{
	struct pcpu *cpu = this_pcpu();

	cpu->el2_probe_faulted = false;
	cpu->el2_probe_elr = sysreg_read(elr_el2);
	cpu->el2_probe_spsr = sysreg_read(spsr_el2);
	cpu->el2_probe_armed = true;
	asm volatile("" ::: "memory");
}

bool el2_probe_end(void)
{
	struct pcpu *cpu = this_pcpu();

	asm volatile("" ::: "memory");
	cpu->el2_probe_armed = false;
	if (!cpu->el2_probe_faulted)
		return true;
	/* Taking the fault at EL2 replaced the trapped vCPU's PC and PSTATE,
	 * which live in ELR_EL2/SPSR_EL2 while its trap is handled. */
	sysreg_write(elr_el2, cpu->el2_probe_elr);
	sysreg_write(spsr_el2, cpu->el2_probe_spsr);
	return false;
}
