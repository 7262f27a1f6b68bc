/*
 * EL2 exception vectors and the guest entry/exit path.
 *
 * A trap from the guest saves x0-x30 into the trap frame at the top of this
 * pCPU's stack (SP_EL2 points at the frame's end while the guest runs), calls
 * trap_lower_sync(frame) and restores from the same frame. ELR_EL2/SPSR_EL2 are
 * left where they are (arch/frame.h).
 * That is the whole hot path in assembly; its cost is in docs/performance.md.
 */
#include "arch/frame.h"

.macro save_guest_frame
	sub	sp, sp, #FRAME_SIZE
	stp	x0, x1, [sp, #FRAME_X(0)]
	save_x2_to_x30
.endm

.macro save_x2_to_x30
	stp	x2, x3, [sp, #FRAME_X(2)]
	stp	x4, x5, [sp, #FRAME_X(4)]
	stp	x6, x7, [sp, #FRAME_X(6)]
	stp	x8, x9, [sp, #FRAME_X(8)]
	stp	x10, x11, [sp, #FRAME_X(10)]
	stp	x12, x13, [sp, #FRAME_X(12)]
	stp	x14, x15, [sp, #FRAME_X(14)]
	stp	x16, x17, [sp, #FRAME_X(16)]
	stp	x18, x19, [sp, #FRAME_X(18)]
	stp	x20, x21, [sp, #FRAME_X(20)]
	stp	x22, x23, [sp, #FRAME_X(22)]
	stp	x24, x25, [sp, #FRAME_X(24)]
	stp	x26, x27, [sp, #FRAME_X(26)]
	stp	x28, x29, [sp, #FRAME_X(28)]
	str	x30, [sp, #FRAME_X(30)]
.endm

/* Reload x0-x30 from the frame at sp, drop the frame, return from the exception. */
.macro restore_frame_and_eret
	ldr	x30, [sp, #FRAME_X(30)]
	ldp	x0, x1, [sp, #FRAME_X(0)]
	ldp	x2, x3, [sp, #FRAME_X(2)]
	ldp	x4, x5, [sp, #FRAME_X(4)]
	ldp	x6, x7, [sp, #FRAME_X(6)]
	ldp	x8, x9, [sp, #FRAME_X(8)]
	ldp	x10, x11, [sp, #FRAME_X(10)]
	ldp	x12, x13, [sp, #FRAME_X(12)]
	ldp	x14, x15, [sp, #FRAME_X(14)]
	ldp	x16, x17, [sp, #FRAME_X(16)]
	ldp	x18, x19, [sp, #FRAME_X(18)]
	ldp	x20, x21, [sp, #FRAME_X(20)]
	ldp	x22, x23, [sp, #FRAME_X(22)]
	ldp	x24, x25, [sp, #FRAME_X(24)]
	ldp	x26, x27, [sp, #FRAME_X(26)]
	ldp	x28, x29, [sp, #FRAME_X(28)]
	add	sp, sp, #FRAME_SIZE
	eret
.endm

/* An exception from the guest: the frame, the C handler, back to the guest. */
.macro guest_entry handler
	save_guest_frame
	mov	x0, sp
	bl	\handler
	b	guest_return
.endm

/* Anything the hypervisor does not expect: report it, never hang silently. */
.macro unexpected kind
	sub	sp, sp, #FRAME_SIZE
	stp	x0, x1, [sp, #FRAME_X(0)]
	mov	x1, #\kind
	b	el2_unexpected
.endm

	.section .text
	.balign 2048
	.global el2_vectors
el2_vectors:
	/* Current EL with SP_EL0: the hypervisor never runs on SP_EL0. */
	.balign 0x80
	unexpected 0
	.balign 0x80
	unexpected 1
	.balign 0x80
	unexpected 2
	.balign 0x80
	unexpected 3
	/* Current EL with SP_ELx: a fault inside the hypervisor itself. */
	.balign 0x80
	unexpected 4
	.balign 0x80
	unexpected 5
	.balign 0x80
	unexpected 6
	.balign 0x80
	unexpected 7
	/* Lower EL, AArch64: the guest. */
	.balign 0x80
	guest_entry trap_lower_sync
	.balign 0x80
	/* Lower EL IRQ: a physical interrupt for the guest (HCR_EL2.IMO), see vgic.c. */
	guest_entry trap_lower_irq
	.balign 0x80
	/* Lower EL FIQ: the hypervisor's own Group 0 interrupts (HCR_EL2.FMO). */
	guest_entry trap_lower_fiq
	.balign 0x80
	unexpected 11
	/* Lower EL, AArch32: a 32-bit guest EL0 task; same path, the ESR tells. */
	.balign 0x80
	guest_entry trap_lower_sync
	.balign 0x80
	guest_entry trap_lower_irq
	.balign 0x80
	guest_entry trap_lower_fiq
	.balign 0x80
	unexpected 15

	.global guest_return
guest_return:
	restore_frame_and_eret
	dsb	nsh
	isb

/* void guest_enter(struct trap_frame *frame): enter with ELR/SPSR_EL2 already set. */
	.global guest_enter
guest_enter:
	mov	sp, x0
	b	guest_return

/*
 * x0/x1 already saved, x1 = vector number. Save the rest into the frame (the
 * same layout) and hand it to C, which reports and parks this CPU.
 */
el2_unexpected:
	save_x2_to_x30
	mov	x0, sp
	bl	el2_report_unexpected
	cbnz	x0, 2f
1:	wfe
	b	1b
	/* An access the hypervisor probed on purpose faulted: resume after it. */
2:	restore_frame_and_eret

/*
 * void sched_switch_stack(struct sched_context *from, const struct sched_context *to)
 * The scheduler's switch (sched.c): the callee-saved registers, the frame
 * pointer, the return address and the stack of this context go to from, to's
 * come back, and the return is into to's own call of this function (or its
 * first entry). Everything else of the vCPUs was put and loaded before.
 */
	.global sched_switch_stack
sched_switch_stack:
	stp	x19, x20, [x0, #0]
	stp	x21, x22, [x0, #16]
	stp	x23, x24, [x0, #32]
	stp	x25, x26, [x0, #48]
	stp	x27, x28, [x0, #64]
	stp	x29, x30, [x0, #80]
	mov	x9, sp
	str	x9, [x0, #96]
	ldp	x19, x20, [x1, #0]
	ldp	x21, x22, [x1, #16]
	ldp	x23, x24, [x1, #32]
	ldp	x25, x26, [x1, #48]
	ldp	x27, x28, [x1, #64]
	ldp	x29, x30, [x1, #80]
	ldr	x9, [x1, #96]
	mov	sp, x9
	ret

/* A vCPU's first switch-in after CPU_ON: sp is its frame, its stack empty. */
	.global sched_first_entry_thunk
sched_first_entry_thunk:
	mov	x0, sp
	mov	x29, #0
	b	sched_first_entry
