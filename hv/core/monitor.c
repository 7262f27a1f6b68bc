/*
 * GDB's `monitor` commands: one table of {words, arguments, handler, help};
 * `monitor hv help` is generated from it.
 */
#include "hv.h"
#include "lib.h"
#include "gdbstub.h"
#include "catch.h"
#include "s2watch.h"
#include "sysreg.h"
#include "mmio.h"
#include "debug.h"

struct monitor_cmd {
	const char *words; /* what the user types, e.g. "hv trap on" */
	const char *args;  /* shown in help */
	int (*run)(const struct text_sink *out, const char *args);
	const char *help;
};

static const struct monitor_cmd monitor_cmds[];

static int cmd_help(const struct text_sink *out, const char *args)
{
	for (const struct monitor_cmd *c = monitor_cmds; c->words; c++)
		sink_printf(out, "  monitor %s%s%s\n      %s\n", c->words, c->args[0] ? " " : "", c->args, c->help);
	return 0;
}

static const char *vcpu_state_name(const struct vcpu *v)
{
	static const char *const names[] = {
		[VCPU_OFF] = "off",	    [VCPU_ON_CLAIMED] = "starting", [VCPU_ON_PENDING] = "starting",
		[VCPU_RUNNING] = "running", [VCPU_IDLE] = "blocked in WFI", [VCPU_RUNNABLE] = "runnable",
	};

	if (v->state != VCPU_OFF && (v->dbg.parked || debug_guest_stopped()))
		return "stopped";
	if (v->dbg.held)
		return "held by GDB";
	if (v->in_wfi)
		return "in WFI";
	return v->state < ARRAY_SIZE(names) ? names[v->state] : "?";
}

static int cmd_status(const struct text_sink *out, const char *args)
{
	sink_printf(out, "trapvisor %s: %u vCPUs on %u pCPUs, guest RAM %#lx-%#lx\n", HV_VERSION, vcpu_count,
		    pcpu_count, guest.ram_base, guest.ram_end);
	for (unsigned i = 0; i < vcpu_count; i++) {
		const struct vcpu *v = vcpu_by_id(i);
		sink_printf(out, "  vCPU %u on pCPU %u: MPIDR %#lx, %s\n", v->id, vcpu_pcpu(v)->id, v->vmpidr,
			    vcpu_state_name(v));
	}
	sink_printf(out, "  trapping:");
	for (unsigned c = 0; c < TRAP_CLASS_COUNT; c++)
		if (trap_class_always_on(c) ? c <= TRAP_MMIO : (trap_config.enabled & BIT(c)))
			sink_printf(out, " %s", trap_class_name(c));
	sink_printf(out, "\n");
	return 0;
}

static int cmd_trace(const struct text_sink *out, const char *args)
{
	u64 n = 20;

	if (*args && !parse_u64(args, word_len(args), &n)) {
		sink_printf(out, "hv trace: \"%s\" is not a number of events\n", args);
		return 1;
	}
	event_print_recent(out, n > EVENT_RING_KEPT ? EVENT_RING_KEPT : n);
	return 0;
}

static int cmd_trace_switch(const struct text_sink *out, bool on)
{
	trace_set(on);
	sink_printf(out, "tracing %s\n", on ? "on" : "off (statistics go on)");
	return 0;
}

static int cmd_trace_on(const struct text_sink *out, const char *args)
{
	return cmd_trace_switch(out, true);
}

static int cmd_trace_off(const struct text_sink *out, const char *args)
{
	return cmd_trace_switch(out, false);
}

static int cmd_trace_dump(const struct text_sink *out, const char *args)
{
	trace_dump(out);
	return 0;
}

static int cmd_trace_clear(const struct text_sink *out, const char *args)
{
	trace_clear();
	sink_printf(out, "trace cleared\n");
	return 0;
}

static int cmd_stats(const struct text_sink *out, const char *args)
{
	stats_print(out);
	return 0;
}

static int cmd_stats_reset(const struct text_sink *out, const char *args)
{
	stats_reset();
	sink_printf(out, "statistics reset\n");
	return 0;
}

/* hv sysreg value NAME VAL|reset: what a trapped ID register reads as. */
static int cmd_sysreg_value(const struct text_sink *out, const char *args)
{
	size_t n = word_len(args);
	const struct sysreg_desc *d = sysreg_find_name(args, n);
	const char *v = skip_spaces(args + n);
	size_t vlen = word_len(v);
	u64 value;

	if (!d) {
		sink_printf(out, "hv sysreg: unknown register \"%.*s\"\n", (int)n, args);
		return 1;
	}
	if (d->kind != SR_ID) {
		sink_printf(out, "hv sysreg: %s is not an ID register with a virtual value\n", d->name);
		return 1;
	}
	if (vlen == 5 && !memcmp(v, "reset", 5)) {
		sysreg_reset_virtual(d);
		sink_printf(out, "%s reads its real value again\n", d->name);
		return 0;
	}
	if (!vlen || !parse_u64(v, vlen, &value) || *skip_spaces(v + vlen)) {
		sink_printf(out, "hv sysreg value: give a number or \"reset\" after the register\n");
		return 1;
	}
	sysreg_set_virtual(d, value);
	trap_class_set(TRAP_ID, true); /* a virtual value only shows when the read traps */
	sink_printf(out, "%s reads %#lx (the id class is on)\n", d->name, value);
	return 0;
}

static int cmd_watch(const struct text_sink *out, const char *args)
{
	s2watch_list(out);
	return 0;
}

static int cmd_irq(const struct text_sink *out, const char *args)
{
	vgic_print(out);
	return 0;
}

static int cmd_trap_list(const struct text_sink *out, const char *args)
{
	for (unsigned c = 0; c <= TRAP_MMIO; c++)
		sink_printf(out, "  %-7s %s\n", trap_class_name(c),
			    trap_class_always_on(c) ? "on (always)" : (trap_config.enabled & BIT(c)) ? "on" : "off");
	mmio_watch_list(out);
	return 0;
}

/* hv trap on|off mmio A-B: stage 2 changes only while every vCPU is stopped. */
static int mmio_switch(const struct text_sink *out, const char *args, bool on)
{
	size_t n = word_len(args);
	u64 lo, hi;
	const char *why;

	if (!n || !parse_u64_range(args, n, &lo, &hi)) {
		sink_printf(out, "hv trap %s mmio: give the range as ADDR-ADDR (or one ADDR)\n", on ? "on" : "off");
		return 1;
	}
	if (!debug_guest_stopped()) {
		sink_printf(out, "hv trap mmio: stop the guest first (Ctrl-C): stage 2 changes only then\n");
		return 1;
	}
	why = mmio_watch(lo, hi, on);
	if (why) {
		sink_printf(out, "hv trap mmio %#lx-%#lx: %s\n", lo, hi, why);
		return 1;
	}
	sink_printf(out, "mmio %#lx-%#lx %s\n", (u64)ALIGN_DOWN(lo, SZ_4K), (u64)ALIGN_UP(hi + 1, SZ_4K) - 1,
		    on ? "trapped and forwarded" : "passed through again");
	return 0;
}

static int trap_switch(const struct text_sink *out, const char *args, bool on)
{
	size_t n = word_len(args);
	int cls = trap_class_by_name(args, n);

	if (cls == TRAP_MMIO && *skip_spaces(args + n))
		return mmio_switch(out, skip_spaces(args + n), on);
	if (cls < 0 || cls > TRAP_MMIO) {
		sink_printf(out, "hv trap: unknown class \"%.*s\"; `monitor hv trap list` shows them\n", (int)n,
			    args);
		return 1;
	}
	if (trap_class_always_on(cls)) {
		sink_printf(out, "hv trap: %s is always trapped\n", trap_class_name(cls));
		return 1;
	}
	trap_class_set(cls, on);
	sink_printf(out, "%s trapping %s\n", trap_class_name(cls), on ? "on" : "off");
	return 0;
}

static int cmd_trap_on(const struct text_sink *out, const char *args)
{
	return trap_switch(out, args, true);
}

static int cmd_trap_off(const struct text_sink *out, const char *args)
{
	return trap_switch(out, args, false);
}

static const struct monitor_cmd monitor_cmds[] = {
	{ "hv help", "", cmd_help, "this list" },
	{ "hv status", "", cmd_status, "version, vCPUs and their state, trap classes on" },
	{ "hv trace", "[N]", cmd_trace, "the last N trap events of each pCPU (default 20)" },
	{ "hv trace on", "", cmd_trace_on, "record trap events in the rings (the default)" },
	{ "hv trace off", "", cmd_trace_off, "stop recording them (statistics go on)" },
	{ "hv trace clear", "", cmd_trace_clear, "forget the events recorded so far" },
	{ "hv trace dump", "", cmd_trace_dump,
	  "every recorded event, one hex line each, for scripts/trace2chrome (a Perfetto timeline)" },
	{ "hv stats", "", cmd_stats, "traps per class and per vCPU: count and EL2 time" },
	{ "hv stats reset", "", cmd_stats_reset, "start counting from zero" },
	{ "hv sysreg value", "NAME VAL|reset", cmd_sysreg_value,
	  "what a trapped ID register reads as (e.g. ID_AA64ISAR0_EL1), or its real value again" },
	{ "hv trap list", "", cmd_trap_list, "every trap class and whether it is on" },
	{ "hv watch", "", cmd_watch, "the watchpoints stage 2 serves: ranges, pages, hits and misses" },
	{ "hv irq", "", cmd_irq, "each vCPU's virtual interrupts: its list registers and those waiting" },
	{ "hv trap on", "CLASS | mmio A-B", cmd_trap_on,
	  "start trapping a class (wfi wfe sysreg id vm cache debug pmu fp), or a device range (trap-and-forward)" },
	{ "hv trap off", "CLASS | mmio A-B", cmd_trap_off, "stop trapping a class or a device range" },
	{ "hv catch",
	  "CLASS [vcpu=N pc=A[-B] reg=NAME|op0:op1:CRn:CRm:op2 dir=r|w addr=A[-B] intid=N[-M] imm=N fn=N value=V skip=N "
	  "action=stop|log|count]",
	  catch_cmd_add, "stop the guest when a trap of CLASS matches every filter given (turns the class on)" },
	{ "hv catch list", "", catch_cmd_list, "the catchpoints, their filters and hits" },
	{ "hv catch delete", "N|all", catch_cmd_delete, "delete catchpoint N, or all of them" },
	{ "hv catch enable", "N", catch_cmd_enable, "enable catchpoint N" },
	{ "hv catch disable", "N", catch_cmd_disable, "disable catchpoint N" },
	{ NULL, NULL, NULL, NULL },
};

/* Does cmd start with the words of c (any run of spaces between them)? */
static const char *match_words(const char *cmd, const char *words)
{
	while (*words) {
		size_t n = word_len(words);
		cmd = skip_spaces(cmd);
		if (word_len(cmd) != n || memcmp(cmd, words, n))
			return NULL;
		cmd += n;
		words = skip_spaces(words + n);
	}
	return skip_spaces(cmd);
}

static void gdb_sink_write(void *arg, const char *text, size_t len)
{
	void **pair = arg;
	gdb_output_fn *out = (gdb_output_fn *)pair[0];

	out(pair[1], text, len);
}

int debug_monitor(const char *cmd, gdb_output_fn *out, void *out_arg)
{
	void *pair[2] = { (void *)out, out_arg };
	struct text_sink sink = { gdb_sink_write, pair };
	const struct monitor_cmd *best = NULL;
	const char *best_args = NULL;

	/* The longest match wins: "hv trap on" over "hv trap". */
	for (const struct monitor_cmd *c = monitor_cmds; c->words; c++) {
		const char *args = match_words(cmd, c->words);
		if (args && (!best || strlen(c->words) > strlen(best->words))) {
			best = c;
			best_args = args;
		}
	}
	if (!best) {
		sink_printf(&sink, "unknown monitor command \"%s\"; try `monitor hv help`\n", cmd);
		return 1;
	}
	return best->run(&sink, best_args);
}
