/* env.c: the LMDB environment: open and close, map growth, transaction
 * helpers, error translation, statistics and backup. */
#include "store_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAP_DEFAULT ((size_t)64 << 20)
#define MAP_MAX_DEFAULT ((size_t)64 << 30)
#define MAX_DBS 32

/* Transactions this thread holds on any store. The map may only be resized
 * by a thread that holds none: taking map_lock exclusively while holding it
 * shared would deadlock (e.g. a write from inside an iteration callback). */
static _Thread_local unsigned txn_depth;

int kz__err(int rc)
{
    switch (rc) {
    case MDB_SUCCESS:
        return 0;
    case MDB_NOTFOUND:
        return KZ_ENOTFOUND;
    case MDB_KEYEXIST:
        return KZ_EEXIST;
    case MDB_MAP_FULL:
        return KZ__EMAPFULL;
    case ENOMEM:
        return KZ_ENOMEM;
    case EIO:
    case ENOSPC:
    case EACCES:
    case EROFS:
    case ENOENT:
    case ENOTDIR:
        return KZ_EIO;
    default:
        return KZ_ESTORE;
    }
}

static size_t page_round(size_t n)
{
    long ps = sysconf(_SC_PAGESIZE);
    size_t p = ps > 0 ? (size_t)ps : 4096;
    if (n > SIZE_MAX - p)
        return SIZE_MAX / p * p;
    return (n + p - 1) / p * p;
}

static size_t map_size_now(kz_store *s)
{
    MDB_envinfo info;
    if (mdb_env_info(s->env, &info) != 0)
        return 0;
    return info.me_mapsize;
}

/* Resize the map to size (0 = adopt the size another process recorded). */
static int map_resize(kz_store *s, size_t size)
{
    if (txn_depth > 0)
        return KZ_ESTORE;
    pthread_rwlock_wrlock(&s->map_lock);
    int rc = mdb_env_set_mapsize(s->env, size);
    pthread_rwlock_unlock(&s->map_lock);
    return rc ? KZ_ESTORE : 0;
}

static int map_grow(kz_store *s)
{
    size_t cur = map_size_now(s);
    if (cur == 0 || cur >= s->map_size_max)
        return KZ_ESTORE;
    size_t next = cur > s->map_size_max / 2 ? s->map_size_max : cur * 2;
    return map_resize(s, page_round(next));
}

static void lock_shared(kz_store *s)
{
    pthread_rwlock_rdlock(&s->map_lock);
    txn_depth++;
}

static void unlock_shared(kz_store *s)
{
    txn_depth--;
    pthread_rwlock_unlock(&s->map_lock);
}

/* Begin a txn under the shared map lock; adopts a map grown elsewhere. */
static int txn_begin(kz_store *s, unsigned flags, MDB_txn **txn)
{
    for (int attempt = 0;; attempt++) {
        lock_shared(s);
        int rc = mdb_txn_begin(s->env, NULL, flags, txn);
        if (rc == 0)
            return 0;
        unlock_shared(s);
        if (rc != MDB_MAP_RESIZED || attempt >= 3)
            return kz__err(rc) == KZ__EMAPFULL ? KZ_ESTORE : kz__err(rc);
        int r2 = map_resize(s, 0);
        if (r2)
            return r2;
    }
}

int kz__rd_begin(kz_store *s, MDB_txn **txn)
{
    return txn_begin(s, MDB_RDONLY, txn);
}

void kz__rd_end(kz_store *s, MDB_txn *txn)
{
    mdb_txn_abort(txn);
    unlock_shared(s);
}

int kz__write(kz_store *s, kz__write_fn fn, void *ud)
{
    if (s->read_only)
        return KZ_EPERM;
    for (;;) {
        MDB_txn *txn;
        int rc = txn_begin(s, 0, &txn);
        if (rc)
            return rc;
        rc = fn(s, txn, ud);
        if (rc == 0) {
            rc = kz__err(mdb_txn_commit(txn));
        } else {
            mdb_txn_abort(txn);
            if (rc == KZ__ABORT_OK)
                rc = 0;
        }
        unlock_shared(s);
        if (rc != KZ__EMAPFULL)
            return rc;
        if (map_grow(s))
            return KZ_ESTORE;
    }
}

int kz__get(MDB_txn *txn, MDB_dbi dbi, const void *key, size_t klen, MDB_val *val)
{
    MDB_val k = {klen, (void *)key};
    return kz__err(mdb_get(txn, dbi, &k, val));
}

int kz__put(MDB_txn *txn, MDB_dbi dbi, const void *key, size_t klen, const void *val,
            size_t vlen, unsigned flags)
{
    MDB_val k = {klen, (void *)key};
    MDB_val v = {vlen, (void *)val};
    return kz__err(mdb_put(txn, dbi, &k, &v, flags));
}

int kz__del(MDB_txn *txn, MDB_dbi dbi, const void *key, size_t klen)
{
    MDB_val k = {klen, (void *)key};
    return kz__err(mdb_del(txn, dbi, &k, NULL));
}

int kz__count_add(kz_store *s, MDB_txn *txn, int type, int64_t delta)
{
    uint8_t key[6] = {'c', 'o', 'u', 'n', 't', (uint8_t)type};
    uint8_t val[8];
    uint64_t n = 0;
    MDB_val v;
    int rc = kz__get(txn, s->meta, key, sizeof key, &v);
    if (rc == 0 && v.mv_size == 8)
        n = kz__be64_get(v.mv_data);
    else if (rc && rc != KZ_ENOTFOUND)
        return rc;
    if (delta < 0 && n < (uint64_t)-delta)
        n = 0; /* never wraps, even if the counter was lost */
    else
        n += (uint64_t)delta;
    kz__be64_put(val, n);
    return kz__put(txn, s->meta, key, sizeof key, val, sizeof val, 0);
}

/* ---- Open and close -------------------------------------------------------- */

static const struct {
    const char *name;
    size_t off;
    unsigned flags;
} dbs[] = {
    {"records", offsetof(kz_store, records), 0},
    {"order", offsetof(kz_store, order), 0},
    {"by_author", offsetof(kz_store, by_author), 0},
    {"by_type", offsetof(kz_store, by_type), 0},
    {"heads", offsetof(kz_store, heads), 0},
    {"membership", offsetof(kz_store, membership), 0},
    {"tombstones", offsetof(kz_store, tombstones), MDB_DUPSORT | MDB_DUPFIXED},
    {"members", offsetof(kz_store, members), 0},
    {"members_hr", offsetof(kz_store, members_hr), 0},
    {"settings", offsetof(kz_store, settings), 0},
    {"blocked", offsetof(kz_store, blocked), 0},
    {"meta", offsetof(kz_store, meta), 0},
    {"peers", offsetof(kz_store, peers), 0},
    {"refs", offsetof(kz_store, refs), 0},
    {"rooms", offsetof(kz_store, rooms), 0},
    {"rotations", offsetof(kz_store, rotations), 0},
    {"search_postings", offsetof(kz_store, search_postings), MDB_DUPSORT | MDB_DUPFIXED},
    {"search_docs", offsetof(kz_store, search_docs), 0},
};

static int open_dbis(kz_store *s, MDB_txn *txn, unsigned create)
{
    for (size_t i = 0; i < KZ_ARRAY_LEN(dbs); i++) {
        MDB_dbi *dbi = (MDB_dbi *)((char *)s + dbs[i].off);
        int rc = mdb_dbi_open(txn, dbs[i].name, dbs[i].flags | create, dbi);
        if (rc)
            return kz__err(rc) == KZ_ENOTFOUND ? KZ_ESTORE : kz__err(rc);
    }
    static const char fkey[] = "format";
    MDB_val v;
    int rc = kz__get(txn, s->meta, fkey, sizeof fkey - 1, &v);
    if (rc == KZ_ENOTFOUND && create) {
        uint8_t f = KZ__FORMAT;
        return kz__put(txn, s->meta, fkey, sizeof fkey - 1, &f, 1, 0);
    }
    if (rc)
        return rc == KZ_ENOTFOUND ? KZ_ESTORE : rc;
    if (v.mv_size != 1 || *(const uint8_t *)v.mv_data != KZ__FORMAT)
        return KZ_ESTORE; /* a layout this code does not understand */
    return 0;
}

static int open_dbis_cb(kz_store *s, MDB_txn *txn, void *ud)
{
    return open_dbis(s, txn, MDB_CREATE);
}

int kz_store_create(kz_store **out, const char *dir, const kz_store_opts *opts)
{
    kz_store_opts o = {0};
    char path[PATH_MAX];
    struct stat st;
    int rc;

    if (!out)
        return KZ_EINVAL;
    *out = NULL;
    if (!dir)
        return KZ_EINVAL;
    if (opts)
        o = *opts;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return KZ_EIO;
    int n = snprintf(path, sizeof path, "%s/data.mdb", dir);
    if (n < 0 || (size_t)n >= sizeof path)
        return KZ_EINVAL;
    bool exists = stat(path, &st) == 0;

    kz_store *s = kz_xcalloc(1, sizeof *s);
    s->read_only = o.read_only;
    s->map_size_max = page_round(o.map_size_max ? o.map_size_max : MAP_MAX_DEFAULT);
    size_t want = page_round(o.map_size ? o.map_size : MAP_DEFAULT);
    if (want > s->map_size_max)
        want = s->map_size_max;
    if (pthread_rwlock_init(&s->map_lock, NULL) != 0) {
        rc = KZ_ESTORE;
        goto fail_free;
    }
    if ((rc = mdb_env_create(&s->env)) != 0) {
        rc = kz__err(rc);
        goto fail_lock;
    }
    if ((rc = mdb_env_set_maxdbs(s->env, MAX_DBS)) != 0)
        goto fail_env_mdb;
    /* A new store starts at the configured size. An existing one keeps the
     * size it grew to (LMDB would otherwise shrink the map to what we ask). */
    if (!exists && (rc = mdb_env_set_mapsize(s->env, want)) != 0)
        goto fail_env_mdb;
    /* MDB_NOTLS: read txns are not tied to a thread (readers anywhere). The
     * default sync mode is kept: a commit is on disk when it returns. */
    unsigned flags = MDB_NOTLS | (o.read_only ? MDB_RDONLY : 0);
    if ((rc = mdb_env_open(s->env, dir, flags, 0600)) != 0)
        goto fail_env_mdb;
    int dead = 0;
    (void)mdb_reader_check(s->env, &dead); /* slots of crashed processes */
    if (exists && !o.read_only && map_size_now(s) < want) {
        if ((rc = mdb_env_set_mapsize(s->env, want)) != 0)
            goto fail_env_mdb;
    }

    if (o.read_only) {
        MDB_txn *txn;
        if ((rc = kz__rd_begin(s, &txn)) != 0)
            goto fail_env;
        rc = open_dbis(s, txn, 0);
        if (rc == 0)
            rc = kz__err(mdb_txn_commit(txn)); /* keeps the dbi handles */
        else
            mdb_txn_abort(txn);
        unlock_shared(s);
    } else {
        rc = kz__write(s, open_dbis_cb, NULL);
        if (rc == 0)
            rc = kz__search_open(s); /* rebuild the index if the text rules changed */
    }
    if (rc)
        goto fail_env;
    *out = s;
    return 0;

fail_env_mdb:
    rc = kz__err(rc) == KZ__EMAPFULL ? KZ_ESTORE : kz__err(rc);
fail_env:
    mdb_env_close(s->env);
fail_lock:
    pthread_rwlock_destroy(&s->map_lock);
fail_free:
    free(s);
    return rc == KZ_ENOTFOUND ? KZ_EIO : rc;
}

void kz_store_free(kz_store *s)
{
    if (!s)
        return;
    mdb_env_close(s->env);
    pthread_rwlock_destroy(&s->map_lock);
    free(s);
}

/* ---- Statistics and backup ------------------------------------------------- */

static uint64_t entries(MDB_txn *txn, MDB_dbi dbi)
{
    MDB_stat st;
    return mdb_stat(txn, dbi, &st) == 0 ? st.ms_entries : 0;
}

int kz_store_stats_get(kz_store *s, kz_store_stats *st)
{
    MDB_txn *txn;
    memset(st, 0, sizeof *st);
    int rc = kz__rd_begin(s, &txn);
    if (rc)
        return rc;
    st->records = entries(txn, s->records);
    st->tombstones = entries(txn, s->tombstones);
    st->members = entries(txn, s->members);
    for (int t = 1; t <= KZ_T_MAX; t++) {
        uint8_t key[6] = {'c', 'o', 'u', 'n', 't', (uint8_t)t};
        MDB_val v;
        if (kz__get(txn, s->meta, key, sizeof key, &v) == 0 && v.mv_size == 8)
            st->by_type[t] = kz__be64_get(v.mv_data);
    }
    MDB_envinfo info;
    MDB_stat est;
    if (mdb_env_info(s->env, &info) == 0 && mdb_env_stat(s->env, &est) == 0) {
        st->map_size = info.me_mapsize;
        st->used_bytes = ((uint64_t)info.me_last_pgno + 1) * est.ms_psize;
    }
    kz__rd_end(s, txn);
    return 0;
}

int kz_store_backup(kz_store *s, const char *out_dir)
{
    char path[PATH_MAX];
    struct stat st;

    if (!out_dir)
        return KZ_EINVAL;
    if (stat(out_dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return KZ_EIO;
    int n = snprintf(path, sizeof path, "%s/data.mdb", out_dir);
    if (n < 0 || (size_t)n >= sizeof path)
        return KZ_EINVAL;
    /* mdb_env_copy2 would create the file with mode 0666 & ~umask; opening it
     * here keeps the backup as private as the store, and O_EXCL makes the
     * "never overwrite" check race-free. */
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return errno == EEXIST ? KZ_EEXIST : KZ_EIO;
    lock_shared(s);
    int rc = mdb_env_copyfd2(s->env, fd, MDB_CP_COMPACT);
    unlock_shared(s);
    rc = rc ? (kz__err(rc) == KZ_EIO ? KZ_EIO : KZ_ESTORE) : 0;
    if (rc == 0 && fsync(fd) != 0)
        rc = KZ_EIO;
    if (close(fd) != 0 && rc == 0)
        rc = KZ_EIO;
    if (rc) {
        unlink(path);
        return rc;
    }
    int dfd = open(out_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        (void)fsync(dfd); /* make the new directory entry durable too */
        close(dfd);
    }
    return 0;
}
