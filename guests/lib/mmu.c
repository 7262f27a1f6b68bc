/*
 * Stage 1 for a test guest that runs with its MMU on (gdbtarget): 4 KiB
 * granule, 39-bit virtual addresses from TTBR0_EL1, the first four GiB
 * identity-mapped in 1 GiB blocks (the first as device memory, the rest as
 * normal write-back memory), and 4 KiB pages at MMU_ALIAS_BASE that map RAM
 * somewhere else, so that a debugger's addresses are not the physical ones.
 */
#include "guest.h"


static u64 l1[512] __attribute__((aligned(4096)));
static u64 l2_alias[512] __attribute__((aligned(4096)));
static u64 l3_alias[512] __attribute__((aligned(4096)));

void mmu_identity_4g(u64 *table)
{
	table[0] = 0 | DESC_BLOCK | ATTR_DEVICE | DESC_AF | DESC_PXN | DESC_UXN;
	for (u64 i = 1; i < 4; i++)
		table[i] = i * SZ_1G | DESC_BLOCK | ATTR_NORMAL | DESC_AF | DESC_SH_INNER;
}

void mmu_enable_tables(const u64 *table)
{
	asm volatile("dsb ish" ::: "memory");
	write_sysreg(mair_el1, MAIR_VALUE);
	write_sysreg(tcr_el1, TCR_VALUE);
	write_sysreg(ttbr0_el1, (u64)table); /* ASID 0 */
	isb();
	asm volatile("tlbi vmalle1; dsb nsh; ic iallu; dsb nsh; isb" ::: "memory");
	write_sysreg(sctlr_el1, read_sysreg(sctlr_el1) | SCTLR_M | SCTLR_C | SCTLR_I);
	isb();
}

static void build_tables(void)
{
	mmu_identity_4g(l1);
	l1[MMU_ALIAS_BASE / SZ_1G] = (u64)l2_alias | DESC_TABLE;
	l2_alias[0] = (u64)l3_alias | DESC_TABLE;
}

/* Map the 4 KiB page at va (within 2 MiB of MMU_ALIAS_BASE) to pa, normal memory. */
bool mmu_alias(u64 va, u64 pa)
{
	if (va < MMU_ALIAS_BASE || va >= MMU_ALIAS_BASE + SZ_2M || ((va | pa) & (SZ_4K - 1)))
		return false;
	l3_alias[(va - MMU_ALIAS_BASE) / SZ_4K] = pa | DESC_PAGE | ATTR_NORMAL | DESC_AF | DESC_SH_INNER;
	asm volatile("dsb ishst; tlbi vmalle1is; dsb ish; isb" ::: "memory");
	return true;
}

/* On every vCPU that wants it; the first call builds the tables. */
void mmu_enable(void)
{
	if (!l1[0])
		build_tables();
	mmu_enable_tables(l1);
}
