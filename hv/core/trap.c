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
#include "arch/sysreg.h"

static void trap_wfx(struct vcpu *v, struct trap_frame *f, struct trap_event *ev)
{
	ev->op = OP_WAIT;
	/* WFE may complete at any time, so a trapped one just returns: the guest
	 * re-checks its condition. WFI sleeps until an interrupt is pending. */
	if (ESR_WFX_TI(ev->esr) & 1) {
		ev->cls = TRAP_WFE;
	} else {
		ev->cls = TRAP_WFI;
		vcpu_wait_for_interrupt(v);
	}
	vcpu_skip_instr(f);
}

/* HVC and SMC: PSCI, our own calls, or SMCCC NOT_SUPPORTED. */
static void smccc_call(struct vcpu *v, struct trap_frame *f, struct trap_event *ev)
{
	u64 fid = f->x[0];

	ev->op = OP_CALL;
	ev->addr = fid;
	ev->imm = ESR_HVC_IMM(ev->esr);
	if (psci_is_call(fid)) {
		psci_handle(v, f, ev);
	} else if (guest.hypercalls && hypercall_is_ours(fid)) {
		hypercall_handle(v, f, ev);
	} else {
		f->x[0] = SMCCC_NOT_SUPPORTED;
		ev->outcome = OUT_NOT_SUPPORTED;
	}
	ev->value = f->x[0];
}

static void trap_hvc(struct vcpu *v, struct trap_frame *f, struct trap_event *ev)
{
	ev->cls = TRAP_HVC;
	ev->pc = f->elr - 4; /* ELR_EL2 already points past an HVC */
	smccc_call(v, f, ev);
}

static void trap_smc(struct vcpu *v, struct trap_frame *f, struct trap_event *ev)
{
	ev->cls = TRAP_SMC;
	vcpu_skip_instr(f); /* a trapped SMC returns to itself (D1.11.2) */
	smccc_call(v, f, ev);
}

static void trap_sysreg(struct vcpu *v, struct trap_frame *f, struct trap_event *ev)
{
	struct emul_access acc;
	const struct sysreg_desc *d;

	esr_decode_sys64(ev->esr, &acc);
	d = sysreg_find(acc.addr);
	ev->cls = sysreg_class_of(acc.addr);
	ev->outcome = sysreg_emulate(v, f, &acc);
	ev->op = acc.write ? OP_WRITE : OP_READ;
	if (d && (d->kind == SR_SYS || d->kind == SR_DC_VA || d->kind == SR_IC_VA))
		ev->op = OP_MAINT;
	ev->addr = acc.addr;
	ev->value = acc.value;
	ev->width = 8;
	ev->reg = acc.reg;
	if (ev->outcome == OUT_UNDEF_INJECTED)
		vcpu_inject_undef(f);
	else if (ev->outcome != OUT_ABORT_INJECTED)
		vcpu_skip_instr(f);
}

/*
 * First FP/SIMD use while the fp class is on: recorded, then the trap is
 * lifted on this pCPU so the guest runs on; switching the class on again
 * (or any trap-class change) re-arms it.
 */
static void trap_fp(struct vcpu *v, struct trap_frame *f, struct trap_event *ev)
{
	ev->cls = TRAP_FP;
	ev->outcome = OUT_EMULATED;
	sysreg_write(cptr_el2, sysreg_read(cptr_el2) & ~CPTR_TFP);
	isb();
}

static void trap_iabt(struct vcpu *v, struct trap_frame *f, struct trap_event *ev)
{
	u64 far = sysreg_read(far_el2);

	ev->cls = TRAP_ABORT;
	ev->op = OP_READ;
	ev->addr = (FIELD(sysreg_read(hpfar_el2), 43, 4) << 12) | (far & 0xfff);
	ev->outcome = OUT_ABORT_INJECTED;
	vcpu_inject_iabt(f, far);
}

/* Anything else: the guest did something the hypervisor does not emulate. */
static void trap_unknown(struct vcpu *v, struct trap_frame *f, struct trap_event *ev)
{
	ev->cls = TRAP_OTHER;
	ev->outcome = OUT_UNDEF_INJECTED;
	vcpu_inject_undef(f);
}

static const trap_handler_fn exc_class_handlers[EC_MAX + 1] = {
	[0 ... EC_MAX] = trap_unknown,
	[EC_WFX] = trap_wfx,
	[EC_FP_ASIMD] = trap_fp,
	[EC_HVC64] = trap_hvc,
	[EC_SMC64] = trap_smc,
	[EC_SYS64] = trap_sysreg,
	[EC_SVE] = trap_fp,
	[EC_IABT_LOW] = trap_iabt,
	[EC_DABT_LOW] = mmio_trap,
};

static void __attribute__((noinline)) trap_exit_work(struct pcpu *cpu)
{
	u32 work = __atomic_exchange_n(&cpu->exit_work, 0, __ATOMIC_ACQUIRE);

	if (work & EXIT_WORK_TRAPS)
		trap_apply(cpu);
	if (work & (EXIT_WORK_SYSTEM_OFF | EXIT_WORK_SYSTEM_RESET)) {
		if (guest.stats_at_exit)
			stats_print();
		printk("trapvisor: guest asked for system %s\n",
		       work & EXIT_WORK_SYSTEM_OFF ? "off" : "reset");
		if (work & EXIT_WORK_SYSTEM_OFF)
			hv_system_off();
		hv_system_reset();
	}
	if (work & EXIT_WORK_CPU_OFF)
		cpu_restart_idle(cpu);
}

void trap_lower_sync(struct trap_frame *f)
{
	struct pcpu *cpu = this_pcpu();
	struct trap_event *ev = event_ring_next(&cpu->events);
	u64 t0 = sysreg_read(cntpct_el0);
	u64 esr = sysreg_read(esr_el2);
	u64 ticks;

	ev->seq = cpu->events.head;
	ev->time = t0;
	ev->pc = f->elr;
	ev->addr = 0;
	ev->value = 0;
	ev->esr = esr;
	ev->pcpu = cpu->id;
	ev->vcpu = cpu->id;
	ev->ec = ESR_EC(esr);
	ev->cls = TRAP_OTHER;
	ev->op = OP_NONE;
	ev->outcome = OUT_EMULATED;
	ev->width = 0;
	ev->reg = 0xff;
	ev->imm = 0;
	exc_class_handlers[ESR_EC(esr)](&cpu->vcpu, f, ev);
	ticks = sysreg_read(cntpct_el0) - t0;
	ev->el2_ticks = ticks;
	trap_stat_add(&cpu->vcpu.stats[ev->cls], ticks);
	event_ring_commit(&cpu->events);
	if (cpu->exit_work)
		trap_exit_work(cpu);
}

/* A fault in the hypervisor itself, or an exception it never expects. */
static const char *const vector_names[16] = {
	"sync/EL2t", "irq/EL2t", "fiq/EL2t", "serror/EL2t", "sync/EL2h", "irq/EL2h",
	"fiq/EL2h", "serror/EL2h", "sync/lower64", "irq/lower64", "fiq/lower64",
	"serror/lower64", "sync/lower32", "irq/lower32", "fiq/lower32", "serror/lower32",
};

void el2_report_unexpected(struct trap_frame *f, unsigned vector)
{
	u64 esr = sysreg_read(esr_el2);
	struct pcpu *cpu = this_pcpu();

	printk("\ntrapvisor: unexpected exception %s on pCPU %u\n", vector_names[vector & 15], cpu->id);
	printk("  ESR_EL2 %#010lx  EC %#04x (%s)  IL %u  ISS %#09x\n", esr, ESR_EC(esr),
	       esr_ec_name(ESR_EC(esr)), (unsigned)!!(esr & ESR_IL), ESR_ISS(esr));
	printk("  ELR_EL2 %#018lx  SPSR_EL2 %#010lx  FAR_EL2 %#018lx\n", f->elr, f->spsr,
	       sysreg_read(far_el2));
	for (unsigned i = 0; i < 31; i += 2) {
		if (i == 30)
			printk("  x30 %016lx\n", f->x[30]);
		else
			printk("  x%-2u %016lx  x%-2u %016lx\n", i, f->x[i], i + 1, f->x[i + 1]);
	}
	printk("trapvisor: pCPU %u stopped; the others go on\n", cpu->id);
}
