/* talk_rules.c: acceptance rules for the talk room (rooms, posts, edits,
 * replies, reactions, votes, reports), applied by records.c inside the write
 * transaction to every record, local or from a peer (docs/talk.md).
 *
 * Peers deliver out of order, so a record whose referent is missing is
 * accepted and kept hidden by the readers until the referent arrives; only
 * what can be judged from the record and what is stored is refused here. */
#include "store_internal.h"

#include <string.h>

/* Decode the stored record id into out (caller closes); KZ_ENOTFOUND. */
static int load(kz_store *s, MDB_txn *txn, const uint8_t id[KZ_ID_BYTES], kz_record *out)
{
    MDB_val v;
    int rc = kz__get(txn, s->records, id, KZ_ID_BYTES, &v);
    if (rc)
        return rc;
    if (kz_record_decode(out, v.mv_data, v.mv_size, 0, KZ_DECODE_NOVERIFY) != 0)
        return KZ_ESTORE;
    return 0;
}

/* 1 when id carries any tombstone, 0 when not, or a KZ_E* code. Asked only
 * when the referent is absent: a stored referent is never deleted (a valid
 * tombstone purges it; one whose target_author does not match cannot). For
 * an absent referent the store cannot tell a genuine tombstone from one a
 * member forged before the referent arrived (docs/talk_room.md). */
static int is_tombstoned(kz_store *s, MDB_txn *txn, const uint8_t id[KZ_ID_BYTES])
{
    MDB_val v;
    int rc = kz__get(txn, s->tombstones, id, KZ_ID_BYTES, &v);
    if (rc == KZ_ENOTFOUND)
        return 0;
    return rc ? rc : 1;
}

/* Does node hold a live attestation of member? 1 yes, 0 no, or KZ_E*. */
static int attested_by(kz_store *s, MDB_txn *txn, const uint8_t member[KZ_KEY_BYTES],
                       const uint8_t node[KZ_KEY_BYTES])
{
    uint8_t k[KZ__MEMB_KEY];
    MDB_val v;
    memcpy(k, member, KZ_KEY_BYTES);
    memcpy(k + KZ_KEY_BYTES, node, KZ_KEY_BYTES);
    int rc = kz__get(txn, s->membership, k, sizeof k, &v);
    if (rc == KZ_ENOTFOUND)
        return 0;
    if (rc)
        return rc;
    if (v.mv_size != KZ__MEMB_VAL)
        return 0;
    return ((const uint8_t *)v.mv_data)[KZ__MEMB_VAL - 1] == KZ_T_ATTEST ? 1 : 0;
}

/* Is there a live `node` record for key? 1, 0 or KZ_E*. */
static int is_node(kz_store *s, MDB_txn *txn, const uint8_t key[KZ_KEY_BYTES])
{
    uint8_t slot[KZ_SLOT_BYTES] = {'N'};
    MDB_val v;
    memcpy(slot + 1, key, KZ_KEY_BYTES);
    int rc = kz__get(txn, s->heads, slot, sizeof slot, &v);
    if (rc == KZ_ENOTFOUND)
        return 0;
    if (rc)
        return rc;
    return v.mv_size == KZ__HEAD_VAL ? 1 : 0; /* a longer value marks a deleted head */
}

/* Role of member from its home attestation; KZ_ENOATTEST without one. */
static int role_of(kz_store *s, MDB_txn *txn, const uint8_t member[KZ_KEY_BYTES], int *role)
{
    kz__home h;
    kz_record a = {0};
    int rc = kz__home_find(s, txn, member, &h);
    if (rc)
        return rc;
    if (!h.found)
        return KZ_ENOATTEST;
    rc = load(s, txn, h.attest_id, &a);
    if (rc)
        return rc == KZ_ENOTFOUND ? KZ_ENOATTEST : rc;
    *role = a.type == KZ_T_ATTEST ? a.body.attest.role : -1;
    kz_record_close(&a);
    return 0;
}

/* May author write into room? Company rooms only for members attested by
 * that company's node. Topic rooms need no room record yet (it may arrive
 * later; readers hide the room until it does), but a company-scope topic
 * room that is known admits only the creating node's members. */
static int room_rule(kz_store *s, MDB_txn *txn, const kz_str *room, const uint8_t author[KZ_KEY_BYTES])
{
    uint8_t node[KZ_KEY_BYTES];
    int rc;
    if (!kz_room_name_valid(room->p, room->n))
        return KZ_EINVAL;
    if (kz_room_company_node(room->p, room->n, node)) {
        rc = attested_by(s, txn, author, node);
        return rc == 1 ? 0 : rc == 0 ? KZ_EPERM : rc;
    }
    if (!kz_room_topic_valid(room->p, room->n))
        return 0; /* the lounge */
    /* Every node's room record of this name; any company-scope one binds. */
    MDB_cursor *c;
    MDB_val k, v;
    uint8_t prefix = KZ_T_ROOM;
    int out = 0;
    if ((rc = mdb_cursor_open(txn, s->by_type, &c)) != 0)
        return kz__err(rc);
    k.mv_size = 1;
    k.mv_data = &prefix;
    for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0 && out == 0;
         rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        if (k.mv_size != KZ__TYPE_KEY || ((const uint8_t *)k.mv_data)[0] != KZ_T_ROOM)
            break;
        kz_record rr = {0};
        if ((out = load(s, txn, (const uint8_t *)k.mv_data + 9, &rr)) != 0)
            break;
        if (rr.body.room.name.n == room->n && memcmp(rr.body.room.name.p, room->p, room->n) == 0 &&
            rr.body.room.scope == KZ_SCOPE_COMPANY) {
            int a = attested_by(s, txn, author, rr.author);
            out = a == 1 ? 0 : a == 0 ? KZ_EPERM : a;
        }
        kz_record_close(&rr);
    }
    mdb_cursor_close(c);
    if (out)
        return out;
    return (rc == 0 || rc == MDB_NOTFOUND) ? 0 : kz__err(rc);
}

/* An edit must come from the original's author, for a record of the same
 * type; a post edit keeps its room and kind. A missing original is fine
 * (readers show an edit only under its original). */
static int edit_rule(kz_store *s, MDB_txn *txn, const kz_record *r, const uint8_t orig_id[KZ_ID_BYTES])
{
    kz_record o = {0};
    int rc = load(s, txn, orig_id, &o);
    if (rc == KZ_ENOTFOUND) {
        rc = is_tombstoned(s, txn, orig_id);
        return rc == 1 ? KZ_EDELETED : rc;
    }
    if (rc)
        return rc;
    if (o.type != r->type)
        rc = KZ_EINVAL;
    else if (memcmp(o.author, r->author, KZ_KEY_BYTES) != 0)
        rc = KZ_EPERM;
    else if (r->type == KZ_T_POST &&
             (o.body.post.has_edit_of || o.body.post.kind != r->body.post.kind ||
              o.body.post.room.n != r->body.post.room.n ||
              memcmp(o.body.post.room.p, r->body.post.room.p, o.body.post.room.n) != 0))
        rc = KZ_EINVAL; /* edits chain to the original, never to another edit */
    else if (r->type == KZ_T_REPLY &&
             (o.body.reply.has_edit_of ||
              memcmp(o.body.reply.parent, r->body.reply.parent, KZ_ID_BYTES) != 0))
        rc = KZ_EINVAL;
    kz_record_close(&o);
    return rc;
}

static int post_rule(kz_store *s, MDB_txn *txn, const kz_record *r)
{
    const kz_body_post *p = &r->body.post;
    int rc = room_rule(s, txn, &p->room, r->author);
    if (rc)
        return rc;
    if (p->kind == KZ_POST_ARTICLE) {
        int role = -1;
        if ((rc = role_of(s, txn, r->author, &role)) != 0)
            return rc;
        if (role != KZ_ROLE_SECRETARIAT)
            return KZ_EPERM;
    }
    if (p->closed && p->kind != KZ_POST_REQUEST && p->kind != KZ_POST_POLL)
        return KZ_EINVAL;
    if (p->has_edit_of)
        return edit_rule(s, txn, r, p->edit_of);
    if (p->closed)
        return KZ_EINVAL; /* a post is opened first and closed by an edit */
    return 0;
}

/* Parents of replies (and targets of reactions and votes) that are stored
 * must be of the right kind and visible to the author; deleted ones refuse. */
static int parent_rule(kz_store *s, MDB_txn *txn, const kz_record *r,
                       const uint8_t id[KZ_ID_BYTES], kz_record *out, bool *found)
{
    int rc = load(s, txn, id, out);
    *found = false;
    if (rc == KZ_ENOTFOUND) {
        rc = is_tombstoned(s, txn, id);
        return rc == 1 ? KZ_EDELETED : rc;
    }
    if (rc)
        return rc;
    *found = true;
    if (out->type == KZ_T_POST)
        return room_rule(s, txn, &out->body.post.room, r->author);
    return 0;
}

static int reply_rule(kz_store *s, MDB_txn *txn, const kz_record *r)
{
    kz_record p = {0};
    bool found;
    int rc = parent_rule(s, txn, r, r->body.reply.parent, &p, &found);
    if (rc == 0 && found && (p.type != KZ_T_POST || p.body.post.has_edit_of))
        rc = KZ_EINVAL; /* replies are one level deep, under an original post */
    kz_record_close(&p);
    if (rc == 0 && r->body.reply.has_edit_of)
        rc = edit_rule(s, txn, r, r->body.reply.edit_of);
    return rc;
}

static int reaction_rule(kz_store *s, MDB_txn *txn, const kz_record *r)
{
    kz_record t = {0};
    bool found;
    int rc = parent_rule(s, txn, r, r->body.reaction.target, &t, &found);
    if (rc == 0 && found && t.type != KZ_T_POST && t.type != KZ_T_REPLY && t.type != KZ_T_EVENT)
        rc = KZ_EINVAL;
    kz_record_close(&t);
    return rc;
}

/* Closing time of a poll or request: the earliest stored closing edit by
 * its author, or UINT64_MAX. */
static int poll_closed_ms(kz_store *s, MDB_txn *txn, const kz_record *poll, uint64_t *closed_ms)
{
    /* refs key: target(32) || type(1) || created(8) || id(32) */
    uint8_t prefix[KZ_ID_BYTES + 1];
    MDB_cursor *c;
    MDB_val k, v;
    int rc;
    memcpy(prefix, poll->id, KZ_ID_BYTES);
    prefix[KZ_ID_BYTES] = KZ_T_POST;
    *closed_ms = UINT64_MAX;
    if ((rc = mdb_cursor_open(txn, s->refs, &c)) != 0)
        return kz__err(rc);
    k.mv_size = sizeof prefix;
    k.mv_data = prefix;
    int out = 0;
    for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        if (k.mv_size < sizeof prefix + 8 + KZ_ID_BYTES ||
            memcmp(k.mv_data, prefix, sizeof prefix) != 0)
            break;
        kz_record e = {0};
        const uint8_t *tail = (const uint8_t *)k.mv_data + sizeof prefix;
        if ((out = load(s, txn, tail + 8, &e)) != 0)
            break;
        bool closes = e.type == KZ_T_POST && e.body.post.closed &&
                      memcmp(e.author, poll->author, KZ_KEY_BYTES) == 0;
        kz_record_close(&e);
        if (closes) {
            *closed_ms = kz__be64_get(tail); /* ascending: the first is the earliest */
            break;
        }
    }
    mdb_cursor_close(c);
    if (out)
        return out == KZ_ENOTFOUND ? KZ_ESTORE : out;
    return (rc == 0 || rc == MDB_NOTFOUND) ? 0 : kz__err(rc);
}

static int vote_rule(kz_store *s, MDB_txn *txn, const kz_record *r)
{
    kz_record p = {0};
    bool found;
    uint64_t closed_ms;
    int rc = parent_rule(s, txn, r, r->body.vote.poll, &p, &found);
    if (rc == 0 && found) {
        if (p.type != KZ_T_POST || p.body.post.kind != KZ_POST_POLL || p.body.post.has_edit_of)
            rc = KZ_EINVAL;
        else if (r->body.vote.option >= p.body.post.n_options)
            rc = KZ_EINVAL;
        else if ((rc = poll_closed_ms(s, txn, &p, &closed_ms)) == 0 && r->created_ms >= closed_ms)
            rc = KZ_EPERM;
    }
    kz_record_close(&p);
    return rc;
}

static int report_rule(kz_store *s, MDB_txn *txn, const kz_record *r)
{
    int rc = is_node(s, txn, r->body.report.to);
    return rc == 1 ? 0 : rc == 0 ? KZ_EPERM : rc;
}

/* Topic rooms are created by a node (its secretariat acts through the node
 * key), like attestations. */
static int room_record_rule(kz_store *s, MDB_txn *txn, const kz_record *r)
{
    int rc = is_node(s, txn, r->author);
    return rc == 1 ? 0 : rc == 0 ? KZ_EPERM : rc;
}

int kz__talk_rules_accept(kz_store *s, MDB_txn *txn, const kz_record *r)
{
    switch (r->type) {
    case KZ_T_POST:
        return post_rule(s, txn, r);
    case KZ_T_REPLY:
        return reply_rule(s, txn, r);
    case KZ_T_REACTION:
        return reaction_rule(s, txn, r);
    case KZ_T_VOTE:
        return vote_rule(s, txn, r);
    case KZ_T_REPORT:
        return report_rule(s, txn, r);
    case KZ_T_ROOM:
        return room_record_rule(s, txn, r);
    default:
        return 0;
    }
}
