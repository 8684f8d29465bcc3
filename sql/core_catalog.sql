-- Catalogue rules every capability must follow (DESIGN.md).
-- Every table: tenant_id first in the primary key (partitioned tables: in each
-- partition's), row-level security on.
SELECT c.relname AS bad_table
FROM pg_class c
LEFT JOIN pg_index i ON i.indrelid = c.oid AND i.indisprimary
WHERE c.relnamespace = 'stratum'::regnamespace AND c.relkind IN ('r', 'p')
  AND (c.relkind = 'r' AND (i.indkey IS NULL OR (SELECT attname FROM pg_attribute WHERE attrelid = c.oid AND attnum = i.indkey[0]) <> 'tenant_id')
	   OR (NOT c.relispartition AND NOT c.relrowsecurity));
-- Every view and every column of tables and views has a comment.
SELECT c.relname, a.attname
FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE c.relnamespace = 'stratum'::regnamespace AND c.relkind IN ('r', 'p', 'v') AND NOT c.relispartition
  AND col_description(c.oid, a.attnum) IS NULL
ORDER BY 1, 2;
SELECT c.relname AS uncommented
FROM pg_class c
WHERE c.relnamespace = 'stratum'::regnamespace AND c.relkind IN ('r', 'p', 'v') AND NOT c.relispartition
  AND obj_description(c.oid, 'pg_class') IS NULL;
-- Every API function has a comment.
SELECT p.oid::regprocedure AS uncommented_function
FROM pg_proc p JOIN pg_depend d ON d.objid = p.oid AND d.deptype = 'e'
WHERE d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'stratum')
  AND p.proname LIKE 'stratum\_%' AND obj_description(p.oid, 'pg_proc') IS NULL;
-- Every table's data survives pg_dump (config dump registered).
SELECT c.relname AS not_dumped
FROM pg_class c
WHERE c.relnamespace = 'stratum'::regnamespace AND c.relkind = 'r'
  AND c.oid NOT IN (SELECT unnest(extconfig) FROM pg_extension WHERE extname = 'stratum')
  AND EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e');
