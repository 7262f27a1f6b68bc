/*
 * The physical GICv3, which is the hypervisor's alone (HCR_EL2.IMO = FMO = 1).
 * Its own interrupts are Group 0, signalled as FIQ at priority 0: the SGI that
 * stops or wakes a pCPU, the EL2 timer and the debug line. Every other
 * interrupt is Group 1, signalled as IRQ at one lower priority, and backs the
 * guest's interrupt of the same INTID in the virtual GIC (vgic.h). Priority
 * drop and deactivation are split (ICC_CTLR_EL1.EOImode = 1): a guest's
 * interrupt is dropped at EL2 and deactivated by the guest's virtual EOI.
 */
#ifndef HV_GIC_H
#define HV_GIC_H

#include "trapvisor/types.h"
#include "arch/sysreg.h"

#define GIC_SGI_KICK 15		 /* "look at your state": stop, resume, a vCPU woken or started, a vGIC change */
#define GIC_PPI_MAINTENANCE 25	 /* the virtual CPU interface's maintenance interrupt */
#define GIC_PPI_HV_TIMER 26	 /* CNTHP, the EL2 physical timer */
#define GIC_SPURIOUS 1023
/*
 * Every interrupt that backs a guest's has this physical priority, and
 * masking it (ICC_PMR_EL1) holds them all off while the hypervisor's own get
 * through: the debugger's waits and steps rely on that. The guest's own
 * priorities are virtual (the list registers'), so none of them can keep the
 * hypervisor's interrupts out.
 */
#define GIC_GUEST_PRIORITY 0x80

void gic_init(void);			 /* once, on the primary */
/* Make a shared peripheral interrupt the hypervisor's, delivered to mpidr. */
void gic_take_spi(unsigned intid, u64 mpidr);
void gic_cpu_init(unsigned cpu);	 /* on each pCPU */
unsigned gic_ack_fiq(void);		 /* ICC_IAR0_EL1 */
void gic_eoi_fiq(unsigned intid);	 /* ICC_EOIR0_EL1 and ICC_DIR_EL1 */

/* The guest's interrupts at EL2 (inline: once per interrupt, docs/performance.md). */
static inline unsigned gic_ack_irq(void) /* ICC_IAR1_EL1 */
{
	unsigned intid = sysreg_read(S3_0_C12_C12_0) & 0xffffff;

	dsb(sy);
	return intid;
}

static inline void gic_drop_irq(unsigned intid) /* ICC_EOIR1_EL1: priority drop only */
{
	sysreg_write(S3_0_C12_C12_1, intid);
	isb();
}

static inline void gic_deactivate(unsigned intid) /* ICC_DIR_EL1 */
{
	sysreg_write(S3_0_C12_C11_1, intid);
	isb();
}

void gic_send_kick_to_others(void);	 /* SGI 15 to every other pCPU */
void gic_send_sgi(u64 mpidr, unsigned intid); /* a Group 0 SGI to one pCPU */
u64 gic_sgir_for(u64 mpidr, unsigned intid);   /* its ICC_SGI0R_EL1 value */
struct pcpu;
void gic_kick(struct pcpu *cpu);		 /* GIC_SGI_KICK to cpu (its kick_sgir) */
void gic_wait_for_fiq(void);		 /* WFI, then acknowledge what woke it */
/* Hold the guest's interrupts off this pCPU while stepping: the physical ones
 * that back them (priority mask) and the virtual ones (ICH_HCR_EL2.En). */
void gic_mask_guest_interrupts(bool masked);

/* The hypervisor's own INTIDs, which back nothing of the guest's. */
#define GIC_HV_PRIVATE (BIT(GIC_SGI_KICK) | BIT(GIC_PPI_MAINTENANCE) | BIT(GIC_PPI_HV_TIMER))
extern unsigned gic_hv_spi; /* the debug line's INTx, 0 if none */
static inline bool gic_is_hypervisors(unsigned intid)
{
	return intid < 32 ? (GIC_HV_PRIVATE >> intid) & 1 : intid == gic_hv_spi;
}
unsigned gic_spi_end(void);		 /* one past the last SPI the distributor has */
u32 gic_dist_reg(u64 off);		 /* a read of an identification register */
u32 gic_redist_reg(unsigned cpu, u64 off);

/*
 * The physical twin of a guest interrupt. cpu: the pCPU whose redistributor
 * holds a PPI (ignored for an SPI).
 */
void gic_phys_enable(unsigned intid, unsigned cpu, bool on);
void gic_phys_pend(unsigned intid, unsigned cpu, bool on);
bool gic_phys_pending(unsigned intid, unsigned cpu);
void gic_phys_deactivate(unsigned intid, unsigned cpu);
void gic_phys_set_edge(unsigned intid, bool edge);
void gic_phys_route(unsigned intid, u64 mpidr);
/*
 * A vCPU's private interrupts in mask at its put and load (vgic.c): the
 * active ones taken off the redistributor (returned), and given back with the
 * enables.
 */
u32 gic_ppis_take_active(unsigned cpu, u32 mask);
void gic_ppis_load(unsigned cpu, u32 mask, u32 enabled, u32 active);

#endif
