/* cmd_record.c: record export, record import, record show (post is in cmd_talk.c). */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int kz_cmd_record_export(kz_cli *cli, int argc, char **argv)
{
    kz_cli_opt opts[] = {{"--out", true, false, NULL}};
    char *pos[1];
    int npos;
    json_t *r;
    int rc = kz_cli_parse(cli, argc, argv, opts, KZ_ARRAY_LEN(opts), pos, &npos);
    if (rc != 0)
        return rc;
    const char *out = kz_cli_optval(opts, 1, "--out");
    if (!out || !out[0])
        return kz_cli_usage_error(cli, "--out FILE is required");
    if ((rc = kz_cli_check_id(cli, "ID", pos[0])) != 0)
        return rc;
    if (access(out, F_OK) == 0)
        return kz_cli_error("%s already exists; refusing to overwrite it", out);
    json_t *args = json_pack("{s:s}", "id", pos[0]);
    rc = kz_cli_call(cli, "record.get", args, &r);
    json_decref(args);
    if (rc != 0)
        return rc;
    const char *b64 = kz_cli_jstr(r, "raw_b64");
    uint8_t *raw = kz_xmalloc(KZ_RECORD_MAX);
    size_t len = 0;
    if (sodium_base642bin(raw, KZ_RECORD_MAX, b64, strlen(b64), NULL, &len, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0 || len == 0) {
        rc = kz_cli_error("the node sent a malformed record");
        goto out;
    }
    /* Check what we got before writing it: the id must match. */
    uint8_t id[KZ_ID_BYTES], want[KZ_ID_BYTES];
    kz_record_id(id, raw, len);
    if (kz_hex_decode(want, sizeof want, pos[0]) != 0 || memcmp(id, want, sizeof id) != 0) {
        rc = kz_cli_error("the node sent a record whose id does not match %s", pos[0]);
        goto out;
    }
    int fd = open(out, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
        rc = kz_cli_error("cannot create %s: %s", out, strerror(errno));
        goto out;
    }
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, raw + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    if (off != len || fsync(fd) != 0 || close(fd) != 0) {
        int e = errno;
        if (off != len)
            close(fd);
        unlink(out);
        rc = kz_cli_error("cannot write %s: %s", out, strerror(e));
        goto out;
    }
    rc = KZ_EXIT_OK;
out:
    free(raw);
    json_decref(r);
    return rc;
}

int kz_cmd_record_import(kz_cli *cli, int argc, char **argv)
{
    char *pos[1];
    int npos;
    uint8_t *raw;
    size_t len;
    int rc = kz_cli_parse(cli, argc, argv, NULL, 0, pos, &npos);
    if (rc != 0)
        return rc;
    /* Read one byte more than the limit so the node can say "too large". */
    if ((rc = kz_cli_read_file(pos[0], KZ_RECORD_MAX + 1, &raw, &len)) != 0)
        return rc;
    size_t b64len = sodium_base64_encoded_len(len, sodium_base64_VARIANT_ORIGINAL);
    char *b64 = kz_xmalloc(b64len);
    sodium_bin2base64(b64, b64len, raw, len, sodium_base64_VARIANT_ORIGINAL);
    free(raw);
    json_t *args = json_pack("{s:s}", "raw_b64", b64);
    free(b64);
    return kz_cli_call_print_id(cli, "record.import", args, "id");
}

static void kz_print_value(const char *label, json_t *v)
{
    printf("%-12s ", label);
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        printf("%s\n", s[0] ? s : "-");
    } else if (json_is_integer(v)) {
        printf("%lld\n", (long long)json_integer_value(v));
    } else if (json_is_boolean(v)) {
        printf("%s\n", json_is_true(v) ? "yes" : "no");
    } else if (json_is_array(v)) {
        size_t i;
        json_t *e;
        if (json_array_size(v) == 0)
            printf("-");
        json_array_foreach(v, i, e) {
            if (json_is_string(e))
                printf("%s%s", i ? ", " : "", json_string_value(e));
            else if (json_is_integer(e))
                printf("%s%lld", i ? ", " : "", (long long)json_integer_value(e));
        }
        printf("\n");
    } else {
        printf("-\n");
    }
}

/* The envelope, then the body field by field (ctx unused). */
static void kz_record_print(json_t *r, const void *ctx)
{
    static const char *const head[] = {"id", "type", "author", "created", "signature", "size"};
    (void)ctx;
    for (size_t i = 0; i < KZ_ARRAY_LEN(head); i++)
        kz_print_value(head[i], json_object_get(r, head[i]));
    const char *key;
    json_t *val;
    json_object_foreach(json_object_get(r, "body"), key, val) kz_print_value(key, val);
}

int kz_cmd_record_show(kz_cli *cli, int argc, char **argv)
{
    kz_cli_opt opts[] = {{"--json", false, false, NULL}};
    char *pos[1];
    int npos;
    int rc = kz_cli_parse(cli, argc, argv, opts, KZ_ARRAY_LEN(opts), pos, &npos);
    if (rc != 0)
        return rc;
    if ((rc = kz_cli_check_id(cli, "ID", pos[0])) != 0)
        return rc;
    return kz_cli_call_print(cli, "record.show", json_pack("{s:s}", "id", pos[0]), opts[0].set,
                             &(kz_cli_view){.text = kz_record_print});
}
