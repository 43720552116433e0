// SPDX-License-Identifier: GPL-2.0
/*
 * Differential fuzzer of the tree core: the input becomes a page_shift, a
 * list of sections (aligned, unaligned, one-byte, huge, adjacent, near the
 * top of the space), removals and addresses. Every ADD and REMOVE is held
 * against a model of sorted ranges (EINVAL, EEXIST, ENOENT or success, and
 * the lowest free index for ADD), the map is committed, and every lookup
 * is held against the model's binary search. Before a REMOVE whose record
 * is a multiple of 4, the map is also committed as an update
 * (pmt_commit_update()), the pending map
 * kept for what follows, and checked: the first such commit builds in
 * full, the next ones build what changed, and the last map is checked
 * both ways, as an update and as a full build.
 *
 * Built with libFuzzer (clang -fsanitize=fuzzer), or with replay_main.c as a
 * plain program that replays files, for sanitizers and valgrind.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/err.h>

#include "../physmap_tree.h"
#include "fuzz_input.h"

#define MAX_SECTIONS	512
#define MAX_PROBES	1024

struct model_range {
	uint64_t start, last;
	uint32_t index;
};

struct model {
	struct model_range r[MAX_SECTIONS];
	unsigned int n;
	bool held[MAX_SECTIONS + 2];	/* by index */
};

/* The index the next ADD gets: the lowest that no section holds. */
static uint32_t model_next_index(const struct model *m)
{
	uint32_t i = 1;

	while (m->held[i])
		i++;
	return i;
}

/* Position of the first range starting above @addr. */
static unsigned int model_upper(const struct model *m, uint64_t addr)
{
	unsigned int lo = 0, hi = m->n;

	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;

		if (m->r[mid].start <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static uint32_t model_lookup(const struct model *m, uint64_t addr)
{
	unsigned int i = model_upper(m, addr);

	if (i && addr <= m->r[i - 1].last)
		return m->r[i - 1].index;
	return PMT_UNASSIGNED;
}

static int model_add(struct model *m, uint64_t start, uint64_t size,
		     uint32_t index)
{
	uint64_t last;
	unsigned int i;

	if (!size || start + (size - 1) < start)
		return -EINVAL;
	last = start + (size - 1);
	i = model_upper(m, last);
	/* The range just below @last must end before @start. */
	if (i && m->r[i - 1].last >= start)
		return -EEXIST;
	if (index == PMT_UNASSIGNED)
		return 0;	/* only asked */
	memmove(&m->r[i + 1], &m->r[i], (m->n - i) * sizeof(m->r[0]));
	m->r[i] = (struct model_range){ start, last, index };
	m->n++;
	m->held[index] = true;
	return 0;
}

static void fail(const char *what, uint64_t a, uint64_t b, uint64_t c)
{
	fprintf(stderr, "fuzz_tree: %s: %#" PRIx64 " %#" PRIx64 " %#" PRIx64 "\n",
		what, a, b, c);
	abort();
}

/* REMOVE of record @which against the model: the map's result must match. */
static void remove_one(struct pmt_pending *pm, struct model *m, uint64_t which)
{
	unsigned int pos = which % (m->n + 1);
	uint32_t index;
	int want, ret;

	if (which == 0xffff) {
		index = PMT_UNASSIGNED;
		want = -ENOENT;
	} else if (pos == m->n) {
		index = model_next_index(m);
		want = -ENOENT;
	} else {
		index = m->r[pos].index;
		want = 0;
	}
	ret = pmt_pending_remove(pm, index);
	if (ret != want)
		fail("remove (index, want, got)", index, (uint64_t)want,
		     (uint64_t)ret);
	if (ret)
		return;
	m->held[index] = false;
	memmove(&m->r[pos], &m->r[pos + 1], (m->n - pos - 1) * sizeof(m->r[0]));
	m->n--;
}

static void check(const struct pmt_map *map, const struct model *m,
		  uint64_t addr)
{
	uint32_t want = model_lookup(m, addr);
	uint32_t got = pmt_map_lookup(map, addr);

	if (want != got)
		fail("lookup (addr, want, got)", addr, want, got);
}

/* Every range's edges and middle, and addresses through skipped levels. */
static void check_all(const struct pmt_map *map, const struct model *m)
{
	unsigned int i;

	for (i = 0; i < m->n; i++) {
		const struct model_range *r = &m->r[i];

		check(map, m, r->start);
		check(map, m, r->last);
		check(map, m, r->start - 1);
		check(map, m, r->last + 1);
		check(map, m, r->start + (r->last - r->start) / 2);
		/* Same low bits, other upper levels: through skipped levels. */
		check(map, m, r->start ^ (1ULL << (20 + i % 44)));
		check(map, m, r->last ^ (1ULL << (12 + (i * 7) % 52)));
		if (!pmt_map_section(map, r->index) ||
		    pmt_map_section(map, r->index)->start != r->start)
			fail("section (index, start, -)", r->index, r->start, 0);
	}
}

/* Commit @pm as an update of *@map, keeping it, and check the new map. */
static void commit_kept(struct pmt_pending *pm, struct pmt_map **map,
			const struct model *m, uint64_t generation)
{
	struct pmt_map *next = pmt_commit_update(pm, *map, generation,
						 UINT64_MAX);

	if (IS_ERR(next))
		fail("commit_update", m->n, generation, 0);
	pmt_map_free(*map);
	*map = next;
	check_all(next, m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct model m;
	static uint64_t probes[MAX_PROBES];
	struct fuzz_input in = { data, size };
	unsigned int nprobes = 0, i, shift;
	struct pmt_map *map, *kept = NULL;
	uint64_t prev_end = 0, generation = 1;
	struct pmt_pending *pm;

	m.n = 0;
	memset(m.held, 0, sizeof(m.held));
	shift = PMT_PAGE_SHIFT_MIN +
		fuzz_u8(&in) % (PMT_PAGE_SHIFT_MAX - PMT_PAGE_SHIFT_MIN + 1);
	pm = pmt_pending_create(shift);
	if (!pm)
		return 0;

	while (in.size && m.n < MAX_SECTIONS && nprobes < MAX_PROBES) {
		struct fuzz_record rec;
		struct pmt_section s = { 0 };
		uint32_t index = 0;
		int want, ret;

		if (!fuzz_record(&in, shift, prev_end, &rec))
			break;
		if (rec.probe) {
			probes[nprobes++] = rec.start;
			continue;
		}
		if (rec.remove) {
			/* Now and then a commit first, as the record says. */
			if (!(rec.start & 3))
				commit_kept(pm, &kept, &m, generation++);
			remove_one(pm, &m, rec.start);
			continue;
		}
		s.start = rec.start;
		s.size = rec.size;
		s.cookie = m.n;
		want = model_add(&m, s.start, s.size, PMT_UNASSIGNED);
		ret = pmt_pending_add(pm, &s, MAX_SECTIONS, UINT64_MAX, &index);
		if (ret != want)
			fail("add (start, size, ret)", s.start, s.size, (uint64_t)ret);
		if (ret)
			continue;
		if (index != model_next_index(&m))
			fail("index (start, want, got)", s.start,
			     model_next_index(&m), index);
		model_add(&m, s.start, s.size, index);
		prev_end = s.start + (s.size - 1);
	}

	map = pmt_commit(pm, 1, UINT64_MAX);
	if (IS_ERR(map))
		fail("commit", m.n, 0, 0);
	check_all(map, &m);
	for (i = 0; i < nprobes; i++)
		check(map, &m, probes[i]);
	pmt_map_free(map);
	if (kept) {
		commit_kept(pm, &kept, &m, generation);
		for (i = 0; i < nprobes; i++)
			check(kept, &m, probes[i]);
		pmt_map_free(kept);
	}
	pmt_pending_free(pm);
	return 0;
}
