// SPDX-License-Identifier: GPL-2.0
/*
 * follow.c - "physmapctl follow": a running QEMU's flat view, kept loaded
 * in /dev/physmap as it changes
 *
 * QMP gives "info mtree -f" (human-monitor-command); mapfile.c reads it and
 * picks the view. The first read is published as a new map (BEGIN with
 * PHYSMAP_BEGIN_UPDATE on a file with nothing published, ADD..., COMMIT),
 * so that the device keeps its pending map for the next. Each later read
 * is held against the sections loaded, both in address order: a section
 * the same in start, last byte, kind, name and offset stays, every other
 * one that went is removed and every one that came is added, in one
 * update (BEGIN with PHYSMAP_BEGIN_UPDATE, REMOVE..., ADD..., COMMIT). A
 * section's cookie is the number of its region's name, in the order follow
 * first met the names, so a region keeps its cookie across reads. Reads
 * come on the events that change memory maps and, with an interval, on a
 * timer: a hot-plugged device's BARs appear when the guest's OS assigns
 * and enables them, after DEVICE_ADDED.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "libphysmap.h"
#include "mapfile.h"
#include "physmapctl.h"
#include "qmp.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

/* how long QEMU may take to answer a command */
#define QMP_TIMEOUT_MS	30000
/* the device's disagreements shown in full, per update */
#define CHECK_SHOWN	10
/* the name mapfile.c gives the text in its messages */
#define VIEW_SOURCE	"QEMU's info mtree -f"

/* how a run ends without error, beside the exit statuses */
#define END_EOF		256	/* QEMU closed the connection */
#define END_STOP	257	/* SIGINT, SIGTERM */

/* the events after which the view is read again */
static const char * const trigger_events[] = {
	"DEVICE_ADDED", "DEVICE_DELETED", "MEMORY_DEVICE_SIZE_CHANGE", "RESET",
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/**
 * struct fsec - a section of the view, as loaded
 * @start: first byte.
 * @last: last byte.
 * @offset: in its region.
 * @cookie: the number of @name.
 * @index: its index in the device's map.
 * @kind: QEMU's kind.
 * @name: the region's name.
 */
struct fsec {
	__u64 start;
	__u64 last;
	__u64 offset;
	__u64 cookie;
	__u32 index;
	char kind[12];
	char *name;
};

/* names and their numbers, from 1: an open-addressed hash table */
struct names {
	char **name;		/* name[i - 1] is number i */
	size_t count, cap;
	size_t *slot;		/* a number, or 0: free */
	size_t slots;		/* a power of two */
};

struct follower {
	const struct follow_opts *o;
	struct qmp q;
	int fd;
	struct fsec *secs;	/* loaded, in address order */
	size_t count;
	struct names names;
	unsigned char *used;	/* used[i]: index i is taken */
	size_t used_size;
	size_t free_hint;	/* no index below it is free */
	__u64 generation;
	long updates;
	char err[1024];
};

/* --- names ----------------------------------------------------------------- */

static size_t name_hash(const char *s)
{
	size_t h = 14695981039346656037ULL & SIZE_MAX;

	while (*s)
		h = (h ^ (unsigned char)*s++) * (1099511628211ULL & SIZE_MAX);
	return h;
}

static int names_grow(struct names *n)
{
	size_t slots = n->slots ? 2 * n->slots : 256, i, j;
	size_t *slot = calloc(slots, sizeof(*slot));

	if (!slot)
		return -1;
	for (i = 0; i < n->count; i++) {
		j = name_hash(n->name[i]) & (slots - 1);
		while (slot[j])
			j = (j + 1) & (slots - 1);
		slot[j] = i + 1;
	}
	free(n->slot);
	n->slot = slot;
	n->slots = slots;
	return 0;
}

/* the number of name, given it now if it has none; 0 if out of memory */
static __u64 name_number(struct names *n, const char *name)
{
	size_t j;

	if (2 * (n->count + 1) > n->slots && names_grow(n))
		return 0;
	j = name_hash(name) & (n->slots - 1);
	for (; n->slot[j]; j = (j + 1) & (n->slots - 1))
		if (!strcmp(n->name[n->slot[j] - 1], name))
			return n->slot[j];
	if (n->count == n->cap) {
		size_t cap = n->cap ? 2 * n->cap : 256;
		char **v = realloc(n->name, cap * sizeof(*v));

		if (!v)
			return 0;
		n->name = v;
		n->cap = cap;
	}
	n->name[n->count] = strdup(name);
	if (!n->name[n->count])
		return 0;
	n->slot[j] = ++n->count;
	return n->count;
}

static void names_free(struct names *n)
{
	size_t i;

	for (i = 0; i < n->count; i++)
		free(n->name[i]);
	free(n->name);
	free(n->slot);
	memset(n, 0, sizeof(*n));
}

/* --- indexes: ADD gives the lowest free one ------------------------------- */

static int index_take(struct follower *f, __u32 index)
{
	if (index >= f->used_size) {
		size_t size = f->used_size ? 2 * f->used_size : 1024;
		unsigned char *u;

		while (size <= index)
			size *= 2;
		u = realloc(f->used, size);
		if (!u)
			return -1;
		memset(u + f->used_size, 0, size - f->used_size);
		f->used = u;
		f->used_size = size;
	}
	f->used[index] = 1;
	return 0;
}

static void index_free(struct follower *f, __u32 index)
{
	f->used[index] = 0;
	if (index < f->free_hint)
		f->free_hint = index;
}

static __u32 index_lowest_free(struct follower *f)
{
	size_t i = f->free_hint ? f->free_hint : 1;

	while (i < f->used_size && f->used[i])
		i++;
	f->free_hint = i;
	return i;
}

/* --- output ----------------------------------------------------------------- */

/* "- #5 fe000000 fe003fff i/o name @0000000000001000", or its JSON */
static void print_section(const struct follower *f, char what,
			  const struct fsec *s)
{
	if (f->o->json) {
		printf("{\"%s\":%u,\"start\":\"0x%llx\",\"last\":\"0x%llx\",\"kind\":",
		       what == '-' ? "removed" : "added", s->index,
		       (unsigned long long)s->start,
		       (unsigned long long)s->last);
		put_json_string(s->kind);
		fputs(",\"name\":", stdout);
		put_json_string(s->name);
		printf(",\"cookie\":%llu,\"offset\":\"0x%llx\"}\n",
		       (unsigned long long)s->cookie,
		       (unsigned long long)s->offset);
		return;
	}
	printf("%c #%u %llx %llx %s %s", what, s->index,
	       (unsigned long long)s->start, (unsigned long long)s->last,
	       s->kind, s->name);
	if (s->offset)
		printf(" @%016llx", (unsigned long long)s->offset);
	putchar('\n');
}

static void print_event(const struct follower *f, const struct qmp_event *ev)
{
	if (f->o->json) {
		fputs("{\"event\":", stdout);
		put_json_string(ev->name);
		if (ev->device) {
			fputs(",\"device\":", stdout);
			put_json_string(ev->device);
		}
		if (ev->path) {
			fputs(",\"path\":", stdout);
			put_json_string(ev->path);
		}
		puts("}");
	} else {
		const char *who = ev->device ? ev->device : ev->path;

		printf("event %s%s%s\n", ev->name, who ? " " : "",
		       who ? who : "");
	}
	fflush(stdout);
}

/* --- the view ---------------------------------------------------------------- */

static void secs_free(struct fsec *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(s[i].name);
	free(s);
}

static int cmp_fsec(const void *a, const void *b)
{
	const struct fsec *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/* the exit status, END_EOF or END_STOP of what a qmp_*() call returned */
static int qmp_status(struct follower *f, int r)
{
	switch (r) {
	case QMP_OK:
		return EXIT_OK;
	case QMP_EOF:
		return END_EOF;
	case QMP_STOP:
		return END_STOP;
	default:
		fprintf(stderr, "physmapctl: %s\n", f->err);
		return EXIT_QMP;
	}
}

/*
 * The flat view as QEMU gives it now, in address order, each section with
 * the number of its name as cookie: EXIT_OK, or the exit status; QMP_EOF
 * and QMP_STOP as they come.
 */
static int read_view(struct follower *f, struct fsec **out, size_t *n)
{
	struct mf_map map;
	struct fsec *s;
	char *text;
	size_t i;
	int r;

	*out = NULL;
	*n = 0;
	r = qmp_hmp(&f->q, "info mtree -f", &text, QMP_TIMEOUT_MS, f->err,
		    sizeof(f->err));
	if (r)
		return qmp_status(f, r);
	mf_map_init(&map);
	r = mf_load_text(&map, text, strlen(text), VIEW_SOURCE, f->o->view,
			 f->err, sizeof(f->err));
	free(text);
	if (r) {
		fprintf(stderr, "physmapctl: %s\n", f->err);
		mf_map_free(&map);
		return EXIT_FILE;
	}
	s = calloc(map.count ? map.count : 1, sizeof(*s));
	for (i = 0; s && i < map.count; i++) {
		const struct mf_section *m = &map.sections[i];

		s[i].start = m->start;
		s[i].last = m->last;
		s[i].offset = m->offset;
		memcpy(s[i].kind, m->kind, sizeof(s[i].kind));
		s[i].name = m->name;	/* taken from map, at the end */
		s[i].cookie = name_number(&f->names, m->name);
		if (!s[i].cookie)
			break;
	}
	if (!s || i < map.count) {
		mf_map_free(&map);
		free(s);
		fputs("physmapctl: out of memory\n", stderr);
		return EXIT_FILE;
	}
	free(map.sections);	/* the names are s's now */
	qsort(s, map.count, sizeof(*s), cmp_fsec);
	*out = s;
	*n = map.count;
	return EXIT_OK;
}

static bool same(const struct fsec *a, const struct fsec *b)
{
	return a->start == b->start && a->last == b->last &&
	       a->offset == b->offset && a->cookie == b->cookie &&
	       !strcmp(a->kind, b->kind);
}

/* --- the check ---------------------------------------------------------------- */

struct checker {
	struct follower *f;
	unsigned long addrs, bad;
};

static void mismatch(struct checker *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void mismatch(struct checker *c, const char *fmt, ...)
{
	va_list ap;

	if (c->bad++ >= CHECK_SHOWN)
		return;
	fputs("physmapctl: check: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/*
 * LOOKUP of addr, which s covers (NULL: no section): the section as ADD
 * gave it, its offset that of its start
 */
static void check_addr(struct checker *c, __u64 addr, const struct fsec *s)
{
	struct physmap_section got;
	__u64 gen;

	c->addrs++;
	if (physmap_lookup(c->f->fd, addr, &got, &gen)) {
		mismatch(c, "lookup 0x%llx: %s", (unsigned long long)addr,
			 strerror(errno));
		return;
	}
	if (gen != c->f->generation)
		mismatch(c, "lookup 0x%llx: generation %llu, want %llu",
			 (unsigned long long)addr, (unsigned long long)gen,
			 (unsigned long long)c->f->generation);
	if (!s) {
		if (got.index != PHYSMAP_UNASSIGNED)
			mismatch(c, "0x%llx: #%u [0x%llx+0x%llx], want unassigned",
				 (unsigned long long)addr, got.index,
				 (unsigned long long)got.start,
				 (unsigned long long)got.size);
		return;
	}
	if (got.index != s->index || got.start != s->start ||
	    got.size != s->last - s->start + 1 || got.cookie != s->cookie ||
	    got.offset != s->offset)
		mismatch(c, "0x%llx: #%u [0x%llx+0x%llx] cookie=%llu offset=0x%llx, want #%u [0x%llx-0x%llx] %s cookie=%llu offset=0x%llx",
			 (unsigned long long)addr, got.index,
			 (unsigned long long)got.start,
			 (unsigned long long)got.size,
			 (unsigned long long)got.cookie,
			 (unsigned long long)got.offset, s->index,
			 (unsigned long long)s->start,
			 (unsigned long long)s->last, s->name,
			 (unsigned long long)s->cookie,
			 (unsigned long long)s->offset);
}

/*
 * Every section's first and last byte, and the first and last byte of
 * every hole, through LOOKUP and again through LOOKUP_BATCH; every section
 * through GET_SECTION; STATS. Prints the first disagreements; returns
 * their number.
 */
static unsigned long check(struct follower *f, unsigned long *addrs)
{
	struct checker c = { .f = f };
	struct physmap_stats st;
	__u64 *batch, next = 0, gen;
	__u32 *want, *got;
	size_t i, n = 0;
	bool wrapped = false;

	batch = malloc((4 * f->count + 2) * sizeof(*batch));
	want = malloc((4 * f->count + 2) * sizeof(*want));
	got = malloc((4 * f->count + 2) * sizeof(*got));
	if (!batch || !want || !got) {
		mismatch(&c, "%s", strerror(ENOMEM));
		goto out;
	}
	for (i = 0; i < f->count; i++) {
		const struct fsec *s = &f->secs[i];

		if (s->start > next) {	/* the hole before s */
			check_addr(&c, next, NULL);
			check_addr(&c, s->start - 1, NULL);
			batch[n] = next;
			want[n++] = 0;
			batch[n] = s->start - 1;
			want[n++] = 0;
		}
		check_addr(&c, s->start, s);
		check_addr(&c, s->last, s);
		batch[n] = s->start;
		want[n++] = s->index;
		batch[n] = s->last;
		want[n++] = s->index;
		next = s->last + 1;
		wrapped = !next;
	}
	if (!wrapped) {		/* the hole up to 2^64 - 1 */
		check_addr(&c, next, NULL);
		check_addr(&c, ~0ULL, NULL);
		batch[n] = next;
		want[n++] = 0;
		batch[n] = ~0ULL;
		want[n++] = 0;
	}
	if (physmap_lookup_batch(f->fd, batch, got, n, &gen)) {
		mismatch(&c, "lookup_batch: %s", strerror(errno));
	} else {
		if (gen != f->generation)
			mismatch(&c, "lookup_batch: generation %llu, want %llu",
				 (unsigned long long)gen,
				 (unsigned long long)f->generation);
		for (i = 0; i < n; i++)
			if (got[i] != want[i])
				mismatch(&c, "lookup_batch 0x%llx: #%u, want #%u",
					 (unsigned long long)batch[i], got[i],
					 want[i]);
	}
	for (i = 0; i < f->count; i++) {
		const struct fsec *s = &f->secs[i];
		struct physmap_section g;

		if (physmap_get_section(f->fd, s->index, &g))
			mismatch(&c, "get_section #%u: %s", s->index,
				 strerror(errno));
		else if (g.index != s->index || g.start != s->start ||
			 g.size != s->last - s->start + 1 ||
			 g.cookie != s->cookie || g.offset != s->offset)
			mismatch(&c, "get_section #%u: [0x%llx+0x%llx] cookie=%llu offset=0x%llx, want [0x%llx-0x%llx] %s",
				 s->index, (unsigned long long)g.start,
				 (unsigned long long)g.size,
				 (unsigned long long)g.cookie,
				 (unsigned long long)g.offset,
				 (unsigned long long)s->start,
				 (unsigned long long)s->last, s->name);
	}
	if (physmap_stats(f->fd, &st))
		mismatch(&c, "stats: %s", strerror(errno));
	else if (st.sections != f->count || st.generation != f->generation)
		mismatch(&c, "stats: %u sections, generation %llu; want %zu, %llu",
			 st.sections, (unsigned long long)st.generation,
			 f->count, (unsigned long long)f->generation);
out:
	free(batch);
	free(want);
	free(got);
	*addrs = c.addrs;
	return c.bad;
}

/* --- updates ---------------------------------------------------------------- */

static int device_failed(struct follower *f, const char *what,
			 const struct fsec *s)
{
	int err = errno;

	if (s)
		fprintf(stderr, "physmapctl: %s #%u [0x%llx-0x%llx] %s: %s\n",
			what, s->index, (unsigned long long)s->start,
			(unsigned long long)s->last, s->name, strerror(err));
	else
		fprintf(stderr, "physmapctl: %s: %s\n", what, strerror(err));
	if (err == EINVAL && !strcmp(what, "begin update"))
		fputs("physmapctl: does the module know PHYSMAP_BEGIN_UPDATE?\n",
		      stderr);
	if (err == ENOTTY)
		fprintf(stderr, "physmapctl: is %s a physmap device of this version?\n",
			f->o->device);
	return EXIT_DEVICE;
}

/*
 * Apply the view nw (n sections, in address order; taken) as one
 * transaction: the first one as a new map, later ones as an update. Prints
 * what changed and, with --check, the check. EXIT_OK with *changed set or
 * not, or the exit status.
 */
static int apply(struct follower *f, struct fsec *nw, size_t n, bool *changed)
{
	const bool first = !f->generation, dry = f->o->dry_run;
	struct fsec *keep = NULL, **gone = NULL, **came = NULL;
	size_t i = 0, j = 0, k = 0, ngone = 0, ncame = 0;
	unsigned long addrs = 0, bad = 0;
	int ret = EXIT_OK;

	*changed = false;
	keep = calloc(n ? n : 1, sizeof(*keep));
	gone = calloc(f->count ? f->count : 1, sizeof(*gone));
	came = calloc(n ? n : 1, sizeof(*came));
	if (!keep || !gone || !came) {
		fputs("physmapctl: out of memory\n", stderr);
		ret = EXIT_DEVICE;
		goto out;
	}
	/* both in address order, neither overlapping itself */
	while (i < f->count || j < n) {
		struct fsec *o = i < f->count ? &f->secs[i] : NULL;
		struct fsec *v = j < n ? &nw[j] : NULL;

		if (o && (!v || o->start < v->start)) {
			gone[ngone++] = o;
			i++;
		} else if (v && (!o || v->start < o->start)) {
			came[ncame++] = v;
			j++;
		} else if (same(o, v) && !strcmp(o->name, v->name)) {
			i++;
			j++;
		} else {
			gone[ngone++] = o;
			came[ncame++] = v;
			i++;
			j++;
		}
	}
	if (!first && !ngone && !ncame)
		goto out;
	*changed = true;

	/*
	 * The first load too is an update (of nothing yet), so that the
	 * device keeps its pending map and every change after it costs what
	 * it changes.
	 */
	if (!dry && physmap_begin_update(f->fd, first ? f->o->page_shift : 0)) {
		ret = device_failed(f, first ? "begin" : "begin update", NULL);
		goto out;
	}
	for (i = 0; i < ngone; i++) {
		if (!dry && physmap_remove(f->fd, gone[i]->index)) {
			ret = device_failed(f, "remove", gone[i]);
			goto out;
		}
		index_free(f, gone[i]->index);
	}
	for (i = 0; i < ncame; i++) {
		__u32 index = index_lowest_free(f);

		came[i]->index = index;
		if (!dry && physmap_add(f->fd, came[i]->start,
					came[i]->last - came[i]->start + 1,
					came[i]->cookie, came[i]->offset,
					&came[i]->index)) {
			ret = device_failed(f, "add", came[i]);
			goto out;
		}
		if (came[i]->index != index)
			fprintf(stderr, "physmapctl: add [0x%llx-0x%llx] %s: the device gave index %u, not the lowest free one, %u\n",
				(unsigned long long)came[i]->start,
				(unsigned long long)came[i]->last,
				came[i]->name, came[i]->index, index);
		if (index_take(f, came[i]->index)) {
			fputs("physmapctl: out of memory\n", stderr);
			ret = EXIT_DEVICE;
			goto out;
		}
	}
	if (!dry && physmap_commit(f->fd)) {
		ret = device_failed(f, "commit", NULL);
		goto out;
	}
	if (dry) {
		f->generation++;
	} else {
		struct physmap_stats st;

		if (physmap_stats(f->fd, &st)) {
			ret = device_failed(f, "stats", NULL);
			goto out;
		}
		f->generation = st.generation;
	}

	if (!first || f->o->list) {
		for (i = 0; i < ngone; i++)
			print_section(f, '-', gone[i]);
		for (i = 0; i < ncame; i++)
			print_section(f, '+', came[i]);
	}
	/* the loaded sections are nw's now, each with its index */
	for (i = 0, j = 0; j < n; j++) {
		while (i < f->count && f->secs[i].start < nw[j].start)
			i++;
		if (i < f->count && f->secs[i].start == nw[j].start &&
		    same(&f->secs[i], &nw[j]) &&
		    !strcmp(f->secs[i].name, nw[j].name))
			nw[j].index = f->secs[i].index;
		keep[k++] = nw[j];
	}
	secs_free(f->secs, f->count);
	free(nw);
	nw = NULL;
	f->secs = keep;
	f->count = n;
	keep = NULL;

	if (f->o->check)
		bad = check(f, &addrs);
	if (f->o->json) {
		printf("{\"generation\":%llu,", (unsigned long long)f->generation);
		if (first)
			printf("\"loaded\":%zu", f->count);
		else
			printf("\"removed\":%zu,\"added\":%zu,\"sections\":%zu",
			       ngone, ncame, f->count);
		if (f->o->check)
			printf(",\"checked\":%lu,\"mismatches\":%lu", addrs, bad);
		puts("}");
	} else {
		printf("generation %llu: ", (unsigned long long)f->generation);
		if (first)
			printf("%zu sections loaded", f->count);
		else
			printf("%zu removed, %zu added, %zu sections", ngone,
			       ncame, f->count);
		if (f->o->check)
			printf("; check: %lu addresses, %lu mismatches", addrs,
			       bad);
		putchar('\n');
	}
	fflush(stdout);
	if (bad)
		ret = EXIT_CHECK;
out:
	if (nw)
		secs_free(nw, n);
	free(keep);
	free(gone);
	free(came);
	return ret;
}

/* read the view and apply it: EXIT_OK, the exit status, END_EOF, END_STOP */
static int follow_once(struct follower *f, bool *changed)
{
	struct fsec *nw;
	size_t n;
	int ret = read_view(f, &nw, &n);

	*changed = false;
	if (ret)
		return ret;
	return apply(f, nw, n, changed);
}

static bool trigger(const struct qmp_event *ev)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(trigger_events); i++)
		if (!strcmp(ev->name, trigger_events[i]))
			return true;
	return false;
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000;
}

/* events and the timer, until EOF, a signal, --count or an error */
static int follow_loop(struct follower *f)
{
	long next = now_ms() + f->o->interval_ms;
	struct qmp_event ev;
	bool changed;
	int ret;

	while (f->o->count < 0 || f->updates < f->o->count) {
		bool read = false;
		long wait = -1;

		if (f->q.nevents)
			wait = 0;
		else if (f->o->interval_ms)
			wait = next > now_ms() ? next - now_ms() : 0;
		ret = qmp_wait(&f->q, wait, f->err, sizeof(f->err));
		if (ret)
			return qmp_status(f, ret);
		while (qmp_next_event(&f->q, &ev)) {
			if (trigger(&ev)) {
				print_event(f, &ev);
				read = true;
			}
			qmp_event_free(&ev);
		}
		if (f->o->interval_ms && now_ms() >= next)
			read = true;
		if (!read)
			continue;
		ret = follow_once(f, &changed);
		if (ret)
			return ret;
		f->updates += changed;
		next = now_ms() + f->o->interval_ms;
	}
	return EXIT_OK;
}

int follow(const struct follow_opts *o)
{
	struct follower f = { .o = o, .fd = -1 };
	struct sigaction sa = { .sa_handler = on_signal };
	char version[32];
	bool changed;
	int ret;

	/* no SA_RESTART: a signal ends the wait it lands in */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (qmp_open(&f.q, o->qmp, &stop, f.err, sizeof(f.err))) {
		fprintf(stderr, "physmapctl: %s\n", f.err);
		return EXIT_QMP;
	}
	ret = qmp_status(&f, qmp_handshake(&f.q, QMP_TIMEOUT_MS, f.err,
					   sizeof(f.err)));
	if (ret == EXIT_QMP && strstr(f.err, "no reply"))
		fputs("physmapctl: is another client on that QMP socket? QEMU serves one at a time\n",
		      stderr);
	if (!ret) {
		qmp_version(&f.q, version, sizeof(version), QMP_TIMEOUT_MS);
		if (!o->quiet)
			fprintf(stderr, "physmapctl: following %s%s%s, view %s%s\n",
				o->qmp, *version ? ", QEMU " : "", version,
				o->view ? o->view : "memory",
				o->dry_run ? "; dry run, no device" : "");
	}
	if (!ret && !o->dry_run) {
		f.fd = physmap_open(o->device);
		if (f.fd < 0) {
			const char *hint = physmap_open_hint(errno);

			fprintf(stderr, "physmapctl: cannot open %s: %s\n",
				o->device, strerror(errno));
			if (hint)
				fprintf(stderr, "physmapctl: %s\n", hint);
			ret = EXIT_NODEV;
		}
	}
	if (!ret)
		ret = follow_once(&f, &changed);
	if (!ret)
		ret = follow_loop(&f);
	if (ret == END_EOF || ret == END_STOP) {
		if (!o->quiet)
			fprintf(stderr, "physmapctl: %s after %ld updates, generation %llu\n",
				ret == END_EOF ? "QEMU closed the connection" :
				"stopped by a signal", f.updates,
				(unsigned long long)f.generation);
		ret = EXIT_OK;
	}
	if (f.fd >= 0)
		physmap_close(f.fd);
	qmp_close(&f.q);
	secs_free(f.secs, f.count);
	names_free(&f.names);
	free(f.used);
	return ret;
}
