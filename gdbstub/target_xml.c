/*
 * The target description (target.xml) sent through qXfer:features:read.
 *
 * It is generated on every request and only the window GDB asked for is
 * kept, so the document needs no buffer of its own and cannot go stale
 * against the target's register list. Register numbers are explicit
 * (regnum=) and are the numbers of p/P, g/G and the stop replies.
 */
#include "gdbstub_priv.h"

/* Register features GDB knows by name: core and fpu are required for GDB to
 * accept the description as AArch64. */
static const char target_xml_head[] =
	"<?xml version=\"1.0\"?>\n"
	"<!DOCTYPE target SYSTEM \"gdb-target.dtd\">\n"
	"<target version=\"1.0\">\n"
	"<architecture>aarch64</architecture>\n"
	"<feature name=\"org.gnu.gdb.aarch64.core\">\n"
	/* PSTATE as saved in SPSR_ELx (Arm ARM C5.2.18 SPSR_EL1). */
	"<flags id=\"cpsr_flags\" size=\"4\">\n"
	"<field name=\"SP\" start=\"0\" end=\"0\"/>\n"
	"<field name=\"EL\" start=\"2\" end=\"3\"/>\n"
	"<field name=\"nRW\" start=\"4\" end=\"4\"/>\n"
	"<field name=\"F\" start=\"6\" end=\"6\"/>\n"
	"<field name=\"I\" start=\"7\" end=\"7\"/>\n"
	"<field name=\"A\" start=\"8\" end=\"8\"/>\n"
	"<field name=\"D\" start=\"9\" end=\"9\"/>\n"
	"<field name=\"IL\" start=\"20\" end=\"20\"/>\n"
	"<field name=\"SS\" start=\"21\" end=\"21\"/>\n"
	"<field name=\"PAN\" start=\"22\" end=\"22\"/>\n"
	"<field name=\"V\" start=\"28\" end=\"28\"/>\n"
	"<field name=\"C\" start=\"29\" end=\"29\"/>\n"
	"<field name=\"Z\" start=\"30\" end=\"30\"/>\n"
	"<field name=\"N\" start=\"31\" end=\"31\"/>\n"
	"</flags>\n";

/* The vector view GDB expects of v0-v31 (the same shape as GDB's own
 * aarch64-fpu feature), so that $v0.d.u and friends work. */
static const char target_xml_fpu_types[] =
	"<feature name=\"org.gnu.gdb.aarch64.fpu\">\n"
	"<vector id=\"v2d\" type=\"ieee_double\" count=\"2\"/>\n"
	"<vector id=\"v2u\" type=\"uint64\" count=\"2\"/>\n"
	"<vector id=\"v2i\" type=\"int64\" count=\"2\"/>\n"
	"<vector id=\"v4f\" type=\"ieee_single\" count=\"4\"/>\n"
	"<vector id=\"v4u\" type=\"uint32\" count=\"4\"/>\n"
	"<vector id=\"v4i\" type=\"int32\" count=\"4\"/>\n"
	"<vector id=\"v8u\" type=\"uint16\" count=\"8\"/>\n"
	"<vector id=\"v8i\" type=\"int16\" count=\"8\"/>\n"
	"<vector id=\"v16u\" type=\"uint8\" count=\"16\"/>\n"
	"<vector id=\"v16i\" type=\"int8\" count=\"16\"/>\n"
	"<vector id=\"v1u\" type=\"uint128\" count=\"1\"/>\n"
	"<vector id=\"v1i\" type=\"int128\" count=\"1\"/>\n"
	"<union id=\"vnd\"><field name=\"f\" type=\"v2d\"/>"
	"<field name=\"u\" type=\"v2u\"/><field name=\"s\" type=\"v2i\"/></union>\n"
	"<union id=\"vns\"><field name=\"f\" type=\"v4f\"/>"
	"<field name=\"u\" type=\"v4u\"/><field name=\"s\" type=\"v4i\"/></union>\n"
	"<union id=\"vnh\"><field name=\"u\" type=\"v8u\"/>"
	"<field name=\"s\" type=\"v8i\"/></union>\n"
	"<union id=\"vnb\"><field name=\"u\" type=\"v16u\"/>"
	"<field name=\"s\" type=\"v16i\"/></union>\n"
	"<union id=\"vnq\"><field name=\"u\" type=\"v1u\"/>"
	"<field name=\"s\" type=\"v1i\"/></union>\n"
	"<union id=\"aarch64v\"><field name=\"d\" type=\"vnd\"/>"
	"<field name=\"s\" type=\"vns\"/><field name=\"h\" type=\"vnh\"/>"
	"<field name=\"b\" type=\"vnb\"/><field name=\"q\" type=\"vnq\"/></union>\n";

/* Target-defined features; the group makes `info registers <group>` work. */
static const struct {
	const char *feature;
	const char *group;
} target_xml_extra[] = {
	[GDB_FEATURE_SYSTEM] = { "org.trapvisor.sysregs", "system" },
	[GDB_FEATURE_HYPERVISOR] = { "org.trapvisor.hypervisor", "hypervisor" },
};

/* A window [offset, offset + len) of the document being generated. */
struct target_xml_out {
	char *out;
	size_t room, used;
	uint64_t offset, len;
	uint64_t pos;      /* bytes of the document generated so far */
	uint64_t emitted;  /* of which went into out */
	bool full;
};

static void target_xml_putc(struct target_xml_out *x, char c)
{
	uint64_t at = x->pos++;
	size_t consumed, n;

	if (at < x->offset || x->full)
		return;
	if (at - x->offset >= x->len) {
		x->full = true;
		return;
	}
	n = util_escape((const uint8_t *)&c, 1, x->out + x->used,
			x->room - x->used, &consumed);
	if (!consumed) {
		x->full = true;
		return;
	}
	x->used += n;
	x->emitted++;
}

static void target_xml_puts(struct target_xml_out *x, const char *str)
{
	while (*str)
		target_xml_putc(x, *str++);
}

static void target_xml_put_dec(struct target_xml_out *x, unsigned v)
{
	char digits[10];
	unsigned n = 0;

	do {
		digits[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		target_xml_putc(x, digits[--n]);
}

static void target_xml_put_reg(struct target_xml_out *x, const char *prefix,
			       unsigned index, const char *name, unsigned bits,
			       const char *type, unsigned regnum,
			       const char *group)
{
	target_xml_puts(x, "<reg name=\"");
	target_xml_puts(x, prefix);
	if (!name)
		target_xml_put_dec(x, index);
	else
		target_xml_puts(x, name);
	target_xml_puts(x, "\" bitsize=\"");
	target_xml_put_dec(x, bits);
	target_xml_puts(x, "\" type=\"");
	target_xml_puts(x, type);
	target_xml_puts(x, "\" regnum=\"");
	target_xml_put_dec(x, regnum);
	if (group) {
		target_xml_puts(x, "\" group=\"");
		target_xml_puts(x, group);
	}
	target_xml_puts(x, "\"/>\n");
}

/* Names come from the target and land inside XML attributes: only plain
 * identifiers are let through, so the document stays well-formed. */
static bool target_xml_ident_ok(const char *s)
{
	size_t n;

	if (!s)
		return false;
	for (n = 0; s[n]; n++) {
		char c = s[n];

		if (n >= 63 || !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
				 (c >= '0' && c <= '9') || c == '_'))
			return false;
	}
	return n > 0;
}

static void target_xml_put_core(struct target_xml_out *x)
{
	unsigned i;

	target_xml_puts(x, target_xml_head);
	for (i = 0; i <= GDB_REG_X30; i++)
		target_xml_put_reg(x, "x", i, NULL, 64, "int", i, NULL);
	target_xml_put_reg(x, "", 0, "sp", 64, "data_ptr", GDB_REG_SP, NULL);
	target_xml_put_reg(x, "", 0, "pc", 64, "code_ptr", GDB_REG_PC, NULL);
	target_xml_put_reg(x, "", 0, "cpsr", 32, "cpsr_flags", GDB_REG_CPSR,
			   NULL);
	target_xml_puts(x, "</feature>\n");
}

static void target_xml_put_fpu(struct target_xml_out *x)
{
	unsigned i;

	target_xml_puts(x, target_xml_fpu_types);
	for (i = 0; i < 32; i++)
		target_xml_put_reg(x, "v", i, NULL, 128, "aarch64v",
				   GDB_REG_V0 + i, NULL);
	target_xml_put_reg(x, "", 0, "fpsr", 32, "int", GDB_REG_FPSR, NULL);
	target_xml_put_reg(x, "", 0, "fpcr", 32, "int", GDB_REG_FPCR, NULL);
	target_xml_puts(x, "</feature>\n");
}

/* One feature of target registers; left out when it would be empty. */
static void target_xml_put_extra(struct gdbstub *s, struct target_xml_out *x,
				 enum gdb_reg_feature feature)
{
	struct gdb_reg_desc d;
	bool open = false;
	unsigned i;

	if (!s->ops->reg_describe)
		return;
	for (i = 0; i < GDBSTUB_MAX_EXTRA_REGS; i++) {
		if (!s->ops->reg_describe(s->ctx, i, &d))
			break;
		if (d.feature != feature || !target_xml_ident_ok(d.name) ||
		    !stub_reg_size(s, GDB_REG_FIRST_EXTRA + i))
			continue;
		if (!open) {
			target_xml_puts(x, "<feature name=\"");
			target_xml_puts(x, target_xml_extra[feature].feature);
			target_xml_puts(x, "\">\n");
			open = true;
		}
		target_xml_put_reg(x, "", 0, d.name, d.bitsize,
				   target_xml_ident_ok(d.type) ? d.type : "int",
				   GDB_REG_FIRST_EXTRA + i,
				   target_xml_extra[feature].group);
	}
	if (open)
		target_xml_puts(x, "</feature>\n");
}

/*
 * Writes the escaped bytes of [offset, offset + len) of the document into
 * out (at most room bytes) and returns how many it wrote. *more tells
 * whether the document goes on after what was sent ('m' rather than 'l').
 */
size_t target_xml_read(struct gdbstub *s, char *out, size_t room,
		       uint64_t offset, uint64_t len, bool *more)
{
	struct target_xml_out x = {
		.out = out, .room = room, .offset = offset, .len = len,
	};

	target_xml_put_core(&x);
	target_xml_put_fpu(&x);
	target_xml_put_extra(s, &x, GDB_FEATURE_SYSTEM);
	target_xml_put_extra(s, &x, GDB_FEATURE_HYPERVISOR);
	target_xml_puts(&x, "</target>\n");
	*more = x.pos > offset + x.emitted;
	return x.used;
}
