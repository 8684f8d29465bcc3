/*-------------------------------------------------------------------------
 *
 * expr_parse.h
 *		State shared by the condition grammar (expr_gram.y) and scanner
 *		(expr_scan.l).  Internal to the parser.
 *
 *-------------------------------------------------------------------------
 */
#ifndef EXPR_PARSE_H
#define EXPR_PARSE_H

#include "expr/expr_core.h"

/* A list of nodes being built by the grammar (IN lists, arguments). */
typedef struct ExprNodeList
{
	int			n;
	int			cap;
	ExprNode  **items;
} ExprNodeList;

/* Everything one parse needs; the scanner's "extra" data. */
typedef struct ExprParseState
{
	ExprArena  *arena;
	ExprError  *err;
	const char *src;
	size_t		srclen;
	int			pos;			/* byte offset of the scanner */
	int			tok_start;		/* offset of the last token returned */
	int			tok_len;
	ExprNode   *result;
} ExprParseState;

typedef void *yyscan_t;

extern ExprNodeList *expr_list_append(ExprParseState *ps, ExprNodeList *list, ExprNode *node);
extern void expr_parse_error_at(ExprParseState *ps, int start, int len, const char *expected);
extern int	expr_scan_run(ExprParseState *ps);
extern void expr_caret_detail(ExprParseState *ps, int start, const char *expected);

#endif							/* EXPR_PARSE_H */
