/* control_client.c: the client half of the control protocol (used by the
 * kizuna CLI and the tests): one blocking request, one reply. */
#include "internal.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int kz_send_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int kz_parse_reply(const char *line, size_t len, json_t **result, char *err, size_t errsz)
{
    json_error_t jerr;
    json_t *rep = json_loadb(line, len, 0, &jerr);
    int rc = KZ_EPROTO;
    if (!rep || !json_is_object(rep)) {
        snprintf(err, errsz, "the node sent a reply that is not a JSON object");
        goto out;
    }
    json_t *ok = json_object_get(rep, "ok");
    if (!json_is_boolean(ok)) {
        snprintf(err, errsz, "the node's reply lacks \"ok\"");
        goto out;
    }
    if (json_is_true(ok)) {
        json_t *res = json_object_get(rep, "result");
        *result = res ? json_incref(res) : json_null();
        rc = 0;
        goto out;
    }
    json_t *msg = json_object_get(rep, "error");
    json_t *code = json_object_get(rep, "code");
    snprintf(err, errsz, "%s", json_is_string(msg) ? json_string_value(msg) : "request refused");
    if (json_is_integer(code) && json_integer_value(code) < 0 &&
        json_integer_value(code) >= KZ_ERR_MIN)
        rc = (int)json_integer_value(code);
    else
        rc = KZ_EINVAL;
out:
    json_decref(rep);
    return rc;
}

int kz_control_call(const char *dir, const char *cmd, json_t *args, unsigned timeout_ms,
                    json_t **result, char *err, size_t errsz)
{
    struct sockaddr_un sun;
    char path[KZ_PATH_MAX];
    char *req = NULL;
    char *buf = NULL;
    int fd = -1;
    int rc;
    *result = NULL;
    if (kz_path_join(path, sizeof path, dir, KZ_FILE_CONTROL) != 0 ||
        strlen(path) >= sizeof sun.sun_path) {
        snprintf(err, errsz, "%s/%s: path too long for a Unix socket", dir, KZ_FILE_CONTROL);
        return KZ_ETOOBIG;
    }
    memset(&sun, 0, sizeof sun);
    sun.sun_family = AF_UNIX;
    memcpy(sun.sun_path, path, strlen(path) + 1);

    json_t *obj = json_pack("{s:s}", "cmd", cmd);
    if (args)
        json_object_set(obj, "args", args);
    req = json_dumps(obj, JSON_COMPACT);
    json_decref(obj);
    if (!req) {
        snprintf(err, errsz, "out of memory");
        return KZ_ENOMEM;
    }
    size_t reqlen = strlen(req);
    if (reqlen > KZ_CONTROL_LINE_MAX) {
        snprintf(err, errsz, "request larger than %u bytes", KZ_CONTROL_LINE_MAX);
        rc = KZ_ETOOBIG;
        goto out;
    }
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, errsz, "socket: %s", strerror(errno));
        rc = KZ_EIO;
        goto out;
    }
    if (connect(fd, (struct sockaddr *)&sun, sizeof sun) != 0) {
        int e = errno;
        if (e == ENOENT || e == ECONNREFUSED || e == ENOTDIR) {
            snprintf(err, errsz, "the node is not running (no control socket at %s)", path);
            rc = KZ_ENOTRUNNING;
        } else if (e == EACCES || e == EPERM) {
            snprintf(err, errsz, "permission denied on %s (run as the user that runs kizunad)", path);
            rc = KZ_EIO;
        } else {
            snprintf(err, errsz, "cannot connect to %s: %s", path, strerror(e));
            rc = KZ_EIO;
        }
        goto out;
    }
    req[reqlen] = '\n'; /* replaces the NUL: req is sent by length */
    if (kz_send_all(fd, req, reqlen + 1) != 0) {
        snprintf(err, errsz, "cannot send the request to the node: %s", strerror(errno));
        rc = KZ_EIO;
        goto out;
    }
    size_t cap = 65536, len = 0;
    buf = kz_xmalloc(cap);
    uint64_t deadline = timeout_ms ? kz_now_ms() + timeout_ms : 0;
    for (;;) {
        char *nl = len ? memchr(buf, '\n', len) : NULL;
        if (nl) {
            rc = kz_parse_reply(buf, (size_t)(nl - buf), result, err, errsz);
            goto out;
        }
        if (len == cap) {
            if (cap >= KZ_CONTROL_REPLY_MAX + 1) {
                snprintf(err, errsz, "the node's reply is larger than %u bytes", KZ_CONTROL_REPLY_MAX);
                rc = KZ_EPROTO;
                goto out;
            }
            cap *= 2;
            buf = kz_xrealloc(buf, cap);
        }
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        int wait = -1;
        if (deadline) {
            uint64_t now = kz_now_ms();
            wait = now >= deadline ? 0 : (int)(deadline - now);
        }
        int pr = poll(&pfd, 1, wait);
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr == 0) {
            snprintf(err, errsz, "the node did not answer within %u s", timeout_ms / 1000u);
            rc = KZ_ETIMEDOUT;
            goto out;
        }
        ssize_t r = recv(fd, buf + len, cap - len, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            snprintf(err, errsz, "the node closed the connection before replying%s",
                     r < 0 ? " (read error)" : "");
            rc = KZ_EIO;
            goto out;
        }
        len += (size_t)r;
    }
out:
    if (fd >= 0)
        close(fd);
    free(buf);
    free(req);
    return rc;
}
