/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * The install record (rootless-setup/manifest/v1): the files install wrote,
 * their hashes (or, for a user's own file we only added keys to, those
 * keys and their values), and the directories it created. Root installing for another
 * user keeps it where that user cannot write (var/lib/rootless-setup/users/
 * UID/ENGINE.json, dirs 0700): a record the user can edit would let them
 * name any file for root to delete. A user installing for itself keeps it
 * in ~/.local/state/rootless-setup, and uninstall follows such a record
 * only with that user's credentials (docs/security.md).
 */
#include "install/templates.h"

#define RS_RECORD_ROOT_DIR "/var/lib/rootless-setup/users"
/* the largest record install and uninstall read back */
#define RS_RECORD_MAX (1u << 20)

/* In-host absolute paths; caller frees. */
char *rs_record_user_path(const struct rs_ctx *ctx, enum rs_engine e);
char *rs_record_root_path(const struct rs_ctx *ctx, enum rs_engine e);
/* Whether install writes the record under RS_RECORD_ROOT_DIR. */
bool rs_record_by_root(const struct rs_ctx *ctx);
/* The keys a record's "merged" list names (install merged them into the
 * user's own file, which is not removed): only bare table and key names
 * and one-line values, the rest is skipped. */
struct json_t;
void rs_record_keys(struct json_t *list, struct rs_toml_keys *out);
/* 16 hex digits of rs_gen_hash; static buffer. */
const char *rs_record_hash(const char *text);

/* Shared by the verbs of install.c and uninstall.c. */
/* The RS_GEN_* flags of install's options. */
struct rs_install_opts;
unsigned rs_inst_gen_flags(const struct rs_install_opts *o);
int rs_inst_finish(struct rs_gen_ctx *f, struct rs_report *rep, struct rs_action_report **out);
bool rs_inst_user_manager(const struct rs_ctx *ctx);
/* systemctl --user ARGS for the target user (the caller, or root acting
 * for the user: then run with the user's credentials; see
 * rs_inst_user_manager), recorded as an action. Return: 0 or <0. */
int rs_inst_systemctl(struct rs_gen_ctx *f, const char *rule, char *const argv[]);
/* install's start without a systemd user manager (detach.c): g's launch,
 * detached, as the user, its output in STATE_DIR/launch.log; then a
 * bounded wait for the engine's socket. Recorded as actions. */
void rs_inst_detach(struct rs_gen_ctx *f, enum rs_engine e, const struct rs_gen *g);
/* After starting unit (started: systemctl said so): waits up to 30 s for
 * the engine's socket; when it does not appear, records a failed note with
 * the journalctl command, reads the unit's journal as the user and notes
 * what diagnose finds in it against install's own check (came-up.c). */
void rs_inst_came_up(struct rs_gen_ctx *f, enum rs_engine e, const char *unit, bool started);
/* The same notes for a log install has in hand (a launch's own log, where
 * no user manager runs units); seen_with: how a person reads it. */
void rs_inst_diagnose_log(struct rs_gen_ctx *f, enum rs_engine e, const char *text, size_t len,
			  const char *seen_with);
