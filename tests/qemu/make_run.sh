#!/usr/bin/env bash
# The README's `make run`: it boots the demo guest on 2 vCPUs, both idle in their
# WFI loops and print heartbeats, and it says how to attach GDB.
source "$(dirname "$0")/lib.sh"
out="$log_dir/make-run.out"
port=$(free_port)
timeout --kill-after=5 20 make -s -C "$top" run GDB_PORT="$port" </dev/null >"$out" 2>&1
tr -d '\r' <"$out" >"$out.txt"

grep -q "GDB debug line on 127.0.0.1:$port" "$out.txt" &&
	echo "PASS: make run says where GDB attaches" || echo "FAIL: make run did not print how to attach GDB"
grep -q 'trapvisor: 2 CPUs' "$out.txt" &&
	echo "PASS: the hypervisor booted on 2 CPUs" || echo "FAIL: no boot line for 2 CPUs"
for v in 0 1; do
	grep -q "demo: vCPU $v heartbeat 2" "$out.txt" &&
		echo "PASS: demo vCPU $v runs its idle loop" || echo "FAIL: no heartbeat from demo vCPU $v"
done
grep -q 'unexpected exception\|panic' "$out.txt" && echo "FAIL: the hypervisor faulted" || true
