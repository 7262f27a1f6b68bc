/*
 * Host unit tests of the gdbstub library against the fake target: framing,
 * acks, escaping, run lengths, every packet, the all-stop state machine,
 * and malformed input (the stub must answer and stay in sync).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "fake_target.h"
#include "../../gdbstub/gdbstub_priv.h"

static struct fake_target t;

/* The frame GDB must receive for payload (no RLE: short payloads only). */
static const char *frame(const char *payload)
{
	static char buf[8192];
	uint8_t sum = 0;
	size_t i;

	for (i = 0; payload[i]; i++)
		sum = (uint8_t)(sum + payload[i]);
	snprintf(buf, sizeof(buf), "$%s#%02x", payload, sum);
	return buf;
}

static const char *acked(const char *payload)
{
	static char buf[8200];

	snprintf(buf, sizeof(buf), "+%s", frame(payload));
	return buf;
}

static void stop_reply_expect(char *buf, size_t size, unsigned vcpu, const char *tail)
{
	char pc[17], sp[17], fp[17], lr[17], cpsr[9];

	fake_hex(t.regs[vcpu][GDB_REG_PC], 8, pc);
	fake_hex(t.regs[vcpu][GDB_REG_SP], 8, sp);
	fake_hex(t.regs[vcpu][GDB_REG_X29], 8, fp);
	fake_hex(t.regs[vcpu][GDB_REG_X30], 8, lr);
	fake_hex(t.regs[vcpu][GDB_REG_CPSR], 4, cpsr);
	snprintf(buf, size, "thread:%x;20:%s;1f:%s;1d:%s;1e:%s;21:%s;%s", vcpu + 1,
		 pc, sp, fp, lr, cpsr, tail);
}

/* ---- framing ------------------------------------------------------- */

static void framing_ack_then_reply(void)
{
	fake_init(&t, 2);
	fake_send_str(&t, "qAttached");
	CHECK_STR(t.out, acked("1"));
}

static void framing_bad_checksum_naks_and_ignores(void)
{
	fake_init(&t, 2);
	fake_feed_str(&t, "$c#00");
	CHECK_STR(t.out, "-");
	CHECK_EQ(t.resume_calls, 0);
	CHECK(!gdbstub_is_running(&t.stub));
	fake_clear_output(&t);
	fake_send_str(&t, "qAttached");
	CHECK_STR(t.out, acked("1"));
}

static void framing_uppercase_checksum_accepted(void)
{
	fake_init(&t, 1);
	/* "qC" sums to 0xb4 */
	fake_feed_str(&t, "$qC#B4");
	CHECK_STR(fake_reply(&t, 0, NULL), "QC1");
}

static void framing_nak_resends_last_reply(void)
{
	char first[64];

	fake_init(&t, 2);
	fake_send_str(&t, "qC");
	CHECK(t.out_len < sizeof(first));
	memcpy(first, t.out + 1, t.out_len);
	fake_clear_output(&t);
	fake_feed_str(&t, "-");
	CHECK_STR(t.out, first);
	fake_clear_output(&t);
	fake_feed_str(&t, "--");
	CHECK_EQ(t.out_len, 2 * strlen(first));
}

static void framing_nak_before_any_reply_is_ignored(void)
{
	fake_init(&t, 1);
	fake_feed_str(&t, "-");
	CHECK_EQ(t.out_len, 0);
}

static void framing_stray_acks_and_garbage_skipped(void)
{
	static const uint8_t noise[] = { '+', '+', 'x', 0, 0xff, 0x80, '#', '1', '}', '*' };

	fake_init(&t, 2);
	fake_feed(&t, noise, sizeof(noise));
	CHECK_EQ(t.out_len, 0);
	fake_send_str(&t, "qAttached");
	CHECK_STR(t.out, acked("1"));
}

static void framing_truncated_packet_resyncs_on_dollar(void)
{
	fake_init(&t, 2);
	fake_feed_str(&t, "$m40000000,4");
	fake_send_str(&t, "qAttached");
	CHECK_STR(t.out, acked("1"));
}

static void framing_truncated_checksum_naks(void)
{
	fake_init(&t, 2);
	fake_feed_str(&t, "$qAttached#8");
	fake_send_str(&t, "qAttached");
	CHECK_STR(t.out, "-+$1#31");
	fake_init(&t, 2);
	fake_feed_str(&t, "$qAttached#8z");
	CHECK_STR(t.out, "-");
	fake_send_str(&t, "qAttached");
	CHECK_STR(t.out, "-+$1#31");
}

static void framing_oversized_packet_refused_in_sync(void)
{
	static char big[GDBSTUB_PACKET_SIZE + 100];

	fake_init(&t, 2);
	memset(big, 'M', sizeof(big) - 1);
	fake_send_str(&t, big);
	CHECK_STR(t.out, acked("E01"));
	CHECK_EQ(t.mem_writes, 0);
	fake_clear_output(&t);
	fake_send_str(&t, "qAttached");
	CHECK_STR(t.out, acked("1"));
}

static void framing_largest_packet_accepted(void)
{
	static char big[GDBSTUB_PACKET_SIZE + 1];
	/* "M40000000,7f9:" is 14 characters, then 2 * 0x7f9 digits. */
	int n = snprintf(big, sizeof(big), "M40000000,%x:", (GDBSTUB_PACKET_SIZE - 14) / 2);

	fake_init(&t, 1);
	memset(big + n, 'a', GDBSTUB_PACKET_SIZE - n);
	big[GDBSTUB_PACKET_SIZE] = '\0';
	CHECK_EQ(strlen(big), GDBSTUB_PACKET_SIZE);
	CHECK_STR(fake_exchange(&t, big), "OK");
	CHECK_EQ(t.mem[0], 0xaa);
}

static void framing_empty_packet_gets_empty_reply(void)
{
	fake_init(&t, 1);
	fake_feed_str(&t, "$#00");
	CHECK_STR(t.out, acked(""));
}

static void framing_binary_garbage_then_in_sync(void)
{
	uint32_t x = 12345;
	unsigned round;

	fake_init(&t, 4);
	for (round = 0; round < 200; round++) {
		uint8_t junk[64];
		size_t i;

		for (i = 0; i < sizeof(junk); i++) {
			x = x * 1103515245u + 12345u;
			junk[i] = (uint8_t)(x >> 16);
		}
		fake_feed(&t, junk, sizeof(junk));
		fake_clear_output(&t);
		/* The '$' restarts framing wherever the junk left it. */
		fake_send_str(&t, "qAttached");
		CHECK(t.out_len >= 5 && strcmp(t.out + t.out_len - 5, "$1#31") == 0);
		if (check_case_failed) {
			printf("  round %u: %s\n", round, t.out);
			return;
		}
	}
}

static void framing_no_ack_mode(void)
{
	fake_init(&t, 2);
	CHECK_STR(fake_exchange(&t, "QStartNoAckMode"), "OK");
	CHECK_STR(t.out, acked("OK"));
	fake_feed_str(&t, "+"); /* GDB acks our OK */
	fake_clear_output(&t);
	fake_send_str(&t, "qAttached");
	CHECK_STR(t.out, frame("1"));
	fake_clear_output(&t);
	fake_feed_str(&t, "-$qAttached#00");
	CHECK_EQ(t.out_len, 0);
	/* A new GDB opens in ack mode with qSupported. */
	fake_send_str(&t, "qSupported:swbreak+");
	CHECK(t.out[0] == '+');
}

static void framing_ctrl_c_while_running_interrupts(void)
{
	uint8_t c = 0x03;

	fake_init(&t, 2);
	fake_send_str(&t, "c");
	CHECK(gdbstub_is_running(&t.stub));
	fake_clear_output(&t);
	fake_feed(&t, &c, 1);
	CHECK_EQ(t.interrupt_calls, 1);
	CHECK_EQ(t.out_len, 0);
}

static void framing_ctrl_c_while_stopped_ignored(void)
{
	uint8_t c = 0x03;

	fake_init(&t, 2);
	fake_feed(&t, &c, 1);
	CHECK_EQ(t.interrupt_calls, 0);
	CHECK_EQ(t.out_len, 0);
}

static void framing_ctrl_c_inside_packet_is_data(void)
{
	static const char pkt[] = { 'X', '4', '0', '0', '0', '0', '0', '0', '0', ',', '1', ':', 0x03 };

	/* Running: the 0x03 is inside a frame, so no interrupt. */
	fake_init(&t, 2);
	fake_send_str(&t, "c");
	fake_clear_output(&t);
	fake_send(&t, pkt, sizeof(pkt));
	CHECK_EQ(t.interrupt_calls, 0);
	CHECK_STR(fake_reply(&t, 0, NULL), "E16");
	/* Stopped: it is the byte written. */
	fake_init(&t, 2);
	fake_send(&t, pkt, sizeof(pkt));
	CHECK_EQ(t.mem[0], 3);
	CHECK_STR(fake_reply(&t, 0, NULL), "OK");
}

/* ---- run-length encoding and escaping ------------------------------- */

static void rle_runs_of_every_length_decode(void)
{
	unsigned run;

	fake_init(&t, 1);
	for (run = 1; run <= 600; run++) {
		char cmd[64], expect[1300];
		unsigned n = (run + 1) / 2, i, npk;
		const char *got;
		size_t j;

		/* An odd run starts with the low digit of 0x10. */
		memset(t.mem, 0, n);
		if (run % 2)
			t.mem[0] = 0x10;
		t.mem[n] = 0x12;
		snprintf(cmd, sizeof(cmd), "m40000000,%x", n + 1);
		got = fake_exchange(&t, cmd);
		for (i = 0; i < n; i++)
			sprintf(expect + 2 * i, "%02x", t.mem[i]);
		strcat(expect, "12");
		CHECK_STR(got, expect);
		fake_reply(&t, 0, &npk);
		CHECK_EQ(npk, 1);
		/* No count character may be one GDB's manual forbids. */
		for (j = 0; j + 1 < t.out_len; j++)
			if (t.out[j] == '*')
				CHECK(strchr("#$+-", t.out[j + 1]) == NULL &&
				      (unsigned char)t.out[j + 1] <= 126);
		if (check_case_failed) {
			printf("  at run %u: %s\n", run, t.out);
			break;
		}
	}
}

static void rle_compresses_zero_registers(void)
{
	unsigned r;

	fake_init(&t, 1);
	for (r = 0; r < GDB_REG_FIRST_EXTRA; r++)
		memset(t.regs[0][r], 0, 16);
	fake_exchange(&t, "g");
	CHECK(t.out_len < 40);
	CHECK_EQ(strlen(fake_reply(&t, 0, NULL)), 536);
}

static void escape_roundtrip(void)
{
	uint8_t in[256], back[600];
	char out[600];
	size_t used, n, i;

	for (i = 0; i < 256; i++)
		in[i] = (uint8_t)i;
	n = util_escape(in, sizeof(in), out, sizeof(out), &used);
	CHECK_EQ(used, 256);
	CHECK_EQ(n, 256 + 4);
	for (i = 0; i < n; i++)
		if (out[i] == '$' || out[i] == '#' || out[i] == '*')
			CHECK(0);
	memcpy(back, out, n);
	CHECK_EQ(util_unescape((char *)back, n), 256);
	CHECK(memcmp(back, in, 256) == 0);
	/* No room for an escaped pair: stop before it. */
	in[0] = 'a';
	in[1] = '#';
	n = util_escape(in, 2, out, 2, &used);
	CHECK_EQ(n, 1);
	CHECK_EQ(used, 1);
}

static void escape_binary_write(void)
{
	static const char pkt[] = "X40000010,6:}\x03}\x04}]}\x0a\x00\xff";

	fake_init(&t, 1);
	fake_send(&t, pkt, sizeof(pkt) - 1);
	CHECK_STR(fake_reply(&t, 0, NULL), "OK");
	CHECK_EQ(t.mem[0x10], '#');
	CHECK_EQ(t.mem[0x11], '$');
	CHECK_EQ(t.mem[0x12], '}');
	CHECK_EQ(t.mem[0x13], '*');
	CHECK_EQ(t.mem[0x14], 0);
	CHECK_EQ(t.mem[0x15], 0xff);
}

/* ---- queries ------------------------------------------------------- */

static void query_supported(void)
{
	fake_init(&t, 2);
	CHECK_STR(fake_exchange(&t, "qSupported:multiprocess+;swbreak+;hwbreak+;qRelocInsn+"),
		  "PacketSize=1000;swbreak+;hwbreak+;vContSupported+"
		  ";qXfer:features:read+;QStartNoAckMode+");
}

static char xml[65536];

static void read_target_xml(unsigned chunk)
{
	size_t at = 0;
	int rounds = 0;

	xml[0] = '\0';
	for (;;) {
		char cmd[80];
		const char *r;

		snprintf(cmd, sizeof(cmd), "qXfer:features:read:target.xml:%zx,%x", at, chunk);
		r = fake_exchange(&t, cmd);
		CHECK(r && (r[0] == 'm' || r[0] == 'l'));
		if (!r || ++rounds > 1000)
			return;
		/* The XML has nothing to escape, so the payload is the text. */
		memcpy(xml + at, r + 1, strlen(r + 1) + 1);
		at += strlen(r + 1);
		CHECK(strlen(r + 1) <= chunk);
		if (r[0] == 'l')
			return;
	}
}

static void query_target_xml(void)
{
	char one_go[65536];

	fake_init(&t, 2);
	read_target_xml(0x100);
	CHECK(strncmp(xml, "<?xml version=\"1.0\"?>", 21) == 0);
	CHECK(strstr(xml, "<architecture>aarch64</architecture>"));
	CHECK(strstr(xml, "<feature name=\"org.gnu.gdb.aarch64.core\">"));
	CHECK(strstr(xml, "<reg name=\"x30\" bitsize=\"64\" type=\"int\" regnum=\"30\"/>"));
	CHECK(strstr(xml, "<reg name=\"sp\" bitsize=\"64\" type=\"data_ptr\" regnum=\"31\"/>"));
	CHECK(strstr(xml, "<reg name=\"pc\" bitsize=\"64\" type=\"code_ptr\" regnum=\"32\"/>"));
	CHECK(strstr(xml, "<reg name=\"cpsr\" bitsize=\"32\" type=\"cpsr_flags\" regnum=\"33\"/>"));
	CHECK(strstr(xml, "<feature name=\"org.gnu.gdb.aarch64.fpu\">"));
	CHECK(strstr(xml, "<reg name=\"v31\" bitsize=\"128\" type=\"aarch64v\" regnum=\"65\"/>"));
	CHECK(strstr(xml, "<reg name=\"fpcr\" bitsize=\"32\" type=\"int\" regnum=\"67\"/>"));
	CHECK(strstr(xml, "<reg name=\"sctlr_el1\" bitsize=\"64\" type=\"int\" regnum=\"68\" group=\"system\"/>"));
	CHECK(strstr(xml, "<reg name=\"tcr_el1\" bitsize=\"64\" type=\"uint64\" regnum=\"70\" group=\"system\"/>"));
	CHECK(strstr(xml, "<reg name=\"esr\" bitsize=\"64\" type=\"int\" regnum=\"69\" group=\"hypervisor\"/>"));
	CHECK(strstr(xml, "<reg name=\"seq\" bitsize=\"64\" type=\"int\" regnum=\"73\" group=\"hypervisor\"/>"));
	CHECK(strstr(xml, "bad name") == NULL);
	CHECK(strstr(xml, "org.trapvisor.sysregs") < strstr(xml, "org.trapvisor.hypervisor"));
	CHECK(strcmp(xml + strlen(xml) - 10, "</target>\n") == 0);
	/* Any chunking gives the same document. */
	memcpy(one_go, xml, sizeof(one_go));
	read_target_xml(0x7);
	CHECK_STR(xml, one_go);
	read_target_xml(0xfff);
	CHECK_STR(xml, one_go);
}

static void query_target_xml_errors(void)
{
	fake_init(&t, 2);
	CHECK_STR(fake_exchange(&t, "qXfer:features:read:other.xml:0,100"), "E00");
	CHECK_STR(fake_exchange(&t, "qXfer:features:read:target.xml:0"), "E01");
	CHECK_STR(fake_exchange(&t, "qXfer:features:read:target.xml:x,1"), "E01");
	CHECK_STR(fake_exchange(&t, "qXfer:features:read:target.xml:100000,100"), "l");
	CHECK_STR(fake_exchange(&t, "qXfer:features:read:target.xml:0,0"), "m");
	CHECK_STR(fake_exchange(&t, "qXfer:features:read:target.xml:ffffffffffffffff,ffffffffffffffff"), "l");
	CHECK_STR(fake_exchange(&t, "qXfer:auxv:read::0,100"), "");
	CHECK_STR(fake_exchange(&t, "qXfer:features:write:target.xml:0,1"), "");
}

static void query_attached_and_current_thread(void)
{
	fake_init(&t, 3);
	CHECK_STR(fake_exchange(&t, "qAttached"), "1");
	CHECK_STR(fake_exchange(&t, "qAttached:1"), "1");
	CHECK_STR(fake_exchange(&t, "qC"), "QC1");
	CHECK_STR(fake_exchange(&t, "Hg3"), "OK");
	CHECK_STR(fake_exchange(&t, "qC"), "QC3");
}

static void query_thread_list(void)
{
	char expect[512] = "m1";
	unsigned i;

	fake_init(&t, 3);
	CHECK_STR(fake_exchange(&t, "qfThreadInfo"), "m1,2,3");
	CHECK_STR(fake_exchange(&t, "qsThreadInfo"), "l");
	CHECK_STR(fake_exchange(&t, "qsThreadInfo"), "l");
	CHECK_STR(fake_exchange(&t, "qfThreadInfo"), "m1,2,3");
	fake_init(&t, 64);
	for (i = 2; i <= 64; i++)
		sprintf(expect + strlen(expect), ",%x", i);
	CHECK_STR(fake_exchange(&t, "qfThreadInfo"), expect);
	CHECK_STR(fake_exchange(&t, "qsThreadInfo"), "l");
}

static void query_thread_extra_info(void)
{
	char hex[128];

	fake_init(&t, 2);
	fake_hex("cpu1 EL1 running", 16, hex);
	CHECK_STR(fake_exchange(&t, "qThreadExtraInfo,2"), hex);
	t.vcpu_text = "";
	fake_hex("vCPU 1", 6, hex);
	CHECK_STR(fake_exchange(&t, "qThreadExtraInfo,2"), hex);
	CHECK_STR(fake_exchange(&t, "qThreadExtraInfo,3"), "E16");
	CHECK_STR(fake_exchange(&t, "qThreadExtraInfo,0"), "E16");
	CHECK_STR(fake_exchange(&t, "qThreadExtraInfo,-1"), "E16");
	CHECK_STR(fake_exchange(&t, "qThreadExtraInfo"), "E01");
	CHECK_STR(fake_exchange(&t, "qThreadExtraInfo,zz"), "E01");
}

static void query_monitor(void)
{
	char cmd[256], hex[128];
	unsigned n;

	fake_init(&t, 2);
	fake_hex("hv trace on", 11, hex);
	snprintf(cmd, sizeof(cmd), "qRcmd,%s", hex);
	t.monitor_output = "line $1 #2\n";
	fake_exchange(&t, cmd);
	CHECK_STR(t.monitor_cmd, "hv trace on");
	fake_hex("line $1 #2\n", 11, hex + 1);
	hex[0] = 'O';
	CHECK_STR(fake_reply(&t, 0, &n), hex);
	CHECK_EQ(n, 2);
	CHECK_STR(fake_reply(&t, 1, NULL), "OK");
	/* An error, and no output. */
	t.monitor_output = NULL;
	t.monitor_result = 5;
	CHECK_STR(fake_exchange(&t, cmd), "E05");
	CHECK_STR(fake_exchange(&t, "qRcmd,"), "E05");
	CHECK_STR(t.monitor_cmd, "");
	CHECK_STR(fake_exchange(&t, "qRcmd,6"), "E01");
	CHECK_STR(fake_exchange(&t, "qRcmd,zz"), "E01");
	CHECK_STR(fake_exchange(&t, "qRcmd"), "E01");
}

static void query_monitor_long_output_split(void)
{
	static char big[5000];
	unsigned n, i;
	size_t total = 0;

	fake_init(&t, 1);
	memset(big, 'y', sizeof(big) - 1);
	t.monitor_output = big;
	t.monitor_repeat = 3;
	fake_exchange(&t, "qRcmd,6869");
	CHECK_STR(t.monitor_cmd, "hi");
	fake_reply(&t, 0, &n);
	CHECK(n >= 9);
	for (i = 0; i + 1 < n; i++) {
		const char *r = fake_reply(&t, i, NULL);

		CHECK(r && r[0] == 'O');
		if (r)
			total += strlen(r + 1) / 2;
	}
	CHECK_EQ(total, 3 * (sizeof(big) - 1));
	CHECK_STR(fake_reply(&t, n - 1, NULL), "OK");
}

static void query_monitor_without_hook_unsupported(void)
{
	static struct gdb_target_ops ops;

	fake_init(&t, 1);
	ops = fake_target_ops;
	ops.monitor = NULL;
	ops.vcpu_describe = NULL;
	ops.reg_describe = NULL;
	ops.bp_insert = NULL;
	ops.bp_remove = NULL;
	gdbstub_init(&t.stub, &ops, &t, false);
	CHECK_STR(fake_exchange(&t, "Z0,40000000,4"), "");
	CHECK_STR(fake_exchange(&t, "qRcmd,6869"), "");
	CHECK_STR(fake_exchange(&t, "qThreadExtraInfo,1"), "764350552030");
	CHECK_STR(fake_exchange(&t, "p44"), "E16");
	read_target_xml(0x400);
	CHECK(strstr(xml, "org.trapvisor") == NULL);
	CHECK(strstr(xml, "</target>"));
}

static void query_unknown_packets_empty(void)
{
	static const char *const unknown[] = {
		"vMustReplyEmpty", "qTStatus", "qCRC:0,4", "qOffsets", "qSymbol::",
		"vKill;1", "vFile:open:2f,0,0", "Qfoo", "x", "!", "A", "qL1200",
		"vCont!", "qfThreadInfoX", "qSupportedX",
	};
	size_t i;

	fake_init(&t, 1);
	for (i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
		CHECK_STR(fake_exchange(&t, unknown[i]), "");
		if (check_case_failed) {
			printf("  packet %s\n", unknown[i]);
			return;
		}
	}
	CHECK(!gdbstub_is_running(&t.stub));
}

/* ---- threads ------------------------------------------------------- */

static void thread_select(void)
{
	fake_init(&t, 3);
	CHECK_STR(fake_exchange(&t, "Hg2"), "OK");
	CHECK_EQ(t.stub.g_vcpu, 1);
	CHECK_STR(fake_exchange(&t, "Hc3"), "OK");
	CHECK_EQ(t.stub.c_vcpu, 2);
	CHECK_STR(fake_exchange(&t, "Hc-1"), "OK");
	CHECK_STR(fake_exchange(&t, "Hg0"), "OK");
	CHECK_STR(fake_exchange(&t, "Hg4"), "E16");
	CHECK_STR(fake_exchange(&t, "Hgzz"), "E01");
	CHECK_STR(fake_exchange(&t, "Hx1"), "E01");
	CHECK_STR(fake_exchange(&t, "H"), "E01");
	CHECK_STR(fake_exchange(&t, "Hg1x"), "E01");
	CHECK_STR(fake_exchange(&t, "Hgp1.1"), "E01");
	CHECK_STR(fake_exchange(&t, "Hg-2"), "E01");
}

static void thread_alive(void)
{
	fake_init(&t, 3);
	CHECK_STR(fake_exchange(&t, "T1"), "OK");
	CHECK_STR(fake_exchange(&t, "T3"), "OK");
	CHECK_STR(fake_exchange(&t, "T4"), "E16");
	CHECK_STR(fake_exchange(&t, "T0"), "E16");
	CHECK_STR(fake_exchange(&t, "T"), "E01");
	CHECK_STR(fake_exchange(&t, "T-1"), "E16");
}

/* ---- registers ----------------------------------------------------- */

static void regs_read_all(void)
{
	char expect[600] = "";
	unsigned r;

	fake_init(&t, 2);
	CHECK_STR(fake_exchange(&t, "Hg2"), "OK");
	for (r = 0; r < 33; r++)
		fake_hex(t.regs[1][r], 8, expect + 16 * r);
	fake_hex(t.regs[1][GDB_REG_CPSR], 4, expect + 16 * 33);
	CHECK_STR(fake_exchange(&t, "g"), expect);
	t.unavailable_reg = 1;
	memset(expect + 16, 'x', 16);
	CHECK_STR(fake_exchange(&t, "g"), expect);
	CHECK_STR(fake_exchange(&t, "gx"), "E01");
}

static void regs_write_all(void)
{
	char pkt[600] = "G";
	uint8_t before[FAKE_NUM_REGS][16];
	unsigned r;

	fake_init(&t, 2);
	memcpy(before, t.regs[0], sizeof(before));
	for (r = 0; r < 33; r++)
		sprintf(pkt + 1 + 16 * r, "%016llx", 0x1100000000000000ull + r);
	sprintf(pkt + 1 + 16 * 33, "%s", "11223344");
	/* Malformed: one digit short, or a bad digit: nothing changes. */
	pkt[strlen(pkt) - 1] = '\0';
	CHECK_STR(fake_exchange(&t, pkt), "E01");
	strcat(pkt, "g");
	CHECK_STR(fake_exchange(&t, pkt), "E01");
	CHECK(memcmp(before, t.regs[0], sizeof(before)) == 0);
	pkt[strlen(pkt) - 1] = '4';
	CHECK_STR(fake_exchange(&t, pkt), "OK");
	CHECK_EQ(fake_get_reg(&t, 0, 5), 0x0500000000000011ull);
	CHECK_EQ(t.regs[0][GDB_REG_CPSR][0], 0x11);
	CHECK_EQ(t.regs[0][GDB_REG_CPSR][3], 0x44);
	CHECK_EQ(t.regs[0][GDB_REG_V0][0], before[GDB_REG_V0][0]);
	t.readonly_reg = 3;
	CHECK_STR(fake_exchange(&t, pkt), "E16");
}

static void regs_read_one(void)
{
	char expect[40];

	fake_init(&t, 2);
	fake_hex(t.regs[0][GDB_REG_PC], 8, expect);
	CHECK_STR(fake_exchange(&t, "p20"), expect);
	fake_hex(t.regs[0][GDB_REG_CPSR], 4, expect);
	CHECK_STR(fake_exchange(&t, "p21"), expect);
	fake_hex(t.regs[0][GDB_REG_V0 + 3], 16, expect);
	CHECK_STR(fake_exchange(&t, "p25"), expect);
	fake_hex(t.regs[0][GDB_REG_FPCR], 4, expect);
	CHECK_STR(fake_exchange(&t, "p43"), expect);
	fake_hex(t.regs[0][GDB_REG_FIRST_EXTRA + 3], 4, expect);
	CHECK_STR(fake_exchange(&t, "p47"), expect);
	fake_hex(t.regs[0][GDB_REG_FIRST_EXTRA + 5], 8, expect);
	CHECK_STR(fake_exchange(&t, "p49"), expect);
	CHECK_STR(fake_exchange(&t, "p4a"), "E16");
	CHECK_STR(fake_exchange(&t, "p100000"), "E16");
	CHECK_STR(fake_exchange(&t, "pffffffffffffffff"), "E16");
	CHECK_STR(fake_exchange(&t, "p11111111111111111"), "E01");
	CHECK_STR(fake_exchange(&t, "p"), "E01");
	CHECK_STR(fake_exchange(&t, "p20,"), "E01");
	t.unavailable_reg = GDB_REG_PC;
	CHECK_STR(fake_exchange(&t, "p20"), "xxxxxxxxxxxxxxxx");
}

static void regs_write_one(void)
{
	fake_init(&t, 2);
	CHECK_STR(fake_exchange(&t, "Hg2"), "OK");
	CHECK_STR(fake_exchange(&t, "P20=0800004000000000"), "OK");
	CHECK_EQ(fake_get_reg(&t, 1, GDB_REG_PC), 0x40000008ull);
	CHECK_EQ(fake_get_reg(&t, 0, GDB_REG_PC), FAKE_MEM_BASE + 0x100);
	CHECK_STR(fake_exchange(&t, "P22=00112233445566778899aabbccddeeff"), "OK");
	CHECK_EQ(t.regs[1][GDB_REG_V0][15], 0xff);
	CHECK_STR(fake_exchange(&t, "P20=08000040"), "E01");
	CHECK_STR(fake_exchange(&t, "P20=08000040000000000"), "E01");
	CHECK_STR(fake_exchange(&t, "P20=0800004000000g00"), "E01");
	CHECK_STR(fake_exchange(&t, "P20"), "E01");
	CHECK_STR(fake_exchange(&t, "P99=00"), "E16");
	CHECK_EQ(fake_get_reg(&t, 1, GDB_REG_PC), 0x40000008ull);
	t.readonly_reg = GDB_REG_FIRST_EXTRA;
	CHECK_STR(fake_exchange(&t, "P44=0000000000000000"), "E16");
}

/* ---- memory -------------------------------------------------------- */

static void mem_read(void)
{
	char expect[64];

	fake_init(&t, 1);
	fake_hex(t.mem + 0x10, 8, expect);
	CHECK_STR(fake_exchange(&t, "m40000010,8"), expect);
	/* Partial: only the bytes up to the end of the region. */
	fake_hex(t.mem + FAKE_MEM_SIZE - 3, 3, expect);
	CHECK_STR(fake_exchange(&t, "m40003ffd,10"), expect);
	CHECK_STR(fake_exchange(&t, "m40004000,4"), "E0e");
	CHECK_STR(fake_exchange(&t, "m0,4"), "E0e");
	CHECK_STR(fake_exchange(&t, "mffffffffffffffff,10"), "E0e");
	CHECK_STR(fake_exchange(&t, "m3ffffffe,4"), "E0e");
	CHECK_STR(fake_exchange(&t, "m40000000"), "E01");
	CHECK_STR(fake_exchange(&t, "m40000000,"), "E01");
	CHECK_STR(fake_exchange(&t, "m,4"), "E01");
	CHECK_STR(fake_exchange(&t, "m40000000,4,"), "E01");
	CHECK_STR(fake_exchange(&t, "m111111111111111111,4"), "E01");
}

static void mem_read_large_is_capped(void)
{
	const char *r;

	fake_init(&t, 1);
	r = fake_exchange(&t, "m40000000,ffffffff");
	CHECK(r != NULL);
	CHECK_EQ(strlen(r), GDBSTUB_PACKET_SIZE);
}

static void mem_write_hex(void)
{
	uint8_t before[FAKE_MEM_SIZE];

	fake_init(&t, 1);
	CHECK_STR(fake_exchange(&t, "M40000020,4:deadbeef"), "OK");
	CHECK_EQ(t.mem[0x20], 0xde);
	CHECK_EQ(t.mem[0x23], 0xef);
	memcpy(before, t.mem, sizeof(before));
	CHECK_STR(fake_exchange(&t, "M40000020,4:deadbee"), "E01");
	CHECK_STR(fake_exchange(&t, "M40000020,4:deadbeefaa"), "E01");
	CHECK_STR(fake_exchange(&t, "M40000020,4:deadbeeg"), "E01");
	CHECK_STR(fake_exchange(&t, "M40000020,4"), "E01");
	CHECK_STR(fake_exchange(&t, "M40000020:4:deadbeef"), "E01");
	CHECK(memcmp(before, t.mem, sizeof(before)) == 0);
	CHECK_STR(fake_exchange(&t, "M50000000,2:0102"), "E0e");
	CHECK_STR(fake_exchange(&t, "Mffffffffffffffff,2:0102"), "E0e");
	/* Partial write at the end of the region is an error. */
	CHECK_STR(fake_exchange(&t, "M40003fff,2:0102"), "E0e");
	CHECK_STR(fake_exchange(&t, "M40000000,0:"), "OK");
}

static void mem_write_binary(void)
{
	fake_init(&t, 1);
	CHECK_STR(fake_exchange(&t, "X40000000,0:"), "OK");
	CHECK_STR(fake_exchange(&t, "X40000000,2:ab"), "OK");
	CHECK_EQ(t.mem[0], 'a');
	CHECK_EQ(t.mem[1], 'b');
	CHECK_STR(fake_exchange(&t, "X40000000,2:abc"), "E01");
	CHECK_STR(fake_exchange(&t, "X40000000,2:a"), "E01");
	CHECK_STR(fake_exchange(&t, "X40000000,2:a}"), "E01");
	CHECK_STR(fake_exchange(&t, "X40000000,2"), "E01");
	CHECK_STR(fake_exchange(&t, "X60000000,2:ab"), "E0e");
	CHECK_EQ(t.mem[0], 'a');
}

/* ---- breakpoints --------------------------------------------------- */

static void breakpoints_all_types(void)
{
	static const char *const pkts[] = {
		"Z0,40000100,4", "Z1,40000104,4", "Z2,40000200,8", "Z3,40000208,4", "Z4,40000210,1",
	};
	unsigned i;

	fake_init(&t, 1);
	for (i = 0; i < 5; i++) {
		CHECK_STR(fake_exchange(&t, pkts[i]), "OK");
		CHECK_EQ(t.bp_last.type, i);
		CHECK(t.bp_last.insert);
		CHECK_EQ(t.bp_last.addr, 0x40000100ull + (i < 2 ? 4 * i : 0x100 + 8 * (i - 2)));
	}
	CHECK_EQ(t.bp_last.kind, 1);
	CHECK_STR(fake_exchange(&t, "z2,40000200,8"), "OK");
	CHECK(!t.bp_last.insert);
	CHECK_EQ(t.bp_last.type, GDB_BP_WRITE);
	CHECK_EQ(t.bp_last.kind, 8);
	CHECK_STR(fake_exchange(&t, "Z0,40000100,4;X2,0a"), "OK");
	CHECK_EQ(t.bp_calls, 7);
	CHECK_EQ(t.bp_last.vcpu, 0);
}

/* An address is in the selected thread's translation, for a watchpoint as for memory. */
static void breakpoints_in_selected_thread(void)
{
	fake_init(&t, 3);
	CHECK_STR(fake_exchange(&t, "Hg3"), "OK"); /* thread 3 = vCPU 2 */
	CHECK_STR(fake_exchange(&t, "Z2,40000200,18"), "OK");
	CHECK_EQ(t.bp_last.vcpu, 2);
	CHECK_STR(fake_exchange(&t, "z2,40000200,18"), "OK");
	CHECK_EQ(t.bp_last.vcpu, 2);
	CHECK_STR(fake_exchange(&t, "Hg1"), "OK");
	CHECK_STR(fake_exchange(&t, "Z0,40000100,4"), "OK");
	CHECK_EQ(t.bp_last.vcpu, 0);
}

static void breakpoints_results_and_errors(void)
{
	fake_init(&t, 1);
	t.bp_result = GDB_BP_UNSUPPORTED;
	CHECK_STR(fake_exchange(&t, "Z1,40000100,4"), "");
	t.bp_result = GDB_BP_ERROR;
	CHECK_STR(fake_exchange(&t, "Z1,40000100,4"), "E16");
	CHECK_EQ(t.bp_calls, 2);
	CHECK_STR(fake_exchange(&t, "Z5,40000100,4"), "");
	CHECK_STR(fake_exchange(&t, "Z0,40000100"), "E01");
	CHECK_STR(fake_exchange(&t, "Z0;40000100,4"), "E01");
	CHECK_STR(fake_exchange(&t, "Z0,40000100,4x"), "E01");
	CHECK_STR(fake_exchange(&t, "z"), "E01");
	CHECK_EQ(t.bp_calls, 2);
}

/* ---- resume and stop ----------------------------------------------- */

static void run_initial_stop_query(void)
{
	char expect[256] = "T05";

	fake_init(&t, 2);
	stop_reply_expect(expect + 3, sizeof(expect) - 3, 0, "");
	CHECK_STR(fake_exchange(&t, "?"), expect);
	t.unavailable_reg = GDB_REG_X29;
	CHECK(strstr(fake_exchange(&t, "?"), ";1d:") == NULL);
}

static void run_continue_then_breakpoint(void)
{
	char expect[256] = "T05";
	struct gdb_stop stop = { .vcpu = 1, .reason = GDB_STOP_SWBREAK };
	unsigned i;

	fake_init(&t, 3);
	fake_send_str(&t, "c");
	CHECK_STR(t.out, "+");
	CHECK(gdbstub_is_running(&t.stub));
	CHECK_EQ(t.resume_calls, 1);
	CHECK_EQ(t.action_count, 3);
	for (i = 0; i < 3; i++) {
		CHECK_EQ(t.actions[i].kind, GDB_ACTION_CONTINUE);
		CHECK_EQ(t.actions[i].signal, 0);
	}
	fake_clear_output(&t);
	gdbstub_report_stop(&t.stub, &stop);
	stop_reply_expect(expect + 3, sizeof(expect) - 3, 1, "swbreak:;");
	CHECK_STR(fake_reply(&t, 0, NULL), expect);
	CHECK(t.out[0] == '$');
	CHECK(!gdbstub_is_running(&t.stub));
	/* GDB now takes thread 2 as current. */
	CHECK_STR(fake_exchange(&t, "qC"), "QC2");
	CHECK_STR(fake_exchange(&t, "?"), expect);
}

static void run_step_uses_hc_thread(void)
{
	fake_init(&t, 3);
	CHECK_STR(fake_exchange(&t, "Hc3"), "OK");
	fake_exchange(&t, "s");
	CHECK_EQ(t.resume_calls, 1);
	CHECK_EQ(t.actions[2].kind, GDB_ACTION_STEP);
	CHECK_EQ(t.actions[0].kind, GDB_ACTION_CONTINUE);
	CHECK_EQ(t.actions[1].kind, GDB_ACTION_CONTINUE);
}

static void run_signal_and_address_forms(void)
{
	fake_init(&t, 2);
	fake_exchange(&t, "C0b;40000200");
	CHECK_EQ(t.resume_calls, 1);
	CHECK_EQ(t.actions[0].kind, GDB_ACTION_CONTINUE);
	CHECK_EQ(t.actions[0].signal, 11);
	CHECK_EQ(t.actions[1].signal, 0);
	CHECK_EQ(fake_get_reg(&t, 0, GDB_REG_PC), 0x40000200ull);

	fake_init(&t, 2);
	fake_exchange(&t, "S02");
	CHECK_EQ(t.actions[0].kind, GDB_ACTION_STEP);
	CHECK_EQ(t.actions[0].signal, 2);

	fake_init(&t, 2);
	fake_exchange(&t, "c40000300");
	CHECK_EQ(fake_get_reg(&t, 0, GDB_REG_PC), 0x40000300ull);
	CHECK(gdbstub_is_running(&t.stub));
}

static void run_malformed_resume_stays_stopped(void)
{
	static const char *const bad[] = {
		"cz", "c4000,", "C", "Cxx", "C100", "C05;", "C05;zz", "S05x", "s1;2",
		"vCont", "vCont;", "vCont;x", "vCont;c:", "vCont;c:zz", "vCont;C",
		"vCont;Czz:1", "vCont;c;", "vCont;c1", "vCont;r1,2", "vCont;t",
		"vCont;c:p1.1",
	};
	size_t i;

	fake_init(&t, 2);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK_STR(fake_exchange(&t, bad[i]), "E01");
		if (check_case_failed) {
			printf("  packet %s\n", bad[i]);
			return;
		}
	}
	CHECK_EQ(t.resume_calls, 0);
	CHECK(!gdbstub_is_running(&t.stub));
	t.readonly_reg = GDB_REG_PC;
	CHECK_STR(fake_exchange(&t, "c40000000"), "E16");
	CHECK_EQ(t.resume_calls, 0);
}

static void run_vcont(void)
{
	fake_init(&t, 3);
	CHECK_STR(fake_exchange(&t, "vCont?"), "vCont;c;C;s;S");

	fake_exchange(&t, "vCont;s:2;c");
	CHECK_EQ(t.resume_calls, 1);
	CHECK_EQ(t.actions[0].kind, GDB_ACTION_CONTINUE);
	CHECK_EQ(t.actions[1].kind, GDB_ACTION_STEP);
	CHECK_EQ(t.actions[2].kind, GDB_ACTION_CONTINUE);

	fake_init(&t, 3);
	fake_exchange(&t, "vCont;c:3");
	CHECK_EQ(t.actions[0].kind, GDB_ACTION_STOP);
	CHECK_EQ(t.actions[1].kind, GDB_ACTION_STOP);
	CHECK_EQ(t.actions[2].kind, GDB_ACTION_CONTINUE);

	/* Leftmost action wins. */
	fake_init(&t, 3);
	fake_exchange(&t, "vCont;S0b:1;C02:1;C03");
	CHECK_EQ(t.actions[0].kind, GDB_ACTION_STEP);
	CHECK_EQ(t.actions[0].signal, 11);
	CHECK_EQ(t.actions[1].kind, GDB_ACTION_CONTINUE);
	CHECK_EQ(t.actions[1].signal, 3);
	CHECK_EQ(t.actions[2].signal, 3);

	fake_init(&t, 3);
	fake_exchange(&t, "vCont;c:-1");
	CHECK_EQ(t.actions[2].kind, GDB_ACTION_CONTINUE);

	fake_init(&t, 3);
	fake_exchange(&t, "vCont;s:0");
	CHECK_EQ(t.actions[0].kind, GDB_ACTION_STEP);
	CHECK_EQ(t.actions[1].kind, GDB_ACTION_STOP);

	fake_init(&t, 3);
	CHECK_STR(fake_exchange(&t, "vCont;c:4"), "E16");
	CHECK_EQ(t.resume_calls, 0);
}

static void run_stop_reasons(void)
{
	static const struct {
		enum gdb_stop_reason reason;
		uint8_t signal;
		const char *sig, *tail;
	} cases[] = {
		{ GDB_STOP_SIGNAL, GDB_SIGNAL_INT, "02", "" },
		{ GDB_STOP_SIGNAL, 0, "05", "" },
		{ GDB_STOP_HWBREAK, 0, "05", "hwbreak:;" },
		{ GDB_STOP_WATCH, 0, "05", "watch:40001000;" },
		{ GDB_STOP_RWATCH, 0, "05", "rwatch:40001000;" },
		{ GDB_STOP_AWATCH, GDB_SIGNAL_TRAP, "05", "awatch:40001000;" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct gdb_stop stop = {
			.vcpu = 0, .reason = cases[i].reason,
			.signal = cases[i].signal, .addr = 0x40001000,
		};
		char expect[256];

		fake_init(&t, 1);
		fake_exchange(&t, "c");
		fake_clear_output(&t);
		gdbstub_report_stop(&t.stub, &stop);
		snprintf(expect, 4, "T%s", cases[i].sig);
		stop_reply_expect(expect + 3, sizeof(expect) - 3, 0, cases[i].tail);
		CHECK_STR(fake_reply(&t, 0, NULL), expect);
	}
}

static void run_stop_with_text_sends_console_first(void)
{
	struct gdb_stop stop = { .vcpu = 0, .text = "trap: wfi on vCPU 0\n" };
	char hex[128] = "O";
	unsigned n;

	fake_init(&t, 1);
	fake_exchange(&t, "c");
	fake_clear_output(&t);
	gdbstub_report_stop(&t.stub, &stop);
	fake_hex(stop.text, strlen(stop.text), hex + 1);
	CHECK_STR(fake_reply(&t, 0, &n), hex);
	CHECK_EQ(n, 2);
	CHECK(strncmp(fake_reply(&t, 1, NULL), "T05thread:1;", 12) == 0);
	/* Text without its newline gets one (LLDB prints O text as it comes). */
	fake_init(&t, 1);
	fake_exchange(&t, "c");
	fake_clear_output(&t);
	stop.text = "catchpoint 1: vCPU 0 executed WFI at 0x42201028";
	gdbstub_report_stop(&t.stub, &stop);
	fake_hex(stop.text, strlen(stop.text), hex + 1);
	CHECK_STR(fake_reply(&t, 0, &n), hex);
	CHECK_EQ(n, 3);
	CHECK_STR(fake_reply(&t, 1, NULL), "O0a");
	CHECK(strncmp(fake_reply(&t, 2, NULL), "T05thread:1;", 12) == 0);
}

static void run_stop_while_stopped_only_recorded(void)
{
	struct gdb_stop stop = { .vcpu = 2, .reason = GDB_STOP_HWBREAK, .text = "x" };

	fake_init(&t, 3);
	gdbstub_report_stop(&t.stub, &stop);
	CHECK_EQ(t.out_len, 0);
	CHECK(strncmp(fake_exchange(&t, "?"), "T05thread:3;", 12) == 0);
	CHECK(strstr(fake_reply(&t, 0, NULL), "hwbreak:;"));
	/* An out-of-range vCPU is reported as vCPU 0 rather than trusted. */
	stop.vcpu = 77;
	gdbstub_report_stop(&t.stub, &stop);
	CHECK(strncmp(fake_exchange(&t, "?"), "T05thread:1;", 12) == 0);
}

static void run_packets_while_running(void)
{
	static const char *const refused[] = {
		"g", "G00", "p20", "P20=00", "m40000000,4", "M40000000,1:00",
		"X40000000,0:", "Z0,40000000,4", "z0,40000000,4", "c", "s", "C05",
		"S05", "vCont;c",
	};
	size_t i;

	fake_init(&t, 2);
	fake_exchange(&t, "c");
	for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
		CHECK_STR(fake_exchange(&t, refused[i]), "E16");
	CHECK_EQ(t.resume_calls, 1);
	CHECK_EQ(t.bp_calls, 0);
	CHECK_STR(fake_exchange(&t, "qAttached"), "1");
	CHECK_STR(fake_exchange(&t, "qfThreadInfo"), "m1,2");
	/* '?' from a reconnecting GDB stops the guest; the stop answers it. */
	fake_clear_output(&t);
	fake_send_str(&t, "?");
	CHECK_STR(t.out, "+");
	CHECK_EQ(t.interrupt_calls, 1);
	{
		struct gdb_stop stop = { .vcpu = 1, .signal = GDB_SIGNAL_INT };

		gdbstub_report_stop(&t.stub, &stop);
	}
	CHECK(strncmp(fake_reply(&t, 0, NULL), "T02thread:2;", 12) == 0);
}

static void run_console_write_only_while_running(void)
{
	fake_init(&t, 1);
	gdbstub_console_write(&t.stub, "hi", 2);
	CHECK_EQ(t.out_len, 0);
	fake_exchange(&t, "c");
	fake_clear_output(&t);
	gdbstub_console_write(&t.stub, "hi", 2);
	CHECK_STR(t.out, frame("O6869"));
	fake_clear_output(&t);
	gdbstub_console_write(&t.stub, "", 0);
	CHECK_EQ(t.out_len, 0);
}

/* A target whose resume stops at once (a step done synchronously). */
static void resume_stops_at_once(void *ctx, const struct gdb_action *a, unsigned n)
{
	struct fake_target *ft = ctx;
	struct gdb_stop stop = { .vcpu = 0 };

	ft->resume_calls++;
	gdbstub_report_stop(&ft->stub, &stop);
}

static void run_resume_may_report_stop_inside(void)
{
	static struct gdb_target_ops ops;
	unsigned n;

	fake_init(&t, 1);
	ops = fake_target_ops;
	ops.resume = resume_stops_at_once;
	gdbstub_init(&t.stub, &ops, &t, false);
	fake_exchange(&t, "s");
	fake_reply(&t, 0, &n);
	CHECK_EQ(n, 1);
	CHECK(strncmp(fake_reply(&t, 0, NULL), "T05thread:1;", 12) == 0);
	CHECK(!gdbstub_is_running(&t.stub));
}

static void run_init_running(void)
{
	fake_init(&t, 2);
	gdbstub_init(&t.stub, &fake_target_ops, &t, true);
	CHECK(gdbstub_is_running(&t.stub));
	fake_feed_str(&t, "\x03");
	CHECK_EQ(t.interrupt_calls, 1);
}

/* ---- session ------------------------------------------------------- */

static void session_detach(void)
{
	fake_init(&t, 2);
	CHECK_STR(fake_exchange(&t, "D"), "OK");
	CHECK_EQ(t.detach_calls, 1);
	CHECK(gdbstub_is_running(&t.stub));
	fake_init(&t, 2);
	CHECK_STR(fake_exchange(&t, "D;1"), "OK");
	CHECK_EQ(t.detach_calls, 1);
}

static void session_kill(void)
{
	fake_init(&t, 2);
	fake_send_str(&t, "k");
	CHECK_STR(t.out, "+");
	CHECK_EQ(t.kill_calls, 1);
	CHECK(gdbstub_is_running(&t.stub));
}

/* What gdb 13 sends when it connects, answered in order. */
static void session_gdb_connect_sequence(void)
{
	fake_init(&t, 2);
	CHECK(strncmp(fake_exchange(&t, "qSupported:multiprocess+;swbreak+;hwbreak+;"
				    "qRelocInsn+;fork-events+;vfork-events+;exec-events+;"
				    "vContSupported+;QThreadEvents+;no-resumed+;memory-tagging+"),
		      "PacketSize=", 11) == 0);
	CHECK_STR(fake_exchange(&t, "vMustReplyEmpty"), "");
	CHECK_STR(fake_exchange(&t, "QStartNoAckMode"), "OK");
	fake_feed_str(&t, "+");
	CHECK_STR(fake_exchange(&t, "Hg0"), "OK");
	CHECK(fake_exchange(&t, "qXfer:features:read:target.xml:0,ffb")[0] == 'm');
	CHECK_STR(fake_exchange(&t, "qTStatus"), "");
	CHECK(strncmp(fake_exchange(&t, "?"), "T05thread:1;", 12) == 0);
	CHECK_STR(fake_exchange(&t, "qfThreadInfo"), "m1,2");
	CHECK_STR(fake_exchange(&t, "qsThreadInfo"), "l");
	CHECK_STR(fake_exchange(&t, "qAttached"), "1");
	CHECK_STR(fake_exchange(&t, "Hc-1"), "OK");
	CHECK_STR(fake_exchange(&t, "qC"), "QC1");
	CHECK_STR(fake_exchange(&t, "qOffsets"), "");
	CHECK_EQ(strlen(fake_exchange(&t, "g")), 536);
	CHECK(t.out[0] == '$');
}

/* ---- what LLDB asks for that GDB does not ---------------------------- */

/* LLDB turns acks off before qSupported: that qSupported must not turn them
 * back on. A D ends the session: the next client starts in ack mode. */
static void lldb_no_ack_before_qsupported(void)
{
	fake_init(&t, 2);
	CHECK_STR(fake_exchange(&t, "QStartNoAckMode"), "OK");
	CHECK_STR(t.out, acked("OK"));
	fake_clear_output(&t);
	fake_send_str(&t, "qSupported:xmlRegisters=i386,arm,mips,arc;multiprocess+");
	CHECK(t.out[0] == '$');
	fake_clear_output(&t);
	fake_send_str(&t, "qAttached");
	CHECK_STR(t.out, frame("1"));
	fake_clear_output(&t);
	fake_send_str(&t, "D");
	CHECK_STR(t.out, frame("OK"));
	fake_clear_output(&t);
	fake_send_str(&t, "qAttached");
	CHECK_STR(t.out, acked("1"));
	/* A client that vanished without D: the next one's QStartNoAckMode is
	 * acked even though acks were off. */
	fake_init(&t, 2);
	fake_exchange(&t, "QStartNoAckMode");
	fake_clear_output(&t);
	fake_send_str(&t, "QStartNoAckMode");
	CHECK_STR(t.out, acked("OK"));
}

static void lldb_thread_suffix(void)
{
	char pc2[17], regs2[600], pkt[700];
	uint64_t pc3;
	unsigned r;

	fake_init(&t, 3);
	pc3 = fake_get_reg(&t, 2, GDB_REG_PC);
	fake_hex(t.regs[1][GDB_REG_PC], 8, pc2);
	/* Not asked for: a suffix is a malformed packet, as before. */
	CHECK_STR(fake_exchange(&t, "p20;thread:2;"), "E01");
	CHECK_STR(fake_exchange(&t, "QThreadSuffixSupported"), "OK");
	CHECK_STR(fake_exchange(&t, "QThreadSuffixSupportedX"), "");
	CHECK_STR(fake_exchange(&t, "p20;thread:2;"), pc2);
	CHECK_EQ(t.stub.g_vcpu, GDBSTUB_VCPU_ANY); /* Hg is untouched */
	/* Without a suffix, Hg (here: the thread that stopped) applies again. */
	fake_hex(t.regs[0][GDB_REG_PC], 8, pkt);
	CHECK_STR(fake_exchange(&t, "p20"), pkt);
	CHECK_STR(fake_exchange(&t, "Hg3"), "OK");
	CHECK_STR(fake_exchange(&t, "p20;thread:2;"), pc2);
	CHECK_STR(fake_exchange(&t, "P20=0800004000000000;thread:2;"), "OK");
	CHECK_EQ(fake_get_reg(&t, 1, GDB_REG_PC), 0x40000008ull);
	CHECK_EQ(fake_get_reg(&t, 2, GDB_REG_PC), pc3);
	for (r = 0; r < 33; r++)
		fake_hex(t.regs[1][r], 8, regs2 + 16 * r);
	fake_hex(t.regs[1][GDB_REG_CPSR], 4, regs2 + 16 * 33);
	CHECK_STR(fake_exchange(&t, "g;thread:2;"), regs2);
	snprintf(pkt, sizeof(pkt), "G%s;thread:1;", regs2);
	CHECK_STR(fake_exchange(&t, pkt), "OK");
	CHECK_EQ(fake_get_reg(&t, 0, GDB_REG_PC), 0x40000008ull);
	/* Malformed or unknown: refused, nothing written. */
	CHECK_STR(fake_exchange(&t, "p20;thread:;"), "E01");
	CHECK_STR(fake_exchange(&t, "p20;thread:2"), "E01");
	CHECK_STR(fake_exchange(&t, "p20;threads:2;"), "E01");
	CHECK_STR(fake_exchange(&t, "p20;thread:2;x"), "E01");
	CHECK_STR(fake_exchange(&t, "p20;thread:4;"), "E16");
	CHECK_STR(fake_exchange(&t, "P20=0000000000000000;thread:4;"), "E16");
	CHECK_EQ(fake_get_reg(&t, 1, GDB_REG_PC), 0x40000008ull);
	/* A new session forgets it. */
	fake_exchange(&t, "qSupported");
	CHECK_STR(fake_exchange(&t, "p20;thread:2;"), "E01");
}

static void lldb_threads_in_stop_reply(void)
{
	struct gdb_stop stop = { .vcpu = 1, .reason = GDB_STOP_HWBREAK };
	char expect[512] = "T05", tail[256];

	fake_init(&t, 3);
	fake_set_reg(&t, 0, GDB_REG_PC, 0xffff800008010800ull);
	fake_set_reg(&t, 2, GDB_REG_PC, 0x42201000);
	CHECK_STR(fake_exchange(&t, "QListThreadsInStopReply"), "OK");
	fake_exchange(&t, "c");
	fake_clear_output(&t);
	gdbstub_report_stop(&t.stub, &stop);
	snprintf(tail, sizeof(tail), "threads:1,2,3;thread-pcs:ffff800008010800,%llx,42201000;hwbreak:;",
		 (unsigned long long)fake_get_reg(&t, 1, GDB_REG_PC));
	stop_reply_expect(expect + 3, sizeof(expect) - 3, 1, tail);
	CHECK_STR(fake_reply(&t, 0, NULL), expect);
	CHECK_STR(fake_exchange(&t, "?"), expect);
	/* Not for the next client (GDB never asks). */
	fake_exchange(&t, "D");
	fake_clear_output(&t);
	gdbstub_report_stop(&t.stub, &stop);
	CHECK(fake_reply(&t, 0, NULL) && strstr(fake_reply(&t, 0, NULL), "threads:") == NULL);
}

static void lldb_thread_stop_info(void)
{
	struct gdb_stop stop = { .vcpu = 1, .reason = GDB_STOP_WATCH, .addr = 0x40000100 };
	char expect[256] = "T05", other[256] = "T00";

	fake_init(&t, 3);
	fake_exchange(&t, "c");
	CHECK_STR(fake_exchange(&t, "qThreadStopInfo2"), "E16"); /* running */
	gdbstub_report_stop(&t.stub, &stop);
	stop_reply_expect(expect + 3, sizeof(expect) - 3, 1, "watch:40000100;");
	CHECK_STR(fake_exchange(&t, "qThreadStopInfo2"), expect);
	stop_reply_expect(other + 3, sizeof(other) - 3, 2, "");
	CHECK_STR(fake_exchange(&t, "qThreadStopInfo3"), other);
	CHECK_STR(fake_exchange(&t, "qThreadStopInfo4"), "E16");
	CHECK_STR(fake_exchange(&t, "qThreadStopInfo0"), "E16");
	CHECK_STR(fake_exchange(&t, "qThreadStopInfo"), "E01");
	CHECK_STR(fake_exchange(&t, "qThreadStopInfo2x"), "E01");
	/* It changes nothing: the stop GDB or LLDB sees is still vCPU 1's. */
	CHECK_STR(fake_exchange(&t, "?"), expect);
	CHECK_STR(fake_exchange(&t, "qC"), "QC2");
}

/* What LLDB 19 sends when it connects (gdb-remote), answered in order. */
static void session_lldb_connect_sequence(void)
{
	fake_init(&t, 2);
	fake_feed_str(&t, "+");
	CHECK_STR(fake_exchange(&t, "QStartNoAckMode"), "OK");
	CHECK(strncmp(fake_exchange(&t, "qSupported:xmlRegisters=i386,arm,mips,arc;"
				    "multiprocess+;fork-events+;vfork-events+"), "PacketSize=", 11) == 0);
	CHECK(t.out[0] == '$'); /* no ack: still no-ack mode */
	CHECK_STR(fake_exchange(&t, "QThreadSuffixSupported"), "OK");
	CHECK_STR(fake_exchange(&t, "QListThreadsInStopReply"), "OK");
	CHECK_STR(fake_exchange(&t, "qHostInfo"), "");
	CHECK_STR(fake_exchange(&t, "vCont?"), "vCont;c;C;s;S");
	CHECK_STR(fake_exchange(&t, "qC"), "QC1");
	CHECK(strncmp(fake_exchange(&t, "?"), "T05thread:1;", 12) == 0);
	CHECK(strstr(fake_reply(&t, 0, NULL), ";threads:1,2;thread-pcs:") != NULL);
	CHECK(fake_exchange(&t, "qXfer:features:read:target.xml:0,fff")[0] == 'm');
	CHECK_EQ(strlen(fake_exchange(&t, "p0;thread:1;")), 16);
	CHECK_STR(fake_exchange(&t, "qfThreadInfo"), "m1,2");
	CHECK_STR(fake_exchange(&t, "qsThreadInfo"), "l");
	CHECK(strncmp(fake_exchange(&t, "qThreadStopInfo2"), "T00thread:2;", 12) == 0);
	CHECK_STR(fake_exchange(&t, "x0,0"), "");
	CHECK_STR(fake_exchange(&t, "jThreadsInfo"), "");
	CHECK_STR(fake_exchange(&t, "D"), "OK");
}

int main(void)
{
	RUN(framing_ack_then_reply);
	RUN(framing_bad_checksum_naks_and_ignores);
	RUN(framing_uppercase_checksum_accepted);
	RUN(framing_nak_resends_last_reply);
	RUN(framing_nak_before_any_reply_is_ignored);
	RUN(framing_stray_acks_and_garbage_skipped);
	RUN(framing_truncated_packet_resyncs_on_dollar);
	RUN(framing_truncated_checksum_naks);
	RUN(framing_oversized_packet_refused_in_sync);
	RUN(framing_largest_packet_accepted);
	RUN(framing_empty_packet_gets_empty_reply);
	RUN(framing_binary_garbage_then_in_sync);
	RUN(framing_no_ack_mode);
	RUN(framing_ctrl_c_while_running_interrupts);
	RUN(framing_ctrl_c_while_stopped_ignored);
	RUN(framing_ctrl_c_inside_packet_is_data);
	RUN(rle_runs_of_every_length_decode);
	RUN(rle_compresses_zero_registers);
	RUN(escape_roundtrip);
	RUN(escape_binary_write);
	RUN(query_supported);
	RUN(query_target_xml);
	RUN(query_target_xml_errors);
	RUN(query_attached_and_current_thread);
	RUN(query_thread_list);
	RUN(query_thread_extra_info);
	RUN(query_monitor);
	RUN(query_monitor_long_output_split);
	RUN(query_monitor_without_hook_unsupported);
	RUN(query_unknown_packets_empty);
	RUN(thread_select);
	RUN(thread_alive);
	RUN(regs_read_all);
	RUN(regs_write_all);
	RUN(regs_read_one);
	RUN(regs_write_one);
	RUN(mem_read);
	RUN(mem_read_large_is_capped);
	RUN(mem_write_hex);
	RUN(mem_write_binary);
	RUN(breakpoints_all_types);
	RUN(breakpoints_in_selected_thread);
	RUN(breakpoints_results_and_errors);
	RUN(run_initial_stop_query);
	RUN(run_continue_then_breakpoint);
	RUN(run_step_uses_hc_thread);
	RUN(run_signal_and_address_forms);
	RUN(run_malformed_resume_stays_stopped);
	RUN(run_vcont);
	RUN(run_stop_reasons);
	RUN(run_stop_with_text_sends_console_first);
	RUN(run_stop_while_stopped_only_recorded);
	RUN(run_packets_while_running);
	RUN(run_console_write_only_while_running);
	RUN(run_resume_may_report_stop_inside);
	RUN(run_init_running);
	RUN(session_detach);
	RUN(session_kill);
	RUN(session_gdb_connect_sequence);
	RUN(lldb_no_ack_before_qsupported);
	RUN(lldb_thread_suffix);
	RUN(lldb_threads_in_stop_reply);
	RUN(lldb_thread_stop_info);
	RUN(session_lldb_connect_sequence);
	return CHECK_DONE();
}
