/*-------------------------------------------------------------------------
 *
 * churn_data.c
 *		Load the rows of a query into columns for training and scoring.
 *
 * Rows are read through an SPI cursor in batches; every feature becomes a
 * float8 array (numbers, NaN when missing) or an int32 array of level codes
 * (text, -1 when missing).  Arrays live in one memory context and grow by
 * doubling, so memory is proportional to rows x columns and there is no
 * allocation per row.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"

#include "churn/churn.h"

#define CHURN_FETCH_ROWS	10000

typedef struct LevelEntry
{
	char		key[CHURN_MAX_LEVEL_LEN];
	int32		code;
} LevelEntry;

/* How a result column is used. */
typedef enum ColumnUse
{
	USE_NONE,
	USE_FEATURE,
	USE_LABEL,
	USE_KEY
} ColumnUse;

/*
 * churn_is_numeric_type / churn_is_text_type
 *		Which column types become numeric and which categorical features.
 */
bool
churn_is_numeric_type(Oid t)
{
	return t == INT2OID || t == INT4OID || t == INT8OID || t == FLOAT4OID ||
		t == FLOAT8OID || t == NUMERICOID || t == BOOLOID;
}

bool
churn_is_text_type(Oid t)
{
	return t == TEXTOID || t == VARCHAROID || t == BPCHAROID || t == NAMEOID;
}

/*
 * churn_datum_to_double
 *		A numeric column value as a double.
 */
double
churn_datum_to_double(Datum d, Oid t)
{
	switch (t)
	{
		case INT2OID:
			return (double) DatumGetInt16(d);
		case INT4OID:
			return (double) DatumGetInt32(d);
		case INT8OID:
			return (double) DatumGetInt64(d);
		case FLOAT4OID:
			return (double) DatumGetFloat4(d);
		case FLOAT8OID:
			return DatumGetFloat8(d);
		case NUMERICOID:
			return churn_numeric_to_double(d);
		case BOOLOID:
			return DatumGetBool(d) ? 1.0 : 0.0;
	}
	elog(ERROR, "unexpected type %u", t);
	return 0.0;
}

/*
 * datum_to_level
 *		Copy a text column value into buf (NUL-terminated), with a clear error
 *		when it is too long to be a category.
 */
static void
datum_to_level(Datum d, Oid t, char *buf, const char *colname)
{
	const char *s;
	int			len;

	if (t == NAMEOID)
	{
		s = NameStr(*DatumGetName(d));
		len = strlen(s);
	}
	else
	{
		text	   *txt = DatumGetTextPP(d);

		s = VARDATA_ANY(txt);
		len = VARSIZE_ANY_EXHDR(txt);
	}
	if (len >= CHURN_MAX_LEVEL_LEN)
		ereport(ERROR,
				(errcode(ERRCODE_STRING_DATA_RIGHT_TRUNCATION),
				 errmsg("value of column \"%s\" is too long to be a category", colname),
				 errdetail("Category values are at most %d bytes; this one has %d.",
						   CHURN_MAX_LEVEL_LEN - 1, len),
				 errhint("Leave the column out with the option \"exclude\".")));
	memcpy(buf, s, len);
	buf[len] = '\0';
}

/*
 * level_code
 *		The code of a category value, adding it when the levels are not fixed.
 */
static int32
level_code(ChurnColumn *col, const char *value, MemoryContext cxt)
{
	LevelEntry *e;
	bool		found;

	if (col->fixed_levels)
	{
		e = hash_search(col->dict, value, HASH_FIND, NULL);
		return e ? e->code : -1;
	}
	e = hash_search(col->dict, value, HASH_ENTER, &found);
	if (!found)
	{
		if (col->nlevels >= col->max_levels)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("column \"%s\" has more than %d distinct values", col->name,
							col->max_levels),
					 errdetail("Text columns are categories; each distinct value is a level."),
					 errhint("Leave the column out with the option \"exclude\", or raise the option \"max_categories\".")));
		if (col->nlevels % 16 == 0)
			col->levels = col->levels
				? repalloc(col->levels, sizeof(char *) * (col->nlevels + 16))
				: MemoryContextAlloc(cxt, sizeof(char *) * 16);
		e->code = col->nlevels;
		col->levels[col->nlevels++] = MemoryContextStrdup(cxt, value);
	}
	return e->code;
}

/*
 * make_dict
 *		An empty level dictionary for a categorical column.
 */
static HTAB *
make_dict(const char *name, MemoryContext cxt)
{
	HASHCTL		ctl;

	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = CHURN_MAX_LEVEL_LEN;
	ctl.entrysize = sizeof(LevelEntry);
	ctl.hcxt = cxt;
	return hash_create(name, 64, &ctl, HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
}

/*
 * grow
 *		Make room for at least need rows in every column array.
 */
static void
grow(ChurnData *d, int64 need)
{
	int64		cap = d->capacity ? d->capacity : 1024;
	int			i;

	while (cap < need)
		cap *= 2;
	if (cap == d->capacity)
		return;
	for (i = 0; i < d->ncols; i++)
	{
		ChurnColumn *c = &d->cols[i];

		if (c->kind == CHURN_NUMERIC)
			c->num = c->num ? repalloc_huge(c->num, sizeof(double) * cap)
				: MemoryContextAllocHuge(d->cxt, sizeof(double) * cap);
		else
			c->cat = c->cat ? repalloc_huge(c->cat, sizeof(int32) * cap)
				: MemoryContextAllocHuge(d->cxt, sizeof(int32) * cap);
	}
	if (d->label || d->capacity == 0)
		d->label = d->label ? repalloc_huge(d->label, cap)
			: MemoryContextAllocHuge(d->cxt, cap);
	if (d->key || d->capacity == 0)
		d->key = d->key ? repalloc_huge(d->key, sizeof(int64) * cap)
			: MemoryContextAllocHuge(d->cxt, sizeof(int64) * cap);
	d->capacity = cap;
}

/*
 * is_positive_word
 *		Text label values read as "churned" when the option positive is not
 *		given.
 */
static bool
is_positive_word(const char *s)
{
	return pg_strcasecmp(s, "yes") == 0 || pg_strcasecmp(s, "true") == 0 ||
		pg_strcasecmp(s, "t") == 0 || pg_strcasecmp(s, "y") == 0 ||
		pg_strcasecmp(s, "1") == 0 || pg_strcasecmp(s, "churned") == 0;
}

/*
 * churn_data_load
 *		Run the query and load its rows.  With spec->model set, load exactly
 *		that model's features (categories mapped through the model's levels,
 *		unseen values read as missing); otherwise every column but the label,
 *		the key and the excluded ones is a feature.
 */
ChurnData *
churn_data_load(ChurnLoadSpec *spec, MemoryContext parent)
{
	MemoryContext cxt = AllocSetContextCreate(parent, "stratum churn data",
											  ALLOCSET_DEFAULT_SIZES);
	MemoryContext batch_cxt;
	MemoryContext old;
	ChurnData  *d = MemoryContextAllocZero(cxt, sizeof(ChurnData));
	SPIPlanPtr	plan;
	Portal		portal;
	TupleDesc	tupdesc = NULL;
	ColumnUse  *use = NULL;
	int		   *featno = NULL;
	Oid		   *types = NULL;
	Datum	   *row_values = NULL;
	bool	   *row_nulls = NULL;
	int			natts = 0;
	Oid			label_type = InvalidOid;
	char	   *label_values[2] = {NULL, NULL};
	int			nlabel_values = 0;
	char		buf[CHURN_MAX_LEVEL_LEN];
	int			i;

	d->cxt = cxt;
	batch_cxt = AllocSetContextCreate(cxt, "stratum churn batch", ALLOCSET_DEFAULT_SIZES);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	plan = SPI_prepare(spec->query, 0, NULL);
	if (plan == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_SYNTAX_ERROR),
				 errmsg("could not prepare the training query: %s",
						SPI_result_code_string(SPI_result))));
	portal = SPI_cursor_open(NULL, plan, NULL, NULL, true);

	for (;;)
	{
		uint64		r;

		SPI_cursor_fetch(portal, true, CHURN_FETCH_ROWS);
		if (tupdesc == NULL)
		{
			bool		label_found = false,
						key_found = false;

			tupdesc = SPI_tuptable->tupdesc;
			natts = tupdesc->natts;
			use = MemoryContextAllocZero(cxt, sizeof(ColumnUse) * natts);
			featno = MemoryContextAllocZero(cxt, sizeof(int) * natts);
			types = MemoryContextAllocZero(cxt, sizeof(Oid) * natts);
			row_values = MemoryContextAlloc(cxt, sizeof(Datum) * Max(natts, 1));
			row_nulls = MemoryContextAlloc(cxt, sizeof(bool) * Max(natts, 1));
			d->cols = MemoryContextAllocZero(cxt, sizeof(ChurnColumn) * Max(natts, 1));
			for (i = 0; i < natts; i++)
			{
				Form_pg_attribute att = TupleDescAttr(tupdesc, i);
				const char *name = NameStr(att->attname);
				int			j;
				bool		excluded = false;

				if (att->attisdropped)
					continue;
				types[i] = att->atttypid;
				if (spec->label && strcmp(name, spec->label) == 0)
				{
					if (label_found)
						ereport(ERROR,
								(errcode(ERRCODE_AMBIGUOUS_COLUMN),
								 errmsg("the label column \"%s\" appears twice", name)));
					use[i] = USE_LABEL;
					label_type = att->atttypid;
					label_found = true;
					if (!(churn_is_numeric_type(label_type) || churn_is_text_type(label_type)))
						ereport(ERROR,
								(errcode(ERRCODE_DATATYPE_MISMATCH),
								 errmsg("label column \"%s\" has type %s", name,
										format_type_be(label_type)),
								 errhint("Use a boolean, 0/1 number or two-valued text column.")));
					continue;
				}
				if (spec->key && strcmp(name, spec->key) == 0)
				{
					if (att->atttypid != INT8OID && att->atttypid != INT4OID)
						ereport(ERROR,
								(errcode(ERRCODE_DATATYPE_MISMATCH),
								 errmsg("key column \"%s\" must be bigint or integer", name)));
					use[i] = USE_KEY;
					key_found = true;
					continue;
				}
				for (j = 0; j < spec->nexclude; j++)
					if (strcmp(name, spec->exclude[j]) == 0)
						excluded = true;
				if (excluded)
					continue;
				if (spec->model)
				{
					ChurnModel *m = spec->model;

					for (j = 0; j < m->nfeatures; j++)
						if (strcmp(m->features[j].name, name) == 0)
							break;
					if (j == m->nfeatures)
						continue;
					if ((m->features[j].kind == CHURN_NUMERIC && !churn_is_numeric_type(att->atttypid)) ||
						(m->features[j].kind == CHURN_CATEGORICAL && !churn_is_text_type(att->atttypid)))
						ereport(ERROR,
								(errcode(ERRCODE_DATATYPE_MISMATCH),
								 errmsg("column \"%s\" has type %s, but the model was trained on a %s column",
										name, format_type_be(att->atttypid),
										m->features[j].kind == CHURN_NUMERIC ? "numeric" : "text")));
					featno[i] = j;
				}
				else
				{
					if (!churn_is_numeric_type(att->atttypid) && !churn_is_text_type(att->atttypid))
						ereport(ERROR,
								(errcode(ERRCODE_DATATYPE_MISMATCH),
								 errmsg("column \"%s\" has type %s, which cannot be a feature",
										name, format_type_be(att->atttypid)),
								 errhint("Cast it to a number or to text in the query, or leave it out with the option \"exclude\".")));
					featno[i] = d->ncols++;
				}
				use[i] = USE_FEATURE;
			}
			if (spec->label && !label_found)
				ereport(ERROR,
						(errcode(ERRCODE_UNDEFINED_COLUMN),
						 errmsg("label column \"%s\" is not in the data", spec->label)));
			if (spec->key && !key_found)
				ereport(ERROR,
						(errcode(ERRCODE_UNDEFINED_COLUMN),
						 errmsg("key column \"%s\" is not in the data", spec->key)));

			/* Describe the feature columns. */
			if (spec->model)
			{
				ChurnModel *m = spec->model;

				d->ncols = m->nfeatures;
				d->cols = MemoryContextAllocZero(cxt, sizeof(ChurnColumn) * Max(m->nfeatures, 1));
				for (i = 0; i < m->nfeatures; i++)
				{
					ChurnColumn *c = &d->cols[i];
					int			j,
								a;

					for (a = 0; a < natts; a++)
						if (use[a] == USE_FEATURE && featno[a] == i)
							break;
					if (a == natts)
						ereport(ERROR,
								(errcode(ERRCODE_UNDEFINED_COLUMN),
								 errmsg("column \"%s\" used by the model is not in the data",
										m->features[i].name)));
					c->name = MemoryContextStrdup(cxt, m->features[i].name);
					c->kind = m->features[i].kind;
					if (c->kind == CHURN_CATEGORICAL)
					{
						c->dict = make_dict(c->name, cxt);
						c->max_levels = m->features[i].nlevels;
						for (j = 0; j < m->features[i].nlevels; j++)
							level_code(c, m->features[i].levels[j], cxt);
						c->fixed_levels = true;
					}
				}
			}
			else
			{
				for (i = 0; i < natts; i++)
				{
					ChurnColumn *c;

					if (use[i] != USE_FEATURE)
						continue;
					c = &d->cols[featno[i]];
					c->name = MemoryContextStrdup(cxt, NameStr(TupleDescAttr(tupdesc, i)->attname));
					c->kind = churn_is_numeric_type(types[i]) ? CHURN_NUMERIC : CHURN_CATEGORICAL;
					if (c->kind == CHURN_CATEGORICAL)
					{
						c->dict = make_dict(c->name, cxt);
						c->max_levels = spec->max_categories;
					}
				}
			}
			grow(d, 1);
			if (!spec->label)
				d->label = NULL;
			if (!spec->key)
				d->key = NULL;
		}
		if (SPI_processed == 0)
			break;

		grow(d, d->nrows + SPI_processed);
		old = MemoryContextSwitchTo(batch_cxt);
		for (r = 0; r < SPI_processed; r++)
		{
			HeapTuple	tup = SPI_tuptable->vals[r];
			int64		row = d->nrows;

			/* One pass over the tuple (heap_getattr per column is quadratic past text columns). */
			heap_deform_tuple(tup, tupdesc, row_values, row_nulls);
			for (i = 0; i < natts; i++)
			{
				bool		isnull = row_nulls[i];
				Datum		v = row_values[i];

				if (use[i] == USE_NONE)
					continue;
				if (use[i] == USE_FEATURE)
				{
					ChurnColumn *c = &d->cols[featno[i]];

					if (c->kind == CHURN_NUMERIC)
					{
						double		x = isnull ? NAN : churn_datum_to_double(v, types[i]);

						if (!isnull && isinf(x))
							x = NAN;
						c->num[row] = x;
					}
					else if (isnull)
						c->cat[row] = -1;
					else
					{
						datum_to_level(v, types[i], buf, c->name);
						c->cat[row] = level_code(c, buf, cxt);
					}
				}
				else if (use[i] == USE_KEY)
				{
					if (isnull)
						ereport(ERROR,
								(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
								 errmsg("key column \"%s\" is null in row %lld", spec->key,
										(long long) row + 1)));
					d->key[row] = types[i] == INT8OID ? DatumGetInt64(v) : DatumGetInt32(v);
				}
				else if (use[i] == USE_LABEL)
				{
					if (isnull)
						ereport(ERROR,
								(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
								 errmsg("label column \"%s\" is null in row %lld", spec->label,
										(long long) row + 1),
								 errhint("Filter out rows without a label in the query.")));
					if (churn_is_numeric_type(label_type))
					{
						double		y = churn_datum_to_double(v, label_type);

						if (y != 0.0 && y != 1.0)
							ereport(ERROR,
									(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
									 errmsg("label column \"%s\" is not binary", spec->label),
									 errdetail("Row %lld has the value %g; a numeric label must be 0 or 1.",
											   (long long) row + 1, y)));
						d->label[row] = (uint8) y;
					}
					else
					{
						int			k;

						datum_to_level(v, label_type, buf, spec->label);
						for (k = 0; k < nlabel_values; k++)
							if (strcmp(label_values[k], buf) == 0)
								break;
						if (k == nlabel_values)
						{
							if (nlabel_values == 2)
								ereport(ERROR,
										(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
										 errmsg("label column \"%s\" is not binary", spec->label),
										 errdetail("It has at least three values: \"%s\", \"%s\" and \"%s\".",
												   label_values[0], label_values[1], buf)));
							label_values[nlabel_values++] = MemoryContextStrdup(cxt, buf);
						}
						d->label[row] = (uint8) k;
					}
				}
			}
			d->nrows++;
		}
		MemoryContextSwitchTo(old);
		MemoryContextReset(batch_cxt);
		SPI_freetuptable(SPI_tuptable);
		CHECK_FOR_INTERRUPTS();
	}
	SPI_cursor_close(portal);
	SPI_finish();

	/* Text labels: decide which value means churn, and make it 1. */
	if (spec->label && churn_is_text_type(label_type) && nlabel_values > 0)
	{
		int			pos = -1;
		int			k;

		for (k = 0; k < nlabel_values; k++)
		{
			if (spec->positive ? strcmp(label_values[k], spec->positive) == 0
				: is_positive_word(label_values[k]))
			{
				if (pos >= 0)
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							 errmsg("cannot tell which value of label \"%s\" means churn", spec->label),
							 errhint("Name it with the option \"positive\".")));
				pos = k;
			}
		}
		if (pos < 0 && (spec->positive || nlabel_values == 2))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("cannot tell which value of label \"%s\" means churn", spec->label),
					 errdetail("Its values are \"%s\"%s%s%s.", label_values[0],
							   nlabel_values > 1 ? " and \"" : "",
							   nlabel_values > 1 ? label_values[1] : "",
							   nlabel_values > 1 ? "\"" : ""),
					 errhint("Name the churn value with the option \"positive\", e.g. {\"positive\": \"%s\"}.",
							 label_values[0])));
		if (pos >= 0)
		{
			int64		r;

			d->positive = label_values[pos];
			for (r = 0; r < d->nrows; r++)
				d->label[r] = d->label[r] == pos ? 1 : 0;
		}
		else
		{
			/* A single value that is not a churn word: every row is "no churn". */
			int64		r;

			for (r = 0; r < d->nrows; r++)
				d->label[r] = 0;
		}
	}
	MemoryContextDelete(batch_cxt);
	return d;
}

/*
 * drop_column
 *		Remove feature column i.
 */
static void
drop_column(ChurnData *d, int i)
{
	memmove(&d->cols[i], &d->cols[i + 1], sizeof(ChurnColumn) * (d->ncols - i - 1));
	d->ncols--;
}

/*
 * churn_data_check
 *		Refuse data a model cannot be trained on: no rows, too few rows, one
 *		class only, and (unless drop_constant) all-null or constant columns,
 *		which are otherwise dropped with a notice.
 */
void
churn_data_check(ChurnData *d, bool drop_constant)
{
	int64		pos = 0;
	int64		r;
	int			i;

	if (d->nrows == 0)
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("the training data is empty"),
				 errhint("Check the query or the training range.")));
	for (r = 0; r < d->nrows; r++)
		pos += d->label[r];
	if (pos == 0 || pos == d->nrows)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the label has only one class"),
				 errdetail("All %lld rows are %s.", (long long) d->nrows,
						   pos == 0 ? "not churned" : "churned"),
				 errhint("A model needs examples of customers who churned and of customers who stayed.")));
	if (d->nrows < 20 || pos < 5 || d->nrows - pos < 5)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("too few rows to train a churn model"),
				 errdetail("There are %lld rows, %lld of them churned; at least 20 rows and 5 of each class are needed.",
						   (long long) d->nrows, (long long) pos)));

	for (i = 0; i < d->ncols;)
	{
		ChurnColumn *c = &d->cols[i];
		bool		seen = false;
		bool		constant = true;
		double		first = 0;

		for (r = 0; r < d->nrows; r++)
		{
			double		v;

			if (c->kind == CHURN_NUMERIC)
			{
				if (isnan(c->num[r]))
					continue;
				v = c->num[r];
			}
			else
			{
				if (c->cat[r] < 0)
					continue;
				v = c->cat[r];
			}
			if (!seen)
			{
				seen = true;
				first = v;
			}
			else if (v != first)
			{
				constant = false;
				break;
			}
		}
		if (!seen || constant)
		{
			if (!drop_constant)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("column \"%s\" is %s", c->name, seen ? "constant" : "null in every row"),
						 errdetail("A column that never changes cannot tell churners apart."),
						 errhint("Leave it out with the option \"exclude\", or set the option \"drop_constant\" to true.")));
			ereport(NOTICE,
					(errmsg("column \"%s\" is %s and is not used", c->name,
							seen ? "constant" : "null in every row")));
			drop_column(d, i);
			continue;
		}
		i++;
	}
	if (d->ncols == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the training data has no feature columns"),
				 errhint("Besides the label, the query must return at least one number or text column.")));
}
