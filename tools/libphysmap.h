/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/*
 * libphysmap - a small C library over the /dev/physmap UAPI
 *
 * Every function returns 0 (physmap_open(): a file descriptor) on success,
 * and -1 with errno set on failure, like the system calls it wraps: the
 * errnos are those of the ioctls (Documentation/physmap.rst), plus EINVAL
 * for arguments the library itself rejects. No function prints anything.
 *
 * Build with: cc ... $(pkg-config --cflags --libs libphysmap)
 * and include <physmap/libphysmap.h>.
 */
#ifndef _LIBPHYSMAP_H
#define _LIBPHYSMAP_H

#include <stddef.h>
#include <linux/types.h>

#include "physmap_ioctl.h"

#ifdef __cplusplus
extern "C" {
#endif

/** PHYSMAP_DEVICE - the device node physmap_open() opens by default */
#define PHYSMAP_DEVICE		"/dev/physmap"

/** LIBPHYSMAP_VERSION - version of the library and of its pkg-config file */
#define LIBPHYSMAP_VERSION	"0.1.0"

/**
 * physmap_open() - open an address space of /dev/physmap
 * @path: device node; NULL for PHYSMAP_DEVICE.
 *
 * Every open file description is an independent address space; the maps it
 * holds go away with its last file descriptor. The descriptor is opened
 * read-write and close-on-exec.
 *
 * Return: a file descriptor, or -1 with errno set (ENOENT: no such node,
 * typically because the module is not loaded; EACCES: see
 * Documentation/99-physmap.rules.example).
 */
int physmap_open(const char *path);

/**
 * physmap_close() - close a descriptor from physmap_open()
 * @fd: the descriptor.
 *
 * Return: 0, or -1 with errno set.
 */
int physmap_close(int fd);

/**
 * physmap_begin() - drop any pending map and start an empty one
 * @fd: an open address space.
 * @page_shift: 0 (PHYSMAP_PAGE_SHIFT_DEFAULT) or PHYSMAP_PAGE_SHIFT_MIN..
 *              PHYSMAP_PAGE_SHIFT_MAX.
 *
 * Return: 0, or -1 with errno set (EINVAL, ENOMEM).
 */
int physmap_begin(int fd, unsigned int page_shift);

/**
 * physmap_begin_update() - drop any pending map and start one from the
 * published map
 * @fd: an open address space.
 * @page_shift: 0, or the published map's page_shift, which the pending map
 *              keeps.
 *
 * The pending map holds every section of the published map, each with its
 * index, start, size, cookie and offset: physmap_remove() takes sections
 * out, physmap_add() puts new ones in, physmap_commit() publishes the
 * result. With nothing published the pending map starts empty.
 *
 * Return: 0, or -1 with errno set (EINVAL: @page_shift is another, ENOMEM).
 */
int physmap_begin_update(int fd, unsigned int page_shift);

/**
 * physmap_add() - add a section to the pending map
 * @fd: an open address space.
 * @start: first byte.
 * @size: bytes; not 0, and the section must not pass 2^64 - 1.
 * @cookie: the caller's value, returned by lookups.
 * @offset: the caller's offset of @start within its region.
 * @index: if not NULL, receives the section's index: the lowest one no
 *         section of the pending map holds (1, 2, 3, ... in a map begun
 *         empty; in an update, those physmap_remove() freed, lowest first).
 *
 * Return: 0, or -1 with errno set (EINVAL, EEXIST: overlaps a section of
 * the pending map, ENOSPC: past the module's max_sections, ENOMEM).
 */
int physmap_add(int fd, __u64 start, __u64 size, __u64 cookie, __u64 offset,
		__u32 *index);

/**
 * physmap_remove() - take a section out of the pending map
 * @fd: an open address space.
 * @index: the section's index in the pending map.
 *
 * Its range is free for physmap_add() in the same transaction, and its
 * index for the next section added. A failed call changes nothing.
 *
 * Return: 0, or -1 with errno set (EBADF: @fd is not open for writing,
 * EINVAL: nothing pending, ENOENT: index 0 or no section of the pending map
 * holds @index).
 */
int physmap_remove(int fd, __u32 index);

/**
 * physmap_commit() - compact the pending map and publish it
 * @fd: an open address space.
 *
 * Return: 0, or -1 with errno set (EINVAL: nothing pending, ENOMEM).
 */
int physmap_commit(int fd);

/**
 * physmap_lookup() - the section covering an address
 * @fd: an open address space.
 * @addr: the address.
 * @section: receives the section; index PHYSMAP_UNASSIGNED and every other
 *           field 0 when no section covers @addr.
 * @generation: if not NULL, receives the generation of the map that
 *              answered (0: nothing committed yet).
 *
 * Return: 0, or -1 with errno set.
 */
int physmap_lookup(int fd, __u64 addr, struct physmap_section *section,
		   __u64 *generation);

/**
 * physmap_lookup_batch() - section indexes of many addresses, one map
 * @fd: an open address space.
 * @addrs: @count addresses.
 * @indexes: receives @count section indexes (PHYSMAP_UNASSIGNED: none).
 * @count: any number; batches of more than PHYSMAP_BATCH_MAX addresses are
 *         split into several ioctls.
 * @generation: if not NULL, receives the generation of the map that
 *              answered every address.
 *
 * All answers come from one published map: when a commit lands between
 * two ioctls of a split batch, the batch starts again, up to 16 times.
 *
 * Return: 0, or -1 with errno set (EAGAIN: the map kept changing).
 */
int physmap_lookup_batch(int fd, const __u64 *addrs, __u32 *indexes,
			 size_t count, __u64 *generation);

/**
 * physmap_get_section() - a section of the published map by index
 * @fd: an open address space.
 * @index: the section's index, from 1.
 * @section: receives the section.
 *
 * Indexes of removed sections may lie below the highest: the published map
 * holds as many sections as physmap_stats() counts, not always every index
 * up to that number.
 *
 * Return: 0, or -1 with errno set (ENOENT: index 0, or no section of the
 * published map holds @index).
 */
int physmap_get_section(int fd, __u32 index, struct physmap_section *section);

/**
 * physmap_stats() - generation and size of the published map
 * @fd: an open address space.
 * @stats: receives the figures (all 0 before a commit); sections counts the
 *         sections held, whatever their indexes.
 *
 * Return: 0, or -1 with errno set.
 */
int physmap_stats(int fd, struct physmap_stats *stats);

/** PHYSMAP_DEBUGFS - where debugfs is usually mounted */
#define PHYSMAP_DEBUGFS	"/sys/kernel/debug"

/**
 * physmap_debugfs_dir() - the debugfs directory of an address space
 * @fd: an open address space.
 * @buf: receives the directory, PHYSMAP_DEBUGFS "/physmap/<id>".
 * @size: room at @buf.
 *
 * The directory (debugfs, not ABI, root only) holds "shape", the published
 * tree's counters, and "dump", the tree in the layout of QEMU's
 * "info mtree -d". Its name comes from the line
 * "physmap-debugfs:<tab>physmap/<id>" of /proc/self/fdinfo/@fd.
 *
 * Return: 0, or -1 with errno set (ENOTTY: @fd is no /dev/physmap of a
 * module with debugfs directories; EPROTO: the line names no
 * physmap/<id>; ENAMETOOLONG: @size is too small).
 */
int physmap_debugfs_dir(int fd, char *buf, size_t size);

/**
 * physmap_open_hint() - advice for a failed physmap_open()
 * @err: its errno.
 *
 * Return: a sentence to show the user ("is physmap loaded? try: sudo
 * modprobe physmap" for ENOENT, ENODEV and ENXIO), or NULL.
 */
const char *physmap_open_hint(int err);

#ifdef __cplusplus
}
#endif

#endif /* _LIBPHYSMAP_H */
