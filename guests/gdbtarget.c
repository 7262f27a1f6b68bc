/*
 * gdbtarget: the guest the GDB tests debug (tests/qemu/gdb.sh, scripts/gdb-bench).
 *
 * It runs forever. vCPU 0 brings up every other vCPU (PSCI CPU_ON through HVC:
 * trapvisor and QEMU's own firmware without EL2 both answer there), then loops:
 * sleep one timer tick in gdbt_idle(), call gdbt_tick(n), look for memory GDB
 * changed, and spin in gdbt_spin() while GDB asks for it. The other vCPUs only
 * count their ticks. Everything a test touches has a stable name and a known
 * value, and what GDB writes shows on the console:
 *
 *   gdbt_tick(n)          called once a tick on vCPU 0 with n = 1, 2, 3, ...
 *   gdbt_compute(x)       returns 3 * x + 7
 *   gdbt_watched          written in gdbt_tick(n), at GDBT_LINE_WATCH, with GDBT_WATCH_BASE + n
 *   gdbt_counter[v]       ticks of vCPU v
 *   gdbt_pattern[4]       the values below; a change is printed
 *   gdbt_magic            a change is printed: "gdbtarget: gdbt_magic changed to 0x..."
 *   gdbt_spin_request     non-zero: vCPU 0 busy-loops in gdbt_spin() (no traps at all)
 *   gdbt_exit_request     non-zero: vCPU 0 powers the machine off
 *   gdbt_brk_request      non-zero: vCPU 0 executes a BRK of its own and handles it
 *   gdbt_idreg_request    non-zero: vCPU 0 prints the ID_AA64ISAR0_EL1 it reads
 *   gdbt_irq_spin_request non-zero: vCPU 0 gives its timer interrupt the highest priority
 *                         (0x00; gdbt_timer_priority: what reads back), takes it, and spins
 *                         in gdbt_irq_spin() with it active: only a higher-priority
 *                         interrupt (the hypervisor's) stops that
 *   gdbt_calls_request    non-zero: vCPU 0 makes an HVC #0x42 and an SMC (PSCI_VERSION) each tick
 *                         (under trapvisor only: without EL2/EL3 they are UNDEFINED)
 *   gdbt_buffer[64 KiB]   byte i holds (i * 7 + 3) & 0xff (memory-read benchmarks)
 *
 * The GDB-facing functions are built without optimisation so that `step`,
 * `next`, `finish` and arguments behave as in any debug build.
 */
#include "guest.h"

#pragma GCC optimize("O0")
/* Call-frame information in .debug_frame (guest.ld discards .eh_frame), so gdb unwinds. */
asm(".cfi_sections .debug_frame");

#define PSCI_CPU_ON 0xc4000003ul
#define PSCI_SYSTEM_OFF 0x84000008ul
#define TICK_NS 10000000ul /* every vCPU wakes every 10 ms */
#define REPORT_TICKS 50    /* vCPU 0 prints its tick every 50 ticks */
#define GDBT_WATCH_BASE 0x5741544300000000ul
#define GDBT_MAGIC_INIT 0x6764627461726765ul

volatile u64 gdbt_counter[8];
volatile u64 gdbt_watched;
volatile u64 gdbt_magic = GDBT_MAGIC_INIT;
volatile u64 gdbt_pattern[4] = { 0x0123456789abcdef, 0xfedcba9876543210, 0x5555aaaa5555aaaa, 0xdeadbeef };
volatile u64 gdbt_spin_request, gdbt_spins, gdbt_exit_request, gdbt_brk_request, gdbt_idreg_request;
volatile u64 gdbt_calls_request, gdbt_psci_version;
volatile u64 gdbt_irq_spin_request, gdbt_irq_spins, gdbt_timer_priority;
volatile unsigned gdbt_cpus_up;
volatile u8 gdbt_buffer[65536];

static u64 seen_magic, seen_pattern[4];

/* One timer tick asleep in WFI, woken by the virtual timer (PSTATE.I stays set). */
void gdbt_idle(unsigned me)
{
	timer_arm_ticks(read_sysreg(cntfrq_el0) / (1000000000ul / TICK_NS));
	asm volatile("wfi");
	timer_disarm();
	gdbt_counter[me]++;
}

u64 gdbt_compute(u64 x)
{
	u64 r = 3 * x;

	return r + 7;
}

void gdbt_set_context(u64 id)
{
	write_sysreg(contextidr_el1, id);
}

void gdbt_tick(unsigned n)
{
	u64 r = gdbt_compute(n);              /* GDBT_LINE_COMPUTE */

	gdbt_watched = GDBT_WATCH_BASE + n;   /* GDBT_LINE_WATCH */
	if (r != 3ul * n + 7)                 /* GDBT_LINE_AFTER_WATCH */
		gprintf("gdbtarget: gdbt_compute(%u) returned %#lx\n", n, r);
	if (n % REPORT_TICKS == 0)
		gprintf("gdbtarget: tick %u\n", n);
	/* A system-register write for catchpoints to catch (trapped by TVM when
	 * the vm class is on): the tick, as the guest's context id. */
	gdbt_set_context(n);
}

/* A busy loop with no trap, no WFI, no system register: only Ctrl-C stops it. */
void gdbt_spin(void)
{
	while (gdbt_spin_request)
		gdbt_spins++;
}

/* Inside the timer's interrupt handler, the interrupt active: no trap either. */
void gdbt_irq_spin(void)
{
	while (gdbt_irq_spin_request)
		gdbt_irq_spins++;
}

static void gdbt_timer_irq(void)
{
	u64 intid = read_sysreg(S3_0_C12_C12_0); /* ICC_IAR1_EL1 */

	timer_disarm();
	gdbt_irq_spin();
	write_sysreg(S3_0_C12_C12_1, intid); /* ICC_EOIR1_EL1 */
	isb();
}

static void gdbt_spin_in_interrupt(void)
{
	*gic_ppi_priority(TIMER_PPI) = 0x00;
	gdbt_timer_priority = *gic_ppi_priority(TIMER_PPI);
	gprintf("gdbtarget: spinning in the timer's interrupt (priority %#lx)\n", gdbt_timer_priority);
	guest_irq_handler = gdbt_timer_irq;
	timer_arm_ticks(1);
	asm volatile("msr daifclr, #2; isb" ::: "memory");
	while (gdbt_irq_spin_request)
		;
	asm volatile("msr daifset, #2; isb" ::: "memory");
	guest_irq_handler = 0;
	gprintf("gdbtarget: interrupt spin done after %lu iterations\n", gdbt_irq_spins);
}

/* Prints what GDB (or anybody) wrote into the watched-for-changes variables. */
static void gdbt_check_memory(void)
{
	if (gdbt_magic != seen_magic) {
		seen_magic = gdbt_magic;
		gprintf("gdbtarget: gdbt_magic changed to %#lx\n", seen_magic);
	}
	for (unsigned i = 0; i < 4; i++)
		if (gdbt_pattern[i] != seen_pattern[i]) {
			seen_pattern[i] = gdbt_pattern[i];
			gprintf("gdbtarget: gdbt_pattern[%u] changed to %#lx\n", i, seen_pattern[i]);
		}
}

static void gdbt_vcpu_up(unsigned me)
{
	gic_init_cpu();
	gprintf("gdbtarget: vCPU %u up (MPIDR %#lx)\n", me, read_sysreg(mpidr_el1));
	__atomic_add_fetch(&gdbt_cpus_up, 1, __ATOMIC_RELAXED);
}

void gdbt_secondary_loop(unsigned me)
{
	for (;;)
		gdbt_idle(me);
}

void secondary_main(unsigned index)
{
	gdbt_vcpu_up(index);
	gdbt_secondary_loop(index);
}

int main(u64 dtb)
{
	unsigned started = 0;

	for (unsigned i = 0; i < sizeof(gdbt_buffer); i++)
		gdbt_buffer[i] = (u8)(i * 7 + 3);
	seen_magic = gdbt_magic;
	for (unsigned i = 0; i < 4; i++)
		seen_pattern[i] = gdbt_pattern[i];

	gprintf("gdbtarget: GDB test guest, gdbt_magic %#lx\n", seen_magic);
	gdbt_vcpu_up(0);
	/* CPU_ON every MPIDR 1..7 that exists: the others answer INVALID_PARAMETERS. */
	for (u64 i = 1; i < 8; i++)
		if (hvc_call(PSCI_CPU_ON, i, (u64)secondary_entry, i) == 0)
			started++;
	while (gdbt_cpus_up != started + 1)
		asm volatile("yield");
	gprintf("gdbtarget: ready, %u vCPUs\n", started + 1);

	for (unsigned n = 1; !gdbt_exit_request; n++) {
		gdbt_idle(0);
		if (gdbt_calls_request) {
			/* Calls for catchpoints to catch by immediate and function id. */
			asm volatile("mov x0, %0; hvc #0x42" ::"r"(0xc600abcdul) : "x0", "x1", "x2", "x3", "memory");
			gdbt_psci_version = smc_call(0x84000000ul, 0, 0, 0);
		}
		if (gdbt_idreg_request) {
			gdbt_idreg_request = 0;
			gprintf("gdbtarget: ID_AA64ISAR0_EL1 = %#lx\n", read_sysreg(id_aa64isar0_el1));
		}
		if (gdbt_brk_request) {
			/* The guest's own breakpoint, before gdbt_tick so that it runs
			 * while a debugger attached through the hypervisor waits there:
			 * the guest must take it, the debugger must not stop on it. */
			gdbt_brk_request = 0;
			fault_expect();
			asm volatile("brk #0x123");
			gprintf("gdbtarget: own brk %s (ESR %#lx)\n", fault_taken() ? "taken by the guest" : "LOST",
				faults[0].esr);
		}
		gdbt_tick(n);
		gdbt_check_memory();
		if (gdbt_irq_spin_request)
			gdbt_spin_in_interrupt();
		if (gdbt_spin_request) {
			gprintf("gdbtarget: spinning in gdbt_spin\n");
			gdbt_spin();
			gprintf("gdbtarget: spin done after %lu iterations\n", gdbt_spins);
		}
	}
	gprintf("gdbtarget: exit requested\n");
	hvc_call(PSCI_SYSTEM_OFF, 0, 0, 0);
	return 0;
}
