#!/usr/bin/env bash
# GDB integration tests: boot the gdbtarget guest (guests/gdbtarget.c) on 2 vCPUs,
# attach a real gdb-multiarch, and check what gdb prints and what the guest's
# console shows. Several small gdb sessions, each one a check or a few; every gdb
# and the QEMU run under a timeout, and the QEMU started here is always killed.
#
#   bash tests/qemu/gdb.sh               trapvisor's GDB stub on its debug line, a virtio
#                                        console (make test)
#   bash tests/qemu/gdb.sh --debug-line 16550
#                                        the same on a 16550 UART (make test, gdb_16550.sh)
#   bash tests/qemu/gdb.sh --reference   the same checks against QEMU's own gdbstub, with the
#                                        guest at EL1 and no hypervisor (hypervisor-only
#                                        checks are SKIPped)
#
# Output: one "PASS: gdb: <what>" / "FAIL: gdb: <what>: <why>" / "SKIP: ..." line per
# check. Logs: build/test-logs/gdb-<run>-*.out (gdb) and gdb-<run>.console (guest), where
# <run> is hv, hv-16550 or reference.
source "$(dirname "$0")/lib.sh"
mode=hv line=virtio
case "${1:-}" in
--reference) mode=reference ;;
--debug-line) line=${2:-} ;;
"") ;;
*) echo "usage: $0 [--reference | --debug-line virtio|16550]" >&2; exit 2 ;;
esac
run=$mode
[ "$line" = virtio ] || run=$mode-$line

elf=$top/build/guests/gdbtarget.elf
bin=$top/build/guests/gdbtarget.bin
src=$top/guests/gdbtarget.c
GDB=${GDB:-gdb-multiarch}
console=$log_dir/gdb-$run.console
guard=$log_dir/gdb-$run.guard
budget=140 # seconds: past this, stop rather than pile up timeouts (tests/run allows 300)
failures=0

pass() { echo "PASS: gdb: $1"; }
fail() {
	echo "FAIL: gdb: $1: ${2:-unexpected gdb output}"
	failures=$((failures + 1))
	if [ $# -gt 2 ] && [ -n "$3" ]; then
		printf '%s\n' "$3" | head -n 30 | sed 's/^/    | /'
	fi
}
skip() { echo "SKIP: gdb: $1: $2"; }
verdict() { # verdict WHAT WHY-IF-FAILED OUTPUT-IF-FAILED -- condition is $?
	if [ "$1" = 0 ]; then pass "$2"; else fail "$2" "$3" "${4:-}"; fi
}

for tool in "$GDB" qemu-system-aarch64; do
	command -v "$tool" >/dev/null || { fail "setup" "$tool is not installed (scripts/deps)"; exit 1; }
done
for f in "$elf" "$bin" $([ $mode = hv ] && echo "$top/build/trapvisor.elf"); do
	[ -f "$f" ] || { fail "setup" "$f is missing (make all)"; exit 1; }
done

# ---- the machine ---------------------------------------------------------------------
port=$(free_port)
qemu_pid=
stop_qemu() {
	if [ -n "$qemu_pid" ] && kill -0 "$qemu_pid" 2>/dev/null; then
		kill "$qemu_pid" 2>/dev/null # timeout(1), which passes it on to its QEMU
		wait "$qemu_pid" 2>/dev/null
	fi
	qemu_pid=
	rm -f "$guard"
}
trap stop_qemu EXIT
trap 'stop_qemu; exit 1' INT TERM

if [ $mode = hv ]; then
	qemu=("$top/scripts/run-qemu" --quiet --smp 2 --gdb-port "$port" --guest "$bin" --debug-line "$line")
	sysreg='$sctlr_el1' # the hypervisor's system-register table, lower-case in gdb
else
	# QEMU loads the ELF at its link address (0x42200000) and starts it at _start at EL1;
	# without EL2 its PSCI conduit is HVC, which is what the guest uses.
	qemu=(qemu-system-aarch64 -machine virt,gic-version=3 -cpu max -smp 2 -m 1G
	      -nographic -no-reboot -nic none -kernel "$elf" -gdb "tcp:127.0.0.1:$port")
	sysreg='$SCTLR' # QEMU 7.2 names SCTLR_EL1 after its AArch32 twin
fi
: >"$console" # before the background job opens it, for the first console_wait
timeout --kill-after=5 $((budget + 30)) "${qemu[@]}" </dev/null >"$console" 2>&1 &
qemu_pid=$!

clean_console() { tr -d '\r' <"$console"; }
# console_wait REGEX SECONDS: wait until the guest's console has a line matching REGEX.
console_wait() {
	local deadline=$((SECONDS + $2))
	while [ $SECONDS -lt $deadline ]; do
		clean_console | grep -qE "$1" && return 0
		kill -0 "$qemu_pid" 2>/dev/null || break
		sleep 0.2
	done
	clean_console | grep -qE "$1"
}
last_tick() { clean_console | sed -n 's/^gdbtarget: tick \([0-9]*\)$/\1/p' | tail -n 1; }

if ! console_wait '^gdbtarget: ready, 2 vCPUs' 60; then
	fail "boot" "gdbtarget did not report 2 vCPUs ready within 60 s" "$(clean_console | tail -n 20)"
	exit 1
fi
console_wait '^gdbtarget: tick [0-9]+' 20 || true
if [ $mode = hv ]; then
	want=$([ "$line" = 16550 ] && echo "16550 UART" || echo "virtio console")
	clean_console | grep -q "^trapvisor: debug line: $want at PCI .*(hidden from the guest)"
	verdict $? "the debug line is the $want" "the hypervisor's banner says otherwise" \
		"$(clean_console | grep -m 3 '^trapvisor')"
fi

# Before any gdb: does anything answer a packet on the debug line? (gdb itself would
# take half a minute of retries to say no.) A qSupported neither stops nor resumes
# the guest on trapvisor; QEMU's own stub stops it on connect, as any gdb would.
probe_stub() {
	python3 - "$port" <<'PY'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
body = b"qSupported"
s.sendall(b"$" + body + b"#%02x" % (sum(body) & 0xff))
got, end = b"", time.time() + 8
while time.time() < end:
    s.settimeout(max(0.1, end - time.time()))
    try:
        chunk = s.recv(4096)
    except socket.timeout:
        break
    if not chunk:
        break
    got += chunk
    i = got.find(b"$")
    j = got.find(b"#", i) if i >= 0 else -1
    if j >= 0 and len(got) >= j + 3:  # a whole packet: $...#xx
        s.sendall(b"+")
        print(got.decode("latin-1"))
        sys.exit(0)
print(repr(got))
sys.exit(1)
PY
}
if ! probe=$(probe_stub 2>&1); then
	fail "attach" "nothing answered a qSupported packet on 127.0.0.1:$port within 8 s; the remaining checks need a stub" \
		"received: $probe"
	exit 1
fi

# ---- gdb sessions --------------------------------------------------------------------
# session NAME LIMIT CMD...: one gdb-multiarch run attached to the guest, one -ex per
# command (an error in one does not abort the rest). Output in $out, and in a log.
# `set osabi none`: the guests' ELFs carry a PT_INTERP, and gdb would otherwise treat
# the host's ld.so as a shared library of the guest and plant a breakpoint in it.
session() {
	local name=$1 limit=$2 c
	shift 2
	local args=(-iex 'set osabi none' -ex 'set pagination off' -ex 'set confirm off'
	            -ex 'set remotetimeout 5' -ex "target remote 127.0.0.1:$port")
	for c in "$@"; do args+=(-ex "$c"); done
	if [ $SECONDS -gt $budget ]; then
		fail "$name" "not run: the test has used up its $budget s"
		exit 1
	fi
	session_log=$log_dir/gdb-$run-$name.out
	# gdb runs `shell` commands with $SHELL: the guards below are sh syntax.
	SHELL=/bin/sh timeout --kill-after=5 "$limit" "$GDB" -nx -batch "${args[@]}" "$elf" </dev/null >"$session_log" 2>&1
	session_rc=$?
	out=$(tr -d '\r' <"$session_log")
	if [ $session_rc -eq 124 ] || [ $session_rc -eq 137 ]; then
		out+=$'\n'"(gdb killed after $limit s)"
	fi
}
mark() { printf 'echo \\n@@%s@@\\n' "$1"; }
# part NAME: what gdb printed between `mark NAME` and the next mark ("head": before the first).
part() {
	if [ "$1" = head ]; then
		awk '/^@@.*@@$/ { exit } { print }' <<<"$out"
	else
		awk -v m="@@$1@@" '$0 == m { on = 1; next } /^@@.*@@$/ { on = 0 } on' <<<"$out"
	fi
}
# A continue that gdb interrupts itself (a SIGINT, like Ctrl-C) if nothing stops the
# guest within N seconds, so a missing stop is a clear failure, not a hung session.
guard_on() {
	echo "shell (trap 'kill \$s; exit' TERM; sleep $1 & s=\$!; wait \$s; kill -INT \$PPID) & echo \$! >'$guard'"
}
guard_off="shell kill \$(cat '$guard') 2>/dev/null; rm -f '$guard'"
value() { sed -n "s/^\\\$[0-9]* = \\(.*\\)\$/\\1/p" | tail -n 1; } # value of the last `p`
src_line() { grep -n "/\\* $1 \\*/" "$src" | cut -d: -f1; }
detached() { grep -qE '^\[Inferior 1 \(.*\) detached\]' <<<"$out"; }

# 1. Attach, threads, registers, a system register, memory, thread switch, detach.
magic=$(printf '0x%04x%04x%04x%04x' $((RANDOM | 0x1000)) $RANDOM $RANDOM $RANDOM)
session attach 30 \
	"$(mark threads)" 'info threads' \
	"$(mark regs)" 'info registers' \
	"$(mark x0)" 'set $tv_x0 = $x0' 'set $x0 = 0x1234' 'maintenance flush register-cache' 'p/x $x0' \
	'set $x0 = $tv_x0' 'maintenance flush register-cache' 'p $x0 == $tv_x0' \
	"$(mark sysreg)" "p/x $sysreg" \
	"$(mark hvregs)" 'info registers hypervisor' \
	"$(mark memread)" 'x/4gx &gdbt_pattern' \
	"$(mark memwrite)" "set var gdbt_magic = $magic" 'maintenance flush dcache' 'p/x gdbt_magic' \
	"$(mark thread1)" 'p/x $sp' 'bt' \
	"$(mark thread2)" 'thread 2' 'info threads' 'p/x $sp' 'bt' \
	"$(mark back)" 'thread 1' \
	"$(mark detach)" 'detach'
head_out=$(part head)
if ! grep -qE '^(0x[0-9a-f]+ in )?[A-Za-z_][A-Za-z0-9_]* \(' <<<"$head_out" ||
	grep -qE 'Remote replied unexpectedly|Ignoring packet error|Remote connection closed|Connection (refused|timed out)|not responding|killed after' <<<"$out"; then
	fail "attach" "gdb did not attach to 127.0.0.1:$port and show where the guest is; the remaining checks need it" \
		"$(sed '/^Fatal signal/,$d' <<<"$out")"
	exit 1
fi
pass "attach: the guest stopped at $(grep -oE '[A-Za-z_][A-Za-z0-9_]* \(' <<<"$head_out" | head -n 1 | tr -d ' (')"
warnings=$(grep -i '^warning' <<<"$out")
[ -z "$warnings" ]; verdict $? "attach: gdb prints no warnings" "gdb warned" "$warnings"

threads=$(part threads)
n=$(grep -cE '^[* ] +[0-9]+ +Thread ' <<<"$threads")
[ "$n" = 2 ]; verdict $? "info threads lists both vCPUs" "$n threads listed" "$threads"

regs=$(part regs) missing=
for r in $(seq -f 'x%g' 0 30) sp pc cpsr; do
	grep -qE "^$r +0x[0-9a-f]+ " <<<"$regs" || missing+=" $r"
done
[ -z "$missing" ] && grep -qE '^pc +0x[0-9a-f]+ +0x[0-9a-f]+ <[A-Za-z_]' <<<"$regs"
verdict $? "info registers: x0-x30, sp, pc, cpsr, pc in the guest's code" "missing:${missing:- none; pc not symbolised}" "$(head -n 40 <<<"$regs")"

x0=$(part x0)
[ "$(head -n 1 <<<"$(value <<<"$x0")")" = 1 ] && grep -q '^\$[0-9]* = 0x1234$' <<<"$x0"
verdict $? "x0 is writable (set \$x0 = 0x1234, read back after flushing gdb's cache, restored)" "" "$x0"

sr=$(part sysreg) v=$(value <<<"$(part sysreg)")
[[ $v =~ ^0x[0-9a-f]+$ ]] && [ $((v & 1)) = 0 ]
verdict $? "system register: p/x $sysreg reads SCTLR_EL1 (M = 0: the guest runs with its MMU off)" "" "$sr"

if [ $mode = hv ]; then
	hr=$(part hvregs)
	grep -qiE '^esr[a-z0-9_]* +0x[0-9a-f]+' <<<"$hr"
	verdict $? "info registers hypervisor lists the trap syndrome (esr, ...)" "" "$hr"
else
	skip "info registers hypervisor" "QEMU's stub has no hypervisor registers"
fi

mr=$(part memread)
words=$(sed -n 's/^0x[0-9a-f]* <gdbt_pattern[+0-9]*>:\s*//p' <<<"$mr" | tr -s ' \t' '\n\n' | grep . | tr '\n' ' ')
[ "$words" = "0x0123456789abcdef 0xfedcba9876543210 0x5555aaaa5555aaaa 0x00000000deadbeef " ]
verdict $? "memory read: x/4gx &gdbt_pattern shows the guest's values" "" "$mr"

mw=$(part memwrite)
[ "$(value <<<"$mw")" = "$magic" ]
verdict $? "memory write: set var gdbt_magic = $magic reads back" "" "$mw"

t1=$(part thread1) t2=$(part thread2)
sp1=$(value <<<"$t1") sp2=$(value <<<"$t2")
grep -q 'Switching to thread 2' <<<"$t2" && grep -qE '^\* +2 +Thread ' <<<"$t2" &&
	grep -q ' gdbt_secondary_loop (me=1)' <<<"$t2" && grep -qE '^#[0-9]+ .*\bmain \(' <<<"$t1" &&
	! grep -q gdbt_secondary_loop <<<"$t1" && [ -n "$sp1" ] && [ "$sp1" != "$sp2" ]
verdict $? "thread 2 switches to vCPU 1 (marked in info threads, its own sp $sp2 and stack)" "" "$t1"$'\n'"$t2"

detached
verdict $? "detach" "" "$(part detach)"
console_wait "^gdbtarget: gdbt_magic changed to $magic\$" 10
verdict $? "the guest sees gdb's memory write (console: gdbt_magic changed to $magic)" "not on the console" "$(clean_console | tail -n 5)"

# 2. A breakpoint, stepi, step into a function, finish, next.
line_compute=$(src_line GDBT_LINE_COMPUTE) line_watch=$(src_line GDBT_LINE_WATCH)
line_after=$(src_line GDBT_LINE_AFTER_WATCH)
session break 30 'break gdbt_tick' "$(guard_on 15)" "$(mark cont)" 'continue' "$guard_off" \
	"$(mark bt)" 'bt' "$(mark n)" 'p n' \
	"$(mark stepi)" 'set $tv_pc = $pc' 'stepi' 'p $pc - $tv_pc' 'x/i $tv_pc' \
	"$(mark step)" 'step' "$(mark finish)" 'finish' \
	"$(mark next1)" 'next' "$(mark next2)" 'next' "$(mark watched)" 'p/x gdbt_watched' \
	"$(mark detach)" 'delete' 'detach'
n=$(value <<<"$(part n)")
grep -qE "^(Thread [0-9]+ hit )?Breakpoint 1, gdbt_tick \(n=[0-9]+\) at .*gdbtarget\.c:$line_compute\$" <<<"$(part cont)" &&
	grep -qE '^#0 +gdbt_tick \(n=' <<<"$(part bt)" && grep -qE '^#1 .* in main \(' <<<"$(part bt)" && [[ $n =~ ^[0-9]+$ ]]
verdict $? "break gdbt_tick, continue: stops there, line $line_compute (bt: gdbt_tick <- main, n=$n)" "" "$out"
if [[ $n =~ ^[0-9]+$ ]]; then
	[ "$(value <<<"$(part stepi)")" = 4 ]
	verdict $? "stepi advances pc by 4" "" "$(part stepi)"
	grep -qE "gdbt_compute \(x=$n\) at .*gdbtarget\.c:[0-9]+" <<<"$(part step)"
	verdict $? "step enters gdbt_compute(x=$n)" "" "$(part step)"
	grep -q "^Value returned is \$[0-9]* = $((3 * n + 7))\$" <<<"$(part finish)"
	verdict $? "finish returns gdbt_compute's value (3 * $n + 7)" "" "$(part finish)"
	grep -qE "^$line_watch\s" <<<"$(part next1)" && grep -qE "^$line_after\s" <<<"$(part next2)" &&
		[ "$(value <<<"$(part watched)")" = "$(printf '0x%x' $((0x5741544300000000 + n)))" ]
	verdict $? "next, next: gdbt_tick's lines $line_watch, $line_after, gdbt_watched written" "" \
		"$(part next1)"$'\n'"$(part next2)"$'\n'"$(part watched)"
else
	fail "stepping" "not checked: no stop at gdbt_tick"
fi
detached; verdict $? "detach with no breakpoint" "" "$(part detach)"

# 3. A watchpoint on the guest's write to gdbt_watched.
session watch 30 'watch gdbt_watched' "$(guard_on 15)" "$(mark cont)" 'continue' "$guard_off" \
	"$(mark bt)" 'bt 1' "$(mark detach)" 'delete' 'detach'
w=$(part cont)
old=$(sed -n 's/^Old value = \([0-9]*\)$/\1/p' <<<"$w") new=$(sed -n 's/^New value = \([0-9]*\)$/\1/p' <<<"$w")
grep -qE 'Hardware watchpoint [0-9]+: gdbt_watched' <<<"$w" && [ -n "$old" ] && [ -n "$new" ] &&
	[ $((new - old)) = 1 ] && [ $((new >> 32)) = $((0x57415443)) ] && grep -q '^#0 *gdbt_tick (n=' <<<"$(part bt)"
verdict $? "watch gdbt_watched: stops in gdbt_tick on the write, new value = old + 1 = $(printf '%#x' "${new:-0}")" "" "$w"$'\n'"$(part bt)"
detached; verdict $? "detach after the watchpoint" "" "$(part detach)"

# 4. Ctrl-C while vCPU 0 spins without trapping.
session ctrlc 30 'set var gdbt_spin_request = 1' \
	'shell (sleep 3; kill -INT $PPID) &' "$(mark cont)" 'continue' \
	"$(mark bt)" 'thread 1' 'bt' "$(mark spins)" 'p gdbt_spins' \
	"$(mark detach)" 'set var gdbt_spin_request = 0' 'detach'
spins=$(value <<<"$(part spins)")
grep -qE 'received signal SIGINT' <<<"$(part cont)" && grep -qE '^#[0-9]+ .*gdbt_spin \(\)' <<<"$(part bt)" &&
	[[ $spins =~ ^[0-9]+$ ]] && [ "$spins" -gt 0 ]
verdict $? "Ctrl-C stops a guest spinning in gdbt_spin (SIGINT, $spins iterations)" "" "$out"
detached && console_wait '^gdbtarget: spin done after' 10
verdict $? "detach lets the guest leave gdbt_spin (console: spin done)" "" "$(part detach)"$'\n'"$(clean_console | tail -n 3)"

# 4a. Ctrl-C while vCPU 0 spins inside its timer's interrupt handler, the interrupt
# active at the highest priority the guest could give it (0x00). The hypervisor keeps
# the levels above 0x10 for itself, so its debug line's interrupt still preempts.
session irqspin 30 'set var gdbt_irq_spin_request = 1' \
	'shell (sleep 3; kill -INT $PPID) &' "$(mark cont)" 'continue' \
	"$(mark bt)" 'thread 1' 'bt 1' "$(mark prio)" 'p gdbt_timer_priority' \
	"$(mark detach)" 'set var gdbt_irq_spin_request = 0' 'detach'
prio=$(value <<<"$(part prio)")
grep -qE 'received signal SIGINT' <<<"$(part cont)" && grep -qE '^#0 .*gdbt_irq_spin \(\)' <<<"$(part bt)"
verdict $? "Ctrl-C stops a guest spinning in an interrupt handler it gave priority 0x00" "" "$out"
if [ $mode = hv ]; then
	[ "$prio" = 16 ]
	verdict $? "the guest's priority 0x00 reads back as 0x10, the highest a guest gets" \
		"gdbt_timer_priority = $prio" "$(part prio)"
else
	skip "guest priority floor" "a hypervisor rule; without one the guest keeps 0x00 ($prio)"
fi
detached && console_wait '^gdbtarget: interrupt spin done after' 10
verdict $? "detach lets the guest finish the interrupt (console: interrupt spin done)" "" \
	"$(part detach)"$'\n'"$(clean_console | tail -n 3)"

# 4b. A hardware breakpoint; the guest's own BRK goes to the guest while gdb is
# attached; the hypervisor's memory is out of gdb's reach.
session hw 30 'set var gdbt_brk_request = 1' 'hbreak gdbt_compute' "$(guard_on 15)" "$(mark cont)" \
	'continue' "$guard_off" "$(mark hv)" 'x/2gx 0x40200000' "$(mark detach)" 'delete' 'detach'
grep -qE '^(Thread [0-9]+ hit )?Breakpoint [0-9]+, gdbt_compute \(' <<<"$(part cont)"
verdict $? "hbreak gdbt_compute: a hardware breakpoint stops there" "" "$(part cont)"
# The BRK runs before gdbt_tick: gdb's first stop must be the hbreak, not the BRK.
if detached && console_wait '^gdbtarget: own brk ' 10; then
	clean_console | grep -q '^gdbtarget: own brk taken by the guest (ESR 0xf2000123)' &&
		grep -qE 'Breakpoint [0-9]+, gdbt_compute \(' <<<"$(part cont)" &&
		! grep -q 'SIGTRAP' <<<"$(part cont)"
	verdict $? "the guest's own BRK reaches the guest (EC 0x3c, immediate 0x123), gdb does not stop on it" \
		"" "$(clean_console | grep 'own brk')"$'\n'"$(part cont)"
else
	fail "the guest's own BRK" "the guest never reported it" "$out"$'\n'"$(clean_console | tail -n 3)"
fi
if [ "$mode" = reference ]; then
	skip "the hypervisor's memory is out of reach" "no hypervisor under QEMU's own stub"
else
	grep -q 'Cannot access memory at address 0x40200000' <<<"$(part hv)"
	verdict $? "x/2gx 0x40200000 (the hypervisor's code): Cannot access memory" "" "$(part hv)"
fi

# 4c. Catchpoints on trap events: a system-register write by name and direction,
# a WFI on one vCPU (then stepped over), and bad input refused with nothing changed.
if [ "$mode" = reference ]; then
	skip "catchpoints" "QEMU's own stub has no trap events"
else
	session catch 40 "$(mark add)" 'monitor hv catch sysreg reg=CONTEXTIDR_EL1 dir=w' \
		"$(guard_on 15)" "$(mark cont)" 'continue' "$guard_off" "$(mark insn)" 'x/i $pc' \
		"$(mark ec)" 'p $ec' "$(mark ctx)" 'p/x $x0' \
		"$(mark bad)" 'monitor hv catch wfx' 'monitor hv catch sysreg reg=NO_SUCH_EL1' \
		'monitor hv catch mmio addr=0x20-0x10' 'monitor hv catch wfi imm=3' \
		"$(mark list1)" 'monitor hv catch list' "$(mark del)" 'monitor hv catch delete 1' \
		'monitor hv catch wfi vcpu=1' "$(guard_on 15)" "$(mark wfi)" 'continue' "$guard_off" \
		"$(mark wfiinsn)" 'x/i $pc' "$(mark step)" 'stepi' 'x/i $pc' \
		"$(mark full)" 'monitor hv catch wfi' 'monitor hv catch wfi' 'monitor hv catch wfi' \
		'monitor hv catch wfi' 'monitor hv catch wfi' 'monitor hv catch wfi' 'monitor hv catch wfi' \
		'monitor hv catch wfi' 'monitor hv catch wfi' 'monitor hv catch wfi' 'monitor hv catch wfi' \
		'monitor hv catch wfi' 'monitor hv catch wfi' 'monitor hv catch wfi' 'monitor hv catch wfi' \
		'monitor hv catch wfi' "$(mark end)" 'monitor hv catch delete all' 'monitor hv trap list' \
		"$(mark detach)" 'detach'
	c=$(part cont)
	grep -qE '^catchpoint 1: vCPU 0 wrote CONTEXTIDR_EL1 = 0x[0-9a-f]+ at 0x[0-9a-f]+' <<<"$c" &&
		grep -q 'SIGTRAP' <<<"$c" && grep -qE 'msr[[:space:]]+contextidr_el1' <<<"$(part insn)" &&
		[ "$(value <<<"$(part ec)")" = 24 ]
	verdict $? "catch sysreg reg=CONTEXTIDR_EL1 dir=w: stops on the MSR, says what was written, \$ec = 0x18" "" \
		"$c"$'\n'"$(part insn)"$'\n'"$(part ec)"
	b=$(part bad)
	grep -q 'unknown class "wfx"' <<<"$b" && grep -q 'bad value in "reg=NO_SUCH_EL1"' <<<"$b" &&
		grep -q 'bad value in "addr=0x20-0x10"' <<<"$b" && grep -q 'does not apply to wfi' <<<"$b" &&
		[ "$(grep -c '^[0-9]' <<<"$(part list1)")" = 1 ]
	verdict $? "bad catch commands are refused with the reason, and nothing is added" "" "$b"$'\n'"$(part list1)"
	grep -qE '^catchpoint 2: vCPU 1 executed WFI at' <<<"$(part wfi)" && grep -qE 'wfi$' <<<"$(part wfiinsn)" &&
		! grep -qE '=> .*wfi$' <<<"$(part step)"
	verdict $? "catch wfi vcpu=1: stops vCPU 1 on its WFI, and stepi steps over it" "" \
		"$(part wfi)"$'\n'"$(part wfiinsn)"$'\n'"$(part step)"
	[ "$(grep -c '^catchpoint [0-9]*: wfi$' <<<"$(part full)")" = 15 ] &&
		grep -q 'all 16 catchpoints are in use' <<<"$(part full)" && grep -qE '^  vm +off' <<<"$(part end)" &&
		grep -qE '^  wfi +off' <<<"$(part end)"
	verdict $? "16 catchpoints at most (a clear error after), and deleting them turns their classes off again" \
		"" "$(part full)"$'\n'"$(part end)"
fi

# 4d. Tracing and statistics switched from GDB, and a virtual ID register value.
if [ "$mode" = reference ]; then
	skip "trace, stats and sysreg monitor commands" "QEMU's own stub has no such commands"
else
	session tracing 60 'monitor hv trap on wfi' 'monitor hv trace clear' 'monitor hv stats reset' \
		'shell (sleep 1; kill -INT $PPID) &' 'continue' "$(mark on)" 'monitor hv trace 3' \
		'monitor hv trace off' 'monitor hv trace clear' 'monitor hv stats reset' \
		'shell (sleep 1; kill -INT $PPID) &' 'continue' "$(mark off)" 'monitor hv trace 3' \
		"$(mark stats)" 'monitor hv stats' 'monitor hv trace on' 'monitor hv trap off wfi' \
		"$(mark sysreg)" 'monitor hv sysreg value ID_AA64ISAR0_EL1 0x1230' \
		'monitor hv sysreg value SCTLR_EL1 5' 'monitor hv sysreg value ID_AA64ISAR0_EL1 zz' \
		'set var gdbt_idreg_request = 1' "$(mark detach)" 'detach'
	grep -qE '^#[0-9]+ t=[0-9]+ vcpu[01] wfi +pc=0x[0-9a-f]+ wfi$' <<<"$(part on)"
	verdict $? "hv trace shows the WFIs trapped since hv trace clear" "" "$(part on)"
	grep -q '^trace: off' <<<"$(part off)" && ! grep -qE '^#[0-9]+ ' <<<"$(part off)" &&
		grep -qE '^stats: wfi +[1-9][0-9]* ' <<<"$(part stats)"
	verdict $? "with tracing off no event is recorded, and statistics still count the WFIs" "" \
		"$(part off)"$'\n'"$(part stats)"
	s=$(part sysreg)
	if grep -q '^ID_AA64ISAR0_EL1 reads 0x1230 (the id class is on)' <<<"$s" &&
		grep -q 'SCTLR_EL1 is not an ID register' <<<"$s" && grep -q 'give a number or "reset"' <<<"$s" &&
		detached && console_wait '^gdbtarget: ID_AA64ISAR0_EL1 = ' 10; then
		clean_console | grep -q '^gdbtarget: ID_AA64ISAR0_EL1 = 0x1230$'
		verdict $? "hv sysreg value: the guest reads the virtual ID_AA64ISAR0_EL1 (bad input refused)" "" \
			"$s"$'\n'"$(clean_console | grep ID_AA64)"
	else
		fail "hv sysreg value" "unexpected output" "$s"$'\n'"$(clean_console | tail -n 3)"
	fi
fi

# 4e. Trap-and-forward of a device the hypervisor does not emulate: the guest's
# console UART. A write to it is caught with its value, then still reaches it.
if [ "$mode" = reference ]; then
	skip "trapping a device range" "QEMU's own stub has no stage 2"
else
	session mmio 40 "$(mark on)" 'monitor hv trap on mmio 0x09000000-0x09000fff' \
		"$(mark bad)" 'monitor hv trap on mmio 0x42000000' 'monitor hv trap on mmio 0x20-0x10' \
		"$(mark list)" 'monitor hv trap list' 'monitor hv catch mmio addr=0x09000000 dir=w' \
		"$(guard_on 15)" "$(mark cont)" 'continue' "$guard_off" "$(mark insn)" 'x/i $pc' \
		"$(mark detach)" 'monitor hv catch delete all' 'detach'
	grep -qE '^catchpoint [0-9]+: vCPU [01] wrote [14] bytes to 0x9000000: 0x[0-9a-f]+ at 0x[0-9a-f]+' <<<"$(part cont)" &&
		grep -qE 'str' <<<"$(part insn)" && grep -q '^mmio 0x9000000-0x9000fff trapped and forwarded' <<<"$(part on)" &&
		grep -q '0x9000000-0x9000fff (watched: forwarded)' <<<"$(part list)"
	verdict $? "hv trap on mmio + catch mmio addr=0x09000000 dir=w: stops on the guest's UART write" "" \
		"$(part on)"$'\n'"$(part cont)"$'\n'"$(part insn)"
	grep -q 'not a device range the guest reaches directly' <<<"$(part bad)" &&
		grep -q 'give the range as ADDR-ADDR' <<<"$(part bad)"
	verdict $? "hv trap on mmio refuses guest RAM and a reversed range" "" "$(part bad)"
	before=$(last_tick)
	detached && console_wait "^gdbtarget: tick $(((before / 50 + 2) * 50))\$" 15
	verdict $? "the forwarded UART keeps printing the guest's console (tick $before and on)" "" \
		"$(clean_console | tail -n 3)"
	session mmio-off 30 "$(mark off)" 'monitor hv trap off mmio 0x09000000-0x09000fff' \
		"$(mark list)" 'monitor hv trap list' "$(mark detach)" 'detach'
	grep -q '^mmio 0x9000000-0x9000fff passed through again' <<<"$(part off)" &&
		! grep -q '0x9000000' <<<"$(part list)" && detached
	verdict $? "hv trap off mmio gives the range back to the guest" "" "$(part off)"$'\n'"$(part list)"
fi

# 4f. The Python commands (what `make gdb` loads), and the trace turned into a
# Perfetto timeline by scripts/trace2chrome.
if [ "$mode" = reference ]; then
	skip "the hv Python commands and the trace converter" "QEMU's own stub has no trap events"
else
	session python 40 "source $top/gdbstub/trapvisor.py" "$(mark comp1)" 'complete hv catch sy' \
		"$(mark comp2)" 'complete hv catch sysreg CONTEXTID' "$(mark catch)" \
		'hv catch sysreg CONTEXTIDR_EL1 w' "$(guard_on 15)" "$(mark cont)" 'continue' "$guard_off" \
		"$(mark dump)" 'hv catch delete all' 'hv trace dump' "$(mark detach)" 'detach'
	grep -qx 'hv catch sysreg' <<<"$(part comp1)" && grep -qx 'hv catch sysreg CONTEXTIDR_EL1' <<<"$(part comp2)"
	verdict $? "tab completion of hv catch: classes and system-register names" "" "$(part comp1)"$'\n'"$(part comp2)"
	grep -qE '^catchpoint [0-9]+: vCPU 0 wrote CONTEXTIDR_EL1 = ' <<<"$(part cont)" &&
		grep -qE '^hv: last trap #[0-9]+: EC 0x18 \(MSR/MRS/SYS\), ESR 0x' <<<"$(part cont)"
	verdict $? "hv catch sysreg CONTEXTIDR_EL1 w stops there, and the stop handler decodes the trap" "" "$(part cont)"
	part dump >"$log_dir/gdb-trace-dump.txt"
	if json=$("$top/scripts/trace2chrome" "$log_dir/gdb-trace-dump.txt" 2>&1); then
		python3 - "$json" <<'PY'
import json, sys
t = json.loads(sys.argv[1])["traceEvents"]
slices = [e for e in t if e["ph"] == "X"]
tracks = {e["args"]["name"] for e in t if e["name"] == "thread_name"}
assert slices and all(e["dur"] > 0 and e["name"] in ("wfi", "hvc", "smc", "sysreg", "vm", "mmio", "id") for e in slices), slices[:3]
assert {"vCPU %d" % e["tid"] for e in slices} == tracks and "vCPU 0" in tracks, tracks
assert any(e["args"].get("register", "").startswith("S3_") and "value" in e["args"] for e in slices)
PY
		verdict $? "trace2chrome turns hv trace dump into Chrome trace JSON (a track per vCPU that trapped, decoded system-register events)" \
			"" "$(head -c 600 <<<"$json")"
	else
		fail "trace2chrome" "it failed" "$json"$'\n'"$(head -5 "$log_dir/gdb-trace-dump.txt")"
	fi
fi

# 4g. Catchpoint actions: log (a line while the guest runs on) and count.
if [ "$mode" = reference ]; then
	skip "catchpoint actions" "QEMU's own stub has no trap events"
else
	session actions 40 'monitor hv catch sysreg reg=CONTEXTIDR_EL1 action=log' \
		'monitor hv catch wfi action=count' "$(mark bad)" 'monitor hv catch hvc action=jump' \
		'shell (sleep 1; kill -INT $PPID) &' "$(mark cont)" 'continue' "$(mark list)" 'monitor hv catch list' \
		"$(mark detach)" 'monitor hv catch delete all' 'detach'
	logged=$(grep -cE '^catchpoint [0-9]+: vCPU 0 wrote CONTEXTIDR_EL1 = 0x[0-9a-f]+ at ' <<<"$(part cont)")
	counted=$(sed -n 's/^[0-9]* *wfi *enabled *count *hits \([0-9]*\)$/\1/p' <<<"$(part list)")
	[ "$logged" -ge 2 ] && grep -q 'SIGINT' <<<"$(part cont)" && [ "${counted:-0}" -gt 0 ] &&
		grep -q 'bad value in "action=jump"' <<<"$(part bad)"
	verdict $? "catch actions: log prints while the guest runs ($logged lines), count counts ($counted WFIs)" "" \
		"$(part bad)"$'\n'"$(part cont)"$'\n'"$(part list)"
fi

# 4h. More filters: HVC by immediate, SMC by function id with a skip count, a
# disabled catchpoint that stays quiet, a WFI by PC, a read by value.
if [ "$mode" = reference ]; then
	skip "catch filters imm, fn, skip, pc, value, disable" "QEMU's own stub has no trap events"
else
	wfi_pc=$(aarch64-linux-gnu-objdump -d "$elf" | awk '/<gdbt_idle>:/,/^$/' | awk '/\twfi/ { sub(":", "", $1); print "0x" $1; exit }')
	session filters 60 'set var gdbt_calls_request = 1' 'monitor hv catch hvc imm=0x42' \
		"$(guard_on 15)" "$(mark hvc)" 'continue' "$guard_off" "$(mark hvcinsn)" 'x/i $pc' 'p/x $x0' \
		'monitor hv catch delete all' 'monitor hv catch smc fn=0x84000000 skip=2' \
		"$(guard_on 15)" "$(mark smc)" 'continue' "$guard_off" "$(mark smclist)" 'monitor hv catch list' \
		'python gdb.execute("monitor hv catch disable " + gdb.execute("monitor hv catch list", to_string=True).split()[0])' \
		'shell (sleep 1; kill -INT $PPID) &' "$(mark quiet)" 'continue' \
		'monitor hv catch delete all' 'set var gdbt_calls_request = 0' "monitor hv catch wfi vcpu=0 pc=$wfi_pc" \
		"$(guard_on 15)" "$(mark wfi)" 'continue' "$guard_off" 'monitor hv catch delete all' \
		'monitor hv catch id reg=ID_AA64ISAR0_EL1 dir=r value=0x1230' 'set var gdbt_idreg_request = 1' \
		"$(guard_on 15)" "$(mark val)" 'continue' "$guard_off" "$(mark detach)" 'monitor hv catch delete all' 'detach'
	grep -qE '^catchpoint [0-9]+: vCPU 0 called HVC #66 with x0 = 0xc600abcd at ' <<<"$(part hvc)" &&
		grep -qE 'hvc[[:space:]]+#0x42' <<<"$(part hvcinsn)" && grep -q '= 0xc600abcd' <<<"$(part hvcinsn)"
	verdict $? "catch hvc imm=0x42: stops on the HVC, x0 still the call's" "" "$(part hvc)"$'\n'"$(part hvcinsn)"
	grep -qE '^catchpoint [0-9]+: vCPU 0 called SMC #0 with x0 = 0x84000000' <<<"$(part smc)" &&
		grep -qE '^[0-9]+ +smc +enabled +stop +hits 1 fn=0x84000000$' <<<"$(part smclist)"
	verdict $? "catch smc fn=0x84000000 skip=2: the third call stops (hits 1)" "" "$(part smc)"$'\n'"$(part smclist)"
	grep -q 'SIGINT' <<<"$(part quiet)" && ! grep -q '^catchpoint [0-9]*: vCPU' <<<"$(part quiet)"
	verdict $? "a disabled catchpoint does not stop the guest" "" "$(part quiet)"
	grep -qE "^catchpoint [0-9]+: vCPU 0 executed WFI at $wfi_pc" <<<"$(part wfi)"
	verdict $? "catch wfi vcpu=0 pc=$wfi_pc" "" "$(part wfi)"
	grep -qE '^catchpoint [0-9]+: vCPU 0 read ID_AA64ISAR0_EL1 = 0x1230 at ' <<<"$(part val)"
	verdict $? "catch id reg=ID_AA64ISAR0_EL1 dir=r value=0x1230 (the virtual value read)" "" "$(part val)"
fi

# 4i. scheduler-locking on: resuming one thread leaves the other vCPU stopped.
session schedlock 40 'set scheduler-locking on' 'thread 1' "$(mark before)" 'p gdbt_counter[1]' \
	'break gdbt_tick' "$(guard_on 15)" 'continue' "$guard_off" 'continue' "$guard_off" \
	"$(mark after)" 'p gdbt_counter[1]' "$(mark detach)" 'delete' 'set scheduler-locking off' 'detach'
b=$(value <<<"$(part before)") a=$(value <<<"$(part after)")
[[ $b =~ ^[0-9]+$ ]] && [ "$a" = "$b" ] && detached
verdict $? "scheduler-locking on: vCPU 1 stays stopped while vCPU 0 runs to a breakpoint twice ($b -> $a)" "" "$out"

# 5. Detach while stopped at a breakpoint: the guest runs on past it.
session detach 30 'set var gdbt_spin_request = 0' 'break gdbt_tick' "$(guard_on 15)" \
	"$(mark cont)" 'continue' "$guard_off" "$(mark n)" 'p n' "$(mark counter)" 'p gdbt_counter[0]' \
	"$(mark detach)" 'detach'
n=$(value <<<"$(part n)") counter=$(value <<<"$(part counter)")
if grep -qE 'Breakpoint 1, gdbt_tick' <<<"$(part cont)" && [[ $n =~ ^[0-9]+$ ]] && detached; then
	# The guest prints every 50th tick: two more of those, and it has passed gdbt_tick 100 times.
	target=$(((n / 50 + 2) * 50))
	console_wait "^gdbtarget: tick $target\$" 15
	verdict $? "after detach at a breakpoint the guest runs on past it (tick $n -> $target)" \
		"no tick $target on the console" "$(clean_console | tail -n 5)"
else
	fail "detach at a breakpoint" "no stop at gdbt_tick, or no detach" "$out"
fi

# 6. A new gdb attaches to the guest that ran on without one.
session reattach 30 "$(mark threads)" 'info threads' "$(mark c0)" 'p gdbt_counter[0]' \
	"$(mark c1)" 'p gdbt_counter[1]' "$(mark detach)" 'detach'
c0=$(value <<<"$(part c0)") c1=$(value <<<"$(part c1)")
[ "$(grep -cE '^[* ] +[0-9]+ +Thread ' <<<"$(part threads)")" = 2 ] && [[ $c0 =~ ^[0-9]+$ ]] &&
	[[ $counter =~ ^[0-9]+$ ]] && [ "$c0" -gt "$counter" ] && [[ $c1 =~ ^[0-9]+$ ]] && [ "$c1" -gt 0 ] && detached
verdict $? "re-attach: 2 threads, vCPU 0 ran on (ticks $counter -> $c0), vCPU 1 ticks ($c1)" "" "$out"

# 7. scripts/gdb, what `make gdb` runs: attaches with the guest's symbols, and says
# so plainly when nothing listens.
out=$(timeout --kill-after=5 30 "$top/scripts/gdb" --port "$port" --guest "$bin" -- -nx -batch \
	-ex "$(mark threads)" -ex 'info threads' -ex "$(mark detach)" -ex 'detach' </dev/null 2>&1 | tr -d '\r')
printf '%s\n' "$out" >"$log_dir/gdb-$run-scripts-gdb.out"
[ "$(grep -cE '^[* ] +[0-9]+ +Thread .*\) +(0x[0-9a-f]+ in )?[a-z_]+ \(.*\) at guests/' <<<"$(part threads)")" = 2 ] && detached
verdict $? "scripts/gdb --guest gdbtarget.bin attaches with gdbtarget.elf's symbols" "" "$out"
closed=$(free_port)
out=$(timeout 30 "$top/scripts/gdb" --port "$closed" --elf "$elf" -- -nx -batch </dev/null 2>&1)
rc=$?
[ $rc = 1 ] && grep -q "nothing listens on 127.0.0.1:$closed" <<<"$out"
verdict $? "scripts/gdb on a port nobody listens on says so (exit $rc)" "" "$out"

# 8. Nothing lost when GDB does not keep up: 3000 reads of 2 KiB each sent at once,
# none of the 12 MB of replies read for 2 s, so the socket fills and the stub must
# wait for it (QEMU drops what a full socket refuses from a virtio *console* port,
# which is why the debug line is a serial port). Then every reply must be whole.
flood() {
	python3 - "$port" "$1" "$2" <<'PY'
import socket, sys, time
port, addr, n = int(sys.argv[1]), int(sys.argv[2], 16), int(sys.argv[3])
s = socket.create_connection(("127.0.0.1", port), timeout=30)
buf = b""
def csum(p): return sum(p) & 0xff
def send(p): s.sendall(b"$" + p + b"#%02x" % csum(p))
def packet():
    global buf
    while True:
        i = buf.find(b"$"); j = buf.find(b"#", i + 1) if i >= 0 else -1
        if i >= 0 and j >= 0 and len(buf) >= j + 3:
            body, cs = buf[i + 1:j], buf[j + 1:j + 3]
            buf = buf[j + 3:]
            return body, cs
        d = s.recv(1 << 16)
        if not d: raise SystemExit("the stub closed the connection")
        buf += d
def expand(body):  # GDB's run-length encoding
    out, k = bytearray(), 0
    while k < len(body):
        if body[k:k + 1] == b"*":
            out += out[-1:] * (body[k + 1] - 29); k += 2
        else:
            out.append(body[k]); k += 1
    return bytes(out)
s.sendall(b"\x03"); packet()
send(b"QStartNoAckMode"); packet(); buf = buf.replace(b"+", b"")
for _ in range(n): send(b"m%x,7fc" % addr)
time.sleep(2)
want = bytes((i * 7 + 3) & 0xff for i in range(0x7fc)).hex().encode()
good = 0
try:
    for _ in range(n):
        body, cs = packet()
        good += b"%02x" % csum(body) == cs and expand(body) == want
finally:
    print(f"{good} of {n} replies whole")
send(b"D"); packet()
sys.exit(0 if good == n else 1)
PY
}
if [ "$line" = 16550 ]; then
	skip "3000 unread 2 KiB reads" "12 MB through the 16550 takes a minute (5 us a byte); the virtio run checks it"
else
	buffer=$(${CROSS:-aarch64-linux-gnu-}nm "$elf" | awk '/ gdbt_buffer$/ { print $1 }')
	out=$(timeout --kill-after=5 90 bash -c "$(declare -f flood); port=$port; flood $buffer 3000" 2>&1)
	verdict $? "3000 reads sent at once and not read for 2 s: every reply arrives whole" "" "$out"
	if [ $mode = hv ]; then
		n=$(last_tick); console_wait "^gdbtarget: tick $((n + 50))\$" 10
		verdict $? "the guest runs on after that client detaches" "no new tick on the console" \
			"$(clean_console | tail -n 3)"
	else
		skip "the guest runs on after a bare D" "QEMU's own stub leaves the guest stopped"
	fi
fi

# The guest never took an exception it did not expect (a breakpoint left behind, say).
bad=$(clean_console | grep -E 'FAIL|unexpected exception|panic|returned 0x')
[ -z "$bad" ] && kill -0 "$qemu_pid" 2>/dev/null
verdict $? "the guest ran cleanly throughout" "QEMU exited, or the console says" "$bad"

[ $failures = 0 ]
