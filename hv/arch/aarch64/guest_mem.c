/* Guest address translation with the hardware's own walker, and cache helpers. */
#include "hv.h"
#include "arch/sysreg.h"

#define PAR_F BIT(0)
#define PAR_FST(par) ((unsigned)FIELD(par, 6, 1))
#define PAR_PA_MASK 0x000ffffffffff000ULL
#define SPSR_M_EL0T 0x0

static bool spsr_is_el0(u64 spsr)
{
	/* M[4] set: AArch32, whose only guest mode trapping here is EL0 (usr). */
	return (spsr & 0x10) || (spsr & 0xf) == SPSR_M_EL0T;
}

bool guest_va_to_ipa_as(u64 va, bool el0, bool write, u64 *ipa, u64 *fsc)
{
	/* PAR_EL1 is the guest's register: the walk must not change what it reads. */
	u64 saved = sysreg_read(par_el1), par;

	if (el0 && write)
		asm volatile("at s1e0w, %0" ::"r"(va));
	else if (el0)
		asm volatile("at s1e0r, %0" ::"r"(va));
	else if (write)
		asm volatile("at s1e1w, %0" ::"r"(va));
	else
		asm volatile("at s1e1r, %0" ::"r"(va));
	isb();
	par = sysreg_read(par_el1);
	sysreg_write(par_el1, saved);
	if (par & PAR_F) {
		*fsc = PAR_FST(par);
		return false;
	}
	*ipa = (par & PAR_PA_MASK) | (va & 0xfff);
	return true;
}

bool guest_va_to_ipa(const struct trap_frame *f, u64 va, bool write, u64 *ipa, u64 *fsc)
{
	return guest_va_to_ipa_as(va, spsr_is_el0(trap_pstate()), write, ipa, fsc);
}

void cache_ic_invalidate_all(void)
{
	asm volatile("ic ialluis; dsb ish; isb" ::: "memory");
}
