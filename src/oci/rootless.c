/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include "lib/macro.h"
#include "lib/strutil.h"
#include "lib/xalloc.h"
#include "oci/oci.h"

#define PROOT_DIR "/.rootless-setup/proot"

static int want_type(const json_t *v, int type, bool optional, const char *path,
		     struct rs_error **err)
{
	if (!v && optional)
		return 0;
	if (!v)
		return rs_error_setx(err, EINVAL, "invalid config.json: '%s' is missing", path);
	if ((int)json_typeof(v) != type && !(type == JSON_TRUE && json_is_boolean(v)))
		return rs_error_setx(err, EINVAL, "invalid config.json: '%s' has the wrong type",
				     path);
	return 0;
}

static int validate_mounts(const json_t *mounts, struct rs_error **err)
{
	size_t i, j;
	json_t *m, *opt;

	json_array_foreach (mounts, i, m) {
		if (!json_is_object(m) || !json_is_string(json_object_get(m, "destination")))
			return rs_error_setx(err, EINVAL,
					     "invalid config.json: mounts[%zu] needs a "
					     "string 'destination'",
					     i);
		json_t *opts = json_object_get(m, "options");
		if (opts && !json_is_array(opts))
			return rs_error_setx(err, EINVAL,
					     "invalid config.json: mounts[%zu].options "
					     "is not an array",
					     i);
		json_array_foreach (opts, j, opt) {
			if (!json_is_string(opt))
				return rs_error_setx(err, EINVAL,
						     "invalid config.json: mounts[%zu]."
						     "options[%zu] is not a string",
						     i, j);
		}
	}
	return 0;
}

int rs_oci_validate(const json_t *spec, struct rs_error **err)
{
	const json_t *linux_, *ns, *x;
	size_t i;
	int r;

	if (!json_is_object(spec))
		return rs_error_setx(err, EINVAL, "invalid config.json: not a JSON object");
	const json_t *proc = json_object_get(spec, "process");
	if ((r = want_type(proc, JSON_OBJECT, false, "process", err)) < 0 ||
	    (r = want_type(json_object_get(proc, "args"), JSON_ARRAY, false, "process.args", err)) <
		    0 ||
	    (r = want_type(json_object_get(spec, "root"), JSON_OBJECT, false, "root", err)) < 0 ||
	    (r = want_type(json_object_get(json_object_get(spec, "root"), "path"), JSON_STRING,
			   false, "root.path", err)) < 0 ||
	    (r = want_type(json_object_get(spec, "mounts"), JSON_ARRAY, true, "mounts", err)) < 0 ||
	    (r = want_type(linux_ = json_object_get(spec, "linux"), JSON_OBJECT, true, "linux",
			   err)) < 0 ||
	    (r = want_type(ns = json_object_get(linux_, "namespaces"), JSON_ARRAY, true,
			   "linux.namespaces", err)) < 0 ||
	    (r = want_type(json_object_get(linux_, "uidMappings"), JSON_ARRAY, true,
			   "linux.uidMappings", err)) < 0 ||
	    (r = want_type(json_object_get(linux_, "gidMappings"), JSON_ARRAY, true,
			   "linux.gidMappings", err)) < 0 ||
	    (r = want_type(json_object_get(linux_, "resources"), JSON_OBJECT, true,
			   "linux.resources", err)) < 0)
		return r;
	json_array_foreach (json_object_get(proc, "args"), i, x) {
		if (!json_is_string(x))
			return rs_error_setx(err, EINVAL,
					     "invalid config.json: process.args[%zu] is "
					     "not a string",
					     i);
	}
	json_array_foreach (ns, i, x) {
		if (!json_is_object(x) || !json_is_string(json_object_get(x, "type")))
			return rs_error_setx(err, EINVAL,
					     "invalid config.json: linux.namespaces[%zu] "
					     "needs a string 'type'",
					     i);
	}
	return validate_mounts(json_object_get(spec, "mounts"), err);
}

static json_t *ns_find(json_t *ns, const char *type, size_t *idx)
{
	size_t i;
	json_t *x;
	json_array_foreach (ns, i, x) {
		if (rs_streq(json_string_value(json_object_get(x, "type")), type)) {
			if (idx)
				*idx = i;
			return x;
		}
	}
	return NULL;
}

static json_t *map_json(const struct rs_idmap *m)
{
	json_t *a = json_array();
	for (size_t i = 0; i < m->n; i++)
		json_array_append_new(a, json_pack("{s:I, s:I, s:I}", "containerID",
						   (json_int_t)m->e[i].inside, "hostID",
						   (json_int_t)m->e[i].outside, "size",
						   (json_int_t)m->e[i].count));
	return a;
}

/* Is container id `id` mapped by a runtime-spec mapping array? */
static bool id_mapped(const json_t *maps, uint64_t id)
{
	size_t i;
	json_t *m;
	json_array_foreach (maps, i, m) {
		json_int_t c = json_integer_value(json_object_get(m, "containerID"));
		json_int_t s = json_integer_value(json_object_get(m, "size"));
		if (c >= 0 && s > 0 && id >= (uint64_t)c && id < (uint64_t)c + (uint64_t)s)
			return true;
	}
	return false;
}

static void oci_note(const struct rs_oci_opts *o, const char *fmt, ...) _printf_(2, 3);
static void oci_note(const struct rs_oci_opts *o, const char *fmt, ...)
{
	va_list ap;
	if (!o->notes)
		return;
	va_start(ap, fmt);
	rs_strv_take(o->notes, rs_xvasprintf(fmt, ap));
	va_end(ap);
}

/* The input's mappings are replaced, never kept: a config.json saying
 * "hostID 0, size 4294967295" asks the runtime for ids the caller does not
 * own; the runtime (or newuidmap) is the last line, not the first. */
static void set_maps(json_t *linux_, const char *key, const struct rs_idmap *m,
		     const struct rs_oci_opts *o)
{
	json_t *mine = map_json(m), *theirs = json_object_get(linux_, key);
	if (json_array_size(theirs) && !json_equal(theirs, mine))
		oci_note(o, "linux.%s of the input replaced by the caller's own map", key);
	json_object_set_new(linux_, key, mine);
}

static void userns_and_maps(json_t *linux_, const struct rs_oci_opts *o)
{
	json_t *ns = json_object_get(linux_, "namespaces"), *user;
	size_t idx;

	if (!ns) {
		ns = json_array();
		json_object_set_new(linux_, "namespaces", ns);
	}
	/* runc's ToRootless: the host network, since a user cannot own one the
	 * runtime joins; kept by default (rootless-setup(8), oci rootless), dropped with --host-net */
	/* every entry: a spec may list one twice, and a second run must not
	 * find one left (the fuzzer's idempotence check) */
	while (o->host_net && ns_find(ns, "network", &idx))
		json_array_remove(ns, idx);
	/* one user namespace, new: a "path" (/proc/1/ns/user) would join one
	 * the caller does not own; the first entry keeps its place */
	if ((user = ns_find(ns, "user", &idx))) {
		if (json_object_get(user, "path") || json_object_size(user) != 1)
			oci_note(o, "the user namespace entry of the input replaced by a new one");
		json_array_set_new(ns, idx, json_pack("{s:s}", "type", "user"));
		for (size_t i = json_array_size(ns); i-- > idx + 1;)
			if (rs_streq(json_string_value(
					     json_object_get(json_array_get(ns, i), "type")),
				     "user"))
				json_array_remove(ns, i);
	} else {
		json_array_append_new(ns, json_pack("{s:s}", "type", "user"));
	}
	set_maps(linux_, "uidMappings", o->uidmap, o);
	set_maps(linux_, "gidMappings", o->gidmap, o);
}

/* uid=N / gid=N options are satisfiable only when N is mapped. */
static void fix_mount_options(json_t *m, const json_t *um, const json_t *gm)
{
	json_t *opts = json_object_get(m, "options"), *keep = json_array(), *o;
	size_t i;
	bool changed = false;

	json_array_foreach (opts, i, o) {
		const char *s = json_string_value(o);
		uint64_t id;
		bool is_uid = rs_startswith(s, "uid="), is_gid = rs_startswith(s, "gid=");
		if ((is_uid || is_gid) && (rs_parse_u64(s + 4, UINT32_MAX, &id) < 0 ||
					   !id_mapped(is_uid ? um : gm, id))) {
			changed = true;
			continue;
		}
		json_array_append(keep, o);
	}
	if (changed)
		json_object_set(m, "options", keep);
	json_decref(keep);
}

static bool is_sys(const char *dest)
{
	size_t n = strlen(dest);
	while (n > 1 && dest[n - 1] == '/')
		n--;
	return n == 4 && strncmp(dest, "/sys", 4) == 0;
}

static void fix_mounts(json_t *spec)
{
	json_t *mounts = json_object_get(spec, "mounts"), *m;
	json_t *linux_ = json_object_get(spec, "linux");
	json_t *net = ns_find(json_object_get(linux_, "namespaces"), "network", NULL);
	/* sysfs needs a network namespace owned by the container's user
	 * namespace: a new one is, the host's or a joined one (path) is not */
	bool own_netns = net && !json_object_get(net, "path");
	size_t i;

	json_array_foreach (mounts, i, m) {
		if (is_sys(json_string_value(json_object_get(m, "destination"))) &&
		    rs_streq(json_string_value(json_object_get(m, "type")), "sysfs") &&
		    !own_netns) {
			json_array_set_new(mounts, i,
					   json_pack("{s:s, s:s, s:s, s:[sssss]}", "destination",
						     "/sys", "type", "none", "source", "/sys",
						     "options", "rbind", "nosuid", "noexec",
						     "nodev", "ro"));
			continue;
		}
		fix_mount_options(m, json_object_get(linux_, "uidMappings"),
				  json_object_get(linux_, "gidMappings"));
	}
}

static const char *resource_controller(const char *key)
{
	static const char *const map[][2] = {
		{"memory", "memory"},
		{"cpu", "cpu"},
		{"pids", "pids"},
		{"blockIO", "io"},
		{"hugepageLimits", "hugetlb"},
		{"rdma", "rdma"},
		{"devices", NULL},
		{"network", NULL},
	};
	for (size_t i = 0; i < ARRAY_SIZE(map); i++)
		if (strcmp(key, map[i][0]) == 0)
			return map[i][1];
	return NULL;
}

static bool delegated(const char *list, const char *ctl)
{
	if (!list || !ctl)
		return false;
	_cleanup_free_ char *pad = rs_xasprintf(" %s ", list), *needle = rs_xasprintf(" %s ", ctl);
	return strstr(pad, needle) != NULL;
}

/* Limits the user's cgroup cannot apply make runc fail; drop those only. */
static void fix_resources(json_t *linux_, const struct rs_oci_opts *o)
{
	json_t *res = json_object_get(linux_, "resources"), *v;
	const char *key;
	void *tmp;

	if (!res)
		return;
	if (!o->limits_ok) {
		json_object_del(linux_, "resources");
		return;
	}
	json_object_foreach_safe(res, tmp, key, v)
	{
		if (strcmp(key, "unified") == 0 && json_is_object(v)) {
			const char *k;
			json_t *x;
			void *t2;
			json_object_foreach_safe(v, t2, k, x)
			{
				_cleanup_free_ char *ctl = rs_xstrndup(k, strcspn(k, "."));
				if (!delegated(o->delegated, ctl))
					json_object_del(v, k);
			}
			continue;
		}
		if (!delegated(o->delegated, resource_controller(key)))
			json_object_del(res, key);
	}
	if (json_object_size(res) == 0)
		json_object_del(linux_, "resources");
}

char *rs_elf_interp(const unsigned char *buf, size_t len)
{
	Elf64_Ehdr eh;

	/* 64-bit little-endian images only: what PRoot ships for x86_64/arm64 */
	if (len < sizeof(eh) || memcmp(buf, ELFMAG, SELFMAG) || buf[EI_CLASS] != ELFCLASS64 ||
	    buf[EI_DATA] != ELFDATA2LSB)
		return NULL;
	memcpy(&eh, buf, sizeof(eh));
	if (eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phoff > len ||
	    (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr) > len - eh.e_phoff)
		return NULL;
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;
		memcpy(&ph, buf + eh.e_phoff + i * sizeof(ph), sizeof(ph));
		if (ph.p_type != PT_INTERP)
			continue;
		if (ph.p_offset > len || ph.p_filesz == 0 || ph.p_filesz > 4096 ||
		    ph.p_filesz > len - ph.p_offset)
			return NULL;
		const char *s = (const char *)buf + ph.p_offset;
		size_t n = strnlen(s, ph.p_filesz);
		if (n == 0 || s[0] != '/')
			return NULL;
		return rs_xstrndup(s, n);
	}
	return NULL;
}

static void add_bind(json_t *mounts, const char *src, const char *dst)
{
	json_array_append_new(mounts, json_pack("{s:s, s:s, s:s, s:[ssss]}", "destination", dst,
						"type", "bind", "source", src, "options", "rbind",
						"ro", "nosuid", "nodev"));
}

#if defined(__x86_64__)
#define SECCOMP_ARCHES "SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"
#elif defined(__aarch64__)
#define SECCOMP_ARCHES "SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"
#else
#define SECCOMP_ARCHES NULL
#endif

static json_t *chown_rule(const char *const *names, unsigned idx)
{
	json_t *n = json_array();
	for (; *names; names++)
		json_array_append_new(n, json_string(*names));
	return json_pack("{s:o, s:s, s:i, s:[{s:i, s:i, s:s}]}", "names", n, "action",
			 "SCMP_ACT_ERRNO", "errnoRet", EPERM, "args", "index", idx, "value", 0,
			 "op", "SCMP_CMP_NE");
}

/* In a single-id map the kernel answers chown to an unmapped id with
 * EINVAL, and PRoot's fake root (5.1) turns only EPERM into success: a
 * filter makes those calls EPERM before they reach the kernel. The extra
 * architectures keep the filter from killing the syscall numbers PRoot
 * rewrites (-1 looks like an x32 call, and an unknown architecture is
 * SIGSYS). */
static void add_chown_filter(json_t *linux_)
{
	static const char *const plain[] = {"chown", "fchown", "lchown", NULL};
	static const char *const at[] = {"fchownat", NULL};
	static const char *const arches[] = {SECCOMP_ARCHES, NULL};
	json_t *sc = json_object_get(linux_, "seccomp");

	if (!sc) {
		sc = json_pack("{s:s}", "defaultAction", "SCMP_ACT_ALLOW");
		json_object_set_new(linux_, "seccomp", sc);
	}
	json_t *a = json_object_get(sc, "architectures");
	if (!json_is_array(a)) {
		a = json_array();
		json_object_set_new(sc, "architectures", a);
	}
	for (const char *const *x = arches; *x; x++) {
		size_t i;
		json_t *v;
		bool have = false;
		json_array_foreach (a, i, v)
			have |= rs_streq(json_string_value(v), *x);
		if (!have)
			json_array_append_new(a, json_string(*x));
	}
	json_t *rules = json_object_get(sc, "syscalls");
	if (!json_is_array(rules)) {
		rules = json_array();
		json_object_set_new(sc, "syscalls", rules);
	}
	json_array_append_new(rules, chown_rule(plain, 1));
	json_array_append_new(rules, chown_rule(plain, 2));
	json_array_append_new(rules, chown_rule(at, 2));
	json_array_append_new(rules, chown_rule(at, 3));
}

/* PRoot in fake-root mode (-0) in front of process.args: chown and package
 * managers then work in a single-id map. A dynamic PRoot runs through its
 * own loader with its library directory bound next to it, so nothing of
 * the container's /lib is shadowed. */
static int add_proot(json_t *spec, const char *proot, struct rs_error **err)
{
	json_t *proc = json_object_get(spec, "process");
	json_t *args = json_object_get(proc, "args"), *mounts = json_object_get(spec, "mounts");
	_cleanup_free_ char *real = realpath(proot, NULL), *interp = NULL, *interp_real = NULL;
	_cleanup_free_ unsigned char *img = NULL;

	if (!real)
		return rs_error_set(err, errno, "cannot use PRoot '%s'", proot);
	/* O_NONBLOCK: a FIFO put there must not hang the conversion; it and
	 * anything else that is not an executable regular file is refused */
	_cleanup_close_ int fd = open(real, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	struct stat st;
	if (fd < 0)
		return rs_error_set(err, errno, "cannot read PRoot '%s'", real);
	if (fstat(fd, &st) < 0)
		return rs_error_set(err, errno, "cannot stat PRoot '%s'", real);
	if (!S_ISREG(st.st_mode) || !(st.st_mode & 0111))
		return rs_error_setx(err, EINVAL,
				     "cannot use PRoot '%s': not an executable "
				     "regular file",
				     real);
	img = rs_xmalloc(1u << 16);
	ssize_t k = pread(fd, img, 1u << 16, 0);
	size_t n = k > 0 ? (size_t)k : 0;
	interp = rs_elf_interp(img, n);
	if (!mounts) {
		mounts = json_array();
		json_object_set_new(spec, "mounts", mounts);
	}
	if (args && json_array_size(args) &&
	    rs_streq(json_string_value(json_array_get(args, 0)), PROOT_DIR "/proot"))
		return 0; /* already in front */
	add_bind(mounts, real, PROOT_DIR "/proot");
	json_array_append_new(mounts,
			      json_pack("{s:s, s:s, s:s, s:[sss]}", "destination", PROOT_DIR "/tmp",
					"type", "tmpfs", "source", "tmpfs", "options", "nosuid",
					"nodev", "mode=1777"));
	json_t *pre = json_array();
	if (interp && (interp_real = realpath(interp, NULL))) {
		_cleanup_free_ char *libdir = rs_xstrdup(interp_real);
		*strrchr(libdir, '/') = '\0';
		add_bind(mounts, libdir, PROOT_DIR "/lib");
		const char *base = strrchr(interp_real, '/') + 1;
		json_array_append_new(pre, json_sprintf("%s/lib/%s", PROOT_DIR, base));
		json_array_append_new(pre, json_string("--library-path"));
		json_array_append_new(pre, json_string(PROOT_DIR "/lib"));
	}
	json_array_append_new(pre, json_string(PROOT_DIR "/proot"));
	json_array_append_new(pre, json_string("-0"));
	json_array_extend(pre, args);
	json_object_set_new(proc, "args", pre);
	json_t *env = json_object_get(proc, "env");
	if (!env) {
		env = json_array();
		json_object_set_new(proc, "env", env);
	}
	json_array_append_new(env, json_string("PROOT_TMP_DIR=" PROOT_DIR "/tmp"));
	add_chown_filter(json_object_get(spec, "linux"));
	return 0;
}

int rs_oci_rootless(json_t *spec, const struct rs_oci_opts *o, struct rs_error **err)
{
	int r = rs_oci_validate(spec, err);
	if (r < 0)
		return r;
	json_t *linux_ = json_object_get(spec, "linux");
	if (!linux_) {
		linux_ = json_object();
		json_object_set_new(spec, "linux", linux_);
	}
	userns_and_maps(linux_, o);
	fix_mounts(spec);
	fix_resources(linux_, o);
	if (o->proot)
		return add_proot(spec, o->proot, err);
	return 0;
}

/* What jansson's error says, in words of its own: never the "near '...'"
 * part, nor a byte or code point, which would show the file's content
 * (root converting a user's file must not print a line of /etc/shadow the
 * user linked there). */
const char *rs_oci_json_what(const json_error_t *e)
{
	/* jansson's fixed texts for a syntax error (2.14, load.c) */
	static const char *const syntax[] = {
		"unexpected newline", "invalid escape",	  "string or '}' expected",
		"':' expected",	      "'}' expected",	  "']' expected",
		"invalid token",      "unexpected token", "'[' or '{' expected",
	};
	static const struct {
		enum json_error_code code;
		const char *what;
	} by_code[] = {
		{json_error_invalid_utf8, "invalid UTF-8"},
		{json_error_premature_end_of_input, "the input ends inside a value"},
		{json_error_end_of_input_expected, "more after the end of the document"},
		{json_error_stack_overflow, "nested too deep"},
		{json_error_null_character, "a NUL character"},
		{json_error_null_byte_in_key, "a NUL character"},
		{json_error_duplicate_key, "a duplicate object key"},
		{json_error_numeric_overflow, "a number out of range"},
		{json_error_out_of_memory, "out of memory"},
	};
	enum json_error_code code = json_error_code(e);
	size_t n = strnlen(e->text, JSON_ERROR_TEXT_LENGTH - 1);

	for (size_t i = 0; i < ARRAY_SIZE(by_code); i++)
		if (by_code[i].code == code)
			return by_code[i].what;
	if (code != json_error_invalid_syntax)
		return "invalid JSON";
	if (!strncmp(e->text, "control character", 17))
		return "a control character in a string";
	if (!strncmp(e->text, "invalid Unicode", 15))
		return "an invalid \\u escape";
	for (size_t i = 0; i < ARRAY_SIZE(syntax); i++) {
		size_t l = strlen(syntax[i]);
		if (n >= l && !strncmp(e->text, syntax[i], l) &&
		    (e->text[l] == '\0' || e->text[l] == ' '))
			return syntax[i];
	}
	return "invalid JSON syntax";
}
