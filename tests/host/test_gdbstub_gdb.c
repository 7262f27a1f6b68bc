/*
 * The gdbstub against a real gdb-multiarch: the binary runs gdb in batch mode
 * with `target remote | <itself> --serve`, so the stub (over the fake target)
 * talks RSP on a pipe, and checks what gdb prints. This is what proves the
 * target description and the packet set are what gdb 13 expects, with no
 * warnings. SKIPs when gdb-multiarch is not installed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "fake_target.h"

static struct fake_target t;
static uint64_t serve_bps[16];
static unsigned serve_nbps;

/* Steps move one instruction; a continue runs to the first breakpoint after
 * the pc, or "spins" until GDB's Ctrl-C when there is none. */
static void serve_resume(void *ctx, const struct gdb_action *a, unsigned count)
{
	struct gdb_stop stop = { .reason = GDB_STOP_SIGNAL };
	uint64_t pc, best = 0;
	unsigned i;

	for (i = 0; i < count; i++) {
		if (a[i].kind != GDB_ACTION_STEP)
			continue;
		fake_set_reg(&t, i, GDB_REG_PC, fake_get_reg(&t, i, GDB_REG_PC) + 4);
		stop.vcpu = i;
		gdbstub_report_stop(&t.stub, &stop);
		return;
	}
	pc = fake_get_reg(&t, 0, GDB_REG_PC);
	for (i = 0; i < serve_nbps; i++)
		if (serve_bps[i] > pc && (!best || serve_bps[i] < best))
			best = serve_bps[i];
	if (!best)
		return;
	fake_set_reg(&t, 0, GDB_REG_PC, best);
	stop.vcpu = 0;
	stop.reason = GDB_STOP_SWBREAK;
	stop.text = "hv: vCPU 0 hit a breakpoint\n";
	gdbstub_report_stop(&t.stub, &stop);
}

static void serve_interrupt(void *ctx)
{
	struct gdb_stop stop = { .vcpu = 1, .signal = GDB_SIGNAL_INT };

	gdbstub_report_stop(&t.stub, &stop);
}

static enum gdb_bp_result serve_bp_insert(void *ctx, unsigned vcpu, enum gdb_bp_type type,
					  uint64_t addr, uint64_t kind)
{
	if (type != GDB_BP_SW || serve_nbps == 16)
		return GDB_BP_UNSUPPORTED;
	serve_bps[serve_nbps++] = addr;
	return GDB_BP_OK;
}

static enum gdb_bp_result serve_bp_remove(void *ctx, unsigned vcpu, enum gdb_bp_type type,
					  uint64_t addr, uint64_t kind)
{
	unsigned i;

	for (i = 0; i < serve_nbps; i++)
		if (serve_bps[i] == addr) {
			serve_bps[i] = serve_bps[--serve_nbps];
			return GDB_BP_OK;
		}
	return GDB_BP_ERROR;
}

static int serve_monitor(void *ctx, const char *cmd, gdb_output_fn *out, void *arg)
{
	char line[256];

	snprintf(line, sizeof(line), "monitor got [%s]\n", cmd);
	out(arg, line, strlen(line));
	return strcmp(cmd, "fail") == 0 ? 1 : 0;
}

static void serve_write(void *ctx, const uint8_t *buf, size_t len)
{
	if (fwrite(buf, 1, len, stdout) != len)
		exit(2);
	fflush(stdout);
}

static int serve(void)
{
	static struct gdb_target_ops ops;
	unsigned i;
	int c;

	fake_init(&t, 2);
	/* nops around the pc, so that x/i shows something plausible */
	for (i = 0; i < FAKE_MEM_SIZE; i += 4) {
		t.mem[i] = 0x1f;
		t.mem[i + 1] = 0x20;
		t.mem[i + 2] = 0x03;
		t.mem[i + 3] = 0xd5;
	}
	ops = fake_target_ops;
	ops.write = serve_write;
	ops.resume = serve_resume;
	ops.interrupt = serve_interrupt;
	ops.bp_insert = serve_bp_insert;
	ops.bp_remove = serve_bp_remove;
	ops.monitor = serve_monitor;
	gdbstub_init(&t.stub, &ops, &t, false);
	while ((c = getchar()) != EOF) {
		gdbstub_handle_byte(&t.stub, (uint8_t)c);
		if (t.detach_calls || t.kill_calls)
			break;
	}
	return 0;
}

static char gdb_out[1 << 16];

static int run_gdb(const char *self)
{
	static const char *const cmds[] = {
		"set pagination off",
		"set confirm off",
		"info registers pc cpsr",
		"info registers system",
		"info registers hypervisor",
		"p/x $v1.d.u",
		"p $fpcr",
		"info threads",
		"x/2xw 0x40000000",
		"set var *(unsigned int *)0x40000000 = 0x12345678",
		"x/xw 0x40000000",
		"x/xw 0x80000000",
		"p $x0 = 0x1234",
		"p/x $x0",
		"break *0x40000110",
		"continue",
		"stepi",
		"p/x $pc",
		"thread 2",
		"p/x $pc",
		"shell (sleep 1; kill -INT $PPID) &",
		"continue",
		"monitor hv stats",
		"monitor fail",
		"detach",
	};
	char cmd[4096];
	size_t n = 0, i;
	FILE *p;
	int rc;

	n = (size_t)snprintf(cmd, sizeof(cmd),
			     "gdb-multiarch -nx -batch -ex 'target remote | %s --serve'", self);
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		n += (size_t)snprintf(cmd + n, sizeof(cmd) - n, " -ex '%s'", cmds[i]);
	snprintf(cmd + n, sizeof(cmd) - n, " 2>&1");
	p = popen(cmd, "r");
	if (!p)
		return -1;
	n = fread(gdb_out, 1, sizeof(gdb_out) - 1, p);
	gdb_out[n] = '\0';
	rc = pclose(p);
	return rc;
}

static int gdb_rc;

/* gdb's complaint that it has no ELF file is about the session, not the
 * stub (a real session names the guest's vmlinux); any other warning is. */
static bool gdb_has_warning(void)
{
	static const char no_file[] = "warning: No executable has been specified";
	const char *w = gdb_out;

	while ((w = strstr(w, "warning")) != NULL) {
		if (strncmp(w, no_file, sizeof(no_file) - 1) != 0)
			return true;
		w++;
	}
	return false;
}

static void gdb_runs_cleanly(void)
{
	CHECK_EQ(gdb_rc, 0);
	CHECK(!gdb_has_warning());
	CHECK(strstr(gdb_out, "Remote communication error") == NULL);
}

static void gdb_reads_registers(void)
{
	CHECK(strstr(gdb_out, "pc             0x40000100"));
	CHECK(strstr(gdb_out, "cpsr           0x3c5"));
	CHECK(strstr(gdb_out, "[ SP EL=1 F I A D ]"));
	CHECK(strstr(gdb_out, "$2 = 1178944579")); /* fpcr, 4 bytes */
	CHECK(strstr(gdb_out, "$1 = {0x"));
}

static void gdb_register_groups(void)
{
	const char *sys = strstr(gdb_out, "sctlr_el1");
	const char *hyp = strstr(gdb_out, "\nesr ");

	CHECK(sys != NULL);
	CHECK(strstr(gdb_out, "tcr_el1"));
	CHECK(hyp != NULL);
	CHECK(strstr(gdb_out, "\nseq "));
	CHECK(strstr(gdb_out, "\nec "));
}

static void gdb_threads(void)
{
	CHECK(strstr(gdb_out, "Thread 1 (cpu0 EL1 running)"));
	CHECK(strstr(gdb_out, "Thread 2 (cpu1 EL1 running)"));
	CHECK(strstr(gdb_out, "[Switching to thread 2 (Thread 2)]"));
}

static void gdb_memory(void)
{
	CHECK(strstr(gdb_out, "0x40000000:\t0xd503201f\t0xd503201f"));
	CHECK(strstr(gdb_out, "0x40000000:\t0x12345678"));
	CHECK(strstr(gdb_out, "Cannot access memory at address 0x80000000"));
	CHECK(strstr(gdb_out, "= 0x1234"));
}

static void gdb_breakpoint_and_step(void)
{
	CHECK(strstr(gdb_out, "hv: vCPU 0 hit a breakpoint"));
	CHECK(strstr(gdb_out, "Breakpoint 1, 0x0000000040000110"));
	CHECK(strstr(gdb_out, "= 0x40000114"));
}

/* A continue with no breakpoint ahead spins until gdb's Ctrl-C. */
static void gdb_interrupt(void)
{
	CHECK(strstr(gdb_out, "received signal SIGINT"));
}

static void gdb_monitor(void)
{
	CHECK(strstr(gdb_out, "monitor got [hv stats]"));
	/* An E reply is all gdb can show of a failed command. */
	CHECK(strstr(gdb_out, "monitor got [fail]\nProtocol error with Rcmd"));
}

static void gdb_detach(void)
{
	CHECK(strstr(gdb_out, "[Inferior 1 (Remote target) detached]"));
}

int main(int argc, char **argv)
{
	char self[4096];
	ssize_t n;

	if (argc > 1 && strcmp(argv[1], "--serve") == 0)
		return serve();
	if (system("command -v gdb-multiarch >/dev/null 2>&1") != 0) {
		printf("SKIP: gdbstub_with_gdb: gdb-multiarch is not installed\n");
		return 0;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0) {
		printf("FAIL: gdbstub_with_gdb: cannot find own path\n");
		return 1;
	}
	self[n] = '\0';
	gdb_rc = run_gdb(self);
	RUN(gdb_runs_cleanly);
	RUN(gdb_reads_registers);
	RUN(gdb_register_groups);
	RUN(gdb_threads);
	RUN(gdb_memory);
	RUN(gdb_breakpoint_and_step);
	RUN(gdb_interrupt);
	RUN(gdb_monitor);
	RUN(gdb_detach);
	if (check_failures)
		printf("--- gdb output ---\n%s", gdb_out);
	return CHECK_DONE();
}
