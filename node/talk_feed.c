/* talk_feed.c: reading the talk room: feeds (a room, a member, open
 * requests), a thread, the relay chain, poll tallies and the room list.
 * Every view is computed from the records alone (their ids and creation
 * times), so two nodes holding the same records show the same thing. */
#include "talk_view.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FEED_LIMIT_DEFAULT 20
#define FEED_LIMIT_MAX 200

/* ---- Who may write in a room --------------------------------------------------------
 * The store checks this when a record arrives, but a reply, reaction or vote
 * that arrives before its post cannot be judged then; readers apply the same
 * rule so that every node shows the same thing whatever the arrival order. */

int kz__room_allows(kz_node *n, const kz_str *room, const uint8_t author[KZ_KEY_BYTES])
{
    uint8_t node[KZ_KEY_BYTES], home[KZ_KEY_BYTES];
    kz_record r;
    if (kz_room_company_node(room->p, room->n, node))
        return kz__talk_home(n, author, home) && memcmp(home, node, KZ_KEY_BYTES) == 0;
    if (!kz_room_topic_valid(room->p, room->n))
        return 1; /* the lounge */
    if (kz__room_find(n, room->p, room->n, &r) != 0)
        return 1; /* no room record: the room is hidden anyway */
    int ok = r.body.room.scope != KZ_SCOPE_COMPANY ||
             (kz__talk_home(n, author, home) && memcmp(home, r.author, KZ_KEY_BYTES) == 0);
    kz_record_close(&r);
    return ok;
}

/* ---- Summaries of one post ------------------------------------------------------- */

/* A reply, reaction or vote seen during the walk, judged after it (the
 * judgement reads the store, which a walk callback must not). */
typedef struct {
    uint8_t type, value;
    bool off, edit;
    uint8_t author[KZ_KEY_BYTES];
    uint64_t created_ms;
} kz_pending;

typedef struct {
    kz_record latest;        /* newest edit by the author (when has_latest) */
    bool has_latest;
    uint64_t closed_ms;      /* creation of the earliest closing edit; UINT64_MAX */
    uint64_t replies;
    uint64_t reactions[KZ_REACTION_KINDS];
    uint64_t votes[KZ_POLL_OPTIONS_MAX];
    uint64_t first_reply_ms; /* 0 when none */
    kz_pending *pend;
    size_t n_pend, cap_pend;
} kz_summary;

typedef struct {
    const kz_record *post;   /* the post or reply summarized */
    kz_summary *s;
} kz_sum_scan;

static int sum_cb(void *ud, const uint8_t id[KZ_ID_BYTES], uint64_t created_ms,
                  const uint8_t *raw, size_t len)
{
    kz_sum_scan *c = ud;
    kz_summary *s = c->s;
    kz_record r;
    (void)id;
    if (kz_record_decode(&r, raw, len, 0, KZ_DECODE_NOVERIFY) != 0)
        return 0;
    if (r.type == c->post->type && memcmp(r.author, c->post->author, KZ_KEY_BYTES) == 0) {
        /* Edits, oldest first: the last one seen is the latest. */
        if (r.type == KZ_T_POST && r.body.post.closed && s->closed_ms == UINT64_MAX)
            s->closed_ms = created_ms;
        if (s->has_latest)
            kz_record_close(&s->latest);
        s->latest = r;
        s->has_latest = true;
        return 0;
    }
    if (r.type == KZ_T_REPLY || r.type == KZ_T_REACTION || r.type == KZ_T_VOTE) {
        if (s->n_pend == s->cap_pend) {
            s->cap_pend = s->cap_pend ? 2 * s->cap_pend : 16;
            s->pend = kz_xrealloc(s->pend, s->cap_pend * sizeof *s->pend);
        }
        kz_pending *p = &s->pend[s->n_pend++];
        memset(p, 0, sizeof *p);
        p->type = r.type;
        memcpy(p->author, r.author, KZ_KEY_BYTES);
        p->created_ms = created_ms;
        if (r.type == KZ_T_REPLY)
            p->edit = r.body.reply.has_edit_of;
        else if (r.type == KZ_T_REACTION)
            p->value = r.body.reaction.kind, p->off = r.body.reaction.off;
        else
            p->value = r.body.vote.option;
    }
    kz_record_close(&r);
    return 0;
}

/* Summarize post (an original post, or a reply: then room is its post's
 * room). Replaced reactions and votes are not in the store (their slot
 * keeps one per member), so every counted one is current. */
static int summarize_in(kz_node *n, const kz_record *post, const kz_str *room, kz_summary *s)
{
    memset(s, 0, sizeof *s);
    s->closed_ms = UINT64_MAX;
    kz_sum_scan c = {post, s};
    int rc = kz_store_iter_refs(n->store, post->id, 0, false, sum_cb, &c);
    bool poll = post->type == KZ_T_POST && post->body.post.kind == KZ_POST_POLL;
    for (size_t i = 0; rc == 0 && i < s->n_pend; i++) {
        const kz_pending *p = &s->pend[i];
        if (p->edit || !kz__room_allows(n, room, p->author))
            continue;
        if (p->type == KZ_T_REPLY) {
            s->replies++;
            if (!s->first_reply_ms)
                s->first_reply_ms = p->created_ms;
        } else if (p->type == KZ_T_REACTION) {
            if (!p->off && p->value < KZ_REACTION_KINDS)
                s->reactions[p->value]++;
        } else if (poll && p->created_ms < s->closed_ms && p->value < post->body.post.n_options) {
            /* Votes made after the close, or for an option the poll lacks
             * (possible when the vote arrived first), do not count. */
            s->votes[p->value]++;
        }
    }
    free(s->pend);
    s->pend = NULL;
    s->n_pend = s->cap_pend = 0;
    return rc;
}

static int summarize(kz_node *n, const kz_record *post, kz_summary *s)
{
    return summarize_in(n, post, &post->body.post.room, s);
}

static void summary_close(kz_summary *s)
{
    if (s->has_latest)
        kz_record_close(&s->latest);
}

static json_t *author_json(kz_node *n, const uint8_t author[KZ_KEY_BYTES])
{
    uint8_t home[KZ_KEY_BYTES];
    json_t *o = json_pack("{s:o, s:o}", "id", kz_json_hex(author, KZ_KEY_BYTES), "name",
                          kz__talk_name(n, author));
    if (kz__talk_home(n, author, home)) {
        kz_record like, node;
        json_object_set_new(o, "company_node", kz_json_hex(home, KZ_KEY_BYTES));
        kz_record_init(&like, KZ_T_NODE, home, 0);
        if (kz_node_slot_load(n, &like, &node) == 0) {
            json_object_set_new(o, "company", kz_json_kzstr(node.body.node.name));
            kz_record_close(&node);
        }
    }
    return o;
}

static json_t *reactions_json(const uint64_t counts[KZ_REACTION_KINDS])
{
    json_t *o = json_object();
    for (int i = 0; i < KZ_REACTION_KINDS; i++)
        if (counts[i])
            json_object_set_new(o, kz__reaction_names[i], json_integer((json_int_t)counts[i]));
    return o;
}

static json_t *post_json(kz_node *n, const kz_record *p, const kz_summary *s)
{
    const kz_body_post *cur = s->has_latest ? &s->latest.body.post : &p->body.post;
    char when[KZ_TIME_STR_MAX];
    kz_time_format(when, p->created_ms);
    json_t *o = json_pack("{s:o, s:s, s:o, s:o, s:o, s:s, s:I, s:I, s:o}", "id",
                          kz_json_hex(p->id, KZ_ID_BYTES), "kind",
                          kz_post_kind_name(p->body.post.kind), "author", author_json(n, p->author),
                          "room", kz_json_kzstr(p->body.post.room), "text",
                          kz_json_kzstr(cur->text), "created", when, "created_ms",
                          (json_int_t)p->created_ms, "replies", (json_int_t)s->replies,
                          "reactions", reactions_json(s->reactions));
    json_object_set_new(o, "edited", json_boolean(s->has_latest));
    if (p->body.post.has_nominate) {
        json_t *nom = author_json(n, p->body.post.nominate);
        json_object_set_new(o, "nominate", nom);
    }
    if (p->body.post.kind == KZ_POST_REQUEST)
        json_object_set_new(o, "state", json_string(s->closed_ms != UINT64_MAX ? "resolved" : "open"));
    if (p->body.post.kind == KZ_POST_POLL) {
        json_t *opts = json_array();
        uint64_t total = 0;
        for (uint32_t i = 0; i < p->body.post.n_options; i++) {
            json_array_append_new(opts, json_pack("{s:I, s:o, s:I}", "index", (json_int_t)i,
                                                  "text", kz_json_kzstr(p->body.post.options[i]),
                                                  "votes", (json_int_t)s->votes[i]));
            total += s->votes[i];
        }
        json_object_set_new(o, "options", opts);
        json_object_set_new(o, "votes", json_integer((json_int_t)total));
        json_object_set_new(o, "closed", json_boolean(s->closed_ms != UINT64_MAX));
    }
    return o;
}

/* ---- feed --------------------------------------------------------------------------- */

typedef struct {
    kz_node *n;
    const kz__viewer *v;
    const char *room;          /* only this room (NULL: any visible) */
    const uint8_t *member;     /* only this author */
    bool requests;             /* only open requests */
    bool have_cursor;
    uint64_t cur_ms;
    uint8_t cur_id[KZ_ID_BYTES];
    size_t limit;
    kz__recvec got;
    bool more;
    int rc;
} kz_feed;

/* Runs inside a read transaction: only decode and filter on the record
 * itself here; room visibility and summaries read the store afterwards. */
static int feed_cb(void *ud, const uint8_t id[KZ_ID_BYTES], uint64_t created_ms,
                   const uint8_t *raw, size_t len)
{
    kz_feed *f = ud;
    if (f->have_cursor && !kz_record_newer(f->cur_ms, f->cur_id, created_ms, id))
        return 0; /* at or after the cursor */
    if (f->got.n >= 4 * FEED_LIMIT_MAX) {
        f->more = true;
        return 1;
    }
    kz__recvec *v = &f->got;
    if (v->n == v->cap) {
        v->cap = v->cap ? 2 * v->cap : 32;
        v->items = kz_xrealloc(v->items, v->cap * sizeof *v->items);
    }
    kz_record *r = &v->items[v->n];
    if (kz_record_decode(r, raw, len, 0, KZ_DECODE_NOVERIFY) != 0)
        return 0;
    if (r->type != KZ_T_POST || r->body.post.has_edit_of ||
        (f->member && memcmp(r->author, f->member, KZ_KEY_BYTES) != 0) ||
        (f->requests && r->body.post.kind != KZ_POST_REQUEST) ||
        (f->room && (r->body.post.room.n != strlen(f->room) ||
                     memcmp(r->body.post.room.p, f->room, r->body.post.room.n) != 0))) {
        kz_record_close(r);
        return 0;
    }
    v->n++;
    return 0;
}

static int parse_cursor(const char *s, uint64_t *ms, uint8_t id[KZ_ID_BYTES])
{
    const char *colon = s ? strchr(s, ':') : NULL;
    char *end;
    if (!colon || colon == s || strlen(colon + 1) != 2 * KZ_ID_BYTES)
        return KZ_EINVAL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end != colon || s[0] == '-' || s[0] == '+')
        return KZ_EINVAL;
    *ms = v;
    return kz_hex_decode(id, KZ_ID_BYTES, colon + 1) == 0 ? 0 : KZ_EINVAL;
}

static int kz_h_feed(kz_node *n, json_t *args, json_t **result, char *err, size_t errsz)
{
    static const char *const allowed[] = {"room", "member", "requests", "as", "limit", "cursor",
                                          NULL};
    uint8_t member[KZ_KEY_BYTES], as[KZ_KEY_BYTES];
    const char *room, *cursor;
    kz__viewer v;
    kz_feed f;
    int rc;
    memset(&f, 0, sizeof f);
    if ((rc = kz__arg_only(args, allowed, err, errsz)) != 0 ||
        (rc = kz__arg_str(args, "room", false, KZ_SHORT_MAX, false, &room, err, errsz)) != 0 ||
        (rc = kz__arg_str(args, "cursor", false, 100, false, &cursor, err, errsz)) != 0)
        return rc;
    bool has_member = json_object_get(args, "member") && !json_is_null(json_object_get(args, "member"));
    bool has_as = json_object_get(args, "as") && !json_is_null(json_object_get(args, "as"));
    if ((has_member && (rc = kz__arg_id(args, "member", member, err, errsz)) != 0) ||
        (has_as && (rc = kz__arg_id(args, "as", as, err, errsz)) != 0))
        return rc;
    json_t *lv = json_object_get(args, "limit");
    f.limit = FEED_LIMIT_DEFAULT;
    if (lv && !json_is_null(lv)) {
        if (!json_is_integer(lv) || json_integer_value(lv) < 1 ||
            json_integer_value(lv) > FEED_LIMIT_MAX) {
            snprintf(err, errsz, "limit must be 1 to %d", FEED_LIMIT_MAX);
            return KZ_EINVAL;
        }
        f.limit = (size_t)json_integer_value(lv);
    }
    if (cursor) {
        if (parse_cursor(cursor, &f.cur_ms, f.cur_id) != 0) {
            snprintf(err, errsz, "cursor must be CREATED_MS:POST_ID as printed by an earlier page");
            return KZ_EINVAL;
        }
        f.have_cursor = true;
    }
    if ((rc = kz__viewer_init(n, has_as ? as : NULL, &v, err, errsz)) != 0)
        return rc;
    if (room) {
        if (!kz_room_name_valid(room, strlen(room))) {
            snprintf(err, errsz, "'%s' is not a room name", room);
            return KZ_EINVAL;
        }
        rc = kz__room_visible(n, &v, room, strlen(room));
        if (rc == 0) {
            snprintf(err, errsz, "room '%s' does not exist or is not visible to this viewer", room);
            return KZ_EPERM;
        }
        if (rc < 0)
            goto store_fail;
    }
    f.n = n;
    f.v = &v;
    f.room = room;
    f.member = has_member ? member : NULL;
    f.requests = json_is_true(json_object_get(args, "requests"));

    json_t *items = json_array();
    const char *next = NULL;
    char next_buf[32 + 2 * KZ_ID_BYTES];
    /* Walk in chunks until a page of visible items is filled. */
    for (;;) {
        size_t before = f.got.n;
        f.more = false;
        if (room)
            rc = kz_store_iter_room(n->store, room, strlen(room),
                                    f.have_cursor ? f.cur_ms : UINT64_MAX,
                                    f.have_cursor ? f.cur_id : NULL, feed_cb, &f);
        else if (f.member)
            rc = kz_store_iter_author(n->store, f.member, feed_cb, &f);
        else
            rc = kz_store_iter_type(n->store, KZ_T_POST, feed_cb, &f);
        if (rc < 0) {
            json_decref(items);
            goto store_fail;
        }
        size_t i;
        for (i = before; i < f.got.n && json_array_size(items) < f.limit; i++) {
            kz_record *p = &f.got.items[i];
            f.have_cursor = true;
            f.cur_ms = p->created_ms;
            memcpy(f.cur_id, p->id, KZ_ID_BYTES);
            int vis = kz__room_visible(n, &v, p->body.post.room.p, p->body.post.room.n);
            if (vis < 0) {
                rc = vis;
                json_decref(items);
                goto store_fail;
            }
            if (!vis || !kz__room_allows(n, &p->body.post.room, p->author) ||
                kz_store_author_blocked(n->store, p->author))
                continue;
            kz_summary s;
            if ((rc = summarize(n, p, &s)) != 0) {
                summary_close(&s);
                json_decref(items);
                goto store_fail;
            }
            bool open = s.closed_ms == UINT64_MAX;
            if (!f.requests || open)
                json_array_append_new(items, post_json(n, p, &s));
            summary_close(&s);
        }
        bool filled = json_array_size(items) >= f.limit;
        if (filled && (i < f.got.n || f.more)) {
            snprintf(next_buf, sizeof next_buf, "%llu:%s", (unsigned long long)f.cur_ms,
                     kz_id_to_str(f.cur_id).s);
            next = next_buf;
        } else if (filled) {
            /* Exactly filled at the end of what the walk returned: there
             * may be more only if the walk stopped early. */
            next = NULL;
        }
        if (filled || !f.more)
            break;
        kz__recvec_free(&f.got);
    }
    kz__recvec_free(&f.got);
    *result = json_pack("{s:o, s:o}", "items", items, "next_cursor",
                        next ? json_string(next) : json_null());
    return 0;
store_fail:
    kz__recvec_free(&f.got);
    snprintf(err, errsz, "cannot read the feed: %s", kz_strerror(rc));
    return rc;
}

/* ---- thread -------------------------------------------------------------------------- */

typedef struct {
    kz_node *n;
    kz__recvec replies;
} kz_thread;

static int thread_cb(void *ud, const uint8_t id[KZ_ID_BYTES], uint64_t created_ms,
                     const uint8_t *raw, size_t len)
{
    kz_thread *t = ud;
    (void)id;
    (void)created_ms;
    kz__recvec *v = &t->replies;
    if (v->n == v->cap) {
        v->cap = v->cap ? 2 * v->cap : 16;
        v->items = kz_xrealloc(v->items, v->cap * sizeof *v->items);
    }
    if (kz_record_decode(&v->items[v->n], raw, len, 0, KZ_DECODE_NOVERIFY) == 0) {
        if (v->items[v->n].body.reply.has_edit_of)
            kz_record_close(&v->items[v->n]);
        else
            v->n++;
    }
    return 0;
}

/* A reply as JSON: latest edit's text and its reactions. */
static json_t *reply_json(kz_node *n, const kz_record *r, const kz_str *room)
{
    kz_summary s;
    (void)summarize_in(n, r, room, &s);
    kz_str text = r->body.reply.text;
    if (s.has_latest && s.latest.type == KZ_T_REPLY)
        text = s.latest.body.reply.text;
    char when[KZ_TIME_STR_MAX];
    kz_time_format(when, r->created_ms);
    json_t *o = json_pack("{s:o, s:o, s:o, s:s, s:I, s:o}", "id", kz_json_hex(r->id, KZ_ID_BYTES),
                          "author", author_json(n, r->author), "text", kz_json_kzstr(text),
                          "created", when, "created_ms", (json_int_t)r->created_ms, "reactions",
                          reactions_json(s.reactions));
    summary_close(&s);
    return o;
}

static int kz_h_thread(kz_node *n, json_t *args, json_t **result, char *err, size_t errsz)
{
    static const char *const allowed[] = {"post", "as", NULL};
    uint8_t id[KZ_ID_BYTES], as[KZ_KEY_BYTES];
    kz__viewer v;
    kz_record p;
    kz_summary s;
    int rc;
    bool has_as = json_object_get(args, "as") && !json_is_null(json_object_get(args, "as"));
    if ((rc = kz__arg_only(args, allowed, err, errsz)) != 0 ||
        (rc = kz__arg_id(args, "post", id, err, errsz)) != 0 ||
        (has_as && (rc = kz__arg_id(args, "as", as, err, errsz)) != 0))
        return rc;
    if ((rc = kz__viewer_init(n, has_as ? as : NULL, &v, err, errsz)) != 0)
        return rc;
    kz_idstr ids = kz_id_to_str(id);
    rc = kz_node_record_load(n, id, true, &p);
    if (rc) {
        snprintf(err, errsz, "no post %s on this node%s", ids.s,
                 kz_store_is_tombstoned(n->store, id) ? " (it was deleted)" : "");
        return rc;
    }
    if (p.type != KZ_T_POST || p.body.post.has_edit_of ||
        kz__room_visible(n, &v, p.body.post.room.p, p.body.post.room.n) != 1) {
        kz_record_close(&p);
        snprintf(err, errsz, "%s is not a post this viewer may see", ids.s);
        return KZ_EPERM;
    }
    if ((rc = summarize(n, &p, &s)) != 0) {
        summary_close(&s);
        kz_record_close(&p);
        snprintf(err, errsz, "cannot read the thread: %s", kz_strerror(rc));
        return rc;
    }
    json_t *o = post_json(n, &p, &s);
    summary_close(&s);
    kz_thread t = {n, {0}};
    rc = kz_store_iter_refs(n->store, id, KZ_T_REPLY, false, thread_cb, &t);
    json_t *replies = json_array();
    for (size_t i = 0; i < t.replies.n; i++)
        if (kz__room_allows(n, &p.body.post.room, t.replies.items[i].author))
            json_array_append_new(replies, reply_json(n, &t.replies.items[i], &p.body.post.room));
    kz__recvec_free(&t.replies);
    kz_record_close(&p);
    json_object_set_new(o, "thread", replies);
    *result = o;
    return rc < 0 ? (json_decref(o), *result = NULL, rc) : 0;
}

/* ---- relay.show ------------------------------------------------------------------------ */

static int kz_h_relay_show(kz_node *n, json_t *args, json_t **result, char *err, size_t errsz)
{
    static const char *const allowed[] = {"room", NULL};
    const char *room;
    kz__recvec posts = {0};
    int rc;
    if ((rc = kz__arg_only(args, allowed, err, errsz)) != 0 ||
        (rc = kz__arg_str(args, "room", false, KZ_SHORT_MAX, false, &room, err, errsz)) != 0)
        return rc;
    if (!room)
        room = KZ_ROOM_LOUNGE;
    kz__viewer v;
    if ((rc = kz__viewer_init(n, NULL, &v, err, errsz)) != 0)
        return rc;
    if (kz__room_visible(n, &v, room, strlen(room)) != 1) {
        snprintf(err, errsz, "room '%s' does not exist or is not visible here", room);
        return KZ_EPERM;
    }
    if ((rc = kz__talk_collect(n, KZ_T_POST, 0, &posts)) != 0) {
        snprintf(err, errsz, "cannot read the posts: %s", kz_strerror(rc));
        return rc;
    }
    /* Intro posts of the room, oldest first (collect gives newest first). */
    json_t *chain = json_array(), *next = json_array();
    size_t rl = strlen(room);
    for (size_t k = posts.n; k-- > 0;) {
        const kz_record *p = &posts.items[k];
        if (p->body.post.kind != KZ_POST_INTRO || p->body.post.has_edit_of ||
            p->body.post.room.n != rl || memcmp(p->body.post.room.p, room, rl) != 0 ||
            !kz__room_allows(n, &p->body.post.room, p->author))
            continue;
        char when[KZ_TIME_STR_MAX];
        kz_time_format(when, p->created_ms);
        json_t *o = json_pack("{s:o, s:o, s:s, s:I}", "post_id", kz_json_hex(p->id, KZ_ID_BYTES),
                              "member", author_json(n, p->author), "created", when, "created_ms",
                              (json_int_t)p->created_ms);
        if (p->body.post.has_nominate) {
            json_object_set_new(o, "nominated", author_json(n, p->body.post.nominate));
            /* The nominee is the next stop until they post an intro here
             * after being nominated. */
            bool done = false;
            for (size_t j = k; j-- > 0 && !done;) {
                const kz_record *q = &posts.items[j];
                done = q->body.post.kind == KZ_POST_INTRO && !q->body.post.has_edit_of &&
                       q->body.post.room.n == rl && memcmp(q->body.post.room.p, room, rl) == 0 &&
                       memcmp(q->author, p->body.post.nominate, KZ_KEY_BYTES) == 0;
            }
            if (!done)
                json_array_append_new(next, json_pack("{s:o, s:o}", "member",
                                                      author_json(n, p->body.post.nominate),
                                                      "nominated_by",
                                                      kz_json_hex(p->author, KZ_KEY_BYTES)));
        }
        json_array_append_new(chain, o);
    }
    kz__recvec_free(&posts);
    *result = json_pack("{s:s, s:o, s:o}", "room", room, "chain", chain, "next", next);
    return 0;
}

/* ---- poll.show ------------------------------------------------------------------------- */

static int kz_h_poll_show(kz_node *n, json_t *args, json_t **result, char *err, size_t errsz)
{
    static const char *const allowed[] = {"poll", NULL};
    uint8_t id[KZ_ID_BYTES];
    kz_record p;
    kz_summary s;
    int rc;
    if ((rc = kz__arg_only(args, allowed, err, errsz)) != 0 ||
        (rc = kz__arg_id(args, "poll", id, err, errsz)) != 0)
        return rc;
    kz_idstr ids = kz_id_to_str(id);
    if ((rc = kz_node_record_load(n, id, true, &p)) != 0) {
        snprintf(err, errsz, "no poll %s on this node%s", ids.s,
                 kz_store_is_tombstoned(n->store, id) ? " (it was deleted)" : "");
        return rc;
    }
    if (p.type != KZ_T_POST || p.body.post.kind != KZ_POST_POLL || p.body.post.has_edit_of) {
        kz_record_close(&p);
        snprintf(err, errsz, "%s is not a poll", ids.s);
        return KZ_EINVAL;
    }
    if ((rc = summarize(n, &p, &s)) != 0) {
        summary_close(&s);
        kz_record_close(&p);
        snprintf(err, errsz, "cannot count the votes: %s", kz_strerror(rc));
        return rc;
    }
    *result = post_json(n, &p, &s);
    summary_close(&s);
    kz_record_close(&p);
    return 0;
}

/* ---- room.list ------------------------------------------------------------------------- */

static int room_list_cb(void *ud, const uint8_t id[KZ_ID_BYTES], uint64_t created_ms,
                        const uint8_t *raw, size_t len)
{
    json_t *list = ud;
    kz_record r;
    (void)created_ms;
    if (kz_record_decode(&r, raw, len, 0, KZ_DECODE_NOVERIFY) != 0)
        return 0;
    json_t *o = json_pack("{s:o, s:o, s:o, s:s, s:o}", "room_id", kz_json_hex(id, KZ_ID_BYTES),
                          "name", kz_json_kzstr(r.body.room.name), "title",
                          kz_json_kzstr(r.body.room.title), "scope",
                          r.body.room.scope ? "company" : "federation", "created_by",
                          kz_json_hex(r.author, KZ_KEY_BYTES));
    json_array_append_new(list, o);
    kz_record_close(&r);
    return 0;
}

static int kz_h_room_list(kz_node *n, json_t *args, json_t **result, char *err, size_t errsz)
{
    static const char *const allowed[] = {NULL};
    int rc;
    if ((rc = kz__arg_only(args, allowed, err, errsz)) != 0)
        return rc;
    json_t *all = json_array(), *out = json_array();
    rc = kz_store_iter_type(n->store, KZ_T_ROOM, room_list_cb, all);
    if (rc < 0) {
        json_decref(all);
        json_decref(out);
        snprintf(err, errsz, "cannot read the rooms: %s", kz_strerror(rc));
        return rc;
    }
    char own[sizeof KZ_ROOM_COMPANY_PREFIX + 2 * KZ_KEY_BYTES];
    snprintf(own, sizeof own, "%s%s", KZ_ROOM_COMPANY_PREFIX, kz_id_to_str(n->keys.node_pk).s);
    json_array_append_new(out, json_pack("{s:s, s:s, s:s}", "name", KZ_ROOM_LOUNGE, "title",
                                         "Lounge", "scope", "federation"));
    json_array_append_new(out, json_pack("{s:s, s:s, s:s}", "name", own, "title",
                                         n->cfg.name, "scope", "company"));
    /* Topic rooms this node may show: federation-wide ones and its own
     * company's; one entry per name (the newest record wins). */
    kz__viewer v;
    if (kz__viewer_init(n, NULL, &v, err, errsz) != 0)
        v.n = 0; /* cannot happen for the node's own view */
    size_t i;
    json_t *o;
    json_array_foreach(all, i, o) {
        const char *name = json_string_value(json_object_get(o, "name"));
        bool dup = false;
        size_t j;
        json_t *q;
        json_array_foreach(out, j, q)
            dup = dup || strcmp(json_string_value(json_object_get(q, "name")), name) == 0;
        if (!dup && kz__room_visible(n, &v, name, strlen(name)) == 1)
            json_array_append(out, o);
    }
    json_decref(all);
    *result = json_pack("{s:o}", "rooms", out);
    return 0;
}

static const kz_control_verb kz_verbs[] = {
    {"feed", kz_h_feed, "posts newest first: args room, member, requests, as, limit, cursor"},
    {"thread", kz_h_thread, "a post and its replies, oldest first"},
    {"relay.show", kz_h_relay_show, "the relay self-introduction chain of a room"},
    {"poll.show", kz_h_poll_show, "a poll's tallies (one vote per member)"},
    {"room.list", kz_h_room_list, "rooms this node shows"},
};

const kz__verb_table kz__verbs_talk_read = {kz_verbs, KZ_ARRAY_LEN(kz_verbs)};
