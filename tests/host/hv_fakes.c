/* Host fakes for the hypervisor's portable core; see hv_fakes.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hv_fakes.h"
#include "mm.h"
#include "console.h"
#include "sysreg.h"
#include "debug.h"
#include "platform.h"
#include "sched.h"
#include "fake_insns.h"

/* ---- the globals hv/core/main.c defines ---- */
struct pcpu pcpus[MAX_CPUS];
unsigned pcpu_count;
struct vcpu_slot vcpu_slots[MAX_VCPUS];
unsigned vcpu_count;
struct guest_config guest;
struct pcpu *host_this_pcpu;
/* ... and the one hv/platform/qemu_virt.c does: the machine's CPUs (vcpu_init()) */
struct platform plat;

/* ---- named registers: sysreg_read(esr_el2) -> host_sysreg_read("esr_el2") ---- */
#define FAKE_REGS 128
static struct {
	char name[48];
	u64 value;
	unsigned writes;
} named[FAKE_REGS];
static unsigned named_count;

static unsigned named_slot(const char *name)
{
	for (unsigned i = 0; i < named_count; i++)
		if (!strcmp(named[i].name, name))
			return i;
	if (named_count == FAKE_REGS || strlen(name) >= sizeof(named[0].name)) {
		fprintf(stderr, "hv_fakes: register file full or name too long: %s\n", name);
		abort();
	}
	strcpy(named[named_count].name, name);
	named[named_count].value = 0;
	named[named_count].writes = 0;
	return named_count++;
}

u64 host_sysreg_read(const char *name)
{
	return named[named_slot(name)].value;
}

void host_sysreg_write(const char *name, u64 v)
{
	unsigned i = named_slot(name);

	named[i].value = v;
	named[i].writes++;
}

void fake_sysreg_set(const char *name, u64 v)
{
	named[named_slot(name)].value = v;
}

u64 fake_sysreg_get(const char *name)
{
	return named[named_slot(name)].value;
}

unsigned fake_sysreg_writes(const char *name)
{
	return named[named_slot(name)].writes;
}

/* ---- registers by encoding: hv/core/sysreg.c's hw_read_X()/hw_write_X() ---- */
static struct {
	u32 enc;
	u64 value;
	unsigned reads, writes;
} encs[1024]; /* every table entry and then some */
static unsigned enc_count;

static unsigned enc_slot(u32 enc)
{
	for (unsigned i = 0; i < enc_count; i++)
		if (encs[i].enc == enc)
			return i;
	if (enc_count == ARRAY_SIZE(encs)) {
		fprintf(stderr, "hv_fakes: encoded register file full\n");
		abort();
	}
	encs[enc_count].enc = enc;
	encs[enc_count].value = 0;
	encs[enc_count].reads = encs[enc_count].writes = 0;
	return enc_count++;
}

u64 host_sysreg_enc_read(u32 enc)
{
	unsigned i = enc_slot(enc);

	encs[i].reads++;
	return encs[i].value;
}

void host_sysreg_enc_write(u32 enc, u64 v)
{
	unsigned i = enc_slot(enc);

	encs[i].value = v;
	encs[i].writes++;
}

void fake_enc_set(u32 enc, u64 v)
{
	encs[enc_slot(enc)].value = v;
}

u64 fake_enc_get(u32 enc)
{
	return encs[enc_slot(enc)].value;
}

unsigned fake_enc_reads(u32 enc)
{
	return encs[enc_slot(enc)].reads;
}

unsigned fake_enc_writes(u32 enc)
{
	return encs[enc_slot(enc)].writes;
}

/* ---- arch: guest translation, stage 2, caches ---- */
struct fake_translation fake_s1;
struct fake_stage2 fake_s2;
unsigned fake_ic_invalidate_all_calls;

bool guest_va_to_ipa(const struct trap_frame *f, u64 va, bool write, u64 *ipa, u64 *fsc)
{
	fake_s1.calls++;
	fake_s1.last_va = va;
	if (!fake_s1.ok) {
		*fsc = fake_s1.fsc;
		return false;
	}
	*ipa = va + fake_s1.ipa_offset;
	return true;
}

bool stage2_lookup(u64 ipa, u64 *pa)
{
	fake_s2.calls++;
	if (!fake_s2.ok)
		return false;
	*pa = ipa + fake_s2.pa_offset;
	return true;
}

void cache_ic_invalidate_all(void)
{
	fake_ic_invalidate_all_calls++;
}

/* ---- trace.c (event dumps) ---- */
unsigned fake_event_print_recent_calls, fake_event_print_recent_n;
unsigned fake_stats_print_calls;

const struct text_sink console_sink;

void event_print_recent(const struct text_sink *out, unsigned n)
{
	fake_event_print_recent_calls++;
	fake_event_print_recent_n = n;
}

void stats_print(const struct text_sink *out)
{
	fake_stats_print_calls++;
}

/* ---- debug.c: no debugger attached in these tests ---- */
struct debug_now debug_now; /* running, GDB not attached */

bool debug_guest_debug_register(struct vcpu *v, const struct sysreg_desc *d, struct emul_access *acc)
{
	return false;
}

void s2watch_load(void)
{
}

/* ---- gic.c ---- */
void gic_wait_for_fiq(void)
{
}

/* ---- vgic.c ---- */
u64 fake_last_sgi;

void vgic_send_sgi(struct vcpu *from, u64 value, bool group1)
{
	fake_last_sgi = value;
}

void vgic_dir(struct vcpu *v, unsigned intid)
{
}

bool fake_vgic_wfi_should_wake;
unsigned fake_vgic_wfi_should_wake_calls;

bool vgic_wfi_should_wake(struct vcpu *v)
{
	fake_vgic_wfi_should_wake_calls++;
	return fake_vgic_wfi_should_wake;
}

/* The same look; the interface stays as it is (these tests have none). */
bool vgic_wfi_put_unless_woken(struct vcpu *v)
{
	return vgic_wfi_should_wake(v);
}

void vgic_cpu_load(struct vcpu *v)
{
	v->loaded = true;
}

bool fake_scxtnum;
bool context_switches_scxtnum(void)
{
	return fake_scxtnum;
}

void vgic_update(struct vcpu *v, struct trap_frame *f)
{
}

/* ---- the call log: context.c, vgic.c and sched.c as vcpu.c and psci.c call them ---- */
struct fake_call fake_calls[FAKE_CALLS_MAX];
unsigned fake_call_count;

static void log_call(enum fake_call_kind kind, struct vcpu *v, u64 a, u64 b)
{
	struct fake_call *c;

	if (fake_call_count == FAKE_CALLS_MAX) {
		fprintf(stderr, "hv_fakes: call log full\n");
		abort();
	}
	c = &fake_calls[fake_call_count++];
	c->kind = kind;
	c->v = v;
	c->a = a;
	c->b = b;
	c->state = v->state;
	c->exit_work = v->exit_work;
	c->entry = v->entry;
	c->context_id = v->context_id;
	c->sched_ctx = v->sched_ctx;
	c->stepping = v->dbg.stepping;
}

unsigned fake_calls_of(enum fake_call_kind kind, const struct vcpu *v)
{
	unsigned n = 0;

	for (unsigned i = 0; i < fake_call_count; i++)
		n += fake_calls[i].kind == kind && (!v || fake_calls[i].v == v);
	return n;
}

int fake_call_index(enum fake_call_kind kind, const struct vcpu *v)
{
	for (unsigned i = 0; i < fake_call_count; i++)
		if (fake_calls[i].kind == kind && (!v || fake_calls[i].v == v))
			return (int)i;
	return -1;
}

const struct fake_call *fake_call_first(enum fake_call_kind kind, const struct vcpu *v)
{
	int i = fake_call_index(kind, v);

	return i < 0 ? NULL : &fake_calls[i];
}

void vgic_vcpu_reset(struct vcpu *v)
{
	log_call(FAKE_VGIC_VCPU_RESET, v, 0, 0);
}

/* ---- arch/aarch64/context.c ---- */
void context_reset(struct vcpu *v, u64 entry, u64 x0)
{
	log_call(FAKE_CONTEXT_RESET, v, entry, x0);
}

/* As the real one ends: the vCPU's FP/SIMD is in, the trap lifted. */
void context_fp_claim(struct vcpu *v)
{
	v->pcpu->fp_owner = v;
	fake_sysreg_set("cptr_el2", fake_sysreg_get("cptr_el2") & ~(u64)BIT(10));
}

void context_fp_flush(struct pcpu *cpu)
{
}

/* ---- sched.c ---- */
bool sched_shared;
bool fake_sched_block_returns;

/* As sched.c places a vCPU at boot: what vcpu.c and trap_apply() read of it. */
void sched_place(struct vcpu *v, struct pcpu *cpu)
{
	v->pcpu = cpu;
	v->regs = &v->frame;
	v->event_cursor.ring = &v->events;
	v->event_cursor.meta = META_CPU(cpu->id, v->id);
	if (!cpu->fp_owner)
		cpu->fp_owner = v;
	cpu->placed_vcpus[cpu->placed] = v;
	if (++cpu->placed > 1)
		sched_shared = true;
}

void sched_start(struct vcpu *v)
{
	log_call(FAKE_SCHED_START, v, 0, 0);
	__atomic_store_n(&v->state, VCPU_ON_PENDING, __ATOMIC_RELEASE);
}

/* The wake-up that ends the n-th block finds an interrupt pending (0: none ever). */
unsigned fake_sched_block_pending_after = 1;
static unsigned sched_blocks;

bool sched_block(struct vcpu *v)
{
	log_call(FAKE_SCHED_BLOCK, v, 0, 0);
	if (fake_sched_block_returns && ++sched_blocks == fake_sched_block_pending_after)
		fake_vgic_wfi_should_wake = true;
	return fake_sched_block_returns;
}

/* ---- the instructions fake_insns.h turns into calls ---- */
unsigned fake_wfi_calls, fake_wfit_calls, fake_dsb_calls;
u32 fake_wfi_in_wfi, fake_wfit_in_wfi, fake_dsb_in_wfi;
u64 fake_wfit_deadline;

static u32 vcpus_in_wfi(void)
{
	u32 mask = 0;

	for (unsigned i = 0; i < MAX_VCPUS; i++)
		if (vcpu_slots[i].vcpu.in_wfi)
			mask |= 1u << i;
	return mask;
}

void fake_wfi(void)
{
	fake_wfi_calls++;
	fake_wfi_in_wfi = vcpus_in_wfi();
}

void fake_wfit(u64 cntvct_deadline)
{
	fake_wfit_calls++;
	fake_wfit_in_wfi = vcpus_in_wfi();
	fake_wfit_deadline = cntvct_deadline;
}

void fake_dsb(void)
{
	fake_dsb_calls++;
	fake_dsb_in_wfi = vcpus_in_wfi();
}

/* ---- console ---- */
int printk(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vprintf(fmt, ap);
	va_end(ap);
	return n;
}

/* ---- what must never be reached from the code under test ---- */
static void __attribute__((noreturn)) unreachable(const char *what)
{
	printf("FAIL: hv_fakes: %s called\n", what);
	fflush(stdout);
	abort();
}

void guest_enter(struct trap_frame *f)
{
	unreachable("guest_enter");
}

/* vcpu_power_on() only stores its address, as the first entry's return address. */
void sched_first_entry_thunk(void)
{
	unreachable("sched_first_entry_thunk");
}

void hv_system_off(void)
{
	unreachable("hv_system_off");
}

void hv_system_reset(void)
{
	unreachable("hv_system_reset");
}

void hv_panic(const char *fmt, ...)
{
	unreachable("hv_panic");
}

void fake_reset(void)
{
	named_count = 0;
	enc_count = 0;
	memset(&fake_s1, 0, sizeof(fake_s1));
	memset(&fake_s2, 0, sizeof(fake_s2));
	fake_ic_invalidate_all_calls = 0;
	fake_event_print_recent_calls = fake_event_print_recent_n = 0;
	fake_stats_print_calls = 0;
	memset(fake_calls, 0, sizeof(fake_calls));
	fake_call_count = 0;
	fake_sched_block_returns = true;
	fake_sched_block_pending_after = 1;
	sched_blocks = 0;
	fake_vgic_wfi_should_wake = false;
	fake_scxtnum = false;
	fake_vgic_wfi_should_wake_calls = 0;
	fake_wfi_calls = fake_wfit_calls = fake_dsb_calls = 0;
	fake_wfi_in_wfi = fake_wfit_in_wfi = fake_dsb_in_wfi = 0;
	fake_wfit_deadline = 0;
	sched_shared = false;
	memset(pcpus, 0, sizeof(pcpus));
	pcpu_count = 0;
	memset(vcpu_slots, 0, sizeof(vcpu_slots));
	vcpu_count = 0;
	memset(&guest, 0, sizeof(guest));
	memset(&plat, 0, sizeof(plat));
	host_this_pcpu = &pcpus[0];
}

/* fdt.c's, for the tests that do not link it (test_fdt does, and its own wins). */
__attribute__((weak)) u64 plat_vcpu_mpidr(unsigned id)
{
	return id < plat.cpu_count ? plat.cpu_mpidr[id] : id;
}

/* vgic.c's: no timer of the tests' vCPUs can wake them. */
bool vgic_could_wake(const struct vcpu *v, unsigned intid)
{
	return false;
}

/* n vCPUs on two pCPUs, vCPU i on pCPU i % 2 as at boot (n > 2 shares them), all off. */
void fake_place_vcpus(unsigned n)
{
	fake_reset();
	pcpu_count = 2;
	vcpu_count = n;
	for (unsigned i = 0; i < 2; i++)
		pcpus[i].id = i;
	for (unsigned i = 0; i < n; i++) {
		vcpu_slots[i].vcpu.id = i;
		vcpu_slots[i].vcpu.state = VCPU_OFF;
		sched_place(&vcpu_slots[i].vcpu, &pcpus[i % 2]);
	}
}
