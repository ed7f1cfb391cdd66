/* SPDX-License-Identifier: GPL-2.0-or-later */
/* /proc/sys values: a number is accepted only as its canonical decimal text
 * (white space around it allowed); anything else is -EINVAL or -ERANGE.
 * The same bytes are also read as a sysctl.d(5) file. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "host/parse.h"

#define FUZZ_MAX (1u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t v = 0;
	if (size > FUZZ_MAX)
		return 0;
	int r = rs_sysctl_parse_u64((const char *)data, size, &v);
	size_t a = 0, b = size;
	while (a < b && isspace(data[a]))
		a++;
	while (b > a && isspace(data[b - 1]))
		b--;
	if (r == 0) {
		char txt[32];
		int n = snprintf(txt, sizeof(txt), "%" PRIu64, v);
		if (n < 0 || (size_t)n != b - a || memcmp(txt, data + a, b - a) != 0)
			abort();
	} else if (r == -ERANGE) {
		/* only text that starts with 20+ digits, no leading zero (the
		 * overflow is seen before any later garbage) */
		if (b - a < 20 || data[a] == '0')
			abort();
		for (size_t i = a; i < a + 20; i++)
			if (!isdigit(data[i]))
				abort();
	} else if (r != -EINVAL) {
		abort();
	}

	static const char *const keys[] = {"kernel.unprivileged_userns_clone",
					   "user.max_user_namespaces",
					   "kernel.apparmor_restrict_unprivileged_userns"};
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		char *s = rs_sysctl_conf_get((const char *)data, size, keys[i]);
		if (s && strchr(s, '\n'))
			abort();
		free(s);
	}
	return 0;
}
