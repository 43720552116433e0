/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The kernel's maple tree and XArray, compiled natively, behind a plain C
 * interface
 *
 * kpeers.c and the two files that include lib/maple_tree.c and lib/xarray.c
 * are built against the kernel's own headers and its userspace harness
 * (tools/testing/radix-tree, extracted from linux-source by
 * scripts/kernel-peers-src.sh); the benchmark is built against physmap's
 * shim. The two sets of <linux/...> headers never meet: only this header,
 * plain C, is shared.
 */
#ifndef _PHYSMAP_KPEERS_H
#define _PHYSMAP_KPEERS_H

#include <stddef.h>
#include <stdint.h>

/* A section: bytes @start..@last, answered as @value (not 0). */
struct kp_range {
	uint64_t start;
	uint64_t last;
	uint32_t value;
};

/* The XArray's view: pages of 1 << KP_XA_PAGE_SHIFT bytes. */
#define KP_XA_PAGE_SHIFT	12

struct kp_maple;
struct kp_xarray;

/* Once per process, before anything else: RCU, the node caches. */
void kp_init(void);

/*
 * A maple tree in RCU mode holding each range as one entry
 * (mtree_store_range()). Returns NULL on failure. *@nodes: maple nodes it
 * holds, counted by the node cache after rcu_barrier(); *@node_size: bytes
 * of one (struct maple_node).
 */
struct kp_maple *kp_maple_build(const struct kp_range *r, size_t n,
				uint64_t *nodes, uint64_t *node_size);
uint32_t kp_maple_lookup(struct kp_maple *m, uint64_t addr);
/* The sum of the answers for @n addresses: mtree_load() each. */
uint64_t kp_maple_sum(struct kp_maple *m, const uint64_t *addrs, size_t n);
void kp_maple_free(struct kp_maple *m);

/*
 * An XArray over page numbers: every range's whole pages as multi-index
 * entries (xa_store_range()), then each page a range covers in part, if
 * still empty, as a single entry of that range: the first range touching
 * the page (in @r's order) answers for all of it. Page-granular: a simpler
 * question than the others answer inside sub-pages. *@nodes, *@node_size:
 * as for the maple tree (struct xa_node).
 */
struct kp_xarray *kp_xarray_build(const struct kp_range *r, size_t n,
				  uint64_t *nodes, uint64_t *node_size);
uint32_t kp_xarray_lookup(struct kp_xarray *x, uint64_t addr);
/* The sum of the answers for @n addresses: xa_load() of each page. */
uint64_t kp_xarray_sum(struct kp_xarray *x, const uint64_t *addrs, size_t n);
void kp_xarray_free(struct kp_xarray *x);

#endif /* _PHYSMAP_KPEERS_H */
