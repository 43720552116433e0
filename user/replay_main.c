// SPDX-License-Identifier: GPL-2.0
/*
 * Replays fuzzer inputs without libFuzzer, for sanitizer and valgrind runs:
 * every file named, and every file of every directory named.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_file(const char *path)
{
	static uint8_t buf[1 << 20];
	FILE *f = fopen(path, "rb");
	size_t n;

	if (!f) {
		perror(path);
		return -1;
	}
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	LLVMFuzzerTestOneInput(buf, n);
	return 0;
}

int main(int argc, char **argv)
{
	unsigned int files = 0;
	char path[4096];
	struct dirent *de;
	struct stat st;
	int i;

	for (i = 1; i < argc; i++) {
		DIR *d;

		if (stat(argv[i], &st) || !S_ISDIR(st.st_mode)) {
			if (replay_file(argv[i]))
				return 1;
			files++;
			continue;
		}
		d = opendir(argv[i]);
		while (d && (de = readdir(d))) {
			if (de->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", argv[i], de->d_name);
			if (replay_file(path))
				return 1;
			files++;
		}
		if (d)
			closedir(d);
	}
	printf("replay: %u inputs, no difference\n", files);
	return files ? 0 : 1;
}
