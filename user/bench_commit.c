// SPDX-License-Identifier: GPL-2.0
/*
 * The hardening audit's two shapes, natively (make bench-user):
 * - the commit time of the DAG shape (testlib/physmap_adversarial.h) with
 *   and without depth levelling, best of 3;
 * - the sections and bytes one pending map of the memory shape holds when
 *   ADD first fails with ENOSPC under a byte bound (max_map_mb), at 4 and
 *   32 MiB (the shape has 2^20 sections), and the bytes of the map those
 *   sections make.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <linux/err.h>

#include "../physmap_tree.h"
#include "physmap_adversarial.h"
#include "knobs.h"
#include "physmap_params.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static struct pmt_pending *dag_pending(unsigned int nodes)
{
	struct dag_section *s = calloc(3 * (size_t)nodes, sizeof(*s));
	struct pmt_pending *pm = pmt_pending_create(DAG_PAGE_SHIFT);
	uint8_t *j = calloc(nodes, 1);
	unsigned int i, n;
	uint32_t index;

	if (!s || !j || !pm)
		exit(1);
	dag_choose(j, nodes);
	n = dag_sections(j, nodes, s);
	for (i = 0; i < n; i++) {
		struct pmt_section sect = { .start = s[i].start,
					     .size = s[i].size, .cookie = i };

		if (pmt_pending_add(pm, &sect, PM_MAX_SECTIONS_DEFAULT,
				    UINT64_MAX, &index)) {
			fprintf(stderr, "bench_commit: ADD %u failed\n", i);
			exit(1);
		}
	}
	free(s);
	free(j);
	return pm;
}

/* Best of 3 commits of @pm; *@nodes is set to the map's node count. */
static double best_commit(const struct pmt_pending *pm, bool levelling,
			  uint32_t *nodes)
{
	double best = 1e9, t;
	struct pmt_map *map;
	int run;

	physmap_knob_levelling = levelling;
	for (run = 0; run < 3; run++) {
		t = now_s();
		map = pmt_commit(pm, 1, UINT64_MAX);
		t = now_s() - t;
		if (IS_ERR(map))
			exit(1);
		*nodes = map->nr_nodes;
		pmt_map_free(map);
		best = t < best ? t : best;
	}
	physmap_knob_levelling = true;
	return best;
}

/*
 * Sections of the memory shape added before ENOSPC (no section count bound),
 * the bytes held, and the bytes of the map they make.
 */
static void mem_bound(unsigned int page_shift, uint64_t max_mb)
{
	struct pmt_pending *pm = pmt_pending_create(page_shift);
	struct pmt_map *map;
	uint32_t k, index;
	int ret = 0;

	for (k = 0; !ret; k++) {
		struct pmt_section sect = { .cookie = k };

		mem_section(k, &sect.start, &sect.size);
		ret = pmt_pending_add(pm, &sect, UINT32_MAX, max_mb << 20,
				      &index);
	}
	map = pmt_commit(pm, 1, UINT64_MAX);
	if (IS_ERR(map)) {
		fprintf(stderr, "bench_commit: COMMIT failed\n");
		exit(1);
	}
	printf("memory shape, page_shift %u, max_map_mb %" PRIu64 ": %u sections, %zu bytes (%.1f MiB) pending at the first ENOSPC (ret %d); their map %zu bytes (%.1f MiB)\n",
	       page_shift, max_mb, pmt_pending_sections(pm),
	       pmt_pending_bytes(pm),
	       pmt_pending_bytes(pm) / 1048576.0, ret, map->bytes,
	       map->bytes / 1048576.0);
	pmt_map_free(map);
	pmt_pending_free(pm);
}

int main(int argc, char **argv)
{
	unsigned int nodes = argc > 1 ? atoi(argv[1]) : DAG_NODES;
	struct pmt_pending *pm = dag_pending(nodes);
	uint32_t plain_nodes, levelled_nodes;
	double plain, levelled;

	plain = best_commit(pm, false, &plain_nodes);
	levelled = best_commit(pm, true, &levelled_nodes);
	printf("DAG shape, %u sections: commit %.3f s without levelling (%u nodes), %.3f s with (%u nodes): %.2fx\n",
	       pmt_pending_sections(pm), plain, plain_nodes, levelled,
	       levelled_nodes, levelled / plain);
	pmt_pending_free(pm);
	mem_bound(10, 4);
	mem_bound(10, 32);
	return 0;
}
