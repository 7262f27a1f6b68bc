/*
 * Stage-2 translation for the guest: 4 KiB granule, 40-bit IPA space, the walk
 * starting at level 1 with two concatenated tables (VTCR_EL2.SL0 = 1, T0SZ = 24),
 * so the high PCIe window at 512 GiB fits. Blocks of 1 GiB or 2 MiB wherever
 * alignment allows, 4 KiB pages around holes.
 */
#include "mm.h"
#include "arch/sysreg.h"
#include "console.h"

#define S2_TABLE 0x3ULL
#define S2_BLOCK 0x1ULL
#define S2_PAGE 0x3ULL
#define S2_MEMATTR_NORMAL (0xfULL << 2)	   /* Normal, inner+outer write-back */
#define S2_MEMATTR_DEVICE (0x1ULL << 2)	   /* Device-nGnRE */
#define S2AP_RW (3ULL << 6)
#define S2_SH_INNER (3ULL << 8)
#define S2_AF BIT(10)
#define S2_XN BIT(54)
#define S2_ADDR_MASK 0x0000fffffffff000ULL

/* VTCR_EL2 (D19.2.167): T0SZ=24, SL0=1, IRGN0=ORGN0=WB-WA, SH0=inner, TG0=4K, PS=40 bit */
#define VTCR_VALUE (24ULL | (1ULL << 6) | (1ULL << 8) | (1ULL << 10) | (3ULL << 12) | (2ULL << 16) | VTCR_RES1)
#define VMID 1ULL

#define S2_POOL_PAGES 128

static u64 s2_root[1024] __attribute__((aligned(8192)));
static u64 s2_pool[S2_POOL_PAGES][512] __attribute__((aligned(4096)));
static unsigned s2_pool_used;

static u64 *table_alloc(void)
{
	if (s2_pool_used == S2_POOL_PAGES)
		return NULL;
	return s2_pool[s2_pool_used++];
}

static unsigned level_shift(int level)
{
	return 39 - 9 * level; /* level 1: 30, level 2: 21, level 3: 12 */
}

/* The entry for ipa at `level`, creating tables on the way down. */
static u64 *entry_for(u64 ipa, int level)
{
	u64 *table = s2_root;
	unsigned index = ipa >> 30; /* level 1 indexes 1024 concatenated entries */

	for (int l = 1; l < level; l++) {
		u64 *e = &table[index];
		if (!(*e & 1)) {
			u64 *next = table_alloc();
			if (!next)
				return NULL;
			*e = (u64)next | S2_TABLE;
		} else if ((*e & 3) != S2_TABLE) {
			return NULL; /* a block is already there: callers never split */
		}
		table = (u64 *)(*e & S2_ADDR_MASK);
		index = (ipa >> level_shift(l + 1)) & 511;
	}
	return &table[index];
}

bool stage2_map(u64 ipa, u64 pa, u64 size, enum s2_kind kind)
{
	u64 attr = kind == S2_NORMAL ? S2_MEMATTR_NORMAL | S2_SH_INNER
				     : S2_MEMATTR_DEVICE | S2_XN;

	attr |= S2AP_RW | S2_AF;
	while (size) {
		int level = 3;
		for (int l = 1; l < 3; l++) {
			u64 block = 1ULL << level_shift(l);
			if (!(ipa & (block - 1)) && !(pa & (block - 1)) && size >= block) {
				level = l;
				break;
			}
		}
		u64 *e = entry_for(ipa, level);
		if (!e)
			return false;
		*e = pa | attr | (level == 3 ? S2_PAGE : S2_BLOCK);
		u64 step = 1ULL << level_shift(level);
		ipa += step;
		pa += step;
		size -= step;
	}
	dsb(ishst);
	return true;
}

bool stage2_map_device_except(u64 start, u64 end, const struct addr_range *holes, unsigned n)
{
	u64 at = start;

	for (unsigned i = 0; i <= n; i++) {
		u64 stop = i < n ? holes[i].base : end;
		if (stop > end)
			stop = end;
		if (stop > at && !stage2_map(at, at, stop - at, S2_DEVICE))
			return false;
		if (i < n && holes[i].base + holes[i].size > at)
			at = holes[i].base + holes[i].size;
	}
	return true;
}

/*
 * The level-3 entry for ipa, splitting any block on the way into a table of
 * the same mapping one level down. Only called with every vCPU stopped: the
 * block is removed and the TLBs invalidated before the table goes in
 * (break-before-make), and nothing may touch the range meanwhile.
 */
static u64 *page_entry_splitting(u64 ipa)
{
	u64 *table = s2_root;
	unsigned index = ipa >> 30;

	for (int level = 1; level < 3; level++) {
		u64 *e = &table[index], old = *e;
		if (!(old & 1) || (old & 3) == S2_BLOCK) {
			u64 *next = table_alloc();
			u64 step = 1ULL << level_shift(level + 1);
			if (!next)
				return NULL;
			if (old & 1) {
				u64 attrs = old & ~S2_ADDR_MASK & ~3ULL;
				u64 oa = old & S2_ADDR_MASK & ~((1ULL << level_shift(level)) - 1);
				for (unsigned i = 0; i < 512; i++)
					next[i] = (oa + i * step) | attrs | (level + 1 == 3 ? S2_PAGE : S2_BLOCK);
				*e = 0;
				dsb(ishst);
				asm volatile("tlbi vmalls12e1is" ::: "memory");
				dsb(ish);
			}
			*e = (u64)next | S2_TABLE;
			dsb(ishst);
		}
		table = (u64 *)(*e & S2_ADDR_MASK);
		index = (ipa >> level_shift(level + 1)) & 511;
	}
	return &table[index];
}

bool stage2_set_device_pages(u64 ipa, u64 size, bool mapped)
{
	for (u64 a = ALIGN_DOWN(ipa, SZ_4K); a < ipa + size; a += SZ_4K) {
		u64 *e = page_entry_splitting(a);
		if (!e)
			return false;
		*e = mapped ? a | S2_MEMATTR_DEVICE | S2_XN | S2AP_RW | S2_AF | S2_PAGE : 0;
	}
	dsb(ishst);
	asm volatile("tlbi vmalls12e1is" ::: "memory");
	dsb(ish);
	isb();
	return true;
}

bool stage2_lookup(u64 ipa, u64 *pa)
{
	u64 *table = s2_root;
	unsigned index = ipa >> 30;

	if (ipa >> 40)
		return false;
	for (int level = 1; level <= 3; level++) {
		u64 e = table[index];
		if (!(e & 1))
			return false;
		if (level == 3 || (e & 3) == S2_BLOCK) {
			u64 mask = (1ULL << level_shift(level)) - 1;
			*pa = (e & S2_ADDR_MASK & ~mask) | (ipa & mask);
			return true;
		}
		table = (u64 *)(e & S2_ADDR_MASK);
		index = (ipa >> level_shift(level + 1)) & 511;
	}
	return false;
}

void stage2_enable_on_this_cpu(void)
{
	sysreg_write(vtcr_el2, VTCR_VALUE);
	sysreg_write(vttbr_el2, (u64)s2_root | (VMID << 48));
	isb();
	asm volatile("tlbi vmalls12e1is" ::: "memory");
	dsb(ish);
	isb();
}
