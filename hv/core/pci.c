/*
 * PCI configuration space as the guest sees it: the ECAM region is trapped and
 * every function is the guest's, except the debug line's, which reads as
 * absent. What a function decodes is policed, because a BAR the guest moves is
 * a window onto whatever it covers: while a function decodes I/O or memory,
 * none of its BARs, its expansion ROM or (for a bridge) its windows may cover
 * the debug line's I/O page or the hypervisor's memory. A write that would
 * make it so does not happen: a BAR keeps its old value, a COMMAND write keeps
 * the decoding it asked for off (docs/architecture.md, "PCI").
 */
#include "hv.h"
#include "platform.h"
#include "mmio.h"
#include "pci.h"

static volatile u8 *cfg(unsigned bdf, unsigned off)
{
	return (volatile u8 *)(plat.ecam_base + ((u64)bdf << 12) + off);
}

u8 pci_cfg_read8(unsigned bdf, unsigned off) { return *cfg(bdf, off); }
u16 pci_cfg_read16(unsigned bdf, unsigned off) { return *(volatile u16 *)cfg(bdf, off); }
u32 pci_cfg_read32(unsigned bdf, unsigned off) { return *(volatile u32 *)cfg(bdf, off); }
void pci_cfg_write16(unsigned bdf, unsigned off, u16 v) { *(volatile u16 *)cfg(bdf, off) = v; }
void pci_cfg_write32(unsigned bdf, unsigned off, u32 v) { *(volatile u32 *)cfg(bdf, off) = v; }

#define PCI_COMMAND_DECODE (PCI_COMMAND_IO | PCI_COMMAND_MEMORY)
#define PCI_BAR_IO BIT(0)
#define PCI_BAR_MEM_64 (2u << 1) /* memory BAR type [2:1] */
#define PCI_ROM_ENABLE BIT(0)
#define PCI_ROM0 0x30		/* a function's expansion ROM BAR */
#define PCI_ROM1 0x38		/* a bridge's */
/* A bridge's windows (PCI-to-PCI Bridge spec 3.2.5) */
#define PCI_IO_BASE 0x1c	/* and limit at 0x1d, [7:4] = address [15:12] */
#define PCI_SEC_STATUS 0x1e	/* write-one-to-clear */
#define PCI_MEMORY_BASE 0x20	/* and limit at 0x22, [15:4] = address [31:20] */
#define PCI_PREF_BASE 0x24	/* and limit 0x26; upper 32 bits at 0x28 / 0x2c */
#define PCI_IO_BASE_UPPER 0x30	/* and limit 0x32 */
#define PCI_WINDOW_32BIT 1	/* in the low nibble of an I/O or prefetchable base */
/* Besides COMMAND, writes here can change what a function decodes: the BARs,
 * the ROM, a bridge's windows. */
#define GUARDED_FIRST PCI_BAR0
#define GUARDED_END 0x3c

static bool overlaps(u64 base, u64 size, u64 other, u64 other_size)
{
	return size && other_size && base < other + other_size && other < base + size;
}

static bool range_is_protected(bool io, u64 base, u64 size)
{
	if (io)
		return plat.dbg_line && overlaps(base, size, plat.dbg_line_page - plat.pio_cpu_base, SZ_4K);
	return overlaps(base, size, plat.ram_base, guest.ram_base - plat.ram_base);
}

/* The size a BAR decodes, by writing all ones (decoding is off) and reading the mask. */
static u32 bar_mask(unsigned bdf, unsigned off, u32 ones)
{
	u32 saved = pci_cfg_read32(bdf, off), mask;

	pci_cfg_write32(bdf, off, ones);
	mask = pci_cfg_read32(bdf, off);
	pci_cfg_write32(bdf, off, saved);
	return mask;
}

static u64 lowest_bit(u64 mask)
{
	return mask & (~mask + 1);
}

static bool window_is_protected(bool io, u64 base, u64 limit)
{
	return limit >= base && range_is_protected(io, base, limit - base + 1);
}

/* Would the function decode a protected range under COMMAND cmd? Decoding must be off. */
static bool decodes_protected(unsigned bdf, u16 cmd)
{
	unsigned type = pci_cfg_read8(bdf, PCI_HEADER_TYPE) & 0x7f;
	unsigned bars = type == 0 ? 6 : type == 1 ? 2 : 0, rom = type == 0 ? PCI_ROM0 : PCI_ROM1;

	for (unsigned i = 0; i < bars; i++) {
		unsigned off = PCI_BAR0 + 4 * i;
		u32 v = pci_cfg_read32(bdf, off);
		u64 base, mask;
		bool io = v & PCI_BAR_IO;

		if (io) {
			base = v & ~3u;
			mask = bar_mask(bdf, off, ~0u) & ~3u;
		} else {
			base = v & ~0xfu;
			mask = bar_mask(bdf, off, ~0u) & ~0xfu;
			if ((v & 6) == PCI_BAR_MEM_64 && i + 1 < bars) {
				i++;
				base |= (u64)pci_cfg_read32(bdf, off + 4) << 32;
				mask |= (u64)bar_mask(bdf, off + 4, ~0u) << 32;
			} else if (mask) {
				mask |= ~0ULL << 32;
			}
		}
		/* mask: the address bits the BAR implements; 0 if it has none. */
		if ((cmd & (io ? PCI_COMMAND_IO : PCI_COMMAND_MEMORY)) && mask &&
		    range_is_protected(io, base, lowest_bit(mask)))
			return true;
	}
	if (type <= 1 && (cmd & PCI_COMMAND_MEMORY)) {
		u32 v = pci_cfg_read32(bdf, rom), mask = bar_mask(bdf, rom, ~0u & ~PCI_ROM_ENABLE) & ~0x7ffu;
		if ((v & PCI_ROM_ENABLE) && mask && range_is_protected(false, v & ~0x7ffu, lowest_bit(mask)))
			return true;
	}
	if (type != 1)
		return false;
	if (cmd & PCI_COMMAND_IO) {
		u8 b = pci_cfg_read8(bdf, PCI_IO_BASE), l = pci_cfg_read8(bdf, PCI_IO_BASE + 1);
		u64 base = (b & 0xf0u) << 8, limit = (l & 0xf0u) << 8 | 0xfff;
		if ((b & 0xf) == PCI_WINDOW_32BIT) {
			base |= (u64)pci_cfg_read16(bdf, PCI_IO_BASE_UPPER) << 16;
			limit |= (u64)pci_cfg_read16(bdf, PCI_IO_BASE_UPPER + 2) << 16;
		}
		if (window_is_protected(true, base, limit))
			return true;
	}
	if (cmd & PCI_COMMAND_MEMORY) {
		u16 b = pci_cfg_read16(bdf, PCI_MEMORY_BASE), l = pci_cfg_read16(bdf, PCI_MEMORY_BASE + 2);
		u16 pb = pci_cfg_read16(bdf, PCI_PREF_BASE), pl = pci_cfg_read16(bdf, PCI_PREF_BASE + 2);
		u64 pbase = (u64)(pb & 0xfff0u) << 16, plimit = (u64)(pl & 0xfff0u) << 16 | 0xfffff;
		if ((pb & 0xf) == PCI_WINDOW_32BIT) {
			pbase |= (u64)pci_cfg_read32(bdf, PCI_PREF_BASE + 4) << 32;
			plimit |= (u64)pci_cfg_read32(bdf, PCI_PREF_BASE + 8) << 32;
		}
		if (window_is_protected(false, (u64)(b & 0xfff0u) << 16, (u64)(l & 0xfff0u) << 16 | 0xfffff) ||
		    window_is_protected(false, pbase, plimit))
			return true;
	}
	return false;
}

/* Does a config access of [off, off + width) reach any byte of [first, end)? */
static bool touches(unsigned off, unsigned width, unsigned first, unsigned end)
{
	return off < end && off + width > first;
}

/*
 * A write that reaches COMMAND's decode bits (byte 0 of COMMAND): it happens
 * with them clear, and only the decoding that covers nothing protected is
 * then turned on.
 */
static bool command_write(unsigned bdf, struct emul_access *acc)
{
	unsigned at = (PCI_COMMAND - (acc->addr & 0xfff)) * 8; /* COMMAND's place in the value */
	u16 wanted = (acc->value >> at) & PCI_COMMAND_DECODE, cmd;

	acc->value &= ~((u64)PCI_COMMAND_DECODE << at);
	pci_cfg_write16(bdf, PCI_COMMAND, pci_cfg_read16(bdf, PCI_COMMAND) & ~PCI_COMMAND_DECODE);
	if (!mmio_forward(acc->addr, acc))
		return false;
	cmd = pci_cfg_read16(bdf, PCI_COMMAND);
	/* Both kinds of decoding if they cover nothing protected, else the one
	 * that does not, else neither. */
	if (decodes_protected(bdf, cmd | wanted)) {
		u16 io = wanted & PCI_COMMAND_IO, mem = wanted & PCI_COMMAND_MEMORY;
		wanted = !decodes_protected(bdf, cmd | io) ? io : !decodes_protected(bdf, cmd | mem) ? mem : 0;
	}
	pci_cfg_write16(bdf, PCI_COMMAND, cmd | wanted);
	return true;
}

/* A write to a BAR, the ROM or a window: made with decoding off, undone if it covers something protected. */
static bool decode_register_write(unsigned bdf, struct emul_access *acc)
{
	unsigned off = acc->addr & 0xfff;
	u16 cmd = pci_cfg_read16(bdf, PCI_COMMAND);
	struct emul_access old = *acc;
	bool ok;

	old.write = false;
	pci_cfg_write16(bdf, PCI_COMMAND, cmd & ~PCI_COMMAND_DECODE);
	ok = mmio_forward(acc->addr, &old) && mmio_forward(acc->addr, acc);
	if (ok && decodes_protected(bdf, cmd)) {
		/* The old value back, leaving a bridge's write-one-to-clear
		 * secondary status alone. */
		if (touches(off, acc->width, PCI_SEC_STATUS, PCI_SEC_STATUS + 2) &&
		    (pci_cfg_read8(bdf, PCI_HEADER_TYPE) & 0x7f) == 1)
			old.value &= ~(0xffffULL << (PCI_SEC_STATUS - off) * 8);
		old.write = true;
		mmio_forward(acc->addr, &old);
	}
	pci_cfg_write16(bdf, PCI_COMMAND, cmd);
	return ok;
}

bool pci_ecam_access(const struct mmio_region *r, struct emul_access *acc)
{
	unsigned bdf = (acc->addr - r->base) >> 12, off = acc->addr & 0xfff;

	if (plat.dbg_line && bdf == plat.dbg_line_bdf) {
		if (!acc->write)
			acc->value = acc->width >= 8 ? ~0ULL : (1ULL << (acc->width * 8)) - 1;
		return true;
	}
	if (acc->write && touches(off, acc->width, PCI_COMMAND, PCI_COMMAND + 1))
		return command_write(bdf, acc);
	if (acc->write && touches(off, acc->width, GUARDED_FIRST, GUARDED_END))
		return decode_register_write(bdf, acc);
	return mmio_forward(acc->addr, acc);
}
