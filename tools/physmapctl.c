// SPDX-License-Identifier: GPL-2.0
/*
 * physmapctl - load a map file into /dev/physmap and query it
 *
 *	physmapctl lookup [--page-shift N] FILE ADDR...
 *	physmapctl stats [--page-shift N] FILE
 *
 * FILE is a map in the format of testdata/README.md. Every line becomes a
 * section of a new address space (cookie: the line number; offset: the
 * line's @offset), which is committed and then queried.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "physmap_maps.h"

#define EXIT_USAGE	1
#define EXIT_FILE	2
#define EXIT_DEVICE	3

static const char usage_text[] =
	"usage: physmapctl lookup [--page-shift N] FILE ADDR...\n"
	"       physmapctl stats [--page-shift N] FILE\n"
	"       physmapctl --help\n"
	"\n"
	"Loads FILE, a map of lines \"<start> <last> <kind> <name> [@<offset>]\"\n"
	"(hex, last inclusive), into a new " PHYSMAP_DEV " address space, one\n"
	"section per line with the line number as cookie, and commits it.\n"
	"\n"
	"  lookup  print, for each ADDR (hex, 0x optional), the section covering\n"
	"          it: [start-last], name, cookie and the offset of ADDR within\n"
	"          its region; or \"unassigned\"\n"
	"  stats   print the shape and size of the committed map\n"
	"\n"
	"  --page-shift N  page size of the tree: 0 (12), or 10..16\n"
	"\n"
	"Exit status: 0 ok, 1 usage error, 2 error in FILE, 3 device error.\n";

static int usage_error(const char *fmt, const char *arg)
{
	fputs("physmapctl: ", stderr);
	fprintf(stderr, fmt, arg);
	fputs("\nTry 'physmapctl --help'.\n", stderr);
	return EXIT_USAGE;
}

/* hex, with or without 0x, at most 64 bits */
static int parse_addr(const char *s, __u64 *addr)
{
	__u64 v = 0;
	const char *p;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	if (!*s)
		return -1;
	for (p = s; *p; p++) {
		int digit;

		if (*p >= '0' && *p <= '9')
			digit = *p - '0';
		else if (*p >= 'a' && *p <= 'f')
			digit = *p - 'a' + 10;
		else if (*p >= 'A' && *p <= 'F')
			digit = *p - 'A' + 10;
		else
			return -1;
		if (v >> 60)
			return -1;
		v = (v << 4) | digit;
	}
	*addr = v;
	return 0;
}

static int parse_page_shift(const char *s, __u32 *page_shift)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || *s == '-' ||
	    (v && (v < PHYSMAP_PAGE_SHIFT_MIN || v > PHYSMAP_PAGE_SHIFT_MAX)))
		return -1;
	*page_shift = v;
	return 0;
}

static int open_device(void)
{
	int fd = open(PHYSMAP_DEV, O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		int err = errno;

		fprintf(stderr, "physmap: cannot open " PHYSMAP_DEV ": %s%s\n",
			strerror(err),
			err == ENOENT || err == ENODEV || err == ENXIO ?
			" (is physmap loaded? try: sudo modprobe physmap)" : "");
	}
	return fd;
}

/* BEGIN, ADD every range, COMMIT; returns an exit status */
static int publish(int fd, const char *path, const struct pm_map *map,
		   __u32 page_shift)
{
	const struct pm_range *failed;
	int ret;

	ret = pm_map_publish(fd, map, page_shift, &failed);
	if (!ret)
		return 0;
	if (!failed) {
		fprintf(stderr, "physmapctl: committing %s: %s\n", path,
			strerror(-ret));
		return EXIT_DEVICE;
	}
	fprintf(stderr, "physmapctl: %s:%u: cannot add [0x%llx-0x%llx]: %s\n",
		path, failed->line, (unsigned long long)failed->start,
		(unsigned long long)failed->last, strerror(-ret));
	/* the line itself is wrong (overlap, ...), or the device failed */
	return ret == -EINVAL || ret == -EEXIST ? EXIT_FILE : EXIT_DEVICE;
}

static int do_lookup(int fd, const struct pm_map *map, char **addrs,
		     int count)
{
	int i, ret;

	for (i = 0; i < count; i++) {
		struct physmap_lookup lookup;
		const struct physmap_section *s = &lookup.section;
		const char *name = "?";
		__u64 addr;

		/* addresses were checked before the map was loaded */
		parse_addr(addrs[i], &addr);
		ret = pm_lookup(fd, addr, &lookup);
		if (ret) {
			fprintf(stderr, "physmapctl: lookup 0x%llx: %s\n",
				(unsigned long long)addr, strerror(-ret));
			return EXIT_DEVICE;
		}
		if (s->index == PHYSMAP_UNASSIGNED) {
			printf("0x%llx unassigned\n", (unsigned long long)addr);
			continue;
		}
		if (s->index <= map->count)
			name = map->ranges[s->index - 1].name;
		printf("0x%llx [0x%llx-0x%llx] %s cookie=%llu offset=0x%llx\n",
		       (unsigned long long)addr, (unsigned long long)s->start,
		       (unsigned long long)(s->start + s->size - 1), name,
		       (unsigned long long)s->cookie,
		       (unsigned long long)(s->offset + (addr - s->start)));
	}
	return 0;
}

static int do_stats(int fd)
{
	struct physmap_stats st;
	int ret = pm_stats(fd, &st);

	if (ret) {
		fprintf(stderr, "physmapctl: stats: %s\n", strerror(-ret));
		return EXIT_DEVICE;
	}
	printf("generation:     %llu\n", (unsigned long long)st.generation);
	printf("sections:       %u\n", st.sections);
	printf("nodes:          %u\n", st.nodes);
	printf("bytes:          %llu\n", (unsigned long long)st.bytes);
	printf("page_shift:     %u\n", st.page_shift);
	printf("levels:         %u\n", st.levels);
	printf("subpages:       %u\n", st.subpages);
	printf("subpage_ranges: %u\n", st.subpage_ranges);
	printf("skip_entries:   %u\n", st.skip_entries);
	printf("skipped_levels: %u\n", st.skipped_levels);
	printf("max_depth:      %u\n", st.max_depth);
	printf("node_bytes:     %u\n", st.node_bytes);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "page-shift", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	__u32 page_shift = 0;
	const char *command, *path;
	char err[512];
	struct pm_map map;
	bool lookup;
	int opt, fd, i, ret;

	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		fputs(usage_text, stdout);
		return 0;
	}
	if (argc < 2)
		return usage_error("%s", "missing command");
	command = argv[1];
	if (strcmp(command, "lookup") && strcmp(command, "stats"))
		return usage_error("unknown command '%s'", command);
	lookup = !strcmp(command, "lookup");

	/* options of the command, anywhere after it: argv[1] acts as argv[0] */
	argc--;
	argv++;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (opt) {
		case 'p':
			if (parse_page_shift(optarg, &page_shift))
				return usage_error("bad page shift '%s' (0, or 10..16)",
						   optarg);
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		default:
			return usage_error("bad option, or option without its value: '%s'",
					   argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return usage_error("%s", "missing FILE");
	path = argv[optind++];
	if (lookup && optind >= argc)
		return usage_error("%s", "missing ADDR");
	if (!lookup && optind < argc)
		return usage_error("unexpected argument '%s'", argv[optind]);
	for (i = optind; i < argc; i++) {
		__u64 addr;

		if (parse_addr(argv[i], &addr))
			return usage_error("bad address '%s' (hex)", argv[i]);
	}

	pm_map_init(&map);
	if (pm_map_load(&map, path, 0, err, sizeof(err))) {
		fprintf(stderr, "physmapctl: %s\n", err);
		return EXIT_FILE;
	}
	fd = open_device();
	if (fd < 0) {
		pm_map_free(&map);
		return EXIT_DEVICE;
	}
	ret = publish(fd, path, &map, page_shift);
	if (!ret)
		ret = lookup ? do_lookup(fd, &map, argv + optind, argc - optind) :
			       do_stats(fd);
	close(fd);
	pm_map_free(&map);
	return ret;
}
