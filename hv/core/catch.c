/*
 * Catchpoints: filters on trap events that stop the guest for GDB.
 *
 * A handler calls catch_check() once it knows what the guest is doing and
 * before the operation takes effect (a write before it is written, a WFI
 * before it sleeps, a call before it is answered; a read once its value is
 * known but before the PC moves on). If a catchpoint matches, every vCPU stops
 * with the guest's PC on the trapping instruction, and GDB prints one line
 * saying what was caught; when GDB resumes, the handler carries on and the
 * operation completes as if nothing had been caught.
 */
#include "catch.h"
#include "sched.h"
#include "debug.h"
#include "lib.h"
#include "console.h"
#include "sysreg.h"
#include "mmio.h"

#define MAX_CATCHPOINTS 16

enum catch_filter {
	F_VCPU = BIT(0),
	F_PC = BIT(1),
	F_REG = BIT(2),
	F_DIR = BIT(3),
	F_ADDR = BIT(4),
	F_IMM = BIT(5),
	F_FN = BIT(6),
	F_VALUE = BIT(7),
};

struct catchpoint {
	bool used, enabled;
	unsigned number;
	u8 cls;	       /* enum trap_class; TRAP_SYSREG means any system register */
	u32 filters;   /* enum catch_filter */
	u64 vcpu, pc_lo, pc_hi, addr_lo, addr_hi, imm, fn, value;
	u32 reg;       /* SYSREG_ENC() */
	bool write;    /* with F_DIR */
	u64 skip, hits;
	u8 action;     /* enum catch_action */
	bool watching; /* its addr= range was trapped for it: untrap on delete */
};

enum catch_action { ACT_STOP, ACT_LOG, ACT_COUNT };
static const char *const action_names[] = { "stop", "log", "count" };

static struct catchpoint catchpoints[MAX_CATCHPOINTS];
static unsigned next_number = 1;

/*
 * The enabled catchpoints, indexed for the trap path: one that names exactly
 * one key (an SMCCC function id, a system register, an MMIO address) sits in a
 * bucket chosen by that key, so a trap whose key matches none of them costs a
 * hash and two loads; the others are checked one by one.
 */
struct catch_index catch_index;


/* The key a catchpoint names, if it names exactly one. */
static bool catch_key(const struct catchpoint *c, u64 *key)
{
	if (c->filters & F_FN) {
		*key = c->fn;
		return true;
	}
	if (c->filters & F_REG) {
		*key = c->reg;
		return true;
	}
	if ((c->filters & F_ADDR) && c->addr_lo == c->addr_hi && c->cls == TRAP_MMIO) {
		*key = c->addr_lo;
		return true;
	}
	return false;
}

static void index_build(void)
{
	memset(&catch_index, 0, sizeof(catch_index));
	for (unsigned i = 0; i < MAX_CATCHPOINTS; i++) {
		struct catchpoint *c = &catchpoints[i], **b;
		u64 key;
		if (!c->used || !c->enabled)
			continue;
		if (catch_key(c, &key)) {
			b = catch_index.bucket[catch_bucket(key)];
			for (unsigned w = 0; w < CATCH_BUCKET_WAYS; w++) {
				if (!b[w]) {
					b[w] = c;
					goto placed;
				}
			}
		}
		catch_index.unkeyed[catch_index.unkeyed_count++] = c; /* no key, or its bucket is full */
placed:;
	}
}
static u32 classes_we_turned_on;

static bool is_sysreg_class(unsigned cls)
{
	return cls == TRAP_SYSREG || cls == TRAP_ID || cls == TRAP_VM || cls == TRAP_CACHE ||
	       cls == TRAP_DEBUG || cls == TRAP_PMU;
}

static bool matches(const struct catchpoint *c, const struct trap_event *ev, u64 pc)
{
	if (c->cls == TRAP_SYSREG ? !is_sysreg_class(ev->cls) || ESR_EC(ev->esr) != EC_SYS64 : c->cls != ev->cls)
		return false;
	if ((c->filters & F_VCPU) && ev->vcpu != c->vcpu)
		return false;
	if ((c->filters & F_PC) && (pc < c->pc_lo || pc > c->pc_hi))
		return false;
	if ((c->filters & F_REG) && ev->addr != c->reg)
		return false;
	if ((c->filters & F_DIR) && (ev->op == OP_WRITE || ev->op == OP_MAINT) != c->write)
		return false;
	if ((c->filters & F_ADDR) && (ev->addr < c->addr_lo || ev->addr > c->addr_hi))
		return false;
	if ((c->filters & F_IMM) && ESR_HVC_IMM(ev->esr) != c->imm)
		return false;
	if ((c->filters & F_FN) && ev->addr != c->fn)
		return false;
	if ((c->filters & F_VALUE) && ev->value != c->value)
		return false;
	return true;
}

static void describe(const struct catchpoint *c, const struct trap_event *ev, u64 pc, char *buf, size_t size)
{
	char name[32];
	int n = snprintf(buf, size, "catchpoint %u: vCPU %u ", c->number, ev->vcpu);

	if (n < 0 || (size_t)n >= size)
		return;
	buf += n;
	size -= n;
	switch (ev->cls) {
	case TRAP_WFI:
	case TRAP_WFE:
		snprintf(buf, size, "executed %s at %#lx", ev->cls == TRAP_WFI ? "WFI" : "WFE", pc);
		break;
	case TRAP_HVC:
	case TRAP_SMC:
		snprintf(buf, size, "called %s #%u with x0 = %#lx at %#lx", ev->cls == TRAP_HVC ? "HVC" : "SMC",
			 ESR_HVC_IMM(ev->esr), ev->addr, pc);
		break;
	case TRAP_SCHED: {
		char out[16] = "the idle loop";
		if (ev->addr != SCHED_NO_VCPU)
			snprintf(out, sizeof(out), "vCPU %lu", ev->addr);
		snprintf(buf, size, "was switched in on pCPU %u after %s (%s) at %#lx", ev->pcpu, out,
			 ev->value < SCHED_REASONS ? sched_reason_names[ev->value] : "?", pc);
		break;
	}
	case TRAP_IRQ:
		snprintf(buf, size, "was given interrupt %lu (priority %#lx, %s) at %#lx", ev->addr, ev->value,
			 ev->outcome == OUT_FORWARDED ? "a physical one's, HW-linked" : "virtual", pc);
		break;
	case TRAP_MMIO:
		snprintf(buf, size, "%s %u bytes %s %#lx: %#lx at %#lx", ev->op == OP_WRITE ? "wrote" : "read",
			 ev->width, ev->op == OP_WRITE ? "to" : "from", ev->addr, ev->value, pc);
		break;
	default:
		snprintf(buf, size, "%s %s = %#lx at %#lx",
			 ev->op == OP_MAINT ? "executed" : ev->op == OP_WRITE ? "wrote" : "read",
			 sysreg_name(ev->addr, name, sizeof(name)), ev->value, pc);
	}
}

static void __attribute__((noinline, cold)) fire(struct catchpoint *c, struct trap_frame *f, struct trap_event *ev, u64 pc)
{
	char text[192];

	c->hits++;
	if (c->action == ACT_COUNT)
		return;
	describe(c, ev, pc, text, sizeof(text));
	if (c->action == ACT_LOG)
		debug_log(text);
	else
		debug_stop_for_event(f, ev, text, pc);
}

/* True if c matched (and fired, unless skipped): the search stops there. */
static bool try_one(struct catchpoint *c, struct trap_frame *f, struct trap_event *ev, u64 pc)
{
	if (!matches(c, ev, pc))
		return false;
	if (c->skip) {
		c->skip--;
		return false;
	}
	fire(c, f, ev, pc);
	return c->action == ACT_STOP; /* a log or a count lets the others look too */
}

void catch_check_slow(struct trap_frame *f, struct trap_event *ev, u64 pc_back)
{
	struct catchpoint *const *b = catch_index.bucket[catch_bucket(ev->addr)];
	u64 pc = trap_pc() - pc_back;

	for (unsigned w = 0; w < CATCH_BUCKET_WAYS; w++)
		if (b[w] && try_one(b[w], f, ev, pc))
			return;
	for (unsigned i = 0; i < catch_index.unkeyed_count; i++)
		if (try_one(catch_index.unkeyed[i], f, ev, pc))
			return;
}

/* ---- monitor commands ---------------------------------------------------------- */

/* op0:op1:CRn:CRm:op2, as the Arm ARM spells an encoding. */
static bool parse_encoding(const char *v, size_t len, u32 *enc)
{
	u64 f[5];
	size_t start = 0;

	for (unsigned i = 0; i < 5; i++) {
		size_t end = start;
		while (end < len && v[end] != ':')
			end++;
		if ((i < 4) != (end < len) || !parse_u64(v + start, end - start, &f[i]))
			return false;
		start = end + 1;
	}
	if (f[0] > 3 || f[1] > 7 || f[2] > 15 || f[3] > 15 || f[4] > 7)
		return false;
	*enc = SYSREG_ENC(f[0], f[1], f[2], f[3], f[4]);
	return true;
}

/* One key=value filter; false (with the reason printed) if it is not valid. */
static bool parse_filter(struct catchpoint *c, const char *tok, size_t len, const struct text_sink *out)
{
	size_t eq = 0;
	const char *v;
	size_t vlen;
	bool ok = false;

	while (eq < len && tok[eq] != '=')
		eq++;
	if (eq == len || eq == 0 || eq + 1 == len) {
		sink_printf(out, "hv catch: \"%.*s\" is not KEY=VALUE\n", (int)len, tok);
		return false;
	}
	v = tok + eq + 1;
	vlen = len - eq - 1;
#define KEY(k) (eq == sizeof(k) - 1 && !memcmp(tok, k, eq))
	if (KEY("vcpu")) {
		ok = parse_u64(v, vlen, &c->vcpu) && c->vcpu < vcpu_count;
		c->filters |= F_VCPU;
	} else if (KEY("pc")) {
		ok = parse_u64_range(v, vlen, &c->pc_lo, &c->pc_hi);
		c->filters |= F_PC;
	} else if (KEY("addr") || KEY("intid")) { /* an irq event's address is its INTID */
		ok = parse_u64_range(v, vlen, &c->addr_lo, &c->addr_hi) && (KEY("addr") || c->addr_hi < 1020);
		c->filters |= F_ADDR;
	} else if (KEY("reg")) {
		const struct sysreg_desc *d = sysreg_find_name(v, vlen);
		ok = d ? (c->reg = d->enc, true) : parse_encoding(v, vlen, &c->reg);
		c->filters |= F_REG;
	} else if (KEY("dir")) {
		ok = vlen == 1 && (v[0] == 'r' || v[0] == 'w');
		c->write = v[0] == 'w';
		c->filters |= F_DIR;
	} else if (KEY("imm")) {
		ok = parse_u64(v, vlen, &c->imm) && c->imm <= 0xffff;
		c->filters |= F_IMM;
	} else if (KEY("fn")) {
		ok = parse_u64(v, vlen, &c->fn);
		c->filters |= F_FN;
	} else if (KEY("value")) {
		ok = parse_u64(v, vlen, &c->value);
		c->filters |= F_VALUE;
	} else if (KEY("skip")) {
		ok = parse_u64(v, vlen, &c->skip);
	} else if (KEY("action")) {
		for (unsigned a = 0; a < ARRAY_SIZE(action_names); a++)
			if (strlen(action_names[a]) == vlen && !memcmp(v, action_names[a], vlen)) {
				c->action = a;
				ok = true;
			}
	} else {
		sink_printf(out, "hv catch: unknown filter \"%.*s\" (vcpu pc reg dir addr intid imm fn value skip action)\n",
			    (int)eq, tok);
		return false;
	}
#undef KEY
	if (!ok)
		sink_printf(out, "hv catch: bad value in \"%.*s\"\n", (int)len, tok);
	return ok;
}

/* Which filters make sense for which class: a filter that can never match is an error. */
static bool filters_fit(const struct catchpoint *c, const struct text_sink *out)
{
	u32 allowed = F_VCPU | F_PC;

	if (is_sysreg_class(c->cls))
		allowed |= F_REG | F_DIR | F_VALUE;
	else if (c->cls == TRAP_MMIO)
		allowed |= F_ADDR | F_DIR | F_VALUE;
	else if (c->cls == TRAP_HVC || c->cls == TRAP_SMC)
		allowed |= F_IMM | F_FN;
	else if (c->cls == TRAP_IRQ)
		allowed |= F_ADDR | F_VALUE; /* intid=, and value= its priority */
	if (c->filters & ~allowed) {
		sink_printf(out, "hv catch: that filter does not apply to %s\n", trap_class_name(c->cls));
		return false;
	}
	return true;
}

/*
 * A catchpoint's trapped range goes back to the guest with it, if the guest is
 * stopped (stage 2 changes only then); otherwise the range stays trapped and
 * forwarded, which the guest cannot tell apart, until `hv trap off mmio`.
 */
static void forget(struct catchpoint *c)
{
	if (c->watching && debug_guest_stopped())
		mmio_watch(c->addr_lo, c->addr_hi, false);
	c->used = false;
}

/* A class caught is trapped; when its last catchpoint goes, it is switched
 * back off if it was off before. */
static void update_trap_classes(void)
{
	u32 needed = 0;

	for (unsigned i = 0; i < MAX_CATCHPOINTS; i++)
		if (catchpoints[i].used && catchpoints[i].enabled && !trap_class_always_on(catchpoints[i].cls))
			needed |= BIT(catchpoints[i].cls);
	for (unsigned cls = 0; cls < TRAP_CLASS_COUNT; cls++) {
		bool on = trap_config.enabled & BIT(cls);
		if ((needed & BIT(cls)) && !on) {
			trap_class_set(cls, true);
			classes_we_turned_on |= BIT(cls);
		} else if (!(needed & BIT(cls)) && (classes_we_turned_on & BIT(cls))) {
			trap_class_set(cls, false);
			classes_we_turned_on &= ~BIT(cls);
		}
	}
	/* "sysreg" catches every system-register class: trap them all. */
	for (unsigned i = 0; i < MAX_CATCHPOINTS; i++) {
		if (!catchpoints[i].used || !catchpoints[i].enabled || catchpoints[i].cls != TRAP_SYSREG)
			continue;
		for (unsigned cls = TRAP_SYSREG; cls <= TRAP_PMU; cls++) {
			if (!(trap_config.enabled & BIT(cls))) {
				trap_class_set(cls, true);
				classes_we_turned_on |= BIT(cls);
			}
		}
	}
}

/* The trap path pays nothing while no catchpoint is on: the handlers that
 * check them are put into the exception-class table only then. */
static void recount(void)
{
	u32 classes = 0;

	for (unsigned i = 0; i < MAX_CATCHPOINTS; i++) {
		const struct catchpoint *c = &catchpoints[i];
		if (!c->used || !c->enabled)
			continue;
		/* "sysreg" stands for every system-register class */
		classes |= c->cls == TRAP_SYSREG ? BIT(TRAP_SYSREG) | BIT(TRAP_ID) | BIT(TRAP_VM) | BIT(TRAP_CACHE) |
							   BIT(TRAP_DEBUG) | BIT(TRAP_PMU)
						 : BIT(c->cls);
	}
	index_build();
	catch_index.classes = classes;
	trap_catching(classes);
}

int catch_cmd_add(const struct text_sink *out, const char *args)
{
	struct catchpoint c = { 0 }, *slot = NULL;
	size_t n = word_len(args);
	int cls = trap_class_by_name(args, n);

	if (!n) {
		sink_printf(out, "hv catch: which class? (monitor hv trap list shows them)\n");
		return 1;
	}
	if (cls < 0 || (cls > TRAP_MMIO && cls != TRAP_IRQ && cls != TRAP_SCHED)) {
		sink_printf(out, "hv catch: unknown class \"%.*s\"; monitor hv trap list shows them\n", (int)n, args);
		return 1;
	}
	c.cls = cls;
	for (args = skip_spaces(args + n); *args; args = skip_spaces(args + n)) {
		n = word_len(args);
		if (!parse_filter(&c, args, n, out))
			return 1;
	}
	if (!filters_fit(&c, out))
		return 1;
	/* An MMIO catchpoint on a device nothing traps yet traps its range for as
	 * long as it exists (stage 2 changes only with the guest stopped). */
	if (c.cls == TRAP_MMIO && (c.filters & F_ADDR) && !mmio_is_trapped(c.addr_lo, c.addr_hi)) {
		const char *why = debug_guest_stopped() ? mmio_watch(c.addr_lo, c.addr_hi, true)
							: "stop the guest first (Ctrl-C) so the range can be trapped";
		if (why) {
			sink_printf(out, "hv catch mmio: %s\n", why);
			return 1;
		}
		c.watching = true;
	}
	for (unsigned i = 0; i < MAX_CATCHPOINTS && !slot; i++)
		if (!catchpoints[i].used)
			slot = &catchpoints[i];
	if (!slot) {
		sink_printf(out, "hv catch: all %u catchpoints are in use; delete one first\n", MAX_CATCHPOINTS);
		return 1;
	}
	c.used = c.enabled = true;
	c.number = next_number++;
	*slot = c;
	update_trap_classes();
	recount();
	sink_printf(out, "catchpoint %u: %s\n", c.number, trap_class_name(c.cls));
	return 0;
}

/* "hvc,fn=0x1234": commas stand for the spaces of the monitor command. */
void catch_from_bootargs(const char *spec, size_t len)
{
	char cmd[128];

	if (len >= sizeof(cmd)) {
		printk("trapvisor: trapvisor.catch too long\n");
		return;
	}
	for (size_t i = 0; i < len; i++)
		cmd[i] = spec[i] == ',' ? ' ' : spec[i];
	cmd[len] = '\0';
	catch_cmd_add(&console_sink, cmd);
}

int catch_cmd_list(const struct text_sink *out, const char *args)
{
	bool any = false;

	for (unsigned i = 0; i < MAX_CATCHPOINTS; i++) {
		const struct catchpoint *c = &catchpoints[i];
		char name[32];
		if (!c->used)
			continue;
		any = true;
		sink_printf(out, "%-3u %-6s %-8s %-5s hits %lu", c->number, trap_class_name(c->cls),
			    c->enabled ? "enabled" : "disabled", action_names[c->action], c->hits);
		if (c->filters & F_VCPU)
			sink_printf(out, " vcpu=%lu", c->vcpu);
		if (c->filters & F_PC)
			sink_printf(out, " pc=%#lx-%#lx", c->pc_lo, c->pc_hi);
		if (c->filters & F_REG)
			sink_printf(out, " reg=%s", sysreg_name(c->reg, name, sizeof(name)));
		if (c->filters & F_DIR)
			sink_printf(out, " dir=%c", c->write ? 'w' : 'r');
		if ((c->filters & F_ADDR) && c->cls == TRAP_IRQ)
			sink_printf(out, " intid=%lu-%lu", c->addr_lo, c->addr_hi);
		else if (c->filters & F_ADDR)
			sink_printf(out, " addr=%#lx-%#lx", c->addr_lo, c->addr_hi);
		if (c->filters & F_IMM)
			sink_printf(out, " imm=%lu", c->imm);
		if (c->filters & F_FN)
			sink_printf(out, " fn=%#lx", c->fn);
		if (c->filters & F_VALUE)
			sink_printf(out, " value=%#lx", c->value);
		if (c->skip)
			sink_printf(out, " skip=%lu", c->skip);
		sink_printf(out, "\n");
	}
	if (!any)
		sink_printf(out, "no catchpoints\n");
	return 0;
}

/* N, or "all" when allow_all. */
static struct catchpoint *find_numbered(const char *args, const struct text_sink *out, const char *verb)
{
	u64 n;
	size_t len = word_len(args);

	if (!parse_u64(args, len, &n)) {
		sink_printf(out, "hv catch %s: \"%.*s\" is not a catchpoint number\n", verb, (int)len, args);
		return NULL;
	}
	for (unsigned i = 0; i < MAX_CATCHPOINTS; i++)
		if (catchpoints[i].used && catchpoints[i].number == n)
			return &catchpoints[i];
	sink_printf(out, "hv catch %s: no catchpoint %lu\n", verb, n);
	return NULL;
}

int catch_cmd_delete(const struct text_sink *out, const char *args)
{
	struct catchpoint *c;

	if (word_len(args) == 3 && !memcmp(args, "all", 3)) {
		for (unsigned i = 0; i < MAX_CATCHPOINTS; i++)
			if (catchpoints[i].used)
				forget(&catchpoints[i]);
		sink_printf(out, "all catchpoints deleted\n");
	} else if ((c = find_numbered(args, out, "delete"))) {
		sink_printf(out, "catchpoint %u deleted\n", c->number);
		forget(c);
	} else {
		return 1;
	}
	update_trap_classes();
	recount();
	return 0;
}

static int set_enabled(const struct text_sink *out, const char *args, bool on)
{
	struct catchpoint *c = find_numbered(args, out, on ? "enable" : "disable");

	if (!c)
		return 1;
	c->enabled = on;
	update_trap_classes();
	recount();
	sink_printf(out, "catchpoint %u %s\n", c->number, on ? "enabled" : "disabled");
	return 0;
}

int catch_cmd_enable(const struct text_sink *out, const char *args)
{
	return set_enabled(out, args, true);
}

int catch_cmd_disable(const struct text_sink *out, const char *args)
{
	return set_enabled(out, args, false);
}
