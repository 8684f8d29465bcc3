/*-------------------------------------------------------------------------
 *
 * expr_type.c
 *		The stratum.condition SQL type (input, output, equality) and the
 *		backend side of the C interface in expr.h: error reporting, decoding
 *		stored conditions, context checks and binding.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "pgtime.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"
#include "access/xact.h"

#include "expr/expr.h"

PG_FUNCTION_INFO_V1(stratum_condition_in);
PG_FUNCTION_INFO_V1(stratum_condition_out);
PG_FUNCTION_INFO_V1(stratum_condition_eq);
PG_FUNCTION_INFO_V1(stratum_condition_ne);
PG_FUNCTION_INFO_V1(stratum_condition_fields);
PG_FUNCTION_INFO_V1(stratum_condition_check);
PG_FUNCTION_INFO_V1(stratum_condition_compile);
PG_FUNCTION_INFO_V1(stratum_condition_context_fields);

/*
 * expr_report_error
 *		ereport(ERROR) for an error recorded by the core.
 */
void
expr_report_error(const ExprError *err)
{
	int			code;

	switch (err->kind)
	{
		case EXPR_ERR_SYNTAX:
			code = ERRCODE_SYNTAX_ERROR;
			break;
		case EXPR_ERR_LIMIT:
			code = ERRCODE_PROGRAM_LIMIT_EXCEEDED;
			break;
		case EXPR_ERR_CORRUPT:
			code = ERRCODE_DATA_CORRUPTED;
			break;
		case EXPR_ERR_FIELD:
			code = ERRCODE_UNDEFINED_COLUMN;
			break;
		default:
			code = ERRCODE_INVALID_PARAMETER_VALUE;
			break;
	}
	ereport(ERROR,
			(errcode(code),
			 errmsg("%s", err->message),
			 err->detail[0] ? errdetail("%s", err->detail) : 0,
			 err->hint[0] ? errhint("%s", err->hint) : 0));
	pg_unreachable();
}

/*
 * find_context_or_error
 *		The registry context of that name, or an error listing the valid ones.
 */
static const ExprContextDef *
find_context_or_error(const char *name)
{
	const ExprContextDef *ctx = expr_find_context(name);

	if (ctx == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown condition context \"%s\"", name),
				 errhint("Valid contexts are profile, event, campaign and lead.")));
	return ctx;
}

/*
 * expr_condition_datum
 *		Encode a compiled condition as a stratum.condition varlena.
 */
Datum
expr_condition_datum(const ExprCompiled *cond)
{
	ExprArena	arena = {NULL};
	size_t		len;
	char	   *bytes = expr_encode(cond, &arena, &len);
	bytea	   *result = (bytea *) palloc(VARHDRSZ + len);

	SET_VARSIZE(result, VARHDRSZ + len);
	memcpy(VARDATA(result), bytes, len);
	expr_arena_free(&arena);
	PG_RETURN_POINTER(result);
}

/*
 * expr_condition_decode
 *		Validate and decode a stored condition.
 */
ExprCompiled *
expr_condition_decode(Datum cond)
{
	struct varlena *v = PG_DETOAST_DATUM_PACKED(cond);
	ExprArena	arena = {NULL};
	ExprError	err;
	ExprCompiled *prog;

	memset(&err, 0, sizeof(err));
	prog = expr_decode(VARDATA_ANY(v), VARSIZE_ANY_EXHDR(v), &arena, &err);
	if (prog == NULL)
		expr_report_error(&err);
	return prog;
}

/*
 * expr_condition_resolve
 *		Check a condition's fields against a context and qualify names.
 */
ExprCompiled *
expr_condition_resolve(const ExprCompiled *cond, const char *context)
{
	const ExprContextDef *ctx = find_context_or_error(context);
	ExprArena	arena = {NULL};
	ExprError	err;
	ExprNode   *tree;
	ExprCompiled *out;

	memset(&err, 0, sizeof(err));
	tree = expr_decompile(cond, &arena, &err);
	if (tree == NULL || !expr_resolve_tree(tree, ctx, &arena, &err) ||
		(out = expr_compile(tree, &arena, &err)) == NULL)
		expr_report_error(&err);
	return out;
}

/*
 * expr_condition_from_text
 *		Parse and compile; with a context, also check and qualify fields.
 */
ExprCompiled *
expr_condition_from_text(const char *text, const char *context)
{
	ExprArena	arena = {NULL};
	ExprError	err;
	ExprCompiled *prog;

	memset(&err, 0, sizeof(err));
	prog = expr_compile_text(text, strlen(text), &arena, &err);
	if (prog == NULL)
		expr_report_error(&err);
	if (context != NULL)
		prog = expr_condition_resolve(prog, context);
	return prog;
}

/*
 * expr_bind
 *		Map each field of the condition to a slot by name (see expr.h).
 */
ExprProgram *
expr_bind(const ExprCompiled *cond, const char *const *slot_names, int nslots, bool missing_is_null)
{
	ExprArena	arena = {NULL};
	int		   *map = palloc(sizeof(int) * (cond->nfields + 1));
	int			i,
				j;

	for (i = 0; i < cond->nfields; i++)
	{
		map[i] = -1;
		for (j = 0; j < nslots; j++)
			if ((int) strlen(slot_names[j]) == cond->fields[i].len &&
				memcmp(slot_names[j], cond->fields[i].ptr, cond->fields[i].len) == 0)
			{
				map[i] = j;
				break;
			}
		if (map[i] < 0 && !missing_is_null)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("condition uses field \"%.*s\", which is not available here",
							cond->fields[i].len, cond->fields[i].ptr)));
	}
	return expr_program_bind(cond, map, nslots, &arena);
}

/*
 * expr_eval
 *		Evaluate a bound program; now() is the transaction start time, and
 *		hour_of_day() / day_of_week() read timestamps in the zone (NULL: UTC).
 */
bool
expr_eval(const ExprProgram *prog, const ExprValue *slots, const ExprZone *zone)
{
	return expr_program_eval(prog, slots, GetCurrentTransactionStartTimestamp(), zone);
}

/*
 * pg_zone_offset
 *		ExprZone.offset for a PostgreSQL time zone: local time minus UTC at
 *		that instant (DST included).  Instants PostgreSQL cannot break down
 *		are read as UTC.
 */
static int64_t
pg_zone_offset(const ExprZone *zone, ExprTimestamp utc)
{
	struct pg_tm tm;
	fsec_t		fsec;
	int			tz;

	if (TIMESTAMP_NOT_FINITE(utc) ||
		timestamp2tm((TimestampTz) utc, &tz, &tm, &fsec, NULL, (pg_tz *) zone->arg) != 0)
		return 0;
	return -(int64_t) tz * USECS_PER_SEC;	/* tz is seconds west of UTC */
}

/*
 * expr_zone_named
 *		Set up zone for an IANA time zone name; false (zone untouched) if
 *		PostgreSQL does not know it.
 */
bool
expr_zone_named(ExprZone *zone, const char *tzname)
{
	pg_tz	   *tz = tzname ? pg_tzset(tzname) : NULL;

	if (tz == NULL)
		return false;
	zone->offset = pg_zone_offset;
	zone->arg = tz;
	return true;
}

/*
 * expr_zone_session
 *		Set up zone for the session's TimeZone setting.
 */
void
expr_zone_session(ExprZone *zone)
{
	zone->offset = pg_zone_offset;
	zone->arg = session_timezone;
}

/*
 * expr_zone_tenant
 *		Set up zone for a tenant's time zone (stratum.tenants.timezone), or
 *		the session's TimeZone if the tenant is not known (or not visible to
 *		the current role).  Uses SPI; callable inside or outside an SPI
 *		connection.
 */
void
expr_zone_tenant(ExprZone *zone, const char *tenant)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1];

	expr_zone_session(zone);
	if (tenant == NULL || tenant[0] == '\0')
		return;
	args[0] = CStringGetTextDatum(tenant);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "stratum conditions: SPI_connect failed");
	if (SPI_execute_with_args("SELECT timezone FROM stratum.tenants WHERE tenant_id = $1",
							  1, argtypes, args, NULL, true, 1) == SPI_OK_SELECT &&
		SPI_processed == 1)
	{
		/* pg_tzset's zones live for the session: no copy out of SPI needed */
		(void) expr_zone_named(zone, SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1));
	}
	SPI_finish();
}

/*
 * stratum_condition_in
 *		Text -> condition: parse, compile, encode.
 */
Datum
stratum_condition_in(PG_FUNCTION_ARGS)
{
	char	   *text = PG_GETARG_CSTRING(0);

	return expr_condition_datum(expr_condition_from_text(text, NULL));
}

/*
 * stratum_condition_out
 *		Condition -> canonical text.  The text is copied out of the arena
 *		into a palloc'd string of its own: callers may pfree an output
 *		function's result (EXPLAIN VERBOSE deparsing a constant does), and a
 *		pointer into an arena block is not a chunk pfree can take.
 */
Datum
stratum_condition_out(PG_FUNCTION_ARGS)
{
	ExprCompiled *prog = expr_condition_decode(PG_GETARG_DATUM(0));
	ExprArena	arena = {NULL};
	ExprError	err;
	ExprNode   *tree;
	char	   *result;

	memset(&err, 0, sizeof(err));
	tree = expr_decompile(prog, &arena, &err);
	if (tree == NULL)
		expr_report_error(&err);
	result = pstrdup(expr_print(tree, &arena));
	expr_arena_free(&arena);
	PG_RETURN_CSTRING(result);
}

/*
 * condition_bytes_equal
 *		Conditions are equal when their compiled forms are identical, which
 *		is when their canonical texts are.
 */
static bool
condition_bytes_equal(FunctionCallInfo fcinfo)
{
	struct varlena *a = PG_GETARG_VARLENA_PP(0);
	struct varlena *b = PG_GETARG_VARLENA_PP(1);

	return VARSIZE_ANY_EXHDR(a) == VARSIZE_ANY_EXHDR(b) &&
		memcmp(VARDATA_ANY(a), VARDATA_ANY(b), VARSIZE_ANY_EXHDR(a)) == 0;
}

Datum
stratum_condition_eq(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(condition_bytes_equal(fcinfo));
}

Datum
stratum_condition_ne(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(!condition_bytes_equal(fcinfo));
}

/*
 * stratum_condition_fields
 *		The distinct field paths a condition reads, in order of first use.
 */
Datum
stratum_condition_fields(PG_FUNCTION_ARGS)
{
	ExprCompiled *prog = expr_condition_decode(PG_GETARG_DATUM(0));
	Datum	   *elems = palloc(sizeof(Datum) * (prog->nfields + 1));
	int			i;

	for (i = 0; i < prog->nfields; i++)
		elems[i] = PointerGetDatum(cstring_to_text_with_len(prog->fields[i].ptr, prog->fields[i].len));
	PG_RETURN_ARRAYTYPE_P(construct_array(elems, prog->nfields, TEXTOID, -1, false, TYPALIGN_INT));
}

/*
 * stratum_condition_check
 *		Check a condition against a context (unknown fields are errors) and
 *		return it with unqualified names qualified.
 */
Datum
stratum_condition_check(PG_FUNCTION_ARGS)
{
	ExprCompiled *prog = expr_condition_decode(PG_GETARG_DATUM(0));
	char	   *context = text_to_cstring(PG_GETARG_TEXT_PP(1));

	return expr_condition_datum(expr_condition_resolve(prog, context));
}

/*
 * stratum_condition_compile
 *		Text + context -> checked condition.
 */
Datum
stratum_condition_compile(PG_FUNCTION_ARGS)
{
	char	   *src = text_to_cstring(PG_GETARG_TEXT_PP(0));
	char	   *context = text_to_cstring(PG_GETARG_TEXT_PP(1));

	return expr_condition_datum(expr_condition_from_text(src, context));
}

/*
 * stratum_condition_context_fields
 *		The registry of one context: (field, type) rows.
 */
Datum
stratum_condition_context_fields(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	const ExprContextDef *ctx = find_context_or_error(text_to_cstring(PG_GETARG_TEXT_PP(0)));
	int			i;

	InitMaterializedSRF(fcinfo, 0);
	for (i = 0; i < ctx->nfields; i++)
	{
		Datum		values[2];
		bool		nulls[2] = {false, false};

		values[0] = CStringGetTextDatum(ctx->fields[i].name);
		values[1] = CStringGetTextDatum(expr_field_type_name(ctx->fields[i].type));
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
