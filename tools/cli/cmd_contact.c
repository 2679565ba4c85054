/* cmd_contact.c: contact send/inbox/accept/ignore, inbox and metrics. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

#include "kz_contact.h"

int kz_cmd_contact_send(kz_cli *cli, int argc, char **argv)
{
    char *pos[3];
    int npos;
    int rc = kz_cli_parse(cli, argc, argv, NULL, 0, pos, &npos);
    if (rc != 0)
        return rc;
    if ((rc = kz_cli_check_id(cli, "MEMBER_ID", pos[0])) != 0 ||
        (rc = kz_cli_check_id(cli, "TO_MEMBER_ID", pos[1])) != 0 ||
        (rc = kz_cli_check_text(cli, "MESSAGE", pos[2], KZ_CONTACT_MSG_MAX, true)) != 0)
        return rc;
    return kz_cli_call_print_id(
        cli, "contact.send",
        json_pack("{s:s, s:s, s:s}", "member", pos[0], "to", pos[1], "message", pos[2]),
        "contact_id");
}

/* One contact request or answer (ctx unused). */
static void kz_contact_print(json_t *c, const void *ctx)
{
    (void)ctx;
    printf("%s  %s  %-8s %-8s from %s %s\n", kz_cli_jstr(c, "contact_id"),
           kz_cli_jstr(c, "received"), kz_cli_jstr(c, "kind"), kz_cli_jstr(c, "state"),
           kz_cli_jstr(c, "from"), kz_cli_jstr(c, "from_name"));
    if (kz_cli_jstr(c, "message")[0])
        printf("    %s\n", kz_cli_jstr(c, "message"));
    if (kz_cli_jstr(c, "reveal")[0])
        printf("    revealed: %s\n", kz_cli_jstr(c, "reveal"));
}

int kz_cmd_contact_inbox(kz_cli *cli, int argc, char **argv)
{
    kz_cli_opt opts[] = {{"--json", false, false, NULL}};
    char *pos[1];
    int npos;
    int rc = kz_cli_parse(cli, argc, argv, opts, KZ_ARRAY_LEN(opts), pos, &npos);
    if (rc != 0)
        return rc;
    if ((rc = kz_cli_check_id(cli, "MEMBER_ID", pos[0])) != 0)
        return rc;
    return kz_cli_call_print(cli, "contact.inbox", json_pack("{s:s}", "member", pos[0]),
                             opts[0].set,
                             &(kz_cli_view){.list = "contacts", .empty = "no contact requests",
                                            .text = kz_contact_print});
}

int kz_cmd_contact_accept(kz_cli *cli, int argc, char **argv)
{
    kz_cli_opt opts[] = {{"--reveal", true, false, NULL}, {"--message", true, false, NULL}};
    char *pos[2];
    int npos;
    int rc = kz_cli_parse(cli, argc, argv, opts, KZ_ARRAY_LEN(opts), pos, &npos);
    if (rc != 0)
        return rc;
    if ((rc = kz_cli_check_id(cli, "MEMBER_ID", pos[0])) != 0 ||
        (rc = kz_cli_check_id(cli, "CONTACT_ID", pos[1])) != 0)
        return rc;
    if (opts[0].set && (rc = kz_cli_check_text(cli, "--reveal", opts[0].value,
                                               KZ_CONTACT_REVEAL_MAX, true)) != 0)
        return rc;
    if (opts[1].set && (rc = kz_cli_check_text(cli, "--message", opts[1].value,
                                               KZ_CONTACT_MSG_MAX, true)) != 0)
        return rc;
    json_t *args = json_pack("{s:s, s:s}", "member", pos[0], "id", pos[1]);
    if (opts[0].set)
        json_object_set_new(args, "reveal", json_string(opts[0].value));
    if (opts[1].set)
        json_object_set_new(args, "message", json_string(opts[1].value));
    return kz_cli_call_print_id(cli, "contact.accept", args, "contact_id");
}

int kz_cmd_contact_ignore(kz_cli *cli, int argc, char **argv)
{
    char *pos[2];
    int npos;
    int rc = kz_cli_parse(cli, argc, argv, NULL, 0, pos, &npos);
    if (rc != 0)
        return rc;
    if ((rc = kz_cli_check_id(cli, "MEMBER_ID", pos[0])) != 0 ||
        (rc = kz_cli_check_id(cli, "CONTACT_ID", pos[1])) != 0)
        return rc;
    return kz_cli_call_print_id(cli, "contact.ignore",
                                json_pack("{s:s, s:s}", "member", pos[0], "id", pos[1]),
                                "contact_id");
}

static void kz_inbox_print(json_t *r, const void *ctx)
{
    size_t i;
    json_t *it, *items = json_object_get(r, "items");
    (void)ctx;
    if (json_array_size(items) == 0)
        printf("nothing new\n");
    json_array_foreach(items, i, it) {
        const char *kind = kz_cli_jstr(it, "kind");
        printf("%s  %-9s  ", kz_cli_jstr(it, "time"), kind);
        if (strcmp(kind, "event") == 0)
            printf("starts soon: %s (%s)\n", kz_cli_jstr(it, "title"), kz_cli_jstr(it, "id"));
        else if (strcmp(kind, "contact") == 0)
            printf("from %s: %s\n", kz_cli_jstr(it, "from_name"),
                   kz_cli_jstr(json_object_get(it, "contact"), "message"));
        else
            printf("from %s (%s) %s\n", kz_cli_jstr(it, "from_name"), kz_cli_jstr(it, "id"),
                   kz_cli_jstr(it, "text"));
    }
}

int kz_cmd_inbox(kz_cli *cli, int argc, char **argv)
{
    kz_cli_opt opts[] = {{"--json", false, false, NULL}, {"--since", true, false, NULL}};
    char *pos[1];
    int npos;
    int rc = kz_cli_parse(cli, argc, argv, opts, KZ_ARRAY_LEN(opts), pos, &npos);
    if (rc != 0)
        return rc;
    if ((rc = kz_cli_check_id(cli, "MEMBER_ID", pos[0])) != 0)
        return rc;
    json_t *args = json_pack("{s:s}", "member", pos[0]);
    if (opts[1].set)
        json_object_set_new(args, "since", json_string(opts[1].value));
    return kz_cli_call_print(cli, "inbox", args, opts[0].set,
                             &(kz_cli_view){.text = kz_inbox_print});
}

static void kz_metrics_print(json_t *r, const void *ctx)
{
    (void)ctx;
    json_t *m = json_object_get(r, "members"), *p = json_object_get(r, "posts");
    json_t *rl = json_object_get(r, "relay"), *rq = json_object_get(r, "requests");
    json_t *ev = json_object_get(r, "events"), *x = json_object_get(r, "cross_company");
    json_t *med = json_object_get(rq, "median_first_reply_s");
    printf("since            %s\n",
           json_is_string(json_object_get(r, "since")) ? kz_cli_jstr(r, "since") : "the beginning");
    printf("members          %lld registered, %lld active, %lld posted (%.0f%%)\n",
           kz_cli_jint(m, "registered"), kz_cli_jint(m, "active"), kz_cli_jint(m, "posted"),
           100.0 * json_real_value(json_object_get(m, "posted_share")));
    printf("posts            %lld\n", kz_cli_jint(p, "total"));
    printf("relay            %lld intro posts, %lld nominations, %lld nominees posted\n",
           kz_cli_jint(rl, "intro_posts"), kz_cli_jint(rl, "nominations"),
           kz_cli_jint(rl, "nominees_posted"));
    char median[32] = "n/a";
    if (json_is_integer(med))
        snprintf(median, sizeof median, "%lld s", (long long)json_integer_value(med));
    printf("requests         %lld, %lld replies (%.2f per request), median first reply %s\n",
           kz_cli_jint(rq, "total"), kz_cli_jint(rq, "replies"),
           json_real_value(json_object_get(rq, "replies_per_request")), median);
    printf("replies          %lld\nreactions        %lld\ncontacts         %lld\n",
           kz_cli_jint(r, "replies"), kz_cli_jint(r, "reactions"), kz_cli_jint(r, "contacts"));
    printf("events           %lld, RSVPs %lld going / %lld maybe / %lld no, %lld confirmed seats, "
           "%lld waitlisted\n",
           kz_cli_jint(ev, "events"), kz_cli_jint(ev, "rsvp_going"), kz_cli_jint(ev, "rsvp_maybe"),
           kz_cli_jint(ev, "rsvp_no"), kz_cli_jint(ev, "confirmed"), kz_cli_jint(ev, "waitlisted"));
    printf("cross-company    %lld replies, %lld contacts\n", kz_cli_jint(x, "replies"),
           kz_cli_jint(x, "contacts"));
    size_t i;
    json_t *b;
    printf("posts per two weeks:\n");
    json_array_foreach(json_object_get(p, "per_two_weeks"), i, b)
        printf("  %s  %lld\n", kz_cli_jstr(b, "from"), kz_cli_jint(b, "posts"));
}

int kz_cmd_metrics(kz_cli *cli, int argc, char **argv)
{
    kz_cli_opt opts[] = {{"--json", false, false, NULL}, {"--since", true, false, NULL}};
    char *pos[1];
    int npos;
    int rc = kz_cli_parse(cli, argc, argv, opts, KZ_ARRAY_LEN(opts), pos, &npos);
    if (rc != 0)
        return rc;
    json_t *args = json_object();
    if (opts[1].set)
        json_object_set_new(args, "since", json_string(opts[1].value));
    return kz_cli_call_print(cli, "metrics", args, opts[0].set,
                             &(kz_cli_view){.text = kz_metrics_print});
}
