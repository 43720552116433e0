// SPDX-License-Identifier: GPL-2.0
/*
 * physmap_test.c - /dev/physmap against its UAPI contract (physmap_ioctl.h)
 *
 * Every error case checks the errno and that nothing changed: the pending map
 * (the next ADD gets the next index, COMMIT publishes exactly the sections
 * added before) and the published map (generation, sections, lookups).
 *
 * Environment: PHYSMAP_MAPS, the directory of the QEMU map files
 * (default testdata/qemu-7.2, or ../testdata/qemu-7.2).
 */
#define _GNU_SOURCE
#include <dirent.h>
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

#define MIB		(1ULL << 20)
#define GIB		(1ULL << 30)
#define TIB		(1ULL << 40)
#define TOP		(~0ULL)

#define POISON32	0xa5a5a5a5U
#define POISON64	0xa5a5a5a5a5a5a5a5ULL

/* mismatches a check logs; it counts them all */
#define MAX_LOGGED	10
/* most sections a check reads one by one with GET_SECTION and LOOKUP */
#define MAX_SINGLE	2048

#define DEFAULT_MAPS_DIR	"testdata/qemu-7.2"
#define MIN_MAP_FILES		20
#define LEAK_MAP_FILE		"q35_big.booted.memory.txt"
#define LEAK_COMMITS		1000
#define LEAK_LIMIT_KIB		(8 * 1024)
#define MAX_SECTIONS_PARAM	"/sys/module/physmap/parameters/max_sections"
#define MAX_SECTIONS_DEFAULT	1000000U
#define MAX_SECTIONS_TEST	64U

/* a pointer to the top page of the address space: never a user address */
#define KERNEL_PTR		((void *)~(uintptr_t)0xfff)

struct addr_list {
	__u64 *addrs;
	size_t count;
	size_t capacity;
};

static int open_physmap(struct __test_metadata *_metadata)
{
	int fd = open(PHYSMAP_DEV, O_RDWR | O_CLOEXEC);

	ASSERT_LE(0, fd)
		TH_LOG("cannot open " PHYSMAP_DEV ": %s (is physmap loaded?)",
		       strerror(errno));
	return fd;
}

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
	__u32 index = POISON32;
	int ret;

	ret = pm_add(fd, start, size, cookie, offset, &index);
	ASSERT_EQ(0, ret)
		TH_LOG("ADD [%#llx +%#llx]: %s", start, size, strerror(-ret));
	ASSERT_EQ(0, pm_map_append(map, start, start + size - 1, cookie,
				   offset));
	ASSERT_EQ(map->count, index)
		TH_LOG("ADD [%#llx +%#llx] got index %u", start, size, index);
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

static void log_stats(struct __test_metadata *_metadata, const char *what,
		      const struct physmap_stats *st)
{
	TH_LOG("%s: generation %llu page_shift %u sections %u nodes %u bytes %llu levels %u subpages %u subpage_ranges %u skip_entries %u skipped_levels %u max_depth %u node_bytes %u",
	       what, (unsigned long long)st->generation, st->page_shift,
	       st->sections, st->nodes, (unsigned long long)st->bytes,
	       st->levels, st->subpages, st->subpage_ranges, st->skip_entries,
	       st->skipped_levels, st->max_depth, st->node_bytes);
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
		__u64 batch_gen = POISON64;
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
 * section by GET_SECTION (a sample of big maps), nothing past the last index,
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
	ASSERT_EQ(-ENOENT, pm_get_section(fd, map->count + 1, &section));

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
	static const __u32 bad_flags[] = { 1, 2, 0x80000000U, 0xffffffffU };
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
	ASSERT_EQ(-EINVAL, begin_flags(self->fd, 0, 1));
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
	gen = POISON64;
	ASSERT_EQ(0, pm_lookup_batch(self->fd, list.addrs, indexes, 0, &gen));
	ASSERT_EQ(1ULL, gen);
	ASSERT_EQ(POISON32, indexes[0]);

	/* 1 and PHYSMAP_BATCH_MAX; nothing written past count */
	ASSERT_EQ(0, pm_lookup_batch(self->fd, list.addrs, indexes, 1, &gen));
	ASSERT_EQ(pm_model_index(&map, list.addrs[0]), indexes[0]);
	ASSERT_EQ(POISON32, indexes[1]);
	gen = POISON64;
	ASSERT_EQ(0, pm_lookup_batch(self->fd, list.addrs, indexes,
				     PHYSMAP_BATCH_MAX, &gen));
	ASSERT_EQ(1ULL, gen);
	for (i = 0; i < PHYSMAP_BATCH_MAX; i++)
		ASSERT_EQ(pm_model_index(&map, list.addrs[i]), indexes[i])
			TH_LOG("address %#llx", list.addrs[i]);
	ASSERT_EQ(POISON32, indexes[PHYSMAP_BATCH_MAX]);
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

TEST_F(physmap, unknown_ioctl)
{
	const unsigned long cmds[] = {
		0,
		_IO(PHYSMAP_IOC_TYPE, 0x07),
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
		/* right number and size, wrong direction */
		_IO(PHYSMAP_IOC_TYPE, 0x00),
		_IOW(PHYSMAP_IOC_TYPE, 0x01, struct physmap_section),
		_IOR(PHYSMAP_IOC_TYPE, 0x03, struct physmap_lookup),
		_IOW(PHYSMAP_IOC_TYPE, 0x06, struct physmap_stats),
		_IOR(PHYSMAP_IOC_TYPE, 0x07, struct physmap_tree),
		_IOWR(PHYSMAP_IOC_TYPE, 0x07, struct physmap_stats),
	};
	const unsigned long known[] = {
		PHYSMAP_IOC_BEGIN, PHYSMAP_IOC_ADD, PHYSMAP_IOC_COMMIT,
		PHYSMAP_IOC_LOOKUP, PHYSMAP_IOC_LOOKUP_BATCH,
		PHYSMAP_IOC_GET_SECTION, PHYSMAP_IOC_STATS,
		PHYSMAP_IOC_GET_TREE,
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

TEST_F_TIMEOUT(physmap_ps, stats_plausible, 60)
{
	const __u64 page = 1ULL << 16;	/* a page under every page_shift */
	struct physmap_stats stats, again;
	struct pm_map map;
	__u64 gen = 0;

	pm_map_init(&map);
	get_stats(_metadata, self->fd, &stats);
	ASSERT_EQ(0ULL, stats.generation);
	ASSERT_EQ(0U, stats.sections);

	ASSERT_EQ(0, pm_begin(self->fd, variant->page_shift));
	commit_ok(_metadata, self->fd);
	get_stats(_metadata, self->fd, &stats);
	ASSERT_EQ(++gen, stats.generation);
	ASSERT_EQ(0U, stats.sections);
	ASSERT_EQ(variant->page_shift, stats.page_shift);

	/* whole pages only, apart enough for the root to stay a node */
	ASSERT_EQ(0, pm_map_append(&map, page, 4 * page - 1, 1, 0));
	ASSERT_EQ(0, pm_map_append(&map, 16 * page, 17 * page - 1, 2, 0));
	ASSERT_EQ(0, pm_map_append(&map, GIB, 2 * GIB - 1, 3, 0));
	ASSERT_EQ(0, pm_map_append(&map, TOP - page + 1, TOP, 4, 0));
	publish(_metadata, self->fd, &map, variant->page_shift);
	get_stats(_metadata, self->fd, &stats);
	log_stats(_metadata, "whole pages", &stats);
	ASSERT_EQ(++gen, stats.generation);
	ASSERT_EQ(map.count, stats.sections);
	ASSERT_EQ(variant->page_shift, stats.page_shift);
	ASSERT_LE(1U, stats.nodes);
	ASSERT_LT(0U, stats.node_bytes);
	ASSERT_LE((__u64)stats.nodes * stats.node_bytes, stats.bytes);
	ASSERT_LE(1U, stats.levels);
	ASSERT_LE(1U, stats.max_depth);
	ASSERT_GE(stats.levels, stats.max_depth);
	ASSERT_EQ(0U, stats.subpages);
	ASSERT_EQ(0U, stats.subpage_ranges);

	/*
	 * a few bytes inside one page, alone there: the section's leaf and
	 * the final range check resolve it, no sub-page
	 */
	ASSERT_EQ(0, pm_map_append(&map, 32 * page + 0x10, 32 * page + 0x1f,
				   5, 0));
	publish(_metadata, self->fd, &map, variant->page_shift);
	get_stats(_metadata, self->fd, &stats);
	log_stats(_metadata, "a part page alone", &stats);
	ASSERT_EQ(++gen, stats.generation);
	ASSERT_EQ(map.count, stats.sections);
	ASSERT_EQ(0U, stats.subpages);
	ASSERT_EQ(0U, stats.subpage_ranges);

	/* a second section in the same page: one sub-page of two ranges */
	ASSERT_EQ(0, pm_map_append(&map, 32 * page + 0x40, 32 * page + 0x4f,
				   6, 0));
	publish(_metadata, self->fd, &map, variant->page_shift);
	get_stats(_metadata, self->fd, &stats);
	log_stats(_metadata, "one sub-page", &stats);
	ASSERT_EQ(++gen, stats.generation);
	ASSERT_EQ(map.count, stats.sections);
	ASSERT_EQ(1U, stats.subpages);
	ASSERT_EQ(2U, stats.subpage_ranges);

	/* partial first and last pages shared with nothing: no more */
	ASSERT_EQ(0, pm_map_append(&map, 64 * page + 1, 70 * page - 2, 7, 0));
	publish(_metadata, self->fd, &map, variant->page_shift);
	get_stats(_metadata, self->fd, &stats);
	log_stats(_metadata, "part pages alone", &stats);
	ASSERT_EQ(++gen, stats.generation);
	ASSERT_EQ(1U, stats.subpages);
	ASSERT_EQ(2U, stats.subpage_ranges);
	ASSERT_LE((__u64)stats.nodes * stats.node_bytes, stats.bytes);

	/* a section ending in that first page and one starting in the last */
	ASSERT_EQ(0, pm_map_append(&map, 63 * page, 64 * page, 8, 0));
	ASSERT_EQ(0, pm_map_append(&map, 70 * page - 1, 70 * page + 5, 9, 0));
	publish(_metadata, self->fd, &map, variant->page_shift);
	get_stats(_metadata, self->fd, &stats);
	log_stats(_metadata, "three sub-pages", &stats);
	ASSERT_EQ(++gen, stats.generation);
	ASSERT_EQ(3U, stats.subpages);
	ASSERT_EQ(6U, stats.subpage_ranges);
	ASSERT_LE((__u64)stats.nodes * stats.node_bytes, stats.bytes);

	/* pending sections change nothing */
	ASSERT_EQ(0, pm_add(self->fd, 128 * page + 3, 5, 7, 0, NULL));
	get_stats(_metadata, self->fd, &again);
	ASSERT_EQ(0, memcmp(&stats, &again, sizeof(stats)));
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
	get_stats(_metadata, self->fd, &stats);
	log_stats(_metadata, "large sections", &stats);
	ASSERT_GE(256U, stats.nodes);
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
	struct physmap_stats stats;
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
	get_stats(_metadata, self->fd, &stats);
	log_stats(_metadata, "100000 sections", &stats);
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

		get_stats(_metadata, self->fd, &stats);
		snprintf(what, sizeof(what), "%s", files[f]->d_name);
		log_stats(_metadata, what, &stats);
		/* one section, or one sub-page, may compact to no node at all */
		ASSERT_LT(0ULL, stats.bytes);
		ASSERT_LE((__u64)stats.nodes * stats.node_bytes, stats.bytes);
		ASSERT_GE(stats.levels, stats.max_depth);
		ASSERT_LE(stats.subpages, stats.subpage_ranges);
		free(list.addrs);
		pm_map_free(&map);
		free(files[f]);
	}
	free(files);
}

/* PHYSMAP_IOC_GET_TREE: the published tree, copied out */
struct tree_copy {
	struct physmap_tree tree;
	__u32 *nodes;
	struct physmap_tree_subpage *subpages;
	struct physmap_tree_piece *pieces;
};

static int get_tree_flags(int fd, struct physmap_tree *tree, __u32 flags)
{
	tree->flags = flags;
	return raw_ioctl(fd, PHYSMAP_IOC_GET_TREE, tree);
}

/* ask for the sizes with no room, then copy the tree out */
static void get_tree(struct __test_metadata *_metadata, int fd,
		     struct tree_copy *tc)
{
	struct physmap_tree *t = &tc->tree;
	int ret;

	memset(tc, 0, sizeof(*tc));
	ret = get_tree_flags(fd, t, 0);
	ASSERT_TRUE(ret == 0 || ret == -E2BIG) TH_LOG("GET_TREE: %s", strerror(-ret));
	ASSERT_EQ(ret == 0, !t->nr_nodes && !t->nr_subpages && !t->nr_pieces);
	tc->nodes = malloc(((size_t)t->nr_nodes * PHYSMAP_TREE_NODE_SLOTS + 1) *
			   sizeof(*tc->nodes));
	tc->subpages = malloc((t->nr_subpages + 1) * sizeof(*tc->subpages));
	tc->pieces = malloc((t->nr_pieces + 1) * sizeof(*tc->pieces));
	ASSERT_TRUE(tc->nodes && tc->subpages && tc->pieces);
	t->nodes = (uintptr_t)tc->nodes;
	t->subpages = (uintptr_t)tc->subpages;
	t->pieces = (uintptr_t)tc->pieces;
	ret = get_tree_flags(fd, t, 0);
	ASSERT_EQ(0, ret) TH_LOG("GET_TREE: %s", strerror(-ret));
	ASSERT_EQ(PHYSMAP_TREE_NODE_SLOTS, t->node_slots);
}

static void tree_copy_free(struct tree_copy *tc)
{
	free(tc->nodes);
	free(tc->subpages);
	free(tc->pieces);
}

/*
 * A lookup done in userspace on the copied tree, the way
 * Documentation/physmap.rst describes it: the index of the section whose
 * leaf the walk reaches, before the final range check (done by the caller).
 * Asserts that every pointer stays inside the copy.
 */
static __u32 tree_walk(struct __test_metadata *_metadata,
		       const struct tree_copy *tc, __u64 addr, bool *subpage)
{
	const struct physmap_tree *t = &tc->tree;
	__u64 page = addr >> t->page_shift;
	unsigned int level = t->levels;
	__u32 entry = t->root;

	while (entry & PHYSMAP_TREE_SKIP_MASK) {
		__u32 node = entry >> PHYSMAP_TREE_PTR_SHIFT;
		unsigned int slot;

		ASSERT_LE(entry & PHYSMAP_TREE_SKIP_MASK, level);
		level -= entry & PHYSMAP_TREE_SKIP_MASK;
		ASSERT_LT(node, t->nr_nodes);
		slot = (page >> (level * PHYSMAP_TREE_NODE_BITS)) &
		       (PHYSMAP_TREE_NODE_SLOTS - 1);
		entry = tc->nodes[(size_t)node * PHYSMAP_TREE_NODE_SLOTS + slot];
	}
	*subpage = entry & PHYSMAP_TREE_SUBPAGE;
	if (*subpage) {
		const struct physmap_tree_subpage *sp;
		__u32 off = addr & ((1ULL << t->page_shift) - 1);
		__u32 i;

		ASSERT_LT(entry >> PHYSMAP_TREE_PTR_SHIFT, t->nr_subpages);
		sp = &tc->subpages[entry >> PHYSMAP_TREE_PTR_SHIFT];
		ASSERT_LE((__u64)sp->first + sp->count, t->nr_pieces);
		if (sp->page != page)
			return PHYSMAP_UNASSIGNED;
		for (i = 0; i < sp->count; i++) {
			const struct physmap_tree_piece *p = &tc->pieces[sp->first + i];

			ASSERT_LE(p->start, p->last);
			if (i)
				ASSERT_LT(tc->pieces[sp->first + i - 1].last, p->start);
			if (off >= p->start && off <= p->last)
				return p->section;
		}
		return PHYSMAP_UNASSIGNED;
	}
	return entry >> PHYSMAP_TREE_PTR_SHIFT;
}

/* the copied tree answers every address as the model does */
static void check_tree(struct __test_metadata *_metadata, int fd,
		       const struct pm_map *map, const __u64 *addrs,
		       size_t count)
{
	struct physmap_stats stats;
	struct tree_copy tc;
	__u32 skips = 0, skipped = 0;
	size_t i;

	get_stats(_metadata, fd, &stats);
	get_tree(_metadata, fd, &tc);
	ASSERT_EQ(stats.generation, tc.tree.generation);
	ASSERT_EQ(stats.nodes, tc.tree.nr_nodes);
	ASSERT_EQ(stats.subpages, tc.tree.nr_subpages);
	ASSERT_EQ(stats.subpage_ranges, tc.tree.nr_pieces);
	ASSERT_EQ(stats.page_shift, tc.tree.page_shift);
	ASSERT_EQ(stats.levels, tc.tree.levels);
	/* STATS counts skipping entries over the root and every node */
	for (i = 0; i <= (size_t)tc.tree.nr_nodes * PHYSMAP_TREE_NODE_SLOTS; i++) {
		__u32 e = i ? tc.nodes[i - 1] : tc.tree.root;

		if ((e & PHYSMAP_TREE_SKIP_MASK) > 1) {
			skips++;
			skipped += (e & PHYSMAP_TREE_SKIP_MASK) - 1;
		}
		if (!(e & PHYSMAP_TREE_SKIP_MASK) && !(e & PHYSMAP_TREE_SUBPAGE))
			ASSERT_GE(map->count, (size_t)(e >> PHYSMAP_TREE_PTR_SHIFT));
	}
	ASSERT_EQ(stats.skip_entries, skips);
	ASSERT_EQ(stats.skipped_levels, skipped);

	for (i = 0; i < count; i++) {
		__u32 want = pm_model_index(map, addrs[i]);
		bool subpage;
		__u32 got = tree_walk(_metadata, &tc, addrs[i], &subpage);

		/* the final range check of a leaf reached over skipped levels */
		if (!subpage && got != PHYSMAP_UNASSIGNED) {
			const struct pm_range *r = &map->ranges[got - 1];

			if (addrs[i] < r->start || addrs[i] > r->last)
				got = PHYSMAP_UNASSIGNED;
		}
		ASSERT_EQ(want, got) TH_LOG("tree walk of %#llx", addrs[i]);
	}
	tree_copy_free(&tc);
}

TEST_F(physmap, get_tree_before_commit)
{
	struct physmap_tree tree;

	memset(&tree, 0xa5, sizeof(tree));
	tree.nr_nodes = tree.nr_subpages = tree.nr_pieces = 0;
	ASSERT_EQ(0, get_tree_flags(self->fd, &tree, 0));
	ASSERT_EQ(0ULL, tree.generation);
	ASSERT_EQ(0U, tree.nr_nodes);
	ASSERT_EQ(0U, tree.nr_subpages);
	ASSERT_EQ(0U, tree.nr_pieces);
	ASSERT_EQ(0U, tree.root);
	ASSERT_EQ(PHYSMAP_TREE_NODE_SLOTS, tree.node_slots);
	/* a pending map is not the published one */
	ASSERT_EQ(0, pm_add(self->fd, 0x1000, 0x10, 1, 0, NULL));
	ASSERT_EQ(0, get_tree_flags(self->fd, &tree, 0));
	ASSERT_EQ(0ULL, tree.generation);
	ASSERT_EQ(0U, tree.nr_subpages);
}

TEST_F(physmap, get_tree_rejects_bad_arguments)
{
	struct physmap_stats stats;
	struct physmap_tree tree;
	struct tree_copy tc;
	struct bad_mem bm;
	struct pm_map map;
	__u32 *nodes;
	size_t node_words;

	pm_map_init(&map);
	add_ok(_metadata, self->fd, &map, 0x10000, 0x10);	/* a sub-page */
	add_ok(_metadata, self->fd, &map, 0x10020, 0x10);
	add_ok(_metadata, self->fd, &map, 1ULL << 40, 1ULL << 30);
	commit_ok(_metadata, self->fd);
	model_build(_metadata, &map);
	get_stats(_metadata, self->fd, &stats);
	ASSERT_LT(0U, stats.nodes);
	ASSERT_EQ(1U, stats.subpages);
	ASSERT_EQ(2U, stats.subpage_ranges);
	get_tree(_metadata, self->fd, &tc);

	/* flags: EINVAL, nothing written */
	tree = tc.tree;
	tree.root = POISON32;
	ASSERT_EQ(-EINVAL, get_tree_flags(self->fd, &tree, 1));
	ASSERT_EQ(POISON32, tree.root);
	ASSERT_EQ(-EINVAL, get_tree_flags(self->fd, &tree, 0x80000000U));

	/* too little room in any array: E2BIG, the counts, arrays untouched */
	node_words = (size_t)stats.nodes * PHYSMAP_TREE_NODE_SLOTS;
	nodes = malloc(node_words * sizeof(*nodes));
	ASSERT_NE(NULL, nodes);
	for (int which = 0; which < 3; which++) {
		memset(nodes, 0xa5, node_words * sizeof(*nodes));
		memset(tc.subpages, 0xa5, sizeof(*tc.subpages));
		memset(tc.pieces, 0xa5, 2 * sizeof(*tc.pieces));
		tree = tc.tree;
		tree.nodes = (uintptr_t)nodes;
		tree.nr_nodes = stats.nodes - (which == 0);
		tree.nr_subpages = stats.subpages - (which == 1);
		tree.nr_pieces = stats.subpage_ranges - (which == 2);
		tree.root = POISON32;
		ASSERT_EQ(-E2BIG, get_tree_flags(self->fd, &tree, 0));
		ASSERT_EQ(stats.nodes, tree.nr_nodes);
		ASSERT_EQ(stats.subpages, tree.nr_subpages);
		ASSERT_EQ(stats.subpage_ranges, tree.nr_pieces);
		ASSERT_EQ(tc.tree.root, tree.root);
		ASSERT_EQ(1ULL, tree.generation);
		ASSERT_EQ(POISON32, nodes[0]);
		ASSERT_EQ(POISON32, nodes[node_words - 1]);
		ASSERT_EQ(POISON32, tc.pieces[1].section);
		ASSERT_EQ(POISON64, tc.subpages[0].page);
	}
	free(nodes);

	/* a bad structure, or a bad array pointer with room: EFAULT */
	bad_mem_init(_metadata, &bm);
	check_efault(_metadata, self->fd, &bm, "GET_TREE", PHYSMAP_IOC_GET_TREE,
		     &tc.tree, sizeof(tc.tree), true);
	tree = tc.tree;
	tree.nodes = (uintptr_t)KERNEL_PTR;
	ASSERT_EQ(-EFAULT, get_tree_flags(self->fd, &tree, 0));
	tree = tc.tree;
	tree.subpages = (uintptr_t)bm.unmapped;
	ASSERT_EQ(-EFAULT, get_tree_flags(self->fd, &tree, 0));
	tree = tc.tree;
	tree.pieces = (uintptr_t)bm.ro_page;
	ASSERT_EQ(-EFAULT, get_tree_flags(self->fd, &tree, 0));

	/* nothing changed, and the tree still answers as the model */
	check_nothing_pending(_metadata, self->fd, &map, 1);
	{
		__u64 addrs[] = { 0x10000, 0x1000f, 0x10010, 0x10020, 0x1002f,
				  0x10030, 0xffff, 1ULL << 40, (1ULL << 40) - 1,
				  (1ULL << 40) + (1ULL << 30), 0, TOP };

		check_tree(_metadata, self->fd, &map, addrs, ARRAY_SIZE(addrs));
	}
	tree_copy_free(&tc);
	pm_map_free(&map);
}

TEST_F_TIMEOUT(physmap_ps, get_tree_walks_like_lookup, 180)
{
	const char *dir = maps_dir();
	struct dirent **files;
	int nfiles, f;

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
		check_tree(_metadata, self->fd, &map, list.addrs, list.count);
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

static int write_param(const char *value)
{
	int fd = open(MAX_SECTIONS_PARAM, O_WRONLY | O_CLOEXEC);
	ssize_t len = strlen(value);
	int ok;

	if (fd < 0)
		return -1;
	ok = write(fd, value, len) == len;
	close(fd);
	return ok ? 0 : -1;
}

FIXTURE_SETUP(physmap_limit)
{
	char value[32];
	FILE *f;

	self->fd = open_physmap(_metadata);
	self->limit = MAX_SECTIONS_DEFAULT;
	f = fopen(MAX_SECTIONS_PARAM, "r");
	if (!f) {
		TH_LOG("no %s: assuming %u", MAX_SECTIONS_PARAM,
		       self->limit);
		return;
	}
	ASSERT_NE(NULL, fgets(self->saved, sizeof(self->saved), f));
	fclose(f);
	self->limit = strtoul(self->saved, NULL, 10);
	snprintf(value, sizeof(value), "%u", MAX_SECTIONS_TEST);
	if (write_param(value)) {
		TH_LOG("%s not writable: filling %u sections",
		       MAX_SECTIONS_PARAM, self->limit);
		self->saved[0] = '\0';
		return;
	}
	self->limit = MAX_SECTIONS_TEST;
}

FIXTURE_TEARDOWN(physmap_limit)
{
	if (self->saved[0] && write_param(self->saved))
		TH_LOG("could not restore %s to %s", MAX_SECTIONS_PARAM,
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

	if (self->limit > MAX_SECTIONS_DEFAULT)
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
	get_stats(_metadata, self->fd, &stats);
	log_stats(_metadata, "max_sections", &stats);
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

	/* a new map starts empty again */
	ASSERT_EQ(0, pm_add(self->fd, next, 0x1000, 1, 0, &index));
	ASSERT_EQ(1U, index);
	free(list.addrs);
	pm_map_free(&map);
}

TEST_HARNESS_MAIN
