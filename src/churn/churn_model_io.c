/*-------------------------------------------------------------------------
 *
 * churn_model_io.c
 *		A model's stored form (bytea in stratum.churn_models.model), its
 *		readable summary (jsonb in feature_spec), and loading a model from
 *		the registry.
 *
 * The bytea is a flat little record stream in the server's byte order,
 * starting with the magic "STCM" and a format version; the reader checks
 * every length against the end of the buffer.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"

#include "churn/churn.h"

#define MODEL_MAGIC		"STCM"
#define MODEL_VERSION	1

/* Writers. */
static void
put_int32(StringInfo b, int32 v)
{
	appendBinaryStringInfo(b, (char *) &v, sizeof(v));
}

static void
put_double(StringInfo b, double v)
{
	appendBinaryStringInfo(b, (char *) &v, sizeof(v));
}

static void
put_string(StringInfo b, const char *s)
{
	int32		len = strlen(s);

	put_int32(b, len);
	appendBinaryStringInfo(b, s, len);
}

/*
 * churn_model_serialize
 *		The model as bytea.
 */
bytea *
churn_model_serialize(const ChurnModel *m)
{
	StringInfoData b;
	bytea	   *out;
	int			f,
				t,
				l;

	initStringInfo(&b);
	appendBinaryStringInfo(&b, MODEL_MAGIC, 4);
	put_int32(&b, MODEL_VERSION);
	put_int32(&b, m->algorithm);
	put_int32(&b, m->nfeatures);
	put_double(&b, m->intercept);
	put_int32(&b, m->ntrees);
	for (f = 0; f < m->nfeatures; f++)
	{
		const ChurnFeature *ft = &m->features[f];

		put_string(&b, ft->name);
		put_int32(&b, ft->kind);
		put_double(&b, ft->median);
		put_double(&b, ft->mean);
		put_double(&b, ft->std);
		put_double(&b, ft->coef);
		put_int32(&b, ft->has_indicator);
		put_double(&b, ft->ind_mean);
		put_double(&b, ft->ind_std);
		put_double(&b, ft->ind_coef);
		put_double(&b, ft->importance);
		put_int32(&b, ft->nlevels);
		for (l = 0; l < ft->nlevels; l++)
		{
			put_string(&b, ft->levels[l]);
			put_double(&b, ft->level_mean ? ft->level_mean[l] : 0);
			put_double(&b, ft->level_std ? ft->level_std[l] : 1);
			put_double(&b, ft->level_coef ? ft->level_coef[l] : 0);
		}
		put_int32(&b, ft->nedges);
		for (l = 0; l < ft->nedges; l++)
			put_double(&b, ft->edges[l]);
	}
	for (t = 0; t < m->ntrees; t++)
	{
		const ChurnTree *tr = &m->trees[t];
		int			n;

		put_int32(&b, tr->nnodes);
		for (n = 0; n < tr->nnodes; n++)
		{
			int			w;

			put_int32(&b, tr->feature[n]);
			put_int32(&b, tr->bin[n]);
			put_int32(&b, tr->missing_left[n]);
			put_int32(&b, tr->left[n]);
			put_int32(&b, tr->right[n]);
			put_double(&b, tr->value[n]);
			for (w = 0; w < 4; w++)
				appendBinaryStringInfo(&b, (char *) &tr->catset[n * 4 + w], sizeof(uint64));
		}
	}
	out = palloc(VARHDRSZ + b.len);
	SET_VARSIZE(out, VARHDRSZ + b.len);
	memcpy(VARDATA(out), b.data, b.len);
	pfree(b.data);
	return out;
}

/* Reader with bounds checks. */
typedef struct Reader
{
	const char *p;
	const char *end;
} Reader;

static void
need(Reader *r, size_t n)
{
	if ((size_t) (r->end - r->p) < n)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("stored churn model is truncated or corrupt")));
}

static int32
get_int32(Reader *r)
{
	int32		v;

	need(r, sizeof(v));
	memcpy(&v, r->p, sizeof(v));
	r->p += sizeof(v);
	return v;
}

static double
get_double(Reader *r)
{
	double		v;

	need(r, sizeof(v));
	memcpy(&v, r->p, sizeof(v));
	r->p += sizeof(v);
	return v;
}

static uint64
get_uint64(Reader *r)
{
	uint64		v;

	need(r, sizeof(v));
	memcpy(&v, r->p, sizeof(v));
	r->p += sizeof(v);
	return v;
}

static int32
get_count(Reader *r, int32 max)
{
	int32		v = get_int32(r);

	if (v < 0 || v > max)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("stored churn model is corrupt (count %d out of range)", v)));
	return v;
}

static char *
get_string(Reader *r)
{
	int32		len = get_count(r, 1 << 20);
	char	   *s;

	need(r, len);
	s = palloc(len + 1);
	memcpy(s, r->p, len);
	s[len] = '\0';
	r->p += len;
	return s;
}

/*
 * churn_model_deserialize
 *		The model stored in a bytea, in the current memory context.
 */
ChurnModel *
churn_model_deserialize(bytea *bytes)
{
	Reader		r;
	ChurnModel *m = palloc0(sizeof(ChurnModel));
	int			f,
				t,
				l;

	r.p = VARDATA_ANY(bytes);
	r.end = r.p + VARSIZE_ANY_EXHDR(bytes);
	need(&r, 4);
	if (memcmp(r.p, MODEL_MAGIC, 4) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("stored churn model has a wrong header")));
	r.p += 4;
	if (get_int32(&r) != MODEL_VERSION)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("stored churn model has an unknown format version"),
				 errhint("Retrain the model with this version of stratum.")));
	m->algorithm = get_int32(&r);
	if (m->algorithm != CHURN_LOGREG && m->algorithm != CHURN_GBT)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("stored churn model has an unknown algorithm")));
	m->nfeatures = get_count(&r, 100000);
	m->intercept = get_double(&r);
	m->ntrees = get_count(&r, 1000000);
	m->features = palloc0(sizeof(ChurnFeature) * Max(m->nfeatures, 1));
	for (f = 0; f < m->nfeatures; f++)
	{
		ChurnFeature *ft = &m->features[f];

		ft->name = get_string(&r);
		ft->kind = get_int32(&r) == CHURN_CATEGORICAL ? CHURN_CATEGORICAL : CHURN_NUMERIC;
		ft->median = get_double(&r);
		ft->mean = get_double(&r);
		ft->std = get_double(&r);
		ft->coef = get_double(&r);
		ft->has_indicator = get_int32(&r) != 0;
		ft->ind_mean = get_double(&r);
		ft->ind_std = get_double(&r);
		ft->ind_coef = get_double(&r);
		ft->importance = get_double(&r);
		ft->nlevels = get_count(&r, 1000000);
		ft->levels = palloc(sizeof(char *) * Max(ft->nlevels, 1));
		ft->level_mean = palloc(sizeof(double) * Max(ft->nlevels, 1));
		ft->level_std = palloc(sizeof(double) * Max(ft->nlevels, 1));
		ft->level_coef = palloc(sizeof(double) * Max(ft->nlevels, 1));
		for (l = 0; l < ft->nlevels; l++)
		{
			ft->levels[l] = get_string(&r);
			ft->level_mean[l] = get_double(&r);
			ft->level_std[l] = get_double(&r);
			ft->level_coef[l] = get_double(&r);
		}
		ft->nedges = get_count(&r, CHURN_MAX_BINS);
		ft->edges = palloc(sizeof(double) * Max(ft->nedges, 1));
		for (l = 0; l < ft->nedges; l++)
			ft->edges[l] = get_double(&r);
	}
	m->trees = palloc0(sizeof(ChurnTree) * Max(m->ntrees, 1));
	for (t = 0; t < m->ntrees; t++)
	{
		ChurnTree  *tr = &m->trees[t];
		int			n;

		tr->nnodes = get_count(&r, 1 << 20);
		tr->feature = palloc(sizeof(int32) * Max(tr->nnodes, 1));
		tr->bin = palloc(sizeof(int32) * Max(tr->nnodes, 1));
		tr->missing_left = palloc(sizeof(uint8) * Max(tr->nnodes, 1));
		tr->left = palloc(sizeof(int32) * Max(tr->nnodes, 1));
		tr->right = palloc(sizeof(int32) * Max(tr->nnodes, 1));
		tr->value = palloc(sizeof(double) * Max(tr->nnodes, 1));
		tr->catset = palloc(sizeof(uint64) * 4 * Max(tr->nnodes, 1));
		for (n = 0; n < tr->nnodes; n++)
		{
			int			w;

			tr->feature[n] = get_int32(&r);
			tr->bin[n] = get_int32(&r);
			tr->missing_left[n] = get_int32(&r) != 0;
			tr->left[n] = get_int32(&r);
			tr->right[n] = get_int32(&r);
			tr->value[n] = get_double(&r);
			for (w = 0; w < 4; w++)
				tr->catset[n * 4 + w] = get_uint64(&r);
			if (tr->feature[n] >= m->nfeatures ||
				(tr->feature[n] >= 0 &&
				 (tr->left[n] <= n || tr->left[n] >= tr->nnodes ||
				  tr->right[n] <= n || tr->right[n] >= tr->nnodes)))
				ereport(ERROR,
						(errcode(ERRCODE_DATA_CORRUPTED),
						 errmsg("stored churn model has a malformed tree")));
		}
	}
	return m;
}

/*
 * churn_model_spec_json
 *		A readable summary of the model: encoding and coefficients for the
 *		linear model, feature importances (share of total split gain) for
 *		trees.
 */
void
churn_model_spec_json(StringInfo buf, const ChurnModel *m)
{
	int			f,
				l;
	double		total_gain = 0;

	for (f = 0; f < m->nfeatures; f++)
		total_gain += m->features[f].importance;
	appendStringInfo(buf, "{\"algorithm\": \"%s\", \"%s\": ",
					 m->algorithm == CHURN_LOGREG ? "logreg" : "gbt",
					 m->algorithm == CHURN_LOGREG ? "intercept" : "base_score");
	churn_json_number(buf, m->intercept);
	if (m->algorithm == CHURN_GBT)
		appendStringInfo(buf, ", \"trees\": %d", m->ntrees);
	appendStringInfoString(buf, ", \"features\": [");
	for (f = 0; f < m->nfeatures; f++)
	{
		const ChurnFeature *ft = &m->features[f];

		if (f > 0)
			appendStringInfoString(buf, ", ");
		appendStringInfoString(buf, "{\"name\": ");
		churn_json_string(buf, ft->name);
		appendStringInfo(buf, ", \"kind\": \"%s\"",
						 ft->kind == CHURN_NUMERIC ? "numeric" : "categorical");
		if (m->algorithm == CHURN_LOGREG)
		{
			if (ft->kind == CHURN_NUMERIC)
			{
				appendStringInfoString(buf, ", \"median\": ");
				churn_json_number(buf, ft->median);
				appendStringInfoString(buf, ", \"mean\": ");
				churn_json_number(buf, ft->mean);
				appendStringInfoString(buf, ", \"std\": ");
				churn_json_number(buf, ft->std);
				appendStringInfoString(buf, ", \"coefficient\": ");
				churn_json_number(buf, ft->coef);
				if (ft->has_indicator)
				{
					appendStringInfoString(buf, ", \"missing_coefficient\": ");
					churn_json_number(buf, ft->ind_coef);
				}
			}
			else
			{
				appendStringInfoString(buf, ", \"levels\": [");
				for (l = 0; l < ft->nlevels; l++)
				{
					appendStringInfoString(buf, l ? ", {\"value\": " : "{\"value\": ");
					churn_json_string(buf, ft->levels[l]);
					appendStringInfoString(buf, ", \"share\": ");
					churn_json_number(buf, ft->level_mean[l]);
					appendStringInfoString(buf, ", \"coefficient\": ");
					churn_json_number(buf, ft->level_coef[l]);
					appendStringInfoChar(buf, '}');
				}
				appendStringInfoChar(buf, ']');
			}
		}
		else
		{
			appendStringInfoString(buf, ", \"importance\": ");
			churn_json_number(buf, total_gain > 0 ? ft->importance / total_gain : 0);
			if (ft->kind == CHURN_NUMERIC)
				appendStringInfo(buf, ", \"bins\": %d", ft->nedges + 1);
			else
				appendStringInfo(buf, ", \"levels\": %d", ft->nlevels);
		}
		appendStringInfoChar(buf, '}');
	}
	appendStringInfoString(buf, "]}");
}

/*
 * churn_model_fetch
 *		Load a model of the current tenant from the registry, in the caller's
 *		memory context.
 */
ChurnModel *
churn_model_fetch(int64 model_id)
{
	MemoryContext outer = CurrentMemoryContext;
	Oid			argtypes[1] = {INT8OID};
	Datum		args[1];
	bool		isnull;
	Datum		v;
	ChurnModel *m;
	int			ret;

	args[0] = Int64GetDatum(model_id);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	ret = SPI_execute_with_args("SELECT model FROM stratum.churn_models WHERE model_id = $1",
								1, argtypes, args, NULL, true, 1);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "could not read churn model: %s", SPI_result_code_string(ret));
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("churn model " INT64_FORMAT " does not exist", model_id),
				 errhint("Models are visible to their tenant only; check the setting stratum.tenant.")));
	v = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	if (isnull)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("churn model " INT64_FORMAT " has not finished training", model_id)));
	{
		MemoryContext spi = MemoryContextSwitchTo(outer);

		m = churn_model_deserialize(DatumGetByteaPP(v));
		MemoryContextSwitchTo(spi);
	}
	SPI_finish();
	return m;
}
