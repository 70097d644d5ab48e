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

static void free_body(struct pg_prepared *p, struct pg_prep_body *b)
{
	p->bytes -= b->bytes;
	pg_stmt_release(&b->st);
	free(b);
}

static void free_entry(struct pg_prepared *p, struct pg_prep_name *e)
{
	for (size_t i = 0; i < e->n; i++)
		free_body(p, e->bodies[i]);
	free(e->name);
	memset(e, 0, sizeof(*e));
}

static struct pg_prep_name *lookup(const struct pg_prepared *p,
				   const char *name)
{
	for (size_t i = 0; p && i < p->n; i++)
		if (strcmp(p->names[i].name, name) == 0)
			return &p->names[i];
	return NULL;
}

/* A free slot at the end of the table, or NULL when it is full. */
static struct pg_prep_name *slot(struct pg_prepared *p)
{
	struct pg_prep_name *e;
	size_t cap;

	if (p->n >= PG_PREP_MAX_NAMES)
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
	return e;
}

static struct pg_prep_name *new_name(struct pg_prepared *p, const char *name)
{
	struct pg_prep_name *e;

	if (p->untracked || !(e = slot(p)) || !(e->name = strdup(name)))
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
	/* past a bound the list would no longer be all the server may
	 * hold: unknown until deallocated */
	cost = body_cost(body);
	if (e->n == PG_PREP_MAX_BODIES || cost > PG_PREP_MAX_BYTES - p->bytes)
		goto lost;
	if (!(b = calloc(1, sizeof(*b))))
		goto lost;
	if (pg_stmt_copy(&b->st, body) < 0) {
		free(b);
		goto lost;
	}
	b->bytes = cost;
	p->bytes += cost;
	e->bodies[e->n++] = b;
	return 0;
lost:
	e->lost = 1;
	return -1;
}

/* Entry i leaves the table: freed, or set aside while deferred. */
static void forget_at(struct pg_prepared *p, size_t i)
{
	struct pg_prep_gone *g;

	if (p->defer) {
		if (!(g = malloc(sizeof(*g))))
			return; /* kept: only stricter */
		g->e = p->names[i];
		g->next = p->gone;
		p->gone = g;
	} else {
		free_entry(p, &p->names[i]);
	}
	p->names[i] = p->names[--p->n];
}

void pg_prepared_forget(struct pg_prepared *p, const char *name)
{
	struct pg_prep_name *e = lookup(p, name);

	if (e)
		forget_at(p, (size_t)(e - p->names));
}

void pg_prepared_forget_all(struct pg_prepared *p)
{
	if (!p)
		return;
	/* downwards: forget_at moves the last entry into i */
	for (size_t i = p->n; i-- > 0;)
		forget_at(p, i);
	if (p->defer)
		p->untracked_before |= p->untracked;
	p->untracked = 0;
}

const struct pg_prep_name *pg_prepared_find(const struct pg_prepared *p,
					    const char *name)
{
	const struct pg_prep_name *e = lookup(p, name);

	return e && !e->lost && e->n ? e : NULL;
}

/* A name set aside goes back: merged into the entry prepared under the
 * name since, or an entry of its own. */
static void restore(struct pg_prepared *p, struct pg_prep_name *g)
{
	struct pg_prep_name *e = lookup(p, g->name);
	size_t i, j;

	if (!e) {
		if (!(e = slot(p))) {
			p->untracked = 1; /* its name is unknown from now on */
			free_entry(p, g);
			return;
		}
		*e = *g;
		p->n++;
		return;
	}
	e->lost |= g->lost;
	for (i = 0; i < g->n; i++) {
		for (j = 0; j < e->n; j++)
			if (strcmp(e->bodies[j]->st.text,
				   g->bodies[i]->st.text) == 0)
				break;
		if (j < e->n) {
			free_body(p, g->bodies[i]);
		} else if (e->n < PG_PREP_MAX_BODIES) {
			e->bodies[e->n++] = g->bodies[i];
		} else {
			e->lost = 1;
			free_body(p, g->bodies[i]);
		}
	}
	g->n = 0;
	free_entry(p, g);
}

void pg_prepared_end(struct pg_prepared *p, int ran)
{
	struct pg_prep_gone *g;

	if (!p)
		return;
	p->defer = 0;
	while ((g = p->gone)) {
		p->gone = g->next;
		if (ran)
			free_entry(p, &g->e);
		else
			restore(p, &g->e);
		free(g);
	}
	if (!ran)
		p->untracked |= p->untracked_before;
	p->untracked_before = 0;
}

void pg_prepared_free(struct pg_prepared *p)
{
	if (!p)
		return;
	pg_prepared_end(p, 1);
	pg_prepared_forget_all(p);
	free(p->names);
	free(p);
}
