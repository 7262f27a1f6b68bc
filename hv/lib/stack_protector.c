/*
 * Debian's libfdt.a is built with -fstack-protector: it needs a guard value and
 * a failure hook. The hypervisor's own code is built without the protector.
 */
#include "hv.h"

unsigned long __stack_chk_guard = 0x2f8a7c1d5e3b9460ul;

void __attribute__((noreturn)) __stack_chk_fail(void)
{
	hv_panic("stack smashing detected in libfdt");
}
