/* event_rules.c: acceptance rules for events, RSVPs and private contact,
 * applied by records.c inside the write transaction (docs/talk.md). */
#include "store_internal.h"

#include <string.h>

#define KZ__LOUNGE "lounge"

/* Decode the stored record id into out (caller closes); KZ_ENOTFOUND. */
static int kz_load(kz_store *s, MDB_txn *txn, const uint8_t id[KZ_ID_BYTES], kz_record *out)
{
    MDB_val v;
    int rc = kz__get(txn, s->records, id, KZ_ID_BYTES, &v);
    if (rc)
        return rc;
    if (kz_record_decode(out, v.mv_data, v.mv_size, 0, KZ_DECODE_NOVERIFY) != 0)
        return KZ_ESTORE;
    return 0;
}

/* A company's room is for that company: 0 when room is not a company room
 * or author has a live attestation from its node, else KZ_EPERM. */
static int kz_company_room_rule(kz_store *s, MDB_txn *txn, const kz_str *room,
                                const uint8_t author[KZ_KEY_BYTES])
{
    uint8_t node[KZ_KEY_BYTES], mk[KZ__MEMB_KEY];
    MDB_val v;
    if (!kz_room_company_node(room->p, room->n, node))
        return 0;
    memcpy(mk, author, KZ_KEY_BYTES);
    memcpy(mk + KZ_KEY_BYTES, node, KZ_KEY_BYTES);
    int rc = kz__get(txn, s->membership, mk, sizeof mk, &v);
    if (rc == KZ_ENOTFOUND)
        return KZ_EPERM;
    if (rc)
        return rc;
    if (v.mv_size != KZ__MEMB_VAL || ((const uint8_t *)v.mv_data)[KZ__MEMB_VAL - 1] != KZ_T_ATTEST)
        return KZ_EPERM;
    return 0;
}

/* Events: the room name must be valid; a company room takes events only
 * from members attested by that company's node; the secretariat (role from
 * the author's live attestation) may create events in any other room, other
 * members only in the lounge. */
static int kz_event_rule(kz_store *s, MDB_txn *txn, const kz_record *r)
{
    const kz_body_event *e = &r->body.event;
    if (!kz_room_name_valid(e->room.p, e->room.n))
        return KZ_EINVAL;
    if (e->room.n == strlen(KZ__LOUNGE) && memcmp(e->room.p, KZ__LOUNGE, e->room.n) == 0)
        return 0;
    int crc = kz_company_room_rule(s, txn, &e->room, r->author);
    if (crc)
        return crc;
    kz__home h;
    kz_record a = {0};
    int rc = kz__home_find(s, txn, r->author, &h);
    if (rc)
        return rc;
    if (!h.found)
        return KZ_ENOATTEST;
    rc = kz_load(s, txn, h.attest_id, &a);
    if (rc)
        return rc == KZ_ENOTFOUND ? KZ_ENOATTEST : rc;
    rc = (a.type == KZ_T_ATTEST && a.body.attest.role == KZ_ROLE_SECRETARIAT) ? 0 : KZ_EPERM;
    kz_record_close(&a);
    return rc;
}

/* RSVPs: the target, when stored, must be an event, the RSVP must be
 * created before the event starts, and an event in a company room takes
 * answers only from that company's members. An RSVP that arrives before its event is
 * accepted; attendee lists ignore late RSVPs anyway, so every node shows
 * the same list whichever order records arrive in. */
static int kz_rsvp_rule(kz_store *s, MDB_txn *txn, const kz_record *r)
{
    kz_record e = {0};
    int rc = kz_load(s, txn, r->body.rsvp.event, &e);
    if (rc == KZ_ENOTFOUND)
        return 0;
    if (rc)
        return rc;
    if (e.type != KZ_T_EVENT)
        rc = KZ_EINVAL;
    else if (r->created_ms >= e.body.event.start_ms)
        rc = KZ_EPERM;
    else
        rc = kz_company_room_rule(s, txn, &e.body.event.room, r->author);
    kz_record_close(&e);
    return rc;
}

/* Contact: the recipient must be a member with a live attestation. */
static int kz_contact_rule(kz_store *s, MDB_txn *txn, const kz_record *r)
{
    kz__home h;
    if (memcmp(r->body.contact.to, r->author, KZ_KEY_BYTES) == 0)
        return KZ_EINVAL;
    int rc = kz__home_find(s, txn, r->body.contact.to, &h);
    if (rc)
        return rc;
    return h.found ? 0 : KZ_ENOATTEST;
}

/* Event reports: a post's event link, when the target is stored, must point
 * at an event (a link that arrives before its event is kept, as for RSVPs). */
static int kz_post_event_rule(kz_store *s, MDB_txn *txn, const kz_record *r)
{
    kz_record e = {0};
    if (!r->body.post.has_event)
        return 0;
    int rc = kz_load(s, txn, r->body.post.event, &e);
    if (rc == KZ_ENOTFOUND)
        return 0;
    if (rc)
        return rc;
    rc = e.type == KZ_T_EVENT ? 0 : KZ_EINVAL;
    kz_record_close(&e);
    return rc;
}

int kz__event_rules_accept(kz_store *s, MDB_txn *txn, const kz_record *r)
{
    switch (r->type) {
    case KZ_T_POST:
        return kz_post_event_rule(s, txn, r);
    case KZ_T_EVENT:
        return kz_event_rule(s, txn, r);
    case KZ_T_RSVP:
        return kz_rsvp_rule(s, txn, r);
    case KZ_T_CONTACT:
        return kz_contact_rule(s, txn, r);
    default:
        return 0;
    }
}
