// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the tree core, built in userspace: the harness of the cases
 * in ../physmap_tree_cases.h (the kernel's is ../physmap_kunit.c) and the
 * cases only userspace can run, below. Prints TAP.
 *
 * The file builds twice: with PMT_NODE_BITS 9 (QEMU's 512-entry nodes)
 * and 6 (physmap's 64-entry nodes).
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

static int failures, test_failed;

#define PMT_CHECK(cond, ...)						\
	do {								\
		if (!(cond)) {						\
			printf("#   %s:%d: %s: ", __FILE__, __LINE__, #cond); \
			printf(__VA_ARGS__);				\
			printf("\n");					\
			test_failed = 1;				\
		}							\
	} while (0)

#define PMT_CHECK_EQ(want, got)						\
	PMT_CHECK((uint64_t)(want) == (uint64_t)(got),			\
		  "want %#" PRIx64 " got %#" PRIx64,			\
		  (uint64_t)(want), (uint64_t)(got))

/* Nothing to go on with: a map a case needs could not be built. */
#define PMT_REQUIRE(cond)						\
	do {								\
		if (!(cond)) {						\
			printf("#   %s:%d: %s: required\n", __FILE__,	\
			       __LINE__, #cond);			\
			abort();					\
		}							\
	} while (0)

#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))
#define pmt_case_zalloc(n, size)	calloc(n, size)
#define pmt_case_free(p)	free(p)
#define PMT_CASE_KNOBS		1
#define PMT_CASE_KNOB(name, on)	(physmap_knob_##name = (on))
/* liburcu: a thread registers before it reads under rcu_read_lock() */
#define PMT_CASE_RCU_THREAD(on)						\
	((on) ? rcu_register_thread() : rcu_unregister_thread())

/* The plain map: the same commit with depth levelling switched off. */
static struct pmt_map *pmt_case_commit_plain(const struct pmt_pending *pm,
					     const struct pmt_map *levelled)
{
	struct pmt_map *map;

	physmap_knob_levelling = false;
	map = pmt_commit(pm, 1, UINT64_MAX);
	physmap_knob_levelling = true;
	return map;
}

#include "../physmap_tree_cases.h"

/*
 * The cases below need the shim (see physmap_tree_cases.h): its failing
 * allocations, its fatal signals, its switches.
 */

/* Without early leaves the same 2 MIB takes a full level-0 node. */
static void test_no_early_leaves(void)
{
	static const struct sec s[] = { { 6 * MIB, 2 * MIB } };
	struct pmt_map *map;

	physmap_knob_early_leaves = false;
	map = build(12, s, 1);
	/*
	 * The pending map has a level-0 node of 512 leaves of section 1: all
	 * its valid entries are one section, so commit makes it that leaf.
	 */
	check_shape(map, 0, 0, 0, 0, 0);
	check_lookup(map, 6 * MIB, 1);
	check_lookup(map, 8 * MIB - 1, 1);
	check_lookup(map, 8 * MIB, 0);
	pmt_map_free(map);

	physmap_knob_compaction = false;
	map = build(12, s, 1);
	check_shape9(map, 6, 0, 0, 6, 0);
	check_lookup(map, 7 * MIB, 1);
	pmt_map_free(map);
	physmap_knob_compaction = true;
	physmap_knob_early_leaves = true;
}

/*
 * Fail every allocation of ADD and COMMIT in turn: -ENOMEM, and the pending
 * map is still the one before the call. ADD allocates when its array
 * grows: the 16th section after section 0 grows it.
 */
static void test_allocation_failures(void)
{
	struct pmt_section s = { .start = 0x7000f, .size = 5 * MIB + 3 };
	struct pmt_map *map, *ref;
	struct pmt_pending *pm;
	uint64_t want;
	unsigned long nth;
	uint32_t index;
	bool failed;
	int ret;

	for (nth = 1;; nth++) {
		struct pmt_section first = { .start = 0, .size = 0x2345 };
		unsigned int i;

		pm = pmt_pending_create(12);
		PMT_CHECK_EQ(0, pmt_pending_add(pm, &first, 20, UINT64_MAX, &index));
		for (i = 1; i < 15; i++) {
			first.start = 0x10000 + i * 0x100;
			first.size = 0x10 + i;
			PMT_CHECK_EQ(0, pmt_pending_add(pm, &first, 20, UINT64_MAX,
							&index));
		}
		ref = pmt_commit(pm, 1, UINT64_MAX);
		want = answers(ref);
		pmt_map_free(ref);

		physmap_shim_fail_nth(nth);
		ret = pmt_pending_add(pm, &s, 20, UINT64_MAX, &index);
		failed = physmap_shim_failed();
		physmap_shim_fail_nth(0);
		map = pmt_commit(pm, 1, UINT64_MAX);
		if (!failed) {
			PMT_CHECK_EQ(0, ret);
			pmt_map_free(map);
			pmt_pending_free(pm);
			break;
		}
		PMT_CHECK_EQ(-ENOMEM, ret);
		PMT_CHECK_EQ(15, pmt_pending_sections(pm));
		PMT_CHECK(answers(map) == want, "ADD failing at allocation %lu changed the map",
		      nth);
		pmt_map_free(map);
		pmt_pending_free(pm);
	}
	PMT_CHECK(nth > 1, "ADD allocated nothing");

	pm = pmt_pending_create(12);
	PMT_CHECK_EQ(0, pmt_pending_add(pm, &s, 10, UINT64_MAX, &index));
	ref = pmt_commit(pm, 1, UINT64_MAX);
	want = answers(ref);
	pmt_map_free(ref);
	for (nth = 1;; nth++) {
		physmap_shim_fail_nth(nth);
		map = pmt_commit(pm, 2, UINT64_MAX);
		failed = physmap_shim_failed();
		physmap_shim_fail_nth(0);
		if (!failed) {
			PMT_CHECK(!IS_ERR(map) && answers(map) == want, "COMMIT answers");
			pmt_map_free(map);
			break;
		}
		PMT_CHECK(PTR_ERR_OR_ZERO(map) == -ENOMEM,
		      "COMMIT with allocation %lu failing", nth);
		map = pmt_commit(pm, 2, UINT64_MAX);
		PMT_CHECK(!IS_ERR(map) && answers(map) == want,
		      "pending map changed by COMMIT failing at allocation %lu", nth);
		pmt_map_free(map);
	}
	PMT_CHECK(nth > 1, "COMMIT allocated nothing");
	pmt_pending_free(pm);

	physmap_shim_fail_nth(1);
	PMT_CHECK(!pmt_pending_create(12), "create with its allocation failing");
	physmap_shim_fail_nth(0);
}

/* A commit whose levelled copy cannot be allocated fails whole. */
static void test_levelling_allocation_failures(void)
{
	static const struct sec s[] = {
		{ 0, 768 * KIB }, { 768 * KIB, 256 * KIB }, { 1 * MIB, 511 * MIB },
		{ 4 * GIB - 256 * KIB, 256 * KIB },
	};
	struct pmt_pending *pm = pmt_pending_create(12);
	struct pmt_map *ref, *map;
	unsigned long nth;
	unsigned int i;
	uint32_t index;
	uint64_t want;

	for (i = 0; i < 4; i++) {
		struct pmt_section sect = { .start = s[i].start, .size = s[i].size };

		PMT_CHECK_EQ(0, pmt_pending_add(pm, &sect, 10, UINT64_MAX, &index));
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
		PMT_CHECK(PTR_ERR_OR_ZERO(map) == -ENOMEM,
		      "COMMIT with allocation %lu failing", nth);
	}
	/* The address order and the map: levelling allocates nothing. */
	PMT_CHECK_EQ(3, nth);
	PMT_CHECK(!IS_ERR(map) && map->nr_nodes == ref->nr_nodes && answers(map) == want,
	      "COMMIT after the failures");
	pmt_map_free(map);
	pmt_map_free(ref);
	pmt_pending_free(pm);
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

		PMT_CHECK_EQ(0, pmt_pending_add(pm, &sect, PM_MAX_SECTIONS_DEFAULT,
					    UINT64_MAX, &index));
	}
	return pm;
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
		PMT_CHECK_EQ(-EINTR, PTR_ERR(map));
	}
	PMT_CHECK(nth > 40, "COMMIT of %u nodes checked for signals %lu times",
	      ref->nr_nodes, nth - 1);
	PMT_CHECK(answers(map) == want && map->nr_nodes == ref->nr_nodes,
	      "COMMIT after the signals");
	pmt_map_free(map);
	pmt_map_free(ref);

	/*
	 * ADD: the sections' array grows by copying; from 32768 sections
	 * (1.5 MiB) the copy checks for signals.
	 */
	for (nth = 1; nth < 60000 && !ret; nth++) {
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
			PMT_CHECK_EQ(-EINTR, ret);
			PMT_CHECK_EQ(sections, pmt_pending_sections(pm));
		}
	}
	PMT_CHECK(ret == -EINTR, "no ADD met the signal in %lu", nth - 1);
	map = pmt_commit(pm, 1, UINT64_MAX);
	PMT_CHECK(!IS_ERR(map) && map->nr_sections == pmt_pending_sections(pm) + 1,
	      "COMMIT after ADD");
	pmt_map_free(map);
	pmt_pending_free(pm);
}

/*
 * Every allocation of an update fails in turn: BEGIN's copy of the
 * published map (pmt_pending_update()) fails cleanly, REMOVE (its holes'
 * heap) leaves the pending map as it was; and a fatal signal stops the copy.
 */
static void test_update_allocation_failures(void)
{
	struct pmt_pending *pm = spread_pending(3000, 1ULL << 30), *up;
	struct pmt_map *ref = pmt_commit(pm, 1, UINT64_MAX), *map;
	uint64_t want = answers(ref);
	unsigned long nth, failures;
	uint32_t index;
	bool failed;
	int ret;

	pmt_pending_free(pm);
	for (nth = 1;; nth++) {
		physmap_shim_fail_nth(nth);
		up = pmt_pending_update(ref, UINT64_MAX);
		failed = physmap_shim_failed();
		physmap_shim_fail_nth(0);
		if (!failed)
			break;
		PMT_CHECK(PTR_ERR_OR_ZERO(up) == -ENOMEM,
			  "update with allocation %lu failing", nth);
	}
	/* The header and first array, the array grown to the map's, the order. */
	PMT_CHECK(nth == 5, "the update's copy allocated %lu times", nth - 1);
	PMT_REQUIRE(!IS_ERR(up));
	PMT_CHECK_EQ(3000, pmt_pending_sections(up));

	/* The holes' heap grows on the 1st and the 17th REMOVE. */
	for (nth = 1, failures = 0; nth <= 20; nth++) {
		struct pmt_section sect = {
			.start = (nth - 1) * (1ULL << 30) + 0x2000, .size = 10,
		};

		physmap_shim_fail_nth(1);
		ret = pmt_pending_remove(up, nth);
		failed = physmap_shim_failed();
		physmap_shim_fail_nth(0);
		if (failed) {
			failures++;
			PMT_CHECK_EQ(-ENOMEM, ret);
			PMT_CHECK_EQ(3000 - nth + 1, pmt_pending_sections(up));
			PMT_CHECK_EQ(-EEXIST, pmt_pending_add(up, &sect, 1U << 20,
							      UINT64_MAX, &index));
			ret = pmt_pending_remove(up, nth);
		}
		PMT_CHECK_EQ(0, ret);
	}
	PMT_CHECK_EQ(2, failures);
	map = pmt_commit(up, 2, UINT64_MAX);
	PMT_REQUIRE(!IS_ERR(map));
	PMT_CHECK_EQ(3000 - 20, map->nr_held);
	check_lookup(map, 0x2000, 0);
	check_lookup(map, (1ULL << 30) * 20 + 0x2000, 21);
	pmt_map_free(map);
	pmt_pending_free(up);

	for (nth = 1;; nth++) {
		physmap_shim_fatal_nth(nth);
		up = pmt_pending_update(ref, UINT64_MAX);
		physmap_shim_fatal_nth(0);
		if (!IS_ERR(up))
			break;
		PMT_CHECK_EQ(-EINTR, PTR_ERR(up));
	}
	PMT_CHECK(nth > 5, "the update's copy checked for signals %lu times",
		  nth - 1);
	map = pmt_commit(up, 2, UINT64_MAX);
	PMT_CHECK(!IS_ERR(map) && answers(map) == want, "update after signals");
	if (!IS_ERR(map))
		pmt_map_free(map);
	pmt_pending_free(up);
	pmt_map_free(ref);
}

/* Every case, shared or not, in the list's order. */
#define PMT_CASE_SHARED(name)		{ #name, test_##name },
#define PMT_CASE_USER_ONLY(name)	{ #name, test_##name },
static const struct {
	const char *name;
	void (*fn)(void);
} tests[] = {
#include "../physmap_tree_cases.h"
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
