/*
 * Force-included ahead of every source of the host tests that link
 * hv/core/vcpu.c (host.mk: -include): the WFI, WFIT and DSB of the code under
 * test become calls into hv_fakes.c, which records them, where arch/sysreg.h
 * makes them no-ops on the host. It includes arch/sysreg.h first, so that
 * header's guard keeps it from defining them again when the sources include it.
 * This is how a test sees that a vCPU sleeps, and with which flags set.
 */
#ifndef TESTS_HOST_FAKE_INSNS_H
#define TESTS_HOST_FAKE_INSNS_H

#include "arch/sysreg.h"

void fake_wfi(void);
void fake_wfit(u64 cntvct_deadline);
void fake_dsb(void);

#undef wfi
#undef wfit
#undef dsb
#define wfi() fake_wfi()
#define wfit(cntvct_deadline) fake_wfit(cntvct_deadline)
#define dsb(opt) fake_dsb()

#endif
