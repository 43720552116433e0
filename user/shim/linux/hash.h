/* SPDX-License-Identifier: GPL-2.0 */
/* Userspace stand-in for <linux/hash.h>: the same multiplicative hash. */
#ifndef _PHYSMAP_SHIM_HASH_H
#define _PHYSMAP_SHIM_HASH_H
#include <linux/types.h>

#define GOLDEN_RATIO_32		0x61C88647U

static inline u32 hash_32(u32 val, unsigned int bits)
{
	return val * GOLDEN_RATIO_32 >> (32 - bits);
}
#endif
