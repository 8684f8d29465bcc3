/*
 * test/upgrade_fingerprint.sql
 *		Catalog fingerprint of the installed stratum extension: one line of
 *		text per property of every object it defines, sorted, with no OIDs,
 *		so that two databases can be compared with diff.  test/t/060_upgrade.pl
 *		compares a database updated from 0.1.0 with a fresh install.
 *
 *	Run with psql -XAtq (as the test does): the output is the fingerprint.
 *	It sets search_path to pg_catalog so that every name is schema-qualified.
 *
 *	Objects covered: the members of the extension (pg_depend deptype 'e') and
 *	the objects in schemas stratum and stratum_internal, except partitions
 *	that are not members (the monthly event partitions made by maintenance
 *	hold data, not definitions).  For each:
 *	 - extension: version, schema, relocatable, member list, config tables
 *	   registered with pg_extension_config_dump and their filters;
 *	 - relations: kind, persistence, options, row-level security, replica
 *	   identity, partition key and bound, inheritance; columns in order with
 *	   type, not null, default, identity, generated, collation, storage,
 *	   options and privileges; view definitions; indexes, constraints,
 *	   triggers, policies, rules, extended statistics; sequence parameters and
 *	   owner column;
 *	 - functions and procedures: kind, arguments with defaults, result,
 *	   language, source (or SQL body), probin, volatility, strictness,
 *	   security definer, leakproof, parallel safety, cost, rows, support
 *	   function, configuration; aggregates' parts;
 *	 - types (base, domain, enum, range, composite), operators, operator
 *	   classes and families with their members, casts, schemas;
 *	 - comments, privileges (ACLs) and initial privileges (pg_init_privs);
 *	 - the rows of tenant '_system' seeded into member tables (the built-in
 *	   jobs in stratum.job_schedules), without timestamps and generated ids.
 *
 *	Normalised because they legitimately differ between an updated and a
 *	fresh database: OIDs (objects are named instead), physical column
 *	numbers (a dropped column leaves a gap; columns are numbered by their
 *	order among the live ones), the order of entries within an ACL and of
 *	the config tables in pg_extension.extconfig, and the column option
 *	pg_attver that the server stamps on every column with a value that
 *	differs between any two databases.
 */
SET search_path = pg_catalog;

-- An ACL as a sorted list: entries granted in a different order are equal.
CREATE FUNCTION pg_temp.fp_acl(acl aclitem[]) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
	SELECT coalesce((SELECT string_agg(a::text, ',' ORDER BY a::text) FROM unnest(acl) a), '(default)')
$$;

-- Column options without pg_attver, which this server stamps on every column
-- with a value that differs from one database to the next.
CREATE FUNCTION pg_temp.fp_attoptions(opts text[]) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
	SELECT coalesce((SELECT string_agg(o, ',' ORDER BY o) FROM unnest(opts) o WHERE o NOT LIKE 'pg\_attver=%'), '-')
$$;

-- Rows of tenant '_system' in member tables, as JSON without the columns that
-- differ from one insertion to the next: timestamps and generated ids.
CREATE FUNCTION pg_temp.fp_system_rows(ext oid) RETURNS TABLE (obj text, val text)
LANGUAGE plpgsql AS $$
DECLARE
	r		record;
	skip	text[];
BEGIN
	FOR r IN
		SELECT c.oid FROM pg_depend d JOIN pg_class c ON c.oid = d.objid
		WHERE d.refclassid = 'pg_extension'::regclass AND d.refobjid = ext AND d.deptype = 'e'
		  AND d.classid = 'pg_class'::regclass AND c.relkind IN ('r', 'p') AND NOT c.relispartition
		  AND EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = c.oid AND attname = 'tenant_id' AND NOT attisdropped)
	LOOP
		SELECT coalesce(array_agg(a.attname::text), '{}') INTO skip
		FROM pg_attribute a LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
		WHERE a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped
		  AND (a.atttypid IN ('timestamptz'::regtype, 'timestamp'::regtype)
			   OR a.attidentity <> ''
			   OR pg_get_expr(ad.adbin, ad.adrelid) LIKE 'nextval(%');
		RETURN QUERY EXECUTE format('SELECT %L::text, (to_jsonb(t) - %L::text[])::text FROM %s t WHERE t.tenant_id = %L',
									pg_describe_object('pg_class'::regclass, r.oid, 0), skip, r.oid::regclass, '_system');
	END LOOP;
END $$;

WITH
ext AS (
	SELECT e.* FROM pg_extension e WHERE e.extname = 'stratum'
),
member AS (
	SELECT d.classid, d.objid FROM pg_depend d, ext
	WHERE d.refclassid = 'pg_extension'::regclass AND d.refobjid = ext.oid AND d.deptype = 'e'
),
nsp AS (
	SELECT oid FROM pg_namespace WHERE nspname IN ('stratum', 'stratum_internal')
),
typ AS (
	SELECT t.oid FROM pg_type t
	WHERE t.oid IN (SELECT objid FROM member WHERE classid = 'pg_type'::regclass)
	   OR (t.typnamespace IN (SELECT oid FROM nsp)
		   AND NOT EXISTS (SELECT 1 FROM pg_type e WHERE e.typarray = t.oid)
		   AND (t.typrelid = 0 OR (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c'))
),
rel AS (
	SELECT c.oid FROM pg_class c
	WHERE c.oid IN (SELECT objid FROM member WHERE classid = 'pg_class'::regclass)
	   OR c.oid IN (SELECT typrelid FROM pg_type WHERE oid IN (SELECT oid FROM typ))
	   OR (c.relnamespace IN (SELECT oid FROM nsp)
		   AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f', 'c') AND NOT c.relispartition)
),
proc AS (
	SELECT p.oid FROM pg_proc p
	WHERE p.oid IN (SELECT objid FROM member WHERE classid = 'pg_proc'::regclass)
	   OR p.pronamespace IN (SELECT oid FROM nsp)
),
opr AS (
	SELECT o.oid FROM pg_operator o
	WHERE o.oid IN (SELECT objid FROM member WHERE classid = 'pg_operator'::regclass)
	   OR o.oprnamespace IN (SELECT oid FROM nsp)
),
opc AS (
	SELECT o.oid FROM pg_opclass o
	WHERE o.oid IN (SELECT objid FROM member WHERE classid = 'pg_opclass'::regclass)
	   OR o.opcnamespace IN (SELECT oid FROM nsp)
),
opf AS (
	SELECT o.oid FROM pg_opfamily o
	WHERE o.oid IN (SELECT objid FROM member WHERE classid = 'pg_opfamily'::regclass)
	   OR o.opfnamespace IN (SELECT oid FROM nsp)
	   OR o.oid IN (SELECT opcfamily FROM pg_opclass WHERE oid IN (SELECT oid FROM opc))
),
-- Every object in scope, sub-objects of relations included: for comments and
-- initial privileges.
scope (classid, objid) AS (
	SELECT classid, objid FROM member
	UNION SELECT 'pg_namespace'::regclass, oid FROM nsp
	UNION SELECT 'pg_class'::regclass, oid FROM rel
	UNION SELECT 'pg_class'::regclass, indexrelid FROM pg_index WHERE indrelid IN (SELECT oid FROM rel)
	UNION SELECT 'pg_type'::regclass, oid FROM typ
	UNION SELECT 'pg_proc'::regclass, oid FROM proc
	UNION SELECT 'pg_operator'::regclass, oid FROM opr
	UNION SELECT 'pg_opclass'::regclass, oid FROM opc
	UNION SELECT 'pg_opfamily'::regclass, oid FROM opf
	UNION SELECT 'pg_constraint'::regclass, oid FROM pg_constraint
		WHERE conrelid IN (SELECT oid FROM rel) OR contypid IN (SELECT oid FROM typ)
	UNION SELECT 'pg_trigger'::regclass, oid FROM pg_trigger
		WHERE tgrelid IN (SELECT oid FROM rel) AND NOT tgisinternal
	UNION SELECT 'pg_policy'::regclass, oid FROM pg_policy WHERE polrelid IN (SELECT oid FROM rel)
	UNION SELECT 'pg_rewrite'::regclass, oid FROM pg_rewrite
		WHERE ev_class IN (SELECT oid FROM rel) AND rulename <> '_RETURN'
	UNION SELECT 'pg_statistic_ext'::regclass, oid FROM pg_statistic_ext WHERE stxrelid IN (SELECT oid FROM rel)
),
fp (obj, prop, sortkey, val) AS (
	-- the extension itself
	SELECT 'extension ' || extname, 'extension', '',
		   format('version %s, schema %s, relocatable %s', extversion, extnamespace::regnamespace, extrelocatable)
	FROM ext
	UNION ALL
	SELECT 'extension ' || e.extname, 'member', '', pg_describe_object(m.classid, m.objid, 0)
	FROM ext e, member m
	UNION ALL
	SELECT 'extension ' || e.extname, 'config table', '',
		   format('%s %s', c.cfg::regclass, quote_literal(c.cond))
	FROM ext e, unnest(e.extconfig, e.extcondition) AS c(cfg, cond)

	-- objects in the schemas that are not members of the extension
	UNION ALL
	SELECT 'not an extension member', 'object', '', pg_describe_object(s.classid, s.objid, 0)
	FROM scope s
	WHERE (s.classid, s.objid) NOT IN (SELECT classid, objid FROM member)
	  AND s.classid IN ('pg_class'::regclass, 'pg_proc'::regclass, 'pg_type'::regclass,
						'pg_operator'::regclass, 'pg_opclass'::regclass, 'pg_opfamily'::regclass)
	  AND NOT (s.classid = 'pg_class'::regclass
			   AND (SELECT relkind FROM pg_class WHERE oid = s.objid) IN ('i', 'I', 'c'))

	-- schemas
	UNION ALL
	SELECT pg_describe_object('pg_namespace'::regclass, n.oid, 0), 'schema', '',
		   format('owner %s, acl %s', pg_get_userbyid(n.nspowner), pg_temp.fp_acl(n.nspacl))
	FROM pg_namespace n WHERE n.oid IN (SELECT oid FROM nsp)

	-- relations
	UNION ALL
	SELECT pg_describe_object('pg_class'::regclass, c.oid, 0), 'relation', '',
		   format('kind %s, persistence %s, access method %s, options %s, row security %s, forced %s, replica identity %s, acl %s',
				  c.relkind, c.relpersistence, coalesce(am.amname, '-'), coalesce(c.reloptions::text, '-'),
				  c.relrowsecurity, c.relforcerowsecurity, c.relreplident, pg_temp.fp_acl(c.relacl))
	FROM pg_class c LEFT JOIN pg_am am ON am.oid = c.relam
	WHERE c.oid IN (SELECT oid FROM rel)
	UNION ALL
	SELECT pg_describe_object('pg_class'::regclass, c.oid, 0), 'partition key', '', pg_get_partkeydef(c.oid)
	FROM pg_class c WHERE c.oid IN (SELECT oid FROM rel) AND c.relkind = 'p'
	UNION ALL
	SELECT pg_describe_object('pg_class'::regclass, i.inhrelid, 0),
		   CASE WHEN c.relispartition THEN 'partition of' ELSE 'inherits' END, '',
		   format('%s %s', i.inhparent::regclass, coalesce(pg_get_expr(c.relpartbound, c.oid), ''))
	FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
	WHERE i.inhrelid IN (SELECT oid FROM rel)
	UNION ALL
	SELECT pg_describe_object('pg_class'::regclass, a.attrelid, 0), 'column',
		   to_char(row_number() OVER (PARTITION BY a.attrelid ORDER BY a.attnum), 'FM0000'),
		   concat_ws(' ', quote_ident(a.attname), format_type(a.atttypid, a.atttypmod),
					 CASE WHEN a.attcollation <> t.typcollation THEN 'collate ' || a.attcollation::regcollation END,
					 CASE WHEN a.attnotnull THEN 'not null' END,
					 CASE WHEN a.attgenerated = 's' THEN 'generated always as (' || pg_get_expr(ad.adbin, ad.adrelid) || ') stored'
						  WHEN ad.adbin IS NOT NULL THEN 'default ' || pg_get_expr(ad.adbin, ad.adrelid) END,
					 CASE a.attidentity WHEN 'a' THEN 'generated always as identity'
										WHEN 'd' THEN 'generated by default as identity' END,
					 CASE WHEN a.attstorage <> t.typstorage THEN 'storage ' || a.attstorage::text END,
					 CASE WHEN a.attcompression <> '' THEN 'compression ' || a.attcompression::text END,
					 CASE WHEN a.attstattarget <> -1 THEN 'statistics ' || a.attstattarget END,
					 'options ' || pg_temp.fp_attoptions(a.attoptions),
					 'acl ' || pg_temp.fp_acl(a.attacl))
	FROM pg_attribute a
	JOIN pg_type t ON t.oid = a.atttypid
	LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
	WHERE a.attrelid IN (SELECT oid FROM rel) AND a.attnum > 0 AND NOT a.attisdropped
	UNION ALL
	SELECT pg_describe_object('pg_class'::regclass, c.oid, 0), 'definition', '', pg_get_viewdef(c.oid)
	FROM pg_class c WHERE c.oid IN (SELECT oid FROM rel) AND c.relkind IN ('v', 'm')
	UNION ALL
	SELECT pg_describe_object('pg_class'::regclass, i.indrelid, 0), 'index', ic.relname,
		   concat_ws(' ', pg_get_indexdef(i.indexrelid),
					 CASE WHEN i.indisclustered THEN '(clustered)' END,
					 CASE WHEN i.indisreplident THEN '(replica identity)' END,
					 CASE WHEN NOT i.indisvalid THEN '(invalid)' END)
	FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
	WHERE i.indrelid IN (SELECT oid FROM rel)
	UNION ALL
	SELECT pg_describe_object(CASE WHEN co.conrelid <> 0 THEN 'pg_class'::regclass ELSE 'pg_type'::regclass END,
							  CASE WHEN co.conrelid <> 0 THEN co.conrelid ELSE co.contypid END, 0),
		   'constraint', co.conname,
		   format('%s %s%s', quote_ident(co.conname), pg_get_constraintdef(co.oid),
				  CASE WHEN NOT co.conislocal OR co.coninhcount > 0
					   THEN format(' (local %s, inherited %s)', co.conislocal, co.coninhcount) ELSE '' END)
	FROM pg_constraint co
	WHERE co.conrelid IN (SELECT oid FROM rel) OR co.contypid IN (SELECT oid FROM typ)
	UNION ALL
	SELECT pg_describe_object('pg_class'::regclass, tg.tgrelid, 0), 'trigger', tg.tgname,
		   format('%s (enabled %s)', pg_get_triggerdef(tg.oid), tg.tgenabled)
	FROM pg_trigger tg WHERE tg.tgrelid IN (SELECT oid FROM rel) AND NOT tg.tgisinternal
	UNION ALL
	SELECT pg_describe_object('pg_class'::regclass, po.polrelid, 0), 'policy', po.polname,
		   format('%s as %s for %s to %s using (%s) with check (%s)', quote_ident(po.polname),
				  CASE WHEN po.polpermissive THEN 'permissive' ELSE 'restrictive' END, po.polcmd,
				  (SELECT string_agg(CASE WHEN r = 0 THEN 'public' ELSE pg_get_userbyid(r)::text END, ',' ORDER BY 1)
				   FROM unnest(po.polroles) r),
				  pg_get_expr(po.polqual, po.polrelid), pg_get_expr(po.polwithcheck, po.polrelid))
	FROM pg_policy po WHERE po.polrelid IN (SELECT oid FROM rel)
	UNION ALL
	SELECT pg_describe_object('pg_class'::regclass, ru.ev_class, 0), 'rule', ru.rulename,
		   format('%s (enabled %s)', pg_get_ruledef(ru.oid), ru.ev_enabled)
	FROM pg_rewrite ru WHERE ru.ev_class IN (SELECT oid FROM rel) AND ru.rulename <> '_RETURN'
	UNION ALL
	SELECT pg_describe_object('pg_class'::regclass, st.stxrelid, 0), 'statistics', st.stxname,
		   pg_get_statisticsobjdef(st.oid)
	FROM pg_statistic_ext st WHERE st.stxrelid IN (SELECT oid FROM rel)
	UNION ALL
	SELECT pg_describe_object('pg_class'::regclass, s.seqrelid, 0), 'sequence', '',
		   format('%s start %s increment %s min %s max %s cache %s cycle %s owned by %s',
				  s.seqtypid::regtype, s.seqstart, s.seqincrement, s.seqmin, s.seqmax, s.seqcache, s.seqcycle,
				  coalesce((SELECT string_agg(pg_describe_object(d.refclassid, d.refobjid, d.refobjsubid), ', ')
							FROM pg_depend d
							WHERE d.classid = 'pg_class'::regclass AND d.objid = s.seqrelid
							  AND d.refclassid = 'pg_class'::regclass AND d.refobjsubid > 0
							  AND d.deptype IN ('a', 'i')), '-'))
	FROM pg_sequence s WHERE s.seqrelid IN (SELECT oid FROM rel)

	-- functions, procedures, aggregates
	UNION ALL
	SELECT pg_describe_object('pg_proc'::regclass, p.oid, 0), 'function', '',
		   concat_ws(E'\n',
					 'kind ' || p.prokind::text,
					 'arguments (' || pg_get_function_arguments(p.oid) || ')',
					 'identity arguments (' || pg_get_function_identity_arguments(p.oid) || ')',
					 'result ' || coalesce(pg_get_function_result(p.oid), '-'),
					 'language ' || l.lanname,
					 'volatility ' || p.provolatile::text || ', strict ' || p.proisstrict
						 || ', security definer ' || p.prosecdef || ', leakproof ' || p.proleakproof
						 || ', parallel ' || p.proparallel::text,
					 'cost ' || p.procost || ', rows ' || p.prorows || ', support ' || p.prosupport::regproc,
					 'configuration ' || coalesce(p.proconfig::text, '-'),
					 'probin ' || coalesce(p.probin, '-'),
					 'acl ' || pg_temp.fp_acl(p.proacl))
	FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
	WHERE p.oid IN (SELECT oid FROM proc)
	UNION ALL
	SELECT pg_describe_object('pg_proc'::regclass, p.oid, 0), 'source', '',
		   CASE WHEN p.prosqlbody IS NOT NULL THEN pg_get_function_sqlbody(p.oid) ELSE p.prosrc END
	FROM pg_proc p WHERE p.oid IN (SELECT oid FROM proc)
	UNION ALL
	SELECT pg_describe_object('pg_proc'::regclass, a.aggfnoid, 0), 'aggregate', '',
		   format('kind %s, transition %s, type %s, final %s, combine %s, serial %s/%s, initial %s, sort operator %s',
				  a.aggkind, a.aggtransfn::regprocedure, a.aggtranstype::regtype, a.aggfinalfn::regprocedure,
				  a.aggcombinefn::regprocedure, a.aggserialfn::regprocedure, a.aggdeserialfn::regprocedure,
				  coalesce(a.agginitval, '-'), a.aggsortop::regoperator)
	FROM pg_aggregate a WHERE a.aggfnoid IN (SELECT oid FROM proc)

	-- types
	UNION ALL
	SELECT pg_describe_object('pg_type'::regclass, t.oid, 0), 'type', '',
		   concat_ws(E'\n',
					 format('type %s, category %s, preferred %s, length %s, by value %s, align %s, storage %s, delimiter %s, element %s, collation %s, default %s',
							t.typtype, t.typcategory, t.typispreferred, t.typlen, t.typbyval, t.typalign,
							t.typstorage, t.typdelim, t.typelem::regtype, t.typcollation,
							coalesce(t.typdefault, '-')),
					 CASE WHEN t.typtype = 'b' THEN
						 format('input %s, output %s, receive %s, send %s, typmod in %s, typmod out %s, analyze %s, subscript %s',
								t.typinput::regprocedure, t.typoutput::regprocedure, t.typreceive::regprocedure,
								t.typsend::regprocedure, t.typmodin::regprocedure, t.typmodout::regprocedure,
								t.typanalyze::regprocedure, t.typsubscript::regprocedure) END,
					 CASE WHEN t.typtype = 'd' THEN
						 format('domain over %s, not null %s', format_type(t.typbasetype, t.typtypmod), t.typnotnull) END,
					 CASE WHEN t.typtype = 'e' THEN
						 'labels ' || (SELECT string_agg(quote_literal(e.enumlabel), ', ' ORDER BY e.enumsortorder)
									   FROM pg_enum e WHERE e.enumtypid = t.oid) END,
					 (SELECT format('range over %s, collation %s, operator class %s, canonical %s, difference %s, multirange %s',
									r.rngsubtype::regtype, r.rngcollation, r.rngsubopc, r.rngcanonical::regprocedure,
									r.rngsubdiff::regprocedure, r.rngmultitypid::regtype)
					  FROM pg_range r WHERE r.rngtypid = t.oid),
					 'acl ' || pg_temp.fp_acl(t.typacl))
	FROM pg_type t WHERE t.oid IN (SELECT oid FROM typ)

	-- operators, operator classes and families, casts
	UNION ALL
	SELECT pg_describe_object('pg_operator'::regclass, o.oid, 0), 'operator', '',
		   format('kind %s, result %s, function %s, commutator %s, negator %s, restrict %s, join %s, merges %s, hashes %s',
				  o.oprkind, o.oprresult::regtype, o.oprcode::regprocedure, o.oprcom::regoperator,
				  o.oprnegate::regoperator, o.oprrest::regprocedure, o.oprjoin::regprocedure,
				  o.oprcanmerge, o.oprcanhash)
	FROM pg_operator o WHERE o.oid IN (SELECT oid FROM opr)
	UNION ALL
	SELECT pg_describe_object('pg_opclass'::regclass, o.oid, 0), 'operator class', '',
		   format('for type %s, default %s, storage %s, family %s',
				  o.opcintype::regtype, o.opcdefault, o.opckeytype::regtype,
				  pg_describe_object('pg_opfamily'::regclass, o.opcfamily, 0))
	FROM pg_opclass o WHERE o.oid IN (SELECT oid FROM opc)
	UNION ALL
	SELECT pg_describe_object('pg_opfamily'::regclass, ao.amopfamily, 0), 'member', '',
		   format('%s (purpose %s, sort family %s)', pg_describe_object('pg_amop'::regclass, ao.oid, 0),
				  ao.amoppurpose, ao.amopsortfamily)
	FROM pg_amop ao WHERE ao.amopfamily IN (SELECT oid FROM opf)
	UNION ALL
	SELECT pg_describe_object('pg_opfamily'::regclass, ap.amprocfamily, 0), 'member', '',
		   pg_describe_object('pg_amproc'::regclass, ap.oid, 0)
	FROM pg_amproc ap WHERE ap.amprocfamily IN (SELECT oid FROM opf)
	UNION ALL
	SELECT pg_describe_object('pg_cast'::regclass, ca.oid, 0), 'cast', '',
		   format('function %s, context %s, method %s', ca.castfunc::regprocedure, ca.castcontext, ca.castmethod)
	FROM pg_cast ca WHERE ca.oid IN (SELECT objid FROM member WHERE classid = 'pg_cast'::regclass)

	-- comments, initial privileges
	UNION ALL
	SELECT pg_describe_object(d.classoid, d.objoid, d.objsubid), 'comment', '', d.description
	FROM pg_description d JOIN scope s ON s.classid = d.classoid AND s.objid = d.objoid
	UNION ALL
	SELECT pg_describe_object(ip.classoid, ip.objoid, ip.objsubid), 'initial privileges', '',
		   format('%s %s', ip.privtype, pg_temp.fp_acl(ip.initprivs))
	FROM pg_init_privs ip JOIN scope s ON s.classid = ip.classoid AND s.objid = ip.objoid

	-- seeded rows
	UNION ALL
	SELECT r.obj, 'row of tenant _system', '', r.val
	FROM ext, pg_temp.fp_system_rows(ext.oid) r
)
SELECT f.obj || ': ' || f.prop || ':' || CASE WHEN l.line <> '' THEN ' ' || l.line ELSE '' END
FROM fp f, regexp_split_to_table(coalesce(f.val, '(null)'), E'\n') WITH ORDINALITY AS l(line, n)
ORDER BY f.obj COLLATE "C", f.prop COLLATE "C", f.sortkey COLLATE "C", f.val COLLATE "C", l.n;
