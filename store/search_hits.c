/* search_hits.c: turning an indexed document into a search hit: the
 * profile's display fields, the home company's name, the private re-hire
 * flag for the home secretariat only, and which fields the words matched. */
#include "search_internal.h"

#include <stdlib.h>
#include <string.h>

static const char *const field_names[KZ_SEARCH_F_COUNT] = {
    "name", "reading", "romaji", "home_company", "current_company", "department", "title",
    "current_title", "location", "skills", "bio", "left", "open_to", "tenure",
};

const char *kz_search_field_name(uint32_t bit)
{
    for (unsigned i = 0; i < KZ_SEARCH_F_COUNT; i++) {
        if (bit == (1u << i))
            return field_names[i];
    }
    return NULL;
}

bool kz__search_rehire(kz_store *s, MDB_txn *txn, const uint8_t member[KZ_KEY_BYTES])
{
    /* The local member entry (docs/storage.md, format 1): byte 0 is the
     * format, byte 6 the flags, bit 1 the re-hire interest. */
    MDB_val v;
    if (kz__get(txn, s->members, member, KZ_KEY_BYTES, &v) != 0)
        return false;
    const uint8_t *p = v.mv_data;
    return v.mv_size == KZ__MEMBER_VAL && p[0] == 1 && (p[6] & 0x2u);
}

/* Copy a record string for display, cut on a character boundary. */
static void copy_str(char *out, size_t outsz, kz_str s)
{
    size_t n = s.n < outsz ? s.n : outsz - 1;
    while (n > 0 && n < s.n && ((unsigned char)s.p[n] & 0xC0) == 0x80)
        n--;
    if (n)
        memcpy(out, s.p, n);
    out[n] = 0;
}

/* ---- Why it matched ------------------------------------------------------------ */

struct mask_ctx {
    const kz_text_query *tq;
    uint64_t seen;
};

static int mask_cb(void *ud, const uint8_t *key, size_t len, int cls, unsigned flags)
{
    struct mask_ctx *m = ud;
    for (size_t i = 0; i < m->tq->n_keys; i++) {
        const kz_text_key *k = &m->tq->keys[i];
        if (k->len == len && k->b[0] == key[0] && memcmp(k->b, key, len) == 0)
            m->seen |= (uint64_t)1 << i;
    }
    return 0;
}

/* The query keys found in text. */
static uint64_t key_mask(const kz_text_query *tq, const char *p, size_t n)
{
    struct mask_ctx m = {tq, 0};
    if (n && kz_text_terms(p, n, 0, mask_cb, &m) != 0)
        return 0;
    return m.seen;
}

/* The words whose every key is in mask. */
static uint32_t words_in(const kz_text_query *tq, uint64_t mask)
{
    uint32_t w = 0;
    for (size_t i = 0; i < tq->n_words; i++) {
        const kz_text_word *wd = &tq->words[i];
        uint64_t need = 0;
        for (unsigned k = 0; k < wd->n_keys; k++)
            need |= (uint64_t)1 << (wd->first_key + k);
        if (need && (mask & need) == need)
            w |= 1u << i;
    }
    return w;
}

/* The fields of d that explain the query words. The walk tells each word's
 * class (the best field group holding all its keys), so only that group's
 * fields are read, and only those the document keeps: a word of class
 * "other" found in none of them is in the title, a "bio" word in the bio,
 * a name word found in no name field came through the romanised reading
 * (or name). No record is decoded. */
static uint32_t matched_fields(const kz__sdoc *d, const kz_text_query *tq, uint32_t how,
                               const char *home_name)
{
    enum { F_NAME, F_READING, F_ROMAJI, F_COMPANY, F_CTITLE, F_LOC, F_DEPT, F_SKILLS, F_HOME, F_N };
    uint64_t mask[F_N];
    bool have[F_N] = {false};
    const kz_str fld[F_N] = {
        d->show[KZ__SHOW_NAME], d->show[KZ__SHOW_READING], d->show[KZ__SHOW_ROMAJI],
        d->show[KZ__SHOW_COMPANY], d->show[KZ__SHOW_TITLE], d->show[KZ__SHOW_LOCATION],
        d->dept, {NULL, 0}, {home_name, (uint32_t)strlen(home_name)},
    };
    static const uint32_t bit[F_N] = {
        KZ_SEARCH_F_NAME, KZ_SEARCH_F_READING, KZ_SEARCH_F_ROMAJI, KZ_SEARCH_F_CURRENT_COMPANY,
        KZ_SEARCH_F_CURRENT_TITLE, KZ_SEARCH_F_LOCATION, KZ_SEARCH_F_DEPARTMENT,
        KZ_SEARCH_F_SKILLS, KZ_SEARCH_F_HOME_COMPANY,
    };
    uint32_t fields = 0;
    for (size_t w = 0; w < tq->n_words; w++) {
        unsigned cls = (how >> (2 * w)) & 3u;
        bool home = (how >> (16 + w)) & 1u;
        static const int groups[4][6] = {
            {-1},                                          /* bio */
            {F_CTITLE, F_LOC, F_DEPT, F_SKILLS, -1},       /* other */
            {F_COMPANY, F_HOME, -1},                       /* company */
            {F_NAME, F_READING, F_ROMAJI, -1},             /* name */
        };
        uint32_t found = 0;
        for (const int *g = groups[cls]; *g >= 0; g++) {
            if (!have[*g]) {
                if (*g == F_SKILLS) {
                    mask[*g] = 0;
                    for (uint32_t i = 0; i < d->n_skills; i++)
                        mask[*g] |= key_mask(tq, d->skills[i].p, d->skills[i].n);
                } else {
                    mask[*g] = key_mask(tq, fld[*g].p, fld[*g].n);
                }
                have[*g] = true;
            }
            if (words_in(tq, mask[*g]) & (1u << w))
                found |= bit[*g];
        }
        if (home)
            found |= KZ_SEARCH_F_HOME_COMPANY;
        if (!found) {
            static const uint32_t fallback[4] = {KZ_SEARCH_F_BIO, KZ_SEARCH_F_TITLE,
                                                 KZ_SEARCH_F_CURRENT_COMPANY, 0};
            found = cls == 3 ? (d->show[KZ__SHOW_READING].n ? KZ_SEARCH_F_READING
                                                            : KZ_SEARCH_F_NAME)
                             : fallback[cls];
        }
        fields |= found;
    }
    return fields;
}

/* ---- Hits -------------------------------------------------------------------- */

static void copy_show(char *out, size_t outsz, const kz__sdoc *d, int which)
{
    copy_str(out, outsz, d->show[which]);
}

/* The home company's name, through a small per-query cache (hits of one
 * page mostly share a few homes). */
static int home_name(kz_store *s, MDB_txn *txn, kz__sname_cache *c, const uint8_t node[KZ_KEY_BYTES],
                     char *out, size_t outsz)
{
    for (size_t i = 0; i < c->n; i++) {
        if (memcmp(c->e[i].node, node, KZ_KEY_BYTES) == 0) {
            copy_str(out, outsz, (kz_str){c->e[i].name, (uint32_t)strlen(c->e[i].name)});
            return 0;
        }
    }
    kz__sname *e = &c->e[c->n < KZ_ARRAY_LEN(c->e) ? c->n++ : (c->next++ % KZ_ARRAY_LEN(c->e))];
    memcpy(e->node, node, KZ_KEY_BYTES);
    int rc = kz__search_node_name(s, txn, node, e->name, sizeof e->name);
    if (rc == KZ_ENOTFOUND) {
        e->name[0] = 0;
        rc = 0;
    }
    if (rc)
        return rc;
    copy_str(out, outsz, (kz_str){e->name, (uint32_t)strlen(e->name)});
    return 0;
}

int kz__search_hit_fill(kz_store *s, MDB_txn *txn, const kz__sdoc *d, const kz_text_query *tq,
                        uint32_t how, uint32_t filter_fields, const kz_search_query *q,
                        kz__sname_cache *names, kz_search_hit *h)
{
    memset(h, 0, sizeof *h);
    memcpy(h->member, d->member, KZ_KEY_BYTES);
    memcpy(h->home_node, d->home, KZ_KEY_BYTES);
    copy_show(h->name, sizeof h->name, d, KZ__SHOW_NAME);
    copy_show(h->reading, sizeof h->reading, d, KZ__SHOW_READING);
    copy_show(h->romaji, sizeof h->romaji, d, KZ__SHOW_ROMAJI);
    copy_show(h->current_company, sizeof h->current_company, d, KZ__SHOW_COMPANY);
    copy_show(h->current_title, sizeof h->current_title, d, KZ__SHOW_TITLE);
    copy_show(h->location, sizeof h->location, d, KZ__SHOW_LOCATION);
    int rc = home_name(s, txn, names, d->home, h->home_company, sizeof h->home_company);
    if (rc)
        return rc;
    h->updated_ms = d->updated_ms;
    h->matched = filter_fields;
    if (tq->n_words)
        h->matched |= matched_fields(d, tq, how, h->home_company);
    /* Re-hire interest never leaves the home company: only its own
     * secretariat sees it, and only this node holds it (members table). */
    if (q->secretariat && q->viewer_home && memcmp(q->viewer_home, d->home, KZ_KEY_BYTES) == 0) {
        h->rehire_known = true;
        h->rehire = kz__search_rehire(s, txn, d->member);
    }
    return 0;
}
