// SPDX-License-Identifier: GPL-2.0
/* Allocation for the userspace build of physmap_tree.c, with failures. */
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

void *physmap_shim_alloc(size_t size, int zero)
{
	if (fail_countdown && !--fail_countdown) {
		fail_fired = true;
		return NULL;
	}
	return zero ? calloc(1, size ? size : 1) : malloc(size ? size : 1);
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
