/*
 * QEMU's virt machine (virtualization=on, gic-version=3).
 *
 * Debug line: a PCI device with an I/O BAR and no firmware to set it up: a
 * virtio console (`-device virtio-serial-pci,disable-modern=on,vectors=0` with
 * a `virtserialport`, what scripts/run-qemu gives) or else a 16550
 * (`-device pci-serial`). We give its BAR0 an address at the top of the PCI
 * I/O window and take that page out of the window the guest's device tree
 * describes, so a guest that re-assigns PCI resources never puts one of its
 * devices there.
 */
#include "platform.h"
#include "pci.h"
#include "lib.h"
#include "console.h"
#include "arch/sysreg.h"

/* Offset of the debug line's I/O BAR in the PCI I/O window: its last page. */
#define DBG_LINE_PIO_OFFSET 0xf000


/* What can be the debug line, best first. */
static const struct {
	u16 vendor, device;
	const struct debug_line *line;
} dbg_line_devices[] = {
	{ 0x1af4, 0x1003, &virtio_console_line }, /* virtio-serial, legacy interface */
	{ 0x1b36, 0x0002, &uart16550_line },	   /* QEMU's PCI 16550 */
};

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

static bool find_device(u16 vendor, u16 device, unsigned *bdf_out)
{
	unsigned buses = plat.ecam_size >> 20;

	if (buses > 256)
		buses = 256;
	for (unsigned bdf = 0; bdf < buses * 256; bdf++) {
		u32 id = pci_cfg_read32(bdf, PCI_VENDOR_ID);
		if ((id & 0xffff) == vendor && (id >> 16) == device) {
			*bdf_out = bdf;
			return true;
		}
	}
	return false;
}

bool platform_debug_line_init(void)
{
	for (unsigned i = 0; i < ARRAY_SIZE(dbg_line_devices); i++) {
		unsigned bdf;
		if (!find_device(dbg_line_devices[i].vendor, dbg_line_devices[i].device, &bdf))
			continue;
		pci_cfg_write32(bdf, PCI_BAR0, DBG_LINE_PIO_OFFSET);
		pci_cfg_write32(bdf, PCI_COMMAND,
			     pci_cfg_read32(bdf, PCI_COMMAND) | PCI_COMMAND_IO | PCI_COMMAND_MASTER);
		plat.dbg_line_base = plat.pio_cpu_base + DBG_LINE_PIO_OFFSET;
		if (!dbg_line_devices[i].line->init(plat.dbg_line_base)) {
			printk("trapvisor: the %s at PCI %02x:%02x.%u did not start\n", dbg_line_devices[i].line->name,
			       bdf >> 8, (bdf >> 3) & 31, bdf & 7);
			pci_cfg_write32(bdf, PCI_COMMAND, 0);
			continue;
		}
		plat.dbg_line = dbg_line_devices[i].line;
		plat.dbg_line_bdf = bdf;
		plat.dbg_line_page = ALIGN_DOWN(plat.dbg_line_base, SZ_4K);
		/* Its INTx line, which the hypervisor takes as a Group 0 FIQ. */
		if (!fdt_pci_intx_intid(bdf, pci_cfg_read8(bdf, PCI_INTERRUPT_PIN), &plat.dbg_line_intid))
			plat.dbg_line_intid = 0;
		return true;
	}
	return false;
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
