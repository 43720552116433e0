// SPDX-License-Identifier: GPL-2.0
/*
 * The tree core's unit tests as the KUnit suite "physmap_tree"
 *
 * The cases are physmap_tree_cases.h, the same source user/unit_test.c runs
 * in userspace; this file is their kernel harness: one kunit_case per case
 * the kernel can run, named as userspace names it. They call physmap.ko's
 * tree through its exports (namespace PHYSMAP), so this module loads after
 * physmap.ko; KUnit runs the suite when it loads, and with
 * CONFIG_KUNIT_DEBUGFS the results stay readable in
 * /sys/kernel/debug/kunit/physmap_tree/results until it is unloaded.
 * Kbuild builds it only against a kernel with KUnit.
 *
 * The harness differs from userspace's where the kernel has no shim: the
 * tree's switches are constants here, so a case's parts that need them are
 * left out (PMT_CASE_KNOBS 0), and a map without depth levelling is the one
 * commit publishes when the levelled one would pass its byte bound (what
 * commit does under the bound, the byte_bound case's too; that map keeps
 * the mixed leaves levelling's samples chose, where userspace's has none).
 */
#include <kunit/test.h>
#include <linux/err.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>

#include "physmap_tree.h"

/* The case running: KUnit runs one at a time. */
static struct kunit *pmt_kunit_test;

/**
 * pmt_kunit_check() - fail the running case unless a condition held
 * @ok: the condition's value.
 * @cond: its text.
 * @file: the file of the check.
 * @line: its line.
 * @fmt: what the check says when it fails, printf-style.
 *
 * One function rather than a KUnit macro at every check, whose expansions
 * would add up to a large stack frame in a case with many checks.
 */
static __printf(5, 6) void pmt_kunit_check(bool ok, const char *cond,
					   const char *file, int line,
					   const char *fmt, ...)
{
	struct va_format vaf;
	va_list args;

	if (ok)
		return;
	va_start(args, fmt);
	vaf.fmt = fmt;
	vaf.va = &args;
	KUNIT_FAIL(pmt_kunit_test, "%s:%d: %s: %pV", file, line, cond, &vaf);
	va_end(args);
}

static void pmt_kunit_check_eq(u64 want, u64 got, const char *what,
			       const char *file, int line)
{
	if (want != got)
		KUNIT_FAIL(pmt_kunit_test, "%s:%d: %s: want %#llx got %#llx",
			   file, line, what, want, got);
}

/* Ends the running case, failed, unless @ok: it cannot go on. */
static void pmt_kunit_require(bool ok, const char *cond, const char *file,
			      int line)
{
	KUNIT_ASSERT_TRUE_MSG(pmt_kunit_test, ok, "%s:%d: %s: required", file,
			      line, cond);
}

#define PMT_CHECK(cond, fmt, ...)					\
	pmt_kunit_check(!!(cond), #cond, __FILE__, __LINE__, fmt,	\
			##__VA_ARGS__)
#define PMT_CHECK_EQ(want, got)						\
	pmt_kunit_check_eq((u64)(want), (u64)(got), #want " == " #got,	\
			   __FILE__, __LINE__)
#define PMT_REQUIRE(cond)						\
	pmt_kunit_require(!!(cond), #cond, __FILE__, __LINE__)
#define pmt_case_zalloc(n, size)	kcalloc(n, size, GFP_KERNEL)
#define pmt_case_free(p)		kfree(p)
#define PMT_CASE_KNOBS			0
#define PMT_CASE_KNOB(name, on)		((void)(on))
#define PMT_CASE_RCU_THREAD(on)		((void)(on))

/*
 * The map of @pm without levelling's chains: commit with a bound one byte
 * short of @levelled, which only the map without them fits; when levelling
 * added nothing, nothing fits that bound, and the plain map is @levelled's
 * like.
 */
static struct pmt_map *pmt_case_commit_plain(const struct pmt_pending *pm,
					     const struct pmt_map *levelled)
{
	struct pmt_map *map = pmt_commit(pm, 1, levelled->bytes - 1);

	if (PTR_ERR_OR_ZERO(map) == -ENOSPC)
		map = pmt_commit(pm, 1, U64_MAX);
	return map;
}

#include "physmap_tree_cases.h"

/* A kunit_case per shared case: the case, with the test it runs in. */
#define PMT_CASE_SHARED(name)						\
	static void pmt_kunit_##name(struct kunit *test)		\
	{								\
		pmt_kunit_test = test;					\
		test_##name();						\
	}
#define PMT_CASE_USER_ONLY(name)
#include "physmap_tree_cases.h"
#undef PMT_CASE_SHARED

#define PMT_CASE_SHARED(c)	{ .run_case = pmt_kunit_##c, .name = #c },
static struct kunit_case pmt_kunit_cases[] = {
#include "physmap_tree_cases.h"
	{}
};

static struct kunit_suite pmt_kunit_suite = {
	.name = "physmap_tree",
	.test_cases = pmt_kunit_cases,
};

kunit_test_suite(pmt_kunit_suite);

MODULE_DESCRIPTION("KUnit suite of physmap's tree core");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(PMT_NS);
