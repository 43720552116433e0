/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The fuzzer's input format, shared by the fuzzer and by mkcorpus, which
 * writes the real QEMU maps in it.
 *
 *	u8 page_shift selector, then records: u8 kind, then kind's payload
 *	(little endian):
 *
 *	RAW	  u64 start, u64 size	a section exactly as given
 *	ALIGNED	  u32 page, u8 pages	whole pages
 *	ADJACENT  u8 gap, u32 size	right after the previous section
 *	BYTE	  u64 start		one byte
 *	HUGE	  u16 slot, u8 log2	2^log2 bytes at slot << 40
 *	PROBE	  u64 addr		an address to look up
 *	SUBPAGE	  u32 page, u16 off, u8 len	a piece of one page
 *	TOP	  u32 below, u32 size	near 2^64 - 1
 *	REMOVE	  u16 which		take a section out (kind byte 0xff only)
 *
 * A kind byte is taken modulo FUZZ_KINDS, except 0xff, REMOVE: @which
 * modulo the sections held plus one picks a section by address, or last
 * an index no section holds; 0xffff is index 0. mkcorpus writes kind
 * bytes below FUZZ_KINDS only, so REMOVE changed none of its inputs.
 */
#ifndef _PHYSMAP_FUZZ_INPUT_H
#define _PHYSMAP_FUZZ_INPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum fuzz_kind {
	FUZZ_RAW, FUZZ_ALIGNED, FUZZ_ADJACENT, FUZZ_BYTE, FUZZ_HUGE,
	FUZZ_PROBE, FUZZ_SUBPAGE, FUZZ_TOP, FUZZ_KINDS,
	FUZZ_REMOVE = 0xff
};

struct fuzz_input {
	const uint8_t *data;
	size_t size;
};

struct fuzz_record {
	bool probe;
	bool remove;
	uint64_t start;
	uint64_t size;
};

/* Little-endian unsigned of @bytes bytes; missing bytes read as 0. */
static inline uint64_t fuzz_take(struct fuzz_input *in, unsigned int bytes)
{
	uint64_t v = 0;
	unsigned int i;

	for (i = 0; i < bytes && in->size; i++, in->data++, in->size--)
		v |= (uint64_t)in->data[0] << (8 * i);
	return v;
}

static inline uint8_t fuzz_u8(struct fuzz_input *in)
{
	return fuzz_take(in, 1);
}

/* Decode one record; false at the end of the input. */
static inline bool fuzz_record(struct fuzz_input *in, unsigned int shift,
			       uint64_t prev_end, struct fuzz_record *rec)
{
	uint64_t page = 1ULL << shift;

	uint8_t kind;

	if (!in->size)
		return false;
	rec->probe = false;
	rec->remove = false;
	kind = fuzz_u8(in);
	if (kind == FUZZ_REMOVE) {
		rec->remove = true;
		rec->start = fuzz_take(in, 2);
		rec->size = 0;
		return true;
	}
	switch (kind % FUZZ_KINDS) {
	case FUZZ_RAW:
		rec->start = fuzz_take(in, 8);
		rec->size = fuzz_take(in, 8);
		break;
	case FUZZ_ALIGNED:
		rec->start = fuzz_take(in, 4) << shift;
		rec->size = (1 + fuzz_take(in, 1)) * page;
		break;
	case FUZZ_ADJACENT:
		rec->start = prev_end + 1 + fuzz_take(in, 1);
		rec->size = 1 + fuzz_take(in, 4);
		break;
	case FUZZ_BYTE:
		rec->start = fuzz_take(in, 8);
		rec->size = 1;
		break;
	case FUZZ_HUGE:
		rec->start = fuzz_take(in, 2) << 40;
		rec->size = 1ULL << (fuzz_take(in, 1) % 64);
		break;
	case FUZZ_PROBE:
		rec->probe = true;
		rec->start = fuzz_take(in, 8);
		rec->size = 0;
		break;
	case FUZZ_SUBPAGE:
		rec->start = (fuzz_take(in, 4) << shift) +
			     fuzz_take(in, 2) % page;
		rec->size = 1 + fuzz_take(in, 1);
		break;
	default:
		rec->start = ~0ULL - fuzz_take(in, 4);
		rec->size = 1 + fuzz_take(in, 4);
		break;
	}
	return true;
}

#endif /* _PHYSMAP_FUZZ_INPUT_H */
