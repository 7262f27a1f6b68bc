/*
 * A vCPU's architectural state while it is not loaded on its pCPU: what load
 * and put (context.c) move between the hardware and memory, and what the
 * debugger reads and writes of a vCPU that is stopped.
 *
 * Its x0-x30 are not here: they are in its trap frame at all times.
 */
#ifndef ARCH_CONTEXT_H
#define ARCH_CONTEXT_H

#include "trapvisor/types.h"

/*
 * The guest's EL1 and EL0 system registers that the hardware has one of per
 * CPU, by the architecture's list (D1 and D13 of the Arm ARM: the EL1
 * translation regime, exception state, thread IDs, the EL1 timers'
 * controls, the pointer-authentication keys), each with its encoding, so
 * GDB's view of a register and the switch use the same slot. The debug
 * registers are not here (debug.c keeps the guest's); neither are ZCR_EL1 or
 * SME state, which the guest does not see while vCPUs share pCPUs.
 *   X(slot name, register as the assembler spells it, op0, op1, CRn, CRm, op2, feature)
 */
#define CONTEXT_REGS_ALWAYS(X)                                        \
	X(SCTLR_EL1, sctlr_el1, 3, 0, 1, 0, 0, CTX_ALWAYS)            \
	X(ACTLR_EL1, actlr_el1, 3, 0, 1, 0, 1, CTX_ALWAYS)            \
	X(CPACR_EL1, cpacr_el1, 3, 0, 1, 0, 2, CTX_ALWAYS)            \
	X(TTBR0_EL1, ttbr0_el1, 3, 0, 2, 0, 0, CTX_ALWAYS)            \
	X(TTBR1_EL1, ttbr1_el1, 3, 0, 2, 0, 1, CTX_ALWAYS)            \
	X(TCR_EL1, tcr_el1, 3, 0, 2, 0, 2, CTX_ALWAYS)                \
	X(SPSR_EL1, spsr_el1, 3, 0, 4, 0, 0, CTX_ALWAYS)              \
	X(ELR_EL1, elr_el1, 3, 0, 4, 0, 1, CTX_ALWAYS)                \
	X(SP_EL0, sp_el0, 3, 0, 4, 1, 0, CTX_ALWAYS)                  \
	X(SP_EL1, sp_el1, 3, 4, 4, 1, 0, CTX_ALWAYS)                  \
	X(AFSR0_EL1, afsr0_el1, 3, 0, 5, 1, 0, CTX_ALWAYS)            \
	X(AFSR1_EL1, afsr1_el1, 3, 0, 5, 1, 1, CTX_ALWAYS)            \
	X(ESR_EL1, esr_el1, 3, 0, 5, 2, 0, CTX_ALWAYS)                \
	X(FAR_EL1, far_el1, 3, 0, 6, 0, 0, CTX_ALWAYS)                \
	X(PAR_EL1, par_el1, 3, 0, 7, 4, 0, CTX_ALWAYS)                \
	X(MAIR_EL1, mair_el1, 3, 0, 10, 2, 0, CTX_ALWAYS)             \
	X(AMAIR_EL1, amair_el1, 3, 0, 10, 3, 0, CTX_ALWAYS)           \
	X(VBAR_EL1, vbar_el1, 3, 0, 12, 0, 0, CTX_ALWAYS)             \
	X(CONTEXTIDR_EL1, contextidr_el1, 3, 0, 13, 0, 1, CTX_ALWAYS) \
	X(TPIDR_EL1, tpidr_el1, 3, 0, 13, 0, 4, CTX_ALWAYS)           \
	X(CNTKCTL_EL1, cntkctl_el1, 3, 0, 14, 1, 0, CTX_ALWAYS)       \
	X(CSSELR_EL1, csselr_el1, 3, 2, 0, 0, 0, CTX_ALWAYS)          \
	X(TPIDR_EL0, tpidr_el0, 3, 3, 13, 0, 2, CTX_ALWAYS)           \
	X(TPIDRRO_EL0, tpidrro_el0, 3, 3, 13, 0, 3, CTX_ALWAYS)       \
	X(MDCCINT_EL1, mdccint_el1, 2, 0, 0, 2, 0, CTX_ALWAYS)        \
	X(CNTV_CVAL_EL0, cntv_cval_el0, 3, 3, 14, 3, 2, CTX_ALWAYS)   \
	X(CNTV_CTL_EL0, cntv_ctl_el0, 3, 3, 14, 3, 1, CTX_ALWAYS)     \
	X(CNTP_CVAL_EL0, S3_3_C14_C2_2, 3, 3, 14, 2, 2, CTX_ALWAYS)   \
	X(CNTP_CTL_EL0, S3_3_C14_C2_1, 3, 3, 14, 2, 1, CTX_ALWAYS)
#define CONTEXT_REGS_RAS(X)                                 \
	X(DISR_EL1, S3_0_C12_C1_1, 3, 0, 12, 1, 1, CTX_RAS)
#define CONTEXT_REGS_CSV2_2(X)                                    \
	X(SCXTNUM_EL0, S3_3_C13_C0_7, 3, 3, 13, 0, 7, CTX_CSV2_2) \
	X(SCXTNUM_EL1, S3_0_C13_C0_7, 3, 0, 13, 0, 7, CTX_CSV2_2)
#define CONTEXT_REGS_PAUTH(X)                                    \
	X(APIAKEYLO_EL1, S3_0_C2_C1_0, 3, 0, 2, 1, 0, CTX_PAUTH) \
	X(APIAKEYHI_EL1, S3_0_C2_C1_1, 3, 0, 2, 1, 1, CTX_PAUTH) \
	X(APIBKEYLO_EL1, S3_0_C2_C1_2, 3, 0, 2, 1, 2, CTX_PAUTH) \
	X(APIBKEYHI_EL1, S3_0_C2_C1_3, 3, 0, 2, 1, 3, CTX_PAUTH) \
	X(APDAKEYLO_EL1, S3_0_C2_C2_0, 3, 0, 2, 2, 0, CTX_PAUTH) \
	X(APDAKEYHI_EL1, S3_0_C2_C2_1, 3, 0, 2, 2, 1, CTX_PAUTH) \
	X(APDBKEYLO_EL1, S3_0_C2_C2_2, 3, 0, 2, 2, 2, CTX_PAUTH) \
	X(APDBKEYHI_EL1, S3_0_C2_C2_3, 3, 0, 2, 2, 3, CTX_PAUTH) \
	X(APGAKEYLO_EL1, S3_0_C2_C3_0, 3, 0, 2, 3, 0, CTX_PAUTH) \
	X(APGAKEYHI_EL1, S3_0_C2_C3_1, 3, 0, 2, 3, 1, CTX_PAUTH)
/* All of them, in their slots' order: the groups by feature, each contiguous. */
#define CONTEXT_REGS(X) CONTEXT_REGS_ALWAYS(X) CONTEXT_REGS_RAS(X) CONTEXT_REGS_CSV2_2(X) CONTEXT_REGS_PAUTH(X)

enum context_reg {
#define CTX_SLOT(name, reg, op0, op1, crn, crm, op2, feat) CTX_##name,
	CONTEXT_REGS(CTX_SLOT)
#undef CTX_SLOT
	CTX_REG_COUNT
};

struct vcpu_context {
	u64 el1[CTX_REG_COUNT];	     /* by enum context_reg */
	u64 pc, pstate;		     /* ELR_EL2, SPSR_EL2 */
	u64 esr, far, hpfar;	     /* the trap its hypervisor code was handling when it last parked */
	u8 vregs[32][16] __attribute__((aligned(16)));
	u64 fpsr, fpcr;
	bool fp_dirty;		     /* newer than the registers (GDB wrote it, CPU_ON reset it) */
	/* Its pointer-authentication keys move at its put and load: it has used
	 * them since its CPU_ON, or it is alone on its pCPU (context.c). */
	bool pauth_live;
	/* Its private physical interrupts that back the guest's (the timers'),
	 * which the hardware holds for the loaded vCPU only: enabled, active. */
	u32 ppi_enabled, ppi_active;
};

struct vcpu;
/* Once, at boot: which of the optional registers this CPU has. */
void context_init(void);
/* Whether the guest has SCXTNUM_EL0/EL1 (only while each vCPU has a pCPU). */
bool context_switches_scxtnum(void);
/* The slot of system register enc, or -1 if the context has none for it. */
int context_slot(u32 enc);
/* A vCPU that was never loaded: as out of reset (D1.9), entering at entry with x0. */
void context_reset(struct vcpu *v, u64 entry, u64 x0);
/* On v's pCPU, v loaded: its state into v->ctx. The virtual CPU interface too. */
void context_put(struct vcpu *v);
/* On v's pCPU: v->ctx into the hardware, but FP/SIMD, which is lazy. */
void context_load(struct vcpu *v);
/* v, loaded, used FP/SIMD with the lazy trap set: its registers in, the trap lifted. */
void context_fp_claim(struct vcpu *v);
/* v parks for the debugger in the middle of a trap: its syndrome (ESR, FAR,
 * HPFAR_EL2) into the context, and back once it is loaded again. */
void context_park_trap(struct vcpu *v);
void context_unpark_trap(struct vcpu *v);
/* v, loaded, used pointer authentication with its keys not live: loaded now. */
void context_pauth_claim(struct vcpu *v);
/* Whether system register enc is one of the pointer-authentication keys. */
bool context_is_pauth_key(u32 enc);
/* The debugger stops: cpu's FP/SIMD registers into their owner's context. */
struct pcpu;
void context_fp_flush(struct pcpu *cpu);

#endif
