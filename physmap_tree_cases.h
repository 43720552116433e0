/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The tree core's unit tests, one source for two harnesses: user/unit_test.c
 * runs them in userspace (TAP; both node widths, ASan, valgrind),
 * physmap_kunit.c in the kernel (the KUnit suite physmap_tree), as the
 * kernel's lib/test_xarray.c is built both as a module and in
 * tools/testing/radix-tree. It sits beside physmap_kunit.c, which Kbuild
 * builds from this directory.
 *
 * Every seed behaviour and the exact shape (nodes, skips, depth) of small
 * maps worked out by hand. check_shape9() and check_shape6() hold the
 * shapes worked out for one node width (PMT_NODE_BITS 9, QEMU's 512-entry
 * nodes, or 6, physmap's 64-entry ones) and check nothing in the other
 * build; every lookup is checked in both.
 *
 * Page numbers below are for page_shift 12 unless said otherwise. With 9-bit
 * nodes: 6 levels, an entry of a node indexed at level L covers 2^(9 L)
 * pages; with 6-bit nodes: 9 levels, 2^(6 L) pages.
 *
 * The harness defines, before it includes this file, with physmap_tree.h
 * and the kernel's (or the shim's) headers included:
 *
 *   PMT_CHECK(cond, fmt, ...)   the case fails unless @cond; it goes on
 *   PMT_CHECK_EQ(want, got)     the same for two integers, compared as u64
 *   PMT_REQUIRE(cond)           the case cannot go on unless @cond (a map
 *                               it needs was not built): it ends, failed
 *   ARRAY_SIZE(a)               the kernel's
 *   pmt_case_zalloc(n, size)    zeroed memory for @n elements, or NULL;
 *   pmt_case_free(p)            freed
 *   PMT_CASE_KNOBS              1 when the tree's switches exist (user/knobs.h:
 *                               userspace only; constants in the kernel)
 *   PMT_CASE_KNOB(name, on)     set the switch pmt_<name> (with
 *                               PMT_CASE_KNOBS only)
 *   PMT_CASE_RCU_THREAD(on)     the case's thread starts or stops using RCU
 *                               (liburcu registers threads)
 *   pmt_case_commit_plain(pm, levelled)
 *                               commit @pm without depth levelling, given
 *                               the levelled map @levelled of it
 *
 * and then includes this file again with PMT_CASE_SHARED(name) and
 * PMT_CASE_USER_ONLY(name) defined to list every case, in the order
 * userspace numbers them (the end of this file): a shared case is one of
 * this file, static void test_<name>(void); a user-only one is in
 * user/unit_test.c only, because it needs what only the userspace shim can
 * do: make the nth allocation fail (allocation_failures,
 * levelling_allocation_failures, update_allocation_failures), deliver a
 * fatal signal at the nth check (fatal_signal, update_allocation_failures),
 * or build without the tree's early leaves and compaction (no_early_leaves;
 * the kernel's tree has them always).
 */
#ifndef _PHYSMAP_TREE_CASES_H
#define _PHYSMAP_TREE_CASES_H

#define KIB		BIT_ULL(10)
#define MIB		BIT_ULL(20)
#define GIB		BIT_ULL(30)
#define TIB		BIT_ULL(40)
#define TOP		(~0ULL)

struct sec {
	u64 start, size;
};

/* Shapes that hold for one node width only. */
#define ANY_WIDTH_SKIP	U32_MAX
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
static unsigned int entry_level(const struct pmt_map *map, u32 entry)
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
	u32 index;

	PMT_REQUIRE(pm);
	for (i = 0; i < n; i++) {
		struct pmt_section sect = {
			.start = s[i].start, .size = s[i].size,
			.cookie = 100 + i, .offset = 7 * i,
		};
		int ret = pmt_pending_add(pm, &sect, PMT_PTR_MAX,
					  U64_MAX, &index);

		PMT_CHECK(ret == 0 && index == i + 1, "add %u: ret %d index %u", i,
			  ret, index);
	}
	map = pmt_commit(pm, 1, U64_MAX);
	pmt_pending_free(pm);
	PMT_REQUIRE(!IS_ERR(map));
	return map;
}

static void check_shape(const struct pmt_map *map, u32 nodes,
			u32 skip_entries, u32 skipped_levels,
			u32 max_depth, u32 subpages)
{
	if (nodes == ANY_WIDTH_SKIP)
		return;

	PMT_CHECK_EQ(nodes, map->nr_nodes);
	PMT_CHECK_EQ(skip_entries, map->skip_entries);
	PMT_CHECK_EQ(skipped_levels, map->skipped_levels);
	PMT_CHECK_EQ(max_depth, map->max_depth);
	PMT_CHECK_EQ(subpages, map->nr_subpages);
	PMT_CHECK(map->bytes >= sizeof(*map) + (u64)nodes * PMT_NODE_BYTES,
		  "bytes %zu for %u nodes", map->bytes, nodes);
}

static void check_lookup(const struct pmt_map *map, u64 addr,
			 u32 want)
{
	u32 got = pmt_map_lookup(map, addr);

	PMT_CHECK(got == want, "lookup %#llx: want %u got %u",
		  (unsigned long long)addr, want, got);
}

static void test_empty_map(void)
{
	struct pmt_map *map = build(12, NULL, 0);

	check_shape(map, 0, 0, 0, 0, 0);
	PMT_CHECK_EQ(0, map->root);
	check_lookup(map, 0, 0);
	check_lookup(map, 0x12345678, 0);
	check_lookup(map, TOP, 0);
	PMT_CHECK(!pmt_map_section(map, 0), "section 0 is not a section");
	PMT_CHECK(!pmt_map_section(map, 1), "no section 1");
	pmt_map_free(map);
}

/* One page: six pending nodes, all single-child: the root is the leaf. */
static void test_one_page_collapses_to_root_leaf(void)
{
	static const struct sec s[] = { { 0x5000, 4 * KIB } };
	struct pmt_map *map = build(12, s, 1);

	check_shape(map, 0, 0, 0, 0, 0);
	PMT_CHECK_EQ(1U << PMT_MAP_PTR_SHIFT, map->root);
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
	static const struct sec s[] = { { 6 * MIB, 2 * MIB } };
	struct pmt_map *map;

	/* The kernel's tree compacts always. */
	if (PMT_CASE_KNOBS) {
		PMT_CASE_KNOB(compaction, false);
		map = build(12, s, 1);
		/* Levels 5..1: five nodes, no level-0 node, a leaf at level 1. */
		check_shape9(map, 5, 0, 0, 5, 0);
		check_lookup(map, 6 * MIB, 1);
		check_lookup(map, 8 * MIB - 1, 1);
		check_lookup(map, 8 * MIB, 0);
		pmt_map_free(map);
		PMT_CASE_KNOB(compaction, true);
	}

	map = build(12, s, 1);
	check_shape(map, 0, 0, 0, 0, 0);
	check_lookup(map, 7 * MIB, 1);
	check_lookup(map, 6 * MIB - 1, 0);
	pmt_map_free(map);
}

/* 16 pages of one section: their level-0 node becomes the section's leaf. */
static void test_one_section_node_becomes_leaf(void)
{
	static const struct sec s[] = {
		{ 0x10000, 64 * KIB },		/* pages 0x10..0x1f */
		{ 2 * MIB + 0x5000, 8 * KIB },	/* pages 0x205, 0x206 */
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
	check_lookup(map, 2 * MIB + 0x5000, 2);
	check_lookup(map, 2 * MIB + 0x6fff, 2);
	check_lookup(map, 2 * MIB + 0x7000, 0);
	check_lookup(map, 2 * MIB, 0);
	pmt_map_free(map);
}

/* Two neighbour pages: one level-0 node, reached from the root by skip 6. */
static void test_skip_to_level_zero(void)
{
	static const struct sec s[] = { { 0, 4 * KIB }, { 4 * KIB, 4 * KIB } };
	struct pmt_map *map = build(12, s, 2);

	check_shape9(map, 1, 1, 5, 1, 0);
	PMT_CHECK_EQ(ROOT_SKIP(6, 9), root_skip(map));
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
	static const struct sec s[] = { { 0, 4 * KIB }, { 2 * MIB, 4 * KIB } };
	struct pmt_map *map = build(12, s, 2);

	check_shape9(map, 1, 1, 4, 1, 0);
	PMT_CHECK_EQ(ROOT_SKIP(5, 8), root_skip(map));
	check_lookup(map, 0, 1);
	check_lookup(map, 0xfff, 1);
	/* Lands in section 1's leaf through level 0, but is outside it. */
	check_lookup(map, 0x1000, 0);
	check_lookup(map, 0x1ff000, 0);
	check_lookup(map, 2 * MIB, 2);
	check_lookup(map, 2 * MIB + 0x1000, 0);
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
	static const struct sec s[] = { { TIB, TIB }, { 2 * TIB, TIB / 2 } };
	struct pmt_map *map = build(12, s, 1);

	check_shape(map, 0, 0, 0, 0, 0);
	check_lookup(map, TIB, 1);
	check_lookup(map, 2 * TIB - 1, 1);
	check_lookup(map, TIB - 1, 0);
	pmt_map_free(map);

	map = build(12, s, 2);
	check_shape9(map, 1, 1, 2, 1, 0);
	PMT_CHECK_EQ(ROOT_SKIP(3, 5), root_skip(map));
	check_lookup(map, TIB, 1);
	check_lookup(map, 2 * TIB - 1, 1);
	check_lookup(map, TIB - 1, 0);
	check_lookup(map, 2 * TIB, 2);
	check_lookup(map, 2 * TIB + TIB / 2 - 1, 2);
	check_lookup(map, 2 * TIB + TIB / 2, 0);
	/* Slots 2 and 3 again, 2^50 higher: through the skipped levels. */
	check_lookup(map, TIB + (1ULL << 50), 0);
	check_lookup(map, TIB + (1ULL << 63), 0);
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
	PMT_CHECK_EQ(3, map->nr_pieces);
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
	static const struct sec pages01[] = { { 0, 4 * KIB }, { 4 * KIB, 4 * KIB } };
	static const struct sec pages0_64[] = {
		{ 0, 4 * KIB }, { 64 * 4 * KIB, 4 * KIB },
	};
	static const struct sec large[] = { { TIB, TIB }, { 2 * TIB, TIB / 2 } };
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
	check_lookup(map, 64 * 4 * KIB, 2);
	pmt_map_free(map);

	/*
	 * 1 TiB at 1 TiB is slots 16..31 of the node indexed at level 4
	 * (2^24 pages per entry), 512 GiB at 2 TiB slots 32..39: one node,
	 * the root skips 5 levels to it.
	 */
	map = build(12, large, 2);
	check_shape6(map, 1, 1, 4, 1, 0);
	check_lookup(map, 2 * TIB - 1, 1);
	check_lookup(map, 2 * TIB, 2);
	check_lookup(map, 2 * TIB + TIB / 2, 0);
	check_lookup(map, TIB + (1ULL << 50), 0);
	pmt_map_free(map);
}

static void test_sections_at_the_top(void)
{
	static const struct sec s[] = {
		{ TOP - 4 * KIB + 1, 4 * KIB },	/* the last page */
		{ TOP - 3 * 4 * KIB + 1, 4 * KIB + 10 },
	};
	struct pmt_map *map = build(12, s, 2);

	check_lookup(map, TOP, 1);
	check_lookup(map, TOP - 4 * KIB + 1, 1);
	check_lookup(map, TOP - 4 * KIB, 0);
	check_lookup(map, TOP - 3 * 4 * KIB + 1, 2);
	check_lookup(map, TOP - 2 * 4 * KIB + 10, 2);
	check_lookup(map, TOP - 2 * 4 * KIB + 11, 0);
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
		{ 0, 640 * KIB }, { 0xa0000, 0x20000 }, { 0xfed00000, 0x400 },
		{ 0xfee00000, MIB }, { 4 * GIB, 6 * GIB }, { 0x1003, 0x10 },
	};
	static const u64 probes[] = {
		0, 0x9ffff, 0xa0000, 0xbffff, 0xc0000, 0xfed00000, 0xfed003ff,
		0xfed00400, 0xfee00000, 0xfeefffff, 4 * GIB - 1, 4 * GIB,
		10 * GIB - 1, 10 * GIB, TOP,
	};
	unsigned int shift, i;

	/* 0x1003 overlaps section 1: use a copy without it first. */
	for (shift = PMT_PAGE_SHIFT_MIN; shift <= PMT_PAGE_SHIFT_MAX;
	     shift++) {
		struct pmt_map *map = build(shift, s, 5);

		for (i = 0; i < ARRAY_SIZE(probes); i++) {
			u32 want = 0, k;

			for (k = 0; k < 5; k++)
				if (probes[i] - s[k].start < s[k].size)
					want = k + 1;
			check_lookup(map, probes[i], want);
		}
		pmt_map_free(map);
	}
	PMT_CHECK(!pmt_page_shift_valid(9), "9 is not a page_shift");
	PMT_CHECK(!pmt_page_shift_valid(17), "17 is not a page_shift");
}

static void test_add_errors_leave_map_as_it_was(void)
{
	struct pmt_pending *pm = pmt_pending_create(12);
	struct pmt_section a = { .start = 0x10000, .size = 0x3000 };
	struct pmt_section sub = { .start = 0x20010, .size = 0x10 };
	struct pmt_section bad;
	struct pmt_map *map;
	u32 index = 0;

	PMT_CHECK_EQ(0, pmt_pending_add(pm, &a, 10, U64_MAX, &index));
	PMT_CHECK_EQ(0, pmt_pending_add(pm, &sub, 10, U64_MAX, &index));
	bad = (struct pmt_section){ .start = 0x12fff, .size = 2 };
	PMT_CHECK_EQ(-EEXIST, pmt_pending_add(pm, &bad, 10, U64_MAX, &index));
	bad = (struct pmt_section){ .start = 0x20000, .size = 0x11 };
	PMT_CHECK_EQ(-EEXIST, pmt_pending_add(pm, &bad, 10, U64_MAX, &index));
	bad = (struct pmt_section){ .start = 0x2001f, .size = 1 };
	PMT_CHECK_EQ(-EEXIST, pmt_pending_add(pm, &bad, 10, U64_MAX, &index));
	bad = (struct pmt_section){ .start = 0, .size = 1ULL << 40 };
	PMT_CHECK_EQ(-EEXIST, pmt_pending_add(pm, &bad, 10, U64_MAX, &index));
	bad = (struct pmt_section){ .start = 5, .size = 0 };
	PMT_CHECK_EQ(-EINVAL, pmt_pending_add(pm, &bad, 10, U64_MAX, &index));
	bad = (struct pmt_section){ .start = TOP, .size = 2 };
	PMT_CHECK_EQ(-EINVAL, pmt_pending_add(pm, &bad, 10, U64_MAX, &index));
	bad = (struct pmt_section){ .start = 0x2000f, .size = 1 };
	PMT_CHECK_EQ(-ENOSPC, pmt_pending_add(pm, &bad, 2, U64_MAX, &index));
	PMT_CHECK_EQ(2, pmt_pending_sections(pm));
	/* Adjacent on both sides of the sub-page piece is fine. */
	PMT_CHECK_EQ(0, pmt_pending_add(pm, &bad, 10, U64_MAX, &index));
	PMT_CHECK_EQ(3, index);
	bad.start = 0x20020;
	PMT_CHECK_EQ(0, pmt_pending_add(pm, &bad, 10, U64_MAX, &index));
	PMT_CHECK_EQ(4, index);

	map = pmt_commit(pm, 1, U64_MAX);
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
static u64 answers(const struct pmt_map *map)
{
	u64 h = 0, addr;
	unsigned int i;

	for (i = 0; i < 4096; i++) {
		addr = (u64)i * 0x1001 * 0x101;
		h = h * 31 + pmt_map_lookup(map, addr);
		h = h * 31 + pmt_map_lookup(map, addr >> 3);
	}
	return h;
}

/* Nodes a lookup of @addr visits, walked here over the map's own arrays. */
static unsigned int visits(const struct pmt_map *map, u64 addr)
{
	u32 e = map->root;
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
				 u64 span, unsigned int n)
{
	unsigned int i, count = 0;

	for (i = 0; i < 1024; i++)
		count += visits(map, i * (span / 1024) + 0x123457) == n;
	return count;
}

/*
 * Build @s twice, with depth levelling and without (*@plain: the harness's
 * pmt_case_commit_plain()).
 */
static struct pmt_map *build_levelled(const struct sec *s, unsigned int n,
				      struct pmt_map **plain)
{
	struct pmt_pending *pm = pmt_pending_create(12);
	struct pmt_map *map;
	unsigned int i;
	u32 index;

	PMT_REQUIRE(pm);
	for (i = 0; i < n; i++) {
		struct pmt_section sect = {
			.start = s[i].start, .size = s[i].size,
			.cookie = 100 + i, .offset = 7 * i,
		};

		PMT_CHECK_EQ(0, pmt_pending_add(pm, &sect, PMT_PTR_MAX, U64_MAX,
						&index));
	}
	map = pmt_commit(pm, 1, U64_MAX);
	PMT_REQUIRE(!IS_ERR(map));
	*plain = pmt_case_commit_plain(pm, map);
	pmt_pending_free(pm);
	PMT_REQUIRE(!IS_ERR(*plain));
	return map;
}

/* A published entry: node @node, whose slots are at @level (page_shift 12). */
#define NODE_ENTRY(node, level) \
	((node) << PMT_MAP_PTR_SHIFT | (12 + (level) * PMT_NODE_BITS))
#define LEAF(section)	((section) << PMT_MAP_PTR_SHIFT)

/* The entry a walk for @addr ends on (a leaf). */
static u32 walk_leaf(const struct pmt_map *map, u64 addr)
{
	u32 e = map->root;

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
	unsigned int *levels = pmt_case_zalloc(map->nr_nodes + 1, sizeof(*levels));
	u32 skips = 0, skipped = 0, e, n, i, skip;

	PMT_CHECK(levels, "allocation");
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
	PMT_CHECK_EQ(skips, map->skip_entries);
	PMT_CHECK_EQ(skipped, map->skipped_levels);
	pmt_case_free(levels);
}

/* The most nodes a walk from @e visits; @memo: per node, 1 + that, or 0. */
static unsigned int dag_depth(const struct pmt_map *map, u32 e,
			      unsigned int *memo)
{
	unsigned int i, d, most = 0;
	u32 n = e >> PMT_MAP_PTR_SHIFT;

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
	unsigned int *memo = pmt_case_zalloc(map->nr_nodes + 1, sizeof(*memo));

	PMT_CHECK(memo, "allocation");
	if (!memo)
		return;
	PMT_CHECK_EQ(map->max_depth, dag_depth(map, map->root, memo));
	pmt_case_free(memo);
}

/*
 * Shifts fall along every path from @entry, chains included, so that the
 * debugfs dump's skips are all at least 1 (a small map: the DAG's paths).
 */
static void check_shifts_fall(const struct pmt_map *map, u32 entry)
{
	const u32 *node;
	unsigned int i;

	if (!(entry & PMT_MAP_SHIFT_MASK))
		return;
	node = &map->nodes[(size_t)(entry >> PMT_MAP_PTR_SHIFT) * PMT_NODE_SLOTS];
	for (i = 0; i < PMT_NODE_SLOTS; i++) {
		if (!(node[i] & PMT_MAP_SHIFT_MASK))
			continue;
		PMT_CHECK((node[i] & PMT_MAP_SHIFT_MASK) < (entry & PMT_MAP_SHIFT_MASK),
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
		{ 0, 768 * KIB },			/* 1: RAM */
		{ 768 * KIB, 256 * KIB },		/* 2: ROM */
		{ 1 * MIB, 511 * MIB },			/* 3: RAM */
		{ 4 * GIB - 256 * KIB, 256 * KIB },	/* 4: BIOS */
	};
	/* Three visits in the sections' leaves, two in unassigned space. */
	static const u64 addrs[] = {
		0, 0x5000, 0xc0000, 0xfffff, 1 * MIB, 100 * MIB,
		512 * MIB - 1, 3 * GIB, 4 * GIB - 256 * KIB - 1,
		4 * GIB - 256 * KIB, 4 * GIB - 1,
	};
	static const u64 unassigned[] = {
		512 * MIB, 1 * GIB - 1, 1 * GIB, 2 * GIB, 3 * GIB - 1,
	};
	struct pmt_map *plain, *map = build_levelled(s, 4, &plain);
	const u32 *n0 = map->nodes;
	u32 e;
	unsigned int i;

	PMT_CHECK_EQ(3, plain->max_depth);
	PMT_CHECK_EQ(3, map->max_depth);
	PMT_CHECK_EQ(plain->nr_nodes + 5, map->nr_nodes);
	PMT_CHECK(!map->mixed, "no sub-pages, yet a mixed map");
	PMT_CHECK(answers(map) == answers(plain), "levelling changed answers");
	for (i = 0; i < ARRAY_SIZE(addrs); i++)
		PMT_CHECK(visits(map, addrs[i]) == 3, "%#llx: %u visits",
			  (unsigned long long)addrs[i], visits(map, addrs[i]));
	for (i = 0; i < ARRAY_SIZE(unassigned); i++)
		PMT_CHECK(visits(map, unassigned[i]) == 3, "%#llx: %u visits",
			  (unsigned long long)unassigned[i],
			  visits(map, unassigned[i]));
	/* Addresses every 4 MiB: 3/4 ended on visit 1; now all end on 3. */
	PMT_CHECK_EQ(768, count_visits(plain, 4 * GIB, 1));
	PMT_CHECK_EQ(1024, count_visits(map, 4 * GIB, 3));
	/* Node 0's unassigned entries share one chain; the BIOS has its own. */
	PMT_CHECK_EQ(LEAF(0), walk_leaf(map, 2 * GIB));
	for (i = 4; i < PMT_NODE_SLOTS; i++)
		PMT_CHECK_EQ(n0[1], n0[i]);
	PMT_CHECK_EQ(n0[1], n0[2]);
	PMT_CHECK(n0[1] != n0[3], "the BIOS's chain is unassigned's");
	/* A chain of two nodes full of the same entry, then the leaf. */
	e = n0[3];
	for (i = 0; i < 2; i++) {
		const u32 *node = &map->nodes[(size_t)(e >> PMT_MAP_PTR_SHIFT) *
						   PMT_NODE_SLOTS];

		PMT_CHECK(e & PMT_MAP_SHIFT_MASK, "chain entry %#x", e);
		PMT_CHECK_EQ(node[0], node[PMT_NODE_SLOTS - 1]);
		e = node[0];
	}
	PMT_CHECK_EQ(LEAF(4), e);
	PMT_CHECK_EQ(LEAF(4), walk_leaf(map, 3 * GIB));
	check_shifts_fall(map, map->root);
	check_skip_counts(map);
	check_skip_counts(plain);
	check_max_depth(map);
	check_lookup(map, 0, 1);
	check_lookup(map, 0xc0000, 2);
	check_lookup(map, 0xfffff, 2);
	check_lookup(map, 1 * MIB, 3);
	check_lookup(map, 512 * MIB - 1, 3);
	check_lookup(map, 512 * MIB, 0);
	check_lookup(map, 2 * GIB, 0);
	check_lookup(map, 3 * GIB, 0);		/* through the BIOS's chain */
	check_lookup(map, 4 * GIB - 256 * KIB - 1, 0);
	check_lookup(map, 4 * GIB - 256 * KIB, 4);
	check_lookup(map, 4 * GIB - 1, 4);
	check_lookup(map, 4 * GIB, 0);
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
		s[n++] = (struct sec){ i * 16 * MIB, 4 * KIB };
		s[n++] = (struct sec){ i * 16 * MIB + 8 * KIB, 4 * KIB };
	}
	for (i = 1; i <= gibs; i++)
		s[n++] = (struct sec){ i * GIB, 4 * KIB };
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
	static struct sec s[80];	/* static: too big for a kernel stack */
	struct pmt_map *plain, *map;
	unsigned int i, n;

	/* Two pages of one node: every walk ends on visit 1. */
	n = deep_and_wide(s, 1, 0);
	map = build_levelled(s, n, &plain);
	PMT_CHECK_EQ(1, map->max_depth);
	PMT_CHECK_EQ(plain->nr_nodes, map->nr_nodes);
	PMT_CHECK(answers(map) == answers(plain), "answers");
	pmt_map_free(map);
	pmt_map_free(plain);

	n = deep_and_wide(s, 20, 20);
	map = build_levelled(s, n, &plain);
	PMT_CHECK_EQ(3, plain->max_depth);
	PMT_CHECK_EQ(plain->nr_nodes + 40, map->nr_nodes);
	PMT_CHECK(answers(map) == answers(plain), "answers");
	for (i = 0; i < n; i++)
		PMT_CHECK(visits(map, s[i].start) == 3, "section %u: %u visits",
			  i + 1, visits(map, s[i].start));
	check_shifts_fall(map, map->root);
	check_skip_counts(map);
	check_max_depth(map);
	check_lookup(map, 20 * GIB, 40 + 20);
	check_lookup(map, 20 * GIB + 4 * KIB, 0);
	check_lookup(map, 21 * GIB, 0);
	check_lookup(map, 16 * MIB + 8 * KIB, 4);
	check_lookup(map, 16 * MIB + 4 * KIB, 0);
	pmt_map_free(map);
	pmt_map_free(plain);

	n = deep_and_wide(s, 20, 40);
	map = build_levelled(s, n, &plain);
	PMT_CHECK_EQ(plain->nr_nodes, map->nr_nodes);
	PMT_CHECK(answers(map) == answers(plain), "answers");
	pmt_map_free(map);
	pmt_map_free(plain);
}

/*
 * A map whose lookups inside the sections end as often on sub-pages as on
 * sections resolves leaves without a branch on their kind, each slot's leaf
 * a sub-page of its own; one whose sub-pages are few does not.
 */
static void test_mixed_leaves(void)
{
	static struct sec s[64];	/* static: too big for a kernel stack */
	struct pmt_map *plain, *map;
	unsigned int i, n = 0;

	/* Pages of two pieces, and as many sections of whole pages. */
	for (i = 0; i < 16; i++) {
		s[n++] = (struct sec){ i * 64 * KIB, 0x800 };
		s[n++] = (struct sec){ i * 64 * KIB + 0x800, 0x400 };
		s[n++] = (struct sec){ i * 64 * KIB + 16 * KIB, 16 * KIB };
		s[n++] = (struct sec){ i * 64 * KIB + 32 * KIB, 8 * KIB };
	}
	map = build_levelled(s, n, &plain);
	PMT_CHECK(map->mixed, "half of the lookups end on sub-pages");
	/* A plain map of the kernel's harness is mixed still (see there). */
	PMT_CHECK(!PMT_CASE_KNOBS || !plain->mixed,
		  "mixed without levelling's samples");
	PMT_CHECK_EQ(16, map->nr_subpages);
	PMT_CHECK(answers(map) == answers(plain), "answers");
	check_shifts_fall(map, map->root);
	check_skip_counts(map);
	check_max_depth(map);
	/*
	 * Each slot's leaf as a sub-page: the section's range, the table of
	 * one byte of 1 after the others, the slot as base; the sub-pages
	 * right after the leaves.
	 */
	PMT_CHECK(map->leaves + map->leaf_subpages == map->subpages,
		  "sub-pages right after the leaves");
	PMT_CHECK_EQ(map->nr_slots, map->leaf_subpages);
	PMT_CHECK_EQ(1, map->tables[map->table_bytes]);
	for (i = 0; i < map->nr_slots; i++) {
		PMT_CHECK_EQ(map->sections[i].start, map->leaves[i].start);
		PMT_CHECK_EQ(map->sections[i].size, map->leaves[i].size);
		PMT_CHECK_EQ(map->table_bytes, map->leaves[i].table);
		PMT_CHECK_EQ(i, map->leaves[i].base);
		PMT_CHECK_EQ(PMT_LEAF_SHIFT, map->leaves[i].shift);
	}
	PMT_CHECK(!plain->leaves || plain->mixed, "leaves, yet not mixed");
	for (i = 0; i < n; i++) {
		check_lookup(map, s[i].start, i + 1);
		check_lookup(map, s[i].start + s[i].size - 1, i + 1);
	}
	check_lookup(map, 0xc00, 0);
	check_lookup(map, 0xfff, 0);
	check_lookup(map, 48 * KIB, 0);
	check_lookup(map, 1 * MIB, 0);
	check_lookup(map, TOP, 0);
	pmt_map_free(map);
	pmt_map_free(plain);

	/* 2 of 40 sections in the one sub-page, under 1/16: not mixed. */
	n = 0;
	s[n++] = (struct sec){ 0, 0x800 };
	s[n++] = (struct sec){ 0x800, 0x800 };
	for (i = 1; i < 39; i++)
		s[n++] = (struct sec){ i * 64 * KIB, 4 * KIB };
	map = build_levelled(s, n, &plain);
	PMT_CHECK(!map->mixed, "one sub-page of 40 sections");
	PMT_CHECK(answers(map) == answers(plain), "answers");
	pmt_map_free(map);
	pmt_map_free(plain);
}

static void test_retire(void)
{
	static const struct sec s[] = { { 0, 4 * KIB }, { 4 * KIB, 4 * KIB } };
	struct pmt_map *a = build(12, s, 2), *b = build(12, s, 2);
	struct pmt_map *c = build(12, s, 2), *d = build(12, s, 2);
	struct pmt_backlog *mine = pmt_backlog_create();
	struct pmt_backlog *other = pmt_backlog_create();
	size_t bytes = a->bytes, base = pmt_retired_bytes();

	PMT_REQUIRE(mine && other);
	PMT_CASE_RCU_THREAD(true);
	/* Under both bounds: freed by a callback after a grace period. */
	pmt_map_retire(a, mine, 1 << 20);
	rcu_barrier();
	PMT_CHECK_EQ(base, pmt_retired_bytes());
	PMT_CHECK_EQ(0, atomic_long_read(&mine->bytes));
	PMT_CHECK_EQ(0, atomic_long_read(&mine->waits));
	/* One owner's share is a quarter: the first map fits, a second not. */
	rcu_read_lock();	/* no grace period ends while this holds */
	pmt_map_retire(b, mine, PMT_BACKLOG_SHARES * bytes + 3);
	PMT_CHECK_EQ(bytes, atomic_long_read(&mine->bytes));
	/* Another owner still has room in the global backlog. */
	pmt_map_retire(c, other, PMT_BACKLOG_SHARES * bytes + 3);
	PMT_CHECK_EQ(bytes, atomic_long_read(&other->bytes));
	PMT_CHECK_EQ(base + 2 * bytes, pmt_retired_bytes());
	PMT_CHECK_EQ(0, atomic_long_read(&other->waits));
	rcu_read_unlock();
	/* Past its share: the caller waits and frees the map itself. */
	pmt_map_retire(d, mine, PMT_BACKLOG_SHARES * bytes + 3);
	PMT_CHECK_EQ(1, atomic_long_read(&mine->waits));
	PMT_CHECK_EQ(0, atomic_long_read(&other->waits));
	pmt_map_retire(NULL, mine, 0);
	/* Each map holds its owner's backlog until it is freed. */
	pmt_backlog_put(mine);
	pmt_backlog_put(other);
	rcu_barrier();
	PMT_CHECK_EQ(base, pmt_retired_bytes());
	PMT_CASE_RCU_THREAD(false);
}

/*
 * The byte bound: ADD never lets the pending map pass it and fails with
 * ENOSPC changing nothing; COMMIT fails with ENOSPC when the map would pass
 * it, and publishes without levelling when only the levelled copy would.
 */
static void test_byte_bound(void)
{
	static const struct sec lv[] = {
		{ 0, 768 * KIB }, { 768 * KIB, 256 * KIB }, { 1 * MIB, 511 * MIB },
		{ 4 * GIB - 256 * KIB, 256 * KIB },
	};
	struct pmt_pending *pm = pmt_pending_create(12);
	const u64 bound = 256 * KIB;
	struct pmt_map *map, *plain;
	unsigned int i, added = 0;
	size_t before;
	u32 index;
	int ret = 0;

	for (i = 0; i < 100000 && !ret; i++) {
		struct pmt_section sect = {
			.start = i * (1ULL << 36) + 0x1801, .size = 3 * 4096,
		};
		u32 sections = pmt_pending_sections(pm);

		before = pmt_pending_bytes(pm);
		ret = pmt_pending_add(pm, &sect, PMT_PTR_MAX,
				      bound, &index);
		PMT_CHECK(pmt_pending_bytes(pm) <= bound, "%zu bytes pending",
			  pmt_pending_bytes(pm));
		if (ret) {
			PMT_CHECK_EQ(-ENOSPC, ret);
			PMT_CHECK_EQ(sections, pmt_pending_sections(pm));
			PMT_CHECK_EQ(before, pmt_pending_bytes(pm));
		} else {
			added++;
		}
	}
	PMT_CHECK(ret == -ENOSPC && added > 10, "ENOSPC after %u sections", added);
	/* Doubling gave way to growing by what a section needs. */
	PMT_CHECK(before > bound - bound / 8, "stopped at %zu of %llu bytes",
		  before, (unsigned long long)bound);

	/*
	 * The pending map holds sections only, so the map built from it may
	 * be the bigger one: COMMIT's bound is the map's own size and the
	 * order it reads the sections in, 4 bytes per section.
	 */
	map = pmt_commit(pm, 1, U64_MAX);
	PMT_CHECK(!IS_ERR(map), "commit without a bound");
	if (!IS_ERR(map)) {
		size_t bytes = map->bytes +
			       pmt_pending_sections(pm) * sizeof(u32);

		PMT_CHECK_EQ(-ENOSPC, PTR_ERR(pmt_commit(pm, 1, bytes - 1)));
		pmt_map_free(map);
		map = pmt_commit(pm, 1, bytes);
		PMT_CHECK(!IS_ERR(map), "commit within the bound");
		if (!IS_ERR(map))
			pmt_map_free(map);
	}
	pmt_pending_free(pm);

	/* Levelling needs room for its nodes; without it, none is done. */
	map = build_levelled(lv, 4, &plain);
	PMT_CHECK(map->nr_nodes > plain->nr_nodes, "levelled");
	pm = pmt_pending_create(12);
	for (i = 0; i < 4; i++) {
		struct pmt_section sect = { .start = lv[i].start,
					     .size = lv[i].size };

		PMT_CHECK_EQ(0, pmt_pending_add(pm, &sect, 10, U64_MAX,
						&index));
	}
	pmt_map_free(map);
	/* The unlevelled map's bytes and the order of its 4 sections. */
	map = pmt_commit(pm, 1, plain->bytes + 4 * sizeof(u32));
	PMT_CHECK(!IS_ERR(map) && map->nr_nodes == plain->nr_nodes &&
		  answers(map) == answers(plain), "unlevelled within the bound");
	if (!IS_ERR(map))
		pmt_map_free(map);
	pmt_map_free(plain);
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
	static struct sec many[300];	/* static: too big for a kernel stack */
	struct pmt_map *map;
	unsigned int i;

	map = build(12, fine, 3);
	PMT_CHECK_EQ(1, map->nr_subpages);
	PMT_CHECK_EQ(0, map->subpages[0].shift);
	PMT_CHECK_EQ(4096, map->table_bytes);
	check_lookup(map, 0x1100, 0);
	check_lookup(map, 0x1ffe, 0);
	check_lookup(map, 0x1fff, 3);
	pmt_map_free(map);

	map = build(12, coarse, 2);
	PMT_CHECK_EQ(8, map->subpages[0].shift);
	PMT_CHECK_EQ(16, map->table_bytes);
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
	PMT_CHECK_EQ(2, map->nr_subpages);
	for (i = 0; i < 2; i++) {
		const struct pmt_subpage *sp = &map->subpages[i];

		if (sp->start == 0x5000)
			PMT_CHECK_EQ(PMT_SUBPAGE_SEARCH, sp->shift);
		else
			PMT_CHECK(sp->start == 0x6000 &&
				  sp->shift != PMT_SUBPAGE_SEARCH && sp->base == 3,
				  "sub-page at %#llx: shift %u base %u",
				  (unsigned long long)sp->start, sp->shift,
				  sp->base);
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
	PMT_CHECK_EQ(PMT_SUBPAGE_SEARCH, map->subpages[0].shift);
	PMT_CHECK_EQ(0, map->table_bytes);
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
	static const u64 addrs[] = {
		0x1000, 0x3fff, 0x4000, 0x40ff, 0x4100, 0x4200, 0x4fff,
		1ULL << 40, (1ULL << 40) + (1ULL << 30), 0, TOP,
	};
	unsigned int i, hint;

	for (i = 0; i < ARRAY_SIZE(addrs); i++)
		for (hint = 0; hint <= 6; hint++)
			PMT_CHECK(pmt_map_lookup_hint(map, addrs[i], hint) ==
				  pmt_map_lookup(map, addrs[i]),
				  "addr %#llx hint %u",
				  (unsigned long long)addrs[i], hint);
	PMT_CHECK_EQ(2, pmt_map_lookup_hint(map, 0x4000, 2));
	PMT_CHECK_EQ(4, pmt_map_lookup_hint(map, (1ULL << 40) + 5, U32_MAX));
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
	/* static: too big for a kernel stack */
	static u64 addrs[3 * PMT_RUN_LEN];
	static u32 indexes[3 * PMT_RUN_LEN];
	/* four sections' starts, then a gap */
	static const u64 starts[] = {
		0x1000, 0x4000, 0x4200, 1ULL << 40, 0x4100,
	};
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
				addrs[i] = starts[i / 16 % 5] + i % 16;
				break;
			default: /* runs of 2: too short to try */
				addrs[i] = starts[i / 2 % 4] + i % 2;
				break;
			}
		}
		for (n = 1; n <= 3 * PMT_RUN_LEN; n += 37) {
			near = PMT_NEAR_INIT;
			for (i = 0; i + n <= 3 * PMT_RUN_LEN; i += n)
				pmt_map_lookup_run(map, addrs + i, indexes + i,
						   n, &near);
			for (i = 0; i + n <= 3 * PMT_RUN_LEN; i++)
				PMT_CHECK(indexes[i] == pmt_map_lookup(map, addrs[i]),
					  "pattern %u run %u addr %#llx", pattern,
					  n, (unsigned long long)addrs[i]);
		}
		near = PMT_NEAR_INIT;
		pmt_map_lookup_run(map, addrs, indexes, PMT_RUN_LEN, &near);
		PMT_CHECK_EQ(pattern == 1 || pattern == 3, near.try_last);
		PMT_CHECK_EQ(indexes[PMT_RUN_LEN - 1], near.last);
		/* An empty run changes nothing. */
		pmt_map_lookup_run(map, addrs, indexes, 0, &near);
		PMT_CHECK_EQ(pattern == 1 || pattern == 3, near.try_last);
	}
	pmt_map_free(map);
}

/*
 * pmt_map_lookup_many() and pmt_map_lookup_many_hint() (each answer the
 * next one's hint, from no hint, a section, the last and one past every
 * section) answer as pmt_map_lookup() does, address by address, on a mixed
 * map (its own loop of the mixed lookup), on a plain one (the walk
 * inlined), on a map whose root is a section's leaf (its range check
 * alone) and on one of a single piece of a sub-page: sections, sub-page
 * pieces, holes between pieces, gaps between sections and addresses a
 * skipping walk reaches leaves that do not cover.
 */
static void test_lookup_many(void)
{
	static struct sec s[64];	/* static: too big for a kernel stack */
	static u64 addrs[512];
	static u32 indexes[512];
	/* no hint, section 1, the last section, past every section */
	u32 hints[4] = { 0, 1, 0, U32_MAX }, got;
	struct pmt_map *map;
	unsigned int i, n, kind, hint;

	for (kind = 0; kind < 4; kind++) {
		n = 0;
		if (kind == 2) {	/* one section: the root is its leaf */
			s[n++] = (struct sec){ 0x10000, 0x30000 };
		} else if (kind == 3) {	/* one piece of one sub-page */
			s[n++] = (struct sec){ 0x10100, 0x100 };
		} else if (kind == 0) {	/* mixed: as in test_mixed_leaves() */
			for (i = 0; i < 16; i++) {
				s[n++] = (struct sec){ i * 64 * KIB, 0x800 };
				s[n++] = (struct sec){ i * 64 * KIB + 0x800, 0x400 };
				s[n++] = (struct sec){ i * 64 * KIB + 16 * KIB, 16 * KIB };
				s[n++] = (struct sec){ i * 64 * KIB + 32 * KIB, 8 * KIB };
			}
		} else {		/* plain: one sub-page, whole pages */
			s[n++] = (struct sec){ 0, 0x800 };
			s[n++] = (struct sec){ 0x800, 0x400 };
			for (i = 1; i < 39; i++)
				s[n++] = (struct sec){ i * 64 * KIB, 4 * KIB };
			s[n++] = (struct sec){ 1ULL << 40, 1ULL << 30 };
		}
		map = build(12, s, n);
		hints[2] = n;
		PMT_CHECK_EQ(kind == 0, map->mixed);
		PMT_CHECK(!map->batched, "kind %u", kind);
		if (kind == 2)
			PMT_CHECK_EQ(0, map->root & (PMT_MAP_SHIFT_MASK |
						     PMT_MAP_SUBPAGE));
		for (i = 0; i < 512; i++) {
			const struct sec *sec = &s[i % n];

			switch (i / n % 4) {
			case 0:		/* first byte */
				addrs[i] = sec->start;
				break;
			case 1:		/* last byte */
				addrs[i] = sec->start + sec->size - 1;
				break;
			case 2:		/* just past it: a neighbour or a gap */
				addrs[i] = sec->start + sec->size;
				break;
			default:	/* far above: levels skipped */
				addrs[i] = sec->start + (1ULL << (32 + i % 20));
				break;
			}
		}
		pmt_map_lookup_many(map, addrs, indexes, 512);
		for (i = 0; i < 512; i++)
			PMT_CHECK(indexes[i] == pmt_map_lookup(map, addrs[i]),
				  "kind %u addr %#llx: %u", kind,
				  (unsigned long long)addrs[i], indexes[i]);
		/* The same with each answer the next one's hint. */
		for (hint = 0; hint < 4; hint++) {
			got = pmt_map_lookup_many_hint(map, addrs, indexes, 512,
						       hints[hint]);
			for (i = 0; i < 512; i++)
				PMT_CHECK(indexes[i] ==
					  pmt_map_lookup(map, addrs[i]),
					  "kind %u hint %u addr %#llx: %u",
					  kind, hints[hint],
					  (unsigned long long)addrs[i],
					  indexes[i]);
			PMT_CHECK_EQ(indexes[511], got);
		}
		/* nothing is written past @n */
		indexes[1] = U32_MAX;
		pmt_map_lookup_many(map, addrs, indexes, 1);
		PMT_CHECK_EQ(U32_MAX, indexes[1]);
		pmt_map_lookup_many(map, addrs, indexes, 0);
		PMT_CHECK_EQ(U32_MAX, indexes[1]);
		pmt_map_lookup_many_hint(map, addrs, indexes, 1, 1);
		PMT_CHECK_EQ(U32_MAX, indexes[1]);
		PMT_CHECK_EQ(7, pmt_map_lookup_many_hint(map, addrs, indexes,
							 0, 7));
		PMT_CHECK_EQ(U32_MAX, indexes[1]);
		pmt_map_free(map);
	}
}

/* Add @sect to @pm; it must succeed with index @want. */
static void add_want(struct pmt_pending *pm, u64 start, u64 size, u32 want)
{
	struct pmt_section sect = {
		.start = start, .size = size, .cookie = start ^ size,
		.offset = size,
	};
	u32 index = 0;
	int ret = pmt_pending_add(pm, &sect, PMT_PTR_MAX, U64_MAX, &index);

	PMT_CHECK(ret == 0 && index == want,
		  "add %#llx+%#llx: ret %d index %u, want index %u",
		  (unsigned long long)start, (unsigned long long)size, ret,
		  index, want);
}

/* The slot of the answer for @addr in @map: a hint, as lookups return. */
static u32 slot_of_answer(const struct pmt_map *map, u64 addr)
{
	u32 index;

	return pmt_map_lookup_section(map, addr, &index) - map->sections;
}

/*
 * Each of @indexes answers as pmt_map_lookup() does for its address; @how
 * and @kind name the lookups that gave them.
 */
static void check_answers(const struct pmt_map *map, const u64 *addrs,
			  const u32 *indexes, unsigned int n, const char *how,
			  unsigned int kind)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		PMT_CHECK(indexes[i] == pmt_map_lookup(map, addrs[i]),
			  "%s, kind %u, addr %#llx: %u", how, kind,
			  (unsigned long long)addrs[i], indexes[i]);
}

/*
 * Lookups of many addresses in a map of PMT_BATCH_BYTES (4 MiB) or more
 * walk them in batches (map_many_batched()): they answer as
 * pmt_map_lookup() does on a plain map, a mixed one and one an update
 * made (slots to translate), through pmt_map_lookup_many(), _many_hint()
 * and _run(), over addresses all over the map, runs of 16 in one section,
 * gaps and addresses far above, in whole batches and a short last one.
 * The maps of test_lookup_many() are too small to batch.
 */
static void test_lookup_many_batched(void)
{
	/* the sections alone fill PMT_BATCH_BYTES */
	const unsigned int groups = 4 * MIB /
				    (4 * sizeof(struct pmt_section)) + 1;
	const unsigned int nr = 4 * groups, na = 1000;
	struct sec *s = pmt_case_zalloc(nr, sizeof(*s));
	u64 *addrs = pmt_case_zalloc(na, sizeof(*addrs));
	u32 *indexes = pmt_case_zalloc(na, sizeof(*indexes));
	struct pmt_pending *pm;
	struct pmt_map *map, *next;
	struct pmt_near near;
	unsigned int kind, i, k = 0;
	u32 got, hash;
	u64 base;

	PMT_REQUIRE(s && addrs && indexes);
	for (kind = 0; kind < 3; kind++) {
		for (i = 0; i < groups; i++) {
			base = i * 64 * KIB;
			if (kind == 0) {	/* mixed, as in test_lookup_many() */
				s[4 * i] = (struct sec){ base, 0x800 };
				s[4 * i + 1] = (struct sec){ base + 0x800, 0x400 };
			} else {		/* whole pages */
				s[4 * i] = (struct sec){ base, 4 * KIB };
				s[4 * i + 1] = (struct sec){ base + 8 * KIB,
							     8 * KIB };
			}
			s[4 * i + 2] = (struct sec){ base + 16 * KIB, 16 * KIB };
			s[4 * i + 3] = (struct sec){ base + 32 * KIB, 8 * KIB };
		}
		pm = pmt_pending_create(12);
		PMT_REQUIRE(pm);
		for (i = 0; i < nr; i++)
			add_want(pm, s[i].start, s[i].size, i + 1);
		map = pmt_commit(pm, 1, U64_MAX);
		PMT_REQUIRE(!IS_ERR(map));
		/*
		 * Sections replaced: the first update builds the map anew, with
		 * room; the second appends a slot past the primary ones.
		 */
		for (i = 0; kind == 2 && i < 2; i++) {
			PMT_CHECK_EQ(0, pmt_pending_remove(pm, 3 + 4 * i));
			add_want(pm, s[2 + 4 * i].start, 8 * KIB, 3 + 4 * i);
			next = pmt_commit_update(pm, map, 2 + i, U64_MAX);
			PMT_REQUIRE(!IS_ERR(next));
			pmt_map_free(map);
			map = next;
		}
		PMT_CHECK_EQ(kind == 2 ? PMT_KIND_SLOTS : 0,
			     map->kind & PMT_KIND_SLOTS);
		pmt_pending_free(pm);
		PMT_CHECK_EQ(kind == 0, map->mixed);
		PMT_CHECK(map->batched, "kind %u: %u nodes", kind,
			  map->nr_nodes);

		hash = 1;
		for (i = 0; i < na; i++) {
			hash = hash * 1103515245 + 12345;
			if (i % 16 == 0)	/* the next run's section */
				k = (hash >> 8) % nr;
			switch (i / 16 % 4) {
			case 0:	/* a run of 16 in one section */
			case 1:
				addrs[i] = s[k].start + (hash >> 4) % s[k].size;
				break;
			case 2:	/* anywhere, gaps too */
				addrs[i] = (u64)(hash >> 2) % (groups * 64 * KIB);
				break;
			default: /* far above: levels skipped */
				addrs[i] = s[(hash >> 8) % nr].start +
					   (1ULL << (32 + i % 20));
				break;
			}
		}
		/* The last answer, the hint returned, is a section's. */
		addrs[na - 1] = s[nr - 1].start;
		got = pmt_map_lookup_many(map, addrs, indexes, na);
		PMT_CHECK(got, "kind %u", kind);
		check_answers(map, addrs, indexes, na, "many", kind);
		PMT_CHECK_EQ(slot_of_answer(map, addrs[na - 1]), got);
		memset(indexes, 0xff, na * sizeof(*indexes));
		got = pmt_map_lookup_many_hint(map, addrs, indexes, na, 1);
		check_answers(map, addrs, indexes, na, "many_hint", kind);
		PMT_CHECK_EQ(slot_of_answer(map, addrs[na - 1]), got);
		memset(indexes, 0xff, na * sizeof(*indexes));
		near = PMT_NEAR_INIT;
		for (i = 0; i < na; i += PMT_RUN_LEN)
			pmt_map_lookup_run(map, addrs + i, indexes + i,
					   min_t(u32, PMT_RUN_LEN, na - i),
					   &near);
		check_answers(map, addrs, indexes, na, "run", kind);
		/* nothing is written past @n */
		indexes[1] = U32_MAX;
		pmt_map_lookup_many(map, addrs, indexes, 1);
		PMT_CHECK_EQ(U32_MAX, indexes[1]);
		PMT_CHECK_EQ(PMT_UNASSIGNED,
			     pmt_map_lookup_many(map, addrs, indexes, 0));
		PMT_CHECK_EQ(U32_MAX, indexes[1]);
		pmt_map_free(map);
	}
	pmt_case_free(indexes);
	pmt_case_free(addrs);
	pmt_case_free(s);
}

/*
 * REMOVE frees a section's range and index: whole pages, a sub-page piece
 * and a sub-page emptied; ADD takes the lowest free index; errors change
 * nothing.
 */
static void test_remove_frees_range_and_index(void)
{
	struct pmt_pending *pm = pmt_pending_create(12);
	const struct pmt_section *sect;
	struct pmt_map *map;
	size_t bytes;

	PMT_REQUIRE(pm);
	add_want(pm, 0x10000, 0x3000, 1);	/* whole pages */
	add_want(pm, 0x20010, 0x10, 2);		/* a piece of page 0x20 */
	add_want(pm, 0x20020, 0x20, 3);		/* another piece there */
	add_want(pm, 1 * GIB, 1 * GIB, 4);	/* an early leaf */
	PMT_CHECK_EQ(5, pmt_pending_next_index(pm));

	PMT_CHECK_EQ(-ENOENT, pmt_pending_remove(pm, PMT_UNASSIGNED));
	PMT_CHECK_EQ(-ENOENT, pmt_pending_remove(pm, 5));
	PMT_CHECK_EQ(-ENOENT, pmt_pending_remove(pm, U32_MAX));
	PMT_CHECK_EQ(0, pmt_pending_remove(pm, 2));
	bytes = pmt_pending_bytes(pm);
	PMT_CHECK_EQ(-ENOENT, pmt_pending_remove(pm, 2));
	PMT_CHECK_EQ(bytes, pmt_pending_bytes(pm));
	PMT_CHECK_EQ(3, pmt_pending_sections(pm));
	PMT_CHECK_EQ(2, pmt_pending_next_index(pm));

	/* The freed piece's bytes and its index go to a new section. */
	add_want(pm, 0x20000, 0x20, 2);
	PMT_CHECK_EQ(0, pmt_pending_remove(pm, 4));
	PMT_CHECK_EQ(0, pmt_pending_remove(pm, 1));
	PMT_CHECK_EQ(1, pmt_pending_next_index(pm));
	add_want(pm, 1 * GIB + 0x1000, 0x2000, 1);	/* inside the old leaf */
	add_want(pm, 0x11000, 0x800, 4);		/* inside old section 1 */
	add_want(pm, 0x30000, 0x1000, 5);
	PMT_CHECK_EQ(5, pmt_pending_sections(pm));

	map = pmt_commit(pm, 1, U64_MAX);
	PMT_REQUIRE(!IS_ERR(map));
	PMT_CHECK_EQ(5, map->nr_held);
	check_lookup(map, 0x10000, 0);
	check_lookup(map, 0x11000, 4);
	check_lookup(map, 0x117ff, 4);
	check_lookup(map, 0x11800, 0);
	check_lookup(map, 0x12fff, 0);
	check_lookup(map, 0x20000, 2);
	check_lookup(map, 0x2001f, 2);
	check_lookup(map, 0x20020, 3);
	check_lookup(map, 0x2003f, 3);
	check_lookup(map, 0x20040, 0);
	check_lookup(map, 1 * GIB, 0);
	check_lookup(map, 1 * GIB + 0x1000, 1);
	check_lookup(map, 1 * GIB + 0x3000, 0);
	check_lookup(map, 2 * GIB - 1, 0);
	check_lookup(map, 0x30000, 5);
	sect = pmt_map_section(map, 4);
	PMT_CHECK(sect && sect->start == 0x11000 && sect->size == 0x800,
		  "section 4 is the one added last");
	pmt_map_free(map);

	/* Everything removed: the map is empty, its sub-page too. */
	PMT_CHECK_EQ(0, pmt_pending_remove(pm, 2));
	PMT_CHECK_EQ(0, pmt_pending_remove(pm, 3));
	PMT_CHECK_EQ(0, pmt_pending_remove(pm, 1));
	PMT_CHECK_EQ(0, pmt_pending_remove(pm, 4));
	PMT_CHECK_EQ(0, pmt_pending_remove(pm, 5));
	PMT_CHECK_EQ(0, pmt_pending_sections(pm));
	map = pmt_commit(pm, 2, U64_MAX);
	PMT_REQUIRE(!IS_ERR(map));
	PMT_CHECK_EQ(0, map->nr_held);
	PMT_CHECK_EQ(0, map->nr_nodes);
	PMT_CHECK_EQ(0, map->nr_subpages);
	check_lookup(map, 0x20000, 0);
	check_lookup(map, 0x11000, 0);
	check_lookup(map, 1 * GIB + 0x1000, 0);
	PMT_CHECK(!pmt_map_section(map, 1), "section 1 removed");
	pmt_pending_free(pm);
	pmt_map_free(map);
}

/*
 * An update starts from the published map: its sections with their
 * indexes, its holes free lowest first, its page_shift; committed unchanged
 * it answers as the map it came from.
 */
static void test_update_keeps_sections(void)
{
	static const struct sec s[] = {
		{ 0, 640 * KIB }, { 0xc0000, 0x10 }, { 0xc0010, 0xff0 },
		{ 1 * MIB, 1 * GIB - 1 * MIB }, { 4 * GIB, 4 * GIB },
		{ 0xfee00000, 0x1000 }, { 0xfed00400, 0x400 },
	};
	struct pmt_pending *pm = pmt_pending_create(10);
	struct pmt_map *map, *again;
	const struct pmt_section *a, *b;
	unsigned int i;

	PMT_REQUIRE(pm);
	for (i = 0; i < ARRAY_SIZE(s); i++)
		add_want(pm, s[i].start, s[i].size, i + 1);
	PMT_CHECK_EQ(0, pmt_pending_remove(pm, 3));
	PMT_CHECK_EQ(0, pmt_pending_remove(pm, 6));
	map = pmt_commit(pm, 1, U64_MAX);
	pmt_pending_free(pm);
	PMT_REQUIRE(!IS_ERR(map));

	pm = pmt_pending_update(map, U64_MAX);
	PMT_REQUIRE(!IS_ERR(pm));
	PMT_CHECK_EQ(5, pmt_pending_sections(pm));
	PMT_CHECK_EQ(3, pmt_pending_next_index(pm));
	again = pmt_commit(pm, 2, U64_MAX);
	PMT_REQUIRE(!IS_ERR(again));
	PMT_CHECK_EQ(map->nr_sections, again->nr_sections);
	PMT_CHECK_EQ(map->nr_held, again->nr_held);
	PMT_CHECK_EQ(map->page_shift, again->page_shift);
	PMT_CHECK_EQ(answers(map), answers(again));
	for (i = 1; i < map->nr_sections; i++) {
		a = pmt_map_section(map, i);
		b = pmt_map_section(again, i);
		PMT_CHECK(!a == !b && (!a || !memcmp(a, b, sizeof(*a))),
			  "section %u differs", i);
	}
	PMT_CHECK(!pmt_map_section(again, 3) && !pmt_map_section(again, 6),
		  "holes stay holes");
	pmt_map_free(again);

	/* Holes come back lowest first, then the map grows. */
	add_want(pm, 0xc0010, 0x10, 3);
	add_want(pm, 0xfee00000, 0x800, 6);
	add_want(pm, 0xfee00800, 0x800, 8);
	PMT_CHECK_EQ(0, pmt_pending_remove(pm, 5));
	add_want(pm, 4 * GIB, 0x1000, 5);
	again = pmt_commit(pm, 3, U64_MAX);
	PMT_REQUIRE(!IS_ERR(again));
	check_lookup(again, 0xc0010, 3);
	check_lookup(again, 0xc0020, 0);
	check_lookup(again, 0xfee007ff, 6);
	check_lookup(again, 0xfee00800, 8);
	check_lookup(again, 4 * GIB + 0xfff, 5);
	check_lookup(again, 4 * GIB + 0x1000, 0);
	check_lookup(again, 0xfed00400, 7);
	check_lookup(again, 0, 1);
	pmt_map_free(again);
	pmt_pending_free(pm);
	pmt_map_free(map);
}

#define UPD_CELLS	96
#define UPD_ROUNDS	200

/* The random state of test_random_updates(): xorshift64. */
static u64 upd_next(u64 *state)
{
	*state ^= *state << 13;
	*state ^= *state >> 7;
	*state ^= *state << 17;
	return *state;
}

/* A random section inside cell @k: small ones share pages, big ones not. */
static void upd_section(u64 *state, unsigned int k, u64 *start, u64 *size)
{
	u64 base, span, r = upd_next(state);

	if (k < UPD_CELLS / 2) {
		/* Cells of 16 KiB: pieces of pages and whole pages. */
		base = (u64)k * 0x4000;
		span = 0x4000;
	} else {
		/* Cells of 64 GiB far up: early leaves. */
		base = (u64)(k - UPD_CELLS / 2) << 36 | 1ULL << 44;
		span = 1ULL << 36;
	}
	switch (r % 3) {
	case 0:
		*start = base + (r >> 8) % (span / 2);
		*size = 1 + (r >> 40) % (span / 2);
		break;
	case 1:
		*start = base + ((r >> 8) % (span / 0x2000)) * 0x1000;
		*size = (1 + (r >> 40) % (span / 0x2000)) * 0x1000;
		break;
	default:
		*start = base;
		*size = span;
		break;
	}
}

/* The model of test_random_updates(): what each cell holds. */
struct upd_model {
	u64 start[UPD_CELLS];
	u64 size[UPD_CELLS];
	u32 index[UPD_CELLS];	/* 0: the cell is free */
	u32 used[UPD_CELLS + 1];
};

/* The lowest index no cell of @md holds: the one ADD must give. */
static u32 upd_lowest_free(struct upd_model *md)
{
	unsigned int i;
	u32 want;

	memset(md->used, 0, sizeof(md->used));
	for (i = 0; i < UPD_CELLS; i++)
		if (md->index[i])
			md->used[md->index[i]] = 1;
	for (want = 1; md->used[want]; want++)
		;
	return want;
}

/*
 * Rounds of update transactions (and now and then a fresh BEGIN) of
 * random REMOVEs and ADDs against a model: every index ADD gives, and
 * every lookup at the edges of every cell and section, as the model says.
 */
static void test_random_updates(void)
{
	struct upd_model *md = pmt_case_zalloc(1, sizeof(*md));
	u64 *start, *size, state = 0x9e3779b97f4a7c15ULL;
	struct pmt_map *map = NULL, *next;
	unsigned int round, op, k, held = 0;
	u32 *index, got, want;
	struct pmt_pending *pm;

	PMT_REQUIRE(md);
	start = md->start;
	size = md->size;
	index = md->index;
	for (round = 0; round < UPD_ROUNDS; round++) {
		if (!map || round % 50 == 49) {
			pm = pmt_pending_create(12);
			PMT_REQUIRE(pm);
			memset(md->index, 0, sizeof(md->index));
			held = 0;
		} else {
			pm = pmt_pending_update(map, U64_MAX);
			PMT_REQUIRE(!IS_ERR(pm));
		}
		for (op = 0; op < 1 + upd_next(&state) % 8; op++) {
			k = upd_next(&state) % UPD_CELLS;
			if (index[k]) {
				PMT_CHECK_EQ(0, pmt_pending_remove(pm, index[k]));
				PMT_CHECK_EQ(-ENOENT,
					     pmt_pending_remove(pm, index[k]));
				index[k] = 0;
				held--;
				continue;
			}
			/* The lowest index no cell holds. */
			want = upd_lowest_free(md);
			PMT_CHECK_EQ(want, pmt_pending_next_index(pm));
			upd_section(&state, k, &start[k], &size[k]);
			add_want(pm, start[k], size[k], want);
			index[k] = want;
			held++;
		}
		PMT_CHECK_EQ(held, pmt_pending_sections(pm));
		next = pmt_commit(pm, round + 1, U64_MAX);
		pmt_pending_free(pm);
		PMT_REQUIRE(!IS_ERR(next));
		pmt_map_free(map);
		map = next;
		PMT_CHECK_EQ(held, map->nr_held);
		for (k = 0; k < UPD_CELLS; k++) {
			if (!index[k]) {
				upd_section(&state, k, &start[k], &size[k]);
				check_lookup(map, start[k], 0);
				check_lookup(map, start[k] + size[k] - 1, 0);
				continue;
			}
			got = pmt_map_lookup(map, start[k]);
			PMT_CHECK(got == index[k], "round %u cell %u: %u not %u",
				  round, k, got, index[k]);
			check_lookup(map, start[k] + size[k] - 1, index[k]);
			check_lookup(map, start[k] + size[k] / 2, index[k]);
			if (k % (UPD_CELLS / 2) && start[k] % 0x4000)
				check_lookup(map, start[k] - 1, 0);
			PMT_CHECK(pmt_map_section(map, index[k]) &&
				  pmt_map_section(map, index[k])->start == start[k],
				  "round %u: section %u", round, index[k]);
		}
	}
	pmt_map_free(map);
	pmt_case_free(md);
}

/*
 * Check @map against @fresh, a full build of the same sections: every
 * cell's first, middle and last byte and the bytes around it, looked up
 * one by one (with the section found), in a run and in a run that tries
 * each answer before it; and every index's section.
 */
static void upd_same(const struct pmt_map *map, const struct pmt_map *fresh,
		     const struct upd_model *md, unsigned int round)
{
	static u64 addrs[UPD_CELLS * 5];
	static u32 got[UPD_CELLS * 5];
	unsigned int k, i, n = 0;
	struct pmt_near near;

	for (k = 0; k < UPD_CELLS; k++) {
		addrs[n++] = md->start[k];
		addrs[n++] = md->start[k] - 1;
		addrs[n++] = md->start[k] + md->size[k] / 2;
		addrs[n++] = md->start[k] + md->size[k] - 1;
		addrs[n++] = md->start[k] + md->size[k];
	}
	for (i = 0; i < n; i++) {
		const struct pmt_section *a, *b;
		u32 ia, ib;

		a = pmt_map_lookup_section(map, addrs[i], &ia);
		b = pmt_map_lookup_section(fresh, addrs[i], &ib);
		PMT_CHECK(ia == ib && a->start == b->start &&
			  a->size == b->size && a->cookie == b->cookie &&
			  ia == pmt_map_lookup(map, addrs[i]),
			  "round %u addr %#llx: %u not %u", round,
			  (unsigned long long)addrs[i], ia, ib);
	}
	pmt_map_lookup_many(map, addrs, got, n);
	for (i = 0; i < n; i++)
		PMT_CHECK_EQ(pmt_map_lookup(fresh, addrs[i]), got[i]);
	for (near = PMT_NEAR_INIT, i = 0; i + 64 <= n; i += 64) {
		near.try_last = true;
		pmt_map_lookup_run(map, addrs + i, got + i, 64, &near);
	}
	for (i = 0; i + 64 <= n; i++)
		PMT_CHECK_EQ(pmt_map_lookup(fresh, addrs[i]), got[i]);
	PMT_CHECK_EQ(fresh->nr_held, map->nr_held);
	for (i = 0; i <= fresh->nr_sections + 1; i++) {
		const struct pmt_section *a = pmt_map_section(map, i);
		const struct pmt_section *b = pmt_map_section(fresh, i);

		PMT_CHECK(!a == !b && (!a || (a->start == b->start &&
					      a->size == b->size &&
					      a->cookie == b->cookie)),
			  "round %u: section %u", round, i);
	}
}

/*
 * Update transactions kept from one commit to the next
 * (pmt_commit_update()): each map answers as a full build of the same
 * sections does, and most of them share their store with the map before.
 */
static void test_incremental_updates(void)
{
	struct upd_model *md = pmt_case_zalloc(1, sizeof(*md));
	u64 *start, *size, state = 0x2545f4914f6cdd1dULL;
	struct pmt_map *map = NULL, *next, *fresh;
	unsigned int round, op, k, held = 0, shared = 0;
	struct pmt_pending *pm = NULL;
	u32 *index, want;

	PMT_REQUIRE(md);
	start = md->start;
	size = md->size;
	index = md->index;
	for (round = 0; round < UPD_ROUNDS; round++) {
		if (!map || round % 67 == 66) {
			/* Now and then a new map, or a copy of the last one. */
			pmt_pending_free(pm);
			if (!map || round % 2) {
				pm = pmt_pending_create(12);
				memset(md->index, 0, sizeof(md->index));
				held = 0;
			} else {
				pm = pmt_pending_update(map, U64_MAX);
			}
			PMT_REQUIRE(pm && !IS_ERR(pm));
		} else {
			PMT_CHECK(pmt_pending_kept(pm, map), "round %u", round);
		}
		for (op = 0; op < 1 + upd_next(&state) % 4; op++) {
			k = upd_next(&state) % UPD_CELLS;
			if (index[k]) {
				PMT_CHECK_EQ(0, pmt_pending_remove(pm, index[k]));
				index[k] = 0;
				held--;
				if (upd_next(&state) % 2)
					continue;	/* else a new one there */
			}
			want = upd_lowest_free(md);
			upd_section(&state, k, &start[k], &size[k]);
			add_want(pm, start[k], size[k], want);
			index[k] = want;
			held++;
		}
		next = pmt_commit_update(pm, map, round + 1, U64_MAX);
		PMT_REQUIRE(!IS_ERR(next));
		shared += map && next->store == map->store;
		pmt_map_free(map);
		map = next;
		fresh = pmt_commit(pm, round + 1, U64_MAX);
		PMT_REQUIRE(!IS_ERR(fresh));
		upd_same(map, fresh, md, round);
		pmt_map_free(fresh);
	}
	PMT_CHECK(shared >= UPD_ROUNDS / 2, "%u of %u shared", shared,
		  UPD_ROUNDS);
	pmt_pending_free(pm);
	pmt_map_free(map);
	pmt_case_free(md);
}

/*
 * A sub-page an update builds, whose sections' slots lie far apart (one
 * kept from the full build, one new), gets copies of them in a row and
 * keeps its table, rather than being searched.
 */
static void test_incremental_subpage_copies(void)
{
	struct pmt_pending *pm = pmt_pending_create(12);
	struct pmt_map *map, *next;
	const struct pmt_subpage *sp;
	unsigned int i;
	u32 index;

	PMT_REQUIRE(pm);
	add_want(pm, 0x1000, 0x800, 1);
	add_want(pm, 0x1800, 0x800, 2);
	for (i = 0; i < 300; i++)
		add_want(pm, (u64)(i + 16) << 20, 0x10000, i + 3);
	map = pmt_commit_update(pm, NULL, 1, U64_MAX);
	PMT_REQUIRE(!IS_ERR(map));
	PMT_CHECK_EQ(0, pmt_pending_remove(pm, 2));
	add_want(pm, 0x1800, 0x400, 2);
	next = pmt_commit_update(pm, map, 2, U64_MAX);
	PMT_REQUIRE(!IS_ERR(next));
	PMT_CHECK(next->store && next->store == map->store, "not shared");
	pmt_map_free(map);
	/* The old sub-page stays, for readers of the map before: 2. */
	PMT_CHECK_EQ(2, next->nr_subpages);
	sp = &next->subpages[next->nr_subpages - 1];
	PMT_CHECK(sp->shift != PMT_SUBPAGE_SEARCH, "searched");
	check_lookup(next, 0x1000, 1);
	check_lookup(next, 0x17ff, 1);
	check_lookup(next, 0x1800, 2);
	check_lookup(next, 0x1bff, 2);
	check_lookup(next, 0x1c00, 0);
	PMT_CHECK_EQ(0x400, pmt_map_section(next, 2)->size);
	PMT_CHECK(pmt_map_lookup_section(next, 0x1000, &index)->start ==
		  0x1000 && index == 1, "section of 0x1000");
	pmt_map_free(next);
	pmt_pending_free(pm);
}

/*
 * Updates of a mixed map (as in test_mixed_leaves()) share its store and
 * keep its kind: each answers as a full build of the same sections, at
 * every section's edges and middle and at every index.
 */
static void test_incremental_mixed(void)
{
	static struct sec s[64];	/* static: too big for a kernel stack */
	u64 state = 0x9e3779b97f4a7c15ULL, a;
	struct pmt_map *map, *next, *fresh;
	unsigned int i, k, round, shared = 0;
	struct pmt_pending *pm;
	u32 want;

	for (i = 0; i < 16; i++) {
		s[4 * i] = (struct sec){ i * 64 * KIB, 0x800 };
		s[4 * i + 1] = (struct sec){ i * 64 * KIB + 0x800, 0x400 };
		s[4 * i + 2] = (struct sec){ i * 64 * KIB + 16 * KIB, 16 * KIB };
		s[4 * i + 3] = (struct sec){ i * 64 * KIB + 32 * KIB, 8 * KIB };
	}
	pm = pmt_pending_create(12);
	PMT_REQUIRE(pm);
	for (i = 0; i < 64; i++)
		add_want(pm, s[i].start, s[i].size, i + 1);
	map = pmt_commit_update(pm, NULL, 1, U64_MAX);
	PMT_REQUIRE(!IS_ERR(map));
	PMT_CHECK(map->mixed, "not mixed");
	for (round = 0; round < 64; round++) {
		/* A section goes; it, or its first half, comes back. */
		k = upd_next(&state) % 64;
		PMT_CHECK_EQ(0, pmt_pending_remove(pm, k + 1));
		if (upd_next(&state) % 2)
			s[k].size = max(s[k].size / 2, 1ULL);
		want = pmt_pending_next_index(pm);
		add_want(pm, s[k].start, s[k].size, want);
		PMT_CHECK_EQ(k + 1, want);
		next = pmt_commit_update(pm, map, round + 2, U64_MAX);
		PMT_REQUIRE(!IS_ERR(next));
		shared += next->store == map->store;
		pmt_map_free(map);
		map = next;
		PMT_CHECK(map->mixed, "round %u: not mixed", round);
		fresh = pmt_commit(pm, round + 2, U64_MAX);
		PMT_REQUIRE(!IS_ERR(fresh));
		for (i = 0; i < 64 * 4; i++) {
			a = s[i / 4].start + (i % 4 == 3 ? s[i / 4].size :
					      i % 4 * (s[i / 4].size - 1) / 2);
			PMT_CHECK(pmt_map_lookup(map, a) ==
				  pmt_map_lookup(fresh, a),
				  "round %u addr %#llx: %u not %u", round,
				  (unsigned long long)a, pmt_map_lookup(map, a),
				  pmt_map_lookup(fresh, a));
		}
		for (i = 1; i <= 64; i++)
			PMT_CHECK(pmt_map_section(map, i) &&
				  pmt_map_section(map, i)->size ==
				  pmt_map_section(fresh, i)->size,
				  "round %u: section %u", round, i);
		pmt_map_free(fresh);
	}
	PMT_CHECK(shared >= 32, "%u of 64 shared", shared);
	pmt_map_free(map);
	pmt_pending_free(pm);
}

#endif /* _PHYSMAP_TREE_CASES_H */

/*
 * The list of cases, in the order userspace numbers them: outside the
 * include guard, expanded each time a harness includes this file again with
 * PMT_CASE_SHARED(name) and PMT_CASE_USER_ONLY(name) defined.
 */
#ifdef PMT_CASE_SHARED
PMT_CASE_SHARED(empty_map)
PMT_CASE_SHARED(one_page_collapses_to_root_leaf)
PMT_CASE_SHARED(early_leaf_at_level_one)
PMT_CASE_USER_ONLY(no_early_leaves)
PMT_CASE_SHARED(one_section_node_becomes_leaf)
PMT_CASE_SHARED(skip_to_level_zero)
PMT_CASE_SHARED(single_child_leaves_move_up)
PMT_CASE_SHARED(large_aligned_section)
PMT_CASE_SHARED(subpage)
PMT_CASE_SHARED(unaligned_section_spanning_pages)
PMT_CASE_SHARED(shapes_of_64_entry_nodes)
PMT_CASE_SHARED(sections_at_the_top)
PMT_CASE_SHARED(page_shift_shapes_tree_not_answers)
PMT_CASE_SHARED(add_errors_leave_map_as_it_was)
PMT_CASE_USER_ONLY(allocation_failures)
PMT_CASE_SHARED(levelling)
PMT_CASE_SHARED(levelling_limits)
PMT_CASE_SHARED(mixed_leaves)
PMT_CASE_USER_ONLY(levelling_allocation_failures)
PMT_CASE_SHARED(retire)
PMT_CASE_SHARED(byte_bound)
PMT_CASE_SHARED(subpage_tables)
PMT_CASE_SHARED(lookup_many)
PMT_CASE_SHARED(lookup_many_batched)
PMT_CASE_SHARED(lookup_hint)
PMT_CASE_SHARED(lookup_run)
PMT_CASE_USER_ONLY(fatal_signal)
PMT_CASE_SHARED(remove_frees_range_and_index)
PMT_CASE_SHARED(update_keeps_sections)
PMT_CASE_SHARED(random_updates)
PMT_CASE_SHARED(incremental_updates)
PMT_CASE_SHARED(incremental_subpage_copies)
PMT_CASE_SHARED(incremental_mixed)
PMT_CASE_USER_ONLY(update_allocation_failures)
#endif
