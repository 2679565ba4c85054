/* handlers_metrics.c: the per-member inbox (computed by the home node) and
 * the alumni office's metrics (counts only), both bounded by walking type
 * indexes within a window and the refs index (docs/talk.md). */
#include "talk_internal.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KZ_DAY_MS (24ull * 3600ull * 1000ull)
#define KZ_REMIND_MS (48ull * 3600ull * 1000ull)
#define KZ_BUCKET_MS (14ull * KZ_DAY_MS)
#define KZ_BUCKETS_MAX 104 /* four years of two-week buckets */

/* ---- Small sets of 32-byte keys ------------------------------------------------ */

typedef struct {
    uint8_t (*k)[32];
    size_t n, cap;
} kz_kset;

static bool kz_kset_has(const kz_kset *s, const uint8_t k[32])
{
    for (size_t i = 0; i < s->n; i++) {
        if (memcmp(s->k[i], k, 32) == 0)
            return true;
    }
    return false;
}

/* Add k; true when it was new. Linear: sets hold members or one member's
 * posts, which a node of this size keeps in the thousands at most. */
static bool kz_kset_add(kz_kset *s, const uint8_t k[32])
{
    if (kz_kset_has(s, k))
        return false;
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 32;
        s->k = kz_xrealloc(s->k, s->cap * sizeof *s->k);
    }
    memcpy(s->k[s->n++], k, 32);
    return true;
}

static void kz_kset_free(kz_kset *s)
{
    free(s->k);
    memset(s, 0, sizeof *s);
}

/* ---- refs walks ------------------------------------------------------------------ */

typedef struct {
    uint64_t since;
    const uint8_t *skip_author;   /* ignore records by this key */
    kz__recvec *out;              /* decoded matches, when collecting */
    bool first_only;              /* stop at the first match */
} kz_refwalk;

static int kz_ref_cb(void *ud, const uint8_t id[KZ_ID_BYTES], uint64_t created_ms,
                     const uint8_t *raw, size_t len)
{
    kz_refwalk *w = ud;
    kz_record r;
    (void)id;
    if (created_ms < w->since)
        return 0;
    if (kz_record_decode(&r, raw, len, 0, KZ_DECODE_NOVERIFY) != 0)
        return 0;
    if (w->skip_author && memcmp(r.author, w->skip_author, KZ_KEY_BYTES) == 0) {
        kz_record_close(&r);
        return 0;
    }
    kz__recvec *v = w->out;
    if (v->n == v->cap) {
        v->cap = v->cap ? 2 * v->cap : 16;
        v->items = kz_xrealloc(v->items, v->cap * sizeof *v->items);
    }
    v->items[v->n++] = r;
    return w->first_only ? 1 : 0;
}

/* ---- inbox ------------------------------------------------------------------------ */

typedef struct {
    kz_kset mine;   /* ids of posts and replies by the member */
} kz_mine;

static int kz_mine_cb(void *ud, const uint8_t id[KZ_ID_BYTES], uint64_t created_ms,
                      const uint8_t *raw, size_t len)
{
    kz_mine *m = ud;
    (void)created_ms;
    /* The type is the second element of the record array; decoding is the
     * one safe way to read it. */
    kz_record r;
    if (kz_record_decode(&r, raw, len, 0, KZ_DECODE_NOVERIFY) != 0)
        return 0;
    if (r.type == KZ_T_POST || r.type == KZ_T_REPLY)
        kz_kset_add(&m->mine, id);
    kz_record_close(&r);
    return 0;
}

static json_t *kz_item(const char *kind, const kz_record *r, kz_node *n)
{
    char t[KZ_TIME_STR_MAX];
    kz_time_format(t, r->created_ms);
    return json_pack("{s:s, s:o, s:o, s:o, s:s, s:I}", "kind", kind, "id",
                     kz_json_hex(r->id, KZ_ID_BYTES), "from", kz_json_hex(r->author, KZ_KEY_BYTES),
                     "from_name", kz__talk_name(n, r->author), "time", t, "time_ms",
                     (json_int_t)r->created_ms);
}

static int kz_inbox_build(kz_node *n, const uint8_t pk[KZ_KEY_BYTES], const uint8_t sk[KZ_SECKEY_BYTES],
                          uint64_t since, json_t *items)
{
    kz__recvec posts = {0}, rsvps = {0}, hits = {0};
    kz_mine mine = {{0}};
    uint64_t now = kz_now_ms();
    int rc;

    /* Nominated for the relay: intro posts naming the member. */
    if ((rc = kz__talk_collect(n, KZ_T_POST, since, &posts)) != 0)
        goto out;
    for (size_t i = 0; i < posts.n; i++) {
        const kz_body_post *p = &posts.items[i].body.post;
        if (p->kind == KZ_POST_INTRO && p->has_nominate && memcmp(p->nominate, pk, KZ_KEY_BYTES) == 0) {
            json_t *o = kz_item("nominated", &posts.items[i], n);
            json_object_set_new(o, "text", kz_json_kzstr(p->text));
            json_array_append_new(items, o);
        }
    }
    /* Replies and reactions to the member's posts and replies (refs index). */
    if ((rc = kz_store_iter_author(n->store, pk, kz_mine_cb, &mine)) < 0)
        goto out;
    for (size_t i = 0; i < mine.mine.n; i++) {
        static const int types[] = {KZ_T_REPLY, KZ_T_REACTION};
        for (size_t t = 0; t < 2; t++) {
            kz_refwalk w = {since, pk, &hits, false};
            if ((rc = kz_store_iter_refs(n->store, mine.mine.k[i], types[t], true, kz_ref_cb, &w)) < 0)
                goto out;
            for (size_t j = 0; j < hits.n; j++) {
                const kz_record *r = &hits.items[j];
                if (r->type == KZ_T_REACTION && r->body.reaction.off)
                    continue;
                json_t *o = kz_item(r->type == KZ_T_REPLY ? "reply" : "reaction", r, n);
                json_object_set_new(o, "target", kz_json_hex(mine.mine.k[i], KZ_ID_BYTES));
                if (r->type == KZ_T_REPLY)
                    json_object_set_new(o, "text", kz_json_kzstr(r->body.reply.text));
                else
                    json_object_set_new(o, "reaction", json_integer(r->body.reaction.kind));
                json_array_append_new(items, o);
            }
            kz__recvec_free(&hits);
        }
    }
    /* Contact requests and answers to the member. */
    json_t *contacts = kz__contact_inbox(n, pk, sk, since, &rc);
    if (!contacts)
        goto out;
    size_t ci;
    json_t *c;
    json_array_foreach(contacts, ci, c) {
        json_t *o = json_pack("{s:s, s:O, s:O, s:O, s:O}", "kind", "contact", "id",
                              json_object_get(c, "contact_id"), "from", json_object_get(c, "from"),
                              "from_name", json_object_get(c, "from_name"), "time",
                              json_object_get(c, "received"));
        json_object_set(o, "contact", c);
        json_array_append_new(items, o);
    }
    json_decref(contacts);
    /* Event reminders: events the member is going to that start within 48 h. */
    if ((rc = kz__talk_collect(n, KZ_T_RSVP, 0, &rsvps)) != 0)
        goto out;
    for (size_t i = 0; i < rsvps.n; i++) {
        const kz_record *r = &rsvps.items[i];
        kz_record e;
        if (memcmp(r->author, pk, KZ_KEY_BYTES) != 0 || r->body.rsvp.status != KZ_RSVP_GOING)
            continue;
        if (kz_node_record_load(n, r->body.rsvp.event, true, &e) != 0)
            continue;
        uint64_t st = e.type == KZ_T_EVENT ? e.body.event.start_ms : 0;
        if (st > now && st - now <= KZ_REMIND_MS) {
            char t[KZ_TIME_STR_MAX];
            kz_time_format(t, st);
            json_array_append_new(items, json_pack("{s:s, s:o, s:o, s:s, s:I}", "kind", "event",
                                                   "id", kz_json_hex(e.id, KZ_ID_BYTES), "title",
                                                   kz_json_kzstr(e.body.event.title), "time", t,
                                                   "time_ms", (json_int_t)st));
        }
        kz_record_close(&e);
    }
    rc = 0;
out:
    kz__recvec_free(&posts);
    kz__recvec_free(&rsvps);
    kz__recvec_free(&hits);
    kz_kset_free(&mine.mine);
    return rc < 0 ? rc : 0;
}

static int kz_h_inbox(kz_node *n, json_t *args, json_t **result, char *err, size_t errsz)
{
    static const char *const allowed[] = {"member", "since", NULL};
    uint8_t pk[KZ_KEY_BYTES], sk[KZ_SECKEY_BYTES];
    uint64_t since;
    kz_store_member m;
    int rc;
    if ((rc = kz__arg_only(args, allowed, err, errsz)) != 0 ||
        (rc = kz__arg_id(args, "member", pk, err, errsz)) != 0 ||
        (rc = kz__arg_since(args, &since, err, errsz)) != 0 ||
        (rc = kz__member_key(n, pk, &m, sk, err, errsz)) != 0)
        return rc;
    json_t *items = json_array();
    rc = kz_inbox_build(n, pk, sk, since, items);
    sodium_memzero(sk, sizeof sk);
    sodium_memzero(&m, sizeof m);
    if (rc != 0) {
        json_decref(items);
        snprintf(err, errsz, "cannot build the inbox: %s", kz_strerror(rc));
        return rc;
    }
    json_t *counts = json_object();
    size_t i;
    json_t *it;
    json_array_foreach(items, i, it) {
        const char *k = json_string_value(json_object_get(it, "kind"));
        json_object_set_new(counts, k, json_integer(json_integer_value(json_object_get(counts, k)) + 1));
    }
    *result = json_pack("{s:o, s:o, s:o}", "member_id", kz_json_hex(pk, KZ_KEY_BYTES), "counts",
                        counts, "items", items);
    return 0;
}

/* ---- metrics ------------------------------------------------------------------------ */

static int kz_u64_cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Do two members have different home nodes (both attested)? */
static bool kz_cross(kz_node *n, const uint8_t a[KZ_KEY_BYTES], const uint8_t b[KZ_KEY_BYTES])
{
    uint8_t ha[KZ_KEY_BYTES], hb[KZ_KEY_BYTES];
    return kz__talk_home(n, a, ha) && kz__talk_home(n, b, hb) && memcmp(ha, hb, KZ_KEY_BYTES) != 0;
}

static void kz_active_add(kz_node *n, kz_kset *active, const kz__recvec *v)
{
    uint8_t home[KZ_KEY_BYTES];
    for (size_t i = 0; i < v->n; i++) {
        if (kz__talk_home(n, v->items[i].author, home))
            kz_kset_add(active, v->items[i].author);
    }
}

static int kz_metrics_build(kz_node *n, uint64_t since, json_t *o)
{
    kz__recvec att = {0}, posts = {0}, replies = {0}, reacts = {0}, events = {0}, rsvps = {0},
               contacts = {0}, first = {0};
    kz_kset members = {0}, active = {0}, posters = {0}, nominees = {0};
    uint64_t *delays = NULL, now = kz_now_ms();
    uint8_t home[KZ_KEY_BYTES];
    int rc;
    if ((rc = kz__talk_collect(n, KZ_T_ATTEST, 0, &att)) != 0 ||
        (rc = kz__talk_collect(n, KZ_T_POST, since, &posts)) != 0 ||
        (rc = kz__talk_collect(n, KZ_T_REPLY, since, &replies)) != 0 ||
        (rc = kz__talk_collect(n, KZ_T_REACTION, since, &reacts)) != 0 ||
        (rc = kz__talk_collect(n, KZ_T_EVENT, since, &events)) != 0 ||
        (rc = kz__talk_collect(n, KZ_T_RSVP, since, &rsvps)) != 0 ||
        (rc = kz__talk_collect(n, KZ_T_CONTACT, since, &contacts)) != 0)
        goto out;

    /* Registered: members with a live attestation (attest records are
     * replaceable, so each stored one is its slot's head). */
    for (size_t i = 0; i < att.n; i++) {
        if (kz__talk_home(n, att.items[i].body.attest.member, home))
            kz_kset_add(&members, att.items[i].body.attest.member);
    }
    kz_active_add(n, &active, &posts);
    kz_active_add(n, &active, &replies);
    kz_active_add(n, &active, &reacts);
    kz_active_add(n, &active, &events);
    kz_active_add(n, &active, &rsvps);
    kz_active_add(n, &active, &contacts);

    /* Posts: per kind, posters, the relay, two-week series. */
    uint64_t start = since;
    if (!start) {
        start = now;
        for (size_t i = 0; i < posts.n; i++)
            start = posts.items[i].created_ms < start ? posts.items[i].created_ms : start;
    }
    start -= start % KZ_DAY_MS;
    if (now > start && (now - start) / KZ_BUCKET_MS >= KZ_BUCKETS_MAX)
        start = now - (now % KZ_DAY_MS) - (KZ_BUCKETS_MAX - 1) * KZ_BUCKET_MS;
    size_t nb = now > start ? (size_t)((now - start) / KZ_BUCKET_MS) + 1 : 1;
    uint64_t buckets[KZ_BUCKETS_MAX] = {0};
    uint64_t intros = 0, nominations = 0, requests = 0, req_replies = 0;
    size_t n_delays = 0;
    delays = kz_xcalloc(posts.n ? posts.n : 1, sizeof *delays);
    for (size_t i = 0; i < posts.n; i++) {
        const kz_record *p = &posts.items[i];
        if (p->body.post.has_edit_of)
            continue;
        kz_kset_add(&posters, p->author);
        if (p->created_ms >= start && (p->created_ms - start) / KZ_BUCKET_MS < nb)
            buckets[(p->created_ms - start) / KZ_BUCKET_MS]++;
        if (p->body.post.kind == KZ_POST_INTRO) {
            intros++;
            if (p->body.post.has_nominate) {
                nominations++;
                kz_kset_add(&nominees, p->body.post.nominate);
            }
        }
        if (p->body.post.kind == KZ_POST_REQUEST) {
            requests++;
            kz_refwalk w = {0, p->author, &first, false};
            if ((rc = kz_store_iter_refs(n->store, p->id, KZ_T_REPLY, false, kz_ref_cb, &w)) < 0)
                goto out;
            req_replies += first.n;
            if (first.n > 0 && first.items[0].created_ms >= p->created_ms)
                delays[n_delays++] = first.items[0].created_ms - p->created_ms;
            kz__recvec_free(&first);
        }
    }
    uint64_t nominees_posted = 0;
    for (size_t i = 0; i < nominees.n; i++) {
        for (size_t j = 0; j < posts.n; j++) {
            if (posts.items[j].body.post.kind == KZ_POST_INTRO &&
                memcmp(posts.items[j].author, nominees.k[i], KZ_KEY_BYTES) == 0) {
                nominees_posted++;
                break;
            }
        }
    }
    json_t *series = json_array();
    for (size_t b = 0; b < nb; b++) {
        char t[KZ_TIME_STR_MAX];
        kz_time_format(t, start + b * KZ_BUCKET_MS);
        t[10] = '\0';
        json_array_append_new(series, json_pack("{s:s, s:I}", "from", t, "posts", (json_int_t)buckets[b]));
    }
    json_t *median = json_null();
    if (n_delays > 0) {
        qsort(delays, n_delays, sizeof *delays, kz_u64_cmp);
        uint64_t med = n_delays % 2 ? delays[n_delays / 2]
                                    : (delays[n_delays / 2 - 1] + delays[n_delays / 2]) / 2;
        median = json_integer((json_int_t)(med / 1000u));
    }

    /* Replies, reactions and contacts across companies. */
    uint64_t cross_replies = 0, cross_contacts = 0, reactions_on = 0;
    for (size_t i = 0; i < replies.n; i++) {
        kz_record parent;
        if (kz_node_record_load(n, replies.items[i].body.reply.parent, true, &parent) != 0)
            continue;
        if (kz_cross(n, replies.items[i].author, parent.author))
            cross_replies++;
        kz_record_close(&parent);
    }
    for (size_t i = 0; i < reacts.n; i++)
        reactions_on += !reacts.items[i].body.reaction.off;
    for (size_t i = 0; i < contacts.n; i++)
        cross_contacts += kz_cross(n, contacts.items[i].author, contacts.items[i].body.contact.to);

    /* Events: RSVP answers and confirmed seats. */
    uint64_t answers[3] = {0}, confirmed = 0, waitlisted = 0;
    for (size_t i = 0; i < rsvps.n; i++) {
        if (rsvps.items[i].body.rsvp.status < 3)
            answers[rsvps.items[i].body.rsvp.status]++;
    }
    for (size_t i = 0; i < events.n; i++) {
        kz_attend *v;
        size_t k;
        uint64_t counts[5];
        kz__event_attendance(&events.items[i], &rsvps, &v, &k, counts);
        free(v);
        confirmed += counts[KZ_ATTEND_CONFIRMED];
        waitlisted += counts[KZ_ATTEND_WAITLIST];
    }

    uint64_t posted_members = 0;
    for (size_t i = 0; i < posters.n; i++)
        posted_members += kz_kset_has(&members, posters.k[i]);
    char from[KZ_TIME_STR_MAX];
    kz_time_format(from, since);
    json_object_set_new(o, "since", since ? json_string(from) : json_null());
    json_object_set_new(o, "members", json_pack("{s:I, s:I, s:I, s:f}",
        "registered", (json_int_t)members.n, "active", (json_int_t)active.n,
        "posted", (json_int_t)posted_members,
        "posted_share", members.n ? (double)posted_members / (double)members.n : 0.0));
    json_object_set_new(o, "posts", json_pack("{s:I, s:o}", "total", (json_int_t)posts.n,
                                              "per_two_weeks", series));
    json_object_set_new(o, "relay", json_pack("{s:I, s:I, s:I}", "intro_posts", (json_int_t)intros,
        "nominations", (json_int_t)nominations, "nominees_posted", (json_int_t)nominees_posted));
    json_object_set_new(o, "requests", json_pack("{s:I, s:I, s:f, s:o}",
        "total", (json_int_t)requests, "replies", (json_int_t)req_replies,
        "replies_per_request", requests ? (double)req_replies / (double)requests : 0.0,
        "median_first_reply_s", median));
    json_object_set_new(o, "replies", json_integer((json_int_t)replies.n));
    json_object_set_new(o, "reactions", json_integer((json_int_t)reactions_on));
    json_object_set_new(o, "events", json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}",
        "events", (json_int_t)events.n, "rsvp_going", (json_int_t)answers[KZ_RSVP_GOING],
        "rsvp_maybe", (json_int_t)answers[KZ_RSVP_MAYBE], "rsvp_no", (json_int_t)answers[KZ_RSVP_NO],
        "confirmed", (json_int_t)confirmed, "waitlisted", (json_int_t)waitlisted));
    json_object_set_new(o, "cross_company", json_pack("{s:I, s:I}", "replies",
        (json_int_t)cross_replies, "contacts", (json_int_t)cross_contacts));
    json_object_set_new(o, "contacts", json_integer((json_int_t)contacts.n));
    rc = 0;
out:
    free(delays);
    kz__recvec_free(&att);
    kz__recvec_free(&posts);
    kz__recvec_free(&replies);
    kz__recvec_free(&reacts);
    kz__recvec_free(&events);
    kz__recvec_free(&rsvps);
    kz__recvec_free(&contacts);
    kz__recvec_free(&first);
    kz_kset_free(&members);
    kz_kset_free(&active);
    kz_kset_free(&posters);
    kz_kset_free(&nominees);
    return rc < 0 ? rc : 0;
}

static int kz_h_metrics(kz_node *n, json_t *args, json_t **result, char *err, size_t errsz)
{
    static const char *const allowed[] = {"since", NULL};
    uint64_t since;
    int rc;
    if ((rc = kz__arg_only(args, allowed, err, errsz)) != 0 ||
        (rc = kz__arg_since(args, &since, err, errsz)) != 0)
        return rc;
    json_t *o = json_object();
    if ((rc = kz_metrics_build(n, since, o)) != 0) {
        json_decref(o);
        snprintf(err, errsz, "cannot compute metrics: %s", kz_strerror(rc));
        return rc;
    }
    *result = o;
    return 0;
}

static const kz_control_verb kz_verbs[] = {
    {"inbox", kz_h_inbox,
     "notifications for args.member held here: nominations, replies, reactions, contacts, "
     "event reminders (args.since)"},
    {"metrics", kz_h_metrics, "counts for the alumni office over the window args.since..now"},
};

const kz__verb_table kz__verbs_metrics = {kz_verbs, KZ_ARRAY_LEN(kz_verbs)};
