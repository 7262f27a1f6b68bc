/* Catchpoints: stop the guest for GDB on a trap event that matches a filter. */
#ifndef HV_CATCH_H
#define HV_CATCH_H

#include "hv.h"

/*
 * The enabled catchpoints, indexed by the one key (function id, register,
 * address) a catchpoint may name; catch.c builds it, the trap path reads it.
 */
#define CATCH_BUCKETS 64
#define CATCH_BUCKET_WAYS 2
struct catchpoint;
struct catch_index {
	struct catchpoint *bucket[CATCH_BUCKETS][CATCH_BUCKET_WAYS];
	struct catchpoint *unkeyed[16];
	unsigned unkeyed_count;
	u32 classes; /* bit per enum trap_class some enabled catchpoint is on */
};
extern struct catch_index catch_index;

static inline unsigned catch_bucket(u64 key)
{
	return ((key ^ (key >> 17) ^ (key >> 31)) * 0x9e3779b1u >> 7) % CATCH_BUCKETS;
}

/* For event sources outside the exception-class table (vgic.c). */
static inline bool catch_is_catching(unsigned cls)
{
	return catch_index.classes & BIT(cls);
}

void catch_check_slow(struct trap_frame *f, struct trap_event *ev, u64 pc_back);

/*
 * Called by the catching handlers (trap.c) once the event says what the guest
 * does, before it takes effect; the trapping instruction is pc_back bytes
 * before ELR_EL2. A trap whose key no catchpoint names costs a hash and loads.
 */
static inline void catch_check(struct trap_frame *f, struct trap_event *ev, u64 pc_back)
{
	struct catchpoint *const *b = catch_index.bucket[catch_bucket(ev->addr)];

	if (b[0] || b[1] || catch_index.unkeyed_count)
		catch_check_slow(f, ev, pc_back);
}

/* monitor hv catch ... */
int catch_cmd_add(const struct text_sink *out, const char *args);
int catch_cmd_list(const struct text_sink *out, const char *args);
int catch_cmd_delete(const struct text_sink *out, const char *args);
int catch_cmd_enable(const struct text_sink *out, const char *args);
int catch_cmd_disable(const struct text_sink *out, const char *args);

/* trap.c: the checking handlers go into the exception-class table for the
 * classes some catchpoint is on (bit per enum trap_class), the others stay. */
void trap_catching(u32 classes);
/* trapvisor.catch=... at boot: the same words as `monitor hv catch`. */
void catch_from_bootargs(const char *spec, size_t len);

#endif
