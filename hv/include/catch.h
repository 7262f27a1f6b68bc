/* Catchpoints: stop the guest for GDB on a trap event that matches a filter. */
#ifndef HV_CATCH_H
#define HV_CATCH_H

#include "hv.h"

/*
 * Called by the catching handlers (trap.c) once the event says what the guest
 * does, before it takes effect; pc is the trapping instruction's address.
 */
void catch_check(struct trap_frame *f, struct trap_event *ev, u64 pc);
void catch_delete_all(void);

/* monitor hv catch ... */
int catch_cmd_add(const struct text_sink *out, const char *args);
int catch_cmd_list(const struct text_sink *out, const char *args);
int catch_cmd_delete(const struct text_sink *out, const char *args);
int catch_cmd_enable(const struct text_sink *out, const char *args);
int catch_cmd_disable(const struct text_sink *out, const char *args);

/* trap.c: swap the checking handlers into the exception-class table, or out. */
void trap_catching(bool on);

#endif
