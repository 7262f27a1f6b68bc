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
	if (FIELD(pfr0, 59, 56) >= 2)
		context.features |= BIT(CTX_CSV2_2);
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
 * set for the guest's fp trap class: FP/SIMD is reachable at EL2 only while
 * it is lifted here.
 */
static void fp_access(bool on)
{
	u64 cptr = sysreg_read(cptr_el2);

	sysreg_write(cptr_el2, on ? cptr & ~CPTR_TFP : cptr);
	isb();
}

void context_put(struct vcpu *v)
{
	struct vcpu_context *c = &v->ctx;
	u64 cptr = sysreg_read(cptr_el2);

	c->pc = sysreg_read(elr_el2);
	c->pstate = sysreg_read(spsr_el2);
	c->esr = sysreg_read(esr_el2);
	c->far = sysreg_read(far_el2);
	c->hpfar = sysreg_read(hpfar_el2);
#define CTX_SAVE(name, reg, op0, op1, crn, crm, op2, feat) \
	if (feat == CTX_ALWAYS || (context.features & BIT(feat)))  \
		c->el1[CTX_##name] = sysreg_read(reg);
	CONTEXT_REGS(CTX_SAVE)
#undef CTX_SAVE
	/* Its list registers are read back while its timers still drive their
	 * lines (a pending one is not taken for a line gone quiet); then the
	 * timers stop asserting them: the next vCPU's are its own. */
	vgic_cpu_put(v);
	sysreg_write(cntv_ctl_el0, 0);
	sysreg_write(S3_3_C14_C2_1, 0);
	sysreg_write(cptr_el2, cptr & ~CPTR_TFP);
	isb();
	fp_save(c);
	sysreg_write(cptr_el2, cptr);
	c->fp_dirty = false;
}

void context_load(struct vcpu *v)
{
	struct vcpu_context *c = &v->ctx;
	struct pcpu *cpu = vcpu_pcpu(v);

	/*
	 * The vCPUs of one guest share a VMID: what this pCPU's TLB and
	 * instruction cache hold of another vCPU's translations (its TTBRs,
	 * its ASIDs) must not be used for this one.
	 */
	if (cpu->last_loaded != v) {
		asm volatile("tlbi vmalle1\n dsb nsh\n ic iallu\n dsb nsh" ::: "memory");
		cpu->last_loaded = v;
	}
#define CTX_LOAD(name, reg, op0, op1, crn, crm, op2, feat) \
	if (feat == CTX_ALWAYS || (context.features & BIT(feat)))  \
		sysreg_write(reg, c->el1[CTX_##name]);
	CONTEXT_REGS(CTX_LOAD)
#undef CTX_LOAD
	sysreg_write(elr_el2, c->pc);
	sysreg_write(spsr_el2, c->pstate);
	sysreg_write(esr_el2, c->esr);
	sysreg_write(far_el2, c->far);
	sysreg_write(hpfar_el2, c->hpfar);
	sysreg_write(vpidr_el2, v->vpidr);
	sysreg_write(vmpidr_el2, v->vmpidr);
	/* A vCPU alone on its pCPU finds its FP/SIMD (and SVE) registers as it
	 * left them, unless GDB wrote them: reloading only the low 128 bits of
	 * each would clear the upper bits of its SVE registers. */
	if (cpu->placed > 1 || c->fp_dirty) {
		fp_access(true);
		fp_load(c);
		c->fp_dirty = false;
	}
	vgic_cpu_load(v); /* v->loaded from here on */
	trap_apply(v);
	debug_load(v);
	isb();
}
