/* ESR_EL2 decoding (hv/core/esr.c, include/trapvisor/esr.h). */
#include "check.h"
#include "trapvisor/esr.h"

/* A data abort's ESR from its fields (ISS layout in esr.h, Arm ARM D19.2.37). */
static u64 dabt_esr(bool isv, unsigned sas, bool sse, unsigned srt, bool sf, bool wnr, unsigned dfsc)
{
	return ((u64)EC_DABT_LOW << ESR_EC_SHIFT) | ESR_IL | (isv ? ESR_DABT_ISV : 0) |
	       ((u64)sas << 22) | (sse ? ESR_DABT_SSE : 0) | ((u64)srt << 16) |
	       (sf ? ESR_DABT_SF : 0) | (wnr ? ESR_DABT_WNR : 0) | dfsc;
}

/* A trapped MSR/MRS/SYS's ESR: Op0[21:20] Op2[19:17] Op1[16:14] CRn[13:10] Rt[9:5] CRm[4:1] Dir[0]. */
static u64 sys64_esr(unsigned op0, unsigned op1, unsigned crn, unsigned crm, unsigned op2,
		     unsigned rt, bool read)
{
	return ((u64)EC_SYS64 << ESR_EC_SHIFT) | ESR_IL | ((u64)op0 << 20) | ((u64)op2 << 17) |
	       ((u64)op1 << 14) | ((u64)crn << 10) | ((u64)rt << 5) | ((u64)crm << 1) | read;
}

/*
 * The same ESR from the instruction word the guest executed (C5.2.x: MRS/MSR/SYS
 * are 0xd5000000 | L[21] op0[20:19] op1[18:16] CRn[15:12] CRm[11:8] op2[7:5] Rt[4:0]),
 * a second, independent route to the syndrome.
 */
static u64 sys64_esr_from_insn(u32 insn)
{
	return sys64_esr((insn >> 19) & 3, (insn >> 16) & 7, (insn >> 12) & 15, (insn >> 8) & 15,
			 (insn >> 5) & 7, insn & 31, (insn >> 21) & 1);
}

static void ec_fields(void)
{
	CHECK_EQ(ESR_EC(0x5a000000u), EC_HVC64);		/* hvc #0 */
	CHECK_EQ(ESR_EC(0x5e000000u), EC_SMC64);		/* smc #0 */
	CHECK_EQ(ESR_EC(0x06000000u), EC_WFX);			/* wfi */
	CHECK_EQ(ESR_EC(0xf2000000u), EC_BRK64);
	CHECK_EQ(ESR_EC(0xfc000000u), EC_MAX);
	CHECK_EQ(ESR_EC(0x93c08004u), EC_DABT_LOW);
	/* Bits above 31 (ESR_EL2 is 64-bit; ISS2 lives there) do not leak into EC. */
	CHECK_EQ(ESR_EC(0xffffffff00000000ull | (0x18u << 26)), EC_SYS64);
	CHECK_EQ(ESR_ISS(0x93c08004u), 0x1c08004);
	CHECK_EQ(ESR_ISS(0xffffffffu), 0x1ffffff);
	CHECK(0x5a000000u & ESR_IL);
	CHECK_EQ(ESR_HVC_IMM(0x5a001234u), 0x1234);
	CHECK_EQ(ESR_WFX_TI(0x06000000u), WFX_TI_WFI);
	CHECK_EQ(ESR_WFX_TI(0x06000001u), WFX_TI_WFE);
	CHECK_EQ(ESR_xABT_FSC(0x93c08047u), 0x07);
	CHECK(FSC_IS_TRANSLATION(0x04) && FSC_IS_TRANSLATION(0x07) && !FSC_IS_TRANSLATION(0x08));
	CHECK(FSC_IS_ACCESS_FLAG(0x0b) && !FSC_IS_ACCESS_FLAG(0x0c));
	CHECK(FSC_IS_PERMISSION(0x0f) && !FSC_IS_PERMISSION(0x10));
}

static void ec_names(void)
{
	CHECK_STR(esr_ec_name(EC_UNKNOWN), "unknown");
	CHECK_STR(esr_ec_name(EC_WFX), "wfx");
	CHECK_STR(esr_ec_name(EC_HVC64), "hvc");
	CHECK_STR(esr_ec_name(EC_SMC64), "smc");
	CHECK_STR(esr_ec_name(EC_SYS64), "sysreg");
	CHECK_STR(esr_ec_name(EC_DABT_LOW), "dabt-lower");
	CHECK_STR(esr_ec_name(EC_IABT_LOW), "iabt-lower");
	CHECK_STR(esr_ec_name(EC_SOFTSTP_LOW), "step-lower");
	CHECK_STR(esr_ec_name(EC_WATCHPT_LOW), "watch-lower");
	CHECK_STR(esr_ec_name(EC_BRK64), "brk");
	/* Unassigned classes inside the table and anything beyond it. */
	CHECK_STR(esr_ec_name(0x02), "reserved");
	CHECK_STR(esr_ec_name(0x3b), "reserved");
	CHECK_STR(esr_ec_name(EC_MAX), "reserved");
	CHECK_STR(esr_ec_name(EC_MAX + 1), "reserved");
	CHECK_STR(esr_ec_name(~0u), "reserved");
	/* Every class has a name, and the named ones are distinct. */
	for (unsigned a = 0; a <= EC_MAX; a++) {
		CHECK(esr_ec_name(a) != NULL);
		for (unsigned b = a + 1; b <= EC_MAX; b++)
			if (strcmp(esr_ec_name(a), "reserved"))
				CHECK(strcmp(esr_ec_name(a), esr_ec_name(b)) != 0);
	}
}

static void dabt_widths(void)
{
	static const unsigned width[4] = { 1, 2, 4, 8 };

	for (unsigned sas = 0; sas < 4; sas++) {
		struct emul_access acc;
		memset(&acc, 0xa5, sizeof(acc));
		CHECK(esr_decode_dabt(dabt_esr(true, sas, false, 3, true, false, 0x07), 0x09000018, &acc));
		CHECK_EQ(acc.width, width[sas]);
		CHECK_EQ(acc.kind, ACCESS_MMIO);
		CHECK_EQ(acc.addr, 0x09000018);
		CHECK_EQ(acc.reg, 3);
		CHECK_EQ(acc.value, 0);
		CHECK(!acc.write);
		CHECK(!acc.sign_extend);
		CHECK(acc.reg64);
	}
}

static void dabt_fields(void)
{
	struct emul_access acc;

	/* Every SRT, in both directions. */
	for (unsigned srt = 0; srt < 32; srt++) {
		CHECK(esr_decode_dabt(dabt_esr(true, 2, false, srt, false, true, 0), 0x40001000, &acc));
		CHECK_EQ(acc.reg, srt);
		CHECK(acc.write);
		CHECK(esr_decode_dabt(dabt_esr(true, 2, false, srt, false, false, 0), 0x40001000, &acc));
		CHECK_EQ(acc.reg, srt);
		CHECK(!acc.write);
	}
	/* SSE and SF, each on its own. */
	CHECK(esr_decode_dabt(dabt_esr(true, 0, true, 1, false, false, 0), 0, &acc));
	CHECK(acc.sign_extend);
	CHECK(!acc.reg64);
	CHECK(esr_decode_dabt(dabt_esr(true, 0, false, 1, true, false, 0), 0, &acc));
	CHECK(!acc.sign_extend);
	CHECK(acc.reg64);
	/* A 64-bit IPA is kept whole. */
	CHECK(esr_decode_dabt(dabt_esr(true, 3, false, 0, true, false, 0), 0xfffffffff000ull, &acc));
	CHECK_EQ(acc.addr, 0xfffffffff000ull);
	/* A whole syndrome: EC=0x24 IL ISV, SAS=0 SSE=0 SRT=1 SF=0 WnR=0, DFSC=0x07
	 * (ldrb w1, [x0] hitting a stage-2 translation fault at level 3). */
	CHECK(esr_decode_dabt(0x93010007u, 0x09000000, &acc));
	CHECK_EQ(acc.width, 1);
	CHECK_EQ(acc.reg, 1);
	CHECK(!acc.reg64 && !acc.write && !acc.sign_extend);
}

static void dabt_no_syndrome(void)
{
	struct emul_access acc, before;

	memset(&acc, 0x5a, sizeof(acc));
	before = acc;
	/* ISV clear: the rest of the ISS says nothing about the access. */
	CHECK(!esr_decode_dabt(dabt_esr(false, 3, true, 7, true, true, 0x07), 0x09000000, &acc));
	CHECK(!memcmp(&acc, &before, sizeof(acc)));
	CHECK(!esr_decode_dabt(0, 0, &acc));
}

static const struct {
	const char *name;
	u32 insn; /* the guest's instruction, Rt as given */
	unsigned op0, op1, crn, crm, op2, rt;
	bool read;
} sys_insns[] = {
	{ "mrs x0, midr_el1", 0xd5380000, 3, 0, 0, 0, 0, 0, true },
	{ "msr sctlr_el1, x1", 0xd5181001, 3, 0, 1, 0, 0, 1, false },
	{ "mrs x2, ttbr1_el1", 0xd5382022, 3, 0, 2, 0, 1, 2, true },
	{ "mrs x30, id_aa64mmfr0_el1", 0xd538071e, 3, 0, 0, 7, 0, 30, true },
	{ "msr mdscr_el1, x3", 0xd5100243, 2, 0, 0, 2, 2, 3, false },
	{ "mrs x4, pmccfiltr_el0", 0xd53befe4, 3, 3, 14, 15, 7, 4, true },
	{ "tlbi vae1is, x5", 0xd5088325, 1, 0, 8, 3, 1, 5, false },
	{ "dc civac, x6", 0xd50b7e26, 1, 3, 7, 14, 1, 6, false },
	{ "msr dbgbvr15_el1, xzr", 0xd5100f9f, 2, 0, 0, 15, 4, 31, false },
};

static void sys64_real_instructions(void)
{
	for (unsigned i = 0; i < ARRAY_SIZE(sys_insns); i++) {
		struct emul_access acc;
		u64 esr = sys64_esr_from_insn(sys_insns[i].insn);

		check_case_name = sys_insns[i].name;
		memset(&acc, 0xa5, sizeof(acc));
		CHECK_EQ(ESR_EC(esr), EC_SYS64);
		esr_decode_sys64(esr, &acc);
		CHECK_EQ(acc.kind, ACCESS_SYSREG);
		CHECK_EQ(acc.addr, SYSREG_ENC(sys_insns[i].op0, sys_insns[i].op1, sys_insns[i].crn,
					      sys_insns[i].crm, sys_insns[i].op2));
		CHECK_EQ(SYSREG_ENC_OP0(acc.addr), sys_insns[i].op0);
		CHECK_EQ(SYSREG_ENC_OP1(acc.addr), sys_insns[i].op1);
		CHECK_EQ(SYSREG_ENC_CRN(acc.addr), sys_insns[i].crn);
		CHECK_EQ(SYSREG_ENC_CRM(acc.addr), sys_insns[i].crm);
		CHECK_EQ(SYSREG_ENC_OP2(acc.addr), sys_insns[i].op2);
		CHECK_EQ(acc.reg, sys_insns[i].rt);
		CHECK_EQ(acc.write, !sys_insns[i].read);
		CHECK_EQ(ESR_SYS64_READ(esr), sys_insns[i].read);
		CHECK_EQ(acc.width, 8);
		CHECK_EQ(acc.value, 0);
		CHECK(acc.reg64);
		CHECK(!acc.sign_extend);
	}
	check_case_name = "sys64_real_instructions";
}

/* Every field value in every position: a field must never bleed into another. */
static void sys64_round_trip_all_fields(void)
{
	for (unsigned op0 = 0; op0 < 4; op0++)
		for (unsigned op1 = 0; op1 < 8; op1++)
			for (unsigned crn = 0; crn < 16; crn++)
				for (unsigned crm = 0; crm < 16; crm++)
					for (unsigned op2 = 0; op2 < 8; op2++) {
						unsigned rt = (op1 * 7 + crn * 3 + crm + op2) & 31;
						bool read = (crn ^ crm ^ op2) & 1;
						struct emul_access acc;
						u64 esr = sys64_esr(op0, op1, crn, crm, op2, rt, read);

						esr_decode_sys64(esr, &acc);
						CHECK_EQ(SYSREG_ENC_OP0(acc.addr), op0);
						CHECK_EQ(SYSREG_ENC_OP1(acc.addr), op1);
						CHECK_EQ(SYSREG_ENC_CRN(acc.addr), crn);
						CHECK_EQ(SYSREG_ENC_CRM(acc.addr), crm);
						CHECK_EQ(SYSREG_ENC_OP2(acc.addr), op2);
						CHECK_EQ(acc.addr, SYSREG_ENC(op0, op1, crn, crm, op2));
						CHECK_EQ(acc.addr >> 16, 0);
						CHECK_EQ(acc.reg, rt);
						CHECK_EQ(acc.write, !read);
						CHECK_EQ(esr_sys64_enc(esr), acc.addr);
					}
	/* All 32 registers, XZR included. */
	for (unsigned rt = 0; rt < 32; rt++) {
		struct emul_access acc;
		esr_decode_sys64(sys64_esr(3, 0, 1, 0, 0, rt, false), &acc);
		CHECK_EQ(acc.reg, rt);
		CHECK_EQ(acc.addr, SYSREG_ENC(3, 0, 1, 0, 0));
	}
}

static struct emul_access load(unsigned width, bool sse, bool sf)
{
	struct emul_access acc = { .kind = ACCESS_MMIO, .width = width, .sign_extend = sse, .reg64 = sf };
	return acc;
}

static void load_result_byte(void)
{
	struct emul_access a;

	a = load(1, false, true); /* ldrb into X (as the W write zero-extends) */
	CHECK_EQ(emul_access_load_result(&a, 0xffffffffffffff80ull), 0x80);
	a = load(1, false, false); /* ldrb w */
	CHECK_EQ(emul_access_load_result(&a, 0x1234567890abcdefull), 0xef);
	a = load(1, true, true); /* ldrsb x */
	CHECK_EQ(emul_access_load_result(&a, 0x80), 0xffffffffffffff80ull);
	CHECK_EQ(emul_access_load_result(&a, 0xff), ~0ull);
	CHECK_EQ(emul_access_load_result(&a, 0x7f), 0x7f);
	CHECK_EQ(emul_access_load_result(&a, 0xabcd007f), 0x7f); /* bits above the byte ignored */
	a = load(1, true, false); /* ldrsb w */
	CHECK_EQ(emul_access_load_result(&a, 0x80), 0xffffff80u);
	CHECK_EQ(emul_access_load_result(&a, 0x7f), 0x7f);
}

static void load_result_half(void)
{
	struct emul_access a;

	a = load(2, false, false);
	CHECK_EQ(emul_access_load_result(&a, 0xdeadbeefcafe8001ull), 0x8001);
	a = load(2, true, true); /* ldrsh x */
	CHECK_EQ(emul_access_load_result(&a, 0x8001), 0xffffffffffff8001ull);
	CHECK_EQ(emul_access_load_result(&a, 0x7fff), 0x7fff);
	a = load(2, true, false); /* ldrsh w */
	CHECK_EQ(emul_access_load_result(&a, 0x8001), 0xffff8001u);
	CHECK_EQ(emul_access_load_result(&a, 0x12347fff), 0x7fff);
}

static void load_result_word(void)
{
	struct emul_access a;

	a = load(4, false, false); /* ldr w */
	CHECK_EQ(emul_access_load_result(&a, 0x1234567890abcdefull), 0x90abcdef);
	a = load(4, false, true);
	CHECK_EQ(emul_access_load_result(&a, 0xffffffff80000000ull), 0x80000000u);
	a = load(4, true, true); /* ldrsw x */
	CHECK_EQ(emul_access_load_result(&a, 0x80000000u), 0xffffffff80000000ull);
	CHECK_EQ(emul_access_load_result(&a, 0x7fffffffu), 0x7fffffff);
	a = load(4, true, false); /* a W destination keeps 32 bits even if SSE is set */
	CHECK_EQ(emul_access_load_result(&a, 0x80000000u), 0x80000000u);
}

static void load_result_dword(void)
{
	struct emul_access a = load(8, false, true);

	CHECK_EQ(emul_access_load_result(&a, 0x8123456789abcdefull), 0x8123456789abcdefull);
	a.sign_extend = true; /* no wider register to extend into */
	CHECK_EQ(emul_access_load_result(&a, 0x8123456789abcdefull), 0x8123456789abcdefull);
}

/* A syndrome straight from a data abort through to the value placed in Rt. */
static void load_result_from_syndrome(void)
{
	struct emul_access acc;

	/* ldrsb w2, [x0]: SAS=0 SSE=1 SF=0 */
	CHECK(esr_decode_dabt(dabt_esr(true, 0, true, 2, false, false, 0x07), 0x09000000, &acc));
	CHECK_EQ(emul_access_load_result(&acc, 0xfe), 0xfffffffe);
	/* ldrsh x3, [x0]: SAS=1 SSE=1 SF=1 */
	CHECK(esr_decode_dabt(dabt_esr(true, 1, true, 3, true, false, 0x07), 0x09000000, &acc));
	CHECK_EQ(emul_access_load_result(&acc, 0xfffe), 0xfffffffffffffffeull);
	/* ldrsw x4, [x0]: SAS=2 SSE=1 SF=1 */
	CHECK(esr_decode_dabt(dabt_esr(true, 2, true, 4, true, false, 0x07), 0x09000000, &acc));
	CHECK_EQ(emul_access_load_result(&acc, 0x80000001), 0xffffffff80000001ull);
	/* ldr w5, [x0]: SAS=2 SSE=0 SF=0 */
	CHECK(esr_decode_dabt(dabt_esr(true, 2, false, 5, false, false, 0x07), 0x09000000, &acc));
	CHECK_EQ(emul_access_load_result(&acc, 0xffffffff80000001ull), 0x80000001);
}

/* Encodings from aarch64-linux-gnu-as (-march=armv8.4-a+lse+rcpc), checked by objdump. */
static const struct {
	u32 insn;
	const char *text;
	u64 va;
	unsigned size;
	bool read, write;
} mem_insns[] = {
	/* x2 = 0x1000, x3 = 0x40 (w3 = -8 for SXTW), x4 = 0x2000, x5 = 0x3005, sp = 0x8000, pc = 0x100 */
	{ 0xf9400841, "ldr x1, [x2, #16]", 0x1010, 8, true, false },
	{ 0xb85fd041, "ldur w1, [x2, #-3]", 0xffd, 4, true, false },
	{ 0x3dc00841, "ldr q1, [x2, #32]", 0x1020, 16, true, false },
	{ 0xf8637841, "ldr x1, [x2, x3, lsl #3]", 0x1200, 8, true, false },
	{ 0xf8008c41, "str x1, [x2, #8]!", 0x1008, 8, false, true },
	{ 0xf8008441, "str x1, [x2], #8", 0x1000, 8, false, true },
	{ 0xa9bf0be1, "stp x1, x2, [sp, #-16]!", 0x7ff0, 16, false, true },
	{ 0xad410861, "ldp q1, q2, [x3, #32]", 0x60, 32, true, false },
	{ 0x28c10861, "ldp w1, w2, [x3], #8", 0x40, 8, true, false },
	{ 0x69410861, "ldpsw x1, x2, [x3, #8]", 0x48, 8, true, false },
	{ 0x885f7c41, "ldxr w1, [x2]", 0x1000, 4, true, false },
	{ 0xc8208861, "stlxp w0, x1, x2, [x3]", 0x40, 16, false, true },
	{ 0xc8a17c62, "cas x1, x2, [x3]", 0x40, 8, true, true },
	{ 0x48207c82, "casp x0, x1, x2, x3, [x4]", 0x2000, 16, true, true },
	{ 0xb8210062, "ldadd w1, w2, [x3]", 0x40, 4, true, true },
	{ 0xf8e18062, "swpal x1, x2, [x3]", 0x40, 8, true, true },
	{ 0xf8bfc041, "ldapr x1, [x2]", 0x1000, 8, true, false },
	{ 0x995fc041, "ldapur w1, [x2, #-4]", 0xffc, 4, true, false },
	{ 0xd9008041, "stlur x1, [x2, #8]", 0x1008, 8, false, true },
	{ 0x4c40a040, "ld1 {v0.16b, v1.16b}, [x2]", 0x1000, 32, true, false },
	{ 0x4c9f0840, "st4 {v0.4s-v3.4s}, [x2], #64", 0x1000, 64, false, true },
	{ 0x0d409040, "ld1 {v0.s}[1], [x2]", 0x1000, 4, true, false },
	{ 0x4d40e440, "ld3r {v0.8h-v2.8h}, [x2]", 0x1000, 6, true, false },
	{ 0x4d9f8440, "st1 {v0.d}[1], [x2], #8", 0x1000, 8, false, true },
	{ 0xd50b7425, "dc zva, x5", 0x3000, 64, false, true },
	{ 0x58000041, "ldr x1, .+8", 0x108, 8, true, false },
	{ 0x9c000082, "ldr q2, .+16", 0x110, 16, true, false },
	{ 0xf8408841, "ldtr x1, [x2, #8]", 0x1008, 8, true, false },
};

static void mem_access_decoded(void)
{
	u64 x[31] = { 0 };
	struct insn_regs r = { x, 0x8000, 0x100, 4 }; /* DCZID_EL0.BS = 4: 64-byte blocks */
	struct insn_mem_access a;

	x[2] = 0x1000, x[3] = 0x40, x[4] = 0x2000, x[5] = 0x3005;
	for (unsigned i = 0; i < sizeof(mem_insns) / sizeof(mem_insns[0]); i++) {
		bool ok = insn_mem_access(mem_insns[i].insn, &r, &a);
		CHECK(ok);
		if (!ok) {
			printf("    not decoded: %s\n", mem_insns[i].text);
			continue;
		}
		if (a.va != mem_insns[i].va || a.size != mem_insns[i].size || a.read != mem_insns[i].read ||
		    a.write != mem_insns[i].write)
			printf("    %s: va %#llx size %u read %d write %d\n", mem_insns[i].text, (unsigned long long)a.va,
			       a.size, a.read, a.write);
		CHECK_EQ(a.va, mem_insns[i].va);
		CHECK_EQ(a.size, mem_insns[i].size);
		CHECK_EQ(a.read, mem_insns[i].read);
		CHECK_EQ(a.write, mem_insns[i].write);
	}
	x[3] = (u64)-8; /* SXTW takes w3 = -8 */
	CHECK(insn_mem_access(0xb863c841, &r, &a)); /* ldr w1, [x2, w3, sxtw] */
	CHECK_EQ(a.va, 0xff8);
	CHECK(!insn_mem_access(0xf9800040, &r, &a)); /* prfm pldl1keep, [x2]: no access */
	CHECK(!insn_mem_access(0xd503201f, &r, &a)); /* nop */
	CHECK(!insn_mem_access(0x8b020020, &r, &a)); /* add x0, x1, x2 */
}

int main(void)
{
	/* Keep the PASS/FAIL lines already printed if a sanitizer aborts the run. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	RUN(ec_fields);
	RUN(ec_names);
	RUN(dabt_widths);
	RUN(dabt_fields);
	RUN(dabt_no_syndrome);
	RUN(sys64_real_instructions);
	RUN(sys64_round_trip_all_fields);
	RUN(load_result_byte);
	RUN(load_result_half);
	RUN(load_result_word);
	RUN(load_result_dword);
	RUN(load_result_from_syndrome);
	RUN(mem_access_decoded);
	return CHECK_DONE();
}
