/*
 * Trapped system-register and system-instruction emulation, driven by the one
 * table in sysreg_list.h. Because each vCPU owns its pCPU, the guest's EL1
 * registers are live in the hardware: "forwarding" a trapped access means
 * performing it at EL2 on the same register.
 */
#include "hv.h"
#include "sched.h"
#include "sysreg.h"
#include "lib.h"
#include "mm.h"
#include "debug.h"
#include "arch/sysreg.h"

/*
 * One read and one write accessor per encoding, built from the instruction
 * encoding (C5.2: MRS/MSR/SYS are 0xd5000000 | L<<21 | op0<<19 | op1<<16 |
 * CRn<<12 | CRm<<8 | op2<<5 | Rt) so registers the assembler does not know and
 * SYS operations (op0 = 1) share one mechanism. Rt is x0.
 */
#define SR_INSN(l, op0, op1, crn, crm, op2) \
	(0xd5000000u | ((l) << 21) | ((op0) << 19) | ((op1) << 16) | ((crn) << 12) | ((crm) << 8) | ((op2) << 5))

#ifndef HOST_TEST
#define X(name, op0, op1, crn, crm, op2, cls, kind)                                           \
	static u64 hw_read_##name(void)                                                      \
	{                                                                                    \
		register u64 x0 asm("x0");                                                   \
		asm volatile(".inst %c1" : "=r"(x0) : "i"(SR_INSN(1, op0, op1, crn, crm, op2))); \
		return x0;                                                                   \
	}                                                                                    \
	static void hw_write_##name(u64 v)                                                   \
	{                                                                                    \
		register u64 x0 asm("x0") = v;                                               \
		asm volatile(".inst %c1" ::"r"(x0), "i"(SR_INSN(0, op0, op1, crn, crm, op2)) : "memory"); \
	}
#else
u64 host_sysreg_enc_read(u32 enc);
void host_sysreg_enc_write(u32 enc, u64 v);
#define X(name, op0, op1, crn, crm, op2, cls, kind)                                            \
	static u64 hw_read_##name(void) { return host_sysreg_enc_read(SYSREG_ENC(op0, op1, crn, crm, op2)); } \
	static void hw_write_##name(u64 v) { host_sysreg_enc_write(SYSREG_ENC(op0, op1, crn, crm, op2), v); }
#endif
#include "sysreg_list.h"
#undef X

const struct sysreg_desc sysreg_table[] = {
#define X(name, op0, op1, crn, crm, op2, cls, kind) \
	{ #name, SYSREG_ENC(op0, op1, crn, crm, op2), cls, kind, hw_read_##name, hw_write_##name },
#include "sysreg_list.h"
#undef X
};
const unsigned sysreg_count = ARRAY_SIZE(sysreg_table);

static u64 virtual_value[ARRAY_SIZE(sysreg_table)];
static bool virtual_set[ARRAY_SIZE(sysreg_table)];

const struct sysreg_desc *sysreg_find(u32 enc)
{
	unsigned lo = 0, hi = sysreg_count;

	while (lo < hi) {
		unsigned mid = (lo + hi) / 2;
		if (sysreg_table[mid].enc == enc)
			return &sysreg_table[mid];
		if (sysreg_table[mid].enc < enc)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static bool name_equal(const char *a, const char *b, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		char x = a[i], y = b[i];
		if (y == '\0')
			return false;
		if (x >= 'a' && x <= 'z')
			x -= 'a' - 'A';
		if (x != y)
			return false;
	}
	return b[len] == '\0';
}

const struct sysreg_desc *sysreg_find_name(const char *name, size_t len)
{
	for (unsigned i = 0; i < sysreg_count; i++)
		if (name_equal(name, sysreg_table[i].name, len))
			return &sysreg_table[i];
	return NULL;
}

const char *sysreg_name(u32 enc, char *buf, size_t size)
{
	const struct sysreg_desc *d = sysreg_find(enc);

	if (d)
		return d->name;
	snprintf(buf, size, "S%u_%u_C%u_C%u_%u", SYSREG_ENC_OP0(enc), SYSREG_ENC_OP1(enc),
		 SYSREG_ENC_CRN(enc), SYSREG_ENC_CRM(enc), SYSREG_ENC_OP2(enc));
	return buf;
}

bool sysreg_set_virtual(const struct sysreg_desc *d, u64 value)
{
	if (d->kind != SR_ID)
		return false;
	virtual_value[d - sysreg_table] = value;
	virtual_set[d - sysreg_table] = true;
	return true;
}

void sysreg_reset_virtual(const struct sysreg_desc *d)
{
	virtual_set[d - sysreg_table] = false;
}

bool sysreg_get_virtual(const struct sysreg_desc *d, u64 *value)
{
	if (!virtual_set[d - sysreg_table])
		return false;
	*value = virtual_value[d - sysreg_table];
	return true;
}

/* The rest of the ID space (op0=3, op1=0, CRn=0, CRm=1..7) is reserved: reads as zero. */
static bool is_reserved_id_space(u32 enc)
{
	return SYSREG_ENC_OP0(enc) == 3 && SYSREG_ENC_OP1(enc) == 0 && SYSREG_ENC_CRN(enc) == 0 &&
	       SYSREG_ENC_CRM(enc) >= 1 && SYSREG_ENC_CRM(enc) <= 7;
}

unsigned sysreg_class_of(const struct sysreg_desc *d, u32 enc)
{
	if (d)
		return d->cls;
	return is_reserved_id_space(enc) ? TRAP_ID : TRAP_SYSREG;
}

/* How many of the numbered debug/PMU registers exist (ID_AA64DFR0_EL1, PMCR_EL0.N). */
static bool numbered_register_exists(const struct sysreg_desc *d)
{
	unsigned crm = SYSREG_ENC_CRM(d->enc), op2 = SYSREG_ENC_OP2(d->enc);

	switch (d->kind) {
	case SR_DBG_BRP: /* ID_AA64DFR0_EL1.BRPs [15:12], number minus one */
		return crm <= FIELD(sysreg_read(id_aa64dfr0_el1), 15, 12);
	case SR_DBG_WRP: /* ID_AA64DFR0_EL1.WRPs [23:20] */
		return crm <= FIELD(sysreg_read(id_aa64dfr0_el1), 23, 20);
	case SR_PMU_CTR: /* PMEV*<n>: n = CRm[1:0]:op2; PMCR_EL0.N [15:11] counters */
		return (crm & 3) * 8 + op2 < FIELD(sysreg_read(pmcr_el0), 15, 11);
	default:
		return true;
	}
}

/*
 * Data cache maintenance by a guest virtual address: translate it through the
 * guest's stage 1 (and our stage 2) and maintain the same physical line
 * through the hypervisor's identity map. A translation fault is the guest's,
 * reported to it as the hardware would have.
 */
static unsigned dc_by_guest_va(struct vcpu *v, struct trap_frame *f, const struct sysreg_desc *d, u64 va)
{
	u64 ipa, pa, fault;

	if (!guest_va_to_ipa(f, va, false, &ipa, &fault)) {
		vcpu_inject_dabt(f, va, ESR_IL | ESR_DABT_CM | ESR_DABT_WNR | fault); /* an A64 DC: 32 bits */
		return OUT_ABORT_INJECTED;
	}
	/* Maintenance of device memory or of an unmapped IPA has nothing to do. */
	if (guest_ram_contains(ipa, 1) && stage2_lookup(ipa, &pa))
		d->hw_write(pa);
	return OUT_FORWARDED;
}


#define ENC_DC_ISW SYSREG_ENC(1, 0, 7, 6, 2)
#define ENC_DC_CISW SYSREG_ENC(1, 0, 7, 14, 2)

/*
 * The operation a trapped system instruction is redone as at EL2. DC ISW
 * becomes DC CISW, as HCR_EL2.SWIO makes it when it is not trapped: at EL2 an
 * invalidate by set/way would drop whatever is dirty in the line, the
 * hypervisor's data or another vCPU's, not only the guest's.
 */
static const struct sysreg_desc *sysreg_sys_op(const struct sysreg_desc *d)
{
	return d->enc == ENC_DC_ISW ? sysreg_find(ENC_DC_CISW) : d;
}

/*
 * What the hypervisor does not switch between vCPUs sharing a pCPU the guest
 * does not have: SVE and SME (their Z, P and ZA state would leak from one
 * vCPU to the next) and the PMU (one vCPU's counters would count and show
 * another's), gone from the ID registers that announce them; SCXTNUM_EL0/EL1
 * too (a CSV2 of 1 says none: their accesses trap, HCR_EL2.EnSCXT clear).
 */
static u64 hide_unswitched(u32 enc, u64 value)
{
	if (!sched_shared)
		return value;
	/* ID_AA64PFR0_EL1.SVE [35:32]; CSV2 [59:56] at most 1: no SCXTNUM (context.c) */
	if (enc == SYSREG_ENC(3, 0, 0, 4, 0))
		return (value & ~(0xfull << 32 | 0xfull << 56)) | (u64)(FIELD(value, 59, 56) ? 1 : 0) << 56;
	/* ID_AA64PFR1_EL1.SME [27:24]; CSV2_frac [35:32] at most 1 (CSV2_1p1: no SCXTNUM) */
	if (enc == SYSREG_ENC(3, 0, 0, 4, 1))
		return (value & ~(0xfull << 24 | 0xfull << 32)) | (u64)(FIELD(value, 35, 32) ? 1 : 0) << 32;
	if (enc == SYSREG_ENC(3, 0, 0, 4, 4) || enc == SYSREG_ENC(3, 0, 0, 4, 5)) /* ID_AA64ZFR0/SMFR0_EL1 */
		return 0;
	if (enc == SYSREG_ENC(3, 0, 0, 5, 0)) /* ID_AA64DFR0_EL1.PMUVer [11:8]: no PMU */
		return value & ~(0xfull << 8);
	if (enc == SYSREG_ENC(3, 0, 0, 1, 2)) /* ID_DFR0_EL1.PerfMon [27:24], AArch32's view */
		return value & ~(0xfull << 24);
	return value;
}

u64 sysreg_guest_value(const struct vcpu *v, const struct sysreg_desc *d)
{
	u64 value;

	if (d->kind == SR_MIDR)
		return v->vpidr;
	if (d->kind == SR_MPIDR)
		return v->vmpidr;
	if (sysreg_get_virtual(d, &value))
		return value;
	return hide_unswitched(d->enc, d->hw_read());
}

unsigned sysreg_emulate(struct vcpu *v, struct trap_frame *f, const struct sysreg_desc *d,
			struct emul_access *acc)
{
	unsigned outcome = OUT_FORWARDED;

	if (acc->write)
		acc->value = frame_get_reg(f, acc->reg);
	if (!d) {
		if (!is_reserved_id_space(acc->addr) || acc->write)
			return OUT_UNDEF_INJECTED;
		acc->value = 0;
		frame_set_reg(f, acc->reg, 0);
		return OUT_EMULATED;
	}
	if (!numbered_register_exists(d))
		return OUT_UNDEF_INJECTED;
	/* One test on the common path (an ID register) for the two classes below. */
	if (BIT(d->cls) & (BIT(TRAP_PMU) | BIT(TRAP_DEBUG))) {
		if (d->cls == TRAP_PMU && sched_shared)
			return OUT_UNDEF_INJECTED; /* the PMU is not switched: not the guest's (hide_unswitched) */
		if (d->cls == TRAP_DEBUG && (debug_owns_debug_registers() || sched_shared) &&
		    debug_guest_debug_register(v, d, acc)) {
			if (!acc->write)
				frame_set_reg(f, acc->reg, acc->value);
			return OUT_EMULATED;
		}
	}
	switch (d->kind) {
	case SR_ID:
	case SR_MIDR:
	case SR_MPIDR:
		if (acc->write)
			return OUT_UNDEF_INJECTED;
		acc->value = sysreg_guest_value(v, d);
		outcome = OUT_EMULATED;
		break;
	case SR_RO:
		if (acc->write)
			return OUT_UNDEF_INJECTED;
		acc->value = d->hw_read();
		break;
	case SR_WO:
		if (!acc->write)
			return OUT_UNDEF_INJECTED;
		d->hw_write(acc->value);
		break;
	case SR_SYS:
	case SR_IC_VA:
		if (!acc->write)
			return OUT_UNDEF_INJECTED;
		if (d->kind == SR_IC_VA)
			cache_ic_invalidate_all();
		else
			sysreg_sys_op(d)->hw_write(acc->value);
		break;
	case SR_DC_VA:
		if (!acc->write)
			return OUT_UNDEF_INJECTED;
		return dc_by_guest_va(v, f, d, acc->value);
	case SR_VDIR:
		if (!acc->write)
			return OUT_UNDEF_INJECTED;
		vgic_dir(v, acc->value & 0xffffff);
		return OUT_EMULATED;
	case SR_SGI:
		if (!acc->write)
			return OUT_UNDEF_INJECTED;
		/* A guest SGI: pending virtual SGIs on its targets (vgic.c). */
		vgic_send_sgi(v, acc->value, SYSREG_ENC_OP2(d->enc) != 7 /* ICC_SGI0R_EL1 */);
		return OUT_EMULATED;
	default:
		if (acc->write)
			d->hw_write(acc->value);
		else
			acc->value = d->hw_read();
	}
	if (!acc->write)
		frame_set_reg(f, acc->reg, acc->value);
	return outcome;
}
