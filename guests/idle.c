/*
 * WFI/WFE idle loop. Booted with trapvisor.trap=wfi,wfe: every WFI the guest
 * executes must reach the hypervisor, sleep until the timer fires, and be
 * counted; switching the class off at run time must stop the counting.
 */
#include "guest.h"
#include "trapvisor/hypercall.h"
#include "trapvisor/event.h"

#define PSCI_CPU_ON 0xc4000003ul
#define WFI_LOOPS 20
#define WFE_LOOPS 50

static volatile bool secondary_done;
static volatile unsigned secondary_waited;

static u64 stat(unsigned cls, u64 vcpu)
{
	return hvc_call(TV_HC_STAT_COUNT, cls, vcpu, 0);
}

/*
 * n WFIs, each woken by the virtual timer `interval` ticks later; returns how many
 * could wait. Only those trap: a WFI whose interrupt is already pending completes
 * at once (QEMU, and the architecture allows it), and on a loaded host a vCPU can
 * lose the whole interval between arming the timer and its WFI. The counter is
 * read by the instruction right before the WFI. elapsed: the loop's ticks.
 */
static unsigned idle_loop(unsigned n, u64 interval, u64 *elapsed)
{
	u64 t0 = read_sysreg(cntvct_el0), now;
	unsigned waited = 0;

	for (unsigned i = 0; i < n; i++) {
		timer_arm_ticks(interval);
		u64 cval = read_sysreg(cntv_cval_el0);
		asm volatile("mrs %0, cntvct_el0; wfi" : "=r"(now)::"memory");
		waited += now < cval;
		timer_disarm();
	}
	if (elapsed)
		*elapsed = read_sysreg(cntvct_el0) - t0;
	return waited;
}

void secondary_main(unsigned index)
{
	u64 interval = read_sysreg(cntfrq_el0) / 1000;

	gic_init_cpu();
	secondary_waited = idle_loop(WFI_LOOPS, interval, NULL);
	secondary_done = true;
}

/*
 * WFIs counted as trapped: every one that waited (got >= waited), and never
 * more than ran. One that the guest saw reach its deadline may trap too: QEMU
 * raises the virtual timer's line from its own timer callback, which a loaded
 * host delays past the WFI (seen once in make test, got 20 with 19 waited).
 */
static void check_wfis(u64 got, unsigned waited, unsigned ran, const char *what)
{
	check(got >= waited && got <= ran, "%s (%lu trapped; %u waited, %u ran)", what, got, waited, ran);
}

int main(u64 dtb)
{
	u64 interval = read_sysreg(cntfrq_el0) / 1000; /* 1 ms */
	u64 before, elapsed;
	unsigned waited;

	gic_init_cpu();
	gprintf("idle: WFI/WFE under trapvisor\n");

	before = stat(TRAP_WFI, 0);
	waited = idle_loop(WFI_LOOPS, interval, &elapsed);
	check(waited >= WFI_LOOPS / 2, "%u of %u WFIs had to wait (the host is not too slow to tell)", waited,
	      WFI_LOOPS);
	check_wfis(stat(TRAP_WFI, 0) - before, waited, WFI_LOOPS, "every WFI that waited trapped and was counted");
	check(elapsed >= WFI_LOOPS * interval * 9 / 10,
	      "trapped WFI waited for the interrupt (%lu ticks for %u x %lu)", elapsed, WFI_LOOPS, interval);

	before = stat(TRAP_WFE, 0);
	asm volatile("sevl; wfe"); /* clear the event register: this WFE completes without trapping */
	for (unsigned i = 0; i < WFE_LOOPS; i++)
		asm volatile("wfe");
	/* QEMU 7.2 never traps WFE (its WFE is a yield that ignores HCR_EL2.TWE);
	 * hardware that does trap must count every one. */
	if (stat(TRAP_WFE, 0) == before)
		skip("WFE trapping: this CPU does not trap WFE (QEMU 7.2 ignores HCR_EL2.TWE)");
	else
		check_eq(stat(TRAP_WFE, 0) - before, WFE_LOOPS, "every WFE with no event pending trapped");

	/* Run-time switch: off, nothing counted; on again, counted again. */
	check_eq(hvc_call(TV_HC_TRAP, TRAP_WFI, 0, 0), 0, "switch wfi trapping off");
	before = stat(TRAP_WFI, 0);
	idle_loop(10, interval, NULL);
	check_eq(stat(TRAP_WFI, 0) - before, 0, "untrapped WFIs are not counted");
	check_eq(hvc_call(TV_HC_TRAP, TRAP_WFI, 1, 0), 0, "switch wfi trapping on");
	before = stat(TRAP_WFI, 0);
	waited = idle_loop(5, interval, NULL);
	check(waited > 0, "%u of 5 WFIs had to wait", waited);
	check_wfis(stat(TRAP_WFI, 0) - before, waited, 5, "trapping on again counts again");
	check_eq(hvc_call(TV_HC_TRAP, TRAP_HVC, 0, 0), TV_HC_INVALID, "hvc cannot be switched off");
	check_eq(hvc_call(TV_HC_TRAP, TRAP_CLASS_COUNT, 1, 0), TV_HC_INVALID, "unknown class refused");

	/* A second vCPU idling at the same time is counted on its own. */
	before = stat(TRAP_WFI, 1);
	check_eq(smc_call(PSCI_CPU_ON, 1, (u64)secondary_entry, 1), 0, "CPU_ON vCPU 1");
	while (!secondary_done)
		idle_loop(1, interval, NULL);
	check_wfis(stat(TRAP_WFI, 1) - before, secondary_waited, WFI_LOOPS, "vCPU 1's WFIs counted for vCPU 1");
	/* What the printed trace and statistics must say (tests/qemu/guests.sh checks). */
	before = stat(TRAP_WFI, TV_ALL_VCPUS);
	gprintf("idle: the last call before the trace returns %#lx; the statistics count %lu WFIs\n", before, before);
	hvc_call(TV_HC_TRACE, 4, 0, 0);
	hvc_call(TV_HC_STATS, 0, 0, 0);
	return 0;
}
