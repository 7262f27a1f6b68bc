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

static u64 base_reg(u32 insn, const struct insn_regs *r)
{
	unsigned rn = FIELD(insn, 9, 5);

	return rn == 31 ? r->sp : r->x[rn];
}

/* The single-register forms (C4.1.66, op0 x0x1, op2 0x/1x): LDR/STR and kin. */
static bool single_register(u32 insn, const struct insn_regs *r, struct insn_mem_access *out)
{
	unsigned size = FIELD(insn, 31, 30), opc = FIELD(insn, 23, 22);
	bool simd = insn & BIT(26);
	unsigned scale = simd && size == 0 && (opc & 2) ? 4 : size; /* a Q register: 16 bytes */
	u64 base = base_reg(insn, r);

	out->size = 1u << scale;
	if (!simd && !(insn & BIT(24)) && (insn & BIT(21)) && FIELD(insn, 11, 10) == 0) {
		/* Atomic memory operations, [Xn]: LDAPR (o3 = 1, opc = 100) only
		 * reads; LDADD, SWP and the rest also write. */
		out->va = base;
		out->read = true;
		out->write = FIELD(insn, 15, 12) != 0xc;
		return true;
	}
	if (!simd && size == 3 && opc == 2)
		return false; /* PRFM: no access */
	out->write = simd ? !(opc & 1) : opc == 0;
	out->read = !out->write;
	if (insn & BIT(24)) { /* unsigned immediate, scaled */
		out->va = base + (FIELD(insn, 21, 10) << scale);
		return true;
	}
	if (!(insn & BIT(21))) { /* imm9: unscaled, post-index (01), unprivileged, pre-index */
		out->va = FIELD(insn, 11, 10) == 1 ? base : base + sign_extend(FIELD(insn, 20, 12), 9);
		return true;
	}
	if (FIELD(insn, 11, 10) == 2) { /* register offset */
		unsigned rm = FIELD(insn, 20, 16), option = FIELD(insn, 15, 13);
		u64 off = rm == 31 ? 0 : r->x[rm];
		switch (option) {
		case 2: off = (u32)off; break;		   /* UXTW */
		case 6: off = sign_extend(off, 32); break; /* SXTW */
		case 3: case 7: break;			   /* LSL / SXTX */
		default: return false;			   /* reserved */
		}
		out->va = base + (FIELD(insn, 12, 12) ? off << scale : off);
		return true;
	}
	return false; /* LDRAA/LDRAB and what is not allocated */
}

/*
 * Encodings from the Arm ARM's index of loads and stores (C4.1.66); field
 * names are its own. What a stage-2 watchpoint must see of any access (ISV = 0
 * included), and where a trapped device access really starts.
 */
bool insn_mem_access(u32 insn, const struct insn_regs *r, struct insn_mem_access *out)
{
	u64 base = base_reg(insn, r);
	unsigned sz = FIELD(insn, 31, 30);

	out->read = out->write = false;
	if ((insn & 0x3f000000) == 0x08000000) { /* exclusive, ordered, CAS: [Xn] */
		bool pair = insn & BIT(21), cas = pair && (insn & BIT(23));
		out->va = base;
		if (cas) {
			out->size = 1u << sz;
		} else if (pair) { /* LDXP/STXP with bit 31 set, else CASP: two registers */
			out->size = 2u << (2 + FIELD(insn, 30, 30));
			cas = !(insn & BIT(31));
		} else {
			out->size = 1u << sz;
		}
		out->read = cas || (insn & BIT(22));
		out->write = cas || !(insn & BIT(22));
		return true;
	}
	if ((insn & 0x3a000000) == 0x28000000) { /* pairs: no-allocate, post, offset, pre */
		bool simd = insn & BIT(26), stgp = !simd && sz == 1 && !(insn & BIT(22));
		unsigned each = simd ? 4u << sz : stgp ? 8 : sz == 2 ? 8 : 4;
		u64 imm = sign_extend(FIELD(insn, 21, 15), 7) * (stgp ? 16 : each);
		out->va = FIELD(insn, 24, 23) == 1 ? base : base + imm;
		out->size = 2 * each;
		out->read = insn & BIT(22);
		out->write = !out->read;
		return true;
	}
	if ((insn & 0x3b000000) == 0x18000000) { /* literal: PC-relative loads */
		bool simd = insn & BIT(26);
		if (!simd && sz == 3)
			return false; /* PRFM */
		out->va = r->pc + sign_extend(FIELD(insn, 23, 5), 19) * 4;
		out->size = simd ? 4u << sz : sz == 1 ? 8 : 4;
		out->read = true;
		return true;
	}
	if ((insn & 0x3a000000) == 0x38000000) /* single registers */
		return single_register(insn, r, out);
	if ((insn & 0x3f200000) == 0x19000000 && FIELD(insn, 11, 10) == 0) { /* LDAPUR/STLUR: [Xn, #simm9] */
		out->va = base + sign_extend(FIELD(insn, 20, 12), 9);
		out->size = 1u << sz;
		out->write = FIELD(insn, 23, 22) == 0;
		out->read = !out->write;
		return true;
	}
	if ((insn & 0xbfbf0000) == 0x0c000000 || (insn & 0xbfa00000) == 0x0c800000) {
		/* SIMD multiple structures, LD1-LD4/ST1-ST4: registers by opcode [15:12] */
		static const u8 regs[16] = { [0] = 4, [2] = 4, [4] = 3, [6] = 3, [7] = 1, [8] = 2, [10] = 2 };
		unsigned n = regs[FIELD(insn, 15, 12)];
		if (!n)
			return false;
		out->va = base;
		out->size = n * (insn & BIT(30) ? 16 : 8);
		out->read = insn & BIT(22);
		out->write = !out->read;
		return true;
	}
	if ((insn & 0xbf000000) == 0x0d000000) { /* SIMD single structure (a lane, or replicated) */
		unsigned opcode = FIELD(insn, 15, 13), size = FIELD(insn, 11, 10);
		unsigned selem = ((opcode & 1) << 1 | FIELD(insn, 21, 21)) + 1;
		unsigned esize = opcode >> 1 == 3 ? 1u << size : opcode >> 1 == 2 ? 4u << (size & 1) : 1u << (opcode >> 1);
		out->va = base;
		out->size = selem * esize;
		out->read = insn & BIT(22);
		out->write = !out->read;
		return true;
	}
	if ((insn & ~0x1fu) == 0xd50b7420) { /* DC ZVA, Xt: a block of 4 << DCZID_EL0.BS bytes */
		unsigned rt = FIELD(insn, 4, 0);
		out->size = 4u << (r->dczid & 0xf);
		out->va = ALIGN_DOWN(rt == 31 ? 0 : r->x[rt], (u64)out->size);
		out->write = true;
		return true;
	}
	return false;
}
