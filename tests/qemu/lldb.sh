#!/usr/bin/env bash
# LLDB as the second client of trapvisor's GDB stub: Debian's lldb-19 attaches to the
# gdbtarget guest (guests/gdbtarget.c) on 2 vCPUs with `gdb-remote 127.0.0.1:PORT`,
# as docs/user-guide.md shows, and does what a user does first: threads, registers
# (core, the guest's system registers, the hypervisor's), a register and a memory
# write, a step, a hardware breakpoint by name and a backtrace, a watchpoint, the
# hypervisor's monitor commands through `process plugin packet monitor` (a catchpoint
# among them), detach; the guest runs on.
#
# Output: PASS:/FAIL:/SKIP: lines. Logs: build/test-logs/lldb-*.out (lldb) and
# lldb.console (the guest).
test_name=lldb
source "$(dirname "$0")/lib.sh"
LLDB=${LLDB:-lldb-19}
elf=$top/build/guests/gdbtarget.elf
bin=$top/build/guests/gdbtarget.bin
console=$log_dir/lldb.console
budget=150

if ! command -v "$LLDB" >/dev/null; then
	echo "SKIP: lldb: $LLDB is not installed (apt-get install lldb-19)"
	exit 0
fi
for f in "$elf" "$bin" "$top/build/trapvisor.elf"; do
	[ -f "$f" ] || { fail "setup" "$f is missing (make all)"; exit 1; }
done

port=$(free_port)
qemu_pid=
stop_qemu() {
	if [ -n "$qemu_pid" ] && kill -0 "$qemu_pid" 2>/dev/null; then
		kill "$qemu_pid" 2>/dev/null
		wait "$qemu_pid" 2>/dev/null
	fi
	qemu_pid=
}
trap stop_qemu EXIT
trap 'stop_qemu; exit 1' INT TERM
: >"$console"
timeout --kill-after=5 $((budget + 30)) "$top/scripts/run-qemu" --quiet --smp 2 --gdb-port "$port" \
	--guest "$bin" </dev/null >"$console" 2>&1 &
qemu_pid=$!
clean_console() { tr -d '\r' <"$console"; }
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
if ! console_wait '^gdbtarget: tick [0-9]+' 60; then
	fail "boot" "gdbtarget did not tick within 60 s" "$(clean_console | tail -n 20)"
	exit 1
fi

# session NAME LIMIT CMD...: one lldb run: the guest's ELF, gdb-remote, the commands,
# process detach, quit. Not --batch: there, a stop for a signal (a catchpoint is a
# SIGTRAP) ends the command list. LLDB 19 kills what it connected to when it quits
# attached, so every session detaches first.
session() {
	local name=$1 limit=$2 c
	shift 2
	packets=$log_dir/lldb-$name.packets
	rm -f "$packets"
	local args=(-x -o "log enable -f $packets gdb-remote packets" -o "target create $elf"
	            -o "gdb-remote 127.0.0.1:$port")
	for c in "$@"; do args+=(-o "$c"); done
	args+=(-o '# @@detach@@' -o 'process detach' -o quit)
	if [ $SECONDS -gt $budget ]; then
		fail "$name" "not run: the test has used up its $budget s"
		exit 1
	fi
	session_log=$log_dir/lldb-$name.out
	timeout --kill-after=5 "$limit" "$LLDB" "${args[@]}" </dev/null >"$session_log" 2>&1
	session_rc=$?
	out=$(tr -d '\r' <"$session_log")
	if [ $session_rc -eq 124 ] || [ $session_rc -eq 137 ]; then
		out+=$'\n'"(lldb killed after $limit s)"
	fi
}
mark() { echo "# @@$1@@"; }
# part NAME: what lldb printed after `# @@NAME@@`, up to the next mark.
part() {
	awk -v m="(lldb) # @@$1@@" '$0 == m { on = 1; next } /^\(lldb\) # @@.*@@$/ { on = 0 } on' <<<"$out"
}
detached() { grep -qE '^Process [0-9]+ detached$' <<<"$(part detach)"; }

# 1. Attach, threads, registers, writes, a step, thread 2, detach.
magic=$(printf '0x%04x%04x%04x%04x' $((RANDOM | 0x1000)) $RANDOM $RANDOM $RANDOM)
session attach 40 "$(mark threads)" 'thread list' \
	"$(mark core)" 'register read x0 x29 x30 sp pc cpsr' \
	"$(mark sys)" 'register read sctlr_el1 vbar_el1 mpidr_el1' \
	"$(mark hv)" 'register read esr far ec seq' \
	'script tv_x0 = lldb.frame.FindRegister("x0").GetValue()' \
	"$(mark x0)" 'register write x0 0x1234' 'register read x0' \
	'script lldb.debugger.HandleCommand("register write x0 " + tv_x0)' "$(mark x0back)" 'register read x0' \
	"$(mark mem)" 'memory read -s 8 -f x -c 4 &gdbt_pattern' \
	"$(mark memw)" "memory write -s 8 &gdbt_magic $magic" \
	"$(mark step)" 'register read pc' 'disassemble --pc --count 1' 'thread step-inst' 'register read pc' \
	"$(mark t2)" 'thread select 2' 'bt'
if ! grep -qE '^Process [0-9]+ stopped$' <<<"$out" || ! grep -q 'gdbtarget.elf`' <<<"$(part threads)"; then
	fail "attach" "lldb did not attach with gdb-remote 127.0.0.1:$port; the other checks need it" "$out"
	exit 1
fi
pass "gdb-remote 127.0.0.1:$port attaches: the guest stopped, with gdbtarget.elf's symbols"
t=$(part threads)
[ "$(grep -cE '^[* ] thread #[12]: tid = 0x000[12], 0x[0-9a-f]+ gdbtarget.elf`[a-z_]+' <<<"$t")" = 2 ]
verdict $? "thread list: both vCPUs, as threads 1 and 2, in the guest's functions" "" "$t"
c=$(part core) missing=
for r in x0 x29 x30 sp pc cpsr; do grep -qE "^ +$r = 0x[0-9a-f]+" <<<"$c" || missing+=" $r"; done
[ -z "$missing" ] && grep -qE '^ +pc = 0x[0-9a-f]+ +gdbtarget.elf`' <<<"$c"
verdict $? "register read: x0 x29 x30 sp pc cpsr, pc symbolised" "missing:${missing:- none}" "$c"
s=$(part sys)
grep -qE '^ *sctlr_el1 = 0x[0-9a-f]+$' <<<"$s" && grep -qE '^ *mpidr_el1 = 0x0*80000000$' <<<"$s" &&
	grep -qE '^ *vbar_el1 = 0x0*4220' <<<"$s"
verdict $? "register read: the guest's system registers (sctlr_el1, vbar_el1, mpidr_el1 of vCPU 0)" "" "$s"
h=$(part hv)
for r in esr far ec seq; do grep -qE "^ +$r = 0x[0-9a-f]+" <<<"$h" || missing+=" $r"; done
[ -z "$missing" ]
verdict $? "register read: the hypervisor's registers (esr far ec seq)" "missing:$missing" "$h"
x=$(part x0) xb=$(part x0back)
x0=$(sed -n 's/^ *x0 = \(0x[0-9a-f]*\).*/\1/p' <<<"$(part core)")
grep -qE '^ +x0 = 0x0*1234$' <<<"$x" && ! grep -q error <<<"$x" && [ -n "$x0" ] &&
	grep -qE "^ +x0 = $x0( |\$)" <<<"$xb"
verdict $? "register write x0 0x1234 reads back (and x0 is put back: $x0)" "" "$x"$'\n'"$xb"
m=$(part mem)
grep -qE '^0x[0-9a-f]+: 0x0123456789abcdef 0xfedcba9876543210$' <<<"$m" &&
	grep -qE '^0x[0-9a-f]+: 0x5555aaaa5555aaaa 0x00000000deadbeef$' <<<"$m"
verdict $? "memory read -s 8 -c 4 &gdbt_pattern: the guest's values" "" "$m"
st=$(part step)
pcs=$(sed -n 's/^ *pc = \(0x[0-9a-f]*\).*/\1/p' <<<"$st" | tr '\n' ' ')
read -r pc1 pc2 <<<"$pcs"
# The instruction stepped: the next one follows it, or a direct branch's target.
insn=$(grep -m1 -E '^-> +0x[0-9a-f]+' <<<"$st" | sed 's/^-> *0x[0-9a-f]*[^:]*: *//')
next=$((pc1 + 4))
[[ $insn =~ ^b(l)?[[:space:]]+(0x[0-9a-f]+) ]] && next=$((BASH_REMATCH[2]))
[ -n "$pc1" ] && [ -n "$pc2" ] && [ $((pc2)) = $next ] && grep -q 'stop reason = instruction step into' <<<"$st"
verdict $? "thread step-inst: one instruction ($pc1: $insn -> $pc2)" "" "$st"
t2=$(part t2)
grep -qE '^\* thread #2' <<<"$t2" && grep -qE 'frame #[0-9]+: 0x[0-9a-f]+ gdbtarget.elf`gdbt_secondary_loop\(me=1\)' <<<"$t2"
verdict $? "thread select 2, bt: vCPU 1's own stack (gdbt_secondary_loop(me=1))" "" "$t2"
detached
verdict $? "process detach" "" "$(part detach)"
# What LLDB asks for that GDB does not, and gets: acks off from its first packet on,
# the thread named in each register packet instead of an Hg before it, and the
# threads and their pcs in every stop reply (no thread list query after a stop).
sent=$(sed -n 's/.*send packet: \$\([^#]*\)#.*/\1/p' "$packets") got=$(sed -n 's/.*read packet: \(.*\)/\1/p' "$packets")
grep -qE '^p[0-9a-f]+;thread:[0-9a-f]+;$' <<<"$sent" && ! grep -q '^Hg' <<<"$sent" &&
	grep -qE '^\$T05thread:1;.*threads:1,2;thread-pcs:[0-9a-f]+,[0-9a-f]+;' <<<"$got" &&
	[ "$(grep -c '^\+$' <<<"$got")" = 1 ] && [ "$(sed -n '2,$p' <<<"$sent" | grep -c '^qfThreadInfo')" -le 1 ]
verdict $? "lldb uses the stub's LLDB packets: no acks, thread suffixes instead of Hg, threads in stop replies" "" \
	"$(grep -E 'send packet|read packet' "$packets" | head -n 30)"
console_wait "^gdbtarget: gdbt_magic changed to $magic\$" 10
verdict $? "the guest sees lldb's memory write (console: gdbt_magic changed to $magic)" "" "$(clean_console | tail -n 3)"

# 2. A hardware breakpoint by name, bt; a watchpoint; a catchpoint through the monitor.
session stops 60 "$(mark hb)" 'breakpoint set -H -n gdbt_compute' 'continue' 'bt' 'breakpoint delete -f' \
	"$(mark watch)" 'watchpoint set variable gdbt_watched' 'continue' 'watchpoint delete -f' \
	"$(mark mon)" 'process plugin packet monitor hv status' \
	"$(mark catch)" 'process plugin packet monitor hv catch sysreg reg=CONTEXTIDR_EL1 dir=w' 'continue' \
	'register read x0 ec' 'process plugin packet monitor hv catch delete all'
hb=$(part hb)
grep -qE '^Breakpoint 1: where = gdbtarget.elf`gdbt_compute' <<<"$hb" &&
	grep -qE '^\* thread #1, stop reason = breakpoint 1\.1$' <<<"$hb" &&
	grep -qE 'frame #0: 0x[0-9a-f]+ gdbtarget.elf`gdbt_compute\(x=[0-9]+\)' <<<"$hb" &&
	grep -qE 'frame #1: 0x[0-9a-f]+ gdbtarget.elf`gdbt_tick\(n=[0-9]+\)' <<<"$hb" &&
	grep -qE 'frame #2: 0x[0-9a-f]+ gdbtarget.elf`main\(' <<<"$hb"
verdict $? "breakpoint set -H -n gdbt_compute: a hardware breakpoint stops there; bt: gdbt_compute <- gdbt_tick <- main" "" "$hb"
w=$(part watch)
old=$(sed -n 's/^old value: \([0-9]*\)$/\1/p' <<<"$w" | tail -n 1) new=$(sed -n 's/^new value: \([0-9]*\)$/\1/p' <<<"$w" | tail -n 1)
grep -qE 'stop reason = watchpoint 1$' <<<"$w" && [ -n "$old" ] && [ -n "$new" ] && [ $((new - old)) = 1 ] &&
	grep -qE 'frame #0: 0x[0-9a-f]+ gdbtarget.elf`gdbt_tick' <<<"$w"
verdict $? "watchpoint set variable gdbt_watched: stops in gdbt_tick after the write, new value = old + 1" "" "$w"
mo=$(part mon)
grep -q '^trapvisor 0.1: 2 vCPUs on 2 pCPUs' <<<"$mo" && grep -q 'vCPU 1 on pCPU 1: MPIDR 0x80000001, stopped' <<<"$mo" &&
	grep -q '^response: OK$' <<<"$mo"
verdict $? "process plugin packet monitor hv status: the hypervisor's answer" "" "$mo"
ca=$(part catch)
grep -qE 'catchpoint [0-9]+: vCPU 0 wrote CONTEXTIDR_EL1 = 0x[0-9a-f]+ at 0x' <<<"$ca" &&
	grep -qE 'stop reason = signal SIGTRAP$' <<<"$ca" && grep -qE 'gdbtarget.elf`gdbt_set_context' <<<"$ca" &&
	grep -qE '^ +ec = 0x0*18$' <<<"$ca" && grep -q '^all catchpoints deleted' <<<"$ca"
verdict $? "a catchpoint through the monitor (hv catch sysreg reg=CONTEXTIDR_EL1 dir=w) stops on the MSR, \$ec = 0x18" "" "$ca"
detached
verdict $? "process detach after the stops" "" "$(part detach)"
n=$(last_tick)
console_wait "^gdbtarget: tick $(((n / 50 + 2) * 50))\$" 15
verdict $? "after detach the guest runs on (tick $n and on)" "" "$(clean_console | tail -n 3)"

bad=$(clean_console | grep -E 'FAIL|unexpected exception|panic|killed from GDB')
[ -z "$bad" ] && kill -0 "$qemu_pid" 2>/dev/null
verdict $? "the guest ran cleanly throughout" "QEMU exited, or the console says" "$bad"
[ $failures = 0 ]
