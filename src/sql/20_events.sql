-- Events: partitioned by month on occurred_at; partitions are made ahead and
-- dropped past retention by stratum_internal.events_maintain() (a system job).

CREATE SEQUENCE stratum.events_event_id_seq;

CREATE TABLE stratum.events (
	tenant_id		text NOT NULL,
	occurred_at		timestamptz NOT NULL,
	event_id		bigint NOT NULL DEFAULT nextval('stratum.events_event_id_seq'),
	profile_id		bigint NOT NULL,
	event_type		text NOT NULL CHECK (event_type <> '' AND length(event_type) <= 200),
	properties		jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(properties) = 'object'),
	source			text NOT NULL DEFAULT 'api',
	message_id		text,
	received_at		timestamptz NOT NULL DEFAULT now()
) PARTITION BY RANGE (occurred_at);
ALTER SEQUENCE stratum.events_event_id_seq OWNED BY stratum.events.event_id;
COMMENT ON TABLE stratum.events IS 'Behavioural events (page views, purchases, e-mail opens, ...), partitioned by month';
COMMENT ON COLUMN stratum.events.tenant_id IS 'Tenant';
COMMENT ON COLUMN stratum.events.occurred_at IS 'When the event happened (client time, checked against stratum.max_future_skew)';
COMMENT ON COLUMN stratum.events.event_id IS 'Event id, increasing in insertion order';
COMMENT ON COLUMN stratum.events.profile_id IS 'Profile the event belongs to';
COMMENT ON COLUMN stratum.events.event_type IS 'Event name, e.g. purchase, page_view, email_open';
COMMENT ON COLUMN stratum.events.properties IS 'Event properties as a JSON object';
COMMENT ON COLUMN stratum.events.source IS 'Where the event came from: api, intake (bulk), demo, import, ...';
COMMENT ON COLUMN stratum.events.message_id IS 'Client-supplied message id, for tracing retries';
COMMENT ON COLUMN stratum.events.received_at IS 'When stratum stored the event';

/*
 * The primary key and indexes are made on each partition, not on the
 * partitioned parent.  The parent is an extension member and so is not in a
 * dump, while partitions made by maintenance are ordinary tables that are:
 * with indexes on the parent, pg_restore's ATTACH PARTITION would create the
 * partition's indexes and then fail creating them again from the dump.
 * The key contains the partition key, so per-partition uniqueness is the
 * same as uniqueness over the whole table.
 */
CREATE FUNCTION stratum_internal.event_partition_index(part text) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
BEGIN
	EXECUTE format('ALTER TABLE stratum.%I ADD PRIMARY KEY (tenant_id, occurred_at, event_id)', part);
	EXECUTE format('CREATE INDEX ON stratum.%I (tenant_id, profile_id, occurred_at)', part);
	EXECUTE format('CREATE INDEX ON stratum.%I (tenant_id, event_type, occurred_at)', part);
END $$;

/*
 * No foreign key to stratum.profiles: partitions made by maintenance are not
 * extension members, so pg_restore loads their rows before the profiles and
 * a foreign key would refuse them.  The writers keep the reference valid
 * instead (stratum_internal.resolve_profile locks the profile it returns
 * until commit), and this trigger gives deletes the cascade.
 */
CREATE FUNCTION stratum_internal.profiles_delete_events() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
BEGIN
	DELETE FROM stratum.events e USING gone
	WHERE e.tenant_id = gone.tenant_id AND e.profile_id = gone.profile_id;
	RETURN NULL;
END $$;

-- Rows outside every monthly partition land here instead of failing; the
-- maintenance job moves them into their month's partition when it makes it.
CREATE TABLE stratum.events_default PARTITION OF stratum.events DEFAULT;
SELECT stratum_internal.event_partition_index('events_default');

-- Counted rejections of the high-volume path (stratum.event_intake).
CREATE TABLE stratum.ingest_rejections (
	tenant_id		text NOT NULL,
	day				date NOT NULL,
	reason			text NOT NULL,
	rejected		bigint NOT NULL DEFAULT 0,
	last_detail		text,
	last_at			timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (tenant_id, day, reason)
);
COMMENT ON TABLE stratum.ingest_rejections IS 'Events refused by the bulk intake path, counted per tenant, day (UTC) and reason';
COMMENT ON COLUMN stratum.ingest_rejections.tenant_id IS 'Tenant the event was sent for';
COMMENT ON COLUMN stratum.ingest_rejections.day IS 'Day of the rejection (UTC)';
COMMENT ON COLUMN stratum.ingest_rejections.reason IS 'Reason code: no_identifier, invalid_email, invalid_phone, invalid_event_type, invalid_properties, properties_too_large, invalid_time, future_event, expired_event, invalid_traits, unknown_tenant';
COMMENT ON COLUMN stratum.ingest_rejections.rejected IS 'Number of events rejected for this reason that day';
COMMENT ON COLUMN stratum.ingest_rejections.last_detail IS 'Message of the most recent rejection';
COMMENT ON COLUMN stratum.ingest_rejections.last_at IS 'Time of the most recent rejection';

/*
 * stratum_internal.event_partition_name
 *		Name of the partition that holds the month starting at m.
 */
CREATE FUNCTION stratum_internal.event_partition_name(m date) RETURNS text
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog
RETURN 'events_' || to_char(m, 'YYYY_MM');

/*
 * stratum_internal.events_maintain
 *		Create monthly partitions from the oldest retained month to
 *		months_ahead months ahead, moving any rows of those months out of the
 *		default partition; drop partitions wholly past every tenant's
 *		retention; delete, in batches, events past a tenant's own shorter
 *		retention.  Returns what it did.
 */
CREATE FUNCTION stratum_internal.events_maintain(months_ahead integer DEFAULT 3,
												 delete_batch integer DEFAULT 50000)
RETURNS jsonb LANGUAGE plpgsql SET search_path = pg_catalog AS $$
DECLARE
	max_keep	integer;
	first_month	date;
	last_month	date;
	m			date;
	part		text;
	created		text[] := '{}';
	dropped		text[] := '{}';
	moved		bigint := 0;
	n			bigint;
	deleted		bigint := 0;
	rel			record;
	t			record;
BEGIN
	SELECT coalesce(max(retention_days), 365) INTO max_keep FROM stratum.tenants;
	first_month := date_trunc('month', now() - make_interval(days => max_keep))::date;
	last_month := (date_trunc('month', now()) + make_interval(months => months_ahead))::date;

	m := first_month;
	WHILE m <= last_month LOOP
		part := stratum_internal.event_partition_name(m);
		IF to_regclass(format('stratum.%I', part)) IS NULL THEN
			-- Made detached and attached after the move, because a partition
			-- cannot be created while the default partition holds its rows.
			EXECUTE format('CREATE TABLE stratum.%I (LIKE stratum.events INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', part);
			EXECUTE format($q$WITH moved AS (
					DELETE FROM stratum.events_default
					WHERE occurred_at >= %L AND occurred_at < %L RETURNING *)
				INSERT INTO stratum.%I SELECT * FROM moved$q$,
				m::timestamptz, (m + interval '1 month')::timestamptz, part);
			GET DIAGNOSTICS n = ROW_COUNT;
			moved := moved + n;
			PERFORM stratum_internal.event_partition_index(part);
			EXECUTE format('ALTER TABLE stratum.events ATTACH PARTITION stratum.%I FOR VALUES FROM (%L) TO (%L)',
						   part, m::timestamptz, (m + interval '1 month')::timestamptz);
			-- inserts straight into the partition are streamed too (55_stream.sql)
			EXECUTE format($q$CREATE TRIGGER stream_enqueue_events AFTER INSERT ON stratum.%I
				REFERENCING NEW TABLE AS new_events
				FOR EACH STATEMENT EXECUTE FUNCTION stratum_internal.stream_enqueue_events()$q$, part);
			created := created || part;
		END IF;
		m := (m + interval '1 month')::date;
	END LOOP;

	FOR rel IN
		SELECT c.relname,
			   (regexp_match(pg_get_expr(c.relpartbound, c.oid), 'TO \(''([^'']+)''\)'))[1]::timestamptz AS upper_bound
		FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
		WHERE i.inhparent = 'stratum.events'::regclass AND c.relname <> 'events_default'
	LOOP
		IF rel.upper_bound <= now() - make_interval(days => max_keep) THEN
			EXECUTE format('DROP TABLE stratum.%I', rel.relname);
			dropped := dropped || rel.relname::text;
		END IF;
	END LOOP;

	-- Tenants whose retention is shorter than the partitions kept.
	FOR t IN SELECT tenant_id, retention_days FROM stratum.tenants WHERE retention_days < max_keep LOOP
		DELETE FROM stratum.events e
		USING (SELECT tableoid, ctid FROM stratum.events
			   WHERE tenant_id = t.tenant_id
				 AND occurred_at < now() - make_interval(days => t.retention_days)
			   LIMIT delete_batch) old
		WHERE e.tableoid = old.tableoid AND e.ctid = old.ctid;
		GET DIAGNOSTICS n = ROW_COUNT;
		deleted := deleted + n;
	END LOOP;

	RETURN jsonb_build_object('created', to_jsonb(created), 'dropped', to_jsonb(dropped),
							  'moved_from_default', moved, 'deleted_past_retention', deleted);
END $$;
COMMENT ON FUNCTION stratum_internal.events_maintain(integer, integer) IS 'Create event partitions ahead, drop expired ones, enforce per-tenant retention';

CREATE TRIGGER profiles_delete_events AFTER DELETE ON stratum.profiles
	REFERENCING OLD TABLE AS gone
	FOR EACH STATEMENT EXECUTE FUNCTION stratum_internal.profiles_delete_events();
