/*
 * The trap frame: the vCPU's general registers, saved by the vector on every
 * exit. It sits at the top of the vCPU's stack, so the vector needs no pointer
 * to find it: SP_EL2 at guest entry is the frame's end.
 *
 * The guest's PC and PSTATE stay in ELR_EL2/SPSR_EL2 while the hypervisor
 * handles a trap (read and written with trap_pc() and friends); they are only
 * copied out when its vCPU is put (context.c). That keeps six instructions
 * off every trap.
 */
#ifndef ARCH_FRAME_H
#define ARCH_FRAME_H

#define FRAME_X(n) ((n) * 8)
#define FRAME_SIZE 256
/* A pCPU's own stack, for its idle loop (struct pcpu). */
#define PCPU_STACK_SIZE (16 * 1024)
/* Each vCPU's stack, its frame right above it (struct vcpu). */
#define VCPU_STACK_SIZE (16 * 1024)

#ifndef __ASSEMBLY__
#include "trapvisor/types.h"
#include "arch/sysreg.h"

struct trap_frame {
	u64 x[31];
	u64 pad;
};
_Static_assert(sizeof(struct trap_frame) == FRAME_SIZE, "frame layout is shared with vectors.S");

/* Rt == 31 reads as zero and ignores writes (XZR) in MSR/MRS and loads/stores. */
static inline u64 frame_get_reg(const struct trap_frame *f, unsigned r)
{
	return r < 31 ? f->x[r] : 0;
}

static inline void frame_set_reg(struct trap_frame *f, unsigned r, u64 v)
{
	if (r < 31)
		f->x[r] = v;
}

/* The trapped vCPU's PC and PSTATE, live in ELR_EL2/SPSR_EL2 during a trap. */
static inline u64 trap_pc(void)
{
	return sysreg_read(elr_el2);
}

static inline void trap_set_pc(u64 pc)
{
	sysreg_write(elr_el2, pc);
}

static inline u64 trap_pstate(void)
{
	return sysreg_read(spsr_el2);
}

static inline void trap_set_pstate(u64 pstate)
{
	sysreg_write(spsr_el2, pstate);
}
#endif

#endif
