/* SPDX-License-Identifier: GPL-2.0 */
/*
 * physmap_maps.h - map files, a brute-force model of the published map and
 * thin wrappers of the /dev/physmap ioctls, shared by the selftests and
 * tools/physmapctl.
 *
 * Map file format (testdata/README.md), one range per line:
 *
 *	<start-hex> <last-hex, inclusive> <kind> <name, rest of the line>
 *
 * with an optional trailing " @<16 hex digits>": the offset of the range
 * within its memory region.
 */
#ifndef _PHYSMAP_MAPS_H
#define _PHYSMAP_MAPS_H

#include <stddef.h>
#include <linux/types.h>

#include "physmap_ioctl.h"

#define PHYSMAP_DEV	"/dev/physmap"

/**
 * struct pm_range - one section: a map file line, or one made up by a test
 * @start: first byte.
 * @last: last byte, inclusive.
 * @cookie: cookie given to PHYSMAP_IOC_ADD.
 * @offset: offset given to PHYSMAP_IOC_ADD (the line's @offset, or 0).
 * @index: expected section index: position in the map, from 1.
 * @line: line number in the file; 0 for a range made up by a test.
 * @kind: the line's kind (ram, rom, romd, i/o); "" when made up.
 * @name: the line's name; "" when made up. Owned by the range.
 */
struct pm_range {
	__u64 start;
	__u64 last;
	__u64 cookie;
	__u64 offset;
	__u32 index;
	unsigned int line;
	char kind[8];
	char *name;
};

/**
 * struct pm_map - ranges in order of addition (ranges[i].index == i + 1),
 * and the same ranges sorted by address for the model's lookups
 */
struct pm_map {
	struct pm_range *ranges;
	size_t count;
	size_t capacity;
	const struct pm_range **sorted;
};

void pm_map_init(struct pm_map *map);
void pm_map_free(struct pm_map *map);

/*
 * pm_map_append - add a range at the end of the map (next index). Returns 0,
 * or -1 with errno set (EINVAL: last < start, or the range is the whole 64-bit
 * space, which no section can be; ENOMEM).
 */
int pm_map_append(struct pm_map *map, __u64 start, __u64 last, __u64 cookie,
		  __u64 offset);

/*
 * pm_map_load - read a map file, appending one range per line, with
 * cookie = cookie_base + line number. Returns 0, or -1 with a message
 * "path:line: what" (or "path: what") in err.
 */
int pm_map_load(struct pm_map *map, const char *path, __u64 cookie_base,
		char *err, size_t err_size);

/*
 * pm_model_build - sort the ranges by address for pm_model_lookup(). Returns
 * 0, or -1 with errno set: EEXIST if two ranges overlap (*overlap then points
 * at the later of the two), ENOMEM.
 */
int pm_model_build(struct pm_map *map, const struct pm_range **overlap);

/* pm_model_lookup - the range covering addr, or NULL; needs pm_model_build() */
const struct pm_range *pm_model_lookup(const struct pm_map *map, __u64 addr);

/* pm_model_index - the expected section index of addr (0: unassigned) */
__u32 pm_model_index(const struct pm_map *map, __u64 addr);

/* pm_rand64 - next value of a fixed-seed generator (splitmix64) */
__u64 pm_rand64(__u64 *state);

/*
 * pm_map_generate - append count made-up ranges from base up: never
 * overlapping, with gaps of every kind between them, added in a random order,
 * with random cookies and offsets. Of every 32 draws about subpage_share make
 * a cluster of one to four sub-page ranges within one 4 KiB page, 4 make a
 * range of 2..16 MiB aligned to 2 MiB, the rest a range of 4..256 KiB aligned
 * to 4 KiB. The same seed gives the same map. Returns 0, or -1 (ENOMEM).
 */
int pm_map_generate(struct pm_map *map, __u64 seed, size_t count, __u64 base,
		    unsigned int subpage_share);

/* byte pattern filling what the kernel is to write, so that a gap shows */
#define PM_POISON	0xa5

/*
 * ioctl wrappers: 0 on success, -errno on failure. pm_add() stores the new
 * index in *index when index is not NULL. pm_lookup() and pm_get_section()
 * fill every field the kernel must write with PM_POISON first (flags: 0).
 */
int pm_begin(int fd, __u32 page_shift);
int pm_add(int fd, __u64 start, __u64 size, __u64 cookie, __u64 offset,
	   __u32 *index);
int pm_commit(int fd);
int pm_lookup(int fd, __u64 addr, struct physmap_lookup *lookup);
int pm_lookup_batch(int fd, const __u64 *addrs, __u32 *indexes, __u32 count,
		    __u64 *generation);
int pm_get_section(int fd, __u32 index, struct physmap_section *section);
int pm_stats(int fd, struct physmap_stats *stats);

/*
 * pm_map_publish - BEGIN with page_shift, ADD every range of the map, COMMIT.
 * Returns 0, or -errno of the first failing ioctl; *failed is then the range
 * whose ADD failed, or NULL if BEGIN or COMMIT did. An ADD that answers an
 * index other than the range's is reported as -EPROTO.
 */
int pm_map_publish(int fd, const struct pm_map *map, __u32 page_shift,
		   const struct pm_range **failed);

#endif /* _PHYSMAP_MAPS_H */
