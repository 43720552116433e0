// SPDX-License-Identifier: GPL-2.0
/*
 * QEMU's compressed phys_map radix tree
 *
 * A map answers "which section covers this address?" over a 64-bit address
 * space. It is a radix tree over page numbers, PHYSMAP_NODE_BITS bits per
 * level, built in two stages, after QEMU's phys_map:
 *
 * - A pending map is built one section at a time. A section's whole pages
 *   are stored as leaves at the highest level whose aligned subtree the
 *   section covers entirely, so paths end early. Pages a section covers only
 *   in part become sub-pages: a short sorted list of the pieces of sections
 *   inside that page, resolved per byte.
 *
 * - Commit copies the pending map into one compact allocation that holds only
 *   reachable nodes. A node with a single valid child is not copied: the
 *   entry that pointed to it points past it with a larger skip, or becomes
 *   the leaf itself. A lookup that skipped levels may therefore reach a leaf
 *   whose section does not cover the address, so every lookup ends by
 *   checking that the address lies in the section (or the page of the
 *   sub-page) it reached.
 *
 * - Because of that final check, a subtree that holds leaves of one section
 *   only (and unassigned space) can be that section's leaf: commit does not
 *   copy it either. A sub-page holding a piece of one section only is that
 *   section's leaf as well. Nodes remain only where two sections meet.
 *
 * - Last, commit levels the depth of lookups over the span of the sections:
 *   when walks there end on two neighbouring numbers of node visits, leaves
 *   met one visit early point to a node full of that leaf, so that
 *   consecutive lookups leave the walk's loop alike (see level_depth()).
 *
 * The published map is read-only and lookups take no lock: the caller
 * publishes it with RCU and retires the old one with physmap_map_retire().
 */
#include <linux/atomic.h>
#include <linux/export.h>
#include <linux/hash.h>
#include <linux/kernel.h>
#include <linux/math64.h>
#include <linux/minmax.h>
#include <linux/overflow.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "physmap_tree.h"

/*
 * Sizes come from userspace: fail big allocations quietly, charge the memcg,
 * and past the memcg's limit fail with ENOMEM rather than invoke the OOM
 * killer (kvmalloc's vmalloc fallback charges page by page, and without
 * __GFP_RETRY_MAYFAIL an ADD over memory.max killed its caller).
 */
#define PHYSMAP_GFP		(GFP_KERNEL_ACCOUNT | __GFP_NOWARN | \
				 __GFP_RETRY_MAYFAIL)
#define PHYSMAP_NIL		U32_MAX
/* Alignment of the node array inside a published map's allocation. */
#define PHYSMAP_MAP_ALIGN	64
#define PHYSMAP_NODE_BYTES	(PHYSMAP_NODE_SLOTS * sizeof(u32))

/**
 * struct physmap_pending_subpage - a sub-page of a pending map
 * @page: the page number.
 * @head: its first piece, the one with the highest offset; PHYSMAP_NIL when
 *        it has none.
 * @count: number of pieces in its list.
 */
struct physmap_pending_subpage {
	u64 page;
	u32 head;
	u32 count;
};

/**
 * struct physmap_pending_piece - a piece of a pending sub-page
 * @piece: offsets and section.
 * @next: the piece below it in the page; PHYSMAP_NIL for the last.
 */
struct physmap_pending_piece {
	struct physmap_piece piece;
	u32 next;
};

/**
 * struct physmap_pending - a map being built, before commit
 * @page_shift: log2 of the page size.
 * @levels: radix levels for @page_shift.
 * @root: the entry for the whole address space. Entries of a pending map
 *        that point to nodes always skip exactly one level.
 * @nodes: the node pool, @cap_nodes nodes of which @nr_nodes are used.
 * @sections: @nr_sections sections (section 0 included) of @cap_sections.
 * @subpages: @nr_subpages sub-pages of @cap_subpages.
 * @pieces: @nr_pieces pieces of @cap_pieces, linked per sub-page.
 */
struct physmap_pending {
	unsigned int page_shift;
	unsigned int levels;
	u32 root;
	u32 *nodes;
	u32 nr_nodes, cap_nodes;
	struct physmap_sect *sections;
	u32 nr_sections, cap_sections;
	struct physmap_pending_subpage *subpages;
	u32 nr_subpages, cap_subpages;
	struct physmap_pending_piece *pieces;
	u32 nr_pieces, cap_pieces;
};

/*
 * How a range of bytes splits over pages: whole pages first_page..last_page
 * (none when @whole is false), and up to two pages covered in part.
 */
struct physmap_split {
	bool whole;
	u64 first_page, last_page;
	unsigned int nr_parts;
	struct {
		u64 page;
		u16 start, last;
	} part[2];
};

/*
 * QEMU's two seed optimizations as test-only switches: the userspace build
 * (user/) turns them into variables to measure what each one buys. The
 * kernel build always has both.
 */
#ifndef physmap_early_leaves
#define physmap_early_leaves	true	/* paths end early */
#endif
#ifndef physmap_compaction
#define physmap_compaction	true	/* commit skips single-child nodes */
#endif
/* Not from QEMU; the userspace build can turn it off the same way. */
#ifndef physmap_levelling
#define physmap_levelling	true	/* commit levels lookup depths */
#endif

static atomic_long_t physmap_retired = ATOMIC_LONG_INIT(0);

static inline unsigned int entry_skip(u32 entry)
{
	return entry & PHYSMAP_ENTRY_SKIP_MASK;
}

static inline u32 entry_ptr(u32 entry)
{
	return entry >> PHYSMAP_ENTRY_PTR_SHIFT;
}

static inline bool entry_is_subpage(u32 entry)
{
	return entry & PHYSMAP_ENTRY_SUBPAGE;
}

static inline u32 mk_node_entry(u32 node, unsigned int skip)
{
	return node << PHYSMAP_ENTRY_PTR_SHIFT | skip;
}

static inline u32 mk_section_entry(u32 section)
{
	return section << PHYSMAP_ENTRY_PTR_SHIFT;
}

static inline u32 mk_subpage_entry(u32 subpage)
{
	return subpage << PHYSMAP_ENTRY_PTR_SHIFT | PHYSMAP_ENTRY_SUBPAGE;
}

/* Index within its node of the entry covering @page at @level. */
static inline unsigned int slot_of(u64 page, unsigned int level)
{
	return (page >> (level * PHYSMAP_NODE_BITS)) & (PHYSMAP_NODE_SLOTS - 1);
}

/*
 * The leaf a lookup of @page reaches in @map; *@visits is set to the number
 * of nodes it read on the way.
 */
static __always_inline u32 walk_to_leaf(const struct physmap_map *map,
					u64 page, unsigned int *visits)
{
	unsigned int level = map->levels, n = 0;
	u32 entry = map->root;

	while (entry_skip(entry)) {
		level -= entry_skip(entry);
		entry = map->nodes[(size_t)entry_ptr(entry) * PHYSMAP_NODE_SLOTS +
				   slot_of(page, level)];
		n++;
	}
	*visits = n;
	return entry;
}

/* Pages covered by one entry of a node at @level. */
static inline u64 level_span(unsigned int level)
{
	return 1ULL << (level * PHYSMAP_NODE_BITS);
}

/**
 * physmap_page_shift_valid() - whether a map can be built with a page size
 * @page_shift: log2 of the page size.
 *
 * Return: true for PHYSMAP_PAGE_SHIFT_MIN..PHYSMAP_PAGE_SHIFT_MAX.
 */
bool physmap_page_shift_valid(unsigned int page_shift)
{
	return page_shift >= PHYSMAP_PAGE_SHIFT_MIN &&
	       page_shift <= PHYSMAP_PAGE_SHIFT_MAX;
}
EXPORT_SYMBOL_NS_GPL(physmap_page_shift_valid, PHYSMAP);

/**
 * physmap_range_valid() - whether a byte range can be a section
 * @start: first byte.
 * @size: length in bytes.
 *
 * Return: true when @size is not 0 and the range does not pass 2^64 - 1.
 */
bool physmap_range_valid(u64 start, u64 size)
{
	return size && start + (size - 1) >= start;
}
EXPORT_SYMBOL_NS_GPL(physmap_range_valid, PHYSMAP);

static void physmap_split_range(u64 start, u64 last, unsigned int page_shift,
				struct physmap_split *split)
{
	u64 mask = (1ULL << page_shift) - 1;
	u64 first_page = start >> page_shift;
	u64 last_page = last >> page_shift;
	u64 whole_first = first_page, whole_last = last_page;
	bool whole = true;

	split->nr_parts = 0;
	if (start & mask) {
		split->part[split->nr_parts].page = first_page;
		split->part[split->nr_parts].start = start & mask;
		split->part[split->nr_parts].last = first_page == last_page ?
						    last & mask : mask;
		split->nr_parts++;
		if (first_page == last_page)
			whole = false;
		whole_first++;
	}
	if ((last & mask) != mask && whole) {
		split->part[split->nr_parts].page = last_page;
		split->part[split->nr_parts].start = first_page == last_page ?
						     start & mask : 0;
		split->part[split->nr_parts].last = last & mask;
		split->nr_parts++;
		if (whole_last == whole_first)
			whole = false;
		whole_last--;
	}
	split->whole = whole;
	split->first_page = whole_first;
	split->last_page = whole_last;
}

/* Grow a pending array so that it holds at least @need elements. */
static int physmap_reserve(void **array, u32 *cap, u32 used, u64 need,
			   size_t elem_size)
{
	u64 new_cap;
	void *grown;

	if (need <= *cap)
		return 0;
	if (need > PHYSMAP_PTR_MAX)
		return -ENOMEM;
	new_cap = max3(need, 2ULL * *cap, 16ULL);
	new_cap = min_t(u64, new_cap, PHYSMAP_PTR_MAX);
	grown = kvmalloc_array(new_cap, elem_size, PHYSMAP_GFP);
	if (!grown)
		return -ENOMEM;
	if (used)
		memcpy(grown, *array, (size_t)used * elem_size);
	kvfree(*array);
	*array = grown;
	*cap = new_cap;
	return 0;
}

/**
 * physmap_pending_create() - start an empty pending map
 * @page_shift: log2 of the page size; see physmap_page_shift_valid().
 *
 * Return: the pending map, or NULL when out of memory.
 */
struct physmap_pending *physmap_pending_create(unsigned int page_shift)
{
	struct physmap_pending *pm;

	pm = kzalloc(sizeof(*pm), PHYSMAP_GFP);
	if (!pm)
		return NULL;
	pm->page_shift = page_shift;
	pm->levels = DIV_ROUND_UP(64 - page_shift, PHYSMAP_NODE_BITS);
	if (physmap_reserve((void **)&pm->sections, &pm->cap_sections, 0, 1,
			    sizeof(*pm->sections))) {
		kfree(pm);
		return NULL;
	}
	/* Section 0 is PHYSMAP_UNASSIGNED: it covers nothing. */
	memset(&pm->sections[0], 0, sizeof(pm->sections[0]));
	pm->nr_sections = 1;
	return pm;
}
EXPORT_SYMBOL_NS_GPL(physmap_pending_create, PHYSMAP);

/**
 * physmap_pending_free() - free a pending map
 * @pm: the pending map, or NULL.
 */
void physmap_pending_free(struct physmap_pending *pm)
{
	if (!pm)
		return;
	kvfree(pm->nodes);
	kvfree(pm->sections);
	kvfree(pm->subpages);
	kvfree(pm->pieces);
	kfree(pm);
}
EXPORT_SYMBOL_NS_GPL(physmap_pending_free, PHYSMAP);

/**
 * physmap_pending_sections() - sections added to a pending map so far
 * @pm: the pending map.
 *
 * Return: the number of sections, PHYSMAP_UNASSIGNED not counted.
 */
u32 physmap_pending_sections(const struct physmap_pending *pm)
{
	return pm->nr_sections - 1;
}
EXPORT_SYMBOL_NS_GPL(physmap_pending_sections, PHYSMAP);

static inline u32 *pending_node(const struct physmap_pending *pm, u32 node)
{
	return &pm->nodes[(size_t)node * PHYSMAP_NODE_SLOTS];
}

/* The leaf entry that covers @page in a pending map. */
static u32 pending_leaf(const struct physmap_pending *pm, u64 page)
{
	unsigned int level = pm->levels;
	u32 entry = pm->root;

	while (entry_skip(entry)) {
		level--;
		entry = pending_node(pm, entry_ptr(entry))[slot_of(page, level)];
	}
	return entry;
}

/*
 * Whether any leaf other than PHYSMAP_UNASSIGNED covers a page of
 * @first..@last below @entry, an entry covering level_span(@level) pages
 * from page @base.
 */
static bool pending_pages_busy(const struct physmap_pending *pm, u32 entry,
			       unsigned int level, u64 base, u64 first,
			       u64 last)
{
	unsigned int i, lo, hi;
	const u32 *node;
	u64 span;

	if (!entry_skip(entry))
		return entry != 0;
	/* A leaf stands at level 0 at the latest: @level is at least 1. */
	span = level_span(level - 1);
	node = pending_node(pm, entry_ptr(entry));
	lo = first > base ? (first - base) / span : 0;
	hi = min_t(u64, (last - base) / span, PHYSMAP_NODE_SLOTS - 1);
	for (i = lo; i <= hi; i++)
		if (node[i] && pending_pages_busy(pm, node[i], level - 1,
						  base + i * span, first, last))
			return true;
	return false;
}

/* Whether bytes @start..@last of @page overlap a piece already there. */
static bool pending_part_busy(const struct physmap_pending *pm, u64 page,
			      u16 start, u16 last)
{
	u32 entry = pending_leaf(pm, page);
	const struct physmap_pending_piece *p;
	u32 i;

	if (!entry_is_subpage(entry))
		return entry != 0;
	/* Pieces run from the highest offset down. */
	for (i = pm->subpages[entry_ptr(entry)].head; i != PHYSMAP_NIL;
	     i = p->next) {
		p = &pm->pieces[i];
		if (p->piece.start <= last)
			return p->piece.last >= start;
	}
	return false;
}

static bool pending_overlaps(const struct physmap_pending *pm,
			     const struct physmap_split *split)
{
	unsigned int i;

	for (i = 0; i < split->nr_parts; i++)
		if (pending_part_busy(pm, split->part[i].page,
				      split->part[i].start,
				      split->part[i].last))
			return true;
	return split->whole &&
	       pending_pages_busy(pm, pm->root, pm->levels, 0,
				  split->first_page, split->last_page);
}

static u32 pending_alloc_node(struct physmap_pending *pm)
{
	u32 node = pm->nr_nodes++;

	memset(pending_node(pm, node), 0, PHYSMAP_NODE_BYTES);
	return node;
}

/*
 * Store @leaf for pages @first..@last below @slot, an entry covering
 * level_span(@level) pages from page @base. A subtree the range covers
 * entirely becomes one leaf: the path ends there.
 */
static void pending_set_pages(struct physmap_pending *pm, u32 *slot,
			      unsigned int level, u64 base, u64 first,
			      u64 last, u32 leaf)
{
	unsigned int i, lo, hi;
	u64 child_span;
	u32 node;

	/* At level 0 the range always covers the one page: level >= 1 below. */
	if ((physmap_early_leaves || !level) &&
	    first <= base && last - base >= level_span(level) - 1) {
		*slot = leaf;
		return;
	}
	child_span = level_span(level - 1);
	if (!*slot)
		*slot = mk_node_entry(pending_alloc_node(pm), 1);
	node = entry_ptr(*slot);
	lo = first > base ? (first - base) / child_span : 0;
	hi = min_t(u64, (last - base) / child_span, PHYSMAP_NODE_SLOTS - 1);
	for (i = lo; i <= hi; i++)
		pending_set_pages(pm, &pending_node(pm, node)[i], level - 1,
				  base + i * child_span, first, last, leaf);
}

/* The level-0 entry of @page, creating the nodes on its path. */
static u32 *pending_page_slot(struct physmap_pending *pm, u64 page)
{
	unsigned int level = pm->levels;
	u32 *slot = &pm->root;

	while (level--) {
		if (!*slot)
			*slot = mk_node_entry(pending_alloc_node(pm), 1);
		slot = &pending_node(pm, entry_ptr(*slot))[slot_of(page, level)];
	}
	return slot;
}

static void pending_add_part(struct physmap_pending *pm, u64 page, u16 start,
			     u16 last, u32 section)
{
	u32 *slot = pending_page_slot(pm, page);
	struct physmap_pending_subpage *sp;
	struct physmap_pending_piece *p;
	u32 *link, i;

	if (!*slot) {
		i = pm->nr_subpages++;
		pm->subpages[i].page = page;
		pm->subpages[i].head = PHYSMAP_NIL;
		pm->subpages[i].count = 0;
		*slot = mk_subpage_entry(i);
	}
	sp = &pm->subpages[entry_ptr(*slot)];
	/* Keep the list sorted from the highest offset down. */
	for (link = &sp->head; *link != PHYSMAP_NIL;
	     link = &pm->pieces[*link].next)
		if (pm->pieces[*link].piece.start < start)
			break;
	i = pm->nr_pieces++;
	p = &pm->pieces[i];
	p->piece.start = start;
	p->piece.last = last;
	p->piece.section = section;
	p->next = *link;
	*link = i;
	sp->count++;
}

/* The most nodes adding @split can create. */
static u64 pending_nodes_needed(const struct physmap_pending *pm,
				const struct physmap_split *split)
{
	/* Two boundary paths for whole pages, one path per part page. */
	u64 nodes = 4 * pm->levels;
	unsigned int level;

	if (physmap_early_leaves || !split->whole)
		return nodes;
	/* Without early leaves (tests only), every whole page is a leaf. */
	for (level = 1; level <= pm->levels; level++)
		nodes += (split->last_page >> (level * PHYSMAP_NODE_BITS)) -
			 (split->first_page >> (level * PHYSMAP_NODE_BITS)) + 1;
	return nodes;
}

/* Make room for one more section, whatever shape it takes. */
static int pending_reserve(struct physmap_pending *pm,
			   const struct physmap_split *split)
{
	u64 nodes = pm->nr_nodes + pending_nodes_needed(pm, split);
	int ret;

	ret = physmap_reserve((void **)&pm->sections, &pm->cap_sections,
			      pm->nr_sections, (u64)pm->nr_sections + 1,
			      sizeof(*pm->sections));
	if (!ret)
		ret = physmap_reserve((void **)&pm->nodes, &pm->cap_nodes,
				      pm->nr_nodes, nodes, PHYSMAP_NODE_BYTES);
	if (!ret)
		ret = physmap_reserve((void **)&pm->subpages,
				      &pm->cap_subpages, pm->nr_subpages,
				      (u64)pm->nr_subpages + 2,
				      sizeof(*pm->subpages));
	if (!ret)
		ret = physmap_reserve((void **)&pm->pieces, &pm->cap_pieces,
				      pm->nr_pieces, (u64)pm->nr_pieces + 2,
				      sizeof(*pm->pieces));
	return ret;
}

/**
 * physmap_pending_add() - add a section to a pending map
 * @pm: the pending map.
 * @sect: the section; its range must satisfy physmap_range_valid().
 * @max_sections: the most sections the map may hold.
 * @index: set to the new section's index on success.
 *
 * On failure the pending map is left exactly as it was.
 *
 * Return: 0, -EINVAL for an invalid range, -EEXIST when the range overlaps
 * a section already in the map, -ENOSPC past @max_sections, -ENOMEM.
 */
int physmap_pending_add(struct physmap_pending *pm,
			const struct physmap_sect *sect, u32 max_sections,
			u32 *index)
{
	struct physmap_split split;
	unsigned int i;
	u32 section;

	if (!physmap_range_valid(sect->start, sect->size))
		return -EINVAL;
	physmap_split_range(sect->start, sect->start + (sect->size - 1),
			    pm->page_shift, &split);
	if (pending_overlaps(pm, &split))
		return -EEXIST;
	if (pm->nr_sections - 1 >= min(max_sections, PHYSMAP_PTR_MAX - 1))
		return -ENOSPC;
	if (pending_reserve(pm, &split))
		return -ENOMEM;

	/* Nothing below can fail: room for the worst case is reserved. */
	section = pm->nr_sections++;
	pm->sections[section] = *sect;
	for (i = 0; i < split.nr_parts; i++)
		pending_add_part(pm, split.part[i].page, split.part[i].start,
				 split.part[i].last, section);
	if (split.whole)
		pending_set_pages(pm, &pm->root, pm->levels, 0,
				  split.first_page, split.last_page,
				  mk_section_entry(section));
	*index = section;
	return 0;
}
EXPORT_SYMBOL_NS_GPL(physmap_pending_add, PHYSMAP);

/* In physmap_compactor.uniform: the subtree holds more than one section. */
#define PHYSMAP_MIXED		U32_MAX

/**
 * struct physmap_compactor - state of one commit
 * @pm: the pending map being copied.
 * @uniform: per pending node, the one section its subtree holds, or
 *           PHYSMAP_MIXED.
 * @nodes: the copy's nodes; NULL while only counting.
 * @sections: the copy's sections; NULL while only counting.
 * @subpages: the copy's sub-pages; NULL while only counting.
 * @pieces: the copy's pieces; NULL while only counting.
 * @chunks: the copy's chunk tables; NULL while only counting.
 * @nr_nodes: nodes the copy holds so far.
 * @nr_subpages: sub-pages the copy holds so far.
 * @nr_pieces: pieces the copy holds so far.
 */
struct physmap_compactor {
	const struct physmap_pending *pm;
	const u32 *uniform;
	u32 *nodes;
	struct physmap_sect *sections;
	struct physmap_subpage *subpages;
	struct physmap_piece *pieces;
	u32 *chunks;
	u32 nr_nodes;
	u32 nr_subpages;
	u32 nr_pieces;
};

/* The chunk table of a sub-page's @count pieces, sorted by offset. */
static void fill_chunks(u32 *chunks, const struct physmap_piece *pieces,
			u32 count, unsigned int page_shift)
{
	unsigned int shift = page_shift - PHYSMAP_SUBPAGE_CHUNK_BITS;
	u32 c, i = 0;

	for (c = 0; c < PHYSMAP_SUBPAGE_CHUNKS; c++) {
		while (i < count && pieces[i].last < c << shift)
			i++;
		chunks[c] = i;
	}
	chunks[PHYSMAP_SUBPAGE_CHUNKS] = count;
}

static u32 compact_subpage(struct physmap_compactor *pc, u32 entry)
{
	const struct physmap_pending *pm = pc->pm;
	const struct physmap_pending_subpage *sp;
	struct physmap_piece *pieces;
	u32 i, n;

	sp = &pm->subpages[entry_ptr(entry)];
	if (pc->subpages) {
		pc->subpages[pc->nr_subpages].page = sp->page;
		pc->subpages[pc->nr_subpages].first = pc->nr_pieces;
		pc->subpages[pc->nr_subpages].count = sp->count;
		/* The pending list runs down; the copy runs up. */
		pieces = &pc->pieces[pc->nr_pieces];
		for (i = sp->head, n = sp->count; i != PHYSMAP_NIL;
		     i = pm->pieces[i].next)
			pieces[--n] = pm->pieces[i].piece;
		fill_chunks(&pc->chunks[(size_t)pc->nr_subpages *
					(PHYSMAP_SUBPAGE_CHUNKS + 1)],
			    pieces, sp->count, pm->page_shift);
	}
	pc->nr_pieces += sp->count;
	return mk_subpage_entry(pc->nr_subpages++);
}

/*
 * The one section below a pending entry (0 for none), PHYSMAP_MIXED when
 * there are several; @uniform holds that of every node below @entry.
 */
static u32 pending_uniform(const struct physmap_pending *pm,
			   const u32 *uniform, u32 entry)
{
	const struct physmap_pending_subpage *sp;

	if (entry_skip(entry))
		return uniform[entry_ptr(entry)];
	if (!entry_is_subpage(entry))
		return entry_ptr(entry);
	sp = &pm->subpages[entry_ptr(entry)];
	return sp->count == 1 ? pm->pieces[sp->head].piece.section :
				PHYSMAP_MIXED;
}

/*
 * The one section of every pending node's subtree, or PHYSMAP_MIXED. Nodes
 * are allocated after their parents, so walking them backwards meets every
 * child before its parent. Returns NULL when out of memory.
 */
static u32 *pending_uniform_nodes(const struct physmap_pending *pm)
{
	u32 *uniform, node, i, u, sect;

	uniform = kvmalloc_array(max(pm->nr_nodes, 1U), sizeof(*uniform),
				 PHYSMAP_GFP);
	if (!uniform)
		return NULL;
	for (node = pm->nr_nodes; node--;) {
		const u32 *slots = pending_node(pm, node);

		sect = 0;
		for (i = 0; i < PHYSMAP_NODE_SLOTS; i++) {
			if (!slots[i])
				continue;
			u = pending_uniform(pm, uniform, slots[i]);
			if (u == PHYSMAP_MIXED || (sect && u != sect)) {
				sect = PHYSMAP_MIXED;
				break;
			}
			sect = u;
		}
		uniform[node] = sect;
	}
	return uniform;
}

/*
 * Copy the subtree of @entry, an entry of the pending map, and return the
 * entry that stands for it in the copy. A subtree of one section becomes
 * that section's leaf. A node with a single valid child is left out: the
 * returned entry skips it, or is the child leaf itself.
 */
static u32 compact_entry(struct physmap_compactor *pc, u32 entry)
{
	unsigned int i, valid = 0, only = 0;
	const u32 *node;
	u32 copy, child;
	u32 *out = NULL;

	if (physmap_compaction) {
		child = pending_uniform(pc->pm, pc->uniform, entry);
		if (child != PHYSMAP_MIXED)
			return mk_section_entry(child);
	}
	if (!entry_skip(entry))
		return entry_is_subpage(entry) ? compact_subpage(pc, entry) :
						 entry;
	node = pending_node(pc->pm, entry_ptr(entry));
	for (i = 0; i < PHYSMAP_NODE_SLOTS; i++) {
		if (node[i]) {
			valid++;
			only = i;
		}
	}
	if (valid == 1 && physmap_compaction) {
		child = compact_entry(pc, node[only]);
		if (!entry_skip(child))
			return child;
		return mk_node_entry(entry_ptr(child), entry_skip(child) + 1);
	}
	/* Parents come before their children: lookups walk forward. */
	copy = pc->nr_nodes++;
	if (pc->nodes)
		out = &pc->nodes[(size_t)copy * PHYSMAP_NODE_SLOTS];
	for (i = 0; i < PHYSMAP_NODE_SLOTS; i++) {
		child = node[i] ? compact_entry(pc, node[i]) : 0;
		if (out)
			out[i] = child;
	}
	return mk_node_entry(copy, 1);
}

/* Count skips and the deepest path of the compacted tree below @entry. */
static unsigned int measure_entry(struct physmap_map *map, u32 entry)
{
	unsigned int i, child, depth = 0;
	const u32 *node;

	if (!entry_skip(entry))
		return 0;
	if (entry_skip(entry) > 1) {
		map->skip_entries++;
		map->skipped_levels += entry_skip(entry) - 1;
	}
	node = &map->nodes[(size_t)entry_ptr(entry) * PHYSMAP_NODE_SLOTS];
	for (i = 0; i < PHYSMAP_NODE_SLOTS; i++) {
		child = measure_entry(map, node[i]);
		depth = max(depth, child);
	}
	return depth + 1;
}

/*
 * Allocate a map with room for @nr_nodes nodes, @nr_sections sections,
 * @nr_subpages sub-pages and @nr_pieces pieces, all in one allocation, and
 * point @out's arrays (and the map's) at them. Returns NULL when out of
 * memory.
 */
static struct physmap_map *map_alloc(u32 nr_nodes, u32 nr_sections,
				     u32 nr_subpages, u32 nr_pieces,
				     struct physmap_compactor *out)
{
	size_t size = ALIGN(sizeof(struct physmap_map), PHYSMAP_MAP_ALIGN);
	size_t offsets[5];
	struct physmap_map *map;
	char *base;

	offsets[0] = size;
	size = size_add(size, array_size(nr_nodes, PHYSMAP_NODE_BYTES));
	offsets[1] = size;
	size = size_add(size, array_size(nr_sections,
					 sizeof(struct physmap_sect)));
	offsets[2] = size;
	size = size_add(size, array_size(nr_subpages,
					 sizeof(struct physmap_subpage)));
	offsets[3] = size;
	size = size_add(size, array_size(nr_pieces,
					 sizeof(struct physmap_piece)));
	size = ALIGN(size, sizeof(u32));
	offsets[4] = size;
	size = size_add(size, array_size(nr_subpages,
					 (PHYSMAP_SUBPAGE_CHUNKS + 1) *
					 sizeof(u32)));
	if (size == SIZE_MAX)
		return NULL;
	base = kvmalloc(size, PHYSMAP_GFP);
	if (!base)
		return NULL;
	map = (struct physmap_map *)base;
	memset(map, 0, sizeof(*map));
	map->bytes = size;
	map->nr_nodes = nr_nodes;
	map->nr_sections = nr_sections;
	map->nr_subpages = nr_subpages;
	map->nr_pieces = nr_pieces;
	out->nodes = (u32 *)(base + offsets[0]);
	out->sections = (struct physmap_sect *)(base + offsets[1]);
	out->subpages = (struct physmap_subpage *)(base + offsets[2]);
	out->pieces = (struct physmap_piece *)(base + offsets[3]);
	out->chunks = (u32 *)(base + offsets[4]);
	map->nodes = out->nodes;
	map->sections = out->sections;
	map->subpages = out->subpages;
	map->pieces = out->pieces;
	map->chunks = out->chunks;
	return map;
}

/*
 * Depth levelling. A lookup leaves its walk after as many node visits as its
 * path has nodes. When consecutive lookups end after a different number of
 * visits at random, the walk's exit branch is mispredicted and the CPU
 * cannot start the next lookup before this one is done; one more visit, to
 * a node in the cache, costs less. Compaction makes such maps common: in a
 * PC's memory map half of the 4 GiB span is unassigned and ends after one
 * visit, most of the rest after two.
 *
 * So commit walks PHYSMAP_LEVEL_SAMPLES addresses spread over the span of
 * the sections (lowest start to highest end) and counts the visits of each.
 * When two neighbouring counts d - 1 and d each hold at least
 * 1/PHYSMAP_LEVEL_SHARE of the samples, every leaf met on visit d - 1 in a
 * node above level 0 becomes an entry that points one level down to a node
 * whose entries are all that leaf: lookups that met it get the same answer
 * and the same final check, on visit d. Those nodes are shared, one per
 * distinct leaf, and at most PHYSMAP_LEVEL_NODES of them; a map that would
 * need more is left as it is.
 */
#define PHYSMAP_LEVEL_SAMPLE_BITS	10
#define PHYSMAP_LEVEL_SAMPLES		BIT(PHYSMAP_LEVEL_SAMPLE_BITS)
#define PHYSMAP_LEVEL_SHARE		8
#define PHYSMAP_LEVEL_NODES		8
#define PHYSMAP_MAX_LEVELS		DIV_ROUND_UP(64 - PHYSMAP_PAGE_SHIFT_MIN, \
						     PHYSMAP_NODE_BITS)

/**
 * struct physmap_levelling - the leaves commit gives one more visit
 * @depth: lookups that meet them on visit @depth - 1 end on visit @depth.
 * @first: index of the node that stands for @leaves[0]; the others follow.
 * @nr_leaves: distinct leaves found so far.
 * @leaves: those leaf entries.
 */
struct physmap_levelling {
	unsigned int depth;
	u32 first;
	u32 nr_leaves;
	u32 leaves[PHYSMAP_LEVEL_NODES];
};

/* The first and last byte the sections of @map span; false for none. */
static bool map_span(const struct physmap_map *map, u64 *first, u64 *last)
{
	const struct physmap_sect *sect;
	u32 i;

	if (map->nr_sections < 2)
		return false;
	*first = U64_MAX;
	*last = 0;
	for (i = 1; i < map->nr_sections; i++) {
		sect = &map->sections[i];
		*first = min(*first, sect->start);
		*last = max(*last, sect->start + (sect->size - 1));
	}
	return true;
}

/*
 * The number of visits that levelling makes lookups over the span of @map
 * end on, or 0 when they do not split between two neighbouring numbers.
 */
static unsigned int level_depth(const struct physmap_map *map)
{
	unsigned int hist[PHYSMAP_MAX_LEVELS + 1] = { 0 };
	unsigned int d, visits, best = 0, most = 0;
	u64 first, last, addr;
	u32 i, frac;

	if (!map_span(map, &first, &last))
		return 0;
	for (i = 0; i < PHYSMAP_LEVEL_SAMPLES; i++) {
		/* One address in each 1/PHYSMAP_LEVEL_SAMPLES of the span. */
		frac = i << (32 - PHYSMAP_LEVEL_SAMPLE_BITS) |
		       hash_32(i, 32 - PHYSMAP_LEVEL_SAMPLE_BITS);
		addr = first + mul_u64_u32_shr(last - first, frac, 32);
		walk_to_leaf(map, addr >> map->page_shift, &visits);
		hist[visits]++;
	}
	for (d = 2; d <= map->levels; d++) {
		if (min(hist[d - 1], hist[d]) * PHYSMAP_LEVEL_SHARE <
		    PHYSMAP_LEVEL_SAMPLES)
			continue;
		if (hist[d - 1] + hist[d] >= most) {
			most = hist[d - 1] + hist[d];
			best = d;
		}
	}
	return best;
}

/*
 * Find the leaves to level in the subtree of @entry, met on visit @visit
 * with @level levels above the node it points to; with @nodes, the copy's
 * nodes, point them to their levelling nodes too. Returns false when more
 * than PHYSMAP_LEVEL_NODES distinct leaves would need levelling.
 */
static bool level_entry(struct physmap_levelling *lv,
			const struct physmap_map *map, u32 *nodes, u32 entry,
			unsigned int level, unsigned int visit)
{
	const u32 *node;
	unsigned int i;
	u32 child, k;

	if (!entry_skip(entry) || visit + 1 >= lv->depth)
		return true;
	level -= entry_skip(entry);
	node = &map->nodes[(size_t)entry_ptr(entry) * PHYSMAP_NODE_SLOTS];
	for (i = 0; i < PHYSMAP_NODE_SLOTS; i++) {
		child = node[i];
		if (entry_skip(child)) {
			if (!level_entry(lv, map, nodes, child, level,
					 visit + 1))
				return false;
			continue;
		}
		if (visit + 2 != lv->depth || !level)
			continue;
		for (k = 0; k < lv->nr_leaves && lv->leaves[k] != child; k++)
			;
		if (k == lv->nr_leaves) {
			if (k == PHYSMAP_LEVEL_NODES)
				return false;
			lv->leaves[lv->nr_leaves++] = child;
		}
		if (nodes)
			nodes[node - map->nodes + i] =
				mk_node_entry(lv->first + k, 1);
	}
	return true;
}

/*
 * Level the depth of lookups in @map (see level_depth()): return @map when
 * it needs no levelling, a levelled copy of it when it does (@map is then
 * freed), or NULL when out of memory (@map is freed too).
 */
static struct physmap_map *level_map(struct physmap_map *map)
{
	struct physmap_levelling lv = { .depth = level_depth(map) };
	struct physmap_compactor out;
	struct physmap_map *copy;
	u32 k, i;

	if (!lv.depth ||
	    !level_entry(&lv, map, NULL, map->root, map->levels, 0) ||
	    !lv.nr_leaves)
		return map;
	copy = map_alloc(map->nr_nodes + lv.nr_leaves, map->nr_sections,
			 map->nr_subpages, map->nr_pieces, &out);
	if (!copy) {
		physmap_map_free(map);
		return NULL;
	}
	copy->generation = map->generation;
	copy->page_shift = map->page_shift;
	copy->levels = map->levels;
	copy->root = map->root;
	memcpy(out.nodes, map->nodes,
	       array_size(map->nr_nodes, PHYSMAP_NODE_BYTES));
	memcpy(out.sections, map->sections,
	       array_size(map->nr_sections, sizeof(*map->sections)));
	memcpy(out.subpages, map->subpages,
	       array_size(map->nr_subpages, sizeof(*map->subpages)));
	memcpy(out.pieces, map->pieces,
	       array_size(map->nr_pieces, sizeof(*map->pieces)));
	memcpy(out.chunks, map->chunks,
	       array_size(map->nr_subpages, (PHYSMAP_SUBPAGE_CHUNKS + 1) *
			  sizeof(u32)));
	lv.first = map->nr_nodes;
	for (k = 0; k < lv.nr_leaves; k++)
		for (i = 0; i < PHYSMAP_NODE_SLOTS; i++)
			out.nodes[(size_t)(lv.first + k) * PHYSMAP_NODE_SLOTS +
				  i] = lv.leaves[k];
	/* The same walk as above, now writing into the copy. */
	lv.nr_leaves = 0;
	level_entry(&lv, copy, out.nodes, copy->root, copy->levels, 0);
	physmap_map_free(map);
	return copy;
}

/**
 * physmap_commit() - compact a pending map into a publishable map
 * @pm: the pending map; it is not changed.
 * @generation: the generation the new map will carry.
 *
 * The copy holds only reachable nodes, in one allocation charged to the
 * caller's memory cgroup, and levels the depth of lookups (level_depth()).
 *
 * Return: the new map, or NULL when out of memory.
 */
struct physmap_map *physmap_commit(const struct physmap_pending *pm,
				   u64 generation)
{
	struct physmap_compactor pc = { .pm = pm };
	struct physmap_map *map;
	u32 *uniform;

	uniform = pending_uniform_nodes(pm);
	if (!uniform)
		return NULL;
	/* A first pass only counts what the copy will hold. */
	pc.uniform = uniform;
	compact_entry(&pc, pm->root);
	map = map_alloc(pc.nr_nodes, pm->nr_sections, pc.nr_subpages,
			pc.nr_pieces, &pc);
	if (!map) {
		kvfree(uniform);
		return NULL;
	}
	map->generation = generation;
	map->page_shift = pm->page_shift;
	map->levels = pm->levels;
	memcpy(pc.sections, pm->sections,
	       array_size(pm->nr_sections, sizeof(*pc.sections)));
	pc.nr_nodes = 0;
	pc.nr_subpages = 0;
	pc.nr_pieces = 0;
	map->root = compact_entry(&pc, pm->root);
	kvfree(uniform);
	if (physmap_levelling) {
		map = level_map(map);
		if (!map)
			return NULL;
	}
	map->max_depth = measure_entry(map, map->root);
	return map;
}
EXPORT_SYMBOL_NS_GPL(physmap_commit, PHYSMAP);

/**
 * physmap_map_free() - free a map no reader can see any more
 * @map: the map, or NULL.
 */
void physmap_map_free(struct physmap_map *map)
{
	kvfree(map);
}
EXPORT_SYMBOL_NS_GPL(physmap_map_free, PHYSMAP);

static void physmap_map_free_rcu(struct rcu_head *head)
{
	struct physmap_map *map = container_of(head, struct physmap_map, rcu);

	atomic_long_sub(map->bytes, &physmap_retired);
	kvfree(map);
}

/**
 * physmap_map_retire() - free a map once readers are done with it
 * @map: a map already unpublished, or NULL.
 * @max_backlog: the most bytes of retired maps that may wait for grace
 *               periods, over all maps.
 *
 * The map is freed after an RCU grace period. Past @max_backlog the caller
 * waits for that grace period and frees the map itself, so that a storm of
 * commits cannot pile up old maps. Callers must be able to sleep, and the
 * module must call rcu_barrier() before it goes away.
 */
void physmap_map_retire(struct physmap_map *map, size_t max_backlog)
{
	if (!map)
		return;
	if (atomic_long_add_return(map->bytes, &physmap_retired) >
	    max_backlog) {
		atomic_long_sub(map->bytes, &physmap_retired);
		synchronize_rcu();
		kvfree(map);
		return;
	}
	call_rcu(&map->rcu, physmap_map_free_rcu);
}
EXPORT_SYMBOL_NS_GPL(physmap_map_retire, PHYSMAP);

/**
 * physmap_retired_bytes() - bytes of retired maps waiting for grace periods
 *
 * Return: the bytes, over all maps.
 */
size_t physmap_retired_bytes(void)
{
	return atomic_long_read(&physmap_retired);
}
EXPORT_SYMBOL_NS_GPL(physmap_retired_bytes, PHYSMAP);

static u32 lookup_subpage(const struct physmap_map *map, u32 index, u64 addr)
{
	const struct physmap_subpage *sp = &map->subpages[index];
	u32 offset = addr & ((1ULL << map->page_shift) - 1);
	const u32 *chunk = &map->chunks[(size_t)index *
					(PHYSMAP_SUBPAGE_CHUNKS + 1) +
					(offset >> (map->page_shift -
						    PHYSMAP_SUBPAGE_CHUNK_BITS))];
	const struct physmap_piece *piece;
	u32 n, half;

	if (addr >> map->page_shift != sp->page)
		return PHYSMAP_UNASSIGNED;
	/*
	 * Pieces before chunk[0] end before this chunk; the one at chunk[1]
	 * is the last that may start at or below @offset.
	 */
	piece = &map->pieces[sp->first + chunk[0]];
	n = min(chunk[1] + 1, sp->count) - chunk[0];
	if (!n)
		return PHYSMAP_UNASSIGNED;
	/* The last of them that starts at or below @offset, branch-free. */
	while (n > 1) {
		half = n / 2;
		piece = piece[half].start <= offset ? piece + half : piece;
		n -= half;
	}
	if (piece->start <= offset && offset <= piece->last)
		return piece->section;
	return PHYSMAP_UNASSIGNED;
}

/*
 * The lookup (with lookup_subpage() inlined, under 512 bytes) has a section
 * of its own, aligned to 512 bytes by the module loader, so that it never
 * straddles a page boundary. On hardware that only costs padding; under
 * QEMU's TCG, where the benchmarks and tests run, a translated block cannot
 * chain straight into another guest page, and a walk loop split by a page
 * boundary made every lookup 1.1-1.8x slower depending on where the linker
 * happened to put it. (A plain __aligned() filled the gap with a jump over
 * the padding, which objtool reports as unreachable.)
 */
#define PHYSMAP_LOOKUP_ALIGN	512

/**
 * physmap_map_lookup() - the section covering an address
 * @map: a published map.
 * @addr: the address.
 *
 * Takes no lock and allocates nothing; the caller keeps @map alive, for
 * instance with rcu_read_lock().
 *
 * Return: the section's index, or PHYSMAP_UNASSIGNED.
 */
__section(".text.physmap_lookup") __aligned(PHYSMAP_LOOKUP_ALIGN)
u32 physmap_map_lookup(const struct physmap_map *map, u64 addr)
{
	const struct physmap_sect *sect;
	unsigned int visits;
	u32 entry;

	entry = walk_to_leaf(map, addr >> map->page_shift, &visits);
	if (unlikely(entry_is_subpage(entry)))
		return lookup_subpage(map, entry_ptr(entry), addr);
	/* Levels may have been skipped: the leaf may not cover @addr. */
	sect = &map->sections[entry_ptr(entry)];
	if (addr - sect->start < sect->size)
		return entry_ptr(entry);
	return PHYSMAP_UNASSIGNED;
}
EXPORT_SYMBOL_NS_GPL(physmap_map_lookup, PHYSMAP);

/**
 * physmap_map_section() - a section of a published map by index
 * @map: the map.
 * @index: the section's index, from 1.
 *
 * Return: the section, or NULL when @index is 0 or past the last section.
 */
const struct physmap_sect *physmap_map_section(const struct physmap_map *map,
					       u32 index)
{
	if (index == PHYSMAP_UNASSIGNED || index >= map->nr_sections)
		return NULL;
	return &map->sections[index];
}
EXPORT_SYMBOL_NS_GPL(physmap_map_section, PHYSMAP);

/**
 * physmap_map_stats() - describe a published map
 * @map: the map.
 * @stats: filled in, generation included.
 */
void physmap_map_stats(const struct physmap_map *map,
		       struct physmap_stats *stats)
{
	memset(stats, 0, sizeof(*stats));
	stats->generation = map->generation;
	stats->sections = map->nr_sections - 1;
	stats->nodes = map->nr_nodes;
	stats->bytes = map->bytes;
	stats->page_shift = map->page_shift;
	stats->levels = map->levels;
	stats->subpages = map->nr_subpages;
	stats->subpage_ranges = map->nr_pieces;
	stats->skip_entries = map->skip_entries;
	stats->skipped_levels = map->skipped_levels;
	stats->max_depth = map->max_depth;
	stats->node_bytes = PHYSMAP_NODE_SLOTS * sizeof(u32);
}
EXPORT_SYMBOL_NS_GPL(physmap_map_stats, PHYSMAP);
