/* SPDX-License-Identifier: GPL-2.0 */
/* Userspace stand-in for the kernel's atomic_long_t, with C11 atomics. */
#ifndef _PHYSMAP_SHIM_ATOMIC_H
#define _PHYSMAP_SHIM_ATOMIC_H
#include <stdatomic.h>
typedef struct { atomic_long v; } atomic_long_t;
#define ATOMIC_LONG_INIT(i)	{ (i) }
#define atomic_long_read(a)	atomic_load(&(a)->v)
#define atomic_long_sub(i, a)	atomic_fetch_sub(&(a)->v, (i))
#define atomic_long_inc(a)	atomic_fetch_add(&(a)->v, 1)
#define atomic_long_add_return(i, a) (atomic_fetch_add(&(a)->v, (i)) + (i))
#endif
