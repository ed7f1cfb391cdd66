/* SPDX-License-Identifier: GPL-2.0-or-later */
/* --net-bypass's rules (src/launch/bypass-rules.c): an accepted list
 * matches each of its networks' own addresses, a refused one leaves the
 * rules unchanged; the input read as a sockaddr (what the supervisor reads
 * from a caller's memory) never reads past its length. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "launch/bypass.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rs_bypass_rules r = {0};
	struct rs_bypass_net a;
	uint16_t port;
	if (size > 4096)
		return 0;
	char *s = malloc(size + 1);
	memcpy(s, data, size);
	s[size] = '\0';
	if (rs_bypass_rules_add(&r, s) == 0) {
		static const unsigned char mapped[12] = {[10] = 0xff, [11] = 0xff};
		/* an IPv4-mapped address is judged by the IPv4 networks */
		for (size_t i = 0; i < r.n; i++)
			if (memcmp(r.v[i].addr, mapped, 12) != 0 &&
			    !rs_bypass_rules_match(&r, &r.v[i]))
				abort();
	} else if (r.n != 0) {
		abort();
	}
	unsigned char *copy = malloc(size ? size : 1);
	memcpy(copy, data, size);
	if (rs_bypass_sockaddr(copy, size, &a, &port) == 0 && rs_bypass_rules_match(&r, &a))
		(void)port;
	free(copy);
	rs_bypass_rules_free(&r);
	free(s);
	return 0;
}
