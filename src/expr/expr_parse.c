/*-------------------------------------------------------------------------
 *
 * expr_parse.c
 *		Support for the condition grammar: node construction with the
 *		nesting limit, lists, the function allow-list, interval units and
 *		syntax error messages with a caret under the offending token.
 *
 *-------------------------------------------------------------------------
 */
#include "expr/expr_core.h"

#include <stdio.h>
#include <strings.h>

#include "expr/expr_parse.h"

/* The allow-list of functions: name, minimum and maximum argument count. */
const ExprFuncInfo expr_functions[FN_COUNT_] = {
	[FN_NOW] = {"now", 0, 0},
	[FN_DAYS_SINCE] = {"days_since", 1, 1},
	[FN_HOURS_SINCE] = {"hours_since", 1, 1},
	[FN_HOUR_OF_DAY] = {"hour_of_day", 0, 1},
	[FN_DAY_OF_WEEK] = {"day_of_week", 0, 1},
	[FN_LOWER] = {"lower", 1, 1},
	[FN_UPPER] = {"upper", 1, 1},
	[FN_LENGTH] = {"length", 1, 1},
	[FN_COALESCE] = {"coalesce", 1, -1},
	[FN_ABS] = {"abs", 1, 1},
	[FN_ROUND] = {"round", 1, 1},
	[FN_LEAST] = {"least", 1, -1},
	[FN_GREATEST] = {"greatest", 1, -1},
};

/* Interval units (singular; a trailing "s" is accepted too). */
const char *expr_unit_names[EXPR_UNIT_COUNT_] = {"second", "minute", "hour", "day", "week"};
const int64_t expr_unit_usecs[EXPR_UNIT_COUNT_] = {
	INT64_C(1000000), INT64_C(60000000), INT64_C(3600000000),
	INT64_C(86400000000), INT64_C(604800000000)
};

/*
 * expr_lookup_function
 *		Index of an allowed function by name (any case), or -1.
 */
int
expr_lookup_function(const char *name, size_t len)
{
	int			i;

	for (i = 0; i < FN_COUNT_; i++)
		if (strlen(expr_functions[i].name) == len && strncasecmp(name, expr_functions[i].name, len) == 0)
			return i;
	return -1;
}

/*
 * expr_is_keyword
 *		Whether s is a reserved word (so a field of that name needs quotes).
 */
bool
expr_is_keyword(const char *s, size_t len)
{
	static const char *const words[] = {
		"and", "or", "not", "in", "between", "is", "null", "true", "false", "of"
	};
	size_t		i;

	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strlen(words[i]) == len && strncasecmp(s, words[i], len) == 0)
			return true;
	return false;
}

/*
 * expr_node_make
 *		Allocate a node with the given children; fails (NULL, *err set)
 *		when the tree would be nested deeper than EXPR_MAX_DEPTH.
 */
ExprNode *
expr_node_make(ExprArena *arena, int op, int aux, int nargs, ExprNode **args, ExprError *err)
{
	ExprNode   *n = expr_arena_alloc(arena, sizeof(ExprNode));
	int			depth = 0;
	int			i;

	n->op = op;
	n->aux = aux;
	n->nargs = nargs;
	if (nargs > 0)
	{
		n->args = expr_arena_alloc(arena, sizeof(ExprNode *) * nargs);
		for (i = 0; i < nargs; i++)
		{
			n->args[i] = args[i];
			if (args[i]->depth > depth)
				depth = args[i]->depth;
		}
	}
	n->depth = depth + 1;
	if (n->depth > EXPR_MAX_DEPTH)
	{
		expr_set_error(err, EXPR_ERR_LIMIT, 0, "condition is nested too deeply");
		snprintf(err->detail, sizeof(err->detail), "The limit is %d levels of nested operators.", EXPR_MAX_DEPTH);
		return NULL;
	}
	return n;
}

/*
 * expr_list_append
 *		Append to a node list (a NULL node creates an empty list).
 */
ExprNodeList *
expr_list_append(ExprParseState *ps, ExprNodeList *list, ExprNode *node)
{
	if (list == NULL)
	{
		list = expr_arena_alloc(ps->arena, sizeof(ExprNodeList));
		list->cap = 4;
		list->items = expr_arena_alloc(ps->arena, sizeof(ExprNode *) * list->cap);
	}
	if (node == NULL)
		return list;
	if (list->n == list->cap)
	{
		ExprNode  **ni = expr_arena_alloc(ps->arena, sizeof(ExprNode *) * list->cap * 2);

		memcpy(ni, list->items, sizeof(ExprNode *) * list->n);
		list->items = ni;
		list->cap *= 2;
	}
	list->items[list->n++] = node;
	return list;
}

/*
 * expr_caret_detail
 *		Fill the error detail with "Expected ..." (if given) and the part of
 *		the condition around byte offset start with a caret under it.
 */
void
expr_caret_detail(ExprParseState *ps, int start, const char *expected)
{
	char	   *d = ps->err->detail;
	size_t		dsz = sizeof(ps->err->detail);
	size_t		n = 0;
	int			from = start > 50 ? start - 50 : 0;
	int			to = start + 30 < (int) ps->srclen ? start + 30 : (int) ps->srclen;
	int			i;

	if (expected)
		n += snprintf(d + n, dsz - n, "Expected %s at character %d.\n", expected, start + 1);
	else
		n += snprintf(d + n, dsz - n, "At character %d.\n", start + 1);
	if (n >= dsz - 1)
		return;
	if (from > 0)
		n += snprintf(d + n, dsz - n, "...");
	for (i = from; i < to && n < dsz - 100; i++)
	{
		char		c = ps->src[i];

		d[n++] = (c == '\n' || c == '\r' || c == '\t') ? ' ' : c;
	}
	if (to < (int) ps->srclen && n < dsz - 90)
		n += snprintf(d + n, dsz - n, "...");
	if (n < dsz - 85)
	{
		d[n++] = '\n';
		for (i = (from > 0 ? from - 3 : from); i < start && n < dsz - 2; i++)
			d[n++] = ' ';
		d[n++] = '^';
	}
	d[n] = '\0';
}

/*
 * expr_parse_error_at
 *		A syntax error at the token at byte offset start (len 0: the end of
 *		the input), in PostgreSQL's words, saying what was expected.
 */
void
expr_parse_error_at(ExprParseState *ps, int start, int len, const char *expected)
{
	if (start >= (int) ps->srclen)
		expr_set_error(ps->err, EXPR_ERR_SYNTAX, start + 1, "syntax error at end of input");
	else
	{
		if (len <= 0)
			len = 1;
		if (len > 60)
			len = 60;
		expr_set_error(ps->err, EXPR_ERR_SYNTAX, start + 1, "syntax error at or near \"%.*s\"", len, ps->src + start);
	}
	expr_caret_detail(ps, start, expected);
}
