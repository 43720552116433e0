// SPDX-License-Identifier: GPL-2.0
/*
 * mapfile.c - read the map files of physmapctl (see mapfile.h)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "mapfile.h"

/* " @" and 16 hex digits */
#define OFFSET_SUFFIX_LEN	18
/* report progress every this many lines */
#define PROGRESS_LINES		4096

void mf_map_init(struct mf_map *map)
{
	memset(map, 0, sizeof(*map));
}

void mf_map_free(struct mf_map *map)
{
	size_t i;

	for (i = 0; i < map->count; i++)
		free(map->sections[i].name);
	free(map->sections);
	mf_map_init(map);
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* one or more hex digits at *p, at most 64 bits; advances *p past them */
static int parse_hex(const char **p, __u64 *value)
{
	const char *s = *p;
	__u64 v = 0;
	int digit;

	if (hex_digit(*s) < 0)
		return -1;
	while ((digit = hex_digit(*s)) >= 0) {
		if (v >> 60)
			return -1;
		v = (v << 4) | digit;
		s++;
	}
	*p = s;
	*value = v;
	return 0;
}

/* cut a trailing " @<16 hex digits>" off name into *offset */
static const char *cut_offset(char *name, __u64 *offset)
{
	size_t len = strlen(name);
	const char *q;

	*offset = 0;
	if (len <= OFFSET_SUFFIX_LEN || name[len - OFFSET_SUFFIX_LEN] != ' ' ||
	    name[len - OFFSET_SUFFIX_LEN + 1] != '@')
		return NULL;
	q = name + len - OFFSET_SUFFIX_LEN + 2;
	if (parse_hex(&q, offset) || *q)
		return "bad @offset: want ' @' and 16 hex digits";
	name[len - OFFSET_SUFFIX_LEN] = '\0';
	return NULL;
}

static int append(struct mf_map *map, const struct mf_section *s,
		  const char *name)
{
	struct mf_section *n;

	if (map->count == map->capacity) {
		size_t capacity = map->capacity ? 2 * map->capacity : 256;

		n = realloc(map->sections, capacity * sizeof(*n));
		if (!n)
			return -1;
		map->sections = n;
		map->capacity = capacity;
	}
	n = &map->sections[map->count];
	*n = *s;
	n->name = strdup(name);
	if (!n->name)
		return -1;
	map->count++;
	return 0;
}

static const char *check_range(__u64 start, __u64 last)
{
	if (last < start)
		return "last address below start address";
	if (start == 0 && last == ~0ULL)
		return "range covers the whole 64-bit space, more than a section can";
	return NULL;
}

/* "<start> <last> <kind> <name> [@<offset>]" */
static const char *parse_maps_line(char *line, struct mf_section *s,
				   char **name)
{
	const char *p = line, *what;
	const char *kind_end;

	if (parse_hex(&p, &s->start) || *p++ != ' ')
		return "bad start address (want: <start> <last> <kind> <name>, hex)";
	if (parse_hex(&p, &s->last) || *p++ != ' ')
		return "bad last address (want: <start> <last> <kind> <name>, hex)";
	what = check_range(s->start, s->last);
	if (what)
		return what;
	kind_end = strchr(p, ' ');
	if (!kind_end || kind_end == p)
		return "missing kind or name";
	if ((size_t)(kind_end - p) >= sizeof(s->kind))
		return "kind too long";
	memcpy(s->kind, p, kind_end - p);
	s->kind[kind_end - p] = '\0';
	*name = (char *)kind_end + 1;
	what = cut_offset(*name, &s->offset);
	if (what)
		return what;
	if (!**name)
		return "missing name";
	return NULL;
}

/* "  <start>-<last> (prio <n>, <kind>): <name>[ @<offset>][ ...]" */
static const char *parse_mtree_line(char *line, struct mf_section *s,
				    char **name)
{
	const char *p = line + 2, *what;
	char *kind_end, *at;
	long prio;
	char *end;

	if (parse_hex(&p, &s->start) || *p++ != '-' ||
	    parse_hex(&p, &s->last))
		return "bad range (want: <start>-<last> (prio <n>, <kind>): <name>)";
	if (strncmp(p, " (prio ", 7))
		return "missing \"(prio <n>, <kind>)\"";
	p += 7;
	prio = strtol(p, &end, 10);
	(void)prio;
	if (end == p || strncmp(end, ", ", 2))
		return "bad priority";
	p = end + 2;
	kind_end = strstr(p, "): ");
	if (!kind_end || kind_end == p)
		return "missing kind";
	if ((size_t)(kind_end - p) >= sizeof(s->kind))
		return "kind too long";
	memcpy(s->kind, p, kind_end - p);
	s->kind[kind_end - p] = '\0';
	*name = kind_end + 3;
	what = check_range(s->start, s->last);
	if (what)
		return what;
	/* " @offset" may be followed by accelerators or an owner */
	s->offset = 0;
	at = strstr(*name, " @");
	if (at) {
		const char *q = at + 2;

		if (parse_hex(&q, &s->offset) || q - at != OFFSET_SUFFIX_LEN ||
		    (*q && *q != ' '))
			return "bad @offset: want ' @' and 16 hex digits";
		*at = '\0';
	}
	if (!**name)
		return "missing name";
	return NULL;
}

/* the address space name of an " AS "<name>", root: ..." line, in place */
static char *as_name(char *line)
{
	char *q;

	if (strncmp(line, " AS \"", 5))
		return NULL;
	q = strstr(line + 5, "\", root:");
	if (!q)
		return NULL;
	*q = '\0';
	return line + 5;
}

struct reader {
	const char *path;
	char *err;
	size_t err_size;
};

static int fail(struct reader *r, unsigned int line, const char *fmt, ...)
{
	size_t n;
	va_list ap;

	if (line)
		n = snprintf(r->err, r->err_size, "%s:%u: ", r->path, line);
	else
		n = snprintf(r->err, r->err_size, "%s: ", r->path);
	if (n < r->err_size) {
		va_start(ap, fmt);
		vsnprintf(r->err + n, r->err_size - n, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static int cmp_start(const void *a, const void *b)
{
	const struct mf_section *x = *(const struct mf_section * const *)a;
	const struct mf_section *y = *(const struct mf_section * const *)b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return x->line < y->line ? -1 : x->line > y->line;
}

/* no two sections overlap; the message names the later line of a pair */
static int check_overlaps(struct reader *r, const struct mf_map *map)
{
	const struct mf_section **sorted;
	size_t i;
	int ret = 0;

	if (map->count < 2)
		return 0;
	sorted = malloc(map->count * sizeof(*sorted));
	if (!sorted)
		return fail(r, 0, "%s", strerror(ENOMEM));
	for (i = 0; i < map->count; i++)
		sorted[i] = &map->sections[i];
	qsort(sorted, map->count, sizeof(*sorted), cmp_start);
	for (i = 1; i < map->count; i++) {
		const struct mf_section *a = sorted[i - 1], *b = sorted[i];

		if (b->start <= a->last) {
			if (a->line > b->line) {
				const struct mf_section *t = a;

				a = b;
				b = t;
			}
			ret = fail(r, b->line,
				   "[0x%llx-0x%llx] %s overlaps line %u [0x%llx-0x%llx] %s",
				   (unsigned long long)b->start,
				   (unsigned long long)b->last, b->name, a->line,
				   (unsigned long long)a->start,
				   (unsigned long long)a->last, a->name);
			break;
		}
	}
	free(sorted);
	return ret;
}

static bool blank(const char *line)
{
	return line[strspn(line, " \t\r")] == '\0';
}

/* the number of a CSI sequence's first parameter, or def */
static unsigned int csi_param(const char *p, const char *end, unsigned int def)
{
	unsigned int n = 0;

	if (p == end || *p < '0' || *p > '9')
		return def;
	while (p < end && *p >= '0' && *p <= '9' && n < 10000)
		n = n * 10 + (*p++ - '0');
	return n;
}

/*
 * render_line - the line a terminal would show for line[0..len), in place;
 * returns its length. QEMU's monitor echoes what is typed by redrawing the
 * command line: "i", ESC[K, ESC[D, "in", ... A carriage return or backspace
 * moves the cursor back, ESC[<n>D and ESC[<n>C move it, ESC[K erases to the
 * end of the line; other escape sequences and control characters are
 * dropped. The cursor never moves past the end of the line, so the result
 * is never longer than the input and can be written over it.
 */
static size_t render_line(char *line, size_t len)
{
	size_t i = 0, cur = 0, end = 0;

	while (i < len) {
		unsigned char c = line[i++];

		if (c == '\r') {
			cur = 0;
		} else if (c == '\b') {
			if (cur)
				cur--;
		} else if (c == 0x1b && i < len && line[i] == '[') {
			const char *params = &line[++i];
			unsigned int n;

			while (i < len && (unsigned char)line[i] >= 0x20 &&
			       (unsigned char)line[i] <= 0x3f)
				i++;
			if (i == len)
				break;
			c = line[i++];
			n = csi_param(params, &line[i - 1], 1);
			if (c == 'D')
				cur = n < cur ? cur - n : 0;
			else if (c == 'C')
				cur = n < end - cur ? cur + n : end;
			else if (c == 'K' && csi_param(params, &line[i - 1], 0) == 0)
				end = cur;
		} else if (c == 0x1b) {
			if (i < len)
				i++;	/* ESC and one character: ESC 7, ESC =, ... */
		} else if ((c >= 0x20 && c != 0x7f) || c == '\t') {
			line[cur++] = c;
			if (cur > end)
				end = cur;
		}
	}
	line[end] = '\0';
	return end;
}

/* what the first lines say a file is */
enum format {
	FORMAT_UNKNOWN,
	FORMAT_MAPS,	/* "<start> <last> <kind> <name>" */
	FORMAT_MTREE,	/* "info mtree -f", from its first "FlatView" line */
	FORMAT_MONITOR,	/* a transcript of the monitor: banner, "(qemu) " */
};

#define PROMPT		"(qemu)"
#define BANNER_END	" monitor - type 'help' for more information"

struct loader {
	struct reader r;
	struct mf_map *map;
	enum format format;
	const char *want;	/* the address space of the view */
	/* mtree: 0 before the first "FlatView", 1 in a view we skip, 2 in the
	 * AS lines of a view, 3 in the ranges of the wanted view, 4 after it
	 */
	int state;
	bool wanted;
	char seen[512];		/* the address spaces of the file */
	unsigned int mtree_line;  /* monitor: where "info mtree" output began */
	unsigned int message_line;	/* the first of QEMU's own messages */
	char message[48];
};

/* a map file's line: one or more hex digits and a space */
static bool maps_line(const char *line)
{
	const char *p = line;
	__u64 v;

	return !parse_hex(&p, &v) && *p == ' ';
}

static bool info_mtree_line(const char *line)
{
	return !strncmp(line, "address-space", 13) ||
	       !strncmp(line, "memory-region", 13);
}

/* the monitor's banner: "QEMU 7.2.22 monitor - type 'help' for ..." */
static bool banner_line(const char *line)
{
	return !strncmp(line, "QEMU ", 5) && strstr(line, BANNER_END);
}

/* what QEMU itself prints before the banner: "qemu-system-x86_64: ..." */
static bool qemu_message(const char *line)
{
	size_t n = strcspn(line, " :");

	return !strncmp(line, "qemu", 4) && line[n] == ':' && line[n + 1] == ' ';
}

/* a file in no format physmapctl knows, with the line that told */
static int unknown(struct loader *l, const char *line, unsigned int line_nr)
{
	char start[41];
	size_t i;

	for (i = 0; i < sizeof(start) - 1 && line[i]; i++)
		start[i] = line[i] >= 0x20 && line[i] < 0x7f ? line[i] : '?';
	start[i] = '\0';
	return fail(&l->r, 0,
		    "not a map file, an \"info mtree -f\" dump or a monitor transcript (line %u: \"%s%s\")",
		    line_nr, start, line[i] ? "..." : "");
}

/* the format told by the first line that is not blank, or -1 */
static int sniff(struct loader *l, const char *line, unsigned int line_nr)
{
	if (!strncmp(line, "FlatView #", 10))
		return FORMAT_MTREE;
	if (!strncmp(line, PROMPT, strlen(PROMPT)) || banner_line(line))
		return FORMAT_MONITOR;
	if (maps_line(line))
		return FORMAT_MAPS;
	if (info_mtree_line(line))
		return fail(&l->r, line_nr,
			    "this is \"info mtree\" output; physmapctl reads the flat views of \"info mtree -f\"");
	if (!qemu_message(line))
		return unknown(l, line, line_nr);
	if (!l->message_line) {
		l->message_line = line_nr;
		snprintf(l->message, sizeof(l->message), "%s", line);
	}
	return FORMAT_UNKNOWN;
}

/* a line of "info mtree -f" output; 1 at the end of the wanted view */
static int mtree_line(struct loader *l, char *line, unsigned int line_nr)
{
	struct mf_section s = { 0 };
	const char *what;
	char *name;

	if (!strncmp(line, "FlatView #", 10)) {
		l->state = l->state >= 3 ? 4 : 1;
		l->wanted = false;
		return 0;
	}
	if (l->state == 4 || l->state == 0)
		return 0;
	if (!strncmp(line, " AS \"", 5)) {
		char *as = as_name(line);
		size_t n = strlen(l->seen);

		if (as && !strcmp(as, l->want))
			l->wanted = true;
		if (as && n + strlen(as) + 5 < sizeof(l->seen))
			sprintf(l->seen + n, "%s\"%s\"", n ? ", " : "", as);
		return 0;
	}
	if (!strncmp(line, " Root memory region:", 20)) {
		l->state = l->wanted ? 3 : 1;
		return 0;
	}
	/* after " Root memory region: (none)", QEMU's view of nothing */
	if (!strncmp(line + strspn(line, " "), "No rendered FlatView", 20)) {
		if (l->state != 3)
			return 0;
		return fail(&l->r, line_nr,
			    "QEMU rendered no flat view of address space \"%s\" (its root is none): no sections",
			    l->want);
	}
	if (l->state != 3 || blank(line))
		return 0;
	if (!strncmp(line, "  Dispatch", 10)) {
		l->state = 4;	/* info mtree -f -d: QEMU's own tree */
		return 0;
	}
	if (strncmp(line, "  ", 2))
		return fail(&l->r, line_nr, "unexpected line in a flat view");
	what = parse_mtree_line(line, &s, &name);
	if (what)
		return fail(&l->r, line_nr, "%s", what);
	s.line = line_nr;
	if (append(l->map, &s, name))
		return fail(&l->r, line_nr, "%s", strerror(errno));
	return 0;
}

/*
 * a line of a monitor transcript, rendered: the banner and the output of
 * other commands are skipped; the first "FlatView" line, alone or right
 * after a prompt (when the command was not echoed), starts the dump, and
 * the next prompt ends it (1)
 */
static int monitor_line(struct loader *l, char *line, unsigned int line_nr)
{
	if (!strncmp(line, PROMPT, strlen(PROMPT))) {
		if (l->map->mtree)
			return 1;
		line += strlen(PROMPT);
		line += *line == ' ';
		if (strncmp(line, "FlatView #", 10))
			return 0;	/* the command, echoed */
	}
	if (!l->map->mtree) {
		if (!strncmp(line, "FlatView #", 10))
			l->map->mtree = true;
		else if (info_mtree_line(line) && !l->mtree_line)
			l->mtree_line = line_nr;
		else
			return 0;
	}
	return mtree_line(l, line, line_nr);
}

static int maps_file_line(struct loader *l, char *line, unsigned int line_nr)
{
	struct mf_section s = { 0 };
	const char *what;
	char *name;

	if (blank(line))
		return 0;
	what = parse_maps_line(line, &s, &name);
	if (what)
		return fail(&l->r, line_nr, "%s", what);
	s.line = line_nr;
	if (append(l->map, &s, name))
		return fail(&l->r, line_nr, "%s", strerror(errno));
	return 0;
}

/* what is missing at the end of a file read without error */
static int check_end(struct loader *l)
{
	if (l->format == FORMAT_UNKNOWN && l->message_line)
		return unknown(l, l->message, l->message_line);
	if (l->format == FORMAT_UNKNOWN)
		return fail(&l->r, 0, "no sections");
	if (l->format == FORMAT_MONITOR && !l->map->mtree) {
		if (l->mtree_line)
			return fail(&l->r, 0,
				    "a monitor transcript without \"info mtree -f\" output (line %u on is \"info mtree\" output, without -f)",
				    l->mtree_line);
		return fail(&l->r, 0,
			    "a monitor transcript without \"info mtree -f\" output");
	}
	if (l->map->mtree && l->state < 3)
		return fail(&l->r, 0, "no flat view of address space \"%s\" (%s%s)",
			    l->want, *l->seen ? "the file has " :
			    "no \"AS\" line at all", l->seen);
	if (!l->map->count)
		return fail(&l->r, 0, "no sections");
	return 0;
}

/* read f (named path in messages) into map; total: its size, or 0 */
static int load_stream(struct mf_map *map, FILE *f, size_t total,
		       const char *path, const char *view,
		       mf_progress_fn progress, void *arg, char *err,
		       size_t err_size)
{
	struct loader l = {
		.r = { .path = path, .err = err, .err_size = err_size },
		.map = map,
		.want = !view || !strcmp(view, "memory") ? "memory" :
			!strcmp(view, "io") ? "I/O" : view,
	};
	unsigned int line_nr = 0;
	char *line = NULL;
	size_t line_size = 0, done = 0;
	ssize_t len;
	int ret = 0;

	while ((len = getline(&line, &line_size, f)) >= 0) {
		line_nr++;
		done += len;
		if (progress && !(line_nr % PROGRESS_LINES))
			progress(arg, done, total);
		if (len && line[len - 1] == '\n')
			line[--len] = '\0';
		while (len && line[len - 1] == '\r')
			line[--len] = '\0';
		if (l.format == FORMAT_UNKNOWN || l.format == FORMAT_MONITOR)
			render_line(line, len);
		if (l.format == FORMAT_UNKNOWN) {
			if (blank(line))
				continue;
			ret = sniff(&l, line, line_nr);
			if (ret < 0)
				break;
			if (ret == FORMAT_UNKNOWN)
				continue;
			l.format = ret;
			map->mtree = l.format == FORMAT_MTREE;
			map->monitor = l.format == FORMAT_MONITOR;
			ret = 0;
		}
		if (l.format == FORMAT_MAPS)
			ret = maps_file_line(&l, line, line_nr);
		else if (l.format == FORMAT_MTREE)	/* copied up to a prompt? */
			ret = strncmp(line, PROMPT, strlen(PROMPT)) ?
			      mtree_line(&l, line, line_nr) : 1;
		else
			ret = monitor_line(&l, line, line_nr);
		if (ret)
			break;
	}
	if (ret > 0)
		ret = 0;	/* a prompt after the dump */
	else if (!ret && ferror(f))
		ret = fail(&l.r, 0, "read error: %s", strerror(errno));
	free(line);
	if (progress)
		progress(arg, total, total);
	if (!ret)
		ret = check_end(&l);
	if (!ret)
		ret = check_overlaps(&l.r, map);
	return ret;
}

int mf_load(struct mf_map *map, const char *path, const char *view,
	    mf_progress_fn progress, void *arg, char *err, size_t err_size)
{
	struct reader r = { .path = path, .err = err, .err_size = err_size };
	size_t total = 0;
	struct stat st;
	FILE *f;
	int ret;

	f = fopen(path, "r");
	if (!f)
		return fail(&r, 0, "%s", strerror(errno));
	if (!fstat(fileno(f), &st) && S_ISREG(st.st_mode))
		total = st.st_size;
	ret = load_stream(map, f, total, path, view, progress, arg, err,
			  err_size);
	fclose(f);
	return ret;
}

int mf_load_text(struct mf_map *map, const char *text, size_t len,
		 const char *name, const char *view, char *err,
		 size_t err_size)
{
	struct reader r = { .path = name, .err = err, .err_size = err_size };
	FILE *f;
	int ret;

	if (!len) {	/* fmemopen() of nothing: EINVAL in older C libraries */
		text = "\n";
		len = 1;
	}
	f = fmemopen((void *)text, len, "r");
	if (!f)
		return fail(&r, 0, "%s", strerror(errno));
	ret = load_stream(map, f, 0, name, view, NULL, NULL, err, err_size);
	fclose(f);
	return ret;
}
