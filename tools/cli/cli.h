/* cli.h: internals of the kizuna CLI: the command table, option parsing,
 * printing and the control-socket call shared by the cmd_*.c files. */
#ifndef KZ_CLI_H
#define KZ_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "kz_node.h"

/* Exit codes (documented in docs/cli.md). */
enum {
    KZ_EXIT_OK = 0,
    KZ_EXIT_ERROR = 1,      /* the command failed (refused, I/O, bad data) */
    KZ_EXIT_USAGE = 2,      /* bad command line */
    KZ_EXIT_NOTRUNNING = 3  /* the command needs kizunad and it is not running */
};

typedef struct kz_cli_cmd kz_cli_cmd;

typedef struct {
    const char *data;       /* --data DIR or $KIZUNA_DATA; NULL when neither */
    const kz_cli_cmd *cmd;  /* the command being run */
} kz_cli;

/* A command's handler gets the arguments after the command name and
 * returns the process exit code. */
typedef int (*kz_cli_fn)(kz_cli *cli, int argc, char **argv);

struct kz_cli_cmd {
    const char *name;       /* "member add" */
    const char *usage;      /* arguments after the name */
    const char *summary;    /* one line */
    const char *help;       /* details: options, output (may be NULL) */
    int min_args, max_args; /* positional arguments (max -1 = unbounded) */
    kz_cli_fn fn;
};

/* Options of one command. name is "--room"; has_arg says it takes a value.
 * After kz_cli_parse, set and value tell what was given. */
typedef struct {
    const char *name;
    bool has_arg;
    bool set;
    const char *value;
} kz_cli_opt;

/* Parse argv: options (also "--opt=value") anywhere, "--" ends them,
 * "--help" prints the command's help and exits 0. Positionals go to pos
 * (room for max_args, or argc). Returns 0 or KZ_EXIT_USAGE after printing
 * the problem and the usage line. */
int kz_cli_parse(kz_cli *cli, int argc, char **argv, kz_cli_opt *opts, size_t nopts, char **pos,
                 int *npos);
/* Value of an option by name (NULL when not given). */
const char *kz_cli_optval(const kz_cli_opt *opts, size_t nopts, const char *name);
bool kz_cli_optset(const kz_cli_opt *opts, size_t nopts, const char *name);

/* "kizuna: <msg>" on stderr, then "usage: ..." ; returns KZ_EXIT_USAGE. */
int kz_cli_usage_error(kz_cli *cli, const char *fmt, ...) KZ_PRINTF(2, 3);
/* "kizuna: <msg>" on stderr; returns KZ_EXIT_ERROR. */
int kz_cli_error(const char *fmt, ...) KZ_PRINTF(1, 2);
/* Print the full help of a command to f. */
void kz_cli_cmd_help(const kz_cli_cmd *cmd, FILE *f);

/* The data directory, or a usage error (returns NULL after printing). */
const char *kz_cli_data(kz_cli *cli);
/* Send one request to the node; on success *result is a new reference and
 * 0 is returned; otherwise the error is printed and the exit code returned
 * (KZ_EXIT_NOTRUNNING when kizunad is not running). */
int kz_cli_call(kz_cli *cli, const char *cmd, json_t *args, json_t **result);
/* o[key] as a string ("" when absent or not a string; valid while o is). */
const char *kz_cli_jstr(json_t *o, const char *key);
/* o[key] as an integer (0 when absent or not an integer). */
long long kz_cli_jint(json_t *o, const char *key);
/* Print JSON (indented) on stdout. Returns 0 or KZ_EXIT_ERROR. */
int kz_cli_print_json(json_t *j);

/* The two shapes of "ask the node, print the answer". Both take over args
 * (one reference, released whether the call succeeds or not; NULL sends no
 * arguments) and return 0 or the exit code kz_cli_call returned after
 * printing the error; stdout gets nothing on failure. */

/* For commands that create something: print the string member key of the
 * reply (its new id) alone on a line; an empty line if the reply lacks it. */
int kz_cli_call_print_id(kz_cli *cli, const char *cmd, json_t *args, const char *key);

/* Prints the human form of v (valid only during the call). */
typedef void (*kz_cli_text_fn)(json_t *v, const void *ctx);

/* How a command shows a reply. */
typedef struct {
    /* NULL: the reply is one thing, and text prints it whole. Otherwise the
     * reply must hold an array under this name (else "the node sent an
     * unexpected reply", KZ_EXIT_ERROR); only the array is shown, text
     * prints each element, and empty (when not NULL) is the line printed
     * for an empty array. */
    const char *list;
    const char *empty;
    kz_cli_text_fn text;
    const void *ctx;        /* passed to text */
} kz_cli_view;

/* For commands that show something: with json, print the reply (or its
 * list) as indented JSON (KZ_EXIT_ERROR if stdout fails), otherwise as view
 * says. view is only read during the call. */
int kz_cli_call_print(kz_cli *cli, const char *cmd, json_t *args, bool json,
                      const kz_cli_view *view);

/* Argument checks: each prints a usage error and returns KZ_EXIT_USAGE, or 0. */
int kz_cli_check_id(kz_cli *cli, const char *what, const char *s);
int kz_cli_check_year(kz_cli *cli, const char *what, const char *s, int *out);
int kz_cli_check_text(kz_cli *cli, const char *what, const char *s, size_t max, bool multiline);

/* Read a whole file of at most max bytes (max + 1 are read so that "too
 * large" can be told apart). *buf is malloc'd. Prints errors. */
int kz_cli_read_file(const char *path, size_t max_plus_one, uint8_t **buf, size_t *len);

/* Command handlers (cmd_*.c). */
int kz_cmd_federation_create(kz_cli *cli, int argc, char **argv);
int kz_cmd_init(kz_cli *cli, int argc, char **argv);
int kz_cmd_id(kz_cli *cli, int argc, char **argv);
int kz_cmd_status(kz_cli *cli, int argc, char **argv);
int kz_cmd_backup(kz_cli *cli, int argc, char **argv);
int kz_cmd_member_add(kz_cli *cli, int argc, char **argv);
int kz_cmd_member_list(kz_cli *cli, int argc, char **argv);
int kz_cmd_member_revoke(kz_cli *cli, int argc, char **argv);
int kz_cmd_member_import(kz_cli *cli, int argc, char **argv);   /* cmd_import.c */
int kz_cmd_member_rotate(kz_cli *cli, int argc, char **argv);   /* cmd_rotate.c */
int kz_cmd_member_history(kz_cli *cli, int argc, char **argv);
int kz_cmd_profile_set(kz_cli *cli, int argc, char **argv);
int kz_cmd_profile_show(kz_cli *cli, int argc, char **argv);
int kz_cmd_search(kz_cli *cli, int argc, char **argv);
int kz_cmd_search_reindex(kz_cli *cli, int argc, char **argv);
int kz_cmd_post(kz_cli *cli, int argc, char **argv);
int kz_cmd_record_export(kz_cli *cli, int argc, char **argv);
int kz_cmd_record_import(kz_cli *cli, int argc, char **argv);
int kz_cmd_record_show(kz_cli *cli, int argc, char **argv);
int kz_cmd_peer_add(kz_cli *cli, int argc, char **argv);
int kz_cmd_peer_list(kz_cli *cli, int argc, char **argv);
int kz_cmd_peer_remove(kz_cli *cli, int argc, char **argv);
int kz_cmd_peer_block(kz_cli *cli, int argc, char **argv);
int kz_cmd_peer_unblock(kz_cli *cli, int argc, char **argv);
int kz_cmd_sync_status(kz_cli *cli, int argc, char **argv);
int kz_cmd_event_create(kz_cli *cli, int argc, char **argv);   /* cmd_events.c */
int kz_cmd_event_list(kz_cli *cli, int argc, char **argv);
int kz_cmd_event_show(kz_cli *cli, int argc, char **argv);
int kz_cmd_rsvp(kz_cli *cli, int argc, char **argv);
int kz_cmd_contact_send(kz_cli *cli, int argc, char **argv);   /* cmd_contact.c */
int kz_cmd_contact_inbox(kz_cli *cli, int argc, char **argv);
int kz_cmd_contact_accept(kz_cli *cli, int argc, char **argv);
int kz_cmd_contact_ignore(kz_cli *cli, int argc, char **argv);
int kz_cmd_inbox(kz_cli *cli, int argc, char **argv);
int kz_cmd_metrics(kz_cli *cli, int argc, char **argv);
int kz_cmd_reply(kz_cli *cli, int argc, char **argv);          /* cmd_talk.c (also post) */
int kz_cmd_react(kz_cli *cli, int argc, char **argv);
int kz_cmd_vote(kz_cli *cli, int argc, char **argv);
int kz_cmd_report(kz_cli *cli, int argc, char **argv);
int kz_cmd_report_list(kz_cli *cli, int argc, char **argv);
int kz_cmd_delete(kz_cli *cli, int argc, char **argv);
int kz_cmd_moderate_delete(kz_cli *cli, int argc, char **argv);
int kz_cmd_room_create(kz_cli *cli, int argc, char **argv);
int kz_cmd_room_list(kz_cli *cli, int argc, char **argv);
int kz_cmd_feed(kz_cli *cli, int argc, char **argv);
int kz_cmd_thread(kz_cli *cli, int argc, char **argv);
int kz_cmd_relay_show(kz_cli *cli, int argc, char **argv);
int kz_cmd_poll_show(kz_cli *cli, int argc, char **argv);

#endif
