/* cmd_events.c: event create, event list, event show, rsvp. */
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kz_talk.h"

int kz_cmd_event_create(kz_cli *cli, int argc, char **argv)
{
    kz_cli_opt opts[] = {
        {"--room", true, false, NULL},     {"--title", true, false, NULL},
        {"--start", true, false, NULL},    {"--end", true, false, NULL},
        {"--tz", true, false, NULL},       {"--place", true, false, NULL},
        {"--link", true, false, NULL},     {"--capacity", true, false, NULL},
        {"--description", true, false, NULL},
    };
    static const struct { const char *opt, *arg; size_t max; bool multi; } fields[] = {
        {"--room", "room", KZ_SHORT_MAX, false},   {"--title", "title", KZ_SHORT_MAX, false},
        {"--start", "start", 32, false},           {"--end", "end", 32, false},
        {"--tz", "tz", KZ_SHORT_MAX, false},       {"--place", "place", KZ_SHORT_MAX, false},
        {"--link", "link", KZ_URL_MAX, false},
        {"--description", "description", KZ_TEXT_MAX, true},
    };
    const size_t no = KZ_ARRAY_LEN(opts);
    char *pos[1];
    int npos;
    int rc = kz_cli_parse(cli, argc, argv, opts, no, pos, &npos);
    if (rc != 0)
        return rc;
    if ((rc = kz_cli_check_id(cli, "MEMBER_ID", pos[0])) != 0)
        return rc;
    if (!kz_cli_optval(opts, no, "--room") || !kz_cli_optval(opts, no, "--title") ||
        !kz_cli_optval(opts, no, "--start"))
        return kz_cli_usage_error(cli, "--room, --title and --start are required");
    json_t *args = json_pack("{s:s}", "member", pos[0]);
    for (size_t i = 0; i < KZ_ARRAY_LEN(fields); i++) {
        const char *v = kz_cli_optval(opts, no, fields[i].opt);
        if (!v)
            continue;
        if ((rc = kz_cli_check_text(cli, fields[i].opt, v, fields[i].max, fields[i].multi)) != 0) {
            json_decref(args);
            return rc;
        }
        json_object_set_new(args, fields[i].arg, json_string(v));
    }
    const char *cap = kz_cli_optval(opts, no, "--capacity");
    if (cap) {
        char *end;
        errno = 0;
        unsigned long c = strtoul(cap, &end, 10);
        if (!cap[0] || cap[0] == '-' || cap[0] == '+' || *end || errno || c > 1000000) {
            json_decref(args);
            return kz_cli_usage_error(cli,
                                      "--capacity must be a number 0..1000000 (0 = unlimited)");
        }
        json_object_set_new(args, "capacity", json_integer((json_int_t)c));
    }
    return kz_cli_call_print_id(cli, "event.create", args, "event_id");
}

/* One event's summary line (ctx unused). */
static void kz_event_print(json_t *e, const void *ctx)
{
    (void)ctx;
    printf("%s  %s %s  [%s]  %s  going %lld/%s", kz_cli_jstr(e, "event_id"),
           kz_cli_jstr(e, "start"), kz_cli_jstr(e, "tz"), kz_cli_jstr(e, "room"),
           kz_cli_jstr(e, "title"), kz_cli_jint(e, "confirmed"),
           kz_cli_jint(e, "capacity") ? "" : "unlimited");
    if (kz_cli_jint(e, "capacity"))
        printf("%lld", kz_cli_jint(e, "capacity"));
    if (kz_cli_jint(e, "waitlisted"))
        printf(", waitlisted %lld", kz_cli_jint(e, "waitlisted"));
    printf(", maybe %lld\n", kz_cli_jint(e, "maybe"));
}

int kz_cmd_event_list(kz_cli *cli, int argc, char **argv)
{
    kz_cli_opt opts[] = {{"--room", true, false, NULL}, {"--json", false, false, NULL}};
    char *pos[1];
    int npos;
    int rc = kz_cli_parse(cli, argc, argv, opts, KZ_ARRAY_LEN(opts), pos, &npos);
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
    return kz_cli_call_print(
        cli, "event.list", args, opts[1].set,
        &(kz_cli_view){.list = "events", .empty = "no events", .text = kz_event_print});
}

/* An event in full, with its attendees when the organiser asks. */
static void kz_event_print_full(json_t *r, const void *ctx)
{
    kz_event_print(r, ctx);
    if (kz_cli_jstr(r, "end")[0])
        printf("ends       %s\n", kz_cli_jstr(r, "end"));
    if (kz_cli_jstr(r, "place")[0])
        printf("place      %s\n", kz_cli_jstr(r, "place"));
    if (kz_cli_jstr(r, "link")[0])
        printf("link       %s\n", kz_cli_jstr(r, "link"));
    printf("organiser  %s\n", kz_cli_jstr(r, "organiser"));
    if (kz_cli_jstr(r, "description")[0])
        printf("\n%s\n", kz_cli_jstr(r, "description"));
    json_t *att = json_object_get(r, "attendees");
    if (json_is_array(att)) {
        size_t i;
        json_t *a;
        printf("\nattendees:\n");
        json_array_foreach(att, i, a)
            printf("  %-10s  %s  %s  %s\n", kz_cli_jstr(a, "place"), kz_cli_jstr(a, "member_id"),
                   kz_cli_jstr(a, "answered"), kz_cli_jstr(a, "name"));
    }
}

int kz_cmd_event_show(kz_cli *cli, int argc, char **argv)
{
    kz_cli_opt opts[] = {{"--as", true, false, NULL}, {"--json", false, false, NULL}};
    char *pos[1];
    int npos;
    int rc = kz_cli_parse(cli, argc, argv, opts, KZ_ARRAY_LEN(opts), pos, &npos);
    if (rc != 0)
        return rc;
    if ((rc = kz_cli_check_id(cli, "EVENT_ID", pos[0])) != 0)
        return rc;
    if (opts[0].set && (rc = kz_cli_check_id(cli, "--as", opts[0].value)) != 0)
        return rc;
    json_t *args = json_pack("{s:s}", "id", pos[0]);
    if (opts[0].set)
        json_object_set_new(args, "as", json_string(opts[0].value));
    return kz_cli_call_print(cli, "event.show", args, opts[1].set,
                             &(kz_cli_view){.text = kz_event_print_full});
}

int kz_cmd_rsvp(kz_cli *cli, int argc, char **argv)
{
    char *pos[3];
    int npos;
    int rc = kz_cli_parse(cli, argc, argv, NULL, 0, pos, &npos);
    if (rc != 0)
        return rc;
    if ((rc = kz_cli_check_id(cli, "MEMBER_ID", pos[0])) != 0 ||
        (rc = kz_cli_check_id(cli, "EVENT_ID", pos[1])) != 0)
        return rc;
    if (kz_rsvp_status_parse(pos[2]) < 0)
        return kz_cli_usage_error(cli, "the answer must be going, maybe or no, not '%.20s'",
                                  pos[2]);
    json_t *args =
        json_pack("{s:s, s:s, s:s}", "member", pos[0], "event", pos[1], "status", pos[2]);
    return kz_cli_call_print_id(cli, "rsvp", args, "rsvp_id");
}
