/*
 * QEMU's virt machine (virtualization=on, gic-version=3).
 *
 * Debug UART: `-device pci-serial` is a 16550 (vendor 0x1b36 device 0x0002,
 * Red Hat's QEMU PCI serial). It has no firmware to set it up, so we give its
 * BAR0 an address at the top of the PCI I/O window and take that page out of
 * the window the guest's device tree describes, so a guest that re-assigns PCI
 * resources never puts one of its devices there.
 */
#include "platform.h"
#include "lib.h"
#include "console.h"
#include "arch/sysreg.h"

#define DBG_UART_VENDOR 0x1b36
#define DBG_UART_DEVICE 0x0002
/* Offset of the debug UART's I/O BAR in the PCI I/O window: its last page. */
#define DBG_UART_PIO_OFFSET 0xf000

/* PCI configuration header offsets */
#define PCI_VENDOR_ID 0x00
#define PCI_COMMAND 0x04
#define PCI_COMMAND_IO BIT(0)
#define PCI_BAR0 0x10
#define PCI_INTERRUPT_PIN 0x3d /* 1 = INTA */

/* 16550 registers (byte-wide, I/O space) */
#define UART_RBR 0 /* receive buffer (read) / transmit holding (write) */
#define UART_IER 1
#define UART_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_DLL 0 /* with LCR.DLAB */
#define UART_DLM 1
#define LCR_8N1 0x03
#define LCR_DLAB 0x80
#define LSR_DR 0x01
#define LSR_THRE 0x20
#define MCR_DTR_RTS 0x03

struct platform plat;

void platform_defaults(void)
{
	plat.name = "qemu-virt";
	plat.dtb = 0x40000000;
	plat.ram_base = 0x40000000;
	plat.ram_size = 0x40000000;
	plat.console_base = 0x09000000;
	plat.gicd_base = 0x08000000;
	plat.gicr_base = 0x080a0000;
	plat.gicr_size = 0xf60000;
	plat.ecam_base = 0x4010000000ULL;
	plat.ecam_size = 0x10000000;
	plat.ecam_bus_count = 16;
	plat.pio_cpu_base = 0x3eff0000;
	plat.pio_size = 0x10000;
	plat.cpu_count = 1;
}

static volatile u8 *ecam_cfg(unsigned bdf, unsigned off)
{
	return (volatile u8 *)(plat.ecam_base + ((u64)bdf << 12) + off);
}

static u32 ecam_read32(unsigned bdf, unsigned off)
{
	return *(volatile u32 *)ecam_cfg(bdf, off);
}

static void ecam_write32(unsigned bdf, unsigned off, u32 v)
{
	*(volatile u32 *)ecam_cfg(bdf, off) = v;
}

static void uart_out(unsigned reg, u8 v)
{
	*(volatile u8 *)(plat.dbg_uart_base + reg) = v;
}

static u8 uart_in(unsigned reg)
{
	return *(volatile u8 *)(plat.dbg_uart_base + reg);
}

bool platform_debug_uart_init(void)
{
	unsigned buses = plat.ecam_size >> 20;

	if (buses > 256)
		buses = 256;
	for (unsigned bdf = 0; bdf < buses * 256; bdf++) {
		u32 id = ecam_read32(bdf, PCI_VENDOR_ID);
		if ((id & 0xffff) != DBG_UART_VENDOR || (id >> 16) != DBG_UART_DEVICE)
			continue;
		plat.dbg_uart_found = true;
		plat.dbg_uart_bdf = bdf;
		ecam_write32(bdf, PCI_BAR0, DBG_UART_PIO_OFFSET);
		ecam_write32(bdf, PCI_COMMAND, ecam_read32(bdf, PCI_COMMAND) | PCI_COMMAND_IO);
		plat.dbg_uart_base = plat.pio_cpu_base + DBG_UART_PIO_OFFSET;
		plat.dbg_uart_page = ALIGN_DOWN(plat.dbg_uart_base, SZ_4K);
		/* 115200 8N1 from the 1.8432 MHz clock; QEMU ignores the rate anyway. */
		uart_out(UART_LCR, LCR_DLAB);
		uart_out(UART_DLL, 1);
		uart_out(UART_DLM, 0);
		uart_out(UART_LCR, LCR_8N1);
		uart_out(UART_FCR, 0x07); /* enable and reset both FIFOs */
		uart_out(UART_MCR, MCR_DTR_RTS);
		uart_out(UART_IER, 0);
		/* Its INTx line, which the hypervisor takes as a Group 0 FIQ. */
		if (!fdt_pci_intx_intid(bdf, *ecam_cfg(bdf, PCI_INTERRUPT_PIN), &plat.dbg_uart_intid))
			plat.dbg_uart_intid = 0;
		return true;
	}
	return false;
}

bool platform_ecam_device_is_hidden(unsigned bdf)
{
	return plat.dbg_uart_found && bdf == plat.dbg_uart_bdf;
}

#define IER_RDI 0x01 /* received data available */

void dbg_uart_enable_rx_interrupt(void)
{
	if (plat.dbg_uart_found)
		uart_out(UART_IER, IER_RDI);
}

#define UART_FIFO_SIZE 16

/* THRE says the transmit FIFO is empty: then 16 bytes fit without asking again,
 * which matters in an emulator where every register access is an exit. */
void dbg_uart_write(const u8 *buf, size_t len)
{
	if (!plat.dbg_uart_found)
		return;
	while (len) {
		size_t n = len < UART_FIFO_SIZE ? len : UART_FIFO_SIZE;
		while (!(uart_in(UART_LSR) & LSR_THRE))
			;
		for (size_t i = 0; i < n; i++)
			uart_out(UART_RBR, buf[i]);
		buf += n;
		len -= n;
	}
}

int dbg_uart_getc(void)
{
	if (!plat.dbg_uart_found || !(uart_in(UART_LSR) & LSR_DR))
		return -1;
	return uart_in(UART_RBR);
}

u64 firmware_psci_call(u64 fid, u64 a1, u64 a2, u64 a3)
{
	register u64 x0 asm("x0") = fid;
	register u64 x1 asm("x1") = a1;
	register u64 x2 asm("x2") = a2;
	register u64 x3 asm("x3") = a3;

	/* QEMU's built-in PSCI answers SMC from EL2 (design.md). */
	asm volatile("smc #0" : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3) : : "memory");
	return x0;
}

#define PSCI_SYSTEM_OFF 0x84000008
#define PSCI_SYSTEM_RESET 0x84000009

void hv_system_off(void)
{
	firmware_psci_call(PSCI_SYSTEM_OFF, 0, 0, 0);
	for (;;)
		wfe();
}

void hv_system_reset(void)
{
	firmware_psci_call(PSCI_SYSTEM_RESET, 0, 0, 0);
	for (;;)
		wfe();
}
