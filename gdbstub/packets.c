/*
 * The packet table and the handlers of queries, registers, memory,
 * breakpoints and session control. Resume and stop replies live in run.c.
 *
 * A handler gets the text after the packet's name (args, len; NUL-terminated
 * but possibly holding binary data) and leaves its reply in s->reply. An
 * empty reply tells GDB the packet is not supported. A handler that rejects
 * its arguments replies with an E and changes nothing.
 */
#include "gdbstub_priv.h"

/* Only the core registers travel in g/G (as QEMU does); GDB fetches the
 * others with p, which keeps g small and lets a target leave FP state or
 * system registers unavailable without failing the whole packet. */
#define PACKETS_G_REGS (GDB_REG_CPSR + 1)
#define PACKETS_G_BYTES (31 * 8 + 8 + 8 + 4)

/* Largest register we can carry: a 128-bit vector register. */
#define PACKETS_REG_MAX 16

unsigned stub_vcpu_count(struct gdbstub *s)
{
	unsigned n = s->ops->vcpu_count(s->ctx);

	if (n == 0)
		return 1;
	return n > GDBSTUB_MAX_VCPUS ? GDBSTUB_MAX_VCPUS : n;
}

bool stub_tid_to_vcpu(struct gdbstub *s, int64_t tid, unsigned *vcpu)
{
	if (tid < 1 || tid > (int64_t)stub_vcpu_count(s))
		return false;
	*vcpu = (unsigned)(tid - 1);
	return true;
}

/* The packet's own ";thread:id;" (LLDB), else Hg; Hg 0 / -1 (or a stale id)
 * means the thread GDB last saw stop. */
unsigned stub_g_vcpu(struct gdbstub *s)
{
	if (s->suffix_vcpu < stub_vcpu_count(s))
		return s->suffix_vcpu;
	if (s->g_vcpu < stub_vcpu_count(s))
		return s->g_vcpu;
	return s->last_stop.vcpu;
}

/* 0 for a register number the target description does not have. */
unsigned stub_reg_size(struct gdbstub *s, unsigned regno)
{
	struct gdb_reg_desc d;

	if (regno < GDB_REG_CPSR)
		return 8;
	if (regno == GDB_REG_CPSR || regno == GDB_REG_FPSR || regno == GDB_REG_FPCR)
		return 4;
	if (regno < GDB_REG_FPSR)
		return 16;
	regno -= GDB_REG_FIRST_EXTRA;
	if (!s->ops->reg_describe || regno >= GDBSTUB_MAX_EXTRA_REGS ||
	    !s->ops->reg_describe(s->ctx, regno, &d))
		return 0;
	if (d.bitsize < 8 || d.bitsize > 8 * PACKETS_REG_MAX || d.bitsize % 8)
		return 0;
	return d.bitsize / 8;
}

static bool packets_args_end(const char *p, const char *end)
{
	return p == end;
}

/*
 * After QThreadSuffixSupported, LLDB names the thread of a register packet at
 * its end instead of sending Hg first: "p20;thread:2;". Takes the suffix off
 * (*len shrinks) and makes its thread this packet's (stub_g_vcpu). False, with
 * an E reply, for a malformed suffix or an unknown thread.
 */
static bool packets_thread_suffix(struct gdbstub *s, const char *args,
				  size_t *len)
{
	static const char key[] = ";thread:";
	const char *end = args + *len, *p;
	unsigned vcpu;
	int64_t tid;
	size_t i;

	if (!s->thread_suffix)
		return true;
	for (p = args; p < end && *p != ';'; p++)
		;
	if (p == end)
		return true; /* none: Hg applies */
	*len = (size_t)(p - args);
	for (i = 0; key[i]; i++)
		if (!util_expect(&p, end, key[i])) {
			reply_error(s, GDB_E_PACKET);
			return false;
		}
	if (!util_parse_thread(&p, end, &tid) || !util_expect(&p, end, ';') ||
	    !packets_args_end(p, end)) {
		reply_error(s, GDB_E_PACKET);
		return false;
	}
	if (!stub_tid_to_vcpu(s, tid, &vcpu)) {
		reply_error(s, GDB_E_INVAL);
		return false;
	}
	s->suffix_vcpu = vcpu;
	return true;
}

/* ---- queries ---------------------------------------------------------- */

static void packets_handle_supported(struct gdbstub *s, const char *args,
				     size_t len)
{
	/* GDB's own features (args) need nothing from us: we use none of the
	 * optional behaviours it offers. */
	reply_str(s, "PacketSize=");
	reply_hex_u64(s, GDBSTUB_PACKET_SIZE);
	reply_str(s, ";swbreak+;hwbreak+;vContSupported+"
		     ";qXfer:features:read+;QStartNoAckMode+");
}

static void packets_handle_no_ack(struct gdbstub *s, const char *args,
				  size_t len)
{
	/* This packet was still acked; from the reply on, nothing is. */
	s->no_ack = true;
	s->no_ack_fresh = true;
	reply_str(s, "OK");
}

/* An LLDB "Q" switch with no arguments: on, and "OK". */
static void switch_on(struct gdbstub *s, size_t len, bool *flag)
{
	if (len) {
		reply_error(s, GDB_E_PACKET);
		return;
	}
	*flag = true;
	reply_str(s, "OK");
}

/* LLDB: register packets may end in ";thread:id;" (packets_thread_suffix). */
static void packets_handle_thread_suffix(struct gdbstub *s, const char *args,
					 size_t len)
{
	switch_on(s, len, &s->thread_suffix);
}

/* LLDB: stop replies list every thread and its pc (run_reply_stop), which
 * saves a qfThreadInfo and a register read per thread after each stop. */
static void packets_handle_list_threads(struct gdbstub *s, const char *args,
					size_t len)
{
	switch_on(s, len, &s->threads_in_stop);
}

/* LLDB's qThreadStopInfo<id>: why that thread stopped, as a stop reply. In
 * all-stop the one that reported the stop has the reason; the others were
 * stopped for it, which is signal 0. */
static void packets_handle_thread_stop_info(struct gdbstub *s,
					    const char *args, size_t len)
{
	const char *p = args, *end = args + len;
	unsigned vcpu;
	int64_t tid;

	if (!util_parse_thread(&p, end, &tid) || !packets_args_end(p, end)) {
		reply_error(s, GDB_E_PACKET);
		return;
	}
	if (!stub_tid_to_vcpu(s, tid, &vcpu)) {
		reply_error(s, GDB_E_INVAL);
		return;
	}
	run_reply_thread_stop(s, vcpu);
}

static void packets_handle_xfer(struct gdbstub *s, const char *args,
				size_t len)
{
	static const char object[] = ":features:read:";
	static const char annex[] = "target.xml";
	const char *p = args, *end = args + len;
	uint64_t offset, length;
	size_t i, n;
	bool more;

	for (i = 0; object[i]; i++)
		if (!util_expect(&p, end, object[i]))
			return; /* another object: not supported */
	for (i = 0; annex[i]; i++)
		if (!util_expect(&p, end, annex[i])) {
			reply_error(s, 0); /* GDB's "no such annex" */
			return;
		}
	if (!util_expect(&p, end, ':') || !util_parse_hex(&p, end, &offset) ||
	    !util_expect(&p, end, ',') || !util_parse_hex(&p, end, &length) ||
	    !packets_args_end(p, end)) {
		reply_error(s, GDB_E_PACKET);
		return;
	}
	reply_char(s, 'm');
	n = target_xml_read(s, s->reply + s->reply_len, reply_room(s), offset,
			    length, &more);
	s->reply_len += n;
	if (!more)
		s->reply[0] = 'l';
}

static void packets_handle_attached(struct gdbstub *s, const char *args,
				    size_t len)
{
	/* The guest existed before GDB: detaching, not killing, is the
	 * default when GDB quits. */
	reply_char(s, '1');
}

static void packets_handle_current_thread(struct gdbstub *s,
					  const char *args, size_t len)
{
	reply_str(s, "QC");
	reply_hex_u64(s, stub_g_vcpu(s) + 1);
}

/* As many ids as fit per reply; qsThreadInfo continues where it stopped. */
static void packets_reply_threads(struct gdbstub *s)
{
	unsigned count = stub_vcpu_count(s);

	if (s->thread_cursor >= count) {
		reply_char(s, 'l');
		return;
	}
	reply_char(s, 'm');
	while (s->thread_cursor < count && reply_room(s) > 20) {
		if (s->reply_len > 1)
			reply_char(s, ',');
		reply_hex_u64(s, s->thread_cursor + 1);
		s->thread_cursor++;
	}
}

static void packets_handle_thread_first(struct gdbstub *s, const char *args,
					size_t len)
{
	s->thread_cursor = 0;
	packets_reply_threads(s);
}

static void packets_handle_thread_next(struct gdbstub *s, const char *args,
				       size_t len)
{
	packets_reply_threads(s);
}

static size_t packets_put_decimal(char *buf, size_t at, size_t size, unsigned v)
{
	char digits[10];
	size_t n = 0;

	do {
		digits[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n && at + 1 < size)
		buf[at++] = digits[--n];
	return at;
}

static void packets_handle_extra_info(struct gdbstub *s, const char *args,
				      size_t len)
{
	const char *p = args, *end = args + len;
	char text[128];
	int64_t tid;
	unsigned vcpu;
	size_t n;

	if (!util_expect(&p, end, ',') || !util_parse_thread(&p, end, &tid) ||
	    !packets_args_end(p, end)) {
		reply_error(s, GDB_E_PACKET);
		return;
	}
	if (!stub_tid_to_vcpu(s, tid, &vcpu)) {
		reply_error(s, GDB_E_INVAL);
		return;
	}
	text[0] = '\0';
	if (s->ops->vcpu_describe) {
		s->ops->vcpu_describe(s->ctx, vcpu, text, sizeof(text));
		text[sizeof(text) - 1] = '\0';
	}
	n = util_strlen(text);
	if (n == 0) {
		const char prefix[] = "vCPU ";

		memcpy(text, prefix, sizeof(prefix) - 1);
		n = packets_put_decimal(text, sizeof(prefix) - 1, sizeof(text),
					vcpu);
	}
	reply_hex_bytes(s, (const uint8_t *)text, n);
}

/* The monitor's output sink: each chunk becomes O packets sent at once, so
 * long output streams out instead of needing a buffer of its own. */
static void packets_monitor_output(void *arg, const char *text, size_t len)
{
	run_send_console(arg, text, len);
}

static void packets_handle_monitor(struct gdbstub *s, const char *args,
				   size_t len)
{
	char *cmd = s->rx + (args - s->rx);
	int err;

	if (!util_expect(&args, args + len, ',') || len % 2 == 0) {
		reply_error(s, GDB_E_PACKET);
		return;
	}
	cmd++;
	len--;
	/* Decoded in place: text is half the size of its hex. */
	if (!util_hex_decode(cmd, len, (uint8_t *)cmd)) {
		reply_error(s, GDB_E_PACKET);
		return;
	}
	cmd[len / 2] = '\0';
	if (!s->ops->monitor)
		return;
	err = s->ops->monitor(s->ctx, cmd, packets_monitor_output, s);
	reply_clear(s);
	if (err)
		reply_error(s, (unsigned)err & 0xff);
	else
		reply_str(s, "OK");
}

/* ---- threads ---------------------------------------------------------- */

static void packets_handle_set_thread(struct gdbstub *s, const char *args,
				      size_t len)
{
	const char *p = args + 1, *end = args + len;
	unsigned vcpu = GDBSTUB_VCPU_ANY;
	int64_t tid;

	if (len < 1 || (args[0] != 'g' && args[0] != 'c') ||
	    !util_parse_thread(&p, end, &tid) || !packets_args_end(p, end)) {
		reply_error(s, GDB_E_PACKET);
		return;
	}
	if (tid > 0 && !stub_tid_to_vcpu(s, tid, &vcpu)) {
		reply_error(s, GDB_E_INVAL);
		return;
	}
	if (args[0] == 'g')
		s->g_vcpu = vcpu;
	else
		s->c_vcpu = vcpu;
	reply_str(s, "OK");
}

static void packets_handle_thread_alive(struct gdbstub *s, const char *args,
					size_t len)
{
	const char *p = args, *end = args + len;
	unsigned vcpu;
	int64_t tid;

	if (!util_parse_thread(&p, end, &tid) || !packets_args_end(p, end)) {
		reply_error(s, GDB_E_PACKET);
		return;
	}
	if (!stub_tid_to_vcpu(s, tid, &vcpu)) {
		reply_error(s, GDB_E_INVAL);
		return;
	}
	reply_str(s, "OK");
}

/* ---- registers -------------------------------------------------------- */

/* A register GDB cannot have is sent as 'x' digits: GDB shows it as
 * <unavailable> instead of failing the whole command. */
static void packets_reply_reg(struct gdbstub *s, unsigned vcpu, unsigned regno,
			      unsigned size)
{
	uint8_t buf[PACKETS_REG_MAX];
	unsigned i;

	if (s->ops->reg_read(s->ctx, vcpu, regno, buf, size)) {
		reply_hex_bytes(s, buf, size);
		return;
	}
	for (i = 0; i < 2 * size; i++)
		reply_char(s, 'x');
}

static void packets_handle_read_regs(struct gdbstub *s, const char *args,
				     size_t len)
{
	unsigned vcpu, regno;

	if (!packets_thread_suffix(s, args, &len))
		return;
	vcpu = stub_g_vcpu(s);
	if (len) {
		reply_error(s, GDB_E_PACKET);
		return;
	}
	for (regno = 0; regno < PACKETS_G_REGS; regno++)
		packets_reply_reg(s, vcpu, regno, stub_reg_size(s, regno));
}

static void packets_handle_write_regs(struct gdbstub *s, const char *args,
				      size_t len)
{
	uint8_t buf[PACKETS_G_BYTES];
	unsigned vcpu, regno, at = 0;
	bool ok = true;

	if (!packets_thread_suffix(s, args, &len))
		return;
	vcpu = stub_g_vcpu(s);
	if (len != 2 * sizeof(buf) || !util_hex_decode(args, len, buf)) {
		reply_error(s, GDB_E_PACKET);
		return;
	}
	for (regno = 0; regno < PACKETS_G_REGS; regno++) {
		unsigned size = stub_reg_size(s, regno);

		if (!s->ops->reg_write(s->ctx, vcpu, regno, buf + at, size))
			ok = false;
		at += size;
	}
	if (ok)
		reply_str(s, "OK");
	else
		reply_error(s, GDB_E_INVAL);
}

static void packets_handle_read_reg(struct gdbstub *s, const char *args,
				    size_t len)
{
	const char *p = args, *end;
	uint64_t regno;
	unsigned size;

	if (!packets_thread_suffix(s, args, &len))
		return;
	end = args + len;
	if (!util_parse_hex(&p, end, &regno) || !packets_args_end(p, end)) {
		reply_error(s, GDB_E_PACKET);
		return;
	}
	size = regno > 0xffff ? 0 : stub_reg_size(s, (unsigned)regno);
	if (!size) {
		reply_error(s, GDB_E_INVAL);
		return;
	}
	packets_reply_reg(s, stub_g_vcpu(s), (unsigned)regno, size);
}

static void packets_handle_write_reg(struct gdbstub *s, const char *args,
				     size_t len)
{
	const char *p = args, *end;
	uint8_t buf[PACKETS_REG_MAX];
	uint64_t regno;
	unsigned size;

	if (!packets_thread_suffix(s, args, &len))
		return;
	end = args + len;
	if (!util_parse_hex(&p, end, &regno) || !util_expect(&p, end, '=')) {
		reply_error(s, GDB_E_PACKET);
		return;
	}
	size = regno > 0xffff ? 0 : stub_reg_size(s, (unsigned)regno);
	if (!size) {
		reply_error(s, GDB_E_INVAL);
		return;
	}
	if ((size_t)(end - p) != 2 * size || !util_hex_decode(p, 2 * size, buf)) {
		reply_error(s, GDB_E_PACKET);
		return;
	}
	if (s->ops->reg_write(s->ctx, stub_g_vcpu(s), (unsigned)regno, buf, size))
		reply_str(s, "OK");
	else
		reply_error(s, GDB_E_INVAL);
}

/* ---- memory ----------------------------------------------------------- */

/* "ADDR,LEN" followed by the expected separator (or the end when sep is 0). */
static bool packets_parse_addr_len(const char **p, const char *end, char sep,
				   uint64_t *addr, uint64_t *len)
{
	if (!util_parse_hex(p, end, addr) || !util_expect(p, end, ',') ||
	    !util_parse_hex(p, end, len))
		return false;
	return sep ? util_expect(p, end, sep) : packets_args_end(*p, end);
}

static void packets_handle_read_mem(struct gdbstub *s, const char *args,
				    size_t len)
{
	const char *p = args, *end = args + len;
	uint64_t addr, want, done = 0;
	unsigned vcpu = stub_g_vcpu(s);

	if (!packets_parse_addr_len(&p, end, 0, &addr, &want)) {
		reply_error(s, GDB_E_PACKET);
		return;
	}
	/* A shorter answer is allowed: GDB asks again for the rest. */
	if (want > reply_room(s) / 2)
		want = reply_room(s) / 2;
	/* Never let the range wrap past the top of the address space. */
	if (want && addr + (want - 1) < addr)
		want = 0 - addr;
	while (done < want) {
		uint8_t chunk[128];
		size_t ask = want - done > sizeof(chunk) ? sizeof(chunk)
							  : (size_t)(want - done);
		size_t got = s->ops->mem_read(s->ctx, vcpu, addr + done, chunk,
					      ask);

		if (got > ask)
			got = ask;
		reply_hex_bytes(s, chunk, got);
		done += got;
		if (got < ask)
			break;
	}
	if (want && !done)
		reply_error(s, GDB_E_FAULT);
}

static void packets_write_mem(struct gdbstub *s, uint64_t addr,
			      const uint8_t *buf, size_t len)
{
	size_t put = 0;

	if (len && addr + (len - 1) < addr) {
		reply_error(s, GDB_E_FAULT);
		return;
	}
	if (len)
		put = s->ops->mem_write(s->ctx, stub_g_vcpu(s), addr, buf, len);
	if (put == len)
		reply_str(s, "OK");
	else
		reply_error(s, GDB_E_FAULT);
}

static void packets_handle_write_mem_hex(struct gdbstub *s, const char *args,
					 size_t len)
{
	const char *p = args, *end = args + len;
	char *data;
	uint64_t addr, count;

	if (!packets_parse_addr_len(&p, end, ':', &addr, &count) ||
	    (uint64_t)(end - p) != 2 * count) {
		reply_error(s, GDB_E_PACKET);
		return;
	}
	data = s->rx + (p - s->rx);
	if (!util_hex_decode(data, 2 * count, (uint8_t *)data)) {
		reply_error(s, GDB_E_PACKET);
		return;
	}
	packets_write_mem(s, addr, (const uint8_t *)data, count);
}

static void packets_handle_write_mem_bin(struct gdbstub *s, const char *args,
					 size_t len)
{
	const char *p = args, *end = args + len;
	char *data;
	uint64_t addr, count;

	if (!packets_parse_addr_len(&p, end, ':', &addr, &count)) {
		reply_error(s, GDB_E_PACKET);
		return;
	}
	data = s->rx + (p - s->rx);
	if (util_unescape(data, (size_t)(end - p)) != count) {
		reply_error(s, GDB_E_PACKET);
		return;
	}
	packets_write_mem(s, addr, (const uint8_t *)data, count);
}

/* ---- breakpoints ------------------------------------------------------ */

static void packets_breakpoint(struct gdbstub *s, const char *args, size_t len,
			       bool insert)
{
	const char *p = args, *end = args + len;
	uint64_t type, addr, kind;
	enum gdb_bp_result r;

	/* Anything after ';' is a condition list, which we never ask for. */
	if (!util_parse_hex(&p, end, &type) || !util_expect(&p, end, ',') ||
	    !util_parse_hex(&p, end, &addr) || !util_expect(&p, end, ',') ||
	    !util_parse_hex(&p, end, &kind) || (p != end && *p != ';')) {
		reply_error(s, GDB_E_PACKET);
		return;
	}
	if (type > GDB_BP_ACCESS || !s->ops->bp_insert || !s->ops->bp_remove)
		return; /* unsupported: GDB falls back or says so */
	if (insert)
		r = s->ops->bp_insert(s->ctx, stub_g_vcpu(s), (enum gdb_bp_type)type, addr, kind);
	else
		r = s->ops->bp_remove(s->ctx, stub_g_vcpu(s), (enum gdb_bp_type)type, addr, kind);
	if (r == GDB_BP_OK)
		reply_str(s, "OK");
	else if (r == GDB_BP_ERROR)
		reply_error(s, GDB_E_INVAL);
}

static void packets_handle_insert_bp(struct gdbstub *s, const char *args,
				     size_t len)
{
	packets_breakpoint(s, args, len, true);
}

static void packets_handle_remove_bp(struct gdbstub *s, const char *args,
				     size_t len)
{
	packets_breakpoint(s, args, len, false);
}

/* ---- session ---------------------------------------------------------- */

/* The session is over: the next client starts as a new one would. */
static void packets_end_session(struct gdbstub *s)
{
	s->no_ack = false;
	s->thread_suffix = false;
	s->threads_in_stop = false;
}

static void packets_handle_detach(struct gdbstub *s, const char *args,
				  size_t len)
{
	/* The OK goes out after the hook; the guest is already running then,
	 * which GDB does not mind: it stops listening after the OK. */
	packets_end_session(s);
	s->running = true;
	s->ops->detach(s->ctx);
	reply_str(s, "OK");
}

static void packets_handle_kill(struct gdbstub *s, const char *args, size_t len)
{
	/* GDB expects no reply to k. */
	packets_end_session(s);
	s->reply_none = true;
	s->running = true;
	s->ops->kill(s->ctx);
}

/*
 * Every packet we answer. Names of q/Q/v packets match up to a separator;
 * single letters match as prefixes. Anything else gets the empty reply.
 */
static const struct rsp_packet packets_table[] = {
	{ "qSupported",       packets_handle_supported,      false, false },
	{ "QStartNoAckMode",  packets_handle_no_ack,         false, false },
	{ "QThreadSuffixSupported", packets_handle_thread_suffix, false, false },
	{ "QListThreadsInStopReply", packets_handle_list_threads, false, false },
	{ "qThreadStopInfo",  packets_handle_thread_stop_info, true, true },
	{ "qXfer",            packets_handle_xfer,           false, false },
	{ "qAttached",        packets_handle_attached,       false, false },
	{ "qC",               packets_handle_current_thread, false, false },
	{ "qfThreadInfo",     packets_handle_thread_first,   false, false },
	{ "qsThreadInfo",     packets_handle_thread_next,    false, false },
	{ "qThreadExtraInfo", packets_handle_extra_info,     false, false },
	{ "qRcmd",            packets_handle_monitor,        false, false },
	{ "?",                run_handle_stop_query,         false, false },
	{ "H",                packets_handle_set_thread,     false, false },
	{ "T",                packets_handle_thread_alive,   false, false },
	{ "g",                packets_handle_read_regs,      true, false },
	{ "G",                packets_handle_write_regs,     true, false },
	{ "p",                packets_handle_read_reg,       true, false },
	{ "P",                packets_handle_write_reg,      true, false },
	{ "m",                packets_handle_read_mem,       true, false },
	{ "M",                packets_handle_write_mem_hex,  true, false },
	{ "X",                packets_handle_write_mem_bin,  true, false },
	{ "Z",                packets_handle_insert_bp,      true, false },
	{ "z",                packets_handle_remove_bp,      true, false },
	{ "c",                run_handle_continue,           true, false },
	{ "C",                run_handle_continue_signal,    true, false },
	{ "s",                run_handle_step,               true, false },
	{ "S",                run_handle_step_signal,        true, false },
	{ "vCont?",           run_handle_vcont_query,        false, false },
	{ "vCont",            run_handle_vcont,              true, false },
	{ "D",                packets_handle_detach,         false, false },
	{ "k",                packets_handle_kill,           false, false },
};

const struct rsp_packet *packets_find(const char *pkt, size_t len,
				      size_t *name_len)
{
	return rsp_match(packets_table,
			 sizeof(packets_table) / sizeof(packets_table[0]), pkt,
			 len, name_len);
}
