/* datadir.c: the data directory: paths, durable file writes, the
 * one-kizunad-per-directory lock and `kizuna init`. */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

int kz_path_join(char *out, size_t outsz, const char *dir, const char *name)
{
    size_t dl = strlen(dir);
    while (dl > 1 && dir[dl - 1] == '/')
        dl--;
    int w = snprintf(out, outsz, "%.*s/%s", (int)dl, dir, name);
    if (w < 0 || (size_t)w >= outsz)
        return KZ_ETOOBIG;
    return 0;
}

int kz__dir_sync(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return KZ_EIO;
    int rc = fsync(fd) == 0 ? 0 : KZ_EIO;
    close(fd);
    return rc;
}

static void kz_dirname(char *out, size_t outsz, const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash) {
        snprintf(out, outsz, ".");
    } else if (slash == path) {
        snprintf(out, outsz, "/");
    } else {
        snprintf(out, outsz, "%.*s", (int)(slash - path), path);
    }
}

int kz__file_write_atomic(const char *path, const void *data, size_t len, mode_t mode,
                          bool exclusive, char *err, size_t errsz)
{
    char tmp[KZ_PATH_MAX];
    char dir[KZ_PATH_MAX];
    uint32_t rnd = randombytes_random();
    if (snprintf(tmp, sizeof tmp, "%s.tmp-%ld-%08x", path, (long)getpid(), (unsigned)rnd) >=
        (int)sizeof tmp) {
        snprintf(err, errsz, "%s: path too long", path);
        return KZ_ETOOBIG;
    }
    if (exclusive && access(path, F_OK) == 0) {
        snprintf(err, errsz, "%s already exists; refusing to overwrite it", path);
        return KZ_EEXIST;
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0) {
        snprintf(err, errsz, "cannot create %s: %s", tmp, strerror(errno));
        return KZ_EIO;
    }
    const char *p = data;
    size_t left = len;
    if (fchmod(fd, mode) != 0)
        goto fail_write;
    while (left > 0) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            goto fail_write;
        p += w;
        left -= (size_t)w;
    }
    if (fsync(fd) != 0)
        goto fail_write;
    if (close(fd) != 0) {
        fd = -1;
        goto fail_write;
    }
    fd = -1;
    if (exclusive) {
        if (link(tmp, path) != 0) {
            int e = errno;
            unlink(tmp);
            if (e == EEXIST) {
                snprintf(err, errsz, "%s already exists; refusing to overwrite it", path);
                return KZ_EEXIST;
            }
            snprintf(err, errsz, "cannot create %s: %s", path, strerror(e));
            return KZ_EIO;
        }
        unlink(tmp);
    } else if (rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        snprintf(err, errsz, "cannot replace %s: %s", path, strerror(e));
        return KZ_EIO;
    }
    kz_dirname(dir, sizeof dir, path);
    if (kz__dir_sync(dir) != 0) {
        snprintf(err, errsz, "cannot sync directory %s: %s", dir, strerror(errno));
        return KZ_EIO;
    }
    return 0;

fail_write: {
    int e = errno;
    if (fd >= 0)
        close(fd);
    unlink(tmp);
    snprintf(err, errsz, "cannot write %s: %s", path, strerror(e));
    return KZ_EIO;
}
}

int kz__file_read(const char *path, size_t max, char **out, size_t *len, char *err, size_t errsz)
{
    *out = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        snprintf(err, errsz, "cannot open %s: %s", path, strerror(e));
        return e == ENOENT ? KZ_ENOTFOUND : KZ_EIO;
    }
    struct stat st;
    int rc = KZ_EIO;
    char *buf = NULL;
    if (fstat(fd, &st) != 0) {
        snprintf(err, errsz, "cannot stat %s: %s", path, strerror(errno));
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, errsz, "%s is not a regular file", path);
        rc = KZ_EINVAL;
        goto out;
    }
    if ((uint64_t)st.st_size > max) {
        snprintf(err, errsz, "%s is larger than %zu bytes", path, max);
        rc = KZ_ETOOBIG;
        goto out;
    }
    buf = malloc(max + 2);
    if (!buf) {
        snprintf(err, errsz, "out of memory reading %s", path);
        rc = KZ_ENOMEM;
        goto out;
    }
    size_t n = 0;
    for (;;) {
        ssize_t r = read(fd, buf + n, max + 1 - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            snprintf(err, errsz, "cannot read %s: %s", path, strerror(errno));
            goto out;
        }
        if (r == 0)
            break;
        n += (size_t)r;
        if (n > max) {
            snprintf(err, errsz, "%s is larger than %zu bytes", path, max);
            rc = KZ_ETOOBIG;
            goto out;
        }
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    buf = NULL;
    rc = 0;
out:
    free(buf);
    close(fd);
    return rc;
}

/* ---- Lock ---------------------------------------------------------------------- */

int kz_datadir_lock(const char *dir, int *fd_out, char *err, size_t errsz)
{
    char path[KZ_PATH_MAX];
    *fd_out = -1;
    if (kz_path_join(path, sizeof path, dir, KZ_FILE_LOCK) != 0) {
        snprintf(err, errsz, "%s: path too long", dir);
        return KZ_ETOOBIG;
    }
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(err, errsz, "cannot open %s: %s", path, strerror(errno));
        return KZ_EIO;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        if (e == EWOULDBLOCK) {
            char buf[32] = "";
            ssize_t r = pread(fd, buf, sizeof buf - 1, 0);
            long pid = 0;
            if (r > 0) {
                buf[r] = '\0';
                char *end = NULL;
                pid = strtol(buf, &end, 10);
                if (end == buf || (*end != '\n' && *end != '\0') || pid <= 0)
                    pid = 0;
            }
            if (pid > 0)
                snprintf(err, errsz, "%s is already served by pid %ld", dir, pid);
            else
                snprintf(err, errsz, "%s is already in use by another kizunad or kizuna init", dir);
            close(fd);
            return KZ_ELOCKED;
        }
        snprintf(err, errsz, "cannot lock %s: %s", path, strerror(e));
        close(fd);
        return KZ_EIO;
    }
    char pidline[32];
    int n = snprintf(pidline, sizeof pidline, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, pidline, (size_t)n, 0) != n) {
        snprintf(err, errsz, "cannot write %s: %s", path, strerror(errno));
        close(fd);
        return KZ_EIO;
    }
    *fd_out = fd;
    return 0;
}

void kz_datadir_unlock(int fd)
{
    if (fd >= 0) {
        /* Leave the file (removing it would race a newcomer's open); clear
         * the pid so it does not name a dead process. */
        if (ftruncate(fd, 0) != 0) {
            /* nothing useful to do: the lock is released by close anyway */
        }
        close(fd);
    }
}

/* ---- kizuna init ---------------------------------------------------------------- */

static const char *const kz_node_files[] = {
    KZ_FILE_CONFIG, KZ_FILE_NODE_KEY, KZ_FILE_STORAGE_KEY, KZ_FILE_FEDERATION_KEY, KZ_FILE_DATA,
};
/* Files `init` may create, removed again if it fails half-way. */
static const char *const kz_init_files[] = {
    KZ_FILE_CONFIG, KZ_FILE_NODE_KEY, KZ_FILE_STORAGE_KEY, KZ_FILE_FEDERATION_KEY,
    KZ_FILE_DATA, "data.mdb-lock", "lock.mdb", KZ_FILE_LOCK,
};

static void kz_init_cleanup(const char *dir, bool created_dir)
{
    char path[KZ_PATH_MAX];
    for (size_t i = 0; i < KZ_ARRAY_LEN(kz_init_files); i++) {
        if (kz_path_join(path, sizeof path, dir, kz_init_files[i]) == 0)
            unlink(path);
    }
    if (created_dir)
        rmdir(dir);
}

int kz_datadir_init(const kz_init_opts *o, uint8_t node_id[KZ_KEY_BYTES], char *err, size_t errsz)
{
    char path[KZ_PATH_MAX];
    char why[KZ_ERR_MAX];
    uint8_t fed[KZ_KEY_SECRET_BYTES];
    uint8_t seed[KZ_KEY_SECRET_BYTES];
    uint8_t storage[KZ_KEY_SECRET_BYTES];
    kz_keys keys;
    kz_config cfg;
    kz_store *store = NULL;
    kz_record rec;
    bool created_dir = false;
    int lock_fd = -1;
    int rc;

    memset(&rec, 0, sizeof rec);
    kz_keys_wipe(&keys);
    kz_config_defaults(&cfg);
    size_t nlen = strlen(o->name);
    if (nlen == 0 || nlen > KZ_NAME_MAX || !kz_utf8_valid(o->name, nlen, 0)) {
        snprintf(err, errsz, "--name must be 1 to %d bytes of UTF-8 without control characters",
                 KZ_NAME_MAX);
        return KZ_EINVAL;
    }
    memcpy(cfg.name, o->name, nlen + 1);
    if (o->listen) {
        if (kz_addr_parse(o->listen, NULL, 0, NULL, why, sizeof why) != 0) {
            snprintf(err, errsz, "--listen: %s", why);
            return KZ_EINVAL;
        }
        snprintf(cfg.listen, sizeof cfg.listen, "%s", o->listen);
    }
    if (o->http) {
        if (kz_addr_parse(o->http, NULL, 0, NULL, why, sizeof why) != 0) {
            snprintf(err, errsz, "--http: %s", why);
            return KZ_EINVAL;
        }
        snprintf(cfg.http, sizeof cfg.http, "%s", o->http);
    }
    if (strlen(o->dir) > KZ_PATH_MAX - 64) {
        snprintf(err, errsz, "%s: path too long", o->dir);
        return KZ_ETOOBIG;
    }
    rc = kz_keyfile_read(o->federation_key_path, KZ_KEY_FEDERATION, fed, err, errsz);
    if (rc != 0)
        return rc;

    /* The directory: new, or existing but holding no node. */
    struct stat st;
    if (mkdir(o->dir, 0700) == 0) {
        created_dir = true;
    } else if (errno == EEXIST) {
        if (stat(o->dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
            snprintf(err, errsz, "%s exists and is not a directory", o->dir);
            rc = KZ_EEXIST;
            goto fail_nolock;
        }
    } else {
        snprintf(err, errsz, "cannot create %s: %s", o->dir, strerror(errno));
        rc = KZ_EIO;
        goto fail_nolock;
    }
    rc = kz_datadir_lock(o->dir, &lock_fd, err, errsz);
    if (rc != 0) {
        if (created_dir)
            rmdir(o->dir);
        goto fail_nolock; /* someone else owns it: remove nothing else */
    }
    /* Checked under the lock, so two concurrent inits cannot both pass. */
    for (size_t i = 0; i < KZ_ARRAY_LEN(kz_node_files); i++) {
        if (kz_path_join(path, sizeof path, o->dir, kz_node_files[i]) == 0 &&
            access(path, F_OK) == 0) {
            snprintf(err, errsz, "%s already holds a node (%s exists); refusing to touch it",
                     o->dir, kz_node_files[i]);
            rc = KZ_EEXIST;
            kz_datadir_unlock(lock_fd);
            goto fail_nolock;
        }
    }
    if (!created_dir && chmod(o->dir, 0700) != 0) {
        snprintf(err, errsz, "cannot chmod 700 %s: %s", o->dir, strerror(errno));
        rc = KZ_EIO;
        kz_datadir_unlock(lock_fd);
        goto fail_nolock;
    }

    randombytes_buf(seed, sizeof seed);
    randombytes_buf(storage, sizeof storage);
    if (crypto_sign_seed_keypair(keys.node_pk, keys.node_sk, seed) != 0) {
        snprintf(err, errsz, "cannot generate the node key pair");
        rc = KZ_ECRYPTO;
        goto fail;
    }
    if ((rc = kz_path_join(path, sizeof path, o->dir, KZ_FILE_CONFIG)) != 0 ||
        (rc = kz_config_write(&cfg, path, true, err, errsz)) != 0)
        goto fail;
    if ((rc = kz_path_join(path, sizeof path, o->dir, KZ_FILE_NODE_KEY)) != 0 ||
        (rc = kz_keyfile_write(path, KZ_KEY_NODE, seed, err, errsz)) != 0)
        goto fail;
    if ((rc = kz_path_join(path, sizeof path, o->dir, KZ_FILE_STORAGE_KEY)) != 0 ||
        (rc = kz_keyfile_write(path, KZ_KEY_STORAGE, storage, err, errsz)) != 0)
        goto fail;
    if ((rc = kz_path_join(path, sizeof path, o->dir, KZ_FILE_FEDERATION_KEY)) != 0 ||
        (rc = kz_keyfile_write(path, KZ_KEY_FEDERATION, fed, err, errsz)) != 0)
        goto fail;

    kz_store_opts sopts = {0};
    rc = kz_store_create(&store, o->dir, &sopts);
    if (rc != 0) {
        snprintf(err, errsz, "cannot create the store in %s: %s", o->dir, kz_strerror(rc));
        goto fail;
    }
    rc = kz__node_record_sign(&cfg, &keys, kz_now_ms(), &rec, err, errsz);
    if (rc != 0)
        goto fail;
    kz_put_result res;
    rc = kz_store_put(store, &rec, &res);
    if (rc != 0) {
        snprintf(err, errsz, "cannot store the node record: %s", kz__refusal(rc));
        goto fail;
    }
    kz_store_free(store);
    store = NULL;
    memcpy(node_id, keys.node_pk, KZ_KEY_BYTES);
    kz_record_close(&rec);
    kz_datadir_unlock(lock_fd);
    kz__dir_sync(o->dir);
    rc = 0;
    goto wipe;

fail:
    kz_record_close(&rec);
    kz_store_free(store);
    kz_init_cleanup(o->dir, created_dir);
    if (lock_fd >= 0)
        close(lock_fd);
    goto wipe;
fail_nolock:
    /* Nothing of ours exists yet (or the directory belongs to someone
     * else): remove nothing. */
    kz_record_close(&rec);
wipe:
    sodium_memzero(fed, sizeof fed);
    sodium_memzero(seed, sizeof seed);
    sodium_memzero(storage, sizeof storage);
    kz_keys_wipe(&keys);
    return rc;
}
