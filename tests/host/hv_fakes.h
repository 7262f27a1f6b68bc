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

/*
 * What vcpu.c and psci.c ask of the scheduler (sched.c), the saved context
 * (arch/aarch64/context.c) and the vGIC, none of which the host builds: each
 * call is logged in order, with what the vCPU looked like when it was made,
 * so a test can say what was handed over and what was already written by then.
 */
enum fake_call_kind {
	FAKE_CONTEXT_RESET = 1, /* context_reset(v, a = entry, b = x0) */
	FAKE_VGIC_VCPU_RESET,	/* vgic_vcpu_reset(v) */
	FAKE_SCHED_START,	/* sched_start(v) */
	FAKE_SCHED_BLOCK,	/* sched_block(v) */
};
struct fake_call {
	enum fake_call_kind kind;
	struct vcpu *v;
	u64 a, b;
	/* v at the time of the call */
	u32 state, exit_work;
	u64 entry, context_id;
	struct sched_context sched_ctx;
	bool stepping;
};
#define FAKE_CALLS_MAX 64
extern struct fake_call fake_calls[FAKE_CALLS_MAX];
extern unsigned fake_call_count;
/* Calls of kind made for v (NULL: for any vCPU). */
unsigned fake_calls_of(enum fake_call_kind kind, const struct vcpu *v);
/* The log position of the first call of kind for v, or -1 if there is none. */
int fake_call_index(enum fake_call_kind kind, const struct vcpu *v);
/* The first call of kind for v, or NULL. */
const struct fake_call *fake_call_first(enum fake_call_kind kind, const struct vcpu *v);

/* sched_block()'s answer: true, it waited; false, something was pending already.
 * It leaves the state alone, as the real one does by the time it returns
 * (RUNNING again). sched_start() does what the real one leaves to be seen:
 * the vCPU ON_PENDING, on its run queue. */
extern bool fake_sched_block_returns;
extern unsigned fake_sched_block_pending_after;
void fake_place_vcpus(unsigned n);
/* context_switches_scxtnum()'s answer: the CPU has SCXTNUM and each vCPU a pCPU. */
extern bool fake_scxtnum;
/* vgic_wfi_should_wake()'s answer, and how often it was asked. */
extern bool fake_vgic_wfi_should_wake;
extern unsigned fake_vgic_wfi_should_wake_calls;

/* wfi(), wfit() and dsb() of the code under test (fake_insns.h), each with
 * the vCPUs whose in_wfi was set when it ran (bit n: vCPU n). */
extern unsigned fake_wfi_calls, fake_wfit_calls, fake_dsb_calls;
extern u32 fake_wfi_in_wfi, fake_wfit_in_wfi, fake_dsb_in_wfi;
extern u64 fake_wfit_deadline;

extern unsigned fake_ic_invalidate_all_calls;
extern unsigned fake_event_print_recent_calls, fake_event_print_recent_n;
extern unsigned fake_stats_print_calls;

#endif
