/*-------------------------------------------------------------------------
 *
 * expr.h
 *		C interface of the condition language for other stratum modules
 *		(triggers, segments, rules, reports).
 *
 * Compile once, bind field paths to slot numbers once, then evaluate
 * against an array of typed values with no name lookups, no jsonb and no
 * allocation per row:
 *
 *		static const char *const slots[] = {"spend", "roas", "daily_budget"};
 *		ExprCompiled *c = expr_condition_decode(PG_GETARG_DATUM(0));
 *		   (or expr_condition_from_text("spend > $100 AND roas < 1.5", "campaign"))
 *		ExprProgram *p = expr_bind(c, slots, 3, false);
 *		ExprValue	v[3];
 *
 *		for each row:
 *			expr_value_number(&v[0], spend);
 *			expr_value_number(&v[1], roas);
 *			expr_value_null(&v[2]);
 *			if (expr_eval(p, v, NULL)) ...
 *
 * Everything is allocated in CurrentMemoryContext: switch to a long-lived
 * context before compiling and binding if the program is kept across
 * calls.  Errors are reported with ereport(ERROR).  Semantics (missing or
 * NULL values never match, SQL three-valued logic) are described in
 * expr_eval.c and docs/conditions.md.
 *
 *-------------------------------------------------------------------------
 */
#ifndef STRATUM_EXPR_H
#define STRATUM_EXPR_H

#include "postgres.h"

#include "expr/expr_core.h"
#include "fmgr.h"

/* Decode (and validate) a stored stratum.condition datum. */
extern ExprCompiled *expr_condition_decode(Datum cond);

/* Parse and compile text; with a context (profile, event, campaign, lead)
 * the fields are checked and unqualified names qualified; NULL: no check. */
extern ExprCompiled *expr_condition_from_text(const char *text, const char *context);

/* Check a compiled condition against a context; returns the resolved one. */
extern ExprCompiled *expr_condition_resolve(const ExprCompiled *cond, const char *context);

/* The stratum.condition datum for a compiled condition. */
extern Datum expr_condition_datum(const ExprCompiled *cond);

/* Bind field paths to slots (slot_names are canonical paths such as
 * "profile.total_spend" or "spend").  A field of the condition missing
 * from slot_names is an error, or always NULL if missing_is_null. */
extern ExprProgram *expr_bind(const ExprCompiled *cond, const char *const *slot_names,
							  int nslots, bool missing_is_null);

/* Evaluate: true only if the condition is TRUE for these slot values.
 * now() is the transaction start time; hour_of_day() and day_of_week()
 * read timestamps in the zone (NULL: UTC). */
extern bool expr_eval(const ExprProgram *prog, const ExprValue *slots, const ExprZone *zone);

/* Zones for expr_eval: an IANA name (false if unknown), the session's
 * TimeZone, a tenant's zone (the session's if the tenant is unknown). */
extern bool expr_zone_named(ExprZone *zone, const char *tzname);
extern void expr_zone_session(ExprZone *zone);
extern void expr_zone_tenant(ExprZone *zone, const char *tenant);

/* Turn a core error into ereport(ERROR). */
extern void expr_report_error(const ExprError *err) pg_attribute_noreturn();

/* Slot value setters. */
static inline void
expr_value_null(ExprValue *v)
{
	v->kind = EXPR_NULL;
}

static inline void
expr_value_number(ExprValue *v, double d)
{
	v->kind = EXPR_NUMBER;
	v->u.num = d;
}

static inline void
expr_value_bool(ExprValue *v, bool b)
{
	v->kind = EXPR_BOOL;
	v->u.b = b;
}

/* ts: TimestampTz (microseconds since 2000-01-01 UTC) */
static inline void
expr_value_timestamp(ExprValue *v, int64 ts)
{
	v->kind = EXPR_TIMESTAMP;
	v->u.ts = ts;
}

/* The bytes are not copied: they must outlive the evaluation. */
static inline void
expr_value_text(ExprValue *v, const char *s, int len)
{
	v->kind = EXPR_TEXT;
	v->fold = EXPR_FOLD_NONE;
	v->u.str = s;
	v->len = len;
}

#endif							/* STRATUM_EXPR_H */
