/* cmd_member.c: member add/list/revoke and profile set/show. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

static void kz_years(char *out, size_t outsz, json_t *joined, json_t *left)
{
    if (!json_is_integer(joined) && !json_is_integer(left)) {
        snprintf(out, outsz, "-");
        return;
    }
    char a[8] = "", b[8] = "";
    if (json_is_integer(joined))
        snprintf(a, sizeof a, "%d", (int)json_integer_value(joined));
    if (json_is_integer(left))
        snprintf(b, sizeof b, "%d", (int)json_integer_value(left));
    snprintf(out, outsz, "%s-%s", a, b);
}

int kz_cmd_member_add(kz_cli *cli, int argc, char **argv)
{
    kz_cli_opt opts[] = {
        {"--name", true, false, NULL},   {"--reading", true, false, NULL},
        {"--romaji", true, false, NULL}, {"--role", true, false, NULL},
        {"--joined", true, false, NULL}, {"--left", true, false, NULL},
        {"--department", true, false, NULL},
    };
    const size_t no = KZ_ARRAY_LEN(opts);
    char *pos[1];
    int npos, joined = 0, left = 0;
    int rc = kz_cli_parse(cli, argc, argv, opts, no, pos, &npos);
    if (rc != 0)
        return rc;
    const char *name = kz_cli_optval(opts, no, "--name");
    const char *reading = kz_cli_optval(opts, no, "--reading");
    const char *romaji = kz_cli_optval(opts, no, "--romaji");
    const char *role = kz_cli_optval(opts, no, "--role");
    const char *dept = kz_cli_optval(opts, no, "--department");
    const char *js = kz_cli_optval(opts, no, "--joined");
    const char *ls = kz_cli_optval(opts, no, "--left");
    if (!name)
        return kz_cli_usage_error(cli, "--name is required");
    if (!reading)
        return kz_cli_usage_error(cli, "--reading is required (the name's yomigana)");
    if ((rc = kz_cli_check_text(cli, "--name", name, KZ_NAME_MAX, false)) != 0 ||
        (rc = kz_cli_check_text(cli, "--reading", reading, KZ_NAME_MAX, false)) != 0 ||
        (romaji && (rc = kz_cli_check_text(cli, "--romaji", romaji, KZ_NAME_MAX, false)) != 0) ||
        (dept && (rc = kz_cli_check_text(cli, "--department", dept, KZ_SHORT_MAX, false)) != 0) ||
        (js && (rc = kz_cli_check_year(cli, "--joined", js, &joined)) != 0) ||
        (ls && (rc = kz_cli_check_year(cli, "--left", ls, &left)) != 0))
        return rc;
    if (role && kz_role_parse(role) < 0)
        return kz_cli_usage_error(
            cli, "--role must be alumni, employee or secretariat, not '%.20s'", role);
    if (joined && left && left < joined)
        return kz_cli_usage_error(cli, "--left (%d) is before --joined (%d)", left, joined);
    json_t *args = json_pack("{s:s, s:s}", "name", name, "reading", reading);
    if (romaji)
        json_object_set_new(args, "romaji", json_string(romaji));
    if (role)
        json_object_set_new(args, "role", json_string(role));
    if (dept)
        json_object_set_new(args, "department", json_string(dept));
    if (joined)
        json_object_set_new(args, "joined", json_integer(joined));
    if (left)
        json_object_set_new(args, "left", json_integer(left));
    return kz_cli_call_print_id(cli, "member.add", args, "member_id");
}

/* One member of the list (ctx unused). */
static void kz_member_print(json_t *m, const void *ctx)
{
    char years[24];
    (void)ctx;
    kz_years(years, sizeof years, json_object_get(m, "joined"), json_object_get(m, "left"));
    printf("%s  %-7s  %-11s  %-9s  %s", kz_cli_jstr(m, "member_id"), kz_cli_jstr(m, "status"),
           kz_cli_jstr(m, "role"), years, kz_cli_jstr(m, "name"));
    if (kz_cli_jstr(m, "reading")[0])
        printf(" (%s)", kz_cli_jstr(m, "reading"));
    printf("\n");
}

int kz_cmd_member_list(kz_cli *cli, int argc, char **argv)
{
    kz_cli_opt opts[] = {{"--json", false, false, NULL}};
    char *pos[1];
    int npos;
    int rc = kz_cli_parse(cli, argc, argv, opts, KZ_ARRAY_LEN(opts), pos, &npos);
    if (rc != 0)
        return rc;
    return kz_cli_call_print(
        cli, "member.list", NULL, opts[0].set,
        &(kz_cli_view){.list = "members",
                       .empty = "no members yet (add one with: kizuna member add --name N "
                                "--reading R)",
                       .text = kz_member_print});
}

int kz_cmd_member_revoke(kz_cli *cli, int argc, char **argv)
{
    kz_cli_opt opts[] = {{"--reason", true, false, NULL}};
    char *pos[1];
    int npos;
    int rc = kz_cli_parse(cli, argc, argv, opts, KZ_ARRAY_LEN(opts), pos, &npos);
    if (rc != 0)
        return rc;
    const char *reason = kz_cli_optval(opts, 1, "--reason");
    if ((rc = kz_cli_check_id(cli, "MEMBER_ID", pos[0])) != 0 ||
        (reason && (rc = kz_cli_check_text(cli, "--reason", reason, KZ_SHORT_MAX, false)) != 0))
        return rc;
    json_t *args = json_pack("{s:s}", "member", pos[0]);
    if (reason)
        json_object_set_new(args, "reason", json_string(reason));
    return kz_cli_call_print_id(cli, "member.revoke", args, "revoke_id");
}

int kz_cmd_profile_set(kz_cli *cli, int argc, char **argv)
{
    char **pos = kz_xcalloc((size_t)argc + 1, sizeof *pos);
    int npos;
    char err[KZ_ERR_MAX];
    json_t *fields = NULL;
    kz_profile scratch;
    kz_profile_init(&scratch);
    int rc = kz_cli_parse(cli, argc, argv, NULL, 0, pos, &npos);
    if (rc != 0)
        goto out;
    if ((rc = kz_cli_check_id(cli, "MEMBER_ID", pos[0])) != 0)
        goto out;
    fields = json_object();
    for (int i = 1; i < npos; i++) {
        const char *eq = strchr(pos[i], '=');
        if (!eq) {
            rc = kz_cli_usage_error(cli, "'%.60s' is not FIELD=VALUE", pos[i]);
            goto out;
        }
        char *field = kz_xstrndup(pos[i], (size_t)(eq - pos[i]));
        if (!kz_profile_field_known(field)) {
            rc = kz_cli_usage_error(cli, "unknown profile field '%.40s' (fields: %s)", field,
                                    kz_profile_field_names());
        } else if (json_object_get(fields, field)) {
            rc = kz_cli_usage_error(cli, "field '%s' given twice", field);
        } else if (kz_profile_set(&scratch, field, eq + 1, err, sizeof err) != 0) {
            rc = kz_cli_usage_error(cli, "%s", err);
        } else {
            json_t *v = json_string(eq + 1);
            if (!v)
                rc = kz_cli_usage_error(cli, "%s: invalid UTF-8", field);
            else
                json_object_set_new(fields, field, v);
        }
        free(field);
        if (rc != 0)
            goto out;
    }
    rc = kz_cli_call_print_id(cli, "profile.set",
                              json_pack("{s:s, s:O}", "member", pos[0], "fields", fields),
                              "profile_id");
out:
    kz_profile_close(&scratch);
    json_decref(fields);
    free(pos);
    return rc;
}

static void kz_print_field(const char *label, json_t *v)
{
    printf("%-16s ", label);
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        printf("%s\n", s[0] ? s : "-");
    } else if (json_is_integer(v)) {
        printf("%lld\n", (long long)json_integer_value(v));
    } else if (json_is_array(v)) {
        size_t i;
        json_t *e;
        if (json_array_size(v) == 0)
            printf("-");
        json_array_foreach(v, i, e)
            printf("%s%s", i ? ", " : "", json_string_value(e) ? json_string_value(e) : "?");
        printf("\n");
    } else if (json_is_boolean(v)) {
        printf("%s\n", json_is_true(v) ? "yes" : "no");
    } else {
        printf("-\n");
    }
}

/* A profile field by field; ctx is the --as viewer id or NULL. */
static void kz_profile_print(json_t *r, const void *ctx)
{
    const char *as = ctx;
    static const char *const order[] = {
        "member_id", "name", "reading", "romaji", "department", "title", "joined", "left",
        "current_company", "current_title", "location", "skills", "bio", "links", "open_to",
        "visibility", "home_company", "home_node_id", "role", "tenure_joined", "tenure_left",
        "status", "updated", "profile_id", "successor", "viewer", "access",
    };
    for (size_t i = 0; i < KZ_ARRAY_LEN(order); i++) {
        json_t *v = json_object_get(r, order[i]);
        /* Fields a view withholds, or that only some profiles have, are
         * left out rather than printed as "-". */
        if (v || !(as || i >= KZ_ARRAY_LEN(order) - 3))
            kz_print_field(order[i], v);
    }
}

int kz_cmd_profile_show(kz_cli *cli, int argc, char **argv)
{
    kz_cli_opt opts[] = {{"--json", false, false, NULL}, {"--as", true, false, NULL}};
    char *pos[1];
    int npos;
    int rc = kz_cli_parse(cli, argc, argv, opts, KZ_ARRAY_LEN(opts), pos, &npos);
    if (rc != 0)
        return rc;
    const char *as = kz_cli_optval(opts, KZ_ARRAY_LEN(opts), "--as");
    if ((rc = kz_cli_check_id(cli, "MEMBER_ID", pos[0])) != 0 ||
        (as && (rc = kz_cli_check_id(cli, "--as", as)) != 0))
        return rc;
    json_t *args = json_pack("{s:s}", "member", pos[0]);
    if (as)
        json_object_set_new(args, "as", json_string(as));
    return kz_cli_call_print(cli, "profile.show", args, opts[0].set,
                             &(kz_cli_view){.text = kz_profile_print, .ctx = as});
}
