// SPDX-License-Identifier: GPL-2.0
/*
 * Shape of the tree core on the benchmark's inputs, in userspace: nodes,
 * bytes, depth, node visits per lookup and a native lookup time beside a
 * sorted array's. For design experiments (build with -DPMT_NODE_BITS=N)
 * and for perf/callgrind; the figures that count come from the bench module.
 *
 *	gcc -O2 -Ishim -I.. -o /tmp/bs bench_size.c ../physmap_tree.c shim.c -lurcu
 *	/tmp/bs synth 65536 | /tmp/bs map ../testdata/qemu-7.2/q35_big.booted.memory.txt
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <linux/err.h>

#include "../physmap_tree.h"
#include "../bench/physmap_bench_gen.h"

#define LOOKUPS	(1 << 20)

struct srange { u64 start, last; u32 index; };

static struct srange *ranges;
static size_t nr, cap;

static void add_range(u64 start, u64 size)
{
	if (nr == cap) {
		cap = cap ? 2 * cap : 1024;
		ranges = realloc(ranges, cap * sizeof(*ranges));
		if (!ranges)
			exit(1);
	}
	ranges[nr].start = start;
	ranges[nr].last = start + size - 1;
	ranges[nr].index = nr + 1;
	nr++;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int cmp_range(const void *a, const void *b)
{
	const struct srange *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

static u32 bsearch_lookup(const struct srange *r, size_t n, u64 addr)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (r[mid].start <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo && addr <= r[lo - 1].last)
		return r[lo - 1].index;
	return 0;
}

/* Nodes a lookup of @addr visits. */
static unsigned int visits(const struct pmt_map *map, u64 addr)
{
	u32 entry = map->root;
	unsigned int n = 0;

	while (entry & PMT_MAP_SHIFT_MASK) {
		entry = map->nodes[(size_t)(entry >> PMT_MAP_PTR_SHIFT) *
				   PMT_NODE_SLOTS +
				   ((addr >> (entry & PMT_MAP_SHIFT_MASK)) &
				    (PMT_NODE_SLOTS - 1))];
		n++;
	}
	return n;
}

int main(int argc, char **argv)
{
	struct pmt_pending *pm;
	struct pmt_map *map;
	u64 lo, hi, s = 7, *addrs[2];
	double t0, tb, tl[2], tbs[2], v[2];
	volatile u32 sink = 0;
	size_t i;
	u32 index;

	if (argc == 3 && !strcmp(argv[1], "synth")) {
		u64 n = strtoull(argv[2], NULL, 0), st0, sz;

		for (i = 0; i < n; i++) {
			pmb_synth_section(n, i, 1, &st0, &sz);
			add_range(st0, sz);
		}
	} else if (argc == 3 && !strcmp(argv[1], "map")) {
		FILE *f = fopen(argv[2], "r");
		char line[512];
		unsigned long long a, b;

		if (!f)
			return 1;
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "%llx %llx", &a, &b) == 2)
				add_range(a, b - a + 1);
		fclose(f);
	} else {
		fprintf(stderr, "usage: %s synth N | map FILE\n", argv[0]);
		return 2;
	}

	t0 = now();
	pm = pmt_pending_create(12);
	for (i = 0; i < nr; i++) {
		struct pmt_section sect = {
			.start = ranges[i].start,
			.size = ranges[i].last - ranges[i].start + 1,
		};

		if (pmt_pending_add(pm, &sect, 2000000, UINT64_MAX, &index)) {
			fprintf(stderr, "add %zu failed\n", i);
			return 1;
		}
	}
	map = pmt_commit(pm, 1, UINT64_MAX);
	tb = now() - t0;
	if (IS_ERR(map))
		return 1;
	pmt_pending_free(pm);

	qsort(ranges, nr, sizeof(*ranges), cmp_range);
	lo = ranges[0].start;
	hi = ranges[nr - 1].last;
	for (int k = 0; k < 2; k++) {
		addrs[k] = malloc(LOOKUPS * sizeof(u64));
		v[k] = 0;
		for (i = 0; i < LOOKUPS; i++) {
			const struct srange *r = &ranges[pmb_below(&s, nr)];

			addrs[k][i] = k == 0 ?
				r->start + pmb_below(&s, r->last - r->start + 1) :
				lo + pmb_below(&s, hi - lo + 1);
			v[k] += visits(map, addrs[k][i]);
			if (pmt_map_lookup(map, addrs[k][i]) !=
			    bsearch_lookup(ranges, nr, addrs[k][i])) {
				fprintf(stderr, "mismatch at %#" PRIx64 "\n",
					addrs[k][i]);
				return 1;
			}
		}
		t0 = now();
		for (i = 0; i < LOOKUPS; i++)
			sink += pmt_map_lookup(map, addrs[k][i]);
		tl[k] = (now() - t0) / LOOKUPS;
		t0 = now();
		for (i = 0; i < LOOKUPS; i++)
			sink += bsearch_lookup(ranges, nr, addrs[k][i]);
		tbs[k] = (now() - t0) / LOOKUPS;
	}
	printf("bits %d sections %u nodes %u bytes %llu subpages %u pieces %u depth %u skips %u build %.0f ms | visits in %.2f span %.2f | ns in %.1f/%.1f span %.1f/%.1f (physmap/bsearch)\n",
	       PMT_NODE_BITS, map->nr_sections - 1, map->nr_nodes,
	       (unsigned long long)map->bytes, map->nr_subpages, map->nr_pieces,
	       map->max_depth, map->skip_entries, tb / 1e6, v[0] / LOOKUPS,
	       v[1] / LOOKUPS, tl[0], tbs[0], tl[1], tbs[1]);
	pmt_map_free(map);
	return 0;
}
