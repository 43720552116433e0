/* SPDX-License-Identifier: GPL-2.0 */
/*
 * physmap_check.h - compare what an fd publishes with a model (struct
 * pm_map), shared by the fault, stress and fuzz selftests. Header only:
 * static functions, so that each test binary stays one .c file plus the
 * test-support library (testlib/).
 */
#ifndef _PHYSMAP_CHECK_H
#define _PHYSMAP_CHECK_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "physmap_maps.h"

/* most probe addresses one check looks up */
#define PMC_MAX_PROBES	4096

/*
 * pmc_probes - addresses that tell maps apart: every range's first and
 * last byte and the bytes either side, plus random ones. Returns how many
 * were stored in addrs (at most max).
 */
static inline size_t pmc_probes(const struct pm_map *map, __u64 seed,
				__u64 *addrs, size_t max)
{
	size_t i, n = 0;

	for (i = 0; i < map->count && n + 4 <= max; i++) {
		addrs[n++] = map->ranges[i].start;
		addrs[n++] = map->ranges[i].last;
		addrs[n++] = map->ranges[i].start - 1;
		addrs[n++] = map->ranges[i].last + 1;
	}
	while (n < max && n < map->count * 4 + 64) {
		__u64 r = pm_rand64(&seed);

		/* half of them near the ranges' addresses */
		if (map->count && (r & 1))
			r = map->ranges[(r >> 1) % map->count].start +
			    (pm_rand64(&seed) % 0x10000) - 0x8000;
		addrs[n++] = r;
	}
	return n;
}

/*
 * pmc_check - whether fd publishes exactly map (model built with
 * pm_model_build) as generation gen: STATS, every section by GET_SECTION
 * (ENOENT for the indexes no section holds), and a batch lookup of pmc_probes(). Returns the number of mismatches and
 * describes the first one in why (may be NULL).
 */
static inline unsigned long pmc_check(int fd, const struct pm_map *map,
				      __u64 gen, __u64 seed, char *why,
				      size_t why_size)
{
	static __thread __u64 addrs[PMC_MAX_PROBES];
	static __thread __u32 indexes[PMC_MAX_PROBES];
	struct physmap_section s;
	struct physmap_stats st;
	unsigned long bad = 0;
	__u64 got_gen;
	size_t i, n;
	int ret;

#define PMC_BAD(...) do {						\
		if (!bad++ && why)					\
			snprintf(why, why_size, __VA_ARGS__);		\
	} while (0)

	ret = pm_stats(fd, &st);
	if (ret)
		PMC_BAD("STATS: %s", strerror(-ret));
	else if (st.generation != gen || st.sections != map->count)
		PMC_BAD("STATS: generation %llu sections %u, want %llu and %zu",
			(unsigned long long)st.generation, st.sections,
			(unsigned long long)gen, map->count);
	/* every index up to the highest and one past it; holes ENOENT */
	for (i = 0; i <= (size_t)map->max_index + 1; i++) {
		const struct pm_range *r = pm_map_find_index(map, i);

		ret = pm_get_section(fd, i, &s);
		if (!r) {
			if (ret != -ENOENT)
				PMC_BAD("GET_SECTION %zu: %d, want ENOENT", i,
					ret);
			continue;
		}
		if (ret || s.index != i || s.start != r->start ||
		    s.size != r->last - r->start + 1 ||
		    s.cookie != r->cookie || s.offset != r->offset ||
		    s.flags)
			PMC_BAD("GET_SECTION %zu: ret %d start %llx size %llx",
				i, ret, (unsigned long long)s.start,
				(unsigned long long)s.size);
	}
	n = pmc_probes(map, seed, addrs, PMC_MAX_PROBES);
	ret = pm_lookup_batch(fd, addrs, indexes, n, &got_gen);
	if (ret) {
		PMC_BAD("LOOKUP_BATCH: %s", strerror(-ret));
	} else {
		if (got_gen != gen)
			PMC_BAD("LOOKUP_BATCH: generation %llu, want %llu",
				(unsigned long long)got_gen,
				(unsigned long long)gen);
		for (i = 0; i < n; i++)
			if (indexes[i] != pm_model_index(map, addrs[i]))
				PMC_BAD("LOOKUP %llx: index %u, want %u",
					(unsigned long long)addrs[i],
					indexes[i],
					pm_model_index(map, addrs[i]));
	}
#undef PMC_BAD
	return bad;
}

#endif /* _PHYSMAP_CHECK_H */
