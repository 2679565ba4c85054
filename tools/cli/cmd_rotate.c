/* cmd_rotate.c: member rotate (move a member to a new key) and member
 * history (their records under every key they have used). */
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int kz_cmd_member_rotate(kz_cli *cli, int argc, char **argv)
{
    char *pos[1];
    int npos;
    json_t *r;
    int rc = kz_cli_parse(cli, argc, argv, NULL, 0, pos, &npos);
    if (rc != 0)
        return rc;
    if ((rc = kz_cli_check_id(cli, "MEMBER_ID", pos[0])) != 0)
        return rc;
    json_t *args = json_pack("{s:s}", "member", pos[0]);
    rc = kz_cli_call(cli, "member.rotate", args, &r);
    json_decref(args);
    if (rc != 0)
        return rc;
    const char *id = json_string_value(json_object_get(r, "member_id"));
    printf("%s\n", id ? id : "");
    json_decref(r);
    return id ? KZ_EXIT_OK : kz_cli_error("the node sent an unexpected reply");
}

/* The member's keys when there were several, then one line per record. */
static void kz_history_print(json_t *r, const void *ctx)
{
    json_t *keys = json_object_get(r, "keys"), *recs = json_object_get(r, "records");
    const char *cur = json_string_value(json_object_get(r, "member_id"));
    size_t i;
    json_t *k, *e;
    (void)ctx;
    if (json_array_size(keys) > 1) {
        printf("keys (newest first):");
        json_array_foreach(keys, i, k) printf(" %s", json_string_value(k));
        printf("\n");
    }
    json_array_foreach(recs, i, e) {
        const char *author = json_string_value(json_object_get(e, "author"));
        bool old = cur && author && strcmp(cur, author) != 0;
        printf("%s  %-8s  %s%s%.16s\n", json_string_value(json_object_get(e, "created")),
               json_string_value(json_object_get(e, "type")),
               json_string_value(json_object_get(e, "id")), old ? "  by old key " : "",
               old ? author : "");
    }
    if (json_array_size(recs) == 0)
        printf("no records\n");
}

int kz_cmd_member_history(kz_cli *cli, int argc, char **argv)
{
    kz_cli_opt opts[] = {{"--limit", true, false, NULL}, {"--json", false, false, NULL}};
    char *pos[1];
    int npos;
    int rc = kz_cli_parse(cli, argc, argv, opts, KZ_ARRAY_LEN(opts), pos, &npos);
    if (rc != 0)
        return rc;
    if ((rc = kz_cli_check_id(cli, "MEMBER_ID", pos[0])) != 0)
        return rc;
    json_t *args = json_pack("{s:s}", "member", pos[0]);
    const char *ls = kz_cli_optval(opts, KZ_ARRAY_LEN(opts), "--limit");
    if (ls) {
        char *end = NULL;
        errno = 0;
        long v = strtol(ls, &end, 10);
        if (ls[0] < '0' || ls[0] > '9' || errno || *end || v < 1 || v > 1000) {
            json_decref(args);
            return kz_cli_usage_error(cli, "--limit must be 1..1000, got '%.20s'", ls);
        }
        json_object_set_new(args, "limit", json_integer(v));
    }
    return kz_cli_call_print(cli, "member.history", args, opts[1].set,
                             &(kz_cli_view){.text = kz_history_print});
}
