/* control.c: the control socket: a libuv Unix-socket server speaking JSON
 * lines, the request dispatcher over the handler tables, and the argument
 * checks every handler uses. */
#include "internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>

#define KZ_CTL_READ_CHUNK 65536
#define KZ_CTL_WQ_HIGH (4u * 1024u * 1024u) /* stop reading above this much unsent reply */
#define KZ_CTL_WQ_LOW (1u * 1024u * 1024u)

/* ---- Handler tables ---------------------------------------------------------- */

static const kz__verb_table *const kz_tables[] = {
    &kz__verbs_node,
    &kz__verbs_member,
    &kz__verbs_record,
    &kz__verbs_peer,
    &kz__verbs_events,
    &kz__verbs_contact,
    &kz__verbs_metrics,
    &kz__verbs_talk,
    &kz__verbs_talk_read,
    &kz__verbs_import,
    &kz__verbs_rotate,
    &kz__verbs_search,
    &kz__verbs_reindex,
};

const kz_control_verb *kz_control_verb_find(const char *name)
{
    for (size_t t = 0; t < KZ_ARRAY_LEN(kz_tables); t++) {
        for (size_t i = 0; i < kz_tables[t]->n; i++) {
            if (strcmp(kz_tables[t]->verbs[i].name, name) == 0)
                return &kz_tables[t]->verbs[i];
        }
    }
    return NULL;
}

void kz_control_verb_each(void (*fn)(void *ud, const kz_control_verb *v), void *ud)
{
    for (size_t t = 0; t < KZ_ARRAY_LEN(kz_tables); t++) {
        for (size_t i = 0; i < kz_tables[t]->n; i++)
            fn(ud, &kz_tables[t]->verbs[i]);
    }
}

/* ---- Argument checks ------------------------------------------------------------- */

int kz__arg_only(json_t *args, const char *const *allowed, char *err, size_t errsz)
{
    const char *key;
    json_t *val;
    json_object_foreach(args, key, val) {
        bool ok = false;
        for (size_t i = 0; allowed[i]; i++) {
            if (strcmp(allowed[i], key) == 0)
                ok = true;
        }
        if (!ok) {
            snprintf(err, errsz, "unknown argument '%.64s'", key);
            return KZ_EINVAL;
        }
    }
    return 0;
}

int kz__arg_str(json_t *args, const char *key, bool required, size_t max, bool multiline,
                const char **out, char *err, size_t errsz)
{
    json_t *v = json_object_get(args, key);
    *out = NULL;
    if (!v || json_is_null(v)) {
        if (required) {
            snprintf(err, errsz, "missing argument '%s'", key);
            return KZ_EINVAL;
        }
        return 0;
    }
    if (!json_is_string(v)) {
        snprintf(err, errsz, "argument '%s' must be a string", key);
        return KZ_EINVAL;
    }
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    if (n > max) {
        snprintf(err, errsz, "argument '%s' is %zu bytes; at most %zu allowed", key, n, max);
        return KZ_ETOOBIG;
    }
    if (required && n == 0) {
        snprintf(err, errsz, "argument '%s' must not be empty", key);
        return KZ_EINVAL;
    }
    if (!kz_utf8_valid(s, n, multiline)) {
        snprintf(err, errsz, "argument '%s' holds control characters or invalid UTF-8", key);
        return KZ_EINVAL;
    }
    *out = s;
    return 0;
}

int kz__arg_id(json_t *args, const char *key, uint8_t out[32], char *err, size_t errsz)
{
    json_t *v = json_object_get(args, key);
    if (!v) {
        snprintf(err, errsz, "missing argument '%s'", key);
        return KZ_EINVAL;
    }
    if (!json_is_string(v) || json_string_length(v) != KZ_ID_HEX_LEN ||
        kz_hex_decode(out, 32, json_string_value(v)) != 0) {
        snprintf(err, errsz, "argument '%s' must be an id of %d hex digits", key, KZ_ID_HEX_LEN);
        return KZ_EINVAL;
    }
    return 0;
}

int kz__arg_year(json_t *args, const char *key, uint16_t *out, char *err, size_t errsz)
{
    json_t *v = json_object_get(args, key);
    *out = 0;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_integer(v) || json_integer_value(v) < KZ_YEAR_MIN ||
        json_integer_value(v) > KZ_YEAR_MAX) {
        snprintf(err, errsz, "argument '%s' must be a year from %d to %d", key, KZ_YEAR_MIN,
                 KZ_YEAR_MAX);
        return KZ_EINVAL;
    }
    *out = (uint16_t)json_integer_value(v);
    return 0;
}

const char *kz__refusal(int rc)
{
    switch (rc) {
    case KZ_EEXIST: return "this record is already stored";
    case KZ_EDELETED: return "this record was deleted; its id is never accepted again";
    case KZ_EBLOCKED: return "its author is blocked by this node's operator";
    case KZ_EPERM: return "its author may not do this (unknown signing node, or not the owner of the target)";
    case KZ_ENOATTEST: return "its author has no live membership attestation here (import the attest record and its node record first)";
    case KZ_ESTALE: return "a newer version of this record is already stored";
    case KZ_ESTORE: return "storage error (see the node's log)";
    default: return kz_strerror(rc);
    }
}

/* ---- Dispatcher ------------------------------------------------------------------ */

static char *kz_reply_dump(json_t *reply, size_t *outlen)
{
    char *s = json_dumps(reply, JSON_COMPACT);
    if (!s) {
        /* Only on allocation failure: fall back to a fixed reply. */
        static const char oom[] = "{\"ok\":false,\"error\":\"out of memory\",\"code\":-2}\n";
        *outlen = sizeof oom - 1;
        return kz_xstrdup(oom);
    }
    size_t n = strlen(s);
    if (n > KZ_CONTROL_REPLY_MAX) {
        free(s);
        char msg[128];
        n = (size_t)snprintf(msg, sizeof msg,
                             "{\"ok\":false,\"error\":\"reply larger than %u bytes\",\"code\":%d}",
                             KZ_CONTROL_REPLY_MAX, KZ_ETOOBIG);
        s = kz_xstrdup(msg);
    }
    char *line = kz_xmalloc(n + 2);
    memcpy(line, s, n);
    line[n] = '\n';
    line[n + 1] = '\0';
    free(s);
    *outlen = n + 1;
    return line;
}

static char *kz_reply_error(int code, const char *msg, size_t *outlen)
{
    json_t *r = json_pack("{s:b, s:s, s:i}", "ok", 0, "error", msg, "code", code);
    char *line = kz_reply_dump(r, outlen);
    json_decref(r);
    return line;
}

/* The reply line for a handler's outcome; steals result. */
static char *kz_reply_for(const char *verb, int rc, json_t *result, const char *err, uint64_t t0,
                          size_t *outlen)
{
    if (rc != 0) {
        const char *msg = err && err[0] ? err : kz_strerror(rc);
        kz_log_info("control", "%s refused: %s", verb, msg);
        json_decref(result);
        return kz_reply_error(rc, msg, outlen);
    }
    kz_log_debug("control", "%s ok (%llu ms)", verb, (unsigned long long)(kz_now_ms() - t0));
    json_t *reply = json_pack("{s:b, s:o}", "ok", 1, "result", result ? result : json_null());
    char *out = kz_reply_dump(reply, outlen);
    json_decref(reply);
    return out;
}

/* ---- Deferred replies (state of the request being dispatched) ------------------- */

typedef struct kz_ctl_client kz_ctl_client;

struct kz_control_pending {
    kz_ctl_client *c;
    char verb[64];
    uint64_t t0;
};

static kz_ctl_client *kz_current;        /* client whose line is being handled */
static kz_control_pending *kz_deferred;  /* set by kz_control_defer during that */
static void kz_ctl_pending_drop(kz_control_pending *p);

char *kz_control_handle(kz_node *n, const char *line, size_t len, size_t *outlen)
{
    char err[KZ_ERR_MAX] = "";
    json_error_t jerr;
    if (len > 0 && line[len - 1] == '\r')
        len--;
    if (len == 0)
        return kz_reply_error(KZ_EINVAL, "empty request (send one JSON object per line)", outlen);
    if (len > KZ_CONTROL_LINE_MAX) {
        snprintf(err, sizeof err, "request larger than %u bytes", KZ_CONTROL_LINE_MAX);
        return kz_reply_error(KZ_ETOOBIG, err, outlen);
    }
    json_t *req = json_loadb(line, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    if (!req) {
        snprintf(err, sizeof err, "request is not valid JSON: %s (column %d)", jerr.text,
                 jerr.column);
        return kz_reply_error(KZ_EINVAL, err, outlen);
    }
    char *out = NULL;
    json_t *result = NULL;
    if (!json_is_object(req)) {
        out = kz_reply_error(KZ_EINVAL, "request must be a JSON object {\"cmd\": ..., \"args\": {...}}",
                             outlen);
        goto done;
    }
    static const char *const req_keys[] = {"cmd", "args", NULL};
    if (kz__arg_only(req, req_keys, err, sizeof err) != 0) {
        out = kz_reply_error(KZ_EINVAL, err, outlen);
        goto done;
    }
    json_t *cmd = json_object_get(req, "cmd");
    if (!json_is_string(cmd)) {
        out = kz_reply_error(KZ_EINVAL, "request needs \"cmd\": a string", outlen);
        goto done;
    }
    json_t *args = json_object_get(req, "args");
    if (args && !json_is_object(args) && !json_is_null(args)) {
        out = kz_reply_error(KZ_EINVAL, "\"args\" must be a JSON object", outlen);
        goto done;
    }
    const char *name = json_string_value(cmd);
    const kz_control_verb *v = kz_control_verb_find(name);
    if (!v) {
        snprintf(err, sizeof err, "unknown command '%.64s'", name);
        out = kz_reply_error(KZ_EINVAL, err, outlen);
        goto done;
    }
    if (!n) {
        out = kz_reply_error(KZ_EINVAL, "no node to run the command on", outlen);
        goto done;
    }
    json_t *empty = NULL;
    if (!args || json_is_null(args))
        args = empty = json_object();
    uint64_t t0 = kz_now_ms();
    kz_deferred = NULL;
    int rc = v->fn(n, args, &result, err, sizeof err);
    json_decref(empty);
    if (rc == KZ_CONTROL_DEFERRED && kz_deferred) {
        snprintf(kz_deferred->verb, sizeof kz_deferred->verb, "%s", v->name);
        kz_deferred->t0 = t0;
        kz_deferred = NULL;
        *outlen = 0; /* out stays NULL: kz_control_complete replies */
        goto done;
    }
    if (kz_deferred) {
        /* A handler bug: it took a pending reply but answered now. Answer
         * now, or the client would wait for ever. */
        kz_log_error("control", "%s deferred its reply and answered at once", v->name);
        kz_ctl_pending_drop(kz_deferred);
        kz_deferred = NULL;
    }
    if (rc == KZ_CONTROL_DEFERRED) {
        rc = KZ_EINVAL; /* a handler bug: deferred without kz_control_defer */
        snprintf(err, sizeof err, "%s: internal error (no reply)", v->name);
    }
    out = kz_reply_for(v->name, rc, result, err, t0, outlen);
    result = NULL;
done:
    json_decref(result);
    json_decref(req);
    return out;
}

/* ---- Line framing ------------------------------------------------------------------ */

void kz_linebuf_init(kz_linebuf *b, size_t max)
{
    memset(b, 0, sizeof *b);
    b->max = max;
}

void kz_linebuf_close(kz_linebuf *b)
{
    free(b->buf);
    memset(b, 0, sizeof *b);
}

int kz_linebuf_append(kz_linebuf *b, const char *p, size_t n)
{
    /* Check every line the new bytes complete or extend. */
    size_t pend = b->pend;
    const char *q = p, *end = p + n;
    while (q < end) {
        const char *nl = memchr(q, '\n', (size_t)(end - q));
        size_t seg = nl ? (size_t)(nl - q) : (size_t)(end - q);
        if (pend + seg > b->max)
            return KZ_ETOOBIG;
        if (!nl) {
            pend += seg;
            break;
        }
        pend = 0;
        q = nl + 1;
    }
    if (b->off > 0) {
        memmove(b->buf, b->buf + b->off, b->len - b->off);
        b->len -= b->off;
        b->off = 0;
    }
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n)
            cap *= 2;
        b->buf = kz_xrealloc(b->buf, cap);
        b->cap = cap;
    }
    memcpy(b->buf + b->len, p, n);
    b->len += n;
    b->pend = pend;
    return 0;
}

int kz_linebuf_next(kz_linebuf *b, const char **line, size_t *len)
{
    if (b->off >= b->len)
        return 0;
    char *start = b->buf + b->off;
    char *nl = memchr(start, '\n', b->len - b->off);
    if (!nl)
        return 0;
    *line = start;
    *len = (size_t)(nl - start);
    b->off += *len + 1;
    return 1;
}

/* ---- Server ---------------------------------------------------------------------- */

struct kz_control {
    kz_node *node;
    uv_pipe_t server;
    char path[KZ_PATH_MAX];
    kz_ctl_client *clients;
    size_t n_clients;
    bool closing;
    bool server_closed;
};

struct kz_ctl_client {
    kz_control *ctl;
    uv_pipe_t pipe;
    uv_timer_t idle;
    kz_ctl_client *prev, *next;
    kz_linebuf in;
    int handles_open;
    bool closing;
    bool reading;
    bool close_after_write;
    kz_control_pending *pending; /* a deferred reply is awaited: later lines wait */
    size_t writes_pending;
    char rbuf[KZ_CTL_READ_CHUNK];
};

typedef struct {
    uv_write_t req;
    kz_ctl_client *c;
    char *data;
} kz_ctl_write;

static void kz_ctl_maybe_free(kz_control *ctl)
{
    if (ctl->closing && ctl->server_closed && ctl->n_clients == 0) {
        if (ctl->node && ctl->node->control == ctl)
            ctl->node->control = NULL;
        free(ctl);
    }
}

static void kz_ctl_client_free(kz_ctl_client *c)
{
    kz_control *ctl = c->ctl;
    if (c->prev)
        c->prev->next = c->next;
    else
        ctl->clients = c->next;
    if (c->next)
        c->next->prev = c->prev;
    ctl->n_clients--;
    kz_linebuf_close(&c->in);
    free(c);
    kz_ctl_maybe_free(ctl);
}

static void kz_ctl_client_closed_cb(uv_handle_t *h)
{
    kz_ctl_client *c = h->data;
    if (--c->handles_open > 0)
        return;
    if (!c->pending) /* else kz_control_complete frees it */
        kz_ctl_client_free(c);
}

static void kz_ctl_client_close(kz_ctl_client *c)
{
    if (c->closing)
        return;
    c->closing = true;
    uv_timer_stop(&c->idle);
    uv_close((uv_handle_t *)&c->pipe, kz_ctl_client_closed_cb);
    uv_close((uv_handle_t *)&c->idle, kz_ctl_client_closed_cb);
}

static void kz_ctl_alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    kz_ctl_client *c = h->data;
    buf->base = c->rbuf;
    buf->len = sizeof c->rbuf;
}

static void kz_ctl_read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);

static void kz_ctl_write_cb(uv_write_t *req, int status)
{
    kz_ctl_write *w = (kz_ctl_write *)req;
    kz_ctl_client *c = w->c;
    free(w->data);
    free(w);
    c->writes_pending--;
    if (c->closing) {
        if (status < 0)
            kz_log_debug("control", "reply dropped: %s", uv_strerror(status));
        return;
    }
    if (status < 0) {
        kz_log_debug("control", "client went away: %s", uv_strerror(status));
        kz_ctl_client_close(c);
        return;
    }
    if (c->close_after_write && c->writes_pending == 0 && !c->pending) {
        kz_ctl_client_close(c);
        return;
    }
    if (!c->reading && !c->close_after_write && !c->pending &&
        uv_stream_get_write_queue_size((uv_stream_t *)&c->pipe) < KZ_CTL_WQ_LOW) {
        if (uv_read_start((uv_stream_t *)&c->pipe, kz_ctl_alloc_cb, kz_ctl_read_cb) == 0)
            c->reading = true;
    }
}

static void kz_ctl_send(kz_ctl_client *c, char *data, size_t len)
{
    kz_ctl_write *w = kz_xcalloc(1, sizeof *w);
    w->c = c;
    w->data = data;
    uv_buf_t b = uv_buf_init(data, (unsigned)len);
    int rc = uv_write(&w->req, (uv_stream_t *)&c->pipe, &b, 1, kz_ctl_write_cb);
    if (rc < 0) {
        kz_log_debug("control", "cannot send a reply: %s", uv_strerror(rc));
        free(data);
        free(w);
        kz_ctl_client_close(c);
        return;
    }
    c->writes_pending++;
}

static void kz_ctl_stop_reading(kz_ctl_client *c)
{
    if (c->reading) {
        uv_read_stop((uv_stream_t *)&c->pipe);
        c->reading = false;
    }
}

/* Answer one request line; false when its reply was deferred. */
static bool kz_ctl_answer(kz_ctl_client *c, const char *line, size_t len)
{
    size_t outlen;
    kz_current = c;
    char *out = kz_control_handle(c->ctl->node, line, len, &outlen);
    kz_current = NULL;
    if (!out) {
        /* Deferred: stop reading and the idle clock until the reply. */
        kz_ctl_stop_reading(c);
        uv_timer_stop(&c->idle);
        return false;
    }
    kz_ctl_send(c, out, outlen);
    return true;
}

/* Answer the complete lines buffered, in order, until one is deferred. */
static void kz_ctl_process(kz_ctl_client *c)
{
    const char *line;
    size_t len;
    while (!c->closing && !c->pending && kz_linebuf_next(&c->in, &line, &len)) {
        if (!kz_ctl_answer(c, line, len))
            break;
    }
}

/* Forget a pending reply without answering it. */
static void kz_ctl_pending_drop(kz_control_pending *p)
{
    p->c->pending = NULL;
    free(p);
}

bool kz_control_can_defer(const kz_node *n)
{
    return kz_current != NULL && n && n->loop != NULL && !kz_current->pending;
}

kz_control_pending *kz_control_defer(kz_node *n)
{
    if (!kz_control_can_defer(n))
        return NULL;
    kz_control_pending *p = kz_xcalloc(1, sizeof *p);
    p->c = kz_current;
    kz_current->pending = p;
    kz_deferred = p;
    return p;
}

void kz_control_complete(kz_control_pending *p, int rc, json_t *result, const char *err)
{
    kz_ctl_client *c = p->c;
    size_t outlen;
    char *out = kz_reply_for(p->verb, rc, result, err, p->t0, &outlen);
    c->pending = NULL;
    free(p);
    if (c->closing) {
        kz_log_debug("control", "reply dropped: the client went away");
        free(out);
        if (c->handles_open == 0)
            kz_ctl_client_free(c);
        return;
    }
    kz_ctl_send(c, out, outlen);
    if (c->closing)
        return;
    if (c->close_after_write) {
        if (c->writes_pending == 0)
            kz_ctl_client_close(c);
        return;
    }
    uv_timer_again(&c->idle);
    kz_ctl_process(c);
    if (!c->closing && !c->pending && !c->reading &&
        uv_stream_get_write_queue_size((uv_stream_t *)&c->pipe) < KZ_CTL_WQ_LOW) {
        if (uv_read_start((uv_stream_t *)&c->pipe, kz_ctl_alloc_cb, kz_ctl_read_cb) == 0)
            c->reading = true;
    }
}

static void kz_ctl_read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    kz_ctl_client *c = s->data;
    if (c->closing)
        return;
    if (nread < 0) {
        if (nread != UV_EOF)
            kz_log_debug("control", "read error: %s", uv_strerror((int)nread));
        kz_ctl_stop_reading(c);
        /* A last request without its '\n' (printf '{...}' | socat) still
         * gets its reply before the connection closes. */
        if (nread == UV_EOF && c->in.len > c->in.off && !c->pending) {
            const char *line = c->in.buf + c->in.off;
            size_t len = c->in.len - c->in.off;
            c->in.off = c->in.len;
            kz_ctl_answer(c, line, len);
            if (c->closing)
                return;
        }
        /* Lines still waiting behind a deferred reply are not answered: the
         * client has stopped sending, and usually stopped listening. */
        if (c->writes_pending == 0 && !c->pending)
            kz_ctl_client_close(c);
        else
            c->close_after_write = true;
        return;
    }
    if (nread == 0)
        return;
    uv_timer_again(&c->idle);
    if (kz_linebuf_append(&c->in, buf->base, (size_t)nread) != 0) {
        char msg[96];
        size_t len;
        snprintf(msg, sizeof msg, "request line longer than %u bytes; closing the connection",
                 KZ_CONTROL_LINE_MAX);
        kz_log_info("control", "%s", msg);
        kz_ctl_stop_reading(c);
        c->close_after_write = true;
        char *reply = kz_reply_error(KZ_ETOOBIG, msg, &len);
        kz_ctl_send(c, reply, len);
        return;
    }
    kz_ctl_process(c);
    if (!c->closing && uv_stream_get_write_queue_size(s) > KZ_CTL_WQ_HIGH)
        kz_ctl_stop_reading(c); /* resumed by kz_ctl_write_cb when the client catches up */
}

static void kz_ctl_idle_cb(uv_timer_t *t)
{
    kz_ctl_client *c = t->data;
    kz_log_debug("control", "closing an idle client");
    kz_ctl_client_close(c);
}

static void kz_ctl_connection_cb(uv_stream_t *server, int status)
{
    kz_control *ctl = server->data;
    if (status < 0 || ctl->closing) {
        kz_log_warn("control", "accept failed: %s", uv_strerror(status));
        return;
    }
    kz_ctl_client *c = kz_xcalloc(1, sizeof *c);
    c->ctl = ctl;
    kz_linebuf_init(&c->in, KZ_CONTROL_LINE_MAX);
    uv_pipe_init(server->loop, &c->pipe, 0);
    uv_timer_init(server->loop, &c->idle);
    c->pipe.data = c;
    c->idle.data = c;
    c->handles_open = 2;
    c->next = ctl->clients;
    if (ctl->clients)
        ctl->clients->prev = c;
    ctl->clients = c;
    ctl->n_clients++;
    if (uv_accept(server, (uv_stream_t *)&c->pipe) != 0) {
        kz_ctl_client_close(c);
        return;
    }
    uint32_t idle = ctl->node->control_idle_ms ? ctl->node->control_idle_ms : KZ_CONTROL_IDLE_MS;
    uv_timer_start(&c->idle, kz_ctl_idle_cb, idle, idle);
    if (ctl->n_clients > KZ_CONTROL_CLIENTS_MAX) {
        char msg[96];
        size_t len;
        snprintf(msg, sizeof msg, "too many control connections (at most %d); try again",
                 KZ_CONTROL_CLIENTS_MAX);
        kz_log_warn("control", "%s", msg);
        c->close_after_write = true;
        char *reply = kz_reply_error(KZ_EAGAIN, msg, &len);
        kz_ctl_send(c, reply, len);
        return;
    }
    if (uv_read_start((uv_stream_t *)&c->pipe, kz_ctl_alloc_cb, kz_ctl_read_cb) != 0) {
        kz_ctl_client_close(c);
        return;
    }
    c->reading = true;
}

static void kz_ctl_server_closed_cb(uv_handle_t *h)
{
    kz_control *ctl = h->data;
    ctl->server_closed = true;
    kz_ctl_maybe_free(ctl);
}

int kz_control_start(kz_node *n, char *err, size_t errsz)
{
    struct sockaddr_un sun;
    kz_control *ctl = kz_xcalloc(1, sizeof *ctl);
    ctl->node = n;
    if (kz_path_join(ctl->path, sizeof ctl->path, n->dir, KZ_FILE_CONTROL) != 0 ||
        strlen(ctl->path) >= sizeof sun.sun_path) {
        snprintf(err, errsz, "%s/%s: path too long for a Unix socket (at most %zu bytes); use a shorter data directory path",
                 n->dir, KZ_FILE_CONTROL, sizeof sun.sun_path - 1);
        free(ctl);
        return KZ_ETOOBIG;
    }
    uv_pipe_init(n->loop, &ctl->server, 0);
    ctl->server.data = ctl;
    n->control = ctl;
    int rc = uv_pipe_bind(&ctl->server, ctl->path);
    if (rc == 0) {
        n->control_bound = true;
        if (chmod(ctl->path, 0600) != 0)
            rc = uv_translate_sys_error(errno);
    }
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&ctl->server, 64, kz_ctl_connection_cb);
    if (rc != 0) {
        snprintf(err, errsz, "cannot listen on %s: %s", ctl->path, uv_strerror(rc));
        ctl->closing = true;
        uv_close((uv_handle_t *)&ctl->server, kz_ctl_server_closed_cb);
        return KZ_EIO;
    }
    kz_log_info("control", "listening on %s", ctl->path);
    return 0;
}

void kz_control_stop(kz_node *n)
{
    kz_control *ctl = n->control;
    if (!ctl || ctl->closing)
        return;
    ctl->closing = true;
    uv_close((uv_handle_t *)&ctl->server, kz_ctl_server_closed_cb);
    for (kz_ctl_client *c = ctl->clients; c; c = c->next)
        kz_ctl_client_close(c);
}
