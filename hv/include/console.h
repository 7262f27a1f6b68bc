/*
 * The hypervisor's console: the guest's PL011, shared, used for the boot banner,
 * fatal reports and the event dumps a test guest asks for. The debug line is
 * the GDB stub's and never carries text.
 */
#ifndef HV_CONSOLE_H
#define HV_CONSOLE_H

#include <stdarg.h>

void console_init(unsigned long base);
void console_write(const char *s, unsigned long len);
int printk(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int vprintk(const char *fmt, va_list ap);

#endif
