-- Baseline for track.sql: the same event as a plain INSERT, no resolution.
\set uid random(1, :maxuid)
INSERT INTO bench_plain.events (tenant_id, occurred_at, profile_id, event_type, properties, source)
VALUES ('bench', now(), :uid, 'page_view', '{"path": "/pricing", "ref": "bench"}', 'api');
