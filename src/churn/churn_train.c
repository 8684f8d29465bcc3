/*-------------------------------------------------------------------------
 *
 * churn_train.c
 *		Training runs: options, the validation split, model selection by
 *		validation AUC, the final refit, and storing the model.
 *
 * A run loads the data (churn_data.c), splits it into a training and a
 * validation part (stratified by label, shuffled with the seed), fits
 * logistic regression for each L2 strength in lr_c and gradient-boosted
 * trees with early stopping, and keeps the candidate with the highest
 * validation AUC, except that trees replace the linear model only when
 * their AUC is higher by more than gbt_min_gain_se standard errors of the
 * linear model's AUC (default 1), and by at least gbt_min_gain (default
 * 0.005): within the noise of the validation split, the simpler model is
 * kept, as it scores faster, explains itself exactly and varies less from
 * one split to the next (the "one standard error" rule); and on large data,
 * where that noise is tiny, a gain of a few thousandths of AUC does not pay
 * for trees that score some twenty times slower (docs/performance.md).  With refit (the default) the winner is fitted again on
 * all rows with the chosen hyper-parameters (for trees: the number of trees
 * found by early stopping).  Hyper-parameters are chosen on the validation
 * part only; held-out test data, if any, is never seen.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "portability/instr_time.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/numeric.h"

#include "churn/churn.h"

PG_FUNCTION_INFO_V1(stratum_churn_train_internal);

static const char *const known_options[] = {
	"algorithm", "seed", "validation_fraction", "refit", "drop_constant", "max_categories",
	"lr_c", "lr_max_iter", "gbt_learning_rate", "gbt_max_iter", "gbt_max_leaves",
	"gbt_max_depth", "gbt_min_leaf", "gbt_l2", "gbt_max_bins", "gbt_early_stopping",
	"gbt_min_gain_se", "gbt_min_gain", "exclude", "positive", NULL
};

/*
 * jb_get
 *		Value of a key of a jsonb object, or NULL when absent or JSON null.
 */
static JsonbValue *
jb_get(Jsonb *jb, const char *key)
{
	JsonbValue	k;
	JsonbValue *v;

	if (jb == NULL || !JB_ROOT_IS_OBJECT(jb))
		return NULL;
	k.type = jbvString;
	k.val.string.val = (char *) key;
	k.val.string.len = strlen(key);
	v = findJsonbValueFromContainer(&jb->root, JB_FOBJECT, &k);
	if (v && v->type == jbvNull)
		return NULL;
	return v;
}

static void
bad_option(const char *key, const char *want)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid value for option \"%s\"", key),
			 errdetail("Expected %s.", want)));
}

static double
jb_number(Jsonb *jb, const char *key, double dflt, double min, double max)
{
	JsonbValue *v = jb_get(jb, key);
	double		x;

	if (v == NULL)
		return dflt;
	if (v->type != jbvNumeric)
		bad_option(key, "a number");
	x = DatumGetFloat8(DirectFunctionCall1(numeric_float8, NumericGetDatum(v->val.numeric)));
	if (!(x >= min && x <= max))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("option \"%s\" is out of range", key),
				 errdetail("It must be between %g and %g; it is %g.", min, max, x)));
	return x;
}

static bool
jb_bool(Jsonb *jb, const char *key, bool dflt)
{
	JsonbValue *v = jb_get(jb, key);

	if (v == NULL)
		return dflt;
	if (v->type != jbvBool)
		bad_option(key, "true or false");
	return v->val.boolean;
}

static char *
jb_string(Jsonb *jb, const char *key, const char *dflt)
{
	JsonbValue *v = jb_get(jb, key);

	if (v == NULL)
		return dflt ? pstrdup(dflt) : NULL;
	if (v->type != jbvString)
		bad_option(key, "a string");
	return pnstrdup(v->val.string.val, v->val.string.len);
}

/*
 * jb_array
 *		Elements of an array option (a scalar counts as a one-element array),
 *		as JsonbValues.
 */
static JsonbValue *
jb_array(Jsonb *jb, const char *key, int *n)
{
	JsonbValue *v = jb_get(jb, key);
	JsonbValue *out;
	JsonbIterator *it;
	JsonbValue	e;
	JsonbIteratorToken tok;
	int			cap = 8;

	*n = 0;
	if (v == NULL)
		return NULL;
	if (v->type != jbvBinary)
	{
		out = palloc(sizeof(JsonbValue));
		out[0] = *v;
		*n = 1;
		return out;
	}
	out = palloc(sizeof(JsonbValue) * cap);
	it = JsonbIteratorInit(v->val.binary.data);
	while ((tok = JsonbIteratorNext(&it, &e, true)) != WJB_DONE)
	{
		if (tok == WJB_KEY)
			bad_option(key, "an array");
		if (tok != WJB_ELEM)
			continue;
		if (*n == cap)
		{
			cap *= 2;
			out = repalloc(out, sizeof(JsonbValue) * cap);
		}
		out[(*n)++] = e;
	}
	return out;
}

/*
 * churn_params_from_jsonb
 *		Training options with their defaults; unknown keys and bad values are
 *		errors.
 */
void
churn_params_from_jsonb(ChurnParams *p, Jsonb *options)
{
	JsonbValue *cs;
	int			n,
				i;

	if (options && !JB_ROOT_IS_OBJECT(options))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("training options must be a JSON object")));
	if (options)
	{
		JsonbIterator *it = JsonbIteratorInit(&options->root);
		JsonbValue	v;
		JsonbIteratorToken tok;

		while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
		{
			char	   *key;
			const char *const *k;

			if (tok != WJB_KEY)
				continue;
			key = pnstrdup(v.val.string.val, v.val.string.len);
			for (k = known_options; *k; k++)
				if (strcmp(*k, key) == 0)
					break;
			if (*k == NULL)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("unknown training option \"%s\"", key),
						 errhint("Known options: algorithm, seed, validation_fraction, refit, drop_constant, max_categories, exclude, positive, lr_c, lr_max_iter, gbt_learning_rate, gbt_max_iter, gbt_max_leaves, gbt_max_depth, gbt_min_leaf, gbt_l2, gbt_max_bins, gbt_early_stopping, gbt_min_gain_se, gbt_min_gain.")));
		}
	}

	p->algorithm = jb_string(options, "algorithm", "auto");
	if (strcmp(p->algorithm, "auto") != 0 && strcmp(p->algorithm, "logreg") != 0 &&
		strcmp(p->algorithm, "gbt") != 0)
		bad_option("algorithm", "\"auto\", \"logreg\" or \"gbt\"");
	p->seed = (int) jb_number(options, "seed", 42, 0, PG_INT32_MAX);
	p->validation_fraction = jb_number(options, "validation_fraction", 0.2, 0.05, 0.5);
	p->refit = jb_bool(options, "refit", true);
	p->drop_constant = jb_bool(options, "drop_constant", false);
	p->max_categories = (int) jb_number(options, "max_categories", 1000, 2, 100000);
	cs = jb_array(options, "lr_c", &n);
	if (n == 0)
	{
		static const double dflt[] = {0.01, 0.1, 1.0, 10.0};

		p->n_lr_c = lengthof(dflt);
		p->lr_c = palloc(sizeof(dflt));
		memcpy(p->lr_c, dflt, sizeof(dflt));
	}
	else
	{
		p->n_lr_c = n;
		p->lr_c = palloc(sizeof(double) * n);
		for (i = 0; i < n; i++)
		{
			if (cs[i].type != jbvNumeric)
				bad_option("lr_c", "a positive number or an array of them");
			p->lr_c[i] = DatumGetFloat8(DirectFunctionCall1(numeric_float8,
															NumericGetDatum(cs[i].val.numeric)));
			if (!(p->lr_c[i] > 0))
				bad_option("lr_c", "a positive number or an array of them");
		}
	}
	p->lr_max_iter = (int) jb_number(options, "lr_max_iter", 100, 1, 10000);
	p->gbt_learning_rate = jb_number(options, "gbt_learning_rate", 0.05, 1e-4, 1);
	p->gbt_max_iter = (int) jb_number(options, "gbt_max_iter", 500, 1, 100000);
	p->gbt_max_leaves = (int) jb_number(options, "gbt_max_leaves", 15, 2, 4096);
	p->gbt_max_depth = (int) jb_number(options, "gbt_max_depth", 6, 0, 64);
	p->gbt_min_leaf = (int) jb_number(options, "gbt_min_leaf", 20, 1, PG_INT32_MAX);
	p->gbt_l2 = jb_number(options, "gbt_l2", 1.0, 0, 1e9);
	p->gbt_max_bins = (int) jb_number(options, "gbt_max_bins", 255, 2, CHURN_MAX_BINS);
	p->gbt_early_stopping = (int) jb_number(options, "gbt_early_stopping", 30, 1, 100000);
	p->gbt_min_gain_se = jb_number(options, "gbt_min_gain_se", 1.0, 0, 100);
	p->gbt_min_gain = jb_number(options, "gbt_min_gain", 0.005, 0, 1);
}

/*
 * churn_load_spec_from_jsonb
 *		The data-loading part of the options: excluded columns, the label's
 *		positive value, the category limit.
 */
static void
churn_load_spec_from_jsonb(ChurnLoadSpec *spec, Jsonb *options, const ChurnParams *p)
{
	JsonbValue *ex;
	int			n,
				i;

	ex = jb_array(options, "exclude", &n);
	spec->nexclude = n;
	spec->exclude = palloc(sizeof(char *) * Max(n, 1));
	for (i = 0; i < n; i++)
	{
		if (ex[i].type != jbvString)
			bad_option("exclude", "a column name or an array of them");
		spec->exclude[i] = pnstrdup(ex[i].val.string.val, ex[i].val.string.len);
	}
	spec->positive = jb_string(options, "positive", NULL);
	spec->max_categories = p->max_categories;
}

/*
 * Deterministic pseudo-random numbers (splitmix64), independent of the
 * server's random() so a seed gives the same split everywhere.
 */
static uint64
splitmix64(uint64 *state)
{
	uint64		z = (*state += UINT64CONST(0x9E3779B97F4A7C15));

	z = (z ^ (z >> 30)) * UINT64CONST(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64CONST(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

/*
 * shuffle
 *		Fisher-Yates shuffle of n row numbers.
 */
static void
shuffle(int64 *a, int64 n, uint64 *state)
{
	int64		i;

	for (i = n - 1; i > 0; i--)
	{
		int64		j = (int64) (splitmix64(state) % (uint64) (i + 1));
		int64		t = a[i];

		a[i] = a[j];
		a[j] = t;
	}
}

/*
 * compare_int64
 *		qsort comparator for row numbers.
 */
static int
compare_int64(const void *a, const void *b)
{
	int64		x = *(const int64 *) a;
	int64		y = *(const int64 *) b;

	return x < y ? -1 : x > y ? 1 : 0;
}

/*
 * split_rows
 *		Stratified split: a fraction of the churners and of the others goes
 *		to validation; both parts are returned in row order.
 */
static void
split_rows(ChurnData *d, double frac, int seed, int64 **train, int64 *ntrain,
		   int64 **valid, int64 *nvalid)
{
	int64	   *cls[2];
	int64		ncls[2] = {0, 0};
	uint64		state = (uint64) seed * UINT64CONST(0x2545F4914F6CDD1D) + 1;
	int64		r;
	int			c;

	cls[0] = palloc_extended(sizeof(int64) * d->nrows, MCXT_ALLOC_HUGE);
	cls[1] = palloc_extended(sizeof(int64) * d->nrows, MCXT_ALLOC_HUGE);
	*train = palloc_extended(sizeof(int64) * d->nrows, MCXT_ALLOC_HUGE);
	*valid = palloc_extended(sizeof(int64) * d->nrows, MCXT_ALLOC_HUGE);
	*ntrain = *nvalid = 0;
	for (r = 0; r < d->nrows; r++)
	{
		c = d->label[r];
		cls[c][ncls[c]++] = r;
	}
	for (c = 0; c < 2; c++)
	{
		int64		nv = (int64) floor(ncls[c] * frac + 0.5);
		int64		i;

		nv = Max(nv, 1);
		shuffle(cls[c], ncls[c], &state);
		for (i = 0; i < ncls[c]; i++)
		{
			if (i < nv)
				(*valid)[(*nvalid)++] = cls[c][i];
			else
				(*train)[(*ntrain)++] = cls[c][i];
		}
	}
	qsort(*train, *ntrain, sizeof(int64), compare_int64);
	qsort(*valid, *nvalid, sizeof(int64), compare_int64);
	pfree(cls[0]);
	pfree(cls[1]);
}

/*
 * predict_rows
 *		Probabilities and labels of the given rows, for metrics.
 */
static void
predict_rows(const ChurnModel *m, const ChurnData *d, const int64 *rows, int64 n,
			 double *prob, uint8 *label)
{
	int64		i;

	for (i = 0; i < n; i++)
	{
		prob[i] = churn_sigmoid(churn_model_logit(m, d, rows[i], NULL));
		label[i] = d->label[rows[i]];
	}
}

/*
 * churn_train_run
 *		Fit, select and refit a model on loaded data; returns the model with
 *		its stored form, summary and metrics.
 */
ChurnTrainResult *
churn_train_run(ChurnData *d, const ChurnParams *p, ChurnProgress *progress)
{
	ChurnTrainResult *res = palloc0(sizeof(ChurnTrainResult));
	int64	   *train,
			   *valid,
			   *all;
	int64		ntrain,
				nvalid,
				i;
	double	   *prob;
	uint8	   *lab;
	bool		try_lr = strcmp(p->algorithm, "gbt") != 0;
	bool		try_gbt = strcmp(p->algorithm, "logreg") != 0;
	ChurnModel *best_model = NULL;
	double		best_auc = -1;
	double		best_se = 0;
	double		best_c = 0;
	int64		npos = 0;
	int			best_trees = 0;
	bool		best_is_gbt = false;
	StringInfoData sel;
	StringInfoData metrics;
	StringInfoData valid_json;
	instr_time	start,
				end;
	int			k;

	INSTR_TIME_SET_CURRENT(start);
	split_rows(d, p->validation_fraction, p->seed, &train, &ntrain, &valid, &nvalid);
	prob = palloc_extended(sizeof(double) * Max(d->nrows, 1), MCXT_ALLOC_HUGE);
	lab = palloc_extended(Max(d->nrows, 1), MCXT_ALLOC_HUGE);
	initStringInfo(&sel);
	initStringInfo(&valid_json);

	for (i = 0; i < nvalid; i++)
		npos += d->label[valid[i]];
	if (try_lr)
	{
		for (k = 0; k < p->n_lr_c; k++)
		{
			ChurnModel *m;
			double		auc;

			churn_progress(progress, "training logistic regression", ntrain, 0);
			m = churn_logreg_fit(d, train, ntrain, p->lr_c[k], p->lr_max_iter, progress);
			predict_rows(m, d, valid, nvalid, prob, lab);
			auc = churn_auc(prob, lab, nvalid);
			appendStringInfo(&sel, "%s{\"algorithm\": \"logreg\", \"C\": ", sel.len ? ", " : "");
			churn_json_number(&sel, p->lr_c[k]);
			appendStringInfoString(&sel, ", \"validation_auc\": ");
			churn_json_number(&sel, auc);
			appendStringInfoString(&sel, ", \"validation_log_loss\": ");
			churn_json_number(&sel, churn_log_loss(prob, lab, nvalid));
			appendStringInfoChar(&sel, '}');
			if (auc > best_auc)
			{
				best_auc = auc;
				best_se = churn_auc_se(auc, npos, nvalid - npos);
				best_model = m;
				best_c = p->lr_c[k];
				best_is_gbt = false;
				resetStringInfo(&valid_json);
				churn_metrics_json(&valid_json, prob, lab, nvalid, 0.5);
			}
		}
	}
	if (try_gbt)
	{
		ChurnModel *m;
		double		auc;
		int			trees;

		churn_progress(progress, "training gradient-boosted trees", ntrain, 0);
		m = churn_gbt_fit(d, train, ntrain, valid, nvalid, p, p->gbt_max_iter, &trees, progress);
		predict_rows(m, d, valid, nvalid, prob, lab);
		auc = churn_auc(prob, lab, nvalid);
		appendStringInfo(&sel, "%s{\"algorithm\": \"gbt\", \"trees\": %d, \"learning_rate\": ",
						 sel.len ? ", " : "", trees);
		churn_json_number(&sel, p->gbt_learning_rate);
		appendStringInfo(&sel, ", \"max_leaves\": %d, \"validation_auc\": ", p->gbt_max_leaves);
		churn_json_number(&sel, auc);
		appendStringInfoString(&sel, ", \"validation_log_loss\": ");
		churn_json_number(&sel, churn_log_loss(prob, lab, nvalid));
		if (best_model != NULL)
		{
			appendStringInfoString(&sel, ", \"needed_auc\": ");
			churn_json_number(&sel, best_auc + Max(p->gbt_min_gain_se * best_se, p->gbt_min_gain));
		}
		appendStringInfoChar(&sel, '}');
		if (best_model == NULL || auc > best_auc + Max(p->gbt_min_gain_se * best_se, p->gbt_min_gain))
		{
			best_auc = auc;
			best_model = m;
			best_trees = trees;
			best_is_gbt = true;
			resetStringInfo(&valid_json);
			churn_metrics_json(&valid_json, prob, lab, nvalid, 0.5);
		}
	}

	/* Refit the winner on every row. */
	if (p->refit)
	{
		all = palloc_extended(sizeof(int64) * d->nrows, MCXT_ALLOC_HUGE);
		for (i = 0; i < d->nrows; i++)
			all[i] = i;
		churn_progress(progress, "refitting on all rows", d->nrows, 0);
		if (best_is_gbt)
		{
			int			trees;

			best_model = churn_gbt_fit(d, all, d->nrows, NULL, 0, p, best_trees, &trees, progress);
		}
		else
			best_model = churn_logreg_fit(d, all, d->nrows, best_c, p->lr_max_iter, progress);
	}
	else
	{
		all = palloc_extended(sizeof(int64) * d->nrows, MCXT_ALLOC_HUGE);
		for (i = 0; i < d->nrows; i++)
			all[i] = i;
	}
	INSTR_TIME_SET_CURRENT(end);
	INSTR_TIME_SUBTRACT(end, start);

	churn_progress(progress, "computing metrics", d->nrows, 0);
	predict_rows(best_model, d, all, d->nrows, prob, lab);
	initStringInfo(&metrics);
	appendStringInfo(&metrics, "{\"algorithm\": \"%s\", ", best_is_gbt ? "gbt" : "logreg");
	if (best_is_gbt)
		appendStringInfo(&metrics, "\"trees\": %d, ", best_trees);
	else
	{
		appendStringInfoString(&metrics, "\"C\": ");
		churn_json_number(&metrics, best_c);
		appendStringInfoString(&metrics, ", ");
	}
	appendStringInfo(&metrics, "\"refit\": %s, \"rows\": " INT64_FORMAT ", \"validation_rows\": " INT64_FORMAT
					 ", \"training_ms\": ",
					 p->refit ? "true" : "false", d->nrows, nvalid);
	churn_json_number(&metrics, INSTR_TIME_GET_MILLISEC(end));
	appendStringInfo(&metrics, ", \"validation\": %s, \"train\": ", valid_json.data);
	churn_metrics_json(&metrics, prob, lab, d->nrows, 0.5);
	appendStringInfo(&metrics, ", \"selection\": [%s]}", sel.data);

	res->model = best_model;
	res->model_bytes = churn_model_serialize(best_model);
	{
		StringInfoData spec;

		initStringInfo(&spec);
		churn_model_spec_json(&spec, best_model);
		res->feature_spec = spec.data;
	}
	res->metrics = metrics.data;
	res->rows = d->nrows;
	res->training_ms = INSTR_TIME_GET_MILLISEC(end);
	return res;
}

/*
 * churn_store_model
 *		Write a trained model into stratum.churn_models (through
 *		stratum_internal.churn_model_store) and return its id.  With a
 *		model_id of a row in status 'training' (a worker run), that row is
 *		completed instead.
 */
int64
churn_store_model(const char *tenant, const char *source, const char *label, Jsonb *options,
				  ChurnTrainResult *r, int64 model_id, Datum trained_from, bool from_null,
				  Datum trained_to, bool to_null)
{
	Oid			types[12] = {TEXTOID, TEXTOID, TEXTOID, JSONBOID, BYTEAOID, JSONBOID, JSONBOID,
	INT8OID, FLOAT8OID, INT8OID, TIMESTAMPTZOID, TIMESTAMPTZOID};
	Datum		args[12];
	char		nulls[12];
	int			ret;
	bool		isnull;
	int64		id;

	memset(nulls, ' ', sizeof(nulls));
	args[0] = CStringGetTextDatum(tenant);
	args[1] = CStringGetTextDatum(source);
	args[2] = CStringGetTextDatum(label);
	args[3] = options ? JsonbPGetDatum(options) : (Datum) 0;
	if (!options)
		nulls[3] = 'n';
	args[4] = PointerGetDatum(r->model_bytes);
	args[5] = DirectFunctionCall1(jsonb_in, CStringGetDatum(r->feature_spec));
	args[6] = DirectFunctionCall1(jsonb_in, CStringGetDatum(r->metrics));
	args[7] = Int64GetDatum(r->rows);
	args[8] = Float8GetDatum(r->training_ms);
	args[9] = Int64GetDatum(model_id);
	if (model_id <= 0)
		nulls[9] = 'n';
	args[10] = trained_from;
	if (from_null)
		nulls[10] = 'n';
	args[11] = trained_to;
	if (to_null)
		nulls[11] = 'n';

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	ret = SPI_execute_with_args("SELECT stratum_internal.churn_model_store($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
								12, types, args, nulls, false, 1);
	if (ret != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "could not store the churn model: %s", SPI_result_code_string(ret));
	id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	SPI_finish();
	return id;
}

/*
 * stratum_churn_train_internal
 *		SQL: stratum_internal.churn_train(tenant, source, query, label,
 *		options, trained_from, trained_to) -> model_id.  Loads, trains and
 *		stores in the caller's transaction.
 */
Datum
stratum_churn_train_internal(PG_FUNCTION_ARGS)
{
	char	   *tenant = text_to_cstring(PG_GETARG_TEXT_PP(0));
	char	   *source = text_to_cstring(PG_GETARG_TEXT_PP(1));
	char	   *query = text_to_cstring(PG_GETARG_TEXT_PP(2));
	char	   *label = text_to_cstring(PG_GETARG_TEXT_PP(3));
	Jsonb	   *options = PG_ARGISNULL(4) ? NULL : PG_GETARG_JSONB_P(4);
	ChurnParams params;
	ChurnLoadSpec spec;
	ChurnData  *d;
	ChurnTrainResult *r;
	int64		id;

	memset(&params, 0, sizeof(params));
	memset(&spec, 0, sizeof(spec));
	churn_params_from_jsonb(&params, options);
	churn_load_spec_from_jsonb(&spec, options, &params);
	spec.query = query;
	spec.label = label;

	d = churn_data_load(&spec, CurrentMemoryContext);
	churn_data_check(d, params.drop_constant);
	r = churn_train_run(d, &params, NULL);
	id = churn_store_model(tenant, source, label, options, r, 0,
						   PG_GETARG_DATUM(5), PG_ARGISNULL(5),
						   PG_GETARG_DATUM(6), PG_ARGISNULL(6));
	MemoryContextDelete(d->cxt);
	PG_RETURN_INT64(id);
}

/*
 * churn_prepare_load
 *		Options to training parameters and load spec (used by the worker).
 */
void
churn_prepare_load(ChurnLoadSpec *spec, ChurnParams *p, Jsonb *options)
{
	churn_params_from_jsonb(p, options);
	churn_load_spec_from_jsonb(spec, options, p);
}
