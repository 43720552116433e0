// SPDX-License-Identifier: GPL-2.0
/*
 * physmap_maps.c - map file parser, brute-force model and ioctl wrappers
 * (see physmap_maps.h)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "physmap_maps.h"

/* " @" and 16 hex digits */
#define OFFSET_SUFFIX_LEN	18

void pm_map_init(struct pm_map *map)
{
	memset(map, 0, sizeof(*map));
}

void pm_map_free(struct pm_map *map)
{
	size_t i;

	for (i = 0; i < map->count; i++)
		free(map->ranges[i].name);
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
	if (map->count == map->capacity) {
		size_t capacity = map->capacity ? 2 * map->capacity : 64;
		struct pm_range *ranges;

		ranges = realloc(map->ranges, capacity * sizeof(*ranges));
		if (!ranges)
			return -1;
		map->ranges = ranges;
		map->capacity = capacity;
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
	range->index = map->count + 1;
	range->line = line;
	snprintf(range->kind, sizeof(range->kind), "%s", kind);
	map->count++;

	/* the model no longer matches the ranges */
	free(map->sorted);
	map->sorted = NULL;
	return 0;
}

int pm_map_append(struct pm_map *map, __u64 start, __u64 last, __u64 cookie,
		  __u64 offset)
{
	return map_append_named(map, start, last, cookie, offset, 0, "", "");
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Parse one or more hex digits at *p into *value; advance *p past them. */
static int parse_hex(const char **p, __u64 *value)
{
	const char *s = *p;
	__u64 v = 0;
	int digit;

	if (hex_digit(*s) < 0)
		return -1;
	while ((digit = hex_digit(*s)) >= 0) {
		if (v >> 60)
			return -1;
		v = (v << 4) | digit;
		s++;
	}
	*p = s;
	*value = v;
	return 0;
}

/*
 * Split a line (no newline) into its fields. Returns NULL, or what is wrong.
 * The name is left in *name, in place, without the offset suffix.
 */
static const char *parse_line(char *line, __u64 *start, __u64 *last,
			      char *kind, size_t kind_size, char **name,
			      __u64 *offset)
{
	const char *p = line;
	const char *kind_end;
	size_t len;

	if (parse_hex(&p, start) || *p++ != ' ')
		return "bad start address";
	if (parse_hex(&p, last) || *p++ != ' ')
		return "bad last address";
	if (*last < *start)
		return "last address below start address";
	if (*start == 0 && *last == ~0ULL)
		return "range covers the whole 64-bit space";

	kind_end = strchr(p, ' ');
	if (!kind_end || kind_end == p)
		return "missing kind or name";
	if ((size_t)(kind_end - p) >= kind_size)
		return "kind too long";
	memcpy(kind, p, kind_end - p);
	kind[kind_end - p] = '\0';

	*name = (char *)kind_end + 1;
	len = strlen(*name);
	*offset = 0;
	if (len > OFFSET_SUFFIX_LEN &&
	    (*name)[len - OFFSET_SUFFIX_LEN] == ' ' &&
	    (*name)[len - OFFSET_SUFFIX_LEN + 1] == '@') {
		const char *q = *name + len - OFFSET_SUFFIX_LEN + 2;

		if (parse_hex(&q, offset) || *q)
			return "bad @offset";
		(*name)[len - OFFSET_SUFFIX_LEN] = '\0';
	}
	if (!**name)
		return "missing name";
	return NULL;
}

int pm_map_load(struct pm_map *map, const char *path, __u64 cookie_base,
		char *err, size_t err_size)
{
	unsigned int line_nr = 0;
	char *line = NULL;
	size_t line_size = 0;
	ssize_t len;
	FILE *f;
	int ret = 0;

	f = fopen(path, "r");
	if (!f) {
		snprintf(err, err_size, "%s: %s", path, strerror(errno));
		return -1;
	}
	while ((len = getline(&line, &line_size, f)) >= 0) {
		__u64 start, last, offset;
		char kind[sizeof(map->ranges->kind)];
		const char *what;
		char *name;

		line_nr++;
		if (len && line[len - 1] == '\n')
			line[--len] = '\0';
		if (!len)
			continue;
		what = parse_line(line, &start, &last, kind, sizeof(kind),
				  &name, &offset);
		if (what) {
			snprintf(err, err_size, "%s:%u: %s", path, line_nr,
				 what);
			ret = -1;
			break;
		}
		if (map_append_named(map, start, last, cookie_base + line_nr,
				     offset, line_nr, kind, name)) {
			snprintf(err, err_size, "%s:%u: %s", path, line_nr,
				 strerror(errno));
			ret = -1;
			break;
		}
	}
	if (!ret && ferror(f)) {
		snprintf(err, err_size, "%s: read error", path);
		ret = -1;
	}
	free(line);
	fclose(f);
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

__u64 pm_rand64(__u64 *state)
{
	__u64 z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
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
	struct physmap_begin begin = { .page_shift = page_shift };

	return pm_ioctl(fd, PHYSMAP_IOC_BEGIN, &begin);
}

int pm_add(int fd, __u64 start, __u64 size, __u64 cookie, __u64 offset,
	   __u32 *index)
{
	struct physmap_section section = {
		.start = start,
		.size = size,
		.cookie = cookie,
		.offset = offset,
	};
	int ret;

	ret = pm_ioctl(fd, PHYSMAP_IOC_ADD, &section);
	if (!ret && index)
		*index = section.index;
	return ret;
}

int pm_commit(int fd)
{
	return ioctl(fd, PHYSMAP_IOC_COMMIT) ? -errno : 0;
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
	memset(stats, 0, sizeof(*stats));
	return pm_ioctl(fd, PHYSMAP_IOC_STATS, stats);
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
