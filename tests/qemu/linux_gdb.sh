#!/usr/bin/env bash
# Debugging Linux as a user does: Debian's arm64 kernel on 2 vCPUs with KASLR on (no
# nokaslr) and the test initramfs in its tv.stay mode (it prints the uptime every
# second, a timed `sleep 2` every fifth, and runs a worker process whose PID it
# prints, which has a dd read /proc/version every second). gdb-multiarch attaches
# through scripts/gdb, what `make gdb GUEST=linux` runs, which recovers the kernel's
# symbols from the Image and loads them at the KASLR offset. Then, as a user would:
# threads, a breakpoint by name, the idle loop's WFI caught and stepped out of, the
# worker caught being scheduled in by its PID in CONTEXTIDR_EL1, a backtrace from a
# kernel breakpoint, kernel text against the Image, Ctrl-C, detach; a stage-2
# watchpoint on the dd's read buffer that stops on the kernel's STTR into it; Linux
# goes on and complains of nothing. Last, guest time across a 20 s stop (the
# hypervisor moves CNTVOFF_EL2 by the time the guest was held).
#
# Output: PASS:/FAIL:/SKIP: lines. Logs: build/test-logs/linux-gdb-*.out (gdb) and
# linux-gdb.console (the guest's console, each line stamped with the host's time).
test_name=linux-gdb
source "$(dirname "$0")/lib.sh"
GDB=${GDB:-gdb-multiarch}
console=$log_dir/linux-gdb.console
guard=$log_dir/linux-gdb.guard
budget=240 # seconds: past this, stop rather than pile up timeouts (tests/run allows 300)

for tool in "$GDB" qemu-system-aarch64; do
	command -v "$tool" >/dev/null || { fail "setup" "$tool is not installed (scripts/deps)"; exit 1; }
done
[ -f "$top/build/trapvisor.elf" ] || { fail "setup" "build/trapvisor.elf is missing (make all)"; exit 1; }
if ! files=$("$top/guests/linux/build" 2>"$log_dir/linux-gdb-build.err"); then
	fail "setup" "could not build the Linux guest" "$(cat "$log_dir/linux-gdb-build.err")"
	exit 1
fi
read -r image initrd <<<"$files"

# ---- the machine, its console stamped with the host's time ----------------------------
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
stamp() {
	python3 -c '
import os, sys, time
buf = b""
while True:
    data = os.read(0, 4096)
    if not data:
        break
    buf += data
    *lines, buf = buf.split(b"\n")
    for line in lines:
        os.write(1, b"%.3f %s\n" % (time.time(), line.rstrip(b"\r")))
'
}
: >"$console"
timeout --kill-after=5 $((budget + 40)) "$top/scripts/run-qemu" --quiet --smp 2 --gdb-port "$port" \
	--guest "$image" --initrd "$initrd" --cmdline "console=ttyAMA0 panic=-1 tv.stay" \
	</dev/null > >(stamp >"$console") 2>&1 &
qemu_pid=$!

clean_console() { cut -d' ' -f2- "$console"; }
console_wait() { # REGEX SECONDS
	local deadline=$((SECONDS + $2))
	while [ $SECONDS -lt $deadline ]; do
		clean_console | grep -qE "$1" && return 0
		kill -0 "$qemu_pid" 2>/dev/null || break
		sleep 0.2
	done
	clean_console | grep -qE "$1"
}
if ! console_wait '^linux-guest: uptime ' 120; then
	fail "boot" "Linux did not reach its init's uptime loop within 120 s" "$(clean_console | tail -n 20)"
	exit 1
fi
worker=$(clean_console | sed -n 's/^linux-guest: worker pid \([0-9]*\)$/\1/p')
clean_console | grep -q 'KASLR disabled' &&
	fail "boot" "the kernel says KASLR is off; this test is about a kernel that moved" \
		"$(clean_console | grep KASLR)"

# ---- gdb sessions ---------------------------------------------------------------------
# session NAME LIMIT CMD...: scripts/gdb (what `make gdb GUEST=linux` runs) in batch mode,
# one -ex per command. Output in $out and in a log.
session() {
	local name=$1 limit=$2 c
	shift 2
	local args=(-nx -batch -ex 'set confirm off' -ex 'set remotetimeout 5')
	for c in "$@"; do args+=(-ex "$c"); done
	if [ $SECONDS -gt $budget ]; then
		fail "$name" "not run: the test has used up its $budget s"
		exit 1
	fi
	session_log=$log_dir/linux-gdb-$name.out
	SHELL=/bin/sh GDB=$GDB timeout --kill-after=5 "$limit" "$top/scripts/gdb" --port "$port" \
		--guest "$image" -- "${args[@]}" </dev/null >"$session_log" 2>&1
	session_rc=$?
	out=$(tr -d '\r' <"$session_log")
	if [ $session_rc -eq 124 ] || [ $session_rc -eq 137 ]; then
		out+=$'\n'"(gdb killed after $limit s)"
	fi
}
mark() { printf 'echo \\n@@%s@@\\n' "$1"; }
part() {
	if [ "$1" = head ]; then
		awk '/^@@.*@@$/ { exit } { print }' <<<"$out"
	else
		awk -v m="@@$1@@" '$0 == m { on = 1; next } /^@@.*@@$/ { on = 0 } on' <<<"$out"
	fi
}
guard_on() {
	echo "shell (trap 'kill \$s; exit' TERM; sleep $1 & s=\$!; wait \$s; kill -INT \$PPID) & echo \$! >'$guard'"
}
guard_off="shell kill \$(cat '$guard') 2>/dev/null; rm -f '$guard'"
value() { sed -n "s/^\\\$[0-9]* = \\(.*\\)\$/\\1/p" | tail -n 1; }
detached() { grep -qE '^\[Inferior 1 \(.*\) detached\]' <<<"$out"; }
# uptime_goes_on: the init prints its uptime twice more within 15 s (Linux runs).
uptime_goes_on() {
	local last deadline=$((SECONDS + 15))
	last=$(clean_console | grep -c '^linux-guest: uptime ')
	while [ $SECONDS -lt $deadline ] && [ "$(clean_console | grep -c '^linux-guest: uptime ')" -lt $((last + 2)) ]; do
		sleep 0.5
	done
	[ "$(clean_console | grep -c '^linux-guest: uptime ')" -ge $((last + 2)) ]
}

# 1. Attach while Linux runs, and everything a user tries first.
session kernel 90 \
	"$(mark threads)" 'info threads' \
	"$(mark break)" 'break cpu_do_idle' "$(guard_on 20)" 'continue' "$guard_off" 'delete' \
	"$(mark wfi)" 'monitor hv catch wfi' "$(guard_on 20)" 'continue' "$guard_off" 'x/i $pc' \
	"$(mark stepi)" 'set scheduler-locking step' 'stepi' 'x/i $pc' 'set scheduler-locking replay' \
	'monitor hv catch delete all' \
	"$(mark ctx)" "monitor hv catch sysreg reg=CONTEXTIDR_EL1 dir=w value=${worker:-0}" \
	"$(guard_on 20)" 'continue' "$guard_off" 'p $x0' 'x/i $pc' 'monitor hv catch delete all' \
	"$(mark bt)" 'hbreak ksys_write' "$(guard_on 20)" 'continue' "$guard_off" 'bt' 'delete' \
	"$(mark allbt)" 'thread apply all bt' \
	"$(mark vecbt)" 'set $tv_pc = $pc' 'set $tv_elr = $elr_el1' \
	'set $elr_el1 = 0x400000' 'set $pc = (long)&vectors + 0x480' 'maintenance flush register-cache' \
	'p/x $elr_el1' 'bt' 'select-frame 0' 'set $pc = $tv_pc' 'select-frame 0' 'set $elr_el1 = $tv_elr' \
	'maintenance flush register-cache' 'p $elr_el1 == $tv_elr && $pc == $tv_pc' \
	"$(mark text)" 'x/24wx cpu_do_idle' "$(mark kaslr)" 'info address cpu_do_idle' \
	"$(mark ctrlc)" 'shell (sleep 2; kill -INT $PPID) &' 'continue' \
	"$(mark detach)" 'detach'
head_out=$(part head)
if ! grep -qE '^scripts/gdb: kernel symbols from .*, KASLR offset 0x[0-9a-f]+$' <<<"$head_out"; then
	fail "attach" "scripts/gdb did not attach and load the kernel's symbols; the other checks need it" "$out"
	exit 1
fi
kaslr=$(sed -n 's/^scripts\/gdb: kernel symbols from .*, KASLR offset \(0x[0-9a-f]*\)$/\1/p' <<<"$head_out")
# Where it stopped is named, unless a vCPU was in user space just then (init's loop).
[ "$kaslr" != 0x0 ] && grep -qE '^#0 +(0x[0-9a-f]+ in [A-Za-z_][A-Za-z0-9_.]* \(\)|0x0000[0-9a-f]{12} in \?\? \(\))$' <<<"$head_out"
verdict $? "attach while Linux runs: symbols recovered from the Image, loaded at KASLR offset $kaslr, the frame named" \
	"" "$head_out"

t=$(part threads)
[ "$(grep -cE '^[* ] +[0-9]+ +Thread [0-9]+ \(vCPU [01] .*\) (0x[0-9a-f]+ in [A-Za-z_][A-Za-z0-9_.]* \(\)|0x0000[0-9a-f]{12} in \?\? \(\))' <<<"$t")" = 2 ] &&
	grep -qE '^[* ] +[0-9]+ +Thread [0-9]+ \(vCPU [01] .*\) 0xffff[0-9a-f]+ in [A-Za-z_][A-Za-z0-9_.]* \(\)' <<<"$t"
verdict $? "info threads: both vCPUs, in kernel functions by name (or in user space)" "" "$t"

b=$(part break)
grep -qE '^Breakpoint 1 at 0xffff[0-9a-f]+$' <<<"$b" &&
	grep -qE '(Thread [0-9]+ hit )?Breakpoint 1, 0x[0-9a-f]+ in cpu_do_idle \(\)$' <<<"$b"
verdict $? "break cpu_do_idle (by name, KASLR on): a vCPU stops there" "" "$b"

w=$(part wfi)
grep -qE '^catchpoint [0-9]+: vCPU [01] executed WFI at 0x[0-9a-f]+' <<<"$w" &&
	grep -qE '^=> 0x[0-9a-f]+ <cpu_do_idle\+[0-9]+>:\s+wfi$' <<<"$w"
verdict $? "monitor hv catch wfi: stops on the idle loop's wfi, inside cpu_do_idle" "" "$w"
s=$(part stepi)
grep -qE '^=> 0x[0-9a-f]+ <cpu_do_idle\+[0-9]+>:' <<<"$s" && ! grep -qE '^=> .*\swfi$' <<<"$s"
verdict $? "stepi leaves the wfi (the next instruction of cpu_do_idle)" "" "$s"

c=$(part ctx)
if [ -z "$worker" ]; then
	fail "catch CONTEXTIDR_EL1" "the guest printed no worker pid" "$(clean_console | grep linux-guest | head)"
else
	grep -qE "^catchpoint [0-9]+: vCPU [01] wrote CONTEXTIDR_EL1 = $(printf '%#x' "$worker") at 0x" <<<"$c" &&
		grep -qE "^\\\$[0-9]+ = $worker\$" <<<"$c" && grep -qE '<__switch_to\+[0-9]+>:\s+msr\s+contextidr_el1' <<<"$c"
	verdict $? "catch sysreg reg=CONTEXTIDR_EL1 dir=w value=$worker: stops in __switch_to as the worker is scheduled in" "" "$c"
fi

bt=$(part bt)
frames() { # the backtrace has each function, in this order
	local f order=
	for f in "$@"; do order+="$(grep -nE "^#[0-9]+ +(0x[0-9a-f]+ in )?$f \\(\\)\$" <<<"$bt" | head -n 1 | cut -d: -f1) "; done
	[ "$(wc -w <<<"$order")" = $# ] && [ "$order" = "$(tr ' ' '\n' <<<"$order" | grep . | sort -n | tr '\n' ' ')" ]
}
grep -qE '^#0 +0x[0-9a-f]+ in ksys_write \(\)$' <<<"$bt" &&
	frames ksys_write __arm64_sys_write invoke_syscall el0_svc el0t_64_sync_handler el0t_64_sync &&
	grep -A1 -E ' in el0t_64_sync \(\)$' <<<"$bt" | grep -qE '^#[0-9]+ +0x0+ in \?\? \(\)$' &&
	! grep -qE 'Backtrace stopped|not saved|Python Exception|corrupt' <<<"$bt"
verdict $? "hbreak ksys_write, bt: the kernel's call chain by name, down to the syscall entry and the end of the chain" "" "$bt"
# Each vCPU in the kernel (one may be in user space just then) shows its whole stack.
all=$(part allbt)
awk '/^Thread [12] \(Thread/ { n++; kernel[n] = 0; good[n] = 1 }
     n && /^#0 +0xffff/ { kernel[n] = 1 }
     n && /^#[0-9]+ +0x[0-9a-f]* in \?\? \(\)$/ && !/ 0x0+ in / { good[n] = 0 }
     n && /^#[0-9]+ +0x0+ in \?\? \(\)$/ { ends[n] = 1 }
     n && /Backtrace stopped|not saved|Python Exception|corrupt/ { good[n] = 0 }
     END { k = 0; for (i = 1; i <= n; i++) if (kernel[i]) { k++; if (!good[i] || !ends[i]) exit 1 }
           exit !(n == 2 && k >= 1) }' <<<"$all"
verdict $? "thread apply all bt: each vCPU's whole kernel stack by name, to the end of its chain" "" "$all"
# On the vector of an interrupt (where a stop often lands) x30 is the interrupted
# code's, not a return address: the backtrace ends there, without an error. The
# stop is made whole: the vector of an IRQ from EL0 (0x480) and ELR_EL1 a user
# address, as that entry leaves them, so the chain the kernel can show ends at the
# vector. ELR_EL1 as it happens to be at ksys_write is not that: usually the
# write's user PC, but an EL1 interrupt taken after the syscall's entry leaves its
# kernel PC there, and gdb_linux.py then continues at it, as it should for an
# entry from EL1 (this check once failed that way, in a full run). Registers are
# written in frame 0 only: after a write GDB selects the frame it had selected if
# that is still there, and with a kernel ELR_EL1 the old frame 0 came back as #1,
# where a register cannot be written (the pc was then not put back).
v=$(part vecbt)
grep -qE '^\$[0-9]+ = 0x400000$' <<<"$v" && [ "$(value <<<"$v")" = 1 ] &&
	grep -qE '^#0 +0x[0-9a-f]+ in vectors \(\)$' <<<"$v" && grep -qE '^#1 +0x0+ in \?\? \(\)$' <<<"$v" &&
	[ "$(grep -c '^#' <<<"$v")" = 2 ] && ! grep -qE 'Backtrace stopped|Python Exception|corrupt' <<<"$v"
verdict $? "bt on an exception vector ends there cleanly (ELR_EL1 a user address; it and pc put back after)" "" "$v"

# The same bytes of kernel text through gdb (the live, relocated kernel) and in the Image.
link=$(sed -n 's/^Symbol "cpu_do_idle" is at \(0x[0-9a-f]*\) .*/\1/p' <<<"$(part kaslr)")
if words=$(sed -n 's/^0x[0-9a-f]* <[^>]*>:\s*//p' <<<"$(part text)" | tr -s ' \t' '\n\n' | grep . | tr '\n' ' ') &&
	[ -n "$link" ] && [ -n "$kaslr" ]; then
	file_words=$(python3 - "$image" "$link" "$kaslr" <<'PY'
import struct, sys
image, addr, kaslr = sys.argv[1], int(sys.argv[2], 16), int(sys.argv[3], 16)
data = open(image, "rb").read()
off = addr - kaslr - 0xffff800008000000
print(" ".join("0x%08x" % w for w in struct.unpack_from("<24I", data, off)), end=" ")
PY
)
	[ "$words" = "$file_words" ]
	verdict $? "kernel text read through gdb (x/24wx cpu_do_idle) is the Image's bytes" "differ" \
		"gdb:   $words"$'\n'"Image: $file_words"
else
	fail "kernel text against the Image" "no words or address" "$(part text)"$'\n'"$(part kaslr)"
fi

grep -q 'received signal SIGINT' <<<"$(part ctrlc)"
verdict $? "Ctrl-C stops Linux" "" "$(part ctrlc)"
detached
verdict $? "detach" "" "$(part detach)"
uptime_goes_on
verdict $? "after detach Linux goes on printing its uptime" "" "$(clean_console | tail -n 5)"

# 1a. `make gdb GUEST=linux` names the same kernel; GUEST_ELF= (a vmlinux, here the
# recovered ELF, which scripts/gdb takes for one: it has `vectors`) is loaded at the
# KASLR offset too.
symbols=$(sed -n 's/^scripts\/gdb: kernel symbols from \(.*\), KASLR offset .*/\1/p' <<<"$head_out")
for how in "--guest linux" "--elf $symbols"; do
	out=$(SHELL=/bin/sh timeout --kill-after=5 40 "$top/scripts/gdb" --port "$port" $how -- -nx -batch \
		-ex "$(mark at)" -ex 'info symbol $pc' -ex "$(mark detach)" -ex 'detach' </dev/null 2>&1 | tr -d '\r')
	printf '%s\n' "$out" >"$log_dir/linux-gdb-${how%% *}.out"
	grep -q "KASLR offset $kaslr\$" <<<"$out" && grep -qE '^[a-z_][a-z0-9_.]*( \+ [0-9]+)? in section \.text$' <<<"$(part at)" && detached
	verdict $? "scripts/gdb ${how%% *} ${how#* }: the kernel's symbols at the same KASLR offset" "" "$out"
done

# 1b. A watchpoint on a buffer the kernel writes: the user buffer of a read(). The init's
# worker has a dd read /proc/version 80 bytes at a time, twice, into one buffer; the
# breakpoint on vfs_read takes the second read (its position, *x3, is 80), whose buffer
# the first one has filled (the page is there to be watched, and the kernel's write
# changes what it holds). 24 bytes is a length no debug register takes, so it is a
# stage-2 watchpoint. The kernel writes the buffer with STTR (__arch_copy_to_user: a
# store with user permissions, from EL1); the stop is there, with the whole call chain
# of the read. Then the rest of the copy, and Linux runs on after detach.
session watch 60 \
	"$(mark read)" 'hbreak vfs_read if $x2 == 80 && *(long *)$x3 == 80' "$(guard_on 20)" 'continue' "$guard_off" \
	'delete' 'p/x $x1' 'set $tv_buf = $x1' \
	"$(mark set)" 'set breakpoint always-inserted on' 'watch -l *(char(*)[24])$x1' 'monitor hv watch' \
	'set breakpoint always-inserted off' \
	"$(mark hit)" "$(guard_on 20)" 'continue' "$guard_off" 'x/i $pc - 4' 'p/x $cpsr & 0xf' \
	"$(mark bt)" 'bt' \
	"$(mark rest)" 'delete' 'set $tv_sp = $sp' 'thbreak *$x30 if $sp == $tv_sp' "$(guard_on 20)" 'continue' \
	"$guard_off" 'p *(char(*)[80])$tv_buf' \
	"$(mark detach)" 'detach'
# /proc/version is the banner the kernel printed at boot.
banner=$(clean_console | sed -n 's/^\[ *[0-9.]*\] \(Linux version .*\)$/\1/p' | head -n 1)
buf=$(value <<<"$(part read)")
if [ ${#banner} -lt 160 ]; then
	fail "watch" "the console has no kernel banner of 160 characters or more to compare with" "banner: $banner"
elif ! [[ $buf =~ ^0x[0-9a-f]+$ ]]; then
	fail "watch" "no stop in vfs_read (the worker's dd reads every second)" "$out"
else
	grep -qE '^Thread [0-9]+ hit Breakpoint 1, 0x[0-9a-f]+ in vfs_read \(\)$' <<<"$(part read)" &&
		grep -qxF 'Hardware watchpoint 2: -location *(char(*)[24])$x1' <<<"$(part set)" &&
		grep -qxE "  write  $buf-$(printf "%#x" $((buf + 23))) \\(24 bytes, [12] pages\\) hits 0" <<<"$(part set)"
	verdict $? "watch -l on 24 bytes of the user buffer vfs_read was handed ($buf): a stage-2 watchpoint (monitor hv watch)" \
		"" "$(part read)"$'\n'"$(part set)"
	h=$(part hit) k=0
	new=$(sed -n 's/^New value = "\(.*\)"$/\1/p' <<<"$h")
	# The kernel's first store: the first k bytes are the read's, the others as they were.
	for ((i = 1; i <= 24; i++)); do
		[ "$new" = "${banner:80:i}${banner:i:24-i}" ] && k=$i && break
	done
	grep -qxE 'Thread [0-9]+ hit Hardware watchpoint 2: -location \*\(char\(\*\)\[24\]\)\$x1' <<<"$h" &&
		grep -qxF "Old value = \"${banner:0:24}\"" <<<"$h" && [ $k -gt 0 ] &&
		grep -qE '^0x[0-9a-f]+ in __arch_copy_to_user \(\)$' <<<"$h" &&
		grep -qE '^   0x[0-9a-f]+ <__arch_copy_to_user\+[0-9]+>:\s+sttr[bh]?\s' <<<"$h" &&
		[ "$(value <<<"$h")" = 0x5 ]
	verdict $? "the stop is the kernel's STTR in __arch_copy_to_user, at EL1; GDB shows the buffer's first bytes as the read's, bytes 80 on of /proc/version" \
		"" "$h"
	bt=$(part bt)
	grep -qE '^#0 +0x[0-9a-f]+ in __arch_copy_to_user \(\)$' <<<"$bt" &&
		frames __arch_copy_to_user seq_read_iter vfs_read ksys_read __arm64_sys_read invoke_syscall el0_svc \
			el0t_64_sync_handler el0t_64_sync &&
		grep -A1 -E ' in el0t_64_sync \(\)$' <<<"$bt" | grep -qE '^#[0-9]+ +0x0+ in \?\? \(\)$' &&
		! grep -qE 'Backtrace stopped|not saved|Python Exception|corrupt' <<<"$bt"
	verdict $? "bt at the watchpoint: the read's kernel call chain by name, from the copy to the syscall entry" "" "$bt"
	[ "$(value <<<"$(part rest)")" = "\"${banner:80:80}\"" ]
	verdict $? "watchpoint deleted, the copy finishes: the buffer holds bytes 80-159 of /proc/version" "" "$(part rest)"
fi
detached
verdict $? "detach after the watchpoint" "" "$(part detach)"
uptime_goes_on
verdict $? "after the watchpoint and detach, Linux goes on printing its uptime" "" "$(clean_console | tail -n 5)"

# 2. Guest time stands still while the debugger holds the guest.
session time 60 "$(mark stop)" 'shell date +%s.%N' 'shell sleep 20' "$(mark resume)" 'shell date +%s.%N' \
	"$(guard_on 9)" 'continue' "$guard_off" "$(mark detach)" 'detach'
t_stop=$(part stop | grep -m1 -E '^[0-9]+\.[0-9]+$') t_resume=$(part resume | grep -m1 -E '^[0-9]+\.[0-9]+$')
if [ -z "$t_stop" ] || [ -z "$t_resume" ] || ! detached; then
	fail "time" "the 20 s stop did not happen as planned" "$out"
else
	console_wait '^linux-guest: sleep 2 ends' 0
	sleep 3
	report=$(python3 - "$console" "$t_stop" "$t_resume" 2>&1 <<'PY'
import re, sys
console, t_stop, t_resume = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
lines = []
for line in open(console, errors="replace"):
    stamp, _, text = line.rstrip("\n").partition(" ")
    lines.append((float(stamp), text))
ups = [(t, float(m.group(1)), i) for i, (t, text) in enumerate(lines)
       if (m := re.match(r"linux-guest: uptime ([0-9.]+)$", text))]
before = [u for u in ups if u[0] < t_stop]
after = [u for u in ups if u[0] > t_resume]
if not before or not after:
    sys.exit("no uptime lines on both sides of the stop")
(h1, u1, i1), (h2, u2, i2) = before[-1], after[0]
pace = 2.0 if any(text == "linux-guest: sleep 2 begins" for _, text in lines[i1:i2]) else 1.0
beyond = u2 - u1 - pace
print("uptime %.2f before the stop, %.2f after it (%.1f s apart on the host; the guest slept "
      "%.0f s in between): %.2f s beyond the guest's own pace" % (u1, u2, h2 - h1, pace, beyond))
begins = [t for t, text in lines if text == "linux-guest: sleep 2 begins" and t > t_resume]
ends = [t for t, text in lines if text == "linux-guest: sleep 2 ends" and begins and t > begins[0]]
if not begins or not ends:
    sys.exit("no sleep 2 after the resume")
took = ends[0] - begins[0]
print("the first sleep 2 after the resume took %.2f s on the host" % took)
sys.exit(0 if beyond < 0.5 and 1.8 <= took <= 3.0 else 1)
PY
)
	verdict $? "stopped 20 s in gdb: the guest's uptime advances under 0.5 s across the stop, a 2 s sleep after it takes 2 s" \
		"$(tail -n 1 <<<"$report") (this needs the hypervisor to move CNTVOFF_EL2 by the time the guest was held)" \
		"$report"$'\n'"$(clean_console | grep -E 'uptime|sleep 2' | tail -n 12)"
fi

# Linux went through all of it without a complaint.
bad=$(clean_console | grep -E 'rcu: INFO|rcu_(sched|preempt) (self-)?detected stall|soft lockup|hard LOCKUP|Kernel panic|Oops|Internal error|BUG:|trapvisor panic|unexpected exception')
[ -z "$bad" ] && kill -0 "$qemu_pid" 2>/dev/null
verdict $? "Linux ran on without an RCU stall, a soft lockup or a fault" "the console says" "$bad"

[ $failures = 0 ]
