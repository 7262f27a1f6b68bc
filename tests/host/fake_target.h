/*
 * A fake target for the gdbstub library: N vCPUs with register files, one
 * region of guest memory (every address outside it faults), and a record of
 * every call the stub makes, so tests can check both what GDB would see and
 * what the hypervisor would have been asked to do.
 */
#ifndef TESTS_HOST_FAKE_TARGET_H
#define TESTS_HOST_FAKE_TARGET_H

#include <gdbstub.h>

#define FAKE_MAX_VCPUS 64
#define FAKE_MEM_BASE 0x40000000ull
#define FAKE_MEM_SIZE 0x4000u
#define FAKE_EXTRA_REGS 6
#define FAKE_NUM_REGS (GDB_REG_FIRST_EXTRA + FAKE_EXTRA_REGS)
#define FAKE_OUT_SIZE (1u << 17)

struct fake_bp_call {
	bool insert;
	unsigned vcpu;
	enum gdb_bp_type type;
	uint64_t addr, kind;
};

struct fake_target {
	struct gdbstub stub;
	unsigned nvcpus;
	uint8_t regs[FAKE_MAX_VCPUS][FAKE_NUM_REGS][16];
	int unavailable_reg;      /* reads of this regno fail; -1 for none */
	int readonly_reg;         /* writes of this regno fail; -1 for none */
	uint8_t mem[FAKE_MEM_SIZE];

	unsigned resume_calls, interrupt_calls, detach_calls, kill_calls;
	struct gdb_action actions[FAKE_MAX_VCPUS];
	unsigned action_count;

	unsigned bp_calls;
	struct fake_bp_call bp_last;
	enum gdb_bp_result bp_result;

	unsigned monitor_calls;
	char monitor_cmd[4096];
	int monitor_result;
	size_t monitor_repeat;    /* how many times monitor_output is printed */
	const char *monitor_output;

	const char *vcpu_text;    /* qThreadExtraInfo text; NULL: vCPU n */
	unsigned mem_writes;

	/* Everything the stub sent, NUL-terminated. Last: fake_init clears
	 * the fields above it, not these 128 KiB. */
	size_t out_len;
	char out[FAKE_OUT_SIZE];
};

extern const struct gdb_target_ops fake_target_ops;

/* Fresh target with nvcpus vCPUs and a stopped stub. */
void fake_init(struct fake_target *t, unsigned nvcpus);

/* Bytes from "GDB" to the stub. */
void fake_feed(struct fake_target *t, const void *bytes, size_t len);
void fake_feed_str(struct fake_target *t, const char *s);

/* Frames payload as $payload#xx (len bytes, binary allowed) and feeds it. */
void fake_send(struct fake_target *t, const void *payload, size_t len);
void fake_send_str(struct fake_target *t, const char *payload);

/* Forget what the stub has sent so far. */
void fake_clear_output(struct fake_target *t);

/*
 * Parses the output as GDB would: acks are skipped, every packet's checksum
 * is verified and its run lengths expanded. Returns the payload of packet
 * number index (0 = first since the last clear), NUL-terminated in a static
 * buffer, or NULL if there is no such packet or a frame is bad. *npackets
 * (if not NULL) receives the count of packets.
 */
const char *fake_reply(struct fake_target *t, unsigned index, unsigned *npackets);

/* Send payload and return its (first) reply payload, clearing output first. */
const char *fake_exchange(struct fake_target *t, const char *payload);

/* Little-endian helpers over the register file. */
void fake_set_reg(struct fake_target *t, unsigned vcpu, unsigned regno, uint64_t v);
uint64_t fake_get_reg(struct fake_target *t, unsigned vcpu, unsigned regno);

/* Hex-encodes text into out (NUL-terminated). */
void fake_hex(const void *data, size_t len, char *out);

#endif
