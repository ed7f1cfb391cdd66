/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The front end: only main.c and the cmd-*.c verb files print, exit, read
 * the environment or see argv. */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include "lib/macro.h"

enum {
	RS_EXIT_OK = 0,
	RS_EXIT_FAIL = 1,
	RS_EXIT_USAGE = 2,
	RS_EXIT_HOST = 3,
	RS_EXIT_UNRECOGNISED = 4, /* diagnose: nothing in the text is a known error */
};

/* JSONL: one JSON object a line, as it is made (check only: a fleet
 * report's lines, rootless-setup(8) JSON OUTPUT) */
enum rs_format { RS_FORMAT_TEXT, RS_FORMAT_JSON, RS_FORMAT_JSONL };
enum rs_color { RS_COLOR_AUTO, RS_COLOR_ALWAYS, RS_COLOR_NEVER };

/* Global options, accepted before or after the command (rootless-setup(8)). */
struct rs_cli {
	const char *root;
	const char *user;
	const char *distro;
	unsigned engines;
	bool engines_given;
	enum rs_format format;
	enum rs_color color;
	int verbosity;	  /* -1 quiet, 0, 1 verbose */
	const char *verb; /* the command being run, once known */
	/* invoked as `rootlesskit` (argv[0]'s base name): the command line is
	 * launch's, in RootlessKit's compatibility mode */
	bool as_rootlesskit;
};

enum {
	OPT_ROOT = 0x100,
	OPT_USER,
	OPT_ENGINE,
	OPT_DISTRO,
	OPT_FORMAT,
	OPT_COLOR,
	OPT_VERSION,
	OPT_VERB_BASE = 0x200, /* verbs number their long-only options from here */
};

#define RS_GLOBAL_LONGOPTS                                                                        \
	{"root", required_argument, NULL, OPT_ROOT}, {"user", required_argument, NULL, OPT_USER}, \
		{"engine", required_argument, NULL, OPT_ENGINE},                                  \
		{"distro", required_argument, NULL, OPT_DISTRO},                                  \
		{"format", required_argument, NULL, OPT_FORMAT},                                  \
		{"color", required_argument, NULL, OPT_COLOR}, {"quiet", no_argument, NULL, 'q'}, \
		{"verbose", no_argument, NULL, 'v'}, {"help", no_argument, NULL, 'h'},            \
	{                                                                                         \
		"version", no_argument, NULL, OPT_VERSION                                         \
	}
#define RS_GLOBAL_SHORTOPTS "qvh"

struct rs_cmd {
	const char *name;
	const char *summary;
	int (*run)(struct rs_cli *cli, int argc, char **argv);
};

/* Handles a global option code from getopt_long. Returns 1 when handled,
 * 0 when c is not global; exits 2 on a bad value. 'h' calls help(). */
int rs_cli_global(struct rs_cli *cli, int c, const char *arg, void (*help)(void));
_noreturn_ void rs_cli_usage_error(const char *fmt, ...) _printf_(1, 2);
void rs_cli_msg(const char *fmt, ...) _printf_(1, 2);
/* rs_escape(s) for a text field; the result stays valid for the next 15
 * calls (a ring), so one printf can show several fields. NULL gives NULL. */
const char *rs_cli_esc(const char *s);
bool rs_cli_use_color(const struct rs_cli *cli, FILE *f);
/* Flushes stdout; a closed pipe (| head -1) is not an error. Returns code. */
int rs_cli_finish(int code);

struct rs_check_opts;
struct rs_error;
/* The check options every verb shares, from the global options and the
 * environment (SUDO_USER, PKEXEC_UID, XDG_*): the one place they are read. */
void rs_cli_check_opts(const struct rs_cli *cli, struct rs_check_opts *o);
/* Prints err (or strerror(-r)), frees it, and returns the exit code of its
 * class: 2 for what the caller named, 3 for the host. */
int rs_cli_fail(int r, struct rs_error *err);
/* The uid root acts for: --user, else SUDO_USER or PKEXEC_UID; (uid_t)-1
 * when the caller is not root or names nobody. Exits (rs_cli_fail) when
 * the name resolves to no user. */
unsigned rs_cli_target_uid(const struct rs_cli *cli);
/* The runtime dir holding a launch's state for target (rs_cli_target_uid):
 * that user's /run/user/UID, which root then walks without following the
 * user's links; for (uid_t)-1 the caller's own ($XDG_RUNTIME_DIR, else
 * /run/user/UID). Caller frees. */
char *rs_cli_runtime_dir(unsigned target);
/* The one engine --engine named; exits 2 ("VERB takes exactly one
 * --engine") otherwise. Return: an enum rs_engine. */
unsigned rs_cli_one_engine(const struct rs_cli *cli, const char *verb);

struct rs_ctx;
struct rs_result;
/* One rule's line of a check report (status, id padded to width, message)
 * and its hint, docs and fix lines, as check prints them. */
void rs_cli_print_result(const struct rs_cli *cli, const struct rs_ctx *ctx,
			 const struct rs_result *r, int width);

struct rs_action_report;
/* Prints actions (text) or the actions/v1 document; frees r; returns the
 * exit code (1 when an action failed). */
int rs_cli_emit_actions(const struct rs_cli *cli, struct rs_action_report *r, bool dry);
void rs_cli_print_actions(const struct rs_action_report *r, bool dry);

extern const struct rs_cmd rs_cmd_check, rs_cmd_rules, rs_cmd_explain, rs_cmd_fix, rs_cmd_generate,
	rs_cmd_install, rs_cmd_uninstall, rs_cmd_launch, rs_cmd_nsenter, rs_cmd_ports, rs_cmd_oci,
	rs_cmd_diagnose;
