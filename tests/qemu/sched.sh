#!/usr/bin/env bash
# vCPUs sharing physical CPUs (issue 11): guests/sched.c on 4 vCPUs checks what a
# guest must never notice when its vCPUs are switched on a pCPU: bring-up by
# PSCI, registers, FP/SIMD, system registers and PAuth keys across thousands of
# spins and WFIs, idle vCPUs ticking, masked spinners not starving the others,
# SGIs and virtual timers reaching vCPUs that wait, CPU_OFF/CPU_ON, no stale
# translation between vCPUs, a timer interrupt whose handler spans switches
# taken once; and the PMU, which is not switched: while the vCPUs share pCPUs
# (the pcpus runs, which tell the guest so: sched.pcpus=N) none in the ID
# registers or the device tree and its registers UNDEFINED, in the other runs
# QEMU's. What each check asserts is at the top of the guest.
#
#   bash tests/qemu/sched.sh [RUN ...]   the runs named (all by default):
#     bare      sched-bare: no hypervisor, QEMU -smp 4 (its own PSCI): the
#               reference; a check that fails here is a wrong check
#     hv        sched: under trapvisor, 4 vCPUs on 4 pCPUs, default traps
#     hv-traps  sched-traps: the same with WFI, FP/SIMD and the VM registers trapped
#     pcpus2    sched-4on2: 4 vCPUs on 2 pCPUs (scripts/run-qemu --pcpus 2)
#     pcpus1    sched-4on1: 4 vCPUs on 1 pCPU
#
# The pcpus runs are skipped, saying so, only while scripts/run-qemu has no
# --pcpus; once it has, they run and their failures are failures.
# SCHED_SCALE=PERCENT scales the guest's durations (default 100: about 3 s a run
# on 4 pCPUs).
runs="bare hv hv-traps pcpus2 pcpus1"
test_name=sched
source "$(dirname "$0")/lib.sh"
for r in "$@"; do
	[[ " $runs " == *" $r "* ]] || { echo "sched.sh: no run \"$r\" (runs: $runs)" >&2; exit 2; }
done
selected="$*"
want_run() { [ -z "$selected" ] || [[ " $selected " == *" $1 "* ]]; }
verdicts() { grep -cE '^(PASS|FAIL|SKIP): ' "$log_dir/guest-$1.out.txt"; }
cmdline="sched.scale=${SCHED_SCALE:-100}"
guest="$top/build/guests/sched.bin"

# run_hv LABEL LIMIT CMDLINE [RUN-QEMU OPTIONS...]: the guest under trapvisor on 4
# vCPUs, its verdicts relayed as lib.sh's run_guest does (run_guest has no --pcpus).
run_hv() {
	local label=$1 limit=$2 args=$3 out="$log_dir/guest-$1.out" rc
	shift 3
	timeout --kill-after=5 "$limit" "$top/scripts/run-qemu" --quiet --smp 4 "$@" \
		--gdb-port "$(free_port)" --cmdline "$args" --guest "$guest" </dev/null >"$out" 2>&1
	rc=$?
	relay_guest "$label" "$out" "$rc"
}

# Whether scripts/run-qemu takes --pcpus: asked with a guest that is not there, it
# stops at its option parsing either way, before any QEMU starts.
has_pcpus() {
	local msg
	msg=$(timeout 10 "$top/scripts/run-qemu" --pcpus 1 --guest /nonexistent/sched.bin </dev/null 2>&1)
	! grep -q 'unknown option --pcpus' <<<"$msg"
}

want_run bare && run_guest_bare sched 4 "$cmdline" 40 sched-bare
want_run hv && run_hv sched 40 "$cmdline"
want_run hv-traps && run_hv sched-traps 40 "$cmdline" --hv "trapvisor.trap=wfi,fp,vm"
for p in 2 1; do
	want_run "pcpus$p" || continue
	if has_pcpus; then
		# Told it shares pCPUs, the guest also checks that a WFI gives its pCPU away.
		run_hv "sched-4on$p" 60 "$cmdline sched.pcpus=$p" --pcpus "$p"
	else
		skip "sched-4on$p: 4 vCPUs on $p pCPU(s)" \
			"vCPUs sharing pCPUs: scheduler not landed (scripts/run-qemu has no --pcpus)"
	fi
done

# A run that stops early must not look like one with fewer failures.
if want_run bare; then
	want=$(verdicts sched-bare)
	for r in hv:sched hv-traps:sched-traps pcpus2:sched-4on2 pcpus1:sched-4on1; do
		want_run "${r%%:*}" && [ -f "$log_dir/guest-${r#*:}.out.txt" ] || continue
		case ${r%%:*} in pcpus*) has_pcpus || continue ;; esac
		got=$(verdicts "${r#*:}")
		[ "$got" = "$want" ]
		verdict $? "the ${r#*:} run made all $want checks the bare one makes (made $got)"
	done
fi
