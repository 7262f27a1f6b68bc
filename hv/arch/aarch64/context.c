/*
 * Load and put: a vCPU's architectural state between its pCPU's registers and
 * its struct vcpu_context (arch/context.h). Nothing else copies it. The
 * scheduler puts the vCPU it switches away from and loads the one it switches
 * to; the debugger reads and writes only put vCPUs.
 */
#include "hv.h"
#include "lib.h"
#include "gic.h"
#include "debug.h"
#include "sched.h"
#include "arch/sysreg.h"

enum context_feature { CTX_ALWAYS, CTX_PAUTH, CTX_RAS, CTX_CSV2_2 };

static struct {
	u32 features; /* bit per enum context_feature this CPU has */
} context;

#define CNT_CTL_ENABLE BIT(0)

void context_init(void)
{
	u64 isar1 = sysreg_read(id_aa64isar1_el1), isar2 = sysreg_read(S3_0_C0_C6_2);
	u64 pfr0 = sysreg_read(id_aa64pfr0_el1);

	context.features = BIT(CTX_ALWAYS);
	/* Address (APA/API/APA3) or generic (GPA/GPI/GPA3) authentication. */
	if (FIELD(isar1, 7, 4) || FIELD(isar1, 11, 8) || FIELD(isar1, 27, 24) || FIELD(isar1, 31, 28) ||
	    FIELD(isar2, 15, 12) || FIELD(isar2, 11, 8))
		context.features |= BIT(CTX_PAUTH);
	if (FIELD(pfr0, 31, 28))
		context.features |= BIT(CTX_RAS);
	/*
	 * SCXTNUM_EL0/EL1 (FEAT_CSV2_2 or CSV2_1p2) are the guest's while each
	 * vCPU has a pCPU (HCR_EL2.EnSCXT, vcpu.c). While vCPUs share pCPUs they
	 * are neither switched nor shown (sysreg.c): EnSCXT stays clear, and the
	 * guest's accesses trap and are UNDEFINED, as under KVM.
	 */
	if ((FIELD(pfr0, 59, 56) >= 2 || (FIELD(pfr0, 59, 56) == 1 && FIELD(sysreg_read(id_aa64pfr1_el1), 35, 32) >= 2)) &&
	    !sched_shared)
		context.features |= BIT(CTX_CSV2_2);
}

bool context_switches_scxtnum(void)
{
	return context.features & BIT(CTX_CSV2_2);
}

int context_slot(u32 enc)
{
#define CTX_ENC(name, reg, op0, op1, crn, crm, op2, feat)                                    \
	if (enc == SYSREG_ENC(op0, op1, crn, crm, op2) && (context.features & BIT(feat))) \
		return CTX_##name;
	CONTEXT_REGS(CTX_ENC)
#undef CTX_ENC
	return -1;
}

void context_reset(struct vcpu *v, u64 entry, u64 x0)
{
	struct vcpu_context *c = &v->ctx;
	u32 enabled = c->ppi_enabled; /* a redistributor's enables outlive a CPU_OFF */

	memset(c, 0, sizeof(*c));
	c->ppi_enabled = enabled;
	memset(v->regs, 0, sizeof(*v->regs));
	v->regs->x[0] = x0;
	c->pc = entry;
	c->pstate = SPSR_MODE_EL1H | SPSR_DAIF;
	c->el1[CTX_SCTLR_EL1] = SCTLR_EL1_RES1; /* MMU and caches off */
	c->fp_dirty = true;
	c->pauth_live = !sched_shared;
	v->dbg.mdscr_guest = 0;
}

static void fp_save(struct vcpu_context *c)
{
	asm volatile("stp q0, q1, [%0, #0]\n stp q2, q3, [%0, #32]\n stp q4, q5, [%0, #64]\n"
		     "stp q6, q7, [%0, #96]\n stp q8, q9, [%0, #128]\n stp q10, q11, [%0, #160]\n"
		     "stp q12, q13, [%0, #192]\n stp q14, q15, [%0, #224]\n stp q16, q17, [%0, #256]\n"
		     "stp q18, q19, [%0, #288]\n stp q20, q21, [%0, #320]\n stp q22, q23, [%0, #352]\n"
		     "stp q24, q25, [%0, #384]\n stp q26, q27, [%0, #416]\n stp q28, q29, [%0, #448]\n"
		     "stp q30, q31, [%0, #480]\n" ::"r"(c->vregs) : "memory");
	c->fpsr = sysreg_read(fpsr);
	c->fpcr = sysreg_read(fpcr);
}

static void fp_load(const struct vcpu_context *c)
{
	asm volatile("ldp q0, q1, [%0, #0]\n ldp q2, q3, [%0, #32]\n ldp q4, q5, [%0, #64]\n"
		     "ldp q6, q7, [%0, #96]\n ldp q8, q9, [%0, #128]\n ldp q10, q11, [%0, #160]\n"
		     "ldp q12, q13, [%0, #192]\n ldp q14, q15, [%0, #224]\n ldp q16, q17, [%0, #256]\n"
		     "ldp q18, q19, [%0, #288]\n ldp q20, q21, [%0, #320]\n ldp q22, q23, [%0, #352]\n"
		     "ldp q24, q25, [%0, #384]\n ldp q26, q27, [%0, #416]\n ldp q28, q29, [%0, #448]\n"
		     "ldp q30, q31, [%0, #480]\n" ::"r"(c->vregs) : "memory");
	sysreg_write(fpsr, c->fpsr);
	sysreg_write(fpcr, c->fpcr);
}

/*
 * The hypervisor is built with -mgeneral-regs-only, and CPTR_EL2.TFP may be
 * set (the guest's fp trap class, or the lazy switch below): FP/SIMD is
 * reachable at EL2 only while it is lifted here. Returns CPTR_EL2 as it was.
 */
static u64 fp_access_on(void)
{
	u64 cptr = sysreg_read(cptr_el2);

	sysreg_write(cptr_el2, cptr & ~CPTR_TFP);
	isb();
	return cptr;
}

/*
 * FP/SIMD is switched lazily. A pCPU's FP/SIMD registers hold the state of
 * its fp_owner, which is the vCPU that last used them there, and a vCPU
 * loaded on a pCPU that holds another's runs with CPTR_EL2.TFP set
 * (trap_apply). Its first FP/SIMD instruction traps here: the owner's state
 * is saved, its own is loaded and the trap lifted. A vCPU in a WFI idle loop
 * never pays for it, and a vCPU alone on its pCPU stays the owner, so its SVE
 * registers' upper bits are never cut by a reload. Where ctx.fp_dirty says
 * the context is newer than the registers (GDB wrote them, or CPU_ON reset
 * them), the registers are not saved over it.
 */
void context_fp_claim(struct vcpu *v)
{
	struct pcpu *cpu = vcpu_pcpu(v);
	struct vcpu *owner = cpu->fp_owner;
	u64 was = fp_access_on();

	if (owner != v) {
		if (owner && !owner->ctx.fp_dirty)
			fp_save(&owner->ctx);
		fp_load(&v->ctx);
		v->ctx.fp_dirty = false;
		cpu->fp_owner = v;
	}
	/* Lifted for the guest too, until trap_apply re-arms it at the next load. */
	sysreg_write(cptr_el2, was & ~CPTR_TFP);
	isb();
}

void context_fp_flush(struct pcpu *cpu)
{
	struct vcpu *owner = cpu->fp_owner;
	u64 cptr;

	if (!owner || owner->ctx.fp_dirty)
		return;
	cptr = fp_access_on();
	fp_save(&owner->ctx);
	sysreg_write(cptr_el2, cptr);
	isb();
}

/*
 * The registers move two at a time: two mrs and one stp at a put, one ldp and
 * two msr at a load, down a list in its slots' order (a CONTEXT_REGS group,
 * or CONTEXT_EL2_REGS). These assembler macros do the pairing; an odd list
 * ends with one str at a put, and at a load reads the slot after its last,
 * unused. Each move defines them and purges them again, so that they are
 * there wherever the compiler puts its code (link-time optimization splits
 * the program into parts, each assembled alone).
 */
#define CTX_SAVE_MACROS                      \
	".macro ctx_save reg, p, a, b\n"     \
	" .if ctx_odd\n"                     \
	"  mrs \\b, \\reg\n"                 \
	"  stp \\a, \\b, [\\p], #16\n"       \
	"  .set ctx_odd, 0\n"                \
	" .else\n"                           \
	"  mrs \\a, \\reg\n"                 \
	"  .set ctx_odd, 1\n"                \
	" .endif\n"                          \
	".endm\n"                            \
	".macro ctx_save_end p, a\n"         \
	" .if ctx_odd\n"                     \
	"  str \\a, [\\p], #8\n"             \
	" .endif\n"                          \
	".endm\n"
#define CTX_LOAD_MACROS                      \
	".macro ctx_load reg, p, a, b\n"     \
	" .if ctx_odd\n"                     \
	"  msr \\reg, \\b\n"                 \
	"  .set ctx_odd, 0\n"                \
	" .else\n"                           \
	"  ldp \\a, \\b, [\\p], #16\n"       \
	"  msr \\reg, \\a\n"                 \
	"  .set ctx_odd, 1\n"                \
	" .endif\n"                          \
	".endm\n"

#define CTX_SAVE_ONE(name, reg, ...) "ctx_save " #reg ", %0, %1, %2\n"
#define CTX_LOAD_ONE(name, reg, ...) "ctx_load " #reg ", %0, %1, %2\n"
#define CTX_SAVE(list, first)                                                                        \
	do {                                                                                         \
		u64 *p_ = (first), a_, b_;                                                           \
		asm volatile(CTX_SAVE_MACROS ".set ctx_odd, 0\n" list(CTX_SAVE_ONE)                 \
			     "ctx_save_end %0, %1\n.purgem ctx_save\n.purgem ctx_save_end\n"          \
			     : "+r"(p_), "=&r"(a_), "=&r"(b_)::"memory");                             \
	} while (0)
#define CTX_LOAD(list, first)                                                                        \
	do {                                                                                         \
		u64 *p_ = (first), a_, b_;                                                           \
		asm volatile(CTX_LOAD_MACROS ".set ctx_odd, 0\n" list(CTX_LOAD_ONE) ".purgem ctx_load\n"     \
			     : "+r"(p_), "=&r"(a_), "=&r"(b_)::"memory");                             \
	} while (0)

/*
 * The pointer-authentication keys are switched lazily too, as KVM does. While
 * vCPUs share pCPUs, a vCPU runs with HCR_EL2.API and APK clear (trap_apply)
 * until it first uses pointer authentication: a PAC instruction (EC 0x09) or
 * a key register access traps here, its keys are loaded and it is live from
 * then on until its next CPU_ON, its keys moving at every put and load. A
 * vCPU that never signs a pointer (a guest built without it) never pays for
 * ten registers twice per switch; one that has not yet cannot read another's.
 */
bool context_is_pauth_key(u32 enc)
{
	int slot = context_slot(enc);

	return slot >= CTX_APIAKEYLO_EL1 && slot <= CTX_APGAKEYHI_EL1;
}

void context_pauth_claim(struct vcpu *v)
{
	struct vcpu_context *c = &v->ctx;

	CTX_LOAD(CONTEXT_REGS_PAUTH, &c->el1[CTX_APIAKEYLO_EL1]);
	c->pauth_live = true;
	sysreg_write(hcr_el2, sysreg_read(hcr_el2) | HCR_API | HCR_APK);
	isb();
}

/*
 * The guest's PC and PSTATE, which its hypervisor code keeps in ELR/SPSR_EL2
 * while it handles a trap, move at every put and load. The trap's syndrome
 * moves only at a park for the debugger (context_park_trap), the one switch
 * made in the middle of a handler that reads it afterwards (an MMIO access
 * caught before it is emulated); a WFI's block and a time slice's switch come
 * after their handler has read all it needs.
 */
#define CONTEXT_EL2_REGS(X) X(pc, elr_el2) X(pstate, spsr_el2)
#define CONTEXT_TRAP_REGS(X) X(esr, esr_el2) X(far, far_el2) X(hpfar, hpfar_el2)
_Static_assert(__builtin_offsetof(struct vcpu_context, pstate) == __builtin_offsetof(struct vcpu_context, pc) + 8,
	       "CONTEXT_EL2_REGS in a row");
_Static_assert(__builtin_offsetof(struct vcpu_context, hpfar) == __builtin_offsetof(struct vcpu_context, esr) + 16,
	       "CONTEXT_TRAP_REGS in a row");

void context_park_trap(struct vcpu *v)
{
	CTX_SAVE(CONTEXT_TRAP_REGS, &v->ctx.esr);
}

void context_unpark_trap(struct vcpu *v)
{
	CTX_LOAD(CONTEXT_TRAP_REGS, &v->ctx.esr);
}

/* Each group of CONTEXT_REGS, where this CPU has its registers. */
#define CTX_EACH_GROUP(move, c, features)                                                   \
	do {                                                                                \
		move(CONTEXT_REGS_ALWAYS, &(c)->el1[0]);                                    \
		if ((features) & BIT(CTX_RAS))                                              \
			move(CONTEXT_REGS_RAS, &(c)->el1[CTX_DISR_EL1]);                    \
		if ((features) & BIT(CTX_CSV2_2))                                           \
			move(CONTEXT_REGS_CSV2_2, &(c)->el1[CTX_SCXTNUM_EL0]);              \
		if (((features) & BIT(CTX_PAUTH)) && (c)->pauth_live)                       \
			move(CONTEXT_REGS_PAUTH, &(c)->el1[CTX_APIAKEYLO_EL1]);             \
	} while (0)

#define el1_write(reg, val) asm volatile("msr " #reg ", %0" ::"r"((u64)(val)))

void context_put(struct vcpu *v)
{
	struct vcpu_context *c = &v->ctx;
	u32 features = context.features; /* read once: the moves clobber memory */

	CTX_SAVE(CONTEXT_EL2_REGS, &c->pc);
	CTX_EACH_GROUP(CTX_SAVE, c, features);
	/* Its list registers are read back while its timers still drive their
	 * lines (a pending one is not taken for a line gone quiet); then the
	 * timers stop asserting them: the next vCPU's are its own. */
	if (v->loaded) /* else its WFI's look put it (vgic_wfi_put_unless_woken) */
		vgic_cpu_put(v);
	el1_write(cntv_ctl_el0, 0);
	el1_write(S3_3_C14_C2_1, 0);
}

void context_load(struct vcpu *v)
{
	struct vcpu_context *c = &v->ctx;
	struct pcpu *cpu = vcpu_pcpu(v);
	u32 features = context.features; /* read once: the moves clobber memory */

	/*
	 * The vCPUs of one guest share a VMID: what this pCPU's TLB and
	 * instruction cache hold of another vCPU's translations (its TTBRs,
	 * its ASIDs) must not be used for this one.
	 */
	if (cpu->last_loaded != v) {
		asm volatile("tlbi vmalle1\n dsb nsh\n ic iallu\n dsb nsh" ::: "memory");
		cpu->last_loaded = v;
	}
	CTX_EACH_GROUP(CTX_LOAD, c, features);
	CTX_LOAD(CONTEXT_EL2_REGS, &c->pc);
	el1_write(vpidr_el2, v->vpidr);
	el1_write(vmpidr_el2, v->vmpidr);
	/* Its own registers, which GDB wrote: loaded now (the lazy trap is for
	 * registers another vCPU holds). */
	if (cpu->fp_owner == v && c->fp_dirty) {
		u64 cptr = fp_access_on();
		fp_load(c);
		c->fp_dirty = false;
		sysreg_write(cptr_el2, cptr);
	}
	vgic_cpu_load(v); /* v->loaded from here on */
	trap_apply(v);
	debug_load(v);
	/* No ISB: switch_to() programs the EL2 timer next, and ends that with one. */
}
