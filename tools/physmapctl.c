// SPDX-License-Identifier: GPL-2.0
/*
 * physmapctl - load QEMU memory maps into /dev/physmap and query them
 *
 *	physmapctl [OPTIONS] load FILE		serve lookups read from stdin
 *	physmapctl [OPTIONS] lookup FILE ADDR...
 *	physmapctl [OPTIONS] stats FILE
 *	physmapctl [OPTIONS] dump FILE
 *	physmapctl [OPTIONS] parse FILE		check and print, no device
 *
 * FILE is a map in the format of testdata/, the raw output of QEMU's
 * "info mtree -f", or a monitor transcript holding it. Every section
 * becomes a section of a new address space of /dev/physmap with its line
 * number as cookie. An address space lives as long as its file descriptor,
 * so a map stays loaded for as long as physmapctl runs: "load" keeps it and
 * answers commands from stdin, the other commands load, answer and exit.
 * See "physmapctl --help".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "libphysmap.h"
#include "mapfile.h"

/* exit statuses */
#define EXIT_OK		0
#define EXIT_USAGE	1	/* bad command line */
#define EXIT_FILE	2	/* FILE unreadable, malformed or overlapping */
#define EXIT_NODEV	3	/* /dev/physmap cannot be opened */
#define EXIT_DEVICE	4	/* an ioctl failed */
#define EXIT_INPUT	5	/* load: a command read from stdin was bad */

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

#define MAX_SECTIONS_PARAM "/sys/module/physmap/parameters/max_sections"

/* progress is shown on a terminal for loads past these sizes, or slow ones */
#define PROGRESS_BYTES		(4UL << 20)
#define PROGRESS_SECTIONS	100000UL
#define PROGRESS_AFTER_MS	500
#define PROGRESS_EVERY_MS	100

enum cmd { CMD_NONE, CMD_LOAD, CMD_LOOKUP, CMD_STATS, CMD_DUMP, CMD_PARSE,
	   CMD_HELP };

/* which options a command takes */
#define OPT_PAGE_SHIFT	0x1
#define OPT_VIEW	0x2
#define OPT_DEVICE	0x4
#define OPT_QUIET	0x8

struct command {
	const char *name;
	enum cmd cmd;
	unsigned int opts;
	const char *usage;
	const char *help;
};

static const char common_help[] =
	"\n"
	"FILE is a map, one section per line, in the format of testdata/:\n"
	"    <start> <last> <kind> <name> [@<offset>]      (hex, last inclusive)\n"
	"or the raw output of QEMU's monitor command \"info mtree -f\" (also with\n"
	"-d), of which --view picks one flat view, or a transcript of the monitor\n"
	"(-monitor stdio) holding it: banner, prompts, echoed commands, escape\n"
	"sequences and the output of other commands are skipped. Every section\n"
	"is added with its line number in FILE as cookie; the map is committed,\n"
	"then queried.\n"
	"\n"
	"Options:\n"
	"  --page-shift N   page size of the tree: 10..16, or 0 for 12 (it shapes\n"
	"                   the tree, never the answers)\n"
	"  --view VIEW      mtree files: memory (default), io, or the name of any\n"
	"                   address space (AS \"...\") of the file\n"
	"  --json, -j       JSON output: one object per line\n"
	"  --device PATH    the device (default " PHYSMAP_DEVICE ", or $PHYSMAP_DEVICE)\n"
	"  --quiet, -q      no progress on the terminal\n"
	"  --help, -h       this help\n";

static const char exit_help[] =
	"\n"
	"Exit status: 0 ok; 1 usage error; 2 bad FILE (the message gives the\n"
	"line and what is wrong); 3 " PHYSMAP_DEVICE " cannot be opened (module\n"
	"not loaded, no permission); 4 the device refused an operation; 5 (load)\n"
	"some command read from stdin was bad.\n";

static const struct command commands[] = {
	{ "load", CMD_LOAD, OPT_PAGE_SHIFT | OPT_VIEW | OPT_DEVICE | OPT_QUIET,
	  "physmapctl load [--page-shift N] [--view VIEW] [--json] FILE",
	  "Load FILE and keep it loaded, answering commands read from stdin, one\n"
	  "per line, until end of input or \"quit\":\n"
	  "  ADDR...  or  lookup ADDR...   the sections covering the addresses\n"
	  "  stats                         shape and size of the map\n"
	  "  dump                          the compacted tree\n"
	  "  reload                        read FILE again and commit it: lookups\n"
	  "                                see the old map or the new one\n"
	  "  help, quit\n"
	  "Each answer is flushed at once, so physmapctl load can run as a\n"
	  "coprocess of a script. A map lives as long as the process that\n"
	  "loaded it: /dev/physmap keeps one address space per open file.\n" },
	{ "lookup", CMD_LOOKUP, OPT_PAGE_SHIFT | OPT_VIEW | OPT_DEVICE | OPT_QUIET,
	  "physmapctl lookup [--page-shift N] [--view VIEW] [--json] FILE ADDR...",
	  "Load FILE and print, for each ADDR (hex, 0x optional), the section\n"
	  "covering it: its index, [first-last] range, kind and name from FILE,\n"
	  "its cookie (the line of FILE) and the offset of ADDR within its\n"
	  "memory region; or \"unassigned\".\n" },
	{ "stats", CMD_STATS, OPT_PAGE_SHIFT | OPT_VIEW | OPT_DEVICE | OPT_QUIET,
	  "physmapctl stats [--page-shift N] [--view VIEW] [--json] FILE",
	  "Load FILE and print the shape and size of the committed map: sections,\n"
	  "nodes, bytes, sub-pages, skips, depth (PHYSMAP_IOC_STATS).\n" },
	{ "dump", CMD_DUMP, OPT_PAGE_SHIFT | OPT_VIEW | OPT_DEVICE | OPT_QUIET,
	  "physmapctl dump [--page-shift N] [--view VIEW] [--json] FILE",
	  "Load FILE and print the compacted tree the kernel walks\n"
	  "(PHYSMAP_IOC_GET_TREE) in the layout of QEMU's \"info mtree -d\":\n"
	  "sections, sub-pages and nodes, runs of equal entries folded, each\n"
	  "entry with its skip and what it points to: [N] a node, #N a section,\n"
	  "SN a sub-page.\n" },
	{ "parse", CMD_PARSE, OPT_VIEW,
	  "physmapctl parse [--view VIEW] [--json] FILE",
	  "Read and check FILE without the device, and print its sections in the\n"
	  "format of testdata/ (with --view, this turns \"info mtree -f\" output\n"
	  "into a map file).\n" },
	{ "help", CMD_HELP, 0,
	  "physmapctl help [COMMAND]",
	  "Print the help of physmapctl, or of COMMAND.\n" },
};

struct ctl {
	enum cmd cmd;
	const char *path;
	const char *view;
	const char *device;
	unsigned int page_shift;
	bool json;
	bool quiet;
	struct mf_map map;
	int fd;
};

struct progress {
	bool on;
	const char *what;
	struct timespec start;
	long last_ms;
	bool shown;
};

static void usage(FILE *out)
{
	size_t i;

	fputs("usage: physmapctl [OPTIONS] COMMAND [OPTIONS] ARGS\n\n", out);
	for (i = 0; i < ARRAY_SIZE(commands); i++)
		fprintf(out, "  %s\n", commands[i].usage);
	fputs("  physmapctl COMMAND --help\n"
	      "\n"
	      "Loads a QEMU memory map into " PHYSMAP_DEVICE " (physmap.ko, QEMU's\n"
	      "phys_map radix tree in the kernel) and looks addresses up in it.\n",
	      out);
	fputs(common_help, out);
	fputs(exit_help, out);
}

static void command_help(const struct command *c)
{
	printf("usage: %s\n\n%s", c->usage, c->help);
	if (c->cmd != CMD_HELP) {
		fputs(common_help, stdout);
		fputs(exit_help, stdout);
	}
}

static const struct command *find_command(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(commands); i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

static int usage_error(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("physmapctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'physmapctl --help'.\n", stderr);
	return EXIT_USAGE;
}

/* hex, 0x optional, at most 64 bits */
static int parse_addr(const char *s, __u64 *addr)
{
	char *end;

	if (s[0] == '-' || s[0] == '+' || s[0] == ' ' || !s[0])
		return -1;
	errno = 0;
	*addr = strtoull(s, &end, 16);
	if (errno || *end || end == s ||
	    ((s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) && !s[2]))
		return -1;
	return 0;
}

static int parse_page_shift(const char *s, unsigned int *page_shift)
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

/* --- progress on a terminal ------------------------------------------- */

static long elapsed_ms(const struct timespec *since)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - since->tv_sec) * 1000 +
	       (now.tv_nsec - since->tv_nsec) / 1000000;
}

static void progress_start(struct progress *p, const struct ctl *ctl,
			   const char *what)
{
	memset(p, 0, sizeof(*p));
	p->on = !ctl->quiet && isatty(STDERR_FILENO);
	p->what = what;
	clock_gettime(CLOCK_MONOTONIC, &p->start);
}

/* done of total units; big says the whole job is a long one */
static void progress_show(struct progress *p, size_t done, size_t total,
			  bool big, const char *unit)
{
	long ms;

	if (!p->on)
		return;
	ms = elapsed_ms(&p->start);
	if (!big && ms < PROGRESS_AFTER_MS)
		return;
	if (p->shown && ms - p->last_ms < PROGRESS_EVERY_MS && done < total)
		return;
	p->last_ms = ms;
	p->shown = true;
	if (total)
		fprintf(stderr, "\rphysmapctl: %s: %zu/%zu %s (%zu%%)\033[K",
			p->what, done, total, unit, done * 100 / total);
	else
		fprintf(stderr, "\rphysmapctl: %s: %zu %s\033[K", p->what,
			done, unit);
}

static void progress_end(struct progress *p)
{
	if (p->shown)
		fputs("\r\033[K", stderr);
	p->shown = false;
}

static void read_progress(void *arg, size_t done, size_t total)
{
	progress_show(arg, done >> 10, total >> 10,
		      total >= PROGRESS_BYTES, "KiB");
}

/* --- loading ----------------------------------------------------------- */

static int read_map(struct ctl *ctl, struct mf_map *map)
{
	struct progress p;
	char err[1024];
	int ret;

	progress_start(&p, ctl, "reading");
	mf_map_init(map);
	ret = mf_load(map, ctl->path, ctl->view, read_progress, &p, err,
		      sizeof(err));
	progress_end(&p);
	if (ret) {
		fprintf(stderr, "physmapctl: %s\n", err);
		mf_map_free(map);
		return EXIT_FILE;
	}
	return EXIT_OK;
}

static int open_device(struct ctl *ctl)
{
	const char *hint;
	int err;

	ctl->fd = physmap_open(ctl->device);
	if (ctl->fd >= 0)
		return EXIT_OK;
	err = errno;
	fprintf(stderr, "physmapctl: cannot open %s: %s\n", ctl->device,
		strerror(err));
	hint = physmap_open_hint(err);
	if (hint)
		fprintf(stderr, "physmapctl: %s\n", hint);
	return EXIT_NODEV;
}

static void device_error(const struct ctl *ctl, const char *what, int err)
{
	fprintf(stderr, "physmapctl: %s: %s\n", what, strerror(err));
	if (err == ENOTTY)
		fprintf(stderr, "physmapctl: is %s a physmap device of this version?\n",
			ctl->device);
}

/* BEGIN, ADD every section of map, COMMIT */
static int publish(struct ctl *ctl, const struct mf_map *map)
{
	struct progress p;
	size_t i;

	if (physmap_begin(ctl->fd, ctl->page_shift)) {
		device_error(ctl, "begin", errno);
		return EXIT_DEVICE;
	}
	progress_start(&p, ctl, "adding sections");
	for (i = 0; i < map->count; i++) {
		const struct mf_section *s = &map->sections[i];
		__u32 index;

		if (!(i & 4095))
			progress_show(&p, i, map->count,
				      map->count >= PROGRESS_SECTIONS,
				      "sections");
		if (physmap_add(ctl->fd, s->start, s->last - s->start + 1,
				s->line, s->offset, &index)) {
			int err = errno;
			char limit[32] = "";
			FILE *f;

			progress_end(&p);
			fprintf(stderr, "physmapctl: %s:%u: cannot add [0x%llx-0x%llx] %s: %s\n",
				ctl->path, s->line,
				(unsigned long long)s->start,
				(unsigned long long)s->last, s->name,
				strerror(err));
			f = err == ENOSPC ? fopen(MAX_SECTIONS_PARAM, "r") : NULL;
			if (f) {
				if (fgets(limit, sizeof(limit), f))
					limit[strcspn(limit, "\n")] = '\0';
				fclose(f);
				fprintf(stderr, "physmapctl: a map holds at most %s sections (%s)\n",
					limit, MAX_SECTIONS_PARAM);
			}
			if (err == ENOTTY)
				device_error(ctl, "add", err);
			return EXIT_DEVICE;
		}
		if (index != i + 1) {
			progress_end(&p);
			fprintf(stderr, "physmapctl: %s:%u: the device gave index %u, expected %zu\n",
				ctl->path, s->line, index, i + 1);
			return EXIT_DEVICE;
		}
	}
	progress_show(&p, map->count, map->count, false, "sections");
	progress_end(&p);
	if (physmap_commit(ctl->fd)) {
		device_error(ctl, "commit", errno);
		return EXIT_DEVICE;
	}
	return EXIT_OK;
}

/* read FILE, open the device, publish; on failure nothing is left open */
static int load(struct ctl *ctl)
{
	int ret = read_map(ctl, &ctl->map);

	if (ret)
		return ret;
	ret = open_device(ctl);
	if (!ret) {
		ret = publish(ctl, &ctl->map);
		if (ret)
			physmap_close(ctl->fd);
	}
	if (ret)
		mf_map_free(&ctl->map);
	return ret;
}

/* --- output ------------------------------------------------------------ */

static void json_string(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = *s;

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

/* the map file's section of a device section, or NULL */
static const struct mf_section *file_section(const struct ctl *ctl,
					     const struct physmap_section *s)
{
	const struct mf_section *fs;

	if (s->index == PHYSMAP_UNASSIGNED || s->index > ctl->map.count)
		return NULL;
	fs = &ctl->map.sections[s->index - 1];
	return fs->line == s->cookie ? fs : NULL;
}

static int lookup_one(struct ctl *ctl, __u64 addr)
{
	const struct mf_section *fs;
	struct physmap_section s;
	__u64 generation;

	if (physmap_lookup(ctl->fd, addr, &s, &generation)) {
		device_error(ctl, "lookup", errno);
		return EXIT_DEVICE;
	}
	fs = file_section(ctl, &s);
	if (ctl->json) {
		printf("{\"addr\":\"0x%llx\",\"generation\":%llu,\"index\":%u",
		       (unsigned long long)addr,
		       (unsigned long long)generation, s.index);
		if (s.index != PHYSMAP_UNASSIGNED) {
			printf(",\"start\":\"0x%llx\",\"last\":\"0x%llx\",\"kind\":",
			       (unsigned long long)s.start,
			       (unsigned long long)(s.start + s.size - 1));
			json_string(fs ? fs->kind : "?");
			fputs(",\"name\":", stdout);
			json_string(fs ? fs->name : "?");
			printf(",\"cookie\":%llu,\"offset\":\"0x%llx\"",
			       (unsigned long long)s.cookie,
			       (unsigned long long)(s.offset + (addr - s.start)));
		}
		puts("}");
	} else if (s.index == PHYSMAP_UNASSIGNED) {
		printf("0x%llx  unassigned\n", (unsigned long long)addr);
	} else {
		printf("0x%llx  #%u [0x%llx-0x%llx] %s %s  cookie=%llu offset=0x%llx\n",
		       (unsigned long long)addr, s.index,
		       (unsigned long long)s.start,
		       (unsigned long long)(s.start + s.size - 1),
		       fs ? fs->kind : "?", fs ? fs->name : "?",
		       (unsigned long long)s.cookie,
		       (unsigned long long)(s.offset + (addr - s.start)));
	}
	return EXIT_OK;
}

/*
 * Open @name in the debugfs directory of the fd's address space, or NULL
 * with errno set; *@dir is set to the directory for messages.
 */
static FILE *open_debugfs(const struct ctl *ctl, const char *name,
			  char *dir, size_t size)
{
	char path[PATH_MAX];

	if (physmap_debugfs_dir(ctl->fd, dir, size))
		return NULL;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return fopen(path, "re");
}

/* "name:   value" lines of the shape file as JSON members */
static void shape_json(FILE *shape)
{
	char line[256], key[64];
	unsigned long long value, each;

	while (fgets(line, sizeof(line), shape)) {
		if (sscanf(line, "%63[a-z_]: %llu", key, &value) != 2 ||
		    !strcmp(key, "generation") || !strcmp(key, "sections"))
			continue;
		printf(",\"%s\":%llu", key, value);
		if (sscanf(line, "nodes: %*u (%llu bytes each)", &each) == 1)
			printf(",\"node_bytes\":%llu", each);
	}
}

/*
 * STATS gives the contract's figures; the shape of the tree comes from
 * debugfs when it can be read (root, debugfs mounted), as "physmapctl dump".
 */
static int print_stats(struct ctl *ctl)
{
	struct physmap_stats st;
	char dir[PATH_MAX] = "", line[256];
	FILE *shape;

	if (physmap_stats(ctl->fd, &st)) {
		device_error(ctl, "stats", errno);
		return EXIT_DEVICE;
	}
	shape = open_debugfs(ctl, "shape", dir, sizeof(dir));
	if (ctl->json) {
		printf("{\"generation\":%llu,\"sections\":%u",
		       (unsigned long long)st.generation, st.sections);
		if (shape)
			shape_json(shape);
		else
			printf(",\"bytes\":%llu,\"page_shift\":%u",
			       (unsigned long long)st.bytes, st.page_shift);
		puts("}");
	} else if (shape) {
		while (fgets(line, sizeof(line), shape))
			fputs(line, stdout);
	} else {
		printf("generation:     %llu\n",
		       (unsigned long long)st.generation);
		printf("sections:       %u\n", st.sections);
		printf("bytes:          %llu\n", (unsigned long long)st.bytes);
		printf("page_shift:     %u\n", st.page_shift);
	}
	if (shape)
		fclose(shape);
	return EXIT_OK;
}

static void dump_sections(struct ctl *ctl, const struct physmap_stats *st)
{
	__u32 i;

	if (ctl->json) {
		fputs("\"sections\":[", stdout);
	} else {
		puts("    Physical sections");
		puts("      #0 @0000000000000000..ffffffffffffffff (noname) [unassigned]");
	}
	for (i = 1; i <= st->sections; i++) {
		const struct mf_section *fs;
		struct physmap_section s;

		if (physmap_get_section(ctl->fd, i, &s))
			memset(&s, 0, sizeof(s));
		fs = file_section(ctl, &s);
		if (ctl->json) {
			printf("%s{\"index\":%u,\"start\":\"0x%llx\",\"last\":\"0x%llx\",\"cookie\":%llu,\"offset\":\"0x%llx\",\"kind\":",
			       i > 1 ? "," : "", i,
			       (unsigned long long)s.start,
			       (unsigned long long)(s.start + s.size - 1),
			       (unsigned long long)s.cookie,
			       (unsigned long long)s.offset);
			json_string(fs ? fs->kind : "?");
			fputs(",\"name\":", stdout);
			json_string(fs ? fs->name : "?");
			putchar('}');
		} else {
			printf("      #%u @%016llx..%016llx %s [%s] line %llu\n",
			       i, (unsigned long long)s.start,
			       (unsigned long long)(s.start + s.size - 1),
			       fs ? fs->name : "?", fs ? fs->kind : "?",
			       (unsigned long long)s.cookie);
		}
	}
	if (ctl->json)
		fputs("],", stdout);
}

/* The kernel's dump from its sub-pages on, as JSON. */
struct dump_json {
	int subpages, nodes;	/* sub-pages, nodes seen */
	int pieces, entries;	/* in the current one */
};

/* A node's entry in the kernel's dump: "A..B skip=S ptr=P" or "A ..." */
static bool dump_entry(const char *line, unsigned int *a, unsigned int *b,
		       unsigned int *skip, char ptr[32])
{
	if (sscanf(line, " %u..%u skip=%u ptr=%31s", a, b, skip, ptr) == 4)
		return true;
	if (sscanf(line, " %u skip=%u ptr=%31s", a, skip, ptr) != 3)
		return false;
	*b = *a;
	return true;
}

/* One line of the kernel's dump after its sections, as JSON. */
static void dump_line_json(struct dump_json *j, const char *line)
{
	unsigned int a, b, n, skip;
	unsigned long long start;
	char kind, ptr[32];
	int used;

	if (sscanf(line, " S%u @%llx..%*x:%n", &n, &start, &used) >= 2) {
		printf("%s%s{\"index\":%u,\"start\":\"0x%llx\",\"pieces\":[",
		       j->subpages ? "" : "\"subpages\":[",
		       j->subpages ? "]}," : "", n, start);
		j->subpages++;
		j->pieces = 0;
		line += used;
	} else if (sscanf(line, " [%u]", &n) == 1) {
		if (!j->nodes)
			printf("%s\"nodes\":[", j->subpages ? "]}]," :
				       "\"subpages\":[],");
		printf("%s[", j->nodes ? "]," : "");
		j->nodes++;
		j->entries = 0;
		return;
	} else if (dump_entry(line, &a, &b, &skip, ptr)) {
		kind = ptr[0];
		printf("%s{\"first\":%u,\"last\":%u,\"skip\":%u,\"%s\":%s}",
		       j->entries++ ? "," : "", a, b, skip,
		       kind == '[' ? "node" : kind == 'S' ? "subpage" : "section",
		       ptr + 1);
		return;
	}
	/* Pieces of a sub-page: "000..01f #101" each. */
	while (sscanf(line, " %x..%x #%u%n", &a, &b, &n, &used) == 3) {
		printf("%s{\"first\":%u,\"last\":%u,\"section\":%u}",
		       j->pieces++ ? "," : "", a, b, n);
		line += used;
	}
}

/*
 * The layout of QEMU's "info mtree -d" (mtree_print_dispatch()): the
 * sections with the names the file gives them, then the sub-pages and
 * nodes of the kernel's dump in debugfs.
 */
static int dump(struct ctl *ctl)
{
	struct dump_json j = { 0 };
	char dir[PATH_MAX] = "", line[512];
	struct physmap_stats st;
	bool after = false;
	FILE *kdump;

	if (physmap_stats(ctl->fd, &st)) {
		device_error(ctl, "stats", errno);
		return EXIT_DEVICE;
	}
	kdump = open_debugfs(ctl, "dump", dir, sizeof(dir));
	if (!kdump) {
		fprintf(stderr, "physmapctl: cannot read the tree's dump in %s: %s\n",
			*dir ? dir : PHYSMAP_DEBUGFS "/physmap", strerror(errno));
		fprintf(stderr, "physmapctl: dump needs root and debugfs: mount -t debugfs none " PHYSMAP_DEBUGFS "\n");
		return EXIT_DEVICE;
	}
	if (ctl->json) {
		printf("{\"file\":");
		json_string(ctl->path);
		printf(",\"generation\":%llu,\"page_shift\":%u,",
		       (unsigned long long)st.generation, st.page_shift);
	} else {
		printf("physmap: %s, generation %llu, page_shift %u\n",
		       ctl->path, (unsigned long long)st.generation,
		       st.page_shift);
		puts("  Dispatch");
	}
	dump_sections(ctl, &st);
	while (fgets(line, sizeof(line), kdump)) {
		after = after || !strncmp(line, "    Sub-pages", 13);
		if (!after)
			continue;
		if (!ctl->json)
			fputs(line, stdout);
		else
			dump_line_json(&j, line);
	}
	fclose(kdump);
	if (ctl->json)
		printf("%s]}\n", j.nodes ? "]" : j.subpages ? "]}],\"nodes\":[" :
			       "\"subpages\":[],\"nodes\":[");
	return EXIT_OK;
}

static void print_parsed(const struct ctl *ctl)
{
	size_t i;

	for (i = 0; i < ctl->map.count; i++) {
		const struct mf_section *s = &ctl->map.sections[i];

		if (ctl->json) {
			printf("{\"line\":%u,\"start\":\"0x%llx\",\"last\":\"0x%llx\",\"kind\":",
			       s->line, (unsigned long long)s->start,
			       (unsigned long long)s->last);
			json_string(s->kind);
			fputs(",\"name\":", stdout);
			json_string(s->name);
			printf(",\"offset\":\"0x%llx\"}\n",
			       (unsigned long long)s->offset);
			continue;
		}
		printf("%llx %llx %s %s", (unsigned long long)s->start,
		       (unsigned long long)s->last, s->kind, s->name);
		if (s->offset)
			printf(" @%016llx", (unsigned long long)s->offset);
		putchar('\n');
	}
}

/* --- load: commands from stdin ----------------------------------------- */

static int reload(struct ctl *ctl)
{
	struct mf_map map;
	struct physmap_stats st;
	int ret = read_map(ctl, &map);

	if (ret)
		return ret;
	ret = publish(ctl, &map);
	if (ret) {
		mf_map_free(&map);
		return ret;
	}
	mf_map_free(&ctl->map);
	ctl->map = map;
	if (!physmap_stats(ctl->fd, &st))
		fprintf(stderr, "physmapctl: reloaded %s: %u sections, generation %llu\n",
			ctl->path, st.sections, (unsigned long long)st.generation);
	return EXIT_OK;
}

static int serve(struct ctl *ctl)
{
	unsigned int line_nr = 0;
	char *line = NULL;
	size_t size = 0;
	int status = EXIT_OK;

	while (getline(&line, &size, stdin) >= 0) {
		char *word, *save = NULL;
		int ret = EXIT_OK;
		bool lookup = false;

		line_nr++;
		word = strtok_r(line, " \t\r\n", &save);
		if (!word || word[0] == '#')
			continue;
		if (!strcmp(word, "quit") || !strcmp(word, "exit"))
			break;
		if (!strcmp(word, "stats")) {
			ret = print_stats(ctl);
		} else if (!strcmp(word, "dump")) {
			ret = dump(ctl);
		} else if (!strcmp(word, "reload")) {
			ret = reload(ctl);
		} else if (!strcmp(word, "help")) {
			fputs(find_command("load")->help, stdout);
		} else if (!strcmp(word, "lookup")) {
			lookup = true;
			word = strtok_r(NULL, " \t\r\n", &save);
			if (!word) {
				fprintf(stderr, "physmapctl: stdin:%u: lookup without an address\n",
					line_nr);
				ret = EXIT_INPUT;
			}
		} else {
			lookup = true;
		}
		for (; lookup && word; word = strtok_r(NULL, " \t\r\n", &save)) {
			__u64 addr;

			if (parse_addr(word, &addr)) {
				fprintf(stderr, "physmapctl: stdin:%u: '%s' is neither a command nor an address (hex); try: help\n",
					line_nr, word);
				ret = EXIT_INPUT;
				break;
			}
			ret = lookup_one(ctl, addr);
			if (ret)
				break;
		}
		fflush(stdout);
		/* a device error outweighs bad input */
		if (ret && status != EXIT_DEVICE)
			status = ret == EXIT_FILE ? EXIT_INPUT : ret;
	}
	free(line);
	return status;
}

/* --- main --------------------------------------------------------------- */

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "page-shift", required_argument, NULL, 'p' },
		{ "view", required_argument, NULL, 'v' },
		{ "device", required_argument, NULL, 'd' },
		{ "json", no_argument, NULL, 'j' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct ctl ctl = { .fd = -1 };
	const struct command *cmd;
	unsigned int given = 0;
	bool help = false;
	char **args;
	int nargs, opt, i, ret;

	ctl.device = getenv("PHYSMAP_DEVICE");
	if (!ctl.device || !*ctl.device)
		ctl.device = PHYSMAP_DEVICE;
	/* GNU getopt: options anywhere, before or after the command */
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":jqhV", options, NULL)) != -1) {
		switch (opt) {
		case 'p':
			if (parse_page_shift(optarg, &ctl.page_shift))
				return usage_error("bad --page-shift '%s': want 0, or %u..%u",
						   optarg, PHYSMAP_PAGE_SHIFT_MIN,
						   PHYSMAP_PAGE_SHIFT_MAX);
			given |= OPT_PAGE_SHIFT;
			break;
		case 'v':
			if (!*optarg)
				return usage_error("empty --view");
			ctl.view = optarg;
			given |= OPT_VIEW;
			break;
		case 'd':
			ctl.device = optarg;
			given |= OPT_DEVICE;
			break;
		case 'j':
			ctl.json = true;
			break;
		case 'q':
			ctl.quiet = true;
			given |= OPT_QUIET;
			break;
		case 'h':
			help = true;
			break;
		case 'V':
			printf("physmapctl %s\n", LIBPHYSMAP_VERSION);
			return EXIT_OK;
		case ':':
			return usage_error("option '%s' needs a value",
					   argv[optind - 1]);
		default:
			return usage_error("unknown option '%s'",
					   argv[optind - 1]);
		}
	}
	args = argv + optind;
	nargs = argc - optind;
	cmd = nargs ? find_command(args[0]) : NULL;
	if (nargs && !cmd)
		return usage_error("unknown command '%s'", args[0]);
	if (cmd) {
		args++;
		nargs--;
	}

	if (help || (cmd && cmd->cmd == CMD_HELP)) {
		const struct command *about = help ? cmd : NULL;

		if (cmd && cmd->cmd == CMD_HELP && nargs) {
			about = find_command(args[0]);
			if (!about)
				return usage_error("unknown command '%s'", args[0]);
		}
		if (about)
			command_help(about);
		else
			usage(stdout);
		return EXIT_OK;
	}
	if (!cmd)
		return usage_error("missing command (load, lookup, stats, dump, parse)");
	if (given & ~cmd->opts) {
		unsigned int bad = given & ~cmd->opts;

		return usage_error("%s takes no %s option", cmd->name,
				   bad & OPT_PAGE_SHIFT ? "--page-shift" :
				   bad & OPT_VIEW ? "--view" :
				   bad & OPT_DEVICE ? "--device" : "--quiet");
	}
	if (!nargs)
		return usage_error("%s: missing FILE", cmd->name);
	ctl.cmd = cmd->cmd;
	ctl.path = args[0];
	if (cmd->cmd == CMD_LOOKUP && nargs < 2)
		return usage_error("lookup: missing ADDR");
	if (cmd->cmd != CMD_LOOKUP && nargs > 1)
		return usage_error("%s: unexpected argument '%s'", cmd->name,
				   args[1]);
	for (i = 1; i < nargs; i++) {
		__u64 addr;

		if (parse_addr(args[i], &addr))
			return usage_error("lookup: bad address '%s': want hex, at most 64 bits",
					   args[i]);
	}

	if (cmd->cmd == CMD_PARSE) {
		ret = read_map(&ctl, &ctl.map);
		if (!ret)
			print_parsed(&ctl);
		mf_map_free(&ctl.map);
		return ret;
	}

	ret = load(&ctl);
	if (ret)
		return ret;
	switch (cmd->cmd) {
	case CMD_LOAD:
		if (!ctl.quiet) {
			struct physmap_stats st = { 0 };

			physmap_stats(ctl.fd, &st);
			fprintf(stderr, "physmapctl: loaded %s: %u sections, generation %llu; reading commands from stdin (help, quit)\n",
				ctl.path, st.sections,
				(unsigned long long)st.generation);
		}
		ret = serve(&ctl);
		break;
	case CMD_LOOKUP:
		for (i = 1; i < nargs && !ret; i++) {
			__u64 addr;

			parse_addr(args[i], &addr);
			ret = lookup_one(&ctl, addr);
		}
		break;
	case CMD_STATS:
		ret = print_stats(&ctl);
		break;
	case CMD_DUMP:
		ret = dump(&ctl);
		break;
	default:
		break;
	}
	physmap_close(ctl.fd);
	mf_map_free(&ctl.map);
	return ret;
}
