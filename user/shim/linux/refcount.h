/* SPDX-License-Identifier: GPL-2.0 */
/* Userspace stand-in for the kernel's refcount_t, with C11 atomics. */
#ifndef _PHYSMAP_SHIM_REFCOUNT_H
#define _PHYSMAP_SHIM_REFCOUNT_H
#include <stdatomic.h>
#include <stdbool.h>
typedef struct { atomic_int refs; } refcount_t;
#define refcount_set(r, n)	atomic_store(&(r)->refs, (n))
#define refcount_inc(r)		atomic_fetch_add(&(r)->refs, 1)
#define refcount_dec_and_test(r) (atomic_fetch_sub(&(r)->refs, 1) == 1)
#endif
