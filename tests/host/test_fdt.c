/*
 * The guest's device tree (hv/core/fdt.c) when the guest has more or fewer
 * vCPUs than the machine has CPUs: /cpus lists one node per vCPU, in vCPU
 * order, each with QEMU's CPU properties and its own MPIDR affinity as reg;
 * what would name a CPU that is gone (cpu-map) goes; what cannot follow
 * (too few redistributors, an interrupt-affinity) stops the boot. While
 * vCPUs share pCPUs the PMU is not the guest's: every Arm PMU node goes, and
 * nothing else. The machine's tree is built here as QEMU 7.2's virt machine
 * writes it (-smp N, gic-version=3: `dumpdtb=`), and read by
 * fdt_read_platform() as at boot.
 */
#include <libfdt.h>
#include <stdint.h>
#include <stdio.h>

#include "check.h"
#include "hv_fakes.h"
#include "platform.h"
#include "sched.h"

#define QEMU_GICR_SIZE 0xf60000 /* QEMU virt's first redistributor region: 123 frames */

static u8 machine[64 << 10] __attribute__((aligned(8)));
static u8 guest_tree[2 << 20] __attribute__((aligned(8)));

static void setprop_cells(void *f, int node, const char *name, const u32 *cells, unsigned n)
{
	fdt32_t be[16];

	for (unsigned i = 0; i < n; i++)
		be[i] = cpu_to_fdt32(cells[i]);
	CHECK_EQ(fdt_setprop(f, node, name, be, n * 4), 0);
}

/*
 * QEMU's tree for n CPUs, in QEMU's order: /cpus holds cpu-map first, then
 * cpu@0..cpu@n-1, whose phandles count down from 0x8000 + n (cpu@0's is the
 * highest). libfdt adds a node as its parent's first child, so each list is
 * built from its end.
 */
static void make_machine(unsigned n, u64 gicr_size, bool pmu_affinity)
{
	void *f = machine;
	int node, cpus;
	char name[32];

	CHECK_EQ(fdt_create_empty_tree(f, sizeof(machine)), 0);
	CHECK_EQ(fdt_setprop_u32(f, 0, "#address-cells", 2), 0);
	CHECK_EQ(fdt_setprop_u32(f, 0, "#size-cells", 2), 0);
	cpus = fdt_add_subnode(f, 0, "cpus");
	CHECK_EQ(fdt_setprop_u32(f, cpus, "#address-cells", 1), 0);
	CHECK_EQ(fdt_setprop_u32(f, cpus, "#size-cells", 0), 0);
	for (unsigned i = n; i-- > 0;) {
		snprintf(name, sizeof(name), "cpu@%x", i);
		node = fdt_add_subnode(f, fdt_path_offset(f, "/cpus"), name);
		CHECK(node >= 0);
		CHECK_EQ(fdt_setprop_u32(f, node, "phandle", 0x8000 + n - i), 0);
		CHECK_EQ(fdt_setprop_u32(f, node, "reg", i), 0);
		CHECK_EQ(fdt_setprop_string(f, node, "enable-method", "psci"), 0);
		CHECK_EQ(fdt_setprop_string(f, node, "compatible", "arm,cortex-a57"), 0);
		CHECK_EQ(fdt_setprop_string(f, node, "device_type", "cpu"), 0);
	}
	node = fdt_add_subnode(f, fdt_path_offset(f, "/cpus"), "cpu-map");
	node = fdt_add_subnode(f, node, "socket0");
	node = fdt_add_subnode(f, node, "cluster0");
	for (unsigned i = n; i-- > 0;) {
		snprintf(name, sizeof(name), "core%u", i);
		int core = fdt_add_subnode(f, fdt_path_offset(f, "/cpus/cpu-map/socket0/cluster0"), name);
		CHECK_EQ(fdt_setprop_u32(f, core, "cpu", 0x8000 + n - i), 0);
	}
	node = fdt_add_subnode(f, 0, "pmu");
	setprop_cells(f, node, "interrupts", (const u32[]){ 1, 7, 4 }, 3);
	CHECK_EQ(fdt_setprop_string(f, node, "compatible", "arm,armv8-pmuv3"), 0);
	if (pmu_affinity)
		CHECK_EQ(fdt_setprop_u32(f, node, "interrupt-affinity", 0x8000 + n), 0);
	node = fdt_add_subnode(f, 0, "intc@8000000");
	setprop_cells(f, node, "reg",
		      (const u32[]){ 0, 0x8000000, 0, 0x10000, 0, 0x80a0000, (u32)(gicr_size >> 32), (u32)gicr_size }, 8);
	CHECK_EQ(fdt_setprop_string(f, node, "compatible", "arm,gic-v3"), 0);
	node = fdt_add_subnode(f, 0, "memory@40000000");
	setprop_cells(f, node, "reg", (const u32[]){ 0, 0x40000000, 0, 0x40000000 }, 4);
	CHECK_EQ(fdt_setprop_string(f, node, "device_type", "memory"), 0);
	node = fdt_add_subnode(f, 0, "chosen");
	CHECK_EQ(fdt_setprop_string(f, node, "bootargs", ""), 0);
}

/* Boot as main.c does: read the machine, then build the guest's tree for
 * vcpus vCPUs, with their trapvisor.vmpidr= values if vmpidr is given. */
static bool boot_vmpidr(unsigned vcpus, const u64 *vmpidr)
{
	fake_reset();
	memset(&guest, 0, sizeof(guest));
	memset(&plat, 0, sizeof(plat));
	plat.dtb = (u64)(uintptr_t)machine;
	CHECK(fdt_read_platform());
	vcpu_count = vcpus;
	guest.dtb = (u64)(uintptr_t)guest_tree;
	guest.ram_base = 0x42000000;
	guest.ram_end = 0x80000000;
	guest.cmdline = "console=ttyAMA0";
	for (unsigned i = 0; vmpidr && i < vcpus; i++)
		guest.vmpidr[i] = vmpidr[i];
	guest.vmpidr_set = vmpidr != NULL;
	return fdt_build_guest();
}

static bool boot(unsigned vcpus)
{
	return boot_vmpidr(vcpus, NULL);
}

/* The names of /cpus' children, in the tree's order, separated by spaces. */
static const char *cpus_children(void)
{
	static char list[512];
	const void *f = guest_tree;
	int node;

	list[0] = '\0';
	fdt_for_each_subnode(node, f, fdt_path_offset(f, "/cpus")) {
		if (list[0])
			strcat(list, " ");
		strcat(list, fdt_get_name(f, node, NULL));
	}
	return list;
}

static int guest_cpu(const char *name)
{
	return fdt_subnode_offset(guest_tree, fdt_path_offset(guest_tree, "/cpus"), name);
}

static u64 prop_u32(const char *name, const char *prop)
{
	int len;
	const fdt32_t *p = fdt_getprop(guest_tree, guest_cpu(name), prop, &len);

	return p && len == 4 ? fdt32_to_cpu(*p) : ~0ull;
}

static const char *prop_str(const char *name, const char *prop)
{
	return fdt_getprop(guest_tree, guest_cpu(name), prop, NULL);
}

/* A CPU node as QEMU writes them: the properties Linux looks at, and a reg. */
static void check_cpu_node(const char *name, u64 reg)
{
	CHECK(guest_cpu(name) >= 0);
	CHECK_STR(prop_str(name, "device_type"), "cpu");
	CHECK_STR(prop_str(name, "enable-method"), "psci");
	CHECK_STR(prop_str(name, "compatible"), "arm,cortex-a57");
	CHECK_EQ(prop_u32(name, "reg"), reg);
}

static void test_as_many_vcpus_as_cpus_leaves_cpus_alone(void)
{
	make_machine(2, QEMU_GICR_SIZE, false);
	CHECK(boot(2));
	CHECK_EQ(fdt_check_full(guest_tree, sizeof(guest_tree)), 0);
	CHECK_STR(cpus_children(), "cpu-map cpu@0 cpu@1");
	check_cpu_node("cpu@0", 0);
	check_cpu_node("cpu@1", 1);
	CHECK_EQ(prop_u32("cpu@0", "phandle"), 0x8002);
	CHECK_EQ(prop_u32("cpu@1", "phandle"), 0x8001);
	CHECK(fdt_path_offset(guest_tree, "/cpus/cpu-map/socket0/cluster0/core1") >= 0);
}

static void test_more_vcpus_are_cloned_in_order(void)
{
	make_machine(2, QEMU_GICR_SIZE, false);
	CHECK(boot(4));
	CHECK_EQ(fdt_check_full(guest_tree, sizeof(guest_tree)), 0);
	/* cpu-map named only cpu@0 and cpu@1: it goes. */
	CHECK_STR(cpus_children(), "cpu@0 cpu@1 cpu@2 cpu@3");
	for (unsigned i = 0; i < 4; i++) {
		char name[16];
		snprintf(name, sizeof(name), "cpu@%u", i);
		check_cpu_node(name, i);
	}
	/* QEMU's nodes keep their phandles; the clones have none. */
	CHECK_EQ(prop_u32("cpu@0", "phandle"), 0x8002);
	CHECK_EQ(prop_u32("cpu@1", "phandle"), 0x8001);
	CHECK(!fdt_getprop(guest_tree, guest_cpu("cpu@2"), "phandle", NULL));
	CHECK(!fdt_getprop(guest_tree, guest_cpu("cpu@3"), "phandle", NULL));
	/* The rest of the tree is the guest's as before. */
	CHECK_STR(fdt_getprop(guest_tree, fdt_path_offset(guest_tree, "/chosen"), "bootargs", NULL), "console=ttyAMA0");
}

static void test_eight_vcpus_on_one_cpu(void)
{
	make_machine(1, QEMU_GICR_SIZE, false);
	CHECK(boot(8));
	CHECK_EQ(fdt_check_full(guest_tree, sizeof(guest_tree)), 0);
	CHECK_STR(cpus_children(), "cpu@0 cpu@1 cpu@2 cpu@3 cpu@4 cpu@5 cpu@6 cpu@7");
	check_cpu_node("cpu@7", 7);
}

static void test_fewer_vcpus_drop_the_last_cpus(void)
{
	make_machine(4, QEMU_GICR_SIZE, false);
	CHECK(boot(2));
	CHECK_EQ(fdt_check_full(guest_tree, sizeof(guest_tree)), 0);
	CHECK_STR(cpus_children(), "cpu@0 cpu@1");
	CHECK_EQ(prop_u32("cpu@0", "phandle"), 0x8004);
	CHECK_EQ(prop_u32("cpu@1", "phandle"), 0x8003);
}

/* hw/arm/virt.c virt_cpu_mp_affinity() with a GICv3: clusters of 16. */
static void test_vcpu_mpidr_beyond_the_machine_is_qemus(void)
{
	make_machine(2, QEMU_GICR_SIZE, false);
	CHECK(boot(2));
	plat.cpu_mpidr[1] = 0x1234; /* the machine's own, whatever they are */
	CHECK_EQ(plat_vcpu_mpidr(0), 0);
	CHECK_EQ(plat_vcpu_mpidr(1), 0x1234);
	CHECK_EQ(plat_vcpu_mpidr(2), 2);
	CHECK_EQ(plat_vcpu_mpidr(7), 7);
	CHECK_EQ(plat_vcpu_mpidr(15), 15);
	CHECK_EQ(plat_vcpu_mpidr(16), 0x100);
	CHECK_EQ(plat_vcpu_mpidr(33), 0x201);
}

/* trapvisor.vmpidr= with as many vCPUs as CPUs: reg follows, names stay (as before). */
static void test_vmpidr_sets_reg(void)
{
	make_machine(2, QEMU_GICR_SIZE, false);
	CHECK(boot_vmpidr(2, (const u64[]){ 0x100, 0x10101 }));
	CHECK_STR(cpus_children(), "cpu-map cpu@0 cpu@1");
	CHECK_EQ(prop_u32("cpu@0", "reg"), 0x100);
	CHECK_EQ(prop_u32("cpu@1", "reg"), 0x10101);
}

static void test_vmpidr_names_cloned_cpus(void)
{
	make_machine(2, QEMU_GICR_SIZE, false);
	CHECK(boot_vmpidr(4, (const u64[]){ 0x0, 0x1, 0x100, 0x10000 }));
	CHECK_EQ(fdt_check_full(guest_tree, sizeof(guest_tree)), 0);
	CHECK_STR(cpus_children(), "cpu@0 cpu@1 cpu@100 cpu@10000");
	check_cpu_node("cpu@100", 0x100);
	check_cpu_node("cpu@10000", 0x10000);
}

/* vCPU 0 takes the name QEMU gave CPU 1 and the other way round: no clash. */
static void test_vmpidr_swapped_names(void)
{
	make_machine(2, QEMU_GICR_SIZE, false);
	CHECK(boot_vmpidr(3, (const u64[]){ 0x1, 0x0, 0x2 }));
	CHECK_STR(cpus_children(), "cpu@1 cpu@0 cpu@2");
	CHECK_EQ(prop_u32("cpu@1", "reg"), 1);
	CHECK_EQ(prop_u32("cpu@1", "phandle"), 0x8002); /* QEMU's first CPU node */
	CHECK_EQ(prop_u32("cpu@0", "reg"), 0);
	CHECK_EQ(prop_u32("cpu@0", "phandle"), 0x8001);
}

static void test_vmpidr_twice_the_same_is_refused(void)
{
	make_machine(2, QEMU_GICR_SIZE, false);
	CHECK(!boot_vmpidr(3, (const u64[]){ 0x0, 0x1, 0x1 }));
}

/* /cpus with #address-cells = 2: Aff3 in the first cell. */
static void test_two_cell_reg(void)
{
	make_machine(1, QEMU_GICR_SIZE, false);
	CHECK_EQ(fdt_setprop_u32(machine, fdt_path_offset(machine, "/cpus"), "#address-cells", 2), 0);
	setprop_cells(machine, fdt_path_offset(machine, "/cpus/cpu@0"), "reg", (const u32[]){ 0, 0 }, 2);
	CHECK(boot_vmpidr(2, (const u64[]){ 0x0, 0x300000002 }));
	CHECK_STR(cpus_children(), "cpu@0 cpu@300000002");
	int len;
	const fdt32_t *reg = fdt_getprop(guest_tree, guest_cpu("cpu@300000002"), "reg", &len);
	CHECK(reg && len == 8 && fdt32_to_cpu(reg[0]) == 3 && fdt32_to_cpu(reg[1]) == 2);
}

static void test_too_few_redistributors_is_refused(void)
{
	make_machine(2, 3 * 0x20000, false);
	CHECK(boot(3));
	make_machine(2, 3 * 0x20000, false);
	CHECK(!boot(4));
}

/* Unplaced vCPUs (sched_shared false): set_guest_cpus' own refusal. Placed, more
 * vCPUs than CPUs share them and the PMU's node is gone first (below). */
static void test_interrupt_affinity_is_refused_only_when_cpus_change(void)
{
	make_machine(2, QEMU_GICR_SIZE, true);
	CHECK(boot(2));
	CHECK(!boot(3));
	CHECK(!boot(1));
}

/* ---- the PMU while vCPUs share pCPUs (remove_pmu) ---- */

/* Boot as main.c does, the vCPUs placed first (vCPU n on pCPU n % pCPUs), so that
 * sched_shared is what it is at boot when the guest's tree is built. */
static bool boot_placed(unsigned n)
{
	fake_reset();
	memset(&guest, 0, sizeof(guest));
	memset(&plat, 0, sizeof(plat));
	plat.dtb = (u64)(uintptr_t)machine;
	CHECK(fdt_read_platform());
	pcpu_count = plat.cpu_count;
	vcpu_count = n;
	for (unsigned i = 0; i < n; i++)
		sched_place(&vcpu_slots[i].vcpu, &pcpus[i % pcpu_count]);
	guest.dtb = (u64)(uintptr_t)guest_tree;
	guest.ram_base = 0x42000000;
	guest.ram_end = 0x80000000;
	guest.cmdline = "console=ttyAMA0";
	return fdt_build_guest();
}

/* Every node of the guest's tree by path, in the tree's order, separated by spaces. */
static const char *all_nodes(void)
{
	static char list[2048];
	char path[256];
	int node;

	list[0] = '\0';
	for (node = fdt_next_node(guest_tree, -1, NULL); node >= 0; node = fdt_next_node(guest_tree, node, NULL)) {
		CHECK_EQ(fdt_get_path(guest_tree, node, path, sizeof(path)), 0);
		if (list[0])
			strcat(list, " ");
		strcat(list, path);
	}
	return list;
}

/* The nodes a compatible string names. */
static unsigned count_compatible(const char *compat)
{
	unsigned n = 0;

	for (int node = fdt_node_offset_by_compatible(guest_tree, -1, compat); node >= 0;
	     node = fdt_node_offset_by_compatible(guest_tree, node, compat))
		n++;
	return n;
}

/* More PMU nodes than QEMU writes, named as the binding (arm/pmu.yaml) names
 * them, one with the generic string second; and a node that is not a PMU. */
static void add_more_pmus(void)
{
	static const char a53[] = "arm,cortex-a53-pmu\0arm,armv8-pmuv3", uart[] = "arm,pl011\0arm,primecell";
	int node;

	node = fdt_add_subnode(machine, 0, "pmu-a53");
	CHECK_EQ(fdt_setprop(machine, node, "compatible", a53, sizeof(a53)), 0);
	node = fdt_add_subnode(machine, 0, "pmu-a72");
	CHECK_EQ(fdt_setprop_string(machine, node, "compatible", "arm,cortex-a72-pmu"), 0);
	node = fdt_add_subnode(machine, 0, "pl011@9000000");
	CHECK_EQ(fdt_setprop(machine, node, "compatible", uart, sizeof(uart)), 0);
}

/* 4 vCPUs on QEMU's 2 CPUs: the PMU is not the guest's, and its node is gone, only it. */
static void test_pmu_node_removed_while_shared(void)
{
	make_machine(2, QEMU_GICR_SIZE, false);
	CHECK(boot(4)); /* not placed: sched_shared false, the tree as it was before the PMU went */
	CHECK(!sched_shared);
	CHECK_EQ(count_compatible("arm,armv8-pmuv3"), 1);
	char before[2048];
	snprintf(before, sizeof(before), "%s", all_nodes());
	CHECK(strstr(before, " /pmu ") != NULL);

	make_machine(2, QEMU_GICR_SIZE, false);
	CHECK(boot_placed(4));
	CHECK(sched_shared);
	CHECK_EQ(fdt_check_full(guest_tree, sizeof(guest_tree)), 0);
	CHECK_EQ(count_compatible("arm,armv8-pmuv3"), 0);
	CHECK(fdt_path_offset(guest_tree, "/pmu") < 0);
	/* Everything else as it was: the same nodes, less /pmu. */
	char *pmu = strstr(before, " /pmu ");
	if (pmu)
		memmove(pmu, pmu + 5, strlen(pmu + 5) + 1);
	CHECK_STR(all_nodes(), before);
	CHECK_STR(cpus_children(), "cpu@0 cpu@1 cpu@2 cpu@3");
	CHECK_STR(fdt_getprop(guest_tree, fdt_path_offset(guest_tree, "/intc@8000000"), "compatible", NULL), "arm,gic-v3");

	/* 2 vCPUs on 1 CPU: shared as well. */
	make_machine(1, QEMU_GICR_SIZE, false);
	CHECK(boot_placed(2));
	CHECK(sched_shared);
	CHECK_EQ(count_compatible("arm,armv8-pmuv3"), 0);
}

/* Every Arm PMU node goes, whatever CPU it names; a node that is not one stays. */
static void test_every_pmu_node_removed_while_shared(void)
{
	make_machine(2, QEMU_GICR_SIZE, false);
	add_more_pmus();
	CHECK(boot_placed(3));
	CHECK(sched_shared);
	CHECK_EQ(fdt_check_full(guest_tree, sizeof(guest_tree)), 0);
	CHECK_EQ(count_compatible("arm,armv8-pmuv3"), 0);
	CHECK_EQ(count_compatible("arm,cortex-a53-pmu"), 0);
	CHECK_EQ(count_compatible("arm,cortex-a72-pmu"), 0);
	CHECK_EQ(count_compatible("arm,pl011"), 1);
	CHECK(fdt_path_offset(guest_tree, "/pl011@9000000") >= 0);
}

/* One vCPU per CPU, as many or fewer: the PMU is the guest's, its node as QEMU wrote it. */
static void test_pmu_node_kept_when_not_shared(void)
{
	int len;
	const fdt32_t *irq;

	for (unsigned vcpus = 1; vcpus <= 2; vcpus++) {
		make_machine(2, QEMU_GICR_SIZE, false);
		add_more_pmus();
		CHECK(boot_placed(vcpus));
		CHECK(!sched_shared);
		CHECK_EQ(count_compatible("arm,armv8-pmuv3"), 2);
		CHECK_EQ(count_compatible("arm,cortex-a72-pmu"), 1);
		CHECK_STR(fdt_getprop(guest_tree, fdt_path_offset(guest_tree, "/pmu"), "compatible", NULL), "arm,armv8-pmuv3");
		irq = fdt_getprop(guest_tree, fdt_path_offset(guest_tree, "/pmu"), "interrupts", &len);
		CHECK(irq && len == 12 && fdt32_to_cpu(irq[0]) == 1 && fdt32_to_cpu(irq[1]) == 7 && fdt32_to_cpu(irq[2]) == 4);
	}
}

/*
 * A PMU with interrupt-affinity (an SPI PMU: its node names the machine's CPUs)
 * stopped a boot that changes the CPUs. With more vCPUs than CPUs they share
 * pCPUs, so the node is removed before the CPUs change and the boot goes on;
 * with fewer, each has its own pCPU, the node stays and the boot still stops.
 */
static void test_pmu_interrupt_affinity_gone_while_shared(void)
{
	make_machine(2, QEMU_GICR_SIZE, true);
	CHECK(boot_placed(3));
	CHECK(sched_shared);
	CHECK_EQ(count_compatible("arm,armv8-pmuv3"), 0);
	CHECK_STR(cpus_children(), "cpu@0 cpu@1 cpu@2");
	make_machine(2, QEMU_GICR_SIZE, true);
	CHECK(!boot_placed(1));
	CHECK(!sched_shared);
}

int main(void)
{
	RUN(test_as_many_vcpus_as_cpus_leaves_cpus_alone);
	RUN(test_more_vcpus_are_cloned_in_order);
	RUN(test_eight_vcpus_on_one_cpu);
	RUN(test_fewer_vcpus_drop_the_last_cpus);
	RUN(test_vcpu_mpidr_beyond_the_machine_is_qemus);
	RUN(test_vmpidr_sets_reg);
	RUN(test_vmpidr_names_cloned_cpus);
	RUN(test_vmpidr_swapped_names);
	RUN(test_vmpidr_twice_the_same_is_refused);
	RUN(test_two_cell_reg);
	RUN(test_too_few_redistributors_is_refused);
	RUN(test_interrupt_affinity_is_refused_only_when_cpus_change);
	RUN(test_pmu_node_removed_while_shared);
	RUN(test_every_pmu_node_removed_while_shared);
	RUN(test_pmu_node_kept_when_not_shared);
	RUN(test_pmu_interrupt_affinity_gone_while_shared);
	return CHECK_DONE();
}
