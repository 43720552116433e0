// SPDX-License-Identifier: GPL-2.0
/*
 * QEMU's compressed phys_map radix tree
 *
 * A map answers "which section covers this address?" over a 64-bit address
 * space. It is a radix tree over page numbers, PMT_NODE_BITS bits per
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
 * - Last, commit levels the depth of lookups: when walks inside the
 *   sections, or over their span, end after different numbers of node
 *   visits, leaves met early point to a short chain of nodes full of that
 *   leaf, so that consecutive lookups leave the walk's loop alike; and a map
 *   whose lookups end as often in a sub-page as in a section resolves its
 *   leaves without a branch on their kind (see level_depth()).
 *
 * The published map is read-only and lookups take no lock: the caller
 * publishes it with RCU and retires the old one with pmt_map_retire().
 */
#include <linux/atomic.h>
#include <linux/err.h>
#include <linux/export.h>
#include <linux/hash.h>
#include <linux/kernel.h>
#include <linux/math64.h>
#include <linux/minmax.h>
#include <linux/overflow.h>
#include <linux/rcupdate.h>
#include <linux/refcount.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/seq_file.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/string.h>
#include <linux/vmalloc.h>

#include "physmap_tree.h"

/*
 * Sizes come from userspace: allocations are charged to the caller's memory
 * cgroup and fail quietly with ENOMEM, never through the OOM killer (see
 * pmt_alloc()).
 */
#define PMT_GFP		(GFP_KERNEL_ACCOUNT | __GFP_NOWARN)
#define PMT_NIL		U32_MAX
/* Alignment of the node array inside a published map's allocation. */
#define PMT_MAP_ALIGN	64

/**
 * struct pmt_pending_section - a section of a pending map, and its node in
 * the map's order tree
 * @sect: the section; all zero for section 0 and for a hole.
 * @left: the node of the sections below it in the order tree; PMT_NIL for
 *        none.
 * @right: the node of the sections above it; PMT_NIL for none.
 * @level: its level in the order tree, an AA tree: 1 for a leaf; 0 for
 *         section 0, holes and the sections of the run (see struct
 *         pmt_pending), which are in no tree.
 * @slot: in a pending map kept from a published one (struct pmt_pending,
 *        @generation), the section's slot there; 0 for a section added
 *        since.
 */
struct pmt_pending_section {
	struct pmt_section sect;
	u32 left;
	u32 right;
	u32 level;
	u32 slot;
};

/**
 * struct pmt_change - what an update changed, for an incremental commit
 * @first: the first page of the section's range.
 * @last: the last page of the section's range.
 * @index: the section's index.
 */
struct pmt_change {
	u64 first;
	u64 last;
	u32 index;
};

/* Changes past this many make the next commit a full build. */
#define PMT_CHANGES_MAX		4096

/**
 * struct pmt_pending - a map being built, before commit
 * @page_shift: log2 of the page size.
 * @levels: radix levels for @page_shift.
 * @sections: @nr_sections sections (section 0 included) of @cap_sections,
 *            indexed by section index; a removed section's entry is all
 *            zero, a hole.
 * @nr_sections: entries of @sections, section 0 and holes included.
 * @cap_sections: sections @sections has room for.
 * @nr_held: sections the map holds: neither section 0 nor holes.
 * @root: the root of the order tree, which holds the sections by address
 *        (struct pmt_pending_section): ADD finds overlaps in it, COMMIT
 *        reads the sections in address order from it. PMT_NIL when empty.
 * @run_head: the first of the sections added in ascending order to a map
 *            whose order tree is empty, the *run*: linked by their right
 *            links; the tree stays empty while there is a run. PMT_NIL
 *            when empty.
 * @run_tail: the last of the run.
 * @nr_run: sections in the run.
 * @top: the section that starts highest, in the tree or the run; PMT_NIL
 *       when the map holds none.
 * @holes: the indexes of the holes below @nr_sections, a min-heap, so
 *         that ADD takes the lowest first.
 * @nr_holes: holes in @holes.
 * @cap_holes: holes @holes has room for.
 * @generation: the published map this pending map was kept from by
 *              pmt_commit_update(), whose sections it holds with their
 *              slots, but for @changes; 0 for none.
 * @changes: the sections added and removed since, with their ranges.
 * @nr_changes: entries of @changes.
 * @cap_changes: entries @changes has room for.
 * @overflow: more changed than @changes holds: the next commit builds in
 *            full.
 *
 * A pending map holds its sections and nothing of the radix tree: COMMIT
 * builds the published map from the sections in address order, each node
 * once, so that ADD and REMOVE cost O(log n) and a pending map takes a few
 * dozen bytes per section whatever their shape. Sections added in
 * ascending order to a new map, the usual case, cost O(1): they wait in
 * the run, which the first ADD out of order or REMOVE builds into a
 * balanced tree, O(n) once.
 */
struct pmt_pending {
	unsigned int page_shift;
	unsigned int levels;
	struct pmt_pending_section *sections;
	u32 nr_sections, cap_sections;
	u32 nr_held;
	u32 root;
	u32 run_head, run_tail, nr_run;
	u32 top;
	u32 *holes;
	u32 nr_holes, cap_holes;
	u64 generation;
	struct pmt_change *changes;
	u32 nr_changes, cap_changes;
	bool overflow;
};

/*
 * QEMU's two seed optimizations as test-only switches: the userspace build
 * (user/) turns them into variables to measure what each one buys. The
 * kernel build always has both.
 */
#ifndef pmt_early_leaves
#define pmt_early_leaves	true	/* paths end early */
#endif
#ifndef pmt_compaction
#define pmt_compaction	true	/* commit skips single-child nodes */
#endif
/* Not from QEMU; the userspace build can turn it off the same way. */
#ifndef pmt_levelling
#define pmt_levelling	true	/* commit levels lookup depths */
#endif

static atomic_long_t pmt_retired = ATOMIC_LONG_INIT(0);

/*
 * Allocate @size bytes for a map. Past a page, kmalloc is tried once without
 * reclaim or compaction, which can stall for seconds under memory pressure
 * only to find no contiguous pages; then vmalloc, whose order-0 pages may be
 * reclaimed for but which fails with ENOMEM rather than invoke the OOM
 * killer, also past the memory cgroup's limit. (kvmalloc() with
 * __GFP_RETRY_MAYFAIL would retry reclaim and compaction for the contiguous
 * attempt as well.) Freed with kvfree().
 */
static void *pmt_alloc(size_t size)
{
	void *p;

	if (size <= PAGE_SIZE)
		return kmalloc(size, PMT_GFP | __GFP_RETRY_MAYFAIL);
	if (size > INT_MAX)
		return NULL;
	p = kmalloc(size, PMT_GFP | __GFP_NORETRY);
	if (p)
		return p;
	return __vmalloc(size, PMT_GFP | __GFP_RETRY_MAYFAIL);
}

/* Steps of a loop between two scheduling points. */
#define PMT_STEPS_PER_RESCHED	256

/*
 * Count one step of a loop of ADD or COMMIT that grows with the map, and
 * every PMT_STEPS_PER_RESCHED steps offer to reschedule.
 *
 * Return: -EINTR when a fatal signal asks the caller to stop, else 0.
 */
static int pmt_step(unsigned int *steps)
{
	if (++*steps % PMT_STEPS_PER_RESCHED)
		return 0;
	cond_resched();
	return fatal_signal_pending(current) ? -EINTR : 0;
}

/* Bytes copied between two scheduling points by pmt_copy(). */
#define PMT_COPY_CHUNK	SZ_1M

/*
 * Lookups of many addresses in a map whose nodes and sections take
 * PMT_BATCH_BYTES or more, where walks miss the cache, walk PMT_WALK_BATCH
 * of them together (map_walk_batch()). Natively, batches lost 10-20% on a
 * map of 3.1 MB, broke even at 6.2 MB and won 25-50% at 55 and 100 MB
 * (Documentation/physmap-lookup.rst).
 */
#define PMT_BATCH_BYTES		SZ_4M
#define PMT_WALK_BATCH		64
#define PMT_WALK_STRIDE		17
static_assert(!(PMT_WALK_BATCH & (PMT_WALK_BATCH - 1)) && PMT_WALK_STRIDE % 2,
	      "the stride must visit every address of a batch");

/* memcpy() that reschedules and stops with -EINTR on a fatal signal. */
static int pmt_copy(void *dst, const void *src, size_t size)
{
	size_t done, n;

	for (done = 0; done < size; done += n) {
		n = min_t(size_t, size - done, PMT_COPY_CHUNK);
		memcpy((char *)dst + done, (const char *)src + done, n);
		if (size - done > n) {
			cond_resched();
			if (fatal_signal_pending(current))
				return -EINTR;
		}
	}
	return 0;
}

static inline unsigned int entry_skip(u32 entry)
{
	return entry & PMT_ENTRY_SKIP_MASK;
}

static inline u32 entry_ptr(u32 entry)
{
	return entry >> PMT_ENTRY_PTR_SHIFT;
}

static inline bool entry_is_subpage(u32 entry)
{
	return entry & PMT_ENTRY_SUBPAGE;
}

static inline u32 mk_node_entry(u32 node, unsigned int skip)
{
	return node << PMT_ENTRY_PTR_SHIFT | skip;
}

static inline u32 mk_section_entry(u32 section)
{
	return section << PMT_ENTRY_PTR_SHIFT;
}

static inline u32 mk_subpage_entry(u32 subpage)
{
	return subpage << PMT_ENTRY_PTR_SHIFT | PMT_ENTRY_SUBPAGE;
}

/* Index within its node of the entry covering @page at @level. */
static inline unsigned int slot_of(u64 page, unsigned int level)
{
	return (page >> (level * PMT_NODE_BITS)) & (PMT_NODE_SLOTS - 1);
}

static inline unsigned int map_entry_shift(u32 entry)
{
	return entry & PMT_MAP_SHIFT_MASK;
}

static inline u32 map_entry_ptr(u32 entry)
{
	return entry >> PMT_MAP_PTR_SHIFT;
}

static inline bool map_entry_is_subpage(u32 entry)
{
	return entry & PMT_MAP_SUBPAGE;
}

/*
 * The byte offset in a map's nodes of the node @entry points to: the entry
 * less its low bits, one load address addition from the next entry.
 */
static inline size_t map_entry_node_offset(u32 entry)
{
	return entry & ~(PMT_NODE_BYTES - 1);
}

/*
 * The index of the section in slot @slot: the slot itself for the primary
 * slots, all of them in a map no update made, so that its lookups take
 * this branch never and load nothing for it.
 */
static __always_inline u32 map_slot_index(const struct pmt_map *map, u32 slot)
{
	if (likely(slot < map->nr_primary))
		return slot;
	return map->slot_index[slot - map->nr_primary];
}

/*
 * The published form of @entry, an entry of a pending map's form that
 * covers @level of a map of @page_shift.
 */
static u32 publish_entry(u32 entry, unsigned int level,
			 unsigned int page_shift)
{
	u32 out = entry_ptr(entry) << PMT_MAP_PTR_SHIFT;

	if (entry_skip(entry))
		return out | (page_shift +
			      (level - entry_skip(entry)) * PMT_NODE_BITS);
	return out | (entry_is_subpage(entry) ? PMT_MAP_SUBPAGE : 0);
}

/* Pages covered by one entry of a node at @level. */
static inline u64 level_span(unsigned int level)
{
	return 1ULL << (level * PMT_NODE_BITS);
}

/**
 * pmt_page_shift_valid() - whether a map can be built with a page size
 * @page_shift: log2 of the page size.
 *
 * Return: true for PMT_PAGE_SHIFT_MIN..PMT_PAGE_SHIFT_MAX.
 */
bool pmt_page_shift_valid(unsigned int page_shift)
{
	return page_shift >= PMT_PAGE_SHIFT_MIN &&
	       page_shift <= PMT_PAGE_SHIFT_MAX;
}
EXPORT_SYMBOL_NS_GPL(pmt_page_shift_valid, PMT_NS);

/**
 * pmt_range_valid() - whether a byte range can be a section
 * @start: first byte.
 * @size: length in bytes.
 *
 * Return: true when @size is not 0 and the range does not pass 2^64 - 1.
 */
bool pmt_range_valid(u64 start, u64 size)
{
	return size && start + (size - 1) >= start;
}
EXPORT_SYMBOL_NS_GPL(pmt_range_valid, PMT_NS);

/*
 * Grow a pending array to @new_cap elements, @used of which are copied.
 * Returns -ENOMEM, -EINTR on a fatal signal, or 0; on failure the array is
 * as it was.
 */
static int pmt_grow(void **array, u32 *cap, u32 used, u64 new_cap,
		    size_t elem_size)
{
	void *grown;

	if (new_cap <= *cap)
		return 0;
	if (new_cap > PMT_PTR_MAX)
		return -ENOMEM;
	grown = pmt_alloc(array_size(new_cap, elem_size));
	if (!grown)
		return -ENOMEM;
	if (pmt_copy(grown, *array, (size_t)used * elem_size)) {
		kvfree(grown);
		return -EINTR;
	}
	kvfree(*array);
	*array = grown;
	*cap = new_cap;
	return 0;
}

/**
 * pmt_pending_create() - start an empty pending map
 * @page_shift: log2 of the page size; see pmt_page_shift_valid().
 *
 * Return: the pending map, or NULL when out of memory.
 */
struct pmt_pending *pmt_pending_create(unsigned int page_shift)
{
	struct pmt_pending *pm;

	pm = kzalloc(sizeof(*pm), PMT_GFP);
	if (!pm)
		return NULL;
	pm->page_shift = page_shift;
	pm->levels = DIV_ROUND_UP(64 - page_shift, PMT_NODE_BITS);
	pm->root = PMT_NIL;
	pm->run_head = PMT_NIL;
	pm->run_tail = PMT_NIL;
	pm->top = PMT_NIL;
	if (pmt_grow((void **)&pm->sections, &pm->cap_sections, 0, 16,
		     sizeof(*pm->sections))) {
		kfree(pm);
		return NULL;
	}
	/* Section 0 is PMT_UNASSIGNED: it covers nothing. */
	memset(&pm->sections[0], 0, sizeof(pm->sections[0]));
	pm->nr_sections = 1;
	return pm;
}
EXPORT_SYMBOL_NS_GPL(pmt_pending_create, PMT_NS);

/**
 * pmt_pending_free() - free a pending map
 * @pm: the pending map, or NULL.
 */
void pmt_pending_free(struct pmt_pending *pm)
{
	if (!pm)
		return;
	kvfree(pm->sections);
	kvfree(pm->holes);
	kvfree(pm->changes);
	kfree(pm);
}
EXPORT_SYMBOL_NS_GPL(pmt_pending_free, PMT_NS);

/**
 * pmt_pending_sections() - sections a pending map holds
 * @pm: the pending map.
 *
 * Return: the number of sections, PMT_UNASSIGNED not counted.
 */
u32 pmt_pending_sections(const struct pmt_pending *pm)
{
	return pm->nr_held;
}
EXPORT_SYMBOL_NS_GPL(pmt_pending_sections, PMT_NS);

/**
 * pmt_pending_next_index() - the index the next section added gets
 * @pm: the pending map.
 *
 * Return: the lowest index no section of @pm holds, PMT_UNASSIGNED aside.
 */
u32 pmt_pending_next_index(const struct pmt_pending *pm)
{
	return pm->nr_holes ? pm->holes[0] : pm->nr_sections;
}
EXPORT_SYMBOL_NS_GPL(pmt_pending_next_index, PMT_NS);

/* Add @index to the holes' min-heap, which has room for it. */
static void holes_push(struct pmt_pending *pm, u32 index)
{
	u32 i = pm->nr_holes++, parent;

	for (; i; i = parent) {
		parent = (i - 1) / 2;
		if (pm->holes[parent] < index)
			break;
		pm->holes[i] = pm->holes[parent];
	}
	pm->holes[i] = index;
}

/* Take the lowest hole out of the min-heap, which has one. */
static u32 holes_pop(struct pmt_pending *pm)
{
	u32 lowest = pm->holes[0], last = pm->holes[--pm->nr_holes];
	u32 i = 0, child;

	for (; (child = 2 * i + 1) < pm->nr_holes; i = child) {
		if (child + 1 < pm->nr_holes &&
		    pm->holes[child + 1] < pm->holes[child])
			child++;
		if (last < pm->holes[child])
			break;
		pm->holes[i] = pm->holes[child];
	}
	pm->holes[i] = last;
	return lowest;
}

/* The last byte of a section that is not a hole. */
static inline u64 sect_last(const struct pmt_section *sect)
{
	return sect->start + (sect->size - 1);
}

/*
 * The order tree holds a pending map's sections by start address, an AA
 * tree (Andersson, "Balanced search trees made simple", 1993): a red-black
 * tree whose red links lean right only, kept by two rotations, skew and
 * split. Its nodes are the sections' own entries, linked by index. Its
 * height is at most 2 log2(n + 1): 54 for the most sections a map holds
 * (PMT_PTR_MAX), which bounds the paths that insertion, removal and the
 * in-order walk keep on the stack below PMT_ORDER_HEIGHT. Only the
 * balanced builds from sorted sections recurse, log2(n) deep: 27 at most.
 */
#define PMT_ORDER_HEIGHT	64

static inline u32 order_level(const struct pmt_pending *pm, u32 n)
{
	return n == PMT_NIL ? 0 : pm->sections[n].level;
}

/* Turn a left link of @t's level into a right one. */
static u32 order_skew(struct pmt_pending *pm, u32 t)
{
	struct pmt_pending_section *ps = pm->sections;
	u32 l;

	if (t == PMT_NIL)
		return t;
	l = ps[t].left;
	if (l == PMT_NIL || ps[l].level != ps[t].level)
		return t;
	ps[t].left = ps[l].right;
	ps[l].right = t;
	return l;
}

/* Lift the middle of two right links of @t's level one level up. */
static u32 order_split(struct pmt_pending *pm, u32 t)
{
	struct pmt_pending_section *ps = pm->sections;
	u32 r;

	if (t == PMT_NIL)
		return t;
	r = ps[t].right;
	if (r == PMT_NIL || ps[r].right == PMT_NIL ||
	    ps[ps[r].right].level != ps[t].level)
		return t;
	ps[t].right = ps[r].left;
	ps[r].left = t;
	ps[r].level++;
	return r;
}

/* Point @t's link on side @right (else left) at @child. */
static inline void order_link(struct pmt_pending *pm, u32 t, bool right,
			      u32 child)
{
	if (right)
		pm->sections[t].right = child;
	else
		pm->sections[t].left = child;
}

/*
 * Insert section @n into the tree of root @root; returns the new root. The
 * path down is kept, then skew and split restore the levels bottom up.
 */
static u32 order_insert(struct pmt_pending *pm, u32 root, u32 n)
{
	struct pmt_pending_section *ps = pm->sections;
	u32 path[PMT_ORDER_HEIGHT], t = root, sub = n;
	bool right[PMT_ORDER_HEIGHT];
	unsigned int depth = 0;

	while (t != PMT_NIL) {
		/* The height bound makes this unreachable. */
		if (WARN_ON_ONCE(depth == PMT_ORDER_HEIGHT))
			return root;
		path[depth] = t;
		right[depth] = ps[n].sect.start >= ps[t].sect.start;
		t = right[depth] ? ps[t].right : ps[t].left;
		depth++;
	}
	ps[n].left = PMT_NIL;
	ps[n].right = PMT_NIL;
	ps[n].level = 1;
	while (depth--) {
		t = path[depth];
		order_link(pm, t, right[depth], sub);
		sub = order_split(pm, order_skew(pm, t));
	}
	return sub;
}

/* Restore the levels at @t after a removal below it. */
static u32 order_rebalance(struct pmt_pending *pm, u32 t)
{
	struct pmt_pending_section *ps = pm->sections;
	u32 want, r;

	want = min(order_level(pm, ps[t].left),
		   order_level(pm, ps[t].right)) + 1;
	if (want < ps[t].level) {
		ps[t].level = want;
		r = ps[t].right;
		if (r != PMT_NIL && want < ps[r].level)
			ps[r].level = want;
	}
	t = order_skew(pm, t);
	ps[t].right = order_skew(pm, ps[t].right);
	r = ps[t].right;
	if (r != PMT_NIL)
		ps[r].right = order_skew(pm, ps[r].right);
	t = order_split(pm, t);
	ps[t].right = order_split(pm, ps[t].right);
	return t;
}

/*
 * Take the lowest section out of the subtree @t, which is not empty, into
 * *@min; returns the subtree's new root, rebalanced bottom up along the
 * left links it went down.
 */
static u32 order_remove_min(struct pmt_pending *pm, u32 t, u32 *min)
{
	struct pmt_pending_section *ps = pm->sections;
	u32 path[PMT_ORDER_HEIGHT], sub;
	unsigned int depth = 0;

	while (ps[t].left != PMT_NIL && depth < PMT_ORDER_HEIGHT) {
		path[depth++] = t;
		t = ps[t].left;
	}
	/* The height bound makes a left link left over unreachable. */
	WARN_ON_ONCE(ps[t].left != PMT_NIL);
	*min = t;
	sub = ps[t].right;
	while (depth--) {
		ps[path[depth]].left = sub;
		sub = order_rebalance(pm, path[depth]);
	}
	return sub;
}

/*
 * Take section @n, which the tree of root @root holds, out; returns the
 * new root. The path down to @n is kept; @n's successor, if it has a right
 * subtree, takes its place, its links and its level; then the levels are
 * restored bottom up.
 */
static u32 order_remove(struct pmt_pending *pm, u32 root, u32 n)
{
	struct pmt_pending_section *ps = pm->sections;
	u32 path[PMT_ORDER_HEIGHT], t = root, sub, next;
	bool right[PMT_ORDER_HEIGHT];
	unsigned int depth = 0;

	while (t != n) {
		if (WARN_ON_ONCE(t == PMT_NIL || depth == PMT_ORDER_HEIGHT))
			return root;
		path[depth] = t;
		right[depth] = ps[n].sect.start >= ps[t].sect.start;
		t = right[depth] ? ps[t].right : ps[t].left;
		depth++;
	}
	if (ps[n].right == PMT_NIL) {
		/* Without a right child, a node is a leaf: its left is empty. */
		sub = ps[n].left;
	} else {
		sub = order_remove_min(pm, ps[n].right, &next);
		ps[next].left = ps[n].left;
		ps[next].right = sub;
		ps[next].level = ps[n].level;
		sub = order_rebalance(pm, next);
	}
	while (depth--) {
		t = path[depth];
		order_link(pm, t, right[depth], sub);
		sub = order_rebalance(pm, t);
	}
	return sub;
}

/*
 * The tree of @m sections @ord, sorted by address: each subtree's middle
 * at its root, at level floor(log2(size + 1)), which meets the AA tree's
 * rules. Returns its root.
 */
static u32 order_build(struct pmt_pending *pm, const u32 *ord, u32 m)
{
	struct pmt_pending_section *ps = pm->sections;
	u32 mid, t;

	if (!m)
		return PMT_NIL;
	mid = (m - 1) / 2;
	t = ord[mid];
	ps[t].left = order_build(pm, ord, mid);
	ps[t].right = order_build(pm, ord + mid + 1, m - mid - 1);
	ps[t].level = fls(m + 1) - 1;
	return t;
}

/* The section of the order tree that starts highest; PMT_NIL for none. */
static u32 order_last(const struct pmt_pending *pm)
{
	u32 n = pm->root;

	while (n != PMT_NIL && pm->sections[n].right != PMT_NIL)
		n = pm->sections[n].right;
	return n;
}

/*
 * The tree of the @m sections of the run from *@next on, built as
 * order_build() builds it; *@next moves past them. It reschedules, but
 * cannot stop half way: a fatal signal waits for its end.
 */
static u32 order_build_run(struct pmt_pending *pm, u32 *next, u32 m,
			   unsigned int *steps)
{
	struct pmt_pending_section *ps = pm->sections;
	u32 mid, left, t;

	if (!m)
		return PMT_NIL;
	mid = (m - 1) / 2;
	left = order_build_run(pm, next, mid, steps);
	if (!(++*steps % PMT_STEPS_PER_RESCHED))
		cond_resched();
	t = *next;
	*next = ps[t].right;
	ps[t].left = left;
	ps[t].right = order_build_run(pm, next, m - mid - 1, steps);
	ps[t].level = fls(m + 1) - 1;
	return t;
}

/*
 * Build the run into the order tree, which is empty while there is a run:
 * O(k) for k sections, no search, no allocation.
 */
static void order_flush_run(struct pmt_pending *pm)
{
	unsigned int steps = 0;
	u32 n = pm->run_head;

	if (n == PMT_NIL)
		return;
	pm->root = order_build_run(pm, &n, pm->nr_run, &steps);
	pm->run_head = PMT_NIL;
	pm->run_tail = PMT_NIL;
	pm->nr_run = 0;
}

/*
 * Append section @n, which starts above all others, to the run of a map
 * whose order tree is empty.
 */
static void order_append(struct pmt_pending *pm, u32 n)
{
	struct pmt_pending_section *ps = pm->sections;

	ps[n].left = PMT_NIL;
	ps[n].right = PMT_NIL;
	ps[n].level = 0;
	if (pm->run_tail == PMT_NIL)
		pm->run_head = n;
	else
		ps[pm->run_tail].right = n;
	pm->run_tail = n;
	pm->nr_run++;
}

/*
 * Fill @ord with the indexes of @pm's sections in address order. Returns
 * -EINTR when a fatal signal stopped it, else 0.
 */
static int order_walk(const struct pmt_pending *pm, u32 *ord,
		      unsigned int *steps)
{
	const struct pmt_pending_section *ps = pm->sections;
	u32 stack[PMT_ORDER_HEIGHT], n = pm->root, k = 0;
	unsigned int depth = 0;

	while (n != PMT_NIL || depth) {
		for (; n != PMT_NIL; n = ps[n].left) {
			if (WARN_ON_ONCE(depth == PMT_ORDER_HEIGHT))
				return -EFAULT;
			stack[depth++] = n;
		}
		n = stack[--depth];
		ord[k++] = n;
		n = ps[n].right;
		if (pmt_step(steps))
			return -EINTR;
	}
	/* A run holds all of the sections: the tree is empty. */
	for (n = pm->run_head; n != PMT_NIL; n = ps[n].right) {
		ord[k++] = n;
		if (pmt_step(steps))
			return -EINTR;
	}
	return 0;
}

/*
 * Note that section @index, of @sect's range, was added or removed, if @pm
 * is kept from a published map. It never fails: when out of room, the next
 * commit builds in full instead.
 */
static void pending_note_change(struct pmt_pending *pm, u32 index,
				const struct pmt_section *sect)
{
	struct pmt_change *change;

	if (!pm->generation || pm->overflow)
		return;
	if (pm->nr_changes == pm->cap_changes &&
	    (pm->cap_changes == PMT_CHANGES_MAX ||
	     pmt_grow((void **)&pm->changes, &pm->cap_changes, pm->nr_changes,
		      min_t(u32, max(16U, 2 * pm->cap_changes),
			    PMT_CHANGES_MAX),
		      sizeof(*pm->changes)))) {
		pm->overflow = true;
		return;
	}
	change = &pm->changes[pm->nr_changes++];
	change->first = sect->start >> pm->page_shift;
	change->last = sect_last(sect) >> pm->page_shift;
	change->index = index;
}

/* Whether bytes @start..@last overlap a section of @pm. */
static bool pending_overlaps(const struct pmt_pending *pm, u64 start,
			     u64 last)
{
	const struct pmt_pending_section *ps = pm->sections;
	u32 n = pm->root;

	while (n != PMT_NIL) {
		if (last < ps[n].sect.start)
			n = ps[n].left;
		else if (start > sect_last(&ps[n].sect))
			n = ps[n].right;
		else
			return true;
	}
	return false;
}

/* Bytes of a pending map whose arrays hold @sections and @holes. */
static u64 pending_bytes_for(u64 sections, u64 holes)
{
	return sizeof(struct pmt_pending) +
	       sections * sizeof(struct pmt_pending_section) +
	       holes * sizeof(u32);
}

/*
 * What an array of @elem_size-byte elements that holds @cap and needs @need
 * grows to: by doubling, as far as @room bytes beyond the need allow.
 * @room is reduced by what the growth takes beyond the need.
 */
static u64 grown_cap(u64 cap, u64 need, size_t elem_size, u64 *room)
{
	u64 extra;

	if (need <= cap)
		return cap;
	extra = min(max3(need, 2 * cap, 16ULL) - need, *room / elem_size);
	if (need + extra > PMT_PTR_MAX)
		extra = need < PMT_PTR_MAX ? PMT_PTR_MAX - need : 0;
	*room -= extra * elem_size;
	return need + extra;
}

/*
 * Make room for @need sections without passing @max_bytes: the array grows
 * by doubling, or near the bound by what is left. On failure the map is
 * unchanged.
 */
static int pending_reserve(struct pmt_pending *pm, u64 need, u64 max_bytes)
{
	u64 room, cap;

	if (need <= pm->cap_sections)
		return 0;
	if (pending_bytes_for(need, pm->cap_holes) > max_bytes)
		return -ENOSPC;
	room = max_bytes - pending_bytes_for(need, pm->cap_holes);
	cap = grown_cap(pm->cap_sections, need, sizeof(*pm->sections), &room);
	return pmt_grow((void **)&pm->sections, &pm->cap_sections,
			pm->nr_sections, cap, sizeof(*pm->sections));
}

/**
 * pmt_pending_bytes() - memory a pending map holds
 * @pm: the pending map.
 *
 * Return: the bytes of its header and of its arrays, used or not.
 */
size_t pmt_pending_bytes(const struct pmt_pending *pm)
{
	return pending_bytes_for(pm->cap_sections, pm->cap_holes);
}
EXPORT_SYMBOL_NS_GPL(pmt_pending_bytes, PMT_NS);

/**
 * pmt_pending_add() - add a section to a pending map
 * @pm: the pending map.
 * @sect: the section; its range must satisfy pmt_range_valid().
 * @max_sections: the most sections the map may hold.
 * @max_bytes: the most bytes the map may hold (pmt_pending_bytes()).
 * @index: set to the new section's index on success: the lowest index no
 *         section of @pm holds (pmt_pending_next_index()).
 *
 * It costs O(log n) whatever the section's shape: the radix tree is built
 * at commit. On failure the pending map holds the same sections as before.
 *
 * Return: 0, -EINVAL for an invalid range, -EEXIST when the range overlaps
 * a section already in the map, -ENOSPC past @max_sections or @max_bytes,
 * -ENOMEM, or -EINTR when a fatal signal stopped a long copy.
 */
int pmt_pending_add(struct pmt_pending *pm,
		    const struct pmt_section *sect, u32 max_sections,
			u64 max_bytes, u32 *index)
{
	bool highest, run;
	u32 section;
	int ret;

	if (!pmt_range_valid(sect->start, sect->size))
		return -EINVAL;
	highest = pm->top == PMT_NIL ||
		  sect->start > sect_last(&pm->sections[pm->top].sect);
	/* Above all sections of a map without an order tree: the run. */
	run = highest && pm->root == PMT_NIL;
	if (!run) {
		order_flush_run(pm);
		if (pending_overlaps(pm, sect->start, sect_last(sect)))
			return -EEXIST;
	}
	if (pm->nr_held >= min(max_sections, PMT_PTR_MAX - 1))
		return -ENOSPC;
	if (!pm->nr_holes) {
		ret = pending_reserve(pm, pm->nr_sections + 1ULL, max_bytes);
		if (ret)
			return ret;
	}

	/* Nothing below can fail: room is reserved. */
	section = pm->nr_holes ? holes_pop(pm) : pm->nr_sections++;
	pm->sections[section].sect = *sect;
	pm->sections[section].slot = 0;
	pm->nr_held++;
	pending_note_change(pm, section, sect);
	if (run)
		order_append(pm, section);
	else
		pm->root = order_insert(pm, pm->root, section);
	if (highest)
		pm->top = section;
	*index = section;
	return 0;
}
EXPORT_SYMBOL_NS_GPL(pmt_pending_add, PMT_NS);

/* Make room for one more hole; -ENOMEM or -EINTR, or 0. */
static int pending_reserve_hole(struct pmt_pending *pm, u64 need)
{
	if (need <= pm->cap_holes)
		return 0;
	return pmt_grow((void **)&pm->holes, &pm->cap_holes, pm->nr_holes,
			max3(16ULL, 2ULL * pm->cap_holes, need),
			sizeof(*pm->holes));
}

/**
 * pmt_pending_remove() - take a section out of a pending map
 * @pm: the pending map.
 * @index: the section's index.
 *
 * The section's range is free for pmt_pending_add() and its index is the
 * first that pmt_pending_add() gives again, unless a lower one is free. It
 * costs O(log n). On failure nothing changed.
 *
 * Return: 0, -ENOENT when no section of @pm has @index (PMT_UNASSIGNED,
 * never added, or removed already), or -ENOMEM.
 */
int pmt_pending_remove(struct pmt_pending *pm, u32 index)
{
	int ret;

	if (index == PMT_UNASSIGNED || index >= pm->nr_sections ||
	    !pm->sections[index].sect.size)
		return -ENOENT;
	ret = pending_reserve_hole(pm, pm->nr_holes + 1ULL);
	if (ret)
		return ret;
	/* Nothing below can fail or allocate. */
	order_flush_run(pm);
	pm->root = order_remove(pm, pm->root, index);
	if (pm->top == index)
		pm->top = order_last(pm);
	pending_note_change(pm, index, &pm->sections[index].sect);
	memset(&pm->sections[index], 0, sizeof(pm->sections[index]));
	pm->nr_held--;
	holes_push(pm, index);
	return 0;
}
EXPORT_SYMBOL_NS_GPL(pmt_pending_remove, PMT_NS);

/* For levelling: a lookup ends on a sub-page, not on one section's leaf. */
#define PMT_MIXED		U32_MAX

/*
 * Depth levelling. A lookup leaves its walk after as many node visits as its
 * path has nodes. When consecutive lookups end after a different number of
 * visits at random, the walk's exit branch is mispredicted and the CPU
 * cannot start the next lookup before this one is done; more visits, to
 * nodes in the cache, cost less. Maps are like that: in a PC's memory map
 * the small sections below 4 GiB end three or four visits down, RAM and the
 * BIOS one or two, unassigned space after one.
 *
 * So commit counts the visits that lookups of PMT_LEVEL_SAMPLES addresses
 * inside the sections (a byte of each section in turn, as lookups land) and
 * as many spread over their span will make in the compacted map. For each
 * set it picks the number of visits by which 7/8 of them have ended, when
 * more than 1/PMT_LEVEL_SHARE end before it. Every leaf met on a visit v
 * before its target points to a chain of nodes that ends there: the span's
 * target for unassigned space and for big sections, of at least the span
 * over the number of sections (lookups over the span meet them more often
 * than those inside), the inside target for the others and for sub-pages.
 * Each chain node's entries all point to the next, the last one's are the
 * leaf (a leaf with fewer levels below it than its chain needs stays as it
 * is). Lookups that met the leaf get the same answer and the same final
 * check, on the target visit. The chain nodes are shared, one per distinct leaf and length, at
 * most PMT_LEVEL_NODES of them; a map that would need more is left as it
 * is. Compaction's counting pass finds the leaves and its copying pass
 * writes the entries, so levelling walks no tree of its own.
 *
 * The samples also tell which kind of leaf lookups inside the sections
 * end on: when at least 1/PMT_MIXED_SHARE of them end on each, sections
 * and sub-pages, the kind would mispredict as the exit did, and the map's
 * lookups resolve both kinds without a branch (map_lookup_mixed()).
 */
#define PMT_LEVEL_SAMPLE_BITS	10
#define PMT_LEVEL_SAMPLES		BIT(PMT_LEVEL_SAMPLE_BITS)
#define PMT_LEVEL_SHARE		8
#define PMT_LEVEL_NODES		64
#define PMT_MIXED_SHARE		16
#define PMT_MAX_LEVELS		DIV_ROUND_UP(64 - PMT_PAGE_SHIFT_MIN, \
						     PMT_NODE_BITS)

/**
 * struct pmt_levelling - the chains of nodes commit adds before leaves
 * @depth: the visit that lookups inside the sections end on: those that
 *         meet the leaf of a section smaller than @big or of a sub-page on
 *         a visit v < @depth go through a chain of @depth - v nodes; 0 for
 *         none.
 * @first: index in the copy of the node that stands for @leaves[0]; the
 *         others follow.
 * @nr_nodes: chain nodes found.
 * @last: the chain node level_leaf() returned last.
 * @big: sections of this size or more, and unassigned space, are levelled
 *       to @span_depth rather than @depth.
 * @span_depth: the visit that lookups over the span end on, the same way
 *              for their leaves; 0 for none.
 * @leaves: the leaf entry each chain node leads to.
 * @lengths: how many visits each chain node adds: 1 for a node whose
 *           entries are the leaf, n for one whose entries point to the
 *           node of the same leaf and length n - 1.
 */
struct pmt_levelling {
	unsigned int depth;
	u32 first;
	u32 nr_nodes;
	u32 last;
	u64 big;
	unsigned int span_depth;
	u32 leaves[PMT_LEVEL_NODES];
	u8 lengths[PMT_LEVEL_NODES];
};

/**
 * struct pmt_store - the arrays that maps an update made share
 * @refs: one per map that uses it.
 * @bytes: bytes of its allocation, arrays and room included.
 * @cap_nodes: nodes @nodes has room for.
 * @cap_slots: slots @slots has room for.
 * @cap_subpages: sub-pages @subpages has room for.
 * @cap_pieces: pieces @pieces has room for.
 * @cap_tables: bytes @tables has room for.
 * @nr_nodes: nodes written, by the newest map: the next one appends.
 * @nr_slots: slots written.
 * @nr_subpages: sub-pages written.
 * @nr_pieces: pieces written.
 * @table_bytes: table bytes written.
 * @nr_primary: the slots the full build wrote, one per index.
 * @table_one: in a mixed map's store, where its table of one byte of 1
 *             lies, which the leaves of its slots read.
 * @nodes: nodes.
 * @slots: section slots (struct pmt_map).
 * @slot_index: the index of each slot from @nr_primary.
 * @leaves: in a mixed map's store, the leaf of each slot as a sub-page
 *          (struct pmt_map), right before @subpages; else NULL.
 * @subpages: sub-pages.
 * @pieces: pieces.
 * @tables: sub-page tables.
 * @lv: the full build's levelling: its targets and chains.
 *
 * Nothing a map can reach is ever written again: an update writes past
 * what the maps before it use and publishes a map of its own that uses
 * more. The store goes with its last map.
 */
struct pmt_store {
	refcount_t refs;
	size_t bytes;
	u32 cap_nodes, cap_slots, cap_subpages, cap_pieces, cap_tables;
	u32 nr_nodes, nr_slots, nr_subpages, nr_pieces, table_bytes;
	u32 nr_primary;
	u32 table_one;
	u32 *nodes;
	struct pmt_section *slots;
	u32 *slot_index;
	struct pmt_subpage *leaves;
	struct pmt_subpage *subpages;
	struct pmt_piece *pieces;
	u8 *tables;
	struct pmt_levelling lv;
};

/* What a store keeps for @n: an eighth and 64 more, for updates to come. */
static u64 store_room(u64 n)
{
	return n + n / 8 + 64;
}

/*
 * Write @sect's leaf as a sub-page (struct pmt_map, @leaves) to @leaf: its
 * range, the one byte of 1 at @table_one and slot @slot as base.
 */
static void leaf_as_subpage(struct pmt_subpage *leaf,
			    const struct pmt_section *sect, u32 slot,
			    u32 table_one)
{
	leaf->start = sect->start;
	leaf->size = sect->size;
	leaf->first = 0;
	leaf->table = table_one;
	leaf->base = slot;
	leaf->count = 0;
	leaf->shift = PMT_LEAF_SHIFT;
}

/*
 * Write section @sect, of index @index, to slot @slot of @store, past
 * what any map uses, with its leaf in a mixed map's store; returns @slot.
 */
static u32 store_copy(struct pmt_store *store, u32 slot,
		      const struct pmt_section *sect, u32 index)
{
	store->slots[slot] = *sect;
	store->slot_index[slot - store->nr_primary] = index;
	if (store->leaves)
		leaf_as_subpage(&store->leaves[slot], sect, slot,
				store->table_one);
	return slot;
}

/**
 * struct pmt_compactor - state of one commit
 * @pm: the pending map being built from.
 * @ord: the indexes of @pm's sections in address order.
 * @nr_ord: the number of indexes in @ord: @pm's sections.
 * @lv: the leaves to level.
 * @mixed: lookups inside the sections end on both kinds of leaves.
 * @nodes: the copy's nodes; NULL while only counting.
 * @sections: the copy's sections; NULL while only counting.
 * @subpages: the copy's sub-pages; NULL while only counting.
 * @pieces: the copy's pieces; NULL while only counting.
 * @tables: the copy's sub-page tables; NULL while only counting.
 * @leaves: a mixed copy's leaves of its slots (struct pmt_map); else NULL.
 * @nr_nodes: nodes the copy holds so far.
 * @nr_subpages: sub-pages the copy holds so far.
 * @nr_pieces: pieces the copy holds so far.
 * @table_bytes: bytes of sub-page tables the copy holds so far.
 * @table_budget: the most bytes its sub-page tables may take.
 * @max_depth: the most nodes a lookup of the copy visits.
 * @skip_entries: entries of the copy that skip more than one level.
 * @skipped_levels: levels they skip beyond one each, added up.
 * @steps: nodes built and sections walked, for pmt_step().
 * @err: -EINTR once a fatal signal stopped the walk, else 0.
 * @slots: leaves and pieces name the slots of @pm's sections
 *         (struct pmt_pending_section), whose data this array holds, rather
 *         than their indexes: an incremental commit's; NULL for a full
 *         build's.
 * @chains_fixed: levelling uses the chains @lv has and adds none.
 * @store: with @slots, the store an incremental commit appends to: a
 *         sub-page whose sections' slots lie too far apart for a table
 *         gets copies of them in consecutive new slots from @next_slot.
 * @next_slot: the next slot of @store to append.
 */
struct pmt_compactor {
	const struct pmt_pending *pm;
	const u32 *ord;
	u32 nr_ord;
	const struct pmt_section *slots;
	bool chains_fixed;
	struct pmt_store *store;
	u32 next_slot;
	struct pmt_levelling lv;
	bool mixed;
	u32 *nodes;
	struct pmt_section *sections;
	struct pmt_subpage *subpages;
	struct pmt_piece *pieces;
	u8 *tables;
	struct pmt_subpage *leaves;
	u32 nr_nodes;
	u32 nr_subpages;
	u32 nr_pieces;
	u32 table_bytes;
	u32 table_budget;
	u32 max_depth;
	u32 skip_entries;
	u32 skipped_levels;
	unsigned int steps;
	int err;
};

/*
 * Sub-page tables may take up to this much of a map, or twice its sections'
 * bytes if that is more: a table costs up to a page, and a hostile map of
 * many two-piece pages must not grow by a page each.
 */
#define PMT_TABLE_BUDGET_MIN	SZ_64K

/* What leaves and pieces name for section @k of @pc's address order. */
static inline u32 ord_slot(const struct pmt_compactor *pc, u32 k)
{
	return pc->slots ? pc->pm->sections[pc->ord[k]].slot : pc->ord[k];
}

/* The section @k of @pc's address order. */
static inline const struct pmt_section *ord_sect(const struct pmt_compactor *pc,
						 u32 k)
{
	return &pc->pm->sections[pc->ord[k]].sect;
}

static inline u64 ord_first_page(const struct pmt_compactor *pc, u32 k)
{
	return ord_sect(pc, k)->start >> pc->pm->page_shift;
}

static inline u64 ord_last_page(const struct pmt_compactor *pc, u32 k)
{
	return sect_last(ord_sect(pc, k)) >> pc->pm->page_shift;
}

/*
 * Whether section @k of the order covers every byte of the
 * level_span(@level) pages from page @base.
 */
static bool ord_covers(const struct pmt_compactor *pc, u32 k, u64 base,
		       unsigned int level)
{
	const struct pmt_section *sect = ord_sect(pc, k);
	unsigned int shift = pc->pm->page_shift;
	u64 last = (base + level_span(level) - 1) << shift | (BIT_ULL(shift) - 1);

	return sect->start <= base << shift && sect_last(sect) >= last;
}

/*
 * The first of the sections @a..@b - 1 of the order that reaches page @page
 * or beyond. Their pages rise with their index: sections do not overlap.
 */
static u32 ord_from(const struct pmt_compactor *pc, u32 a, u32 b, u64 page)
{
	u32 mid;

	while (a < b) {
		mid = a + (b - a) / 2;
		if (ord_last_page(pc, mid) < page)
			a = mid + 1;
		else
			b = mid;
	}
	return a;
}

/* The first of the sections @a..@b - 1 that starts past page @page. */
static u32 ord_past(const struct pmt_compactor *pc, u32 a, u32 b, u64 page)
{
	u32 mid;

	while (a < b) {
		mid = a + (b - a) / 2;
		if (ord_first_page(pc, mid) <= page)
			a = mid + 1;
		else
			b = mid;
	}
	return a;
}

/*
 * The slots of a node at @level from page @base that sections @a..@b - 1
 * (which all reach into it) touch: *@lo to *@hi, each touched in between.
 */
static void ord_slots(const struct pmt_compactor *pc, u32 a, u32 b,
		      unsigned int level, u64 base, unsigned int *lo,
		      unsigned int *hi)
{
	unsigned int shift = (level - 1) * PMT_NODE_BITS;
	u64 first = max(ord_first_page(pc, a), base);
	u64 last = min(ord_last_page(pc, b - 1),
		       base + level_span(level) - 1);

	*lo = (first - base) >> shift;
	*hi = (last - base) >> shift;
}

/* Fill the table of a sub-page's @count pieces, sorted by offset. */
static void fill_table(u8 *table, const struct pmt_piece *pieces, u32 count,
		       u32 base, unsigned int shift, unsigned int page_shift)
{
	u32 i, k;

	memset(table, 0, BIT(page_shift - shift));
	for (i = 0; i < count; i++)
		for (k = pieces[i].start >> shift;
		     k <= (u32)pieces[i].last >> shift; k++)
			table[k] = pieces[i].section - base + 1;
}

/* The piece of section @k of the order inside page @page. */
static void ord_piece(const struct pmt_compactor *pc, u32 k, u64 page,
		      struct pmt_piece *piece)
{
	const struct pmt_section *sect = ord_sect(pc, k);
	unsigned int shift = pc->pm->page_shift;
	u64 first = page << shift, last = first + (BIT_ULL(shift) - 1);

	piece->start = max(sect->start, first) - first;
	piece->last = min(sect_last(sect), last) - first;
	piece->section = ord_slot(pc, k);
}

/*
 * The sub-page of page @page, where sections @a..@b - 1 of the order lie
 * (pieces of them). Its table's shift is the largest that its pieces' ends
 * fall on; see PMT_SUBPAGE_SEARCH.
 */
static u32 build_subpage(struct pmt_compactor *pc, u64 page, u32 a, u32 b)
{
	unsigned int page_shift = pc->pm->page_shift, shift = page_shift;
	u32 i, lo = U32_MAX, hi = 0, size = 0;
	struct pmt_piece piece, *pieces;
	struct pmt_subpage *out;
	bool copies;

	for (i = a; i < b; i++) {
		ord_piece(pc, i, page, &piece);
		lo = min(lo, piece.section);
		hi = max(hi, piece.section);
		if (piece.start)
			shift = min_t(unsigned int, shift, __ffs(piece.start));
		if (piece.last + 1U < BIT(page_shift))
			shift = min_t(unsigned int, shift,
				      __ffs(piece.last + 1U));
	}
	/* An update's: copies in a row rather than a search (@pc->store). */
	copies = pc->store && hi - lo >= PMT_SUBPAGE_TABLE_SPAN &&
		 b - a < PMT_SUBPAGE_TABLE_SPAN;
	if (copies) {
		lo = pc->next_slot;
		hi = lo + (b - a - 1);
		pc->next_slot += b - a;
	}
	if (hi - lo < PMT_SUBPAGE_TABLE_SPAN) {
		size = BIT(page_shift - shift);
		if (size > pc->table_budget - pc->table_bytes)
			size = 0;
	}
	if (!size)
		shift = PMT_SUBPAGE_SEARCH;
	if (pc->subpages) {
		out = &pc->subpages[pc->nr_subpages];
		out->start = page << page_shift;
		out->size = BIT_ULL(page_shift);
		out->first = pc->nr_pieces;
		out->count = b - a;
		out->table = pc->table_bytes;
		out->base = lo;
		out->shift = shift;
		pieces = &pc->pieces[pc->nr_pieces];
		for (i = a; i < b; i++) {
			ord_piece(pc, i, page, &pieces[i - a]);
			if (copies)
				pieces[i - a].section =
					store_copy(pc->store, lo + (i - a),
						   ord_sect(pc, i), pc->ord[i]);
		}
		if (size)
			fill_table(&pc->tables[pc->table_bytes], pieces, b - a,
				   lo, shift, page_shift);
	}
	pc->nr_pieces += b - a;
	pc->table_bytes += size;
	return mk_subpage_entry(pc->nr_subpages++);
}

/*
 * The leaf that stands for the level_span(@level) pages from page @base,
 * where sections @a..@b - 1 of the order lie, when it needs no node: no
 * section (0), one (its leaf, whatever part it covers: a lookup checks the
 * section's range), or, without compaction (a test-only switch), one that
 * covers it all. PMT_NIL when it needs a node or, at level 0, a sub-page.
 */
static u32 build_leaf(const struct pmt_compactor *pc, unsigned int level,
		      u64 base, u32 a, u32 b)
{
	if (a == b)
		return 0;
	if (b - a == 1 &&
	    (pmt_compaction || ((pmt_early_leaves || !level) &&
				ord_covers(pc, a, base, level))))
		return mk_section_entry(ord_slot(pc, a));
	return PMT_NIL;
}

/* Count an entry of the copy in the shape counters of @pc. */
static void count_entry(struct pmt_compactor *pc, u32 entry)
{
	if (entry_skip(entry) > 1) {
		pc->skip_entries++;
		pc->skipped_levels += entry_skip(entry) - 1;
	}
}

/*
 * The nodes of the copy a lookup of @page will visit. A node left out for
 * its single child leads to that child whatever the page. *@section is the
 * section of the leaf the walk ends on, or PMT_MIXED for a sub-page.
 */
static unsigned int build_visits(const struct pmt_compactor *pc, u64 page,
				 u32 *section)
{
	unsigned int level = pc->pm->levels, visits = 0, lo, hi, slot;
	u32 a = 0, b = pc->nr_ord, leaf;
	u64 base = 0;

	for (;;) {
		leaf = build_leaf(pc, level, base, a, b);
		if (leaf != PMT_NIL) {
			*section = entry_ptr(leaf);
			return visits;
		}
		if (!level) {
			*section = PMT_MIXED;
			return visits;
		}
		ord_slots(pc, a, b, level, base, &lo, &hi);
		if (pmt_compaction && lo == hi) {
			slot = lo;
		} else {
			visits++;
			slot = slot_of(page, level - 1);
		}
		level--;
		base += slot * level_span(level);
		a = ord_from(pc, a, b, base);
		b = ord_past(pc, a, b, base + level_span(level) - 1);
	}
}

/* The first and last byte the sections of @pc->pm span; false for none. */
static bool build_span(const struct pmt_compactor *pc, u64 *first, u64 *last)
{
	if (!pc->nr_ord)
		return false;
	*first = ord_sect(pc, 0)->start;
	*last = sect_last(ord_sect(pc, pc->nr_ord - 1));
	return true;
}

/*
 * Set *@addr to inside sample @i: a byte of a section, sections in turn.
 * Return: false for a sample that falls on a hole, which has none.
 */
static bool inside_sample(const struct pmt_pending *pm, u32 i, u64 *addr)
{
	const struct pmt_section *sect;

	sect = &pm->sections[1 + i % (pm->nr_sections - 1)].sect;
	*addr = sect->start +
		mul_u64_u32_shr(sect->size - 1, hash_32(i, 32), 32);
	return sect->size;
}

/*
 * The number of visits by which 7/8 of the @n samples counted in @hist end,
 * or 0 when fewer than 1/8 end before it (nothing worth levelling).
 */
static unsigned int level_target(const unsigned int *hist, unsigned int n,
				 unsigned int levels)
{
	unsigned int d, ended = 0;

	for (d = 0; d <= levels; d++) {
		if ((ended + hist[d]) * PMT_LEVEL_SHARE >=
		    n * (PMT_LEVEL_SHARE - 1))
			break;
		ended += hist[d];
	}
	if (d < 2 || ended * PMT_LEVEL_SHARE < n)
		return 0;
	return d;
}

/*
 * Whether levelling aims the leaf of @section (PMT_MIXED for a sub-page) at
 * the span's target: unassigned space and big sections.
 */
static bool level_span_leaf(const struct pmt_compactor *pc, u32 section)
{
	u64 size;

	if (section == PMT_MIXED)
		return false;
	size = pc->slots ? pc->slots[section].size :
	       pc->pm->sections[section].sect.size;
	return size - 1 >= pc->lv.big - 1;
}

/*
 * Set the visits that levelling makes lookups end on (@pc->lv.depth and
 * @pc->lv.span_depth, 0 for none) and @pc->mixed, from samples inside the
 * sections and over their span. Lookups over the span that alias into a
 * section's leaf, through a node left out for its single child, end where
 * that leaf is levelled to: the span's samples count them there.
 */
static void level_depth(struct pmt_compactor *pc)
{
	unsigned int inside[PMT_MAX_LEVELS + 1] = { 0 };
	unsigned int span[PMT_MAX_LEVELS + 1] = { 0 };
	unsigned int subpages = 0, samples = 0, fewer, visits;
	u64 first, last, addr;
	u32 i, frac, section;

	if (!build_span(pc, &first, &last))
		return;
	/* A section that lookups over the span meet more than those inside. */
	pc->lv.big = div_u64(last - first, pc->pm->nr_held) + 1;
	for (i = 0; i < PMT_LEVEL_SAMPLES; i++) {
		if (!inside_sample(pc->pm, i, &addr))
			continue;
		inside[build_visits(pc, addr >> pc->pm->page_shift,
				      &section)]++;
		subpages += section == PMT_MIXED;
		samples++;
	}
	/* The fewer kind of leaf, sections or sub-pages, inside sections. */
	fewer = min(subpages, samples - subpages);
	pc->mixed = samples && fewer * PMT_MIXED_SHARE >= samples;
	pc->lv.depth = level_target(inside, samples, pc->pm->levels);
	for (i = 0; i < PMT_LEVEL_SAMPLES; i++) {
		/* One address in each 1/PMT_LEVEL_SAMPLES of the span. */
		frac = i << (32 - PMT_LEVEL_SAMPLE_BITS) |
		       hash_32(i, 32 - PMT_LEVEL_SAMPLE_BITS);
		addr = first + mul_u64_u32_shr(last - first, frac, 32);
		visits = build_visits(pc, addr >> pc->pm->page_shift,
				      &section);
		if (!level_span_leaf(pc, section))
			visits = max(visits, pc->lv.depth);
		span[visits]++;
	}
	pc->lv.span_depth = level_target(span, PMT_LEVEL_SAMPLES,
					 pc->pm->levels);
}

/* The chain node of @leaf that adds @length visits, or PMT_LEVEL_NODES. */
static u32 level_find(const struct pmt_levelling *lv, u32 leaf,
		      unsigned int length)
{
	u32 k;

	for (k = 0; k < lv->nr_nodes; k++)
		if (lv->leaves[k] == leaf && lv->lengths[k] == length)
			return k;
	return PMT_LEVEL_NODES;
}

/*
 * The published entry that points to chain node @k, which adds @length
 * visits. Every entry of a chain node is alike, so any shift indexes it;
 * this one places the node at level @length - 1, so that the levels of a
 * chain run down to 0 as the tree's do (the debugfs dump prints skips from
 * them).
 */
static u32 level_entry(const struct pmt_compactor *pc, u32 k,
		       unsigned int length)
{
	return (pc->lv.first + k) << PMT_MAP_PTR_SHIFT |
	       (pc->pm->page_shift + (length - 1) * PMT_NODE_BITS);
}

/*
 * The published entry that stands for @leaf, met on visit @visit in a node
 * of the copy whose entries are at @level: an entry of the chain that ends
 * on visit @pc->lv.depth, or 0 for the leaf itself (also when the chain
 * would need more levels than lie below @level). While counting, it notes
 * the chain nodes needed; past PMT_LEVEL_NODES of them it turns levelling
 * off.
 */
static u32 level_leaf(struct pmt_compactor *pc, u32 leaf, unsigned int level,
		      unsigned int visit)
{
	struct pmt_levelling *lv = &pc->lv;
	unsigned int depth, length, n;
	u32 k = 0;

	/* Unassigned space and big sections: where lookups over the span go. */
	if (level_span_leaf(pc, entry_is_subpage(leaf) ? PMT_MIXED :
			    entry_ptr(leaf)))
		depth = lv->span_depth;
	else
		depth = lv->depth;
	if (!depth || visit >= depth || depth - visit > level)
		return 0;
	length = depth - visit;
	/* A node's entries often repeat a leaf: try the last chain first. */
	if (lv->nr_nodes && lv->leaves[lv->last] == leaf &&
	    lv->lengths[lv->last] == length)
		return level_entry(pc, lv->last, length);
	/* A chain is made whole: its longest node stands for all. */
	k = level_find(lv, leaf, length);
	if (k < lv->nr_nodes) {
		lv->last = k;
		return level_entry(pc, k, length);
	}
	if (pc->nodes || pc->chains_fixed)
		return 0;	/* a full build's: cannot happen, counted before */
	for (n = 1; n <= length; n++) {
		k = level_find(lv, leaf, n);
		if (k < lv->nr_nodes)
			continue;
		if (lv->nr_nodes == PMT_LEVEL_NODES) {
			lv->depth = 0;
			lv->span_depth = 0;
			return 0;
		}
		k = lv->nr_nodes++;
		lv->leaves[k] = leaf;
		lv->lengths[k] = n;
	}
	lv->last = k;
	return level_entry(pc, k, length);
}

/*
 * Build the copy of the level_span(@level) pages from page @base, where
 * sections @a..@b - 1 of the order lie, below @depth nodes of the copy,
 * and return the entry that stands for it (in a pending map's form). A
 * range of one section is that section's leaf; a page of several, a
 * sub-page. A node with a single child that sections touch is left out:
 * the returned entry skips it, or is the child leaf itself. Each node is
 * built once, and each section is met once per level its range reaches.
 */
static u32 build_entry(struct pmt_compactor *pc, unsigned int level,
		       u64 base, u32 a, u32 b, unsigned int depth)
{
	unsigned int i, lo, hi;
	u32 copy, child, chain, ca, cb, *out = NULL;
	u64 span, cbase;

	child = build_leaf(pc, level, base, a, b);
	if (child != PMT_NIL)
		return child;
	if (!level)
		return build_subpage(pc, base, a, b);
	if (!pc->err)
		pc->err = pmt_step(&pc->steps);
	if (pc->err)
		return 0;
	ord_slots(pc, a, b, level, base, &lo, &hi);
	span = level_span(level - 1);
	if (pmt_compaction && lo == hi) {
		child = build_entry(pc, level - 1, base + lo * span, a, b,
				    depth);
		if (!entry_skip(child))
			return child;
		return mk_node_entry(entry_ptr(child), entry_skip(child) + 1);
	}
	/* Parents come before their children: lookups walk forward. */
	copy = pc->nr_nodes++;
	pc->max_depth = max(pc->max_depth, depth + 1);
	if (pc->nodes)
		out = &pc->nodes[(size_t)copy * PMT_NODE_SLOTS];
	ca = a;
	for (i = 0; i < PMT_NODE_SLOTS; i++) {
		cbase = base + i * span;
		/* The sections of slot i: a section may reach into the next. */
		while (ca < b && ord_last_page(pc, ca) < cbase)
			ca++;
		for (cb = ca; cb < b && ord_first_page(pc, cb) <= cbase + span - 1;)
			cb++;
		child = build_entry(pc, level - 1, cbase, ca, cb, depth + 1);
		chain = entry_skip(child) ? 0 :
			level_leaf(pc, child, level - 1, depth + 1);
		if (out && chain) {
			out[i] = chain;
			/* From the entries' level down to the chain's first. */
			count_entry(pc, mk_node_entry(0, level - 1 -
				(map_entry_shift(chain) - pc->pm->page_shift) /
				PMT_NODE_BITS));
		} else if (out) {
			out[i] = publish_entry(child, level - 1,
					       pc->pm->page_shift);
			count_entry(pc, child);
		}
	}
	return mk_node_entry(copy, 1);
}

static void store_put(struct pmt_store *store)
{
	if (store && refcount_dec_and_test(&store->refs))
		kvfree(store);
}

/*
 * Allocate a store with room for @nr_nodes nodes, @nr_sections slots (and
 * their leaves, for a map @out->mixed), @nr_subpages sub-pages, @nr_pieces
 * pieces and @table_bytes of tables and for the updates to come
 * (store_room()), and point @out's arrays at it. Returns the store, or an
 * ERR_PTR(): -ENOSPC past @max_bytes, -ENOMEM.
 */
static struct pmt_store *store_alloc(u32 nr_nodes, u32 nr_sections,
				     u32 nr_subpages, u32 nr_pieces,
				     u32 table_bytes, u64 max_bytes,
				     struct pmt_compactor *out)
{
	u64 caps[5] = {
		store_room(nr_nodes), store_room(nr_sections),
		store_room(nr_subpages), store_room(nr_pieces),
		store_room(table_bytes),
	};
	size_t size = ALIGN(sizeof(struct pmt_store), PMT_MAP_ALIGN);
	size_t offsets[7];
	struct pmt_store *store;
	char *base;
	int i;

	for (i = 0; i < 4; i++)
		caps[i] = min_t(u64, caps[i], PMT_PTR_MAX);
	caps[4] = min_t(u64, caps[4], U32_MAX / 2);
	offsets[0] = size;
	size = size_add(size, array_size(caps[0], PMT_NODE_BYTES));
	offsets[1] = size;
	size = size_add(size, array_size(caps[1], sizeof(struct pmt_section)));
	offsets[2] = size;
	size = size_add(size, array_size(caps[1] - nr_sections, sizeof(u32)));
	size = ALIGN(size, 8);
	offsets[6] = size;
	if (out->mixed)
		size = size_add(size, array_size(caps[1],
						 sizeof(struct pmt_subpage)));
	offsets[3] = size;
	size = size_add(size, array_size(caps[2], sizeof(struct pmt_subpage)));
	offsets[4] = size;
	size = size_add(size, array_size(caps[3], sizeof(struct pmt_piece)));
	offsets[5] = size;
	size = size_add(size, caps[4]);
	if (size == SIZE_MAX ||
	    size_add(size, sizeof(struct pmt_map)) > max_bytes)
		return ERR_PTR(-ENOSPC);
	base = pmt_alloc(size);
	if (!base)
		return ERR_PTR(-ENOMEM);
	store = (struct pmt_store *)base;
	memset(store, 0, sizeof(*store));
	refcount_set(&store->refs, 1);
	store->bytes = size;
	store->cap_nodes = caps[0];
	store->cap_slots = caps[1];
	store->cap_subpages = caps[2];
	store->cap_pieces = caps[3];
	store->cap_tables = caps[4];
	store->nodes = (u32 *)(base + offsets[0]);
	store->slots = (struct pmt_section *)(base + offsets[1]);
	store->slot_index = (u32 *)(base + offsets[2]);
	if (out->mixed)
		store->leaves = (struct pmt_subpage *)(base + offsets[6]);
	store->subpages = (struct pmt_subpage *)(base + offsets[3]);
	store->pieces = (struct pmt_piece *)(base + offsets[4]);
	store->tables = (u8 *)(base + offsets[5]);
	out->nodes = store->nodes;
	out->sections = store->slots;
	out->leaves = store->leaves;
	out->subpages = store->subpages;
	out->pieces = store->pieces;
	out->tables = store->tables;
	return store;
}

/* Note in @store what the full build of @map, with levelling @lv, wrote. */
static void store_init(struct pmt_store *store, struct pmt_map *map,
		       const struct pmt_levelling *lv)
{
	store->nr_nodes = map->nr_nodes;
	store->nr_slots = map->nr_slots;
	store->nr_primary = map->nr_primary;
	store->nr_subpages = map->nr_subpages;
	store->nr_pieces = map->nr_pieces;
	store->table_bytes = map->table_bytes + map->mixed;
	store->lv = *lv;
	map->slot_index = store->slot_index;
}

/*
 * Whether lookups of many addresses in @map walk them in batches
 * (map_many_batched()): its nodes and sections outgrow PMT_BATCH_BYTES.
 */
static bool map_walks_batched(const struct pmt_map *map)
{
	return (size_t)map->nr_nodes * PMT_NODE_BYTES +
	       (size_t)map->nr_slots * sizeof(struct pmt_section) >=
	       PMT_BATCH_BYTES;
}

/*
 * Allocate a map with room for @nr_nodes nodes, @nr_sections sections (and
 * their leaves, for a map @out->mixed), @nr_subpages sub-pages and
 * @nr_pieces pieces, all in one allocation, or,
 * with @spare, its header alone and a store (store_alloc()) for the rest,
 * and point @out's arrays (and the map's) at them. Returns the map, or an
 * ERR_PTR(): -ENOSPC when it would take more than @max_bytes, -ENOMEM.
 */
static struct pmt_map *map_alloc(u32 nr_nodes, u32 nr_sections,
				 u32 nr_subpages, u32 nr_pieces,
				 u32 table_bytes, u64 max_bytes, bool spare,
				 struct pmt_compactor *out)
{
	size_t size = ALIGN(sizeof(struct pmt_map), PMT_MAP_ALIGN);
	struct pmt_store *store;
	size_t offsets[6];
	struct pmt_map *map;
	char *base;

	if (spare) {
		store = store_alloc(nr_nodes, nr_sections, nr_subpages,
				    nr_pieces, table_bytes, max_bytes, out);
		if (IS_ERR(store))
			return ERR_CAST(store);
		map = kzalloc(sizeof(*map), PMT_GFP);
		if (!map) {
			store_put(store);
			return ERR_PTR(-ENOMEM);
		}
		map->store = store;
		map->bytes = sizeof(*map) + store->bytes;
		goto arrays;
	}
	offsets[0] = size;
	size = size_add(size, array_size(nr_nodes, PMT_NODE_BYTES));
	offsets[1] = size;
	size = size_add(size, array_size(nr_sections,
					 sizeof(struct pmt_section)));
	offsets[5] = size;
	if (out->mixed)
		size = size_add(size, array_size(nr_sections,
						 sizeof(struct pmt_subpage)));
	offsets[2] = size;
	size = size_add(size, array_size(nr_subpages,
					 sizeof(struct pmt_subpage)));
	offsets[3] = size;
	size = size_add(size, array_size(nr_pieces,
					 sizeof(struct pmt_piece)));
	offsets[4] = size;
	size = size_add(size, table_bytes);
	if (size == SIZE_MAX || size > max_bytes)
		return ERR_PTR(-ENOSPC);
	base = pmt_alloc(size);
	if (!base)
		return ERR_PTR(-ENOMEM);
	map = (struct pmt_map *)base;
	memset(map, 0, sizeof(*map));
	map->bytes = size;
	out->nodes = (u32 *)(base + offsets[0]);
	out->sections = (struct pmt_section *)(base + offsets[1]);
	if (out->mixed)
		out->leaves = (struct pmt_subpage *)(base + offsets[5]);
	out->subpages = (struct pmt_subpage *)(base + offsets[2]);
	out->pieces = (struct pmt_piece *)(base + offsets[3]);
	out->tables = (u8 *)(base + offsets[4]);
arrays:
	map->retire_bytes = map->bytes;
	map->nr_nodes = nr_nodes;
	map->nr_sections = nr_sections;
	map->nr_primary = nr_sections;
	map->nr_slots = nr_sections;
	map->nr_subpages = nr_subpages;
	map->nr_pieces = nr_pieces;
	map->table_bytes = table_bytes;
	map->batched = map_walks_batched(map);
	map->nodes = out->nodes;
	map->sections = out->sections;
	map->subpages = out->subpages;
	map->pieces = out->pieces;
	map->tables = out->tables;
	if (out->leaves) {
		map->leaves = out->leaves;
		map->leaf_subpages = out->subpages - out->leaves;
	}
	return map;
}

/*
 * Make @map, built by @pc, a mixed map: its table of one byte of 1 after
 * the others, and each slot's leaf as a sub-page (struct pmt_map).
 */
static void mixed_leaves(struct pmt_compactor *pc, struct pmt_map *map)
{
	u32 i;

	pc->tables[pc->table_bytes] = 1;
	for (i = 0; i < map->nr_slots; i++) {
		leaf_as_subpage(&pc->leaves[i], &pc->sections[i], i,
				pc->table_bytes);
		if (!(i % PMT_STEPS_PER_RESCHED))
			cond_resched();
	}
	if (map->store)
		map->store->table_one = pc->table_bytes;
	map->nr_subpages = pc->nr_subpages;
	map->table_bytes = pc->table_bytes;
	map->mixed = true;
	map->kind = PMT_KIND_MIXED;
}

/* Fill the chain nodes of @pc's copy. */
static void level_nodes(struct pmt_compactor *pc)
{
	const struct pmt_levelling *lv = &pc->lv;
	u32 k, i, entry, *node;

	for (k = 0; k < lv->nr_nodes; k++) {
		if (lv->lengths[k] == 1)
			entry = publish_entry(lv->leaves[k], 0, 0);
		else
			entry = level_entry(pc, level_find(lv, lv->leaves[k],
							   lv->lengths[k] - 1),
					    lv->lengths[k] - 1);
		node = &pc->nodes[(size_t)(lv->first + k) * PMT_NODE_SLOTS];
		for (i = 0; i < PMT_NODE_SLOTS; i++)
			node[i] = entry;
	}
	if (lv->nr_nodes)
		pc->max_depth = max3(pc->max_depth, lv->depth, lv->span_depth);
}

/*
 * Count what the copy of @pc->pm holds, with the leaves levelling needs,
 * and allocate it; an ERR_PTR() on failure.
 */
static struct pmt_map *compact_count(struct pmt_compactor *pc,
				     u64 max_bytes, bool spare)
{
	const struct pmt_pending *pm = pc->pm;
	struct pmt_map *map;

	if (pmt_levelling)
		level_depth(pc);
	pc->table_budget = max_t(u64, PMT_TABLE_BUDGET_MIN,
				 min_t(u64, U32_MAX / 2, 2ULL * pm->nr_sections *
				       sizeof(struct pmt_section)));
	build_entry(pc, pm->levels, 0, 0, pc->nr_ord, 0);
	if (pc->err)
		return ERR_PTR(pc->err);
	if (!pc->lv.depth && !pc->lv.span_depth)
		pc->lv.nr_nodes = 0;
	pc->lv.first = pc->nr_nodes;
	/* A mixed map's leaves read a table of one byte of 1. */
	map = map_alloc(pc->nr_nodes + pc->lv.nr_nodes, pm->nr_sections,
			pc->nr_subpages, pc->nr_pieces,
			pc->table_bytes + pc->mixed, max_bytes, spare, pc);
	if (PTR_ERR_OR_ZERO(map) == -ENOSPC && pc->lv.nr_nodes) {
		/* Levelling is worth less than fitting in the bound. */
		pc->lv.depth = 0;
		pc->lv.span_depth = 0;
		pc->lv.nr_nodes = 0;
		map = map_alloc(pc->nr_nodes, pm->nr_sections,
				pc->nr_subpages, pc->nr_pieces,
				pc->table_bytes + pc->mixed, max_bytes, spare,
				pc);
	}
	return map;
}

/*
 * pmt_commit(), into one allocation or, with @spare, into a store with
 * room for updates (struct pmt_store).
 */
static struct pmt_map *commit_full(const struct pmt_pending *pm,
				   u64 generation, u64 max_bytes, bool spare)
{
	size_t ord_bytes = array_size(max(pm->nr_held, 1U), sizeof(u32));
	struct pmt_compactor pc = { .pm = pm };
	struct pmt_map *map;
	u32 *ord, root, i;
	int err;

	if (ord_bytes > max_bytes)
		return ERR_PTR(-ENOSPC);
	ord = pmt_alloc(ord_bytes);
	if (!ord)
		return ERR_PTR(-ENOMEM);
	err = order_walk(pm, ord, &pc.steps);
	if (err) {
		map = ERR_PTR(err);
		goto out;
	}
	pc.ord = ord;
	pc.nr_ord = pm->nr_held;
	map = compact_count(&pc, max_bytes - ord_bytes, spare);
	if (IS_ERR(map))
		goto out;
	map->generation = generation;
	map->nr_held = pm->nr_held;
	map->page_shift = pm->page_shift;
	map->levels = pm->levels;
	for (i = 0; i < pm->nr_sections; i++) {
		pc.sections[i] = pm->sections[i].sect;
		if (!pc.err)
			pc.err = pmt_step(&pc.steps);
	}
	pc.nr_nodes = 0;
	pc.nr_subpages = 0;
	pc.nr_pieces = 0;
	pc.table_bytes = 0;
	pc.max_depth = 0;
	root = build_entry(&pc, pm->levels, 0, 0, pc.nr_ord, 0);
	if (pc.err) {
		pmt_map_free(map);
		map = ERR_PTR(pc.err);
		goto out;
	}
	count_entry(&pc, root);
	map->root = publish_entry(root, pm->levels, pm->page_shift);
	level_nodes(&pc);
	if (pc.mixed)
		mixed_leaves(&pc, map);
	map->nr_chain = pc.lv.nr_nodes;
	map->chain = pc.lv.first;
	map->max_depth = pc.max_depth;
	map->skip_entries = pc.skip_entries;
	map->skipped_levels = pc.skipped_levels;
	if (map->store)
		store_init(map->store, map, &pc.lv);
out:
	kvfree(ord);
	return map;
}

/**
 * pmt_commit() - compact a pending map into a publishable map
 * @pm: the pending map; it is not changed.
 * @generation: the generation the new map will carry.
 * @max_bytes: the most bytes the new map may take.
 *
 * The copy holds only reachable nodes, in one allocation charged to the
 * caller's memory cgroup, and levels the depth of lookups (level_depth())
 * when that fits in @max_bytes. It builds the tree from the sections in
 * address order (the order tree's walk), twice: once to count, once to
 * fill the allocation; it reschedules as it goes. Besides the new map it
 * allocates 4 bytes per section, for that order, freed before it returns;
 * @max_bytes bounds the two together.
 *
 * Return: the new map, or an ERR_PTR(): -ENOSPC past @max_bytes, -ENOMEM,
 * or -EINTR when a fatal signal stopped it.
 */
struct pmt_map *pmt_commit(const struct pmt_pending *pm,
			   u64 generation, u64 max_bytes)
{
	return commit_full(pm, generation, max_bytes, false);
}
EXPORT_SYMBOL_NS_GPL(pmt_commit, PMT_NS);

/* Sections a changed block may hold for an update to build it from them. */
#define PMT_UPDATE_SMALL	16

/**
 * struct pmt_updater - state of an incremental commit
 * @pc: what builds the small blocks (build_entry()): the store's arrays,
 *      its levelling, leaves that name slots.
 * @old: the map the update starts from.
 * @store: its store, which the new map shares.
 * @pm: the pending map.
 * @ord: the sections of the block being built, in address order.
 * @dirty: the pages the changes reach, @nr_dirty ranges sorted by their
 *         first page, each range's last page raised to the highest last
 *         page of the ranges up to it, so that one binary search tells
 *         whether a change reaches a block.
 * @nr_dirty: ranges in @dirty.
 * @err: -EAGAIN when the store has no room left (a full build instead),
 *       -EINTR when a fatal signal stopped it, else 0.
 */
struct pmt_updater {
	struct pmt_compactor pc;
	const struct pmt_map *old;
	struct pmt_store *store;
	struct pmt_pending *pm;
	u32 ord[PMT_UPDATE_SMALL + 1];
	struct pmt_change *dirty;
	u32 nr_dirty;
	int err;
};

/* The last page of the level_span(@level) pages from page @base. */
static inline u64 block_last(unsigned int level, u64 base)
{
	return base + (level_span(level) - 1);
}

/* Whether a change since the last commit reaches the block. */
static bool upd_dirty(const struct pmt_updater *pu, unsigned int level,
		      u64 base)
{
	u64 last = block_last(level, base);
	u32 lo = 0, hi = pu->nr_dirty, mid;

	/* The ranges that start in or below the block: lo of them. */
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (pu->dirty[mid].first <= last)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo && pu->dirty[lo - 1].last >= base;
}

static int cmp_change(const void *a, const void *b)
{
	const struct pmt_change *x = a, *y = b;

	return x->first < y->first ? -1 : x->first > y->first;
}

/* Fill @pu->dirty from @pm's changes: see struct pmt_updater. */
static void upd_sort_dirty(struct pmt_updater *pu,
			   const struct pmt_pending *pm)
{
	u32 i;

	pu->nr_dirty = pm->nr_changes;
	if (!pu->nr_dirty)
		return;
	memcpy(pu->dirty, pm->changes, pm->nr_changes * sizeof(*pu->dirty));
	sort(pu->dirty, pu->nr_dirty, sizeof(*pu->dirty), cmp_change, NULL);
	for (i = 1; i < pu->nr_dirty; i++)
		pu->dirty[i].last = max(pu->dirty[i].last,
					pu->dirty[i - 1].last);
}

/*
 * Put in @ord the first @max sections of @pm, in address order, that
 * reach into bytes @lo..@hi. Returns how many there are, or @max + 1 for
 * more than @max.
 */
static u32 order_collect(const struct pmt_pending *pm, u64 lo, u64 hi,
			 u32 *ord, u32 max)
{
	const struct pmt_pending_section *ps = pm->sections;
	u32 stack[PMT_ORDER_HEIGHT], n = pm->root, k = 0;
	unsigned int depth = 0;

	for (;;) {
		while (n != PMT_NIL) {
			if (sect_last(&ps[n].sect) < lo) {
				n = ps[n].right;	/* it and its left lie below */
				continue;
			}
			if (WARN_ON_ONCE(depth == PMT_ORDER_HEIGHT))
				return max + 1;
			stack[depth++] = n;
			n = ps[n].left;
		}
		if (!depth)
			break;
		n = stack[--depth];
		if (ps[n].sect.start > hi)
			break;
		if (k == max)
			return max + 1;
		ord[k++] = n;
		n = ps[n].right;
	}
	return k;
}

/* @entry without a levelling chain: the leaf the chain leads to. */
static u32 upd_strip(const struct pmt_updater *pu, u32 entry)
{
	const struct pmt_map *old = pu->old;

	while (map_entry_shift(entry) &&
	       map_entry_ptr(entry) - old->chain < old->nr_chain)
		entry = old->nodes[(size_t)map_entry_ptr(entry) * PMT_NODE_SLOTS];
	return entry;
}

/* Whether @entry points to the node of a block of @level itself. */
static bool upd_node_at(const struct pmt_updater *pu, u32 entry,
			unsigned int level)
{
	return map_entry_shift(entry) &&
	       level == (map_entry_shift(entry) - pu->old->page_shift) /
			PMT_NODE_BITS + 1;
}

/*
 * A page inside the block of node entry @entry: the last page of its
 * lowest section, which the block holds with at least one more, or the
 * page of its lowest sub-page. The entry itself does not say which block
 * a node left out above it stood for.
 */
static u64 upd_node_page(const struct pmt_updater *pu, u32 entry)
{
	const struct pmt_map *old = pu->old;
	const u32 *node;
	u32 i, e;

	while (map_entry_shift(entry)) {
		node = &old->nodes[(size_t)map_entry_ptr(entry) *
				   PMT_NODE_SLOTS];
		for (i = 0; i < PMT_NODE_SLOTS; i++) {
			e = upd_strip(pu, node[i]);
			if (e)
				break;
		}
		entry = e;
	}
	if (map_entry_is_subpage(entry))
		return old->subpages[map_entry_ptr(entry)].start >>
		       old->page_shift;
	return sect_last(&old->sections[map_entry_ptr(entry)]) >>
	       old->page_shift;
}

/*
 * The old entries of the 64 blocks of @level - 1 that make up the block
 * of @level from page @base, whose old entry is @entry.
 */
static void upd_children(const struct pmt_updater *pu, u32 entry,
			 unsigned int level, u64 base, u32 *child)
{
	const struct pmt_map *old = pu->old;
	unsigned int shift = (level - 1) * PMT_NODE_BITS;
	const struct pmt_section *sect;
	u64 first, last;
	u32 i;

	memset(child, 0, PMT_NODE_BYTES);
	entry = upd_strip(pu, entry);
	if (!entry)
		return;
	if (upd_node_at(pu, entry, level)) {
		memcpy(child, &old->nodes[(size_t)map_entry_ptr(entry) *
					  PMT_NODE_SLOTS], PMT_NODE_BYTES);
		return;
	}
	if (map_entry_shift(entry) || map_entry_is_subpage(entry)) {
		/* A node further down, or a sub-page: in one block. */
		first = map_entry_shift(entry) ? upd_node_page(pu, entry) :
			old->subpages[map_entry_ptr(entry)].start >>
			old->page_shift;
		child[((first - base) >> shift) % PMT_NODE_SLOTS] = entry;
		return;
	}
	/* A section's leaf: in every block the section reaches. */
	sect = &old->sections[map_entry_ptr(entry)];
	first = max(sect->start >> old->page_shift, base);
	last = min(sect_last(sect) >> old->page_shift, block_last(level, base));
	for (i = (first - base) >> shift; i <= (last - base) >> shift; i++)
		child[i] = entry;
}

/*
 * Build the block of @level from page @base from its @n sections, in
 * @pu->ord, as a full build would, into the store: a count, then a fill.
 * Returns its entry in published form.
 */
static u32 upd_build(struct pmt_updater *pu, unsigned int level, u64 base,
		     unsigned int depth, u32 n)
{
	struct pmt_compactor *pc = &pu->pc;
	struct pmt_store *store = pu->store;
	u32 nodes = pc->nr_nodes, subpages = pc->nr_subpages;
	u32 pieces = pc->nr_pieces, tables = pc->table_bytes, entry;
	u32 slots = pc->next_slot;

	pc->ord = pu->ord;
	pc->nr_ord = n;
	pc->nodes = NULL;
	pc->subpages = NULL;
	pc->pieces = NULL;
	pc->tables = NULL;
	build_entry(pc, level, base, 0, n, depth);
	if (pc->err) {
		pu->err = pc->err;
		return 0;
	}
	if (pc->nr_nodes > store->cap_nodes ||
	    pc->nr_subpages > store->cap_subpages ||
	    pc->nr_pieces > store->cap_pieces ||
	    pc->table_bytes > store->cap_tables ||
	    pc->next_slot > store->cap_slots) {
		pu->err = -EAGAIN;
		return 0;
	}
	pc->next_slot = slots;
	pc->nr_nodes = nodes;
	pc->nr_subpages = subpages;
	pc->nr_pieces = pieces;
	pc->table_bytes = tables;
	pc->nodes = store->nodes;
	pc->subpages = store->subpages;
	pc->pieces = store->pieces;
	pc->tables = store->tables;
	entry = build_entry(pc, level, base, 0, n, depth);
	return publish_entry(entry, level, pu->pm->page_shift);
}

/*
 * The entry, in published form, for the block of @level from page @base,
 * whose entry in the old map is @entry, below @depth nodes: the old entry
 * where no change reaches, a build from the sections where few lie, else
 * a node of the blocks below, each done the same way, or the one of them
 * that sections touch (compaction), or none.
 */
static u32 upd_entry(struct pmt_updater *pu, u32 entry, unsigned int level,
		     u64 base, unsigned int depth)
{
	struct pmt_compactor *pc = &pu->pc;
	unsigned int page_shift = pu->pm->page_shift, touched = 0, i, below;
	u32 child[PMT_NODE_SLOTS], only = 0, chain, node, *out;
	u64 span;

	if (pu->err || !upd_dirty(pu, level, base))
		return entry;
	i = order_collect(pu->pm, base << page_shift,
			  block_last(level, base) << page_shift |
			  (BIT_ULL(page_shift) - 1), pu->ord,
			  PMT_UPDATE_SMALL);
	if (i <= PMT_UPDATE_SMALL)
		return upd_build(pu, level, base, depth, i);
	if (!level) {
		pu->err = -EAGAIN;	/* a page of many pieces */
		return 0;
	}
	pu->err = pmt_step(&pc->steps);
	if (pu->err)
		return 0;
	/*
	 * The blocks below are one node further down if this block stays a
	 * node, as it most likely does when it was one; else compaction
	 * leaves it out and they are at its depth.
	 */
	entry = upd_strip(pu, entry);
	below = depth + upd_node_at(pu, entry, level);
	upd_children(pu, entry, level, base, child);
	span = level_span(level - 1);
	for (i = 0; i < PMT_NODE_SLOTS; i++) {
		child[i] = upd_entry(pu, child[i], level - 1, base + i * span,
				     below);
		if (upd_strip(pu, child[i])) {
			touched++;
			only = child[i];
		}
	}
	if (pu->err || touched <= 1)
		return upd_strip(pu, only);
	if (pc->nr_nodes == pu->store->cap_nodes) {
		pu->err = -EAGAIN;
		return 0;
	}
	node = pc->nr_nodes++;
	pc->max_depth = max(pc->max_depth, depth + 1);
	out = &pu->store->nodes[(size_t)node * PMT_NODE_SLOTS];
	for (i = 0; i < PMT_NODE_SLOTS; i++) {
		chain = 0;
		if (!map_entry_shift(child[i]))
			chain = level_leaf(pc, map_entry_ptr(child[i]) <<
					   PMT_ENTRY_PTR_SHIFT |
					   (map_entry_is_subpage(child[i]) ?
					    PMT_ENTRY_SUBPAGE : 0),
					   level - 1, depth + 1);
		out[i] = chain ?: child[i];
	}
	return node << PMT_MAP_PTR_SHIFT |
	       (page_shift + (level - 1) * PMT_NODE_BITS);
}

static int cmp_u32(const void *a, const void *b)
{
	u32 x = *(const u32 *)a, y = *(const u32 *)b;

	return x < y ? -1 : x > y;
}

/*
 * The overrides of the map after @old: @old's, and for each changed index
 * its section's slot in @pm, or 0 for none. @changed holds the @n changed
 * indexes, sorted, without repeats; @out has room for both lists.
 */
static u32 upd_overrides(const struct pmt_map *old,
			 const struct pmt_pending *pm, const u32 *changed,
			 u32 n, struct pmt_override *out)
{
	u32 i = 0, j = 0, k = 0, index;

	while (i < old->nr_overrides || j < n) {
		if (j == n || (i < old->nr_overrides &&
			       old->overrides[i].index < changed[j])) {
			out[k++] = old->overrides[i++];
			continue;
		}
		index = changed[j++];
		if (i < old->nr_overrides && old->overrides[i].index == index)
			i++;
		out[k].index = index;
		out[k++].slot = pm->sections[index].sect.size ?
				pm->sections[index].slot : 0;
	}
	return k;
}

/*
 * The map after @old, built by what changed in @pm since @old was
 * committed, sharing @old's store. ERR_PTR(-EAGAIN) when a full build
 * must do instead: a mixed map, too many changes, no room left in the
 * store, a changed page of many pieces.
 */
static struct pmt_map *commit_incremental(struct pmt_pending *pm,
					  struct pmt_map *old, u64 generation,
					  u64 max_bytes)
{
	struct pmt_store *store = old->store;
	struct pmt_updater *pu;
	struct pmt_map *map = NULL;
	u32 *changed = NULL, n = 0, i, index, slot, nr_slots;
	size_t header;

	if (pm->overflow)
		return ERR_PTR(-EAGAIN);
	pu = kzalloc(sizeof(*pu), PMT_GFP);
	if (pu && pm->nr_changes) {
		changed = kvmalloc_array(pm->nr_changes, sizeof(*changed),
					 PMT_GFP);
		pu->dirty = kvmalloc_array(pm->nr_changes, sizeof(*pu->dirty),
					   PMT_GFP);
	}
	if (!pu || (pm->nr_changes && (!changed || !pu->dirty))) {
		map = ERR_PTR(-ENOMEM);
		goto out;
	}
	upd_sort_dirty(pu, pm);
	order_flush_run(pm);
	/* The changed indexes, once each, and a slot for each new section. */
	for (i = 0; i < pm->nr_changes; i++)
		changed[i] = pm->changes[i].index;
	if (pm->nr_changes)
		sort(changed, pm->nr_changes, sizeof(*changed), cmp_u32, NULL);
	nr_slots = store->nr_slots;
	for (i = 0; i < pm->nr_changes; i++) {
		index = changed[i];
		if (n && changed[n - 1] == index)
			continue;
		changed[n++] = index;
		if (!pm->sections[index].sect.size)
			continue;
		if (nr_slots == store->cap_slots) {
			map = ERR_PTR(-EAGAIN);
			goto out;
		}
		slot = store_copy(store, nr_slots++,
				  &pm->sections[index].sect, index);
		pm->sections[index].slot = slot;
	}
	pu->old = old;
	pu->store = store;
	pu->pm = pm;
	pu->pc.pm = pm;
	pu->pc.slots = store->slots;
	pu->pc.store = store;
	pu->pc.next_slot = nr_slots;
	pu->pc.chains_fixed = true;
	pu->pc.lv = store->lv;
	pu->pc.table_budget = store->cap_tables;
	pu->pc.nr_nodes = store->nr_nodes;
	pu->pc.nr_subpages = store->nr_subpages;
	pu->pc.nr_pieces = store->nr_pieces;
	pu->pc.table_bytes = store->table_bytes;
	pu->pc.max_depth = old->max_depth;
	i = upd_entry(pu, old->root, pm->levels, 0, 0);
	if (pu->err) {
		map = ERR_PTR(pu->err);
		goto out;
	}
	nr_slots = pu->pc.next_slot;
	header = size_add(sizeof(*map),
			  array_size(old->nr_overrides + (size_t)n,
				     sizeof(struct pmt_override)));
	if (size_add(header, store->bytes) > max_bytes) {
		map = ERR_PTR(-ENOSPC);
		goto out;
	}
	map = kvmalloc(header, PMT_GFP);
	if (!map) {
		map = ERR_PTR(-ENOMEM);
		goto out;
	}
	*map = *old;
	memset(&map->rcu, 0, sizeof(map->rcu));
	map->backlog = NULL;
	map->root = i;
	map->nr_sections = pm->nr_sections;
	map->nr_held = pm->nr_held;
	map->nr_slots = nr_slots;
	if (nr_slots > map->nr_primary)
		map->kind |= PMT_KIND_SLOTS;
	map->nr_nodes = pu->pc.nr_nodes;
	map->nr_subpages = pu->pc.nr_subpages;
	map->nr_pieces = pu->pc.nr_pieces;
	map->table_bytes = pu->pc.table_bytes;
	map->max_depth = pu->pc.max_depth;
	map->batched = map_walks_batched(map);
	map->overrides = map->overrides_array;
	map->nr_overrides = upd_overrides(old, pm, changed, n,
					  map->overrides_array);
	map->generation = generation;
	map->bytes = header + store->bytes;
	map->retire_bytes = map->bytes;
	/* The old map's store goes on: retiring it frees its header alone. */
	old->retire_bytes = old->bytes - store->bytes;
	refcount_inc(&store->refs);
	store->nr_nodes = map->nr_nodes;
	store->nr_slots = nr_slots;
	store->nr_subpages = map->nr_subpages;
	store->nr_pieces = map->nr_pieces;
	store->table_bytes = map->table_bytes;
out:
	if (IS_ERR(map)) {
		/* The slots given stay unused: the next try gives others. */
		for (i = 0; i < n; i++)
			if (pm->sections[changed[i]].slot >= store->nr_slots)
				pm->sections[changed[i]].slot = 0;
	}
	kvfree(changed);
	if (pu)
		kvfree(pu->dirty);
	kfree(pu);
	return map;
}

/**
 * pmt_pending_kept() - whether a pending map was kept from a map
 * @pm: the pending map.
 * @map: a published map, or NULL.
 *
 * Return: true when @pm is what pmt_commit_update() kept of @map's
 * transaction, so that an update of @map can start from it, as long as
 * nothing changed it since.
 */
bool pmt_pending_kept(const struct pmt_pending *pm, const struct pmt_map *map)
{
	return map && map->store && pm->generation == map->generation;
}
EXPORT_SYMBOL_NS_GPL(pmt_pending_kept, PMT_NS);

/**
 * pmt_commit_update() - commit an update, sharing what did not change
 * @pm: the pending map; kept, with its sections' slots, for the next update.
 * @old: the published map, or NULL; see below.
 * @generation: the generation the new map will carry.
 * @max_bytes: the most bytes the new map may take.
 *
 * When @pm was kept from @old (pmt_pending_kept()), the new map shares
 * @old's store and everything in it that the changes since do not reach:
 * a commit that costs what changed. Otherwise, and when the store has no
 * room left, it builds in full, as pmt_commit() does, into a store with a
 * quarter to spare for the updates to come. On success @pm is kept from
 * the new map; on failure nothing a reader sees changed, and @pm holds
 * what it held.
 *
 * Return: the new map, or an ERR_PTR() as pmt_commit() returns.
 */
struct pmt_map *pmt_commit_update(struct pmt_pending *pm, struct pmt_map *old,
				  u64 generation, u64 max_bytes)
{
	struct pmt_map *map = ERR_PTR(-EAGAIN);
	u32 i;

	if (pmt_pending_kept(pm, old))
		map = commit_incremental(pm, old, generation, max_bytes);
	if (PTR_ERR_OR_ZERO(map) == -EAGAIN) {
		map = commit_full(pm, generation, max_bytes, true);
		if (IS_ERR(map))
			return map;
		for (i = 0; i < pm->nr_sections; i++) {
			pm->sections[i].slot = i;
			if (!(i % PMT_STEPS_PER_RESCHED))
				cond_resched();
		}
	}
	if (IS_ERR(map))
		return map;
	pm->generation = generation;
	pm->nr_changes = 0;
	pm->overflow = false;
	return map;
}
EXPORT_SYMBOL_NS_GPL(pmt_commit_update, PMT_NS);

/* Note section @s of a map's walk in @ord, once: its leaves come together. */
static int map_order_note(u32 *ord, u32 cap, u32 *k, u32 s)
{
	if (!s || (*k && ord[*k - 1] == s))
		return 0;
	if (*k == cap)
		return -EFAULT;
	ord[(*k)++] = s;
	return 0;
}

/* Note the sections of leaf @entry of @map. */
static int map_order_leaf(const struct pmt_map *map, u32 entry, u32 *ord,
			  u32 cap, u32 *k)
{
	const struct pmt_subpage *sp;
	u32 i;
	int ret = 0;

	if (!map_entry_is_subpage(entry))
		return map_order_note(ord, cap, k,
				      map_slot_index(map, map_entry_ptr(entry)));
	sp = &map->subpages[map_entry_ptr(entry)];
	for (i = 0; i < sp->count && !ret; i++)
		ret = map_order_note(ord, cap, k,
				     map_slot_index(map, map->pieces[sp->first +
								    i].section));
	return ret;
}

/*
 * Fill @ord with the indexes of @map's @map->nr_held sections in address
 * order: a walk of its nodes in slot order, where each section's leaves
 * come together. A levelling chain's node leads to one leaf whatever the
 * slot: the walk follows its first entry only. Returns -EINTR on a fatal
 * signal, -EFAULT for a map that is not as commit made it, else 0.
 */
static int map_order(const struct pmt_map *map, u32 *ord)
{
	u32 node[PMT_MAX_LEVELS + 1], slot[PMT_MAX_LEVELS + 1];
	u32 entry = map->root, k = 0;
	unsigned int depth = 0, steps = 0;
	int ret;

	for (;;) {
		while (map_entry_shift(entry) &&
		       map_entry_ptr(entry) - map->chain < map->nr_chain)
			entry = map->nodes[(size_t)map_entry_ptr(entry) *
					   PMT_NODE_SLOTS];
		if (map_entry_shift(entry)) {
			if (depth == ARRAY_SIZE(node))
				return -EFAULT;
			node[depth] = map_entry_ptr(entry);
			slot[depth++] = 0;
			ret = pmt_step(&steps);
		} else {
			ret = map_order_leaf(map, entry, ord, map->nr_held, &k);
		}
		if (ret)
			return ret;
		while (depth && slot[depth - 1] == PMT_NODE_SLOTS)
			depth--;
		if (!depth)
			break;
		entry = map->nodes[(size_t)node[depth - 1] * PMT_NODE_SLOTS +
				   slot[depth - 1]++];
	}
	return k == map->nr_held ? 0 : -EFAULT;
}

/**
 * pmt_pending_update() - start a pending map from a published one
 * @map: the published map.
 * @max_bytes: the most bytes the pending map may hold.
 *
 * The pending map holds @map's sections, each with its index, and its
 * page_shift; the indexes no section holds are free for pmt_pending_add(),
 * lowest first. It copies the sections and reads their address order from
 * @map's nodes: the time grows with the map, O(n), not with what the
 * update changes. That order takes 4 bytes per section while it runs;
 * @max_bytes bounds it with the pending map.
 *
 * Return: the pending map, or an ERR_PTR(): -ENOSPC past @max_bytes,
 * -ENOMEM, or -EINTR when a fatal signal stopped it.
 */
struct pmt_pending *pmt_pending_update(const struct pmt_map *map,
				       u64 max_bytes)
{
	u32 holes = map->nr_sections - 1 - map->nr_held, index, *ord;
	struct pmt_pending *pm;
	unsigned int steps = 0;
	int ret;

	if (pending_bytes_for(map->nr_sections, holes) +
	    (u64)max(map->nr_held, 1U) * sizeof(*ord) > max_bytes)
		return ERR_PTR(-ENOSPC);
	pm = pmt_pending_create(map->page_shift);
	if (!pm)
		return ERR_PTR(-ENOMEM);
	ret = pending_reserve(pm, map->nr_sections, max_bytes);
	if (!ret)
		ret = pending_reserve_hole(pm, holes);
	ord = ret ? NULL : pmt_alloc(array_size(max(map->nr_held, 1U),
						sizeof(*ord)));
	if (!ret && !ord)
		ret = -ENOMEM;
	if (!ret)
		ret = map_order(map, ord);
	for (index = 1; index < map->nr_sections && !ret; index++) {
		const struct pmt_section *sect = pmt_map_section(map, index);

		memset(&pm->sections[index], 0, sizeof(pm->sections[index]));
		/* Holes come in order: a min-heap already. */
		if (sect)
			pm->sections[index].sect = *sect;
		else
			pm->holes[pm->nr_holes++] = index;
		ret = pmt_step(&steps);
	}
	if (!ret) {
		pm->nr_sections = map->nr_sections;
		pm->nr_held = map->nr_held;
		pm->root = order_build(pm, ord, map->nr_held);
		pm->top = order_last(pm);
	}
	kvfree(ord);
	if (ret) {
		pmt_pending_free(pm);
		return ERR_PTR(ret);
	}
	return pm;
}
EXPORT_SYMBOL_NS_GPL(pmt_pending_update, PMT_NS);

/**
 * pmt_map_free() - free a map no reader can see any more
 * @map: the map, or NULL.
 */
void pmt_map_free(struct pmt_map *map)
{
	if (!map)
		return;
	store_put(map->store);
	kvfree(map);
}
EXPORT_SYMBOL_NS_GPL(pmt_map_free, PMT_NS);

/**
 * pmt_backlog_create() - start counting one owner's retired maps
 *
 * An owner (an open file) passes its backlog to pmt_map_retire(), which
 * bounds the bytes of its maps that wait for grace periods. The backlog
 * lives until its owner has put it and its last retired map is freed.
 *
 * Return: the backlog with one reference, the owner's, or NULL when out of
 * memory.
 */
struct pmt_backlog *pmt_backlog_create(void)
{
	struct pmt_backlog *backlog;

	backlog = kzalloc(sizeof(*backlog), PMT_GFP);
	if (backlog)
		refcount_set(&backlog->refs, 1);
	return backlog;
}
EXPORT_SYMBOL_NS_GPL(pmt_backlog_create, PMT_NS);

/**
 * pmt_backlog_put() - drop a reference to a backlog
 * @backlog: the backlog, or NULL.
 */
void pmt_backlog_put(struct pmt_backlog *backlog)
{
	if (backlog && refcount_dec_and_test(&backlog->refs))
		kfree(backlog);
}
EXPORT_SYMBOL_NS_GPL(pmt_backlog_put, PMT_NS);

static void pmt_map_free_rcu(struct rcu_head *head)
{
	struct pmt_map *map = container_of(head, struct pmt_map, rcu);
	struct pmt_backlog *backlog = map->backlog;

	atomic_long_sub(map->retire_bytes, &pmt_retired);
	atomic_long_sub(map->retire_bytes, &backlog->bytes);
	pmt_map_free(map);
	pmt_backlog_put(backlog);
}

/**
 * pmt_map_retire() - free a map once readers are done with it
 * @map: a map already unpublished, or NULL.
 * @backlog: the backlog of the map's owner.
 * @max_backlog: the most bytes of retired maps that may wait for grace
 *               periods, over all owners; one owner's share is
 *               @max_backlog / PMT_BACKLOG_SHARES.
 *
 * The map is freed after an RCU grace period. Past its owner's share or
 * past @max_backlog, the caller waits for that grace period and frees the
 * map itself (counted in @backlog->waits), so that a storm of commits
 * cannot pile up old maps, and a storm on one owner leaves the others
 * room. Callers must be able to sleep, and the module must call
 * rcu_barrier() before it goes away.
 */
void pmt_map_retire(struct pmt_map *map,
		    struct pmt_backlog *backlog, size_t max_backlog)
{
	unsigned long total, mine;
	long bytes;

	if (!map)
		return;
	bytes = map->retire_bytes;
	/*
	 * The owner's share first: a map past it must not count against the
	 * global bound, even for a moment, or another owner could wait.
	 */
	mine = atomic_long_add_return(bytes, &backlog->bytes);
	if (mine > max_backlog / PMT_BACKLOG_SHARES) {
		atomic_long_sub(bytes, &backlog->bytes);
		goto wait;
	}
	total = atomic_long_add_return(bytes, &pmt_retired);
	if (total > max_backlog) {
		atomic_long_sub(bytes, &pmt_retired);
		atomic_long_sub(bytes, &backlog->bytes);
		goto wait;
	}
	refcount_inc(&backlog->refs);
	map->backlog = backlog;
	call_rcu(&map->rcu, pmt_map_free_rcu);
	return;
wait:
	atomic_long_inc(&backlog->waits);
	synchronize_rcu();
	pmt_map_free(map);
}
EXPORT_SYMBOL_NS_GPL(pmt_map_retire, PMT_NS);

/**
 * pmt_retired_bytes() - bytes of retired maps waiting for grace periods
 *
 * Return: the bytes, over all owners.
 */
size_t pmt_retired_bytes(void)
{
	return atomic_long_read(&pmt_retired);
}
EXPORT_SYMBOL_NS_GPL(pmt_retired_bytes, PMT_NS);

/* The slot of the piece of @sp that holds @offset, or PMT_UNASSIGNED. */
static noinline u32 search_subpage(const struct pmt_piece *pieces,
				   const struct pmt_subpage *sp, u32 offset)
{
	const struct pmt_piece *piece = &pieces[sp->first];
	u32 n = sp->count, half;

	/* Branch-free: the last piece that starts at or below @offset. */
	while (n > 1) {
		half = n / 2;
		piece = piece[half].start <= offset ? piece + half : piece;
		n -= half;
	}
	if (piece->start <= offset && offset <= piece->last)
		return piece->section;
	return PMT_UNASSIGNED;
}

/*
 * The slot covering @addr in sub-page @sp, or PMT_UNASSIGNED when @addr
 * lies outside its page (the walk skipped levels).
 */
static __always_inline u32 subpage_section(const struct pmt_map *map,
					   const struct pmt_subpage *sp,
					   u64 addr)
{
	u64 offset = addr - sp->start;
	u8 k;

	if (offset >> map->page_shift)
		return PMT_UNASSIGNED;
	if (unlikely(sp->shift == PMT_SUBPAGE_SEARCH))
		return search_subpage(map->pieces, sp, offset);
	k = map->tables[sp->table + (offset >> sp->shift)];
	return k ? sp->base + k - 1 : PMT_UNASSIGNED;
}

/* The leaf entry a walk for @addr reaches. */
static __always_inline u32 map_walk(const struct pmt_map *map, u64 addr)
{
	u32 entry = map->root;

	while (map_entry_shift(entry))
		entry = *(const u32 *)((const char *)map->nodes +
				       map_entry_node_offset(entry) +
				       ((addr >> map_entry_shift(entry)) &
					(PMT_NODE_SLOTS - 1)) * sizeof(u32));
	return entry;
}

/*
 * The slot covering @addr, given the leaf a walk for it reached. Levels
 * may have been skipped on the way: the leaf may not cover @addr.
 */
static __always_inline u32 map_leaf_section(const struct pmt_map *map,
					    u32 leaf, u64 addr)
{
	const struct pmt_section *sect;
	const struct pmt_subpage *sp;

	if (unlikely(map_entry_is_subpage(leaf))) {
		sp = &map->subpages[map_entry_ptr(leaf)];
		return subpage_section(map, sp, addr);
	}
	sect = &map->sections[map_entry_ptr(leaf)];
	if (addr - sect->start < sect->size)
		return map_entry_ptr(leaf);
	return PMT_UNASSIGNED;
}

/*
 * The slot covering @addr in a mixed map, given the leaf a walk for it
 * reached: see map_lookup_mixed().
 */
static __always_inline u32 map_mixed_leaf_section(const struct pmt_map *map,
						  u32 leaf, u64 addr)
{
	u32 sub = -(u32)map_entry_is_subpage(leaf);
	const struct pmt_subpage *sp = &map->leaves[map_entry_ptr(leaf) +
						    (map->leaf_subpages & sub)];
	u64 offset = addr - sp->start;
	u32 in = offset < sp->size;
	u8 k;

	if (unlikely(sp->shift == PMT_SUBPAGE_SEARCH))
		return in ? search_subpage(map->pieces, sp, offset) :
			    PMT_UNASSIGNED;
	k = map->tables[sp->table + ((offset & (BIT_ULL(map->page_shift) - 1)) >>
				     sp->shift)];
	/* & rather than &&: a branch on k would follow the kind. */
	return (sp->base + k - 1) & -(u32)(in & (k != 0));
}

/*
 * pmt_map_lookup() for a mixed map, as a slot, without a branch on the
 * leaf's kind, which there is as hard to predict as a coin: every leaf is
 * a sub-page, a section's in @map->leaves (struct pmt_map), so one range
 * check and one table load answer both kinds. Sub-pages searched rather
 * than looked up in a table are rare enough to branch on. Out of line:
 * the registers it needs would cost every other map's lookups their saves
 * and restores.
 */
static noinline u32 map_lookup_mixed(const struct pmt_map *map, u64 addr)
{
	return map_mixed_leaf_section(map, map_walk(map, addr), addr);
}

/* The slot of the section covering @addr in @map: see pmt_map_lookup(). */
static __always_inline u32 map_lookup(const struct pmt_map *map, u64 addr)
{
	if (map->kind & PMT_KIND_MIXED)
		return map_lookup_mixed(map, addr);
	return map_leaf_section(map, map_walk(map, addr), addr);
}

/*
 * The index of slot @slot, which needs translating only in a map of
 * PMT_KIND_SLOTS: @slots, a constant in each loop below, so that the
 * loops of the other maps hold no test for it.
 */
static __always_inline u32 map_answer(const struct pmt_map *map, u32 slot,
				      bool slots)
{
	return slots ? map_slot_index(map, slot) : slot;
}

/* pmt_map_lookup() of a map of PMT_KIND_SLOTS. */
static noinline u32 map_lookup_slots(const struct pmt_map *map, u64 addr)
{
	return map_slot_index(map, map_lookup(map, addr));
}

/**
 * pmt_map_lookup() - the section covering an address
 * @map: a published map.
 * @addr: the address.
 *
 * Takes no lock and allocates nothing; the caller keeps @map alive, for
 * instance with rcu_read_lock().
 *
 * Return: the section's index, or PMT_UNASSIGNED.
 */
u32 pmt_map_lookup(const struct pmt_map *map, u64 addr)
{
	if (map->kind) {
		if (map->kind == PMT_KIND_MIXED)
			return map_lookup_mixed(map, addr);
		return map_lookup_slots(map, addr);
	}
	return map_leaf_section(map, map_walk(map, addr), addr);
}
EXPORT_SYMBOL_NS_GPL(pmt_map_lookup, PMT_NS);

/**
 * pmt_map_lookup_section() - the section covering an address, and its index
 * @map: a published map.
 * @addr: the address.
 * @index: set to the section's index, or PMT_UNASSIGNED.
 *
 * pmt_map_lookup() with the section it found: in a map an update made, a
 * section's index does not say where it lies (struct pmt_map). Takes no
 * lock and allocates nothing, as pmt_map_lookup().
 *
 * Return: the section; section 0, of size 0, for PMT_UNASSIGNED.
 */
const struct pmt_section *pmt_map_lookup_section(const struct pmt_map *map,
						 u64 addr, u32 *index)
{
	u32 slot = map_lookup(map, addr);

	*index = map_slot_index(map, slot);
	return &map->sections[slot];
}
EXPORT_SYMBOL_NS_GPL(pmt_map_lookup_section, PMT_NS);

/*
 * The order a batch of PMT_WALK_BATCH addresses is visited in: the k-th
 * visit is of address (k * PMT_WALK_STRIDE) % PMT_WALK_BATCH, so that
 * addresses next to each other in the stream, often in one section and on
 * one path, are far apart in the visits: see map_walk_batch().
 */
static __always_inline u32 map_batch_order(u32 k, u32 n)
{
	return n == PMT_WALK_BATCH ?
	       (k * PMT_WALK_STRIDE) & (PMT_WALK_BATCH - 1) : k;
}

/*
 * The leaf entries that walks for the @n addresses of @addrs reach, into
 * @leaves, walked together a level at a time: the loads of one level are
 * independent of each other, so the processor has as many cache misses in
 * flight as its reorder window holds loads, where one walk at a time has
 * the misses of a few. Its window holds a few dozen: consecutive visits go
 * to addresses PMT_WALK_STRIDE apart, so that a run of lookups in one
 * section does not fill the window with loads of the one line that misses.
 */
static __always_inline void map_walk_batch(const struct pmt_map *map,
					   const u64 *addrs, u32 *leaves,
					   u32 n)
{
	u32 i, k, entry, more;

	for (i = 0; i < n; i++)
		leaves[i] = map->root;
	do {
		more = 0;
		for (k = 0; k < n; k++) {
			i = map_batch_order(k, n);
			entry = leaves[i];
			if (!map_entry_shift(entry))
				continue;
			entry = *(const u32 *)((const char *)map->nodes +
					       map_entry_node_offset(entry) +
					       ((addrs[i] >> map_entry_shift(entry)) &
						(PMT_NODE_SLOTS - 1)) * sizeof(u32));
			leaves[i] = entry;
			more |= map_entry_shift(entry);
		}
	} while (more);
}

/*
 * pmt_map_lookup_many() of a map whose lookups walk batches together
 * (@map->batched), slots translated when @slots. Out of line: its loops
 * and array would cost the other maps' loops registers.
 */
static noinline u32 map_many_batched(const struct pmt_map *map,
				     const u64 *addrs, u32 *indexes, u32 n,
				     bool slots)
{
	u32 leaves[PMT_WALK_BATCH], i, j, k, b, slot, last = PMT_UNASSIGNED;
	bool mixed = map->kind & PMT_KIND_MIXED;

	for (i = 0; i < n; i += b) {
		b = min_t(u32, n - i, PMT_WALK_BATCH);
		map_walk_batch(map, addrs + i, leaves, b);
		for (k = 0; k < b; k++) {
			j = map_batch_order(k, b);
			if (mixed)
				slot = map_mixed_leaf_section(map, leaves[j],
							      addrs[i + j]);
			else
				slot = map_leaf_section(map, leaves[j],
							addrs[i + j]);
			indexes[i + j] = map_answer(map, slot, slots);
			if (i + j == n - 1)
				last = slot;
		}
	}
	return last;
}

/* map_many()'s loop for maps neither mixed nor batched nor a single leaf. */
static __always_inline u32 map_many_walks(const struct pmt_map *map,
					  const u64 *addrs, u32 *indexes,
					  u32 n, bool slots)
{
	const struct pmt_map m = *map;
	u32 i, slot = PMT_UNASSIGNED;

	for (i = 0; i < n; i++) {
		slot = map_leaf_section(&m, map_walk(&m, addrs[i]), addrs[i]);
		indexes[i] = map_answer(&m, slot, slots);
	}
	return slot;
}

/*
 * pmt_map_lookup_many(), slots translated when @slots. The loops of the
 * mixed maps and of map_many_walks() read a copy of the map's header, @m:
 * the compiler keeps the fields they read in registers, where each store
 * of an answer, which might alias the map (the kernel builds with
 * -fno-strict-aliasing), would have every lookup load them again. With
 * the copy, the mixed maps' lookups are inlined too.
 */
static __always_inline u32 map_many(const struct pmt_map *map,
				    const u64 *addrs, u32 *indexes, u32 n,
				    bool slots)
{
	u32 i, slot = PMT_UNASSIGNED;

	if (map->batched)
		return map_many_batched(map, addrs, indexes, n, slots);
	if (map->kind & PMT_KIND_MIXED) {
		const struct pmt_map m = *map;

		for (i = 0; i < n; i++) {
			slot = map_mixed_leaf_section(&m, map_walk(&m, addrs[i]),
						      addrs[i]);
			indexes[i] = map_answer(&m, slot, slots);
		}
		return slot;
	}
	if (!map_entry_shift(map->root) && !map_entry_is_subpage(map->root)) {
		/* One leaf for everything: its range check alone, in locals. */
		u32 leaf = map_entry_ptr(map->root);
		u32 index = map_answer(map, leaf, slots);
		u64 start = map->sections[leaf].start;
		u64 size = map->sections[leaf].size;

		for (i = 0; i < n; i++)
			indexes[i] = addrs[i] - start < size ? index :
				     PMT_UNASSIGNED;
		return n && indexes[n - 1] ? leaf : PMT_UNASSIGNED;
	}
	return map_many_walks(map, addrs, indexes, n, slots);
}

static noinline u32 map_many_slots(const struct pmt_map *map,
				   const u64 *addrs, u32 *indexes, u32 n)
{
	return map_many(map, addrs, indexes, n, true);
}

/**
 * pmt_map_lookup_many() - the sections covering many addresses
 * @map: a published map.
 * @addrs: the addresses.
 * @indexes: their sections' indexes, or PMT_UNASSIGNED.
 * @n: the number of addresses.
 *
 * pmt_map_lookup() of each address, with the map's kind tested once and
 * the lookup inlined into one loop: no call per address, and the processor
 * overlaps one lookup's loads with the next one's. In a map of 4 MiB or
 * more (@map->batched), the walks go 64 at a time, a level at a time, so
 * that their cache misses overlap. Takes no lock and allocates nothing, as
 * pmt_map_lookup().
 *
 * Return: the slot of the last answer, a hint for
 * pmt_map_lookup_many_hint() on @map; PMT_UNASSIGNED when @n is 0.
 */
u32 pmt_map_lookup_many(const struct pmt_map *map, const u64 *addrs,
			u32 *indexes, u32 n)
{
	if (map->kind & PMT_KIND_SLOTS)
		return map_many_slots(map, addrs, indexes, n);
	return map_many(map, addrs, indexes, n, false);
}
EXPORT_SYMBOL_NS_GPL(pmt_map_lookup_many, PMT_NS);

/*
 * The slot of the section of index @index in @map: the one @overrides
 * gives, else its primary slot; 0 for none.
 */
static u32 map_index_slot(const struct pmt_map *map, u32 index)
{
	u32 lo = 0, hi = map->nr_overrides, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (map->overrides[mid].index == index)
			return map->overrides[mid].slot;
		if (map->overrides[mid].index < index)
			lo = mid + 1;
		else
			hi = mid;
	}
	return index < map->nr_primary ? index : 0;
}

/**
 * pmt_map_lookup_hint() - the section covering an address, a hint first
 * @map: a published map.
 * @addr: the address.
 * @hint: a section index of @map, usually the caller's last answer;
 *        PMT_UNASSIGNED (or any index past the map's) for none.
 *
 * When @hint covers @addr, that is the answer without a walk, as QEMU
 * first tries its most recently used section; but the hint is the
 * caller's, so lookups of a shared map write nothing shared. Otherwise,
 * pmt_map_lookup(). Callers with a stream of lookups use
 * pmt_map_lookup_run(), which also knows when not to try.
 *
 * Return: the section's index, or PMT_UNASSIGNED.
 */
u32 pmt_map_lookup_hint(const struct pmt_map *map, u64 addr, u32 hint)
{
	const struct pmt_section *sect;

	/*
	 * Section 0 has size 0: an unassigned hint fails the range check,
	 * with no test of its own to mispredict over a span.
	 */
	if (hint < map->nr_primary && map_index_slot(map, hint) == hint) {
		sect = &map->sections[hint];
		if (addr - sect->start < sect->size)
			return hint;
	}
	return pmt_map_lookup(map, addr);
}
EXPORT_SYMBOL_NS_GPL(pmt_map_lookup_hint, PMT_NS);

/* The slot for @addr, slot @hint tried first, the map's kind known. */
static __always_inline u32 map_lookup_hint(const struct pmt_map *map,
					   u64 addr, u32 hint, bool mixed)
{
	const struct pmt_section *sect;

	if (hint < map->nr_slots) {
		sect = &map->sections[hint];
		if (addr - sect->start < sect->size)
			return hint;
	}
	if (mixed)
		return map_lookup_mixed(map, addr);
	return map_leaf_section(map, map_walk(map, addr), addr);
}

/* pmt_map_lookup_many_hint(), slots translated when @slots. */
static __always_inline u32 map_many_hint(const struct pmt_map *map,
					 const u64 *addrs, u32 *indexes,
					 u32 n, u32 hint, bool slots)
{
	u32 i;

	/*
	 * The walks of a batch overlap their cache misses; a hint would make
	 * each lookup wait for the one before.
	 */
	if (map->batched)
		return map_many_batched(map, addrs, indexes, n, slots);
	if (map->kind & PMT_KIND_MIXED) {
		for (i = 0; i < n; i++) {
			hint = map_lookup_hint(map, addrs[i], hint, true);
			indexes[i] = map_answer(map, hint, slots);
		}
	} else if (!map_entry_shift(map->root) &&
		   !map_entry_is_subpage(map->root)) {
		hint = map_many(map, addrs, indexes, n, slots);
	} else {
		/* A copy of the header, as in map_many(). */
		const struct pmt_map m = *map;

		for (i = 0; i < n; i++) {
			hint = map_lookup_hint(&m, addrs[i], hint, false);
			indexes[i] = map_answer(&m, hint, slots);
		}
	}
	return hint;
}

static noinline u32 map_many_hint_slots(const struct pmt_map *map,
					const u64 *addrs, u32 *indexes, u32 n,
					u32 hint)
{
	return map_many_hint(map, addrs, indexes, n, hint, true);
}

/**
 * pmt_map_lookup_many_hint() - many lookups, each tried with the last answer
 * @map: a published map.
 * @addrs: the addresses.
 * @indexes: their sections' indexes, or PMT_UNASSIGNED.
 * @n: the number of addresses.
 * @hint: a slot to try for the first address: what pmt_map_lookup_many()
 *        or this function returned for @map, or PMT_UNASSIGNED.
 *
 * pmt_map_lookup() of each address, the slot of the answer before it
 * tried first, in one loop: the map's kind is tested once and, outside
 * mixed maps, the walk is inlined, as in pmt_map_lookup_many(). A map
 * whose root is a section's leaf needs no hint: its one range check is
 * all. Nor does a map of 4 MiB or more try one: its walks go in batches,
 * as in pmt_map_lookup_many(), and a hint would make each wait for the
 * one before. Takes no lock and allocates nothing, as pmt_map_lookup().
 *
 * Return: the slot of the last answer, @hint when @n is 0.
 */
u32 pmt_map_lookup_many_hint(const struct pmt_map *map, const u64 *addrs,
			     u32 *indexes, u32 n, u32 hint)
{
	if (!n)
		return hint;
	if (map->kind & PMT_KIND_SLOTS)
		return map_many_hint_slots(map, addrs, indexes, n, hint);
	return map_many_hint(map, addrs, indexes, n, hint, false);
}
EXPORT_SYMBOL_NS_GPL(pmt_map_lookup_many_hint, PMT_NS);

/**
 * pmt_map_section() - a section of a published map by index
 * @map: the map.
 * @index: the section's index, from 1.
 *
 * Return: the section, or NULL when no section of @map has @index: 0,
 * past the last section, or a section removed (pmt_pending_remove()).
 */
const struct pmt_section *pmt_map_section(const struct pmt_map *map,
					  u32 index)
{
	u32 slot;

	if (index == PMT_UNASSIGNED || index >= map->nr_sections)
		return NULL;
	slot = map_index_slot(map, index);
	if (!slot || !map->sections[slot].size)
		return NULL;
	return &map->sections[slot];
}
EXPORT_SYMBOL_NS_GPL(pmt_map_section, PMT_NS);

#ifdef __KERNEL__
/*
 * Debugging output, for debugfs (not ABI), as mt_dump() is for the maple
 * tree. The userspace build reads the map's arrays itself.
 */

/**
 * pmt_map_show_shape() - print the shape of a map's tree
 * @m: where to print.
 * @map: the map.
 */
void pmt_map_show_shape(struct seq_file *m, const struct pmt_map *map)
{
	seq_printf(m, "generation:     %llu\n", map->generation);
	seq_printf(m, "sections:       %u\n", map->nr_held);
	seq_printf(m, "nodes:          %u (%zu bytes each)\n", map->nr_nodes,
		   PMT_NODE_BYTES);
	seq_printf(m, "bytes:          %zu\n", map->bytes);
	seq_printf(m, "page_shift:     %u\n", map->page_shift);
	seq_printf(m, "levels:         %u\n", map->levels);
	seq_printf(m, "subpages:       %u\n", map->nr_subpages);
	seq_printf(m, "subpage_ranges: %u\n", map->nr_pieces);
	seq_printf(m, "skip_entries:   %u\n", map->skip_entries);
	seq_printf(m, "skipped_levels: %u\n", map->skipped_levels);
	seq_printf(m, "max_depth:      %u\n", map->max_depth);
}

/* Where @p, a pointer into @map, points in @copy, a byte copy of @map. */
static void *map_rebase(struct pmt_map *copy,
			const struct pmt_map *map, const void *p)
{
	return (char *)copy + ((const char *)p - (const char *)map);
}

/*
 * A private copy, in one allocation, of @map, whose arrays lie in a store
 * that later maps may write past what @map uses: only what it uses.
 */
static struct pmt_map *map_dup_store(const struct pmt_map *map)
{
	size_t sizes[8] = {
		array_size(map->nr_overrides, sizeof(*map->overrides)),
		array_size(map->nr_nodes, PMT_NODE_BYTES),
		array_size(map->nr_slots, sizeof(*map->sections)),
		array_size(map->nr_slots - map->nr_primary, sizeof(u32)),
		/* A mixed map's leaves, right before its sub-pages. */
		array_size(map->leaves ? map->nr_slots : 0,
			   sizeof(*map->leaves)),
		array_size(map->nr_subpages, sizeof(*map->subpages)),
		array_size(map->nr_pieces, sizeof(*map->pieces)),
		/* A full build's mixed map: its byte of 1 after the others. */
		min_t(size_t, (size_t)map->table_bytes + map->mixed,
		      map->store->cap_tables),
	};
	const void *from[8] = {
		map->overrides, map->nodes, map->sections, map->slot_index,
		map->leaves, map->subpages, map->pieces, map->tables,
	};
	size_t size = ALIGN(sizeof(*map), PMT_MAP_ALIGN), at[8];
	struct pmt_map *copy;
	int i;

	for (i = 0; i < 8; i++) {
		at[i] = size;
		size = ALIGN(size_add(size, sizes[i]), 8);
	}
	if (size == SIZE_MAX)
		return NULL;
	copy = pmt_alloc(size);
	if (!copy)
		return NULL;
	*copy = *map;
	for (i = 0; i < 8; i++)
		if (sizes[i])
			memcpy((char *)copy + at[i], from[i], sizes[i]);
	copy->store = NULL;
	copy->bytes = size;
	copy->overrides = (void *)((char *)copy + at[0]);
	copy->nodes = (void *)((char *)copy + at[1]);
	copy->sections = (void *)((char *)copy + at[2]);
	copy->slot_index = (void *)((char *)copy + at[3]);
	copy->subpages = (void *)((char *)copy + at[5]);
	copy->pieces = (void *)((char *)copy + at[6]);
	copy->tables = (void *)((char *)copy + at[7]);
	if (map->leaves) {
		copy->leaves = (void *)((char *)copy + at[4]);
		copy->leaf_subpages = map->nr_slots;
	}
	return copy;
}

/* A private copy of @map, or NULL; the caller keeps @map alive. */
static struct pmt_map *map_dup(const struct pmt_map *map)
{
	struct pmt_map *copy;

	if (map->store)
		return map_dup_store(map);
	copy = pmt_alloc(map->bytes);
	if (!copy)
		return NULL;
	memcpy(copy, map, map->bytes);
	copy->nodes = map_rebase(copy, map, map->nodes);
	copy->sections = map_rebase(copy, map, map->sections);
	copy->subpages = map_rebase(copy, map, map->subpages);
	copy->pieces = map_rebase(copy, map, map->pieces);
	copy->tables = map_rebase(copy, map, map->tables);
	if (map->leaves)
		copy->leaves = map_rebase(copy, map, map->leaves);
	return copy;
}

/* The level of a node's slots, from the shift of an entry pointing to it. */
static u8 shift_level(const struct pmt_map *map, u32 entry)
{
	return (map_entry_shift(entry) - map->page_shift) / PMT_NODE_BITS;
}

/**
 * pmt_dump_create() - a copy of a map to print
 * @map: the map; the caller keeps it alive while this runs.
 *
 * The copy carries the level of each node's slots, which published entries
 * do not hold, to print the skip of each entry as QEMU does.
 *
 * Return: the copy, or NULL when out of memory.
 */
struct pmt_dump *pmt_dump_create(const struct pmt_map *map)
{
	struct pmt_dump *dump;
	const u32 *node;
	u32 n, i;

	dump = kzalloc(sizeof(*dump), PMT_GFP);
	if (!dump)
		return NULL;
	dump->map = map_dup(map);
	dump->levels = pmt_alloc(max(map->nr_nodes, 1U));
	if (!dump->map || !dump->levels) {
		pmt_dump_free(dump);
		return NULL;
	}
	if (map_entry_shift(map->root))
		dump->levels[map_entry_ptr(map->root)] =
			shift_level(map, map->root);
	/* Entries only point forward: a node's level is known before it. */
	for (n = 0; n < map->nr_nodes; n++) {
		node = &map->nodes[(size_t)n * PMT_NODE_SLOTS];
		for (i = 0; i < PMT_NODE_SLOTS; i++)
			if (map_entry_shift(node[i]))
				dump->levels[map_entry_ptr(node[i])] =
					shift_level(map, node[i]);
		cond_resched();
	}
	return dump;
}

/**
 * pmt_dump_free() - free a copy made by pmt_dump_create()
 * @dump: the copy, or NULL.
 */
void pmt_dump_free(struct pmt_dump *dump)
{
	if (!dump)
		return;
	pmt_map_free(dump->map);
	kvfree(dump->levels);
	kfree(dump);
}

/*
 * The records of a dump, in order: a header, one per section (section 0
 * included), a sub-pages header, one per sub-page, a nodes header, one per
 * node.
 */
static loff_t dump_subpages_at(const struct pmt_map *map)
{
	return 1 + (loff_t)map->nr_sections;
}

static loff_t dump_nodes_at(const struct pmt_map *map)
{
	return dump_subpages_at(map) + 1 + map->nr_subpages;
}

/**
 * pmt_dump_records() - how many records a dump has
 * @dump: the copy to print.
 *
 * Return: the number of records, for pmt_dump_record().
 */
loff_t pmt_dump_records(const struct pmt_dump *dump)
{
	return dump_nodes_at(dump->map) + 1 + dump->map->nr_nodes;
}

/*
 * "skip=S ptr=[N]" a node, "ptr=#N" a section, "ptr=SN" a sub-page; the
 * entry covers @level, so a node entry skips down to its node's level.
 */
static void dump_entries(struct seq_file *m, const struct pmt_map *map,
			 unsigned int first, unsigned int last, u32 entry,
			 unsigned int level)
{
	unsigned int skip = 0;
	u32 ptr = map_entry_ptr(entry);

	if (map_entry_shift(entry))
		skip = level - shift_level(map, entry);
	else if (!map_entry_is_subpage(entry))
		ptr = map_slot_index(map, ptr);
	if (first == last)
		seq_printf(m, "\t%3u      ", first);
	else
		seq_printf(m, "\t%3u..%-3u ", first, last);
	seq_printf(m, " skip=%u  ptr=%s%u%s\n", skip,
		   skip ? "[" : map_entry_is_subpage(entry) ? "S" : "#",
		   ptr, skip ? "]" : "");
}

static void dump_node(struct seq_file *m, const struct pmt_dump *dump, u32 n)
{
	const u32 *node = &dump->map->nodes[(size_t)n * PMT_NODE_SLOTS];
	unsigned int i, first = 0;

	seq_printf(m, "      [%u]\n", n);
	for (i = 1; i <= PMT_NODE_SLOTS; i++) {
		if (i < PMT_NODE_SLOTS && node[i] == node[first])
			continue;
		dump_entries(m, dump->map, first, i - 1, node[first],
			     dump->levels[n]);
		first = i;
	}
}

/* Under the first piece of "      S0 @<16 hex>..<16 hex>:" */
#define DUMP_SUBPAGE_INDENT	"                                             "

static void dump_subpage(struct seq_file *m, const struct pmt_map *map, u32 i)
{
	const struct pmt_subpage *sp = &map->subpages[i];
	u64 base = sp->start;
	const struct pmt_piece *p;
	u32 k;

	seq_printf(m, "      S%u @%016llx..%016llx:", i, base,
		   base + (BIT_ULL(map->page_shift) - 1));
	for (k = 0; k < sp->count; k++) {
		p = &map->pieces[sp->first + k];
		/* Six to a line, in columns, no trailing blank. */
		seq_printf(m, "%s %03x..%03x #%-*u",
			   k && !(k % 6) ? "\n" DUMP_SUBPAGE_INDENT : "",
			   p->start, p->last,
			   (k + 1) % 6 && k + 1 < sp->count ? 4 : 0,
			   map_slot_index(map, p->section));
	}
	seq_putc(m, '\n');
}

/**
 * pmt_dump_record() - print one record of a dump
 * @m: where to print.
 * @dump: the copy to print.
 * @pos: the record, below pmt_dump_records().
 *
 * The records together print the map in the layout of QEMU's
 * "info mtree -d": sections, sub-pages with their pieces, and nodes with
 * their entries, runs of equal entries on one line.
 */
void pmt_dump_record(struct seq_file *m, const struct pmt_dump *dump,
		     loff_t pos)
{
	const struct pmt_map *map = dump->map;
	const struct pmt_section *sect;

	if (pos == 0) {
		seq_printf(m, "physmap: generation %llu, page_shift %u\n",
			   map->generation, map->page_shift);
		seq_puts(m, "  Dispatch\n    Physical sections\n");
	} else if (pos == 1) {
		seq_puts(m, "      #0 @0000000000000000..ffffffffffffffff (noname) [unassigned]\n");
	} else if (pos < dump_subpages_at(map)) {
		sect = pmt_map_section(map, pos - 1);
		if (!sect) {
			seq_printf(m, "      #%llu (removed)\n", pos - 1);
			return;
		}
		seq_printf(m, "      #%llu @%016llx..%016llx cookie=%llu offset=0x%llx\n",
			   pos - 1, sect->start, sect->start + (sect->size - 1),
			   sect->cookie, sect->offset);
	} else if (pos == dump_subpages_at(map)) {
		seq_printf(m, "    Sub-pages (%u, %u pieces)\n",
			   map->nr_subpages, map->nr_pieces);
	} else if (pos < dump_nodes_at(map)) {
		dump_subpage(m, map, pos - dump_subpages_at(map) - 1);
	} else if (pos == dump_nodes_at(map)) {
		seq_printf(m, "    Nodes (%u bits per level, %u levels) ptr=%s%u%s skip=%u\n",
			   PMT_NODE_BITS, map->levels,
			   map_entry_shift(map->root) ? "[" :
			   map_entry_is_subpage(map->root) ? "S" : "#",
			   map_entry_shift(map->root) ||
			   map_entry_is_subpage(map->root) ?
			   map_entry_ptr(map->root) :
			   map_slot_index(map, map_entry_ptr(map->root)),
			   map_entry_shift(map->root) ? "]" : "",
			   map_entry_shift(map->root) ?
			   map->levels - shift_level(map, map->root) : 0);
	} else {
		dump_node(m, dump, pos - dump_nodes_at(map) - 1);
	}
}
#endif /* __KERNEL__ */
