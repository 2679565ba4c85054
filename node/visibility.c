/* visibility.c: what a viewer may see of a member's profile on this node:
 * works out the viewer's relation to the member from the store and applies
 * the one rule of kz_visibility.h; the `profile show --as` filter. */
#include "member_internal.h"

#include <stdio.h>
#include <string.h>

#include "kz_visibility.h"

/* Is viewer one of the keys of member's rotation chain? */
static bool same_person(kz_node *n, const uint8_t member[KZ_KEY_BYTES],
                        const uint8_t viewer[KZ_KEY_BYTES])
{
    uint8_t keys[KZ_ROTATION_CHAIN_MAX][KZ_KEY_BYTES];
    size_t k = 0;
    if (memcmp(member, viewer, KZ_KEY_BYTES) == 0)
        return true;
    int rc = kz_store_member_chain(n->store, member, keys, KZ_ROTATION_CHAIN_MAX, &k);
    if (rc != 0 && rc != KZ_ETOOBIG)
        return false;
    for (size_t i = 0; i < k; i++)
        if (memcmp(keys[i], viewer, KZ_KEY_BYTES) == 0)
            return true;
    return false;
}

int kz_node_profile_visible(kz_node *n, const uint8_t member[KZ_KEY_BYTES],
                            const uint8_t *viewer, kz_profile_view *out)
{
    uint8_t mhome[KZ_KEY_BYTES], vhome[KZ_KEY_BYTES];
    kz_record like, prof;
    int rc = kz_store_member_home(n->store, member, mhome, NULL);
    if (rc != 0 && rc != KZ_ENOATTEST)
        return rc;
    bool live = rc == 0;

    int vis = KZ_VIS_FEDERATION;
    kz_record_init(&like, KZ_T_PROFILE, member, 0);
    rc = kz_node_slot_load(n, &like, &prof);
    if (rc == 0) {
        vis = prof.body.profile.visibility;
        kz_record_close(&prof);
    } else if (rc != KZ_ENOTFOUND) {
        return rc;
    }

    kz_viewer_rel rel;
    if (viewer && same_person(n, member, viewer)) {
        rel = KZ_VIEWER_SELF;
    } else if (!viewer) {
        /* The operator's view is the node's own secretariat view. */
        rel = live && memcmp(mhome, n->keys.node_pk, KZ_KEY_BYTES) == 0
                  ? KZ_VIEWER_HOME_SECRETARIAT
                  : KZ_VIEWER_OTHER;
    } else {
        /* A member viewing is never the secretariat view, whatever their
         * role: the re-hire flag stays with the node's operator (as in
         * search, docs/search.md). */
        rc = kz_store_member_home(n->store, viewer, vhome, NULL);
        if (rc == KZ_ENOATTEST)
            rel = KZ_VIEWER_STRANGER;
        else if (rc != 0)
            return rc;
        else if (!live || memcmp(vhome, mhome, KZ_KEY_BYTES) != 0)
            rel = KZ_VIEWER_OTHER;
        else
            rel = KZ_VIEWER_SAME_HOME;
    }
    *out = kz_profile_view_decide(vis, live, rel);
    /* Only the home node knows the flag at all; say so for clarity. */
    if (!live || memcmp(mhome, n->keys.node_pk, KZ_KEY_BYTES) != 0)
        out->rehire = out->rehire && rel == KZ_VIEWER_SELF;
    return 0;
}

int kz__profile_view_filter(kz_node *n, const uint8_t member[KZ_KEY_BYTES],
                            const uint8_t viewer[KZ_KEY_BYTES], json_t *o, char *err,
                            size_t errsz)
{
    kz_profile_view v;
    int rc = kz_node_profile_visible(n, member, viewer, &v);
    if (rc != 0) {
        snprintf(err, errsz, "cannot decide what the viewer may see: %s", kz_strerror(rc));
        return rc;
    }
    json_object_set_new(o, "viewer", kz_json_hex(viewer, KZ_KEY_BYTES));
    json_object_set_new(o, "access", json_string(kz_profile_access_name(v.access)));
    if (v.access != KZ_PROFILE_VISIBLE) {
        /* Keep only what says whose profile this is and why it is withheld;
         * the membership itself is public (attestations replicate). */
        static const char *const keep[] = {"member_id", "viewer", "access", "home_company",
                                           "home_node_id", "status"};
        const char *key;
        void *tmp;
        json_t *val;
        json_object_foreach_safe(o, tmp, key, val) {
            bool k = false;
            for (size_t i = 0; i < KZ_ARRAY_LEN(keep); i++)
                k |= strcmp(keep[i], key) == 0;
            if (!k || (v.access == KZ_PROFILE_HIDDEN && strcmp(key, "status") == 0))
                json_object_del(o, key);
        }
        return 0;
    }
    json_t *open = json_object_get(o, "open_to");
    if (!v.rehire && json_is_array(open)) {
        for (size_t i = json_array_size(open); i-- > 0;) {
            const char *s = json_string_value(json_array_get(open, i));
            if (s && strcmp(s, "rehire") == 0)
                json_array_remove(open, i);
        }
    }
    return 0;
}

void kz__profile_show_rotation(kz_node *n, const uint8_t member[KZ_KEY_BYTES], json_t *o)
{
    uint8_t next[KZ_KEY_BYTES];
    uint8_t keys[KZ_ROTATION_CHAIN_MAX][KZ_KEY_BYTES];
    size_t k = 0;
    if (kz_store_member_successor(n->store, member, next) == 0)
        json_object_set_new(o, "successor", kz_json_hex(next, KZ_KEY_BYTES));
    int rc = kz_store_member_chain(n->store, member, keys, KZ_ROTATION_CHAIN_MAX, &k);
    if ((rc == 0 || rc == KZ_ETOOBIG) && k > 1) {
        json_t *list = json_array();
        for (size_t i = 0; i < k; i++)
            json_array_append_new(list, kz_json_hex(keys[i], KZ_KEY_BYTES));
        json_object_set_new(o, "keys", list);
    }
}
