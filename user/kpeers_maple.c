// SPDX-License-Identifier: GPL-2.0
/*
 * lib/maple_tree.c of the installed linux-source, compiled natively the way
 * the kernel's harness (tools/testing/radix-tree/maple.c) compiles it, but
 * without its debug defines and test suite: the code the kernel runs.
 * Built with the harness's include path, never with physmap's shim.
 */
#include "test.h"
#include <linux/init.h>

#define module_init(x)
#define module_exit(x)
#define MODULE_AUTHOR(x)
#define MODULE_LICENSE(x)
#define dump_stack()	assert(0)

#include "lib/maple_tree.c"

#include "kpeers_kernel.h"

/* maple_node_cache is static in maple_tree.c: counted from here. */
unsigned long kp_maple_nodes_allocated(void)
{
	return kmem_cache_nr_allocated(maple_node_cache);
}
