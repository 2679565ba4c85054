/* config.c: kizuna.conf (INI via inih): a table of keys, each strictly
 * validated, errors naming file and line; and HOST:PORT addresses. */
#include "internal.h"

#include <errno.h>
#include <stdarg.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- Addresses -------------------------------------------------------------- */

static bool kz_is_hostchar(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '.';
}

static bool kz_is_v6char(char c)
{
    return (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || (c >= '0' && c <= '9') ||
           c == ':' || c == '.';
}

int kz_addr_parse(const char *s, char *host, size_t hostsz, uint16_t *port, char *err,
                  size_t errsz)
{
    size_t n = strlen(s);
    const char *h, *colon;
    size_t hlen;
    if (n == 0 || n > KZ_ADDR_MAX) {
        snprintf(err, errsz, "expected HOST:PORT of at most %d bytes", KZ_ADDR_MAX);
        return KZ_EINVAL;
    }
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (!close || close[1] != ':') {
            snprintf(err, errsz, "'%s' is not HOST:PORT (IPv6 addresses go in brackets: [::1]:7420)", s);
            return KZ_EINVAL;
        }
        h = s + 1;
        hlen = (size_t)(close - h);
        colon = close + 1;
        for (size_t i = 0; i < hlen; i++) {
            if (!kz_is_v6char(h[i])) {
                snprintf(err, errsz, "'%s': bad character in IPv6 address", s);
                return KZ_EINVAL;
            }
        }
        if (hlen < 2 || !memchr(h, ':', hlen)) {
            snprintf(err, errsz, "'%s': empty or malformed IPv6 address", s);
            return KZ_EINVAL;
        }
    } else {
        colon = strrchr(s, ':');
        if (!colon) {
            snprintf(err, errsz, "'%s' is not HOST:PORT (missing ':PORT')", s);
            return KZ_EINVAL;
        }
        h = s;
        hlen = (size_t)(colon - s);
        if (hlen == 0) {
            snprintf(err, errsz, "'%s': missing host before ':'", s);
            return KZ_EINVAL;
        }
        for (size_t i = 0; i < hlen; i++) {
            if (!kz_is_hostchar(h[i])) {
                snprintf(err, errsz,
                         "'%s': bad character '%c' in host (use a DNS name, an IPv4 address or [IPv6])",
                         s, h[i] >= 0x20 && h[i] < 0x7f ? h[i] : '?');
                return KZ_EINVAL;
            }
        }
        if (h[0] == '-' || h[0] == '.') {
            snprintf(err, errsz, "'%s': host may not start with '%c'", s, h[0]);
            return KZ_EINVAL;
        }
    }
    if (hlen > KZ_HOST_MAX) {
        snprintf(err, errsz, "host longer than %d bytes", KZ_HOST_MAX);
        return KZ_EINVAL;
    }
    const char *p = colon + 1;
    size_t plen = strlen(p);
    unsigned long v = 0;
    if (plen == 0 || plen > 5 || (p[0] == '0')) {
        snprintf(err, errsz, "'%s': port must be a number from 1 to 65535", s);
        return KZ_EINVAL;
    }
    for (size_t i = 0; i < plen; i++) {
        if (p[i] < '0' || p[i] > '9') {
            snprintf(err, errsz, "'%s': port must be a number from 1 to 65535", s);
            return KZ_EINVAL;
        }
        v = v * 10 + (unsigned long)(p[i] - '0');
    }
    if (v < 1 || v > 65535) {
        snprintf(err, errsz, "'%s': port must be a number from 1 to 65535", s);
        return KZ_EINVAL;
    }
    if (host) {
        if (hostsz <= hlen)
            return KZ_ETOOBIG;
        memcpy(host, h, hlen);
        host[hlen] = '\0';
    }
    if (port)
        *port = (uint16_t)v;
    return 0;
}

int kz_config_advertised(const kz_config *c, char *out, size_t outsz)
{
    char host[KZ_HOST_MAX + 1];
    uint16_t port;
    char err[KZ_ERR_MAX];
    if (c->advertise[0]) {
        if ((size_t)snprintf(out, outsz, "%s", c->advertise) >= outsz)
            return KZ_ETOOBIG;
        return 0;
    }
    if (kz_addr_parse(c->listen, host, sizeof host, &port, err, sizeof err) != 0)
        return KZ_EINVAL;
    if (strcmp(host, "0.0.0.0") == 0 || strcmp(host, "::") == 0 || strcmp(host, "0:0:0:0:0:0:0:0") == 0) {
        char hn[KZ_HOST_MAX + 1];
        if (gethostname(hn, sizeof hn) != 0)
            return KZ_EIO;
        hn[KZ_HOST_MAX] = '\0';
        memcpy(host, hn, sizeof hn);
    }
    int w = strchr(host, ':') ? snprintf(out, outsz, "[%s]:%u", host, (unsigned)port)
                              : snprintf(out, outsz, "%s:%u", host, (unsigned)port);
    if (w < 0 || (size_t)w >= outsz)
        return KZ_ETOOBIG;
    return 0;
}

/* ---- The key table ------------------------------------------------------------ */

typedef enum { KZ_CK_NAME, KZ_CK_ADDR, KZ_CK_LOGLEVEL, KZ_CK_MEGABYTES, KZ_CK_PEERING,
               KZ_CK_SECONDS } kz_ckind;

typedef struct {
    const char *section;
    const char *key;
    kz_ckind kind;
    size_t offset;     /* into kz_config */
    size_t size;       /* of the char array for strings */
    const char *help;  /* what a good value looks like */
} kz_ckey;

#define KZ_CSTR(s, k, kind, field, help)                                                       \
    { s, k, kind, offsetof(kz_config, field), sizeof(((kz_config *)0)->field), help }

static const kz_ckey kz_ckeys[] = {
    KZ_CSTR("node", "name", KZ_CK_NAME, name, "the company's display name, 1-128 bytes of UTF-8"),
    KZ_CSTR("node", "listen", KZ_CK_ADDR, listen, "HOST:PORT"),
    KZ_CSTR("node", "advertise", KZ_CK_ADDR, advertise, "HOST:PORT"),
    KZ_CSTR("http", "listen", KZ_CK_ADDR, http, "HOST:PORT"),
    {"log", "level", KZ_CK_LOGLEVEL, offsetof(kz_config, log_level), 0, "debug, info, warn or error"},
    {"store", "map_size_max_mb", KZ_CK_MEGABYTES, offsetof(kz_config, map_size_max), 0,
     "a whole number of MiB from 64 to 1048576"},
    {"node", "peering", KZ_CK_PEERING, offsetof(kz_config, peering_listed), 0, "open or listed"},
    {"node", "sync_interval", KZ_CK_SECONDS, offsetof(kz_config, sync_interval_s), 0,
     "a whole number of seconds from 1 to 86400"},
};

void kz_config_defaults(kz_config *c)
{
    memset(c, 0, sizeof *c);
    memcpy(c->listen, KZ_DEFAULT_LISTEN, sizeof KZ_DEFAULT_LISTEN);
    memcpy(c->http, KZ_DEFAULT_HTTP, sizeof KZ_DEFAULT_HTTP);
    c->log_level = KZ_LOG_INFO;
}

typedef struct {
    /* reader */
    const char *text;
    size_t len, off;
    unsigned line;
    bool too_long;
    int max_line;
    /* handler */
    kz_config *cfg;
    const char *label;
    bool seen[KZ_ARRAY_LEN(kz_ckeys)];
    unsigned err_line;
    char msg[KZ_ERR_MAX];
} kz_cparse;

/* inih reader over a memory buffer: one line per call, so that ctx->line is
 * the number of the line the handler is being called for. */
static char *kz_config_reader(char *str, int num, void *stream)
{
    kz_cparse *ctx = stream;
    if (ctx->off >= ctx->len || ctx->too_long)
        return NULL;
    const char *start = ctx->text + ctx->off;
    size_t left = ctx->len - ctx->off;
    const char *nl = memchr(start, '\n', left);
    size_t n = nl ? (size_t)(nl - start) + 1 : left;
    ctx->line++;
    ctx->max_line = num - 3;
    if (num < 4 || n > (size_t)num - 3) {
        ctx->too_long = true;
        return NULL;
    }
    memcpy(str, start, n);
    str[n] = '\0';
    ctx->off += n;
    return str;
}

static void kz_cfail(kz_cparse *ctx, const char *fmt, ...) KZ_PRINTF(2, 3);
static void kz_cfail(kz_cparse *ctx, const char *fmt, ...)
{
    if (ctx->err_line)
        return; /* keep the first error */
    ctx->err_line = ctx->line;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ctx->msg, sizeof ctx->msg, fmt, ap);
    va_end(ap);
}

static int kz_config_handler(void *user, const char *section, const char *key, const char *value)
{
    kz_cparse *ctx = user;
    const kz_ckey *k = NULL;
    bool section_known = false;
    size_t idx = 0;
    for (size_t i = 0; i < KZ_ARRAY_LEN(kz_ckeys); i++) {
        if (strcmp(kz_ckeys[i].section, section) == 0) {
            section_known = true;
            if (strcmp(kz_ckeys[i].key, key) == 0) {
                k = &kz_ckeys[i];
                idx = i;
            }
        }
    }
    if (!section[0]) {
        kz_cfail(ctx, "key '%s' is outside any section (put it under [node], [http], [log] or [store])", key);
        return 0;
    }
    if (!section_known) {
        kz_cfail(ctx, "unknown section [%s] (known: [node], [http], [log], [store])", section);
        return 0;
    }
    if (!k) {
        kz_cfail(ctx, "unknown key '%s' in [%s]", key, section);
        return 0;
    }
    if (ctx->seen[idx]) {
        kz_cfail(ctx, "key '%s' in [%s] is set twice", key, section);
        return 0;
    }
    ctx->seen[idx] = true;
    char *base = (char *)ctx->cfg;
    size_t vlen = strlen(value);
    char why[KZ_ERR_MAX];
    switch (k->kind) {
    case KZ_CK_NAME:
        if (vlen == 0 || vlen > KZ_NAME_MAX || !kz_utf8_valid(value, vlen, 0)) {
            kz_cfail(ctx, "bad value for '%s' in [%s]: expected %s", key, section, k->help);
            return 0;
        }
        memcpy(base + k->offset, value, vlen + 1);
        break;
    case KZ_CK_ADDR:
        if (kz_addr_parse(value, NULL, 0, NULL, why, sizeof why) != 0) {
            kz_cfail(ctx, "bad value for '%s' in [%s]: %s", key, section, why);
            return 0;
        }
        memcpy(base + k->offset, value, vlen + 1);
        break;
    case KZ_CK_LOGLEVEL: {
        kz_log_level lv;
        if (kz_log_level_parse(value, &lv) != 0) {
            kz_cfail(ctx, "bad value '%s' for '%s' in [%s]: expected %s", value, key, section, k->help);
            return 0;
        }
        ctx->cfg->log_level = lv;
        break;
    }
    case KZ_CK_MEGABYTES: {
        char *end = NULL;
        errno = 0;
        unsigned long long v = strtoull(value, &end, 10);
        if (vlen == 0 || value[0] < '0' || value[0] > '9' || errno != 0 || *end != '\0' ||
            v < 64 || v > 1048576ull) {
            kz_cfail(ctx, "bad value '%s' for '%s' in [%s]: expected %s", value, key, section, k->help);
            return 0;
        }
        ctx->cfg->map_size_max = (uint64_t)v * 1024u * 1024u;
        break;
    }
    case KZ_CK_PEERING:
        if (strcmp(value, "open") != 0 && strcmp(value, "listed") != 0) {
            kz_cfail(ctx, "bad value '%s' for '%s' in [%s]: expected %s", value, key, section, k->help);
            return 0;
        }
        ctx->cfg->peering_listed = strcmp(value, "listed") == 0;
        break;
    case KZ_CK_SECONDS: {
        char *end = NULL;
        errno = 0;
        unsigned long v = strtoul(value, &end, 10);
        if (vlen == 0 || value[0] < '0' || value[0] > '9' || errno != 0 || *end != '\0' ||
            v < 1 || v > 86400ul) {
            kz_cfail(ctx, "bad value '%s' for '%s' in [%s]: expected %s", value, key, section, k->help);
            return 0;
        }
        ctx->cfg->sync_interval_s = (uint32_t)v;
        break;
    }
    }
    return 1;
}

int kz_config_parse(kz_config *c, const char *text, size_t len, const char *label, char *err,
                    size_t errsz)
{
    kz_cparse *ctx = kz_xcalloc(1, sizeof *ctx);
    int rc = KZ_ECONFIG;
    kz_config_defaults(c);
    ctx->text = text;
    ctx->len = len;
    ctx->cfg = c;
    ctx->label = label;
    if (memchr(text, '\0', len)) {
        snprintf(err, errsz, "%s: contains a NUL byte (not a text file?)", label);
        goto out;
    }
    if (!kz_utf8_valid(text, len, 1)) {
        snprintf(err, errsz, "%s: not valid UTF-8 text", label);
        goto out;
    }
    int r = ini_parse_stream(kz_config_reader, ctx, kz_config_handler, ctx);
    if (ctx->too_long) {
        snprintf(err, errsz, "%s:%u: line too long (at most %d bytes)", label, ctx->line,
                 ctx->max_line);
        goto out;
    }
    if (r > 0 && (unsigned)r == ctx->err_line) {
        snprintf(err, errsz, "%s:%d: %s", label, r, ctx->msg);
        goto out;
    }
    if (r > 0) {
        snprintf(err, errsz, "%s:%d: syntax error (expected '[section]', 'key = value' or a comment)",
                 label, r);
        goto out;
    }
    if (r < 0) {
        snprintf(err, errsz, "%s: could not be parsed (out of memory)", label);
        goto out;
    }
    if (!c->name[0]) {
        snprintf(err, errsz, "%s: missing required key 'name' in [node]", label);
        goto out;
    }
    rc = 0;
out:
    free(ctx);
    return rc;
}

int kz_config_load(kz_config *c, const char *path, char *err, size_t errsz)
{
    char *text = NULL;
    size_t len = 0;
    int rc = kz__file_read(path, KZ_CONFIG_FILE_MAX, &text, &len, err, errsz);
    if (rc != 0)
        return rc == KZ_ETOOBIG ? KZ_ECONFIG : rc;
    rc = kz_config_parse(c, text, len, path, err, errsz);
    free(text);
    return rc;
}

static int kz_config_render(const kz_config *c, char *out, size_t outsz)
{
    char mapline[64] = "", syncline[64] = "# sync_interval = 60\n";
    if (c->sync_interval_s)
        snprintf(syncline, sizeof syncline, "sync_interval = %u\n", (unsigned)c->sync_interval_s);
    if (c->map_size_max)
        snprintf(mapline, sizeof mapline, "map_size_max_mb = %llu\n",
                 (unsigned long long)(c->map_size_max / (1024u * 1024u)));
    int w = snprintf(out, outsz,
                     "# kizuna node configuration. Every key is checked when kizunad starts.\n"
                     "[node]\n"
                     "# company display name, signed into this node's `node` record\n"
                     "name = %s\n"
                     "# gossip listen address (peers dial it)\n"
                     "listen = %s\n"
                     "%s%s%s"
                     "# accept inbound peers: open (any node with the federation key) or listed\n"
                     "%s"
                     "# seconds between reconciliations with each peer\n"
                     "%s"
                     "\n[http]\n"
                     "listen = %s\n"
                     "\n[log]\n"
                     "level = %s\n"
                     "%s%s",
                     c->name, c->listen,
                     c->advertise[0] ? "advertise = " : "# advertise = host.example.com:7420\n",
                     c->advertise, c->advertise[0] ? "\n" : "",
                     c->peering_listed ? "peering = listed\n" : "# peering = open\n", syncline, c->http,
                     kz_log_level_name(c->log_level), mapline[0] ? "\n[store]\n" : "", mapline);
    if (w < 0 || (size_t)w >= outsz)
        return KZ_ETOOBIG;
    return w;
}

int kz_config_write(const kz_config *c, const char *path, bool exclusive, char *err, size_t errsz)
{
    char text[4096];
    int n = kz_config_render(c, text, sizeof text);
    if (n < 0) {
        snprintf(err, errsz, "%s: configuration too large", path);
        return KZ_ETOOBIG;
    }
    /* Only write what reads back identically (inih trims spaces and treats
     * " ;" as the start of a comment). */
    kz_config back;
    char why[KZ_ERR_MAX];
    if (kz_config_parse(&back, text, (size_t)n, path, why, sizeof why) != 0 ||
        strcmp(back.name, c->name) != 0 || strcmp(back.listen, c->listen) != 0 ||
        strcmp(back.advertise, c->advertise) != 0 || strcmp(back.http, c->http) != 0) {
        snprintf(err, errsz,
                 "the name cannot be stored in %s: avoid leading or trailing spaces and ' ;'",
                 path);
        return KZ_EINVAL;
    }
    return kz__file_write_atomic(path, text, (size_t)n, 0600, exclusive, err, errsz);
}
