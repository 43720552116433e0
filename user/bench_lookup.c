// SPDX-License-Identifier: GPL-2.0
/*
 * Lookups where they land: physmap against QEMU 7.2's own dispatch, the
 * kernel's maple tree and XArray, and binary search, natively, in one
 * binary and one run, so that the ratios mean something.
 *
 *	bench_lookup [-q] [-r REPEAT] [-s SECTIONS] MAPFILE...
 *
 * (-q: synthetic maps of 256 and 4,096 sections only, for a smoke run;
 * -s: only the synthetic map of SECTIONS sections, for an A/B of one.)
 * For every map file and for synthetic maps of 256, 4,096, 65,536 and
 * 1,000,000 sections (bench/physmap_bench_gen.h, the in-guest benchmark's
 * generator and seed), the same sections are built into:
 *
 *   qemu      qemu_baseline.c, QEMU 7.2's AddressSpaceDispatch, held node
 *             for node against QEMU's dumps by make test-qemu-baseline;
 *             timed twice: "find" is phys_page_find() (the tree, whose
 *             sub-pages answer for their whole page), "full" is
 *             address_space_lookup_region() (the MRU section, the tree,
 *             the sub-page's per-byte table): the question physmap answers;
 *   physmap   physmap_tree.c as the kernel builds it: pending ADDs, COMMIT,
 *             pmt_map_lookup();
 *   maple     lib/maple_tree.c of linux-source, RCU mode, one range per
 *             section, mtree_load();
 *   xarray    lib/xarray.c of linux-source over 4 KiB page numbers,
 *             xa_load(): page-granular, a simpler question in sub-pages;
 *   bsearch   a sorted array of {start, last} and binary search.
 *
 * Every address of every stream is first looked up in all of them and
 * checked (see check()); then each stream is timed REPEAT times for every
 * structure, interleaved (repetition, stream, structure), and each chunk
 * of 4,096 lookups counts with its fastest repetition (time_all()). Each
 * lookup is a call into another translation unit (or a noinline function),
 * never inlined into the timing loop.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <libgen.h>
#include <math.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <linux/err.h>

#include "../physmap_tree.h"
#include "physmap_maps.h"
#include "../bench/physmap_bench_gen.h"
#include "kpeers.h"
#include "qemu_baseline.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
/* The kernel's noinline, for the timed calls, where the shim is not in. */
#ifndef noinline
#define noinline	__attribute__((__noinline__))
#endif
#define STREAM_LEN	BIT(20)
/* Timed in chunks: see time_all(). */
#define CHUNK		4096
#define NR_CHUNKS	(STREAM_LEN / CHUNK)
#define LOCALITY	16
#define REPEAT		7
/* Each run's stack sits this much further down: see time_run(). */
#define STACK_STEP	528
/* The in-guest benchmark's seed for synthetic maps. */
#define SYNTH_SEED	0x5eedULL
#define MAX_SECTIONS	2000000U

/* The structures, in the order of the table's columns. */
/*
 * physmap: pmt_map_lookup_near(), which tries the previous answer first, as
 * LOOKUP_BATCH looks addresses up (QEMU's full lookup tries its most
 * recently used section first too); pm_plain: pmt_map_lookup(), no hint.
 */
enum { S_QFIND, S_QFULL, S_PHYSMAP, S_PLAIN, S_MAPLE, S_XARRAY, S_BSEARCH,
       S_NR };
static const char * const struct_names[S_NR] = {
	"qemu_find", "qemu_full", "physmap", "pm_plain", "maple", "xarray",
	"bsearch",
};

enum { T_INSIDE, T_SPAN, T_LOCAL, T_NR };
static const char * const stream_names[T_NR] = { "inside", "span", "local" };

struct section {
	u64 start, last;
};

struct input {
	char name[64];
	struct section *s;	/* sorted, never overlapping; index = i + 1 */
	size_t n;
	bool shared;		/* a map of testdata/, not synthetic */
	bool io;		/* an I/O space map */
};

/* One input built into every structure. */
struct built {
	struct qb_dispatch *qb;	/* NULL: beyond its 16-bit section numbers */
	struct pmt_map *map;
	struct kp_maple *maple;
	struct kp_xarray *xa;
	const struct input *in;
	u64 bytes[S_NR];	/* 0: none (qemu_find shares qemu_full's) */
	struct qb_stats qst;
	u64 maple_nodes, xa_nodes;
};

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static __u64 rng_state;

static u64 rnd(void)
{
	return pm_rand64(&rng_state);
}

static int cmp_section(const void *a, const void *b)
{
	const struct section *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

static int load(struct input *in, const char *path)
{
	char err[4200], *dot;
	struct pm_map map;
	size_t i;

	pm_map_init(&map);
	if (pm_map_load(&map, path, 0, err, sizeof(err))) {
		fprintf(stderr, "bench_lookup: %s\n", err);
		return -1;
	}
	snprintf(in->name, sizeof(in->name), "%s", basename((char *)path));
	dot = strrchr(in->name, '.');
	if (dot)
		*dot = '\0';
	in->n = map.count;
	in->s = calloc(map.count, sizeof(*in->s));
	if (!in->s)
		exit(2);
	for (i = 0; i < map.count; i++) {
		in->s[i].start = map.ranges[i].start;
		in->s[i].last = map.ranges[i].last;
	}
	pm_map_free(&map);
	qsort(in->s, in->n, sizeof(*in->s), cmp_section);
	in->shared = true;
	in->io = !!strstr(in->name, ".io");
	return 0;
}

/* The in-guest benchmark's synthetic map of @n sections (sorted already). */
static void make_synthetic(struct input *in, size_t n)
{
	u64 start, size;
	size_t i;

	snprintf(in->name, sizeof(in->name), "synthetic-%zu", n);
	in->n = n;
	in->s = calloc(n, sizeof(*in->s));
	if (!in->s)
		exit(2);
	for (i = 0; i < n; i++) {
		pmb_synth_section(n, i, SYNTH_SEED, &start, &size);
		in->s[i].start = start;
		in->s[i].last = start + size - 1;
	}
	in->shared = false;
	in->io = false;
}

static u64 in_section(const struct section *s)
{
	return s->start + rnd() % (s->last - s->start + 1 ?: 1);
}

/*
 * inside: a random section, a random byte of it; span: uniform from the
 * lowest start to the highest last byte; local: 16 random bytes of one
 * random section, then the next section.
 */
static void make_streams(const struct input *in, u64 *streams[T_NR])
{
	u64 lo = in->s[0].start, hi = in->s[in->n - 1].last;
	size_t i, j;

	rng_state = 42;
	for (i = 0; i < T_NR; i++) {
		streams[i] = malloc(STREAM_LEN * sizeof(u64));
		if (!streams[i])
			exit(2);
	}
	for (i = 0; i < STREAM_LEN; i++) {
		streams[T_INSIDE][i] = in_section(&in->s[rnd() % in->n]);
		streams[T_SPAN][i] = lo + rnd() % (hi - lo + 1 ?: 1);
	}
	for (i = 0; i < STREAM_LEN; i += LOCALITY) {
		const struct section *s = &in->s[rnd() % in->n];

		for (j = 0; j < LOCALITY; j++)
			streams[T_LOCAL][i + j] = in_section(s);
	}
}

/* The section covering @addr, from 1, or 0. Not inlined into the loop. */
static noinline u32 bsearch_index(const struct input *in, u64 addr)
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

static void build_all(struct built *b, const struct input *in)
{
	struct pmt_pending *pm;
	u64 node_size;
	u32 index;
	size_t i;

	memset(b, 0, sizeof(*b));
	b->in = in;

	/* QEMU adds a flat view's ranges in address order. */
	b->qb = qb_create();
	if (!b->qb)
		exit(2);
	for (i = 0; i < in->n; i++) {
		int ret = qb_add(b->qb, in->s[i].start, in->s[i].last, i + 1, 0);

		if (ret == -E2BIG) {
			qb_free(b->qb);
			b->qb = NULL;
			break;
		}
		if (ret) {
			fprintf(stderr, "bench_lookup: %s: qemu add %zu: %d\n",
				in->name, i, ret);
			exit(1);
		}
	}
	if (b->qb) {
		qb_compact(b->qb);
		qb_stats(b->qb, &b->qst);
		b->bytes[S_QFULL] = b->qst.bytes;
	}

	pm = pmt_pending_create(12);
	if (!pm)
		exit(2);
	for (i = 0; i < in->n; i++) {
		struct pmt_section sect = {
			.start = in->s[i].start,
			.size = in->s[i].last - in->s[i].start + 1,
		};

		if (pmt_pending_add(pm, &sect, MAX_SECTIONS, UINT64_MAX,
					&index) || index != i + 1) {
			fprintf(stderr, "bench_lookup: %s: physmap add %zu failed\n",
				in->name, i);
			exit(1);
		}
	}
	b->map = pmt_commit(pm, 1, UINT64_MAX);
	pmt_pending_free(pm);
	if (IS_ERR(b->map)) {
		fprintf(stderr, "bench_lookup: %s: commit failed\n", in->name);
		exit(1);
	}
	b->bytes[S_PHYSMAP] = b->map->bytes;

	{
		struct kp_range *r = calloc(in->n, sizeof(*r));

		if (!r)
			exit(2);
		for (i = 0; i < in->n; i++) {
			r[i].start = in->s[i].start;
			r[i].last = in->s[i].last;
			r[i].value = i + 1;
		}
		b->maple = kp_maple_build(r, in->n, &b->maple_nodes, &node_size);
		b->bytes[S_MAPLE] = b->maple_nodes * node_size;
		b->xa = kp_xarray_build(r, in->n, &b->xa_nodes, &node_size);
		b->bytes[S_XARRAY] = b->xa_nodes * node_size;
		free(r);
	}
	if (!b->maple || !b->xa) {
		fprintf(stderr, "bench_lookup: %s: maple/xarray build failed\n",
			in->name);
		exit(1);
	}
	b->bytes[S_BSEARCH] = in->n * sizeof(in->s[0]);
}

static void free_all(struct built *b)
{
	qb_free(b->qb);
	pmt_map_free(b->map);
	kp_maple_free(b->maple);
	kp_xarray_free(b->xa);
}

/* The XArray's answer for @addr may differ only in a page shared or part. */
static bool xa_agrees(const struct input *in, u64 addr, u32 want, u32 got)
{
	u64 first = addr & ~((1ULL << KP_XA_PAGE_SHIFT) - 1);
	u64 last = first + (1ULL << KP_XA_PAGE_SHIFT) - 1;

	if (want && in->s[want - 1].start <= first && last <= in->s[want - 1].last)
		return got == want;
	/* 0, or any section touching the page */
	return !got || (got <= in->n && in->s[got - 1].start <= last &&
			in->s[got - 1].last >= first);
}

/*
 * Every structure's answer for every address against the binary search's;
 * the XArray's where the page is covered by one section entirely. Exits on
 * the first disagreement: timings of wrong answers mean nothing.
 */
static void check(struct built *b, u64 *streams[T_NR])
{
	const struct input *in = b->in;
	const struct qb_section *full, *find;
	u32 *runs = malloc(STREAM_LEN * sizeof(*runs));
	struct pmt_near near;
	size_t t, i;
	u32 want, got;
	u64 a;

	if (!runs) {
		perror("bench_lookup");
		exit(1);
	}
	for (t = 0; t < T_NR; t++) {
		/* As sum_physmap() looks the stream up. */
		near = PMT_NEAR_INIT;
		for (i = 0; i < STREAM_LEN; i += PMT_RUN_LEN)
			pmt_map_lookup_run(b->map, streams[t] + i, runs + i,
					   PMT_RUN_LEN, &near);
		for (i = 0; i < STREAM_LEN; i++) {
			a = streams[t][i];
			want = bsearch_index(in, a);
			if (b->qb) {
				full = qb_lookup(b->qb, a);
				find = qb_find(b->qb, a);
				if (full->mr->id != want)
					goto bad_qemu;
				if (find != full && (!find->mr->subpage ||
						     find->start != (a & ~(QB_PAGE_SIZE - 1))))
					goto bad_qemu;
			}
			got = pmt_map_lookup(b->map, a);
			if (got != want)
				goto bad;
			got = runs[i];
			if (got != want)
				goto bad;
			got = kp_maple_lookup(b->maple, a);
			if (got != want)
				goto bad;
			got = kp_xarray_lookup(b->xa, a);
			if (!xa_agrees(in, a, want, got))
				goto bad;
		}
	}
	free(runs);
	return;
bad_qemu:
	got = full->mr->id;
bad:
	fprintf(stderr, "bench_lookup: %s: wrong answer at %#" PRIx64 ": %u, want %u\n",
		in->name, a, got, want);
	exit(1);
}

static volatile u64 sink;

/* The timed loops, one per structure; each lookup is a call. */
static noinline u64 sum_qfind(const struct qb_dispatch *d,
			      const u64 *a, size_t n)
{
	u64 sum = 0;
	size_t i;

	for (i = 0; i < n; i++)
		sum += (uintptr_t)qb_find(d, a[i]);
	return sum;
}

static noinline u64 sum_qfull(struct qb_dispatch *d,
			      const u64 *a, size_t n)
{
	u64 sum = 0;
	size_t i;

	for (i = 0; i < n; i++)
		sum += (uintptr_t)qb_lookup(d, a[i]);
	return sum;
}

/* Full runs, as LOOKUP_BATCH looks up all but a batch's last one. */
_Static_assert(CHUNK % PMT_RUN_LEN == 0, "chunks of whole runs");

static noinline u64 sum_physmap(const struct pmt_map *map,
				const u64 *a, size_t n)
{
	struct pmt_near near = PMT_NEAR_INIT;
	u32 indexes[PMT_RUN_LEN];
	size_t i, j;
	u64 sum = 0;

	for (i = 0; i < n; i += PMT_RUN_LEN) {
		pmt_map_lookup_run(map, a + i, indexes, PMT_RUN_LEN, &near);
		for (j = 0; j < PMT_RUN_LEN; j++)
			sum += indexes[j];
	}
	return sum;
}

static noinline u64 sum_plain(const struct pmt_map *map,
			      const u64 *a, size_t n)
{
	u64 sum = 0;
	size_t i;

	for (i = 0; i < n; i++)
		sum += pmt_map_lookup(map, a[i]);
	return sum;
}

static noinline u64 sum_bsearch(const struct input *in,
				const u64 *a, size_t n)
{
	u64 sum = 0;
	size_t i;

	for (i = 0; i < n; i++)
		sum += bsearch_index(in, a[i]);
	return sum;
}

/* One chunk of @n lookups of structure @k; each lookup is a call. */
static u64 run_chunk(struct built *b, int k, const u64 *a, size_t n)
{
	switch (k) {
	case S_QFIND:
		return sum_qfind(b->qb, a, n);
	case S_QFULL:
		return sum_qfull(b->qb, a, n);
	case S_PHYSMAP:
		return sum_physmap(b->map, a, n);
	case S_PLAIN:
		return sum_plain(b->map, a, n);
	case S_MAPLE:
		return kp_maple_sum(b->maple, a, n);
	case S_XARRAY:
		return kp_xarray_sum(b->xa, a, n);
	default:
		return sum_bsearch(b->in, a, n);
	}
}

/*
 * One timed run of structure @k over the stream @a, chunk by chunk into
 * @chunk_ns, with @shift bytes of stack below the caller's: where the
 * stack sits relative to a map's hot lines decides whether a call's stores
 * alias them modulo 4 KiB, which cost a structure about 3 ns a lookup on
 * some layouts (Documentation/physmap-seeds.rst). Each repetition moves it,
 * so the best time is not an accident of layout.
 */
static noinline void time_run(struct built *b, int k, const u64 *a,
			      size_t shift, double chunk_ns[NR_CHUNKS])
{
	volatile char pad[shift + 1];
	u64 sum = 0;
	double t;
	size_t c;

	pad[0] = 0;
	for (c = 0; c < NR_CHUNKS; c++) {
		t = now_ns();
		sum += run_chunk(b, k, a + c * CHUNK, CHUNK);
		chunk_ns[c] = now_ns() - t;
	}
	sink = sum + pad[0];
}

static int repeat = REPEAT;

/*
 * ns per lookup for every structure and stream: each stream is run
 * @repeat times for every structure, interleaved (repetition, stream,
 * structure), and each chunk of CHUNK lookups counts with its fastest
 * repetition. The machine is shared: a run that something preempted or
 * flushed counts only where that happened, not as a whole, and the same
 * disturbance is as likely to hit any structure.
 */
static void time_all(struct built *b, u64 *streams[T_NR],
		     double best[S_NR][T_NR])
{
	static double chunk_best[S_NR][T_NR][NR_CHUNKS];
	double chunk_ns[NR_CHUNKS];
	int r, t, k;
	size_t c;

	for (k = 0; k < S_NR; k++)
		for (t = 0; t < T_NR; t++)
			for (c = 0; c < NR_CHUNKS; c++)
				chunk_best[k][t][c] = 1e300;
	for (r = 0; r < repeat; r++)
		for (t = 0; t < T_NR; t++)
			for (k = 0; k < S_NR; k++) {
				if (!b->qb && k <= S_QFULL)
					continue;
				time_run(b, k, streams[t], r * STACK_STEP,
					 chunk_ns);
				for (c = 0; c < NR_CHUNKS; c++)
					if (chunk_ns[c] < chunk_best[k][t][c])
						chunk_best[k][t][c] = chunk_ns[c];
			}
	for (k = 0; k < S_NR; k++)
		for (t = 0; t < T_NR; t++) {
			best[k][t] = 0;
			for (c = 0; c < NR_CHUNKS; c++)
				best[k][t] += chunk_best[k][t][c];
			best[k][t] /= STREAM_LEN;
			if (!b->qb && k <= S_QFULL)
				best[k][t] = -1;
		}
}

/* What the next round of work on physmap must reach (issue 12, item 2). */
struct targets {
	double qfull, maple, xarray, bsearch;	/* <= 0: none for this row */
};

static struct targets targets_of(const struct input *in)
{
	struct targets tg = {
		.qfull = in->shared ? 1.0 : 0,
		.maple = 0.33,
		.xarray = in->io ? 1.0 : 0.5,
		.bsearch = in->n >= 1000000 ? 0.3 : 0,
	};

	return tg;
}

/* Totals for the summary. */
static double geo_log_sum;
static int geo_count, rows, rows_pass;
static u64 q35_big_bytes[2][2];	/* [memory, io][physmap, qemu]; 0: not run */

static void ratio_cell(char *buf, size_t size, double num, double den,
		       double target, bool *pass)
{
	double ratio;

	if (num < 0 || den <= 0) {
		snprintf(buf, size, "%11s", "-");
		return;
	}
	ratio = num / den;
	if (target <= 0) {
		snprintf(buf, size, "%6.2f     ", ratio);
		return;
	}
	snprintf(buf, size, "%6.2f %s", ratio,
		 ratio <= target ? "PASS" : "FAIL");
	if (ratio > target)
		*pass = false;
}

static void print_input(struct built *b, double best[S_NR][T_NR])
{
	const struct input *in = b->in;
	struct targets tg = targets_of(in);
	char cell[4][32];
	int t, k;

	if (b->qb)
		printf("\n== %s: %zu sections; qemu %u sections, %u nodes (%u reachable), %u sub-pages%s; physmap %u nodes, %u sub-pages; maple %" PRIu64 " nodes; xarray %" PRIu64 " nodes\n",
		       in->name, in->n, b->qst.sections, b->qst.nodes,
		       b->qst.reachable, b->qst.subpages,
		       b->qst.beyond_qemu ? " (more than QEMU's 4,096)" : "",
		       b->map->nr_nodes, b->map->nr_subpages, b->maple_nodes,
		       b->xa_nodes);
	else
		printf("\n== %s: %zu sections; qemu: more than 65,535 sections, not built; physmap %u nodes, %u sub-pages; maple %" PRIu64 " nodes; xarray %" PRIu64 " nodes\n",
		       in->name, in->n, b->map->nr_nodes, b->map->nr_subpages,
		       b->maple_nodes, b->xa_nodes);
	for (t = 0; t < T_NR; t++) {
		bool pass = true;

		printf("%-31s %-6s", in->name, stream_names[t]);
		for (k = 0; k < S_NR; k++) {
			if (best[k][t] < 0)
				printf(" %9s", "-");
			else
				printf(" %9.1f", best[k][t]);
		}
		ratio_cell(cell[0], sizeof(cell[0]), best[S_PHYSMAP][t],
			   best[S_QFULL][t], tg.qfull, &pass);
		ratio_cell(cell[1], sizeof(cell[1]), best[S_PHYSMAP][t],
			   best[S_MAPLE][t], tg.maple, &pass);
		ratio_cell(cell[2], sizeof(cell[2]), best[S_PHYSMAP][t],
			   best[S_XARRAY][t], tg.xarray, &pass);
		ratio_cell(cell[3], sizeof(cell[3]), best[S_PHYSMAP][t],
			   best[S_BSEARCH][t], tg.bsearch, &pass);
		printf(" | %s %s %s %s | %s\n", cell[0], cell[1], cell[2],
		       cell[3], pass ? "PASS" : "FAIL");
		rows++;
		rows_pass += pass;
		if (t == T_INSIDE && in->shared && best[S_QFULL][t] > 0) {
			geo_log_sum += log(best[S_PHYSMAP][t] / best[S_QFULL][t]);
			geo_count++;
		}
	}
	printf("%-31s %-6s", in->name, "bytes");
	for (k = 0; k < S_NR; k++) {
		if (b->bytes[k])
			printf(" %9" PRIu64, b->bytes[k]);
		else	/* qemu_find: the same structure as qemu_full */
			printf(" %9s", k == S_QFIND && b->qb ? "" : "-");
	}
	printf(" |");
	for (k = 0; k < 4; k++) {
		static const int den[] = { S_QFULL, S_MAPLE, S_XARRAY, S_BSEARCH };

		if (b->bytes[den[k]])
			printf(" %6.3f     ",
			       (double)b->bytes[S_PHYSMAP] / b->bytes[den[k]]);
		else
			printf(" %11s", "-");
	}
	printf(" |\n");
	if (!strncmp(in->name, "q35_big.booted.", 15) && b->qb) {
		q35_big_bytes[in->io][0] = b->bytes[S_PHYSMAP];
		q35_big_bytes[in->io][1] = b->bytes[S_QFULL];
	}
	fflush(stdout);
}

static void run(const struct input *in)
{
	double best[S_NR][T_NR];
	u64 *streams[T_NR];
	struct built b;
	int t;

	make_streams(in, streams);
	build_all(&b, in);
	check(&b, streams);
	time_all(&b, streams, best);
	print_input(&b, best);
	free_all(&b);
	for (t = 0; t < T_NR; t++)
		free(streams[t]);
}

static void print_header(void)
{
	cpu_set_t set;
	char cpus[256] = "";
	int c, k;

	if (!sched_getaffinity(0, sizeof(set), &set))
		for (c = 0; c < CPU_SETSIZE; c++)
			if (CPU_ISSET(c, &set))
				snprintf(cpus + strlen(cpus),
					 sizeof(cpus) - strlen(cpus), "%s%d",
					 *cpus ? "," : "", c);
	printf("# bench_lookup: %lu-address streams, %d runs each, the fastest of each %d-lookup chunk, page_shift 12, CPUs %s of %ld\n",
	       STREAM_LEN, repeat, CHUNK, cpus, sysconf(_SC_NPROCESSORS_ONLN));
	printf("# ns per lookup; ratios are physmap's time (bytes) over the other's; PASS/FAIL against issue 12's targets\n");
	printf("%-31s %-6s", "# map", "stream");
	for (k = 0; k < S_NR; k++)
		printf(" %9s", struct_names[k]);
	printf(" | %11s %11s %11s %11s | row\n", "p/qemu_full", "p/maple",
	       "p/xarray", "p/bsearch");
}

static void print_summary(void)
{
	double geo = geo_count ? exp(geo_log_sum / geo_count) : 0;
	u64 p = q35_big_bytes[0][0] + q35_big_bytes[1][0];
	u64 q = q35_big_bytes[0][1] + q35_big_bytes[1][1];

	printf("\n# summary: physmap/qemu_full inside, geometric mean over %d shared maps: %.2f (target <= 0.60: %s)\n",
	       geo_count, geo, geo <= 0.6 ? "PASS" : "FAIL");
	if (q35_big_bytes[0][1] && q35_big_bytes[1][1])
		printf("# summary: q35_big.booted bytes, memory + io: physmap %" PRIu64 ", qemu %" PRIu64 ": %.3f (target <= 0.10: %s)\n",
		       p, q, (double)p / q, (double)p / q <= 0.1 ? "PASS" : "FAIL");
	printf("# summary: rows meeting every target: %d of %d\n", rows_pass,
	       rows);
}

int main(int argc, char **argv)
{
	static const size_t sizes[] = { 256, 4096, 65536, 1000000 };
	size_t nsizes = ARRAY_SIZE(sizes), i, only = 0;
	struct input in;
	int opt;

	while ((opt = getopt(argc, argv, "qr:s:")) != -1) {
		switch (opt) {
		case 'q':
			nsizes = 2;
			break;
		case 's':
			only = strtoul(optarg, NULL, 0);
			break;
		case 'r':
			repeat = atoi(optarg);
			if (repeat < 1)
				repeat = 1;
			break;
		default:
			fprintf(stderr, "usage: %s [-q] [-r REPEAT] [-s SECTIONS] MAPFILE...\n",
				argv[0]);
			return 2;
		}
	}
	for (i = 0; only && i < nsizes && sizes[i] != only; i++)
		;
	if (only && i == nsizes) {
		fprintf(stderr, "bench_lookup: -s %zu: not one of the synthetic sizes%s\n",
			only, nsizes < ARRAY_SIZE(sizes) ? " -q runs" : "");
		return 2;
	}
	kp_init();
	print_header();
	for (; optind < argc; optind++) {
		if (load(&in, argv[optind]))
			return 2;
		if (in.n)
			run(&in);
		free(in.s);
	}
	for (i = 0; i < nsizes; i++) {
		if (only && sizes[i] != only)
			continue;
		make_synthetic(&in, sizes[i]);
		run(&in);
		free(in.s);
	}
	print_summary();
	return 0;
}
