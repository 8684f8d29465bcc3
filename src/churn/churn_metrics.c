/*-------------------------------------------------------------------------
 *
 * churn_metrics.c
 *		Quality of churn probabilities against known labels: AUC-ROC, log
 *		loss, confusion matrix, accuracy, precision, recall, F1 at a
 *		threshold, calibration in ten bins, and a threshold curve from which
 *		a threshold for a target recall or precision can be chosen.
 *
 *		stratum_internal.churn_metrics(probabilities, labels, threshold)
 *		exposes the same computation to SQL (tests use it with hand-computed
 *		answers).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"

#include "churn/churn.h"

PG_FUNCTION_INFO_V1(stratum_churn_metrics_of);

/*
 * churn_json_number
 *		Append a number in JSON (null for NaN and infinities).
 */
void
churn_json_number(StringInfo buf, double v)
{
	if (isnan(v) || isinf(v))
		appendStringInfoString(buf, "null");
	else
		appendStringInfo(buf, "%.10g", v);
}

/*
 * churn_json_string
 *		Append a string as a quoted, escaped JSON string.
 */
void
churn_json_string(StringInfo buf, const char *s)
{
	escape_json(buf, s);
}

static const double *sort_prob;

/*
 * compare_by_prob
 *		qsort comparator: row indexes by probability.
 */
static int
compare_by_prob(const void *a, const void *b)
{
	double		x = sort_prob[*(const int64 *) a];
	double		y = sort_prob[*(const int64 *) b];

	return x < y ? -1 : x > y ? 1 : 0;
}

/*
 * churn_auc
 *		Area under the ROC curve: the probability that a random churner gets
 *		a higher score than a random non-churner (ties count one half),
 *		computed from average ranks.  NaN with one class only.
 */
double
churn_auc(const double *prob, const uint8 *label, int64 n)
{
	int64	   *ord = palloc_extended(sizeof(int64) * Max(n, 1), MCXT_ALLOC_HUGE);
	double		rank_sum = 0;
	int64		npos = 0,
				i,
				j;
	double		auc;

	for (i = 0; i < n; i++)
	{
		ord[i] = i;
		npos += label[i];
	}
	sort_prob = prob;
	qsort(ord, n, sizeof(int64), compare_by_prob);
	for (i = 0; i < n; i = j)
	{
		double		avg;
		int64		k;

		for (j = i + 1; j < n && prob[ord[j]] == prob[ord[i]]; j++)
			;
		avg = (i + 1 + j) / 2.0;	/* ranks i+1 .. j */
		for (k = i; k < j; k++)
			if (label[ord[k]])
				rank_sum += avg;
	}
	pfree(ord);
	if (npos == 0 || npos == n)
		return NAN;
	auc = (rank_sum - (double) npos * (npos + 1) / 2) / ((double) npos * (n - npos));
	return auc;
}

/*
 * churn_auc_se
 *		Standard error of an AUC measured on npos churners and nneg others
 *		(Hanley and McNeil, 1982).
 */
double
churn_auc_se(double auc, int64 npos, int64 nneg)
{
	double		q1 = auc / (2 - auc);
	double		q2 = 2 * auc * auc / (1 + auc);
	double		var;

	if (npos == 0 || nneg == 0 || isnan(auc))
		return NAN;
	var = (auc * (1 - auc) + (npos - 1) * (q1 - auc * auc) + (nneg - 1) * (q2 - auc * auc)) /
		((double) npos * nneg);
	return sqrt(Max(var, 0));
}

/*
 * churn_log_loss
 *		Mean negative log-likelihood, probabilities clipped to [1e-15, 1-1e-15].
 */
double
churn_log_loss(const double *prob, const uint8 *label, int64 n)
{
	double		s = 0;
	int64		i;

	for (i = 0; i < n; i++)
	{
		double		q = Min(Max(prob[i], 1e-15), 1 - 1e-15);

		s -= label[i] ? log(q) : log(1 - q);
	}
	return n > 0 ? s / n : NAN;
}

/*
 * churn_metrics_json
 *		Append the metrics of probabilities against labels as a JSON object.
 */
void
churn_metrics_json(StringInfo buf, const double *prob, const uint8 *label, int64 n,
				   double threshold)
{
	int64		tp = 0,
				fp = 0,
				tn = 0,
				fn = 0,
				i;
	int64		cal_n[10] = {0};
	double		cal_p[10] = {0},
				cal_y[10] = {0};
	double		precision,
				recall,
				f1;
	int			b,
				t;

	for (i = 0; i < n; i++)
	{
		bool		pred = prob[i] >= threshold;

		if (pred && label[i])
			tp++;
		else if (pred)
			fp++;
		else if (label[i])
			fn++;
		else
			tn++;
		b = Min((int) (prob[i] * 10), 9);
		b = Max(b, 0);
		cal_n[b]++;
		cal_p[b] += prob[i];
		cal_y[b] += label[i];
	}
	precision = tp + fp > 0 ? (double) tp / (tp + fp) : NAN;
	recall = tp + fn > 0 ? (double) tp / (tp + fn) : NAN;
	f1 = (tp > 0) ? 2 * precision * recall / (precision + recall) : 0;

	appendStringInfo(buf, "{\"rows\": " INT64_FORMAT ", \"positives\": " INT64_FORMAT ", \"auc\": ",
					 n, tp + fn);
	churn_json_number(buf, churn_auc(prob, label, n));
	appendStringInfoString(buf, ", \"log_loss\": ");
	churn_json_number(buf, churn_log_loss(prob, label, n));
	appendStringInfoString(buf, ", \"threshold\": ");
	churn_json_number(buf, threshold);
	appendStringInfoString(buf, ", \"accuracy\": ");
	churn_json_number(buf, n > 0 ? (double) (tp + tn) / n : NAN);
	appendStringInfoString(buf, ", \"precision\": ");
	churn_json_number(buf, precision);
	appendStringInfoString(buf, ", \"recall\": ");
	churn_json_number(buf, recall);
	appendStringInfoString(buf, ", \"f1\": ");
	churn_json_number(buf, f1);
	appendStringInfo(buf, ", \"confusion\": {\"tp\": " INT64_FORMAT ", \"fp\": " INT64_FORMAT
					 ", \"tn\": " INT64_FORMAT ", \"fn\": " INT64_FORMAT "}", tp, fp, tn, fn);

	appendStringInfoString(buf, ", \"calibration\": [");
	for (b = 0; b < 10; b++)
	{
		if (b > 0)
			appendStringInfoString(buf, ", ");
		appendStringInfo(buf, "{\"bin\": \"%d-%d%%\", \"rows\": " INT64_FORMAT ", \"mean_probability\": ",
						 b * 10, b * 10 + 10, cal_n[b]);
		churn_json_number(buf, cal_n[b] ? cal_p[b] / cal_n[b] : NAN);
		appendStringInfoString(buf, ", \"churn_rate\": ");
		churn_json_number(buf, cal_n[b] ? cal_y[b] / cal_n[b] : NAN);
		appendStringInfoChar(buf, '}');
	}
	appendStringInfoChar(buf, ']');

	/* Counts at thresholds 0.01 .. 0.99, for choosing a threshold later. */
	appendStringInfoString(buf, ", \"curve\": [");
	{
		int64		hist_pos[100] = {0},
					hist_neg[100] = {0};
		int64		ctp = 0,
					cfp = 0;

		for (i = 0; i < n; i++)
		{
			int			k = (int) floor(prob[i] * 100);

			k = Min(Max(k, 0), 99);
			if (label[i])
				hist_pos[k]++;
			else
				hist_neg[k]++;
		}
		/* predicted positive at threshold t/100: prob >= t/100, i.e. bucket >= t */
		for (t = 99; t >= 1; t--)
		{
			ctp += hist_pos[t];
			cfp += hist_neg[t];
			appendStringInfo(buf, "%s{\"threshold\": %.2f, \"tp\": " INT64_FORMAT ", \"fp\": " INT64_FORMAT "}",
							 t == 99 ? "" : ", ", t / 100.0, ctp, cfp);
		}
	}
	appendStringInfoString(buf, "]}");
}

/*
 * stratum_churn_metrics_of
 *		SQL: stratum_internal.churn_metrics(probabilities float8[], labels
 *		boolean[], threshold float8) -> jsonb.
 */
Datum
stratum_churn_metrics_of(PG_FUNCTION_ARGS)
{
	ArrayType  *pa = PG_GETARG_ARRAYTYPE_P(0);
	ArrayType  *la = PG_GETARG_ARRAYTYPE_P(1);
	double		threshold = PG_GETARG_FLOAT8(2);
	Datum	   *pv,
			   *lv;
	bool	   *pn,
			   *ln;
	int			np,
				nl,
				i;
	double	   *prob;
	uint8	   *label;
	StringInfoData buf;

	deconstruct_array(pa, FLOAT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE, &pv, &pn, &np);
	deconstruct_array(la, BOOLOID, 1, true, TYPALIGN_CHAR, &lv, &ln, &nl);
	if (np != nl)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("probabilities and labels differ in length (%d and %d)", np, nl)));
	prob = palloc(sizeof(double) * Max(np, 1));
	label = palloc(Max(np, 1));
	for (i = 0; i < np; i++)
	{
		if (pn[i] || ln[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("probabilities and labels must not contain nulls")));
		prob[i] = DatumGetFloat8(pv[i]);
		if (prob[i] < 0 || prob[i] > 1 || isnan(prob[i]))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("probability %g at position %d is not between 0 and 1", prob[i], i + 1)));
		label[i] = DatumGetBool(lv[i]) ? 1 : 0;
	}
	initStringInfo(&buf);
	churn_metrics_json(&buf, prob, label, np, threshold);
	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data)));
}
