// SPDX-License-Identifier: GPL-2.0
/*
 * Writes the fuzzer's seed corpus: every map file named, as RAW records
 * followed by PROBE records for its edges, once per page_shift 10, 12, 16;
 * and once more at page_shift 12 as an update: the map, then every other
 * section removed (REMOVE records) and added again in descending order,
 * then the probes.
 *
 *	mkcorpus OUTDIR MAPFILE...
 */
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "physmap_maps.h"
#include "fuzz_input.h"

static void put(FILE *f, uint64_t v, unsigned int bytes)
{
	while (bytes--) {
		fputc(v & 0xff, f);
		v >>= 8;
	}
}

/* The update seed of @map, read from @name, into @dir. */
static int write_update(const char *dir, char *name, const struct pm_map *map)
{
	char path[4096];
	size_t k;
	FILE *f;

	snprintf(path, sizeof(path), "%s/update-12-%s", dir, basename(name));
	f = fopen(path, "wb");
	if (!f) {
		perror(path);
		return -1;
	}
	put(f, 12 - 10, 1);
	for (k = 0; k < map->count; k++) {
		put(f, FUZZ_RAW, 1);
		put(f, map->ranges[k].start, 8);
		put(f, map->ranges[k].last - map->ranges[k].start + 1, 8);
	}
	/* Remove ranges 0, 2, 4, ...: each is at position k / 2 by then. */
	for (k = 0; k < map->count; k += 2) {
		put(f, FUZZ_REMOVE, 1);
		put(f, k / 2, 2);
	}
	for (k = (map->count - 1) & ~(size_t)1; k < map->count; k -= 2) {
		put(f, FUZZ_RAW, 1);
		put(f, map->ranges[k].start, 8);
		put(f, map->ranges[k].last - map->ranges[k].start + 1, 8);
	}
	for (k = 0; k < map->count; k++) {
		put(f, FUZZ_PROBE, 1);
		put(f, map->ranges[k].last + 1, 8);
	}
	fclose(f);
	return 0;
}

int main(int argc, char **argv)
{
	static const unsigned int shifts[] = { 10, 12, 16 };
	char err[4200], path[4096];
	int i;

	if (argc < 3) {
		fprintf(stderr, "usage: mkcorpus OUTDIR MAPFILE...\n");
		return 1;
	}
	for (i = 2; i < argc; i++) {
		struct pm_map map;
		unsigned int s;
		size_t k;

		pm_map_init(&map);
		if (pm_map_load(&map, argv[i], 0, err, sizeof(err))) {
			fprintf(stderr, "mkcorpus: %s\n", err);
			return 2;
		}
		if (write_update(argv[1], argv[i], &map))
			return 2;
		for (s = 0; s < 3; s++) {
			FILE *f;

			snprintf(path, sizeof(path), "%s/map-%u-%s", argv[1],
				 shifts[s], basename(argv[i]));
			f = fopen(path, "wb");
			if (!f) {
				perror(path);
				return 2;
			}
			put(f, shifts[s] - 10, 1);
			for (k = 0; k < map.count; k++) {
				put(f, FUZZ_RAW, 1);
				put(f, map.ranges[k].start, 8);
				put(f, map.ranges[k].last - map.ranges[k].start + 1, 8);
			}
			for (k = 0; k < map.count; k++) {
				put(f, FUZZ_PROBE, 1);
				put(f, map.ranges[k].last + 1, 8);
			}
			fclose(f);
		}
		pm_map_free(&map);
	}
	return 0;
}
