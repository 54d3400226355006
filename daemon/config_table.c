/*
 * config_table.c — every key of tpcd.yaml: one row each (name, type, where it is stored,
 * range, default, a short text) in one table per section, as tmux's options-table.c. It
 * holds data only: parsing, defaults and freeing by type live in config.c, the rules a
 * type cannot express (a row's .check, a section's .done) in config_check.c.
 * man/tpcd.yaml.5 documents each row.
 */
#include <stddef.h>

#include "tpcd.h"
#include "config_check.h"

#define CF(f)	offsetof(struct config, f)
#define SF(f)	offsetof(struct snowflake_conf, f)
#define AU(f)	offsetof(struct auth_conf, f)
#define AD(f)	offsetof(struct audit_conf, f)
#define BR(f)	offsetof(struct brand, f)
#define PR(f)	offsetof(struct auth_principal_conf, f)
#define NKEYS(t)	(sizeof (t) / sizeof (t)[0])

/* ---- the tables ---- */

static const struct config_key config_listen_keys[] = {
	{ .name = "address", .type = CONFIG_STRING, .offset = CF(listen_addr),
	  .dflt_str = "127.0.0.1", .check = config_check_address,
	  .text = "IPv4 or IPv6 address to bind" },
	{ .name = "port", .type = CONFIG_INT, .offset = CF(listen_port),
	  .min = 0, .max = 65535, .dflt = 8080, .text = "TCP port" },
	{ .name = "threads", .type = CONFIG_INT, .offset = CF(threads),
	  .min = 0, .max = 256, .dflt = 0, .text = "serving threads; 0 is one per core" },
};

static const struct config_key config_store_keys[] = {
	{ .name = "map_size_mb", .type = CONFIG_SIZE, .offset = CF(map_size_mb),
	  .min = 1, .max = 1L << 20, .dflt = 1024, .text = "the most the store may hold" },
	{ .name = "max_readers", .type = CONFIG_INT, .offset = CF(max_readers),
	  .min = 16, .max = 1 << 20, .dflt = 4096, .text = "LMDB reader slots" },
};

static const struct config_key config_sqlite_keys[] = {
	{ .name = "dir", .type = CONFIG_PATH, .flags = CONFIG_REQUIRED,
	  .offset = CF(sqlite_dir), .text = "holds <schema>.db per brand" },
};

static const struct config_choice config_sf_auth_choices[] = {
	{ "keypair", 0 }, { "oauth", 0 }, { "pat", 0 }, { NULL, 0 }
};

static const struct config_key config_snowflake_keys[] = {
	{ .name = "account", .type = CONFIG_STRING, .flags = CONFIG_REQUIRED,
	  .offset = SF(account), .text = "account identifier" },
	{ .name = "user", .type = CONFIG_STRING, .flags = CONFIG_REQUIRED,
	  .offset = SF(user), .text = "user to log in as" },
	{ .name = "url", .type = CONFIG_STRING, .offset = SF(url),
	  .text = "default https://<account>.snowflakecomputing.com" },
	{ .name = "warehouse", .type = CONFIG_STRING, .flags = CONFIG_REQUIRED,
	  .offset = SF(warehouse), .text = "warehouse statements run in" },
	{ .name = "role", .type = CONFIG_STRING, .offset = SF(role),
	  .text = "role to use; default the user's" },
	{ .name = "database", .type = CONFIG_STRING, .flags = CONFIG_REQUIRED,
	  .offset = SF(database), .text = "database of the brand schemas" },
	{ .name = "auth", .type = CONFIG_KEYWORD, .offset = SF(auth),
	  .choices = config_sf_auth_choices, .dflt_str = "keypair",
	  .text = "how tpcd authenticates" },
	{ .name = "private_key", .type = CONFIG_PATH, .flags = CONFIG_EMPTY_OK,
	  .offset = SF(private_key), .check = config_check_secret,
	  .text = "PEM private key file (auth keypair)" },
	{ .name = "private_key_passphrase_file", .type = CONFIG_PATH,
	  .flags = CONFIG_EMPTY_OK, .offset = SF(private_key_passphrase_file),
	  .check = config_check_secret, .text = "file holding the key's passphrase" },
	{ .name = "token_file", .type = CONFIG_PATH, .flags = CONFIG_EMPTY_OK,
	  .offset = SF(token_file), .check = config_check_secret,
	  .text = "file holding the token (auth oauth, pat)" },
	{ .name = "statement_timeout", .type = CONFIG_INT, .offset = SF(statement_timeout),
	  .min = 1, .max = 604800, .dflt = 600, .text = "seconds, on the server" },
	{ .name = "request_timeout", .type = CONFIG_INT, .offset = SF(request_timeout),
	  .min = 1, .max = 3600, .dflt = 60, .text = "seconds per HTTP request" },
	{ .name = "deadline", .type = CONFIG_INT, .offset = SF(deadline),
	  .min = 1, .max = 86400, .dflt = 900, .text = "seconds per statement, retries included" },
	{ .name = "max_statements", .type = CONFIG_INT, .offset = SF(max_statements),
	  .min = 1, .max = 64, .dflt = 4, .text = "statements in flight" },
	{ .name = "max_partitions", .type = CONFIG_INT, .offset = SF(max_partitions),
	  .min = 1, .max = 64, .dflt = 4, .text = "partitions fetched at once per statement" },
	/* The official drivers' retry policy: base 1 s, cap 16 s, at most 7 retries. */
	{ .name = "retry_max", .type = CONFIG_INT, .offset = SF(retry_max),
	  .min = 0, .max = 100, .dflt = 7, .text = "retries of a failed request" },
	{ .name = "retry_base_ms", .type = CONFIG_INT, .offset = SF(retry_base_ms),
	  .min = 1, .max = 600000, .dflt = 1000, .text = "first back-off" },
	{ .name = "retry_cap_ms", .type = CONFIG_INT, .offset = SF(retry_cap_ms),
	  .min = 1, .max = 3600000, .dflt = 16000, .text = "longest back-off" },
	{ .name = "poll_max_ms", .type = CONFIG_INT, .offset = SF(poll_max_ms),
	  .min = 1, .max = 600000, .dflt = 5000, .text = "longest wait between polls" },
};

static const struct config_section config_sqlite = {
	"sqlite", config_sqlite_keys, NKEYS(config_sqlite_keys), 0, NULL
};
static const struct config_section config_snowflake = {
	"snowflake", config_snowflake_keys, NKEYS(config_snowflake_keys), 0,
	config_check_snowflake_done
};

static const struct config_choice config_source_choices[] = {
	{ "sqlite", SOURCE_SQLITE }, { "snowflake", SOURCE_SNOWFLAKE }, { NULL, 0 }
};

static const struct config_key config_source_keys[] = {
	{ .name = "type", .type = CONFIG_ENUM, .flags = CONFIG_REQUIRED,
	  .offset = CF(source), .choices = config_source_choices, .dflt = SOURCE_SQLITE,
	  .text = "where the aggregates come from" },
	{ .name = "sqlite", .type = CONFIG_SECTION, .section = &config_sqlite },
	{ .name = "snowflake", .type = CONFIG_SECTION, .offset = CF(sf),
	  .section = &config_snowflake },
};

static const struct config_key config_http_keys[] = {
	{ .name = "timeout", .type = CONFIG_INT, .offset = CF(http_timeout),
	  .min = 1, .max = 3600, .dflt = 30, .text = "seconds a connection may stall" },
	{ .name = "header_timeout", .type = CONFIG_INT, .offset = CF(http_header_timeout),
	  .min = 1, .max = 3600, .dflt = 10, .text = "seconds to send a whole request head" },
	{ .name = "body_timeout", .type = CONFIG_INT, .offset = CF(http_body_timeout),
	  .min = 1, .max = 3600, .dflt = 30, .text = "seconds to send a whole request body" },
	{ .name = "max_header_size", .type = CONFIG_SIZE, .offset = CF(http_max_header),
	  .min = 1024, .max = 1 << 20, .dflt = 8192, .text = "bytes of request headers" },
	{ .name = "max_body_size", .type = CONFIG_SIZE, .offset = CF(http_max_body),
	  .min = 0, .max = 1 << 24, .dflt = 64 * 1024, .text = "bytes of a request body" },
	{ .name = "max_connections", .type = CONFIG_INT, .offset = CF(http_max_connections),
	  .min = 1, .max = 1 << 20, .dflt = 10000, .text = "per serving thread" },
	{ .name = "cors_origins", .type = CONFIG_LIST, .offset = CF(cors_origins),
	  .count = CF(ncors_origins), .what = "origins",
	  .check = config_check_origin, .text = "browser origins allowed by CORS" },
};

static const struct config_key config_brand_keys[] = {
	{ .name = "id", .type = CONFIG_STRING, .flags = CONFIG_REQUIRED | CONFIG_EMPTY_OK,
	  .offset = BR(id), .check = config_check_brand_id, .text = "the brand in URLs" },
	{ .name = "name", .type = CONFIG_STRING, .flags = CONFIG_REQUIRED | CONFIG_EMPTY_OK,
	  .offset = BR(name), .text = "display name" },
	{ .name = "schema", .type = CONFIG_STRING, .flags = CONFIG_REQUIRED | CONFIG_EMPTY_OK,
	  .offset = BR(schema), .check = config_check_schema,
	  .text = "its schema in the source" },
};

static const struct config_choice config_role_choices[] = {
	{ "user", ROLE_USER }, { "admin", ROLE_ADMIN }, { "monitor", ROLE_MONITOR }, { NULL, 0 }
};

static const struct config_key config_user_keys[] = {
	{ .name = "name", .type = CONFIG_STRING, .flags = CONFIG_REQUIRED | CONFIG_EMPTY_OK,
	  .offset = PR(name), .check = config_check_principal_name,
	  .text = "login or token name" },
	{ .name = "password_hash", .type = CONFIG_STRING,
	  .flags = CONFIG_REQUIRED | CONFIG_EMPTY_OK | CONFIG_SENSITIVE,
	  .offset = PR(password_hash), .check = config_check_password_hash,
	  .text = "crypt(3) hash (tpcd --hash-password)" },
	{ .name = "role", .type = CONFIG_ENUM, .offset = PR(role),
	  .choices = config_role_choices,
	  .text = "admin reads every brand; monitor only status, snapshots, metrics" },
	{ .name = "brands", .type = CONFIG_LIST, .offset = PR(brands), .count = PR(nbrands),
	  .what = "brand ids", .text = "brands role user may read" },
};

static const struct config_key config_token_keys[] = {
	{ .name = "name", .type = CONFIG_STRING, .flags = CONFIG_REQUIRED | CONFIG_EMPTY_OK,
	  .offset = PR(name), .check = config_check_principal_name,
	  .text = "login or token name" },
	{ .name = "sha256", .type = CONFIG_CUSTOM, .flags = CONFIG_REQUIRED,
	  .check = config_check_sha256, .text = "SHA-256 of the token, in hex" },
	{ .name = "role", .type = CONFIG_ENUM, .offset = PR(role),
	  .choices = config_role_choices,
	  .text = "admin reads every brand; monitor only status, snapshots, metrics" },
	{ .name = "brands", .type = CONFIG_LIST, .offset = PR(brands), .count = PR(nbrands),
	  .what = "brand ids", .text = "brands role user may read" },
	{ .name = "revoked", .type = CONFIG_BOOL, .offset = PR(revoked),
	  .text = "refused, kept for the record" },
};

static const struct config_section config_user = {
	"user", config_user_keys, NKEYS(config_user_keys),
	sizeof(struct auth_principal_conf), config_check_principal_done
};
static const struct config_section config_token = {
	"token", config_token_keys, NKEYS(config_token_keys),
	sizeof(struct auth_principal_conf), config_check_principal_done
};

/* The first two rows are also the users file's keys; users_file reads it by them. */
static const struct config_section config_users_file;

static const struct config_key config_auth_keys[] = {
	{ .name = "users", .type = CONFIG_LIST, .offset = AU(users), .count = AU(nusers),
	  .section = &config_user, .check = config_check_user_unique,
	  .text = "who may log in" },
	{ .name = "tokens", .type = CONFIG_LIST, .offset = AU(tokens), .count = AU(ntokens),
	  .section = &config_token, .check = config_check_token_unique,
	  .text = "API tokens" },
	{ .name = "users_file", .type = CONFIG_PATH, .offset = AU(users_file),
	  .section = &config_users_file, .check = config_check_users_file,
	  .text = "more users and tokens, mode 0600" },
	{ .name = "session_lifetime", .type = CONFIG_INT, .offset = AU(session_lifetime),
	  .min = 1, .max = 366 * 86400, .dflt = 86400, .text = "seconds a login lasts" },
	{ .name = "max_sessions", .type = CONFIG_INT, .offset = AU(max_sessions),
	  .min = 1, .max = 4096, .dflt = 16,
	  .text = "live sessions per user; a login beyond it ends the oldest" },
	{ .name = "cookie_secure", .type = CONFIG_BOOL, .offset = AU(cookie_secure),
	  .dflt = 0, .text = "session cookie only over HTTPS" },
	{ .name = "trusted_proxies", .type = CONFIG_LIST, .offset = AU(trusted_proxies),
	  .count = AU(ntrusted_proxies), .what = "IPv4 or IPv6 addresses",
	  .check = config_check_proxy, .text = "whose X-Forwarded-For counts" },
};

static const struct config_section config_users_file = {
	"the users file", config_auth_keys, 2, 0, NULL
};

static const struct config_key config_audit_keys[] = {
	{ .name = "file", .type = CONFIG_PATH, .offset = AD(file),
	  .text = "default <state_dir>/audit.log" },
	{ .name = "max_size_mb", .type = CONFIG_INT, .offset = AD(max_size_mb),
	  .min = 1, .max = 1 << 20, .dflt = 100, .text = "size that rotates it" },
	{ .name = "keep", .type = CONFIG_INT, .offset = AD(keep),
	  .min = 1, .max = 1000, .dflt = 10, .text = "rotated files kept" },
};

static const struct config_section config_listen = {
	"listen", config_listen_keys, NKEYS(config_listen_keys), 0, NULL
};
static const struct config_section config_store = {
	"store", config_store_keys, NKEYS(config_store_keys), 0, NULL
};
static const struct config_section config_source = {
	"source", config_source_keys, NKEYS(config_source_keys), 0, config_check_source_done
};
static const struct config_section config_http = {
	"http", config_http_keys, NKEYS(config_http_keys), 0, NULL
};
static const struct config_section config_brand = {
	"brand", config_brand_keys, NKEYS(config_brand_keys), sizeof(struct brand), NULL
};
static const struct config_section config_auth = {
	"auth", config_auth_keys, NKEYS(config_auth_keys), 0, NULL
};
static const struct config_section config_audit = {
	"audit", config_audit_keys, NKEYS(config_audit_keys), 0, NULL
};

static const struct config_choice config_log_levels[] = {
	{ "error", LOG_ERR }, { "warning", LOG_WARNING }, { "notice", LOG_NOTICE },
	{ "info", LOG_INFO }, { "debug", LOG_DEBUG }, { NULL, 0 }
};

static const struct config_choice config_guard_modes[] = {
	{ "enforce", 0 }, { "warn", 1 }, { NULL, 0 }
};

static const struct config_key config_top_keys[] = {
	{ .name = "listen", .type = CONFIG_SECTION, .section = &config_listen },
	{ .name = "state_dir", .type = CONFIG_PATH, .flags = CONFIG_REQUIRED,
	  .offset = CF(state_dir), .check = config_check_state_dir,
	  .text = "the LMDB store, not writable by others" },
	{ .name = "store", .type = CONFIG_SECTION, .section = &config_store },
	{ .name = "source", .type = CONFIG_SECTION, .flags = CONFIG_REQUIRED,
	  .section = &config_source },
	{ .name = "catalog", .type = CONFIG_PATH, .flags = CONFIG_REQUIRED,
	  .offset = CF(catalog_path), .check = config_check_catalog,
	  .text = "the aggregate catalogue" },
	{ .name = "refresh_interval", .type = CONFIG_INT, .offset = CF(refresh_interval),
	  .min = 1, .max = 7 * 86400, .dflt = 1800, .text = "seconds between refreshes" },
	{ .name = "guards", .type = CONFIG_ENUM, .offset = CF(guards_warn),
	  .choices = config_guard_modes, .dflt = 0,
	  .text = "a candidate failing a publish guard: enforce (held) or warn (published)" },
	{ .name = "refresh_lease_ttl", .type = CONFIG_INT, .offset = CF(refresh_lease_ttl),
	  .min = 3, .max = 86400, .dflt = 60, .text = "seconds a refresh lease lasts" },
	{ .name = "shutdown_timeout", .type = CONFIG_INT, .offset = CF(shutdown_timeout),
	  .min = 0, .max = 3600, .dflt = 10, .text = "seconds SIGTERM waits for requests" },
	{ .name = "log_level", .type = CONFIG_ENUM, .flags = CONFIG_ANYCASE,
	  .offset = CF(log_level), .choices = config_log_levels, .dflt = LOG_INFO,
	  .text = "least important message logged" },
	{ .name = "log_file", .type = CONFIG_PATH, .offset = CF(log_file),
	  .text = "also log here; default stderr only" },
	{ .name = "log_max_size_mb", .type = CONFIG_INT, .offset = CF(log_max_size_mb),
	  .min = 1, .max = 1 << 20, .dflt = 100, .text = "size that rotates log_file" },
	{ .name = "log_keep", .type = CONFIG_INT, .offset = CF(log_keep),
	  .min = 0, .max = 1000, .dflt = 5, .text = "rotated log files kept" },
	{ .name = "http", .type = CONFIG_SECTION, .section = &config_http },
	{ .name = "brands", .type = CONFIG_LIST, .flags = CONFIG_REQUIRED,
	  .offset = CF(brands), .count = CF(nbrands), .min = 1, .section = &config_brand,
	  .what = "brand", .check = config_check_brand_unique,
	  .text = "the brands served" },
	{ .name = "auth", .type = CONFIG_SECTION, .offset = CF(auth),
	  .section = &config_auth },
	{ .name = "audit", .type = CONFIG_SECTION, .offset = CF(audit),
	  .section = &config_audit },
};

const struct config_section config_top = {
	"the configuration", config_top_keys, NKEYS(config_top_keys), 0, config_check_top_done
};

