/* SPDX-License-Identifier: GPL-2.0 */
/*
 * QEMU 7.2's AddressSpaceDispatch, rebuilt as a benchmark baseline
 *
 * A clean-room implementation, from the two seed commits ("memory: allow
 * phys_map tree paths to terminate early", "exec: memory radix tree page
 * level compression"; Documentation/physmap-seeds.rst) and QEMU's
 * documented behaviour as its `info mtree -f -d` dumps show it
 * (testdata/qemu-7.2/<config>.dispatch.txt), not a copy of QEMU's code.
 * It keeps what decides the cost of a lookup and the bytes:
 *
 * - 9-bit nodes of 512 32-bit entries (a 6-bit skip and a 26-bit pointer),
 *   QB_LEVELS = 6 levels for 64-bit addresses and 4 KiB target pages;
 * - a node allocated at level 0 starts as 512 leaves of the unassigned
 *   section; one allocated above starts as 512 empty (NIL) entries;
 * - ranges are stored with early leaves (the highest aligned level a run of
 *   pages fills), then compacted: an entry whose node has exactly one
 *   non-NIL entry skips that node (or becomes its leaf), bottom-up; a
 *   subtree of one section is NOT collapsed, and skipped nodes stay in the
 *   node array (orphans, counted, as in QEMU's node count);
 * - a range is split into a leading sub-page part, whole pages and a
 *   trailing sub-page part; a page shared or covered in part gets a
 *   sub-page: a section of its own covering the page, and a table of one
 *   16-bit section number per byte (8 KiB);
 * - the lookup: the most recently used section is checked first (its
 *   range, as address_space_lookup_region() does), else the tree is walked
 *   (phys_page_find(), which ends with the same range check), then a
 *   sub-page resolves through its table.
 *
 * Sections are numbered as QEMU numbers them: 0 is unassigned, then in the
 * order the parts are added, a sub-page's own section before the part that
 * creates it. QEMU itself refuses a 4,096th section (the index shares a
 * TLB entry with a page-aligned pointer); this build goes on to the 16-bit
 * limit of its tables and reports the overflow instead.
 */
#ifndef _PHYSMAP_QEMU_BASELINE_H
#define _PHYSMAP_QEMU_BASELINE_H

#include <linux/bits.h>
#include <linux/types.h>	/* the userspace shim's: u8..u64 */

#define QB_PAGE_BITS	12
#define QB_PAGE_SIZE	BIT(QB_PAGE_BITS)
#define QB_NODE_BITS	9
#define QB_NODE_SLOTS	BIT(QB_NODE_BITS)
/* Levels of 9 bits above the page offset that cover 64-bit addresses. */
#define QB_LEVELS	((64 - QB_PAGE_BITS - 1) / QB_NODE_BITS + 1)
#define QB_SKIP_BITS	6
#define QB_PTR_BITS	26
/* The empty entry's pointer: no node below. */
#define QB_NIL		(BIT(QB_PTR_BITS) - 1)
/* Section numbers are 16 bits in the sub-page tables and the store path. */
#define QB_MAX_SECTIONS	BIT(16)
/* The most sections QEMU itself accepts (TARGET_PAGE_SIZE). */
#define QB_QEMU_MAX_SECTIONS	4096U

/*
 * An entry: skip 0 is a leaf, ptr a section number; skip > 0 points @skip
 * levels down to node @ptr, or nowhere when ptr is QB_NIL.
 */
struct qb_entry {
	u32 skip : QB_SKIP_BITS;
	u32 ptr : QB_PTR_BITS;
};

/*
 * What a lookup reads of QEMU's MemoryRegion: whether it is a sub-page.
 * Padded to a cache line so that a sub-page's flag and its table never
 * share one, as in QEMU, where the MemoryRegion is a few hundred bytes.
 */
struct qb_region {
	bool subpage;
	u32 id;		/* the caller's: a map line, 0 for unassigned */
	char pad[56];
};

/*
 * QEMU's MemoryRegionSection, 64 bytes on x86-64 as there. The size is
 * 128 bits (QEMU's Int128, the compiler's type there too): 2^64 for the
 * unassigned section.
 */
struct qb_section {
	__uint128_t size;
	struct qb_region *mr;
	void *fv;
	u64 offset_within_region;
	u64 start;		/* offset_within_address_space */
	bool readonly;
	bool nonvolatile;
};

/* A page that resolves per byte: QEMU's subpage_t. */
struct qb_subpage {
	struct qb_region iomem;
	u64 base;
	u16 sub_section[QB_PAGE_SIZE];
};

struct qb_dispatch {
	const struct qb_section *mru;	/* read and set by every full lookup */
	struct qb_entry root;
	struct qb_entry (*nodes)[QB_NODE_SLOTS];
	struct qb_section *sections;
	u32 nr_nodes;
	u32 nodes_alloc;
	u32 nr_sections;
	u32 sections_alloc;
	struct qb_subpage **subpages;
	struct qb_region **regions;
	u32 nr_subpages;
	u32 subpages_alloc;
	u32 nr_regions;
	u32 regions_alloc;
	bool compacted;
	struct qb_region unassigned;
};

struct qb_stats {
	u32 sections;	/* unassigned included, as the dumps number them */
	u32 nodes;		/* allocated, orphans included */
	u32 reachable;	/* nodes reachable from the root */
	u32 subpages;
	u64 bytes;		/* 2 KiB a node, 8 KiB a sub-page table, sections */
	bool beyond_qemu;	/* more sections than QEMU accepts */
};

struct qb_dispatch *qb_create(void);
void qb_free(struct qb_dispatch *d);
int qb_add(struct qb_dispatch *d, u64 start, u64 last, u32 id,
	   u64 offset_within_region);
void qb_compact(struct qb_dispatch *d);
void qb_stats(const struct qb_dispatch *d, struct qb_stats *st);

/* phys_page_find(): the tree alone; a sub-page answers its page's section. */
const struct qb_section *qb_find(const struct qb_dispatch *d, u64 addr);
/* address_space_lookup_region(..., resolve_subpage = true) */
const struct qb_section *qb_lookup(struct qb_dispatch *d, u64 addr);

static inline u32 qb_section_index(const struct qb_dispatch *d,
				   const struct qb_section *s)
{
	return s - d->sections;
}

#endif /* _PHYSMAP_QEMU_BASELINE_H */
