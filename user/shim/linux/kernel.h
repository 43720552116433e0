/* SPDX-License-Identifier: GPL-2.0 */
/* Userspace stand-in for the few kernel macros physmap_tree.c uses. */
#ifndef _PHYSMAP_SHIM_KERNEL_H
#define _PHYSMAP_SHIM_KERNEL_H
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <linux/types.h>

#define U32_MAX			UINT32_MAX
#define U64_MAX			UINT64_MAX
#define ULL(x)			(x##ULL)
#define BIT(n)			(1UL << (n))
#define BIT_ULL(n)		(1ULL << (n))
#define SZ_64K			0x00010000
#define __ffs(x)		((unsigned long)__builtin_ctzl(x))
#define DIV_ROUND_UP(n, d)	(((n) + (d) - 1) / (d))
#define PAGE_SIZE		4096UL
#define SZ_1M			0x00100000
#define SZ_4M			0x00400000
#define ALIGN(x, a)		(((x) + (a) - 1) & ~((size_t)(a) - 1))
#define __section(s)		__attribute__((__section__(s)))
#define __aligned(x)		__attribute__((__aligned__(x)))
#ifndef __always_inline
#define __always_inline		inline __attribute__((__always_inline__))
#endif
#ifndef noinline
#define noinline		__attribute__((__noinline__))
#endif
#define likely(x)		__builtin_expect(!!(x), 1)
#define unlikely(x)		__builtin_expect(!!(x), 0)
#define container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))
/* Like the kernel's: each argument is evaluated once. */
#define min(a, b)		({ __typeof__(a) _a = (a); __typeof__(b) _b = (b); \
				   _a < _b ? _a : _b; })
#define max(a, b)		({ __typeof__(a) _a = (a); __typeof__(b) _b = (b); \
				   _a > _b ? _a : _b; })
#define max3(a, b, c)		max(max(a, b), c)
#define min_t(t, a, b)		min((t)(a), (t)(b))
#define max_t(t, a, b)		max((t)(a), (t)(b))
#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))
/* The last set bit, 1-based; 0 for none. */
#define fls(x)			((x) ? 32 - __builtin_clz(x) : 0)
/* A broken invariant: the tests fail loudly rather than warn. */
#define WARN_ON_ONCE(c)		({ bool _c = !!(c); if (_c) abort(); _c; })

static inline size_t size_add(size_t a, size_t b)
{
	size_t r;

	return __builtin_add_overflow(a, b, &r) ? SIZE_MAX : r;
}

static inline size_t array_size(size_t n, size_t size)
{
	size_t r;

	return __builtin_mul_overflow(n, size, &r) ? SIZE_MAX : r;
}

/* Allocation: GFP flags are ignored; a test may make allocations fail. */
typedef unsigned int gfp_t;
#define GFP_KERNEL_ACCOUNT	0U
#define __GFP_NOWARN		0U
#define __GFP_RETRY_MAYFAIL	0U
#define __GFP_NORETRY		0U
/* Make the nth allocation from now fail (0: none); say whether it did. */
void physmap_shim_fail_nth(unsigned long nth);
bool physmap_shim_failed(void);
void *physmap_shim_alloc(size_t size, int zero);
void physmap_shim_free(const void *p);
/* Bytes the tree holds now, and the most since the last reset. */
size_t physmap_shim_live(void);
size_t physmap_shim_peak(void);
void physmap_shim_peak_reset(void);
static inline void *kvmalloc(size_t size, gfp_t gfp)
{
	return physmap_shim_alloc(size, 0);
}
static inline void *kmalloc(size_t size, gfp_t gfp)
{
	return physmap_shim_alloc(size, 0);
}
/* kmalloc stands for both: a failure injected into it is final. */
static inline void *__vmalloc(size_t size, gfp_t gfp)
{
	return NULL;
}
static inline void *kzalloc(size_t size, gfp_t gfp)
{
	return physmap_shim_alloc(size, 1);
}
static inline void *kvmalloc_array(size_t n, size_t size, gfp_t gfp)
{
	size_t bytes = array_size(n, size);

	return bytes == SIZE_MAX ? NULL : physmap_shim_alloc(bytes, 0);
}
static inline void kvfree(const void *p)
{
	physmap_shim_free(p);
}
static inline void kfree(const void *p)
{
	physmap_shim_free(p);
}
#endif
