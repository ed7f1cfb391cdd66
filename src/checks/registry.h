/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "core/rule.h"

/* Every rule of this version, in report order (checks/rules.def). The
 * verbs hand it to the core (rs_check_opts.rules, rs_rule_find), which
 * owns no rule table of its own. */
extern const struct rs_ruleset rs_rules;
