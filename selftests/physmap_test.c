// SPDX-License-Identifier: GPL-2.0
/*
 * physmap_test.c - /dev/physmap against its UAPI contract (physmap_ioctl.h)
 *
 * Every error case checks the errno and that nothing changed: the pending map
 * (the next ADD gets the next index, COMMIT publishes exactly the sections
 * added before) and the published map (generation, sections, lookups).
 *
 * The tree's shape and its dump are in debugfs (not ABI): the tests of them
 * (stats_plausible, dump_*, debugfs_dir_per_open_file) SKIP when debugfs is
 * not mounted at /sys/kernel/debug or not readable; others leave out what
 * they only look at in passing, and say so.
 *
 * Environment: PHYSMAP_MAPS, the directory of the QEMU map files
 * (default testdata/qemu-7.2, or ../testdata/qemu-7.2).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdbool.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* the 6.1 harness has an unused parameter; keep -Wextra for the rest */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "kselftest_harness.h"
#pragma GCC diagnostic pop
#include "physmap_maps.h"
#include "physmap_ksft.h"
#include "physmap_params.h"

#define MIB		(1ULL << 20)
#define GIB		(1ULL << 30)
#define TIB		(1ULL << 40)
#define TOP		(~0ULL)

/* mismatches a check logs; it counts them all */
#define MAX_LOGGED	10
/* most sections a check reads one by one with GET_SECTION and LOOKUP */
#define MAX_SINGLE	2048

#define DEFAULT_MAPS_DIR	"testdata/qemu-7.2"
#define MIN_MAP_FILES		20
#define LEAK_MAP_FILE		"q35_big.booted.memory.txt"
#define LEAK_COMMITS		1000
#define LEAK_LIMIT_KIB		(8 * 1024)
#define MAX_SECTIONS_TEST	64U

/* a pointer to the top page of the address space: never a user address */
#define KERNEL_PTR		((void *)~(uintptr_t)0xfff)

struct addr_list {
	__u64 *addrs;
	size_t count;
	size_t capacity;
};

static int raw_ioctl(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) ? -errno : 0;
}

static int begin_flags(int fd, __u32 page_shift, __u32 flags)
{
	struct physmap_begin begin = { .page_shift = page_shift, .flags = flags };

	return raw_ioctl(fd, PHYSMAP_IOC_BEGIN, &begin);
}

static int add_flags(int fd, __u64 start, __u64 size, __u32 flags)
{
	struct physmap_section section = {
		.start = start, .size = size, .flags = flags,
	};

	return raw_ioctl(fd, PHYSMAP_IOC_ADD, &section);
}

static void addrs_push(struct __test_metadata *_metadata,
		       struct addr_list *list, __u64 addr)
{
	if (list->count == list->capacity) {
		size_t capacity = list->capacity ? 2 * list->capacity : 4096;
		__u64 *addrs = realloc(list->addrs, capacity * sizeof(*addrs));

		ASSERT_NE(NULL, addrs);
		list->addrs = addrs;
		list->capacity = capacity;
	}
	list->addrs[list->count++] = addr;
}

/* count addresses drawn uniformly from [lo, hi] */
static void addrs_push_random(struct __test_metadata *_metadata,
			      struct addr_list *list, __u64 seed, __u64 lo,
			      __u64 hi, size_t count)
{
	while (count--) {
		__u64 r = pm_rand64(&seed);

		if (hi - lo != TOP)
			r = lo + r % (hi - lo + 1);
		addrs_push(_metadata, list, r);
	}
}

/* the first and last byte of every range, the bytes around, the middle */
static void addrs_push_edges(struct __test_metadata *_metadata,
			     struct addr_list *list, const struct pm_map *map)
{
	size_t i;

	addrs_push(_metadata, list, 0);
	addrs_push(_metadata, list, TOP);
	for (i = 0; i < map->count; i++) {
		const struct pm_range *r = &map->ranges[i];

		addrs_push(_metadata, list, r->start);
		addrs_push(_metadata, list, r->last);
		addrs_push(_metadata, list, r->start - 1);
		addrs_push(_metadata, list, r->last + 1);
		addrs_push(_metadata, list, r->start + (r->last - r->start) / 2);
	}
}

/* build the model's address index, asserting the test's map is sane */
static void model_build(struct __test_metadata *_metadata, struct pm_map *map)
{
	const struct pm_range *overlap = NULL;

	ASSERT_EQ(0, pm_model_build(map, &overlap))
		TH_LOG("test bug: range %u overlaps another",
		       overlap ? overlap->index : 0);
}

/* ADD [start, start + size - 1] expecting success, and record it in map */
static void add_ok(struct __test_metadata *_metadata, int fd,
		   struct pm_map *map, __u64 start, __u64 size)
{
	__u64 cookie = 0xc0c0000000000000ULL + 17 * (map->count + 1);
	__u64 offset = 0x0ff0000000ULL + 3 * (map->count + 1);
	__u32 index = PM_POISON32;
	int ret;

	ret = pm_add(fd, start, size, cookie, offset, &index);
	ASSERT_EQ(0, ret)
		TH_LOG("ADD [%#llx +%#llx]: %s", start, size, strerror(-ret));
	ASSERT_EQ(0, pm_map_append(map, start, start + size - 1, cookie,
				   offset));
	/* the lowest index no section holds */
	ASSERT_EQ(map->ranges[map->count - 1].index, index)
		TH_LOG("ADD [%#llx +%#llx] got index %u", start, size, index);
}

/* REMOVE index expecting success, and take it out of map */
static void remove_ok(struct __test_metadata *_metadata, int fd,
		      struct pm_map *map, __u32 index)
{
	int ret = pm_remove(fd, index);

	ASSERT_EQ(0, ret) TH_LOG("REMOVE %u: %s", index, strerror(-ret));
	ASSERT_EQ(0, pm_map_remove_index(map, index))
		TH_LOG("test bug: no section %u in the model", index);
}

/* a copy of map's ranges with their indexes: an update's pending model */
static void model_copy(struct __test_metadata *_metadata, struct pm_map *dst,
		       const struct pm_map *src)
{
	size_t i;

	pm_map_init(dst);
	for (i = 0; i < src->count; i++) {
		const struct pm_range *r = &src->ranges[i];

		ASSERT_EQ(0, pm_map_append(dst, r->start, r->last, r->cookie,
					   r->offset));
		dst->ranges[i].index = r->index;
	}
	dst->max_index = src->max_index;
}

/* ADD expecting -err (flags 0) */
static void add_fails(struct __test_metadata *_metadata, int fd, __u64 start,
		      __u64 size, int err)
{
	int ret = pm_add(fd, start, size, 0x5a5a, 0x5a5a, NULL);

	ASSERT_EQ(-err, ret)
		TH_LOG("ADD [%#llx +%#llx]: got %s, expected %s", start, size,
		       strerror(-ret), strerror(err));
}

static void commit_ok(struct __test_metadata *_metadata, int fd)
{
	int ret = pm_commit(fd);

	ASSERT_EQ(0, ret) TH_LOG("COMMIT: %s", strerror(-ret));
}

static void publish(struct __test_metadata *_metadata, int fd,
		    const struct pm_map *map, __u32 page_shift)
{
	const struct pm_range *failed;
	int ret;

	ret = pm_map_publish(fd, map, page_shift, &failed);
	ASSERT_EQ(0, ret)
		TH_LOG("publishing %zu sections (page_shift %u): %s at %s %u",
		       map->count, page_shift, strerror(-ret),
		       failed ? "section" : "BEGIN/COMMIT",
		       failed ? failed->index : 0);
}

static void get_stats(struct __test_metadata *_metadata, int fd,
		      struct physmap_stats *stats)
{
	int ret = pm_stats(fd, stats);

	ASSERT_EQ(0, ret) TH_LOG("STATS: %s", strerror(-ret));
}

/*
 * The tree's shape is in debugfs (not ABI). A test that needs it SKIPs when
 * pm_debugfs_unusable(); one that only looks at it in passing leaves those
 * checks out and says so.
 */

static void get_shape(struct __test_metadata *_metadata, int fd,
		      struct pm_shape *shape)
{
	char why[256] = "";

	ASSERT_EQ(0, pm_shape_read(fd, shape, why, sizeof(why)))
		TH_LOG("debugfs shape: %s", why);
}

static void get_dump(struct __test_metadata *_metadata, int fd,
		     struct pm_dump *dump)
{
	char why[256] = "";

	ASSERT_EQ(0, pm_dump_read(fd, dump, why, sizeof(why)))
		TH_LOG("debugfs dump: %s", why);
}

/*
 * STATS and the debugfs shape, which must agree on what both show. Returns
 * false, with the shape all 0, when debugfs cannot be read here.
 */
static bool get_stats_shape(struct __test_metadata *_metadata, int fd,
			    struct physmap_stats *stats,
			    struct pm_shape *shape)
{
	char why[256];

	memset(shape, 0, sizeof(*shape));
	get_stats(_metadata, fd, stats);
	if (pm_debugfs_unusable(fd, why, sizeof(why))) {
		TH_LOG("shape checks left out: %s", why);
		return false;
	}
	get_shape(_metadata, fd, shape);
	ASSERT_EQ(stats->generation, shape->generation);
	if (!stats->generation)
		return true;
	ASSERT_EQ(stats->sections, shape->sections);
	ASSERT_EQ(stats->bytes, shape->bytes);
	ASSERT_EQ(stats->page_shift, shape->page_shift);
	return true;
}

static void log_stats(struct __test_metadata *_metadata, int fd,
		      const char *what)
{
	struct physmap_stats st;
	struct pm_shape sh;
	char why[256] = "";

	get_stats(_metadata, fd, &st);
	TH_LOG("%s: generation %llu page_shift %u sections %u bytes %llu",
	       what, (unsigned long long)st.generation, st.page_shift,
	       st.sections, (unsigned long long)st.bytes);
	if (pm_debugfs_unusable(fd, why, sizeof(why)) ||
	    pm_shape_read(fd, &sh, why, sizeof(why))) {
		TH_LOG("%s: no shape: %s", what, why);
		return;
	}
	TH_LOG("%s: shape: nodes %llu (%llu bytes each) levels %llu subpages %llu subpage_ranges %llu skip_entries %llu skipped_levels %llu max_depth %llu",
	       what, sh.nodes, sh.node_bytes, sh.levels, sh.subpages,
	       sh.subpage_ranges, sh.skip_entries, sh.skipped_levels,
	       sh.max_depth);
}

/* one LOOKUP: every field as the model says, from generation gen */
static void check_lookup(struct __test_metadata *_metadata, int fd,
			 const struct pm_map *map, __u64 addr, __u64 gen)
{
	const struct pm_range *r = pm_model_lookup(map, addr);
	struct physmap_lookup lookup;
	int ret;

	ret = pm_lookup(fd, addr, &lookup);
	ASSERT_EQ(0, ret) TH_LOG("LOOKUP %#llx: %s", addr, strerror(-ret));
	ASSERT_EQ(gen, lookup.generation) TH_LOG("LOOKUP %#llx", addr);
	ASSERT_EQ(r ? r->index : 0, lookup.section.index)
		TH_LOG("LOOKUP %#llx", addr);
	ASSERT_EQ(r ? r->start : 0, lookup.section.start)
		TH_LOG("LOOKUP %#llx", addr);
	ASSERT_EQ(r ? r->last - r->start + 1 : 0, lookup.section.size)
		TH_LOG("LOOKUP %#llx", addr);
	ASSERT_EQ(r ? r->cookie : 0, lookup.section.cookie)
		TH_LOG("LOOKUP %#llx", addr);
	ASSERT_EQ(r ? r->offset : 0, lookup.section.offset)
		TH_LOG("LOOKUP %#llx", addr);
	ASSERT_EQ(0U, lookup.section.flags) TH_LOG("LOOKUP %#llx", addr);
}

/* LOOKUP_BATCH over every address: indexes as the model says, from gen */
static void check_addrs(struct __test_metadata *_metadata, int fd,
			const struct pm_map *map, const __u64 *addrs,
			size_t count, __u64 gen)
{
	__u32 *indexes = malloc(PHYSMAP_BATCH_MAX * sizeof(*indexes));
	size_t done, wrong = 0;

	ASSERT_NE(NULL, indexes);
	for (done = 0; done < count; done += PHYSMAP_BATCH_MAX) {
		__u32 n = count - done < PHYSMAP_BATCH_MAX ?
			  count - done : PHYSMAP_BATCH_MAX;
		__u64 batch_gen = PM_POISON64;
		__u32 i;
		int ret;

		memset(indexes, PM_POISON, n * sizeof(*indexes));
		ret = pm_lookup_batch(fd, addrs + done, indexes, n, &batch_gen);
		ASSERT_EQ(0, ret)
			TH_LOG("LOOKUP_BATCH of %u: %s", n, strerror(-ret));
		ASSERT_EQ(gen, batch_gen);
		for (i = 0; i < n; i++) {
			__u64 addr = addrs[done + i];
			__u32 expected = pm_model_index(map, addr);

			if (indexes[i] == expected)
				continue;
			if (wrong++ < MAX_LOGGED)
				TH_LOG("LOOKUP_BATCH %#llx: index %u, expected %u",
				       addr, indexes[i], expected);
		}
	}
	free(indexes);
	ASSERT_EQ(0UL, wrong) TH_LOG("%zu of %zu addresses wrong", wrong, count);
}

/*
 * The published map is exactly map, with generation gen: STATS, every
 * section by GET_SECTION (a sample of big maps), nothing past the last index
 * nor at the indexes of removed sections,
 * and lookups at and around every section, some of them one by one.
 */
static void check_published(struct __test_metadata *_metadata, int fd,
			    struct pm_map *map, __u64 gen)
{
	size_t step = map->count > MAX_SINGLE ? map->count / MAX_SINGLE : 1;
	struct addr_list list = { 0 };
	struct physmap_section section;
	struct physmap_stats stats;
	size_t i;

	model_build(_metadata, map);
	get_stats(_metadata, fd, &stats);
	ASSERT_EQ(gen, stats.generation);
	ASSERT_EQ(map->count, stats.sections);

	for (i = 0; i < map->count; i += step) {
		const struct pm_range *r = &map->ranges[i];
		int ret = pm_get_section(fd, r->index, &section);

		ASSERT_EQ(0, ret)
			TH_LOG("GET_SECTION %u: %s", r->index, strerror(-ret));
		ASSERT_EQ(r->start, section.start);
		ASSERT_EQ(r->last - r->start + 1, section.size);
		ASSERT_EQ(r->cookie, section.cookie);
		ASSERT_EQ(r->offset, section.offset);
		ASSERT_EQ(0U, section.flags);
		ASSERT_EQ(r->index, section.index);
	}
	ASSERT_EQ(-ENOENT, pm_get_section(fd, 0, &section));
	ASSERT_EQ(-ENOENT, pm_get_section(fd, map->max_index + 1, &section));
	/* the indexes of removed sections, below the highest */
	for (i = 1; map->max_index != map->count && i < map->max_index; i++)
		if (!pm_map_find_index(map, i))
			ASSERT_EQ(-ENOENT, pm_get_section(fd, i, &section))
				TH_LOG("GET_SECTION %zu, a hole", i);

	addrs_push_edges(_metadata, &list, map);
	check_addrs(_metadata, fd, map, list.addrs, list.count, gen);
	free(list.addrs);

	check_lookup(_metadata, fd, map, 0, gen);
	check_lookup(_metadata, fd, map, TOP, gen);
	for (i = 0; i < map->count; i += step) {
		const struct pm_range *r = &map->ranges[i];

		check_lookup(_metadata, fd, map, r->start, gen);
		check_lookup(_metadata, fd, map, r->last, gen);
		check_lookup(_metadata, fd, map, r->last + 1, gen);
	}
}

/* nothing is pending: COMMIT fails and changes nothing */
static void check_nothing_pending(struct __test_metadata *_metadata, int fd,
				  struct pm_map *published, __u64 gen)
{
	ASSERT_EQ(-EINVAL, pm_commit(fd));
	check_published(_metadata, fd, published, gen);
}

/*
 * Bad user pointers: three pages in a row, the first read-only, the second
 * writable, the third unmapped (the second runs into it).
 */
struct bad_mem {
	size_t page;
	char *ro_page;
	char *unmapped;
	char *straddle_end;
};

static void bad_mem_init(struct __test_metadata *_metadata, struct bad_mem *bm)
{
	unsigned char vec;
	char *p;

	bm->page = sysconf(_SC_PAGESIZE);
	p = mmap(NULL, 3 * bm->page, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, p);
	bm->ro_page = p;
	ASSERT_EQ(0, mprotect(bm->ro_page, bm->page, PROT_READ));
	bm->unmapped = p + 2 * bm->page;
	bm->straddle_end = bm->unmapped;
	ASSERT_EQ(0, munmap(bm->unmapped, bm->page));
	ASSERT_EQ(-1, mincore(bm->unmapped, bm->page, &vec));
	ASSERT_EQ(ENOMEM, errno);
}

/* a copy of size bytes of src on the read-only page */
static void *bad_mem_ro(struct __test_metadata *_metadata, struct bad_mem *bm,
			const void *src, size_t size)
{
	ASSERT_EQ(0, mprotect(bm->ro_page, bm->page, PROT_READ | PROT_WRITE));
	memcpy(bm->ro_page, src, size);
	ASSERT_EQ(0, mprotect(bm->ro_page, bm->page, PROT_READ));
	return bm->ro_page;
}

/* size bytes whose first half (a copy of src's) is mapped, second half not */
static void *bad_mem_straddle(struct bad_mem *bm, const void *src, size_t size)
{
	char *p = bm->straddle_end - size / 2;

	memcpy(p, src, size / 2);
	return p;
}

/*
 * cmd with arg at every kind of bad pointer: EFAULT. arg is a valid argument;
 * if the ioctl writes its argument back, a read-only copy must fail too.
 */
static void check_efault(struct __test_metadata *_metadata, int fd,
			 struct bad_mem *bm, const char *name,
			 unsigned long cmd, const void *arg, size_t size,
			 bool writes_back)
{
	ASSERT_EQ(-EFAULT, raw_ioctl(fd, cmd, NULL)) TH_LOG("%s NULL", name);
	ASSERT_EQ(-EFAULT, raw_ioctl(fd, cmd, bm->unmapped))
		TH_LOG("%s unmapped", name);
	ASSERT_EQ(-EFAULT, raw_ioctl(fd, cmd, KERNEL_PTR))
		TH_LOG("%s kernel address", name);
	ASSERT_EQ(-EFAULT, raw_ioctl(fd, cmd, bad_mem_straddle(bm, arg, size)))
		TH_LOG("%s half unmapped", name);
	if (writes_back)
		ASSERT_EQ(-EFAULT,
			  raw_ioctl(fd, cmd, bad_mem_ro(_metadata, bm, arg, size)))
			TH_LOG("%s read-only", name);
}

static const char *maps_dir(void)
{
	const char *dir = getenv("PHYSMAP_MAPS");
	struct stat st;

	if (dir)
		return dir;
	if (!stat(DEFAULT_MAPS_DIR, &st))
		return DEFAULT_MAPS_DIR;
	return "../" DEFAULT_MAPS_DIR;
}

static void load_map(struct __test_metadata *_metadata, struct pm_map *map,
		     const char *dir, const char *file)
{
	char path[PATH_MAX], err[PATH_MAX + 128];

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	pm_map_init(map);
	ASSERT_EQ(0, pm_map_load(map, path, 1000, err, sizeof(err)))
		TH_LOG("%s (set PHYSMAP_MAPS to the map directory)", err);
	model_build(_metadata, map);
}

static int is_map_file(const struct dirent *d)
{
	size_t len = strlen(d->d_name);

	return (len > 11 && !strcmp(d->d_name + len - 11, ".memory.txt")) ||
	       (len > 7 && !strcmp(d->d_name + len - 7, ".io.txt"));
}

/* MemAvailable in KiB */
static long long mem_available_kib(struct __test_metadata *_metadata)
{
	long long kib = -1;
	char line[256];
	FILE *f = fopen("/proc/meminfo", "r");

	ASSERT_NE(NULL, f);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "MemAvailable: %lld kB", &kib) == 1)
			break;
	fclose(f);
	ASSERT_LE(0, kib) TH_LOG("no MemAvailable in /proc/meminfo");
	return kib;
}

FIXTURE(physmap) {
	int fd;
};

FIXTURE_SETUP(physmap)
{
	self->fd = open_physmap(_metadata);
}

FIXTURE_TEARDOWN(physmap)
{
	close(self->fd);
}

/* the tests whose tree shape depends on page_shift run under three */
FIXTURE(physmap_ps) {
	int fd;
};

FIXTURE_VARIANT(physmap_ps) {
	__u32 page_shift;
};

FIXTURE_VARIANT_ADD(physmap_ps, shift10) {
	.page_shift = 10,
};

FIXTURE_VARIANT_ADD(physmap_ps, shift12) {
	.page_shift = 12,
};

FIXTURE_VARIANT_ADD(physmap_ps, shift16) {
	.page_shift = 16,
};

FIXTURE_SETUP(physmap_ps)
{
	self->fd = open_physmap(_metadata);
}

FIXTURE_TEARDOWN(physmap_ps)
{
	close(self->fd);
}

TEST_F(physmap, fresh_fd_is_unassigned)
{
	static const __u64 addrs[] = {
		0, 1, 0xfff, 0x1000, 0xfee00000, 1ULL << 32, TIB,
		1ULL << 63, TOP - 1, TOP,
	};
	struct pm_map empty;
	size_t i;

	pm_map_init(&empty);
	model_build(_metadata, &empty);
	for (i = 0; i < ARRAY_SIZE(addrs); i++)
		check_lookup(_metadata, self->fd, &empty, addrs[i], 0);
	check_addrs(_metadata, self->fd, &empty, addrs, ARRAY_SIZE(addrs), 0);
	check_published(_metadata, self->fd, &empty, 0);
}

TEST_F(physmap, begin_commit_publishes_empty_map)
{
	struct pm_map empty, map;
	struct physmap_stats stats;

	pm_map_init(&empty);
	pm_map_init(&map);
	ASSERT_EQ(0, pm_begin(self->fd, 12));
	commit_ok(_metadata, self->fd);
	check_published(_metadata, self->fd, &empty, 1);
	get_stats(_metadata, self->fd, &stats);
	ASSERT_EQ(12U, stats.page_shift);

	/* a map, then an empty one replaces it */
	ASSERT_EQ(0, pm_begin(self->fd, 16));
	add_ok(_metadata, self->fd, &map, 0x100000, 0x10000);
	add_ok(_metadata, self->fd, &map, 0x1ff0, 0x20);
	commit_ok(_metadata, self->fd);
	check_published(_metadata, self->fd, &map, 2);

	ASSERT_EQ(0, pm_begin(self->fd, 0));
	commit_ok(_metadata, self->fd);
	check_published(_metadata, self->fd, &empty, 3);
	get_stats(_metadata, self->fd, &stats);
	ASSERT_EQ(12U, stats.page_shift);
	pm_map_free(&map);
}

TEST_F(physmap, commit_without_pending_map)
{
	struct pm_map empty, map;

	pm_map_init(&empty);
	pm_map_init(&map);
	check_nothing_pending(_metadata, self->fd, &empty, 0);

	add_ok(_metadata, self->fd, &map, 0, 0x1000);
	add_ok(_metadata, self->fd, &map, 0x1000, 0x10);
	add_ok(_metadata, self->fd, &map, TOP, 1);
	commit_ok(_metadata, self->fd);
	check_published(_metadata, self->fd, &map, 1);
	check_nothing_pending(_metadata, self->fd, &map, 1);

	ASSERT_EQ(0, pm_begin(self->fd, 12));
	commit_ok(_metadata, self->fd);
	check_nothing_pending(_metadata, self->fd, &empty, 2);
	pm_map_free(&map);
}

TEST_F(physmap, add_indexes_restart_after_commit)
{
	struct pm_map empty, first, second;

	pm_map_init(&empty);
	pm_map_init(&first);
	pm_map_init(&second);

	/* ADD without BEGIN starts a map; pending sections are not visible */
	add_ok(_metadata, self->fd, &first, 0x5000, 0x1000);
	add_ok(_metadata, self->fd, &first, 0x1000, 0x1000);
	add_ok(_metadata, self->fd, &first, 0x3000, 0x800);
	check_published(_metadata, self->fd, &empty, 0);
	commit_ok(_metadata, self->fd);
	check_published(_metadata, self->fd, &first, 1);

	/* after COMMIT the next ADD starts a new map at index 1 */
	add_ok(_metadata, self->fd, &second, 0x3000, 0x2000);
	add_ok(_metadata, self->fd, &second, GIB, GIB);
	check_published(_metadata, self->fd, &first, 1);
	commit_ok(_metadata, self->fd);
	check_published(_metadata, self->fd, &second, 2);
	pm_map_free(&first);
	pm_map_free(&second);
}

TEST_F(physmap, page_shift_reported)
{
	static const __u32 shifts[] = { 0, 10, 11, 12, 13, 14, 15, 16 };
	struct physmap_stats stats;
	struct pm_map map;
	size_t i;

	pm_map_init(&map);
	ASSERT_EQ(0, pm_map_append(&map, 0x10000, 0x1ffff, 1, 2));
	for (i = 0; i < ARRAY_SIZE(shifts); i++) {
		publish(_metadata, self->fd, &map, shifts[i]);
		get_stats(_metadata, self->fd, &stats);
		ASSERT_EQ(i + 1, stats.generation);
		ASSERT_EQ(shifts[i] ? shifts[i] : PHYSMAP_PAGE_SHIFT_DEFAULT,
			  stats.page_shift);
	}

	/* an ADD with no pending map begins one with page_shift 12 */
	ASSERT_EQ(0, pm_begin(self->fd, 16));
	commit_ok(_metadata, self->fd);
	ASSERT_EQ(0, pm_add(self->fd, 0x10000, 0x10000, 1, 2, NULL));
	commit_ok(_metadata, self->fd);
	get_stats(_metadata, self->fd, &stats);
	ASSERT_EQ(12U, stats.page_shift);
	check_published(_metadata, self->fd, &map, ARRAY_SIZE(shifts) + 2);
	pm_map_free(&map);
}

TEST_F(physmap, begin_drops_pending_map)
{
	struct pm_map map;
	__u32 index;

	pm_map_init(&map);
	ASSERT_EQ(0, pm_add(self->fd, 0x1000, 0x1000, 1, 0, &index));
	ASSERT_EQ(1U, index);
	ASSERT_EQ(0, pm_add(self->fd, 0x2000, 0x1000, 2, 0, &index));
	ASSERT_EQ(2U, index);
	ASSERT_EQ(0, pm_begin(self->fd, 12));
	ASSERT_EQ(0, pm_begin(self->fd, 12));
	/* 0x1000 is free again: the dropped sections are gone */
	add_ok(_metadata, self->fd, &map, 0x1800, 0x1000);
	commit_ok(_metadata, self->fd);
	check_published(_metadata, self->fd, &map, 1);
	pm_map_free(&map);
}

TEST_F(physmap, begin_rejects_bad_arguments)
{
	static const __u32 bad_shifts[] = {
		1, 9, 17, 31, 32, 64, 0x80000000U, 0xffffffffU,
	};
	/* PHYSMAP_BEGIN_UPDATE (1) is the one flag */
	static const __u32 bad_flags[] = { 2, 3, 0x80000000U, 0xffffffffU };
	struct physmap_stats stats;
	struct pm_map map;
	size_t i;

	pm_map_init(&map);
	ASSERT_EQ(0, pm_begin(self->fd, 16));
	add_ok(_metadata, self->fd, &map, 0x20000, 0x10000);
	add_ok(_metadata, self->fd, &map, 0x4000, 0x10);
	for (i = 0; i < ARRAY_SIZE(bad_shifts); i++)
		ASSERT_EQ(-EINVAL, pm_begin(self->fd, bad_shifts[i]))
			TH_LOG("page_shift %u", bad_shifts[i]);
	for (i = 0; i < ARRAY_SIZE(bad_flags); i++)
		ASSERT_EQ(-EINVAL, begin_flags(self->fd, 12, bad_flags[i]))
			TH_LOG("flags %#x", bad_flags[i]);

	/* the pending map, page_shift 16, goes on at index 3 */
	add_ok(_metadata, self->fd, &map, 0x30000, 0x1000);
	commit_ok(_metadata, self->fd);
	check_published(_metadata, self->fd, &map, 1);
	get_stats(_metadata, self->fd, &stats);
	ASSERT_EQ(16U, stats.page_shift);

	/* a failed BEGIN with nothing pending starts nothing */
	ASSERT_EQ(-EINVAL, pm_begin(self->fd, 9));
	ASSERT_EQ(-EINVAL, begin_flags(self->fd, 0, 2));
	ASSERT_EQ(-EINVAL, begin_flags(self->fd, 9, PHYSMAP_BEGIN_UPDATE));
	/* an update keeps the published map's page_shift, 16 */
	ASSERT_EQ(-EINVAL, begin_flags(self->fd, 12, PHYSMAP_BEGIN_UPDATE));
	check_nothing_pending(_metadata, self->fd, &map, 1);
	pm_map_free(&map);
}

TEST_F(physmap, add_rejects_size_zero)
{
	static const __u64 starts[] = { 0, 0x1000, 0x10800, TIB, TOP };
	struct pm_map map;
	size_t i;

	pm_map_init(&map);
	add_ok(_metadata, self->fd, &map, 0x10000, 0x1000);
	/* EINVAL comes before EEXIST: 0x10800 lies in the first section */
	for (i = 0; i < ARRAY_SIZE(starts); i++)
		add_fails(_metadata, self->fd, starts[i], 0, EINVAL);
	add_ok(_metadata, self->fd, &map, 0x1000, 0x1000);
	commit_ok(_metadata, self->fd);
	check_published(_metadata, self->fd, &map, 1);
	pm_map_free(&map);
}

TEST_F(physmap, add_rejects_wrap)
{
	static const struct {
		__u64 start, size;
	} wraps[] = {
		{ TOP, 2 },
		{ TOP, TOP },
		{ 2, TOP },
		{ 1ULL << 63, (1ULL << 63) + 1 },
		{ TOP - 0xfff, 0x1001 },
		{ TOP - 0x7ffff, 0x80001 },
	};
	struct pm_map map;
	size_t i;

	pm_map_init(&map);
	add_ok(_metadata, self->fd, &map, 0x10000, 0x1000);
	for (i = 0; i < ARRAY_SIZE(wraps); i++)
		add_fails(_metadata, self->fd, wraps[i].start, wraps[i].size,
			  EINVAL);
	/* the most that fits: ends exactly at 2^64 - 1 */
	add_ok(_metadata, self->fd, &map, TOP - 0xfff, 0x1000);
	commit_ok(_metadata, self->fd);
	check_published(_metadata, self->fd, &map, 1);
	check_lookup(_metadata, self->fd, &map, TOP, 1);
	pm_map_free(&map);
}

TEST_F(physmap, add_rejects_flags)
{
	static const __u32 bad_flags[] = { 1, 2, 0x80000000U, 0xffffffffU };
	struct pm_map map;
	size_t i;

	pm_map_init(&map);
	add_ok(_metadata, self->fd, &map, 0x10000, 0x1000);
	for (i = 0; i < ARRAY_SIZE(bad_flags); i++) {
		ASSERT_EQ(-EINVAL, add_flags(self->fd, 0x20000, 0x1000,
					     bad_flags[i]))
			TH_LOG("flags %#x", bad_flags[i]);
		/* EINVAL before EEXIST */
		ASSERT_EQ(-EINVAL, add_flags(self->fd, 0x10000, 0x1000,
					     bad_flags[i]))
			TH_LOG("flags %#x on the first section", bad_flags[i]);
	}
	/* the rejected section was not added */
	add_ok(_metadata, self->fd, &map, 0x20000, 0x1000);
	commit_ok(_metadata, self->fd);
	check_published(_metadata, self->fd, &map, 1);
	pm_map_free(&map);
}

TEST_F(physmap, add_error_order)
{
	struct pm_map map;

	pm_map_init(&map);
	add_ok(_metadata, self->fd, &map, 0x10000, 0x10000);
	add_ok(_metadata, self->fd, &map, TOP - 0xffff, 0x10000);
	/* each overlaps a section and is invalid besides: EINVAL wins */
	add_fails(_metadata, self->fd, 0x18000, 0, EINVAL);
	add_fails(_metadata, self->fd, TOP - 0x10, 0x100, EINVAL);
	ASSERT_EQ(-EINVAL, add_flags(self->fd, 0x18000, 0x10, 1));
	/* EFAULT first of all */
	ASSERT_EQ(-EFAULT, raw_ioctl(self->fd, PHYSMAP_IOC_ADD, NULL));
	add_fails(_metadata, self->fd, 0x18000, 0x10, EEXIST);
	add_ok(_metadata, self->fd, &map, 0x20000, 0x10);
	commit_ok(_metadata, self->fd);
	check_published(_metadata, self->fd, &map, 1);
	pm_map_free(&map);
}

TEST_F(physmap, failed_add_starts_no_map)
{
	struct bad_mem bm;
	struct physmap_section section = { .start = 0x1000, .size = 0x1000 };
	struct pm_map empty;

	pm_map_init(&empty);
	bad_mem_init(_metadata, &bm);
	add_fails(_metadata, self->fd, 0x1000, 0, EINVAL);
	ASSERT_EQ(-EINVAL, add_flags(self->fd, 0x1000, 0x1000, 1));
	ASSERT_EQ(-EFAULT, raw_ioctl(self->fd, PHYSMAP_IOC_ADD, NULL));
	ASSERT_EQ(-EFAULT, raw_ioctl(self->fd, PHYSMAP_IOC_ADD,
				     bad_mem_ro(_metadata, &bm, &section,
						sizeof(section))));
	check_nothing_pending(_metadata, self->fd, &empty, 0);
}

TEST_F_TIMEOUT(physmap, add_efault, 60)
{
	struct physmap_section section = {
		.start = 0x40000, .size = 0x1000, .cookie = 7, .offset = 9,
	};
	struct pm_map map;
	struct bad_mem bm;

	pm_map_init(&map);
	bad_mem_init(_metadata, &bm);
	add_ok(_metadata, self->fd, &map, 0x10000, 0x1000);
	/* read-only: the section is read, but the index cannot be written */
	check_efault(_metadata, self->fd, &bm, "ADD", PHYSMAP_IOC_ADD,
		     &section, sizeof(section), true);
	/* none of the failed ADDs of 0x40000 added it */
	add_ok(_metadata, self->fd, &map, section.start, section.size);
	commit_ok(_metadata, self->fd);
	check_published(_metadata, self->fd, &map, 1);
	pm_map_free(&map);
}

TEST_F_TIMEOUT(physmap, efault_on_every_pointer, 60)
{
	struct physmap_begin begin = { .page_shift = 12 };
	struct physmap_begin begin_update = { .flags = PHYSMAP_BEGIN_UPDATE };
	struct physmap_remove remove = { .index = 1 };
	struct physmap_lookup lookup = { .addr = 0x10000 };
	struct physmap_section section = { .index = 1 };
	struct physmap_stats stats;
	__u64 addrs[16] = { 0x10000 };
	__u32 indexes[16];
	struct physmap_lookup_batch batch = {
		.addrs = (uintptr_t)addrs,
		.indexes = (uintptr_t)indexes,
		.count = ARRAY_SIZE(addrs),
	};
	struct pm_map published, pending;
	struct bad_mem bm;

	pm_map_init(&published);
	pm_map_init(&pending);
	bad_mem_init(_metadata, &bm);
	memset(&stats, 0, sizeof(stats));
	add_ok(_metadata, self->fd, &published, 0x10000, 0x1000);
	commit_ok(_metadata, self->fd);
	add_ok(_metadata, self->fd, &pending, 0x20000, 0x1000);
	add_ok(_metadata, self->fd, &pending, 0x30000, 0x1000);

	check_efault(_metadata, self->fd, &bm, "BEGIN", PHYSMAP_IOC_BEGIN,
		     &begin, sizeof(begin), false);
	check_efault(_metadata, self->fd, &bm, "BEGIN update",
		     PHYSMAP_IOC_BEGIN, &begin_update, sizeof(begin_update),
		     false);
	check_efault(_metadata, self->fd, &bm, "REMOVE", PHYSMAP_IOC_REMOVE,
		     &remove, sizeof(remove), false);
	check_efault(_metadata, self->fd, &bm, "LOOKUP", PHYSMAP_IOC_LOOKUP,
		     &lookup, sizeof(lookup), true);
	check_efault(_metadata, self->fd, &bm, "LOOKUP_BATCH",
		     PHYSMAP_IOC_LOOKUP_BATCH, &batch, sizeof(batch), true);
	check_efault(_metadata, self->fd, &bm, "GET_SECTION",
		     PHYSMAP_IOC_GET_SECTION, &section, sizeof(section), true);
	check_efault(_metadata, self->fd, &bm, "STATS", PHYSMAP_IOC_STATS,
		     &stats, sizeof(stats), true);

	/* the published map is intact, the pending one goes on at index 3 */
	check_published(_metadata, self->fd, &published, 1);
	add_ok(_metadata, self->fd, &pending, 0x40000, 0x1000);
	commit_ok(_metadata, self->fd);
	check_published(_metadata, self->fd, &pending, 2);
	pm_map_free(&published);
	pm_map_free(&pending);
}

TEST_F(physmap, batch_rejects_bad_arguments)
{
	static const __u32 bad_flags[] = { 1, 0x80000000U, 0xffffffffU };
	static const __u32 bad_counts[] = {
		PHYSMAP_BATCH_MAX + 1, 2 * PHYSMAP_BATCH_MAX, 0xffffffffU,
	};
	struct physmap_lookup_batch batch;
	__u64 addrs[16], *addrs_half;
	__u32 indexes[16], *indexes_half;
	struct pm_map map;
	struct bad_mem bm;
	size_t i;

	pm_map_init(&map);
	bad_mem_init(_metadata, &bm);
	add_ok(_metadata, self->fd, &map, 0x10000, 0x1000);
	add_ok(_metadata, self->fd, &map, 0x11000, 0x10);
	commit_ok(_metadata, self->fd);
	for (i = 0; i < ARRAY_SIZE(addrs); i++)
		addrs[i] = 0x10000 + i * 0x200;

	for (i = 0; i < ARRAY_SIZE(bad_flags); i++) {
		batch = (struct physmap_lookup_batch) {
			.addrs = (uintptr_t)addrs,
			.indexes = (uintptr_t)indexes,
			.count = ARRAY_SIZE(addrs),
			.flags = bad_flags[i],
		};
		ASSERT_EQ(-EINVAL, raw_ioctl(self->fd, PHYSMAP_IOC_LOOKUP_BATCH,
					     &batch))
			TH_LOG("flags %#x", bad_flags[i]);
	}
	for (i = 0; i < ARRAY_SIZE(bad_counts); i++)
		ASSERT_EQ(-EINVAL, pm_lookup_batch(self->fd, addrs, indexes,
						   bad_counts[i], NULL))
			TH_LOG("count %u", bad_counts[i]);

	/* arrays: NULL, unmapped, kernel, running into an unmapped page */
	addrs_half = (__u64 *)bm.straddle_end - ARRAY_SIZE(addrs) / 2;
	memcpy(addrs_half, addrs, ARRAY_SIZE(addrs) / 2 * sizeof(*addrs));
	indexes_half = (__u32 *)bm.straddle_end - ARRAY_SIZE(indexes) / 2;
	ASSERT_EQ(-EFAULT, pm_lookup_batch(self->fd, NULL, indexes, 16, NULL));
	ASSERT_EQ(-EFAULT, pm_lookup_batch(self->fd, addrs, NULL, 16, NULL));
	ASSERT_EQ(-EFAULT, pm_lookup_batch(self->fd, (__u64 *)bm.unmapped,
					   indexes, 16, NULL));
	ASSERT_EQ(-EFAULT, pm_lookup_batch(self->fd, addrs,
					   (__u32 *)bm.unmapped, 16, NULL));
	ASSERT_EQ(-EFAULT, pm_lookup_batch(self->fd, KERNEL_PTR, indexes, 16,
					   NULL));
	ASSERT_EQ(-EFAULT, pm_lookup_batch(self->fd, addrs, KERNEL_PTR, 16,
					   NULL));
	ASSERT_EQ(-EFAULT, pm_lookup_batch(self->fd, addrs_half, indexes, 16,
					   NULL));
	ASSERT_EQ(-EFAULT, pm_lookup_batch(self->fd, addrs, indexes_half, 16,
					   NULL));
	ASSERT_EQ(-EFAULT, pm_lookup_batch(self->fd, addrs,
					   (__u32 *)bm.ro_page, 16, NULL));

	check_published(_metadata, self->fd, &map, 1);
	pm_map_free(&map);
}

TEST_F(physmap, batch_counts)
{
	struct addr_list list = { 0 };
	__u32 *indexes;
	__u64 gen;
	struct pm_map map;
	size_t i;

	pm_map_init(&map);
	ASSERT_EQ(0, pm_map_generate(&map, 42, 200, 0x100000, 8));
	publish(_metadata, self->fd, &map, 12);
	model_build(_metadata, &map);
	addrs_push_edges(_metadata, &list, &map);
	addrs_push_random(_metadata, &list, 43, 0, map.sorted[199]->last + 1,
			  PHYSMAP_BATCH_MAX);
	indexes = malloc((PHYSMAP_BATCH_MAX + 1) * sizeof(*indexes));
	ASSERT_NE(NULL, indexes);

	/* count 0 reads and writes nothing, and returns the generation */
	memset(indexes, PM_POISON, (PHYSMAP_BATCH_MAX + 1) * sizeof(*indexes));
	gen = PM_POISON64;
	ASSERT_EQ(0, pm_lookup_batch(self->fd, list.addrs, indexes, 0, &gen));
	ASSERT_EQ(1ULL, gen);
	ASSERT_EQ(PM_POISON32, indexes[0]);

	/* 1 and PHYSMAP_BATCH_MAX; nothing written past count */
	ASSERT_EQ(0, pm_lookup_batch(self->fd, list.addrs, indexes, 1, &gen));
	ASSERT_EQ(pm_model_index(&map, list.addrs[0]), indexes[0]);
	ASSERT_EQ(PM_POISON32, indexes[1]);
	gen = PM_POISON64;
	ASSERT_EQ(0, pm_lookup_batch(self->fd, list.addrs, indexes,
				     PHYSMAP_BATCH_MAX, &gen));
	ASSERT_EQ(1ULL, gen);
	for (i = 0; i < PHYSMAP_BATCH_MAX; i++)
		ASSERT_EQ(pm_model_index(&map, list.addrs[i]), indexes[i])
			TH_LOG("address %#llx", list.addrs[i]);
	ASSERT_EQ(PM_POISON32, indexes[PHYSMAP_BATCH_MAX]);
	free(indexes);
	free(list.addrs);
	pm_map_free(&map);
}

TEST_F(physmap, get_section)
{
	static const __u32 bad_indexes[] = { 0, 4, 5, 0x10000, 0xffffffffU };
	struct physmap_section section;
	struct pm_map map, second;
	size_t i;

	pm_map_init(&map);
	pm_map_init(&second);
	ASSERT_EQ(-ENOENT, pm_get_section(self->fd, 0, &section));
	ASSERT_EQ(-ENOENT, pm_get_section(self->fd, 1, &section));

	/* pending sections are not published */
	add_ok(_metadata, self->fd, &map, 0x1000, 0x1000);
	add_ok(_metadata, self->fd, &map, TOP, 1);
	add_ok(_metadata, self->fd, &map, 0x10, 0x10);
	ASSERT_EQ(-ENOENT, pm_get_section(self->fd, 1, &section));
	commit_ok(_metadata, self->fd);
	for (i = 0; i < map.count; i++) {
		const struct pm_range *r = &map.ranges[i];

		ASSERT_EQ(0, pm_get_section(self->fd, r->index, &section));
		ASSERT_EQ(r->start, section.start);
		ASSERT_EQ(r->last - r->start + 1, section.size);
		ASSERT_EQ(r->cookie, section.cookie);
		ASSERT_EQ(r->offset, section.offset);
		ASSERT_EQ(0U, section.flags);
		ASSERT_EQ(r->index, section.index);
	}
	for (i = 0; i < ARRAY_SIZE(bad_indexes); i++)
		ASSERT_EQ(-ENOENT, pm_get_section(self->fd, bad_indexes[i],
						  &section))
			TH_LOG("index %u", bad_indexes[i]);

	/* a smaller map replaces it: index 2 is gone */
	add_ok(_metadata, self->fd, &second, 0x8000, 0x100);
	commit_ok(_metadata, self->fd);
	ASSERT_EQ(-ENOENT, pm_get_section(self->fd, 2, &section));
	check_published(_metadata, self->fd, &second, 2);
	pm_map_free(&map);
	pm_map_free(&second);
}

/* an O_RDWR-less fd of the device, for EBADF */
static int open_read_only(struct __test_metadata *_metadata)
{
	int fd = open(PHYSMAP_DEV, O_RDONLY | O_CLOEXEC);

	ASSERT_LE(0, fd) TH_LOG("open %s O_RDONLY: %s", PHYSMAP_DEV,
				strerror(errno));
	return fd;
}

/* REMOVE's errors in their order; none changes either map */
TEST_F(physmap, remove_error_order)
{
	struct physmap_remove bad_flags = { .index = 1, .flags = 1 };
	struct pm_map published, pending;
	int ro = open_read_only(_metadata);

	pm_map_init(&published);
	pm_map_init(&pending);
	/* nothing pending: EINVAL, after EFAULT and EBADF */
	ASSERT_EQ(-EFAULT, raw_ioctl(self->fd, PHYSMAP_IOC_REMOVE, NULL));
	ASSERT_EQ(-EINVAL, pm_remove(self->fd, 1));
	ASSERT_EQ(-EINVAL, pm_remove(self->fd, 0));
	add_ok(_metadata, self->fd, &published, 0x10000, 0x1000);
	add_ok(_metadata, self->fd, &published, 0x20010, 0x10);
	commit_ok(_metadata, self->fd);
	ASSERT_EQ(-EINVAL, pm_remove(self->fd, 1));

	add_ok(_metadata, self->fd, &pending, 0x30000, 0x1000);
	add_ok(_metadata, self->fd, &pending, 0x40000, 0x2000);
	ASSERT_EQ(-EFAULT, raw_ioctl(ro, PHYSMAP_IOC_REMOVE, NULL));
	ASSERT_EQ(-EBADF, pm_remove(ro, 1));
	ASSERT_EQ(-EBADF, raw_ioctl(ro, PHYSMAP_IOC_REMOVE, &bad_flags));
	ASSERT_EQ(-EINVAL, raw_ioctl(self->fd, PHYSMAP_IOC_REMOVE, &bad_flags));
	bad_flags.flags = 0x80000000U;
	ASSERT_EQ(-EINVAL, raw_ioctl(self->fd, PHYSMAP_IOC_REMOVE, &bad_flags));
	ASSERT_EQ(-ENOENT, pm_remove(self->fd, 0));
	ASSERT_EQ(-ENOENT, pm_remove(self->fd, 3));
	ASSERT_EQ(-ENOENT, pm_remove(self->fd, 0xffffffffU));
	remove_ok(_metadata, self->fd, &pending, 1);
	ASSERT_EQ(-ENOENT, pm_remove(self->fd, 1));
	/* the read-only fd's own map: EBADF before EINVAL (nothing pending) */
	ASSERT_EQ(-EBADF, pm_remove(ro, 0));

	/* both maps as they were: the pending one holds section 2 alone */
	check_published(_metadata, self->fd, &published, 1);
	add_ok(_metadata, self->fd, &pending, 0x30800, 0x800);
	ASSERT_EQ(1U, pending.ranges[pending.count - 1].index);
	commit_ok(_metadata, self->fd);
	check_published(_metadata, self->fd, &pending, 2);
	close(ro);
	pm_map_free(&published);
	pm_map_free(&pending);
}

/*
 * BEGIN with PHYSMAP_BEGIN_UPDATE: the published map's sections, indexes and
 * page_shift; with nothing published, an empty map of the given page_shift;
 * like any BEGIN it drops a pending map.
 */
TEST_F(physmap, begin_update)
{
	struct physmap_stats stats;
	struct pm_map published, pending, dropped;
	int ro = open_read_only(_metadata);

	pm_map_init(&published);
	pm_map_init(&dropped);
	ASSERT_EQ(-EBADF, pm_begin_update(ro, 0));
	close(ro);

	/* nothing published: an empty map, page_shift 16 */
	add_ok(_metadata, self->fd, &dropped, 0x50000, 0x1000);
	ASSERT_EQ(0, pm_begin_update(self->fd, 16));
	add_ok(_metadata, self->fd, &published, 0x100000, 0x10000);
	add_ok(_metadata, self->fd, &published, 0x1ff0, 0x20);
	add_ok(_metadata, self->fd, &published, 0x8000, 0x100);
	commit_ok(_metadata, self->fd);
	check_published(_metadata, self->fd, &published, 1);
	get_stats(_metadata, self->fd, &stats);
	ASSERT_EQ(16U, stats.page_shift);

	/* an update committed unchanged publishes the same map */
	ASSERT_EQ(0, pm_begin_update(self->fd, 0));
	commit_ok(_metadata, self->fd);
	check_published(_metadata, self->fd, &published, 2);

	/* another page_shift: EINVAL, the pending map stays */
	ASSERT_EQ(0, pm_begin_update(self->fd, 16));
	model_copy(_metadata, &pending, &published);
	remove_ok(_metadata, self->fd, &pending, 2);
	ASSERT_EQ(-EINVAL, pm_begin_update(self->fd, 12));
	ASSERT_EQ(-EINVAL, pm_begin_update(self->fd, 10));
	add_ok(_metadata, self->fd, &pending, 0x1ff8, 0x10);
	ASSERT_EQ(2U, pending.ranges[pending.count - 1].index);
	commit_ok(_metadata, self->fd);
	check_published(_metadata, self->fd, &pending, 3);
	get_stats(_metadata, self->fd, &stats);
	ASSERT_EQ(16U, stats.page_shift);

	/* BEGIN_UPDATE drops what was pending, a plain BEGIN starts empty */
	pm_map_free(&dropped);
	add_ok(_metadata, self->fd, &dropped, 0x60000, 0x1000);
	ASSERT_EQ(0, pm_begin_update(self->fd, 0));
	commit_ok(_metadata, self->fd);
	check_published(_metadata, self->fd, &pending, 4);
	ASSERT_EQ(0, pm_begin(self->fd, 12));
	ASSERT_EQ(-ENOENT, pm_remove(self->fd, 1));
	commit_ok(_metadata, self->fd);
	get_stats(_metadata, self->fd, &stats);
	ASSERT_EQ(0U, stats.sections);
	pm_map_free(&published);
	pm_map_free(&pending);
	pm_map_free(&dropped);
}

/*
 * In an update, ADD takes the indexes REMOVE freed, lowest first, then
 * grows the map; a removed section's range is free at once; after COMMIT
 * the holes answer ENOENT and STATS counts the sections held.
 */
TEST_F(physmap, update_reuses_lowest_indexes)
{
	struct physmap_section section;
	struct physmap_stats stats;
	struct pm_map map, next;
	__u32 i;

	pm_map_init(&map);
	for (i = 0; i < 8; i++)
		add_ok(_metadata, self->fd, &map, 0x100000 * (i + 1),
		       0x1000 << i);
	commit_ok(_metadata, self->fd);

	ASSERT_EQ(0, pm_begin_update(self->fd, 0));
	model_copy(_metadata, &next, &map);
	/* taken: EEXIST until its section goes */
	add_fails(_metadata, self->fd, 0x300000, 0x10, EEXIST);
	remove_ok(_metadata, self->fd, &next, 6);
	remove_ok(_metadata, self->fd, &next, 3);
	remove_ok(_metadata, self->fd, &next, 8);
	remove_ok(_metadata, self->fd, &next, 4);
	add_ok(_metadata, self->fd, &next, 0x300000, 0x10);	/* in old #3 */
	ASSERT_EQ(3U, next.ranges[next.count - 1].index);
	add_ok(_metadata, self->fd, &next, 0x300010, 0x10);
	ASSERT_EQ(4U, next.ranges[next.count - 1].index);
	commit_ok(_metadata, self->fd);
	check_published(_metadata, self->fd, &next, 2);
	ASSERT_EQ(-ENOENT, pm_get_section(self->fd, 6, &section));
	ASSERT_EQ(-ENOENT, pm_get_section(self->fd, 8, &section));
	ASSERT_EQ(0, pm_get_section(self->fd, 7, &section));
	get_stats(_metadata, self->fd, &stats);
	ASSERT_EQ(6U, stats.sections);

	/* the next update starts with those holes: 6, then 8, then 9 */
	ASSERT_EQ(0, pm_begin_update(self->fd, 0));
	pm_map_free(&map);
	model_copy(_metadata, &map, &next);
	add_ok(_metadata, self->fd, &map, 0x600000, 0x1000);
	ASSERT_EQ(6U, map.ranges[map.count - 1].index);
	add_ok(_metadata, self->fd, &map, 0x800000, 0x1000);
	ASSERT_EQ(8U, map.ranges[map.count - 1].index);
	add_ok(_metadata, self->fd, &map, 0x900000, 0x1000);
	ASSERT_EQ(9U, map.ranges[map.count - 1].index);
	remove_ok(_metadata, self->fd, &map, 9);
	add_ok(_metadata, self->fd, &map, 0x900000, 0x2000);
	ASSERT_EQ(9U, map.ranges[map.count - 1].index);
	commit_ok(_metadata, self->fd);
	check_published(_metadata, self->fd, &map, 3);

	/* every section removed: an empty map */
	ASSERT_EQ(0, pm_begin_update(self->fd, 0));
	for (i = 1; i <= 9; i++)
		remove_ok(_metadata, self->fd, &map, i);
	commit_ok(_metadata, self->fd);
	check_published(_metadata, self->fd, &map, 4);
	pm_map_free(&map);
	pm_map_free(&next);
}

/*
 * Updates of real QEMU maps under every page_shift: rounds of REMOVEs and
 * ADDs (sections removed, put back, and cut in two in their place), each
 * published map checked in full against the model.
 */
TEST_F_TIMEOUT(physmap_ps, update_real_maps, 180)
{
	static const char *const files[] = {
		"q35_big.booted.memory.txt", "q35_big.booted.io.txt",
		"pc.booted.memory.txt",
	};
	struct pm_map map, next;
	__u64 seed = 0x5eed;
	size_t f, round, k;

	for (f = 0; f < ARRAY_SIZE(files); f++) {
		load_map(_metadata, &map, maps_dir(), files[f]);
		publish(_metadata, self->fd, &map, variant->page_shift);
		for (round = 0; round < 8; round++) {
			ASSERT_EQ(0, pm_begin_update(self->fd, 0));
			model_copy(_metadata, &next, &map);
			for (k = 0; k < 6 && next.count; k++) {
				const struct pm_range *r =
					&next.ranges[pm_rand64(&seed) % next.count];
				__u64 start = r->start, last = r->last;

				remove_ok(_metadata, self->fd, &next, r->index);
				switch (pm_rand64(&seed) % 3) {
				case 0:		/* gone */
					break;
				case 1:		/* back, with a new index */
					add_ok(_metadata, self->fd, &next,
					       start, last - start + 1);
					break;
				default:	/* its first half */
					add_ok(_metadata, self->fd, &next,
					       start, (last - start) / 2 + 1);
					break;
				}
			}
			commit_ok(_metadata, self->fd);
			check_published(_metadata, self->fd, &next,
					round + 2 + f * 10);
			pm_map_free(&map);
			map = next;
		}
		ASSERT_EQ(0, pm_begin(self->fd, variant->page_shift));
		commit_ok(_metadata, self->fd);
		pm_map_free(&map);
	}
}

/*
 * Numbers of the UAPI before the tree's shape left it: STATS was 56 bytes
 * and PHYSMAP_IOC_GET_TREE copied the tree out. Neither is a command now.
 */
#define OLD_IOC_STATS		_IOC(_IOC_READ, PHYSMAP_IOC_TYPE, 0x06, 56)
#define OLD_IOC_GET_TREE	_IOC(_IOC_READ | _IOC_WRITE, PHYSMAP_IOC_TYPE, \
				     0x07, 64)

TEST_F(physmap, unknown_ioctl)
{
	const unsigned long cmds[] = {
		0,
		_IO(PHYSMAP_IOC_TYPE, 0x07),
		_IOR(PHYSMAP_IOC_TYPE, 0x07, struct physmap_stats),
		_IOWR(PHYSMAP_IOC_TYPE, 0x07, struct physmap_stats),
		OLD_IOC_GET_TREE,
		_IOWR(PHYSMAP_IOC_TYPE, 0x0f, struct physmap_lookup),
		_IOWR(PHYSMAP_IOC_TYPE, 0x10, struct physmap_lookup),
		/* wrong type */
		_IOWR(PHYSMAP_IOC_TYPE - 1, 0x03, struct physmap_lookup),
		_IOWR(PHYSMAP_IOC_TYPE + 1, 0x01, struct physmap_section),
		_IO(PHYSMAP_IOC_TYPE + 1, 0x02),
		/* right number, wrong size */
		_IOW(PHYSMAP_IOC_TYPE, 0x00, __u32),
		_IOWR(PHYSMAP_IOC_TYPE, 0x01, struct physmap_lookup),
		_IOW(PHYSMAP_IOC_TYPE, 0x02, __u32),
		_IOWR(PHYSMAP_IOC_TYPE, 0x03, __u64),
		_IOWR(PHYSMAP_IOC_TYPE, 0x03, struct physmap_section),
		_IOWR(PHYSMAP_IOC_TYPE, 0x04, struct physmap_lookup),
		_IOWR(PHYSMAP_IOC_TYPE, 0x05, struct physmap_lookup),
		_IOR(PHYSMAP_IOC_TYPE, 0x06, struct physmap_section),
		OLD_IOC_STATS,
		/* right number and size, wrong direction */
		_IO(PHYSMAP_IOC_TYPE, 0x00),
		_IOW(PHYSMAP_IOC_TYPE, 0x01, struct physmap_section),
		_IOR(PHYSMAP_IOC_TYPE, 0x03, struct physmap_lookup),
		_IOW(PHYSMAP_IOC_TYPE, 0x06, struct physmap_stats),
		_IOWR(PHYSMAP_IOC_TYPE, 0x06, struct physmap_stats),
		_IOWR(PHYSMAP_IOC_TYPE, 0x08, struct physmap_remove),
		_IOR(PHYSMAP_IOC_TYPE, 0x08, struct physmap_remove),
		_IOW(PHYSMAP_IOC_TYPE, 0x08, __u32),
		_IOW(PHYSMAP_IOC_TYPE, 0x09, struct physmap_remove),
	};
	const unsigned long known[] = {
		PHYSMAP_IOC_BEGIN, PHYSMAP_IOC_ADD, PHYSMAP_IOC_COMMIT,
		PHYSMAP_IOC_LOOKUP, PHYSMAP_IOC_LOOKUP_BATCH,
		PHYSMAP_IOC_GET_SECTION, PHYSMAP_IOC_STATS, PHYSMAP_IOC_REMOVE,
	};
	__u64 arg[64];
	struct pm_map map;
	size_t i, k;

	for (i = 0; i < ARRAY_SIZE(cmds); i++)
		for (k = 0; k < ARRAY_SIZE(known); k++)
			ASSERT_NE(known[k], cmds[i]) TH_LOG("test bug: %zu", i);
	pm_map_init(&map);
	add_ok(_metadata, self->fd, &map, 0x10000, 0x1000);
	commit_ok(_metadata, self->fd);
	for (i = 0; i < ARRAY_SIZE(cmds); i++) {
		memset(arg, 0, sizeof(arg));
		ASSERT_EQ(-ENOTTY, raw_ioctl(self->fd, cmds[i], arg))
			TH_LOG("cmd %#lx", cmds[i]);
	}
	/* nothing started, nothing changed */
	check_nothing_pending(_metadata, self->fd, &map, 1);
	pm_map_free(&map);
}

/* STATS, and the shape debugfs shows beside it */
TEST_F_TIMEOUT(physmap_ps, stats_plausible, 60)
{
	const __u64 page = 1ULL << 16;	/* a page under every page_shift */
	struct physmap_stats stats, again;
	struct pm_shape shape, shape_again;
	struct pm_map map;
	char why[256];
	__u64 gen = 0;

	if (pm_debugfs_unusable(self->fd, why, sizeof(why)))
		SKIP(return, "%s", why);
	pm_map_init(&map);
	get_stats_shape(_metadata, self->fd, &stats, &shape);
	ASSERT_EQ(0ULL, stats.generation);
	ASSERT_EQ(0U, stats.sections);
	ASSERT_EQ(0, shape.published);

	ASSERT_EQ(0, pm_begin(self->fd, variant->page_shift));
	commit_ok(_metadata, self->fd);
	get_stats_shape(_metadata, self->fd, &stats, &shape);
	ASSERT_EQ(++gen, stats.generation);
	ASSERT_EQ(0U, stats.sections);
	ASSERT_EQ(variant->page_shift, stats.page_shift);
	ASSERT_EQ(1, shape.published);

	/* whole pages only, apart enough for the root to stay a node */
	ASSERT_EQ(0, pm_map_append(&map, page, 4 * page - 1, 1, 0));
	ASSERT_EQ(0, pm_map_append(&map, 16 * page, 17 * page - 1, 2, 0));
	ASSERT_EQ(0, pm_map_append(&map, GIB, 2 * GIB - 1, 3, 0));
	ASSERT_EQ(0, pm_map_append(&map, TOP - page + 1, TOP, 4, 0));
	publish(_metadata, self->fd, &map, variant->page_shift);
	get_stats_shape(_metadata, self->fd, &stats, &shape);
	log_stats(_metadata, self->fd, "whole pages");
	ASSERT_EQ(++gen, stats.generation);
	ASSERT_EQ(map.count, stats.sections);
	ASSERT_EQ(variant->page_shift, stats.page_shift);
	ASSERT_LE(1U, shape.nodes);
	ASSERT_LT(0U, shape.node_bytes);
	ASSERT_LE(shape.nodes * shape.node_bytes, stats.bytes);
	ASSERT_LE(1U, shape.levels);
	ASSERT_LE(1U, shape.max_depth);
	ASSERT_GE(shape.levels, shape.max_depth);
	ASSERT_EQ(0U, shape.subpages);
	ASSERT_EQ(0U, shape.subpage_ranges);

	/*
	 * a few bytes inside one page, alone there: the section's leaf and
	 * the final range check resolve it, no sub-page
	 */
	ASSERT_EQ(0, pm_map_append(&map, 32 * page + 0x10, 32 * page + 0x1f,
				   5, 0));
	publish(_metadata, self->fd, &map, variant->page_shift);
	get_stats_shape(_metadata, self->fd, &stats, &shape);
	log_stats(_metadata, self->fd, "a part page alone");
	ASSERT_EQ(++gen, stats.generation);
	ASSERT_EQ(map.count, stats.sections);
	ASSERT_EQ(0U, shape.subpages);
	ASSERT_EQ(0U, shape.subpage_ranges);

	/* a second section in the same page: one sub-page of two ranges */
	ASSERT_EQ(0, pm_map_append(&map, 32 * page + 0x40, 32 * page + 0x4f,
				   6, 0));
	publish(_metadata, self->fd, &map, variant->page_shift);
	get_stats_shape(_metadata, self->fd, &stats, &shape);
	log_stats(_metadata, self->fd, "one sub-page");
	ASSERT_EQ(++gen, stats.generation);
	ASSERT_EQ(map.count, stats.sections);
	ASSERT_EQ(1U, shape.subpages);
	ASSERT_EQ(2U, shape.subpage_ranges);

	/* partial first and last pages shared with nothing: no more */
	ASSERT_EQ(0, pm_map_append(&map, 64 * page + 1, 70 * page - 2, 7, 0));
	publish(_metadata, self->fd, &map, variant->page_shift);
	get_stats_shape(_metadata, self->fd, &stats, &shape);
	log_stats(_metadata, self->fd, "part pages alone");
	ASSERT_EQ(++gen, stats.generation);
	ASSERT_EQ(1U, shape.subpages);
	ASSERT_EQ(2U, shape.subpage_ranges);
	ASSERT_LE(shape.nodes * shape.node_bytes, stats.bytes);

	/* a section ending in that first page and one starting in the last */
	ASSERT_EQ(0, pm_map_append(&map, 63 * page, 64 * page, 8, 0));
	ASSERT_EQ(0, pm_map_append(&map, 70 * page - 1, 70 * page + 5, 9, 0));
	publish(_metadata, self->fd, &map, variant->page_shift);
	get_stats_shape(_metadata, self->fd, &stats, &shape);
	log_stats(_metadata, self->fd, "three sub-pages");
	ASSERT_EQ(++gen, stats.generation);
	ASSERT_EQ(3U, shape.subpages);
	ASSERT_EQ(6U, shape.subpage_ranges);
	ASSERT_LE(shape.nodes * shape.node_bytes, stats.bytes);

	/* pending sections change nothing */
	ASSERT_EQ(0, pm_add(self->fd, 128 * page + 3, 5, 7, 0, NULL));
	get_stats_shape(_metadata, self->fd, &again, &shape_again);
	ASSERT_EQ(0, memcmp(&stats, &again, sizeof(stats)));
	ASSERT_EQ(0, memcmp(&shape, &shape_again, sizeof(shape)));
	check_published(_metadata, self->fd, &map, gen);
	pm_map_free(&map);
}

TEST_F(physmap_ps, add_rejects_overlap)
{
	const __u64 a = 0x100000, a_last = 0x1fffff;	/* 1 MiB at 1 MiB */
	const __u64 s = 0x300000;	/* sub-page sections in one page */
	static const struct {
		__u64 first, last;
	} overlaps[] = {
		{ 0x100000, 0x1fffff },		/* identical */
		{ 0xff000, 0x100000 },		/* last byte on a's first */
		{ 0x1fffff, 0x200fff },		/* first byte on a's last */
		{ 0x100010, 0x1fffef },		/* inside */
		{ 0xffff0, 0x20000f },		/* around */
		{ 0xff800, 0x1007ff },		/* over the start */
		{ 0x1ff800, 0x2007ff },		/* over the end */
		{ 0x300000, 0x300010 },		/* last byte on s1's first */
		{ 0x30001f, 0x30003f },		/* first byte on s1's last */
		{ 0x300018, 0x300018 },		/* one byte inside s1 */
		{ 0x300000, 0x3000ff },		/* around s1 and s2 */
		{ 0x30001f, 0x300040 },		/* s1's last and s2's first */
		{ 0x300070, 0x300fff },		/* over s2's end */
		{ TIB - 1, TIB },		/* big's first byte */
		{ 2 * TIB - 1, 2 * TIB },	/* big's last byte */
		{ 0, TOP - 1 },			/* around everything */
	};
	struct pm_map map, again;
	size_t i;

	pm_map_init(&map);
	pm_map_init(&again);
	ASSERT_EQ(0, pm_begin(self->fd, variant->page_shift));
	add_ok(_metadata, self->fd, &map, a, a_last - a + 1);
	add_ok(_metadata, self->fd, &map, s + 0x10, 0x10);	/* s1 */
	add_ok(_metadata, self->fd, &map, s + 0x40, 0x40);	/* s2 */
	add_ok(_metadata, self->fd, &map, TIB, TIB);		/* big */
	for (i = 0; i < ARRAY_SIZE(overlaps); i++)
		add_fails(_metadata, self->fd, overlaps[i].first,
			  overlaps[i].last - overlaps[i].first + 1, EEXIST);

	/* touching is not overlapping */
	add_ok(_metadata, self->fd, &map, a - 0x1000, 0x1000);
	add_ok(_metadata, self->fd, &map, a_last + 1, 0x10);
	add_ok(_metadata, self->fd, &map, s + 0x20, 0x20);	/* s1..s2 gap */
	add_ok(_metadata, self->fd, &map, s, 0x10);
	add_ok(_metadata, self->fd, &map, 2 * TIB, 0x1000);
	add_ok(_metadata, self->fd, &map, TIB - 1, 1);
	/* sections added after a failure count too */
	add_fails(_metadata, self->fd, s + 0x30, 1, EEXIST);
	add_fails(_metadata, self->fd, a_last + 0x10, 1, EEXIST);
	commit_ok(_metadata, self->fd);
	check_published(_metadata, self->fd, &map, 1);

	/* only the pending map counts: a new map may reuse every range */
	ASSERT_EQ(0, pm_begin(self->fd, variant->page_shift));
	for (i = map.count; i > 0; i--) {
		const struct pm_range *r = &map.ranges[i - 1];

		add_ok(_metadata, self->fd, &again, r->start,
		       r->last - r->start + 1);
	}
	commit_ok(_metadata, self->fd);
	check_published(_metadata, self->fd, &again, 2);
	pm_map_free(&map);
	pm_map_free(&again);
}

TEST_F(physmap_ps, section_ends_at_top)
{
	static const struct {
		__u64 start, size;
	} maps[][3] = {
		{ { 1, TOP } },			/* ends exactly at 2^64 - 1 */
		{ { 0, TOP } },			/* ends at 2^64 - 2 */
		{ { TOP, 1 }, { TOP - 0x10, 0x10 },
		  { 1ULL << 63, (1ULL << 63) - 0x11 } },
		{ { 1ULL << 63, 1ULL << 63 } },
	};
	__u64 gen = 0;
	size_t m, i;

	for (m = 0; m < ARRAY_SIZE(maps); m++) {
		struct pm_map map;

		pm_map_init(&map);
		ASSERT_EQ(0, pm_begin(self->fd, variant->page_shift));
		for (i = 0; i < ARRAY_SIZE(maps[m]) && maps[m][i].size; i++)
			add_ok(_metadata, self->fd, &map, maps[m][i].start,
			       maps[m][i].size);
		commit_ok(_metadata, self->fd);
		check_published(_metadata, self->fd, &map, ++gen);
		check_lookup(_metadata, self->fd, &map, TOP, gen);
		check_lookup(_metadata, self->fd, &map, TOP - 1, gen);
		check_lookup(_metadata, self->fd, &map, 1ULL << 63, gen);
		check_lookup(_metadata, self->fd, &map, 1, gen);
		pm_map_free(&map);
	}
}

TEST_F(physmap_ps, lookup_returns_section_fields)
{
	static const struct {
		__u64 start, size, cookie, offset;
	} sections[] = {
		{ 0x10000, 0x10000, 0, 0 },
		{ 0x20000, 0x3, TOP, TOP },
		{ 0x20003, 0xffd, 0x8000000000000000ULL, 1 },
		{ 0xfee00000, 0x100000, 0x1234, 0xfee00000 },
		{ 4 * GIB, 4 * GIB, 0xdeadbeefcafef00dULL, 0x100000000ULL },
	};
	struct pm_map map;
	size_t i;

	pm_map_init(&map);
	for (i = 0; i < ARRAY_SIZE(sections); i++)
		ASSERT_EQ(0, pm_map_append(&map, sections[i].start,
					   sections[i].start + sections[i].size - 1,
					   sections[i].cookie,
					   sections[i].offset));
	publish(_metadata, self->fd, &map, variant->page_shift);
	check_published(_metadata, self->fd, &map, 1);
	for (i = 0; i < map.count; i++) {
		const struct pm_range *r = &map.ranges[i];

		check_lookup(_metadata, self->fd, &map, r->start + 1, 1);
		check_lookup(_metadata, self->fd, &map, r->last - 1, 1);
	}
	pm_map_free(&map);
}

TEST_F(physmap_ps, subpage_resolution)
{
	const __u64 b = 0x7770000;	/* 64 KiB aligned */
	static const struct {
		__u64 first, last;
	} sections[] = {
		{ 0x10, 0x1f },
		{ 0x0, 0x0 },
		{ 0x1, 0x3 },
		{ 0x20, 0x20 },
		{ 0x3f0, 0x40f },	/* over a 1 KiB boundary */
		{ 0x410, 0x7ff },
		{ 0xffe, 0x1001 },	/* over a 4 KiB boundary */
		{ 0x1002, 0x1002 },
		{ 0xfff0, 0x1000f },	/* over a 64 KiB boundary */
		{ 0x10010, 0x2ffff },	/* rest of that page, one whole page */
		{ 0x30000, 0x3ffff },
	};
	struct addr_list list = { 0 };
	struct pm_map map;
	__u64 addr;
	size_t i;

	pm_map_init(&map);
	ASSERT_EQ(0, pm_begin(self->fd, variant->page_shift));
	for (i = 0; i < ARRAY_SIZE(sections); i++)
		add_ok(_metadata, self->fd, &map, b + sections[i].first,
		       sections[i].last - sections[i].first + 1);
	commit_ok(_metadata, self->fd);
	check_published(_metadata, self->fd, &map, 1);

	/* every byte around the sub-page sections */
	for (addr = b - 0x10; addr < b + 0x1100; addr++)
		addrs_push(_metadata, &list, addr);
	for (addr = b + 0xff00; addr < b + 0x10100; addr++)
		addrs_push(_metadata, &list, addr);
	for (addr = b + 0x2fff0; addr < b + 0x30010; addr++)
		addrs_push(_metadata, &list, addr);
	for (addr = b + 0x3fff0; addr < b + 0x40010; addr++)
		addrs_push(_metadata, &list, addr);
	check_addrs(_metadata, self->fd, &map, list.addrs, list.count, 1);
	free(list.addrs);
	pm_map_free(&map);
}

TEST_F(physmap_ps, large_aligned_sections)
{
	static const struct {
		__u64 first, last;
	} sections[] = {
		{ TIB, 2 * TIB - 1 },			/* 1 TiB at 1 TiB */
		{ 2 * TIB, 2 * TIB + 0xfff },
		{ TIB - 0x10, TIB - 1 },
		{ 1ULL << 62, (1ULL << 63) - 1 },
		{ 1ULL << 63, TOP },
		{ 4 * GIB, 8 * GIB - 1 },
	};
	struct addr_list list = { 0 };
	struct physmap_stats stats;
	struct pm_shape shape;
	struct pm_map map;
	size_t i;

	pm_map_init(&map);
	for (i = 0; i < ARRAY_SIZE(sections); i++)
		ASSERT_EQ(0, pm_map_append(&map, sections[i].first,
					   sections[i].last, i + 100, i));
	publish(_metadata, self->fd, &map, variant->page_shift);
	check_published(_metadata, self->fd, &map, 1);

	addrs_push_random(_metadata, &list, 1, 0, 4 * TIB, 2000);
	addrs_push_random(_metadata, &list, 2, 0, TOP, 2000);
	check_addrs(_metadata, self->fd, &map, list.addrs, list.count, 1);

	/* aligned ranges take a few entries, not one per page */
	log_stats(_metadata, self->fd, "large sections");
	if (get_stats_shape(_metadata, self->fd, &stats, &shape))
		ASSERT_GE(256U, shape.nodes);
	ASSERT_GT(4 * MIB, stats.bytes);
	free(list.addrs);
	pm_map_free(&map);
}

TEST_F_TIMEOUT(physmap, page_shift_shapes_tree_not_answers, 120)
{
	static const __u32 shifts[] = { 0, 10, 11, 12, 13, 14, 15, 16 };
	static const struct {
		__u64 first, last;
	} extra[] = {
		{ 0, 0 },
		{ 1, 0x3ff },
		{ 0x400, 0x400 },
		{ TIB, 2 * TIB - 1 },
		{ TOP - 0x12344, TOP },
	};
	struct addr_list list = { 0 };
	struct physmap_stats stats;
	struct pm_map map;
	__u64 span_last;
	size_t i, s;

	pm_map_init(&map);
	ASSERT_EQ(0, pm_map_generate(&map, 7, 300, 0x10000000, 12));
	model_build(_metadata, &map);
	span_last = map.sorted[map.count - 1]->last;
	for (i = 0; i < ARRAY_SIZE(extra); i++)
		ASSERT_EQ(0, pm_map_append(&map, extra[i].first, extra[i].last,
					   i + 7, i));
	model_build(_metadata, &map);

	addrs_push_edges(_metadata, &list, &map);
	/* page boundaries next to every section under every page_shift */
	for (i = 0; i < map.count; i++) {
		for (s = PHYSMAP_PAGE_SHIFT_MIN; s <= PHYSMAP_PAGE_SHIFT_MAX; s++) {
			__u64 mask = (1ULL << s) - 1;

			addrs_push(_metadata, &list, map.ranges[i].start & ~mask);
			addrs_push(_metadata, &list, map.ranges[i].last | mask);
		}
	}
	addrs_push_random(_metadata, &list, 3, 0x10000000, span_last, 4000);
	addrs_push_random(_metadata, &list, 4, 0, TOP, 1000);

	for (i = 0; i < ARRAY_SIZE(shifts); i++) {
		publish(_metadata, self->fd, &map, shifts[i]);
		get_stats(_metadata, self->fd, &stats);
		ASSERT_EQ(shifts[i] ? shifts[i] : PHYSMAP_PAGE_SHIFT_DEFAULT,
			  stats.page_shift);
		check_published(_metadata, self->fd, &map, i + 1);
		check_addrs(_metadata, self->fd, &map, list.addrs, list.count,
			    i + 1);
	}
	free(list.addrs);
	pm_map_free(&map);
}

TEST_F_TIMEOUT(physmap, many_fds, 120)
{
	enum { NFDS = 64 };
	struct pm_map maps[NFDS], empty;
	struct addr_list all = { 0 };
	__u64 gens[NFDS];
	int fds[NFDS], fresh;
	size_t i, j, round;

	/* fd i gets 1 + i % 7 sections at (i + 1) GiB, added interleaved */
	for (i = 0; i < NFDS; i++) {
		fds[i] = open_physmap(_metadata);
		pm_map_init(&maps[i]);
		gens[i] = 0;
	}
	for (round = 0; round < 7; round++) {
		for (i = 0; i < NFDS; i++) {
			__u64 start = (i + 1) * GIB + round * 0x3000 +
				      (i % 3) * 0x10;

			if (round < 1 + i % 7)
				add_ok(_metadata, fds[i], &maps[i], start,
				       0x1000 + i);
		}
	}
	for (i = 0; i < NFDS; i++) {
		commit_ok(_metadata, fds[i]);
		gens[i]++;
	}
	/* some fds publish theirs again: generations differ per fd */
	for (i = 0; i < NFDS; i += 3) {
		publish(_metadata, fds[i], &maps[i], 10 + i % 7);
		gens[i]++;
	}

	for (i = 0; i < NFDS; i++) {
		model_build(_metadata, &maps[i]);
		for (j = 0; j < maps[i].count; j++)
			addrs_push(_metadata, &all, maps[i].ranges[j].start);
	}
	/* each fd answers from its own map only */
	for (i = 0; i < NFDS; i++) {
		check_published(_metadata, fds[i], &maps[i], gens[i]);
		check_addrs(_metadata, fds[i], &maps[i], all.addrs, all.count,
			    gens[i]);
	}

	/* a new fd is a new, empty address space */
	fresh = open_physmap(_metadata);
	pm_map_init(&empty);
	check_published(_metadata, fresh, &empty, 0);
	check_addrs(_metadata, fresh, &empty, all.addrs, all.count, 0);
	close(fresh);

	/* closing some fds leaves the others alone */
	for (i = 0; i < NFDS; i += 2)
		close(fds[i]);
	for (i = 1; i < NFDS; i += 2)
		check_addrs(_metadata, fds[i], &maps[i], all.addrs, all.count,
			    gens[i]);
	for (i = 0; i < NFDS; i++) {
		if (i % 2)
			close(fds[i]);
		pm_map_free(&maps[i]);
	}
	free(all.addrs);
}

TEST_F_TIMEOUT(physmap, hundred_thousand_sections, 300)
{
	const size_t count = 100000;
	struct addr_list list = { 0 };
	struct pm_map map;
	size_t i;

	pm_map_init(&map);
	ASSERT_EQ(0, pm_map_generate(&map, 100000, count, 4 * GIB, 3));
	model_build(_metadata, &map);
	ASSERT_EQ(0, pm_begin(self->fd, 12));
	for (i = 0; i < count; i++) {
		const struct pm_range *r = &map.ranges[i];
		__u32 index = 0;
		int ret;

		ret = pm_add(self->fd, r->start, r->last - r->start + 1,
			     r->cookie, r->offset, &index);
		ASSERT_EQ(0, ret)
			TH_LOG("ADD %u [%#llx-%#llx]: %s", r->index, r->start,
			       r->last, strerror(-ret));
		ASSERT_EQ(r->index, index);
	}
	commit_ok(_metadata, self->fd);
	log_stats(_metadata, self->fd, "100000 sections");
	check_published(_metadata, self->fd, &map, 1);

	addrs_push_random(_metadata, &list, 5, map.sorted[0]->start,
			  map.sorted[count - 1]->last, 50000);
	check_addrs(_metadata, self->fd, &map, list.addrs, list.count, 1);
	free(list.addrs);
	pm_map_free(&map);
}

TEST_F_TIMEOUT(physmap_ps, real_maps, 180)
{
	const char *dir = maps_dir();
	struct dirent **files;
	int nfiles, f;

	nfiles = scandir(dir, &files, is_map_file, alphasort);
	ASSERT_LE(MIN_MAP_FILES, nfiles)
		TH_LOG("%d map files in %s (set PHYSMAP_MAPS)", nfiles, dir);

	for (f = 0; f < nfiles; f++) {
		struct addr_list list = { 0 };
		struct physmap_stats stats;
		struct pm_shape shape;
		char what[300];
		struct pm_map map;
		size_t i;

		load_map(_metadata, &map, dir, files[f]->d_name);
		ASSERT_LT(0UL, map.count);
		publish(_metadata, self->fd, &map, variant->page_shift);
		check_published(_metadata, self->fd, &map, f + 1);

		for (i = 0; i < map.count; i++)
			check_lookup(_metadata, self->fd, &map,
				     map.ranges[i].start + (map.ranges[i].last -
							    map.ranges[i].start) / 2,
				     f + 1);
		addrs_push_random(_metadata, &list, f, map.sorted[0]->start,
				  map.sorted[map.count - 1]->last, 3000);
		addrs_push_random(_metadata, &list, f + 1000, 0, TOP, 1000);
		check_addrs(_metadata, self->fd, &map, list.addrs, list.count,
			    f + 1);

		snprintf(what, sizeof(what), "%s", files[f]->d_name);
		log_stats(_metadata, self->fd, what);
		/* one section, or one sub-page, may compact to no node at all */
		if (get_stats_shape(_metadata, self->fd, &stats, &shape)) {
			ASSERT_LE(shape.nodes * shape.node_bytes, stats.bytes);
			ASSERT_GE(shape.levels, shape.max_depth);
			ASSERT_LE(shape.subpages, shape.subpage_ranges);
		}
		ASSERT_LT(0ULL, stats.bytes);
		free(list.addrs);
		pm_map_free(&map);
		free(files[f]);
	}
	free(files);
}

/*
 * debugfs (not ABI): the shape and the dump of the published tree, parsed by
 * physmap_maps.c.
 */

/* nodes on the longest path below entry, at level; memo per node */
static __u64 dump_depth(const struct pm_dump *d, __u32 entry,
			unsigned int level, __u64 *memo)
{
	unsigned int skip = entry & PM_DUMP_SKIP_MASK, i;
	__u32 node = entry >> PM_DUMP_PTR_SHIFT;
	__u64 depth, max = 0;

	if (!skip)
		return 0;
	if (skip > level)
		return ~0ULL >> 1;	/* no lookup can go there */
	if (memo[node])
		return memo[node];
	for (i = 0; i < 1U << d->node_bits; i++) {
		depth = dump_depth(d, d->nodes[((size_t)node << d->node_bits) + i],
				   level - skip, memo);
		if (depth > max)
			max = depth;
	}
	memo[node] = max + 1;
	return max + 1;
}

/*
 * The dump of fd's published map against the model, STATS and the shape:
 * the same generation, counts and sections; the shape's skip counters and
 * depth over the dump's entries; and a walk of the parsed tree, the way the
 * kernel's lookup walks it, answering every address as the model and
 * LOOKUP_BATCH do.
 */
static void check_dump(struct __test_metadata *_metadata, int fd,
		       const struct pm_map *map, const __u64 *addrs,
		       size_t count)
{
	__u64 skips = 0, skipped = 0, gen, *memo;
	struct physmap_stats stats;
	struct pm_shape shape;
	struct pm_dump d;
	size_t i, nr, done;
	__u32 *indexes, n;

	ASSERT_TRUE(get_stats_shape(_metadata, fd, &stats, &shape));
	get_dump(_metadata, fd, &d);
	ASSERT_EQ(1, d.published);
	ASSERT_EQ(stats.generation, d.generation);
	ASSERT_EQ(stats.page_shift, d.page_shift);
	ASSERT_EQ(shape.levels, d.levels);
	ASSERT_EQ(shape.nodes, d.nr_nodes);
	ASSERT_EQ(shape.node_bytes, (__u64)sizeof(__u32) << d.node_bits);
	ASSERT_EQ(shape.subpages, d.nr_subpages);
	ASSERT_EQ(shape.subpage_ranges, d.nr_pieces);

	/* every section, after #0, the unassigned one */
	ASSERT_EQ(map->count + 1, d.nr_sections);
	for (i = 0; i < map->count; i++) {
		const struct pm_range *r = &map->ranges[i];
		const struct pm_dump_section *s = &d.sections[r->index];

		ASSERT_EQ(r->start, s->start) TH_LOG("section %u", r->index);
		ASSERT_EQ(r->last, s->last) TH_LOG("section %u", r->index);
		ASSERT_EQ(r->cookie, s->cookie) TH_LOG("section %u", r->index);
		ASSERT_EQ(r->offset, s->offset) TH_LOG("section %u", r->index);
	}

	/* the shape counts skipping entries over the root and every node */
	nr = (size_t)d.nr_nodes << d.node_bits;
	for (i = 0; i <= nr; i++) {
		__u32 e = i < nr ? d.nodes[i] : d.root;

		if ((e & PM_DUMP_SKIP_MASK) > 1) {
			skips++;
			skipped += (e & PM_DUMP_SKIP_MASK) - 1;
		}
	}
	ASSERT_EQ(shape.skip_entries, skips);
	ASSERT_EQ(shape.skipped_levels, skipped);
	memo = calloc(d.nr_nodes + 1, sizeof(*memo));
	ASSERT_NE(NULL, memo);
	ASSERT_EQ(shape.max_depth, dump_depth(&d, d.root, d.levels, memo));
	ASSERT_GE(shape.levels, shape.max_depth);
	free(memo);

	indexes = malloc(PHYSMAP_BATCH_MAX * sizeof(*indexes));
	ASSERT_NE(NULL, indexes);
	for (done = 0; done < count; done += n) {
		n = count - done < PHYSMAP_BATCH_MAX ? count - done :
						       PHYSMAP_BATCH_MAX;
		ASSERT_EQ(0, pm_lookup_batch(fd, addrs + done, indexes, n,
					     &gen));
		ASSERT_EQ(d.generation, gen);
		for (i = 0; i < n; i++) {
			__u64 addr = addrs[done + i];
			__u32 want = pm_model_index(map, addr), got, leaf;

			ASSERT_EQ(0, pm_dump_lookup(&d, addr, &got, &leaf))
				TH_LOG("the walk of %#llx goes astray", addr);
			ASSERT_EQ(want, got)
				TH_LOG("the walk of %#llx reached leaf %#x",
				       addr, leaf);
			ASSERT_EQ(indexes[i], got)
				TH_LOG("the walk of %#llx, against LOOKUP_BATCH",
				       addr);
		}
	}
	free(indexes);
	pm_dump_free(&d);
}

/* a file of fd's debugfs directory, read whole */
static char *read_debugfs(struct __test_metadata *_metadata, int fd,
			  const char *file, size_t *len)
{
	char path[256], why[256] = "", *text = NULL;
	int ret;

	ASSERT_EQ(0, pm_debugfs_path(fd, file, path, sizeof(path), why,
				     sizeof(why)))
		TH_LOG("%s", why);
	ret = pm_read_text(path, &text, len);
	ASSERT_EQ(0, ret) TH_LOG("%s: %s", path, strerror(-ret));
	return text;
}

TEST_F(physmap, dump_before_commit)
{
	static const __u64 addrs[] = {
		0, 0xfff, 0x1000, 0x100f, 0x1010, 0x2000, TOP,
	};
	struct pm_shape shape;
	struct pm_dump d;
	struct pm_map map;
	char *text, why[256];
	size_t len;

	if (pm_debugfs_unusable(self->fd, why, sizeof(why)))
		SKIP(return, "%s", why);
	pm_map_init(&map);
	text = read_debugfs(_metadata, self->fd, "dump", &len);
	ASSERT_STREQ("physmap: nothing published\n", text);
	free(text);
	text = read_debugfs(_metadata, self->fd, "shape", &len);
	ASSERT_STREQ("generation:     0\n", text);
	free(text);

	/* a pending map is not the published one */
	add_ok(_metadata, self->fd, &map, 0x1000, 0x10);
	get_dump(_metadata, self->fd, &d);
	ASSERT_EQ(0, d.published);
	ASSERT_EQ(0ULL, d.generation);
	ASSERT_EQ(0U, d.nr_sections);
	get_shape(_metadata, self->fd, &shape);
	ASSERT_EQ(0, shape.published);
	ASSERT_EQ(0ULL, shape.generation);

	/* once committed, it is */
	commit_ok(_metadata, self->fd);
	model_build(_metadata, &map);
	check_dump(_metadata, self->fd, &map, addrs, ARRAY_SIZE(addrs));
	pm_map_free(&map);
}

/*
 * Every open file has a debugfs directory of its own, named in fdinfo, its
 * files readable by root only; a dup() is the same file. The directory goes
 * with the last close of the file; its files still open then fail their
 * reads (EIO from debugfs) instead of reaching the file freed.
 */
TEST_F(physmap, debugfs_dir_per_open_file)
{
	static const char *const files[] = { "shape", "dump" };
	static const __u64 addrs[] = {
		0x10000, 0x1000f, 0x10010, 0x10020, 0x1002f, 0x10030, 0xffff,
		1ULL << 40, (1ULL << 40) - 1, (1ULL << 40) + (1ULL << 30),
		0x5000, 0x5fff, 0x6000, 0, TOP,
	};
	char dir[256], dir2[256], path[300], why[256] = "", buf[64];
	int fd2, dupfd, shape_fd, dump_fd;
	struct pm_map map, other;
	struct stat st;
	size_t i;

	if (pm_debugfs_unusable(self->fd, why, sizeof(why)))
		SKIP(return, "%s", why);
	pm_map_init(&map);
	pm_map_init(&other);
	add_ok(_metadata, self->fd, &map, 0x10000, 0x10);	/* a sub-page */
	add_ok(_metadata, self->fd, &map, 0x10020, 0x10);
	add_ok(_metadata, self->fd, &map, 1ULL << 40, 1ULL << 30);
	commit_ok(_metadata, self->fd);
	model_build(_metadata, &map);

	ASSERT_EQ(0, pm_debugfs_path(self->fd, "", dir, sizeof(dir), why,
				     sizeof(why)))
		TH_LOG("%s", why);
	ASSERT_EQ(0, stat(dir, &st)) TH_LOG("%s: %s", dir, strerror(errno));
	ASSERT_TRUE(S_ISDIR(st.st_mode));
	for (i = 0; i < ARRAY_SIZE(files); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		ASSERT_EQ(0, stat(path, &st))
			TH_LOG("%s: %s", path, strerror(errno));
		ASSERT_TRUE(S_ISREG(st.st_mode));
		ASSERT_EQ(0400U, st.st_mode & 0777) TH_LOG("%s", path);
	}

	/* a dup() is the same open file, another open() another one */
	dupfd = dup(self->fd);
	ASSERT_LE(0, dupfd);
	ASSERT_EQ(0, pm_debugfs_path(dupfd, "", path, sizeof(path), why,
				     sizeof(why)));
	ASSERT_STREQ(dir, path);
	fd2 = open_physmap(_metadata);
	ASSERT_EQ(0, pm_debugfs_path(fd2, "", dir2, sizeof(dir2), why,
				     sizeof(why)));
	ASSERT_STRNE(dir, dir2);
	add_ok(_metadata, fd2, &other, 0x5000, 0x1000);
	commit_ok(_metadata, fd2);
	model_build(_metadata, &other);
	check_dump(_metadata, self->fd, &map, addrs, ARRAY_SIZE(addrs));
	check_dump(_metadata, fd2, &other, addrs, ARRAY_SIZE(addrs));

	/* closing the dup leaves the file and its directory */
	ASSERT_EQ(0, close(dupfd));
	ASSERT_EQ(0, stat(dir, &st));

	/* the last close of the other removes its directory */
	snprintf(path, sizeof(path), "%s/shape", dir2);
	shape_fd = open(path, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, shape_fd) TH_LOG("%s: %s", path, strerror(errno));
	snprintf(path, sizeof(path), "%s/dump", dir2);
	dump_fd = open(path, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, dump_fd) TH_LOG("%s: %s", path, strerror(errno));
	ASSERT_EQ((ssize_t)sizeof(buf), read(dump_fd, buf, sizeof(buf)));
	ASSERT_EQ(0, close(fd2));
	ASSERT_EQ(-1, stat(dir2, &st)) TH_LOG("%s outlives its file", dir2);
	ASSERT_EQ(ENOENT, errno);
	/*
	 * Files opened before print from the copies their open() took: they
	 * read on, and need nothing of the file that is gone.
	 */
	ASSERT_LT(0, read(shape_fd, buf, sizeof(buf)));
	ASSERT_EQ(0, strncmp(buf, "generation:     1\n", 18));
	ASSERT_LE(0, read(dump_fd, buf, sizeof(buf)));
	ASSERT_EQ(0, close(shape_fd));
	ASSERT_EQ(0, close(dump_fd));
	snprintf(path, sizeof(path), "%s/dump", dir2);
	ASSERT_EQ(-1, open(path, O_RDONLY | O_CLOEXEC));
	ASSERT_EQ(ENOENT, errno);

	/* and the first file goes on as it was */
	check_nothing_pending(_metadata, self->fd, &map, 1);
	check_dump(_metadata, self->fd, &map, addrs, ARRAY_SIZE(addrs));
	pm_map_free(&map);
	pm_map_free(&other);
}

/*
 * The dump is one snapshot, taken at open(): read in pieces of any size
 * while another map is published and a third is pending, it is the text of
 * the map published at open(); read again from offset 0, the same text;
 * opened again, the new map.
 */
TEST_F(physmap, dump_is_a_snapshot)
{
	char path[256], why[256] = "", *whole, *text;
	struct pm_map first, second;
	struct addr_list list = { 0 };
	struct pm_dump d;
	size_t len, got, want;
	ssize_t n;
	int dfd;

	if (pm_debugfs_unusable(self->fd, why, sizeof(why)))
		SKIP(return, "%s", why);
	pm_map_init(&first);
	pm_map_init(&second);
	ASSERT_EQ(0, pm_map_generate(&first, 11, 300, 1ULL << 32, 12));
	ASSERT_EQ(0, pm_map_generate(&second, 12, 100, 1ULL << 36, 12));
	publish(_metadata, self->fd, &first, 12);
	whole = read_debugfs(_metadata, self->fd, "dump", &len);
	text = malloc(len + 1);
	ASSERT_NE(NULL, text);

	ASSERT_EQ(0, pm_debugfs_path(self->fd, "dump", path, sizeof(path),
				     why, sizeof(why)));
	dfd = open(path, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, dfd) TH_LOG("%s: %s", path, strerror(errno));
	ASSERT_EQ(7, read(dfd, text, 7));
	publish(_metadata, self->fd, &second, 16);
	ASSERT_EQ(0, pm_add(self->fd, 0x1000, 0x1000, 1, 0, NULL));
	for (got = 7;; got += n) {
		want = 13 + got % 4001;
		if (want > len + 1 - got)
			want = len + 1 - got;
		n = read(dfd, text + got, want);
		ASSERT_LE(0, n) TH_LOG("read: %s", strerror(errno));
		if (!n)
			break;
	}
	ASSERT_EQ(len, got);
	ASSERT_EQ(0, memcmp(whole, text, len))
		TH_LOG("the dump changed while it was read");

	/* from the start again: the same snapshot */
	ASSERT_EQ(0, lseek(dfd, 0, SEEK_SET));
	for (got = 0; (n = read(dfd, text + got, len + 1 - got)) > 0;)
		got += n;
	ASSERT_EQ(0, n);
	ASSERT_EQ(len, got);
	ASSERT_EQ(0, memcmp(whole, text, len));
	ASSERT_EQ(0, close(dfd));
	text[len] = '\0';
	ASSERT_EQ(0, pm_dump_parse(text, &d, why, sizeof(why)))
		TH_LOG("%s", why);
	ASSERT_EQ(1ULL, d.generation);
	ASSERT_EQ(first.count + 1, d.nr_sections);
	pm_dump_free(&d);

	/* opened again: the map published since, not the pending one */
	model_build(_metadata, &second);
	addrs_push_edges(_metadata, &list, &second);
	addrs_push(_metadata, &list, 0x1000);
	check_dump(_metadata, self->fd, &second, list.addrs, list.count);
	free(list.addrs);
	free(text);
	free(whole);
	pm_map_free(&first);
	pm_map_free(&second);
}

TEST_F_TIMEOUT(physmap_ps, dump_walks_like_lookup, 180)
{
	const char *dir = maps_dir();
	struct dirent **files;
	char why[256];
	int nfiles, f;

	if (pm_debugfs_unusable(self->fd, why, sizeof(why)))
		SKIP(return, "%s", why);
	nfiles = scandir(dir, &files, is_map_file, alphasort);
	ASSERT_LE(MIN_MAP_FILES, nfiles)
		TH_LOG("%d map files in %s (set PHYSMAP_MAPS)", nfiles, dir);

	for (f = 0; f < nfiles; f++) {
		struct addr_list list = { 0 };
		struct pm_map map;

		load_map(_metadata, &map, dir, files[f]->d_name);
		publish(_metadata, self->fd, &map, variant->page_shift);
		addrs_push_edges(_metadata, &list, &map);
		addrs_push_random(_metadata, &list, f, map.sorted[0]->start,
				  map.sorted[map.count - 1]->last, 2000);
		addrs_push_random(_metadata, &list, f + 1000, 0, TOP, 500);
		check_dump(_metadata, self->fd, &map, list.addrs, list.count);
		free(list.addrs);
		pm_map_free(&map);
		free(files[f]);
	}
	free(files);
}

/*
 * Whether the kernel has KASAN: its quarantine keeps freed objects (up to
 * 1/32 of RAM) out of MemAvailable, so MemAvailable says nothing about
 * leaks there (the debug tier uses kmemleak instead).
 */
static int kernel_has_kasan(void)
{
	char line[256];
	int found = 0;
	FILE *f = fopen("/proc/kallsyms", "r");

	if (!f)
		return 0;
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, " kasan_quarantine_reduce") != NULL;
	fclose(f);
	return found;
}

TEST_F_TIMEOUT(physmap, repeated_commits_do_not_leak, 300)
{
	long long before, after, growth;
	struct pm_map map;
	int i;

	if (kernel_has_kasan())
		SKIP(return, "KASAN quarantine: MemAvailable is no leak measure (kmemleak is)");
	load_map(_metadata, &map, maps_dir(), LEAK_MAP_FILE);
	/* warm up the allocator caches first */
	for (i = 0; i < 20; i++)
		publish(_metadata, self->fd, &map, 12);
	sleep(1);
	before = mem_available_kib(_metadata);
	after = before;
	growth = 0;

	for (i = 0; i < LEAK_COMMITS; i++)
		publish(_metadata, self->fd, &map, 12);

	/* old maps may wait for an RCU grace period: let them go */
	for (i = 0; i < 10; i++) {
		sleep(1);
		after = mem_available_kib(_metadata);
		growth = before - after;
		if (growth < LEAK_LIMIT_KIB)
			break;
	}
	TH_LOG("%d commits of %s: MemAvailable %lld -> %lld kB, growth %lld kB",
	       LEAK_COMMITS, LEAK_MAP_FILE, before, after, growth);
	ASSERT_GT(LEAK_LIMIT_KIB, growth);
	check_published(_metadata, self->fd, &map, 20 + LEAK_COMMITS);
	pm_map_free(&map);
}

/*
 * PHYSMAP_IOC_ADD past max_sections. The module parameter is lowered for the
 * test when it is writable; otherwise the map is filled to the real limit.
 */
FIXTURE(physmap_limit) {
	int fd;
	__u32 limit;
	char saved[32];
};

FIXTURE_SETUP(physmap_limit)
{
	char value[32];
	FILE *f;

	self->fd = open_physmap(_metadata);
	self->limit = PM_MAX_SECTIONS_DEFAULT;
	f = fopen(PM_MAX_SECTIONS_PARAM, "r");
	if (!f) {
		TH_LOG("no %s: assuming %u", PM_MAX_SECTIONS_PARAM,
		       self->limit);
		return;
	}
	ASSERT_NE(NULL, fgets(self->saved, sizeof(self->saved), f));
	fclose(f);
	self->limit = strtoul(self->saved, NULL, 10);
	snprintf(value, sizeof(value), "%u", MAX_SECTIONS_TEST);
	if (pm_write_str(PM_MAX_SECTIONS_PARAM, value)) {
		TH_LOG("%s not writable: filling %u sections",
		       PM_MAX_SECTIONS_PARAM, self->limit);
		self->saved[0] = '\0';
		return;
	}
	self->limit = MAX_SECTIONS_TEST;
}

FIXTURE_TEARDOWN(physmap_limit)
{
	if (self->saved[0] && pm_write_str(PM_MAX_SECTIONS_PARAM, self->saved))
		TH_LOG("could not restore %s to %s", PM_MAX_SECTIONS_PARAM,
		       self->saved);
	close(self->fd);
}

TEST_F_TIMEOUT(physmap_limit, add_past_max_sections, 600)
{
	/* sections of 2^39 bytes: up to 2^25 of them fit under 2^64 */
	const unsigned int shift = 39;
	struct addr_list list = { 0 };
	struct physmap_section section;
	struct physmap_stats stats;
	struct pm_map map;
	__u32 i, index;
	__u64 next;

	if (self->limit > PM_MAX_SECTIONS_DEFAULT)
		SKIP(return, "max_sections %u is too many to fill",
		     self->limit);
	ASSERT_LT(0U, self->limit);
	pm_map_init(&map);
	ASSERT_EQ(0, pm_begin(self->fd, 12));
	for (i = 0; i < self->limit; i++) {
		int ret = pm_add(self->fd, (__u64)i << shift, 1ULL << shift,
				 i, 0, &index);

		ASSERT_EQ(0, ret)
			TH_LOG("ADD %u of %u: %s", i + 1, self->limit,
			       strerror(-ret));
		ASSERT_EQ(i + 1, index);
	}

	/* full: EINVAL and EEXIST still come first, then ENOSPC */
	next = (__u64)self->limit << shift;
	add_fails(_metadata, self->fd, next, 0, EINVAL);
	ASSERT_EQ(-EINVAL, add_flags(self->fd, next, 0x1000, 1));
	add_fails(_metadata, self->fd, 0, 0x1000, EEXIST);
	add_fails(_metadata, self->fd, next, 0x1000, ENOSPC);
	add_fails(_metadata, self->fd, next, 0x1000, ENOSPC);

	/* the full map commits with exactly max_sections sections */
	commit_ok(_metadata, self->fd);
	log_stats(_metadata, self->fd, "max_sections");
	get_stats(_metadata, self->fd, &stats);
	ASSERT_EQ(1ULL, stats.generation);
	ASSERT_EQ(self->limit, stats.sections);
	ASSERT_EQ(0, pm_get_section(self->fd, self->limit, &section));
	ASSERT_EQ((__u64)(self->limit - 1) << shift, section.start);
	ASSERT_EQ(-ENOENT, pm_get_section(self->fd, self->limit + 1, &section));

	/* a sample of sections, and the rejected range unassigned */
	for (i = 0; i < self->limit; i += 1 + self->limit / 1024) {
		__u64 start = (__u64)i << shift;
		__u64 last = start + (1ULL << shift) - 1;

		ASSERT_EQ(0, pm_map_append(&map, start, last, i, 0));
		map.ranges[map.count - 1].index = i + 1;
		addrs_push(_metadata, &list, start);
		addrs_push(_metadata, &list, start + 0x1234);
		addrs_push(_metadata, &list, last);
	}
	addrs_push(_metadata, &list, next);
	addrs_push(_metadata, &list, next + 0xfff);
	addrs_push(_metadata, &list, TOP);
	model_build(_metadata, &map);
	check_addrs(_metadata, self->fd, &map, list.addrs, list.count, 1);

	/* an update holds max_sections too: REMOVE makes room for one ADD */
	ASSERT_EQ(0, pm_begin_update(self->fd, 0));
	add_fails(_metadata, self->fd, next, 0x1000, ENOSPC);
	ASSERT_EQ(0, pm_remove(self->fd, 5));
	ASSERT_EQ(0, pm_add(self->fd, next, 0x1000, 7, 0, &index));
	ASSERT_EQ(5U, index);
	add_fails(_metadata, self->fd, next + 0x1000, 0x1000, ENOSPC);
	commit_ok(_metadata, self->fd);
	get_stats(_metadata, self->fd, &stats);
	ASSERT_EQ(self->limit, stats.sections);
	ASSERT_EQ(0, pm_get_section(self->fd, 5, &section));
	ASSERT_EQ(next, section.start);

	/* a new map starts empty again */
	ASSERT_EQ(0, pm_add(self->fd, next, 0x1000, 1, 0, &index));
	ASSERT_EQ(1U, index);
	free(list.addrs);
	pm_map_free(&map);
}

TEST_HARNESS_MAIN
