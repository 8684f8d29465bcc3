-- One stratum_track call: a user id from 1..pool*1.2, so about one call in
-- six names a new person the first time (then that person exists too).
\set uid random(1, :maxuid)
SELECT stratum_track('page_view', user_id => 'u' || :uid, properties => '{"path": "/pricing", "ref": "bench"}', tenant => 'bench');
