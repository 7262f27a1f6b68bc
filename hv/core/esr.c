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
