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

int mf_load(struct mf_map *map, const char *path, const char *view,
	    mf_progress_fn progress, void *arg, char *err, size_t err_size)
{
	struct reader r = { .path = path, .err = err, .err_size = err_size };
	const char *want = !view || !strcmp(view, "memory") ? "memory" :
			   !strcmp(view, "io") ? "I/O" : view;
	/* mtree: 0 before the first "FlatView", 1 in a view we skip, 2 in the
	 * AS lines of a view, 3 in the ranges of the wanted view, 4 after it
	 */
	int state = 0, wanted = 0;
	char seen[512] = "";
	unsigned int line_nr = 0;
	char *line = NULL;
	size_t line_size = 0, total = 0, done = 0;
	struct stat st;
	ssize_t len;
	FILE *f;
	int ret = 0;

	f = fopen(path, "r");
	if (!f)
		return fail(&r, 0, "%s", strerror(errno));
	if (!fstat(fileno(f), &st) && S_ISREG(st.st_mode))
		total = st.st_size;
	while ((len = getline(&line, &line_size, f)) >= 0) {
		struct mf_section s = { 0 };
		const char *what = NULL;
		char *name;

		line_nr++;
		done += len;
		if (progress && !(line_nr % PROGRESS_LINES))
			progress(arg, done, total);
		if (len && line[len - 1] == '\n')
			line[--len] = '\0';
		if (len && line[len - 1] == '\r')
			line[--len] = '\0';

		if (line_nr == 1 || (!map->mtree && !map->count)) {
			if (!strncmp(line, "FlatView #", 10))
				map->mtree = true;
			else if (!strncmp(line, "address-space", 13) ||
				 !strncmp(line, "memory-region", 13))
				ret = fail(&r, line_nr,
					   "this is \"info mtree\" output; physmapctl reads the flat views of \"info mtree -f\"");
		}
		if (ret)
			break;
		if (!map->mtree) {
			if (blank(line))
				continue;
			what = parse_maps_line(line, &s, &name);
		} else if (!strncmp(line, "FlatView #", 10)) {
			if (state >= 3)
				state = 4;
			else
				state = 1;
			wanted = 0;
			continue;
		} else if (state == 4 || state == 0) {
			continue;
		} else if (!strncmp(line, " AS \"", 5)) {
			char *as = as_name(line);

			if (as && !strcmp(as, want))
				wanted = 1;
			if (as && strlen(seen) + strlen(as) + 5 < sizeof(seen))
				sprintf(seen + strlen(seen), "%s\"%s\"",
					*seen ? ", " : "", as);
			continue;
		} else if (!strncmp(line, " Root memory region:", 20) ||
			   !strncmp(line, " No rendered FlatView", 21)) {
			state = wanted ? 3 : 1;
			continue;
		} else if (state != 3 || blank(line)) {
			continue;
		} else if (!strncmp(line, "  Dispatch", 10)) {
			state = 4;	/* info mtree -f -d: QEMU's own tree */
			continue;
		} else if (!strncmp(line, "  ", 2)) {
			what = parse_mtree_line(line, &s, &name);
		} else {
			what = "unexpected line in a flat view";
		}
		if (what) {
			ret = fail(&r, line_nr, "%s", what);
			break;
		}
		s.line = line_nr;
		if (append(map, &s, name)) {
			ret = fail(&r, line_nr, "%s", strerror(errno));
			break;
		}
	}
	if (!ret && ferror(f))
		ret = fail(&r, 0, "read error: %s", strerror(errno));
	free(line);
	fclose(f);
	if (progress)
		progress(arg, total, total);
	if (!ret && map->mtree && state < 3)
		ret = fail(&r, 0, "no flat view of address space \"%s\" (%s%s)",
			   want, *seen ? "the file has " : "no \"AS\" line at all",
			   seen);
	if (!ret && !map->count)
		ret = fail(&r, 0, "no sections");
	if (!ret)
		ret = check_overlaps(&r, map);
	return ret;
}
