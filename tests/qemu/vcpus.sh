#!/usr/bin/env bash
# The guest's vCPU count apart from QEMU's CPUs (issue #11): what scripts/run-qemu
# and `make run` give QEMU and the hypervisor for --smp/--pcpus (SMP/PCPUS), checked
# against a stand-in qemu-system-aarch64 that prints its arguments; the hypervisor's
# trapvisor.vcpus= (a value out of range is refused with its reason); and the smp
# guest, which brings up every CPU its device tree names, booted with as many vCPUs
# as pCPUs. More vCPUs than pCPUs waits for the scheduler. The guest's device tree
# for other counts is tests/host/test_fdt.c's.
test_name=vcpus
source "$(dirname "$0")/lib.sh"

# ---- run-qemu and make run, against a QEMU that only prints what it was given ----
fake_bin="$log_dir/vcpus-fake-qemu"
mkdir -p "$fake_bin"
cat >"$fake_bin/qemu-system-aarch64" <<'EOF'
#!/bin/sh
for a in "$@"; do printf '%s\n' "$a"; done
EOF
chmod +x "$fake_bin/qemu-system-aarch64"
# qemu_args RUN-QEMU-ARGS...: the arguments run-qemu hands QEMU, one a line (status kept).
qemu_args() { PATH="$fake_bin:$PATH" "$top/scripts/run-qemu" --quiet --guest "$top/build/guests/smp.bin" "$@" 2>&1; }
# smp_of ARGS: the value after -smp. append_of ARGS: the value after -append.
smp_of() { grep -A1 -x -- '-smp' <<<"$1" | tail -n 1; }
append_of() { grep -A1 -x -- '-append' <<<"$1" | tail -n 1; }
# words_matching REGEX TEXT: the words of TEXT that match, space separated.
words_matching() { tr ' ' '\n' <<<"$2" | grep -E -- "$1" | tr '\n' ' ' | sed 's/ $//'; }

a=$(qemu_args --smp 2 --pcpus 2)
[ "$(smp_of "$a")" = 2 ] && [ -z "$(words_matching '^trapvisor\.vcpus=' "$(append_of "$a")")" ]
verdict $? "run-qemu --smp 2 --pcpus 2: QEMU -smp 2, no trapvisor.vcpus= for the hypervisor" "" "$a"
a=$(qemu_args --smp 4)
[ "$(smp_of "$a")" = 4 ] && [ -z "$(words_matching '^trapvisor\.vcpus=' "$(append_of "$a")")" ]
verdict $? "run-qemu --smp 4: --pcpus defaults to --smp (QEMU -smp 4, no trapvisor.vcpus=)" "" "$a"
a=$(qemu_args --smp 4 --pcpus 2)
[ "$(smp_of "$a")" = 2 ] && [ "$(words_matching '^trapvisor\.vcpus=' "$(append_of "$a")")" = trapvisor.vcpus=4 ] &&
	[[ "$(append_of "$a")" == *" -- "* ]] &&
	[ -z "$(words_matching '^trapvisor\.' "$(sed 's/.* -- //' <<<"$(append_of "$a")")")" ]
verdict $? "run-qemu --smp 4 --pcpus 2: QEMU -smp 2, trapvisor.vcpus=4 among the hypervisor's words" "" "$a"
a=$(qemu_args --smp 1 --pcpus 2)
[ "$(smp_of "$a")" = 2 ] && [ "$(words_matching '^trapvisor\.vcpus=' "$(append_of "$a")")" = trapvisor.vcpus=1 ]
verdict $? "run-qemu --smp 1 --pcpus 2: QEMU -smp 2, trapvisor.vcpus=1" "" "$a"
a=$(qemu_args --no-hv --smp 4 --pcpus 2)
[ "$(smp_of "$a")" = 4 ] && [ -z "$(words_matching '^trapvisor\.' "$(append_of "$a")")" ]
verdict $? "run-qemu --no-hv --smp 4 --pcpus 2: bare QEMU gets -smp 4, --pcpus is ignored" "" "$a"
for bad in "--pcpus 9" "--smp 9" "--pcpus 0" "--smp 0" "--pcpus two"; do
	a=$(qemu_args --smp 2 $bad)
	rc=$?
	what=${bad%% *} value=${bad#* }
	[ $rc = 2 ] && [ "$(wc -l <<<"$a")" = 1 ] &&
		grep -qxE -- "run-qemu: $what \(.*\) is 1 to 8 \(hv/include/hv.h\), not \"$value\"" <<<"$a"
	verdict $? "run-qemu --smp 2 $bad is refused with its reason, QEMU not started (exit $rc)" "" "$a"
done
a=$(PATH="$fake_bin:$PATH" timeout 120 make -s -C "$top" run SMP=4 PCPUS=2 GUEST="$top/build/guests/smp.bin" 2>&1)
[ "$(smp_of "$a")" = 2 ] && [ "$(words_matching '^trapvisor\.vcpus=' "$(append_of "$a")")" = trapvisor.vcpus=4 ]
verdict $? "make run SMP=4 PCPUS=2: QEMU -smp 2, trapvisor.vcpus=4" "" "$a"
a=$(PATH="$fake_bin:$PATH" timeout 120 make -s -C "$top" run SMP=3 GUEST="$top/build/guests/smp.bin" 2>&1)
[ "$(smp_of "$a")" = 3 ] && [ -z "$(words_matching '^trapvisor\.vcpus=' "$(append_of "$a")")" ]
verdict $? "make run SMP=3: PCPUS defaults to SMP (QEMU -smp 3, no trapvisor.vcpus=)" "" "$a"

# ---- the hypervisor: trapvisor.vcpus= ----
console() { cat "$log_dir/guest-$1.out.txt"; }
# As many vCPUs as pCPUs, the way run-qemu boots by default: unchanged.
pcpus=2 run_guest smp 2 "" 60 vcpus-2on2
c=$(console vcpus-2on2)
grep -q '^trapvisor: 2 vCPUs on 2 CPUs, ' <<<"$c" && has_line "smp: 2 vCPUs: 0x0 0x1" "$c" && ! grep -q 'vcpus' <<<"$c"
verdict $? "--smp 2 --pcpus 2: the smp guest finds and starts 2 vCPUs, nothing said of trapvisor.vcpus" "" \
	"$(grep -E '^(trapvisor|smp):' <<<"$c")"
# The same count said explicitly is taken without a word.
run_guest smp 2 "trapvisor.vcpus=2" 60 vcpus-explicit
c=$(console vcpus-explicit)
has_line "smp: 2 vCPUs: 0x0 0x1" "$c" && ! grep -q 'vcpus\|bad option' <<<"$c"
verdict $? "trapvisor.vcpus=2 on 2 pCPUs is accepted silently, the guest has 2 vCPUs" "" "$(grep -E '^(trapvisor|smp):' <<<"$c")"
# Out of range: the reason, then the usual refusal; the guest boots with one vCPU per pCPU.
run_guest smp 2 "trapvisor.vcpus=9 trapvisor.vcpus=0" 60 vcpus-bad
c=$(console vcpus-bad)
has_line 'trapvisor: trapvisor.vcpus=9: the guest can have 1 to 8 vCPUs' "$c" &&
	has_line 'trapvisor: ignoring bad option "trapvisor.vcpus=9"' "$c" &&
	has_line 'trapvisor: trapvisor.vcpus=0: the guest can have 1 to 8 vCPUs' "$c" &&
	has_line 'trapvisor: ignoring bad option "trapvisor.vcpus=0"' "$c" &&
	[ "$(count_lines 'vcpus=' "$c")" = 4 ] && has_line "smp: 2 vCPUs: 0x0 0x1" "$c"
verdict $? "trapvisor.vcpus=9 and =0 are refused, each with its reason, and the guest keeps 2 vCPUs" "" \
	"$(grep -E '^(trapvisor|smp):' <<<"$c")"
# Four and four: the smp guest's whole run.
pcpus=4 run_guest smp 4 "" 60 vcpus-4on4
has_line "smp: 4 vCPUs: 0x0 0x1 0x2 0x3" "$(console vcpus-4on4)"
verdict $? "--smp 4 --pcpus 4: the smp guest finds and starts 4 vCPUs" "" "$(grep '^smp:' <<<"$(console vcpus-4on4)")"
# Four on two, and four on one: the same run, the vCPUs sharing pCPUs.
for p in 2 1; do
	pcpus=$p run_guest smp 4 "" 90 "vcpus-4on$p"
	c=$(console "vcpus-4on$p")
	grep -q "^trapvisor: 4 vCPUs on $p CPUs, " <<<"$c" && has_line "smp: 4 vCPUs: 0x0 0x1 0x2 0x3" "$c"
	verdict $? "--smp 4 --pcpus $p: the smp guest finds and starts 4 vCPUs on $p pCPUs" "" "$(grep -E '^(trapvisor|smp):' <<<"$c")"
done
[ $failures = 0 ]
