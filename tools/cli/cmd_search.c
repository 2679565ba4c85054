/* cmd_search.c: `kizuna search`: the directory search, one line per hit or
 * JSON, with the cursor for the next page; `kizuna search reindex`. */
#include "cli.h"
#include "kz_text.h"

#include <errno.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

/* Text options: valid UTF-8 without control characters, at most max bytes. */
static int kz_check_opt_text(kz_cli *cli, const char *what, const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n > max)
        return kz_cli_usage_error(cli, "%s is %zu bytes; at most %zu allowed", what, n, max);
    if (!kz_utf8_valid(s, n, 0))
        return kz_cli_usage_error(cli, "%s holds invalid UTF-8 or control characters", what);
    return 0;
}

static int kz_check_open_to(kz_cli *cli, const char *s)
{
    static const char *const names[] = {"reconnect", "business", "mentoring", "rehire"};
    while (*s) {
        size_t n = strcspn(s, ",");
        bool ok = false;
        for (size_t i = 0; i < KZ_ARRAY_LEN(names); i++)
            ok = ok || (strlen(names[i]) == n && memcmp(names[i], s, n) == 0);
        if (!ok)
            return kz_cli_usage_error(cli, "--open-to takes reconnect, business, mentoring, rehire "
                                           "(comma-separated), not '%.*s'",
                                      (int)(n > 40 ? 40 : n), s);
        s += n;
        if (*s == ',')
            s++;
    }
    return 0;
}

static void kz_print_hit(json_t *h)
{
    const char *title = kz_cli_jstr(h, "current_title"), *cc = kz_cli_jstr(h, "current_company");
    printf("%s", kz_cli_jstr(h, "name"));
    if (kz_cli_jstr(h, "reading")[0])
        printf(" (%s)", kz_cli_jstr(h, "reading"));
    printf(" — ");
    if (title[0] && cc[0])
        printf("%s @ %s", title, cc);
    else if (title[0] || cc[0])
        printf("%s", title[0] ? title : cc);
    else
        printf("-");
    printf(" — %s — %s", kz_cli_jstr(h, "home_company")[0] ? kz_cli_jstr(h, "home_company") : "?",
           kz_cli_jstr(h, "member_id"));
    json_t *rehire = json_object_get(h, "rehire");
    if (json_is_true(rehire))
        printf("  [open to re-hire]");
    printf("\n");
}

int kz_cmd_search(kz_cli *cli, int argc, char **argv)
{
    kz_cli_opt opts[] = {
        {"--company", true, false, NULL},
        {"--current-company", true, false, NULL},
        {"--skill", true, false, NULL},
        {"--location", true, false, NULL},
        {"--left-from", true, false, NULL},
        {"--left-to", true, false, NULL},
        {"--open-to", true, false, NULL},
        {"--as", true, false, NULL},
        {"--same-current-company-as", true, false, NULL},
        {"--former-colleagues-of", true, false, NULL},
        {"--limit", true, false, NULL},
        {"--cursor", true, false, NULL},
        {"--json", false, false, NULL},
    };
    /* Option name, the node's argument name, and how to check it. */
    static const struct {
        const char *opt, *arg;
        char kind; /* 't' text, 'i' member id, 'o' open_to, 'c' cursor */
    } map[] = {
        {"--company", "company", 't'},
        {"--current-company", "current_company", 't'},
        {"--skill", "skill", 't'},
        {"--location", "location", 't'},
        {"--open-to", "open_to", 'o'},
        {"--as", "as", 'i'},
        {"--same-current-company-as", "same_current_company_as", 'i'},
        {"--former-colleagues-of", "former_colleagues_of", 'i'},
        {"--cursor", "cursor", 'c'},
    };
    const size_t no = KZ_ARRAY_LEN(opts);
    char *pos[1] = {NULL};
    int npos, rc;
    json_t *r = NULL;
    if ((rc = kz_cli_parse(cli, argc, argv, opts, no, pos, &npos)) != 0)
        return rc;
    const char *query = npos > 0 ? pos[0] : "";
    if ((rc = kz_check_opt_text(cli, "QUERY", query, KZ_TEXT_QUERY_RAW_MAX)) != 0)
        return rc;
    json_t *args = json_object();
    if (query[0])
        json_object_set_new(args, "query", json_string(query));
    bool filters = false;
    for (size_t i = 0; i < KZ_ARRAY_LEN(map); i++) {
        const char *v = kz_cli_optval(opts, no, map[i].opt);
        if (!v)
            continue;
        switch (map[i].kind) {
        case 'i':
            rc = kz_cli_check_id(cli, map[i].opt, v);
            break;
        case 'o':
            rc = kz_check_open_to(cli, v);
            break;
        case 'c':
            rc = kz_check_opt_text(cli, map[i].opt, v, KZ_SEARCH_CURSOR_MAX - 1);
            break;
        default:
            rc = kz_check_opt_text(cli, map[i].opt, v, KZ_TEXT_QUERY_RAW_MAX);
            if (rc == 0 && !v[0])
                rc = kz_cli_usage_error(cli, "%s must not be empty", map[i].opt);
            break;
        }
        if (rc != 0)
            goto out;
        json_object_set_new(args, map[i].arg, json_string(v));
        if (map[i].kind != 'c' && strcmp(map[i].opt, "--as") != 0)
            filters = true;
    }
    static const char *const years[][2] = {{"--left-from", "left_from"}, {"--left-to", "left_to"}};
    int y[2] = {0, 0};
    for (size_t i = 0; i < 2; i++) {
        const char *v = kz_cli_optval(opts, no, years[i][0]);
        if (!v)
            continue;
        if ((rc = kz_cli_check_year(cli, years[i][0], v, &y[i])) != 0)
            goto out;
        json_object_set_new(args, years[i][1], json_integer(y[i]));
        filters = true;
    }
    if (y[0] && y[1] && y[0] > y[1]) {
        rc = kz_cli_usage_error(cli, "--left-from (%d) is after --left-to (%d)", y[0], y[1]);
        goto out;
    }
    const char *ls = kz_cli_optval(opts, no, "--limit");
    if (ls) {
        char *end = NULL;
        errno = 0;
        long limit = strtol(ls, &end, 10);
        if (ls[0] < '0' || ls[0] > '9' || errno || *end || limit < 1 ||
            limit > KZ_SEARCH_LIMIT_MAX) {
            rc = kz_cli_usage_error(cli, "--limit must be a number from 1 to %d, got '%.20s'",
                                    KZ_SEARCH_LIMIT_MAX, ls);
            goto out;
        }
        json_object_set_new(args, "limit", json_integer(limit));
    }
    if (!query[0] && !filters) {
        rc = kz_cli_usage_error(cli, "give a query or a filter (QUERY may be \"\" with a filter)");
        goto out;
    }
    if ((rc = kz_cli_call(cli, "search", args, &r)) != 0)
        goto out;
    json_t *hits = json_object_get(r, "hits");
    if (!json_is_array(hits)) {
        rc = kz_cli_error("the node sent an unexpected reply");
        goto out;
    }
    if (kz_cli_optset(opts, no, "--json")) {
        json_t *o = json_pack(
            "{s:O, s:O, s:O}", "hits", hits, "next_cursor",
            json_object_get(r, "next_cursor") ? json_object_get(r, "next_cursor") : json_null(),
            "truncated",
            json_object_get(r, "truncated") ? json_object_get(r, "truncated") : json_false());
        rc = kz_cli_print_json(o);
        json_decref(o);
        goto out;
    }
    size_t i;
    json_t *h;
    if (json_array_size(hits) == 0)
        printf("no matches\n");
    json_array_foreach(hits, i, h)
        kz_print_hit(h);
    if (json_is_string(json_object_get(r, "next_cursor")))
        printf("next page: --cursor %s\n", kz_cli_jstr(r, "next_cursor"));
    if (json_is_true(json_object_get(r, "truncated")))
        fprintf(stderr, "kizuna: the search stopped at its work limit; these are the best of "
                        "the candidates examined (narrow the query for complete results)\n");
    rc = KZ_EXIT_OK;
out:
    json_decref(args);
    json_decref(r);
    return rc;
}

static void kz_reindex_print(json_t *r, const void *ctx)
{
    (void)ctx;
    printf("search index rebuilt: %lld profiles (%lld postings) in %.3f s; before: %lld "
           "profiles (%lld postings)\n",
           (long long)json_integer_value(json_object_get(r, "profiles")),
           (long long)json_integer_value(json_object_get(r, "postings")),
           (double)json_integer_value(json_object_get(r, "elapsed_ms")) / 1000.0,
           (long long)json_integer_value(json_object_get(r, "profiles_before")),
           (long long)json_integer_value(json_object_get(r, "postings_before")));
}

static void kz_reindex_status_print(json_t *r, const void *ctx)
{
    const char *state = kz_cli_jstr(r, "state");
    if (strcmp(state, "done") == 0) {
        kz_reindex_print(r, ctx);
        return;
    }
    if (strcmp(state, "idle") == 0) {
        printf("no search index rebuild since kizunad started\n");
        return;
    }
    printf("search index rebuild %s: %lld profiles read in %.3f s; before: %lld profiles "
           "(%lld postings)\n",
           state, (long long)json_integer_value(json_object_get(r, "scanned")),
           (double)json_integer_value(json_object_get(r, "elapsed_ms")) / 1000.0,
           (long long)json_integer_value(json_object_get(r, "profiles_before")),
           (long long)json_integer_value(json_object_get(r, "postings_before")));
    if (strcmp(state, "failed") == 0)
        printf("error: %s\n", kz_cli_jstr(r, "error"));
}

/* Poll search.reindex_status until the rebuild ends; *out is the final
 * status. Progress goes to stderr when it is a terminal. */
static int kz_reindex_wait(kz_cli *cli, json_t **out)
{
    bool tty = isatty(STDERR_FILENO);
    uint64_t last_shown = 0;
    for (;;) {
        json_t *st;
        int rc = kz_cli_call(cli, "search.reindex_status", NULL, &st);
        if (rc != 0)
            return rc;
        const char *state = kz_cli_jstr(st, "state");
        if (strcmp(state, "running") != 0) {
            if (tty && last_shown)
                fputc('\n', stderr);
            *out = st;
            return 0;
        }
        uint64_t ms = (uint64_t)json_integer_value(json_object_get(st, "elapsed_ms"));
        if (tty && ms >= last_shown + 1000) {
            fprintf(stderr, "\rkizuna: %lld profiles read (%.0f s)",
                    (long long)json_integer_value(json_object_get(st, "scanned")), ms / 1000.0);
            last_shown = ms;
        }
        json_decref(st);
        struct timespec ts = {0, 200 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

int kz_cmd_search_reindex(kz_cli *cli, int argc, char **argv)
{
    kz_cli_opt opts[] = {{"--json", false, false, NULL},
                         {"--no-wait", false, false, NULL},
                         {"--status", false, false, NULL}};
    char *pos[1];
    int npos;
    json_t *r = NULL, *st = NULL;
    int rc = kz_cli_parse(cli, argc, argv, opts, KZ_ARRAY_LEN(opts), pos, &npos);
    if (rc != 0)
        return rc;
    if (opts[2].set) {
        if (opts[1].set)
            return kz_cli_usage_error(cli, "--status and --no-wait do not go together");
        return kz_cli_call_print(cli, "search.reindex_status", json_object(), opts[0].set,
                                 &(kz_cli_view){.text = kz_reindex_status_print});
    }
    if ((rc = kz_cli_call(cli, "search.reindex", NULL, &r)) != 0)
        return rc;
    if (!json_is_true(json_object_get(r, "started")))
        fprintf(stderr, "kizuna: a rebuild was already running; %s for it\n",
                opts[1].set ? "not waiting" : "waiting");
    if (opts[1].set) {
        if (opts[0].set)
            rc = kz_cli_print_json(r);
        else
            printf("search index rebuild %s; follow it with kizuna search reindex --status\n",
                   kz_cli_jstr(r, "state"));
        json_decref(r);
        return rc;
    }
    json_decref(r);
    if ((rc = kz_reindex_wait(cli, &st)) != 0)
        return rc;
    if (opts[0].set)
        rc = kz_cli_print_json(st);
    else if (strcmp(kz_cli_jstr(st, "state"), "done") == 0)
        kz_reindex_print(st, NULL);
    if (rc == 0 && strcmp(kz_cli_jstr(st, "state"), "done") != 0) {
        rc = kz_cli_error("%s", json_is_string(json_object_get(st, "error"))
                                    ? kz_cli_jstr(st, "error")
                                    : "the rebuild was stopped before it finished (kizunad "
                                      "stopped?); the next start rebuilds the index");
    }
    json_decref(st);
    return rc;
}
