/*
 * Fake host (see record_fake_host.h).  Only what the recorder and the
 * store plugins use is real; the rest is absent.
 */
#include "record_fake_host.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ev.h>

struct post {
	jg_task_cb cb;
	void *ud;
	struct post *next;
};

struct jg_loop {
	struct ev_loop *ev;
	ev_async wake;
	pthread_mutex_t lock;
	struct post *head, *tail;
};

struct jg_io {
	ev_io w;
	jg_io_cb cb;
	void *ud;
};

struct jg_timer {
	ev_timer w;
	jg_task_cb cb;
	void *ud;
	uint64_t repeat;
};

struct jg_config {
	const char *const *kv;
};

struct cleanup {
	jg_task_cb fn;
	void *ud;
	struct cleanup *next;
};

struct jg_session {
	char id[64];
	struct cleanup *cleanups;
	char *ended;
};

struct metric {
	char name[96];
	int64_t v;
	struct metric *next;
};

static struct jg_loop L;
static int loop_ready;
static pthread_mutex_t mlock = PTHREAD_MUTEX_INITIALIZER;
static struct metric *metrics;
static int nlogs[8];

static void drain(struct ev_loop *ev, ev_async *w, int revents)
{
	struct jg_loop *l = w->data;
	(void)ev;
	(void)revents;
	for (;;) {
		pthread_mutex_lock(&l->lock);
		struct post *p = l->head;
		if (p) {
			l->head = p->next;
			if (!l->head)
				l->tail = NULL;
		}
		pthread_mutex_unlock(&l->lock);
		if (!p)
			break;
		p->cb(p->ud);
		free(p);
	}
}

struct jg_loop *fake_loop(void)
{
	if (!loop_ready) {
		L.ev = ev_default_loop(0);
		pthread_mutex_init(&L.lock, NULL);
		ev_async_init(&L.wake, drain);
		L.wake.data = &L;
		ev_async_start(L.ev, &L.wake);
		loop_ready = 1;
	}
	return &L;
}

static int f_loop_post(struct jg_loop *l, jg_task_cb cb, void *ud)
{
	struct post *p = calloc(1, sizeof(*p));
	if (!p)
		return JG_ERROR;
	p->cb = cb;
	p->ud = ud;
	pthread_mutex_lock(&l->lock);
	if (l->tail)
		l->tail->next = p;
	else
		l->head = p;
	l->tail = p;
	pthread_mutex_unlock(&l->lock);
	ev_async_send(l->ev, &l->wake);
	return JG_OK;
}

static void io_cb(struct ev_loop *ev, ev_io *w, int revents)
{
	struct jg_io *io = w->data;
	(void)ev;
	io->cb(io->ud, w->fd,
	       ((revents & EV_READ) ? JG_IO_READ : 0) |
		       ((revents & EV_WRITE) ? JG_IO_WRITE : 0));
}

static int ev_mask(int events)
{
	return ((events & JG_IO_READ) ? EV_READ : 0) |
	       ((events & JG_IO_WRITE) ? EV_WRITE : 0);
}

static struct jg_io *f_io_add(struct jg_loop *l, int fd, int events,
			      jg_io_cb cb, void *ud)
{
	struct jg_io *io = calloc(1, sizeof(*io));
	if (!io)
		return NULL;
	io->cb = cb;
	io->ud = ud;
	ev_io_init(&io->w, io_cb, fd, ev_mask(events));
	io->w.data = io;
	ev_io_start(l->ev, &io->w);
	return io;
}

static void f_io_set(struct jg_io *io, int events)
{
	ev_io_stop(L.ev, &io->w);
	ev_io_set(&io->w, io->w.fd, ev_mask(events));
	ev_io_start(L.ev, &io->w);
}

static void f_io_del(struct jg_io *io)
{
	ev_io_stop(L.ev, &io->w);
	free(io);
}

static void timer_cb(struct ev_loop *ev, ev_timer *w, int revents)
{
	struct jg_timer *t = w->data;
	(void)ev;
	(void)revents;
	t->cb(t->ud); /* a one-shot timer stays allocated until timer_del */
}

static struct jg_timer *f_timer_add(struct jg_loop *l, uint64_t ms,
				    uint64_t repeat_ms, jg_task_cb cb,
				    void *ud)
{
	struct jg_timer *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->cb = cb;
	t->ud = ud;
	ev_timer_init(&t->w, timer_cb, (double)ms / 1000.0,
		      (double)repeat_ms / 1000.0);
	t->w.data = t;
	ev_timer_start(l->ev, &t->w);
	return t;
}

static void f_timer_del(struct jg_timer *t)
{
	ev_timer_stop(L.ev, &t->w);
	free(t);
}

static struct jg_loop *f_main_loop(void)
{
	return fake_loop();
}

static struct jg_loop *f_session_loop(struct jg_session *s)
{
	(void)s;
	return fake_loop();
}

static void stop_cb(struct ev_loop *ev, ev_timer *w, int revents)
{
	(void)w;
	(void)revents;
	ev_break(ev, EVBREAK_ONE);
}

static void check_cb(struct ev_loop *ev, ev_check *w, int revents)
{
	const int *flag = w->data;
	(void)revents;
	if (flag && *flag)
		ev_break(ev, EVBREAK_ONE);
}

int fake_run_until(const int *flag, int ms)
{
	ev_timer t;
	ev_check c;

	fake_loop();
	if (flag && *flag)
		return *flag;
	ev_timer_init(&t, stop_cb, (double)ms / 1000.0, 0);
	ev_timer_start(L.ev, &t);
	ev_check_init(&c, check_cb);
	c.data = (void *)flag;
	ev_check_start(L.ev, &c);
	ev_run(L.ev, 0);
	ev_check_stop(L.ev, &c);
	ev_timer_stop(L.ev, &t);
	return flag ? *flag : 0;
}

void fake_run(int ms)
{
	fake_run_until(NULL, ms);
}

static void f_log(const char *plugin, const struct jg_session *s, int level,
		  const char *msgid, const char *fmt, ...)
{
	va_list ap;
	if (level >= 0 && level < 8)
		nlogs[level]++;
	if (!getenv("FAKE_HOST_LOG"))
		return;
	va_start(ap, fmt);
	fprintf(stderr, "# %s %s %s: ", plugin, s ? s->id : "-", msgid);
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
}

int fake_logs(int level)
{
	int n = 0;
	for (int i = 0; i <= level && i < 8; i++)
		n += nlogs[i];
	return n;
}

static const char *cfg_find(const struct jg_config *c, const char *key)
{
	for (size_t i = 0; c && c->kv[i]; i += 2)
		if (strcmp(c->kv[i], key) == 0)
			return c->kv[i + 1];
	return NULL;
}

static const char *f_cfg_string(const struct jg_config *c, const char *key)
{
	return cfg_find(c, key);
}

static int64_t f_cfg_int(const struct jg_config *c, const char *key)
{
	const char *v = cfg_find(c, key);
	if (!v)
		return 0;
	if (strcmp(v, "true") == 0)
		return 1;
	if (strcmp(v, "false") == 0)
		return 0;
	return strtoll(v, NULL, 10);
}

static const char *f_cfg_secret(const struct jg_config *c, const char *key,
				size_t *len)
{
	const char *v = cfg_find(c, key);
	if (v && len)
		*len = strlen(v);
	return v;
}

struct jg_config *fake_config(const char *const *kv)
{
	struct jg_config *c = calloc(1, sizeof(*c));
	c->kv = kv;
	return c;
}

void fake_config_free(struct jg_config *c)
{
	free(c);
}

static const char *f_session_id(const struct jg_session *s)
{
	return s->id;
}

static const char *f_session_peer(const struct jg_session *s)
{
	(void)s;
	return "127.0.0.1:40000";
}

static int f_session_is_loopback(const struct jg_session *s)
{
	(void)s;
	return 1;
}

static int f_session_cleanup(struct jg_session *s, jg_task_cb fn, void *ud)
{
	struct cleanup *c = calloc(1, sizeof(*c));
	if (!c)
		return JG_ERROR;
	c->fn = fn;
	c->ud = ud;
	c->next = s->cleanups;
	s->cleanups = c;
	return JG_OK;
}

static void f_session_end(struct jg_session *s, const char *reason)
{
	if (!s->ended)
		s->ended = strdup(reason ? reason : "");
}

struct jg_session *fake_session(const char *sid)
{
	struct jg_session *s = calloc(1, sizeof(*s));
	snprintf(s->id, sizeof(s->id), "%s", sid);
	return s;
}

void fake_session_close(struct jg_session *s)
{
	while (s->cleanups) {
		struct cleanup *c = s->cleanups;
		s->cleanups = c->next;
		c->fn(c->ud);
		free(c);
	}
	free(s->ended);
	free(s);
}

const char *fake_session_ended(const struct jg_session *s)
{
	return s->ended;
}

static void f_metric_add(const char *plugin, const char *name, int64_t d)
{
	struct metric *m;
	(void)plugin;
	pthread_mutex_lock(&mlock);
	for (m = metrics; m; m = m->next)
		if (strcmp(m->name, name) == 0)
			break;
	if (!m) {
		m = calloc(1, sizeof(*m));
		snprintf(m->name, sizeof(m->name), "%s", name);
		m->next = metrics;
		metrics = m;
	}
	m->v += d;
	pthread_mutex_unlock(&mlock);
}

int64_t fake_metric(const char *name)
{
	int64_t v = 0;
	pthread_mutex_lock(&mlock);
	for (struct metric *m = metrics; m; m = m->next)
		if (strcmp(m->name, name) == 0)
			v = m->v;
	pthread_mutex_unlock(&mlock);
	return v;
}

static const struct jg_host H = {
	.magic = JG_PLUGIN_MAGIC,
	.abi_major = JG_ABI_MAJOR,
	.abi_minor = JG_ABI_MINOR,
	.size = sizeof(struct jg_host),
	.log = f_log,
	.cfg_string = f_cfg_string,
	.cfg_int = f_cfg_int,
	.cfg_secret = f_cfg_secret,
	.session_loop = f_session_loop,
	.main_loop = f_main_loop,
	.io_add = f_io_add,
	.io_set = f_io_set,
	.io_del = f_io_del,
	.timer_add = f_timer_add,
	.timer_del = f_timer_del,
	.loop_post = f_loop_post,
	.session_id = f_session_id,
	.session_peer = f_session_peer,
	.session_is_loopback = f_session_is_loopback,
	.session_end = f_session_end,
	.session_cleanup = f_session_cleanup,
	.metric_add = f_metric_add,
};

const struct jg_host *fake_host(void)
{
	fake_loop();
	return &H;
}
