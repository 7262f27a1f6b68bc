#!/usr/bin/env bash
# Boots every self-checking test guest under trapvisor and relays its verdicts.
source "$(dirname "$0")/lib.sh"

run_guest idle 2 "trapvisor.trap=wfi,wfe trapvisor.hypercalls=on"
run_guest sysreg 1 "trapvisor.trap=id,vm,sysreg,cache,debug,pmu trapvisor.hypercalls=on \
	trapvisor.vpidr=0x410fd4f1 trapvisor.vmpidr=0x100 trapvisor.sysreg=ID_AA64ISAR0_EL1:0x1120"
run_guest smp 4 ""
run_guest mmio 1 "trapvisor.hypercalls=on"
# The hostile guest has a test of its own: tests/qemu/hostile.sh.
