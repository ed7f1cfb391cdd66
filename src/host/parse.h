/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * Hand-written parsers, for formats no library reads: os-release(5),
 * subuid(5)/subgid(5), login.defs(5) and /proc/sys values. They work on a
 * buffer, never touch the host, never fail on content (bad lines are
 * recorded, not fatal), and each has a libFuzzer target in tests/fuzz/.
 * Also: /proc/PID/status fields, the security.capability xattr and
 * systemd unit files (the keys the rules read).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "lib/strutil.h"

struct rs_osrelease {
	char *id, *id_like, *version_id, *name, *pretty_name, *variant_id;
};
/* Return: 0; unknown keys and malformed lines are ignored (os-release(5)). */
int rs_osrelease_parse(const char *buf, size_t len, struct rs_osrelease *out);
void rs_osrelease_clear(struct rs_osrelease *o);

struct rs_subid_range {
	char *owner;
	uint64_t start, count;
	unsigned line;
};
struct rs_subid_file {
	struct rs_subid_range *r;
	size_t n, cap;
	/* lines shadow's subordinate_parse rejects: newuidmap ignores them, so
	 * their ids are invisible to it and to useradd's allocator */
	unsigned *bad_lines;
	size_t nbad, bad_cap;
};
int rs_subid_parse(const char *buf, size_t len, struct rs_subid_file *out);
void rs_subid_clear(struct rs_subid_file *f);

struct rs_logindefs {
	uint64_t uid_min, uid_max;
	uint64_t sub_uid_min, sub_uid_max, sub_uid_count;
	uint64_t sub_gid_min, sub_gid_max, sub_gid_count;
	bool invalid; /* a value did not parse, or MIN > MAX: shadow's defaults apply */
};
/* Fills shadow's defaults first (100000 / 600100000 / 65536; UID_MIN 1000). */
int rs_logindefs_parse(const char *buf, size_t len, struct rs_logindefs *out);

/*
 * One line of passwd(5) or group(5), split without copying: each field is
 * a span of the line. What glibc's files backend skips is refused
 * (-EINVAL): a blank or '#' line, fewer fields than the format has, a uid
 * or gid that is not a decimal number below 2^32; and, stricter than
 * glibc, an empty name, a NUL byte, or a sign or blank in a number (NIS
 * "+" lines carry no number and are refused with them). Leading blanks of
 * the line are skipped, as glibc does.
 */
struct rs_span {
	const char *p;
	size_t n;
};
struct rs_pwline {
	struct rs_span name, home;
	uint32_t uid, gid;
};
struct rs_grline {
	struct rs_span name, members; /* members: "a,b,c" as written */
	uint32_t gid;
};
int rs_passwd_line(const char *line, size_t len, struct rs_pwline *out);
int rs_group_line(const char *line, size_t len, struct rs_grline *out);
/* The next member of a group line's list, as glibc splits it (commas,
 * leading blanks skipped, empty ones dropped): false at the end. */
bool rs_group_member_next(struct rs_span *list, struct rs_span *member);

/* A /proc/sys integer: "1\n", " 1 " are 1; "abc", "-1", overflow are -EINVAL
 * or -ERANGE (the caller reports "cannot parse", never guesses). */
int rs_sysctl_parse_u64(const char *buf, size_t len, uint64_t *out);

/* /proc/cpuinfo's virtualisation flags, from the first "flags" line (x86:
 * every CPU lists the same): RS_CPU_FLAGS when there is one, with
 * RS_CPU_VMX (Intel VT-x), RS_CPU_SVM (AMD-V), RS_CPU_HYPERVISOR (the CPU
 * is a virtual machine's) for the words it holds. Any bytes parse. */
enum {
	RS_CPU_FLAGS = 1u << 0,
	RS_CPU_VMX = 1u << 1,
	RS_CPU_SVM = 1u << 2,
	RS_CPU_HYPERVISOR = 1u << 3,
};
unsigned rs_cpuinfo_virt(const char *buf, size_t len);

/* A TOML key scan (not a TOML parser): the value of key in [section] (""
 * for the top level) as text, quotes removed; NULL when absent. Enough to
 * read Kata's configuration.toml. Caller frees. */
char *rs_toml_get(const char *buf, size_t len, const char *section, const char *key);

/* The upstream version of an installed package in dpkg's status database
 * ("4.3.1" of "Version: 4.3.1+ds1-8"; epoch dropped), or NULL when the
 * package is absent or not "install ok installed". Caller frees. */
char *rs_dpkg_version(const char *buf, size_t len, const char *pkg);

/* Where each package's first stanza starts in dpkg's status buf (which
 * must outlive the index): one pass over the file builds it, so that each
 * package asked for is a lookup, not a search of the file (a search per
 * package was a tenth of a check's CPU time on a 1 MB status). */
struct rs_dpkg_index;
struct rs_dpkg_index *rs_dpkg_index_new(const char *buf, size_t len);
void rs_dpkg_index_free(struct rs_dpkg_index *x);
static inline void rs_dpkg_index_freep(struct rs_dpkg_index **x)
{
	if (*x)
		rs_dpkg_index_free(*x);
}
/* pkg's stanzas (one per architecture, adjacent: dpkg writes the file
 * sorted by name) for rs_dpkg_version, or NULL. Caller frees. */
char *rs_dpkg_stanzas(const struct rs_dpkg_index *x, const char *pkg);

/* sysctl.d(5): the value a file gives key ("kernel.x" or "kernel/x"), the
 * last assignment winning; NULL when the file does not set it. Caller frees. */
char *rs_sysctl_conf_get(const char *buf, size_t len, const char *key);

/* glibc's locale archive (usr/lib/locale/locale-archive): whether it holds
 * locale name (as stored: "en_US.utf8"). buf is the file's first len bytes;
 * the names lie within its first *need bytes (set whenever the header is
 * there; at most RS_LOCALE_ARCHIVE_SPAN). Return: 1 found, 0 not,
 * -ENODATA when len < *need (read *need bytes and call again), -EINVAL
 * when buf is no archive or its tables are out of bounds. */
#define RS_LOCALE_ARCHIVE_SPAN (16u << 20)
int rs_locale_archive_has(const char *buf, size_t len, const char *name, size_t *need);

/* locale.gen(5) with entry ("en_US.UTF-8 UTF-8") enabled: NULL when a line
 * already enables it, else the new text (caller frees): its first
 * commented-out line uncommented, or the entry appended; every other byte
 * kept. buf must hold no NUL byte (the text is NUL-terminated). */
char *rs_locale_gen_enable(const char *buf, size_t len, const char *entry);

/* /proc/PID/status: the value of "key:" (white space stripped), or NULL.
 * Caller frees. */
char *rs_proc_status_get(const char *buf, size_t len, const char *key);

/* The security.capability xattr (struct vfs_cap_data, linux/capability.h),
 * revisions 1-3 at exactly the sizes the kernel accepts. */
struct rs_fcaps {
	unsigned version;
	bool effective; /* VFS_CAP_FLAGS_EFFECTIVE: the permitted set becomes effective at exec */
	uint64_t permitted, inheritable;
	uint32_t rootid; /* revision 3: the user namespace root they apply to */
};
/* Return: 0, or -EINVAL for anything the kernel would refuse. */
int rs_fcaps_parse(const void *buf, size_t len, struct rs_fcaps *out);

/* A systemd unit file (systemd.syntax(7)): the value of the last
 * "key=" in [section], lines continued with a backslash joined; "" for an
 * empty assignment (a reset); NULL when the file does not assign it.
 * Caller frees. */
char *rs_unit_get(const char *buf, size_t len, const char *section, const char *key);
