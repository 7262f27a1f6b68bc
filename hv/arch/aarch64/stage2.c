/*
 * Stage-2 translation for the guest: 4 KiB granule, 40-bit IPA space, the walk
 * starting at level 1 with two concatenated tables (VTCR_EL2.SL0 = 1, T0SZ = 24),
 * so the high PCIe window at 512 GiB fits. Blocks of 1 GiB or 2 MiB wherever
 * alignment allows, 4 KiB pages around holes.
 */
#include "mm.h"
#include "lib.h"
#include "arch/sysreg.h"
#include "console.h"

#define S2_TABLE 0x3ULL
#define S2_BLOCK 0x1ULL
#define S2_PAGE 0x3ULL
#define S2_MEMATTR_NORMAL (0xfULL << 2)	   /* Normal, inner+outer write-back */
#define S2_MEMATTR_DEVICE (0x1ULL << 2)	   /* Device-nGnRE */
#define S2AP_R (1ULL << 6) /* S2AP[0]: reads allowed */
#define S2AP_W (1ULL << 7) /* S2AP[1]: writes allowed */
#define S2AP_RW (S2AP_R | S2AP_W)
#define S2_SH_INNER (3ULL << 8)
#define S2_AF BIT(10)
#define S2_XN BIT(54)
#define S2_ADDR_MASK 0x0000fffffffff000ULL

/* VTCR_EL2 (D19.2.167): T0SZ=24, SL0=1, IRGN0=ORGN0=WB-WA, SH0=inner, TG0=4K, PS=40 bit */
#define VTCR_VALUE (24ULL | (1ULL << 6) | (1ULL << 8) | (1ULL << 10) | (3ULL << 12) | (2ULL << 16) | VTCR_RES1)

#define S2_POOL_PAGES 128
#define S2_WATCHED_POOL_PAGES 256 /* the copy (at most S2_POOL_PAGES), and a table for each split block */

/*
 * Two trees. The guest's own (VMID 1) is the only one until a stage-2
 * watchpoint exists; then every vCPU runs on a copy of it (VMID 2) whose
 * watched pages have lost write or all permission, and a vCPU completing an
 * access to such a page outside every watched range steps that one instruction
 * on the guest's own tree, so no other vCPU's access is ever let through
 * (hv/core/s2watch.c). The copy is rebuilt, not repaired, when the first
 * watchpoint comes back.
 */
struct s2_tree {
	u64 *root;
	u64 (*pool)[512];
	unsigned pool_pages, used;
	u64 vmid;
};

static u64 s2_root[1024] __attribute__((aligned(8192)));
static u64 s2_pool[S2_POOL_PAGES][512] __attribute__((aligned(4096)));
static u64 s2_watched_root[1024] __attribute__((aligned(8192)));
static u64 s2_watched_pool[S2_WATCHED_POOL_PAGES][512] __attribute__((aligned(4096)));
static struct s2_tree guest_tree = { s2_root, s2_pool, S2_POOL_PAGES, 0, 1 };
static struct s2_tree watched_tree = { s2_watched_root, s2_watched_pool, S2_WATCHED_POOL_PAGES, 0, 2 };
static bool watched_tree_live; /* the copy exists and follows every change of the guest's */

static u64 *table_alloc(struct s2_tree *t)
{
	if (t->used == t->pool_pages)
		return NULL;
	return t->pool[t->used++];
}

static unsigned level_shift(int level)
{
	return 39 - 9 * level; /* level 1: 30, level 2: 21, level 3: 12 */
}

/* The entry for ipa at `level`, creating tables on the way down (boot only). */
static u64 *entry_for(u64 ipa, int level)
{
	u64 *table = s2_root;
	unsigned index = ipa >> 30; /* level 1 indexes 1024 concatenated entries */

	for (int l = 1; l < level; l++) {
		u64 *e = &table[index];
		if (!(*e & 1)) {
			u64 *next = table_alloc(&guest_tree);
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
 * Invalidate what any CPU cached of a tree. TLBI VMALLS12E1IS acts on the
 * VMID in this CPU's VTTBR_EL2, so the tree's goes there for the moment.
 */
static void tlb_invalidate(const struct s2_tree *t)
{
	u64 vttbr = sysreg_read(vttbr_el2);

	dsb(ishst);
	sysreg_write(vttbr_el2, (u64)t->root | (t->vmid << 48));
	isb();
	asm volatile("tlbi vmalls12e1is" ::: "memory");
	dsb(ish);
	sysreg_write(vttbr_el2, vttbr);
	isb();
}

/*
 * The level-3 entry for ipa, splitting any block on the way into a table of
 * the same mapping one level down. Only called with every vCPU stopped: the
 * block is removed and the TLBs invalidated before the table goes in
 * (break-before-make), and nothing may touch the range meanwhile.
 */
static u64 *page_entry_splitting(struct s2_tree *t, u64 ipa)
{
	u64 *table = t->root;
	unsigned index = ipa >> 30;

	for (int level = 1; level < 3; level++) {
		u64 *e = &table[index], old = *e;
		if (!(old & 1) || (old & 3) == S2_BLOCK) {
			u64 *next = table_alloc(t);
			u64 step = 1ULL << level_shift(level + 1);
			if (!next)
				return NULL;
			if (old & 1) {
				u64 attrs = old & ~S2_ADDR_MASK & ~3ULL;
				u64 oa = old & S2_ADDR_MASK & ~((1ULL << level_shift(level)) - 1);
				for (unsigned i = 0; i < 512; i++)
					next[i] = (oa + i * step) | attrs | (level + 1 == 3 ? S2_PAGE : S2_BLOCK);
				*e = 0;
				tlb_invalidate(t);
			} else {
				memset(next, 0, SZ_4K);
			}
			*e = (u64)next | S2_TABLE;
			dsb(ishst);
		}
		table = (u64 *)(*e & S2_ADDR_MASK);
		index = (ipa >> level_shift(level + 1)) & 511;
	}
	return &table[index];
}

static bool set_device_pages(struct s2_tree *t, u64 ipa, u64 size, bool mapped)
{
	for (u64 a = ALIGN_DOWN(ipa, SZ_4K); a < ipa + size; a += SZ_4K) {
		u64 *e = page_entry_splitting(t, a);
		if (!e)
			return false;
		*e = mapped ? a | S2_MEMATTR_DEVICE | S2_XN | S2AP_RW | S2_AF | S2_PAGE : 0;
	}
	tlb_invalidate(t);
	return true;
}

bool stage2_set_device_pages(u64 ipa, u64 size, bool mapped)
{
	return set_device_pages(&guest_tree, ipa, size, mapped) &&
	       (!watched_tree_live || set_device_pages(&watched_tree, ipa, size, mapped));
}

/* A copy of table (at level), its tables copied too, from the watched pool. */
static u64 *tree_copy(const u64 *table, int level, unsigned entries)
{
	u64 *copy = level == 1 ? s2_watched_root : table_alloc(&watched_tree);

	if (!copy)
		return NULL;
	for (unsigned i = 0; i < entries; i++) {
		u64 e = table[i];
		if (level < 3 && (e & 3) == S2_TABLE) {
			u64 *sub = tree_copy((const u64 *)(e & S2_ADDR_MASK), level + 1, 512);
			if (!sub)
				return NULL;
			e = (u64)sub | S2_TABLE;
		}
		copy[i] = e;
	}
	return copy;
}

bool stage2_watch_begin(void)
{
	watched_tree.used = 0;
	if (!tree_copy(s2_root, 1, 1024))
		return false;
	dsb(ishst);
	tlb_invalidate(&watched_tree); /* an earlier copy's translations */
	watched_tree_live = true;
	return true;
}

void stage2_watch_end(void)
{
	watched_tree_live = false;
}

bool stage2_watch_set_page(u64 ipa, bool readable, bool writable)
{
	u64 *e = watched_tree_live ? page_entry_splitting(&watched_tree, ipa) : NULL;

	if (!e || !(*e & 1))
		return false;
	*e = (*e & ~S2AP_RW) | (readable ? S2AP_R : 0) | (writable ? S2AP_W : 0);
	tlb_invalidate(&watched_tree);
	return true;
}

u64 stage2_vttbr(bool watched)
{
	const struct s2_tree *t = watched && watched_tree_live ? &watched_tree : &guest_tree;

	return (u64)t->root | (t->vmid << 48);
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
	sysreg_write(vttbr_el2, stage2_vttbr(false));
	isb();
	asm volatile("tlbi vmalls12e1is" ::: "memory");
	dsb(ish);
	isb();
}
