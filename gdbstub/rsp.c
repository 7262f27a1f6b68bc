/*
 * RSP framing: the byte-at-a-time receive state machine, acknowledgements,
 * checksums, run-length encoding of replies, and packet dispatch.
 *
 * The machine never blocks and never waits for GDB's ack of a reply: the last
 * framed reply is kept and sent again when GDB answers '-'. That is enough on
 * a serial line, where a lost byte shows up as a bad checksum.
 */
#include "gdbstub_priv.h"

static const char rsp_hex_chars[] = "0123456789abcdef";

/* Run lengths are sent as one printable count character (count + 29). Those
 * that would read as '#' or '$' break the framing, and '+' or '-' can be
 * taken for acks by a reader resynchronising, so GDB's manual forbids them;
 * such runs are shortened by one or two and the rest sent separately. */
static bool rsp_rle_count_ok(size_t extra)
{
	char c = (char)(extra + 29);

	return c != '#' && c != '$' && c != '+' && c != '-';
}

/* Payload characters that must never start a run: '*' and '}' are the
 * encoding's own markers (they cannot appear raw in a payload anyway). */
static bool rsp_rle_char_ok(char c)
{
	return c != '*' && c != '}' && c != '#' && c != '$';
}

static size_t rsp_rle_encode(const char *in, size_t len, uint8_t *out)
{
	size_t i = 0, o = 0;

	while (i < len) {
		char c = in[i];
		size_t run = 1, extra;

		while (i + run < len && in[i + run] == c && run < 98)
			run++;
		extra = run - 1;
		while (extra >= 3 && !rsp_rle_count_ok(extra))
			extra--;
		out[o++] = (uint8_t)c;
		if (extra >= 3 && rsp_rle_char_ok(c)) {
			out[o++] = '*';
			out[o++] = (uint8_t)(extra + 29);
			i += extra + 1;
		} else {
			i++;
		}
	}
	return o;
}

/* Frames payload as $payload#xx into s->tx and sends it. s->tx keeps the
 * frame until the next one so that a '-' from GDB can resend it. */
void rsp_send_packet(struct gdbstub *s, const char *payload, size_t len)
{
	size_t n, i;
	uint8_t sum = 0;

	if (len > GDBSTUB_PACKET_SIZE)
		len = GDBSTUB_PACKET_SIZE;
	s->tx[0] = '$';
	n = 1 + rsp_rle_encode(payload, len, s->tx + 1);
	for (i = 1; i < n; i++)
		sum = (uint8_t)(sum + s->tx[i]);
	s->tx[n++] = '#';
	s->tx[n++] = (uint8_t)rsp_hex_chars[sum >> 4];
	s->tx[n++] = (uint8_t)rsp_hex_chars[sum & 0xf];
	s->tx_len = n;
	s->ops->write(s->ctx, s->tx, n);
}

static void rsp_send_ack(struct gdbstub *s, uint8_t ack)
{
	if (!s->no_ack)
		s->ops->write(s->ctx, &ack, 1);
}

/* Names of q, Q and v packets end at a separator, so that "qC" does not
 * also match "qCRC:..." Single-letter commands take their arguments right
 * after the letter ("m1000,4"). */
static bool rsp_name_is(const char *name, const char *pkt, size_t len,
			bool glued)
{
	size_t n = util_strlen(name), i;

	if (len < n)
		return false;
	for (i = 0; i < n; i++)
		if (pkt[i] != name[i])
			return false;
	if (n == 1 || len == n || glued)
		return true;
	return pkt[n] == ':' || pkt[n] == ',' || pkt[n] == ';';
}

static bool rsp_name_matches(const char *name, const char *pkt, size_t len)
{
	return rsp_name_is(name, pkt, len, false);
}

void rsp_dispatch(struct gdbstub *s)
{
	const struct rsp_packet *p;
	size_t name_len = 0;

	s->rx[s->rx_len] = '\0';
	reply_clear(s);
	s->reply_none = false;
	s->suffix_vcpu = GDBSTUB_VCPU_ANY;
	p = packets_find(s->rx, s->rx_len, &name_len);
	if (p) {
		if (p->needs_stopped && s->running)
			reply_error(s, GDB_E_INVAL);
		else
			p->handle(s, s->rx + name_len, s->rx_len - name_len);
	}
	if (s->reply_none)
		return;
	if (s->reply_overflow)
		reply_error(s, GDB_E_PACKET);
	rsp_send_packet(s, s->reply, s->reply_len);
}

const struct rsp_packet *rsp_match(const struct rsp_packet *table, size_t n,
				   const char *pkt, size_t len, size_t *name_len)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (rsp_name_is(table[i].name, pkt, len, table[i].glued)) {
			*name_len = util_strlen(table[i].name);
			return &table[i];
		}
	}
	return NULL;
}

static void rsp_packet_done(struct gdbstub *s)
{
	static const char new_session[] = "qSupported";
	static const char no_ack[] = "QStartNoAckMode";
	bool fresh = s->no_ack_fresh;

	s->rx_state = GDBSTUB_RX_IDLE;
	s->no_ack_fresh = false;
	/* A newly connected client starts in ack mode: GDB opens with
	 * qSupported, LLDB with QStartNoAckMode and then qSupported. If the
	 * previous session turned acks off (and vanished without a D), turn
	 * them back on before answering, or the new client would wait for an
	 * ack forever; but not for LLDB's qSupported right after its own
	 * QStartNoAckMode. */
	if (rsp_name_matches(no_ack, s->rx, s->rx_len) ||
	    (rsp_name_matches(new_session, s->rx, s->rx_len) && !fresh))
		s->no_ack = false;
	/* The session's other choices are LLDB's, made after qSupported. */
	if (rsp_name_matches(new_session, s->rx, s->rx_len)) {
		s->thread_suffix = false;
		s->threads_in_stop = false;
	}
	if (s->rx_csum != s->rx_sum) {
		rsp_send_ack(s, '-');
		return;
	}
	rsp_send_ack(s, '+');
	if (s->rx_overflow) {
		/* Too long for us: refuse it whole, but stay in sync. */
		reply_error(s, GDB_E_PACKET);
		rsp_send_packet(s, s->reply, s->reply_len);
		return;
	}
	rsp_dispatch(s);
}

static void rsp_packet_start(struct gdbstub *s)
{
	s->rx_state = GDBSTUB_RX_DATA;
	s->rx_len = 0;
	s->rx_sum = 0;
	s->rx_overflow = false;
}

/* Between packets: acks, Ctrl-C, and garbage. A 0x03 inside a packet is data
 * (X packets carry raw binary), so Ctrl-C is only seen here. */
static void rsp_handle_idle(struct gdbstub *s, uint8_t c)
{
	switch (c) {
	case '$':
		rsp_packet_start(s);
		break;
	case 0x03:
		/* Stopped: GDB's Ctrl-C raced our stop reply, which answers it. */
		if (s->running)
			s->ops->interrupt(s->ctx);
		break;
	case '-':
		if (!s->no_ack && s->tx_len)
			s->ops->write(s->ctx, s->tx, s->tx_len);
		break;
	default:
		/* '+' acks of our replies, and line noise */
		break;
	}
}

static void rsp_handle_csum(struct gdbstub *s, uint8_t c)
{
	int d = util_hex_digit((char)c);

	if (d < 0) {
		/* Truncated frame: refuse it; a '$' here starts the next one. */
		rsp_send_ack(s, '-');
		s->rx_state = GDBSTUB_RX_IDLE;
		if (c == '$')
			rsp_packet_start(s);
		return;
	}
	if (s->rx_state == GDBSTUB_RX_CSUM_HI) {
		s->rx_csum = (uint8_t)(d << 4);
		s->rx_state = GDBSTUB_RX_CSUM_LO;
		return;
	}
	s->rx_csum |= (uint8_t)d;
	rsp_packet_done(s);
}

void gdbstub_handle_byte(struct gdbstub *s, uint8_t c)
{
	switch (s->rx_state) {
	case GDBSTUB_RX_IDLE:
		rsp_handle_idle(s, c);
		break;
	case GDBSTUB_RX_DATA:
		if (c == '#') {
			s->rx_state = GDBSTUB_RX_CSUM_HI;
		} else if (c == '$') {
			/* '$' is always escaped in data: the previous packet
			 * was cut short, resynchronise on this one. */
			rsp_packet_start(s);
		} else {
			s->rx_sum = (uint8_t)(s->rx_sum + c);
			if (s->rx_len < GDBSTUB_PACKET_SIZE)
				s->rx[s->rx_len++] = (char)c;
			else
				s->rx_overflow = true;
		}
		break;
	case GDBSTUB_RX_CSUM_HI:
	case GDBSTUB_RX_CSUM_LO:
		rsp_handle_csum(s, c);
		break;
	}
}
