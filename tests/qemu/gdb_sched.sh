#!/usr/bin/env bash
# GDB over vCPUs that share pCPUs (issue #11): the sched_target guest
# (guests/sched_target.c) with 4 vCPUs on 2 pCPUs, then 2 on 1, and a real
# gdb-multiarch, checking what the user sees. Every vCPU of that guest holds
# values of its own (x19, TPIDR_EL0, TPIDR_EL1, its stack, its private page at
# one VA, FP/SIMD registers and FPCR/FPSR), so a register or a byte read from the
# wrong vCPU shows; vCPU 0 spins and never waits, so its round counter moves
# whenever it runs at all. Every vCPU uses FP/SIMD every round, so the lazily
# switched FP/SIMD registers change hands between the vCPUs of a pCPU all the time.
#
#   bash tests/qemu/gdb_sched.sh                        both machines (make test)
#   bash tests/qemu/gdb_sched.sh --smp 4 --pcpus 2      one machine (SMP > PCPUS)
#
# Output: PASS:/FAIL: lines "gdb_sched: N on M: <what>". Logs: build/test-logs/
# gdb_sched-NonM-*.out (each gdb session) and gdb_sched-NonM.console (the guest).
test_name=gdb_sched
source "$(dirname "$0")/lib.sh"
GDB=${GDB:-gdb-multiarch}
elf=$top/build/guests/sched_target.elf
bin=$top/build/guests/sched_target.bin
machines="4:2 2:1"
budget=200 # seconds: past this no gdb session starts, so hangs cannot pile up
while [ $# -gt 0 ]; do
	case "$1" in
	--smp) smp_arg=${2:-}; shift 2 ;;
	--pcpus) pcpus_arg=${2:-}; shift 2 ;;
	*) echo "usage: $0 [--smp N --pcpus M]   (N > M: vCPUs must share pCPUs)" >&2; exit 2 ;;
	esac
done
if [ -n "${smp_arg:-}${pcpus_arg:-}" ]; then
	[[ ${smp_arg:-} =~ ^[0-9]+$ && ${pcpus_arg:-} =~ ^[0-9]+$ ]] && [ "$smp_arg" -gt "$pcpus_arg" ] ||
		{ echo "$0: --smp N --pcpus M, both numbers, N > M" >&2; exit 2; }
	machines=$smp_arg:$pcpus_arg
fi
for tool in "$GDB" qemu-system-aarch64; do
	command -v "$tool" >/dev/null || { fail "setup" "$tool is not installed (scripts/deps)"; exit 1; }
done
for f in "$elf" "$bin" "$top/build/trapvisor.elf"; do
	[ -f "$f" ] || { fail "setup" "$f is missing (make all)"; exit 1; }
done

# What the guest puts where (guests/sched_target.c).
private_va=0x1000000000 # SCHED_PRIVATE_VA
x19_of() { printf '0x%x' $((0x5c4ed19000000000 + $1)); }     # SCHED_X19(n)
tpidr_of() { printf '0x%x' $((0x5c4ed0e100000000 + $1)); }   # SCHED_TPIDR(n)
private_of() { printf '0x%x' $((0x5c4edfa9e0000000 + $1)); } # SCHED_PRIVATE(n)
mpidr_of() { printf '0x%x' $((0x80000000 | $1)); }
# FP/SIMD: word w of struct sched_fp (v0.d[0], v0.d[1] = the vCPU's FP rounds, v1.d[0],
# v1.d[1], v2.d[0], v2.d[1], v8.d[0], v8.d[1], fpcr, fpsr) is SCHED_FP(n, w), FPCR and
# FPSR SCHED_FPCR(n) and SCHED_FPSR(n).
fp_names=('v0.d[0]' 'v0.d[1]' 'v1.d[0]' 'v1.d[1]' 'v2.d[0]' 'v2.d[1]' 'v8.d[0]' 'v8.d[1]' fpcr fpsr)
fp_word() { printf '0x%x' $((0x5c4ed0f000000000 + ($2 << 12) + $1)); }
fp_fpcr() { printf '0x%x' $((1 << 26 | ($1 & 1) << 25 | ($1 >> 2 & 1) << 24 | ($1 & 3) << 22)); }
fp_fpsr() { printf '0x%x' $((1 << 27 | ($1 + 1))); }
sym() { ${CROSS:-aarch64-linux-gnu-}nm "$elf" | awk -v s="$1" '$3 == s { print "0x" $1 }'; }
hex() { printf '0x%x' "$1"; }
rand64() { printf '0x%04x%04x%04x%04x' $((RANDOM | 0x1000)) $RANDOM $RANDOM $RANDOM; }

# ---- one machine: QEMU, its console, gdb sessions on it ------------------------------
qemu_pid=
stop_qemu() {
	[ -n "$qemu_pid" ] && kill "$qemu_pid" 2>/dev/null && wait "$qemu_pid" 2>/dev/null
	qemu_pid=
}
trap stop_qemu EXIT
trap 'stop_qemu; exit 1' INT TERM

console_text() { tr -d '\r' <"$console"; }
# console_wait REGEX SECONDS: until a console line matches (false if none by then).
console_wait() {
	local until=$((SECONDS + $2))
	until console_text | grep -qE -- "$1"; do
		[ $SECONDS -lt $until ] && kill -0 "$qemu_pid" 2>/dev/null || return 1
		sleep 0.2
	done
}
# heartbeats: the rounds of every vCPU, one heartbeat a line ("R0 R1 ...").
heartbeats() { console_text | sed -n 's/^sched_target: heartbeat [0-9]*: rounds //p'; }

# session NAME CMD...: one gdb-multiarch attached to the guest, one -ex a command (an
# error in one does not stop the rest); what it printed is in $out and in a log.
# `set osabi none`: the guest's ELF has a PT_INTERP, and gdb would take the host's
# ld.so for a shared library of the guest.
session() {
	local name=$1 c
	shift
	local args=(-iex 'set osabi none' -ex 'set pagination off' -ex 'set confirm off'
	            -ex 'set remotetimeout 5' -ex "target remote 127.0.0.1:$port")
	for c in "$@"; do args+=(-ex "$c"); done
	local log=$log_dir/gdb_sched-$run-$name.out
	if [ $SECONDS -gt $budget ]; then # tests/run allows 300 s; a run takes about 12
		out="(not run: the test has used up its $budget s)"
		return
	fi
	# gdb runs `shell` with $SHELL: the guards below are sh.
	SHELL=/bin/sh timeout --kill-after=5 40 "$GDB" -nx -batch "${args[@]}" "$elf" </dev/null >"$log" 2>&1
	[ $? -lt 124 ] || echo "(gdb killed after 40 s)" >>"$log"
	out=$(tr -d '\r' <"$log")
}
# `mark NAME` in a session's commands starts a part; `part NAME` is what gdb printed in it.
mark() { printf 'echo \\n@@%s@@\\n' "$1"; }
part() { awk -v m="@@$1@@" '$0 == m { on = 1; next } /^@@.*@@$/ { on = 0 } on' <<<"$out"; }
# The values of the `p` commands of a part, one a line; pval: the last one.
pvals() { part "$1" | sed -n 's/^\$[0-9]* = //p'; }
pval() { pvals "$1" | tail -n 1; }
# A continue that must stop by itself: gdb interrupts it (SIGINT) after N s if it has
# not, so a stop that never comes fails the check instead of hanging the session.
guard=
guard_on() { echo "shell (trap 'kill \$z; exit' TERM; sleep $1 & z=\$!; wait \$z; kill -INT \$PPID) & echo \$! >'$guard'"; }
guard_off() { echo "shell kill \$(cat '$guard') 2>/dev/null"; }
detached() { grep -qx '\[Inferior 1 (Remote target) detached\]' <<<"$out"; }
# thread_lines TEXT: the `info threads` rows, "T|V|P|STATE" each.
thread_lines() {
	sed -n 's/^[* ] *\([0-9]*\) *Thread \1 (vCPU \([0-9]*\) (MPIDR [0-9a-fx]*) on pCPU \([0-9]*\): \([^)]*\)) .*/\1|\2|\3|\4/p' <<<"$1"
}
# threads_ok TEXT: one row a vCPU, in order, each naming its MPIDR and pCPU (n % M)
# and a state a stopped vCPU can be in; no pCPU with two vCPUs "stopped, was
# running", and pCPU 0 with exactly one (vCPU 0 never waits, so pCPU 0 is never
# idle); vCPU 0, which never executes WFI, never "blocked in WFI".
threads_ok() {
	local v rows states
	rows=$(grep -cE '^[* ] +[0-9]+ +Thread ' <<<"$1")
	[ "$rows" = "$smp" ] || return 1
	for ((v = 0; v < smp; v++)); do
		grep -qE "^[* ] +$((v + 1)) +Thread $((v + 1)) \(vCPU $v \(MPIDR $(mpidr_of $v)\) on pCPU $((v % pcpus)): (blocked in WFI|stopped, was running|runnable, waiting)\) " <<<"$1" ||
			return 1
	done
	states=$(thread_lines "$1")
	[ "$(grep -c '|stopped, was running$' <<<"$states")" -le "$pcpus" ] &&
		[ -z "$(grep '|stopped, was running$' <<<"$states" | cut -d'|' -f3 | sort | uniq -d)" ] &&
		[ "$(grep -cE '^[0-9]+\|[0-9]+\|0\|stopped, was running$' <<<"$states")" = 1 ] &&
		grep -qE '^1\|0\|0\|(stopped, was running|runnable, waiting)$' <<<"$states"
}
# regs TEXT: the general registers of an `info registers x0 ... cpsr`, one a line.
regs_list="x0 x1 x2 x3 x4 x5 x6 x7 x8 x9 x10 x11 x12 x13 x14 x15 x16 x17 x18 x19 x20 x21 x22 x23 x24 x25 x26 x27 x28 x29 x30 sp pc cpsr"
regs() { grep -E '^(x[0-9]+|sp|pc|cpsr) +0x' <<<"$1" | awk '{ print $1, $2 }'; }

# ---- FP/SIMD as GDB sees it while vCPUs share pCPUs ---------------------------------
# fpx[n,w]: the value word w of vCPU n's FP/SIMD must have now (the guest's, or what GDB
# wrote), for every word but its round (1), which only the guest knows.
declare -A fpx
# fp_reads STOP: the commands that show every vCPU's FP/SIMD at a stop, a part each.
fp_reads() {
	local n
	for ((n = 0; n < smp; n++)); do
		printf '%s\n' "$(mark "$1-v$n")" "thread $((n + 1))" 'p/x $pc' 'p/x $v0.d.u' 'p/x $q1.u' 'p/x $v2.d.u' \
			'p/x $d8.u' 'p/x $v8.d.u[1]' 'info registers fpcr fpsr' "p sched_fp_want[$n].w[1]"
	done
}
# fp_seen STOP N: what gdb showed of vCPU N's FP/SIMD there, on one line.
fp_seen() {
	local p r
	p=$(pvals "$1-v$2") r=$(part "$1-v$2")
	echo "v0 $(sed -n 2p <<<"$p") q1 $(sed -n 3p <<<"$p") v2 $(sed -n 4p <<<"$p") d8 $(sed -n 5p <<<"$p")" \
		"v8.d[1] $(sed -n 6p <<<"$p") fpcr $(awk '$1 == "fpcr" { print $2 }' <<<"$r")" \
		"fpsr $(awk '$1 == "fpsr" { print $2 }' <<<"$r")"
}
# fp_want STOP N: what it must be. The round is the one the vCPU last stored, or one
# more if it was stopped between bumping the register and storing it (sched_fp_bumped).
fp_want() {
	local p pc round n=$2
	p=$(pvals "$1-v$n")
	pc=$(sed -n 1p <<<"$p") round=$(sed -n 7p <<<"$p")
	if ! [[ $round =~ ^[0-9]+$ ]] || [ "$round" = 0 ]; then
		round="(a round of FP use: none stored, ${round:-unread})"
	else
		[ "$pc" = "$fp_bumped" ] && round=$((round + 1))
		round=$(hex "$round")
	fi
	echo "v0 {${fpx[$n,0]}, $round} q1 $(printf '0x%x%016x' "${fpx[$n,3]}" "${fpx[$n,2]}")" \
		"v2 {${fpx[$n,4]}, ${fpx[$n,5]}} d8 ${fpx[$n,6]} v8.d[1] ${fpx[$n,7]} fpcr ${fpx[$n,8]} fpsr ${fpx[$n,9]}"
}
# fp_verdict STOP STOPPED WHAT: every vCPU's FP/SIMD at STOP as fpx says (STOPPED: the
# stop happened as the session meant it to, 0 or 1).
fp_verdict() {
	local n bad= show=
	for ((n = 0; n < smp; n++)); do
		if [ "$(fp_seen "$1" $n)" != "$(fp_want "$1" $n)" ]; then
			bad+=" $n"
			show+="vCPU $n (pc $(pvals "$1-v$n" | sed -n 1p)): gdb shows  $(fp_seen "$1" $n)"$'\n'
			show+="$(printf '%*s' $((${#n} + 7)) '')the guest's: $(fp_want "$1" $n)"$'\n'
		fi
	done
	if [ "$2" != 0 ]; then
		fail "$3" "that stop did not happen" "$(part "$1")"
		return
	fi
	[ -z "$bad" ]
	verdict $? "$3: every vCPU's v0 (d[1] its rounds), q1, v2, d8, v8.d[1], FPCR and FPSR are its own" \
		"wrong on vCPU$bad" "$show"
}

# Every vCPU uses FP/SIMD all the time, so at each stop some vCPUs are their pCPU's
# FP owner (the registers are theirs; GDB sees them through the flush at the stop)
# and the others are not (their registers are in their saved context since the owner
# took the pCPU's). Who is the owner is made certain where it matters: `alone T`
# runs thread T by itself (scheduler-locking) to its FP use (break *sched_fp_bumped,
# after the registers' store and the bump), so it holds its pCPU's registers and the
# other vCPUs there, held, do not. The stops, and the writes GDB makes (a word each):
#   A   break sched_last_round, every vCPU running.
#   A2  alone last: last is running and the owner, its peer neither. Writes: last
#       (loaded back at its context_load), peer (loaded at its claim).
#   B   Ctrl-C a second later.
#   C   break sched_vcpu0_round, every vCPU running.
#   C1  alone vCPU 0: running and the owner of pCPU 0. Write: vCPU 0.
#   C2  alone vCPU 0 again: its context_load, as the owner, had to take the write.
#   D   monitor hv catch sched vcpu=sv: sv has just been switched in on pCPU 0, after
#       vCPU 0, which still owns the registers. Writes: vCPU 0 (not running, the
#       owner), sv (running, not the owner).
#   D2  alone sv: its claim must not save the registers over vCPU 0's write.
#   E   Ctrl-C a second later: every vCPU has seen what GDB wrote to it, and nothing else.
# At every stop every vCPU's registers are checked against what it set and GDB wrote.
fp_session() {
	local sv=$pcpus last=$((smp - 1)) peer=$((smp - 1 - pcpus)) n w i
	fp_bumped=$(hex "$(sym sched_fp_bumped)")
	for ((n = 0; n < smp; n++)); do
		for w in 0 2 3 4 5 6 7; do fpx[$n,$w]=$(fp_word $n $w); done
		fpx[$n,8]=$(fp_fpcr $n) fpx[$n,9]=$(fp_fpsr $n)
	done
	# The writes: stop, vCPU, word, value, how GDB writes it, what the vCPU is then.
	local wr_stop=(A2 A2 C1 D D) wr_vcpu=($last $peer 0 0 $sv) wr_word=(4 3 5 8 9) wr_val wr_cmd wr_what
	wr_val=($(rand64) $(rand64) $(rand64) "$(hex $(($(fp_fpcr 0) ^ 0x00c80000)))" "$(hex $(($(fp_fpsr $sv) ^ 0x9f)))")
	wr_cmd=("set var \$v2.d.u[0] = ${wr_val[0]}" "set var \$v1.d.u[1] = ${wr_val[1]}" "set var \$v2.d.u[1] = ${wr_val[2]}"
	        "set var \$fpcr = ${wr_val[3]}" "set var \$fpsr = ${wr_val[4]}")
	wr_what=("running and its pCPU's FP owner (A2)"
	         "not running and not the owner (A2: vCPU $last is)"
	         "running and the owner of pCPU 0 (C1)"
	         "not running but the owner of pCPU 0 (D: vCPU $sv has just been switched in)"
	         "running and not the owner (D: just switched in)")
	writes() {
		for ((i = 0; i < ${#wr_stop[@]}; i++)); do
			[ "${wr_stop[$i]}" = "$1" ] && printf '%s\n' "thread $((${wr_vcpu[$i]} + 1))" "${wr_cmd[$i]}"
		done
	}
	written() { # STOP: from here on, fpx has what GDB wrote at STOP
		for ((i = 0; i < ${#wr_stop[@]}; i++)); do
			[ "${wr_stop[$i]}" = "$1" ] && fpx[${wr_vcpu[$i]},${wr_word[$i]}]=${wr_val[$i]}
		done
	}
	stop_at() { printf '%s\n' "break $1" "$(guard_on 10)" 'continue' "$(guard_off)" 'delete' 'p $_thread'; }
	alone() { printf '%s\n' "thread $1" 'set scheduler-locking on'; stop_at '*sched_fp_bumped'; echo 'set scheduler-locking off'; }
	ctrl_c() { printf '%s\n' "shell (sleep 1; kill -INT \$PPID) &" 'continue'; }
	local cmds=()
	mapfile -t cmds < <(
		echo "$(mark A)"; stop_at sched_last_round; fp_reads A
		echo "$(mark A2)"; alone $((last + 1)); fp_reads A2; writes A2
		echo "$(mark B)"; ctrl_c; fp_reads B
		echo "$(mark C)"; stop_at sched_vcpu0_round; fp_reads C
		echo "$(mark C1)"; alone 1; fp_reads C1; writes C1
		echo "$(mark C2)"; alone 1; fp_reads C2
		echo "$(mark D)"; printf '%s\n' "monitor hv catch sched vcpu=$sv" "$(guard_on 10)" 'continue' "$(guard_off)" 'p $_thread' \
			'monitor hv catch delete all'
		fp_reads D; writes D
		echo "$(mark D2)"; alone $((sv + 1)); fp_reads D2
		echo "$(mark E)"; ctrl_c; fp_reads E
		echo "$(mark report)"
		for ((n = 0; n < smp; n++)); do printf '%s\n' "p/x sched_fp_changed[$n]" "p/x sched_fp_seen[$n].w"; done
		echo "$(mark detach)"; echo 'detach'
	)
	session fp "${cmds[@]}"

	# Each stop as it was meant to happen, and every vCPU's registers there.
	local old=()
	for ((i = 0; i < ${#wr_stop[@]}; i++)); do old+=("${fpx[${wr_vcpu[$i]},${wr_word[$i]}]}"); done
	broke() { grep -qE "^Thread $(($2 + 1)) hit Breakpoint [0-9]+, (0x[0-9a-f]+ in )?$3 " <<<"$(part $1)" && [ "$(pval $1)" = $(($2 + 1)) ]; }
	alone_ok() { broke $1 $2 sched_fp_round && [ "$(pvals "$1-v$2" | sed -n 1p)" = "$fp_bumped" ]; }
	broke A $last sched_last_round
	fp_verdict A $? "A, break sched_last_round (vCPU $last), every vCPU running"
	alone_ok A2 $last
	fp_verdict A2 $? "A2, vCPU $last run alone to its FP use: the FP owner of pCPU $((last % pcpus)), vCPU $peer there is not"
	written A2
	grep -qE '^Thread [0-9]+ received signal SIGINT' <<<"$(part B)"
	fp_verdict B $? "B, Ctrl-C a second after GDB wrote vCPU $last's v2.d[0] and vCPU $peer's v1.d[1] at A2"
	broke C 0 sched_vcpu0_round
	fp_verdict C $? "C, break sched_vcpu0_round, every vCPU running"
	alone_ok C1 0
	fp_verdict C1 $? "C1, vCPU 0 run alone to its FP use: the FP owner of pCPU 0"
	written C1
	alone_ok C2 0
	fp_verdict C2 $? "C2, vCPU 0 run alone to its next FP use after GDB wrote its v2.d[1] at C1, as the owner"
	grep -qE "^catchpoint [0-9]+: vCPU $sv was switched in on pCPU 0 after vCPU 0 " <<<"$(part D)" && [ "$(pval D)" = $((sv + 1)) ]
	fp_verdict D $? "D, vCPU $sv switched in on pCPU 0 after vCPU 0 (caught), which still owns the registers"
	written D
	alone_ok D2 $sv
	fp_verdict D2 $? "D2, vCPU $sv run alone to its FP use after GDB wrote vCPU 0's FPCR and vCPU $sv's FPSR at D"
	grep -qE '^Thread [0-9]+ received signal SIGINT' <<<"$(part E)"
	fp_verdict E $? "E, Ctrl-C a second later"

	# What each vCPU saw, as it says: sched_fp_changed[n] (a bit a word), the registers
	# it found then (sched_fp_seen[n], the last time), its console lines.
	local rep changed=() seen=() lines
	rep=$(pvals report)
	lines=$(console_text | grep 'FP/SIMD differs from what it set:')
	for ((n = 0; n < smp; n++)); do
		changed+=("$(sed -n $((2 * n + 1))p <<<"$rep")")
		seen+=("$(sed -n $((2 * n + 2))p <<<"$rep" | tr -d '{} ')")
	done
	for ((i = 0; i < ${#wr_stop[@]}; i++)); do
		n=${wr_vcpu[$i]} w=${wr_word[$i]}
		local name=${fp_names[$w]} v=${wr_val[$i]}
		[[ ${changed[$n]} =~ ^0x[0-9a-f]+$ ]] && (((${changed[$n]} >> w) & 1)) &&
			[ "$(cut -d, -f$((w + 1)) <<<"${seen[$n]}")" = "$v" ] &&
			grep -qF "sched_target: vCPU $n FP/SIMD differs from what it set:" <<<"$(grep -F " $name ${old[$i]} -> $v" <<<"$lines")"
		verdict $? "${wr_stop[$i]}: GDB writes $name of vCPU $n, ${wr_what[$i]}: after continue the vCPU finds $v there" \
			"sched_fp_changed[$n] ${changed[$n]:-?}, its $name as it found it $(cut -d, -f$((w + 1)) <<<"${seen[$n]}")" \
			"$(grep "vCPU $n FP" <<<"$lines")"
	done
	# Nothing else: every vCPU saw exactly the words GDB wrote to it change, each once.
	local bad= mask want_words
	for ((n = 0; n < smp; n++)); do
		mask=0 want_words=
		for ((i = 0; i < ${#wr_stop[@]}; i++)); do
			[ "${wr_vcpu[$i]}" = $n ] || continue
			mask=$((mask | 1 << ${wr_word[$i]}))
			want_words+=" ${fp_names[${wr_word[$i]}]} ${old[$i]} -> "$'\n'
		done
		[ "${changed[$n]}" = "$(hex $mask)" ] &&
			[ "$(grep -F "vCPU $n FP/SIMD differs" <<<"$lines" | grep -oE ' [a-z0-9.]+(\[[01]\])? 0x[0-9a-f]+ -> ' | sort)" = \
			  "$(sort <<<"${want_words%$'\n'}")" ] || bad+=" $n"
	done
	[ -z "$bad" ]
	verdict $? "nothing else of any vCPU's FP/SIMD changed: each saw exactly the words GDB wrote to it change, once, and no other vCPU's" \
		"wrong on vCPU$bad" "$(for ((n = 0; n < smp; n++)); do echo "sched_fp_changed[$n] = ${changed[$n]}"; done; echo "$lines")"
}

machine() {
	smp=$1 pcpus=$2
	run=${smp}on$pcpus
	test_name="gdb_sched: $smp on $pcpus"
	console=$log_dir/gdb_sched-$run.console
	guard=$log_dir/gdb_sched-$run.guard
	# vCPU sv shares pCPU 0 with vCPU 0 (it is stepped and caught); vCPU last is the
	# only one that runs sched_last_round.
	local sv=$pcpus last=$((smp - 1)) t v
	port=$(free_port)
	: >"$console"
	timeout --kill-after=5 100 "$top/scripts/run-qemu" --quiet --smp "$smp" --pcpus "$pcpus" \
		--gdb-port "$port" --guest "$bin" </dev/null >"$console" 2>&1 &
	qemu_pid=$!
	if ! console_wait "^sched_target: ready, $smp vCPUs\$" 40 || ! console_wait '^sched_target: heartbeat 2:' 10; then
		fail "boot" "sched_target did not report $smp vCPUs ready and two heartbeats" "$(console_text | tail -n 20)"
		stop_qemu
		return
	fi

	# ---- 1. what a stopped guest looks like: threads, each vCPU's registers and its
	# private page, writes to a vCPU's registers and memory, a breakpoint one vCPU hits.
	local x19_new tpidr_new word_new
	x19_new=$(rand64) tpidr_new=$(rand64) word_new=$(rand64)
	local cmds=("$(mark threads)" 'info threads')
	for ((t = 1; t <= smp; t++)); do
		cmds+=("$(mark "vcpu$((t - 1))")" "thread $t" 'p $tpidr_el1' 'p/x $x19' 'p/x $tpidr_el0'
		       'p (long)$sp - (long)&guest_stacks' 'info symbol $pc' "x/gx $private_va")
	done
	cmds+=("$(mark regwrite)" "thread $((sv + 1))" "set \$x19 = $x19_new" "set \$tpidr_el0 = $tpidr_new"
	       'maintenance flush register-cache' 'p/x $x19' 'p/x $tpidr_el0' 'thread 1' 'p/x $x19' 'p/x $tpidr_el0'
	       "$(mark memwrite)" "thread $((last + 1))" "set var *(unsigned long *)($private_va + 8) = $word_new"
	       "p/x *(unsigned long *)($private_va + 8)" 'thread 1' "p/x *(unsigned long *)($private_va + 8)"
	       "p/x sched_private[$last].word" 'p/x sched_private[0].word'
	       "$(mark break)" 'break sched_last_round' "$(guard_on 10)" 'continue' "$(guard_off)" 'p $_thread'
	       'p $tpidr_el1' "$(mark breakthreads)" 'info threads' "$(mark detach)" 'delete' 'detach')
	session inspect "${cmds[@]}"

	threads_ok "$(part threads)"
	verdict $? "info threads: $smp threads, each vCPU with its MPIDR, its pCPU (n % $pcpus) and what it was doing" \
		"" "$(part threads)"
	local bad=
	for ((v = 0; v < smp; v++)); do
		local p=$(pvals "vcpu$v") sp
		sp=$(sed -n 4p <<<"$p")
		[ "$(sed -n 1p <<<"$p")" = "$v" ] && [ "$(sed -n 2p <<<"$p")" = "$(x19_of $v)" ] &&
			[ "$(sed -n 3p <<<"$p")" = "$(tpidr_of $v)" ] && in_range "$sp" $((v * 16384)) $((v * 16384 + 16383)) &&
			part "vcpu$v" | grep -qE '^[a-z_0-9]+( \+ [0-9]+)? in section \.text$' || bad+=" $v"
	done
	[ -z "$bad" ]
	verdict $? "each vCPU's own registers from its saved context: TPIDR_EL1 = n, x19 and TPIDR_EL0 its own, sp in its stack, pc in the guest's text" \
		"wrong on vCPU$bad" "$(part "vcpu${bad# }" | head -n 12)"
	bad=
	for ((v = 0; v < smp; v++)); do
		part "vcpu$v" | grep -qx "$private_va:[[:space:]]*$(private_of $v)" || bad+=" $v"
	done
	[ -z "$bad" ]
	verdict $? "x/gx $private_va on each thread: that vCPU's own page, through its own stage 1" \
		"wrong on vCPU$bad" "$(for ((v = 0; v < smp; v++)); do part "vcpu$v" | grep "^$private_va:"; done)"
	[ "$(pvals regwrite | tr '\n' ' ')" = "$x19_new $tpidr_new $(x19_of 0) $(tpidr_of 0) " ]
	verdict $? "set \$x19 and \$tpidr_el0 of vCPU $sv (thread $((sv + 1))): they read back, vCPU 0's are untouched" \
		"" "$(part regwrite)"
	[ "$(pvals memwrite | tr '\n' ' ')" = "$word_new 0x0 $word_new 0x0 " ]
	verdict $? "a write through vCPU $last's private VA lands in its page (sched_private[$last]), not in vCPU 0's" \
		"" "$(part memwrite)"
	grep -qE "^Thread $((last + 1)) hit Breakpoint 1, sched_last_round " <<<"$(part break)" &&
		[ "$(pvals break | tr '\n' ' ')" = "$((last + 1)) $last " ] &&
		grep -qE "^\* +$((last + 1)) +Thread $((last + 1)) \(vCPU $last .* on pCPU $((last % pcpus)): stopped, was running\)" \
			<<<"$(part breakthreads)" && detached
	verdict $? "break sched_last_round (only vCPU $last runs it): the stop names Thread $((last + 1)), selected, on pCPU $((last % pcpus))" \
		"" "$(part break)"$'\n'"$(part breakthreads)"
	# What the guest saw once it ran again: each write, on that vCPU only.
	console_wait "^sched_target: vCPU $sv x19 changed to $x19_new\$" 5 &&
		console_wait "^sched_target: vCPU $sv TPIDR_EL0 changed to $tpidr_new\$" 5 &&
		console_wait "^sched_target: vCPU $last private word changed to $word_new\$" 5 &&
		[ "$(console_text | grep -c ' changed to ')" = 3 ]
	verdict $? "after continue the guest sees the writes: vCPU $sv its new x19 and TPIDR_EL0, vCPU $last its page's word, no other vCPU anything" \
		"" "$(console_text | grep ' changed to ')"

	# ---- 2. stepi of vCPU sv, then a catchpoint on its switch-ins. Each starts from a
	# breakpoint vCPU 0 hits: vCPU 0 was the one running on pCPU 0, and is first in
	# line there when the guest resumes. So vCPU 0 must not run while vCPU sv steps
	# (gdb lets every thread run during a stepi): its pc, registers and rounds stay as
	# they were (vCPUs of other pCPUs may run meanwhile, and are not looked at). And
	# the first switch-ins after the resume are vCPU 0's and the other pCPUs': the
	# catchpoint must let them by, and stop when vCPU sv comes in after its tick.
	local same=() wfi woken
	wfi=$(hex "$(sym sched_wfi)") woken=$(hex "$(sym sched_woken)")
	for ((v = 0; v < smp; v++)); do
		[ $((v % pcpus)) = 0 ] && [ $v != $sv ] && same+=($v)
	done
	local to_vcpu0=('break sched_vcpu0_round' "$(guard_on 10)" 'continue' "$(guard_off)" 'delete' 'p $_thread')
	cmds=("$(mark stop)" "${to_vcpu0[@]}")
	for v in "${same[@]}"; do
		cmds+=("$(mark "before$v")" "thread $((v + 1))" "info registers $regs_list" 'p sched_rounds[0]')
	done
	cmds+=("$(mark at)" "thread $((sv + 1))" 'p/x $pc' "$(mark stepi)" 'stepi' 'p $_thread' 'p/x $pc')
	for v in "${same[@]}"; do
		cmds+=("$(mark "after$v")" "thread $((v + 1))" "info registers $regs_list" 'p sched_rounds[0]')
	done
	cmds+=("$(mark catchstop)" "${to_vcpu0[@]}"
	       "$(mark catch)" "monitor hv catch sched vcpu=$sv" "$(guard_on 10)" 'continue' "$(guard_off)"
	       'p $_thread' 'p/x $pc' "p sched_rounds[$sv]" "$(mark catchthreads)" 'info threads'
	       "$(mark trace)" 'monitor hv trace 3'
	       "$(mark again)" "$(guard_on 10)" 'continue' "$(guard_off)" 'p $_thread' "p sched_rounds[$sv]"
	       "$(mark detach)" 'monitor hv catch delete all' 'detach')
	session step "${cmds[@]}"

	local at after
	at=$(pval at) after=$(pvals stepi | sed -n 2p)
	if grep -q '^Thread 1 hit Breakpoint 1, sched_vcpu0_round ' <<<"$(part stop)" && [ "$(pval stop)" = 1 ] &&
		{ [ "$at" = "$wfi" ] || [ "$at" = "$woken" ]; }; then
		[ "$(pvals stepi | sed -n 1p)" = $((sv + 1)) ] && [ "$after" = "$(hex $((at + 4)))" ]
		verdict $? "thread $((sv + 1)), stepi: vCPU $sv goes one instruction on ($at -> ${after:-?})" "" "$(part at)"$'\n'"$(part stepi)"
		bad=
		for v in "${same[@]}"; do
			[ -n "$(regs "$(part "before$v")")" ] && [ "$(regs "$(part "before$v")")" = "$(regs "$(part "after$v")")" ] &&
				[ "$(pval "before$v")" = "$(pval "after$v")" ] || bad+=" $v"
		done
		[ -z "$bad" ]
		verdict $? "during that stepi no other vCPU of pCPU 0 ran: vCPU ${same[*]}'s registers and vCPU 0's rounds ($(pval before0)) unchanged" \
			"changed on vCPU$bad" "$(diff <(regs "$(part "before${bad# }")") <(regs "$(part "after${bad# }")"); echo "rounds $(pval "before${bad# }") -> $(pval "after${bad# }")")"
	else
		fail "stepi of vCPU $sv" "no stop at sched_vcpu0_round on thread 1 with vCPU $sv at sched_wfi/sched_woken ($wfi/$woken) to step from" \
			"$(part stop)"$'\n'"$(part at)"
	fi
	local c caught_pc caught_rounds
	c=$(grep -E '^catchpoint [0-9]+: vCPU ' <<<"$(part catch)")
	caught_pc=$(sed -n 's/.* at \(0x[0-9a-f]*\)$/\1/p' <<<"$c")
	caught_rounds=$(pval catch)
	grep -q '^Thread 1 hit Breakpoint 2, sched_vcpu0_round ' <<<"$(part catchstop)" && [ "$(pval catchstop)" = 1 ] &&
		grep -qE "^catchpoint [0-9]+: vCPU $sv was switched in on pCPU 0 after (the idle loop|vCPU [0-9]+) \([a-z]+\) at 0x[0-9a-f]+\$" <<<"$c" &&
		grep -q "^Thread $((sv + 1)) received signal SIGTRAP" <<<"$(part catch)" &&
		[ "$(pvals catch | sed -n 1,2p | tr '\n' ' ')" = "$((sv + 1)) $caught_pc " ] &&
		grep -qE "^\* +$((sv + 1)) +Thread $((sv + 1)) \(vCPU $sv .* on pCPU 0: stopped, was running\)" <<<"$(part catchthreads)"
	verdict $? "monitor hv catch sched vcpu=$sv, continue: past the others' switch-ins, stops as vCPU $sv comes in on pCPU 0, thread $((sv + 1)) selected, at the pc it names" \
		"" "$(part catchstop | head -n 4)"$'\n'"$(part catch)"$'\n'"$(part catchthreads)"
	# The switch it caught is the latest into vCPU sv in pCPU 0's scheduler ring.
	local why=$(sed -n 's/.* switched in on pCPU 0 after .* (\([a-z]*\)) at .*/\1/p' <<<"$c")
	part trace | sed -n '/^trace: pCPU 0 scheduler/,/^trace: /p' | grep -E " pcpu0: [a-z0-9]+ -> vcpu$sv " | tail -n 1 |
		grep -qE "^#[0-9]+ t=[0-9]+ vcpu$sv +sched +pc=$caught_pc pcpu0: (vcpu[0-9]+|idle) -> vcpu$sv \($why\)\$"
	verdict $? "monitor hv trace: pCPU 0's scheduler ring has that switch into vCPU $sv (${why:-?}, at ${caught_pc:-?})" \
		"" "$(part trace | sed -n '/^trace: pCPU 0 scheduler/,$p')"
	# Continued, vCPU sv runs on from where the catchpoint stopped it, and the next stop
	# is a later switch-in, once it has waited again: its rounds have moved.
	local c2 again_rounds
	c2=$(grep -E '^catchpoint [0-9]+: vCPU ' <<<"$(part again)")
	again_rounds=$(pval again)
	grep -qE "^catchpoint [0-9]+: vCPU $sv was switched in on pCPU 0 " <<<"$c2" && [ "$(pvals again | sed -n 1p)" = $((sv + 1)) ] &&
		[[ $caught_rounds =~ ^[0-9]+$ && $again_rounds =~ ^[0-9]+$ ]] && [ "$again_rounds" -gt "$caught_rounds" ]
	verdict $? "continue from that catchpoint: vCPU $sv runs (rounds $caught_rounds -> ${again_rounds:-?}) before the next switch-in stops it" \
		"the resume's own switch-in (after the debugger's park) is caught again: continue never gets vCPU $sv past it" \
		"$c"$'\n'"$(part again)"
	# Each names what ran there before: the idle loop or a vCPU, then why.
	! grep -E '^catchpoint [0-9]+: vCPU' <<<"$c"$'\n'"$c2" | grep -vqE " after (the idle loop|vCPU [0-9]+) \([a-z]+\) at "
	verdict $? "each catchpoint text says what ran before: \"after the idle loop\" or \"after vCPU N\", and why" \
		"" "$c"$'\n'"$c2"

	# ---- 3. Ctrl-C while the guest runs: every vCPU stops (vCPU 0 too, which never
	# traps), and stays stopped: the rounds are the same a second later.
	session ctrlc "shell (sleep 1; kill -INT \$PPID) &" 'continue' "$(mark threads)" 'info threads' \
		"$(mark r1)" 'p sched_rounds' 'shell sleep 1' 'maintenance flush dcache' "$(mark r2)" 'p sched_rounds' \
		"$(mark detach)" 'detach'
	local r1 r2
	r1=$(pval r1) r2=$(pval r2)
	grep -qE '^Thread [0-9]+ received signal SIGINT' <<<"$out" && threads_ok "$(part threads)" &&
		[[ $r1 =~ ^\{[0-9] ]] && [ "$r1" = "$r2" ] && detached
	verdict $? "Ctrl-C: every vCPU stopped, none running, and their rounds unchanged a second later (${r1:-?})" \
		"" "$(head -n 5 <<<"$out")"$'\n'"$(part threads)"$'\n'"$r1"$'\n'"$r2"

	# ---- 4. FP/SIMD of every vCPU at five stops, and GDB's writes to it (fp_session).
	fp_session

	# ---- 5. after the detach the guest runs on: two heartbeats later every vCPU has
	# gone more rounds (vCPU 0 prints them; the others' counters only move if they run).
	local beats=$(heartbeats | wc -l)
	local until=$((SECONDS + 10))
	while [ "$(heartbeats | wc -l)" -lt $((beats + 2)) ] && [ $SECONDS -lt $until ]; do sleep 0.2; done
	local b1 b2
	b1=$(heartbeats | sed -n "$((beats + 1))p") b2=$(heartbeats | sed -n "$((beats + 2))p")
	[ -n "$b2" ] && python3 -c '
import sys
a, b = ([int(x) for x in s.split()] for s in sys.argv[1:3])
sys.exit(0 if len(a) == len(b) == int(sys.argv[3]) and all(y > x for x, y in zip(a, b)) else 1)' "$b1" "$b2" "$smp"
	verdict $? "detach: the guest runs on, every vCPU goes on counting (heartbeats: ${b1:-none} -> ${b2:-none})" \
		"" "$(console_text | tail -n 5)"

	bad=$(console_text | grep -E 'FAIL|unexpected exception|panic')
	[ -z "$bad" ] && kill -0 "$qemu_pid" 2>/dev/null
	verdict $? "the guest and the hypervisor ran cleanly throughout" "QEMU exited, or its console says" "$bad"
	stop_qemu
	rm -f "$guard"
}

for m in $machines; do
	machine "${m%:*}" "${m#*:}"
done
[ $failures = 0 ]
