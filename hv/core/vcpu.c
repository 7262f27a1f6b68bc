/*
 * vCPUs: launching one the way the arm64 boot protocol and PSCI CPU_ON describe,
 * reflecting exceptions into it as the hardware would, and the trap controls
 * each pCPU applies to its vCPU.
 */
#include "hv.h"
#include "lib.h"
#include "console.h"
#include "platform.h"
#include "debug.h"
#include "gic.h"
#include "s2watch.h"
#include "sched.h"
#include "arch/sysreg.h"

struct trap_config trap_config;

/* HCR_EL2 bits every guest runs with: stage 2 on, EL1 is AArch64, set/way
 * invalidate upgraded to clean+invalidate (the guest does not own the caches
 * alone), SMC trapped (PSCI is ours), pointer authentication not trapped,
 * and every physical interrupt taken to EL2, the guest getting virtual ones
 * (gic.h, vgic.h). */
#define HCR_BASE (HCR_VM | HCR_RW | HCR_SWIO | HCR_TSC | HCR_APK | HCR_API | HCR_FMO | HCR_IMO)

/* What switching a class on sets. Classes with no bits are always trapped. */
static const struct trap_control trap_controls[TRAP_CLASS_COUNT] = {
	[TRAP_WFI] = { .hcr = HCR_TWI },
	[TRAP_WFE] = { .hcr = HCR_TWE },
	[TRAP_SYSREG] = { .hcr = HCR_TACR },
	[TRAP_ID] = { .hcr = HCR_TID1 | HCR_TID2 | HCR_TID3 },
	[TRAP_VM] = { .hcr = HCR_TVM | HCR_TRVM },
	[TRAP_CACHE] = { .hcr = HCR_TSW | HCR_TPCP | HCR_TPU | HCR_TTLB },
	[TRAP_DEBUG] = { .mdcr = MDCR_TDA | MDCR_TDOSA | MDCR_TDRA },
	[TRAP_PMU] = { .mdcr = MDCR_TPM | MDCR_TPMCR },
	[TRAP_FP] = { .cptr = CPTR_TFP },
};

bool trap_class_always_on(unsigned cls)
{
	const struct trap_control *c = &trap_controls[cls];

	return !c->hcr && !c->mdcr && !c->cptr;
}

void trap_class_set(unsigned cls, bool on)
{
	if (cls >= TRAP_CLASS_COUNT || trap_class_always_on(cls))
		return;
	if (on)
		__atomic_or_fetch(&trap_config.enabled, 1u << cls, __ATOMIC_RELAXED);
	else
		__atomic_and_fetch(&trap_config.enabled, ~(1u << cls), __ATOMIC_RELAXED);
	for (unsigned i = 0; i < vcpu_count; i++)
		__atomic_or_fetch(&vcpu_slots[i].vcpu.exit_work, EXIT_WORK_TRAPS, __ATOMIC_RELEASE);
}

#define ISR_I BIT(7) /* ISR_EL1 at EL2: a physical IRQ is pending */

/* CPTR_EL2.TZ and TSM: SVE and SME trap (EC 0x19, 0x1d) */
#define CPTR_TZ BIT(8)
#define CPTR_TSM BIT(12)

/* The trap controls for classes `on`, with or without GDB attached. */
static void __attribute__((noinline)) trap_controls_for(u32 on, bool attached, u64 mdcr_base, struct trap_control *out)
{
	u64 hcr = HCR_BASE, mdcr = mdcr_base, cptr = CPTR_RES1;

	for (unsigned c = 0; c < TRAP_CLASS_COUNT; c++) {
		if (!(on & (1u << c)))
			continue;
		hcr |= trap_controls[c].hcr;
		mdcr |= trap_controls[c].mdcr;
		cptr |= trap_controls[c].cptr;
	}
	/* While GDB is attached, debug exceptions (breakpoints, steps) come to EL2
	 * (TDE); TDE also traps the guest's debug registers and the locks
	 * (TDA/TDOSA act as 1), so debug.c keeps the guest's values of them. */
	if (attached)
		mdcr |= MDCR_TDE;
	/*
	 * vCPUs sharing a pCPU: what is not switched is not the guest's. Its
	 * debug registers are kept apart (debug.c); SVE, SME and the PMU are
	 * neither shown (sysreg.c hides them from the ID registers, which
	 * therefore trap, and fdt.c the PMU's node) nor usable (UNDEFINED:
	 * trap.c, and sysreg.c for the PMU's registers, which trap).
	 */
	if (context_switches_scxtnum())
		hcr |= HCR_ENSCXT; /* the guest's own, each vCPU alone on its pCPU (context.c) */
	if (sched_shared) {
		mdcr |= MDCR_TDA | MDCR_TDOSA | MDCR_TDRA | MDCR_TPM | MDCR_TPMCR;
		hcr |= HCR_TID3 | HCR_TWI; /* and a WFI gives the pCPU away (sched.c) */
		hcr &= ~(HCR_API | HCR_APK); /* until a vCPU's keys are live (context.c) */
		cptr |= CPTR_TZ | CPTR_TSM;
	}
	*out = (struct trap_control){ hcr, mdcr, cptr };
}

inline __attribute__((always_inline)) void trap_apply(struct vcpu *v)
{
	struct pcpu *cpu = vcpu_pcpu(v);
	bool attached = debug_owns_debug_registers();
	u64 key;
	u32 on;

	/* This applies the newest classes: a change still flagged for this vCPU's
	 * exit is done too (and would otherwise re-arm the fp trap just lifted). */
	if (v->exit_work & EXIT_WORK_TRAPS)
		__atomic_and_fetch(&v->exit_work, ~EXIT_WORK_TRAPS, __ATOMIC_ACQ_REL);
	on = __atomic_load_n(&trap_config.enabled, __ATOMIC_ACQUIRE);
	/* Every load applies them: worked out again only when they changed. */
	key = on | (u64)attached << 32 | BIT(33);
	if (cpu->trap_key != key) {
		trap_controls_for(on, attached, cpu->mdcr_base, &cpu->trap_cached);
		cpu->trap_key = key;
	}
	/* The OS Lock and OS Double Lock must be open for GDB's breakpoints and
	 * steps to be taken at all. */
	if (attached) {
		sysreg_write(oslar_el1, 0);
		sysreg_write(osdlr_el1, 0);
	}
	/* A stepped WFI must not sleep with the guest's interrupts held off: trap
	 * it, and trap.c completes it at once (WFI may always complete early). */
	sysreg_write(hcr_el2, cpu->trap_cached.hcr | (v->dbg.stepping ? HCR_TWI : 0) |
				      (v->ctx.pauth_live ? HCR_API | HCR_APK : 0));
	sysreg_write(mdcr_el2, cpu->trap_cached.mdcr);
	/* FP/SIMD is switched lazily (context.c): it traps while this pCPU's
	 * registers hold another vCPU's. */
	sysreg_write(cptr_el2, cpu->trap_cached.cptr | (cpu->fp_owner != v ? CPTR_TFP : 0));
	/* No ISB: the eret into the guest synchronizes them, or the switch's
	 * (sched.c, after the EL2 timer). */
}

void vcpu_init(struct vcpu *v, unsigned id)
{
	v->id = id;
	v->state = VCPU_OFF;
	v->vpidr = guest.vpidr_set ? guest.vpidr : sysreg_read(midr_el1);
	/* VMPIDR_EL2 bit 31 is RES1. Unless set, the affinity is that of the
	 * device tree's CPU of the same number, which the guest's copy lists. */
	v->vmpidr = (guest.vmpidr_set ? guest.vmpidr[id] : plat_vcpu_mpidr(id)) | BIT(31);
}

struct vcpu *vcpu_by_mpidr(u64 mpidr)
{
	for (unsigned i = 0; i < vcpu_count; i++)
		if ((vcpu_by_id(i)->vmpidr & MPIDR_AFF_MASK) == (mpidr & MPIDR_AFF_MASK))
			return vcpu_by_id(i);
	return NULL;
}

/*
 * Past the trapped instruction, as if it had run: 2 bytes for a 16-bit T32 one
 * (ESR_EL2.IL = 0); no branch target pending (PSTATE.BTYPE); and a single step
 * that was stepping it is now due (SPSR.SS = 0: the step exception comes right
 * after the eret, so stepping a trapped instruction is one instruction).
 */
#define SPSR_SS BIT(21)
#define SPSR_BTYPE (3ULL << 10)

void vcpu_skip_instr(u64 esr)
{
	trap_set_pc(trap_pc() + ((esr & ESR_IL) ? 4 : 2));
	trap_set_pstate(trap_pstate() & ~(SPSR_SS | SPSR_BTYPE));
}

/*
 * Reflect a synchronous exception into the guest's EL1, as taking it would
 * have: ELR/SPSR/ESR(/FAR)_EL1 set, PSTATE to EL1h with DAIF masked, PAN set
 * when SCTLR_EL1.SPAN is 0, SSBS from SCTLR_EL1.DSSBS, and the vector offset
 * chosen by where the guest was (D1.10.2).
 */
#define SPSR_M_MASK 0x1fULL
#define SPSR_M_EL1T 0x4ULL
#define SPSR_M_EL1H 0x5ULL
#define SPSR_PAN BIT(22)
#define SPSR_SSBS BIT(12)
#define SCTLR_SPAN BIT(23)
#define SCTLR_DSSBS BIT(44)
#define ID_MMFR1_PAN(v) FIELD(v, 23, 20)

static void inject_sync(struct trap_frame *f, u64 esr, u64 far, bool set_far)
{
	u64 spsr = trap_pstate(), mode = spsr & SPSR_M_MASK, offset;
	u64 sctlr = sysreg_read(sctlr_el1), new_spsr = SPSR_MODE_EL1H | SPSR_DAIF;

	if (mode == SPSR_M_EL1H)
		offset = 0x200;
	else if (mode == SPSR_M_EL1T)
		offset = 0x000;
	else if (spsr & 0x10)
		offset = 0x600; /* from AArch32 EL0 */
	else
		offset = 0x400; /* from AArch64 EL0 */
	if (ID_MMFR1_PAN(sysreg_read(id_aa64mmfr1_el1)))
		new_spsr |= (sctlr & SCTLR_SPAN) ? (spsr & SPSR_PAN) : SPSR_PAN;
	if (sctlr & SCTLR_DSSBS)
		new_spsr |= SPSR_SSBS;
	sysreg_write(elr_el1, trap_pc());
	sysreg_write(spsr_el1, spsr);
	sysreg_write(esr_el1, esr);
	if (set_far)
		sysreg_write(far_el1, far);
	trap_set_pc(sysreg_read(vbar_el1) + offset);
	trap_set_pstate(new_spsr);
}

static bool from_el1(const struct trap_frame *f)
{
	u64 mode = trap_pstate() & SPSR_M_MASK;
	return mode == SPSR_M_EL1H || mode == SPSR_M_EL1T;
}

void vcpu_inject_undef(struct trap_frame *f)
{
	/* EC 0 (unknown reason); IL says how long the instruction was. */
	inject_sync(f, sysreg_read(esr_el2) & ESR_IL, 0, false);
}

void vcpu_inject_dabt(struct trap_frame *f, u64 va, u64 syndrome)
{
	u64 esr = ((u64)(from_el1(f) ? EC_DABT_CUR : EC_DABT_LOW) << ESR_EC_SHIFT) | syndrome;

	inject_sync(f, esr, va, true);
}

/*
 * A debug exception that was the guest's own (its BRK, its single step, its
 * breakpoint), taken to EL2 because the debugger set MDCR_EL2.TDE: delivered to
 * the guest's EL1 with the syndrome the hardware would have given it there.
 */
void vcpu_inject_debug(struct trap_frame *f, u64 esr)
{
	unsigned ec = ESR_EC(esr);

	/* From EL1 the "lower EL" classes become their "current EL" twins. */
	if (from_el1(f) && (ec == EC_BREAKPT_LOW || ec == EC_SOFTSTP_LOW || ec == EC_WATCHPT_LOW))
		esr += 1ULL << ESR_EC_SHIFT;
	inject_sync(f, esr, sysreg_read(far_el2), ec == EC_WATCHPT_LOW);
}

void vcpu_inject_iabt(struct trap_frame *f, u64 va)
{
	u64 esr = ((u64)(from_el1(f) ? EC_IABT_CUR : EC_IABT_LOW) << ESR_EC_SHIFT) | ESR_IL |
		  FSC_SYNC_EXTERNAL; /* an instruction abort's IL is always 1 */

	inject_sync(f, esr, va, true);
}

#define CNT_CTL_ENABLE BIT(0)
#define CNT_CTL_IMASK BIT(1)
#define CNT_CTL_ISTATUS BIT(2)
#define PPI_VTIMER 27
#define PPI_PTIMER 30

/* v loaded: one of its timers has fired into an interrupt that ends its WFI
 * (whose physical twin the CPU interface may not show yet). */
static bool timer_fired(struct vcpu *v)
{
	u64 on = CNT_CTL_ENABLE | CNT_CTL_ISTATUS, mask = on | CNT_CTL_IMASK;

	return ((sysreg_read(cntv_ctl_el0) & mask) == on && vgic_could_wake(v, PPI_VTIMER)) ||
	       ((sysreg_read(S3_3_C14_C2_1) & mask) == on && vgic_could_wake(v, PPI_PTIMER));
}

/*
 * A trapped WFI. Not at all if a virtual interrupt would wake the guest's own
 * WFI already. With other vCPUs on its pCPU, the pCPU goes to them until an
 * interrupt is pending for this one (sched.c). Alone, it sleeps right here:
 * what makes an interrupt pending for it wakes this WFI, a physical one for
 * the guest (Group 1, masked at EL2 but pending) or the kick SGI from a pCPU
 * that made a virtual one pending.
 */
void vcpu_wait_for_interrupt(struct vcpu *v)
{
	/* GDB's step of it (a WFI, a CPU_SUSPEND): its interrupts are held off
	 * for the step, none could end the wait. */
	if (v->dbg.stepping) /* its step completes at once */
		return;
	if (vcpu_pcpu(v)->placed > 1) {
		/* The look that finds nothing pending puts its interface for the
		 * block at once. Woken, it looks again: a wake-up meant for the
		 * pCPU (another vCPU's SPI, a timer whose interrupt the vGIC has
		 * not seen yet) ends the WFI only if an interrupt is now pending
		 * here. A refused block (its interrupts changed, a debugger stop)
		 * ends it, and so does GDB stepping it (a stepped WFI completes). */
		while (!vgic_wfi_put_unless_woken(v) && sched_block(v) && !v->dbg.stepping && !timer_fired(v) &&
		       !(sysreg_read(isr_el1) & ISR_I))
			;
		if (!v->loaded)
			vgic_cpu_load(v); /* the block was refused */
		return;
	}
	if (vgic_wfi_should_wake(v))
		return;
	v->in_wfi = true;
	dsb(sy);
	wfi();
	v->in_wfi = false;
}

/*
 * A trapped WFIT. Its deadline is on the guest's virtual counter, which at EL2
 * (E2H = 0) is the same CNTVCT_EL0 = CNTPCT_EL0 - CNTVOFF_EL2: the same WFIT at
 * EL2 waits exactly as long. The CPU has FEAT_WFxT, or the guest's WFIT would
 * have been UNDEFINED at EL1 instead of trapping. With vCPUs sharing the pCPU
 * it completes at once, which a WFIT may always do: blocking it would need a
 * deadline of its own in the scheduler. A stepped one completes at once, as
 * a stepped WFI does.
 */
void vcpu_wait_for_interrupt_until(struct vcpu *v, u64 cntvct_deadline)
{
	if (v->dbg.stepping || vgic_wfi_should_wake(v) || vcpu_pcpu(v)->placed > 1)
		return;
	v->in_wfi = true;
	dsb(sy);
	wfit(cntvct_deadline);
	v->in_wfi = false;
}

/*
 * CPU_ON (and the boot of vCPU 0): v is off, its context as out of reset at
 * v->entry with x0 = v->context_id, its virtual CPU interface empty, and its
 * first switch-in enters the guest from an empty stack.
 */
void vcpu_power_on(struct vcpu *v)
{
	context_reset(v, v->entry, v->context_id);
	vgic_vcpu_reset(v);
	v->exit_work = EXIT_WORK_TRAPS | EXIT_WORK_VGIC;
	v->dbg.stepping = false;
	memset(&v->sched_ctx, 0, sizeof(v->sched_ctx));
	v->sched_ctx.sp = (u64)&v->frame;
	v->sched_ctx.lr = (u64)sched_first_entry_thunk;
	sched_start(v);
}

void vcpu_set_reset_state(struct vcpu *v, u64 entry, u64 x0)
{
	struct trap_frame *f = v->regs;

	if (!v->loaded) {
		context_reset(v, entry, x0);
		return;
	}
	memset(f, 0, sizeof(*f));
	f->x[0] = x0;
	trap_set_pc(entry);
	trap_set_pstate(SPSR_MODE_EL1H | SPSR_DAIF);
	/* Out of reset: MMU and caches off, everything else the guest sets up. */
	sysreg_write(sctlr_el1, SCTLR_EL1_RES1);
	sysreg_write(vbar_el1, 0);
	if (!debug_owns_debug_registers() && !sched_shared)
		sysreg_write(mdscr_el1, 0);
	v->dbg.mdscr_guest = 0;
	isb();
}
