#!/usr/bin/env bash
# The hostile guest (guests/hostile.c) tries to get out of trapvisor, then GDB must
# still attach to it. Two boots on 2 vCPUs, each with a second legacy virtio-serial
# device and a PCIe root port on the PCI bus (BARs and bridge windows the guest can
# aim at the debug line):
#   1. the guest's own checks, to its SYSTEM_OFF;
#   2. the same attacks, then the OS Lock and OS Double Lock set and a spin with no
#      traps at all; a real gdb-multiarch attaches, lists both vCPUs, steps, reads
#      what the guest sees of its locks, continues, stops it with Ctrl-C and detaches.
test_name=hostile-gdb
source "$(dirname "$0")/lib.sh"
hv="trapvisor.trap=cache,wfi,id,vm" # no test hypercalls: the guest gets no help
second_device=(-device virtio-serial-pci,disable-modern=on -device pcie-root-port,id=rp0,chassis=1)
run_guest hostile 2 "$hv" 60 hostile "${second_device[@]}"

GDB=${GDB:-gdb-multiarch}
elf=$top/build/guests/hostile.elf
console=$log_dir/hostile-gdb.console
port=$(free_port)
timeout --kill-after=5 90 "$top/scripts/run-qemu" --quiet --smp 2 --gdb-port "$port" --hv "$hv" \
	--guest "$top/build/guests/hostile.bin" --cmdline hostile.spin -- "${second_device[@]}" \
	</dev/null >"$console" 2>&1 &
qemu_pid=$!
trap 'kill $qemu_pid 2>/dev/null; wait $qemu_pid 2>/dev/null' EXIT
clean_console() { tr -d '\r' <"$console"; }
for _ in $(seq 1 300); do
	clean_console | grep -q '^hostile: attacks done' && break
	kill -0 $qemu_pid 2>/dev/null || break
	sleep 0.2
done
if ! clean_console | grep -q '^hostile: attacks done'; then
	fail "the hostile guest did not reach its spin" "" "$(clean_console | tail -n 20)"
	exit 0
fi

# One gdb session: each -ex on its own, so a failing command does not end it.
gdb_run() {
	timeout --kill-after=5 60 "$GDB" -q -nx -batch "$elf" \
		-ex 'set pagination off' -ex 'set confirm off' -ex "target remote 127.0.0.1:$port" "$@" 2>&1
}
steps=()
for _ in 1 2 3 4 5 6 7 8; do steps+=(-ex 'x/i $pc' -ex 'stepi'); done
out=$(gdb_run -ex 'info threads' -ex 'thread 1' "${steps[@]}" -ex 'x/i $pc' \
	-ex 'p seen_osdlr' -ex 'p/x seen_oslsr & 2' -ex 'p idle_spins' \
	-ex 'shell (sleep 2; kill -INT $PPID) &' -ex 'continue' -ex 'p idle_spins' -ex 'detach')
printf '%s\n' "$out" >"$log_dir/hostile-gdb.out"
threads=$(printf '%s\n' "$out" | grep -cE '^[ *] +[0-9]+ +Thread [0-9]+ .*vCPU [0-9]')
[ "$threads" = 2 ] && pass "GDB attaches after the attacks and lists both vCPUs" ||
	fail "GDB attaches after the attacks and lists both vCPUs (saw $threads)" "" "$out"
# Each stepi is one instruction, the trapped reads of the locks included: the next
# PC is 4 bytes on unless the instruction stepped was a branch.
n=0 ok=0 bad=0 last= branch=
while read -r pc insn; do
	if [ -n "$last" ] && [ -z "$branch" ]; then
		[ $((pc)) = $((last + 4)) ] && ok=$((ok + 1)) || bad=$((bad + 1))
	fi
	n=$((n + 1)) last=$pc branch=
	case "$insn" in b | b.* | bl | br | blr | cbz | cbnz | tbz | tbnz | ret) branch=1 ;; esac
done < <(printf '%s\n' "$out" | sed -n 's/^=> \(0x[0-9a-f]*\) <[^>]*>:[[:space:]]*\([a-z.]*\).*/\1 \2/p')
stepped="$n $ok $bad"
set -- $stepped
[ "$1" = 9 ] && [ "$3" = 0 ] && [ "$2" -ge 4 ] &&
	pass "with the OS Double Lock set, each stepi is one instruction, trapped ones too ($2 checked)" ||
	fail "with the OS Double Lock set, each stepi is one instruction (PCs seen, sequential, wrong: $stepped)" "" "$out"
printf '%s\n' "$out" | grep -q '^\$[0-9]* = 1$' && printf '%s\n' "$out" | grep -q '^\$[0-9]* = 0x2$' &&
	pass "the guest still reads its own OS Double Lock and OS Lock as set" ||
	fail "the guest still reads its own OS Double Lock and OS Lock as set" "" "$out"
printf '%s\n' "$out" | grep -q 'received signal SIGINT' &&
	pass "Ctrl-C stops a guest that spins with no traps after the attacks" ||
	fail "Ctrl-C stops a guest that spins with no traps after the attacks" "" "$out"
spins=$(printf '%s\n' "$out" | sed -n 's/^\$[0-9]* = \([0-9][0-9]*\)$/\1/p' | tail -n 2 | tr '\n' ' ')
set -- $spins
[ $# = 2 ] && [ "$2" -gt "$1" ] && pass "the guest ran between the step and the Ctrl-C ($1 -> $2 spins)" ||
	fail "the guest ran between the step and the Ctrl-C (spins: $spins)" "" "$out"
# Detached: the guest runs on, and a second GDB still gets in. It has the hypervisor
# trap and forward a hole in the device map (between the distributor and the ITS),
# which the guest then reads: the access aborts in the device, and the guest, not
# the hypervisor, takes that abort (ESR_EL1: EC 0x25, DFSC 0x10).
sleep 1
out2=$(gdb_run -ex 'p idle_spins' -ex 'monitor hv trap on mmio 0x08010000-0x08010fff' \
	-ex 'set var probe_addr = 0x08010000' -ex 'shell (sleep 2; kill -INT $PPID) &' -ex 'continue' \
	-ex 'p/x probe_addr' -ex 'p/x probe_esr' -ex 'monitor hv trap off mmio 0x08010000-0x08010fff' -ex 'detach')
printf '%s\n' "$out2" >>"$log_dir/hostile-gdb.out"
printf '%s\n' "$out2" | grep -q '^\$[0-9]* = 0x0$' && printf '%s\n' "$out2" | grep -q '^\$[0-9]* = 0x96000010$' &&
	pass "a forwarded access that aborts in the device is the guest's external abort" ||
	fail "a forwarded access that aborts in the device is the guest's external abort" "" "$out2"
later=$(printf '%s\n' "$out2" | sed -n 's/^\$[0-9]* = \([0-9][0-9]*\)$/\1/p' | tail -n 1)
[ -n "$later" ] && [ $# = 2 ] && [ "$later" -gt "$2" ] && pass "after detach the guest runs on and GDB attaches again" ||
	fail "after detach the guest runs on and GDB attaches again (spins: $spins then ${later:-none})" "" "$out2"
clean_console | grep -q 'unexpected exception\|panic' &&
	fail "the hypervisor faulted" "" "$(clean_console | grep -A3 'unexpected exception\|panic')"
exit 0
