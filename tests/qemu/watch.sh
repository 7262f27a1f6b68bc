#!/usr/bin/env bash
# Watchpoints without limits (stage 2): the watch guest (guests/watch.c) on 2 vCPUs and
# a real gdb-multiarch. QEMU's -cpu max has 4 watchpoint registers of at most 8 bytes;
# everything past them here goes through stage 2. Each gdb session sets watchpoints,
# has the guest run one scenario (`set var command = N`) and reads what gdb prints.
test_name=watch
source "$(dirname "$0")/lib.sh"
GDB=${GDB:-gdb-multiarch}
elf=$top/build/guests/watch.elf
console=$log_dir/watch.console
port=$(free_port)
timeout --kill-after=5 400 "$top/scripts/run-qemu" --quiet --smp 2 --gdb-port "$port" \
	--guest "$top/build/guests/watch.bin" </dev/null >"$console" 2>&1 &
qemu_pid=$!
trap 'kill $qemu_pid 2>/dev/null; wait $qemu_pid 2>/dev/null' EXIT
clean_console() { tr -d '\r' <"$console"; }
for _ in $(seq 1 150); do
	clean_console | grep -q '^watch: ready' && break
	sleep 0.2
done
gdb_run() { # gdb_run NAME GDB-ARGS...: one session, its output kept as watch-NAME.out
	local name=$1
	shift
	timeout --kill-after=5 60 "$GDB" -q -nx -batch "$elf" -ex 'set pagination off' -ex 'set confirm off' \
		-ex "target remote 127.0.0.1:$port" -ex 'break scenario_done' "$@" -ex 'delete' -ex 'detach' \
		>"$log_dir/watch-$name.out" 2>&1
	# A session that hangs leaves its breakpoints in the guest and would spoil every
	# later one: stop here, failing (the parent shell sees the marker file).
	[ $? -lt 124 ] || touch "$log_dir/watch-hung"
	cat "$log_dir/watch-$name.out"
}
hung() {
	[ -e "$log_dir/watch-hung" ] || return 1
	fail "a gdb session hung (see $log_dir/watch-*.out); the rest is not run"
	exit 0
}
rm -f "$log_dir/watch-hung"
repeat() { # repeat N GDB-COMMAND: N times -ex COMMAND
	local i
	for ((i = 0; i < $1; i++)); do printf '%s\0' -ex "$2"; done
}

# The debug registers hold four (one of up to 2 GiB, if aligned): fill them, so
# what follows goes to stage 2.
fill=(-ex 'watch vars[12]' -ex 'watch vars[13]' -ex 'watch vars[14]' -ex 'watch vars[15]')

# 16 watchpoints at once, each hit in turn, with its value.
mapfile -d '' w16 < <(for i in $(seq 0 15); do printf '%s\0' -ex "watch vars[$i]"; done)
mapfile -d '' c16 < <(repeat 17 continue)
out=$(gdb_run 16 "${w16[@]}" -ex 'set var command = 1' "${c16[@]}" -ex 'p vars')
hits=$(printf '%s\n' "$out" | grep -c '^Thread 1 hit Hardware watchpoint [0-9]*: vars\[[0-9]*\]$')
order=$(printf '%s\n' "$out" | sed -n 's/^New value = \([0-9]*\)$/\1/p' | tr '\n' ' ')
[ "$hits" = 16 ] && [ "$order" = "$(seq -s ' ' 100 115) " ] &&
	printf '%s\n' "$out" | grep -qE 'Breakpoint 1, scenario_done \(c=(c@entry=)?1\)'
verdict $? "16 watchpoints at once: each write stops, in order, with its new value" "" "$out"
hung

# One watchpoint on a 64 KiB buffer: the stop reports the byte written, each time.
mapfile -d '' c5 < <(repeat 5 continue) # four hits, then the end of the scenario
out=$(gdb_run buf "${fill[@]}" -ex 'watch buf' -ex 'set debug remote 1' -ex 'set var command = 2' "${c5[@]}" -ex 'set debug remote 0' \
	-ex 'p/x &buf')
base=$(printf '%s\n' "$out" | sed -n 's/^\$[0-9]* = \(0x[0-9a-f]*\)$/\1/p' | tail -n 1)
reported=$(printf '%s\n' "$out" | grep -o ';watch:[0-9a-f]*' | sed 's/;watch://' | while read -r a; do
	printf '%#x ' $((0x$a - base)); done)
[ -n "$base" ] && [ "$reported" = "0x1234 0 0xffff 0x8001 " ]
verdict $? "watch on a 64 KiB buffer: each stop names the byte written (offsets $reported)" "" "$out"
hung

# rwatch and awatch over vars[3] and vars[4], which the guest writes, reads and writes:
# an rwatch stops on the read only, an awatch on all three.
mapfile -d '' c4 < <(repeat 4 continue)
out=$(gdb_run rwatch "${fill[@]}" -ex 'rwatch *(long(*)[2])&vars[3]' -ex 'set var command = 3' -ex continue -ex continue)
printf '%s\n' "$out" | grep -q 'Hardware read watchpoint 6: \*(long(\*)\[2\])&vars\[3\]' &&
	[ "$(printf '%s\n' "$out" | grep -c '^Value = {7, ')" = 1 ] &&
	[ "$(printf '%s\n' "$out" | grep -c 'hit Hardware read watchpoint')" = 1 ] &&
	printf '%s\n' "$out" | grep -qE 'scenario_done \(c=(c@entry=)?3\)'
verdict $? "rwatch on 16 bytes stops on the read only, not on the writes around it" "" "$out"
hung
out=$(gdb_run awatch "${fill[@]}" -ex 'awatch *(long(*)[2])&vars[3]' -ex 'set var command = 3' "${c4[@]}")
[ "$(printf '%s\n' "$out" | grep -c 'hit Hardware access (read/write) watchpoint 6')" = 3 ] &&
	printf '%s\n' "$out" | grep -qE 'scenario_done \(c=(c@entry=)?3\)'
verdict $? "awatch on 16 bytes stops on the write, the read and the next write" "" "$out"
hung

# A read watchpoint and a write watchpoint on one page (which then allows neither):
# the guest's writes to the read-watched range are misses, its read is the one hit.
out=$(gdb_run mixed "${fill[@]}" -ex 'rwatch *(long(*)[2])&vars[3]' -ex 'watch *(long(*)[2])&vars[8]' \
	-ex 'set var command = 3' -ex continue -ex continue)
[ "$(printf '%s\n' "$out" | grep -c '^Thread 1 hit Hardware read watchpoint 6: ')" = 1 ] &&
	! printf '%s\n' "$out" | grep -q 'hit Hardware watchpoint' &&
	printf '%s\n' "$out" | grep -qE 'scenario_done \(c=(c@entry=)?3\)'
verdict $? "a read and a write watchpoint on one page: each stops only for its own direction" "" "$out"
hung

# Every kind of access, from EL1, hitting a watched 64-byte area (an awatch), and
# the same kinds 256 bytes away on the same page, which must not stop.
kinds=(stp ldp str ld1 ldadd cas swp ldxr str "dc" strb stp)
for k in $(seq 0 11); do
	want=${kinds[$k]}
	# GDB steps over the access before it reports it: the instruction is the one before the PC.
	out=$(gdb_run kind-$k "${fill[@]}" -ex 'awatch kinds.area' -ex "set var command = $((40 + k))" -ex 'continue' \
		-ex 'x/i $pc - 4' -ex 'delete 6' -ex 'continue')
	printf '%s\n' "$out" | grep -q 'hit Hardware access (read/write) watchpoint 6: kinds.area' &&
		printf '%s\n' "$out" | grep -qE "^   0x[0-9a-f]+ <access_kind\+[0-9]+>:[[:space:]]+$want[[:space:]]" &&
		printf '%s\n' "$out" | grep -qE "scenario_done \(c=(c@entry=)?$((40 + k))\)"
	verdict $? "a $want into a watched area stops on that $want" "" "$out"
	hung
	out=$(gdb_run near-$k -ex 'set breakpoint always-inserted on' "${fill[@]}" -ex 'awatch kinds.area' \
		-ex "set var command = $((60 + k))" -ex 'continue' -ex 'monitor hv watch')
	! printf '%s\n' "$out" | grep -q 'hit Hardware' && printf '%s\n' "$out" | grep -qE "scenario_done \(c=(c@entry=)?$((60 + k))\)" &&
		printf '%s\n' "$out" | grep -qE 'accesses that hit 0, missed [1-9]'
	verdict $? "a $want to the same page outside the area completes and does not stop" "" "$out"
	hung
done

# Writes all over a watched page, none in the watched area: no stop, right results.
out=$(gdb_run around "${fill[@]}" -ex 'watch kinds.area' -ex 'set var command = 5' -ex 'continue')
! printf '%s\n' "$out" | grep -q 'hit Hardware' && printf '%s\n' "$out" | grep -qE 'scenario_done \(c=(c@entry=)?5\)' &&
	clean_console | grep -q '^PASS: writes around a watched area land and stop nothing'
verdict $? "a memset and store pairs around a watched area land and stop nothing" "" "$out"
hung

# Two vCPUs write the same watched page at once; then vCPU 1 writes the watched word.
out=$(gdb_run vcpus "${fill[@]}" -ex 'watch shared[0][0]' -ex 'set var command = 6' -ex 'continue' -ex 'delete 6' -ex 'continue')
printf '%s\n' "$out" | grep -q '^Thread 2 hit Hardware watchpoint 6: shared\[0\]\[0\]$' &&
	printf '%s\n' "$out" | grep -q 'New value = 48879' &&
	[ "$(clean_console | grep -c "^PASS: vCPU [01]'s writes to the watched page all landed")" = 2 ] &&
	printf '%s\n' "$out" | grep -qE 'scenario_done \(c=(c@entry=)?6\)'
verdict $? "two vCPUs writing one watched page: none of 250000 writes lost, the watched one caught on vCPU 1" "" "$out"
hung

# A store from EL0.
out=$(gdb_run el0 "${fill[@]}" -ex 'watch el0_target' -ex 'set var command = 7' -ex 'continue' -ex 'p/x $cpsr & 0xf' \
	-ex 'delete 6' -ex 'continue')
printf '%s\n' "$out" | grep -q 'hit Hardware watchpoint 6: el0_target' && printf '%s\n' "$out" | grep -q 'New value = 119' &&
	printf '%s\n' "$out" | grep -q '^\$[0-9]* = 0x0$' && printf '%s\n' "$out" | grep -qE 'scenario_done \(c=(c@entry=)?7\)'
verdict $? "a store from EL0 stops in EL0 code (PSTATE.M = EL0t)" "" "$out"
hung

# Every kind again, from EL0: twelve accesses, twelve stops, each at EL0.
mapfile -d '' c13 < <(for i in $(seq 1 12); do printf '%s\0' -ex continue -ex 'p/x $cpsr & 0xf'; done; printf '%s\0' -ex continue)
out=$(gdb_run el0-kinds "${fill[@]}" -ex 'awatch kinds.area' -ex 'set var command = 10' "${c13[@]}")
[ "$(printf '%s\n' "$out" | grep -c 'hit Hardware access (read/write) watchpoint 6: kinds.area')" = 12 ] &&
	[ "$(printf '%s\n' "$out" | grep -c '^\$[0-9]* = 0x0$')" = 12 ] &&
	printf '%s\n' "$out" | grep -qE 'scenario_done \(c=(c@entry=)?10\)'
verdict $? "the twelve access kinds from EL0 each stop, at EL0" "" "$out"
hung

# monitor hv watch while inserted; every watchpoint removed leaves none.
# GDB still reads a read-watched range (its reads go through the guest's own tables).
out=$(gdb_run list -ex 'set breakpoint always-inserted on' "${fill[@]}" -ex 'watch buf' -ex 'rwatch vars[3]' \
	-ex 'monitor hv watch' -ex 'set var vars[3] = 4242' -ex 'p vars[3]' -ex 'delete' -ex 'monitor hv watch')
printf '%s\n' "$out" | grep -qE '^  write  0x[0-9a-f]+-0x[0-9a-f]+ \(65536 bytes, 16 pages\) hits 0$' &&
	printf '%s\n' "$out" | grep -q '^\$1 = 4242$' &&
	printf '%s\n' "$out" | grep -qE '^  read   0x[0-9a-f]+-0x[0-9a-f]+ \(8 bytes, 1 pages\)' &&
	[ "$(printf '%s\n' "$out" | grep -c 'no stage-2 watchpoints')" = 1 ]
verdict $? "monitor hv watch lists the stage-2 ranges and pages, GDB reads and writes a read-watched word, deleting them all leaves none" "" "$out"
hung

# Bad input, with the debug registers full: refused, nothing changed.
out=$(gdb_run bad -ex 'set breakpoint always-inserted on' "${fill[@]}" -ex 'maint packet Z2,9000000,8' \
	-ex 'maint packet Z2,40200000,8' -ex 'maint packet Z2,80000000,8' -ex 'maint packet Z2,42300000,0' \
	-ex 'maint packet Z2,fffffffffffff000,2000' -ex 'monitor hv watch')
[ "$(printf '%s\n' "$out" | grep -c 'received: "E')" = 5 ] && printf '%s\n' "$out" | grep -q 'no stage-2 watchpoints' &&
	printf '%s\n' "$out" | grep -q 'last refused: the range is empty or wraps'
verdict $? "device memory, the hypervisor, unmapped, empty and wrapping ranges are refused (E), nothing watched" "" "$out"
hung

# Detach with watchpoints inserted: the guest writes the formerly watched words freely.
# (GDB removes its watchpoints before it detaches; a GDB that sends the D packet
# and dies at once must leave none behind either.)
(timeout --kill-after=5 60 "$GDB" -q -nx -batch "$elf" -ex "target remote 127.0.0.1:$port" \
	-ex 'set breakpoint always-inserted on' "${fill[@]}" -ex 'watch vars[0]' -ex 'watch buf' -ex 'watch kinds.area' \
	-ex 'set var command = 8' -ex 'maint packet D' -ex 'shell kill -9 $PPID' >"$log_dir/watch-detach.out" 2>&1; true) 2>/dev/null
sleep 2
clean_console | grep -q '^watch: wrote the formerly watched words'
verdict $? "detach with watchpoints inserted leaves none behind" "" "$(clean_console | tail -n 5)"
hung
out=$(gdb_run again -ex 'monitor hv watch' -ex 'p vars[0]')
printf '%s\n' "$out" | grep -q 'no stage-2 watchpoints' && printf '%s\n' "$out" | grep -q '^\$1 = 1$'
verdict $? "a new GDB finds no stage-2 watchpoint, and the guest's write landed" "" "$out"
hung
clean_console | grep -q 'unexpected exception\|panic\|^FAIL' && fail "the guest or the hypervisor failed" "" "$(clean_console | tail)"
exit 0
