// SPDX-License-Identifier: GPL-2.0
/*
 * libphysmap_test - libphysmap against /dev/physmap: every function, its
 * results and its errno-style errors. Prints TAP; needs the module loaded.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libphysmap.h"

#define NR_SECTIONS	64
#define NR_BATCH	10000	/* more than PHYSMAP_BATCH_MAX: split */

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

	printf("TAP version 13\n1..22\n");

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

	ok(!physmap_close(fd), "close");
	ok(fails(physmap_lookup(fd, 0, &s, NULL), EBADF) &&
	   fails(physmap_stats(fd, &st), EBADF) &&
	   fails(physmap_close(fd), EBADF),
	   "calls on a closed descriptor: EBADF");
	free(addrs);
	free(indexes);
	return failed ? 1 : 0;
}
