/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * Engine configuration from the check's decisions, the engine table's
 * layout and the user's XDG paths: containerd config.toml, iSulad
 * daemon.json, BuildKit buildkitd.toml (DevKit devkitd.toml), Podman
 * containers.conf or libpod.conf, and a systemd user unit that starts the
 * daemon through `rootless-setup launch`. The files' text is template data
 * (templates/data.h); which templates and values, this module decides.
 */
#include <stdbool.h>
#include <stdint.h>
#include "core/actions.h"
#include "core/check.h"

/* What generate, install and uninstall act on: the check's context, and the
 * actions they record (acts.dry_run: plan only). */
struct rs_gen_ctx {
	struct rs_ctx *ctx;
	struct rs_actions acts;
};

struct rs_gen_file {
	char *path;    /* in-host absolute path, e.g. /home/alice/.config/... */
	char *text;
	bool json;     /* merge into an existing file (keys added, user values kept) */
	bool unit;     /* the systemd user unit */
};

struct rs_gen {
	struct rs_gen_file *f;
	size_t n;
	char *launch_cmd; /* the exact command the unit runs, for a shell */
	char *unit_exec;  /* the same, quoted for ExecStart= */
};

/* Renders the files of engine e for the report's user and decisions.
 * self is the path of the rootless-setup binary the unit runs; with
 * default_runtime, Kata becomes Podman's default runtime.
 * Return: 0, or -ENOTSUP for an engine with nothing to generate. */
int rs_gen_render(const struct rs_report *rep, enum rs_engine e, const char *self,
		  bool default_runtime, struct rs_gen *out);
void rs_gen_clear(struct rs_gen *g);
/* Merges generated JSON into existing text: keys we need are added, the
 * user's values and unknown keys stay in their order; *conflicts lists keys
 * where the user chose otherwise (kept). Return: merged text or NULL when
 * the existing text is not a JSON object (then nothing is written). */
char *rs_gen_merge_json(const char *old, const char *ours, char **conflicts);

/* Writes one generated file at rel below h (owned uid:gid, parents 0700):
 * an existing JSON file is merged, any other existing file that differs is
 * left alone unless force. Records the action on shown, the path as it was
 * written (generate --output DIR: DIR/NAME). Return: 1, 0, or <0. */
int rs_gen_write(struct rs_gen_ctx *f, const struct rs_host *h, const char *rel,
		 const char *shown, const struct rs_gen_file *gf, bool force, uid_t uid, gid_t gid);
uint64_t rs_gen_hash(const char *s);
