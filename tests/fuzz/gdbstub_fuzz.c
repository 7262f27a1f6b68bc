/*
 * libFuzzer target: arbitrary bytes from "GDB" into the stub over the fake
 * target. The first byte picks the vCPU count and whether the guest starts
 * running; in the rest, each '!' seen while the guest runs makes the target
 * report a stop (its reason from the next byte), so the fuzzer reaches both
 * sides of the all-stop machine.
 *
 * Besides the sanitizers, it checks what GDB would receive: every frame the
 * stub sends must be well formed (checksum right, run lengths legal).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "fake_target.h"

static struct fake_target t;

static void fuzz_check_output(void)
{
	unsigned n = (unsigned)-1;
	size_t i;

	if (!t.out_len)
		return;
	/* fake_reply leaves n alone when a frame is malformed. */
	fake_reply(&t, 0, &n);
	if (n == (unsigned)-1)
		abort();
	/* '*' appears raw only as a run length, which needs a character
	 * to repeat and a count GDB's manual allows. */
	for (i = 0; i < t.out_len; i++) {
		if (t.out[i] != '*')
			continue;
		if (i == 0 || t.out[i - 1] == '$' || i + 1 >= t.out_len)
			abort();
		if (t.out[i + 1] < 32 || t.out[i + 1] > 126 || t.out[i + 1] == '#' ||
		    t.out[i + 1] == '$' || t.out[i + 1] == '+' || t.out[i + 1] == '-')
			abort();
	}
	fake_clear_output(&t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t i;

	if (size < 1)
		return 0;
	fake_init(&t, 1 + (data[0] & 3));
	t.monitor_output = "out\n";
	t.bp_result = (enum gdb_bp_result)((data[0] >> 2) % 3);
	if (data[0] & 0x80)
		gdbstub_init(&t.stub, &fake_target_ops, &t, true);
	for (i = 1; i < size; i++) {
		gdbstub_handle_byte(&t.stub, data[i]);
		if (data[i] == '!' && gdbstub_is_running(&t.stub)) {
			uint8_t how = i + 1 < size ? data[i + 1] : 0;
			struct gdb_stop stop = {
				.vcpu = how & 7,
				.reason = (enum gdb_stop_reason)((how >> 3) % 6),
				.signal = how >> 6,
				.addr = FAKE_MEM_BASE + how,
				.text = (how & 1) ? "event\n" : NULL,
			};

			gdbstub_report_stop(&t.stub, &stop);
		}
		fuzz_check_output();
	}
	return 0;
}
