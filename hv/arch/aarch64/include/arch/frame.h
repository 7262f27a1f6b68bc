/*
 * The trap frame: what the vector saves of a vCPU on every exit. It sits at the
 * top of the pCPU's stack, so the vector needs no pointer to find it: SP_EL2 at
 * guest entry is the frame's end.
 */
#ifndef ARCH_FRAME_H
#define ARCH_FRAME_H

#define FRAME_X(n) ((n) * 8)
#define FRAME_ELR 248
#define FRAME_SPSR 256
#define FRAME_SIZE 272
/* The pCPU stack size; the frame sits right above the stack (struct pcpu). */
#define PCPU_STACK_SIZE (16 * 1024)

#ifndef __ASSEMBLY__
#include "trapvisor/types.h"

struct trap_frame {
	u64 x[31];
	u64 elr;
	u64 spsr;
	u64 pad;
};
_Static_assert(sizeof(struct trap_frame) == FRAME_SIZE, "frame layout is shared with vectors.S");
_Static_assert(__builtin_offsetof(struct trap_frame, elr) == FRAME_ELR, "frame layout");

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
#endif

#endif
