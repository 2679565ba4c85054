/* bench_verify.c: the machine's ceiling for record verification: raw
 * crypto_sign_verify_detached calls per second over a small post's signing
 * input, on one thread and on N threads, next to a full strict decode with
 * verification (what a node does per received record).
 *
 * usage: bench_verify [SECONDS [THREADS]]
 *   SECONDS  time per measurement (default 2, at most 60)
 *   THREADS  threads for the parallel run (default: online CPUs, at most 64)
 * The last lines are machine-readable: "verify_1=RATE", "verify_N=RATE",
 * "threads=N", "decode_verify_1=RATE" (per second). */
#include <errno.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kz_record.h"

#define MAX_THREADS 64

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long parse_long(const char *s, long dflt, long lo, long hi)
{
    if (!s)
        return dflt;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || v < lo || v > hi) {
        fprintf(stderr, "bench_verify: bad number '%s' (%ld..%ld)\n", s, lo, hi);
        exit(2);
    }
    return v;
}

/* What one verification covers: the signing message of a real record
 * (domain || record without signature, array header 0x95), its signature
 * and author key. Shared read-only by every thread. */
typedef struct {
    uint8_t msg[KZ_RECORD_SIG_DOMAIN_LEN + KZ_RECORD_MAX];
    size_t msg_len;
    uint8_t sig[KZ_SIG_BYTES];
    uint8_t pk[KZ_KEY_BYTES];
    const uint8_t *raw;
    size_t raw_len;
} sample;

typedef struct {
    const sample *s;
    double seconds;
    int decode; /* 1: full kz_record_decode with verification instead */
    unsigned long done;
    int bad;
} worker;

static void *run(void *arg)
{
    worker *w = arg;
    double end = now_s() + w->seconds;
    unsigned long n = 0;
    do {
        for (int i = 0; i < 64; i++) {
            if (w->decode) {
                kz_record r;
                if (kz_record_decode(&r, w->s->raw, w->s->raw_len, 0, 0) != 0)
                    w->bad = 1;
                else
                    kz_record_close(&r);
            } else if (crypto_sign_verify_detached(w->s->sig, w->s->msg, w->s->msg_len,
                                                   w->s->pk) != 0) {
                w->bad = 1;
            }
        }
        n += 64;
    } while (now_s() < end);
    w->done = n;
    return NULL;
}

/* Verifications per second over all threads (each runs for `seconds`). */
static double measure(const sample *s, int threads, double seconds, int decode)
{
    pthread_t tid[MAX_THREADS];
    worker w[MAX_THREADS];
    double t0 = now_s();
    for (int i = 0; i < threads; i++) {
        w[i] = (worker){.s = s, .seconds = seconds, .decode = decode};
        if (pthread_create(&tid[i], NULL, run, &w[i]) != 0) {
            fprintf(stderr, "bench_verify: cannot start a thread\n");
            exit(1);
        }
    }
    unsigned long total = 0;
    int bad = 0;
    for (int i = 0; i < threads; i++) {
        pthread_join(tid[i], NULL);
        total += w[i].done;
        bad |= w[i].bad;
    }
    double dt = now_s() - t0;
    if (bad) {
        fprintf(stderr, "bench_verify: a verification failed\n");
        exit(1);
    }
    return (double)total / dt;
}

int main(int argc, char **argv)
{
    if (argc > 3 || (argc > 1 && strcmp(argv[1], "--help") == 0)) {
        fprintf(argc > 3 ? stderr : stdout, "usage: bench_verify [SECONDS [THREADS]]\n");
        return argc > 3 ? 2 : 0;
    }
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    if (ncpu < 1)
        ncpu = 1;
    double seconds = (double)parse_long(argc > 1 ? argv[1] : NULL, 2, 1, 60);
    int threads = (int)parse_long(argc > 2 ? argv[2] : NULL, ncpu > MAX_THREADS ? MAX_THREADS : ncpu,
                                  1, MAX_THREADS);
    if (sodium_init() < 0)
        return 1;

    /* A typical small record: a post like kz-gen's. */
    static sample s;
    uint8_t sk[KZ_SECKEY_BYTES];
    crypto_sign_keypair(s.pk, sk);
    kz_record r;
    kz_record_init(&r, KZ_T_POST, s.pk, 1700000000000ull);
    static const char text[] = "bench post 123456 by member 7";
    r.body.post.room = (kz_str){"general", 7};
    r.body.post.text = (kz_str){text, sizeof text - 1};
    if (kz_record_sign(&r, sk) != 0) {
        fprintf(stderr, "bench_verify: cannot sign: %s\n", kz_record_last_error());
        return 1;
    }
    sodium_memzero(sk, sizeof sk);
    size_t signed_len = r.raw_len - 2 - KZ_SIG_BYTES; /* bin8 header + signature */
    memcpy(s.msg, KZ_RECORD_SIG_DOMAIN, KZ_RECORD_SIG_DOMAIN_LEN);
    memcpy(s.msg + KZ_RECORD_SIG_DOMAIN_LEN, r.raw, signed_len);
    s.msg[KZ_RECORD_SIG_DOMAIN_LEN] = 0x95;
    s.msg_len = KZ_RECORD_SIG_DOMAIN_LEN + signed_len;
    memcpy(s.sig, r.sig, KZ_SIG_BYTES);
    s.raw = r.raw;
    s.raw_len = r.raw_len;
    if (crypto_sign_verify_detached(s.sig, s.msg, s.msg_len, s.pk) != 0) {
        fprintf(stderr, "bench_verify: the signing input is not what kz_record_sign signed\n");
        return 1;
    }

    printf("record: %zu bytes, signing input %zu bytes; %.0f s per measurement; %ld CPUs online\n",
           r.raw_len, s.msg_len, seconds, ncpu);
    double v1 = measure(&s, 1, seconds, 0);
    printf("crypto_sign_verify_detached, 1 thread:   %10.0f /s (%.1f us each)\n", v1, 1e6 / v1);
    double vn = measure(&s, threads, seconds, 0);
    printf("crypto_sign_verify_detached, %d threads: %10.0f /s (%.2f x one thread)\n", threads, vn,
           vn / v1);
    double d1 = measure(&s, 1, seconds, 1);
    printf("kz_record_decode + verify, 1 thread:     %10.0f /s (%.0f%% of raw verify)\n", d1,
           100.0 * d1 / v1);
    printf("verify_1=%.0f\nverify_N=%.0f\nthreads=%d\ndecode_verify_1=%.0f\n", v1, vn, threads, d1);
    kz_record_close(&r);
    return 0;
}
