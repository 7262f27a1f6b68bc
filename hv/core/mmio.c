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
#include "arch/sysreg.h"

static u64 width_mask(unsigned width)
{
	return width >= 8 ? ~0ULL : (1ULL << (width * 8)) - 1;
}

/* Do the access on the real device at the same address. */
void mmio_forward(u64 pa, struct emul_access *acc)
{
	volatile void *p = (volatile void *)pa;

	switch (acc->width) {
	case 1:
		if (acc->write)
			*(volatile u8 *)p = acc->value;
		else
			acc->value = *(volatile u8 *)p;
		break;
	case 2:
		if (acc->write)
			*(volatile u16 *)p = acc->value;
		else
			acc->value = *(volatile u16 *)p;
		break;
	case 4:
		if (acc->write)
			*(volatile u32 *)p = acc->value;
		else
			acc->value = *(volatile u32 *)p;
		break;
	default:
		if (acc->write)
			*(volatile u64 *)p = acc->value;
		else
			acc->value = *(volatile u64 *)p;
	}
}

/*
 * PCI configuration space: every function the guest may see is forwarded;
 * the debug line's function reads as absent (all ones), writes to it vanish.
 */
static void ecam_access(const struct mmio_region *r, struct emul_access *acc)
{
	unsigned bdf = (acc->addr - r->base) >> 12;

	if (platform_ecam_device_is_hidden(bdf)) {
		if (!acc->write)
			acc->value = width_mask(acc->width);
		return;
	}
	mmio_forward(acc->addr, acc);
}

static struct mmio_region regions[12];
static unsigned region_count;

bool mmio_region_add(const char *name, u64 base, u64 size,
		     void (*access)(const struct mmio_region *, struct emul_access *))
{
	if (region_count == ARRAY_SIZE(regions))
		return false;
	regions[region_count++] = (struct mmio_region){ name, base, size, access };
	return true;
}

static void forward_access(const struct mmio_region *r, struct emul_access *acc)
{
	mmio_forward(acc->addr, acc);
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
	mmio_region_add("pci-ecam", plat.ecam_base, plat.ecam_size, ecam_access);
	mmio_region_add("gic-distributor", plat.gicd_base, SZ_64K, gicd_access);
	mmio_region_add("gic-redistributors", plat.gicr_base, plat.gicr_size, gicr_sgi_access);
}

static const struct mmio_region *region_find(u64 ipa)
{
	for (unsigned i = 0; i < region_count; i++)
		if (ipa - regions[i].base < regions[i].size)
			return &regions[i];
	return NULL;
}

void mmio_trap(struct trap_frame *f, struct trap_event *ev)
{
	u64 far = sysreg_read(far_el2);
	u64 ipa = (FIELD(sysreg_read(hpfar_el2), 43, 4) << 12) | (far & 0xfff);
	const struct mmio_region *r = region_find(ipa);
	struct emul_access acc;

	ev->addr = ipa;
	ev->cls = TRAP_MMIO;
	if (ev->esr & ESR_DABT_CM) {
		/* Cache maintenance on a device or an unbacked IPA: nothing to do. */
		ev->op = OP_MAINT;
		vcpu_skip_instr();
		return;
	}
	ev->op = (ev->esr & ESR_DABT_WNR) ? OP_WRITE : OP_READ;
	/* No region, a fault during the guest's own table walk, or no syndrome
	 * (a load/store form the hardware cannot describe, e.g. with writeback). */
	if (!r || (ev->esr & ESR_DABT_S1PTW) || !esr_decode_dabt(ev->esr, ipa, &acc)) {
		ev->cls = r ? TRAP_MMIO : TRAP_ABORT;
		ev->outcome = OUT_ABORT_INJECTED;
		vcpu_inject_dabt(f, far, ev->esr & ESR_DABT_WNR);
		return;
	}
	if (acc.write)
		acc.value = frame_get_reg(f, acc.reg) & width_mask(acc.width);
	r->access(r, &acc);
	if (!acc.write) {
		acc.value = emul_access_load_result(&acc, acc.value);
		frame_set_reg(f, acc.reg, acc.value);
	}
	ev->value = acc.value;
	ev->width = acc.width;
	ev->reg = acc.reg;
	ev->outcome = OUT_EMULATED;
	vcpu_skip_instr();
}
