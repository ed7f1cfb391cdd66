/* SPDX-License-Identifier: GPL-2.0-or-later */
/* glibc's locale archive (isulad.locale): any bytes are either found to
 * hold a name, not to, too short (with the length to read), or not an
 * archive, never read out of bounds. The same bytes as locale.gen(5):
 * enabling an entry gives a text that enables it, once. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "host/parse.h"

#define FUZZ_MAX (1u << 20)

static void archive(const char *buf, size_t size)
{
	static const char *const names[] = {"en_US.utf8", "en_US.UTF-8", "C.utf8", ""};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		size_t need = 0;
		int r = rs_locale_archive_has(buf, size, names[i], &need);
		if (r != 0 && r != 1 && r != -ENODATA && r != -EINVAL)
			abort();
		if (r == -ENODATA && need <= size)
			abort();
		if ((r == 0 || r == 1) && (need > size || need > RS_LOCALE_ARCHIVE_SPAN))
			abort();
	}
}

static void locale_gen(const char *buf, size_t size)
{
	static const char entry[] = "en_US.UTF-8 UTF-8";
	if (memchr(buf, '\0', size))
		return;
	char *t = rs_locale_gen_enable(buf, size, entry);
	if (!t)
		return;
	if (!strstr(t, entry))
		abort();
	char *again = rs_locale_gen_enable(t, strlen(t), entry);
	if (again)
		abort();
	free(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > FUZZ_MAX)
		return 0;
	/* an owned copy, so reads past size are caught */
	char *buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	archive(buf, size);
	locale_gen(buf, size);
	free(buf);
	return 0;
}
