/* Address translation the hypervisor owns: its own EL2 map and the guest's stage 2. */
#ifndef HV_MM_H
#define HV_MM_H

#include "trapvisor/types.h"

/* EL2 stage 1: identity map, 1 GiB blocks. */
void mmu_init_tables(void);
void mmu_map_normal(u64 base, u64 size);
void mmu_enable(void);

/* Stage 2 (IPA -> PA), 4 KiB granule, 40-bit IPA. */
enum s2_kind { S2_NORMAL, S2_DEVICE };
bool stage2_map(u64 ipa, u64 pa, u64 size, enum s2_kind kind);
/* Identity-map [start, end) as device memory, leaving the sorted holes unmapped. */
struct addr_range {
	u64 base, size;
};
bool stage2_map_device_except(u64 start, u64 end, const struct addr_range *holes, unsigned n);
void stage2_enable_on_this_cpu(void);
/* Unmap (mapped = false) or identity-map back as device pages, page by page. */
bool stage2_set_device_pages(u64 ipa, u64 size, bool mapped);
/* Translation of an IPA to PA, or false if unmapped; used to check the map. */
bool stage2_lookup(u64 ipa, u64 *pa);
/*
 * The watched tree (hv/core/s2watch.c): a copy of the guest's stage 2 whose
 * pages can lose read or write permission. begin makes the copy (every vCPU
 * stopped); set_page changes one page of guest RAM in it; end retires it.
 */
bool stage2_watch_begin(void);
void stage2_watch_end(void);
bool stage2_watch_set_page(u64 ipa, bool readable, bool writable);
/* VTTBR_EL2 for the guest's own tree, or the watched one while it exists. */
u64 stage2_vttbr(bool watched);

#endif
