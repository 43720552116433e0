/* SPDX-License-Identifier: GPL-2.0 */
/*
 * physmap_prng.h - splitmix64, the one fixed-seed generator of physmap's
 * tests and benchmarks: the selftests and user/ through pm_rand64(), the
 * benchmark module and its userspace twin through bench/physmap_bench_gen.h.
 * Header only and plain integer code, for the kernel and userspace alike.
 */
#ifndef _PHYSMAP_PRNG_H
#define _PHYSMAP_PRNG_H

#include <linux/types.h>

/* what splitmix64 adds to its state for each value */
#define PM_SPLITMIX64_GAMMA	0x9e3779b97f4a7c15ULL

/* pm_splitmix64 - splitmix64's value for a state already advanced */
static inline __u64 pm_splitmix64(__u64 z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* pm_rand64 - advance *state and return the next value */
static inline __u64 pm_rand64(__u64 *state)
{
	*state += PM_SPLITMIX64_GAMMA;
	return pm_splitmix64(*state);
}

#endif /* _PHYSMAP_PRNG_H */
