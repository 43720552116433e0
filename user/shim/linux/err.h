/* SPDX-License-Identifier: GPL-2.0 */
/* Userspace stand-in for <linux/err.h>: errors encoded in pointers. */
#ifndef _PHYSMAP_SHIM_ERR_H
#define _PHYSMAP_SHIM_ERR_H
#include <stdbool.h>
#include <stdint.h>

#define MAX_ERRNO	4095

static inline void *ERR_PTR(long error)
{
	return (void *)error;
}

static inline long PTR_ERR(const void *ptr)
{
	return (long)ptr;
}

static inline bool IS_ERR(const void *ptr)
{
	return (uintptr_t)ptr >= (uintptr_t)-MAX_ERRNO;
}

static inline int PTR_ERR_OR_ZERO(const void *ptr)
{
	return IS_ERR(ptr) ? (int)PTR_ERR(ptr) : 0;
}

#define ERR_CAST(ptr)	((void *)(ptr))
#endif
