/*
 * The plugin loader: checks a file before and after dlopen() and refuses
 * anything this core cannot use, saying what it wanted and what it found.
 *
 * Order of the checks (each is tested in tests/unit/test_loader.c): the
 * file exists, can be read, is not empty, is an ELF shared object of our
 * class (checked by hand first: dlerror() texts are vague); dlopen works;
 * the descriptor symbol exists; then the descriptor's frozen prefix
 * (magic, ABI major, ABI minor, size), kind, name, duplicate name, init,
 * and the kind's ops table and its size.
 */
#include "loader.h"
#include "conf.h"

#include <ctype.h>
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <link.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jitgate/idp.h>
#include <jitgate/mask.h>
#include <jitgate/notify.h>
#include <jitgate/protocol.h>
#include <jitgate/store.h>

#define FROZEN_PREFIX 12 /* magic, abi_major, abi_minor, size */

/* The end of the last field of an ABI 1.0 struct: what this core reads. */
#define FIELD_END(type, field)                                                \
	(offsetof(type, field) + sizeof(((type *)0)->field))

struct loaded {
	struct jg_loaded pub;
	void *dl;
	char *path;
};

struct jg_registry {
	char *plugin_dir;
	char *basedir;
	struct loaded **plugins; /* each allocated: pointers stay valid */
	size_t n;
	struct jg_instance **inst;
	size_t ninst;
};

size_t loader_min_descriptor_size(void)
{
	return FIELD_END(struct jg_plugin, ops);
}

size_t loader_min_ops_size(uint32_t kind)
{
	switch (kind) {
	case JG_KIND_PROTOCOL:
		return FIELD_END(struct jg_protocol_ops, session_close);
	case JG_KIND_IDP:
		return FIELD_END(struct jg_idp_ops, authenticate);
	/* mask and store tables are still settling before the first
	 * release: take the whole table.  Once an op is appended in a minor
	 * bump, freeze the older end here with FIELD_END, as above. */
	case JG_KIND_MASK:
		return sizeof(struct jg_mask_ops);
	case JG_KIND_STORE:
		return sizeof(struct jg_store_ops);
	case JG_KIND_NOTIFY:
		return FIELD_END(struct jg_notify_ops, notify);
	}
	return 0;
}

const char *loader_kind_name(uint32_t kind)
{
	static const char *const names[] = {"protocol", "idp", "mask", "store",
					    "notify"};

	return kind >= 1 && kind <= JG_KIND_MAX ? names[kind - 1] : "unknown";
}

/* ---- the file, before dlopen ------------------------------------------- */

static int check_file(const char *path, char *err, size_t errlen)
{
	unsigned char h[EI_NIDENT + 4];
	struct stat sb;
	ssize_t n;
	int fd;
	uint16_t type;

	if (stat(path, &sb) < 0) {
		snprintf(err, errlen, "%s: %s (wanted a plugin shared object)",
			 path,
			 errno == ENOENT ? "file not found" : strerror(errno));
		return -1;
	}
	if (!S_ISREG(sb.st_mode)) {
		snprintf(err, errlen,
			 "%s: not a regular file (wanted a shared object)",
			 path);
		return -1;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen,
			 "%s: cannot read: %s (mode %04o, owner uid %u, "
			 "running as uid %u)",
			 path, strerror(errno), (unsigned)(sb.st_mode & 07777),
			 (unsigned)sb.st_uid, (unsigned)geteuid());
		return -1;
	}
	n = read(fd, h, sizeof(h));
	close(fd);
	if (n == 0) {
		snprintf(err, errlen,
			 "%s: empty file (0 bytes), wanted a shared object",
			 path);
		return -1;
	}
	if (n < 4 || memcmp(h, ELFMAG, SELFMAG) != 0) {
		char found[16] = "";
		size_t k = 0;
		for (ssize_t i = 0; i < n && i < 4; i++)
			k += (size_t)snprintf(found + k, sizeof(found) - k,
					      "%s%02x", i ? " " : "", h[i]);
		snprintf(err, errlen,
			 "%s: not a shared object: wanted ELF magic 7f 45 4c "
			 "46, found %s",
			 path, found);
		return -1;
	}
	if (n < (ssize_t)sizeof(h)) {
		snprintf(err, errlen,
			 "%s: not a shared object: truncated ELF header "
			 "(%zd bytes)",
			 path, n);
		return -1;
	}
	if (h[EI_CLASS] != (sizeof(void *) == 8 ? ELFCLASS64 : ELFCLASS32)) {
		snprintf(err, errlen,
			 "%s: a %s ELF file, wanted %s like this core", path,
			 h[EI_CLASS] == ELFCLASS64 ? "64-bit" : "32-bit",
			 sizeof(void *) == 8 ? "64-bit" : "32-bit");
		return -1;
	}
	/* e_type follows e_ident; read it in the file's byte order. */
	type = h[EI_DATA] == ELFDATA2MSB
		       ? (uint16_t)(h[EI_NIDENT] << 8 | h[EI_NIDENT + 1])
		       : (uint16_t)(h[EI_NIDENT + 1] << 8 | h[EI_NIDENT]);
	if (type != ET_DYN) {
		snprintf(err, errlen,
			 "%s: not a shared object: ELF type %u (%s), wanted %u "
			 "(shared object)",
			 path, type,
			 type == ET_REL    ? "relocatable object"
			 : type == ET_EXEC ? "executable"
			 : type == ET_CORE ? "core dump"
					   : "unknown",
			 ET_DYN);
		return -1;
	}
	return 0;
}

/* ---- the descriptor, after dlopen -------------------------------------- */

static int valid_name(const char *s)
{
	if (!s || !*s || strlen(s) > 64)
		return 0;
	for (; *s; s++)
		if (!islower((unsigned char)*s) && !isdigit((unsigned char)*s) &&
		    *s != '_' && *s != '-')
			return 0;
	return 1;
}

static int check_descriptor(const struct jg_registry *r, const char *path,
			    const struct jg_plugin *p, size_t symsize,
			    char *err, size_t errlen)
{
	const uint32_t *ops_size;

	if (symsize && symsize < FROZEN_PREFIX) {
		snprintf(err, errlen,
			 "%s: descriptor symbol \"%s\" is %zu bytes, wanted at "
			 "least %d",
			 path, JG_PLUGIN_SYMBOL, symsize, FROZEN_PREFIX);
		return -1;
	}
	if (p->magic != JG_PLUGIN_MAGIC) {
		snprintf(err, errlen,
			 "%s: wrong magic: wanted 0x%08x, found 0x%08x", path,
			 JG_PLUGIN_MAGIC, p->magic);
		return -1;
	}
	if (p->abi_major != JG_ABI_MAJOR) {
		snprintf(err, errlen,
			 "%s: plugin built for ABI %u.%u, this core supports "
			 "ABI %d.x (the major must be equal)",
			 path, p->abi_major, p->abi_minor, JG_ABI_MAJOR);
		return -1;
	}
	if (p->abi_minor > JG_ABI_MINOR) {
		snprintf(err, errlen,
			 "%s: plugin built for ABI %u.%u, this core supports "
			 "up to %d.%d",
			 path, p->abi_major, p->abi_minor, JG_ABI_MAJOR,
			 JG_ABI_MINOR);
		return -1;
	}
	if (p->size < loader_min_descriptor_size()) {
		snprintf(err, errlen,
			 "%s: descriptor too short: wanted at least %zu bytes "
			 "(ABI %d.0), found %u",
			 path, loader_min_descriptor_size(), JG_ABI_MAJOR,
			 p->size);
		return -1;
	}
	if (symsize && p->size > symsize) {
		snprintf(err, errlen,
			 "%s: descriptor says it is %u bytes, but the symbol "
			 "is %zu",
			 path, p->size, symsize);
		return -1;
	}
	if (p->kind < 1 || p->kind > JG_KIND_MAX) {
		snprintf(err, errlen,
			 "%s: unknown kind %u: wanted 1..%d (protocol, idp, "
			 "mask, store, notify)",
			 path, p->kind, JG_KIND_MAX);
		return -1;
	}
	if (!valid_name(p->name)) {
		snprintf(err, errlen,
			 "%s: invalid plugin name \"%.64s\": wanted 1 to 64 of "
			 "[a-z0-9_-]",
			 path, p->name ? p->name : "(null)");
		return -1;
	}
	for (size_t i = 0; i < r->n; i++) {
		if (strcmp(r->plugins[i]->pub.name, p->name) == 0) {
			snprintf(err, errlen,
				 "%s: duplicate plugin name \"%s\": already "
				 "loaded from %s",
				 path, p->name, r->plugins[i]->path);
			return -1;
		}
	}
	if (!p->init) {
		snprintf(err, errlen,
			 "%s: descriptor of \"%s\" has no init function", path,
			 p->name);
		return -1;
	}
	if (!p->ops) {
		snprintf(err, errlen,
			 "%s: no operations table: wanted struct jg_%s_ops",
			 path, loader_kind_name(p->kind));
		return -1;
	}
	ops_size = p->ops;
	if (*ops_size < loader_min_ops_size(p->kind)) {
		snprintf(err, errlen,
			 "%s: %s operations table too short: wanted at least "
			 "%zu bytes, found %u",
			 path, loader_kind_name(p->kind),
			 loader_min_ops_size(p->kind), *ops_size);
		return -1;
	}
	return 0;
}

/* ---- the registry ------------------------------------------------------- */

struct jg_registry *loader_new(const char *plugin_dir, const char *basedir)
{
	struct jg_registry *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->plugin_dir = strdup(plugin_dir ? plugin_dir : ".");
	r->basedir = basedir ? strdup(basedir) : NULL;
	if (!r->plugin_dir || (basedir && !r->basedir)) {
		loader_free(r);
		return NULL;
	}
	return r;
}

void loader_free(struct jg_registry *r)
{
	if (!r)
		return;
	while (r->ninst > 0) {
		struct jg_instance *in = r->inst[--r->ninst];
		if (in->loaded->plugin->fini)
			in->loaded->plugin->fini(in->state);
		free((char *)in->keypath);
		free(in);
	}
	free(r->inst);
	for (size_t i = r->n; i-- > 0;) {
		dlclose(r->plugins[i]->dl);
		free(r->plugins[i]->path);
		free(r->plugins[i]);
	}
	free(r->plugins);
	free(r->plugin_dir);
	free(r->basedir);
	free(r);
}

static void loader_free_cb(void *r)
{
	loader_free(r);
}

const struct jg_loaded *loader_open(struct jg_registry *r, const char *spec,
				    char *err, size_t errlen)
{
	char path[PATH_MAX];
	const struct jg_plugin *p;
	const ElfW(Sym) *sym = NULL;
	Dl_info info;
	struct loaded **arr, *l;
	size_t symsize = 0;
	void *dl;
	int n;

	if (strchr(spec, '/')) {
		n = spec[0] != '/' && r->basedir
			    ? snprintf(path, sizeof(path), "%s/%s", r->basedir,
				       spec)
			    : snprintf(path, sizeof(path), "%s", spec);
	} else if (valid_name(spec)) {
		n = snprintf(path, sizeof(path), "%s/%s.so", r->plugin_dir,
			     spec);
	} else {
		snprintf(err, errlen,
			 "\"%.64s\": neither a plugin name ([a-z0-9_-]) nor a "
			 "path",
			 spec);
		return NULL;
	}
	if (n < 0 || (size_t)n >= sizeof(path)) {
		snprintf(err, errlen, "%.64s...: path too long", spec);
		return NULL;
	}
	if (check_file(path, err, errlen) < 0)
		return NULL;
	dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!dl) {
		snprintf(err, errlen, "%s: dlopen failed: %s", path, dlerror());
		return NULL;
	}
	/* dlsym, not dlvsym: the plugin links with an export regex, and
	 * a stray global jg_plugin from another object can't interfere
	 * because of RTLD_LOCAL. */
	p = dlsym(dl, JG_PLUGIN_SYMBOL);
	if (!p) {
		snprintf(err, errlen,
			 "%s: no plugin descriptor: wanted exported symbol "
			 "\"%s\", not found (declare it with JG_EXPORT)",
			 path, JG_PLUGIN_SYMBOL);
		dlclose(dl);
		return NULL;
	}
	/* The symbol's own size tells how much may be read at all. */
	if (dladdr1(p, &info, (void **)&sym, RTLD_DL_SYMENT) && sym)
		symsize = sym->st_size;
	if (check_descriptor(r, path, p, symsize, err, errlen) < 0) {
		dlclose(dl);
		return NULL;
	}
	arr = realloc(r->plugins, (r->n + 1) * sizeof(*arr));
	if (arr)
		r->plugins = arr;
	l = calloc(1, sizeof(*l));
	if (!arr || !l || !(l->path = strdup(path))) {
		free(l);
		dlclose(dl);
		snprintf(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	l->dl = dl;
	l->pub.plugin = p;
	l->pub.name = p->name;
	l->pub.path = l->path;
	r->plugins[r->n++] = l;
	return &l->pub;
}

struct jg_registry *loader_load(struct jg_conf *c, char *err, size_t errlen)
{
	const struct conf_settings *st = conf_settings(c);
	struct jg_registry *r = loader_new(st->plugin_dir, conf_dir(c));
	char why[1024], kp[64];

	if (!r || conf_on_free(c, loader_free_cb, r) < 0) {
		loader_free(r);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	for (size_t i = 0; i < st->nplugins; i++) {
		if (loader_open(r, st->plugins[i], why, sizeof(why)))
			continue;
		conf_path_index(kp, sizeof(kp), "plugins", i);
		snprintf(err, errlen, "%s: %s: %s", conf_where(c, kp), kp, why);
		return NULL; /* r is freed with c */
	}
	return r;
}

const struct jg_loaded *loader_find(const struct jg_registry *r,
				    const char *name)
{
	for (size_t i = 0; r && name && i < r->n; i++)
		if (strcmp(r->plugins[i]->pub.name, name) == 0)
			return &r->plugins[i]->pub;
	return NULL;
}

size_t loader_count(const struct jg_registry *r)
{
	return r ? r->n : 0;
}

const struct jg_loaded *loader_at(const struct jg_registry *r, size_t i)
{
	return r && i < r->n ? &r->plugins[i]->pub : NULL;
}

const struct jg_loaded *loader_next_kind(const struct jg_registry *r,
					 uint32_t kind,
					 const struct jg_loaded *prev)
{
	size_t i = 0;

	if (!r)
		return NULL;
	while (prev && i < r->n && &r->plugins[i++]->pub != prev)
		;
	for (; i < r->n; i++)
		if (r->plugins[i]->pub.plugin->kind == kind)
			return &r->plugins[i]->pub;
	return NULL;
}

const void *loader_ops(const struct jg_loaded *p)
{
	return p ? p->plugin->ops : NULL;
}

struct jg_instance *loader_instance_new(struct jg_registry *r,
					struct jg_conf *c, const char *name,
					struct json_object *options,
					const char *keypath,
					const struct jg_host *host, char *err,
					size_t errlen)
{
	const struct jg_loaded *p = loader_find(r, name);
	char opath[CONF_MAX_KEYPATH], why[512] = "";
	struct jg_instance *in, **arr;
	const struct jg_config *cfg;
	void *state = NULL;

	if (!p) {
		snprintf(err, errlen,
			 "%s: %s: no plugin \"%s\" is loaded (add it to "
			 "\"plugins\")",
			 conf_where(c, keypath), keypath, name ? name : "");
		return NULL;
	}
	if (conf_path_key(opath, sizeof(opath), keypath, "options")) {
		snprintf(err, errlen, "%s: key path too long", keypath);
		return NULL;
	}
	cfg = conf_section(c, options, opath, p->plugin->options, NULL, err,
			   errlen);
	if (!cfg)
		return NULL;
	in = calloc(1, sizeof(*in));
	arr = realloc(r->inst, (r->ninst + 1) * sizeof(*arr));
	if (arr)
		r->inst = arr;
	if (!in || !arr || !(in->keypath = strdup(keypath))) {
		free(in);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (p->plugin->init(host, cfg, &state, why, sizeof(why)) != JG_OK) {
		snprintf(err, errlen, "%s: %s: plugin %s: init failed: %s",
			 conf_where(c, keypath), keypath, p->name,
			 why[0] ? why : "(no reason given)");
		free((char *)in->keypath);
		free(in);
		return NULL;
	}
	in->loaded = p;
	in->cfg = cfg;
	in->state = state;
	r->inst[r->ninst++] = in;
	return in;
}

void loader_print_list(const struct jg_registry *r, FILE *f)
{
	fprintf(f, "%-16s %-9s %-10s %-5s %s\n", "NAME", "KIND", "VERSION",
		"ABI", "PATH");
	for (size_t i = 0; r && i < r->n; i++) {
		const struct jg_plugin *p = r->plugins[i]->pub.plugin;
		char abi[16];

		snprintf(abi, sizeof(abi), "%u.%u", p->abi_major, p->abi_minor);
		fprintf(f, "%-16s %-9s %-10s %-5s %s\n", p->name,
			loader_kind_name(p->kind),
			p->version ? p->version : "-", abi,
			r->plugins[i]->path);
	}
}
