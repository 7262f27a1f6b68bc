/*
 * The one accessor family for system registers. Registers the assembler does not
 * name are spelled by encoding (S3_4_C1_C2_0), through the same macros.
 * Host unit tests compile the same code against a fake register file.
 */
#ifndef ARCH_SYSREG_H
#define ARCH_SYSREG_H

#include "trapvisor/types.h"

#ifndef HOST_TEST
#define sysreg_read(reg)                                              \
	({                                                            \
		u64 sysreg_v_;                                        \
		asm volatile("mrs %0, " #reg : "=r"(sysreg_v_));      \
		sysreg_v_;                                            \
	})
#define sysreg_write(reg, val) asm volatile("msr " #reg ", %0" ::"r"((u64)(val)) : "memory")
#define isb() asm volatile("isb" ::: "memory")
#define dsb(opt) asm volatile("dsb " #opt ::: "memory")
#define sev() asm volatile("sev" ::: "memory")
#define wfe() asm volatile("wfe" ::: "memory")
#define wfi() asm volatile("wfi" ::: "memory")
/* WFIT Xt (FEAT_WFxT), spelled by encoding for assemblers without it: 0xd5031020 | Rt. */
#define wfit(cntvct_deadline)                                                          \
	do {                                                                           \
		register u64 wfit_x0_ asm("x0") = (cntvct_deadline);                   \
		asm volatile(".inst 0xd5031020" ::"r"(wfit_x0_) : "memory");          \
	} while (0)
#else
u64 host_sysreg_read(const char *name);
void host_sysreg_write(const char *name, u64 val);
#define sysreg_read(reg) host_sysreg_read(#reg)
#define sysreg_write(reg, val) host_sysreg_write(#reg, (u64)(val))
#define isb() ((void)0)
#define dsb(opt) ((void)0)
#define sev() ((void)0)
#define wfe() ((void)0)
#define wfi() ((void)0)
#define wfit(cntvct_deadline) ((void)(cntvct_deadline))
#endif

/* ---- HCR_EL2 (D19.2.48) ---- */
#define HCR_VM BIT(0)
#define HCR_SWIO BIT(1)
#define HCR_FMO BIT(3)
#define HCR_IMO BIT(4)
#define HCR_AMO BIT(5)
#define HCR_FB BIT(9)
#define HCR_BSU_IS (1ULL << 10)
#define HCR_TWI BIT(13)
#define HCR_TWE BIT(14)
#define HCR_TID0 BIT(15)
#define HCR_TID1 BIT(16)
#define HCR_TID2 BIT(17)
#define HCR_TID3 BIT(18)
#define HCR_TSC BIT(19)
#define HCR_TIDCP BIT(20)
#define HCR_TACR BIT(21)
#define HCR_TSW BIT(22)
#define HCR_TPCP BIT(23)
#define HCR_TPU BIT(24)
#define HCR_TTLB BIT(25)
#define HCR_TVM BIT(26)
#define HCR_TGE BIT(27)
#define HCR_TRVM BIT(30)
#define HCR_RW BIT(31)
#define HCR_E2H BIT(34)
#define HCR_APK BIT(40)
#define HCR_API BIT(41)
#define HCR_ENSCXT BIT(53) /* SCXTNUM_EL0/EL1 not trapped */

/* ---- MDCR_EL2 (D19.2.80) ---- */
#define MDCR_HPMN_MASK 0x1fULL
#define MDCR_TPMCR BIT(5)
#define MDCR_TPM BIT(6)
#define MDCR_TDE BIT(8)
#define MDCR_TDA BIT(9)
#define MDCR_TDOSA BIT(10)
#define MDCR_TDRA BIT(11)

/* ---- CPTR_EL2 with HCR_EL2.E2H == 0 (D19.2.31) ---- */
#define CPTR_RES1 (0xffULL | BIT(9) | BIT(13))
#define CPTR_TZ BIT(8)
#define CPTR_TFP BIT(10)
#define CPTR_TSM BIT(12)

/* ---- CNTHCTL_EL2 with E2H == 0: EL1 may use the physical counter and timer ---- */
#define CNTHCTL_EL1PCTEN BIT(0)
#define CNTHCTL_EL1PCEN BIT(1)

/* ---- SCTLR_EL2 / SCTLR_EL1 ---- */
#define SCTLR_M BIT(0)
#define SCTLR_A BIT(1)
#define SCTLR_C BIT(2)
#define SCTLR_SA BIT(3)
#define SCTLR_I BIT(12)
#define SCTLR_EL2_RES1 (BIT(4) | BIT(5) | BIT(11) | BIT(16) | BIT(18) | BIT(22) | BIT(23) | BIT(28) | BIT(29))
#define SCTLR_EL1_RES1 (BIT(11) | BIT(20) | BIT(22) | BIT(23) | BIT(28) | BIT(29))

/* ---- SPSR_EL2: the mode a guest enters in ---- */
#define SPSR_MODE_EL1H 0x5ULL
#define SPSR_DAIF (0xfULL << 6)

/* ---- VTCR_EL2 (D19.2.167) ---- */
#define VTCR_RES1 BIT(31)

/* ---- MPIDR affinity fields ---- */
#define MPIDR_AFF_MASK 0xff00ffffffUL
#define MPIDR_AFF1_SHIFT 8 /* MPIDR_EL1.Aff1 [15:8] */

/* ---- ID_AA64PFR1_EL1.SME [27:24], ID_AA64PFR0_EL1.SVE [35:32] ---- */
#define ID_PFR0_SVE(v) FIELD(v, 35, 32)
#define ID_PFR1_SME(v) FIELD(v, 27, 24)

#endif
