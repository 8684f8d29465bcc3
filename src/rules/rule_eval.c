/*-------------------------------------------------------------------------
 *
 * rule_eval.c
 *		Evaluate custom rules over a tenant's campaigns in one pass:
 *		stratum_internal.custom_rules_evaluate().
 *
 * The rules' conditions (stored stratum.condition values) are decoded and
 * bound to the slots of the "campaign" context once; the campaigns' window
 * metrics are loaded once (rule_metrics.c); then, for each window, each
 * campaign's slot values are filled once and every rule on that window is
 * evaluated with expr_eval: targeting checks are bit tests, the condition
 * a bound program, the trust gate a comparison.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "common/shortest_dec.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "rules/rules.h"

PG_FUNCTION_INFO_V1(stratum_custom_rules_evaluate);

/* Field paths of the slots, in RuleSlot order. */
static const char *const rule_slot_names[RS_COUNT_] = {
	"spend", "revenue", "roas", "cpa", "ctr", "cvr", "cpm", "cpc", "impressions", "clicks",
	"conversions", "daily_budget", "days_active", "days_since_change", "hour_of_day",
	"day_of_week", "signal_health", "emq_score", "attribution_variance", "platform",
	"campaign_type", "status", "is_brand", "is_retargeting", "campaign_name", "campaign_id",
	"account.avg_cpm", "account.avg_ctr", "account.avg_roas", "account.avg_cpa",
	"account.avg_cpc", "account.avg_cvr", "account.spend", "account.revenue", "account.roas",
	"account.daily_budget", "account.platform", "account.currency",
	"goal.roas", "goal.cpa", "goal.ctr", "goal.cvr", "goal.cpm", "goal.cpc", "goal.spend",
	"goal.revenue", "goal.conversions", "goal.daily_budget",
	"benchmark.roas", "benchmark.cpa", "benchmark.ctr", "benchmark.cvr", "benchmark.cpm",
	"benchmark.cpc"
};

StaticAssertDecl(lengthof(rule_slot_names) == RS_COUNT_, "rule_slot_names matches RuleSlot");

/* One rule, ready to evaluate. */
typedef struct RuleProgram
{
	int64		rule_id;
	int			window;			/* index into RuleData.windows */
	ExprProgram *prog;
	uint32		platform_mask;	/* 0: any */
	uint32		type_mask;		/* 0: any */
	uint32		status_mask;	/* 0: any */
	int			naccount_ids;
	char	  **account_ids;	/* empty: any */
	bool		exclude_brand;
	bool		exclude_retargeting;
	double		min_signal_health;	/* NaN: no gate */
	bool		has_goals;
	double		goals[RULE_NGOALS];
	int64		targeted;
	int64		matched;
	int64		skipped;
} RuleProgram;

/*
 * text_array_mask
 *		Bit mask of the positions in list of an array's elements (values not
 *		in the list set no bit; validation refuses them before they are
 *		stored).  0 for an empty or NULL array.
 */
static uint32
text_array_mask(HeapTuple tup, TupleDesc desc, int col, const char *const *list, int n)
{
	bool		isnull;
	Datum		d = SPI_getbinval(tup, desc, col, &isnull);
	Datum	   *elems;
	bool	   *nulls;
	int			nelems,
				i;
	uint32		mask = 0;

	if (isnull)
		return 0;
	deconstruct_array(DatumGetArrayTypeP(d), TEXTOID, -1, false, TYPALIGN_INT,
					  &elems, &nulls, &nelems);
	for (i = 0; i < nelems; i++)
	{
		int			k;

		if (nulls[i])
			continue;
		k = rule_value_index(list, n, TextDatumGetCString(elems[i]));
		if (k >= 0)
			mask |= (uint32) 1 << k;
	}
	return mask;
}

/*
 * window_index
 *		Index of a window in data, adding it if new.
 */
static int
window_index(RuleData *data, int back_from, int back_to)
{
	int			w;

	for (w = 0; w < data->nwindows; w++)
		if (data->windows[w].back_from == back_from && data->windows[w].back_to == back_to)
			return w;
	data->windows[data->nwindows].back_from = back_from;
	data->windows[data->nwindows].back_to = back_to;
	return data->nwindows++;
}

/*
 * load_rules
 *		Read, decode and bind the requested rules of a tenant (SPI connected).
 *		Programs and targeting are allocated in keep.
 */
static RuleProgram *
load_rules(RuleData *data, MemoryContext keep, const char *tenant, Datum rule_ids, int *nrules)
{
	Oid			types[2] = {TEXTOID, INT8ARRAYOID};
	Datum		values[2] = {CStringGetTextDatum(tenant), rule_ids};
	RuleProgram *rules;
	uint64		i;

	if (SPI_execute_with_args("SELECT rule_id, condition, window_back_from, window_back_to,"
							  " platforms, campaign_types, statuses, account_ids,"
							  " exclude_brand, exclude_retargeting, min_signal_health::float8,"
							  " goals IS NOT NULL AND goals <> '{}',"
							  " (goals->>'roas')::float8, (goals->>'cpa')::float8, (goals->>'ctr')::float8,"
							  " (goals->>'cvr')::float8, (goals->>'cpm')::float8, (goals->>'cpc')::float8,"
							  " (goals->>'spend')::float8, (goals->>'revenue')::float8,"
							  " (goals->>'conversions')::float8, (goals->>'daily_budget')::float8"
							  " FROM stratum.custom_rules WHERE tenant_id = $1 AND rule_id = ANY ($2)"
							  " ORDER BY rule_id",
							  2, types, values, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "stratum rules: rule query failed");

	MemoryContextSwitchTo(keep);
	*nrules = (int) SPI_processed;
	rules = palloc0(sizeof(RuleProgram) * Max(*nrules, 1));
	data->windows = palloc0(sizeof(RuleWindow) * Max(*nrules, 1));
	data->nwindows = 0;

	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		RuleProgram *r = &rules[i];
		bool		isnull;
		Datum		d;
		int			g;

		r->rule_id = DatumGetInt64(SPI_getbinval(tup, desc, 1, &isnull));
		d = SPI_getbinval(tup, desc, 2, &isnull);
		if (isnull)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("custom rule %lld has no condition", (long long) r->rule_id)));
		r->prog = expr_bind(expr_condition_resolve(expr_condition_decode(d), "campaign"),
							rule_slot_names, RS_COUNT_, true);
		r->window = window_index(data,
								 DatumGetInt32(SPI_getbinval(tup, desc, 3, &isnull)),
								 DatumGetInt32(SPI_getbinval(tup, desc, 4, &isnull)));
		r->platform_mask = text_array_mask(tup, desc, 5, rule_platforms, rule_nplatforms);
		r->type_mask = text_array_mask(tup, desc, 6, rule_campaign_types, rule_ncampaign_types);
		r->status_mask = text_array_mask(tup, desc, 7, rule_statuses, rule_nstatuses);
		d = SPI_getbinval(tup, desc, 8, &isnull);
		if (!isnull)
		{
			Datum	   *elems;
			bool	   *nulls;
			int			n,
						k;

			deconstruct_array(DatumGetArrayTypeP(d), TEXTOID, -1, false, TYPALIGN_INT,
							  &elems, &nulls, &n);
			r->account_ids = palloc(sizeof(char *) * Max(n, 1));
			for (k = 0; k < n; k++)
				if (!nulls[k])
					r->account_ids[r->naccount_ids++] = TextDatumGetCString(elems[k]);
		}
		r->exclude_brand = DatumGetBool(SPI_getbinval(tup, desc, 9, &isnull));
		r->exclude_retargeting = DatumGetBool(SPI_getbinval(tup, desc, 10, &isnull));
		d = SPI_getbinval(tup, desc, 11, &isnull);
		r->min_signal_health = isnull ? NAN : DatumGetFloat8(d);
		r->has_goals = DatumGetBool(SPI_getbinval(tup, desc, 12, &isnull));
		for (g = 0; g < RULE_NGOALS; g++)
		{
			d = SPI_getbinval(tup, desc, 13 + g, &isnull);
			r->goals[g] = isnull ? NAN : DatumGetFloat8(d);
		}
	}
	return rules;
}

/* Slot setters treating NaN as NULL. */
static inline void
set_num(ExprValue *v, double d)
{
	if (isnan(d))
		expr_value_null(v);
	else
		expr_value_number(v, d);
}

static inline void
set_ratio(ExprValue *v, double num, double den, double scale)
{
	if (isnan(num) || isnan(den) || den == 0)
		expr_value_null(v);
	else
		expr_value_number(v, scale * num / den);
}

static inline void
set_text(ExprValue *v, const char *s)
{
	if (s == NULL)
		expr_value_null(v);
	else
		expr_value_text(v, s, (int) strlen(s));
}

/*
 * fill_account
 *		The account.* slots of a campaign for window w.
 */
static void
fill_account(ExprValue *slots, const RuleAccount *a, int w)
{
	const double *s = &a->sums[w * RW_N];

	set_ratio(&slots[RS_ACC_AVG_CPM], s[RW_SPEND], s[RW_IMPRESSIONS], 1000);
	set_ratio(&slots[RS_ACC_AVG_CTR], s[RW_CLICKS], s[RW_IMPRESSIONS], 1);
	set_ratio(&slots[RS_ACC_AVG_ROAS], s[RW_REVENUE], s[RW_SPEND], 1);
	set_ratio(&slots[RS_ACC_AVG_CPA], s[RW_SPEND], s[RW_CONVERSIONS], 1);
	set_ratio(&slots[RS_ACC_AVG_CPC], s[RW_SPEND], s[RW_CLICKS], 1);
	set_ratio(&slots[RS_ACC_AVG_CVR], s[RW_CONVERSIONS], s[RW_CLICKS], 1);
	set_num(&slots[RS_ACC_SPEND], s[RW_SPEND]);
	set_num(&slots[RS_ACC_REVENUE], s[RW_REVENUE]);
	set_ratio(&slots[RS_ACC_ROAS], s[RW_REVENUE], s[RW_SPEND], 1);
	set_num(&slots[RS_ACC_DAILY_BUDGET], a->budget_sum);
	set_text(&slots[RS_ACC_PLATFORM], a->platform);
	set_text(&slots[RS_ACC_CURRENCY], a->currency);
}

/*
 * fill_campaign
 *		All slots of a campaign for window w except goals.
 */
static void
fill_campaign(ExprValue *slots, const RuleData *data, const RuleCampaign *c, int w)
{
	const double *s = &c->sums[w * RW_N];
	int			b;

	set_num(&slots[RS_SPEND], s[RW_SPEND]);
	set_num(&slots[RS_REVENUE], s[RW_REVENUE]);
	set_ratio(&slots[RS_ROAS], s[RW_REVENUE], s[RW_SPEND], 1);
	set_ratio(&slots[RS_CPA], s[RW_SPEND], s[RW_CONVERSIONS], 1);
	set_ratio(&slots[RS_CTR], s[RW_CLICKS], s[RW_IMPRESSIONS], 1);
	set_ratio(&slots[RS_CVR], s[RW_CONVERSIONS], s[RW_CLICKS], 1);
	set_ratio(&slots[RS_CPM], s[RW_SPEND], s[RW_IMPRESSIONS], 1000);
	set_ratio(&slots[RS_CPC], s[RW_SPEND], s[RW_CLICKS], 1);
	set_num(&slots[RS_IMPRESSIONS], s[RW_IMPRESSIONS]);
	set_num(&slots[RS_CLICKS], s[RW_CLICKS]);
	set_num(&slots[RS_CONVERSIONS], s[RW_CONVERSIONS]);
	set_num(&slots[RS_DAILY_BUDGET], c->daily_budget);
	set_num(&slots[RS_DAYS_ACTIVE], c->days_active);
	set_num(&slots[RS_DAYS_SINCE_CHANGE], c->days_since_change);
	set_num(&slots[RS_HOUR_OF_DAY], c->hour_of_day);
	set_num(&slots[RS_DAY_OF_WEEK], c->day_of_week);
	set_num(&slots[RS_SIGNAL_HEALTH], c->signal_health);
	set_num(&slots[RS_EMQ_SCORE], c->emq_score);
	set_num(&slots[RS_ATTRIBUTION_VARIANCE], c->attribution_variance);
	set_text(&slots[RS_PLATFORM], c->platform);
	set_text(&slots[RS_CAMPAIGN_TYPE], c->campaign_type);
	set_text(&slots[RS_STATUS], c->status);
	expr_value_bool(&slots[RS_IS_BRAND], c->is_brand);
	expr_value_bool(&slots[RS_IS_RETARGETING], c->is_retargeting);
	set_text(&slots[RS_CAMPAIGN_NAME], c->name);
	set_text(&slots[RS_CAMPAIGN_ID], c->campaign_id);
	fill_account(slots, &data->accounts[c->account], w);
	for (b = 0; b < RULE_NBENCH; b++)
		set_num(&slots[RS_BENCH_FIRST + b], c->bench[b]);
}

/*
 * targeted
 *		Whether a rule's targeting selects a campaign.
 */
static inline bool
targeted(const RuleProgram *r, const RuleCampaign *c, const char *account_id)
{
	int			k;

	if (r->platform_mask && (c->platform_no < 0 || !(r->platform_mask & ((uint32) 1 << c->platform_no))))
		return false;
	if (r->type_mask && (c->type_no < 0 || !(r->type_mask & ((uint32) 1 << c->type_no))))
		return false;
	if (r->status_mask && (c->status_no < 0 || !(r->status_mask & ((uint32) 1 << c->status_no))))
		return false;
	if ((r->exclude_brand && c->is_brand) || (r->exclude_retargeting && c->is_retargeting))
		return false;
	if (r->naccount_ids == 0)
		return true;
	for (k = 0; k < r->naccount_ids; k++)
		if (strcmp(r->account_ids[k], account_id) == 0)
			return true;
	return false;
}

/*
 * append_number
 *		A JSON number (or null for NaN/infinite values).
 */
static void
append_number(StringInfo buf, const char *key, const ExprValue *v)
{
	char		num[DOUBLE_SHORTEST_DECIMAL_LEN];

	appendStringInfo(buf, ",\"%s\":", key);
	if (v->kind != EXPR_NUMBER || isnan(v->u.num) || isinf(v->u.num))
		appendStringInfoString(buf, "null");
	else
	{
		double_to_shortest_decimal_buf(v->u.num, num);
		appendStringInfoString(buf, num);
	}
}

/*
 * metrics_json
 *		The campaign's figures a match is recorded with (and templates and
 *		impact estimates read).
 */
static Datum
metrics_json(const ExprValue *slots, const RuleCampaign *c)
{
	StringInfoData buf;
	static const int nums[] = {
		RS_SPEND, RS_REVENUE, RS_ROAS, RS_CPA, RS_CTR, RS_CVR, RS_CPM, RS_CPC, RS_IMPRESSIONS,
		RS_CLICKS, RS_CONVERSIONS, RS_DAILY_BUDGET, RS_DAYS_ACTIVE, RS_DAYS_SINCE_CHANGE,
		RS_SIGNAL_HEALTH, RS_EMQ_SCORE, RS_ATTRIBUTION_VARIANCE
	};
	int			i;

	initStringInfo(&buf);
	appendStringInfoString(&buf, "{\"as_of\":");
	escape_json(&buf, c->today);
	appendStringInfoString(&buf, ",\"campaign_name\":");
	escape_json(&buf, c->name);
	appendStringInfoString(&buf, ",\"platform\":");
	escape_json(&buf, c->platform);
	appendStringInfoString(&buf, ",\"campaign_type\":");
	escape_json(&buf, c->campaign_type);
	for (i = 0; i < lengthof(nums); i++)
		append_number(&buf, rule_slot_names[nums[i]], &slots[nums[i]]);
	appendStringInfoChar(&buf, '}');
	return DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data));
}

/*
 * stratum_internal.custom_rules_evaluate(tenant text, rule_ids bigint[],
 *		as_of date, timezone text, hour integer, details boolean)
 *		RETURNS TABLE (rule_id bigint, campaign_id text, account_id text,
 *					   outcome text, reason text, metrics jsonb)
 *
 *		Evaluate the rules over the tenant's campaigns (those of accounts in
 *		the given time zone, if any) as of a day (NULL: each account's local
 *		today; hour: the hour of day to assume then).  With details, one row
 *		per matched campaign (outcome 'matched') or campaign held back by the
 *		trust gate ('skipped', with the reason); then, with or without
 *		details, one row per rule (outcome 'summary') with the counts of
 *		targeted, matched and skipped campaigns in metrics.
 */
Datum
stratum_custom_rules_evaluate(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	MemoryContext keep;
	MemoryContext old;
	char	   *tenant;
	RuleData	data;
	RuleProgram *rules;
	int			nrules = 0;
	bool		details;
	ExprValue  *slots;
	int			w,
				c,
				r;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("tenant and rule ids must not be NULL")));
	InitMaterializedSRF(fcinfo, 0);
	tenant = text_to_cstring(PG_GETARG_TEXT_PP(0));
	details = PG_ARGISNULL(5) ? true : PG_GETARG_BOOL(5);

	keep = AllocSetContextCreate(CurrentMemoryContext, "stratum rule evaluation",
								 ALLOCSET_DEFAULT_SIZES);
	memset(&data, 0, sizeof(data));
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "stratum rules: SPI_connect failed");
	rules = load_rules(&data, keep, tenant, PG_GETARG_DATUM(1), &nrules);
	if (nrules > 0)
		rule_metrics_load(&data, keep, tenant, !PG_ARGISNULL(2),
						  PG_ARGISNULL(2) ? 0 : PG_GETARG_DATEADT(2),
						  PG_ARGISNULL(3) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(3)),
						  PG_ARGISNULL(4) ? -1 : PG_GETARG_INT32(4));
	SPI_finish();

	old = MemoryContextSwitchTo(keep);
	slots = palloc0(sizeof(ExprValue) * RS_COUNT_);

	for (w = 0; w < data.nwindows; w++)
	{
		for (c = 0; c < data.ncampaigns; c++)
		{
			const RuleCampaign *camp = &data.campaigns[c];
			bool		filled = false;

			CHECK_FOR_INTERRUPTS();
			for (r = 0; r < nrules; r++)
			{
				RuleProgram *rule = &rules[r];
				const char *reason = NULL;

				if (rule->window != w || !targeted(rule, camp, data.accounts[camp->account].account_id))
					continue;
				if (!filled)
				{
					fill_campaign(slots, &data, camp, w);
					filled = true;
				}
				rule->targeted++;
				if (rule->has_goals)
				{
					int			g;

					for (g = 0; g < RULE_NGOALS; g++)
						set_num(&slots[RS_GOAL_FIRST + g], rule->goals[g]);
				}
				else
				{
					int			g;

					for (g = 0; g < RULE_NGOALS; g++)
						expr_value_null(&slots[RS_GOAL_FIRST + g]);
				}
				if (!expr_eval(rule->prog, slots, &data.accounts[camp->account].zone))
					continue;

				if (!isnan(rule->min_signal_health) &&
					(isnan(camp->signal_health) || camp->signal_health < rule->min_signal_health))
				{
					char		num[DOUBLE_SHORTEST_DECIMAL_LEN];
					char		min[DOUBLE_SHORTEST_DECIMAL_LEN];

					double_to_shortest_decimal_buf(rule->min_signal_health, min);
					if (isnan(camp->signal_health))
						reason = psprintf("no signal health data (minimum %s)", min);
					else
					{
						double_to_shortest_decimal_buf(camp->signal_health, num);
						reason = psprintf("signal health %s below minimum %s", num, min);
					}
					rule->skipped++;
				}
				else
					rule->matched++;

				if (details)
				{
					Datum		values[6];
					bool		nulls[6] = {false, false, false, false, false, false};

					values[0] = Int64GetDatum(rule->rule_id);
					values[1] = CStringGetTextDatum(camp->campaign_id);
					values[2] = CStringGetTextDatum(data.accounts[camp->account].account_id);
					values[3] = CStringGetTextDatum(reason ? "skipped" : "matched");
					values[4] = reason ? CStringGetTextDatum(reason) : (Datum) 0;
					nulls[4] = reason == NULL;
					values[5] = metrics_json(slots, camp);
					tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
				}
			}
		}
	}

	/* the counts, always */
	{
		for (r = 0; r < nrules; r++)
		{
			Datum		values[6];
			bool		nulls[6] = {false, true, true, false, true, false};
			char	   *json = psprintf("{\"targeted\": " INT64_FORMAT ", \"matched\": " INT64_FORMAT
										", \"skipped\": " INT64_FORMAT "}",
										rules[r].targeted, rules[r].matched, rules[r].skipped);

			values[0] = Int64GetDatum(rules[r].rule_id);
			values[3] = CStringGetTextDatum("summary");
			values[5] = DirectFunctionCall1(jsonb_in, CStringGetDatum(json));
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		}
	}
	MemoryContextSwitchTo(old);
	MemoryContextDelete(keep);
	return (Datum) 0;
}
