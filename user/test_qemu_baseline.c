// SPDX-License-Identifier: GPL-2.0
/*
 * The QEMU baseline (qemu_baseline.c) against QEMU's own dispatch dumps.
 *
 *	test_qemu_baseline DISPATCH...
 *
 * For each testdata/qemu-7.2/<config>.dispatch.txt (QEMU 7.2's
 * `info mtree -f -d`), the flat views of the system memory and I/O address
 * spaces are read from <config>.memory.txt and <config>.io.txt with the
 * project's map-file parser, built into the baseline and compacted, and
 * held against the dump's dispatch of the same view (the flat view with
 * AS "memory", the one with AS "I/O"):
 *
 * - the counts: sections, nodes (orphans included), nodes reachable from
 *   the root, sub-pages;
 * - node for node: the root entry and all 512 entries of every node;
 * - section for section: the range of each, and which ones are sub-pages.
 *
 * Then every range's first and last byte, the bytes around them and random
 * addresses are looked up: the full lookup must answer the range the map
 * file has there, the tree walk alone the same or the page's sub-page.
 * Exits 1 on any difference.
 */
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "physmap_maps.h"
#include "qemu_baseline.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define MAX_NODES	4096
#define MAX_SECTIONS	4096
#define RANDOM_LOOKUPS	20000

struct dump_section {
	u64 start, last;
	bool subpage;		/* "(noname)", a sub-page's own section */
};

/* One flat view's dispatch as the dump prints it. */
struct dump_view {
	bool memory, io;	/* it has AS "memory", AS "I/O" */
	bool has_dispatch;
	struct qb_entry root;
	struct dump_section *sections;
	u32 nr_sections;
	struct qb_entry (*nodes)[QB_NODE_SLOTS];
	u32 nr_nodes;
	bool filled[MAX_NODES];
};

static int failures;

#define fail(...) do {						\
		fprintf(stderr, "qemu_baseline: " __VA_ARGS__);	\
		failures++;					\
	} while (0)

static void view_init(struct dump_view *v)
{
	memset(v, 0, sizeof(*v));
	v->sections = calloc(MAX_SECTIONS, sizeof(*v->sections));
	v->nodes = calloc(MAX_NODES, sizeof(*v->nodes));
	if (!v->sections || !v->nodes)
		exit(2);
}

static void view_free(struct dump_view *v)
{
	free(v->sections);
	free(v->nodes);
}

/* "ptr=NIL", "ptr=#N" (a leaf) or "ptr=[N]" (a node) with its skip. */
static int parse_ptr(const char *s, unsigned int skip, struct qb_entry *e)
{
	unsigned int n;

	e->skip = skip;
	if (!strncmp(s, "NIL", 3)) {
		e->ptr = QB_NIL;
		return 0;
	}
	if ((sscanf(s, "#%u", &n) == 1 && skip == 0) ||
	    (sscanf(s, "[%u]", &n) == 1 && skip > 0)) {
		e->ptr = n;
		return 0;
	}
	return -1;
}

/*
 * Read from @f the dispatch of the flat view that has AS @as. Returns 0, or
 * -1 if there is none.
 */
static int read_dump(const char *path, const char *as, struct dump_view *v)
{
	char line[512], want[64], *p;
	bool in_view = false, found = false;
	int node = -1;
	FILE *f = fopen(path, "r");

	if (!f) {
		perror(path);
		exit(2);
	}
	snprintf(want, sizeof(want), " AS \"%s\",", as);
	while (fgets(line, sizeof(line), f)) {
		unsigned long long a, b;
		unsigned int n, first, last, skip;
		struct qb_entry e;

		if (!strncmp(line, "FlatView #", 10)) {
			if (found)
				break;
			in_view = false;
			continue;
		}
		if (!strncmp(line, want, strlen(want))) {
			in_view = true;
			found = true;
			continue;
		}
		if (!in_view)
			continue;
		if (sscanf(line, "      #%u @%llx..%llx", &n, &a, &b) == 3) {
			if (n != v->nr_sections || n >= MAX_SECTIONS)
				goto bad;
			v->sections[n].start = a;
			v->sections[n].last = b;
			v->sections[n].subpage = n && strstr(line, " (noname)");
			v->nr_sections++;
			continue;
		}
		p = strstr(line, "Nodes (");
		if (p) {
			p = strstr(p, "ptr=");
			if (!p || sscanf(strstr(p, "skip="), "skip=%u", &skip) != 1 ||
			    parse_ptr(p + 4, skip, &v->root))
				goto bad;
			v->has_dispatch = true;
			continue;
		}
		if (sscanf(line, "      [%u]", &n) == 1 && !strchr(line, '@')) {
			if (n != v->nr_nodes || n >= MAX_NODES)
				goto bad;
			node = n;
			v->nr_nodes++;
			continue;
		}
		if (line[0] == '\t' && node >= 0) {
			p = strstr(line, "skip=");
			if (!p || sscanf(p, "skip=%u", &skip) != 1 ||
			    !strstr(p, "ptr=") ||
			    parse_ptr(strstr(p, "ptr=") + 4, skip, &e))
				goto bad;
			if (sscanf(line, "\t%u..%u", &first, &last) != 2) {
				if (sscanf(line, "\t%u", &first) != 1)
					goto bad;
				last = first;
			}
			if (first > last || last >= QB_NODE_SLOTS)
				goto bad;
			for (n = first; n <= last; n++)
				v->nodes[node][n] = e;
			if (last == QB_NODE_SLOTS - 1)
				v->filled[node] = true;
		}
	}
	fclose(f);
	return found && v->has_dispatch ? 0 : -1;
bad:
	fprintf(stderr, "qemu_baseline: %s: cannot parse: %s", path, line);
	exit(2);
}

/* Nodes reachable from @e in the dump, counted once each. */
static u32 dump_reachable(const struct dump_view *v, struct qb_entry e,
			  u8 *seen)
{
	u32 n = 1, i;

	if (!e.skip || e.ptr == QB_NIL || e.ptr >= v->nr_nodes || seen[e.ptr])
		return 0;
	seen[e.ptr] = 1;
	for (i = 0; i < QB_NODE_SLOTS; i++)
		n += dump_reachable(v, v->nodes[e.ptr][i], seen);
	return n;
}

static bool entry_eq(struct qb_entry a, struct qb_entry b)
{
	return a.skip == b.skip && a.ptr == b.ptr;
}

/* Node for node and section for section; counts compared by the caller. */
static void compare_structure(const char *what, const struct qb_dispatch *d,
			      const struct dump_view *v)
{
	u32 i, j;

	if (!entry_eq(d->root, v->root))
		fail("%s: root skip=%u ptr=%u, QEMU's skip=%u ptr=%u\n", what,
		     d->root.skip, d->root.ptr, v->root.skip, v->root.ptr);
	for (i = 0; i < d->nr_nodes && i < v->nr_nodes; i++) {
		if (!v->filled[i]) {
			fail("%s: node [%u] incomplete in the dump\n", what, i);
			continue;
		}
		for (j = 0; j < QB_NODE_SLOTS; j++) {
			if (entry_eq(d->nodes[i][j], v->nodes[i][j]))
				continue;
			fail("%s: node [%u] entry %u: skip=%u ptr=%u, QEMU's skip=%u ptr=%u\n",
			     what, i, j, d->nodes[i][j].skip, d->nodes[i][j].ptr,
			     v->nodes[i][j].skip, v->nodes[i][j].ptr);
			break;
		}
	}
	for (i = 1; i < d->nr_sections && i < v->nr_sections; i++) {
		const struct qb_section *s = &d->sections[i];

		if (s->start != v->sections[i].start ||
		    s->start + (u64)s->size - 1 != v->sections[i].last ||
		    s->mr->subpage != v->sections[i].subpage) {
			fail("%s: section #%u %#" PRIx64 "..%#" PRIx64
			     "%s, QEMU's %#" PRIx64 "..%#" PRIx64 "%s\n",
			     what, i, s->start,
			     s->start + (u64)s->size - 1,
			     s->mr->subpage ? " (sub-page)" : "",
			     v->sections[i].start, v->sections[i].last,
			     v->sections[i].subpage ? " (sub-page)" : "");
			break;
		}
	}
}

/*
 * One address: the full lookup answers the map's range, the walk the same
 * section or the page's sub-page. Returns false, having said so, if not.
 */
static bool check_addr(const char *what, struct qb_dispatch *d,
		       const struct pm_map *map, u64 addr)
{
	const struct qb_section *full = qb_lookup(d, addr);
	const struct qb_section *find = qb_find(d, addr);
	u32 want = pm_model_index(map, addr);

	if (full->mr->id != want) {
		fail("%s: lookup %#" PRIx64 ": range %u, the map has %u\n",
		     what, addr, full->mr->id, want);
		return false;
	}
	if (find != full && !find->mr->subpage) {
		fail("%s: find %#" PRIx64 ": section #%u, lookup #%u\n", what,
		     addr, qb_section_index(d, find), qb_section_index(d, full));
		return false;
	}
	return true;
}

/* Edges of every range, then random addresses; stops at the first miss. */
static void check_lookups(const char *what, struct qb_dispatch *d,
			  const struct pm_map *map)
{
	static const long long around[] = { -4097, -4096, -1, 0, 1, 4096 };
	const size_t n_around = ARRAY_SIZE(around);
	const struct pm_range *r;
	__u64 seed = 1, addr;
	size_t i;

	for (i = 0; i < map->count * n_around; i++) {
		r = &map->ranges[i / n_around];
		if (!check_addr(what, d, map, r->start + around[i % n_around]) ||
		    !check_addr(what, d, map, r->last + around[i % n_around]))
			return;
	}
	for (i = 0; i < RANDOM_LOOKUPS; i++) {
		r = &map->ranges[pm_rand64(&seed) % map->count];
		addr = r->start + pm_rand64(&seed) % (r->last - r->start + 1);
		if (!check_addr(what, d, map, addr))
			return;
		addr = pm_rand64(&seed) >> (pm_rand64(&seed) % 64);
		if (!check_addr(what, d, map, addr))
			return;
	}
}

/* One map/space pair. Returns true if it matched. */
static bool check_pair(const char *dispatch, const char *space,
		       const char *as)
{
	char path[4096], what[256], err[4200], *dot;
	int before = failures;
	struct qb_dispatch *d;
	struct dump_view v;
	struct qb_stats st;
	struct pm_map map;
	u32 reachable;
	u8 *seen;
	size_t i;

	snprintf(path, sizeof(path), "%s", dispatch);
	dot = strstr(path, ".dispatch.txt");
	if (!dot) {
		fail("%s: not a .dispatch.txt file\n", dispatch);
		return false;
	}
	snprintf(dot, sizeof(path) - (dot - path), ".%s.txt", space);
	snprintf(what, sizeof(what), "%s", basename(path));

	pm_map_init(&map);
	if (pm_map_load(&map, path, 0, err, sizeof(err)) ||
	    pm_model_build(&map, NULL)) {
		fail("%s: %s\n", what, err);
		return false;
	}
	d = qb_create();
	if (!d)
		exit(2);
	/* Flat views list their ranges in address order, as QEMU adds them. */
	for (i = 0; i < map.count; i++) {
		const struct pm_range *r = map.sorted[i];

		if (qb_add(d, r->start, r->last, r->index, r->offset)) {
			fail("%s: cannot add range %u\n", what, r->index);
			goto out;
		}
	}
	qb_compact(d);
	qb_stats(d, &st);

	view_init(&v);
	if (read_dump(dispatch, as, &v)) {
		fail("%s: no dispatch of AS \"%s\" in %s\n", what, as, dispatch);
		view_free(&v);
		goto out;
	}
	seen = calloc(v.nr_nodes + 1, 1);
	reachable = dump_reachable(&v, v.root, seen);
	free(seen);
	{
		u32 dump_subpages = 0;

		for (i = 0; i < v.nr_sections; i++)
			dump_subpages += v.sections[i].subpage;
		if (st.sections != v.nr_sections || st.nodes != v.nr_nodes ||
		    st.reachable != reachable || st.subpages != dump_subpages)
			fail("%s: sections %u nodes %u reachable %u subpages %u, QEMU's %u %u %u %u\n",
			     what, st.sections, st.nodes, st.reachable,
			     st.subpages, v.nr_sections, v.nr_nodes, reachable,
			     dump_subpages);
	}
	compare_structure(what, d, &v);
	view_free(&v);
	check_lookups(what, d, &map);
	printf("qemu_baseline: %-32s sections %4u nodes %3u (%3u reachable) subpages %3u bytes %8" PRIu64 ": %s\n",
	       what, st.sections, st.nodes, st.reachable, st.subpages,
	       st.bytes, failures == before ? "ok" : "MISMATCH");
out:
	qb_free(d);
	pm_map_free(&map);
	return failures == before;
}

int main(int argc, char **argv)
{
	int i, pairs = 0, matched = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s DISPATCH...\n", argv[0]);
		return 2;
	}
	for (i = 1; i < argc; i++) {
		matched += check_pair(argv[i], "memory", "memory");
		matched += check_pair(argv[i], "io", "I/O");
		pairs += 2;
	}
	printf("qemu_baseline: %d of %d map/space pairs match QEMU's dispatch dumps\n",
	       matched, pairs);
	return matched == pairs && !failures ? 0 : 1;
}
