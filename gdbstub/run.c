/*
 * The all-stop state machine: STOPPED until GDB resumes the guest (c, s, C,
 * S, vCont), RUNNING until the target reports a stop, which we answer with
 * the one stop reply GDB is waiting for.
 */
#include "gdbstub_priv.h"

/* Registers sent with every stop so that GDB shows where the guest is, and
 * unwinds a frame, without a round trip. */
static const unsigned run_expedited_regs[] = {
	GDB_REG_PC, GDB_REG_SP, GDB_REG_X29, GDB_REG_X30, GDB_REG_CPSR,
};

void gdbstub_init(struct gdbstub *s, const struct gdb_target_ops *ops,
		  void *ctx, bool running)
{
	memset(s, 0, sizeof(*s));
	s->ops = ops;
	s->ctx = ctx;
	s->running = running;
	s->g_vcpu = GDBSTUB_VCPU_ANY;
	s->c_vcpu = GDBSTUB_VCPU_ANY;
	s->suffix_vcpu = GDBSTUB_VCPU_ANY;
	s->last_stop.reason = GDB_STOP_SIGNAL;
	s->last_stop.signal = GDB_SIGNAL_TRAP;
}

bool gdbstub_is_running(const struct gdbstub *s)
{
	return s->running;
}

/* O packets carry hex, so any text (even '$' or '#') is safe to send. */
void run_send_console(struct gdbstub *s, const char *text, size_t len)
{
	const size_t per_packet = (sizeof(s->reply) - 1) / 2;

	while (len) {
		size_t n = len < per_packet ? len : per_packet;

		reply_clear(s);
		reply_char(s, 'O');
		reply_hex_bytes(s, (const uint8_t *)text, n);
		rsp_send_packet(s, s->reply, s->reply_len);
		text += n;
		len -= n;
	}
}

void gdbstub_console_write(struct gdbstub *s, const char *text, size_t len)
{
	/* While stopped GDB reads an O packet as the reply to its request. */
	if (s->running)
		run_send_console(s, text, len);
}

static void run_reply_reason(struct gdbstub *s, const struct gdb_stop *stop)
{
	static const char *const names[] = {
		[GDB_STOP_SWBREAK] = "swbreak",
		[GDB_STOP_HWBREAK] = "hwbreak",
		[GDB_STOP_WATCH] = "watch",
		[GDB_STOP_RWATCH] = "rwatch",
		[GDB_STOP_AWATCH] = "awatch",
	};

	if (stop->reason == GDB_STOP_SIGNAL || stop->reason > GDB_STOP_AWATCH)
		return;
	reply_str(s, names[stop->reason]);
	reply_char(s, ':');
	if (stop->reason >= GDB_STOP_WATCH)
		reply_hex_u64(s, stop->addr);
	reply_char(s, ';');
}

/* After QListThreadsInStopReply (LLDB): threads:<id>,...;thread-pcs:<pc>,...;
 * the pcs as plain hex numbers, 0 for one that cannot be read. */
static void run_reply_threads(struct gdbstub *s)
{
	unsigned count = stub_vcpu_count(s), i, b;
	uint8_t buf[8];

	reply_str(s, "threads:");
	for (i = 0; i < count; i++) {
		if (i)
			reply_char(s, ',');
		reply_hex_u64(s, i + 1);
	}
	reply_str(s, ";thread-pcs:");
	for (i = 0; i < count; i++) {
		uint64_t pc = 0;

		if (s->ops->reg_read(s->ctx, i, GDB_REG_PC, buf, sizeof(buf)))
			for (b = 0; b < sizeof(buf); b++)
				pc |= (uint64_t)buf[b] << (8 * b);
		if (i)
			reply_char(s, ',');
		reply_hex_u64(s, pc);
	}
	reply_char(s, ';');
}

/* T<sig>thread:<id>;<regno>:<value>;...[threads...;]<reason>:<addr>; for
 * vcpu: the last stop's signal and reason if it reported the stop, else
 * signal 0 (stopped because another one did: LLDB's qThreadStopInfo). */
void run_reply_thread_stop(struct gdbstub *s, unsigned vcpu)
{
	const struct gdb_stop *stop = &s->last_stop;
	bool reporter = vcpu == stop->vcpu;
	uint8_t sig = reporter ? stop->signal : 0, buf[8];
	size_t i;

	reply_clear(s);
	reply_char(s, 'T');
	reply_hex_bytes(s, &sig, 1);
	reply_str(s, "thread:");
	reply_hex_u64(s, vcpu + 1);
	reply_char(s, ';');
	for (i = 0; i < sizeof(run_expedited_regs) / sizeof(run_expedited_regs[0]);
	     i++) {
		unsigned regno = run_expedited_regs[i];
		unsigned size = stub_reg_size(s, regno);

		/* An unavailable register is simply not expedited. */
		if (!s->ops->reg_read(s->ctx, vcpu, regno, buf, size))
			continue;
		reply_hex_u64(s, regno);
		reply_char(s, ':');
		reply_hex_bytes(s, buf, size);
		reply_char(s, ';');
	}
	if (s->threads_in_stop)
		run_reply_threads(s);
	if (reporter)
		run_reply_reason(s, stop);
}

void run_reply_stop(struct gdbstub *s)
{
	run_reply_thread_stop(s, s->last_stop.vcpu);
}

void gdbstub_report_stop(struct gdbstub *s, const struct gdb_stop *stop)
{
	unsigned vcpu = stop->vcpu < stub_vcpu_count(s) ? stop->vcpu : 0;

	s->last_stop = *stop;
	s->last_stop.vcpu = vcpu;
	s->last_stop.text = NULL; /* not ours to keep */
	if (!s->last_stop.signal)
		s->last_stop.signal = GDB_SIGNAL_TRAP;
	/* GDB takes the reporting thread as its current one for g/m. */
	s->g_vcpu = vcpu;
	s->c_vcpu = vcpu;
	if (!s->running)
		return;
	s->running = false;
	if (stop->text && stop->text[0]) {
		size_t n = util_strlen(stop->text);

		/* A line: GDB starts its stop report on a new line anyway, LLDB
		 * would append its own to this text. */
		run_send_console(s, stop->text, n);
		if (stop->text[n - 1] != '\n')
			run_send_console(s, "\n", 1);
	}
	run_reply_stop(s);
	rsp_send_packet(s, s->reply, s->reply_len);
}

void run_handle_stop_query(struct gdbstub *s, const char *args, size_t len)
{
	if (!s->running) {
		run_reply_stop(s);
		return;
	}
	/* A GDB (re)connecting to a running guest: stop it, and the stop
	 * reply it then gets answers this '?'. */
	s->reply_none = true;
	s->ops->interrupt(s->ctx);
}

void run_handle_vcont_query(struct gdbstub *s, const char *args, size_t len)
{
	reply_str(s, "vCont;c;C;s;S");
}

/* The actions are complete: from here on, only a stop reply answers GDB. */
static void run_resume(struct gdbstub *s)
{
	s->running = true;
	s->reply_none = true;
	s->ops->resume(s->ctx, s->actions, stub_vcpu_count(s));
}

static unsigned run_c_vcpu(struct gdbstub *s)
{
	if (s->c_vcpu < stub_vcpu_count(s))
		return s->c_vcpu;
	return s->last_stop.vcpu;
}

static bool run_parse_signal(const char **p, const char *end, uint8_t *sig)
{
	uint64_t v;

	if (!util_parse_hex(p, end, &v) || v > 0xff)
		return false;
	*sig = (uint8_t)v;
	return true;
}

/*
 * c [addr], s [addr], C sig[;addr], S sig[;addr]: the Hc vCPU continues or
 * steps (with the signal); all others continue, as in GDB's all-stop
 * default where stepping one thread lets the others run.
 */
static void run_resume_legacy(struct gdbstub *s, const char *args, size_t len,
			      enum gdb_action_kind kind, bool with_signal)
{
	const char *p = args, *end = args + len;
	unsigned vcpu = run_c_vcpu(s), i, count = stub_vcpu_count(s);
	uint8_t sig = 0, pc[8];
	uint64_t addr = 0;
	bool has_addr = false;

	if (with_signal && !run_parse_signal(&p, end, &sig)) {
		reply_error(s, GDB_E_PACKET);
		return;
	}
	if (with_signal && p != end && !util_expect(&p, end, ';')) {
		reply_error(s, GDB_E_PACKET);
		return;
	}
	if (p != end || (with_signal && p[-1] == ';')) {
		if (!util_parse_hex(&p, end, &addr) || p != end) {
			reply_error(s, GDB_E_PACKET);
			return;
		}
		has_addr = true;
	}
	if (has_addr) {
		for (i = 0; i < 8; i++)
			pc[i] = (uint8_t)(addr >> (8 * i));
		if (!s->ops->reg_write(s->ctx, vcpu, GDB_REG_PC, pc, 8)) {
			reply_error(s, GDB_E_INVAL);
			return;
		}
	}
	for (i = 0; i < count; i++) {
		s->actions[i].kind = GDB_ACTION_CONTINUE;
		s->actions[i].signal = 0;
	}
	s->actions[vcpu].kind = kind;
	s->actions[vcpu].signal = sig;
	run_resume(s);
}

void run_handle_continue(struct gdbstub *s, const char *args, size_t len)
{
	run_resume_legacy(s, args, len, GDB_ACTION_CONTINUE, false);
}

void run_handle_continue_signal(struct gdbstub *s, const char *args, size_t len)
{
	run_resume_legacy(s, args, len, GDB_ACTION_CONTINUE, true);
}

void run_handle_step(struct gdbstub *s, const char *args, size_t len)
{
	run_resume_legacy(s, args, len, GDB_ACTION_STEP, false);
}

void run_handle_step_signal(struct gdbstub *s, const char *args, size_t len)
{
	run_resume_legacy(s, args, len, GDB_ACTION_STEP, true);
}

/* Applies one vCont action to the threads tid names that no action to its
 * left has claimed (the manual's "leftmost action wins"). */
static bool run_vcont_apply(struct gdbstub *s, bool *claimed, int64_t tid,
			    const struct gdb_action *a)
{
	unsigned count = stub_vcpu_count(s), i, vcpu;

	if (tid == -1) {
		for (i = 0; i < count; i++)
			if (!claimed[i]) {
				s->actions[i] = *a;
				claimed[i] = true;
			}
		return true;
	}
	if (tid == 0)
		vcpu = run_c_vcpu(s);
	else if (!stub_tid_to_vcpu(s, tid, &vcpu))
		return false;
	if (!claimed[vcpu]) {
		s->actions[vcpu] = *a;
		claimed[vcpu] = true;
	}
	return true;
}

/* vCont;action[:thread]... Parsed whole before anything is resumed. */
void run_handle_vcont(struct gdbstub *s, const char *args, size_t len)
{
	const char *p = args, *end = args + len;
	bool claimed[GDBSTUB_MAX_VCPUS] = { false };
	unsigned count = stub_vcpu_count(s), i;
	bool any = false;

	for (i = 0; i < count; i++) {
		s->actions[i].kind = GDB_ACTION_STOP;
		s->actions[i].signal = 0;
	}
	if (p == end) {
		reply_error(s, GDB_E_PACKET);
		return;
	}
	while (p < end) {
		struct gdb_action a = { GDB_ACTION_CONTINUE, 0 };
		int64_t tid = -1;
		char op;

		if (!util_expect(&p, end, ';') || p == end) {
			reply_error(s, GDB_E_PACKET);
			return;
		}
		op = *p++;
		if (op == 's' || op == 'S')
			a.kind = GDB_ACTION_STEP;
		if ((op == 'C' || op == 'S') && !run_parse_signal(&p, end, &a.signal)) {
			reply_error(s, GDB_E_PACKET);
			return;
		}
		if (op != 'c' && op != 'C' && op != 's' && op != 'S') {
			reply_error(s, GDB_E_PACKET);
			return;
		}
		if (p < end && *p == ':') {
			p++;
			if (!util_parse_thread(&p, end, &tid)) {
				reply_error(s, GDB_E_PACKET);
				return;
			}
		}
		if (!run_vcont_apply(s, claimed, tid, &a)) {
			reply_error(s, GDB_E_INVAL);
			return;
		}
	}
	for (i = 0; i < count; i++)
		any |= s->actions[i].kind != GDB_ACTION_STOP;
	if (!any) {
		reply_error(s, GDB_E_INVAL);
		return;
	}
	run_resume(s);
}
