/*-------------------------------------------------------------------------
 *
 * rule_metrics.c
 *		Load what rule evaluation needs in one aggregate query: every
 *		campaign of the tenant (optionally of the accounts in one time zone)
 *		with its attributes, signal health, days active and since the last
 *		change, and the sums of spend, impressions, clicks, conversions and
 *		revenue over each window the rules use.
 *
 * "Today" is each account's local date (or the given evaluation day, for
 * backtests); a window is a range of days relative to it.  Ratios are not
 * loaded: the evaluator derives them as ratios of the window's sums.  Device
 * rows are summed unless the day has an "all" row, as in the view
 * stratum.campaign_performance_daily.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"

#include "rules/rules.h"

const char *const rule_platforms[] = {
	"meta", "google", "linkedin", "tiktok", "microsoft", "x", "pinterest", "snapchat", "other"
};
const int	rule_nplatforms = lengthof(rule_platforms);

const char *const rule_campaign_types[] = {
	"awareness", "traffic", "engagement", "lead_generation", "conversion", "sales",
	"app_install", "video", "search", "display", "shopping", "performance_max", "other"
};
const int	rule_ncampaign_types = lengthof(rule_campaign_types);

const char *const rule_statuses[] = {"active", "paused", "archived", "deleted"};
const int	rule_nstatuses = lengthof(rule_statuses);

static const char *const bench_metrics[RULE_NBENCH] = {"roas", "cpa", "ctr", "cvr", "cpm", "cpc"};

/*
 * rule_value_index
 *		Position of s in list, or -1.
 */
int
rule_value_index(const char *const *list, int n, const char *s)
{
	int			i;

	for (i = 0; i < n; i++)
		if (strcmp(list[i], s) == 0)
			return i;
	return -1;
}

/*
 * get_float / get_text
 *		Column of an SPI result row as a double (NaN for NULL) or a string
 *		copied into the current memory context (NULL for NULL).
 */
static double
get_float(HeapTuple tup, TupleDesc desc, int col)
{
	bool		isnull;
	Datum		d = SPI_getbinval(tup, desc, col, &isnull);

	return isnull ? NAN : DatumGetFloat8(d);
}

static char *
get_text(HeapTuple tup, TupleDesc desc, int col)
{
	bool		isnull;
	Datum		d = SPI_getbinval(tup, desc, col, &isnull);

	return isnull ? NULL : TextDatumGetCString(d);
}

/*
 * build_query
 *		The aggregate query for the given windows.  $1 tenant, $2 evaluation
 *		day (NULL: each account's local today), $3 time zone filter (NULL:
 *		all accounts), $4 hour of day when $2 is given.
 */
static char *
build_query(const RuleData *data)
{
	StringInfoData q;
	int			maxback = 0;
	int			w;
	static const char *const cols[RW_N] = {"spend", "impressions", "clicks", "conversions", "revenue"};
	int			k;

	for (w = 0; w < data->nwindows; w++)
		maxback = Max(maxback, data->windows[w].back_from);

	initStringInfo(&q);
	appendStringInfoString(&q,
						   "WITH acc AS ("
						   " SELECT a.account_id, a.platform, a.currency, a.timezone, x.today,"
						   "  CASE WHEN $2::date IS NULL THEN extract(hour FROM now() AT TIME ZONE a.timezone)::float8"
						   "   ELSE $4::float8 END AS hour,"
						   "  sh.score::float8 AS score, sh.emq_score::float8 AS emq, sh.attribution_variance::float8 AS av"
						   " FROM stratum.ad_accounts a"
						   " CROSS JOIN LATERAL (SELECT coalesce($2::date, (now() AT TIME ZONE a.timezone)::date) AS today) x"
						   " LEFT JOIN LATERAL (SELECT s.score, s.emq_score, s.attribution_variance"
						   "  FROM stratum.signal_health_daily s"
						   "  WHERE s.tenant_id = a.tenant_id AND s.account_id = a.account_id AND s.day <= x.today"
						   "  ORDER BY s.day DESC LIMIT 1) sh ON true"
						   " WHERE a.tenant_id = $1 AND ($3::text IS NULL OR a.timezone = $3::text)),"
						   " days AS ("
						   " SELECT m.campaign_id, m.day - acc.today AS k");
	for (k = 0; k < RW_N; k++)
		appendStringInfo(&q,
						 ", CASE WHEN bool_or(m.device = 'all') THEN sum(m.%s) FILTER (WHERE m.device = 'all')"
						 " ELSE sum(m.%s) END AS %s", cols[k], cols[k], cols[k]);
	appendStringInfo(&q,
					 " FROM stratum.campaign_metrics_daily m"
					 " JOIN stratum.campaigns c ON c.tenant_id = m.tenant_id AND c.campaign_id = m.campaign_id"
					 " JOIN acc ON acc.account_id = c.account_id"
					 " WHERE m.tenant_id = $1 AND m.day BETWEEN acc.today - %d AND acc.today"
					 " GROUP BY m.campaign_id, m.day, acc.today),"
					 " agg AS (SELECT campaign_id", maxback);
	for (w = 0; w < data->nwindows; w++)
	{
		appendStringInfo(&q, ", count(*) FILTER (WHERE k BETWEEN %d AND %d) AS n%d",
						 -data->windows[w].back_from, -data->windows[w].back_to, w);
		for (k = 0; k < RW_N; k++)
			appendStringInfo(&q, ", sum(%s) FILTER (WHERE k BETWEEN %d AND %d)::float8",
							 cols[k], -data->windows[w].back_from, -data->windows[w].back_to);
	}
	appendStringInfoString(&q,
						   " FROM days GROUP BY campaign_id)"
						   " SELECT c.campaign_id, c.account_id, c.name, acc.platform, c.campaign_type,"
						   "  coalesce(hs.old_value, c.status),"
						   "  coalesce(hb.old_value::numeric, c.daily_budget)::float8, c.is_brand, c.is_retargeting,"
						   "  (acc.today - st.started)::float8,"
						   "  (acc.today - greatest(st.started, (ch.last AT TIME ZONE acc.timezone)::date))::float8,"
						   "  acc.hour, extract(dow FROM acc.today)::float8, acc.score, acc.emq, acc.av,"
						   "  acc.currency, acc.today::text, acc.timezone, agg.*"
						   " FROM stratum.campaigns c"
						   " JOIN acc ON acc.account_id = c.account_id"
						   " CROSS JOIN LATERAL (SELECT coalesce(c.started_on, (c.created_at AT TIME ZONE acc.timezone)::date) AS started) st"
						   " LEFT JOIN LATERAL (SELECT max(h.changed_at) AS last FROM stratum.campaign_changes h"
						   "  WHERE h.tenant_id = c.tenant_id AND h.campaign_id = c.campaign_id"
						   "  AND h.changed_at < (acc.today + 1)::timestamp AT TIME ZONE acc.timezone) ch ON true"
						   /*
							* As of a past day (backtests), the budget and status
							* then: the old value of the first change after that
							* day, if any (the change log holds every change).
							*/
						   " LEFT JOIN LATERAL (SELECT h.old_value FROM stratum.campaign_changes h"
						   "  WHERE $2::date IS NOT NULL AND h.tenant_id = c.tenant_id AND h.campaign_id = c.campaign_id"
						   "  AND h.field = 'daily_budget' AND h.changed_at >= (acc.today + 1)::timestamp AT TIME ZONE acc.timezone"
						   "  ORDER BY h.changed_at LIMIT 1) hb ON true"
						   " LEFT JOIN LATERAL (SELECT h.old_value FROM stratum.campaign_changes h"
						   "  WHERE $2::date IS NOT NULL AND h.tenant_id = c.tenant_id AND h.campaign_id = c.campaign_id"
						   "  AND h.field = 'status' AND h.changed_at >= (acc.today + 1)::timestamp AT TIME ZONE acc.timezone"
						   "  ORDER BY h.changed_at LIMIT 1) hs ON true"
						   " LEFT JOIN agg ON agg.campaign_id = c.campaign_id"
						   " WHERE c.tenant_id = $1"
						   " ORDER BY c.account_id, c.campaign_id");
	return q.data;
}

/*
 * load_benchmarks
 *		Fill each campaign's benchmark values from stratum.ad_benchmarks:
 *		the row for its platform and campaign type, else the platform's row
 *		for type '*'.  Missing benchmarks stay NULL (NaN).
 */
static void
load_benchmarks(RuleData *data, const char *tenant)
{
	Oid			types[1] = {TEXTOID};
	Datum		values[1] = {CStringGetTextDatum(tenant)};
	uint64		i;
	int			c,
				b;

	if (SPI_execute_with_args("SELECT platform, campaign_type, metric, value::float8"
							  " FROM stratum.ad_benchmarks WHERE tenant_id = $1"
							  " ORDER BY campaign_type = '*' DESC",
							  1, types, values, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "stratum rules: benchmark query failed");

	for (c = 0; c < data->ncampaigns; c++)
		for (b = 0; b < RULE_NBENCH; b++)
			data->campaigns[c].bench[b] = NAN;

	/* '*' rows first, so type-specific rows overwrite them */
	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		char	   *platform = get_text(tup, desc, 1);
		char	   *type = get_text(tup, desc, 2);
		char	   *metric = get_text(tup, desc, 3);
		double		value = get_float(tup, desc, 4);

		b = rule_value_index(bench_metrics, RULE_NBENCH, metric);
		if (b < 0)
			continue;
		for (c = 0; c < data->ncampaigns; c++)
		{
			RuleCampaign *rc = &data->campaigns[c];

			if (strcmp(rc->platform, platform) == 0 &&
				(strcmp(type, "*") == 0 || strcmp(rc->campaign_type, type) == 0))
				rc->bench[b] = value;
		}
	}
}

/*
 * rule_metrics_load
 *		Fill data (whose windows are set) with the tenant's campaigns and
 *		accounts.  Must be called with SPI connected; what is kept is
 *		allocated in keep.
 */
void
rule_metrics_load(RuleData *data, MemoryContext keep, const char *tenant, bool has_as_of,
				  DateADT as_of, const char *timezone, int hour)
{
	MemoryContext spi = CurrentMemoryContext;
	Oid			types[4] = {TEXTOID, DATEOID, TEXTOID, INT4OID};
	Datum		values[4];
	char		nulls[4] = {' ', ' ', ' ', ' '};
	char	   *sql = build_query(data);
	uint64		i;
	int			nw = data->nwindows;
	int			fixed = 19;		/* columns before agg.* */

	values[0] = CStringGetTextDatum(tenant);
	values[1] = DateADTGetDatum(as_of);
	if (!has_as_of)
		nulls[1] = 'n';
	values[2] = timezone ? CStringGetTextDatum(timezone) : (Datum) 0;
	if (!timezone)
		nulls[2] = 'n';
	values[3] = Int32GetDatum(hour);
	if (hour < 0)
		nulls[3] = 'n';

	if (SPI_execute_with_args(sql, 4, types, values, nulls, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "stratum rules: metrics query failed");

	MemoryContextSwitchTo(keep);
	data->ncampaigns = (int) SPI_processed;
	data->campaigns = palloc0(sizeof(RuleCampaign) * Max(data->ncampaigns, 1));
	data->accounts = palloc0(sizeof(RuleAccount) * Max(data->ncampaigns, 1));
	data->naccounts = 0;

	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		RuleCampaign *c = &data->campaigns[i];
		char	   *account_id = get_text(tup, desc, 2);
		bool		isnull;
		int			w,
					k;

		c->campaign_id = get_text(tup, desc, 1);
		c->name = get_text(tup, desc, 3);
		c->platform = get_text(tup, desc, 4);
		c->campaign_type = get_text(tup, desc, 5);
		c->status = get_text(tup, desc, 6);
		c->daily_budget = get_float(tup, desc, 7);
		c->is_brand = DatumGetBool(SPI_getbinval(tup, desc, 8, &isnull));
		c->is_retargeting = DatumGetBool(SPI_getbinval(tup, desc, 9, &isnull));
		c->days_active = get_float(tup, desc, 10);
		c->days_since_change = get_float(tup, desc, 11);
		c->hour_of_day = get_float(tup, desc, 12);
		c->day_of_week = get_float(tup, desc, 13);
		c->signal_health = get_float(tup, desc, 14);
		c->emq_score = get_float(tup, desc, 15);
		c->attribution_variance = get_float(tup, desc, 16);
		c->today = get_text(tup, desc, 18);
		c->platform_no = rule_value_index(rule_platforms, rule_nplatforms, c->platform);
		c->type_no = rule_value_index(rule_campaign_types, rule_ncampaign_types, c->campaign_type);
		c->status_no = rule_value_index(rule_statuses, rule_nstatuses, c->status);

		/* rows come ordered by account */
		if (data->naccounts == 0 ||
			strcmp(data->accounts[data->naccounts - 1].account_id, account_id) != 0)
		{
			RuleAccount *a = &data->accounts[data->naccounts++];

			a->account_id = account_id;
			a->platform = c->platform;
			a->currency = get_text(tup, desc, 17);
			if (!expr_zone_named(&a->zone, get_text(tup, desc, 19)))
				expr_zone_session(&a->zone);
			a->sums = palloc0(sizeof(double) * RW_N * Max(nw, 1));
		}
		c->account = data->naccounts - 1;
		if (strcmp(c->status, "active") == 0 && !isnan(c->daily_budget))
			data->accounts[c->account].budget_sum += c->daily_budget;

		/* agg.*: campaign_id, then per window n, spend, impressions, ... */
		c->sums = palloc(sizeof(double) * RW_N * Max(nw, 1));
		for (w = 0; w < nw; w++)
		{
			int			base = fixed + 2 + w * (RW_N + 1);
			bool		nnull;
			Datum		n = SPI_getbinval(tup, desc, base, &nnull);
			bool		any = !nnull && DatumGetInt64(n) > 0;

			for (k = 0; k < RW_N; k++)
			{
				double		v = any ? get_float(tup, desc, base + 1 + k) : 0;

				c->sums[w * RW_N + k] = v;
				if (!isnan(v))
					data->accounts[c->account].sums[w * RW_N + k] += v;
			}
		}
	}
	MemoryContextSwitchTo(spi);
	load_benchmarks(data, tenant);
}
