// SPDX-License-Identifier: GPL-2.0
/*
 * The cost of live updates (issue 14), natively (make bench-user), on the
 * benchmark's synthetic maps (bench/physmap_bench_gen.h):
 * - a full build of n sections: every ADD, then COMMIT; its time, the
 *   published map's bytes and the peak (the most its allocations held at
 *   once, as the shim counts them: the pending map, COMMIT's scratch and
 *   the new map);
 * - one update transaction on that map: BEGIN with PHYSMAP_BEGIN_UPDATE
 *   (pmt_pending_update()), one REMOVE, one ADD in the freed range, COMMIT;
 *   its time and its peak bytes besides the old map, against the full
 *   build's;
 * - the same as the device runs it: the first update of the map copies it
 *   and commits it in full with room for updates (pmt_commit_update()),
 *   keeping its pending map; then a series of update transactions on the
 *   kept pending map, each sharing what it did not change: median, mean
 *   and slowest time against the full build, full builds when the room ran
 *   out, bytes allocated;
 * - a run of such kept transactions on a 65,536-section map, each replacing
 *   a random section by one of another shape in its slot; then lookups on
 *   the two uniform streams (inside the sections, over their span) and
 *   bytes, against a map freshly built from the same sections.
 *
 *	bench_update [-q] [TRANSACTIONS]   (-q: small maps, for a smoke run;
 *					    TRANSACTIONS: the 65,536-section
 *					    run's, 100,000 by default)
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <linux/err.h>

#include "../physmap_tree.h"
#include "../bench/physmap_bench_gen.h"
#include "physmap_params.h"

#define SEED		0x5eedULL
#define STREAM		(1U << 20)

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void add_or_die(struct pmt_pending *pm, u64 start, u64 size, u64 cookie)
{
	struct pmt_section sect = { .start = start, .size = size,
				    .cookie = cookie };
	uint32_t index;

	if (pmt_pending_add(pm, &sect, UINT32_MAX, UINT64_MAX, &index)) {
		fprintf(stderr, "bench_update: ADD %#" PRIx64 " failed\n", start);
		exit(1);
	}
}

static struct pmt_map *commit_or_die(struct pmt_pending *pm, u64 gen)
{
	struct pmt_map *map = pmt_commit(pm, gen, UINT64_MAX);

	if (IS_ERR(map)) {
		fprintf(stderr, "bench_update: COMMIT failed\n");
		exit(1);
	}
	return map;
}

/*
 * A full build of the synthetic map of @n sections; its peak bytes: the
 * most that the tree's allocations held at once (the shim counts them),
 * the pending map, COMMIT's scratch and the new map among them.
 */
static struct pmt_map *full_build(u64 n, double *secs, size_t *peak)
{
	size_t before = physmap_shim_live();
	struct pmt_pending *pm;
	struct pmt_map *map;
	u64 i, start, size;
	double t = now_s();

	physmap_shim_peak_reset();
	pm = pmt_pending_create(12);

	for (i = 0; i < n; i++) {
		pmb_synth_section(n, i, SEED, &start, &size);
		add_or_die(pm, start, size, i);
	}
	map = commit_or_die(pm, 1);
	*secs = now_s() - t;
	*peak = physmap_shim_peak() - before;
	pmt_pending_free(pm);
	return map;
}

/* Add a section in the first half of the range of section @index, gone. */
static void replace(struct pmt_pending *pm, u64 n, u32 index, u64 *state)
{
	u64 start, size, room;

	pmb_synth_section(n, index - 1, SEED, &start, &size);
	room = ((1ULL << PMB_SPAN_BITS) / n) / 2;
	start = start - start % 4096 + pmb_below(state, 4096);
	size = 1 + pmb_below(state, room - (start % room) - 1);
	add_or_die(pm, start, size, index);
}

/*
 * One update transaction on @map: section @index goes, a section of
 * another shape takes its slot. Returns the new map; *@bytes is the most
 * that the transaction's allocations held at once (the pending map,
 * COMMIT's scratch and the new map), besides @map.
 */
static struct pmt_map *update_one(struct pmt_map *map, u64 n, u32 index,
				  u64 *state, size_t *bytes)
{
	const struct pmt_section *old = pmt_map_section(map, index);
	size_t before = physmap_shim_live();
	struct pmt_pending *pm;
	struct pmt_map *next;

	physmap_shim_peak_reset();
	pm = pmt_pending_update(map, UINT64_MAX);

	if (IS_ERR(pm) || !old || pmt_pending_remove(pm, index)) {
		fprintf(stderr, "bench_update: update of #%u failed\n", index);
		exit(1);
	}
	replace(pm, n, index, state);
	next = commit_or_die(pm, map->generation + 1);
	*bytes = physmap_shim_peak() - before;
	pmt_pending_free(pm);
	return next;
}

/*
 * The same transaction on the pending map @pm that pmt_commit_update()
 * kept from @map, committed by it: the new map shares what did not change
 * (or, the first time and when the store is full, is built in full with
 * room for the next). *@bytes: as for update_one().
 */
static struct pmt_map *update_kept(struct pmt_map *map, struct pmt_pending *pm,
				   u64 n, u32 index, u64 *state, size_t *bytes)
{
	size_t before = physmap_shim_live();
	struct pmt_map *next;

	physmap_shim_peak_reset();
	if (pmt_pending_remove(pm, index)) {
		fprintf(stderr, "bench_update: REMOVE #%u failed\n", index);
		exit(1);
	}
	replace(pm, n, index, state);
	next = pmt_commit_update(pm, map, map->generation + 1, UINT64_MAX);
	if (IS_ERR(next)) {
		fprintf(stderr, "bench_update: COMMIT failed\n");
		exit(1);
	}
	*bytes = physmap_shim_peak() - before;
	return next;
}

/* The best of 3 mean ns per lookup of @addrs. */
static double lookup_ns(const struct pmt_map *map, const u64 *addrs)
{
	double best = 1e9, t;
	u32 sink = 0, i;
	int run;

	for (run = 0; run < 3; run++) {
		t = now_s();
		for (i = 0; i < STREAM; i++)
			sink += pmt_map_lookup(map, addrs[i]);
		t = (now_s() - t) * 1e9 / STREAM;
		best = t < best ? t : best;
	}
	if (sink == 0xdeadbeef)
		printf("#\n");
	return best;
}

/* Uniform streams of @map's sections: inside them, over their span. */
static void streams(const struct pmt_map *map, u64 *inside, u64 *span)
{
	u64 state = SEED, first = UINT64_MAX, last = 0;
	const struct pmt_section *s;
	u32 i, k;

	for (i = 1; i < map->nr_sections; i++) {
		s = pmt_map_section(map, i);
		if (!s)
			continue;
		first = s->start < first ? s->start : first;
		last = s->start + s->size - 1 > last ? s->start + s->size - 1 :
						       last;
	}
	for (i = 0; i < STREAM; i++) {
		do {
			k = 1 + pmb_below(&state, map->nr_sections - 1);
			s = pmt_map_section(map, k);
		} while (!s);
		inside[i] = s->start + pmb_below(&state, s->size);
		span[i] = first + pmb_below(&state, last - first + 1);
	}
}

/* A map built from nothing from @map's sections, in index order. */
static struct pmt_map *fresh_copy(const struct pmt_map *map)
{
	struct pmt_pending *pm = pmt_pending_create(map->page_shift);
	const struct pmt_section *s;
	struct pmt_map *fresh;
	u32 i;

	for (i = 1; i < map->nr_sections; i++) {
		s = pmt_map_section(map, i);
		if (s)
			add_or_die(pm, s->start, s->size, s->cookie);
	}
	fresh = commit_or_die(pm, 1);
	pmt_pending_free(pm);
	return fresh;
}

static void many_updates(u64 n, unsigned long transactions)
{
	u64 *inside = malloc(STREAM * sizeof(u64));
	u64 *span = malloc(STREAM * sizeof(u64));
	struct pmt_map *map, *next, *fresh;
	unsigned long k, full = 0;
	struct pmt_pending *pm;
	u64 state = SEED + 1;
	double secs, t, ns[4];
	size_t peak, bytes;

	if (!inside || !span)
		exit(1);
	map = full_build(n, &secs, &peak);
	pm = pmt_pending_update(map, UINT64_MAX);
	if (IS_ERR(pm))
		exit(1);
	t = now_s();
	for (k = 0; k < transactions; k++) {
		next = update_kept(map, pm, n, 1 + pmb_below(&state, n), &state,
				   &bytes);
		full += next->store != map->store;
		pmt_map_free(map);
		map = next;
	}
	t = now_s() - t;
	pmt_pending_free(pm);
	fresh = fresh_copy(map);
	streams(map, inside, span);
	/* each stream once untimed first, then both maps on it in turn */
	lookup_ns(map, inside);
	ns[0] = lookup_ns(map, inside);
	ns[1] = lookup_ns(fresh, inside);
	lookup_ns(map, span);
	ns[2] = lookup_ns(map, span);
	ns[3] = lookup_ns(fresh, span);
	printf("after %lu update transactions on %" PRIu64 " sections (%.3f s, %.3f ms each, %lu of them full builds): inside %.1f ns (fresh %.1f ns, %.2fx), span %.1f ns (fresh %.1f ns, %.2fx), bytes %zu (fresh %zu, %.2fx)\n",
	       transactions, n, t, t * 1e3 / transactions, full, ns[0], ns[1],
	       ns[0] / ns[1], ns[2], ns[3], ns[2] / ns[3], map->bytes,
	       fresh->bytes, (double)map->bytes / fresh->bytes);
	pmt_map_free(fresh);
	pmt_map_free(map);
	free(inside);
	free(span);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/*
 * Update transactions on the pending map kept from one COMMIT to the next
 * (pmt_commit_update()): the first copies @map and builds it in full with
 * room for the next; then @count more, which share what they did not
 * change, but for a full build when the room is gone.
 */
static void kept_series(struct pmt_map *map, u64 n, double build,
			unsigned long count)
{
	double *secs = calloc(count, sizeof(*secs)), t, sum = 0;
	struct pmt_pending *pm;
	struct pmt_map *next, *cur;
	size_t bytes, most = 0, total = 0;
	unsigned long k, full = 0;
	u64 state = SEED + 2;

	t = now_s();
	pm = pmt_pending_update(map, UINT64_MAX);
	if (IS_ERR(pm) || !secs)
		exit(1);
	cur = update_kept(map, pm, n, 1 + pmb_below(&state, n), &state, &bytes);
	t = now_s() - t;
	printf("first update transaction kept for the next (BEGIN_UPDATE's copy, REMOVE, ADD, a full COMMIT with room for updates): %.3f s (%.3fx the full build), peak %zu bytes besides the old map; map %zu bytes (%.2fx)\n",
	       t, t / build, bytes, cur->bytes, (double)cur->bytes / map->bytes);
	for (k = 0; k < count; k++) {
		t = now_s();
		next = update_kept(cur, pm, n, 1 + pmb_below(&state, n),
				   &state, &bytes);
		secs[k] = now_s() - t;
		sum += secs[k];
		full += next->store != cur->store;
		most = bytes > most ? bytes : most;
		total += bytes;
		pmt_map_free(cur);
		cur = next;
	}
	qsort(secs, count, sizeof(*secs), cmp_double);
	printf("%lu more update transactions on the kept pending map (REMOVE, ADD, COMMIT sharing what did not change): median %.1f us (1/%.0f of the full build), mean %.1f us (1/%.0f), slowest %.3f ms; %lu full builds when the room ran out; %.0f bytes allocated on average besides the old map, %zu at most\n",
	       count, secs[count / 2] * 1e6, build / secs[count / 2],
	       sum / count * 1e6, build / (sum / count),
	       secs[count - 1] * 1e3, full, (double)total / count, most);
	pmt_pending_free(pm);
	pmt_map_free(cur);
	free(secs);
}

int main(int argc, char **argv)
{
	bool quick = argc > 1 && !strcmp(argv[1], "-q");
	unsigned long transactions = argc > 1 + quick ?
				     strtoul(argv[1 + quick], NULL, 0) : 100000;
	u64 n = quick ? 65536 : 1000000;
	struct pmt_map *map, *next;
	double build, update;
	size_t peak, bytes;
	u64 state = SEED;

	map = full_build(n, &build, &peak);
	printf("full build of %" PRIu64 " sections (every ADD, COMMIT): %.3f s; map %zu bytes, peak %zu bytes (%.1fx the map)\n",
	       n, build, map->bytes, peak, (double)peak / map->bytes);
	update = now_s();
	next = update_one(map, n, 1 + pmb_below(&state, n), &state, &bytes);
	update = now_s() - update;
	printf("one update transaction (BEGIN_UPDATE, REMOVE, ADD, COMMIT) on it: %.3f s (%.3fx the full build), peak %zu bytes besides the old map (%.2fx the full build's peak)\n",
	       update, update / build, bytes, (double)bytes / peak);
	pmt_map_free(next);
	kept_series(map, n, build, quick ? 100 : 1000);
	pmt_map_free(map);
	many_updates(quick ? 4096 : 65536, quick ? 100 : transactions);
	return 0;
}
