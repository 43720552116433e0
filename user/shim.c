// SPDX-License-Identifier: GPL-2.0
/* Allocation for the userspace build of physmap_tree.c, with failures. */
#include <malloc.h>

#include <linux/kernel.h>
#include <linux/sched.h>

#include "knobs.h"

/* All optimizations on, as in the kernel, unless a test says not. */
bool physmap_knob_early_leaves = true;
bool physmap_knob_compaction = true;
bool physmap_knob_levelling = true;

static unsigned long fail_countdown;	/* 0: never */
static bool fail_fired;

void physmap_shim_fail_nth(unsigned long nth)
{
	fail_countdown = nth;
	fail_fired = false;
}

bool physmap_shim_failed(void)
{
	return fail_fired;
}

/*
 * What the tree holds, counted as malloc_usable_size() gives it (a few
 * bytes over what was asked, pages for the big arrays), for benchmarks.
 */
static size_t live_bytes, peak_bytes;

void *physmap_shim_alloc(size_t size, int zero)
{
	void *p;

	if (fail_countdown && !--fail_countdown) {
		fail_fired = true;
		return NULL;
	}
	p = zero ? calloc(1, size ? size : 1) : malloc(size ? size : 1);
	if (p) {
		live_bytes += malloc_usable_size(p);
		if (live_bytes > peak_bytes)
			peak_bytes = live_bytes;
	}
	return p;
}

void physmap_shim_free(const void *p)
{
	if (p)
		live_bytes -= malloc_usable_size((void *)p);
	free((void *)p);
}

size_t physmap_shim_live(void)
{
	return live_bytes;
}

size_t physmap_shim_peak(void)
{
	return peak_bytes;
}

void physmap_shim_peak_reset(void)
{
	peak_bytes = live_bytes;
}

static unsigned long fatal_countdown;	/* 0: never */
static bool fatal_fired;

void physmap_shim_fatal_nth(unsigned long nth)
{
	fatal_countdown = nth;
	fatal_fired = false;
}

/* Pending from the nth check on, until the next physmap_shim_fatal_nth(). */
bool physmap_shim_fatal_pending(void)
{
	if (fatal_countdown && !--fatal_countdown)
		fatal_fired = true;
	return fatal_fired;
}
