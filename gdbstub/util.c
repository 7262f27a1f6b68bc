/*
 * Hex, number parsing, binary escaping and reply building.
 *
 * Every parser takes an explicit end pointer: packets may hold binary data
 * (X) and the fuzzer feeds arbitrary bytes, so nothing may rely on a NUL.
 */
#include "gdbstub_priv.h"

static const char util_hex_chars[] = "0123456789abcdef";

int util_hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* At least one digit; more than 16 would not fit 64 bits and is an error. */
bool util_parse_hex(const char **p, const char *end, uint64_t *out)
{
	const char *q = *p;
	uint64_t v = 0;
	unsigned n = 0;
	int d;

	while (q < end && (d = util_hex_digit(*q)) >= 0) {
		if (++n > 16)
			return false;
		v = (v << 4) | (uint64_t)d;
		q++;
	}
	if (n == 0)
		return false;
	*p = q;
	*out = v;
	return true;
}

/* Thread ids: "-1" (all), "0" (any) or a positive hex id. Multiprocess
 * "pPID.TID" forms are not accepted: we never advertise multiprocess+. */
bool util_parse_thread(const char **p, const char *end, int64_t *tid)
{
	uint64_t v;

	if (end - *p >= 2 && (*p)[0] == '-' && (*p)[1] == '1') {
		*p += 2;
		*tid = -1;
		return true;
	}
	if (!util_parse_hex(p, end, &v) || v > 0x7fffffff)
		return false;
	*tid = (int64_t)v;
	return true;
}

bool util_expect(const char **p, const char *end, char c)
{
	if (*p >= end || **p != c)
		return false;
	(*p)++;
	return true;
}

/* Decodes hex_len / 2 bytes; out may alias hex (it never overtakes it). */
bool util_hex_decode(const char *hex, size_t hex_len, uint8_t *out)
{
	size_t i;

	if (hex_len % 2)
		return false;
	for (i = 0; i < hex_len / 2; i++) {
		int hi = util_hex_digit(hex[2 * i]);
		int lo = util_hex_digit(hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return false;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}

/* In place: '}' x becomes x ^ 0x20. A trailing lone '}' is dropped, which
 * makes the length check of the caller fail rather than reading past. */
size_t util_unescape(char *buf, size_t len)
{
	size_t in = 0, out = 0;

	while (in < len) {
		char c = buf[in++];

		if (c == '}') {
			if (in == len)
				break;
			c = (char)(buf[in++] ^ 0x20);
		}
		buf[out++] = c;
	}
	return out;
}

/* Escapes the bytes GDB's binary replies cannot carry raw: the frame
 * characters, the escape itself and '*' (which would read as a run length).
 * Stops when out is full; *consumed says how much of in went out. */
size_t util_escape(const uint8_t *in, size_t in_len, char *out, size_t room,
		   size_t *consumed)
{
	size_t i, o = 0;

	for (i = 0; i < in_len; i++) {
		uint8_t c = in[i];
		bool esc = c == '$' || c == '#' || c == '}' || c == '*';

		if (o + (esc ? 2 : 1) > room)
			break;
		if (esc) {
			out[o++] = '}';
			c ^= 0x20;
		}
		out[o++] = (char)c;
	}
	*consumed = i;
	return o;
}

size_t util_strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

/* Is [a, end) exactly the literal lit? */
bool util_str_eq(const char *a, const char *end, const char *lit)
{
	size_t n = util_strlen(lit), i;

	if ((size_t)(end - a) != n)
		return false;
	for (i = 0; i < n; i++)
		if (a[i] != lit[i])
			return false;
	return true;
}

void reply_clear(struct gdbstub *s)
{
	s->reply_len = 0;
	s->reply_overflow = false;
}

size_t reply_room(const struct gdbstub *s)
{
	return sizeof(s->reply) - s->reply_len;
}

void reply_char(struct gdbstub *s, char c)
{
	if (s->reply_len >= sizeof(s->reply)) {
		s->reply_overflow = true;
		return;
	}
	s->reply[s->reply_len++] = c;
}

void reply_str(struct gdbstub *s, const char *str)
{
	while (*str)
		reply_char(s, *str++);
}

void reply_hex_bytes(struct gdbstub *s, const uint8_t *buf, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		reply_char(s, util_hex_chars[buf[i] >> 4]);
		reply_char(s, util_hex_chars[buf[i] & 0xf]);
	}
}

/* Minimal digits, as GDB writes numbers (thread ids, register numbers). */
void reply_hex_u64(struct gdbstub *s, uint64_t v)
{
	int shift = 60;

	while (shift > 0 && ((v >> shift) & 0xf) == 0)
		shift -= 4;
	for (; shift >= 0; shift -= 4)
		reply_char(s, util_hex_chars[(v >> shift) & 0xf]);
}

/* Always two digits: GDB parses "Enn" with exactly two. */
void reply_error(struct gdbstub *s, unsigned err)
{
	reply_clear(s);
	reply_char(s, 'E');
	reply_char(s, util_hex_chars[(err >> 4) & 0xf]);
	reply_char(s, util_hex_chars[err & 0xf]);
}
