/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "host/proc.h"

int rs_proc_stat_at(int procfd, char *state, unsigned long long *start)
{
	char buf[1024];
	int fd = openat(procfd, "stat", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	int e = errno;
	close(fd);
	if (n < 0)
		return -e;
	if (n == 0)
		return -ESRCH;
	buf[n] = '\0';
	/* comm may hold spaces and ')': fields restart after the last ')' */
	char *p = strrchr(buf, ')');
	if (!p || p[1] != ' ' || !p[2])
		return -EINVAL;
	*state = p[2];
	p++;
	for (int field = 3; field < 22 && p; field++)
		p = strchr(p + 1, ' ');
	if (!p)
		return -EINVAL;
	*start = strtoull(p + 1, NULL, 10);
	return 0;
}

unsigned long long rs_proc_starttime(pid_t pid)
{
	char path[64], state = 0;
	unsigned long long start = 0;

	snprintf(path, sizeof(path), "/proc/%d", (int)pid);
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	int r = rs_proc_stat_at(fd, &state, &start);
	close(fd);
	return r < 0 ? 0 : start;
}
