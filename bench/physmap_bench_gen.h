/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The synthetic section sets of the physmap benchmark, and the fixed-seed
 * generator that they and the benchmarks' address streams draw from.
 *
 * Plain integer code included by the bench module (bench/physmap_bench.c)
 * and the userspace benchmarks (user/bench_lookup.c, user/bench_size.c), so
 * that a synthetic map of the same size and seed is the same map in each.
 * The includer provides u64; the generator is the tests' splitmix64, from
 * testlib/.
 */
#ifndef _PHYSMAP_BENCH_GEN_H
#define _PHYSMAP_BENCH_GEN_H

#include "../testlib/physmap_prng.h"

/*
 * @a / @b and @a % @b of u64s. A 32-bit kernel has no libgcc to do them
 * (__udivdi3, __umoddi3): there they are div64_u64() and div64_u64_rem();
 * the userspace benchmarks use / and %. The results are the same.
 */
#ifdef __KERNEL__
#include <linux/math64.h>

static inline u64 pmb_div(u64 a, u64 b)
{
	return div64_u64(a, b);
}

static inline u64 pmb_mod(u64 a, u64 b)
{
	u64 rem;

	div64_u64_rem(a, b, &rem);
	return rem;
}
#else
static inline u64 pmb_div(u64 a, u64 b)
{
	return a / b;
}

static inline u64 pmb_mod(u64 a, u64 b)
{
	return a % b;
}
#endif

/* Synthetic maps spread over a 48-bit span. */
#define PMB_SPAN_BITS	48

/* the next value of splitmix64 (../testlib/physmap_prng.h) */
static inline u64 pmb_rand(u64 *state)
{
	*state += PM_SPLITMIX64_GAMMA;
	return pm_splitmix64(*state);
}

/* A value in 0..@n - 1 (@n > 0); the modulo bias is of no concern here. */
static inline u64 pmb_below(u64 *state, u64 n)
{
	return pmb_mod(pmb_rand(state), n);
}

/**
 * pmb_synth_section() - section @i of a synthetic map of @n sections
 * @n: sections in the map.
 * @i: which one, 0..@n - 1.
 * @seed: the map's seed.
 * @start: set to its first byte.
 * @size: set to its size in bytes.
 *
 * The span 0..2^48 - 1 is cut into @n equal slots; section @i lies in the
 * first half of slot @i, so sections never overlap and come out sorted. Of
 * four sections, one has a start and size aligned to 2 MiB, one to 4 KiB, one
 * is small and unaligned (1 byte to 8 KiB) and one large and unaligned. The
 * section depends only on @n, @i and @seed.
 */
static inline void pmb_synth_section(u64 n, u64 i, u64 seed, u64 *start,
				     u64 *size)
{
	u64 slot = pmb_div(1ULL << PMB_SPAN_BITS, n);
	u64 st = seed ^ (i * 0xd1342543de82ef95ULL) ^ (n << 40);
	u64 base = i * slot, off, sz, max = slot / 4, align;

	pmb_rand(&st);
	switch (pmb_below(&st, 4)) {
	case 0:
		align = 1ULL << 21;
		break;
	case 1:
		align = 1ULL << 12;
		break;
	case 2:
		max = max < 8192 ? max : 8192;
		align = 1;
		break;
	default:
		align = 1;
		break;
	}
	while (align > 1 && align > max)
		align >>= 1;
	off = pmb_below(&st, slot / 2) & ~(align - 1);
	sz = (1 + pmb_below(&st, pmb_div(max, align))) * align;
	*start = base + off;
	*size = sz;
}

#endif /* _PHYSMAP_BENCH_GEN_H */
