/*
 * Watchpoints through stage 2, for any number and any length of guest RAM
 * (design.md: HyperDbg's EPT monitor, on AArch64). A watched range is named by
 * a guest virtual address and translated once, at insertion, so it watches
 * those physical bytes through any alias. Its pages lose write permission (a
 * write watchpoint), read permission (read) or both (access) in the watched
 * copy of the guest's stage 2 that every vCPU runs on while watchpoints exist
 * (hv/arch/aarch64/stage2.c).
 *
 * A fault on a watched page is decoded into the access it was (the syndrome,
 * or the instruction for the forms without one: pairs, SIMD&FP, atomics,
 * exclusives, DC ZVA). If the access touches a watched range in the watched
 * direction it is a hit: GDB is told, with the vCPU stopped on the accessing
 * instruction. Otherwise it is a miss, and the vCPU steps just that instruction
 * on the guest's own tree, with its interrupts held off, and is back on the
 * watched tree at the step exception: the access completes exactly as it
 * would have, and another vCPU's access to the page meanwhile still faults.
 */
#include "hv.h"
#include "lib.h"
#include "mm.h"
#include "mmio.h"
#include "gic.h"
#include "debug.h"
#include "s2watch.h"
#include "arch/sysreg.h"

#define WATCHES 64
#define WATCHED_PAGES 4096 /* 16 MiB of watched ranges in all */
#define SPSR_SS BIT(21)
#define MDSCR_SS BIT(0)

struct watch {
	bool used;
	u8 kind;     /* enum watch_kind */
	u64 va, len;
	unsigned first, pages; /* its pages' IPAs: page_ipa[first .. first + pages) */
	u64 hits;
};

/* A page some watchpoint covers, and how many of each kind do. */
struct watched_page {
	u64 ipa;
	u16 refs[WATCH_KINDS];
	u64 hits, misses;
};

static struct {
	struct watch w[WATCHES];
	u64 page_ipa[WATCHED_PAGES]; /* per watchpoint, in its VA order */
	unsigned page_ipa_used;
	struct watched_page pages[WATCHED_PAGES]; /* sorted by IPA */
	unsigned page_count;
	unsigned active; /* watchpoints */
	const char *refused; /* why the last insertion was refused */
	bool stepping[MAX_CPUS]; /* a pCPU stepping one access on the guest's own tree */
} s2w;

static struct watched_page *page_find(u64 ipa)
{
	unsigned lo = 0, hi = s2w.page_count;

	while (lo < hi) {
		unsigned mid = (lo + hi) / 2;
		if (s2w.pages[mid].ipa == ipa)
			return &s2w.pages[mid];
		if (s2w.pages[mid].ipa < ipa)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* What the page may still allow, from the kinds that watch it. */
static bool page_apply(const struct watched_page *p)
{
	bool readable = !p->refs[WATCH_READ] && !p->refs[WATCH_ACCESS];
	bool writable = !p->refs[WATCH_WRITE] && !p->refs[WATCH_ACCESS];

	return stage2_watch_set_page(p->ipa, readable, writable);
}

static bool page_ref(u64 ipa, enum watch_kind kind)
{
	struct watched_page *p = page_find(ipa);
	unsigned at = 0;

	if (!p) {
		if (s2w.page_count == WATCHED_PAGES)
			return false;
		while (at < s2w.page_count && s2w.pages[at].ipa < ipa)
			at++;
		memmove(&s2w.pages[at + 1], &s2w.pages[at], (s2w.page_count - at) * sizeof(s2w.pages[0]));
		s2w.page_count++;
		p = &s2w.pages[at];
		*p = (struct watched_page){ .ipa = ipa };
	}
	p->refs[kind]++;
	return page_apply(p);
}

static void page_unref(u64 ipa, enum watch_kind kind)
{
	struct watched_page *p = page_find(ipa);

	if (!p || !p->refs[kind])
		return;
	p->refs[kind]--;
	page_apply(p);
	if (!p->refs[WATCH_WRITE] && !p->refs[WATCH_READ] && !p->refs[WATCH_ACCESS]) {
		unsigned at = p - s2w.pages;
		memmove(p, p + 1, (s2w.page_count - at - 1) * sizeof(*p));
		s2w.page_count--;
	}
}

/* Drop watchpoint w: its pages, and its run of page_ipa, which later runs close up. */
static void watch_free(struct watch *w)
{
	for (unsigned k = 0; k < w->pages; k++)
		page_unref(s2w.page_ipa[w->first + k], w->kind);
	memmove(&s2w.page_ipa[w->first], &s2w.page_ipa[w->first + w->pages],
		(s2w.page_ipa_used - w->first - w->pages) * sizeof(u64));
	s2w.page_ipa_used -= w->pages;
	for (unsigned i = 0; i < WATCHES; i++)
		if (s2w.w[i].used && s2w.w[i].first > w->first)
			s2w.w[i].first -= w->pages;
	w->used = false;
	if (--s2w.active == 0)
		stage2_watch_end();
}

static const char *refuse(const char *why)
{
	s2w.refused = why;
	return why;
}

const char *s2watch_insert(enum watch_kind kind, u64 va, u64 len, unsigned vcpu)
{
	u64 first_page = ALIGN_DOWN(va, SZ_4K), ipa;
	struct watch *w = NULL;
	unsigned pages;

	if (len == 0 || va + len - 1 < va)
		return refuse("the range is empty or wraps");
	pages = (ALIGN_DOWN(va + len - 1, SZ_4K) - first_page) / SZ_4K + 1;
	for (unsigned i = 0; i < WATCHES && !w; i++)
		if (!s2w.w[i].used)
			w = &s2w.w[i];
	if (!w)
		return refuse("64 stage-2 watchpoints are in use");
	if (pages > WATCHED_PAGES - s2w.page_ipa_used)
		return refuse("more than 16 MiB watched in all");
	/* Every page must be guest RAM now, before anything changes. */
	for (unsigned k = 0; k < pages; k++) {
		if (!debug_va_to_ipa(vcpu, first_page + (u64)k * SZ_4K, &ipa))
			return refuse("an address of the range does not translate");
		if (!guest_ram_contains(ALIGN_DOWN(ipa, SZ_4K), SZ_4K))
			return refuse("not guest RAM (a device range is `monitor hv trap on mmio`)");
		s2w.page_ipa[s2w.page_ipa_used + k] = ALIGN_DOWN(ipa, SZ_4K);
	}
	if (s2w.active == 0 && !stage2_watch_begin())
		return refuse("out of stage-2 tables");
	*w = (struct watch){ true, kind, va, len, s2w.page_ipa_used, 0, 0 };
	s2w.page_ipa_used += pages;
	s2w.active++;
	for (; w->pages < pages; w->pages++) {
		if (!page_ref(s2w.page_ipa[w->first + w->pages], kind)) {
			s2w.page_ipa_used -= pages - w->pages; /* the rest was never referenced */
			watch_free(w);
			return refuse("out of stage-2 tables");
		}
	}
	s2w.refused = NULL;
	return NULL;
}

bool s2watch_remove(enum watch_kind kind, u64 va, u64 len)
{
	for (unsigned i = 0; i < WATCHES; i++) {
		struct watch *w = &s2w.w[i];
		if (w->used && w->kind == kind && w->va == va && w->len == len) {
			watch_free(w);
			return true;
		}
	}
	return false;
}

void s2watch_remove_all(void)
{
	for (unsigned i = 0; i < WATCHES; i++)
		if (s2w.w[i].used)
			watch_free(&s2w.w[i]);
}

void s2watch_load(void)
{
	sysreg_write(vttbr_el2, stage2_vttbr(s2w.active != 0));
	isb();
}

/*
 * The first byte of watch w that the access [ipa, ipa + size) within the
 * page at page_ipa touches, as w's guest virtual address; false if none.
 */
static bool watch_touched(const struct watch *w, u64 page_ipa, u64 ipa, u64 size, u64 *va)
{
	u64 w_first_page = ALIGN_DOWN(w->va, SZ_4K);

	for (unsigned k = 0; k < w->pages; k++) {
		u64 page_va = w_first_page + (u64)k * SZ_4K, lo, hi;
		if (s2w.page_ipa[w->first + k] != page_ipa)
			continue;
		/* The part of w on this page, as offsets in it. */
		lo = (w->va > page_va ? w->va : page_va) - page_va;
		hi = (w->va + w->len < page_va + SZ_4K ? w->va + w->len : page_va + SZ_4K) - page_va;
		u64 a_lo = ipa - page_ipa, a_hi = a_lo + size;
		if (a_lo < hi && lo < a_hi) {
			*va = page_va + (a_lo > lo ? a_lo : lo);
			return true;
		}
	}
	return false;
}

static bool kind_matches(enum watch_kind kind, const struct insn_mem_access *a)
{
	return kind == WATCH_ACCESS || (kind == WATCH_WRITE && a->write) || (kind == WATCH_READ && a->read);
}

/* What the faulting access was: from the syndrome, else from its instruction. */
static void fault_access(const struct trap_frame *f, u64 esr, u64 far, struct insn_mem_access *a)
{
	u64 ipa, fsc;

	/* A syndrome's FAR is exact unless the access may have begun on the page below. */
	if ((esr & ESR_DABT_ISV) && (far & 0xfff)) {
		a->va = far;
		a->size = 1u << ESR_DABT_SAS(esr);
		a->write = esr & ESR_DABT_WNR;
		a->read = !a->write;
		return;
	}
	if (guest_va_to_ipa(f, trap_pc(), false, &ipa, &fsc) && guest_ram_contains(ipa, 4) &&
	    insn_decode_at_pc(f, *(const u32 *)ipa, a))
		return;
	/* An access no decoder here knows (SVE, say): its first byte, as the
	 * syndrome says it went (docs/user-guide.md, limitations). */
	a->va = far;
	a->size = 1;
	a->write = esr & ESR_DABT_WNR;
	a->read = !a->write;
}

static void step_over(struct pcpu *cpu, struct trap_frame *f)
{
	s2w.stepping[cpu->id] = true;
	sysreg_write(vttbr_el2, stage2_vttbr(false));
	sysreg_write(mdscr_el1, sysreg_read(mdscr_el1) | MDSCR_SS);
	trap_set_pstate(trap_pstate() | SPSR_SS); /* the step is due after this one instruction */
	if (!cpu->curr->dbg.stepping)
		gic_mask_guest_interrupts(true);
	isb();
}

bool s2watch_fault(struct trap_frame *f, struct trap_event *ev, u64 ipa)
{
	struct pcpu *cpu = vcpu_pcpu(vcpu_of_frame(f));
	struct watched_page *page = s2w.active ? page_find(ALIGN_DOWN(ipa, SZ_4K)) : NULL;
	u64 far = sysreg_read(far_el2), esr = ev->esr;
	struct insn_mem_access a;

	if (!page)
		return false;
	ev->cls = TRAP_WATCH;
	ev->addr = ipa;
	/* A table walk of the guest's or cache maintenance is no data access: a miss. */
	if (!(esr & (ESR_DABT_S1PTW | ESR_DABT_CM))) {
		fault_access(f, esr, far, &a);
		ev->op = a.write ? OP_WRITE : OP_READ;
		ev->width = a.size > 255 ? 255 : a.size;
		/* At most two pages: this one, and the next or the one before. */
		for (u64 at = a.va; at < a.va + a.size; at = ALIGN_DOWN(at, SZ_4K) + SZ_4K) {
			u64 end = ALIGN_DOWN(at, SZ_4K) + SZ_4K, fsc, piece_ipa, va;
			u64 size = (a.va + a.size < end ? a.va + a.size : end) - at;
			if (ALIGN_DOWN(at, SZ_4K) == ALIGN_DOWN(far, SZ_4K))
				piece_ipa = ALIGN_DOWN(ipa, SZ_4K) | (at & 0xfff);
			else if (!guest_va_to_ipa(f, at, a.write, &piece_ipa, &fsc))
				continue;
			for (unsigned i = 0; i < WATCHES; i++) {
				struct watch *w = &s2w.w[i];
				if (!w->used || !kind_matches(w->kind, &a) ||
				    !watch_touched(w, ALIGN_DOWN(piece_ipa, SZ_4K), piece_ipa, size, &va))
					continue;
				w->hits++;
				page->hits++;
				ev->value = 1; /* a hit */
				ev->outcome = OUT_EMULATED;
				/* The vCPU stays on the instruction; GDB steps it with the
				 * watchpoint out, or it faults here again. */
				debug_stop_for_watch(f, w->kind, va);
				return true;
			}
		}
	}
	page->misses++;
	ev->value = 0;
	ev->outcome = OUT_FORWARDED;
	step_over(cpu, f);
	return true;
}

static void step_end(struct pcpu *cpu)
{
	s2w.stepping[cpu->id] = false;
	sysreg_write(vttbr_el2, stage2_vttbr(true));
	if (!cpu->curr->dbg.stepping) { /* GDB's own step, if any, carries on */
		sysreg_write(mdscr_el1, sysreg_read(mdscr_el1) & ~MDSCR_SS);
		trap_set_pstate(trap_pstate() & ~SPSR_SS);
		gic_mask_guest_interrupts(false);
	}
	isb();
}

bool s2watch_step_done(struct pcpu *cpu)
{
	if (!s2w.stepping[cpu->id])
		return false;
	step_end(cpu);
	return true;
}

bool s2watch_stepping(struct pcpu *cpu)
{
	return s2w.stepping[cpu->id];
}

void s2watch_cancel(struct pcpu *cpu)
{
	if (s2w.stepping[cpu->id])
		step_end(cpu);
}

static const char *const kind_names[] = { "write", "read", "access" };

void s2watch_list(const struct text_sink *out)
{
	unsigned n = 0;

	for (unsigned i = 0; i < WATCHES; i++) {
		const struct watch *w = &s2w.w[i];
		if (!w->used)
			continue;
		n++;
		sink_printf(out, "  %-6s %#lx-%#lx (%lu bytes, %u pages) hits %lu\n", kind_names[w->kind], w->va,
			    w->va + w->len - 1, w->len, w->pages, w->hits);
	}
	for (unsigned i = 0; i < s2w.page_count; i++) {
		const struct watched_page *p = &s2w.pages[i];
		sink_printf(out, "  page %#lx: write %u read %u access %u; accesses that hit %lu, missed %lu\n", p->ipa,
			    p->refs[WATCH_WRITE], p->refs[WATCH_READ], p->refs[WATCH_ACCESS], p->hits, p->misses);
	}
	if (!n)
		sink_printf(out, "  no stage-2 watchpoints (the debug registers hold the first ones that fit)\n");
	if (s2w.refused)
		sink_printf(out, "  last refused: %s\n", s2w.refused);
}
