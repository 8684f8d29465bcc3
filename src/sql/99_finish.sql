/*
 * Applied to every table in schema stratum once all capabilities have
 * created theirs, so no table can be forgotten:
 *  - row-level security with one policy that keeps a session to the rows of
 *    the tenant named by the setting stratum.tenant (the tenants table itself
 *    is filtered on its key);
 *  - pg_extension_config_dump, so pg_dump keeps the data and the sequence
 *    positions (see DESIGN.md, Operability).
 * Tables that hold no tenant data opt out of row-level security by a comment
 * starting "[no-rls]".
 */
DO $$
DECLARE
	rel record;
BEGIN
	FOR rel IN
		SELECT c.oid, c.relname, c.relkind
		FROM pg_class c
		WHERE c.relnamespace = 'stratum'::regnamespace
		  AND c.relkind IN ('r', 'p')
		  AND NOT c.relispartition
		ORDER BY c.relname
	LOOP
		IF NOT EXISTS (SELECT 1 FROM pg_attribute
					   WHERE attrelid = rel.oid AND attname = 'tenant_id' AND NOT attisdropped) THEN
			RAISE EXCEPTION 'stratum table % has no tenant_id column', rel.relname;
		END IF;
		IF coalesce(obj_description(rel.oid, 'pg_class'), '') NOT LIKE '[no-rls]%' THEN
			EXECUTE format('ALTER TABLE stratum.%I ENABLE ROW LEVEL SECURITY', rel.relname);
			EXECUTE format($p$CREATE POLICY tenant_isolation ON stratum.%I
				USING (tenant_id = current_setting('stratum.tenant', true))
				WITH CHECK (tenant_id = current_setting('stratum.tenant', true))$p$, rel.relname);
		END IF;
		-- Partitioned parents hold no rows; their partitions are dumped on their
		-- own.  A table its capability registered already (with a filter) is
		-- left as it is.
		IF rel.relkind = 'r' AND rel.oid NOT IN (SELECT unnest(extconfig) FROM pg_extension
												 WHERE extname = 'stratum') THEN
			PERFORM pg_catalog.pg_extension_config_dump(format('stratum.%I', rel.relname), '');
		END IF;
		-- A partition made here (a default partition) is a member too.
		PERFORM pg_catalog.pg_extension_config_dump(format('stratum.%I', p.relname), '')
		FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhrelid
		WHERE i.inhparent = rel.oid AND p.relkind = 'r';
	END LOOP;

	FOR rel IN
		SELECT c.relname FROM pg_class c
		WHERE c.relnamespace = 'stratum'::regnamespace AND c.relkind = 'S'
	LOOP
		PERFORM pg_catalog.pg_extension_config_dump(format('stratum.%I', rel.relname), '');
	END LOOP;
END $$;

GRANT USAGE ON SCHEMA stratum TO PUBLIC;
