/* SPDX-License-Identifier: GPL-2.0 */
/*
 * physmapctl.h - what physmapctl.c shares with follow.c: exit statuses,
 * the options of "physmapctl follow" and the JSON string writer
 */
#ifndef _PHYSMAPCTL_H
#define _PHYSMAPCTL_H

#include <stdbool.h>

/* exit statuses */
#define EXIT_OK		0
#define EXIT_USAGE	1	/* bad command line */
#define EXIT_FILE	2	/* FILE unreadable, malformed or overlapping */
#define EXIT_NODEV	3	/* /dev/physmap cannot be opened */
#define EXIT_DEVICE	4	/* an ioctl failed */
#define EXIT_INPUT	5	/* load: a command read from stdin was bad or refused */
#define EXIT_QMP	6	/* follow: QMP could not be used */
#define EXIT_CHECK	7	/* follow --check: the device disagreed */

/**
 * struct follow_opts - the command line of "physmapctl follow"
 * @qmp: QEMU's QMP socket, or a character device that reaches it.
 * @view: the flat view: "memory" (NULL), "io", an address space's name.
 * @device: /dev/physmap, or another node.
 * @page_shift: of the map (0: the default).
 * @interval_ms: re-read the view this often; 0: on events alone.
 * @count: stop after this many updates; -1: never.
 * @check: after every commit, hold the device's answers against the view.
 * @dry_run: print the updates, with no device.
 * @list: print the first map's sections too.
 * @json: JSON output.
 * @quiet: no messages on stderr but errors.
 */
struct follow_opts {
	const char *qmp;
	const char *view;
	const char *device;
	unsigned int page_shift;
	long interval_ms;
	long count;
	bool check;
	bool dry_run;
	bool list;
	bool json;
	bool quiet;
};

/* follow - run "physmapctl follow"; returns the exit status */
int follow(const struct follow_opts *o);

/* put_json_string - print @s on stdout as a JSON string, quoted and escaped */
void put_json_string(const char *s);

#endif /* _PHYSMAPCTL_H */
