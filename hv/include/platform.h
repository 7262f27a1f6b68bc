/*
 * Everything that differs between boards, in one place. The device tree fills
 * what it says (RAM, CPUs, console, GIC, PCIe); the platform file supplies the
 * rest (where the firmware leaves the tree, the debug line, firmware calls).
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
	unsigned cpu_count;
	u64 cpu_mpidr[MAX_CPUS];
	u64 console_base;	  /* PL011 */
	u64 gicd_base, gicr_base, gicr_size;
	u64 its_base, its_size;	  /* the GIC's ITS, never the guest's (size 0: none) */
	u64 ecam_base, ecam_size; /* PCIe configuration space */
	u64 pio_cpu_base, pio_size; /* PCI I/O window as the CPU sees it */
	unsigned ecam_bus_count;
	/* The GDB stub's line: a PCI device hidden from the guest (dbg_line). */
	const struct debug_line *dbg_line; /* NULL: none found */
	unsigned dbg_line_bdf;	  /* bus << 8 | dev << 3 | fn */
	u64 dbg_line_base;	  /* CPU address of its registers (I/O BAR 0) */
	u64 dbg_line_page;	  /* the 4 KiB page left unmapped at stage 2 */
	unsigned dbg_line_intid;  /* its INTx line at the GIC (0: none found) */
	const char *bootargs;
};
extern struct platform plat;

void platform_defaults(void);
/* Find the debug line's device in ECAM, give it an I/O BAR, set it up. */
bool platform_debug_line_init(void);

/* Firmware (PSCI) calls to the real machine. */
u64 firmware_psci_call(u64 fid, u64 a1, u64 a2, u64 a3);

/*
 * A debug line: bytes to and from GDB. Two kinds of device can be one, both
 * at an I/O BAR (base): a virtio console (fast: a packet is one transfer) and
 * a 16550 UART (what real boards have; under QEMU each byte is an exit and a
 * host write(), docs/architecture.md). write() returns when all of it is sent.
 */
struct debug_line {
	const char *name;
	bool (*init)(u64 base);
	void (*write)(const u8 *buf, size_t len);
	int (*getc)(void); /* -1 when nothing is waiting; lowers its interrupt then */
	void (*enable_rx_interrupt)(void);
};
extern const struct debug_line virtio_console_line, uart16550_line;

static inline void dbg_line_write(const u8 *buf, size_t len)
{
	if (plat.dbg_line)
		plat.dbg_line->write(buf, len);
}

static inline int dbg_line_getc(void)
{
	return plat.dbg_line ? plat.dbg_line->getc() : -1;
}

/* Device tree: discovery (fdt.c). */
bool fdt_read_platform(void);
/* The MPIDR affinity vCPU id has unless trapvisor.vmpidr= says otherwise: the
 * machine's CPU of that number, or beyond them what QEMU's virt machine would
 * give a CPU of that number (fdt.c). */
u64 plat_vcpu_mpidr(unsigned id);
bool fdt_build_guest(void);
bool fdt_pci_intx_intid(unsigned bdf, unsigned pin, unsigned *intid);

#endif
