/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "host/parse.h"
#include "lib/xalloc.h"

/* Calls fn for each line of buf (without "\n"; a NUL ends a line early:
 * such a line cannot be valid in any of these formats). */
static void for_each_line(const char *buf, size_t len,
			  void (*fn)(char *line, bool nul, unsigned no, void *ud), void *ud)
{
	size_t pos = 0;
	unsigned no = 0;

	while (pos < len) {
		const char *nl = memchr(buf + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (buf + pos)) : len - pos;
		_cleanup_free_ char *line = rs_xstrndup(buf + pos, n);
		fn(line, memchr(buf + pos, '\0', n) != NULL, ++no, ud);
		pos += n + 1;
	}
}

/* ---- os-release(5) ---- */

static char *osr_value(const char *v)
{
	size_t n = strlen(v);
	char *out = rs_xmalloc(n + 1), *o = out;
	char q = (*v == '"' || *v == '\'') ? *v++ : 0;

	for (; *v; v++) {
		if (q && *v == q)
			break;
		if (!q && isspace((unsigned char)*v))
			break;
		if (*v == '\\' && q != '\'' && v[1] && strchr("$\"'\\`", v[1]))
			v++;
		*o++ = *v;
	}
	*o = '\0';
	return out;
}

static void osr_line(char *line, bool nul, unsigned no _unused_, void *ud)
{
	struct rs_osrelease *o = ud;
	char *s = rs_strstrip(line), *eq = strchr(s, '=');
	static const struct {
		const char *key;
		size_t off;
	} keys[] = {
		{"ID", offsetof(struct rs_osrelease, id)},
		{"ID_LIKE", offsetof(struct rs_osrelease, id_like)},
		{"VERSION_ID", offsetof(struct rs_osrelease, version_id)},
		{"NAME", offsetof(struct rs_osrelease, name)},
		{"PRETTY_NAME", offsetof(struct rs_osrelease, pretty_name)},
		{"VARIANT_ID", offsetof(struct rs_osrelease, variant_id)},
	};

	if (nul || *s == '#' || !eq)
		return;
	*eq = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		if (strcmp(s, keys[i].key) != 0)
			continue;
		char **slot = (char **)((char *)o + keys[i].off);
		free(*slot);
		*slot = osr_value(eq + 1);
	}
}

int rs_osrelease_parse(const char *buf, size_t len, struct rs_osrelease *out)
{
	memset(out, 0, sizeof(*out));
	for_each_line(buf, len, osr_line, out);
	return 0;
}

void rs_osrelease_clear(struct rs_osrelease *o)
{
	free(o->id);
	free(o->id_like);
	free(o->version_id);
	free(o->name);
	free(o->pretty_name);
	free(o->variant_id);
	memset(o, 0, sizeof(*o));
}

/* ---- subuid(5) / subgid(5) ---- */

/* shadow's subordinate_parse: "owner:start:count", lines < 1024 bytes,
 * start <= 2^32-1, start+count must not pass 2^32. Anything else, trailing
 * white space and CRLF included, is a line newuidmap cannot use. */
static int subid_line_parse(const char *s, struct rs_subid_range *r)
{
	const char *c1 = strchr(s, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
	uint64_t start, count;

	if (strlen(s) >= 1024 || !c1 || !c2 || strchr(c2 + 1, ':') || c1 == s)
		return -EINVAL;
	if (rs_parse_u64n(c1 + 1, (size_t)(c2 - c1 - 1), UINT32_MAX, &start) < 0)
		return -EINVAL;
	if (rs_parse_u64(c2 + 1, UINT32_MAX, &count) < 0 || count == 0)
		return -EINVAL;
	if (start + count > (uint64_t)UINT32_MAX + 1)
		return -ERANGE;
	r->owner = rs_xstrndup(s, (size_t)(c1 - s));
	r->start = start;
	r->count = count;
	return 0;
}

static void subid_line(char *line, bool nul, unsigned no, void *ud)
{
	struct rs_subid_file *f = ud;
	struct rs_subid_range r = {0};
	const char *p = line;

	while (*p == ' ' || *p == '\t')
		p++;
	if (!nul && (*p == '\0' || *p == '#'))
		return;
	/* capacities double: a file of 50,000 lines is one pass, not 50,000
	 * copies of a growing array (quadratic under ASan, whose realloc
	 * always copies) */
	if (nul || subid_line_parse(line, &r) < 0) {
		if (f->nbad == f->bad_cap) {
			f->bad_cap = f->bad_cap ? f->bad_cap * 2 : 16;
			f->bad_lines = rs_xrealloc(f->bad_lines, f->bad_cap * sizeof(unsigned));
		}
		f->bad_lines[f->nbad++] = no;
		return;
	}
	r.line = no;
	if (f->n == f->cap) {
		f->cap = f->cap ? f->cap * 2 : 64;
		f->r = rs_xrealloc(f->r, f->cap * sizeof(r));
	}
	f->r[f->n++] = r;
}

int rs_subid_parse(const char *buf, size_t len, struct rs_subid_file *out)
{
	memset(out, 0, sizeof(*out));
	for_each_line(buf, len, subid_line, out);
	return 0;
}

void rs_subid_clear(struct rs_subid_file *f)
{
	for (size_t i = 0; i < f->n; i++)
		free(f->r[i].owner);
	free(f->r);
	free(f->bad_lines);
	memset(f, 0, sizeof(*f));
}

/* ---- passwd(5), group(5) ---- */

/* The next ':'-separated field of [*p, end); the last one runs to end. */
static struct rs_span field(const char **p, const char *end, bool *more)
{
	const char *c = memchr(*p, ':', (size_t)(end - *p));
	struct rs_span f = {*p, (size_t)((c ? c : end) - *p)};

	*more = c != NULL;
	*p = c ? c + 1 : end;
	return f;
}

static bool span_id(struct rs_span f, uint32_t *out)
{
	uint64_t v = 0;

	if (f.n == 0 || f.n > 10)
		return false;
	for (size_t i = 0; i < f.n; i++) {
		if (f.p[i] < '0' || f.p[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(f.p[i] - '0');
	}
	if (v > UINT32_MAX)
		return false;
	*out = (uint32_t)v;
	return true;
}

/* The line without its leading blanks; false for a blank, comment or NUL line. */
static bool entry_line(const char **line, size_t *len)
{
	const char *p = *line, *end = p + *len;

	if (memchr(p, '\0', *len))
		return false;
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\v' || *p == '\f'))
		p++;
	if (p == end || *p == '#')
		return false;
	*len = (size_t)(end - p);
	*line = p;
	return true;
}

int rs_passwd_line(const char *line, size_t len, struct rs_pwline *out)
{
	struct rs_span f[7];
	bool more = true;
	size_t n = 0;

	if (!entry_line(&line, &len))
		return -EINVAL;
	const char *p = line, *end = line + len;
	while (more && n < ARRAY_SIZE(f))
		f[n++] = field(&p, end, &more);
	/* glibc takes a missing gecos, home or shell as empty */
	if (n < 4 || f[0].n == 0 || !span_id(f[2], &out->uid) || !span_id(f[3], &out->gid))
		return -EINVAL;
	out->name = f[0];
	out->home = n > 5 ? f[5] : (struct rs_span){p, 0};
	return 0;
}

int rs_group_line(const char *line, size_t len, struct rs_grline *out)
{
	struct rs_span f[4];
	bool more = true;
	size_t n = 0;

	if (!entry_line(&line, &len))
		return -EINVAL;
	const char *p = line, *end = line + len;
	while (more && n < ARRAY_SIZE(f) - 1)
		f[n++] = field(&p, end, &more);
	if (more) /* the member list runs to the end of the line */
		f[n++] = (struct rs_span){p, (size_t)(end - p)};
	if (n < 3 || f[0].n == 0 || !span_id(f[2], &out->gid))
		return -EINVAL;
	out->name = f[0];
	out->members = n > 3 ? f[3] : (struct rs_span){p, 0};
	return 0;
}

bool rs_group_member_next(struct rs_span *list, struct rs_span *member)
{
	while (list->n) {
		while (list->n && (*list->p == ' ' || *list->p == '\t')) {
			list->p++;
			list->n--;
		}
		const char *c = memchr(list->p, ',', list->n);
		size_t k = c ? (size_t)(c - list->p) : list->n;
		*member = (struct rs_span){list->p, k};
		list->p += k + (c != NULL);
		list->n -= k + (c != NULL);
		if (k)
			return true;
	}
	return false;
}

/* ---- login.defs(5) ---- */

static void ldefs_line(char *line, bool nul, unsigned no _unused_, void *ud)
{
	struct rs_logindefs *d = ud;
	char *s = rs_strstrip(line), *v;
	static const struct {
		const char *key;
		size_t off;
	} keys[] = {
		{"UID_MIN", offsetof(struct rs_logindefs, uid_min)},
		{"UID_MAX", offsetof(struct rs_logindefs, uid_max)},
		{"SUB_UID_MIN", offsetof(struct rs_logindefs, sub_uid_min)},
		{"SUB_UID_MAX", offsetof(struct rs_logindefs, sub_uid_max)},
		{"SUB_UID_COUNT", offsetof(struct rs_logindefs, sub_uid_count)},
		{"SUB_GID_MIN", offsetof(struct rs_logindefs, sub_gid_min)},
		{"SUB_GID_MAX", offsetof(struct rs_logindefs, sub_gid_max)},
		{"SUB_GID_COUNT", offsetof(struct rs_logindefs, sub_gid_count)},
	};

	if (nul || *s == '#' || *s == '\0')
		return;
	v = s + strcspn(s, " \t");
	if (*v)
		*v++ = '\0';
	v = rs_strstrip(v);
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		if (strcmp(s, keys[i].key) != 0)
			continue;
		uint64_t n;
		/* shadow reads these with strtoul base 0 (hex and octal too); we
		 * flag such values instead of guessing the same way */
		if (rs_parse_u64(v, UINT32_MAX, &n) < 0) {
			d->invalid = true;
			return;
		}
		*(uint64_t *)((char *)d + keys[i].off) = n;
	}
}

int rs_logindefs_parse(const char *buf, size_t len, struct rs_logindefs *out)
{
	*out = (struct rs_logindefs){
		.uid_min = 1000,
		.uid_max = 60000,
		.sub_uid_min = 100000,
		.sub_uid_max = 600100000,
		.sub_uid_count = 65536,
		.sub_gid_min = 100000,
		.sub_gid_max = 600100000,
		.sub_gid_count = 65536,
	};
	if (buf)
		for_each_line(buf, len, ldefs_line, out);
	if (out->sub_uid_min > out->sub_uid_max || out->sub_gid_min > out->sub_gid_max ||
	    out->uid_min > out->uid_max)
		out->invalid = true;
	return 0;
}

/* ---- /proc/sys values ---- */

int rs_sysctl_parse_u64(const char *buf, size_t len, uint64_t *out)
{
	size_t a = 0, b = len;

	if (memchr(buf, '\0', len))
		return -EINVAL;
	while (a < b && isspace((unsigned char)buf[a]))
		a++;
	while (b > a && isspace((unsigned char)buf[b - 1]))
		b--;
	return rs_parse_u64n(buf + a, b - a, UINT64_MAX, out);
}

/* ---- TOML key scan ---- */

struct toml_scan {
	const char *section, *key;
	char *cur; /* current table name */
	char *value;
};

static char *toml_value(const char *v)
{
	if (*v == '"' || *v == '\'') {
		char q = *v++;
		size_t n = strlen(v);
		char *out = rs_xmalloc(n + 1), *o = out;
		for (; *v && *v != q; v++) {
			if (q == '"' && *v == '\\' && v[1])
				v++;
			*o++ = *v;
		}
		*o = '\0';
		if (*v != q) {
			free(out);
			return NULL;
		}
		return out;
	}
	size_t n = strcspn(v, " \t#");
	return n ? rs_xstrndup(v, n) : NULL;
}

static void toml_line(char *line, bool nul, unsigned no _unused_, void *ud)
{
	struct toml_scan *t = ud;
	char *s = rs_strstrip(line);

	if (nul || t->value || *s == '#' || *s == '\0')
		return;
	if (*s == '[') {
		char *end = strchr(s, ']');
		if (!end)
			return;
		if (s[1] == '[') {
			/* an array of tables: no [section] key lives there */
			free(t->cur);
			t->cur = rs_xstrdup("[[");
			return;
		}
		*end = '\0';
		free(t->cur);
		t->cur = rs_xstrdup(rs_strstrip(s + 1));
		return;
	}
	char *eq = strchr(s, '=');
	if (!eq || !rs_streq(t->cur, t->section))
		return;
	*eq = '\0';
	char *k = rs_strstrip(s);
	size_t kl = strlen(k);
	if (kl >= 2 && k[0] == '"' && k[kl - 1] == '"') {
		k[kl - 1] = '\0';
		k++;
	}
	if (strcmp(k, t->key) == 0)
		t->value = toml_value(rs_strstrip(eq + 1));
}

char *rs_toml_get(const char *buf, size_t len, const char *section, const char *key)
{
	struct toml_scan t = {.section = section, .key = key, .cur = rs_xstrdup("")};
	for_each_line(buf, len, toml_line, &t);
	free(t.cur);
	return t.value;
}

/* ---- dpkg status (deb822 stanzas) ---- */

struct dpkg_scan {
	const char *pkg;
	bool in_pkg, installed;
	char *version;
	bool done;
};

static void dpkg_line(char *line, bool nul, unsigned no _unused_, void *ud)
{
	struct dpkg_scan *d = ud;

	if (d->done || nul)
		return;
	if (*line == '\0') {
		/* end of a stanza */
		if (d->in_pkg)
			d->done = true;
		return;
	}
	if (rs_startswith(line, "Package: ")) {
		d->in_pkg = strcmp(rs_strstrip(line + 9), d->pkg) == 0;
		return;
	}
	if (!d->in_pkg)
		return;
	if (rs_startswith(line, "Status: "))
		d->installed = strcmp(rs_strstrip(line + 8), "install ok installed") == 0;
	else if (rs_startswith(line, "Version: ") && !d->version) {
		char *v = rs_strstrip(line + 9), *colon = strchr(v, ':');
		if (colon)
			v = colon + 1;
		d->version = rs_xstrndup(v, strcspn(v, "+-~ "));
	}
}

char *rs_dpkg_version(const char *buf, size_t len, const char *pkg)
{
	struct dpkg_scan d = {.pkg = pkg};
	for_each_line(buf, len, dpkg_line, &d);
	if (!d.installed || !d.version || !*d.version) {
		free(d.version);
		return NULL;
	}
	return d.version;
}

/* ---- sysctl.d(5) ---- */

struct sysctl_scan {
	const char *key;
	char *value;
};

static void sysctl_line(char *line, bool nul, unsigned no _unused_, void *ud)
{
	struct sysctl_scan *s = ud;
	char *l = rs_strstrip(line), *eq;

	if (nul || *l == '#' || *l == ';' || *l == '\0' || !(eq = strchr(l, '=')))
		return;
	*eq = '\0';
	char *k = rs_strstrip(l + (*l == '-')); /* "-key": errors ignored, same key */
	for (char *c = k; *c; c++)
		if (*c == '/')
			*c = '.';
	if (strcmp(k, s->key) != 0)
		return;
	free(s->value);
	s->value = rs_xstrdup(rs_strstrip(eq + 1));
}

char *rs_sysctl_conf_get(const char *buf, size_t len, const char *key)
{
	struct sysctl_scan s = {.key = key};
	for_each_line(buf, len, sysctl_line, &s);
	return s.value;
}

/* ---- /proc/cpuinfo ---- */

struct cpu_scan {
	unsigned bits;
};

static void cpuinfo_line(char *line, bool nul, unsigned no _unused_, void *ud)
{
	struct cpu_scan *c = ud;
	static const struct {
		const char *word;
		unsigned bit;
	} words[] = {{"vmx", RS_CPU_VMX}, {"svm", RS_CPU_SVM}, {"hypervisor", RS_CPU_HYPERVISOR}};
	char *colon = strchr(line, ':'), *save = NULL;

	/* "flags\t\t: fpu vme ... vmx ..."; the first such line only */
	if (nul || (c->bits & RS_CPU_FLAGS) || !colon)
		return;
	*colon = '\0';
	if (strcmp(rs_strstrip(line), "flags") != 0)
		return;
	c->bits |= RS_CPU_FLAGS;
	for (char *w = strtok_r(colon + 1, " \t\r", &save); w; w = strtok_r(NULL, " \t\r", &save))
		for (size_t i = 0; i < ARRAY_SIZE(words); i++)
			if (strcmp(w, words[i].word) == 0)
				c->bits |= words[i].bit;
}

unsigned rs_cpuinfo_virt(const char *buf, size_t len)
{
	struct cpu_scan c = {0};
	for_each_line(buf, len, cpuinfo_line, &c);
	return c.bits;
}

/* glibc's locale archive (locale/locarchive.h): a header of 32-bit words
 * in the host's byte order, then a hash table of names whose entries are
 * (hash, name offset, record offset); a free slot has name offset 0. Names
 * are NUL-terminated strings at absolute offsets of the file. */
#define LOCARCHIVE_MAGIC 0xde020109u
#define LOCARCHIVE_HEAD	 56u /* 14 words */

static uint32_t word_at(const char *buf, size_t off)
{
	uint32_t w;
	memcpy(&w, buf + off, sizeof(w));
	return w;
}

int rs_locale_archive_has(const char *buf, size_t len, const char *name, size_t *need)
{
	size_t nlen = strlen(name);

	*need = LOCARCHIVE_HEAD;
	if (len < LOCARCHIVE_HEAD)
		return -ENODATA;
	if (word_at(buf, 0) != LOCARCHIVE_MAGIC)
		return -EINVAL;
	uint64_t hoff = word_at(buf, 8), hsize = word_at(buf, 16);
	uint64_t soff = word_at(buf, 20), sused = word_at(buf, 24);
	uint64_t hend = hoff + hsize * 12, send = soff + sused;
	if (hoff < LOCARCHIVE_HEAD || hend > RS_LOCALE_ARCHIVE_SPAN ||
	    send > RS_LOCALE_ARCHIVE_SPAN)
		return -EINVAL;
	*need = (size_t)(hend > send ? hend : send);
	if (len < *need)
		return -ENODATA;
	for (uint64_t e = hoff; e < hend; e += 12) {
		uint64_t at = word_at(buf, (size_t)e + 4);
		/* a name lies in the string table, NUL-terminated inside it */
		if (at == 0 || at < soff || at + nlen >= send)
			continue;
		if (memcmp(buf + at, name, nlen) == 0 && buf[at + nlen] == '\0')
			return 1;
	}
	return 0;
}

/* Skips blanks (space, tab; a CR at the end of a CRLF line too). */
static size_t skip_blank(const char *l, size_t i, size_t n)
{
	while (i < n && (l[i] == ' ' || l[i] == '\t' || l[i] == '\r'))
		i++;
	return i;
}

/* Whether l[i..] starts with word w followed by a blank or the end. */
static bool word_at_pos(const char *l, size_t i, size_t n, const char *w, size_t k)
{
	return n - i >= k && memcmp(l + i, w, k) == 0 &&
	       (i + k == n || l[i + k] == ' ' || l[i + k] == '\t' || l[i + k] == '\r');
}

/* A locale.gen(5) line "NAME CHARSET" (any blanks between and around),
 * commented out or not: 1 enabled, 2 commented ("# en_US.UTF-8 UTF-8"), 0
 * another line. entry is "NAME CHARSET", one space between. */
static int locale_gen_line(const char *l, size_t n, const char *entry)
{
	const char *sp = strchr(entry, ' ');
	size_t k1 = sp ? (size_t)(sp - entry) : strlen(entry), i = skip_blank(l, 0, n);
	bool hash = i < n && l[i] == '#';

	if (!sp)
		return 0;
	i = skip_blank(l, i + hash, n);
	if (!word_at_pos(l, i, n, entry, k1))
		return 0;
	size_t j = skip_blank(l, i + k1, n);
	if (j == i + k1 || !word_at_pos(l, j, n, sp + 1, strlen(sp + 1)))
		return 0;
	return skip_blank(l, j + strlen(sp + 1), n) == n ? (hash ? 2 : 1) : 0;
}

char *rs_locale_gen_enable(const char *buf, size_t len, const char *entry)
{
	size_t first_commented = SIZE_MAX, first_end = 0;

	for (size_t off = 0; off < len;) {
		const char *nl = memchr(buf + off, '\n', len - off);
		size_t n = nl ? (size_t)(nl - (buf + off)) : len - off;
		int k = memchr(buf + off, '\0', n) ? 0 : locale_gen_line(buf + off, n, entry);
		if (k == 1)
			return NULL;
		if (k == 2 && first_commented == SIZE_MAX) {
			first_commented = off;
			first_end = off + n;
		}
		off += n + (nl != NULL);
	}
	/* the entry in place of its first commented-out line, or at the end
	 * (after a newline the file lacks); every other byte kept */
	bool add_nl = first_commented == SIZE_MAX && len && buf[len - 1] != '\n';
	size_t head = first_commented == SIZE_MAX ? len : first_commented;
	size_t tail = first_commented == SIZE_MAX ? len : first_end, k = strlen(entry);
	char *out = rs_xmalloc(len + k + 3), *o = out;
	memcpy(o, buf, head);
	o += head;
	if (add_nl)
		*o++ = '\n';
	memcpy(o, entry, k);
	o += k;
	if (first_commented == SIZE_MAX)
		*o++ = '\n';
	memcpy(o, buf + tail, len - tail);
	o += len - tail;
	*o = '\0';
	return out;
}

/* ---- /proc/PID/status ---- */

struct status_scan {
	const char *key;
	size_t klen;
	char *value;
};

static void status_line(char *line, bool nul, unsigned no _unused_, void *ud)
{
	struct status_scan *s = ud;

	if (nul || s->value || strncmp(line, s->key, s->klen) || line[s->klen] != ':')
		return;
	s->value = rs_xstrdup(rs_strstrip(line + s->klen + 1));
}

char *rs_proc_status_get(const char *buf, size_t len, const char *key)
{
	struct status_scan s = {.key = key, .klen = strlen(key)};
	for_each_line(buf, len, status_line, &s);
	return s.value;
}

/* ---- security.capability ---- */

/* struct vfs_cap_data / vfs_ns_cap_data (linux/capability.h): a
 * little-endian magic word, then permitted and inheritable per 32-bit
 * half, then (revision 3) the root uid of the namespace they apply to */
#define CAP_REV_MASK  0xff000000u
#define CAP_REV1      0x01000000u
#define CAP_REV2      0x02000000u
#define CAP_REV3      0x03000000u
#define CAP_FLAGS_EFF 0x000001u

static uint32_t le32_at(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int rs_fcaps_parse(const void *buf, size_t len, struct rs_fcaps *out)
{
	const unsigned char *p = buf;

	memset(out, 0, sizeof(*out));
	if (len < 4)
		return -EINVAL;
	uint32_t magic = le32_at(p);
	uint32_t rev = magic & CAP_REV_MASK;
	/* the kernel accepts exactly these sizes (get_vfs_caps_from_disk) */
	size_t want = rev == CAP_REV1 ? 12 : rev == CAP_REV2 ? 20 : rev == CAP_REV3 ? 24 : 0;
	if (!want || len != want || (magic & ~CAP_REV_MASK & ~CAP_FLAGS_EFF))
		return -EINVAL;
	out->version = rev >> 24;
	out->effective = magic & CAP_FLAGS_EFF;
	out->permitted = le32_at(p + 4);
	out->inheritable = le32_at(p + 8);
	if (rev != CAP_REV1) {
		out->permitted |= (uint64_t)le32_at(p + 12) << 32;
		out->inheritable |= (uint64_t)le32_at(p + 16) << 32;
	}
	if (rev == CAP_REV3)
		out->rootid = le32_at(p + 20);
	return 0;
}

/* ---- systemd unit files ---- */

struct unit_scan {
	const char *section, *key;
	bool in_section;
	struct rs_sbuf cont; /* a line continued with a backslash */
	char *value;
};

static void unit_assign(struct unit_scan *u, char *s)
{
	char *eq;

	if (*s == '[') {
		char *end = strchr(s, ']');
		if (end) {
			*end = '\0';
			u->in_section = strcmp(s + 1, u->section) == 0;
		}
		return;
	}
	if (!u->in_section || !(eq = strchr(s, '=')))
		return;
	*eq = '\0';
	if (strcmp(rs_strstrip(s), u->key))
		return;
	free(u->value);
	u->value = rs_xstrdup(rs_strstrip(eq + 1));
}

static void unit_line(char *line, bool nul, unsigned no _unused_, void *ud)
{
	struct unit_scan *u = ud;
	char *s = rs_strstrip(line);
	size_t n = strlen(s);

	if (nul) {
		u->cont.n = 0; /* systemd refuses such a line; so does the scan */
		return;
	}
	/* comment lines inside a continuation are skipped (systemd.syntax(7)) */
	if (*s == '#' || *s == ';')
		return;
	bool more = n && s[n - 1] == '\\';
	if (more)
		s[--n] = ' ';
	rs_sbuf_add(&u->cont, s, n);
	if (more)
		return;
	_cleanup_free_ char *whole = rs_xstrndup(u->cont.s, u->cont.n);
	u->cont.n = 0;
	unit_assign(u, rs_strstrip(whole));
}

char *rs_unit_get(const char *buf, size_t len, const char *section, const char *key)
{
	struct unit_scan u = {.section = section, .key = key};
	for_each_line(buf, len, unit_line, &u);
	if (u.cont.n) {
		_cleanup_free_ char *whole = rs_xstrndup(u.cont.s, u.cont.n);
		unit_assign(&u, rs_strstrip(whole));
	}
	free(u.cont.s);
	return u.value;
}
