/* Emulated and forwarded MMIO: regions of IPA space whose accesses trap. */
#ifndef HV_MMIO_H
#define HV_MMIO_H

#include "trapvisor/esr.h"

struct mmio_region;
/*
 * Perform acc, a naturally aligned access inside the region (acc->value holds
 * a write's data or receives a read's). False: the access aborts, and the
 * guest takes a synchronous external abort.
 */
typedef bool mmio_access_fn(const struct mmio_region *r, struct emul_access *acc);

struct mmio_region {
	const char *name;
	u64 base, size;
	mmio_access_fn *access;
};

bool mmio_region_add(const char *name, u64 base, u64 size, mmio_access_fn *access);
/* Perform acc on the real device at pa, with acc's width; false if it aborted. */
bool mmio_forward(u64 pa, struct emul_access *acc);
struct trap_frame;
/* What the trapped guest instruction insn (at ELR_EL2) accesses; false if unknown. */
bool insn_decode_at_pc(const struct trap_frame *f, u32 insn, struct insn_mem_access *out);
/* PCI configuration space (pci.c): every function but the debug line's, policed. */
mmio_access_fn pci_ecam_access;
void mmio_init(void);
/* Trap-and-forward a device range [base, last], page granular; NULL or why not. */
const char *mmio_watch(u64 base, u64 last, bool on);
/* Every page of [base, last] traps (emulated or watched). */
bool mmio_is_trapped(u64 base, u64 last);
struct text_sink;
void mmio_watch_list(const struct text_sink *out);

#endif
