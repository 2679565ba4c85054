/* kz_node.h: the daemon's internals (config, key files, logging, the node
 * object, the control socket and record <-> JSON), shared by kizunad, the
 * kizuna CLI and the tests.
 *
 * Conventions: functions return 0 or a negative KZ_E* code. Functions that
 * take (char *err, size_t errsz) write one clear English sentence fragment
 * there on failure (no trailing newline, no program-name prefix); err is
 * untouched on success. Strings returned through out-parameters are owned by
 * the caller unless stated otherwise. */
#ifndef KZ_NODE_H
#define KZ_NODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <uv.h>

#include "kz_base.h"
#include "kz_record.h"
#include "kz_store.h"
#include "kz_visibility.h"

#ifndef KZ_VERSION
#define KZ_VERSION "0.1.0"
#endif

#define KZ_ERR_MAX 512 /* a comfortable size for err buffers */

/* Files inside a data directory. */
#define KZ_FILE_CONFIG "kizuna.conf"
#define KZ_FILE_NODE_KEY "node.key"
#define KZ_FILE_STORAGE_KEY "storage.key"
#define KZ_FILE_FEDERATION_KEY "federation.key"
#define KZ_FILE_LOCK "kizunad.lock"
#define KZ_FILE_CONTROL "control.sock"
#define KZ_FILE_DATA "data.mdb"

#define KZ_PATH_MAX 4096
/* Build "dir/name" into out. KZ_ETOOBIG when it does not fit. */
int kz_path_join(char *out, size_t outsz, const char *dir, const char *name) KZ_WARN_UNUSED;

/* ---- Logging (node/log.c) ---------------------------------------------------
 * One line per event on stderr:
 *   2026-11-24T10:00:00.123Z INFO  control: listening on DIR/control.sock
 * Lines are written with a single write(2) so they do not interleave. */
typedef enum { KZ_LOG_DEBUG = 0, KZ_LOG_INFO, KZ_LOG_WARN, KZ_LOG_ERROR } kz_log_level;

void kz_log_level_set(kz_log_level level);
kz_log_level kz_log_level_get(void);
/* "debug", "info", "warn", "error" -> level. KZ_EINVAL otherwise. */
int kz_log_level_parse(const char *s, kz_log_level *out) KZ_WARN_UNUSED;
const char *kz_log_level_name(kz_log_level level);
void kz_log(kz_log_level level, const char *component, const char *fmt, ...) KZ_PRINTF(3, 4);
#define kz_log_debug(c, ...) kz_log(KZ_LOG_DEBUG, c, __VA_ARGS__)
#define kz_log_info(c, ...) kz_log(KZ_LOG_INFO, c, __VA_ARGS__)
#define kz_log_warn(c, ...) kz_log(KZ_LOG_WARN, c, __VA_ARGS__)
#define kz_log_error(c, ...) kz_log(KZ_LOG_ERROR, c, __VA_ARGS__)

/* ISO 8601 UTC with milliseconds, "2026-11-24T10:00:00.123Z". */
#define KZ_TIME_STR_MAX 64
void kz_time_format(char out[KZ_TIME_STR_MAX], uint64_t ms);

/* ---- Addresses (node/config.c) ------------------------------------------- */

#define KZ_HOST_MAX 253
/* Validate "HOST:PORT": HOST is a DNS name or IPv4 address (letters, digits,
 * '-', '.'), or an IPv6 address in brackets; PORT is 1..65535 in decimal
 * without sign or leading zeros. host (hostsz >= KZ_HOST_MAX + 1, may be NULL)
 * gets HOST without brackets. KZ_EINVAL with a reason in err. */
int kz_addr_parse(const char *s, char *host, size_t hostsz, uint16_t *port, char *err,
                  size_t errsz) KZ_WARN_UNUSED;

/* ---- Configuration (node/config.c) --------------------------------------------
 *
 * DIR/kizuna.conf, INI:
 *   [node]   name = ..., listen = HOST:PORT, advertise = HOST:PORT,
 *            peering = open|listed, sync_interval = SECONDS (1..86400)
 *   [http]   listen = HOST:PORT
 *   [log]    level = debug|info|warn|error
 *   [store]  map_size_max_mb = N
 * Every key is checked; unknown sections or keys, duplicates and bad values
 * are errors that name the file and line. */
#define KZ_DEFAULT_LISTEN "0.0.0.0:7420"
#define KZ_DEFAULT_HTTP "127.0.0.1:7480"
#define KZ_CONFIG_FILE_MAX (64 * 1024)

typedef struct {
    char name[KZ_NAME_MAX + 1];       /* company display name, required */
    char listen[KZ_ADDR_MAX + 1];     /* gossip listen address */
    char advertise[KZ_ADDR_MAX + 1];  /* "" = derived from listen */
    char http[KZ_ADDR_MAX + 1];       /* HTTP listen address (next round) */
    kz_log_level log_level;
    uint64_t map_size_max;            /* bytes; 0 = the store's default */
    bool peering_listed;              /* [node] peering = listed (default open) */
    uint32_t sync_interval_s;         /* [node] sync_interval; 0 = the default (60) */
} kz_config;

/* Fill c with the defaults (empty name). */
void kz_config_defaults(kz_config *c);
/* Parse INI text. label names the source in errors ("DIR/kizuna.conf"), so a
 * failure reads "LABEL:LINE: unknown key 'x' in [node]". Starts from the
 * defaults; [node] name is required. KZ_ECONFIG on any problem. */
int kz_config_parse(kz_config *c, const char *text, size_t len, const char *label, char *err,
                    size_t errsz) KZ_WARN_UNUSED;
/* Read and parse a file (at most KZ_CONFIG_FILE_MAX bytes). KZ_EIO when it
 * cannot be read, KZ_ECONFIG when it is wrong. */
int kz_config_load(kz_config *c, const char *path, char *err, size_t errsz) KZ_WARN_UNUSED;
/* Write c as INI to path through a temp file and rename; with exclusive,
 * refuse (KZ_EEXIST) when path exists. KZ_EIO. */
int kz_config_write(const kz_config *c, const char *path, bool exclusive, char *err,
                    size_t errsz) KZ_WARN_UNUSED;
/* The address other nodes should dial: advertise if set, else listen with
 * an unspecified host (0.0.0.0, ::) replaced by this machine's hostname. */
int kz_config_advertised(const kz_config *c, char *out, size_t outsz) KZ_WARN_UNUSED;

/* ---- Key files (node/keys.c) --------------------------------------------------
 *
 * Text files, mode 0600, two lines:
 *   kizuna-node-key-v1            (or -storage-key-v1, -federation-key-v1)
 *   <64 lower-case hex digits>
 * The node key holds the Ed25519 seed; storage and federation keys hold 32
 * random bytes. Readers refuse files with any group/other permission bit,
 * anything but a regular file, and any deviation from the format, saying
 * exactly what is wrong. */
typedef enum { KZ_KEY_NODE = 0, KZ_KEY_STORAGE, KZ_KEY_FEDERATION } kz_keykind;
#define KZ_KEY_SECRET_BYTES 32
#define KZ_KEYFILE_MAX 256

/* First line of a key file of this kind, e.g. "kizuna-node-key-v1". */
const char *kz_keyfile_magic(kz_keykind kind);
/* Create path (0600) holding secret. Never overwrites: KZ_EEXIST when path
 * exists. Written to a temp file, fsynced, then linked into place. KZ_EIO. */
int kz_keyfile_write(const char *path, kz_keykind kind, const uint8_t secret[KZ_KEY_SECRET_BYTES],
                     char *err, size_t errsz) KZ_WARN_UNUSED;
/* Read a key file. KZ_ENOTFOUND (missing), KZ_EPERM (too open), KZ_EINVAL
 * (malformed), KZ_EIO. secret is wiped on failure. */
int kz_keyfile_read(const char *path, kz_keykind kind, uint8_t secret[KZ_KEY_SECRET_BYTES],
                    char *err, size_t errsz) KZ_WARN_UNUSED;

/* The secrets of one node, loaded from its data directory. */
typedef struct {
    uint8_t node_pk[KZ_KEY_BYTES];      /* node id */
    uint8_t node_sk[KZ_SECKEY_BYTES];   /* libsodium Ed25519 secret key */
    uint8_t storage[KZ_KEY_SECRET_BYTES];
    uint8_t federation[KZ_KEY_SECRET_BYTES];
} kz_keys;

/* Load DIR/node.key, DIR/storage.key and DIR/federation.key. On failure the
 * struct is wiped. */
int kz_keys_load(kz_keys *k, const char *dir, char *err, size_t errsz) KZ_WARN_UNUSED;
/* Load just the node key pair (kizuna id). */
int kz_keys_load_node(kz_keys *k, const char *dir, char *err, size_t errsz) KZ_WARN_UNUSED;
void kz_keys_wipe(kz_keys *k);

/* Member secret keys at rest: version byte 1, a random 24-byte nonce, then
 * XChaCha20-Poly1305 (IETF) of the 32-byte Ed25519 seed under storage.key
 * with the member public key (prefixed by the version byte) as associated
 * data. A sealed key moved to another member entry fails to open. */
#define KZ_MEMBER_SEALED_LEN (1 + 24 + 32 + 16)
int kz_member_sk_seal(const uint8_t storage_key[KZ_KEY_SECRET_BYTES],
                      const uint8_t pk[KZ_KEY_BYTES], const uint8_t sk[KZ_SECKEY_BYTES],
                      uint8_t out[KZ_MEMBER_SEALED_LEN]) KZ_WARN_UNUSED;
/* Decrypt and check that the seed really yields pk. KZ_EINVAL (wrong length
 * or version), KZ_ECRYPTO (wrong key, wrong member, tampered). sk is wiped on
 * failure; the caller wipes it after use. */
int kz_member_sk_open(const uint8_t storage_key[KZ_KEY_SECRET_BYTES],
                      const uint8_t pk[KZ_KEY_BYTES], const uint8_t *sealed, size_t len,
                      uint8_t sk[KZ_SECKEY_BYTES]) KZ_WARN_UNUSED;

/* ---- Data directories (node/datadir.c) ----------------------------------- */

/* The one-kizunad-per-directory lock: flock on DIR/kizunad.lock, which
 * then holds the owner's pid. KZ_ELOCKED with "DIR is already served by pid
 * N" in err. *fd is the lock; kz_datadir_unlock releases it. */
int kz_datadir_lock(const char *dir, int *fd, char *err, size_t errsz) KZ_WARN_UNUSED;
void kz_datadir_unlock(int fd);

typedef struct {
    const char *dir;
    const char *name;
    const char *federation_key_path;
    const char *listen;   /* NULL = KZ_DEFAULT_LISTEN */
    const char *http;     /* NULL = KZ_DEFAULT_HTTP */
} kz_init_opts;

/* Create a new node's data directory (0700; an existing directory must not
 * hold a node) with its config, keys, store and its signed `node` record.
 * On failure everything it created is removed. node_id gets the new id. */
int kz_datadir_init(const kz_init_opts *o, uint8_t node_id[KZ_KEY_BYTES], char *err,
                    size_t errsz) KZ_WARN_UNUSED;

/* ---- Profiles (node/profile.c) ----------------------------------------------
 *
 * An editable copy of a profile, owning its strings, used by `profile set`
 * (node) and to validate FIELD=VALUE (CLI). Field names are the operator
 * contract's: name reading romaji department title joined left
 * current_company current_title location skills bio links open_to
 * visibility. */
typedef struct {
    char *name, *reading, *romaji, *department, *title;
    uint16_t joined, left;
    char *current_company, *current_title, *location;
    uint32_t n_skills;
    char *skills[KZ_SKILLS_MAX];
    char *bio;
    uint32_t n_links;
    char *links[KZ_LINKS_MAX];
    uint32_t open_to;         /* KZ_OPEN_* bits */
    bool rehire;              /* private: never signed into a record */
    uint8_t visibility;       /* kz_visibility */
} kz_profile;

void kz_profile_init(kz_profile *p);
void kz_profile_close(kz_profile *p);
/* Copy a record body into p (replacing what p held). */
void kz_profile_from_body(kz_profile *p, const kz_body_profile *b);
/* Point b's fields at p's strings; valid while p is unchanged. */
void kz_profile_to_body(const kz_profile *p, kz_body_profile *b);
/* Set one field from its text form ("" clears, except name). Lists are
 * comma-separated; open_to takes reconnect, business, mentoring, rehire.
 * KZ_EINVAL / KZ_ETOOBIG with the reason in err; p unchanged on failure. */
int kz_profile_set(kz_profile *p, const char *field, const char *value, char *err,
                   size_t errsz) KZ_WARN_UNUSED;
/* Is field one of the names above? */
bool kz_profile_field_known(const char *field);
/* Comma-separated list of the field names, for messages. */
const char *kz_profile_field_names(void);
/* The fields as a JSON object with exactly the contract's names (strings "",
 * years null when absent, lists as arrays). rehire is listed in open_to only
 * when with_private. New reference. */
json_t *kz_profile_to_json(const kz_profile *p, bool with_private);

/* ---- Record <-> JSON (node/json.c) ----------------------------------------- */

const char *kz_role_name(int role);            /* "alumni" ...; "unknown" */
int kz_role_parse(const char *s);              /* -1 when unknown */
const char *kz_post_kind_name(int kind);
int kz_post_kind_parse(const char *s);         /* -1 when unknown */
const char *kz_visibility_name(int vis);
int kz_visibility_parse(const char *s);        /* -1 when unknown */
/* A decoded record as JSON: id, type, author, created (ISO), created_ms,
 * size, signature ("valid"/"invalid"), body {fields}. New reference. */
json_t *kz_json_record(const kz_record *r, bool sig_valid);
/* JSON string from a record string (UTF-8 already validated). */
json_t *kz_json_kzstr(kz_str s);
json_t *kz_json_hex(const uint8_t *p, size_t n);

/* ---- Node (node/node.c) -------------------------------------------------- */

/* Where a record came from, for kz_node_record_accepted(). */
typedef enum {
    KZ_SRC_LOCAL = 0,   /* signed here (control request, start-up) */
    KZ_SRC_IMPORT,      /* `kizuna record import` */
    KZ_SRC_PEER         /* received from a peer (gossip, later) */
} kz_record_source;
const char *kz_record_source_name(kz_record_source src);

typedef struct kz_node kz_node;
typedef struct kz_control kz_control;
struct kz_gossip;

/* A layer that runs inside the node's loop besides the control socket (the
 * gossip layer, later the HTTP server). Register it before kz_node_run; the
 * struct must outlive the node. */
typedef struct {
    const char *name;                                  /* e.g. "peers"; its key in status */
    int (*start)(kz_node *n, char *err, size_t errsz); /* on n->loop, after the control socket */
    void (*stop)(kz_node *n);                          /* begin closing its handles */
    void (*free)(kz_node *n);                          /* after the loop has returned */
    json_t *(*status)(kz_node *n);                     /* optional: new reference for status */
} kz_node_service;
#define KZ_NODE_SERVICES_MAX 8

/* Observer of accepted records (gossip registers one to push new records to
 * its peers). r and its strings are valid only during the call. */
typedef void (*kz_node_accept_cb)(void *ud, kz_node *n, const kz_record *r, kz_record_source src);
#define KZ_NODE_WATCHERS_MAX 8

/* Node object. Fields are read-only for everyone but node.c. */
struct kz_node {
    char dir[KZ_PATH_MAX];      /* as given on the command line (for messages) */
    char dir_abs[KZ_PATH_MAX];  /* absolute form */
    kz_config cfg;
    kz_keys keys;
    kz_store *store;
    int lock_fd;
    uint64_t started_ms;
    uint64_t last_created_ms;   /* newest created_ms this node has signed */
    uv_loop_t *loop;            /* set by kz_node_run */
    uv_signal_t sigint, sigterm;
    kz_control *control;        /* owned by control.c */
    bool control_bound;         /* we created DIR/control.sock */
    uint32_t control_idle_ms;   /* 0 = KZ_CONTROL_IDLE_MS (tests shorten it) */
    bool stopping;
    struct { kz_node_accept_cb cb; void *ud; } watchers[KZ_NODE_WATCHERS_MAX];
    size_t n_watchers;
    const kz_node_service *services[KZ_NODE_SERVICES_MAX];
    size_t n_services, n_started;
    struct kz_gossip *gossip;   /* owned by the gossip layer, NULL when it is not running */
    struct kz__reindex *reindex; /* search index rebuild job (search_reindex.c), or NULL */
};

typedef struct {
    bool have_log_level;        /* override the config's [log] level */
    kz_log_level log_level;
} kz_node_opts;

/* Load DIR's config and keys, take the directory lock, remove a stale
 * control socket, open the store and make sure the node's own `node` record
 * matches the config. Does not touch a loop. err names the problem, e.g.
 * "DIR is already served by pid 42". Free with kz_node_free(). */
int kz_node_create(kz_node **out, const char *dir, const kz_node_opts *opts, char *err,
                   size_t errsz) KZ_WARN_UNUSED;
/* Add a service (see kz_node_service). KZ_ETOOBIG when full. */
int kz_node_service_add(kz_node *n, const kz_node_service *svc) KZ_WARN_UNUSED;
/* Serve the control socket, the services and signals on loop until
 * SIGINT/SIGTERM or kz_node_stop(); returns 0 after every handle is closed,
 * or the error of a service that failed to start (logged). */
int kz_node_run(kz_node *n, uv_loop_t *loop) KZ_WARN_UNUSED;
/* Start closing every handle; kz_node_run returns once they are closed. */
void kz_node_stop(kz_node *n);
/* Free the services, close the store, remove the control socket, release
 * the lock, wipe keys. NULL-safe. */
void kz_node_free(kz_node *n);

/* Store one verified record (one durable commit) and, when it was stored,
 * pass it through kz_node_record_accepted(). Returns what kz_store_put
 * returns. */
int kz_node_put(kz_node *n, const kz_record *r, kz_record_source src, kz_put_result *res) KZ_WARN_UNUSED;
/* Every record that enters the store passes through here exactly once: it
 * logs the record and tells the watchers. */
void kz_node_record_accepted(kz_node *n, const kz_record *r, kz_record_source src);
/* Register an observer. KZ_ETOOBIG when KZ_NODE_WATCHERS_MAX are registered. */
int kz_node_accept_watch(kz_node *n, kz_node_accept_cb cb, void *ud) KZ_WARN_UNUSED;

/* Read a stored record by id and decode it (signature checked unless
 * noverify). r owns its bytes; kz_record_close() it. */
int kz_node_record_load(kz_node *n, const uint8_t id[KZ_ID_BYTES], bool noverify,
                        kz_record *r) KZ_WARN_UNUSED;
/* Load the head of the replaceable slot r_like would occupy. KZ_ENOTFOUND. */
int kz_node_slot_load(kz_node *n, const kz_record *r_like, kz_record *r) KZ_WARN_UNUSED;
/* A created_ms for a record replacing one created at prev_ms: max(now,
 * prev_ms + 1) so that the new record always wins its slot. */
uint64_t kz_node_next_ms(uint64_t prev_ms);
/* created_ms for a new record signed by this node: strictly after both
 * after_ms and every record it signed before (so that two records made in
 * the same millisecond never collide), and at least now. */
uint64_t kz_node_created_ms(kz_node *n, uint64_t after_ms);

/* ---- Profile visibility (node/visibility.c) ---------------------------------
 *
 * What viewer (a member key, or NULL for this node's operator, whose view
 * is the node's own secretariat view) may see of member's profile: the
 * viewer's relation to the member (self under any rotated key, home
 * secretariat, same home node, another company, stranger) is read from the
 * store and the rule of protocol/kz_visibility.h applied to the profile's
 * visibility. out->rehire is true only on the member's home node. Returns
 * 0 or a store failure code. */
int kz_node_profile_visible(kz_node *n, const uint8_t member[KZ_KEY_BYTES],
                            const uint8_t *viewer, kz_profile_view *out) KZ_WARN_UNUSED;

/* ---- Control socket (node/control.c, node/control_client.c) -----------------
 *
 * DIR/control.sock, mode 0600, Unix stream. A request is one line: a JSON
 * object {"cmd": "...", "args": {...}} and '\n', at most KZ_CONTROL_LINE_MAX
 * bytes. Every request gets one reply line: {"ok": true, "result": ...} or
 * {"ok": false, "error": "...", "code": KZ_E*}. */
#define KZ_CONTROL_LINE_MAX (1024u * 1024u)
#define KZ_CONTROL_CLIENTS_MAX 64
#define KZ_CONTROL_IDLE_MS 30000u
#define KZ_CONTROL_REPLY_MAX (64u * 1024u * 1024u)

/* A control verb: the handler reads args (a JSON object, never NULL), sets
 * *result to a new reference on success, or returns a KZ_E* code with a
 * message in err. Handlers run on the loop thread; every store write they
 * make is committed before they return (or, for a deferred reply, before
 * kz_control_complete). */
typedef int (*kz_control_fn)(kz_node *n, json_t *args, json_t **result, char *err, size_t errsz);
typedef struct {
    const char *name;
    kz_control_fn fn;
    const char *summary;
} kz_control_verb;

/* Look up a verb by name in every handler table; NULL when unknown. */
const kz_control_verb *kz_control_verb_find(const char *name);
/* Call fn(ud, verb) for every verb, in table order. */
void kz_control_verb_each(void (*fn)(void *ud, const kz_control_verb *v), void *ud);

/* Handle one request line (without its '\n'); returns the reply line with
 * its '\n' as a malloc'd string (caller frees) and its length. n may be
 * NULL only in tests that never reach a handler. Returns NULL (and
 * *outlen 0) only when the handler deferred its reply (below), which
 * happens only for a request read from the control socket. */
char *kz_control_handle(kz_node *n, const char *line, size_t len, size_t *outlen);

/* Deferred replies, for a handler whose work runs off the loop thread (a
 * backup on the thread pool): when kz_control_can_defer() is true, the
 * handler may start its work, call kz_control_defer() and return
 * KZ_CONTROL_DEFERRED; later, on the loop thread, it calls
 * kz_control_complete() exactly once with what it would have returned.
 * Meanwhile that client's further requests wait (replies stay in order)
 * and its idle timeout is suspended; every other client and peer is
 * served. If the client has gone, the reply is dropped. Outside a socket
 * request (tests calling kz_control_handle) can_defer is false and the
 * handler runs synchronously. */
#define KZ_CONTROL_DEFERRED 1
typedef struct kz_control_pending kz_control_pending;
bool kz_control_can_defer(const kz_node *n);
kz_control_pending *kz_control_defer(kz_node *n);
/* result: a new reference (stolen) when rc == 0; err: the message otherwise. */
void kz_control_complete(kz_control_pending *p, int rc, json_t *result, const char *err);

/* Bounded line framing for a byte stream. */
typedef struct {
    char *buf;
    size_t off;     /* start of unconsumed bytes */
    size_t len;     /* end of buffered bytes */
    size_t cap;
    size_t max;     /* longest line allowed, without its '\n' */
    size_t pend;    /* length of the unterminated tail */
} kz_linebuf;
void kz_linebuf_init(kz_linebuf *b, size_t max);
void kz_linebuf_close(kz_linebuf *b);
/* Append bytes; KZ_ETOOBIG when a line (terminated or not) would be longer
 * than max, in which case nothing is appended and the stream should be
 * dropped. Bytes consumed by kz_linebuf_next are reclaimed here. */
int kz_linebuf_append(kz_linebuf *b, const char *p, size_t n) KZ_WARN_UNUSED;
/* Take the next complete line: 1 and *line and *len (without '\n'; valid until
 * the next call on b) when there is one, 0 otherwise. */
int kz_linebuf_next(kz_linebuf *b, const char **line, size_t *len);

/* Start serving DIR/control.sock on n->loop. KZ_EIO. */
int kz_control_start(kz_node *n, char *err, size_t errsz) KZ_WARN_UNUSED;
/* Close the listener and every client (asynchronously). */
void kz_control_stop(kz_node *n);

/* Client side: connect to DIR/control.sock, send {"cmd", "args"} (args may
 * be NULL; this function does not steal it), wait for the reply (timeout_ms,
 * 0 = none) and return its result (new reference) in *result. Returns
 * KZ_ENOTRUNNING when nobody listens on the socket, the node's code with its
 * message in err when it refused, or KZ_EIO / KZ_EPROTO / KZ_ETIMEDOUT. */
int kz_control_call(const char *dir, const char *cmd, json_t *args, unsigned timeout_ms,
                    json_t **result, char *err, size_t errsz) KZ_WARN_UNUSED;

#endif
