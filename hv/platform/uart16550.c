/*
 * A 16550 UART as the debug line (on QEMU: `-device pci-serial`, Red Hat's PCI
 * serial, byte-wide registers at an I/O BAR).
 *
 * Receive: the FIFO interrupts at 14 bytes or after 4 character times of
 * silence. QEMU hands the UART as many bytes as the trigger level allows in one
 * go, so a packet arrives in a few chunks, not byte by byte (75 µs a byte at a
 * trigger level of 1). The 4 character times are 350 µs at 115200 baud, the
 * fastest a 1.8432 MHz clock gives; give QEMU's model a faster clock
 * (`baudbase=`, scripts/run-qemu) and the pause at the end of a packet shrinks
 * to nothing.
 */
#include "platform.h"
#include "lib.h"

#define UART_RBR 0 /* receive buffer (read) / transmit holding (write) */
#define UART_IER 1
#define UART_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_DLL 0 /* with LCR.DLAB */
#define UART_DLM 1
#define LCR_8N1 0x03
#define LCR_DLAB 0x80
#define LSR_DR 0x01
#define LSR_THRE 0x20
#define MCR_DTR_RTS 0x03
#define FCR_ENABLE_RESET 0x07
#define FCR_TRIGGER_14 0xc0
#define IER_RDI 0x01 /* received data available (or the FIFO's timeout) */
#define UART_FIFO_SIZE 16

static u64 uart_base;

static void uart_out(unsigned reg, u8 v)
{
	*(volatile u8 *)(uart_base + reg) = v;
}

static u8 uart_in(unsigned reg)
{
	return *(volatile u8 *)(uart_base + reg);
}

static bool uart_init(u64 base)
{
	uart_base = base;
	uart_out(UART_LCR, LCR_DLAB);
	uart_out(UART_DLL, 1); /* the clock's full rate */
	uart_out(UART_DLM, 0);
	uart_out(UART_LCR, LCR_8N1);
	uart_out(UART_FCR, FCR_ENABLE_RESET | FCR_TRIGGER_14);
	uart_out(UART_MCR, MCR_DTR_RTS);
	uart_out(UART_IER, 0);
	return true;
}

static void uart_enable_rx_interrupt(void)
{
	uart_out(UART_IER, IER_RDI);
}

/* THRE says the transmit FIFO is empty: then 16 bytes fit without asking again,
 * which matters in an emulator where every register access is an exit. */
static void uart_write(const u8 *buf, size_t len)
{
	while (len) {
		size_t n = len < UART_FIFO_SIZE ? len : UART_FIFO_SIZE;
		while (!(uart_in(UART_LSR) & LSR_THRE))
			;
		for (size_t i = 0; i < n; i++)
			uart_out(UART_RBR, buf[i]);
		buf += n;
		len -= n;
	}
}

/* The UART's interrupt is level: it stays up while the FIFO holds bytes. */
static int uart_getc(void)
{
	if (!(uart_in(UART_LSR) & LSR_DR))
		return -1;
	return uart_in(UART_RBR);
}

const struct debug_line uart16550_line = {
	.name = "16550 UART",
	.init = uart_init,
	.write = uart_write,
	.getc = uart_getc,
	.enable_rx_interrupt = uart_enable_rx_interrupt,
};
