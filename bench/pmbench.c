// SPDX-License-Identifier: GPL-2.0
/*
 * pmbench - drive physmap_bench.ko and time the ioctl path of /dev/physmap
 *
 *	pmbench full MAPDIR    every map of MAPDIR, the synthetic maps, the
 *	                       commit series and the ioctl path; prints the
 *	                       result lines (see physmap_bench.c and the "I"
 *	                       lines below) for scripts/bench.sh
 *	pmbench smoke MAPDIR   a short run that checks what it prints (TAP)
 *
 * Needs physmap.ko and physmap_bench.ko loaded; mounts debugfs if needed.
 *
 * Slab lines, the maple tree's bytes (see maple_bytes()):
 *   S map=NAME struct=maple cache=maple_node copies=N bytes=B
 *
 * Ioctl lines, per-call times in ps, min over repetitions:
 *   I map=NAME what=null|lookup|batchK calls=N addrs_per_call=K
 *     ps_per_call=T ps_per_addr=T
 *
 * Update lines (issue 14), through the ioctls, wall clock, one run each:
 *   U sections=N build_ns=T update_ns=T next_ns=T bytes=B
 * (update_ns: the first update of a map, which copies it and builds it in
 * full with room for updates; next_ns: the one after, which starts from
 * the pending map the first one's COMMIT kept and shares what it did not
 * change)
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "physmap_maps.h"

typedef __u64 u64;
#include "physmap_bench_gen.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

#define DBG		"/sys/kernel/debug"
#define CTL		DBG "/physmap_bench/ctl"
#define SECTIONS	DBG "/physmap_bench/sections"
#define RESULTS		DBG "/physmap_bench/results"
#define SLAB		"/sys/kernel/slab"
#define NULL_IOCTL	_IO(PHYSMAP_IOC_TYPE, 0x0f)

struct pmb_sect {
	__u64 start;
	__u64 size;
};

static int ctl(const char *fmt, ...)
{
	char cmd[128];
	va_list ap;
	int fd, n, ret = 0;

	va_start(ap, fmt);
	n = vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	fd = open(CTL, O_WRONLY);
	if (fd < 0)
		return -errno;
	if (write(fd, cmd, n) != n)
		ret = -errno;
	close(fd);
	if (ret)
		fprintf(stderr, "pmbench: %s: %s\n", cmd, strerror(-ret));
	return ret;
}

/* Load a map file's ranges as the bench module's sections. */
static int load_sections(const struct pm_map *map)
{
	struct pmb_sect buf[1024];
	size_t i, n = 0;
	int fd, ret = 0;

	if (ctl("clear"))
		return -1;
	fd = open(SECTIONS, O_WRONLY);
	if (fd < 0)
		return -1;
	for (i = 0; i <= map->count && !ret; i++) {
		if (i == map->count || n == 1024) {
			if (n && write(fd, buf, n * sizeof(buf[0])) !=
				 (ssize_t)(n * sizeof(buf[0])))
				ret = -1;
			n = 0;
		}
		if (i < map->count) {
			buf[n].start = map->ranges[i].start;
			buf[n].size = map->ranges[i].last -
				      map->ranges[i].start + 1;
			n++;
		}
	}
	close(fd);
	return ret;
}

static char *read_results(void)
{
	size_t cap = 1 << 20, len = 0;
	char *buf = malloc(cap + 1);
	ssize_t n;
	int fd;

	if (!buf)
		return NULL;
	fd = open(RESULTS, O_RDONLY);
	if (fd < 0) {
		free(buf);
		return NULL;
	}
	while (len < cap && (n = read(fd, buf + len, cap - len)) > 0)
		len += n;
	close(fd);
	buf[len] = 0;
	return buf;
}

/* The first number in a small file, or -1. */
static long long read_number(const char *path)
{
	char buf[64], *end;
	long long val;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	val = strtoll(buf, &end, 10);
	return end == buf || val < 0 ? -1 : val;
}

/* Write "1" to a small file: 0, or -1 when that fails. */
static int write_one(const char *path)
{
	int fd, ret;

	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -1;
	ret = write(fd, "1", 1) == 1 ? 0 : -1;
	close(fd);
	return ret;
}

/*
 * Bytes held by the objects of a slab cache, from /sys/kernel/slab/CACHE/:
 * objects in use times the size of one object in its slab. SLUB counts
 * every object of a CPU's slab as in use, so the cache is shrunk first,
 * which flushes the CPU slabs: otherwise objects freed into a CPU slab and
 * allocated again would not show. The cache must not be merged with others
 * (slab_nomerge, or slub_debug) for the count to be its own. -1 when
 * unknown.
 */
static long long slab_bytes(const char *cache)
{
	long long objects, size;
	char path[96];

	snprintf(path, sizeof(path), SLAB "/%s/shrink", cache);
	if (write_one(path))
		return -1;
	snprintf(path, sizeof(path), SLAB "/%s/objects", cache);
	objects = read_number(path);
	snprintf(path, sizeof(path), SLAB "/%s/slab_size", cache);
	size = read_number(path);
	return objects < 0 || size < 0 ? -1 : objects * size;
}

/*
 * The maple tree's bytes for the bench module's @nsect sections: the growth
 * of the maple_node cache over physmap_bench.ko holding copies of the tree
 * ("hold maple"), divided by the copies. A cache grows a slab at a time, so
 * small maps are held many times over. Nothing between the two counts may
 * allocate: a new mapping of this process takes maple nodes of its own
 * (stdio's buffers, malloc()), so nothing is printed before the second
 * count. Prints an S line to @out, or an E line; a smoke run passes NULL
 * and gets errors as TAP diagnostics. Returns the bytes, or -1.
 */
static long long maple_bytes(const char *name, unsigned int nsect, FILE *out)
{
	unsigned int copies = 65536 / (nsect ? nsect : 1);
	long long before, after, bytes = 0;
	const char *err = NULL;
	int held;

	copies = copies < 1 ? 1 : copies > 64 ? 64 : copies;
	before = slab_bytes("maple_node");
	held = !ctl("hold maple %u", copies);
	after = slab_bytes("maple_node");
	ctl("release");
	if (before < 0 || after < 0)
		err = "no " SLAB "/maple_node/{shrink,objects,slab_size}";
	else if (!held)
		err = "hold maple failed";
	if (err) {
		/* in a smoke run, a TAP diagnostic */
		fprintf(out ? out : stdout, "%sE map=%s %s\n",
			out ? "" : "# ", name, err);
		return -1;
	}
	if (after > before)
		bytes = (after - before) / copies;
	if (out)
		fprintf(out, "S map=%s struct=maple cache=maple_node copies=%u bytes=%lld\n",
			name, copies, bytes);
	return bytes;
}

/*
 * The bench of the loaded sections, @nsect of them: the maple tree's bytes
 * counted here, then the bench module's build, check and timing.
 */
static int bench_map(const char *name, unsigned int nsect,
		     unsigned int lookups, unsigned int reps, FILE *out,
		     long long *maple)
{
	long long bytes = maple_bytes(name, nsect, out);

	if (maple)
		*maple = bytes;
	return ctl("bench %s %u %u", name, lookups, reps);
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static double dmin(double a, double b)
{
	return a < b ? a : b;
}

static __u64 rnd_state = 0x10c7a1ULL;

/* Addresses inside the map's sections, uniform over sections. */
static __u64 *inside_addrs(const struct pm_map *map, size_t n)
{
	__u64 *a = malloc(n * sizeof(*a));
	size_t i;

	for (i = 0; a && i < n; i++) {
		const struct pm_range *r =
			&map->ranges[pm_rand64(&rnd_state) % map->count];

		a[i] = r->start + pm_rand64(&rnd_state) %
				  (r->last - r->start + 1);
	}
	return a;
}

/*
 * The ioctl path on a published map: a null ioctl (an unknown number: the
 * same syscall, fd lookup and dispatch, answered ENOTTY), LOOKUP, and
 * LOOKUP_BATCH at 1, 16, 256 and 4096 addresses per call. Returns the
 * number of answers that disagreed between LOOKUP and LOOKUP_BATCH, or -1.
 */
static int ioctl_path(const char *name, const struct pm_map *map,
		      size_t naddr, int reps, FILE *out)
{
	static const unsigned int ks[] = { 1, 16, 256, 4096 };
	double best[2 + 4], t;
	struct physmap_lookup lk;
	__u32 *idx = calloc(naddr, sizeof(__u32)), *got;
	__u64 *addrs = inside_addrs(map, naddr), gen;
	const struct pm_range *failed;
	int fd, r, k, bad = 0;
	size_t i, j;
	double *blk;

	fd = open(PHYSMAP_DEV, O_RDWR);
	if (fd < 0 || !addrs || !idx ||
	    pm_map_publish(fd, map, 12, &failed)) {
		fprintf(stderr, "pmbench: %s: cannot publish\n", name);
		return -1;
	}
	/* touched once, so that no timed call faults */
	got = calloc(4096, sizeof(__u32));
	blk = calloc(6 * (naddr / 4096 + 1), sizeof(double));
	if (!got || !blk)
		return -1;
	for (i = 0; i < 6 * (naddr / 4096 + 1); i++)
		blk[i] = 1e300;
	/*
	 * Blocks of 4096 addresses, every measure in turn; each measure's
	 * time is the sum over blocks of the block's fastest repetition (the
	 * host is shared: a preempted block counts only where it was).
	 */
	for (r = 0; r < reps; r++) {
		for (j = 0; j + 4096 <= naddr; j += 4096) {
			double *bb = &blk[6 * (j / 4096)];

			t = now_ns();
			for (i = j; i < j + 4096; i++)
				if (ioctl(fd, NULL_IOCTL, &lk) != -1 ||
				    errno != ENOTTY)
					bad++;
			bb[0] = dmin(bb[0], now_ns() - t);
			t = now_ns();
			for (i = j; i < j + 4096; i++) {
				lk.addr = addrs[i];
				if (ioctl(fd, PHYSMAP_IOC_LOOKUP, &lk))
					bad++;
				idx[i] = lk.section.index;
			}
			bb[1] = dmin(bb[1], now_ns() - t);
			for (k = 0; k < 4; k++) {
				struct physmap_lookup_batch b = { 0 };

				t = now_ns();
				for (i = j; i + ks[k] <= j + 4096; i += ks[k]) {
					b.addrs = (__u64)(unsigned long)&addrs[i];
					b.indexes = (__u64)(unsigned long)got;
					b.count = ks[k];
					if (ioctl(fd, PHYSMAP_IOC_LOOKUP_BATCH, &b))
						bad++;
				}
				bb[2 + k] = dmin(bb[2 + k], now_ns() - t);
			}
		}
	}
	for (k = 0; k < 6; k++) {
		best[k] = 0;
		for (j = 0; j + 4096 <= naddr; j += 4096)
			best[k] += blk[6 * (j / 4096) + k];
	}
	/* every answer of one batch call against LOOKUP's */
	{
		struct physmap_lookup_batch b = { 0 };
		size_t n = naddr < 4096 ? naddr : 4096;

		b.addrs = (__u64)(unsigned long)addrs;
		b.indexes = (__u64)(unsigned long)got;
		b.count = n;
		if (ioctl(fd, PHYSMAP_IOC_LOOKUP_BATCH, &b))
			bad++;
		for (i = 0; i < n; i++)
			if (got[i] != idx[i] ||
			    got[i] != pm_model_index(map, addrs[i]))
				bad++;
		gen = b.generation;
	}
	fprintf(out,
		"I map=%s what=null calls=%zu addrs_per_call=1 ps_per_call=%.0f ps_per_addr=%.0f\n",
		name, naddr, best[0] * 1000 / naddr, best[0] * 1000 / naddr);
	fprintf(out,
		"I map=%s what=lookup calls=%zu addrs_per_call=1 ps_per_call=%.0f ps_per_addr=%.0f\n",
		name, naddr, best[1] * 1000 / naddr, best[1] * 1000 / naddr);
	for (k = 0; k < 4; k++) {
		size_t calls = naddr / ks[k];

		fprintf(out,
			"I map=%s what=batch%u calls=%zu addrs_per_call=%u ps_per_call=%.0f ps_per_addr=%.0f\n",
			name, ks[k], calls, ks[k], best[2 + k] * 1000 / calls,
			best[2 + k] * 1000 / (calls * ks[k]));
	}
	fprintf(out, "V map=%s ioctl_mismatches=%d generation=%llu\n", name, bad,
		(unsigned long long)gen);
	close(fd);
	free(addrs);
	free(idx);
	free(got);
	free(blk);
	return bad;
}

static int load_map(const char *dir, const char *file, struct pm_map *map,
		    char *name, size_t name_size)
{
	char path[512], err[256];

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	snprintf(name, name_size, "%s", file);
	if (strlen(name) > 4 && !strcmp(name + strlen(name) - 4, ".txt"))
		name[strlen(name) - 4] = 0;
	pm_map_init(map);
	if (pm_map_load(map, path, 0, err, sizeof(err)) ||
	    pm_model_build(map, NULL)) {
		fprintf(stderr, "pmbench: %s\n", err);
		return -1;
	}
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int setup(void)
{
	if (access(CTL, W_OK)) {
		mkdir(DBG, 0755);
		mount("debugfs", DBG, "debugfs", 0, NULL);
	}
	return access(CTL, W_OK);
}

/* An update transaction: REMOVE of section 1, ADD of @start, @size. */
static int update_one(int fd, __u64 start, __u64 size, __u32 cookie)
{
	__u32 index = 0;
	int ret;

	ret = pm_begin_update(fd, 0);
	if (!ret)
		ret = pm_remove(fd, 1);
	if (!ret)
		ret = pm_add(fd, start, size, cookie, 0, &index);
	if (!ret && index != 1)
		ret = -EPROTO;
	if (!ret)
		ret = pm_commit(fd);
	return ret;
}

/*
 * A full build of the synthetic map of @n sections through the ioctls
 * (BEGIN, every ADD, COMMIT), then two update transactions of it (BEGIN
 * with PHYSMAP_BEGIN_UPDATE, REMOVE of section 1, ADD of its range again,
 * which must take index 1, COMMIT): the first copies the map, the second
 * starts from what the first kept. Each timed once; prints a U line.
 */
static int update_series(unsigned int n, FILE *out)
{
	double t0, build, update, next;
	struct physmap_stats st;
	__u64 start, size, i;
	int fd, ret;

	fd = open(PHYSMAP_DEV, O_RDWR);
	if (fd < 0)
		return -errno;
	t0 = now_ns();
	ret = pm_begin(fd, 12);
	for (i = 0; i < n && !ret; i++) {
		pmb_synth_section(n, i, 0x5eed, &start, &size);
		ret = pm_add(fd, start, size, i, 0, NULL);
	}
	if (!ret)
		ret = pm_commit(fd);
	build = now_ns() - t0;
	pmb_synth_section(n, 0, 0x5eed, &start, &size);
	t0 = now_ns();
	if (!ret)
		ret = update_one(fd, start, size, n);
	update = now_ns() - t0;
	t0 = now_ns();
	if (!ret)
		ret = update_one(fd, start, size, n + 1);
	next = now_ns() - t0;
	if (!ret)
		ret = pm_stats(fd, &st);
	if (!ret && (st.generation != 3 || st.sections != n))
		ret = -EPROTO;
	if (!ret)
		fprintf(out, "U sections=%u build_ns=%.0f update_ns=%.0f next_ns=%.0f bytes=%llu\n",
			n, build, update, next, (unsigned long long)st.bytes);
	else
		fprintf(out, "E update series of %u sections: %s\n", n,
			strerror(-ret));
	close(fd);
	return ret;
}

static int full(const char *dir)
{
	static const unsigned int synth[] = { 16, 256, 4096, 65536, 1000000 };
	static const unsigned int commits[] = { 1000, 10000, 100000, 1000000 };
	char *files[64], name[128], *res;
	struct dirent *de;
	struct pm_map map;
	size_t nf = 0, i;
	DIR *d;

	if (setup()) {
		fprintf(stderr, "pmbench: no %s\n", CTL);
		return 1;
	}
	d = opendir(dir);
	while (d && (de = readdir(d)) && nf < 64) {
		size_t l = strlen(de->d_name);

		if ((l > 11 && !strcmp(de->d_name + l - 11, ".memory.txt")) ||
		    (l > 7 && !strcmp(de->d_name + l - 7, ".io.txt")))
			files[nf++] = strdup(de->d_name);
	}
	if (d)
		closedir(d);
	qsort(files, nf, sizeof(files[0]), cmp_str);
	for (i = 0; i < nf; i++) {
		if (load_map(dir, files[i], &map, name, sizeof(name)))
			return 1;
		if (!load_sections(&map))
			bench_map(name, map.count, 65536, 5, stdout, NULL);
		pm_map_free(&map);
		fprintf(stderr, "pmbench: %s done\n", name);
	}
	for (i = 0; i < ARRAY_SIZE(synth); i++) {
		snprintf(name, sizeof(name), "synth-%u", synth[i]);
		if (!ctl("synth %u 1", synth[i]))
			bench_map(name, synth[i], 65536, 5, stdout, NULL);
		fprintf(stderr, "pmbench: synth-%u done\n", synth[i]);
	}
	for (i = 0; i < ARRAY_SIZE(commits); i++) {
		if (!ctl("synth %u 2", commits[i]))
			ctl("commit commit-%u", commits[i]);
		fprintf(stderr, "pmbench: commit-%u done\n", commits[i]);
	}
	ctl("clear");
	res = read_results();
	fputs(res ? res : "E no results\n", stdout);
	free(res);
	if (!load_map(dir, "q35_big.booted.memory.txt", &map, name,
		      sizeof(name))) {
		ioctl_path(name, &map, 65536, 5, stdout);
		pm_map_free(&map);
	}
	for (i = 0; i < ARRAY_SIZE(commits); i++) {
		update_series(commits[i], stdout);
		fprintf(stderr, "pmbench: update-%u done\n", commits[i]);
	}
	fflush(stdout);
	return 0;
}

/* ---- smoke: a short run, every line checked ---------------------------- */

static int tests;

static void tap(int ok, const char *fmt, ...)
{
	va_list ap;

	printf("%sok %d - ", ok ? "" : "not ", ++tests);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

/*
 * Copy to @line the line of @res that starts with @prefix and names struct
 * @st; NULL when there is none.
 */
static char *find_line(const char *res, const char *prefix, const char *st,
		       char *line, size_t size)
{
	char want[32];
	const char *p;
	size_t len;

	snprintf(want, sizeof(want), " struct=%s ", st);
	for (p = res; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		len = strcspn(p, "\n");
		if (len >= size || strncmp(p, prefix, strlen(prefix)))
			continue;
		memcpy(line, p, len);
		line[len] = 0;
		if (strstr(line, want))
			return line;
	}
	return NULL;
}

/* The number after " @key=" in @line, or -1 when there is none. */
static long long field(const char *line, const char *key)
{
	size_t klen = strlen(key);
	const char *p;

	for (p = strstr(line, key); p; p = strstr(p + klen, key))
		if (p > line && p[-1] == ' ' && p[klen] == '=')
			return strtoll(p + klen + 1, NULL, 10);
	return -1;
}

/*
 * Check the A and R lines of one benched map in the results, with @maple,
 * the maple tree's bytes that maple_bytes() counted.
 */
static void check_bench(const char *res, const char *name, unsigned int nsect,
			long long maple)
{
	static const char *const structs[] = {
		"physmap", "maple", "xarray", "bsearch"
	};
	long long n, checked, bad, build, bytes, in, span, loc;
	char prefix[160], line[512];
	const char *p;
	int s;

	snprintf(prefix, sizeof(prefix), "A map=%s ", name);
	for (s = 0; s < 4; s++) {
		p = find_line(res, prefix, structs[s], line, sizeof(line));
		checked = p ? field(p, "checked") : -1;
		bad = p ? field(p, "mismatches") : -1;
		tap(checked >= 3 * 4096 && bad == 0,
		    "%s: %s agrees with physmap on %lld addresses (%lld mismatches)",
		    name, structs[s], checked, bad);
	}
	snprintf(prefix, sizeof(prefix), "R map=%s ", name);
	for (s = 0; s < 4; s++) {
		p = find_line(res, prefix, structs[s], line, sizeof(line));
		n = p ? field(p, "sections") : -1;
		build = p ? field(p, "build_ns") : -1;
		in = p ? field(p, "inside_ps") : -1;
		span = p ? field(p, "span_ps") : -1;
		loc = p ? field(p, "local_ps") : -1;
		bytes = s == 1 ? maple : p ? field(p, "bytes") : -1;
		tap(n == nsect && build > 0 && in > 0 && span > 0 && loc > 0 &&
		    bytes > 0,
		    "%s: %s: %lld sections, build %lld ns, %lld bytes, %lld/%lld/%lld ps per lookup",
		    name, structs[s], n, build, bytes, in, span, loc);
	}
}

static int smoke(const char *dir)
{
	char name[128], *res;
	struct pm_map map;
	unsigned long long n = 0, bytes = 0, nodes = 0;
	long long maple[2] = { -1, -1 };
	const char *p;
	size_t len = 0;
	int ok, bad;
	FILE *f;

	printf("TAP version 13\n1..23\n");
	ok = !setup();
	tap(ok, "physmap_bench.ko's debugfs files are there");
	if (!ok)
		return 1;
	tap(!ctl("synth 256 1") &&
	    !bench_map("synth-256", 256, 4096, 1, NULL, &maple[0]),
	    "bench of a 256-section synthetic map ran");
	ok = !load_map(dir, "q35_big.booted.memory.txt", &map, name,
		       sizeof(name)) && !load_sections(&map) &&
	     !bench_map(name, map.count, 4096, 1, NULL, &maple[1]);
	tap(ok, "bench of q35_big.booted.memory ran");
	res = read_results();
	ok = res && !strstr(res, "\nE ") && strncmp(res, "E ", 2);
	for (p = res; !ok && p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, "E ", 2))
			printf("# %.*s\n", (int)strcspn(p, "\n"), p);
	tap(ok, "no error lines");
	if (!res)
		res = strdup("");
	check_bench(res, "synth-256", 256, maple[0]);
	check_bench(res, name, map.count, maple[1]);
	free(res);

	ok = !ctl("synth 1000 2") && !ctl("commit commit-1000");
	res = read_results();
	p = res ? strstr(res, "C map=commit-1000 ") : NULL;
	if (p)
		sscanf(p,
		       "C map=commit-1000 sections=%llu add_ns=%*u commit_ns=%*u bytes=%llu nodes=%llu",
		       &n, &bytes, &nodes);
	tap(ok && p && n == 1000 && bytes > 0 && nodes > 0,
	    "commit of 1000 sections: %llu bytes, %llu nodes", bytes, nodes);
	free(res);
	ctl("clear");

	bad = ioctl_path(name, &map, 4096, 2, stdout);
	tap(bad == 0,
	    "ioctl path: LOOKUP, LOOKUP_BATCH and the model agree, null ioctl is ENOTTY (%d bad)",
	    bad);
	pm_map_free(&map);

	/* the update series, which checks its own result */
	res = NULL;
	n = 0;
	f = open_memstream(&res, &len);
	ok = f && !update_series(1000, f);
	if (f)
		fclose(f);
	if (ok && res)
		sscanf(res, "U sections=%llu", &n);
	tap(ok && n == 1000, "update series of 1000 sections: %s",
	    res ? strtok(res, "\n") : "no line");
	free(res);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "full"))
		return full(argv[2]);
	if (argc == 3 && !strcmp(argv[1], "smoke"))
		return smoke(argv[2]);
	fprintf(stderr, "usage: %s full|smoke MAPDIR\n", argv[0]);
	return 2;
}
