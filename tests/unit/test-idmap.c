/* SPDX-License-Identifier: GPL-2.0-or-later */
/* src/host/idmap.c: the maps a launcher writes, built from fixture subuid/subgid. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "host/idmap.h"

struct fx {
	char root[64];
	struct rs_host *h;
	struct rs_user alice; /* 1000:1000 */
	struct rs_user carol; /* 1002:100 */
};

static const char *at(struct fx *f, const char *rel)
{
	static char p[512];
	snprintf(p, sizeof(p), "%s/%s", f->root, rel);
	return p;
}

static void put(struct fx *f, const char *rel, const char *text)
{
	FILE *fp = fopen(at(f, rel), "w");
	if (!fp)
		fail_msg("cannot create %s: %s", rel, strerror(errno));
	fputs(text, fp);
	fclose(fp);
	/* a handle reads the host's files once: this one changed them */
	if (f->h)
		rs_host_forget(f->h);
}

static int rm_one(const char *p, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return type == FTW_DP ? rmdir(p) : unlink(p);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	snprintf(f->root, sizeof(f->root), "/tmp/rs-idmap.XXXXXX");
	if (!mkdtemp(f->root))
		return -1;
	*state = f;
	mkdir(at(f, "etc"), 0755);
	put(f, "etc/passwd",
	    "root:x:0:0::/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\n"
	    "bob:x:1001:1001::/home/bob:/bin/sh\ncarol:x:1002:100::/home/carol:/bin/sh\n");
	put(f, "etc/group", "root:x:0:\nusers:x:100:\n");
	if (rs_host_open(f->root, &f->h, NULL) < 0 ||
	    rs_user_resolve(f->h, "alice", &f->alice, NULL) < 0 ||
	    rs_user_resolve(f->h, "carol", &f->carol, NULL) < 0)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	rs_user_clear(&f->alice);
	rs_user_clear(&f->carol);
	rs_host_free(f->h);
	int r = nftw(f->root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return r;
}

static void build(struct fx *f, const struct rs_user *u, bool gid, struct rs_idmap *m)
{
	struct rs_error *e = NULL;
	int r = rs_idmap_build(f->h, u, gid, m, &e);
	if (r < 0)
		fail_msg("rs_idmap_build: %s", e ? e->msg : strerror(-r));
	assert_null(e);
}

/* e[i] == {inside, outside, count} */
static void ext(const struct rs_idmap *m, size_t i, uint64_t in, uint64_t out, uint64_t count)
{
	if (i >= m->n)
		fail_msg("extent %zu missing (map has %zu)", i, m->n);
	if (m->e[i].inside != in || m->e[i].outside != out || m->e[i].count != count)
		fail_msg("extent %zu = %llu %llu %llu, want %llu %llu %llu", i,
			 (unsigned long long)m->e[i].inside, (unsigned long long)m->e[i].outside,
			 (unsigned long long)m->e[i].count, (unsigned long long)in,
			 (unsigned long long)out, (unsigned long long)count);
}

static void test_idmap_own_id_maps_to_root_first(void **state)
{
	struct fx *f = *state;
	struct rs_idmap m;
	put(f, "etc/subuid", "alice:100000:65536\n");
	build(f, &f->alice, false, &m);
	assert_int_equal(m.n, 2);
	ext(&m, 0, 0, 1000, 1);
	ext(&m, 1, 1, 100000, 65536);
	assert_int_equal(m.subordinate, 65536);
}

static void test_idmap_ranges_sorted_by_start(void **state)
{
	struct fx *f = *state;
	struct rs_idmap m;
	put(f, "etc/subuid", "alice:300000:10\nalice:100000:20\nalice:200000:30\n");
	build(f, &f->alice, false, &m);
	assert_int_equal(m.n, 4);
	ext(&m, 1, 1, 100000, 20);
	ext(&m, 2, 21, 200000, 30);
	ext(&m, 3, 51, 300000, 10);
	assert_int_equal(m.subordinate, 60);
}

static void test_idmap_adjacent_and_overlapping_ranges_merged(void **state)
{
	struct fx *f = *state;
	struct rs_idmap m;
	/* adjacent (165536 follows 100000+65536), overlapping, and contained */
	put(f, "etc/subuid",
	    "alice:165536:100\nalice:100000:65536\nalice:165600:100\n"
	    "alice:100010:5\n");
	build(f, &f->alice, false, &m);
	assert_int_equal(m.n, 2);
	ext(&m, 1, 1, 100000, 65700);
	assert_int_equal(m.subordinate, 65700);
}

static void test_idmap_own_uid_cut_out_of_containing_range(void **state)
{
	struct fx *f = *state;
	struct rs_idmap m;
	put(f, "etc/subuid", "alice:900:200\n");
	build(f, &f->alice, false, &m);
	assert_int_equal(m.n, 3);
	ext(&m, 1, 1, 900, 100);
	ext(&m, 2, 101, 1001, 99);
	assert_int_equal(m.subordinate, 199);
}

static void test_idmap_own_uid_at_range_edges_cut(void **state)
{
	struct fx *f = *state;
	struct rs_idmap m;
	put(f, "etc/subuid", "alice:1000:10\nalice:991:10\n");
	build(f, &f->alice, false, &m);
	/* 991..999 and 1001..1009: a hole of one id, never merged over it */
	assert_int_equal(m.n, 3);
	ext(&m, 1, 1, 991, 9);
	ext(&m, 2, 10, 1001, 9);
	put(f, "etc/subuid", "alice:1000:1\n");
	build(f, &f->alice, false, &m);
	assert_int_equal(m.n, 1);
	assert_int_equal(m.subordinate, 0);
}

static void test_idmap_numeric_owner_counted(void **state)
{
	struct fx *f = *state;
	struct rs_idmap m;
	put(f, "etc/subuid",
	    "1000:200000:65536\nalice:300000:65536\n01000:400000:10\n"
	    "bob:500000:65536\n1001:600000:65536\n");
	build(f, &f->alice, false, &m);
	assert_int_equal(m.n, 3);
	ext(&m, 1, 1, 200000, 65536);
	ext(&m, 2, 65537, 300000, 65536);
	assert_int_equal(m.subordinate, 131072);
}

static void test_idmap_bad_lines_ignored(void **state)
{
	struct fx *f = *state;
	struct rs_idmap m;
	put(f, "etc/subuid", "alice:100000:65536\r\nalice:0x10000:5\nalice:200000:10\n");
	build(f, &f->alice, false, &m);
	assert_int_equal(m.n, 2);
	ext(&m, 1, 1, 200000, 10);
}

static void test_idmap_no_subuid_file_single_map(void **state)
{
	struct fx *f = *state;
	struct rs_idmap m;
	memset(&m, 0xaa, sizeof(m));
	build(f, &f->alice, false, &m); /* asserts *err stays NULL */
	assert_int_equal(m.n, 1);
	ext(&m, 0, 0, 1000, 1);
	assert_int_equal(m.subordinate, 0);
}

static void test_idmap_user_without_ranges_single_map(void **state)
{
	struct fx *f = *state;
	struct rs_idmap m;
	put(f, "etc/subuid", "bob:100000:65536\n");
	build(f, &f->alice, false, &m);
	assert_int_equal(m.n, 1);
	assert_int_equal(m.subordinate, 0);
}

static void test_idmap_gid_map_uses_subgid_and_primary_gid(void **state)
{
	struct fx *f = *state;
	struct rs_idmap m;
	put(f, "etc/subuid", "carol:100000:65536\n");
	put(f, "etc/subgid", "carol:300000:10\ncarol:50:100\n");
	build(f, &f->carol, true, &m);
	/* gid 100 -> 0, 100 cut out of 50..149 */
	assert_int_equal(m.n, 4);
	ext(&m, 0, 0, 100, 1);
	ext(&m, 1, 1, 50, 50);
	ext(&m, 2, 51, 101, 49);
	ext(&m, 3, 100, 300000, 10);
	build(f, &f->carol, false, &m);
	ext(&m, 0, 0, 1002, 1);
	ext(&m, 1, 1, 100000, 65536);
}

static void test_idmap_extents_capped_at_kernel_limit(void **state)
{
	struct fx *f = *state;
	struct rs_idmap m;
	FILE *fp = fopen(at(f, "etc/subuid"), "w");
	assert_non_null(fp);
	for (int i = 0; i < 400; i++)
		fprintf(fp, "alice:%d:10\n", 100000 + i * 100);
	fclose(fp);
	build(f, &f->alice, false, &m);
	assert_int_equal(m.n, RS_IDMAP_MAX);
	ext(&m, RS_IDMAP_MAX - 1, 1 + 10 * (RS_IDMAP_MAX - 2), 100000 + 100 * (RS_IDMAP_MAX - 2),
	    10);
	assert_int_equal(m.subordinate, 10 * (RS_IDMAP_MAX - 1));
}

static void test_idmap_inside_ids_contiguous_below_u32_max(void **state)
{
	struct fx *f = *state;
	struct rs_idmap m;
	/* 1..999 and 1001..2^32-1: inside ids would reach 2^32 - 1 */
	put(f, "etc/subuid", "alice:1:4294967294\n");
	build(f, &f->alice, false, &m);
	assert_true(m.n >= 2);
	for (size_t i = 1; i < m.n; i++)
		assert_true(m.e[i].inside == m.e[i - 1].inside + m.e[i - 1].count);
	/* (u32)-1 is the kernel's "no id": never inside a map */
	assert_true(m.e[m.n - 1].inside + m.e[m.n - 1].count <= UINT32_MAX);
}

/* The kernel's map_write refuses an extent whose lower id is (u32)-1 or whose
 * lower_first + count wraps 32 bits; shadow accepts subuid ranges ending at
 * 2^32, so the map must stop at 2^32 - 2. */
static void test_idmap_outside_ids_exclude_u32_max(void **state)
{
	struct fx *f = *state;
	struct rs_idmap m;
	put(f, "etc/subuid", "alice:100000:65536\nalice:4294901760:65536\n");
	build(f, &f->alice, false, &m);
	assert_true(m.n >= 2);
	for (size_t i = 0; i < m.n; i++)
		if (m.e[i].outside + m.e[i].count > UINT32_MAX)
			fail_msg("extent %zu: outside %llu count %llu reaches 2^32", i,
				 (unsigned long long)m.e[i].outside,
				 (unsigned long long)m.e[i].count);
}

static void test_idmap_single_any_id_one_extent(void **state)
{
	(void)state;
	struct rs_idmap m;
	memset(&m, 0xaa, sizeof(m));
	rs_idmap_single(&m, 4242);
	assert_int_equal(m.n, 1);
	ext(&m, 0, 0, 4242, 1);
	assert_int_equal(m.subordinate, 0);
}

static void test_idmap_parse_proc_uid_map(void **state _unused_)
{
	static const char txt[] = "         0       1000          1\n"
				  "         1     100000      65536\n";
	struct rs_idmap m;
	assert_int_equal(rs_idmap_parse(txt, sizeof(txt) - 1, &m), 0);
	assert_int_equal(m.n, 2);
	ext(&m, 1, 1, 100000, 65536);
	assert_int_equal(rs_idmap_count(&m), 65537);
	assert_true(rs_idmap_covers(&m, 0, 65537));
	assert_false(rs_idmap_covers(&m, 0, 65538));
	assert_false(rs_idmap_covers(&m, 100000, 1));
}

static void test_idmap_parse_refuses_what_the_kernel_cannot_write(void **state _unused_)
{
	static const char *const bad[] = {"0 0 4294967296\n", "0 1000 0\n", "0 1000\n",
					  "0 1000 1 5\n",     "0 -1 1\n",   "0 0x10 1\n",
					  "4294967295 0 2\n"};
	struct rs_idmap m;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (rs_idmap_parse(bad[i], strlen(bad[i]), &m) != -EINVAL || m.n)
			fail_msg("'%s' accepted", bad[i]);
	}
	/* the identity map, with the kernel's padding */
	assert_int_equal(rs_idmap_parse("         0          0 4294967295\n", 33, &m), 0);
	assert_true(rs_idmap_covers(&m, 100000, 65536));
}

#define T(t) cmocka_unit_test_setup_teardown(t, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_idmap_own_id_maps_to_root_first),
		T(test_idmap_ranges_sorted_by_start),
		T(test_idmap_adjacent_and_overlapping_ranges_merged),
		T(test_idmap_own_uid_cut_out_of_containing_range),
		T(test_idmap_own_uid_at_range_edges_cut),
		T(test_idmap_numeric_owner_counted),
		T(test_idmap_bad_lines_ignored),
		T(test_idmap_no_subuid_file_single_map),
		T(test_idmap_user_without_ranges_single_map),
		T(test_idmap_gid_map_uses_subgid_and_primary_gid),
		T(test_idmap_extents_capped_at_kernel_limit),
		T(test_idmap_inside_ids_contiguous_below_u32_max),
		T(test_idmap_outside_ids_exclude_u32_max),
		T(test_idmap_single_any_id_one_extent),
		cmocka_unit_test(test_idmap_parse_proc_uid_map),
		cmocka_unit_test(test_idmap_parse_refuses_what_the_kernel_cannot_write),
	};
	return cmocka_run_group_tests_name("idmap", tests, NULL, NULL);
}
