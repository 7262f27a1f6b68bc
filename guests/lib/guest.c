#include "guest.h"
#include <stdarg.h>

struct fault_record faults[8];
static unsigned failures;
static spinlock_t print_lock;

static void uart_putc(char c)
{
	volatile u32 *uart = (volatile u32 *)UART_BASE;

	while (uart[0x18 / 4] & (1u << 5)) /* FR.TXFF */
		;
	uart[0] = (u8)c;
}

void gprintf(const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	spin_lock(&print_lock);
	for (char *p = buf; *p; p++) {
		if (*p == '\n')
			uart_putc('\r');
		uart_putc(*p);
	}
	spin_unlock(&print_lock);
}

/* One verdict line, "PASS: ...", "FAIL: ..." or "SKIP: ...", for tests/run to count. */
static void verdict(const char *word, const char *fmt, va_list ap)
{
	char buf[200];

	vsnprintf(buf, sizeof(buf), fmt, ap);
	gprintf("%s: %s\n", word, buf);
}

void check(bool ok, const char *fmt, ...)
{
	va_list ap;

	if (!ok)
		__atomic_add_fetch(&failures, 1, __ATOMIC_RELAXED);
	va_start(ap, fmt);
	verdict(ok ? "PASS" : "FAIL", fmt, ap);
	va_end(ap);
}

void skip(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verdict("SKIP", fmt, ap);
	va_end(ap);
}

unsigned guest_failures(void)
{
	return failures;
}

unsigned cpu_index(void)
{
	return (unsigned)read_sysreg(tpidr_el1);
}

#define PSCI_SYSTEM_OFF 0x84000008ul
#define PSCI_CPU_OFF 0x84000002ul

static bool psci_hvc;

bool psci_conduit_from_dt(u64 dtb)
{
	u32 len;
	const char *m = fdt_prop(dtb, "/psci", "method", &len);

	if (!m || len != 4 || m[3])
		return false;
	if (!strcmp(m, "hvc"))
		psci_hvc = true;
	else if (strcmp(m, "smc"))
		return false;
	return true;
}

bool psci_conduit_is_hvc(void)
{
	return psci_hvc;
}

u64 psci_call(u64 fid, u64 a1, u64 a2, u64 a3)
{
	return psci_hvc ? hvc_call(fid, a1, a2, a3) : smc_call(fid, a1, a2, a3);
}

void guest_exit(void)
{
	gprintf("DONE: %u failures\n", failures);
	psci_call(PSCI_SYSTEM_OFF, 0, 0, 0);
	gprintf("FAIL: SYSTEM_OFF returned\n");
	for (;;)
		asm volatile("wfi");
}

void psci_cpu_off(void)
{
	psci_call(PSCI_CPU_OFF, 0, 0, 0);
	gprintf("FAIL: CPU_OFF returned on vCPU %u\n", cpu_index());
	for (;;)
		asm volatile("wfi");
}

u64 smc_call(u64 fid, u64 a1, u64 a2, u64 a3)
{
	register u64 x0 asm("x0") = fid, x1 asm("x1") = a1, x2 asm("x2") = a2, x3 asm("x3") = a3;

	asm volatile("smc #0" : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3)::"memory");
	return x0;
}

u64 hvc_call(u64 fid, u64 a1, u64 a2, u64 a3)
{
	register u64 x0 asm("x0") = fid, x1 asm("x1") = a1, x2 asm("x2") = a2, x3 asm("x3") = a3;

	asm volatile("hvc #0" : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3)::"memory");
	return x0;
}

void fault_expect(void)
{
	struct fault_record *f = &faults[cpu_index()];

	f->taken = false;
	f->armed = true;
	barrier();
}

bool fault_taken(void)
{
	struct fault_record *f = &faults[cpu_index()];
	bool t;

	barrier();
	t = f->taken;
	f->armed = false;
	return t;
}

void (*volatile guest_irq_handler)(void);

/* Called from the vectors (head.S). kind: vector number 0-15. */
void guest_exception(unsigned kind, u64 *regs)
{
	struct fault_record *f = &faults[cpu_index()];
	u64 esr = read_sysreg(esr_el1), elr = read_sysreg(elr_el1);

	if ((kind & 3) == 1 && guest_irq_handler) { /* an IRQ, and a test that takes them */
		guest_irq_handler();
		return;
	}
	if (f->armed && (kind & 3) == 0) {
		f->esr = esr;
		f->far = read_sysreg(far_el1);
		f->elr = elr;
		f->kind = kind;
		f->taken = true;
		f->armed = false;
		/* An instruction abort came from a branch: return to its caller. */
		if (ESR_EC_OF(esr) == 0x20 || ESR_EC_OF(esr) == 0x21)
			write_sysreg(elr_el1, regs[19]); /* x30, saved at [sp, #152] */
		else
			write_sysreg(elr_el1, elr + 4);
		return;
	}
	gprintf("FAIL: unexpected exception (vector %u) on vCPU %u: ESR_EL1 %#lx ELR_EL1 %#lx FAR_EL1 %#lx\n",
		kind, cpu_index(), esr, elr, read_sysreg(far_el1));
	failures++;
	guest_exit();
}

bool probe_read(u64 addr, unsigned width, u64 *value)
{
	u64 v = 0;

	fault_expect();
	switch (width) {
	case 1: v = *(volatile u8 *)addr; break;
	case 2: v = *(volatile u16 *)addr; break;
	case 4: v = *(volatile u32 *)addr; break;
	default: v = *(volatile u64 *)addr;
	}
	if (fault_taken())
		return false;
	*value = v;
	return true;
}

bool probe_write(u64 addr, unsigned width, u64 value)
{
	fault_expect();
	switch (width) {
	case 1: *(volatile u8 *)addr = value; break;
	case 2: *(volatile u16 *)addr = value; break;
	case 4: *(volatile u32 *)addr = value; break;
	default: *(volatile u64 *)addr = value;
	}
	return !fault_taken();
}

/* GICv3, just enough for the virtual timer's PPI to wake a WFI (taken only by
 * a test that sets guest_irq_handler and clears PSTATE.I). */
#define GICD_CTLR 0x0
#define GICR_FRAME_SIZE 0x20000ul
#define GICR_WAKER 0x14
#define GICR_SGI 0x10000ul
#define GICR_IGROUPR0 0x80
#define GICR_ISENABLER0 0x100
#define GICR_IPRIORITYR 0x400

volatile u8 *gic_ppi_priority(unsigned intid)
{
	return (volatile u8 *)(GICR_BASE + cpu_index() * GICR_FRAME_SIZE + GICR_SGI + GICR_IPRIORITYR + intid);
}

void gic_init_cpu(void)
{
	volatile u32 *gicd = (volatile u32 *)GICD_BASE;
	u64 rd = GICR_BASE + cpu_index() * GICR_FRAME_SIZE;

	if (cpu_index() == 0)
		gicd[GICD_CTLR / 4] = (1u << 4) | (1u << 1); /* ARE, EnableGrp1 */
	*(volatile u32 *)(rd + GICR_WAKER) &= ~(1u << 1); /* ProcessorSleep = 0 */
	while (*(volatile u32 *)(rd + GICR_WAKER) & (1u << 2))
		;
	*(volatile u32 *)(rd + GICR_SGI + GICR_IGROUPR0) |= 1u << TIMER_PPI;
	*(volatile u32 *)(rd + GICR_SGI + GICR_ISENABLER0) = 1u << TIMER_PPI;
	write_sysreg(S3_0_C12_C12_5, read_sysreg(S3_0_C12_C12_5) | 1); /* ICC_SRE_EL1.SRE */
	isb();
	write_sysreg(S3_0_C4_C6_0, 0xff);  /* ICC_PMR_EL1 */
	write_sysreg(S3_0_C12_C12_7, 1);   /* ICC_IGRPEN1_EL1 */
	isb();
}

void timer_arm_ticks(u64 ticks)
{
	write_sysreg(cntv_tval_el0, ticks);
	write_sysreg(cntv_ctl_el0, 1); /* ENABLE, not masked */
	isb();
}

/*
 * Under a virtual GIC the timer's interrupt is a list register the guest's
 * CPU interface holds: it stays pending after the timer stops until the
 * guest takes it (or the hypervisor next looks), where a physical GIC drops a
 * level interrupt with its line. A guest that never takes it (these tests
 * wait with interrupts masked) acknowledges and ends it here; the highest
 * pending one is checked first, so nothing else is taken by mistake.
 */
void timer_disarm(void)
{
	write_sysreg(cntv_ctl_el0, 0);
	isb();
	if ((read_sysreg(S3_0_C12_C12_2) & 0xffffff) == TIMER_PPI) { /* ICC_HPPIR1_EL1 */
		u64 intid = read_sysreg(S3_0_C12_C12_0);		      /* ICC_IAR1_EL1 */
		write_sysreg(S3_0_C12_C12_1, intid);			      /* ICC_EOIR1_EL1 */
		isb();
	}
}
