/* The system-register table and trapped MSR/MRS/SYS emulation (hv/core/sysreg.c). */
#include "check.h"
#include "hv_fakes.h"
#include "sysreg.h"
#include "sched.h"
#include "arch/sysreg.h"

#define ENC SYSREG_ENC
#define E_SCTLR_EL1 ENC(3, 0, 1, 0, 0)
#define E_ID_AA64PFR0_EL1 ENC(3, 0, 0, 4, 0)
#define E_ID_AA64DFR0_EL1 ENC(3, 0, 0, 5, 0)
#define E_MIDR_EL1 ENC(3, 0, 0, 0, 0)
#define E_MPIDR_EL1 ENC(3, 0, 0, 0, 5)
#define E_DC_CIVAC ENC(1, 3, 7, 14, 1)
#define E_IC_IVAU ENC(1, 3, 7, 5, 1)
#define E_TLBI_VAE1IS ENC(1, 0, 8, 3, 1)
#define E_OSLAR_EL1 ENC(2, 0, 1, 0, 4)
#define E_MDRAR_EL1 ENC(2, 0, 1, 0, 0)

/* The trapped vCPU's own frame, where its x0-x30 are (v->regs == &v->frame). */
#define frame (vcpu_slots[0].vcpu.frame)
static struct vcpu *vcpu;

static void setup(void)
{
	fake_reset();
	pcpu_count = vcpu_count = 1;
	vcpu = vcpu_by_id(0);
	sched_place(vcpu, &pcpus[0]);
	memset(&frame, 0, sizeof(frame));
	for (unsigned i = 0; i < 31; i++)
		frame.x[i] = 0x1111111111111111ull * (i % 15 + 1);
	trap_set_pc(0x40081000);
	trap_set_pstate(0x3c5); /* EL1h, DAIF masked */
	guest.ram_base = 0x40000000;
	guest.ram_end = 0x80000000;
	for (unsigned i = 0; i < sysreg_count; i++)
		sysreg_reset_virtual(&sysreg_table[i]);
}

/* The ISS of a trapped MSR/MRS/SYS (esr.h), decoded as trap.c does. */
static u64 sys64_esr(u32 enc, unsigned rt, bool read)
{
	return ((u64)EC_SYS64 << ESR_EC_SHIFT) | ESR_IL | ((u64)SYSREG_ENC_OP0(enc) << 20) |
	       ((u64)SYSREG_ENC_OP2(enc) << 17) | ((u64)SYSREG_ENC_OP1(enc) << 14) |
	       ((u64)SYSREG_ENC_CRN(enc) << 10) | ((u64)rt << 5) | ((u64)SYSREG_ENC_CRM(enc) << 1) | read;
}

static struct emul_access last;

static unsigned emulate(u32 enc, unsigned rt, bool read)
{
	esr_decode_sys64(sys64_esr(enc, rt, read), &last);
	/* As trap.c does: one lookup, shared by the class and the emulation. */
	return sysreg_emulate(vcpu, &frame, sysreg_find(last.addr), &last);
}

static const struct sysreg_desc *find(const char *name)
{
	const struct sysreg_desc *d = sysreg_find_name(name, strlen(name));
	if (!d) {
		printf("no %s in the table\n", name);
		CHECK(d != NULL);
	}
	return d;
}

/* ---- the table ---- */

static void table_sorted_strictly(void)
{
	CHECK(sysreg_count > 200);
	for (unsigned i = 1; i < sysreg_count; i++)
		if (sysreg_table[i - 1].enc >= sysreg_table[i].enc) {
			printf("out of order: %s before %s\n", sysreg_table[i - 1].name, sysreg_table[i].name);
			CHECK(sysreg_table[i - 1].enc < sysreg_table[i].enc);
		}
}

static void table_entries_well_formed(void)
{
	for (unsigned i = 0; i < sysreg_count; i++) {
		const struct sysreg_desc *d = &sysreg_table[i];
		CHECK(d->name && d->name[0]);
		CHECK_EQ(d->enc >> 16, 0);
		CHECK(SYSREG_ENC_OP0(d->enc) >= 1); /* op0 = 0 is not a register space */
		CHECK(d->cls < TRAP_CLASS_COUNT);
		CHECK(d->kind <= SR_VDIR);
		CHECK(d->hw_read && d->hw_write);
		/* Names are unique (sysreg_find_name returns the first match). */
		CHECK(sysreg_find_name(d->name, strlen(d->name)) == d);
		/* SYS instructions (op0 = 1) are maintenance; registers are not. */
		bool sys = d->kind == SR_SYS || d->kind == SR_DC_VA || d->kind == SR_IC_VA;
		CHECK_EQ(SYSREG_ENC_OP0(d->enc) == 1, sys);
		if (sys)
			CHECK_EQ(d->cls, TRAP_CACHE);
		/* The identification block (op0=3 op1=0 CRn=0) is all ID registers. */
		if (SYSREG_ENC_OP0(d->enc) == 3 && SYSREG_ENC_OP1(d->enc) == 0 && SYSREG_ENC_CRN(d->enc) == 0) {
			CHECK(d->kind == SR_ID || d->kind == SR_MIDR || d->kind == SR_MPIDR);
			CHECK_EQ(d->cls, TRAP_ID);
		}
		if (d->kind == SR_ID)
			CHECK_EQ(d->cls, TRAP_ID);
		if (d->kind == SR_DBG_BRP || d->kind == SR_DBG_WRP)
			CHECK_EQ(d->cls, TRAP_DEBUG);
		if (d->kind == SR_PMU_CTR)
			CHECK_EQ(d->cls, TRAP_PMU);
	}
}

/* Each accessor reaches its own encoding: hw_read_X/hw_write_X are built per entry. */
static void table_accessors_match_encoding(void)
{
	setup();
	for (unsigned i = 0; i < sysreg_count; i++) {
		const struct sysreg_desc *d = &sysreg_table[i];
		fake_enc_set(d->enc, 0xc0de0000ull + i);
		CHECK_EQ(d->hw_read(), 0xc0de0000ull + i);
		d->hw_write(0xfeed0000ull + i);
		CHECK_EQ(fake_enc_get(d->enc), 0xfeed0000ull + i);
		CHECK_EQ(fake_enc_writes(d->enc), 1);
	}
}

static void find_every_entry_and_no_gap(void)
{
	unsigned found = 0;

	for (unsigned i = 0; i < sysreg_count; i++)
		CHECK(sysreg_find(sysreg_table[i].enc) == &sysreg_table[i]);
	/* The whole 16-bit encoding space against a linear scan. */
	for (u32 enc = 0; enc < 0x10000; enc++) {
		const struct sysreg_desc *want = NULL;
		for (unsigned i = 0; i < sysreg_count && !want; i++)
			if (sysreg_table[i].enc == enc)
				want = &sysreg_table[i];
		CHECK(sysreg_find(enc) == want);
		found += want != NULL;
	}
	CHECK_EQ(found, sysreg_count);
	CHECK(sysreg_find(0x10000 | E_SCTLR_EL1) == NULL);
	CHECK(sysreg_find(~0u) == NULL);
}

static void find_by_name(void)
{
	const struct sysreg_desc *d = sysreg_find(E_SCTLR_EL1);

	CHECK(d != NULL);
	CHECK(sysreg_find_name("SCTLR_EL1", 9) == d);
	CHECK(sysreg_find_name("sctlr_el1", 9) == d);
	/* A name with a NUL inside (a hex-decoded monitor command can carry one)
	 * must not match, nor read past the table's name. */
	CHECK(sysreg_find_name("MDSCR_EL1\0XYZW", 14) == NULL);
	CHECK(sysreg_find_name("Sctlr_El1", 9) == d);
	/* len bounds the name: the rest of a command line is not part of it. */
	CHECK(sysreg_find_name("sctlr_el1 write", 9) == d);
	CHECK(sysreg_find_name("SCTLR_EL1", 8) == NULL); /* "SCTLR_EL" */
	CHECK(sysreg_find_name("SCTLR_EL12", 10) == NULL);
	CHECK(sysreg_find_name("", 0) == NULL);
	CHECK(sysreg_find_name("NOSUCH_EL1", 10) == NULL);
	CHECK(sysreg_find_name("tlbi_vae1is", 11) == sysreg_find(E_TLBI_VAE1IS));
	CHECK(sysreg_find_name("dc_civac", 8) == sysreg_find(E_DC_CIVAC));
	CHECK(sysreg_find_name("pmevcntr30_el0", 14) == sysreg_find(ENC(3, 3, 14, 11, 6)));
	/* Every name, lower-cased. */
	for (unsigned i = 0; i < sysreg_count; i++) {
		char lower[64];
		size_t n = strlen(sysreg_table[i].name);
		CHECK(n < sizeof(lower));
		for (size_t j = 0; j <= n; j++) {
			char c = sysreg_table[i].name[j];
			lower[j] = c >= 'A' && c <= 'Z' ? c + 'a' - 'A' : c;
		}
		CHECK(sysreg_find_name(lower, n) == &sysreg_table[i]);
	}
}

static void name_of_encoding(void)
{
	char buf[32];

	CHECK_STR(sysreg_name(E_SCTLR_EL1, buf, sizeof(buf)), "SCTLR_EL1");
	CHECK_STR(sysreg_name(E_DC_CIVAC, buf, sizeof(buf)), "DC_CIVAC");
	CHECK_STR(sysreg_name(ENC(3, 0, 15, 0, 0), buf, sizeof(buf)), "S3_0_C15_C0_0");
	CHECK_STR(buf, "S3_0_C15_C0_0");
	CHECK_STR(sysreg_name(ENC(3, 7, 15, 15, 7), buf, sizeof(buf)), "S3_7_C15_C15_7");
	CHECK_STR(sysreg_name(ENC(1, 6, 11, 4, 3), buf, sizeof(buf)), "S1_6_C11_C4_3");
	CHECK_STR(sysreg_name(ENC(0, 0, 0, 0, 0), buf, sizeof(buf)), "S0_0_C0_C0_0");
	/* A short buffer is truncated, still terminated. */
	memset(buf, 'x', sizeof(buf));
	CHECK_STR(sysreg_name(ENC(3, 0, 15, 0, 0), buf, 6), "S3_0_");
}

/* Encodings as the Arm ARM gives them (op0, op1, CRn, CRm, op2). */
static void real_encodings(void)
{
	static const struct {
		const char *name;
		unsigned op0, op1, crn, crm, op2;
	} arm[] = {
		{ "SCTLR_EL1", 3, 0, 1, 0, 0 },	     { "TTBR1_EL1", 3, 0, 2, 0, 1 },
		{ "ID_AA64MMFR0_EL1", 3, 0, 0, 7, 0 }, { "MDSCR_EL1", 2, 0, 0, 2, 2 },
		{ "PMCCFILTR_EL0", 3, 3, 14, 15, 7 }, { "TLBI_VAE1IS", 1, 0, 8, 3, 1 },
		{ "DC_CIVAC", 1, 3, 7, 14, 1 },	     { "MIDR_EL1", 3, 0, 0, 0, 0 },
		{ "MPIDR_EL1", 3, 0, 0, 0, 5 },	     { "ID_AA64DFR0_EL1", 3, 0, 0, 5, 0 },
		{ "ID_AA64PFR0_EL1", 3, 0, 0, 4, 0 }, { "VBAR_EL1", 3, 0, 12, 0, 0 },
		{ "TCR_EL1", 3, 0, 2, 0, 2 },	     { "MAIR_EL1", 3, 0, 10, 2, 0 },
		{ "CTR_EL0", 3, 3, 0, 0, 1 },	     { "CLIDR_EL1", 3, 1, 0, 0, 1 },
		{ "CSSELR_EL1", 3, 2, 0, 0, 0 },     { "PMCR_EL0", 3, 3, 9, 12, 0 },
		{ "PMEVCNTR0_EL0", 3, 3, 14, 8, 0 }, { "PMEVTYPER30_EL0", 3, 3, 14, 15, 6 },
		{ "DBGBVR0_EL1", 2, 0, 0, 0, 4 },    { "DBGWCR15_EL1", 2, 0, 0, 15, 7 },
		{ "OSLAR_EL1", 2, 0, 1, 0, 4 },	     { "OSLSR_EL1", 2, 0, 1, 1, 4 },
		{ "MDCCSR_EL0", 2, 3, 0, 1, 0 },     { "IC_IALLUIS", 1, 0, 7, 1, 0 },
		{ "IC_IVAU", 1, 3, 7, 5, 1 },	     { "DC_CISW", 1, 0, 7, 14, 2 },
		{ "TLBI_VMALLE1IS", 1, 0, 8, 3, 0 }, { "TPIDR_EL0", 3, 3, 13, 0, 2 },
	};

	for (unsigned i = 0; i < ARRAY_SIZE(arm); i++) {
		const struct sysreg_desc *d = find(arm[i].name);
		if (!d)
			continue;
		CHECK_EQ(d->enc, ENC(arm[i].op0, arm[i].op1, arm[i].crn, arm[i].crm, arm[i].op2));
	}
	/* The encoding packs the fields as esr.h says. */
	CHECK_EQ(ENC(3, 0, 1, 0, 0), 0xc080);
	CHECK_EQ(ENC(1, 3, 7, 14, 1), 0x5bf1);
}

static void class_of_access(void)
{
	CHECK_EQ(sysreg_class_of(sysreg_find(E_SCTLR_EL1), E_SCTLR_EL1), TRAP_VM);
	CHECK_EQ(sysreg_class_of(sysreg_find(ENC(3, 0, 1, 0, 1)), ENC(3, 0, 1, 0, 1)), TRAP_SYSREG); /* ACTLR_EL1 */
	CHECK_EQ(sysreg_class_of(sysreg_find(E_ID_AA64PFR0_EL1), E_ID_AA64PFR0_EL1), TRAP_ID);
	CHECK_EQ(sysreg_class_of(sysreg_find(E_DC_CIVAC), E_DC_CIVAC), TRAP_CACHE);
	CHECK_EQ(sysreg_class_of(sysreg_find(ENC(2, 0, 0, 2, 2)), ENC(2, 0, 0, 2, 2)), TRAP_DEBUG);
	CHECK_EQ(sysreg_class_of(sysreg_find(ENC(3, 3, 9, 12, 0)), ENC(3, 3, 9, 12, 0)), TRAP_PMU);
	/* Not in the table: the reserved ID space is still "id", the rest "sysreg". */
	CHECK_EQ(sysreg_class_of(NULL, ENC(3, 0, 0, 3, 3)), TRAP_ID);
	CHECK_EQ(sysreg_class_of(NULL, ENC(3, 0, 0, 7, 7)), TRAP_ID);
	CHECK_EQ(sysreg_class_of(NULL, ENC(3, 0, 0, 0, 1)), TRAP_SYSREG);
	CHECK_EQ(sysreg_class_of(NULL, ENC(3, 0, 0, 8, 0)), TRAP_SYSREG);
	CHECK_EQ(sysreg_class_of(NULL, ENC(3, 0, 15, 0, 0)), TRAP_SYSREG);
	/* Every entry's class is its own. */
	for (unsigned i = 0; i < sysreg_count; i++)
		CHECK_EQ(sysreg_class_of(&sysreg_table[i], sysreg_table[i].enc), sysreg_table[i].cls);
}

/* The numbered debug and PMU registers: every n the architecture allows, no more. */
static void numbered_registers_complete(void)
{
	char name[32];

	for (unsigned n = 0; n < 16; n++) {
		static const char *const fmt[4] = { "DBGBVR%u_EL1", "DBGBCR%u_EL1", "DBGWVR%u_EL1", "DBGWCR%u_EL1" };
		for (unsigned k = 0; k < 4; k++) {
			snprintf(name, sizeof(name), fmt[k], n);
			const struct sysreg_desc *d = find(name);
			if (d) {
				CHECK_EQ(d->enc, ENC(2, 0, 0, n, 4 + k));
				CHECK_EQ(d->kind, k < 2 ? SR_DBG_BRP : SR_DBG_WRP);
			}
		}
	}
	for (unsigned n = 0; n < 31; n++) {
		snprintf(name, sizeof(name), "PMEVCNTR%u_EL0", n);
		const struct sysreg_desc *d = find(name);
		if (d) {
			CHECK_EQ(d->enc, ENC(3, 3, 14, 8 + n / 8, n % 8));
			CHECK_EQ(d->kind, SR_PMU_CTR);
		}
		snprintf(name, sizeof(name), "PMEVTYPER%u_EL0", n);
		d = find(name);
		if (d) {
			CHECK_EQ(d->enc, ENC(3, 3, 14, 12 + n / 8, n % 8));
			CHECK_EQ(d->kind, SR_PMU_CTR);
		}
	}
	CHECK(sysreg_find_name("PMEVCNTR31_EL0", 14) == NULL);
	CHECK(sysreg_find_name("DBGBVR16_EL1", 12) == NULL);
}

/* ---- emulation ---- */

static void id_register_hw_virtual_reset(void)
{
	const struct sysreg_desc *d;

	setup();
	d = sysreg_find(E_ID_AA64PFR0_EL1);
	CHECK(d != NULL);
	fake_enc_set(E_ID_AA64PFR0_EL1, 0x1100000011111112ull);
	CHECK_EQ(emulate(E_ID_AA64PFR0_EL1, 5, true), OUT_EMULATED);
	CHECK_EQ(frame.x[5], 0x1100000011111112ull);
	CHECK_EQ(last.value, 0x1100000011111112ull);
	CHECK(!last.write);

	u64 v;
	CHECK(!sysreg_get_virtual(d, &v));
	CHECK(sysreg_set_virtual(d, 0x11));
	CHECK(sysreg_get_virtual(d, &v));
	CHECK_EQ(v, 0x11);
	CHECK_EQ(emulate(E_ID_AA64PFR0_EL1, 6, true), OUT_EMULATED);
	CHECK_EQ(frame.x[6], 0x11);
	CHECK_EQ(last.value, 0x11);
	/* A virtual value of 0 is a value, not "unset". */
	CHECK(sysreg_set_virtual(d, 0));
	CHECK_EQ(emulate(E_ID_AA64PFR0_EL1, 6, true), OUT_EMULATED);
	CHECK_EQ(frame.x[6], 0);
	/* Other ID registers keep reading the hardware. */
	fake_enc_set(E_ID_AA64DFR0_EL1, 0x6);
	CHECK_EQ(emulate(E_ID_AA64DFR0_EL1, 7, true), OUT_EMULATED);
	CHECK_EQ(frame.x[7], 0x6);

	sysreg_reset_virtual(d);
	CHECK(!sysreg_get_virtual(d, &v));
	CHECK_EQ(emulate(E_ID_AA64PFR0_EL1, 8, true), OUT_EMULATED);
	CHECK_EQ(frame.x[8], 0x1100000011111112ull);
	CHECK_EQ(fake_enc_writes(E_ID_AA64PFR0_EL1), 0);
}

static void virtual_values_only_for_id_registers(void)
{
	const struct sysreg_desc *sctlr = sysreg_find(E_SCTLR_EL1), *midr = sysreg_find(E_MIDR_EL1),
				 *mpidr = sysreg_find(E_MPIDR_EL1), *ctr = sysreg_find(ENC(3, 3, 0, 0, 1));
	u64 v;

	setup();
	CHECK(sctlr && midr && mpidr && ctr);
	if (!sctlr || !midr || !mpidr || !ctr)
		return;
	CHECK(!sysreg_set_virtual(sctlr, 1));
	CHECK(!sysreg_set_virtual(midr, 1)); /* MIDR/MPIDR come from VPIDR/VMPIDR */
	CHECK(!sysreg_set_virtual(mpidr, 1));
	CHECK(!sysreg_get_virtual(sctlr, &v));
	CHECK(sysreg_set_virtual(ctr, 0x8444c004));
	fake_enc_set(ENC(3, 3, 0, 0, 1), 0x1);
	CHECK_EQ(emulate(ENC(3, 3, 0, 0, 1), 0, true), OUT_EMULATED);
	CHECK_EQ(frame.x[0], 0x8444c004);
}

static void id_register_write_is_undef(void)
{
	const struct sysreg_desc *d;
	u64 v;

	setup();
	d = sysreg_find(E_ID_AA64PFR0_EL1);
	fake_enc_set(E_ID_AA64PFR0_EL1, 0x11);
	CHECK(sysreg_set_virtual(d, 0x22));
	frame.x[3] = 0x99;
	CHECK_EQ(emulate(E_ID_AA64PFR0_EL1, 3, false), OUT_UNDEF_INJECTED);
	CHECK_EQ(fake_enc_writes(E_ID_AA64PFR0_EL1), 0);
	CHECK_EQ(fake_enc_get(E_ID_AA64PFR0_EL1), 0x11);
	CHECK(sysreg_get_virtual(d, &v));
	CHECK_EQ(v, 0x22);
	CHECK_EQ(frame.x[3], 0x99);
	CHECK_EQ(emulate(E_MIDR_EL1, 3, false), OUT_UNDEF_INJECTED);
	CHECK_EQ(emulate(E_MPIDR_EL1, 3, false), OUT_UNDEF_INJECTED);
}

static void midr_mpidr_are_the_vcpus(void)
{
	setup();
	vcpu->vpidr = 0x410fd083;
	vcpu->vmpidr = 0x80000102;
	fake_enc_set(E_MIDR_EL1, 0x1);
	fake_enc_set(E_MPIDR_EL1, 0x2);
	CHECK_EQ(emulate(E_MIDR_EL1, 1, true), OUT_EMULATED);
	CHECK_EQ(frame.x[1], 0x410fd083);
	CHECK_EQ(emulate(E_MPIDR_EL1, 2, true), OUT_EMULATED);
	CHECK_EQ(frame.x[2], 0x80000102);
}

static void reserved_id_space_reads_zero(void)
{
	static const u32 gaps[] = {
		ENC(3, 0, 0, 3, 3), ENC(3, 0, 0, 3, 7), ENC(3, 0, 0, 4, 2), ENC(3, 0, 0, 5, 2),
		ENC(3, 0, 0, 6, 7), ENC(3, 0, 0, 7, 7), ENC(3, 0, 0, 5, 7),
	};

	setup();
	for (unsigned i = 0; i < ARRAY_SIZE(gaps); i++) {
		CHECK(sysreg_find(gaps[i]) == NULL);
		frame.x[9] = 0xdeadbeef;
		fake_enc_set(gaps[i], 0x77); /* nothing must read it */
		CHECK_EQ(emulate(gaps[i], 9, true), OUT_EMULATED);
		CHECK_EQ(frame.x[9], 0);
		CHECK_EQ(last.value, 0);
		CHECK_EQ(fake_enc_reads(gaps[i]), 0);
		/* Writes to the reserved space are UNDEFINED. */
		frame.x[9] = 0xdeadbeef;
		CHECK_EQ(emulate(gaps[i], 9, false), OUT_UNDEF_INJECTED);
		CHECK_EQ(fake_enc_writes(gaps[i]), 0);
	}
}

static void unknown_encoding_is_undef(void)
{
	static const u32 unknown[] = {
		ENC(3, 0, 15, 0, 0), /* IMPLEMENTATION DEFINED */
		ENC(3, 0, 0, 0, 1),  /* CRm = 0 is not the reserved block */
		ENC(3, 0, 0, 8, 0),  /* beyond it */
		ENC(3, 1, 0, 1, 0),  /* op1 != 0 */
		ENC(3, 0, 1, 1, 0),  /* CRn != 0 */
		ENC(2, 0, 0, 1, 0),  /* op0 != 3 */
		ENC(1, 0, 7, 5, 1),  /* not a SYS op we know */
		ENC(3, 4, 1, 1, 0),  /* HCR_EL2 is not the guest's */
	};

	setup();
	for (unsigned i = 0; i < ARRAY_SIZE(unknown); i++) {
		CHECK(sysreg_find(unknown[i]) == NULL);
		frame.x[4] = 0x1234;
		CHECK_EQ(emulate(unknown[i], 4, true), OUT_UNDEF_INJECTED);
		CHECK_EQ(frame.x[4], 0x1234);
		CHECK_EQ(emulate(unknown[i], 4, false), OUT_UNDEF_INJECTED);
		CHECK_EQ(fake_enc_writes(unknown[i]), 0);
		CHECK_EQ(fake_enc_reads(unknown[i]), 0);
	}
}

static void debug_registers_beyond_brps_wrps(void)
{
	setup();
	/* 6 breakpoints (BRPs = 5), 4 watchpoints (WRPs = 3). */
	fake_sysreg_set("id_aa64dfr0_el1", (5ull << 12) | (3ull << 20) | 6);
	fake_enc_set(ENC(2, 0, 0, 5, 4), 0xffff000012340000ull);
	CHECK_EQ(emulate(ENC(2, 0, 0, 5, 4), 2, true), OUT_FORWARDED); /* DBGBVR5_EL1 */
	CHECK_EQ(frame.x[2], 0xffff000012340000ull);
	frame.x[3] = 0x1e7;
	CHECK_EQ(emulate(ENC(2, 0, 0, 5, 5), 3, false), OUT_FORWARDED); /* DBGBCR5_EL1 */
	CHECK_EQ(fake_enc_get(ENC(2, 0, 0, 5, 5)), 0x1e7);
	frame.x[2] = 0x55;
	CHECK_EQ(emulate(ENC(2, 0, 0, 6, 4), 2, true), OUT_UNDEF_INJECTED); /* DBGBVR6_EL1 */
	CHECK_EQ(frame.x[2], 0x55);
	CHECK_EQ(emulate(ENC(2, 0, 0, 6, 5), 3, false), OUT_UNDEF_INJECTED); /* DBGBCR6_EL1 */
	CHECK_EQ(emulate(ENC(2, 0, 0, 15, 4), 3, false), OUT_UNDEF_INJECTED);
	CHECK_EQ(fake_enc_writes(ENC(2, 0, 0, 6, 5)), 0);
	CHECK_EQ(fake_enc_writes(ENC(2, 0, 0, 15, 4)), 0);
	CHECK_EQ(emulate(ENC(2, 0, 0, 3, 6), 3, false), OUT_FORWARDED);	    /* DBGWVR3_EL1 */
	CHECK_EQ(emulate(ENC(2, 0, 0, 3, 7), 3, true), OUT_FORWARDED);	    /* DBGWCR3_EL1 */
	CHECK_EQ(emulate(ENC(2, 0, 0, 4, 6), 3, false), OUT_UNDEF_INJECTED); /* DBGWVR4_EL1 */
	CHECK_EQ(emulate(ENC(2, 0, 0, 4, 7), 3, true), OUT_UNDEF_INJECTED);  /* DBGWCR4_EL1 */
	/* Breakpoint 4 exists while watchpoint 4 does not: the counts are separate. */
	CHECK_EQ(emulate(ENC(2, 0, 0, 4, 4), 3, true), OUT_FORWARDED);
	/* All 16 of each. */
	fake_sysreg_set("id_aa64dfr0_el1", (15ull << 12) | (15ull << 20));
	CHECK_EQ(emulate(ENC(2, 0, 0, 15, 4), 3, true), OUT_FORWARDED);
	CHECK_EQ(emulate(ENC(2, 0, 0, 15, 7), 3, true), OUT_FORWARDED);
	/* The debug registers that are not numbered do not depend on the counts. */
	fake_sysreg_set("id_aa64dfr0_el1", 0);
	CHECK_EQ(emulate(ENC(2, 0, 0, 0, 4), 3, true), OUT_FORWARDED); /* BRPs=0: one breakpoint */
	CHECK_EQ(emulate(ENC(2, 0, 0, 1, 4), 3, true), OUT_UNDEF_INJECTED);
	CHECK_EQ(emulate(ENC(2, 0, 0, 2, 2), 3, true), OUT_FORWARDED); /* MDSCR_EL1 */
}

static void pmu_counters_beyond_pmcr_n(void)
{
	setup();
	fake_sysreg_set("pmcr_el0", 6ull << 11 | 0x41); /* N = 6 */
	fake_enc_set(ENC(3, 3, 14, 8, 5), 0x1234);
	CHECK_EQ(emulate(ENC(3, 3, 14, 8, 5), 1, true), OUT_FORWARDED); /* PMEVCNTR5_EL0 */
	CHECK_EQ(frame.x[1], 0x1234);
	frame.x[1] = 0x77;
	CHECK_EQ(emulate(ENC(3, 3, 14, 8, 6), 1, true), OUT_UNDEF_INJECTED); /* PMEVCNTR6_EL0 */
	CHECK_EQ(frame.x[1], 0x77);
	CHECK_EQ(emulate(ENC(3, 3, 14, 12, 5), 1, false), OUT_FORWARDED);	     /* PMEVTYPER5_EL0 */
	CHECK_EQ(fake_enc_get(ENC(3, 3, 14, 12, 5)), 0x77);
	CHECK_EQ(emulate(ENC(3, 3, 14, 12, 6), 1, false), OUT_UNDEF_INJECTED); /* PMEVTYPER6_EL0 */
	CHECK_EQ(fake_enc_writes(ENC(3, 3, 14, 12, 6)), 0);
	CHECK_EQ(emulate(ENC(3, 3, 14, 11, 6), 1, true), OUT_UNDEF_INJECTED); /* PMEVCNTR30_EL0 */
	/* N counts from CRm[1:0]:op2: counter 8 lives in CRm = 9. */
	fake_sysreg_set("pmcr_el0", 9ull << 11);
	CHECK_EQ(emulate(ENC(3, 3, 14, 9, 0), 1, true), OUT_FORWARDED);	      /* PMEVCNTR8_EL0 */
	CHECK_EQ(emulate(ENC(3, 3, 14, 9, 1), 1, true), OUT_UNDEF_INJECTED);  /* PMEVCNTR9_EL0 */
	CHECK_EQ(emulate(ENC(3, 3, 14, 13, 0), 1, true), OUT_FORWARDED);      /* PMEVTYPER8_EL0 */
	fake_sysreg_set("pmcr_el0", 31ull << 11);
	CHECK_EQ(emulate(ENC(3, 3, 14, 11, 6), 1, true), OUT_FORWARDED);      /* PMEVCNTR30_EL0 */
	CHECK_EQ(emulate(ENC(3, 3, 14, 15, 6), 1, true), OUT_FORWARDED);      /* PMEVTYPER30_EL0 */
	/* No event counters at all; the cycle counter's registers are not numbered. */
	fake_sysreg_set("pmcr_el0", 0);
	CHECK_EQ(emulate(ENC(3, 3, 14, 8, 0), 1, true), OUT_UNDEF_INJECTED);
	CHECK_EQ(emulate(ENC(3, 3, 14, 15, 7), 1, true), OUT_FORWARDED); /* PMCCFILTR_EL0 */
	CHECK_EQ(emulate(ENC(3, 3, 9, 13, 0), 1, true), OUT_FORWARDED);  /* PMCCNTR_EL0 */
}

/* ---- what vCPUs sharing a pCPU do not have (hide_unswitched, sysreg.c) ---- */

/* vCPUs 0 and 1 on pCPU 0: sched_shared, as sched.c's placement sets it. */
static void setup_shared(void)
{
	setup();
	vcpu_count = 2;
	sched_place(vcpu_by_id(1), &pcpus[0]);
	CHECK(sched_shared);
}

/* The fields that announce what the hypervisor does not switch: SVE and SME (their
 * Z, P, ZA state) and the PMU (its counters are the pCPU's). */
static const struct {
	u32 enc;
	u64 hidden;
} unswitched[] = {
	{ E_ID_AA64PFR0_EL1, 0xfull << 32 }, /* SVE [35:32] */
	{ ENC(3, 0, 0, 4, 1), 0xfull << 24 }, /* ID_AA64PFR1_EL1.SME [27:24] */
	{ ENC(3, 0, 0, 4, 4), ~0ull },	      /* ID_AA64ZFR0_EL1: all of it */
	{ ENC(3, 0, 0, 4, 5), ~0ull },	      /* ID_AA64SMFR0_EL1 */
	{ E_ID_AA64DFR0_EL1, 0xfull << 8 },   /* PMUVer [11:8] */
	{ ENC(3, 0, 0, 1, 2), 0xfull << 24 }, /* ID_DFR0_EL1.PerfMon [27:24] */
};

/* ... and the fields that may announce SCXTNUM_EL0/EL1, which is neither
 * switched nor the guest's then: at most 1, CSV2 (or CSV2_1p1) without them. */
static const struct {
	u32 enc;
	unsigned shift;
} capped_at_1[] = {
	{ E_ID_AA64PFR0_EL1, 56 },     /* CSV2 [59:56] */
	{ ENC(3, 0, 0, 4, 1), 32 },    /* ID_AA64PFR1_EL1.CSV2_frac [35:32] */
};

/* v as the guest reads it in register enc, the capped fields of enc at most 1. */
static u64 capped(u32 enc, u64 v)
{
	for (unsigned i = 0; i < ARRAY_SIZE(capped_at_1); i++)
		if (capped_at_1[i].enc == enc && ((v >> capped_at_1[i].shift) & 0xf) > 1)
			v = (v & ~(0xfull << capped_at_1[i].shift)) | 1ull << capped_at_1[i].shift;
	return v;
}

static u64 hidden_of(u32 enc)
{
	for (unsigned i = 0; i < ARRAY_SIZE(unswitched); i++)
		if (unswitched[i].enc == enc)
			return unswitched[i].hidden;
	return 0;
}

/* Every ID register read as the guest reads it, the hardware's value with no field 0. */
static void read_every_id_register(bool shared)
{
	for (unsigned i = 0; i < sysreg_count; i++) {
		const struct sysreg_desc *d = &sysreg_table[i];
		u64 hw = 0x1234567891abcdefull ^ i, want = shared ? capped(d->enc, hw & ~hidden_of(d->enc)) : hw;

		if (d->kind != SR_ID)
			continue;
		fake_enc_set(d->enc, hw);
		frame.x[12] = 0;
		CHECK_EQ(emulate(d->enc, 12, true), OUT_EMULATED);
		if (frame.x[12] != want)
			printf("%s: %#llx, want %#llx\n", d->name, (unsigned long long)frame.x[12], (unsigned long long)want);
		CHECK_EQ(frame.x[12], want);
	}
}

static void shared_pcpus_hide_unswitched_fields(void)
{
	setup_shared();
	for (unsigned i = 0; i < ARRAY_SIZE(unswitched); i++)
		CHECK(sysreg_find(unswitched[i].enc) && sysreg_find(unswitched[i].enc)->kind == SR_ID);
	/* Those fields read 0 and nothing else changes, in those registers or any other. */
	read_every_id_register(true);
	/* PMUVer 0 is "no PMU" whatever the version was; the same for a PMU that is IMPDEF (0xf). */
	fake_enc_set(E_ID_AA64DFR0_EL1, 0xf00 | 0x6);
	CHECK_EQ(emulate(E_ID_AA64DFR0_EL1, 3, true), OUT_EMULATED);
	CHECK_EQ(frame.x[3], 0x6);
	/* CSV2 2 (SCXTNUM) reads 1, CSV2 1 and 0 as they are. */
	for (u64 csv2 = 0; csv2 <= 2; csv2++) {
		fake_enc_set(E_ID_AA64PFR0_EL1, csv2 << 56 | 0x11);
		CHECK_EQ(emulate(E_ID_AA64PFR0_EL1, 3, true), OUT_EMULATED);
		CHECK_EQ(frame.x[3], (csv2 ? 1ull : 0) << 56 | 0x11);
	}
}

/* One vCPU per pCPU: the ID registers are the hardware's, every field of them. */
static void alone_on_pcpus_hide_nothing(void)
{
	setup();
	CHECK(!sched_shared);
	read_every_id_register(false);
}

/*
 * While vCPUs share pCPUs every PMU register is UNDEFINED, read or written, the
 * numbered counters that exist included, and the hardware's is never touched:
 * the guest has no PMU (its ID registers say so). With a pCPU per vCPU the same
 * accesses are forwarded.
 */
static void shared_pcpus_pmu_registers_undefined(void)
{
	unsigned pmu = 0;

	setup_shared();
	fake_sysreg_set("pmcr_el0", 31ull << 11); /* N = 31: every PMEV* register there */
	for (unsigned i = 0; i < sysreg_count; i++) {
		const struct sysreg_desc *d = &sysreg_table[i];
		if (d->cls != TRAP_PMU)
			continue;
		pmu++;
		fake_enc_set(d->enc, 0x600d);
		frame.x[6] = 0x66;
		if (emulate(d->enc, 6, true) != OUT_UNDEF_INJECTED)
			printf("%s read: not UNDEFINED\n", d->name);
		CHECK_EQ(emulate(d->enc, 6, true), OUT_UNDEF_INJECTED);
		CHECK_EQ(frame.x[6], 0x66);
		CHECK_EQ(emulate(d->enc, 6, false), OUT_UNDEF_INJECTED);
		CHECK_EQ(fake_enc_reads(d->enc), 0);
		CHECK_EQ(fake_enc_writes(d->enc), 0);
		CHECK_EQ(fake_enc_get(d->enc), 0x600d);
	}
	CHECK(pmu >= 70); /* PMCR_EL0 .. PMCCFILTR_EL0, PMEVCNTR/PMEVTYPER0-30 */
	CHECK_EQ(sysreg_class_of(find("PMCR_EL0"), ENC(3, 3, 9, 12, 0)), TRAP_PMU);
	CHECK_EQ(sysreg_class_of(find("PMCCNTR_EL0"), ENC(3, 3, 9, 13, 0)), TRAP_PMU);
	CHECK_EQ(sysreg_class_of(find("PMUSERENR_EL0"), ENC(3, 3, 9, 14, 0)), TRAP_PMU);

	/* Not shared: PMCR_EL0 and PMCCNTR_EL0 are the guest's. */
	setup();
	fake_enc_set(ENC(3, 3, 9, 12, 0), 0x41013000);
	CHECK_EQ(emulate(ENC(3, 3, 9, 12, 0), 6, true), OUT_FORWARDED); /* PMCR_EL0 */
	CHECK_EQ(frame.x[6], 0x41013000);
	frame.x[7] = 0x1234567ab0;
	CHECK_EQ(emulate(ENC(3, 3, 9, 13, 0), 7, false), OUT_FORWARDED); /* PMCCNTR_EL0 */
	CHECK_EQ(fake_enc_get(ENC(3, 3, 9, 13, 0)), 0x1234567ab0);
	CHECK_EQ(emulate(ENC(3, 3, 9, 13, 0), 8, true), OUT_FORWARDED);
	CHECK_EQ(frame.x[8], 0x1234567ab0);
}

static void rw_forwarded(void)
{
	setup();
	frame.x[7] = 0x30d00805;
	CHECK_EQ(emulate(E_SCTLR_EL1, 7, false), OUT_FORWARDED);
	CHECK_EQ(fake_enc_get(E_SCTLR_EL1), 0x30d00805);
	CHECK_EQ(fake_enc_writes(E_SCTLR_EL1), 1);
	CHECK(last.write);
	CHECK_EQ(last.value, 0x30d00805);
	CHECK_EQ(frame.x[7], 0x30d00805);

	fake_enc_set(ENC(3, 0, 12, 0, 0), 0xffff800008010800ull); /* VBAR_EL1 */
	CHECK_EQ(emulate(ENC(3, 0, 12, 0, 0), 30, true), OUT_FORWARDED);
	CHECK_EQ(frame.x[30], 0xffff800008010800ull);
	CHECK_EQ(last.value, 0xffff800008010800ull);
	CHECK_EQ(fake_enc_writes(ENC(3, 0, 12, 0, 0)), 0);
	CHECK_EQ(fake_enc_reads(ENC(3, 0, 12, 0, 0)), 1);
	/* Register 0 is a register, not "none". */
	frame.x[0] = 0xabc;
	CHECK_EQ(emulate(ENC(3, 0, 13, 0, 4), 0, false), OUT_FORWARDED); /* TPIDR_EL1 */
	CHECK_EQ(fake_enc_get(ENC(3, 0, 13, 0, 4)), 0xabc);
}

static void xzr_reads_zero_writes_discarded(void)
{
	struct trap_frame before;

	setup();
	/* msr sctlr_el1, xzr writes 0, whatever the frame holds. */
	fake_enc_set(E_SCTLR_EL1, 0x30d00805);
	CHECK_EQ(emulate(E_SCTLR_EL1, 31, false), OUT_FORWARDED);
	CHECK_EQ(fake_enc_get(E_SCTLR_EL1), 0);
	CHECK_EQ(fake_enc_writes(E_SCTLR_EL1), 1);
	CHECK_EQ(last.value, 0);
	/* mrs xzr, ...: the value is read (and recorded) but lands nowhere. */
	before = frame;
	fake_enc_set(E_SCTLR_EL1, 0x1005);
	CHECK_EQ(emulate(E_SCTLR_EL1, 31, true), OUT_FORWARDED);
	CHECK_EQ(last.value, 0x1005);
	CHECK(!memcmp(&frame, &before, sizeof(frame)));
	fake_enc_set(E_ID_AA64PFR0_EL1, 0x11);
	CHECK_EQ(emulate(E_ID_AA64PFR0_EL1, 31, true), OUT_EMULATED);
	CHECK(!memcmp(&frame, &before, sizeof(frame)));
	CHECK_EQ(emulate(ENC(3, 0, 0, 3, 3), 31, true), OUT_EMULATED); /* reserved ID space */
	CHECK(!memcmp(&frame, &before, sizeof(frame)));
}

static void ro_wo_registers(void)
{
	setup();
	fake_enc_set(E_MDRAR_EL1, 0x5);
	CHECK_EQ(emulate(E_MDRAR_EL1, 2, true), OUT_FORWARDED);
	CHECK_EQ(frame.x[2], 0x5);
	CHECK_EQ(emulate(E_MDRAR_EL1, 2, false), OUT_UNDEF_INJECTED);
	CHECK_EQ(fake_enc_writes(E_MDRAR_EL1), 0);
	frame.x[2] = 1;
	CHECK_EQ(emulate(E_OSLAR_EL1, 2, false), OUT_FORWARDED);
	CHECK_EQ(fake_enc_get(E_OSLAR_EL1), 1);
	frame.x[2] = 0x99;
	CHECK_EQ(emulate(E_OSLAR_EL1, 2, true), OUT_UNDEF_INJECTED);
	CHECK_EQ(frame.x[2], 0x99);
	CHECK_EQ(fake_enc_reads(E_OSLAR_EL1), 0);
	CHECK_EQ(emulate(ENC(3, 3, 9, 12, 4), 2, true), OUT_UNDEF_INJECTED); /* PMSWINC_EL0 */
	CHECK_EQ(emulate(ENC(3, 3, 9, 12, 6), 2, false), OUT_UNDEF_INJECTED); /* PMCEID0_EL0 */
}

static void sys_instructions(void)
{
	setup();
	frame.x[5] = 0x0000000000401234ull; /* TLBI VAE1IS operand: VA[55:12] | ASID */
	CHECK_EQ(emulate(E_TLBI_VAE1IS, 5, false), OUT_FORWARDED);
	CHECK_EQ(fake_enc_writes(E_TLBI_VAE1IS), 1);
	CHECK_EQ(fake_enc_get(E_TLBI_VAE1IS), 0x401234);
	/* SYSL does not exist for these: a "read" is UNDEFINED. */
	CHECK_EQ(emulate(E_TLBI_VAE1IS, 5, true), OUT_UNDEF_INJECTED);
	CHECK_EQ(fake_enc_writes(E_TLBI_VAE1IS), 1);
	CHECK_EQ(frame.x[5], 0x401234);
	/* IC IVAU: invalidate everything rather than translate. */
	CHECK_EQ(emulate(E_IC_IVAU, 6, false), OUT_FORWARDED);
	CHECK_EQ(fake_ic_invalidate_all_calls, 1);
	CHECK_EQ(fake_enc_writes(E_IC_IVAU), 0);
	CHECK_EQ(fake_s1.calls, 0);
	CHECK_EQ(emulate(E_IC_IVAU, 6, true), OUT_UNDEF_INJECTED);
	CHECK_EQ(fake_ic_invalidate_all_calls, 1);
	/* IC IALLUIS is re-executed as is. */
	CHECK_EQ(emulate(ENC(1, 0, 7, 1, 0), 31, false), OUT_FORWARDED);
	CHECK_EQ(fake_enc_writes(ENC(1, 0, 7, 1, 0)), 1);
	/* DC ISW is redone as DC CISW: at EL2 a plain invalidate would drop
	 * dirty lines that are not the guest's. */
	frame.x[7] = 0x2040;
	CHECK_EQ(emulate(ENC(1, 0, 7, 6, 2), 7, false), OUT_FORWARDED);
	CHECK_EQ(fake_enc_writes(ENC(1, 0, 7, 6, 2)), 0);
	CHECK_EQ(fake_enc_writes(ENC(1, 0, 7, 14, 2)), 1);
	CHECK_EQ(fake_enc_get(ENC(1, 0, 7, 14, 2)), 0x2040);
}

static void dc_by_va_translated(void)
{
	setup();
	fake_s1.ok = true;
	fake_s1.ipa_offset = 0x40000000 - 0xffff000000000000ull; /* VA 0xffff0000_0008_1040 -> IPA 0x40081040 */
	fake_s2.ok = true;
	fake_s2.pa_offset = 0x40000000; /* IPA 0x40081040 -> PA 0x80081040 */
	frame.x[6] = 0xffff000000081040ull;
	CHECK_EQ(emulate(E_DC_CIVAC, 6, false), OUT_FORWARDED);
	CHECK_EQ(fake_s1.calls, 1);
	CHECK_EQ(fake_s1.last_va, 0xffff000000081040ull);
	CHECK_EQ(fake_s2.calls, 1);
	CHECK_EQ(fake_enc_writes(E_DC_CIVAC), 1);
	CHECK_EQ(fake_enc_get(E_DC_CIVAC), 0x80081040);
	CHECK_EQ(trap_pc(), 0x40081000); /* the trap path advances it, not the emulation */
	/* Reads of a DC operation are UNDEFINED and translate nothing. */
	CHECK_EQ(emulate(E_DC_CIVAC, 6, true), OUT_UNDEF_INJECTED);
	CHECK_EQ(fake_s1.calls, 1);
}

static void dc_by_va_outside_ram_or_unmapped(void)
{
	setup();
	fake_s1.ok = true;
	fake_s2.ok = true;
	/* A device address: nothing to maintain, nothing looked up. */
	frame.x[1] = 0x09000000;
	CHECK_EQ(emulate(E_DC_CIVAC, 1, false), OUT_FORWARDED);
	CHECK_EQ(fake_s2.calls, 0);
	CHECK_EQ(fake_enc_writes(E_DC_CIVAC), 0);
	/* The last byte of RAM is RAM; the first byte after it is not. */
	frame.x[1] = 0x7fffffff;
	CHECK_EQ(emulate(E_DC_CIVAC, 1, false), OUT_FORWARDED);
	CHECK_EQ(fake_enc_writes(E_DC_CIVAC), 1);
	CHECK_EQ(fake_enc_get(E_DC_CIVAC), 0x7fffffff);
	frame.x[1] = 0x80000000;
	CHECK_EQ(emulate(E_DC_CIVAC, 1, false), OUT_FORWARDED);
	CHECK_EQ(fake_enc_writes(E_DC_CIVAC), 1);
	/* RAM the stage 2 does not map. */
	fake_s2.ok = false;
	frame.x[1] = 0x40000040;
	CHECK_EQ(emulate(E_DC_CIVAC, 1, false), OUT_FORWARDED);
	CHECK_EQ(fake_s2.calls, 2);
	CHECK_EQ(fake_enc_writes(E_DC_CIVAC), 1);
}

static void dc_by_va_fault_injected(void)
{
	const u64 vbar = 0xffff800008010000ull;

	setup();
	fake_s1.ok = false;
	fake_s1.fsc = 0x07; /* translation fault, level 3 */
	fake_sysreg_set("vbar_el1", vbar);
	fake_sysreg_set("id_aa64mmfr1_el1", 0); /* no PAN */
	frame.x[6] = 0xffff000000099000ull;
	CHECK_EQ(emulate(E_DC_CIVAC, 6, false), OUT_ABORT_INJECTED);
	CHECK_EQ(fake_enc_writes(E_DC_CIVAC), 0);
	CHECK_EQ(fake_s2.calls, 0);
	/* The guest takes a data abort at EL1, current EL, from the DC: CM and WnR set. */
	u64 esr = fake_sysreg_get("esr_el1");
	CHECK_EQ(ESR_EC(esr), EC_DABT_CUR);
	CHECK(esr & ESR_IL);
	CHECK(esr & ESR_DABT_CM);
	CHECK(esr & ESR_DABT_WNR);
	CHECK_EQ(ESR_xABT_FSC(esr), 0x07);
	CHECK_EQ(fake_sysreg_get("far_el1"), 0xffff000000099000ull);
	CHECK_EQ(fake_sysreg_get("elr_el1"), 0x40081000);
	CHECK_EQ(fake_sysreg_get("spsr_el1"), 0x3c5);
	CHECK_EQ(trap_pc(), vbar + 0x200);
	CHECK_EQ(trap_pstate(), SPSR_MODE_EL1H | SPSR_DAIF);

	/* From EL0: a lower-EL abort to the EL0 vector. */
	setup();
	fake_s1.fsc = 0x0f;
	fake_sysreg_set("vbar_el1", vbar);
	trap_set_pstate(0); /* EL0t */
	frame.x[2] = 0x400000;
	CHECK_EQ(emulate(E_DC_CIVAC, 2, false), OUT_ABORT_INJECTED);
	CHECK_EQ(ESR_EC(fake_sysreg_get("esr_el1")), EC_DABT_LOW);
	CHECK_EQ(ESR_xABT_FSC(fake_sysreg_get("esr_el1")), 0x0f);
	CHECK_EQ(trap_pc(), vbar + 0x400);
}

int main(void)
{
	/* Keep the PASS/FAIL lines already printed if a sanitizer aborts the run. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	RUN(table_sorted_strictly);
	RUN(table_entries_well_formed);
	RUN(table_accessors_match_encoding);
	RUN(find_every_entry_and_no_gap);
	RUN(find_by_name);
	RUN(name_of_encoding);
	RUN(real_encodings);
	RUN(class_of_access);
	RUN(numbered_registers_complete);
	RUN(id_register_hw_virtual_reset);
	RUN(virtual_values_only_for_id_registers);
	RUN(id_register_write_is_undef);
	RUN(midr_mpidr_are_the_vcpus);
	RUN(reserved_id_space_reads_zero);
	RUN(unknown_encoding_is_undef);
	RUN(debug_registers_beyond_brps_wrps);
	RUN(pmu_counters_beyond_pmcr_n);
	RUN(shared_pcpus_hide_unswitched_fields);
	RUN(alone_on_pcpus_hide_nothing);
	RUN(shared_pcpus_pmu_registers_undefined);
	RUN(rw_forwarded);
	RUN(xzr_reads_zero_writes_discarded);
	RUN(ro_wo_registers);
	RUN(sys_instructions);
	RUN(dc_by_va_translated);
	RUN(dc_by_va_outside_ram_or_unmapped);
	RUN(dc_by_va_fault_injected);
	return CHECK_DONE();
}
