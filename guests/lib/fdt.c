/*
 * Just enough of a flattened device tree reader for the test guests to check
 * what the hypervisor handed them: a property by node path, and the CPUs'
 * reg values. The blob is big-endian (devicetree specification, chapter 5).
 */
#include "guest.h"

#define FDT_MAGIC 0xd00dfeedu
#define FDT_BEGIN_NODE 1
#define FDT_END_NODE 2
#define FDT_PROP 3
#define FDT_NOP 4
#define FDT_END 9

struct fdt_header {
	u32 magic, totalsize, off_dt_struct, off_dt_strings, off_mem_rsvmap, version;
	u32 last_comp_version, boot_cpuid_phys, size_dt_strings, size_dt_struct;
};

u32 fdt_be32(const void *p)
{
	const u8 *b = p;

	return (u32)b[0] << 24 | (u32)b[1] << 16 | (u32)b[2] << 8 | b[3];
}

bool fdt_valid(u64 dtb)
{
	return dtb && !(dtb & 7) && fdt_be32(&((const struct fdt_header *)dtb)->magic) == FDT_MAGIC;
}

/*
 * Walks the structure block, calling fn for every property with the path of
 * its node ("/" for the root, "/cpus/cpu@1", ...); stops when fn returns true.
 */
bool fdt_walk(u64 dtb, fdt_prop_fn fn, void *ctx)
{
	const struct fdt_header *h = (const struct fdt_header *)dtb;
	const u8 *p = (const u8 *)dtb + fdt_be32(&h->off_dt_struct);
	const char *strings = (const char *)dtb + fdt_be32(&h->off_dt_strings);
	char path[128] = "";
	size_t ends[16], depth = 0;

	if (!fdt_valid(dtb))
		return false;
	for (;;) {
		u32 token = fdt_be32(p);
		p += 4;
		if (token == FDT_BEGIN_NODE) {
			const char *name = (const char *)p;
			size_t len = strlen(path), n = strlen(name);
			if (depth == ARRAY_SIZE(ends) || len + n + 2 > sizeof(path))
				return false;
			ends[depth++] = len;
			if (depth > 1) { /* the root's name is empty: its path is "/" */
				if (len != 1)
					path[len++] = '/';
				memcpy(path + len, name, n + 1);
			} else {
				path[0] = '/';
				path[1] = '\0';
			}
			p += (n + 1 + 3) & ~3ul;
		} else if (token == FDT_END_NODE) {
			if (!depth)
				return false;
			path[ends[--depth]] = '\0';
		} else if (token == FDT_PROP) {
			u32 len = fdt_be32(p), nameoff = fdt_be32(p + 4);
			if (fn(path, strings + nameoff, p + 8, len, ctx))
				return true;
			p += 8 + ((len + 3) & ~3u);
		} else if (token != FDT_NOP) {
			return false; /* FDT_END or garbage */
		}
	}
}

struct prop_query {
	const char *path, *name;
	const u8 *val;
	u32 len;
};

static bool prop_match(const char *path, const char *name, const u8 *val, u32 len, void *ctx)
{
	struct prop_query *q = ctx;

	if (strcmp(path, q->path) || strcmp(name, q->name))
		return false;
	q->val = val;
	q->len = len;
	return true;
}

const void *fdt_prop(u64 dtb, const char *path, const char *name, u32 *len)
{
	struct prop_query q = { path, name, NULL, 0 };

	if (!fdt_walk(dtb, prop_match, &q))
		return NULL;
	if (len)
		*len = q.len;
	return q.val;
}

/* A property of one or two cells as a number (reg, linux,initrd-start, ...). */
bool fdt_prop_u64(u64 dtb, const char *path, const char *name, u64 *out)
{
	u32 len;
	const u8 *v = fdt_prop(dtb, path, name, &len);

	if (!v || (len != 4 && len != 8))
		return false;
	*out = len == 4 ? fdt_be32(v) : (u64)fdt_be32(v) << 32 | fdt_be32(v + 4);
	return true;
}

struct cpu_query {
	u64 *regs;
	unsigned max, count;
};

static bool cpu_reg(const char *path, const char *name, const u8 *val, u32 len, void *ctx)
{
	struct cpu_query *q = ctx;

	if (strncmp(path, "/cpus/cpu@", 10) || strcmp(name, "reg") || q->count == q->max)
		return false;
	if (len == 4)
		q->regs[q->count++] = fdt_be32(val);
	else if (len == 8)
		q->regs[q->count++] = (u64)fdt_be32(val) << 32 | fdt_be32(val + 4);
	return false;
}

/* The reg of every /cpus/cpu@N node, in the order of the tree: their MPIDRs. */
unsigned fdt_cpu_regs(u64 dtb, u64 *regs, unsigned max)
{
	struct cpu_query q = { regs, max, 0 };

	fdt_walk(dtb, cpu_reg, &q);
	return q.count;
}

/*
 * The device tree's CPUs with the one running this first, at most max: their
 * MPIDRs into mpidr[], how many. *found says whether this CPU was among them.
 */
unsigned fdt_cpus_self_first(u64 dtb, u64 *mpidr, unsigned max, bool *found)
{
	u64 regs[16], self = read_sysreg(mpidr_el1) & MPIDR_AFF_MASK;
	unsigned n = fdt_cpu_regs(dtb, regs, 16), count = 1;

	*found = false;
	mpidr[0] = self;
	for (unsigned i = 0; i < n; i++) {
		if (regs[i] == self)
			*found = true;
		else if (count < max)
			mpidr[count++] = regs[i];
	}
	return count;
}
