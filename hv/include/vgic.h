/*
 * The guest's GICv3: a virtual distributor and one virtual redistributor per
 * vCPU, emulated, and each vCPU's virtual CPU interface fed through the list
 * registers (hv/arch/aarch64/vgic.c; docs/architecture.md, Interrupts).
 */
#ifndef HV_VGIC_H
#define HV_VGIC_H

#include "trapvisor/types.h"

#define VGIC_MAX_LRS 16	 /* ICH_VTR_EL2.ListRegs allows up to 16 */
#define VGIC_PRIVATE 32	 /* SGIs 0-15 and PPIs 16-31, one set per vCPU */
#define VGIC_INTIDS 1024 /* SPIs end at 1019; 1020-1023 are special */

/* One interrupt as the guest's GIC holds it (flags: VIRQ_* in vgic.c). */
struct virq {
	u8 priority;
	u8 flags;
	signed char lr; /* the list register it is in, on its vCPU's pCPU; -1 if none */
	u8 pend_gen; /* bumped on each set-pending, so an acknowledge seen later does not lose it */
};

/*
 * A vCPU's share of the virtual GIC: its private interrupts, the interrupts
 * waiting for a list register, and its virtual CPU interface (what was last
 * written to the list registers, and the rest as saved by vgic_cpu_put()).
 */
struct vgic_cpu {
	struct virq priv[VGIC_PRIVATE];
	u32 queued[VGIC_INTIDS / 32]; /* INTIDs pending or active for it, in no list register */
	u32 queued_words;	      /* bit w: queued[w] is not 0 */
	u64 lr[VGIC_MAX_LRS];
	u8 lr_gen[VGIC_MAX_LRS];      /* pend_gen of the interrupt when its LR was written */
	u16 lr_used;
	bool overflow;		      /* more to deliver than list registers: UIE is set */
	u16 evicted;		      /* active interrupts in no list register (VIRQ_EVICTED) */
	volatile u32 sync_req, sync_ack; /* another vCPU wants its list registers read back */
	bool masked;		      /* a debugger step: no virtual interrupt is signalled */
	bool processor_sleep;	      /* GICR_WAKER.ProcessorSleep as the guest wrote it */
	u64 vmcr, hcr;
	u32 ap0r[4], ap1r[4];
	u64 delivered;		      /* interrupts put in a list register since boot */
};

struct vcpu;
struct trap_frame;
struct text_sink;
struct mmio_region;
struct emul_access;

void vgic_init(void);			/* once, after the platform and the vCPUs are known */
void vgic_cpu_init(void);		/* on each pCPU: its virtual CPU interface, empty */
void vgic_vcpu_init(struct vcpu *v);	/* at boot, every vCPU */
void vgic_vcpu_reset(struct vcpu *v);	/* CPU_ON: an empty virtual CPU interface */
/* Physical interrupts for the guest, taken at EL2 (HCR_EL2.IMO). */
void trap_lower_irq(struct trap_frame *f);
/* Bring this vCPU's list registers up to date (EXIT_WORK_VGIC), recording deliveries. */
void vgic_update(struct vcpu *v, struct trap_frame *f);
/* A trapped WFI: whether an interrupt would wake it now. */
bool vgic_wfi_should_wake(struct vcpu *v);
/* The same, and if none would, v's interface put (v->loaded false) for the
 * block that follows: vgic_cpu_load() gives it back if the block is refused. */
bool vgic_wfi_put_unless_woken(struct vcpu *v);
/* A trapped ICC_SGI0R/SGI1R/ASGI1R_EL1 write (group1: not SGI0R). */
void vgic_send_sgi(struct vcpu *from, u64 value, bool group1);
/* A trapped ICC_DIR_EL1 write (ICH_HCR_EL2.TDIR). */
void vgic_dir(struct vcpu *v, unsigned intid);
bool vgicd_access(const struct mmio_region *r, struct emul_access *acc);
bool vgicr_access(const struct mmio_region *r, struct emul_access *acc);
/* monitor hv irq */
void vgic_print(const struct text_sink *out);

#endif
