#!/usr/bin/env bash
# The test nobody here wrote: Debian's own arm64 kernel boots to userspace under
# trapvisor on 2 vCPUs, first with the default traps, then with every trap class on,
# and powers off through PSCI. The first boot (nokaslr) also checks the symbols
# scripts/kallsyms2elf recovers from the Image against the kernel's own /proc/kallsyms.
source "$(dirname "$0")/lib.sh"
if ! files=$("$top/guests/linux/build" 2>"$log_dir/linux-build.err"); then
	echo "FAIL: linux: could not build the Linux guest: $(cat "$log_dir/linux-build.err")"
	exit 0
fi
read -r image initrd <<<"$files"

boot_linux() { # name hv-options [more of the guest's command line]
	local name=$1 hv=$2 out="$log_dir/linux-$1.out" rc
	timeout --kill-after=5 240 "$top/scripts/run-qemu" --quiet --smp 2 --gdb-port "$(free_port)" \
		--hv "$hv trapvisor.stats" --guest "$image" --initrd "$initrd" \
		--cmdline "console=ttyAMA0 panic=-1${3:+ $3}" </dev/null >"$out" 2>&1
	rc=$?
	tr -d '\r' <"$out" >"$out.txt"
	grep -qx 'linux-guest: up, 2 cpus online' "$out.txt" &&
		echo "PASS: linux ($name): Debian's kernel reaches userspace with 2 CPUs" ||
		echo "FAIL: linux ($name): userspace did not come up on 2 CPUs (see $out)"
	grep -qx "linux-guest: cmdline console=ttyAMA0 panic=-1${3:+ $3}" "$out.txt" &&
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

boot_linux default "" "nokaslr tv.kallsyms"

# The kernel listed its own symbols (at their link addresses: nokaslr), sorted, as a
# count and a sha256 (the whole list takes minutes through the console under TCG);
# kallsyms2elf must find the same in the Image file, and write them as an ELF.
guest=$(sed -n 's/^linux-guest: kallsyms \(count\|sha256\) //p' "$log_dir/linux-default.out.txt" | tr '\n' ' ')
if recovered=$("$top/scripts/kallsyms2elf" "$image" --list 2>"$log_dir/linux-kallsyms.err"); then
	printf '%s\n' "$recovered" >"$log_dir/linux-kallsyms.txt"
	host="$(LC_ALL=C sort <<<"$recovered" | wc -l) $(LC_ALL=C sort <<<"$recovered" | sha256sum | cut -d' ' -f1) "
	[ -n "$guest" ] && [ "$guest" = "$host" ]
	verdict=$?
	samples=$(grep '^linux-guest: kallsyms sample ' "$log_dir/linux-default.out.txt" | cut -d' ' -f4-)
	missing=$(grep -vxFf <(LC_ALL=C sort <<<"$recovered") <<<"$samples")
	[ $verdict = 0 ] && [ -n "$samples" ] && [ -z "$missing" ] &&
		echo "PASS: linux: kallsyms2elf recovers the kernel's $(wc -l <<<"$recovered") symbols from the Image, as /proc/kallsyms lists them" ||
		{ echo "FAIL: linux: kallsyms2elf's symbols differ from /proc/kallsyms (count sha256: guest $guest, Image $host)"
		  echo "    | the guest's samples not recovered: ${missing:-none}"; }
	elf=$log_dir/linux-kallsyms.elf
	if "$top/scripts/kallsyms2elf" "$image" -o "$elf" 2>>"$log_dir/linux-kallsyms.err"; then
		# nm's letter says the section kind (text, or B for a data symbol in a section
		# without contents); its case, local or global, must be the kernel's.
		binding() { awk '{ print $1, ($2 ~ /[a-z]/ ? "local" : "global"), $3 }' | LC_ALL=C sort; }
		nm_list=$(${CROSS:-aarch64-linux-gnu-}nm "$elf" | binding)
		[ "$nm_list" = "$(binding <<<"$recovered")" ] &&
			${CROSS:-aarch64-linux-gnu-}readelf -h "$elf" | grep -q 'Machine: *AArch64' &&
			echo "PASS: linux: the ELF symbol file holds every symbol with its address and binding (nm), for AArch64" ||
			echo "FAIL: linux: nm of the ELF symbol file differs from the symbols recovered"
	else
		echo "FAIL: linux: kallsyms2elf -o failed: $(cat "$log_dir/linux-kallsyms.err")"
	fi
else
	echo "FAIL: linux: kallsyms2elf could not read the Image: $(cat "$log_dir/linux-kallsyms.err")"
fi

boot_linux all-traps "trapvisor.trap=wfi,wfe,sysreg,id,vm,cache,debug,pmu,fp"
grep -qE '^stats: cache +[1-9][0-9]* ' "$log_dir/linux-all-traps.out.txt" &&
	grep -qE '^stats: id +[1-9][0-9]* ' "$log_dir/linux-all-traps.out.txt" &&
	echo "PASS: linux (all-traps): the statistics show id and cache traps from Linux" ||
	echo "FAIL: linux (all-traps): no id/cache statistics"

# make run GUEST=linux: the hypervisor's banner, the kernel's log, then a shell on the
# console that a user types at (through a FIFO here), with job control.
out=$log_dir/linux-shell.out fifo=$log_dir/linux-shell.fifo
rm -f "$fifo" && mkfifo "$fifo"
timeout --kill-after=5 120 make -s -C "$top" run GUEST=linux GDB_PORT="$(free_port)" <"$fifo" >"$out" 2>&1 &
run_pid=$!
exec 3>"$fifo" # the console's keyboard
type_at() { # TEXT REGEX SECONDS: wait for REGEX on the console, then type TEXT
	local deadline=$((SECONDS + $3))
	while [ $SECONDS -lt $deadline ] && ! tr -d '\r' <"$out" | grep -qE "$2"; do sleep 0.3; done
	tr -d '\r' <"$out" | grep -qE "$2" && printf '%s\n' "$1" >&3
}
prompt='trapvisor-guest:/root# '
type_at 'echo shell-$((6 * 7)); sleep 30 &' "$prompt" 90 &&
	type_at 'jobs; kill %1' '^shell-42' 20 &&
	type_at 'poweroff -f' 'Running +sleep 30' 20
shell_typed=$?
wait $run_pid
rc=$?
exec 3>&-
rm -f "$fifo"
txt=$(tr -d '\r' <"$out")
first_kernel=$(grep -n -m1 '^\[ *0\.000000\] ' <<<"$txt" | cut -d: -f1)
banner=$(grep -n -m1 '^trapvisor 0.1: debugging hypervisor at EL2' <<<"$txt" | cut -d: -f1)
first_prompt=$(grep -n -m1 "^$prompt" <<<"$txt" | cut -d: -f1)
[ -n "$banner" ] && [ -n "$first_kernel" ] && [ -n "$first_prompt" ] &&
	[ "$banner" -lt "$first_kernel" ] && [ "$first_kernel" -lt "$first_prompt" ] &&
	grep -q 'attach with: make gdb GUEST=linux' <<<"$txt" && grep -qE "^trapvisor's Linux guest: busybox v[0-9.]+, 2 CPUs\.$" <<<"$txt"
verdict=$?
[ $verdict = 0 ] && echo "PASS: linux (shell): make run GUEST=linux: the hypervisor's banner, the kernel's log, then a shell prompt" ||
	echo "FAIL: linux (shell): make run GUEST=linux did not show banner, log and prompt in order (see $out)"
[ $shell_typed = 0 ] && grep -q '^shell-42$' <<<"$txt" && grep -qE '^\[1\]\+ +Running +sleep 30$' <<<"$txt" &&
	echo "PASS: linux (shell): the shell runs what is typed, with job control (sleep 30 &, jobs)" ||
	echo "FAIL: linux (shell): the shell did not answer as typed (see $out)"
[ $rc = 0 ] && grep -q 'trapvisor: guest asked for system off' <<<"$txt" &&
	echo "PASS: linux (shell): poweroff -f ends the machine" || echo "FAIL: linux (shell): no clean power-off (exit $rc)"
