/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * userspace API of /dev/physmap
 *
 * Each open file description of /dev/physmap is one independent address
 * space. A map of sections is built in a transaction (BEGIN, ADD..., COMMIT)
 * and published atomically; lookups answer from the published map without
 * taking any lock. See Documentation/physmap.rst.
 *
 * Every structure is made of __u32 and __u64 fields with no implicit padding,
 * so the layout is the same for 32-bit and 64-bit callers. User pointers are
 * passed as __u64. Fields named flags must be 0; anything else is EINVAL.
 */
#ifndef _UAPI_PHYSMAP_IOCTL_H
#define _UAPI_PHYSMAP_IOCTL_H

#include <linux/ioctl.h>
#include <linux/types.h>

/** PHYSMAP_UNASSIGNED - section index answered for addresses no section covers */
#define PHYSMAP_UNASSIGNED		0

/** PHYSMAP_BATCH_MAX - the most addresses one PHYSMAP_IOC_LOOKUP_BATCH takes */
#define PHYSMAP_BATCH_MAX		4096

/** PHYSMAP_PAGE_SHIFT_DEFAULT - page_shift used when BEGIN passes 0 */
#define PHYSMAP_PAGE_SHIFT_DEFAULT	12
/** PHYSMAP_PAGE_SHIFT_MIN - smallest page_shift BEGIN accepts */
#define PHYSMAP_PAGE_SHIFT_MIN		10
/** PHYSMAP_PAGE_SHIFT_MAX - largest page_shift BEGIN accepts */
#define PHYSMAP_PAGE_SHIFT_MAX		16

/**
 * PHYSMAP_BEGIN_UPDATE - struct physmap_begin.flags: start the pending map
 * from the published one, every section with its index, rather than empty
 */
#define PHYSMAP_BEGIN_UPDATE		0x1U	/* bit 0 */

/**
 * struct physmap_begin - argument of PHYSMAP_IOC_BEGIN
 * @page_shift: log2 of the page size the tree is built over; 0 means
 *              PHYSMAP_PAGE_SHIFT_DEFAULT, otherwise PHYSMAP_PAGE_SHIFT_MIN..
 *              PHYSMAP_PAGE_SHIFT_MAX. It shapes the tree, never the answers.
 *              With PHYSMAP_BEGIN_UPDATE: 0 or the published map's, which
 *              the pending map keeps.
 * @flags: 0, or PHYSMAP_BEGIN_UPDATE.
 */
struct physmap_begin {
	__u32 page_shift;
	__u32 flags;
};

/**
 * struct physmap_section - one section: a byte range with a caller's cookie
 * @start: first byte of the range.
 * @size: length in bytes; not 0, and @start + @size - 1 must not pass
 *        2^64 - 1 (a section may end exactly there).
 * @cookie: opaque value of the caller's, returned by lookups.
 * @offset: the caller's offset of @start within its region, returned by
 *          lookups.
 * @flags: must be 0 for PHYSMAP_IOC_ADD.
 * @index: the section's index in its map: the lowest index no section of
 *         the pending map holds (1, 2, 3, ... in a map begun empty; in an
 *         update, indexes PHYSMAP_IOC_REMOVE freed, lowest first);
 *         PHYSMAP_UNASSIGNED (0) for no section. Written by
 *         PHYSMAP_IOC_ADD, read by PHYSMAP_IOC_GET_SECTION.
 */
struct physmap_section {
	__u64 start;
	__u64 size;
	__u64 cookie;
	__u64 offset;
	__u32 flags;
	__u32 index;
};

/**
 * struct physmap_lookup - argument of PHYSMAP_IOC_LOOKUP
 * @addr: the address to look up (in).
 * @generation: generation of the published map that answered (out).
 * @section: the covering section, with its index; all zero, index
 *           PHYSMAP_UNASSIGNED, when no section covers @addr (out).
 */
struct physmap_lookup {
	__u64 addr;
	__u64 generation;
	struct physmap_section section;
};

/**
 * struct physmap_lookup_batch - argument of PHYSMAP_IOC_LOOKUP_BATCH
 * @addrs: user pointer to @count __u64 addresses (in).
 * @indexes: user pointer to @count __u32 section indexes (out).
 * @count: number of addresses, 0..PHYSMAP_BATCH_MAX.
 * @flags: must be 0.
 * @generation: generation of the one published map that answered every
 *              address of the batch (out).
 */
struct physmap_lookup_batch {
	__u64 addrs;
	__u64 indexes;
	__u32 count;
	__u32 flags;
	__u64 generation;
};

/**
 * struct physmap_remove - argument of PHYSMAP_IOC_REMOVE
 * @index: in: a section of the pending map.
 * @flags: in: must be 0.
 */
struct physmap_remove {
	__u32 index;
	__u32 flags;
};

/**
 * struct physmap_stats - argument of PHYSMAP_IOC_STATS, all out
 * @generation: generation of the published map described; 0 before the
 *              first commit.
 * @bytes: every byte the published map holds (what the module parameter
 *         max_map_mb counts).
 * @sections: sections the published map holds (PHYSMAP_UNASSIGNED not
 *            counted); indexes of removed sections may lie below the
 *            highest.
 * @page_shift: page_shift the published map was built with.
 *
 * The shape of the tree (nodes, skips, depth) is not ABI: debugfs shows it
 * (Documentation/physmap.rst, "Debugging").
 */
struct physmap_stats {
	__u64 generation;
	__u64 bytes;
	__u32 sections;
	__u32 page_shift;
};

/* ioctl type 0xB9, numbers 0x00-0x0F: see Documentation/physmap.rst */
#define PHYSMAP_IOC_TYPE		0xB9

/**
 * PHYSMAP_IOC_BEGIN - drop any pending map and start a new one: empty, or
 * with PHYSMAP_BEGIN_UPDATE the published map's sections
 */
#define PHYSMAP_IOC_BEGIN	_IOW(PHYSMAP_IOC_TYPE, 0x00, struct physmap_begin)
/** PHYSMAP_IOC_ADD - add a section to the pending map, return its index */
#define PHYSMAP_IOC_ADD		_IOWR(PHYSMAP_IOC_TYPE, 0x01, struct physmap_section)
/** PHYSMAP_IOC_COMMIT - compact the pending map and publish it */
#define PHYSMAP_IOC_COMMIT	_IO(PHYSMAP_IOC_TYPE, 0x02)
/** PHYSMAP_IOC_LOOKUP - the section covering one address */
#define PHYSMAP_IOC_LOOKUP	_IOWR(PHYSMAP_IOC_TYPE, 0x03, struct physmap_lookup)
/** PHYSMAP_IOC_LOOKUP_BATCH - section indexes of many addresses */
#define PHYSMAP_IOC_LOOKUP_BATCH _IOWR(PHYSMAP_IOC_TYPE, 0x04, struct physmap_lookup_batch)
/** PHYSMAP_IOC_GET_SECTION - a published section by index */
#define PHYSMAP_IOC_GET_SECTION	_IOWR(PHYSMAP_IOC_TYPE, 0x05, struct physmap_section)
/** PHYSMAP_IOC_STATS - generation and size of the published map */
#define PHYSMAP_IOC_STATS	_IOR(PHYSMAP_IOC_TYPE, 0x06, struct physmap_stats)
/** PHYSMAP_IOC_REMOVE - take a section out of the pending map */
#define PHYSMAP_IOC_REMOVE	_IOW(PHYSMAP_IOC_TYPE, 0x08, struct physmap_remove)

#endif /* _UAPI_PHYSMAP_IOCTL_H */
