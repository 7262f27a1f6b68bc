/*
 * Test guests are arm64 Linux-boot-protocol Images (Documentation/arm64/booting):
 * a 64-byte header, entered at offset 0 at EL1 with x0 = device tree address.
 * Secondary vCPUs arrive at secondary_entry through PSCI CPU_ON with their
 * index as the context id.
 */
	.section .text.head, "ax"
	.global _start
_start:
	b	primary_entry		/* code0 */
	.long	0			/* code1 */
	.quad	0			/* text_offset */
	.quad	__bss_end - _start	/* image_size, with .bss */
	.quad	0xa			/* flags: LE, 4K pages, anywhere in RAM */
	.quad	0, 0, 0			/* res2-4 */
	.ascii	"ARM\x64"		/* magic */
	.long	0			/* res5 */

primary_entry:
	mov	x19, x0			/* device tree */
	adrp	x1, __bss_start
	add	x1, x1, :lo12:__bss_start
	adrp	x2, __bss_end
	add	x2, x2, :lo12:__bss_end
1:	cmp	x1, x2
	b.hs	2f
	str	xzr, [x1], #8
	b	1b
2:	mov	x0, #0
	bl	setup_cpu
	mov	x0, x19
	bl	main
	bl	guest_exit

	.global secondary_entry
secondary_entry:
	mov	x19, x0			/* vCPU index */
	bl	setup_cpu
	mov	x0, x19
	bl	secondary_main
	bl	psci_cpu_off
3:	wfe
	b	3b

/* x0 = vCPU index: stack, vectors, FP on. Preserves x19. */
setup_cpu:
	msr	tpidr_el1, x0
	adrp	x1, guest_stacks
	add	x1, x1, :lo12:guest_stacks
	add	x0, x0, #1
	lsl	x0, x0, #14		/* 16 KiB a vCPU */
	add	sp, x1, x0
	adrp	x1, guest_vectors
	add	x1, x1, :lo12:guest_vectors
	msr	vbar_el1, x1
	mov	x1, #(3 << 20)		/* CPACR_EL1.FPEN: no FP/SIMD traps */
	msr	cpacr_el1, x1
	isb
	ret

/* Exceptions the guest takes itself: recorded, and skipped when expected. */
.macro vector_entry kind
	.balign 0x80
	sub	sp, sp, #256
	stp	x0, x1, [sp, #0]
	stp	x2, x3, [sp, #16]
	stp	x4, x5, [sp, #32]
	stp	x6, x7, [sp, #48]
	stp	x8, x9, [sp, #64]
	stp	x10, x11, [sp, #80]
	stp	x12, x13, [sp, #96]
	stp	x14, x15, [sp, #112]
	stp	x16, x17, [sp, #128]
	stp	x18, x30, [sp, #144]
	mov	x0, #\kind
	mov	x1, sp
	b	vector_common
.endm

	.balign 2048
	.global guest_vectors
guest_vectors:
	.irp kind, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
	vector_entry \kind
	.endr

vector_common:
	bl	guest_exception
	ldp	x0, x1, [sp, #0]
	ldp	x2, x3, [sp, #16]
	ldp	x4, x5, [sp, #32]
	ldp	x6, x7, [sp, #48]
	ldp	x8, x9, [sp, #64]
	ldp	x10, x11, [sp, #80]
	ldp	x12, x13, [sp, #96]
	ldp	x14, x15, [sp, #112]
	ldp	x16, x17, [sp, #128]
	ldp	x18, x30, [sp, #144]
	add	sp, sp, #256
	eret

	.section .bss
	.balign 16
	.global guest_stacks
guest_stacks:
	.space	16384 * 8
