/* cmd_local.c: commands that work without a running node: federation
 * create, init, id. */
#include "cli.h"

#include <sodium.h>
#include <string.h>

int kz_cmd_federation_create(kz_cli *cli, int argc, char **argv)
{
    kz_cli_opt opts[] = {{"--out", true, false, NULL}};
    char *pos[1];
    int npos;
    char err[KZ_ERR_MAX];
    uint8_t key[KZ_KEY_SECRET_BYTES];
    int rc = kz_cli_parse(cli, argc, argv, opts, KZ_ARRAY_LEN(opts), pos, &npos);
    if (rc != 0)
        return rc;
    const char *out = kz_cli_optval(opts, 1, "--out");
    if (!out || !out[0])
        return kz_cli_usage_error(cli, "--out FILE is required");
    randombytes_buf(key, sizeof key);
    rc = kz_keyfile_write(out, KZ_KEY_FEDERATION, key, err, sizeof err);
    sodium_memzero(key, sizeof key);
    if (rc != 0)
        return kz_cli_error("%s", err);
    printf("%s\n", out);
    return KZ_EXIT_OK;
}

int kz_cmd_init(kz_cli *cli, int argc, char **argv)
{
    kz_cli_opt opts[] = {
        {"--data", true, false, NULL},   {"--name", true, false, NULL},
        {"--federation-key", true, false, NULL}, {"--listen", true, false, NULL},
        {"--http", true, false, NULL},
    };
    char *pos[1];
    int npos;
    char err[KZ_ERR_MAX];
    uint8_t id[KZ_KEY_BYTES];
    int rc = kz_cli_parse(cli, argc, argv, opts, KZ_ARRAY_LEN(opts), pos, &npos);
    if (rc != 0)
        return rc;
    kz_init_opts o = {0};
    o.dir = kz_cli_optval(opts, KZ_ARRAY_LEN(opts), "--data");
    if (!o.dir)
        o.dir = cli->data;
    o.name = kz_cli_optval(opts, KZ_ARRAY_LEN(opts), "--name");
    o.federation_key_path = kz_cli_optval(opts, KZ_ARRAY_LEN(opts), "--federation-key");
    o.listen = kz_cli_optval(opts, KZ_ARRAY_LEN(opts), "--listen");
    o.http = kz_cli_optval(opts, KZ_ARRAY_LEN(opts), "--http");
    if (!o.dir || !o.dir[0])
        return kz_cli_usage_error(cli, "--data DIR is required");
    if (!o.name)
        return kz_cli_usage_error(cli, "--name NAME is required");
    if (!o.federation_key_path || !o.federation_key_path[0])
        return kz_cli_usage_error(cli, "--federation-key FILE is required (make one with: kizuna federation create --out FILE)");
    if ((rc = kz_cli_check_text(cli, "--name", o.name, KZ_NAME_MAX, false)) != 0)
        return rc;
    if (o.listen && kz_addr_parse(o.listen, NULL, 0, NULL, err, sizeof err) != 0)
        return kz_cli_usage_error(cli, "--listen: %s", err);
    if (o.http && kz_addr_parse(o.http, NULL, 0, NULL, err, sizeof err) != 0)
        return kz_cli_usage_error(cli, "--http: %s", err);
    rc = kz_datadir_init(&o, id, err, sizeof err);
    if (rc != 0)
        return kz_cli_error("%s", err);
    kz_idstr s = kz_id_to_str(id);
    printf("%s\n", s.s);
    return KZ_EXIT_OK;
}

int kz_cmd_id(kz_cli *cli, int argc, char **argv)
{
    char *pos[1];
    int npos;
    char err[KZ_ERR_MAX];
    char path[KZ_PATH_MAX];
    char addr[KZ_ADDR_MAX + 1];
    kz_config cfg;
    kz_keys keys;
    int rc = kz_cli_parse(cli, argc, argv, NULL, 0, pos, &npos);
    if (rc != 0)
        return rc;
    const char *dir = kz_cli_data(cli);
    if (!dir)
        return KZ_EXIT_USAGE;
    if (kz_path_join(path, sizeof path, dir, KZ_FILE_CONFIG) != 0)
        return kz_cli_error("%s: path too long", dir);
    if (kz_config_load(&cfg, path, err, sizeof err) != 0)
        return kz_cli_error("%s", err);
    if (kz_keys_load_node(&keys, dir, err, sizeof err) != 0)
        return kz_cli_error("%s", err);
    kz_idstr s = kz_id_to_str(keys.node_pk);
    kz_keys_wipe(&keys);
    if (kz_config_advertised(&cfg, addr, sizeof addr) != 0)
        return kz_cli_error("cannot work out this node's address from listen = %s; set advertise = HOST:PORT in [node] of %s",
                            cfg.listen, path);
    printf("%s\n%s %s\n", s.s, addr, s.s);
    return KZ_EXIT_OK;
}
