/* test_config.c: kizuna.conf parsing (every key checked, errors with file
 * and line), writing and reading back, and HOST:PORT validation. */
#include "kz_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kz_node.h"

static int parse(kz_config *c, const char *text, char *err, size_t errsz)
{
    err[0] = '\0';
    return kz_config_parse(c, text, strlen(text), "D/kizuna.conf", err, errsz);
}

static void test_valid(void **state)
{
    kz_config c;
    char err[KZ_ERR_MAX];
    const char *text = "# comment\n"
                       "[node]\n"
                       "name = 株式会社 ACME\n"
                       "listen = 127.0.0.1:9000\n"
                       "advertise = node1.example.com:9000\n"
                       "\n"
                       "[http]\n"
                       "listen = [::1]:8080\n"
                       "[log]\n"
                       "level = debug ; inline comment\n"
                       "[store]\n"
                       "map_size_max_mb = 1024\n";
    assert_int_equal(parse(&c, text, err, sizeof err), 0);
    assert_string_equal(c.name, "株式会社 ACME");
    assert_string_equal(c.listen, "127.0.0.1:9000");
    assert_string_equal(c.advertise, "node1.example.com:9000");
    assert_string_equal(c.http, "[::1]:8080");
    assert_int_equal(c.log_level, KZ_LOG_DEBUG);
    assert_true(c.map_size_max == 1024ull * 1024 * 1024);
}

static void test_defaults(void **state)
{
    kz_config c;
    char err[KZ_ERR_MAX];
    assert_int_equal(parse(&c, "[node]\nname = x\n", err, sizeof err), 0);
    assert_string_equal(c.listen, KZ_DEFAULT_LISTEN);
    assert_string_equal(c.http, KZ_DEFAULT_HTTP);
    assert_string_equal(c.advertise, "");
    assert_int_equal(c.log_level, KZ_LOG_INFO);
    assert_true(c.map_size_max == 0);
}

static void test_unknown_key_line(void **state)
{
    kz_config c;
    char err[KZ_ERR_MAX];
    assert_int_equal(parse(&c, "[node]\nname = x\n\nfoo = 1\n", err, sizeof err), KZ_ECONFIG);
    assert_string_equal(err, "D/kizuna.conf:4: unknown key 'foo' in [node]");
}

static void test_unknown_section(void **state)
{
    kz_config c;
    char err[KZ_ERR_MAX];
    assert_int_equal(parse(&c, "[node]\nname = x\n[nodes]\nlisten = 1.2.3.4:5\n", err, sizeof err),
                     KZ_ECONFIG);
    assert_non_null(strstr(err, "D/kizuna.conf:4: unknown section [nodes]"));
}

static void test_first_error_wins(void **state)
{
    kz_config c;
    char err[KZ_ERR_MAX];
    assert_int_equal(parse(&c, "[node]\nname = x\nlisten = nope\nbar = 2\n", err, sizeof err),
                     KZ_ECONFIG);
    assert_non_null(strstr(err, "D/kizuna.conf:3: bad value for 'listen' in [node]"));
}

static void test_bad_values(void **state)
{
    static const char *const bad[] = {
        "[node]\nname = x\nlisten = 1.2.3.4\n",            /* no port */
        "[node]\nname = x\nlisten = 1.2.3.4:0\n",          /* port 0 */
        "[node]\nname = x\nlisten = 1.2.3.4:70000\n",      /* port too big */
        "[node]\nname = x\nlisten = 1.2.3.4:080\n",        /* leading zero */
        "[node]\nname = x\nlisten = :7420\n",              /* no host */
        "[node]\nname = x\nlisten = a b:7420\n",           /* space in host */
        "[node]\nname = x\nadvertise = [zz]:1\n",          /* bad IPv6 */
        "[node]\nname = x\n[log]\nlevel = loud\n",
        "[node]\nname = x\n[store]\nmap_size_max_mb = abc\n",
        "[node]\nname = x\n[store]\nmap_size_max_mb = 10\n",
        "[node]\nname = x\n[store]\nmap_size_max_mb = -100\n",
        "[node]\nname = x\n[store]\nmap_size_max_mb = 99999999999999999999999\n",
        "[node]\nname = \x01x\n",                             /* control char */
        "[node]\nname = \xff\xfe\n",                          /* not UTF-8 */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        kz_config c;
        char err[KZ_ERR_MAX];
        int rc = parse(&c, bad[i], err, sizeof err);
        if (rc != KZ_ECONFIG)
            fail_msg("accepted bad config #%zu", i);
        assert_true(strncmp(err, "D/kizuna.conf", 13) == 0);
    }
}

static void test_name_required(void **state)
{
    kz_config c;
    char err[KZ_ERR_MAX];
    assert_int_equal(parse(&c, "[node]\nlisten = 1.2.3.4:5\n", err, sizeof err), KZ_ECONFIG);
    assert_non_null(strstr(err, "missing required key 'name' in [node]"));
    assert_int_equal(parse(&c, "[node]\nname =\n", err, sizeof err), KZ_ECONFIG);
    assert_non_null(strstr(err, ":2: bad value for 'name'"));
}

static void test_duplicate_and_outside(void **state)
{
    kz_config c;
    char err[KZ_ERR_MAX];
    assert_int_equal(parse(&c, "[node]\nname = x\nname = y\n", err, sizeof err), KZ_ECONFIG);
    assert_non_null(strstr(err, ":3: key 'name' in [node] is set twice"));
    assert_int_equal(parse(&c, "name = x\n[node]\nname = y\n", err, sizeof err), KZ_ECONFIG);
    assert_non_null(strstr(err, ":1: key 'name' is outside any section"));
}

static void test_syntax_error(void **state)
{
    kz_config c;
    char err[KZ_ERR_MAX];
    assert_int_equal(parse(&c, "[node]\nname = x\nthis is not ini\n", err, sizeof err), KZ_ECONFIG);
    assert_non_null(strstr(err, "D/kizuna.conf:3: syntax error"));
    assert_int_equal(parse(&c, "[node\nname = x\n", err, sizeof err), KZ_ECONFIG);
    assert_non_null(strstr(err, "D/kizuna.conf:1: syntax error"));
}

static void test_long_line_and_nul(void **state)
{
    kz_config c;
    char err[KZ_ERR_MAX];
    char text[600];
    int n = snprintf(text, sizeof text, "[node]\nname = x\nadvertise = ");
    memset(text + n, 'a', 400);
    memcpy(text + n + 400, ":1\n", 4);
    assert_int_equal(parse(&c, text, err, sizeof err), KZ_ECONFIG);
    assert_non_null(strstr(err, ":3: line too long"));
    static const char nul[] = "[node]\nname = x\0y\n";
    assert_int_equal(kz_config_parse(&c, nul, sizeof nul - 1, "D/kizuna.conf", err, sizeof err),
                     KZ_ECONFIG);
    assert_non_null(strstr(err, "NUL"));
}

static void test_write_read_back(void **state)
{
    char dir[] = "/tmp/kz-test-config-XXXXXX";
    char path[256], err[KZ_ERR_MAX];
    struct stat st;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/kizuna.conf", dir);
    kz_config c, back;
    kz_config_defaults(&c);
    snprintf(c.name, sizeof c.name, "鈴木商事");
    snprintf(c.advertise, sizeof c.advertise, "kz.example.org:7420");
    c.log_level = KZ_LOG_WARN;
    c.map_size_max = 256ull * 1024 * 1024;
    assert_int_equal(kz_config_write(&c, path, true, err, sizeof err), 0);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(kz_config_load(&back, path, err, sizeof err), 0);
    assert_string_equal(back.name, c.name);
    assert_string_equal(back.listen, c.listen);
    assert_string_equal(back.advertise, c.advertise);
    assert_string_equal(back.http, c.http);
    assert_int_equal(back.log_level, KZ_LOG_WARN);
    assert_true(back.map_size_max == c.map_size_max);
    /* exclusive: refuses an existing file */
    assert_int_equal(kz_config_write(&c, path, true, err, sizeof err), KZ_EEXIST);
    /* a name inih would mangle is refused instead of silently changed */
    snprintf(c.name, sizeof c.name, " padded");
    assert_int_equal(kz_config_write(&c, path, false, err, sizeof err), KZ_EINVAL);
    snprintf(c.name, sizeof c.name, "a ; b");
    assert_int_equal(kz_config_write(&c, path, false, err, sizeof err), KZ_EINVAL);
    assert_int_equal(kz_config_load(&back, path, err, sizeof err), 0);
    assert_string_equal(back.name, "鈴木商事");
    unlink(path);
    rmdir(dir);
}

static void test_load_missing(void **state)
{
    kz_config c;
    char err[KZ_ERR_MAX];
    assert_int_equal(kz_config_load(&c, "/nonexistent/kizuna.conf", err, sizeof err), KZ_ENOTFOUND);
    assert_non_null(strstr(err, "/nonexistent/kizuna.conf"));
}

static void test_addr_parse(void **state)
{
    char host[KZ_HOST_MAX + 1], err[KZ_ERR_MAX];
    uint16_t port = 0;
    assert_int_equal(kz_addr_parse("node.example.com:7420", host, sizeof host, &port, err, sizeof err), 0);
    assert_string_equal(host, "node.example.com");
    assert_int_equal(port, 7420);
    assert_int_equal(kz_addr_parse("[fe80::1]:65535", host, sizeof host, &port, err, sizeof err), 0);
    assert_string_equal(host, "fe80::1");
    assert_int_equal(port, 65535);
    static const char *const bad[] = {"", "host", "host:", ":1", "host:-1", "host:1x", "h*st:1",
                                      "[::1]", "[::1]7420", "::1:7420", "-host:1", "host:65536"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (kz_addr_parse(bad[i], NULL, 0, NULL, err, sizeof err) != KZ_EINVAL)
            fail_msg("accepted bad address '%s'", bad[i]);
    }
}

static void test_advertised(void **state)
{
    kz_config c;
    char out[KZ_ADDR_MAX + 1], hn[256];
    kz_config_defaults(&c);
    assert_int_equal(gethostname(hn, sizeof hn), 0);
    assert_int_equal(kz_config_advertised(&c, out, sizeof out), 0);
    char want[300];
    snprintf(want, sizeof want, "%s:7420", hn);
    assert_string_equal(out, want);
    snprintf(c.listen, sizeof c.listen, "10.0.0.5:7000");
    assert_int_equal(kz_config_advertised(&c, out, sizeof out), 0);
    assert_string_equal(out, "10.0.0.5:7000");
    snprintf(c.advertise, sizeof c.advertise, "kz.example:1");
    assert_int_equal(kz_config_advertised(&c, out, sizeof out), 0);
    assert_string_equal(out, "kz.example:1");
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_valid),
    cmocka_unit_test(test_defaults),
    cmocka_unit_test(test_unknown_key_line),
    cmocka_unit_test(test_unknown_section),
    cmocka_unit_test(test_first_error_wins),
    cmocka_unit_test(test_bad_values),
    cmocka_unit_test(test_name_required),
    cmocka_unit_test(test_duplicate_and_outside),
    cmocka_unit_test(test_syntax_error),
    cmocka_unit_test(test_long_line_and_nul),
    cmocka_unit_test(test_write_read_back),
    cmocka_unit_test(test_load_missing),
    cmocka_unit_test(test_addr_parse),
    cmocka_unit_test(test_advertised),
};
KZ_TEST_MAIN(tests)
