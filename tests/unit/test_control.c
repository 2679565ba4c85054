/* test_control.c: the control protocol: line framing, request parsing and
 * dispatch (bad JSON, unknown commands, wrong argument types, oversize),
 * handlers on a real node (search.reindex repairing an emptied index among
 * them), and the libuv socket server end to end. */
#include "kz_test.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <lmdb.h>

#include "kz_node.h"

#include "control_fixtures.h"

/* ---- helpers -------------------------------------------------------------------- */

static json_t *handle(kz_node *n, const char *line)
{
    size_t outlen = 0;
    char *out = kz_control_handle(n, line, strlen(line), &outlen);
    assert_non_null(out);
    assert_true(outlen > 0);
    assert_int_equal(out[outlen - 1], '\n');
    assert_null(memchr(out, '\n', outlen - 1)); /* exactly one line */
    json_error_t jerr;
    json_t *rep = json_loadb(out, outlen, 0, &jerr);
    free(out);
    assert_non_null(rep);
    assert_true(json_is_boolean(json_object_get(rep, "ok")));
    return rep;
}

static void expect_error(kz_node *n, const char *line, int code, const char *needle)
{
    json_t *rep = handle(n, line);
    if (json_is_true(json_object_get(rep, "ok")))
        fail_msg("request accepted: %s", line);
    const char *msg = json_string_value(json_object_get(rep, "error"));
    assert_non_null(msg);
    if (needle && !strstr(msg, needle))
        fail_msg("error '%s' lacks '%s' (request %s)", msg, needle, line);
    assert_int_equal(json_integer_value(json_object_get(rep, "code")), code);
    json_decref(rep);
}

static json_t *expect_ok(kz_node *n, const char *line)
{
    json_t *rep = handle(n, line);
    if (!json_is_true(json_object_get(rep, "ok")))
        fail_msg("request refused: %s: %s", line,
                 json_string_value(json_object_get(rep, "error")));
    json_t *res = json_incref(json_object_get(rep, "result"));
    json_decref(rep);
    return res;
}

static int node_setup(void **state)
{
    return ctl_node_setup(state, "/tmp/kz-test-ctl-XXXXXX", "テスト株式会社", "127.0.0.1:17420");
}

static long long record_count(kz_node *n)
{
    kz_store_stats st;
    assert_int_equal(kz_store_stats_get(n->store, &st), 0);
    return (long long)st.records;
}

/* ---- line framing ---------------------------------------------------------------- */

static void test_linebuf_split(void **state)
{
    kz_linebuf b;
    const char *line;
    size_t len;
    kz_linebuf_init(&b, 16);
    assert_int_equal(kz_linebuf_append(&b, "ab", 2), 0);
    assert_int_equal(kz_linebuf_next(&b, &line, &len), 0);
    assert_int_equal(kz_linebuf_append(&b, "c\nde\n", 5), 0);
    assert_int_equal(kz_linebuf_next(&b, &line, &len), 1);
    assert_int_equal(len, 3);
    assert_memory_equal(line, "abc", 3);
    assert_int_equal(kz_linebuf_next(&b, &line, &len), 1);
    assert_int_equal(len, 2);
    assert_memory_equal(line, "de", 2);
    assert_int_equal(kz_linebuf_next(&b, &line, &len), 0);
    assert_int_equal(kz_linebuf_append(&b, "\n", 1), 0);
    assert_int_equal(kz_linebuf_next(&b, &line, &len), 1);
    assert_int_equal(len, 0);
    kz_linebuf_close(&b);
}

static void test_linebuf_oversize(void **state)
{
    kz_linebuf b;
    const char *line;
    size_t len;
    char big[40];
    memset(big, 'x', sizeof big);
    kz_linebuf_init(&b, 16);
    /* exactly max is fine, one more is not, across appends too */
    assert_int_equal(kz_linebuf_append(&b, big, 16), 0);
    assert_int_equal(kz_linebuf_append(&b, "\n", 1), 0);
    assert_int_equal(kz_linebuf_next(&b, &line, &len), 1);
    assert_int_equal(len, 16);
    assert_int_equal(kz_linebuf_append(&b, big, 10), 0);
    assert_int_equal(kz_linebuf_append(&b, big, 7), KZ_ETOOBIG);
    kz_linebuf_close(&b);
    /* a complete line that is too long in one chunk */
    kz_linebuf_init(&b, 16);
    char chunk[41];
    memcpy(chunk, big, 40);
    chunk[40] = '\n';
    assert_int_equal(kz_linebuf_append(&b, chunk, 41), KZ_ETOOBIG);
    assert_int_equal(kz_linebuf_next(&b, &line, &len), 0);
    kz_linebuf_close(&b);
}

/* ---- request parsing (no node needed) --------------------------------------------- */

static void test_bad_json(void **state)
{
    expect_error(NULL, "{not json", KZ_EINVAL, "not valid JSON");
    expect_error(NULL, "", KZ_EINVAL, "empty request");
    expect_error(NULL, "[1,2]", KZ_EINVAL, "must be a JSON object");
    expect_error(NULL, "\"status\"", KZ_EINVAL, "must be a JSON object");
    expect_error(NULL, "{\"cmd\": \"status\"} trailing", KZ_EINVAL, "not valid JSON");
    expect_error(NULL, "{\"cmd\": \"status\", \"cmd\": \"x\"}", KZ_EINVAL, "not valid JSON");
    expect_error(NULL, "{\"cmd\": \"st\\u0000atus\"}", KZ_EINVAL, "not valid JSON");
    expect_error(NULL, "{\"args\": {}}", KZ_EINVAL, "\"cmd\"");
    expect_error(NULL, "{\"cmd\": 5}", KZ_EINVAL, "\"cmd\"");
    expect_error(NULL, "{\"cmd\": \"status\", \"args\": []}", KZ_EINVAL, "\"args\" must be");
    expect_error(NULL, "{\"cmd\": \"status\", \"extra\": 1}", KZ_EINVAL, "unknown argument 'extra'");
}

static void test_unknown_cmd(void **state)
{
    expect_error(NULL, "{\"cmd\": \"frobnicate\"}", KZ_EINVAL, "unknown command 'frobnicate'");
    expect_error(NULL, "{\"cmd\": \"\"}", KZ_EINVAL, "unknown command");
    assert_non_null(kz_control_verb_find("status"));
    assert_non_null(kz_control_verb_find("member.add"));
    assert_non_null(kz_control_verb_find("record.import"));
    assert_null(kz_control_verb_find("member"));
}

static void test_oversize_line(void **state)
{
    size_t n = KZ_CONTROL_LINE_MAX + 1;
    char *big = malloc(n + 1);
    memset(big, ' ', n);
    big[n] = '\0';
    size_t outlen;
    char *out = kz_control_handle(NULL, big, n, &outlen);
    assert_non_null(strstr(out, "\"ok\":false"));
    assert_non_null(strstr(out, "larger than"));
    free(out);
    free(big);
}

/* ---- handlers on a real node -------------------------------------------------------- */

static void test_status(void **state)
{
    fixture *f = *state;
    json_t *r = expect_ok(f->node, "{\"cmd\": \"status\"}");
    kz_idstr id = kz_id_to_str(f->node->keys.node_pk);
    assert_string_equal(json_string_value(json_object_get(r, "node_id")), id.s);
    assert_string_equal(json_string_value(json_object_get(r, "name")), "テスト株式会社");
    assert_int_equal(json_integer_value(json_object_get(r, "records")), 1);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(r, "by_type"), "node")), 1);
    assert_non_null(json_object_get(r, "peers"));
    json_decref(r);
    expect_error(f->node, "{\"cmd\": \"status\", \"args\": {\"x\": 1}}", KZ_EINVAL,
                 "unknown argument 'x'");
}

static void test_wrong_args(void **state)
{
    fixture *f = *state;
    long long before = record_count(f->node);
    expect_error(f->node, "{\"cmd\": \"member.add\", \"args\": {\"reading\": \"よみ\"}}", KZ_EINVAL,
                 "missing argument 'name'");
    expect_error(f->node, "{\"cmd\": \"member.add\", \"args\": {\"name\": 5, \"reading\": \"r\"}}",
                 KZ_EINVAL, "'name' must be a string");
    expect_error(f->node,
                 "{\"cmd\": \"member.add\", \"args\": {\"name\": \"n\", \"reading\": \"r\", \"joined\": \"2010\"}}",
                 KZ_EINVAL, "'joined' must be a year");
    expect_error(f->node,
                 "{\"cmd\": \"member.add\", \"args\": {\"name\": \"n\", \"reading\": \"r\", \"joined\": 1800}}",
                 KZ_EINVAL, "'joined' must be a year");
    expect_error(f->node,
                 "{\"cmd\": \"member.add\", \"args\": {\"name\": \"n\", \"reading\": \"r\", \"joined\": 2020, \"left\": 2010}}",
                 KZ_EINVAL, "before joined");
    expect_error(f->node,
                 "{\"cmd\": \"member.add\", \"args\": {\"name\": \"n\", \"reading\": \"r\", \"role\": \"ceo\"}}",
                 KZ_EINVAL, "role must be");
    expect_error(f->node,
                 "{\"cmd\": \"member.add\", \"args\": {\"name\": \"a\\nb\", \"reading\": \"r\"}}",
                 KZ_EINVAL, "control characters");
    expect_error(f->node, "{\"cmd\": \"member.revoke\", \"args\": {\"member\": \"abc\"}}", KZ_EINVAL,
                 "64 hex digits");
    expect_error(f->node, "{\"cmd\": \"record.show\", \"args\": {}}", KZ_EINVAL, "missing argument 'id'");
    expect_error(f->node, "{\"cmd\": \"record.import\", \"args\": {\"raw_b64\": \"!!!\"}}", KZ_EINVAL,
                 "base64");
    expect_error(f->node, "{\"cmd\": \"backup\", \"args\": {\"out_dir\": \"relative\"}}", KZ_EINVAL,
                 "absolute");
    /* a name one byte over the limit */
    char req[512];
    char name[KZ_NAME_MAX + 2];
    memset(name, 'n', KZ_NAME_MAX + 1);
    name[KZ_NAME_MAX + 1] = '\0';
    snprintf(req, sizeof req, "{\"cmd\": \"member.add\", \"args\": {\"name\": \"%s\", \"reading\": \"r\"}}", name);
    expect_error(f->node, req, KZ_ETOOBIG, "at most 128");
    assert_int_equal(record_count(f->node), before); /* nothing was written */
}

static void test_member_flow(void **state)
{
    fixture *f = *state;
    char req[512];
    json_t *r = expect_ok(f->node,
                          "{\"cmd\": \"member.add\", \"args\": {\"name\": \"鈴木 一郎\", \"reading\": "
                          "\"すずき いちろう\", \"joined\": 2001, \"left\": 2015}}");
    const char *mid = json_string_value(json_object_get(r, "member_id"));
    assert_non_null(mid);
    assert_int_equal(strlen(mid), 64);
    char member[65];
    memcpy(member, mid, 65);
    json_decref(r);
    assert_int_equal(record_count(f->node), 3); /* node, attest, profile */

    r = expect_ok(f->node, "{\"cmd\": \"member.list\"}");
    json_t *list = json_object_get(r, "members");
    assert_int_equal(json_array_size(list), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(list, 0), "status")), "live");
    json_decref(r);

    /* unknown field and bad values are refused, store unchanged */
    snprintf(req, sizeof req, "{\"cmd\": \"profile.set\", \"args\": {\"member\": \"%s\", \"fields\": {\"shoe\": \"42\"}}}", member);
    expect_error(f->node, req, KZ_EINVAL, "unknown profile field 'shoe'");
    snprintf(req, sizeof req, "{\"cmd\": \"profile.set\", \"args\": {\"member\": \"%s\", \"fields\": {\"open_to\": \"jobs\"}}}", member);
    expect_error(f->node, req, KZ_EINVAL, "open_to");
    snprintf(req, sizeof req, "{\"cmd\": \"profile.set\", \"args\": {\"member\": \"%s\", \"fields\": {\"name\": \"\"}}}", member);
    expect_error(f->node, req, KZ_EINVAL, "name cannot be empty");
    snprintf(req, sizeof req, "{\"cmd\": \"profile.set\", \"args\": {\"member\": \"%s\", \"fields\": {\"joined\": 2001}}}", member);
    expect_error(f->node, req, KZ_EINVAL, "as a string");
    assert_int_equal(record_count(f->node), 3);

    /* rehire stays private */
    snprintf(req, sizeof req, "{\"cmd\": \"profile.set\", \"args\": {\"member\": \"%s\", \"fields\": {\"open_to\": \"mentoring,rehire\", \"skills\": \"C, 会計\"}}}", member);
    r = expect_ok(f->node, req);
    const char *pid = json_string_value(json_object_get(r, "profile_id"));
    snprintf(req, sizeof req, "{\"cmd\": \"record.show\", \"args\": {\"id\": \"%s\"}}", pid);
    json_decref(r);
    r = expect_ok(f->node, req);
    json_t *open = json_object_get(json_object_get(r, "body"), "open_to");
    assert_int_equal(json_array_size(open), 1);
    assert_string_equal(json_string_value(json_array_get(open, 0)), "mentoring");
    assert_string_equal(json_string_value(json_object_get(r, "signature")), "valid");
    json_decref(r);
    snprintf(req, sizeof req, "{\"cmd\": \"profile.show\", \"args\": {\"member\": \"%s\"}}", member);
    r = expect_ok(f->node, req);
    open = json_object_get(r, "open_to");
    assert_int_equal(json_array_size(open), 2);
    assert_string_equal(json_string_value(json_array_get(open, 1)), "rehire");
    assert_string_equal(json_string_value(json_object_get(r, "home_company")), "テスト株式会社");
    assert_int_equal(json_integer_value(json_object_get(r, "tenure_joined")), 2001);
    json_decref(r);

    /* revoke, then the member can no longer post */
    snprintf(req, sizeof req, "{\"cmd\": \"member.revoke\", \"args\": {\"member\": \"%s\"}}", member);
    r = expect_ok(f->node, req);
    json_decref(r);
    expect_error(f->node, req, KZ_EEXIST, "already revoked");
    snprintf(req, sizeof req, "{\"cmd\": \"post\", \"args\": {\"member\": \"%s\", \"room\": \"r\", \"text\": \"t\"}}", member);
    expect_error(f->node, req, KZ_EPERM, "revoked");
}

/* Hits of a search as the node's secretariat. */
static size_t search_hits(kz_node *n, const char *query)
{
    char req[256];
    snprintf(req, sizeof req, "{\"cmd\": \"search\", \"args\": {\"query\": \"%s\"}}", query);
    json_t *r = expect_ok(n, req);
    size_t k = json_array_size(json_object_get(r, "hits"));
    json_decref(r);
    return k;
}

static json_int_t jint(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    assert_true(json_is_integer(v));
    return json_integer_value(v);
}

/* Empty the two search databases under a closed store, leaving the rules id
 * in place so that the next open does not rebuild them: what a lost or
 * damaged index looks like to the node. */
static void index_wipe(const char *dir)
{
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi docs, postings;
    assert_int_equal(mdb_env_create(&env), 0);
    assert_int_equal(mdb_env_set_maxdbs(env, 64), 0);
    assert_int_equal(mdb_env_open(env, dir, MDB_NOTLS, 0600), 0);
    assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
    assert_int_equal(mdb_dbi_open(txn, "search_docs", 0, &docs), 0);
    assert_int_equal(mdb_dbi_open(txn, "search_postings", MDB_DUPSORT | MDB_DUPFIXED, &postings), 0);
    assert_int_equal(mdb_drop(txn, docs, 0), 0);
    assert_int_equal(mdb_drop(txn, postings, 0), 0);
    assert_int_equal(mdb_txn_commit(txn), 0);
    mdb_env_close(env);
}

static void test_search_reindex(void **state)
{
    fixture *f = *state;
    char req[512], err[KZ_ERR_MAX], ids[4][65];
    static const char *const people[4][2] = {
        {"鈴木 一郎", "すずき いちろう"}, {"佐藤 花子", "さとう はなこ"},
        {"高橋 隠", "たかはし かくれ"}, {"田中 去", "たなか さる"}};
    for (int i = 0; i < 4; i++) {
        snprintf(req, sizeof req,
                 "{\"cmd\": \"member.add\", \"args\": {\"name\": \"%s\", \"reading\": \"%s\"}}",
                 people[i][0], people[i][1]);
        json_t *r = expect_ok(f->node, req);
        snprintf(ids[i], sizeof ids[i], "%s", json_string_value(json_object_get(r, "member_id")));
        json_decref(r);
    }
    /* Not indexed: a hidden profile and a revoked member. */
    snprintf(req, sizeof req, "{\"cmd\": \"profile.set\", \"args\": {\"member\": \"%s\", "
                              "\"fields\": {\"visibility\": \"hidden\"}}}", ids[2]);
    json_decref(expect_ok(f->node, req));
    snprintf(req, sizeof req, "{\"cmd\": \"member.revoke\", \"args\": {\"member\": \"%s\"}}",
             ids[3]);
    json_decref(expect_ok(f->node, req));
    assert_int_equal(search_hits(f->node, "すずき"), 1);
    long long records = record_count(f->node);

    /* An up-to-date index: the same counts before and after. */
    json_t *r = expect_ok(f->node, "{\"cmd\": \"search.reindex\", \"args\": {}}");
    assert_int_equal(jint(r, "profiles"), 2);
    assert_int_equal(jint(r, "profiles_before"), 2);
    json_int_t postings = jint(r, "postings");
    assert_true(postings > 0);
    assert_int_equal(jint(r, "postings_before"), postings);
    assert_true(jint(r, "elapsed_ms") >= 0);
    json_decref(r);
    r = expect_ok(f->node, "{\"cmd\": \"search.reindex\"}"); /* args may be left out */
    assert_int_equal(jint(r, "profiles"), 2);
    json_decref(r);
    assert_int_equal(search_hits(f->node, "すずき"), 1);
    assert_int_equal(search_hits(f->node, "さとう"), 1);
    assert_int_equal(search_hits(f->node, "たかはし"), 0);
    assert_int_equal(search_hits(f->node, "たなか"), 0);

    /* Bad input changes nothing. */
    expect_error(f->node, "{\"cmd\": \"search.reindex\", \"args\": {\"full\": true}}", KZ_EINVAL,
                 "unknown argument 'full'");
    expect_error(f->node, "{\"cmd\": \"search.reindex\", \"args\": [1]}", KZ_EINVAL, NULL);

    /* A lost index: nothing is found until the rebuild, then all is back. */
    kz_node_free(f->node);
    f->node = NULL;
    index_wipe(f->dir);
    assert_int_equal(kz_node_create(&f->node, f->dir, NULL, err, sizeof err), 0);
    assert_int_equal(search_hits(f->node, "すずき"), 0);
    r = expect_ok(f->node, "{\"cmd\": \"search.reindex\", \"args\": {}}");
    assert_int_equal(jint(r, "profiles_before"), 0);
    assert_int_equal(jint(r, "postings_before"), 0);
    assert_int_equal(jint(r, "profiles"), 2);
    assert_int_equal(jint(r, "postings"), postings);
    json_decref(r);
    assert_int_equal(search_hits(f->node, "すずき"), 1);
    assert_int_equal(search_hits(f->node, "suzuki"), 1);
    assert_int_equal(search_hits(f->node, "さとう"), 1);
    assert_int_equal(search_hits(f->node, "たかはし"), 0);
    assert_int_equal(record_count(f->node), records); /* records are untouched */

    /* The index follows changes again after a rebuild. */
    snprintf(req, sizeof req, "{\"cmd\": \"profile.set\", \"args\": {\"member\": \"%s\", "
                              "\"fields\": {\"current_company\": \"Globex\"}}}", ids[1]);
    json_decref(expect_ok(f->node, req));
    assert_int_equal(search_hits(f->node, "globex"), 1);
}

static void test_import_refusals(void **state)
{
    fixture *f = *state;
    long long before = record_count(f->node);
    expect_error(f->node, "{\"cmd\": \"record.import\", \"args\": {\"raw_b64\": \"\"}}", KZ_EDECODE, "empty");
    expect_error(f->node, "{\"cmd\": \"record.import\", \"args\": {\"raw_b64\": \"Z2FyYmFnZQ==\"}}",
                 KZ_EDECODE, "not a kizuna record");
    /* the node's own record again: duplicate */
    char req[256];
    json_t *st = expect_ok(f->node, "{\"cmd\": \"member.add\", \"args\": {\"name\": \"A\", \"reading\": \"a\"}}");
    json_decref(st);
    before = record_count(f->node);
    /* export the attest and import it back: duplicate */
    kz_record like;
    kz_record_init(&like, KZ_T_NODE, f->node->keys.node_pk, 0);
    kz_record head;
    assert_int_equal(kz_node_slot_load(f->node, &like, &head), 0);
    kz_idstr hid = kz_id_to_str(head.id);
    kz_record_close(&head);
    snprintf(req, sizeof req, "{\"cmd\": \"record.get\", \"args\": {\"id\": \"%s\"}}", hid.s);
    json_t *g = expect_ok(f->node, req);
    char imp[KZ_RECORD_MAX * 2];
    snprintf(imp, sizeof imp, "{\"cmd\": \"record.import\", \"args\": {\"raw_b64\": \"%s\"}}",
             json_string_value(json_object_get(g, "raw_b64")));
    json_decref(g);
    expect_error(f->node, imp, KZ_EEXIST, "already stored");
    assert_int_equal(record_count(f->node), before);
}

/* ---- the socket server ---------------------------------------------------------------- */

static int connect_ctl(const char *dir)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    snprintf(sun.sun_path, sizeof sun.sun_path, "%s/control.sock", dir);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    assert_int_equal(connect(fd, (struct sockaddr *)&sun, sizeof sun), 0);
    assert_int_equal(fcntl(fd, F_SETFL, O_NONBLOCK), 0);
    return fd;
}

/* Pump the loop until fd has n reply lines (or EOF); returns bytes read. */
static size_t pump(uv_loop_t *loop, int fd, char *buf, size_t cap, int lines, bool *eof)
{
    size_t len = 0;
    *eof = false;
    for (int spins = 0; spins < 20000; spins++) {
        uv_run(loop, UV_RUN_NOWAIT);
        ssize_t r = recv(fd, buf + len, cap - 1 - len, 0);
        if (r > 0) {
            len += (size_t)r;
            buf[len] = '\0';
            int have = 0;
            for (size_t i = 0; i < len; i++)
                have += buf[i] == '\n';
            if (have >= lines && lines > 0)
                return len;
        } else if (r == 0) {
            *eof = true;
            return len;
        } else if (errno != EAGAIN && errno != EWOULDBLOCK) {
            *eof = true;
            return len;
        }
        usleep(100);
    }
    return len;
}

static void send_all(uv_loop_t *loop, int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w > 0) {
            p += w;
            n -= (size_t)w;
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            uv_run(loop, UV_RUN_NOWAIT);
        } else {
            return; /* the node hung up (oversize request): fine */
        }
    }
}

static void test_socket_server(void **state)
{
    fixture *f = *state;
    uv_loop_t loop;
    char err[KZ_ERR_MAX];
    char buf[8192];
    bool eof;
    struct stat st;
    assert_int_equal(uv_loop_init(&loop), 0);
    f->node->loop = &loop;
    assert_int_equal(kz_control_start(f->node, err, sizeof err), 0);
    char sock[160];
    snprintf(sock, sizeof sock, "%s/control.sock", f->dir);
    assert_int_equal(stat(sock, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);

    /* two pipelined requests in one write: two replies, in order */
    int fd = connect_ctl(f->dir);
    const char *two = "{\"cmd\":\"status\"}\n{\"cmd\":\"nope\"}\n";
    send_all(&loop, fd, two, strlen(two));
    size_t len = pump(&loop, fd, buf, sizeof buf, 2, &eof);
    assert_false(eof);
    char *nl = strchr(buf, '\n');
    assert_non_null(nl);
    assert_true(strncmp(buf, "{\"ok\":true", 10) == 0);
    assert_true(strncmp(nl + 1, "{\"ok\":false", 11) == 0);
    assert_non_null(strstr(nl + 1, "unknown command 'nope'"));
    (void)len;

    /* oversize: error reply, then the node closes the connection */
    size_t big = KZ_CONTROL_LINE_MAX + 100;
    char *junk = malloc(big);
    memset(junk, 'x', big);
    send_all(&loop, fd, junk, big);
    free(junk);
    len = pump(&loop, fd, buf, sizeof buf, 0, &eof);
    assert_true(eof);
    /* exactly one well-formed reply line, nothing after it */
    assert_non_null(strstr(buf, "longer than"));
    assert_non_null(strstr(buf, "\"code\":-6}\n"));
    assert_int_equal(len, strlen(buf));
    assert_int_equal(strchr(buf, '\n') - buf + 1, (long)len);
    close(fd);

    /* a new connection still works */
    fd = connect_ctl(f->dir);
    send_all(&loop, fd, "{\"cmd\":\"status\"}\n", 17);
    len = pump(&loop, fd, buf, sizeof buf, 1, &eof);
    assert_true(strncmp(buf, "{\"ok\":true", 10) == 0);
    close(fd);

    /* a last request without '\n' followed by EOF is still answered */
    fd = connect_ctl(f->dir);
    send_all(&loop, fd, "{\"cmd\":\"status\"}", 16);
    assert_int_equal(shutdown(fd, SHUT_WR), 0);
    len = pump(&loop, fd, buf, sizeof buf, 0, &eof);
    assert_true(eof);
    assert_true(strncmp(buf, "{\"ok\":true", 10) == 0);
    close(fd);

    /* an idle client is dropped (the idle time is shortened for the test) */
    f->node->control_idle_ms = 50;
    fd = connect_ctl(f->dir);
    uint64_t t0 = kz_now_ms();
    len = pump(&loop, fd, buf, sizeof buf, 0, &eof);
    assert_true(eof);
    assert_int_equal(len, 0);
    assert_true(kz_now_ms() - t0 >= 40);
    close(fd);
    f->node->control_idle_ms = 0;

    /* at most KZ_CONTROL_CLIENTS_MAX at once: the next one is told why */
    int fds[KZ_CONTROL_CLIENTS_MAX];
    for (int i = 0; i < KZ_CONTROL_CLIENTS_MAX; i++) {
        fds[i] = connect_ctl(f->dir);
        uv_run(&loop, UV_RUN_NOWAIT);
    }
    fd = connect_ctl(f->dir);
    len = pump(&loop, fd, buf, sizeof buf, 0, &eof);
    assert_true(eof);
    assert_non_null(strstr(buf, "too many control connections"));
    close(fd);
    for (int i = 0; i < KZ_CONTROL_CLIENTS_MAX; i++)
        close(fds[i]);

    kz_control_stop(f->node);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_null(f->node->control);
    assert_int_equal(uv_loop_close(&loop), 0);
    f->node->loop = NULL;
}

/* A backup is copied on the thread pool and its reply deferred: a request
 * pipelined behind it on the same connection is answered after it, in
 * order; another client is served meanwhile; a client that hangs up
 * before the copy ends costs nothing. */
static void test_socket_deferred_backup(void **state)
{
    fixture *f = *state;
    uv_loop_t loop;
    char err[KZ_ERR_MAX], buf[8192], req[1024], bdir[160];
    bool eof;
    struct stat st;
    assert_int_equal(uv_loop_init(&loop), 0);
    f->node->loop = &loop;
    assert_int_equal(kz_control_start(f->node, err, sizeof err), 0);

    snprintf(bdir, sizeof bdir, "%s/bk1", f->dir);
    int fd = connect_ctl(f->dir);
    int n = snprintf(req, sizeof req,
                     "{\"cmd\":\"backup\",\"args\":{\"out_dir\":\"%s\"}}\n{\"cmd\":\"status\"}\n",
                     bdir);
    send_all(&loop, fd, req, (size_t)n);
    int other = connect_ctl(f->dir);
    send_all(&loop, other, "{\"cmd\":\"status\"}\n", 17);
    pump(&loop, other, buf, sizeof buf, 1, &eof);
    assert_true(strncmp(buf, "{\"ok\":true", 10) == 0);
    close(other);
    size_t len = pump(&loop, fd, buf, sizeof buf, 2, &eof);
    assert_false(eof);
    assert_true(len > 0);
    char *nl = strchr(buf, '\n');
    assert_non_null(nl);
    json_error_t je;
    json_t *r1 = json_loadb(buf, (size_t)(nl - buf), 0, &je);
    assert_non_null(r1);
    assert_true(json_is_true(json_object_get(r1, "ok")));
    json_t *res = json_object_get(r1, "result");
    const char *path = json_string_value(json_object_get(res, "path"));
    assert_non_null(path);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(json_integer_value(json_object_get(res, "bytes")), (json_int_t)st.st_size);
    assert_int_equal(st.st_mode & 0777, 0600);
    json_decref(r1);
    /* then the status asked after it, answered only now */
    assert_true(strncmp(nl + 1, "{\"ok\":true", 10) == 0);
    assert_non_null(strstr(nl + 1, "\"records\""));
    /* The same directory again: refused at once, nothing overwritten. */
    n = snprintf(req, sizeof req, "{\"cmd\":\"backup\",\"args\":{\"out_dir\":\"%s\"}}\n", bdir);
    send_all(&loop, fd, req, (size_t)n);
    pump(&loop, fd, buf, sizeof buf, 1, &eof);
    assert_non_null(strstr(buf, "refusing to overwrite"));
    close(fd);

    /* Hang up right after asking: the copy finishes, the reply is dropped. */
    snprintf(bdir, sizeof bdir, "%s/bk2", f->dir);
    fd = connect_ctl(f->dir);
    n = snprintf(req, sizeof req, "{\"cmd\":\"backup\",\"args\":{\"out_dir\":\"%s\"}}\n", bdir);
    send_all(&loop, fd, req, (size_t)n);
    for (int i = 0; i < 50; i++)
        uv_run(&loop, UV_RUN_NOWAIT);
    close(fd);
    kz_control_stop(f->node);
    uv_run(&loop, UV_RUN_DEFAULT); /* waits for the copy, frees everything */
    assert_null(f->node->control);
    snprintf(req, sizeof req, "%s/data.mdb", bdir);
    assert_int_equal(stat(req, &st), 0);
    assert_int_equal(uv_loop_close(&loop), 0);
    f->node->loop = NULL;
}

static void test_client_not_running(void **state)
{
    fixture *f = *state;
    json_t *res = NULL;
    char err[KZ_ERR_MAX];
    assert_int_equal(kz_control_call(f->dir, "status", NULL, 1000, &res, err, sizeof err),
                     KZ_ENOTRUNNING);
    assert_non_null(strstr(err, "the node is not running (no control socket at"));
    assert_null(res);
}

/* ---- services: the hook the gossip layer plugs into --------------------------------- */

static struct {
    int started, stopped, freed;
    uv_timer_t timer;
    json_t *status_seen;
} g_svc;

static void svc_timer_cb(uv_timer_t *t)
{
    kz_node *n = t->data;
    g_svc.status_seen = expect_ok(n, "{\"cmd\": \"status\"}");
    kz_node_stop(n); /* what SIGTERM does */
}

static int svc_start(kz_node *n, char *err, size_t errsz)
{
    g_svc.started++;
    uv_timer_init(n->loop, &g_svc.timer);
    g_svc.timer.data = n;
    uv_timer_start(&g_svc.timer, svc_timer_cb, 0, 0);
    return 0;
}

static void svc_stop(kz_node *n)
{
    g_svc.stopped++;
    uv_close((uv_handle_t *)&g_svc.timer, NULL);
}

static void svc_free(kz_node *n)
{
    g_svc.freed++;
}

static json_t *svc_status(kz_node *n)
{
    return json_pack("{s:i}", "connected", 7);
}

static void test_service_hooks(void **state)
{
    fixture *f = *state;
    static const kz_node_service svc = {"peers", svc_start, svc_stop, svc_free, svc_status};
    uv_loop_t loop;
    memset(&g_svc, 0, sizeof g_svc);
    assert_int_equal(uv_loop_init(&loop), 0);
    assert_int_equal(kz_node_service_add(f->node, &svc), 0);
    assert_int_equal(kz_node_run(f->node, &loop), 0); /* returns once everything closed */
    assert_int_equal(uv_loop_close(&loop), 0);
    assert_int_equal(g_svc.started, 1);
    assert_int_equal(g_svc.stopped, 1);
    assert_non_null(g_svc.status_seen);
    json_t *peers = json_object_get(g_svc.status_seen, "peers");
    assert_int_equal(json_integer_value(json_object_get(peers, "connected")), 7);
    json_decref(g_svc.status_seen);
    kz_node_free(f->node); /* frees the service */
    f->node = NULL;
    assert_int_equal(g_svc.freed, 1);
    char sock[160];
    snprintf(sock, sizeof sock, "%s/control.sock", f->dir);
    assert_int_equal(access(sock, F_OK), -1); /* removed on free */
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_linebuf_split),
    cmocka_unit_test(test_linebuf_oversize),
    cmocka_unit_test(test_bad_json),
    cmocka_unit_test(test_unknown_cmd),
    cmocka_unit_test(test_oversize_line),
    cmocka_unit_test_setup_teardown(test_status, node_setup, node_teardown),
    cmocka_unit_test_setup_teardown(test_wrong_args, node_setup, node_teardown),
    cmocka_unit_test_setup_teardown(test_member_flow, node_setup, node_teardown),
    cmocka_unit_test_setup_teardown(test_import_refusals, node_setup, node_teardown),
    cmocka_unit_test_setup_teardown(test_search_reindex, node_setup, node_teardown),
    cmocka_unit_test_setup_teardown(test_socket_deferred_backup, node_setup, node_teardown),
    cmocka_unit_test_setup_teardown(test_socket_server, node_setup, node_teardown),
    cmocka_unit_test_setup_teardown(test_client_not_running, node_setup, node_teardown),
    cmocka_unit_test_setup_teardown(test_service_hooks, node_setup, node_teardown),
};
KZ_TEST_MAIN(tests)
