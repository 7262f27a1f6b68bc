/*
 * gdbstub: a freestanding GDB Remote Serial Protocol stub (protocol only).
 *
 * Layering: bytes in (gdbstub_handle_byte), packets parsed, calls into a
 * target interface (struct gdb_target_ops), bytes out (ops->write). The
 * library never touches hardware, never allocates, and never includes a
 * header of the hypervisor, so the same code runs in the hypervisor at EL2
 * and on the host under unit tests and a fuzzer.
 *
 * Contract with the caller (the "target", i.e. the hypervisor's debug module):
 *
 *  - The caller owns the UART. It calls gdbstub_handle_byte() for every byte
 *    received from GDB, in order, and implements ops->write() to send bytes.
 *  - The stub is not thread-safe: the caller serialises every call into it
 *    (one lock around gdbstub_handle_byte / gdbstub_report_stop /
 *    gdbstub_console_write). Target hooks are called with that lock held, from
 *    inside those functions, so a hook may call gdbstub_report_stop() itself
 *    (for example a resume that stops at once) but must not re-enter
 *    gdbstub_handle_byte().
 *  - All-stop model. The stub is either STOPPED (GDB owns the guest: every
 *    vCPU is frozen, registers and memory may be read and written) or RUNNING
 *    (the guest runs; GDB waits for a stop reply). It starts STOPPED or
 *    RUNNING as gdbstub_init() is told.
 *      STOPPED -> RUNNING: GDB sends c/s/C/S/vCont; the stub calls
 *        ops->resume() once with one action per vCPU and sends no reply.
 *      RUNNING -> STOPPED: the caller stops every vCPU and calls
 *        gdbstub_report_stop(); the stub sends the stop reply.
 *      In RUNNING, a Ctrl-C (0x03) from GDB calls ops->interrupt(): the target
 *      must stop all vCPUs soon and then call gdbstub_report_stop() with
 *      GDB_SIGNAL_INT. A '?' in RUNNING (GDB reconnecting to a running guest)
 *      does the same. Packets that need a frozen guest (registers, memory,
 *      breakpoints, resume) are answered with an E reply in RUNNING.
 *  - vCPUs are GDB threads: thread id = vCPU index + 1 (ids are positive).
 *  - Register numbers are those of the target description the stub generates:
 *      0..30 x0..x30 (64-bit), 31 sp, 32 pc, 33 cpsr (32-bit),
 *      34..65 v0..v31 (128-bit), 66 fpsr, 67 fpcr (32-bit),
 *      68.. the target's own registers, in the order ops->reg_describe()
 *      lists them (index i is register 68 + i).
 *    Register values cross the interface as little-endian bytes.
 */
#ifndef GDBSTUB_H
#define GDBSTUB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Largest packet GDB may send us and largest reply we build (PacketSize). */
#ifndef GDBSTUB_PACKET_SIZE
#define GDBSTUB_PACKET_SIZE 4096
#endif

/* Upper bound of vCPUs the stub can describe in one resume call. */
#ifndef GDBSTUB_MAX_VCPUS
#define GDBSTUB_MAX_VCPUS 64
#endif

/* Upper bound of target-defined registers (beyond core and fpu). */
#ifndef GDBSTUB_MAX_EXTRA_REGS
#define GDBSTUB_MAX_EXTRA_REGS 1024
#endif

/* Fixed register numbers of the generated target description. */
enum {
	GDB_REG_X0 = 0,
	GDB_REG_X29 = 29,
	GDB_REG_X30 = 30,
	GDB_REG_SP = 31,
	GDB_REG_PC = 32,
	GDB_REG_CPSR = 33,
	GDB_REG_V0 = 34,
	GDB_REG_FPSR = 66,
	GDB_REG_FPCR = 67,
	GDB_REG_FIRST_EXTRA = 68,
};

/* GDB's own signal numbers (not the host's), as sent in stop replies. */
enum {
	GDB_SIGNAL_INT = 2,
	GDB_SIGNAL_ILL = 4,
	GDB_SIGNAL_TRAP = 5,
	GDB_SIGNAL_BUS = 10,
	GDB_SIGNAL_SEGV = 11,
};

/* Where a target-defined register appears: its tdesc feature and reggroup. */
enum gdb_reg_feature {
	GDB_FEATURE_SYSTEM,     /* guest EL1 system registers, group "system" */
	GDB_FEATURE_HYPERVISOR, /* hypervisor's own registers, group "hypervisor" */
};

struct gdb_reg_desc {
	const char *name;              /* e.g. "sctlr_el1"; [A-Za-z0-9_] only */
	unsigned bitsize;              /* multiple of 8, 8..128 */
	enum gdb_reg_feature feature;
	const char *type;              /* tdesc type; NULL means "int" */
};

/* Z/z packet types, numbered as on the wire. */
enum gdb_bp_type {
	GDB_BP_SW = 0,      /* software breakpoint */
	GDB_BP_HW = 1,      /* hardware breakpoint */
	GDB_BP_WRITE = 2,   /* write watchpoint */
	GDB_BP_READ = 3,    /* read watchpoint */
	GDB_BP_ACCESS = 4,  /* access watchpoint */
};

/* Result of ops->bp_insert / ops->bp_remove. */
enum gdb_bp_result {
	GDB_BP_OK,          /* reply "OK" */
	GDB_BP_UNSUPPORTED, /* reply "" so GDB falls back (e.g. to memory writes) */
	GDB_BP_ERROR,       /* reply "E.." (no slot left, bad address...) */
};

/* What one vCPU does when GDB resumes the guest. */
enum gdb_action_kind {
	GDB_ACTION_STOP,     /* stays stopped (vCont named other threads only) */
	GDB_ACTION_CONTINUE,
	GDB_ACTION_STEP,     /* one instruction, then report a stop */
};

struct gdb_action {
	enum gdb_action_kind kind;
	uint8_t signal;      /* GDB signal to deliver, 0 for none */
};

/* Why the guest stopped, as told by the caller in gdbstub_report_stop(). */
enum gdb_stop_reason {
	GDB_STOP_SIGNAL,  /* plain stop: Ctrl-C, end of a step, a catchpoint */
	GDB_STOP_SWBREAK, /* a software breakpoint (brk) set through Z0 */
	GDB_STOP_HWBREAK, /* a hardware breakpoint (Z1) */
	GDB_STOP_WATCH,   /* write watchpoint hit at addr */
	GDB_STOP_RWATCH,  /* read watchpoint hit at addr */
	GDB_STOP_AWATCH,  /* access watchpoint hit at addr */
};

struct gdb_stop {
	unsigned vcpu;               /* vCPU that stopped (others are frozen too) */
	enum gdb_stop_reason reason;
	uint8_t signal;              /* GDB signal; 0 means GDB_SIGNAL_TRAP */
	uint64_t addr;               /* data address, for the *WATCH reasons */
	const char *text;            /* NULL, or one line GDB prints before the stop
				      * (sent as O packets, ended with a newline if
				      * it has none), e.g. the trap event */
};

/*
 * Output sink handed to ops->monitor(): each call sends text to GDB's console
 * (as O packets) before the command's final reply.
 */
typedef void gdb_output_fn(void *out_arg, const char *text, size_t len);

/*
 * The target interface. Every hook gets the ctx given to gdbstub_init().
 * Hooks marked (stopped) are only called while the stub is STOPPED.
 */
struct gdb_target_ops {
	/* Send bytes to GDB (the debug UART). Must send all of them. */
	void (*write)(void *ctx, const uint8_t *buf, size_t len);

	/* Number of vCPUs, 1..GDBSTUB_MAX_VCPUS; fixed for the stub's lifetime. */
	unsigned (*vcpu_count)(void *ctx);

	/* Optional: a short text about a vCPU (qThreadExtraInfo, shown by
	 * `info threads`), written NUL-terminated into buf of size bytes. */
	void (*vcpu_describe)(void *ctx, unsigned vcpu, char *buf, size_t size);

	/* Optional: describe target-defined register number 68 + index into *out.
	 * Return false when index is past the last register. The list must not
	 * change while GDB is attached (GDB caches the target description). */
	bool (*reg_describe)(void *ctx, unsigned index, struct gdb_reg_desc *out);

	/* (stopped) Read register regno of vcpu: size little-endian bytes into buf.
	 * Return false if its value is unavailable (GDB shows <unavailable>). */
	bool (*reg_read)(void *ctx, unsigned vcpu, unsigned regno, uint8_t *buf,
			 size_t size);

	/* (stopped) Write register regno of vcpu from size little-endian bytes.
	 * Return false to refuse (read-only register): GDB gets an E reply. */
	bool (*reg_write)(void *ctx, unsigned vcpu, unsigned regno,
			  const uint8_t *buf, size_t size);

	/* (stopped) Copy guest memory as seen by vcpu (guest virtual addresses,
	 * both translation stages). Return how many bytes from addr on were
	 * copied before the first fault: len on success, 0 if addr itself is bad.
	 * A short read is sent to GDB as is (GDB asks again for the rest); a
	 * zero read becomes E14. Must never fault the hypervisor. */
	size_t (*mem_read)(void *ctx, unsigned vcpu, uint64_t addr, uint8_t *buf,
			   size_t len);

	/* (stopped) Same for writes. Any short write is E14 for GDB; the bytes
	 * before the fault may have been written (as on real memory). The target
	 * keeps caches coherent (instruction cache after writing code). */
	size_t (*mem_write)(void *ctx, unsigned vcpu, uint64_t addr,
			    const uint8_t *buf, size_t len);

	/* (stopped) Resume the guest: actions[i] is vCPU i's action, for each of
	 * count = vcpu_count() vCPUs. Returns at once; the stub is RUNNING when it
	 * is called. The target later calls gdbstub_report_stop(). */
	void (*resume)(void *ctx, const struct gdb_action *actions, unsigned count);

	/* (running) GDB pressed Ctrl-C: stop every vCPU, then report the stop
	 * with GDB_SIGNAL_INT. May be called more than once before the stop. */
	void (*interrupt)(void *ctx);

	/* Optional, (stopped): insert/remove a breakpoint or watchpoint. kind
	 * is GDB's: 4 for an A64 instruction, the length in bytes for a
	 * watchpoint. vcpu: the thread GDB selected (Hg), whose translation
	 * the address is in, as for memory. Without them GDB writes brk
	 * instructions itself (M/X). */
	enum gdb_bp_result (*bp_insert)(void *ctx, unsigned vcpu, enum gdb_bp_type type,
					uint64_t addr, uint64_t kind);
	enum gdb_bp_result (*bp_remove)(void *ctx, unsigned vcpu, enum gdb_bp_type type,
					uint64_t addr, uint64_t kind);

	/* Optional: run a `monitor` command (NUL-terminated text, as typed).
	 * Output goes through out(out_arg, ...), any number of times. Return 0
	 * for success ("OK") or an error number 1..255 ("Enn"). May be called
	 * in either state. */
	int (*monitor)(void *ctx, const char *cmd, gdb_output_fn *out,
		       void *out_arg);

	/* GDB detached (D) or killed (k): remove every breakpoint and let the
	 * guest run without GDB (detach), or stop it for good (kill: power off
	 * or reset, the target's choice). The stub is RUNNING afterwards. */
	void (*detach)(void *ctx);
	void (*kill)(void *ctx);
};

/* Receive state of the framing machine (private to the library). */
enum gdbstub_rx_state {
	GDBSTUB_RX_IDLE,
	GDBSTUB_RX_DATA,
	GDBSTUB_RX_CSUM_HI,
	GDBSTUB_RX_CSUM_LO,
};

/*
 * The whole stub state: one per debug line, provided by the caller (static
 * storage is fine), initialised by gdbstub_init(). Fields are private.
 */
struct gdbstub {
	const struct gdb_target_ops *ops;
	void *ctx;

	bool running;
	bool no_ack;            /* after QStartNoAckMode */
	bool no_ack_fresh;      /* ... and it was the last packet (LLDB sends it
				 * before qSupported, which must not undo it) */
	bool thread_suffix;     /* after QThreadSuffixSupported (LLDB) */
	bool threads_in_stop;   /* after QListThreadsInStopReply (LLDB) */
	unsigned suffix_vcpu;   /* this packet's ";thread:id;" (ANY: none) */
	unsigned g_vcpu;        /* Hg: registers and memory */
	unsigned c_vcpu;        /* Hc: which vCPU `s` steps */
	unsigned thread_cursor; /* next vCPU for qsThreadInfo */
	struct gdb_stop last_stop;

	enum gdbstub_rx_state rx_state;
	bool rx_overflow;
	uint8_t rx_sum;         /* running checksum of the packet data */
	uint8_t rx_csum;        /* checksum received after '#' */
	size_t rx_len;
	char rx[GDBSTUB_PACKET_SIZE + 1]; /* +1: handlers see a NUL terminator */

	bool reply_overflow;
	bool reply_none;        /* the packet has no reply (c, s, vCont, k) */
	size_t reply_len;
	char reply[GDBSTUB_PACKET_SIZE];

	size_t tx_len;          /* last framed packet, resent on '-' */
	uint8_t tx[GDBSTUB_PACKET_SIZE + 4];

	struct gdb_action actions[GDBSTUB_MAX_VCPUS];
};

/* Set up the stub. running tells whether the guest already runs; a stopped
 * start reports vCPU 0 stopped with SIGTRAP to GDB's first '?'. */
void gdbstub_init(struct gdbstub *stub, const struct gdb_target_ops *ops,
		  void *ctx, bool running);

/* Feed one byte received from GDB. May call any hook and ops->write(). */
void gdbstub_handle_byte(struct gdbstub *stub, uint8_t c);

/* The guest stopped (all vCPUs frozen). In RUNNING: sends stop->text (if
 * any) as an O packet, then the T stop reply, and the stub becomes STOPPED.
 * In STOPPED (e.g. a stop found at boot) it only records the stop for '?'. */
void gdbstub_report_stop(struct gdbstub *stub, const struct gdb_stop *stop);

/* Send text to GDB's console while the guest runs (an O packet). Ignored
 * while STOPPED, where GDB would take it for a reply. */
void gdbstub_console_write(struct gdbstub *stub, const char *text, size_t len);

/* True between a resume and the next reported stop. */
bool gdbstub_is_running(const struct gdbstub *stub);

#endif
