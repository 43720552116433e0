// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * libphysmap - a small C library over the /dev/physmap UAPI
 * (see libphysmap.h)
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "libphysmap.h"

/* how often a split batch starts again before EAGAIN */
#define PHYSMAP_RETRIES	16

/* the line of /proc/self/fdinfo/<fd> that names the debugfs directory */
#define PHYSMAP_FDINFO_DEBUGFS	"physmap-debugfs:\t"

int physmap_open(const char *path)
{
	return open(path ? path : PHYSMAP_DEVICE, O_RDWR | O_CLOEXEC);
}

int physmap_close(int fd)
{
	return close(fd);
}

int physmap_begin(int fd, unsigned int page_shift)
{
	struct physmap_begin begin = { .page_shift = page_shift };

	return ioctl(fd, PHYSMAP_IOC_BEGIN, &begin) ? -1 : 0;
}

int physmap_begin_update(int fd, unsigned int page_shift)
{
	struct physmap_begin begin = {
		.page_shift = page_shift,
		.flags = PHYSMAP_BEGIN_UPDATE,
	};

	return ioctl(fd, PHYSMAP_IOC_BEGIN, &begin) ? -1 : 0;
}

int physmap_add(int fd, __u64 start, __u64 size, __u64 cookie, __u64 offset,
		__u32 *index)
{
	struct physmap_section section = {
		.start = start,
		.size = size,
		.cookie = cookie,
		.offset = offset,
	};

	if (ioctl(fd, PHYSMAP_IOC_ADD, &section))
		return -1;
	if (index)
		*index = section.index;
	return 0;
}

int physmap_remove(int fd, __u32 index)
{
	struct physmap_remove rm = { .index = index };

	return ioctl(fd, PHYSMAP_IOC_REMOVE, &rm) ? -1 : 0;
}

int physmap_commit(int fd)
{
	return ioctl(fd, PHYSMAP_IOC_COMMIT) ? -1 : 0;
}

int physmap_lookup(int fd, __u64 addr, struct physmap_section *section,
		   __u64 *generation)
{
	struct physmap_lookup lookup = { .addr = addr };

	if (ioctl(fd, PHYSMAP_IOC_LOOKUP, &lookup))
		return -1;
	*section = lookup.section;
	if (generation)
		*generation = lookup.generation;
	return 0;
}

int physmap_lookup_batch(int fd, const __u64 *addrs, __u32 *indexes,
			 size_t count, __u64 *generation)
{
	int tries;

	for (tries = 0; tries < PHYSMAP_RETRIES; tries++) {
		__u64 first = 0;
		size_t done = 0;
		bool same = true;

		do {
			struct physmap_lookup_batch batch = {
				.addrs = (uintptr_t)(addrs + done),
				.indexes = (uintptr_t)(indexes + done),
				.count = count - done < PHYSMAP_BATCH_MAX ?
					 count - done : PHYSMAP_BATCH_MAX,
			};

			if (ioctl(fd, PHYSMAP_IOC_LOOKUP_BATCH, &batch))
				return -1;
			if (!done)
				first = batch.generation;
			else if (batch.generation != first)
				same = false;
			done += batch.count;
		} while (same && done < count);
		if (same) {
			if (generation)
				*generation = first;
			return 0;
		}
	}
	errno = EAGAIN;
	return -1;
}

int physmap_get_section(int fd, __u32 index, struct physmap_section *section)
{
	memset(section, 0, sizeof(*section));
	section->index = index;
	return ioctl(fd, PHYSMAP_IOC_GET_SECTION, section) ? -1 : 0;
}

int physmap_stats(int fd, struct physmap_stats *stats)
{
	memset(stats, 0, sizeof(*stats));
	return ioctl(fd, PHYSMAP_IOC_STATS, stats) ? -1 : 0;
}

int physmap_debugfs_dir(int fd, char *buf, size_t size)
{
	const size_t key_len = sizeof(PHYSMAP_FDINFO_DEBUGFS) - 1;
	char path[64], line[256], *name = NULL;
	size_t len;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (!name && fgets(line, sizeof(line), f))
		if (!strncmp(line, PHYSMAP_FDINFO_DEBUGFS, key_len))
			name = line + key_len;
	fclose(f);
	if (!name) {
		errno = ENOTTY;
		return -1;
	}
	len = strcspn(name, "\n");
	name[len] = '\0';
	/* "physmap/<id>" and nothing else */
	if (strncmp(name, "physmap/", 8) || len == 8 ||
	    strspn(name + 8, "0123456789") != len - 8) {
		errno = EPROTO;
		return -1;
	}
	if ((size_t)snprintf(buf, size, "%s/%s", PHYSMAP_DEBUGFS, name) >=
	    size) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

const char *physmap_open_hint(int err)
{
	switch (err) {
	case ENOENT:
	case ENODEV:
	case ENXIO:
		return "is physmap loaded? try: sudo modprobe physmap";
	case EACCES:
	case EPERM:
		return PHYSMAP_DEVICE " is root-only by default; a udev rule can hand it to a group (Documentation/99-physmap.rules.example)";
	default:
		return NULL;
	}
}
