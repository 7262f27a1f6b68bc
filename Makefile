# trapvisor: a GDB-integrated debugging hypervisor for AArch64.
#
#   make run   [GUEST=Image] [INITRD=file] [CMDLINE="..."] [SMP=n] [PCPUS=m] [MEM=size] [GDB_PORT=n]
#              [DEBUG_LINE=virtio|16550]: the GDB stub's line (docs/architecture.md)
#              SMP: the guest's vCPUs; PCPUS: QEMU's CPUs under the hypervisor (default SMP)
#   make test  every test; ends with "N passed, N failed, N skipped"
#   make gdb   [GDB_PORT=n] [GUEST_ELF=file]: gdb-multiarch attached to `make run`
#   make run GUEST=linux / make gdb GUEST=linux: Debian's kernel to a shell, and gdb
#              with the symbols recovered from its Image (scripts/kallsyms2elf)
#   make bench instructions per trap, deterministic (QEMU -icount), and GDB
#              round trips through trapvisor's stub next to QEMU's own
#   make fuzz  the GDB stub's fuzzer for 10 minutes (FUZZ_SECONDS=n)
#   make test-fresh  (root) `make run` and `make test` in a fresh minimal Debian 12 root
#   make test-mutations
#              break the hypervisor one line at a time (tests/mutations/) and check
#              that the tests notice; MUTATIONS="name ..." for some (docs/testing.md)
#
# Both run and test install missing Debian packages first (scripts/deps).

CROSS      ?= aarch64-linux-gnu-
CC         := $(CROSS)gcc
LD         := $(CROSS)ld
OBJCOPY    := $(CROSS)objcopy
HOSTCC     ?= cc
QEMU       ?= qemu-system-aarch64
GDB        ?= gdb-multiarch

B          := build
Q          ?= @
SMP        ?= 2
PCPUS      ?= $(SMP)
MEM        ?= 1G
GDB_PORT   ?= 1234
DEBUG_LINE ?= virtio
CMDLINE    ?=
GUEST      ?=
INITRD     ?=
GUEST_ELF  ?=

.DEFAULT_GOAL := all
.PHONY: all run test test-fresh bench deps host-tests guests clean fuzz gdb test-mutations host-test-names

# ---- the hypervisor, cross-compiled, freestanding -----------------------------------
# Link-time optimization: the trap paths cross files (the switch alone calls
# from sched.c into context.c, vgic.c, vcpu.c and debug.c), and inlining them
# makes the WFI switch 26 instructions shorter, the SGI that switches back 109
# (docs/performance.md). In one part: split in two (-flto=2) it gained 6 less
# and linked in 2 s instead of 4.
HV_CFLAGS  := -std=gnu11 -O2 -g -flto -flto-partition=one -Wall -Wextra -Werror -Wno-unused-parameter -Wno-override-init \
              -ffreestanding -fno-builtin -nostdlib -mgeneral-regs-only \
              -fno-stack-protector -fno-pic -fno-pie -mstrict-align \
              -fno-tree-loop-distribute-patterns -fomit-frame-pointer \
              -march=armv8-a -mno-outline-atomics -Iinclude -Ihv/include -Ihv/arch/aarch64/include -MMD -MP
HV_LDFLAGS := -nostdlib -static -no-pie -T hv/hv.ld -Wl,--build-id=none -Wl,--no-warn-rwx-segments
LIBFDT     := /usr/lib/aarch64-linux-gnu/libfdt.a

HV_SRCS    := $(wildcard hv/arch/aarch64/*.S hv/arch/aarch64/*.c hv/core/*.c \
                         hv/platform/*.c hv/lib/*.c \
                         gdbstub/*.c)
HV_OBJS    := $(patsubst %,$(B)/hv/%.o,$(basename $(HV_SRCS)))

$(B)/hv/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(HV_CFLAGS) -c $< -o $@

$(B)/hv/%.o: %.S
	@mkdir -p $(dir $@)
	@echo "  AS      $<"
	$(Q)$(CC) $(HV_CFLAGS) -D__ASSEMBLY__ -c $< -o $@

$(B)/trapvisor.elf: $(HV_OBJS) hv/hv.ld
	@echo "  LD      $@"
	$(Q)$(CC) $(HV_CFLAGS) $(HV_LDFLAGS) $(HV_OBJS) $(LIBFDT) -lgcc -o $@

all: $(B)/trapvisor.elf guests host-tests

# ---- test guests ----------------------------------------------------------------
include guests/guests.mk

# ---- host unit tests (the same sources, compiled for the machine running make) ----
HOST_CFLAGS := -std=gnu11 -O1 -g -Wall -Wextra -Werror -Wno-unused-parameter \
               -Iinclude -Ihv/include -Itests/host -DHOST_TEST \
               -fsanitize=address,undefined -fno-omit-frame-pointer
HOST_TESTS  :=
include tests/host/host.mk
-include gdbstub/gdbstub.mk

define host_test_rule
$(B)/host/$(1): $$($(1)_SRCS) $$(wildcard include/trapvisor/*.h hv/include/*.h gdbstub/*.h tests/host/*.h)
	@mkdir -p $$(dir $$@)
	$$(HOSTCC) $$(HOST_CFLAGS) $$($(1)_SRCS) -o $$@
endef
$(foreach t,$(HOST_TESTS),$(eval $(call host_test_rule,$(t))))
host-tests: $(addprefix $(B)/host/,$(HOST_TESTS))
# What tests/run expects to find in build/host/ (a missing binary is a failure there).
host-test-names:
	@echo $(HOST_TESTS)

# ---- running ---------------------------------------------------------------------
deps:
	@scripts/deps

run: deps $(B)/trapvisor.elf guests
	@scripts/run-qemu --smp $(SMP) --pcpus $(PCPUS) --mem $(MEM) --gdb-port $(GDB_PORT) --debug-line $(DEBUG_LINE) \
		$(if $(GUEST),--guest $(GUEST)) $(if $(INITRD),--initrd $(INITRD)) \
		--cmdline "$(CMDLINE)"

test: deps all
	@tests/run

# The README proved on a clean machine: a minimal Debian 12 root built with mmdebstrap,
# this commit cloned into it, `make run` and `make test` run there (scripts/test-fresh).
test-fresh:
	@scripts/test-fresh
# Each mutation in a scratch copy of the tree (build/mutations/), with the tests it names.
test-mutations: deps
	@tests/mutations/run $(MUTATIONS)

# Instructions per trap, then the GDB stub side by side with QEMU's own gdbstub. Both
# halves always run; either one failing (a result missing or over its target) fails it.
bench: deps $(B)/trapvisor.elf guests
	@status=0; scripts/bench || status=1; echo; GDB=$(GDB) scripts/gdb-bench || status=1; exit $$status

# gdb-multiarch attached to a running `make run` (started in another terminal).
gdb:
	@GDB=$(GDB) scripts/gdb --port $(GDB_PORT) $(if $(GUEST_ELF),--elf $(GUEST_ELF),$(if $(GUEST),--guest $(GUEST)))

# The gdbstub fuzzer for ten minutes (make test runs it for 30 s).
fuzz: deps
	@FUZZ_SECONDS=$${FUZZ_SECONDS:-600} tests/fuzz/gdbstub.sh

clean:
	rm -rf $(B)

-include $(shell find $(B) -name '*.d' 2>/dev/null)

# libfdt's headers live in the build machine's /usr/include (libfdt-dev:arm64);
# only the device-tree code includes them, after the cross compiler's own headers.
$(B)/hv/hv/core/fdt.o: HV_CFLAGS += -idirafter /usr/include
