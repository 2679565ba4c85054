/* control_fixtures.h: a real node in a fresh temporary data directory for the
 * control tests (test_control.c, test_control_blocked.c), made and removed
 * around each test by cmocka setup/teardown. Include after kz_test.h. */
#ifndef KZ_CONTROL_FIXTURES_H
#define KZ_CONTROL_FIXTURES_H

#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "kz_node.h"

typedef struct {
    char root[64]; /* the temporary directory, removed by node_teardown */
    char dir[96];  /* the node's data directory, root/n */
    kz_node *node;
} fixture;

/* Make a directory from the mkdtemp template `root_tmpl` (at most 63 bytes),
 * a federation key and a node called `name` listening on `listen` in it, and
 * set *state to the fixture. Returns 0, or -1 after saying why on stderr
 * (cmocka then fails the test). Log output is at error level unless
 * KZ_TEST_DEBUG is set. */
static inline int ctl_node_setup(void **state, const char *root_tmpl, const char *name,
                                 const char *listen)
{
    fixture *f = calloc(1, sizeof *f);
    char fedpath[128], err[KZ_ERR_MAX];
    uint8_t fed[32], id[32];
    if (!f || sodium_init() < 0)
        return -1;
    kz_log_level_set(getenv("KZ_TEST_DEBUG") ? KZ_LOG_DEBUG : KZ_LOG_ERROR);
    snprintf(f->root, sizeof f->root, "%s", root_tmpl);
    if (!mkdtemp(f->root))
        return -1;
    snprintf(fedpath, sizeof fedpath, "%s/fed.key", f->root);
    snprintf(f->dir, sizeof f->dir, "%s/n", f->root);
    randombytes_buf(fed, sizeof fed);
    if (kz_keyfile_write(fedpath, KZ_KEY_FEDERATION, fed, err, sizeof err) != 0)
        return -1;
    kz_init_opts o = {.dir = f->dir, .name = name, .federation_key_path = fedpath,
                      .listen = listen};
    if (kz_datadir_init(&o, id, err, sizeof err) != 0) {
        fprintf(stderr, "init: %s\n", err);
        return -1;
    }
    if (kz_node_create(&f->node, f->dir, NULL, err, sizeof err) != 0) {
        fprintf(stderr, "create: %s\n", err);
        return -1;
    }
    /* kz_node_create applied the node's configured level; the test's wins. */
    kz_log_level_set(getenv("KZ_TEST_DEBUG") ? KZ_LOG_DEBUG : KZ_LOG_ERROR);
    *state = f;
    return 0;
}

/* Free the node and remove the fixture's directory; -1 if removing failed. */
static inline int node_teardown(void **state)
{
    fixture *f = *state;
    char cmd[128];
    kz_node_free(f->node);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->root);
    int rc = system(cmd);
    free(f);
    return rc == 0 ? 0 : -1;
}

#endif
