/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The API's HTTP parsers: a complete request lies within the input, its
 * path starts with '/' and holds no '?' or control byte, its body is within
 * the limit; every prefix of an accepted request is "need more". The same
 * bytes are also read as a response head (our client's side). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "ports/api-http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rs_http_req q;
	const char *b = (const char *)data;
	if (size > (1u << 20))
		return 0;
	long r = rs_http_parse(b, size, &q);
	if (r > 0) {
		if ((size_t)r > size || q.head_len + q.body_len != (size_t)r ||
		    q.body_len > RS_HTTP_BODY_MAX)
			abort();
		if (q.path[0] != '/' || strchr(q.path, '?') || !q.method[0])
			abort();
		for (const char *p = q.path; *p; p++)
			if ((unsigned char)*p <= 0x20 || *p == 0x7f)
				abort();
		if (q.head_len > 4 && rs_http_parse(b, q.head_len - 1, &q) != 0)
			abort();
	} else if (r != 0 && r != -EINVAL && r != -E2BIG && r != -ENOSYS) {
		abort();
	}
	int status;
	size_t head;
	long cl;
	r = rs_http_parse_response(b, size, &status, &head, &cl);
	if (r > 0 && ((size_t)r > size || status < 100 || status > 999 || cl < -1))
		abort();
	return 0;
}
