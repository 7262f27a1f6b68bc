/* The few C library functions the hypervisor (and libfdt) need, written here. */
#ifndef HV_LIB_H
#define HV_LIB_H

#include "trapvisor/types.h"
#include <stdarg.h>

void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
void *memchr(const void *s, int c, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
char *strchr(const char *s, int c);
char *strrchr(const char *s, int c);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
unsigned long strtoul(const char *s, char **end, int base);

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Parse an unsigned number (0x hex or decimal) of exactly len chars. */
bool parse_u64(const char *s, size_t len, u64 *out);
/* "A-B" (lo <= hi) or "A" (lo = hi), each a number as parse_u64 takes it. */
bool parse_u64_range(const char *s, size_t len, u64 *lo, u64 *hi);
/* Words of a command line: the length of the one at s, and the next one. */
size_t word_len(const char *s);
const char *skip_spaces(const char *s);

typedef struct {
	volatile u32 locked;
} spinlock_t;
/* Inline: the interrupt path takes one on every exit (docs/performance.md). */
static inline void spin_lock(spinlock_t *l)
{
	while (__atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE))
		while (__atomic_load_n(&l->locked, __ATOMIC_RELAXED))
			;
}

static inline void spin_unlock(spinlock_t *l)
{
	__atomic_store_n(&l->locked, 0, __ATOMIC_RELEASE);
}

#endif
