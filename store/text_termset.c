/* text_termset.c: a document's distinct search terms, deduplicated and sorted for indexing. */
#include "kz_text.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    uint8_t len;
    uint8_t cls;
    uint8_t flags;
    uint8_t b[KZ_TEXT_KEY_MAX];
} term;

/* Terms live in an array (kept inline so sorting needs no context); an
 * open-addressing table of indexes finds duplicates. Sorting reorders the
 * array, so the table is rebuilt when terms are added after a sort. */
struct kz_text_termset {
    term *t;
    size_t n, cap;
    uint32_t *slot; /* index + 1; 0 = empty */
    size_t nslot;   /* power of two, > 2 * n */
    bool stale;     /* slot[] no longer matches t[] (after a sort) */
};

static uint32_t hash_key(const uint8_t *b, size_t len)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (size_t i = 0; i < len; i++)
        h = (h ^ b[i]) * 16777619u;
    return h;
}

static void rehash(kz_text_termset *ts, size_t nslot)
{
    free(ts->slot);
    ts->slot = kz_xcalloc(nslot, sizeof *ts->slot);
    ts->nslot = nslot;
    for (size_t i = 0; i < ts->n; i++) {
        size_t j = hash_key(ts->t[i].b, ts->t[i].len) & (nslot - 1);
        while (ts->slot[j])
            j = (j + 1) & (nslot - 1);
        ts->slot[j] = (uint32_t)(i + 1);
    }
    ts->stale = false;
}

kz_text_termset *kz_text_termset_create(void)
{
    kz_text_termset *ts = kz_xcalloc(1, sizeof *ts);
    ts->cap = 256;
    ts->t = kz_xmalloc(ts->cap * sizeof *ts->t);
    rehash(ts, 512);
    return ts;
}

void kz_text_termset_free(kz_text_termset *ts)
{
    if (!ts)
        return;
    free(ts->t);
    free(ts->slot);
    free(ts);
}

size_t kz_text_termset_count(const kz_text_termset *ts)
{
    return ts ? ts->n : 0;
}

/* Sink for kz_text_terms: insert or merge one key. Growth is bounded by
 * KZ_TEXT_DOC_TERMS_MAX, so the kz_x* allocators' abort policy applies. */
static int add_cb(void *ud, const uint8_t *key, size_t len, int cls, unsigned flags)
{
    kz_text_termset *ts = ud;
    if (ts->stale)
        rehash(ts, ts->nslot);
    size_t j = hash_key(key, len) & (ts->nslot - 1);
    while (ts->slot[j]) {
        term *e = &ts->t[ts->slot[j] - 1];
        if (e->len == len && memcmp(e->b, key, len) == 0) {
            if (cls > e->cls)
                e->cls = (uint8_t)cls;
            e->flags |= (uint8_t)flags;
            return 0;
        }
        j = (j + 1) & (ts->nslot - 1);
    }
    if (ts->n >= KZ_TEXT_DOC_TERMS_MAX)
        return KZ_ETOOBIG;
    if (ts->n == ts->cap) {
        ts->cap *= 2;
        ts->t = kz_xrealloc(ts->t, ts->cap * sizeof *ts->t);
    }
    term *e = &ts->t[ts->n++];
    e->len = (uint8_t)len;
    e->cls = (uint8_t)cls;
    e->flags = (uint8_t)flags;
    memcpy(e->b, key, len);
    ts->slot[j] = (uint32_t)ts->n;
    if (2 * ts->n >= ts->nslot)
        rehash(ts, ts->nslot * 2);
    return 0;
}

int kz_text_termset_add(kz_text_termset *ts, const char *text, size_t n, int field_class)
{
    if (!ts)
        return KZ_EINVAL;
    return kz_text_terms(text, n, field_class, add_cb, ts);
}

int kz_text_termset_add_profile(kz_text_termset *ts, const kz_body_profile *p)
{
    if (!ts || !p || p->n_skills > KZ_SKILLS_MAX)
        return KZ_EINVAL;
    const struct {
        const kz_str *s;
        int cls;
    } fields[] = {
        {&p->name, KZ_TEXT_CLASS_NAME},         {&p->reading, KZ_TEXT_CLASS_NAME},
        {&p->romaji, KZ_TEXT_CLASS_NAME},       {&p->current_company, KZ_TEXT_CLASS_COMPANY},
        {&p->department, KZ_TEXT_CLASS_OTHER},  {&p->title, KZ_TEXT_CLASS_OTHER},
        {&p->current_title, KZ_TEXT_CLASS_OTHER}, {&p->location, KZ_TEXT_CLASS_OTHER},
        {&p->bio, KZ_TEXT_CLASS_BIO},
    };
    for (size_t i = 0; i < KZ_ARRAY_LEN(fields); i++) {
        int rc = kz_text_termset_add(ts, fields[i].s->p, fields[i].s->n, fields[i].cls);
        if (rc != 0)
            return rc;
    }
    /* Members added without a romaji form are still found by romaji. */
    const kz_str *kana[] = {&p->name, &p->reading};
    for (size_t i = 0; i < KZ_ARRAY_LEN(kana); i++) {
        char *r;
        size_t rn;
        int rc = kz_text_romanize(kana[i]->p, kana[i]->n, &r, &rn);
        if (rc != 0)
            return rc;
        rc = kz_text_termset_add(ts, r, rn, KZ_TEXT_CLASS_NAME);
        free(r);
        if (rc != 0)
            return rc;
    }
    /* Each skill separately, so no bigram joins the end of one skill to
     * the start of the next. */
    for (uint32_t i = 0; i < p->n_skills; i++) {
        int rc = kz_text_termset_add(ts, p->skills[i].p, p->skills[i].n, KZ_TEXT_CLASS_OTHER);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static int term_cmp(const void *a, const void *b)
{
    const term *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->b, y->b, n);
    if (c != 0)
        return c;
    return (int)x->len - (int)y->len;
}

int kz_text_termset_iter(kz_text_termset *ts, kz_text_sink_cb cb, void *ud)
{
    if (!ts || !cb)
        return KZ_EINVAL;
    if (ts->n > 1) {
        qsort(ts->t, ts->n, sizeof *ts->t, term_cmp);
        ts->stale = true;
    }
    for (size_t i = 0; i < ts->n; i++) {
        const term *e = &ts->t[i];
        int rc = cb(ud, e->b, e->len, e->cls, e->flags);
        if (rc != 0)
            return rc;
    }
    return 0;
}
