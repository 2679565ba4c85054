/* handlers_events.c: control verbs for events and RSVPs: event.create,
 * event.list, event.show, rsvp (docs/talk.md). */
#include "talk_internal.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static kz_str kz_s(const char *s)
{
    return s && s[0] ? (kz_str){s, (uint32_t)strlen(s)} : (kz_str){NULL, 0};
}

/* ---- event.create ------------------------------------------------------------ */

static int kz_h_event_create(kz_node *n, json_t *args, json_t **result, char *err, size_t errsz)
{
    static const char *const allowed[] = {"member", "room", "title", "start", "end", "tz",
                                          "place", "link", "capacity", "description", NULL};
    const char *room, *title, *start_s, *end_s, *tz, *place, *link, *desc;
    uint8_t pk[KZ_KEY_BYTES], sk[KZ_SECKEY_BYTES];
    uint64_t start = 0, end = 0;
    json_int_t cap = 0;
    kz_store_member m;
    kz_record rec;
    int rc;
    memset(&rec, 0, sizeof rec);
    if ((rc = kz__arg_only(args, allowed, err, errsz)) != 0 ||
        (rc = kz__arg_id(args, "member", pk, err, errsz)) != 0 ||
        (rc = kz__arg_str(args, "room", true, KZ_SHORT_MAX, false, &room, err, errsz)) != 0 ||
        (rc = kz__arg_str(args, "title", true, KZ_SHORT_MAX, false, &title, err, errsz)) != 0 ||
        (rc = kz__arg_str(args, "start", true, 32, false, &start_s, err, errsz)) != 0 ||
        (rc = kz__arg_str(args, "end", false, 32, false, &end_s, err, errsz)) != 0 ||
        (rc = kz__arg_str(args, "tz", false, KZ_SHORT_MAX, false, &tz, err, errsz)) != 0 ||
        (rc = kz__arg_str(args, "place", false, KZ_SHORT_MAX, false, &place, err, errsz)) != 0 ||
        (rc = kz__arg_str(args, "link", false, KZ_URL_MAX, false, &link, err, errsz)) != 0 ||
        (rc = kz__arg_str(args, "description", false, KZ_TEXT_MAX, true, &desc, err, errsz)) != 0)
        return rc;
    json_t *cv = json_object_get(args, "capacity");
    if (cv && !json_is_null(cv)) {
        if (!json_is_integer(cv) || (cap = json_integer_value(cv)) < 0 || cap > 1000000) {
            snprintf(err, errsz, "capacity must be an integer 0..1000000 (0 = unlimited)");
            return KZ_EINVAL;
        }
    }
    if (!tz || !tz[0])
        tz = KZ_TZ_DEFAULT;
    if ((rc = kz_event_time_parse(start_s, tz, &start, err, errsz)) != 0)
        return rc;
    if (end_s && end_s[0]) {
        if ((rc = kz_event_time_parse(end_s, tz, &end, err, errsz)) != 0)
            return rc;
        if (end <= start) {
            snprintf(err, errsz, "the end (%s) is not after the start (%s)", end_s, start_s);
            return KZ_EINVAL;
        }
    }
    uint64_t now = kz_now_ms();
    if (start <= now) {
        snprintf(err, errsz, "the start (%s %s) is in the past", start_s, tz);
        return KZ_EINVAL;
    }
    if (!kz_room_name_valid(room, strlen(room))) {
        snprintf(err, errsz, "room must be lounge, company:NODE_ID or a topic name of [a-z0-9_-]");
        return KZ_EINVAL;
    }
    if ((rc = kz__member_key(n, pk, &m, sk, err, errsz)) != 0)
        return rc;
    if (m.role != KZ_ROLE_SECRETARIAT && strcmp(room, KZ_EVENT_LOUNGE) != 0) {
        snprintf(err, errsz, "only the secretariat may create events outside the %s room",
                 KZ_EVENT_LOUNGE);
        rc = KZ_EPERM;
        goto out;
    }
    kz_record_init(&rec, KZ_T_EVENT, pk, kz_node_created_ms(n, 0));
    kz_body_event *e = &rec.body.event;
    e->room = kz_s(room);
    e->title = kz_s(title);
    e->description = kz_s(desc);
    e->start_ms = start;
    e->end_ms = end;
    /* The default zone is implied by an absent field (kz_record.h). */
    e->tz = strcmp(tz, KZ_TZ_DEFAULT) == 0 ? (kz_str){NULL, 0} : kz_s(tz);
    e->place = kz_s(place);
    e->link = kz_s(link);
    e->capacity = (uint32_t)cap;
    if ((rc = kz_record_sign(&rec, sk)) != 0) {
        snprintf(err, errsz, "invalid event: %s", kz_record_last_error());
        goto out;
    }
    if ((rc = kz_node_put(n, &rec, KZ_SRC_LOCAL, NULL)) != 0) {
        snprintf(err, errsz, "cannot store the event: %s", kz__refusal(rc));
        goto out;
    }
    *result = json_pack("{s:o}", "event_id", kz_json_hex(rec.id, KZ_ID_BYTES));
out:
    sodium_memzero(sk, sizeof sk);
    sodium_memzero(&m, sizeof m);
    kz_record_close(&rec);
    return rc;
}

/* ---- Views ------------------------------------------------------------------- */

/* Events in another company's room are for that company's members: this
 * node shows only its own company's room besides the shared ones. */
static bool kz_event_visible(kz_node *n, const kz_record *e)
{
    uint8_t node[KZ_KEY_BYTES];
    if (!kz_room_company_node(e->body.event.room.p, e->body.event.room.n, node))
        return true;
    return memcmp(node, n->keys.node_pk, KZ_KEY_BYTES) == 0;
}

static void kz_tzname(const kz_record *e, char *out, size_t outsz)
{
    const kz_str *tz = &e->body.event.tz;
    if (tz->n == 0 || tz->n >= outsz)
        snprintf(out, outsz, "%s", KZ_TZ_DEFAULT);
    else
        snprintf(out, outsz, "%.*s", (int)tz->n, tz->p);
}

/* Summary of an event: fields, times in its zone, counts. New reference. */
static json_t *kz_event_json(const kz_record *e, const uint64_t counts[5])
{
    const kz_body_event *b = &e->body.event;
    char tz[KZ_SHORT_MAX + 1], start[32], end[32], ts[KZ_TIME_STR_MAX];
    kz_tzname(e, tz, sizeof tz);
    kz_event_time_format(start, sizeof start, b->start_ms, tz);
    kz_time_format(ts, b->start_ms);
    json_t *o = json_pack("{s:o, s:o, s:o, s:o, s:s, s:s, s:I, s:s, s:o, s:o, s:o, s:I}",
                          "event_id", kz_json_hex(e->id, KZ_ID_BYTES),
                          "organiser", kz_json_hex(e->author, KZ_KEY_BYTES),
                          "room", kz_json_kzstr(b->room), "title", kz_json_kzstr(b->title),
                          "start", start, "start_utc", ts, "start_ms", (json_int_t)b->start_ms,
                          "tz", tz, "place", kz_json_kzstr(b->place),
                          "link", kz_json_kzstr(b->link),
                          "description", kz_json_kzstr(b->description),
                          "capacity", (json_int_t)b->capacity);
    if (b->end_ms) {
        kz_event_time_format(end, sizeof end, b->end_ms, tz);
        json_object_set_new(o, "end", json_string(end));
    } else {
        json_object_set_new(o, "end", json_null());
    }
    json_object_set_new(o, "going", json_integer((json_int_t)(counts[KZ_ATTEND_CONFIRMED] +
                                                              counts[KZ_ATTEND_WAITLIST])));
    json_object_set_new(o, "confirmed", json_integer((json_int_t)counts[KZ_ATTEND_CONFIRMED]));
    json_object_set_new(o, "waitlisted", json_integer((json_int_t)counts[KZ_ATTEND_WAITLIST]));
    json_object_set_new(o, "maybe", json_integer((json_int_t)counts[KZ_ATTEND_MAYBE]));
    json_object_set_new(o, "not_going", json_integer((json_int_t)counts[KZ_ATTEND_NO]));
    return o;
}

static int kz_h_event_list(kz_node *n, json_t *args, json_t **result, char *err, size_t errsz)
{
    static const char *const allowed[] = {"room", NULL};
    const char *room;
    kz__recvec ev = {0}, rs = {0};
    int rc;
    if ((rc = kz__arg_only(args, allowed, err, errsz)) != 0 ||
        (rc = kz__arg_str(args, "room", false, KZ_SHORT_MAX, false, &room, err, errsz)) != 0)
        return rc;
    if ((rc = kz__talk_collect(n, KZ_T_EVENT, 0, &ev)) != 0 ||
        (rc = kz__talk_collect(n, KZ_T_RSVP, 0, &rs)) != 0) {
        snprintf(err, errsz, "cannot read events: %s", kz_strerror(rc));
        goto out;
    }
    json_t *list = json_array();
    for (size_t i = 0; i < ev.n; i++) {
        const kz_record *e = &ev.items[i];
        if (!kz_event_visible(n, e))
            continue;
        if (room && (e->body.event.room.n != strlen(room) ||
                     memcmp(e->body.event.room.p, room, strlen(room)) != 0))
            continue;
        kz_attend *v;
        size_t k;
        uint64_t counts[5];
        kz__event_attendance(e, &rs, &v, &k, counts);
        free(v);
        json_array_append_new(list, kz_event_json(e, counts));
    }
    *result = json_pack("{s:o}", "events", list);
out:
    kz__recvec_free(&ev);
    kz__recvec_free(&rs);
    return rc;
}

static int kz_load_event(kz_node *n, const uint8_t id[KZ_ID_BYTES], kz_record *e, char *err,
                         size_t errsz)
{
    kz_idstr s = kz_id_to_str(id);
    int rc = kz_node_record_load(n, id, true, e);
    if (rc == KZ_ENOTFOUND) {
        snprintf(err, errsz, "no event %s in this node's store", s.s);
        return rc;
    }
    if (rc != 0) {
        snprintf(err, errsz, "cannot read event %s: %s", s.s, kz_strerror(rc));
        return rc;
    }
    if (e->type != KZ_T_EVENT) {
        kz_record_close(e);
        snprintf(err, errsz, "record %s is not an event", s.s);
        return KZ_EINVAL;
    }
    return 0;
}

static int kz_h_event_show(kz_node *n, json_t *args, json_t **result, char *err, size_t errsz)
{
    static const char *const allowed[] = {"id", "as", NULL};
    uint8_t id[KZ_ID_BYTES], as[KZ_KEY_BYTES];
    bool organiser = false;
    kz__recvec rs = {0};
    kz_record e;
    int rc;
    if ((rc = kz__arg_only(args, allowed, err, errsz)) != 0 ||
        (rc = kz__arg_id(args, "id", id, err, errsz)) != 0)
        return rc;
    if (json_object_get(args, "as") && !json_is_null(json_object_get(args, "as")) &&
        (rc = kz__arg_id(args, "as", as, err, errsz)) != 0)
        return rc;
    if ((rc = kz_load_event(n, id, &e, err, errsz)) != 0)
        return rc;
    if (!kz_event_visible(n, &e)) {
        kz_idstr s = kz_id_to_str(id);
        snprintf(err, errsz, "event %s is in another company's room", s.s);
        rc = KZ_EPERM;
        goto out;
    }
    if (json_object_get(args, "as") && !json_is_null(json_object_get(args, "as"))) {
        kz_store_member m;
        /* The attendee list is for the organiser, and only the organiser's
         * home node (which holds their key) can vouch that they asked. */
        if (memcmp(as, e.author, KZ_KEY_BYTES) != 0 ||
            kz_store_member_get(n->store, as, &m) != 0 || m.revoked) {
            snprintf(err, errsz, "the attendee list is shown only to the organiser, on their home node");
            rc = KZ_EPERM;
            goto out;
        }
        organiser = true;
    }
    if ((rc = kz__talk_refs(n, id, KZ_T_RSVP, &rs)) != 0) {
        snprintf(err, errsz, "cannot read RSVPs: %s", kz_strerror(rc));
        goto out;
    }
    kz_attend *v;
    size_t k;
    uint64_t counts[5];
    kz__event_attendance(&e, &rs, &v, &k, counts);
    json_t *o = kz_event_json(&e, counts);
    /* A digest of the decided places (RSVP ids in seat order, each with its
     * place) lets anyone check that two nodes agree on the list without
     * seeing who is on it. */
    uint8_t dg[crypto_generichash_BYTES];
    crypto_generichash_state hs;
    crypto_generichash_init(&hs, NULL, 0, sizeof dg);
    for (size_t i = 0; i < k; i++) {
        crypto_generichash_update(&hs, v[i].id, KZ_ID_BYTES);
        crypto_generichash_update(&hs, &v[i].place, 1);
    }
    crypto_generichash_final(&hs, dg, sizeof dg);
    json_object_set_new(o, "places_digest", kz_json_hex(dg, sizeof dg));
    if (organiser) {
        json_t *list = json_array();
        for (size_t i = 0; i < k; i++) {
            char t[KZ_TIME_STR_MAX];
            kz_time_format(t, v[i].created_ms);
            json_array_append_new(list, json_pack("{s:o, s:o, s:s, s:s, s:s}",
                                                  "member_id", kz_json_hex(v[i].author, KZ_KEY_BYTES),
                                                  "name", kz__talk_name(n, v[i].author),
                                                  "rsvp", kz_rsvp_status_name(v[i].status),
                                                  "place", kz_attend_place_name(v[i].place),
                                                  "answered", t));
        }
        json_object_set_new(o, "attendees", list);
    }
    free(v);
    *result = o;
out:
    kz__recvec_free(&rs);
    kz_record_close(&e);
    return rc;
}

/* ---- rsvp ---------------------------------------------------------------------- */

static int kz_h_rsvp(kz_node *n, json_t *args, json_t **result, char *err, size_t errsz)
{
    static const char *const allowed[] = {"member", "event", "status", NULL};
    uint8_t pk[KZ_KEY_BYTES], sk[KZ_SECKEY_BYTES], eid[KZ_ID_BYTES];
    const char *status_s;
    kz_store_member m;
    kz_record e, rec, like, prev;
    int status, rc;
    memset(&rec, 0, sizeof rec);
    if ((rc = kz__arg_only(args, allowed, err, errsz)) != 0 ||
        (rc = kz__arg_id(args, "member", pk, err, errsz)) != 0 ||
        (rc = kz__arg_id(args, "event", eid, err, errsz)) != 0 ||
        (rc = kz__arg_str(args, "status", true, 16, false, &status_s, err, errsz)) != 0)
        return rc;
    if ((status = kz_rsvp_status_parse(status_s)) < 0) {
        snprintf(err, errsz, "status must be going, maybe or no");
        return KZ_EINVAL;
    }
    if ((rc = kz_load_event(n, eid, &e, err, errsz)) != 0)
        return rc;
    if (!kz_event_visible(n, &e)) {
        kz_record_close(&e);
        snprintf(err, errsz, "the event is in another company's room");
        return KZ_EPERM;
    }
    uint64_t start = e.body.event.start_ms;
    kz_record_close(&e);
    /* A changed answer replaces the previous one in its slot. */
    uint64_t after = 0;
    kz_record_init(&like, KZ_T_RSVP, pk, 0);
    memcpy(like.body.rsvp.event, eid, KZ_ID_BYTES);
    if (kz_node_slot_load(n, &like, &prev) == 0) {
        after = prev.created_ms;
        kz_record_close(&prev);
    }
    uint64_t created = kz_node_created_ms(n, after);
    if (created >= start) {
        snprintf(err, errsz, "the event has started: RSVPs are closed");
        return KZ_EPERM;
    }
    if ((rc = kz__member_key(n, pk, &m, sk, err, errsz)) != 0)
        return rc;
    kz_record_init(&rec, KZ_T_RSVP, pk, created);
    memcpy(rec.body.rsvp.event, eid, KZ_ID_BYTES);
    rec.body.rsvp.status = (uint8_t)status;
    if ((rc = kz_record_sign(&rec, sk)) != 0) {
        snprintf(err, errsz, "invalid RSVP: %s", kz_record_last_error());
        goto out;
    }
    if ((rc = kz_node_put(n, &rec, KZ_SRC_LOCAL, NULL)) != 0) {
        snprintf(err, errsz, "cannot store the RSVP: %s", kz__refusal(rc));
        goto out;
    }
    *result = json_pack("{s:o}", "rsvp_id", kz_json_hex(rec.id, KZ_ID_BYTES));
out:
    sodium_memzero(sk, sizeof sk);
    sodium_memzero(&m, sizeof m);
    kz_record_close(&rec);
    return rc;
}

static const kz_control_verb kz_verbs[] = {
    {"event.create", kz_h_event_create,
     "sign an event by args.member: room, title, start, end, tz, place, link, capacity, description"},
    {"event.list", kz_h_event_list, "events in the store (args.room filters), with RSVP counts"},
    {"event.show", kz_h_event_show,
     "event args.id with counts; the attendee list when args.as is its organiser held here"},
    {"rsvp", kz_h_rsvp, "answer event args.event as args.member: args.status going|maybe|no"},
};

const kz__verb_table kz__verbs_events = {kz_verbs, KZ_ARRAY_LEN(kz_verbs)};
