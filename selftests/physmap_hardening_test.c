// SPDX-License-Identifier: GPL-2.0
/*
 * physmap_hardening_test.c - what an fd of /dev/physmap may do to the rest of
 * the system (issue 10, "Hardening"), after the audit's reproducers in
 * /work/shared/audit:
 *
 * read_only_fd         BEGIN, ADD and COMMIT on an O_RDONLY fd fail with
 *                      EBADF (EFAULT first for a bad argument pointer) and
 *                      change nothing; LOOKUP, LOOKUP_BATCH, GET_SECTION and
 *                      STATS work on it, and its debugfs dump shows nothing
 *                      published.
 * fdinfo               /proc/self/fdinfo/FD shows the published and pending
 *                      map's generation, sections and bytes, the retired
 *                      bytes and the grace-period waits of the fd.
 * params               retire_backlog_mb takes 0..2047 and max_map_mb
 *                      1..; other values fail with EINVAL, changing nothing.
 * max_map_bytes        with max_map_mb=64, sections whose two unaligned ends
 *                      fall in different subtrees (the memory shape of
 *                      physmap_adversarial.h) fill the pending map up to
 *                      ENOSPC, never past 64 MiB; the failing ADD changes
 *                      nothing; COMMIT succeeds or fails with ENOSPC changing
 *                      nothing; half as many sections commit, and a pending
 *                      map on top of them stops at 64 MiB with them.
 * update_max_map_bytes an update's copy of the published map counts in
 *                      max_map_mb with it: past the bound, BEGIN with
 *                      PHYSMAP_BEGIN_UPDATE fails with ENOSPC and leaves the
 *                      pending map it would have dropped; under it, the
 *                      copy holds every section and fits.
 * add_efault_race      ADD fails with EFAULT if and only if it did not add
 *                      its section, while another thread mprotect()s and
 *                      unmaps the argument page and a third opens the fd's
 *                      debugfs dump (which takes the fd's lock); on success
 *                      the index written back is the section's. An ADD
 *                      behind a read of the dump stuck on a userfaultfd page
 *                      returns at once.
 * dump_uffd            a read() of the fd's debugfs dump into a buffer whose
 *                      fault is not served (userfaultfd) does not hold up
 *                      BEGIN, ADD and COMMIT on the same fd, and reads one
 *                      consistent snapshot: the map published at open().
 * retire_share         during a commit storm on one fd, commits on another
 *                      fd never wait for a grace period; the storming fd
 *                      does, once past its share of retire_backlog_mb. The
 *                      storm's map is sized just under the whole backlog, so
 *                      that any of its bytes counted against the global
 *                      bound pushes the other fd's commits past it.
 * dag_commit_watchdog  the DAG shape of physmap_adversarial.h (786,432
 *                      sections; depth levelling makes its tree a DAG)
 *                      commits with watchdog_thresh lowered and no soft
 *                      lockup report.
 * commit_kill          SIGKILL ends a process waiting for the fd's lock and
 *                      one in the middle of that map's COMMIT promptly; the
 *                      killed COMMIT changes nothing.
 *
 * The debugfs parts (not ABI) are left out, or the test SKIPs, when debugfs
 * is not mounted at /sys/kernel/debug or not readable. Module parameters and
 * watchdog_thresh are restored by the fixture's teardown. Environment:
 * PHYSMAP_MAX_MAP_MB, the bound max_map_bytes sets (default 1; at most 32,
 * as the shape's 2^20 sections fill 48 MiB of pending map; in the test
 * guest, put PHYSMAP_MAX_MAP_MB=32 on the kernel command line).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/userfaultfd.h>

/* the 6.1 harness has an unused parameter; keep -Wextra for the rest */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "kselftest_harness.h"
#pragma GCC diagnostic pop
#include "physmap_maps.h"
#include "physmap_check.h"
#include "physmap_adversarial.h"
#include "physmap_ksft.h"
#include "physmap_params.h"

#define WATCHDOG_THRESH		"/proc/sys/kernel/watchdog_thresh"
#define KMSG			"/dev/kmsg"

#define MIB			(1ULL << 20)

#define MAX_MAP_DEFAULT_MB	1024
/*
 * max_map_bytes: the bound it sets, the least the parameter takes. A
 * pending section takes 48 bytes (up to 96 while the array doubles), so ADD
 * meets 1 MiB after about 21,800 of them.
 */
#define MAX_MAP_TEST_MB		1
/* max_map_bytes: page_shift of the memory shape, and its most sections */
#define MEM_PS			10
#define MEM_SECTS		(1U << 20)

/* add_efault_race: how long and how many ADDs */
#define RACE_SECONDS		10
#define RACE_MAX		100000
#define RACE_BASE		(1ULL << 40)
#define RACE_STRIDE		0x10000ULL
#define RACE_SIZE		0x1000ULL
/* pairs of the published map the dump's open() copies under the fd's lock */
#define RACE_TREE_PAIRS		2048

/* dump_uffd: the most a writer may take while a read of the dump is stuck */
#define WRITER_LIMIT_S		10.0
#define UFFD_PAGES		64

/* retire_share */
#define STORM_BACKLOG_MB	2
#define STORM_SECONDS		15
#define STORM_MIN_COMMITS	4UL
#define STORM_B_PAIRS		16
#define STORM_B_PAUSE_US	20000
#define STORM_A_BASE		(1ULL << 45)
#define STORM_B_BASE		(1ULL << 50)

/* dag_commit_watchdog: soft lockups are reported after 2 * this */
#define DAG_WATCHDOG		"2"
/* commit_kill */
#define KILL_WAIT_S		0.3
#define KILL_REAP_LIMIT_S	240.0
#define KILL_ADD_START		(1ULL << 62)

static size_t page_size;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int raw_ioctl(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) ? -errno : 0;
}

/* ---- /proc/self/fdinfo ---- */

struct pm_fdinfo {
	__u64 generation;
	__u64 sections;
	__u64 bytes;
	__u64 pending_sections;
	__u64 pending_bytes;
	__u64 kept_bytes;
	__u64 retired_bytes;
	__u64 retire_waits;
};

static const struct {
	const char *key;
	size_t offset;
} fdinfo_keys[] = {
	{ "physmap-generation", offsetof(struct pm_fdinfo, generation) },
	{ "physmap-sections", offsetof(struct pm_fdinfo, sections) },
	{ "physmap-bytes", offsetof(struct pm_fdinfo, bytes) },
	{ "physmap-pending-sections",
	  offsetof(struct pm_fdinfo, pending_sections) },
	{ "physmap-pending-bytes", offsetof(struct pm_fdinfo, pending_bytes) },
	{ "physmap-kept-bytes", offsetof(struct pm_fdinfo, kept_bytes) },
	{ "physmap-retired-bytes", offsetof(struct pm_fdinfo, retired_bytes) },
	{ "physmap-retire-waits", offsetof(struct pm_fdinfo, retire_waits) },
};

/*
 * fdinfo_read - the physmap lines of /proc/self/fdinfo/fd, each
 * "key:\t<decimal>\n". Returns 0, or -ENOENT (a line missing) or -EPROTO (a
 * line in another format), saying which in why.
 */
static int fdinfo_read(int fd, struct pm_fdinfo *fi, char *why,
		       size_t why_size)
{
	char path[64], buf[4096];
	size_t i;
	int ret;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	ret = pm_read_file(path, buf, sizeof(buf));
	if (ret) {
		snprintf(why, why_size, "%s: %s", path, strerror(-ret));
		return ret;
	}
	for (i = 0; i < ARRAY_SIZE(fdinfo_keys); i++) {
		const char *key = fdinfo_keys[i].key;
		size_t len = strlen(key);
		const char *p = buf;
		char *end;

		/* the line that starts with key and a colon */
		while ((p = strstr(p, key)) &&
		       ((p != buf && p[-1] != '\n') || p[len] != ':'))
			p += len;
		if (!p) {
			snprintf(why, why_size, "no \"%s:\" line in %s", key,
				 path);
			return -ENOENT;
		}
		p += len + 1;
		if (*p != '\t' || p[1] < '0' || p[1] > '9') {
			snprintf(why, why_size, "%s: \"%s:\" not followed by a tab and a decimal",
				 path, key);
			return -EPROTO;
		}
		*(__u64 *)((char *)fi + fdinfo_keys[i].offset) =
			strtoull(p + 1, &end, 10);
		if (*end != '\n') {
			snprintf(why, why_size, "%s: \"%s:\" line does not end after its number",
				 path, key);
			return -EPROTO;
		}
	}
	return 0;
}

#define ASSERT_FDINFO(fd, fi) do {					\
		char __why[160] = "";					\
		ASSERT_EQ(0, fdinfo_read(fd, fi, __why, sizeof(__why)))	\
			TH_LOG("fdinfo: %s", __why);			\
	} while (0)

/* ---- knobs the tests change; the fixture restores them ---- */

enum knob { KNOB_MAX_MAP, KNOB_BACKLOG, KNOB_WATCHDOG, NR_KNOBS };

static const char *const knob_path[NR_KNOBS] = {
	PM_MAX_MAP_PARAM, PM_BACKLOG_PARAM, WATCHDOG_THRESH,
};

FIXTURE(hardening) {
	char saved[NR_KNOBS][32];
	bool have[NR_KNOBS];
};

FIXTURE_SETUP(hardening)
{
	struct stat st;
	int i;

	page_size = sysconf(_SC_PAGESIZE);
	ASSERT_EQ(0, stat(PHYSMAP_DEV, &st))
		TH_LOG("no " PHYSMAP_DEV ": is physmap loaded?");
	for (i = 0; i < NR_KNOBS; i++)
		self->have[i] = !pm_read_str(knob_path[i], self->saved[i],
					     sizeof(self->saved[i]));
}

FIXTURE_TEARDOWN(hardening)
{
	int i;

	for (i = 0; i < NR_KNOBS; i++)
		if (self->have[i])
			pm_write_str(knob_path[i], self->saved[i]);
}

static int knob_set(enum knob knob, unsigned long value)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%lu", value);
	return pm_write_str(knob_path[knob], buf);
}

static void knob_restore(FIXTURE_DATA(hardening) *self, enum knob knob)
{
	if (self->have[knob])
		pm_write_str(knob_path[knob], self->saved[knob]);
}

static unsigned long env_ulong(const char *name, unsigned long def)
{
	const char *v = getenv(name);

	return v && *v ? strtoul(v, NULL, 0) : def;
}

/* ---- maps ---- */

/*
 * publish_pairs - BEGIN, pairs of one-page sections 1 GiB apart from base
 * (each pair keeps a node of its own, about 324 bytes a pair with its
 * sections), COMMIT. 0 or -errno.
 */
static int publish_pairs(int fd, unsigned int pairs, __u64 base)
{
	unsigned int i;
	int ret;

	ret = pm_begin(fd, 12);
	for (i = 0; i < pairs && !ret; i++) {
		__u64 start = base + ((__u64)i << 30);

		ret = pm_add(fd, start, 0x1000, i, 0, NULL) ?:
		      pm_add(fd, start + 0x3000, 0x1000, i, 1, NULL);
	}
	return ret ?: pm_commit(fd);
}

static __u64 map_bytes(int fd)
{
	struct physmap_stats st;

	return pm_stats(fd, &st) ? 0 : st.bytes;
}

/*
 * dag_build - BEGIN at DAG_PAGE_SHIFT and ADD the sections of the DAG shape
 * to fd's pending map. Returns 0 or -errno; *count: sections added.
 */
static int dag_build(int fd, unsigned int *count)
{
	struct dag_section *s;
	unsigned int i, n;
	uint8_t *j;
	int ret;

	*count = 0;
	j = calloc(DAG_NODES, 1);
	s = calloc(3 * (size_t)DAG_NODES, sizeof(*s));
	if (!j || !s) {
		free(j);
		free(s);
		return -ENOMEM;
	}
	dag_choose(j, DAG_NODES);
	n = dag_sections(j, DAG_NODES, s);
	ret = pm_begin(fd, DAG_PAGE_SHIFT);
	for (i = 0; i < n && !ret; i++) {
		ret = pm_add(fd, s[i].start, s[i].size, i, 0, NULL);
		if (!ret)
			(*count)++;
	}
	free(j);
	free(s);
	return ret;
}

/* ---- userfaultfd: a region whose faults wait until released ---- */

struct uffd_ctx {
	int uffd;
	char *region;
	size_t len;
	void *zero;
	pthread_t thread;
	int release;
	int stop;
	int faults;
	int error;
};

static void *uffd_main(void *arg)
{
	struct uffd_ctx *u = arg;
	struct pollfd pfd = { .fd = u->uffd, .events = POLLIN };
	struct uffd_msg msg;

	while (!__atomic_load_n(&u->stop, __ATOMIC_ACQUIRE)) {
		struct uffdio_copy copy;

		if (poll(&pfd, 1, 50) != 1)
			continue;
		if (read(u->uffd, &msg, sizeof(msg)) != sizeof(msg))
			continue;
		if (msg.event != UFFD_EVENT_PAGEFAULT)
			continue;
		__atomic_fetch_add(&u->faults, 1, __ATOMIC_RELEASE);
		while (!__atomic_load_n(&u->release, __ATOMIC_ACQUIRE))
			usleep(2000);
		copy = (struct uffdio_copy){
			.dst = msg.arg.pagefault.address & ~(__u64)(page_size - 1),
			.src = (uintptr_t)u->zero,
			.len = page_size,
		};
		if (ioctl(u->uffd, UFFDIO_COPY, &copy) && errno != EEXIST)
			u->error = errno;
	}
	return NULL;
}

/*
 * uffd_start - a region of len bytes registered for missing-page faults and
 * the thread that serves them once u->release is set. Returns 0; 1 when
 * userfaultfd() itself fails (not built in, or not allowed to us); or -errno.
 * why says what failed.
 */
static int uffd_start(struct uffd_ctx *u, size_t len, char *why,
		      size_t why_size)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg;
	int ret;

	memset(u, 0, sizeof(*u));
	u->len = len;
	u->uffd = syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (u->uffd < 0) {
		snprintf(why, why_size, "userfaultfd(): %s", strerror(errno));
		return 1;
	}
	if (ioctl(u->uffd, UFFDIO_API, &api)) {
		ret = -errno;
		snprintf(why, why_size, "UFFDIO_API: %s", strerror(-ret));
		close(u->uffd);
		return ret;
	}
	u->zero = mmap(NULL, page_size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	u->region = mmap(NULL, len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (u->zero == MAP_FAILED || u->region == MAP_FAILED) {
		snprintf(why, why_size, "mmap: %s", strerror(errno));
		close(u->uffd);
		return -ENOMEM;
	}
	memset(u->zero, 0, page_size);
	reg = (struct uffdio_register){
		.range = { .start = (uintptr_t)u->region, .len = len },
		.mode = UFFDIO_REGISTER_MODE_MISSING,
	};
	if (ioctl(u->uffd, UFFDIO_REGISTER, &reg)) {
		ret = -errno;
		snprintf(why, why_size, "UFFDIO_REGISTER: %s", strerror(-ret));
		close(u->uffd);
		return ret;
	}
	if (pthread_create(&u->thread, NULL, uffd_main, u)) {
		snprintf(why, why_size, "pthread_create failed");
		close(u->uffd);
		return -EAGAIN;
	}
	return 0;
}

static void uffd_release(struct uffd_ctx *u)
{
	__atomic_store_n(&u->release, 1, __ATOMIC_RELEASE);
}

/* release faults first: call once no thread can fault in the region */
static void uffd_stop(struct uffd_ctx *u)
{
	uffd_release(u);
	__atomic_store_n(&u->stop, 1, __ATOMIC_RELEASE);
	pthread_join(u->thread, NULL);
	close(u->uffd);
	munmap(u->region, u->len);
	munmap(u->zero, page_size);
}

static bool wait_flag(int *flag, double seconds)
{
	double end = now() + seconds;

	while (!__atomic_load_n(flag, __ATOMIC_ACQUIRE)) {
		if (now() > end)
			return false;
		usleep(2000);
	}
	return true;
}

/* ---- debugfs: the fd's dump ---- */

/* fd's debugfs file for reading: an fd, or -errno saying why */
static int debugfs_open(int fd, const char *file, char *why, size_t why_size)
{
	char path[128];
	int ret, f;

	ret = pm_debugfs_path(fd, file, path, sizeof(path), why, why_size);
	if (ret)
		return ret;
	f = open(path, O_RDONLY | O_CLOEXEC);
	if (f < 0) {
		ret = -errno;
		snprintf(why, why_size, "%s: %s", path, strerror(-ret));
		return ret;
	}
	return f;
}

/* read()s of an open dump into buf, in its own thread: to EOF or room */
struct dump_call {
	pthread_t thread;
	int dfd;
	char *buf;
	size_t room;
	size_t got;
	int ret;
	int done;
};

static void *dump_main(void *arg)
{
	struct dump_call *c = arg;
	ssize_t n;

	while (c->got < c->room) {
		n = read(c->dfd, c->buf + c->got, c->room - c->got);
		if (n < 0)
			c->ret = -errno;
		if (n <= 0)
			break;
		c->got += n;
	}
	__atomic_store_n(&c->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* ---- tests ---- */

TEST_F(hardening, read_only_fd)
{
	__u64 addrs[4] = { 0, 0x1800, 1ULL << 40, ~0ULL }, gen = ~0ULL;
	struct physmap_section s;
	struct physmap_lookup lk;
	struct physmap_stats st;
	struct pm_shape shape;
	char why[256] = "";
	struct pm_dump d;
	__u32 idx[4];
	int rw, ro, i;

	/* another open with write access: an address space of its own */
	rw = pm_open_dev(_metadata, O_RDWR);
	ASSERT_EQ(0, pm_add(rw, 0x1000, 0x1000, 1, 0, NULL));
	ASSERT_EQ(0, pm_commit(rw));
	ro = pm_open_dev(_metadata, O_RDONLY);

	/* a bad argument pointer is found first */
	EXPECT_EQ(-EFAULT, raw_ioctl(ro, PHYSMAP_IOC_BEGIN, NULL));
	EXPECT_EQ(-EFAULT, raw_ioctl(ro, PHYSMAP_IOC_ADD, NULL));
	/* then the missing write access */
	EXPECT_EQ(-EBADF, pm_begin(ro, 12))
		TH_LOG("BEGIN on an O_RDONLY fd");
	memset(&s, PM_POISON, sizeof(s));
	s.start = 0x1000;
	s.size = 0x1000;
	s.cookie = 7;
	s.offset = 0;
	s.flags = 0;
	EXPECT_EQ(-EBADF, raw_ioctl(ro, PHYSMAP_IOC_ADD, &s))
		TH_LOG("ADD on an O_RDONLY fd");
	EXPECT_EQ(PM_POISON32, s.index)
		TH_LOG("the failed ADD wrote an index");
	EXPECT_EQ(-EBADF, pm_commit(ro))
		TH_LOG("COMMIT on an O_RDONLY fd");
	EXPECT_EQ(-EBADF, pm_begin(ro, 0));
	EXPECT_EQ(-EBADF, pm_commit(ro));

	/* nothing was published on it, and the reading calls work */
	ASSERT_EQ(0, pm_stats(ro, &st));
	EXPECT_EQ(0ULL, st.generation)
		TH_LOG("the O_RDONLY fd published a map");
	EXPECT_EQ(0U, st.sections);
	ASSERT_EQ(0, pm_lookup(ro, 0x1800, &lk));
	EXPECT_EQ(0ULL, lk.generation);
	EXPECT_EQ(0U, lk.section.index);
	memset(idx, PM_POISON, sizeof(idx));
	ASSERT_EQ(0, pm_lookup_batch(ro, addrs, idx, 4, &gen));
	EXPECT_EQ(0ULL, gen);
	for (i = 0; i < 4; i++)
		EXPECT_EQ(0U, idx[i]);
	EXPECT_EQ(-ENOENT, pm_get_section(ro, 1, &s));
	EXPECT_EQ(-ENOENT, pm_get_section(ro, 0, &s));
	if (pm_debugfs_unusable(ro, why, sizeof(why))) {
		TH_LOG("debugfs left out: %s", why);
	} else {
		ASSERT_EQ(0, pm_dump_read(ro, &d, why, sizeof(why)))
			TH_LOG("%s", why);
		EXPECT_EQ(0, d.published);
		pm_dump_free(&d);
		ASSERT_EQ(0, pm_shape_read(ro, &shape, why, sizeof(why)))
			TH_LOG("%s", why);
		EXPECT_EQ(0ULL, shape.generation);
	}

	/* the fd with write access is as it was, and still writes */
	ASSERT_EQ(0, pm_stats(rw, &st));
	EXPECT_EQ(1ULL, st.generation);
	EXPECT_EQ(1U, st.sections);
	ASSERT_EQ(0, pm_lookup(rw, 0x1800, &lk));
	EXPECT_EQ(1U, lk.section.index);
	EXPECT_EQ(0, pm_begin(rw, 12));
	EXPECT_EQ(0, pm_add(rw, 0x2000, 0x1000, 2, 0, NULL));
	EXPECT_EQ(0, pm_commit(rw));
	close(ro);
	close(rw);
}

TEST_F(hardening, fdinfo)
{
	struct pm_fdinfo fi, fd2, prev;
	struct pm_map m1, m2;
	struct physmap_stats st1, st2;
	const struct pm_range *overlap;
	unsigned long bad = 0;
	__u64 pending_bytes;
	double end;
	size_t i;
	int fd, dupfd;

	pm_map_init(&m1);
	pm_map_init(&m2);
	ASSERT_EQ(0, pm_map_generate(&m1, 41, 200, 1ULL << 32, 8));
	ASSERT_EQ(0, pm_map_generate(&m2, 42, 100, 1ULL << 36, 8));
	ASSERT_EQ(0, pm_model_build(&m1, &overlap));
	fd = pm_open_dev(_metadata, O_RDWR);

	/* a new fd holds nothing */
	ASSERT_FDINFO(fd, &fi);
	EXPECT_EQ(0ULL, fi.generation);
	EXPECT_EQ(0ULL, fi.sections);
	EXPECT_EQ(0ULL, fi.bytes);
	EXPECT_EQ(0ULL, fi.pending_sections);
	EXPECT_EQ(0ULL, fi.pending_bytes);
	EXPECT_EQ(0ULL, fi.kept_bytes);
	EXPECT_EQ(0ULL, fi.retired_bytes);
	EXPECT_EQ(0ULL, fi.retire_waits);

	/* the pending map grows with its sections */
	ASSERT_EQ(0, pm_begin(fd, 12));
	ASSERT_FDINFO(fd, &prev);
	EXPECT_EQ(0ULL, prev.pending_sections);
	for (i = 0; i < m1.count; i++) {
		const struct pm_range *r = &m1.ranges[i];

		ASSERT_EQ(0, pm_add(fd, r->start, r->last - r->start + 1,
				    r->cookie, r->offset, NULL));
		ASSERT_FDINFO(fd, &fi);
		if (fi.pending_sections != i + 1 ||
		    fi.pending_bytes < prev.pending_bytes || fi.generation) {
			if (!bad++)
				TH_LOG("after ADD %zu: pending %llu sections, %llu bytes (%llu before), generation %llu",
				       i + 1,
				       (unsigned long long)fi.pending_sections,
				       (unsigned long long)fi.pending_bytes,
				       (unsigned long long)prev.pending_bytes,
				       (unsigned long long)fi.generation);
		}
		prev = fi;
	}
	EXPECT_EQ(0UL, bad);
	EXPECT_LT(0ULL, fi.pending_bytes);
	/* a failed ADD (EEXIST) changes none of it */
	EXPECT_EQ(-EEXIST, pm_add(fd, m1.ranges[0].start, 1, 0, 0, NULL));
	ASSERT_FDINFO(fd, &fi);
	EXPECT_EQ(prev.pending_sections, fi.pending_sections);
	EXPECT_EQ(prev.pending_bytes, fi.pending_bytes);

	/* COMMIT: published, nothing pending */
	ASSERT_EQ(0, pm_commit(fd));
	ASSERT_EQ(0, pm_stats(fd, &st1));
	ASSERT_FDINFO(fd, &fi);
	EXPECT_EQ(1ULL, fi.generation);
	EXPECT_EQ((__u64)m1.count, fi.sections);
	EXPECT_EQ(st1.bytes, fi.bytes);
	EXPECT_EQ(0ULL, fi.pending_sections);
	EXPECT_EQ(0ULL, fi.pending_bytes);
	EXPECT_EQ(0ULL, fi.retired_bytes);
	/* a dup() is the same open file */
	dupfd = dup(fd);
	ASSERT_LE(0, dupfd);
	ASSERT_FDINFO(dupfd, &fd2);
	EXPECT_EQ(0, memcmp(&fi, &fd2, sizeof(fi)));

	/* the next map replaces it; the old one is retired, then freed */
	ASSERT_EQ(0, pm_map_publish(fd, &m2, 16, &overlap));
	ASSERT_FDINFO(fd, &fi);
	ASSERT_EQ(0, pm_stats(fd, &st2));
	EXPECT_EQ(2ULL, fi.generation);
	EXPECT_EQ((__u64)m2.count, fi.sections);
	EXPECT_EQ(st2.bytes, fi.bytes);
	EXPECT_EQ(0ULL, fi.pending_sections);
	EXPECT_GE(st1.bytes, fi.retired_bytes)
		TH_LOG("retired %llu bytes, more than the one map replaced (%llu)",
		       (unsigned long long)fi.retired_bytes,
		       (unsigned long long)st1.bytes);
	end = now() + 30;
	while (fi.retired_bytes && now() < end) {
		usleep(20000);
		ASSERT_FDINFO(fd, &fi);
	}
	EXPECT_EQ(0ULL, fi.retired_bytes)
		TH_LOG("replaced map still not freed after 30 s");
	/* small maps, nothing else storming: no grace-period waits */
	EXPECT_EQ(0ULL, fi.retire_waits);
	EXPECT_EQ(0ULL, fi.kept_bytes);

	/* an update's COMMIT keeps its pending map for the next update */
	ASSERT_EQ(0, pm_begin_update(fd, 0));
	ASSERT_EQ(0, pm_remove(fd, 1));
	ASSERT_EQ(0, pm_commit(fd));
	ASSERT_FDINFO(fd, &fi);
	EXPECT_EQ(3ULL, fi.generation);
	EXPECT_EQ((__u64)m2.count - 1, fi.sections);
	EXPECT_EQ(0ULL, fi.pending_sections);
	EXPECT_EQ(0ULL, fi.pending_bytes);
	EXPECT_LT(0ULL, fi.kept_bytes);
	/* which the next update takes over: pending, no longer kept */
	ASSERT_EQ(0, pm_begin_update(fd, 0));
	ASSERT_FDINFO(fd, &fi);
	EXPECT_EQ(0ULL, fi.kept_bytes);
	EXPECT_EQ((__u64)m2.count - 1, fi.pending_sections);
	EXPECT_LT(0ULL, fi.pending_bytes);
	ASSERT_EQ(0, pm_commit(fd));
	ASSERT_FDINFO(fd, &fi);
	EXPECT_EQ(4ULL, fi.generation);
	EXPECT_LT(0ULL, fi.kept_bytes);
	ASSERT_EQ(0, pm_stats(fd, &st2));

	/* BEGIN drops a pending map, and what an update kept */
	ASSERT_EQ(0, pm_begin(fd, 12));
	for (i = 0; i < 50; i++) {
		const struct pm_range *r = &m1.ranges[i];

		ASSERT_EQ(0, pm_add(fd, r->start, r->last - r->start + 1,
				    r->cookie, r->offset, NULL));
	}
	ASSERT_FDINFO(fd, &fi);
	EXPECT_EQ(50ULL, fi.pending_sections);
	pending_bytes = fi.pending_bytes;
	ASSERT_EQ(0, pm_begin(fd, 12));
	ASSERT_FDINFO(fd, &fi);
	EXPECT_EQ(0ULL, fi.pending_sections);
	EXPECT_GE(pending_bytes, fi.pending_bytes);
	EXPECT_EQ(0ULL, fi.kept_bytes);
	EXPECT_EQ(4ULL, fi.generation);
	EXPECT_EQ(st2.bytes, fi.bytes);
	close(dupfd);
	close(fd);
	pm_map_free(&m1);
	pm_map_free(&m2);
}

TEST_F(hardening, params)
{
	static const char *const bad_backlog[] = {
		"2048", "4096", "4294967295",
	};
	static const char *const good_backlog[] = { "0", "2047", "1" };
	char buf[32];
	struct stat st;
	size_t i;

	ASSERT_TRUE(self->have[KNOB_BACKLOG]) TH_LOG("no " PM_BACKLOG_PARAM);
	for (i = 0; i < ARRAY_SIZE(bad_backlog); i++) {
		EXPECT_EQ(-EINVAL,
			  pm_write_str(PM_BACKLOG_PARAM, bad_backlog[i]))
			TH_LOG("retire_backlog_mb=%s accepted", bad_backlog[i]);
		ASSERT_EQ(0, pm_read_str(PM_BACKLOG_PARAM, buf, sizeof(buf)));
		EXPECT_STREQ(self->saved[KNOB_BACKLOG], buf);
		knob_restore(self, KNOB_BACKLOG);
	}
	for (i = 0; i < ARRAY_SIZE(good_backlog); i++) {
		EXPECT_EQ(0, pm_write_str(PM_BACKLOG_PARAM, good_backlog[i]))
			TH_LOG("retire_backlog_mb=%s refused", good_backlog[i]);
		ASSERT_EQ(0, pm_read_str(PM_BACKLOG_PARAM, buf, sizeof(buf)));
		EXPECT_STREQ(good_backlog[i], buf);
	}
	knob_restore(self, KNOB_BACKLOG);

	ASSERT_TRUE(self->have[KNOB_MAX_MAP]) TH_LOG("no " PM_MAX_MAP_PARAM);
	ASSERT_EQ(0, stat(PM_MAX_MAP_PARAM, &st));
	EXPECT_EQ(0644U, st.st_mode & 0777);
	EXPECT_EQ(MAX_MAP_DEFAULT_MB, atoi(self->saved[KNOB_MAX_MAP]));
	EXPECT_EQ(-EINVAL, pm_write_str(PM_MAX_MAP_PARAM, "0"))
		TH_LOG("max_map_mb=0 accepted");
	ASSERT_EQ(0, pm_read_str(PM_MAX_MAP_PARAM, buf, sizeof(buf)));
	EXPECT_STREQ(self->saved[KNOB_MAX_MAP], buf);
	EXPECT_EQ(0, pm_write_str(PM_MAX_MAP_PARAM, "1"));
	ASSERT_EQ(0, pm_read_str(PM_MAX_MAP_PARAM, buf, sizeof(buf)));
	EXPECT_STREQ("1", buf);
	EXPECT_EQ(0, pm_write_str(PM_MAX_MAP_PARAM, "4096"));
	ASSERT_EQ(0, pm_read_str(PM_MAX_MAP_PARAM, buf, sizeof(buf)));
	EXPECT_STREQ("4096", buf);
	knob_restore(self, KNOB_MAX_MAP);
}

TEST_F_TIMEOUT(hardening, max_map_bytes, 300)
{
	unsigned long limit_mb = env_ulong("PHYSMAP_MAX_MAP_MB",
					   MAX_MAP_TEST_MB);
	__u64 limit = limit_mb * MIB;
	uint64_t start, size;
	struct pm_fdinfo before, after, fi, published;
	unsigned long over = 0;
	__u64 gen = 0;
	struct physmap_section s;
	struct physmap_lookup lk;
	struct physmap_stats st;
	__u32 k, k2, n, idx;
	double t0, t;
	int fd, ret = 0, cret;

	ASSERT_TRUE(self->have[KNOB_MAX_MAP]) TH_LOG("no " PM_MAX_MAP_PARAM);
	ASSERT_EQ(0, knob_set(KNOB_MAX_MAP, limit_mb));
	fd = pm_open_dev(_metadata, O_RDWR);
	ASSERT_EQ(0, pm_begin(fd, MEM_PS));

	/* what the fd holds before every ADD, so that the failing one shows */
	t0 = now();
	for (k = 0; k < MEM_SECTS; k++) {
		ASSERT_FDINFO(fd, &before);
		if (before.pending_bytes + before.bytes > limit)
			over++;
		mem_section(k, &start, &size);
		ret = pm_add(fd, start, size, k, 0, &idx);
		if (ret)
			break;
		ASSERT_EQ(k + 1, idx);
	}
	t = now() - t0;
	ASSERT_FDINFO(fd, &after);
	TH_LOG("max_map_mb=%lu: %u sections added in %.1f s, then %s; the pending map holds %llu bytes (%.1f MiB)",
	       limit_mb, k, t, ret ? strerror(-ret) : "no failure",
	       (unsigned long long)after.pending_bytes,
	       (double)after.pending_bytes / MIB);
	ASSERT_EQ(-ENOSPC, ret);
	EXPECT_EQ(0UL, over)
		TH_LOG("%lu times the fd held more than %llu bytes", over,
		       (unsigned long long)limit);
	EXPECT_GE(limit, after.pending_bytes + after.bytes);
	EXPECT_LT(0U, k);
	/* the failing ADD changed nothing, and neither does a second one */
	EXPECT_EQ((__u64)k, after.pending_sections);
	EXPECT_EQ(before.pending_bytes, after.pending_bytes);
	EXPECT_EQ(0ULL, after.generation);
	memset(&s, PM_POISON, sizeof(s));
	s.start = start;
	s.size = size;
	s.cookie = 1;
	s.offset = 0;
	s.flags = 0;
	EXPECT_EQ(-ENOSPC, raw_ioctl(fd, PHYSMAP_IOC_ADD, &s));
	EXPECT_EQ(PM_POISON32, s.index);
	ASSERT_FDINFO(fd, &fi);
	EXPECT_EQ(0, memcmp(&after, &fi, sizeof(fi)));

	/* the fd still commits, or fails with ENOSPC changing nothing */
	t0 = now();
	cret = pm_commit(fd);
	t = now() - t0;
	ASSERT_FDINFO(fd, &fi);
	TH_LOG("COMMIT of those %u sections: %s in %.1f s; published map %llu bytes",
	       k, cret ? strerror(-cret) : "ok", t,
	       (unsigned long long)fi.bytes);
	if (cret) {
		ASSERT_EQ(-ENOSPC, cret);
		EXPECT_EQ(0, memcmp(&after, &fi, sizeof(fi)));
	} else {
		ASSERT_EQ(0, pm_stats(fd, &st));
		EXPECT_EQ(1ULL, st.generation);
		EXPECT_EQ(k, st.sections);
		EXPECT_EQ(st.bytes, fi.bytes);
		EXPECT_EQ(0ULL, fi.pending_sections);
		EXPECT_EQ(0ULL, fi.pending_bytes);
		EXPECT_GE(limit, fi.bytes);
		/* the section of the failed ADD is not there */
		ASSERT_EQ(0, pm_lookup(fd, start, &lk));
		EXPECT_EQ(0U, lk.section.index);
		EXPECT_EQ(-ENOENT, pm_get_section(fd, k + 1, &s));
		gen++;
	}

	/*
	 * The map built from a pending map is most often the bigger of the
	 * two: halve the sections until their map commits. A COMMIT past the
	 * bound fails with ENOSPC and changes nothing.
	 */
	for (n = k / 2; n; n /= 2) {
		ASSERT_EQ(0, pm_begin(fd, MEM_PS));
		for (k2 = 0; k2 < n; k2++) {
			mem_section(k2, &start, &size);
			ASSERT_EQ(0, pm_add(fd, start, size, k2, 0, NULL));
		}
		ASSERT_FDINFO(fd, &before);
		cret = pm_commit(fd);
		if (!cret)
			break;
		ASSERT_EQ(-ENOSPC, cret);
		ASSERT_FDINFO(fd, &fi);
		EXPECT_EQ(0, memcmp(&before, &fi, sizeof(fi)));
	}
	TH_LOG("the most sections of this shape that commit, halving from %u: %u",
	       k, n);
	ASSERT_LT(0U, n);
	gen++;
	ASSERT_FDINFO(fd, &published);
	ASSERT_EQ(0, pm_stats(fd, &st));
	EXPECT_EQ(gen, st.generation);
	EXPECT_EQ(k2, st.sections);
	EXPECT_EQ(st.bytes, published.bytes);
	EXPECT_GE(limit, published.bytes);

	/* a new pending map on top of the published one: the sum is bound */
	ASSERT_EQ(0, pm_begin(fd, MEM_PS));
	over = 0;
	for (k2 = 0; k2 < MEM_SECTS; k2++) {
		ASSERT_FDINFO(fd, &before);
		if (before.pending_bytes + before.bytes > limit)
			over++;
		mem_section(k2, &start, &size);
		ret = pm_add(fd, start, size, k2, 0, NULL);
		if (ret)
			break;
	}
	ASSERT_FDINFO(fd, &fi);
	TH_LOG("with %llu bytes published (%u sections), a second pending map took %u sections (%llu bytes), then %s",
	       (unsigned long long)fi.bytes, st.sections, k2,
	       (unsigned long long)fi.pending_bytes,
	       ret ? strerror(-ret) : "no failure");
	EXPECT_EQ(-ENOSPC, ret);
	EXPECT_EQ(0UL, over);
	EXPECT_GE(limit, fi.pending_bytes + fi.bytes);
	EXPECT_EQ((__u64)k2, fi.pending_sections);
	EXPECT_EQ(before.pending_bytes, fi.pending_bytes);
	EXPECT_EQ(gen, fi.generation);
	EXPECT_EQ(published.bytes, fi.bytes);
	close(fd);
	knob_restore(self, KNOB_MAX_MAP);
}

/* ---- add_efault_race ---- */

struct race {
	int fd;
	int memfd;
	struct physmap_section *rw;	/* the argument, as we write it */
	struct physmap_section *io;	/* the same page, as ADD gets it */
	int stop;
	unsigned long toggles;
	unsigned long unmaps;
	int error;
	/* opens of the dump, each copying the published map under the lock */
	char dump_path[256];
	unsigned long dump_opens;
	int dump_error;
};

struct race_tally {
	unsigned long ok;
	unsigned long efault;
	unsigned long efault_added;	/* EFAULT, and the section was in */
	unsigned long bad_index;
	unsigned long other;
	char first[200];
};

static void spin(__u64 *seed, unsigned int max)
{
	unsigned int i, n = pm_rand64(seed) % max;

	for (i = 0; i < n; i++)
		__asm__ __volatile__("" ::: "memory");
}

static void *toggle_main(void *arg)
{
	struct race *r = arg;
	__u64 seed = 0x70661e;
	unsigned long n;
	void *p;

	for (n = 0; !__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE); n++) {
		if (n % 8 == 7) {
			/*
			 * Unmap the page: replace it by an inaccessible one in
			 * one mmap(MAP_FIXED), so that no other mapping of ours
			 * can take the hole, then map it back.
			 */
			p = mmap(r->io, page_size, PROT_NONE,
				 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
			if (p != r->io) {
				r->error = errno;
				break;
			}
			spin(&seed, 4000);
			p = mmap(r->io, page_size, PROT_READ | PROT_WRITE,
				 MAP_SHARED | MAP_FIXED, r->memfd, 0);
			if (p != r->io) {
				r->error = errno;
				break;
			}
			r->unmaps++;
		} else {
			if (mprotect(r->io, page_size, PROT_READ)) {
				r->error = errno;
				break;
			}
			spin(&seed, 4000);
			if (mprotect(r->io, page_size,
				     PROT_READ | PROT_WRITE)) {
				r->error = errno;
				break;
			}
			r->toggles++;
		}
		spin(&seed, 8000);
	}
	return NULL;
}

static void *dump_loop_main(void *arg)
{
	struct race *r = arg;
	int f;

	while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
		f = open(r->dump_path, O_RDONLY | O_CLOEXEC);
		if (f < 0 && !r->dump_error)
			r->dump_error = errno;
		if (f >= 0)
			close(f);
		r->dump_opens++;
	}
	return NULL;
}

/*
 * race_outcome - judge one ADD of [start, start + RACE_SIZE) that returned
 * ret and wrote written (read back through the other alias): on success the
 * index must be the next one; on EFAULT the section must not be in, so
 * adding it again succeeds with the next index. Keeps model as the kernel's
 * pending map.
 */
static void race_outcome(int fd, struct pm_map *model, struct race_tally *t,
			 int ret, __u32 written, __u64 start, __u64 cookie)
{
	__u32 want = model->count + 1, idx = 0;
	int again;

#define RACE_NOTE(...) do {						\
		if (!t->first[0])					\
			snprintf(t->first, sizeof(t->first), __VA_ARGS__); \
	} while (0)

	if (!ret) {
		t->ok++;
		if (written != want) {
			t->bad_index++;
			RACE_NOTE("ADD %#llx: ok, index written %u, want %u",
				  (unsigned long long)start, written, want);
		}
		pm_map_append(model, start, start + RACE_SIZE - 1, cookie,
			      cookie);
		return;
	}
	if (ret != -EFAULT) {
		t->other++;
		RACE_NOTE("ADD %#llx: %s", (unsigned long long)start,
			  strerror(-ret));
		return;
	}
	t->efault++;
	again = pm_add(fd, start, RACE_SIZE, cookie, cookie, &idx);
	if (!again) {
		if (idx != want) {
			t->bad_index++;
			RACE_NOTE("ADD %#llx again after EFAULT: index %u, want %u",
				  (unsigned long long)start, idx, want);
		}
	} else if (again == -EEXIST) {
		t->efault_added++;
		RACE_NOTE("ADD %#llx failed with EFAULT, yet adding it again gave EEXIST: the failed ADD added it",
			  (unsigned long long)start);
	} else {
		t->other++;
		RACE_NOTE("ADD %#llx again after EFAULT: %s",
			  (unsigned long long)start, strerror(-again));
		return;
	}
	/* in the kernel's pending map now, at index want */
	pm_map_append(model, start, start + RACE_SIZE - 1, cookie, cookie);
#undef RACE_NOTE
}

struct adder {
	pthread_t thread;
	struct race *r;
	__u64 start;
	int ret;
	int done;
};

static void *adder_main(void *arg)
{
	struct adder *a = arg;

	*a->r->rw = (struct physmap_section){
		.start = a->start, .size = RACE_SIZE, .cookie = a->start,
		.offset = a->start, .index = PM_POISON32,
	};
	a->ret = raw_ioctl(a->r->fd, PHYSMAP_IOC_ADD, a->r->io);
	__atomic_store_n(&a->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

TEST_F_TIMEOUT(hardening, update_max_map_bytes, 300)
{
	const unsigned int pairs = 8192;
	struct pm_fdinfo pub, fi, again;
	struct physmap_lookup lk;
	unsigned long mb;
	int fd;

	ASSERT_TRUE(self->have[KNOB_MAX_MAP]) TH_LOG("no " PM_MAX_MAP_PARAM);
	ASSERT_EQ(0, knob_set(KNOB_MAX_MAP, 64));
	fd = pm_open_dev(_metadata, O_RDWR);
	ASSERT_EQ(0, publish_pairs(fd, pairs, 1ULL << 32));
	ASSERT_FDINFO(fd, &pub);
	ASSERT_EQ(2ULL * pairs, pub.sections);

	/* a pending map of one section, which a failed BEGIN must keep */
	ASSERT_EQ(0, pm_add(fd, 0x1000, 0x1000, 1, 0, NULL));
	ASSERT_FDINFO(fd, &fi);
	/* room for the published map, not for a copy of it beside it */
	mb = (pub.bytes + MIB - 1) / MIB;
	ASSERT_EQ(0, knob_set(KNOB_MAX_MAP, mb));
	EXPECT_EQ(-ENOSPC, pm_begin_update(fd, 0))
		TH_LOG("max_map_mb=%lu, published %llu bytes", mb,
		       (unsigned long long)pub.bytes);
	ASSERT_FDINFO(fd, &again);
	EXPECT_EQ(0, memcmp(&fi, &again, sizeof(fi)));
	ASSERT_EQ(0, pm_lookup(fd, (1ULL << 32) + 0x3000, &lk));
	EXPECT_EQ(2U, lk.section.index);

	/* with room, the copy holds every section, within the bound */
	ASSERT_EQ(0, knob_set(KNOB_MAX_MAP, 64));
	ASSERT_EQ(0, pm_begin_update(fd, 0));
	ASSERT_FDINFO(fd, &fi);
	EXPECT_EQ(2ULL * pairs, fi.pending_sections);
	EXPECT_GE(64 * MIB, fi.pending_bytes + fi.bytes);
	TH_LOG("published %llu bytes; an update's copy %llu bytes",
	       (unsigned long long)fi.bytes,
	       (unsigned long long)fi.pending_bytes);
	ASSERT_EQ(0, pm_remove(fd, 2));
	ASSERT_EQ(0, pm_commit(fd));
	ASSERT_EQ(0, pm_lookup(fd, (1ULL << 32) + 0x3000, &lk));
	EXPECT_EQ(0U, lk.section.index);
	ASSERT_FDINFO(fd, &fi);
	EXPECT_EQ(2ULL * pairs - 1, fi.sections);
	close(fd);
	knob_restore(self, KNOB_MAX_MAP);
}

TEST_F_TIMEOUT(hardening, add_efault_race, 180)
{
	struct race_tally t1 = { 0 }, t2 = { 0 };
	const struct pm_range *overlap;
	pthread_t toggler, contender;
	struct pm_map tree_map, model;
	char why[200] = "", no_dump[200] = "";
	struct uffd_ctx u;
	double end, t0;
	unsigned long i;
	__u64 gen = 1;
	int ret;

	struct race r = { 0 };

	r.fd = pm_open_dev(_metadata, O_RDWR);
	pm_map_init(&tree_map);
	pm_map_init(&model);
	/* a published map of some size for the dump's open() to copy */
	for (i = 0; i < RACE_TREE_PAIRS; i++) {
		__u64 base = (1ULL << 45) + ((__u64)i << 30);

		ASSERT_EQ(0, pm_map_append(&tree_map, base, base + 0xfff, i,
					   0));
		ASSERT_EQ(0, pm_map_append(&tree_map, base + 0x3000,
					   base + 0x3fff, i, 1));
	}
	ASSERT_EQ(0, pm_map_publish(r.fd, &tree_map, 12, &overlap));
	if (!pm_debugfs_unusable(r.fd, no_dump, sizeof(no_dump)))
		ASSERT_EQ(0, pm_debugfs_path(r.fd, "dump", r.dump_path,
					     sizeof(r.dump_path), why,
					     sizeof(why)))
			TH_LOG("%s", why);
	ASSERT_EQ(0, pm_begin(r.fd, 12));

	/* the argument page, mapped twice */
	r.memfd = memfd_create("physmap-add-arg", MFD_CLOEXEC);
	ASSERT_LE(0, r.memfd);
	ASSERT_EQ(0, ftruncate(r.memfd, page_size));
	r.rw = mmap(NULL, page_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		    r.memfd, 0);
	r.io = mmap(NULL, page_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		    r.memfd, 0);
	ASSERT_NE(MAP_FAILED, r.rw);
	ASSERT_NE(MAP_FAILED, r.io);

	/*
	 * Phase 1, as the audit saw it, was an ADD held up, after its argument
	 * was probed, by a copy to user memory stuck on a userfaultfd page
	 * under the fd's lock, while the page turned read-only. The dump is
	 * copied to user memory by seq_read() under no lock of the fd: the ADD
	 * behind such a read returns at once, before the page turns read-only.
	 */
	ret = no_dump[0] ? 1 : uffd_start(&u, 16 * page_size, why,
					  sizeof(why));
	if (ret) {
		TH_LOG("phase 1 left out: %s", no_dump[0] ? no_dump : why);
	} else {
		struct dump_call dc = { .buf = u.region, .room = u.len };
		struct adder a = { .r = &r, .start = RACE_BASE - 0x100000 };
		bool early;

		dc.dfd = open(r.dump_path, O_RDONLY | O_CLOEXEC);
		ASSERT_LE(0, dc.dfd)
			TH_LOG("%s: %s", r.dump_path, strerror(errno));
		ASSERT_EQ(0, pthread_create(&dc.thread, NULL, dump_main, &dc));
		EXPECT_TRUE(wait_flag(&u.faults, 20))
			TH_LOG("the read of the dump never faulted on its destination");
		ASSERT_EQ(0, pthread_create(&a.thread, NULL, adder_main, &a));
		usleep(1000000);
		ASSERT_EQ(0, mprotect(r.io, page_size, PROT_READ));
		early = __atomic_load_n(&a.done, __ATOMIC_ACQUIRE);
		uffd_release(&u);
		pthread_join(dc.thread, NULL);
		pthread_join(a.thread, NULL);
		ASSERT_EQ(0, mprotect(r.io, page_size,
				      PROT_READ | PROT_WRITE));
		uffd_stop(&u);
		close(dc.dfd);
		race_outcome(r.fd, &model, &t1, a.ret, r.rw->index, a.start,
			     a.start);
		TH_LOG("phase 1: the ADD %s before the page turned read-only, then returned %s; the read of the dump returned %s after %zu bytes",
		       early ? "had returned" : "had not returned",
		       a.ret ? strerror(-a.ret) : "0",
		       dc.ret ? strerror(-dc.ret) : "0", dc.got);
		EXPECT_TRUE(early)
			TH_LOG("the ADD waited for a read of the dump stuck on a fault");
		EXPECT_EQ(0UL, t1.efault_added) TH_LOG("%s", t1.first);
		EXPECT_EQ(0UL, t1.bad_index) TH_LOG("%s", t1.first);
		EXPECT_EQ(0UL, t1.other) TH_LOG("%s", t1.first);
		EXPECT_EQ(0, dc.ret);
	}

	/* phase 2: many ADDs while another thread flips the page */
	ASSERT_EQ(0, pthread_create(&toggler, NULL, toggle_main, &r));
	if (no_dump[0])
		TH_LOG("phase 2 without opens of the dump: %s", no_dump);
	else
		ASSERT_EQ(0, pthread_create(&contender, NULL, dump_loop_main,
					    &r));
	t0 = now();
	end = t0 + RACE_SECONDS;
	for (i = 0; i < RACE_MAX && now() < end; i++) {
		__u64 start = RACE_BASE + i * RACE_STRIDE;

		*r.rw = (struct physmap_section){
			.start = start, .size = RACE_SIZE, .cookie = start,
			.offset = start, .index = PM_POISON32,
		};
		ret = raw_ioctl(r.fd, PHYSMAP_IOC_ADD, r.io);
		race_outcome(r.fd, &model, &t2, ret, r.rw->index, start,
			     start);
	}
	__atomic_store_n(&r.stop, 1, __ATOMIC_RELEASE);
	pthread_join(toggler, NULL);
	if (!no_dump[0])
		pthread_join(contender, NULL);
	TH_LOG("phase 2: %lu ADDs in %.1f s: %lu ok, %lu EFAULT (%lu of them had added the section), %lu wrong index, %lu other; %lu mprotect and %lu unmap flips, %lu opens of the dump",
	       i, now() - t0, t2.ok, t2.efault, t2.efault_added,
	       t2.bad_index, t2.other, r.toggles, r.unmaps, r.dump_opens);
	EXPECT_EQ(0, r.error) TH_LOG("flipping the page: %s",
				     strerror(r.error));
	EXPECT_EQ(0, r.dump_error) TH_LOG("opening %s: %s", r.dump_path,
					  strerror(r.dump_error));
	EXPECT_EQ(0UL, t2.efault_added) TH_LOG("%s", t2.first);
	EXPECT_EQ(0UL, t2.bad_index) TH_LOG("%s", t2.first);
	EXPECT_EQ(0UL, t2.other) TH_LOG("%s", t2.first);
	EXPECT_LT(0UL, t2.efault) TH_LOG("no ADD met the flipped page");
	EXPECT_LT(0UL, t2.ok) TH_LOG("no ADD got through");

	/* what was added is exactly the model, at the indexes it says */
	ASSERT_EQ(0, pm_commit(r.fd));
	gen++;
	ASSERT_EQ(0, pm_model_build(&model, &overlap));
	EXPECT_EQ(0UL, pmc_check(r.fd, &model, gen, 5, why, sizeof(why)))
		TH_LOG("published map after the race: %s", why);
	pm_map_free(&model);
	pm_map_free(&tree_map);
	munmap(r.rw, page_size);
	munmap(r.io, page_size);
	close(r.memfd);
	close(r.fd);
}

/* ---- dump_uffd ---- */

struct writer {
	pthread_t thread;
	int fd;
	const struct pm_map *map;
	int ret;
	const char *failed;
	double seconds;
	int done;
};

static void *writer_main(void *arg)
{
	struct writer *w = arg;
	double t0 = now();
	size_t i;

	w->failed = "BEGIN";
	w->ret = pm_begin(w->fd, 12);
	for (i = 0; i < w->map->count && !w->ret; i++) {
		const struct pm_range *r = &w->map->ranges[i];

		w->failed = "ADD";
		w->ret = pm_add(w->fd, r->start, r->last - r->start + 1,
				r->cookie, r->offset, NULL);
	}
	if (!w->ret) {
		w->failed = "COMMIT";
		w->ret = pm_commit(w->fd);
	}
	w->seconds = now() - t0;
	__atomic_store_n(&w->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

TEST_F_TIMEOUT(hardening, dump_uffd, 180)
{
	char path[256], why[300] = "", *ref1;
	const struct pm_range *overlap;
	struct dump_call dc = { 0 };
	struct physmap_stats st2;
	struct writer w = { 0 };
	struct pm_map m1, m2;
	struct uffd_ctx u;
	struct pm_dump d;
	size_t len1;
	bool finished;
	int fd, ret;

	fd = pm_open_dev(_metadata, O_RDWR);
	if (pm_debugfs_unusable(fd, why, sizeof(why)))
		SKIP(return, "%s", why);
	ret = uffd_start(&u, UFFD_PAGES * page_size, why, sizeof(why));
	if (ret == 1)
		SKIP(return, "no userfaultfd: %s", why);
	ASSERT_EQ(0, ret) TH_LOG("%s", why);

	pm_map_init(&m1);
	pm_map_init(&m2);
	ASSERT_EQ(0, pm_map_generate(&m1, 71, 200, 1ULL << 32, 12));
	ASSERT_EQ(0, pm_map_generate(&m2, 72, 150, 1ULL << 34, 12));
	ASSERT_EQ(0, pm_map_publish(fd, &m1, 12, &overlap));
	ASSERT_EQ(0, pm_debugfs_path(fd, "dump", path, sizeof(path), why,
				     sizeof(why)))
		TH_LOG("%s", why);
	ret = pm_read_text(path, &ref1, &len1);
	ASSERT_EQ(0, ret) TH_LOG("%s: %s", path, strerror(-ret));
	ASSERT_GT(u.len, len1) TH_LOG("test bug: the region is too small");

	/* a read of the dump into the registered region: it faults */
	dc.dfd = debugfs_open(fd, "dump", why, sizeof(why));
	ASSERT_LE(0, dc.dfd) TH_LOG("%s", why);
	dc.buf = u.region;
	dc.room = u.len;
	ASSERT_EQ(0, pthread_create(&dc.thread, NULL, dump_main, &dc));
	if (!wait_flag(&u.faults, 20)) {
		uffd_release(&u);
		pthread_join(dc.thread, NULL);
		uffd_stop(&u);
		ASSERT_TRUE(false) TH_LOG("the read never faulted on its destination");
	}

	/* the writers of the same fd go on while that fault waits */
	w.fd = fd;
	w.map = &m2;
	ASSERT_EQ(0, pthread_create(&w.thread, NULL, writer_main, &w));
	finished = wait_flag(&w.done, WRITER_LIMIT_S);
	EXPECT_FALSE(__atomic_load_n(&dc.done, __ATOMIC_ACQUIRE))
		TH_LOG("the read returned before its fault was served");
	uffd_release(&u);
	pthread_join(w.thread, NULL);
	pthread_join(dc.thread, NULL);
	TH_LOG("BEGIN, %zu ADDs and COMMIT %s while a read of the dump waited on its fault (%.1f s in all)",
	       m2.count, finished ? "completed" : "did not complete",
	       w.seconds);
	EXPECT_TRUE(finished)
		TH_LOG("writers blocked for %.0f s behind a read of the dump whose copy to user memory waits",
		       WRITER_LIMIT_S);
	ASSERT_EQ(0, w.ret) TH_LOG("%s: %s", w.failed, strerror(-w.ret));
	ASSERT_EQ(0, pm_stats(fd, &st2));
	EXPECT_EQ(2ULL, st2.generation);

	/* one consistent snapshot: generation 1's dump, to the byte */
	ASSERT_EQ(0, dc.ret) TH_LOG("read: %s", strerror(-dc.ret));
	TH_LOG("the read returned %zu bytes; generation 1's dump has %zu",
	       dc.got, len1);
	EXPECT_EQ(len1, dc.got);
	EXPECT_EQ(0, memcmp(ref1, u.region, dc.got < len1 ? dc.got : len1))
		TH_LOG("the dump read across the COMMIT is not generation 1's");
	close(dc.dfd);
	/* opened again, the dump shows generation 2 */
	ASSERT_EQ(0, pm_dump_read(fd, &d, why, sizeof(why))) TH_LOG("%s", why);
	EXPECT_EQ(2ULL, d.generation);
	EXPECT_EQ(m2.count + 1, d.nr_sections);
	pm_dump_free(&d);
	EXPECT_EQ(0, u.error) TH_LOG("UFFDIO_COPY: %s", strerror(u.error));
	uffd_stop(&u);
	free(ref1);
	pm_map_free(&m1);
	pm_map_free(&m2);
	close(fd);
}

/* ---- retire_share ---- */

struct stormer {
	pthread_t thread;
	int fd;
	unsigned int pairs;
	int stop;
	unsigned long commits;
	int error;
	double max_commit;
};

static void *storm_main(void *arg)
{
	struct stormer *s = arg;

	while (!__atomic_load_n(&s->stop, __ATOMIC_ACQUIRE) && !s->error) {
		s->error = publish_pairs(s->fd, s->pairs, STORM_A_BASE);
		if (!s->error)
			s->commits++;
	}
	return NULL;
}

/*
 * size_pairs - pairs whose map is as close to target bytes from below as
 * the granularity allows (within slack), measured by publishing on fd.
 */
static int size_pairs(int fd, __u64 target, __u64 slack, unsigned int *pairs,
		      __u64 *bytes)
{
	unsigned int p1 = 1024, p2 = 2048, p;
	long long b1, b2, b = 0;
	double per;
	int i, ret;

	ret = publish_pairs(fd, p1, STORM_A_BASE);
	b1 = map_bytes(fd);
	ret = ret ?: publish_pairs(fd, p2, STORM_A_BASE);
	b2 = map_bytes(fd);
	if (ret)
		return ret;
	per = (double)(b2 - b1) / (p2 - p1);
	if (per <= 0)
		return -EPROTO;
	p = p2 + ((long long)target - b2) / per;
	for (i = 0; i < 8; i++) {
		long long step;

		ret = publish_pairs(fd, p, STORM_A_BASE);
		if (ret)
			return ret;
		b = map_bytes(fd);
		if (b <= (long long)target && (long long)target - b <= (long long)slack)
			break;
		step = ((long long)target - b) / per;
		if (!step)
			step = b > (long long)target ? -1 : 1;
		p += step;
	}
	*pairs = p;
	*bytes = b;
	return 0;
}

TEST_F_TIMEOUT(hardening, retire_share, 300)
{
	__u64 backlog = STORM_BACKLOG_MB * MIB, bytes_a, bytes_b, waits_a;
	struct pm_fdinfo fa, fb;
	struct stormer a = { 0 };
	unsigned long commits_b = 0;
	double t0, end, t, max_b = 0;
	int fd_b, ret;

	ASSERT_TRUE(self->have[KNOB_BACKLOG]) TH_LOG("no " PM_BACKLOG_PARAM);
	ASSERT_EQ(0, knob_set(KNOB_BACKLOG, STORM_BACKLOG_MB));
	a.fd = pm_open_dev(_metadata, O_RDWR);
	fd_b = pm_open_dev(_metadata, O_RDWR);
	ASSERT_FDINFO(a.fd, &fa);
	ASSERT_FDINFO(fd_b, &fb);

	ASSERT_EQ(0, publish_pairs(fd_b, STORM_B_PAIRS, STORM_B_BASE));
	bytes_b = map_bytes(fd_b);
	/*
	 * A's map just under the whole backlog: past its share of it on
	 * every commit, and with one of A's maps waiting, a commit of B's
	 * would pass the global bound unless A's are kept to A's share.
	 */
	ret = size_pairs(a.fd, backlog - bytes_b / 2, bytes_b / 4, &a.pairs,
			 &bytes_a);
	ASSERT_EQ(0, ret) TH_LOG("sizing A's map: %s", strerror(-ret));
	usleep(500000);
	ASSERT_FDINFO(a.fd, &fa);
	ASSERT_FDINFO(fd_b, &fb);
	TH_LOG("retire_backlog_mb=%d: A's map %u pairs, %llu bytes (%llu waits while sizing it); B's %d pairs, %llu bytes",
	       STORM_BACKLOG_MB, a.pairs, (unsigned long long)bytes_a,
	       (unsigned long long)fa.retire_waits, STORM_B_PAIRS,
	       (unsigned long long)bytes_b);

	ASSERT_EQ(0, pthread_create(&a.thread, NULL, storm_main, &a));
	t0 = now();
	end = t0 + STORM_SECONDS;
	while ((now() < end || a.commits < STORM_MIN_COMMITS) &&
	       now() < end + 4 * STORM_SECONDS && !a.error) {
		t = now();
		ret = publish_pairs(fd_b, STORM_B_PAIRS, STORM_B_BASE);
		if (ret)
			break;
		t = now() - t;
		if (t > max_b)
			max_b = t;
		commits_b++;
		usleep(STORM_B_PAUSE_US);
	}
	__atomic_store_n(&a.stop, 1, __ATOMIC_RELEASE);
	pthread_join(a.thread, NULL);
	t = now() - t0;
	ASSERT_EQ(0, ret) TH_LOG("B: %s", strerror(-ret));
	ASSERT_EQ(0, a.error) TH_LOG("A: %s", strerror(-a.error));
	waits_a = fa.retire_waits;
	ASSERT_FDINFO(a.fd, &fa);
	ASSERT_FDINFO(fd_b, &fb);
	waits_a = fa.retire_waits - waits_a;
	TH_LOG("storm of %.1f s: A %lu commits, %llu grace-period waits; B %lu commits, %llu waits (slowest B commit %.3f s)",
	       t, a.commits, (unsigned long long)waits_a, commits_b,
	       (unsigned long long)fb.retire_waits, max_b);
	printf("# physmap-retire-share: retire_backlog_mb %d, A map %llu bytes, %lu commits, %llu waits; B map %llu bytes, %lu commits, %llu waits\n",
	       STORM_BACKLOG_MB, (unsigned long long)bytes_a, a.commits,
	       (unsigned long long)waits_a, (unsigned long long)bytes_b,
	       commits_b, (unsigned long long)fb.retire_waits);
	fflush(stdout);
	EXPECT_LE(STORM_MIN_COMMITS, a.commits);
	EXPECT_EQ(0ULL, fb.retire_waits)
		TH_LOG("commits on B waited for grace periods during A's storm");
	EXPECT_LT(0ULL, waits_a)
		TH_LOG("the storming fd never waited for a grace period itself");
	close(a.fd);
	close(fd_b);
	knob_restore(self, KNOB_BACKLOG);
}

/* ---- dag_commit_watchdog ---- */

/* the first kernel message since kmsg_fd was opened that names one of bad */
static bool kmsg_find(int kmsg_fd, char *found, size_t size)
{
	static const char *const bad[] = {
		"soft lockup", "self-detected stall", "detected stalls",
		"blocked for more than",
	};
	char rec[2048];
	ssize_t n;
	size_t i;

	if (kmsg_fd < 0)
		return false;
	for (;;) {
		n = read(kmsg_fd, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EPIPE)
			continue;
		if (n <= 0)
			return false;
		rec[n] = '\0';
		for (i = 0; i < ARRAY_SIZE(bad); i++)
			if (strstr(rec, bad[i])) {
				rec[strcspn(rec, "\n")] = '\0';
				snprintf(found, size, "%.*s", (int)size - 1,
					 rec);
				return true;
			}
	}
}

TEST_F_TIMEOUT(hardening, dag_commit_watchdog, 420)
{
	struct physmap_stats st;
	struct pm_shape shape;
	char found[256] = "";
	unsigned int n;
	double t0, t_add, t_commit;
	int fd, kmsg_fd, ret;
	bool lockup;

	fd = pm_open_dev(_metadata, O_RDWR);
	t0 = now();
	ret = dag_build(fd, &n);
	t_add = now() - t0;
	ASSERT_EQ(0, ret) TH_LOG("ADD %u of the DAG map: %s", n + 1,
				 strerror(-ret));

	kmsg_fd = open(KMSG, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (kmsg_fd >= 0)
		lseek(kmsg_fd, 0, SEEK_END);
	if (self->have[KNOB_WATCHDOG]) {
		ASSERT_EQ(0, pm_write_str(WATCHDOG_THRESH, DAG_WATCHDOG));
	} else {
		TH_LOG("no %s: committing without a lowered watchdog",
		       WATCHDOG_THRESH);
	}
	t0 = now();
	ret = pm_commit(fd);
	t_commit = now() - t0;
	knob_restore(self, KNOB_WATCHDOG);
	lockup = kmsg_find(kmsg_fd, found, sizeof(found));
	if (kmsg_fd >= 0)
		close(kmsg_fd);
	memset(&st, 0, sizeof(st));
	pm_stats(fd, &st);
	if (pm_shape_read(fd, &shape, NULL, 0))
		memset(&shape, 0, sizeof(shape));	/* no debugfs: 0 */
	TH_LOG("DAG map, %u sections at page_shift %d: ADDs %.1f s, COMMIT %s in %.2f s with watchdog_thresh %s; nodes %llu, bytes %llu, max_depth %llu",
	       n, DAG_PAGE_SHIFT, t_add, ret ? strerror(-ret) : "ok", t_commit,
	       self->have[KNOB_WATCHDOG] ? DAG_WATCHDOG : "unchanged",
	       shape.nodes, (unsigned long long)st.bytes, shape.max_depth);
	printf("# physmap-dag: levelled shape, %u sections, COMMIT %.2f s in the guest\n",
	       n, t_commit);
	fflush(stdout);
	ASSERT_EQ(0, ret);
	EXPECT_EQ(n, st.sections);
	EXPECT_FALSE(lockup) TH_LOG("kernel log: %s", found);
	close(fd);
}

/* ---- commit_kill ---- */

struct kid {
	pid_t pid;
	int rd;		/* 'S' before the ioctl, then its return value */
	double started;
};

enum kid_op { KID_COMMIT, KID_ADD };

static int kid_spawn(int fd, enum kid_op op, struct kid *k)
{
	int p[2];
	char c;

	if (pipe(p))
		return -errno;
	k->pid = fork();
	if (k->pid < 0)
		return -errno;
	if (!k->pid) {
		int ret;

		close(p[0]);
		if (write(p[1], "S", 1) != 1)
			_exit(2);
		ret = op == KID_COMMIT ? pm_commit(fd) :
		      pm_add(fd, KILL_ADD_START, 0x1000, 1, 0, NULL);
		if (write(p[1], &ret, sizeof(ret)) != sizeof(ret))
			_exit(2);
		_exit(0);
	}
	close(p[1]);
	k->rd = p[0];
	if (read(k->rd, &c, 1) != 1 || c != 'S')
		return -EPROTO;
	k->started = now();
	return 0;
}

/* whether the child's ioctl has returned; *ret is its value then */
static bool kid_returned(struct kid *k, int *ret)
{
	struct pollfd pfd = { .fd = k->rd, .events = POLLIN };

	return poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLIN) &&
	       read(k->rd, ret, sizeof(*ret)) == sizeof(*ret);
}

/* SIGKILL the child and reap it; seconds that took, or -1 past limit */
static double kid_kill(struct kid *k, double limit)
{
	double t0 = now();
	int status;

	kill(k->pid, SIGKILL);
	for (;;) {
		pid_t pid = waitpid(k->pid, &status, WNOHANG);

		if (pid == k->pid)
			return now() - t0;
		if (pid < 0 || now() - t0 > limit)
			return -1;
		usleep(1000);
	}
}

static char task_state(pid_t pid)
{
	char path[64], buf[512], *p;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (pm_read_str(path, buf, sizeof(buf)))
		return '?';
	p = strrchr(buf, ')');
	return p && p[1] && p[2] ? p[2] : '?';
}

TEST_F_TIMEOUT(hardening, commit_kill, 300)
{
	double t0, t_commit, k2_at, k1_at, reap1 = -1, reap2, end;
	bool c1_busy_k2, c1_busy_k1, have_fi;
	char why[160], state = '?';
	struct physmap_lookup lk;
	struct physmap_stats st;
	int fd, ret, r1 = 0;
	struct pm_fdinfo fi;
	struct kid c1, c2;
	unsigned int n;

	fd = pm_open_dev(_metadata, O_RDWR);
	ASSERT_EQ(0, dag_build(fd, &n));
	have_fi = !fdinfo_read(fd, &fi, why, sizeof(why));

	/* C1 commits the shared fd's pending map */
	ASSERT_EQ(0, kid_spawn(fd, KID_COMMIT, &c1));
	usleep(KILL_WAIT_S * 1e6);

	/* C2 waits for the fd's lock, which C1's COMMIT holds */
	ASSERT_EQ(0, kid_spawn(fd, KID_ADD, &c2));
	end = now() + 3;
	while (now() < end && (state = task_state(c2.pid)) != 'D')
		usleep(5000);
	c1_busy_k2 = !kid_returned(&c1, &r1);
	k2_at = now() - c1.started;
	reap2 = kid_kill(&c2, KILL_REAP_LIMIT_S);
	close(c2.rd);

	/*
	 * Then C1, in the middle of its COMMIT. A killed ioctl that runs to
	 * its end never returns to the child's code: what it did shows in
	 * the map, not in the pipe.
	 */
	c1_busy_k1 = c1_busy_k2 && !kid_returned(&c1, &r1);
	k1_at = now() - c1.started;
	if (c1_busy_k1)
		reap1 = kid_kill(&c1, KILL_REAP_LIMIT_S);
	else
		kid_kill(&c1, KILL_REAP_LIMIT_S);
	close(c1.rd);
	TH_LOG("C2 (ADD, state %c) killed %.2f s into C1's COMMIT, reaped in %.2f s; C1 (COMMIT) %s %.2f s in, reaped in %.2f s",
	       state, k2_at, reap2,
	       c1_busy_k1 ? "killed" : "had returned", k1_at, reap1);

	ASSERT_TRUE(c1_busy_k2)
		TH_LOG("C1's COMMIT returned (%s) within %.2f s, before the kills: too fast to test",
		       strerror(-r1), k2_at);
	EXPECT_LE(0, reap2)
		TH_LOG("C2 not reaped in %.0f s", KILL_REAP_LIMIT_S);
	if (!c1_busy_k1) {
		/* C2 outlived the COMMIT it waited for: nothing more to see */
		ASSERT_TRUE(c1_busy_k1)
			TH_LOG("C2, killed while it waited for the fd's lock, died only %.2f s later, after C1's COMMIT had returned",
			       reap2);
	}

	/* the killed COMMIT and ADD changed nothing */
	ASSERT_EQ(0, pm_stats(fd, &st));
	EXPECT_EQ(0ULL, st.generation)
		TH_LOG("the killed COMMIT published its map");
	if (have_fi) {
		ASSERT_FDINFO(fd, &fi);
		EXPECT_EQ((__u64)n, fi.pending_sections);
	}
	/* and the map is still there to commit: how long that takes */
	t0 = now();
	ret = pm_commit(fd);
	t_commit = now() - t0;
	memset(&st, 0, sizeof(st));
	pm_stats(fd, &st);
	ASSERT_EQ(0, pm_lookup(fd, KILL_ADD_START, &lk));
	TH_LOG("then the parent's COMMIT of the same pending map: %s in %.2f s, generation %llu, %u sections",
	       ret ? strerror(-ret) : "ok", t_commit,
	       (unsigned long long)st.generation, st.sections);
	printf("# physmap-kill: COMMIT %.2f s; SIGKILL to a lock waiter: reaped in %.3f s; to the COMMIT %.2f s in: reaped in %.3f s\n",
	       t_commit, reap2, k1_at, reap1);
	fflush(stdout);
	EXPECT_EQ(0U, lk.section.index)
		TH_LOG("the killed ADD added its section");
	ASSERT_EQ(0, ret) TH_LOG("no pending map left to commit");
	ASSERT_EQ(n, st.sections);
	/* each was reaped in well under what was left of the COMMIT */
	EXPECT_LE(0, reap1)
		TH_LOG("C1 not reaped in %.0f s", KILL_REAP_LIMIT_S);
	EXPECT_GT((t_commit - k2_at) / 2, reap2)
		TH_LOG("C2, waiting for the lock, died %.2f s after SIGKILL; the COMMIT takes %.2f s",
		       reap2, t_commit);
	EXPECT_GT((t_commit - k1_at) / 2, reap1)
		TH_LOG("C1, in COMMIT, died %.2f s after SIGKILL; the COMMIT takes %.2f s",
		       reap1, t_commit);
	close(fd);
}

TEST_HARNESS_MAIN
