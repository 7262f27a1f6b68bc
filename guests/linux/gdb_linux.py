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

A stop inside the exception entry code before it has made its record (often right
on the vector: the guest's interrupt is taken as the hypervisor stops the vCPU) has
the interrupted code as its caller, at ELR_EL1 where the target shows that
register; where it does not, the backtrace ends there rather than guess.

It applies to frames whose PC is a kernel address (bit 55 set), and to the frame
at pc 0 the chain ends in, and leaves every other frame to GDB. `disable unwinder linux-arm64-frame-records` turns it off.
"""
import re

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
# Exception entry code (arch/arm64/kernel/entry.S): the vector table and the
# handlers its slots branch to. kernel_entry saves the interrupted registers in
# pt_regs (x0-x30, then sp: regs[31]) and makes a frame record there (add x29,
# sp, #S_STACKFRAME); before that, the caller is the interrupted code as it was.
ENTRY = re.compile(r"^(vectors|el[01][th]_(64|32)_(sync|irq|fiq|error))$")


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
        self.resumed = {}  # (pc, sp) of frames an exception interrupted

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
    def function_of(pc):
        """(start, name) of the function holding pc, from the symbols (None, None)."""
        try:
            text = gdb.execute("info symbol %#x" % pc, to_string=True)
        except gdb.error:
            return None, None
        if text.startswith("No symbol"):
            return None, None
        words = text.split()
        if len(words) >= 3 and words[1] == "+":
            return pc - int(words[2]), words[0]
        return pc, words[0]

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

    def entry_record_offset(self, start, pc):
        """S_STACKFRAME, the offset of the frame record in pt_regs, if the entry
        code has run its `add x29, sp, #S_STACKFRAME` (kernel_entry) before pc,
        which makes x29 point to it; else None."""
        count = min((pc - start) // 4, MAX_SCAN)
        for insn in self.read_insns(start, count) if count > 0 else ():
            if matches(insn, ADD_FP_SP) and imm12(insn):
                return imm12(insn)
        return None

    def interrupted(self, pending, name):
        """An exception entry before kernel_entry made its pt_regs frame record
        (a stop often lands right on the vector, the guest's interrupt taken as
        the hypervisor stopped it): the caller is what was interrupted, at
        ELR_EL1, with this frame's x29 and x30; or nothing to show, for an entry
        from user space or a target without ELR_EL1."""
        if not name.startswith(("vectors", "el1")):
            return None
        try:
            elr = int(pending.read_register("elr_el1")) & MASK64
        except (ValueError, gdb.error):
            return None
        return elr if is_kernel(elr) else None

    def __call__(self, pending):
        pc = int(pending.read_register("pc")) & MASK64
        level = pending.level()
        if pc == 0 and level > 0:
            return self.end_of_chain(pending)
        if not is_kernel(pc):
            return None
        sp = int(pending.read_register("sp")) & MASK64
        fp = int(pending.read_register("x29")) & MASK64
        lr = int(pending.read_register("x30")) & MASK64
        if level == 0:
            self.va_bits = None  # a new stop: TCR_EL1 may have changed
            self.resumed = {}
        caller_lr = None
        try:
            start, name = self.function_of(pc if level == 0 else pc - 4)
            if (pc, sp) in self.resumed:
                # Interrupted where ELR_EL1 says: as innermost as a stop.
                caller_pc, caller_fp, caller_sp = self.innermost(pc, sp, fp, lr, start)
            elif name and ENTRY.match(name):
                stackframe = self.entry_record_offset(start, pc)
                if stackframe is not None and name.startswith("el0"):
                    # From user space: the record in pt_regs is the chain's end.
                    caller_pc = self.strip(self.read_u64(fp + 8))
                    caller_fp, caller_sp = self.read_u64(fp), fp + 16
                elif stackframe is not None:
                    # pt_regs: x29 and x30 and sp of the interrupted code too.
                    regs = fp - stackframe
                    caller_pc = self.strip(self.read_u64(fp + 8))
                    caller_fp = self.read_u64(regs + 8 * 29)
                    caller_lr = self.read_u64(regs + 8 * 30)
                    caller_sp = self.read_u64(regs + 8 * 31)
                    if caller_pc:
                        self.resumed[(caller_pc, caller_sp)] = True
                elif level > 0:
                    return None
                else:
                    elr = self.interrupted(pending, name)
                    if elr is None:
                        return self.end_of_chain(pending, frame_sp=sp, frame_pc=start)
                    caller_pc, caller_fp, caller_sp, caller_lr = elr, fp, sp, lr
                    self.resumed[(elr, sp)] = True
            elif level == 0:
                caller_pc, caller_fp, caller_sp = self.innermost(pc, sp, fp, lr, start)
            else:
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
        # left it there (unless this frame is an exception's: then it is the
        # interrupted one's). The last record of the chain is zeros (the pt_regs of
        # a task's entry from EL0, or of a kernel thread): GDB then shows a frame
        # at pc 0 and ends the backtrace there, as for any outermost frame.
        self.save(info, pending, caller_pc, caller_sp, caller_fp,
                  caller_pc if caller_lr is None else caller_lr)
        return info

    @staticmethod
    def save(info, pending, pc, sp, fp, lr):
        for reg, value in (("pc", pc), ("sp", sp), ("x29", fp), ("x30", lr)):
            info.add_saved_register(reg, gdb.Value(value).cast(pending.read_register(reg).type))

    @classmethod
    def end_of_chain(cls, pending, frame_sp=None, frame_pc=None):
        """A frame whose caller is the end of the chain: pc 0. For the frame at pc
        0 itself (the record of zeros past the last one), GDB shows it and stops
        there, since it never unwinds past a zero pc; it gets an id of its own,
        so that GDB's own unwinder, which would give it its caller's, never
        reports the stack as corrupt."""
        sp = int(pending.read_register("sp")) & MASK64
        frame_id = FrameId(sp + 16, 0, sp >> 14) if frame_sp is None else \
            FrameId(frame_sp, frame_pc or 0, frame_sp >> 14)
        info = pending.create_unwind_info(frame_id)
        cls.save(info, pending, 0, sp + 16, 0, 0)
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
