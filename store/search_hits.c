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

/* Plus the keys of the text spelled in romaji (names and readings). */
static uint64_t key_mask_romaji(const kz_text_query *tq, kz_str s)
{
    char *r;
    size_t rn;
    uint64_t m = key_mask(tq, s.p, s.n);
    if (s.n && kz_text_romanize(s.p, s.n, &r, &rn) == 0) {
        m |= key_mask(tq, r, rn);
        free(r);
    }
    return m;
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

static uint32_t matched_fields(const kz_text_query *tq, const kz_body_profile *p,
                               const char *home_name)
{
    uint32_t all = tq->n_words >= 32 ? ~0u : (1u << tq->n_words) - 1, covered = 0, fields = 0;
    uint64_t skills = 0;
    for (uint32_t i = 0; i < p->n_skills && i < KZ_SKILLS_MAX; i++)
        skills |= key_mask(tq, p->skills[i].p, p->skills[i].n);
    const struct {
        uint32_t bit;
        uint64_t mask;
    } f[] = {
        {KZ_SEARCH_F_NAME, key_mask_romaji(tq, p->name)},
        {KZ_SEARCH_F_READING, key_mask_romaji(tq, p->reading)},
        {KZ_SEARCH_F_ROMAJI, key_mask(tq, p->romaji.p, p->romaji.n)},
        {KZ_SEARCH_F_HOME_COMPANY, key_mask(tq, home_name, strlen(home_name))},
        {KZ_SEARCH_F_CURRENT_COMPANY, key_mask(tq, p->current_company.p, p->current_company.n)},
        {KZ_SEARCH_F_DEPARTMENT, key_mask(tq, p->department.p, p->department.n)},
        {KZ_SEARCH_F_TITLE, key_mask(tq, p->title.p, p->title.n)},
        {KZ_SEARCH_F_CURRENT_TITLE, key_mask(tq, p->current_title.p, p->current_title.n)},
        {KZ_SEARCH_F_LOCATION, key_mask(tq, p->location.p, p->location.n)},
        {KZ_SEARCH_F_SKILLS, skills},
    };
    for (size_t i = 0; i < KZ_ARRAY_LEN(f); i++) {
        uint32_t w = words_in(tq, f[i].mask);
        if (w) {
            fields |= f[i].bit;
            covered |= w;
        }
    }
    /* The bio is long: read it only for words nothing else explains. */
    if ((covered & all) != all && words_in(tq, key_mask(tq, p->bio.p, p->bio.n)))
        fields |= KZ_SEARCH_F_BIO;
    return fields;
}

/* ---- Hits -------------------------------------------------------------------- */

int kz__search_hit_fill(kz_store *s, MDB_txn *txn, const kz__sdoc *d, const kz_text_query *tq,
                        uint32_t filter_fields, const kz_search_query *q, kz_search_hit *h)
{
    kz_record r = {0};
    int rc = kz__search_load(s, txn, d->profile_id, &r);
    if (rc)
        return rc;
    if (r.type != KZ_T_PROFILE) {
        kz_record_close(&r);
        return KZ_ESTORE;
    }
    const kz_body_profile *p = &r.body.profile;
    memset(h, 0, sizeof *h);
    memcpy(h->member, d->member, KZ_KEY_BYTES);
    memcpy(h->home_node, d->home, KZ_KEY_BYTES);
    copy_str(h->name, sizeof h->name, p->name);
    copy_str(h->reading, sizeof h->reading, p->reading);
    copy_str(h->romaji, sizeof h->romaji, p->romaji);
    copy_str(h->current_company, sizeof h->current_company, p->current_company);
    copy_str(h->current_title, sizeof h->current_title, p->current_title);
    copy_str(h->location, sizeof h->location, p->location);
    rc = kz__search_node_name(s, txn, d->home, h->home_company, sizeof h->home_company);
    if (rc && rc != KZ_ENOTFOUND) {
        kz_record_close(&r);
        return rc;
    }
    h->updated_ms = r.created_ms;
    h->matched = filter_fields;
    if (tq->n_words)
        h->matched |= matched_fields(tq, p, h->home_company);
    /* Re-hire interest never leaves the home company: only its own
     * secretariat sees it, and only this node holds it (members table). */
    if (q->secretariat && q->viewer_home && memcmp(q->viewer_home, d->home, KZ_KEY_BYTES) == 0) {
        h->rehire_known = true;
        h->rehire = kz__search_rehire(s, txn, d->member);
    }
    kz_record_close(&r);
    return 0;
}
