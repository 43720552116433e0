/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What kpeers.c needs from the kernel's harness and from kpeers_maple.c:
 * kernel-side only (struct kmem_cache), never seen by physmap's shim.
 */
#ifndef _PHYSMAP_KPEERS_KERNEL_H
#define _PHYSMAP_KPEERS_KERNEL_H

struct kmem_cache;

/* tools/testing/radix-tree/linux.c: live objects of a cache */
unsigned long kmem_cache_nr_allocated(struct kmem_cache *cachep);

/* lib/radix-tree.c, made non-static by the harness: the XArray's nodes */
extern struct kmem_cache *radix_tree_node_cachep;

/* kpeers_maple.c: live objects of maple_tree.c's static maple_node_cache */
unsigned long kp_maple_nodes_allocated(void);

#endif /* _PHYSMAP_KPEERS_KERNEL_H */
