/* Text views of trap events and statistics, for the console (and later GDB). */
#include "hv.h"
#include "lib.h"
#include "console.h"
#include "sysreg.h"
#include "sched.h"
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

	if (e->vcpu == SCHED_NO_VCPU) /* a switch to the idle loop */
		text_add(&t, "#%lu t=%lu idle  %-6s pc=- ", e->seq, e->time, trap_class_name(e->cls));
	else
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
	case TRAP_SCHED:
		/* e.g. "pcpu0: vcpu0 -> vcpu2 (wfi)": who left, who came in, and why */
		text_add(&t, "pcpu%u: ", e->pcpu);
		if (e->addr == SCHED_NO_VCPU)
			text_add(&t, "idle");
		else
			text_add(&t, "vcpu%lu", e->addr);
		if (e->vcpu == SCHED_NO_VCPU)
			text_add(&t, " -> idle");
		else
			text_add(&t, " -> vcpu%u", e->vcpu);
		text_add(&t, " (%s)", e->value < SCHED_REASONS ? sched_reason_names[e->value] : "?");
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

/*
 * The rings: one per vCPU for its traps and deliveries, then one per shared
 * pCPU for its scheduler's switches (a pCPU alone with its vCPU switches
 * nothing worth a record).
 */
struct ring_ref {
	struct event_ring *ring;
	u64 *trace_from, *stats_from;
	char label[32];
};

static bool ring_at(unsigned i, struct ring_ref *r)
{
	if (i < vcpu_count) {
		struct vcpu *v = vcpu_by_id(i);
		*r = (struct ring_ref){ &v->events, &v->trace_from, &v->stats_from, "" };
		snprintf(r->label, sizeof(r->label), "vCPU %u", i);
		return true;
	}
	i -= vcpu_count;
	if (i >= pcpu_count || pcpus[i].placed < 2)
		return false;
	*r = (struct ring_ref){ &pcpus[i].events, &pcpus[i].trace_from, &pcpus[i].stats_from, "" };
	snprintf(r->label, sizeof(r->label), "pCPU %u scheduler", i);
	return true;
}

#define RING_SLOTS (MAX_VCPUS + MAX_CPUS)

bool trace_on = true;

void trace_set(bool on)
{
	__atomic_store_n(&trace_on, on, __ATOMIC_RELEASE);
	for (unsigned i = 0; i < vcpu_count; i++) {
		struct vcpu *v = vcpu_by_id(i);
		__atomic_store_n(&v->event_cursor.ring, on ? &v->events : &vcpu_pcpu(v)->untraced, __ATOMIC_RELEASE);
	}
}

bool trace_is_on(void)
{
	return trace_on;
}

/*
 * Readers start after the last `hv trace clear`; the writers never notice. A
 * trap already under way when the trace was cleared lands after that point:
 * its timestamp tells it apart.
 */
static u64 trace_cleared_at, stats_reset_at;

void trace_clear(void)
{
	struct ring_ref r;

	trace_cleared_at = sysreg_read(cntpct_el0);
	for (unsigned i = 0; i < RING_SLOTS; i++)
		if (ring_at(i, &r))
			*r.trace_from = __atomic_load_n(&r.ring->head, __ATOMIC_ACQUIRE);
}

/* The last n events of every ring, oldest first, with what was lost. */
void event_print_recent(const struct text_sink *out, unsigned n)
{
	struct ring_ref ref;

	if (!trace_is_on())
		sink_printf(out, "trace: off (monitor hv trace on); the rings hold what came before\n");
	for (unsigned i = 0; i < RING_SLOTS; i++) {
		if (!ring_at(i, &ref))
			continue;
		struct event_ring *r = ref.ring;
		u64 head = r->head, from = head > n ? head - n : 0;
		struct trap_event e;

		from = from < *ref.trace_from ? *ref.trace_from : from;
		if (from > head)
			from = head;
		from = from < event_ring_oldest(r) ? event_ring_oldest(r) : from;
		if (from == head) {
			sink_printf(out, "trace: %s, no events\n", ref.label);
			continue;
		}
		sink_printf(out, "trace: %s, events %lu..%lu of %lu, %lu dropped\n", ref.label, from, head - 1, head,
			    event_ring_dropped(r, *ref.trace_from));
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
 * of include/trapvisor/event.h), hex, oldest first per ring.
 *   trapvisor-trace 2 cntfrq=HZ pcpus=N vcpus=M
 *   <ring> <seq> <time> <elr> <addr> <value> <esr> <el2_ticks> <meta>
 * <ring> is a vCPU's id, or vcpus + a pCPU's id for its scheduler's ring.
 */
void trace_dump(const struct text_sink *out)
{
	struct ring_ref ref;

	sink_printf(out, "trapvisor-trace 2 cntfrq=%lu pcpus=%u vcpus=%u\n", sysreg_read(cntfrq_el0), pcpu_count,
		    vcpu_count);
	for (unsigned i = 0; i < RING_SLOTS; i++) {
		if (!ring_at(i, &ref))
			continue;
		struct event_ring *r = ref.ring;
		u64 head = r->head, from = event_ring_oldest(r);
		struct trap_event e;

		from = from < *ref.trace_from ? *ref.trace_from : from;
		for (u64 s = from; s < head; s++) {
			if (!event_ring_get(r, s, &e) || e.time < trace_cleared_at)
				continue;
			sink_printf(out, "%u %lx %lx %lx %lx %lx %x %x %lx\n", i, e.seq, e.time, e.elr, e.addr, e.value,
				    e.esr, e.el2_ticks, e.meta);
		}
	}
}

/* Shortest and longest EL2 time of class cls among the events still in the rings. */
static bool ring_min_max(unsigned cls, u64 *min, u64 *max)
{
	struct trap_event e;
	struct ring_ref ref;
	bool any = false;

	*min = ~0ull;
	*max = 0;
	for (unsigned i = 0; i < RING_SLOTS; i++) {
		if (!ring_at(i, &ref))
			continue;
		struct event_ring *r = ref.ring;
		u64 from = event_ring_oldest(r);
		for (u64 s = from > *ref.stats_from ? from : *ref.stats_from; s < r->head; s++) {
			if (!event_ring_get(r, s, &e) || e.cls != cls || e.time < stats_reset_at)
				continue;
			any = true;
			*min = e.el2_ticks < *min ? e.el2_ticks : *min;
			*max = e.el2_ticks > *max ? e.el2_ticks : *max;
		}
	}
	return any;
}

/* The counters only grow (the trap path owns them); a reset is a baseline, kept beside them. */
static struct trap_stat stat_since_reset(const struct vcpu *v, unsigned cls)
{
	const struct trap_stat *now = &v->stats[cls], *base = &v->stats_base[cls];

	return (struct trap_stat){ now->count - base->count, now->ticks - base->ticks };
}

void stats_reset(void)
{
	struct ring_ref r;

	stats_reset_at = sysreg_read(cntpct_el0);
	for (unsigned i = 0; i < vcpu_count; i++) {
		struct vcpu *v = vcpu_by_id(i);
		for (unsigned k = 0; k < TRAP_CLASS_COUNT; k++)
			v->stats_base[k] = v->stats[k];
		v->sched_base = v->sched_stats;
	}
	for (unsigned i = 0; i < RING_SLOTS; i++)
		if (ring_at(i, &r))
			*r.stats_from = __atomic_load_n(&r.ring->head, __ATOMIC_ACQUIRE);
}

static u64 ticks_to_ns(u64 ticks, u64 freq)
{
	return ticks * 1000000000ull / freq;
}

/* Events that are not traps: an interrupt delivered, a vCPU switched in. */
static bool is_trap_class(unsigned k)
{
	return k != TRAP_IRQ && k != TRAP_SCHED;
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
	for (unsigned i = 0; i < vcpu_count; i++) {
		for (unsigned k = 0; k < TRAP_CLASS_COUNT; k++) {
			struct trap_stat s = stat_since_reset(vcpu_by_id(i), k);
			sum[k].count += s.count;
			sum[k].ticks += s.ticks;
			total += is_trap_class(k) ? s.count : 0;
		}
	}
	sink_printf(out, "stats: %-8s %10s %7s %10s %10s %10s   (EL2 time in ns; min*/max*: recent events)\n",
	       "class", "samples", "%", "avg", "min*", "max*");
	for (unsigned k = 0; k < TRAP_CLASS_COUNT; k++) {
		char min_text[24] = "-", max_text[24] = "-";
		u64 min, max, pct10;

		if (!sum[k].count || !is_trap_class(k))
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
	sink_printf(out, "stats: * over the events still in the rings (the last %u per vCPU)\n", EVENT_RING_KEPT);
	for (unsigned i = 0; i < vcpu_count; i++) {
		struct vcpu *v = vcpu_by_id(i);
		u64 count = 0, ticks = 0;
		struct trap_stat irqs = stat_since_reset(v, TRAP_IRQ);
		for (unsigned k = 0; k < TRAP_CLASS_COUNT; k++) {
			struct trap_stat s = stat_since_reset(v, k);
			count += is_trap_class(k) ? s.count : 0;
			ticks += s.ticks;
		}
		sink_printf(out, "stats: vcpu%u %lu traps, %lu ns in EL2", v->id, count, ticks_to_ns(ticks, freq));
		if (irqs.count)
			sink_printf(out, ", %lu interrupts delivered", irqs.count);
		sink_printf(out, "\n");
	}
	/* Where each vCPU's time went, on pCPUs that more than one vCPU shares. */
	for (unsigned i = 0; i < vcpu_count; i++) {
		struct vcpu *v = vcpu_by_id(i);
		const struct vcpu_sched_stats *s = &v->sched_stats, *b = &v->sched_base;
		if (vcpu_pcpu(v)->placed < 2)
			continue;
		sink_printf(out, "stats: vcpu%u on pCPU %u: ran %lu us, runnable but waiting %lu us, %lu switches in\n",
			    v->id, vcpu_pcpu(v)->id, ticks_to_ns(s->run_ticks - b->run_ticks, freq) / 1000,
			    ticks_to_ns(s->wait_ticks - b->wait_ticks, freq) / 1000,
			    v->stats[TRAP_SCHED].count - v->stats_base[TRAP_SCHED].count);
	}
	sink_printf(out, "stats: total %lu traps", total);
	if (sum[TRAP_IRQ].count)
		sink_printf(out, ", %lu interrupts delivered", sum[TRAP_IRQ].count);
	sink_printf(out, "\n");
}
