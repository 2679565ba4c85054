/* member_internal.h: creating members and writing them atomically, shared by
 * member.add (handlers_member.c), member.import (handlers_import.c) and
 * member.rotate (handlers_rotate.c). Not for use outside node/. */
#ifndef KZ_MEMBER_INTERNAL_H
#define KZ_MEMBER_INTERNAL_H

#include "internal.h"
#include "kz_import.h"

/* What the node needs to create a member. Strings are borrowed for the call;
 * NULL or "" means absent (name and reading are required). */
typedef struct {
    const char *name, *reading, *romaji, *department;
    int role;                            /* kz_role */
    uint16_t joined, left;
    const char *hr_key;                  /* stable HR id, NULL = none */
} kz__member_spec;

/* A member made by kz__member_create, not yet stored. */
typedef struct {
    uint8_t pk[KZ_KEY_BYTES];
    kz_store_member entry;               /* holds the sealed secret key */
    kz_record attest, profile;           /* signed; closed by kz__member_new_close */
} kz__member_new;

/* Make a key pair, seal its secret key under storage.key, and sign the
 * attestation (node key) and the first profile (member key), both created
 * at created_ms. Writes nothing. KZ_EINVAL with the reason in err (a field
 * the record layer refuses), KZ_ECRYPTO. out is closed on failure. */
int kz__member_create(kz_node *n, const kz__member_spec *spec, uint64_t created_ms,
                      kz__member_new *out, char *err, size_t errsz) KZ_WARN_UNUSED;
/* Wipe the sealed key copy and close the records. NULL-safe. */
void kz__member_new_close(kz__member_new *m);

/* Inside a kz_store_atomic function: put m's entry, attestation and
 * profile, in that order. Returns what the store returned. */
int kz__member_new_put(kz_store_txn *t, const kz__member_new *m) KZ_WARN_UNUSED;

/* Pass every record stored by a committed atomic write through
 * kz_node_record_accepted (log, gossip), reloading each by id. ids holds n
 * record ids. Failures to reload are logged, never fatal (the records are
 * stored; the next reconciliation carries them). */
void kz__accepted_ids(kz_node *n, const uint8_t (*ids)[KZ_ID_BYTES], size_t count);

/* ---- Profile views (visibility.c) ------------------------------------------ */

/* Trim the JSON profile o (as built by profile.show) down to what viewer
 * (a member id) may see of member's profile: fields removed when the view
 * is hidden or company-only, "rehire" dropped from open_to when not
 * allowed; adds "viewer" and "access". 0, or an error with err. */
int kz__profile_view_filter(kz_node *n, const uint8_t member[KZ_KEY_BYTES],
                            const uint8_t viewer[KZ_KEY_BYTES], json_t *o, char *err,
                            size_t errsz) KZ_WARN_UNUSED;
/* Add "successor" (the newest key member handed over to) and "keys" (the
 * member's rotation chain) to a profile.show object when there are any. */
void kz__profile_show_rotation(kz_node *n, const uint8_t member[KZ_KEY_BYTES], json_t *o);

/* ---- HR import (import_apply.c) ---------------------------------------------- */

/* Check rows[0..n) against each other and the store and, unless dry_run,
 * create and update members in ONE store transaction (all or nothing).
 * *out gets {"dry_run", "rows", "created", "updated", "unchanged",
 * "skipped", "elapsed_ms"} and, with results, "results": one object per row.
 * KZ_EINVAL with the bad rows in err; a store or signing failure code with
 * its reason; nothing is written on any failure. */
int kz__import_run(kz_node *n, kz_import_row *rows, size_t count, bool dry_run, bool results,
                   json_t **out, char *err, size_t errsz) KZ_WARN_UNUSED;

#endif
