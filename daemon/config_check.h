/*
 * config_check.h — the checks config_check.c lends to the rows and sections of
 * config_table.c: each has the shape of config_check_fn (a row's .check) or
 * config_done_fn (a section's .done). Nothing else includes it.
 */
#ifndef CONFIG_CHECK_H
#define CONFIG_CHECK_H

struct config_walk;
struct config_key;
struct yaml_node_s;

/* Rows: after the value is stored (per item of a LIST). */
int	config_check_catalog(struct config_walk *, struct yaml_node_s *,
	    const struct config_key *, void *, char **);
int	config_check_address(struct config_walk *, struct yaml_node_s *,
	    const struct config_key *, void *, char **);
int	config_check_secret(struct config_walk *, struct yaml_node_s *,
	    const struct config_key *, void *, char **);
int	config_check_state_dir(struct config_walk *, struct yaml_node_s *,
	    const struct config_key *, void *, char **);
int	config_check_brand_id(struct config_walk *, struct yaml_node_s *,
	    const struct config_key *, void *, char **);
int	config_check_schema(struct config_walk *, struct yaml_node_s *,
	    const struct config_key *, void *, char **);
int	config_check_brand_unique(struct config_walk *, struct yaml_node_s *,
	    const struct config_key *, void *, char **);
int	config_check_principal_name(struct config_walk *, struct yaml_node_s *,
	    const struct config_key *, void *, char **);
int	config_check_password_hash(struct config_walk *, struct yaml_node_s *,
	    const struct config_key *, void *, char **);
int	config_check_sha256(struct config_walk *, struct yaml_node_s *,
	    const struct config_key *, void *, char **);
int	config_check_user_unique(struct config_walk *, struct yaml_node_s *,
	    const struct config_key *, void *, char **);
int	config_check_token_unique(struct config_walk *, struct yaml_node_s *,
	    const struct config_key *, void *, char **);
int	config_check_users_file(struct config_walk *, struct yaml_node_s *,
	    const struct config_key *, void *, char **);
int	config_check_proxy(struct config_walk *, struct yaml_node_s *,
	    const struct config_key *, void *, char **);
int	config_check_origin(struct config_walk *, struct yaml_node_s *,
	    const struct config_key *, void *, char **);

/* Sections: once all their keys are read. */
int	config_check_source_done(struct config_walk *, struct yaml_node_s *, const char *,
	    void *, char **);
int	config_check_snowflake_done(struct config_walk *, struct yaml_node_s *, const char *,
	    void *, char **);
int	config_check_principal_done(struct config_walk *, struct yaml_node_s *, const char *,
	    void *, char **);
int	config_check_top_done(struct config_walk *, struct yaml_node_s *, const char *,
	    void *, char **);

#endif
