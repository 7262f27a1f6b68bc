/*
 * Instructions per trap round trip, measured deterministically (design.md):
 * under QEMU -icount shift=0 every instruction is one ns. Each trapping
 * operation runs N times in a loop; the same loop with a NOP in its place is
 * subtracted, so what is left is the trap: from the trapping instruction to
 * the eret back, the hypervisor's instructions included.
 *
 * Two counters, read around the same loops:
 *  - CNTVCT (62.5 MHz, so 16 instructions a tick), the method of design.md;
 *  - PMU event 0x08 INST_RETIRED counting at EL1 and EL2 (PMEVTYPER.NSH),
 *    exact under icount, and the only one that can measure a trapped WFI:
 *    the time a WFI sleeps is not instructions.
 * Booted with trapvisor.trap=wfi,id and -smp 1 (the instruction count is shared).
 */
#include "guest.h"

#define N 4000
#define ECAM 0x4010000000ul
#define NULL_HVC_FID 0ul /* x0 = 0: no such function, answered NOT_SUPPORTED */
#define INST_RETIRED 0x08
#define PMEVTYPER_NSH (1ul << 27)  /* count at EL2 too */
#define WFI_WAKE_TICKS 40

struct counts {
	u64 ticks, insns;
};

#define LOOP(name, insn, setup, after)                                         \
	static struct counts name(void)                                        \
	{                                                                      \
		u64 t0, t1, i0, i1;                                            \
		t0 = read_sysreg(cntvct_el0);                                  \
		i0 = read_sysreg(pmevcntr0_el0);                               \
		for (unsigned i = 0; i < N; i++) {                             \
			setup;                                                 \
			asm volatile("mov x0, %0\n" insn                       \
				     ::"r"(NULL_HVC_FID), "r"(ECAM)            \
				     : "x0", "x1", "x2", "x3", "memory");      \
			after;                                                 \
		}                                                              \
		i1 = read_sysreg(pmevcntr0_el0);                               \
		t1 = read_sysreg(cntvct_el0);                                  \
		return (struct counts){ t1 - t0, i1 - i0 };                    \
	}

LOOP(loop_nop, "nop", , )
LOOP(loop_hvc, "hvc #0", , )
LOOP(loop_idreg, "mrs x1, id_aa64isar0_el1", , )
LOOP(loop_mmio, "ldr w1, [%1]", , )
LOOP(loop_mmio_inner, "ldr w1, [%1, #0x1000]", , ) /* ECAM's second page: 00:00.1 */
/* The timer wakes each WFI; the baseline does the same with a NOP. */
LOOP(loop_timer_nop, "nop", timer_arm_ticks(WFI_WAKE_TICKS), timer_disarm())
LOOP(loop_wfi, "wfi", timer_arm_ticks(WFI_WAKE_TICKS), timer_disarm())

static void report(const char *name, struct counts op, struct counts base, bool by_ticks)
{
	u64 ns_per_tick = 1000000000ul / read_sysreg(cntfrq_el0);
	u64 insns = (op.insns - base.insns) / N;

	if (by_ticks)
		gprintf("BENCH: %s %lu instructions (CNTVCT: %lu)\n", name, insns,
			(op.ticks - base.ticks) * ns_per_tick / N);
	else
		gprintf("BENCH: %s %lu instructions\n", name, insns);
}

int main(u64 dtb)
{
	struct counts base, timer_base;

	gic_init_cpu();
	write_sysreg(pmevtyper0_el0, INST_RETIRED | PMEVTYPER_NSH);
	write_sysreg(pmcntenset_el0, 1);
	write_sysreg(pmcr_el0, read_sysreg(pmcr_el0) | 1); /* PMCR_EL0.E */
	isb();
	base = loop_nop();
	check(base.insns > 0, "the PMU counts retired instructions (needs -icount)");
	report("null-hvc", loop_hvc(), base, true);
	report("id-register-read", loop_idreg(), base, true);
	report("mmio-read", loop_mmio(), base, true);
	report("mmio-read-inner", loop_mmio_inner(), base, true);
	timer_base = loop_timer_nop();
	report("wfi", loop_wfi(), timer_base, false);
	return 0;
}

void secondary_main(unsigned index)
{
}
