/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>

/* The engines rootless-setup prepares; the order is the order of reports. */
enum rs_engine {
	RS_ENGINE_ISULAD,
	RS_ENGINE_CONTAINERD,
	RS_ENGINE_BUILDKIT,
	RS_ENGINE_PODMAN,
	RS_ENGINE_KATA,
	RS_ENGINE_OCI,
	RS_ENGINE_COUNT,
	RS_ENGINE_NONE = RS_ENGINE_COUNT, /* the common rules, no engine chosen */
};

#define RS_ENGINE_BIT(e) (1u << (e))
#define RS_ENGINES_ALL ((1u << RS_ENGINE_COUNT) - 1)
/* engines that keep images on a snapshotter / graph driver */
#define RS_ENGINES_STORAGE                                                     \
	(RS_ENGINE_BIT(RS_ENGINE_ISULAD) | RS_ENGINE_BIT(RS_ENGINE_CONTAINERD) | \
	 RS_ENGINE_BIT(RS_ENGINE_BUILDKIT) | RS_ENGINE_BIT(RS_ENGINE_PODMAN))

struct rs_engine_info {
	const char *name;
	const char *const *binaries; /* root-relative; any present selects it by default */
	const char *data_dir;        /* below the user's home, or NULL */
};

const struct rs_engine_info *rs_engine_info(enum rs_engine e);
/* "isulad", "devkit" (alias of buildkit), "all"... Return: 0 with *mask set,
 * or -EINVAL. */
int rs_engine_parse(const char *name, unsigned *mask);
const char *rs_engine_name(enum rs_engine e);
