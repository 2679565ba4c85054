/* kz-test-link: kz_store */
/* test_store_env.c: the store's environment: opening, map growth (also under
 * concurrent readers and across processes), local members, settings, backup,
 * reopening and a writer killed mid-stream. */
#include "kz_test.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/wait.h>

#include "store_fixtures.h"

/* ---- Opening ------------------------------------------------------------------ */

static void test_open_missing_dir(void **state)
{
    kz_store *s = (kz_store *)1;
    assert_int_equal(kz_store_create(&s, "/tmp/kz_test_store_does_not_exist/x", NULL), KZ_EIO);
    assert_null(s);
}

static void test_open_file_mode(void **state)
{
    fx f;
    struct stat st;
    char path[128];
    mode_t old = umask(022);
    fx_open(&f);
    umask(old);
    snprintf(path, sizeof path, "%s/data.mdb", f.dir);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    fx_close(&f);
}

/* ---- Map growth ---------------------------------------------------------------------- */

static void test_map_growth(void **state)
{
    fx f;
    key n, m;
    kz_record r;
    enum { N = 3000, B = 100 };
    static kz_record recs[B];
    const kz_record *v[B];
    kz_put_result res[B];
    char text[64];

    kz_store_opts o = {.map_size = 64 * 1024};
    fx_open_opts(&f, &o);
    key_make(&n, 1);
    key_make(&m, 2);
    mk_node(&r, &n, T0);
    put_expect(f.s, &r, 0);
    kz_record_close(&r);
    mk_attest(&r, &n, &m, T0 + 1);
    put_expect(f.s, &r, 0);
    kz_record_close(&r);
    kz_store_stats st;

    for (int i = 0; i < N; i += B) {
        for (int j = 0; j < B; j++) {
            snprintf(text, sizeof text, "post number %d with some padding text", i + j);
            mk_post(&recs[j], &m, T0 + 100 + (uint64_t)(i + j), text);
            v[j] = &recs[j];
        }
        assert_int_equal(kz_store_put_batch(f.s, v, B, res), 0);
        for (int j = 0; j < B; j++) {
            assert_int_equal(res[j].rc, 0);
            kz_record_close(&recs[j]);
        }
    }
    /* Single puts grow the map too. */
    for (int i = 0; i < 20; i++) {
        snprintf(text, sizeof text, "single %d", i);
        mk_post(&r, &m, T0 + 100000 + (uint64_t)i, text);
        put_expect(f.s, &r, 0);
        kz_record_close(&r);
    }
    assert_int_equal(kz_store_stats_get(f.s, &st), 0);
    assert_int_equal(st.records, N + 22);
    assert_int_equal(st.by_type[KZ_T_POST], N + 20);
    assert_true(st.map_size >= 1024 * 1024); /* grew from 64 KiB by doubling */
    assert_true(st.used_bytes <= st.map_size);
    fx_close(&f);
}

static void test_map_max(void **state)
{
    fx f;
    key n;
    kz_record r;
    kz_store_opts o = {.map_size = 64 * 1024, .map_size_max = 256 * 1024};
    fx_open_opts(&f, &o);
    key_make(&n, 1);
    mk_node(&r, &n, T0);
    put_expect(f.s, &r, 0);
    kz_record_close(&r);
    /* Keep writing settings until the capped map refuses: it must fail
     * cleanly (KZ_ESTORE) and leave the store usable for reads. */
    static uint8_t val[KZ_SETTING_MAX];
    int rc = 0, i;
    for (i = 0; i < 1000 && rc == 0; i++) {
        char k[32];
        snprintf(k, sizeof k, "fill/%d", i);
        rc = kz_store_setting_put(f.s, k, val, sizeof val);
    }
    assert_int_equal(rc, KZ_ESTORE);
    assert_true(i > 1);
    size_t len;
    assert_int_equal(kz_store_setting_get(f.s, "fill/0", val, sizeof val, &len), 0);
    fx_close(&f);
}

/* ---- Members, settings, stats ------------------------------------------------------------ */

static void member_fill(kz_store_member *m, uint8_t b, const char *hr)
{
    memset(m, 0, sizeof *m);
    memset(m->pk, b, sizeof m->pk);
    m->role = KZ_ROLE_EMPLOYEE;
    m->joined = 2001;
    m->left = 2019;
    m->rehire = true;
    m->added_ms = T0 + b;
    m->sealed_sk_len = 72;
    memset(m->sealed_sk, b ^ 0x5a, m->sealed_sk_len);
    snprintf(m->hr_key, sizeof m->hr_key, "%s", hr);
}

static int count_members_cb(void *ud, const kz_store_member *m)
{
    unsigned *n = ud;
    (*n)++;
    return 0;
}

static void test_members(void **state)
{
    fx f;
    kz_store_member a, b, got;
    unsigned n = 0;

    fx_open(&f);
    member_fill(&a, 0x11, "EMP-001");
    member_fill(&b, 0x22, "EMP-002");
    assert_int_equal(kz_store_member_put(f.s, &a), 0);
    assert_int_equal(kz_store_member_put(f.s, &b), 0);
    assert_int_equal(kz_store_member_get(f.s, a.pk, &got), 0);
    assert_memory_equal(&got.pk, &a.pk, KZ_KEY_BYTES);
    assert_int_equal(got.role, a.role);
    assert_int_equal(got.joined, 2001);
    assert_int_equal(got.left, 2019);
    assert_true(got.rehire);
    assert_false(got.revoked);
    assert_int_equal(got.added_ms, a.added_ms);
    assert_int_equal(got.sealed_sk_len, 72);
    assert_memory_equal(got.sealed_sk, a.sealed_sk, 72);
    assert_string_equal(got.hr_key, "EMP-001");
    assert_int_equal(kz_store_member_by_hrkey(f.s, "EMP-002", &got), 0);
    assert_memory_equal(got.pk, b.pk, KZ_KEY_BYTES);
    assert_int_equal(kz_store_member_by_hrkey(f.s, "EMP-404", &got), KZ_ENOTFOUND);

    /* hr_key conflict: b may not take a's key, and nothing changes. */
    kz_store_member b2 = b;
    snprintf(b2.hr_key, sizeof b2.hr_key, "EMP-001");
    assert_int_equal(kz_store_member_put(f.s, &b2), KZ_EINVAL);
    assert_int_equal(kz_store_member_by_hrkey(f.s, "EMP-001", &got), 0);
    assert_memory_equal(got.pk, a.pk, KZ_KEY_BYTES);
    assert_int_equal(kz_store_member_get(f.s, b.pk, &got), 0);
    assert_string_equal(got.hr_key, "EMP-002");

    /* Changing one's own hr_key frees the old one. */
    snprintf(b2.hr_key, sizeof b2.hr_key, "EMP-003");
    b2.revoked = true;
    assert_int_equal(kz_store_member_put(f.s, &b2), 0);
    assert_int_equal(kz_store_member_by_hrkey(f.s, "EMP-002", &got), KZ_ENOTFOUND);
    assert_int_equal(kz_store_member_by_hrkey(f.s, "EMP-003", &got), 0);
    assert_true(got.revoked);
    assert_true(got.rehire);

    /* Bad input is refused. */
    kz_store_member bad = a;
    bad.sealed_sk_len = KZ_SEALED_SK_MAX + 1;
    assert_int_equal(kz_store_member_put(f.s, &bad), KZ_EINVAL);
    bad = a;
    bad.role = 9;
    assert_int_equal(kz_store_member_put(f.s, &bad), KZ_EINVAL);
    bad = a;
    memset(bad.hr_key, 'x', sizeof bad.hr_key); /* not NUL-terminated */
    assert_int_equal(kz_store_member_put(f.s, &bad), KZ_EINVAL);
    bad = a;
    snprintf(bad.hr_key, sizeof bad.hr_key, "tab\there");
    assert_int_equal(kz_store_member_put(f.s, &bad), KZ_EINVAL);

    uint8_t pk[KZ_KEY_BYTES] = {0};
    assert_int_equal(kz_store_member_get(f.s, pk, &got), KZ_ENOTFOUND);
    assert_int_equal(kz_store_member_iter(f.s, count_members_cb, &n), 0);
    assert_int_equal(n, 2);
    kz_store_stats st;
    assert_int_equal(kz_store_stats_get(f.s, &st), 0);
    assert_int_equal(st.members, 2);
    fx_close(&f);
}

static void test_settings(void **state)
{
    fx f;
    char buf[64];
    size_t len;

    fx_open(&f);
    assert_int_equal(kz_store_setting_get(f.s, "node.name", buf, sizeof buf, &len), KZ_ENOTFOUND);
    assert_int_equal(kz_store_setting_put(f.s, "node.name", "Acme", 4), 0);
    assert_int_equal(kz_store_setting_get(f.s, "node.name", buf, sizeof buf, &len), 0);
    assert_int_equal(len, 4);
    assert_memory_equal(buf, "Acme", 4);
    assert_int_equal(kz_store_setting_put(f.s, "node.name", "Acme Group", 10), 0);
    assert_int_equal(kz_store_setting_get(f.s, "node.name", buf, sizeof buf, &len), 0);
    assert_int_equal(len, 10);
    assert_int_equal(kz_store_setting_get(f.s, "node.name", buf, 3, &len), KZ_ETOOBIG);
    assert_int_equal(kz_store_setting_put(f.s, "empty", NULL, 0), 0);
    assert_int_equal(kz_store_setting_get(f.s, "empty", buf, sizeof buf, &len), 0);
    assert_int_equal(len, 0);
    static uint8_t big[KZ_SETTING_MAX + 1];
    assert_int_equal(kz_store_setting_put(f.s, "big", big, sizeof big), KZ_ETOOBIG);
    assert_int_equal(kz_store_setting_put(f.s, "big", big, KZ_SETTING_MAX), 0);
    assert_int_equal(kz_store_setting_put(f.s, "", "x", 1), KZ_EINVAL);
    fx_close(&f);
}

/* ---- Whole store: backup, reopen, crash --------------------------------------------------- */

static void test_backup(void **state)
{
    world w;
    kz_record p[10];
    char out[128];
    kz_store *b;

    world_open(&w);
    for (int i = 0; i < 10; i++) {
        mk_post(&p[i], &w.a, T0 + 10 + (uint64_t)i, "backed up");
        put_expect(w.f.s, &p[i], 0);
    }
    assert_int_equal(kz_store_setting_put(w.f.s, "k", "v", 1), 0);
    snprintf(out, sizeof out, "%s/bk", w.f.dir);
    assert_int_equal(kz_store_backup(w.f.s, out), KZ_EIO); /* out dir must exist */
    assert_int_equal(mkdir(out, 0700), 0);
    assert_int_equal(kz_store_backup(w.f.s, out), 0);
    assert_int_equal(kz_store_backup(w.f.s, out), KZ_EEXIST);

    kz_store_opts ro = {.read_only = true};
    assert_int_equal(kz_store_create(&b, out, &ro), 0);
    for (int i = 0; i < 10; i++)
        assert_true(kz_store_has(b, p[i].id));
    assert_int_equal(kz_store_member_home(b, w.a.pk, NULL, NULL), 0);
    kz_store_stats st;
    assert_int_equal(kz_store_stats_get(b, &st), 0);
    assert_int_equal(st.records, 12);
    assert_int_equal(st.by_type[KZ_T_POST], 10);
    char v;
    size_t len;
    assert_int_equal(kz_store_setting_get(b, "k", &v, 1, &len), 0);
    /* Read-only means read-only. */
    kz_record extra;
    mk_post(&extra, &w.a, T0 + 99, "no");
    put_expect(b, &extra, KZ_EPERM);
    kz_record_close(&extra);
    kz_store_free(b);
    for (int i = 0; i < 10; i++)
        kz_record_close(&p[i]);
    fx_close(&w.f);
}

static void test_reopen(void **state)
{
    world w;
    kz_record p, pr;
    kz_store_member m, got;
    char buf[8];
    size_t len;

    world_open(&w);
    mk_post(&p, &w.a, T0 + 10, "persist");
    mk_profile(&pr, &w.a, T0 + 11, "A");
    put_expect(w.f.s, &p, 0);
    put_expect(w.f.s, &pr, 0);
    member_fill(&m, 0x33, "HR-9");
    assert_int_equal(kz_store_member_put(w.f.s, &m), 0);
    assert_int_equal(kz_store_setting_put(w.f.s, "x", "yz", 2), 0);
    assert_int_equal(kz_store_block_set(w.f.s, m.pk, true), 0);

    fx_reopen(&w.f, NULL);
    assert_true(kz_store_has(w.f.s, p.id));
    assert_true(kz_store_has(w.f.s, pr.id));
    assert_int_equal(kz_store_member_home(w.f.s, w.a.pk, NULL, NULL), 0);
    assert_int_equal(kz_store_member_by_hrkey(w.f.s, "HR-9", &got), 0);
    assert_int_equal(kz_store_setting_get(w.f.s, "x", buf, sizeof buf, &len), 0);
    assert_int_equal(len, 2);
    assert_true(kz_store_is_blocked(w.f.s, m.pk));
    put_expect(w.f.s, &p, KZ_EEXIST);
    kz_store_stats st;
    assert_int_equal(kz_store_stats_get(w.f.s, &st), 0);
    assert_int_equal(st.records, 4);
    assert_int_equal(st.by_type[KZ_T_PROFILE], 1);
    kz_record_close(&p);
    kz_record_close(&pr);
    fx_close(&w.f);
}

static void test_reopen_keeps_grown_map(void **state)
{
    fx f;
    kz_store_stats st;
    kz_store_opts big = {.map_size = 8u << 20}, small = {.map_size = 1u << 20};
    fx_open_opts(&f, &big);
    fx_reopen(&f, &small);
    assert_int_equal(kz_store_stats_get(f.s, &st), 0);
    assert_true(st.map_size >= (8u << 20));
    fx_close(&f);
}

/* The child writes posts forever and reports each acknowledged id. */
static void crash_child(const char *dir, int wfd, const key *m)
{
    kz_store *s;
    char text[32];
    if (kz_store_create(&s, dir, NULL) != 0)
        _exit(2);
    for (uint64_t i = 0;; i++) {
        kz_record r;
        kz_record_init(&r, KZ_T_POST, m->pk, T0 + 1000 + i);
        snprintf(text, sizeof text, "crash %llu", (unsigned long long)i);
        r.body.post.room = (kz_str){"general", 7};
        r.body.post.text = (kz_str){text, (uint32_t)strlen(text)};
        if (kz_record_sign(&r, m->sk) != 0)
            _exit(3);
        if (kz_store_put(s, &r, NULL) != 0)
            _exit(4);
        if (write(wfd, r.id, KZ_ID_BYTES) != KZ_ID_BYTES)
            _exit(5);
        kz_record_close(&r);
    }
}

static void test_crash_keeps_acknowledged(void **state)
{
    world w;
    int fds[2];
    enum { MAX_IDS = 4096 };
    static uint8_t ids[MAX_IDS][KZ_ID_BYTES];
    size_t n = 0;

    world_open(&w);
    kz_store_free(w.f.s); /* no LMDB environment may cross fork() */
    w.f.s = NULL;
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        crash_child(w.f.dir, fds[1], &w.a);
    }
    close(fds[1]);
    /* Let it commit a few dozen records, then kill it mid-stride. */
    while (n < 40) {
        ssize_t got = read(fds[0], ids[n], KZ_ID_BYTES);
        assert_int_equal(got, KZ_ID_BYTES);
        n++;
    }
    assert_int_equal(kill(pid, SIGKILL), 0);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    /* Ids already in the pipe were acknowledged before the kill too. */
    for (;;) {
        size_t off = 0;
        ssize_t got = 0;
        while (off < KZ_ID_BYTES && (got = read(fds[0], ids[n] + off, KZ_ID_BYTES - off)) > 0)
            off += (size_t)got;
        if (off < KZ_ID_BYTES || n + 1 >= MAX_IDS)
            break;
        n++;
    }
    close(fds[0]);

    assert_int_equal(kz_store_create(&w.f.s, w.f.dir, NULL), 0);
    for (size_t i = 0; i < n; i++)
        assert_true(kz_store_has(w.f.s, ids[i]));
    /* The store still takes writes after the crash. */
    kz_record p;
    mk_post(&p, &w.a, T0 + 5, "after the crash");
    put_expect(w.f.s, &p, 0);
    kz_record_close(&p);
    fx_close(&w.f);
}

/* A read-only opener in another process follows the writer's map growth. */
static void test_reader_follows_growth(void **state)
{
    world w;
    int ready[2], go[2];
    enum { N = 1500, B = 100 };
    char text[32];
    kz_store_opts small = {.map_size = 64 * 1024};

    world_open_opts(&w, &small);
    kz_store_free(w.f.s);
    w.f.s = NULL;
    assert_int_equal(pipe(ready), 0);
    assert_int_equal(pipe(go), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(ready[0]);
        close(go[1]); /* a parent that fails early closes go: we see EOF */
        kz_store *ro;
        kz_store_opts o = {.read_only = true};
        kz_store_stats st;
        char c = 'r';
        if (kz_store_create(&ro, w.f.dir, &o) != 0)
            _exit(2);
        if (kz_store_stats_get(ro, &st) != 0 || st.records != 2)
            _exit(3);
        if (write(ready[1], &c, 1) != 1 || read(go[0], &c, 1) != 1)
            _exit(4);
        if (kz_store_stats_get(ro, &st) != 0 || st.records != 2 + N)
            _exit(5);
        collect col = {0};
        if (kz_store_iter_order(ro, 0, NULL, false, collect_cb, &col) != 0 || col.n != 2 + N)
            _exit(6);
        kz_store_free(ro);
        _exit(0);
    }
    close(ready[1]);
    close(go[0]);
    char c;
    assert_int_equal(read(ready[0], &c, 1), 1);
    assert_int_equal(kz_store_create(&w.f.s, w.f.dir, &small), 0);
    static kz_record recs[B];
    const kz_record *v[B];
    kz_put_result res[B];
    kz_store_stats st0, st;
    assert_int_equal(kz_store_stats_get(w.f.s, &st0), 0);
    for (int i = 0; i < N; i += B) {
        for (int j = 0; j < B; j++) {
            snprintf(text, sizeof text, "grow %d", i + j);
            mk_post(&recs[j], &w.a, T0 + 100 + (uint64_t)(i + j), text);
            v[j] = &recs[j];
        }
        assert_int_equal(kz_store_put_batch(w.f.s, v, B, res), 0);
        for (int j = 0; j < B; j++)
            kz_record_close(&recs[j]);
    }
    assert_int_equal(kz_store_stats_get(w.f.s, &st), 0);
    assert_true(st.map_size > st0.map_size);
    assert_int_equal(write(go[1], "g", 1), 1);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    close(ready[0]);
    close(go[1]);
    fx_close(&w.f);
}

/* Readers on other threads while the writer grows (remaps) the map: every
 * record a reader is handed must hash to its id. */
typedef struct {
    kz_store *s;
    atomic_bool stop;
    atomic_uint bad, seen, passes;
} readers;

static int hash_check_cb(void *ud, const uint8_t id[KZ_ID_BYTES], uint64_t created_ms,
                         const uint8_t *raw, size_t len)
{
    readers *r = ud;
    uint8_t check[KZ_ID_BYTES];
    kz_record_id(check, raw, len);
    if (memcmp(check, id, KZ_ID_BYTES) != 0)
        atomic_fetch_add(&r->bad, 1);
    atomic_fetch_add(&r->seen, 1);
    return 0;
}

static void *reader_main(void *arg)
{
    readers *r = arg;
    while (!atomic_load(&r->stop)) {
        if (kz_store_iter_order(r->s, 0, NULL, false, hash_check_cb, r) != 0)
            atomic_fetch_add(&r->bad, 1);
        kz_store_stats st;
        if (kz_store_stats_get(r->s, &st) != 0)
            atomic_fetch_add(&r->bad, 1);
        atomic_fetch_add(&r->passes, 1);
    }
    return NULL;
}

static void test_reads_during_growth(void **state)
{
    world w;
    enum { N = 2000, B = 50, THREADS = 2 };
    static kz_record recs[B];
    const kz_record *v[B];
    kz_put_result res[B];
    char text[32];
    pthread_t th[THREADS];
    kz_store_opts small = {.map_size = 64 * 1024};

    world_open_opts(&w, &small);
    readers rd = {.s = w.f.s};
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, reader_main, &rd), 0);
    for (int i = 0; i < N; i += B) {
        for (int j = 0; j < B; j++) {
            snprintf(text, sizeof text, "concurrent %d", i + j);
            mk_post(&recs[j], &w.a, T0 + 100 + (uint64_t)(i + j), text);
            v[j] = &recs[j];
        }
        assert_int_equal(kz_store_put_batch(w.f.s, v, B, res), 0);
        for (int j = 0; j < B; j++) {
            assert_int_equal(res[j].rc, 0);
            kz_record_close(&recs[j]);
        }
    }
    atomic_store(&rd.stop, true);
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    kz_store_stats st;
    assert_int_equal(kz_store_stats_get(w.f.s, &st), 0);
    assert_int_equal(st.records, N + 2);
    assert_true(st.map_size >= 1024 * 1024);
    assert_int_equal(atomic_load(&rd.bad), 0);
    assert_true(atomic_load(&rd.passes) > 0);
    assert_true(atomic_load(&rd.seen) > 0);
    fx_close(&w.f);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_open_missing_dir),
    cmocka_unit_test(test_open_file_mode),
    cmocka_unit_test(test_map_growth),
    cmocka_unit_test(test_map_max),
    cmocka_unit_test(test_members),
    cmocka_unit_test(test_settings),
    cmocka_unit_test(test_backup),
    cmocka_unit_test(test_reopen),
    cmocka_unit_test(test_reopen_keeps_grown_map),
    cmocka_unit_test(test_crash_keeps_acknowledged),
    cmocka_unit_test(test_reader_follows_growth),
    cmocka_unit_test(test_reads_during_growth),
};

KZ_TEST_MAIN(tests)
