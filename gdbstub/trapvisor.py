"""trapvisor's friendly GDB commands, on top of `monitor hv ...` (docs/monitor.md).

`make gdb` loads this file; any gdb-multiarch can with `source gdbstub/trapvisor.py`.
Plain gdb without Python still has every feature through `monitor hv ...`.

    hv catch wfi [vcpu=N ...]             hv catch sysreg SCTLR_EL1 [r|w] [FILTER=...]
    hv catch mmio 0x09000000[-END] [r|w]        hv catch hvc|smc [fn=N] [imm=N]
    hv catch irq 27 [vcpu=N]              hv irq (each vCPU's list registers)
    hv catch list|delete N|delete all|enable N|disable N
    hv trace [N]   hv trace on|off|clear   hv stats [reset]   hv status   hv trap ...

Tab completes classes and system-register names; when the guest stops for a
trap, one line tells which trap it was.
"""
import gdb

CLASSES = ["wfi", "wfe", "hvc", "smc", "sysreg", "id", "vm", "cache", "debug", "pmu", "fp", "mmio", "irq", "sched"]
SYSREG_CLASSES = ("sysreg", "id", "vm", "cache", "debug", "pmu")
CATCH_VERBS = ["list", "delete", "enable", "disable"]
EC_NAMES = {0x00: "unknown", 0x01: "WFI/WFE", 0x07: "FP/SIMD", 0x16: "HVC", 0x17: "SMC",
            0x18: "MSR/MRS/SYS", 0x20: "instruction abort", 0x24: "data abort", 0x30: "breakpoint",
            0x32: "software step", 0x34: "watchpoint", 0x3c: "BRK"}


def monitor(command):
    """Run `monitor <command>` and show what the hypervisor said."""
    gdb.write(gdb.execute("monitor " + command, to_string=True))


def system_registers():
    """The system registers of the target description (the hypervisor's table)."""
    try:
        arch = gdb.selected_frame().architecture()
        return sorted(r.name.upper() for r in arch.registers("system"))
    except (gdb.error, AttributeError):
        return []


def complete_from(choices, word):
    word = word or ""
    return [c for c in choices if c.lower().startswith(word.lower())]


class Hv(gdb.Command):
    """trapvisor's hypervisor commands: hv catch, hv trace, hv stats, hv status, hv trap.
Each one is a `monitor hv ...` command; `monitor hv help` lists them all."""

    def __init__(self):
        super().__init__("hv", gdb.COMMAND_USER, prefix=True)

    def invoke(self, arg, from_tty):
        monitor("hv help" if not arg.strip() else "hv " + arg)


class HvPassThrough(gdb.Command):
    def __init__(self, name, doc, choices=()):
        self.__doc__ = doc
        self.name = name
        self.choices = list(choices)
        super().__init__("hv " + name, gdb.COMMAND_USER)

    def invoke(self, arg, from_tty):
        monitor(("hv %s %s" % (self.name, arg)).strip())

    def complete(self, text, word):
        if len(gdb.string_to_argv(text)) > (0 if text.endswith(" ") or not text else 1):
            return gdb.COMPLETE_NONE
        return complete_from(self.choices, word)


class HvCatch(gdb.Command):
    """Stop the guest on a trap: hv catch CLASS [what] [r|w] [FILTER=VALUE ...]
  hv catch wfi vcpu=1                  a WFI on vCPU 1
  hv catch sysreg SCTLR_EL1 w          a write of SCTLR_EL1 (any system-register class)
  hv catch mmio 0x09000000 w           a write to that address (its page is trapped while caught)
  hv catch hvc fn=0x84000000           a PSCI_VERSION call
  hv catch irq 27 vcpu=1               the virtual timer's interrupt given to vCPU 1
  hv catch sched vcpu=2                vCPU 2 switched in on its pCPU (vCPUs sharing pCPUs)
  hv catch list | delete N | delete all | enable N | disable N
Filters: vcpu= pc= reg= dir= addr= intid= imm= fn= value= skip= (docs/monitor.md)."""

    def __init__(self):
        super().__init__("hv catch", gdb.COMMAND_BREAKPOINTS)

    def invoke(self, arg, from_tty):
        words = gdb.string_to_argv(arg)
        if not words:
            raise gdb.GdbError("hv catch: which class? (%s)" % " ".join(CLASSES))
        if words[0] in CATCH_VERBS:
            monitor("hv catch " + " ".join(words))
            return
        cls, rest, filters = words[0], words[1:], []
        if rest and "=" not in rest[0] and rest[0] not in ("r", "w"):
            what = rest.pop(0)
            if cls in SYSREG_CLASSES:
                filters.append("reg=" + what)
            elif cls == "mmio":
                filters.append("addr=" + what)  # the hypervisor traps the range if need be
            elif cls == "irq":
                filters.append("intid=" + what)
            else:
                raise gdb.GdbError("hv catch %s: say what with FILTER=VALUE (e.g. fn=0x84000000)" % cls)
        if rest and rest[0] in ("r", "w"):
            filters.append("dir=" + rest.pop(0))
        monitor("hv catch " + " ".join([cls] + filters + rest))

    def complete(self, text, word):
        args = gdb.string_to_argv(text)
        done = len(args) if text.endswith(" ") or not text else len(args) - 1
        if done == 0:
            return complete_from(CLASSES + CATCH_VERBS, word)
        if done == 1 and args[0] in SYSREG_CLASSES:
            return complete_from(system_registers(), word)
        return complete_from(["r", "w", "vcpu=", "pc=", "value=", "skip="], word)


def on_stop(event):
    """After a stop that is not one of GDB's breakpoints (a catchpoint, Ctrl-C, a
    step), say which trap the vCPU was last in: the hypervisor registers. (GDB 13
    reports a remote SIGTRAP as a plain StopEvent.)"""
    if isinstance(event, gdb.BreakpointEvent):
        return
    try:
        ec = int(gdb.parse_and_eval("$ec"))
        esr = int(gdb.parse_and_eval("$esr"))
        seq = int(gdb.parse_and_eval("$seq"))
    except gdb.error:
        return  # not trapvisor's stub
    gdb.write("hv: last trap #%d: EC %#x (%s), ESR %#x\n" % (seq, ec, EC_NAMES.get(ec, "?"), esr))


Hv()
HvCatch()
HvPassThrough("trace", "The trace: hv trace [N] | on | off | clear | dump", ["on", "off", "clear", "dump"])
HvPassThrough("stats", "Traps per class and per vCPU: hv stats [reset]", ["reset"])
HvPassThrough("status", "Version, vCPUs and their state, the trap classes on.")
HvPassThrough("trap", "Trap classes: hv trap list | on CLASS | off CLASS | on mmio A-B", ["list", "on", "off"])
HvPassThrough("irq", "The virtual GIC: each vCPU's list registers and the interrupts waiting")
HvPassThrough("sysreg", "hv sysreg value NAME VAL|reset: what a trapped ID register reads as", ["value"])
gdb.events.stop.connect(on_stop)
