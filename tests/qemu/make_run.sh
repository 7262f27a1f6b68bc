#!/usr/bin/env bash
# The README's `make run`: with no options it boots the demo guest on 2 vCPUs, both idle
# in their WFI loops and print heartbeats, and it says how to attach GDB. With options
# (README: GUEST, INITRD, CMDLINE, SMP, MEM, GDB_PORT, DEBUG_LINE) the machine and the
# guest are what they say: the gdbtarget guest prints the command line and initrd its
# device tree gives it.
test_name=make_run
source "$(dirname "$0")/lib.sh"

# make_run OUT WAIT-REGEXES MAKE-ARGS...: `make run` until its console has a line matching
# each of WAIT-REGEXES, one a line (at most 30 s), then stopped; the console in OUT.txt.
make_run() {
	local out=$1 until=$2 pid i re seen
	shift 2
	timeout --kill-after=5 30 make -s -C "$top" run "$@" </dev/null >"$out" 2>&1 &
	pid=$!
	for i in $(seq 150); do
		seen=1
		while IFS= read -r re; do
			tr -d '\r' <"$out" | grep -qE "$re" || seen=0
		done <<<"$until"
		[ $seen = 1 ] && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.2
	done
	kill "$pid" 2>/dev/null # timeout(1): it stops make and QEMU with it
	wait "$pid" 2>/dev/null
	tr -d '\r' <"$out" >"$out.txt"
}

out="$log_dir/make-run.out"
port=$(free_port)
# Both vCPUs' heartbeats: each vCPU's QEMU thread may lag the other's on a loaded host.
make_run "$out" $'^demo: vCPU 0 heartbeat 2$\n^demo: vCPU 1 heartbeat 2$' GDB_PORT="$port"
c=$(cat "$out.txt")
grep -q "^trapvisor: GDB debug line on 127.0.0.1:$port; attach with: make gdb GDB_PORT=$port" <<<"$c"
verdict $? "make run says where GDB attaches" "no such line" "$(head -n 3 <<<"$c")"
grep -q '^trapvisor: 2 vCPUs on 2 CPUs, guest RAM 0x42000000-0x80000000, ' <<<"$c" &&
	grep -q '^trapvisor: debug line: virtio console at PCI ' <<<"$c"
verdict $? "the hypervisor booted on 2 CPUs with 1G, the debug line a virtio console" "" "$(grep '^trapvisor' <<<"$c")"
for v in 0 1; do
	has_line "demo: vCPU $v heartbeat 2" "$c"
	verdict $? "demo vCPU $v runs its idle loop" "no heartbeat 2 from vCPU $v" "$(tail -n 5 <<<"$c")"
done
! grep -q 'unexpected exception\|panic' <<<"$c"
verdict $? "the hypervisor did not fault" "" "$(grep -A3 'unexpected exception\|panic' <<<"$c")"

# Every option at once.
out="$log_dir/make-run-options.out"
port=$(free_port)
initrd="$log_dir/make-run-initrd.bin"
head -c 12345 /dev/urandom >"$initrd"
make_run "$out" '^gdbtarget: ready, ' SMP=4 MEM=2G GUEST="$top/build/guests/gdbtarget.bin" INITRD="$initrd" \
	CMDLINE="hello from make run" DEBUG_LINE=16550 GDB_PORT="$port"
c=$(cat "$out.txt")
grep -q "^trapvisor: GDB debug line on 127.0.0.1:$port; " <<<"$c" &&
	grep -q '^trapvisor: 4 vCPUs on 4 CPUs, guest RAM 0x42000000-0xc0000000, ' <<<"$c" &&
	grep -q '^trapvisor: debug line: 16550 UART at PCI ' <<<"$c"
verdict $? "make run SMP=4 MEM=2G DEBUG_LINE=16550 GDB_PORT=$port: 4 CPUs, 2 GiB, a 16550 on that port" "" \
	"$(grep '^trapvisor' <<<"$c")"
has_line 'gdbtarget: ready, 4 vCPUs' "$c" && has_line 'gdbtarget: bootargs "hello from make run"' "$c"
verdict $? "make run GUEST=gdbtarget.bin CMDLINE=...: that guest, on 4 vCPUs, with that command line" "" \
	"$(grep '^gdbtarget' <<<"$c")"
grep -qxE 'gdbtarget: initrd 0x[0-9a-f]+-0x[0-9a-f]+, 12345 bytes' <<<"$c"
verdict $? "make run INITRD=...: the guest's device tree names an initrd of its size" "" "$(grep '^gdbtarget' <<<"$c")"
! grep -q 'unexpected exception\|panic' <<<"$c"
verdict $? "the hypervisor did not fault (with options)" "" "$(grep -A3 'unexpected exception\|panic' <<<"$c")"
[ $failures = 0 ]
