/*
 * Console output on the PL011. It is the guest's UART too, so the hypervisor
 * only writes the data register (never reprograms it) and holds a lock so two
 * pCPUs' lines do not interleave.
 */
#include "console.h"
#include "lib.h"

#define PL011_DR 0x00
#define PL011_FR 0x18
#define PL011_FR_TXFF BIT(5)

static volatile u8 *pl011;
static spinlock_t console_lock;

void console_init(unsigned long base)
{
	pl011 = (volatile u8 *)base;
}

static void pl011_putc(char c)
{
	while (*(volatile u32 *)(pl011 + PL011_FR) & PL011_FR_TXFF)
		;
	*(volatile u32 *)(pl011 + PL011_DR) = (u8)c;
}

void console_write(const char *s, unsigned long len)
{
	if (!pl011)
		return;
	spin_lock(&console_lock);
	for (; len; len--, s++) {
		if (*s == '\n')
			pl011_putc('\r');
		pl011_putc(*s);
	}
	spin_unlock(&console_lock);
}

int vprintk(const char *fmt, va_list ap)
{
	char buf[512];
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);

	console_write(buf, n < (int)sizeof(buf) ? (unsigned long)n : sizeof(buf) - 1);
	return n;
}

int printk(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vprintk(fmt, ap);
	va_end(ap);
	return n;
}
