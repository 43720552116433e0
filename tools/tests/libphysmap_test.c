// SPDX-License-Identifier: GPL-2.0
/*
 * libphysmap_test - libphysmap against /dev/physmap: every function, its
 * results and its errno-style errors, and an update of a published map
 * (physmap_begin_update(), physmap_remove()). Prints TAP; needs the module
 * loaded.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "libphysmap.h"

#define NR_SECTIONS	64
#define NR_BATCH	10000	/* more than PHYSMAP_BATCH_MAX: split */

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

static int test_nr, failed;

static void ok(bool cond, const char *fmt, ...)
{
	va_list ap;

	printf("%sok %d - ", cond ? "" : "not ", ++test_nr);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	if (!cond)
		failed++;
}

/* the call failed with -1 and errno err */
static bool fails(int ret, int err)
{
	return ret == -1 && errno == err;
}

/*
 * Sections 4k and 4k + 1 share a page (a 32-byte piece, then the rest from
 * 0x800 on): one sub-page every four sections. A page partly covered by one
 * section alone needs no sub-page.
 */
static __u64 sect_start(unsigned int i)
{
	switch (i % 4) {
	case 0:
		return 0x100000ULL * i + 0x10;
	case 1:
		return 0x100000ULL * (i - 1) + 0x800;
	default:
		return 0x100000ULL * i;
	}
}

static __u64 sect_size(unsigned int i)
{
	return i % 4 ? 0x1000ULL * (i % 7 + 1) : 0x20;
}

/* expected index of addr: section i + 1 covers sect_start(i)... */
static __u32 model(__u64 addr)
{
	unsigned int i;

	for (i = 0; i < NR_SECTIONS; i++)
		if (addr - sect_start(i) < sect_size(i))
			return i + 1;
	return PHYSMAP_UNASSIGNED;
}

/*
 * The update: sections removed from the published map of NR_SECTIONS, in
 * this order, then sections added in their ranges, which get the lowest
 * indexes freed (3, 5, 10; 20 stays free).
 */
static const __u32 removed[] = { 10, 5, 3, 20 };

static const struct {
	__u64 start, size, cookie, offset;
	__u32 index;
} added[] = {
	{ 0x801000, 0x800, 2001, 0x77, 3 },	/* in #10's 0x800800..0x8037ff */
	{ 0x201000, 0x1000, 2002, 0, 5 },	/* in #3's 0x200000..0x202fff */
	{ 0x400020, 0x10, 2003, 0x5, 10 },	/* in #5's 0x400010..0x40002f */
};

/* expected index of addr after the update */
static __u32 model_updated(__u64 addr)
{
	__u32 index = model(addr);
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(added); i++)
		if (addr - added[i].start < added[i].size)
			return added[i].index;
	for (i = 0; i < ARRAY_SIZE(removed); i++)
		if (index == removed[i])
			return PHYSMAP_UNASSIGNED;
	return index;
}

/* Addresses of removed sections that no added section covers. */
static const __u64 holes[] = {
	0x1300000, 0x1305fff,			/* #20, all of it */
	0x800800, 0x800fff, 0x801800, 0x8037ff,	/* #10 around the new #3 */
	0x200000, 0x202fff,			/* #3 around the new #5 */
	0x400010, 0x40001f,			/* #5 before the new #10 */
};

/* BEGIN and REMOVE with flags libphysmap never passes */
static int begin_flags(int fd, __u32 flags)
{
	struct physmap_begin begin = { .flags = flags };

	return ioctl(fd, PHYSMAP_IOC_BEGIN, &begin) ? -1 : 0;
}

static int remove_flags(int fd, __u32 index, __u32 flags)
{
	struct physmap_remove rm = { .index = index, .flags = flags };

	return ioctl(fd, PHYSMAP_IOC_REMOVE, &rm) ? -1 : 0;
}

/*
 * Update the published map of NR_SECTIONS sections (generation 1) on @fd:
 * the errors of physmap_begin_update() and physmap_remove(), indexes
 * freed and reused lowest first, GET_SECTION, STATS and lookups after the
 * commit; and an update with nothing published, on a new descriptor.
 */
static void test_update(int fd, __u64 *addrs, __u32 *indexes)
{
	struct physmap_section s;
	struct physmap_stats st;
	unsigned int i, bad;
	__u32 index, got[ARRAY_SIZE(added)];
	__u64 gen = 99;
	bool all;
	int fd2;

	ok(fails(physmap_remove(fd, 1), EINVAL),
	   "remove with nothing pending: EINVAL");
	fd2 = open(PHYSMAP_DEVICE, O_RDONLY | O_CLOEXEC);
	ok(fd2 >= 0 && fails(physmap_remove(fd2, 1), EBADF) &&
	   fails(physmap_begin_update(fd2, 0), EBADF),
	   "remove and begin_update on an O_RDONLY descriptor: EBADF");
	if (fd2 >= 0)
		close(fd2);
	ok(fails(begin_flags(fd, 2), EINVAL) &&
	   fails(begin_flags(fd, PHYSMAP_BEGIN_UPDATE | 2), EINVAL) &&
	   fails(begin_flags(fd, ~0U), EINVAL),
	   "begin with flags other than PHYSMAP_BEGIN_UPDATE: EINVAL");
	ok(fails(physmap_begin_update(fd, 13), EINVAL) &&
	   fails(physmap_begin_update(fd, PHYSMAP_PAGE_SHIFT_MIN), EINVAL),
	   "begin_update with a page_shift not the published map's (12): EINVAL");
	ok(!physmap_begin_update(fd, 12) && !physmap_begin_update(fd, 0),
	   "begin_update with page_shift 12, then 0");

	ok(fails(remove_flags(fd, 1, 1), EINVAL),
	   "remove with flags 1: EINVAL");
	ok(fails(physmap_remove(fd, 0), ENOENT) &&
	   fails(physmap_remove(fd, NR_SECTIONS + 1), ENOENT) &&
	   fails(physmap_remove(fd, ~0U), ENOENT),
	   "remove of index 0, %u and 0x%x, held by no section: ENOENT",
	   NR_SECTIONS + 1, ~0U);
	all = true;
	for (i = 0; i < ARRAY_SIZE(removed); i++)
		if (physmap_remove(fd, removed[i]))
			all = false;
	ok(all, "remove #%u, #%u, #%u and #%u", removed[0], removed[1],
	   removed[2], removed[3]);
	ok(fails(physmap_remove(fd, removed[0]), ENOENT),
	   "remove #%u again: ENOENT", removed[0]);
	ok(fails(physmap_add(fd, sect_start(3) + 0x100, 0x100, 0, 0, NULL),
		 EEXIST),
	   "add over #4, which the update kept: EEXIST");

	all = true;
	for (i = 0; i < ARRAY_SIZE(added); i++) {
		got[i] = 0;
		if (physmap_add(fd, added[i].start, added[i].size,
				added[i].cookie, added[i].offset, &got[i]) ||
		    got[i] != added[i].index)
			all = false;
	}
	ok(all, "add 3 in freed ranges: #%u, #%u, #%u (want %u, %u, %u: lowest first)",
	   got[0], got[1], got[2], added[0].index, added[1].index,
	   added[2].index);
	ok(!physmap_commit(fd), "commit the update");

	all = !physmap_stats(fd, &st);
	ok(all && st.generation == 2 && st.page_shift == 12 &&
	   st.sections == NR_SECTIONS - ARRAY_SIZE(removed) + ARRAY_SIZE(added),
	   "stats: generation %llu, %u sections (want 2, %zu)",
	   (unsigned long long)st.generation, st.sections,
	   NR_SECTIONS - ARRAY_SIZE(removed) + ARRAY_SIZE(added));
	ok(fails(physmap_get_section(fd, 20, &s), ENOENT) &&
	   !physmap_get_section(fd, NR_SECTIONS, &s) &&
	   s.start == sect_start(NR_SECTIONS - 1),
	   "get_section of #20, removed, below the highest #%u: ENOENT",
	   NR_SECTIONS);
	ok(!physmap_get_section(fd, added[0].index, &s) &&
	   s.index == added[0].index && s.start == added[0].start &&
	   s.size == added[0].size && s.cookie == added[0].cookie &&
	   s.offset == added[0].offset,
	   "get_section of #%u: the section added in its place",
	   added[0].index);

	for (bad = 0, i = 0; i < ARRAY_SIZE(holes); i++)
		if (physmap_lookup(fd, holes[i], &s, NULL) ||
		    s.index != PHYSMAP_UNASSIGNED ||
		    model_updated(holes[i]) != PHYSMAP_UNASSIGNED)
			bad++;
	ok(!bad, "lookups in removed ranges no added section covers: unassigned (%u wrong of %zu)",
	   bad, ARRAY_SIZE(holes));
	for (bad = 0, i = 0; i < ARRAY_SIZE(added); i++) {
		__u64 last = added[i].start + added[i].size - 1;

		if (physmap_lookup(fd, added[i].start, &s, &gen) ||
		    s.index != added[i].index || s.start != added[i].start ||
		    s.size != added[i].size || s.cookie != added[i].cookie ||
		    s.offset != added[i].offset || gen != 2 ||
		    physmap_lookup(fd, last, &s, NULL) ||
		    s.index != added[i].index)
			bad++;
	}
	ok(!bad, "lookups of added sections' first, last bytes: fields, generation 2 (%u wrong)",
	   bad);
	ok(!physmap_lookup(fd, sect_start(3), &s, NULL) && s.index == 4 &&
	   s.cookie == 1003 &&
	   !physmap_lookup(fd, sect_start(10), &s, NULL) && s.index == 11 &&
	   s.cookie == 1010,
	   "lookups of sections the update kept (#4, #11): theirs");
	gen = 99;
	all = !physmap_lookup_batch(fd, addrs, indexes, NR_BATCH, &gen);
	for (bad = 0, i = 0; all && i < NR_BATCH; i++)
		if (indexes[i] != model_updated(addrs[i]))
			bad++;
	ok(all && !bad && gen == 2,
	   "batch after the update answers as the updated model: %u wrong",
	   bad);

	/* a second update: a BEGIN drops the pending map and its removal */
	all = !physmap_begin_update(fd, 0) && !physmap_remove(fd, 1) &&
	      !physmap_begin_update(fd, 0);
	index = 0;
	all = all && !physmap_add(fd, 0x7000000000ULL, 0x1000, 3001, 0, &index);
	ok(all && index == 20,
	   "begin_update drops an update begun: the next add gets #%u (want 20, not 1)",
	   index);
	index = 0;
	all = !physmap_add(fd, 0x7000001000ULL, 0x1000, 3002, 0, &index);
	ok(all && index == NR_SECTIONS + 1,
	   "then an add gets #%u (want %u): no index is free",
	   index, NR_SECTIONS + 1);
	all = !physmap_commit(fd) && !physmap_stats(fd, &st);
	ok(all && st.generation == 3 &&
	   st.sections == NR_SECTIONS - ARRAY_SIZE(removed) +
			  ARRAY_SIZE(added) + 2 &&
	   !physmap_get_section(fd, 1, &s) && s.start == sect_start(0) &&
	   !physmap_lookup(fd, 0x7000000fffULL, &s, NULL) && s.index == 20 &&
	   s.cookie == 3001,
	   "commit: generation %llu, %u sections, #1 kept, #20 the new one",
	   (unsigned long long)st.generation, st.sections);

	fd2 = physmap_open(NULL);
	index = 0;
	all = fd2 >= 0 && !physmap_begin_update(fd2, 0) &&
	      !physmap_add(fd2, 0x1000, 0x1000, 7, 0, &index) && index == 1 &&
	      !physmap_commit(fd2) && !physmap_stats(fd2, &st);
	ok(all && st.generation == 1 && st.sections == 1 &&
	   st.page_shift == PHYSMAP_PAGE_SHIFT_DEFAULT,
	   "begin_update with nothing published: an empty map, #1 the first added");
	if (fd2 >= 0)
		physmap_close(fd2);
}

static FILE *debugfs_open(const char *dir, const char *name)
{
	char path[PATH_MAX + 16];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return fopen(path, "re");
}

/* Whether a line of @dir/@name starts with @prefix. */
static bool debugfs_has(const char *dir, const char *name, const char *prefix)
{
	char line[512];
	bool found = false;
	FILE *f = debugfs_open(dir, name);

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = !strncmp(line, prefix, strlen(prefix));
	fclose(f);
	return found;
}

/* The number after "@key:" in @dir/shape, or ~0ULL. */
static unsigned long long shape_value(const char *dir, const char *key)
{
	unsigned long long value = ~0ULL;
	char line[256], k[64];
	FILE *f = debugfs_open(dir, "shape");

	if (!f)
		return value;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%63[a-z_]: %llu", k, &value) == 2 &&
		    !strcmp(k, key))
			break;
		value = ~0ULL;
	}
	fclose(f);
	return value;
}

/*
 * Sub-pages of the debugfs dump whose first piece is not the section the
 * model has there; *@count is set to the number of sub-pages.
 */
static unsigned int dump_subpages_wrong(const char *dir, unsigned int *count)
{
	unsigned long long base;
	unsigned int start, section, bad = 0;
	char line[512];
	FILE *f = debugfs_open(dir, "dump");

	*count = 0;
	if (!f)
		return 1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, " S%*u @%llx..%*x: %x..%*x #%u", &base, &start,
			   &section) != 3)
			continue;
		(*count)++;
		bad += model(base | start) != section;
	}
	fclose(f);
	return bad;
}

int main(void)
{
	char dir[PATH_MAX];
	struct physmap_section s;
	struct physmap_stats st;
	__u64 *addrs, gen = 99;
	__u32 *indexes, index;
	unsigned int i, bad;
	bool all;
	int fd;

	printf("TAP version 13\n1..45\n");

	ok(fails(physmap_open("/nonexistent/physmap"), ENOENT) &&
	   physmap_open_hint(ENOENT) &&
	   strstr(physmap_open_hint(ENOENT), "sudo modprobe physmap"),
	   "open of a missing node: -1 ENOENT, and the modprobe hint");
	fd = physmap_open(NULL);
	ok(fd >= 0, "open " PHYSMAP_DEVICE ": %s", fd < 0 ? strerror(errno) : "ok");
	if (fd < 0) {
		printf("Bail out! no device\n");
		return 1;
	}
	ok(fails(physmap_commit(fd), EINVAL), "commit with nothing pending: EINVAL");
	ok(!physmap_debugfs_dir(fd, dir, sizeof(dir)) &&
	   debugfs_has(dir, "dump", "physmap: nothing published"),
	   "debugfs dump before a commit: nothing published");
	ok(fails(physmap_begin(fd, PHYSMAP_PAGE_SHIFT_MIN - 1), EINVAL) &&
	   fails(physmap_begin(fd, PHYSMAP_PAGE_SHIFT_MAX + 1), EINVAL),
	   "begin with page_shift %u or %u: EINVAL", PHYSMAP_PAGE_SHIFT_MIN - 1,
	   PHYSMAP_PAGE_SHIFT_MAX + 1);
	ok(!physmap_begin(fd, 12), "begin with page_shift 12");

	all = true;
	for (i = 0; i < NR_SECTIONS; i++) {
		index = 0;
		if (physmap_add(fd, sect_start(i), sect_size(i), 1000 + i,
				0x10 * i, &index) || index != i + 1)
			all = false;
	}
	ok(all, "add %u sections: indexes 1..%u", NR_SECTIONS, NR_SECTIONS);
	ok(fails(physmap_add(fd, sect_start(5) + 1, 1, 0, 0, NULL), EEXIST),
	   "add overlapping a pending section: EEXIST");
	ok(fails(physmap_add(fd, 0x7000000000ULL, 0, 0, 0, NULL), EINVAL) &&
	   fails(physmap_add(fd, ~0ULL, 2, 0, 0, NULL), EINVAL),
	   "add of size 0 or past 2^64 - 1: EINVAL");
	ok(!physmap_commit(fd), "commit");

	/* the call comes first: the order of evaluation of arguments is not */
	all = !physmap_stats(fd, &st);
	ok(all && st.generation == 1 &&
	   st.sections == NR_SECTIONS && st.page_shift == 12 && st.bytes > 0,
	   "stats: generation %llu, %u sections, %llu bytes",
	   (unsigned long long)st.generation, st.sections,
	   (unsigned long long)st.bytes);

	ok(!physmap_lookup(fd, sect_start(9) + 5, &s, &gen) && s.index == 10 &&
	   s.start == sect_start(9) && s.size == sect_size(9) &&
	   s.cookie == 1009 && s.offset == 0x90 && gen == 1,
	   "lookup inside section 10: its fields, generation 1");
	ok(!physmap_lookup(fd, sect_start(8) + 0x30, &s, NULL) &&
	   s.index == PHYSMAP_UNASSIGNED && !s.start && !s.size && !s.cookie,
	   "lookup in a sub-page, next to a section: unassigned, all 0");

	addrs = calloc(NR_BATCH, sizeof(*addrs));
	indexes = calloc(NR_BATCH, sizeof(*indexes));
	if (!addrs || !indexes) {
		printf("Bail out! out of memory\n");
		return 1;
	}
	for (i = 0; i < NR_BATCH; i++)
		addrs[i] = sect_start(i % NR_SECTIONS) + (i * 7 % 0x1800) - 8;
	gen = 99;
	ok(!physmap_lookup_batch(fd, addrs, indexes, NR_BATCH, &gen) && gen == 1,
	   "batch of %u addresses (split in %u ioctls)", NR_BATCH,
	   (NR_BATCH + PHYSMAP_BATCH_MAX - 1) / PHYSMAP_BATCH_MAX);
	for (bad = 0, i = 0; i < NR_BATCH; i++)
		if (indexes[i] != model(addrs[i]))
			bad++;
	ok(!bad, "batch answers as the model: %u wrong", bad);
	ok(!physmap_lookup_batch(fd, addrs, indexes, 0, &gen) && gen == 1,
	   "batch of 0 addresses");

	ok(fails(physmap_get_section(fd, 0, &s), ENOENT) &&
	   fails(physmap_get_section(fd, NR_SECTIONS + 1, &s), ENOENT),
	   "get_section 0 and past the last: ENOENT");
	ok(!physmap_get_section(fd, NR_SECTIONS, &s) &&
	   s.index == NR_SECTIONS && s.start == sect_start(NR_SECTIONS - 1) &&
	   s.cookie == 1000 + NR_SECTIONS - 1,
	   "get_section of the last section");

	ok(shape_value(dir, "sections") == st.sections &&
	   shape_value(dir, "bytes") == st.bytes &&
	   shape_value(dir, "generation") == 1 && shape_value(dir, "nodes") > 0,
	   "debugfs shape: generation, sections and bytes as STATS says");
	bad = dump_subpages_wrong(dir, &i);
	ok(!bad && i == NR_SECTIONS / 4,
	   "debugfs dump: %u sub-pages, each one's first piece its section's", i);

	test_update(fd, addrs, indexes);

	ok(!physmap_close(fd), "close");
	ok(fails(physmap_lookup(fd, 0, &s, NULL), EBADF) &&
	   fails(physmap_stats(fd, &st), EBADF) &&
	   fails(physmap_close(fd), EBADF),
	   "calls on a closed descriptor: EBADF");
	free(addrs);
	free(indexes);
	return failed ? 1 : 0;
}
