/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * install, after starting the engine: did it come up? A daemon that dies
 * at once leaves a unit that systemd restarts a few times and then marks
 * failed, and a user who sees only "install: ok". So install waits for the
 * engine's socket, and when it does not appear, reads what the engine
 * logged (the unit's journal, as the user), matches it against the error
 * catalogue and judges it with the check install has just run: the notes
 * say which known error it is, which rule fails, and the exact command to
 * read the journal.
 */
#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "core/diagnose.h"
#include "host/userlog.h"
#include "lib/strutil.h"
#include "lib/xalloc.h"
#include "install/record.h"

#define UP_TIMEOUT_MS 30000
#define UP_STEP_MS    250
#define JOURNALCTL    "/usr/bin/journalctl"

static bool socket_up(const struct rs_ctx *ctx, enum rs_engine e)
{
	const char *sock = rs_engine_info(e)->socket;
	_cleanup_free_ char *run = rs_ctx_runtime_dir(ctx);
	_cleanup_free_ char *path = sock ? rs_xasprintf("%s/%s", run, sock) : NULL;

	return !path || rs_host_exists(ctx->host, rs_host_rel(path));
}

static bool wait_up(const struct rs_ctx *ctx, enum rs_engine e)
{
	struct timespec step = {.tv_nsec = UP_STEP_MS * 1000000L};

	for (unsigned t = 0; t < UP_TIMEOUT_MS; t += UP_STEP_MS) {
		if (socket_up(ctx, e))
			return true;
		nanosleep(&step, NULL);
	}
	return socket_up(ctx, e);
}

/* How a person reads the unit's journal: the user's own command, or root's
 * for another user's unit. Caller frees. */
static char *journal_cmd(const struct rs_ctx *ctx, const char *unit)
{
	if (geteuid() == ctx->user.uid)
		return rs_xasprintf("journalctl --user -u %s", unit);
	return rs_xasprintf("journalctl _UID=%u --user-unit=%s", (unsigned)ctx->user.uid, unit);
}

/* The verdict on what the engine logged, as notes of install. */
static void note_diagnosis(struct rs_gen_ctx *f, enum rs_engine e, const char *text, size_t len,
			   const char *seen_with)
{
	struct rs_diagnosis d = {0};
	struct rs_error *err = NULL;

	if (rs_diag_scan(text, len, RS_ENGINE_BIT(e), &d.scan, &err) < 0) {
		rs_action_add(&f->acts, "install", "note", NULL, "diagnose: %s", err->msg);
		rs_error_free(err);
		return;
	}
	rs_diag_judge(&d, f->ctx);
	if (!d.scan->n) {
		rs_action_add(&f->acts, "install", "note", NULL,
			      "diagnose: no known error in its last %zu lines; read them with: %s",
			      d.scan->lines, seen_with);
	} else {
		const struct rs_diag_match *m = d.culprit_match ? d.culprit_match : &d.scan->m[0];
		rs_action_add(&f->acts, "install", "note", NULL, "diagnose: %s (line %zu: %s): %s",
			      m->entry->id, m->line, m->excerpt, m->entry->cause);
	}
	if (d.verdict == RS_DIAG_FAILS_NOW) {
		_cleanup_free_ char *fix = rs_result_fix_cmd(d.culprit);
		rs_action_add(&f->acts, d.culprit->rule->id, "note", NULL, "%s now: %s%s%s",
			      d.culprit->f.status == RS_STATUS_FAIL ? "fails" : "warns",
			      d.culprit->f.message, fix ? "; fix: " : "",
			      fix		  ? fix
			      : d.culprit->f.hint ? d.culprit->f.hint
						  : "");
	} else if (d.verdict == RS_DIAG_BY_HAND) {
		rs_action_add(&f->acts, "install", "note", NULL, "what to do: %s",
			      d.scan->m[0].entry->fix);
	} else if (d.scan->n && d.scan->m[0].entry->next) {
		rs_action_add(&f->acts, "install", "note", NULL,
			      "the rules it implicates pass; next: %s", d.scan->m[0].entry->next);
	}
	rs_diag_judge_clear(&d);
	rs_diag_scan_free(d.scan);
}

void rs_inst_came_up(struct rs_gen_ctx *f, enum rs_engine e, const char *unit, bool started)
{
	struct rs_ctx *ctx = f->ctx;
	struct rs_error *err = NULL;
	_cleanup_free_ char *text = NULL;
	_cleanup_free_ char *cmd = journal_cmd(ctx, unit);
	_cleanup_free_ char *run = rs_ctx_runtime_dir(ctx);
	size_t len = 0;
	bool truncated = false;

	if (started && wait_up(ctx, e))
		return;
	rs_action_add(&f->acts, "install", "note", NULL,
		      "%s did not come up within %u s: see its journal with: %s", unit,
		      UP_TIMEOUT_MS / 1000, cmd)
		->failed = true;
	if (rs_user_journal(&ctx->user, JOURNALCTL, unit, run, RS_DIAG_INPUT_MAX, 15000, &text,
			    &len, &truncated, &err) < 0) {
		rs_action_add(&f->acts, "install", "note", NULL, "diagnose: %s", err->msg);
		rs_error_free(err);
		return;
	}
	note_diagnosis(f, e, text, len, cmd);
}

void rs_inst_diagnose_log(struct rs_gen_ctx *f, enum rs_engine e, const char *text, size_t len,
			  const char *seen_with)
{
	note_diagnosis(f, e, text, len, seen_with);
}
