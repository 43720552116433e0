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

#define RUN_SECONDS		4
#define MAX_SECONDS		20
#define SINGLE_THREADS		3
#define BATCH_THREADS		1
#define LOOKERS			(SINGLE_THREADS + BATCH_THREADS)
#define BATCH_COUNT		512
#define MIN_COMMITS		10
#define PAGE_SHIFT_A		10
#define PAGE_SHIFT_B		16

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

struct looker {
	pthread_t thread;
	const struct maps *maps;
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

	for (i = 0; i < LOOKERS; i++) {
		struct looker *l = &lookers[i];

		TH_LOG("%s thread %d: %llu lookups, %llu wrong (%llu of neither map), %llu backwards, %llu errors",
		       l->batch ? "batch" : "single", i,
		       (unsigned long long)l->lookups,
		       (unsigned long long)l->wrong,
		       (unsigned long long)l->foreign,
		       (unsigned long long)l->backwards,
		       (unsigned long long)l->errors);
		if (l->wrong)
			TH_LOG("first wrong answer: %s", l->first_wrong);
		lookups += l->lookups;
		wrong += l->wrong;
		EXPECT_EQ(0ULL, l->errors)
			TH_LOG("thread %d: %s", i, strerror(l->first_error));
		EXPECT_EQ(0ULL, l->backwards);
		EXPECT_LT(0ULL, l->lookups);
	}
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

TEST_HARNESS_MAIN
