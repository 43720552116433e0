// SPDX-License-Identifier: GPL-2.0
/*
 * What each seed optimization buys: the tree core with and without early
 * leaves and compaction (and physmap's depth levelling), on every shared map
 * and on synthetic maps, beside a sorted array with binary search over the
 * same sections.
 *
 *	bench [-q] MAPFILE...	(-q: small synthetic sizes only, for a smoke run)
 *
 * Prints one row per input and structure: nodes, bytes, build+commit time,
 * and ns per lookup for three fixed-seed address streams: uniform inside
 * sections, uniform over the span, and 16 lookups per section (locality).
 */
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <linux/err.h>

#include "../physmap_tree.h"
#include "physmap_maps.h"
#include "knobs.h"

#define STREAM_LEN	(1 << 20)
#define LOCALITY	16
/* Skip a variant whose whole-page leaves alone would pass this many nodes. */
#define NODE_BUDGET	(1ULL << 19)

struct section {
	uint64_t start, last;
};

struct input {
	char name[64];
	struct section *s;	/* sorted by start */
	size_t n;
};

static __u64 rng_state;

static uint64_t rnd(void)
{
	return pm_rand64(&rng_state);
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int cmp_section(const void *a, const void *b)
{
	const struct section *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/*
 * n sections over a 48-bit span, one per equal slot, never adjacent: of every
 * four, one page-aligned run of pages, one 2 MiB-aligned run, one unaligned
 * range, one piece of a single page.
 */
static void synthetic(struct input *in, size_t n)
{
	uint64_t slot = (1ULL << 48) / n, page = 4096;
	size_t i;

	snprintf(in->name, sizeof(in->name), "synthetic-%zu", n);
	in->s = calloc(n, sizeof(*in->s));
	in->n = n;
	rng_state = n;
	for (i = 0; i < n; i++) {
		uint64_t base = i * slot, room = slot / 2, start, size;

		switch (i % 4) {
		case 0:
			start = base + (rnd() % (room / page)) * page;
			size = (1 + rnd() % (room / page / 2 + 1)) * page;
			break;
		case 1:
			start = base + (rnd() % (room >> 21 | 1)) * (1ULL << 21);
			size = (1 + rnd() % 8) << 21;
			break;
		case 2:
			start = base + rnd() % room;
			size = 1 + rnd() % (room / 2);
			break;
		default:
			start = base + rnd() % room;
			size = 1 + rnd() % (page - (start & (page - 1)));
			break;
		}
		if (size > slot - (start - base) - 1)
			size = slot - (start - base) - 1;
		in->s[i].start = start;
		in->s[i].last = start + size - 1;
	}
}

static int load(struct input *in, const char *path)
{
	char err[4200];
	struct pm_map map;
	size_t i;

	pm_map_init(&map);
	if (pm_map_load(&map, path, 0, err, sizeof(err))) {
		fprintf(stderr, "bench: %s\n", err);
		return -1;
	}
	snprintf(in->name, sizeof(in->name), "%s", basename((char *)path));
	*strrchr(in->name, '.') = '\0';
	in->n = map.count;
	in->s = calloc(map.count, sizeof(*in->s));
	for (i = 0; i < map.count; i++) {
		in->s[i].start = map.ranges[i].start;
		in->s[i].last = map.ranges[i].last;
	}
	pm_map_free(&map);
	qsort(in->s, in->n, sizeof(*in->s), cmp_section);
	return 0;
}

static uint64_t in_section(const struct section *s)
{
	return s->start + rnd() % (s->last - s->start + 1 ?: 1);
}

/* The three address streams of an input. */
static void make_streams(const struct input *in, uint64_t *streams[3])
{
	uint64_t lo = in->s[0].start, hi = in->s[in->n - 1].last;
	size_t i, j;

	rng_state = 42;
	for (i = 0; i < 3; i++)
		streams[i] = malloc(STREAM_LEN * sizeof(uint64_t));
	for (i = 0; i < STREAM_LEN; i++) {
		streams[0][i] = in_section(&in->s[rnd() % in->n]);
		streams[1][i] = lo + rnd() % (hi - lo + 1 ?: 1);
	}
	for (i = 0; i < STREAM_LEN; i += LOCALITY) {
		const struct section *s = &in->s[rnd() % in->n];

		for (j = 0; j < LOCALITY; j++)
			streams[2][i + j] = in_section(s);
	}
}

static volatile uint64_t sink;

/*
 * Each stream is timed REPEAT times and the best run is kept: the fastest
 * run is the one least disturbed by the rest of the machine. Each run also
 * starts with the stack STACK_STEP bytes further down: where the stack sits
 * relative to the map's hot lines decides whether a call's stores alias
 * them modulo 4 KiB, which costs both structures about 3 ns per lookup on
 * some layouts (one 32-byte window in 4 KiB here) and moves with ASLR and
 * the size of the environment. Several stack positions keep that accident
 * of the process layout out of the table.
 */
#define REPEAT		5
#define STACK_STEP	528

/* Called, not inlined, like pmt_map_lookup(): the same call cost. */
static noinline size_t bsearch_index(const struct input *in,
						      uint64_t addr)
{
	size_t lo = 0, hi = in->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (in->s[mid].start <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo && addr <= in->s[lo - 1].last ? lo : 0;
}

/* One timed run over @a, @shift bytes of stack below the caller's. */
static noinline double time_run(const struct pmt_map *map,
						 const struct input *in,
						 const uint64_t *a,
						 size_t shift)
{
	volatile char pad[shift + 1];
	uint64_t sum = 0;
	double t;
	size_t i;

	pad[0] = 0;
	t = now_ns();
	if (map)
		for (i = 0; i < STREAM_LEN; i++)
			sum += pmt_map_lookup(map, a[i]);
	else
		for (i = 0; i < STREAM_LEN; i++)
			sum += bsearch_index(in, a[i]);
	t = (now_ns() - t) / STREAM_LEN;
	sink = sum + pad[0];
	return t;
}

/* ns per lookup of @a through the tree (@map) or the sorted array. */
static double time_stream(const struct pmt_map *map,
			  const struct input *in, const uint64_t *a)
{
	double best = 1e300, t;
	int r;

	for (r = 0; r < REPEAT; r++) {
		t = time_run(map, in, a, r * STACK_STEP);
		if (t < best)
			best = t;
	}
	return best;
}

/* Pages the sections cover, a lower bound of leaves without early ones. */
static uint64_t pages_covered(const struct input *in)
{
	uint64_t pages = 0;
	size_t i;

	for (i = 0; i < in->n; i++)
		pages += ((in->s[i].last >> 12) - (in->s[i].start >> 12)) + 1;
	return pages;
}

/*
 * "full" is physmap's commit: QEMU's two seeds and depth levelling.
 * "no-levelling" is QEMU's algorithm as it is; the last three take one seed
 * or both away from it.
 */
static const struct variant {
	const char *name;
	bool early, compact, level;
} variants[] = {
	{ "full", true, true, true },
	{ "no-levelling", true, true, false },
	{ "no-compaction", true, false, false },
	{ "no-early-leaves", false, true, false },
	{ "neither", false, false, false },
};

static void run(const struct input *in)
{
	uint64_t *streams[3];
	size_t v, i;

	make_streams(in, streams);
	for (v = 0; v < sizeof(variants) / sizeof(variants[0]); v++) {
		const struct variant *var = &variants[v];
		struct pmt_pending *pm;
		struct pmt_map *map;
		double t0, build;
		uint32_t index;

		if (!var->early && pages_covered(in) / 512 > NODE_BUDGET) {
			printf("%-28s %-16s %9s %12s %10s   skipped: > %llu level-0 nodes\n",
			       in->name, var->name, "-", "-", "-", NODE_BUDGET);
			continue;
		}
		physmap_knob_early_leaves = var->early;
		physmap_knob_compaction = var->compact;
		physmap_knob_levelling = var->level;
		t0 = now_ns();
		pm = pmt_pending_create(12);
		for (i = 0; i < in->n; i++) {
			struct pmt_section s = {
				.start = in->s[i].start,
				.size = in->s[i].last - in->s[i].start + 1,
			};

			if (pmt_pending_add(pm, &s, 2000000, UINT64_MAX, &index)) {
				fprintf(stderr, "bench: %s: ADD %zu failed\n",
					in->name, i);
				exit(1);
			}
		}
		map = pmt_commit(pm, 1, UINT64_MAX);
		build = (now_ns() - t0) / 1e6;
		pmt_pending_free(pm);
		if (IS_ERR(map)) {
			fprintf(stderr, "bench: %s: commit failed\n", in->name);
			exit(1);
		}
		/* The same answers as the binary search, or nothing counts. */
		for (i = 0; i < STREAM_LEN; i += 97)
			if (pmt_map_lookup(map, streams[1][i]) &&
			    !bsearch_index(in, streams[1][i])) {
				fprintf(stderr, "bench: %s: wrong answer\n", in->name);
				exit(1);
			}
		printf("%-28s %-16s %9u %12" PRIu64 " %10.2f %9.1f %9.1f %9.1f\n",
		       in->name, var->name, map->nr_nodes, (uint64_t)map->bytes, build,
		       time_stream(map, in, streams[0]),
		       time_stream(map, in, streams[1]),
		       time_stream(map, in, streams[2]));
		pmt_map_free(map);
	}
	physmap_knob_early_leaves = true;
	physmap_knob_compaction = true;
	physmap_knob_levelling = true;
	printf("%-28s %-16s %9s %12zu %10s %9.1f %9.1f %9.1f\n", in->name,
	       "binary-search", "-", in->n * sizeof(in->s[0]), "-",
	       time_stream(NULL, in, streams[0]),
	       time_stream(NULL, in, streams[1]),
	       time_stream(NULL, in, streams[2]));
	for (i = 0; i < 3; i++)
		free(streams[i]);
}

int main(int argc, char **argv)
{
	static const size_t sizes[] = { 16, 256, 4096, 65536, 1000000 };
	size_t nsizes = sizeof(sizes) / sizeof(sizes[0]);
	struct input in;
	int i = 1;

	if (argc > 1 && !strcmp(argv[1], "-q")) {
		nsizes = 3;
		i++;
	}
	printf("# physmap bench-user: %d-address streams, best of %d runs, page_shift 12\n",
	       STREAM_LEN, REPEAT);
	printf("%-28s %-16s %9s %12s %10s %9s %9s %9s\n", "input", "structure",
	       "nodes", "bytes", "build_ms", "ns_inside", "ns_span", "ns_local");
	for (; i < argc; i++) {
		if (load(&in, argv[i]))
			return 2;
		run(&in);
		free(in.s);
	}
	for (i = 0; i < (int)nsizes; i++) {
		synthetic(&in, sizes[i]);
		run(&in);
		free(in.s);
	}
	return 0;
}
