/* talk_view.h: what the talk-room verbs share (handlers_talk.c for writes,
 * talk_feed.c for feeds, threads, the relay and polls). Not for use outside
 * node/. */
#ifndef KZ_TALK_VIEW_H
#define KZ_TALK_VIEW_H

#include "talk_internal.h"

/* Reaction kind names, index = kz_body_reaction.kind. */
extern const char *const kz__reaction_names[KZ_REACTION_KINDS];
/* -1 when unknown. */
int kz__reaction_parse(const char *s);

/* Who is looking: the companies (attesting nodes) whose company rooms and
 * company-scope topic rooms they may see. Without --as it is the node's own
 * company (the operator's view). */
#define KZ__VIEWER_MAX 4
typedef struct {
    size_t n;
    uint8_t companies[KZ__VIEWER_MAX][KZ_KEY_BYTES];
} kz__viewer;

/* The view of member (NULL: this node's own). KZ_ENOATTEST with a message
 * when the member has no live attestation. */
int kz__viewer_init(kz_node *n, const uint8_t *member, kz__viewer *v, char *err,
                    size_t errsz) KZ_WARN_UNUSED;

/* Room visibility for v: 1 visible, 0 hidden (including topic rooms that no
 * `room` record creates yet), or a KZ_E* store failure. */
int kz__room_visible(kz_node *n, const kz__viewer *v, const char *room, size_t len);

/* May author write in room (company rooms: members of that company;
 * company-scope topic rooms: members of the creating node)? 1 or 0. */
int kz__room_allows(kz_node *n, const kz_str *room, const uint8_t author[KZ_KEY_BYTES]);

/* Find the newest room record named name (any node) into r (caller closes).
 * KZ_ENOTFOUND when no node created it. */
int kz__room_find(kz_node *n, const char *name, size_t len, kz_record *r) KZ_WARN_UNUSED;

/* Read verbs (talk_feed.c). */

/* Sign r with sk, store it through the node and set result = {key: id}.
 * On failure a sentence naming what (e.g. "reply") in err. */
int kz__talk_sign_put(kz_node *n, kz_record *r, const uint8_t sk[KZ_SECKEY_BYTES],
                      const char *what, const char *key, json_t **result, char *err,
                      size_t errsz) KZ_WARN_UNUSED;
/* Load a record a member refers to (caller closes r); otherwise a sentence
 * saying it was deleted or is unknown here (KZ_EDELETED, KZ_ENOTFOUND). */
int kz__talk_load_target(kz_node *n, const uint8_t id[KZ_ID_BYTES], const char *what,
                         kz_record *r, char *err, size_t errsz) KZ_WARN_UNUSED;

/* Verbs in talk_moderation.c (registered in handlers_talk.c's table). */
int kz__h_report(kz_node *n, json_t *args, json_t **result, char *err, size_t errsz);
int kz__h_report_list(kz_node *n, json_t *args, json_t **result, char *err, size_t errsz);
int kz__h_delete(kz_node *n, json_t *args, json_t **result, char *err, size_t errsz);
int kz__h_moderate_delete(kz_node *n, json_t *args, json_t **result, char *err, size_t errsz);

#endif
