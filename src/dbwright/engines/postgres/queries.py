"""The introspection SQL: one set-based query per snapshot section, no per-table round trips.

Kept apart from the Python that runs them so the benchmark can time the same SQL through
psql. Queries work on PostgreSQL 13 and newer.
"""

from __future__ import annotations

# Objects in these schemas belong to the system or to extensions' own machinery.
SYSTEM_SCHEMAS = "('pg_catalog', 'information_schema', 'pg_toast')"
# dbwright's own bookkeeping (the migration history, backfill progress): never reviewed or audited.
OWN_SCHEMAS = "('dbwright')"
USER_NAMESPACE = (
    f"n.nspname NOT IN {SYSTEM_SCHEMAS} AND n.nspname NOT IN {OWN_SCHEMAS} "
    "AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%'"
)
# Objects that belong to an extension (pg_stat_statements' views, say) are not the user's.
NOT_EXTENSION_MEMBER = (
    "NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = {oid} AND d.classid = {catalog}::regclass "
    "AND d.deptype = 'e')"
)

SERVER = """
SELECT current_setting('server_version_num')::int AS version_num, version() AS version,
       current_database() AS database, current_user AS current_user,
       (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS is_superuser,
       pg_is_in_recovery() AS in_recovery, pg_postmaster_start_time()::text AS postmaster_start
"""

SETTINGS = """
SELECT name, setting AS value, unit, source, context, vartype, boot_val AS boot_value, pending_restart,
       sourcefile
FROM pg_settings ORDER BY name
"""

EXTENSIONS = """
SELECT a.name, a.default_version, a.installed_version, n.nspname AS schema
FROM pg_available_extensions a
LEFT JOIN pg_extension e ON e.extname = a.name
LEFT JOIN pg_namespace n ON n.oid = e.extnamespace
ORDER BY a.name
"""

DATABASES = """
SELECT d.datname AS name, pg_get_userbyid(d.datdba) AS owner, pg_encoding_to_char(d.encoding) AS encoding,
       age(d.datfrozenxid) AS xid_age, d.datconnlimit AS connection_limit, d.datallowconn AS allow_connections,
       CASE WHEN has_database_privilege(d.oid, 'CONNECT') THEN pg_database_size(d.oid) END AS size_bytes,
       coalesce(d.datacl, acldefault('d', d.datdba))::text[] AS acl,
       s.numbackends, s.blks_hit, s.blks_read, s.temp_files, s.temp_bytes, s.xact_commit,
       s.xact_rollback, s.deadlocks, s.stats_reset::text AS stats_reset
FROM pg_database d LEFT JOIN pg_stat_database s ON s.datid = d.oid
WHERE NOT d.datistemplate OR d.datname = current_database()
ORDER BY d.datname
"""

SCHEMAS = f"""
SELECT n.nspname AS name, pg_get_userbyid(n.nspowner) AS owner,
       coalesce(n.nspacl, acldefault('n', n.nspowner))::text[] AS acl
FROM pg_namespace n WHERE {USER_NAMESPACE}
  AND {NOT_EXTENSION_MEMBER.format(oid="n.oid", catalog="'pg_namespace'")}
ORDER BY 1
"""

TABLES = f"""
SELECT n.nspname AS schema, c.relname AS name, c.relkind AS kind, pg_get_userbyid(c.relowner) AS owner,
       c.relpersistence AS persistence, c.relispartition AS is_partition,
       (SELECT pn.nspname || '.' || pc.relname FROM pg_inherits i JOIN pg_class pc ON pc.oid = i.inhparent
          JOIN pg_namespace pn ON pn.oid = pc.relnamespace WHERE i.inhrelid = c.oid LIMIT 1) AS parent,
       CASE WHEN c.relkind = 'p' AND NOT c.oid = ANY({{LOCKED}}) THEN pg_get_partkeydef(c.oid) END AS partition_key,
       greatest(c.reltuples, 0)::float8 AS row_estimate,
       CASE WHEN c.oid = ANY({{LOCKED}}) THEN c.relpages::int8 * current_setting('block_size')::int8
            ELSE pg_relation_size(c.oid) END AS heap_bytes,
       CASE WHEN c.oid = ANY({{LOCKED}}) THEN coalesce(
                (SELECT t.relpages::int8 * current_setting('block_size')::int8 FROM pg_class t
                  WHERE t.oid = c.reltoastrelid), 0)
            ELSE coalesce(pg_relation_size(nullif(c.reltoastrelid, 0)), 0) END AS toast_bytes,
       CASE WHEN c.oid = ANY({{LOCKED}}) THEN coalesce(
                (SELECT sum(ic.relpages)::int8 * current_setting('block_size')::int8 FROM pg_index x
                   JOIN pg_class ic ON ic.oid = x.indexrelid WHERE x.indrelid = c.oid), 0)
            ELSE pg_indexes_size(c.oid) END AS index_bytes,
       s.seq_scan, s.seq_tup_read, s.idx_scan, s.n_live_tup, s.n_dead_tup, s.n_tup_ins, s.n_tup_upd,
       s.n_tup_del, s.n_tup_hot_upd, s.n_mod_since_analyze,
       s.last_vacuum::text, s.last_autovacuum::text, s.last_analyze::text, s.last_autoanalyze::text,
       CASE WHEN c.relkind IN ('r', 'm', 't') THEN age(c.relfrozenxid) END AS frozen_xid_age,
       coalesce(c.reloptions, '{{}}') AS reloptions,
       c.relrowsecurity AS rls_enabled, c.relforcerowsecurity AS rls_forced,
       coalesce(c.relacl, acldefault('r', c.relowner))::text[] AS acl
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_stat_all_tables s ON s.relid = c.oid
WHERE c.relkind IN ('r', 'p', 'm', 'f') AND {USER_NAMESPACE}
  AND {NOT_EXTENSION_MEMBER.format(oid="c.oid", catalog="'pg_class'")}
ORDER BY 1, 2
"""

COLUMNS = f"""
SELECT n.nspname AS schema, c.relname AS table, a.attname AS name, a.attnum AS position,
       format_type(a.atttypid, a.atttypmod) AS data_type,
       coalesce(bt.typname, t.typname) AS type_name, a.attnotnull AS not_null,
       CASE WHEN c.oid = ANY({{LOCKED}}) THEN NULL ELSE pg_get_expr(ad.adbin, ad.adrelid) END AS default,
       nullif(a.attidentity, '') AS identity, nullif(a.attgenerated, '') AS generated,
       t.typtype = 'e' AS is_enum,
       st.null_frac, st.n_distinct, st.correlation, st.avg_width,
       (st.most_common_vals::text::text[])[1:20] AS most_common_vals,
       st.most_common_freqs[1:20] AS most_common_freqs,
       CASE WHEN t.typcategory = 'S' AND st.histogram_bounds IS NOT NULL THEN
            (SELECT array_agg(left(v, 120)) FROM unnest((st.histogram_bounds::text::text[])[1:30]) AS v)
       END AS histogram_bounds
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_type bt ON t.typtype = 'd' AND bt.oid = t.typbasetype
LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
LEFT JOIN pg_stats st ON st.schemaname = n.nspname AND st.tablename = c.relname AND st.attname = a.attname
     AND st.inherited = (c.relkind = 'p')
WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p', 'm', 'f', 'v')
  AND {USER_NAMESPACE}
  AND {NOT_EXTENSION_MEMBER.format(oid="c.oid", catalog="'pg_class'")}
ORDER BY 1, 2, 4
"""

# Tables whose column statistics this role cannot read (pg_stats hides them).
HIDDEN_STATS = f"""
SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'm') AND {USER_NAMESPACE}
  AND NOT has_table_privilege(c.oid, 'SELECT')
"""

CONSTRAINTS = f"""
SELECT n.nspname AS schema, c.relname AS table, k.conname AS name, k.contype AS type,
       coalesce((SELECT array_agg(a.attname ORDER BY u.ord) FROM unnest(k.conkey) WITH ORDINALITY u(num, ord)
                 JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.num), '{{}}') AS columns,
       coalesce(CASE WHEN k.conrelid = ANY({{LOCKED}}) THEN NULL ELSE pg_get_constraintdef(k.oid) END, '')
          AS definition, k.convalidated AS validated,
       k.condeferrable AS deferrable, k.condeferred AS deferred,
       CASE WHEN k.conindid <> 0 THEN k.conindid::regclass::text END AS index,
       rn.nspname AS ref_schema, rc.relname AS ref_table,
       coalesce((SELECT array_agg(a.attname ORDER BY u.ord) FROM unnest(k.confkey) WITH ORDINALITY u(num, ord)
                 JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = u.num), '{{}}') AS ref_columns,
       CASE WHEN k.contype = 'f' THEN k.confupdtype END AS on_update,
       CASE WHEN k.contype = 'f' THEN k.confdeltype END AS on_delete
FROM pg_constraint k
JOIN pg_class c ON c.oid = k.conrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_class rc ON rc.oid = k.confrelid
LEFT JOIN pg_namespace rn ON rn.oid = rc.relnamespace
WHERE {USER_NAMESPACE} AND k.conparentid = 0
ORDER BY 1, 2, 3
"""

INDEXES = f"""
SELECT n.nspname AS schema, t.relname AS table, ic.relname AS name,
       coalesce(CASE WHEN i.indrelid = ANY({{LOCKED}}) THEN NULL ELSE pg_get_indexdef(i.indexrelid) END,
                '-- definition unavailable: the table is locked by another session') AS definition,
       am.amname AS method,
       (SELECT array_agg(CASE WHEN k.num = 0 THEN NULL ELSE a.attname END ORDER BY k.ord)
          FROM unnest(i.indkey::int2[]) WITH ORDINALITY k(num, ord)
          LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.num
         WHERE k.ord <= i.indnkeyatts) AS columns,
       coalesce((SELECT array_agg(a.attname ORDER BY k.ord)
          FROM unnest(i.indkey::int2[]) WITH ORDINALITY k(num, ord)
          JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.num
         WHERE k.ord > i.indnkeyatts), '{{}}') AS include,
       CASE WHEN i.indrelid = ANY({{LOCKED}}) THEN NULL ELSE pg_get_expr(i.indexprs, i.indrelid) END AS expressions,
       CASE WHEN i.indrelid = ANY({{LOCKED}}) THEN NULL ELSE pg_get_expr(i.indpred, i.indrelid) END AS predicate,
       coalesce((SELECT array_agg(oc.opcname ORDER BY k.ord)
          FROM unnest(i.indclass::oid[]) WITH ORDINALITY k(opc, ord) JOIN pg_opclass oc ON oc.oid = k.opc),
          '{{}}') AS opclasses,
       i.indisunique AS unique, i.indisprimary AS primary, i.indisvalid AS valid, i.indisready AS ready,
       (SELECT conname FROM pg_constraint WHERE conindid = i.indexrelid AND conrelid = i.indrelid LIMIT 1)
          AS constraint,
       CASE WHEN i.indrelid = ANY({{LOCKED}}) THEN ic.relpages::int8 * current_setting('block_size')::int8
            ELSE pg_relation_size(i.indexrelid) END AS bytes, s.idx_scan AS scans, s.idx_tup_read AS tup_read
FROM pg_index i
JOIN pg_class ic ON ic.oid = i.indexrelid
JOIN pg_class t ON t.oid = i.indrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
JOIN pg_am am ON am.oid = ic.relam
LEFT JOIN pg_stat_all_indexes s ON s.indexrelid = i.indexrelid
WHERE {USER_NAMESPACE} AND t.relkind IN ('r', 'p', 'm')
  AND {NOT_EXTENSION_MEMBER.format(oid="t.oid", catalog="'pg_class'")}
ORDER BY 1, 2, 3
"""

# Not pg_sequences: its last_value calls pg_sequence_last_value(), which locks each sequence ROW
# EXCLUSIVE. The definition comes from pg_sequence; last_value is read from each sequence relation
# (ACCESS SHARE) by ``sequence_values``.
SEQUENCES = f"""
SELECT n.nspname AS schema, c.relname AS name, format_type(s.seqtypid, NULL) AS data_type,
       s.seqmax AS max_value, s.seqmin AS min_value, s.seqincrement AS increment, s.seqcycle AS cycle,
       (SELECT tn.nspname || '.' || tc.relname || '.' || ta.attname
          FROM pg_depend d JOIN pg_class tc ON tc.oid = d.refobjid
          JOIN pg_namespace tn ON tn.oid = tc.relnamespace
          JOIN pg_attribute ta ON ta.attrelid = d.refobjid AND ta.attnum = d.refobjsubid
         WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype IN ('a', 'i')
           AND d.refclassid = 'pg_class'::regclass LIMIT 1) AS owned_by
FROM pg_sequence s
JOIN pg_class c ON c.oid = s.seqrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE {USER_NAMESPACE}
ORDER BY 1, 2
"""

# The sequences whose last_value this role may read (SELECT on the sequence), not behind a lock.
READABLE_SEQUENCES = f"""
SELECT n.nspname AS schema, c.relname AS name
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'S' AND {USER_NAMESPACE}
  AND CASE WHEN c.relkind = 'S' THEN has_sequence_privilege(c.oid, 'SELECT') ELSE false END
  AND NOT c.oid = ANY({{LOCKED}})
ORDER BY 1, 2
"""

# This role cannot read last_value of these sequences (no SELECT on them); it then stays unknown.
SEQUENCES_HIDDEN = f"""
SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'S' AND {USER_NAMESPACE}
  AND NOT CASE WHEN c.relkind = 'S' THEN has_sequence_privilege(c.oid, 'SELECT') ELSE true END
"""


VIEWS = f"""
SELECT n.nspname AS schema, c.relname AS name, c.relkind = 'm' AS materialized,
       pg_get_userbyid(c.relowner) AS owner, c.relispopulated AS populated,
       coalesce(CASE WHEN c.oid = ANY({{LOCKED}}) OR EXISTS (
           SELECT 1 FROM pg_rewrite rw JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = rw.oid
            WHERE rw.ev_class = c.oid AND d.refobjid = ANY({{LOCKED}}))
         THEN NULL ELSE pg_get_viewdef(c.oid) END, '') AS definition
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('v', 'm') AND {USER_NAMESPACE}
  AND {NOT_EXTENSION_MEMBER.format(oid="c.oid", catalog="'pg_class'")}
ORDER BY 1, 2
"""

FUNCTIONS = f"""
SELECT n.nspname AS schema, p.proname AS name, pg_get_function_identity_arguments(p.oid) AS arguments,
       p.prokind AS kind, l.lanname AS language, pg_get_userbyid(p.proowner) AS owner,
       p.prosecdef AS security_definer, p.provolatile AS volatility, coalesce(p.proconfig, '{{}}') AS config,
       coalesce(p.proacl, acldefault('f', p.proowner))::text[] AS acl,
       coalesce(CASE WHEN p.prokind IN ('f', 'p') THEN pg_get_functiondef(p.oid) END, '') AS definition
FROM pg_proc p
JOIN pg_namespace n ON n.oid = p.pronamespace
JOIN pg_language l ON l.oid = p.prolang
WHERE {USER_NAMESPACE}
  AND {NOT_EXTENSION_MEMBER.format(oid="p.oid", catalog="'pg_proc'")}
ORDER BY 1, 2, 3
"""

TRIGGERS = f"""
SELECT n.nspname AS schema, c.relname AS table, t.tgname AS name,
       pn.nspname || '.' || p.proname AS function, t.tgenabled AS enabled,
       pg_get_triggerdef(t.oid) AS definition
FROM pg_trigger t
JOIN pg_class c ON c.oid = t.tgrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_proc p ON p.oid = t.tgfoid
JOIN pg_namespace pn ON pn.oid = p.pronamespace
WHERE NOT t.tgisinternal AND {USER_NAMESPACE} AND t.tgparentid = 0
ORDER BY 1, 2, 3
"""

# Enums (labels in order), domains (base type, NOT NULL, default, CHECKs) and standalone composite
# types; array types and the row types of tables are left out.
TYPES = f"""
SELECT n.nspname AS schema, t.typname AS name, t.typtype AS kind, pg_get_userbyid(t.typowner) AS owner,
       coalesce((SELECT array_agg(e.enumlabel::text ORDER BY e.enumsortorder) FROM pg_enum e
                  WHERE e.enumtypid = t.oid), '{{}}') AS labels,
       CASE WHEN t.typtype = 'd' THEN format_type(t.typbasetype, t.typtypmod) END AS base_type,
       t.typnotnull AS not_null, t.typdefault AS default,
       coalesce((SELECT array_agg('CONSTRAINT ' || quote_ident(k.conname) || ' ' || pg_get_constraintdef(k.oid)
                                  ORDER BY k.conname)
                   FROM pg_constraint k WHERE k.contypid = t.oid AND k.contype = 'c'), '{{}}') AS checks,
       coalesce((SELECT array_agg(quote_ident(a.attname) || ' ' || format_type(a.atttypid, a.atttypmod)
                                  ORDER BY a.attnum)
                   FROM pg_attribute a WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped),
                '{{}}') AS attributes
FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
LEFT JOIN pg_class c ON c.oid = t.typrelid
WHERE (t.typtype IN ('e', 'd') OR (t.typtype = 'c' AND c.relkind = 'c')) AND {USER_NAMESPACE}
  AND {NOT_EXTENSION_MEMBER.format(oid="t.oid", catalog="'pg_type'")}
ORDER BY 1, 2
"""

# Comments on user objects, keyed by the COMMENT ON keyword and a dotted name.
COMMENTS = f"""
SELECT CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'S' THEN 'SEQUENCE'
            WHEN 'i' THEN 'INDEX' WHEN 'I' THEN 'INDEX' WHEN 'f' THEN 'FOREIGN TABLE' WHEN 'c' THEN 'TYPE'
            ELSE 'TABLE' END AS object_type,
       n.nspname || '.' || c.relname AS object_name, d.description AS comment
FROM pg_description d JOIN pg_class c ON d.classoid = 'pg_class'::regclass AND c.oid = d.objoid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE d.objsubid = 0 AND {USER_NAMESPACE}
UNION ALL
SELECT 'COLUMN', n.nspname || '.' || c.relname || '.' || a.attname, d.description
FROM pg_description d JOIN pg_class c ON d.classoid = 'pg_class'::regclass AND c.oid = d.objoid
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = d.objsubid
WHERE d.objsubid > 0 AND {USER_NAMESPACE}
UNION ALL
SELECT 'SCHEMA', n.nspname, d.description
FROM pg_description d JOIN pg_namespace n ON d.classoid = 'pg_namespace'::regclass AND n.oid = d.objoid
WHERE ({USER_NAMESPACE}) OR n.nspname = 'public'
UNION ALL
SELECT CASE p.prokind WHEN 'p' THEN 'PROCEDURE' WHEN 'a' THEN 'AGGREGATE' ELSE 'FUNCTION' END,
       n.nspname || '.' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')', d.description
FROM pg_description d JOIN pg_proc p ON d.classoid = 'pg_proc'::regclass AND p.oid = d.objoid
JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE {USER_NAMESPACE}
UNION ALL
SELECT CASE t.typtype WHEN 'd' THEN 'DOMAIN' ELSE 'TYPE' END, n.nspname || '.' || t.typname, d.description
FROM pg_description d JOIN pg_type t ON d.classoid = 'pg_type'::regclass AND t.oid = d.objoid
JOIN pg_namespace n ON n.oid = t.typnamespace
WHERE {USER_NAMESPACE}
UNION ALL
SELECT 'CONSTRAINT', n.nspname || '.' || c.relname || '.' || k.conname, d.description
FROM pg_description d JOIN pg_constraint k ON d.classoid = 'pg_constraint'::regclass AND k.oid = d.objoid
JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE {USER_NAMESPACE}
UNION ALL
SELECT 'TRIGGER', n.nspname || '.' || c.relname || '.' || tg.tgname, d.description
FROM pg_description d JOIN pg_trigger tg ON d.classoid = 'pg_trigger'::regclass AND tg.oid = d.objoid
JOIN pg_class c ON c.oid = tg.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE {USER_NAMESPACE}
ORDER BY 1, 2
"""

ROLES = """
WITH RECURSIVE direct AS (
    SELECT m.member, r.rolname AS role_name, m.roleid
    FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid
), closure(member, roleid) AS (
    SELECT member, roleid FROM pg_auth_members
    UNION
    SELECT c.member, m.roleid FROM closure c JOIN pg_auth_members m ON m.member = c.roleid
)
SELECT r.rolname AS name, r.rolsuper AS superuser, r.rolinherit AS inherit, r.rolcreaterole AS createrole,
       r.rolcreatedb AS createdb, r.rolcanlogin AS login, r.rolreplication AS replication,
       r.rolbypassrls AS bypassrls, r.rolconnlimit AS connection_limit, r.rolvaliduntil::text AS valid_until,
       r.oid = 10 AS bootstrap,
       coalesce((SELECT array_agg(d.role_name ORDER BY d.role_name) FROM direct d WHERE d.member = r.oid),
                '{}') AS member_of,
       coalesce((SELECT array_agg(DISTINCT g.rolname ORDER BY g.rolname) FROM closure c
                 JOIN pg_roles g ON g.oid = c.roleid WHERE c.member = r.oid), '{}') AS member_of_all
FROM pg_roles r
ORDER BY r.rolname
"""

PASSWORD_TYPES = """
SELECT rolname AS name,
       CASE WHEN rolpassword IS NULL THEN 'none'
            WHEN rolpassword LIKE 'SCRAM-SHA-256$%' THEN 'scram-sha-256'
            WHEN rolpassword ~ '^md5[0-9a-f]{32}$' THEN 'md5'
            ELSE 'plain' END AS password_type
FROM pg_authid
"""

# ACL entries of user objects, expanded; defaults (NULL ACL) are made explicit with acldefault,
# so PUBLIC's implicit EXECUTE on functions and CONNECT/TEMP on databases are visible.
PRIVILEGES = f"""
WITH acl AS (
    SELECT CASE c.relkind WHEN 'S' THEN 'sequence' ELSE 'table' END AS object_type,
           n.nspname || '.' || c.relname AS object_name, c.relowner AS owner,
           (aclexplode(coalesce(c.relacl, acldefault(CASE c.relkind WHEN 'S' THEN 's' ELSE 'r' END::"char",
                                                     c.relowner)))).*
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S') AND {USER_NAMESPACE}
      AND {NOT_EXTENSION_MEMBER.format(oid="c.oid", catalog="'pg_class'")}
    UNION ALL
    SELECT 'schema', n.nspname, n.nspowner, (aclexplode(coalesce(n.nspacl, acldefault('n', n.nspowner)))).*
    FROM pg_namespace n WHERE ({USER_NAMESPACE}) OR n.nspname = 'public'
    UNION ALL
    SELECT 'database', d.datname, d.datdba, (aclexplode(coalesce(d.datacl, acldefault('d', d.datdba)))).*
    FROM pg_database d WHERE NOT d.datistemplate
    UNION ALL
    SELECT 'function', n.nspname || '.' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')',
           p.proowner, (aclexplode(coalesce(p.proacl, acldefault('f', p.proowner)))).*
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
    WHERE {USER_NAMESPACE} AND {NOT_EXTENSION_MEMBER.format(oid="p.oid", catalog="'pg_proc'")}
)
SELECT object_type, object_name,
       CASE WHEN grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(grantee) END AS grantee,
       privilege_type AS privilege, is_grantable AS grantable, pg_get_userbyid(grantor) AS grantor
FROM acl WHERE grantee <> owner
ORDER BY 1, 2, 3, 4
"""

DEFAULT_PRIVILEGES = """
SELECT pg_get_userbyid(d.defaclrole) AS role, n.nspname AS schema,
       CASE d.defaclobjtype WHEN 'r' THEN 'table' WHEN 'S' THEN 'sequence' WHEN 'f' THEN 'function'
            WHEN 'T' THEN 'type' WHEN 'n' THEN 'schema' END AS object_type,
       CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END AS grantee,
       a.privilege_type AS privilege
FROM pg_default_acl d
LEFT JOIN pg_namespace n ON n.oid = d.defaclnamespace
CROSS JOIN LATERAL aclexplode(d.defaclacl) a
ORDER BY 1, 2, 3, 4, 5
"""

HBA_RULES = """
SELECT line_number AS line, type, coalesce(database, '{}') AS database, coalesce(user_name, '{}') AS user_name,
       address, netmask, coalesce(auth_method, '') AS auth_method, coalesce(options, '{}') AS options, error
FROM pg_hba_file_rules ORDER BY line_number
"""

STATEMENTS = """
SELECT s.queryid, s.query, s.calls, s.total_exec_time AS total_ms, s.mean_exec_time AS mean_ms, s.rows,
       s.shared_blks_hit, s.shared_blks_read, s.temp_blks_read, s.temp_blks_written,
       pg_get_userbyid(s.userid) AS user, d.datname AS database
FROM {schema}.pg_stat_statements s LEFT JOIN pg_database d ON d.oid = s.dbid
WHERE s.queryid IS NOT NULL AND s.dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND s.query NOT LIKE '/* dbwright */%'
ORDER BY s.total_exec_time DESC
LIMIT 500
"""

STATEMENTS_RESET = "SELECT stats_reset::text FROM {schema}.pg_stat_statements_info"

SESSIONS = """
SELECT a.pid, a.usename AS user, a.datname AS database, a.application_name AS application, a.state,
       a.backend_type,
       extract(epoch FROM now() - a.xact_start)::float8 AS xact_age_s,
       extract(epoch FROM now() - a.query_start)::float8 AS query_age_s,
       extract(epoch FROM now() - a.state_change)::float8 AS state_age_s,
       a.wait_event_type, pg_blocking_pids(a.pid) AS blocked_by, left(a.query, 500) AS query
FROM pg_stat_activity a
WHERE a.pid <> pg_backend_pid()
ORDER BY a.pid
"""

POLICIES = f"""
SELECT n.nspname AS schema, c.relname AS table, p.polname AS name, p.polcmd AS command,
       p.polpermissive AS permissive,
       array(SELECT CASE WHEN r = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(r) END FROM unnest(p.polroles) r
             ORDER BY 1) AS roles
FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE {USER_NAMESPACE}
ORDER BY 1, 2, 3
"""

LANGUAGES = """
SELECT l.lanname AS name, l.lanpltrusted AS trusted, pg_get_userbyid(l.lanowner) AS owner,
       coalesce(l.lanacl, acldefault('l', l.lanowner))::text[] AS acl
FROM pg_language l ORDER BY 1
"""

# Client backends and their TLS state. Without pg_read_all_stats (part of pg_monitor) other roles'
# sessions show backend_type and ssl as NULL: they are kept, with ssl NULL, so nothing is assumed.
TLS_SESSIONS = """
SELECT a.pid, a.usename AS user, a.datname AS database, host(a.client_addr) AS client_addr,
       s.ssl, s.version, s.cipher, s.bits
FROM pg_stat_activity a LEFT JOIN pg_stat_ssl s ON s.pid = a.pid
WHERE a.backend_type = 'client backend' OR a.backend_type IS NULL
ORDER BY a.pid
"""

MEMORY = "SELECT pg_read_file('/proc/meminfo')"

CAN_SEE_ALL_STATS = "SELECT pg_has_role(current_user, 'pg_read_all_stats', 'MEMBER')"
CAN_READ_FILES = "SELECT pg_has_role(current_user, 'pg_read_server_files', 'MEMBER')"

# Relations that an ACCESS EXCLUSIVE lock holds or waits for (on the table or one of its indexes).
# pg_relation_size(), pg_get_indexdef(), pg_get_expr(), pg_get_constraintdef() and pg_get_viewdef()
# all open the relation and would queue behind such a lock; for these relations sizes come from
# relpages and definitions are left out, so a review during a migration never waits.
LOCKED_RELATIONS = """
SELECT coalesce(array_agg(DISTINCT coalesce(i.indrelid, l.relation)), '{}')
FROM pg_locks l LEFT JOIN pg_index i ON i.indexrelid = l.relation
WHERE l.locktype = 'relation' AND l.mode = 'AccessExclusiveLock' AND l.pid <> pg_backend_pid()
  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
"""
NO_LOCKED_RELATIONS = "'{}'::oid[]"
#: The locked relations by name (schema, name), for readers that skip them by name.
LOCKED_NAMES = """
SELECT n.nspname AS schema, c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.oid = ANY({LOCKED})
"""


def with_locked(sql: str, locked: str = NO_LOCKED_RELATIONS) -> str:
    """Fill in which relations to size from relpages rather than by opening them."""
    return sql.replace("{LOCKED}", locked)


#: Section name → SQL, in the order the benchmark runs them through psql.
CATALOG_SQL: dict[str, str] = {
    "server": SERVER,
    "settings": SETTINGS,
    "extensions": EXTENSIONS,
    "databases": DATABASES,
    "schemas": SCHEMAS,
    "tables": with_locked(TABLES),
    "columns": with_locked(COLUMNS),
    "constraints": with_locked(CONSTRAINTS),
    "indexes": with_locked(INDEXES),
    "sequences": SEQUENCES,
    "views": with_locked(VIEWS),
    "functions": FUNCTIONS,
    "triggers": TRIGGERS,
    "types": TYPES,
    "comments": COMMENTS,
    "roles": ROLES,
    "privileges": PRIVILEGES,
    "default_privileges": DEFAULT_PRIVILEGES,
    "sessions": SESSIONS,
}

# jsonb columns whose documents are worth sampling: readable, not behind a lock, with rows, largest first.
JSON_COLUMNS = f"""
SELECT n.nspname AS schema, c.relname AS table, a.attname AS column
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE a.atttypid = 'jsonb'::regtype AND a.attnum > 0 AND NOT a.attisdropped
  AND c.relkind IN ('r', 'm') AND c.reltuples > 0 AND NOT c.oid = ANY({{LOCKED}})
  AND has_column_privilege(c.oid, a.attnum, 'SELECT')
  AND {USER_NAMESPACE}
  AND {NOT_EXTENSION_MEMBER.format(oid="c.oid", catalog="'pg_class'")}
ORDER BY c.reltuples DESC, 1, 2, 3
LIMIT 40
"""

# The top-level keys of the first JSON_SAMPLE_ROWS object documents of one column ({table}, {column}).
JSON_SAMPLE_ROWS = 500
JSON_KEYS = """
WITH docs AS (SELECT {column} AS doc FROM {table} WHERE {column} IS NOT NULL LIMIT %(rows)s),
     objects AS (SELECT doc FROM docs WHERE jsonb_typeof(doc) = 'object')
SELECT (SELECT count(*) FROM objects) AS rows_sampled, key, count(*) AS present
FROM objects, jsonb_object_keys(objects.doc) AS key
GROUP BY key ORDER BY count(*) DESC, key LIMIT 50
"""
