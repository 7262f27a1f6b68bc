/*
 * A small vsnprintf: %d %i %u %x %X %p %s %c %%, with l/ll/z length modifiers,
 * '-', '0' and '#' flags, a field width and a string precision (%.*s).
 * Unlike C, "%#x" of zero prints "0x0": a debugger's numbers always say their
 * base. Output is always NUL-terminated and the return value is the length the
 * full output would have had, as C99 says.
 */
#include "lib.h"

struct out {
	char *buf;
	size_t size, len;
};

static void out_char(struct out *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

static void out_padded(struct out *o, const char *s, size_t n, int width, bool left, char pad)
{
	int fill = width > (int)n ? width - (int)n : 0;

	/* Zero padding goes between a sign or "0x" and the digits. */
	if (pad == '0' && !left && n && (s[0] == '-' || (n > 1 && s[1] == 'x'))) {
		size_t p = s[0] == '-' ? 1 : 2;
		for (size_t i = 0; i < p; i++)
			out_char(o, s[i]);
		s += p;
		n -= p;
	}
	if (!left)
		while (fill-- > 0)
			out_char(o, pad);
	while (n--)
		out_char(o, *s++);
	if (left)
		while (fill-- > 0)
			out_char(o, ' ');
}

static size_t format_unsigned(char *tmp, u64 v, unsigned base, bool upper)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char rev[24];
	size_t n = 0, i;

	do {
		rev[n++] = digits[v % base];
		v /= base;
	} while (v);
	for (i = 0; i < n; i++)
		tmp[i] = rev[n - 1 - i];
	return n;
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct out o = { buf, size, 0 };

	for (; *fmt; fmt++) {
		bool left = false, is_long = false, alt = false;
		char pad = ' ';
		int width = 0, precision = -1;
		char tmp[24];
		size_t n;
		u64 v;

		if (*fmt != '%') {
			out_char(&o, *fmt);
			continue;
		}
		fmt++;
		for (;; fmt++) {
			if (*fmt == '-')
				left = true;
			else if (*fmt == '#')
				alt = true;
			else if (*fmt == '0')
				pad = '0';
			else
				break;
		}
		if (*fmt == '*') {
			width = va_arg(ap, int);
			fmt++;
		}
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (*fmt++ - '0');
		if (*fmt == '.') {
			fmt++;
			precision = 0;
			if (*fmt == '*') {
				precision = va_arg(ap, int);
				fmt++;
			}
			while (*fmt >= '0' && *fmt <= '9')
				precision = precision * 10 + (*fmt++ - '0');
		}
		while (*fmt == 'l' || *fmt == 'z') {
			is_long = true;
			fmt++;
		}
		switch (*fmt) {
		case 'd':
		case 'i': {
			s64 sv = is_long ? va_arg(ap, s64) : va_arg(ap, int);
			if (sv < 0) {
				tmp[0] = '-';
				n = 1 + format_unsigned(tmp + 1, -(u64)sv, 10, false);
			} else {
				n = format_unsigned(tmp, sv, 10, false);
			}
			out_padded(&o, tmp, n, width, left, pad);
			break;
		}
		case 'u':
		case 'x':
		case 'X':
			v = is_long ? va_arg(ap, u64) : va_arg(ap, unsigned);
			n = 0;
			if (alt && *fmt != 'u') {
				tmp[n++] = '0';
				tmp[n++] = 'x';
			}
			n += format_unsigned(tmp + n, v, *fmt == 'u' ? 10 : 16, *fmt == 'X');
			out_padded(&o, tmp, n, width, left, pad);
			break;
		case 'p':
			v = (u64)va_arg(ap, void *);
			tmp[0] = '0';
			tmp[1] = 'x';
			n = 2 + format_unsigned(tmp + 2, v, 16, false);
			out_padded(&o, tmp, n, width, left, pad);
			break;
		case 's': {
			const char *s = va_arg(ap, const char *);
			if (!s)
				s = "(null)";
			n = precision >= 0 ? strnlen(s, precision) : strlen(s);
			out_padded(&o, s, n, width, left, ' ');
			break;
		}
		case 'c':
			tmp[0] = (char)va_arg(ap, int);
			out_padded(&o, tmp, 1, width, left, ' ');
			break;
		case '%':
			out_char(&o, '%');
			break;
		case '\0':
			fmt--;
			break;
		default:
			out_char(&o, '%');
			out_char(&o, *fmt);
		}
	}
	if (size)
		buf[o.len < size ? o.len : size - 1] = '\0';
	return (int)o.len;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}
