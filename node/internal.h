/* internal.h: helpers shared between the files of node/ (kz__ prefix), and
 * the control handler tables. Not for use outside node/. */
#ifndef KZ_NODE_INTERNAL_H
#define KZ_NODE_INTERNAL_H

#include <sys/types.h>

#include "kz_node.h"

/* Write data to path through a temp file in the same directory: written,
 * fsynced, then renamed (or, when exclusive, hard-linked so that an existing
 * path is never replaced: KZ_EEXIST), and the directory fsynced. KZ_EIO. */
int kz__file_write_atomic(const char *path, const void *data, size_t len, mode_t mode,
                          bool exclusive, char *err, size_t errsz) KZ_WARN_UNUSED;
/* Read a whole regular file of at most max bytes into a malloc'd buffer
 * (NUL-terminated for convenience; *len excludes the NUL). KZ_ENOTFOUND,
 * KZ_ETOOBIG, KZ_EIO. */
int kz__file_read(const char *path, size_t max, char **out, size_t *len, char *err,
                  size_t errsz) KZ_WARN_UNUSED;
/* fsync a directory so that a rename or link in it is durable. */
int kz__dir_sync(const char *dir);

/* Sign this node's `node` record (name and advertised address from cfg)
 * into r (caller closes it). */
int kz__node_record_sign(const kz_config *cfg, const kz_keys *keys, uint64_t created_ms,
                         kz_record *r, char *err, size_t errsz) KZ_WARN_UNUSED;

/* ---- Control handler tables (handlers_*.c) ------------------------------- */
typedef struct {
    const kz_control_verb *verbs;
    size_t n;
} kz__verb_table;
extern const kz__verb_table kz__verbs_node;     /* status, backup */
extern const kz__verb_table kz__verbs_member;   /* member.*, profile.* */
extern const kz__verb_table kz__verbs_record;   /* post, record.* */
extern const kz__verb_table kz__verbs_peer;     /* peer.*, sync.status (handlers_peer.c) */
extern const kz__verb_table kz__verbs_events;   /* event.*, rsvp (handlers_events.c) */
extern const kz__verb_table kz__verbs_contact;  /* contact.* (handlers_contact.c) */
extern const kz__verb_table kz__verbs_metrics;  /* inbox, metrics (handlers_metrics.c) */
extern const kz__verb_table kz__verbs_talk;     /* post, reply, react, vote, report, delete, room.create (handlers_talk.c) */
extern const kz__verb_table kz__verbs_talk_read;/* feed, thread, relay.show, poll.show, room.list (talk_feed.c) */
extern const kz__verb_table kz__verbs_import;   /* member.import (handlers_import.c) */
extern const kz__verb_table kz__verbs_rotate;   /* member.rotate, member.history (handlers_rotate.c) */
extern const kz__verb_table kz__verbs_search;   /* search (handlers_search.c) */
extern const kz__verb_table kz__verbs_reindex;  /* search.reindex, search.reindex_status (search_reindex.c) */

/* ---- Search index rebuild (search_reindex.c) ----------------------------- */
typedef struct kz__reindex kz__reindex;
/* The node service that runs a rebuild a step per loop turn; register it
 * like the gossip layer. Without it a rebuild runs to the end at once. */
extern const kz_node_service kz_search_service;
/* Free the rebuild job; kz_node_free calls it. NULL-safe. */
void kz__reindex_free(kz_node *n);

/* ---- Argument helpers for handlers (control.c) ----------------------------
 * Each returns 0, or KZ_EINVAL with a message naming the argument in err.
 * Strings returned point into args (valid while args lives). */

/* A string argument; required or optional (then *out = NULL when absent).
 * Must be valid UTF-8 without control characters (newlines allowed when
 * multiline), at most max bytes, and non-empty when required. */
int kz__arg_str(json_t *args, const char *key, bool required, size_t max, bool multiline,
                const char **out, char *err, size_t errsz) KZ_WARN_UNUSED;
/* A 64-hex id (required). */
int kz__arg_id(json_t *args, const char *key, uint8_t out[32], char *err,
               size_t errsz) KZ_WARN_UNUSED;
/* An optional year (integer KZ_YEAR_MIN..KZ_YEAR_MAX); *out = 0 when absent. */
int kz__arg_year(json_t *args, const char *key, uint16_t *out, char *err,
                 size_t errsz) KZ_WARN_UNUSED;
/* Refuse keys of args that are not in the NULL-terminated list allowed. */
int kz__arg_only(json_t *args, const char *const *allowed, char *err, size_t errsz) KZ_WARN_UNUSED;

/* Load a member this node holds and decrypt its secret key for signing.
 * Refuses (KZ_ENOTFOUND / KZ_EPERM, with a message) members not held here,
 * revoked members and members who hold their key alone. The caller wipes sk
 * with sodium_memzero after use. */
int kz__member_key(kz_node *n, const uint8_t pk[KZ_KEY_BYTES], kz_store_member *m,
                   uint8_t sk[KZ_SECKEY_BYTES], char *err, size_t errsz) KZ_WARN_UNUSED;

/* Explain a refusal by the record or store module in one sentence. */
const char *kz__refusal(int rc);

#endif
