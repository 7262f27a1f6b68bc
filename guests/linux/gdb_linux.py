"""GDB helpers for an arm64 Linux guest under trapvisor: `make gdb GUEST=linux` loads
this file (scripts/gdb) after the kernel's symbols.

A backtrace through the kernel from its frame records. Without DWARF (the symbols
kallsyms2elf recovers from an Image) GDB 13 unwinds by analysing prologues, which
stops after a frame or two in Debian's kernel; and with or without DWARF it cannot
follow a return address that pointer authentication signed (CONFIG_ARM64_PTR_AUTH_KERNEL,
on with -cpu max): GDB 13 clears the PAC bits of a code pointer, which is right for
user addresses and wrong for kernel ones, whose top bits must be ones.

The arm64 kernel is built with frame pointers: every non-leaf function keeps a frame
record {caller's x29, return address} where x29 points, the exception entry code
makes one in pt_regs for the interrupted context, and the chain ends in a record of
zeros. So this unwinder walks the records, and strips the PAC bits of each return
address by setting every bit above the kernel's virtual-address size (TCR_EL1.T1SZ).
The innermost frame may be in a prologue or epilogue, or in a leaf function that
makes no record: the instructions from the function's start up to the PC tell where
the return address is then (x30, the new record at sp, or the record at x29).

It applies to frames whose PC is a kernel address (bit 55 set), and to the frame
at pc 0 the chain ends in, and leaves every other frame to GDB. `disable unwinder linux-arm64-frame-records` turns it off.
"""
import gdb
from gdb.unwinder import Unwinder, register_unwinder

KERNEL_BIT = 1 << 55
MASK64 = (1 << 64) - 1

# A64 encodings (Arm ARM C6.2): the frame record's store and load, and the
# instructions around them in a kernel prologue or epilogue.
STP_FP_LR_PRE = (0xffc07fff, 0xa9807bfd)   # stp x29, x30, [sp, #-N]!
STP_FP_LR_OFF = (0xffc07fff, 0xa9007bfd)   # stp x29, x30, [sp, #M]
LDP_FP_LR_POST = (0xffc07fff, 0xa8c07bfd)  # ldp x29, x30, [sp], #N
SUB_SP_IMM = (0xff8003ff, 0xd10003ff)      # sub sp, sp, #N (optionally lsl #12)
ADD_FP_SP = (0xff8003ff, 0x910003fd)       # add x29, sp, #M  (mov x29, sp)
AUTIASP, PACIASP, RET, RETAA = 0xd50323bf, 0xd503233f, 0xd65f03c0, 0xd65f0bff
MAX_SCAN = 1024  # instructions of a function read to find its frame record


def is_kernel(addr):
    return addr & KERNEL_BIT and addr >> 48 == 0xffff


def matches(insn, form):
    return insn & form[0] == form[1]


def imm7(insn):
    v = (insn >> 15) & 0x7f
    return (v - 0x80 if v & 0x40 else v) * 8


def imm12(insn):
    return ((insn >> 10) & 0xfff) << (12 if insn & (1 << 22) else 0)


class KernelFrames(Unwinder):
    def __init__(self):
        super().__init__("linux-arm64-frame-records")
        self.va_bits = None

    def strip(self, addr):
        """A kernel code pointer without its PAC: every bit above the VA size set."""
        if self.va_bits is None:
            try:
                t1sz = (int(gdb.parse_and_eval("$tcr_el1")) >> 16) & 0x3f
                self.va_bits = 64 - t1sz if t1sz else 48
            except gdb.error:
                self.va_bits = 48
        if not addr & KERNEL_BIT:
            return addr
        return (addr | (MASK64 << self.va_bits)) & MASK64

    @staticmethod
    def read_u64(addr):
        return int.from_bytes(gdb.selected_inferior().read_memory(addr, 8).tobytes(), "little")

    @staticmethod
    def read_insns(addr, count):
        data = gdb.selected_inferior().read_memory(addr, 4 * count).tobytes()
        return [int.from_bytes(data[i:i + 4], "little") for i in range(0, len(data), 4)]

    @staticmethod
    def function_start(pc):
        """The start of the function holding pc, from the symbols (None if none)."""
        try:
            text = gdb.execute("info symbol %#x" % pc, to_string=True)
        except gdb.error:
            return None
        if text.startswith("No symbol"):
            return None
        words = text.split()
        if len(words) >= 3 and words[1] == "+":
            return pc - int(words[2])
        return pc

    def innermost(self, pc, sp, fp, lr, start):
        """(caller's pc, caller's x29, caller's sp) of the frame where the CPU is:
        the instructions from the function's start to pc say whether it has
        stored its frame record yet (or loaded it back, in an epilogue)."""
        if start is None or pc == start:
            return self.strip(lr), fp, sp
        here = self.read_insns(pc - 8, 3)
        if here[2] in (AUTIASP, RET, RETAA) and (matches(here[1], LDP_FP_LR_POST) or (
                here[1] == AUTIASP and matches(here[0], LDP_FP_LR_POST))):
            return self.strip(lr), fp, sp  # the record is loaded back: x30 returns
        if pc - start > 4 * MAX_SCAN:
            return self.strip(self.read_u64(fp + 8)), self.read_u64(fp), fp + 16
        alloc, record, fp_set = 0, None, False
        for insn in self.read_insns(start, (pc - start) // 4):
            if matches(insn, STP_FP_LR_PRE):
                alloc += -imm7(insn)
                record = 0
            elif matches(insn, STP_FP_LR_OFF):
                record = imm7(insn)
            elif matches(insn, SUB_SP_IMM):
                alloc += imm12(insn)
                record = None if record is None else record + imm12(insn)
            elif matches(insn, ADD_FP_SP) and record is not None:
                fp_set = True
        if record is None:  # a leaf, or not there yet: the return address is in x30
            return self.strip(lr), fp, sp + alloc
        where = fp if fp_set else sp + record
        return self.strip(self.read_u64(where + 8)), self.read_u64(where), sp + alloc

    def __call__(self, pending):
        pc = int(pending.read_register("pc")) & MASK64
        level = pending.level()
        if pc == 0 and level > 0:
            return self.end_of_chain(pending)
        if not is_kernel(pc):
            return None
        sp = int(pending.read_register("sp")) & MASK64
        fp = int(pending.read_register("x29")) & MASK64
        if level == 0:
            self.va_bits = None  # a new stop: TCR_EL1 may have changed
        try:
            if level == 0:
                lr = int(pending.read_register("x30")) & MASK64
                start = self.function_start(pc)
                caller_pc, caller_fp, caller_sp = self.innermost(pc, sp, fp, lr, start)
            else:
                start = self.function_start(pc - 4)
                if not is_kernel(fp):
                    return None
                caller_pc = self.strip(self.read_u64(fp + 8))
                caller_fp = self.read_u64(fp)
                caller_sp = fp + 16
        except (gdb.MemoryError, gdb.error):
            return None
        frame_id = FrameId(caller_sp, start if start is not None else pc, fp >> 14)
        info = pending.create_unwind_info(frame_id)
        # The caller's x30 is its own resume address: the bl that called this frame
        # left it there. The last record of the chain is zeros (the pt_regs of a
        # task's entry from EL0, or of a kernel thread): GDB then shows a frame at
        # pc 0 and ends the backtrace there, as for any outermost frame of zeros.
        info.add_saved_register("pc", gdb.Value(caller_pc).cast(pending.read_register("pc").type))
        info.add_saved_register("x30", gdb.Value(caller_pc).cast(pending.read_register("x30").type))
        info.add_saved_register("sp", gdb.Value(caller_sp).cast(pending.read_register("sp").type))
        info.add_saved_register("x29", gdb.Value(caller_fp).cast(pending.read_register("x29").type))
        return info


    @staticmethod
    def end_of_chain(pending):
        """The frame at pc 0 past the last record: GDB shows it and stops there
        (it never unwinds past a zero pc). It gets an id of its own, so that GDB's
        own unwinder, which would give it its caller's, never reports the stack as
        corrupt."""
        sp = int(pending.read_register("sp")) & MASK64
        info = pending.create_unwind_info(FrameId(sp + 16, 0, sp >> 14))
        for reg in ("pc", "x29", "x30"):
            info.add_saved_register(reg, gdb.Value(0).cast(pending.read_register(reg).type))
        info.add_saved_register("sp", gdb.Value(sp + 16).cast(pending.read_register("sp").type))
        return info


class FrameId:
    """What GDB identifies a frame by: the caller's sp, the function, and the 16 KiB
    stack the record is on (a kernel thread's stack, or a CPU's IRQ stack), so that
    a chain going from the IRQ stack to the task's is not taken for a corrupt one."""

    def __init__(self, sp, pc, special):
        self.sp = gdb.Value(sp)
        self.pc = gdb.Value(pc)
        self.special = gdb.Value(special)


register_unwinder(None, KernelFrames(), replace=True)
