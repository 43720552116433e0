/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mapfile.h - the map files physmapctl and the tests (testlib/) read: the
 * format of testdata/ ("<start> <last> <kind> <name> [@<offset>]") or the
 * raw output of QEMU's "info mtree -f" (with or without -d), alone or in a
 * transcript of the monitor, of which one flat view is taken.
 */
#ifndef _PHYSMAPCTL_MAPFILE_H
#define _PHYSMAPCTL_MAPFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

/**
 * struct mf_section - one section of a map file
 * @start: first byte.
 * @last: last byte, inclusive.
 * @offset: offset of @start within its memory region.
 * @line: line number in the file, from 1; also the section's cookie.
 * @kind: QEMU's kind: ram, rom, romd, i/o, ...
 * @name: the memory region's name.
 */
struct mf_section {
	__u64 start;
	__u64 last;
	__u64 offset;
	unsigned int line;
	char kind[12];
	char *name;
};

/**
 * struct mf_map - the sections of a map file, in file order
 * @sections: @count sections; the section of index i is @sections[i - 1].
 * @count: number of sections.
 * @capacity: room at @sections.
 * @mtree: the file was "info mtree -f" output.
 * @monitor: the file was a transcript of QEMU's monitor (-monitor stdio)
 *	holding "info mtree -f" output.
 */
struct mf_map {
	struct mf_section *sections;
	size_t count;
	size_t capacity;
	bool mtree;
	bool monitor;
};

/* called now and then while a file is read: done and total bytes */
typedef void (*mf_progress_fn)(void *arg, size_t done, size_t total);

void mf_map_init(struct mf_map *map);
void mf_map_free(struct mf_map *map);

/*
 * mf_load - read path into map. view selects the flat view of an mtree file:
 * "memory", "io" (the address space "I/O"), or any address space's name.
 * Checks that no two sections overlap. Returns 0, or -1 with a message in
 * err: "path:line: what was wrong", or "path: what".
 */
int mf_load(struct mf_map *map, const char *path, const char *view,
	    mf_progress_fn progress, void *arg, char *err, size_t err_size);

/*
 * mf_load_text - the same for text[0..len) held in memory (what QEMU's
 * monitor answered, say); name stands for the path in messages.
 */
int mf_load_text(struct mf_map *map, const char *text, size_t len,
		 const char *name, const char *view, char *err,
		 size_t err_size);

#endif /* _PHYSMAPCTL_MAPFILE_H */
