/* PCI configuration space through ECAM (PCI Express Base spec 7.2.2): what the hypervisor reads and writes itself. */
#ifndef HV_PCI_H
#define HV_PCI_H

#include "trapvisor/types.h"

/* Configuration header offsets (PCI Local Bus spec 6.1) */
#define PCI_VENDOR_ID 0x00
#define PCI_COMMAND 0x04
#define PCI_COMMAND_IO BIT(0)
#define PCI_COMMAND_MEMORY BIT(1)
#define PCI_COMMAND_MASTER BIT(2) /* a virtio device reads and writes its rings */
#define PCI_HEADER_TYPE 0x0e	  /* [6:0]: 0 a function, 1 a bridge */
#define PCI_BAR0 0x10
#define PCI_INTERRUPT_PIN 0x3d /* 1 = INTA */

/* bdf: bus << 8 | device << 3 | function */
u8 pci_cfg_read8(unsigned bdf, unsigned off);
u16 pci_cfg_read16(unsigned bdf, unsigned off);
u32 pci_cfg_read32(unsigned bdf, unsigned off);
void pci_cfg_write16(unsigned bdf, unsigned off, u16 v);
void pci_cfg_write32(unsigned bdf, unsigned off, u32 v);

#endif
