/*
 * System-register probe. Booted with every system-register class trapped and
 * trapvisor.vpidr / vmpidr / sysreg=ID_AA64ISAR0_EL1:... set: the guest must
 * see the virtual identity, the virtual ID value, working forwarded registers,
 * and UNDEFINED where the hardware would give it; the hypervisor must count
 * each access in the right class. Cache maintenance by VA is checked once more
 * with the guest's MMU on: translated through its stage 1, a fault on an
 * unmapped VA reported as the hardware would, and its own PAR_EL1 untouched.
 */
#include "guest.h"
#include "trapvisor/hypercall.h"
#include "trapvisor/event.h"

#define WANT_MIDR 0x410fd4f1ul	  /* set by the test's trapvisor.vpidr */
#define WANT_MPIDR_AFF 0x100ul	  /* trapvisor.vmpidr */
#define WANT_ISAR0 0x0000000000001120ul /* trapvisor.sysreg=ID_AA64ISAR0_EL1:... */

static u64 stat(unsigned cls)
{
	return hvc_call(TV_HC_STAT_COUNT, cls, 0, 0);
}

static u64 counted[TRAP_CLASS_COUNT];

static void snapshot(void)
{
	for (unsigned c = 0; c < TRAP_CLASS_COUNT; c++)
		counted[c] = stat(c);
}

/* The hypervisor counted exactly n traps of class cls since snapshot(). */
static void check_count(unsigned cls, u64 n, const char *what)
{
	u64 got = stat(cls) - counted[cls];

	check(got == n, "%s: %lu traps counted, guest did %lu", what, got, n);
}

/* An access that must be UNDEFINED: the guest's vector sees EC 0. */
#define EXPECT_UNDEF(insn, what)                                                    \
	do {                                                                        \
		fault_expect();                                                     \
		asm volatile(insn ::: "x0", "memory");                              \
		check(fault_taken() && ESR_EC_OF(faults[0].esr) == 0, "%s is UNDEFINED", what); \
	} while (0)

static volatile u64 cache_target[8] __attribute__((aligned(64)));

int main(u64 dtb)
{
	u64 v, dfr0, pmcr;

	gprintf("sysreg: system registers under trapvisor\n");

	/* Identity: MIDR/MPIDR are never trapped, they read VPIDR_EL2/VMPIDR_EL2. */
	check_eq(read_sysreg(midr_el1), WANT_MIDR, "MIDR_EL1 reads the virtual VPIDR value");
	check_eq(read_sysreg(mpidr_el1) & 0xff00ffffffUL, WANT_MPIDR_AFF, "MPIDR_EL1 affinity is the virtual one");

	snapshot();
	/* TID3: a user-chosen virtual value, the real values, the reserved space. */
	check_eq(read_sysreg(id_aa64isar0_el1), WANT_ISAR0, "ID_AA64ISAR0_EL1 has its virtual value");
	v = read_sysreg(id_aa64pfr0_el1);
	check(((v >> 4) & 0xf) != 0, "ID_AA64PFR0_EL1.EL1 says AArch64 (%#lx)", v);
	check_eq(read_sysreg(S3_0_C0_C3_3), 0, "reserved ID register S3_0_C0_C3_3 reads as zero");
	dfr0 = read_sysreg(id_aa64dfr0_el1);
	/* TID2 and TID1 */
	check(read_sysreg(ctr_el0) != 0, "CTR_EL0 reads through (TID2)");
	write_sysreg(csselr_el1, 0);
	check(read_sysreg(ccsidr_el1) != 0, "CCSIDR_EL1 for level 1 data (TID2)");
	check(read_sysreg(clidr_el1) != 0, "CLIDR_EL1 reads through (TID2)");
	read_sysreg(revidr_el1);
	read_sysreg(aidr_el1);
	check_count(TRAP_ID, 10, "id class");

	snapshot();
	/* TVM/TRVM: writes reach the real register, reads come back. */
	v = read_sysreg(sctlr_el1);
	write_sysreg(sctlr_el1, v);
	check_eq(read_sysreg(sctlr_el1), v, "SCTLR_EL1 write then read (TVM/TRVM)");
	write_sysreg(ttbr0_el1, 0x42345000ul);
	check_eq(read_sysreg(ttbr0_el1), 0x42345000ul, "TTBR0_EL1 round trip");
	write_sysreg(mair_el1, 0x44ff00ul);
	check_eq(read_sysreg(mair_el1), 0x44ff00ul, "MAIR_EL1 round trip");
	write_sysreg(contextidr_el1, 7);
	check_eq(read_sysreg(contextidr_el1), 7, "CONTEXTIDR_EL1 round trip");
	check_count(TRAP_VM, 9, "vm class");

	snapshot();
	v = read_sysreg(actlr_el1); /* TACR */
	write_sysreg(actlr_el1, v);
	check_count(TRAP_SYSREG, 2, "sysreg class (ACTLR_EL1)");

	snapshot();
	/* Cache and TLB maintenance: performed for the guest, counted. */
	cache_target[0] = 0x1234;
	asm volatile("dc civac, %0" ::"r"(&cache_target[0]) : "memory");
	asm volatile("dc cvac, %0" ::"r"(&cache_target[0]) : "memory");
	asm volatile("dc isw, %0" ::"r"(0ul) : "memory");
	asm volatile("dc cisw, %0" ::"r"(0ul) : "memory");
	asm volatile("tlbi vmalle1is; dsb ish" ::: "memory");
	asm volatile("tlbi vae1, %0; dsb ish" ::"r"(0x1000ul >> 12) : "memory");
	asm volatile("ic iallu; ic ivau, %0; isb" ::"r"(&main) : "memory");
	check_eq(cache_target[0], 0x1234, "data survives clean+invalidate by VA");
	check_count(TRAP_CACHE, 8, "cache class");
	fault_expect();
	asm volatile("dc civac, %0" ::"r"(0x40000000ul) : "memory"); /* hypervisor memory */
	check(!fault_taken(), "DC CIVAC of an unbacked IPA with the MMU off is harmless");
	/* The hypervisor translates the VA with AT, which writes PAR_EL1: the guest's own. */
	write_sysreg(par_el1, 0x800ul); /* F = 0, an address: anything the guest might hold */
	v = read_sysreg(par_el1);
	asm volatile("dc cvac, %0" ::"r"(&cache_target[0]) : "memory");
	check_eq(read_sysreg(par_el1), v, "PAR_EL1 is the guest's after a trapped DC CVAC");

	snapshot();
	/* MDCR_EL2.TDA: debug registers forwarded; those that do not exist UNDEFINED. */
	write_sysreg(dbgbvr0_el1, 0x42200000ul);
	check_eq(read_sysreg(dbgbvr0_el1), 0x42200000ul, "DBGBVR0_EL1 round trip (TDA)");
	v = read_sysreg(mdscr_el1);
	write_sysreg(mdscr_el1, v);
	check_count(TRAP_DEBUG, 4, "debug class");
	if (((dfr0 >> 12) & 0xf) < 15)
		EXPECT_UNDEF("mrs x0, dbgbvr15_el1", "DBGBVR15_EL1 beyond ID_AA64DFR0_EL1.BRPs");
	else
		skip("this CPU has 16 breakpoints: no absent DBGBVR to probe");

	snapshot();
	/* MDCR_EL2.TPM/TPMCR: PMU registers forwarded. */
	pmcr = read_sysreg(pmcr_el0);
	v = read_sysreg(pmccntr_el0);
	read_sysreg(pmcntenset_el0);
	check_count(TRAP_PMU, 3, "pmu class");
	if (((pmcr >> 11) & 0x1f) < 31)
		EXPECT_UNDEF("mrs x0, pmevcntr30_el0", "PMEVCNTR30_EL0 beyond PMCR_EL0.N");
	else
		skip("this CPU has 31 event counters: no absent PMEVCNTR to probe");

	/* EL2 registers from EL1 are UNDEFINED at EL1: the guest cannot lift traps. */
	EXPECT_UNDEF("mrs x0, hcr_el2", "reading HCR_EL2 from EL1");
	EXPECT_UNDEF("msr hcr_el2, xzr", "writing HCR_EL2 from EL1");

	/* With the MMU on, DC by VA goes through the guest's own stage 1: a mapped VA
	 * is maintained, an unmapped one is the guest's translation fault (level 3,
	 * FSC 0x07), with ESR.CM and WnR set as for any cache maintenance. */
	mmu_enable();
	snapshot();
	fault_expect();
	asm volatile("dc civac, %0" ::"r"(&cache_target[0]) : "memory");
	check(!fault_taken(), "DC CIVAC of a mapped VA with the MMU on does not fault");
	fault_expect();
	asm volatile("dc civac, %0" ::"r"(MMU_ALIAS_BASE + 0x3000) : "memory");
	check(fault_taken() && ESR_EC_OF(faults[0].esr) == 0x25 && (faults[0].esr & 0x3f) == 0x07 &&
	      (faults[0].esr & (1u << 8)) && (faults[0].esr & (1u << 6)),
	      "DC CIVAC of an unmapped VA: a level 3 translation fault, CM and WnR set (ESR %#lx)", faults[0].esr);
	check_eq(faults[0].far, MMU_ALIAS_BASE + 0x3000, "FAR_EL1 names that VA");
	check_count(TRAP_CACHE, 2, "cache class with the MMU on");
	hvc_call(TV_HC_TRACE, 8, 0, 0);
	return 0;
}

void secondary_main(unsigned index)
{
}
