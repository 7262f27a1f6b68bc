/*
 * The hypervisor's own EL2 stage-1 map: identity, 39-bit VA, one level-1 table of
 * 1 GiB blocks. Devices below RAM and the high GIC/ECAM region are Device-nGnRnE,
 * RAM is Normal write-back. The MMU is on before libfdt runs: it makes unaligned
 * loads, which fault on Device memory (and with the MMU off, all data is Device).
 */
#include "mm.h"
#include "arch/sysreg.h"

/* MAIR_EL2 attribute indexes (D19.2.97) */
#define MAIR_IDX_DEVICE 0
#define MAIR_IDX_NORMAL 1
#define MAIR_VALUE ((0x00ULL << (8 * MAIR_IDX_DEVICE)) | (0xffULL << (8 * MAIR_IDX_NORMAL)))

/* Block descriptor fields (D8.3) */
#define PTE_BLOCK 0x1ULL
#define PTE_ATTRIDX(i) ((u64)(i) << 2)
#define PTE_SH_INNER (3ULL << 8)
#define PTE_AF BIT(10)
#define PTE_XN BIT(54)

/* TCR_EL2: T0SZ=25 (39-bit VA, walk starts at level 1), WB-WA cacheable walks, inner
 * shareable, 4 KiB granule, PS=40 bits; bits 31 and 23 are RES1. */
#define TCR_EL2_VALUE (25ULL | (1ULL << 8) | (1ULL << 10) | (3ULL << 12) | (2ULL << 16) | BIT(23) | BIT(31))

static u64 el2_l1[512] __attribute__((aligned(4096)));

static void map_block(u64 addr, bool normal)
{
	u64 attr = normal ? PTE_ATTRIDX(MAIR_IDX_NORMAL) | PTE_SH_INNER
			  : PTE_ATTRIDX(MAIR_IDX_DEVICE) | PTE_XN;
	el2_l1[addr / SZ_1G] = (addr & ~(SZ_1G - 1)) | attr | PTE_AF | PTE_BLOCK;
}

void mmu_init_tables(void)
{
	/* Devices below RAM, the first GiB of RAM (device tree and this image), and
	 * the high GIC redistributor / PCIe ECAM region at 256 GiB. */
	map_block(0, false);
	map_block(SZ_1G, true);
	map_block(256 * SZ_1G, false);
}

void mmu_map_normal(u64 base, u64 size)
{
	for (u64 a = ALIGN_DOWN(base, SZ_1G); a < base + size && a < 256 * SZ_1G; a += SZ_1G)
		if (!el2_l1[a / SZ_1G])
			map_block(a, true);
	dsb(ishst);
	isb();
}

void mmu_enable(void)
{
	sysreg_write(mair_el2, MAIR_VALUE);
	sysreg_write(tcr_el2, TCR_EL2_VALUE);
	sysreg_write(ttbr0_el2, (u64)el2_l1);
	isb();
	asm volatile("tlbi alle2" ::: "memory");
	dsb(nsh);
	sysreg_write(sctlr_el2, SCTLR_EL2_RES1 | SCTLR_M | SCTLR_C | SCTLR_I);
	isb();
}
