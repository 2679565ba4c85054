/* kz_gossip.h: the federation layer of kizunad: encrypted peer links over
 * TCP (Noise XXpsk0 handshake, secretstream frames), push gossip of every
 * accepted record, set reconciliation with each peer, the holding area for
 * records that arrive before their author's attestation, and peer
 * management (add, remove, block). docs/federation.md explains the design.
 *
 * Threads: everything here runs on the node's loop thread, except record
 * decoding and signature verification, which run on libuv's thread pool and
 * touch nothing but their own job.
 *
 * Ownership: the gossip object belongs to its node. kz_gossip_start creates
 * it on n->loop and registers it; kz_gossip_stop starts closing every link
 * and handle (the loop then runs dry); kz_gossip_free releases it after the
 * loop has returned. Functions taking a kz_node work whether or not the
 * layer is running: without it they act on the store only. */
#ifndef KZ_GOSSIP_H
#define KZ_GOSSIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kz_node.h"

typedef enum {
    KZ_PEERING_OPEN = 0,   /* accept any node that holds the federation key */
    KZ_PEERING_LISTED = 1  /* accept inbound links only from listed peers */
} kz_peering;

/* Defaults of the tunables; 0 in kz_gossip_opts means "the default". */
#define KZ_GOSSIP_SYNC_INTERVAL_MS 60000u
#define KZ_GOSSIP_HANDSHAKE_MS 10000u      /* handshake must finish within */
#define KZ_GOSSIP_PING_MS 30000u           /* ping a peer quiet for this long */
#define KZ_GOSSIP_IDLE_MS 90000u           /* drop a peer silent for this long */
#define KZ_GOSSIP_BACKOFF_MIN_MS 1000u
#define KZ_GOSSIP_BACKOFF_MAX_MS 300000u
#define KZ_GOSSIP_HS_PER_SOURCE 4u         /* inbound handshakes per source address */
#define KZ_GOSSIP_HS_TOTAL 64u             /* inbound handshakes overall */
#define KZ_GOSSIP_LINKS_MAX 256u           /* links of every kind */
#define KZ_GOSSIP_TX_BACKLOG (8u << 20)    /* unsent bytes that pause pushes to a peer */
#define KZ_GOSSIP_RX_BACKLOG (4u << 20)    /* unverified bytes that pause reading a peer */
#define KZ_GOSSIP_HOLD_RECORDS 10000u      /* holding area: records ... */
#define KZ_GOSSIP_HOLD_BYTES (32u << 20)   /* ... and bytes, oldest evicted */
#define KZ_GOSSIP_SENDQ_MAX 262144u        /* record ids queued to send to one peer */

typedef struct {
    const char *listen;            /* "HOST:PORT" to listen on; NULL or "" = do not listen */
    kz_peering peering;
    uint32_t sync_interval_ms;     /* reconciliation with each peer; 0 = default */
    uint32_t handshake_ms, ping_ms, idle_ms;
    uint32_t backoff_min_ms, backoff_max_ms;
} kz_gossip_opts;

typedef struct kz_gossip kz_gossip;

/* The layer as a node service (kz_node_service_add before kz_node_run): it
 * starts with the options from the node's config ([node] listen, peering,
 * sync_interval), stops and frees with the node, and reports under "peers"
 * in `status`. */
extern const kz_node_service kz_gossip_service;

/* Start the layer for n on n->loop (which must be set): load the peer list
 * from the store, listen on opts->listen, start dialling listed peers and
 * register the accept watcher that pushes records. opts is copied. On
 * success n->gossip is set. Returns 0; KZ_EIO when the listen address cannot
 * be bound (err says why), KZ_EEXIST when already started, KZ_EINVAL for bad
 * options. On failure nothing needs freeing (handles already made close on
 * the loop and release themselves). */
int kz_gossip_start(kz_node *n, const kz_gossip_opts *opts, char *err, size_t errsz) KZ_WARN_UNUSED;

/* Say BYE to every peer and close every link and handle; asynchronous.
 * Flushes peer counters to the store. NULL-safe, idempotent. */
void kz_gossip_stop(kz_node *n);

/* Release the layer once the loop has returned. NULL-safe. */
void kz_gossip_free(kz_node *n);

/* The running layer of n (n->gossip), or NULL. */
kz_gossip *kz_gossip_get(const kz_node *n);

/* Port the listener is bound to (useful with port 0 in tests); 0 if none. */
uint16_t kz_gossip_port(const kz_gossip *g);

/* ---- Peer management (control verbs) -------------------------------------
 * Each returns 0, or a KZ_E* code with one sentence in err. */

/* Add or update a listed peer and dial it now. addr is "HOST:PORT"
 * (kz_addr_parse); node_id must not be this node's own id. Persisted. */
int kz_gossip_peer_add(kz_node *n, const uint8_t node_id[KZ_KEY_BYTES], const char *addr,
                       char *err, size_t errsz) KZ_WARN_UNUSED;
/* Forget a peer: close its link with BYE, stop dialling, delete its entry.
 * KZ_ENOTFOUND when the node is neither listed nor connected. */
int kz_gossip_peer_remove(kz_node *n, const uint8_t node_id[KZ_KEY_BYTES], char *err,
                          size_t errsz) KZ_WARN_UNUSED;
/* Block (defederate) or unblock a node: persisted in the store; blocking
 * closes its link with ERROR BLOCKED and refuses links either way; unblocking
 * lets a listed peer be dialled again at once. */
int kz_gossip_peer_block(kz_node *n, const uint8_t node_id[KZ_KEY_BYTES], bool blocked,
                         char *err, size_t errsz) KZ_WARN_UNUSED;

/* ---- Reporting ------------------------------------------------------------ */

typedef struct {
    uint8_t node[KZ_KEY_BYTES];
    char addr[KZ_ADDR_MAX + 1];     /* configured address; "" for inbound-only peers */
    char remote[64];                /* address of the live link; "" when none */
    char name[KZ_NAME_MAX + 1];     /* company name from its node record; "" unknown */
    const char *state;              /* "connected", "connecting", "backoff", "blocked",
                                       "idle" (inbound-only, not connected) */
    bool listed;                    /* operator-added (persisted, dialled) */
    bool inbound;                   /* the live link was dialled by the peer */
    uint64_t connected_since_ms;    /* 0 when not connected */
    uint64_t next_dial_ms;          /* backoff: next attempt; 0 otherwise */
    char last_error[160];           /* why the last link ended; "" none */
    kz_store_peer st;               /* persisted times and all-time counters */
    uint64_t syncs;                 /* reconciliations completed since start */
    uint64_t sync_rounds;           /* round trips of the last reconciliation */
    bool sync_running;
    size_t tx_backlog;              /* bytes queued to the peer, not yet written */
    size_t rx_backlog;              /* record bytes from the peer awaiting verification */
} kz_gossip_peer_info;

/* Call cb for every known peer (listed ones from the store even when the
 * layer is not running). info is valid only during the call. Returns 0 or
 * the store's error. */
int kz_gossip_peer_each(kz_node *n, void (*cb)(void *ud, const kz_gossip_peer_info *info),
                        void *ud) KZ_WARN_UNUSED;

typedef struct {
    unsigned links, connected, handshaking;
    size_t held_records, held_bytes;
    uint64_t records_in, records_out, records_rejected;
    uint64_t order_items;           /* (created, id) pairs in the reconciliation index */
} kz_gossip_stats;
/* Zeroes st when the layer is not running. */
void kz_gossip_stats_get(kz_node *n, kz_gossip_stats *st);

#endif
