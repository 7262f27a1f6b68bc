/*
 * The default guest of `make run`: brings up every vCPU with PSCI, then each one
 * idles in a WFI loop woken by its virtual timer, printing a heartbeat now and
 * then and counting its ticks in `ticks[]` (a variable to watch from GDB).
 */
#include "guest.h"

#define PSCI_CPU_ON 0xc4000003ul
#define HEARTBEAT_TICKS 50
#define TICK_INTERVAL_NS 10000000 /* 10 ms */

volatile u64 ticks[8];
volatile unsigned cpus_up;

static void idle_forever(void)
{
	u64 interval = read_sysreg(cntfrq_el0) / (1000000000 / TICK_INTERVAL_NS);
	unsigned me = cpu_index();

	gic_init_cpu();
	__atomic_add_fetch(&cpus_up, 1, __ATOMIC_RELAXED);
	gprintf("demo: vCPU %u up (MPIDR %#lx)\n", me, read_sysreg(mpidr_el1));
	for (;;) {
		timer_arm_ticks(interval);
		asm volatile("wfi");
		timer_disarm();
		ticks[me]++;
		if (ticks[me] % HEARTBEAT_TICKS == 0)
			gprintf("demo: vCPU %u heartbeat %lu\n", me, ticks[me] / HEARTBEAT_TICKS);
	}
}

void secondary_main(unsigned index)
{
	idle_forever();
}

int main(u64 dtb)
{
	unsigned started = 0;

	gprintf("demo: trapvisor demo guest, device tree at %#lx\n", dtb);
	/* CPU_ON every MPIDR 1..7 that exists: the others answer INVALID_PARAMETERS. */
	for (u64 i = 1; i < 8; i++)
		if (smc_call(PSCI_CPU_ON, i, (u64)secondary_entry, i) == 0)
			started++;
	gprintf("demo: started %u secondary vCPUs\n", started);
	idle_forever();
	return 0;
}
