/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Test-only switches of the userspace build: physmap_tree.c reads the two
 * seed optimizations and depth levelling through these macros (constants in
 * the kernel build).
 * Included before physmap_tree.c with -include.
 */
#ifndef _PHYSMAP_USER_KNOBS_H
#define _PHYSMAP_USER_KNOBS_H
#include <stdbool.h>

extern bool physmap_knob_early_leaves;
extern bool physmap_knob_compaction;
extern bool physmap_knob_levelling;
#define pmt_early_leaves	physmap_knob_early_leaves
#define pmt_compaction	physmap_knob_compaction
#define pmt_levelling	physmap_knob_levelling
#endif
