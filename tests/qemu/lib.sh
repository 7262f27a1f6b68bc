# Helpers for QEMU integration tests (sourced). Each test prints PASS:/FAIL:/SKIP:
# lines that tests/run counts.
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
log_dir=${TEST_LOG_DIR:-$top/build/test-logs}
mkdir -p "$log_dir"

# A free TCP port for the debug line, so tests never collide with a `make run`.
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# run_guest NAME SMP "HV OPTIONS" [TIMEOUT [QEMU ARGS...]]: boot a test guest to its
# SYSTEM_OFF and relay its verdicts, prefixed with NAME. Fails if the guest did not
# finish, if any check failed, or if the hypervisor reported anything unexpected.
run_guest() {
	local name=$1 smp=$2 hv=$3 limit=${4:-60}
	local out="$log_dir/guest-$name.out" rc
	shift $(($# < 4 ? $# : 4))
	timeout --kill-after=5 "$limit" "$top/scripts/run-qemu" --quiet --smp "$smp" \
		--gdb-port "$(free_port)" --hv "$hv" --guest "$top/build/guests/$name.bin" -- "$@" \
		</dev/null >"$out" 2>&1
	rc=$?
	tr -d '\r' <"$out" | sed -n "s/^\(PASS\|FAIL\|SKIP\): /\1: $name: /p"
	if [ $rc -ne 0 ]; then
		echo "FAIL: $name: QEMU did not end with the guest's SYSTEM_OFF (exit $rc)"
	elif ! grep -q '^DONE: 0 failures' "$out"; then
		echo "FAIL: $name: the guest did not finish cleanly"
	fi
	if grep -q 'trapvisor: unexpected exception\|trapvisor panic' "$out"; then
		echo "FAIL: $name: the hypervisor faulted:"
		grep -A3 'unexpected exception\|panic' "$out" | head -20
	fi
	return 0
}
