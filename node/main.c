/* main.c: kizunad, the node daemon: parse the command line, start the node,
 * run its loop until SIGINT/SIGTERM, shut down cleanly. */
#include "kz_gossip.h"
#include "kz_node.h"
#include "internal.h"

#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static void kz_usage(FILE *f)
{
    fprintf(f, "usage: kizunad --data DIR [--log-level debug|info|warn|error]\n"
               "       kizunad --version\n"
               "Runs a kizuna node in the foreground on the data directory DIR (made by\n"
               "`kizuna init`). SIGINT or SIGTERM stop it cleanly. Logs go to stderr.\n");
}

int main(int argc, char **argv)
{
    const char *dir = getenv("KIZUNA_DATA");
    kz_node_opts opts = {0};
    char err[KZ_ERR_MAX];
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *val = NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            kz_usage(stdout);
            return 0;
        }
        if (strcmp(a, "--version") == 0) {
            printf("kizunad %s\n", KZ_VERSION);
            return 0;
        }
        if (strncmp(a, "--data=", 7) == 0) {
            dir = a + 7;
            continue;
        }
        if (strncmp(a, "--log-level=", 12) == 0) {
            val = a + 12;
        } else if (strcmp(a, "--data") == 0 || strcmp(a, "--log-level") == 0) {
            if (i + 1 >= argc) {
                fprintf(stderr, "kizunad: %s needs a value\n", a);
                kz_usage(stderr);
                return 2;
            }
            if (strcmp(a, "--data") == 0) {
                dir = argv[++i];
                continue;
            }
            val = argv[++i];
        } else {
            fprintf(stderr, "kizunad: unknown argument '%s'\n", a);
            kz_usage(stderr);
            return 2;
        }
        if (kz_log_level_parse(val, &opts.log_level) != 0) {
            fprintf(stderr, "kizunad: --log-level must be debug, info, warn or error, not '%s'\n", val);
            return 2;
        }
        opts.have_log_level = true;
    }
    if (!dir || !dir[0]) {
        fprintf(stderr, "kizunad: no data directory: pass --data DIR (or set KIZUNA_DATA)\n");
        kz_usage(stderr);
        return 2;
    }
    if (sodium_init() < 0) {
        fprintf(stderr, "kizunad: libsodium failed to initialise\n");
        return 1;
    }
    /* Everything the node creates (socket, backups, temp files) is private. */
    umask(077);
    signal(SIGPIPE, SIG_IGN);

    kz_node *n = NULL;
    int rc = kz_node_create(&n, dir, &opts, err, sizeof err);
    if (rc != 0) {
        fprintf(stderr, "kizunad: %s\n", err);
        return 1;
    }
    if ((rc = kz_node_service_add(n, &kz_gossip_service)) != 0) {
        fprintf(stderr, "kizunad: cannot add the federation layer: %s\n", kz_strerror(rc));
        kz_node_free(n);
        return 1;
    }
    if ((rc = kz_node_service_add(n, &kz_search_service)) != 0) {
        fprintf(stderr, "kizunad: cannot add the search index service: %s\n", kz_strerror(rc));
        kz_node_free(n);
        return 1;
    }
    uv_loop_t loop;
    if (uv_loop_init(&loop) != 0) {
        fprintf(stderr, "kizunad: cannot create the event loop\n");
        kz_node_free(n);
        return 1;
    }
    rc = kz_node_run(n, &loop);
    if (uv_loop_close(&loop) != 0)
        kz_log_warn("node", "event loop closed with handles still open");
    kz_node_free(n);
    if (rc != 0) {
        fprintf(stderr, "kizunad: stopped: %s\n", kz_strerror(rc));
        return 1;
    }
    kz_log_info("node", "stopped cleanly");
    return 0;
}
