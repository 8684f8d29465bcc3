-- Schedule parsing: every construct, and every error message.
\set VERBOSITY default
SET timezone = 'UTC';

SELECT s, stratum_internal.schedule_normalize(s) AS cron
FROM (VALUES
	('* * * * *'),
	('  0   9 *  * 1-5 '),
	('*/15 * * * *'),
	('0 0-23/6 * * *'),
	('5,10,15-20 * * * *'),
	('30 8 1,15 * *'),
	('0 12 * JAN-MAR MON-FRI'),
	('0 12 * jan,Jul sun'),
	('0 0 * * 7'),
	('10/20 * * * *'),
	('@yearly'), ('@annually'), ('@monthly'), ('@weekly'), ('@daily'), ('@midnight'), ('@hourly'),
	('hourly'),
	('every minute'), ('every hour'), ('every 5 minutes'), ('every 2 hours'),
	('daily at 09:00'), ('daily at 9:30 mon-fri'), ('Daily At 23:59 weekends'),
	('daily at 07:05 weekdays'), ('daily at 18:00 sat,sun')
) v(s);

-- errors
SELECT stratum_internal.schedule_normalize('');
SELECT stratum_internal.schedule_normalize('* * * *');
SELECT stratum_internal.schedule_normalize('* * * * * *');
SELECT stratum_internal.schedule_normalize('60 * * * *');
SELECT stratum_internal.schedule_normalize('* 24 * * *');
SELECT stratum_internal.schedule_normalize('* * 0 * *');
SELECT stratum_internal.schedule_normalize('* * * 13 *');
SELECT stratum_internal.schedule_normalize('* * * * 8');
SELECT stratum_internal.schedule_normalize('x * * * *');
SELECT stratum_internal.schedule_normalize('* * * FOO *');
SELECT stratum_internal.schedule_normalize('* * * * FUNDAY');
SELECT stratum_internal.schedule_normalize('5-1 * * * *');
SELECT stratum_internal.schedule_normalize('*/0 * * * *');
SELECT stratum_internal.schedule_normalize('*/x * * * *');
SELECT stratum_internal.schedule_normalize('1,,2 * * * *');
SELECT stratum_internal.schedule_normalize('1- * * * *');
SELECT stratum_internal.schedule_normalize('0 0 30 2 *');
SELECT stratum_internal.schedule_normalize('@fortnightly');
SELECT stratum_internal.schedule_normalize('hourly at 5');
SELECT stratum_internal.schedule_normalize('every 0 minutes');
SELECT stratum_internal.schedule_normalize('every 60 minutes');
SELECT stratum_internal.schedule_normalize('every 24 hours');
SELECT stratum_internal.schedule_normalize('every day');
SELECT stratum_internal.schedule_normalize('daily 09:00');
SELECT stratum_internal.schedule_normalize('daily at 24:00');
SELECT stratum_internal.schedule_normalize('daily at 9am');
SELECT stratum_internal.schedule_normalize('daily at 09:00 someday');
SELECT stratum_internal.timezone_check('Europe/Berlin');
SELECT stratum_internal.timezone_check('Mars/Olympus_Mons');
SELECT stratum_schedule_next('0 9 * * *', 'Nowhere/City', '2024-01-01 00:00+00');
-- 30 February never comes, but 31 January or 30 February does
SELECT stratum_internal.schedule_normalize('0 0 30,31 1,2 *');
-- day-of-month with a restricted weekday is allowed (either matches)
SELECT stratum_internal.schedule_normalize('0 0 30 2 mon');
