/* gossip_internal.h: what the federation layer's files share (kz__ names):
 * the gossip object, peers, links and the functions each file offers the
 * others. Not for use outside node/net*.c, node/gossip*.c and handlers_peer.c. */
#ifndef KZ_GOSSIP_INTERNAL_H
#define KZ_GOSSIP_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

#include "kz_frame.h"
#include "kz_gossip.h"
#include "kz_noise.h"
#include "kz_recon.h"
#include "kz_wire.h"

typedef struct kz__link kz__link;
typedef struct kz__peer kz__peer;
typedef struct kz__vjob kz__vjob;
typedef struct kz__push kz__push;
typedef struct kz__held kz__held;

/* Link states. */
enum {
    KZ__L_RESOLVE = 0, /* dialer: resolving the host name */
    KZ__L_CONNECT,     /* dialer: TCP connect in progress */
    KZ__L_HS,          /* Noise handshake */
    KZ__L_HELLO,       /* frames open, waiting for the peer's HELLO */
    KZ__L_OPEN,        /* established */
    KZ__L_CLOSING      /* final frame queued or handle closing */
};

/* One known peer node. Listed peers come from the store; inbound-only peers
 * live in memory while the layer runs. */
struct kz__peer {
    kz__peer *next;
    uint8_t id[KZ_KEY_BYTES];
    char id8[9];                     /* first 8 hex digits, for log lines */
    char name[KZ_NAME_MAX + 1];      /* company name from its node record */
    bool listed;                     /* in the store's peers database, dialled */
    bool blocked;
    kz__link *link;                  /* the established link, or NULL */
    kz__link *dialing;               /* our outbound attempt in progress, or NULL */
    uint32_t backoff_ms;             /* next backoff step */
    uint64_t next_dial_ms;           /* 0 = dial at the next tick */
    bool failed;                     /* the last attempt or link failed: backing off */
    kz_store_peer st;                /* persisted entry (addr, times, counters) */
    bool dirty;                      /* st changed since it was written */
    char last_error[160];
    uint64_t syncs, sync_rounds;
};

/* One TCP connection, from accept/dial until its handle is closed. */
struct kz__link {
    kz_gossip *g;
    kz__link *next;
    kz__peer *peer;                  /* known from the start (dialer) or after msg3 */
    uv_tcp_t tcp;
    uv_getaddrinfo_t gai;
    uv_connect_t conn;
    int state;
    bool initiator;
    bool tcp_init;                   /* tcp handle initialised (must be closed) */
    bool closed;                     /* close callback has run */
    bool counted_hs;                 /* counted in the inbound handshake budget */
    unsigned refs;                   /* pending writes and jobs; freed at 0 once closed */
    char remote[64];                 /* "ip:port" of the other end */
    char host[48];                   /* "ip" alone, for the per-source budget */
    uint8_t peer_id[KZ_KEY_BYTES];
    uint64_t started_ms, open_ms, last_rx_ms, last_tx_ms, closing_ms;
    uint64_t ping_nonce;
    bool ping_out;
    /* handshake */
    kz_noise_hs *hs;
    uint8_t hsbuf[KZ_NOISE_HS_MSG_MAX];
    size_t hs_have, hs_need;
    uint8_t version;
    /* frames */
    kz_frame_tx tx;
    kz_frame_rx rx;
    bool tx_open, rx_open, final_sent;
    /* flow control */
    size_t wq_bytes;                 /* bytes handed to uv_write, not yet written */
    size_t vq_bytes;                 /* record bytes waiting for verification */
    bool read_paused, reading;
    bool behind;                     /* pushes were skipped: reconcile when drained */
    bool bad;                        /* sent an invalid record: discard its queued jobs */
    uint8_t (*sendq)[KZ_ID_BYTES];   /* ids to send as RECORDS (WANT answers, recon) */
    size_t sendq_head, sendq_len, sendq_cap;
    bool sendq_dropped;
    /* reconciliation (gossip_recon.c) */
    void *recon;
    uint64_t next_sync_ms;
    uint64_t want_pending;           /* ids asked for by WANT and not yet answered (about) */
    uint64_t want_ms;                /* last WANT sent or records received */
    /* traffic of this link, also added to the peer's all-time counters */
    uint64_t rec_in, rec_out, bytes_in, bytes_out;
};

/* A verification job: the raw records of one RECORDS frame, decoded and
 * verified on the thread pool, then written by the loop thread. */
struct kz__vjob {
    uv_work_t req;
    kz_gossip *g;
    kz__link *l;                     /* holds a reference */
    kz__vjob *next;
    uint64_t now_ms;
    uint32_t n;
    uint8_t *buf;                    /* the raw records, back to back */
    size_t buflen;
    struct { uint32_t off, len; } *items;
    kz_record *recs;                 /* n decoded records (worker output) */
    int bad_rc;                      /* first hard failure, 0 if none */
    uint32_t bad_idx;
    char bad_why[128];
    uint32_t n_future;               /* records refused as too far in the future */
    bool done;                       /* the pool has finished with it */
};

/* A record accepted here, waiting to be pushed to the peers. */
struct kz__push {
    kz__push *next;
    kz__link *from;                  /* link it came from (compared, never used) */
    size_t len;
    uint8_t raw[];
};

/* A record waiting in the holding area for its author's attestation. */
struct kz__held {
    kz__held *next;
    kz__peer *from;                  /* peer that sent it (peers outlive the layer's run) */
    uint64_t since_ms;
    size_t len;
    uint8_t raw[];
};

/* The reconciliation index: every (created_ms, id) pair of the store, 40
 * bytes per record. Sessions read immutable, reference-counted snapshots
 * (sorted arrays with block prefix sums); records accepted meanwhile go to
 * an unsorted tail merged into the next snapshot. Removals (a replaced slot
 * head, a purged delete target) mark the index stale and the next snapshot
 * is rebuilt from the store's order database. */
typedef struct kz__snap kz__snap;

typedef struct {
    kz__snap *snap;                  /* newest snapshot, or NULL */
    kz_recon_item *tail;             /* accepted since that snapshot, unsorted */
    size_t tail_n, tail_cap;
    bool stale;
} kz__order;

struct kz_gossip {
    kz_node *node;
    uv_loop_t *loop;
    kz_gossip_opts opts;
    char listen[KZ_ADDR_MAX + 1];
    kz_noise_identity me;
    uv_tcp_t listener;
    bool listening;
    uint16_t port;
    uv_timer_t tick;                 /* housekeeping: dials, timeouts, pings, syncs */
    uv_timer_t flush;                /* zero-delay: writes, pushes, holding retries */
    bool stopping;
    unsigned open_handles;           /* failed start only: handles left to close */
    kz__peer *peers;
    kz__link *links;
    unsigned n_links, n_handshaking;
    uint8_t rbuf[65536];             /* shared read buffer: reads are handled at once */
    /* record pipeline (gossip.c) */
    kz__vjob *ready, *ready_tail;    /* every submitted job, in arrival order */
    unsigned jobs_running;
    kz__push *push, *push_tail;
    size_t push_bytes;
    kz__link *cur_src;               /* link whose records are being accepted */
    kz__held *held, *held_tail;
    size_t held_n, held_bytes;
    bool hold_retry;
    uint64_t records_in, records_out, records_rejected;
    kz__order order;
    uint64_t last_persist_ms;
};

/* ---- net.c: established links ---------------------------------------------- */
/* A new link at the head of g's list, no references, state RESOLVE (callers
 * set their own). Owned by g's list; freed once closed and unreferenced. */
kz__link *kz__link_new(kz_gossip *g, bool initiator);
/* Close the socket without a word (no BYE; see kz__link_drop), or mark a
 * socketless link closed. The link is freed when no reference remains. */
void kz__link_close_handle(kz__link *l);
/* Queue n bytes outside the frame stream (handshake messages, the stream
 * header); p is copied. Returns 0, or KZ_EIO once the link is being dropped. */
int kz__link_write_raw(kz__link *l, const uint8_t *p, size_t n);
/* Start reading the socket; l->reading says whether it did. */
void kz__link_read_start(kz__link *l);
/* "peer 1a2b3c4d@10.0.0.1:7420": prefix, 8 id digits, "@", an address, NUL. */
#define KZ__WHO_MAX (5 + 8 + 1 + KZ_ADDR_MAX + 1)
/* The link's label for log lines, into out (sz bytes, KZ__WHO_MAX suffices). */
void kz__link_who(const kz__link *l, char *out, size_t sz);
/* Drop a link: log "peer ID8@ADDR: why", send ERROR code (or BYE when code
 * is 0) if the frame stream is open, then close. Idempotent. */
void kz__link_drop(kz__link *l, uint32_t code, const char *fmt, ...) KZ_PRINTF(3, 4);
/* Seal and queue one encoded message (takes nothing: b stays the caller's).
 * Returns 0 or KZ_E*; on failure the link is being dropped. */
int kz__link_send(kz__link *l, const kz_wire_buf *b);
/* Pause or resume reading after the verification backlog moved. */
void kz__link_flow(kz__link *l);
void kz__link_ref(kz__link *l);
void kz__link_unref(kz__link *l);
/* Housekeeping for every link and peer; called by the tick timer. */
void kz__net_tick(kz_gossip *g, uint64_t now);
/* Close the listener and every link (BYE). */
void kz__net_stop(kz_gossip *g);
/* While stopping: force-close links whose final frame has waited too long.
 * Returns true when every link's socket is closed. */
bool kz__net_drain(kz_gossip *g, uint64_t now);
/* Handle one decoded message on an open link (gossip side). Returns 0, or a
 * KZ_E* code after which the caller stops reading (the link is dropped). */
int kz__gossip_on_msg(kz__link *l, const kz_wire_msg *m);
/* The link became established (HELLOs exchanged, peer attached). */
void kz__gossip_on_open(kz__link *l);
/* The link is going away (called once, before it is detached). */
void kz__gossip_on_close(kz__link *l);

/* ---- net_connect.c: making links ------------------------------------------- */
int kz__net_listen(kz_gossip *g, char *err, size_t errsz);
/* Dial a listed peer now (no-op when linked, dialling or blocked). */
void kz__net_dial(kz_gossip *g, kz__peer *p);
/* A complete handshake message (hs_need bytes) is in hsbuf: answer it, or
 * finish the handshake, open the frame streams, apply policy and send HELLO.
 * Any failure drops the link. */
void kz__link_hs_step(kz__link *l);
/* The peer's first frame, its HELLO: check it against the handshake, store
 * its node record, then establish the link (one per node pair). Returns 0,
 * or KZ_E* once the link is being dropped. */
int kz__link_on_hello(kz__link *l, const kz_wire_hello *h);

/* ---- gossip.c: records ------------------------------------------------------ */
void kz__gossip_flush_arm(kz_gossip *g);
/* Answer queued WANTs / recon haves while the link's write backlog allows. */
void kz__gossip_pump(kz__link *l);
/* Queue ids to send on l as RECORDS. */
void kz__gossip_sendq_add(kz__link *l, const uint8_t (*ids)[KZ_ID_BYTES], size_t n);
void kz__gossip_free_queues(kz_gossip *g);
void kz__gossip_accept_cb(void *ud, kz_node *n, const kz_record *r, kz_record_source src);

/* ---- gossip_peers.c: the peer list ----------------------------------------- */
kz__peer *kz__peer_find(kz_gossip *g, const uint8_t id[KZ_KEY_BYTES]);
kz__peer *kz__peer_get(kz_gossip *g, const uint8_t id[KZ_KEY_BYTES]);
int kz__peers_load(kz_gossip *g);
/* Persist dirty peer entries (listed peers only). */
void kz__peers_persist(kz_gossip *g, bool all);
/* Schedule the next dial after a failure, with exponential backoff and jitter. */
void kz__peer_backoff(kz_gossip *g, kz__peer *p, uint64_t now);

/* ---- gossip_recon.c: reconciliation ---------------------------------------- */
/* Build the first snapshot from the store. */
int kz__order_load(kz_gossip *g);
void kz__order_add(kz__order *o, uint64_t created_ms, const uint8_t id[KZ_ID_BYTES]);
size_t kz__order_size(const kz__order *o);
void kz__order_free(kz__order *o);
/* Start a reconciliation on l as its initiator (no-op when one runs). */
void kz__recon_start(kz__link *l);
int kz__recon_on_msg(kz__link *l, const kz_wire_msg *m);
/* Abandon sessions that stalled; called by the tick. */
void kz__recon_tick(kz__link *l, uint64_t now);
void kz__recon_free(kz__link *l);
/* Is l still waiting for records it asked for (and getting them)? Then a
 * new reconciliation would ask for the same ids again. */
bool kz__link_fetching(const kz__link *l, uint64_t now);
/* Is a session (ours or the peer's) in progress on l? */
bool kz__recon_running(const kz__link *l);

#endif
