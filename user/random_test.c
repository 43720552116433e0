// SPDX-License-Identifier: GPL-2.0
/*
 * Differential test of the tree core: random section sets under every
 * page_shift, each ADD and each lookup held against a sorted-array model;
 * then update transactions of each map (pmt_pending_update(), random
 * REMOVEs and ADDs, COMMIT), each index and lookup held against the model:
 * the first copies the map, the next ones start from the pending map the
 * one before kept (pmt_commit_update()) and share what they did not change.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/err.h>

#include "../physmap_tree.h"
#include "physmap_params.h"

struct range { uint64_t start, last; uint32_t index; };

static uint64_t rng = 88172645463325252ULL;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static uint32_t model_find(const struct range *r, int n, uint64_t addr)
{
	for (int i = 0; i < n; i++)
		if (addr >= r[i].start && addr <= r[i].last)
			return r[i].index;
	return 0;
}

static int model_overlaps(const struct range *r, int n, uint64_t s, uint64_t l)
{
	for (int i = 0; i < n; i++)
		if (s <= r[i].last && r[i].start <= l)
			return 1;
	return 0;
}

static uint64_t pick_size(unsigned int shift)
{
	switch (rnd() % 8) {
	case 0: return 1;
	case 1: return 1 + rnd() % (1ULL << shift);
	case 2: return (1 + rnd() % 4) << shift;
	case 3: return (1ULL << (shift + 9 * (1 + rnd() % 3))) * (1 + rnd() % 3);
	case 4: return 1 + rnd() % (1ULL << (shift + 12));
	case 5: return rnd() >> (rnd() % 64);
	default: return 1 + rnd() % 100000;
	}
}

static uint64_t pick_start(const struct range *r, int n, unsigned int shift)
{
	uint64_t a;

	switch (rnd() % 6) {
	case 0:
		if (n) {
			const struct range *x = &r[rnd() % n];

			return x->last + 1 + rnd() % 3;
		}
		/* fall through */
	case 1: return (rnd() >> (rnd() % 64)) & ~((1ULL << shift) - 1);
	case 2: a = rnd() % (1ULL << 36); return a;
	case 3: return ~0ULL - rnd() % (1ULL << 20);
	default: return rnd() >> (rnd() % 64);
	}
}

static void check_map(const struct pmt_map *map, const struct range *r,
		      int n, int round)
{
	static uint64_t all[7 * 400];
	static uint32_t runs[7 * 400];
	struct pmt_near near = PMT_NEAR_INIT;
	uint64_t probes[7];

	for (int i = 0; i < n; i++) {
		probes[0] = r[i].start;
		probes[1] = r[i].last;
		probes[2] = r[i].start - 1;
		probes[3] = r[i].last + 1;
		probes[4] = r[i].start + (r[i].last - r[i].start) / 2;
		probes[5] = (r[i].start & ~0xfffULL) + rnd() % 0x2000;
		probes[6] = r[i].start ^ (1ULL << (rnd() % 64));
		for (int j = 0; j < 7; j++) {
			uint32_t want = model_find(r, n, probes[j]);
			uint32_t got = pmt_map_lookup(map, probes[j]);

			if (want != got) {
				fprintf(stderr, "round %d: addr %#" PRIx64 " want %u got %u\n",
					round, probes[j], want, got);
				exit(1);
			}
			all[7 * i + j] = probes[j];
		}
	}
	/* The same probes as runs, a section's probes in a row. */
	for (int i = 0; i < 7 * n; i += PMT_RUN_LEN)
		pmt_map_lookup_run(map, all + i, runs + i,
				   7 * n - i < PMT_RUN_LEN ? 7 * n - i : PMT_RUN_LEN,
				   &near);
	for (int i = 0; i < 7 * n; i++) {
		if (runs[i] != pmt_map_lookup(map, all[i])) {
			fprintf(stderr, "round %d: run addr %#" PRIx64 " got %u\n",
				round, all[i], runs[i]);
			exit(1);
		}
	}
	for (int j = 0; j < 2000; j++) {
		uint64_t a = rnd() >> (rnd() % 64);
		uint32_t want = model_find(r, n, a), got = pmt_map_lookup(map, a);

		if (want != got) {
			fprintf(stderr, "round %d: random addr %#" PRIx64 " want %u got %u\n",
				round, a, want, got);
			exit(1);
		}
	}
}

#define MAX_RANGES	400

/* The lowest index no range of the model holds: the next ADD's. */
static uint32_t model_next_index(const struct range *r, int n)
{
	static unsigned char held[MAX_RANGES + 2];
	uint32_t index;

	memset(held, 0, sizeof(held));
	for (int i = 0; i < n; i++)
		held[r[i].index] = 1;
	for (index = 1; held[index]; index++)
		;
	return index;
}

/*
 * Add random sections to @pm until @n reaches @want (or enough tries),
 * each ADD's result and index held against the model. Returns the new
 * number of ranges, or -1 after printing what went wrong.
 */
static int add_random(struct pmt_pending *pm, struct range *r, int n,
		      int want, unsigned int shift, int round)
{
	for (int tries = 0; n < want && tries < 3 * want; tries++) {
		struct pmt_section s = { .cookie = tries, .offset = 0 };
		uint32_t index, expect_index = model_next_index(r, n);
		int ret, expect;

		s.start = pick_start(r, n, shift);
		s.size = pick_size(shift);
		if (!pmt_range_valid(s.start, s.size))
			expect = -EINVAL;
		else
			expect = model_overlaps(r, n, s.start, s.start + s.size - 1) ?
				 -EEXIST : 0;
		ret = pmt_pending_add(pm, &s, PM_MAX_SECTIONS_DEFAULT,
				      UINT64_MAX, &index);
		if (ret != expect) {
			fprintf(stderr, "round %d: add %#" PRIx64 "+%#" PRIx64 " got %d want %d\n",
				round, s.start, s.size, ret, expect);
			return -1;
		}
		if (!ret) {
			if (index != expect_index) {
				fprintf(stderr, "round %d: index %u, want %u\n",
					round, index, expect_index);
				return -1;
			}
			r[n].start = s.start;
			r[n].last = s.start + s.size - 1;
			r[n].index = index;
			n++;
		}
	}
	return n;
}

/*
 * An update transaction of @map: REMOVE up to @removes random sections
 * (and one that was removed already: ENOENT), ADD up to @adds, from the
 * pending map *@kept when it was kept from @map, else from a copy, and
 * COMMIT, keeping the pending map in *@kept. Returns the new map and
 * updates the model, or NULL after printing what went wrong.
 */
static struct pmt_map *update_random(struct pmt_map *map,
				     struct pmt_pending **kept,
				     struct range *r, int *n, int removes,
				     int adds, int round)
{
	struct pmt_pending *pm = *kept;
	struct pmt_map *next;
	uint32_t gone = 0;

	if (!pm || !pmt_pending_kept(pm, map)) {
		pmt_pending_free(pm);
		*kept = NULL;
		pm = pmt_pending_update(map, UINT64_MAX);
		if (!IS_ERR(pm))
			*kept = pm;
	}

	if (IS_ERR(pm) || pmt_pending_sections(pm) != (uint32_t)*n) {
		fprintf(stderr, "round %d: update of %d sections failed\n",
			round, *n);
		return NULL;
	}
	for (int k = 0; k < removes && *n; k++) {
		int i = rnd() % *n;

		gone = r[i].index;
		if (pmt_pending_remove(pm, gone)) {
			fprintf(stderr, "round %d: REMOVE %u failed\n", round,
				gone);
			return NULL;
		}
		r[i] = r[--*n];
	}
	if (gone && pmt_pending_remove(pm, gone) != -ENOENT) {
		fprintf(stderr, "round %d: REMOVE %u twice\n", round, gone);
		return NULL;
	}
	*n = add_random(pm, r, *n, *n + adds < MAX_RANGES ? *n + adds :
				   MAX_RANGES, map->page_shift, round);
	if (*n < 0)
		return NULL;
	next = pmt_commit_update(pm, map, map->generation + 1, UINT64_MAX);
	if (IS_ERR(next) || next->nr_held != (uint32_t)*n) {
		fprintf(stderr, "round %d: update commit failed\n", round);
		return NULL;
	}
	return next;
}

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 2000;
	static struct range r[MAX_RANGES];
	int mixed = 0, updates = 0, shared = 0;

	for (int round = 0; round < rounds; round++) {
		unsigned int shift = 10 + rnd() % 7;
		struct pmt_pending *pm = pmt_pending_create(shift);
		int n = 0, want_sections = 1 + rnd() % 300;
		struct pmt_map *map, *next;

		n = add_random(pm, r, 0, want_sections, shift, round);
		if (n < 0)
			return 1;
		map = pmt_commit(pm, round + 1, UINT64_MAX);
		if (IS_ERR(map)) {
			fprintf(stderr, "commit failed\n");
			return 1;
		}
		check_map(map, r, n, round);
		mixed += map->mixed;
		pmt_pending_free(pm);
		/* every fourth round, update transactions of the map */
		pm = NULL;
		for (int u = 0; round % 4 == 0 && u < 6; u++, updates++) {
			next = update_random(map, &pm, r, &n, 1 + rnd() % 8,
					     rnd() % 8, round);
			if (!next)
				return 1;
			shared += map->store && next->store == map->store;
			pmt_map_free(map);
			map = next;
			check_map(map, r, n, round);
		}
		pmt_pending_free(pm);
		pmt_map_free(map);
	}
	printf("random_test: %d rounds ok (%d of the maps mixed; %d update transactions, %d of them sharing the map before's store)\n",
	       rounds, mixed, updates, shared);
	if (updates > 100 && shared < updates / 2) {
		fprintf(stderr, "random_test: too few updates shared\n");
		return 1;
	}
	return 0;
}
