/* cmd_talk.c: the talk room: post, reply, react, vote, report, delete,
 * moderate delete, room create/list, feed, thread, relay show, poll show. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

/* Read TEXT, or standard input for "-", into *out (free *to_free). */
static int read_text(kz_cli *cli, const char *text, const char **out, uint8_t **to_free)
{
    int rc;
    *to_free = NULL;
    if (strcmp(text, "-") == 0) {
        size_t len;
        if ((rc = kz_cli_read_file("-", KZ_TEXT_MAX + 1, to_free, &len)) != 0)
            return rc;
        while (len > 0 && (*to_free)[len - 1] == '\n')
            len--;
        if (memchr(*to_free, '\0', len)) {
            free(*to_free);
            *to_free = NULL;
            return kz_cli_error("the text on standard input contains a NUL byte");
        }
        if (len > KZ_TEXT_MAX) {
            free(*to_free);
            *to_free = NULL;
            return kz_cli_usage_error(cli, "TEXT is longer than %d bytes", KZ_TEXT_MAX);
        }
        (*to_free)[len] = '\0';
        text = (const char *)*to_free;
    }
    if ((rc = kz_cli_check_text(cli, "TEXT", text, KZ_TEXT_MAX, true)) != 0) {
        free(*to_free);
        *to_free = NULL;
        return rc;
    }
    *out = text;
    return 0;
}

/* ---- post ------------------------------------------------------------------------- */

int kz_cmd_post(kz_cli *cli, int argc, char **argv)
{
    kz_cli_opt opts[] = {
        {"--room", true, false, NULL},    {"--kind", true, false, NULL},
        {"--nominate", true, false, NULL}, {"--edit", true, false, NULL},
        {"--close", false, false, NULL},  {"--event", true, false, NULL},
    };
    const size_t no = KZ_ARRAY_LEN(opts);
    const char *options[KZ_POLL_OPTIONS_MAX + 1];
    size_t n_options = 0;
    char **rest = kz_xcalloc((size_t)argc + 1, sizeof *rest);
    int nrest = 0, rc;
    /* --option is repeatable, which the shared parser does not do: take
     * those out first (up to a "--"). */
    bool dashdash = false;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (!dashdash && strcmp(a, "--") == 0)
            dashdash = true;
        if (!dashdash && (strcmp(a, "--option") == 0 || strncmp(a, "--option=", 9) == 0)) {
            const char *v = a[8] == '=' ? a + 9 : (i + 1 < argc ? argv[++i] : NULL);
            if (!v) {
                free(rest);
                return kz_cli_usage_error(cli, "--option needs a value");
            }
            if (n_options == KZ_POLL_OPTIONS_MAX) {
                free(rest);
                return kz_cli_usage_error(cli, "a poll has at most %d options",
                                          KZ_POLL_OPTIONS_MAX);
            }
            if ((rc = kz_cli_check_text(cli, "--option", v, KZ_SHORT_MAX, false)) != 0) {
                free(rest);
                return rc;
            }
            options[n_options++] = v;
            continue;
        }
        rest[nrest++] = argv[i];
    }
    char *pos[2] = {NULL, NULL};
    int npos;
    rc = kz_cli_parse(cli, nrest, rest, opts, no, pos, &npos);
    free(rest);
    if (rc != 0)
        return rc;
    const char *room = kz_cli_optval(opts, no, "--room");
    const char *kind = kz_cli_optval(opts, no, "--kind");
    const char *nominee = kz_cli_optval(opts, no, "--nominate");
    const char *edit = kz_cli_optval(opts, no, "--edit");
    bool close = kz_cli_optset(opts, no, "--close");
    if ((rc = kz_cli_check_id(cli, "MEMBER_ID", pos[0])) != 0)
        return rc;
    if (edit) {
        if ((rc = kz_cli_check_id(cli, "--edit", edit)) != 0)
            return rc;
        if (room || kind || nominee || n_options)
            return kz_cli_usage_error(cli, "--edit keeps the room, kind, nomination and options");
    } else {
        if (close)
            return kz_cli_usage_error(cli, "--close goes with --edit POST_ID");
        if (!room)
            return kz_cli_usage_error(cli, "--room is required");
        if ((rc = kz_cli_check_text(cli, "--room", room, KZ_SHORT_MAX, false)) != 0)
            return rc;
    }
    if (npos < 2 && !close)
        return kz_cli_usage_error(cli, "TEXT is required");
    if (kind) {
        int k = kz_post_kind_parse(kind);
        if (k < 0)
            return kz_cli_usage_error(cli, "--kind must be text, intro, request, promo, article "
                                           "or poll, not '%.20s'", kind);
        if ((k == KZ_POST_POLL) != (n_options > 0))
            return kz_cli_usage_error(cli, "--option goes with --kind poll (2 to %d of them)",
                                      KZ_POLL_OPTIONS_MAX);
        if (k == KZ_POST_POLL && n_options < 2)
            return kz_cli_usage_error(cli, "a poll needs 2 to %d --option", KZ_POLL_OPTIONS_MAX);
    } else if (n_options) {
        return kz_cli_usage_error(cli, "--option goes with --kind poll");
    }
    if (nominee) {
        if ((rc = kz_cli_check_id(cli, "--nominate", nominee)) != 0)
            return rc;
        if (!kind || strcmp(kind, "intro") != 0)
            return kz_cli_usage_error(cli, "--nominate goes with --kind intro");
    }
    const char *event = kz_cli_optval(opts, no, "--event");
    if (event && (rc = kz_cli_check_id(cli, "--event", event)) != 0)
        return rc;
    if (event && edit)
        return kz_cli_usage_error(cli, "--edit keeps the post's event link");
    const char *text = NULL;
    uint8_t *stdin_text = NULL;
    if (npos == 2 && (rc = read_text(cli, pos[1], &text, &stdin_text)) != 0)
        return rc;
    json_t *args = json_pack("{s:s}", "member", pos[0]);
    if (text)
        json_object_set_new(args, "text", json_string(text));
    free(stdin_text);
    if (room)
        json_object_set_new(args, "room", json_string(room));
    if (kind)
        json_object_set_new(args, "kind", json_string(kind));
    if (nominee)
        json_object_set_new(args, "nominate", json_string(nominee));
    if (event)
        json_object_set_new(args, "event", json_string(event));
    if (edit)
        json_object_set_new(args, "edit", json_string(edit));
    if (close)
        json_object_set_new(args, "close", json_true());
    if (n_options) {
        json_t *a = json_array();
        for (size_t i = 0; i < n_options; i++)
            json_array_append_new(a, json_string(options[i]));
        json_object_set_new(args, "options", a);
    }
    return kz_cli_call_print_id(cli, "post", args, "post_id");
}

/* ---- reply, react, vote, report, delete ---------------------------------------------- */

int kz_cmd_reply(kz_cli *cli, int argc, char **argv)
{
    char *pos[3];
    int npos, rc = kz_cli_parse(cli, argc, argv, NULL, 0, pos, &npos);
    const char *text;
    uint8_t *stdin_text;
    if (rc != 0)
        return rc;
    if ((rc = kz_cli_check_id(cli, "MEMBER_ID", pos[0])) != 0 ||
        (rc = kz_cli_check_id(cli, "POST_ID", pos[1])) != 0 ||
        (rc = read_text(cli, pos[2], &text, &stdin_text)) != 0)
        return rc;
    json_t *args = json_pack("{s:s, s:s, s:s}", "member", pos[0], "post", pos[1], "text", text);
    free(stdin_text);
    return kz_cli_call_print_id(cli, "reply", args, "reply_id");
}

int kz_cmd_react(kz_cli *cli, int argc, char **argv)
{
    kz_cli_opt opts[] = {{"--off", false, false, NULL}};
    char *pos[3];
    int npos, rc = kz_cli_parse(cli, argc, argv, opts, 1, pos, &npos);
    static const char *const kinds[] = {"like", "thanks", "celebrate", "insightful", "support",
                                        "funny"};
    if (rc != 0)
        return rc;
    if ((rc = kz_cli_check_id(cli, "MEMBER_ID", pos[0])) != 0 ||
        (rc = kz_cli_check_id(cli, "TARGET_ID", pos[1])) != 0)
        return rc;
    bool ok = false;
    for (size_t i = 0; i < KZ_ARRAY_LEN(kinds); i++)
        ok = ok || strcmp(kinds[i], pos[2]) == 0;
    if (!ok)
        return kz_cli_usage_error(cli, "KIND must be like, thanks, celebrate, insightful, "
                                       "support or funny, not '%.20s'", pos[2]);
    json_t *args = json_pack("{s:s, s:s, s:s}", "member", pos[0], "target", pos[1], "kind", pos[2]);
    if (opts[0].set)
        json_object_set_new(args, "off", json_true());
    return kz_cli_call_print_id(cli, "react", args, "reaction_id");
}

int kz_cmd_vote(kz_cli *cli, int argc, char **argv)
{
    char *pos[3], *end;
    int npos, rc = kz_cli_parse(cli, argc, argv, NULL, 0, pos, &npos);
    if (rc != 0)
        return rc;
    if ((rc = kz_cli_check_id(cli, "MEMBER_ID", pos[0])) != 0 ||
        (rc = kz_cli_check_id(cli, "POLL_ID", pos[1])) != 0)
        return rc;
    long opt = strtol(pos[2], &end, 10);
    if (*pos[2] < '0' || *pos[2] > '9' || *end || opt < 0 || opt >= KZ_POLL_OPTIONS_MAX)
        return kz_cli_usage_error(cli, "OPTION_INDEX must be 0 to %d", KZ_POLL_OPTIONS_MAX - 1);
    json_t *args = json_pack("{s:s, s:s, s:I}", "member", pos[0], "poll", pos[1], "option",
                             (json_int_t)opt);
    return kz_cli_call_print_id(cli, "vote", args, "vote_id");
}

int kz_cmd_report(kz_cli *cli, int argc, char **argv)
{
    char *pos[3];
    int npos, rc = kz_cli_parse(cli, argc, argv, NULL, 0, pos, &npos);
    if (rc != 0)
        return rc;
    if ((rc = kz_cli_check_id(cli, "MEMBER_ID", pos[0])) != 0 ||
        (rc = kz_cli_check_id(cli, "TARGET_ID", pos[1])) != 0 ||
        (rc = kz_cli_check_text(cli, "REASON", pos[2], KZ_REPORT_REASON_MAX, false)) != 0)
        return rc;
    json_t *args = json_pack("{s:s, s:s, s:s}", "member", pos[0], "target", pos[1], "reason",
                             pos[2]);
    return kz_cli_call_print_id(cli, "report", args, "report_id");
}

static void print_report(json_t *o, const void *ctx)
{
    (void)ctx;
    if (json_is_true(json_object_get(o, "unreadable")))
        printf("%s  from %s  (unreadable)\n", kz_cli_jstr(o, "report_id"), kz_cli_jstr(o, "from"));
    else
        printf("%s  from %s  target %s%s\n  %s\n", kz_cli_jstr(o, "report_id"),
               kz_cli_jstr(o, "from"), kz_cli_jstr(o, "target"),
               json_is_true(json_object_get(o, "target_deleted")) ? " (deleted)" : "",
               kz_cli_jstr(o, "reason"));
}

int kz_cmd_report_list(kz_cli *cli, int argc, char **argv)
{
    kz_cli_opt opts[] = {{"--json", false, false, NULL}};
    char *pos[1];
    int npos, rc = kz_cli_parse(cli, argc, argv, opts, 1, pos, &npos);
    if (rc != 0)
        return rc;
    return kz_cli_call_print(
        cli, "report.list", json_object(), opts[0].set,
        &(kz_cli_view){.list = "reports", .empty = "no reports", .text = print_report});
}

int kz_cmd_delete(kz_cli *cli, int argc, char **argv)
{
    kz_cli_opt opts[] = {{"--reason", true, false, NULL}};
    char *pos[2];
    int npos, rc = kz_cli_parse(cli, argc, argv, opts, 1, pos, &npos);
    if (rc != 0)
        return rc;
    if ((rc = kz_cli_check_id(cli, "MEMBER_ID", pos[0])) != 0 ||
        (rc = kz_cli_check_id(cli, "RECORD_ID", pos[1])) != 0 ||
        (opts[0].set &&
         (rc = kz_cli_check_text(cli, "--reason", opts[0].value, KZ_BIO_MAX, true)) != 0))
        return rc;
    json_t *args = json_pack("{s:s, s:s}", "member", pos[0], "record", pos[1]);
    if (opts[0].set)
        json_object_set_new(args, "reason", json_string(opts[0].value));
    return kz_cli_call_print_id(cli, "delete", args, "delete_id");
}

int kz_cmd_moderate_delete(kz_cli *cli, int argc, char **argv)
{
    kz_cli_opt opts[] = {{"--reason", true, false, NULL}};
    char *pos[1];
    int npos, rc = kz_cli_parse(cli, argc, argv, opts, 1, pos, &npos);
    if (rc != 0)
        return rc;
    if ((rc = kz_cli_check_id(cli, "RECORD_ID", pos[0])) != 0 ||
        (opts[0].set &&
         (rc = kz_cli_check_text(cli, "--reason", opts[0].value, KZ_BIO_MAX, true)) != 0))
        return rc;
    json_t *args = json_pack("{s:s}", "record", pos[0]);
    if (opts[0].set)
        json_object_set_new(args, "reason", json_string(opts[0].value));
    return kz_cli_call_print_id(cli, "moderate.delete", args, "delete_id");
}

/* ---- rooms ------------------------------------------------------------------------- */

int kz_cmd_room_create(kz_cli *cli, int argc, char **argv)
{
    kz_cli_opt opts[] = {{"--title", true, false, NULL},
                         {"--description", true, false, NULL},
                         {"--scope", true, false, NULL}};
    char *pos[2];
    int npos, rc = kz_cli_parse(cli, argc, argv, opts, KZ_ARRAY_LEN(opts), pos, &npos);
    if (rc != 0)
        return rc;
    if ((rc = kz_cli_check_id(cli, "MEMBER_ID", pos[0])) != 0 ||
        (rc = kz_cli_check_text(cli, "NAME", pos[1], KZ_ROOM_TOPIC_MAX, false)) != 0 ||
        (opts[0].set &&
         (rc = kz_cli_check_text(cli, "--title", opts[0].value, KZ_SHORT_MAX, false)) != 0) ||
        (opts[1].set &&
         (rc = kz_cli_check_text(cli, "--description", opts[1].value, KZ_BIO_MAX, true)) != 0))
        return rc;
    if (!kz_room_topic_valid(pos[1], strlen(pos[1])))
        return kz_cli_usage_error(cli, "NAME: 1 to %d characters of a-z, 0-9, '_' and '-', "
                                       "other than 'lounge'", KZ_ROOM_TOPIC_MAX);
    if (opts[2].set && strcmp(opts[2].value, "federation") != 0 &&
        strcmp(opts[2].value, "company") != 0)
        return kz_cli_usage_error(cli, "--scope must be federation or company");
    json_t *args = json_pack("{s:s, s:s}", "member", pos[0], "name", pos[1]);
    if (opts[0].set)
        json_object_set_new(args, "title", json_string(opts[0].value));
    if (opts[1].set)
        json_object_set_new(args, "description", json_string(opts[1].value));
    if (opts[2].set)
        json_object_set_new(args, "scope", json_string(opts[2].value));
    return kz_cli_call_print_id(cli, "room.create", args, "room_id");
}

static void print_room(json_t *o, const void *ctx)
{
    (void)ctx;
    printf("%-30s %-10s %s\n", kz_cli_jstr(o, "name"), kz_cli_jstr(o, "scope"),
           kz_cli_jstr(o, "title"));
}

int kz_cmd_room_list(kz_cli *cli, int argc, char **argv)
{
    kz_cli_opt opts[] = {{"--json", false, false, NULL}};
    char *pos[1];
    int npos, rc = kz_cli_parse(cli, argc, argv, opts, 1, pos, &npos);
    if (rc != 0)
        return rc;
    return kz_cli_call_print(cli, "room.list", json_object(), opts[0].set,
                             &(kz_cli_view){.list = "rooms", .text = print_room});
}

/* ---- feeds ------------------------------------------------------------------------- */

static void print_reactions(json_t *o)
{
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(o, "reactions"), k, v)
        printf(" · %s %lld", k, (long long)json_integer_value(v));
}

/* One post, its counters and, for a poll, its options (ctx unused). */
static void print_post(json_t *o, const void *ctx)
{
    (void)ctx;
    json_t *a = json_object_get(o, "author");
    printf("%s  %s  [%s] %s  %s", kz_cli_jstr(o, "id"), kz_cli_jstr(o, "created"),
           kz_cli_jstr(o, "room"), kz_cli_jstr(o, "kind"),
           kz_cli_jstr(a, "name")[0] ? kz_cli_jstr(a, "name") : kz_cli_jstr(a, "id"));
    if (kz_cli_jstr(a, "company")[0])
        printf(" (%s)", kz_cli_jstr(a, "company"));
    printf("%s\n", json_is_true(json_object_get(o, "edited")) ? "  (edited)" : "");
    printf("  %s\n", kz_cli_jstr(o, "text"));
    printf("  replies %lld", (long long)json_integer_value(json_object_get(o, "replies")));
    print_reactions(o);
    if (json_object_get(o, "state"))
        printf(" · %s", kz_cli_jstr(o, "state"));
    json_t *nom = json_object_get(o, "nominate");
    if (nom)
        printf(" · nominates %s",
               kz_cli_jstr(nom, "name")[0] ? kz_cli_jstr(nom, "name") : kz_cli_jstr(nom, "id"));
    printf("\n");
    json_t *opts = json_object_get(o, "options");
    if (opts) {
        size_t i;
        json_t *p;
        json_array_foreach(opts, i, p) printf(
            "  [%lld] %s: %lld\n", (long long)json_integer_value(json_object_get(p, "index")),
            kz_cli_jstr(p, "text"), (long long)json_integer_value(json_object_get(p, "votes")));
        if (json_is_true(json_object_get(o, "closed")))
            printf("  (closed)\n");
    }
}

static void print_feed(json_t *r, const void *ctx)
{
    size_t i;
    json_t *o, *items = json_object_get(r, "items");
    if (json_array_size(items) == 0)
        printf("no posts\n");
    json_array_foreach(items, i, o)
        print_post(o, ctx);
    if (json_is_string(json_object_get(r, "next_cursor")))
        printf("more: --cursor %s\n", kz_cli_jstr(r, "next_cursor"));
}

int kz_cmd_feed(kz_cli *cli, int argc, char **argv)
{
    kz_cli_opt opts[] = {{"--room", true, false, NULL},   {"--member", true, false, NULL},
                         {"--requests", false, false, NULL}, {"--as", true, false, NULL},
                         {"--limit", true, false, NULL},  {"--cursor", true, false, NULL},
                         {"--json", false, false, NULL}};
    char *pos[1], *end;
    int npos, rc = kz_cli_parse(cli, argc, argv, opts, KZ_ARRAY_LEN(opts), pos, &npos);
    if (rc != 0)
        return rc;
    json_t *args = json_object();
    if (opts[0].set) {
        if ((rc = kz_cli_check_text(cli, "--room", opts[0].value, KZ_SHORT_MAX, false)) != 0)
            goto bad;
        json_object_set_new(args, "room", json_string(opts[0].value));
    }
    if (opts[1].set) {
        if ((rc = kz_cli_check_id(cli, "--member", opts[1].value)) != 0)
            goto bad;
        json_object_set_new(args, "member", json_string(opts[1].value));
    }
    if (opts[2].set)
        json_object_set_new(args, "requests", json_true());
    if (opts[3].set) {
        if ((rc = kz_cli_check_id(cli, "--as", opts[3].value)) != 0)
            goto bad;
        json_object_set_new(args, "as", json_string(opts[3].value));
    }
    if (opts[4].set) {
        long l = strtol(opts[4].value, &end, 10);
        if (*opts[4].value < '1' || *opts[4].value > '9' || *end || l < 1 || l > 200) {
            rc = kz_cli_usage_error(cli, "--limit must be 1 to 200");
            goto bad;
        }
        json_object_set_new(args, "limit", json_integer(l));
    }
    if (opts[5].set) {
        if ((rc = kz_cli_check_text(cli, "--cursor", opts[5].value, 100, false)) != 0)
            goto bad;
        json_object_set_new(args, "cursor", json_string(opts[5].value));
    }
    return kz_cli_call_print(cli, "feed", args, opts[6].set, &(kz_cli_view){.text = print_feed});
bad:
    json_decref(args);
    return rc;
}

static void print_thread(json_t *r, const void *ctx)
{
    size_t i;
    json_t *o;
    print_post(r, ctx);
    json_array_foreach(json_object_get(r, "thread"), i, o) {
        json_t *a = json_object_get(o, "author");
        printf("    %s  %s  %s\n      %s\n", kz_cli_jstr(o, "id"), kz_cli_jstr(o, "created"),
               kz_cli_jstr(a, "name")[0] ? kz_cli_jstr(a, "name") : kz_cli_jstr(a, "id"),
               kz_cli_jstr(o, "text"));
    }
}

int kz_cmd_thread(kz_cli *cli, int argc, char **argv)
{
    kz_cli_opt opts[] = {{"--as", true, false, NULL}, {"--json", false, false, NULL}};
    char *pos[1];
    int npos, rc = kz_cli_parse(cli, argc, argv, opts, 2, pos, &npos);
    if (rc != 0)
        return rc;
    if ((rc = kz_cli_check_id(cli, "POST_ID", pos[0])) != 0 ||
        (opts[0].set && (rc = kz_cli_check_id(cli, "--as", opts[0].value)) != 0))
        return rc;
    json_t *args = json_pack("{s:s}", "post", pos[0]);
    if (opts[0].set)
        json_object_set_new(args, "as", json_string(opts[0].value));
    return kz_cli_call_print(cli, "thread", args, opts[1].set,
                             &(kz_cli_view){.text = print_thread});
}

static void print_relay(json_t *r, const void *ctx)
{
    size_t i;
    json_t *o;
    (void)ctx;
    json_array_foreach(json_object_get(r, "chain"), i, o) {
        json_t *m = json_object_get(o, "member"), *nm = json_object_get(o, "nominated");
        printf("%zu. %s", i + 1,
               kz_cli_jstr(m, "name")[0] ? kz_cli_jstr(m, "name") : kz_cli_jstr(m, "id"));
        if (kz_cli_jstr(m, "company")[0])
            printf(" (%s)", kz_cli_jstr(m, "company"));
        if (nm)
            printf(" -> %s",
                   kz_cli_jstr(nm, "name")[0] ? kz_cli_jstr(nm, "name") : kz_cli_jstr(nm, "id"));
        printf("\n");
    }
    json_array_foreach(json_object_get(r, "next"), i, o) {
        json_t *m = json_object_get(o, "member");
        printf("next: %s (%s)\n",
               kz_cli_jstr(m, "name")[0] ? kz_cli_jstr(m, "name") : kz_cli_jstr(m, "id"),
               kz_cli_jstr(m, "id"));
    }
}

int kz_cmd_relay_show(kz_cli *cli, int argc, char **argv)
{
    kz_cli_opt opts[] = {{"--room", true, false, NULL}, {"--json", false, false, NULL}};
    char *pos[1];
    int npos, rc = kz_cli_parse(cli, argc, argv, opts, 2, pos, &npos);
    if (rc != 0)
        return rc;
    json_t *args = json_object();
    if (opts[0].set) {
        if ((rc = kz_cli_check_text(cli, "--room", opts[0].value, KZ_SHORT_MAX, false)) != 0) {
            json_decref(args);
            return rc;
        }
        json_object_set_new(args, "room", json_string(opts[0].value));
    }
    return kz_cli_call_print(cli, "relay.show", args, opts[1].set,
                             &(kz_cli_view){.text = print_relay});
}

int kz_cmd_poll_show(kz_cli *cli, int argc, char **argv)
{
    kz_cli_opt opts[] = {{"--json", false, false, NULL}};
    char *pos[1];
    int npos, rc = kz_cli_parse(cli, argc, argv, opts, 1, pos, &npos);
    if (rc != 0)
        return rc;
    if ((rc = kz_cli_check_id(cli, "POLL_ID", pos[0])) != 0)
        return rc;
    return kz_cli_call_print(cli, "poll.show", json_pack("{s:s}", "poll", pos[0]), opts[0].set,
                             &(kz_cli_view){.text = print_post});
}
