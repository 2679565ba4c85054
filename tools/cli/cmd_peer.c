/* cmd_peer.c: federation commands: peer add/list/remove/block/unblock and
 * sync status. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

/* "2026-11-24T10:00:00.123Z" or "never". */
static const char *kz_ptime(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "never";
}

static void kz_human(char *out, size_t outsz, long long b)
{
    if (b < 0)
        b = 0; /* counters are never negative; keep the output bounded */
    if (b >= 1024LL * 1024 * 1024)
        snprintf(out, outsz, "%.1fG", (double)b / (1024.0 * 1024 * 1024));
    else if (b >= 1024LL * 1024)
        snprintf(out, outsz, "%.1fM", (double)b / (1024.0 * 1024));
    else if (b >= 1024)
        snprintf(out, outsz, "%.1fK", (double)b / 1024.0);
    else
        snprintf(out, outsz, "%dB", (int)b); /* b < 1024 here */
}

int kz_cmd_peer_add(kz_cli *cli, int argc, char **argv)
{
    char *pos[2];
    int npos;
    char err[KZ_ERR_MAX];
    int rc = kz_cli_parse(cli, argc, argv, NULL, 0, pos, &npos);
    if (rc != 0)
        return rc;
    if (kz_addr_parse(pos[0], NULL, 0, NULL, err, sizeof err) != 0)
        return kz_cli_usage_error(cli, "HOST:PORT: %s", err);
    if ((rc = kz_cli_check_id(cli, "NODE_ID", pos[1])) != 0)
        return rc;
    return kz_cli_call_print_id(cli, "peer.add",
                                json_pack("{s:s, s:s}", "addr", pos[0], "node_id", pos[1]),
                                "node_id");
}

/* peer remove / block / unblock NODE_ID */
static int kz_peer_simple(kz_cli *cli, int argc, char **argv, const char *verb)
{
    char *pos[1];
    int npos;
    int rc = kz_cli_parse(cli, argc, argv, NULL, 0, pos, &npos);
    if (rc != 0)
        return rc;
    if ((rc = kz_cli_check_id(cli, "NODE_ID", pos[0])) != 0)
        return rc;
    return kz_cli_call_print_id(cli, verb, json_pack("{s:s}", "node_id", pos[0]), "node_id");
}

int kz_cmd_peer_remove(kz_cli *cli, int argc, char **argv)
{
    return kz_peer_simple(cli, argc, argv, "peer.remove");
}

int kz_cmd_peer_block(kz_cli *cli, int argc, char **argv)
{
    return kz_peer_simple(cli, argc, argv, "peer.block");
}

int kz_cmd_peer_unblock(kz_cli *cli, int argc, char **argv)
{
    return kz_peer_simple(cli, argc, argv, "peer.unblock");
}

/* Call verb, pick the "peers" array; with --json print it and return. */
static int kz_peer_listing(kz_cli *cli, int argc, char **argv, const char *verb, json_t **r,
                           json_t **list, bool *printed)
{
    kz_cli_opt opts[] = {{"--json", false, false, NULL}};
    char *pos[1];
    int npos;
    *printed = false;
    int rc = kz_cli_parse(cli, argc, argv, opts, KZ_ARRAY_LEN(opts), pos, &npos);
    if (rc != 0)
        return rc;
    if ((rc = kz_cli_call(cli, verb, NULL, r)) != 0)
        return rc;
    *list = json_object_get(*r, "peers");
    if (!json_is_array(*list)) {
        json_decref(*r);
        return kz_cli_error("the node sent an unexpected reply");
    }
    if (opts[0].set) {
        *printed = true;
        rc = kz_cli_print_json(strcmp(verb, "peer.list") == 0 ? *list : *r);
        json_decref(*r);
        return rc;
    }
    return 0;
}

int kz_cmd_peer_list(kz_cli *cli, int argc, char **argv)
{
    json_t *r, *list, *p;
    bool printed;
    size_t i;
    int rc = kz_peer_listing(cli, argc, argv, "peer.list", &r, &list, &printed);
    if (rc != 0 || printed)
        return rc;
    if (json_array_size(list) == 0)
        printf("no peers yet (add one with: kizuna peer add HOST:PORT NODE_ID)\n");
    json_array_foreach(list, i, p) {
        char bi[16], bo[16];
        kz_human(bi, sizeof bi, kz_cli_jint(p, "bytes_in"));
        kz_human(bo, sizeof bo, kz_cli_jint(p, "bytes_out"));
        const char *addr = kz_cli_jstr(p, "address");
        printf("%s  %-10s  %s\n", kz_cli_jstr(p, "node_id"), kz_cli_jstr(p, "state"),
               kz_cli_jstr(p, "name")[0] ? kz_cli_jstr(p, "name") : "(name not known yet)");
        printf("    address %s%s%s%s, last contact %s\n", addr[0] ? addr : "(inbound only)",
               kz_cli_jstr(p, "remote")[0] ? " (linked " : "", kz_cli_jstr(p, "direction"),
               kz_cli_jstr(p, "remote")[0] ? ")" : "", kz_ptime(p, "last_contact"));
        printf("    records in %lld, out %lld; bytes in %s, out %s\n", kz_cli_jint(p, "records_in"),
               kz_cli_jint(p, "records_out"), bi, bo);
        if (kz_cli_jstr(p, "last_error")[0])
            printf("    last error: %s\n", kz_cli_jstr(p, "last_error"));
    }
    json_decref(r);
    return KZ_EXIT_OK;
}

int kz_cmd_sync_status(kz_cli *cli, int argc, char **argv)
{
    json_t *r, *list, *p;
    bool printed;
    size_t i;
    int rc = kz_peer_listing(cli, argc, argv, "sync.status", &r, &list, &printed);
    if (rc != 0 || printed)
        return rc;
    printf("records in %lld, out %lld, rejected %lld; waiting for attestation %lld; index %lld\n",
           kz_cli_jint(r, "records_in"), kz_cli_jint(r, "records_out"),
           kz_cli_jint(r, "records_rejected"), kz_cli_jint(r, "held_records"),
           kz_cli_jint(r, "index_items"));
    if (json_array_size(list) == 0)
        printf("no peers yet\n");
    json_array_foreach(list, i, p) {
        char bi[16], bo[16];
        kz_human(bi, sizeof bi, kz_cli_jint(p, "bytes_in"));
        kz_human(bo, sizeof bo, kz_cli_jint(p, "bytes_out"));
        printf("%.16s  %-10s  last sync %s (%lld differences)%s\n", kz_cli_jstr(p, "node_id"),
               kz_cli_jstr(p, "state"), kz_ptime(p, "last_sync"), kz_cli_jint(p, "differences"),
               json_is_true(json_object_get(p, "running")) ? ", running" : "");
        printf("    records in %lld, out %lld; bytes in %s, out %s\n", kz_cli_jint(p, "records_in"),
               kz_cli_jint(p, "records_out"), bi, bo);
    }
    json_decref(r);
    return KZ_EXIT_OK;
}
