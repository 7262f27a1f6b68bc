#!/usr/bin/env bash
# The test nobody here wrote: Debian's own arm64 kernel boots to userspace under
# trapvisor on 2 vCPUs, first with the default traps, then with every trap class on,
# and powers off through PSCI.
source "$(dirname "$0")/lib.sh"
if ! files=$("$top/guests/linux/build" 2>"$log_dir/linux-build.err"); then
	echo "FAIL: linux: could not build the Linux guest: $(cat "$log_dir/linux-build.err")"
	exit 0
fi
read -r image initrd <<<"$files"

boot_linux() { # name hv-options
	local name=$1 hv=$2 out="$log_dir/linux-$1.out" rc
	timeout --kill-after=5 240 "$top/scripts/run-qemu" --quiet --smp 2 --gdb-port "$(free_port)" \
		--hv "$hv trapvisor.stats" --guest "$image" --initrd "$initrd" \
		--cmdline "console=ttyAMA0 panic=-1" </dev/null >"$out" 2>&1
	rc=$?
	tr -d '\r' <"$out" >"$out.txt"
	grep -qx 'linux-guest: up, 2 cpus online' "$out.txt" &&
		echo "PASS: linux ($name): Debian's kernel reaches userspace with 2 CPUs" ||
		echo "FAIL: linux ($name): userspace did not come up on 2 CPUs (see $out)"
	grep -qx 'linux-guest: cmdline console=ttyAMA0 panic=-1' "$out.txt" &&
		echo "PASS: linux ($name): the guest got its own command line" ||
		echo "FAIL: linux ($name): wrong guest command line"
	# Where the hypervisor found its debug line, from its banner: not on the guest's bus.
	bdf=$(sed -n 's/^trapvisor: debug line: .* at PCI \([0-9a-f:.]*\),.*/\1/p' "$out.txt")
	if [ -n "$bdf" ] && grep -q 'linux-guest: pci' "$out.txt" && ! grep 'linux-guest: pci' "$out.txt" | grep -q "0000:$bdf"; then
		echo "PASS: linux ($name): the debug line ($bdf) is not on the guest's PCI bus"
	else
		echo "FAIL: linux ($name): the guest saw the debug line ${bdf:-(no banner)} (or no PCI line)"
	fi
	# The guest's GIC has no LPIs, and its device tree no ITS (docs/architecture.md).
	grep -qE '^\[ *[0-9.]+\] GICv3: CPU1: found redistributor' "$out.txt" && ! grep -qE 'ITS|LPI' "$out.txt" &&
		echo "PASS: linux ($name): Linux finds a GICv3 without LPIs or an ITS, and says nothing of them" ||
		echo "FAIL: linux ($name): Linux's GIC lines: $(grep -E 'GICv3|ITS|LPI' "$out.txt" | head -5)"
	[ $rc -eq 0 ] && grep -qx 'trapvisor: guest asked for system off' "$out.txt" &&
		echo "PASS: linux ($name): poweroff ends the machine through PSCI" ||
		echo "FAIL: linux ($name): no clean power-off (exit $rc)"
	if grep -qE 'Kernel panic|Internal error|Oops|unexpected exception|trapvisor panic' "$out.txt"; then
		echo "FAIL: linux ($name): a kernel or hypervisor fault:"
		grep -m3 -E 'Kernel panic|Internal error|Oops|unexpected exception|trapvisor panic' "$out.txt"
	fi
}

boot_linux default ""
boot_linux all-traps "trapvisor.trap=wfi,wfe,sysreg,id,vm,cache,debug,pmu,fp"
grep -qE '^stats: cache +[1-9][0-9]* ' "$log_dir/linux-all-traps.out.txt" &&
	grep -qE '^stats: id +[1-9][0-9]* ' "$log_dir/linux-all-traps.out.txt" &&
	echo "PASS: linux (all-traps): the statistics show id and cache traps from Linux" ||
	echo "FAIL: linux (all-traps): no id/cache statistics"
