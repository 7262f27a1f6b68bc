/*
 * The guest's GICv3 (vgic.h): an emulated distributor and redistributors, and
 * each vCPU's virtual CPU interface, fed through the list registers.
 *
 * Where an interrupt's state lives:
 * - configuration (enable, group, priority, trigger, routing): struct virq,
 *   mirrored to the physical twin where there is one (gic_phys_*);
 * - pending and active: in struct virq while the interrupt waits (queued on
 *   its vCPU), in a list register once it is in one. The guest's acknowledge
 *   and EOI change list registers without a trap, so lr_sync() reads them back
 *   before anyone looks, on the vCPU's own pCPU.
 * - a physical interrupt that backs a guest's (the same INTID, every one the
 *   hypervisor does not keep) is acknowledged and dropped at EL2, then held
 *   active (VIRQ_HW_HELD) and injected with the list register's HW bit, so the
 *   guest's EOI deactivates it. A guest's ISPENDR of it is a virtual latch
 *   (VIRQ_LATCHED: the physical latch of a level interrupt would be gone once
 *   EL2 acknowledged it); ICPENDR clears both.
 * - the common case, a private interrupt for the vCPU that took it with
 *   nothing else going on, goes straight into a free register
 *   (deliver_direct); the rest takes the general path (irq_exit_general).
 *
 * Only a vCPU's own pCPU writes its list registers. Anyone may change any
 * struct virq under vgic.lock; the vCPU then learns of it through
 * EXIT_WORK_VGIC and, if it runs elsewhere, the kick SGI.
 */
#include "vgic.h"
#include "gic.h"
#include "hv.h"
#include "lib.h"
#include "mmio.h"
#include "platform.h"
#include "catch.h"
#include "debug.h"
#include "sched.h"
#include "arch/sysreg.h"

#define VIRQ_ENABLED BIT(0)
#define VIRQ_PENDING BIT(1) /* the pending latch (a backed interrupt: acknowledged at EL2, not yet by the guest) */
#define VIRQ_ACTIVE BIT(2)
#define VIRQ_GROUP1 BIT(3)
#define VIRQ_EDGE BIT(4)
#define VIRQ_HW_HELD BIT(5) /* its physical twin is active, waiting for the guest's deactivation */
#define VIRQ_LATCHED BIT(6) /* pending by the guest's ISPENDR: until acknowledged, whatever its line does */
#define VIRQ_EVICTED BIT(7) /* active, but its list register went to a pending one (vgic_dir) */

/* ICH_LR<n>_EL2 (Arm IHI 0069, 12.5.10) */
#define LR_PENDING BIT(62)
#define LR_ACTIVE BIT(63)
#define LR_STATE (LR_PENDING | LR_ACTIVE)
#define LR_HW BIT(61)
#define LR_GROUP1 BIT(60)
#define LR_PRIORITY_SHIFT 48
#define LR_PINTID_SHIFT 32

#define ICH_HCR_EL2 S3_4_C12_C11_0
#define ICH_HCR_EN BIT(0)
#define ICH_HCR_UIE BIT(1) /* maintenance when at most one list register is valid */
#define ICH_HCR_LRENPIE BIT(2) /* maintenance on an EOI of an interrupt in no list register */
#define ICH_HCR_TDIR BIT(14)   /* the guest's ICC_DIR_EL1 traps */
#define ICH_HCR_EOICOUNT(v) FIELD(v, 31, 27)
#define ICH_VTR_EL2 S3_4_C12_C11_1
#define ICH_ELRSR_EL2 S3_4_C12_C11_5 /* bit n: list register n holds nothing */
#define ICH_VMCR_EL2 S3_4_C12_C11_7
#define ICH_VMCR_VENG0 BIT(0)
#define ICH_VMCR_VENG1 BIT(1)
#define ICH_VMCR_VPMR(v) FIELD(v, 31, 24)

/* Distributor registers (12.9) the guest sees */
#define GICD_CTLR 0x0000
#define GICD_CTLR_GROUPS 0x3 /* EnableGrp0, EnableGrp1 */
#define GICD_CTLR_ARE BIT(4) /* RAO/WI: affinity routing only */
#define GICD_CTLR_DS BIT(6)  /* RAO/WI: one security state */
#define GICD_TYPER 0x0004
#define GICD_TYPER_KEPT (0x1fu | 0x1fu << 19 | BIT(24)) /* ITLinesNumber, IDbits, A3V */
#define GICD_TYPER_NO1N BIT(25)
#define GICD_IIDR 0x0008
#define GICD_IGROUPR 0x0080
#define GICD_IPRIORITYR 0x0400
#define GICD_ICFGR 0x0c00
#define GICD_IROUTER 0x6000
#define GIC_ID_REGS 0xffd0 /* PIDR4 .. CIDR3, the same in every frame */

/* Redistributor: RD_base then SGI_base (12.10, 12.11) */
#define GICR_STRIDE 0x20000
#define GICR_SGI_FRAME 0x10000
#define GICR_IIDR 0x0004
#define GICR_TYPER 0x0008
#define GICR_TYPER_LAST BIT(4)
#define GICR_WAKER 0x0014
#define GICR_WAKER_PROCESSOR_SLEEP BIT(1)
#define GICR_WAKER_CHILDREN_ASLEEP BIT(2)
#define GICR_IGROUPR0 0x0080
#define GICR_IPRIORITYR 0x0400
#define GICR_ICFGR0 0x0c00
#define GICR_ICFGR1 0x0c04

#define NO_TARGET 0xff

/* The guest's private physical interrupts (the timers'): all but the hypervisor's. */
#define BACKED_PPIS (0xffff0000u & ~(u32)GIC_HV_PRIVATE)

static struct {
	spinlock_t lock;
	u32 ctlr;      /* EnableGrp0/1 as the guest wrote them */
	unsigned spi_end;
	unsigned lrs;  /* list registers this CPU has */
	unsigned apr_count; /* ICH_AP0R<n>/AP1R<n> registers: 1, 2 or 4 */
	unsigned priority_shift; /* an active-priority bit n is group priority n << shift */
	struct virq spi[VGIC_INTIDS - VGIC_PRIVATE];
	u8 spi_target[VGIC_INTIDS - VGIC_PRIVATE]; /* vCPU id, or NO_TARGET */
	u64 irouter[VGIC_INTIDS - VGIC_PRIVATE];
} vgic;

/* ---- list registers and the virtual CPU interface ----------------------------- */

#define LR_CASES(X)                                                                              \
	X(0, S3_4_C12_C12_0) X(1, S3_4_C12_C12_1) X(2, S3_4_C12_C12_2) X(3, S3_4_C12_C12_3)     \
	X(4, S3_4_C12_C12_4) X(5, S3_4_C12_C12_5) X(6, S3_4_C12_C12_6) X(7, S3_4_C12_C12_7)     \
	X(8, S3_4_C12_C13_0) X(9, S3_4_C12_C13_1) X(10, S3_4_C12_C13_2) X(11, S3_4_C12_C13_3) \
	X(12, S3_4_C12_C13_4) X(13, S3_4_C12_C13_5) X(14, S3_4_C12_C13_6) X(15, S3_4_C12_C13_7)

static u64 lr_read(unsigned n)
{
	switch (n) {
#define X(i, reg) case i: return sysreg_read(reg);
	LR_CASES(X)
#undef X
	}
	return 0;
}

static void lr_write(unsigned n, u64 value)
{
	switch (n) {
#define X(i, reg) case i: sysreg_write(reg, value); break;
	LR_CASES(X)
#undef X
	}
}

#define APR_CASES(X)                                                                        \
	X(0, S3_4_C12_C8_0, S3_4_C12_C9_0) X(1, S3_4_C12_C8_1, S3_4_C12_C9_1)              \
	X(2, S3_4_C12_C8_2, S3_4_C12_C9_2) X(3, S3_4_C12_C8_3, S3_4_C12_C9_3)

static void apr_read(unsigned n, u32 *ap0, u32 *ap1)
{
	switch (n) {
#define X(i, r0, r1) case i: *ap0 = sysreg_read(r0); *ap1 = sysreg_read(r1); break;
	APR_CASES(X)
#undef X
	}
}

static void apr_write(unsigned n, u32 ap0, u32 ap1)
{
	switch (n) {
#define X(i, r0, r1) case i: sysreg_write(r0, ap0); sysreg_write(r1, ap1); break;
	APR_CASES(X)
#undef X
	}
}

/* All of them, the first pair (which every CPU interface has) without the switch. */
static inline void aprs_read(u32 *ap0, u32 *ap1)
{
	ap0[0] = sysreg_read(S3_4_C12_C8_0);
	ap1[0] = sysreg_read(S3_4_C12_C9_0);
	for (unsigned n = 1; n < vgic.apr_count; n++)
		apr_read(n, &ap0[n], &ap1[n]);
}

static inline void aprs_write(const u32 *ap0, const u32 *ap1)
{
	sysreg_write(S3_4_C12_C8_0, ap0[0]);
	sysreg_write(S3_4_C12_C9_0, ap1[0]);
	for (unsigned n = 1; n < vgic.apr_count; n++)
		apr_write(n, ap0[n], ap1[n]);
}

/* ---- interrupts, by INTID ------------------------------------------------------ */

static struct virq *virq_of(struct vcpu *v, unsigned intid)
{
	if (intid < VGIC_PRIVATE)
		return &v->vgic.priv[intid];
	if (intid < vgic.spi_end)
		return &vgic.spi[intid - VGIC_PRIVATE];
	return NULL;
}

/* The vCPU an interrupt is for: its own for a private one, the routed one for an SPI. */
static struct vcpu *owner_of(struct vcpu *v, unsigned intid)
{
	if (intid < VGIC_PRIVATE)
		return v;
	unsigned t = vgic.spi_target[intid - VGIC_PRIVATE];
	return t == NO_TARGET ? NULL : vcpu_by_id(t);
}

/* A physical interrupt of the same INTID stands behind it. */
static bool is_backed(unsigned intid)
{
	return intid >= 16 && intid < vgic.spi_end && !gic_is_hypervisors(intid);
}

static void queue(struct vcpu *v, unsigned intid)
{
	v->vgic.queued[intid / 32] |= (u32)BIT(intid % 32);
	v->vgic.queued_words |= (u32)BIT(intid / 32);
}

static void dequeue(struct vcpu *v, unsigned intid)
{
	u32 *w = &v->vgic.queued[intid / 32];

	*w &= ~(u32)BIT(intid % 32);
	if (!*w)
		v->vgic.queued_words &= ~(u32)BIT(intid / 32);
}

/*
 * Tell v its interrupts changed: at its next exit if it runs (kicked there if
 * that is another pCPU), and wake it if it waits in a WFI (sched.c: the flag
 * is set before the look at its state).
 */
static void notify(struct vcpu *v)
{
	struct pcpu *cpu = vcpu_pcpu(v);

	__atomic_or_fetch(&v->exit_work, EXIT_WORK_VGIC, __ATOMIC_SEQ_CST);
	if (cpu != this_pcpu() && (v->loaded || v->in_wfi))
		gic_kick(cpu);
	sched_wake(v);
}

/*
 * The physical twin of a private interrupt belongs to the vCPU loaded on the
 * pCPU: for one that is not loaded, it is the state its put saved (context.h),
 * which its next load gives back to the hardware. Lock held.
 */
static void phys_deactivate(struct vcpu *owner, unsigned intid)
{
	if (intid < VGIC_PRIVATE && !owner->loaded)
		owner->ctx.ppi_active &= ~(u32)BIT(intid);
	else
		gic_phys_deactivate(intid, vcpu_pcpu(owner)->id);
}

static bool phys_pending(struct vcpu *owner, unsigned intid)
{
	if (intid < VGIC_PRIVATE && !owner->loaded)
		return false; /* its timers are stopped while it is put: their lines are low */
	return gic_phys_pending(intid, vcpu_pcpu(owner)->id);
}

/*
 * A private one's enable is in the owner's context whether it is loaded or
 * not, and in its redistributor only while it is: a put need not read it
 * back, and a load whose enables the redistributor has already (the vCPU put
 * before had the same) need not write them.
 */
static void phys_enable(struct vcpu *owner, unsigned intid, bool on)
{
	if (intid < VGIC_PRIVATE && (BIT(intid) & BACKED_PPIS)) {
		u32 *enabled = &owner->ctx.ppi_enabled;
		*enabled = on ? *enabled | (u32)BIT(intid) : *enabled & ~(u32)BIT(intid);
		if (!owner->loaded)
			return;
		vcpu_pcpu(owner)->ppis_enabled_hw = *enabled;
	}
	gic_phys_enable(intid, vcpu_pcpu(owner)->id, on);
}

/*
 * An interrupt that left v's list register (or was found queued on v) and is
 * still pending or active waits on the vCPU it is for now: an SPI may have
 * been rerouted while v held it. Lock held.
 */
static void requeue(struct vcpu *v, unsigned intid, struct virq *q)
{
	struct vcpu *owner = owner_of(v, intid);

	if (!owner || !(q->flags & (VIRQ_PENDING | VIRQ_ACTIVE)) || (q->flags & VIRQ_EVICTED))
		return;
	queue(owner, intid);
	if (owner != v)
		notify(owner);
}

static bool group_enabled(const struct virq *q)
{
	return vgic.ctlr & (q->flags & VIRQ_GROUP1 ? 2 : 1);
}

/* What the guest's CPU interface should see of it: pending (deliverable) or active. */
static bool wants_lr(const struct virq *q)
{
	return (q->flags & VIRQ_ACTIVE) ||
	       ((q->flags & VIRQ_PENDING) && (q->flags & VIRQ_ENABLED) && group_enabled(q));
}

static u64 lr_value(unsigned intid, const struct virq *q)
{
	u64 lr = intid | (u64)q->priority << LR_PRIORITY_SHIFT | (q->flags & VIRQ_GROUP1 ? LR_GROUP1 : 0);

	if (q->flags & VIRQ_HW_HELD) {
		/* The physical twin keeps a further pending state itself: a
		 * HW list register is never pending and active at once. */
		lr |= LR_HW | (u64)intid << LR_PINTID_SHIFT;
		lr |= q->flags & VIRQ_ACTIVE ? LR_ACTIVE : LR_PENDING;
	} else {
		lr |= q->flags & VIRQ_ACTIVE ? LR_ACTIVE : 0;
		lr |= q->flags & VIRQ_PENDING ? LR_PENDING : 0;
	}
	return lr;
}

/*
 * The guest no longer wants a backed interrupt we hold active (it cleared its
 * pending state, or disabled it): let the physical one go, so it is not left
 * active forever. An edge stays pending for the guest; a level line that is
 * still high is pending again at the hardware.
 */
static void release_hw(struct vcpu *owner, unsigned intid, struct virq *q)
{
	phys_deactivate(owner, intid);
	q->flags &= ~VIRQ_HW_HELD;
	if (!(q->flags & VIRQ_EDGE))
		q->flags &= ~VIRQ_PENDING;
}

static void lr_release(struct vcpu *v, unsigned n, struct virq *q)
{
	q->lr = -1;
	v->vgic.lr_used &= ~(u16)BIT(n);
	v->vgic.lr[n] = 0;
}

/*
 * The list registers the guest has ended since the last look, found from
 * ICH_ELRSR_EL2 alone, without a read of each: retired, their interrupts
 * queued again if pended meanwhile. Lock held, on v's pCPU.
 */
static inline __attribute__((always_inline)) void lr_retire_empty(struct vcpu *v)
{
	struct vgic_cpu *c = &v->vgic;
	u32 empty = sysreg_read(ICH_ELRSR_EL2) & c->lr_used;

	if (!empty)
		return;
	c->lr_used &= ~(u16)empty; /* each released, as lr_release() does one */
	for (; empty; empty &= empty - 1) {
		unsigned n = __builtin_ctz(empty);
		u64 lr = c->lr[n];
		struct virq *q = virq_of(v, (u32)lr);
		if ((lr & LR_PENDING) && q->pend_gen == c->lr_gen[n])
			q->flags &= ~(VIRQ_PENDING | VIRQ_LATCHED); /* acknowledged, then ended */
		q->flags &= ~(VIRQ_ACTIVE | (lr & LR_HW ? VIRQ_HW_HELD : 0));
		q->lr = -1;
		c->lr[n] = 0;
		if (q->flags & VIRQ_PENDING) /* pended again meanwhile */
			requeue(v, (u32)lr, q);
	}
}

/* The list registers lr_retire_empty() left: each read back and compared. */
static void __attribute__((noinline)) lr_sync_held(struct vcpu *v)
{
	struct vgic_cpu *c = &v->vgic;

	for (u32 used = c->lr_used; used; used &= used - 1) {
		unsigned n = __builtin_ctz(used);
		u64 was = c->lr[n], now = lr_read(n);
		struct virq *q = virq_of(v, (u32)was);

		/* A level interrupt the guest has not taken yet whose device
		 * has gone quiet (a timer re-armed with interrupts masked) is
		 * no longer pending: the physical one, active since EL2 took
		 * it, is pending again only while its line is high. */
		if ((now & (LR_HW | LR_STATE)) == (LR_HW | LR_PENDING) && !(q->flags & (VIRQ_EDGE | VIRQ_LATCHED)) &&
		    !phys_pending(v, (u32)was)) {
			lr_write(n, 0);
			lr_release(v, n, q);
			q->flags &= ~VIRQ_PENDING;
			release_hw(v, (u32)was, q);
			continue;
		}
		if (now == was)
			continue;
		bool acked = (was & LR_PENDING) && !(now & LR_PENDING);
		bool ended = !(now & LR_ACTIVE) && ((was & LR_ACTIVE) || acked);
		if (acked && q->pend_gen == c->lr_gen[n])
			q->flags &= ~(VIRQ_PENDING | VIRQ_LATCHED);
		if (acked)
			q->flags |= VIRQ_ACTIVE;
		if (ended) {
			q->flags &= ~VIRQ_ACTIVE;
			if (was & LR_HW)
				q->flags &= ~VIRQ_HW_HELD; /* the guest's EOI deactivated it */
		}
		c->lr[n] = now;
		if (!(now & LR_STATE)) {
			lr_release(v, n, q);
			requeue(v, (u32)was, q);
		}
	}
}

/*
 * What the guest did to its list registers since they were written: an
 * acknowledge turns pending into active, an EOI ends active. Those it ended
 * (the common case: an idle vCPU's WFI after its interrupt) ICH_ELRSR_EL2
 * names without a read of each. Lock held, on v's pCPU.
 */
static inline __attribute__((always_inline)) void lr_sync(struct vcpu *v)
{
	if (!v->loaded)
		return; /* put: its list registers are c->lr, as read at the put */
	lr_retire_empty(v);
	if (v->vgic.lr_used)
		lr_sync_held(v);
}

/* A delivery to record once the lock is dropped: catchpoints may stop there. */
struct delivery {
	u16 intid;
	u8 priority;
	bool hw;
};

/* Put interrupt intid into v's free list register n. Lock held, on v's pCPU. */
static inline void lr_place(struct vcpu *v, unsigned n, unsigned intid, struct virq *q)
{
	struct vgic_cpu *c = &v->vgic;

	c->lr[n] = lr_value(intid, q);
	c->lr_gen[n] = q->pend_gen;
	c->lr_used |= (u16)BIT(n);
	q->lr = n;
	lr_write(n, c->lr[n]);
	c->delivered++;
}

/* The highest-priority queued interrupt that wants a list register, or -1. */
static int best_queued(struct vcpu *v)
{
	struct vgic_cpu *c = &v->vgic;
	int best = -1;
	unsigned best_prio = 0x100;

	for (u32 words = c->queued_words; words; words &= words - 1) {
		unsigned w = __builtin_ctz(words);
		for (u32 bits = c->queued[w]; bits; bits &= bits - 1) {
			unsigned intid = 32 * w + __builtin_ctz(bits);
			struct virq *q = virq_of(v, intid);
			if (!q || owner_of(v, intid) != v || !(q->flags & (VIRQ_PENDING | VIRQ_ACTIVE))) {
				dequeue(v, intid); /* rerouted, ended, or past the SPIs */
				if (q)
					requeue(v, intid, q);
				continue;
			}
			if (wants_lr(q) && q->priority < best_prio) {
				best = intid;
				best_prio = q->priority;
			}
		}
	}
	return best;
}

/* A list register for an interrupt of priority prio: a free one, or a pending one of lower priority. */
static int lr_for(struct vcpu *v, unsigned prio, bool pending)
{
	struct vgic_cpu *c = &v->vgic;
	u32 free = ~(u32)c->lr_used & ((1u << vgic.lrs) - 1);
	int victim = -1;
	unsigned victim_prio = prio;

	if (free)
		return __builtin_ctz(free);
	for (u32 used = c->lr_used; used; used &= used - 1) {
		unsigned n = __builtin_ctz(used);
		unsigned p = FIELD(c->lr[n], 55, 48);
		if ((c->lr[n] & LR_STATE) == LR_PENDING && p > victim_prio) {
			victim = n;
			victim_prio = p;
		}
	}
	if (victim >= 0) { /* back to waiting; still pending (and still held, if HW) */
		unsigned intid = (u32)c->lr[victim];
		lr_write(victim, 0);
		lr_release(v, victim, virq_of(v, intid));
		queue(v, intid);
		return victim;
	}
	if (!pending)
		return -1;
	/* Every register holds an active interrupt (a guest in EOImode 1 that has
	 * dropped their priorities, say): one of them leaves its register and
	 * stays active in software, ended by the guest's DIR (trapped while any
	 * is out: vgic_dir) or, in EOImode 0, by the EOI the hardware counts. */
	for (u32 used = c->lr_used; used; used &= used - 1) {
		unsigned n = __builtin_ctz(used);
		unsigned p = FIELD(c->lr[n], 55, 48);
		if ((c->lr[n] & LR_STATE) == LR_ACTIVE && (victim < 0 || p >= victim_prio)) {
			victim = n;
			victim_prio = p;
		}
	}
	if (victim >= 0) {
		struct virq *q = virq_of(v, (u32)c->lr[victim]);
		lr_write(victim, 0);
		lr_release(v, victim, q);
		q->flags |= VIRQ_EVICTED;
		c->evicted++;
	}
	return victim;
}

/* A list register's active interrupt ended by the guest: its physical twin too. */
static void end_active(struct vcpu *v, unsigned intid, struct virq *q)
{
	if (q->flags & VIRQ_EVICTED) {
		q->flags &= ~VIRQ_EVICTED;
		v->vgic.evicted--;
	}
	q->flags &= ~VIRQ_ACTIVE;
	if (q->flags & VIRQ_HW_HELD) {
		phys_deactivate(v, intid);
		q->flags &= ~VIRQ_HW_HELD;
	}
}

/* The EOIs (EOImode 0) of interrupts in no list register: each ends the evicted
 * active one of highest priority, which is the one the guest was running. */
static void end_counted_eois(struct vcpu *v, unsigned count)
{
	while (count-- && v->vgic.evicted) {
		int best = -1;
		unsigned best_prio = 0x100;
		for (unsigned intid = 0; intid < vgic.spi_end; intid++) {
			struct virq *q = virq_of(v, intid);
			if (q && (q->flags & VIRQ_EVICTED) && owner_of(v, intid) == v && q->priority < best_prio) {
				best = intid;
				best_prio = q->priority;
			}
		}
		if (best < 0)
			break;
		end_active(v, best, virq_of(v, best));
	}
}

/*
 * Rewrite v's list registers from the interrupts' state: what changed under
 * them, then the highest-priority waiting ones into free (or lower-priority)
 * registers. Lock held, on v's pCPU. Returns how many deliveries it recorded.
 */
static unsigned lr_fill(struct vcpu *v, struct delivery *out, unsigned max)
{
	struct vgic_cpu *c = &v->vgic;
	unsigned count = 0;
	int intid;

	if (c->evicted)
		end_counted_eois(v, ICH_HCR_EOICOUNT(sysreg_read(ICH_HCR_EL2)));
	for (u32 used = c->lr_used; used; used &= used - 1) {
		unsigned n = __builtin_ctz(used), id = (u32)c->lr[n];
		struct virq *q = virq_of(v, id);
		u64 want;

		if (!wants_lr(q)) {
			lr_write(n, 0);
			lr_release(v, n, q);
			/* Disabled or no longer pending: the physical one goes. Only
			 * its group being off keeps it held (it would be back at once). */
			if ((q->flags & VIRQ_HW_HELD) &&
			    (!(q->flags & VIRQ_ENABLED) || !(q->flags & VIRQ_PENDING)))
				release_hw(v, id, q);
			requeue(v, id, q); /* its group is off, or it is disabled: it waits */
			continue;
		}
		want = lr_value(id, q);
		if (want != c->lr[n]) {
			lr_write(n, want);
			c->lr[n] = want;
		}
		/* Pended again while still pending in the register (the guest has
		 * not acknowledged it: lr_sync just looked): one pending state. */
		if (want & LR_PENDING)
			c->lr_gen[n] = q->pend_gen;
	}
	c->overflow = false;
	while ((intid = best_queued(v)) >= 0) {
		struct virq *q = virq_of(v, intid);
		int n = lr_for(v, q->priority, q->flags & VIRQ_PENDING);
		if (n < 0) {
			c->overflow = true;
			break;
		}
		dequeue(v, intid);
		if (q->flags & VIRQ_EVICTED) {
			q->flags &= ~VIRQ_EVICTED;
			c->evicted--;
		}
		lr_place(v, n, intid, q);
		if ((c->lr[n] & LR_PENDING) && count < max)
			out[count++] = (struct delivery){ intid, q->priority, (c->lr[n] & LR_HW) != 0 };
	}
	/* Written when it changes, or to clear an EOI count; the eret into the
	 * guest is the context synchronization the list registers need too. */
	u64 hcr = (c->masked ? 0 : ICH_HCR_EN) | (c->overflow ? ICH_HCR_UIE : 0) |
		  (c->evicted ? ICH_HCR_TDIR | ICH_HCR_LRENPIE : 0);
	if (hcr != c->hcr || (hcr & ICH_HCR_LRENPIE)) {
		c->hcr = hcr;
		sysreg_write(ICH_HCR_EL2, hcr);
	}
	return count;
}

/* ---- events -------------------------------------------------------------------- */

/*
 * Each interrupt put into a list register pending is one `irq` event: the PC
 * the guest was at (where it takes the interrupt, once its masks allow), the
 * INTID, the priority, and whether a physical interrupt stands behind it
 * (outcome "forwarded") or not ("emulated").
 */
static inline void record(struct vcpu *v, struct trap_frame *f, const struct delivery *d)
{
	struct event_cursor cur = v->event_cursor;
	u64 seq = cur.ring->head;
	struct trap_event *ev = event_ring_slot(cur.ring, seq);

	ev->seq = seq;
	ev->time = sysreg_read(cntpct_el0);
	ev->elr = trap_pc();
	ev->addr = d->intid;
	ev->value = d->priority;
	ev->esr = 0;
	ev->el2_ticks = 0;
	ev->meta = cur.meta | META_KIND(TRAP_IRQ, OP_DELIVER, d->hw ? OUT_FORWARDED : OUT_EMULATED);
	ev->width = 0;
	trap_stat_add(&v->stats[TRAP_IRQ], 0);
	event_ring_publish(cur.ring, seq);
	if (f && catch_is_catching(TRAP_IRQ))
		catch_check(f, ev, 0);
}

/* Publish what an exit delivered: events, statistics, catchpoints. */
static void record_all(struct vcpu *v, struct trap_frame *f, const struct delivery *d, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		record(v, f, &d[i]);
}

void vgic_update(struct vcpu *v, struct trap_frame *f)
{
	struct delivery d[VGIC_MAX_LRS];
	u32 req = __atomic_load_n(&v->vgic.sync_req, __ATOMIC_ACQUIRE);
	unsigned n;

	spin_lock(&vgic.lock);
	lr_sync(v);
	n = lr_fill(v, d, ARRAY_SIZE(d));
	spin_unlock(&vgic.lock);
	__atomic_store_n(&v->vgic.sync_ack, req, __ATOMIC_RELEASE);
	record_all(v, f, d, n);
}

/*
 * A read of pending or active state must see what the guest did to its list
 * registers without an exit, on every vCPU: each one holding some is asked to
 * look (the kick), and answers on its next exit. The wait ends when a
 * debugger stop begins (the vCPUs asked may be parked) and after 100 ms at
 * most (an emulator's CPU thread may wait that long for a host CPU); the read
 * then shows such a vCPU's state as of its last exit. Our own requests are
 * served meanwhile, so two vCPUs reading each other's state do not wait on
 * each other. Lock not held.
 */
static void sync_others(struct vcpu *self)
{
	u32 asked = 0, want[MAX_VCPUS];
	u64 deadline;

	for (unsigned i = 0; i < vcpu_count; i++) {
		struct vcpu *t = vcpu_by_id(i);
		if (t == self || !t->vgic.lr_used || !t->loaded)
			continue; /* a put vCPU's c->lr is what its registers held */
		want[i] = __atomic_add_fetch(&t->vgic.sync_req, 1, __ATOMIC_ACQ_REL);
		notify(t);
		asked |= BIT(i);
	}
	deadline = sysreg_read(cntpct_el0) + sysreg_read(cntfrq_el0) / 10;
	while (asked && sysreg_read(cntpct_el0) < deadline && !debug_stop_under_way()) {
		for (u32 a = asked; a; a &= a - 1) {
			unsigned i = __builtin_ctz(a);
			if ((int)(__atomic_load_n(&vcpu_by_id(i)->vgic.sync_ack, __ATOMIC_ACQUIRE) - want[i]) >= 0)
				asked &= ~BIT(i);
		}
		u32 mine = __atomic_load_n(&self->vgic.sync_req, __ATOMIC_ACQUIRE);
		if (mine != self->vgic.sync_ack) {
			spin_lock(&vgic.lock);
			lr_sync(self);
			spin_unlock(&vgic.lock);
			__atomic_store_n(&self->vgic.sync_ack, mine, __ATOMIC_RELEASE);
		}
	}
}

/* ---- physical interrupts at EL2 ------------------------------------------------- */

/*
 * A backed interrupt taken at EL2: held active for the guest, pending on its
 * vCPU. Lock held. Returns the vCPU to tell if it is not this one (bit per id).
 */
static u32 take_for_guest(struct vcpu *here, unsigned intid)
{
	struct vcpu *owner = owner_of(here, intid);
	struct virq *q = virq_of(here, intid);

	if (!owner || !q || !is_backed(intid)) {
		gic_deactivate(intid); /* rerouted away or never the guest's: it ends here */
		return 0;
	}
	q->flags |= VIRQ_PENDING | VIRQ_HW_HELD;
	q->pend_gen++;
	if (q->lr < 0)
		queue(owner, intid);
	return owner == here ? 0 : (u32)BIT(owner->id);
}

/*
 * The common case of a physical interrupt for the guest, the virtual timer's
 * at every tick: a private one for this very vCPU, nothing waiting, nothing
 * changed by others since the last exit, a list register free once the ended
 * ones are retired. It goes straight into that register. False: the general
 * path does it. Lock held.
 */
static inline bool deliver_direct(struct vcpu *v, unsigned intid, struct delivery *d)
{
	struct vgic_cpu *c = &v->vgic;
	struct virq *q = &c->priv[intid % VGIC_PRIVATE];
	u32 free;
	unsigned n;

	if (intid < 16 || intid >= VGIC_PRIVATE || gic_is_hypervisors(intid) || (v->exit_work & EXIT_WORK_VGIC) ||
	    c->evicted || c->overflow)
		return false;
	lr_retire_empty(v);
	free = ~(u32)c->lr_used & ((1u << vgic.lrs) - 1);
	if (c->queued_words || q->lr >= 0 || !free || (q->flags & VIRQ_ACTIVE) || !(q->flags & VIRQ_ENABLED) ||
	    !group_enabled(q))
		return false;
	q->flags |= VIRQ_PENDING | VIRQ_HW_HELD;
	q->pend_gen++;
	n = __builtin_ctz(free);
	lr_place(v, n, intid, q);
	*d = (struct delivery){ intid, q->priority, true };
	return true;
}

/*
 * The general path, lock held, for the first interrupt (intid) and any others
 * pending: what the guest ended since the last exit is seen first (the
 * interrupt it deactivated may be the one coming in again), then each is
 * taken, then the list registers are refilled. Unlocks.
 */
static void __attribute__((noinline)) irq_exit_general(struct vcpu *v, struct trap_frame *f, unsigned intid)
{
	struct delivery d[VGIC_MAX_LRS];
	u32 others = 0, req = __atomic_load_n(&v->vgic.sync_req, __ATOMIC_ACQUIRE);
	bool maintenance = false;
	unsigned n;

	__atomic_and_fetch(&v->exit_work, ~EXIT_WORK_VGIC, __ATOMIC_ACQ_REL);
	lr_sync(v);
	/* Bounded: a storm of physical interrupts still lets the guest run. */
	for (unsigned i = 0; i < 16 && intid != GIC_SPURIOUS; i++, intid = gic_ack_irq()) {
		if (i)
			gic_drop_irq(intid);
		if (intid == GIC_PPI_MAINTENANCE)
			maintenance = true; /* level while its condition holds: ended once refilled */
		else
			others |= take_for_guest(v, intid);
	}
	n = lr_fill(v, d, ARRAY_SIZE(d));
	spin_unlock(&vgic.lock);
	__atomic_store_n(&v->vgic.sync_ack, req, __ATOMIC_RELEASE);
	if (maintenance)
		gic_deactivate(GIC_PPI_MAINTENANCE);
	for (; others; others &= others - 1)
		notify(vcpu_by_id(__builtin_ctz(others)));
	record_all(v, f, d, n);
}

/*
 * A physical interrupt for the guest (HCR_EL2.IMO), acknowledged and dropped
 * here: straight into a list register in the common case, the general path
 * otherwise. No sync request can be pending on the direct path: a request
 * sets EXIT_WORK_VGIC, which sends it the general way.
 */
void trap_lower_irq(struct trap_frame *f)
{
	struct vcpu *v = vcpu_of_frame(f);
	u64 t0 = sysreg_read(cntpct_el0);
	unsigned intid = gic_ack_irq();
	struct delivery d;

	if (intid != GIC_SPURIOUS) {
		gic_drop_irq(intid);
		spin_lock(&vgic.lock);
		if (deliver_direct(v, intid, &d)) {
			spin_unlock(&vgic.lock);
			record(v, f, &d); /* others pending come back at once, as a new exit */
		} else {
			irq_exit_general(v, f, intid);
		}
		v->stats[TRAP_IRQ].ticks += sysreg_read(cntpct_el0) - t0;
	}
	trap_finish_exit(f);
}

/* ---- guest SGIs ------------------------------------------------------------------ */

/*
 * ICC_SGI1R_EL1 and friends, trapped by IMO/FMO: TargetList[15:0] Aff1[23:16]
 * INTID[27:24] Aff2[39:32] IRM[40] RS[47:44] Aff3[55:48]. An SGI reaches a
 * target whose group for it matches the register's (Group 0 for SGI0R).
 */
#define SGIR_IRM BIT(40)

static bool sgi_targets(const struct vcpu *t, u64 value)
{
	u64 aff = t->vmpidr;
	unsigned aff0 = FIELD(aff, 7, 0);

	return FIELD(aff, 39, 32) == FIELD(value, 55, 48) && FIELD(aff, 23, 16) == FIELD(value, 39, 32) &&
	       FIELD(aff, 15, 8) == FIELD(value, 23, 16) && aff0 / 16 == FIELD(value, 47, 44) &&
	       (value & BIT(aff0 % 16));
}

void vgic_send_sgi(struct vcpu *from, u64 value, bool group1)
{
	unsigned intid = FIELD(value, 27, 24);
	u32 notified = 0;

	spin_lock(&vgic.lock);
	for (unsigned i = 0; i < vcpu_count; i++) {
		struct vcpu *t = vcpu_by_id(i);
		struct virq *q = &t->vgic.priv[intid];
		if ((value & SGIR_IRM) ? t == from : !sgi_targets(t, value))
			continue;
		if (!(q->flags & VIRQ_GROUP1) != !group1)
			continue;
		q->flags |= VIRQ_PENDING;
		q->pend_gen++;
		if (q->lr < 0)
			queue(t, intid);
		notified |= BIT(i);
	}
	spin_unlock(&vgic.lock);
	for (; notified; notified &= notified - 1)
		notify(vcpu_by_id(__builtin_ctz(notified)));
}

/*
 * The guest's ICC_DIR_EL1, trapped (TDIR) while an active interrupt is in no
 * list register: the hardware would only look in the registers.
 */
void vgic_dir(struct vcpu *v, unsigned intid)
{
	struct vgic_cpu *c = &v->vgic;
	struct virq *q;

	spin_lock(&vgic.lock);
	lr_sync(v);
	q = virq_of(v, intid);
	if (q && q->lr >= 0 && (c->lr[q->lr] & LR_ACTIVE)) {
		unsigned n = q->lr;
		end_active(v, intid, q);
		if (q->flags & VIRQ_PENDING && !(c->lr[n] & LR_HW)) {
			c->lr[n] &= ~LR_ACTIVE;
			lr_write(n, c->lr[n]);
		} else {
			lr_write(n, 0);
			lr_release(v, n, q);
			if (q->flags & VIRQ_PENDING)
				queue(v, intid);
		}
	} else if (q && (q->flags & VIRQ_EVICTED)) {
		end_active(v, intid, q);
	}
	spin_unlock(&vgic.lock);
	__atomic_or_fetch(&v->exit_work, EXIT_WORK_VGIC, __ATOMIC_RELEASE);
}

/* ---- WFI ----------------------------------------------------------------------------- */

/* The running priority from active priorities ap0/ap1, as the CPU interface computes it. */
static unsigned priority_running(const u32 *ap0, const u32 *ap1)
{
	for (unsigned n = 0; n < vgic.apr_count; n++)
		if (ap0[n] | ap1[n])
			return (32 * n + __builtin_ctz(ap0[n] | ap1[n])) << vgic.priority_shift;
	return 0x100;
}

/* ... of the loaded vCPU: its ICH_AP0R/AP1R as they are now. */
static unsigned running_priority(void)
{
	u32 ap0[4], ap1[4];

	aprs_read(ap0, ap1);
	return priority_running(ap0, ap1);
}

/* ---- the virtual CPU interface of a vCPU ------------------------------------------- */

/*
 * Put, lock held, v's list registers just read back (lr_sync): its
 * interface's state and its private interrupts' physical twins go to memory;
 * the interface is off until the next load, so nothing of this vCPU's is
 * signalled to the next.
 */
static inline __attribute__((always_inline)) void put_synced(struct vcpu *v)
{
	struct vgic_cpu *c = &v->vgic;
	struct pcpu *cpu = vcpu_pcpu(v);

	c->vmcr = sysreg_read(ICH_VMCR_EL2);
	c->hcr = sysreg_read(ICH_HCR_EL2);
	aprs_read(c->ap0r, c->ap1r);
	/* A private interrupt is physically active only while the guest holds
	 * it (VIRQ_HW_HELD): in a list register, queued or evicted. Its
	 * enables are in ctx.ppi_enabled already (phys_enable). */
	v->ctx.ppi_active = c->lr_used || c->queued_words || c->evicted ? gic_ppis_take_active(cpu->id, BACKED_PPIS) : 0;
	sysreg_write(ICH_HCR_EL2, 0);
	/* What the registers still hold valid: at most these (lr_sync released the rest). */
	cpu->lrs_held = c->lr_used;
	v->loaded = false;
}

/*
 * A WFI completes when the CPU interface would signal an interrupt, masked by
 * PSTATE or not: one pending, of its group enabled, above the priority mask
 * and the running priority. The queued ones count too (they are in a list
 * register by the time the guest runs again). With put, a WFI that does not
 * complete leaves v's interface put, under the same lock and with the same
 * look at its list registers as the decision.
 */
static inline __attribute__((always_inline)) bool wfi_look(struct vcpu *v, bool put)
{
	struct vgic_cpu *c = &v->vgic;
	u64 vmcr;
	unsigned limit, rp;
	bool wake = false;

	spin_lock(&vgic.lock);
	lr_sync(v);
	if (!c->lr_used && !c->queued_words) /* nothing pending at all: the common idle WFI */
		goto out;
	vmcr = sysreg_read(ICH_VMCR_EL2);
	limit = ICH_VMCR_VPMR(vmcr);
	rp = running_priority();
	if (rp < limit)
		limit = rp;
	for (u32 used = c->lr_used; used && !wake; used &= used - 1) {
		u64 lr = c->lr[__builtin_ctz(used)];
		bool on = vmcr & (lr & LR_GROUP1 ? ICH_VMCR_VENG1 : ICH_VMCR_VENG0);
		wake = (lr & LR_PENDING) && on && FIELD(lr, 55, 48) < limit;
	}
	for (u32 words = c->queued_words; words && !wake; words &= words - 1) {
		unsigned w = __builtin_ctz(words);
		for (u32 bits = c->queued[w]; bits && !wake; bits &= bits - 1) {
			unsigned intid = 32 * w + __builtin_ctz(bits);
			struct virq *q = virq_of(v, intid);
			bool on = q && vmcr & (q->flags & VIRQ_GROUP1 ? ICH_VMCR_VENG1 : ICH_VMCR_VENG0);
			wake = on && owner_of(v, intid) == v && (q->flags & VIRQ_PENDING) && wants_lr(q) &&
			       q->priority < limit;
		}
	}
out:
	if (put && !wake)
		put_synced(v);
	spin_unlock(&vgic.lock);
	if (wake)
		__atomic_or_fetch(&v->exit_work, EXIT_WORK_VGIC, __ATOMIC_RELEASE);
	return wake;
}

bool vgic_wfi_should_wake(struct vcpu *v)
{
	return wfi_look(v, false);
}

bool vgic_wfi_put_unless_woken(struct vcpu *v)
{
	return wfi_look(v, true);
}

void vgic_cpu_put(struct vcpu *v)
{
	spin_lock(&vgic.lock);
	lr_sync(v);
	put_synced(v);
	spin_unlock(&vgic.lock);
}

inline __attribute__((always_inline)) void vgic_cpu_load(struct vcpu *v)
{
	struct vgic_cpu *c = &v->vgic;
	unsigned cpu = vcpu_pcpu(v)->id;

	spin_lock(&vgic.lock);
	/* Its own, and empty where the vCPU put last left one of its own. */
	for (u32 w = c->lr_used | vcpu_pcpu(v)->lrs_held; w; w &= w - 1) {
		unsigned n = __builtin_ctz(w);
		lr_write(n, c->lr_used & BIT(n) ? c->lr[n] : 0);
	}
	aprs_write(c->ap0r, c->ap1r);
	sysreg_write(ICH_VMCR_EL2, c->vmcr);
	sysreg_write(ICH_HCR_EL2, c->hcr);
	if (v->ctx.ppi_enabled != vcpu_pcpu(v)->ppis_enabled_hw || v->ctx.ppi_active) {
		gic_ppis_load(cpu, BACKED_PPIS, v->ctx.ppi_enabled, v->ctx.ppi_active);
		vcpu_pcpu(v)->ppis_enabled_hw = v->ctx.ppi_enabled;
	}
	v->loaded = true;
	spin_unlock(&vgic.lock); /* context_load's isb synchronizes it all */
}

/*
 * CPU_ON, v put: the CPU interface comes up empty (nothing active, masks at
 * reset). What was in its list registers goes back to waiting; a backed
 * interrupt the guest had acknowledged but never ended is let go.
 */
void vgic_vcpu_reset(struct vcpu *v)
{
	struct vgic_cpu *c = &v->vgic;

	spin_lock(&vgic.lock);
	for (u32 used = c->lr_used; used; used &= used - 1) {
		unsigned n = __builtin_ctz(used), intid = (u32)c->lr[n];
		struct virq *q = virq_of(v, intid);
		lr_release(v, n, q);
		if (q->flags & VIRQ_ACTIVE)
			end_active(v, intid, q);
		requeue(v, intid, q);
	}
	for (unsigned intid = 0; c->evicted && intid < vgic.spi_end; intid++) {
		struct virq *q = virq_of(v, intid);
		if (q && (q->flags & VIRQ_EVICTED) && owner_of(v, intid) == v)
			end_active(v, intid, q);
	}
	spin_unlock(&vgic.lock);
	memset(c->ap0r, 0, sizeof(c->ap0r));
	memset(c->ap1r, 0, sizeof(c->ap1r));
	c->vmcr = 0;
	c->hcr = ICH_HCR_EN;
	c->masked = false;
	c->overflow = false;
	__atomic_or_fetch(&v->exit_work, EXIT_WORK_VGIC, __ATOMIC_RELEASE);
}

/*
 * Whether v's private interrupt intid, pending, would end v's WFI: enabled,
 * its group on at v's CPU interface, not active, and above the priority mask
 * and the running priority. Loaded, v's interface is read as it is now; put,
 * as its put left it. A timer whose interrupt cannot end the WFI (a CPU
 * parked inside an interrupt handler, say) must not wake it again and again.
 */
bool vgic_could_wake(const struct vcpu *v, unsigned intid)
{
	const struct vgic_cpu *c = &v->vgic;
	const struct virq *q = &c->priv[intid % VGIC_PRIVATE];
	u64 vmcr = v->loaded ? sysreg_read(ICH_VMCR_EL2) : c->vmcr;
	unsigned limit = ICH_VMCR_VPMR(vmcr), rp = v->loaded ? running_priority() : priority_running(c->ap0r, c->ap1r);

	if (intid >= VGIC_PRIVATE || !(q->flags & VIRQ_ENABLED) || (q->flags & VIRQ_ACTIVE) || !group_enabled(q) ||
	    !(vmcr & (q->flags & VIRQ_GROUP1 ? ICH_VMCR_VENG1 : ICH_VMCR_VENG0)))
		return false;
	return q->priority < (rp < limit ? rp : limit);
}

/* At boot, every vCPU: its private interrupts as at reset. */
void vgic_vcpu_init(struct vcpu *v)
{
	for (unsigned i = 0; i < VGIC_PRIVATE; i++) {
		v->vgic.priv[i].lr = -1;
		v->vgic.priv[i].flags = i < 16 ? VIRQ_EDGE : 0; /* SGIs are edge, PPIs level at reset */
	}
	v->vgic.hcr = ICH_HCR_EN;
}

/* On each pCPU: an empty virtual CPU interface until a vCPU is loaded. */
void vgic_cpu_init(void)
{
	for (unsigned n = 0; n < vgic.lrs; n++)
		lr_write(n, 0);
	sysreg_write(ICH_HCR_EL2, 0);
	isb();
}

/*
 * The guest's interrupts that reach a pCPU with no vCPU loaded (its idle
 * loop): SPIs routed to one of its vCPUs, pending on that vCPU, which wakes.
 * A private one cannot be the guest's here (every vCPU's timers are stopped
 * while it is put) and ends at once.
 */
void vgic_idle_irqs(struct pcpu *cpu)
{
	u32 woken = 0;

	spin_lock(&vgic.lock);
	for (unsigned i = 0; i < 16; i++) {
		unsigned intid = gic_ack_irq();
		struct vcpu *owner;
		if (intid == GIC_SPURIOUS)
			break;
		gic_drop_irq(intid);
		owner = intid >= VGIC_PRIVATE ? owner_of(NULL, intid) : NULL;
		if (!owner) {
			gic_deactivate(intid);
			continue;
		}
		take_for_guest(owner, intid);
		woken |= BIT(owner->id);
	}
	spin_unlock(&vgic.lock);
	for (; woken; woken &= woken - 1)
		notify(vcpu_by_id(__builtin_ctz(woken)));
}

void vgic_init(void)
{
	u64 vtr = sysreg_read(ICH_VTR_EL2);
	unsigned prebits = FIELD(vtr, 28, 26) + 1;

	vgic.lrs = FIELD(vtr, 4, 0) + 1;
	vgic.priority_shift = 8 - prebits;
	vgic.apr_count = prebits <= 5 ? 1 : prebits == 6 ? 2 : 4;
	vgic.spi_end = gic_spi_end();
	/* IROUTER is 0 at reset here, as on QEMU: affinity 0.0.0.0. */
	struct vcpu *first = vcpu_by_mpidr(0);
	for (unsigned i = 0; i < VGIC_INTIDS - VGIC_PRIVATE; i++) {
		vgic.spi[i].lr = -1;
		vgic.spi_target[i] = first ? first->id : NO_TARGET;
	}
}

/* ---- the emulated distributor and redistributors ------------------------------------ */

/* The registers with a field per INTID, in the distributor's and the SGI frame's layout. */
enum irq_reg {
	REG_GROUP,
	REG_SET_ENABLE,
	REG_CLEAR_ENABLE,
	REG_SET_PENDING,
	REG_CLEAR_PENDING,
	REG_SET_ACTIVE,
	REG_CLEAR_ACTIVE,
	REG_PRIORITY, /* 0x400: a byte per INTID */
	REG_CONFIG,   /* 0xc00: two bits per INTID */
	REG_NONE,
};

/* Which register offset off (distributor or SGI frame) is, and its first INTID. */
static enum irq_reg irq_reg_at(u64 off, unsigned *first)
{
	if (off >= 0x080 && off < 0x400) {
		*first = (off & 0x7f) * 8;
		return REG_GROUP + (off - 0x080) / 0x80;
	}
	if (off >= GICD_IPRIORITYR && off < GICD_IPRIORITYR + 1020) {
		*first = off - GICD_IPRIORITYR;
		return REG_PRIORITY;
	}
	if (off >= GICD_ICFGR && off < GICD_ICFGR + 0x100) {
		*first = (off - GICD_ICFGR) * 4;
		return REG_CONFIG;
	}
	return REG_NONE;
}

/* The physical twin of a backed interrupt follows its enable and its route. */
static void mirror_enable(struct vcpu *owner, unsigned intid, const struct virq *q)
{
	if (!is_backed(intid))
		return;
	if (intid < VGIC_PRIVATE)
		phys_enable(owner, intid, q->flags & VIRQ_ENABLED); /* a private one's owner is always known */
	else
		gic_phys_enable(intid, 0, (q->flags & VIRQ_ENABLED) && owner);
}

/*
 * One bit (or field) of an INTID register: read it, or write it. v: the
 * vCPU whose private interrupts a redistributor frame holds, or the accessing
 * one for the distributor. Returns the vCPUs to notify (bit per id). Lock held.
 */
static u32 field_access(struct vcpu *v, enum irq_reg reg, unsigned intid, bool write, u32 *value)
{
	struct virq *q = virq_of(v, intid);
	struct vcpu *owner = owner_of(v, intid);
	u32 notify_mask = owner ? BIT(owner->id) : 0;
	u8 old;

	if (!q)
		return 0;
	if (!write) {
		switch (reg) {
		case REG_GROUP:
			*value = !!(q->flags & VIRQ_GROUP1);
			break;
		case REG_SET_ENABLE:
		case REG_CLEAR_ENABLE:
			*value = !!(q->flags & VIRQ_ENABLED);
			break;
		case REG_SET_PENDING:
		case REG_CLEAR_PENDING:
			*value = (q->flags & VIRQ_PENDING) ||
				 (is_backed(intid) && owner && phys_pending(owner, intid));
			break;
		case REG_SET_ACTIVE:
		case REG_CLEAR_ACTIVE:
			*value = !!(q->flags & VIRQ_ACTIVE);
			break;
		case REG_PRIORITY:
			*value = q->priority;
			break;
		case REG_CONFIG:
			*value = q->flags & VIRQ_EDGE ? 2 : 0;
			break;
		default:
			*value = 0;
		}
		return 0;
	}
	old = q->flags;
	switch (reg) {
	case REG_GROUP:
		q->flags = *value ? q->flags | VIRQ_GROUP1 : q->flags & ~VIRQ_GROUP1;
		break;
	case REG_SET_ENABLE:
		q->flags |= VIRQ_ENABLED;
		mirror_enable(owner, intid, q);
		break;
	case REG_CLEAR_ENABLE:
		q->flags &= ~VIRQ_ENABLED;
		mirror_enable(owner, intid, q);
		if ((q->flags & VIRQ_HW_HELD) && !(q->flags & VIRQ_ACTIVE) && q->lr < 0 && owner)
			release_hw(owner, intid, q);
		break;
	case REG_SET_PENDING:
		/* Virtual, even for a backed interrupt: the physical one's latch
		 * would be gone once EL2 acknowledged it, a level one's with it. */
		q->flags |= VIRQ_PENDING | VIRQ_LATCHED;
		q->pend_gen++;
		break;
	case REG_CLEAR_PENDING:
		if (is_backed(intid) && owner && (intid >= VGIC_PRIVATE || owner->loaded))
			gic_phys_pend(intid, vcpu_pcpu(owner)->id, false);
		q->flags &= ~(VIRQ_PENDING | VIRQ_LATCHED);
		if ((q->flags & VIRQ_HW_HELD) && !(q->flags & VIRQ_ACTIVE) && q->lr < 0 && owner)
			release_hw(owner, intid, q);
		break;
	case REG_SET_ACTIVE:
		q->flags |= VIRQ_ACTIVE;
		break;
	case REG_CLEAR_ACTIVE:
		q->flags &= ~VIRQ_ACTIVE;
		if ((q->flags & VIRQ_HW_HELD) && q->lr < 0 && owner)
			release_hw(owner, intid, q);
		break;
	case REG_PRIORITY:
		q->priority = *value;
		break;
	case REG_CONFIG:
		if (intid < 16)
			break; /* SGIs are always edge */
		q->flags = *value & 2 ? q->flags | VIRQ_EDGE : q->flags & ~VIRQ_EDGE;
		if (is_backed(intid))
			gic_phys_set_edge(intid, q->flags & VIRQ_EDGE);
		break;
	default:
		break;
	}
	if (owner && q->lr < 0 && (q->flags & (VIRQ_PENDING | VIRQ_ACTIVE)))
		queue(owner, intid);
	return q->flags != old || q->lr >= 0 ? notify_mask : 0;
}

/*
 * A 32-bit word of INTID registers at off, with byte lanes `lanes` accessed.
 * first_private: the distributor's words for INTIDs 0-31 are RAZ/WI (they
 * are each redistributor's).
 */
static u32 irq_word_access(struct vcpu *v, u64 off, bool dist, bool write, u32 *word, u32 lanes)
{
	unsigned first, bits, per;
	enum irq_reg reg = irq_reg_at(off, &first);
	u32 result = 0, notify_mask = 0;

	if (reg == REG_NONE || (dist && first < VGIC_PRIVATE) || (!dist && first >= VGIC_PRIVATE)) {
		if (!write)
			*word = 0;
		return 0;
	}
	bits = reg == REG_PRIORITY ? 8 : reg == REG_CONFIG ? 2 : 1;
	per = 32 / bits;
	for (unsigned i = 0; i < per; i++) {
		u32 mask = (bits == 32 ? ~0u : (1u << bits) - 1) << (i * bits);
		u32 field = (*word & mask) >> (i * bits);
		if (!(lanes & mask))
			continue;
		if (write) {
			bool set_clear = reg >= REG_SET_ENABLE && reg <= REG_CLEAR_ACTIVE;
			if (set_clear && !field)
				continue; /* writing 0 there changes nothing */
			notify_mask |= field_access(v, reg, first + i, true, &field);
		} else {
			field_access(v, reg, first + i, false, &field);
			result |= field << (i * bits);
		}
	}
	if (!write)
		*word = result;
	return notify_mask;
}

/* Split an access into the 32-bit words it touches; word_fn does each. */
typedef u32 word_fn(struct vcpu *v, u64 off, bool write, u32 *word, u32 lanes);

static bool reads_state(u64 off, const struct emul_access *acc)
{
	unsigned first;
	enum irq_reg reg = irq_reg_at(off, &first);

	return !acc->write && reg >= REG_SET_PENDING && reg <= REG_CLEAR_ACTIVE;
}

static bool access_by_words(struct vcpu *v, u64 off, struct emul_access *acc, word_fn *fn)
{
	u32 notify_mask = 0;
	u64 result = 0;

	spin_lock(&vgic.lock);
	lr_sync(this_vcpu()); /* what this vCPU's guest acknowledged and ended */
	for (unsigned done = 0; done < acc->width;) {
		u64 o = off + done;
		unsigned shift = (o & 3) * 8, n = 4 - (o & 3);
		if (n > acc->width - done)
			n = acc->width - done;
		u32 lanes = (n == 4 ? ~0u : ((1u << (n * 8)) - 1)) << shift;
		u32 word = acc->write ? (u32)(acc->value >> (done * 8)) << shift : 0;
		notify_mask |= fn(v, o & ~3ull, acc->write, &word, lanes);
		if (!acc->write)
			result |= (u64)((word & lanes) >> shift) << (done * 8);
		done += n;
	}
	spin_unlock(&vgic.lock);
	if (!acc->write)
		acc->value = result;
	for (; notify_mask; notify_mask &= notify_mask - 1)
		notify(vcpu_by_id(__builtin_ctz(notify_mask)));
	return true;
}

/* A 32-bit field of a register of `size` bytes held in `reg`, by byte lanes. */
static void reg_lanes(u64 *reg, u64 off_in_reg, bool write, u32 *word, u32 lanes)
{
	unsigned shift = off_in_reg * 8;

	if (write)
		*reg = (*reg & ~((u64)lanes << shift)) | (u64)(*word & lanes) << shift;
	else
		*word = *reg >> shift;
}

/* IROUTER<n>: the vCPU whose affinity it names (none: the SPI waits), 1-of-N absent. */
static u32 irouter_word(unsigned intid, u64 half, bool write, u32 *word, u32 lanes)
{
	u64 *r = &vgic.irouter[intid - VGIC_PRIVATE];
	struct virq *q = &vgic.spi[intid - VGIC_PRIVATE];
	u8 *target = &vgic.spi_target[intid - VGIC_PRIVATE];
	struct vcpu *t, *old;

	reg_lanes(r, half, write, word, lanes);
	if (!write)
		return 0;
	*r &= MPIDR_AFF_MASK; /* IRM is RES0 with GICD_TYPER.No1N */
	old = *target == NO_TARGET ? NULL : vcpu_by_id(*target);
	t = vcpu_by_mpidr(*r);
	*target = t ? t->id : NO_TARGET;
	if (old && q->lr < 0)
		dequeue(old, intid);
	if (t) {
		gic_phys_route(intid, vcpu_pcpu(t)->mpidr);
		if (q->lr < 0 && (q->flags & (VIRQ_PENDING | VIRQ_ACTIVE)))
			queue(t, intid);
	}
	mirror_enable(t, intid, q);
	return (old ? BIT(old->id) : 0) | (t ? BIT(t->id) : 0);
}

static u32 dist_word(struct vcpu *v, u64 off, bool write, u32 *word, u32 lanes)
{
	if (off >= GICD_IROUTER + 8 * VGIC_PRIVATE && off < GICD_IROUTER + 8 * 1020) {
		unsigned intid = (off - GICD_IROUTER) / 8;
		if (intid < vgic.spi_end)
			return irouter_word(intid, off & 4, write, word, lanes);
	} else if (off == GICD_CTLR) {
		u64 ctlr = vgic.ctlr;
		if (!write) {
			*word = vgic.ctlr | GICD_CTLR_ARE | GICD_CTLR_DS;
			return 0;
		}
		reg_lanes(&ctlr, 0, true, word, lanes);
		vgic.ctlr = ctlr & GICD_CTLR_GROUPS;
		return (u32)BIT(vcpu_count) - 1; /* what may be delivered changed for everyone */
	} else if (off == GICD_TYPER) {
		if (!write)
			*word = (gic_dist_reg(GICD_TYPER) & GICD_TYPER_KEPT) | GICD_TYPER_NO1N;
		return 0;
	} else if (off == GICD_IIDR || off >= GIC_ID_REGS) {
		if (!write)
			*word = gic_dist_reg(off);
		return 0;
	} else if (irq_reg_at(off, &(unsigned){ 0 }) != REG_NONE) {
		return irq_word_access(v, off, true, write, word, lanes);
	}
	if (!write)
		*word = 0; /* everything else reads as zero and ignores writes */
	return 0;
}

/* v: the vCPU whose redistributor it is. */
static u32 redist_word(struct vcpu *r, u64 off, bool write, u32 *word, u32 lanes)
{

	if (off >= GICR_SGI_FRAME) {
		off -= GICR_SGI_FRAME;
		if (off == GICR_ICFGR0) { /* SGIs: edge, read-only */
			if (!write)
				*word = 0xaaaaaaaa;
			return 0;
		}
		if (off == GICR_IGROUPR0 || (off > GICR_IGROUPR0 && off < 0x400 && (off & 0x7f) == 0) ||
		    (off >= GICR_IPRIORITYR && off < GICR_IPRIORITYR + 32) || off == GICR_ICFGR1)
			return irq_word_access(r, off, false, write, word, lanes);
	} else if (off == GICR_TYPER || off == GICR_TYPER + 4) {
		u64 aff = r->vmpidr, typer = (FIELD(aff, 39, 32) << 24 | FIELD(aff, 23, 16) << 16 |
					      FIELD(aff, 15, 8) << 8 | FIELD(aff, 7, 0)) << 32 |
					     (u64)r->id << 8 | (r->id == vcpu_count - 1 ? GICR_TYPER_LAST : 0);
		if (!write)
			*word = typer >> (off - GICR_TYPER) * 8;
		return 0;
	} else if (off == GICR_WAKER) {
		if (write && (lanes & 0xff))
			r->vgic.processor_sleep = *word & GICR_WAKER_PROCESSOR_SLEEP;
		else if (!write)
			*word = r->vgic.processor_sleep ? GICR_WAKER_PROCESSOR_SLEEP | GICR_WAKER_CHILDREN_ASLEEP : 0;
		return 0;
	} else if (off == GICR_IIDR || off >= GIC_ID_REGS) {
		if (!write)
			*word = gic_redist_reg(0, off);
		return 0;
	}
	/* GICR_CTLR (no LPIs: EnableLPIs is 0), STATUSR, PWRR, PROPBASER,
	 * PENDBASER and the rest: zero, writes ignored. */
	if (!write)
		*word = 0;
	return 0;
}

bool vgicd_access(const struct mmio_region *r, struct emul_access *acc)
{
	struct vcpu *self = this_vcpu();

	if (reads_state(acc->addr - r->base, acc))
		sync_others(self);
	return access_by_words(self, acc->addr - r->base, acc, dist_word);
}

/* One redistributor per vCPU, two frames each; past the last, nothing answers. */
bool vgicr_access(const struct mmio_region *r, struct emul_access *acc)
{
	unsigned n = (acc->addr - r->base) / GICR_STRIDE;

	u64 off = (acc->addr - r->base) % GICR_STRIDE;

	if (n >= vcpu_count)
		return false;
	if (off >= GICR_SGI_FRAME && reads_state(off - GICR_SGI_FRAME, acc) && vcpu_by_id(n) != this_vcpu())
		sync_others(this_vcpu());
	return access_by_words(vcpu_by_id(n), off, acc, redist_word);
}

/* ---- monitor hv irq ------------------------------------------------------------------ */

static void print_state(const struct text_sink *out, unsigned intid, const struct virq *q)
{
	sink_printf(out, " %u(prio %#x%s%s%s%s)", intid, q->priority, q->flags & VIRQ_PENDING ? " pending" : "",
		    q->flags & VIRQ_ACTIVE ? " active" : "", q->flags & VIRQ_ENABLED ? "" : " disabled",
		    q->flags & VIRQ_HW_HELD ? " hw" : "");
}

void vgic_print(const struct text_sink *out)
{
	static const char *const lr_states[] = { "invalid", "pending", "active", "pending+active" };

	sink_printf(out, "virtual GIC: %u list registers, distributor groups %s%s\n", vgic.lrs,
		    vgic.ctlr & 1 ? "0" : "", vgic.ctlr & 2 ? (vgic.ctlr & 1 ? ",1" : "1") : (vgic.ctlr & 1 ? "" : "off"));
	for (unsigned i = 0; i < vcpu_count; i++) {
		struct vcpu *v = vcpu_by_id(i);
		struct vgic_cpu *c = &v->vgic;
		bool any = false;

		sink_printf(out, "vCPU %u: %lu delivered%s\n", i, c->delivered,
			    v->state == VCPU_OFF ? " (off)" : "");
		spin_lock(&vgic.lock);
		if (v == this_vcpu())
			lr_sync(v);
		for (unsigned n = 0; n < vgic.lrs; n++) {
			u64 lr = c->lr[n];
			if (!(c->lr_used & BIT(n)))
				continue;
			sink_printf(out, "  LR%u: INTID %u %s prio %#x group %u%s\n", n, (u32)lr,
				    lr_states[lr >> 62], (unsigned)FIELD(lr, 55, 48), (unsigned)FIELD(lr, 60, 60),
				    lr & LR_HW ? " hw" : "");
		}
		sink_printf(out, "  waiting:");
		for (unsigned w = 0; w < VGIC_INTIDS / 32; w++)
			for (u32 bits = c->queued[w]; bits; bits &= bits - 1) {
				unsigned intid = 32 * w + __builtin_ctz(bits);
				if (virq_of(v, intid)) {
					print_state(out, intid, virq_of(v, intid));
					any = true;
				}
			}
		spin_unlock(&vgic.lock);
		sink_printf(out, "%s\n", any ? "" : " none");
	}
}
