/*
 * A virtio console as the debug line: QEMU's `virtio-serial-pci` with
 * `disable-modern=on,vectors=0` (the legacy interface: registers at I/O BAR 0,
 * no MSI-X, INTx) and one `virtconsole` port, number 0. Without the MULTIPORT
 * feature port 0 is the whole device: queue 0 receives, queue 1 transmits.
 *
 * Why not only the 16550: QEMU sends each byte a UART transmits with its own
 * write() to the socket (4.4 µs a byte here), and each register access is an
 * exit. A virtio buffer is one write() however long, and the receive queue
 * takes what GDB sent in one read(). docs/performance.md has the figures.
 *
 * The rings live in the hypervisor's memory (identity-mapped, PA = VA), which
 * the device reaches by DMA: there is no IOMMU on the machine, and the guest
 * never learns the device exists.
 */
#include "platform.h"
#include "lib.h"
#include "arch/sysreg.h"

/* Legacy virtio-pci registers (no MSI-X: the device's config starts at 0x14). */
#define VIRTIO_HOST_FEATURES 0x00
#define VIRTIO_GUEST_FEATURES 0x04
#define VIRTIO_QUEUE_PFN 0x08 /* the ring's address / 4096 */
#define VIRTIO_QUEUE_NUM 0x0c /* its size, fixed by the device */
#define VIRTIO_QUEUE_SEL 0x0e
#define VIRTIO_QUEUE_NOTIFY 0x10
#define VIRTIO_STATUS 0x12
#define VIRTIO_ISR 0x13 /* reading it lowers INTx */
#define STATUS_ACKNOWLEDGE 1
#define STATUS_DRIVER 2
#define STATUS_DRIVER_OK 4
#define STATUS_FAILED 0x80
#define VRING_ALIGN 4096

#define VRING_DESC_F_WRITE 2	     /* the device writes this buffer */
#define VRING_AVAIL_F_NO_INTERRUPT 1 /* no interrupt when this queue's buffers are used */

#define QUEUE_RX 0
#define QUEUE_TX 1
#define QUEUE_MAX 256 /* QEMU's virtio-serial queues have 128 entries */
#define RX_BUFS 8
#define RX_BUF_SIZE 512
#define TX_BUF_SIZE 4096

struct vring_desc {
	u64 addr;
	u32 len;
	u16 flags, next;
};

struct vring_avail {
	u16 flags, idx;
	u16 ring[];
};

struct vring_used {
	u16 flags, idx;
	struct {
		u32 id, len;
	} ring[];
};

struct vq {
	unsigned size;
	volatile struct vring_desc *desc;
	volatile struct vring_avail *avail;
	volatile struct vring_used *used;
	u16 avail_idx, used_seen;
};

/* Descriptors and available ring, then the used ring on the next 4 KiB. */
#define VRING_BYTES ALIGN_UP(ALIGN_UP(QUEUE_MAX * 16 + 6 + 2 * QUEUE_MAX, VRING_ALIGN) + 6 + 8 * QUEUE_MAX, VRING_ALIGN)
static u8 rings[2][VRING_BYTES] __attribute__((aligned(VRING_ALIGN)));
static u8 rx_bufs[RX_BUFS][RX_BUF_SIZE];
static u8 tx_buf[TX_BUF_SIZE];

static u64 io_base;
static struct vq queues[2];
/* The receive buffer being read: its descriptor, bytes in it, bytes taken. */
static struct {
	bool held;
	u16 id;
	u32 len, pos;
} rx;

static void io_write8(unsigned reg, u8 v) { *(volatile u8 *)(io_base + reg) = v; }
static void io_write16(unsigned reg, u16 v) { *(volatile u16 *)(io_base + reg) = v; }
static void io_write32(unsigned reg, u32 v) { *(volatile u32 *)(io_base + reg) = v; }
static u8 io_read8(unsigned reg) { return *(volatile u8 *)(io_base + reg); }
static u16 io_read16(unsigned reg) { return *(volatile u16 *)(io_base + reg); }

static bool vq_setup(unsigned index)
{
	struct vq *q = &queues[index];
	u8 *mem = rings[index];

	io_write16(VIRTIO_QUEUE_SEL, index);
	q->size = io_read16(VIRTIO_QUEUE_NUM);
	if (!q->size || q->size > QUEUE_MAX || (q->size & (q->size - 1)))
		return false;
	memset(mem, 0, VRING_BYTES);
	q->desc = (volatile struct vring_desc *)mem;
	q->avail = (volatile struct vring_avail *)(mem + 16 * q->size);
	q->used = (volatile struct vring_used *)(mem + ALIGN_UP(16 * q->size + 6 + 2 * q->size, VRING_ALIGN));
	q->avail_idx = q->used_seen = 0;
	io_write32(VIRTIO_QUEUE_PFN, (u32)((u64)mem / VRING_ALIGN));
	return true;
}

/* Offer descriptor id to the device (the ring entry, then the index). */
static void vq_offer(struct vq *q, u16 id)
{
	q->avail->ring[q->avail_idx % q->size] = id;
	dsb(sy);
	q->avail->idx = ++q->avail_idx;
	dsb(sy);
}

static void rx_post(u16 id)
{
	vq_offer(&queues[QUEUE_RX], id);
}

static bool console_init(u64 base)
{
	io_base = base;
	io_write8(VIRTIO_STATUS, 0); /* reset */
	io_write8(VIRTIO_STATUS, STATUS_ACKNOWLEDGE);
	io_write8(VIRTIO_STATUS, STATUS_ACKNOWLEDGE | STATUS_DRIVER);
	(void)*(volatile u32 *)(io_base + VIRTIO_HOST_FEATURES);
	io_write32(VIRTIO_GUEST_FEATURES, 0); /* no MULTIPORT: port 0 only */
	if (!vq_setup(QUEUE_RX) || !vq_setup(QUEUE_TX)) {
		io_write8(VIRTIO_STATUS, STATUS_FAILED);
		return false;
	}
	/* Transmits are waited for, not signalled; receives signal once GDB
	 * attaches (enable_rx_interrupt). */
	queues[QUEUE_TX].avail->flags = VRING_AVAIL_F_NO_INTERRUPT;
	queues[QUEUE_RX].avail->flags = VRING_AVAIL_F_NO_INTERRUPT;
	for (u16 i = 0; i < RX_BUFS; i++) {
		volatile struct vring_desc *d = &queues[QUEUE_RX].desc[i];
		d->addr = (u64)rx_bufs[i];
		d->len = RX_BUF_SIZE;
		d->flags = VRING_DESC_F_WRITE;
		rx_post(i);
	}
	io_write8(VIRTIO_STATUS, STATUS_ACKNOWLEDGE | STATUS_DRIVER | STATUS_DRIVER_OK);
	io_write16(VIRTIO_QUEUE_NOTIFY, QUEUE_RX);
	return true;
}

static void console_enable_rx_interrupt(void)
{
	queues[QUEUE_RX].avail->flags = 0;
	dsb(sy);
}

/*
 * One buffer at a time, each waited for: QEMU passes it to the socket before
 * the notify returns (TCG handles the write in the vCPU's thread), or later
 * if the socket is full. A GDB that went away does not block it: with nobody
 * connected the device drops what it is given.
 */
static void console_write(const u8 *buf, size_t len)
{
	struct vq *q = &queues[QUEUE_TX];

	while (len) {
		size_t n = len < TX_BUF_SIZE ? len : TX_BUF_SIZE;
		memcpy(tx_buf, buf, n);
		q->desc[0].addr = (u64)tx_buf;
		q->desc[0].len = (u32)n;
		q->desc[0].flags = 0;
		vq_offer(q, 0);
		io_write16(VIRTIO_QUEUE_NOTIFY, QUEUE_TX);
		while (q->used->idx == q->used_seen)
			;
		q->used_seen++;
		buf += n;
		len -= n;
	}
}

/* Next byte from the used receive buffers; a buffer read to its end goes back
 * to the device. With none waiting, lower the INTx line (ISR), then look once
 * more: a buffer used in between raised it again, and is taken now. */
static int console_getc(void)
{
	struct vq *q = &queues[QUEUE_RX];

	while (!rx.held || rx.pos == rx.len) {
		if (rx.held) {
			rx.held = false;
			rx_post(rx.id);
			io_write16(VIRTIO_QUEUE_NOTIFY, QUEUE_RX);
		}
		if (q->used->idx == q->used_seen) {
			(void)io_read8(VIRTIO_ISR);
			dsb(sy);
			if (q->used->idx == q->used_seen)
				return -1;
		}
		dsb(sy);
		u16 slot = q->used_seen++ % q->size;
		rx.id = (u16)q->used->ring[slot].id;
		rx.len = q->used->ring[slot].len;
		rx.pos = 0;
		rx.held = rx.id < RX_BUFS;
		if (rx.len > RX_BUF_SIZE)
			rx.len = RX_BUF_SIZE;
	}
	return rx_bufs[rx.id][rx.pos++];
}

const struct debug_line virtio_console_line = {
	.name = "virtio console",
	.init = console_init,
	.write = console_write,
	.getc = console_getc,
	.enable_rx_interrupt = console_enable_rx_interrupt,
};
