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
#include <linux/debugfs.h>
#include <linux/err.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/pagemap.h>
#include <linux/rcupdate.h>
#include <linux/sched/signal.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "physmap_ioctl.h"
#include "physmap_tree.h"

/* The UAPI's constants are the tree's: values pass through unchanged. */
static_assert(PHYSMAP_UNASSIGNED == PMT_UNASSIGNED);
static_assert(PHYSMAP_PAGE_SHIFT_MIN == PMT_PAGE_SHIFT_MIN);
static_assert(PHYSMAP_PAGE_SHIFT_MAX == PMT_PAGE_SHIFT_MAX);
static_assert(PHYSMAP_PAGE_SHIFT_DEFAULT == PMT_PAGE_SHIFT_DEFAULT);

static unsigned int max_sections = 1000000;
module_param(max_sections, uint, 0644);
MODULE_PARM_DESC(max_sections,
		 "Most sections one map holds; past it ADD fails with ENOSPC (default 1000000)");

/* The most retire_backlog_mb takes: its bytes fit a long on 32-bit too. */
#define PHYSMAP_BACKLOG_MB_MAX	2047

static int physmap_param_set_uint(const char *val,
				  const struct kernel_param *kp,
				  unsigned int min, unsigned int max)
{
	unsigned int n;
	int ret;

	ret = kstrtouint(val, 0, &n);
	if (ret)
		return ret;
	if (n < min || n > max)
		return -EINVAL;
	return param_set_uint(val, kp);
}

static int physmap_set_backlog_mb(const char *val,
				  const struct kernel_param *kp)
{
	return physmap_param_set_uint(val, kp, 0, PHYSMAP_BACKLOG_MB_MAX);
}

static const struct kernel_param_ops physmap_backlog_mb_ops = {
	.set = physmap_set_backlog_mb,
	.get = param_get_uint,
};

static unsigned int retire_backlog_mb = 64;
module_param_cb(retire_backlog_mb, &physmap_backlog_mb_ops,
		&retire_backlog_mb, 0644);
MODULE_PARM_DESC(retire_backlog_mb,
		 "MiB of replaced maps that may wait for RCU grace periods, 0-2047; past it, or past a quarter of it for one file, COMMIT waits itself (default 64)");

static int physmap_set_map_mb(const char *val, const struct kernel_param *kp)
{
	return physmap_param_set_uint(val, kp, 1, UINT_MAX);
}

static const struct kernel_param_ops physmap_map_mb_ops = {
	.set = physmap_set_map_mb,
	.get = param_get_uint,
};

static unsigned int max_map_mb = 1024;
module_param_cb(max_map_mb, &physmap_map_mb_ops, &max_map_mb, 0644);
MODULE_PARM_DESC(max_map_mb,
		 "Most MiB the pending and the published map of one open file hold together; past it ADD and COMMIT fail with ENOSPC (default 1024)");

/* Addresses looked up per step of a batch, on the stack. */
#define PHYSMAP_BATCH_STEP	PMT_RUN_LEN

/**
 * struct physmap_file - one open /dev/physmap: an address space
 * @lock: serializes writers: BEGIN, ADD, REMOVE and COMMIT; and the copies
 *        that the debugfs files take when opened (physmap_debugfs_lock()).
 *        Never held across an access to user memory.
 * @pending: the map being built; NULL when nothing is pending. Under @lock.
 * @pending_update: @pending was begun with PHYSMAP_BEGIN_UPDATE; its
 *                  COMMIT keeps it in @kept. Under @lock.
 * @kept: the pending map of the last update transaction, kept by COMMIT
 *        (pmt_commit_update()) so that the next update starts from it and
 *        costs what it changes; NULL for none. Under @lock.
 * @pending_sections: sections of @pending, for fdinfo; written under @lock.
 * @pending_bytes: bytes of @pending, for fdinfo; written under @lock.
 * @kept_bytes: bytes of @kept, for fdinfo; written under @lock.
 * @map: the published map; NULL before the first commit. Written under
 *       @lock, read under RCU.
 * @backlog: this file's replaced maps waiting for grace periods.
 * @id: names the file's debugfs directory, physmap/<id>.
 * @debugfs: that directory.
 */
struct physmap_file {
	struct mutex lock; /* serializes writers; no user access under it */
	struct pmt_pending *pending;
	bool pending_update;
	struct pmt_pending *kept;
	u32 pending_sections;
	size_t pending_bytes;
	size_t kept_bytes;
	struct pmt_map __rcu *map;
	struct pmt_backlog *backlog;
	unsigned int id;
	struct dentry *debugfs;
};

static void physmap_debugfs_add(struct physmap_file *pf);

static int physmap_fop_open(struct inode *inode, struct file *file)
{
	struct physmap_file *pf;

	pf = kzalloc(sizeof(*pf), GFP_KERNEL_ACCOUNT);
	if (!pf)
		return -ENOMEM;
	pf->backlog = pmt_backlog_create();
	if (!pf->backlog) {
		kfree(pf);
		return -ENOMEM;
	}
	mutex_init(&pf->lock);
	file->private_data = pf;
	physmap_debugfs_add(pf);
	return 0;
}

static int physmap_fop_release(struct inode *inode, struct file *file)
{
	struct physmap_file *pf = file->private_data;

	/* Waits for the debugfs files' readers to leave. */
	debugfs_remove(pf->debugfs);
	/* The last reference is gone: no lookup can be running. */
	pmt_pending_free(pf->pending);
	pmt_pending_free(pf->kept);
	pmt_map_free(rcu_dereference_protected(pf->map, true));
	/* Maps still waiting for grace periods hold their own references. */
	pmt_backlog_put(pf->backlog);
	mutex_destroy(&pf->lock);
	kfree(pf);
	return 0;
}

/* The most bytes one file's pending and published maps hold together. */
static u64 physmap_max_map_bytes(void)
{
	return (u64)READ_ONCE(max_map_mb) << 20;
}

/* Bytes of the published map; the caller holds @pf->lock. */
static size_t physmap_published_bytes(struct physmap_file *pf)
{
	const struct pmt_map *map;

	map = rcu_dereference_protected(pf->map, lockdep_is_held(&pf->lock));
	return map ? map->bytes : 0;
}

/* Note the pending map's size for fdinfo; the caller holds @pf->lock. */
static void physmap_note_pending(struct physmap_file *pf)
{
	struct pmt_pending *pm = pf->pending;

	WRITE_ONCE(pf->pending_sections, pm ? pmt_pending_sections(pm) : 0);
	WRITE_ONCE(pf->pending_bytes, pm ? pmt_pending_bytes(pm) : 0);
	WRITE_ONCE(pf->kept_bytes, pf->kept ? pmt_pending_bytes(pf->kept) : 0);
}

/*
 * Take the kept pending map away, to free once the lock is dropped (NULL:
 * none); the caller holds @pf->lock.
 */
static struct pmt_pending *physmap_take_kept(struct physmap_file *pf)
{
	struct pmt_pending *kept = pf->kept;

	lockdep_assert_held(&pf->lock);
	pf->kept = NULL;
	physmap_note_pending(pf);
	return kept;
}

/* Replace the pending map (NULL: none) and note its size for fdinfo. */
static void physmap_set_pending(struct physmap_file *pf,
				struct pmt_pending *pm)
{
	lockdep_assert_held(&pf->lock);
	pf->pending = pm;
	physmap_note_pending(pf);
}

/* Whether @file may change its map: opened for writing. */
static bool physmap_writable(const struct file *file)
{
	return file->f_mode & FMODE_WRITE;
}

/*
 * The pending map an update starts from: the one the last update's COMMIT
 * kept, when it was kept from the published map, at no cost; else a copy
 * of the published map's sections, or an empty map with @page_shift (0:
 * the default) when nothing is published; the caller holds @pf->lock. The
 * pending map and the published one must fit in max_map_mb together. An
 * ERR_PTR() on failure: -EINVAL for a page_shift that is not the published
 * map's. It leaves @pf->kept to the caller.
 */
static struct pmt_pending *physmap_update_locked(struct physmap_file *pf,
						 unsigned int page_shift)
{
	u64 max_bytes = physmap_max_map_bytes();
	const struct pmt_map *map;
	struct pmt_pending *pm;

	map = rcu_dereference_protected(pf->map, lockdep_is_held(&pf->lock));
	if (!map) {
		pm = pmt_pending_create(page_shift ?: PHYSMAP_PAGE_SHIFT_DEFAULT);
		return pm ?: ERR_PTR(-ENOMEM);
	}
	if (page_shift && page_shift != map->page_shift)
		return ERR_PTR(-EINVAL);
	if (pf->kept && pmt_pending_kept(pf->kept, map)) {
		pm = pf->kept;
		pf->kept = NULL;
		return pm;
	}
	return pmt_pending_update(map, max_bytes > map->bytes ?
					   max_bytes - map->bytes : 0);
}

static long physmap_ioc_begin(struct file *file,
			      struct physmap_begin __user *ubegin)
{
	struct physmap_file *pf = file->private_data;
	struct pmt_pending *pm = NULL, *old, *kept;
	struct physmap_begin begin;
	bool update;

	if (copy_from_user(&begin, ubegin, sizeof(begin)))
		return -EFAULT;
	if (!physmap_writable(file))
		return -EBADF;
	if ((begin.flags & ~PHYSMAP_BEGIN_UPDATE) ||
	    (begin.page_shift && !pmt_page_shift_valid(begin.page_shift)))
		return -EINVAL;
	update = begin.flags & PHYSMAP_BEGIN_UPDATE;
	if (!update) {
		pm = pmt_pending_create(begin.page_shift ?:
					PHYSMAP_PAGE_SHIFT_DEFAULT);
		if (!pm)
			return -ENOMEM;
	}

	if (mutex_lock_killable(&pf->lock)) {
		pmt_pending_free(pm);
		return -EINTR;
	}
	/* An update copies the published map, which only the lock holds. */
	if (update) {
		pm = physmap_update_locked(pf, begin.page_shift);
		if (IS_ERR(pm)) {
			mutex_unlock(&pf->lock);
			return PTR_ERR(pm);
		}
	}
	old = pf->pending;
	/* Kept for an update that did not take it: no use any more. */
	kept = physmap_take_kept(pf);
	pf->pending_update = update;
	physmap_set_pending(pf, pm);
	mutex_unlock(&pf->lock);
	pmt_pending_free(old);
	pmt_pending_free(kept);
	return 0;
}

/* The index the next section added to the pending map gets. */
static u32 physmap_next_index(struct physmap_file *pf)
{
	lockdep_assert_held(&pf->lock);
	return pf->pending ? pmt_pending_next_index(pf->pending) : 1;
}

/*
 * Add @sect to the pending map (starting one if none is) if it gets index
 * @index, else fail with -EAGAIN; the caller holds @pf->lock.
 */
static int physmap_add_locked(struct physmap_file *pf,
			      const struct pmt_section *sect, u32 index)
{
	u64 max_bytes = physmap_max_map_bytes();
	size_t published = physmap_published_bytes(pf);
	bool begun = false;
	u32 added;
	int ret;

	if (physmap_next_index(pf) != index)
		return -EAGAIN;
	if (!pf->pending) {
		pf->pending = pmt_pending_create(PHYSMAP_PAGE_SHIFT_DEFAULT);
		if (!pf->pending)
			return -ENOMEM;
		pf->pending_update = false;
		begun = true;
	}
	ret = pmt_pending_add(pf->pending, sect, READ_ONCE(max_sections),
			      max_bytes > published ?
				  max_bytes - published : 0, &added);
	if (ret && begun) {
		/* Nothing was pending before this call: leave it so. */
		pmt_pending_free(pf->pending);
		pf->pending = NULL;
	} else if (begun) {
		/* A new map from nothing: what an update kept goes. */
		pmt_pending_free(pf->kept);
		pf->kept = NULL;
	}
	physmap_note_pending(pf);
	return ret;
}

/*
 * ADD writes the index back before the section goes in, so that a fault on
 * that write fails the ADD with nothing added: it writes the index the
 * section would get, then adds the section only if that is still its index
 * (another ADD or a BEGIN on the file may have come between), else starts
 * again. A failed ADD puts the caller's index back.
 */
static long physmap_ioc_add(struct file *file,
			    struct physmap_section __user *usect)
{
	struct physmap_file *pf = file->private_data;
	struct physmap_section s;
	struct pmt_section sect;
	u32 index;
	int ret;

	if (copy_from_user(&s, usect, sizeof(s)))
		return -EFAULT;
	/* A read-only argument fails first, as one that cannot be read. */
	if (put_user(s.index, &usect->index))
		return -EFAULT;
	if (!physmap_writable(file))
		return -EBADF;
	if (s.flags || !pmt_range_valid(s.start, s.size))
		return -EINVAL;
	sect = (struct pmt_section){
		.start = s.start,
		.size = s.size,
		.cookie = s.cookie,
		.offset = s.offset,
	};

	do {
		if (mutex_lock_killable(&pf->lock))
			return -EINTR;
		index = physmap_next_index(pf);
		mutex_unlock(&pf->lock);
		if (put_user(index, &usect->index))
			return -EFAULT;
		if (mutex_lock_killable(&pf->lock)) {
			ret = -EINTR;
			break;
		}
		ret = physmap_add_locked(pf, &sect, index);
		mutex_unlock(&pf->lock);
		if (ret == -EAGAIN && fatal_signal_pending(current))
			ret = -EINTR;
	} while (ret == -EAGAIN);
	if (ret && put_user(s.index, &usect->index))
		return -EFAULT;
	return ret;
}

static long physmap_ioc_commit(struct file *file)
{
	struct physmap_file *pf = file->private_data;
	struct pmt_map *map, *old;
	struct pmt_pending *pm;
	u64 max_bytes = physmap_max_map_bytes();
	size_t pending;

	if (!physmap_writable(file))
		return -EBADF;
	if (mutex_lock_killable(&pf->lock))
		return -EINTR;
	pm = pf->pending;
	if (!pm) {
		mutex_unlock(&pf->lock);
		return -EINVAL;
	}
	/* The new map and the pending one are held together for a moment. */
	pending = pmt_pending_bytes(pm);
	old = rcu_dereference_protected(pf->map, lockdep_is_held(&pf->lock));
	max_bytes = max_bytes > pending ? max_bytes - pending : 0;
	/* An update shares what it did not change, and keeps its map. */
	if (pf->pending_update)
		map = pmt_commit_update(pm, old, old ? old->generation + 1 : 1,
					max_bytes);
	else
		map = pmt_commit(pm, old ? old->generation + 1 : 1, max_bytes);
	if (IS_ERR(map)) {
		mutex_unlock(&pf->lock);
		return PTR_ERR(map);
	}
	rcu_assign_pointer(pf->map, map);
	if (pf->pending_update) {
		pf->kept = pm;
		pm = NULL;
	}
	physmap_set_pending(pf, NULL);
	mutex_unlock(&pf->lock);

	pmt_pending_free(pm);
	pmt_map_retire(old, pf->backlog,
		       (size_t)READ_ONCE(retire_backlog_mb) << 20);
	return 0;
}

static long physmap_ioc_remove(struct file *file,
			       struct physmap_remove __user *uremove)
{
	struct physmap_file *pf = file->private_data;
	struct physmap_remove remove;
	int ret;

	if (copy_from_user(&remove, uremove, sizeof(remove)))
		return -EFAULT;
	if (!physmap_writable(file))
		return -EBADF;
	if (remove.flags)
		return -EINVAL;
	if (mutex_lock_killable(&pf->lock))
		return -EINTR;
	ret = pf->pending ? pmt_pending_remove(pf->pending, remove.index) :
			    -EINVAL;
	physmap_note_pending(pf);
	mutex_unlock(&pf->lock);
	return ret;
}

static void physmap_fill_section(struct physmap_section *s,
				 const struct pmt_section *sect, u32 index)
{
	s->start = sect->start;
	s->size = sect->size;
	s->cookie = sect->cookie;
	s->offset = sect->offset;
	s->flags = 0;
	s->index = index;
}

static long physmap_ioc_lookup(struct physmap_file *pf,
			       struct physmap_lookup __user *ulookup)
{
	struct physmap_lookup lookup = { };
	const struct pmt_section *sect;
	const struct pmt_map *map;
	u32 index;

	if (get_user(lookup.addr, &ulookup->addr))
		return -EFAULT;
	rcu_read_lock();
	map = rcu_dereference(pf->map);
	if (map) {
		sect = pmt_map_lookup_section(map, lookup.addr, &index);
		physmap_fill_section(&lookup.section, sect, index);
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
	struct pmt_near near = PMT_NEAR_INIT;
	const struct pmt_map *map;
	u32 done, n;
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
		/* A full run's length is a constant its loops are built for. */
		if (map && n == PMT_RUN_LEN)
			pmt_map_lookup_run(map, addrs, indexes, PMT_RUN_LEN,
					   &near);
		else if (map)
			pmt_map_lookup_run(map, addrs, indexes, n, &near);
		else
			memset(indexes, 0, n * sizeof(*indexes));
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

static long physmap_ioc_lookup_batch(struct physmap_file *pf,
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

static long physmap_ioc_get_section(struct physmap_file *pf,
				    struct physmap_section __user *usect)
{
	const struct pmt_section *sect = NULL;
	const struct pmt_map *map;
	struct physmap_section s;
	u32 index;

	if (get_user(index, &usect->index))
		return -EFAULT;
	rcu_read_lock();
	map = rcu_dereference(pf->map);
	if (map)
		sect = pmt_map_section(map, index);
	if (sect)
		physmap_fill_section(&s, sect, index);
	rcu_read_unlock();
	if (!sect)
		return -ENOENT;
	if (copy_to_user(usect, &s, sizeof(s)))
		return -EFAULT;
	return 0;
}

static long physmap_ioc_stats(struct physmap_file *pf,
			      struct physmap_stats __user *ustats)
{
	const struct pmt_map *map;
	struct physmap_stats stats = { };

	rcu_read_lock();
	map = rcu_dereference(pf->map);
	if (map) {
		stats.generation = map->generation;
		stats.bytes = map->bytes;
		stats.sections = map->nr_held;
		stats.page_shift = map->page_shift;
	}
	rcu_read_unlock();
	if (copy_to_user(ustats, &stats, sizeof(stats)))
		return -EFAULT;
	return 0;
}

static long physmap_ioctl(struct file *file, unsigned int cmd,
			  unsigned long arg)
{
	struct physmap_file *pf = file->private_data;
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case PHYSMAP_IOC_BEGIN:
		return physmap_ioc_begin(file, uarg);
	case PHYSMAP_IOC_ADD:
		return physmap_ioc_add(file, uarg);
	case PHYSMAP_IOC_COMMIT:
		return physmap_ioc_commit(file);
	case PHYSMAP_IOC_REMOVE:
		return physmap_ioc_remove(file, uarg);
	case PHYSMAP_IOC_LOOKUP:
		return physmap_ioc_lookup(pf, uarg);
	case PHYSMAP_IOC_LOOKUP_BATCH:
		return physmap_ioc_lookup_batch(pf, uarg);
	case PHYSMAP_IOC_GET_SECTION:
		return physmap_ioc_get_section(pf, uarg);
	case PHYSMAP_IOC_STATS:
		return physmap_ioc_stats(pf, uarg);
	default:
		return -ENOTTY;
	}
}

/*
 * What the file holds, in /proc/PID/fdinfo/FD: the published map (read
 * under RCU) and the pending one (as last noted under the file's mutex, so
 * that reading fdinfo never waits for a long COMMIT).
 */
static void physmap_show_fdinfo(struct seq_file *m, struct file *file)
{
	struct physmap_file *pf = file->private_data;
	const struct pmt_map *map;
	u64 generation = 0;
	u32 sections = 0;
	size_t bytes = 0;

	rcu_read_lock();
	map = rcu_dereference(pf->map);
	if (map) {
		generation = map->generation;
		sections = map->nr_held;
		bytes = map->bytes;
	}
	rcu_read_unlock();
	seq_printf(m, "physmap-generation:\t%llu\n", generation);
	seq_printf(m, "physmap-sections:\t%u\n", sections);
	seq_printf(m, "physmap-bytes:\t%zu\n", bytes);
	seq_printf(m, "physmap-pending-sections:\t%u\n",
		   READ_ONCE(pf->pending_sections));
	seq_printf(m, "physmap-pending-bytes:\t%zu\n",
		   READ_ONCE(pf->pending_bytes));
	seq_printf(m, "physmap-kept-bytes:\t%zu\n",
		   READ_ONCE(pf->kept_bytes));
	seq_printf(m, "physmap-retired-bytes:\t%ld\n",
		   atomic_long_read(&pf->backlog->bytes));
	seq_printf(m, "physmap-retire-waits:\t%ld\n",
		   atomic_long_read(&pf->backlog->waits));
	seq_printf(m, "physmap-debugfs:\tphysmap/%u\n", pf->id);
}

/*
 * debugfs, which is not ABI: physmap/<id>/ per open file, its id in fdinfo,
 * with "shape" (the published tree's counters) and "dump" (the tree in the
 * layout of QEMU's "info mtree -d"). Both print from a copy taken when they
 * are opened, so that a read, whose copy to user memory may block, touches
 * nothing of the file's: the files are created "unsafe" and only open()
 * holds the file alive (physmap_debugfs_lock()), so that closing /dev/physmap
 * never waits for a reader.
 */
static struct dentry *physmap_debugfs_root;
static atomic_t physmap_debugfs_ids = ATOMIC_INIT(0);

/*
 * The /dev/physmap file of a debugfs file being opened, held alive and
 * with its mutex held until physmap_debugfs_unlock(); an ERR_PTR() when it
 * is gone (-EIO) or a fatal signal came (-EINTR).
 */
static struct physmap_file *physmap_debugfs_lock(struct file *file)
{
	struct physmap_file *pf;

	if (debugfs_file_get(file->f_path.dentry))
		return ERR_PTR(-EIO);
	pf = file_inode(file)->i_private;
	if (mutex_lock_killable(&pf->lock)) {
		debugfs_file_put(file->f_path.dentry);
		return ERR_PTR(-EINTR);
	}
	return pf;
}

static void physmap_debugfs_unlock(struct file *file,
				   struct physmap_file *pf)
{
	mutex_unlock(&pf->lock);
	debugfs_file_put(file->f_path.dentry);
}

static int physmap_shape_show(struct seq_file *m, void *v)
{
	const struct pmt_map *map = m->private;

	if (map)
		pmt_map_show_shape(m, map);
	else
		seq_puts(m, "generation:     0\n");
	return 0;
}

/* The counters live in the map's header: a copy of it is the snapshot. */
static int physmap_shape_open(struct inode *inode, struct file *file)
{
	struct physmap_file *pf = physmap_debugfs_lock(file);
	const struct pmt_map *map;
	struct pmt_map *head = NULL;
	int ret;

	if (IS_ERR(pf))
		return PTR_ERR(pf);
	map = rcu_dereference_protected(pf->map, lockdep_is_held(&pf->lock));
	if (map)
		head = kmemdup(map, sizeof(*map), GFP_KERNEL_ACCOUNT);
	physmap_debugfs_unlock(file, pf);
	if (map && !head)
		return -ENOMEM;
	ret = single_open(file, physmap_shape_show, head);
	if (ret)
		kfree(head);
	return ret;
}

static int physmap_shape_release(struct inode *inode, struct file *file)
{
	kfree(((struct seq_file *)file->private_data)->private);
	return single_release(inode, file);
}

static const struct file_operations physmap_shape_fops = {
	.owner		= THIS_MODULE,
	.open		= physmap_shape_open,
	.read		= seq_read,
	.llseek		= seq_lseek,
	.release	= physmap_shape_release,
};

/* Positions of the dump are its records (pmt_dump_records()). */
static void *physmap_dump_start(struct seq_file *m, loff_t *pos)
{
	const struct pmt_dump *dump = m->private;

	return *pos < (dump ? pmt_dump_records(dump) : 1) ? pos : NULL;
}

static void *physmap_dump_next(struct seq_file *m, void *v, loff_t *pos)
{
	++*pos;
	return physmap_dump_start(m, pos);
}

static void physmap_dump_stop(struct seq_file *m, void *v)
{
}

static int physmap_dump_show(struct seq_file *m, void *v)
{
	const struct pmt_dump *dump = m->private;

	if (dump)
		pmt_dump_record(m, dump, *(loff_t *)v);
	else
		seq_puts(m, "physmap: nothing published\n");
	return 0;
}

static const struct seq_operations physmap_dump_seq_ops = {
	.start	= physmap_dump_start,
	.next	= physmap_dump_next,
	.stop	= physmap_dump_stop,
	.show	= physmap_dump_show,
};

/* A copy of the published map, so that the dump is one snapshot. */
static int physmap_dump_open(struct inode *inode, struct file *file)
{
	struct physmap_file *pf = physmap_debugfs_lock(file);
	const struct pmt_map *map;
	struct pmt_dump *snap = NULL;
	int ret;

	if (IS_ERR(pf))
		return PTR_ERR(pf);
	map = rcu_dereference_protected(pf->map, lockdep_is_held(&pf->lock));
	if (map)
		snap = pmt_dump_create(map);
	physmap_debugfs_unlock(file, pf);
	if (map && !snap)
		return -ENOMEM;
	ret = seq_open(file, &physmap_dump_seq_ops);
	if (ret) {
		pmt_dump_free(snap);
		return ret;
	}
	((struct seq_file *)file->private_data)->private = snap;
	return 0;
}

static int physmap_dump_release(struct inode *inode, struct file *file)
{
	struct seq_file *m = file->private_data;

	pmt_dump_free(m->private);
	return seq_release(inode, file);
}

static const struct file_operations physmap_dump_fops = {
	.owner		= THIS_MODULE,
	.open		= physmap_dump_open,
	.read		= seq_read,
	.llseek		= seq_lseek,
	.release	= physmap_dump_release,
};

/* The file's debugfs directory; debugfs failures are not the file's. */
static void physmap_debugfs_add(struct physmap_file *pf)
{
	char name[16];

	pf->id = atomic_inc_return(&physmap_debugfs_ids);
	snprintf(name, sizeof(name), "%u", pf->id);
	pf->debugfs = debugfs_create_dir(name, physmap_debugfs_root);
	debugfs_create_file_unsafe("shape", 0400, pf->debugfs, pf,
				   &physmap_shape_fops);
	debugfs_create_file_unsafe("dump", 0400, pf->debugfs, pf,
				   &physmap_dump_fops);
}

static const struct file_operations physmap_fops = {
	.owner		= THIS_MODULE,
	.open		= physmap_fop_open,
	.release	= physmap_fop_release,
	.unlocked_ioctl	= physmap_ioctl,
	/* Every argument has one layout for 32-bit and 64-bit callers. */
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= noop_llseek,
	.show_fdinfo	= physmap_show_fdinfo,
};

static struct miscdevice physmap_misc = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= "physmap",
	.fops	= &physmap_fops,
	.mode	= 0600,
};

static int __init physmap_init(void)
{
	int ret;

	physmap_debugfs_root = debugfs_create_dir("physmap", NULL);
	ret = misc_register(&physmap_misc);
	if (ret)
		debugfs_remove(physmap_debugfs_root);
	return ret;
}

static void __exit physmap_exit(void)
{
	misc_deregister(&physmap_misc);
	debugfs_remove(physmap_debugfs_root);
	/* Retired maps are freed by callbacks in this module. */
	rcu_barrier();
}

module_init(physmap_init);
module_exit(physmap_exit);

MODULE_DESCRIPTION("QEMU's compressed phys_map radix tree behind /dev/physmap");
MODULE_LICENSE("GPL");
