/* import_apply.c: applying checked HR import rows to the store: plan each row
 * against the stored member (create, update, unchanged, skipped), then sign
 * and write everything in one store transaction. */
#include "member_internal.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum { KZ_IMP_CREATED = 0, KZ_IMP_UPDATED, KZ_IMP_UNCHANGED, KZ_IMP_SKIPPED } kz_imp_result;
static const char *const kz_imp_names[] = {"created", "updated", "unchanged", "skipped"};

/* What the store holds for an existing member, read before the write. */
typedef struct {
    kz_store_member entry;
    bool have_attest;
    uint64_t attest_ms;
    uint8_t role;
    uint16_t joined, left;
    char *department;                   /* owned */
    bool has_previous;                  /* hand-over carried into a new attest */
    uint8_t previous[KZ_KEY_BYTES];
    uint8_t handover[KZ_SIG_BYTES];
    bool have_profile;
    uint64_t profile_ms;
    kz_profile profile;                 /* current (or empty) profile */
} kz_imp_current;

typedef struct {
    kz_imp_result result;
    bool attest_change, profile_change, entry_change;
    const char *note;                   /* static text, or NULL */
    uint8_t pk[KZ_KEY_BYTES];
    kz_imp_current *cur;                /* existing members with a change only */
} kz_imp_plan;

static void current_free(kz_imp_current *c)
{
    if (!c)
        return;
    free(c->department);
    kz_profile_close(&c->profile);
    sodium_memzero(c, sizeof *c);
    free(c);
}

static bool str_eq(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "") == 0;
}

static char *dup_kz(kz_str s)
{
    return s.n ? kz_xstrndup(s.p, s.n) : NULL;
}

/* Replace *slot with a copy of v (which may be *slot itself). */
static void set_str(char **slot, const char *v)
{
    char *copy = v && v[0] ? kz_xstrdup(v) : NULL;
    free(*slot);
    *slot = copy;
}

/* The profile the row asks for, from the current one: HR-owned fields the
 * row gives replace what is there; everything else stays the member's. */
static bool profile_apply(kz_profile *p, const kz_import_row *r)
{
    bool changed = false;
    const struct {
        char **slot;
        const char *v;
    } s[] = {{&p->name, r->name}, {&p->reading, r->reading}, {&p->romaji, r->romaji},
             {&p->department, r->department}};
    for (size_t i = 0; i < KZ_ARRAY_LEN(s); i++) {
        if (s[i].v && !str_eq(*s[i].slot, s[i].v)) {
            set_str(s[i].slot, s[i].v);
            changed = true;
        }
    }
    if (r->joined && p->joined != r->joined) {
        p->joined = r->joined;
        changed = true;
    }
    if (r->left && p->left != r->left) {
        p->left = r->left;
        changed = true;
    }
    return changed;
}

/* Read what exists for the member holding hr_key, and decide. */
static int plan_row(kz_node *n, const kz_import_row *r, kz_imp_plan *pl, char *err, size_t errsz)
{
    kz_store_member m;
    kz_record like, head;
    memset(pl, 0, sizeof *pl);
    int rc = kz_store_member_by_hrkey(n->store, r->hr_key, &m);
    if (rc == KZ_ENOTFOUND) {
        pl->result = KZ_IMP_CREATED;
        return 0;
    }
    if (rc != 0) {
        snprintf(err, errsz, "line %u: cannot read member %s: %s", r->line, r->hr_key,
                 kz_strerror(rc));
        return rc;
    }
    memcpy(pl->pk, m.pk, KZ_KEY_BYTES);
    if (m.revoked) {
        pl->result = KZ_IMP_SKIPPED;
        pl->note = "the member is revoked";
        sodium_memzero(&m, sizeof m);
        return 0;
    }
    kz_imp_current *c = kz_xcalloc(1, sizeof *c);
    c->entry = m;
    sodium_memzero(&m, sizeof m);
    kz_profile_init(&c->profile);

    kz_record_init(&like, KZ_T_ATTEST, n->keys.node_pk, 0);
    memcpy(like.body.attest.member, pl->pk, KZ_KEY_BYTES);
    rc = kz_node_slot_load(n, &like, &head);
    if (rc == 0) {
        if (head.type == KZ_T_REVOKE) {
            kz_record_close(&head);
            current_free(c);
            pl->result = KZ_IMP_SKIPPED;
            pl->note = "the member is revoked";
            return 0;
        }
        const kz_body_attest *a = &head.body.attest;
        c->have_attest = true;
        c->attest_ms = head.created_ms;
        c->role = a->role;
        c->joined = a->joined;
        c->left = a->left;
        c->department = dup_kz(a->department);
        c->has_previous = a->has_previous;
        if (a->has_previous) {
            memcpy(c->previous, a->previous, KZ_KEY_BYTES);
            memcpy(c->handover, a->handover.p, KZ_SIG_BYTES);
        }
        kz_record_close(&head);
    } else if (rc != KZ_ENOTFOUND) {
        goto fail_read;
    }
    kz_record_init(&like, KZ_T_PROFILE, pl->pk, 0);
    rc = kz_node_slot_load(n, &like, &head);
    if (rc == 0) {
        c->have_profile = true;
        c->profile_ms = head.created_ms;
        kz_profile_from_body(&c->profile, &head.body.profile);
        kz_record_close(&head);
    } else if (rc != KZ_ENOTFOUND) {
        goto fail_read;
    }

    /* Attest: empty optional cells keep the current value. */
    int role = r->role >= 0 ? r->role : (c->have_attest ? c->role : c->entry.role);
    uint16_t joined = r->joined ? r->joined : c->joined;
    uint16_t left = r->left ? r->left : c->left;
    const char *dept = r->department ? r->department : c->department;
    pl->attest_change = !c->have_attest || role != c->role || joined != c->joined ||
                        left != c->left || !str_eq(dept, c->department);
    pl->entry_change = role != c->entry.role || joined != c->entry.joined || left != c->entry.left;
    /* Cross-check the new attest's tenure before anything is signed. */
    if (joined && left && left < joined) {
        snprintf(err, errsz, "line %u: left (%u) would be before joined (%u) of the stored member",
                 r->line, (unsigned)left, (unsigned)joined);
        current_free(c);
        return KZ_EINVAL;
    }
    c->role = (uint8_t)role;
    c->joined = joined;
    c->left = left;
    set_str(&c->department, dept);

    pl->profile_change = profile_apply(&c->profile, r) || !c->have_profile;
    if (pl->profile_change && c->entry.sealed_sk_len == 0) {
        pl->profile_change = false;
        pl->note = "profile kept: the member holds their own key";
    }
    if (pl->profile_change && c->profile.joined && c->profile.left &&
        c->profile.left < c->profile.joined) {
        snprintf(err, errsz, "line %u: the profile's left (%u) would be before joined (%u)",
                 r->line, (unsigned)c->profile.left, (unsigned)c->profile.joined);
        current_free(c);
        return KZ_EINVAL;
    }
    if (pl->attest_change || pl->profile_change || pl->entry_change) {
        pl->result = KZ_IMP_UPDATED;
        pl->cur = c;
    } else {
        pl->result = KZ_IMP_UNCHANGED;
        current_free(c);
    }
    return 0;
fail_read:
    snprintf(err, errsz, "line %u: cannot read the records of member %s: %s", r->line,
             r->hr_key, kz_strerror(rc));
    current_free(c);
    return rc;
}

/* ---- The write ------------------------------------------------------------------- */

typedef struct {
    kz_node *n;
    kz_import_row *rows;
    kz_imp_plan *plans;
    size_t count;
    uint64_t t0;                         /* created_ms of new records */
    uint64_t max_ms;                     /* newest created_ms used */
    uint8_t (*ids)[KZ_ID_BYTES];         /* records stored, for kz__accepted_ids */
    size_t n_ids;
    size_t bad_row;                      /* row that failed, for the message */
    char err[KZ_ERR_MAX];
} kz_imp_write;

static uint64_t after(kz_imp_write *w, uint64_t prev)
{
    uint64_t t = prev >= w->t0 ? prev + 1 : w->t0;
    if (t > w->max_ms)
        w->max_ms = t;
    return t;
}

static int write_update(kz_imp_write *w, kz_store_txn *t, kz_imp_plan *pl)
{
    kz_node *n = w->n;
    kz_imp_current *c = pl->cur;
    kz_record a, p;
    uint8_t sk[KZ_SECKEY_BYTES];
    int rc = 0;
    memset(&a, 0, sizeof a);
    memset(&p, 0, sizeof p);
    if (pl->attest_change) {
        kz_record_init(&a, KZ_T_ATTEST, n->keys.node_pk, after(w, c->attest_ms));
        kz_body_attest *b = &a.body.attest;
        memcpy(b->member, pl->pk, KZ_KEY_BYTES);
        b->role = c->role;
        b->joined = c->joined;
        b->left = c->left;
        b->department = c->department ? (kz_str){c->department, (uint32_t)strlen(c->department)}
                                      : (kz_str){NULL, 0};
        if (c->has_previous) { /* a rotated member stays linked to their old key */
            b->has_previous = true;
            memcpy(b->previous, c->previous, KZ_KEY_BYTES);
            b->handover = (kz_bytes){c->handover, KZ_SIG_BYTES};
        }
        if ((rc = kz_record_sign(&a, n->keys.node_sk)) != 0) {
            snprintf(w->err, sizeof w->err, "cannot sign the attestation: %s",
                     kz_record_last_error());
            goto out;
        }
        if ((rc = kz_store_txn_put(t, &a, NULL)) != 0)
            goto out;
        memcpy(w->ids[w->n_ids++], a.id, KZ_ID_BYTES);
    }
    if (pl->entry_change) {
        kz_store_member m = c->entry;
        m.role = c->role;
        m.joined = c->joined;
        m.left = c->left;
        rc = kz_store_txn_member_put(t, &m);
        sodium_memzero(&m, sizeof m);
        if (rc)
            goto out;
    }
    if (pl->profile_change) {
        rc = kz_member_sk_open(n->keys.storage, pl->pk, c->entry.sealed_sk,
                               c->entry.sealed_sk_len, sk);
        if (rc != 0) {
            snprintf(w->err, sizeof w->err, "cannot decrypt the member key (wrong storage.key?)");
            goto out;
        }
        kz_record_init(&p, KZ_T_PROFILE, pl->pk, after(w, c->profile_ms));
        kz_profile_to_body(&c->profile, &p.body.profile);
        rc = kz_record_sign(&p, sk);
        sodium_memzero(sk, sizeof sk);
        if (rc != 0) {
            snprintf(w->err, sizeof w->err, "cannot sign the profile: %s", kz_record_last_error());
            goto out;
        }
        if ((rc = kz_store_txn_put(t, &p, NULL)) != 0)
            goto out;
        memcpy(w->ids[w->n_ids++], p.id, KZ_ID_BYTES);
    }
out:
    kz_record_close(&a);
    kz_record_close(&p);
    return rc;
}

static int write_fn(void *ud, kz_store_txn *t)
{
    kz_imp_write *w = ud;
    w->n_ids = 0; /* may run again after the map grew */
    w->max_ms = w->t0;
    w->err[0] = '\0';
    for (size_t i = 0; i < w->count; i++) {
        kz_imp_plan *pl = &w->plans[i];
        const kz_import_row *r = &w->rows[i];
        int rc = 0;
        w->bad_row = i;
        if (pl->result == KZ_IMP_CREATED) {
            kz__member_spec spec = {r->name, r->reading, r->romaji, r->department,
                                    r->role >= 0 ? r->role : KZ_ROLE_ALUMNI,
                                    r->joined, r->left, r->hr_key};
            kz__member_new m;
            if ((rc = kz__member_create(w->n, &spec, w->t0, &m, w->err, sizeof w->err)) != 0)
                return rc;
            rc = kz__member_new_put(t, &m);
            if (rc == 0) {
                memcpy(pl->pk, m.pk, KZ_KEY_BYTES);
                memcpy(w->ids[w->n_ids++], m.attest.id, KZ_ID_BYTES);
                memcpy(w->ids[w->n_ids++], m.profile.id, KZ_ID_BYTES);
            }
            kz__member_new_close(&m);
        } else if (pl->result == KZ_IMP_UPDATED) {
            rc = write_update(w, t, pl);
        }
        if (rc)
            return rc;
    }
    return 0;
}

/* ---- Entry point ---------------------------------------------------------------- */

typedef struct {
    kz_import_row *rows;
    char *err;
    size_t errsz, n_bad;
} kz_imp_dups;

static void dup_cb(void *ud, size_t i, size_t j)
{
    kz_imp_dups *d = ud;
    size_t l = strlen(d->err);
    if (d->n_bad++ < 8 && l + 80 < d->errsz)
        snprintf(d->err + l, d->errsz - l, "%sline %u: employee_no %.40s repeats line %u",
                 l ? "; " : "", d->rows[i].line, d->rows[i].hr_key, d->rows[j].line);
}

static json_t *row_json(const kz_import_row *r, const kz_imp_plan *pl, bool dry_run)
{
    json_t *o = json_pack("{s:i, s:s, s:s}", "line", (json_int_t)r->line, "employee_no",
                          r->hr_key, "result", kz_imp_names[pl->result]);
    if (pl->result != KZ_IMP_CREATED || !dry_run)
        json_object_set_new(o, "member_id", kz_json_hex(pl->pk, KZ_KEY_BYTES));
    if (pl->result == KZ_IMP_UPDATED) {
        json_t *ch = json_array();
        if (pl->attest_change)
            json_array_append_new(ch, json_string("attest"));
        if (pl->profile_change)
            json_array_append_new(ch, json_string("profile"));
        if (pl->entry_change)
            json_array_append_new(ch, json_string("member"));
        json_object_set_new(o, "changes", ch);
    }
    if (pl->note)
        json_object_set_new(o, "note", json_string(pl->note));
    return o;
}

int kz__import_run(kz_node *n, kz_import_row *rows, size_t count, bool dry_run, bool results,
                   json_t **out, char *err, size_t errsz)
{
    uint64_t start = kz_now_ms();
    size_t counts[4] = {0};
    int rc = 0;
    err[0] = '\0';
    kz_imp_dups d = {rows, err, errsz, 0};
    if (kz_import_dups(rows, count, dup_cb, &d) > 0) {
        if (d.n_bad > 8) {
            size_t l = strlen(err);
            snprintf(err + l, errsz - l, "; and %zu more", d.n_bad - 8);
        }
        return KZ_EINVAL;
    }
    kz_imp_plan *plans = kz_xcalloc(count ? count : 1, sizeof *plans);
    for (size_t i = 0; i < count; i++) {
        if ((rc = plan_row(n, &rows[i], &plans[i], err, errsz)) != 0)
            goto out;
        counts[plans[i].result]++;
    }
    if (!dry_run && counts[KZ_IMP_CREATED] + counts[KZ_IMP_UPDATED] > 0) {
        kz_imp_write w = {0};
        w.n = n;
        w.rows = rows;
        w.plans = plans;
        w.count = count;
        /* One creation time for the whole import: records of different
         * slots may share a millisecond, and a batch that ran ahead of the
         * clock would be refused by peers as coming from the future. */
        w.t0 = kz_node_created_ms(n, 0);
        w.ids = kz_xcalloc(2 * count, KZ_ID_BYTES);
        rc = kz_store_atomic(n->store, write_fn, &w);
        if (rc != 0) {
            const kz_import_row *r = &rows[w.bad_row];
            snprintf(err, errsz, "line %u (employee_no %s): %s; nothing was imported", r->line,
                     r->hr_key, w.err[0] ? w.err : kz__refusal(rc));
            free(w.ids);
            goto out;
        }
        (void)kz_node_created_ms(n, w.max_ms);
        kz_log_info("import", "imported %zu rows: %zu created, %zu updated, %zu unchanged, "
                    "%zu skipped", count, counts[0], counts[1], counts[2], counts[3]);
        kz__accepted_ids(n, (const uint8_t(*)[KZ_ID_BYTES])w.ids, w.n_ids);
        free(w.ids);
    }
    json_t *o = json_pack("{s:b, s:I, s:I, s:I, s:I, s:I}", "dry_run", dry_run, "rows",
                          (json_int_t)count, "created", (json_int_t)counts[0], "updated",
                          (json_int_t)counts[1], "unchanged", (json_int_t)counts[2], "skipped",
                          (json_int_t)counts[3]);
    json_object_set_new(o, "elapsed_ms", json_integer((json_int_t)(kz_now_ms() - start)));
    if (results) {
        json_t *list = json_array();
        for (size_t i = 0; i < count; i++)
            json_array_append_new(list, row_json(&rows[i], &plans[i], dry_run));
        json_object_set_new(o, "results", list);
    }
    *out = o;
out:
    for (size_t i = 0; i < count; i++)
        current_free(plans[i].cur);
    free(plans);
    return rc;
}
