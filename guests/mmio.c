/*
 * MMIO emulation through stage-2 data aborts: PCI configuration space (ECAM)
 * is trapped and emulated. Every load/store width, sign extension into X and W
 * registers, writes that reach the device, the hidden debug line reading as
 * absent, and an access with no syndrome (ldp) refused with an abort.
 */
#include "guest.h"
#include "trapvisor/hypercall.h"
#include "trapvisor/event.h"

#define ECAM 0x4010000000ul
#define CFG(bdf, off) (ECAM + ((u64)(bdf) << 12) + (off))
#define HOST_BRIDGE_ID 0x00081b36u /* QEMU's gpex host bridge */
/* What the hypervisor's debug line can be: a virtio console, a 16550. */
#define VIRTIO_CONSOLE_ID 0x10031af4u
#define PCI_16550_ID 0x00021b36u

static u64 mmio_count(void)
{
	return hvc_call(TV_HC_STAT_COUNT, TRAP_MMIO, 0, 0);
}

int main(u64 dtb)
{
	u64 before = mmio_count(), v;
	unsigned accesses = 0, found = 0, line = 0;
	u32 w;

	gprintf("mmio: PCI configuration space through trapvisor\n");
	check_eq(*(volatile u32 *)CFG(0, 0), HOST_BRIDGE_ID, "32-bit read of the host bridge's ids");
	check_eq(*(volatile u16 *)CFG(0, 0), 0x1b36, "16-bit read of the vendor id");
	check_eq(*(volatile u16 *)CFG(0, 2), 0x0008, "16-bit read of the device id");
	check_eq(*(volatile u8 *)CFG(0, 1), 0x1b, "8-bit read");
	accesses += 4;

	/* Scan bus 0 as a guest's PCI driver would. */
	for (unsigned dev = 0; dev < 32; dev++) {
		w = *(volatile u32 *)CFG(dev << 3, 0);
		accesses++;
		if (w != 0xffffffffu)
			found++;
		if (w == VIRTIO_CONSOLE_ID || w == PCI_16550_ID)
			line++;
	}
	check_eq(line, 0, "the debug line is not visible on the bus");
	check(found >= 1, "the host bridge is visible (%u functions)", found);

	/* An absent function reads all ones: sign extension shows in the register. */
	asm volatile("ldrsh %0, [%1]" : "=r"(v) : "r"(CFG(0x1f << 3, 0)));
	check_eq(v, ~0ul, "ldrsh into X sign-extends to 64 bits");
	asm volatile("ldrsh %w0, [%1]" : "=r"(v) : "r"(CFG(0x1f << 3, 0)));
	check_eq(v, 0xfffffffful, "ldrsh into W sign-extends to 32 bits");
	asm volatile("ldrh %w0, [%1]" : "=r"(v) : "r"(CFG(0x1f << 3, 0)));
	check_eq(v, 0xffff, "ldrh zero-extends");
	asm volatile("ldrsb %0, [%1]" : "=r"(v) : "r"(CFG(0, 0)));
	check_eq(v, 0x36, "ldrsb of a positive byte");
	accesses += 4;

	/* A write reaches the device: the host bridge's COMMAND.SERR bit is writable. */
	v = *(volatile u16 *)CFG(0, 0x04);
	*(volatile u16 *)CFG(0, 0x04) = v | 0x100;
	check_eq(*(volatile u16 *)CFG(0, 0x04), v | 0x100, "16-bit write reaches the device");
	*(volatile u16 *)CFG(0, 0x04) = v;
	check_eq(*(volatile u16 *)CFG(0, 0x04), v, "and so does restoring it");
	accesses += 5;

	/* ldp has no syndrome (ISV = 0): refused with a data abort, not guessed at. */
	fault_expect();
	asm volatile("ldp %0, %1, [%2]" : "=r"(v), "=r"(w) : "r"(CFG(0, 0)));
	check(fault_taken() && ESR_EC_OF(faults[0].esr) == 0x25 && (faults[0].esr & 0x3f) == 0x10,
	      "ldp on MMIO gets a synchronous external abort (ESR %#lx)", faults[0].esr);
	check_eq(faults[0].far, CFG(0, 0), "FAR_EL1 names the address");
	accesses++;

	check_eq(mmio_count() - before, accesses, "the hypervisor counted every MMIO access");
	hvc_call(TV_HC_TRACE, 3, 0, 0);
	return 0;
}

void secondary_main(unsigned index)
{
}
