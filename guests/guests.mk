# Test guests: bare-metal arm64 Images built on guests/lib (see guests/README.md).
GUEST_NAMES := demo idle sysreg smp mmio hostile bench gdbtarget watch vgic sched sched_target
GUEST_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror -Wno-unused-parameter \
                -ffreestanding -fno-builtin -nostdlib -mgeneral-regs-only \
                -fno-stack-protector -fno-pic -fno-pie -mstrict-align \
                -fno-tree-loop-distribute-patterns -march=armv8-a -mno-outline-atomics \
                -Iinclude -Ihv/include -Iguests/lib -MMD -MP
GUEST_LIB := guests/lib/head.S guests/lib/guest.c guests/lib/fdt.c guests/lib/mmu.c hv/lib/printf.c hv/lib/string.c

define guest_rule
$(B)/guests/$(1).elf: guests/$(1).c $(GUEST_LIB) guests/lib/guest.ld guests/lib/guest.h
	@mkdir -p $$(dir $$@)
	@echo "  GUEST   $$@"
	$(Q)$(CC) $(GUEST_CFLAGS) -static -T guests/lib/guest.ld -Wl,--build-id=none -Wl,--no-warn-rwx-segments \
		guests/$(1).c $(GUEST_LIB) -lgcc -o $$@
$(B)/guests/$(1).bin: $(B)/guests/$(1).elf
	$(Q)$(OBJCOPY) -O binary $$< $$@
endef
$(foreach g,$(GUEST_NAMES),$(eval $(call guest_rule,$(g))))
guests: $(foreach g,$(GUEST_NAMES),$(B)/guests/$(g).bin)
