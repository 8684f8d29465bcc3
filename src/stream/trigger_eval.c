/*-------------------------------------------------------------------------
 *
 * trigger_eval.c
 *		Evaluating a trigger's condition against one event: the compiled
 *		condition is bound once (one slot per field), and per event each slot
 *		is read from the document {"event": {...}, "profile": {...}} by its
 *		path segments, with no allocation.  The stream worker and
 *		stratum_stream_trigger_test (through stream_explain) use the same
 *		code, so a test says what the worker would do.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "nodes/pg_list.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"

#include "stream/stream.h"

PG_FUNCTION_INFO_V1(stratum_stream_explain);

/*
 * stream_cond_prepare
 *		Bind a compiled condition (context "event") to slots and split its
 *		field paths; everything lives in CurrentMemoryContext.  A condition
 *		reading local times (hour_of_day(), day_of_week()) reads them in the
 *		tenant's time zone.
 */
StreamCond *
stream_cond_prepare(const ExprCompiled *compiled, const char *tenant)
{
	StreamCond *sc = palloc0(sizeof(StreamCond));
	const ExprContextDef *ctx = expr_find_context("event");
	ExprArena	arena = {NULL};
	int		   *map;
	int			i;

	sc->compiled = (ExprCompiled *) compiled;
	sc->nfields = compiled->nfields;
	map = palloc(sizeof(int) * (sc->nfields + 1));
	for (i = 0; i < sc->nfields; i++)
		map[i] = i;
	sc->prog = expr_program_bind(compiled, map, sc->nfields, &arena);
	if (expr_program_uses_zone(sc->prog))
	{
		expr_zone_tenant(&sc->zone_buf, tenant);
		sc->zone = &sc->zone_buf;
	}
	sc->slots = palloc0(sizeof(ExprValue) * (sc->nfields + 1));
	sc->nsegs = palloc(sizeof(int) * (sc->nfields + 1));
	sc->segs = palloc(sizeof(ExprStr *) * (sc->nfields + 1));
	sc->types = palloc(sizeof(ExprFieldType) * (sc->nfields + 1));
	for (i = 0; i < sc->nfields; i++)
	{
		const ExprStr *f = &compiled->fields[i];
		const ExprFieldDef *def = ctx ? expr_lookup_field(ctx, f->ptr, f->len) : NULL;
		int			n = expr_path_split(f->ptr, f->len, NULL, 0, &arena);

		if (n < 1)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("invalid field path \"%.*s\" in a stored condition", f->len, f->ptr)));
		sc->segs[i] = palloc(sizeof(ExprStr) * n);
		sc->nsegs[i] = expr_path_split(f->ptr, f->len, sc->segs[i], n, &arena);
		sc->types[i] = def ? def->type : EXPR_FT_ANY;
	}
	return sc;
}

/*
 * stream_doc_lookup
 *		The jsonb value at a path of segments, or NULL when a key is missing
 *		or a step is not an object.
 */
JsonbValue *
stream_doc_lookup(Jsonb *doc, const ExprStr *segs, int nsegs, JsonbValue *buf)
{
	JsonbContainer *container = &doc->root;
	JsonbValue *found = NULL;
	int			s;

	for (s = 0; s < nsegs; s++)
	{
		if (!JsonContainerIsObject(container))
			return NULL;
		found = getKeyJsonValueFromContainer(container, segs[s].ptr, segs[s].len, buf);
		if (found == NULL)
			return NULL;
		if (s + 1 < nsegs)
		{
			if (found->type != jbvBinary)
				return NULL;
			container = found->val.binary.data;
		}
	}
	return found;
}

/*
 * fill_slot
 *		The ExprValue for a found jsonb value: numbers, strings (timestamps
 *		for timestamp-typed fields), booleans; anything else is NULL.
 */
static void
fill_slot(ExprValue *v, const JsonbValue *jv, ExprFieldType type)
{
	switch (jv->type)
	{
		case jbvNumeric:
			{
				double		d = DatumGetFloat8(DirectFunctionCall1(numeric_float8_no_overflow,
																   NumericGetDatum(jv->val.numeric)));

				if (isnan(d) || isinf(d))
					expr_value_null(v);
				else
					expr_value_number(v, d);
				break;
			}
		case jbvString:
			{
				ExprTimestamp ts;

				if (type == EXPR_FT_TIMESTAMP &&
					expr_parse_timestamp(jv->val.string.val, jv->val.string.len, false, &ts))
					expr_value_timestamp(v, ts);
				else
					expr_value_text(v, jv->val.string.val, jv->val.string.len);
				break;
			}
		case jbvBool:
			expr_value_bool(v, jv->val.boolean);
			break;
		default:
			expr_value_null(v);
			break;
	}
}

/*
 * stream_cond_fill
 *		Read every slot of a condition from the document.
 */
static void
stream_cond_fill(StreamCond *sc, Jsonb *doc)
{
	int			i;

	for (i = 0; i < sc->nfields; i++)
	{
		JsonbValue	buf;
		JsonbValue *jv = stream_doc_lookup(doc, sc->segs[i], sc->nsegs[i], &buf);

		if (jv)
			fill_slot(&sc->slots[i], jv, sc->types[i]);
		else
			expr_value_null(&sc->slots[i]);
	}
}

/*
 * stream_cond_eval
 *		Whether the condition is TRUE for the document (missing values never
 *		match, as everywhere in the condition language).
 */
bool
stream_cond_eval(StreamCond *sc, Jsonb *doc)
{
	stream_cond_fill(sc, doc);
	return expr_eval(sc->prog, sc->slots, sc->zone);
}

/*
 * value_to_jsonb_text
 *		A slot value as a JSON text, for explanations.
 */
static void
append_value_json(StringInfo out, const ExprValue *v)
{
	char		buf[64];

	switch (v->kind)
	{
		case EXPR_NUMBER:
			expr_format_number(v->u.num, buf, sizeof(buf));
			appendStringInfoString(out, buf);
			break;
		case EXPR_TEXT:
			{
				char	   *s = pnstrdup(v->u.str, v->len);

				escape_json(out, s);
				break;
			}
		case EXPR_BOOL:
			appendStringInfoString(out, v->u.b ? "true" : "false");
			break;
		case EXPR_TIMESTAMP:
			expr_format_timestamp(v->u.ts, false, buf, sizeof(buf));
			escape_json(out, buf);
			break;
		default:
			appendStringInfoString(out, "null");
			break;
	}
}

/*
 * collect_clauses
 *		The operands of the top-level AND (or OR) chain of a syntax tree.
 */
static void
collect_clauses(ExprNode *node, int op, List **out)
{
	if (node->op == op)
	{
		int			i;

		for (i = 0; i < node->nargs; i++)
			collect_clauses(node->args[i], op, out);
	}
	else
		*out = lappend(*out, node);
}

/*
 * stratum_stream_explain
 *		SQL: {"result": bool, "values": {field: value seen},
 *		"clauses": [{"clause": text, "result": bool}]} for a condition and a
 *		document.  Clauses are the operands of the top-level AND (or OR).
 */
Datum
stratum_stream_explain(PG_FUNCTION_ARGS)
{
	ExprCompiled *compiled;
	StreamCond *sc;
	Jsonb	   *doc;
	StringInfoData out;
	bool		result;
	ExprArena	arena = {NULL};
	ExprError	err;
	ExprNode   *tree;
	const char *tenant;
	List	   *clauses = NIL;
	ListCell   *lc;
	int			i;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		PG_RETURN_NULL();
	compiled = expr_condition_decode(PG_GETARG_DATUM(0));
	doc = PG_GETARG_JSONB_P(1);
	tenant = PG_NARGS() > 2 && !PG_ARGISNULL(2) ? text_to_cstring(PG_GETARG_TEXT_PP(2))
		: GetConfigOption("stratum.tenant", true, false);
	sc = stream_cond_prepare(compiled, tenant);
	result = stream_cond_eval(sc, doc);

	initStringInfo(&out);
	appendStringInfo(&out, "{\"result\": %s, \"values\": {", result ? "true" : "false");
	for (i = 0; i < sc->nfields; i++)
	{
		char	   *name = pnstrdup(compiled->fields[i].ptr, compiled->fields[i].len);

		if (i > 0)
			appendStringInfoString(&out, ", ");
		escape_json(&out, name);
		appendStringInfoString(&out, ": ");
		append_value_json(&out, &sc->slots[i]);
	}
	appendStringInfoString(&out, "}, \"clauses\": [");

	memset(&err, 0, sizeof(err));
	tree = expr_decompile(compiled, &arena, &err);
	if (tree == NULL)
		expr_report_error(&err);
	if (tree->op == OP_AND || tree->op == OP_OR)
		collect_clauses(tree, tree->op, &clauses);
	else
		clauses = list_make1(tree);
	i = 0;
	foreach(lc, clauses)
	{
		char	   *text = expr_print((ExprNode *) lfirst(lc), &arena);
		ExprCompiled *sub = expr_condition_from_text(text, "event");
		StreamCond *ssc = stream_cond_prepare(sub, tenant);

		if (i++ > 0)
			appendStringInfoString(&out, ", ");
		appendStringInfoString(&out, "{\"clause\": ");
		escape_json(&out, text);
		appendStringInfo(&out, ", \"result\": %s}", stream_cond_eval(ssc, doc) ? "true" : "false");
	}
	appendStringInfoString(&out, "]}");
	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(out.data)));
}
