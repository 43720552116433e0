/* SPDX-License-Identifier: GPL-2.0 */
/* Userspace stand-in for <linux/math64.h>. */
#ifndef _PHYSMAP_SHIM_MATH64_H
#define _PHYSMAP_SHIM_MATH64_H
#include <linux/types.h>

/* (a * mul) >> shift, without losing the product's high bits. */
static inline u64 mul_u64_u32_shr(u64 a, u32 mul, unsigned int shift)
{
	return (u64)(((__uint128_t)a * mul) >> shift);
}

static inline u64 div_u64(u64 dividend, u32 divisor)
{
	return dividend / divisor;
}
#endif
