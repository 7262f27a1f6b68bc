/*
 * The trap classes (hv/core/vcpu.c): what switching each one on writes to
 * HCR_EL2, MDCR_EL2 and CPTR_EL2, checked bit by bit against the Arm ARM's
 * numbering written out here, not against the table under test. Some of these
 * traps cannot be seen from a guest under QEMU 7.2 (its WFE never traps,
 * whatever HCR_EL2.TWE says), so this is where they are checked. So are the
 * traps trap_apply() adds of its own: for vCPUs that share pCPUs, and for a
 * vCPU GDB steps.
 */
#include "check.h"
#include "hv_fakes.h"
#include "sched.h"

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
#define ENSCXT (1ull << 53)
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
/* CPTR_EL2, E2H = 0 (D19.2.31): RES1 bits [7:0], 9, 13; TZ [8], TFP [10], TSM [12] */
#define CPTR_ALWAYS (0xffULL | BIT(9) | BIT(13))
#define TZ BIT(8)
#define TFP BIT(10)
#define TSM BIT(12)

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

static struct vcpu *V(unsigned i)
{
	return &vcpu_slots[i].vcpu;
}

/* n vCPUs on two pCPUs, vCPU i on pCPU i % 2 as at boot: n > 2 shares them. */
static void setup_vcpus(unsigned n)
{
	fake_place_vcpus(n);
	for (unsigned i = 0; i < 2; i++)
		pcpus[i].mdcr_base = HPMN;
	trap_config.enabled = 0;
}

static void setup(void)
{
	setup_vcpus(2);
}

/* trap_apply() for v, on its pCPU, with the classes on. */
static void apply_to(struct vcpu *v, u32 classes, u64 *hcr, u64 *mdcr, u64 *cptr)
{
	host_this_pcpu = vcpu_pcpu(v);
	trap_config.enabled = classes;
	trap_apply(v);
	*hcr = fake_sysreg_get("hcr_el2");
	*mdcr = fake_sysreg_get("mdcr_el2");
	*cptr = fake_sysreg_get("cptr_el2");
}

static void apply(u32 classes, u64 *hcr, u64 *mdcr, u64 *cptr)
{
	apply_to(V(0), classes, hcr, mdcr, cptr);
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
	CHECK_EQ(V(0)->exit_work, 0);
	CHECK_EQ(V(1)->exit_work, 0);
}

/*
 * A switch reaches every vCPU at its next exit: three vCPUs on two pCPUs, so
 * one flag per pCPU would leave a vCPU out (the one not running when it is
 * set, and the third entirely).
 */
static void switching_a_class(void)
{
	setup_vcpus(3);
	trap_class_set(TRAP_WFE, true);
	CHECK_EQ(trap_config.enabled, BIT(TRAP_WFE));
	CHECK_EQ(V(0)->exit_work, EXIT_WORK_TRAPS);
	CHECK_EQ(V(1)->exit_work, EXIT_WORK_TRAPS);
	CHECK_EQ(V(2)->exit_work, EXIT_WORK_TRAPS);
	CHECK_EQ(V(3)->exit_work, 0); /* only the vCPUs that exist */
	trap_class_set(TRAP_VM, true);
	CHECK_EQ(trap_config.enabled, BIT(TRAP_WFE) | BIT(TRAP_VM));
	trap_class_set(TRAP_WFE, false);
	CHECK_EQ(trap_config.enabled, BIT(TRAP_VM));
	/* The flag joins what else a vCPU has to do at its exit. */
	V(1)->exit_work = EXIT_WORK_VGIC;
	trap_class_set(TRAP_PMU, true);
	CHECK_EQ(V(1)->exit_work, EXIT_WORK_VGIC | EXIT_WORK_TRAPS);
}

/* Applying is the vCPU's own exit work done: its flag goes, its other work and
 * the other vCPUs' flags stay. */
static void apply_clears_only_its_own_flag(void)
{
	u64 hcr, mdcr, cptr;

	setup_vcpus(3);
	V(0)->exit_work = EXIT_WORK_TRAPS | EXIT_WORK_VGIC;
	V(1)->exit_work = EXIT_WORK_TRAPS;
	V(2)->exit_work = EXIT_WORK_TRAPS; /* the other vCPU of pCPU 0 */
	apply(0, &hcr, &mdcr, &cptr);
	CHECK_EQ(V(0)->exit_work, EXIT_WORK_VGIC);
	CHECK_EQ(V(1)->exit_work, EXIT_WORK_TRAPS);
	CHECK_EQ(V(2)->exit_work, EXIT_WORK_TRAPS);
	/* Then the other vCPU of pCPU 0, switched in. */
	apply_to(V(2), 0, &hcr, &mdcr, &cptr);
	CHECK_EQ(V(2)->exit_work, 0);
	CHECK_EQ(V(1)->exit_work, EXIT_WORK_TRAPS);
	CHECK_EQ(V(0)->exit_work, EXIT_WORK_VGIC);
}

/* MDCR_EL2's HPMN is the vCPU's pCPU's (counters are per pCPU), not pCPU 0's. */
static void mdcr_base_is_its_pcpus(void)
{
	u64 hcr, mdcr, cptr;

	setup();
	pcpus[1].mdcr_base = 3;
	apply_to(V(1), BIT(TRAP_PMU), &hcr, &mdcr, &cptr);
	CHECK_EQ(mdcr, 3 | TPM | TPMCR);
	apply_to(V(0), BIT(TRAP_PMU), &hcr, &mdcr, &cptr);
	CHECK_EQ(mdcr, HPMN | TPM | TPMCR);
}

/* While vCPUs share pCPUs: the pointer-authentication keys, until they are live. */
#define HCR_SHARED (HCR_ALWAYS & ~(APK | API))

/*
 * vCPUs sharing pCPUs: the debug registers (TDA, TDOSA, TDRA), the PMU's
 * (TPM, TPMCR), the ID registers that show SVE, SME and the PMU (TID3), and
 * SVE and SME themselves (TZ, TSM) trap, with no class on, and for every vCPU, the one alone on its pCPU
 * too (sched_shared is the machine's); so does pointer authentication (APK,
 * API clear) until the vCPU's keys are live.
 */
static void shared_pcpus_trap_what_is_not_switched(void)
{
	u64 hcr, mdcr, cptr;

	setup_vcpus(3); /* vCPUs 0 and 2 on pCPU 0, vCPU 1 alone on pCPU 1 */
	CHECK(sched_shared);
	for (unsigned i = 0; i < 3; i++) {
		apply_to(V(i), 0, &hcr, &mdcr, &cptr);
		CHECK_EQ(hcr, HCR_SHARED | TID3 | TWI);
		CHECK_EQ(mdcr, HPMN | TDA | TDOSA | TDRA | TPM | TPMCR);
		/* vCPU 2 shares pCPU 0's FP/SIMD registers, which hold vCPU 0's. */
		CHECK_EQ(cptr, CPTR_ALWAYS | TZ | TSM | (i == 2 ? TFP : 0));
	}
	/* On top of the classes; the fp class's TFP still its own. */
	apply_to(V(0), BIT(TRAP_FP) | BIT(TRAP_WFE), &hcr, &mdcr, &cptr);
	CHECK_EQ(hcr, HCR_SHARED | TID3 | TWI | TWE);
	CHECK_EQ(mdcr, HPMN | TDA | TDOSA | TDRA | TPM | TPMCR);
	CHECK_EQ(cptr, CPTR_ALWAYS | TZ | TSM | TFP);
	/* Switching the id, debug or pmu class off does not lift them. */
	apply_to(V(0), BIT(TRAP_ID) | BIT(TRAP_DEBUG) | BIT(TRAP_PMU), &hcr, &mdcr, &cptr);
	apply_to(V(0), 0, &hcr, &mdcr, &cptr);
	CHECK_EQ(hcr, HCR_SHARED | TID3 | TWI);
	CHECK_EQ(mdcr, HPMN | TDA | TDOSA | TDRA | TPM | TPMCR);
	/* A vCPU whose keys are live (it used them) runs with them untrapped;
	 * the other vCPU of its pCPU still traps. */
	V(2)->ctx.pauth_live = true;
	apply_to(V(2), 0, &hcr, &mdcr, &cptr);
	CHECK_EQ(hcr, HCR_ALWAYS | TID3 | TWI);
	apply_to(V(0), 0, &hcr, &mdcr, &cptr);
	CHECK_EQ(hcr, HCR_SHARED | TID3 | TWI);
}

/*
 * FP/SIMD is switched lazily: a vCPU runs with TFP set while its pCPU's
 * registers hold another's, and its first use there (the fp trap) makes it
 * the owner, after which the other is the one that traps.
 */
static void lazy_fp_traps_while_another_owns(void)
{
	u64 hcr, mdcr, cptr;

	setup_vcpus(3); /* vCPUs 0 and 2 on pCPU 0 */
	CHECK(V(0)->pcpu->fp_owner == V(0));
	apply_to(V(2), 0, &hcr, &mdcr, &cptr);
	CHECK_EQ(cptr & TFP, TFP);
	context_fp_claim(V(2));
	apply_to(V(2), 0, &hcr, &mdcr, &cptr);
	CHECK_EQ(cptr & TFP, 0);
	apply_to(V(0), 0, &hcr, &mdcr, &cptr);
	CHECK_EQ(cptr & TFP, TFP);
	/* The fp class traps the owner too. */
	apply_to(V(2), BIT(TRAP_FP), &hcr, &mdcr, &cptr);
	CHECK_EQ(cptr & TFP, TFP);
}

/* One vCPU per pCPU: none of that; the guest has its registers to itself,
 * SCXTNUM_EL0/EL1 too where the CPU has them (HCR_EL2.EnSCXT). */
static void alone_on_pcpus_traps_nothing_more(void)
{
	u64 hcr, mdcr, cptr;

	setup_vcpus(2);
	fake_scxtnum = true; /* fixed at boot, so the trap controls cached for the pCPU hold it */
	apply_to(V(1), 0, &hcr, &mdcr, &cptr);
	CHECK_EQ(hcr, HCR_ALWAYS | ENSCXT);
	setup_vcpus(2);
	CHECK(!sched_shared);
	for (unsigned i = 0; i < 2; i++) {
		apply_to(V(i), 0, &hcr, &mdcr, &cptr);
		CHECK_EQ(hcr & TID3, 0);
		CHECK_EQ(mdcr & (TDA | TDOSA | TDRA), 0);
		CHECK_EQ(cptr & (TZ | TSM), 0);
		CHECK_EQ(hcr, HCR_ALWAYS);
		CHECK_EQ(mdcr, HPMN);
		CHECK_EQ(cptr, CPTR_ALWAYS);
	}
}

/* A vCPU GDB steps traps WFI (a stepped WFI must not sleep), with the wfi class
 * off; only that vCPU, and only while it steps. */
static void stepping_traps_wfi(void)
{
	u64 hcr, mdcr, cptr;

	setup();
	V(0)->dbg.stepping = true;
	apply_to(V(0), 0, &hcr, &mdcr, &cptr);
	CHECK_EQ(hcr, HCR_ALWAYS | TWI);
	CHECK_EQ(mdcr, HPMN);
	CHECK_EQ(cptr, CPTR_ALWAYS);
	apply_to(V(1), 0, &hcr, &mdcr, &cptr);
	CHECK_EQ(hcr, HCR_ALWAYS);
	V(0)->dbg.stepping = false;
	apply_to(V(0), 0, &hcr, &mdcr, &cptr);
	CHECK_EQ(hcr, HCR_ALWAYS);
	/* Stepping on a shared pCPU: both. */
	setup_vcpus(3);
	V(2)->dbg.stepping = true;
	apply_to(V(2), BIT(TRAP_WFE), &hcr, &mdcr, &cptr);
	CHECK_EQ(hcr, HCR_SHARED | TID3 | TWI | TWE);
}

int main(void)
{
	RUN(no_class_on);
	RUN(each_class_sets_its_bits);
	RUN(every_class_on);
	RUN(always_on_classes);
	RUN(switching_a_class);
	RUN(apply_clears_only_its_own_flag);
	RUN(mdcr_base_is_its_pcpus);
	RUN(shared_pcpus_trap_what_is_not_switched);
	RUN(lazy_fp_traps_while_another_owns);
	RUN(alone_on_pcpus_traps_nothing_more);
	RUN(stepping_traps_wfi);
	return CHECK_DONE();
}
