// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/physmap, QEMU's phys_map radix tree for userspace
 *
 * Each open file description is one address space: a published map that
 * lookups read under RCU without taking any lock, and at most one pending
 * map that writers build under the file's mutex and COMMIT publishes.
 * See Documentation/physmap.rst.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/compat.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/pagemap.h>
#include <linux/rcupdate.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "physmap_tree.h"

static unsigned int max_sections = 1000000;
module_param(max_sections, uint, 0644);
MODULE_PARM_DESC(max_sections,
		 "Most sections one map holds; past it ADD fails with ENOSPC (default 1000000)");

static unsigned int retire_backlog_mb = 64;
module_param(retire_backlog_mb, uint, 0644);
MODULE_PARM_DESC(retire_backlog_mb,
		 "MiB of replaced maps that may wait for RCU grace periods before COMMIT waits itself (default 64)");

/* Addresses looked up per step of a batch, on the stack. */
#define PHYSMAP_BATCH_STEP	64

/**
 * struct physmap_file - one open /dev/physmap: an address space
 * @lock: serializes writers: BEGIN, ADD and COMMIT.
 * @pending: the map being built; NULL when nothing is pending. Under @lock.
 * @map: the published map; NULL before the first commit. Written under
 *       @lock, read under RCU.
 */
struct physmap_file {
	struct mutex lock; /* serializes BEGIN, ADD and COMMIT */
	struct physmap_pending *pending;
	struct physmap_map __rcu *map;
};

static int physmap_open(struct inode *inode, struct file *file)
{
	struct physmap_file *pf;

	pf = kzalloc(sizeof(*pf), GFP_KERNEL_ACCOUNT);
	if (!pf)
		return -ENOMEM;
	mutex_init(&pf->lock);
	file->private_data = pf;
	return 0;
}

static int physmap_release(struct inode *inode, struct file *file)
{
	struct physmap_file *pf = file->private_data;

	/* The last reference is gone: no lookup can be running. */
	physmap_pending_free(pf->pending);
	physmap_map_free(rcu_dereference_protected(pf->map, true));
	mutex_destroy(&pf->lock);
	kfree(pf);
	return 0;
}

static long physmap_begin(struct physmap_file *pf,
			  struct physmap_begin __user *ubegin)
{
	struct physmap_pending *pm, *old;
	struct physmap_begin begin;
	unsigned int page_shift;

	if (copy_from_user(&begin, ubegin, sizeof(begin)))
		return -EFAULT;
	page_shift = begin.page_shift ?: PHYSMAP_PAGE_SHIFT_DEFAULT;
	if (begin.flags || !physmap_page_shift_valid(page_shift))
		return -EINVAL;
	pm = physmap_pending_create(page_shift);
	if (!pm)
		return -ENOMEM;

	mutex_lock(&pf->lock);
	old = pf->pending;
	pf->pending = pm;
	mutex_unlock(&pf->lock);
	physmap_pending_free(old);
	return 0;
}

static long physmap_add(struct physmap_file *pf,
			struct physmap_section __user *usect)
{
	struct physmap_section s;
	struct physmap_sect sect;
	bool begun = false;
	u32 index;
	int ret;

	if (copy_from_user(&s, usect, sizeof(s)))
		return -EFAULT;
	/* Fail on a read-only argument before the map changes. */
	if (put_user(s.index, &usect->index))
		return -EFAULT;
	if (s.flags || !physmap_range_valid(s.start, s.size))
		return -EINVAL;
	sect = (struct physmap_sect){
		.start = s.start,
		.size = s.size,
		.cookie = s.cookie,
		.offset = s.offset,
	};

	mutex_lock(&pf->lock);
	if (!pf->pending) {
		pf->pending = physmap_pending_create(PHYSMAP_PAGE_SHIFT_DEFAULT);
		if (!pf->pending) {
			mutex_unlock(&pf->lock);
			return -ENOMEM;
		}
		begun = true;
	}
	ret = physmap_pending_add(pf->pending, &sect, READ_ONCE(max_sections),
				  &index);
	if (ret && begun) {
		/* Nothing was pending before this call: leave it so. */
		physmap_pending_free(pf->pending);
		pf->pending = NULL;
	}
	mutex_unlock(&pf->lock);
	if (ret)
		return ret;
	/* The section is in; only a racing munmap can make this fail. */
	return put_user(index, &usect->index);
}

static long physmap_commit_pending(struct physmap_file *pf)
{
	struct physmap_map *map, *old;

	mutex_lock(&pf->lock);
	if (!pf->pending) {
		mutex_unlock(&pf->lock);
		return -EINVAL;
	}
	old = rcu_dereference_protected(pf->map, lockdep_is_held(&pf->lock));
	map = physmap_commit(pf->pending, old ? old->generation + 1 : 1);
	if (!map) {
		mutex_unlock(&pf->lock);
		return -ENOMEM;
	}
	rcu_assign_pointer(pf->map, map);
	physmap_pending_free(pf->pending);
	pf->pending = NULL;
	mutex_unlock(&pf->lock);

	physmap_map_retire(old, (size_t)READ_ONCE(retire_backlog_mb) << 20);
	return 0;
}

static void physmap_fill_section(struct physmap_section *s,
				 const struct physmap_sect *sect, u32 index)
{
	s->start = sect->start;
	s->size = sect->size;
	s->cookie = sect->cookie;
	s->offset = sect->offset;
	s->flags = 0;
	s->index = index;
}

static long physmap_lookup(struct physmap_file *pf,
			   struct physmap_lookup __user *ulookup)
{
	struct physmap_lookup lookup = { };
	const struct physmap_map *map;
	u32 index;

	if (get_user(lookup.addr, &ulookup->addr))
		return -EFAULT;
	rcu_read_lock();
	map = rcu_dereference(pf->map);
	if (map) {
		index = physmap_map_lookup(map, lookup.addr);
		physmap_fill_section(&lookup.section, &map->sections[index],
				     index);
		lookup.generation = map->generation;
	}
	rcu_read_unlock();
	/* Copy out the answer only, not the address the caller gave. */
	if (copy_to_user(&ulookup->generation, &lookup.generation,
			 sizeof(lookup) - offsetof(struct physmap_lookup,
						   generation)))
		return -EFAULT;
	return 0;
}

/*
 * Look up a whole batch in one snapshot. User memory is accessed with page
 * faults disabled, inside the RCU read-side section: a fault makes it return
 * -EFAULT so that the caller can fault the pages in and start again.
 */
static int physmap_lookup_batch_atomic(struct physmap_file *pf,
				       const u64 __user *uaddrs,
				       u32 __user *uindexes, u32 count,
				       u64 *generation)
{
	u64 addrs[PHYSMAP_BATCH_STEP];
	u32 indexes[PHYSMAP_BATCH_STEP];
	const struct physmap_map *map;
	u32 done, n, i;
	int ret = 0;

	pagefault_disable();
	rcu_read_lock();
	map = rcu_dereference(pf->map);
	*generation = map ? map->generation : 0;
	for (done = 0; done < count; done += n) {
		n = min_t(u32, count - done, PHYSMAP_BATCH_STEP);
		if (__copy_from_user_inatomic(addrs, uaddrs + done,
					      n * sizeof(*addrs))) {
			ret = -EFAULT;
			break;
		}
		for (i = 0; i < n; i++)
			indexes[i] = map ? physmap_map_lookup(map, addrs[i]) :
					   PHYSMAP_UNASSIGNED;
		if (__copy_to_user_inatomic(uindexes + done, indexes,
					    n * sizeof(*indexes))) {
			ret = -EFAULT;
			break;
		}
	}
	rcu_read_unlock();
	pagefault_enable();
	return ret;
}

static long physmap_lookup_batch(struct physmap_file *pf,
				 struct physmap_lookup_batch __user *ubatch)
{
	struct physmap_lookup_batch batch;
	const u64 __user *uaddrs;
	u32 __user *uindexes;
	u64 generation;
	int ret;

	if (copy_from_user(&batch, ubatch, sizeof(batch)))
		return -EFAULT;
	if (batch.flags || batch.count > PHYSMAP_BATCH_MAX)
		return -EINVAL;
	uaddrs = u64_to_user_ptr(batch.addrs);
	uindexes = u64_to_user_ptr(batch.indexes);
	if (!access_ok(uaddrs, batch.count * sizeof(u64)) ||
	    !access_ok(uindexes, batch.count * sizeof(u32)))
		return -EFAULT;

	while ((ret = physmap_lookup_batch_atomic(pf, uaddrs, uindexes,
						  batch.count, &generation))) {
		if (fault_in_readable((const char __user *)uaddrs,
				      batch.count * sizeof(u64)) ||
		    fault_in_writeable((char __user *)uindexes,
				       batch.count * sizeof(u32)))
			return -EFAULT;
		if (fatal_signal_pending(current))
			return -EINTR;
		cond_resched();
	}
	return put_user(generation, &ubatch->generation);
}

static long physmap_get_section(struct physmap_file *pf,
				struct physmap_section __user *usect)
{
	const struct physmap_sect *sect = NULL;
	const struct physmap_map *map;
	struct physmap_section s;
	u32 index;

	if (get_user(index, &usect->index))
		return -EFAULT;
	rcu_read_lock();
	map = rcu_dereference(pf->map);
	if (map)
		sect = physmap_map_section(map, index);
	if (sect)
		physmap_fill_section(&s, sect, index);
	rcu_read_unlock();
	if (!sect)
		return -ENOENT;
	if (copy_to_user(usect, &s, sizeof(s)))
		return -EFAULT;
	return 0;
}

static long physmap_stats(struct physmap_file *pf,
			  struct physmap_stats __user *ustats)
{
	const struct physmap_map *map;
	struct physmap_stats stats = { };

	rcu_read_lock();
	map = rcu_dereference(pf->map);
	if (map)
		physmap_map_stats(map, &stats);
	rcu_read_unlock();
	if (copy_to_user(ustats, &stats, sizeof(stats)))
		return -EFAULT;
	return 0;
}

/*
 * The internal layout is the UAPI's, so the tree is copied out as it is.
 */
static void physmap_tree_layout_check(void)
{
	BUILD_BUG_ON(PHYSMAP_ENTRY_SKIP_MASK != PHYSMAP_TREE_SKIP_MASK);
	BUILD_BUG_ON(PHYSMAP_ENTRY_SUBPAGE != PHYSMAP_TREE_SUBPAGE);
	BUILD_BUG_ON(PHYSMAP_ENTRY_PTR_SHIFT != PHYSMAP_TREE_PTR_SHIFT);
	BUILD_BUG_ON(PHYSMAP_NODE_SLOTS != PHYSMAP_TREE_NODE_SLOTS);
	BUILD_BUG_ON(sizeof(struct physmap_subpage) !=
		     sizeof(struct physmap_tree_subpage));
	BUILD_BUG_ON(offsetof(struct physmap_subpage, page) !=
		     offsetof(struct physmap_tree_subpage, page));
	BUILD_BUG_ON(offsetof(struct physmap_subpage, first) !=
		     offsetof(struct physmap_tree_subpage, first));
	BUILD_BUG_ON(offsetof(struct physmap_subpage, count) !=
		     offsetof(struct physmap_tree_subpage, count));
	BUILD_BUG_ON(sizeof(struct physmap_piece) !=
		     sizeof(struct physmap_tree_piece));
	BUILD_BUG_ON(offsetof(struct physmap_piece, start) !=
		     offsetof(struct physmap_tree_piece, start));
	BUILD_BUG_ON(offsetof(struct physmap_piece, last) !=
		     offsetof(struct physmap_tree_piece, last));
	BUILD_BUG_ON(offsetof(struct physmap_piece, section) !=
		     offsetof(struct physmap_tree_piece, section));
}

/*
 * Copy the published tree out. The file's mutex keeps the map alive while
 * user memory is written (and may fault): only COMMIT, under the same mutex,
 * replaces and retires it.
 */
static long physmap_get_tree(struct physmap_file *pf,
			     struct physmap_tree __user *utree)
{
	const struct physmap_map *map;
	struct physmap_tree tree;
	bool room;
	int ret = 0;

	physmap_tree_layout_check();
	if (copy_from_user(&tree, utree, sizeof(tree)))
		return -EFAULT;
	if (tree.flags)
		return -EINVAL;

	mutex_lock(&pf->lock);
	map = rcu_dereference_protected(pf->map, lockdep_is_held(&pf->lock));
	room = !map || (tree.nr_nodes >= map->nr_nodes &&
			tree.nr_subpages >= map->nr_subpages &&
			tree.nr_pieces >= map->nr_pieces);
	if (map && room) {
		if (copy_to_user(u64_to_user_ptr(tree.nodes), map->nodes,
				 array_size(map->nr_nodes,
					    PHYSMAP_NODE_SLOTS * sizeof(u32))) ||
		    copy_to_user(u64_to_user_ptr(tree.subpages), map->subpages,
				 array_size(map->nr_subpages,
					    sizeof(*map->subpages))) ||
		    copy_to_user(u64_to_user_ptr(tree.pieces), map->pieces,
				 array_size(map->nr_pieces,
					    sizeof(*map->pieces))))
			ret = -EFAULT;
	}
	tree.generation = map ? map->generation : 0;
	tree.nr_nodes = map ? map->nr_nodes : 0;
	tree.nr_subpages = map ? map->nr_subpages : 0;
	tree.nr_pieces = map ? map->nr_pieces : 0;
	tree.root = map ? map->root : 0;
	tree.page_shift = map ? map->page_shift : 0;
	tree.levels = map ? map->levels : 0;
	tree.node_slots = PHYSMAP_NODE_SLOTS;
	mutex_unlock(&pf->lock);
	if (ret)
		return ret;

	if (copy_to_user(utree, &tree, sizeof(tree)))
		return -EFAULT;
	return room ? 0 : -E2BIG;
}

static long physmap_ioctl(struct file *file, unsigned int cmd,
			  unsigned long arg)
{
	struct physmap_file *pf = file->private_data;
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case PHYSMAP_IOC_BEGIN:
		return physmap_begin(pf, uarg);
	case PHYSMAP_IOC_ADD:
		return physmap_add(pf, uarg);
	case PHYSMAP_IOC_COMMIT:
		return physmap_commit_pending(pf);
	case PHYSMAP_IOC_LOOKUP:
		return physmap_lookup(pf, uarg);
	case PHYSMAP_IOC_LOOKUP_BATCH:
		return physmap_lookup_batch(pf, uarg);
	case PHYSMAP_IOC_GET_SECTION:
		return physmap_get_section(pf, uarg);
	case PHYSMAP_IOC_STATS:
		return physmap_stats(pf, uarg);
	case PHYSMAP_IOC_GET_TREE:
		return physmap_get_tree(pf, uarg);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations physmap_fops = {
	.owner		= THIS_MODULE,
	.open		= physmap_open,
	.release	= physmap_release,
	.unlocked_ioctl	= physmap_ioctl,
	/* Every argument has one layout for 32-bit and 64-bit callers. */
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= noop_llseek,
};

static struct miscdevice physmap_misc = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= "physmap",
	.fops	= &physmap_fops,
	.mode	= 0600,
};

static int __init physmap_init(void)
{
	return misc_register(&physmap_misc);
}

static void __exit physmap_exit(void)
{
	misc_deregister(&physmap_misc);
	/* Retired maps are freed by callbacks in this module. */
	rcu_barrier();
}

module_init(physmap_init);
module_exit(physmap_exit);

MODULE_DESCRIPTION("QEMU's compressed phys_map radix tree behind /dev/physmap");
MODULE_LICENSE("GPL");
