/* cmd_node.c: commands about the running node as a whole: status, backup. */
#include "cli.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void kz_bytes_human(char *out, size_t outsz, long long b)
{
    if (b >= 1024LL * 1024 * 1024)
        snprintf(out, outsz, "%.1f GiB", (double)b / (1024.0 * 1024 * 1024));
    else if (b >= 1024LL * 1024)
        snprintf(out, outsz, "%.1f MiB", (double)b / (1024.0 * 1024));
    else if (b >= 1024)
        snprintf(out, outsz, "%.1f KiB", (double)b / 1024.0);
    else
        snprintf(out, outsz, "%lld bytes", b);
}

static void kz_status_print(json_t *r, const void *ctx)
{
    (void)ctx;
    long long up = kz_cli_jint(r, "uptime_s");
    json_t *members = json_object_get(r, "members");
    json_t *store = json_object_get(r, "store");
    json_t *peers = json_object_get(r, "peers");
    char used[32], map[32];
    kz_bytes_human(used, sizeof used, kz_cli_jint(store, "used_bytes"));
    kz_bytes_human(map, sizeof map, kz_cli_jint(store, "map_bytes"));
    printf("node id     %s\n", kz_cli_jstr(r, "node_id"));
    printf("name        %s\n", kz_cli_jstr(r, "name"));
    printf("version     %s\n", kz_cli_jstr(r, "version"));
    printf("uptime      %lldd %02lld:%02lld:%02lld (since %s)\n", up / 86400, (up / 3600) % 24,
           (up / 60) % 60, up % 60, kz_cli_jstr(r, "started"));
    printf("listen      %s (advertised as %s)\n", kz_cli_jstr(r, "listen"),
           kz_cli_jstr(r, "advertise"));
    printf("http        %s\n", kz_cli_jstr(r, "http"));
    printf("members     %lld (%lld revoked)\n", kz_cli_jint(members, "total"),
           kz_cli_jint(members, "revoked"));
    printf("records     %lld", kz_cli_jint(r, "records"));
    const char *key;
    json_t *val;
    bool first = true;
    json_object_foreach(json_object_get(r, "by_type"), key, val) {
        if (json_integer_value(val) > 0) {
            printf("%s %s %lld", first ? ":" : ",", key, (long long)json_integer_value(val));
            first = false;
        }
    }
    printf("\n");
    printf("tombstones  %lld\n", kz_cli_jint(r, "tombstones"));
    printf("store       %s used, map %s\n", used, map);
    if (kz_cli_jint(peers, "known") == 0)
        printf("peers       none yet\n");
    else
        printf("peers       %lld known, %lld connected\n", kz_cli_jint(peers, "known"),
               kz_cli_jint(peers, "connected"));
}

int kz_cmd_status(kz_cli *cli, int argc, char **argv)
{
    kz_cli_opt opts[] = {{"--json", false, false, NULL}};
    char *pos[1];
    int npos;
    int rc = kz_cli_parse(cli, argc, argv, opts, KZ_ARRAY_LEN(opts), pos, &npos);
    if (rc != 0)
        return rc;
    return kz_cli_call_print(cli, "status", NULL, opts[0].set,
                             &(kz_cli_view){.text = kz_status_print});
}

/* The node may run in another working directory: send absolute paths. */
static int kz_abs_path(const char *in, char *out, size_t outsz)
{
    if (in[0] == '/') {
        if ((size_t)snprintf(out, outsz, "%s", in) >= outsz)
            return -1;
        return 0;
    }
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof cwd))
        return -1;
    if ((size_t)snprintf(out, outsz, "%s/%s", cwd, in) >= outsz)
        return -1;
    return 0;
}

/* Where the backup went, and what it leaves out on purpose. */
static void kz_backup_print(json_t *r, const void *ctx)
{
    char size[32];
    size_t i;
    json_t *f;
    (void)ctx;
    kz_bytes_human(size, sizeof size, kz_cli_jint(r, "bytes"));
    printf("backup written: %s (%s)\n", kz_cli_jstr(r, "path"), size);
    printf("The backup deliberately omits the secret keys. Keep safe, separate copies of:\n");
    json_array_foreach(json_object_get(r, "keep"), i, f)
        printf("  %s\n", json_string_value(f) ? json_string_value(f) : "");
    printf("To restore: put data.mdb and these files in a new directory (chmod 700) and run "
           "kizunad --data on it.\n");
}

int kz_cmd_backup(kz_cli *cli, int argc, char **argv)
{
    char *pos[1];
    int npos;
    char abs[KZ_PATH_MAX];
    int rc = kz_cli_parse(cli, argc, argv, NULL, 0, pos, &npos);
    if (rc != 0)
        return rc;
    if (!pos[0][0])
        return kz_cli_usage_error(cli, "OUT_DIR must not be empty");
    if (kz_abs_path(pos[0], abs, sizeof abs) != 0)
        return kz_cli_error("%s: cannot make an absolute path: %s", pos[0], strerror(errno));
    return kz_cli_call_print(cli, "backup", json_pack("{s:s}", "out_dir", abs), false,
                             &(kz_cli_view){.text = kz_backup_print});
}
