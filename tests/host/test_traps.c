/*
 * The trap classes (hv/core/vcpu.c): what switching each one on writes to
 * HCR_EL2, MDCR_EL2 and CPTR_EL2, checked bit by bit against the Arm ARM's
 * numbering written out here, not against the table under test. Some of these
 * traps cannot be seen from a guest under QEMU 7.2 (its WFE never traps,
 * whatever HCR_EL2.TWE says), so this is where they are checked.
 */
#include "check.h"
#include "hv_fakes.h"

/* HCR_EL2 (D19.2.48) */
#define VM BIT(0)
#define SWIO BIT(1)
#define FMO BIT(3)
#define IMO BIT(4)
#define TWI BIT(13)
#define TWE BIT(14)
#define TID1 BIT(16)
#define TID2 BIT(17)
#define TID3 BIT(18)
#define TSC BIT(19)
#define TACR BIT(21)
#define TSW BIT(22)
#define TPCP BIT(23)
#define TPU BIT(24)
#define TTLB BIT(25)
#define TVM BIT(26)
#define TRVM BIT(30)
#define RW BIT(31)
#define APK BIT(40)
#define API BIT(41)
/* Every guest runs with these: stage 2, AArch64 EL1, set/way invalidate as
 * clean+invalidate, SMC trapped, pointer authentication keys and instructions
 * not trapped, every physical interrupt (IRQ and FIQ) to EL2. */
#define HCR_ALWAYS (VM | SWIO | FMO | IMO | TSC | RW | APK | API)
/* MDCR_EL2 (D19.2.80) */
#define TPMCR BIT(5)
#define TPM BIT(6)
#define TDA BIT(9)
#define TDOSA BIT(10)
#define TDRA BIT(11)
#define HPMN 6 /* what the platform leaves the guest: its counters */
/* CPTR_EL2, E2H = 0 (D19.2.31): RES1 bits [7:0], 9, 13; TFP [10] */
#define CPTR_ALWAYS (0xffULL | BIT(9) | BIT(13))
#define TFP BIT(10)

static const struct {
	unsigned cls;
	const char *name;
	u64 hcr, mdcr, cptr;
} expected[] = {
	{ TRAP_WFI, "wfi", TWI, 0, 0 },
	{ TRAP_WFE, "wfe", TWE, 0, 0 },
	{ TRAP_SYSREG, "sysreg", TACR, 0, 0 },
	{ TRAP_ID, "id", TID1 | TID2 | TID3, 0, 0 },
	{ TRAP_VM, "vm", TVM | TRVM, 0, 0 },
	{ TRAP_CACHE, "cache", TSW | TPCP | TPU | TTLB, 0, 0 },
	{ TRAP_DEBUG, "debug", 0, TDA | TDOSA | TDRA, 0 },
	{ TRAP_PMU, "pmu", 0, TPM | TPMCR, 0 },
	{ TRAP_FP, "fp", 0, 0, TFP },
};

static void setup(void)
{
	fake_reset();
	pcpu_count = 2;
	for (unsigned i = 0; i < 2; i++) {
		pcpus[i].id = i;
		pcpus[i].mdcr_base = HPMN;
	}
	trap_config.enabled = 0;
}

static void apply(u32 classes, u64 *hcr, u64 *mdcr, u64 *cptr)
{
	trap_config.enabled = classes;
	trap_apply(&pcpus[0]);
	*hcr = fake_sysreg_get("hcr_el2");
	*mdcr = fake_sysreg_get("mdcr_el2");
	*cptr = fake_sysreg_get("cptr_el2");
}

static void no_class_on(void)
{
	u64 hcr, mdcr, cptr;

	setup();
	apply(0, &hcr, &mdcr, &cptr);
	CHECK_EQ(hcr, HCR_ALWAYS);
	CHECK_EQ(mdcr, HPMN);
	CHECK_EQ(cptr, CPTR_ALWAYS);
}

static void each_class_sets_its_bits(void)
{
	for (unsigned i = 0; i < ARRAY_SIZE(expected); i++) {
		u64 hcr, mdcr, cptr;

		setup();
		apply(BIT(expected[i].cls), &hcr, &mdcr, &cptr);
		if (hcr != (HCR_ALWAYS | expected[i].hcr) || mdcr != (HPMN | expected[i].mdcr) ||
		    cptr != (CPTR_ALWAYS | expected[i].cptr))
			printf("class %s: HCR_EL2 %#llx MDCR_EL2 %#llx CPTR_EL2 %#llx\n", expected[i].name,
			       (unsigned long long)hcr, (unsigned long long)mdcr, (unsigned long long)cptr);
		CHECK_EQ(hcr, HCR_ALWAYS | expected[i].hcr);
		CHECK_EQ(mdcr, HPMN | expected[i].mdcr);
		CHECK_EQ(cptr, CPTR_ALWAYS | expected[i].cptr);
	}
}

static void every_class_on(void)
{
	u64 hcr, mdcr, cptr, want_hcr = HCR_ALWAYS, want_mdcr = HPMN, want_cptr = CPTR_ALWAYS;
	u32 all = 0;

	setup();
	for (unsigned i = 0; i < ARRAY_SIZE(expected); i++) {
		all |= BIT(expected[i].cls);
		want_hcr |= expected[i].hcr;
		want_mdcr |= expected[i].mdcr;
		want_cptr |= expected[i].cptr;
	}
	apply(all, &hcr, &mdcr, &cptr);
	CHECK_EQ(hcr, want_hcr);
	CHECK_EQ(mdcr, want_mdcr);
	CHECK_EQ(cptr, want_cptr);
}

/* hvc, smc and mmio have no control bit: always trapped, and not switchable. */
static void always_on_classes(void)
{
	setup();
	CHECK(trap_class_always_on(TRAP_HVC));
	CHECK(trap_class_always_on(TRAP_SMC));
	CHECK(trap_class_always_on(TRAP_MMIO));
	for (unsigned i = 0; i < ARRAY_SIZE(expected); i++)
		CHECK(!trap_class_always_on(expected[i].cls));
	trap_class_set(TRAP_HVC, false);
	CHECK_EQ(trap_config.enabled, 0);
	CHECK_EQ(pcpus[0].exit_work, 0);
}

/* A switch reaches every pCPU at its next exit. */
static void switching_a_class(void)
{
	setup();
	trap_class_set(TRAP_WFE, true);
	CHECK_EQ(trap_config.enabled, BIT(TRAP_WFE));
	CHECK_EQ(pcpus[0].exit_work, EXIT_WORK_TRAPS);
	CHECK_EQ(pcpus[1].exit_work, EXIT_WORK_TRAPS);
	trap_class_set(TRAP_VM, true);
	CHECK_EQ(trap_config.enabled, BIT(TRAP_WFE) | BIT(TRAP_VM));
	trap_class_set(TRAP_WFE, false);
	CHECK_EQ(trap_config.enabled, BIT(TRAP_VM));
}

int main(void)
{
	RUN(no_class_on);
	RUN(each_class_sets_its_bits);
	RUN(every_class_on);
	RUN(always_on_classes);
	RUN(switching_a_class);
	return CHECK_DONE();
}
