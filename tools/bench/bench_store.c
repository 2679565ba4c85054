/* bench_store.c: store write throughput (single durable puts and 256-record
 * batches) and bytes on disk per 1,000 profiles, against this disk's fsync
 * ceiling.
 *
 * usage: bench_store [PROFILES [SINGLE_PUTS [DIR]]]
 *   PROFILES     profiles written in batches (default 10000)
 *   SINGLE_PUTS  profiles written one durable put at a time (default 2000)
 *   DIR          where to make the scratch stores (default /tmp; use the
 *                disk the node's data will live on) */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "kz_store.h"

#define T0 1700000000000ull
#define BATCH 256

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU seconds (user + system) used by this process so far. */
static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static long parse_count(const char *s, long dflt)
{
    if (!s)
        return dflt;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || v < 1 || v > 10000000) {
        fprintf(stderr, "bench_store: bad count '%s'\n", s);
        exit(2);
    }
    return v;
}

static void die(const char *what, int rc)
{
    fprintf(stderr, "bench_store: %s: %s\n", what, kz_strerror(rc));
    exit(1);
}

static void rm_store(const char *dir)
{
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s/data.mdb", dir);
    unlink(p);
    snprintf(p, sizeof p, "%s/lock.mdb", dir);
    unlink(p);
    rmdir(dir);
}

typedef struct {
    uint8_t pk[KZ_KEY_BYTES], sk[KZ_SECKEY_BYTES];
} key;

static void key_from(key *k, uint32_t n)
{
    uint8_t seed[crypto_sign_SEEDBYTES] = {0};
    memcpy(seed, &n, sizeof n);
    seed[31] = 0x5b;
    crypto_sign_seed_keypair(k->pk, k->sk, seed);
}

static void sign_or_die(kz_record *r, const key *k)
{
    int rc = kz_record_sign(r, k->sk);
    if (rc) {
        fprintf(stderr, "bench_store: sign: %s (%s)\n", kz_strerror(rc), kz_record_last_error());
        exit(1);
    }
}

/* The records of one run: the node, one attest and one small profile per
 * member. Built once, reused by every store. */
typedef struct {
    kz_record node;
    kz_record *attests, *profiles;
    size_t n;
    size_t profile_bytes;
} corpus;

static void corpus_build(corpus *c, size_t n)
{
    static const char *companies[] = {"Initech", "Globex", "Umbrella", "Hooli", "Soylent"};
    static const char *skills[] = {"golang", "sales", "marketing", "ml", "accounting"};
    key node, m;
    char name[64], reading[64];

    c->n = n;
    c->attests = calloc(n, sizeof *c->attests);
    c->profiles = calloc(n, sizeof *c->profiles);
    if (!c->attests || !c->profiles)
        exit(1);
    key_from(&node, 0xffffffffu);
    kz_record_init(&c->node, KZ_T_NODE, node.pk, T0);
    c->node.body.node.name = (kz_str){"Acme Corporation", 16};
    sign_or_die(&c->node, &node);
    c->profile_bytes = 0;
    for (size_t i = 0; i < n; i++) {
        key_from(&m, (uint32_t)i);
        kz_record *a = &c->attests[i];
        kz_record_init(a, KZ_T_ATTEST, node.pk, T0 + 1 + i);
        memcpy(a->body.attest.member, m.pk, KZ_KEY_BYTES);
        a->body.attest.role = KZ_ROLE_ALUMNI;
        a->body.attest.joined = (uint16_t)(1995 + i % 20);
        a->body.attest.left = (uint16_t)(2016 + i % 8);
        sign_or_die(a, &node);

        kz_record *p = &c->profiles[i];
        int nl = snprintf(name, sizeof name, "Member %zu", i);
        int rl = snprintf(reading, sizeof reading, "めんばー %zu", i);
        kz_record_init(p, KZ_T_PROFILE, m.pk, T0 + 10000000 + i);
        p->body.profile.name = (kz_str){name, (uint32_t)nl};
        p->body.profile.reading = (kz_str){reading, (uint32_t)rl};
        p->body.profile.department = (kz_str){"Engineering", 11};
        p->body.profile.joined = a->body.attest.joined;
        p->body.profile.left = a->body.attest.left;
        const char *co = companies[i % 5];
        p->body.profile.current_company = (kz_str){co, (uint32_t)strlen(co)};
        p->body.profile.location = (kz_str){"Tokyo", 5};
        p->body.profile.n_skills = 2;
        p->body.profile.skills[0] = (kz_str){skills[i % 5], (uint32_t)strlen(skills[i % 5])};
        p->body.profile.skills[1] = (kz_str){skills[(i + 2) % 5], (uint32_t)strlen(skills[(i + 2) % 5])};
        p->body.profile.open_to = KZ_OPEN_RECONNECT | KZ_OPEN_MENTORING;
        sign_or_die(p, &m);
        c->profile_bytes += p->raw_len;
    }
}

static void corpus_free(corpus *c)
{
    kz_record_close(&c->node);
    for (size_t i = 0; i < c->n; i++) {
        kz_record_close(&c->attests[i]);
        kz_record_close(&c->profiles[i]);
    }
    free(c->attests);
    free(c->profiles);
}

/* Put recs[0..n) in batches; every record must be accepted. */
static void put_batches(kz_store *s, kz_record *recs, size_t n)
{
    const kz_record *v[BATCH];
    kz_put_result res[BATCH];
    for (size_t i = 0; i < n; i += BATCH) {
        size_t k = n - i < BATCH ? n - i : BATCH;
        for (size_t j = 0; j < k; j++)
            v[j] = &recs[i + j];
        int rc = kz_store_put_batch(s, v, k, res);
        if (rc)
            die("put_batch", rc);
        for (size_t j = 0; j < k; j++)
            if (res[j].rc)
                die("put_batch record", res[j].rc);
    }
}

/* A fresh store holding the node and the first n attests. */
static kz_store *store_open(char *dir, size_t dirsz, const char *base, corpus *c, size_t n)
{
    kz_store *s;
    snprintf(dir, dirsz, "%s/kz_bench_store_XXXXXX", base);
    if (!mkdtemp(dir)) {
        perror("bench_store: mkdtemp");
        exit(1);
    }
    int rc = kz_store_create(&s, dir, NULL);
    if (rc)
        die("open", rc);
    if ((rc = kz_store_put(s, &c->node, NULL)) != 0)
        die("put node", rc);
    put_batches(s, c->attests, n);
    return s;
}

/* The disk's ceiling for durable commits: 4 KiB write + fdatasync, as LMDB
 * does per commit (twice: data pages, then the meta page). */
static double fsync_rate(const char *base)
{
    char path[PATH_MAX];
    static char page[4096];
    snprintf(path, sizeof path, "%s/kz_bench_fsync_%ld", base, (long)getpid());
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) {
        perror("bench_store: fsync probe");
        exit(1);
    }
    int n = 0;
    double t0 = now_s(), t;
    do {
        if (pwrite(fd, page, sizeof page, (off_t)(n % 16) * 4096) != (ssize_t)sizeof page ||
            fdatasync(fd) != 0) {
            perror("bench_store: fsync probe");
            exit(1);
        }
        n++;
        t = now_s();
    } while (t - t0 < 1.0 && n < 100000);
    close(fd);
    unlink(path);
    return n / (t - t0);
}

int main(int argc, char **argv)
{
    size_t n_batch = (size_t)parse_count(argc > 1 ? argv[1] : NULL, 10000);
    size_t n_single = (size_t)parse_count(argc > 2 ? argv[2] : NULL, 2000);
    const char *base = argc > 3 ? argv[3] : "/tmp";
    size_t n = n_batch > n_single ? n_batch : n_single;
    char dir[PATH_MAX];
    corpus c;
    kz_store_stats st0, st1;
    int rc;

    if (argc > 4) {
        fprintf(stderr, "usage: bench_store [PROFILES [SINGLE_PUTS [DIR]]]\n");
        return 2;
    }
    if (sodium_init() < 0)
        return 1;

    printf("bench_store: %zu profiles in batches of %d, %zu single puts, in %s\n", n_batch,
           BATCH, n_single, base);
    double fs = fsync_rate(base);
    printf("ceiling: %.0f fdatasync/s (4 KiB); a durable LMDB commit needs 2 -> %.0f commits/s\n",
           fs, fs / 2);

    double t0 = now_s();
    corpus_build(&c, n);
    double tsign = now_s() - t0;
    printf("signing: %.0f records/s (not part of the rates below)\n", 2.0 * (double)n / tsign);

    /* Single durable puts: one transaction, one commit each. */
    kz_store *s = store_open(dir, sizeof dir, base, &c, n_single);
    t0 = now_s();
    double c0 = cpu_s();
    for (size_t i = 0; i < n_single; i++)
        if ((rc = kz_store_put(s, &c.profiles[i], NULL)) != 0)
            die("put", rc);
    double t_single = now_s() - t0, c_single = cpu_s() - c0;
    double r_single = (double)n_single / t_single;
    printf("put (single):      %8.0f records/s  (%.2f of the commit ceiling; CPU busy %.0f%%)\n",
           r_single, r_single / (fs / 2), 100 * c_single / t_single);
    kz_store_free(s);
    rm_store(dir);

    /* Batches of 256 in one transaction each; also measures bytes used. */
    s = store_open(dir, sizeof dir, base, &c, n_batch);
    if ((rc = kz_store_stats_get(s, &st0)) != 0)
        die("stats", rc);
    t0 = now_s();
    c0 = cpu_s();
    put_batches(s, c.profiles, n_batch);
    double t_batch = now_s() - t0, c_batch = cpu_s() - c0;
    double r_batch = (double)n_batch / t_batch;
    if ((rc = kz_store_stats_get(s, &st1)) != 0)
        die("stats", rc);
    printf("put_batch (%d):   %8.0f records/s  (%.1fx single; %.0f commits/s; CPU busy %.0f%%)\n",
           BATCH, r_batch, r_batch / r_single, (double)((n_batch + BATCH - 1) / BATCH) / t_batch,
           100 * c_batch / t_batch);

    double per_k = (double)(st1.used_bytes - st0.used_bytes) * 1000.0 / (double)n_batch;
    double raw_k = (double)c.profile_bytes * 1000.0 / (double)n;
    printf("store bytes per 1,000 profiles: %.0f KiB used (records alone: %.0f KiB; %.2fx)\n",
           per_k / 1024, raw_k / 1024, per_k / raw_k);

    /* A compacted backup shows the size without free pages. */
    char bdir[PATH_MAX + 16], bfile[PATH_MAX + 32];
    snprintf(bdir, sizeof bdir, "%s/backup", dir);
    snprintf(bfile, sizeof bfile, "%s/data.mdb", bdir);
    struct stat bst;
    if (mkdir(bdir, 0700) == 0 && kz_store_backup(s, bdir) == 0 && stat(bfile, &bst) == 0)
        printf("compacted backup: %.0f KiB for %llu records (%.0f KiB per 1,000 records)\n",
               (double)bst.st_size / 1024, (unsigned long long)st1.records,
               (double)bst.st_size / 1024 * 1000 / (double)st1.records);
    unlink(bfile);
    rmdir(bdir);
    kz_store_free(s);
    rm_store(dir);
    corpus_free(&c);
    return 0;
}
