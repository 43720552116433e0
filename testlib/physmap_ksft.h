/* SPDX-License-Identifier: GPL-2.0 */
/*
 * physmap_ksft.h - helpers of the selftests written with
 * kselftest_harness.h, which is to be included first. Header only: the
 * helpers assert, and the harness's asserts are macros of each test binary.
 */
#ifndef _PHYSMAP_KSFT_H
#define _PHYSMAP_KSFT_H

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "physmap_maps.h"

/*
 * Every test needs PHYSMAP_DEV. Without it (physmap.ko not loaded), or
 * without the right to open it, the binary skips as a whole before the
 * harness runs a test: "1..0 # SKIP" and the reason, exit status KSFT_SKIP,
 * as kselftest wants of a test whose feature is missing. Nothing is opened
 * here, so no test sees an fd or a debugfs directory it did not make.
 */
static void __attribute__((constructor)) pm_require_dev(void)
{
	struct stat st;

	if (stat(PHYSMAP_DEV, &st))
		ksft_exit_skip("%s: %s: physmap.ko is not loaded (insmod physmap.ko)\n",
			       PHYSMAP_DEV, strerror(errno));
	if (access(PHYSMAP_DEV, R_OK | W_OK))
		ksft_exit_skip("%s: %s: the tests open it read-write (run them as root)\n",
			       PHYSMAP_DEV, strerror(errno));
}

/*
 * pm_open_dev - open PHYSMAP_DEV with flags (and O_CLOEXEC): the new fd; the
 * test fails when the device cannot be opened
 */
static inline int pm_open_dev(struct __test_metadata *_metadata, int flags)
{
	int fd = open(PHYSMAP_DEV, flags | O_CLOEXEC);

	ASSERT_LE(0, fd)
		TH_LOG("cannot open " PHYSMAP_DEV ": %s (is physmap loaded?)",
		       strerror(errno));
	return fd;
}

/* open_physmap - a new address space: PHYSMAP_DEV opened read-write */
static inline int open_physmap(struct __test_metadata *_metadata)
{
	return pm_open_dev(_metadata, O_RDWR);
}

#endif /* _PHYSMAP_KSFT_H */
