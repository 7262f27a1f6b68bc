/*
 * Watchpoints through stage 2 (hv/core/s2watch.c): any number, any length, on
 * guest RAM, for what the CPU's debug registers cannot hold. debug.c is the only
 * caller; it maps GDB's watchpoint types to enum watch_kind.
 */
#ifndef HV_S2WATCH_H
#define HV_S2WATCH_H

#include "trapvisor/types.h"

enum watch_kind { WATCH_WRITE, WATCH_READ, WATCH_ACCESS, WATCH_KINDS };

struct pcpu;
struct trap_frame;
struct trap_event;
struct text_sink;

/* Watch [va, va + len) of guest virtual memory, translated now through this
 * pCPU's vCPU at EL1; every vCPU stopped. NULL, or why not. */
/* va: an address of vCPU vcpu's (the thread GDB selected), translated through its tables. */
const char *s2watch_insert(enum watch_kind kind, u64 va, u64 len, unsigned vcpu);
bool s2watch_remove(enum watch_kind kind, u64 va, u64 len);
void s2watch_remove_all(void);
/* A stage-2 permission fault at ipa: true if it was a watched page's (handled). */
bool s2watch_fault(struct trap_frame *f, struct trap_event *ev, u64 ipa);
/* A step exception: true if it ended a step over a watched page's access. */
bool s2watch_step_done(struct pcpu *cpu);
/* A stop while such a step is under way: undo it, the access is retried later. */
void s2watch_cancel(struct pcpu *cpu);
/* A step over a watched page's access is under way on cpu: its vCPU keeps it. */
bool s2watch_stepping(struct pcpu *cpu);
/* Load this pCPU's stage-2 tree: the watched one while watchpoints exist. */
void s2watch_load(void);
/* `monitor hv watch`: ranges, pages, hits and misses. */
void s2watch_list(const struct text_sink *out);

#endif
