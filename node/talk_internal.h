/* talk_internal.h: what the event, contact, inbox and metrics handlers
 * share (node/talk_walk.c). Not for use outside node/. */
#ifndef KZ_TALK_INTERNAL_H
#define KZ_TALK_INTERNAL_H

#include "internal.h"
#include "kz_talk.h"

/* Decoded records (each owns its bytes), newest first. */
typedef struct {
    kz_record *items;
    size_t n, cap;
} kz__recvec;

/* Decode every stored record of type created at or after since_ms (0 = all)
 * into v (appended; signatures were checked on entry, not again). The walk
 * stops at the first older record: cost O(records of that type in the
 * window). KZ_E* on a store failure (v keeps what it had). */
int kz__talk_collect(kz_node *n, int type, uint64_t since_ms, kz__recvec *v) KZ_WARN_UNUSED;
/* Decode every record of type pointing at target (refs index: cost
 * O(those records)) into v, newest first. */
int kz__talk_refs(kz_node *n, const uint8_t target[KZ_ID_BYTES], int type,
                  kz__recvec *v) KZ_WARN_UNUSED;
/* Close every record and free the array. */
void kz__recvec_free(kz__recvec *v);

/* Home node of a member into node; false when not attested. */
bool kz__talk_home(kz_node *n, const uint8_t member[KZ_KEY_BYTES], uint8_t node[KZ_KEY_BYTES]);
/* Display name from the member's profile as a new JSON string ("" when none). */
json_t *kz__talk_name(kz_node *n, const uint8_t member[KZ_KEY_BYTES]);
/* Optional --since argument (args.since, "YYYY-MM-DD" or ISO UTC): *ms = 0
 * when absent. KZ_EINVAL with a message. */
int kz__arg_since(json_t *args, uint64_t *ms, char *err, size_t errsz) KZ_WARN_UNUSED;

/* The RSVPs of one event, with places decided (kz_event_attendance). rsvps
 * is a collected KZ_T_RSVP vector; *out is malloc'd (free it). */
void kz__event_attendance(const kz_record *event, const kz__recvec *rsvps, kz_attend **out,
                          size_t *n, uint64_t counts[5]);

/* Every contact to pk created at or after since_ms, opened with sk: a JSON
 * array (new reference) of objects with contact_id, from, from_name,
 * received, kind (request|accept|unreadable), message, reveal, ref and, for
 * requests, state (new|accepted|ignored). NULL with *rc_out on a store
 * failure. (handlers_contact.c) */
json_t *kz__contact_inbox(kz_node *n, const uint8_t pk[KZ_KEY_BYTES],
                          const uint8_t sk[KZ_SECKEY_BYTES], uint64_t since_ms, int *rc_out);

#endif
