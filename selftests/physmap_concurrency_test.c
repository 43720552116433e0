// SPDX-License-Identifier: GPL-2.0
/*
 * physmap_concurrency_test.c - lookups racing with commits on /dev/physmap
 *
 * A committer thread publishes two maps in turn on each fd: A at odd
 * generations, B at even ones. Lookup threads, three with PHYSMAP_IOC_LOOKUP
 * and one with PHYSMAP_IOC_LOOKUP_BATCH, check every answer against the map
 * its generation names: no half-built map, no mix of two maps, and no older
 * generation after a newer one. The threads share the committer's fd, use a
 * dup() of it (the same address space), or each open their own fd, on which
 * the committer publishes too.
 *
 * lookups_during_updates: the same readers against a writer that changes
 * the map by small update transactions (BEGIN with PHYSMAP_BEGIN_UPDATE,
 * REMOVE of one to three sections, ADD of pieces of the ranges they freed,
 * which reuse their indexes, COMMIT). The writer keeps the model of every
 * generation it publishes (the same on every fd), stored before its
 * COMMIT; each answer must be right for the generation it reports.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* the 6.1 harness has an unused parameter; keep -Wextra for the rest */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "kselftest_harness.h"
#pragma GCC diagnostic pop
#include "physmap_maps.h"
#include "physmap_ksft.h"
#include "physmap_check.h"

#define RUN_SECONDS		4
#define MAX_SECONDS		20
#define SINGLE_THREADS		3
#define BATCH_THREADS		1
#define LOOKERS			(SINGLE_THREADS + BATCH_THREADS)
#define BATCH_COUNT		512
#define MIN_COMMITS		10
#define PAGE_SHIFT_A		10
#define PAGE_SHIFT_B		16
/* the most generations lookups_during_updates keeps a model of */
#define MAX_UPDATE_GENS		4096

enum fd_mode {
	SHARED_FD,	/* every thread uses the committer's fd */
	DUP_FD,		/* each lookup thread uses a dup() of it */
	OWN_FD,		/* each lookup thread opens its own */
};

/* the two maps and the addresses looked up, with the answers of each map */
struct maps {
	struct pm_map a;
	struct pm_map b;
	__u64 *addrs;
	size_t count;
	__u32 *expect_a;
	__u32 *expect_b;
};

/* models of the generations an updater published; [g] is generation g */
struct history {
	struct pm_map *gen[MAX_UPDATE_GENS + 1];
};

struct looker {
	pthread_t thread;
	const struct maps *maps;
	const struct history *hist;	/* lookups_during_updates */
	const int *stop;
	int fd;
	bool batch;
	unsigned int seed;
	__u64 lookups;
	__u64 wrong;		/* not the answer of the map its generation names */
	__u64 foreign;		/* not the answer of either map */
	__u64 backwards;	/* an older generation after a newer one */
	__u64 errors;		/* ioctls that failed */
	int first_error;
	char first_wrong[200];
};

struct committer {
	pthread_t thread;
	const struct maps *maps;
	int *stop;
	const int *fds;
	int nfds;
	__u64 commits[LOOKERS];
	__u64 errors;
	int first_error;
};

static bool stopped(const int *stop)
{
	return __atomic_load_n(stop, __ATOMIC_ACQUIRE);
}

static bool section_matches(const struct pm_range *r,
			    const struct physmap_section *s)
{
	if (!r)
		return !s->index && !s->start && !s->size && !s->cookie &&
		       !s->offset && !s->flags;
	return s->index == r->index && s->start == r->start &&
	       s->size == r->last - r->start + 1 && s->cookie == r->cookie &&
	       s->offset == r->offset && !s->flags;
}

static void note_generation(struct looker *l, __u64 gen, __u64 *last_gen)
{
	if (gen < *last_gen)
		l->backwards++;
	*last_gen = gen;
}

static void note_error(struct looker *l, int ret)
{
	if (!l->errors++)
		l->first_error = -ret;
}

static void note_wrong(struct looker *l, __u64 addr, __u64 gen, __u32 got,
		       __u32 expected, bool foreign)
{
	if (!l->wrong++)
		snprintf(l->first_wrong, sizeof(l->first_wrong),
			 "%#llx at generation %llu: index %u, expected %u",
			 addr, gen, got, expected);
	if (foreign)
		l->foreign++;
}

static void *single_lookups(void *arg)
{
	struct looker *l = arg;
	const struct maps *m = l->maps;
	__u64 last_gen = 0;
	size_t i = l->seed % m->count;

	while (!stopped(l->stop)) {
		__u64 addr = m->addrs[i];
		const struct pm_map *map, *other;
		struct physmap_lookup lookup;
		int ret;

		i = (i + 7919) % m->count;
		ret = pm_lookup(l->fd, addr, &lookup);
		if (ret) {
			note_error(l, ret);
			continue;
		}
		l->lookups++;
		note_generation(l, lookup.generation, &last_gen);
		map = lookup.generation & 1 ? &m->a : &m->b;
		other = lookup.generation & 1 ? &m->b : &m->a;
		if (lookup.generation &&
		    section_matches(pm_model_lookup(map, addr), &lookup.section))
			continue;
		note_wrong(l, addr, lookup.generation, lookup.section.index,
			   pm_model_index(map, addr),
			   !section_matches(pm_model_lookup(other, addr),
					    &lookup.section));
	}
	return NULL;
}

static void *batch_lookups(void *arg)
{
	struct looker *l = arg;
	const struct maps *m = l->maps;
	__u32 indexes[BATCH_COUNT];
	__u64 last_gen = 0;
	size_t first = l->seed % (m->count - BATCH_COUNT + 1);

	while (!stopped(l->stop)) {
		const __u32 *expect, *other;
		__u64 gen;
		size_t i;
		int ret;

		first = (first + 1009) % (m->count - BATCH_COUNT + 1);
		ret = pm_lookup_batch(l->fd, m->addrs + first, indexes,
				      BATCH_COUNT, &gen);
		if (ret) {
			note_error(l, ret);
			continue;
		}
		l->lookups += BATCH_COUNT;
		note_generation(l, gen, &last_gen);
		expect = gen & 1 ? m->expect_a : m->expect_b;
		other = gen & 1 ? m->expect_b : m->expect_a;
		for (i = 0; i < BATCH_COUNT; i++) {
			size_t k = first + i;

			if (gen && indexes[i] == expect[k])
				continue;
			note_wrong(l, m->addrs[k], gen, indexes[i], expect[k],
				   indexes[i] != other[k]);
		}
	}
	return NULL;
}

static double seconds_since(const struct timespec *start)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - start->tv_sec) +
	       (now.tv_nsec - start->tv_nsec) / 1e9;
}

/*
 * Commit for RUN_SECONDS, and on until every fd had more than MIN_COMMITS
 * commits, but no longer than MAX_SECONDS: a slow (emulated) machine is not
 * a failure, too few commits in that time is.
 */
static void *commit_loop(void *arg)
{
	struct committer *c = arg;
	struct timespec start;
	double elapsed;

	clock_gettime(CLOCK_MONOTONIC, &start);
	do {
		int f;

		for (f = 0; f < c->nfds; f++) {
			/* commit n + 1 is A when n + 1 is odd */
			bool a = !(c->commits[f] & 1);
			const struct pm_range *failed;
			int ret;

			ret = pm_map_publish(c->fds[f], a ? &c->maps->a :
					     &c->maps->b,
					     a ? PAGE_SHIFT_A : PAGE_SHIFT_B,
					     &failed);
			if (ret && !c->errors++)
				c->first_error = -ret;
			c->commits[f]++;
		}
		elapsed = seconds_since(&start);
	} while ((elapsed < RUN_SECONDS ||
		  c->commits[c->nfds - 1] <= MIN_COMMITS) &&
		 elapsed < MAX_SECONDS);
	__atomic_store_n(c->stop, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* ---- lookups during updates ---- */

/* the model of generation gen, or NULL if it was never stored */
static const struct pm_map *history_at(const struct history *h, __u64 gen)
{
	if (!gen || gen > MAX_UPDATE_GENS)
		return NULL;
	return __atomic_load_n(&h->gen[gen], __ATOMIC_ACQUIRE);
}

/* an address near an edge of a section of map (random if it has none) */
static __u64 edge_addr(const struct pm_map *map, unsigned int *seed)
{
	const struct pm_range *r;
	unsigned int k = rand_r(seed);

	if (!map || !map->count)
		return 0x100000 + (__u64)k * 4099;
	r = &map->ranges[(k >> 3) % map->count];
	switch (k & 7) {
	case 0:
		return r->start - 1;
	case 1:
		return r->last + 1;
	case 2:
	case 3:
		return r->last;
	case 4:
		return r->start + (r->last - r->start) / 2;
	default:
		return r->start;
	}
}

static void check_update_answer(struct looker *l, const struct pm_map *map,
				__u64 addr, __u64 gen,
				const struct physmap_section *s)
{
	const struct pm_range *r = map ? pm_model_lookup(map, addr) : NULL;

	if (map && section_matches(r, s))
		return;
	note_wrong(l, addr, gen, s->index, r ? r->index : 0, !map);
}

/*
 * LOOKUP of the fixed addresses and, as often, of the edges of the
 * sections of the last generation seen (an update makes new edges)
 */
static void *update_single_lookups(void *arg)
{
	struct looker *l = arg;
	const struct maps *m = l->maps;
	__u64 last_gen = 0;
	size_t i = l->seed % m->count;

	while (!stopped(l->stop)) {
		struct physmap_lookup lookup;
		__u64 addr;
		int ret;

		i = (i + 7919) % m->count;
		addr = i & 1 ? m->addrs[i] :
		       edge_addr(history_at(l->hist, last_gen), &l->seed);
		ret = pm_lookup(l->fd, addr, &lookup);
		if (ret) {
			note_error(l, ret);
			continue;
		}
		l->lookups++;
		note_generation(l, lookup.generation, &last_gen);
		check_update_answer(l, history_at(l->hist, lookup.generation),
				    addr, lookup.generation, &lookup.section);
	}
	return NULL;
}

static void *update_batch_lookups(void *arg)
{
	struct looker *l = arg;
	const struct maps *m = l->maps;
	__u64 addrs[BATCH_COUNT];
	__u32 indexes[BATCH_COUNT];
	__u64 last_gen = 0;
	size_t first = l->seed % m->count;

	while (!stopped(l->stop)) {
		const struct pm_map *map, *seen;
		__u64 gen;
		size_t i;
		int ret;

		seen = history_at(l->hist, last_gen);
		first = (first + 1009) % m->count;
		for (i = 0; i < BATCH_COUNT; i++)
			addrs[i] = i & 1 ? m->addrs[(first + i) % m->count] :
				   edge_addr(seen, &l->seed);
		ret = pm_lookup_batch(l->fd, addrs, indexes, BATCH_COUNT,
				      &gen);
		if (ret) {
			note_error(l, ret);
			continue;
		}
		l->lookups += BATCH_COUNT;
		note_generation(l, gen, &last_gen);
		map = history_at(l->hist, gen);
		for (i = 0; i < BATCH_COUNT; i++) {
			__u32 want = map ? pm_model_index(map, addrs[i]) : 0;

			if (!map || indexes[i] != want)
				note_wrong(l, addrs[i], gen, indexes[i], want,
					   !map);
		}
	}
	return NULL;
}

struct updater {
	pthread_t thread;
	struct history *hist;
	int *stop;
	const int *fds;
	int nfds;
	__u64 seed;
	__u64 gen;		/* the last generation published on every fd */
	__u64 removes;
	__u64 adds;
	__u64 reused;		/* ADDs that took an index a REMOVE freed */
	__u64 errors;		/* ioctls that failed, or a wrong index */
	char first_error[200];
};

/* what went wrong first; got is an index the kernel gave (ret 0) */
static void updater_error(struct updater *u, const char *what, int ret,
			  __u32 got, __u32 want)
{
	if (u->errors++)
		return;
	if (ret && !want)
		snprintf(u->first_error, sizeof(u->first_error),
			 "generation %llu: %s: %s",
			 (unsigned long long)u->gen + 1, what, strerror(-ret));
	else if (ret)
		snprintf(u->first_error, sizeof(u->first_error),
			 "generation %llu: %s of index %u: %s",
			 (unsigned long long)u->gen + 1, what, want,
			 strerror(-ret));
	else
		snprintf(u->first_error, sizeof(u->first_error),
			 "generation %llu: %s: index %u, want %u",
			 (unsigned long long)u->gen + 1, what, got, want);
}

/*
 * The next generation's model from the current one: one to three sections
 * removed, their ranges given again to none, one or two pieces each, with
 * new cookies and offsets. removed[] and added (the ranges appended to
 * next, from index count_before on) say what the transaction does.
 */
static int next_model(struct updater *u, const struct pm_map *cur,
		      struct pm_map *next, __u32 *removed,
		      unsigned int *nr_removed)
{
	const struct pm_range *overlap;
	struct freed_span {
		__u64 start;
		__u64 last;
	} freed[3];
	unsigned int i, k = 1 + pm_rand64(&u->seed) % 3;

	if (pm_map_copy(next, cur))
		return -1;
	*nr_removed = 0;
	for (i = 0; i < k && next->count > 1; i++) {
		const struct pm_range *r =
			&next->ranges[pm_rand64(&u->seed) % next->count];

		freed[i].start = r->start;
		freed[i].last = r->last;
		removed[(*nr_removed)++] = r->index;
		if (pm_map_remove_index(next, r->index))
			return -1;
	}
	for (i = 0; i < *nr_removed; i++) {
		__u64 start = freed[i].start, last = freed[i].last;
		__u64 r = pm_rand64(&u->seed);
		unsigned int pieces = r % 3;

		/* about as many sections added as removed, stays near 128 */
		if (next->count < 96)
			pieces = 1 + r % 2;
		else if (next->count > 160)
			pieces = r % 2;
		if (pieces == 2 && start == last)
			pieces = 1;
		if (pieces == 2) {
			__u64 cut = start + pm_rand64(&u->seed) % (last - start);

			if (pm_map_append(next, start, cut, pm_rand64(&u->seed),
					  pm_rand64(&u->seed)) ||
			    pm_map_append(next, cut + 1, last,
					  pm_rand64(&u->seed),
					  pm_rand64(&u->seed)))
				return -1;
		} else if (pieces == 1) {
			/* the whole range, or its first part */
			if (r & 8)
				last = start + pm_rand64(&u->seed) %
					       (last - start + 1);
			if (pm_map_append(next, start, last,
					  pm_rand64(&u->seed),
					  pm_rand64(&u->seed)))
				return -1;
		}
	}
	return pm_model_build(next, &overlap);
}

/* the update transaction from cur to next (next_model()) on fd */
static void update_fd(struct updater *u, int fd, const struct pm_map *next,
		      size_t added_from, const __u32 *removed,
		      unsigned int nr_removed)
{
	unsigned int i;
	__u32 index = 0;
	size_t j;
	int ret;

	ret = pm_begin_update(fd, u->gen & 1 ? 0 : PAGE_SHIFT_A);
	if (ret) {
		updater_error(u, "BEGIN_UPDATE", ret, 0, 0);
		return;
	}
	for (i = 0; i < nr_removed; i++) {
		ret = pm_remove(fd, removed[i]);
		u->removes++;
		if (ret)
			updater_error(u, "REMOVE", ret, 0, removed[i]);
	}
	for (j = added_from; j < next->count; j++) {
		const struct pm_range *r = &next->ranges[j];

		ret = pm_add(fd, r->start, r->last - r->start + 1, r->cookie,
			     r->offset, &index);
		u->adds++;
		if (ret || index != r->index)
			updater_error(u, "ADD", ret, index, r->index);
		else if (r->index < next->max_index)
			u->reused++;
	}
	ret = pm_commit(fd);
	if (ret)
		updater_error(u, "COMMIT", ret, 0, 0);
}

/*
 * Update for RUN_SECONDS, and on until more than MIN_COMMITS generations,
 * but no longer than MAX_SECONDS nor past MAX_UPDATE_GENS generations.
 * Generation 1 is published before, and its model stored.
 */
static void *update_loop(void *arg)
{
	struct updater *u = arg;
	struct timespec start;
	double elapsed;

	clock_gettime(CLOCK_MONOTONIC, &start);
	do {
		const struct pm_map *cur = u->hist->gen[u->gen];
		struct pm_map *next = malloc(sizeof(*next));
		unsigned int nr_removed;
		__u32 removed[3];
		size_t added_from;
		int f;

		if (!next || next_model(u, cur, next, removed, &nr_removed)) {
			updater_error(u, "model", -ENOMEM, 0, 0);
			free(next);
			break;
		}
		added_from = cur->count - nr_removed;
		/* the model is there before any reader can see the generation */
		__atomic_store_n(&u->hist->gen[u->gen + 1], next,
				 __ATOMIC_RELEASE);
		for (f = 0; f < u->nfds; f++)
			update_fd(u, u->fds[f], next, added_from, removed,
				  nr_removed);
		u->gen++;
		elapsed = seconds_since(&start);
	} while (!u->errors && (elapsed < RUN_SECONDS || u->gen <= MIN_COMMITS) &&
		 elapsed < MAX_SECONDS && u->gen < MAX_UPDATE_GENS);
	__atomic_store_n(u->stop, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void add_addrs(struct maps *m, const struct pm_map *map, size_t *n)
{
	size_t i;

	for (i = 0; i < map->count; i++) {
		const struct pm_range *r = &map->ranges[i];

		m->addrs[(*n)++] = r->start;
		m->addrs[(*n)++] = r->last;
		m->addrs[(*n)++] = r->start - 1;
		m->addrs[(*n)++] = r->last + 1;
		m->addrs[(*n)++] = r->start + (r->last - r->start) / 2;
	}
}

/*
 * A and B overlap in address but not in their answers: the same address has
 * another index, and cookie, in each. B also covers the top of the space.
 */
static void maps_init(struct __test_metadata *_metadata, struct maps *m)
{
	const size_t sections = 128, random = 2048;
	const struct pm_range *overlap = NULL;
	__u64 seed = 4242, span_last;
	size_t n = 0, i;

	pm_map_init(&m->a);
	pm_map_init(&m->b);
	ASSERT_EQ(0, pm_map_generate(&m->a, 1, sections, 0x100000, 10));
	ASSERT_EQ(0, pm_map_generate(&m->b, 2, sections, 0x100000, 10));
	ASSERT_EQ(0, pm_map_append(&m->b, ~0ULL - 0xfffff, ~0ULL, 99, 0));
	ASSERT_EQ(0, pm_model_build(&m->a, &overlap));
	span_last = m->a.sorted[m->a.count - 1]->last;
	ASSERT_EQ(0, pm_model_build(&m->b, &overlap));

	m->count = 5 * (m->a.count + m->b.count) + random + 2;
	m->addrs = calloc(m->count, sizeof(*m->addrs));
	m->expect_a = calloc(m->count, sizeof(*m->expect_a));
	m->expect_b = calloc(m->count, sizeof(*m->expect_b));
	ASSERT_NE(NULL, m->addrs);
	ASSERT_NE(NULL, m->expect_a);
	ASSERT_NE(NULL, m->expect_b);
	add_addrs(m, &m->a, &n);
	add_addrs(m, &m->b, &n);
	for (i = 0; i < random; i++)
		m->addrs[n++] = 0x100000 + pm_rand64(&seed) % span_last;
	m->addrs[n++] = 0;
	m->addrs[n++] = ~0ULL;
	ASSERT_EQ(m->count, n);
	ASSERT_LE((size_t)BATCH_COUNT, m->count);

	for (i = 0; i < m->count; i++) {
		m->expect_a[i] = pm_model_index(&m->a, m->addrs[i]);
		m->expect_b[i] = pm_model_index(&m->b, m->addrs[i]);
	}
}

static void maps_free(struct maps *m)
{
	pm_map_free(&m->a);
	pm_map_free(&m->b);
	free(m->addrs);
	free(m->expect_a);
	free(m->expect_b);
}

FIXTURE(race) {
	int fd;
	int looker_fds[LOOKERS];
	struct maps maps;
};

FIXTURE_VARIANT(race) {
	enum fd_mode mode;
};

FIXTURE_VARIANT_ADD(race, shared_fd) {
	.mode = SHARED_FD,
};

FIXTURE_VARIANT_ADD(race, dup_fd) {
	.mode = DUP_FD,
};

FIXTURE_VARIANT_ADD(race, own_fd) {
	.mode = OWN_FD,
};

FIXTURE_SETUP(race)
{
	int i;

	for (i = 0; i < LOOKERS; i++)
		self->looker_fds[i] = -1;
	self->fd = open_physmap(_metadata);
	maps_init(_metadata, &self->maps);
	for (i = 0; i < LOOKERS; i++) {
		switch (variant->mode) {
		case SHARED_FD:
			self->looker_fds[i] = self->fd;
			break;
		case DUP_FD:
			self->looker_fds[i] = dup(self->fd);
			ASSERT_LE(0, self->looker_fds[i]);
			break;
		case OWN_FD:
			self->looker_fds[i] = open_physmap(_metadata);
			break;
		}
	}
}

FIXTURE_TEARDOWN(race)
{
	int i;

	for (i = 0; i < LOOKERS; i++)
		if (self->looker_fds[i] >= 0 && self->looker_fds[i] != self->fd)
			close(self->looker_fds[i]);
	close(self->fd);
	maps_free(&self->maps);
}

/*
 * Log what each looker saw and check it: no failed ioctl, no generation
 * going backwards, some lookups. Adds up their lookups and wrong answers
 * into *@lookups and *@wrong; @foreign says what a foreign answer matched.
 */
static void check_lookers(struct __test_metadata *_metadata,
			  const struct looker *lookers, const char *foreign,
			  __u64 *lookups, __u64 *wrong)
{
	int i;

	for (i = 0; i < LOOKERS; i++) {
		const struct looker *l = &lookers[i];

		TH_LOG("%s thread %d: %llu lookups, %llu wrong (%llu of %s), %llu backwards, %llu errors",
		       l->batch ? "batch" : "single", i,
		       (unsigned long long)l->lookups,
		       (unsigned long long)l->wrong,
		       (unsigned long long)l->foreign, foreign,
		       (unsigned long long)l->backwards,
		       (unsigned long long)l->errors);
		if (l->wrong)
			TH_LOG("first wrong answer: %s", l->first_wrong);
		*lookups += l->lookups;
		*wrong += l->wrong;
		EXPECT_EQ(0ULL, l->errors)
			TH_LOG("thread %d: %s", i, strerror(l->first_error));
		EXPECT_EQ(0ULL, l->backwards);
		EXPECT_LT(0ULL, l->lookups);
	}
}

TEST_F_TIMEOUT(race, lookups_during_commits, 60)
{
	struct looker lookers[LOOKERS];
	struct committer committer;
	struct physmap_stats stats;
	const struct pm_range *failed;
	__u64 lookups = 0, wrong = 0;
	int stop = 0;
	int i;

	memset(&committer, 0, sizeof(committer));
	committer.maps = &self->maps;
	committer.stop = &stop;
	if (variant->mode == OWN_FD) {
		committer.fds = self->looker_fds;
		committer.nfds = LOOKERS;
	} else {
		committer.fds = &self->fd;
		committer.nfds = 1;
	}

	/* generation 1 is A, before any lookup */
	for (i = 0; i < committer.nfds; i++) {
		ASSERT_EQ(0, pm_map_publish(committer.fds[i], &self->maps.a,
					    PAGE_SHIFT_A, &failed));
		committer.commits[i] = 1;
	}

	memset(lookers, 0, sizeof(lookers));
	for (i = 0; i < LOOKERS; i++) {
		struct looker *l = &lookers[i];

		l->maps = &self->maps;
		l->stop = &stop;
		l->fd = self->looker_fds[i];
		l->batch = i >= SINGLE_THREADS;
		l->seed = 97 * i;
		ASSERT_EQ(0, pthread_create(&l->thread, NULL,
					    l->batch ? batch_lookups :
					    single_lookups, l));
	}
	ASSERT_EQ(0, pthread_create(&committer.thread, NULL, commit_loop,
				    &committer));
	ASSERT_EQ(0, pthread_join(committer.thread, NULL));
	for (i = 0; i < LOOKERS; i++)
		ASSERT_EQ(0, pthread_join(lookers[i].thread, NULL));

	check_lookers(_metadata, lookers, "neither map", &lookups, &wrong);
	TH_LOG("%llu lookups, %llu wrong; commits per fd: %llu",
	       (unsigned long long)lookups, (unsigned long long)wrong,
	       (unsigned long long)committer.commits[0]);
	ASSERT_EQ(0ULL, committer.errors)
		TH_LOG("commit: %s", strerror(committer.first_error));
	ASSERT_EQ(0ULL, wrong);

	for (i = 0; i < committer.nfds; i++) {
		const struct pm_map *last;

		ASSERT_LT((__u64)MIN_COMMITS, committer.commits[i]);
		ASSERT_EQ(0, pm_stats(committer.fds[i], &stats));
		ASSERT_EQ(committer.commits[i], stats.generation);
		last = stats.generation & 1 ? &self->maps.a : &self->maps.b;
		ASSERT_EQ(last->count, stats.sections);
	}
}

TEST_F_TIMEOUT(race, lookups_during_updates, 60)
{
	struct looker lookers[LOOKERS];
	struct updater updater;
	struct history *hist;
	const struct pm_range *failed;
	const struct pm_map *last;
	__u64 lookups = 0, wrong = 0, g;
	char why[256] = "";
	int stop = 0;
	int i;

	hist = calloc(1, sizeof(*hist));
	ASSERT_NE(NULL, hist);
	memset(&updater, 0, sizeof(updater));
	updater.hist = hist;
	updater.stop = &stop;
	updater.seed = 0x75d8a7e5ULL;
	if (variant->mode == OWN_FD) {
		updater.fds = self->looker_fds;
		updater.nfds = LOOKERS;
	} else {
		updater.fds = &self->fd;
		updater.nfds = 1;
	}

	/* generation 1 is A, before any lookup */
	hist->gen[1] = malloc(sizeof(*hist->gen[1]));
	ASSERT_NE(NULL, hist->gen[1]);
	ASSERT_EQ(0, pm_map_copy(hist->gen[1], &self->maps.a));
	for (i = 0; i < updater.nfds; i++)
		ASSERT_EQ(0, pm_map_publish(updater.fds[i], hist->gen[1],
					    PAGE_SHIFT_A, &failed));
	updater.gen = 1;

	memset(lookers, 0, sizeof(lookers));
	for (i = 0; i < LOOKERS; i++) {
		struct looker *l = &lookers[i];

		l->maps = &self->maps;
		l->hist = hist;
		l->stop = &stop;
		l->fd = self->looker_fds[i];
		l->batch = i >= SINGLE_THREADS;
		l->seed = 97 * i + 1;
		ASSERT_EQ(0, pthread_create(&l->thread, NULL,
					    l->batch ? update_batch_lookups :
					    update_single_lookups, l));
	}
	ASSERT_EQ(0, pthread_create(&updater.thread, NULL, update_loop,
				    &updater));
	ASSERT_EQ(0, pthread_join(updater.thread, NULL));
	for (i = 0; i < LOOKERS; i++)
		ASSERT_EQ(0, pthread_join(lookers[i].thread, NULL));

	check_lookers(_metadata, lookers, "no generation", &lookups, &wrong);
	TH_LOG("%llu lookups, %llu wrong; %llu generations on %d fd(s): %llu REMOVEs, %llu ADDs (%llu reused an index)",
	       (unsigned long long)lookups, (unsigned long long)wrong,
	       (unsigned long long)updater.gen, updater.nfds,
	       (unsigned long long)updater.removes,
	       (unsigned long long)updater.adds,
	       (unsigned long long)updater.reused);
	ASSERT_EQ(0ULL, updater.errors)
		TH_LOG("update: %s", updater.first_error);
	ASSERT_EQ(0ULL, wrong);
	ASSERT_LT((__u64)MIN_COMMITS, updater.gen);
	ASSERT_LT(0ULL, updater.reused);

	/* every fd publishes the last generation, exactly */
	last = hist->gen[updater.gen];
	for (i = 0; i < updater.nfds; i++)
		ASSERT_EQ(0UL, pmc_check(updater.fds[i], last, updater.gen,
					 i, why, sizeof(why)))
			TH_LOG("fd %d: %s", i, why);
	for (g = 1; g <= updater.gen; g++) {
		pm_map_free(hist->gen[g]);
		free(hist->gen[g]);
	}
	free(hist);
}

TEST_HARNESS_MAIN
