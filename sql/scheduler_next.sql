-- stratum_schedule_next: calendars, Mon-Fri, month ends, leap years, DST.
SET timezone = 'UTC';

-- basic steps (UTC)
SELECT stratum_schedule_next('* * * * *', 'UTC', '2024-03-01 10:00:00+00');
SELECT stratum_schedule_next('* * * * *', 'UTC', '2024-03-01 10:00:30+00');
SELECT stratum_schedule_next('*/15 * * * *', 'UTC', '2024-03-01 10:15:00+00');
SELECT stratum_schedule_next('0 */6 * * *', 'UTC', '2024-03-01 19:00:00+00');
SELECT stratum_schedule_next('0 0 1 1 *', 'UTC', '2024-03-01 00:00:00+00');

-- Mon-Fri at 09:00 Berlin: Friday -> Monday; Saturday -> Monday
SELECT stratum_schedule_next('daily at 09:00 mon-fri', 'Europe/Berlin', '2024-01-05 08:00:00+00') AS fri_after;
SELECT stratum_schedule_next('0 9 * * 1-5', 'Europe/Berlin', '2024-01-06 12:00:00+00') AS sat;
SELECT to_char(stratum_schedule_next('0 9 * * MON-FRI', 'Europe/Berlin', t) AT TIME ZONE 'Europe/Berlin', 'Dy YYYY-MM-DD HH24:MI') AS local_run
FROM generate_series('2024-01-01 09:00+01'::timestamptz, '2024-01-08 09:00+01', '1 day') t;

-- month ends: day 31 skips short months; the last day via 28-31 is not possible in cron, 31 only
SELECT stratum_schedule_next('0 0 31 * *', 'UTC', '2024-04-01 00:00:00+00') AS skips_april;
SELECT stratum_schedule_next('0 0 30 * *', 'UTC', '2024-02-01 00:00:00+00') AS skips_february;
-- leap years: 29 February
SELECT stratum_schedule_next('0 12 29 2 *', 'UTC', '2024-03-01 00:00:00+00') AS next_leap_day;
SELECT stratum_schedule_next('0 12 29 2 *', 'UTC', '2096-03-01 00:00:00+00') AS skips_2100;
-- day-of-month OR day-of-week when both are restricted
SELECT stratum_schedule_next('0 0 13 * 5', 'UTC', '2024-09-01 00:00:00+00') AS friday_or_13th;
SELECT stratum_schedule_next('0 0 13 * 5', 'UTC', '2024-09-06 00:00:00+00') AS friday_or_13th_2;
-- day-of-week 7 is Sunday
SELECT stratum_schedule_next('0 0 * * 7', 'UTC', '2024-03-01 00:00:00+00') AS sunday;

-- Europe/Berlin spring forward 2024-03-31: 02:00 CET -> 03:00 CEST.
-- 02:30 does not exist: it runs once, at 03:00 CEST (01:00 UTC).
SELECT stratum_schedule_next('30 2 * * *', 'Europe/Berlin', '2024-03-30 12:00:00+00') AS gap_run;
SELECT stratum_schedule_next('30 2 * * *', 'Europe/Berlin', '2024-03-31 01:00:00+00') AS day_after_gap;
-- every 15 minutes through the gap: 01:45 CET, then 03:00 CEST once, then 03:15
SELECT t AS after_, stratum_schedule_next('*/15 * * * *', 'Europe/Berlin', t)
FROM (VALUES ('2024-03-31 00:30:00+00'::timestamptz), ('2024-03-31 00:45:00+00'), ('2024-03-31 01:00:00+00')) v(t);
-- Europe/Berlin fall back 2024-10-27: 03:00 CEST -> 02:00 CET; 02:30 happens twice.
-- It runs once, at the first occurrence (02:30 CEST = 00:30 UTC).
SELECT stratum_schedule_next('30 2 * * *', 'Europe/Berlin', '2024-10-26 12:00:00+00') AS first_occurrence;
SELECT stratum_schedule_next('30 2 * * *', 'Europe/Berlin', '2024-10-27 00:30:00+00') AS not_again;
-- after the second 02:00 started, hourly still gives 03:00 CET (not the repeated 02:00)
SELECT stratum_schedule_next('0 * * * *', 'Europe/Berlin', '2024-10-27 00:00:00+00') AS hourly_in_overlap_1;
SELECT stratum_schedule_next('0 * * * *', 'Europe/Berlin', '2024-10-27 01:00:00+00') AS hourly_in_overlap_2;

-- America/New_York spring forward 2024-03-10: 02:00 EST -> 03:00 EDT
SELECT stratum_schedule_next('30 2 * * *', 'America/New_York', '2024-03-09 12:00:00+00') AS ny_before;
SELECT stratum_schedule_next('30 2 * * *', 'America/New_York', '2024-03-10 05:00:00+00') AS ny_gap_run;
SELECT stratum_schedule_next('30 2 * * *', 'America/New_York', '2024-03-10 07:00:00+00') AS ny_after_gap;
-- fall back 2024-11-03: 02:00 EDT -> 01:00 EST; 01:30 happens twice, runs at the first (05:30 UTC)
SELECT stratum_schedule_next('30 1 * * *', 'America/New_York', '2024-11-02 12:00:00+00') AS ny_first;
SELECT stratum_schedule_next('30 1 * * *', 'America/New_York', '2024-11-03 05:30:00+00') AS ny_not_twice;
SELECT stratum_schedule_next('30 1 * * *', 'America/New_York', '2024-11-03 06:00:00+00') AS ny_from_second_pass;
-- 09:00 keeps its local time across both changes (UTC hour shifts)
SELECT to_char(d, 'YYYY-MM-DD') AS day,
	   stratum_schedule_next('0 9 * * *', 'America/New_York', d) AS run
FROM (VALUES ('2024-03-09 12:00+00'::timestamptz), ('2024-03-10 12:00+00'), ('2024-11-02 12:00+00'), ('2024-11-03 12:00+00')) v(d);

-- null in, null out; never within nine years -> NULL is impossible for valid schedules
SELECT stratum_schedule_next(NULL, 'UTC', now()) IS NULL AS null_in;
