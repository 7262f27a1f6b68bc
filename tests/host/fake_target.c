/*
 * The fake target behind the gdbstub host tests and the fuzzer.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "fake_target.h"

static const struct gdb_reg_desc fake_extra[FAKE_EXTRA_REGS] = {
	{ "sctlr_el1", 64, GDB_FEATURE_SYSTEM, NULL },
	{ "esr", 64, GDB_FEATURE_HYPERVISOR, NULL },
	{ "tcr_el1", 64, GDB_FEATURE_SYSTEM, "uint64" },
	{ "ec", 32, GDB_FEATURE_HYPERVISOR, "uint32" },
	{ "bad name", 64, GDB_FEATURE_SYSTEM, NULL }, /* left out of the XML */
	{ "seq", 64, GDB_FEATURE_HYPERVISOR, NULL },
};

static struct fake_target *fake_of(void *ctx)
{
	return ctx;
}

static void fake_write(void *ctx, const uint8_t *buf, size_t len)
{
	struct fake_target *t = fake_of(ctx);

	if (len > FAKE_OUT_SIZE - 1 - t->out_len)
		len = FAKE_OUT_SIZE - 1 - t->out_len;
	memcpy(t->out + t->out_len, buf, len);
	t->out_len += len;
	t->out[t->out_len] = '\0';
}

static unsigned fake_vcpu_count(void *ctx)
{
	return fake_of(ctx)->nvcpus;
}

static void fake_vcpu_describe(void *ctx, unsigned vcpu, char *buf, size_t size)
{
	struct fake_target *t = fake_of(ctx);

	if (t->vcpu_text)
		snprintf(buf, size, "%s", t->vcpu_text);
	else
		snprintf(buf, size, "cpu%u EL1 running", vcpu);
}

static bool fake_reg_describe(void *ctx, unsigned index, struct gdb_reg_desc *out)
{
	if (index >= FAKE_EXTRA_REGS)
		return false;
	*out = fake_extra[index];
	return true;
}

static bool fake_reg_read(void *ctx, unsigned vcpu, unsigned regno,
			  uint8_t *buf, size_t size)
{
	struct fake_target *t = fake_of(ctx);

	if (vcpu >= t->nvcpus || regno >= FAKE_NUM_REGS || size > 16 ||
	    (int)regno == t->unavailable_reg)
		return false;
	memcpy(buf, t->regs[vcpu][regno], size);
	return true;
}

static bool fake_reg_write(void *ctx, unsigned vcpu, unsigned regno,
			   const uint8_t *buf, size_t size)
{
	struct fake_target *t = fake_of(ctx);

	if (vcpu >= t->nvcpus || regno >= FAKE_NUM_REGS || size > 16 ||
	    (int)regno == t->readonly_reg)
		return false;
	memcpy(t->regs[vcpu][regno], buf, size);
	return true;
}

/* Bytes of [addr, addr + len) inside the region, from addr on. */
static size_t fake_mem_span(uint64_t addr, size_t len)
{
	uint64_t left;

	if (addr < FAKE_MEM_BASE || addr >= FAKE_MEM_BASE + FAKE_MEM_SIZE)
		return 0;
	left = FAKE_MEM_BASE + FAKE_MEM_SIZE - addr;
	return len < left ? len : (size_t)left;
}

static size_t fake_mem_read(void *ctx, unsigned vcpu, uint64_t addr,
			    uint8_t *buf, size_t len)
{
	struct fake_target *t = fake_of(ctx);
	size_t n = fake_mem_span(addr, len);

	if (n)
		memcpy(buf, t->mem + (addr - FAKE_MEM_BASE), n);
	return n;
}

static size_t fake_mem_write(void *ctx, unsigned vcpu, uint64_t addr,
			     const uint8_t *buf, size_t len)
{
	struct fake_target *t = fake_of(ctx);
	size_t n = fake_mem_span(addr, len);

	t->mem_writes++;
	if (n)
		memcpy(t->mem + (addr - FAKE_MEM_BASE), buf, n);
	return n;
}

static void fake_resume(void *ctx, const struct gdb_action *actions,
			unsigned count)
{
	struct fake_target *t = fake_of(ctx);

	t->resume_calls++;
	t->action_count = count;
	memcpy(t->actions, actions, count * sizeof(*actions));
}

static void fake_interrupt(void *ctx)
{
	fake_of(ctx)->interrupt_calls++;
}

static enum gdb_bp_result fake_bp(struct fake_target *t, bool insert, unsigned vcpu,
				  enum gdb_bp_type type, uint64_t addr,
				  uint64_t kind)
{
	t->bp_calls++;
	t->bp_last.insert = insert;
	t->bp_last.vcpu = vcpu;
	t->bp_last.type = type;
	t->bp_last.addr = addr;
	t->bp_last.kind = kind;
	return t->bp_result;
}

static enum gdb_bp_result fake_bp_insert(void *ctx, unsigned vcpu, enum gdb_bp_type type,
					 uint64_t addr, uint64_t kind)
{
	return fake_bp(fake_of(ctx), true, vcpu, type, addr, kind);
}

static enum gdb_bp_result fake_bp_remove(void *ctx, unsigned vcpu, enum gdb_bp_type type,
					 uint64_t addr, uint64_t kind)
{
	return fake_bp(fake_of(ctx), false, vcpu, type, addr, kind);
}

static int fake_monitor(void *ctx, const char *cmd, gdb_output_fn *out,
			void *out_arg)
{
	struct fake_target *t = fake_of(ctx);
	size_t i;

	t->monitor_calls++;
	snprintf(t->monitor_cmd, sizeof(t->monitor_cmd), "%s", cmd);
	for (i = 0; t->monitor_output && i < t->monitor_repeat; i++)
		out(out_arg, t->monitor_output, strlen(t->monitor_output));
	return t->monitor_result;
}

static void fake_detach(void *ctx)
{
	fake_of(ctx)->detach_calls++;
}

static void fake_kill(void *ctx)
{
	fake_of(ctx)->kill_calls++;
}

const struct gdb_target_ops fake_target_ops = {
	.write = fake_write,
	.vcpu_count = fake_vcpu_count,
	.vcpu_describe = fake_vcpu_describe,
	.reg_describe = fake_reg_describe,
	.reg_read = fake_reg_read,
	.reg_write = fake_reg_write,
	.mem_read = fake_mem_read,
	.mem_write = fake_mem_write,
	.resume = fake_resume,
	.interrupt = fake_interrupt,
	.bp_insert = fake_bp_insert,
	.bp_remove = fake_bp_remove,
	.monitor = fake_monitor,
	.detach = fake_detach,
	.kill = fake_kill,
};

void fake_set_reg(struct fake_target *t, unsigned vcpu, unsigned regno, uint64_t v)
{
	unsigned i;

	for (i = 0; i < 8; i++)
		t->regs[vcpu][regno][i] = (uint8_t)(v >> (8 * i));
}

uint64_t fake_get_reg(struct fake_target *t, unsigned vcpu, unsigned regno)
{
	uint64_t v = 0;
	unsigned i;

	for (i = 0; i < 8; i++)
		v |= (uint64_t)t->regs[vcpu][regno][i] << (8 * i);
	return v;
}

/* The initial register file and memory, computed once: the fuzzer calls
 * fake_init for every input and the loops would dominate its time. */
static void fake_fill_template(uint8_t regs[FAKE_MAX_VCPUS][FAKE_NUM_REGS][16],
			       uint8_t *mem)
{
	unsigned v, r, i;

	for (v = 0; v < FAKE_MAX_VCPUS; v++)
		for (r = 0; r < FAKE_NUM_REGS; r++)
			for (i = 0; i < 16; i++)
				regs[v][r][i] = (uint8_t)(v * 16 + r + i);
	for (i = 0; i < FAKE_MEM_SIZE; i++)
		mem[i] = (uint8_t)(i * 7);
}

void fake_init(struct fake_target *t, unsigned nvcpus)
{
	static uint8_t regs[FAKE_MAX_VCPUS][FAKE_NUM_REGS][16];
	static uint8_t mem[FAKE_MEM_SIZE];
	static bool filled;
	unsigned v;

	if (!filled) {
		fake_fill_template(regs, mem);
		filled = true;
	}
	memset(t, 0, offsetof(struct fake_target, out_len));
	memcpy(t->regs, regs, sizeof(regs));
	memcpy(t->mem, mem, sizeof(mem));
	t->out_len = 0;
	t->out[0] = '\0';
	t->nvcpus = nvcpus;
	t->unavailable_reg = -1;
	t->readonly_reg = -1;
	t->monitor_repeat = 1;
	for (v = 0; v < FAKE_MAX_VCPUS; v++) {
		fake_set_reg(t, v, GDB_REG_PC, FAKE_MEM_BASE + 0x100 + 4 * v);
		fake_set_reg(t, v, GDB_REG_SP, FAKE_MEM_BASE + 0x3000 - 0x100 * v);
		fake_set_reg(t, v, GDB_REG_CPSR, 0x3c5);
	}
	gdbstub_init(&t->stub, &fake_target_ops, t, false);
}

void fake_feed(struct fake_target *t, const void *bytes, size_t len)
{
	const uint8_t *b = bytes;
	size_t i;

	for (i = 0; i < len; i++)
		gdbstub_handle_byte(&t->stub, b[i]);
}

void fake_feed_str(struct fake_target *t, const char *s)
{
	fake_feed(t, s, strlen(s));
}

void fake_send(struct fake_target *t, const void *payload, size_t len)
{
	const uint8_t *p = payload;
	uint8_t sum = 0;
	char tail[4];
	size_t i;

	for (i = 0; i < len; i++)
		sum = (uint8_t)(sum + p[i]);
	snprintf(tail, sizeof(tail), "#%02x", sum);
	fake_feed(t, "$", 1);
	fake_feed(t, payload, len);
	fake_feed(t, tail, 3);
}

void fake_send_str(struct fake_target *t, const char *payload)
{
	fake_send(t, payload, strlen(payload));
}

void fake_clear_output(struct fake_target *t)
{
	t->out_len = 0;
	t->out[0] = '\0';
}

static int fake_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

const char *fake_reply(struct fake_target *t, unsigned index, unsigned *npackets)
{
	static char payload[FAKE_OUT_SIZE];
	const char *result = NULL;
	size_t i = 0;
	unsigned n = 0;

	while (i < t->out_len) {
		size_t o = 0, start;
		uint8_t sum = 0;
		int hi, lo;

		if (t->out[i] != '$') {
			i++; /* acks */
			continue;
		}
		start = ++i;
		while (i < t->out_len && t->out[i] != '#')
			sum = (uint8_t)(sum + t->out[i++]);
		if (i + 2 >= t->out_len)
			return NULL;
		hi = fake_hexval(t->out[i + 1]);
		lo = fake_hexval(t->out[i + 2]);
		if (hi < 0 || lo < 0 || (uint8_t)(hi * 16 + lo) != sum)
			return NULL;
		if (n == index) {
			size_t j;

			for (j = start; j < i; j++) {
				char c = t->out[j];

				if (c == '*' && o > 0 && j + 1 < i) {
					int extra = t->out[++j] - 29;

					for (; extra > 0; extra--, o++)
						payload[o] = payload[o - 1];
					continue;
				}
				payload[o++] = c;
			}
			payload[o] = '\0';
			result = payload;
		}
		n++;
		i += 3;
	}
	if (npackets)
		*npackets = n;
	return result;
}

const char *fake_exchange(struct fake_target *t, const char *payload)
{
	fake_clear_output(t);
	fake_send_str(t, payload);
	return fake_reply(t, 0, NULL);
}

void fake_hex(const void *data, size_t len, char *out)
{
	const uint8_t *d = data;
	size_t i;

	for (i = 0; i < len; i++)
		sprintf(out + 2 * i, "%02x", d[i]);
	out[2 * len] = '\0';
}
