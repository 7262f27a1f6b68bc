/*
 * Boot: the primary pCPU learns the machine from the device tree, builds the
 * maps, prepares the guest and starts the other pCPUs through the firmware;
 * every pCPU then sets up its own EL2 state and runs its vCPU.
 */
#include "hv.h"
#include "sched.h"
#include "lib.h"
#include "console.h"
#include "platform.h"
#include "mm.h"
#include "sysreg.h"
#include "gic.h"
#include "debug.h"
#include "mmio.h"
#include "arch/sysreg.h"

struct pcpu pcpus[MAX_CPUS];
unsigned pcpu_count;
struct vcpu_slot vcpu_slots[MAX_VCPUS];
unsigned vcpu_count;
struct guest_config guest;

/* Each pCPU's stack from boot, its idle loop's later. */
static u8 pcpu_stacks[MAX_CPUS][PCPU_STACK_SIZE] __attribute__((aligned(16)));

/* Filled at link time so boot.S finds each pCPU's area and stack top without arithmetic. */
struct pcpu *const pcpu_ptrs[MAX_CPUS] = {
	&pcpus[0], &pcpus[1], &pcpus[2], &pcpus[3], &pcpus[4], &pcpus[5], &pcpus[6], &pcpus[7],
};
#define STACK_TOP(i) (pcpu_stacks[i] + PCPU_STACK_SIZE)
u8 *const pcpu_stack_tops[MAX_CPUS] = {
	STACK_TOP(0), STACK_TOP(1), STACK_TOP(2), STACK_TOP(3), STACK_TOP(4), STACK_TOP(5), STACK_TOP(6), STACK_TOP(7),
};
_Static_assert(MAX_CPUS == 8, "pcpu_ptrs lists every pCPU");

extern char __hv_slice_end[];
extern u32 bootargs_trap_classes;
void bootargs_parse(const char *args);
void bootargs_apply(void);
void secondary_entry(void);
/* trapvisor.vcpus= (bootargs.c): the guest's CPUs, 0 for one per pCPU. */
extern unsigned bootargs_vcpus;

#define PSCI_CPU_ON_64 0xc4000003
#define ARM64_IMAGE_MAGIC 0x644d5241 /* "ARM\x64" at offset 56 of an Image */
#define ZCR_LEN_MAX 0xf
#define SMCR_FA64 BIT(31)

/* EL2 state every pCPU needs before it can run anything (MMU on, no FP traps). */
static void el2_early_init(void)
{
	sysreg_write(cptr_el2, CPTR_RES1);
	sysreg_write(hcr_el2, HCR_RW);
	isb();
	mmu_enable();
}

static void cpu_setup_for_guest(struct pcpu *cpu)
{
	u64 pfr0 = sysreg_read(id_aa64pfr0_el1), pfr1 = sysreg_read(id_aa64pfr1_el1);

	/* HPMN = PMCR_EL0.N: every event counter is the guest's. */
	cpu->mdcr_base = FIELD(sysreg_read(pmcr_el0), 15, 11);
	sysreg_write(cnthctl_el2, CNTHCTL_EL1PCTEN | CNTHCTL_EL1PCEN);
	sysreg_write(cntvoff_el2, guest.cntvoff);
	sysreg_write(hstr_el2, 0);
	/* Let the guest use the longest SVE/SME vectors the CPU has. */
	if (ID_PFR0_SVE(pfr0))
		sysreg_write(S3_4_C1_C2_0, ZCR_LEN_MAX); /* ZCR_EL2 */
	if (ID_PFR1_SME(pfr1))
		sysreg_write(S3_4_C1_C2_6, SMCR_FA64 | ZCR_LEN_MAX); /* SMCR_EL2 */
	/* While vCPUs share pCPUs the PMU is not the guest's and its registers
	 * trap (MDCR_EL2.TPM) to an UNDEFINED: at EL0 too, once PMUSERENR_EL0
	 * lets EL0 reach them, since its EN clear would trap them to EL1 before
	 * TPM is looked at. (EN alone: with all four bits set QEMU 7.2 lets an
	 * EL0 read of PMCCNTR_EL0 through.) The guest cannot change it: its
	 * writes trap too. */
	if (sched_shared)
		sysreg_write(pmuserenr_el0, 1);
	stage2_enable_on_this_cpu();
	gic_cpu_init(cpu->id);
	vgic_cpu_init();
}

static bool guest_prepare(void)
{
	const u32 *image = (const u32 *)guest.image;

	guest.ram_base = (u64)__hv_slice_end;
	guest.ram_end = plat.ram_base + plat.ram_size;
	guest.dtb = guest.ram_base;
	if (guest.ram_end <= guest.ram_base + 4 * SZ_2M) {
		printk("trapvisor: %lu MiB of RAM leaves nothing for a guest\n", plat.ram_size >> 20);
		return false;
	}
	if (!guest.image) {
		printk("trapvisor: no guest (give trapvisor.guest=ADDR in bootargs)\n");
		return false;
	}
	if (!guest_ram_contains(guest.image, 64) || guest.image < guest.dtb + SZ_2M ||
	    (guest.image & (SZ_2M - 1))) {
		printk("trapvisor: guest at %#lx: must be 2 MiB aligned in guest RAM [%#lx, %#lx) above the device tree\n",
		       guest.image, (u64)(guest.dtb + SZ_2M), guest.ram_end);
		return false;
	}
	if (image[14] != ARM64_IMAGE_MAGIC) {
		printk("trapvisor: no arm64 Image header at %#lx (magic %#x)\n", guest.image, image[14]);
		return false;
	}
	if (guest.initrd_size && !guest_ram_contains(guest.initrd, guest.initrd_size)) {
		printk("trapvisor: initrd [%#lx, +%#lx) is not inside guest RAM\n", guest.initrd,
		       guest.initrd_size);
		return false;
	}
	return fdt_build_guest();
}

static bool stage2_build(void)
{
	struct addr_range holes[4];
	unsigned n = 0;

	/* Below RAM: devices, less what the hypervisor emulates or keeps (the
	 * distributor and the redistributors, which mmio.c and gic.c police, the
	 * ITS, which the guest does not get, and the debug line's page); above
	 * RAM: high GIC, ECAM (emulated), PCIe. The holes are in address order. */
	holes[n++] = (struct addr_range){ plat.gicd_base, SZ_64K };
	if (plat.its_size)
		holes[n++] = (struct addr_range){ plat.its_base, plat.its_size };
	holes[n++] = (struct addr_range){ plat.gicr_base, plat.gicr_size };
	if (plat.dbg_line)
		holes[n++] = (struct addr_range){ plat.dbg_line_page, SZ_4K };
	if (!stage2_map_device_except(0, plat.ram_base, holes, n))
		return false;
	n = 0;
	holes[n++] = (struct addr_range){ plat.ecam_base, plat.ecam_size };
	return stage2_map(guest.ram_base, guest.ram_base, guest.ram_end - guest.ram_base, S2_NORMAL) &&
	       stage2_map_device_except(ALIGN_UP(plat.ram_base + plat.ram_size, SZ_1G), 1ULL << 40, holes, n);
}

static void start_secondaries(void)
{
	for (unsigned i = 1; i < pcpu_count; i++) {
		u64 r = firmware_psci_call(PSCI_CPU_ON_64, plat.cpu_mpidr[i], (u64)secondary_entry, i);
		if (r)
			printk("trapvisor: firmware would not start CPU %u (mpidr %#lx): %ld\n", i,
			       plat.cpu_mpidr[i], (long)r);
	}
}

static void __attribute__((noreturn)) boot_failed(void)
{
	printk("trapvisor: cannot start the guest; powering off\n");
	hv_system_off();
}

static void primary_boot(struct pcpu *cpu)
{
	platform_defaults();
	mmu_init_tables();
	el2_early_init();
	console_init(plat.console_base);
	printk("\ntrapvisor %s: debugging hypervisor at EL2\n", HV_VERSION);
	if (!fdt_read_platform())
		boot_failed();
	console_init(plat.console_base);
	mmu_map_normal(plat.ram_base, plat.ram_size);
	pcpu_count = plat.cpu_count;
	bootargs_parse(plat.bootargs);
	/* The guest gets the machine's CPUs, one vCPU each, unless told otherwise. */
	vcpu_count = bootargs_vcpus ? bootargs_vcpus : pcpu_count;
	for (unsigned i = 0; i < pcpu_count; i++) {
		pcpus[i].id = i;
		pcpus[i].mpidr = plat.cpu_mpidr[i];
		pcpus[i].kick_sgir = gic_sgir_for(pcpus[i].mpidr, GIC_SGI_KICK);
		pcpus[i].slice_end = pcpus[i].poll_at = ~0ull;
	}
	/* Every vCPU exists before any runs: CPU_ON may name one whose pCPU is
	 * still booting. vCPU n goes on pCPU n % pCPUs for good (sched.c). */
	for (unsigned i = 0; i < vcpu_count; i++) {
		vcpu_init(&vcpu_slots[i].vcpu, i);
		sched_place(&vcpu_slots[i].vcpu, &pcpus[i % pcpu_count]);
		vgic_vcpu_init(&vcpu_slots[i].vcpu);
	}
	context_init(); /* what it switches depends on sched_shared */
	for (unsigned c = 0; c < TRAP_CLASS_COUNT; c++)
		if (bootargs_trap_classes & (1u << c))
			trap_class_set(c, true);
	if (!platform_debug_line_init())
		printk("trapvisor: no debug line (a virtio console or a 16550 on PCI: scripts/run-qemu); GDB cannot attach\n");
	mmio_init();
	gic_init();
	vgic_init();
	if (!guest_prepare() || !stage2_build())
		boot_failed();
	printk("trapvisor: %u vCPUs on %u CPUs, guest RAM %#lx-%#lx, guest at %#lx, device tree at %#lx\n",
	       vcpu_count, pcpu_count, guest.ram_base, guest.ram_end, guest.image, guest.dtb);
	if (plat.dbg_line)
		printk("trapvisor: debug line: %s at PCI %02x:%02x.%u, I/O %#lx, INTID %u (hidden from the guest)\n",
		       plat.dbg_line->name, plat.dbg_line_bdf >> 8, (plat.dbg_line_bdf >> 3) & 31, plat.dbg_line_bdf & 7,
		       plat.dbg_line_base, plat.dbg_line_intid);
	start_secondaries();
	vcpu_by_id(0)->entry = guest.image;
	vcpu_by_id(0)->context_id = guest.dtb;
}

void hv_cpu_main(unsigned id)
{
	struct pcpu *cpu = pcpu_ptrs[id];

	if (id == 0)
		primary_boot(cpu);
	else
		el2_early_init();
	cpu_setup_for_guest(cpu);
	if (id == 0) {
		debug_init();
		bootargs_apply();
	}
	/* vCPU 0 starts with the kernel (x0 = device tree); the others wait for CPU_ON. */
	if (id == 0)
		vcpu_power_on(vcpu_by_id(0));
	sched_idle_loop(cpu);
}

void hv_panic(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	printk("\ntrapvisor panic on pCPU %u: ", this_pcpu()->id);
	vprintk(fmt, ap);
	va_end(ap);
	printk("\n");
	for (;;)
		wfe();
}
