# Host unit tests of the hypervisor's portable core (hv/core), built with the
# host cc against the fakes in tests/host/hv_fakes.c. hv sources include
# "arch/sysreg.h" and "arch/frame.h", which switch to fakes under HOST_TEST.
HOST_CFLAGS += -Ihv/arch/aarch64/include

# The tests that link hv/core/vcpu.c see its WFI, WFIT and DSB as calls into
# hv_fakes.c (fake_insns.h, ahead of every source), so they can tell a vCPU
# that sleeps from one that the scheduler blocks.
HV_FAKE_INSNS := -include tests/host/fake_insns.h

HOST_TESTS += test_esr
test_esr_SRCS := tests/host/test_esr.c hv/core/esr.c

HOST_TESTS += test_sysreg
test_sysreg_SRCS := tests/host/test_sysreg.c hv/core/sysreg.c hv/core/esr.c hv/core/vcpu.c \
                    tests/host/hv_fakes.c
$(B)/host/test_sysreg: HOST_CFLAGS += $(HV_FAKE_INSNS)

HOST_TESTS += test_psci
test_psci_SRCS := tests/host/test_psci.c hv/core/psci.c hv/core/vcpu.c hv/core/hypercall.c \
                  tests/host/hv_fakes.c

# The standby and power-down waits are seen through --wrap: psci.c's call to
# vcpu_wait_for_interrupt() goes to the test's __wrap_ version, which counts it.
$(B)/host/test_psci: HOST_CFLAGS += -Wl,--wrap=vcpu_wait_for_interrupt $(HV_FAKE_INSNS)

HOST_TESTS += test_event
test_event_SRCS := tests/host/test_event.c hv/core/event.c

HOST_TESTS += test_traps
test_traps_SRCS := tests/host/test_traps.c hv/core/vcpu.c tests/host/hv_fakes.c
$(B)/host/test_traps: HOST_CFLAGS += $(HV_FAKE_INSNS)

# vcpu.c's waits, power-on and reset state, against the scheduler's and the
# saved context's fakes.
HOST_TESTS += test_vcpu
test_vcpu_SRCS := tests/host/test_vcpu.c hv/core/vcpu.c tests/host/hv_fakes.c
$(B)/host/test_vcpu: HOST_CFLAGS += $(HV_FAKE_INSNS)

# The guest's device tree against the host's own libfdt (libfdt1, which QEMU
# depends on; the headers are libfdt-dev's, the same for every architecture).
HOST_LIBFDT := /usr/lib/$(shell $(HOSTCC) -print-multiarch)/libfdt.so.1
HOST_TESTS += test_fdt
test_fdt_SRCS := tests/host/test_fdt.c hv/core/fdt.c tests/host/hv_fakes.c $(HOST_LIBFDT)

# Headers the Makefile's rule does not list (it lists include/, hv/include/, tests/host/).
HV_HOST_HDRS := hv/core/sysreg_list.h $(wildcard hv/arch/aarch64/include/arch/*.h)
$(B)/host/test_esr $(B)/host/test_sysreg $(B)/host/test_psci $(B)/host/test_event $(B)/host/test_traps \
$(B)/host/test_fdt: $(HV_HOST_HDRS)
$(B)/host/test_vcpu: $(HV_HOST_HDRS)
