/*
 * trapvisor's hypercalls (SMCCC vendor-specific hypervisor service, 64-bit
 * fast calls, DEN0028 owning entity 6). Test guests use them; the hypervisor
 * answers only when booted with trapvisor.hypercalls=on.
 */
#ifndef TRAPVISOR_HYPERCALL_H
#define TRAPVISOR_HYPERCALL_H

#define TV_HC_BASE 0xc6000000ull
#define TV_HC_TRACE (TV_HC_BASE + 0)	  /* x1: events per ring (vCPU, pCPU scheduler) to print */
#define TV_HC_STATS (TV_HC_BASE + 1)	  /* print statistics on the console */
#define TV_HC_TRAP (TV_HC_BASE + 2)	  /* x1: enum trap_class, x2: 1 on, 0 off */
#define TV_HC_STAT_COUNT (TV_HC_BASE + 3) /* x1: class, x2: vCPU or TV_ALL_VCPUS -> count */

#define TV_ALL_VCPUS (~0ull)
#define TV_HC_INVALID ((unsigned long long)-2)

#endif
