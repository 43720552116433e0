// SPDX-License-Identifier: GPL-2.0
/*
 * physmapctl - load QEMU memory maps into /dev/physmap and query them
 *
 *	physmapctl [OPTIONS] load FILE		serve lookups read from stdin
 *	physmapctl [OPTIONS] lookup FILE ADDR...
 *	physmapctl [OPTIONS] stats FILE
 *	physmapctl [OPTIONS] dump FILE
 *	physmapctl [OPTIONS] parse FILE		check and print, no device
 *	physmapctl [OPTIONS] follow --qmp PATH	a running QEMU's map, as it
 *						changes (follow.c)
 *
 * FILE is a map in the format of testdata/, the raw output of QEMU's
 * "info mtree -f", or a monitor transcript holding it. Every section
 * becomes a section of a new address space of /dev/physmap with its line
 * number as cookie. An address space lives as long as its file descriptor,
 * so a map stays loaded for as long as physmapctl runs: "load" keeps it and
 * answers commands from stdin, updates of the map included; the other
 * commands load, answer and exit.
 * See "physmapctl --help".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "libphysmap.h"
#include "mapfile.h"
#include "physmapctl.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

#define MAX_SECTIONS_PARAM "/sys/module/physmap/parameters/max_sections"

/* progress is shown on a terminal for loads past these sizes, or slow ones */
#define PROGRESS_BYTES		(4UL << 20)
#define PROGRESS_SECTIONS	100000UL
#define PROGRESS_AFTER_MS	500
#define PROGRESS_EVERY_MS	100

enum cmd { CMD_NONE, CMD_LOAD, CMD_LOOKUP, CMD_STATS, CMD_DUMP, CMD_PARSE,
	   CMD_FOLLOW, CMD_HELP };

/* which options a command takes */
#define OPT_PAGE_SHIFT	0x1
#define OPT_VIEW	0x2
#define OPT_DEVICE	0x4
#define OPT_QUIET	0x8
#define OPT_FOLLOW	0x10	/* --qmp, --interval, --count, --check, --dry-run,
				 * --list
				 */

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
	"some command read from stdin was bad, or the device refused it; 6\n"
	"(follow) QMP failed: no connection, an error reply, no reply in 30 s;\n"
	"7 (follow --check) the device's answers differ from QEMU's view.\n";

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
	  "  begin                         start an update of the loaded map,\n"
	  "                                dropping one not committed\n"
	  "  remove INDEX                  take section #INDEX out of the update\n"
	  "  add START SIZE [COOKIE [OFFSET]]\n"
	  "                                add a section to the update: START and\n"
	  "                                SIZE hex, COOKIE and OFFSET decimal or\n"
	  "                                0x hex, 0 if not given; prints its index,\n"
	  "                                the lowest one free\n"
	  "  commit                        publish the update: lookups see the old\n"
	  "                                map or the new one\n"
	  "  help, quit\n"
	  "remove, add and commit begin an update when none is open (commit alone\n"
	  "publishes the map unchanged, as a new generation). Until commit,\n"
	  "lookups, stats and dump answer from the published map; reload drops\n"
	  "the update. Added sections have no line in FILE: lookups show their\n"
	  "range, cookie and offset, no kind or name. A line's first word \"add\"\n"
	  "is the command: write the address 0xadd with its 0x.\n"
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
	{ "follow", CMD_FOLLOW,
	  OPT_PAGE_SHIFT | OPT_VIEW | OPT_DEVICE | OPT_QUIET | OPT_FOLLOW,
	  "physmapctl follow --qmp PATH [--view VIEW] [--interval MS] [--check]\n"
	  "                    [--count N] [--list] [--dry-run] [--page-shift N] [--json]",
	  "Keep the flat view of a running QEMU loaded as it changes. PATH is\n"
	  "QEMU's QMP socket (-qmp unix:PATH,server=on,wait=off), or a character\n"
	  "device that reaches one: a virtio-serial port (/dev/vport0p1) whose\n"
	  "chardev on the host is QMP's socket, a serial line, a pty. QEMU serves\n"
	  "one client per QMP socket: give follow one of its own (-qmp can be\n"
	  "given more than once).\n"
	  "follow reads \"info mtree -f\" (QMP's human-monitor-command), takes\n"
	  "VIEW from it as FILE is read (see below), and commits it as a new map.\n"
	  "Then it reads the view again on the events DEVICE_ADDED,\n"
	  "DEVICE_DELETED, MEMORY_DEVICE_SIZE_CHANGE and RESET, and every MS\n"
	  "milliseconds, and applies what changed as one update (BEGIN with\n"
	  "PHYSMAP_BEGIN_UPDATE, REMOVE, ADD, COMMIT): a section the same in\n"
	  "start, last byte, kind, name and offset stays; every other one that\n"
	  "went is removed, every one that came is added. A hot-plugged device's\n"
	  "BARs appear when the guest's OS assigns and enables them, after the\n"
	  "event; QEMU 7.2 sends no DEVICE_ADDED at all, nor DEVICE_DELETED for a\n"
	  "device that was mapped when \"info mtree -f\" ran (the views it prints\n"
	  "stay referenced): with it, the timer does the work.\n"
	  "A section's cookie is the number of its region's name, 1, 2, ... in\n"
	  "the order follow first met the names: a region keeps its cookie for as\n"
	  "long as follow runs, and all sections of one name share it.\n"
	  "Output, a line each, flushed at once (a real run, with --check):\n"
	  "  generation 1: 16 sections loaded; check: 56 addresses, 0 mismatches\n"
	  "  - #21 fe202000 fe20240f i/o msix-table  a section removed, then one\n"
	  "  + #17 fe202000 fe20207f i/o msix-table  added: its index, and the\n"
	  "                                          section as \"parse\" prints it\n"
	  "  generation 5: 2 removed, 2 added, 19 sections; check: 66 addresses, 0 mismatches\n"
	  "An event that brings a read is a line too: \"event DEVICE_DELETED nvme1\".\n"
	  "A read that changes nothing prints nothing. follow ends, with status 0,\n"
	  "when QEMU closes the connection, on SIGINT or SIGTERM, and after N\n"
	  "updates with --count N (0: load, check, and stop).\n"
	  "  --qmp PATH       QMP socket or device (required)\n"
	  "  --interval MS    read the view every MS ms too (default 1000; 0: on\n"
	  "                   events only)\n"
	  "  --check          after every commit, look up each section's first\n"
	  "                   and last byte and each hole's (LOOKUP and\n"
	  "                   LOOKUP_BATCH), GET_SECTION each section, STATS, and\n"
	  "                   hold the answers against the view: the summary line\n"
	  "                   adds \"; check: A addresses, M mismatches\"; the first\n"
	  "                   mismatches go to stderr, and follow stops (status 7)\n"
	  "  --count N        stop after N updates\n"
	  "  --list           print the sections of the first map too, as + lines\n"
	  "                   (what follow prints then tells what it loaded)\n"
	  "  --dry-run        no device: print what would be removed and added,\n"
	  "                   with the indexes the device would give (no --check)\n"
	  "  --quiet          no line on stderr but errors (\"following ...\" and\n"
	  "                   why follow ended)\n" },
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
	/* load: the update read from stdin */
	bool updating;		/* begun, not committed */
	bool *in_file;		/* [i - 1]: the published #i is FILE's line */
	bool *pending_in_file;	/* the same in the update */
	__u32 max_index;	/* no section of the map has a higher index */
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

/* decimal, 0..max */
static int parse_count(const char *s, long max, long *value)
{
	char *end;
	long v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v > max)
		return -1;
	*value = v;
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

/*
 * Marks of which sections are FILE's, in the published map and in an
 * update: every one of @map's, as published.
 */
static bool *file_marks(const struct mf_map *map)
{
	bool *marks = malloc((2 * map->count + 1) * sizeof(*marks));
	size_t i;

	if (!marks) {
		fputs("physmapctl: out of memory\n", stderr);
		return NULL;
	}
	for (i = 0; i < 2 * map->count; i++)
		marks[i] = true;
	return marks;
}

/* ctl->map was just published, with no update open */
static void set_file_marks(struct ctl *ctl, bool *marks)
{
	free(ctl->in_file);
	ctl->in_file = marks;
	ctl->pending_in_file = marks + ctl->map.count;
	ctl->max_index = ctl->map.count;
	ctl->updating = false;
}

/* read FILE, open the device, publish; on failure nothing is left open */
static int load(struct ctl *ctl)
{
	bool *marks;
	int ret = read_map(ctl, &ctl->map);

	if (ret)
		return ret;
	marks = file_marks(&ctl->map);
	ret = marks ? open_device(ctl) : EXIT_FILE;
	if (!ret) {
		ret = publish(ctl, &ctl->map);
		if (ret)
			physmap_close(ctl->fd);
	}
	if (ret) {
		free(marks);
		mf_map_free(&ctl->map);
	} else {
		set_file_marks(ctl, marks);
	}
	return ret;
}

/* --- output ------------------------------------------------------------ */

void put_json_string(const char *s)
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

/* the map file's section of a published section, or NULL (added on stdin) */
static const struct mf_section *file_section(const struct ctl *ctl,
					     const struct physmap_section *s)
{
	const struct mf_section *fs;

	if (s->index == PHYSMAP_UNASSIGNED || s->index > ctl->map.count ||
	    !ctl->in_file[s->index - 1])
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
			printf(",\"start\":\"0x%llx\",\"last\":\"0x%llx\"",
			       (unsigned long long)s.start,
			       (unsigned long long)(s.start + s.size - 1));
			/* a section added on stdin has no kind and no name */
			if (fs) {
				fputs(",\"kind\":", stdout);
				put_json_string(fs->kind);
				fputs(",\"name\":", stdout);
				put_json_string(fs->name);
			}
			printf(",\"cookie\":%llu,\"offset\":\"0x%llx\"",
			       (unsigned long long)s.cookie,
			       (unsigned long long)(s.offset + (addr - s.start)));
		}
		puts("}");
	} else if (s.index == PHYSMAP_UNASSIGNED) {
		printf("0x%llx  unassigned\n", (unsigned long long)addr);
	} else {
		printf("0x%llx  #%u [0x%llx-0x%llx]", (unsigned long long)addr,
		       s.index, (unsigned long long)s.start,
		       (unsigned long long)(s.start + s.size - 1));
		if (fs)
			printf(" %s %s", fs->kind, fs->name);
		printf("  cookie=%llu offset=0x%llx\n",
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

/*
 * The published sections by index. After an update the indexes of removed
 * sections may lie below the highest: GET_SECTION has none there.
 */
static void dump_sections(struct ctl *ctl, const struct physmap_stats *st)
{
	__u32 i, n = 0;

	if (ctl->json) {
		fputs("\"sections\":[", stdout);
	} else {
		puts("    Physical sections");
		puts("      #0 @0000000000000000..ffffffffffffffff (noname) [unassigned]");
	}
	for (i = 1; i <= ctl->max_index && n < st->sections; i++) {
		const struct mf_section *fs;
		struct physmap_section s;

		if (physmap_get_section(ctl->fd, i, &s)) {
			if (errno == ENOENT)
				continue;
			memset(&s, 0, sizeof(s));
		}
		fs = file_section(ctl, &s);
		if (ctl->json) {
			printf("%s{\"index\":%u,\"start\":\"0x%llx\",\"last\":\"0x%llx\",\"cookie\":%llu,\"offset\":\"0x%llx\"",
			       n ? "," : "", i,
			       (unsigned long long)s.start,
			       (unsigned long long)(s.start + s.size - 1),
			       (unsigned long long)s.cookie,
			       (unsigned long long)s.offset);
			/* a section added on stdin has no kind and no name */
			if (fs) {
				fputs(",\"kind\":", stdout);
				put_json_string(fs->kind);
				fputs(",\"name\":", stdout);
				put_json_string(fs->name);
			}
			putchar('}');
		} else if (fs || s.index != i) {
			printf("      #%u @%016llx..%016llx %s [%s] line %llu\n",
			       i, (unsigned long long)s.start,
			       (unsigned long long)(s.start + s.size - 1),
			       fs ? fs->name : "?", fs ? fs->kind : "?",
			       (unsigned long long)s.cookie);
		} else {
			printf("      #%u @%016llx..%016llx (added) cookie=%llu offset=0x%llx\n",
			       i, (unsigned long long)s.start,
			       (unsigned long long)(s.start + s.size - 1),
			       (unsigned long long)s.cookie,
			       (unsigned long long)s.offset);
		}
		n++;
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
		put_json_string(ctl->path);
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
			put_json_string(s->kind);
			fputs(",\"name\":", stdout);
			put_json_string(s->name);
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
	bool *marks;
	int ret = read_map(ctl, &map);

	if (ret)
		return ret;
	marks = file_marks(&map);
	if (!marks) {
		mf_map_free(&map);
		return EXIT_FILE;
	}
	/* publish() begins an empty map: an update open is dropped */
	ctl->updating = false;
	ret = publish(ctl, &map);
	if (ret) {
		free(marks);
		mf_map_free(&map);
		return ret;
	}
	mf_map_free(&ctl->map);
	ctl->map = map;
	set_file_marks(ctl, marks);
	if (!physmap_stats(ctl->fd, &st))
		fprintf(stderr, "physmapctl: reloaded %s: %u sections, generation %llu\n",
			ctl->path, st.sections, (unsigned long long)st.generation);
	return EXIT_OK;
}

/* --- load: updates from stdin ----------------------------------------- */

/* decimal, or hex after 0x; at most 64 bits */
static int parse_number(const char *s, __u64 *value)
{
	bool hex = s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
	const char *digits = hex ? s + 2 : s;
	char *end;

	if (!*digits || strspn(digits, hex ? "0123456789abcdefABCDEF" :
				"0123456789") != strlen(digits))
		return -1;
	errno = 0;
	*value = strtoull(digits, &end, hex ? 16 : 10);
	return errno || *end ? -1 : 0;
}

/* A refused update command: what, the errno's text and, if any, why. */
static int update_error(const struct ctl *ctl, unsigned int line_nr,
			const char *what, int err, const char *why)
{
	fprintf(stderr, "physmapctl: stdin:%u: %s: %s%s%s%s\n", line_nr, what,
		strerror(err), why ? " (" : "", why ? why : "", why ? ")" : "");
	if (err == ENOTTY)
		fprintf(stderr, "physmapctl: is %s a physmap device of this version?\n",
			ctl->device);
	return EXIT_INPUT;
}

/*
 * "@text generation G, N sections" of the published map, or in JSON
 * {"@key":true,"generation":G,"sections":N}
 */
static void print_generation(const struct ctl *ctl, const char *key,
			     const char *text)
{
	struct physmap_stats st = { 0 };

	physmap_stats(ctl->fd, &st);
	if (ctl->json)
		printf("{\"%s\":true,\"generation\":%llu,\"sections\":%u}\n",
		       key, (unsigned long long)st.generation, st.sections);
	else
		printf("%s generation %llu, %u sections\n", text,
		       (unsigned long long)st.generation, st.sections);
}

/*
 * Begin an update of the published map: if @always, or if none is open.
 * page_shift 0 keeps the published map's.
 */
static int update_begin(struct ctl *ctl, unsigned int line_nr, bool always)
{
	if (ctl->updating && !always)
		return EXIT_OK;
	if (physmap_begin_update(ctl->fd, 0))
		return update_error(ctl, line_nr, "cannot begin an update", errno,
				    errno == EINVAL ?
				    "does the module know PHYSMAP_BEGIN_UPDATE?" :
				    NULL);
	memcpy(ctl->pending_in_file, ctl->in_file,
	       ctl->map.count * sizeof(*ctl->in_file));
	ctl->updating = true;
	return EXIT_OK;
}

/* begin: an update of the published map, dropping one open */
static int cmd_begin(struct ctl *ctl, unsigned int line_nr)
{
	int ret = update_begin(ctl, line_nr, true);

	if (!ret)
		print_generation(ctl, "begun", "begun update of");
	return ret;
}

/* add START SIZE [COOKIE [OFFSET]] */
static int cmd_add(struct ctl *ctl, unsigned int line_nr, char **args,
		   int nargs)
{
	static const char * const names[] = { "START", "SIZE", "COOKIE",
					       "OFFSET" };
	__u64 v[4] = { 0, 0, 0, 0 };
	char what[96];
	__u32 index;
	int i, ret;

	if (nargs < 2 || nargs > 4) {
		fprintf(stderr, "physmapctl: stdin:%u: usage: add START SIZE [COOKIE [OFFSET]]\n",
			line_nr);
		return EXIT_INPUT;
	}
	for (i = 0; i < nargs; i++) {
		if (i < 2 ? parse_addr(args[i], &v[i]) :
		    parse_number(args[i], &v[i])) {
			fprintf(stderr, "physmapctl: stdin:%u: add: bad %s '%s': want %s\n",
				line_nr, names[i], args[i],
				i < 2 ? "hex" : "decimal or 0x hex");
			return EXIT_INPUT;
		}
	}
	ret = update_begin(ctl, line_nr, false);
	if (ret)
		return ret;
	if (physmap_add(ctl->fd, v[0], v[1], v[2], v[3], &index)) {
		int err = errno;

		snprintf(what, sizeof(what), "cannot add [0x%llx+0x%llx]",
			 (unsigned long long)v[0], (unsigned long long)v[1]);
		return update_error(ctl, line_nr, what, err,
				    err == EEXIST ? "it overlaps a section of the update" :
				    err == EINVAL ? "size 0, or past 2^64 - 1" :
				    err == ENOSPC ? "past max_sections" : NULL);
	}
	if (index <= ctl->map.count)
		ctl->pending_in_file[index - 1] = false;
	if (index > ctl->max_index)
		ctl->max_index = index;
	if (ctl->json)
		printf("{\"added\":%u,\"start\":\"0x%llx\",\"last\":\"0x%llx\",\"cookie\":%llu,\"offset\":\"0x%llx\"}\n",
		       index, (unsigned long long)v[0],
		       (unsigned long long)(v[0] + v[1] - 1),
		       (unsigned long long)v[2], (unsigned long long)v[3]);
	else
		printf("added #%u [0x%llx-0x%llx]\n", index,
		       (unsigned long long)v[0],
		       (unsigned long long)(v[0] + v[1] - 1));
	return EXIT_OK;
}

/* remove INDEX, the index decimal or 0x hex, "#" before it allowed */
static int cmd_remove(struct ctl *ctl, unsigned int line_nr, char **args,
		      int nargs)
{
	char what[48];
	__u64 index;
	int ret;

	if (nargs != 1 || parse_number(args[0] + (args[0][0] == '#'), &index) ||
	    index > UINT32_MAX) {
		fprintf(stderr, "physmapctl: stdin:%u: usage: remove INDEX\n",
			line_nr);
		return EXIT_INPUT;
	}
	ret = update_begin(ctl, line_nr, false);
	if (ret)
		return ret;
	if (physmap_remove(ctl->fd, index)) {
		int err = errno;

		snprintf(what, sizeof(what), "cannot remove #%llu",
			 (unsigned long long)index);
		return update_error(ctl, line_nr, what, err,
				    err == ENOENT ? "no section of the update has that index" :
				    NULL);
	}
	if (index <= ctl->map.count)
		ctl->pending_in_file[index - 1] = false;
	if (ctl->json)
		printf("{\"removed\":%llu}\n", (unsigned long long)index);
	else
		printf("removed #%llu\n", (unsigned long long)index);
	return EXIT_OK;
}

/* commit: publish the update (one begun now if none is open) */
static int cmd_commit(struct ctl *ctl, unsigned int line_nr)
{
	int ret = update_begin(ctl, line_nr, false);

	if (ret)
		return ret;
	if (physmap_commit(ctl->fd))
		return update_error(ctl, line_nr, "cannot commit", errno,
				    NULL);
	memcpy(ctl->in_file, ctl->pending_in_file,
	       ctl->map.count * sizeof(*ctl->in_file));
	ctl->updating = false;
	print_generation(ctl, "committed", "committed");
	return EXIT_OK;
}

/*
 * The words left on the line into @args, at most @max of them: their
 * number, or @max + 1 if there are more.
 */
static int rest_of_line(char **args, int max, char **save)
{
	int n = 0;
	char *word;

	while ((word = strtok_r(NULL, " \t\r\n", save))) {
		if (n < max)
			args[n] = word;
		if (n <= max)
			n++;
	}
	return n;
}

static int serve(struct ctl *ctl)
{
	unsigned int line_nr = 0;
	char *line = NULL;
	size_t size = 0;
	int status = EXIT_OK;

	while (getline(&line, &size, stdin) >= 0) {
		char *word, *save = NULL, *args[4];
		int nargs, ret = EXIT_OK;
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
		} else if (!strcmp(word, "begin") || !strcmp(word, "commit")) {
			if (rest_of_line(args, 0, &save)) {
				fprintf(stderr, "physmapctl: stdin:%u: %s takes no argument\n",
					line_nr, word);
				ret = EXIT_INPUT;
			} else if (word[0] == 'b') {
				ret = cmd_begin(ctl, line_nr);
			} else {
				ret = cmd_commit(ctl, line_nr);
			}
		} else if (!strcmp(word, "add")) {
			nargs = rest_of_line(args, ARRAY_SIZE(args), &save);
			ret = cmd_add(ctl, line_nr, args, nargs);
		} else if (!strcmp(word, "remove")) {
			nargs = rest_of_line(args, ARRAY_SIZE(args), &save);
			ret = cmd_remove(ctl, line_nr, args, nargs);
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
		{ "qmp", required_argument, NULL, 'Q' },
		{ "interval", required_argument, NULL, 'I' },
		{ "count", required_argument, NULL, 'C' },
		{ "check", no_argument, NULL, 'K' },
		{ "dry-run", no_argument, NULL, 'D' },
		{ "list", no_argument, NULL, 'L' },
		{ NULL, 0, NULL, 0 },
	};
	struct follow_opts fo = { .interval_ms = 1000, .count = -1 };
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
		case 'Q':
			if (!*optarg)
				return usage_error("empty --qmp");
			fo.qmp = optarg;
			given |= OPT_FOLLOW;
			break;
		case 'I':
		case 'C':
			if (parse_count(optarg, opt == 'I' ? 3600000 : LONG_MAX,
					opt == 'I' ? &fo.interval_ms : &fo.count))
				return usage_error("bad %s '%s': want a number, %s",
						   opt == 'I' ? "--interval" : "--count",
						   optarg, opt == 'I' ?
						   "0..3600000 ms" : "0 or more");
			given |= OPT_FOLLOW;
			break;
		case 'K':
			fo.check = true;
			given |= OPT_FOLLOW;
			break;
		case 'D':
			fo.dry_run = true;
			given |= OPT_FOLLOW;
			break;
		case 'L':
			fo.list = true;
			given |= OPT_FOLLOW;
			break;
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
		return usage_error("missing command (load, lookup, stats, dump, parse, follow)");
	if (given & ~cmd->opts) {
		unsigned int bad = given & ~cmd->opts;

		return usage_error("%s takes no %s option", cmd->name,
				   bad & OPT_PAGE_SHIFT ? "--page-shift" :
				   bad & OPT_VIEW ? "--view" :
				   bad & OPT_DEVICE ? "--device" :
				   bad & OPT_QUIET ? "--quiet" :
				   "--qmp, --interval, --count, --check, --dry-run or --list");
	}
	if (cmd->cmd == CMD_FOLLOW) {
		if (!fo.qmp)
			return usage_error("follow: missing --qmp PATH");
		if (nargs)
			return usage_error("follow: unexpected argument '%s'",
					   args[0]);
		if (fo.check && fo.dry_run)
			return usage_error("follow: --check needs the device, --dry-run has none");
		fo.view = ctl.view;
		fo.device = ctl.device;
		fo.page_shift = ctl.page_shift;
		fo.json = ctl.json;
		fo.quiet = ctl.quiet;
		return follow(&fo);
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
	free(ctl.in_file);
	mf_map_free(&ctl.map);
	return ret;
}
