/*
 * The one table of system registers, described by encoding. It feeds the trap
 * emulation, the names in trap events, and (with the GDB stub) the target
 * description and the reg=NAME catchpoint filter. No other list of names exists.
 */
#ifndef HV_SYSREG_H
#define HV_SYSREG_H

#include "trapvisor/types.h"
#include "trapvisor/esr.h"

enum sysreg_kind {
	SR_RW,	    /* forwarded to the hardware register, which is the guest's */
	SR_RO,	    /* forwarded read; a write is UNDEFINED */
	SR_WO,	    /* forwarded write; a read is UNDEFINED */
	SR_ID,	    /* identification: a read returns the virtual value */
	SR_MIDR,    /* never trapped: the guest reads VPIDR_EL2 */
	SR_MPIDR,   /* never trapped: the guest reads VMPIDR_EL2 */
	SR_SYS,	    /* SYS instruction (TLBI, DC by set/way, IC ...): re-executed at EL2 */
	SR_DC_VA,   /* data cache maintenance by guest VA: translated, done on the PA */
	SR_IC_VA,   /* instruction cache invalidate by guest VA */
	SR_DBG_BRP, /* DBGB[CV]R<n>: exists only for n < number of breakpoints */
	SR_DBG_WRP, /* DBGW[CV]R<n>: exists only for n < number of watchpoints */
	SR_PMU_CTR, /* PMEV{CNTR,TYPER}<n>: exists only for n < PMCR_EL0.N */
	SR_SGI,	    /* ICC_SGI*R_EL1: trapped by IMO/FMO, pending virtual SGIs (vgic.c) */
	SR_VDIR,    /* ICC_DIR_EL1: trapped while ICH_HCR_EL2.TDIR is set (vgic.c) */
};

struct sysreg_desc {
	const char *name;
	u32 enc;  /* SYSREG_ENC(op0, op1, CRn, CRm, op2) */
	u8 cls;	  /* enum trap_class */
	u8 kind;  /* enum sysreg_kind */
	u64 (*hw_read)(void);
	void (*hw_write)(u64 v);
};

extern const struct sysreg_desc sysreg_table[];
extern const unsigned sysreg_count;

const struct sysreg_desc *sysreg_find(u32 enc);
const struct sysreg_desc *sysreg_find_name(const char *name, size_t len);
/* "SCTLR_EL1", or "S3_0_C1_C0_0" for an encoding the table does not know. */
const char *sysreg_name(u32 enc, char *buf, size_t size);

/* The trap class of an access to enc, whose descriptor is d (or NULL). */
unsigned sysreg_class_of(const struct sysreg_desc *d, u32 enc);

/* Virtual values for ID registers (TID1/2/3). */
bool sysreg_set_virtual(const struct sysreg_desc *d, u64 value);
void sysreg_reset_virtual(const struct sysreg_desc *d);
bool sysreg_get_virtual(const struct sysreg_desc *d, u64 *value);

/* The value the guest reads from d (virtual identity and ID values included). */
struct vcpu;
u64 sysreg_guest_value(const struct vcpu *v, const struct sysreg_desc *d);

/* Emulate one trapped access to d (NULL if the table has no such register);
 * returns the event outcome. */
struct vcpu;
struct trap_frame;
unsigned sysreg_emulate(struct vcpu *v, struct trap_frame *f, const struct sysreg_desc *d,
			struct emul_access *acc);

#endif
