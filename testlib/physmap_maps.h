/* SPDX-License-Identifier: GPL-2.0 */
/*
 * physmap_maps.h - map files, a brute-force model of the published map,
 * thin wrappers of the /dev/physmap ioctls and readers of its debugfs files:
 * the test-support library that selftests/, user/ and bench/ compile from
 * testlib/ (-I../testlib), together with tools/mapfile.c and
 * tools/libphysmap.c, on which it builds.
 *
 * Map files are read by physmapctl's parser, tools/mapfile.c: the format of
 * testdata/ (testdata/README.md), one range per line,
 *
 *	<start-hex> <last-hex, inclusive> <kind> <name, rest of the line>
 *
 * with an optional trailing " @<16 hex digits>": the offset of the range
 * within its memory region; or the output of QEMU's "info mtree -f", of
 * which the flat view of "memory" is taken.
 */
#ifndef _PHYSMAP_MAPS_H
#define _PHYSMAP_MAPS_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

/*
 * Not libphysmap.h, which physmap_maps.c uses: the selftests' fixtures
 * define static functions of its names (TEST_F(physmap, get_section) is
 * physmap_get_section()).
 */
#include "physmap_ioctl.h"
#include "physmap_prng.h"

#define PHYSMAP_DEV	"/dev/physmap"

/**
 * struct pm_range - one section: a map file line, or one made up by a test
 * @start: first byte.
 * @last: last byte, inclusive.
 * @cookie: cookie given to PHYSMAP_IOC_ADD.
 * @offset: offset given to PHYSMAP_IOC_ADD (the line's @offset, or 0).
 * @index: expected section index: the lowest no range of the map held when
 *         it was appended, as ADD gives it (its position from 1, in a map
 *         no range was removed from).
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
	char kind[12];
	char *name;
};

/**
 * struct pm_map - ranges in order of addition (ranges[i].index == i + 1
 * until one is removed), the same ranges sorted by address for the model's
 * lookups, and the highest index a range holds
 */
struct pm_map {
	struct pm_range *ranges;
	size_t count;
	size_t capacity;
	const struct pm_range **sorted;
	__u32 max_index;
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
 * pm_map_copy - a deep copy of src in dst (the ranges, their names, their
 * indexes; the sorted model too if src has one), to change one and keep
 * the other. dst is initialized here. Returns 0, or -1 with errno ENOMEM
 * (dst then empty).
 */
int pm_map_copy(struct pm_map *dst, const struct pm_map *src);

/* pm_map_next_index - the index the next range appended gets (lowest free) */
__u32 pm_map_next_index(const struct pm_map *map);

/*
 * pm_map_remove_index - take the range with this index out, as REMOVE does:
 * its index is free for the next range appended. 0, or -1 with errno ENOENT.
 */
int pm_map_remove_index(struct pm_map *map, __u32 index);

/* pm_map_find_index - the range with this index, or NULL */
const struct pm_range *pm_map_find_index(const struct pm_map *map,
					 __u32 index);

/*
 * pm_map_load - read a map file with mf_load(), appending one range per
 * section in file order, with cookie = cookie_base + line number. An empty
 * file, or one with overlapping sections, is refused. Returns 0, or -1 with
 * a message "path:line: what" (or "path: what") in err.
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
/* a __u32 and a __u64 filled with PM_POISON */
#define PM_POISON32	(PM_POISON * 0x01010101U)
#define PM_POISON64	(PM_POISON * 0x0101010101010101ULL)

/*
 * ioctl wrappers: 0 on success, -errno on failure. pm_begin(), pm_add(),
 * pm_begin_update(), pm_remove(), pm_commit() and pm_stats() are
 * libphysmap's (tools/libphysmap.c) with the errno returned. pm_lookup(), pm_lookup_batch() and pm_get_section() issue
 * one ioctl each, as it is: pm_lookup() and pm_get_section() fill every
 * field the kernel must write with PM_POISON first (flags: 0), and
 * pm_lookup_batch() does not split a batch. pm_add() stores the new index
 * in *index when index is not NULL.
 */
int pm_begin(int fd, __u32 page_shift);
int pm_add(int fd, __u64 start, __u64 size, __u64 cookie, __u64 offset,
	   __u32 *index);
int pm_begin_update(int fd, __u32 page_shift);
int pm_remove(int fd, __u32 index);
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

/*
 * debugfs, not ABI: every open file of /dev/physmap has a directory
 * PHYSMAP_DEBUGFS/physmap/<id>/, named in /proc/self/fdinfo/<fd> by the line
 * "physmap-debugfs:\tphysmap/<id>". It holds "shape", the published tree's
 * counters, and "dump", a snapshot taken at open() of the published tree in
 * the layout of QEMU's "info mtree -d". The readers below return 0 or
 * -errno, and say what went wrong in why (which may be NULL).
 * PHYSMAP_DEBUGFS is libphysmap's, "/sys/kernel/debug".
 */
/*
 * pm_debugfs_path - path of a file ("shape", "dump", or "" for the directory)
 * of fd's debugfs directory, from physmap_debugfs_dir(). -ENOENT: no
 * physmap-debugfs line; -EPROTO: it names no physmap/<id>.
 */
int pm_debugfs_path(int fd, const char *file, char *path, size_t size,
		    char *why, size_t why_size);

/*
 * pm_debugfs_read - the text of fd's debugfs file ("shape", "dump") in
 * *text, NUL-terminated, to be freed; 0 or -errno
 */
int pm_debugfs_read(int fd, const char *file, char **text, char *why,
		    size_t why_size);

/*
 * pm_debugfs_unusable - 1 when debugfs cannot be used here: not mounted at
 * PHYSMAP_DEBUGFS, or fd's files not readable (debugfs is root only,
 * lockdown); why then says which, for a SKIP. 0 otherwise, also when the
 * module shows no directory: that is the module's failure, for the test to
 * report.
 */
int pm_debugfs_unusable(int fd, char *why, size_t why_size);

/*
 * pm_read_text - read a whole file into a NUL-terminated buffer (*text, to
 * be freed; *len bytes before the NUL). 0 or -errno.
 */
int pm_read_text(const char *path, char **text, size_t *len);

/*
 * Small files of sysfs, procfs and cgroupfs (module parameters, fault
 * injection knobs, memory.current): 0 or -errno. pm_read_file() reads at
 * most size - 1 bytes and ends them with a NUL; pm_read_str() keeps the
 * first line, without its newline. pm_write_str() writes value in one
 * write(), as a parameter wants it; a short write is -EIO.
 */
int pm_read_file(const char *path, char *buf, size_t size);
int pm_read_str(const char *path, char *buf, size_t size);
int pm_write_str(const char *path, const char *value);

/*
 * struct pm_shape - the "shape" file. Before any commit it holds only
 * "generation: 0": published is 0 and every other field 0.
 */
struct pm_shape {
	int published;
	__u64 generation;
	__u64 sections;
	__u64 nodes;
	__u64 node_bytes;	/* "nodes: N (B bytes each)" */
	__u64 bytes;
	__u64 page_shift;
	__u64 levels;
	__u64 subpages;
	__u64 subpage_ranges;
	__u64 skip_entries;
	__u64 skipped_levels;
	__u64 max_depth;
};

/* pm_shape_parse - the text of a shape file; -EPROTO if malformed */
int pm_shape_parse(const char *text, struct pm_shape *shape, char *why,
		   size_t why_size);
/* pm_shape_read - read and parse fd's shape file */
int pm_shape_read(int fd, struct pm_shape *shape, char *why, size_t why_size);

/*
 * Entries of a parsed dump, in the kernel's encoding (which is not ABI, and
 * checked by nothing but these tests): the skip in bits 0-3 (the levels down
 * to the node pointed to; 0: a leaf), PM_DUMP_SUBPAGE for a leaf that is a
 * sub-page, the index of the node, section or sub-page from bit 5.
 */
#define PM_DUMP_SKIP_MASK	0xfU
#define PM_DUMP_SUBPAGE		0x10U
#define PM_DUMP_PTR_SHIFT	5

/*
 * struct pm_dump_section - a "#i @start..last cookie=C offset=0xO" line, or
 * "#i (removed)" for an index no section holds (@removed, the rest 0)
 */
struct pm_dump_section {
	__u64 start;
	__u64 last;
	__u64 cookie;
	__u64 offset;
	bool removed;
};

/* struct pm_dump_subpage - "Si @base..": page number, its pieces */
struct pm_dump_subpage {
	__u64 page;
	__u32 first;
	__u32 count;
};

/* struct pm_dump_piece - "start..last #section", offsets in the page */
struct pm_dump_piece {
	__u32 start;
	__u32 last;
	__u32 section;
};

/*
 * struct pm_dump - a parsed "dump" file. published is 0 for "physmap:
 * nothing published" (everything else 0 then). sections holds section 0
 * (unassigned, the whole space) too; nodes holds nr_nodes nodes of
 * 1 << node_bits entries. The parser checks the layout, the counts of the
 * headers, and that every entry points inside the arrays and every sub-page
 * holds sorted, disjoint pieces inside its page.
 */
struct pm_dump {
	int published;
	__u64 generation;
	unsigned int page_shift;
	unsigned int node_bits;
	unsigned int levels;
	__u32 root;
	__u32 nr_sections;
	__u32 nr_subpages;
	__u32 nr_pieces;
	__u32 nr_nodes;
	struct pm_dump_section *sections;
	struct pm_dump_subpage *subpages;
	struct pm_dump_piece *pieces;
	__u32 *nodes;
};

/* pm_dump_parse - parse a dump's text; -EPROTO if malformed, -ENOMEM */
int pm_dump_parse(const char *text, struct pm_dump *dump, char *why,
		  size_t why_size);
/* pm_dump_read - read and parse fd's dump file */
int pm_dump_read(int fd, struct pm_dump *dump, char *why, size_t why_size);
void pm_dump_free(struct pm_dump *dump);

/*
 * pm_dump_lookup - look addr up in a parsed dump the way the kernel's lookup
 * walks its tree: from the root at level levels, each entry with skip s
 * takes the walk s levels down, a section leaf is range-checked (levels may
 * have been skipped), a sub-page is searched for the piece holding the
 * offset. *index: the section, or PHYSMAP_UNASSIGNED; *leaf: the leaf entry
 * the walk reached (may be NULL). -EPROTO when the walk goes wrong (a skip
 * past level 0, a path longer than levels).
 */
int pm_dump_lookup(const struct pm_dump *dump, __u64 addr, __u32 *index,
		   __u32 *leaf);

#endif /* _PHYSMAP_MAPS_H */
