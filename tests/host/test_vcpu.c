/*
 * A vCPU's waits, its power-on and its reset state (hv/core/vcpu.c), against
 * hv_fakes.c's scheduler, saved context and vGIC, which log what they are
 * asked, and its WFI/WFIT/DSB, which fake_insns.h turns into calls that note
 * which vCPUs had in_wfi set at that moment.
 */
#include "check.h"
#include "hv_fakes.h"
#include "sched.h"

static struct vcpu *V(unsigned i)
{
	return &vcpu_slots[i].vcpu;
}

/* n vCPUs on two pCPUs, vCPU i on pCPU i % 2 as at boot; vCPU 0 running. */
static void setup_vcpus(unsigned n)
{
	fake_place_vcpus(n);
	V(0)->state = VCPU_RUNNING;
	V(0)->loaded = true;
	pcpus[0].curr = V(0);
	host_this_pcpu = &pcpus[0];
}

/* The vCPU runs on pCPU 1 and traps there. */
static void run_on_pcpu1(struct vcpu *v)
{
	v->state = VCPU_RUNNING;
	v->loaded = true;
	pcpus[1].curr = v;
	host_this_pcpu = &pcpus[1];
}

/* ---- a trapped WFI ---- */

/* Alone on its pCPU, a vCPU sleeps in a WFI right there, flagged in_wfi while
 * it does (so a waker on another pCPU kicks it), the flag made visible (DSB)
 * before it sleeps and cleared once it wakes. */
static void wfi_alone_sleeps_in_place(void)
{
	setup_vcpus(2);
	vcpu_wait_for_interrupt(V(0));
	CHECK_EQ(fake_vgic_wfi_should_wake_calls, 1);
	CHECK_EQ(fake_wfi_calls, 1);
	CHECK_EQ(fake_wfi_in_wfi, 1u << 0);
	CHECK(fake_dsb_calls >= 1);
	CHECK_EQ(fake_dsb_in_wfi, 1u << 0);
	CHECK(!V(0)->in_wfi);
	CHECK_EQ(fake_calls_of(FAKE_SCHED_BLOCK, NULL), 0);
	CHECK_EQ(fake_call_count, 0);
	CHECK_EQ(V(0)->state, VCPU_RUNNING);
	/* Alone on its pCPU while others share theirs (sched_shared): the same. */
	setup_vcpus(3); /* vCPUs 0 and 2 on pCPU 0, vCPU 1 alone on pCPU 1 */
	CHECK(sched_shared);
	run_on_pcpu1(V(1));
	vcpu_wait_for_interrupt(V(1));
	CHECK_EQ(fake_wfi_calls, 1);
	CHECK_EQ(fake_wfi_in_wfi, 1u << 1);
	CHECK(!V(1)->in_wfi);
	CHECK_EQ(fake_calls_of(FAKE_SCHED_BLOCK, NULL), 0);
}

/*
 * Woken with nothing pending for it (the pCPU's wake-up was another vCPU's,
 * or a timer the vGIC has not seen yet), a shared vCPU blocks again: its WFI
 * ends only with an interrupt; and a vCPU GDB steps never blocks (nor
 * sleeps, alone on its pCPU): its step completes the WFI.
 */
static void wfi_shared_blocks_until_pending(void)
{
	setup_vcpus(3);
	fake_sched_block_pending_after = 3;
	vcpu_wait_for_interrupt(V(0));
	CHECK_EQ(fake_calls_of(FAKE_SCHED_BLOCK, V(0)), 3);
	CHECK_EQ(fake_wfi_calls, 0);
	setup_vcpus(3);
	fake_sched_block_pending_after = 0; /* nothing ever pending */
	V(0)->dbg.stepping = true;
	vcpu_wait_for_interrupt(V(0));
	CHECK_EQ(fake_calls_of(FAKE_SCHED_BLOCK, V(0)), 0);
	setup_vcpus(2); /* alone on its pCPU */
	V(0)->dbg.stepping = true;
	vcpu_wait_for_interrupt(V(0));
	CHECK_EQ(fake_wfi_calls, 0);
}

/* Sharing its pCPU, a vCPU blocks in the scheduler, which runs the others; it
 * never sleeps the pCPU itself, nor says it does. */
static void wfi_shared_blocks(void)
{
	setup_vcpus(3);
	vcpu_wait_for_interrupt(V(0));
	CHECK_EQ(fake_calls_of(FAKE_SCHED_BLOCK, V(0)), 1);
	CHECK_EQ(fake_call_count, 1);
	CHECK_EQ(fake_wfi_calls, 0);
	CHECK(!V(0)->in_wfi);
	{
		const struct fake_call *c = fake_call_first(FAKE_SCHED_BLOCK, V(0));
		CHECK(c && c->state == VCPU_RUNNING); /* sched_block() makes it IDLE itself */
	}
	/* The other vCPU of that pCPU, too; and when sched_block() finds an
	 * interrupt pending already (false), the WFI is done, not slept. */
	setup_vcpus(3);
	fake_sched_block_returns = false;
	V(2)->state = VCPU_RUNNING;
	V(0)->state = VCPU_RUNNABLE;
	V(0)->loaded = false;
	V(2)->loaded = true;
	pcpus[0].curr = V(2);
	vcpu_wait_for_interrupt(V(2));
	CHECK_EQ(fake_calls_of(FAKE_SCHED_BLOCK, V(2)), 1);
	CHECK_EQ(fake_call_count, 1);
	CHECK_EQ(fake_wfi_calls, 0);
	CHECK(!V(2)->in_wfi);
}

/* An interrupt that would wake the guest's WFI already: no wait at all. */
static void wfi_with_interrupt_pending_returns(void)
{
	setup_vcpus(2);
	fake_vgic_wfi_should_wake = true;
	vcpu_wait_for_interrupt(V(0));
	CHECK_EQ(fake_wfi_calls, 0);
	CHECK_EQ(fake_call_count, 0);
	CHECK(!V(0)->in_wfi);
	setup_vcpus(3);
	fake_vgic_wfi_should_wake = true;
	vcpu_wait_for_interrupt(V(0));
	CHECK_EQ(fake_wfi_calls, 0);
	CHECK_EQ(fake_calls_of(FAKE_SCHED_BLOCK, NULL), 0);
}

/* A trapped WFIT: alone, the same WFIT at EL2 with the guest's deadline;
 * sharing its pCPU, done at once (the scheduler has no deadlines). */
static void wfit_waits_alone_only(void)
{
	setup_vcpus(2);
	vcpu_wait_for_interrupt_until(V(0), 0x123456789ull);
	CHECK_EQ(fake_wfit_calls, 1);
	CHECK_EQ(fake_wfit_deadline, 0x123456789ull);
	CHECK_EQ(fake_wfit_in_wfi, 1u << 0);
	CHECK(!V(0)->in_wfi);
	CHECK_EQ(fake_wfi_calls, 0);
	CHECK_EQ(fake_call_count, 0);

	setup_vcpus(3);
	vcpu_wait_for_interrupt_until(V(0), 0x123456789ull);
	CHECK_EQ(fake_wfit_calls, 0);
	CHECK_EQ(fake_wfi_calls, 0);
	CHECK_EQ(fake_call_count, 0);
	CHECK(!V(0)->in_wfi);
	/* ... but vCPU 1, alone on pCPU 1, waits. */
	run_on_pcpu1(V(1));
	vcpu_wait_for_interrupt_until(V(1), 77);
	CHECK_EQ(fake_wfit_calls, 1);
	CHECK_EQ(fake_wfit_deadline, 77);
	CHECK_EQ(fake_wfit_in_wfi, 1u << 1);

	setup_vcpus(2);
	fake_vgic_wfi_should_wake = true;
	vcpu_wait_for_interrupt_until(V(0), 5);
	CHECK_EQ(fake_wfit_calls, 0);
	CHECK_EQ(fake_call_count, 0);

	/* Stepped by GDB (its interrupts held off): completes at once. */
	setup_vcpus(2);
	V(0)->dbg.stepping = true;
	vcpu_wait_for_interrupt_until(V(0), 5);
	CHECK_EQ(fake_wfit_calls, 0);
}

/* ---- power-on ---- */

/*
 * CPU_ON's part in vcpu.c (psci.c has claimed the vCPU and written where it
 * starts): its saved context out of reset at entry with x0 = the context id,
 * its virtual CPU interface emptied, its first exit's work set, no step left
 * over, a first switch-in that enters the guest from the top of its own
 * stack; and all of that before sched_start() lets its pCPU run it.
 */
static void power_on_hands_over_then_starts(void)
{
	const struct fake_call *reset, *start;
	int i_reset, i_vgic, i_start;

	setup_vcpus(2);
	V(1)->state = VCPU_ON_CLAIMED;
	V(1)->entry = 0x40080000;
	V(1)->context_id = 0x4400beef;
	V(1)->exit_work = EXIT_WORK_SCHED; /* left from before it went off */
	V(1)->dbg.stepping = true;
	memset(&V(1)->sched_ctx, 0xaa, sizeof(V(1)->sched_ctx)); /* where it stopped last time */
	vcpu_power_on(V(1));

	CHECK_EQ(fake_call_count, 3);
	CHECK_EQ(fake_calls_of(FAKE_CONTEXT_RESET, V(1)), 1);
	CHECK_EQ(fake_calls_of(FAKE_VGIC_VCPU_RESET, V(1)), 1);
	CHECK_EQ(fake_calls_of(FAKE_SCHED_START, V(1)), 1);
	i_reset = fake_call_index(FAKE_CONTEXT_RESET, V(1));
	i_vgic = fake_call_index(FAKE_VGIC_VCPU_RESET, V(1));
	i_start = fake_call_index(FAKE_SCHED_START, V(1));
	CHECK(i_reset >= 0 && i_reset < i_start);
	CHECK(i_vgic >= 0 && i_vgic < i_start);
	reset = fake_call_first(FAKE_CONTEXT_RESET, V(1));
	start = fake_call_first(FAKE_SCHED_START, V(1));
	CHECK(reset && start);
	if (!reset || !start)
		return;
	CHECK_EQ(reset->a, 0x40080000);
	CHECK_EQ(reset->b, 0x4400beef);
	/* What the scheduler finds when it takes it. */
	CHECK_EQ(start->state, VCPU_ON_CLAIMED);
	CHECK_EQ(start->exit_work, EXIT_WORK_TRAPS | EXIT_WORK_VGIC);
	CHECK(!start->stepping);
	CHECK_EQ(start->sched_ctx.sp, (u64)&V(1)->frame);
	CHECK_EQ(start->sched_ctx.lr, (u64)sched_first_entry_thunk);
	CHECK_EQ(start->sched_ctx.fp, 0);
	for (unsigned r = 0; r < 10; r++)
		CHECK_EQ(start->sched_ctx.x19_x28[r], 0);
	/* Nobody else touched. */
	CHECK_EQ(V(0)->state, VCPU_RUNNING);
	CHECK_EQ(V(0)->exit_work, 0);
	CHECK_EQ(fake_sysreg_writes("elr_el2"), 0); /* the live registers are vCPU 0's */
	CHECK_EQ(fake_sysreg_writes("sctlr_el1"), 0);
}

/* ---- the reset state (CPU_SUSPEND's power-down wake-up, and the like) ---- */

/* Not loaded: into its saved context; the hardware's registers are the loaded
 * vCPU's and stay untouched. */
static void reset_state_not_loaded_goes_to_context(void)
{
	setup_vcpus(3);
	V(2)->state = VCPU_IDLE;
	V(2)->frame.x[5] = 0x5555;
	vcpu_set_reset_state(V(2), 0x40090000, 0xc0ffee);
	CHECK_EQ(fake_call_count, 1);
	CHECK_EQ(fake_calls_of(FAKE_CONTEXT_RESET, V(2)), 1);
	{
		const struct fake_call *c = fake_call_first(FAKE_CONTEXT_RESET, V(2));
		CHECK(c && c->a == 0x40090000 && c->b == 0xc0ffee);
	}
	static const char *const live[] = { "elr_el2", "spsr_el2", "sctlr_el1", "vbar_el1", "mdscr_el1" };
	for (unsigned i = 0; i < ARRAY_SIZE(live); i++) {
		if (fake_sysreg_writes(live[i]))
			printf("%s written\n", live[i]);
		CHECK_EQ(fake_sysreg_writes(live[i]), 0);
	}
}

/* Loaded: into the registers (the frame, ELR/SPSR_EL2, the EL1 ones); its MDSCR_EL1
 * only while it has the debug registers to itself (not shared, no GDB). */
static void reset_state_loaded_goes_to_registers(void)
{
	struct trap_frame *f;

	setup_vcpus(2);
	f = &V(0)->frame;
	for (unsigned r = 0; r < 31; r++)
		f->x[r] = 0x1111 * (r + 1);
	fake_sysreg_set("sctlr_el1", 0x30d0199d);
	fake_sysreg_set("vbar_el1", 0xffff800008010000ull);
	fake_sysreg_set("mdscr_el1", 0x8000);
	V(0)->dbg.mdscr_guest = 0x8000;
	vcpu_set_reset_state(V(0), 0x40090000, 0xc0ffee);
	CHECK_EQ(fake_call_count, 0);
	CHECK_EQ(f->x[0], 0xc0ffee);
	for (unsigned r = 1; r < 31; r++)
		CHECK_EQ(f->x[r], 0);
	CHECK_EQ(trap_pc(), 0x40090000);
	CHECK_EQ(trap_pstate(), SPSR_MODE_EL1H | SPSR_DAIF);
	CHECK_EQ(fake_sysreg_get("sctlr_el1"), SCTLR_EL1_RES1);
	CHECK_EQ(fake_sysreg_get("vbar_el1"), 0);
	CHECK_EQ(fake_sysreg_get("mdscr_el1"), 0);
	CHECK_EQ(V(0)->dbg.mdscr_guest, 0);

	/* Sharing pCPUs, the hardware's MDSCR_EL1 is not the guest's. */
	setup_vcpus(3);
	fake_sysreg_set("mdscr_el1", 0x8000);
	V(0)->dbg.mdscr_guest = 0x8000;
	vcpu_set_reset_state(V(0), 0x40090000, 1);
	CHECK_EQ(fake_call_count, 0);
	CHECK_EQ(trap_pc(), 0x40090000);
	CHECK_EQ(fake_sysreg_writes("mdscr_el1"), 0);
	CHECK_EQ(fake_sysreg_get("mdscr_el1"), 0x8000);
	CHECK_EQ(V(0)->dbg.mdscr_guest, 0);
}

int main(void)
{
	/* Keep the PASS/FAIL lines already printed if a sanitizer aborts the run. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	RUN(wfi_alone_sleeps_in_place);
	RUN(wfi_shared_blocks);
	RUN(wfi_shared_blocks_until_pending);
	RUN(wfi_with_interrupt_pending_returns);
	RUN(wfit_waits_alone_only);
	RUN(power_on_hands_over_then_starts);
	RUN(reset_state_not_loaded_goes_to_context);
	RUN(reset_state_loaded_goes_to_registers);
	return CHECK_DONE();
}
