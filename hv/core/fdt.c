/*
 * Device tree: what the machine is (read once at boot) and the guest's own copy
 * (memory shrunk by the hypervisor's slice, its bootargs and initrd, the PCI I/O
 * window without the debug line's page). libfdt may use SIMD registers, so it is
 * only ever called here, at boot, before any guest state exists.
 */
#include <libfdt.h>
#include "platform.h"
#include "console.h"
#include "lib.h"
#include "sched.h"
#include "arch/sysreg.h"

#define GUEST_DTB_MAX 0x200000 /* the arm64 boot protocol's limit */
/* QEMU's virt machine with a GICv3 groups its CPUs in clusters of 16, the
 * width of an SGI's target list (ICC_SGI1R_EL1.TargetList): hw/arm/virt.c
 * virt_cpu_mp_affinity(), GICV3_TARGETLIST_BITS. KVM numbers vCPUs the same. */
#define VIRT_GICV3_CLUSTER 16
#define GICR_FRAME_SIZE 0x20000 /* a GICv3 redistributor: RD_base and SGI_base, 64 KiB each */

static u64 read_cells(const fdt32_t *p, int cells)
{
	u64 v = 0;

	while (cells--)
		v = (v << 32) | fdt32_to_cpu(*p++);
	return v;
}

static int root_cells_of(const void *fdt, int node, const char *name, int dflt)
{
	int len;
	const fdt32_t *p = fdt_getprop(fdt, node, name, &len);

	return p && len == 4 ? (int)fdt32_to_cpu(*p) : dflt;
}

static int root_cells(const void *fdt, const char *name, int dflt)
{
	return root_cells_of(fdt, 0, name, dflt);
}

/* First reg entry of the first node compatible with `compat`. */
static bool reg_of_compatible(const void *fdt, const char *compat, int index, u64 *base, u64 *size)
{
	int node = fdt_node_offset_by_compatible(fdt, -1, compat);
	int ac = root_cells(fdt, "#address-cells", 2), sc = root_cells(fdt, "#size-cells", 1);
	int len;
	const fdt32_t *reg;

	if (node < 0)
		return false;
	reg = fdt_getprop(fdt, node, "reg", &len);
	if (!reg || len < (index + 1) * (ac + sc) * 4)
		return false;
	reg += index * (ac + sc);
	*base = read_cells(reg, ac);
	if (size)
		*size = read_cells(reg + ac, sc);
	return true;
}

static void read_pci(const void *fdt)
{
	int node = fdt_node_offset_by_compatible(fdt, -1, "pci-host-ecam-generic");
	int len, ac = root_cells(fdt, "#address-cells", 2);
	const fdt32_t *r;

	if (node < 0)
		return;
	reg_of_compatible(fdt, "pci-host-ecam-generic", 0, &plat.ecam_base, &plat.ecam_size);
	r = fdt_getprop(fdt, node, "ranges", &len);
	/* Each range: 3 PCI address cells, `ac` CPU address cells, 2 size cells. */
	for (int entry = (3 + ac + 2) * 4; r && len >= entry; len -= entry, r += entry / 4) {
		if ((fdt32_to_cpu(r[0]) & 0x03000000) == 0x01000000) { /* I/O space */
			plat.pio_cpu_base = read_cells(r + 3, ac);
			plat.pio_size = read_cells(r + 3 + ac, 2);
		}
	}
}

bool fdt_read_platform(void)
{
	const void *fdt = (const void *)plat.dtb;
	int node, len;

	if (fdt_check_header(fdt) != 0) {
		printk("trapvisor: no device tree at %#lx\n", plat.dtb);
		return false;
	}
	node = fdt_path_offset(fdt, "/memory");
	if (node < 0)
		node = fdt_node_offset_by_prop_value(fdt, -1, "device_type", "memory", 7);
	if (node >= 0) {
		int ac = root_cells(fdt, "#address-cells", 2), sc = root_cells(fdt, "#size-cells", 1);
		const fdt32_t *reg = fdt_getprop(fdt, node, "reg", &len);
		if (reg && len >= (ac + sc) * 4) {
			plat.ram_base = read_cells(reg, ac);
			plat.ram_size = read_cells(reg + ac, sc);
		}
	}
	plat.cpu_count = 0;
	fdt_for_each_subnode(node, fdt, fdt_path_offset(fdt, "/cpus")) {
		const char *type = fdt_getprop(fdt, node, "device_type", NULL);
		const fdt32_t *reg = fdt_getprop(fdt, node, "reg", &len);
		if (!type || strcmp(type, "cpu") != 0 || !reg)
			continue;
		if (plat.cpu_count == MAX_CPUS) {
			printk("trapvisor: more than %d CPUs; using the first %d\n", MAX_CPUS, MAX_CPUS);
			break;
		}
		plat.cpu_mpidr[plat.cpu_count++] = read_cells(reg, len / 4);
	}
	reg_of_compatible(fdt, "arm,pl011", 0, &plat.console_base, NULL);
	reg_of_compatible(fdt, "arm,gic-v3", 0, &plat.gicd_base, NULL);
	reg_of_compatible(fdt, "arm,gic-v3", 1, &plat.gicr_base, &plat.gicr_size);
	reg_of_compatible(fdt, "arm,gic-v3-its", 0, &plat.its_base, &plat.its_size);
	read_pci(fdt);
	node = fdt_path_offset(fdt, "/chosen");
	plat.bootargs = node >= 0 ? fdt_getprop(fdt, node, "bootargs", NULL) : NULL;
	if (!plat.bootargs)
		plat.bootargs = "";
	return plat.cpu_count > 0;
}

u64 plat_vcpu_mpidr(unsigned id)
{
	if (id < plat.cpu_count)
		return plat.cpu_mpidr[id];
	return (u64)(id / VIRT_GICV3_CLUSTER) << MPIDR_AFF1_SHIFT | id % VIRT_GICV3_CLUSTER;
}

/*
 * The GIC INTID a PCI function's INTx line reaches, from the host bridge's
 * interrupt-map (IEEE 1275 PCI binding): entries of <devfn<<8 0 0 pin> then
 * the parent's phandle, unit address and interrupt specifier (GIC: type,
 * number, flags; type 0 is an SPI, INTID 32 + number).
 */
bool fdt_pci_intx_intid(unsigned bdf, unsigned pin, unsigned *intid)
{
	const void *fdt = (const void *)plat.dtb;
	int node = fdt_node_offset_by_compatible(fdt, -1, "pci-host-ecam-generic");
	const fdt32_t *map, *mask;
	int len, mask_len;

	if (node < 0)
		return false;
	map = fdt_getprop(fdt, node, "interrupt-map", &len);
	mask = fdt_getprop(fdt, node, "interrupt-map-mask", &mask_len);
	if (!map || !mask || mask_len != 16)
		return false;
	u32 key[4] = { (bdf & 0xff) << 8, 0, 0, pin };
	for (int i = 0; i < 4; i++)
		key[i] &= fdt32_to_cpu(mask[i]);
	for (const fdt32_t *e = map, *end = map + len / 4; e + 5 <= end;) {
		int parent = fdt_node_offset_by_phandle(fdt, fdt32_to_cpu(e[4]));
		int pac = parent < 0 ? 0 : root_cells_of(fdt, parent, "#address-cells", 0);
		int pic = parent < 0 ? 3 : root_cells_of(fdt, parent, "#interrupt-cells", 3);
		const fdt32_t *spec = e + 5 + pac;
		if (spec + pic > end || pic < 2)
			return false;
		if (fdt32_to_cpu(e[0]) == key[0] && fdt32_to_cpu(e[1]) == key[1] &&
		    fdt32_to_cpu(e[2]) == key[2] && fdt32_to_cpu(e[3]) == key[3]) {
			*intid = (fdt32_to_cpu(spec[0]) == 0 ? 32 : 16) + fdt32_to_cpu(spec[1]);
			return true;
		}
		e = spec + pic;
	}
	return false;
}

static int set_reg(void *fdt, int node, u64 base, u64 size)
{
	fdt32_t cells[4] = {
		cpu_to_fdt32(base >> 32), cpu_to_fdt32(base),
		cpu_to_fdt32(size >> 32), cpu_to_fdt32(size),
	};
	return fdt_setprop(fdt, node, "reg", cells, sizeof(cells));
}

/* Take the debug line's page out of the I/O window the guest may allocate from. */
static int hide_debug_line_window(void *fdt)
{
	int node = fdt_node_offset_by_compatible(fdt, -1, "pci-host-ecam-generic");
	int len, ac = root_cells(fdt, "#address-cells", 2);
	const fdt32_t *r;
	fdt32_t ranges[64];

	if (node < 0 || !plat.dbg_line)
		return 0;
	r = fdt_getprop(fdt, node, "ranges", &len);
	if (!r || len > (int)sizeof(ranges))
		return -FDT_ERR_BADVALUE;
	memcpy(ranges, r, len);
	for (int i = 0, entry = 3 + ac + 2; (i + entry) * 4 <= len; i += entry) {
		if ((fdt32_to_cpu(ranges[i]) & 0x03000000) != 0x01000000)
			continue;
		u64 base = read_cells(&ranges[i + 3], ac);
		u64 size = read_cells(&ranges[i + 3 + ac], 2);
		if (plat.dbg_line_page >= base && plat.dbg_line_page < base + size) {
			size = plat.dbg_line_page - base;
			ranges[i + 3 + ac] = cpu_to_fdt32(size >> 32);
			ranges[i + 4 + ac] = cpu_to_fdt32(size);
		}
	}
	return fdt_setprop(fdt, node, "ranges", ranges, len);
}

/*
 * The guest's GIC has no ITS (gic.c: no LPIs for the guest): its node goes,
 * and so does every reference to it, so PCI devices fall back to INTx.
 */
static int remove_its(void *fdt)
{
	int node = fdt_node_offset_by_compatible(fdt, -1, "arm,gic-v3-its"), err;
	fdt32_t phandle;

	if (node < 0)
		return 0;
	phandle = cpu_to_fdt32(fdt_get_phandle(fdt, node));
	err = fdt_del_node(fdt, node);
	while (!err && (node = fdt_node_offset_by_prop_value(fdt, -1, "msi-parent", &phandle, 4)) >= 0)
		err = fdt_delprop(fdt, node, "msi-parent");
	while (!err && (node = fdt_node_offset_by_compatible(fdt, -1, "pci-host-ecam-generic")) >= 0 &&
	       fdt_getprop(fdt, node, "msi-map", NULL))
		err = fdt_delprop(fdt, node, "msi-map");
	return err;
}

/* Whether one of node's compatible strings names an Arm PMU: "arm,armv8-pmuv3", "arm,cortex-a53-pmu", ... */
static bool is_arm_pmu(const void *fdt, int node)
{
	int len;
	const char *c = fdt_getprop(fdt, node, "compatible", &len), *end = c ? c + len : NULL;

	for (; c && c < end; c += strlen(c) + 1) {
		size_t n = strlen(c);
		if (!strncmp(c, "arm,", 4) && ((n >= 4 && !strcmp(c + n - 4, "-pmu")) || !strcmp(c, "arm,armv8-pmuv3")))
			return true;
	}
	return false;
}

/*
 * While vCPUs share pCPUs the PMU is not the guest's (sysreg.c hides it from
 * the ID registers and makes its registers UNDEFINED): its node goes, so the
 * guest does not probe a PMU that is not there and complain.
 */
static int remove_pmu(void *fdt)
{
	int node, err = 0;

	if (!sched_shared)
		return 0;
	for (node = fdt_next_node(fdt, -1, NULL); !err && node >= 0;) {
		if (is_arm_pmu(fdt, node)) {
			err = fdt_del_node(fdt, node);
			node = fdt_next_node(fdt, -1, NULL); /* offsets moved: from the top again */
		} else {
			node = fdt_next_node(fdt, node, NULL);
		}
	}
	return err;
}

/* vCPU id's MPIDR affinity, its CPU node's reg: the virtual MPIDR vcpu.c gives it. */
static u64 guest_cpu_affinity(unsigned id)
{
	return (guest.vmpidr_set ? guest.vmpidr[id] : plat_vcpu_mpidr(id)) & MPIDR_AFF_MASK;
}

/* The index-th CPU node of /cpus (device_type "cpu"), or a negative libfdt error. */
static int cpu_node(const void *fdt, unsigned index)
{
	int node;

	fdt_for_each_subnode(node, fdt, fdt_path_offset(fdt, "/cpus")) {
		const char *type = fdt_getprop(fdt, node, "device_type", NULL);
		if (type && !strcmp(type, "cpu") && index-- == 0)
			return node;
	}
	return node;
}

/* A CPU node's reg is its MPIDR's affinity in /cpus' #address-cells: one cell
 * holds Aff2..Aff0, two hold Aff3 and then Aff2..Aff0. */
static int set_cpu_reg(void *fdt, int node, u64 aff)
{
	int ac = root_cells_of(fdt, fdt_path_offset(fdt, "/cpus"), "#address-cells", 1);
	fdt32_t cells[2] = { cpu_to_fdt32(aff >> 32), cpu_to_fdt32(aff & 0xffffff) };

	if (ac == 2)
		return fdt_setprop(fdt, node, "reg", cells, sizeof(cells));
	return fdt_setprop(fdt, node, "reg", &cells[1], sizeof(cells[1]));
}

/* trapvisor.vmpidr=: the CPU nodes QEMU made say the virtual MPIDRs. */
static int set_cpu_ids(void *fdt)
{
	int node, err;

	if (!guest.vmpidr_set)
		return 0;
	for (unsigned i = 0; i < vcpu_count && (node = cpu_node(fdt, i)) >= 0; i++) {
		err = set_cpu_reg(fdt, node, guest.vmpidr[i]);
		if (err)
			return err;
	}
	return 0;
}

/*
 * Copy the properties of /cpus/<from> into /cpus/<to>, leaving out its
 * phandle unless with_phandle. Each goes through a copy of its own: setting a
 * property moves the tree's blocks, the source's name and value with them.
 */
static int copy_cpu_props(void *fdt, const char *from, const char *to, bool with_phandle)
{
	for (int k = 0;; k++) {
		int cpus = fdt_path_offset(fdt, "/cpus"), src = fdt_subnode_offset(fdt, cpus, from);
		int prop, i = 0, len, err;
		const char *name;
		const void *val;
		char name_copy[32];
		u8 val_copy[256];

		if (src < 0)
			return src;
		fdt_for_each_property_offset(prop, fdt, src)
			if (i++ == k)
				break;
		if (prop < 0)
			return prop == -FDT_ERR_NOTFOUND ? 0 : prop;
		val = fdt_getprop_by_offset(fdt, prop, &name, &len);
		if (!val)
			return len;
		if (!with_phandle && (!strcmp(name, "phandle") || !strcmp(name, "linux,phandle")))
			continue;
		if (strlen(name) >= sizeof(name_copy) || len > (int)sizeof(val_copy))
			return -FDT_ERR_NOSPACE;
		memcpy(name_copy, name, strlen(name) + 1);
		memcpy(val_copy, val, len);
		err = fdt_setprop(fdt, fdt_subnode_offset(fdt, cpus, to), name_copy, val_copy, len);
		if (err)
			return err;
	}
}

/*
 * /cpus grows from QEMU's `have` CPU nodes to one per vCPU. Linux numbers its
 * CPUs in the tree's order (the boot CPU aside), so the vCPUs must come in
 * theirs, and libfdt adds a node as its parent's first child: the list is
 * rebuilt from its end, each new node going in front of the ones before it.
 * vCPU i < have gets a copy of QEMU's node i, phandle and all; a vCPU beyond
 * gets a copy of node 0 without its phandle (nothing refers to it). The new
 * nodes wear temporary names until QEMU's are gone, then cpu@<reg>.
 */
static int add_cpu_nodes(void *fdt, unsigned have)
{
	char names[MAX_VCPUS][32], tmp[32];
	int cpus, node, len, err;

	if (!have)
		return -FDT_ERR_NOTFOUND; /* no CPU node to copy */
	for (unsigned i = 0; i < have; i++) {
		const char *name = fdt_get_name(fdt, cpu_node(fdt, i), &len);
		if (!name)
			return len;
		if (len >= (int)sizeof(names[i]))
			return -FDT_ERR_NOSPACE;
		memcpy(names[i], name, len + 1);
	}
	for (unsigned i = vcpu_count; i-- > 0;) {
		snprintf(tmp, sizeof(tmp), "trapvisor-cpu%u", i);
		node = fdt_add_subnode(fdt, fdt_path_offset(fdt, "/cpus"), tmp);
		err = node < 0 ? node : copy_cpu_props(fdt, names[i < have ? i : 0], tmp, i < have);
		if (!err)
			err = set_cpu_reg(fdt, fdt_subnode_offset(fdt, fdt_path_offset(fdt, "/cpus"), tmp),
					  guest_cpu_affinity(i));
		/* QEMU names no enable-method for a machine of one CPU: with more
		 * vCPUs than that, each is started through PSCI. */
		if (!err)
			err = fdt_setprop_string(fdt, fdt_subnode_offset(fdt, fdt_path_offset(fdt, "/cpus"), tmp),
						 "enable-method", "psci");
		if (err)
			return err;
	}
	for (unsigned i = 0; i < have; i++) {
		cpus = fdt_path_offset(fdt, "/cpus");
		err = fdt_del_node(fdt, fdt_subnode_offset(fdt, cpus, names[i]));
		if (err)
			return err;
	}
	for (unsigned i = 0; i < vcpu_count; i++) {
		char name[32];
		cpus = fdt_path_offset(fdt, "/cpus");
		snprintf(tmp, sizeof(tmp), "trapvisor-cpu%u", i);
		snprintf(name, sizeof(name), "cpu@%lx", (unsigned long)guest_cpu_affinity(i));
		if (fdt_subnode_offset(fdt, cpus, name) >= 0) {
			printk("trapvisor: two vCPUs have the MPIDR affinity %#lx (trapvisor.vmpidr=)\n",
			       (unsigned long)guest_cpu_affinity(i));
			return -FDT_ERR_EXISTS;
		}
		err = fdt_set_name(fdt, fdt_subnode_offset(fdt, cpus, tmp), name);
		if (err)
			return err;
	}
	return 0;
}

/*
 * The guest's /cpus lists exactly its vCPUs, vCPU i as the i-th CPU node, as
 * fdt_read_platform() read the machine's. Per CPU, QEMU's tree (7.2, virt,
 * GICv3) has: the CPU nodes; /cpus/cpu-map (one socket, one cluster, a core
 * per CPU, each naming its CPU node's phandle); one redistributor frame per
 * CPU in the GIC's second reg region; and the PMU's and the timer's PPIs,
 * whose GICv3 specifiers carry no CPU mask and which have no
 * interrupt-affinity. With as many vCPUs as CPUs all of it stays as it is.
 */
static int set_guest_cpus(void *fdt)
{
	unsigned have = 0;
	u64 gicr_base, gicr_size;
	int node, map, err = 0;

	/* The vGIC emulates a redistributor per vCPU in the first region. */
	if (reg_of_compatible(fdt, "arm,gic-v3", 1, &gicr_base, &gicr_size) &&
	    gicr_size / GICR_FRAME_SIZE < vcpu_count) {
		printk("trapvisor: the GIC's redistributor region at %#lx (%#lx bytes) holds %lu redistributors; "
		       "the guest has %u vCPUs\n",
		       (unsigned long)gicr_base, (unsigned long)gicr_size, (unsigned long)(gicr_size / GICR_FRAME_SIZE),
		       vcpu_count);
		return -FDT_ERR_BADVALUE;
	}
	while (cpu_node(fdt, have) >= 0)
		have++;
	if (have == vcpu_count)
		return set_cpu_ids(fdt);
	/* A node that ties interrupts to CPUs by phandle (an SPI PMU's
	 * interrupt-affinity) names the machine's CPUs, not the vCPUs. */
	for (node = fdt_next_node(fdt, -1, NULL); node >= 0; node = fdt_next_node(fdt, node, NULL)) {
		if (fdt_getprop(fdt, node, "interrupt-affinity", NULL)) {
			printk("trapvisor: %s ties its interrupts to the machine's CPUs (interrupt-affinity); "
			       "cannot give the guest %u vCPUs on %u CPUs\n",
			       fdt_get_name(fdt, node, NULL), vcpu_count, have);
			return -FDT_ERR_BADVALUE;
		}
	}
	/* The cpu-map would name CPUs that are gone or miss the new ones, which
	 * Linux refuses with an error. Without one it gives each CPU a core of
	 * its own in one package, the topology QEMU's map describes, so the map
	 * goes rather than being rebuilt. */
	map = fdt_subnode_offset(fdt, fdt_path_offset(fdt, "/cpus"), "cpu-map");
	if (map >= 0)
		err = fdt_del_node(fdt, map);
	while (!err && have > vcpu_count)
		err = fdt_del_node(fdt, cpu_node(fdt, --have));
	if (!err && have < vcpu_count)
		return add_cpu_nodes(fdt, have);
	return err ? err : set_cpu_ids(fdt);
}

bool fdt_build_guest(void)
{
	void *fdt = (void *)guest.dtb;
	int err, chosen;

	err = fdt_open_into((const void *)plat.dtb, fdt, GUEST_DTB_MAX);
	if (!err) {
		int mem = fdt_path_offset(fdt, "/memory");
		if (mem < 0)
			mem = fdt_node_offset_by_prop_value(fdt, -1, "device_type", "memory", 7);
		err = mem < 0 ? mem : set_reg(fdt, mem, guest.ram_base, guest.ram_end - guest.ram_base);
	}
	chosen = err ? err : fdt_path_offset(fdt, "/chosen");
	if (chosen == -FDT_ERR_NOTFOUND)
		chosen = fdt_add_subnode(fdt, 0, "chosen");
	if (chosen < 0)
		err = chosen;
	if (!err)
		err = fdt_setprop_string(fdt, chosen, "bootargs", guest.cmdline);
	if (!err && guest.initrd_size) {
		err = fdt_setprop_u64(fdt, chosen, "linux,initrd-start", guest.initrd);
		if (!err)
			err = fdt_setprop_u64(fdt, chosen, "linux,initrd-end", guest.initrd + guest.initrd_size);
	}
	if (!err)
		err = hide_debug_line_window(fdt);
	if (!err)
		err = remove_its(fdt);
	if (!err)
		err = remove_pmu(fdt);
	if (!err)
		err = set_guest_cpus(fdt);
	if (!err)
		err = fdt_pack(fdt);
	if (err) {
		printk("trapvisor: building the guest device tree failed: %s\n", fdt_strerror(err));
		return false;
	}
	return true;
}
