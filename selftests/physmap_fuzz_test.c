// SPDX-License-Identifier: GPL-2.0
/*
 * physmap_fuzz_test.c - a bounded random ioctl fuzzer with an oracle
 *
 * Threads share two fds. On each fd one writer thread issues BEGIN, ADD,
 * REMOVE and COMMIT with random fields (flags, page_shift, overlapping,
 * empty, wrapping and top-of-space ranges) and random argument pointers,
 * and keeps a model of the pending and published maps. Its transactions
 * are new maps (BEGIN, or an ADD with nothing pending) and updates (BEGIN
 * with PHYSMAP_BEGIN_UPDATE: the model of the pending map starts as a copy
 * of the published one), interleaved: a BEGIN of either kind drops what
 * was pending. REMOVE takes held indexes, indexes removed already, never
 * held and 0, with nothing pending too; ADD reuses the lowest free index
 * and often lands in a range a REMOVE just freed. Fuzzer threads issue random command
 * numbers (valid ones, the driver's type with other numbers, sizes and
 * directions, and other types) with random pointers: NULL, inaccessible,
 * read-only pages, structures straddling the end of a mapping, and valid
 * buffers with random fields and counts; they never issue a call that
 * could change a map (those are the writers'), only ones that must fail.
 *
 * Every call's result is predicted from the pointer kinds, the fields and
 * the model: the exact errno, or success with the answer the map of the
 * returned generation gives. After each round (all threads stopped at a
 * barrier) each fd's published map is checked in full against the last
 * successful commit. Counts are printed (a second line for the updates:
 * commits, updates begun and committed, REMOVEs by outcome, ADDs that
 * reused an index); unexpected results must be 0.
 *
 * Environment: PHYSMAP_FUZZ_SEED (default fixed), PHYSMAP_FUZZ_ROUNDS
 * (default 150), PHYSMAP_FUZZ_SECONDS (default 90: rounds stop after it).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "kselftest_harness.h"
#pragma GCC diagnostic pop
#include "physmap_maps.h"
#include "physmap_ksft.h"
#include "physmap_check.h"

#define NR_FDS		2
#define FUZZERS_PER_FD	2
#define NR_THREADS	(NR_FDS * (1 + FUZZERS_PER_FD))
#define OPS_PER_ROUND	300
#define MAX_PENDING	48
#define MAX_GENS	(1 << 16)
#define PAGE		4096UL
#define TOP		(~0ULL)
/* the region the writers' sections live in */
#define REGION		(1ULL << 32)
#define REGION_SIZE	(64ULL << 20)

/* where an argument points */
enum ptr_kind { P_GOOD, P_RO, P_NONE, P_NULL, P_EDGE, NR_PTR_KINDS };

static const char *const cmd_names[] = {
	"BEGIN", "ADD", "COMMIT", "LOOKUP", "LOOKUP_BATCH", "GET_SECTION",
	"STATS", "REMOVE", "other",
};
#define K_REMOVE	7
#define K_OTHER		8
#define NR_CMD_KINDS	9

struct counts {
	unsigned long calls[NR_CMD_KINDS];
	unsigned long ok[NR_CMD_KINDS];
	unsigned long efault, einval, eexist, enotty, enoent, other_err;
	unsigned long commits, unexpected;
	/* update transactions */
	unsigned long updates_begun, updates_committed, reused;
	unsigned long removed, remove_enoent, remove_einval, remove_efault;
};

/* a range a REMOVE freed */
struct freed_range {
	__u64 start;
	__u64 last;
};

struct fdstate {
	int fd;
	/* written by the writer only */
	struct pm_map pending;
	int has_pending;
	int pending_update;	/* begun with PHYSMAP_BEGIN_UPDATE */
	__u32 pending_shift;
	/* ranges REMOVE freed in the pending map, for ADD to reuse */
	struct freed_range freed[8];
	unsigned int nr_freed;
	__u64 gen;
	/* published models by generation, and their page_shift; readers load them */
	struct pm_map *hist[MAX_GENS];
	__u32 shift[MAX_GENS];
};

struct thread {
	pthread_t thread;
	int id;
	int writer;
	struct fdstate *fs[NR_FDS];	/* fds it uses: [0] first */
	int nr_fs;
	__u64 seed;
	struct counts c;
	char first[256];
	/*
	 * per-thread memory: a read-write buffer, a read-only page, and
	 * a page followed by an inaccessible one
	 */
	char *good;
	char *ro;	/* ro + PAGE is PROT_NONE */
	char *edge;	/* edge + PAGE is PROT_NONE */
};

static struct fdstate fds[NR_FDS];
static struct thread threads[NR_THREADS];
static pthread_barrier_t round_start, round_end;
static volatile int fuzz_stop;
static char *none_page;	/* PROT_NONE */
static const struct pm_map empty_map;

static void unexpected(struct thread *t, const char *fmt, ...)
{
	va_list ap;

	if (!t->c.unexpected++) {
		va_start(ap, fmt);
		vsnprintf(t->first, sizeof(t->first), fmt, ap);
		va_end(ap);
	}
}

static __u64 rnd(struct thread *t)
{
	return pm_rand64(&t->seed);
}

static int chance(struct thread *t, unsigned int percent)
{
	return rnd(t) % 100 < percent;
}

static const struct pm_map *model_at(struct fdstate *fs, __u64 gen)
{
	if (!gen)
		return &empty_map;
	if (gen >= MAX_GENS)
		return NULL;
	return __atomic_load_n(&fs->hist[gen], __ATOMIC_ACQUIRE);
}

/* page_shift of the published map (the writer's view) */
static __u32 published_shift(const struct fdstate *fs)
{
	return fs->gen < MAX_GENS ? fs->shift[fs->gen] : 0;
}

/*
 * Place a structure of size bytes for a call: returns the pointer, and in
 * *readable / *writable how many of its bytes can be read / written.
 */
static void *place(struct thread *t, enum ptr_kind kind, const void *content,
		   size_t size, size_t *readable, size_t *writable)
{
	size_t k;

	switch (kind) {
	case P_GOOD:
		memcpy(t->good, content, size);
		*readable = *writable = size;
		return t->good;
	case P_RO:
		if (mprotect(t->ro, PAGE, PROT_READ | PROT_WRITE))
			abort();
		memcpy(t->ro, content, size);
		if (mprotect(t->ro, PAGE, PROT_READ))
			abort();
		*readable = size;
		*writable = 0;
		return t->ro;
	case P_EDGE:
		k = size > 1 ? 1 + rnd(t) % (size - 1) : 0;
		memcpy(t->edge + PAGE - k, content, k);
		*readable = *writable = k;
		return t->edge + PAGE - k;
	case P_NULL:
		*readable = *writable = 0;
		return NULL;
	default:
		*readable = *writable = 0;
		return none_page + (rnd(t) % 64) * 8;
	}
}

static enum ptr_kind any_kind(struct thread *t)
{
	return rnd(t) % NR_PTR_KINDS;
}

/* mostly good pointers */
static enum ptr_kind mostly_good(struct thread *t)
{
	return chance(t, 85) ? P_GOOD : any_kind(t);
}

static int do_ioctl(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) ? -errno : 0;
}

static void count(struct thread *t, int kind, int ret)
{
	t->c.calls[kind]++;
	switch (-ret) {
	case 0:
		t->c.ok[kind]++;
		break;
	case EFAULT:
		t->c.efault++;
		break;
	case EINVAL:
		t->c.einval++;
		break;
	case EEXIST:
		t->c.eexist++;
		break;
	case ENOTTY:
		t->c.enotty++;
		break;
	case ENOENT:
		t->c.enoent++;
		break;
	default:
		t->c.other_err++;
		break;
	}
}

static void expect(struct thread *t, int kind, int ret, int want,
		   const char *what)
{
	count(t, kind, ret);
	if (ret != want)
		unexpected(t, "%s %s: got %s, want %s", cmd_names[kind], what,
			   ret ? strerror(-ret) : "success",
			   want ? strerror(-want) : "success");
}

static __u64 section_size(const struct pm_range *r)
{
	return r->last - r->start + 1;
}

/* a random section: in the region mostly, sometimes odd */
static void random_section(struct thread *t, struct fdstate *fs,
			   struct physmap_section *s)
{
	__u64 r = rnd(t);

	memset(s, 0, sizeof(*s));
	s->cookie = rnd(t);
	s->offset = rnd(t);
	s->index = rnd(t);
	switch (r % 16) {
	case 0:		/* size 0 */
		s->start = rnd(t);
		break;
	case 1:		/* wraps past 2^64 - 1 */
		s->start = TOP - rnd(t) % 0x10000;
		s->size = TOP - s->start + 2 + rnd(t) % 0x1000;
		break;
	case 2:		/* ends exactly at 2^64 - 1 */
		s->size = 1 + rnd(t) % 0x20000;
		s->start = TOP - s->size + 1;
		break;
	case 3:		/* overlaps a pending section (writers only) */
		if (fs && fs->pending.count) {
			const struct pm_range *p =
				&fs->pending.ranges[rnd(t) % fs->pending.count];

			s->start = p->start + rnd(t) % section_size(p);
			s->size = 1 + rnd(t) % 0x3000;
			if (s->start + s->size - 1 < s->start)
				s->size = TOP - s->start + 1;
			break;
		}
		/* fall through */
	default:	/* anywhere in the region: small, sub-page, big */
		s->start = REGION + rnd(t) % REGION_SIZE;
		switch (rnd(t) % 3) {
		case 0:
			s->size = 1 + rnd(t) % 0x200;
			break;
		case 1:
			s->start &= ~0xfffULL;
			s->size = 0x1000 * (1 + rnd(t) % 32);
			break;
		default:
			s->size = 1 + rnd(t) % 0x100000;
			break;
		}
		break;
	}
	if (chance(t, 4))
		s->flags = 1U << (rnd(t) % 32);
}

static int overlaps(const struct pm_map *m, __u64 start, __u64 last)
{
	size_t i;

	for (i = 0; i < m->count; i++)
		if (!(m->ranges[i].last < start || last < m->ranges[i].start))
			return 1;
	return 0;
}

/* ---- the writer: BEGIN, ADD, REMOVE, COMMIT, with a model ---- */

/* a flags word with a bit BEGIN does not know, and maybe the one it knows */
static __u32 bad_begin_flags(struct thread *t)
{
	return ((__u32)rnd(t) & ~PHYSMAP_BEGIN_UPDATE) |
	       (1U << (1 + rnd(t) % 31)) | (chance(t, 50) ? PHYSMAP_BEGIN_UPDATE : 0);
}

/* the pending map is new: nothing freed in it yet */
static void writer_new_pending(struct fdstate *fs, int update, __u32 shift)
{
	pm_map_free(&fs->pending);
	pm_map_init(&fs->pending);
	fs->has_pending = 1;
	fs->pending_update = update;
	fs->pending_shift = shift;
	fs->nr_freed = 0;
}

static void writer_begin(struct thread *t, struct fdstate *fs)
{
	static const __u32 shifts[] = { 0, 10, 11, 12, 13, 14, 15, 16,
					1, 9, 17, 32, 255 };
	struct physmap_begin b = {
		.page_shift = chance(t, 5) ? (__u32)rnd(t) :
			      shifts[rnd(t) % ARRAY_SIZE(shifts)],
	};
	__u64 r = rnd(t) % 100;
	const struct pm_map *published;
	size_t rd, wr;
	enum ptr_kind k;
	void *p;
	__u32 ps;
	int want, ret, update;

	/* updates: mostly page_shift 0 or the published map's */
	if (r < 55) {
		b.flags = PHYSMAP_BEGIN_UPDATE;
		if (fs->gen && chance(t, 70))
			b.page_shift = chance(t, 50) ? 0 : published_shift(fs);
	} else if (r < 95) {
		b.flags = 0;
	} else {
		b.flags = bad_begin_flags(t);
	}
	update = b.flags == PHYSMAP_BEGIN_UPDATE;
	ps = b.page_shift ? b.page_shift : 12;
	k = mostly_good(t);
	p = place(t, k, &b, sizeof(b), &rd, &wr);
	if (rd < sizeof(b))
		want = -EFAULT;
	else if ((b.flags & ~PHYSMAP_BEGIN_UPDATE) || ps < 10 || ps > 16)
		want = -EINVAL;
	else if (update && fs->gen && b.page_shift &&
		 b.page_shift != published_shift(fs))
		want = -EINVAL;	/* not the published map's page_shift */
	else
		want = 0;
	ret = do_ioctl(fs->fd, PHYSMAP_IOC_BEGIN, p);
	expect(t, 0, ret, want, update ? "writer, update" : "writer");
	if (ret)
		return;
	if (!update || !fs->gen) {
		/* an update of nothing is an empty map with that page_shift */
		writer_new_pending(fs, update, ps);
	} else {
		writer_new_pending(fs, 1, published_shift(fs));
		published = model_at(fs, fs->gen);
		if (!published) {
			unexpected(t, "no model of generation %llu",
				   (unsigned long long)fs->gen);
			return;
		}
		pm_map_free(&fs->pending);
		if (pm_map_copy(&fs->pending, published))
			abort();
	}
	if (update)
		t->c.updates_begun++;
}

static void writer_add(struct thread *t, struct fdstate *fs)
{
	struct physmap_section s;
	enum ptr_kind k = mostly_good(t);
	size_t rd, wr;
	__u32 index;
	void *p;
	int want, ret;

	random_section(t, fs, &s);
	if (fs->nr_freed && chance(t, 35)) {
		/* inside a range a REMOVE of this transaction freed */
		unsigned int f = rnd(t) % fs->nr_freed;
		__u64 span = fs->freed[f].last - fs->freed[f].start;

		s.start = fs->freed[f].start + (chance(t, 50) ? 0 :
						rnd(t) % (span + 1));
		s.size = chance(t, 50) ? fs->freed[f].last - s.start + 1 :
			 1 + rnd(t) % (fs->freed[f].last - s.start + 1);
		s.flags = 0;
	}
	p = place(t, k, &s, sizeof(s), &rd, &wr);
	if (rd < sizeof(s) || wr < sizeof(s))
		want = -EFAULT;
	else if (s.flags || !s.size || s.start + (s.size - 1) < s.start)
		want = -EINVAL;
	else if (fs->has_pending &&
		 overlaps(&fs->pending, s.start, s.start + s.size - 1))
		want = -EEXIST;
	else
		want = 0;
	ret = do_ioctl(fs->fd, PHYSMAP_IOC_ADD, p);
	expect(t, 1, ret, want, "writer");
	if (ret)
		return;
	/* an ADD with nothing pending begins a new map, page_shift 12 */
	if (!fs->has_pending)
		writer_new_pending(fs, 0, 12);
	if (pm_map_append(&fs->pending, s.start, s.start + s.size - 1,
			  s.cookie, s.offset))
		abort();
	index = fs->pending.ranges[fs->pending.count - 1].index;
	if (index < fs->pending.max_index)
		t->c.reused++;
	if (((struct physmap_section *)p)->index != index)
		unexpected(t, "ADD: index %u, want %u",
			   ((struct physmap_section *)p)->index, index);
}

static void writer_remove(struct thread *t, struct fdstate *fs)
{
	struct physmap_remove rm = { 0 };
	const struct pm_range *held;
	__u64 r = rnd(t) % 100;
	size_t rd, wr;
	void *p;
	int want, ret;

	if (r < 60 && fs->pending.count)	/* a section of the pending map */
		rm.index = fs->pending.ranges[rnd(t) %
					      fs->pending.count].index;
	else if (r < 80)	/* held, removed already or never held */
		rm.index = rnd(t) % (fs->pending.max_index + 3);
	else if (r < 95)	/* one past the highest, or 0 */
		rm.index = chance(t, 50) ? fs->pending.max_index + 1 : 0;
	else
		rm.index = (__u32)rnd(t);
	if (chance(t, 4))
		rm.flags = 1U << (rnd(t) % 32);
	held = fs->has_pending ? pm_map_find_index(&fs->pending, rm.index) :
				 NULL;
	p = place(t, mostly_good(t), &rm, sizeof(rm), &rd, &wr);
	if (rd < sizeof(rm))
		want = -EFAULT;
	else if (rm.flags || !fs->has_pending)
		want = -EINVAL;
	else if (!held)
		want = -ENOENT;
	else
		want = 0;
	ret = do_ioctl(fs->fd, PHYSMAP_IOC_REMOVE, p);
	expect(t, K_REMOVE, ret, want, fs->has_pending ?
	       (fs->pending_update ? "writer, update" : "writer, new map") :
	       "writer, nothing pending");
	if (want == -EFAULT)
		t->c.remove_efault++;
	else if (want == -EINVAL)
		t->c.remove_einval++;
	else if (want == -ENOENT)
		t->c.remove_enoent++;
	if (ret)
		return;
	if (!held) {
		/* the model is lost: not what the kernel did */
		unexpected(t, "REMOVE %u: no such section in the model",
			   rm.index);
		return;
	}
	t->c.removed++;
	if (fs->nr_freed < ARRAY_SIZE(fs->freed)) {
		fs->freed[fs->nr_freed].start = held->start;
		fs->freed[fs->nr_freed].last = held->last;
		fs->nr_freed++;
	}
	if (pm_map_remove_index(&fs->pending, rm.index))
		abort();
}

static void writer_commit(struct thread *t, struct fdstate *fs)
{
	const struct pm_range *overlap;
	struct pm_map *m = NULL;
	int ret;

	if (fs->has_pending) {
		/* the candidate model of the next generation, before COMMIT */
		m = malloc(sizeof(*m));
		if (!m)
			abort();
		*m = fs->pending;
		if (pm_model_build(m, &overlap))
			unexpected(t, "model: pending sections overlap");
		if (fs->gen + 1 < MAX_GENS) {
			fs->shift[fs->gen + 1] = fs->pending_shift;
			__atomic_store_n(&fs->hist[fs->gen + 1], m,
					 __ATOMIC_RELEASE);
		}
	}
	ret = do_ioctl(fs->fd, PHYSMAP_IOC_COMMIT, NULL);
	expect(t, 2, ret, fs->has_pending ? 0 : -EINVAL, "writer");
	if (!ret) {
		fs->gen++;
		t->c.commits++;
		if (fs->pending_update)
			t->c.updates_committed++;
		pm_map_init(&fs->pending);	/* now owned by m */
		fs->has_pending = 0;
		fs->pending_update = 0;
		fs->nr_freed = 0;
	} else if (m) {
		free(m->sorted);
		m->sorted = NULL;
		free(m);
		if (fs->gen + 1 < MAX_GENS)
			fs->hist[fs->gen + 1] = NULL;
	}
}

/* ---- reads, from writers and fuzzers alike ---- */

static void do_lookup(struct thread *t, struct fdstate *fs, enum ptr_kind k)
{
	struct physmap_lookup l = { .addr = REGION + rnd(t) % REGION_SIZE };
	const struct pm_map *m;
	struct physmap_lookup *out;
	size_t rd, wr;
	int ret, want;

	if (chance(t, 10))
		l.addr = rnd(t);
	memset(&l.section, PM_POISON, sizeof(l.section));
	out = place(t, k, &l, sizeof(l), &rd, &wr);
	want = rd < 8 || wr < sizeof(l) ? -EFAULT : 0;
	ret = do_ioctl(fs->fd, PHYSMAP_IOC_LOOKUP, out);
	expect(t, 3, ret, want, "");
	if (ret)
		return;
	m = model_at(fs, out->generation);
	if (!m) {
		unexpected(t, "LOOKUP: generation %llu never committed",
			   (unsigned long long)out->generation);
		return;
	}
	if (out->section.index != pm_model_index(m, l.addr))
		unexpected(t, "LOOKUP %llx gen %llu: index %u, want %u",
			   (unsigned long long)l.addr,
			   (unsigned long long)out->generation,
			   out->section.index, pm_model_index(m, l.addr));
}

static void do_batch(struct thread *t, struct fdstate *fs, enum ptr_kind k)
{
	static __thread __u64 addrs[PHYSMAP_BATCH_MAX + 8];
	static __thread __u32 idx[PHYSMAP_BATCH_MAX + 8];
	struct physmap_lookup_batch b = { 0 }, *out;
	enum ptr_kind ka = mostly_good(t), ki = mostly_good(t);
	size_t rd, wr, i, a_rd = 0, i_wr = 0;
	const struct pm_map *m;
	int ret, want;
	__u64 r = rnd(t);

	b.count = r % 4 == 0 ? 0 : r % 4 == 1 ? rnd(t) % 16 :
		  r % 4 == 2 ? rnd(t) % 600 : rnd(t) % (PHYSMAP_BATCH_MAX + 64);
	if (chance(t, 3))
		b.count = (__u32)rnd(t);
	b.flags = chance(t, 5) ? (__u32)rnd(t) | 1 : 0;
	for (i = 0; i < PHYSMAP_BATCH_MAX && i < b.count; i++)
		addrs[i] = REGION + rnd(t) % REGION_SIZE;
	/*
	 * addrs and indexes: the buffers, read-only/inaccessible pages, or
	 * the buffers' ends at an inaccessible page
	 */
	switch (ka) {
	case P_GOOD:
		b.addrs = (uintptr_t)addrs;
		a_rd = sizeof(addrs);
		break;
	case P_RO:
		b.addrs = (uintptr_t)t->ro;
		a_rd = PAGE;
		break;
	case P_EDGE:
		a_rd = 8 * (rnd(t) % 64);
		b.addrs = (uintptr_t)(t->edge + PAGE - a_rd);
		break;
	case P_NULL:
		b.addrs = 0;
		break;
	default:
		b.addrs = (uintptr_t)none_page;
		break;
	}
	switch (ki) {
	case P_GOOD:
		b.indexes = (uintptr_t)idx;
		i_wr = sizeof(idx);
		break;
	case P_RO:
		b.indexes = (uintptr_t)t->ro;
		break;
	case P_EDGE:
		i_wr = 4 * (rnd(t) % 64);
		b.indexes = (uintptr_t)(t->edge + PAGE - i_wr);
		break;
	case P_NULL:
		b.indexes = 0;
		break;
	default:
		b.indexes = (uintptr_t)none_page;
		break;
	}
	if (ka == P_EDGE && ki == P_EDGE)	/* one edge buffer each */
		b.indexes = (uintptr_t)idx, i_wr = sizeof(idx), ki = P_GOOD;
	out = place(t, k, &b, sizeof(b), &rd, &wr);
	if (rd < sizeof(b))
		want = -EFAULT;
	else if (b.flags || b.count > PHYSMAP_BATCH_MAX)
		want = -EINVAL;
	else if ((__u64)b.count * 8 > a_rd || (__u64)b.count * 4 > i_wr)
		want = -EFAULT;
	else if (wr < sizeof(b))
		want = -EFAULT;
	else
		want = 0;
	ret = do_ioctl(fs->fd, PHYSMAP_IOC_LOOKUP_BATCH, out);
	expect(t, 4, ret, want, "");
	if (ret || ka != P_GOOD || ki != P_GOOD)
		return;
	m = model_at(fs, out->generation);
	if (!m) {
		unexpected(t, "LOOKUP_BATCH: generation %llu never committed",
			   (unsigned long long)out->generation);
		return;
	}
	for (i = 0; i < b.count; i++)
		if (idx[i] != pm_model_index(m, addrs[i])) {
			unexpected(t, "LOOKUP_BATCH %llx gen %llu: %u, want %u",
				   (unsigned long long)addrs[i],
				   (unsigned long long)out->generation, idx[i],
				   pm_model_index(m, addrs[i]));
			return;
		}
}

static void do_get_section(struct thread *t, struct fdstate *fs,
			   enum ptr_kind k)
{
	struct physmap_section s, *out;
	size_t rd, wr;
	int ret;

	memset(&s, PM_POISON, sizeof(s));
	s.index = chance(t, 80) ? rnd(t) % (MAX_PENDING + 4) : (__u32)rnd(t);
	out = place(t, k, &s, sizeof(s), &rd, &wr);
	ret = do_ioctl(fs->fd, PHYSMAP_IOC_GET_SECTION, out);
	count(t, 5, ret);
	/* which map answered is unknown (no generation): check the kind */
	if (rd < sizeof(s)) {
		if (ret != -EFAULT)
			unexpected(t, "GET_SECTION unreadable: %d", ret);
	} else if (s.index == 0 || s.index > MAX_PENDING) {
		if (ret != -ENOENT)
			unexpected(t, "GET_SECTION %u: %d, want ENOENT",
				   s.index, ret);
	} else if (ret && ret != -ENOENT && !(ret == -EFAULT && wr < sizeof(s))) {
		unexpected(t, "GET_SECTION %u: %d", s.index, ret);
	} else if (!ret && (wr < sizeof(s) || out->index != s.index ||
			    out->flags)) {
		unexpected(t, "GET_SECTION %u: index %u flags %u", s.index,
			   out->index, out->flags);
	}
}

static void do_stats(struct thread *t, struct fdstate *fs, enum ptr_kind k)
{
	struct physmap_stats st = { 0 }, *out;
	const struct pm_map *m;
	size_t rd, wr;
	int ret;

	out = place(t, k, &st, sizeof(st), &rd, &wr);
	ret = do_ioctl(fs->fd, PHYSMAP_IOC_STATS, out);
	expect(t, 6, ret, wr < sizeof(st) ? -EFAULT : 0, "");
	if (ret)
		return;
	m = model_at(fs, out->generation);
	if (!m || out->sections != m->count)
		unexpected(t, "STATS gen %llu: %u sections, want %zd",
			   (unsigned long long)out->generation, out->sections,
			   m ? (ssize_t)m->count : -1);
	else if (out->generation && out->page_shift != fs->shift[out->generation])
		unexpected(t, "STATS gen %llu: page_shift %u, want %u",
			   (unsigned long long)out->generation,
			   out->page_shift, fs->shift[out->generation]);
}

/*
 * GET_SECTION from the writer of fs: only it commits there, so the
 * published map is the model of fs->gen, holes (ENOENT) and all
 */
static void writer_get_section(struct thread *t, struct fdstate *fs)
{
	const struct pm_map *m = model_at(fs, fs->gen);
	const struct pm_range *r;
	struct physmap_section s;
	__u32 index;
	int ret;

	if (!m)
		return;
	index = rnd(t) % (m->max_index + 2);
	r = pm_map_find_index(m, index);
	ret = pm_get_section(fs->fd, index, &s);
	expect(t, 5, ret, r ? 0 : -ENOENT, "writer");
	if (!ret && r && (s.index != index || s.start != r->start ||
			  s.size != section_size(r) || s.cookie != r->cookie ||
			  s.offset != r->offset || s.flags))
		unexpected(t, "GET_SECTION %u gen %llu: [%llx+%llx] cookie %llx, want [%llx+%llx] cookie %llx",
			   index, (unsigned long long)fs->gen,
			   (unsigned long long)s.start,
			   (unsigned long long)s.size,
			   (unsigned long long)s.cookie,
			   (unsigned long long)r->start,
			   (unsigned long long)section_size(r),
			   (unsigned long long)r->cookie);
}

static unsigned long random_cmd(struct thread *t)
{
	static const unsigned long valid[] = {
		PHYSMAP_IOC_BEGIN, PHYSMAP_IOC_ADD, PHYSMAP_IOC_COMMIT,
		PHYSMAP_IOC_LOOKUP, PHYSMAP_IOC_LOOKUP_BATCH,
		PHYSMAP_IOC_GET_SECTION, PHYSMAP_IOC_STATS,
		PHYSMAP_IOC_REMOVE,
	};
	unsigned long cmd;
	unsigned int i, type;

	for (;;) {
		__u64 r = rnd(t);

		switch (r % 3) {
		case 0:	/* the driver's type, other number/size/direction */
			cmd = _IOC(r >> 8 & 3, PHYSMAP_IOC_TYPE, r >> 16 & 0x1f,
				   r >> 24 & 0x3fff);
			break;
		case 1:	/* a valid command with its direction changed */
			cmd = valid[(r >> 8) % ARRAY_SIZE(valid)] ^
			      ((r >> 16 & 3) << _IOC_DIRSHIFT);
			break;
		default:
			cmd = (__u32)(r >> 8);
			break;
		}
		type = _IOC_TYPE(cmd);
		/* the VFS handles some types itself (FIOCLEX, FIFREEZE...) */
		if (type == 'T' || type == 'X' || type == 'f' || type == 0 ||
		    type == 0x94)
			continue;
		for (i = 0; i < ARRAY_SIZE(valid); i++)
			if (cmd == valid[i])
				break;
		if (i == ARRAY_SIZE(valid))
			return cmd;
	}
}

/* a call that must fail or only read; never changes a map */
static void fuzz_one(struct thread *t, struct fdstate *fs)
{
	enum ptr_kind k = any_kind(t);
	__u64 r = rnd(t) % 100;
	size_t rd, wr;

	if (r < 20) {
		do_lookup(t, fs, k);
	} else if (r < 35) {
		do_batch(t, fs, k);
	} else if (r < 45) {
		do_get_section(t, fs, k);
	} else if (r < 52) {
		do_stats(t, fs, k);
	} else if (r < 62) {
		/* ADD that must fail: bad pointer, or bad fields */
		struct physmap_section s;
		void *p;
		int want;

		/* the writer owns the pending model: no fs here */
		random_section(t, NULL, &s);
		if (k == P_GOOD) {
			if (chance(t, 50))
				s.flags |= 1;
			else
				s.size = 0;
		}
		p = place(t, k, &s, sizeof(s), &rd, &wr);
		want = rd < sizeof(s) || wr < sizeof(s) ? -EFAULT : -EINVAL;
		expect(t, 1, do_ioctl(fs->fd, PHYSMAP_IOC_ADD, p), want,
		       "fuzzer");
	} else if (r < 66) {
		/* BEGIN that must fail: a flag it does not know */
		struct physmap_begin b = { .page_shift = (__u32)rnd(t),
					   .flags = bad_begin_flags(t) };
		void *p = place(t, k, &b, sizeof(b), &rd, &wr);

		expect(t, 0, do_ioctl(fs->fd, PHYSMAP_IOC_BEGIN, p),
		       rd < sizeof(b) ? -EFAULT : -EINVAL, "fuzzer");
	} else if (r < 72) {
		/*
		 * REMOVE that must fail: a bad pointer, flags, or an index
		 * no pending map can hold (EINVAL when nothing is pending)
		 */
		struct physmap_remove rm = { .index = (__u32)rnd(t) };
		int ret, bad_flags = chance(t, 50);
		void *p;

		if (bad_flags)
			rm.flags = 1U << (rnd(t) % 32);
		else if (rm.index <= MAX_PENDING)
			rm.index = chance(t, 50) ? 0 : MAX_PENDING + 1;
		p = place(t, k, &rm, sizeof(rm), &rd, &wr);
		ret = do_ioctl(fs->fd, PHYSMAP_IOC_REMOVE, p);
		if (rd < sizeof(rm) || bad_flags)
			expect(t, K_REMOVE, ret, rd < sizeof(rm) ? -EFAULT :
			       -EINVAL, "fuzzer");
		else
			expect(t, K_REMOVE, ret, ret == -EINVAL ? -EINVAL :
			       -ENOENT, "fuzzer, no such index");
	} else {
		/* anything else: not the driver's */
		char junk[64];
		void *p;

		memset(junk, (int)rnd(t), sizeof(junk));
		p = place(t, k, junk, 1 + rnd(t) % sizeof(junk), &rd, &wr);
		expect(t, K_OTHER, do_ioctl(fs->fd, random_cmd(t), p), -ENOTTY,
		       "");
	}
}

static void writer_one(struct thread *t, struct fdstate *fs)
{
	__u64 r = rnd(t) % 100;

	if (r < 9)
		writer_begin(t, fs);
	else if (r < 22)
		writer_remove(t, fs);
	else if (r < 70 && fs->pending.count < MAX_PENDING)
		writer_add(t, fs);
	else if (r < 84 || fs->pending.count >= MAX_PENDING)
		writer_commit(t, fs);
	else if (r < 88)
		do_lookup(t, fs, P_GOOD);
	else if (r < 92)
		do_batch(t, fs, P_GOOD);
	else if (r < 96)
		writer_get_section(t, fs);
	else
		do_stats(t, fs, P_GOOD);
}

static void *thread_main(void *arg)
{
	struct thread *t = arg;
	int i;

	for (;;) {
		pthread_barrier_wait(&round_start);
		if (fuzz_stop)
			break;
		for (i = 0; i < OPS_PER_ROUND; i++) {
			struct fdstate *fs = t->fs[rnd(t) % t->nr_fs];

			if (t->writer)
				writer_one(t, t->fs[0]);
			else
				fuzz_one(t, fs);
		}
		pthread_barrier_wait(&round_end);
	}
	return NULL;
}

static char *map_pages(size_t pages, int prot)
{
	char *p = mmap(NULL, pages * PAGE, prot, MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* no state: a fixture for the time limit */
FIXTURE(fuzz) {
	int unused;
};

FIXTURE_SETUP(fuzz)
{
	self->unused = 0;
}

FIXTURE_TEARDOWN(fuzz)
{
}

TEST_F_TIMEOUT(fuzz, random_ioctls, 600)
{
	const char *e = getenv("PHYSMAP_FUZZ_SEED");
	__u64 seed = e && *e ? strtoull(e, NULL, 0) : 0x9f2a3c4d5e6fULL;
	unsigned int rounds = 150, seconds = 90, round, i, j;
	unsigned long checks = 0, mismatches = 0;
	struct counts total = { 0 };
	char why[256] = "";
	double t0 = now();

	e = getenv("PHYSMAP_FUZZ_ROUNDS");
	if (e && *e)
		rounds = strtoul(e, NULL, 0);
	e = getenv("PHYSMAP_FUZZ_SECONDS");
	if (e && *e)
		seconds = strtoul(e, NULL, 0);
	none_page = map_pages(1, PROT_NONE);
	ASSERT_NE(NULL, none_page);
	for (i = 0; i < NR_FDS; i++) {
		memset(&fds[i], 0, sizeof(fds[i]));
		fds[i].fd = open(PHYSMAP_DEV, O_RDWR | O_CLOEXEC);
		ASSERT_LE(0, fds[i].fd);
	}
	for (i = 0; i < NR_THREADS; i++) {
		struct thread *t = &threads[i];

		memset(t, 0, sizeof(*t));
		t->id = i;
		t->seed = seed + i * 0x1000193;
		t->good = map_pages(2, PROT_READ | PROT_WRITE);
		t->ro = map_pages(2, PROT_READ);
		t->edge = map_pages(2, PROT_READ | PROT_WRITE);
		ASSERT_TRUE(t->good && t->ro && t->edge);
		ASSERT_EQ(0, mprotect(t->edge + PAGE, PAGE, PROT_NONE));
		ASSERT_EQ(0, mprotect(t->ro + PAGE, PAGE, PROT_NONE));
		if (i < NR_FDS) {
			t->writer = 1;
			t->fs[0] = &fds[i];
			t->nr_fs = 1;
		} else {
			/* fuzzers: one fd, or both */
			t->fs[0] = &fds[i % NR_FDS];
			t->fs[1] = &fds[(i + 1) % NR_FDS];
			t->nr_fs = i % 3 ? 1 : 2;
		}
	}
	ASSERT_EQ(0, pthread_barrier_init(&round_start, NULL, NR_THREADS + 1));
	ASSERT_EQ(0, pthread_barrier_init(&round_end, NULL, NR_THREADS + 1));
	for (i = 0; i < NR_THREADS; i++)
		ASSERT_EQ(0, pthread_create(&threads[i].thread, NULL,
					    thread_main, &threads[i]));

	for (round = 0; round < rounds && now() - t0 < seconds; round++) {
		pthread_barrier_wait(&round_start);
		pthread_barrier_wait(&round_end);
		/* all stopped: each fd publishes the last commit's map */
		for (i = 0; i < NR_FDS; i++) {
			struct fdstate *fs = &fds[i];
			const struct pm_map *m = model_at(fs, fs->gen);
			unsigned long bad = m ? pmc_check(fs->fd, m, fs->gen,
							  round, why,
							  sizeof(why)) : 1;

			checks++;
			if (bad && !mismatches)
				TH_LOG("round %u fd %u: %s", round, i, why);
			mismatches += bad;
			/* only this generation is needed from now on */
			for (j = 1; j < fs->gen && j < MAX_GENS; j++) {
				struct pm_map *old = fs->hist[j];

				if (old) {
					pm_map_free(old);
					free(old);
					fs->hist[j] = NULL;
				}
			}
		}
	}
	fuzz_stop = 1;
	pthread_barrier_wait(&round_start);
	for (i = 0; i < NR_THREADS; i++) {
		struct thread *t = &threads[i];

		pthread_join(t->thread, NULL);
		for (j = 0; j < NR_CMD_KINDS; j++) {
			total.calls[j] += t->c.calls[j];
			total.ok[j] += t->c.ok[j];
		}
		total.efault += t->c.efault;
		total.einval += t->c.einval;
		total.eexist += t->c.eexist;
		total.enotty += t->c.enotty;
		total.enoent += t->c.enoent;
		total.other_err += t->c.other_err;
		total.commits += t->c.commits;
		total.unexpected += t->c.unexpected;
		total.updates_begun += t->c.updates_begun;
		total.updates_committed += t->c.updates_committed;
		total.reused += t->c.reused;
		total.removed += t->c.removed;
		total.remove_enoent += t->c.remove_enoent;
		total.remove_einval += t->c.remove_einval;
		total.remove_efault += t->c.remove_efault;
		if (t->c.unexpected)
			TH_LOG("thread %u: %lu unexpected, first: %s", i,
			       t->c.unexpected, t->first);
	}
	printf("# physmap-fuzz: seed %#llx, %u rounds in %.1f s, %d threads on %d fds:",
	       (unsigned long long)seed, round, now() - t0, NR_THREADS, NR_FDS);
	for (j = 0; j < NR_CMD_KINDS; j++)
		printf(" %s %lu/%lu", cmd_names[j], total.ok[j],
		       total.calls[j]);
	printf(" (succeeded/calls); EFAULT %lu EINVAL %lu EEXIST %lu ENOTTY %lu ENOENT %lu other %lu; %lu commits, %lu model checks, %lu mismatches, %lu unexpected results\n",
	       total.efault, total.einval, total.eexist, total.enotty,
	       total.enoent, total.other_err, total.commits, checks,
	       mismatches, total.unexpected);
	printf("# physmap-fuzz updates: %lu commits, %lu updates begun, %lu committed; writers' REMOVEs: %lu removed, %lu ENOENT, %lu EINVAL, %lu EFAULT; %lu ADDs reused an index; %lu unexpected results\n",
	       total.commits, total.updates_begun, total.updates_committed,
	       total.removed, total.remove_enoent, total.remove_einval,
	       total.remove_efault, total.reused, total.unexpected);
	fflush(stdout);
	for (i = 0; i < NR_FDS; i++)
		close(fds[i].fd);
	ASSERT_EQ(0UL, total.unexpected);
	ASSERT_EQ(0UL, mismatches);
	ASSERT_LT(0UL, total.commits);
	ASSERT_LT(0UL, total.efault);
	ASSERT_LT(0UL, total.einval);
	ASSERT_LT(0UL, total.eexist);
	ASSERT_LT(0UL, total.enotty);
	ASSERT_LT(0UL, checks);
	ASSERT_LT(0UL, total.updates_committed);
	ASSERT_LT(0UL, total.removed);
	ASSERT_LT(0UL, total.remove_enoent);
	ASSERT_LT(0UL, total.remove_einval);
	ASSERT_LT(0UL, total.reused);
}

TEST_HARNESS_MAIN
