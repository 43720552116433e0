// SPDX-License-Identifier: GPL-2.0
/*
 * physmap_maps.c - maps (read by tools/mapfile.c), the brute-force model,
 * ioctl wrappers and debugfs readers (see physmap_maps.h)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "libphysmap.h"
#include "mapfile.h"
#include "physmap_maps.h"

/* room for need elements of elem bytes at *array, which has *cap */
static int grow(void **array, size_t *cap, size_t need, size_t elem)
{
	size_t n = *cap ? *cap : 64;
	void *p;

	if (need <= *cap)
		return 0;
	while (n < need)
		n *= 2;
	p = realloc(*array, n * elem);
	if (!p)
		return -ENOMEM;
	*array = p;
	*cap = n;
	return 0;
}

void pm_map_init(struct pm_map *map)
{
	memset(map, 0, sizeof(*map));
}

void pm_map_free(struct pm_map *map)
{
	while (map->count)
		free(map->ranges[--map->count].name);
	free(map->ranges);
	free(map->sorted);
	pm_map_init(map);
}

static int map_append_named(struct pm_map *map, __u64 start, __u64 last,
			    __u64 cookie, __u64 offset, unsigned int line,
			    const char *kind, const char *name)
{
	struct pm_range *range;

	if (last < start || (start == 0 && last == ~0ULL)) {
		errno = EINVAL;
		return -1;
	}
	if (grow((void **)&map->ranges, &map->capacity, map->count + 1,
		 sizeof(*map->ranges))) {
		errno = ENOMEM;
		return -1;
	}
	range = &map->ranges[map->count];
	memset(range, 0, sizeof(*range));
	range->name = strdup(name);
	if (!range->name)
		return -1;
	range->start = start;
	range->last = last;
	range->cookie = cookie;
	range->offset = offset;
	range->index = pm_map_next_index(map);
	range->line = line;
	snprintf(range->kind, sizeof(range->kind), "%s", kind);
	map->count++;
	if (range->index > map->max_index)
		map->max_index = range->index;

	/* the model no longer matches the ranges */
	free(map->sorted);
	map->sorted = NULL;
	return 0;
}

__u32 pm_map_next_index(const struct pm_map *map)
{
	unsigned char *held;
	__u32 index;
	size_t i;

	if (map->max_index == map->count)
		return map->count + 1;
	/* holes below max_index: the lowest one */
	held = calloc(map->max_index + 1, 1);
	if (!held)
		abort();
	for (i = 0; i < map->count; i++)
		held[map->ranges[i].index] = 1;
	for (index = 1; held[index]; index++)
		;
	free(held);
	return index;
}

int pm_map_remove_index(struct pm_map *map, __u32 index)
{
	size_t i;

	for (i = 0; i < map->count && map->ranges[i].index != index; i++)
		;
	if (!index || i == map->count) {
		errno = ENOENT;
		return -1;
	}
	free(map->ranges[i].name);
	memmove(&map->ranges[i], &map->ranges[i + 1],
		(map->count - i - 1) * sizeof(*map->ranges));
	map->count--;
	if (index == map->max_index) {
		map->max_index = 0;
		for (i = 0; i < map->count; i++)
			if (map->ranges[i].index > map->max_index)
				map->max_index = map->ranges[i].index;
	}
	free(map->sorted);
	map->sorted = NULL;
	return 0;
}

const struct pm_range *pm_map_find_index(const struct pm_map *map,
					 __u32 index)
{
	size_t i;

	/*
	 * Indexes 1..count, all held: ranges[index - 1] is the one unless a
	 * range was removed and its index given again to one appended later
	 */
	if (map->max_index == map->count) {
		if (!index || index > map->count)
			return NULL;
		if (map->ranges[index - 1].index == index)
			return &map->ranges[index - 1];
	}
	for (i = 0; i < map->count; i++)
		if (map->ranges[i].index == index)
			return &map->ranges[i];
	return NULL;
}

int pm_map_append(struct pm_map *map, __u64 start, __u64 last, __u64 cookie,
		  __u64 offset)
{
	return map_append_named(map, start, last, cookie, offset, 0, "", "");
}

int pm_map_copy(struct pm_map *dst, const struct pm_map *src)
{
	size_t i;

	pm_map_init(dst);
	if (grow((void **)&dst->ranges, &dst->capacity, src->count,
		 sizeof(*dst->ranges)))
		goto fail;
	for (i = 0; i < src->count; i++) {
		dst->ranges[i] = src->ranges[i];
		dst->ranges[i].name = strdup(src->ranges[i].name);
		if (!dst->ranges[i].name)
			goto fail;
		dst->count++;
	}
	dst->max_index = src->max_index;
	if (src->sorted && pm_model_build(dst, NULL))
		goto fail;
	return 0;
fail:
	pm_map_free(dst);
	errno = ENOMEM;
	return -1;
}

int pm_map_load(struct pm_map *map, const char *path, __u64 cookie_base,
		char *err, size_t err_size)
{
	struct mf_map file;
	size_t i;
	int ret;

	mf_map_init(&file);
	ret = mf_load(&file, path, NULL, NULL, NULL, err, err_size);
	for (i = 0; !ret && i < file.count; i++) {
		const struct mf_section *s = &file.sections[i];

		ret = map_append_named(map, s->start, s->last,
				       cookie_base + s->line, s->offset,
				       s->line, s->kind, s->name);
		if (ret)
			snprintf(err, err_size, "%s:%u: %s", path, s->line,
				 strerror(errno));
	}
	mf_map_free(&file);
	return ret;
}

static int cmp_range_start(const void *a, const void *b)
{
	const struct pm_range *ra = *(const struct pm_range * const *)a;
	const struct pm_range *rb = *(const struct pm_range * const *)b;

	if (ra->start != rb->start)
		return ra->start < rb->start ? -1 : 1;
	return 0;
}

int pm_model_build(struct pm_map *map, const struct pm_range **overlap)
{
	size_t i;

	free(map->sorted);
	map->sorted = malloc((map->count ? map->count : 1) *
			     sizeof(*map->sorted));
	if (!map->sorted)
		return -1;
	for (i = 0; i < map->count; i++)
		map->sorted[i] = &map->ranges[i];
	qsort(map->sorted, map->count, sizeof(*map->sorted), cmp_range_start);
	for (i = 1; i < map->count; i++) {
		if (map->sorted[i]->start <= map->sorted[i - 1]->last) {
			const struct pm_range *a = map->sorted[i - 1];
			const struct pm_range *b = map->sorted[i];

			if (overlap)
				*overlap = a->index > b->index ? a : b;
			free(map->sorted);
			map->sorted = NULL;
			errno = EEXIST;
			return -1;
		}
	}
	return 0;
}

const struct pm_range *pm_model_lookup(const struct pm_map *map, __u64 addr)
{
	size_t lo = 0, hi = map->count;

	/* find the first range starting above addr */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (map->sorted[mid]->start <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo && addr <= map->sorted[lo - 1]->last)
		return map->sorted[lo - 1];
	return NULL;
}

__u32 pm_model_index(const struct pm_map *map, __u64 addr)
{
	const struct pm_range *range = pm_model_lookup(map, addr);

	return range ? range->index : PHYSMAP_UNASSIGNED;
}

struct span {
	__u64 start;
	__u64 last;
};

static __u64 align_up(__u64 addr, __u64 align)
{
	return (addr + align - 1) & ~(align - 1);
}

int pm_map_generate(struct pm_map *map, __u64 seed, size_t count, __u64 base,
		    unsigned int subpage_share)
{
	struct span *spans = malloc((count ? count : 1) * sizeof(*spans));
	__u64 addr = base;
	size_t n = 0, i;
	int ret = 0;

	if (!spans)
		return -1;
	while (n < count) {
		__u64 r = pm_rand64(&seed);
		unsigned int draw = r % 32;

		if (draw < subpage_share) {
			unsigned int pieces = 1 + (r >> 8) % 4;

			addr = align_up(addr, 0x1000);
			while (pieces-- && n < count) {
				addr += pm_rand64(&seed) % 0x40;
				spans[n].start = addr;
				addr += 1 + pm_rand64(&seed) % 0x100;
				spans[n++].last = addr - 1;
			}
		} else {
			__u64 size;

			if (draw < subpage_share + 4) {
				addr = align_up(addr, 0x200000);
				size = 0x200000 * (1 + (r >> 8) % 8);
			} else {
				addr = align_up(addr, 0x1000);
				size = 0x1000 * (1 + (r >> 8) % 64);
			}
			spans[n].start = addr;
			addr += size;
			spans[n++].last = addr - 1;
		}

		r = pm_rand64(&seed);
		switch (r % 4) {
		case 0:
			break;
		case 1:
			addr += (r >> 8) % 0x2000;
			break;
		case 2:
			addr += 0x1000 * (1 + (r >> 8) % 16);
			break;
		default:
			addr += 0x100000 * (1 + (r >> 8) % 4);
			break;
		}
	}

	/* random order of addition */
	for (i = count; i > 1; i--) {
		size_t j = pm_rand64(&seed) % i;
		struct span tmp = spans[i - 1];

		spans[i - 1] = spans[j];
		spans[j] = tmp;
	}
	for (i = 0; i < count && !ret; i++) {
		__u64 cookie = pm_rand64(&seed);

		ret = pm_map_append(map, spans[i].start, spans[i].last, cookie,
				    pm_rand64(&seed));
	}
	free(spans);
	return ret;
}

static int pm_ioctl(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) ? -errno : 0;
}

int pm_begin(int fd, __u32 page_shift)
{
	return physmap_begin(fd, page_shift) ? -errno : 0;
}

int pm_add(int fd, __u64 start, __u64 size, __u64 cookie, __u64 offset,
	   __u32 *index)
{
	return physmap_add(fd, start, size, cookie, offset, index) ? -errno : 0;
}

int pm_begin_update(int fd, __u32 page_shift)
{
	return physmap_begin_update(fd, page_shift) ? -errno : 0;
}

int pm_remove(int fd, __u32 index)
{
	return physmap_remove(fd, index) ? -errno : 0;
}

int pm_commit(int fd)
{
	return physmap_commit(fd) ? -errno : 0;
}

int pm_lookup(int fd, __u64 addr, struct physmap_lookup *lookup)
{
	memset(lookup, PM_POISON, sizeof(*lookup));
	lookup->addr = addr;
	lookup->section.flags = 0;
	return pm_ioctl(fd, PHYSMAP_IOC_LOOKUP, lookup);
}

int pm_lookup_batch(int fd, const __u64 *addrs, __u32 *indexes, __u32 count,
		    __u64 *generation)
{
	struct physmap_lookup_batch batch = {
		.addrs = (uintptr_t)addrs,
		.indexes = (uintptr_t)indexes,
		.count = count,
	};
	int ret;

	ret = pm_ioctl(fd, PHYSMAP_IOC_LOOKUP_BATCH, &batch);
	if (!ret && generation)
		*generation = batch.generation;
	return ret;
}

int pm_get_section(int fd, __u32 index, struct physmap_section *section)
{
	memset(section, PM_POISON, sizeof(*section));
	section->flags = 0;
	section->index = index;
	return pm_ioctl(fd, PHYSMAP_IOC_GET_SECTION, section);
}

int pm_stats(int fd, struct physmap_stats *stats)
{
	return physmap_stats(fd, stats) ? -errno : 0;
}

int pm_map_publish(int fd, const struct pm_map *map, __u32 page_shift,
		   const struct pm_range **failed)
{
	size_t i;
	int ret;

	*failed = NULL;
	ret = pm_begin(fd, page_shift);
	if (ret)
		return ret;
	for (i = 0; i < map->count; i++) {
		const struct pm_range *range = &map->ranges[i];
		__u32 index;

		ret = pm_add(fd, range->start, range->last - range->start + 1,
			     range->cookie, range->offset, &index);
		if (!ret && index != range->index)
			ret = -EPROTO;
		if (ret) {
			*failed = range;
			return ret;
		}
	}
	return pm_commit(fd);
}

/* ---- debugfs: the shape and the dump of an fd's published map ---- */

/* DEBUGFS_MAGIC of <linux/magic.h> */
#define PM_DEBUGFS_MAGIC	0x64626720

#define WHY(...) do {							\
		if (why)						\
			snprintf(why, why_size, __VA_ARGS__);		\
	} while (0)

int pm_read_text(const char *path, char **text, size_t *len)
{
	size_t cap = 1 << 16, n = 0;
	char *buf, *grown;
	int fd, ret = 0;
	ssize_t r;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	buf = malloc(cap);
	while (buf) {
		if (cap - n < 4096) {
			grown = realloc(buf, 2 * cap);
			if (!grown)
				break;
			buf = grown;
			cap *= 2;
		}
		r = read(fd, buf + n, cap - n - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			ret = -errno;
		if (r <= 0)
			break;
		n += r;
	}
	close(fd);
	if (!buf || (!ret && cap - n < 4096))
		ret = -ENOMEM;
	if (ret) {
		free(buf);
		return ret;
	}
	buf[n] = '\0';
	*text = buf;
	*len = n;
	return 0;
}

int pm_read_file(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;
	int ret = 0;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	if (n < 0)
		ret = -errno;
	else
		buf[n] = '\0';
	close(fd);
	return ret;
}

int pm_read_str(const char *path, char *buf, size_t size)
{
	int ret = pm_read_file(path, buf, size);

	if (!ret)
		buf[strcspn(buf, "\n")] = '\0';
	return ret;
}

int pm_write_str(const char *path, const char *value)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t len = strlen(value), n;
	int ret = 0;

	if (fd < 0)
		return -errno;
	n = write(fd, value, len);
	if (n < 0)
		ret = -errno;
	else if (n != len)
		ret = -EIO;
	close(fd);
	return ret;
}

int pm_debugfs_path(int fd, const char *file, char *path, size_t size,
		    char *why, size_t why_size)
{
	char dir[256];
	int err;

	if (physmap_debugfs_dir(fd, dir, sizeof(dir))) {
		err = errno;
		if (err == ENOTTY)
			WHY("fdinfo of fd %d: no \"physmap-debugfs:\" line",
			    fd);
		else if (err == EPROTO)
			WHY("fdinfo of fd %d: \"physmap-debugfs:\" names no physmap/<id>",
			    fd);
		else
			WHY("fdinfo of fd %d: %s", fd, strerror(err));
		return err == ENOTTY ? -ENOENT : -err;
	}
	if ((size_t)snprintf(path, size, "%s%s%s", dir, *file ? "/" : "",
			     file) >= size)
		return -ENAMETOOLONG;
	return 0;
}

int pm_debugfs_read(int fd, const char *file, char **text, char *why,
		    size_t why_size)
{
	char path[256];
	size_t len;
	int ret;

	ret = pm_debugfs_path(fd, file, path, sizeof(path), why, why_size);
	if (ret)
		return ret;
	ret = pm_read_text(path, text, &len);
	if (ret)
		WHY("%s: %s", path, strerror(-ret));
	return ret;
}

int pm_debugfs_unusable(int fd, char *why, size_t why_size)
{
	struct statfs st;
	char path[256];
	int f;

	if (statfs(PHYSMAP_DEBUGFS, &st) ||
	    st.f_type != PM_DEBUGFS_MAGIC) {
		WHY("debugfs is not mounted at " PHYSMAP_DEBUGFS);
		return 1;
	}
	if (pm_debugfs_path(fd, "shape", path, sizeof(path), NULL, 0))
		return 0;
	f = open(path, O_RDONLY | O_CLOEXEC);
	if (f < 0 && (errno == EACCES || errno == EPERM)) {
		WHY("%s: %s (debugfs is for root only, and closed under lockdown)",
		    path, strerror(errno));
		return 1;
	}
	if (f >= 0)
		close(f);
	return 0;
}

static const struct {
	const char *key;
	size_t offset;
} shape_keys[] = {
	{ "generation", offsetof(struct pm_shape, generation) },
	{ "sections", offsetof(struct pm_shape, sections) },
	{ "nodes", offsetof(struct pm_shape, nodes) },
	{ "bytes", offsetof(struct pm_shape, bytes) },
	{ "page_shift", offsetof(struct pm_shape, page_shift) },
	{ "levels", offsetof(struct pm_shape, levels) },
	{ "subpages", offsetof(struct pm_shape, subpages) },
	{ "subpage_ranges", offsetof(struct pm_shape, subpage_ranges) },
	{ "skip_entries", offsetof(struct pm_shape, skip_entries) },
	{ "skipped_levels", offsetof(struct pm_shape, skipped_levels) },
	{ "max_depth", offsetof(struct pm_shape, max_depth) },
};

#define SHAPE_KEYS	(sizeof(shape_keys) / sizeof(*shape_keys))
#define SHAPE_NODES	2	/* "nodes: N (B bytes each)" */

/*
 * Lines "key:<spaces>N", "nodes:<spaces>N (B bytes each)"; a key this parser
 * does not know is passed over (the file is not ABI and may grow).
 */
int pm_shape_parse(const char *text, struct pm_shape *shape, char *why,
		   size_t why_size)
{
	unsigned int have = 0, line_nr = 0;
	const char *p = text;

	memset(shape, 0, sizeof(*shape));
	while (*p) {
		const char *eol = strchr(p, '\n'), *colon, *q;
		char *end;
		size_t i;
		__u64 v;

		line_nr++;
		colon = eol ? memchr(p, ':', eol - p) : NULL;
		if (!colon || colon[1] != ' ') {
			WHY("shape line %u: not \"key: value\"", line_nr);
			return -EPROTO;
		}
		for (i = 0; i < SHAPE_KEYS; i++)
			if (strlen(shape_keys[i].key) == (size_t)(colon - p) &&
			    !strncmp(p, shape_keys[i].key, colon - p))
				break;
		q = colon + strspn(colon + 1, " ") + 1;
		if (*q < '0' || *q > '9') {
			WHY("shape line %u: no number after the colon",
			    line_nr);
			return -EPROTO;
		}
		v = strtoull(q, &end, 10);
		p = eol + 1;
		if (i == SHAPE_KEYS)
			continue;
		if (have & (1U << i)) {
			WHY("shape: \"%s\" twice", shape_keys[i].key);
			return -EPROTO;
		}
		have |= 1U << i;
		*(__u64 *)((char *)shape + shape_keys[i].offset) = v;
		if (i == SHAPE_NODES) {
			if (strncmp(end, " (", 2) || end[2] < '0' ||
			    end[2] > '9') {
				WHY("shape line %u: nodes without \" (B bytes each)\"",
				    line_nr);
				return -EPROTO;
			}
			shape->node_bytes = strtoull(end + 2, &end, 10);
			if (strncmp(end, " bytes each)", 12))
				end = (char *)eol + 1;	/* fails below */
			else
				end += 12;
		}
		if (end != eol) {
			WHY("shape line %u: more after the number", line_nr);
			return -EPROTO;
		}
	}
	if (!(have & 1)) {
		WHY("shape: no \"generation\" line");
		return -EPROTO;
	}
	shape->published = shape->generation != 0;
	if (!shape->published && have != 1) {
		WHY("shape: generation 0 with counters");
		return -EPROTO;
	}
	if (shape->published && have != (1U << SHAPE_KEYS) - 1) {
		size_t i = 0;

		while (have & (1U << i))
			i++;
		WHY("shape: no \"%s\" line", shape_keys[i].key);
		return -EPROTO;
	}
	return 0;
}

int pm_shape_read(int fd, struct pm_shape *shape, char *why, size_t why_size)
{
	char *text = NULL;
	int ret = pm_debugfs_read(fd, "shape", &text, why, why_size);

	if (!ret)
		ret = pm_shape_parse(text, shape, why, why_size);
	free(text);
	return ret;
}

/*
 * The dump, as pmt_map_dump_record() of physmap_tree.c prints it. Each line
 * is parsed, printed again the kernel's way and compared, so that the layout
 * is checked to the column.
 */
#define DUMP_LINE_MAX		1024
#define DUMP_SECTION0		"      #0 @0000000000000000..ffffffffffffffff (noname) [unassigned]"
/* under the first piece of "      S0 @<16 hex>..<16 hex>:" */
#define DUMP_SUBPAGE_INDENT	"                                             "
#define DUMP_PIECES_PER_LINE	6

struct dump_parser {
	const char *next;	/* the rest of the text */
	char line[DUMP_LINE_MAX];
	char expect[DUMP_LINE_MAX];
	unsigned int line_nr;
	int have;		/* line holds a line not taken yet */
	struct pm_dump *d;
	char *why;
	size_t why_size;
	size_t cap_sections, cap_subpages, cap_pieces, cap_nodes;
};

/* say what is wrong with the current line; returns -EPROTO */
static int __attribute__((format(printf, 2, 3)))
dump_bad(struct dump_parser *dp, const char *fmt, ...)
{
	char *why = dp->why, what[200];
	size_t why_size = dp->why_size;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	WHY("dump line %u: %s: \"%.80s\"", dp->line_nr, what, dp->line);
	return -EPROTO;
}

/* the next line in dp->line: 0, 1 at the end of the text, or -EPROTO */
static int dump_peek(struct dump_parser *dp)
{
	char *why = dp->why;
	size_t why_size = dp->why_size;
	const char *eol;
	size_t len;

	if (dp->have)
		return 0;
	if (!*dp->next)
		return 1;
	eol = strchr(dp->next, '\n');
	len = eol ? (size_t)(eol - dp->next) : strlen(dp->next);
	if (len >= DUMP_LINE_MAX || !eol) {
		WHY("dump line %u: too long, or no newline", dp->line_nr + 1);
		return -EPROTO;
	}
	dp->line_nr++;
	memcpy(dp->line, dp->next, len);
	dp->line[len] = '\0';
	dp->next = eol + 1;
	dp->have = 1;
	return 0;
}

/* take the next line, which must exist */
static int dump_take(struct dump_parser *dp)
{
	char *why = dp->why;
	size_t why_size = dp->why_size;
	int ret = dump_peek(dp);

	if (ret > 0) {
		WHY("dump: ends after line %u, in the middle", dp->line_nr);
		return -EPROTO;
	}
	dp->have = 0;
	return ret;
}

static int dump_header(struct dump_parser *dp)
{
	struct pm_dump *d = dp->d;
	unsigned long long gen;
	unsigned int shift;
	int ret, n = -1;

	ret = dump_take(dp);
	if (ret)
		return ret;
	if (!strcmp(dp->line, "physmap: nothing published")) {
		if (dump_peek(dp) != 1)
			return dump_bad(dp, "more after \"nothing published\"");
		return 1;
	}
	if (sscanf(dp->line, "physmap: generation %llu, page_shift %u%n",
		   &gen, &shift, &n) != 2 || n < 0)
		return dump_bad(dp, "not the header");
	snprintf(dp->expect, sizeof(dp->expect),
		 "physmap: generation %llu, page_shift %u", gen, shift);
	if (strcmp(dp->line, dp->expect))
		return dump_bad(dp, "not the header");
	if (shift < PHYSMAP_PAGE_SHIFT_MIN || shift > PHYSMAP_PAGE_SHIFT_MAX)
		return dump_bad(dp, "page_shift out of range");
	d->published = 1;
	d->generation = gen;
	d->page_shift = shift;
	ret = dump_take(dp);
	if (ret)
		return ret;
	if (strcmp(dp->line, "  Dispatch"))
		return dump_bad(dp, "not \"  Dispatch\"");
	ret = dump_take(dp);
	if (ret)
		return ret;
	if (strcmp(dp->line, "    Physical sections"))
		return dump_bad(dp, "not \"    Physical sections\"");
	return 0;
}

static int dump_sections(struct dump_parser *dp)
{
	struct pm_dump *d = dp->d;
	struct pm_dump_section *s;
	unsigned long long start, last, cookie, offset;
	unsigned int i;
	int ret, n;

	for (i = 0;; i++) {
		ret = dump_take(dp);
		if (ret)
			return ret;
		if (i && !strncmp(dp->line, "    Sub-pages (", 15))
			break;
		if (grow((void **)&d->sections, &dp->cap_sections, i + 1,
			 sizeof(*d->sections)))
			return -ENOMEM;
		s = &d->sections[i];
		if (!i) {
			if (strcmp(dp->line, DUMP_SECTION0))
				return dump_bad(dp, "not section 0, unassigned");
			*s = (struct pm_dump_section){ .last = ~0ULL };
			continue;
		}
		snprintf(dp->expect, sizeof(dp->expect),
			 "      #%u (removed)", i);
		if (!strcmp(dp->line, dp->expect)) {
			*s = (struct pm_dump_section){ .removed = true };
			continue;
		}
		n = -1;
		if (sscanf(dp->line, "      #%*u @%llx..%llx cookie=%llu offset=0x%llx%n",
			   &start, &last, &cookie, &offset, &n) != 4 || n < 0)
			return dump_bad(dp, "not section #%u", i);
		snprintf(dp->expect, sizeof(dp->expect),
			 "      #%u @%016llx..%016llx cookie=%llu offset=0x%llx",
			 i, start, last, cookie, offset);
		if (strcmp(dp->line, dp->expect))
			return dump_bad(dp, "not section #%u", i);
		if (last < start)
			return dump_bad(dp, "section ends before it starts");
		*s = (struct pm_dump_section){
			.start = start, .last = last, .cookie = cookie,
			.offset = offset,
		};
	}
	d->nr_sections = i;
	return 0;
}

/* print pieces [k0, k1) of a sub-page as the kernel does, after *out */
static void dump_print_pieces(const struct pm_dump *d,
			      const struct pm_dump_subpage *sp, __u32 k0,
			      __u32 k1, char *out, size_t size)
{
	size_t len = strlen(out);
	__u32 k;

	for (k = k0; k < k1 && len < size; k++) {
		const struct pm_dump_piece *p = &d->pieces[sp->first + k];

		len += snprintf(out + len, size - len, " %03x..%03x #%-*u",
				p->start, p->last,
				(k + 1) % DUMP_PIECES_PER_LINE &&
				k + 1 < sp->count ? 4 : 0, p->section);
	}
}

/* the pieces of one line: " start..last #section", blanks between */
static int dump_line_pieces(struct dump_parser *dp, const char *s,
			    struct pm_dump_subpage *sp)
{
	struct pm_dump *d = dp->d;
	unsigned long start, last, section;
	char *end;

	while (*s) {
		if (*s != ' ')
			return dump_bad(dp, "pieces not apart");
		s += strspn(s, " ");
		start = strtoul(s, &end, 16);
		if (end == s || strncmp(end, "..", 2))
			return dump_bad(dp, "a piece without \"start..\"");
		s = end + 2;
		last = strtoul(s, &end, 16);
		if (end == s || *end != ' ')
			return dump_bad(dp, "a piece without \"..last \"");
		s = end + strspn(end, " ");
		if (*s != '#')
			return dump_bad(dp, "a piece without \"#section\"");
		section = strtoul(s + 1, &end, 10);
		if (end == s + 1)
			return dump_bad(dp, "a piece without \"#section\"");
		s = end;
		if (grow((void **)&d->pieces, &dp->cap_pieces,
			 (size_t)d->nr_pieces + 1, sizeof(*d->pieces)))
			return -ENOMEM;
		d->pieces[d->nr_pieces++] = (struct pm_dump_piece){
			.start = start, .last = last, .section = section,
		};
		sp->count++;
	}
	return 0;
}

static int dump_subpages(struct dump_parser *dp)
{
	struct pm_dump *d = dp->d;
	__u64 mask = (1ULL << d->page_shift) - 1;
	unsigned int nr, nr_pieces, i;
	unsigned long long base, last;
	int ret, n = -1;

	if (sscanf(dp->line, "    Sub-pages (%u, %u pieces)%n", &nr,
		   &nr_pieces, &n) != 2 || n < 0)
		return dump_bad(dp, "not the sub-pages header");
	snprintf(dp->expect, sizeof(dp->expect),
		 "    Sub-pages (%u, %u pieces)", nr, nr_pieces);
	if (strcmp(dp->line, dp->expect))
		return dump_bad(dp, "not the sub-pages header");
	for (i = 0; i < nr; i++) {
		struct pm_dump_subpage *sp;
		__u32 k0 = 0;

		ret = dump_take(dp);
		if (ret)
			return ret;
		n = -1;
		if (sscanf(dp->line, "      S%*u @%llx..%llx:%n", &base, &last,
			   &n) != 2 || n < 0)
			return dump_bad(dp, "not sub-page S%u", i);
		if (grow((void **)&d->subpages, &dp->cap_subpages, i + 1,
			 sizeof(*d->subpages)))
			return -ENOMEM;
		sp = &d->subpages[i];
		*sp = (struct pm_dump_subpage){
			.page = base >> d->page_shift, .first = d->nr_pieces,
		};
		ret = dump_line_pieces(dp, dp->line + n, sp);
		if (ret)
			return ret;
		snprintf(dp->expect, sizeof(dp->expect),
			 "      S%u @%016llx..%016llx:", i, base & ~mask,
			 base | mask);
		/* the pieces of this line, then of each continuation line */
		for (;;) {
			dump_print_pieces(d, sp, k0, sp->count, dp->expect,
					  sizeof(dp->expect));
			if (strcmp(dp->line, dp->expect))
				return dump_bad(dp, "sub-page S%u not as the kernel prints it",
						i);
			ret = dump_peek(dp);
			if (ret < 0)
				return ret;
			if (ret || strncmp(dp->line, DUMP_SUBPAGE_INDENT " ",
					   sizeof(DUMP_SUBPAGE_INDENT)))
				break;
			if (sp->count - k0 != DUMP_PIECES_PER_LINE)
				return dump_bad(dp, "S%u: %u pieces on the line before, not %d",
						i, sp->count - k0,
						DUMP_PIECES_PER_LINE);
			dump_take(dp);
			k0 = sp->count;
			ret = dump_line_pieces(dp, dp->line +
					       sizeof(DUMP_SUBPAGE_INDENT) - 1,
					       sp);
			if (ret)
				return ret;
			snprintf(dp->expect, sizeof(dp->expect), "%s",
				 DUMP_SUBPAGE_INDENT);
		}
		if (base != (base & ~mask) || last != (base | mask))
			return dump_bad(dp, "sub-page S%u is not one page", i);
	}
	d->nr_subpages = nr;
	if (d->nr_pieces != nr_pieces) {
		char *why = dp->why;
		size_t why_size = dp->why_size;

		WHY("dump: %u pieces in the sub-pages, the header says %u",
		    d->nr_pieces, nr_pieces);
		return -EPROTO;
	}
	return 0;
}

/* "[n]" a node, "#n" a section, "Sn" a sub-page, as an entry */
static int dump_ptr(struct dump_parser *dp, const char *s, unsigned int skip,
		    __u32 *entry, const char **end)
{
	unsigned long ptr;
	char *e;

	if (*s != '[' && *s != '#' && *s != 'S')
		return dump_bad(dp, "ptr= neither [node], #section nor Ssub-page");
	ptr = strtoul(s + 1, &e, 10);
	if (e == s + 1 || ptr >> (32 - PM_DUMP_PTR_SHIFT))
		return dump_bad(dp, "bad ptr=");
	if ((*s == '[') != !!skip)
		return dump_bad(dp, "a node with skip=0, or a leaf with a skip");
	if (*s == '[' && *e++ != ']')
		return dump_bad(dp, "ptr=[ without ]");
	*entry = (__u32)ptr << PM_DUMP_PTR_SHIFT | skip |
		 (*s == 'S' ? PM_DUMP_SUBPAGE : 0);
	*end = e;
	return 0;
}

static void dump_print_ptr(char *out, size_t size, __u32 entry)
{
	unsigned int skip = entry & PM_DUMP_SKIP_MASK;

	snprintf(out, size, "%s%u%s",
		 skip ? "[" : entry & PM_DUMP_SUBPAGE ? "S" : "#",
		 entry >> PM_DUMP_PTR_SHIFT, skip ? "]" : "");
}

static int dump_nodes(struct dump_parser *dp)
{
	struct pm_dump *d = dp->d;
	unsigned int bits, levels, skip, slots, slot, first, last, i;
	const char *s;
	char ptr[32];
	__u32 entry = 0, *node;
	int ret, n = -1;

	ret = dump_take(dp);
	if (ret)
		return ret;
	/* the root entry, "[n]", "#n" or "Sn", like any other */
	if (sscanf(dp->line, "    Nodes (%u bits per level, %u levels) ptr=%31s skip=%u%n",
		   &bits, &levels, ptr, &skip, &n) != 4 || n < 0)
		return dump_bad(dp, "not the nodes header");
	if (skip > PM_DUMP_SKIP_MASK || skip > levels)
		return dump_bad(dp, "bad root");
	ret = dump_ptr(dp, ptr, skip, &d->root, &s);
	if (ret)
		return ret;
	if (*s)
		return dump_bad(dp, "bad root");
	dump_print_ptr(ptr, sizeof(ptr), d->root);
	snprintf(dp->expect, sizeof(dp->expect),
		 "    Nodes (%u bits per level, %u levels) ptr=%s skip=%u",
		 bits, levels, ptr, skip);
	if (strcmp(dp->line, dp->expect))
		return dump_bad(dp, "not the nodes header");
	if (bits < 1 || bits > 9 ||
	    levels != (64 - d->page_shift + bits - 1) / bits)
		return dump_bad(dp, "%u bits per level cannot give %u levels", bits,
				levels);
	d->node_bits = bits;
	d->levels = levels;
	slots = 1U << bits;

	while ((ret = dump_peek(dp)) == 0) {
		dump_take(dp);
		snprintf(dp->expect, sizeof(dp->expect), "      [%u]",
			 d->nr_nodes);
		if (strcmp(dp->line, dp->expect))
			return dump_bad(dp, "not node [%u]", d->nr_nodes);
		if (grow((void **)&d->nodes, &dp->cap_nodes,
			 ((size_t)d->nr_nodes + 1) << bits, sizeof(*d->nodes)))
			return -ENOMEM;
		node = &d->nodes[(size_t)d->nr_nodes << bits];
		for (slot = 0; slot < slots; slot = last + 1) {
			ret = dump_take(dp);
			if (ret)
				return ret;
			first = strtoul(dp->line + 1, (char **)&s, 10);
			last = first;
			if (!strncmp(s, "..", 2))
				last = strtoul(s + 2, (char **)&s, 10);
			s = strstr(s, " skip=");
			if (dp->line[0] != '\t' || !s)
				return dump_bad(dp, "not an entry of node [%u]",
						d->nr_nodes);
			skip = strtoul(s + 6, (char **)&s, 10);
			if (strncmp(s, "  ptr=", 6))
				return dump_bad(dp, "no ptr=");
			ret = dump_ptr(dp, s + 6, skip, &entry, &s);
			if (ret)
				return ret;
			/* dump_entries() of physmap_tree.c */
			if (first == last)
				n = snprintf(dp->expect, sizeof(dp->expect),
					     "\t%3u      ", first);
			else
				n = snprintf(dp->expect, sizeof(dp->expect),
					     "\t%3u..%-3u ", first, last);
			dump_print_ptr(ptr, sizeof(ptr), entry);
			snprintf(dp->expect + n, sizeof(dp->expect) - n,
				 " skip=%u  ptr=%s", skip, ptr);
			if (strcmp(dp->line, dp->expect))
				return dump_bad(dp, "entries not as the kernel prints them");
			if (first != slot || last < first || last >= slots)
				return dump_bad(dp, "entries %u..%u, not from %u on, inside %u",
						first, last, slot, slots);
			if (skip > PM_DUMP_SKIP_MASK || skip > levels)
				return dump_bad(dp, "skip past the levels");
			if (slot && node[slot - 1] == entry)
				return dump_bad(dp, "a run of equal entries split in two");
			for (i = first; i <= last; i++)
				node[i] = entry;
		}
		d->nr_nodes++;
	}
	return ret < 0 ? ret : 0;
}

/* every entry points inside the arrays; the pieces inside their pages */
static int dump_check(struct pm_dump *d, char *why, size_t why_size)
{
	__u32 page_last = (1U << d->page_shift) - 1;
	size_t i, nr = (size_t)d->nr_nodes << d->node_bits;
	__u32 k;

	for (i = 0; i <= nr; i++) {
		__u32 e = i < nr ? d->nodes[i] : d->root;
		__u32 ptr = e >> PM_DUMP_PTR_SHIFT;
		__u32 room = e & PM_DUMP_SKIP_MASK ? d->nr_nodes :
			     e & PM_DUMP_SUBPAGE ? d->nr_subpages :
			     d->nr_sections;

		if (ptr >= room) {
			WHY("dump: %s %zu points past the arrays (%u of %u)",
			    i < nr ? "entry" : "the root", i < nr ? i : 0,
			    ptr, room);
			return -EPROTO;
		}
	}
	if (!(d->root & PM_DUMP_SKIP_MASK) &&
	    (d->nr_nodes || d->nr_subpages > 1)) {
		WHY("dump: the root is a leaf, yet %u nodes and %u sub-pages",
		    d->nr_nodes, d->nr_subpages);
		return -EPROTO;
	}
	for (i = 0; i < d->nr_subpages; i++) {
		const struct pm_dump_subpage *sp = &d->subpages[i];

		for (k = 0; k < sp->count; k++) {
			const struct pm_dump_piece *p = &d->pieces[sp->first + k];

			if (p->start > p->last || p->last > page_last ||
			    (k && p->start <= p[-1].last) ||
			    p->section == PHYSMAP_UNASSIGNED ||
			    p->section >= d->nr_sections) {
				WHY("dump: S%zu: piece %u, %x..%x #%u, out of order or range",
				    i, k, p->start, p->last, p->section);
				return -EPROTO;
			}
		}
	}
	return 0;
}

int pm_dump_parse(const char *text, struct pm_dump *dump, char *why,
		  size_t why_size)
{
	struct dump_parser dp = {
		.next = text, .d = dump, .why = why, .why_size = why_size,
	};
	int ret;

	memset(dump, 0, sizeof(*dump));
	ret = dump_header(&dp);
	if (ret)
		return ret > 0 ? 0 : ret;
	ret = dump_sections(&dp);
	if (!ret)
		ret = dump_subpages(&dp);
	if (!ret)
		ret = dump_nodes(&dp);
	if (!ret)
		ret = dump_check(dump, why, why_size);
	if (ret == -ENOMEM)
		WHY("dump: out of memory");
	if (ret)
		pm_dump_free(dump);
	return ret;
}

int pm_dump_read(int fd, struct pm_dump *dump, char *why, size_t why_size)
{
	char *text = NULL;
	int ret;

	memset(dump, 0, sizeof(*dump));
	ret = pm_debugfs_read(fd, "dump", &text, why, why_size);
	if (!ret)
		ret = pm_dump_parse(text, dump, why, why_size);
	free(text);
	return ret;
}

void pm_dump_free(struct pm_dump *dump)
{
	free(dump->sections);
	free(dump->subpages);
	free(dump->pieces);
	free(dump->nodes);
	memset(dump, 0, sizeof(*dump));
}

int pm_dump_lookup(const struct pm_dump *d, __u64 addr, __u32 *index,
		   __u32 *leaf)
{
	__u64 page = addr >> d->page_shift;
	unsigned int level = d->levels, depth = 0;
	__u32 entry = d->root, ptr, k;

	*index = PHYSMAP_UNASSIGNED;
	if (!d->published)
		return 0;
	while (entry & PM_DUMP_SKIP_MASK) {
		if ((entry & PM_DUMP_SKIP_MASK) > level || ++depth > d->levels)
			return -EPROTO;
		level -= entry & PM_DUMP_SKIP_MASK;
		entry = d->nodes[((size_t)(entry >> PM_DUMP_PTR_SHIFT) <<
				  d->node_bits) +
				 ((page >> (level * d->node_bits)) &
				  ((1U << d->node_bits) - 1))];
	}
	if (leaf)
		*leaf = entry;
	ptr = entry >> PM_DUMP_PTR_SHIFT;
	if (entry & PM_DUMP_SUBPAGE) {
		const struct pm_dump_subpage *sp = &d->subpages[ptr];
		__u32 off = addr & ((1ULL << d->page_shift) - 1);

		if (sp->page != page)
			return 0;
		for (k = 0; k < sp->count; k++) {
			const struct pm_dump_piece *p = &d->pieces[sp->first + k];

			if (p->start <= off && off <= p->last)
				*index = p->section;
		}
		return 0;
	}
	/* levels may have been skipped: the leaf may not cover addr */
	if (!d->sections[ptr].removed && d->sections[ptr].start <= addr &&
	    addr <= d->sections[ptr].last)
		*index = ptr;
	return 0;
}
