/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <string.h>
#include "core/engine.h"

#define BINS(...) ((const char *const[]){__VA_ARGS__, NULL})

static const struct rs_engine_info engines[RS_ENGINE_COUNT] = {
	[RS_ENGINE_ISULAD] = {"isulad", BINS("usr/bin/isulad", "usr/local/bin/isulad"),
			      ".local/share/isulad"},
	[RS_ENGINE_CONTAINERD] = {"containerd",
				  BINS("usr/bin/containerd", "usr/local/bin/containerd"),
				  ".local/share/containerd"},
	[RS_ENGINE_BUILDKIT] = {"buildkit", BINS("usr/bin/buildkitd", "usr/local/bin/buildkitd"),
				".local/share/buildkit"},
	[RS_ENGINE_PODMAN] = {"podman", BINS("usr/bin/podman", "usr/local/bin/podman"),
			      ".local/share/containers/storage"},
	[RS_ENGINE_KATA] = {"kata",
			    BINS("usr/bin/kata-runtime", "usr/bin/containerd-shim-kata-v2",
				 "opt/kata/bin/kata-runtime", "usr/local/bin/kata-runtime"),
			    ".local/share/containers/storage"},
	[RS_ENGINE_OCI] = {"oci", BINS("usr/bin/runc", "usr/bin/crun", "usr/sbin/runc",
				       "usr/local/bin/runc", "usr/local/bin/crun"),
			   NULL},
};

const struct rs_engine_info *rs_engine_info(enum rs_engine e)
{
	return e < RS_ENGINE_COUNT ? &engines[e] : NULL;
}

const char *rs_engine_name(enum rs_engine e)
{
	return e < RS_ENGINE_COUNT ? engines[e].name : "common";
}

int rs_engine_parse(const char *name, unsigned *mask)
{
	if (strcmp(name, "all") == 0) {
		*mask = RS_ENGINES_ALL;
		return 0;
	}
	if (strcmp(name, "devkit") == 0)
		name = "buildkit";
	for (unsigned i = 0; i < RS_ENGINE_COUNT; i++) {
		if (strcmp(name, engines[i].name) == 0) {
			*mask = RS_ENGINE_BIT(i);
			return 0;
		}
	}
	return -EINVAL;
}
