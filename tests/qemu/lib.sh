# Helpers for QEMU integration tests (sourced). Each test prints PASS:/FAIL:/SKIP:
# lines that tests/run counts.
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
log_dir=${TEST_LOG_DIR:-$top/build/test-logs}
mkdir -p "$log_dir"

# Verdict lines: "PASS: $test_name: WHAT", "FAIL: $test_name: WHAT: WHY" (then up to
# 30 lines of OUTPUT, indented), "SKIP: $test_name: WHAT: WHY". $failures counts the FAILs.
test_name=${test_name:-test}
failures=0
pass() { echo "PASS: $test_name: $1"; }
fail() {
	echo "FAIL: $test_name: $1: ${2:-unexpected output}"
	failures=$((failures + 1))
	if [ $# -gt 2 ] && [ -n "$3" ]; then
		printf '%s\n' "$3" | head -n 30 | sed 's/^/    | /'
	fi
}
skip() { echo "SKIP: $test_name: $1: $2"; }
# verdict RC WHAT [WHY [OUTPUT]]: PASS if RC is 0 (pass `$?` of the check just made).
verdict() {
	if [ "$1" = 0 ]; then pass "$2"; else fail "$2" "${3:-}" "${4:-}"; fi
}

# has_line LINE TEXT: TEXT has a line that is exactly LINE (no pattern, no part of a line).
has_line() { grep -qxF -- "$1" <<<"$2"; }
# count_lines REGEX TEXT: how many lines of TEXT match the extended REGEX.
count_lines() { grep -cE -- "$1" <<<"$2"; }
# in_range N LO HI: N is a number and LO <= N <= HI.
in_range() { [[ $1 =~ ^[0-9]+$ ]] && [ "$1" -ge "$2" ] && [ "$1" -le "$3" ]; }

# A free TCP port for the debug line, so tests never collide with a `make run`.
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# run_guest NAME SMP "HV OPTIONS" [TIMEOUT [LABEL [QEMU ARGS...]]]: boot a test guest
# to its SYSTEM_OFF and relay its verdicts, prefixed with LABEL (default NAME); the
# console stays in $log_dir/guest-LABEL.out for checks of what the hypervisor printed.
# Fails if the guest did not finish, if any check failed, or if the hypervisor
# reported anything unexpected. SMP is the guest's vCPUs; `pcpus=M run_guest ...`
# gives QEMU M CPUs under the hypervisor (run-qemu --pcpus; default SMP).
run_guest() {
	local name=$1 smp=$2 hv=$3 limit=${4:-60} label=${5:-$1}
	local out="$log_dir/guest-$label.out" rc
	shift $(($# < 5 ? $# : 5))
	timeout --kill-after=5 "$limit" "$top/scripts/run-qemu" --quiet --smp "$smp" --pcpus "${pcpus:-$smp}" \
		--gdb-port "$(free_port)" --hv "$hv" --guest "$top/build/guests/$name.bin" -- "$@" \
		</dev/null >"$out" 2>&1
	rc=$?
	relay_guest "$label" "$out" "$rc"
}

# run_guest_bare NAME SMP CMDLINE [TIMEOUT [LABEL [QEMU ARGS...]]]: the same guest on
# bare QEMU with no hypervisor (scripts/run-qemu --no-hv: EL1, QEMU's own PSCI),
# CMDLINE in its /chosen/bootargs; verdicts relayed as run_guest does. A check
# must pass here before its failure under trapvisor means anything.
run_guest_bare() {
	local name=$1 smp=$2 cmdline=$3 limit=${4:-60} label=${5:-$1-bare}
	local out="$log_dir/guest-$label.out" rc
	shift $(($# < 5 ? $# : 5))
	timeout --kill-after=5 "$limit" "$top/scripts/run-qemu" --quiet --no-hv --smp "$smp" \
		--cmdline "$cmdline" --guest "$top/build/guests/$name.bin" -- "$@" </dev/null >"$out" 2>&1
	rc=$?
	relay_guest "$label" "$out" "$rc"
}

# relay_guest LABEL OUT RC: a guest run's verdicts, then whether it ended as it must.
relay_guest() {
	local label=$1 out=$2 rc=$3
	tr -d '\r' <"$out" >"$out.txt"
	sed -n "s/^\(PASS\|FAIL\|SKIP\): /\1: $label: /p" "$out.txt"
	if [ $rc -ne 0 ]; then
		echo "FAIL: $label: QEMU did not end with the guest's SYSTEM_OFF (exit $rc)"
	elif ! grep -qx 'DONE: 0 failures' "$out.txt"; then
		echo "FAIL: $label: the guest did not finish cleanly"
	elif ! grep -q '^PASS: ' "$out.txt"; then
		echo "FAIL: $label: the guest printed no verdict"
	fi
	if grep -q 'trapvisor: unexpected exception\|trapvisor panic' "$out.txt"; then
		echo "FAIL: $label: the hypervisor faulted:"
		grep -A3 'unexpected exception\|panic' "$out.txt" | head -20
	fi
	return 0
}
