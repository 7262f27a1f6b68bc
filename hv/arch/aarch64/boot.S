/*
 * Entry at EL2. QEMU starts the primary CPU at _start; the others stay in QEMU's
 * PSCI firmware until the primary turns them on at secondary_entry, with their
 * index as the CPU_ON context id in x0.
 */
#include "arch/frame.h"

	.section .text.boot, "ax"
	.global _start
_start:
	msr	daifset, #0xf
	mrs	x1, CurrentEL
	cmp	x1, #(2 << 2)
	b.ne	not_el2

	/* Clear .bss before anything lives in it (pcpus and stacks are there). */
	adrp	x1, __bss_start
	add	x1, x1, :lo12:__bss_start
	adrp	x2, __bss_end
	add	x2, x2, :lo12:__bss_end
1:	cmp	x1, x2
	b.hs	2f
	stp	xzr, xzr, [x1], #16
	b	1b
2:	mov	x19, #0
	b	cpu_common

	.global secondary_entry
secondary_entry:
	msr	daifset, #0xf
	mov	x19, x0

cpu_common:
	/* x19 = CPU index; pcpu_ptrs[] and pcpu_stack_tops[] are filled at link time. */
	adrp	x1, pcpu_ptrs
	add	x1, x1, :lo12:pcpu_ptrs
	ldr	x1, [x1, x19, lsl #3]
	msr	tpidr_el2, x1
	adrp	x2, pcpu_stack_tops
	add	x2, x2, :lo12:pcpu_stack_tops
	ldr	x2, [x2, x19, lsl #3]
	mov	sp, x2
	adr	x2, el2_vectors
	msr	vbar_el2, x2
	isb
	mov	x29, #0
	mov	x30, #0
	mov	x0, x19
	bl	hv_cpu_main
not_el2:
	wfe
	b	not_el2
