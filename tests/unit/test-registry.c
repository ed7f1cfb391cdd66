/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The rule registry (src/checks/rules.def) and the fixers its descriptors
 * name: the invariants fix and the man page rely on. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include "checks/registry.h"
#include "fixers/fixer.h"

static void ids_unique_and_well_formed(void **state)
{
	(void)state;
	assert_true(rs_rules.n > 0);
	assert_null(rs_rules.v[rs_rules.n]);
	for (size_t i = 0; i < rs_rules.n; i++) {
		const struct rs_rule *r = rs_rules.v[i];
		const char *dot = strchr(r->id, '.');
		assert_non_null(dot);
		assert_true(dot > r->id && dot[1] != '\0');
		assert_non_null(r->summary);
		assert_non_null(r->explain);
		assert_non_null(r->run);
		assert_ptr_equal(rs_rule_find(&rs_rules, r->id), r);
		for (size_t j = i + 1; j < rs_rules.n; j++)
			assert_string_not_equal(r->id, rs_rules.v[j]->id);
	}
}

static void fixers_are_complete_and_ordered(void **state)
{
	(void)state;
	const struct rs_rule *group = rs_rule_find(&rs_rules, "kvm.group");
	const struct rs_rule *device = rs_rule_find(&rs_rules, "kvm.device");
	size_t with = 0;

	for (size_t i = 0; i < rs_rules.n; i++)
		if (rs_rules.v[i]->fixer) {
			assert_non_null(rs_rules.v[i]->fixer->run);
			with++;
		}
	assert_true(with > 0);
	/* the group must exist before the device is given to it */
	assert_non_null(group);
	assert_non_null(device);
	assert_non_null(group->fixer);
	assert_non_null(device->fixer);
	assert_true(group->fixer->order < device->fixer->order);
	/* a rule without a fixer says so (report.c prints no fix: line) */
	assert_null(rs_rule_find(&rs_rules, "kernel.version")->fixer);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ids_unique_and_well_formed),
		cmocka_unit_test(fixers_are_complete_and_ordered),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
