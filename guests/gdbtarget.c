/*
 * gdbtarget: the guest the GDB tests debug (tests/qemu/gdb.sh, scripts/gdb-bench).
 *
 * It runs forever, with its MMU on: RAM and devices identity-mapped, and
 * gdbt_alias_page seen a second time at GDBT_ALIAS_VA, an address that is not
 * the physical one (GDB's addresses must be translated to reach it). vCPU 0
 * brings up every other vCPU (PSCI CPU_ON through HVC: trapvisor and QEMU's own
 * firmware without EL2 both answer there), then loops: sleep one timer tick in
 * gdbt_idle(), call gdbt_tick(n), look for memory GDB changed, and do what the
 * requests below ask. The other vCPUs only count their ticks. Everything a test
 * touches has a stable name and a known value, and what GDB writes shows on the
 * console:
 *
 *   gdbt_tick(n)          called once a tick on vCPU 0 with n = 1, 2, 3, ...
 *   gdbt_compute(x)       returns 3 * x + 7
 *   gdbt_watched          written in gdbt_tick(n), at GDBT_LINE_WATCH, with GDBT_WATCH_BASE + n
 *   gdbt_set_context(n)   writes n to CONTEXTIDR_EL1 each tick; gdbt_get_context() reads it
 *                         back into gdbt_ctx_seen (a trapped write and read with the vm class on)
 *   gdbt_counter[v]       ticks of vCPU v (one WFI each)
 *   gdbt_mpidr[v]         MPIDR_EL1 as vCPU v read it; gdbt_midr: MIDR_EL1
 *   gdbt_sctlr            SCTLR_EL1 as vCPU 0 left it (MMU on)
 *   gdbt_pattern[4]       the values below; a change is printed
 *   gdbt_alias_page[512]  also at GDBT_ALIAS_VA; a change of word 0 is printed
 *   gdbt_alias_write_request  N: vCPU 0 writes word GDBT_ALIAS_WORD of gdbt_alias_page
 *                         twice in gdbt_alias_writes(N), the same physical bytes through each
 *                         VA: N << 8 | 1 through GDBT_ALIAS_VA, then N << 8 | 2 through
 *                         gdbt_alias_page; then it calls gdbt_alias_done(N), which keeps N
 *                         in gdbt_alias_writes_done
 *   gdbt_magic            a change is printed: "gdbtarget: gdbt_magic changed to 0x..."
 *   gdbt_tpidr_el0_seen   TPIDR_EL0 as vCPU 0 reads it each tick (GDB may write it)
 *   gdbt_code_word        the first instruction of gdbt_compute as the guest reads it right
 *                         before each call (a software breakpoint shows there, a hardware one
 *                         does not); gdbt_code_word_boot: the same at boot
 *   gdbt_rw_target        read in gdbt_rw_reader(), then written in gdbt_rw_writer(), each tick
 *   gdbt_vreg_init        what vCPU 0 put in V7 at boot, and gdbt_fpcr_init in FPCR (nothing else
 *                         in the guest touches the FP/SIMD registers)
 *   gdbt_dbg_boot[4]      the guest's own DBGBVR1, DBGBCR1, DBGWVR1, DBGWCR1_EL1, set at boot
 *   gdbt_spin_request     non-zero: vCPU 0 busy-loops in gdbt_spin() (no traps at all)
 *   gdbt_exit_request     non-zero: vCPU 0 powers the machine off
 *   gdbt_brk_request      non-zero: vCPU 0 executes a BRK of its own and handles it
 *   gdbt_idreg_request    non-zero: vCPU 0 prints the ID_AA64ISAR0_EL1 it reads
 *   gdbt_irq_spin_request non-zero: vCPU 0 gives its timer interrupt the highest priority
 *                         (0x00; gdbt_timer_priority: what reads back), takes it, and spins
 *                         in gdbt_irq_spin() with it active: only a higher-priority
 *                         interrupt (the hypervisor's) stops that
 *   gdbt_calls_request    non-zero: vCPU 0 makes an HVC #0 (PSCI_VERSION), an HVC #0x42
 *                         (x0 = 0xc600abcd) and an SMC #0 (PSCI_VERSION) each tick, counted in
 *                         gdbt_hvc0_calls, gdbt_hvc42_calls, gdbt_smc_calls as each returns
 *                         (under trapvisor only: without EL2/EL3 they are UNDEFINED)
 *   gdbt_burst_request    N: vCPU 0 makes N calls nobody answers (HVC #0, x0 = 0) in one tick
 *   gdbt_fp_request       N: for N ticks vCPU 0 stores V7 and FPCR into gdbt_vreg_seen and
 *                         gdbt_fpcr_seen (FP/SIMD instructions)
 *   gdbt_dbgreg_request   non-zero: vCPU 0 reads its debug registers again and prints them
 *   gdbt_irq_step_request non-zero: vCPU 0 makes its timer interrupt pending with IRQs masked
 *                         (gdbt_irq_step_pending: the GIC's pending bit for it, as the guest
 *                         read it just before) and unmasks them at gdbt_irq_step_insn: a step
 *                         there, or at the next instruction (unmasked, the interrupt pending),
 *                         must not enter the interrupt handler; gdbt_step_irqs counts the
 *                         interrupts taken
 *   gdbt_irq_pending_request  non-zero: vCPU 0 unmasks its IRQs and arms its timer 50 ms
 *                         ahead, then passes gdbt_irq_pending_insn: a debugger stopped there
 *                         long enough has an interrupt pending and unmasked when it steps
 *   gdbt_buffer[64 KiB]   byte i holds (i * 7 + 3) & 0xff (memory-read benchmarks)
 *
 * At boot it prints its command line (/chosen/bootargs) and initrd, when the
 * device tree it was given has them (make run's options, tests/qemu/make_run.sh).
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
#define GDBT_ALIAS_VA MMU_ALIAS_BASE
#define GDBT_ALIAS_INIT 0xa11a5a11a5a11a50ul
#define GDBT_ALIAS_WORD 4 /* the word gdbt_alias_writes() writes through both VAs */
#define GDBT_FPCR_INIT 0x00400000ul /* FPCR.RMode = round towards plus infinity */
/* The guest's own debug registers (E = 0: nothing fires). */
#define GDBT_DBGBVR1 0x42201230ul
#define GDBT_DBGBCR1 0x1e6ul	/* BAS all, PMC EL1+EL0 */
#define GDBT_DBGWVR1 0x42200008ul
#define GDBT_DBGWCR1 0x1ffeul	/* BAS all, LSC load+store, PAC EL1+EL0 */

volatile u64 gdbt_counter[8];
volatile u64 gdbt_watched;
volatile u64 gdbt_magic = GDBT_MAGIC_INIT;
volatile u64 gdbt_pattern[4] = { 0x0123456789abcdef, 0xfedcba9876543210, 0x5555aaaa5555aaaa, 0xdeadbeef };
volatile u64 gdbt_spin_request, gdbt_spins, gdbt_exit_request, gdbt_brk_request, gdbt_idreg_request;
volatile u64 gdbt_calls_request, gdbt_psci_version;
volatile u64 gdbt_irq_spin_request, gdbt_irq_spins, gdbt_timer_priority;
volatile u64 gdbt_hvc0_calls, gdbt_hvc42_calls, gdbt_smc_calls, gdbt_burst_request;
volatile u64 gdbt_mpidr[8], gdbt_midr, gdbt_sctlr, gdbt_ctx_seen, gdbt_tpidr_el0_seen;
volatile u64 gdbt_alias_page[512] __attribute__((aligned(4096))) = { GDBT_ALIAS_INIT };
volatile u32 gdbt_code_word, gdbt_code_word_boot;
volatile u64 gdbt_rw_target, gdbt_rw_seen;
volatile u64 gdbt_vreg_init[2] __attribute__((aligned(16))) = { 0x1111222233334444ul, 0x5555666677778888ul };
volatile u64 gdbt_vreg_seen[2] __attribute__((aligned(16)));
volatile u64 gdbt_fpcr_seen, gdbt_fp_request;
volatile u64 gdbt_dbg_boot[4], gdbt_dbgreg_request;
volatile u64 gdbt_irq_step_request, gdbt_irq_pending_request, gdbt_step_irqs, gdbt_irq_step_pending;
volatile u64 gdbt_alias_write_request, gdbt_alias_writes_done;
volatile unsigned gdbt_cpus_up;
volatile u8 gdbt_buffer[65536];

static u64 seen_magic, seen_pattern[4], seen_alias;

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

u64 gdbt_get_context(void)
{
	return read_sysreg(contextidr_el1);
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
	 * the vm class is on): the tick, as the guest's context id, and a read. */
	gdbt_set_context(n);
	gdbt_ctx_seen = gdbt_get_context();
}

/* Where an alias scenario ends, for a breakpoint. */
void gdbt_alias_done(u64 n)
{
	gdbt_alias_writes_done = n;
}

/*
 * The same physical bytes written through both of their virtual addresses, the
 * alias first: a watchpoint that watches physical memory (trapvisor's stage-2
 * ones) stops on both writes, whichever VA it was set through; one that
 * compares virtual addresses (a debug register) only on the write through its own.
 */
void gdbt_alias_writes(u64 n)
{
	volatile u64 *alias = (volatile u64 *)GDBT_ALIAS_VA;

	alias[GDBT_ALIAS_WORD] = n << 8 | 1;
	gdbt_alias_page[GDBT_ALIAS_WORD] = n << 8 | 2;
	gdbt_alias_done(n);
}

/* A read, then a write, of the same variable: for read and access watchpoints. */
void gdbt_rw_reader(void)
{
	gdbt_rw_seen = gdbt_rw_target;
}

void gdbt_rw_writer(unsigned n)
{
	gdbt_rw_target = n;
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

static void gdbt_step_irq_handler(void)
{
	u64 intid = read_sysreg(S3_0_C12_C12_0); /* ICC_IAR1_EL1 */

	timer_disarm();
	gdbt_step_irqs++;
	write_sysreg(S3_0_C12_C12_1, intid); /* ICC_EOIR1_EL1 */
	isb();
}

/*
 * The timer's interrupt pending while PSTATE.I masks it, then unmasked by the
 * instruction at gdbt_irq_step_insn: run freely, the interrupt is taken right
 * after it; stepped by a debugger that holds the guest's interrupts off during
 * a step, the step ends on the next instruction and the interrupt comes later.
 * A second step, from the nop after it, starts with PSTATE.I clear and the
 * interrupt pending: a step that let interrupts in would take it at once, on
 * any implementation (an emulator may finish the unmasking step first).
 * The timer stays pending until the handler disarms it: its condition holds
 * from now on, as guest time only moves forward.
 */
static void gdbt_irq_step(void)
{
	u64 before = gdbt_step_irqs;
	volatile u32 *ispendr0 = (volatile u32 *)(GICR_BASE + cpu_index() * 0x20000ul + 0x10000ul + 0x200ul);

	guest_irq_handler = gdbt_step_irq_handler;
	timer_arm_ticks(0);
	while (!(read_sysreg(cntv_ctl_el0) & 4)) /* CNTV_CTL_EL0.ISTATUS: it fired */
		;
	isb();
	/* GICR_ISPENDR0 in the SGI frame: the interrupt has reached the GIC (within 10 ms). */
	for (u64 end = read_sysreg(cntvct_el0) + read_sysreg(cntfrq_el0) / 100;
	     !(*ispendr0 & BIT(TIMER_PPI)) && read_sysreg(cntvct_el0) < end;)
		;
	gdbt_irq_step_pending = !!(*ispendr0 & BIT(TIMER_PPI));
	asm volatile(".global gdbt_irq_step_insn\n"
		     "gdbt_irq_step_insn: msr daifclr, #2\n"
		     "nop\n"
		     "nop\n"
		     "msr daifset, #2\n"
		     "isb" ::: "memory");
	guest_irq_handler = 0;
	timer_disarm();
	gprintf("gdbtarget: irq step: %lu interrupt(s) taken\n", gdbt_step_irqs - before);
}

/*
 * PSTATE.I clear and the timer 50 ms ahead: a debugger that stops the guest at
 * gdbt_irq_pending_insn and waits finds the interrupt pending when it steps; a
 * step that holds the guest's interrupts off ends on the next instruction, and
 * the interrupt is taken as soon as the guest runs, before gdbt_irq_pending_after.
 */
static void gdbt_irq_pending_step(void)
{
	u64 before = gdbt_step_irqs;

	guest_irq_handler = gdbt_step_irq_handler;
	asm volatile("msr daifclr, #2; isb" ::: "memory");
	timer_arm_ticks(read_sysreg(cntfrq_el0) / 20);
	asm volatile(".global gdbt_irq_pending_insn\n"
		     "gdbt_irq_pending_insn: nop\n"
		     "nop\n"
		     ".global gdbt_irq_pending_after\n"
		     "gdbt_irq_pending_after: nop" ::: "memory");
	while (gdbt_step_irqs == before)
		;
	asm volatile("msr daifset, #2; isb" ::: "memory");
	guest_irq_handler = 0;
	gprintf("gdbtarget: irq pending step: %lu interrupt(s) taken\n", gdbt_step_irqs - before);
}

static void gdbt_read_debug_registers(volatile u64 *out)
{
	out[0] = read_sysreg(dbgbvr1_el1);
	out[1] = read_sysreg(dbgbcr1_el1);
	out[2] = read_sysreg(dbgwvr1_el1);
	out[3] = read_sysreg(dbgwcr1_el1);
}

static void gdbt_report_debug_registers(void)
{
	volatile u64 now[4];
	bool same = true;

	gdbt_read_debug_registers(now);
	for (unsigned i = 0; i < 4; i++)
		same &= now[i] == gdbt_dbg_boot[i];
	gprintf("gdbtarget: debug registers %#lx %#lx %#lx %#lx: %s\n", now[0], now[1], now[2], now[3],
		same ? "as the guest set them" : "CHANGED");
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
	if (gdbt_alias_page[0] != seen_alias) {
		seen_alias = gdbt_alias_page[0];
		gprintf("gdbtarget: gdbt_alias_page[0] changed to %#lx\n", seen_alias);
	}
}

static void gdbt_vcpu_up(unsigned me)
{
	mmu_enable();
	gic_init_cpu();
	gdbt_mpidr[me] = read_sysreg(mpidr_el1);
	gprintf("gdbtarget: vCPU %u up (MPIDR %#lx)\n", me, gdbt_mpidr[me]);
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

	seen_alias = gdbt_alias_page[0];

	gprintf("gdbtarget: GDB test guest, gdbt_magic %#lx\n", seen_magic);
	if (fdt_valid(dtb)) {
		const char *args = fdt_prop(dtb, "/chosen", "bootargs", NULL);
		u64 start, end;
		gprintf("gdbtarget: bootargs \"%s\"\n", args ? args : "");
		if (fdt_prop_u64(dtb, "/chosen", "linux,initrd-start", &start) &&
		    fdt_prop_u64(dtb, "/chosen", "linux,initrd-end", &end))
			gprintf("gdbtarget: initrd %#lx-%#lx, %lu bytes\n", start, end, end - start);
	}
	mmu_alias(GDBT_ALIAS_VA, (u64)gdbt_alias_page);
	gdbt_vcpu_up(0);
	gdbt_sctlr = read_sysreg(sctlr_el1);
	gdbt_midr = read_sysreg(midr_el1);
	gdbt_code_word_boot = *(volatile u32 *)(u64)gdbt_compute;
	/* Values nothing else in the guest touches, for GDB to read (and write). */
	asm volatile("ldr q7, [%0]" ::"r"(gdbt_vreg_init) : "memory");
	write_sysreg(fpcr, GDBT_FPCR_INIT);
	write_sysreg(dbgbvr1_el1, GDBT_DBGBVR1);
	write_sysreg(dbgbcr1_el1, GDBT_DBGBCR1);
	write_sysreg(dbgwvr1_el1, GDBT_DBGWVR1);
	write_sysreg(dbgwcr1_el1, GDBT_DBGWCR1);
	isb();
	gdbt_read_debug_registers(gdbt_dbg_boot);
	/* CPU_ON every MPIDR 1..7 that exists: the others answer INVALID_PARAMETERS. */
	for (u64 i = 1; i < 8; i++)
		if (hvc_call(PSCI_CPU_ON, i, (u64)secondary_entry, i) == 0)
			started++;
	while (gdbt_cpus_up != started + 1)
		asm volatile("yield");
	gprintf("gdbtarget: ready, %u vCPUs\n", started + 1);

	for (unsigned n = 1; !gdbt_exit_request; n++) {
		gdbt_idle(0);
		gdbt_tpidr_el0_seen = read_sysreg(tpidr_el0);
		if (gdbt_calls_request) {
			/* Calls for catchpoints to catch by immediate and function id. */
			gdbt_psci_version = hvc_call(0x84000000ul, 0, 0, 0);
			gdbt_hvc0_calls++;
			asm volatile("mov x0, %0; hvc #0x42" ::"r"(0xc600abcdul) : "x0", "x1", "x2", "x3", "memory");
			gdbt_hvc42_calls++;
			gdbt_psci_version = smc_call(0x84000000ul, 0, 0, 0);
			gdbt_smc_calls++;
		}
		for (; gdbt_burst_request; gdbt_burst_request--)
			hvc_call(0, 0, 0, 0);
		if (gdbt_fp_request) {
			gdbt_fp_request--;
			asm volatile("str q7, [%0]" ::"r"(gdbt_vreg_seen) : "memory");
			gdbt_fpcr_seen = read_sysreg(fpcr);
		}
		if (gdbt_dbgreg_request) {
			gdbt_dbgreg_request = 0;
			gdbt_report_debug_registers();
		}
		if (gdbt_irq_step_request) {
			gdbt_irq_step_request = 0;
			gdbt_irq_step();
		}
		if (gdbt_alias_write_request) {
			/* Taken first: GDB may ask again while stopped in gdbt_alias_done(). */
			u64 n = gdbt_alias_write_request;
			gdbt_alias_write_request = 0;
			gdbt_alias_writes(n);
		}
		if (gdbt_irq_pending_request) {
			gdbt_irq_pending_request = 0;
			gdbt_irq_pending_step();
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
		gdbt_code_word = *(volatile u32 *)(u64)gdbt_compute;
		gdbt_tick(n);
		gdbt_rw_reader();
		gdbt_rw_writer(n);
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
