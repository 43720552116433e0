// SPDX-License-Identifier: GPL-2.0
/*
 * QEMU 7.2's AddressSpaceDispatch, rebuilt as a benchmark baseline: see
 * qemu_baseline.h for what it keeps and why. Plain C, no kernel headers.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "qemu_baseline.h"

#define QB_PAGE_MASK	(QB_PAGE_SIZE - 1)

static const struct qb_entry qb_empty = { .skip = 1, .ptr = QB_NIL };

struct qb_dispatch *qb_create(void)
{
	struct qb_dispatch *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->root = qb_empty;
	d->sections_alloc = 16;
	d->sections = calloc(d->sections_alloc, sizeof(*d->sections));
	if (!d->sections) {
		free(d);
		return NULL;
	}
	/* Section 0: unassigned, the whole 2^64 bytes. */
	d->sections[0].size = (__uint128_t)1 << 64;
	d->sections[0].mr = &d->unassigned;
	d->nr_sections = 1;
	return d;
}

void qb_free(struct qb_dispatch *d)
{
	u32 i;

	if (!d)
		return;
	for (i = 0; i < d->nr_subpages; i++)
		free(d->subpages[i]);
	for (i = 0; i < d->nr_regions; i++)
		free(d->regions[i]);
	free(d->subpages);
	free(d->regions);
	free(d->nodes);
	free(d->sections);
	free(d);
}

static int qb_grow(void **array, u32 *alloc, u32 need, size_t size)
{
	u32 n = *alloc ? *alloc : 16;
	void *p;

	if (need <= *alloc)
		return 0;
	while (n < need)
		n *= 2;
	p = realloc(*array, (size_t)n * size);
	if (!p)
		return -ENOMEM;
	*array = p;
	*alloc = n;
	return 0;
}

/* The next section number, or -E2BIG past what 16-bit numbers hold. */
static int qb_section_add(struct qb_dispatch *d, u64 start, u64 size,
			  struct qb_region *mr, u64 offset_within_region)
{
	struct qb_section *s;

	if (d->nr_sections >= QB_MAX_SECTIONS)
		return -E2BIG;
	if (qb_grow((void **)&d->sections, &d->sections_alloc,
		    d->nr_sections + 1, sizeof(*d->sections)))
		return -ENOMEM;
	s = &d->sections[d->nr_sections];
	memset(s, 0, sizeof(*s));
	s->size = size;
	s->mr = mr;
	s->start = start;
	s->offset_within_region = offset_within_region;
	return d->nr_sections++;
}

/*
 * A node: 512 unassigned leaves at level 0, 512 empty entries above. The
 * caller has reserved room (qb_reserve()), so that the node array does not
 * move under the entry pointers of a store in progress.
 */
static u32 qb_node_alloc(struct qb_dispatch *d, bool level0)
{
	struct qb_entry fill = level0 ? (struct qb_entry){ 0, 0 } : qb_empty;
	u32 n = d->nr_nodes++, i;

	for (i = 0; i < QB_NODE_SLOTS; i++)
		d->nodes[n][i] = fill;
	return n;
}

/* A store allocates at most two nodes a level (its two ragged ends). */
static int qb_reserve(struct qb_dispatch *d)
{
	u32 need = d->nr_nodes + 2 * QB_LEVELS;

	if (need >= QB_NIL)
		return -E2BIG;
	return qb_grow((void **)&d->nodes, &d->nodes_alloc, need,
		       sizeof(*d->nodes));
}

/*
 * Store section @leaf for *@count pages from page *@page, under entry @e at
 * @level (its node's entries each cover 512^@level pages). An entry whose
 * whole aligned block the run covers becomes a leaf there (early leaf);
 * else the store goes down a level. Advances *@page and *@count.
 */
static void qb_set(struct qb_dispatch *d, struct qb_entry *e, u64 *page,
		   u64 *count, u32 leaf, int level)
{
	unsigned int shift = level * QB_NODE_BITS;
	u64 block = 1ULL << shift;
	struct qb_entry *node;
	unsigned int i;

	if (e->skip && e->ptr == QB_NIL)
		e->ptr = qb_node_alloc(d, level == 0);
	/* Inputs never overlap: no store lands inside an existing leaf. */
	if (!e->skip)
		abort();
	node = d->nodes[e->ptr];
	for (i = (*page >> shift) & (QB_NODE_SLOTS - 1);
	     *count && i < QB_NODE_SLOTS; i++) {
		if (!(*page & (block - 1)) && *count >= block) {
			node[i].skip = 0;
			node[i].ptr = leaf;
			*page += block;
			*count -= block;
		} else {
			qb_set(d, &node[i], page, count, leaf, level - 1);
		}
	}
}

static int qb_set_pages(struct qb_dispatch *d, u64 page, u64 count,
			u32 leaf)
{
	int ret = qb_reserve(d);

	if (ret)
		return ret;
	qb_set(d, &d->root, &page, &count, leaf, QB_LEVELS - 1);
	return 0;
}

static bool qb_covers(const struct qb_section *s, u64 addr)
{
	u64 size = (u64)s->size;

	/* Only the unassigned section has a size of 2^64. */
	if (s->size >> 64)
		return true;
	return s->start <= addr && addr - s->start < size;
}

const struct qb_section *qb_find(const struct qb_dispatch *d, u64 addr)
{
	const struct qb_section *s;
	u64 page = addr >> QB_PAGE_BITS;
	struct qb_entry e = d->root;
	int level = QB_LEVELS;

	/*
	 * Each entry says how many levels down its node is; after a skip the
	 * bits of the levels skipped were never looked at, hence the range
	 * check at the end.
	 */
	while (e.skip) {
		level -= e.skip;
		if (level < 0)
			break;
		if (e.ptr == QB_NIL)
			return &d->sections[0];
		e = d->nodes[e.ptr][(page >> (level * QB_NODE_BITS)) &
				    (QB_NODE_SLOTS - 1)];
	}
	s = &d->sections[e.ptr];
	return qb_covers(s, addr) ? s : &d->sections[0];
}

const struct qb_section *qb_lookup(struct qb_dispatch *d, u64 addr)
{
	const struct qb_section *s = __atomic_load_n(&d->mru, __ATOMIC_RELAXED);
	const struct qb_subpage *sp;

	if (!s || s == &d->sections[0] || !qb_covers(s, addr)) {
		s = qb_find(d, addr);
		__atomic_store_n(&d->mru, s, __ATOMIC_RELAXED);
	}
	if (s->mr->subpage) {
		sp = (const struct qb_subpage *)s->mr;	/* iomem comes first */
		s = &d->sections[sp->sub_section[addr & QB_PAGE_MASK]];
	}
	return s;
}

static struct qb_region *qb_region_new(struct qb_dispatch *d, u32 id)
{
	struct qb_region *r;

	if (qb_grow((void **)&d->regions, &d->regions_alloc,
		    d->nr_regions + 1, sizeof(*d->regions)))
		return NULL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->id = id;
	d->regions[d->nr_regions++] = r;
	return r;
}

/* The part [@start, @start + @size) of one page, @size > 0. */
static int qb_add_subpage(struct qb_dispatch *d, u64 start, u64 size,
			  struct qb_region *mr, u64 offset_within_region)
{
	u64 base = start & ~QB_PAGE_MASK, off;
	const struct qb_section *cur = qb_find(d, base);
	struct qb_subpage *sp;
	int n;

	if (cur->mr->subpage) {
		sp = (struct qb_subpage *)cur->mr;
	} else {
		/* The page was unassigned: it becomes a sub-page. */
		sp = calloc(1, sizeof(*sp));
		if (!sp)
			return -ENOMEM;
		if (qb_grow((void **)&d->subpages, &d->subpages_alloc,
			    d->nr_subpages + 1, sizeof(*d->subpages))) {
			free(sp);
			return -ENOMEM;
		}
		d->subpages[d->nr_subpages++] = sp;
		sp->iomem.subpage = true;
		sp->base = base;
		n = qb_section_add(d, base, QB_PAGE_SIZE, &sp->iomem, 0);
		if (n < 0)
			return n;
		n = qb_set_pages(d, base >> QB_PAGE_BITS, 1, n);
		if (n < 0)
			return n;
	}
	n = qb_section_add(d, start, size, mr, offset_within_region);
	if (n < 0)
		return n;
	for (off = start - base; off < start - base + size; off++)
		sp->sub_section[off] = n;
	return 0;
}

/*
 * Add the range [@start, @last] as QEMU adds a flat range: a leading part
 * up to the first page boundary and a trailing part after the last one are
 * sub-page parts, the whole pages between are one section. Ranges must come
 * in address order and never overlap, and before qb_compact().
 */
int qb_add(struct qb_dispatch *d, u64 start, u64 last, u32 id,
	   u64 offset_within_region)
{
	u64 size = last - start + 1, part, pages;
	struct qb_region *mr;
	int ret, n;

	if (d->compacted || last < start || size == 0)
		return -EINVAL;
	mr = qb_region_new(d, id);
	if (!mr)
		return -ENOMEM;
	if (start & QB_PAGE_MASK) {
		part = QB_PAGE_SIZE - (start & QB_PAGE_MASK);
		if (part > size)
			part = size;
		ret = qb_add_subpage(d, start, part, mr, offset_within_region);
		if (ret || part == size)
			return ret;
		start += part;
		offset_within_region += part;
		size -= part;
	}
	pages = size >> QB_PAGE_BITS;
	if (pages) {
		n = qb_section_add(d, start, pages << QB_PAGE_BITS, mr,
				   offset_within_region);
		if (n < 0)
			return n;
		ret = qb_set_pages(d, start >> QB_PAGE_BITS, pages, n);
		if (ret || !(size & QB_PAGE_MASK))
			return ret;
		start += pages << QB_PAGE_BITS;
		offset_within_region += pages << QB_PAGE_BITS;
		size &= QB_PAGE_MASK;
	}
	return qb_add_subpage(d, start, size, mr, offset_within_region);
}

/*
 * Compaction, bottom-up: first every child node below @e, then @e itself.
 * If @e's node has exactly one entry that is not NIL (a leaf of the
 * unassigned section counts: level-0 nodes never go), @e takes that
 * entry's place: it points where the entry points, skipping one more level,
 * or becomes the entry's leaf. The node skipped stays in the array: QEMU
 * compacts in place. Nothing else merges: a subtree whose leaves are all
 * one section stays.
 */
static void qb_compact_entry(struct qb_dispatch *d, struct qb_entry *e)
{
	struct qb_entry *node, only;
	unsigned int i, valid = 0, which = 0;

	if (e->ptr == QB_NIL)
		return;
	node = d->nodes[e->ptr];
	for (i = 0; i < QB_NODE_SLOTS; i++) {
		if (node[i].ptr == QB_NIL)
			continue;
		valid++;
		which = i;
		if (node[i].skip)
			qb_compact_entry(d, &node[i]);
	}
	if (valid != 1)
		return;
	only = node[which];
	/* With 6 levels the 6-bit skip never overflows. */
	e->skip = only.skip ? e->skip + only.skip : 0;
	e->ptr = only.ptr;
}

void qb_compact(struct qb_dispatch *d)
{
	if (d->root.skip)
		qb_compact_entry(d, &d->root);
	d->compacted = true;
}

static u32 qb_count_reachable(const struct qb_dispatch *d, struct qb_entry e,
			      u8 *seen)
{
	u32 n = 1, i;

	if (!e.skip || e.ptr == QB_NIL || seen[e.ptr])
		return 0;
	seen[e.ptr] = 1;
	for (i = 0; i < QB_NODE_SLOTS; i++)
		n += qb_count_reachable(d, d->nodes[e.ptr][i], seen);
	return n;
}

void qb_stats(const struct qb_dispatch *d, struct qb_stats *st)
{
	u8 *seen = calloc(d->nr_nodes + 1, 1);

	memset(st, 0, sizeof(*st));
	st->sections = d->nr_sections;
	st->nodes = d->nr_nodes;
	st->reachable = seen ? qb_count_reachable(d, d->root, seen) : 0;
	st->subpages = d->nr_subpages;
	st->bytes = (u64)d->nr_nodes * sizeof(*d->nodes) +
		    (u64)d->nr_subpages * sizeof(((struct qb_subpage *)0)->sub_section) +
		    (u64)d->nr_sections * sizeof(struct qb_section);
	st->beyond_qemu = d->nr_sections > QB_QEMU_MAX_SECTIONS;
	free(seen);
}
