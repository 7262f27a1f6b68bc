/*
 * The hypervisor's options come from /chosen/bootargs:
 *   trapvisor.guest=ADDR trapvisor.initrd=ADDR,SIZE ... -- <guest bootargs>
 * Words before "--" that start with "trapvisor." are ours; every other word is
 * the guest's. An option we do not understand is reported, never guessed at.
 */
#include "hv.h"
#include "lib.h"
#include "console.h"
#include "platform.h"
#include "sysreg.h"
#include "catch.h"

#define PREFIX "trapvisor."

static char guest_cmdline[2048];
u32 bootargs_trap_classes;
bool bootargs_trace_off;
/* trapvisor.vcpus=N: how many vCPUs the guest sees; 0 if not given (one per pCPU). */
unsigned bootargs_vcpus;

/* Catchpoints named at boot are made once the vCPUs exist (bootargs_apply). */
static struct {
	const char *text;
	size_t len;
} pending_catch[16];
static unsigned pending_catches;

void bootargs_apply(void)
{
	for (unsigned i = 0; i < pending_catches; i++)
		catch_from_bootargs(pending_catch[i].text, pending_catch[i].len);
	if (bootargs_trace_off)
		trace_set(false);
}

static void cmdline_append(const char *w, size_t len)
{
	size_t used = strlen(guest_cmdline);

	if (used + len + 2 > sizeof(guest_cmdline)) {
		printk("trapvisor: guest command line too long, dropped \"%.*s\"\n", (int)len, w);
		return;
	}
	if (used)
		guest_cmdline[used++] = ' ';
	memcpy(guest_cmdline + used, w, len);
	guest_cmdline[used + len] = '\0';
}

/* Split "a,b,c" (len bytes) and call fn on each piece; false if fn refuses one. */
static bool for_each_item(const char *s, size_t len, bool (*fn)(const char *, size_t, unsigned, void *),
			  void *ctx)
{
	unsigned i = 0;

	while (len) {
		size_t n = 0;
		while (n < len && s[n] != ',')
			n++;
		if (!fn(s, n, i++, ctx))
			return false;
		s += n;
		len -= n;
		if (len) {
			s++;
			len--;
		}
	}
	return true;
}

static bool take_trap_class(const char *s, size_t n, unsigned i, void *ctx)
{
	int cls = trap_class_by_name(s, n);

	if (cls < 0)
		return false;
	bootargs_trap_classes |= 1u << cls;
	return true;
}

static bool take_vmpidr(const char *s, size_t n, unsigned i, void *ctx)
{
	u64 v;

	if (i >= MAX_VCPUS || !parse_u64(s, n, &v))
		return false;
	guest.vmpidr[i] = v;
	return true;
}

static bool take_initrd(const char *s, size_t n, unsigned i, void *ctx)
{
	return i < 2 && parse_u64(s, n, i == 0 ? &guest.initrd : &guest.initrd_size);
}

/* NAME:VALUE, a virtual value for a trapped ID register; turns the id class on. */
static bool take_sysreg_value(const char *s, size_t n)
{
	const struct sysreg_desc *d;
	size_t colon = 0;
	u64 v;

	while (colon < n && s[colon] != ':')
		colon++;
	d = sysreg_find_name(s, colon);
	if (!d || colon == n || !parse_u64(s + colon + 1, n - colon - 1, &v) || !sysreg_set_virtual(d, v))
		return false;
	bootargs_trap_classes |= 1u << TRAP_ID;
	return true;
}

static bool take_option(const char *key, size_t klen, const char *val, size_t vlen)
{
	u64 v;

#define KEY(k) (klen == sizeof(k) - 1 && !memcmp(key, k, klen))
	if (KEY("guest"))
		return parse_u64(val, vlen, &guest.image);
	if (KEY("initrd"))
		return for_each_item(val, vlen, take_initrd, NULL);
	if (KEY("vpidr")) {
		if (!parse_u64(val, vlen, &v) || v >> 32)
			return false;
		guest.vpidr = v;
		guest.vpidr_set = true;
		return true;
	}
	if (KEY("vmpidr")) {
		guest.vmpidr_set = true;
		return for_each_item(val, vlen, take_vmpidr, NULL);
	}
	if (KEY("sysreg"))
		return take_sysreg_value(val, vlen);
	if (KEY("vcpus")) {
		if (!parse_u64(val, vlen, &v) || v < 1 || v > MAX_VCPUS) {
			printk("trapvisor: trapvisor.vcpus=%.*s: the guest can have 1 to %d vCPUs\n", (int)vlen, val,
			       MAX_VCPUS);
			return false;
		}
		bootargs_vcpus = v;
		return true;
	}
	if (KEY("catch")) {
		if (pending_catches == ARRAY_SIZE(pending_catch))
			return false;
		pending_catch[pending_catches].text = val;
		pending_catch[pending_catches++].len = vlen;
		return true;
	}
	if (KEY("trace")) {
		bootargs_trace_off = vlen == 3 && !memcmp(val, "off", 3);
		return bootargs_trace_off || (vlen == 2 && !memcmp(val, "on", 2));
	}
	if (KEY("trap"))
		return for_each_item(val, vlen, take_trap_class, NULL);
	if (KEY("hypercalls")) {
		guest.hypercalls = vlen == 2 && !memcmp(val, "on", 2);
		return guest.hypercalls || (vlen == 3 && !memcmp(val, "off", 3));
	}
	if (KEY("stats")) {
		guest.stats_at_exit = true;
		return vlen == 0;
	}
#undef KEY
	return false;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

void bootargs_parse(const char *args)
{
	bool ours = true;

	guest_cmdline[0] = '\0';
	guest.cmdline = guest_cmdline;
	while (*args) {
		const char *w = args;
		size_t len = 0;

		while (is_space(*w))
			w++;
		while (w[len] && !is_space(w[len]))
			len++;
		args = w + len;
		if (!len)
			continue;
		if (ours && len == 2 && w[0] == '-' && w[1] == '-') {
			ours = false;
			continue;
		}
		if (ours && len > sizeof(PREFIX) - 1 && !memcmp(w, PREFIX, sizeof(PREFIX) - 1)) {
			const char *key = w + sizeof(PREFIX) - 1;
			size_t klen = 0;
			while (klen < len - (sizeof(PREFIX) - 1) && key[klen] != '=')
				klen++;
			const char *val = key + klen + (key[klen] == '=');
			size_t vlen = w + len - val;
			if (!take_option(key, klen, val, vlen))
				printk("trapvisor: ignoring bad option \"%.*s\"\n", (int)len, w);
			continue;
		}
		cmdline_append(w, len);
	}
}
