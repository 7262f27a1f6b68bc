/*
 * Private interfaces between the files of the gdbstub library.
 *
 *   rsp.c        framing: receive state machine, acks, checksums, RLE, sending
 *   packets.c    the table of packets and the handlers of the simple ones
 *   run.c        the all-stop state machine: resume, vCont, stop replies
 *   target_xml.c the target description generated for qXfer:features:read
 *   util.c       hex, number parsing, binary escaping, reply building
 */
#ifndef GDBSTUB_PRIV_H
#define GDBSTUB_PRIV_H

#include <gdbstub.h>

/* Freestanding: the hypervisor's hv/lib provides these, the host's libc too. */
void *memcpy(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);

/* Hg/Hc value meaning "any thread" or "all threads". */
#define GDBSTUB_VCPU_ANY ((unsigned)-1)

/* Error numbers in E replies, chosen as errno values GDB users recognise. */
enum {
	GDB_E_PACKET = 0x01,  /* malformed packet or arguments */
	GDB_E_FAULT = 0x0e,   /* EFAULT: bad guest address */
	GDB_E_INVAL = 0x16,   /* EINVAL: bad register, thread, or state */
};

/* One row of the packet table: a packet whose text starts with name. */
struct rsp_packet {
	const char *name;
	void (*handle)(struct gdbstub *s, const char *args, size_t len);
	bool needs_stopped;   /* answered with an E reply while RUNNING */
	bool glued;           /* its arguments follow the name without a
			       * separator (LLDB's qThreadStopInfo<id>) */
};

/* rsp.c */
void rsp_send_packet(struct gdbstub *s, const char *payload, size_t len);
void rsp_dispatch(struct gdbstub *s);
const struct rsp_packet *rsp_match(const struct rsp_packet *table, size_t n,
				   const char *pkt, size_t len, size_t *name_len);

/* packets.c */
const struct rsp_packet *packets_find(const char *pkt, size_t len,
				      size_t *name_len);

/* run.c */
void run_handle_continue(struct gdbstub *s, const char *args, size_t len);
void run_handle_continue_signal(struct gdbstub *s, const char *args, size_t len);
void run_handle_step(struct gdbstub *s, const char *args, size_t len);
void run_handle_step_signal(struct gdbstub *s, const char *args, size_t len);
void run_handle_vcont(struct gdbstub *s, const char *args, size_t len);
void run_handle_vcont_query(struct gdbstub *s, const char *args, size_t len);
void run_handle_stop_query(struct gdbstub *s, const char *args, size_t len);
void run_reply_stop(struct gdbstub *s);
void run_reply_thread_stop(struct gdbstub *s, unsigned vcpu);
void run_send_console(struct gdbstub *s, const char *text, size_t len);

/* target_xml.c */
size_t target_xml_read(struct gdbstub *s, char *out, size_t room,
		       uint64_t offset, uint64_t len, bool *more);

/* util.c: reply building; overflow is remembered and turns into an E reply */
void reply_clear(struct gdbstub *s);
void reply_str(struct gdbstub *s, const char *str);
void reply_char(struct gdbstub *s, char c);
void reply_hex_bytes(struct gdbstub *s, const uint8_t *buf, size_t len);
void reply_hex_u64(struct gdbstub *s, uint64_t v);
void reply_error(struct gdbstub *s, unsigned err);
size_t reply_room(const struct gdbstub *s);

/* util.c: parsing; each returns false (and consumes nothing useful) on error */
int util_hex_digit(char c);
bool util_parse_hex(const char **p, const char *end, uint64_t *out);
bool util_parse_thread(const char **p, const char *end, int64_t *tid);
bool util_expect(const char **p, const char *end, char c);
bool util_hex_decode(const char *hex, size_t hex_len, uint8_t *out);
size_t util_unescape(char *buf, size_t len);
size_t util_escape(const uint8_t *in, size_t in_len, char *out, size_t room,
		   size_t *consumed);
size_t util_strlen(const char *s);
bool util_str_eq(const char *a, const char *end, const char *lit);

/* Shared helpers of the handlers */
unsigned stub_vcpu_count(struct gdbstub *s);
bool stub_tid_to_vcpu(struct gdbstub *s, int64_t tid, unsigned *vcpu);
unsigned stub_reg_size(struct gdbstub *s, unsigned regno);
unsigned stub_g_vcpu(struct gdbstub *s);

#endif
