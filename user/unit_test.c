// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the tree core, built in userspace: every seed behaviour and
 * the exact shape (nodes, skips, depth) of small maps worked out by hand.
 *
 * The file builds twice: with PMT_NODE_BITS 9 (QEMU's 512-entry nodes)
 * and 6 (physmap's 64-entry nodes). Every lookup is checked in both builds;
 * check_shape9() and check_shape6() hold the shapes worked out by hand for
 * one node width and do nothing in the other build.
 *
 * Page numbers below are for page_shift 12 unless said otherwise. With 9-bit
 * nodes: 6 levels, an entry of a node indexed at level L covers 2^(9 L)
 * pages; with 6-bit nodes: 9 levels, 2^(6 L) pages.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/err.h>

#include "../physmap_tree.h"
#include "knobs.h"
#include "physmap_params.h"
#include "shim/linux/sched.h"

#define KiB		(1ULL << 10)
#define MiB		(1ULL << 20)
#define GiB		(1ULL << 30)
#define TiB		(1ULL << 40)
#define TOP		(~0ULL)

static int failures, test_failed;

#define CHECK(cond, ...)						\
	do {								\
		if (!(cond)) {						\
			printf("#   %s:%d: %s: ", __FILE__, __LINE__, #cond); \
			printf(__VA_ARGS__);				\
			printf("\n");					\
			test_failed = 1;				\
		}							\
	} while (0)

#define CHECK_EQ(want, got)						\
	CHECK((uint64_t)(want) == (uint64_t)(got), "want %#" PRIx64 " got %#" PRIx64, \
	      (uint64_t)(want), (uint64_t)(got))

struct sec {
	uint64_t start, size;
};

/* Shapes that hold for one node width only. */
#define ANY_WIDTH_SKIP	UINT32_MAX
#if PMT_NODE_BITS == 9
#define check_shape9(map, ...)	check_shape(map, __VA_ARGS__)
#define check_shape6(map, ...)	check_shape(map, ANY_WIDTH_SKIP, 0, 0, 0, 0)
#elif PMT_NODE_BITS == 6
#define check_shape9(map, ...)	check_shape(map, ANY_WIDTH_SKIP, 0, 0, 0, 0)
#define check_shape6(map, ...)	check_shape(map, __VA_ARGS__)
#else
#error "shapes are worked out for 9-bit and 6-bit nodes"
#endif
#define ROOT_SKIP(skip9, skip6)	(PMT_NODE_BITS == 9 ? (skip9) : (skip6))

/* The level of the slots of the node @entry, a published entry, points to. */
static unsigned int entry_level(const struct pmt_map *map, uint32_t entry)
{
	return ((entry & PMT_MAP_SHIFT_MASK) - map->page_shift) /
	       PMT_NODE_BITS;
}

/* The levels the root entry skips (0: the root is a leaf). */
static unsigned int root_skip(const struct pmt_map *map)
{
	if (!(map->root & PMT_MAP_SHIFT_MASK))
		return 0;
	return map->levels - entry_level(map, map->root);
}

/* Build and commit a map of @n sections; every ADD must succeed. */
static struct pmt_map *build(unsigned int shift, const struct sec *s,
				 unsigned int n)
{
	struct pmt_pending *pm = pmt_pending_create(shift);
	struct pmt_map *map;
	unsigned int i;
	uint32_t index;

	if (!pm)
		abort();
	for (i = 0; i < n; i++) {
		struct pmt_section sect = {
			.start = s[i].start, .size = s[i].size,
			.cookie = 100 + i, .offset = 7 * i,
		};
		int ret = pmt_pending_add(pm, &sect, PM_MAX_SECTIONS_DEFAULT,
					  UINT64_MAX, &index);

		CHECK(ret == 0 && index == i + 1, "add %u: ret %d index %u", i,
		      ret, index);
	}
	map = pmt_commit(pm, 1, UINT64_MAX);
	pmt_pending_free(pm);
	if (IS_ERR(map))
		abort();
	return map;
}

static void check_shape(const struct pmt_map *map, uint32_t nodes,
			uint32_t skip_entries, uint32_t skipped_levels,
			uint32_t max_depth, uint32_t subpages)
{
	if (nodes == ANY_WIDTH_SKIP)
		return;

	CHECK_EQ(nodes, map->nr_nodes);
	CHECK_EQ(skip_entries, map->skip_entries);
	CHECK_EQ(skipped_levels, map->skipped_levels);
	CHECK_EQ(max_depth, map->max_depth);
	CHECK_EQ(subpages, map->nr_subpages);
	CHECK(map->bytes >= sizeof(*map) + (uint64_t)nodes * PMT_NODE_BYTES,
	      "bytes %zu for %u nodes", map->bytes, nodes);
}

static void check_lookup(const struct pmt_map *map, uint64_t addr,
			 uint32_t want)
{
	uint32_t got = pmt_map_lookup(map, addr);

	CHECK(got == want, "lookup %#" PRIx64 ": want %u got %u", addr, want,
	      got);
}

static void test_empty_map(void)
{
	struct pmt_map *map = build(12, NULL, 0);

	check_shape(map, 0, 0, 0, 0, 0);
	CHECK_EQ(0, map->root);
	check_lookup(map, 0, 0);
	check_lookup(map, 0x12345678, 0);
	check_lookup(map, TOP, 0);
	CHECK(!pmt_map_section(map, 0), "section 0 is not a section");
	CHECK(!pmt_map_section(map, 1), "no section 1");
	pmt_map_free(map);
}

/* One page: six pending nodes, all single-child: the root is the leaf. */
static void test_one_page_collapses_to_root_leaf(void)
{
	static const struct sec s[] = { { 0x5000, 4 * KiB } };
	struct pmt_map *map = build(12, s, 1);

	check_shape(map, 0, 0, 0, 0, 0);
	CHECK_EQ(1U << PMT_MAP_PTR_SHIFT, map->root);
	check_lookup(map, 0x5000, 1);
	check_lookup(map, 0x5fff, 1);
	check_lookup(map, 0x4fff, 0);
	check_lookup(map, 0x6000, 0);
	/*
	 * Every level was skipped: an address whose page differs in any
	 * level's bits reaches section 1 too, and only the range check
	 * answers it.
	 */
	check_lookup(map, 0x5000 + (1ULL << 50), 0);
	check_lookup(map, 0x5000 + (1ULL << 21), 0);
	check_lookup(map, 0x5000 ^ (1ULL << 63), 0);
	pmt_map_free(map);
}

/* 2 MiB aligned: one leaf at level 1, the path ends there. */
static void test_early_leaf_at_level_one(void)
{
	static const struct sec s[] = { { 6 * MiB, 2 * MiB } };
	struct pmt_map *map;

	physmap_knob_compaction = false;
	map = build(12, s, 1);
	/* Levels 5..1: five nodes, no level-0 node, a leaf at level 1. */
	check_shape9(map, 5, 0, 0, 5, 0);
	check_lookup(map, 6 * MiB, 1);
	check_lookup(map, 8 * MiB - 1, 1);
	check_lookup(map, 8 * MiB, 0);
	pmt_map_free(map);
	physmap_knob_compaction = true;

	map = build(12, s, 1);
	check_shape(map, 0, 0, 0, 0, 0);
	check_lookup(map, 7 * MiB, 1);
	check_lookup(map, 6 * MiB - 1, 0);
	pmt_map_free(map);
}

/* Without early leaves the same 2 MiB takes a full level-0 node. */
static void test_no_early_leaves(void)
{
	static const struct sec s[] = { { 6 * MiB, 2 * MiB } };
	struct pmt_map *map;

	physmap_knob_early_leaves = false;
	map = build(12, s, 1);
	/*
	 * The pending map has a level-0 node of 512 leaves of section 1: all
	 * its valid entries are one section, so commit makes it that leaf.
	 */
	check_shape(map, 0, 0, 0, 0, 0);
	check_lookup(map, 6 * MiB, 1);
	check_lookup(map, 8 * MiB - 1, 1);
	check_lookup(map, 8 * MiB, 0);
	pmt_map_free(map);

	physmap_knob_compaction = false;
	map = build(12, s, 1);
	check_shape9(map, 6, 0, 0, 6, 0);
	check_lookup(map, 7 * MiB, 1);
	pmt_map_free(map);
	physmap_knob_compaction = true;
	physmap_knob_early_leaves = true;
}

/* 16 pages of one section: their level-0 node becomes the section's leaf. */
static void test_one_section_node_becomes_leaf(void)
{
	static const struct sec s[] = {
		{ 0x10000, 64 * KiB },		/* pages 0x10..0x1f */
		{ 2 * MiB + 0x5000, 8 * KiB },	/* pages 0x205, 0x206 */
	};
	struct pmt_map *map = build(12, s, 1);

	check_shape(map, 0, 0, 0, 0, 0);
	check_lookup(map, 0x10000, 1);
	check_lookup(map, 0x1ffff, 1);
	check_lookup(map, 0xffff, 0);
	check_lookup(map, 0x20000, 0);
	check_lookup(map, 0x1000, 0);
	pmt_map_free(map);

	/* Two such level-0 nodes under one level-1 node: that one stays. */
	map = build(12, s, 2);
	check_shape9(map, 1, 1, 4, 1, 0);
	check_lookup(map, 0x15000, 1);
	check_lookup(map, 0x100000, 0);
	check_lookup(map, 2 * MiB + 0x5000, 2);
	check_lookup(map, 2 * MiB + 0x6fff, 2);
	check_lookup(map, 2 * MiB + 0x7000, 0);
	check_lookup(map, 2 * MiB, 0);
	pmt_map_free(map);
}

/* Two neighbour pages: one level-0 node, reached from the root by skip 6. */
static void test_skip_to_level_zero(void)
{
	static const struct sec s[] = { { 0, 4 * KiB }, { 4 * KiB, 4 * KiB } };
	struct pmt_map *map = build(12, s, 2);

	check_shape9(map, 1, 1, 5, 1, 0);
	CHECK_EQ(ROOT_SKIP(6, 9), root_skip(map));
	check_lookup(map, 0, 1);
	check_lookup(map, 0x1fff, 2);
	check_lookup(map, 0x2000, 0);
	/* Same level-0 slot, different upper bits: skipped, range-checked. */
	check_lookup(map, 1ULL << 40, 0);
	check_lookup(map, (1ULL << 33) | 0x1000, 0);
	pmt_map_free(map);
}

/*
 * Pages 0 and 512: the level-1 node has two children, each a level-0 node
 * with one leaf; those leaves move up into the level-1 node.
 */
static void test_single_child_leaves_move_up(void)
{
	static const struct sec s[] = { { 0, 4 * KiB }, { 2 * MiB, 4 * KiB } };
	struct pmt_map *map = build(12, s, 2);

	check_shape9(map, 1, 1, 4, 1, 0);
	CHECK_EQ(ROOT_SKIP(5, 8), root_skip(map));
	check_lookup(map, 0, 1);
	check_lookup(map, 0xfff, 1);
	/* Lands in section 1's leaf through level 0, but is outside it. */
	check_lookup(map, 0x1000, 0);
	check_lookup(map, 0x1ff000, 0);
	check_lookup(map, 2 * MiB, 2);
	check_lookup(map, 2 * MiB + 0x1000, 0);
	pmt_map_free(map);
}

/*
 * 1 TiB at 1 TiB: two leaves at level 3 (slots 2 and 3 of the node indexed
 * at level 3). Alone, they are one section: the node becomes its leaf. With
 * 512 GiB of another section at 2 TiB (slot 4), the node stays, and the root
 * skips 3 levels to it.
 */
static void test_large_aligned_section(void)
{
	static const struct sec s[] = { { TiB, TiB }, { 2 * TiB, TiB / 2 } };
	struct pmt_map *map = build(12, s, 1);

	check_shape(map, 0, 0, 0, 0, 0);
	check_lookup(map, TiB, 1);
	check_lookup(map, 2 * TiB - 1, 1);
	check_lookup(map, TiB - 1, 0);
	pmt_map_free(map);

	map = build(12, s, 2);
	check_shape9(map, 1, 1, 2, 1, 0);
	CHECK_EQ(ROOT_SKIP(3, 5), root_skip(map));
	check_lookup(map, TiB, 1);
	check_lookup(map, 2 * TiB - 1, 1);
	check_lookup(map, TiB - 1, 0);
	check_lookup(map, 2 * TiB, 2);
	check_lookup(map, 2 * TiB + TiB / 2 - 1, 2);
	check_lookup(map, 2 * TiB + TiB / 2, 0);
	/* Slots 2 and 3 again, 2^50 higher: through the skipped levels. */
	check_lookup(map, TiB + (1ULL << 50), 0);
	check_lookup(map, TiB + (1ULL << 63), 0);
	pmt_map_free(map);
}

/* Two pieces in one page: the root is the sub-page itself. */
static void test_subpage(void)
{
	static const struct sec s[] = {
		{ 0x1000, 0x100 }, { 0x1200, 0x100 }, { 0x1fff, 1 },
	};
	struct pmt_map *map = build(12, s, 3);

	check_shape(map, 0, 0, 0, 0, 1);
	CHECK_EQ(3, map->nr_pieces);
	check_lookup(map, 0xfff, 0);
	check_lookup(map, 0x1000, 1);
	check_lookup(map, 0x10ff, 1);
	check_lookup(map, 0x1100, 0);
	check_lookup(map, 0x11ff, 0);
	check_lookup(map, 0x1200, 2);
	check_lookup(map, 0x12ff, 2);
	check_lookup(map, 0x1300, 0);
	check_lookup(map, 0x1ffe, 0);
	check_lookup(map, 0x1fff, 3);
	check_lookup(map, 0x2000, 0);
	/* Another page through the skipped levels: the page check answers. */
	check_lookup(map, 0x1000 + (1ULL << 30), 0);
	check_lookup(map, 0x1200 + (1ULL << 21), 0);
	pmt_map_free(map);
}

/* A section spanning pages: a sub-page at each end, whole pages between. */
static void test_unaligned_section_spanning_pages(void)
{
	static const struct sec s[] = {
		{ 0x10800, 0x3000 },	/* 0x10800..0x137ff */
		{ 0x13800, 0x800 },	/* rest of page 0x13 */
	};
	struct pmt_map *map = build(12, s, 2);

	/*
	 * Page 0x13 is shared: a sub-page. Page 0x10 holds one piece of one
	 * section: its leaf is that section's. 0x11, 0x12: whole leaves.
	 */
	check_shape9(map, 1, 1, 5, 1, 1);
	check_shape6(map, 1, 1, 8, 1, 1);
	check_lookup(map, 0x107ff, 0);
	check_lookup(map, 0x10800, 1);
	check_lookup(map, 0x11000, 1);
	check_lookup(map, 0x12fff, 1);
	check_lookup(map, 0x137ff, 1);
	check_lookup(map, 0x13800, 2);
	check_lookup(map, 0x13fff, 2);
	check_lookup(map, 0x14000, 0);
	pmt_map_free(map);
}

/* physmap's 64-entry nodes: 9 levels at page_shift 12, worked by hand. */
static void test_shapes_of_64_entry_nodes(void)
{
	static const struct sec pages01[] = { { 0, 4 * KiB }, { 4 * KiB, 4 * KiB } };
	static const struct sec pages0_64[] = {
		{ 0, 4 * KiB }, { 64 * 4 * KiB, 4 * KiB },
	};
	static const struct sec large[] = { { TiB, TiB }, { 2 * TiB, TiB / 2 } };
	struct pmt_map *map;

	/* One level-0 node with two leaves; the root skips all 9 levels. */
	map = build(12, pages01, 2);
	check_shape6(map, 1, 1, 8, 1, 0);
	check_lookup(map, 0x1fff, 2);
	check_lookup(map, 0x2000, 0);
	pmt_map_free(map);

	/* Pages 0 and 64: slots 0 and 1 of one level-1 node; root skips 8. */
	map = build(12, pages0_64, 2);
	check_shape6(map, 1, 1, 7, 1, 0);
	check_lookup(map, 0x1000, 0);
	check_lookup(map, 64 * 4 * KiB, 2);
	pmt_map_free(map);

	/*
	 * 1 TiB at 1 TiB is slots 16..31 of the node indexed at level 4
	 * (2^24 pages per entry), 512 GiB at 2 TiB slots 32..39: one node,
	 * the root skips 5 levels to it.
	 */
	map = build(12, large, 2);
	check_shape6(map, 1, 1, 4, 1, 0);
	check_lookup(map, 2 * TiB - 1, 1);
	check_lookup(map, 2 * TiB, 2);
	check_lookup(map, 2 * TiB + TiB / 2, 0);
	check_lookup(map, TiB + (1ULL << 50), 0);
	pmt_map_free(map);
}

static void test_sections_at_the_top(void)
{
	static const struct sec s[] = {
		{ TOP - 4 * KiB + 1, 4 * KiB },	/* the last page */
		{ TOP - 3 * 4 * KiB + 1, 4 * KiB + 10 },
	};
	struct pmt_map *map = build(12, s, 2);

	check_lookup(map, TOP, 1);
	check_lookup(map, TOP - 4 * KiB + 1, 1);
	check_lookup(map, TOP - 4 * KiB, 0);
	check_lookup(map, TOP - 3 * 4 * KiB + 1, 2);
	check_lookup(map, TOP - 2 * 4 * KiB + 10, 2);
	check_lookup(map, TOP - 2 * 4 * KiB + 11, 0);
	pmt_map_free(map);

	/* The whole space but byte 0, unaligned at the bottom. */
	{
		static const struct sec all[] = { { 1, TOP } };

		map = build(16, all, 1);
		check_lookup(map, 0, 0);
		check_lookup(map, 1, 1);
		check_lookup(map, TOP, 1);
		check_lookup(map, 1ULL << 63, 1);
		pmt_map_free(map);
	}
}

static void test_page_shift_shapes_tree_not_answers(void)
{
	static const struct sec s[] = {
		{ 0, 640 * KiB }, { 0xa0000, 0x20000 }, { 0xfed00000, 0x400 },
		{ 0xfee00000, MiB }, { 4 * GiB, 6 * GiB }, { 0x1003, 0x10 },
	};
	static const uint64_t probes[] = {
		0, 0x9ffff, 0xa0000, 0xbffff, 0xc0000, 0xfed00000, 0xfed003ff,
		0xfed00400, 0xfee00000, 0xfeefffff, 4 * GiB - 1, 4 * GiB,
		10 * GiB - 1, 10 * GiB, TOP,
	};
	unsigned int shift, i;

	/* 0x1003 overlaps section 1: use a copy without it first. */
	for (shift = PMT_PAGE_SHIFT_MIN; shift <= PMT_PAGE_SHIFT_MAX;
	     shift++) {
		struct pmt_map *map = build(shift, s, 5);

		for (i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
			uint32_t want = 0, k;

			for (k = 0; k < 5; k++)
				if (probes[i] - s[k].start < s[k].size)
					want = k + 1;
			check_lookup(map, probes[i], want);
		}
		pmt_map_free(map);
	}
	CHECK(!pmt_page_shift_valid(9), "9 is not a page_shift");
	CHECK(!pmt_page_shift_valid(17), "17 is not a page_shift");
}

static void test_add_errors_leave_map_as_it_was(void)
{
	struct pmt_pending *pm = pmt_pending_create(12);
	struct pmt_section a = { .start = 0x10000, .size = 0x3000 };
	struct pmt_section sub = { .start = 0x20010, .size = 0x10 };
	struct pmt_section bad;
	struct pmt_map *map;
	uint32_t index = 0;

	CHECK_EQ(0, pmt_pending_add(pm, &a, 10, UINT64_MAX, &index));
	CHECK_EQ(0, pmt_pending_add(pm, &sub, 10, UINT64_MAX, &index));
	bad = (struct pmt_section){ .start = 0x12fff, .size = 2 };
	CHECK_EQ(-EEXIST, pmt_pending_add(pm, &bad, 10, UINT64_MAX, &index));
	bad = (struct pmt_section){ .start = 0x20000, .size = 0x11 };
	CHECK_EQ(-EEXIST, pmt_pending_add(pm, &bad, 10, UINT64_MAX, &index));
	bad = (struct pmt_section){ .start = 0x2001f, .size = 1 };
	CHECK_EQ(-EEXIST, pmt_pending_add(pm, &bad, 10, UINT64_MAX, &index));
	bad = (struct pmt_section){ .start = 0, .size = 1ULL << 40 };
	CHECK_EQ(-EEXIST, pmt_pending_add(pm, &bad, 10, UINT64_MAX, &index));
	bad = (struct pmt_section){ .start = 5, .size = 0 };
	CHECK_EQ(-EINVAL, pmt_pending_add(pm, &bad, 10, UINT64_MAX, &index));
	bad = (struct pmt_section){ .start = TOP, .size = 2 };
	CHECK_EQ(-EINVAL, pmt_pending_add(pm, &bad, 10, UINT64_MAX, &index));
	bad = (struct pmt_section){ .start = 0x2000f, .size = 1 };
	CHECK_EQ(-ENOSPC, pmt_pending_add(pm, &bad, 2, UINT64_MAX, &index));
	CHECK_EQ(2, pmt_pending_sections(pm));
	/* Adjacent on both sides of the sub-page piece is fine. */
	CHECK_EQ(0, pmt_pending_add(pm, &bad, 10, UINT64_MAX, &index));
	CHECK_EQ(3, index);
	bad.start = 0x20020;
	CHECK_EQ(0, pmt_pending_add(pm, &bad, 10, UINT64_MAX, &index));
	CHECK_EQ(4, index);

	map = pmt_commit(pm, 1, UINT64_MAX);
	check_lookup(map, 0x12fff, 1);
	check_lookup(map, 0x13000, 0);
	check_lookup(map, 0x2000f, 3);
	check_lookup(map, 0x20010, 2);
	check_lookup(map, 0x2001f, 2);
	check_lookup(map, 0x20020, 4);
	check_lookup(map, 0x20021, 0);
	pmt_map_free(map);
	pmt_pending_free(pm);
}

/* Lookups of a map, for comparing two maps that must answer the same. */
static uint64_t answers(const struct pmt_map *map)
{
	uint64_t h = 0, addr;
	unsigned int i;

	for (i = 0; i < 4096; i++) {
		addr = (uint64_t)i * 0x1001 * 0x101;
		h = h * 31 + pmt_map_lookup(map, addr);
		h = h * 31 + pmt_map_lookup(map, addr >> 3);
	}
	return h;
}

/*
 * Fail every allocation of ADD and COMMIT in turn: -ENOMEM, and the pending
 * map is still the one before the call.
 */
static void test_allocation_failures(void)
{
	struct pmt_section s = { .start = 0x7000f, .size = 5 * MiB + 3 };
	struct pmt_map *map, *ref;
	struct pmt_pending *pm;
	uint64_t want;
	unsigned long nth;
	uint32_t index;
	bool failed;
	int ret;

	for (nth = 1;; nth++) {
		struct pmt_section first = { .start = 0, .size = 0x2345 };

		pm = pmt_pending_create(12);
		CHECK_EQ(0, pmt_pending_add(pm, &first, 10, UINT64_MAX, &index));
		ref = pmt_commit(pm, 1, UINT64_MAX);
		want = answers(ref);
		pmt_map_free(ref);

		physmap_shim_fail_nth(nth);
		ret = pmt_pending_add(pm, &s, 10, UINT64_MAX, &index);
		failed = physmap_shim_failed();
		physmap_shim_fail_nth(0);
		map = pmt_commit(pm, 1, UINT64_MAX);
		if (!failed) {
			CHECK_EQ(0, ret);
			pmt_map_free(map);
			pmt_pending_free(pm);
			break;
		}
		CHECK_EQ(-ENOMEM, ret);
		CHECK_EQ(1, pmt_pending_sections(pm));
		CHECK(answers(map) == want, "ADD failing at allocation %lu changed the map",
		      nth);
		pmt_map_free(map);
		pmt_pending_free(pm);
	}
	CHECK(nth > 1, "ADD allocated nothing");

	pm = pmt_pending_create(12);
	CHECK_EQ(0, pmt_pending_add(pm, &s, 10, UINT64_MAX, &index));
	ref = pmt_commit(pm, 1, UINT64_MAX);
	want = answers(ref);
	pmt_map_free(ref);
	for (nth = 1;; nth++) {
		physmap_shim_fail_nth(nth);
		map = pmt_commit(pm, 2, UINT64_MAX);
		failed = physmap_shim_failed();
		physmap_shim_fail_nth(0);
		if (!failed) {
			CHECK(!IS_ERR(map) && answers(map) == want, "COMMIT answers");
			pmt_map_free(map);
			break;
		}
		CHECK(PTR_ERR_OR_ZERO(map) == -ENOMEM,
		      "COMMIT with allocation %lu failing", nth);
		map = pmt_commit(pm, 2, UINT64_MAX);
		CHECK(!IS_ERR(map) && answers(map) == want,
		      "pending map changed by COMMIT failing at allocation %lu", nth);
		pmt_map_free(map);
	}
	CHECK(nth > 1, "COMMIT allocated nothing");
	pmt_pending_free(pm);

	physmap_shim_fail_nth(1);
	CHECK(!pmt_pending_create(12), "create with its allocation failing");
	physmap_shim_fail_nth(0);
}

/* Nodes a lookup of @addr visits, walked here over the map's own arrays. */
static unsigned int visits(const struct pmt_map *map, uint64_t addr)
{
	uint32_t e = map->root;
	unsigned int n = 0;

	while (e & PMT_MAP_SHIFT_MASK) {
		e = map->nodes[(size_t)(e >> PMT_MAP_PTR_SHIFT) *
			       PMT_NODE_SLOTS +
			       ((addr >> (e & PMT_MAP_SHIFT_MASK)) &
				(PMT_NODE_SLOTS - 1))];
		n++;
	}
	return n;
}

/* How many of 1024 addresses spread over [0, @span) visit @n nodes. */
static unsigned int count_visits(const struct pmt_map *map,
				 uint64_t span, unsigned int n)
{
	unsigned int i, count = 0;

	for (i = 0; i < 1024; i++)
		count += visits(map, i * (span / 1024) + 0x123457) == n;
	return count;
}

/* Build @s twice, without depth levelling (*@plain) and with it. */
static struct pmt_map *build_levelled(const struct sec *s, unsigned int n,
					  struct pmt_map **plain)
{
	physmap_knob_levelling = false;
	*plain = build(12, s, n);
	physmap_knob_levelling = true;
	return build(12, s, n);
}

/* A published entry: node @node, whose slots are at @level (page_shift 12). */
#define NODE_ENTRY(node, level) \
	((node) << PMT_MAP_PTR_SHIFT | (12 + (level) * PMT_NODE_BITS))
#define LEAF(section)	((section) << PMT_MAP_PTR_SHIFT)

/* The entry a walk for @addr ends on (a leaf). */
static uint32_t walk_leaf(const struct pmt_map *map, uint64_t addr)
{
	uint32_t e = map->root;

	while (e & PMT_MAP_SHIFT_MASK)
		e = map->nodes[(size_t)(e >> PMT_MAP_PTR_SHIFT) *
			       PMT_NODE_SLOTS +
			       ((addr >> (e & PMT_MAP_SHIFT_MASK)) &
				(PMT_NODE_SLOTS - 1))];
	return e;
}

/*
 * The map's skip counters agree with the skips the debugfs dump prints,
 * chains included: each node's level is that of the entries pointing to
 * it, and an entry skips from its node's level to its target's.
 */
static void check_skip_counts(const struct pmt_map *map)
{
	unsigned int *levels = calloc(map->nr_nodes + 1, sizeof(*levels));
	uint32_t skips = 0, skipped = 0, e, n, i, skip;

	CHECK(levels, "calloc");
	if (!levels)
		return;
	for (n = 0; n <= map->nr_nodes; n++)
		for (i = 0; i < (n < map->nr_nodes ? PMT_NODE_SLOTS : 1U); i++) {
			e = n < map->nr_nodes ? map->nodes[n * PMT_NODE_SLOTS + i] :
						map->root;
			if (e & PMT_MAP_SHIFT_MASK)
				levels[e >> PMT_MAP_PTR_SHIFT] =
					((e & PMT_MAP_SHIFT_MASK) - map->page_shift) /
					PMT_NODE_BITS;
		}
	for (n = 0; n <= map->nr_nodes; n++)
		for (i = 0; i < (n < map->nr_nodes ? PMT_NODE_SLOTS : 1U); i++) {
			e = n < map->nr_nodes ? map->nodes[n * PMT_NODE_SLOTS + i] :
						map->root;
			if (!(e & PMT_MAP_SHIFT_MASK))
				continue;
			skip = (n < map->nr_nodes ? levels[n] : map->levels) -
			       levels[e >> PMT_MAP_PTR_SHIFT];
			if (skip > 1) {
				skips++;
				skipped += skip - 1;
			}
		}
	CHECK_EQ(skips, map->skip_entries);
	CHECK_EQ(skipped, map->skipped_levels);
	free(levels);
}

/* The most nodes a walk from @e visits; @memo: per node, 1 + that, or 0. */
static unsigned int dag_depth(const struct pmt_map *map, uint32_t e,
			      unsigned int *memo)
{
	unsigned int i, d, most = 0;
	uint32_t n = e >> PMT_MAP_PTR_SHIFT;

	if (!(e & PMT_MAP_SHIFT_MASK))
		return 0;
	if (memo[n])
		return memo[n] - 1;
	for (i = 0; i < PMT_NODE_SLOTS; i++) {
		d = dag_depth(map, map->nodes[n * PMT_NODE_SLOTS + i], memo);
		most = d > most ? d : most;
	}
	memo[n] = most + 2;
	return most + 1;
}

/* max_depth is the deepest walk of the DAG, chains included. */
static void check_max_depth(const struct pmt_map *map)
{
	unsigned int *memo = calloc(map->nr_nodes + 1, sizeof(*memo));

	CHECK(memo, "calloc");
	if (!memo)
		return;
	CHECK_EQ(map->max_depth, dag_depth(map, map->root, memo));
	free(memo);
}

/*
 * Shifts fall along every path from @entry, chains included, so that the
 * debugfs dump's skips are all at least 1 (a small map: the DAG's paths).
 */
static void check_shifts_fall(const struct pmt_map *map, uint32_t entry)
{
	const uint32_t *node;
	unsigned int i;

	if (!(entry & PMT_MAP_SHIFT_MASK))
		return;
	node = &map->nodes[(size_t)(entry >> PMT_MAP_PTR_SHIFT) * PMT_NODE_SLOTS];
	for (i = 0; i < PMT_NODE_SLOTS; i++) {
		if (!(node[i] & PMT_MAP_SHIFT_MASK))
			continue;
		CHECK((node[i] & PMT_MAP_SHIFT_MASK) < (entry & PMT_MAP_SHIFT_MASK),
		      "entry %#x below entry %#x", node[i], entry);
		if (i == 0 || node[i] != node[i - 1])
			check_shifts_fall(map, node[i]);
	}
}

/*
 * Depth levelling on a PC-like memory map: RAM to 768 KiB, a ROM to 1 MiB,
 * RAM to 512 MiB, a BIOS in the last 256 KiB below 4 GiB. The root skips
 * to the node whose entries cover 1 GiB each (node 0). Its entry for GiB 0
 * leads to node 1, whose first entry (16 MiB with 64-entry nodes, 2 MiB
 * with 512-entry ones) leads to node 2, of the pages of both RAMs and the
 * ROM. Lookups inside the sections end on visits 3 (RAM, ROM), 2 (most of
 * the second RAM) and 1 (BIOS): commit levels the sections' leaves to
 * visit 3. Over the span, 3/4 end on visit 1 (unassigned, BIOS) and the
 * rest on 2, but those of GiB 0 (1/4) go where node 1's entries lead
 * whatever the address (node 0's entry skips a level), so they end on 3
 * once the sections are levelled, and the BIOS's GiB too: unassigned
 * space, where lookups over the span go, is levelled to visit 3 as well.
 * Five chain nodes: the second RAM's leaf one visit early (node 1), the
 * BIOS two (node 0), unassigned two (node 0), each chain shared by all the
 * entries of its leaf and length. Same answers.
 */
static void test_levelling(void)
{
	static const struct sec s[] = {
		{ 0, 768 * KiB },			/* 1: RAM */
		{ 768 * KiB, 256 * KiB },		/* 2: ROM */
		{ 1 * MiB, 511 * MiB },			/* 3: RAM */
		{ 4 * GiB - 256 * KiB, 256 * KiB },	/* 4: BIOS */
	};
	/* Three visits in the sections' leaves, two in unassigned space. */
	static const uint64_t addrs[] = {
		0, 0x5000, 0xc0000, 0xfffff, 1 * MiB, 100 * MiB,
		512 * MiB - 1, 3 * GiB, 4 * GiB - 256 * KiB - 1,
		4 * GiB - 256 * KiB, 4 * GiB - 1,
	};
	static const uint64_t unassigned[] = {
		512 * MiB, 1 * GiB - 1, 1 * GiB, 2 * GiB, 3 * GiB - 1,
	};
	struct pmt_map *plain, *map = build_levelled(s, 4, &plain);
	const uint32_t *n0 = map->nodes;
	uint32_t e;
	unsigned int i;

	CHECK_EQ(3, plain->max_depth);
	CHECK_EQ(3, map->max_depth);
	CHECK_EQ(plain->nr_nodes + 5, map->nr_nodes);
	CHECK(!map->mixed, "no sub-pages, yet a mixed map");
	CHECK(answers(map) == answers(plain), "levelling changed answers");
	for (i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++)
		CHECK(visits(map, addrs[i]) == 3, "%#" PRIx64 ": %u visits",
		      addrs[i], visits(map, addrs[i]));
	for (i = 0; i < sizeof(unassigned) / sizeof(unassigned[0]); i++)
		CHECK(visits(map, unassigned[i]) == 3, "%#" PRIx64 ": %u visits",
		      unassigned[i], visits(map, unassigned[i]));
	/* Addresses every 4 MiB: 3/4 ended on visit 1; now all end on 3. */
	CHECK_EQ(768, count_visits(plain, 4 * GiB, 1));
	CHECK_EQ(1024, count_visits(map, 4 * GiB, 3));
	/* Node 0's unassigned entries share one chain; the BIOS has its own. */
	CHECK_EQ(LEAF(0), walk_leaf(map, 2 * GiB));
	for (i = 4; i < PMT_NODE_SLOTS; i++)
		CHECK_EQ(n0[1], n0[i]);
	CHECK_EQ(n0[1], n0[2]);
	CHECK(n0[1] != n0[3], "the BIOS's chain is unassigned's");
	/* A chain of two nodes full of the same entry, then the leaf. */
	e = n0[3];
	for (i = 0; i < 2; i++) {
		const uint32_t *node = &map->nodes[(size_t)(e >> PMT_MAP_PTR_SHIFT) *
						   PMT_NODE_SLOTS];

		CHECK(e & PMT_MAP_SHIFT_MASK, "chain entry %#x", e);
		CHECK_EQ(node[0], node[PMT_NODE_SLOTS - 1]);
		e = node[0];
	}
	CHECK_EQ(LEAF(4), e);
	CHECK_EQ(LEAF(4), walk_leaf(map, 3 * GiB));
	check_shifts_fall(map, map->root);
	check_skip_counts(map);
	check_skip_counts(plain);
	check_max_depth(map);
	check_lookup(map, 0, 1);
	check_lookup(map, 0xc0000, 2);
	check_lookup(map, 0xfffff, 2);
	check_lookup(map, 1 * MiB, 3);
	check_lookup(map, 512 * MiB - 1, 3);
	check_lookup(map, 512 * MiB, 0);
	check_lookup(map, 2 * GiB, 0);
	check_lookup(map, 3 * GiB, 0);		/* through the BIOS's chain */
	check_lookup(map, 4 * GiB - 256 * KiB - 1, 0);
	check_lookup(map, 4 * GiB - 256 * KiB, 4);
	check_lookup(map, 4 * GiB - 1, 4);
	check_lookup(map, 4 * GiB, 0);
	check_lookup(map, TOP, 0);
	pmt_map_free(map);
	pmt_map_free(plain);
}

/*
 * @pairs pairs of one-page sections (pages 0 and 2 of each 16 MiB of GiB 0:
 * three visits down), then @gibs one-page sections at the start of GiB 1,
 * 2, ... (one visit down, each its own leaf). Returns the number of
 * sections.
 */
static unsigned int deep_and_wide(struct sec *s, unsigned int pairs,
				  unsigned int gibs)
{
	unsigned int i, n = 0;

	for (i = 0; i < pairs; i++) {
		s[n++] = (struct sec){ i * 16 * MiB, 4 * KiB };
		s[n++] = (struct sec){ i * 16 * MiB + 8 * KiB, 4 * KiB };
	}
	for (i = 1; i <= gibs; i++)
		s[n++] = (struct sec){ i * GiB, 4 * KiB };
	return n;
}

/*
 * Levelling needs walks that end apart, and gives up past PMT_LEVEL_NODES
 * chain nodes: 20 shallow sections beside 20 deep pairs need 2 chain nodes
 * each, 40 (unassigned is left: 19/20 of the span ends on visit 1 anyway);
 * 40 would need 80.
 */
static void test_levelling_limits(void)
{
	struct sec s[80];
	struct pmt_map *plain, *map;
	unsigned int i, n;

	/* Two pages of one node: every walk ends on visit 1. */
	n = deep_and_wide(s, 1, 0);
	map = build_levelled(s, n, &plain);
	CHECK_EQ(1, map->max_depth);
	CHECK_EQ(plain->nr_nodes, map->nr_nodes);
	CHECK(answers(map) == answers(plain), "answers");
	pmt_map_free(map);
	pmt_map_free(plain);

	n = deep_and_wide(s, 20, 20);
	map = build_levelled(s, n, &plain);
	CHECK_EQ(3, plain->max_depth);
	CHECK_EQ(plain->nr_nodes + 40, map->nr_nodes);
	CHECK(answers(map) == answers(plain), "answers");
	for (i = 0; i < n; i++)
		CHECK(visits(map, s[i].start) == 3, "section %u: %u visits",
		      i + 1, visits(map, s[i].start));
	check_shifts_fall(map, map->root);
	check_skip_counts(map);
	check_max_depth(map);
	check_lookup(map, 20 * GiB, 40 + 20);
	check_lookup(map, 20 * GiB + 4 * KiB, 0);
	check_lookup(map, 21 * GiB, 0);
	check_lookup(map, 16 * MiB + 8 * KiB, 4);
	check_lookup(map, 16 * MiB + 4 * KiB, 0);
	pmt_map_free(map);
	pmt_map_free(plain);

	n = deep_and_wide(s, 20, 40);
	map = build_levelled(s, n, &plain);
	CHECK_EQ(plain->nr_nodes, map->nr_nodes);
	CHECK(answers(map) == answers(plain), "answers");
	pmt_map_free(map);
	pmt_map_free(plain);
}

/*
 * A map whose lookups inside the sections end as often on sub-pages as on
 * sections resolves leaves without a branch on their kind, through a dummy
 * sub-page after the others; one whose sub-pages are few does not.
 */
static void test_mixed_leaves(void)
{
	struct sec s[64];
	struct pmt_map *plain, *map;
	unsigned int i, n = 0;

	/* Pages of two pieces, and as many sections of whole pages. */
	for (i = 0; i < 16; i++) {
		s[n++] = (struct sec){ i * 64 * KiB, 0x800 };
		s[n++] = (struct sec){ i * 64 * KiB + 0x800, 0x400 };
		s[n++] = (struct sec){ i * 64 * KiB + 16 * KiB, 16 * KiB };
		s[n++] = (struct sec){ i * 64 * KiB + 32 * KiB, 8 * KiB };
	}
	map = build_levelled(s, n, &plain);
	CHECK(map->mixed, "half of the lookups end on sub-pages");
	CHECK(!plain->mixed, "mixed without levelling's samples");
	CHECK_EQ(16, map->nr_subpages);
	CHECK(answers(map) == answers(plain), "answers");
	check_shifts_fall(map, map->root);
	check_skip_counts(map);
	check_max_depth(map);
	/*
	 * Big sections, which lookups over the span meet more than those
	 * inside: span / sections = 1,023,999 / 64, so the 16 KiB ones are
	 * big (a branch), the 8 KiB ones not (no branch on the kind).
	 */
	CHECK_EQ(1023999 / 64 + 1, map->big);
	/* The dummy: no page, its table byte 0, after the others. */
	CHECK_EQ(UINT64_MAX, map->subpages[16].start);
	CHECK_EQ(map->table_bytes, map->subpages[16].table);
	CHECK_EQ(0, map->tables[map->table_bytes]);
	for (i = 0; i < n; i++) {
		check_lookup(map, s[i].start, i + 1);
		check_lookup(map, s[i].start + s[i].size - 1, i + 1);
	}
	check_lookup(map, 0xc00, 0);
	check_lookup(map, 0xfff, 0);
	check_lookup(map, 48 * KiB, 0);
	check_lookup(map, 1 * MiB, 0);
	check_lookup(map, TOP, 0);
	pmt_map_free(map);
	pmt_map_free(plain);

	/* 2 of 40 sections in the one sub-page, under 1/16: not mixed. */
	n = 0;
	s[n++] = (struct sec){ 0, 0x800 };
	s[n++] = (struct sec){ 0x800, 0x800 };
	for (i = 1; i < 39; i++)
		s[n++] = (struct sec){ i * 64 * KiB, 4 * KiB };
	map = build_levelled(s, n, &plain);
	CHECK(!map->mixed, "one sub-page of 40 sections");
	CHECK(answers(map) == answers(plain), "answers");
	pmt_map_free(map);
	pmt_map_free(plain);
}

/* A commit whose levelled copy cannot be allocated fails whole. */
static void test_levelling_allocation_failures(void)
{
	static const struct sec s[] = {
		{ 0, 768 * KiB }, { 768 * KiB, 256 * KiB }, { 1 * MiB, 511 * MiB },
		{ 4 * GiB - 256 * KiB, 256 * KiB },
	};
	struct pmt_pending *pm = pmt_pending_create(12);
	struct pmt_map *ref, *map;
	unsigned long nth;
	unsigned int i;
	uint32_t index;
	uint64_t want;

	for (i = 0; i < 4; i++) {
		struct pmt_section sect = { .start = s[i].start, .size = s[i].size };

		CHECK_EQ(0, pmt_pending_add(pm, &sect, 10, UINT64_MAX, &index));
	}
	ref = pmt_commit(pm, 1, UINT64_MAX);
	want = answers(ref);
	for (nth = 1;; nth++) {
		physmap_shim_fail_nth(nth);
		map = pmt_commit(pm, 2, UINT64_MAX);
		if (!physmap_shim_failed()) {
			physmap_shim_fail_nth(0);
			break;
		}
		physmap_shim_fail_nth(0);
		CHECK(PTR_ERR_OR_ZERO(map) == -ENOMEM,
		      "COMMIT with allocation %lu failing", nth);
	}
	/* The node-state array and the map: levelling allocates nothing. */
	CHECK_EQ(3, nth);
	CHECK(!IS_ERR(map) && map->nr_nodes == ref->nr_nodes && answers(map) == want,
	      "COMMIT after the failures");
	pmt_map_free(map);
	pmt_map_free(ref);
	pmt_pending_free(pm);
}

static void test_retire(void)
{
	static const struct sec s[] = { { 0, 4 * KiB }, { 4 * KiB, 4 * KiB } };
	struct pmt_map *a = build(12, s, 2), *b = build(12, s, 2);
	struct pmt_map *c = build(12, s, 2), *d = build(12, s, 2);
	struct pmt_backlog *mine = pmt_backlog_create();
	struct pmt_backlog *other = pmt_backlog_create();
	size_t bytes = a->bytes;

	rcu_register_thread();
	/* Under both bounds: freed by a callback after a grace period. */
	pmt_map_retire(a, mine, 1 << 20);
	rcu_barrier();
	CHECK_EQ(0, pmt_retired_bytes());
	CHECK_EQ(0, atomic_long_read(&mine->bytes));
	CHECK_EQ(0, atomic_long_read(&mine->waits));
	/* One owner's share is a quarter: the first map fits, a second not. */
	rcu_read_lock();	/* no grace period ends while this holds */
	pmt_map_retire(b, mine, PMT_BACKLOG_SHARES * bytes + 3);
	CHECK_EQ(bytes, atomic_long_read(&mine->bytes));
	/* Another owner still has room in the global backlog. */
	pmt_map_retire(c, other, PMT_BACKLOG_SHARES * bytes + 3);
	CHECK_EQ(bytes, atomic_long_read(&other->bytes));
	CHECK_EQ(2 * bytes, pmt_retired_bytes());
	CHECK_EQ(0, atomic_long_read(&other->waits));
	rcu_read_unlock();
	/* Past its share: the caller waits and frees the map itself. */
	pmt_map_retire(d, mine, PMT_BACKLOG_SHARES * bytes + 3);
	CHECK_EQ(1, atomic_long_read(&mine->waits));
	CHECK_EQ(0, atomic_long_read(&other->waits));
	pmt_map_retire(NULL, mine, 0);
	/* Each map holds its owner's backlog until it is freed. */
	pmt_backlog_put(mine);
	pmt_backlog_put(other);
	rcu_barrier();
	CHECK_EQ(0, pmt_retired_bytes());
	rcu_unregister_thread();
}

/* Sections far apart: each needs paths of nodes of its own. */
static struct pmt_pending *spread_pending(unsigned int n, uint64_t stride)
{
	struct pmt_pending *pm = pmt_pending_create(12);
	unsigned int i;
	uint32_t index;

	for (i = 0; i < n; i++) {
		struct pmt_section sect = {
			.start = i * stride + 0x1801, .size = 3 * 4096,
		};

		CHECK_EQ(0, pmt_pending_add(pm, &sect, PM_MAX_SECTIONS_DEFAULT,
					    UINT64_MAX, &index));
	}
	return pm;
}

/*
 * The byte bound: ADD never lets the pending map pass it and fails with
 * ENOSPC changing nothing; COMMIT fails with ENOSPC when the map would pass
 * it, and publishes without levelling when only the levelled copy would.
 */
static void test_byte_bound(void)
{
	static const struct sec lv[] = {
		{ 0, 768 * KiB }, { 768 * KiB, 256 * KiB }, { 1 * MiB, 511 * MiB },
		{ 4 * GiB - 256 * KiB, 256 * KiB },
	};
	struct pmt_pending *pm = pmt_pending_create(12);
	const uint64_t bound = 256 * KiB;
	struct pmt_map *map, *plain;
	unsigned int i, added = 0;
	size_t before;
	uint32_t index;
	int ret = 0;

	for (i = 0; i < 100000 && !ret; i++) {
		struct pmt_section sect = {
			.start = i * (1ULL << 36) + 0x1801, .size = 3 * 4096,
		};
		uint32_t sections = pmt_pending_sections(pm);

		before = pmt_pending_bytes(pm);
		ret = pmt_pending_add(pm, &sect, PM_MAX_SECTIONS_DEFAULT,
				      bound, &index);
		CHECK(pmt_pending_bytes(pm) <= bound, "%zu bytes pending",
		      pmt_pending_bytes(pm));
		if (ret) {
			CHECK_EQ(-ENOSPC, ret);
			CHECK_EQ(sections, pmt_pending_sections(pm));
			CHECK_EQ(before, pmt_pending_bytes(pm));
		} else {
			added++;
		}
	}
	CHECK(ret == -ENOSPC && added > 10, "ENOSPC after %u sections", added);
	/* Doubling gave way to growing by what a section needs. */
	CHECK(before > bound - bound / 8, "stopped at %zu of %" PRIu64 " bytes",
	      before, bound);

	map = pmt_commit(pm, 1, UINT64_MAX);
	CHECK(!IS_ERR(map), "commit without a bound");
	CHECK_EQ(-ENOSPC, PTR_ERR(pmt_commit(pm, 1, map->bytes - 1)));
	pmt_map_free(map);
	map = pmt_commit(pm, 1, pmt_pending_bytes(pm));
	CHECK(!IS_ERR(map), "commit within the bound");
	pmt_map_free(map);
	pmt_pending_free(pm);

	/* Levelling needs room for its nodes; without it, none is done. */
	map = build_levelled(lv, 4, &plain);
	CHECK(map->nr_nodes > plain->nr_nodes, "levelled");
	pm = pmt_pending_create(12);
	for (i = 0; i < 4; i++) {
		struct pmt_section sect = { .start = lv[i].start,
					     .size = lv[i].size };

		CHECK_EQ(0, pmt_pending_add(pm, &sect, 10, UINT64_MAX,
						&index));
	}
	pmt_map_free(map);
	map = pmt_commit(pm, 1, plain->bytes);
	CHECK(!IS_ERR(map) && map->nr_nodes == plain->nr_nodes &&
	      answers(map) == answers(plain), "unlevelled within the bound");
	pmt_map_free(map);
	pmt_map_free(plain);
	pmt_pending_free(pm);
}

/*
 * A fatal signal stops a COMMIT at any of its scheduling points with
 * -EINTR, freeing what it allocated and leaving the pending map as it was;
 * and stops an ADD while it copies a grown array.
 */
static void test_fatal_signal(void)
{
	struct pmt_pending *pm = spread_pending(6000, 1ULL << 30);
	struct pmt_map *ref = pmt_commit(pm, 1, UINT64_MAX), *map;
	uint64_t want = answers(ref);
	unsigned long nth;
	uint32_t index;
	int ret = 0;

	for (nth = 1;; nth++) {
		physmap_shim_fatal_nth(nth);
		map = pmt_commit(pm, 1, UINT64_MAX);
		physmap_shim_fatal_nth(0);
		if (!IS_ERR(map))
			break;
		CHECK_EQ(-EINTR, PTR_ERR(map));
	}
	CHECK(nth > 40, "COMMIT of %u nodes checked for signals %lu times",
	      ref->nr_nodes, nth - 1);
	CHECK(answers(map) == want && map->nr_nodes == ref->nr_nodes,
	      "COMMIT after the signals");
	pmt_map_free(map);
	pmt_map_free(ref);

	/* ADD: the node pool (6000+ nodes, 1.5 MiB+) grows by copying. */
	for (nth = 1; nth < 20000 && !ret; nth++) {
		struct pmt_section sect = {
			.start = (6000 + nth) * (1ULL << 30) + 0x1801,
			.size = 3 * 4096,
		};
		uint32_t sections = pmt_pending_sections(pm);

		physmap_shim_fatal_nth(1);
		ret = pmt_pending_add(pm, &sect, PM_MAX_SECTIONS_DEFAULT,
				      UINT64_MAX, &index);
		physmap_shim_fatal_nth(0);
		if (ret) {
			CHECK_EQ(-EINTR, ret);
			CHECK_EQ(sections, pmt_pending_sections(pm));
		}
	}
	CHECK(ret == -EINTR, "no ADD met the signal in %lu", nth - 1);
	map = pmt_commit(pm, 1, UINT64_MAX);
	CHECK(!IS_ERR(map) && map->nr_sections == pmt_pending_sections(pm) + 1,
	      "COMMIT after ADD");
	pmt_map_free(map);
	pmt_pending_free(pm);
}

/*
 * Sub-page tables: one u8 per 2^shift bytes, shift the largest power of two
 * every piece boundary is a multiple of; no table past 255 pieces.
 */
static void test_subpage_tables(void)
{
	static const struct sec fine[] = {
		{ 0x1000, 0x100 }, { 0x1200, 0x100 }, { 0x1fff, 1 },
	};
	static const struct sec coarse[] = {
		{ 0x2000, 0x100 }, { 0x2300, 0x200 },
	};
	struct sec many[300];
	struct pmt_map *map;
	unsigned int i;

	map = build(12, fine, 3);
	CHECK_EQ(1, map->nr_subpages);
	CHECK_EQ(0, map->subpages[0].shift);
	CHECK_EQ(4096, map->table_bytes);
	check_lookup(map, 0x1100, 0);
	check_lookup(map, 0x1ffe, 0);
	check_lookup(map, 0x1fff, 3);
	pmt_map_free(map);

	map = build(12, coarse, 2);
	CHECK_EQ(8, map->subpages[0].shift);
	CHECK_EQ(16, map->table_bytes);
	check_lookup(map, 0x20ff, 1);
	check_lookup(map, 0x2100, 0);
	check_lookup(map, 0x22ff, 0);
	check_lookup(map, 0x2300, 2);
	check_lookup(map, 0x24ff, 2);
	check_lookup(map, 0x2500, 0);
	pmt_map_free(map);

	/*
	 * Table entries count sections from the sub-page's lowest: page 5
	 * holds pieces of sections 1 and 256 (255 apart: searched), page 6 of
	 * sections 3 and 257 (254 apart: tabled from 3). The others are whole
	 * pages elsewhere.
	 */
	for (i = 0; i < 257; i++)
		many[i] = (struct sec){ (i + 16) * 0x1000ULL, 0x1000 };
	many[0] = (struct sec){ 0x5000, 0x10 };
	many[2] = (struct sec){ 0x6000, 0x10 };
	many[255] = (struct sec){ 0x5800, 0x10 };
	many[256] = (struct sec){ 0x6800, 0x10 };
	map = build(12, many, 257);
	CHECK_EQ(2, map->nr_subpages);
	for (i = 0; i < 2; i++) {
		const struct pmt_subpage *sp = &map->subpages[i];

		if (sp->start == 0x5000)
			CHECK_EQ(PMT_SUBPAGE_SEARCH, sp->shift);
		else
			CHECK(sp->start == 0x6000 &&
			      sp->shift != PMT_SUBPAGE_SEARCH && sp->base == 3,
			      "sub-page at %#" PRIx64 ": shift %u base %u",
			      sp->start, sp->shift, sp->base);
	}
	check_lookup(map, 0x5000, 1);
	check_lookup(map, 0x580f, 256);
	check_lookup(map, 0x5810, 0);
	check_lookup(map, 0x6000, 3);
	check_lookup(map, 0x6010, 0);
	check_lookup(map, 0x680f, 257);
	check_lookup(map, 0x7fff, 0);
	check_lookup(map, 0x11000, 2);
	pmt_map_free(map);

	/* Every other byte of a page: searched, not tabled. */
	for (i = 0; i < 300; i++) {
		many[i].start = 0x5000 + 2 * i;
		many[i].size = 1;
	}
	map = build(12, many, 300);
	CHECK_EQ(PMT_SUBPAGE_SEARCH, map->subpages[0].shift);
	CHECK_EQ(0, map->table_bytes);
	for (i = 0; i < 300; i++) {
		check_lookup(map, 0x5000 + 2 * i, i + 1);
		check_lookup(map, 0x5001 + 2 * i, 0);
	}
	pmt_map_free(map);
}

/* A hint answers when it covers the address, and misleads nothing. */
static void test_lookup_hint(void)
{
	static const struct sec s[] = {
		{ 0x1000, 0x3000 }, { 0x4000, 0x100 }, { 0x4200, 0x100 },
		{ 1ULL << 40, 1ULL << 30 },
	};
	struct pmt_map *map = build(12, s, 4);
	static const uint64_t addrs[] = {
		0x1000, 0x3fff, 0x4000, 0x40ff, 0x4100, 0x4200, 0x4fff,
		1ULL << 40, (1ULL << 40) + (1ULL << 30), 0, TOP,
	};
	unsigned int i, hint;

	for (i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++)
		for (hint = 0; hint <= 6; hint++)
			CHECK(pmt_map_lookup_hint(map, addrs[i], hint) ==
			      pmt_map_lookup(map, addrs[i]),
			      "addr %#" PRIx64 " hint %u", addrs[i], hint);
	CHECK_EQ(2, pmt_map_lookup_hint(map, 0x4000, 2));
	CHECK_EQ(4, pmt_map_lookup_hint(map, (1ULL << 40) + 5, UINT32_MAX));
	pmt_map_free(map);
}

/*
 * Runs answer as single lookups do, whether they try the last answer or
 * not; they try it after a run whose last answers mostly repeated.
 */
static void test_lookup_run(void)
{
	static const struct sec s[] = {
		{ 0x1000, 0x3000 }, { 0x4000, 0x100 }, { 0x4200, 0x100 },
		{ 1ULL << 40, 1ULL << 30 },
	};
	struct pmt_map *map = build(12, s, 4);
	uint64_t addrs[3 * PMT_RUN_LEN];
	uint32_t indexes[3 * PMT_RUN_LEN];
	struct pmt_near near;
	unsigned int i, n, pattern;

	for (pattern = 0; pattern < 5; pattern++) {
		for (i = 0; i < 3 * PMT_RUN_LEN; i++) {
			switch (pattern) {
			case 0:	/* alternating sections: no repeats */
				addrs[i] = i % 2 ? 0x1000 + i : 0x4000 + i % 256;
				break;
			case 1:	/* one section */
				addrs[i] = 0x2000 + i;
				break;
			case 2:	/* unassigned */
				addrs[i] = 0x8000 + i;
				break;
			case 3: /* runs of 16 in each section, and gaps */
				addrs[i] = (uint64_t[]){ 0x1000, 0x4000,
					0x4200, 1ULL << 40, 0x4100 }[i / 16 % 5] +
					i % 16;
				break;
			default: /* runs of 2: too short to try */
				addrs[i] = (uint64_t[]){ 0x1000, 0x4000,
					0x4200, 1ULL << 40 }[i / 2 % 4] + i % 2;
				break;
			}
		}
		for (n = 1; n <= 3 * PMT_RUN_LEN; n += 37) {
			near = PMT_NEAR_INIT;
			for (i = 0; i + n <= 3 * PMT_RUN_LEN; i += n)
				pmt_map_lookup_run(map, addrs + i, indexes + i,
						   n, &near);
			for (i = 0; i + n <= 3 * PMT_RUN_LEN; i++)
				CHECK(indexes[i] == pmt_map_lookup(map, addrs[i]),
				      "pattern %u run %u addr %#" PRIx64,
				      pattern, n, addrs[i]);
		}
		near = PMT_NEAR_INIT;
		pmt_map_lookup_run(map, addrs, indexes, PMT_RUN_LEN, &near);
		CHECK_EQ(pattern == 1 || pattern == 3, near.try_last);
		CHECK_EQ(indexes[PMT_RUN_LEN - 1], near.last);
		/* An empty run changes nothing. */
		pmt_map_lookup_run(map, addrs, indexes, 0, &near);
		CHECK_EQ(pattern == 1 || pattern == 3, near.try_last);
	}
	pmt_map_free(map);
}

static const struct {
	const char *name;
	void (*fn)(void);
} tests[] = {
	{ "empty_map", test_empty_map },
	{ "one_page_collapses_to_root_leaf", test_one_page_collapses_to_root_leaf },
	{ "early_leaf_at_level_one", test_early_leaf_at_level_one },
	{ "no_early_leaves", test_no_early_leaves },
	{ "one_section_node_becomes_leaf", test_one_section_node_becomes_leaf },
	{ "skip_to_level_zero", test_skip_to_level_zero },
	{ "single_child_leaves_move_up", test_single_child_leaves_move_up },
	{ "large_aligned_section", test_large_aligned_section },
	{ "subpage", test_subpage },
	{ "unaligned_section_spanning_pages", test_unaligned_section_spanning_pages },
	{ "shapes_of_64_entry_nodes", test_shapes_of_64_entry_nodes },
	{ "sections_at_the_top", test_sections_at_the_top },
	{ "page_shift_shapes_tree_not_answers", test_page_shift_shapes_tree_not_answers },
	{ "add_errors_leave_map_as_it_was", test_add_errors_leave_map_as_it_was },
	{ "allocation_failures", test_allocation_failures },
	{ "levelling", test_levelling },
	{ "levelling_limits", test_levelling_limits },
	{ "mixed_leaves", test_mixed_leaves },
	{ "levelling_allocation_failures", test_levelling_allocation_failures },
	{ "retire", test_retire },
	{ "byte_bound", test_byte_bound },
	{ "subpage_tables", test_subpage_tables },
	{ "lookup_hint", test_lookup_hint },
	{ "lookup_run", test_lookup_run },
	{ "fatal_signal", test_fatal_signal },
};

int main(void)
{
	unsigned int i, n = sizeof(tests) / sizeof(tests[0]);

	printf("TAP version 13\n1..%u\n", n);
	for (i = 0; i < n; i++) {
		test_failed = 0;
		tests[i].fn();
		failures += test_failed;
		printf("%sok %u %s\n", test_failed ? "not " : "", i + 1,
		       tests[i].name);
	}
	printf("# unit_test: %u passed, %d failed\n", n - failures, failures);
	return failures ? 1 : 0;
}
