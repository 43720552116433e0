/* SPDX-License-Identifier: GPL-2.0 */
/*
 * QEMU's compressed phys_map radix tree, as a library
 *
 * The tree core knows nothing of character devices or user memory: the
 * device (physmap_main.c) drives it, and the same file builds in userspace
 * for tests.
 */
#ifndef _PHYSMAP_TREE_H
#define _PHYSMAP_TREE_H

#include <linux/bits.h>
#include <linux/atomic.h>
#include <linux/rcupdate.h>
#include <linux/refcount.h>
#include <linux/types.h>

/*
 * PMT_NS: the symbol namespace of the tree's exports, in the form the
 * kernel's EXPORT_SYMBOL_NS_GPL() and MODULE_IMPORT_NS() take: a string
 * literal since 6.13, a bare identifier they stringify before.
 * PHYSMAP_NS_STRING forces the string (make check's "ns string build"
 * compiles with it against 6.13's macros on an older tree). The userspace
 * build's shim ignores the namespace.
 */
#ifdef __KERNEL__
#include <linux/version.h>
#if KERNEL_VERSION(6, 13, 0) <= LINUX_VERSION_CODE || defined(PHYSMAP_NS_STRING)
#define PMT_NS	"PHYSMAP"
#else
#define PMT_NS	PHYSMAP
#endif
#endif

/* The section index of addresses no section covers: section 0. */
#define PMT_UNASSIGNED		0
/* The page sizes a map can be built with, and the one most use. */
#define PMT_PAGE_SHIFT_MIN	10
#define PMT_PAGE_SHIFT_MAX	16
#define PMT_PAGE_SHIFT_DEFAULT	12

/*
 * Radix: PMT_NODE_BITS bits of page number per level. QEMU uses 9 (512
 * entries, 2 KiB nodes); physmap uses 6 (64 entries, 256-byte nodes): a
 * node where few sections meet is mostly empty entries, and smaller nodes
 * waste fewer of them, for one more level on the longest paths (the bytes
 * and lookup times are in Documentation/physmap.rst, "Performance"). A
 * build may choose another width to measure it; the entry format holds
 * skips for widths down to 4.
 */
#ifndef PMT_NODE_BITS
#define PMT_NODE_BITS	6
#endif
#define PMT_NODE_SLOTS	BIT(PMT_NODE_BITS)
#define PMT_NODE_BYTES	(sizeof(u32) << PMT_NODE_BITS)

/*
 * An entry of a pending map is a u32: bits 0-3 hold the skip, the number of
 * levels down to the node the entry points to (0: the entry is a leaf); bit
 * 4 marks a leaf that is a sub-page; bits 5-31 hold the node, section or
 * sub-page index. The entry 0 is the leaf of section 0, PMT_UNASSIGNED, so
 * a zeroed node is an empty one.
 */
#define PMT_ENTRY_SKIP_MASK	0xfU
#define PMT_ENTRY_SUBPAGE	0x10U
#define PMT_ENTRY_PTR_SHIFT	5

/*
 * An entry of a published map says where the next index comes from rather
 * than how many levels it skips: bits 0-5 hold the shift of the address
 * whose low PMT_NODE_BITS bits index the node the entry points to (0: the
 * entry is a leaf; a node's shift is at least the page shift); bit 6 marks
 * a leaf that is a sub-page; the bits from PMT_MAP_PTR_SHIFT hold the
 * index, so that a node's entry less its low bits is the node's byte
 * offset in the map's nodes (PMT_NODE_BYTES). A lookup reads
 * node[(addr >> shift) % PMT_NODE_SLOTS] with no level to keep. The entry
 * 0 is again the leaf of section 0.
 */
#define PMT_MAP_SHIFT_MASK	0x3fU
#define PMT_MAP_SUBPAGE		0x40U
#define PMT_MAP_PTR_SHIFT	(PMT_NODE_BITS + 2)

/* The root entry may skip every level: the skip field must hold that. */
#if (64 - PMT_PAGE_SHIFT_MIN + PMT_NODE_BITS - 1) / \
	PMT_NODE_BITS > PMT_ENTRY_SKIP_MASK
#error "PMT_NODE_BITS too small for the skip field"
#endif
/* The most sections, nodes or sub-pages a map can hold. */
#define PMT_PTR_MAX		((1U << (32 - PMT_MAP_PTR_SHIFT)) - 1)

/*
 * A sub-page resolves an offset with one load from its table: its pieces
 * start and end on multiples of 2^shift bytes (the largest such power of
 * two), so the table holds one u8 per 2^shift bytes of the page: 1 + the
 * section there less the sub-page's lowest section, or 0 for none. A
 * sub-page whose sections' indexes lie more than PMT_SUBPAGE_TABLE_SPAN
 * apart, or one past the map's table budget, has no table (shift
 * PMT_SUBPAGE_SEARCH): its pieces are searched.
 */
#define PMT_SUBPAGE_TABLE_SPAN	255
#define PMT_SUBPAGE_SEARCH		0xff

/*
 * The shift of a section's leaf as a sub-page in a mixed map (struct
 * pmt_map, @leaves): every offset in it reads the first byte of its table.
 */
#define PMT_LEAF_SHIFT			63

/**
 * struct pmt_section - a section as the map holds it
 * @start: first byte.
 * @size: length in bytes; 0 only for section 0, which covers nothing.
 * @cookie: the caller's cookie.
 * @offset: the caller's offset of @start within its region.
 */
struct pmt_section {
	u64 start;
	u64 size;
	u64 cookie;
	u64 offset;
};

/**
 * struct pmt_subpage - a page that resolves per byte
 * @start: the address of the page's first byte: an address's offset in
 *         the page is its distance from @start.
 * @size: the page's size: an offset at or past it lies outside the page
 *        (the walk skipped levels). For a section's leaf as a sub-page,
 *        in a mixed map (struct pmt_map), the section's start and size.
 * @first: index of its first piece in the map's piece array.
 * @table: offset of its table in the map's tables.
 * @base: the lowest index of its pieces' sections, which its table's
 *        entries count from.
 * @count: number of pieces, sorted by offset, never overlapping.
 * @shift: log2 of the bytes one table entry stands for, or
 *         PMT_SUBPAGE_SEARCH for no table.
 */
struct pmt_subpage {
	u64 start;
	u64 size;
	u32 first;
	u32 table;
	u32 base;
	u16 count;
	u8 shift;
};

/**
 * struct pmt_piece - the part of a section that lies inside a sub-page
 * @start: offset within the page of its first byte.
 * @last: offset within the page of its last byte.
 * @section: the section's index.
 */
struct pmt_piece {
	u16 start;
	u16 last;
	u32 section;
};

/* struct pmt_map's kind. */
#define PMT_KIND_MIXED		1
#define PMT_KIND_SLOTS		2

/**
 * struct pmt_override - an index whose section is not its primary slot
 * @index: the index.
 * @slot: its section's slot, or 0 when no section has the index.
 */
struct pmt_override {
	u32 index;
	u32 slot;
};

struct pmt_store;

/**
 * struct pmt_map - a compacted, published, read-only map
 * @root: the entry for the whole address space.
 * @page_shift: log2 of the page size.
 * @levels: radix levels for @page_shift.
 * @kind: what lookups of the map take a path of their own for, 0 for
 *        neither: PMT_KIND_MIXED for @mixed, PMT_KIND_SLOTS for slots to
 *        translate (some past @nr_primary).
 * @mixed: lookups resolve every leaf as a sub-page, without a branch on
 *         its kind: @leaves.
 * @leaf_subpages: in a mixed map, @subpages less @leaves: the distance
 *                 from a slot's leaf to a sub-page's, in sub-pages.
 * @batched: lookups of many addresses walk them in batches, a level at a
 *           time, so that their cache misses overlap: the map's nodes and
 *           sections are larger than a CPU's nearest caches.
 * @leaves: in a mixed map, the leaf of each slot as a sub-page whose
 *          table is one byte of 1 (shift PMT_LEAF_SHIFT): the section's
 *          range, base the slot; @leaf_subpages of them, then @subpages.
 * @nodes: @nr_nodes nodes of PMT_NODE_SLOTS entries each.
 * @sections: the section *slots* that leaves, pieces and tables name:
 *            @nr_slots of them. The first @nr_primary are the sections of
 *            the same index; an update appends a slot for each section it
 *            adds, whose index @slot_index holds.
 * @subpages: @nr_subpages sub-pages.
 * @pieces: @nr_pieces pieces.
 * @tables: the sub-pages' tables (struct pmt_subpage).
 * @slot_index: the index of slot @nr_primary + i at i; NULL when every
 *              slot is primary.
 * @nr_sections: indexes below which a section may be, section 0 included.
 * @nr_primary: slots that are their own index; a primary slot that an
 *              update removed or replaced stays as it was, for readers of
 *              older maps, and @overrides says so.
 * @nr_slots: slots of @sections this map may name.
 * @overrides: the indexes whose section is not their primary slot, sorted,
 *             each with its slot, or 0 for a hole: @nr_overrides of them.
 * @nr_overrides: entries of @overrides.
 * @store: the arrays an update shares with the maps before and after it;
 *         NULL for a map in one allocation, which updates copy.
 * @nr_held: sections the map holds: neither section 0 nor holes.
 * @nr_nodes: nodes of @nodes; in a map an update made, those older maps
 *            reach too, which it no longer does (@store).
 * @nr_subpages: sub-pages.
 * @nr_pieces: pieces of all sub-pages.
 * @table_bytes: bytes of all sub-pages' tables.
 * @skip_entries: entries that skip one level or more.
 * @skipped_levels: levels skipped by those entries, added up.
 * @max_depth: the most nodes any lookup visits.
 * @nr_chain: levelling's chains are the @nr_chain nodes from @chain.
 * @chain: the first chain node.
 * @generation: commit counter of the file the map was published on.
 * @bytes: bytes of the map: its allocation, and its store's.
 * @retire_bytes: bytes freeing the map frees, for the retire backlog: all
 *                of them but for a store that a newer map shares.
 * @backlog: the backlog it counts in once retired.
 * @rcu: frees the map after a grace period once it is replaced.
 * @overrides_array: where @overrides are, in a map an update made.
 *
 * A map a plain commit built lives in the one allocation that starts with
 * this header; the fields lookups read come first.
 */
struct pmt_map {
	u32 root;
	u8 page_shift;
	u8 levels;
	u8 kind;
	bool mixed;
	u32 leaf_subpages;
	bool batched;
	const struct pmt_subpage *leaves;
	const u32 *nodes;
	const struct pmt_section *sections;
	const struct pmt_subpage *subpages;
	const struct pmt_piece *pieces;
	const u8 *tables;
	const u32 *slot_index;
	u32 nr_sections;
	u32 nr_primary;
	u32 nr_slots;
	u32 nr_overrides;
	const struct pmt_override *overrides;
	struct pmt_store *store;
	u32 nr_held;
	u32 nr_nodes;
	u32 nr_subpages;
	u32 nr_pieces;
	u32 table_bytes;
	u32 skip_entries;
	u32 skipped_levels;
	u32 max_depth;
	u32 nr_chain;
	u32 chain;
	u64 generation;
	size_t bytes;
	size_t retire_bytes;
	struct pmt_backlog *backlog;
	struct rcu_head rcu;
	struct pmt_override overrides_array[];
};

/* The share of the retire backlog one owner may fill is 1/this. */
#define PMT_BACKLOG_SHARES	4

/**
 * struct pmt_backlog - one owner's maps waiting for grace periods
 * @bytes: bytes of its retired maps not yet freed.
 * @waits: times pmt_map_retire() waited for a grace period itself.
 * @refs: the owner's reference and one per map waiting.
 */
struct pmt_backlog {
	atomic_long_t bytes;
	atomic_long_t waits;
	refcount_t refs;
};

struct pmt_pending;

bool pmt_page_shift_valid(unsigned int page_shift);
bool pmt_range_valid(u64 start, u64 size);

struct pmt_pending *pmt_pending_create(unsigned int page_shift);
void pmt_pending_free(struct pmt_pending *pm);
int pmt_pending_add(struct pmt_pending *pm,
		    const struct pmt_section *sect, u32 max_sections,
			u64 max_bytes, u32 *index);
int pmt_pending_remove(struct pmt_pending *pm, u32 index);
struct pmt_pending *pmt_pending_update(const struct pmt_map *map,
				       u64 max_bytes);
u32 pmt_pending_sections(const struct pmt_pending *pm);
u32 pmt_pending_next_index(const struct pmt_pending *pm);
size_t pmt_pending_bytes(const struct pmt_pending *pm);

struct pmt_map *pmt_commit(const struct pmt_pending *pm,
			   u64 generation, u64 max_bytes);
struct pmt_map *pmt_commit_update(struct pmt_pending *pm, struct pmt_map *old,
				  u64 generation, u64 max_bytes);
bool pmt_pending_kept(const struct pmt_pending *pm, const struct pmt_map *map);
void pmt_map_free(struct pmt_map *map);

struct pmt_backlog *pmt_backlog_create(void);
void pmt_backlog_put(struct pmt_backlog *backlog);
void pmt_map_retire(struct pmt_map *map,
		    struct pmt_backlog *backlog, size_t max_backlog);
size_t pmt_retired_bytes(void);

u32 pmt_map_lookup(const struct pmt_map *map, u64 addr);
const struct pmt_section *pmt_map_lookup_section(const struct pmt_map *map,
						 u64 addr, u32 *index);
u32 pmt_map_lookup_hint(const struct pmt_map *map, u64 addr, u32 hint);
u32 pmt_map_lookup_many(const struct pmt_map *map, const u64 *addrs,
			u32 *indexes, u32 n);
u32 pmt_map_lookup_many_hint(const struct pmt_map *map, const u64 *addrs,
			     u32 *indexes, u32 n, u32 hint);

/**
 * struct pmt_near - a stream of lookups of one map, between runs of it
 * @last: the slot of the last answer (struct pmt_map): its index, but in a
 *        map an update made.
 * @try_last: whether the next run tries each address's predecessor's
 *            answer first: answers repeated often enough in the last run.
 *
 * Start from PMT_NEAR_INIT; one per stream of lookups, the caller's own,
 * so lookups of a shared map write nothing shared.
 */
struct pmt_near {
	u32 last;
	bool try_last;
};

#define PMT_NEAR_INIT	((struct pmt_near){ PMT_UNASSIGNED, true })
/*
 * A run tries the last answer when all but 1/this of the last one's last
 * PMT_NEAR_SAMPLE answers repeated the one before.
 */
#define PMT_NEAR_SHARE	4
#define PMT_NEAR_SAMPLE	8U
/* The run length pmt_map_lookup_run() is measured with. */
#define PMT_RUN_LEN	64

/**
 * pmt_map_lookup_run() - the sections covering a run of addresses
 * @map: a published map.
 * @addrs: the addresses.
 * @indexes: their sections' indexes, or PMT_UNASSIGNED.
 * @n: the number of addresses.
 * @near: the caller's stream the run is part of.
 *
 * A stream's consecutive addresses often fall in one section (a device's
 * registers, a run through RAM): pmt_map_lookup_hint() with the last
 * answer then saves the walk (pmt_map_lookup_many_hint(), one loop for
 * the run). Where they seldom do, trying it costs a load
 * and a branch that mispredicts whenever it covers, and anything a lookup
 * does with the last answer waits for it: so the run counts the answers
 * that repeat only once it is done, and the next run tries the last answer
 * only when most did (PMT_NEAR_SHARE): a walk through nodes in the cache
 * costs less than a mispredicted branch. Runs of PMT_RUN_LEN addresses
 * follow a stream's changes and keep the count's cost small.
 */
static inline void pmt_map_lookup_run(const struct pmt_map *map,
				      const u64 *addrs, u32 *indexes, u32 n,
				      struct pmt_near *near)
{
	u32 i, first, slot, repeats = 0;

	if (!n)
		return;
	if (near->try_last)
		slot = pmt_map_lookup_many_hint(map, addrs, indexes, n,
						near->last);
	else
		slot = pmt_map_lookup_many(map, addrs, indexes, n);
	/*
	 * The last PMT_NEAR_SAMPLE answers tell: a stream that has runs in
	 * one section shows them there too. Section 0 covers nothing:
	 * unassigned answers in a row are no repeat.
	 */
	first = n > PMT_NEAR_SAMPLE ? n - PMT_NEAR_SAMPLE : 1;
	for (i = first; i < n; i++)
		repeats += (indexes[i] == indexes[i - 1]) & (indexes[i] != 0);
	near->try_last = repeats * PMT_NEAR_SHARE >=
			 (n - first) * (PMT_NEAR_SHARE - 1);
	near->last = slot;
}

const struct pmt_section *pmt_map_section(const struct pmt_map *map,
					  u32 index);

#ifdef __KERNEL__
/**
 * struct pmt_dump - a copy of a map to print (pmt_dump_create())
 * @map: the copy.
 * @levels: per node, the level of its slots.
 */
struct pmt_dump {
	struct pmt_map *map;
	u8 *levels;
};

struct seq_file;
void pmt_map_show_shape(struct seq_file *m, const struct pmt_map *map);
struct pmt_dump *pmt_dump_create(const struct pmt_map *map);
void pmt_dump_free(struct pmt_dump *dump);
loff_t pmt_dump_records(const struct pmt_dump *dump);
void pmt_dump_record(struct seq_file *m, const struct pmt_dump *dump,
		     loff_t pos);
#endif

#endif /* _PHYSMAP_TREE_H */
