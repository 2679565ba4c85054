/* handlers_peer.c: control verbs of the federation layer: peer.add,
 * peer.list, peer.remove, peer.block, peer.unblock and sync.status. */
#include "internal.h"
#include "kz_gossip.h"

#include <stdio.h>
#include <string.h>

static json_t *time_or_null(uint64_t ms)
{
    char t[KZ_TIME_STR_MAX];
    if (!ms)
        return json_null();
    kz_time_format(t, ms);
    return json_string(t);
}

static int arg_node(json_t *args, uint8_t id[KZ_KEY_BYTES], char *err, size_t errsz)
{
    return kz__arg_id(args, "node_id", id, err, errsz);
}

static int kz_h_peer_add(kz_node *n, json_t *args, json_t **result, char *err, size_t errsz)
{
    static const char *const allowed[] = {"addr", "node_id", NULL};
    const char *addr;
    uint8_t id[KZ_KEY_BYTES];
    int rc = kz__arg_only(args, allowed, err, errsz);
    if (rc == 0)
        rc = kz__arg_str(args, "addr", true, KZ_ADDR_MAX, false, &addr, err, errsz);
    if (rc == 0)
        rc = arg_node(args, id, err, errsz);
    if (rc == 0)
        rc = kz_gossip_peer_add(n, id, addr, err, errsz);
    if (rc != 0)
        return rc;
    *result = json_pack("{s:o, s:s}", "node_id", kz_json_hex(id, KZ_KEY_BYTES), "addr", addr);
    return *result ? 0 : KZ_ENOMEM;
}

static int simple_peer_verb(kz_node *n, json_t *args, json_t **result, char *err, size_t errsz,
                            int what)
{
    static const char *const allowed[] = {"node_id", NULL};
    uint8_t id[KZ_KEY_BYTES];
    int rc = kz__arg_only(args, allowed, err, errsz);
    if (rc == 0)
        rc = arg_node(args, id, err, errsz);
    if (rc != 0)
        return rc;
    if (what == 0)
        rc = kz_gossip_peer_remove(n, id, err, errsz);
    else
        rc = kz_gossip_peer_block(n, id, what == 1, err, errsz);
    if (rc != 0)
        return rc;
    *result = json_pack("{s:o}", "node_id", kz_json_hex(id, KZ_KEY_BYTES));
    return *result ? 0 : KZ_ENOMEM;
}

static int kz_h_peer_remove(kz_node *n, json_t *args, json_t **result, char *err, size_t errsz)
{
    return simple_peer_verb(n, args, result, err, errsz, 0);
}

static int kz_h_peer_block(kz_node *n, json_t *args, json_t **result, char *err, size_t errsz)
{
    return simple_peer_verb(n, args, result, err, errsz, 1);
}

static int kz_h_peer_unblock(kz_node *n, json_t *args, json_t **result, char *err, size_t errsz)
{
    return simple_peer_verb(n, args, result, err, errsz, 2);
}

static void list_cb(void *ud, const kz_gossip_peer_info *in)
{
    json_t *arr = ud;
    json_t *o = json_pack("{s:o, s:s, s:s, s:s, s:b, s:o, s:o, s:I, s:I, s:I, s:I}",
                          "node_id", kz_json_hex(in->node, KZ_KEY_BYTES),
                          "name", in->name,
                          "address", in->addr,
                          "state", in->state,
                          "listed", in->listed,
                          "added", time_or_null(in->st.added_ms),
                          "last_contact", time_or_null(in->st.last_contact_ms),
                          "records_in", (json_int_t)in->st.records_in,
                          "records_out", (json_int_t)in->st.records_out,
                          "bytes_in", (json_int_t)in->st.bytes_in,
                          "bytes_out", (json_int_t)in->st.bytes_out);
    if (!o)
        return;
    if (in->remote[0]) {
        json_object_set_new(o, "remote", json_string(in->remote));
        json_object_set_new(o, "direction", json_string(in->inbound ? "inbound" : "outbound"));
        json_object_set_new(o, "connected_since", time_or_null(in->connected_since_ms));
        json_object_set_new(o, "tx_backlog", json_integer((json_int_t)in->tx_backlog));
        json_object_set_new(o, "rx_backlog", json_integer((json_int_t)in->rx_backlog));
    }
    if (in->next_dial_ms)
        json_object_set_new(o, "next_attempt", time_or_null(in->next_dial_ms));
    if (in->last_error[0])
        json_object_set_new(o, "last_error", json_string(in->last_error));
    json_array_append_new(arr, o);
}

static int kz_h_peer_list(kz_node *n, json_t *args, json_t **result, char *err, size_t errsz)
{
    static const char *const allowed[] = {NULL};
    int rc = kz__arg_only(args, allowed, err, errsz);
    if (rc != 0)
        return rc;
    json_t *arr = json_array();
    rc = kz_gossip_peer_each(n, list_cb, arr);
    if (rc != 0) {
        json_decref(arr);
        snprintf(err, errsz, "cannot read the peer list: %s", kz_strerror(rc));
        return rc;
    }
    *result = json_pack("{s:o}", "peers", arr);
    return *result ? 0 : KZ_ENOMEM;
}

static void sync_cb(void *ud, const kz_gossip_peer_info *in)
{
    json_t *arr = ud;
    json_t *o = json_pack("{s:o, s:s, s:s, s:b, s:o, s:I, s:I, s:I, s:I, s:I, s:I, s:b}",
                          "node_id", kz_json_hex(in->node, KZ_KEY_BYTES),
                          "name", in->name,
                          "state", in->state,
                          "connected", strcmp(in->state, "connected") == 0,
                          "last_sync", time_or_null(in->st.last_sync_ms),
                          "differences", (json_int_t)in->st.sync_diffs,
                          "syncs", (json_int_t)in->syncs,
                          "records_in", (json_int_t)in->st.records_in,
                          "records_out", (json_int_t)in->st.records_out,
                          "bytes_in", (json_int_t)in->st.bytes_in,
                          "bytes_out", (json_int_t)in->st.bytes_out,
                          "running", in->sync_running);
    if (o)
        json_array_append_new(arr, o);
}

static int kz_h_sync_status(kz_node *n, json_t *args, json_t **result, char *err, size_t errsz)
{
    static const char *const allowed[] = {NULL};
    kz_gossip_stats st;
    int rc = kz__arg_only(args, allowed, err, errsz);
    if (rc != 0)
        return rc;
    json_t *arr = json_array();
    rc = kz_gossip_peer_each(n, sync_cb, arr);
    if (rc != 0) {
        json_decref(arr);
        snprintf(err, errsz, "cannot read the peer list: %s", kz_strerror(rc));
        return rc;
    }
    kz_gossip_stats_get(n, &st);
    *result = json_pack("{s:b, s:I, s:I, s:I, s:I, s:I, s:o}",
                        "running", kz_gossip_get(n) != NULL,
                        "held_records", (json_int_t)st.held_records,
                        "records_in", (json_int_t)st.records_in,
                        "records_out", (json_int_t)st.records_out,
                        "records_rejected", (json_int_t)st.records_rejected,
                        "index_items", (json_int_t)st.order_items,
                        "peers", arr);
    return *result ? 0 : KZ_ENOMEM;
}

static const kz_control_verb kz_peer_verbs[] = {
    {"peer.add", kz_h_peer_add, "add or update a listed peer {addr, node_id} and dial it"},
    {"peer.list", kz_h_peer_list, "known peers with state, address, last contact and traffic"},
    {"peer.remove", kz_h_peer_remove, "forget a peer {node_id} and close its link"},
    {"peer.block", kz_h_peer_block, "block (defederate) a node {node_id}"},
    {"peer.unblock", kz_h_peer_unblock, "unblock a node {node_id}"},
    {"sync.status", kz_h_sync_status, "per-peer reconciliation and traffic"},
};

const kz__verb_table kz__verbs_peer = {kz_peer_verbs, KZ_ARRAY_LEN(kz_peer_verbs)};
