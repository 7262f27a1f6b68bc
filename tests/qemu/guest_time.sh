#!/usr/bin/env bash
# Guest time stops while the debugger holds the guest: the demo guest on 2 vCPUs,
# each idling on its virtual timer; gdb-multiarch reads the guest's virtual counter
# (CNTVCT_EL0, what the guest would read) around stops of known wall-clock length.
test_name=guest-time
source "$(dirname "$0")/lib.sh"
GDB=${GDB:-gdb-multiarch}
console=$log_dir/guest-time.console
port=$(free_port)
timeout --kill-after=5 120 "$top/scripts/run-qemu" --quiet --smp 2 --gdb-port "$port" \
	--guest "$top/build/guests/demo.bin" </dev/null >"$console" 2>&1 &
qemu_pid=$!
trap 'kill $qemu_pid 2>/dev/null; wait $qemu_pid 2>/dev/null' EXIT
for _ in $(seq 1 150); do
	tr -d '\r' <"$console" | grep -q '^demo: vCPU 1 heartbeat 1' && break
	sleep 0.2
done

# Stopped 3 s (a shell sleep in gdb), then 1 s of running, then 20 stepi with 0.2 s
# of wall time between them: the guest should live through about 1 s, not 8.
steps=()
for _ in $(seq 1 20); do steps+=(-ex 'stepi' -ex 'shell sleep 0.2'); done
out=$(timeout --kill-after=5 90 "$GDB" -q -nx -batch "$top/build/guests/demo.elf" -ex 'set pagination off' \
	-ex "target remote 127.0.0.1:$port" -ex 'p/x $cntfrq_el0' -ex 'p/x $cntvct_el0' -ex 'p/x $cntvoff' \
	-ex 'shell sleep 3' -ex 'shell (sleep 1; kill -INT $PPID) &' -ex 'continue' -ex 'p/x $cntvct_el0' \
	-ex 'p/x $cntvoff' -ex 'p/x $cntv_ctl_el0' -ex 'p/x $cntv_cval_el0' "${steps[@]}" -ex 'p/x $cntvct_el0' \
	-ex 'thread 2' -ex 'p/x $cntvct_el0' -ex 'thread 1' -ex 'p/x $cntkctl_el1' -ex 'detach' 2>&1)
printf '%s\n' "$out" >"$log_dir/guest-time.out"
vals=($(printf '%s\n' "$out" | sed -n 's/^\$[0-9]* = \(0x[0-9a-f]*\)$/\1/p'))
if [ ${#vals[@]} -lt 10 ]; then
	fail "gdb shows the generic-timer registers and \$cntvoff (got ${#vals[@]} values)" "" "$out"
	exit 0
fi
freq=$((vals[0])) vct0=$((vals[1])) off0=$((vals[2])) vct1=$((vals[3])) off1=$((vals[4])) ctl=$((vals[5]))
cval=$((vals[6])) vct2=$((vals[7])) vct2_other=$((vals[8]))
ms() { echo $(($1 * 1000 / freq)); }
pass "gdb shows CNTFRQ, CNTVCT, CNTV_CTL, CNTV_CVAL, CNTKCTL of the guest and the hypervisor's \$cntvoff"
[ "$freq" -gt 0 ] && ran=$(ms $((vct1 - vct0))) || ran=-1
[ "$ran" -ge 500 ] && [ "$ran" -le 2500 ] &&
	pass "across a 3 s stop and 1 s of running, the guest's counter advanced ${ran} ms" ||
	fail "across a 3 s stop and 1 s of running, the guest's counter advanced ${ran} ms (want about 1000)" "" "$out"
held=$(ms $((off1 - off0)))
[ "$held" -ge 2900 ] && [ "$held" -le 6000 ] && pass "CNTVOFF grew by the time the guest was held (${held} ms)" ||
	fail "CNTVOFF grew by ${held} ms (want 3000 and a little)" "" "$out"
stepped=$(ms $((vct2 - vct1)))
[ "$stepped" -ge 0 ] && [ "$stepped" -le 500 ] &&
	pass "20 stepi over 4 s of wall time age the guest ${stepped} ms" ||
	fail "20 stepi over 4 s of wall time age the guest ${stepped} ms (want under 500)" "" "$out"
skew=$((vct2_other > vct2 ? vct2_other - vct2 : vct2 - vct2_other))
[ "$(ms $skew)" -le 50 ] && pass "both vCPUs' counters agree ($(ms $skew) ms apart)" ||
	fail "the vCPUs' counters are $(ms $skew) ms apart" "" "$out"
# The guest idles on its virtual timer: where Ctrl-C stopped it (its WFI just ended), the
# timer is enabled and due at most one 10 ms tick ahead of the counter.
[ $((ctl & 1)) = 1 ] && [ $((cval - vct1)) -lt $((freq / 50)) ] &&
	pass "the guest's timer is armed and due within a tick of its counter (CNTV_CTL $ctl)" ||
	fail "the guest's timer (CNTV_CTL $ctl, CVAL $cval, CNTVCT $vct1)" "" "$out"
# After detach the heartbeats go on at their pace: no burst of timer interrupts.
sleep 2
beats=$(tr -d '\r' <"$console" | grep -c '^demo: vCPU 0 heartbeat')
[ "$beats" -ge 2 ] && pass "the guest runs on after detach ($beats heartbeats)" ||
	fail "the guest stopped after detach" "" "$(tr -d '\r' <"$console" | tail -n 5)"
grep -q 'unexpected exception\|panic' "$console" && fail "the hypervisor faulted" "" "$(grep -A3 'unexpected' "$console")"
exit 0
