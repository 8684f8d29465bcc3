/*-------------------------------------------------------------------------
 *
 * rules.h
 *		Custom autopilot rules: the in-memory picture of a tenant's
 *		campaigns with their window metrics (rule_metrics.c) and of the rules
 *		to evaluate over them (rule_eval.c).
 *
 * Evaluation loads every campaign's metrics for every window the rules
 * use with one aggregate query, then runs each rule's bound condition
 * program over each campaign in C: no SQL and no name lookups per
 * (rule, campaign) pair.
 *
 *-------------------------------------------------------------------------
 */
#ifndef STRATUM_RULES_H
#define STRATUM_RULES_H

#include "postgres.h"

#include "expr/expr.h"
#include "utils/date.h"

/*
 * Slots of the "campaign" context, in the order the evaluator fills them.
 * rule_slot_names[] (rule_eval.c) holds the matching field paths.
 */
typedef enum RuleSlot
{
	RS_SPEND = 0,
	RS_REVENUE,
	RS_ROAS,
	RS_CPA,
	RS_CTR,
	RS_CVR,
	RS_CPM,
	RS_CPC,
	RS_IMPRESSIONS,
	RS_CLICKS,
	RS_CONVERSIONS,
	RS_DAILY_BUDGET,
	RS_DAYS_ACTIVE,
	RS_DAYS_SINCE_CHANGE,
	RS_HOUR_OF_DAY,
	RS_DAY_OF_WEEK,
	RS_SIGNAL_HEALTH,
	RS_EMQ_SCORE,
	RS_ATTRIBUTION_VARIANCE,
	RS_PLATFORM,
	RS_CAMPAIGN_TYPE,
	RS_STATUS,
	RS_IS_BRAND,
	RS_IS_RETARGETING,
	RS_CAMPAIGN_NAME,
	RS_CAMPAIGN_ID,
	RS_ACC_AVG_CPM,
	RS_ACC_AVG_CTR,
	RS_ACC_AVG_ROAS,
	RS_ACC_AVG_CPA,
	RS_ACC_AVG_CPC,
	RS_ACC_AVG_CVR,
	RS_ACC_SPEND,
	RS_ACC_REVENUE,
	RS_ACC_ROAS,
	RS_ACC_DAILY_BUDGET,
	RS_ACC_PLATFORM,
	RS_ACC_CURRENCY,
	RS_GOAL_FIRST,				/* goal.roas ... goal.daily_budget */
	RS_BENCH_FIRST = RS_GOAL_FIRST + 10,	/* benchmark.roas ... */
	RS_COUNT_ = RS_BENCH_FIRST + 6
} RuleSlot;

#define RULE_NGOALS		10
#define RULE_NBENCH		6

/* Additive metrics summed over a window, in this order. */
#define RW_SPEND		0
#define RW_IMPRESSIONS	1
#define RW_CLICKS		2
#define RW_CONVERSIONS	3
#define RW_REVENUE		4
#define RW_N			5

/* A window relative to the evaluation day d: days [d - back_from, d - back_to]. */
typedef struct RuleWindow
{
	int			back_from;
	int			back_to;
} RuleWindow;

/* An ad account and its per-window totals over all its loaded campaigns. */
typedef struct RuleAccount
{
	char	   *account_id;
	char	   *platform;
	char	   *currency;
	double		budget_sum;		/* daily budgets of its active campaigns */
	double	   *sums;			/* nwindows x RW_N */
	ExprZone	zone;			/* its time zone, for hour_of_day() etc. */
} RuleAccount;

/* A campaign with its attributes and per-window sums (0 for a window without
 * metrics rows).  NaN means NULL. */
typedef struct RuleCampaign
{
	char	   *campaign_id;
	char	   *name;
	char	   *platform;
	char	   *campaign_type;
	char	   *status;
	int			account;		/* index into RuleData.accounts */
	int			platform_no;	/* index into rule_platforms[], or -1 */
	int			type_no;		/* index into rule_campaign_types[], or -1 */
	int			status_no;		/* index into rule_statuses[], or -1 */
	bool		is_brand;
	bool		is_retargeting;
	double		daily_budget;
	double		days_active;
	double		days_since_change;
	double		hour_of_day;
	double		day_of_week;
	double		signal_health;
	double		emq_score;
	double		attribution_variance;
	double		bench[RULE_NBENCH];	/* roas, cpa, ctr, cvr, cpm, cpc */
	char	   *today;			/* evaluation day (account time zone), text */
	double	   *sums;			/* nwindows x RW_N */
} RuleCampaign;

/* Everything loaded for one evaluation. */
typedef struct RuleData
{
	int			nwindows;
	RuleWindow *windows;
	int			naccounts;
	RuleAccount *accounts;
	int			ncampaigns;
	RuleCampaign *campaigns;
} RuleData;

/* Value lists that targeting is matched against (bit masks by position). */
extern const char *const rule_platforms[];
extern const int rule_nplatforms;
extern const char *const rule_campaign_types[];
extern const int rule_ncampaign_types;
extern const char *const rule_statuses[];
extern const int rule_nstatuses;

/* rule_metrics.c */
extern void rule_metrics_load(RuleData *data, MemoryContext keep, const char *tenant, bool has_as_of,
							  DateADT as_of, const char *timezone, int hour);
extern int	rule_value_index(const char *const *list, int n, const char *s);

#endif							/* STRATUM_RULES_H */
