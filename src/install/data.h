/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * The engines' file templates: src/install/data/NAME.in, compiled in by
 * scripts/embed-data.sh. A template is the file as written, with @NAME@
 * where a value goes; it holds no logic: C decides which templates and
 * fragments make a file, and quotes every value for the file's syntax.
 */
#include <stddef.h>

struct rs_template_blob {
	const char *name; /* "containerd-config.toml" for data/containerd-config.toml.in */
	const char *text;
	size_t len;
};
extern const struct rs_template_blob rs_template_blobs[];

/* The text of template name, or NULL. */
const char *rs_template_text(const char *name);
/* Template name with each @KEY@ replaced by its value; vars is KEY, value,
 * ..., NULL. Values are inserted as they are and never scanned again. A
 * missing template or a key without a value is a bug: it aborts (every
 * template is filled by the unit test). Caller frees. */
char *rs_template_fill(const char *name, const char *const *vars);
/* rs_template_fill of each name in turn, concatenated (the fragments of
 * one file); names ends with NULL. */
char *rs_template_join(const char *const *names, const char *const *vars);
