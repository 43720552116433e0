// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel's maple tree and XArray behind kpeers.h. Built against the
 * kernel's headers and its userspace harness (tools/testing/radix-tree),
 * never with physmap's shim. The lookup loops live here, in a translation
 * unit of their own: mtree_load() and xa_load() are called, not inlined,
 * as pmt_map_lookup() is by the benchmark.
 */
#include <stdlib.h>

#include "test.h"
#include <linux/maple_tree.h>
#include <linux/radix-tree.h>
#include <linux/xarray.h>

#include "kpeers.h"
#include "kpeers_kernel.h"

struct kp_maple {
	struct maple_tree mt;
};

struct kp_xarray {
	struct xarray xa;
};

void kp_init(void)
{
	rcu_register_thread();
	radix_tree_init();
	maple_tree_init();
}

/* Nodes freed under RCU are counted until their grace period has passed. */
static unsigned long live_nodes(struct kmem_cache *cache)
{
	rcu_barrier();
	return cache ? kmem_cache_nr_allocated(cache) :
		       kp_maple_nodes_allocated();
}

static void maple_destroy(struct kp_maple *m)
{
	/* Out of RCU mode first: destroy frees at once, not after a walk. */
	mt_clear_in_rcu(&m->mt);
	mtree_destroy(&m->mt);
}

struct kp_maple *kp_maple_build(const struct kp_range *r, size_t n,
				uint64_t *nodes, uint64_t *node_size)
{
	struct kp_maple *m = calloc(1, sizeof(*m));
	unsigned long before;
	size_t i;

	if (!m)
		return NULL;
	before = live_nodes(NULL);
	/* RCU mode, as the kernel uses it for lockless readers. */
	mt_init_flags(&m->mt, MT_FLAGS_USE_RCU);
	for (i = 0; i < n; i++) {
		if (mtree_store_range(&m->mt, r[i].start, r[i].last,
				      xa_mk_value(r[i].value), GFP_KERNEL)) {
			maple_destroy(m);
			free(m);
			return NULL;
		}
	}
	*nodes = live_nodes(NULL) - before;
	*node_size = sizeof(struct maple_node);
	return m;
}

/* xa_to_value() of NULL is 0: no branch on a miss. */
uint32_t kp_maple_lookup(struct kp_maple *m, uint64_t addr)
{
	return xa_to_value(mtree_load(&m->mt, addr));
}

uint64_t kp_maple_sum(struct kp_maple *m, const uint64_t *addrs, size_t n)
{
	uint64_t sum = 0;
	size_t i;

	for (i = 0; i < n; i++)
		sum += xa_to_value(mtree_load(&m->mt, addrs[i]));
	return sum;
}

void kp_maple_free(struct kp_maple *m)
{
	if (!m)
		return;
	maple_destroy(m);
	free(m);
}

/*
 * As the in-guest benchmark builds it (physmap_bench.c): whole pages first,
 * as multi-index entries, then the pages covered in part. Part pages go in
 * last because the XArray does not split a multi-index entry that a store
 * lands inside.
 */
struct kp_xarray *kp_xarray_build(const struct kp_range *r, size_t n,
				  uint64_t *nodes, uint64_t *node_size)
{
	const uint64_t mask = (1ULL << KP_XA_PAGE_SHIFT) - 1;
	struct kp_xarray *x = calloc(1, sizeof(*x));
	uint64_t first, last, page[2];
	unsigned long before;
	size_t i, j;

	if (!x)
		return NULL;
	before = live_nodes(radix_tree_node_cachep);
	xa_init(&x->xa);
	for (i = 0; i < n; i++) {
		/* whole pages first..last, if any */
		first = (r[i].start + mask) >> KP_XA_PAGE_SHIFT;
		last = (r[i].last + 1) >> KP_XA_PAGE_SHIFT;
		if (!first && r[i].start)
			continue;	/* the last page of the space, in part */
		if (last == 0 && r[i].last == UINT64_MAX)
			last = 1ULL << (64 - KP_XA_PAGE_SHIFT);
		if (last-- <= first)
			continue;
		if (xa_is_err(xa_store_range(&x->xa, first, last,
					     xa_mk_value(r[i].value),
					     GFP_KERNEL)))
			goto fail;
	}
	for (i = 0; i < n; i++) {
		page[0] = r[i].start & mask ? r[i].start >> KP_XA_PAGE_SHIFT :
					      UINT64_MAX;
		page[1] = (r[i].last + 1) & mask ?
			  r[i].last >> KP_XA_PAGE_SHIFT : UINT64_MAX;
		for (j = 0; j < 2; j++) {
			if (page[j] == UINT64_MAX || xa_load(&x->xa, page[j]))
				continue;
			if (xa_is_err(xa_store(&x->xa, page[j],
					       xa_mk_value(r[i].value),
					       GFP_KERNEL)))
				goto fail;
		}
	}
	*nodes = live_nodes(radix_tree_node_cachep) - before;
	*node_size = sizeof(struct xa_node);
	return x;
fail:
	xa_destroy(&x->xa);
	free(x);
	return NULL;
}

uint32_t kp_xarray_lookup(struct kp_xarray *x, uint64_t addr)
{
	return xa_to_value(xa_load(&x->xa, addr >> KP_XA_PAGE_SHIFT));
}

uint64_t kp_xarray_sum(struct kp_xarray *x, const uint64_t *addrs, size_t n)
{
	uint64_t sum = 0;
	size_t i;

	for (i = 0; i < n; i++)
		sum += xa_to_value(xa_load(&x->xa,
					   addrs[i] >> KP_XA_PAGE_SHIFT));
	return sum;
}

void kp_xarray_free(struct kp_xarray *x)
{
	if (!x)
		return;
	xa_destroy(&x->xa);
	free(x);
}
