/*
 * A guest that tries to get out: the hypervisor's memory, the debug line, PCI
 * config space, EL2 registers, unknown calls, bad PSCI requests, jumps into
 * nothing, storms of set/way maintenance. Each attempt must fail the way
 * hardware fails, and the hypervisor must still answer afterwards.
 */
#include "guest.h"

#define HV_BASE 0x40000000ul
#define HV_IMAGE 0x40200000ul
#define GUEST_RAM_END 0x80000000ul /* with -m 1G */
#define DEBUG_LINE_PAGE 0x3efff000ul
#define ECAM 0x4010000000ul
#define GICD_IPRIORITYR 0x400 /* a byte per INTID; the same offset in a GICR SGI frame */
#define PSCI_VERSION 0x84000000ul
#define PSCI_CPU_ON64 0xc4000003ul
#define NOT_SUPPORTED ((u64)-1)

static void expect_abort(u64 addr, bool write, const char *what)
{
	u64 v = 0;
	bool ok = write ? probe_write(addr, 8, 0xdeadbeef) : probe_read(addr, 8, &v);

	check(!ok && (ESR_EC_OF(faults[cpu_index()].esr) & ~1u) == 0x24 && faults[cpu_index()].far == addr,
	      "%s %#lx (%s) aborts (ESR %#lx)", write ? "write" : "read", addr, what, faults[cpu_index()].esr);
}

static void expect_undef_msr(void)
{
	fault_expect();
	asm volatile("msr vttbr_el2, xzr");
	check(fault_taken() && ESR_EC_OF(faults[0].esr) == 0, "writing VTTBR_EL2 from EL1 is UNDEFINED");
	fault_expect();
	asm volatile("msr vbar_el2, xzr");
	check(fault_taken() && ESR_EC_OF(faults[0].esr) == 0, "writing VBAR_EL2 from EL1 is UNDEFINED");
	fault_expect();
	asm volatile("msr mdcr_el2, xzr");
	check(fault_taken() && ESR_EC_OF(faults[0].esr) == 0, "writing MDCR_EL2 from EL1 is UNDEFINED");
}

static volatile bool partner_done;

void secondary_main(unsigned index)
{
	/* The second vCPU hammers the hypervisor at the same time. */
	for (unsigned i = 0; i < 2000; i++) {
		hvc_call(0xc6000000ul + i, i, i, i);
		asm volatile("dc cisw, %0" ::"r"((u64)i << 6));
	}
	partner_done = true;
}

int main(u64 dtb)
{
	u64 v = 0;
	unsigned i;

	gprintf("hostile: trying to escape trapvisor\n");
	check_eq(smc_call(PSCI_CPU_ON64, 1, (u64)secondary_entry, 1), 0, "start a second attacker");

	expect_abort(HV_BASE, false, "hypervisor's device tree");
	expect_abort(HV_IMAGE, false, "hypervisor code");
	expect_abort(HV_IMAGE, true, "hypervisor code");
	expect_abort(HV_BASE + 0x1ff0000, true, "hypervisor slice top");
	expect_abort(GUEST_RAM_END, false, "past the end of RAM");
	expect_abort(DEBUG_LINE_PAGE, false, "the debug line's registers");
	expect_abort(DEBUG_LINE_PAGE, true, "the debug line's registers");

	/* The debug line's config space: absent, and writes do not bring it back. */
	for (i = 0; i < 32 && *(volatile u32 *)(ECAM + ((u64)i << 15)) != 0xffffffffu; i++)
		;
	*(volatile u32 *)(ECAM + 0x8000 + 0x10) = 0x0; /* BAR0 of 00:01.0 */
	*(volatile u16 *)(ECAM + 0x8000 + 0x04) = 0x7; /* COMMAND */
	check_eq(*(volatile u32 *)(ECAM + 0x8000), 0xffffffffu, "the hidden function stays absent after writes");
	expect_abort(DEBUG_LINE_PAGE, false, "the debug line after BAR writes");

	/* Interrupt priorities above 0x10 are the hypervisor's: a guest asking for
	 * more gets 0x10, and the debug line's own SPI (36) is not the guest's. */
	volatile u32 *prio_word = (volatile u32 *)(GICD_BASE + GICD_IPRIORITYR + 40);
	*prio_word = 0xa0200800u; /* SPIs 40-43: 0x00, 0x08, 0x20, 0xa0 */
	check_eq(*prio_word, 0xa0201010u, "guest SPI priorities above 0x10 become 0x10");
	*(volatile u8 *)(GICD_BASE + GICD_IPRIORITYR + 36) = 0xf0;
	check_eq(*(volatile u8 *)(GICD_BASE + GICD_IPRIORITYR + 36), 0, "the debug line's SPI priority is hidden");
	*(volatile u8 *)(GICR_BASE + 0x10000 + GICD_IPRIORITYR + 27) = 0x00;
	check_eq(*(volatile u8 *)(GICR_BASE + 0x10000 + GICD_IPRIORITYR + 27), 0x10,
		 "a PPI priority above 0x10 becomes 0x10");

	/* Jumping into the hypervisor: an instruction abort, not its code. */
	fault_expect();
	asm volatile("blr %0" ::"r"(HV_IMAGE) : "x30", "memory");
	check(fault_taken() && ESR_EC_OF(faults[0].esr) == 0x21 && faults[0].far == HV_IMAGE,
	      "branching into hypervisor memory is an instruction abort (ESR %#lx)", faults[0].esr);

	expect_undef_msr();

	check_eq(smc_call(0x82000000ul, 0, 0, 0), NOT_SUPPORTED, "unknown SiP SMC");
	check_eq(smc_call(0xc6000000ul, 0, 0, 0), NOT_SUPPORTED, "trapvisor's own calls are off by default");
	check_eq(hvc_call(0xffffffffffffffff, 1, 2, 3), NOT_SUPPORTED, "garbage HVC function id");
	asm volatile("mov x0, #0x1234; hvc #0x4321; mov %0, x0" : "=r"(v)::"x0", "x1", "x2", "x3");
	check_eq(v, NOT_SUPPORTED, "HVC with a strange immediate");
	check_eq(smc_call(PSCI_CPU_ON64, 0, HV_IMAGE, 0), (u64)-9, "CPU_ON into hypervisor memory");
	check_eq(smc_call(PSCI_CPU_ON64, 0xffffffffff000000ul, (u64)secondary_entry, 0), (u64)-2,
		 "CPU_ON with garbage affinity bits");

	for (i = 0; i < 20000; i++)
		asm volatile("dc isw, %0; dc cisw, %0" ::"r"((u64)i << 6));

	u64 deadline = read_sysreg(cntvct_el0) + 10 * read_sysreg(cntfrq_el0);
	while (!partner_done && read_sysreg(cntvct_el0) < deadline)
		asm volatile("yield");
	check(partner_done, "the second vCPU finished its 2000 stray HVCs and set/way operations");
	check_eq(smc_call(PSCI_VERSION, 0, 0, 0), 0x10001,
		 "the hypervisor still answers after 40000 trapped set/way operations");
	return 0;
}
