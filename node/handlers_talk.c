/* handlers_talk.c: control verbs that write to the talk room: post (all
 * kinds, edits and closing), reply, react, vote and room creation (report
 * and deletion are in talk_moderation.c); plus the room visibility shared
 * with the feeds.
 * The store enforces the same rules on records from peers (talk_rules.c);
 * the checks here exist to give a local user a clear sentence. */
#include "talk_view.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const kz__reaction_names[KZ_REACTION_KINDS] = {"like", "thanks", "celebrate",
                                                          "insightful", "support", "funny"};

int kz__reaction_parse(const char *s)
{
    for (int i = 0; s && i < KZ_REACTION_KINDS; i++)
        if (strcmp(s, kz__reaction_names[i]) == 0)
            return i;
    return -1;
}

/* ---- Visibility -------------------------------------------------------------- */

int kz__viewer_init(kz_node *n, const uint8_t *member, kz__viewer *v, char *err, size_t errsz)
{
    memset(v, 0, sizeof *v);
    if (!member) {
        memcpy(v->companies[0], n->keys.node_pk, KZ_KEY_BYTES);
        v->n = 1;
        return 0;
    }
    if (!kz__talk_home(n, member, v->companies[0])) {
        kz_idstr id = kz_id_to_str(member);
        snprintf(err, errsz, "member %s has no live attestation here", id.s);
        return KZ_ENOATTEST;
    }
    v->n = 1;
    return 0;
}

static bool viewer_has(const kz__viewer *v, const uint8_t node[KZ_KEY_BYTES])
{
    for (size_t i = 0; i < v->n; i++)
        if (memcmp(v->companies[i], node, KZ_KEY_BYTES) == 0)
            return true;
    return false;
}

typedef struct {
    const char *name;
    size_t len;
    kz_record *out;
    bool found;
} kz_room_scan;

static int room_scan_cb(void *ud, const uint8_t id[KZ_ID_BYTES], uint64_t created_ms,
                        const uint8_t *raw, size_t len)
{
    kz_room_scan *s = ud;
    kz_record r;
    (void)id;
    (void)created_ms;
    if (kz_record_decode(&r, raw, len, 0, KZ_DECODE_NOVERIFY) != 0)
        return 0;
    if (r.body.room.name.n == s->len && memcmp(r.body.room.name.p, s->name, s->len) == 0) {
        *s->out = r; /* newest first: the first match is the newest */
        s->found = true;
        return 1;
    }
    kz_record_close(&r);
    return 0;
}

int kz__room_find(kz_node *n, const char *name, size_t len, kz_record *r)
{
    kz_room_scan s = {name, len, r, false};
    memset(r, 0, sizeof *r);
    int rc = kz_store_iter_type(n->store, KZ_T_ROOM, room_scan_cb, &s);
    if (rc < 0) {
        if (s.found)
            kz_record_close(r);
        return rc;
    }
    return s.found ? 0 : KZ_ENOTFOUND;
}

int kz__room_visible(kz_node *n, const kz__viewer *v, const char *room, size_t len)
{
    uint8_t node[KZ_KEY_BYTES];
    kz_record r;
    if (len == strlen(KZ_ROOM_LOUNGE) && memcmp(room, KZ_ROOM_LOUNGE, len) == 0)
        return 1;
    if (kz_room_company_node(room, len, node))
        return viewer_has(v, node) ? 1 : 0;
    if (!kz_room_topic_valid(room, len))
        return 0;
    int rc = kz__room_find(n, room, len, &r);
    if (rc == KZ_ENOTFOUND)
        return 0;
    if (rc)
        return rc;
    int vis = r.body.room.scope != KZ_SCOPE_COMPANY || viewer_has(v, r.author);
    kz_record_close(&r);
    return vis;
}

/* ---- Helpers ----------------------------------------------------------------- */

/* Sign r with sk, store it and report its id as result[key]. */
int kz__talk_sign_put(kz_node *n, kz_record *r, const uint8_t sk[KZ_SECKEY_BYTES], const char *what,
                    const char *key, json_t **result, char *err, size_t errsz)
{
    int rc = kz_record_sign(r, sk);
    if (rc) {
        snprintf(err, errsz, "invalid %s: %s", what, kz_record_last_error());
        return rc;
    }
    if ((rc = kz_node_put(n, r, KZ_SRC_LOCAL, NULL)) != 0) {
        snprintf(err, errsz, "cannot store the %s: %s", what, kz__refusal(rc));
        return rc;
    }
    *result = json_pack("{s:o}", key, kz_json_hex(r->id, KZ_ID_BYTES));
    return 0;
}

/* Load a record the member refers to: present, or a sentence saying it was
 * deleted or is unknown here. */
int kz__talk_load_target(kz_node *n, const uint8_t id[KZ_ID_BYTES], const char *what, kz_record *r,
                       char *err, size_t errsz)
{
    int rc = kz_node_record_load(n, id, true, r);
    if (rc == 0)
        return 0;
    kz_idstr s = kz_id_to_str(id);
    if (kz_store_is_tombstoned(n->store, id)) {
        snprintf(err, errsz, "%s %s was deleted", what, s.s);
        return KZ_EDELETED;
    }
    if (rc == KZ_ENOTFOUND)
        snprintf(err, errsz, "no %s %s on this node", what, s.s);
    else
        snprintf(err, errsz, "cannot read %s %s: %s", what, s.s, kz_strerror(rc));
    return rc;
}

/* May member (of the viewer v) write in room? A sentence when not. */
static int room_check(kz_node *n, const uint8_t member[KZ_KEY_BYTES], const char *room, size_t len,
                      char *err, size_t errsz)
{
    kz__viewer v;
    int rc = kz__viewer_init(n, member, &v, err, errsz);
    if (rc)
        return rc;
    if (!kz_room_name_valid(room, len)) {
        snprintf(err, errsz, "'%.*s' is not a room name (lounge, company:NODE_ID, or a topic "
                             "room of [a-z0-9_-])", (int)(len > 80 ? 80 : len), room);
        return KZ_EINVAL;
    }
    rc = kz__room_visible(n, &v, room, len);
    if (rc < 0) {
        snprintf(err, errsz, "cannot read the rooms: %s", kz_strerror(rc));
        return rc;
    }
    if (rc == 0) {
        kz_record r;
        if (kz_room_topic_valid(room, len) && kz__room_find(n, room, len, &r) == KZ_ENOTFOUND) {
            snprintf(err, errsz, "no room '%.*s' (a secretariat creates it with `kizuna room "
                                 "create`)", (int)len, room);
            return KZ_ENOTFOUND;
        }
        if (kz_room_topic_valid(room, len))
            kz_record_close(&r);
        snprintf(err, errsz, "room '%.*s' is for another company's members", (int)len, room);
        return KZ_EPERM;
    }
    return 0;
}

/* The latest version of a post by its author (the newest edit, or the
 * original), into latest (caller closes). */
typedef struct {
    const uint8_t *author;
    kz_record *latest;
    bool found;
} kz_latest_scan;

static int latest_cb(void *ud, const uint8_t id[KZ_ID_BYTES], uint64_t created_ms,
                     const uint8_t *raw, size_t len)
{
    kz_latest_scan *s = ud;
    kz_record r;
    (void)id;
    (void)created_ms;
    if (kz_record_decode(&r, raw, len, 0, KZ_DECODE_NOVERIFY) != 0)
        return 0;
    if (memcmp(r.author, s->author, KZ_KEY_BYTES) == 0) {
        *s->latest = r;
        s->found = true;
        return 1;
    }
    kz_record_close(&r);
    return 0;
}

/* ---- post ---------------------------------------------------------------------- */

static int post_edit_fill(kz_node *n, kz_record *rec, const uint8_t pk[KZ_KEY_BYTES],
                          const uint8_t orig_id[KZ_ID_BYTES], const char *text, bool close,
                          kz_record *orig, kz_record *latest, char *err, size_t errsz)
{
    int rc = kz__talk_load_target(n, orig_id, "post", orig, err, errsz);
    if (rc)
        return rc;
    kz_idstr s = kz_id_to_str(orig_id);
    if (orig->type != KZ_T_POST || orig->body.post.has_edit_of) {
        snprintf(err, errsz, "%s is not an original post", s.s);
        return KZ_EINVAL;
    }
    if (memcmp(orig->author, pk, KZ_KEY_BYTES) != 0) {
        snprintf(err, errsz, "only the author of %s may edit it", s.s);
        return KZ_EPERM;
    }
    if (close && orig->body.post.kind != KZ_POST_REQUEST && orig->body.post.kind != KZ_POST_POLL) {
        snprintf(err, errsz, "only requests and polls can be closed");
        return KZ_EINVAL;
    }
    kz_latest_scan ls = {pk, latest, false};
    if ((rc = kz_store_iter_refs(n->store, orig_id, KZ_T_POST, true, latest_cb, &ls)) < 0) {
        snprintf(err, errsz, "cannot read the edits: %s", kz_strerror(rc));
        return rc;
    }
    const kz_body_post *cur = ls.found ? &latest->body.post : &orig->body.post;
    if (cur->closed && !close) {
        snprintf(err, errsz, "%s is closed", s.s);
        return KZ_EPERM;
    }
    if (cur->closed && close) {
        snprintf(err, errsz, "%s is already closed", s.s);
        return KZ_EEXIST;
    }
    kz_body_post *b = &rec->body.post;
    b->room = orig->body.post.room;
    b->kind = orig->body.post.kind;
    b->text = text ? (kz_str){text, (uint32_t)strlen(text)} : cur->text;
    b->has_nominate = cur->has_nominate;
    memcpy(b->nominate, cur->nominate, KZ_KEY_BYTES);
    b->has_event = cur->has_event; /* an event report stays one */
    memcpy(b->event, cur->event, KZ_ID_BYTES);
    b->n_options = orig->body.post.n_options; /* options never change: votes index them */
    memcpy(b->options, orig->body.post.options, sizeof b->options);
    b->has_edit_of = true;
    memcpy(b->edit_of, orig_id, KZ_ID_BYTES);
    b->closed = close;
    return 0;
}

static int kz_h_post(kz_node *n, json_t *args, json_t **result, char *err, size_t errsz)
{
    static const char *const allowed[] = {"member", "room", "kind", "nominate", "text",
                                          "options", "edit", "close", "event", NULL};
    uint8_t pk[KZ_KEY_BYTES], sk[KZ_SECKEY_BYTES], nominee[KZ_KEY_BYTES], edit_id[KZ_ID_BYTES];
    const char *room = NULL, *kind_s, *text;
    const char *opts[KZ_POLL_OPTIONS_MAX];
    size_t n_opts = 0;
    int kind = KZ_POST_TEXT;
    bool has_nominee = false, edit = false, close = json_is_true(json_object_get(args, "close"));
    kz_store_member m;
    kz_record rec, orig, latest;
    int rc;
    memset(&rec, 0, sizeof rec);
    memset(&orig, 0, sizeof orig);
    memset(&latest, 0, sizeof latest);
    if ((rc = kz__arg_only(args, allowed, err, errsz)) != 0 ||
        (rc = kz__arg_id(args, "member", pk, err, errsz)) != 0 ||
        (rc = kz__arg_str(args, "kind", false, 16, false, &kind_s, err, errsz)) != 0 ||
        (rc = kz__arg_str(args, "text", !close, KZ_TEXT_MAX, true, &text, err, errsz)) != 0)
        return rc;
    json_t *e = json_object_get(args, "edit");
    if (e && !json_is_null(e)) {
        if ((rc = kz__arg_id(args, "edit", edit_id, err, errsz)) != 0)
            return rc;
        edit = true;
    } else if (close) {
        snprintf(err, errsz, "close goes with edit POST_ID (a post is closed by its author)");
        return KZ_EINVAL;
    }
    if (!edit) {
        if ((rc = kz__arg_str(args, "room", true, KZ_SHORT_MAX, false, &room, err, errsz)) != 0)
            return rc;
        if (!text) {
            snprintf(err, errsz, "text: required");
            return KZ_EINVAL;
        }
    }
    if (kind_s) {
        kind = kz_post_kind_parse(kind_s);
        if (kind < 0) {
            snprintf(err, errsz, "kind must be text, intro, request, promo, article or poll");
            return KZ_EINVAL;
        }
        if (edit) {
            snprintf(err, errsz, "an edit keeps the post's kind");
            return KZ_EINVAL;
        }
    }
    json_t *ov = json_object_get(args, "options");
    if (ov && !json_is_null(ov)) {
        if (!json_is_array(ov) || json_array_size(ov) > KZ_POLL_OPTIONS_MAX) {
            snprintf(err, errsz, "options: an array of at most %d strings", KZ_POLL_OPTIONS_MAX);
            return KZ_EINVAL;
        }
        for (size_t i = 0; i < json_array_size(ov); i++) {
            const char *o = json_string_value(json_array_get(ov, i));
            if (!o || !*o || strlen(o) > KZ_SHORT_MAX || !kz_utf8_valid(o, strlen(o), 0)) {
                snprintf(err, errsz, "option %zu: 1 to %d bytes of text on one line", i + 1,
                         KZ_SHORT_MAX);
                return KZ_EINVAL;
            }
            opts[n_opts++] = o;
        }
    }
    if ((kind == KZ_POST_POLL) != (n_opts > 0) && !edit) {
        snprintf(err, errsz, kind == KZ_POST_POLL ? "a poll needs 2 to %d options"
                                                  : "options are only for polls (kind poll)",
                 KZ_POLL_OPTIONS_MAX);
        return KZ_EINVAL;
    }
    if (kind == KZ_POST_POLL && n_opts < 2) {
        snprintf(err, errsz, "a poll needs 2 to %d options", KZ_POLL_OPTIONS_MAX);
        return KZ_EINVAL;
    }
    if (edit && n_opts) {
        snprintf(err, errsz, "a poll's options cannot be edited (votes refer to them)");
        return KZ_EINVAL;
    }
    json_t *nv = json_object_get(args, "nominate");
    if (nv && !json_is_null(nv)) {
        uint8_t home[KZ_KEY_BYTES];
        if ((rc = kz__arg_id(args, "nominate", nominee, err, errsz)) != 0)
            return rc;
        if (kind != KZ_POST_INTRO || edit) {
            snprintf(err, errsz, "nominate is only for new intro posts (kind intro)");
            return KZ_EINVAL;
        }
        if (memcmp(nominee, pk, KZ_KEY_BYTES) == 0) {
            snprintf(err, errsz, "a member cannot nominate themself");
            return KZ_EINVAL;
        }
        if (!kz__talk_home(n, nominee, home)) {
            kz_idstr nid = kz_id_to_str(nominee);
            snprintf(err, errsz, "nominated member %s has no live attestation here", nid.s);
            return KZ_ENOATTEST;
        }
        has_nominee = true;
    }
    uint8_t event_id[KZ_ID_BYTES] = {0};
    bool has_event = false;
    json_t *ev = json_object_get(args, "event");
    if (ev && !json_is_null(ev)) {
        /* An event report links to its event (post key 8, docs/talk.md). */
        kz_record er;
        if ((rc = kz__arg_id(args, "event", event_id, err, errsz)) != 0)
            return rc;
        if (edit) {
            snprintf(err, errsz, "an edit keeps the post's event link");
            return KZ_EINVAL;
        }
        if (kz_node_record_load(n, event_id, true, &er) != 0) {
            kz_idstr eid = kz_id_to_str(event_id);
            snprintf(err, errsz, "no event %s in this node's store", eid.s);
            return KZ_ENOTFOUND;
        }
        has_event = er.type == KZ_T_EVENT;
        kz_record_close(&er);
        if (!has_event) {
            snprintf(err, errsz, "event: the record is not an event");
            return KZ_EINVAL;
        }
    }
    if ((rc = kz__member_key(n, pk, &m, sk, err, errsz)) != 0)
        return rc;
    kz_record_init(&rec, KZ_T_POST, pk, kz_node_created_ms(n, 0));
    if (edit) {
        rc = post_edit_fill(n, &rec, pk, edit_id, text, close, &orig, &latest, err, errsz);
        if (rc)
            goto out;
        rec.created_ms = kz_node_created_ms(n, latest.raw ? latest.created_ms : orig.created_ms);
        room = NULL;
    } else {
        if ((rc = room_check(n, pk, room, strlen(room), err, errsz)) != 0)
            goto out;
        if (kind == KZ_POST_ARTICLE && m.role != KZ_ROLE_SECRETARIAT) {
            snprintf(err, errsz, "articles are for the secretariat (role secretariat)");
            rc = KZ_EPERM;
            goto out;
        }
        rec.body.post.room = (kz_str){room, (uint32_t)strlen(room)};
        rec.body.post.kind = (uint8_t)kind;
        rec.body.post.text = (kz_str){text, (uint32_t)strlen(text)};
        rec.body.post.has_nominate = has_nominee;
        memcpy(rec.body.post.nominate, nominee, has_nominee ? KZ_KEY_BYTES : 0);
        rec.body.post.has_event = has_event;
        memcpy(rec.body.post.event, event_id, has_event ? KZ_ID_BYTES : 0);
        rec.body.post.n_options = (uint32_t)n_opts;
        for (size_t i = 0; i < n_opts; i++)
            rec.body.post.options[i] = (kz_str){opts[i], (uint32_t)strlen(opts[i])};
    }
    rc = kz__talk_sign_put(n, &rec, sk, edit ? "edit" : "post", "post_id", result, err, errsz);
out:
    sodium_memzero(sk, sizeof sk);
    sodium_memzero(&m, sizeof m);
    kz_record_close(&rec);
    kz_record_close(&orig);
    kz_record_close(&latest);
    return rc;
}

/* ---- reply, react, vote ------------------------------------------------------------ */

/* The post a member answers: an original post, not deleted, in a room the
 * member may see. */
static int parent_check(kz_node *n, const uint8_t pk[KZ_KEY_BYTES], const uint8_t id[KZ_ID_BYTES],
                        bool allow_reply, kz_record *p, char *err, size_t errsz)
{
    int rc = kz__talk_load_target(n, id, allow_reply ? "post or reply" : "post", p, err, errsz);
    if (rc)
        return rc;
    kz_idstr s = kz_id_to_str(id);
    if (allow_reply && p->type == KZ_T_REPLY) {
        uint8_t parent[KZ_ID_BYTES];
        memcpy(parent, p->body.reply.parent, KZ_ID_BYTES);
        kz_record_close(p);
        return parent_check(n, pk, parent, false, p, err, errsz);
    }
    if (p->type != KZ_T_POST || p->body.post.has_edit_of) {
        snprintf(err, errsz, "%s is not an original post", s.s);
        return KZ_EINVAL;
    }
    return room_check(n, pk, p->body.post.room.p, p->body.post.room.n, err, errsz);
}

static int kz_h_reply(kz_node *n, json_t *args, json_t **result, char *err, size_t errsz)
{
    static const char *const allowed[] = {"member", "post", "text", NULL};
    uint8_t pk[KZ_KEY_BYTES], sk[KZ_SECKEY_BYTES], parent[KZ_ID_BYTES];
    const char *text;
    kz_store_member m;
    kz_record p, rec;
    int rc;
    memset(&rec, 0, sizeof rec);
    if ((rc = kz__arg_only(args, allowed, err, errsz)) != 0 ||
        (rc = kz__arg_id(args, "member", pk, err, errsz)) != 0 ||
        (rc = kz__arg_id(args, "post", parent, err, errsz)) != 0 ||
        (rc = kz__arg_str(args, "text", true, KZ_TEXT_MAX, true, &text, err, errsz)) != 0)
        return rc;
    if ((rc = parent_check(n, pk, parent, false, &p, err, errsz)) != 0) {
        kz_record_close(&p);
        return rc;
    }
    kz_record_close(&p);
    if ((rc = kz__member_key(n, pk, &m, sk, err, errsz)) != 0)
        return rc;
    kz_record_init(&rec, KZ_T_REPLY, pk, kz_node_created_ms(n, 0));
    memcpy(rec.body.reply.parent, parent, KZ_ID_BYTES);
    rec.body.reply.text = (kz_str){text, (uint32_t)strlen(text)};
    rc = kz__talk_sign_put(n, &rec, sk, "reply", "reply_id", result, err, errsz);
    sodium_memzero(sk, sizeof sk);
    sodium_memzero(&m, sizeof m);
    kz_record_close(&rec);
    return rc;
}

static int kz_h_react(kz_node *n, json_t *args, json_t **result, char *err, size_t errsz)
{
    static const char *const allowed[] = {"member", "target", "kind", "off", NULL};
    uint8_t pk[KZ_KEY_BYTES], sk[KZ_SECKEY_BYTES], target[KZ_ID_BYTES];
    const char *kind_s;
    kz_store_member m;
    kz_record p, rec, prev;
    int rc, kind;
    memset(&rec, 0, sizeof rec);
    if ((rc = kz__arg_only(args, allowed, err, errsz)) != 0 ||
        (rc = kz__arg_id(args, "member", pk, err, errsz)) != 0 ||
        (rc = kz__arg_id(args, "target", target, err, errsz)) != 0 ||
        (rc = kz__arg_str(args, "kind", true, 16, false, &kind_s, err, errsz)) != 0)
        return rc;
    if ((kind = kz__reaction_parse(kind_s)) < 0) {
        snprintf(err, errsz, "kind must be like, thanks, celebrate, insightful, support or funny");
        return KZ_EINVAL;
    }
    if ((rc = parent_check(n, pk, target, true, &p, err, errsz)) != 0) {
        kz_record_close(&p);
        return rc;
    }
    kz_record_close(&p);
    if ((rc = kz__member_key(n, pk, &m, sk, err, errsz)) != 0)
        return rc;
    kz_record_init(&rec, KZ_T_REACTION, pk, 0);
    memcpy(rec.body.reaction.target, target, KZ_ID_BYTES);
    uint64_t after = 0;
    if (kz_node_slot_load(n, &rec, &prev) == 0) {
        after = prev.created_ms;
        kz_record_close(&prev);
    }
    rec.created_ms = kz_node_created_ms(n, after);
    rec.body.reaction.kind = (uint8_t)kind;
    rec.body.reaction.off = json_is_true(json_object_get(args, "off"));
    rc = kz__talk_sign_put(n, &rec, sk, "reaction", "reaction_id", result, err, errsz);
    sodium_memzero(sk, sizeof sk);
    sodium_memzero(&m, sizeof m);
    kz_record_close(&rec);
    return rc;
}

static int kz_h_vote(kz_node *n, json_t *args, json_t **result, char *err, size_t errsz)
{
    static const char *const allowed[] = {"member", "poll", "option", NULL};
    uint8_t pk[KZ_KEY_BYTES], sk[KZ_SECKEY_BYTES], poll[KZ_ID_BYTES];
    kz_store_member m;
    kz_record p, rec, prev, latest;
    int rc;
    memset(&rec, 0, sizeof rec);
    memset(&latest, 0, sizeof latest);
    if ((rc = kz__arg_only(args, allowed, err, errsz)) != 0 ||
        (rc = kz__arg_id(args, "member", pk, err, errsz)) != 0 ||
        (rc = kz__arg_id(args, "poll", poll, err, errsz)) != 0)
        return rc;
    json_t *ov = json_object_get(args, "option");
    if (!json_is_integer(ov) || json_integer_value(ov) < 0 ||
        json_integer_value(ov) >= KZ_POLL_OPTIONS_MAX) {
        snprintf(err, errsz, "option: an option index from 0");
        return KZ_EINVAL;
    }
    int option = (int)json_integer_value(ov);
    if ((rc = parent_check(n, pk, poll, false, &p, err, errsz)) != 0) {
        kz_record_close(&p);
        return rc;
    }
    kz_idstr s = kz_id_to_str(poll);
    if (p.body.post.kind != KZ_POST_POLL) {
        snprintf(err, errsz, "%s is not a poll", s.s);
        rc = KZ_EINVAL;
    } else if ((uint32_t)option >= p.body.post.n_options) {
        snprintf(err, errsz, "poll %s has options 0 to %u", s.s, p.body.post.n_options - 1);
        rc = KZ_EINVAL;
    } else {
        kz_latest_scan ls = {p.author, &latest, false};
        rc = kz_store_iter_refs(n->store, poll, KZ_T_POST, true, latest_cb, &ls);
        if (rc == 0 && ls.found && latest.body.post.closed) {
            snprintf(err, errsz, "poll %s is closed", s.s);
            rc = KZ_EPERM;
        }
    }
    kz_record_close(&p);
    kz_record_close(&latest);
    if (rc)
        return rc;
    if ((rc = kz__member_key(n, pk, &m, sk, err, errsz)) != 0)
        return rc;
    kz_record_init(&rec, KZ_T_VOTE, pk, 0);
    memcpy(rec.body.vote.poll, poll, KZ_ID_BYTES);
    uint64_t after = 0;
    if (kz_node_slot_load(n, &rec, &prev) == 0) {
        after = prev.created_ms;
        kz_record_close(&prev);
    }
    rec.created_ms = kz_node_created_ms(n, after);
    rec.body.vote.option = (uint8_t)option;
    rc = kz__talk_sign_put(n, &rec, sk, "vote", "vote_id", result, err, errsz);
    sodium_memzero(sk, sizeof sk);
    sodium_memzero(&m, sizeof m);
    kz_record_close(&rec);
    return rc;
}

/* ---- room.create ---------------------------------------------------------------------- */

static int kz_h_room_create(kz_node *n, json_t *args, json_t **result, char *err, size_t errsz)
{
    static const char *const allowed[] = {"member", "name", "title", "description", "scope", NULL};
    uint8_t pk[KZ_KEY_BYTES];
    const char *name, *title, *desc, *scope_s;
    kz_store_member m;
    kz_record rec, prev;
    int rc, scope = KZ_SCOPE_FEDERATION;
    memset(&rec, 0, sizeof rec);
    if ((rc = kz__arg_only(args, allowed, err, errsz)) != 0 ||
        (rc = kz__arg_id(args, "member", pk, err, errsz)) != 0 ||
        (rc = kz__arg_str(args, "name", true, KZ_ROOM_TOPIC_MAX, false, &name, err, errsz)) != 0 ||
        (rc = kz__arg_str(args, "title", false, KZ_SHORT_MAX, false, &title, err, errsz)) != 0 ||
        (rc = kz__arg_str(args, "description", false, KZ_BIO_MAX, true, &desc, err, errsz)) != 0 ||
        (rc = kz__arg_str(args, "scope", false, 16, false, &scope_s, err, errsz)) != 0)
        return rc;
    if (!kz_room_topic_valid(name, strlen(name))) {
        snprintf(err, errsz, "a topic room name is 1 to %d characters of a-z, 0-9, '_' and "
                             "'-', other than 'lounge'", KZ_ROOM_TOPIC_MAX);
        return KZ_EINVAL;
    }
    if (scope_s) {
        if (strcmp(scope_s, "company") == 0)
            scope = KZ_SCOPE_COMPANY;
        else if (strcmp(scope_s, "federation") != 0) {
            snprintf(err, errsz, "scope must be federation or company");
            return KZ_EINVAL;
        }
    }
    rc = kz_store_member_get(n->store, pk, &m);
    if (rc != 0 || m.revoked || m.role != KZ_ROLE_SECRETARIAT) {
        snprintf(err, errsz, "rooms are created by a secretariat member of this node");
        sodium_memzero(&m, sizeof m);
        return KZ_EPERM;
    }
    sodium_memzero(&m, sizeof m);
    kz_record_init(&rec, KZ_T_ROOM, n->keys.node_pk, 0);
    rec.body.room.name = (kz_str){name, (uint32_t)strlen(name)};
    uint64_t after = 0;
    if (kz_node_slot_load(n, &rec, &prev) == 0) {
        after = prev.created_ms;
        kz_record_close(&prev);
    }
    rec.created_ms = kz_node_created_ms(n, after);
    if (title)
        rec.body.room.title = (kz_str){title, (uint32_t)strlen(title)};
    if (desc)
        rec.body.room.description = (kz_str){desc, (uint32_t)strlen(desc)};
    rec.body.room.scope = (uint8_t)scope;
    rc = kz__talk_sign_put(n, &rec, n->keys.node_sk, "room", "room_id", result, err, errsz);
    kz_record_close(&rec);
    return rc;
}

static const kz_control_verb kz_verbs[] = {
    {"post", kz_h_post, "sign a post (any kind), an edit or a closing as a member"},
    {"reply", kz_h_reply, "reply to a post as a member"},
    {"react", kz_h_react, "react to a post or reply (or withdraw the reaction)"},
    {"vote", kz_h_vote, "vote in a poll (a new vote replaces the member's previous one)"},
    {"report", kz__h_report, "flag a record to its author's home node (sealed)"},
    {"report.list", kz__h_report_list, "reports addressed to this node, opened"},
    {"delete", kz__h_delete, "delete one of a member's own records"},
    {"moderate.delete", kz__h_moderate_delete, "delete a record of this node's member (node key)"},
    {"room.create", kz_h_room_create, "create or update a topic room (node key)"},
};

const kz__verb_table kz__verbs_talk = {kz_verbs, KZ_ARRAY_LEN(kz_verbs)};
