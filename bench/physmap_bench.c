// SPDX-License-Identifier: GPL-2.0
/*
 * physmap_bench.ko - physmap against the kernel's own range structures
 *
 * Builds one section set in four structures and times lookups of the same
 * fixed-seed address streams in each, in the same boot:
 *
 * - physmap: pmt_pending_create/_add, physmap_commit and
 *   pmt_map_lookup, the functions the ioctls use;
 * - the maple tree in RCU mode: mtree_store_range, mtree_load;
 * - the XArray over page numbers: xa_store_range, xa_load. It cannot hold
 *   sub-page ranges: it gets the page-granular view (a page shared by
 *   sections answers the last one stored);
 * - a sorted array and binary search (KVM's memslots before they were
 *   trees).
 *
 * Driven through debugfs (see bench/pmbench.c, Documentation/physmap.rst):
 *
 *   physmap_bench/sections  write: append sections, struct pmb_sect each
 *   physmap_bench/ctl       write: one command per write
 *       clear                    drop the sections and the held trees
 *       synth N SEED             the synthetic map of N sections
 *       bench NAME LOOKUPS REPS  build all four, check, time; NAME: no space
 *       commit NAME              time add and commit of physmap alone
 *       hold maple COPIES        build COPIES maple trees of the sections
 *                                and keep them until "release"
 *       release                  free the held trees
 *   physmap_bench/results   read: the result lines so far
 *
 * The maple tree's nodes come from the maple_node slab cache, shared with
 * every other maple tree in the kernel (the VMAs of each process among
 * them): only the cache's growth tells what a tree takes. pmbench counts
 * that from /sys/kernel/slab around "hold" and "release"; so that its
 * counts are stable, no command returns while nodes it replaced in an
 * RCU-mode tree still wait for a grace period.
 *
 * Result lines (times in ns, per-lookup times in ps):
 *   R map=NAME sections=N struct=S build_ns=T [bytes=B] inside_ps=P
 *     span_ps=P local_ps=P lookups=L reps=R
 *     (bytes: what the structure holds, for all but the maple tree)
 *   A map=NAME struct=S checked=N mismatches=M [first=ADDR]
 *   P map=NAME nodes=N subpages=N pieces=N depth=N skips=N node_bytes=N
 *   C map=NAME sections=N add_ns=T commit_ns=T bytes=B nodes=N
 *   E what failed, and why
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/err.h>
#include <linux/fs.h>
#include <linux/ktime.h>
#include <linux/maple_tree.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/uaccess.h>
#include <linux/xarray.h>

#include "../physmap_tree.h"
#include "physmap_bench_gen.h"

MODULE_IMPORT_NS(PMT_NS);

#define PMB_RESULTS_SIZE	BIT(20)
#define PMB_CHUNK		256
#define PMB_SEED		0x5eedULL
#define PMB_MAX_SECTIONS	2000000U
/* The most trees "hold maple" builds. */
#define PMB_MAX_HELD		64U
/* The XArray's view: 4 KiB pages. */
#define PMB_XA_SHIFT		12

/**
 * struct pmb_sect - a section as userspace writes it to "sections"
 * @start: first byte.
 * @size: length in bytes, not 0.
 */
struct pmb_sect {
	u64 start;
	u64 size;
};

/* An element of the sorted array. */
struct pmb_elem {
	u64 start;
	u64 last;
	u32 index;
};

enum { PMB_PHYSMAP, PMB_MAPLE, PMB_XARRAY, PMB_BSEARCH, PMB_NR_STRUCTS };
enum { PMB_INSIDE, PMB_SPAN, PMB_LOCAL, PMB_NR_STREAMS };

static const char *const pmb_struct_names[PMB_NR_STRUCTS] = {
	"physmap", "maple", "xarray", "bsearch",
};

/* The four structures built from one section set. */
struct pmb_set {
	struct pmt_map *map;
	struct maple_tree mt;
	struct xarray xa;
	struct pmb_elem *elems;
	u32 nr;
	u64 build_ns[PMB_NR_STRUCTS];
	u64 bytes[PMB_NR_STRUCTS];
};

static DEFINE_MUTEX(pmb_lock);
static struct dentry *pmb_dir;
/* The sections, in order of addition: section index i + 1. Under pmb_lock. */
static struct pmb_sect *pmb_sects;
static u32 pmb_nr, pmb_cap;
/* The trees of "hold maple", pmb_nr_held of them. Under pmb_lock. */
static struct maple_tree *pmb_held;
static u32 pmb_nr_held;
static char *pmb_results;
static size_t pmb_results_len;

static __printf(1, 2) void pmb_out(const char *fmt, ...)
{
	va_list args;
	int n;

	va_start(args, fmt);
	n = vsnprintf(pmb_results + pmb_results_len,
		      PMB_RESULTS_SIZE - pmb_results_len, fmt, args);
	va_end(args);
	pmb_results_len = min_t(size_t, pmb_results_len + n,
				PMB_RESULTS_SIZE - 1);
}

static int pmb_reserve(u32 need)
{
	struct pmb_sect *grown;
	u32 cap;

	if (need <= pmb_cap)
		return 0;
	if (need > PMB_MAX_SECTIONS)
		return -ENOSPC;
	cap = max3(need, 2 * pmb_cap, 1024U);
	grown = kvmalloc_array(cap, sizeof(*grown), GFP_KERNEL);
	if (!grown)
		return -ENOMEM;
	if (pmb_nr)
		memcpy(grown, pmb_sects, pmb_nr * sizeof(*grown));
	kvfree(pmb_sects);
	pmb_sects = grown;
	pmb_cap = cap;
	return 0;
}

/* XArray nodes below @entry. */
static u64 pmb_xa_nodes(void *entry)
{
	struct xa_node *node;
	u64 n = 1;
	int i;

	if (!xa_is_node(entry))
		return 0;
	node = xa_to_node(entry);
	if (node->shift)
		for (i = 0; i < XA_CHUNK_SIZE; i++)
			n += pmb_xa_nodes(rcu_dereference_raw(node->slots[i]));
	return n;
}

static int pmb_cmp_elem(const void *a, const void *b)
{
	const struct pmb_elem *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/*
 * No reader is left: leave RCU mode first so that the nodes are freed now,
 * not by the deferred walk of RCU mode (mt_free_walk from rcu_do_batch),
 * which dereferences NULL for these trees on 6.1.
 */
static void pmb_maple_destroy(struct maple_tree *mt)
{
	mt_clear_in_rcu(mt);
	mtree_destroy(mt);
}

static void pmb_set_free(struct pmb_set *set)
{
	pmt_map_free(set->map);
	set->map = NULL;
	pmb_maple_destroy(&set->mt);
	xa_destroy(&set->xa);
	kvfree(set->elems);
	set->elems = NULL;
}

static int pmb_build_physmap(struct pmb_set *set, u64 *add_ns)
{
	struct pmt_pending *pm;
	struct pmt_map *map;
	struct pmt_section sect = { };
	u64 t0 = ktime_get_ns();
	u32 i, index;
	int ret;

	pm = pmt_pending_create(PMT_PAGE_SHIFT_DEFAULT);
	if (!pm)
		return -ENOMEM;
	for (i = 0; i < set->nr; i++) {
		sect.start = pmb_sects[i].start;
		sect.size = pmb_sects[i].size;
		sect.cookie = i;
		ret = pmt_pending_add(pm, &sect, PMB_MAX_SECTIONS, U64_MAX,
				      &index);
		if (ret) {
			pmt_pending_free(pm);
			return ret;
		}
		cond_resched();
	}
	if (add_ns)
		*add_ns = ktime_get_ns() - t0;
	map = pmt_commit(pm, 1, U64_MAX);
	set->build_ns[PMB_PHYSMAP] = ktime_get_ns() - t0;
	pmt_pending_free(pm);
	if (IS_ERR(map))
		return PTR_ERR(map);
	set->map = map;
	set->bytes[PMB_PHYSMAP] = set->map->bytes;
	return 0;
}

static int pmb_maple_fill(struct maple_tree *mt, u32 nr)
{
	u32 i;
	int ret;

	for (i = 0; i < nr; i++) {
		ret = mtree_store_range(mt, pmb_sects[i].start,
					pmb_sects[i].start + pmb_sects[i].size - 1,
					xa_mk_value(i + 1), GFP_KERNEL);
		if (ret)
			return ret;
		cond_resched();
	}
	return 0;
}

static void pmb_release(void)
{
	u32 i;

	for (i = 0; i < pmb_nr_held; i++)
		pmb_maple_destroy(&pmb_held[i]);
	kvfree(pmb_held);
	pmb_held = NULL;
	pmb_nr_held = 0;
}

/*
 * Build @copies RCU-mode maple trees of the sections, as the bench builds
 * its own, and hold them for pmbench to count. A tree in RCU mode frees
 * the nodes that a store replaces only after a grace period: wait for
 * those, so that the cache holds the trees' nodes and nothing else of
 * theirs when this returns.
 */
static int pmb_hold_maple(u32 copies)
{
	int ret = 0;
	u32 i;

	pmb_release();
	if (!copies || copies > PMB_MAX_HELD || !pmb_nr)
		return -EINVAL;
	pmb_held = kvmalloc_array(copies, sizeof(*pmb_held), GFP_KERNEL);
	if (!pmb_held)
		return -ENOMEM;
	for (i = 0; i < copies && !ret; i++) {
		mt_init_flags(&pmb_held[i], MT_FLAGS_USE_RCU);
		pmb_nr_held++;
		ret = pmb_maple_fill(&pmb_held[i], pmb_nr);
	}
	rcu_barrier();
	if (ret)
		pmb_release();
	return ret;
}

static int pmb_build_maple(struct pmb_set *set)
{
	u64 t0 = ktime_get_ns();
	int ret;

	ret = pmb_maple_fill(&set->mt, set->nr);
	if (ret)
		return ret;
	set->build_ns[PMB_MAPLE] = ktime_get_ns() - t0;
	return 0;
}

/*
 * The XArray's page-granular view: every section's whole pages, as
 * multi-index entries, then every page covered in part by the first section
 * that touches it, as a single entry. Part pages go in last because the
 * XArray does not split a multi-index entry that a store lands inside.
 */
static int pmb_build_xarray(struct pmb_set *set)
{
	u64 t0 = ktime_get_ns(), first, last, page[2];
	void *old;
	u32 i, j;

	for (i = 0; i < set->nr; i++) {
		first = pmb_sects[i].start;
		last = first + pmb_sects[i].size - 1;
		/* whole pages first..last, if any */
		first = (first + (1ULL << PMB_XA_SHIFT) - 1) >> PMB_XA_SHIFT;
		last = (last + 1) >> PMB_XA_SHIFT;
		if (!first && pmb_sects[i].start)
			continue;	/* the last page of the space, in part */
		if (last-- <= first)
			continue;
		old = xa_store_range(&set->xa, first, last, xa_mk_value(i + 1),
				     GFP_KERNEL);
		if (xa_is_err(old))
			return xa_err(old);
		cond_resched();
	}
	for (i = 0; i < set->nr; i++) {
		first = pmb_sects[i].start;
		last = first + pmb_sects[i].size - 1;
		page[0] = first & ((1ULL << PMB_XA_SHIFT) - 1) ?
			  first >> PMB_XA_SHIFT : U64_MAX;
		page[1] = (last + 1) & ((1ULL << PMB_XA_SHIFT) - 1) ?
			  last >> PMB_XA_SHIFT : U64_MAX;
		for (j = 0; j < 2; j++) {
			if (page[j] == U64_MAX || xa_load(&set->xa, page[j]))
				continue;
			old = xa_store(&set->xa, page[j], xa_mk_value(i + 1),
				       GFP_KERNEL);
			if (xa_is_err(old))
				return xa_err(old);
		}
		cond_resched();
	}
	set->build_ns[PMB_XARRAY] = ktime_get_ns() - t0;
	set->bytes[PMB_XARRAY] = pmb_xa_nodes(rcu_dereference_raw(set->xa.xa_head)) *
				 sizeof(struct xa_node);
	return 0;
}

static int pmb_build_bsearch(struct pmb_set *set)
{
	u64 t0 = ktime_get_ns();
	u32 i;

	set->elems = kvmalloc_array(max(set->nr, 1U), sizeof(*set->elems),
				    GFP_KERNEL);
	if (!set->elems)
		return -ENOMEM;
	for (i = 0; i < set->nr; i++) {
		set->elems[i].start = pmb_sects[i].start;
		set->elems[i].last = pmb_sects[i].start + pmb_sects[i].size - 1;
		set->elems[i].index = i + 1;
	}
	sort(set->elems, set->nr, sizeof(*set->elems), pmb_cmp_elem, NULL);
	set->build_ns[PMB_BSEARCH] = ktime_get_ns() - t0;
	set->bytes[PMB_BSEARCH] = (u64)set->nr * sizeof(*set->elems);
	return 0;
}

static inline u32 pmb_bsearch(const struct pmb_elem *e, u32 n, u64 addr)
{
	u32 lo = 0, hi = n;

	while (lo < hi) {
		u32 mid = lo + (hi - lo) / 2;

		if (e[mid].start <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo && addr <= e[lo - 1].last)
		return e[lo - 1].index;
	return 0;
}

static inline u32 pmb_value(void *entry)
{
	return entry ? xa_to_value(entry) : 0;
}

static u32 pmb_lookup_one(struct pmb_set *set, int s, u64 addr)
{
	switch (s) {
	case PMB_PHYSMAP:
		return pmt_map_lookup(set->map, addr);
	case PMB_MAPLE:
		return pmb_value(mtree_load(&set->mt, addr));
	case PMB_XARRAY:
		return pmb_value(xa_load(&set->xa, addr >> PMB_XA_SHIFT));
	default:
		return pmb_bsearch(set->elems, set->nr, addr);
	}
}

/*
 * One timed pass of structure @s over @n addresses, in chunks of PMB_CHUNK
 * under rcu_read_lock(). Each structure has its own loop so that the lookup
 * is a direct call. @chunk_best[c] keeps the fastest time of chunk c over
 * all passes: the host of a TCG guest is shared, and a pass that the host
 * preempted counts only where it was preempted. *@sum gets the answers
 * added up.
 */
static void pmb_time(struct pmb_set *set, int s, const u64 *addrs, u32 n,
		     u64 *chunk_best, u64 *sum)
{
	u64 t0, t, acc = 0;
	u32 done, i, end;

	for (done = 0; done < n; done = end) {
		end = min(n, done + PMB_CHUNK);
		t0 = ktime_get_ns();
		rcu_read_lock();
		switch (s) {
		case PMB_PHYSMAP:
			for (i = done; i < end; i++)
				acc += pmt_map_lookup(set->map, addrs[i]);
			break;
		case PMB_MAPLE:
			for (i = done; i < end; i++)
				acc += pmb_value(mtree_load(&set->mt, addrs[i]));
			break;
		case PMB_XARRAY:
			for (i = done; i < end; i++)
				acc += pmb_value(xa_load(&set->xa,
							 addrs[i] >> PMB_XA_SHIFT));
			break;
		default:
			for (i = done; i < end; i++)
				acc += pmb_bsearch(set->elems, set->nr,
						   addrs[i]);
			break;
		}
		rcu_read_unlock();
		t = ktime_get_ns() - t0;
		chunk_best[done / PMB_CHUNK] = min(chunk_best[done / PMB_CHUNK],
						   t);
		cond_resched();
	}
	*sum += acc;
}

/* Fill the three address streams of @n addresses each. */
static void pmb_streams(u64 *addrs[PMB_NR_STREAMS], u32 n, u32 nr_sects)
{
	u64 st = PMB_SEED, hi = 0, r;
	const struct pmb_sect *s;
	u32 i, j;

	for (i = 0; i < nr_sects; i++)
		hi = max(hi, pmb_sects[i].start + pmb_sects[i].size - 1);
	for (i = 0; i < n; i++) {
		s = &pmb_sects[pmb_below(&st, nr_sects)];
		addrs[PMB_INSIDE][i] = s->start + pmb_below(&st, s->size);
		/* 0..hi, without overflow when hi is 2^64 - 1 */
		r = pmb_rand(&st);
		addrs[PMB_SPAN][i] = hi == U64_MAX ? r : pmb_mod(r, hi + 1);
	}
	for (i = 0; i < n; i += 16) {
		s = &pmb_sects[pmb_below(&st, nr_sects)];
		for (j = i; j < min(n, i + 16); j++)
			addrs[PMB_LOCAL][j] = s->start + pmb_below(&st, s->size);
	}
}

/*
 * Whether the XArray's page-granular answer @x fits physmap's @p for @addr:
 * equal where the page lies inside one section, else unassigned or a
 * section that touches the page.
 */
static bool pmb_xa_agrees(u64 addr, u32 p, u32 x)
{
	u64 first = addr & ~((1ULL << PMB_XA_SHIFT) - 1);
	u64 last = first + (1ULL << PMB_XA_SHIFT) - 1;
	const struct pmb_sect *s;

	if (p) {
		s = &pmb_sects[p - 1];
		if (s->start <= first && last - s->start < s->size)
			return x == p;
	}
	if (!x)
		return true;
	if (x > pmb_nr)
		return false;
	s = &pmb_sects[x - 1];
	return s->start <= last && s->start + (s->size - 1) >= first;
}

static void pmb_check(struct pmb_set *set, const char *name,
		      u64 *addrs[PMB_NR_STREAMS], u32 n)
{
	u64 checked[PMB_NR_STRUCTS] = { }, bad[PMB_NR_STRUCTS] = { };
	u64 first_bad[PMB_NR_STRUCTS] = { };
	int s, k;
	u32 i, p, x;
	bool ok;

	for (k = 0; k < PMB_NR_STREAMS; k++) {
		for (i = 0; i < n; i++) {
			u64 a = addrs[k][i];

			rcu_read_lock();
			p = pmt_map_lookup(set->map, a);
			rcu_read_unlock();
			/* physmap against the sections themselves */
			ok = p <= set->nr;
			if (ok && p)
				ok = a - pmb_sects[p - 1].start <
				     pmb_sects[p - 1].size;
			for (s = 0; s < PMB_NR_STRUCTS; s++) {
				if (s != PMB_PHYSMAP) {
					rcu_read_lock();
					x = pmb_lookup_one(set, s, a);
					rcu_read_unlock();
					ok = s == PMB_XARRAY ?
					     pmb_xa_agrees(a, p, x) : x == p;
				}
				checked[s]++;
				if (!ok && !bad[s]++)
					first_bad[s] = a;
				ok = true;
			}
			if (!(i % 1024))
				cond_resched();
		}
	}
	for (s = 0; s < PMB_NR_STRUCTS; s++) {
		pmb_out("A map=%s struct=%s checked=%llu mismatches=%llu",
			name, pmb_struct_names[s], checked[s], bad[s]);
		if (bad[s])
			pmb_out(" first=%#llx", first_bad[s]);
		pmb_out("\n");
	}
}

static int pmb_bench(const char *name, u32 n, u32 reps)
{
	u64 *addrs[PMB_NR_STREAMS] = { }, best[PMB_NR_STRUCTS][PMB_NR_STREAMS];
	u32 nchunks = DIV_ROUND_UP(n, PMB_CHUNK), c;
	u64 *chunk_best = NULL;
	struct pmb_set set = { .nr = pmb_nr };
	u64 sum = 0;
	int ret = -ENOMEM, s, k;
	u32 r;

	mt_init_flags(&set.mt, MT_FLAGS_USE_RCU);
	xa_init(&set.xa);
	if (!pmb_nr || !n || !reps)
		return -EINVAL;
	for (k = 0; k < PMB_NR_STREAMS; k++) {
		addrs[k] = kvmalloc_array(n, sizeof(u64), GFP_KERNEL);
		if (!addrs[k])
			goto out;
	}
	pmb_streams(addrs, n, pmb_nr);

	ret = pmb_build_physmap(&set, NULL);
	if (ret) {
		pmb_out("E map=%s physmap build: %d\n", name, ret);
		goto out;
	}
	ret = pmb_build_maple(&set);
	if (ret) {
		pmb_out("E map=%s maple build: %d\n", name, ret);
		goto out;
	}
	ret = pmb_build_xarray(&set);
	if (ret) {
		pmb_out("E map=%s xarray build: %d\n", name, ret);
		goto out;
	}
	ret = pmb_build_bsearch(&set);
	if (ret) {
		pmb_out("E map=%s bsearch build: %d\n", name, ret);
		goto out;
	}

	pmb_out("P map=%s nodes=%u subpages=%u pieces=%u depth=%u skips=%u node_bytes=%zu\n",
		name, set.map->nr_nodes, set.map->nr_subpages,
		set.map->nr_pieces, set.map->max_depth,
		set.map->skip_entries, PMT_NODE_BYTES);
	pmb_check(&set, name, addrs, n);

	/*
	 * Interleaved: every repetition times every structure in turn. The
	 * time of a structure on a stream is the sum over chunks of each
	 * chunk's fastest pass.
	 */
	ret = -ENOMEM;
	chunk_best = kvmalloc_array(PMB_NR_STRUCTS * PMB_NR_STREAMS * nchunks,
				    sizeof(u64), GFP_KERNEL);
	if (!chunk_best)
		goto out;
	for (c = 0; c < PMB_NR_STRUCTS * PMB_NR_STREAMS * nchunks; c++)
		chunk_best[c] = U64_MAX;
	for (r = 0; r < reps; r++)
		for (s = 0; s < PMB_NR_STRUCTS; s++)
			for (k = 0; k < PMB_NR_STREAMS; k++)
				pmb_time(&set, s, addrs[k], n,
					 &chunk_best[(s * PMB_NR_STREAMS + k) *
						     nchunks], &sum);
	for (s = 0; s < PMB_NR_STRUCTS; s++)
		for (k = 0; k < PMB_NR_STREAMS; k++) {
			best[s][k] = 0;
			for (c = 0; c < nchunks; c++)
				best[s][k] += chunk_best[(s * PMB_NR_STREAMS + k) *
							 nchunks + c];
		}
	for (s = 0; s < PMB_NR_STRUCTS; s++) {
		pmb_out("R map=%s sections=%u struct=%s build_ns=%llu",
			name, set.nr, pmb_struct_names[s], set.build_ns[s]);
		/* The maple tree's bytes are the slab's: pmbench counts them. */
		if (s != PMB_MAPLE)
			pmb_out(" bytes=%llu", set.bytes[s]);
		pmb_out(" inside_ps=%llu span_ps=%llu local_ps=%llu lookups=%u reps=%u\n",
			div_u64(best[s][PMB_INSIDE] * 1000, n),
			div_u64(best[s][PMB_SPAN] * 1000, n),
			div_u64(best[s][PMB_LOCAL] * 1000, n), n, reps);
	}
	/* Keep the answers alive for the compiler. */
	pr_debug("%s: checksum %llu\n", name, sum);
	ret = 0;
out:
	kvfree(chunk_best);
	pmb_set_free(&set);
	for (k = 0; k < PMB_NR_STREAMS; k++)
		kvfree(addrs[k]);
	/* The nodes the maple tree's build replaced: see pmb_hold_maple(). */
	rcu_barrier();
	return ret;
}

static int pmb_commit(const char *name)
{
	struct pmb_set set = { .nr = pmb_nr };
	u64 add_ns = 0;
	int ret;

	mt_init_flags(&set.mt, 0);
	xa_init(&set.xa);
	ret = pmb_build_physmap(&set, &add_ns);
	if (ret) {
		pmb_out("E map=%s commit: %d\n", name, ret);
		pmb_set_free(&set);
		return ret;
	}
	pmb_out("C map=%s sections=%u add_ns=%llu commit_ns=%llu",
		name, set.nr, add_ns, set.build_ns[PMB_PHYSMAP] - add_ns);
	pmb_out(" bytes=%llu nodes=%u subpages=%u depth=%u\n",
		set.bytes[PMB_PHYSMAP], set.map->nr_nodes,
		set.map->nr_subpages, set.map->max_depth);
	pmb_set_free(&set);
	return 0;
}

static int pmb_synth(u32 n, u64 seed)
{
	u32 i;
	int ret;

	pmb_nr = 0;
	ret = pmb_reserve(n);
	if (ret)
		return ret;
	for (i = 0; i < n; i++)
		pmb_synth_section(n, i, seed, &pmb_sects[i].start,
				  &pmb_sects[i].size);
	pmb_nr = n;
	return 0;
}

static int pmb_command(char *cmd)
{
	char name[64];
	u32 n, reps;
	u64 seed;

	if (!strcmp(cmd, "clear")) {
		pmb_release();
		pmb_nr = 0;
		return 0;
	}
	if (!strcmp(cmd, "release")) {
		pmb_release();
		return 0;
	}
	if (sscanf(cmd, "hold maple %u", &n) == 1)
		return pmb_hold_maple(n);
	if (sscanf(cmd, "synth %u %llu", &n, &seed) == 2)
		return n ? pmb_synth(n, seed) : -EINVAL;
	if (sscanf(cmd, "bench %63s %u %u", name, &n, &reps) == 3)
		return pmb_bench(name, n, reps);
	if (sscanf(cmd, "commit %63s", name) == 1)
		return pmb_nr ? pmb_commit(name) : -EINVAL;
	return -EINVAL;
}

static ssize_t pmb_ctl_write(struct file *file, const char __user *ubuf,
			     size_t len, loff_t *ppos)
{
	char cmd[128];
	int ret;

	if (len >= sizeof(cmd))
		return -EINVAL;
	if (copy_from_user(cmd, ubuf, len))
		return -EFAULT;
	cmd[len] = 0;
	strim(cmd);
	mutex_lock(&pmb_lock);
	ret = pmb_command(cmd);
	mutex_unlock(&pmb_lock);
	return ret ? ret : len;
}

static ssize_t pmb_sections_write(struct file *file, const char __user *ubuf,
				  size_t len, loff_t *ppos)
{
	size_t n = len / sizeof(struct pmb_sect);
	u32 i;
	int ret;

	if (!n || len % sizeof(struct pmb_sect))
		return -EINVAL;
	mutex_lock(&pmb_lock);
	ret = n > PMB_MAX_SECTIONS ? -ENOSPC : pmb_reserve(pmb_nr + n);
	if (!ret && copy_from_user(&pmb_sects[pmb_nr], ubuf, len))
		ret = -EFAULT;
	for (i = 0; !ret && i < n; i++)
		if (!pmt_range_valid(pmb_sects[pmb_nr + i].start,
				     pmb_sects[pmb_nr + i].size))
			ret = -EINVAL;
	if (!ret)
		pmb_nr += n;
	mutex_unlock(&pmb_lock);
	return ret ? ret : len;
}

static ssize_t pmb_results_read(struct file *file, char __user *ubuf,
				size_t len, loff_t *ppos)
{
	ssize_t ret;

	mutex_lock(&pmb_lock);
	ret = simple_read_from_buffer(ubuf, len, ppos, pmb_results,
				      pmb_results_len);
	mutex_unlock(&pmb_lock);
	return ret;
}

static const struct file_operations pmb_ctl_fops = {
	.owner	= THIS_MODULE,
	.write	= pmb_ctl_write,
	.llseek	= noop_llseek,
};

static const struct file_operations pmb_sections_fops = {
	.owner	= THIS_MODULE,
	.write	= pmb_sections_write,
	.llseek	= noop_llseek,
};

static const struct file_operations pmb_results_fops = {
	.owner	= THIS_MODULE,
	.read	= pmb_results_read,
	.llseek	= default_llseek,
};

static int __init pmb_init(void)
{
	pmb_results = kvzalloc(PMB_RESULTS_SIZE, GFP_KERNEL);
	if (!pmb_results)
		return -ENOMEM;
	pmb_dir = debugfs_create_dir("physmap_bench", NULL);
	debugfs_create_file("ctl", 0200, pmb_dir, NULL, &pmb_ctl_fops);
	debugfs_create_file("sections", 0200, pmb_dir, NULL,
			    &pmb_sections_fops);
	debugfs_create_file("results", 0400, pmb_dir, NULL,
			    &pmb_results_fops);
	return 0;
}

static void __exit pmb_exit(void)
{
	debugfs_remove_recursive(pmb_dir);
	pmb_release();
	kvfree(pmb_sects);
	kvfree(pmb_results);
}

module_init(pmb_init);
module_exit(pmb_exit);

MODULE_DESCRIPTION("physmap against the maple tree, the XArray and binary search");
MODULE_LICENSE("GPL");
