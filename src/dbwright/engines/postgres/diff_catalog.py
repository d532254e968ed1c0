"""The declarative diff's own catalog reads: what the review's snapshot does not carry.

Both sides of a diff are read with ``search_path = pg_catalog`` (``diff_target``), as pg_dump
reads: every name the server prints (format_type, pg_get_expr, pg_get_*def) is then
schema-qualified, so the migration runs under any search_path and the two sides print alike.

- ``read_extras``: extensions, collations and columns' COLLATE, text-search dictionaries and
  configurations, aggregates' CREATE AGGREGATE, partition bounds, RLS policies, publications,
  owners, and what belongs to something else (an extension's objects and comments on them,
  what a partition inherits from its parent) so the diff leaves it to that owner.
- ``read_dependencies``: pg_depend as edges between the diff's object ids (``table:s.t``,
  ``function:s.f(integer)``, …): the order the migration creates and drops things in.
- ``Canonicalizer``: two spellings of one expression compared in the server's own printed
  form, by creating each on the scratch database inside a rolled-back transaction.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg import conninfo as _conninfo
from psycopg.rows import dict_row

from dbwright.engines.postgres.connect import SessionOptions, open_session, resolve_target
from dbwright.engines.postgres.queries import USER_NAMESPACE

#: The diff reads both sides with only pg_catalog on the path, so every other name prints qualified.
DIFF_SEARCH_PATH = "pg_catalog"
CANON_OPTIONS = SessionOptions(
    read_only=False, statement_timeout="30s", lock_timeout="5s", application_name="dbwright-diff"
)


def diff_target(target: str | None) -> str:
    """``target``'s conninfo with ``search_path=pg_catalog`` for every session opened on it."""
    params = _conninfo.conninfo_to_dict(resolve_target(target))
    params["options"] = " ".join(
        filter(None, [params.get("options", ""), f"-c search_path={DIFF_SEARCH_PATH}"])
    )
    return _conninfo.make_conninfo(**params)


def _member(oid: str, catalog: str) -> str:
    return (
        f"NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = '{catalog}'::regclass AND e.objid = {oid} "
        "AND e.deptype = 'e')"
    )


EXTENSIONS = """
SELECT e.extname AS name, n.nspname AS schema FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
WHERE e.extname <> 'plpgsql' ORDER BY 1
"""

COLLATIONS = f"""
SELECT n.nspname || '.' || c.collname AS key, to_jsonb(c) AS row
FROM pg_collation c JOIN pg_namespace n ON n.oid = c.collnamespace
WHERE {USER_NAMESPACE} AND {_member("c.oid", "pg_collation")}
ORDER BY 1
"""

COLUMN_COLLATIONS = f"""
SELECT n.nspname || '.' || c.relname || '.' || a.attname AS key,
       quote_ident(cn.nspname) || '.' || quote_ident(co.collname) AS collation
FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_type t ON t.oid = a.atttypid
JOIN pg_collation co ON co.oid = a.attcollation JOIN pg_namespace cn ON cn.oid = co.collnamespace
WHERE a.attnum > 0 AND NOT a.attisdropped AND a.attcollation <> t.typcollation
  AND c.relkind IN ('r', 'p', 'f') AND {USER_NAMESPACE}
"""

# Per-column settings pg_dump writes as ALTER COLUMN: SET (n_distinct …), SET STATISTICS, SET STORAGE.
# Options named pg_* are the server's own (this machine's 15.x build keeps a pg_attver in every column).
COLUMN_SETTINGS = f"""
SELECT * FROM (
SELECT n.nspname || '.' || c.relname || '.' || a.attname AS key,
       array(SELECT o FROM unnest(a.attoptions) o WHERE o NOT LIKE 'pg\\_%' ORDER BY 1) AS options,
       CASE WHEN a.attstattarget >= 0 THEN a.attstattarget END AS statistics,
       CASE WHEN a.attstorage <> t.typstorage THEN a.attstorage END AS storage, t.typstorage AS type_storage
FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_type t ON t.oid = a.atttypid
WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p', 'f') AND {USER_NAMESPACE}
) s WHERE options <> '{{}}' OR statistics IS NOT NULL OR storage IS NOT NULL
"""

# What pg_dump writes as ALTER TABLE after the indexes: REPLICA IDENTITY and CLUSTER ON (non-defaults only).
TABLE_SETTINGS = f"""
SELECT * FROM (
SELECT n.nspname || '.' || c.relname AS key,
       c.relreplident AS replica_identity,
       (SELECT quote_ident(ic.relname) FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
         WHERE i.indrelid = c.oid AND i.indisreplident) AS replica_index,
       (SELECT quote_ident(ic.relname) FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
         WHERE i.indrelid = c.oid AND i.indisclustered) AS clustered_on
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'm') AND {USER_NAMESPACE} AND {_member("c.oid", "pg_class")}
) s WHERE replica_identity <> 'd' OR clustered_on IS NOT NULL
"""

SEQUENCE_OPTIONS = f"""
SELECT n.nspname || '.' || c.relname AS key, s.seqstart AS start, s.seqcache AS cache
FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE {USER_NAMESPACE}
"""

TS_DICTIONARIES = f"""
SELECT n.nspname || '.' || d.dictname AS key,
       quote_ident(tn.nspname) || '.' || quote_ident(t.tmplname) AS template, d.dictinitoption AS options
FROM pg_ts_dict d JOIN pg_namespace n ON n.oid = d.dictnamespace
JOIN pg_ts_template t ON t.oid = d.dicttemplate JOIN pg_namespace tn ON tn.oid = t.tmplnamespace
WHERE {USER_NAMESPACE} AND {_member("d.oid", "pg_ts_dict")}
ORDER BY 1
"""

TS_CONFIGS = f"""
SELECT n.nspname || '.' || c.cfgname AS key,
       quote_ident(pn.nspname) || '.' || quote_ident(p.prsname) AS parser,
       coalesce((SELECT array_agg(m.token || ' WITH ' || m.dicts ORDER BY m.token) FROM (
           SELECT (SELECT alias FROM ts_token_type(c.cfgparser) WHERE tokid = cm.maptokentype) AS token,
                  string_agg(quote_ident(dn.nspname) || '.' || quote_ident(d.dictname), ', '
                             ORDER BY cm.mapseqno) AS dicts
             FROM pg_ts_config_map cm JOIN pg_ts_dict d ON d.oid = cm.mapdict
             JOIN pg_namespace dn ON dn.oid = d.dictnamespace
            WHERE cm.mapcfg = c.oid GROUP BY cm.maptokentype) m), '{{}}') AS mappings
FROM pg_ts_config c JOIN pg_namespace n ON n.oid = c.cfgnamespace
JOIN pg_ts_parser p ON p.oid = c.cfgparser JOIN pg_namespace pn ON pn.oid = p.prsnamespace
WHERE {USER_NAMESPACE} AND {_member("c.oid", "pg_ts_config")}
ORDER BY 1
"""

AGGREGATES = f"""
SELECT n.nspname || '.' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')' AS key,
       a.aggkind AS kind,
       'CREATE AGGREGATE ' || quote_ident(n.nspname) || '.' || quote_ident(p.proname)
       || '(' || pg_get_function_arguments(p.oid) || ') ('
       || concat_ws(', ',
            'SFUNC = ' || a.aggtransfn::regproc::text,
            'STYPE = ' || format_type(a.aggtranstype, NULL),
            CASE WHEN a.aggtransspace <> 0 THEN 'SSPACE = ' || a.aggtransspace END,
            CASE WHEN a.aggfinalfn <> 0 THEN 'FINALFUNC = ' || a.aggfinalfn::regproc::text END,
            CASE WHEN a.aggfinalextra THEN 'FINALFUNC_EXTRA' END,
            CASE WHEN a.aggcombinefn <> 0 THEN 'COMBINEFUNC = ' || a.aggcombinefn::regproc::text END,
            CASE WHEN a.aggserialfn <> 0 THEN 'SERIALFUNC = ' || a.aggserialfn::regproc::text END,
            CASE WHEN a.aggdeserialfn <> 0 THEN 'DESERIALFUNC = ' || a.aggdeserialfn::regproc::text END,
            CASE WHEN a.agginitval IS NOT NULL THEN 'INITCOND = ' || quote_literal(a.agginitval) END,
            CASE WHEN a.aggsortop <> 0 THEN 'SORTOP = OPERATOR(' || a.aggsortop::regoperator::text END,
            CASE WHEN p.proparallel = 's' THEN 'PARALLEL = SAFE'
                 WHEN p.proparallel = 'r' THEN 'PARALLEL = RESTRICTED' END)
       || ')' AS definition
FROM pg_aggregate a JOIN pg_proc p ON p.oid = a.aggfnoid JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE {USER_NAMESPACE} AND {_member("p.oid", "pg_proc")}
ORDER BY 1
"""

PARTITIONS = f"""
SELECT n.nspname || '.' || c.relname AS key, pg_get_expr(c.relpartbound, c.oid) AS bound,
       pn.nspname || '.' || pc.relname AS parent
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_inherits i ON i.inhrelid = c.oid JOIN pg_class pc ON pc.oid = i.inhparent
JOIN pg_namespace pn ON pn.oid = pc.relnamespace
WHERE c.relispartition AND {USER_NAMESPACE}
"""

# What a partition has because its parent has it: created with the partition, never on its own.
INHERITED = f"""
SELECT 'columns' AS kind, n.nspname || '.' || c.relname || '.' || a.attname AS key
FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE a.attnum > 0 AND NOT a.attisdropped AND a.attinhcount > 0 AND NOT a.attislocal AND {USER_NAMESPACE}
UNION ALL
SELECT 'constraints', n.nspname || '.' || c.relname || '.' || k.conname
FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE (k.coninhcount > 0 AND NOT k.conislocal OR k.conparentid <> 0) AND {USER_NAMESPACE}
UNION ALL
SELECT 'indexes', n.nspname || '.' || ic.relname
FROM pg_inherits i JOIN pg_class ic ON ic.oid = i.inhrelid JOIN pg_namespace n ON n.oid = ic.relnamespace
WHERE ic.relkind IN ('i', 'I') AND {USER_NAMESPACE}
UNION ALL
SELECT 'triggers', n.nspname || '.' || c.relname || '.' || t.tgname
FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE t.tgparentid <> 0 AND {USER_NAMESPACE}
"""

# What an extension created (its tables, their columns, indexes, constraints; comments on any of its
# objects): CREATE EXTENSION brings it, so the diff neither creates nor comments it.
_EXT_RELS = f"""
SELECT c.oid, c.relkind, n.nspname || '.' || c.relname AS name
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE {USER_NAMESPACE} AND NOT {_member("c.oid", "pg_class")}
"""
EXTENSION_MEMBERS = f"""
WITH rels AS ({_EXT_RELS})
SELECT CASE WHEN relkind IN ('r', 'p', 'f') THEN 'tables' WHEN relkind = 'S' THEN 'sequences'
            WHEN relkind IN ('v', 'm') THEN 'views' ELSE 'indexes' END AS kind, name AS key FROM rels
UNION ALL
SELECT 'columns', r.name || '.' || a.attname FROM rels r JOIN pg_attribute a ON a.attrelid = r.oid
WHERE a.attnum > 0 AND NOT a.attisdropped
UNION ALL
SELECT 'indexes', n.nspname || '.' || ic.relname FROM rels r JOIN pg_index i ON i.indrelid = r.oid
JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_namespace n ON n.oid = ic.relnamespace
UNION ALL
SELECT 'constraints', r.name || '.' || k.conname FROM rels r JOIN pg_constraint k ON k.conrelid = r.oid
UNION ALL
SELECT 'comments', CASE relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'S' THEN 'SEQUENCE'
                   WHEN 'i' THEN 'INDEX' WHEN 'I' THEN 'INDEX' WHEN 'f' THEN 'FOREIGN TABLE' WHEN 'c' THEN 'TYPE'
                   ELSE 'TABLE' END || '|' || name FROM rels
UNION ALL
SELECT 'comments', 'COLUMN|' || r.name || '.' || a.attname FROM rels r JOIN pg_attribute a ON a.attrelid = r.oid
WHERE a.attnum > 0
UNION ALL
SELECT 'comments', CASE p.prokind WHEN 'p' THEN 'PROCEDURE' WHEN 'a' THEN 'AGGREGATE' ELSE 'FUNCTION' END || '|'
       || n.nspname || '.' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')'
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE {USER_NAMESPACE} AND NOT {_member("p.oid", "pg_proc")}
UNION ALL
SELECT 'comments', CASE t.typtype WHEN 'd' THEN 'DOMAIN' ELSE 'TYPE' END || '|' || n.nspname || '.' || t.typname
FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
WHERE {USER_NAMESPACE} AND NOT {_member("t.oid", "pg_type")}
"""

POLICIES = f"""
SELECT n.nspname || '.' || c.relname || '.' || p.polname AS key,
       CASE p.polcmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT' WHEN 'w' THEN 'UPDATE'
                     WHEN 'd' THEN 'DELETE' ELSE 'ALL' END AS command,
       p.polpermissive AS permissive,
       array(SELECT CASE WHEN r = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(r)) END
               FROM unnest(p.polroles) r ORDER BY 1) AS roles,
       pg_get_expr(p.polqual, p.polrelid) AS using, pg_get_expr(p.polwithcheck, p.polrelid) AS check
FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE {USER_NAMESPACE}
ORDER BY 1
"""

# Objects of kinds the diff does not generate, each with what it can cheaply print: a difference among
# them is listed as not handled, never passed over in silence. Extension members are the extension's.
OTHER_OBJECTS = f"""
WITH objects(classid, objid, definition) AS (
    SELECT 'pg_operator'::regclass, o.oid, o.oprcode::text
    FROM pg_operator o JOIN pg_namespace n ON n.oid = o.oprnamespace WHERE {USER_NAMESPACE}
    UNION ALL
    SELECT 'pg_opclass'::regclass, c.oid, NULL FROM pg_opclass c JOIN pg_namespace n ON n.oid = c.opcnamespace
    WHERE {USER_NAMESPACE}
    UNION ALL
    SELECT 'pg_opfamily'::regclass, f.oid, NULL FROM pg_opfamily f JOIN pg_namespace n ON n.oid = f.opfnamespace
    WHERE {USER_NAMESPACE}
    UNION ALL
    SELECT 'pg_cast'::regclass, c.oid, concat_ws(' ', c.castfunc::regprocedure::text, c.castcontext, c.castmethod)
    FROM pg_cast c WHERE c.oid >= 16384
    UNION ALL
    SELECT 'pg_foreign_data_wrapper'::regclass, w.oid, array_to_string(w.fdwoptions, ',')
    FROM pg_foreign_data_wrapper w
    UNION ALL
    SELECT 'pg_foreign_server'::regclass, s.oid, array_to_string(s.srvoptions, ',') FROM pg_foreign_server s
    UNION ALL
    SELECT 'pg_user_mapping'::regclass, m.umid, NULL FROM pg_user_mappings m  -- the view: any role may read it
    UNION ALL
    SELECT 'pg_conversion'::regclass, c.oid, NULL FROM pg_conversion c
    JOIN pg_namespace n ON n.oid = c.connamespace WHERE {USER_NAMESPACE}
    UNION ALL
    SELECT 'pg_transform'::regclass, t.oid, NULL FROM pg_transform t WHERE t.oid >= 16384
    UNION ALL
    SELECT 'pg_language'::regclass, l.oid, NULL FROM pg_language l WHERE l.oid >= 16384
    UNION ALL
    SELECT 'pg_ts_parser'::regclass, p.oid, NULL FROM pg_ts_parser p
    JOIN pg_namespace n ON n.oid = p.prsnamespace WHERE {USER_NAMESPACE}
    UNION ALL
    SELECT 'pg_ts_template'::regclass, t.oid, NULL FROM pg_ts_template t
    JOIN pg_namespace n ON n.oid = t.tmplnamespace WHERE {USER_NAMESPACE}
    UNION ALL
    SELECT 'pg_default_acl'::regclass, d.oid, d.defaclacl::text FROM pg_default_acl d
)
SELECT i.type || ' ' || i.identity AS key, o.definition
FROM objects o, pg_identify_object(o.classid, o.objid, 0) i
WHERE NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = o.classid AND e.objid = o.objid AND e.deptype = 'e')
UNION ALL
SELECT 'column privileges ' || n.nspname || '.' || c.relname || '.' || a.attname, a.attacl::text
FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE a.attacl IS NOT NULL AND a.attnum > 0 AND {USER_NAMESPACE} AND {_member("c.oid", "pg_class")}
"""

# Extended statistics, rules (other than a view's), event triggers: each as the server prints it.
STATISTICS = f"""
SELECT n.nspname || '.' || x.stxname AS key, pg_get_statisticsobjdef(x.oid) AS definition
FROM pg_statistic_ext x JOIN pg_namespace n ON n.oid = x.stxnamespace
WHERE {USER_NAMESPACE} AND {_member("x.oid", "pg_statistic_ext")}
"""
RULES = f"""
SELECT n.nspname || '.' || c.relname || '.' || r.rulename AS key, pg_get_ruledef(r.oid) AS definition,
       r.ev_enabled AS enabled
FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE r.rulename <> '_RETURN' AND {USER_NAMESPACE} AND {_member("r.oid", "pg_rewrite")}
"""
EVENT_TRIGGERS = f"""
SELECT et.evtname AS key, et.evtevent AS event, et.evtfoid::regproc::text || '()' AS function,
       coalesce(et.evttags, '{{}}') AS tags, et.evtenabled AS enabled
FROM pg_event_trigger et WHERE {_member("et.oid", "pg_event_trigger")}
"""

PUBLICATIONS = """
SELECT p.pubname AS name, p.puballtables AS all_tables, p.pubviaroot AS via_root,
       concat_ws(', ', CASE WHEN p.pubinsert THEN 'insert' END, CASE WHEN p.pubupdate THEN 'update' END,
                 CASE WHEN p.pubdelete THEN 'delete' END, CASE WHEN p.pubtruncate THEN 'truncate' END) AS publish,
       coalesce((SELECT array_agg(quote_ident(n.nspname) || '.' || quote_ident(c.relname) || {table_extra}
                                  ORDER BY 1)
                   FROM pg_publication_rel r JOIN pg_class c ON c.oid = r.prrelid
                   JOIN pg_namespace n ON n.oid = c.relnamespace WHERE r.prpubid = p.oid), '{{}}') AS tables,
       {schemas} AS schemas
FROM pg_publication p ORDER BY 1
"""
#: PostgreSQL 15 added a table's column list and row filter, and whole schemas, to publications.
PUBLICATION_TABLE_EXTRA_15 = """coalesce(' (' || (SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum)
                            FROM pg_attribute a WHERE a.attrelid = r.prrelid AND a.attnum = ANY(r.prattrs)) || ')', '')
       || coalesce(' WHERE (' || pg_get_expr(r.prqual, r.prrelid) || ')', '')"""
PUBLICATION_SCHEMAS_15 = """coalesce((SELECT array_agg(quote_ident(n.nspname) ORDER BY 1) FROM pg_publication_namespace pn
                   JOIN pg_namespace n ON n.oid = pn.pnnspid WHERE pn.pnpubid = p.oid), '{}')"""


def publications_query(server_version: int) -> str:
    if server_version >= 150000:
        return PUBLICATIONS.format(table_extra=PUBLICATION_TABLE_EXTRA_15, schemas=PUBLICATION_SCHEMAS_15)
    return PUBLICATIONS.format(table_extra="''", schemas="'{}'::text[]")


OWNERS = f"""
SELECT CASE c.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
                      WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END || '|' || n.nspname || '.' || c.relname AS key,
       pg_get_userbyid(c.relowner) AS owner
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'f', 'v', 'm', 'S') AND {USER_NAMESPACE} AND {_member("c.oid", "pg_class")}
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                  AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i'))  -- follows its table
UNION ALL
SELECT CASE p.prokind WHEN 'p' THEN 'PROCEDURE' WHEN 'a' THEN 'AGGREGATE' ELSE 'FUNCTION' END || '|'
       || n.nspname || '.' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')',
       pg_get_userbyid(p.proowner)
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE {USER_NAMESPACE} AND {_member("p.oid", "pg_proc")}
UNION ALL
SELECT CASE t.typtype WHEN 'd' THEN 'DOMAIN' ELSE 'TYPE' END || '|' || n.nspname || '.' || t.typname,
       pg_get_userbyid(t.typowner)
FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace LEFT JOIN pg_class c ON c.oid = t.typrelid
WHERE (t.typtype IN ('e', 'd') OR (t.typtype = 'c' AND c.relkind = 'c')) AND {USER_NAMESPACE}
  AND {_member("t.oid", "pg_type")}
UNION ALL
SELECT 'SCHEMA|' || n.nspname, pg_get_userbyid(n.nspowner) FROM pg_namespace n
WHERE {USER_NAMESPACE} AND {_member("n.oid", "pg_namespace")}
"""

# Every user object as the diff's id; an extension's member stands for its extension.
_OBJECTS = f"""
WITH rels AS (
    SELECT c.oid, n.nspname || '.' || c.relname AS name, c.relkind
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE {USER_NAMESPACE}
), objects(classid, objid, objsubid, id) AS (
    SELECT 'pg_class'::regclass, r.oid, 0,
           CASE WHEN r.relkind IN ('r', 'p', 'f') THEN 'table:' WHEN r.relkind IN ('v', 'm') THEN 'view:'
                WHEN r.relkind = 'S' THEN 'sequence:' WHEN r.relkind IN ('i', 'I') THEN 'index:'
                ELSE 'type:' END || r.name
    FROM rels r
    UNION ALL
    SELECT 'pg_class'::regclass, r.oid, a.attnum, 'column:' || r.name || '.' || a.attname
    FROM rels r JOIN pg_attribute a ON a.attrelid = r.oid
    WHERE a.attnum > 0 AND NOT a.attisdropped AND r.relkind IN ('r', 'p', 'f')
    UNION ALL
    SELECT 'pg_attrdef'::regclass, d.oid, 0, 'column:' || r.name || '.' || a.attname
    FROM pg_attrdef d JOIN rels r ON r.oid = d.adrelid
    JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
    UNION ALL
    SELECT 'pg_proc'::regclass, p.oid, 0,
           'function:' || n.nspname || '.' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')'
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE {USER_NAMESPACE}
    UNION ALL
    SELECT 'pg_type'::regclass, t.oid, 0,
           CASE WHEN r.relkind IN ('r', 'p', 'f') THEN 'table:' || r.name
                WHEN r.relkind IN ('v', 'm') THEN 'view:' || r.name
                WHEN e.oid IS NOT NULL THEN 'type:' || en.nspname || '.' || e.typname
                ELSE 'type:' || n.nspname || '.' || t.typname END
    FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
    LEFT JOIN rels r ON r.oid = t.typrelid
    LEFT JOIN pg_type e ON e.oid = t.typelem AND t.typcategory = 'A'
    LEFT JOIN pg_namespace en ON en.oid = e.typnamespace
    WHERE {USER_NAMESPACE}
    UNION ALL
    SELECT 'pg_constraint'::regclass, k.oid, 0,
           CASE WHEN k.conrelid <> 0 THEN 'constraint:' || r.name || '.' || k.conname
                ELSE 'type:' || n.nspname || '.' || t.typname END
    FROM pg_constraint k LEFT JOIN rels r ON r.oid = k.conrelid
    LEFT JOIN pg_type t ON t.oid = k.contypid LEFT JOIN pg_namespace n ON n.oid = t.typnamespace
    WHERE r.oid IS NOT NULL OR ({USER_NAMESPACE})
    UNION ALL
    SELECT 'pg_trigger'::regclass, t.oid, 0, 'trigger:' || r.name || '.' || t.tgname
    FROM pg_trigger t JOIN rels r ON r.oid = t.tgrelid WHERE NOT t.tgisinternal
    UNION ALL
    SELECT 'pg_rewrite'::regclass, w.oid, 0,
           CASE WHEN w.rulename = '_RETURN' THEN 'view:' || r.name ELSE 'rule:' || r.name || '.' || w.rulename END
    FROM pg_rewrite w JOIN rels r ON r.oid = w.ev_class
    UNION ALL
    SELECT 'pg_policy'::regclass, p.oid, 0, 'policy:' || r.name || '.' || p.polname
    FROM pg_policy p JOIN rels r ON r.oid = p.polrelid
    UNION ALL
    SELECT 'pg_statistic_ext'::regclass, x.oid, 0, 'statistics:' || n.nspname || '.' || x.stxname
    FROM pg_statistic_ext x JOIN pg_namespace n ON n.oid = x.stxnamespace WHERE {USER_NAMESPACE}
    UNION ALL
    SELECT 'pg_event_trigger'::regclass, e.oid, 0, 'event_trigger:' || e.evtname FROM pg_event_trigger e
    UNION ALL
    SELECT 'pg_namespace'::regclass, n.oid, 0, 'schema:' || n.nspname FROM pg_namespace n WHERE {USER_NAMESPACE}
    UNION ALL
    SELECT 'pg_extension'::regclass, e.oid, 0, 'extension:' || e.extname FROM pg_extension e
    UNION ALL
    SELECT 'pg_collation'::regclass, c.oid, 0, 'collation:' || n.nspname || '.' || c.collname
    FROM pg_collation c JOIN pg_namespace n ON n.oid = c.collnamespace WHERE {USER_NAMESPACE}
    UNION ALL
    SELECT 'pg_ts_config'::regclass, c.oid, 0, 'ts_config:' || n.nspname || '.' || c.cfgname
    FROM pg_ts_config c JOIN pg_namespace n ON n.oid = c.cfgnamespace WHERE {USER_NAMESPACE}
    UNION ALL
    SELECT 'pg_ts_dict'::regclass, d.oid, 0, 'ts_dictionary:' || n.nspname || '.' || d.dictname
    FROM pg_ts_dict d JOIN pg_namespace n ON n.oid = d.dictnamespace WHERE {USER_NAMESPACE}
), ids AS (
    SELECT o.classid, o.objid, o.objsubid, coalesce('extension:' || x.extname, o.id) AS id
    FROM objects o
    LEFT JOIN pg_depend m ON m.classid = o.classid AND m.objid = o.objid AND m.deptype = 'e'
    LEFT JOIN pg_extension x ON x.oid = m.refobjid
)
"""

DEPENDENCIES = (
    _OBJECTS
    + """
SELECT DISTINCT dep.id AS dependent, ref.id AS referenced
FROM pg_depend d
JOIN ids dep ON dep.classid = d.classid AND dep.objid = d.objid AND dep.objsubid = d.objsubid
JOIN ids ref ON ref.classid = d.refclassid AND ref.objid = d.refobjid
            AND ref.objsubid = CASE WHEN d.refclassid = 'pg_class'::regclass
                                     AND EXISTS (SELECT 1 FROM ids c WHERE c.classid = d.refclassid
                                                 AND c.objid = d.refobjid AND c.objsubid = d.refobjsubid)
                                    THEN d.refobjsubid ELSE 0 END
WHERE d.deptype IN ('n', 'a') AND dep.id <> ref.id
  AND NOT (dep.id LIKE 'sequence:%' AND ref.id LIKE 'column:%')  -- OWNED BY: set after both exist
"""
)


def _rows(conn: psycopg.Connection, sql: str) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(sql)
        return cur.fetchall()


def read_extras(conn: psycopg.Connection) -> dict[str, Any]:
    """The diff's sections beyond the snapshot, as plain data (see the module docstring)."""
    inherited: dict[str, set[str]] = {}
    for row in _rows(conn, INHERITED) + _rows(conn, EXTENSION_MEMBERS):
        inherited.setdefault(row["kind"], set()).add(row["key"])
    return {
        "role": _rows(conn, "SELECT current_user AS role")[0]["role"],
        "extensions": {r["name"]: {"schema": r["schema"]} for r in _rows(conn, EXTENSIONS)},
        "collations": {r["key"]: collation_options(r["row"]) for r in _rows(conn, COLLATIONS)},
        "column_collations": {r["key"]: r["collation"] for r in _rows(conn, COLUMN_COLLATIONS)},
        "table_settings": {
            r["key"]: {k: v for k, v in r.items() if k != "key"} for r in _rows(conn, TABLE_SETTINGS)
        },
        "sequence_options": {
            r["key"]: {"start": r["start"], "cache": r["cache"]} for r in _rows(conn, SEQUENCE_OPTIONS)
        },
        "column_settings": {
            r["key"]: {k: (sorted(v) if k == "options" else v) for k, v in r.items() if k != "key"}
            for r in _rows(conn, COLUMN_SETTINGS)
        },
        "ts_dictionaries": {
            r["key"]: {"template": r["template"], "options": r["options"]}
            for r in _rows(conn, TS_DICTIONARIES)
        },
        "ts_configs": {
            r["key"]: {"parser": r["parser"], "mappings": list(r["mappings"])}
            for r in _rows(conn, TS_CONFIGS)
        },
        "aggregates": {
            r["key"]: {"kind": r["kind"], "definition": r["definition"]} for r in _rows(conn, AGGREGATES)
        },
        "partitions": {
            r["key"]: {"bound": r["bound"], "parent": r["parent"]} for r in _rows(conn, PARTITIONS)
        },
        "inherited": inherited,
        "policies": {
            r["key"]: {k: (list(v) if k == "roles" else v) for k, v in r.items() if k != "key"}
            for r in _rows(conn, POLICIES)
        },
        "publications": {
            r["name"]: {**r, "tables": list(r["tables"]), "schemas": list(r["schemas"])}
            for r in _rows(conn, publications_query(conn.info.server_version))
        },
        "owners": {r["key"]: r["owner"] for r in _rows(conn, OWNERS)},
        "other": {r["key"]: {"definition": r["definition"]} for r in _rows(conn, OTHER_OBJECTS)},
        "statistics": {r["key"]: {"definition": r["definition"]} for r in _rows(conn, STATISTICS)},
        "rules": {r["key"]: {k: v for k, v in r.items() if k != "key"} for r in _rows(conn, RULES)},
        "event_triggers": {
            r["key"]: {**{k: v for k, v in r.items() if k != "key"}, "tags": list(r["tags"])}
            for r in _rows(conn, EVENT_TRIGGERS)
        },
    }


def collation_options(row: dict[str, Any]) -> dict[str, Any]:
    """CREATE COLLATION's options from a pg_collation row of any version (13: collcollate; 15:
    colliculocale; 17: colllocale)."""
    provider = {"i": "icu", "c": "libc", "b": "builtin", "d": "default"}.get(row.get("collprovider"), "libc")
    if provider in ("icu", "builtin"):
        options = {"locale": row.get("colllocale") or row.get("colliculocale") or row.get("collcollate")}
    else:
        options = {"lc_collate": row.get("collcollate"), "lc_ctype": row.get("collctype")}
    return {"provider": provider, **options, "deterministic": bool(row.get("collisdeterministic", True))}


def read_dependencies(conn: psycopg.Connection) -> set[tuple[str, str]]:
    """pg_depend as (dependent id, referenced id) pairs between user objects."""
    return {(r["dependent"], r["referenced"]) for r in _rows(conn, DEPENDENCIES)}


def read_side(target: str) -> tuple[dict[str, Any], set[tuple[str, str]]]:
    """Extras and dependencies of one side, in one read-only session with the diff's search_path."""
    with open_session(diff_target(target)) as conn:
        return read_extras(conn), read_dependencies(conn)


# --- canonical expressions -----------------------------------------------------------------------

_PROBE = "dbwright_canon_probe"
_INDEX_NAME = re.compile(r"^(CREATE (?:UNIQUE )?INDEX )(\S+|\"(?:[^\"]|\"\")+\")( ON )")


class Canonicalizer:
    """Prints a definition the way the scratch server stores it, until the printing stops changing.

    PostgreSQL does not always print what it was given: ``x IN ('a', 'b')`` on a varchar column
    comes back as ``= ANY ((ARRAY['a'::varchar, …])::text[])``, which reads back as
    ``ARRAY[('a'::varchar)::text, …]``. Each probe runs in a savepoint of one transaction
    that is rolled back, so the scratch database is left as it was.
    """

    MAX_ROUNDS = 4

    def __init__(self, conn: psycopg.Connection) -> None:
        self.conn = conn
        self.cache: dict[tuple[str, str, str], str | None] = {}

    def same(self, kind: str, key: str, before: str, after: str) -> bool:
        """Whether two definitions of ``kind`` (for object ``key``) are the same once printed by the server."""
        if before == after:
            return True
        a, b = self.canonical(kind, key, before), self.canonical(kind, key, after)
        return a is not None and a == b

    def canonical(self, kind: str, key: str, text: str) -> str | None:
        cache_key = (kind, key, text)
        if cache_key not in self.cache:
            self.cache[cache_key] = self._fixed_point(kind, key, text)
        return self.cache[cache_key]

    def _fixed_point(self, kind: str, key: str, text: str) -> str | None:
        probe = _PROBES.get(kind)
        if probe is None:
            return None
        current = text
        for _ in range(self.MAX_ROUNDS):
            try:
                with self.conn.transaction(force_rollback=True):
                    printed = probe(self.conn, key, current)
            except psycopg.Error:
                return None
            if printed == current:
                break
            current = printed
        return current


def _one(conn: psycopg.Connection, sql: str, params: Any = None) -> Any:
    row = conn.execute(sql, params).fetchone()
    return row[0] if row else None


def _table_of(key: str) -> str:
    return quote_qualified(key.rsplit(".", 1)[0])


def quote_qualified(name: str) -> str:
    schema, _, rest = name.partition(".")
    return f'"{schema.replace(chr(34), chr(34) * 2)}"."{rest.replace(chr(34), chr(34) * 2)}"'


def _probe_check(conn: psycopg.Connection, key: str, definition: str) -> str:
    table = _table_of(key)
    conn.execute(f"ALTER TABLE {table} ADD CONSTRAINT {_PROBE} {definition}")
    return _one(
        conn,
        f"SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = '{table}'::regclass "
        f"AND conname = '{_PROBE}'",
    )


def _probe_default(conn: psycopg.Connection, key: str, expression: str) -> str:
    table, column = _table_of(key), key.rsplit(".", 1)[1]
    quoted = '"' + column.replace('"', '""') + '"'
    conn.execute(f"ALTER TABLE {table} ALTER COLUMN {quoted} SET DEFAULT {expression}")
    return _one(
        conn,
        f"SELECT pg_get_expr(d.adbin, d.adrelid) FROM pg_attrdef d JOIN pg_attribute a "
        f"ON a.attrelid = d.adrelid AND a.attnum = d.adnum WHERE d.adrelid = '{table}'::regclass "
        "AND a.attname = %s",
        (column,),
    )


def _probe_index(conn: psycopg.Connection, key: str, definition: str) -> str:
    match = _INDEX_NAME.match(definition)
    if not match:
        raise psycopg.ProgrammingError("not an index definition")
    schema = key.split(".", 1)[0]
    conn.execute(_INDEX_NAME.sub(rf"\g<1>{_PROBE}\g<3>", definition, count=1))
    printed = _one(conn, f"SELECT pg_get_indexdef('{quote_qualified(f'{schema}.{_PROBE}')}'::regclass)")
    return printed.replace(f"INDEX {_PROBE} ON", f"INDEX {match.group(2)} ON", 1)


def _probe_view(conn: psycopg.Connection, key: str, definition: str) -> str:
    schema = key.split(".", 1)[0]
    probe = quote_qualified(f"{schema}.{_PROBE}")
    conn.execute(f"CREATE VIEW {probe} AS {definition.rstrip().rstrip(';')}")
    return _one(conn, f"SELECT pg_get_viewdef('{probe}'::regclass)")


def _probe_policy_expr(conn: psycopg.Connection, key: str, expression: str) -> str:
    table = _table_of(key)
    conn.execute(f"CREATE POLICY {_PROBE} ON {table} USING ({expression})")
    return _one(
        conn,
        f"SELECT pg_get_expr(polqual, polrelid) FROM pg_policy WHERE polrelid = '{table}'::regclass "
        f"AND polname = '{_PROBE}'",
    )


def _probe_generated(conn: psycopg.Connection, key: str, expression: str) -> str:
    """A generated column's expression: a probe column of the same type, generated by it."""
    table, column = _table_of(key), key.rsplit(".", 1)[1]
    data_type = _one(
        conn,
        f"SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = '{table}'::regclass "
        "AND attname = %s",
        (column,),
    )
    conn.execute(
        f"ALTER TABLE {table} ADD COLUMN {_PROBE} {data_type} GENERATED ALWAYS AS ({expression}) STORED"
    )
    return _one(
        conn,
        f"SELECT pg_get_expr(d.adbin, d.adrelid) FROM pg_attrdef d JOIN pg_attribute a "
        f"ON a.attrelid = d.adrelid AND a.attnum = d.adnum WHERE d.adrelid = '{table}'::regclass "
        f"AND a.attname = '{_PROBE}'",
    )


_TRIGGER_NAME = re.compile(r"^(CREATE (?:CONSTRAINT )?TRIGGER )(\S+|\"(?:[^\"]|\"\")+\")( )")


def _probe_trigger(conn: psycopg.Connection, key: str, definition: str) -> str:
    match = _TRIGGER_NAME.match(definition)
    if not match:
        raise psycopg.ProgrammingError("not a trigger definition")
    conn.execute(_TRIGGER_NAME.sub(rf"\g<1>{_PROBE}\g<3>", definition, count=1))
    printed = _one(
        conn,
        f"SELECT pg_get_triggerdef(oid) FROM pg_trigger WHERE tgrelid = '{_table_of(key)}'::regclass "
        f"AND tgname = '{_PROBE}'",
    )
    return printed.replace(f"TRIGGER {_PROBE} ", f"TRIGGER {match.group(2)} ", 1)


def _probe_domain_check(conn: psycopg.Connection, key: str, check: str) -> str:
    domain = quote_qualified(key)
    conn.execute(f"ALTER DOMAIN {domain} ADD CONSTRAINT {_PROBE} {check}")
    return _one(
        conn,
        f"SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE contypid = '{domain}'::regtype "
        f"AND conname = '{_PROBE}'",
    )


_PROBES = {
    "trigger": _probe_trigger,
    "domain_check": _probe_domain_check,
    "generated": _probe_generated,
    "constraint": _probe_check,
    "default": _probe_default,
    "index": _probe_index,
    "view": _probe_view,
    "policy": _probe_policy_expr,
}


@contextmanager
def canonicalizer(scratch: str) -> Iterator[Canonicalizer]:
    """A Canonicalizer on the scratch database (writable, each probe rolled back)."""
    with open_session(diff_target(scratch), CANON_OPTIONS) as conn:
        yield Canonicalizer(conn)
