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
#define GICD_TYPER 0x4
#define GICD_TYPER_LPIS (1u << 17)
#define GITS_BASE 0x08080000ul /* QEMU virt's ITS */
#define GICR_FRAME 0x20000ul
#define GICR_SGI_BASE 0x10000ul
#define GICR_CTLR 0x0
#define GICR_TYPER 0x8
#define GICR_WAKER 0x14
#define GICR_PROPBASER 0x70
#define GICR_PENDBASER 0x78
#define ECAM_END (ECAM + 0x10000000ul)
#define FLASH_END 0x08000000ul /* the second flash bank ends where the distributor begins */
#define EC_DABT_CUR 0x25
#define EC_DABT_LOW 0x24
#define FSC_ALIGNMENT 0x21
#define FSC_EXTERNAL 0x10
#define ESR_IL (1ul << 25)

static void expect_abort(u64 addr, bool write, const char *what)
{
	u64 v = 0;
	bool ok = write ? probe_write(addr, 8, 0xdeadbeef) : probe_read(addr, 8, &v);

	check(!ok && (ESR_EC_OF(faults[cpu_index()].esr) & ~1u) == 0x24 && faults[cpu_index()].far == addr,
	      "%s %#lx (%s) aborts (ESR %#lx)", write ? "write" : "read", addr, what, faults[cpu_index()].esr);
}

/* The last fault on this vCPU was a data abort at EL1 with this status code and address. */
static bool abort_was(unsigned fsc, u64 far)
{
	struct fault_record *f = &faults[cpu_index()];

	return ESR_EC_OF(f->esr) == EC_DABT_CUR && (f->esr & 0x3f) == fsc && f->far == far;
}

/* An access the architecture gives an alignment fault for Device memory. */
static void expect_alignment_fault(u64 addr, unsigned width, bool write, const char *what)
{
	u64 v = 0;
	bool ok = write ? probe_write(addr, width, ~0ull) : probe_read(addr, width, &v);

	check(!ok && abort_was(FSC_ALIGNMENT, addr), "%u-byte %s at %#lx (%s) is an alignment fault (ESR %#lx FAR %#lx)",
	      width, write ? "store" : "load", addr, what, faults[cpu_index()].esr, faults[cpu_index()].far);
}

static u64 rd_base(unsigned cpu)
{
	return GICR_BASE + cpu * GICR_FRAME;
}

/*
 * Findings 1-4 of the GIC and PCI escape: tables the GIC writes, accesses that
 * straddle or are unaligned, a priority floor with holes.
 */
static void gic_attacks(void)
{
	u64 v = 0;

	check((*(volatile u32 *)(GICD_BASE + GICD_TYPER) & GICD_TYPER_LPIS) == 0, "GICD_TYPER says the GIC has no LPIs");
	check((*(volatile u64 *)(rd_base(0) + GICR_TYPER) & 1) == 0, "GICR_TYPER.PLPIS is 0");
	/* Point the LPI tables at the hypervisor and turn LPIs on: nothing sticks. */
	*(volatile u64 *)(rd_base(0) + GICR_PROPBASER) = HV_IMAGE | 0x0f;
	*(volatile u64 *)(rd_base(0) + GICR_PENDBASER) = HV_BASE;
	*(volatile u32 *)(rd_base(0) + GICR_CTLR) |= 1;
	check_eq(*(volatile u64 *)(rd_base(0) + GICR_PROPBASER), 0, "GICR_PROPBASER cannot be aimed at the hypervisor");
	check_eq(*(volatile u64 *)(rd_base(0) + GICR_PENDBASER), 0, "GICR_PENDBASER cannot be aimed at the hypervisor");
	check_eq(*(volatile u32 *)(rd_base(0) + GICR_CTLR) & 1, 0, "GICR_CTLR.EnableLPIs stays 0");
	check(!probe_read(GITS_BASE, 4, &v) && abort_was(FSC_EXTERNAL, GITS_BASE), "the ITS is not the guest's (ESR %#lx)",
	      faults[0].esr);
	check(!probe_write(GITS_BASE + 0x80, 8, HV_BASE) && abort_was(FSC_EXTERNAL, GITS_BASE + 0x80),
	      "GITS_BASER0 cannot be written");
	/* ProcessorSleep would stop the hypervisor's own interrupts: the guest
	 * sees it set, the redistributor does not (GDB attaches afterwards). */
	*(volatile u32 *)(rd_base(1) + GICR_WAKER) = 2;
	check_eq(*(volatile u32 *)(rd_base(1) + GICR_WAKER) & 6, 6, "GICR_WAKER.ProcessorSleep reads back as the guest set it");
	*(volatile u32 *)(rd_base(1) + GICR_WAKER) = 0;
	check_eq(*(volatile u32 *)(rd_base(1) + GICR_WAKER) & 6, 0, "GICR_WAKER wakes again");
	check(!probe_read(rd_base(2), 4, &v) && abort_was(FSC_EXTERNAL, rd_base(2)),
	      "a redistributor with no CPU behind it is an external abort");

	/* Finding 2: accesses across the end of a trapped region. */
	expect_alignment_fault(GICD_BASE + 0xfffc, 8, false, "end of the distributor");
	expect_alignment_fault(rd_base(1) + GICR_FRAME - 4, 8, false, "end of the last SGI frame");
	expect_alignment_fault(ECAM_END - 4, 8, false, "end of ECAM");
	/* Finding 3: unaligned accesses that the per-register hiding missed. */
	expect_alignment_fault(GICD_BASE + 0x101, 4, false, "SPI enables, unaligned");
	expect_alignment_fault(rd_base(0) + GICR_SGI_BASE + 0xfe, 8, false, "SGI frame enables, unaligned");
	expect_alignment_fault(ECAM + 0x7ffe, 4, false, "into the debug line's config space");
	expect_alignment_fault(ECAM + 0x7ffc, 8, false, "into the debug line's config space");
	expect_alignment_fault(GICD_BASE + GICD_IPRIORITYR + 0x1e, 8, true, "over the debug line's SPI priority");
	expect_alignment_fault(ECAM + 0x7ffd, 8, true, "over the debug line's COMMAND");
	check_eq(*(volatile u8 *)(GICD_BASE + GICD_IPRIORITYR + 36), 0, "the refused store changed no priority");
	/* The debug line's SPI through the message-based SPI registers (absent:
	 * GICD_TYPER.MBIS is 0); tests/qemu/hostile.sh attaches GDB afterwards. */
	*(volatile u32 *)(GICD_BASE + 0x48) = 36; /* GICD_CLRSPI_NSR */
	*(volatile u32 *)(GICD_BASE + 0x40) = 36; /* GICD_SETSPI_NSR */
	/* Finding 7: a load that starts in flash and ends in the distributor. */
	expect_alignment_fault(FLASH_END - 4, 8, false, "from flash into the distributor");
	/* Finding 4, since the virtual GIC: no priority floor, for every byte of an
	 * aligned 8-byte store (the guest's priorities are virtual). */
	volatile u64 *sgi_prio = (volatile u64 *)(rd_base(0) + GICR_SGI_BASE + GICD_IPRIORITYR);
	expect_alignment_fault(rd_base(0) + GICR_SGI_BASE + 0x3f9, 8, true, "onto SGI priorities");
	*sgi_prio = 0;
	check_eq(*sgi_prio, 0, "SGIs 0-7 written 0x00 by one 8-byte store read back 0x00");
	*sgi_prio = 0xa0a0a0a0a0a0a0a0ull;
}

/* Finding 5: a second PCI device's BARs, aimed at the debug line and at the hypervisor. */
#define PCI_COMMAND 0x04
#define PCI_BAR0 0x10
#define PCI_BAR1 0x14
#define CMD_IO 1u
#define CMD_MEM 2u
#define DEBUG_LINE_IO 0xf000u /* the debug line's I/O BAR, the last page of the window */

static u64 find_second_virtio_serial(void)
{
	for (u64 dev = 0; dev < 32; dev++) {
		u64 cfg = ECAM + (dev << 15);
		if (*(volatile u32 *)cfg == 0x10031af4u)
			return cfg;
	}
	return 0;
}

static void pci_attacks(void)
{
	u64 cfg = find_second_virtio_serial();
	volatile u16 *cmd = (volatile u16 *)(cfg + PCI_COMMAND);
	volatile u32 *bar0 = (volatile u32 *)(cfg + PCI_BAR0), *bar1 = (volatile u32 *)(cfg + PCI_BAR1);

	if (!cfg) {
		skip("PCI BARs onto the debug line: no second virtio-serial device (tests/qemu/hostile.sh adds one)");
		return;
	}
	*cmd = 0;
	*bar0 = DEBUG_LINE_IO;
	check_eq(*bar0 & ~3u, DEBUG_LINE_IO, "with decoding off a BAR may hold any address");
	*cmd = CMD_IO;
	check_eq(*cmd & CMD_IO, 0, "I/O decoding over the debug line's page is refused");
	*bar0 = 0x1000;
	*cmd = CMD_IO;
	check_eq(*cmd & CMD_IO, CMD_IO, "I/O decoding elsewhere is allowed");
	*bar0 = DEBUG_LINE_IO;
	check_eq(*bar0 & ~3u, 0x1000, "a BAR cannot move onto the debug line while decoding");
	*(volatile u64 *)(cfg + PCI_BAR0) = DEBUG_LINE_IO | (u64)0x10000000 << 32; /* both BARs, one store */
	check(((*bar0 & ~3u) == 0x1000) && (*bar1 & ~0xfu) == 0, "nor with an 8-byte store, refused whole (%#x %#x)", *bar0,
	      *bar1);
	*bar1 = 0x10000000;
	*cmd = CMD_IO | CMD_MEM;
	*bar1 = HV_BASE;
	check_eq(*bar1 & ~0xfu, 0x10000000, "a memory BAR cannot cover the hypervisor");
	*bar1 = 0x10004000;
	check_eq(*bar1 & ~0xfu, 0x10004000, "a memory BAR elsewhere moves");
	*cmd = 0;
	*bar1 = HV_BASE + 0x10000;
	*cmd = CMD_MEM;
	check_eq(*cmd & CMD_MEM, 0, "memory decoding over the hypervisor is refused");
	*bar0 = DEBUG_LINE_IO;
	*cmd = CMD_IO | CMD_MEM;
	check_eq(*cmd & (CMD_IO | CMD_MEM), 0, "both, asked for at once, are refused");
	*bar0 = 0;
	*bar1 = 0;
	expect_abort(DEBUG_LINE_PAGE, false, "the debug line after the BAR attacks");
}

/* The same through a bridge's windows (a PCIe root port, 1b36:000c). */
#define PCI_IO_BASE 0x1c    /* base and limit bytes, [7:4] = address [15:12] */
#define PCI_MEMORY_BASE 0x20 /* base and limit halves, [15:4] = address [31:20] */

static void bridge_attacks(void)
{
	u64 cfg = 0;

	for (u64 dev = 0; dev < 32 && !cfg; dev++)
		if (*(volatile u32 *)(ECAM + (dev << 15)) == 0x000c1b36u)
			cfg = ECAM + (dev << 15);
	if (!cfg) {
		skip("PCI bridge windows onto the debug line: no root port (tests/qemu/hostile.sh adds one)");
		return;
	}
	volatile u16 *cmd = (volatile u16 *)(cfg + PCI_COMMAND);
	volatile u16 *io = (volatile u16 *)(cfg + PCI_IO_BASE);
	volatile u32 *mem = (volatile u32 *)(cfg + PCI_MEMORY_BASE);

	*cmd = 0;
	*io = 0xf0f0; /* I/O 0xf000-0xffff */
	*cmd = CMD_IO;
	check_eq(*cmd & CMD_IO, 0, "a bridge cannot forward I/O over the debug line's page");
	*io = 0x1010; /* 0x1000-0x1fff */
	*cmd = CMD_IO;
	check_eq(*cmd & CMD_IO, CMD_IO, "a bridge's I/O window elsewhere is allowed");
	*io = 0xf0f0;
	check_eq(*io, 0x1010, "and cannot be moved onto the debug line while forwarding");
	*mem = 0x40004000; /* 0x40000000-0x400fffff: the hypervisor */
	*cmd = CMD_IO | CMD_MEM;
	check_eq(*cmd & CMD_MEM, 0, "a bridge cannot forward memory over the hypervisor");
	*cmd = 0;
	*io = 0x00f0; /* base above limit: closed */
	*mem = 0x0000fff0;
}

/*
 * Finding 7: a 16-bit T32 instruction trapped at AArch32 EL0. The test runs
 * three T32 instructions at EL0 (ldr r0, [r1]; adds r2, #1; svc #0) and
 * catches the SVC or a fault through a vector table of its own.
 */
struct a32_run {
	u32 r[4];     /* r0-r3 in and out */
	u64 kind;     /* vector taken: 12 is a synchronous exception from AArch32 */
	u64 esr, far;
};

extern const u16 a32_code[];
void a32_el0_run(struct a32_run *run);
asm(".pushsection .text\n"
    ".balign 4\n"
    "a32_code: .hword 0x6808, 0x3201, 0xdf00\n" /* ldr r0, [r1]; adds r2, #1; svc #0 */
    ".balign 2048\n"
    "a32_vectors:\n"
    ".irp kind, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n"
    ".balign 0x80\n"
    "mov x9, #\\kind\n"
    "b a32_el0_return\n"
    ".endr\n"
    ".global a32_el0_run\n"
    "a32_el0_run:\n"		/* x0: struct a32_run */
    "stp x29, x30, [sp, #-112]!\n"
    "stp x19, x20, [sp, #16]\n stp x21, x22, [sp, #32]\n stp x23, x24, [sp, #48]\n"
    "stp x25, x26, [sp, #64]\n stp x27, x28, [sp, #80]\n str x0, [sp, #96]\n"
    "mrs x1, vbar_el1\n str x1, [sp, #104]\n"
    "adrp x1, a32_saved_sp\n mov x2, sp\n str x2, [x1, :lo12:a32_saved_sp]\n"
    "adr x1, a32_vectors\n msr vbar_el1, x1\n"
    "adr x1, a32_code\n msr elr_el1, x1\n"
    "mov x1, #0x1f0\n msr spsr_el1, x1\n" /* AArch32 User, T32, A/I/F masked */
    "isb\n"
    "ldp w2, w3, [x0, #8]\n ldp w0, w1, [x0]\n"
    "eret\n"
    "a32_el0_return:\n"
    "adrp x10, a32_saved_sp\n ldr x10, [x10, :lo12:a32_saved_sp]\n mov sp, x10\n"
    "ldr x10, [sp, #96]\n"
    "stp w0, w1, [x10]\n stp w2, w3, [x10, #8]\n"
    "str x9, [x10, #16]\n mrs x11, esr_el1\n str x11, [x10, #24]\n mrs x11, far_el1\n str x11, [x10, #32]\n"
    "ldr x1, [sp, #104]\n msr vbar_el1, x1\n isb\n"
    "ldp x19, x20, [sp, #16]\n ldp x21, x22, [sp, #32]\n ldp x23, x24, [sp, #48]\n"
    "ldp x25, x26, [sp, #64]\n ldp x27, x28, [sp, #80]\n"
    "ldp x29, x30, [sp], #112\n"
    "ret\n"
    ".popsection\n");
u64 a32_saved_sp;

static void a32_el0_attacks(void)
{
	struct a32_run run = { .r = { 0, GICD_BASE + GICD_TYPER, 41, 0 } };
	u32 typer = *(volatile u32 *)(GICD_BASE + GICD_TYPER);

	if ((read_sysreg(id_aa64pfr0_el1) & 0xf) != 2) { /* ID_AA64PFR0_EL1.EL0: 2 = AArch64 and AArch32 */
		skip("16-bit T32 at AArch32 EL0: this CPU has no AArch32 EL0");
		return;
	}
	a32_el0_run(&run);
	check(run.kind == 12 && ESR_EC_OF(run.esr) == 0x11, "AArch32 EL0 ran to its SVC (vector %lu, ESR %#lx)", run.kind,
	      run.esr);
	check_eq(run.r[0], typer, "a 16-bit T32 load from the trapped distributor gets GICD_TYPER");
	check_eq(run.r[2], 42, "the instruction after it runs (the hypervisor skipped 2 bytes, not 4)");
	/* The same load from the hypervisor's memory: an abort whose IL says 16 bits. */
	run = (struct a32_run){ .r = { 0, HV_IMAGE, 41, 0 } };
	a32_el0_run(&run);
	check(run.kind == 12 && ESR_EC_OF(run.esr) == EC_DABT_LOW && !(run.esr & ESR_IL) && run.far == HV_IMAGE,
	      "a 16-bit T32 load from hypervisor memory is a data abort with IL = 0 (ESR %#lx FAR %#lx)", run.esr,
	      run.far);
}

/* Finding 7: a big-endian guest's emulated loads and stores. */
static void big_endian_attacks(void)
{
	volatile u32 *typer = (volatile u32 *)(GICD_BASE + GICD_TYPER);
	volatile u32 *prio = (volatile u32 *)(GICD_BASE + GICD_IPRIORITYR + 48); /* SPIs 48-51 */
	u32 le = *typer, be, sctlr_ee = 1u << 25;
	u64 sctlr = read_sysreg(sctlr_el1);

	asm volatile("msr sctlr_el1, %[be]\n isb\n"
		     "ldr %w[v], [%[typer]]\n"
		     "str %w[w], [%[prio]]\n"
		     "msr sctlr_el1, %[le]\n isb"
		     : [v] "=&r"(be)
		     : [be] "r"(sctlr | sctlr_ee), [le] "r"(sctlr), [typer] "r"(typer), [prio] "r"(prio),
		       [w] "r"(0x30405060u)
		     : "memory");
	check_eq(be, __builtin_bswap32(le), "with SCTLR_EL1.EE set an emulated load is big-endian");
	check_eq(*prio, 0x60504030u, "and an emulated store too");
}

/* Finding 8: a trapped WFIT sleeps at most until its deadline, with nothing pending. */
static void wfit_attack(void)
{
	u64 freq = read_sysreg(cntfrq_el0), t0, t1;

	if ((read_sysreg(S3_0_C0_C6_2) & 0xf) == 0) { /* ID_AA64ISAR2_EL1.WFxT */
		skip("a trapped WFIT ends at its deadline: this CPU has no FEAT_WFxT (QEMU 7.2 has none)");
		return;
	}
	t0 = read_sysreg(cntvct_el0);
	asm volatile("mov x0, %0\n .inst 0xd5031020" ::"r"(t0 + freq / 100) : "x0", "memory"); /* wfit x0 */
	t1 = read_sysreg(cntvct_el0);
	check(t1 - t0 < freq, "a trapped WFIT with a 10 ms deadline returned after %lu ticks", t1 - t0);
}

/* The hostile gdb test (tests/qemu/hostile.sh) looks at these once GDB is attached,
 * and sets probe_addr for the spinning guest to read. */
volatile u64 seen_osdlr, seen_oslsr, idle_spins, probe_addr, probe_esr;

static bool dtb_mentions(u64 dtb, const char *word)
{
	const u8 *p = (const u8 *)dtb;
	u32 size = __builtin_bswap32(*(const u32 *)(dtb + 4));
	size_t n = strlen(word);

	for (u32 i = 0; size >= n && i <= size - n; i++)
		if (!memcmp(p + i, word, n))
			return true;
	return false;
}

/*
 * Finding 6: lock the OS Lock and the OS Double Lock, then run on with no traps
 * at all for GDB to attach, step, Ctrl-C and detach (tests/qemu/hostile.sh).
 */
static void __attribute__((noreturn)) lock_debug_and_spin(void)
{
	u64 v;

	write_sysreg(osdlr_el1, 1);
	write_sysreg(oslar_el1, 1);
	isb();
	/* Redistributors asleep would stop the hypervisor's own interrupts too. */
	for (unsigned cpu = 0; cpu < 2; cpu++)
		*(volatile u32 *)(rd_base(cpu) + GICR_WAKER) = 2;
	gprintf("hostile: attacks done; OS Lock and Double Lock set, redistributors asleep; spinning for GDB\n");
	for (;;) {
		seen_osdlr = read_sysreg(osdlr_el1);
		seen_oslsr = read_sysreg(oslsr_el1);
		idle_spins++;
		if (probe_addr) {
			probe_esr = probe_read(probe_addr, 4, &v) ? 0 : faults[0].esr;
			probe_addr = 0;
		}
	}
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

/* ---- the virtual GIC under attack ---------------------------------------------- */

#define ICC_IAR1 S3_0_C12_C12_0
#define ICC_EOIR1 S3_0_C12_C12_1
#define ICC_HPPIR1 S3_0_C12_C12_2
#define ICC_SGI1R S3_0_C12_C11_5
#define GICR_ISENABLER0 0x100
#define GICR_ICENABLER0 0x180
#define GICR_ICACTIVER0 0x380
#define SPURIOUS 1023
/* read_sysreg() names its register as written: these expand the names above first. */
#define icc_read(r) read_sysreg(r)
#define icc_write(r, v) write_sysreg(r, v)

/* One 32-bit store: a loop of volatile stores may become store pairs, which MMIO refuses. */
static void store32(u64 addr, u32 value)
{
	asm volatile("str %w0, [%1]" ::"r"(value), "r"(addr) : "memory");
}

static volatile u32 *sgi_frame_reg(unsigned cpu, u64 off)
{
	return (volatile u32 *)(rd_base(cpu) + GICR_SGI_BASE + off);
}

static void sgi_to_self(unsigned intid)
{
	icc_write(ICC_SGI1R, (u64)intid << 24 | 1); /* vCPU 0: affinity 0.0.0.0, target 0 */
	isb();
}

/* Poll (interrupts masked) until intid is the highest pending one, for at most 100 ms. */
static bool wait_pending(unsigned intid)
{
	u64 deadline = read_sysreg(cntvct_el0) + read_sysreg(cntfrq_el0) / 10;

	while ((icc_read(ICC_HPPIR1) & 0xffffff) != intid)
		if (read_sysreg(cntvct_el0) > deadline)
			return false;
	return true;
}

/* Arm the timer, take its interrupt (acknowledged, active) by polling. */
static bool take_timer(void)
{
	write_sysreg(cntv_tval_el0, read_sysreg(cntfrq_el0) / 1000);
	write_sysreg(cntv_ctl_el0, 1);
	isb();
	if (!wait_pending(TIMER_PPI))
		return false;
	return (icc_read(ICC_IAR1) & 0xffffff) == TIMER_PPI;
}

/*
 * Every register of the distributor and of each redistributor written with
 * every pattern; storms of SGIs; a HW-linked interrupt disabled, or its active
 * state cleared, while the guest holds it; an interrupt left active forever.
 * The hypervisor must answer afterwards, the guest's GIC must still be one,
 * and tests/qemu/hostile.sh attaches GDB after all of it.
 */
static void vgic_attacks(void)
{
	static const u32 patterns[] = { 0xffffffffu, 0xa5a5a5a5u, 0x5a5a5a5au, 0 };
	u32 pidr2 = *(volatile u32 *)(GICD_BASE + 0xffe8);
	u64 typer1 = *(volatile u64 *)(rd_base(1) + GICR_TYPER);

	asm volatile("msr daifset, #2");
	for (unsigned p = 0; p < ARRAY_SIZE(patterns); p++) {
		for (u64 off = 0; off < 0x10000; off += 4)
			store32(GICD_BASE + off, patterns[p]);
		for (unsigned cpu = 0; cpu < 2; cpu++)
			for (u64 off = 0; off < GICR_FRAME; off += 4)
				store32(rd_base(cpu) + off, patterns[p]);
	}
	check_eq(smc_call(PSCI_VERSION, 0, 0, 0), 0x10001,
		 "the hypervisor answers after every pattern in every GIC register");
	check(!(*(volatile u32 *)(GICD_BASE + GICD_TYPER) & GICD_TYPER_LPIS) &&
		      *(volatile u32 *)(GICD_BASE + 0xffe8) == pidr2 &&
		      *(volatile u64 *)(rd_base(1) + GICR_TYPER) == typer1 && (typer1 & 0x10),
	      "GICD_TYPER, PIDR2 and the last GICR_TYPER are what they were (TYPER %#lx)", typer1);
	for (unsigned cpu = 0; cpu < 2; cpu++) /* nothing left pending or active */
		for (u64 off = 0x280; off < 0x400; off += 0x100)
			store32((u64)sgi_frame_reg(cpu, off), ~0u);
	for (u64 off = 0x284; off < 0x300; off += 4) {
		store32(GICD_BASE + off, ~0u);
		store32(GICD_BASE + off + 0x100, ~0u);
	}
	gic_init_cpu(); /* groups, the timer's PPI, the CPU interface: as at boot */
	check_eq(icc_read(ICC_IAR1) & 0xffffff, SPURIOUS, "and nothing is pending once the guest cleans up");

	/* SGI storms: to everyone else (vCPU 1 has its SGIs off: pending, never
	 * taken), and 2000 to itself while masked, which are one pending SGI. */
	*sgi_frame_reg(1, 0x80) = ~0u; /* vCPU 1's SGIs are Group 1, as SGI1R sends them */
	for (unsigned i = 0; i < 20000; i++)
		icc_write(ICC_SGI1R, 1ul << 40 | (u64)(i % 16) << 24);
	*sgi_frame_reg(0, GICD_IPRIORITYR + 3) = 0x80;
	*sgi_frame_reg(0, 0x80) |= 1u << 3; /* IGROUPR0: Group 1 */
	*sgi_frame_reg(0, GICR_ISENABLER0) = 1u << 3;
	for (unsigned i = 0; i < 2000; i++)
		sgi_to_self(3);
	check(wait_pending(3) && (icc_read(ICC_IAR1) & 0xffffff) == 3, "2000 SGIs to itself are one pending SGI");
	icc_write(ICC_EOIR1, 3);
	isb();
	check_eq(icc_read(ICC_IAR1) & 0xffffff, SPURIOUS, "... and once taken, none is left");
	/* Reading its pending state makes the hypervisor look at the list
	 * registers again: the 1999 merged sends must not come back then. */
	check_eq(*sgi_frame_reg(0, 0x200) & (1u << 3), 0, "... nor after the hypervisor looks again (GICR_ISPENDR0)");
	check_eq(icc_read(ICC_IAR1) & 0xffffff, SPURIOUS, "... and still none is pending");
	check(*sgi_frame_reg(1, 0x200) & 0xffff, "the storm's SGIs wait on vCPU 1, whose SGIs are off (%#x)",
	      *sgi_frame_reg(1, 0x200));
	check_eq(smc_call(PSCI_VERSION, 0, 0, 0), 0x10001, "the hypervisor answers after 22000 SGIs");

	/* The timer's interrupt is a physical one's (HW-linked): taken, then
	 * disabled before its EOI; then taken and its active state cleared. The
	 * physical interrupt must not stay active: the timer fires again. */
	check(take_timer(), "the timer's interrupt is taken by polling");
	*sgi_frame_reg(0, GICR_ICENABLER0) = 1u << TIMER_PPI;
	write_sysreg(cntv_ctl_el0, 0);
	icc_write(ICC_EOIR1, TIMER_PPI);
	isb();
	*sgi_frame_reg(0, GICR_ISENABLER0) = 1u << TIMER_PPI;
	check(take_timer(), "disabled while active, then ended: the timer interrupts again once enabled");
	*sgi_frame_reg(0, GICR_ICACTIVER0) = 1u << TIMER_PPI;
	write_sysreg(cntv_ctl_el0, 0);
	icc_write(ICC_EOIR1, TIMER_PPI); /* drops the running priority; nothing is active to end */
	isb();
	check(take_timer(), "its active state cleared by ICACTIVER0: the timer interrupts again");
	write_sysreg(cntv_ctl_el0, 0);
	icc_write(ICC_EOIR1, TIMER_PPI);
	isb();

	/* An interrupt left active forever: a higher-priority one still comes, a
	 * lower one waits. SGI 4 stays active for the rest of the run. */
	for (unsigned intid = 4; intid <= 6; intid++) {
		*sgi_frame_reg(0, 0x80) |= 1u << intid;
		*((volatile u8 *)sgi_frame_reg(0, GICD_IPRIORITYR) + intid) = intid == 4 ? 0x80 : intid == 5 ? 0x40 : 0xc0;
		*sgi_frame_reg(0, GICR_ISENABLER0) = 1u << intid;
	}
	sgi_to_self(4);
	check(wait_pending(4) && (icc_read(ICC_IAR1) & 0xffffff) == 4,
	      "SGI 4 taken, never to be ended (HPPIR %lu, pending %#x, active %#x, enabled %#x, RPR %#lx)",
	      icc_read(ICC_HPPIR1) & 0xffffff, *sgi_frame_reg(0, 0x200), *sgi_frame_reg(0, 0x300),
	      *sgi_frame_reg(0, GICR_ISENABLER0), icc_read(S3_0_C12_C11_3));
	sgi_to_self(6);
	sgi_to_self(5);
	check(wait_pending(5) && (icc_read(ICC_IAR1) & 0xffffff) == 5, "a higher-priority SGI preempts it");
	icc_write(ICC_EOIR1, 5);
	isb();
	check_eq(icc_read(ICC_IAR1) & 0xffffff, SPURIOUS, "a lower-priority one waits behind it");
	check_eq(smc_call(PSCI_VERSION, 0, 0, 0), 0x10001, "the hypervisor answers with SGI 4 active");
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
	bool then_spin = dtb_mentions(dtb, "hostile.spin");

	gprintf("hostile: trying to escape trapvisor\n");
	check_eq(smc_call(PSCI_CPU_ON64, 1, (u64)secondary_entry, 1), 0, "start a second attacker");
	gic_attacks();
	pci_attacks();
	bridge_attacks();
	a32_el0_attacks();
	big_endian_attacks();
	wfit_attack();

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

	/* The guest's GIC has no holes: every priority is the guest's, the debug
	 * line's INTID (36) included, which is an ordinary virtual SPI for it (the
	 * real one is the hypervisor's; tests/qemu/hostile.sh attaches GDB after). */
	volatile u32 *prio_word = (volatile u32 *)(GICD_BASE + GICD_IPRIORITYR + 40);
	*prio_word = 0xa0200800u; /* SPIs 40-43: 0x00, 0x08, 0x20, 0xa0 */
	check_eq(*prio_word, 0xa0200800u, "guest SPI priorities read back as written, 0x00 included");
	*(volatile u8 *)(GICD_BASE + GICD_IPRIORITYR + 36) = 0xf0;
	check_eq(*(volatile u8 *)(GICD_BASE + GICD_IPRIORITYR + 36), 0xf0, "SPI 36, the debug line's INTID, is the guest's own");
	*(volatile u8 *)(GICR_BASE + 0x10000 + GICD_IPRIORITYR + 27) = 0x00;
	check_eq(*(volatile u8 *)(GICR_BASE + 0x10000 + GICD_IPRIORITYR + 27), 0x00,
		 "a PPI priority of 0x00 reads back");

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
	vgic_attacks();
	if (then_spin)
		lock_debug_and_spin();
	return 0;
}
