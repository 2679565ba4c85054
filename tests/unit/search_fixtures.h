/* search_fixtures.h: a store with two companies' nodes, members with
 * attestations and profiles, and query helpers, shared by the search unit
 * tests (test_search.c, test_search_index.c). Include after kz_test.h. */
#ifndef KZ_SEARCH_FIXTURES_H
#define KZ_SEARCH_FIXTURES_H

#include "store_fixtures.h"
#include "kz_text.h"

/* ---- Fixtures ------------------------------------------------------------------ */

/* Two companies: Sumitomo (node seed 1) and Acme (node seed 3). */
typedef struct {
    fx f;
    key n1, n2;
    uint64_t t;         /* next creation time */
} sw;

typedef struct {
    const char *name, *reading, *romaji, *dept, *title, *cc, *ct, *loc, *bio;
    const char *skills[4];
    uint16_t joined, left;
    uint32_t open_to;
    uint8_t vis;
} prof;

static inline kz_str S(const char *s)
{
    return s ? (kz_str){s, (uint32_t)strlen(s)} : (kz_str){NULL, 0};
}

static inline void put_node(sw *w, const key *n, const char *name)
{
    kz_record r;
    kz_record_init(&r, KZ_T_NODE, n->pk, w->t++);
    r.body.node.name = S(name);
    sign_ok(&r, n);
    put_expect(w->f.s, &r, 0);
    kz_record_close(&r);
}

static inline void sw_open(sw *w)
{
    memset(w, 0, sizeof *w);
    w->t = T0;
    fx_open(&w->f);
    key_make(&w->n1, 1);
    key_make(&w->n2, 3);
    put_node(w, &w->n1, "住友商事");
    put_node(w, &w->n2, "Acme Corp");
}

static inline void attest(sw *w, const key *node, const key *m, uint16_t joined, uint16_t left,
                   const char *dept)
{
    kz_record r;
    kz_record_init(&r, KZ_T_ATTEST, node->pk, w->t++);
    memcpy(r.body.attest.member, m->pk, KZ_KEY_BYTES);
    r.body.attest.joined = joined;
    r.body.attest.left = left;
    r.body.attest.department = S(dept);
    sign_ok(&r, node);
    put_expect(w->f.s, &r, 0);
    kz_record_close(&r);
}

static inline void profile(sw *w, const key *m, const prof *p, kz_record *out)
{
    kz_record r;
    kz_record_init(&r, KZ_T_PROFILE, m->pk, w->t++);
    kz_body_profile *b = &r.body.profile;
    b->name = S(p->name);
    b->reading = S(p->reading);
    b->romaji = S(p->romaji);
    b->department = S(p->dept);
    b->title = S(p->title);
    b->current_company = S(p->cc);
    b->current_title = S(p->ct);
    b->location = S(p->loc);
    b->bio = S(p->bio);
    for (int i = 0; i < 4 && p->skills[i]; i++)
        b->skills[b->n_skills++] = S(p->skills[i]);
    b->joined = p->joined;
    b->left = p->left;
    b->open_to = p->open_to;
    b->visibility = p->vis;
    sign_ok(&r, m);
    put_expect(w->f.s, &r, 0);
    if (out)
        *out = r;
    else
        kz_record_close(&r);
}

/* A member attested by node with a profile. */
static inline void member(sw *w, key *m, uint8_t seed, const key *node, const prof *p)
{
    key_make(m, seed);
    attest(w, node, m, p->joined, p->left, NULL);
    profile(w, m, p, NULL);
}

static inline kz_search_result *run(sw *w, const kz_search_query *q)
{
    kz_search_result *res = NULL;
    const char *reason = NULL;
    int rc = kz_store_search(w->f.s, q, &res, &reason);
    if (rc)
        fail_msg("search: %s (%s)", kz_strerror(rc), reason ? reason : "?");
    assert_non_null(res);
    return res;
}

static inline kz_search_result *text(sw *w, const char *t)
{
    kz_search_query q = {.text = t};
    return run(w, &q);
}

static inline int find(const kz_search_result *r, const key *m)
{
    for (size_t i = 0; i < r->n; i++) {
        if (memcmp(r->hits[i].member, m->pk, KZ_KEY_BYTES) == 0)
            return (int)i;
    }
    return -1;
}

static inline void expect_hits(sw *w, const char *t, size_t n)
{
    kz_search_result *r = text(w, t);
    if (r->n != n)
        fail_msg("query '%s': %zu hits, want %zu", t, r->n, n);
    kz_store_search_free(r);
}

static inline int search_rc(sw *w, const kz_search_query *q, const char **reason)
{
    kz_search_result *res = NULL;
    int rc = kz_store_search(w->f.s, q, &res, reason);
    if (rc == 0)
        kz_store_search_free(res);
    else
        assert_null(res);
    return rc;
}


static inline size_t count(sw *w, kz_search_query *q)
{
    kz_search_result *r = run(w, q);
    size_t n = r->n;
    kz_store_search_free(r);
    return n;
}

#endif
