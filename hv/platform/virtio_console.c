/*
 * A virtio console as the debug line: QEMU's `virtio-serial-pci` with
 * `disable-modern=on,vectors=0` (the legacy interface: registers at I/O BAR 0,
 * no MSI-X, INTx) and one `virtserialport`.
 *
 * Why not only the 16550: QEMU sends each byte a UART transmits with its own
 * write() to the socket (4.4 µs a byte here), and each register access is an
 * exit. A virtio buffer is one write() however long, and the receive queue
 * takes what GDB sent in one read(). docs/performance.md has the figures.
 *
 * Why a serial port and not a console port (`virtconsole`, the only kind that
 * works without the MULTIPORT feature): when the socket takes less than a
 * whole buffer, QEMU drops the rest for a console port, and keeps it for a
 * serial port until the socket drains. A stub must not lose a reply, so we
 * speak the multiport control protocol: DEVICE_READY, the device names its
 * ports (PORT_ADD), and we take the first one: PORT_READY, PORT_OPEN.
 *
 * The rings live in the hypervisor's memory (identity-mapped, PA = VA), which
 * the device reaches by DMA: there is no IOMMU on the machine, and the guest
 * never learns the device exists.
 */
#include "platform.h"
#include "lib.h"
#include "arch/sysreg.h"
#include "gdbstub.h"

/* Legacy virtio-pci registers (no MSI-X: the device's config starts at 0x14). */
#define VIRTIO_HOST_FEATURES 0x00
#define VIRTIO_GUEST_FEATURES 0x04
#define VIRTIO_QUEUE_PFN 0x08 /* the ring's address / 4096 */
#define VIRTIO_QUEUE_NUM 0x0c /* its size, fixed by the device */
#define VIRTIO_QUEUE_SEL 0x0e
#define VIRTIO_QUEUE_NOTIFY 0x10
#define VIRTIO_STATUS 0x12
#define VIRTIO_ISR 0x13 /* reading it lowers INTx */
#define VIRTIO_CONSOLE_MAX_NR_PORTS 0x18 /* in the device's config (cols, rows, this) */
#define STATUS_ACKNOWLEDGE 1
#define STATUS_DRIVER 2
#define STATUS_DRIVER_OK 4
#define STATUS_FAILED 0x80
#define VRING_ALIGN 4096

#define VIRTIO_CONSOLE_F_MULTIPORT BIT(1)
/* Control messages (struct console_control.event) */
#define CTRL_DEVICE_READY 0
#define CTRL_PORT_ADD 1
#define CTRL_PORT_READY 3
#define CTRL_PORT_OPEN 6

#define VRING_DESC_F_WRITE 2	     /* the device writes this buffer */
#define VRING_AVAIL_F_NO_INTERRUPT 1 /* no interrupt when this queue's buffers are used */

/* Our queues; the device numbers them: port 0 has 0 and 1, the control queues
 * are 2 (to us) and 3 (from us), port p > 0 has 2p + 2 and 2p + 3. */
enum { Q_RX, Q_TX, Q_CTRL_RX, Q_CTRL_TX, QUEUES };
#define QUEUE_MAX 256 /* QEMU's: 128 a port, 32 a control queue */
#define RX_BUFS 8
#define RX_BUF_SIZE 512
#define TX_BUF_SIZE (GDBSTUB_PACKET_SIZE + 16) /* a whole framed packet: one write() */
#define CTRL_RX_BUFS 8

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
	unsigned number; /* the device's queue number */
	unsigned size;
	volatile struct vring_desc *desc;
	volatile struct vring_avail *avail;
	volatile struct vring_used *used;
	u16 avail_idx, used_seen;
};

struct console_control {
	u32 id;
	u16 event, value;
};

/* Descriptors and available ring, then the used ring on the next 4 KiB. */
#define VRING_BYTES ALIGN_UP(ALIGN_UP(QUEUE_MAX * 16 + 6 + 2 * QUEUE_MAX, VRING_ALIGN) + 6 + 8 * QUEUE_MAX, VRING_ALIGN)
static u8 rings[QUEUES][VRING_BYTES] __attribute__((aligned(VRING_ALIGN)));
static u8 rx_bufs[RX_BUFS][RX_BUF_SIZE];
static u8 tx_buf[TX_BUF_SIZE];
static struct console_control ctrl_rx_bufs[CTRL_RX_BUFS], ctrl_tx_buf;

static u64 io_base;
static struct vq queues[QUEUES];
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
static u32 io_read32(unsigned reg) { return *(volatile u32 *)(io_base + reg); }

static bool vq_setup(unsigned role, unsigned number)
{
	struct vq *q = &queues[role];
	u8 *mem = rings[role];

	io_write16(VIRTIO_QUEUE_SEL, number);
	q->number = number;
	q->size = io_read16(VIRTIO_QUEUE_NUM);
	if (!q->size || q->size > QUEUE_MAX || (q->size & (q->size - 1)))
		return false;
	memset(mem, 0, VRING_BYTES);
	q->desc = (volatile struct vring_desc *)mem;
	q->avail = (volatile struct vring_avail *)(mem + 16 * q->size);
	q->used = (volatile struct vring_used *)(mem + ALIGN_UP(16 * q->size + 6 + 2 * q->size, VRING_ALIGN));
	q->avail_idx = q->used_seen = 0;
	/* Transmits are waited for, not signalled; receives signal once GDB
	 * attaches (enable_rx_interrupt). */
	q->avail->flags = VRING_AVAIL_F_NO_INTERRUPT;
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

static void vq_notify(struct vq *q)
{
	io_write16(VIRTIO_QUEUE_NOTIFY, q->number);
}

static bool vq_has_used(struct vq *q)
{
	return q->used->idx != q->used_seen;
}

/* The next used descriptor (vq_has_used first): its id, and its length. */
static u16 vq_take_used(struct vq *q, u32 *len)
{
	u16 slot = q->used_seen++ % q->size;

	dsb(sy);
	*len = q->used->ring[slot].len;
	return (u16)q->used->ring[slot].id;
}

static void post_in(struct vq *q, u16 id, void *buf, u32 len)
{
	q->desc[id].addr = (u64)buf;
	q->desc[id].len = len;
	q->desc[id].flags = VRING_DESC_F_WRITE;
	vq_offer(q, id);
}

/*
 * One buffer at a time, each waited for. With ioeventfd off QEMU writes it to
 * the socket before the notify returns; when the socket is full it keeps the
 * buffer (a serial port is throttled, not truncated) and hands it back once
 * GDB has read. With nobody connected the device drops what it is given.
 */
static void send_out(struct vq *q, void *buf, u32 len)
{
	u32 ignored;

	q->desc[0].addr = (u64)buf;
	q->desc[0].len = len;
	q->desc[0].flags = 0;
	vq_offer(q, 0);
	vq_notify(q);
	while (!vq_has_used(q))
		;
	vq_take_used(q, &ignored);
}

static void send_control(u32 port, u16 event, u16 value)
{
	ctrl_tx_buf = (struct console_control){ .id = port, .event = event, .value = value };
	send_out(&queues[Q_CTRL_TX], &ctrl_tx_buf, sizeof(ctrl_tx_buf));
}

/* What the device told us since last time (port added, GDB connected or gone),
 * each buffer given back. Returns the first port it added, or -1. */
static int drain_control(void)
{
	struct vq *q = &queues[Q_CTRL_RX];
	int added = -1;

	while (vq_has_used(q)) {
		u32 len;
		u16 id = vq_take_used(q, &len);
		if (id >= CTRL_RX_BUFS)
			continue;
		if (len >= sizeof(struct console_control) && ctrl_rx_bufs[id].event == CTRL_PORT_ADD && added < 0)
			added = (int)ctrl_rx_bufs[id].id;
		post_in(q, id, &ctrl_rx_bufs[id], sizeof(ctrl_rx_bufs[id]));
	}
	return added;
}

static bool start_port(unsigned port)
{
	unsigned rxq = port == 0 ? 0 : 2 * port + 2;

	if (!vq_setup(Q_RX, rxq) || !vq_setup(Q_TX, rxq + 1))
		return false;
	for (u16 i = 0; i < RX_BUFS; i++)
		post_in(&queues[Q_RX], i, rx_bufs[i], RX_BUF_SIZE);
	send_control(port, CTRL_PORT_READY, 1);
	send_control(port, CTRL_PORT_OPEN, 1);
	vq_notify(&queues[Q_RX]);
	return true;
}

static bool console_init(u64 base)
{
	int port;

	io_base = base;
	io_write8(VIRTIO_STATUS, 0); /* reset */
	io_write8(VIRTIO_STATUS, STATUS_ACKNOWLEDGE);
	io_write8(VIRTIO_STATUS, STATUS_ACKNOWLEDGE | STATUS_DRIVER);
	if (!(io_read32(VIRTIO_HOST_FEATURES) & VIRTIO_CONSOLE_F_MULTIPORT))
		goto failed;
	io_write32(VIRTIO_GUEST_FEATURES, VIRTIO_CONSOLE_F_MULTIPORT);
	if (!vq_setup(Q_CTRL_RX, 2) || !vq_setup(Q_CTRL_TX, 3))
		goto failed;
	/* The device drops control messages it has no buffer for. */
	for (u16 i = 0; i < CTRL_RX_BUFS; i++)
		post_in(&queues[Q_CTRL_RX], i, &ctrl_rx_bufs[i], sizeof(ctrl_rx_bufs[i]));
	io_write8(VIRTIO_STATUS, STATUS_ACKNOWLEDGE | STATUS_DRIVER | STATUS_DRIVER_OK);
	vq_notify(&queues[Q_CTRL_RX]);
	send_control(0, CTRL_DEVICE_READY, 1); /* answered at once: no ioeventfd */
	port = drain_control();
	if (port >= 0 && (u32)port < io_read32(VIRTIO_CONSOLE_MAX_NR_PORTS) && start_port((unsigned)port))
		return true;
failed:
	io_write8(VIRTIO_STATUS, STATUS_FAILED);
	return false;
}

static void console_enable_rx_interrupt(void)
{
	queues[Q_RX].avail->flags = 0;
	dsb(sy);
}

static void console_write(const u8 *buf, size_t len)
{
	while (len) {
		size_t n = len < TX_BUF_SIZE ? len : TX_BUF_SIZE;
		memcpy(tx_buf, buf, n);
		send_out(&queues[Q_TX], tx_buf, (u32)n);
		buf += n;
		len -= n;
	}
}

/* Next byte from the used receive buffers; a buffer read to its end goes back
 * to the device. With none waiting, lower the INTx line (ISR), then look once
 * more: a buffer used in between raised it again, and is taken now. */
static int console_getc(void)
{
	struct vq *q = &queues[Q_RX];

	while (!rx.held || rx.pos == rx.len) {
		if (rx.held) {
			rx.held = false;
			post_in(q, rx.id, rx_bufs[rx.id], RX_BUF_SIZE);
			vq_notify(q);
		}
		if (!vq_has_used(q)) {
			(void)io_read8(VIRTIO_ISR);
			dsb(sy);
			drain_control();
			if (!vq_has_used(q))
				return -1;
		}
		rx.id = vq_take_used(q, &rx.len);
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
