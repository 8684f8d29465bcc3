/*-------------------------------------------------------------------------
 *
 * churn_score.c
 *		Scoring: a row's churn probability and the features behind it.
 *
 *		stratum_churn_predict_internal
 *			the 0.1.0 scorer of a whole query (loads every row, then
 *			returns them); the SQL functions of 0.2.0 score row by row in
 *			churn_row.c.  The symbol stays so that a 0.1.0 install keeps
 *			working until ALTER EXTENSION stratum UPDATE;
 *		stratum_internal.churn_evaluate(model_id, query, label, positive,
 *			threshold)
 *			metrics of a stored model on labelled data (held-out tests,
 *			comparing a candidate with the deployed model).
 *
 * A factor is one feature's contribution to the logit: coefficient x
 * standardised value for logistic regression, the change of node value
 * along the decision path for trees (Saabas).  Positive contributions raise
 * the churn risk, negative ones lower it.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/tuplestore.h"

#include "churn/churn.h"

PG_FUNCTION_INFO_V1(stratum_churn_predict_internal);
PG_FUNCTION_INFO_V1(stratum_churn_evaluate_internal);

/*
 * churn_sigmoid
 *		1 / (1 + e^-z), without overflow.
 */
double
churn_sigmoid(double z)
{
	if (z >= 0)
		return 1.0 / (1.0 + exp(-z));
	else
	{
		double		e = exp(z);

		return e / (1.0 + e);
	}
}

/*
 * churn_model_logit
 *		A row's logit under either kind of model, with optional per-feature
 *		contributions.
 */
double
churn_model_logit(const ChurnModel *m, const ChurnData *d, int64 row, double *contrib)
{
	if (m->algorithm == CHURN_LOGREG)
		return churn_logreg_logit(m, d, row, contrib);
	return churn_gbt_logit(m, d, row, contrib);
}

/*
 * push_text / push_number
 *		Members of a factor object: a key or a string value, and a number.
 *		Numbers go through the same text form (%.10g) as the rest of
 *		stratum's JSON, so a factor reads the same whichever way it was built.
 */
static void
push_text(JsonbParseState **st, JsonbIteratorToken token, const char *s)
{
	JsonbValue	v;

	v.type = jbvString;
	v.val.string.val = (char *) s;
	v.val.string.len = strlen(s);
	pushJsonbValue(st, token, &v);
}

static void
push_number(JsonbParseState **st, double x)
{
	JsonbValue	v;

	if (isnan(x) || isinf(x))
		v.type = jbvNull;
	else
	{
		char		buf[64];

		snprintf(buf, sizeof(buf), "%.10g", x);
		v.type = jbvNumeric;
		v.val.numeric = DatumGetNumeric(DirectFunctionCall3(numeric_in, CStringGetDatum(buf),
															ObjectIdGetDatum(InvalidOid),
															Int32GetDatum(-1)));
	}
	pushJsonbValue(st, WJB_VALUE, &v);
}

/*
 * churn_factors_jsonb
 *		The top features of a row by absolute contribution, as a jsonb array
 *		of {feature, value, contribution, direction}, built directly (no
 *		text to parse).
 */
Jsonb *
churn_factors_jsonb(const ChurnModel *m, const ChurnData *d, int64 row,
					const double *contrib, int top)
{
	JsonbParseState *st = NULL;
	JsonbValue *res;
	bool	   *used = palloc0(sizeof(bool) * Max(m->nfeatures, 1));
	int			k,
				f;

	pushJsonbValue(&st, WJB_BEGIN_ARRAY, NULL);
	for (k = 0; k < top && k < m->nfeatures; k++)
	{
		int			best = -1;
		const ChurnColumn *c;

		for (f = 0; f < m->nfeatures; f++)
			if (!used[f] && (best < 0 || fabs(contrib[f]) > fabs(contrib[best])))
				best = f;
		if (best < 0 || fabs(contrib[best]) < 1e-9)
			break;
		used[best] = true;
		c = &d->cols[best];
		pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
		push_text(&st, WJB_KEY, "feature");
		push_text(&st, WJB_VALUE, m->features[best].name);
		push_text(&st, WJB_KEY, "value");
		if (c->kind == CHURN_NUMERIC)
			push_number(&st, c->num[row]);
		else if (c->cat[row] < 0)
			push_number(&st, NAN);
		else
			push_text(&st, WJB_VALUE, c->levels[c->cat[row]]);
		push_text(&st, WJB_KEY, "contribution");
		push_number(&st, round(contrib[best] * 10000) / 10000);
		push_text(&st, WJB_KEY, "direction");
		push_text(&st, WJB_VALUE, contrib[best] > 0 ? "raises" : "lowers");
		pushJsonbValue(&st, WJB_END_OBJECT, NULL);
	}
	res = pushJsonbValue(&st, WJB_END_ARRAY, NULL);
	pfree(used);
	return JsonbValueToJsonb(res);
}

/*
 * stratum_churn_predict_internal
 *		SQL (0.1.0 only): stratum_internal.churn_predict(model_id bigint,
 *		query text, key text, top integer) returns table (key bigint,
 *		probability float8, logit float8, factors jsonb).
 */
Datum
stratum_churn_predict_internal(PG_FUNCTION_ARGS)
{
	int64		model_id = PG_GETARG_INT64(0);
	char	   *query = text_to_cstring(PG_GETARG_TEXT_PP(1));
	char	   *key = PG_ARGISNULL(2) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(2));
	int			top = PG_ARGISNULL(3) ? 0 : PG_GETARG_INT32(3);
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	MemoryContext row_cxt;
	ChurnModel *m;
	ChurnLoadSpec spec;
	ChurnData  *d;
	double	   *contrib;
	int64		r;

	InitMaterializedSRF(fcinfo, 0);
	m = churn_model_fetch(model_id);
	memset(&spec, 0, sizeof(spec));
	spec.query = query;
	spec.key = key;
	spec.model = m;
	d = churn_data_load(&spec, CurrentMemoryContext);
	contrib = palloc(sizeof(double) * Max(m->nfeatures, 1));
	row_cxt = AllocSetContextCreate(CurrentMemoryContext, "stratum churn score row",
									ALLOCSET_DEFAULT_SIZES);
	for (r = 0; r < d->nrows; r++)
	{
		Datum		values[4];
		bool		nulls[4] = {false, false, false, false};
		double		z;
		MemoryContext old = MemoryContextSwitchTo(row_cxt);

		z = churn_model_logit(m, d, r, top > 0 ? contrib : NULL);
		values[0] = Int64GetDatum(d->key ? d->key[r] : r + 1);
		values[1] = Float8GetDatum(churn_sigmoid(z));
		values[2] = Float8GetDatum(z);
		if (top > 0)
			values[3] = JsonbPGetDatum(churn_factors_jsonb(m, d, r, contrib, top));
		else
			nulls[3] = true;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		MemoryContextSwitchTo(old);
		MemoryContextReset(row_cxt);
		if ((r & 4095) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	MemoryContextDelete(d->cxt);
	return (Datum) 0;
}

/*
 * stratum_churn_evaluate_internal
 *		SQL: stratum_internal.churn_evaluate(model_id bigint, query text,
 *		label text, positive text, threshold float8) -> jsonb metrics.
 */
Datum
stratum_churn_evaluate_internal(PG_FUNCTION_ARGS)
{
	int64		model_id = PG_GETARG_INT64(0);
	char	   *query = text_to_cstring(PG_GETARG_TEXT_PP(1));
	char	   *label = text_to_cstring(PG_GETARG_TEXT_PP(2));
	char	   *positive = PG_ARGISNULL(3) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(3));
	double		threshold = PG_ARGISNULL(4) ? 0.5 : PG_GETARG_FLOAT8(4);
	ChurnModel *m;
	ChurnLoadSpec spec;
	ChurnData  *d;
	double	   *prob;
	int64		r;
	StringInfoData buf;

	m = churn_model_fetch(model_id);
	memset(&spec, 0, sizeof(spec));
	spec.query = query;
	spec.label = label;
	spec.positive = positive;
	spec.model = m;
	d = churn_data_load(&spec, CurrentMemoryContext);
	if (d->nrows == 0)
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("the evaluation data is empty")));
	prob = palloc_extended(sizeof(double) * d->nrows, MCXT_ALLOC_HUGE);
	for (r = 0; r < d->nrows; r++)
		prob[r] = churn_sigmoid(churn_model_logit(m, d, r, NULL));
	initStringInfo(&buf);
	churn_metrics_json(&buf, prob, d->label, d->nrows, threshold);
	MemoryContextDelete(d->cxt);
	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data)));
}
