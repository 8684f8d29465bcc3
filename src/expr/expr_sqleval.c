/*-------------------------------------------------------------------------
 *
 * expr_sqleval.c
 *		Evaluating conditions from SQL:
 *		  stratum_condition_eval(condition, jsonb)		-- a JSON document
 *		  stratum_condition_eval_row(condition, record)	-- a table row
 *
 * Both cache the decoded and bound program in fn_extra, keyed by the
 * condition's bytes (and, for rows, the row type), so a condition that is
 * constant in a query is decoded once, not once per row.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/guc.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"
#include "utils/typcache.h"

#include "expr/expr.h"

PG_FUNCTION_INFO_V1(stratum_condition_eval);
PG_FUNCTION_INFO_V1(stratum_condition_eval_row);

/* What a call site keeps between rows. */
typedef struct EvalCache
{
	char	   *key;			/* condition bytes */
	int			keylen;
	Oid			rowtype;		/* row evaluation: type of the record */
	int32		rowtypmod;
	ExprCompiled *prog;
	ExprProgram *bound;
	int			nfields;
	int		   *nsegs;			/* jsonb: path segments of each field */
	ExprStr   **segs;
	int		   *attnum;			/* rows: column (0-based) of each field */
	Oid		   *atttype;
	ExprValue  *slots;
	TupleDesc	desc;			/* rows: copy of the row type's descriptor */
	Datum	   *values;			/* rows: deformed tuple */
	bool	   *nulls;
	int			natts;
	bool		uses_zone;		/* reads hour_of_day() or day_of_week() */
	char	   *zone_tenant;	/* the tenant zone is for (NULL: session) */
	ExprZone	zone;
} EvalCache;

/*
 * cache_zone
 *		The zone hour_of_day() and day_of_week() read local times in: the
 *		tenant's (setting stratum.tenant) if one is set, else the session's
 *		TimeZone, as extract() would.  Looked up only for conditions that
 *		need it, and again only when the tenant changes.
 */
static const ExprZone *
cache_zone(FunctionCallInfo fcinfo, EvalCache *c)
{
	const char *tenant;

	if (!c->uses_zone)
		return NULL;
	tenant = GetConfigOption("stratum.tenant", true, false);
	if (tenant == NULL || tenant[0] == '\0')
	{
		expr_zone_session(&c->zone);
		c->zone_tenant = NULL;
	}
	else if (c->zone_tenant == NULL || strcmp(c->zone_tenant, tenant) != 0)
	{
		expr_zone_tenant(&c->zone, tenant);
		c->zone_tenant = MemoryContextStrdup(fcinfo->flinfo->fn_mcxt, tenant);
	}
	return &c->zone;
}

/*
 * get_cache
 *		The cache for this call site if it matches the condition (and row
 *		type), else a fresh one in fn_mcxt with the program decoded and
 *		bound one slot per field.
 */
static EvalCache *
get_cache(FunctionCallInfo fcinfo, struct varlena *cond, Oid rowtype, int32 rowtypmod, bool *fresh)
{
	EvalCache  *c = (EvalCache *) fcinfo->flinfo->fn_extra;
	int			len = VARSIZE_ANY_EXHDR(cond);
	MemoryContext old;
	int		   *map;
	int			i;

	if (c && c->keylen == len && c->rowtype == rowtype && c->rowtypmod == rowtypmod &&
		memcmp(c->key, VARDATA_ANY(cond), len) == 0)
	{
		*fresh = false;
		return c;
	}
	old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);
	c = palloc0(sizeof(EvalCache));
	c->key = palloc(len);
	memcpy(c->key, VARDATA_ANY(cond), len);
	c->keylen = len;
	c->rowtype = rowtype;
	c->rowtypmod = rowtypmod;
	c->prog = expr_condition_decode(PointerGetDatum(cond));
	c->nfields = c->prog->nfields;
	map = palloc(sizeof(int) * (c->nfields + 1));
	for (i = 0; i < c->nfields; i++)
		map[i] = i;
	{
		ExprArena	arena = {NULL};

		c->bound = expr_program_bind(c->prog, map, c->nfields, &arena);
	}
	c->uses_zone = expr_program_uses_zone(c->bound);
	c->slots = palloc0(sizeof(ExprValue) * (c->nfields + 1));
	MemoryContextSwitchTo(old);
	fcinfo->flinfo->fn_extra = c;
	*fresh = true;
	return c;
}

/*
 * numeric_to_double
 *		numeric -> double without going through text when the value has at
 *		most 15 significant digits (exact integer mantissa, one correctly
 *		rounded scaling by a power of ten, so the result equals strtod's);
 *		longer values take PostgreSQL's own conversion.  Reads the on-disk
 *		numeric format (stable across versions because of pg_upgrade):
 *		a 2-byte header (short format: sign, dscale and weight packed; long
 *		format: sign/dscale word then int16 weight) and base-10000 digits.
 */
static double
numeric_to_double(Numeric num)
{
	const char *p = VARDATA_ANY(num);
	int			len = VARSIZE_ANY_EXHDR(num);
	uint16		header;
	int			weight;
	bool		negative;
	int			ndigits;
	const char *digits;
	int64		mant = 0;
	int			sigdigits = 0;
	int			exp10;
	int			i;
	static const double pow10[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

	if (len < 2)
		goto slow;
	memcpy(&header, p, 2);
	if ((header & 0xC000) == 0x8000)	/* NUMERIC_SHORT */
	{
		negative = (header & 0x2000) != 0;
		weight = (header & 0x0040) ? (int) (~0x003F | (header & 0x003F)) : (header & 0x003F);
		digits = p + 2;
		ndigits = (len - 2) / 2;
	}
	else if ((header & 0xC000) == 0x0000 || (header & 0xC000) == 0x4000)
	{
		int16		w;

		if (len < 4)
			goto slow;
		negative = (header & 0xC000) == 0x4000;
		memcpy(&w, p + 2, 2);
		weight = w;
		digits = p + 4;
		ndigits = (len - 4) / 2;
	}
	else
		goto slow;				/* NaN, infinities */
	if (ndigits == 0)
		return 0.0;
	for (i = 0; i < ndigits; i++)
	{
		int16		d;

		memcpy(&d, digits + 2 * i, 2);
		if (mant == 0 && d == 0)
			continue;
		sigdigits += (mant == 0) ? (d >= 1000 ? 4 : d >= 100 ? 3 : d >= 10 ? 2 : 1) : 4;
		if (sigdigits > 15)
			goto slow;
		mant = mant * 10000 + d;
	}
	/* value = mant * 10000^(weight - ndigits + 1) */
	exp10 = 4 * (weight - ndigits + 1);
	if (exp10 >= 0 && exp10 <= 22)
		return negative ? -((double) mant * pow10[exp10]) : (double) mant * pow10[exp10];
	if (exp10 < 0 && exp10 >= -22)
		return negative ? -((double) mant / pow10[-exp10]) : (double) mant / pow10[-exp10];

slow:
	return DatumGetFloat8(DirectFunctionCall1(numeric_float8_no_overflow, NumericGetDatum(num)));
}

/*
 * jsonb_to_value
 *		An ExprValue for a jsonb scalar (objects and arrays count as NULL).
 *		Strings point into the jsonb datum.
 */
static void
jsonb_to_value(const JsonbValue *jv, ExprValue *v)
{
	switch (jv->type)
	{
		case jbvNumeric:
			{
				double		d = numeric_to_double(jv->val.numeric);

				if (isnan(d) || isinf(d))
					expr_value_null(v);
				else
					expr_value_number(v, d);
				break;
			}
		case jbvString:
			expr_value_text(v, jv->val.string.val, jv->val.string.len);
			break;
		case jbvBool:
			expr_value_bool(v, jv->val.boolean);
			break;
		default:
			expr_value_null(v);
			break;
	}
}

/*
 * stratum_condition_eval
 *		Evaluate a condition over a JSON document: each dotted path is looked
 *		up by nesting ({"profile":{"total_spend":1200}}); a missing key is
 *		NULL.  True only if the condition is TRUE.
 */
Datum
stratum_condition_eval(PG_FUNCTION_ARGS)
{
	struct varlena *cond = PG_GETARG_VARLENA_PP(0);
	Jsonb	   *doc = PG_GETARG_JSONB_P(1);
	bool		fresh;
	EvalCache  *c = get_cache(fcinfo, cond, InvalidOid, -1, &fresh);
	int			i;

	if (fresh)
	{
		MemoryContext old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);
		ExprArena	arena = {NULL};

		c->nsegs = palloc(sizeof(int) * (c->nfields + 1));
		c->segs = palloc(sizeof(ExprStr *) * (c->nfields + 1));
		for (i = 0; i < c->nfields; i++)
		{
			int			n = expr_path_split(c->prog->fields[i].ptr, c->prog->fields[i].len, NULL, 0, &arena);

			c->segs[i] = palloc(sizeof(ExprStr) * (n + 1));
			c->nsegs[i] = expr_path_split(c->prog->fields[i].ptr, c->prog->fields[i].len, c->segs[i], n, &arena);
		}
		MemoryContextSwitchTo(old);
	}

	for (i = 0; i < c->nfields; i++)
	{
		JsonbContainer *container = &doc->root;
		JsonbValue	jv;
		JsonbValue *found = NULL;
		int			s;

		expr_value_null(&c->slots[i]);
		for (s = 0; s < c->nsegs[i]; s++)
		{
			if (!JsonContainerIsObject(container))
			{
				found = NULL;
				break;
			}
			found = getKeyJsonValueFromContainer(container, c->segs[i][s].ptr, c->segs[i][s].len, &jv);
			if (found == NULL)
				break;
			if (s + 1 < c->nsegs[i])
			{
				if (found->type != jbvBinary)
				{
					found = NULL;
					break;
				}
				container = found->val.binary.data;
			}
		}
		if (found)
			jsonb_to_value(found, &c->slots[i]);
	}
	PG_RETURN_BOOL(expr_eval(c->bound, c->slots, cache_zone(fcinfo, c)));
}

/*
 * column_for_field
 *		The column of a row type that holds a field: the same name
 *		("spend", "account.avg_cpm") or dots written as underscores
 *		("account_avg_cpm").  Quoted segments are matched unquoted.
 */
static int
column_for_field(TupleDesc desc, ExprStr path)
{
	ExprArena	arena = {NULL};
	ExprStr		segs[16];
	int			n = expr_path_split(path.ptr, path.len, segs, 16, &arena);
	char		dotted[NAMEDATALEN * 2];
	char		underscored[NAMEDATALEN * 2];
	int			dl = 0;
	int			s;
	int			a;

	if (n < 1 || n > 16)
		return -1;
	for (s = 0; s < n; s++)
	{
		if (dl + segs[s].len + 2 >= (int) sizeof(dotted))
			return -1;
		if (s > 0)
		{
			dotted[dl] = '.';
			underscored[dl] = '_';
			dl++;
		}
		memcpy(dotted + dl, segs[s].ptr, segs[s].len);
		memcpy(underscored + dl, segs[s].ptr, segs[s].len);
		dl += segs[s].len;
	}
	dotted[dl] = underscored[dl] = '\0';
	for (a = 0; a < desc->natts; a++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, a);

		if (!att->attisdropped && strcmp(NameStr(att->attname), dotted) == 0)
			return a;
	}
	for (a = 0; a < desc->natts; a++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, a);

		if (!att->attisdropped && strcmp(NameStr(att->attname), underscored) == 0)
			return a;
	}
	return -1;
}

/*
 * datum_to_value
 *		An ExprValue for a column value of a supported type.
 */
static void
datum_to_value(Datum d, Oid type, ExprValue *v)
{
	switch (type)
	{
		case INT2OID:
			expr_value_number(v, DatumGetInt16(d));
			break;
		case INT4OID:
			expr_value_number(v, DatumGetInt32(d));
			break;
		case INT8OID:
			expr_value_number(v, (double) DatumGetInt64(d));
			break;
		case FLOAT4OID:
		case FLOAT8OID:
			{
				double		f = type == FLOAT4OID ? DatumGetFloat4(d) : DatumGetFloat8(d);

				if (isnan(f) || isinf(f))
					expr_value_null(v);
				else
					expr_value_number(v, f);
				break;
			}
		case NUMERICOID:
			{
				Numeric		num = DatumGetNumeric(d);

				if (numeric_is_nan(num) || numeric_is_inf(num))
					expr_value_null(v);
				else
				{
					double		f = numeric_to_double(num);

					if (isinf(f))
						expr_value_null(v);
					else
						expr_value_number(v, f);
				}
				break;
			}
		case BOOLOID:
			expr_value_bool(v, DatumGetBool(d));
			break;
		case TIMESTAMPTZOID:
		case TIMESTAMPOID:
			if (TIMESTAMP_NOT_FINITE(DatumGetTimestamp(d)))
				expr_value_null(v);
			else
				expr_value_timestamp(v, DatumGetTimestamp(d));
			break;
		case DATEOID:
			if (DATE_NOT_FINITE(DatumGetDateADT(d)))
				expr_value_null(v);
			else
				expr_value_timestamp(v, (int64) DatumGetDateADT(d) * USECS_PER_DAY);
			break;
		case BPCHAROID:
			{
				struct varlena *t = PG_DETOAST_DATUM_PACKED(d);
				int			len = VARSIZE_ANY_EXHDR(t);

				/* char(n) padding is not significant */
				while (len > 0 && VARDATA_ANY(t)[len - 1] == ' ')
					len--;
				expr_value_text(v, VARDATA_ANY(t), len);
				break;
			}
		default:				/* text, varchar */
			{
				struct varlena *t = PG_DETOAST_DATUM_PACKED(d);

				expr_value_text(v, VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
				break;
			}
	}
}

/*
 * stratum_condition_eval_row
 *		Evaluate a condition over a row: each field is read from the column
 *		of the same name (see column_for_field).  A field with no column is
 *		an error; a NULL column is a missing value.
 */
Datum
stratum_condition_eval_row(PG_FUNCTION_ARGS)
{
	struct varlena *cond = PG_GETARG_VARLENA_PP(0);
	HeapTupleHeader rec = PG_GETARG_HEAPTUPLEHEADER(1);
	Oid			rowtype = HeapTupleHeaderGetTypeId(rec);
	int32		rowtypmod = HeapTupleHeaderGetTypMod(rec);
	bool		fresh;
	EvalCache  *c = get_cache(fcinfo, cond, rowtype, rowtypmod, &fresh);
	TupleDesc	desc;
	HeapTupleData tuple;
	int			i;

	if (fresh)
	{
		MemoryContext old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);

		c->desc = desc = lookup_rowtype_tupdesc_copy(rowtype, rowtypmod);
		c->attnum = palloc(sizeof(int) * (c->nfields + 1));
		c->atttype = palloc(sizeof(Oid) * (c->nfields + 1));
		for (i = 0; i < c->nfields; i++)
		{
			int			a = column_for_field(desc, c->prog->fields[i]);
			Oid			t;

			if (a < 0)
				ereport(ERROR,
						(errcode(ERRCODE_UNDEFINED_COLUMN),
						 errmsg("condition field \"%.*s\" is not a column of the row",
								c->prog->fields[i].len, c->prog->fields[i].ptr),
						 errhint("Name the column like the field, or with underscores for dots (account_avg_cpm).")));
			t = getBaseType(TupleDescAttr(desc, a)->atttypid);
			switch (t)
			{
				case INT2OID:
				case INT4OID:
				case INT8OID:
				case FLOAT4OID:
				case FLOAT8OID:
				case NUMERICOID:
				case BOOLOID:
				case TIMESTAMPTZOID:
				case TIMESTAMPOID:
				case DATEOID:
				case TEXTOID:
				case VARCHAROID:
				case BPCHAROID:
					break;
				default:
					ereport(ERROR,
							(errcode(ERRCODE_DATATYPE_MISMATCH),
							 errmsg("column \"%s\" has type %s, which conditions cannot read",
									NameStr(TupleDescAttr(desc, a)->attname), format_type_be(t)),
							 errhint("Use a number, text, boolean, date or timestamp column, or cast it.")));
			}
			c->attnum[i] = a;
			c->atttype[i] = t;
		}
		c->natts = desc->natts;
		c->values = palloc(sizeof(Datum) * (desc->natts + 1));
		c->nulls = palloc(sizeof(bool) * (desc->natts + 1));
		MemoryContextSwitchTo(old);
	}

	desc = c->desc;
	tuple.t_len = HeapTupleHeaderGetDatumLength(rec);
	ItemPointerSetInvalid(&tuple.t_self);
	tuple.t_tableOid = InvalidOid;
	tuple.t_data = rec;
	heap_deform_tuple(&tuple, desc, c->values, c->nulls);
	for (i = 0; i < c->nfields; i++)
	{
		int			a = c->attnum[i];

		if (c->nulls[a])
			expr_value_null(&c->slots[i]);
		else
			datum_to_value(c->values[a], c->atttype[i], &c->slots[i]);
	}
	PG_RETURN_BOOL(expr_eval(c->bound, c->slots, cache_zone(fcinfo, c)));
}
