/* main.c: kizuna, the operator CLI: global options, the command table that
 * drives dispatch, `kizuna help` and docs/cli.md (`kizuna help --markdown`). */
#include "cli.h"

#include <signal.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

static int kz_cmd_help(kz_cli *cli, int argc, char **argv);

/* The one table of commands. Names with a space are sub-commands. Keep the
 * help texts valid Markdown: they are printed as-is into docs/cli.md. */
static const kz_cli_cmd kz_cmds[] = {
    {"federation create", "--out FILE", "Make a new 32-byte federation key.",
     "Writes the key to FILE (mode 0600) and prints FILE. Refuses to overwrite an existing "
     "file. Every node of a federation needs a copy of this key (pass it on out of band, "
     "e.g. on a USB stick or an encrypted channel); without it a node cannot talk to the "
     "others.\n",
     0, 0, kz_cmd_federation_create},
    {"init", "--data DIR --name NAME --federation-key FILE [--listen HOST:PORT] [--http HOST:PORT]",
     "Create a new node's data directory and print the new node id.",
     "Creates DIR (mode 0700; an existing empty directory is fine, one that holds a node is "
     "refused) with `kizuna.conf`, `node.key`, `storage.key`, a copy of the federation key "
     "as `federation.key`, and the store `data.mdb` holding the node's own signed `node` "
     "record. Works without a running node.\n\n"
     "- `--name NAME`: the company's display name (1-128 bytes of UTF-8).\n"
     "- `--federation-key FILE`: a key made by `kizuna federation create` (mode 0600).\n"
     "- `--listen HOST:PORT`: gossip address, default `0.0.0.0:7420`.\n"
     "- `--http HOST:PORT`: HTTP address, default `127.0.0.1:7480`.\n",
     0, 0, kz_cmd_init},
    {"id", "", "Print the node id and the peer string to give to other operators.",
     "Line 1 is the node id (64 hex digits). Line 2 is `HOST:PORT NODE_ID`, which another "
     "operator pastes after `kizuna peer add`. HOST:PORT is `advertise` from `[node]` in "
     "`kizuna.conf` if set, else `listen` with 0.0.0.0 replaced by this machine's hostname. "
     "Works without a running node.\n",
     0, 0, kz_cmd_id},
    {"status", "[--json]", "Show the running node's state.",
     "Node id, name, version, uptime, addresses, record counts by type, members, tombstones, "
     "store size and peers.\n",
     0, 0, kz_cmd_status},
    {"peer add", "HOST:PORT NODE_ID", "Add a peer node (or change its address) and dial it.",
     "HOST:PORT and NODE_ID are the two parts of the line `kizuna id` prints on the other "
     "node. The peer is kept in the store and dialled again after restarts; failed links "
     "are retried with exponential backoff (1 s doubling to 5 min, with jitter). The link is "
     "refused unless the other node holds the same federation key and really is NODE_ID. "
     "Prints NODE_ID.\n",
     2, 2, kz_cmd_peer_add},
    {"peer list", "[--json]", "List known peers: state, address, last contact, traffic.",
     "State is `connected`, `connecting`, `backoff` (waiting before the next attempt), "
     "`blocked`, or `idle` (a node that dialled in and is gone). Counters are records and "
     "wire bytes received and sent, all time. With `--json`, an array of objects with "
     "`node_id`, `name`, `address`, `state`, `listed`, `added`, `last_contact`, "
     "`records_in`, `records_out`, `bytes_in`, `bytes_out` and, when linked, `remote`, "
     "`direction`, `connected_since`; `next_attempt` and `last_error` when known.\n",
     0, 0, kz_cmd_peer_list},
    {"peer remove", "NODE_ID", "Forget a peer and close its link.",
     "The node stops dialling it; it may still dial in unless `peering = listed` or it is "
     "blocked. Prints NODE_ID.\n",
     1, 1, kz_cmd_peer_remove},
    {"peer block", "NODE_ID", "Block (defederate) a node.",
     "Closes any link to it, refuses links either way, and stops accepting, showing and "
     "relaying records of that node and of members attested only by it. Stored records are "
     "kept, so `peer unblock` restores them without a resync. Prints NODE_ID.\n",
     1, 1, kz_cmd_peer_block},
    {"peer unblock", "NODE_ID", "Lift a block; a listed peer is dialled again at once.", NULL,
     1, 1, kz_cmd_peer_unblock},
    {"sync status", "[--json]", "Per peer: link state, last reconciliation, differences, traffic.",
     "First line: records received, sent and rejected by this node since it started, "
     "records waiting in the holding area for their author's attestation, and the size of "
     "the reconciliation index. Then one entry per peer: state, time of the last completed "
     "reconciliation and the differences it found, records and bytes each way. With "
     "`--json`, an object with `running`, `records_in`, `records_out`, `records_rejected`, "
     "`held_records`, `index_items` and `peers` (objects with `node_id`, `name`, `state`, "
     "`connected`, `last_sync`, `differences`, `syncs`, `running`, `records_in`, "
     "`records_out`, `bytes_in`, `bytes_out`).\n",
     0, 0, kz_cmd_sync_status},
    {"member add",
     "--name N --reading R [--romaji X] [--role alumni|employee|secretariat] [--joined YEAR] "
     "[--left YEAR] [--department D]",
     "Add a member held by this node and print the member id.",
     "The node makes the member's key pair, keeps the secret key encrypted under "
     "`storage.key`, signs a membership attestation (role, tenure, department) with the node "
     "key and a first profile (name, reading, romaji, department, years) with the member "
     "key.\n\n"
     "- `--name N`: full name, e.g. `鈴木 一郎`.\n"
     "- `--reading R`: the name's reading (yomigana), e.g. `すずき いちろう`.\n"
     "- `--romaji X`: romanised name, e.g. `Suzuki Ichiro`.\n"
     "- `--role`: `alumni` (default), `employee` or `secretariat`.\n"
     "- `--joined YEAR`, `--left YEAR`: tenure, years 1900-2200, joined <= left.\n"
     "- `--department D`: department at the company.\n",
     0, 0, kz_cmd_member_add},
    {"member list", "[--json]", "List the members this node holds.",
     "One line per member: member id, status (`live`, `revoked`, or `pending` when an add "
     "was interrupted before its attestation was stored), role, years, name and reading. "
     "With `--json`, an array of objects with `member_id`, `name`, `reading`, `romaji`, "
     "`role`, `joined`, `left`, `department`, `status`, `added`, `holds_key`.\n",
     0, 0, kz_cmd_member_list},
    {"member revoke", "MEMBER_ID [--reason TEXT]",
     "Withdraw a member's attestation and print the revoke record id.",
     "Signs a `revoke` record with the node key; other nodes then stop accepting and showing "
     "the member's records. The local entry is marked revoked.\n",
     1, 1, kz_cmd_member_revoke},
    {"member import", "FILE.csv [--encoding auto|utf-8|cp932] [--dry-run] [--json]",
     "Create or update members from the HR system's CSV export, all or nothing.",
     "The first row names the columns, in English or Japanese (any order; ASCII names in "
     "any case):\n\n"
     "| column | also | |\n|---|---|---|\n"
     "| `employee_no` | `社員番号` | required: the stable HR key that makes re-imports idempotent |\n"
     "| `name` | `氏名` | required, up to 128 bytes |\n"
     "| `reading` | `よみがな`, `ふりがな`, `フリガナ`, `ヨミガナ` | required: hiragana or katakana "
     "(half-width too; Latin letters for foreign names) |\n"
     "| `romaji` | `ローマ字` | Latin letters |\n"
     "| `role` | `区分` | `alumni` (`退職者`, `OB`, `OG`; the default), `employee` (`社員`, "
     "`従業員`) or `secretariat` (`事務局`) |\n"
     "| `joined`, `left` | `入社年`, `退職年` | years 1900-2200 (`2001`, `２００１`, `2001年`), "
     "left >= joined |\n"
     "| `department` | `部署` | up to 128 bytes |\n\n"
     "Any other column is an error (e.g. `email`: not stored). The file is UTF-8 with or "
     "without a byte order mark, or CP932 (Shift_JIS, what Excel in Japan saves); "
     "`--encoding auto` (the default) tells them apart and refuses anything else. Quoted "
     "fields may hold commas, doubled quotes and line breaks; lines end in CRLF or LF. "
     "Limits: 64 MiB, 200000 rows, 4096 bytes per field, 64 fields per row.\n\n"
     "Every row is checked first, here and again on the node. If any row is bad (a "
     "required cell missing, a bad year, left before joined, a value too long, an unknown "
     "role, reading not in kana, an employee number used twice), each bad row is reported "
     "on stderr as `FILE line N: reason` (N is the line the row starts on), the exit code "
     "is 1 and nothing is imported. Otherwise the node writes everything in one "
     "transaction: a new employee number becomes a new member (key, attestation, first "
     "profile, as `member add`); a known one whose attestation and profile already say what "
     "the row says is left alone (so re-importing a file changes nothing); a changed one "
     "gets a new attestation and/or profile. Empty optional cells keep what is stored; other "
     "profile fields are the member's own and never touched. Rows of revoked members are "
     "skipped. Prints `created N, updated M, unchanged K, skipped S`; `--dry-run` checks "
     "everything on the node too but writes nothing; `--json` prints the counts and one "
     "result per row (`line`, `employee_no`, `result`, `member_id`, `changes`, `note`).\n",
     1, 1, kz_cmd_member_import},
    {"member rotate", "MEMBER_ID", "Move a member to a new key and print the new member id.",
     "For a member whose key this node holds. The old key signs a hand-over naming the new "
     "key and this node; the node attests the new key with the old key and the hand-over "
     "(role, tenure and department unchanged), revokes the old key, copies the profile to "
     "the new key and moves the local entry (HR key and re-hire flag included), all in one "
     "transaction. The old key's records stay the member's: `member history` and other nodes "
     "follow the hand-over. The old key is kept, encrypted, so that the member can still "
     "delete what they posted with it.\n",
     1, 1, kz_cmd_member_rotate},
    {"member history", "MEMBER_ID [--limit N] [--json]",
     "List a member's records under every key they have used, newest first.",
     "Follows key rotations both ways from MEMBER_ID (any of the member's keys). `--limit` "
     "(1-1000, default 100) bounds the list. With `--json`, an object with `member_id` (the "
     "current key), `keys` (newest first) and `records` (`id`, `type`, `author`, `created`, "
     "`created_ms`).\n",
     1, 1, kz_cmd_member_history},
    {"profile set", "MEMBER_ID FIELD=VALUE...",
     "Change fields of a member's profile and print the new profile record id.",
     "Fields: `name`, `reading`, `romaji`, `department`, `title`, `joined`, `left`, "
     "`current_company`, `current_title`, `location`, `skills` (comma-separated), `bio`, "
     "`links` (comma-separated https://, http:// or mailto: links), `open_to` "
     "(comma-separated: `reconnect`, `business`, `mentoring`, `rehire`), `visibility` "
     "(`federation`, `company` or `hidden`). An empty value clears a field (`title=`); "
     "`name` cannot be cleared. `rehire` is private: it is kept only in this node's member "
     "table and never signed into the replicated profile. Only members held by this node "
     "can be changed.\n",
     2, -1, kz_cmd_profile_set},
    {"profile show", "MEMBER_ID [--as VIEWER_ID] [--json]",
     "Show the current profile of any member in the store.",
     "Prints the profile fields (same names as `profile set`), the member id, the home "
     "company and node from the live attestation, role and tenure from the attestation "
     "(`role`, `tenure_joined`, `tenure_left`), `status`, and when the profile was last "
     "updated. `open_to` includes `rehire` only for members of this node. A member who "
     "moved to a new key shows `successor` and `keys`.\n\n"
     "- `--as VIEWER_ID`: show what that member would see (a member can check their own "
     "profile as others see it). `access` says `visible`, `company-only` (visibility "
     "`company` and the viewer's home node differs) or `hidden` (visibility `hidden`, a "
     "member without a live attestation, or a viewer without one); withheld profiles show "
     "only whose they are. `rehire` shows only to the member themself (and, without "
     "`--as`, to the home node's operator).\n",
     1, 1, kz_cmd_profile_show},
    {"search",
     "QUERY [--company C] [--current-company C] [--skill S] [--location L] [--left-from YEAR] "
     "[--left-to YEAR] [--open-to X] [--as MEMBER_ID] [--same-current-company-as MEMBER_ID] "
     "[--former-colleagues-of MEMBER_ID] [--limit N] [--cursor C] [--json]",
     "Search the directory of the whole federation.",
     "QUERY's words must all match (name, reading, romaji, home and current company, title, "
     "department, location, skills, bio). Japanese is matched by substring (`住友` finds "
     "`住友商事`), other words by prefix (`eng` finds `Engineer`); hiragana, katakana and "
     "half-width forms are equal, and a reading or romaji finds the name (`すずき`, `スズキ`, "
     "`suzuki` all find `鈴木`). QUERY may be `\"\"` when a filter is given. Hits are ranked "
     "name and reading matches first, then company, then title, department, skills and "
     "location, then bio; ties newest profile first.\n\n"
     "- `--company C`: home company (the attesting node), by name words or node id.\n"
     "- `--current-company C`, `--skill S`, `--location L`: these words in that field.\n"
     "- `--left-from YEAR`, `--left-to YEAR`: left the home company in that range.\n"
     "- `--open-to X`: comma-separated `reconnect`, `business`, `mentoring`; `rehire` only "
     "in the node's own secretariat view (no `--as`).\n"
     "- `--as MEMBER_ID`: search as that member sees the directory (profiles scoped to a "
     "company show only to members of that company). Without it the node's secretariat "
     "view is used: this node's company-only profiles, and re-hire interest of this node's "
     "own members only.\n"
     "- `--same-current-company-as MEMBER_ID`: members who now work where MEMBER_ID does.\n"
     "- `--former-colleagues-of MEMBER_ID`: same home company and department, with "
     "overlapping years.\n"
     "- `--limit N`: hits per page, 1-100 (default 20); `--cursor C`: the next page, as "
     "printed after the hits.\n\n"
     "One line per hit: `name (reading) — title @ current company — home company — member "
     "id`, then `next page: --cursor C` when there is more. With `--json`, an object with "
     "`hits` (objects with `member_id`, `name`, `reading`, `romaji`, `home_company`, "
     "`home_node`, `current_company`, `current_title`, `location`, `matched` (the fields "
     "that matched), `updated`, `score`, and `rehire` in the secretariat view of this "
     "node's members), `next_cursor` (null on the last page) and `truncated` (the search "
     "reached its work limit; narrow it).\n\n"
     "`kizuna search reindex` is a command of its own; to search for the word `reindex`, "
     "write `kizuna search -- reindex`.\n",
     0, 1, kz_cmd_search},
    {"search reindex", "[--json] [--no-wait | --status]",
     "Rebuild the search index from the stored profiles.",
     "Drops the directory search index and builds it again from the stored profiles, "
     "attestations and node names, waits until it is done, then prints how many profiles "
     "are indexed and how long it took, with the counts from before. The index follows "
     "every change by itself; run this only when search results look wrong (see "
     "docs/operators.md). The node keeps serving peers and other commands meanwhile: it "
     "rebuilds 128 profiles per step between other work (about 3,000 profiles a second "
     "were measured on a small machine, so minutes for a million), and searches made "
     "meanwhile miss the profiles not yet reindexed. If the rebuild fails or kizunad stops "
     "half-way, the next start of kizunad rebuilds the index. If a rebuild is already "
     "running, this waits for that one.\n\n"
     "`--no-wait` starts the rebuild and returns at once; `--status` only reports the "
     "last or running rebuild. Progress goes to standard error when it is a terminal.\n\n"
     "One line: `search index rebuilt: N profiles (P postings) in S s; before: N0 profiles "
     "(P0 postings)`. Hidden profiles and members without a live attestation are not "
     "indexed. With `--json`, the status object: `state` (`idle`, `running`, `done` or "
     "`failed`), `scanned` (profiles read so far, hidden ones included), `profiles_before`, `postings_before`, `elapsed_ms`, "
     "`started_ms`, and when done `profiles`, `postings` and `finished_ms`, when failed "
     "`error`; `--no-wait` adds `started` (false when a rebuild was already running). A "
     "failed rebuild exits 1.\n",
     0, 0, kz_cmd_search_reindex},
    {"post",
     "MEMBER_ID --room ROOM [--kind KIND] [--nominate MEMBER_ID] [--option TEXT]... "
     "[--event EVENT_ID] TEXT | "
     "post MEMBER_ID --edit POST_ID [--close] [TEXT]",
     "Post in a talk room (or edit or close a post) as a member of this node; print its id.",
     "- `--room ROOM`: `lounge` (everyone in the federation), `company:NODE_ID` (that "
     "company's members and employees only) or a topic room made with `room create`.\n"
     "- `--kind`: `text` (default), `intro` (self-introduction), `request` (ask for help), "
     "`promo` (promote your business), `article` (secretariat only) or `poll`.\n"
     "- `--nominate MEMBER_ID`: with `--kind intro`, the member you invite to introduce "
     "themself next.\n"
     "- `--option TEXT`: with `--kind poll`, one option; give it 2 to 10 times.\n"
     "- `--event EVENT_ID`: an event report: the post links to that event (see `event "
     "show`).\n"
     "- `--edit POST_ID`: sign a new version of your post (the latest version shows; room, "
     "kind, nomination and options stay). `--close` with `--edit` marks a request resolved or "
     "closes a poll (TEXT may then be left out).\n"
     "- TEXT: up to 8000 bytes, newlines allowed; `-` reads it from standard input.\n",
     1, 2, kz_cmd_post},
    {"reply", "MEMBER_ID POST_ID TEXT", "Reply to a post as a member and print the reply id.",
     "Replies are one level deep, under an original post in a room the member may see. "
     "Replies to deleted posts are refused. TEXT as for `post`.\n",
     3, 3, kz_cmd_reply},
    {"react", "MEMBER_ID TARGET_ID KIND [--off]", "React to a post or reply; print the id.",
     "KIND: `like`, `thanks`, `celebrate`, `insightful`, `support` or `funny`. One reaction "
     "per member and target: a new one replaces the previous; `--off` withdraws it.\n",
     3, 3, kz_cmd_react},
    {"vote", "MEMBER_ID POLL_ID OPTION_INDEX", "Vote in a poll and print the vote id.",
     "OPTION_INDEX counts from 0 (see `poll show`). One vote per member: voting again "
     "replaces the previous vote on every node. Closed polls refuse votes.\n",
     3, 3, kz_cmd_vote},
    {"report", "MEMBER_ID TARGET_ID REASON", "Flag a record to its author's home secretariat.",
     "The target id and REASON (up to 500 bytes) are sealed to the home node of the "
     "target's author (`crypto_box_seal`); other nodes relay only ciphertext and see who "
     "reported to which node, not what. The home node reads it with `report list`.\n",
     3, 3, kz_cmd_report},
    {"report list", "[--json]", "Reports addressed to this node, decrypted.",
     "With `--json`, objects with `report_id`, `from`, `created_ms`, `target`, `reason` and "
     "`target_deleted` (or `unreadable`).\n",
     0, 0, kz_cmd_report_list},
    {"delete", "MEMBER_ID RECORD_ID [--reason R]", "Delete one of a member's own records.",
     "Signs a tombstone with the member's key: the record is purged on every node and its "
     "id never accepted again. Prints the delete record id.\n",
     2, 2, kz_cmd_delete},
    {"moderate delete", "RECORD_ID [--reason R]",
     "Delete a record of one of this node's members (moderation).",
     "Signs a tombstone with the node key; every node accepts it because this node attests "
     "the author. Records of other companies' members are refused: report them instead.\n",
     1, 1, kz_cmd_moderate_delete},
    {"room create", "MEMBER_ID NAME [--title T] [--description D] [--scope federation|company]",
     "Create (or update) a topic room; print the room record id.",
     "MEMBER_ID must be a secretariat member of this node; the room is signed with the node "
     "key. NAME: 1 to 64 characters of `a-z`, `0-9`, `_`, `-`. `--scope company` limits the "
     "room to this company's members.\n",
     2, 2, kz_cmd_room_create},
    {"room list", "[--json]", "List the rooms this node shows.",
     "The lounge, this company's room and the topic rooms visible here: `name`, `title`, "
     "`scope` (and `room_id`, `created_by` for topic rooms).\n",
     0, 0, kz_cmd_room_list},
    {"feed",
     "[--room ROOM] [--member MEMBER_ID] [--requests] [--as MEMBER_ID] [--limit N] "
     "[--cursor C] [--json]",
     "Posts newest first, paged.",
     "Without `--room`, every room the viewer may see. `--member`: one member's posts. "
     "`--requests`: open requests only. `--as`: the view of that member (company rooms of "
     "their home company only); default: this node's company. `--limit` 1..200 (default "
     "20); `--cursor` continues from `next_cursor` of the previous page. With `--json`, "
     "`items` (each: `id`, `kind`, `author` {`id`, `name`, `company`, `company_node`}, "
     "`room`, `text` (latest edit), `created`, `created_ms`, `edited`, `replies`, "
     "`reactions` by kind, and `state` for requests, `options`/`votes`/`closed` for polls, "
     "`nominate` for intros) and `next_cursor`.\n",
     0, 0, kz_cmd_feed},
    {"thread", "POST_ID [--as MEMBER_ID] [--json]", "A post and its replies, oldest first.",
     "The post as in `feed`, with `thread`: replies with `id`, `author`, `text` (latest "
     "edit), `created`, `reactions`.\n",
     1, 1, kz_cmd_thread},
    {"relay show", "[--room ROOM] [--json]", "The relay self-introduction chain.",
     "Intro posts of the room (default `lounge`) oldest first: who introduced themself and "
     "whom they nominated; `next` lists nominees who have not posted their intro yet.\n",
     0, 0, kz_cmd_relay_show},
    {"poll show", "POLL_ID [--json]", "A poll with its tallies.",
     "One vote per member (the latest), counted from the votes this node holds; votes made "
     "after the poll was closed do not count.\n",
     1, 1, kz_cmd_poll_show},
    {"record export", "ID --out FILE", "Write a record's raw signed bytes to FILE.",
     "Refuses to overwrite FILE. The file can be given to another node's operator for "
     "`kizuna record import`.\n",
     1, 1, kz_cmd_record_export},
    {"record import", "FILE", "Verify and store a record file; print its id.",
     "The node decodes the file strictly, checks the signature and the creation time, and "
     "stores the record under the normal acceptance rules. Garbage, truncated, tampered, "
     "oversized (over 16384 bytes), future-dated, duplicate or superseded records and "
     "records whose author has no attestation here are refused with the reason; the store "
     "is unchanged.\n",
     1, 1, kz_cmd_record_import},
    {"record show", "ID [--json]", "Show a stored record, decoded, with its signature checked.",
     "Prints type, author, creation time (ISO 8601, UTC), id, signature status and the body "
     "fields.\n",
     1, 1, kz_cmd_record_show},
    {"backup", "OUT_DIR", "Write a consistent, compacted copy of the store into OUT_DIR.",
     "OUT_DIR is created (mode 0700) if missing and must not already hold a `data.mdb`. "
     "Safe while the node runs. The backup deliberately omits the secret key files "
     "(`node.key`, `storage.key`, `federation.key`): keep copies of those, and of "
     "`kizuna.conf`, somewhere safe and separate. To restore, put `data.mdb` and those "
     "files into a new directory (mode 0700) and run `kizunad --data` on it.\n",
     1, 1, kz_cmd_backup},
    {"event create",
     "MEMBER_ID --room ROOM --title T --start \"YYYY-MM-DD HH:MM\" [--end \"YYYY-MM-DD HH:MM\"] "
     "[--tz ZONE] [--place P] [--link URL] [--capacity N] [--description D]",
     "Announce an event as a member of this node and print the event id.",
     "The secretariat (role `secretariat` in the member's attestation) may create events in "
     "any room; other members only in the `lounge`. Times are wall-clock times in `--tz`, an "
     "IANA zone name (default `Asia/Tokyo`); the start must be in the future and the end "
     "after the start. `--capacity N` limits confirmed seats (0 or absent: unlimited); "
     "beyond it, going answers are waitlisted in the order they were made (see "
     "docs/talk.md).\n",
     1, 1, kz_cmd_event_create},
    {"event list", "[--room ROOM] [--json]", "List events with their RSVP counts.",
     "One line per event: id, start in the event's zone, room, title, confirmed seats out of "
     "the capacity, waitlist and maybe counts. With `--json`, an array of objects with "
     "`event_id`, `organiser`, `room`, `title`, `start`, `start_utc`, `start_ms`, `end`, "
     "`tz`, `place`, `link`, `description`, `capacity`, `going`, `confirmed`, `waitlisted`, "
     "`maybe`, `not_going`.\n",
     0, 0, kz_cmd_event_list},
    {"event show", "EVENT_ID [--as ORGANISER_MEMBER_ID] [--json]",
     "Show an event with its counts; the attendee list for its organiser.",
     "Everyone sees the counts. `--as` with the organiser's member id, on the organiser's "
     "home node, adds `attendees`: each member's answer and place (`confirmed`, "
     "`waitlisted`, `maybe`, `no`, `late`). Every node computes the same places from the "
     "replicated RSVPs.\n",
     1, 1, kz_cmd_event_show},
    {"rsvp", "MEMBER_ID EVENT_ID going|maybe|no", "Answer an event and print the RSVP id.",
     "A new answer replaces the member's previous one. Answers are closed once the event "
     "starts (refused here and by every other node). Answering `going` again after another "
     "answer puts the member at the back of the queue for seats.\n",
     3, 3, kz_cmd_rsvp},
    {"contact send", "MEMBER_ID TO_MEMBER_ID MESSAGE",
     "Send a private contact request and print its id.",
     "The message (up to 2000 bytes) is sealed to the recipient's key with `crypto_box_seal`: "
     "other nodes store and relay only ciphertext. The recipient must have a live "
     "attestation in this node's store.\n",
     3, 3, kz_cmd_contact_send},
    {"contact inbox", "MEMBER_ID [--json]", "Contact requests and answers to a member of this node.",
     "Opens each message with the member's key. Requests show their state: `new`, `accepted` "
     "or `ignored`. With `--json`, an array of objects with `contact_id`, `from`, "
     "`from_name`, `received`, `kind` (`request` or `accept`), `message`, `reveal`, `ref` and "
     "`state`.\n",
     1, 1, kz_cmd_contact_inbox},
    {"contact accept", "MEMBER_ID CONTACT_ID [--reveal TEXT] [--message TEXT]",
     "Accept a contact request and print the id of the answer.",
     "Sends an answer sealed to the requester, optionally revealing contact details "
     "(`--reveal \"email: ...\"`, up to 1000 bytes), and marks the request accepted.\n",
     2, 2, kz_cmd_contact_accept},
    {"contact ignore", "MEMBER_ID CONTACT_ID", "Mark a contact request as ignored.",
     "Nothing is sent: the mark is kept on this node only.\n",
     2, 2, kz_cmd_contact_ignore},
    {"inbox", "MEMBER_ID [--since DATE] [--json]", "Notifications for a member of this node.",
     "Nominations for the relay, replies and reactions to the member's posts and replies, "
     "contact requests and answers, and reminders of events the member is going to that "
     "start within 48 hours. `--since` takes `YYYY-MM-DD` (UTC) or `YYYY-MM-DDTHH:MM:SSZ`. "
     "With `--json`, an object with `member_id`, `counts` (per kind) and `items` (objects "
     "with `kind`, `id`, `from`, `from_name`, `time` and kind-specific fields).\n",
     1, 1, kz_cmd_inbox},
    {"metrics", "[--since DATE] [--json]", "Activity counts for the alumni office.",
     "Members registered (live attestations) and active (authored anything in the window), "
     "share who posted, posts per two weeks, relay progress, requests with replies per "
     "request and the median time to the first reply, replies, reactions, event RSVPs and "
     "confirmed seats, and cross-company replies and contacts. Counts only. `--since` as for "
     "`inbox`; default: everything.\n",
     0, 0, kz_cmd_metrics},
    {"help", "[COMMAND]", "Show the list of commands, or one command's help.", NULL, 0, -1,
     kz_cmd_help},
};

/* Commands that run without a data directory. */
static bool kz_cmd_no_data(const kz_cli_cmd *c)
{
    return strcmp(c->name, "federation create") == 0 || strcmp(c->name, "help") == 0 ||
           strcmp(c->name, "init") == 0;
}

static void kz_print_overview(FILE *f)
{
    fprintf(f, "usage: kizuna [--data DIR] COMMAND [ARGS...]\n\n"
               "Operator CLI for a kizuna node. DIR defaults to $KIZUNA_DATA.\n\nCommands:\n");
    for (size_t i = 0; i < KZ_ARRAY_LEN(kz_cmds); i++)
        fprintf(f, "  %-18s %s\n", kz_cmds[i].name, kz_cmds[i].summary);
    fprintf(f, "\nRun 'kizuna COMMAND --help' for a command's options.\n"
               "Exit codes: 0 success, 1 error, 2 bad usage, 3 the node is not running.\n");
}

static void kz_print_markdown(void)
{
    printf("# kizuna CLI reference\n\n"
           "<!-- Generated by `kizuna help --markdown` from the command table in\n"
           "     tools/cli/main.c. Do not edit by hand: tests/integration/test_cli_docs.sh\n"
           "     fails when this file and the table disagree. -->\n\n"
           "`kizuna` is the operator's command line. Most commands talk to the running\n"
           "node (`kizunad --data DIR`) over the Unix socket `DIR/control.sock`; `federation\n"
           "create`, `init` and `id` work without it. The node checks every request again:\n"
           "the CLI's own checks only give faster, clearer errors.\n\n"
           "## Synopsis\n\n"
           "```\nkizuna [--data DIR] COMMAND [ARGS...]\n```\n\n"
           "- `--data DIR`: the node's data directory. Without it, `$KIZUNA_DATA` is used.\n"
           "- `--help`: the list of commands; `kizuna COMMAND --help` shows one command.\n"
           "- `--version`: print the version.\n\n"
           "Options may come before or after positional arguments; `--opt=value` also\n"
           "works, and `--` ends the options.\n\n"
           "## Output\n\n"
           "Commands that create a record or a member print its id (64 hex digits) alone on\n"
           "stdout, so scripts can capture it: `id=$(kizuna --data DIR post ...)`. Every\n"
           "listing command takes `--json` and then prints only JSON on stdout. Errors are\n"
           "one line on stderr starting with `kizuna: `.\n\n"
           "## Exit codes\n\n"
           "| code | meaning |\n|---|---|\n"
           "| 0 | success |\n"
           "| 1 | the command failed: refused by the node (with the reason), bad file, I/O error |\n"
           "| 2 | bad usage: unknown command or option, missing or malformed argument (the usage line is printed) |\n"
           "| 3 | the command needs the node and it is not running (no control socket) |\n\n"
           "## Commands\n");
    for (size_t i = 0; i < KZ_ARRAY_LEN(kz_cmds); i++) {
        const kz_cli_cmd *c = &kz_cmds[i];
        printf("\n### kizuna %s\n\n```\nkizuna %s%s%s%s\n```\n\n%s\n", c->name,
               kz_cmd_no_data(c) ? "" : "--data DIR ", c->name, c->usage[0] ? " " : "", c->usage,
               c->summary);
        if (c->help)
            printf("\n%s", c->help);
    }
}

static const kz_cli_cmd *kz_find(int argc, char **argv, int *used)
{
    if (argc >= 2) {
        for (size_t i = 0; i < KZ_ARRAY_LEN(kz_cmds); i++) {
            const char *sp = strchr(kz_cmds[i].name, ' ');
            if (sp && strlen(argv[0]) == (size_t)(sp - kz_cmds[i].name) &&
                strncmp(kz_cmds[i].name, argv[0], (size_t)(sp - kz_cmds[i].name)) == 0 &&
                strcmp(sp + 1, argv[1]) == 0) {
                *used = 2;
                return &kz_cmds[i];
            }
        }
    }
    for (size_t i = 0; i < KZ_ARRAY_LEN(kz_cmds); i++) {
        if (argc >= 1 && strcmp(kz_cmds[i].name, argv[0]) == 0) {
            *used = 1;
            return &kz_cmds[i];
        }
    }
    return NULL;
}

/* Is word the first half of some two-word command ("member")? */
static bool kz_is_group(const char *word)
{
    size_t n = strlen(word);
    for (size_t i = 0; i < KZ_ARRAY_LEN(kz_cmds); i++) {
        const char *sp = strchr(kz_cmds[i].name, ' ');
        if (sp && (size_t)(sp - kz_cmds[i].name) == n && strncmp(kz_cmds[i].name, word, n) == 0)
            return true;
    }
    return false;
}

static int kz_unknown(kz_cli *cli, int argc, char **argv)
{
    if (kz_is_group(argv[0])) {
        fprintf(stderr, "kizuna: unknown command '%s%s%s'; %s commands:\n", argv[0],
                argc > 1 ? " " : "", argc > 1 ? argv[1] : "", argv[0]);
        for (size_t i = 0; i < KZ_ARRAY_LEN(kz_cmds); i++) {
            const char *sp = strchr(kz_cmds[i].name, ' ');
            if (sp && strncmp(kz_cmds[i].name, argv[0], (size_t)(sp - kz_cmds[i].name)) == 0 &&
                strlen(argv[0]) == (size_t)(sp - kz_cmds[i].name))
                fprintf(stderr, "  kizuna %s %s\n", kz_cmds[i].name, kz_cmds[i].usage);
        }
        return KZ_EXIT_USAGE;
    }
    return kz_cli_usage_error(cli, "unknown command '%s'", argv[0]);
}

static int kz_cmd_help(kz_cli *cli, int argc, char **argv)
{
    if (argc == 1 && strcmp(argv[0], "--markdown") == 0) {
        kz_print_markdown();
        return KZ_EXIT_OK;
    }
    if (argc == 0) {
        kz_print_overview(stdout);
        return KZ_EXIT_OK;
    }
    int used = 0;
    const kz_cli_cmd *c = kz_find(argc, argv, &used);
    if (!c || used != argc)
        return kz_unknown(cli, argc, argv);
    kz_cli_cmd_help(c, stdout);
    return KZ_EXIT_OK;
}

int main(int argc, char **argv)
{
    kz_cli cli = {0};
    int i = 1;
    cli.data = getenv("KIZUNA_DATA");
    if (sodium_init() < 0) {
        fprintf(stderr, "kizuna: libsodium failed to initialise\n");
        return KZ_EXIT_ERROR;
    }
    signal(SIGPIPE, SIG_IGN);
    for (; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--data") == 0) {
            if (i + 1 >= argc)
                return kz_cli_usage_error(&cli, "--data needs a value");
            cli.data = argv[++i];
        } else if (strncmp(a, "--data=", 7) == 0) {
            cli.data = a + 7;
        } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            kz_print_overview(stdout);
            return KZ_EXIT_OK;
        } else if (strcmp(a, "--version") == 0) {
            printf("kizuna %s\n", KZ_VERSION);
            return KZ_EXIT_OK;
        } else if (a[0] == '-') {
            return kz_cli_usage_error(&cli, "unknown option '%s'", a);
        } else {
            break;
        }
    }
    if (i >= argc) {
        kz_print_overview(stderr);
        return KZ_EXIT_USAGE;
    }
    int used = 0;
    const kz_cli_cmd *c = kz_find(argc - i, argv + i, &used);
    if (!c)
        return kz_unknown(&cli, argc - i, argv + i);
    cli.cmd = c;
    int rc = c->fn(&cli, argc - i - used, argv + i + used);
    if (fflush(stdout) != 0 && rc == KZ_EXIT_OK)
        return kz_cli_error("cannot write to standard output");
    return rc;
}
