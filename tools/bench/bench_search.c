/* bench_search.c: directory search latency at scale, kizuna's LMDB index
 * against SQLite FTS5 (trigram tokenizer) on the same profiles and queries.
 *
 * usage: bench_search [--profiles N] [--queries Q] [--dir DIR] [--keep] [--seed S]
 *                     [--reuse DIR]
 *   --profiles N  fictional profiles to generate (default 100000; 1000000 for the
 *                 full run)
 *   --queries Q   queries per shape (default 300)
 *   --dir DIR     where to build the two databases (default: a new /tmp dir)
 *   --keep        leave them there
 *   --reuse DIR   query the databases a --keep run left in DIR (same --seed)
 *   --shape K     run only query shape K (1-5, in the order of the table)
 *
 * kizuna's side goes through the real store: every member gets their own
 * key, a node-signed attestation and a signed profile, written with
 * kz_store_put_batch (durable batches), which maintains the index in the
 * same transactions. SQLite gets the same profiles, already normalised by
 * kz_text_normalize (so both match the same forms) and with the romanised
 * reading, in one FTS5 table plus a table of facets. Both answer as an
 * outside viewer (federation-wide profiles only) and return 20 hits with
 * their display fields. See docs/benchmarks.md. */
#include <errno.h>
#include <pthread.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bench_search.h"
#include "kz_store.h"
#include "kz_text.h"

#define BATCH 1024
#define T_BASE 1700000000000ull
#define LIMIT 20
#define RUNS 3

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static void loadavg(char *out, size_t n)
{
    double l[3];
    if (getloadavg(l, 3) == 3)
        snprintf(out, n, "%.2f, %.2f, %.2f", l[0], l[1], l[2]);
    else
        snprintf(out, n, "?");
}

/* The disk's ceiling for the import: sequential 64 MiB written and
 * fdatasynced in 1 MiB pieces, in MB/s, in the benchmark's directory. */
static double disk_mbps(const char *dir)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/ceiling.tmp", dir);
    FILE *f = fopen(path, "wb");
    if (!f)
        return 0;
    static char buf[1 << 20];
    memset(buf, 0x5a, sizeof buf);
    double t0 = now_s();
    for (int i = 0; i < 64; i++) {
        if (fwrite(buf, 1, sizeof buf, f) != sizeof buf)
            break;
    }
    fflush(f);
    fdatasync(fileno(f));
    double t = now_s() - t0;
    fclose(f);
    unlink(path);
    return t > 0 ? 64.0 * 1048576.0 / t / 1e6 : 0;
}

/* Bytes this process has caused to be written to storage (/proc/self/io). */
static double io_written(void)
{
    FILE *f = fopen("/proc/self/io", "r");
    char line[128];
    double v = 0;
    while (f && fgets(line, sizeof line, f)) {
        if (strncmp(line, "write_bytes:", 12) == 0)
            v = strtod(line + 12, NULL);
    }
    if (f)
        fclose(f);
    return v;
}

static void die(const char *what, const char *why)
{
    fprintf(stderr, "bench_search: %s: %s\n", what, why);
    exit(1);
}

static kz_str S(const char *s)
{
    return s ? (kz_str){s, (uint32_t)strlen(s)} : (kz_str){NULL, 0};
}

/* ---- Generating and signing ------------------------------------------------------- */

typedef struct {
    uint8_t pk[KZ_KEY_BYTES], sk[KZ_SECKEY_BYTES];
} keypair;

static keypair homes[KZB_HOMES];

typedef struct {
    size_t start, n;
    uint64_t seed;
    kzb_profile prof[BATCH];
    kz_record recs[2 * BATCH];
    const kz_record *ptr[2 * BATCH];
    double cpu;
} batch;

static void member_key(size_t i, keypair *k)
{
    uint8_t seed[crypto_sign_SEEDBYTES] = {0};
    uint64_t s = (uint64_t)i * 7919 + 17;
    for (size_t j = 0; j < sizeof seed; j += 8) {
        uint64_t v = kzb_rand(&s);
        memcpy(seed + j, &v, 8);
    }
    crypto_sign_seed_keypair(k->pk, k->sk, seed);
}

static void sign_or_die(kz_record *r, const uint8_t *sk)
{
    if (kz_record_sign(r, sk) != 0)
        die("sign", kz_record_last_error());
}

static void *batch_make(void *arg)
{
    batch *b = arg;
    struct timespec t0, t1;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);
    for (size_t i = 0; i < b->n; i++) {
        size_t idx = b->start + i;
        uint64_t s = b->seed ^ ((uint64_t)idx * 0x9E3779B97F4A7C15ull);
        kzb_profile *p = &b->prof[i];
        keypair m;
        kzb_profile_make(&s, p);
        member_key(idx, &m);
        kz_record *a = &b->recs[2 * i], *r = &b->recs[2 * i + 1];
        kz_record_init(a, KZ_T_ATTEST, homes[p->home].pk, T_BASE + 2 * idx);
        memcpy(a->body.attest.member, m.pk, KZ_KEY_BYTES);
        a->body.attest.joined = p->joined;
        a->body.attest.left = p->left;
        a->body.attest.department = S(p->dept);
        sign_or_die(a, homes[p->home].sk);
        kz_record_init(r, KZ_T_PROFILE, m.pk, T_BASE + 2 * idx + 1);
        kz_body_profile *bp = &r->body.profile;
        bp->name = S(p->name);
        bp->reading = S(p->reading);
        bp->romaji = S(p->romaji[0] ? p->romaji : NULL);
        bp->department = S(p->dept);
        bp->title = S(p->title);
        bp->joined = p->joined;
        bp->left = p->left;
        bp->current_company = S(p->current_company);
        bp->current_title = S(p->current_title);
        bp->location = S(p->location);
        for (unsigned k = 0; k < p->n_skills; k++)
            bp->skills[bp->n_skills++] = S(p->skills[k]);
        bp->bio = S(p->bio[0] ? p->bio : NULL);
        bp->open_to = p->open_to;
        bp->visibility = p->visibility;
        sign_or_die(r, m.sk);
        b->ptr[2 * i] = a;
        b->ptr[2 * i + 1] = r;
    }
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t1);
    b->cpu = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    return NULL;
}

static void batch_close(batch *b)
{
    for (size_t i = 0; i < 2 * b->n; i++)
        kz_record_close(&b->recs[i]);
}

/* ---- SQLite FTS5 ---------------------------------------------------------------- */

static void sql_exec(sqlite3 *db, const char *sql)
{
    char *err = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
        die(sql, err ? err : "?");
}

static sqlite3_stmt *sql_prepare(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        die(sql, sqlite3_errmsg(db));
    return st;
}

/* Normalised text appended to a growing column buffer. */
static void col_add(char *col, size_t colsz, const char *text, bool romanize)
{
    char *out;
    size_t n;
    if (!text || !text[0])
        return;
    int rc = romanize ? kz_text_romanize(text, strlen(text), &out, &n)
                      : kz_text_normalize(text, strlen(text), &out, &n);
    if (rc != 0)
        return;
    size_t used = strlen(col);
    if (n && used + n + 2 < colsz) {
        if (used)
            col[used++] = ' ';
        memcpy(col + used, out, n);
        col[used + n] = 0;
    }
    free(out);
}

static void fts_insert(sqlite3_stmt *ins, sqlite3_stmt *fins, size_t id, const kzb_profile *p,
                       uint64_t updated, const uint8_t member[KZ_KEY_BYTES])
{
    char name[512] = "", reading[512] = "", romaji[1024] = "", company[512] = "", other[1024] = "",
         bio[1024] = "";
    col_add(name, sizeof name, p->name, false);
    col_add(reading, sizeof reading, p->reading, false);
    col_add(romaji, sizeof romaji, p->romaji, false);
    col_add(romaji, sizeof romaji, p->name, true);
    col_add(romaji, sizeof romaji, p->reading, true);
    col_add(company, sizeof company, p->current_company, false);
    col_add(company, sizeof company, kzb_homes[p->home], false);
    col_add(other, sizeof other, p->dept, false);
    col_add(other, sizeof other, p->title, false);
    col_add(other, sizeof other, p->current_title, false);
    col_add(other, sizeof other, p->location, false);
    for (unsigned i = 0; i < p->n_skills; i++)
        col_add(other, sizeof other, p->skills[i], false);
    col_add(bio, sizeof bio, p->bio, false);
    sqlite3_bind_int64(ins, 1, (sqlite3_int64)id);
    sqlite3_bind_blob(ins, 2, member, KZ_KEY_BYTES, SQLITE_STATIC);
    sqlite3_bind_int(ins, 3, (int)p->home);
    sqlite3_bind_int64(ins, 4, (sqlite3_int64)updated);
    sqlite3_bind_int(ins, 5, p->visibility);
    sqlite3_bind_text(ins, 6, p->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(ins, 7, p->reading, -1, SQLITE_STATIC);
    sqlite3_bind_text(ins, 8, p->romaji, -1, SQLITE_STATIC);
    sqlite3_bind_text(ins, 9, p->current_company, -1, SQLITE_STATIC);
    sqlite3_bind_text(ins, 10, p->current_title, -1, SQLITE_STATIC);
    sqlite3_bind_text(ins, 11, p->location, -1, SQLITE_STATIC);
    if (sqlite3_step(ins) != SQLITE_DONE)
        die("insert", "profile row");
    sqlite3_reset(ins);
    const char *cols[] = {name, reading, romaji, company, other, bio};
    sqlite3_bind_int64(fins, 1, (sqlite3_int64)id);
    for (int i = 0; i < 6; i++)
        sqlite3_bind_text(fins, i + 2, cols[i], -1, SQLITE_TRANSIENT);
    if (sqlite3_step(fins) != SQLITE_DONE)
        die("insert", "fts row");
    sqlite3_reset(fins);
}

/* ---- Measuring -------------------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double pct(double *v, size_t n, double p)
{
    size_t i = (size_t)(p * (double)(n - 1) + 0.5);
    return v[i < n ? i : n - 1];
}

typedef struct {
    double p50, p99, max, mean_hits;
    unsigned truncated;
} shape_result;

static void summarise(double *lat, size_t n, double hits, shape_result *r)
{
    qsort(lat, n, sizeof *lat, cmp_double);
    r->p50 = pct(lat, n, 0.50) * 1e3;
    r->p99 = pct(lat, n, 0.99) * 1e3;
    r->max = lat[n - 1] * 1e3;
    r->mean_hits = hits / (double)n;
}

static double kizuna_query(kz_store *s, const kzb_query *q, unsigned *hits, bool *trunc)
{
    kz_search_query sq = {.text = q->text, .limit = LIMIT};
    if (q->home >= 0)
        sq.home_node = homes[q->home].pk;
    kz_search_result *res = NULL;
    const char *reason = NULL;
    double t0 = now_s();
    int rc = kz_store_search(s, &sq, &res, &reason);
    double t = now_s() - t0;
    if (rc)
        die("kizuna search", reason ? reason : kz_strerror(rc));
    *hits = (unsigned)res->n;
    *trunc = res->truncated;
    kz_store_search_free(res);
    return t;
}

/* FTS5 statements per shape: bm25 with column weights in the spirit of
 * kizuna's classes; a two-character query cannot use trigrams, so it is a
 * LIKE over every text column (SQLite scans the table). */
static const char *const fts_sql[KZB_Q_SHAPES] = {
    "SELECT p.name, p.reading, p.romaji, p.cc, p.ct, p.loc FROM ft JOIN p ON p.id = ft.rowid "
    "WHERE (ft.name LIKE ?1 OR ft.reading LIKE ?1 OR ft.romaji LIKE ?1 OR ft.company LIKE ?1 "
    "OR ft.other LIKE ?1 OR ft.bio LIKE ?1) AND p.vis = 0 ORDER BY p.updated DESC LIMIT 20",
    "SELECT p.name, p.reading, p.romaji, p.cc, p.ct, p.loc FROM ft JOIN p ON p.id = ft.rowid "
    "WHERE ft MATCH ?1 AND p.vis = 0 ORDER BY bm25(ft, 8.0, 8.0, 8.0, 4.0, 2.0, 1.0) LIMIT 20",
    "SELECT p.name, p.reading, p.romaji, p.cc, p.ct, p.loc FROM ft JOIN p ON p.id = ft.rowid "
    "WHERE ft MATCH ?1 AND p.vis = 0 ORDER BY bm25(ft, 8.0, 8.0, 8.0, 4.0, 2.0, 1.0) LIMIT 20",
    "SELECT p.name, p.reading, p.romaji, p.cc, p.ct, p.loc FROM p WHERE p.home = ?2 AND "
    "p.vis = 0 ORDER BY p.updated DESC LIMIT 20",
    "SELECT p.name, p.reading, p.romaji, p.cc, p.ct, p.loc FROM ft JOIN p ON p.id = ft.rowid "
    "WHERE ft MATCH ?1 AND p.home = ?2 AND p.vis = 0 ORDER BY bm25(ft, 8.0, 8.0, 8.0, 4.0, "
    "2.0, 1.0) LIMIT 20",
};

static double fts_query(sqlite3_stmt *st, int shape, const kzb_query *q, unsigned *hits)
{
    char arg[160], *norm;
    size_t n;
    if (kz_text_normalize(q->text, strlen(q->text), &norm, &n) != 0)
        die("normalise", q->text);
    if (shape == KZB_Q_KANJI2) {
        snprintf(arg, sizeof arg, "%%%s%%", norm);
    } else {
        /* Each word as an FTS5 string, ANDed: "tanaka" AND "eng". The
         * normalised text has single spaces and no quotes. */
        size_t o = 0;
        const char *w = norm;
        while (*w && o < sizeof arg - 8) {
            size_t wl = strcspn(w, " ");
            int k = snprintf(arg + o, sizeof arg - o, "%s\"%.*s\"", o ? " AND " : "", (int)wl, w);
            if (k < 0 || (size_t)k >= sizeof arg - o)
                break;
            o += (size_t)k;
            w += wl;
            while (*w == ' ')
                w++;
        }
    }
    free(norm);
    double t0 = now_s();
    sqlite3_bind_text(st, 1, arg, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 2, q->home);
    unsigned h = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        for (int c = 0; c < 6; c++)
            (void)sqlite3_column_text(st, c);
        h++;
    }
    if (rc != SQLITE_DONE)
        die("fts query", sqlite3_errmsg(sqlite3_db_handle(st)));
    sqlite3_reset(st);
    *hits = h;
    return now_s() - t0;
}

/* Bytes of the FTS5 index tables (dbstat), or -1 when SQLite lacks dbstat. */
static long long fts_index_bytes(sqlite3 *db)
{
    sqlite3_stmt *st;
    long long v = -1;
    if (sqlite3_prepare_v2(db, "SELECT sum(pgsize) FROM dbstat WHERE name LIKE 'ft_%'", -1, &st,
                           NULL) != SQLITE_OK)
        return -1;
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}


/* ---- Main ---------------------------------------------------------------------- */

static size_t parse_num(const char *s, size_t max, const char *what)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s ? s : "", &end, 10);
    if (!s || s[0] < '0' || s[0] > '9' || errno || *end || v < 1 || v > max) {
        fprintf(stderr, "bench_search: %s must be a number from 1 to %zu\n", what, max);
        exit(2);
    }
    return (size_t)v;
}

static void put_nodes(kz_store *s, uint64_t seed, bool keys_only)
{
    for (size_t i = 0; i < KZB_HOMES; i++) {
        uint8_t sd[crypto_sign_SEEDBYTES];
        uint64_t st = seed + i;
        for (size_t j = 0; j < sizeof sd; j += 8) {
            uint64_t v = kzb_rand(&st);
            memcpy(sd + j, &v, 8);
        }
        crypto_sign_seed_keypair(homes[i].pk, homes[i].sk, sd);
        if (keys_only)
            continue;
        kz_record r;
        kz_record_init(&r, KZ_T_NODE, homes[i].pk, T_BASE - 1000 + i);
        r.body.node.name = S(kzb_homes[i]);
        sign_or_die(&r, homes[i].sk);
        if (kz_store_put(s, &r, NULL) != 0)
            die("put", "node record");
        kz_record_close(&r);
    }
}

/* Write every profile through the store; returns the seconds spent in puts. */
static double import_kizuna(kz_store *s, size_t nprof, uint64_t seed, double *sign_cpu)
{
    batch *cur = kz_xcalloc(1, sizeof *cur), *next = kz_xcalloc(1, sizeof *next);
    kz_put_result *res = kz_xcalloc(2 * BATCH, sizeof *res);
    double store_t = 0;
    size_t report = nprof / 10 ? nprof / 10 : nprof, reported = 0;
    cur->start = 0;
    cur->n = nprof < BATCH ? nprof : BATCH;
    cur->seed = seed;
    batch_make(cur);
    *sign_cpu = 0;
    while (cur->n) {
        pthread_t th;
        bool more = cur->start + cur->n < nprof;
        next->n = 0;
        if (more) {
            next->start = cur->start + cur->n;
            next->n = nprof - next->start < BATCH ? nprof - next->start : BATCH;
            next->seed = seed;
            if (pthread_create(&th, NULL, batch_make, next) != 0)
                die("thread", "create");
        }
        double t0 = now_s();
        if (kz_store_put_batch(s, cur->ptr, 2 * cur->n, res) != 0)
            die("put_batch", "store failure");
        store_t += now_s() - t0;
        for (size_t i = 0; i < 2 * cur->n; i++) {
            if (res[i].rc != 0)
                die("put_batch", kz_strerror(res[i].rc));
        }
        if (more && pthread_join(th, NULL) != 0)
            die("thread", "join");
        *sign_cpu += cur->cpu;
        batch_close(cur);
        if (cur->start + cur->n >= reported + report) {
            reported = cur->start + cur->n;
            fprintf(stderr, "  kizuna: %zu profiles, %.1f s in puts\n", reported, store_t);
        }
        batch *t = cur;
        cur = next;
        next = t;
    }
    free(cur);
    free(next);
    free(res);
    return store_t;
}

static double import_fts(sqlite3 *db, size_t nprof, uint64_t seed)
{
    sql_exec(db, "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA cache_size=-262144;");
    sql_exec(db, "CREATE TABLE p(id INTEGER PRIMARY KEY, member BLOB, home INTEGER, updated "
                 "INTEGER, vis INTEGER, name TEXT, reading TEXT, romaji TEXT, cc TEXT, ct TEXT, "
                 "loc TEXT)");
    sql_exec(db, "CREATE INDEX p_home ON p(home, updated DESC)");
    sql_exec(db, "CREATE VIRTUAL TABLE ft USING fts5(name, reading, romaji, company, other, bio, "
                 "tokenize='trigram')");
    sqlite3_stmt *ins = sql_prepare(db, "INSERT INTO p VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, "
                                        "?10, ?11)");
    sqlite3_stmt *fins = sql_prepare(db, "INSERT INTO ft(rowid, name, reading, romaji, company, "
                                         "other, bio) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)");
    uint8_t member[KZ_KEY_BYTES] = {0};
    double t0 = now_s();
    sql_exec(db, "BEGIN");
    for (size_t idx = 0; idx < nprof; idx++) {
        uint64_t s = seed ^ ((uint64_t)idx * 0x9E3779B97F4A7C15ull);
        kzb_profile p;
        kzb_profile_make(&s, &p);
        if (p.visibility == 2)
            continue; /* hidden: kizuna does not index it either */
        memcpy(member, &idx, sizeof idx);
        fts_insert(ins, fins, idx + 1, &p, T_BASE + 2 * idx + 1, member);
    }
    sql_exec(db, "COMMIT");
    double t = now_s() - t0;
    sqlite3_finalize(ins);
    sqlite3_finalize(fins);
    return t;
}

int main(int argc, char **argv)
{
    size_t nprof = 100000, nq = 300;
    uint64_t seed = 42;
    const char *dir = NULL;
    bool keep = false, reuse = false;
    int only = -1;
    char tmp[] = "/tmp/kz-bench-search-XXXXXX", path[4096];
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--profiles") == 0)
            nprof = parse_num(i + 1 < argc ? argv[++i] : NULL, 10000000, "--profiles");
        else if (strcmp(argv[i], "--queries") == 0)
            nq = parse_num(i + 1 < argc ? argv[++i] : NULL, 100000, "--queries");
        else if (strcmp(argv[i], "--seed") == 0)
            seed = parse_num(i + 1 < argc ? argv[++i] : NULL, 1000000000, "--seed");
        else if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc)
            dir = argv[++i];
        else if (strcmp(argv[i], "--keep") == 0)
            keep = true;
        else if (strcmp(argv[i], "--shape") == 0)
            only = (int)parse_num(i + 1 < argc ? argv[++i] : NULL, KZB_Q_SHAPES, "--shape") - 1;
        else if (strcmp(argv[i], "--reuse") == 0 && i + 1 < argc) {
            dir = argv[++i];
            reuse = keep = true;
        }
        else {
            fprintf(stderr, "usage: bench_search [--profiles N] [--queries Q] [--dir DIR] "
                            "[--keep] [--seed S] [--reuse DIR] [--shape K]\n");
            return 2;
        }
    }
    if (sodium_init() < 0)
        die("sodium_init", "failed");
    bool made = false;
    if (!dir) {
        if (!(dir = mkdtemp(tmp)))
            die("mkdtemp", strerror(errno));
        made = true;
    }
    snprintf(path, sizeof path, "%s/kizuna", dir);
    if (mkdir(path, 0700) != 0 && errno != EEXIST)
        die(path, strerror(errno));

    /* ---- kizuna ---- */
    kz_store *s;
    kz_store_opts o = {.map_size = (size_t)1 << 30, .map_size_max = (size_t)256 << 30};
    if (kz_store_create(&s, path, &o) != 0)
        die("open store", path);
    put_nodes(s, seed, reuse);
    double store_t = 0, wall = 0, cpu = 0, sign_cpu = 0, fts_t = 0, disk = 0, io0 = 0, io1 = 0;
    char la_import[64] = "", la_query[64] = "";
    if (!reuse) {
        disk = disk_mbps(dir);
        loadavg(la_import, sizeof la_import);
    }
    if (!reuse) {
        fprintf(stderr, "bench_search: %zu profiles into %s\n", nprof, dir);
        double c0 = cpu_s(), w0 = now_s();
        io0 = io_written();
        store_t = import_kizuna(s, nprof, seed, &sign_cpu);
        io1 = io_written();
        wall = now_s() - w0;
        cpu = cpu_s() - c0;
    }
    kz_search_stats ss;
    kz_store_stats st;
    if (kz_store_search_stats(s, &ss) != 0 || kz_store_stats_get(s, &st) != 0)
        die("stats", "failed");
    if (reuse)
        nprof = ss.docs; /* about: hidden profiles are not indexed */

    /* ---- SQLite FTS5 ---- */
    sqlite3 *db;
    snprintf(path, sizeof path, "%s/fts.sqlite", dir);
    if (!reuse)
        unlink(path);
    if (sqlite3_open(path, &db) != SQLITE_OK)
        die("sqlite open", path);
    if (!reuse) {
        fprintf(stderr, "  fts5: loading\n");
        fts_t = import_fts(db, nprof, seed);
    }
    struct stat fst;
    long long fts_file = stat(path, &fst) == 0 ? (long long)fst.st_size : -1;
    long long fts_idx = fts_index_bytes(db);

    /* ---- Queries ---- */
    loadavg(la_query, sizeof la_query);
    printf("\n## bench_search: %zu profiles, %zu queries per shape, SQLite %s, load average "
           "%s\n\n", nprof, nq, sqlite3_libversion(), la_query);
    printf("Each query runs %d times in a row, kizuna then FTS5. \"first\" is the first run "
           "of each query; \"best\" the fastest of the %d (less noise from other load on the "
           "machine).\n\n", RUNS, RUNS);
    printf("| query shape | kizuna p50 | kizuna p99 | kizuna p99 best | FTS5 p50 | FTS5 p99 | FTS5 p99 best | FTS5 / kizuna p50 | hits kizuna / FTS5 | FTS5 queries |\n");
    printf("|---|---|---|---|---|---|---|---|---|---|\n");
    double *lk = kz_xcalloc(nq, sizeof *lk), *lf = kz_xcalloc(nq, sizeof *lf);
    double *bk = kz_xcalloc(nq, sizeof *bk), *bf = kz_xcalloc(nq, sizeof *bf);
    for (int shape = 0; shape < KZB_Q_SHAPES; shape++) {
        if (only >= 0 && shape != only)
            continue;
        sqlite3_stmt *fq = sql_prepare(db, fts_sql[shape]);
        uint64_t qs = seed * 1000003 + (uint64_t)shape;
        /* A LIKE scan costs a whole table per query: fewer of those. */
        size_t nf = shape == KZB_Q_KANJI2 && nq > 30 ? 30 : nq, trunc = 0;
        double hk = 0, hf = 0;
        for (size_t i = 0; i < nq; i++) {
            kzb_query q;
            unsigned h;
            bool t;
            kzb_query_make(&qs, shape, &q);
            for (int r = 0; r < RUNS; r++) {
                double x = kizuna_query(s, &q, &h, &t);
                if (r == 0) {
                    lk[i] = bk[i] = x;
                    hk += h;
                    trunc += t;
                } else if (x < bk[i]) {
                    bk[i] = x;
                }
            }
            for (int r = 0; i < nf && r < (shape == KZB_Q_KANJI2 ? 1 : RUNS); r++) {
                double x = fts_query(fq, shape, &q, &h);
                if (r == 0) {
                    lf[i] = bf[i] = x;
                    hf += h;
                } else if (x < bf[i]) {
                    bf[i] = x;
                }
            }
        }
        shape_result rk, rf, rkb, rfb;
        summarise(lk, nq, hk, &rk);
        summarise(lf, nf, hf, &rf);
        summarise(bk, nq, hk, &rkb);
        summarise(bf, nf, hf, &rfb);
        printf("| %s | %.3f ms | %.3f ms | %.3f ms | %.3f ms | %.3f ms | %.3f ms | %.1f× | %.1f / %.1f | %zu |\n",
               kzb_shape_names[shape], rk.p50, rk.p99, rkb.p99, rf.p50, rf.p99, rfb.p99,
               rk.p50 > 0 ? rf.p50 / rk.p50 : 0.0, rk.mean_hits, rf.mean_hits, nf);
        if (trunc)
            printf("|   (kizuna: %zu of %zu queries reached the work limit) | | | | | | | | | |\n",
                   trunc, nq);
        sqlite3_finalize(fq);
    }
    free(bk);
    free(bf);
    if (reuse)
        goto sizes;
    printf("\n| import | result |\n|---|---|\n");
    printf("| kizuna: store + index, durable batches of %d members (attest + profile) | %.0f profiles/s (%.1f s in puts) |\n",
           BATCH, (double)nprof / store_t, store_t);
    printf("| kizuna: whole import, wall / process CPU | %.1f s / %.1f s (signing: %.1f s CPU on a second thread) |\n",
           wall, cpu, sign_cpu);
    printf("| kizuna: bytes written to disk during the import (/proc/self/io), per profile and per second of puts, against the disk ceiling (64 MiB written + fdatasync) | %.0f KB per profile, %.1f MB/s of %.1f MB/s (load average at start %s) |\n",
           (io1 - io0) / (double)nprof / 1e3, (io1 - io0) / store_t / 1e6, disk, la_import);
    printf("| FTS5: one transaction, journal and sync off | %.0f profiles/s (%.1f s) |\n",
           (double)nprof / fts_t, fts_t);
sizes:
    printf("\n| size | bytes | per profile |\n|---|---|---|\n");
    printf("| kizuna store, everything (records, indexes, search) | %llu | %.0f |\n",
           (unsigned long long)st.used_bytes, (double)st.used_bytes / (double)nprof);
    printf("| kizuna search postings (%llu postings) | %llu | %.0f |\n",
           (unsigned long long)ss.postings, (unsigned long long)ss.postings_bytes,
           (double)ss.postings_bytes / (double)nprof);
    printf("| kizuna search documents (%llu indexed) | %llu | %.0f |\n",
           (unsigned long long)ss.docs, (unsigned long long)ss.docs_bytes,
           (double)ss.docs_bytes / (double)nprof);
    printf("| SQLite file (facets table + FTS5) | %lld | %.0f |\n", fts_file,
           (double)fts_file / (double)nprof);
    printf("| SQLite FTS5 tables (dbstat) | %lld | %.0f |\n", fts_idx,
           (double)fts_idx / (double)nprof);
    free(lk);
    free(lf);
    sqlite3_close(db);
    kz_store_free(s);
    if (!keep && made) {
        snprintf(path, sizeof path, "rm -rf '%s'", dir);
        if (system(path) != 0)
            fprintf(stderr, "bench_search: could not remove %s\n", dir);
    } else {
        fprintf(stderr, "kept %s\n", dir);
    }
    return 0;
}
