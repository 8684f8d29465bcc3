/*-------------------------------------------------------------------------
 *
 * churn_row.c
 *		Scoring inside a query, one row per call:
 *
 *		stratum_churn_probability(model_id, VARIADIC features "any") float8
 *		stratum_internal.churn_row_logit(model_id, VARIADIC "any") float8
 *		stratum_churn_factors(model_id, top, VARIADIC features "any") jsonb
 *
 * The features are passed as arguments in the model's feature order
 * (stratum_churn_model_features lists it), so the executor hands over the
 * values it has already deformed: no tuple is formed, copied or stored, and
 * the scan streams.  Everything that depends only on the model and the
 * argument types (the model itself, conversions, a hash index of each
 * categorical feature's levels) is built on the first call and kept in
 * fn_extra for the rest of the query.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "churn/churn.h"

PG_FUNCTION_INFO_V1(stratum_churn_probability);
PG_FUNCTION_INFO_V1(stratum_churn_row_logit);
PG_FUNCTION_INFO_V1(stratum_churn_factors);

/* Up to this many levels, a category is looked up by a linear scan. */
#define LEVEL_SCAN_MAX	8

/* Open-addressing index of a categorical feature's levels. */
typedef struct LevelIndex
{
	uint32		mask;			/* slots - 1; slots is a power of two */
	int32	   *slot;			/* level code, -1 when empty */
	int		   *len;			/* byte length of each level */
} LevelIndex;

/* What the first call works out, kept for the rest of the query. */
typedef struct RowScorer
{
	MemoryContext cxt;			/* holds everything below */
	int64		model_id;
	ChurnModel *model;
	ChurnData	row;			/* one row holding the current arguments */
	int			first;			/* argument number of the first feature */
	Oid		   *argtype;		/* per feature */
	LevelIndex *index;			/* per feature; categorical only */
	double	   *contrib;
	ChurnLinear *linear;		/* logistic regression: the folded form */
} RowScorer;

/*
 * level_index_build
 *		Hash every level of a feature into a table at most half full.
 */
static void
level_index_build(LevelIndex *ix, const ChurnFeature *ft)
{
	uint32		slots = 8;
	int			l;

	while (slots < (uint32) ft->nlevels * 2)
		slots *= 2;
	ix->mask = slots - 1;
	ix->slot = palloc(sizeof(int32) * slots);
	memset(ix->slot, 0xff, sizeof(int32) * slots);
	ix->len = palloc(sizeof(int) * Max(ft->nlevels, 1));
	for (l = 0; l < ft->nlevels; l++)
	{
		uint32		h;

		ix->len[l] = strlen(ft->levels[l]);
		h = hash_bytes((const unsigned char *) ft->levels[l], ix->len[l]) & ix->mask;
		while (ix->slot[h] >= 0)
			h = (h + 1) & ix->mask;
		ix->slot[h] = l;
	}
}

/*
 * level_index_find
 *		The code of a category value; -1 (missing) for a value the model
 *		never saw, as when scoring through the loader.
 */
static inline int32
level_index_find(const LevelIndex *ix, const ChurnFeature *ft, const char *s, int len)
{
	uint32		h;

	/* A few levels are found faster by comparing than by hashing. */
	if (ft->nlevels <= LEVEL_SCAN_MAX)
	{
		int			l;

		for (l = 0; l < ft->nlevels; l++)
			if (ix->len[l] == len && memcmp(ft->levels[l], s, len) == 0)
				return l;
		return -1;
	}
	h = hash_bytes((const unsigned char *) s, len) & ix->mask;
	for (;;)
	{
		int32		code = ix->slot[h];

		if (code < 0)
			return -1;
		if (ix->len[code] == len && memcmp(ft->levels[code], s, len) == 0)
			return code;
		h = (h + 1) & ix->mask;
	}
}

/*
 * feature_type_error
 *		The argument for a feature has a type the model cannot read.
 */
static void
feature_type_error(const ChurnFeature *ft, int position, Oid type)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATATYPE_MISMATCH),
			 errmsg("feature %d (\"%s\") of the churn model is %s, but the argument has type %s",
					position, ft->name, ft->kind == CHURN_NUMERIC ? "numeric" : "a category",
					format_type_be(type)),
			 ft->kind == CHURN_NUMERIC
			 ? errhint("Pass a number or boolean, or cast the value to double precision.")
			 : errhint("Pass text, or cast the value to text.")));
}

/*
 * row_scorer_get
 *		The scorer of this call site for model_id, built on first use (or
 *		when the model id changes from row to row).
 */
static RowScorer *
row_scorer_get(FunctionCallInfo fcinfo, int first)
{
	RowScorer  *rs = (RowScorer *) fcinfo->flinfo->fn_extra;
	int64		model_id;
	MemoryContext old;
	ChurnModel *m;
	int			nfeat,
				f;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the churn model id must not be null")));
	model_id = PG_GETARG_INT64(0);
	if (rs != NULL && rs->model_id == model_id)
		return rs;

	if (get_fn_expr_variadic(fcinfo->flinfo))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("the features must be passed as separate arguments, not as a VARIADIC array"),
				 errhint("Call it as stratum_churn_probability(model_id, feature1, feature2, ...).")));

	/*
	 * A call site that scores with several models in turn (a join over
	 * models) rebuilds each time; the previous scorer is freed so memory
	 * stays bounded.
	 */
	if (rs != NULL)
	{
		fcinfo->flinfo->fn_extra = NULL;
		MemoryContextDelete(rs->cxt);
	}
	{
		MemoryContext cxt = AllocSetContextCreate(fcinfo->flinfo->fn_mcxt,
												  "stratum churn row scorer",
												  ALLOCSET_SMALL_SIZES);

		old = MemoryContextSwitchTo(cxt);
		rs = palloc0(sizeof(RowScorer));
		rs->cxt = cxt;
	}
	rs->model_id = model_id;
	rs->model = m = churn_model_fetch(model_id);
	rs->first = first;
	nfeat = m->nfeatures;
	if (PG_NARGS() - first != nfeat)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("churn model " INT64_FORMAT " has %d features, but %d values were given",
						model_id, nfeat, PG_NARGS() - first),
				 errhint("Pass the features in the order of stratum_churn_model_features(" INT64_FORMAT ").",
						 model_id)));

	rs->argtype = palloc(sizeof(Oid) * Max(nfeat, 1));
	rs->index = palloc0(sizeof(LevelIndex) * Max(nfeat, 1));
	rs->contrib = palloc(sizeof(double) * Max(nfeat, 1));
	rs->row.ncols = nfeat;
	rs->row.nrows = 1;
	rs->row.capacity = 1;
	rs->row.cols = palloc0(sizeof(ChurnColumn) * Max(nfeat, 1));
	for (f = 0; f < nfeat; f++)
	{
		const ChurnFeature *ft = &m->features[f];
		ChurnColumn *c = &rs->row.cols[f];
		Oid			t = get_fn_expr_argtype(fcinfo->flinfo, first + f);

		if (!OidIsValid(t))
			elog(ERROR, "could not determine the type of argument %d", first + f + 1);
		rs->argtype[f] = t;
		c->name = ft->name;
		c->kind = ft->kind;
		if (ft->kind == CHURN_NUMERIC)
		{
			if (!churn_is_numeric_type(t))
				feature_type_error(ft, f + 1, t);
			c->num = palloc(sizeof(double));
		}
		else
		{
			if (!churn_is_text_type(t) && t != UNKNOWNOID)
				feature_type_error(ft, f + 1, t);
			c->cat = palloc(sizeof(int32));
			c->nlevels = ft->nlevels;
			c->levels = ft->levels;
			c->fixed_levels = true;
			level_index_build(&rs->index[f], ft);
		}
	}
	if (m->algorithm == CHURN_LOGREG)
		rs->linear = churn_logreg_compile(m);
	MemoryContextSwitchTo(old);
	fcinfo->flinfo->fn_extra = rs;
	return rs;
}

/*
 * row_category
 *		The level code of a category argument (-1: missing or unseen).
 */
static inline int32
row_category(const RowScorer *rs, int f, Datum v)
{
	const char *s;
	int			len;

	switch (rs->argtype[f])
	{
		case NAMEOID:
			s = NameStr(*DatumGetName(v));
			len = strlen(s);
			break;
		case UNKNOWNOID:
			s = DatumGetCString(v);
			len = strlen(s);
			break;
		default:
			{
				struct varlena *txt = (struct varlena *) DatumGetPointer(v);

				/* Detoast only when needed: the call costs on every row. */
				if (VARATT_IS_EXTENDED(txt) && !VARATT_IS_SHORT(txt))
					txt = pg_detoast_datum_packed(txt);
				s = VARDATA_ANY(txt);
				len = VARSIZE_ANY_EXHDR(txt);
			}
	}
	return level_index_find(&rs->index[f], &rs->model->features[f], s, len);
}

/*
 * row_fill
 *		Put this call's arguments into the one-row data.
 */
static void
row_fill(RowScorer *rs, FunctionCallInfo fcinfo)
{
	int			f;

	for (f = 0; f < rs->model->nfeatures; f++)
	{
		ChurnColumn *c = &rs->row.cols[f];
		int			a = rs->first + f;

		if (c->kind == CHURN_NUMERIC)
			c->num[0] = PG_ARGISNULL(a) ? NAN : churn_datum_to_double(PG_GETARG_DATUM(a), rs->argtype[f]);
		else
			c->cat[0] = PG_ARGISNULL(a) ? -1 : row_category(rs, f, PG_GETARG_DATUM(a));
	}
}

/*
 * row_logit
 *		This call's logit.  A linear model is scored straight from the
 *		arguments through its folded form.
 */
static double
row_logit(RowScorer *rs, FunctionCallInfo fcinfo)
{
	const ChurnLinear *lin = rs->linear;
	double		z;
	int			f;

	if (lin == NULL)
	{
		row_fill(rs, fcinfo);
		return churn_model_logit(rs->model, &rs->row, 0, NULL);
	}
	z = lin->base;
	for (f = 0; f < lin->nfeatures; f++)
	{
		int			a = rs->first + f;

		if (lin->table[f] == NULL)
		{
			double		x;

			if (PG_ARGISNULL(a))
				x = NAN;
			else if (rs->argtype[f] == FLOAT8OID)
				x = DatumGetFloat8(PG_GETARG_DATUM(a));
			else
				x = churn_datum_to_double(PG_GETARG_DATUM(a), rs->argtype[f]);
			z += isnan(x) ? lin->missing[f] : lin->scale[f] * x;
		}
		else
			z += lin->table[f][(PG_ARGISNULL(a) ? -1 : row_category(rs, f, PG_GETARG_DATUM(a))) + 1];
	}
	return z;
}

/*
 * stratum_churn_probability
 *		SQL: stratum_churn_probability(model_id bigint, VARIADIC "any")
 *		returns float8, the churn probability of one row.
 */
Datum
stratum_churn_probability(PG_FUNCTION_ARGS)
{
	RowScorer  *rs = row_scorer_get(fcinfo, 1);

	PG_RETURN_FLOAT8(churn_sigmoid(row_logit(rs, fcinfo)));
}

/*
 * stratum_churn_row_logit
 *		SQL: stratum_internal.churn_row_logit(model_id bigint, VARIADIC
 *		"any") returns float8, the logit (log-odds) of one row.
 */
Datum
stratum_churn_row_logit(PG_FUNCTION_ARGS)
{
	RowScorer  *rs = row_scorer_get(fcinfo, 1);

	PG_RETURN_FLOAT8(row_logit(rs, fcinfo));
}

/*
 * stratum_churn_factors
 *		SQL: stratum_churn_factors(model_id bigint, top integer, VARIADIC
 *		"any") returns jsonb, the top features of one row by the size of
 *		their contribution to the logit.
 */
Datum
stratum_churn_factors(PG_FUNCTION_ARGS)
{
	RowScorer  *rs = row_scorer_get(fcinfo, 2);
	int			top = PG_ARGISNULL(1) ? 3 : PG_GETARG_INT32(1);

	if (top < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("top must not be negative")));
	row_fill(rs, fcinfo);
	(void) churn_model_logit(rs->model, &rs->row, 0, rs->contrib);
	PG_RETURN_JSONB_P(churn_factors_jsonb(rs->model, &rs->row, 0, rs->contrib, top));
}

PG_FUNCTION_INFO_V1(stratum_churn_sigmoid);

/*
 * stratum_churn_sigmoid
 *		SQL: stratum_internal.churn_sigmoid(float8): a logit as a probability.
 *		In C because SQL's exp() raises an error on underflow.
 */
Datum
stratum_churn_sigmoid(PG_FUNCTION_ARGS)
{
	PG_RETURN_FLOAT8(churn_sigmoid(PG_GETARG_FLOAT8(0)));
}
