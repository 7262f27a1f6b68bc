/* Text views of trap events and statistics, for the console (and later GDB). */
#include "hv.h"
#include "lib.h"
#include "console.h"
#include "sysreg.h"
#include "arch/sysreg.h"

struct text {
	char *buf;
	size_t size, len;
};

static void __attribute__((format(printf, 2, 3))) text_add(struct text *t, const char *fmt, ...)
{
	va_list ap;
	size_t room = t->len < t->size ? t->size - t->len : 0;

	va_start(ap, fmt);
	t->len += vsnprintf(t->buf + (room ? t->len : 0), room, fmt, ap);
	va_end(ap);
}

/* One line, e.g. "#12 t=3456 vcpu1 sysreg pc=0x40201000 write SCTLR_EL1 = 0x30d0199d". */
size_t event_format(const struct trap_event *e, char *buf, size_t size)
{
	struct text t = { buf, size, 0 };
	char name[32];

	text_add(&t, "#%lu t=%lu vcpu%u %-6s pc=%#lx ", e->seq, e->time, e->vcpu,
		 trap_class_name(e->cls), event_pc(e));
	switch (e->cls) {
	case TRAP_HVC:
	case TRAP_SMC:
		text_add(&t, "%s #%u fn=%#lx -> %#lx", trap_class_name(e->cls), ESR_HVC_IMM(e->esr),
			 e->addr, e->value);
		break;
	case TRAP_WFI:
	case TRAP_WFE:
		text_add(&t, "%s", trap_class_name(e->cls));
		break;
	case TRAP_MMIO:
	case TRAP_ABORT:
		text_add(&t, "%s %#lx", event_op_name(e->op), e->addr);
		if (e->width)
			text_add(&t, " %uB %s %#lx", e->width, e->op == OP_WRITE ? "<-" : "->", e->value);
		break;
	case TRAP_IRQ:
		text_add(&t, "deliver INTID %lu prio %#lx%s", e->addr, e->value,
			 e->outcome == OUT_FORWARDED ? " hw" : "");
		break;
	default:
		if (ESR_EC(e->esr) == EC_SYS64) {
			const char *r = sysreg_name(e->addr, name, sizeof(name));
			if (e->op == OP_MAINT)
				text_add(&t, "%s %#lx", r, e->value);
			else if (e->op == OP_WRITE)
				text_add(&t, "write %s = %#lx", r, e->value);
			else
				text_add(&t, "read %s -> %#lx", r, e->value);
		} else {
			text_add(&t, "ec=%#x (%s) esr=%#x", ESR_EC(e->esr), esr_ec_name(ESR_EC(e->esr)), e->esr);
		}
	}
	if (e->outcome != OUT_EMULATED && e->outcome != OUT_FORWARDED)
		text_add(&t, " [%s]", event_outcome_name(e->outcome));
	return t.len;
}

static void console_sink_write(void *arg, const char *text, size_t len)
{
	console_write(text, len);
}

const struct text_sink console_sink = { console_sink_write, NULL };

void sink_printf(const struct text_sink *s, const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	s->write(s->arg, buf, n < (int)sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

void trace_set(bool on)
{
	for (unsigned c = 0; c < pcpu_count; c++)
		__atomic_store_n(&pcpus[c].event_cursor.ring, on ? &pcpus[c].events : &pcpus[c].untraced,
				 __ATOMIC_RELEASE);
}

bool trace_is_on(void)
{
	return pcpus[0].event_cursor.ring == &pcpus[0].events;
}

/*
 * Readers start after the last `hv trace clear`; the writers never notice. A
 * trap already under way when the trace was cleared lands after that point:
 * its timestamp tells it apart.
 */
static u64 trace_cleared_at, stats_reset_at;

void trace_clear(void)
{
	trace_cleared_at = sysreg_read(cntpct_el0);
	for (unsigned c = 0; c < pcpu_count; c++)
		pcpus[c].trace_from = __atomic_load_n(&pcpus[c].events.head, __ATOMIC_ACQUIRE);
}

/* The last n events of every pCPU's ring, oldest first, with what was lost. */
void event_print_recent(const struct text_sink *out, unsigned n)
{
	if (!trace_is_on())
		sink_printf(out, "trace: off (monitor hv trace on); the rings hold what came before\n");
	for (unsigned c = 0; c < pcpu_count; c++) {
		struct event_ring *r = &pcpus[c].events;
		u64 head = r->head, from = head > n ? head - n : 0;
		struct trap_event e;

		from = from < pcpus[c].trace_from ? pcpus[c].trace_from : from;
		if (from > head)
			from = head;
		from = from < event_ring_oldest(r) ? event_ring_oldest(r) : from;
		if (from == head) {
			sink_printf(out, "trace: pCPU %u, no events\n", c);
			continue;
		}
		sink_printf(out, "trace: pCPU %u, events %lu..%lu of %lu, %lu dropped\n", c, from, head - 1, head,
			    event_ring_dropped(r, pcpus[c].trace_from));
		for (u64 s = from; s < head; s++) {
			char line[160];
			if (!event_ring_get(r, s, &e) || e.time < trace_cleared_at)
				continue;
			event_format(&e, line, sizeof(line));
			sink_printf(out, "%s\n", line);
		}
	}
}

/*
 * The rings in a compact form for a host tool (scripts/trace2chrome): a header
 * line, then one line per record, its 64 bytes as they are in memory (fields
 * of include/trapvisor/event.h), hex, oldest first per pCPU.
 *   trapvisor-trace 1 cntfrq=HZ pcpus=N
 *   <pcpu> <seq> <time> <elr> <addr> <value> <esr> <el2_ticks> <meta>
 */
void trace_dump(const struct text_sink *out)
{
	sink_printf(out, "trapvisor-trace 1 cntfrq=%lu pcpus=%u\n", sysreg_read(cntfrq_el0), pcpu_count);
	for (unsigned c = 0; c < pcpu_count; c++) {
		struct event_ring *r = &pcpus[c].events;
		u64 head = r->head, from = event_ring_oldest(r);
		struct trap_event e;

		from = from < pcpus[c].trace_from ? pcpus[c].trace_from : from;
		for (u64 s = from; s < head; s++) {
			if (!event_ring_get(r, s, &e) || e.time < trace_cleared_at)
				continue;
			sink_printf(out, "%u %lx %lx %lx %lx %lx %x %x %lx\n", c, e.seq, e.time, e.elr, e.addr, e.value,
				    e.esr, e.el2_ticks, e.meta);
		}
	}
}

/* Shortest and longest EL2 time of class cls among the events still in the rings. */
static bool ring_min_max(unsigned cls, u64 *min, u64 *max)
{
	struct trap_event e;
	bool any = false;

	*min = ~0ull;
	*max = 0;
	for (unsigned c = 0; c < pcpu_count; c++) {
		struct event_ring *r = &pcpus[c].events;
		u64 from = event_ring_oldest(r);
		for (u64 s = from > pcpus[c].stats_from ? from : pcpus[c].stats_from; s < r->head; s++) {
			if (!event_ring_get(r, s, &e) || e.cls != cls || e.time < stats_reset_at)
				continue;
			any = true;
			*min = e.el2_ticks < *min ? e.el2_ticks : *min;
			*max = e.el2_ticks > *max ? e.el2_ticks : *max;
		}
	}
	return any;
}

/* The counters only grow (the trap path owns them); a reset is a baseline,
 * kept beside them. Both are the pCPU's, for the vCPU it runs (hv.h). */
static struct trap_stat stat_since_reset(const struct pcpu *cpu, unsigned cls)
{
	const struct trap_stat *now = &cpu->stats[cls], *base = &cpu->stats_base[cls];

	return (struct trap_stat){ now->count - base->count, now->ticks - base->ticks };
}

void stats_reset(void)
{
	stats_reset_at = sysreg_read(cntpct_el0);
	for (unsigned c = 0; c < pcpu_count; c++) {
		for (unsigned k = 0; k < TRAP_CLASS_COUNT; k++)
			pcpus[c].stats_base[k] = pcpus[c].stats[k];
		pcpus[c].stats_from = __atomic_load_n(&pcpus[c].events.head, __ATOMIC_ACQUIRE);
	}
}

static u64 ticks_to_ns(u64 ticks, u64 freq)
{
	return ticks * 1000000000ull / freq;
}

/*
 * Counts and EL2 time per class and per vCPU, in the shape of `perf kvm stat`.
 * Count and average are exact; min and max cover the events still in the rings.
 */
void stats_print(const struct text_sink *out)
{
	u64 freq = sysreg_read(cntfrq_el0), total = 0;
	struct trap_stat sum[TRAP_CLASS_COUNT];

	memset(sum, 0, sizeof(sum));
	for (unsigned c = 0; c < pcpu_count; c++) {
		for (unsigned k = 0; k < TRAP_CLASS_COUNT; k++) {
			struct trap_stat s = stat_since_reset(&pcpus[c], k);
			sum[k].count += s.count;
			sum[k].ticks += s.ticks;
			total += s.count;
		}
	}
	sink_printf(out, "stats: %-8s %10s %7s %10s %10s %10s   (EL2 time in ns; min*/max*: recent events)\n",
	       "class", "samples", "%", "avg", "min*", "max*");
	for (unsigned k = 0; k < TRAP_CLASS_COUNT; k++) {
		char min_text[24] = "-", max_text[24] = "-";
		u64 min, max, pct10;

		if (!sum[k].count)
			continue;
		pct10 = sum[k].count * 1000 / total;
		if (ring_min_max(k, &min, &max)) {
			snprintf(min_text, sizeof(min_text), "%lu", ticks_to_ns(min, freq));
			snprintf(max_text, sizeof(max_text), "%lu", ticks_to_ns(max, freq));
		}
		sink_printf(out, "stats: %-8s %10lu %5lu.%lu %10lu %10s %10s\n", trap_class_name(k), sum[k].count,
		       pct10 / 10, pct10 % 10, ticks_to_ns(sum[k].ticks / sum[k].count, freq), min_text,
		       max_text);
	}
	sink_printf(out, "stats: * over the events still in the rings (the last %u per pCPU)\n", EVENT_RING_KEPT);
	/* An interrupt delivered is an event but not a trap: counted apart. */
	for (unsigned i = 0; i < vcpu_count; i++) {
		struct vcpu *v = vcpu_by_id(i);
		const struct pcpu *keeper = vcpu_pcpu(v); /* where its statistics are kept */
		u64 count = 0, ticks = 0;
		struct trap_stat irqs = stat_since_reset(keeper, TRAP_IRQ);
		for (unsigned k = 0; k < TRAP_CLASS_COUNT; k++) {
			struct trap_stat s = stat_since_reset(keeper, k);
			count += k == TRAP_IRQ ? 0 : s.count;
			ticks += s.ticks;
		}
		sink_printf(out, "stats: vcpu%u %lu traps, %lu ns in EL2", v->id, count, ticks_to_ns(ticks, freq));
		if (irqs.count)
			sink_printf(out, ", %lu interrupts delivered", irqs.count);
		sink_printf(out, "\n");
	}
	sink_printf(out, "stats: total %lu traps", total - sum[TRAP_IRQ].count);
	if (sum[TRAP_IRQ].count)
		sink_printf(out, ", %lu interrupts delivered", sum[TRAP_IRQ].count);
	sink_printf(out, "\n");
}
