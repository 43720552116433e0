// SPDX-License-Identifier: GPL-2.0
/*
 * physmap_fault_test.c - every allocation of ADD, BEGIN, COMMIT and open(),
 * and of an update (BEGIN with PHYSMAP_BEGIN_UPDATE, REMOVE, ADD, COMMIT),
 * made to fail, one at a time
 *
 * With the kernel's fault injection (CONFIG_FAILSLAB, CONFIG_FAIL_PAGE_ALLOC,
 * /proc/thread-self/fail-nth), the Nth allocation of one call fails, for
 * N = 1, 2, ... until the call makes fewer than N allocations. Each time:
 *   - an injected failure the call cannot absorb returns ENOMEM;
 *   - the published map answers exactly as before (STATS, GET_SECTION of
 *     every section, lookups at every edge and random addresses);
 *   - the pending map is as it was before the call: the section a failed
 *     ADD tried is added again and gets the next index (a half-done ADD
 *     would answer EEXIST), then COMMIT publishes exactly the sections
 *     added before, checked against the model.
 * Updates: BEGIN with PHYSMAP_BEGIN_UPDATE over a published map without
 * holes, one with more than 16 (the holes' heap grows) and the 3,000-section
 * one, with and without a pending map: a failure leaves the published map
 * and the pending one as they were, a success holds the published map
 * (committed as it is, after an ADD that must take the lowest hole). Each
 * step of an update transaction (REMOVEs past 16 holes, ADDs into the
 * freed ranges that take their indexes, an ADD far away, COMMIT): after a
 * failed REMOVE or ADD, COMMIT publishes the pending map as it was before
 * the call; then the rest of the transaction, begun again from it,
 * publishes exactly the model. The same transaction on the pending map
 * the last update's COMMIT kept, whose COMMIT builds only what changed:
 * a failed COMMIT leaves the map before published and COMMIT again
 * publishes the model.
 * A failure the call absorbs (kvmalloc falling back from kmalloc to
 * vmalloc, kmemleak's own metadata falling back to its pool) must leave the
 * call successful with the result it would have had anyway.
 *
 * Two passes: "slab" fails slab allocations only (failslab), "page" page
 * allocations only (fail_page_alloc, every order), so that each allocation
 * of the call, kmalloc or vmalloc or the pages behind them, fails once.
 * Leaks are left to kmemleak (the debug tier scans after the tests).
 *
 * Needs debugfs with failslab and fail_page_alloc and
 * /proc/thread-self/fail-nth; the tests skip without them (e.g. on
 * Debian's cloud kernel). Settings are restored at the end.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "kselftest_harness.h"
#pragma GCC diagnostic pop
#include "physmap_maps.h"
#include "physmap_check.h"
#include "physmap_ksft.h"

#define DEBUGFS		"/sys/kernel/debug"
#define FAILSLAB	DEBUGFS "/failslab"
#define FAILPAGE	DEBUGFS "/fail_page_alloc"
#define FAIL_NTH	"/proc/thread-self/fail-nth"
#define KMSG		"/dev/kmsg"

/* the most allocations one call may make before the test gives up */
#define MAX_NTH		4096
/* sections of the published map and of the pending one */
#define NR_PUBLISHED	24
#define NR_PENDING	40
/* a pending map whose COMMIT allocates several pages (kmalloc_large, vmalloc) */
#define NR_BIG		3000
/*
 * Pairs of one-page sections 1 GiB apart: each pair keeps a 64-entry node
 * of its own (the single-child nodes above it are compacted away), about
 * 324 bytes a pair with its sections, so the map passes HUGE_MIN_BYTES.
 */
#define NR_HUGE_PAIRS	14000
#define HUGE_MIN_BYTES	(4UL << 20)
/* page faults of the vmalloc'd COMMIT: every N up to this, then a sample */
#define HUGE_EVERY_N	32
#define HUGE_STRIDE	37

enum op { OP_OPEN, OP_BEGIN, OP_ADD, OP_ADD_FIRST, OP_COMMIT, OP_COMMIT_BIG,
	  OP_BEGIN_UPDATE, OP_REMOVE, OP_ADD_UPDATE, OP_COMMIT_UPDATE,
	  OP_ADD_BIG, OP_COMMIT_KEPT, NR_OPS };

static const char *const op_name[NR_OPS] = {
	"open", "BEGIN", "ADD", "ADD-nothing-pending", "COMMIT", "COMMIT-big",
	"BEGIN_UPDATE", "REMOVE", "ADD-update", "COMMIT-update", "ADD-big",
	"COMMIT-kept",
};

/* sections an update script removes: past the holes' heap's first 16 */
#define NR_UPDATE_REMOVES	20
#define NR_BIG_REMOVES		3
#define MAX_STEPS		64

/* one call of an update transaction, after BEGIN with PHYSMAP_BEGIN_UPDATE */
struct step {
	enum op op;		/* OP_REMOVE, OP_ADD_UPDATE or OP_COMMIT_UPDATE */
	__u32 index;		/* REMOVE */
	__u64 start;		/* ADD */
	__u64 last;
	__u64 cookie;
	__u64 offset;
};

struct script {
	struct step steps[MAX_STEPS];
	unsigned int count;
};

struct tally {
	unsigned long calls;	/* calls made with a fault armed */
	unsigned long injected;	/* of which a fault was injected */
	unsigned long enomem;	/* ... and the call failed with ENOMEM */
	unsigned long absorbed;	/* ... and the call succeeded anyway */
	unsigned long max_nth;	/* most allocations seen in one call */
};

struct setting {
	const char *path;
	char saved[32];
};

FIXTURE(fault) {
	int nth_fd;
	int kmsg_fd;
	struct setting settings[6];
	int nr_settings;
	struct pm_map published;
	struct pm_map pending;	/* NR_PENDING sections, then the ADD victim */
	struct pm_map big;
	struct pm_map huge;
};

FIXTURE_VARIANT(fault) {
	const char *mode;	/* which attribute ignore-gfp-wait=N arms */
};

FIXTURE_VARIANT_ADD(fault, slab) {
	.mode = "slab",
};

FIXTURE_VARIANT_ADD(fault, page) {
	.mode = "page",
};

/* set a debugfs knob, remembering the old value for teardown */
static int set_knob(FIXTURE_DATA(fault) *self, const char *path,
		    const char *value)
{
	struct setting *s = &self->settings[self->nr_settings];

	if (pm_read_str(path, s->saved, sizeof(s->saved)))
		return -1;
	s->path = path;
	self->nr_settings++;
	return pm_write_str(path, value);
}

static void kmsg(FIXTURE_DATA(fault) *self, const char *what)
{
	/* markers for the console check: allocation failure reports here */
	if (self->kmsg_fd >= 0 &&
	    write(self->kmsg_fd, what, strlen(what)) < 0)
		self->kmsg_fd = -1;
}

static void build_maps(struct __test_metadata *_metadata,
		       FIXTURE_DATA(fault) *self)
{
	const struct pm_range *overlap;
	__u64 seed = 0x5eed0fa17ULL;
	size_t i;

	ASSERT_EQ(0, pm_map_generate(&self->published, 11, NR_PUBLISHED,
				     1ULL << 32, 12));
	/*
	 * The pending map: clustered sections with many sub-pages, and
	 * sections far apart, so that the map has many nodes.
	 */
	ASSERT_EQ(0, pm_map_generate(&self->pending, 12, NR_PENDING / 2,
				     1ULL << 36, 16));
	for (i = 0; i < NR_PENDING / 2 + 1; i++) {
		__u64 start = (pm_rand64(&seed) & ~0xfffULL) >> 4;

		ASSERT_EQ(0, pm_map_append(&self->pending, start,
					   start + 0x3fff + (i & 1) * 0x123,
					   pm_rand64(&seed), i));
	}
	ASSERT_EQ(0, pm_model_build(&self->published, &overlap));
	ASSERT_EQ(0, pm_model_build(&self->pending, &overlap));
	ASSERT_EQ(0, pm_map_generate(&self->big, 13, NR_BIG, 1ULL << 44, 8));
	ASSERT_EQ(0, pm_model_build(&self->big, &overlap));
	for (i = 0; i < NR_HUGE_PAIRS; i++) {
		__u64 base = (1ULL << 45) + ((__u64)i << 30);

		ASSERT_EQ(0, pm_map_append(&self->huge, base, base + 0xfff,
					   i, 0));
		ASSERT_EQ(0, pm_map_append(&self->huge, base + 0x3000,
					   base + 0x3fff, i, 1));
	}
	ASSERT_EQ(0, pm_model_build(&self->huge, &overlap));
}

FIXTURE_SETUP(fault)
{
	struct stat st;
	char buf[32];

	self->nth_fd = -1;
	self->kmsg_fd = -1;
	self->nr_settings = 0;
	pm_map_init(&self->published);
	pm_map_init(&self->pending);
	pm_map_init(&self->big);
	pm_map_init(&self->huge);
	if (stat(DEBUGFS "/failslab", &st))
		mount("debugfs", DEBUGFS, "debugfs", 0, NULL);
	if (stat(FAILSLAB, &st) || stat(FAILPAGE, &st))
		SKIP(return, "no %s or %s (CONFIG_FAILSLAB, CONFIG_FAIL_PAGE_ALLOC, debugfs)",
		     FAILSLAB, FAILPAGE);
	self->nth_fd = open(FAIL_NTH, O_RDWR | O_CLOEXEC);
	if (self->nth_fd < 0)
		SKIP(return, "no %s (CONFIG_FAULT_INJECTION)", FAIL_NTH);
	ASSERT_EQ(0, pm_read_str(FAIL_NTH, buf, sizeof(buf)));
	/* one attribute armed, the other ignoring GFP_KERNEL as by default */
	if (!strcmp(variant->mode, "slab")) {
		ASSERT_EQ(0, set_knob(self, FAILSLAB "/ignore-gfp-wait", "N"));
		ASSERT_EQ(0, set_knob(self, FAILPAGE "/ignore-gfp-wait", "Y"));
	} else {
		ASSERT_EQ(0, set_knob(self, FAILSLAB "/ignore-gfp-wait", "Y"));
		ASSERT_EQ(0, set_knob(self, FAILPAGE "/ignore-gfp-wait", "N"));
		ASSERT_EQ(0, set_knob(self, FAILPAGE "/min-order", "0"));
	}
	/* one line per injected failure that is not __GFP_NOWARN */
	ASSERT_EQ(0, set_knob(self, FAILSLAB "/verbose", "1"));
	ASSERT_EQ(0, set_knob(self, FAILPAGE "/verbose", "1"));
	self->kmsg_fd = open(KMSG, O_WRONLY | O_CLOEXEC);
	kmsg(self, "physmap-fault: begin\n");
	build_maps(_metadata, self);
}

FIXTURE_TEARDOWN(fault)
{
	int i;

	if (self->nth_fd >= 0) {
		pm_write_str(FAIL_NTH, "0");
		close(self->nth_fd);
	}
	for (i = self->nr_settings - 1; i >= 0; i--)
		if (pm_write_str(self->settings[i].path,
				 self->settings[i].saved))
			TH_LOG("could not restore %s", self->settings[i].path);
	kmsg(self, "physmap-fault: end\n");
	if (self->kmsg_fd >= 0)
		close(self->kmsg_fd);
	pm_map_free(&self->published);
	pm_map_free(&self->pending);
	pm_map_free(&self->big);
	pm_map_free(&self->huge);
}

static void arm(struct __test_metadata *_metadata, int nth_fd, unsigned long n)
{
	char buf[24];
	int len = snprintf(buf, sizeof(buf), "%lu", n);

	ASSERT_EQ(len, pwrite(nth_fd, buf, len, 0));
}

/* disarm; returns whether the armed fault was injected */
static int disarm(struct __test_metadata *_metadata, int nth_fd)
{
	char buf[24];
	ssize_t n;

	n = pread(nth_fd, buf, sizeof(buf) - 1, 0);
	ASSERT_LT(0, n);
	buf[n] = '\0';
	ASSERT_EQ(1, pwrite(nth_fd, "0", 1, 0));
	return strtoul(buf, NULL, 10) == 0;
}

/* map with its first count ranges only: the model of a partial pending map */
static void prefix_model(struct __test_metadata *_metadata,
			 const struct pm_map *map, size_t count,
			 struct pm_map *out)
{
	const struct pm_range *overlap;
	size_t i;

	pm_map_init(out);
	for (i = 0; i < count; i++)
		ASSERT_EQ(0, pm_map_append(out, map->ranges[i].start,
					   map->ranges[i].last,
					   map->ranges[i].cookie,
					   map->ranges[i].offset));
	ASSERT_EQ(0, pm_model_build(out, &overlap));
}

static void add_ranges(struct __test_metadata *_metadata, int fd,
		       const struct pm_map *map, size_t from, size_t to)
{
	__u32 index;
	size_t i;

	for (i = from; i < to; i++) {
		const struct pm_range *r = &map->ranges[i];

		ASSERT_EQ(0, pm_add(fd, r->start, r->last - r->start + 1,
				    r->cookie, r->offset, &index));
		ASSERT_EQ(i + 1, index);
	}
}

static void expect_map(struct __test_metadata *_metadata, int fd,
		       const struct pm_map *map, __u64 gen, const char *what,
		       unsigned long n)
{
	char why[256] = "";
	unsigned long bad = pmc_check(fd, map, gen, gen * 31 + n, why,
				      sizeof(why));

	ASSERT_EQ(0UL, bad) TH_LOG("%s, fault %lu: %lu mismatches, first: %s",
				 what, n, bad, why);
}

/*
 * One call with its nth allocation failing, on a fresh fd that publishes
 * self->published (generation 1) and has the first k sections of the pending
 * map (or of the big one) pending. Returns whether a fault was injected.
 */
static int one_fault(struct __test_metadata *_metadata,
		     FIXTURE_DATA(fault) *self, enum op op, size_t k,
		     unsigned long n, struct tally *t)
{
	const struct pm_map *src = op == OP_COMMIT_BIG || op == OP_ADD_BIG ?
				   &self->big : &self->pending;
	const struct pm_range *overlap, *r = NULL;
	struct pm_map before, after;
	int fd, fd2 = -1, injected, ret = 0;
	__u32 index = 0;

	fd = open_physmap(_metadata);
	ASSERT_EQ(0, pm_map_publish(fd, &self->published, 12, &overlap));
	if (op != OP_ADD_FIRST && op != OP_OPEN) {
		ASSERT_EQ(0, pm_begin(fd, 12));
		add_ranges(_metadata, fd, src, 0, k);
	}
	prefix_model(_metadata, src, k, &before);
	prefix_model(_metadata, src, k < src->count ? k + 1 : k, &after);
	if (op == OP_ADD || op == OP_ADD_FIRST || op == OP_ADD_BIG)
		r = &src->ranges[k];

	arm(_metadata, self->nth_fd, n);
	switch (op) {
	case OP_OPEN:
		fd2 = open(PHYSMAP_DEV, O_RDWR | O_CLOEXEC);
		ret = fd2 < 0 ? -errno : 0;
		break;
	case OP_BEGIN:
		ret = pm_begin(fd, 16);
		break;
	case OP_ADD:
	case OP_ADD_FIRST:
	case OP_ADD_BIG:
		ret = pm_add(fd, r->start, r->last - r->start + 1, r->cookie,
			     r->offset, &index);
		break;
	case OP_COMMIT:
	case OP_COMMIT_BIG:
		ret = pm_commit(fd);
		break;
	default:
		break;
	}
	injected = disarm(_metadata, self->nth_fd);

	t->calls++;
	if (injected) {
		t->injected++;
		if (n > t->max_nth)
			t->max_nth = n;
		if (ret == -ENOMEM)
			t->enomem++;
		else if (!ret)
			t->absorbed++;
	}
	ASSERT_TRUE(ret == 0 || (injected && ret == -ENOMEM))
		TH_LOG("%s, fault %lu (%s): %s", op_name[op], n,
		       injected ? "injected" : "not reached", strerror(-ret));

	/* the published map: unchanged unless a COMMIT succeeded */
	if ((op == OP_COMMIT || op == OP_COMMIT_BIG) && !ret)
		expect_map(_metadata, fd, &before, 2, op_name[op], n);
	else
		expect_map(_metadata, fd, &self->published, 1, op_name[op], n);

	/* the pending map: as before the call, or as a success left it */
	switch (op) {
	case OP_OPEN:
		if (!ret) {
			struct pm_map none;

			pm_map_init(&none);
			expect_map(_metadata, fd2, &none, 0, "new fd", n);
			close(fd2);
		}
		break;
	case OP_BEGIN:
		/* failed: the old pending map commits; else an empty one */
		ASSERT_EQ(0, pm_commit(fd));
		if (ret) {
			expect_map(_metadata, fd, &before, 2, "BEGIN", n);
		} else {
			struct pm_map none;

			pm_map_init(&none);
			expect_map(_metadata, fd, &none, 2, "BEGIN", n);
		}
		break;
	case OP_ADD:
	case OP_ADD_FIRST:
	case OP_ADD_BIG:
		if (ret && op == OP_ADD_FIRST) {
			/* nothing was pending: nothing is */
			ASSERT_EQ(-EINVAL, pm_commit(fd));
			expect_map(_metadata, fd, &self->published, 1,
				   "ADD-nothing-pending", n);
			break;
		}
		if (ret) {
			/* the same ADD again gets the next index */
			ASSERT_EQ(0, pm_add(fd, r->start,
					    r->last - r->start + 1, r->cookie,
					    r->offset, &index));
		}
		ASSERT_EQ(k + 1, index);
		ASSERT_EQ(0, pm_commit(fd));
		expect_map(_metadata, fd, &after, 2, "ADD", n);
		break;
	case OP_COMMIT:
	case OP_COMMIT_BIG:
		if (ret) {
			ASSERT_EQ(0, pm_commit(fd));
			expect_map(_metadata, fd, &before, 2, op_name[op], n);
		} else {
			ASSERT_EQ(-EINVAL, pm_commit(fd));
		}
		break;
	default:
		break;
	}
	close(fd);
	pm_map_free(&before);
	pm_map_free(&after);
	return injected;
}

/* N = 1, 2, ... until the call makes fewer than N allocations */
static void fault_every_nth(struct __test_metadata *_metadata,
			    FIXTURE_DATA(fault) *self, enum op op, size_t k,
			    struct tally *t)
{
	unsigned long n;

	for (n = 1; n <= MAX_NTH; n++)
		if (!one_fault(_metadata, self, op, k, n, t))
			return;
	ASSERT_TRUE(0) TH_LOG("%s: still allocating after %d faults",
			      op_name[op], MAX_NTH);
}

/*
 * COMMIT of a map only vmalloc can hold. The pending map takes long to
 * build, so it is built once: a failed COMMIT leaves it as it was, which the
 * COMMIT that finally succeeds proves by publishing exactly the model (and
 * the published map is checked unchanged after every failure). In the page
 * pass every N up to HUGE_EVERY_N fails, then every HUGE_STRIDE-th: the
 * rest are more pages of the same vmalloc area.
 */
/* a fresh fd publishing self->published, with the huge map pending */
static int huge_pending(struct __test_metadata *_metadata,
			FIXTURE_DATA(fault) *self)
{
	const struct pm_range *overlap;
	int fd = open_physmap(_metadata);

	ASSERT_EQ(0, pm_map_publish(fd, &self->published, 12, &overlap));
	ASSERT_EQ(0, pm_begin(fd, 12));
	add_ranges(_metadata, fd, &self->huge, 0, self->huge.count);
	return fd;
}

static void fault_huge_commit(struct __test_metadata *_metadata,
			      FIXTURE_DATA(fault) *self, int every,
			      struct tally *t, __u64 *bytes)
{
	struct physmap_stats st;
	unsigned long n = 1;
	int fd, ret, injected;

	fd = huge_pending(_metadata, self);
	for (;;) {
		arm(_metadata, self->nth_fd, n);
		ret = pm_commit(fd);
		injected = disarm(_metadata, self->nth_fd);
		t->calls++;
		if (injected) {
			t->injected++;
			t->max_nth = n;
			if (ret == -ENOMEM)
				t->enomem++;
			else if (!ret)
				t->absorbed++;
		}
		ASSERT_TRUE(ret == 0 || (injected && ret == -ENOMEM))
			TH_LOG("COMMIT-vmalloc, fault %lu: %s", n,
			       strerror(-ret));
		if (!injected)
			break;
		if (!ret) {
			/* absorbed: published; build it all again */
			expect_map(_metadata, fd, &self->huge, 2,
				   "COMMIT-vmalloc", n);
			close(fd);
			fd = huge_pending(_metadata, self);
			n++;
			continue;
		}
		expect_map(_metadata, fd, &self->published, 1,
			   "COMMIT-vmalloc", n);
		n += every || n < HUGE_EVERY_N ? 1 : HUGE_STRIDE;
		ASSERT_GE(MAX_NTH * 4UL, n);
	}
	expect_map(_metadata, fd, &self->huge, 2, "COMMIT-vmalloc", n);
	ASSERT_EQ(0, pm_stats(fd, &st));
	*bytes = st.bytes;
	close(fd);
}

static void report(const char *mode,
		   enum op op, const struct tally *t)
{
	/* the debug tier collects these lines into the summary */
	printf("# physmap-fault %s %s: %lu calls, %lu faults injected, %lu ENOMEM, %lu absorbed, at most %lu allocations per call\n",
	       mode, op_name[op], t->calls, t->injected, t->enomem,
	       t->absorbed, t->max_nth);
	fflush(stdout);
}

/* ---- updates ---- */

/* a deep copy of map, sorted, in *out */
static void copy_model(struct __test_metadata *_metadata,
		       const struct pm_map *map, struct pm_map *out)
{
	ASSERT_EQ(0, pm_map_copy(out, map));
	ASSERT_EQ(0, pm_model_build(out, NULL));
}

/*
 * An update of base: REMOVE nr_removes of its sections (a shuffled choice),
 * ADD the first half of each freed range with a new cookie (and the second
 * half of every third), ADD a section far from the others, COMMIT.
 */
static void make_script(struct __test_metadata *_metadata,
			const struct pm_map *base, unsigned int nr_removes,
			__u64 seed, struct script *sc)
{
	__u32 order[NR_UPDATE_REMOVES];
	const struct pm_range *r;
	unsigned int i;
	size_t j;

	ASSERT_GE(base->count, (size_t)nr_removes);
	ASSERT_GE((unsigned int)NR_UPDATE_REMOVES, nr_removes);
	memset(sc, 0, sizeof(*sc));
	/* distinct indexes: a partial Fisher-Yates over 1..count */
	for (i = 0; i < nr_removes; i++) {
		__u32 pick;

		do {
			pick = 1 + pm_rand64(&seed) % base->count;
			for (j = 0; j < i && order[j] != pick; j++)
				;
		} while (j < i);
		order[i] = pick;
		sc->steps[sc->count].op = OP_REMOVE;
		sc->steps[sc->count++].index = pick;
	}
	for (i = 0; i < nr_removes; i++) {
		__u64 half;

		r = pm_map_find_index(base, order[i]);
		ASSERT_NE(NULL, r);
		half = (r->last - r->start) / 2;
		sc->steps[sc->count++] = (struct step){
			.op = OP_ADD_UPDATE, .start = r->start,
			.last = r->start + half, .cookie = pm_rand64(&seed),
			.offset = i,
		};
		if (i % 3 == 0 && r->last > r->start)
			sc->steps[sc->count++] = (struct step){
				.op = OP_ADD_UPDATE, .start = r->start + half + 1,
				.last = r->last, .cookie = pm_rand64(&seed),
				.offset = 100 + i,
			};
	}
	sc->steps[sc->count++] = (struct step){
		.op = OP_ADD_UPDATE, .start = 1ULL << 50,
		.last = (1ULL << 50) + 0x5123, .cookie = 7, .offset = 7,
	};
	sc->steps[sc->count++].op = OP_COMMIT_UPDATE;
	ASSERT_GE((unsigned int)MAX_STEPS, sc->count);
}

/* the model of a step; for an ADD, the index it must give */
static void model_step(struct __test_metadata *_metadata,
		       struct pm_map *model, const struct step *st,
		       __u32 *index)
{
	if (st->op == OP_REMOVE) {
		ASSERT_EQ(0, pm_map_remove_index(model, st->index));
	} else if (st->op == OP_ADD_UPDATE) {
		*index = pm_map_next_index(model);
		ASSERT_EQ(0, pm_map_append(model, st->start, st->last,
					   st->cookie, st->offset));
	}
	ASSERT_EQ(0, pm_model_build(model, NULL));
}

static int do_step(int fd, const struct step *st, __u32 *index)
{
	switch (st->op) {
	case OP_REMOVE:
		return pm_remove(fd, st->index);
	case OP_ADD_UPDATE:
		return pm_add(fd, st->start, st->last - st->start + 1,
			      st->cookie, st->offset, index);
	default:
		return pm_commit(fd);
	}
}

/* steps from..to - 1 of sc on fd, each as its model says; model follows */
static void run_steps(struct __test_metadata *_metadata, int fd,
		      const struct script *sc, unsigned int from,
		      unsigned int to, struct pm_map *model)
{
	__u32 index = 0, want = 0;
	unsigned int i;

	for (i = from; i < to; i++) {
		const struct step *st = &sc->steps[i];

		ASSERT_EQ(0, do_step(fd, st, &index))
			TH_LOG("step %u (%s)", i, op_name[st->op]);
		model_step(_metadata, model, st, &want);
		if (st->op == OP_ADD_UPDATE)
			ASSERT_EQ(want, index) TH_LOG("step %u", i);
	}
}

/* the base map published on a fresh fd: generation 1, or 2 with holes */
static int publish_base(struct __test_metadata *_metadata,
			const struct pm_map *base, const struct script *holes,
			__u64 *gen)
{
	const struct pm_range *failed;
	struct pm_map model;
	int fd = open_physmap(_metadata);

	ASSERT_EQ(0, pm_map_publish(fd, base, 12, &failed));
	*gen = 1;
	if (holes) {
		/* the REMOVEs of the script alone, committed */
		unsigned int n = 0;

		while (holes->steps[n].op == OP_REMOVE)
			n++;
		copy_model(_metadata, base, &model);
		ASSERT_EQ(0, pm_begin_update(fd, 0));
		run_steps(_metadata, fd, holes, 0, n, &model);
		ASSERT_EQ(0, pm_commit(fd));
		pm_map_free(&model);
		*gen = 2;
	}
	return fd;
}

static void tally(struct tally *t, int injected, int ret, unsigned long n)
{
	t->calls++;
	if (!injected)
		return;
	t->injected++;
	if (n > t->max_nth)
		t->max_nth = n;
	if (ret == -ENOMEM)
		t->enomem++;
	else if (!ret)
		t->absorbed++;
}

/*
 * BEGIN with PHYSMAP_BEGIN_UPDATE, its nth allocation failing, on a fresh
 * fd publishing base (with the REMOVEs of holes committed, if not NULL) and
 * with the first k sections of self->pending pending (nothing if k is 0).
 * Returns whether a fault was injected.
 */
static int one_fault_begin_update(struct __test_metadata *_metadata,
				  FIXTURE_DATA(fault) *self,
				  const struct pm_map *base,
				  const struct script *holes, size_t k,
				  unsigned long n, struct tally *t)
{
	struct pm_map published, before;
	int fd, injected, ret;
	__u32 index, want;
	__u64 gen;
	unsigned int i;

	fd = publish_base(_metadata, base, holes, &gen);
	copy_model(_metadata, base, &published);
	for (i = 0; holes && holes->steps[i].op == OP_REMOVE; i++)
		ASSERT_EQ(0, pm_map_remove_index(&published,
						 holes->steps[i].index));
	ASSERT_EQ(0, pm_model_build(&published, NULL));
	if (k) {
		ASSERT_EQ(0, pm_begin(fd, 16));
		add_ranges(_metadata, fd, &self->pending, 0, k);
	}
	prefix_model(_metadata, &self->pending, k, &before);

	arm(_metadata, self->nth_fd, n);
	ret = pm_begin_update(fd, 0);
	injected = disarm(_metadata, self->nth_fd);
	tally(t, injected, ret, n);
	ASSERT_TRUE(ret == 0 || (injected && ret == -ENOMEM))
		TH_LOG("BEGIN_UPDATE, fault %lu (%s): %s", n,
		       injected ? "injected" : "not reached", strerror(-ret));
	expect_map(_metadata, fd, &published, gen, "BEGIN_UPDATE", n);

	if (ret && !k) {
		/* nothing was pending: nothing is */
		ASSERT_EQ(-EINVAL, pm_commit(fd));
	} else if (ret) {
		/* the plain pending map as it was */
		ASSERT_EQ(0, pm_commit(fd));
		expect_map(_metadata, fd, &before, gen + 1, "BEGIN_UPDATE", n);
	} else {
		/* the published map, holes and all: ADD takes the lowest */
		want = pm_map_next_index(&published);
		ASSERT_EQ(0, pm_add(fd, 1ULL << 52, 0x1000, 5, 5, &index));
		ASSERT_EQ(want, index);
		ASSERT_EQ(0, pm_map_append(&published, 1ULL << 52,
					   (1ULL << 52) + 0xfff, 5, 5));
		ASSERT_EQ(0, pm_model_build(&published, NULL));
		ASSERT_EQ(0, pm_commit(fd));
		expect_map(_metadata, fd, &published, gen + 1, "BEGIN_UPDATE",
			   n);
	}
	close(fd);
	pm_map_free(&published);
	pm_map_free(&before);
	return injected;
}

static void faults_in_begin_update(struct __test_metadata *_metadata,
			       FIXTURE_DATA(fault) *self,
			       const struct pm_map *base,
			       const struct script *holes, size_t k,
			       struct tally *t)
{
	unsigned long n;

	for (n = 1; n <= MAX_NTH; n++)
		if (!one_fault_begin_update(_metadata, self, base, holes, k, n,
					    t))
			return;
	ASSERT_TRUE(0) TH_LOG("BEGIN_UPDATE: still allocating after %d faults",
			      MAX_NTH);
}

/*
 * Step j of the update script sc of base, its nth allocation failing, on a
 * fresh fd publishing base (generation 1) with steps 0..j - 1 done. Returns
 * whether a fault was injected; counts it in t[the step's op].
 */
static int one_fault_update(struct __test_metadata *_metadata,
			    FIXTURE_DATA(fault) *self,
			    const struct pm_map *base, const struct script *sc,
			    unsigned int j, unsigned long n, struct tally *t)
{
	const struct step *st = &sc->steps[j];
	struct pm_map before, after;
	int fd, injected, ret;
	__u32 index = 0, want = 0;
	__u64 gen;

	fd = publish_base(_metadata, base, NULL, &gen);
	copy_model(_metadata, base, &before);
	ASSERT_EQ(0, pm_begin_update(fd, 12));
	run_steps(_metadata, fd, sc, 0, j, &before);
	/* after: the model of the whole transaction */
	copy_model(_metadata, &before, &after);

	arm(_metadata, self->nth_fd, n);
	ret = do_step(fd, st, &index);
	injected = disarm(_metadata, self->nth_fd);
	tally(&t[st->op], injected, ret, n);
	ASSERT_TRUE(ret == 0 || (injected && ret == -ENOMEM))
		TH_LOG("%s (step %u), fault %lu (%s): %s", op_name[st->op], j,
		       n, injected ? "injected" : "not reached", strerror(-ret));

	if (st->op == OP_COMMIT_UPDATE) {
		if (ret) {
			/* the pending map as it was: COMMIT again */
			expect_map(_metadata, fd, base, 1, op_name[st->op], n);
			ASSERT_EQ(0, pm_commit(fd));
		} else {
			ASSERT_EQ(-EINVAL, pm_commit(fd));
		}
		expect_map(_metadata, fd, &before, 2, op_name[st->op], n);
		goto out;
	}
	/* the published map is untouched */
	expect_map(_metadata, fd, base, 1, op_name[st->op], n);
	if (ret) {
		/* the pending map as before the call, then the rest again */
		ASSERT_EQ(0, pm_commit(fd));
		expect_map(_metadata, fd, &before, 2, op_name[st->op], n);
		ASSERT_EQ(0, pm_begin_update(fd, 0));
		gen = 3;
		run_steps(_metadata, fd, sc, j, sc->count, &after);
	} else {
		model_step(_metadata, &after, st, &want);
		if (st->op == OP_ADD_UPDATE)
			ASSERT_EQ(want, index);
		gen = 2;
		run_steps(_metadata, fd, sc, j + 1, sc->count, &after);
	}
	expect_map(_metadata, fd, &after, gen, op_name[st->op], n);
out:
	close(fd);
	pm_map_free(&before);
	pm_map_free(&after);
	return injected;
}

/* every step of sc, each with its nth allocation failing, N = 1, 2, ... */
static void faults_in_update(struct __test_metadata *_metadata,
			 FIXTURE_DATA(fault) *self, const struct pm_map *base,
			 const struct script *sc, struct tally *t)
{
	unsigned int j;
	unsigned long n;

	for (j = 0; j < sc->count; j++) {
		for (n = 1; n <= MAX_NTH; n++)
			if (!one_fault_update(_metadata, self, base, sc, j, n,
					      t))
				break;
		ASSERT_GE((unsigned long)MAX_NTH, n) TH_LOG("%s (step %u): still allocating",
					     op_name[sc->steps[j].op], j);
	}
}

/*
 * The update script sc of base on the pending map the last update's COMMIT
 * kept, its COMMIT's nth allocation failing: a fresh fd publishes base
 * (generation 1), an update with no change publishes it again and keeps
 * its pending map (2), the next update takes that over, runs the script's
 * REMOVEs and ADDs and COMMITs, which builds only what changed. A failed
 * COMMIT leaves generation 2 published and the pending map as it was:
 * COMMIT again publishes the script's map (3). Returns whether a fault was
 * injected.
 */
static int one_fault_kept(struct __test_metadata *_metadata,
			  FIXTURE_DATA(fault) *self,
			  const struct pm_map *base, const struct script *sc,
			  unsigned long n, struct tally *t)
{
	struct pm_map after;
	int fd, injected, ret;
	__u64 gen;

	fd = publish_base(_metadata, base, NULL, &gen);
	ASSERT_EQ(0, pm_begin_update(fd, 12));
	ASSERT_EQ(0, pm_commit(fd));
	copy_model(_metadata, base, &after);
	ASSERT_EQ(0, pm_begin_update(fd, 0));
	run_steps(_metadata, fd, sc, 0, sc->count - 1, &after);

	arm(_metadata, self->nth_fd, n);
	ret = pm_commit(fd);
	injected = disarm(_metadata, self->nth_fd);
	tally(t, injected, ret, n);
	ASSERT_TRUE(ret == 0 || (injected && ret == -ENOMEM))
		TH_LOG("COMMIT of a kept update, fault %lu (%s): %s", n,
		       injected ? "injected" : "not reached", strerror(-ret));
	if (ret) {
		expect_map(_metadata, fd, base, 2, op_name[OP_COMMIT_KEPT], n);
		ASSERT_EQ(0, pm_commit(fd));
	} else {
		ASSERT_EQ(-EINVAL, pm_commit(fd));
	}
	expect_map(_metadata, fd, &after, 3, op_name[OP_COMMIT_KEPT], n);
	close(fd);
	pm_map_free(&after);
	return injected;
}

/* one_fault_kept() with N = 1, 2, ... until no fault is reached */
static void faults_in_kept(struct __test_metadata *_metadata,
			   FIXTURE_DATA(fault) *self, const struct pm_map *base,
			   const struct script *sc, struct tally *t)
{
	unsigned long n;

	for (n = 1; n <= MAX_NTH; n++)
		if (!one_fault_kept(_metadata, self, base, sc, n, t))
			break;
	ASSERT_GE((unsigned long)MAX_NTH, n)
		TH_LOG("COMMIT of a kept update: still allocating");
}

TEST_F_TIMEOUT(fault, open, 300)
{
	struct tally t = { 0 };

	if (self->nth_fd < 0)
		SKIP(return, "no fault injection");

	fault_every_nth(_metadata, self, OP_OPEN, 0, &t);
	report(variant->mode, OP_OPEN, &t);
	/* open's allocations are small: slab faults */
	if (!strcmp(variant->mode, "slab"))
		ASSERT_LT(0UL, t.enomem);
}

TEST_F_TIMEOUT(fault, begin, 300)
{
	struct tally t = { 0 };
	size_t k;

	if (self->nth_fd < 0)
		SKIP(return, "no fault injection");

	for (k = 0; k <= NR_PENDING; k += 8)
		fault_every_nth(_metadata, self, OP_BEGIN, k, &t);
	report(variant->mode, OP_BEGIN, &t);
	/* BEGIN's allocations are small: slab faults only, surely */
	if (!strcmp(variant->mode, "slab"))
		ASSERT_LT(0UL, t.enomem);
}

TEST_F_TIMEOUT(fault, add, 600)
{
	struct tally t = { 0 }, first = { 0 }, big = { 0 };
	size_t k;

	if (self->nth_fd < 0)
		SKIP(return, "no fault injection");

	fault_every_nth(_metadata, self, OP_ADD_FIRST, 0, &first);
	report(variant->mode, OP_ADD_FIRST, &first);
	for (k = 0; k < NR_PENDING; k++)
		fault_every_nth(_metadata, self, OP_ADD, k, &t);
	report(variant->mode, OP_ADD, &t);
	/*
	 * A pending section takes 48 bytes: the ADDs that grow the array to
	 * 256, 512 and 1,024 sections ask for more than two pages, which
	 * kmalloc takes from the page allocator, and vmalloc absorbs its
	 * faults.
	 */
	for (k = 127; k < NR_BIG && k <= 511; k = 2 * k + 1)
		fault_every_nth(_metadata, self, OP_ADD_BIG, k, &big);
	report(variant->mode, OP_ADD_BIG, &big);
	if (!strcmp(variant->mode, "slab")) {
		ASSERT_LT(0UL, t.enomem);
		ASSERT_LT(0UL, first.enomem);
	} else {
		ASSERT_LT(0UL, big.absorbed);
	}
}

TEST_F_TIMEOUT(fault, commit, 600)
{
	struct tally t = { 0 }, big = { 0 };
	size_t k;

	if (self->nth_fd < 0)
		SKIP(return, "no fault injection");

	for (k = 0; k <= NR_PENDING; k += 5)
		fault_every_nth(_metadata, self, OP_COMMIT, k, &t);
	report(variant->mode, OP_COMMIT, &t);
	fault_every_nth(_metadata, self, OP_COMMIT_BIG, NR_BIG, &big);
	report(variant->mode, OP_COMMIT_BIG, &big);
	/* small maps come from slabs, bigger ones from pages */
	if (!strcmp(variant->mode, "slab")) {
		ASSERT_LT(0UL, t.enomem);
	} else {
		ASSERT_LT(0UL, big.injected);
	}
}

TEST_F_TIMEOUT(fault, begin_update, 600)
{
	struct tally t = { 0 }, holes = { 0 }, big = { 0 };
	struct script sc;

	if (self->nth_fd < 0)
		SKIP(return, "no fault injection");

	make_script(_metadata, &self->published, NR_UPDATE_REMOVES, 41, &sc);
	faults_in_begin_update(_metadata, self, &self->published, NULL, 0, &t);
	faults_in_begin_update(_metadata, self, &self->published, NULL, 8, &t);
	report(variant->mode, OP_BEGIN_UPDATE, &t);
	faults_in_begin_update(_metadata, self, &self->published, &sc, 0, &holes);
	faults_in_begin_update(_metadata, self, &self->published, &sc, 8, &holes);
	printf("# physmap-fault %s BEGIN_UPDATE with %d holes: %lu calls, %lu faults injected, %lu ENOMEM, %lu absorbed, at most %lu allocations per call\n",
	       variant->mode, NR_UPDATE_REMOVES, holes.calls, holes.injected,
	       holes.enomem, holes.absorbed, holes.max_nth);
	faults_in_begin_update(_metadata, self, &self->big, NULL, 0, &big);
	printf("# physmap-fault %s BEGIN_UPDATE of %d sections: %lu calls, %lu faults injected, %lu ENOMEM, %lu absorbed, at most %lu allocations per call\n",
	       variant->mode, NR_BIG, big.calls, big.injected, big.enomem,
	       big.absorbed, big.max_nth);
	fflush(stdout);
	/* the copy allocates from slabs, the big one's arrays from pages */
	if (!strcmp(variant->mode, "slab")) {
		ASSERT_LT(0UL, t.enomem);
		ASSERT_LT(0UL, holes.enomem);
	} else {
		ASSERT_LT(0UL, big.injected);
	}
}

TEST_F_TIMEOUT(fault, update, 600)
{
	struct tally t[NR_OPS], big[NR_OPS];
	struct script sc, big_sc;
	enum op op;

	if (self->nth_fd < 0)
		SKIP(return, "no fault injection");

	memset(t, 0, sizeof(t));
	memset(big, 0, sizeof(big));
	make_script(_metadata, &self->published, NR_UPDATE_REMOVES, 42, &sc);
	faults_in_update(_metadata, self, &self->published, &sc, t);
	for (op = OP_REMOVE; op <= OP_COMMIT_UPDATE; op++)
		report(variant->mode, op, &t[op]);
	make_script(_metadata, &self->big, NR_BIG_REMOVES, 43, &big_sc);
	faults_in_update(_metadata, self, &self->big, &big_sc, big);
	for (op = OP_REMOVE; op <= OP_COMMIT_UPDATE; op++) {
		printf("# physmap-fault %s %s of %d sections: %lu calls, %lu faults injected, %lu ENOMEM, %lu absorbed, at most %lu allocations per call\n",
		       variant->mode, op_name[op], NR_BIG, big[op].calls,
		       big[op].injected, big[op].enomem, big[op].absorbed,
		       big[op].max_nth);
	}
	fflush(stdout);
	/*
	 * REMOVE allocates the holes' heap (16, then 32 entries), ADD and
	 * COMMIT what they do in any map; the big map's arrays are pages
	 */
	if (!strcmp(variant->mode, "slab")) {
		ASSERT_LT(0UL, t[OP_REMOVE].enomem);
		ASSERT_LT(0UL, t[OP_ADD_UPDATE].enomem);
		ASSERT_LT(0UL, t[OP_COMMIT_UPDATE].enomem);
	} else {
		ASSERT_LT(0UL, big[OP_COMMIT_UPDATE].injected);
	}
}

TEST_F_TIMEOUT(fault, update_kept, 600)
{
	struct tally t = { 0 }, big = { 0 };
	struct script sc, big_sc;

	if (self->nth_fd < 0)
		SKIP(return, "no fault injection");

	make_script(_metadata, &self->published, NR_UPDATE_REMOVES, 44, &sc);
	faults_in_kept(_metadata, self, &self->published, &sc, &t);
	report(variant->mode, OP_COMMIT_KEPT, &t);
	make_script(_metadata, &self->big, NR_BIG_REMOVES, 45, &big_sc);
	faults_in_kept(_metadata, self, &self->big, &big_sc, &big);
	printf("# physmap-fault %s COMMIT-kept of %d sections: %lu calls, %lu faults injected, %lu ENOMEM, %lu absorbed, at most %lu allocations per call\n",
	       variant->mode, NR_BIG, big.calls, big.injected, big.enomem,
	       big.absorbed, big.max_nth);
	fflush(stdout);
	/* what COMMIT builds of a kept update is small: slabs */
	if (!strcmp(variant->mode, "slab")) {
		ASSERT_LT(0UL, t.enomem);
		ASSERT_LT(0UL, big.enomem);
	}
}

TEST_F_TIMEOUT(fault, commit_vmalloc, 900)
{
	struct tally t = { 0 };
	int slab;
	__u64 bytes = 0;

	if (self->nth_fd < 0)
		SKIP(return, "no fault injection");
	slab = !strcmp(variant->mode, "slab");
	fault_huge_commit(_metadata, self, slab, &t, &bytes);
	printf("# physmap-fault %s COMMIT-vmalloc (%llu-byte map): %lu calls, %lu faults injected, %lu ENOMEM, %lu absorbed, %s up to %lu\n",
	       variant->mode, (unsigned long long)bytes, t.calls, t.injected,
	       t.enomem, t.absorbed,
	       slab ? "every N" : "every N to 32, then every 37th", t.max_nth);
	fflush(stdout);
	ASSERT_LT(HUGE_MIN_BYTES, bytes);
	/*
	 * vmalloc absorbs single failures (the bulk page allocator falls
	 * back to single pages, vmap_area allocation purges and retries):
	 * what must hold is that faults were injected and each was either
	 * ENOMEM or absorbed with the right map published.
	 */
	ASSERT_LT(0UL, t.injected);
}

TEST_HARNESS_MAIN
