/* Syndrome decoding shared by MMIO and system-register emulation. */
#include "trapvisor/esr.h"

static const char *const ec_names[EC_MAX + 1] = {
	[EC_UNKNOWN] = "unknown",	  [EC_WFX] = "wfx",
	[EC_FP_ASIMD] = "fp/simd",	  [EC_PAC] = "pac",
	[EC_ILLEGAL] = "illegal-state",	  [EC_SVC64] = "svc",
	[EC_HVC64] = "hvc",		  [EC_SMC64] = "smc",
	[EC_SYS64] = "sysreg",		  [EC_SVE] = "sve",
	[EC_SME] = "sme",		  [EC_IABT_LOW] = "iabt-lower",
	[EC_IABT_CUR] = "iabt-el2",	  [EC_PC_ALIGN] = "pc-align",
	[EC_DABT_LOW] = "dabt-lower",	  [EC_DABT_CUR] = "dabt-el2",
	[EC_SP_ALIGN] = "sp-align",	  [EC_SERROR] = "serror",
	[EC_BREAKPT_LOW] = "hw-break-lower", [EC_BREAKPT_CUR] = "hw-break-el2",
	[EC_SOFTSTP_LOW] = "step-lower",  [EC_SOFTSTP_CUR] = "step-el2",
	[EC_WATCHPT_LOW] = "watch-lower", [EC_WATCHPT_CUR] = "watch-el2",
	[EC_BRK64] = "brk",
};

const char *esr_ec_name(unsigned ec)
{
	if (ec > EC_MAX || !ec_names[ec])
		return "reserved";
	return ec_names[ec];
}

bool esr_decode_dabt(u64 esr, u64 ipa, struct emul_access *acc)
{
	if (!(esr & ESR_DABT_ISV))
		return false;
	acc->kind = ACCESS_MMIO;
	acc->addr = ipa;
	acc->width = 1u << ESR_DABT_SAS(esr);
	acc->write = esr & ESR_DABT_WNR;
	acc->reg = ESR_DABT_SRT(esr);
	acc->sign_extend = esr & ESR_DABT_SSE;
	acc->reg64 = esr & ESR_DABT_SF;
	acc->value = 0;
	return true;
}

void esr_decode_sys64(u64 esr, struct emul_access *acc)
{
	acc->kind = ACCESS_SYSREG;
	acc->addr = esr_sys64_enc(esr);
	acc->width = 8;
	acc->write = !ESR_SYS64_READ(esr);
	acc->reg = ESR_SYS64_RT(esr);
	acc->sign_extend = false;
	acc->reg64 = true;
	acc->value = 0;
}

u64 emul_access_load_result(const struct emul_access *acc, u64 raw)
{
	unsigned bits = acc->width * 8;
	u64 v = bits >= 64 ? raw : raw & ((1ULL << bits) - 1);

	if (acc->sign_extend && bits < 64 && (v >> (bits - 1)) & 1)
		v |= ~0ULL << bits;
	/* A load into a W register zero-extends to 64 bits. */
	if (!acc->reg64)
		v &= 0xffffffffULL;
	return v;
}

u64 emul_access_byte_swap(u64 value, unsigned width)
{
	u64 out = 0;

	for (unsigned i = 0; i < width; i++)
		out |= ((value >> (8 * i)) & 0xff) << (8 * (width - 1 - i));
	return out;
}

static u64 sign_extend(u64 v, unsigned bits)
{
	return (u64)((s64)(v << (64 - bits)) >> (64 - bits));
}

/*
 * Encodings from the Arm ARM's "Loads and stores" index (C4.1.66): op0 bits
 * [31:28], bit 26 (V: SIMD&FP, never with a valid syndrome) and the bits
 * that select each class below.
 */
bool insn_ls_address(u32 insn, const u64 *x, u64 sp, u64 *va)
{
	unsigned size = FIELD(insn, 31, 30), rn = FIELD(insn, 9, 5);
	u64 base = rn == 31 ? sp : x[rn];

	if ((insn & 0x3f000000) == 0x39000000) { /* unsigned immediate, scaled: LDR Xt, [Xn, #imm] */
		*va = base + (FIELD(insn, 21, 10) << size);
		return true;
	}
	/* Unscaled (LDUR, [11:10] = 00) and unprivileged (LDTR, 10) immediates;
	 * 01 and 11 are the writeback forms, which have no syndrome. */
	if ((insn & 0x3f200400) == 0x38000000) {
		*va = base + sign_extend(FIELD(insn, 20, 12), 9);
		return true;
	}
	if ((insn & 0x3f200c00) == 0x38200800) { /* register offset: LDR Xt, [Xn, Xm{, ext #s}] */
		unsigned rm = FIELD(insn, 20, 16), option = FIELD(insn, 15, 13);
		u64 off = rm == 31 ? 0 : x[rm];
		switch (option) {
		case 2: off = (u32)off; break;		   /* UXTW */
		case 6: off = sign_extend(off, 32); break; /* SXTW */
		case 3: case 7: break;			   /* LSL / SXTX */
		default: return false;			   /* reserved */
		}
		*va = base + (FIELD(insn, 12, 12) ? off << size : off);
		return true;
	}
	if ((insn & 0x3f000000) == 0x08000000) { /* load/store exclusive and ordered: [Xn] */
		*va = base;
		return true;
	}
	if ((insn & 0x3f200c00) == 0x19000000) { /* LDAPUR/STLUR: [Xn, #simm9] */
		*va = base + sign_extend(FIELD(insn, 20, 12), 9);
		return true;
	}
	if ((insn & 0x3fe0fc00) == 0x38a0c000) { /* LDAPR: [Xn] */
		*va = base;
		return true;
	}
	return false;
}
