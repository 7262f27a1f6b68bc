/*
 * Stage-2 data aborts. An abort on a region the hypervisor emulates is decoded
 * into the shared access record and handed to that region; any other stage-2
 * fault means the guest touched an IPA with nothing behind it (or the
 * hypervisor's own memory), and it receives a synchronous external abort, as
 * it would for a hole in a physical address map.
 */
#include "hv.h"
#include "lib.h"
#include "platform.h"
#include "mmio.h"
#include "mm.h"
#include "gic.h"
#include "s2watch.h"
#include "arch/sysreg.h"

static u64 width_mask(unsigned width)
{
	return width >= 8 ? ~0ULL : (1ULL << (width * 8)) - 1;
}

/*
 * Do the access on the real device at the same address. A device that answers
 * with an abort (a hole in a device frame, say) fails the access instead of
 * the hypervisor: the caller hands the guest the abort it would have had.
 */
bool mmio_forward(u64 pa, struct emul_access *acc)
{
	volatile void *p = (volatile void *)pa;
	u64 value = acc->value;

	el2_probe_begin();
	switch (acc->width) {
	case 1:
		if (acc->write)
			*(volatile u8 *)p = value;
		else
			value = *(volatile u8 *)p;
		break;
	case 2:
		if (acc->write)
			*(volatile u16 *)p = value;
		else
			value = *(volatile u16 *)p;
		break;
	case 4:
		if (acc->write)
			*(volatile u32 *)p = value;
		else
			value = *(volatile u32 *)p;
		break;
	default:
		if (acc->write)
			*(volatile u64 *)p = value;
		else
			value = *(volatile u64 *)p;
	}
	if (!el2_probe_end())
		return false;
	acc->value = value;
	return true;
}

static struct mmio_region regions[12];
static unsigned region_count;

bool mmio_region_add(const char *name, u64 base, u64 size, mmio_access_fn *access)
{
	if (region_count == ARRAY_SIZE(regions))
		return false;
	regions[region_count++] = (struct mmio_region){ name, base, size, access };
	return true;
}

static bool forward_access(const struct mmio_region *r, struct emul_access *acc)
{
	return mmio_forward(acc->addr, acc);
}

static const struct mmio_region *region_find(u64 ipa);

/*
 * Watch a device range: unmap its pages at stage 2 and perform every access
 * for the guest (trap-and-forward), so that any device can be traced and
 * caught, not only emulated ones. Only device ranges the guest has mapped
 * directly: not RAM, not what the hypervisor already keeps to itself.
 */
const char *mmio_watch(u64 base, u64 last, bool on)
{
	u64 start = ALIGN_DOWN(base, SZ_4K), end = ALIGN_UP(last + 1, SZ_4K), pa;

	if (last < base)
		return "the range ends before it starts";
	if (!on) {
		for (unsigned i = 0; i < region_count; i++) {
			if (regions[i].access == forward_access && regions[i].base == start &&
			    regions[i].size == end - start) {
				stage2_set_device_pages(start, end - start, true);
				regions[i] = regions[--region_count];
				return NULL;
			}
		}
		return "no such watched range (hv trap list shows them)";
	}
	for (u64 a = start; a < end; a += SZ_4K)
		if (!stage2_lookup(a, &pa) || pa != a || guest_ram_contains(a, 1) || region_find(a))
			return "not a device range the guest reaches directly";
	if (region_count == ARRAY_SIZE(regions))
		return "too many trapped ranges";
	if (!stage2_set_device_pages(start, end - start, false))
		return "out of stage-2 tables";
	mmio_region_add("watched", start, end - start, forward_access);
	return NULL;
}

bool mmio_is_trapped(u64 base, u64 last)
{
	for (u64 a = ALIGN_DOWN(base, SZ_4K); a <= last; a += SZ_4K)
		if (!region_find(a))
			return false;
	return true;
}

void mmio_watch_list(const struct text_sink *out)
{
	for (unsigned i = 0; i < region_count; i++)
		sink_printf(out, "  mmio    %#lx-%#lx %s\n", regions[i].base, regions[i].base + regions[i].size - 1,
			    regions[i].access == forward_access ? "(watched: forwarded)" : regions[i].name);
}

void mmio_init(void)
{
	mmio_region_add("pci-ecam", plat.ecam_base, plat.ecam_size, pci_ecam_access);
	mmio_region_add("gic-distributor", plat.gicd_base, SZ_64K, vgicd_access);
	mmio_region_add("gic-redistributors", plat.gicr_base, plat.gicr_size, vgicr_access);
}

static const struct mmio_region *region_find(u64 ipa)
{
	for (unsigned i = 0; i < region_count; i++)
		if (ipa - regions[i].base < regions[i].size)
			return &regions[i];
	return NULL;
}

#define SPSR_M_AARCH32 BIT(4)
#define SPSR_M_EL(spsr) FIELD(spsr, 3, 2)
#define SPSR_M_SP BIT(0)
#define SPSR_E BIT(9)	     /* AArch32 PSTATE.E: big-endian data */
#define SCTLR_E0E BIT(24)    /* EL0 data accesses are big-endian */
#define SCTLR_EE BIT(25)     /* EL1 data accesses (and table walks) are big-endian */

/* What the trapped instruction insn, the guest's at ELR_EL2, accesses (AArch64 only). */
bool insn_decode_at_pc(const struct trap_frame *f, u32 insn, struct insn_mem_access *out)
{
	u64 spsr = trap_pstate();
	struct insn_regs r = {
		f->x,
		SPSR_M_EL(spsr) && (spsr & SPSR_M_SP) ? sysreg_read(sp_el1) : sysreg_read(sp_el0),
		trap_pc(),
		sysreg_read(dczid_el0),
	};

	return !(spsr & SPSR_M_AARCH32) && insn_mem_access(insn, &r, out);
}

static bool guest_data_big_endian(void)
{
	u64 spsr = trap_pstate();

	if (spsr & SPSR_M_AARCH32)
		return spsr & SPSR_E;
	return sysreg_read(sctlr_el1) & (SPSR_M_EL(spsr) == 0 ? SCTLR_E0E : SCTLR_EE);
}

/*
 * The virtual address the access really starts at. FAR is exact for an access
 * within one page; one that crosses from a directly mapped page into a trapped
 * one is faulted by QEMU on the second page, with FAR at that page's first
 * byte (docs/architecture.md, QEMU facts). So an access that seems to begin
 * such a page is checked against the address its instruction computes.
 */
static u64 access_start(struct trap_frame *f, u64 far, const struct mmio_region *r, const struct emul_access *acc)
{
	u64 spsr = trap_pstate(), ipa, fsc;
	struct insn_mem_access access;

	/* Only a region's first page can be entered so, and only from a page that
	 * does not trap: from one that does, the fault comes there, FAR exact. */
	if ((far & 0xfff) || acc->width == 1 || (spsr & SPSR_M_AARCH32) || acc->addr - r->base >= SZ_4K ||
	    region_find(acc->addr - SZ_4K))
		return far;
	if (!guest_va_to_ipa(f, trap_pc(), false, &ipa, &fsc) || !guest_ram_contains(ipa, 4))
		return far;
	return insn_decode_at_pc(f, *(const u32 *)ipa, &access) ? access.va : far;
}

static void inject_abort(struct trap_frame *f, struct trap_event *ev, u64 va, unsigned fsc)
{
	ev->outcome = OUT_ABORT_INJECTED;
	vcpu_inject_dabt(f, va, (ev->esr & (ESR_IL | ESR_DABT_WNR)) | fsc);
}

/*
 * The rule for every emulated or forwarded region (docs/architecture.md,
 * "Trapped device accesses"): it behaves as Device memory, so an access must be
 * naturally aligned, and any other one takes the alignment fault the
 * architecture gives for Device memory; an aligned access lies within one
 * page, so within one region, and the region splits it per register. A device
 * that aborts is the guest's external abort, never the hypervisor's fault.
 */
void mmio_trap(struct trap_frame *f, struct trap_event *ev)
{
	u64 far = sysreg_read(far_el2);
	u64 ipa = (FIELD(sysreg_read(hpfar_el2), 43, 4) << 12) | (far & 0xfff);
	const struct mmio_region *r = region_find(ipa);
	struct emul_access acc;
	bool big_endian;
	u64 start;

	ev->addr = ipa;
	ev->cls = TRAP_MMIO;
	/* Guest RAM that a stage-2 watchpoint took permissions from. */
	if (FSC_IS_PERMISSION(ESR_xABT_FSC(ev->esr)) && s2watch_fault(f, ev, ipa))
		return;
	if (ev->esr & ESR_DABT_CM) {
		/* Cache maintenance on a device or an unbacked IPA: nothing to do. */
		ev->op = OP_MAINT;
		vcpu_skip_instr(ev->esr);
		return;
	}
	ev->op = (ev->esr & ESR_DABT_WNR) ? OP_WRITE : OP_READ;
	/* No region, a fault during the guest's own table walk, or no syndrome
	 * (a load/store form the hardware cannot describe, e.g. with writeback). */
	if (!r || (ev->esr & ESR_DABT_S1PTW) || !esr_decode_dabt(ev->esr, ipa, &acc)) {
		ev->cls = r ? TRAP_MMIO : TRAP_ABORT;
		inject_abort(f, ev, far, FSC_SYNC_EXTERNAL);
		return;
	}
	start = access_start(f, far, r, &acc);
	if (start & (acc.width - 1)) {
		inject_abort(f, ev, start, FSC_ALIGNMENT);
		return;
	}
	big_endian = guest_data_big_endian();
	if (acc.write) {
		acc.value = frame_get_reg(f, acc.reg) & width_mask(acc.width);
		if (big_endian)
			acc.value = emul_access_byte_swap(acc.value, acc.width);
	}
	if (!r->access(r, &acc)) {
		inject_abort(f, ev, far, FSC_SYNC_EXTERNAL);
		return;
	}
	if (!acc.write) {
		u64 raw = big_endian ? emul_access_byte_swap(acc.value, acc.width) : acc.value;
		frame_set_reg(f, acc.reg, emul_access_load_result(&acc, raw));
	}
	ev->value = acc.value;
	ev->width = acc.width;
	ev->reg = acc.reg;
	ev->outcome = OUT_EMULATED;
	vcpu_skip_instr(ev->esr);
}
