/*
 * Host fakes for the hypervisor's portable core: a register file for the
 * sysreg_read()/sysreg_write() names and for hv/core/sysreg.c's per-encoding
 * accessors, the globals main.c owns, and the arch/platform functions the
 * core calls. Tests set registers, call the real hv code, and check what it
 * read and wrote.
 */
#ifndef TESTS_HOST_HV_FAKES_H
#define TESTS_HOST_HV_FAKES_H

#include "hv.h"

/* Forget every register value and every recorded write and call. */
void fake_reset(void);

/* Registers named as sysreg_read(name) spells them ("esr_el2"). */
void fake_sysreg_set(const char *name, u64 v);
u64 fake_sysreg_get(const char *name);
unsigned fake_sysreg_writes(const char *name); /* writes since fake_reset() */

/* Registers reached through hv/core/sysreg.c's accessors, by SYSREG_ENC(). */
void fake_enc_set(u32 enc, u64 v);
u64 fake_enc_get(u32 enc);
unsigned fake_enc_reads(u32 enc);
unsigned fake_enc_writes(u32 enc);

/* guest_va_to_ipa(): succeeds with ipa = va + offset, or fails with fsc. */
struct fake_translation {
	bool ok;
	u64 ipa_offset;
	u64 fsc;
	unsigned calls;
	u64 last_va;
};
extern struct fake_translation fake_s1;

/* stage2_lookup(): pa = ipa + offset when ok. */
struct fake_stage2 {
	bool ok;
	u64 pa_offset;
	unsigned calls;
};
extern struct fake_stage2 fake_s2;

/* this_pcpu() under HOST_TEST (hv.h declares it inside the inline function only). */
extern struct pcpu *host_this_pcpu;

extern unsigned fake_ic_invalidate_all_calls;
extern unsigned fake_event_print_recent_calls, fake_event_print_recent_n;
extern unsigned fake_stats_print_calls;

#endif
