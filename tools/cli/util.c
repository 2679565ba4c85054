/* util.c: option parsing, error printing, argument checks, file reading and
 * the control call, shared by every kizuna command. */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int kz_cli_error(const char *fmt, ...)
{
    va_list ap;
    fputs("kizuna: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return KZ_EXIT_ERROR;
}

int kz_cli_usage_error(kz_cli *cli, const char *fmt, ...)
{
    va_list ap;
    fputs("kizuna: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    if (cli->cmd)
        fprintf(stderr, "usage: kizuna %s%s%s\n", cli->cmd->name, cli->cmd->usage[0] ? " " : "",
                cli->cmd->usage);
    else
        fprintf(stderr, "usage: kizuna [--data DIR] COMMAND [ARGS...]   (kizuna help lists commands)\n");
    return KZ_EXIT_USAGE;
}

void kz_cli_cmd_help(const kz_cli_cmd *cmd, FILE *f)
{
    fprintf(f, "usage: kizuna %s%s%s\n\n%s\n", cmd->name, cmd->usage[0] ? " " : "", cmd->usage,
            cmd->summary);
    if (cmd->help)
        fprintf(f, "\n%s", cmd->help);
}

int kz_cli_parse(kz_cli *cli, int argc, char **argv, kz_cli_opt *opts, size_t nopts, char **pos,
                 int *npos)
{
    const kz_cli_cmd *cmd = cli->cmd;
    bool opts_done = false;
    *npos = 0;
    for (int i = 0; i < argc; i++) {
        char *a = argv[i];
        if (!opts_done && strcmp(a, "--") == 0) {
            opts_done = true;
            continue;
        }
        if (!opts_done && strcmp(a, "--help") == 0) {
            kz_cli_cmd_help(cmd, stdout);
            exit(KZ_EXIT_OK);
        }
        if (!opts_done && a[0] == '-' && a[1] == '-') {
            const char *eq = strchr(a, '=');
            size_t nlen = eq ? (size_t)(eq - a) : strlen(a);
            kz_cli_opt *o = NULL;
            for (size_t k = 0; k < nopts; k++) {
                if (strlen(opts[k].name) == nlen && strncmp(opts[k].name, a, nlen) == 0)
                    o = &opts[k];
            }
            if (!o)
                return kz_cli_usage_error(cli, "unknown option '%.*s'", (int)nlen, a);
            if (o->set)
                return kz_cli_usage_error(cli, "%s given twice", o->name);
            o->set = true;
            if (!o->has_arg) {
                if (eq)
                    return kz_cli_usage_error(cli, "%s takes no value", o->name);
                continue;
            }
            if (eq) {
                o->value = eq + 1;
            } else {
                if (i + 1 >= argc)
                    return kz_cli_usage_error(cli, "%s needs a value", o->name);
                o->value = argv[++i];
            }
            continue;
        }
        if (!opts_done && a[0] == '-' && a[1] != '\0' && !(a[1] >= '0' && a[1] <= '9'))
            return kz_cli_usage_error(cli, "unknown option '%s'", a);
        if (cmd->max_args >= 0 && *npos >= cmd->max_args)
            return kz_cli_usage_error(cli, "unexpected argument '%s'", a);
        pos[(*npos)++] = a;
    }
    if (*npos < cmd->min_args)
        return kz_cli_usage_error(cli, "missing argument%s", cmd->min_args - *npos > 1 ? "s" : "");
    return 0;
}

const char *kz_cli_optval(const kz_cli_opt *opts, size_t nopts, const char *name)
{
    for (size_t k = 0; k < nopts; k++) {
        if (strcmp(opts[k].name, name) == 0)
            return opts[k].set ? opts[k].value : NULL;
    }
    return NULL;
}

bool kz_cli_optset(const kz_cli_opt *opts, size_t nopts, const char *name)
{
    for (size_t k = 0; k < nopts; k++) {
        if (strcmp(opts[k].name, name) == 0)
            return opts[k].set;
    }
    return false;
}

const char *kz_cli_data(kz_cli *cli)
{
    if (!cli->data || !cli->data[0]) {
        kz_cli_usage_error(cli, "no data directory: pass --data DIR or set KIZUNA_DATA");
        return NULL;
    }
    return cli->data;
}

int kz_cli_call(kz_cli *cli, const char *cmd, json_t *args, json_t **result)
{
    char err[KZ_ERR_MAX];
    char path[KZ_PATH_MAX];
    const char *dir = kz_cli_data(cli);
    *result = NULL;
    if (!dir)
        return KZ_EXIT_USAGE;
    if (kz_path_join(path, sizeof path, dir, KZ_FILE_CONFIG) != 0)
        return kz_cli_error("%s: path too long", dir);
    if (access(path, F_OK) != 0 && errno == ENOENT)
        return kz_cli_error("%s is not a kizuna data directory (no %s); create one with: kizuna init --data %s --name NAME --federation-key FILE",
                            dir, KZ_FILE_CONFIG, dir);
    /* Backups of big stores and big HR imports take a while; everything
     * else answers fast (search.reindex only starts the rebuild). */
    unsigned timeout =
        strcmp(cmd, "backup") == 0 || strcmp(cmd, "member.import") == 0 ? 0 : 120000;
    int rc = kz_control_call(dir, cmd, args, timeout, result, err, sizeof err);
    if (rc == KZ_ENOTRUNNING) {
        fprintf(stderr, "kizuna: %s; start it with: kizunad --data %s\n", err, dir);
        return KZ_EXIT_NOTRUNNING;
    }
    if (rc != 0)
        return kz_cli_error("%s", err);
    return 0;
}

const char *kz_cli_jstr(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

long long kz_cli_jint(json_t *o, const char *key)
{
    return (long long)json_integer_value(json_object_get(o, key));
}

int kz_cli_print_json(json_t *j)
{
    if (json_dumpf(j, stdout, JSON_INDENT(2)) != 0)
        return kz_cli_error("cannot write JSON output");
    fputc('\n', stdout);
    return 0;
}

int kz_cli_call_print_id(kz_cli *cli, const char *cmd, json_t *args, const char *key)
{
    json_t *r;
    int rc = kz_cli_call(cli, cmd, args, &r);
    json_decref(args);
    if (rc != 0)
        return rc;
    const char *id = json_string_value(json_object_get(r, key));
    printf("%s\n", id ? id : "");
    json_decref(r);
    return KZ_EXIT_OK;
}

int kz_cli_call_print(kz_cli *cli, const char *cmd, json_t *args, bool json,
                      const kz_cli_view *view)
{
    json_t *r;
    int rc = kz_cli_call(cli, cmd, args, &r);
    json_decref(args);
    if (rc != 0)
        return rc;
    json_t *v = view->list ? json_object_get(r, view->list) : r;
    if (view->list && !json_is_array(v)) {
        json_decref(r);
        return kz_cli_error("the node sent an unexpected reply");
    }
    if (json) {
        rc = kz_cli_print_json(v);
    } else if (!view->list) {
        view->text(v, view->ctx);
    } else {
        size_t i;
        json_t *e;
        if (json_array_size(v) == 0 && view->empty)
            printf("%s\n", view->empty);
        json_array_foreach(v, i, e)
            view->text(e, view->ctx);
    }
    json_decref(r);
    return rc;
}

int kz_cli_check_id(kz_cli *cli, const char *what, const char *s)
{
    uint8_t id[32];
    if (strlen(s) != KZ_ID_HEX_LEN || kz_hex_decode(id, sizeof id, s) != 0)
        return kz_cli_usage_error(cli, "%s must be %d hex digits, got '%.80s'", what, KZ_ID_HEX_LEN, s);
    return 0;
}

int kz_cli_check_year(kz_cli *cli, const char *what, const char *s, int *out)
{
    char *end = NULL;
    errno = 0;
    long y = strtol(s, &end, 10);
    if (s[0] < '0' || s[0] > '9' || errno || *end || y < KZ_YEAR_MIN || y > KZ_YEAR_MAX)
        return kz_cli_usage_error(cli, "%s must be a year from %d to %d, got '%.20s'", what,
                                  KZ_YEAR_MIN, KZ_YEAR_MAX, s);
    *out = (int)y;
    return 0;
}

int kz_cli_check_text(kz_cli *cli, const char *what, const char *s, size_t max, bool multiline)
{
    size_t n = strlen(s);
    if (n == 0)
        return kz_cli_usage_error(cli, "%s must not be empty", what);
    if (n > max)
        return kz_cli_usage_error(cli, "%s is %zu bytes; at most %zu allowed", what, n, max);
    if (!kz_utf8_valid(s, n, multiline))
        return kz_cli_usage_error(cli, "%s holds invalid UTF-8 or control characters", what);
    return 0;
}

int kz_cli_read_file(const char *path, size_t max_plus_one, uint8_t **buf, size_t *len)
{
    *buf = NULL;
    *len = 0;
    int fd = strcmp(path, "-") == 0 ? dup(STDIN_FILENO) : open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return kz_cli_error("cannot open %s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
        close(fd);
        return kz_cli_error("%s is a directory", path);
    }
    uint8_t *b = kz_xmalloc(max_plus_one ? max_plus_one : 1);
    size_t n = 0;
    while (n < max_plus_one) {
        ssize_t r = read(fd, b + n, max_plus_one - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int e = errno;
            close(fd);
            free(b);
            return kz_cli_error("cannot read %s: %s", path, strerror(e));
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    *buf = b;
    *len = n;
    return 0;
}
