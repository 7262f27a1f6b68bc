/*
 * ESR_EL2: exception classes and the syndrome fields the hypervisor decodes.
 * Field names follow the Arm ARM (D19.2.37 ESR_EL2); everything here is pure
 * so the host unit tests exercise the same decoders the hypervisor runs.
 */
#ifndef TRAPVISOR_ESR_H
#define TRAPVISOR_ESR_H

#include "trapvisor/types.h"

#define ESR_EC(esr) ((unsigned)FIELD(esr, 31, 26))
#define ESR_IL BIT(25) /* 32-bit instruction trapped */
#define ESR_ISS(esr) ((u32)FIELD(esr, 24, 0))
#define ESR_EC_SHIFT 26

enum esr_ec {
	EC_UNKNOWN = 0x00,
	EC_WFX = 0x01,
	EC_FP_ASIMD = 0x07,
	EC_PAC = 0x09,
	EC_ILLEGAL = 0x0e,
	EC_SVC64 = 0x15,
	EC_HVC64 = 0x16,
	EC_SMC64 = 0x17,
	EC_SYS64 = 0x18,
	EC_SVE = 0x19,
	EC_SME = 0x1d,
	EC_IABT_LOW = 0x20,
	EC_IABT_CUR = 0x21,
	EC_PC_ALIGN = 0x22,
	EC_DABT_LOW = 0x24,
	EC_DABT_CUR = 0x25,
	EC_SP_ALIGN = 0x26,
	EC_SERROR = 0x2f,
	EC_BREAKPT_LOW = 0x30,
	EC_BREAKPT_CUR = 0x31,
	EC_SOFTSTP_LOW = 0x32,
	EC_SOFTSTP_CUR = 0x33,
	EC_WATCHPT_LOW = 0x34,
	EC_WATCHPT_CUR = 0x35,
	EC_BRK64 = 0x3c,
	EC_MAX = 0x3f,
};

const char *esr_ec_name(unsigned ec);

/* ISS for EC_WFX: TI[1:0] says which of WFI/WFE/WFIT/WFET trapped. */
#define ESR_WFX_TI(esr) ((unsigned)FIELD(esr, 1, 0))
#define WFX_TI_WFI 0
#define WFX_TI_WFE 1
#define WFX_TI_WFIT 2 /* FEAT_WFxT: WFI with a deadline on CNTVCT_EL0 in Rt */
#define ESR_WFX_RV BIT(2)
#define ESR_WFX_RT(esr) ((unsigned)FIELD(esr, 9, 5))

/* ISS for EC_HVC64/EC_SMC64: the instruction's 16-bit immediate. */
#define ESR_HVC_IMM(esr) ((u16)FIELD(esr, 15, 0))

/*
 * ISS for EC_SYS64 (trapped MSR/MRS/SYS): Op0[21:20] Op2[19:17] Op1[16:14]
 * CRn[13:10] Rt[9:5] CRm[4:1] Direction[0] (1 = read, MRS).
 */
#define SYSREG_ENC(op0, op1, crn, crm, op2) \
	((u32)(((op0) << 14) | ((op1) << 11) | ((crn) << 7) | ((crm) << 3) | (op2)))
#define SYSREG_ENC_OP0(enc) ((unsigned)FIELD(enc, 15, 14))
#define SYSREG_ENC_OP1(enc) ((unsigned)FIELD(enc, 13, 11))
#define SYSREG_ENC_CRN(enc) ((unsigned)FIELD(enc, 10, 7))
#define SYSREG_ENC_CRM(enc) ((unsigned)FIELD(enc, 6, 3))
#define SYSREG_ENC_OP2(enc) ((unsigned)FIELD(enc, 2, 0))

static inline u32 esr_sys64_enc(u64 esr)
{
	return SYSREG_ENC(FIELD(esr, 21, 20), FIELD(esr, 16, 14), FIELD(esr, 13, 10),
			  FIELD(esr, 4, 1), FIELD(esr, 19, 17));
}
#define ESR_SYS64_RT(esr) ((unsigned)FIELD(esr, 9, 5))
#define ESR_SYS64_READ(esr) ((bool)FIELD(esr, 0, 0))

/*
 * ISS for data aborts (EC_DABT_LOW): ISV[24] SAS[23:22] SSE[21] SRT[20:16]
 * SF[15] AR[14] VNCR[13] FnV[10] EA[9] CM[8] S1PTW[7] WnR[6] DFSC[5:0].
 */
#define ESR_DABT_ISV BIT(24)
#define ESR_DABT_SAS(esr) ((unsigned)FIELD(esr, 23, 22))
#define ESR_DABT_SSE BIT(21)
#define ESR_DABT_SRT(esr) ((unsigned)FIELD(esr, 20, 16))
#define ESR_DABT_SF BIT(15)
#define ESR_DABT_CM BIT(8)
#define ESR_DABT_S1PTW BIT(7)
#define ESR_DABT_WNR BIT(6)
#define ESR_xABT_FSC(esr) ((unsigned)FIELD(esr, 5, 0))
#define FSC_SYNC_EXTERNAL 0x10 /* DFSC/IFSC: synchronous external abort */
#define FSC_ALIGNMENT 0x21     /* DFSC: alignment fault */
#define FSC_IS_TRANSLATION(fsc) (((fsc) & 0x3c) == 0x04)
#define FSC_IS_PERMISSION(fsc) (((fsc) & 0x3c) == 0x0c)
#define FSC_IS_ACCESS_FLAG(fsc) (((fsc) & 0x3c) == 0x08)

/*
 * One decoded access, shared by MMIO (stage-2 data abort) and system-register
 * emulation (trapped MSR/MRS): the emulation, the trap event and the
 * catchpoint filters all read this one record.
 */
enum access_kind { ACCESS_MMIO, ACCESS_SYSREG };

struct emul_access {
	u64 addr;	  /* IPA for MMIO, SYSREG_ENC() for a system register */
	u64 value;	  /* written value, or the value the read returned */
	u8 kind;	  /* enum access_kind */
	u8 width;	  /* bytes: 1, 2, 4 or 8 */
	u8 reg;		  /* general register Rt; 31 is XZR */
	bool write;
	bool sign_extend; /* SSE: sign-extend a narrow load */
	bool reg64;	  /* SF: Rt is a 64-bit X register */
};

/* Decode a stage-2 data abort's syndrome. False when ISV is clear (no syndrome). */
bool esr_decode_dabt(u64 esr, u64 ipa, struct emul_access *acc);
/* Decode a trapped MSR/MRS. */
void esr_decode_sys64(u64 esr, struct emul_access *acc);
/* Value a load places in Rt, after width, sign extension and SF. */
u64 emul_access_load_result(const struct emul_access *acc, u64 raw);
/* A value of `width` bytes with its bytes in the other order (a big-endian access). */
u64 emul_access_byte_swap(u64 value, unsigned width);

/*
 * The memory an A64 load, store, atomic or DC ZVA accesses: every form a data
 * abort can come from, with or without a valid syndrome (pairs, writeback,
 * SIMD&FP registers and structures, exclusives, CAS, LSE atomics, literals);
 * not SVE, SME or the MTE tag forms. False for anything else.
 */
struct insn_regs {
	const u64 *x; /* x0-x30 */
	u64 sp;	      /* the stack pointer Rn = 31 names at the instruction's EL */
	u64 pc;	      /* the instruction's address */
	u64 dczid;    /* DCZID_EL0 */
};
struct insn_mem_access {
	u64 va;
	unsigned size; /* bytes */
	bool read, write;
};
bool insn_mem_access(u32 insn, const struct insn_regs *r, struct insn_mem_access *out);

#endif
