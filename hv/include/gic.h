/*
 * The hypervisor's share of the GICv3. The guest owns Group 1 (its interrupts,
 * at native speed); the hypervisor owns Group 0, signalled as FIQ and routed to
 * EL2 (HCR_EL2.FMO): its timer and the SGI that stops every vCPU. The guest's
 * distributor and redistributor SGI frames are trapped so it cannot take those
 * two interrupts away (docs/architecture.md, Interrupts).
 */
#ifndef HV_GIC_H
#define HV_GIC_H

#include "trapvisor/types.h"

#define GIC_SGI_KICK 15	  /* "look at your state": stop, resume, a remote call, CPU_ON */
#define GIC_PPI_HV_TIMER 26 /* CNTHP, the EL2 physical timer */
#define GIC_SPURIOUS 1023

void gic_init(void);			 /* once, on the primary */
/* Make a shared peripheral interrupt the hypervisor's, delivered to mpidr. */
void gic_take_spi(unsigned intid, u64 mpidr);
void gic_cpu_init(unsigned cpu);	 /* on each pCPU */
unsigned gic_ack_fiq(void);		 /* ICC_IAR0_EL1 */
void gic_eoi_fiq(unsigned intid);	 /* ICC_EOIR0_EL1 */
void gic_send_kick_to_others(void);	 /* SGI 15 to every other pCPU */
void gic_send_sgi(u64 mpidr, unsigned intid); /* a Group 0 SGI to one pCPU */
void gic_wait_for_fiq(void);		 /* WFI, then acknowledge what woke it */
void gic_route_spi(unsigned intid, u64 mpidr); /* move the hypervisor's SPI */
/* Hold the guest's interrupts off this pCPU (physical priority mask) while stepping. */
void gic_mask_guest_interrupts(bool masked);

/* MMIO regions for the trapped GIC frames (mmio.c registers them). */
struct mmio_region;
struct emul_access;
bool gicd_access(const struct mmio_region *r, struct emul_access *acc);
bool gicr_access(const struct mmio_region *r, struct emul_access *acc);

#endif
