/* The small library every test guest is built on: console, checks, SMCCC, faults. */
#ifndef GUEST_H
#define GUEST_H

#include "trapvisor/types.h"
#include "lib.h"

#define UART_BASE 0x09000000ul
#define GICD_BASE 0x08000000ul
#define GICR_BASE 0x080a0000ul

#define read_sysreg(r) ({ u64 v_; asm volatile("mrs %0, " #r : "=r"(v_)); v_; })
#define write_sysreg(r, v) asm volatile("msr " #r ", %0" ::"r"((u64)(v)) : "memory")
#define isb() asm volatile("isb" ::: "memory")
#define barrier() asm volatile("" ::: "memory")

void gprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void check(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void skip(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
#define check_eq(a, b, name)                                                                     \
	do {                                                                                     \
		u64 a_ = (u64)(a), b_ = (u64)(b);                                                \
		check(a_ == b_, "%s (got %#lx, want %#lx)", name, a_, b_);                       \
	} while (0)
void __attribute__((noreturn)) guest_exit(void);
unsigned guest_failures(void);
unsigned cpu_index(void);

u64 smc_call(u64 fid, u64 a1, u64 a2, u64 a3);
u64 hvc_call(u64 fid, u64 a1, u64 a2, u64 a3);
/*
 * PSCI through the conduit the device tree's /psci method names: SMC until a
 * guest calls psci_conduit_from_dt (trapvisor answers both; QEMU's own
 * firmware, with no EL2 at all, answers only HVC, and an SMC is UNDEFINED
 * there). guest_exit and psci_cpu_off use it.
 */
bool psci_conduit_from_dt(u64 dtb); /* false: no /psci method; SMC stays */
bool psci_conduit_is_hvc(void);
u64 psci_call(u64 fid, u64 a1, u64 a2, u64 a3);
void __attribute__((noreturn)) psci_cpu_off(void);
void secondary_entry(void);

/*
 * Faults a test provokes on purpose: arm the expectation, do the access; the
 * vector records the syndrome and skips the instruction.
 */
struct fault_record {
	volatile bool armed, taken;
	volatile u64 esr, far, elr;
	volatile unsigned kind;
};
extern struct fault_record faults[8];
void fault_expect(void);
bool fault_taken(void); /* and disarms */
bool probe_read(u64 addr, unsigned width, u64 *value);
bool probe_write(u64 addr, unsigned width, u64 value);
#define ESR_EC_OF(esr) (((esr) >> 26) & 0x3f)

/* Wake-up source for WFI tests: the EL1 virtual timer, PPI 27, through the GIC. */
#define TIMER_PPI 27
void gic_init_cpu(void);
void timer_arm_ticks(u64 ticks);
void timer_disarm(void);
/* This vCPU's priority byte of SGI/PPI intid (its redistributor). */
volatile u8 *gic_ppi_priority(unsigned intid);
/* Set: IRQs (once PSTATE.I is clear) go here instead of failing the test. */
extern void (*volatile guest_irq_handler)(void);

/* The device tree the guest was given (fdt.c): properties by node path. */
u32 fdt_be32(const void *p);
bool fdt_valid(u64 dtb);
const void *fdt_prop(u64 dtb, const char *path, const char *name, u32 *len);
/* Every property, with its node's path, until fn returns true (then true). */
typedef bool (*fdt_prop_fn)(const char *path, const char *name, const u8 *val, u32 len, void *ctx);
bool fdt_walk(u64 dtb, fdt_prop_fn fn, void *ctx);
bool fdt_prop_u64(u64 dtb, const char *path, const char *name, u64 *out);
unsigned fdt_cpu_regs(u64 dtb, u64 *regs, unsigned max);
/* MPIDR_EL1's affinity: Aff3 [39:32], Aff2..Aff0 [23:0]. */
#define MPIDR_AFF_MASK 0xff00fffffful
unsigned fdt_cpus_self_first(u64 dtb, u64 *mpidr, unsigned max, bool *found);

/* Stage 1 (mmu.c): the first 4 GiB identity-mapped, aliases at MMU_ALIAS_BASE. */
#define MMU_ALIAS_BASE 0x1000000000ul
void mmu_enable(void);
bool mmu_alias(u64 va, u64 pa);
/* For a guest's own tables: table's first four entries the first 4 GiB
 * identity-mapped, as mmu.c's (device, then normal memory); and this vCPU's
 * stage 1 on from table (TTBR0_EL1, ASID 0), its TLB and I-cache cleaned. */
void mmu_identity_4g(u64 *table);
void mmu_enable_tables(const u64 *table);
/* The stage-1 format every guest with its MMU on uses (mmu.c, sched.c,
 * sched_target.c). MAIR_EL1: attribute 0 Device-nGnRE, attribute 1 Normal
 * write-back (D19.2.97). Descriptor bits (D8.3): valid + block/table/page,
 * AF, inner shareable, no execute. TCR_EL1: T0SZ 25 (39 bits), walks
 * cacheable and inner shareable, TG0 4 KiB, no TTBR1 walks (EPD1), IPS 40 bits. */
#define MAIR_VALUE 0xff04ul
#define ATTR_DEVICE (0ul << 2)
#define ATTR_NORMAL (1ul << 2)
#define DESC_BLOCK 0x1ul
#define DESC_TABLE 0x3ul
#define DESC_PAGE 0x3ul
#define DESC_AF BIT(10)
#define DESC_SH_INNER (3ul << 8)
#define DESC_PXN BIT(53)
#define DESC_UXN BIT(54)
#define TCR_VALUE (25ul | 1ul << 8 | 1ul << 10 | 3ul << 12 | BIT(23) | 2ul << 32)
#define SCTLR_M BIT(0)
#define SCTLR_C BIT(2)
#define SCTLR_I BIT(12)

#endif
