/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* libmount, libblkid, libselinux and libacl are opened on first use
 * (libs.c). When one could not be loaded: "cannot load 'SONAME': why",
 * else NULL. */
const char *rs_libs_error(void);
