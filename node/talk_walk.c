/* talk_walk.c: walking the type index for the event, contact, inbox and
 * metrics verbs, and the small lookups they share. */
#include "talk_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    kz__recvec *v;
    uint64_t since;
} kz_collect;

/* Runs inside the store's read transaction: decode and copy, nothing else. */
static int kz_collect_cb(void *ud, const uint8_t id[KZ_ID_BYTES], uint64_t created_ms,
                         const uint8_t *raw, size_t len)
{
    kz_collect *c = ud;
    (void)id;
    if (created_ms < c->since)
        return 1; /* newest first: everything after this is older */
    if (c->v->n == c->v->cap) {
        c->v->cap = c->v->cap ? 2 * c->v->cap : 64;
        c->v->items = kz_xrealloc(c->v->items, c->v->cap * sizeof *c->v->items);
    }
    kz_record *r = &c->v->items[c->v->n];
    if (kz_record_decode(r, raw, len, 0, KZ_DECODE_NOVERIFY) != 0)
        return 0; /* stored records always decode; skip rather than fail a view */
    c->v->n++;
    return 0;
}

/* Drop records whose author is a blocked node or one of its members. Runs
 * after the walk, outside the store's read transaction. */
static void kz_drop_blocked(kz_node *n, kz__recvec *v, size_t from)
{
    size_t keep = from;
    for (size_t i = from; i < v->n; i++) {
        if (kz_store_author_blocked(n->store, v->items[i].author)) {
            kz_record_close(&v->items[i]);
            continue;
        }
        if (keep != i)
            v->items[keep] = v->items[i];
        keep++;
    }
    v->n = keep;
}

int kz__talk_collect(kz_node *n, int type, uint64_t since_ms, kz__recvec *v)
{
    kz_collect c = {v, since_ms};
    size_t from = v->n;
    int rc = kz_store_iter_type(n->store, type, kz_collect_cb, &c);
    kz_drop_blocked(n, v, from);
    return rc < 0 ? rc : 0;
}

int kz__talk_refs(kz_node *n, const uint8_t target[KZ_ID_BYTES], int type, kz__recvec *v)
{
    kz_collect c = {v, 0};
    size_t from = v->n;
    int rc = kz_store_iter_refs(n->store, target, type, true, kz_collect_cb, &c);
    kz_drop_blocked(n, v, from);
    return rc < 0 ? rc : 0;
}

void kz__recvec_free(kz__recvec *v)
{
    for (size_t i = 0; i < v->n; i++)
        kz_record_close(&v->items[i]);
    free(v->items);
    memset(v, 0, sizeof *v);
}

bool kz__talk_home(kz_node *n, const uint8_t member[KZ_KEY_BYTES], uint8_t node[KZ_KEY_BYTES])
{
    uint8_t aid[KZ_ID_BYTES];
    return kz_store_member_home(n->store, member, node, aid) == 0;
}

json_t *kz__talk_name(kz_node *n, const uint8_t member[KZ_KEY_BYTES])
{
    kz_record like, prof;
    kz_record_init(&like, KZ_T_PROFILE, member, 0);
    if (kz_node_slot_load(n, &like, &prof) != 0)
        return json_string("");
    json_t *s = kz_json_kzstr(prof.body.profile.name);
    kz_record_close(&prof);
    return s;
}

int kz__arg_since(json_t *args, uint64_t *ms, char *err, size_t errsz)
{
    const char *s;
    int rc = kz__arg_str(args, "since", false, 32, false, &s, err, errsz);
    *ms = 0;
    if (rc != 0 || !s)
        return rc;
    if (kz_date_parse(s, ms) != 0) {
        snprintf(err, errsz, "since must be YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ, not '%s'", s);
        return KZ_EINVAL;
    }
    return 0;
}

void kz__event_attendance(const kz_record *event, const kz__recvec *rsvps, kz_attend **out,
                          size_t *n, uint64_t counts[5])
{
    size_t k = 0;
    kz_attend *v = kz_xcalloc(rsvps->n ? rsvps->n : 1, sizeof *v);
    for (size_t i = 0; i < rsvps->n; i++) {
        const kz_record *r = &rsvps->items[i];
        if (memcmp(r->body.rsvp.event, event->id, KZ_ID_BYTES) != 0)
            continue;
        memcpy(v[k].author, r->author, KZ_KEY_BYTES);
        memcpy(v[k].id, r->id, KZ_ID_BYTES);
        v[k].created_ms = r->created_ms;
        v[k].status = r->body.rsvp.status;
        k++;
    }
    kz_event_attendance(v, k, event->body.event.capacity, event->body.event.start_ms, counts);
    *out = v;
    *n = k;
}
