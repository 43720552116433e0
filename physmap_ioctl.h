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
 * struct physmap_begin - argument of PHYSMAP_IOC_BEGIN
 * @page_shift: log2 of the page size the tree is built over; 0 means
 *              PHYSMAP_PAGE_SHIFT_DEFAULT, otherwise PHYSMAP_PAGE_SHIFT_MIN..
 *              PHYSMAP_PAGE_SHIFT_MAX. It shapes the tree, never the answers.
 * @flags: must be 0.
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
 * @index: the section's index in its map: 1, 2, 3, ... in order of
 *         addition; PHYSMAP_UNASSIGNED (0) for no section. Written by
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
 * struct physmap_stats - argument of PHYSMAP_IOC_STATS, all out
 * @generation: generation of the published map described; 0 before the
 *              first commit.
 * @sections: sections in the published map (PHYSMAP_UNASSIGNED not counted).
 * @nodes: reachable radix tree nodes of the published map.
 * @bytes: every byte the published map holds: header, nodes, sections and
 *         sub-page structures.
 * @page_shift: page_shift the published map was built with.
 * @levels: radix tree levels for that page_shift.
 * @subpages: pages that resolve per byte (partly covered, or covered by
 *            several sections).
 * @subpage_ranges: sections pieces held by all sub-pages together.
 * @skip_entries: entries that skip one or more levels after compaction.
 * @skipped_levels: levels skipped by those entries, added up.
 * @max_depth: the most tree nodes any lookup visits.
 * @node_bytes: bytes of one tree node.
 */
struct physmap_stats {
	__u64 generation;
	__u32 sections;
	__u32 nodes;
	__u64 bytes;
	__u32 page_shift;
	__u32 levels;
	__u32 subpages;
	__u32 subpage_ranges;
	__u32 skip_entries;
	__u32 skipped_levels;
	__u32 max_depth;
	__u32 node_bytes;
};

/*
 * The entries of PHYSMAP_IOC_GET_TREE: a __u32 each. Bits 0-3 hold the skip,
 * the number of levels down to the node the entry points to (0: the entry is
 * a leaf); bit 4 marks a leaf that is a sub-page; bits 5-31 hold the index of
 * the node, the section or the sub-page. The kernel checks at build time that
 * these describe its own tree; struct physmap_tree also reports node_slots.
 */
/** PHYSMAP_TREE_SKIP_MASK - bits of an entry that hold its skip */
#define PHYSMAP_TREE_SKIP_MASK		0xfU
/** PHYSMAP_TREE_SUBPAGE - bit of a leaf entry that points to a sub-page */
#define PHYSMAP_TREE_SUBPAGE		0x10U
/** PHYSMAP_TREE_PTR_SHIFT - shift of the index in an entry */
#define PHYSMAP_TREE_PTR_SHIFT		5
/** PHYSMAP_TREE_NODE_BITS - bits of page number one tree level resolves */
#define PHYSMAP_TREE_NODE_BITS		6
/** PHYSMAP_TREE_NODE_SLOTS - entries of one tree node */
#define PHYSMAP_TREE_NODE_SLOTS		64U	/* 1 << PHYSMAP_TREE_NODE_BITS */

/**
 * struct physmap_tree_subpage - a page of the tree that resolves per byte
 * @page: the page number (address >> page_shift).
 * @first: index of its first piece in the pieces of PHYSMAP_IOC_GET_TREE.
 * @count: number of its pieces, sorted by offset, never overlapping.
 */
struct physmap_tree_subpage {
	__u64 page;
	__u32 first;
	__u32 count;
};

/**
 * struct physmap_tree_piece - the part of a section inside a sub-page
 * @start: offset within the page of its first byte.
 * @last: offset within the page of its last byte.
 * @section: the section's index.
 */
struct physmap_tree_piece {
	__u16 start;
	__u16 last;
	__u32 section;
};

/**
 * struct physmap_tree - argument of PHYSMAP_IOC_GET_TREE: the compacted tree
 * of the published map, as lookups walk it
 * @nodes: user pointer to room for @nr_nodes nodes of
 *         PHYSMAP_TREE_NODE_SLOTS __u32 entries each (out).
 * @subpages: user pointer to room for @nr_subpages
 *            struct physmap_tree_subpage (out).
 * @pieces: user pointer to room for @nr_pieces struct physmap_tree_piece
 *          (out).
 * @generation: generation of the published map described; 0 before the
 *              first commit (out).
 * @nr_nodes: in, how many nodes @nodes has room for; out, the tree's nodes.
 * @nr_subpages: in, room at @subpages; out, the tree's sub-pages.
 * @nr_pieces: in, room at @pieces; out, the pieces of all its sub-pages.
 * @root: the entry for the whole address space (out).
 * @page_shift: page_shift the map was built with (out).
 * @levels: radix tree levels for that page_shift (out); a lookup starts at
 *          level @levels and an entry with skip s takes it s levels down.
 * @node_slots: PHYSMAP_TREE_NODE_SLOTS (out).
 * @flags: must be 0.
 *
 * The arrays are written only when each one has room for all its items;
 * otherwise the ioctl fails with E2BIG, writes the counts and the other
 * fields out and leaves the arrays alone, so that a caller can ask with
 * zero room first. A pointer whose room is 0 is not used.
 */
struct physmap_tree {
	__u64 nodes;
	__u64 subpages;
	__u64 pieces;
	__u64 generation;
	__u32 nr_nodes;
	__u32 nr_subpages;
	__u32 nr_pieces;
	__u32 root;
	__u32 page_shift;
	__u32 levels;
	__u32 node_slots;
	__u32 flags;
};

/* ioctl type 0xB9, numbers 0x00-0x0F: see Documentation/physmap.rst */
#define PHYSMAP_IOC_TYPE		0xB9

/** PHYSMAP_IOC_BEGIN - drop any pending map and start an empty one */
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
/** PHYSMAP_IOC_STATS - shape and size of the published map */
#define PHYSMAP_IOC_STATS	_IOR(PHYSMAP_IOC_TYPE, 0x06, struct physmap_stats)
/** PHYSMAP_IOC_GET_TREE - the nodes and sub-pages of the published map */
#define PHYSMAP_IOC_GET_TREE	_IOWR(PHYSMAP_IOC_TYPE, 0x07, struct physmap_tree)

#endif /* _UAPI_PHYSMAP_IOCTL_H */
