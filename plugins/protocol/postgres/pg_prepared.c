/*
 * The session's prepared statement names (pg_prepared.h).  At most a
 * few hundred names, looked up only for statements that prepare,
 * execute or deallocate one: a linear search is enough.
 */
#include "pg_prepared.h"

#include <stdlib.h>
#include <string.h>

static size_t body_cost(const struct pg_stmt *st)
{
	size_t n = sizeof(struct pg_prep_body) + strlen(st->command) +
		   strlen(st->text) + 2, i;

	if (st->prep_name)
		n += strlen(st->prep_name) + 1;
	for (i = 0; i < st->ntables; i++)
		n += strlen(st->tables[i]) + 1;
	for (i = 0; i < st->nfunctions; i++)
		n += strlen(st->functions[i]) + 1;
	return n;
}

/* A candidate goes: freed now, or when the caller no longer holds
 * pointers into it (p->defer). */
static void drop_body(struct pg_prepared *p, struct pg_prep_body *b)
{
	p->bytes -= b->bytes;
	if (p->defer) {
		b->next = p->trash;
		p->trash = b;
		return;
	}
	pg_stmt_release(&b->st);
	free(b);
}

static void drop_bodies(struct pg_prepared *p, struct pg_prep_name *e)
{
	for (size_t i = 0; i < e->n; i++)
		drop_body(p, e->bodies[i]);
	e->n = 0;
}

static struct pg_prep_name *lookup(const struct pg_prepared *p,
				   const char *name)
{
	for (size_t i = 0; p && i < p->n; i++)
		if (strcmp(p->names[i].name, name) == 0)
			return &p->names[i];
	return NULL;
}

/* From now on an EXECUTE of e is unknown, until e is deallocated: its
 * candidates would no longer be all the server may hold. */
static int lose(struct pg_prepared *p, struct pg_prep_name *e)
{
	drop_bodies(p, e);
	e->lost = 1;
	return -1;
}

static struct pg_prep_name *new_name(struct pg_prepared *p, const char *name)
{
	struct pg_prep_name *e;
	size_t cap;

	if (p->untracked || p->n >= PG_PREP_MAX_NAMES)
		return NULL;
	if (p->n == p->cap) {
		cap = p->cap ? 2 * p->cap : 8;
		e = realloc(p->names, cap * sizeof(*e));
		if (!e)
			return NULL;
		p->names = e;
		p->cap = cap;
	}
	e = &p->names[p->n];
	memset(e, 0, sizeof(*e));
	if (!(e->name = strdup(name)))
		return NULL;
	p->n++;
	return e;
}

int pg_prepared_add(struct pg_prepared **pp, const char *name,
		    const struct pg_stmt *body)
{
	struct pg_prepared *p = *pp;
	struct pg_prep_name *e;
	struct pg_prep_body *b;
	size_t i, cost;

	if (!p && !(p = *pp = calloc(1, sizeof(*p))))
		return -1; /* nothing tracked: every name is unknown */
	e = lookup(p, name);
	if (!e && !(e = new_name(p, name))) {
		/* a name we cannot follow may exist from now on, so no name
		 * can be trusted to be new until DEALLOCATE ALL */
		p->untracked = 1;
		return -1;
	}
	if (e->lost)
		return -1;
	for (i = 0; i < e->n; i++)
		if (strcmp(e->bodies[i]->st.text, body->text) == 0)
			return 0;
	cost = body_cost(body);
	if (e->n == PG_PREP_MAX_BODIES || cost > PG_PREP_MAX_BYTES - p->bytes)
		return lose(p, e);
	if (!(b = calloc(1, sizeof(*b))) || pg_stmt_copy(&b->st, body) < 0) {
		free(b);
		return lose(p, e);
	}
	b->bytes = cost;
	p->bytes += cost;
	e->bodies[e->n++] = b;
	return 0;
}

void pg_prepared_forget(struct pg_prepared *p, const char *name)
{
	struct pg_prep_name *e = lookup(p, name);

	if (!e)
		return;
	drop_bodies(p, e);
	free(e->name);
	*e = p->names[--p->n];
}

void pg_prepared_forget_all(struct pg_prepared *p)
{
	if (!p)
		return;
	while (p->n)
		pg_prepared_forget(p, p->names[p->n - 1].name);
	p->untracked = 0;
}

const struct pg_prep_name *pg_prepared_find(const struct pg_prepared *p,
					    const char *name)
{
	const struct pg_prep_name *e = lookup(p, name);

	return e && !e->lost && e->n ? e : NULL;
}

void pg_prepared_sweep(struct pg_prepared *p)
{
	struct pg_prep_body *b;

	if (!p)
		return;
	while ((b = p->trash)) {
		p->trash = b->next;
		pg_stmt_release(&b->st);
		free(b);
	}
}

void pg_prepared_free(struct pg_prepared *p)
{
	if (!p)
		return;
	p->defer = 0;
	pg_prepared_forget_all(p);
	pg_prepared_sweep(p);
	free(p->names);
	free(p);
}
