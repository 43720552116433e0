// SPDX-License-Identifier: GPL-2.0
/*
 * physmap_stress_test.c - /dev/physmap under load, bounded in time
 *
 * mixed: several processes (fork) and threads. Each process shares one fd
 *	with the others (opened before fork) and holds its own; on each there
 *	are lookup threads, batch-lookup threads and a committer (on the
 *	shared fd the committers of all processes take turns under a
 *	process-shared lock). A closer thread opens an fd, dup()s it for a
 *	lookup thread and closes every copy while that thread may be in an
 *	ioctl on it. Meanwhile rmmod is attempted and must fail cleanly.
 *	Every physmap fd here publishes map A at odd generations and map B at
 *	even ones, so every answer can be checked against the map its
 *	generation names, whichever file a reused fd number refers to.
 *	Counts lookups, batch lookups, commits, closes, wrong answers (must
 *	be 0).
 * storm: tens of thousands of commits (or as many as fit in the time
 *	given) from several threads with
 *	retire_backlog_mb lowered, memory (the test's memory cgroup, else
 *	MemAvailable) sampled: replaced maps waiting for RCU grace periods
 *	stay within the backlog bound. Every other commit ends an update
 *	transaction (BEGIN with PHYSMAP_BEGIN_UPDATE, REMOVE of one or two
 *	sections, ADD of their ranges with new cookies, which must get the
 *	freed indexes, lowest first), the others a full rebuild; each thread
 *	keeps a model of its fd's map, checked in full after the storm.
 * memcg: in a cgroup v2 with a small memory.max, ADD fails with ENOMEM
 *	(no OOM kill), the fd stays usable, and outside the cgroup the
 *	pending map commits with exactly the sections added.
 * pressure_latency: a map whose arrays grow through every size built with
 *	free memory fragmented into single pages: no ADD or COMMIT stalls.
 * unload_reload (last): with every fd closed, rmmod succeeds; the module
 *	is loaded again from $PHYSMAP_KO (skipped without it).
 *
 * Environment: PHYSMAP_STRESS_SECONDS (mixed, default 45),
 * PHYSMAP_STORM_COMMITS (default 30000) and PHYSMAP_STORM_SECONDS (at most
 * that long, default 90), PHYSMAP_KO.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "kselftest_harness.h"
#pragma GCC diagnostic pop
#include "physmap_maps.h"
#include "physmap_ksft.h"
#include "physmap_check.h"
#include "physmap_params.h"

#define CGROOT		"/sys/fs/cgroup"
#define MIB		(1ULL << 20)

#define NR_PROCS	3	/* the test process and two children */
#define MAP_SECTIONS	48

/* ---- shared between processes (MAP_SHARED) ---- */
struct shared {
	pthread_mutex_t shared_fd_lock;	/* committers of the shared fd */
	volatile int stop;
	unsigned long lookups;
	unsigned long batches;
	unsigned long batch_addrs;
	unsigned long commits;
	unsigned long closes;
	unsigned long closed_errors;	/* EBADF/ENOTTY on a closed fd */
	unsigned long wrong;
	unsigned long other_errors;
	char first_wrong[256];
};

static struct shared *sh;
static struct pm_map map_a, map_b, map_none;

#define ADD(field, n) __atomic_fetch_add(&sh->field, (n), __ATOMIC_RELAXED)

static const struct pm_map *model_of(__u64 gen)
{
	if (!gen)
		return &map_none;
	return gen & 1 ? &map_a : &map_b;
}

static void wrong(const char *fmt, ...)
{
	va_list ap;

	if (!ADD(wrong, 1)) {
		va_start(ap, fmt);
		vsnprintf(sh->first_wrong, sizeof(sh->first_wrong), fmt, ap);
		va_end(ap);
	}
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void build_models(void)
{
	const struct pm_range *overlap;

	pm_map_init(&map_a);
	pm_map_init(&map_b);
	pm_map_init(&map_none);
	/* the same region, different sections: answers tell A from B */
	if (pm_map_generate(&map_a, 21, MAP_SECTIONS, 1ULL << 30, 10) ||
	    pm_map_generate(&map_b, 22, MAP_SECTIONS, 1ULL << 30, 10) ||
	    pm_model_build(&map_a, &overlap) ||
	    pm_model_build(&map_b, &overlap) ||
	    pm_model_build(&map_none, &overlap))
		abort();
}

/* publish the map of the generation after the current one; 0 or -errno */
static int commit_next(int fd)
{
	const struct pm_range *failed;
	struct physmap_stats st;
	int ret = pm_stats(fd, &st);

	if (ret)
		return ret;
	return pm_map_publish(fd, model_of(st.generation + 1), 12, &failed);
}

/* one LOOKUP, checked; closing: the fd may be closed under us */
static void check_lookup(int fd, __u64 addr, int closing)
{
	struct physmap_lookup l;
	const struct pm_range *r;
	const struct pm_map *m;
	int ret = pm_lookup(fd, addr, &l);

	if (ret) {
		if (closing && (ret == -EBADF || ret == -ENOTTY))
			ADD(closed_errors, 1);
		else
			wrong("LOOKUP fd %d: %s", fd, strerror(-ret));
		return;
	}
	ADD(lookups, 1);
	m = model_of(l.generation);
	r = pm_model_lookup(m, addr);
	if (!r) {
		if (l.section.index || l.section.start || l.section.size ||
		    l.section.cookie || l.section.offset)
			wrong("LOOKUP %llx gen %llu: index %u, want 0",
			      (unsigned long long)addr,
			      (unsigned long long)l.generation,
			      l.section.index);
		return;
	}
	if (l.section.index != r->index || l.section.start != r->start ||
	    l.section.size != r->last - r->start + 1 ||
	    l.section.cookie != r->cookie || l.section.offset != r->offset)
		wrong("LOOKUP %llx gen %llu: index %u, want %u",
		      (unsigned long long)addr,
		      (unsigned long long)l.generation, l.section.index,
		      r->index);
}

static void check_batch(int fd, __u64 *seed, int closing)
{
	__u64 addrs[256], gen;
	__u32 indexes[256], n, i;
	const struct pm_map *m;
	int ret;

	n = 1 + pm_rand64(seed) % 256;
	for (i = 0; i < n; i++) {
		const struct pm_range *r =
			&map_a.ranges[pm_rand64(seed) % map_a.count];

		addrs[i] = r->start + pm_rand64(seed) % 0x3000 - 0x1000;
	}
	ret = pm_lookup_batch(fd, addrs, indexes, n, &gen);
	if (ret) {
		if (closing && (ret == -EBADF || ret == -ENOTTY))
			ADD(closed_errors, 1);
		else
			wrong("LOOKUP_BATCH fd %d: %s", fd, strerror(-ret));
		return;
	}
	ADD(batches, 1);
	ADD(batch_addrs, n);
	m = model_of(gen);
	for (i = 0; i < n; i++)
		if (indexes[i] != pm_model_index(m, addrs[i])) {
			wrong("LOOKUP_BATCH %llx gen %llu: %u, want %u",
			      (unsigned long long)addrs[i],
			      (unsigned long long)gen, indexes[i],
			      pm_model_index(m, addrs[i]));
			return;
		}
}

struct worker {
	pthread_t thread;
	int kind;
	volatile int *fd;	/* the fd to use (may change: closer) */
	int closing;		/* the fd may be closed at any time */
	__u64 seed;
};

enum { W_LOOKUP, W_BATCH, W_COMMIT_OWN, W_COMMIT_SHARED, W_CLOSER };

static volatile int cycle_fd = -1;

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	__u64 seed = w->seed;

	while (!sh->stop) {
		int fd = *w->fd, ret;

		switch (w->kind) {
		case W_LOOKUP: {
			const struct pm_range *r =
				&map_b.ranges[pm_rand64(&seed) % map_b.count];

			if (fd < 0)
				break;
			check_lookup(fd, pm_rand64(&seed) & 1 ? r->start :
				     r->last + (pm_rand64(&seed) & 0xff),
				     w->closing);
			break;
		}
		case W_BATCH:
			if (fd >= 0)
				check_batch(fd, &seed, w->closing);
			break;
		case W_COMMIT_OWN:
			ret = commit_next(fd);
			if (ret)
				wrong("commit on own fd: %s", strerror(-ret));
			else
				ADD(commits, 1);
			usleep(200);
			break;
		case W_COMMIT_SHARED:
			pthread_mutex_lock(&sh->shared_fd_lock);
			ret = commit_next(fd);
			pthread_mutex_unlock(&sh->shared_fd_lock);
			if (ret)
				wrong("commit on shared fd: %s", strerror(-ret));
			else
				ADD(commits, 1);
			usleep(1000);
			break;
		case W_CLOSER: {
			/* an fd and two dups; the lookups use a dup */
			int own = open(PHYSMAP_DEV, O_RDWR | O_CLOEXEC);
			int d1, d2;

			if (own < 0) {
				ADD(other_errors, 1);
				usleep(1000);
				break;
			}
			ret = commit_next(own);
			d1 = dup(own);
			d2 = dup(d1);
			cycle_fd = d1;
			usleep(500 + pm_rand64(&seed) % 2000);
			if (!ret)
				ret = commit_next(d2);
			if (ret)
				wrong("commit on a new fd: %s", strerror(-ret));
			else
				ADD(commits, 2);
			/* close every copy while lookups may be under way */
			close(own);
			close(d1);
			cycle_fd = d2;
			usleep(pm_rand64(&seed) % 1000);
			close(d2);
			cycle_fd = -1;
			ADD(closes, 3);
			break;
		}
		}
	}
	return NULL;
}

/* the threads of one process; returns after sh->stop */
static void run_process(int shared_fd, __u64 seed)
{
	static volatile int sfd, ofd;
	struct worker w[10];
	int own, i, n = 0;

	own = open(PHYSMAP_DEV, O_RDWR | O_CLOEXEC);
	if (own < 0) {
		wrong("open: %s", strerror(errno));
		return;
	}
	sfd = shared_fd;
	ofd = own;
	w[n++] = (struct worker){ .kind = W_LOOKUP, .fd = &sfd };
	w[n++] = (struct worker){ .kind = W_LOOKUP, .fd = &sfd };
	w[n++] = (struct worker){ .kind = W_BATCH, .fd = &sfd };
	w[n++] = (struct worker){ .kind = W_COMMIT_SHARED, .fd = &sfd };
	w[n++] = (struct worker){ .kind = W_LOOKUP, .fd = &ofd };
	w[n++] = (struct worker){ .kind = W_BATCH, .fd = &ofd };
	w[n++] = (struct worker){ .kind = W_COMMIT_OWN, .fd = &ofd };
	w[n++] = (struct worker){ .kind = W_CLOSER, .fd = &cycle_fd };
	w[n++] = (struct worker){ .kind = W_LOOKUP, .fd = &cycle_fd,
				  .closing = 1 };
	w[n++] = (struct worker){ .kind = W_BATCH, .fd = &cycle_fd,
				  .closing = 1 };
	for (i = 0; i < n; i++) {
		w[i].seed = seed * 1000 + i;
		if (pthread_create(&w[i].thread, NULL, worker_main, &w[i]))
			abort();
	}
	for (i = 0; i < n; i++)
		pthread_join(w[i].thread, NULL);
	close(own);
}

static int try_rmmod(void)
{
	return syscall(__NR_delete_module, "physmap", O_NONBLOCK) ? -errno : 0;
}

static int module_loaded(void)
{
	struct stat st;

	return !stat("/sys/module/physmap", &st);
}

static unsigned int env_uint(const char *name, unsigned int dflt)
{
	const char *v = getenv(name);

	return v && *v ? strtoul(v, NULL, 0) : dflt;
}

/* no state: a fixture for the per-test time limits */
FIXTURE(stress) {
	int unused;
};

FIXTURE_SETUP(stress)
{
	self->unused = 0;
}

FIXTURE_TEARDOWN(stress)
{
}

TEST_F_TIMEOUT(stress, mixed, 300)
{
	unsigned int seconds = env_uint("PHYSMAP_STRESS_SECONDS", 45);
	unsigned long rmmod_busy = 0, rmmod_tries = 0;
	pthread_mutexattr_t ma;
	pid_t pids[NR_PROCS];
	char why[256] = "";
	struct physmap_stats st;
	double end;
	int shared_fd, i, status, rmmod_ok = 1;

	build_models();
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, sh);
	memset(sh, 0, sizeof(*sh));
	pthread_mutexattr_init(&ma);
	pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
	pthread_mutex_init(&sh->shared_fd_lock, &ma);

	shared_fd = open(PHYSMAP_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, shared_fd);
	ASSERT_EQ(0, commit_next(shared_fd));

	for (i = 1; i < NR_PROCS; i++) {
		pids[i] = fork();
		ASSERT_LE(0, pids[i]);
		if (!pids[i]) {
			run_process(shared_fd, i);
			_exit(0);
		}
	}
	/* this process: the same threads, from a helper process */
	pids[0] = fork();
	ASSERT_LE(0, pids[0]);
	if (!pids[0]) {
		run_process(shared_fd, 0);
		_exit(0);
	}

	/* rmmod now and then while fds are open: must fail, cleanly */
	end = now() + seconds;
	while (now() < end) {
		int ret;

		usleep(500000);
		ret = try_rmmod();
		rmmod_tries++;
		if (ret == -EAGAIN || ret == -EBUSY)
			rmmod_busy++;
		else if (ret == -EPERM || ret == -ENOSYS)
			rmmod_ok = 0;	/* not allowed here: counted as such */
		else
			wrong("rmmod with fds open: %s",
			      ret ? strerror(-ret) : "succeeded");
		if (!module_loaded())
			wrong("module gone with fds open");
	}
	sh->stop = 1;
	for (i = 0; i < NR_PROCS; i++) {
		ASSERT_EQ(pids[i], waitpid(pids[i], &status, 0));
		ASSERT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status))
			TH_LOG("worker process %d: status %#x", i, status);
	}

	/* the shared fd still answers as its last commit said */
	ASSERT_EQ(0, pm_stats(shared_fd, &st));
	ASSERT_EQ(0UL, pmc_check(shared_fd, model_of(st.generation),
				 st.generation, 7, why, sizeof(why)))
		TH_LOG("shared fd after the run: %s", why);
	close(shared_fd);

	printf("# physmap-stress mixed: %u s, %d processes x 10 threads: %lu lookups, %lu batch lookups (%lu addresses), %lu commits, %lu fds closed under lookups, %lu EBADF/ENOTTY on closed fds, %lu rmmod attempts refused (of %lu), %lu other errors, %lu wrong answers\n",
	       seconds, NR_PROCS, sh->lookups, sh->batches, sh->batch_addrs,
	       sh->commits, sh->closes, sh->closed_errors, rmmod_busy,
	       rmmod_tries, sh->other_errors, sh->wrong);
	if (sh->wrong)
		TH_LOG("first wrong answer: %s", sh->first_wrong);
	ASSERT_EQ(0UL, sh->wrong);
	ASSERT_EQ(0UL, sh->other_errors);
	ASSERT_LT(0UL, sh->lookups);
	ASSERT_LT(0UL, sh->batches);
	ASSERT_LT(0UL, sh->commits);
	ASSERT_LT(0UL, sh->closes);
	if (rmmod_ok)
		ASSERT_LT(0UL, rmmod_busy);
	munmap(sh, sizeof(*sh));
}

/* ---- memory cgroups ---- */

/* a cgroup v2 with the memory controller at CGROOT/name; 0 or -1 */
static int cg_create(const char *name, char *dir, size_t size)
{
	char buf[256];
	struct stat st;

	if (stat(CGROOT "/cgroup.controllers", &st))
		mount("cgroup2", CGROOT, "cgroup2", 0, NULL);
	if (pm_read_file(CGROOT "/cgroup.controllers", buf, sizeof(buf)) ||
	    !strstr(buf, "memory"))
		return -1;
	pm_write_str(CGROOT "/cgroup.subtree_control", "+memory");
	snprintf(dir, size, CGROOT "/%s", name);
	rmdir(dir);
	if (mkdir(dir, 0755))
		return -1;
	snprintf(buf, sizeof(buf), "%s/memory.current", dir);
	return stat(buf, &st) ? -1 : 0;
}

static int cg_enter(const char *dir)
{
	char path[256], pid[32];

	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	snprintf(pid, sizeof(pid), "%d", getpid());
	return pm_write_str(path, pid);
}

static long long cg_read(const char *dir, const char *file, const char *key)
{
	char path[256], buf[4096], *p;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	if (pm_read_file(path, buf, sizeof(buf)))
		return -1;
	if (!key)
		return strtoll(buf, NULL, 10);
	for (p = buf; p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, key, strlen(key)) && p[strlen(key)] == ' ')
			return strtoll(p + strlen(key) + 1, NULL, 10);
	return -1;
}

static long long mem_available_kib(void)
{
	long long kib = -1;
	char line[256];
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "MemAvailable: %lld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

/*
 * A map whose nodes outweigh its sections: pairs of one-page sections in
 * separate 2 MiB regions keep a level-0 node each (2 KiB) after compaction.
 * Its model in model (section 2i + 1 and 2i + 2: pair i), if not NULL.
 */
static int publish_storm_map(int fd, unsigned int pairs, __u64 base,
			     struct pm_map *model)
{
	unsigned int i;
	int ret = pm_begin(fd, 12);

	if (model) {
		pm_map_free(model);
		for (i = 0; i < pairs; i++)
			if (pm_map_append(model, base + (__u64)i * 0x200000,
					  base + (__u64)i * 0x200000 + 0xfff,
					  i, 0) ||
			    pm_map_append(model,
					  base + (__u64)i * 0x200000 + 0x3000,
					  base + (__u64)i * 0x200000 + 0x3fff,
					  i, 1))
				return -ENOMEM;
	}
	for (i = 0; i < pairs && !ret; i++) {
		ret = pm_add(fd, base + (__u64)i * 0x200000, 0x1000, i, 0, NULL);
		if (!ret)
			ret = pm_add(fd, base + (__u64)i * 0x200000 + 0x3000,
				     0x1000, i, 1, NULL);
	}
	return ret ?: pm_commit(fd);
}

#define STORM_THREADS	3
#define STORM_PAIRS	8
#define STORM_BASE	(1ULL << 40)

struct storm {
	pthread_t thread;
	int fd;
	unsigned int commits;
	unsigned long updates;	/* commits that ended an update */
	__u64 gen;		/* the fd's generation */
	__u64 seed;
	struct pm_map model;	/* what the fd publishes */
	int error;
	char what[96];		/* the call that failed */
};

static volatile unsigned long storm_done;
static double storm_deadline;

/*
 * An update transaction of the storm map: REMOVE one section, or two in
 * either order, and ADD their ranges again with new cookies and offsets;
 * the ADDs take the freed indexes, lowest first, as the model says.
 */
static int storm_update(struct storm *s)
{
	__u32 removed[2], index;
	struct pm_range again[2];
	unsigned int i, n = 1 + pm_rand64(&s->seed) % 2;
	int ret;

	ret = pm_begin_update(s->fd, pm_rand64(&s->seed) & 1 ? 0 : 12);
	if (ret) {
		snprintf(s->what, sizeof(s->what), "BEGIN_UPDATE");
		return ret;
	}
	for (i = 0; i < n; i++) {
		const struct pm_range *r = &s->model.ranges[pm_rand64(&s->seed) %
							    s->model.count];

		again[i] = *r;
		removed[i] = r->index;
		ret = pm_remove(s->fd, removed[i]);
		if (ret) {
			snprintf(s->what, sizeof(s->what), "REMOVE %u",
				 removed[i]);
			return ret;
		}
		if (pm_map_remove_index(&s->model, removed[i]))
			return -EPROTO;
	}
	/* the second range first: it gets the lower of the two indexes */
	for (i = n; i-- > 0;) {
		const struct pm_range *r = &again[i];
		__u64 cookie = pm_rand64(&s->seed);

		ret = pm_add(s->fd, r->start, r->last - r->start + 1, cookie,
			     s->gen, &index);
		if (!ret && pm_map_append(&s->model, r->start, r->last, cookie,
					  s->gen))
			ret = -ENOMEM;
		if (!ret &&
		    index != s->model.ranges[s->model.count - 1].index)
			ret = -EPROTO;
		if (ret) {
			snprintf(s->what, sizeof(s->what),
				 "ADD after REMOVE %u: index %u, want %u",
				 removed[i], index,
				 s->model.ranges[s->model.count - 1].index);
			return ret;
		}
	}
	ret = pm_commit(s->fd);
	if (ret)
		snprintf(s->what, sizeof(s->what), "COMMIT of an update");
	return ret;
}

static void *storm_main(void *arg)
{
	struct storm *s = arg;
	unsigned int i;

	for (i = 0; i < s->commits && !s->error && now() < storm_deadline;
	     i++) {
		if (i & 1) {
			s->error = storm_update(s);
			s->updates += !s->error;
		} else {
			s->error = publish_storm_map(s->fd, STORM_PAIRS,
						     STORM_BASE, &s->model);
			if (s->error)
				snprintf(s->what, sizeof(s->what),
					 "full commit");
		}
		s->gen += !s->error;
		__atomic_fetch_add(&storm_done, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

struct storm_result {
	unsigned long commits;
	unsigned long updates;
	unsigned long samples;
	long long peak;		/* bytes over the baseline */
	long long map_bytes;
	double seconds;
};

static long long mem_now(const char *cg, int use_cg)
{
	return use_cg ? cg_read(cg, "memory.current", NULL) :
			-1024 * mem_available_kib();
}

/* one storm with retire_backlog_mb set to backlog; 0 or -errno */
static int run_storm(const char *backlog, unsigned int commits,
		     unsigned int seconds, const char *cg, int use_cg,
		     struct storm_result *res)
{
	struct storm s[STORM_THREADS];
	struct physmap_stats st;
	long long base, cur;
	int i, ret = 0;
	double t0;

	memset(res, 0, sizeof(*res));
	if (pm_write_str(PM_BACKLOG_PARAM, backlog))
		return -EIO;
	memset(s, 0, sizeof(s));
	for (i = 0; i < STORM_THREADS; i++) {
		s[i].fd = open(PHYSMAP_DEV, O_RDWR | O_CLOEXEC);
		if (s[i].fd < 0)
			return -errno;
		ret = publish_storm_map(s[i].fd, STORM_PAIRS, STORM_BASE,
					&s[i].model);
		if (ret)
			return ret;
		s[i].gen = 1;
		s[i].seed = 0x570e3ULL + i;
		s[i].commits = commits / STORM_THREADS;
	}
	ret = pm_stats(s[0].fd, &st);
	if (ret)
		return ret;
	res->map_bytes = st.bytes;
	usleep(200000);
	base = mem_now(cg, use_cg);

	t0 = now();
	storm_deadline = t0 + seconds;
	storm_done = 0;
	for (i = 0; i < STORM_THREADS; i++)
		if (pthread_create(&s[i].thread, NULL, storm_main, &s[i]))
			abort();
	/* sample while the storm runs */
	while (storm_done < (unsigned long)commits / STORM_THREADS *
			    STORM_THREADS && now() < storm_deadline) {
		usleep(20000);
		cur = mem_now(cg, use_cg);
		res->samples++;
		if (cur - base > res->peak)
			res->peak = cur - base;
	}
	for (i = 0; i < STORM_THREADS; i++) {
		char why[256] = "";

		pthread_join(s[i].thread, NULL);
		res->updates += s[i].updates;
		if (s[i].error) {
			printf("# physmap-storm thread %d: %s: %s\n", i,
			       s[i].what, strerror(-s[i].error));
			ret = s[i].error;
		} else if (pm_model_build(&s[i].model, NULL) ||
			   pmc_check(s[i].fd, &s[i].model, s[i].gen, i, why,
				     sizeof(why))) {
			/* what the fd publishes is not the model */
			printf("# physmap-storm thread %d, generation %llu: %s\n",
			       i, (unsigned long long)s[i].gen, why);
			ret = -EPROTO;
		}
		close(s[i].fd);
		pm_map_free(&s[i].model);
	}
	fflush(stdout);
	res->commits = storm_done;
	res->seconds = now() - t0;
	/* let the RCU callbacks of this storm run before the next one */
	usleep(500000);
	return ret;
}

static void print_storm(const char *what, unsigned int backlog_mb,
			const struct storm_result *r, int use_cg)
{
	printf("# physmap-storm %s: %lu commits (%lu of them updates) in %.1f s from %d threads, map %lld bytes (%.1f MiB replaced in all), retire_backlog_mb %u: peak growth %lld KiB over %lu samples (%s)\n",
	       what, r->commits, r->updates, r->seconds, STORM_THREADS,
	       r->map_bytes,
	       (double)r->commits * r->map_bytes / MIB, backlog_mb,
	       r->peak / 1024, r->samples,
	       use_cg ? "memcg memory.current" : "MemAvailable");
	fflush(stdout);
}

TEST_F_TIMEOUT(stress, storm, 600)
{
	unsigned int commits = env_uint("PHYSMAP_STORM_COMMITS", 30000);
	unsigned int seconds = env_uint("PHYSMAP_STORM_SECONDS", 90);
	const unsigned int backlog_mb = 1;
	struct storm_result ref, bounded;
	char cg[128], saved[32] = "", value[32];
	long long limit;
	int use_cg, ret;

	use_cg = !cg_create("physmap-storm", cg, sizeof(cg)) && !cg_enter(cg);
	if (pm_read_file(PM_BACKLOG_PARAM, saved, sizeof(saved)))
		SKIP(return, "no %s", PM_BACKLOG_PARAM);
	saved[strcspn(saved, "\n")] = '\0';

	/* for reference: a third of the storm with the backlog as it was */
	ret = run_storm(saved, commits / 3, seconds / 3, cg, use_cg, &ref);
	ASSERT_EQ(0, ret) TH_LOG("storm: %s", strerror(-ret));
	print_storm("reference", strtoul(saved, NULL, 10), &ref, use_cg);

	snprintf(value, sizeof(value), "%u", backlog_mb);
	ret = run_storm(value, commits, seconds, cg, use_cg, &bounded);
	pm_write_str(PM_BACKLOG_PARAM, saved);
	ASSERT_EQ(0, ret) TH_LOG("storm: %s", strerror(-ret));
	print_storm("bounded", backlog_mb, &bounded, use_cg);
	/*
	 * Bound: the backlog, plus per thread the map being built and the
	 * one published and the one just replaced, plus slack for the
	 * memcg's per-CPU charge batches and slab pages.
	 */
	limit = (long long)backlog_mb * MIB +
		3LL * STORM_THREADS * bounded.map_bytes + 4 * MIB;
	printf("# physmap-storm bound: %lld KiB, peak %lld KiB\n",
	       limit / 1024, bounded.peak / 1024);
	if (use_cg) {
		cg_enter(CGROOT);
		rmdir(cg);
	}
	/* the debug kernel may not get that far in the time given */
	ASSERT_LE(1000UL, bounded.commits);
	ASSERT_LE(bounded.commits / 2 - STORM_THREADS, bounded.updates);
	ASSERT_GT(limit, bounded.peak);
}

TEST_F_TIMEOUT(stress, memcg, 300)
{
	const long long max_bytes = 4 * MIB;
	const struct pm_range *overlap;
	struct pm_map small, added;
	char cg[128], why[256] = "", buf[32];
	long long oom_kills, max_events;
	unsigned int i, count = 0;
	int fd, ret = 0, fd2;

	if (cg_create("physmap-memcg", cg, sizeof(cg)))
		SKIP(return, "no cgroup v2 memory controller");
	snprintf(buf, sizeof(buf), "%lld", max_bytes);
	ASSERT_EQ(0, pm_write_str((snprintf(why, sizeof(why), "%s/memory.max",
					    cg), why), buf));
	pm_map_init(&small);
	pm_map_init(&added);
	ASSERT_EQ(0, pm_map_generate(&small, 31, 16, 1ULL << 30, 8));
	ASSERT_EQ(0, pm_model_build(&small, &overlap));
	/* user memory first, so that the cgroup charges the kernel's */
	for (i = 0; i < 100000; i++)
		ASSERT_EQ(0, pm_map_append(&added, (__u64)i << 21,
					   ((__u64)i << 21) + 0xfff, i, 0));
	fd = open(PHYSMAP_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pm_map_publish(fd, &small, 12, &overlap));
	ASSERT_EQ(0, pm_begin(fd, 12));

	ASSERT_EQ(0, cg_enter(cg));
	/* one page per 2 MiB: a level-0 node (2 KiB) per section */
	for (i = 0; i < added.count; i++) {
		ret = pm_add(fd, added.ranges[i].start, 0x1000, i, 0, NULL);
		if (ret)
			break;
		count++;
	}
	/* still in the cgroup: the published map answers as before */
	ASSERT_EQ(0UL, pmc_check(fd, &small, 1, 3, why, sizeof(why)))
		TH_LOG("published map after ENOMEM: %s", why);
	ASSERT_EQ(0, cg_enter(CGROOT));
	oom_kills = cg_read(cg, "memory.events", "oom_kill");
	max_events = cg_read(cg, "memory.events", "max");
	printf("# physmap-memcg: memory.max %lld KiB: ADD %u succeeded, then %s; memory.events max %lld, oom_kill %lld\n",
	       max_bytes / 1024, count, ret ? strerror(-ret) : "no failure",
	       max_events, oom_kills);
	fflush(stdout);
	ASSERT_EQ(-ENOMEM, ret);
	ASSERT_LT(0U, count);
	ASSERT_EQ(0, oom_kills);

	/* outside the cgroup the pending map commits, exactly as added */
	added.count = count;
	free(added.sorted);
	added.sorted = NULL;
	ASSERT_EQ(0, pm_model_build(&added, &overlap));
	ASSERT_EQ(0, pm_commit(fd));
	ASSERT_EQ(0UL, pmc_check(fd, &added, 2, 5, why, sizeof(why)))
		TH_LOG("after commit outside the cgroup: %s", why);
	/* and the rest carries on: a new fd works */
	fd2 = open(PHYSMAP_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, pm_map_publish(fd2, &small, 16, &overlap));
	ASSERT_EQ(0UL, pmc_check(fd2, &small, 1, 9, why, sizeof(why)));
	close(fd2);
	close(fd);
	rmdir(cg);
	pm_map_free(&small);
	added.count = 100000;
	pm_map_free(&added);
}

/* The slowest a single ADD or COMMIT may be under memory pressure. */
#define PRESSURE_MAX_S	10.0
#define PRESSURE_SECTIONS	20000
/* MemAvailable the fragmenter leaves alone; half of what it holds is free. */
#define HELD_SLACK_MB		64
#define COMPACT_UNEVICTABLE	"/proc/sys/vm/compact_unevictable_allowed"

/*
 * Add PRESSURE_SECTIONS one-page sections 1 GiB apart (the pending array
 * grows by doubling from a page to 1.5 MiB; the map takes a few nodes per
 * section) and commit them; the slowest ADD and the COMMIT in seconds.
 */
static int timed_build(int fd, double *slowest_add, double *commit_s)
{
	double t;
	int ret;
	unsigned int i;

	*slowest_add = 0;
	ret = pm_begin(fd, 12);
	for (i = 0; i < PRESSURE_SECTIONS && !ret; i++) {
		t = now();
		ret = pm_add(fd, ((__u64)i << 30) + 0x5000, 0x1000, i, 0, NULL);
		t = now() - t;
		*slowest_add = t > *slowest_add ? t : *slowest_add;
	}
	if (ret)
		return ret;
	t = now();
	ret = pm_commit(fd);
	*commit_s = now() - t;
	return ret;
}

/*
 * A child that holds every other page of @mib MiB of anonymous memory, so
 * that free memory is there but in single pages: a contiguous allocation
 * would need compaction, which cannot move them: they are locked, and the
 * test sets compact_unevictable_allowed to 0. Returns its pid; it waits to
 * be killed.
 */
static pid_t fragmenter(size_t mib, int ready_fd)
{
	size_t len = mib * MIB, off, page = sysconf(_SC_PAGESIZE);
	pid_t pid = fork();
	char *p;

	if (pid)
		return pid;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		_exit(1);
	madvise(p, len, MADV_NOHUGEPAGE);
	for (off = 0; off < len; off += page)
		p[off] = 1;
	for (off = 0; off < len; off += 2 * page)
		madvise(p + off, page, MADV_DONTNEED);
	/* Locked, and compaction told not to move locked pages. */
	mlock(p, len);
	if (write(ready_fd, "r", 1) != 1)
		_exit(1);
	for (;;)
		pause();
}

/*
 * pressure_latency: the same build with memory fragmented by a child that
 * holds every other page of most of MemAvailable, locked, with compaction
 * of locked pages off. Allocations past a page
 * try kmalloc once without reclaim or compaction, then vmalloc: no call may
 * stall hunting for contiguous pages (PRESSURE_MAX_S), and one that cannot
 * get memory fails with ENOMEM, never by an OOM kill. Both timings are
 * printed for comparison.
 */
TEST_F_TIMEOUT(stress, pressure_latency, 300)
{
	double add_idle, commit_idle, add_busy = 0, commit_busy = 0;
	long long avail_kib;
	int fd, ret, pipefd[2], unevictable;
	pid_t child;
	char c;

	fd = open(PHYSMAP_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, timed_build(fd, &add_idle, &commit_idle));
	close(fd);

	avail_kib = mem_available_kib();
	if (avail_kib < 512 * 1024)
		SKIP(return, "MemAvailable %lld KiB: too little to fragment",
		     avail_kib);
	ASSERT_EQ(0, pipe(pipefd));
	unevictable = pm_write_str(COMPACT_UNEVICTABLE, "0");
	child = fragmenter(avail_kib / 1024 - HELD_SLACK_MB, pipefd[1]);
	ASSERT_LT(0, child);
	ASSERT_EQ(1, read(pipefd[0], &c, 1));
	fd = open(PHYSMAP_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ret = timed_build(fd, &add_busy, &commit_busy);
	close(fd);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	if (!unevictable)
		pm_write_str(COMPACT_UNEVICTABLE, "1");
	close(pipefd[0]);
	close(pipefd[1]);
	printf("# physmap-pressure: %u sections; idle: slowest ADD %.3f s, COMMIT %.3f s; fragmented (%lld MiB held, every other page): slowest ADD %.3f s, COMMIT %.3f s, %s\n",
	       PRESSURE_SECTIONS, add_idle, commit_idle,
	       avail_kib / 1024 - HELD_SLACK_MB,
	       add_busy, commit_busy, ret ? strerror(-ret) : "built");
	fflush(stdout);
	ASSERT_TRUE(ret == 0 || ret == -ENOMEM);
	ASSERT_GT(PRESSURE_MAX_S, add_busy);
	ASSERT_GT(PRESSURE_MAX_S, commit_busy);
}

TEST_F_TIMEOUT(stress, unload_reload, 120)
{
	const char *ko = getenv("PHYSMAP_KO");
	int kfd, ret = -EAGAIN, fd, i;
	struct stat st;

	if (!ko || !*ko)
		SKIP(return, "PHYSMAP_KO not set: not unloading what cannot be reloaded");
	kfd = open(ko, O_RDONLY | O_CLOEXEC);
	if (kfd < 0)
		SKIP(return, "cannot open %s", ko);
	/* fds closed by exiting processes may be released a moment later */
	for (i = 0; i < 100 && (ret == -EAGAIN || ret == -EBUSY); i++) {
		ret = try_rmmod();
		if (ret)
			usleep(50000);
	}
	ASSERT_EQ(0, ret) TH_LOG("rmmod with every fd closed: %s",
				 strerror(-ret));
	ASSERT_FALSE(module_loaded());
	printf("# physmap-rmmod: refused while open (test mixed), succeeded after close (%d attempts)\n",
	       i);
	ret = syscall(__NR_finit_module, kfd, "", 0) ? -errno : 0;
	close(kfd);
	ASSERT_EQ(0, ret) TH_LOG("reloading %s: %s", ko, strerror(-ret));
	for (i = 0; i < 50 && stat(PHYSMAP_DEV, &st); i++)
		usleep(20000);
	fd = open(PHYSMAP_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pm_begin(fd, 12));
	ASSERT_EQ(0, pm_commit(fd));
	close(fd);
}

TEST_HARNESS_MAIN
