#!/usr/bin/env bash
# Boots every self-checking test guest under trapvisor and relays its verdicts, then
# checks what the hypervisor itself printed on the console (the trace and statistics
# the guests ask for, catchpoints logged with no GDB attached, boot options).
#
#   bash tests/qemu/guests.sh [RUN ...]   the runs named (all by default):
runs="idle sysreg bootopts smp smp-vmpidr mmio"
test_name=guests
source "$(dirname "$0")/lib.sh"
for r in "$@"; do
	[[ " $runs " == *" $r "* ]] || { echo "guests.sh: no run \"$r\" (runs: $runs)" >&2; exit 2; }
done
selected="$*"
want_run() { [ -z "$selected" ] || [[ " $selected " == *" $1 "* ]]; }
console() { cat "$log_dir/guest-$1.out.txt"; }
# trace_block PCPU TEXT: the header and event lines hv trace printed for one pCPU.
trace_block() { awk -v h="trace: vCPU $1, " 'index($0, h) == 1 { on = 1; print; next } /^trace: / { on = 0 } on && /^#/' <<<"$2"; }
# consecutive BLOCK: its event lines are the header's "events A..B", in order.
consecutive() {
	local head from to seqs
	head=$(head -n 1 <<<"$1")
	from=$(sed -n 's/^trace: vCPU [0-9]*, events \([0-9]*\)\.\.\([0-9]*\) of \([0-9]*\), 0 dropped$/\1/p' <<<"$head")
	to=$(sed -n 's/^trace: vCPU [0-9]*, events \([0-9]*\)\.\.\([0-9]*\) of \([0-9]*\), 0 dropped$/\2/p' <<<"$head")
	seqs=$(sed -n 's/^#\([0-9]*\) .*/\1/p' <<<"$1" | tr '\n' ' ')
	[ -n "$from" ] && [ "$seqs" = "$(seq -s ' ' "$from" "$to") " ]
}

if want_run idle; then
	run_guest idle 2 "trapvisor.trap=wfi,wfe trapvisor.hypercalls=on"
	c=$(console idle)
	# The guest printed what its trace and statistics must say, right before asking.
	last=$(sed -n 's/^idle: the last call before the trace returns \(0x[0-9a-f]*\); .*/\1/p' <<<"$c")
	wfis=$(sed -n 's/^idle: .* the statistics count \([0-9]*\) WFIs$/\1/p' <<<"$c")
	t0=$(trace_block 0 "$c") t1=$(trace_block 1 "$c")
	[ "$(count_lines '^#' "$t0")" = 4 ] && consecutive "$t0" &&
		grep -qE "^#[0-9]+ t=[0-9]+ vcpu0 hvc +pc=0x[0-9a-f]+ hvc #0 fn=0xc6000003 -> $last$" <<<"$(tail -n 1 <<<"$t0")" &&
		[ "$(count_lines '^#' "$t1")" = 4 ] && consecutive "$t1" &&
		grep -qE '^#[0-9]+ t=[0-9]+ vcpu1 smc +pc=0x[0-9a-f]+ smc #0 fn=0x84000002 -> ' <<<"$(tail -n 1 <<<"$t1")" &&
		[ "$(count_lines '^#[0-9]+ t=[0-9]+ vcpu1 (wfi +pc=0x[0-9a-f]+ wfi|irq +pc=0x[0-9a-f]+ deliver INTID 27 prio 0x0 hw)$' "$t1")" = 3 ] &&
		[ "$(count_lines '^#[0-9]+ t=[0-9]+ vcpu1 wfi ' "$t1")" -ge 1 ]
	verdict $? "idle: TV_HC_TRACE prints the last 4 events of each vCPU, ending with the guest's last call ($last) and vCPU 1's CPU_OFF" \
		"" "$t0"$'\n'"$t1"
	grep -qE "^stats: wfi +$wfis +[0-9]+\.[0-9] " <<<"$c" && [ -n "$wfis" ] &&
		grep -qxE 'stats: total [0-9]+ traps(, [0-9]+ interrupts delivered)?' <<<"$c"
	verdict $? "idle: TV_HC_STATS prints the $wfis WFIs the guest was told of" "" "$(grep '^stats' <<<"$c")"
fi

if want_run sysreg; then
	run_guest sysreg 1 "trapvisor.trap=id,vm,sysreg,cache,debug,pmu trapvisor.hypercalls=on \
		trapvisor.vpidr=0x410fd4f1 trapvisor.vmpidr=0x100 trapvisor.sysreg=ID_AA64ISAR0_EL1:0x1120"
	t0=$(trace_block 0 "$(console sysreg)")
	[ "$(count_lines '^#' "$t0")" = 8 ] && consecutive "$t0" &&
		grep -qE '^#[0-9]+ t=[0-9]+ vcpu0 cache +pc=0x[0-9a-f]+ DC_CIVAC 0x1000003000 \[abort-injected\]$' <<<"$t0" &&
		grep -qE '^#[0-9]+ t=[0-9]+ vcpu0 vm +pc=0x[0-9a-f]+ read FAR_EL1 -> 0x1000003000$' <<<"$t0" &&
		grep -qE '^#[0-9]+ t=[0-9]+ vcpu0 hvc +pc=0x[0-9a-f]+ hvc #0 fn=0xc6000003 -> 0x[0-9a-f]+$' <<<"$(tail -n 1 <<<"$t0")"
	verdict $? "sysreg: TV_HC_TRACE shows the faulting DC CIVAC and the guest's read of FAR_EL1 among the last 8 events" "" "$t0"
fi

# Boot options: a catchpoint from the command line (logged to the console with no GDB),
# tracing off from boot, the id class switched on by trapvisor.sysreg= alone,
# statistics at power-off, bad options reported and ignored.
if want_run bootopts; then
	run_guest sysreg 1 "trapvisor.trap=vm,sysreg,cache,debug,pmu trapvisor.hypercalls=on \
		trapvisor.vpidr=0x410fd4f1 trapvisor.vmpidr=0x100 trapvisor.sysreg=ID_AA64ISAR0_EL1:0x1120 \
		trapvisor.catch=vm,reg=CONTEXTIDR_EL1,dir=w,action=log trapvisor.trace=off trapvisor.stats \
		trapvisor.trap=wfx trapvisor.nosuch=1" 60 bootopts
	c=$(console bootopts)
	[ "$(count_lines '^trapvisor: catchpoint ' "$c")" = 1 ] &&
		grep -qxE 'trapvisor: catchpoint 1: vCPU 0 wrote CONTEXTIDR_EL1 = 0x7 at 0x[0-9a-f]+' <<<"$c"
	verdict $? "bootopts: trapvisor.catch=vm,reg=CONTEXTIDR_EL1,dir=w,action=log logs the guest's one write" "" \
		"$(grep '^trapvisor' <<<"$c")"
	[ "$(grep -A1 -x 'trace: off (monitor hv trace on); the rings hold what came before' <<<"$c")" = \
		"trace: off (monitor hv trace on); the rings hold what came before
trace: vCPU 0, no events" ]
	verdict $? "bootopts: trapvisor.trace=off: the trace the guest asks for is off and empty" "" "$(grep '^trace' <<<"$c")"
	[ "$(sed -n '/^DONE: /,/^trapvisor: guest asked for system off$/p' <<<"$c" | grep -cE '^stats: (id|vm|cache|debug|pmu|sysreg|hvc) +[0-9]+ ')" = 7 ] &&
		grep -qxE 'stats: total [0-9]+ traps(, [0-9]+ interrupts delivered)?' <<<"$c"
	verdict $? "bootopts: trapvisor.stats prints the statistics at power-off" "" "$(grep -E '^(stats|DONE|trapvisor: guest)' <<<"$c")"
	has_line 'trapvisor: ignoring bad option "trapvisor.trap=wfx"' "$c" &&
		has_line 'trapvisor: ignoring bad option "trapvisor.nosuch=1"' "$c" &&
		[ "$(count_lines '^trapvisor: ignoring bad option ' "$c")" = 2 ]
	verdict $? "bootopts: bad options are reported, each once, and the rest still apply" "" "$(grep '^trapvisor' <<<"$c")"
fi

if want_run smp; then
	run_guest smp 4 ""
fi
# Virtual MPIDRs: the guest's device tree, PSCI and MPIDR_EL1 of every vCPU say them.
if want_run smp-vmpidr; then
	run_guest smp 4 "trapvisor.vmpidr=0x0,0x1,0x100,0x10000" 60 smp-vmpidr
	has_line "smp: 4 vCPUs: 0x0 0x1 0x100 0x10000" "$(console smp-vmpidr)"
	verdict $? "smp-vmpidr: the device tree names the CPUs by their virtual MPIDRs" "" "$(grep '^smp:' <<<"$(console smp-vmpidr)")"
fi

if want_run mmio; then
	# A catchpoint from the command line on an emulated region (PCI configuration space).
	run_guest mmio 1 "trapvisor.hypercalls=on trapvisor.catch=mmio,addr=0x4010000004,dir=w,action=log"
	c=$(console mmio)
	vals=$(sed -n 's/^trapvisor: catchpoint 1: vCPU 0 wrote 2 bytes to 0x4010000004: \(0x[0-9a-f]*\) at 0x[0-9a-f]*$/\1/p' <<<"$c" | tr '\n' ' ')
	read -r set restored <<<"$vals"
	[ "$(count_lines '^trapvisor: catchpoint ' "$c")" = 2 ] && [ -n "$restored" ] &&
		[ "$set" = "$(printf '0x%x' $((restored | 0x100)))" ] && [ "$set" != "$restored" ]
	verdict $? "mmio: a catchpoint on ECAM logs the guest's two COMMAND writes, SERR set then cleared ($vals)" "" \
		"$(grep '^trapvisor: catchpoint' <<<"$c")"
	want_count=$(sed -n 's/^PASS: the hypervisor counted every MMIO access (got \(0x[0-9a-f]*\), want .*/\1/p' <<<"$c")
	t0=$(trace_block 0 "$c")
	[ "$(count_lines '^#' "$t0")" = 3 ] && consecutive "$t0" && [ -n "$want_count" ] &&
		grep -qE "^#[0-9]+ t=[0-9]+ vcpu0 hvc +pc=0x[0-9a-f]+ hvc #0 fn=0xc6000003 -> $want_count$" <<<"$(tail -n 1 <<<"$t0")" &&
		grep -qE '^#[0-9]+ t=[0-9]+ vcpu0 mmio +pc=0x[0-9a-f]+ read 0x4010000000 \[abort-injected\]$' <<<"$t0"
	verdict $? "mmio: TV_HC_TRACE shows the refused ldp and the count the guest read ($want_count)" "" "$t0"
fi

# The hostile guest has a test of its own: tests/qemu/hostile.sh.
