/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Two adversarial map shapes from the hardening audit, shared by the guest
 * selftests and the native benchmark (user/bench_commit.c).
 *
 * DAG: at page_shift 16 (8 levels of 64-entry nodes), three sections per
 * depth-4 node give it two child nodes and 62 empty slots. Depth levelling
 * turns those empty slots into references to one shared node, so a walk of
 * the published tree that does not count shared nodes once visits it 62
 * times per depth-4 node. dag_choose() places the two child nodes so that
 * commit's samples split between two visit counts and levelling applies.
 *
 * Memory: sections whose two unaligned ends fall in different subtrees,
 * spread over the whole address space, so that each end needs a path of
 * nodes of its own (about 11 nodes per section at page_shift 10).
 */
#ifndef _PHYSMAP_ADVERSARIAL_H
#define _PHYSMAP_ADVERSARIAL_H

#include <stdint.h>

#define DAG_PAGE_SHIFT	16
/* Bytes per entry of a level-3 node. */
#define DAG_L3_BYTES	(1ULL << (18 + DAG_PAGE_SHIFT))
#define DAG_NODES	262144	/* depth-4 nodes: 786,432 sections */

struct dag_section {
	uint64_t start, size;
};

/* The first page of depth-4 node @n. */
static inline uint64_t dag_node_base(uint32_t n)
{
	return (uint64_t)n << 30;
}

static inline uint32_t dag_hash32(uint32_t v, unsigned int bits)
{
	return v * 0x61C88647U >> (32 - bits);
}

/* (@a * @b) >> 32 without a 128-bit type, for 32-bit builds too. */
static inline uint64_t mul_shr32(uint64_t a, uint32_t b)
{
	return (a >> 32) * b + (((a & 0xffffffffULL) * b) >> 32);
}

/*
 * Choose @j[n], the level-4 slot of node n's first child (the second is at
 * j + 1), so that half of commit's 1,024 samples over the span land in a
 * child and half do not.
 */
static inline void dag_choose(uint8_t *j, unsigned int nodes)
{
	uint64_t first, last, addr, page;
	uint32_t i, frac, node, slot;
	unsigned int n;

	for (n = 0; n < nodes; n++)
		j[n] = 30;
	first = (dag_node_base(0) + (30ULL << 24) + 62ULL * (1 << 18)) <<
		DAG_PAGE_SHIFT;
	last = ((dag_node_base(nodes - 1) + (30ULL << 24) +
		 66ULL * (1 << 18)) << DAG_PAGE_SHIFT) - 1;
	for (i = 0; i < 1024; i++) {
		frac = i << 22 | dag_hash32(i, 22);
		addr = first + mul_shr32(last - first, frac);
		page = addr >> DAG_PAGE_SHIFT;
		node = page >> 30;
		slot = (page >> 24) & 63;
		if (node == 0 || node == nodes - 1)
			continue;
		if (i & 1)
			j[node] = slot == 63 ? 62 : slot;
		else if (slot >= 28 && slot <= 33)
			j[node] = slot < 31 ? 40 : 10;
	}
}

/* Three sections per depth-4 node into @s; returns how many. */
static inline unsigned int dag_sections(const uint8_t *j, unsigned int nodes,
					struct dag_section *s)
{
	unsigned int n, k = 0;
	uint64_t base;

	for (n = 0; n < nodes; n++) {
		base = (dag_node_base(n) + ((uint64_t)j[n] << 24)) <<
		       DAG_PAGE_SHIFT;
		s[k++] = (struct dag_section){ base + 62 * DAG_L3_BYTES,
					       DAG_L3_BYTES };
		s[k++] = (struct dag_section){ base + 63 * DAG_L3_BYTES,
					       2 * DAG_L3_BYTES };
		s[k++] = (struct dag_section){ base + 65 * DAG_L3_BYTES,
					       DAG_L3_BYTES };
	}
	return k;
}

/* Section @k of the memory shape: @k spread over 2^64 by bit reversal. */
static inline void mem_section(uint32_t k, uint64_t *start, uint64_t *size)
{
	uint64_t r = 0;
	int b;

	for (b = 0; b < 20; b++)
		if (k & (1U << b))
			r |= 1ULL << (63 - b);
	*start = r + 0x12345ULL * 1024 + 1;
	*size = (1ULL << 43) + 0x777;
}

#endif /* _PHYSMAP_ADVERSARIAL_H */
