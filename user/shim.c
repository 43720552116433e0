// SPDX-License-Identifier: GPL-2.0
/* Allocation for the userspace build of physmap_tree.c, with failures. */
#include <linux/kernel.h>

unsigned long physmap_shim_fail_nth;
static unsigned long physmap_shim_allocs;

void *physmap_shim_alloc(size_t size, int zero)
{
	if (physmap_shim_fail_nth && ++physmap_shim_allocs == physmap_shim_fail_nth)
		return NULL;
	return zero ? calloc(1, size ? size : 1) : malloc(size ? size : 1);
}
