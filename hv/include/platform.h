/*
 * Everything that differs between boards, in one place. The device tree fills
 * what it says (RAM, CPUs, console, GIC, PCIe); the platform file supplies the
 * rest (where the firmware leaves the tree, the debug UART, firmware calls).
 * A new board is a new hv/platform/<board>.c, not a rewrite.
 */
#ifndef HV_PLATFORM_H
#define HV_PLATFORM_H

#include "trapvisor/types.h"
#include "hv.h"

struct platform {
	const char *name;
	u64 dtb;		  /* where the boot firmware left its device tree */
	u64 ram_base, ram_size;
	u64 hv_slice_end;	  /* RAM below this is the hypervisor's */
	unsigned cpu_count;
	u64 cpu_mpidr[MAX_CPUS];
	u64 console_base;	  /* PL011 */
	u64 gicd_base, gicr_base, gicr_size;
	u64 ecam_base, ecam_size; /* PCIe configuration space */
	u64 pio_cpu_base, pio_size; /* PCI I/O window as the CPU sees it */
	unsigned ecam_bus_count;
	/* The debug UART (a 16550 on PCI), hidden from the guest. */
	bool dbg_uart_found;
	unsigned dbg_uart_bdf;	  /* bus << 8 | dev << 3 | fn */
	u64 dbg_uart_base;	  /* CPU address of its registers */
	u64 dbg_uart_page;	  /* the 4 KiB page left unmapped at stage 2 */
	unsigned dbg_uart_intid;  /* its INTx line at the GIC (0: none found) */
	const char *bootargs;
};
extern struct platform plat;

void platform_defaults(void);
/* Find the debug UART in ECAM, give it an I/O BAR, program it. */
bool platform_debug_uart_init(void);
bool platform_ecam_device_is_hidden(unsigned bdf);

/* Firmware (PSCI) calls to the real machine. */
u64 firmware_psci_call(u64 fid, u64 a1, u64 a2, u64 a3);

/* Debug UART byte I/O (the GDB stub's line). */
void dbg_uart_write(const u8 *buf, size_t len);
int dbg_uart_getc(void); /* -1 when nothing is waiting */

/* Device tree: discovery (fdt.c). */
bool fdt_read_platform(void);
bool fdt_build_guest(void);
bool fdt_pci_intx_intid(unsigned bdf, unsigned pin, unsigned *intid);
/* Let the debug UART interrupt when GDB sends something. */
void dbg_uart_enable_rx_interrupt(void);

#endif
