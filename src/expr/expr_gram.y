%code top {
/*-------------------------------------------------------------------------
 *
 * expr_gram.y
 *		Bison grammar of the condition language (pure parser).
 *
 * The grammar builds a syntax tree (ExprNode) in the parse state's arena.
 * Errors never longjmp: they are recorded in the parse state's ExprError
 * and the parser aborts, so the same code runs inside the server and in
 * the standalone fuzzing harness.
 *
 * Precedence, lowest first: OR; AND; NOT; IS; comparisons (non-associative);
 * IN, BETWEEN; + -; * / of; unary minus.
 *
 *-------------------------------------------------------------------------
 */
#include "expr/expr_core.h"
}

%code requires {
#include "expr/expr_parse.h"
}

%code {
#include <stdio.h>
#include <strings.h>

extern int	expr_yylex(YYSTYPE *lvalp, yyscan_t scanner);

static ExprNode *make_const_num(ExprParseState *ps, double value, double written, int style, int kind);
static ExprNode *make_node(ExprParseState *ps, int op, int aux, int nargs, ExprNode *a, ExprNode *b, ExprNode *c);
static ExprNode *make_list_node(ExprParseState *ps, int op, int aux, ExprNode *first, ExprNodeList *list);

static void expr_yyerror(yyscan_t scanner, ExprParseState *ps, const char *msg);

#define CHECK(n)	do { if ((n) == NULL) YYABORT; } while (0)
}

%define api.pure full
%define api.prefix {expr_yy}
%define parse.error custom
%define parse.lac full
%lex-param {yyscan_t scanner}
%parse-param {yyscan_t scanner} {ExprParseState *ps}

%union
{
	ExprNode   *node;
	ExprNodeList *list;
	struct
	{
		const char *ptr;
		int			len;
		int			pos;
		bool		plain;
	}			tok;
	struct
	{
		double		written;
		double		value;
		int			style;
		int			pos;
	}			num;
}

%token <tok> FIELD "field name" STRING "string"
%token <num> NUMBER "number" INTERVAL "interval"
%token AND "AND" OR "OR" NOT "NOT" IN "IN" BETWEEN "BETWEEN" IS "IS"
%token NULL_P "NULL" TRUE_P "TRUE" FALSE_P "FALSE" OF "of"
%token EQ "=" NE "<>" LT "<" LE "<=" GT ">" GE ">="
%token INVALID "invalid character" BADNUMBER "number out of range"
%token UNTERMINATED_STRING "unterminated string" UNTERMINATED_IDENT "unterminated quoted name"

%type <node> a_expr b_expr primary literal
%type <list> expr_list opt_args

%left OR
%left AND
%right NOT
%precedence IS
%nonassoc EQ NE LT LE GT GE
%precedence BETWEEN IN
%left '+' '-'
%left '*' '/' OF
%precedence UMINUS

%%

condition:
	a_expr					{ ps->result = $1; }
	;

a_expr:
	a_expr OR a_expr		{ $$ = make_node(ps, OP_OR, 0, 2, $1, $3, NULL); CHECK($$); }
	| a_expr AND a_expr		{ $$ = make_node(ps, OP_AND, 0, 2, $1, $3, NULL); CHECK($$); }
	| NOT a_expr			{ $$ = make_node(ps, OP_NOT, 0, 1, $2, NULL, NULL); CHECK($$); }
	| a_expr EQ a_expr		{ $$ = make_node(ps, OP_EQ, 0, 2, $1, $3, NULL); CHECK($$); }
	| a_expr NE a_expr		{ $$ = make_node(ps, OP_NE, 0, 2, $1, $3, NULL); CHECK($$); }
	| a_expr LT a_expr		{ $$ = make_node(ps, OP_LT, 0, 2, $1, $3, NULL); CHECK($$); }
	| a_expr LE a_expr		{ $$ = make_node(ps, OP_LE, 0, 2, $1, $3, NULL); CHECK($$); }
	| a_expr GT a_expr		{ $$ = make_node(ps, OP_GT, 0, 2, $1, $3, NULL); CHECK($$); }
	| a_expr GE a_expr		{ $$ = make_node(ps, OP_GE, 0, 2, $1, $3, NULL); CHECK($$); }
	| a_expr IS NULL_P		{ $$ = make_node(ps, OP_ISNULL, 0, 1, $1, NULL, NULL); CHECK($$); }
	| a_expr IS NOT NULL_P	{ $$ = make_node(ps, OP_ISNULL, 1, 1, $1, NULL, NULL); CHECK($$); }
	| a_expr IN '(' expr_list ')'
							{ $$ = make_list_node(ps, OP_IN, 0, $1, $4); CHECK($$); }
	| a_expr NOT IN '(' expr_list ')'
							{ $$ = make_list_node(ps, OP_IN, 1, $1, $5); CHECK($$); }
	| a_expr BETWEEN b_expr AND b_expr %prec BETWEEN
							{ $$ = make_node(ps, OP_BETWEEN, 0, 3, $1, $3, $5); CHECK($$); }
	| a_expr NOT BETWEEN b_expr AND b_expr %prec BETWEEN
							{ $$ = make_node(ps, OP_BETWEEN, 1, 3, $1, $4, $6); CHECK($$); }
	| a_expr '+' a_expr		{ $$ = make_node(ps, OP_ADD, 0, 2, $1, $3, NULL); CHECK($$); }
	| a_expr '-' a_expr		{ $$ = make_node(ps, OP_SUB, 0, 2, $1, $3, NULL); CHECK($$); }
	| a_expr '*' a_expr		{ $$ = make_node(ps, OP_MUL, 0, 2, $1, $3, NULL); CHECK($$); }
	| a_expr OF a_expr		{ $$ = make_node(ps, OP_MUL, 1, 2, $1, $3, NULL); CHECK($$); }
	| a_expr '/' a_expr		{ $$ = make_node(ps, OP_DIV, 0, 2, $1, $3, NULL); CHECK($$); }
	| '-' a_expr %prec UMINUS
							{ $$ = make_node(ps, OP_NEG, 0, 1, $2, NULL, NULL); CHECK($$); }
	| primary				{ $$ = $1; }
	;

/* Operands of BETWEEN: arithmetic only, so that its AND is unambiguous. */
b_expr:
	b_expr '+' b_expr		{ $$ = make_node(ps, OP_ADD, 0, 2, $1, $3, NULL); CHECK($$); }
	| b_expr '-' b_expr		{ $$ = make_node(ps, OP_SUB, 0, 2, $1, $3, NULL); CHECK($$); }
	| b_expr '*' b_expr		{ $$ = make_node(ps, OP_MUL, 0, 2, $1, $3, NULL); CHECK($$); }
	| b_expr OF b_expr		{ $$ = make_node(ps, OP_MUL, 1, 2, $1, $3, NULL); CHECK($$); }
	| b_expr '/' b_expr		{ $$ = make_node(ps, OP_DIV, 0, 2, $1, $3, NULL); CHECK($$); }
	| '-' b_expr %prec UMINUS
							{ $$ = make_node(ps, OP_NEG, 0, 1, $2, NULL, NULL); CHECK($$); }
	| primary				{ $$ = $1; }
	;

primary:
	literal					{ $$ = $1; }
	| FIELD
		{
			$$ = make_node(ps, OP_FIELD, 0, 0, NULL, NULL, NULL);
			CHECK($$);
			$$->path.ptr = $1.ptr;
			$$->path.len = $1.len;
		}
	| FIELD '(' opt_args ')'
		{
			int			fn = $1.plain ? expr_lookup_function($1.ptr, $1.len) : -1;

			if (fn < 0)
			{
				expr_set_error(ps->err, EXPR_ERR_INVALID, $1.pos + 1,
							   "function \"%.*s\" does not exist", $1.len, $1.ptr);
				snprintf(ps->err->hint, sizeof(ps->err->hint),
						 "Conditions can call now, days_since, hours_since, hour_of_day, day_of_week, lower, upper, length, coalesce, abs, round, least and greatest.");
				YYABORT;
			}
			if ($3->n < expr_functions[fn].minargs ||
				(expr_functions[fn].maxargs >= 0 && $3->n > expr_functions[fn].maxargs))
			{
				expr_set_error(ps->err, EXPR_ERR_INVALID, $1.pos + 1,
							   "function %s takes %s%d argument%s, not %d",
							   expr_functions[fn].name,
							   expr_functions[fn].maxargs < 0 ? "at least " :
							   (expr_functions[fn].minargs != expr_functions[fn].maxargs ? "at most " : ""),
							   expr_functions[fn].maxargs < 0 ? expr_functions[fn].minargs : expr_functions[fn].maxargs,
							   (expr_functions[fn].maxargs < 0 ? expr_functions[fn].minargs : expr_functions[fn].maxargs) == 1 ? "" : "s",
							   $3->n);
				YYABORT;
			}
			$$ = make_list_node(ps, OP_CALL, fn, NULL, $3);
			CHECK($$);
		}
	| FIELD STRING
		{
			/* typed literal: date '2024-01-01', timestamp '2024-01-01 10:00Z' */
			bool		is_date = $1.plain && $1.len == 4 && strncasecmp($1.ptr, "date", 4) == 0;
			bool		is_ts = $1.plain && $1.len == 9 && strncasecmp($1.ptr, "timestamp", 9) == 0;
			ExprTimestamp ts;

			if (!is_date && !is_ts)
			{
				expr_parse_error_at(ps, $2.pos, 0, "an operator, AND, OR or the end of the condition");
				YYABORT;
			}
			if (!expr_parse_timestamp($2.ptr, $2.len, is_date, &ts))
			{
				expr_set_error(ps->err, EXPR_ERR_SYNTAX, $2.pos + 1,
							   "invalid %s literal: \"%.*s\"", is_date ? "date" : "timestamp",
							   $2.len > 100 ? 100 : $2.len, $2.ptr);
				snprintf(ps->err->hint, sizeof(ps->err->hint), "%s",
						 is_date ? "Write dates as 'YYYY-MM-DD' (years 1 to 9999)." :
						 "Write timestamps as 'YYYY-MM-DD HH:MM[:SS[.ffffff]]' with an optional Z or +HH[:MM] offset (years 1 to 9999).");
				YYABORT;
			}
			$$ = make_node(ps, OP_CONST, 0, 0, NULL, NULL, NULL);
			CHECK($$);
			$$->cval.kind = EXPR_TIMESTAMP;
			$$->cval.style = is_date ? EXPR_STYLE_DATE : EXPR_STYLE_TIMESTAMP;
			$$->cval.value.kind = EXPR_TIMESTAMP;
			$$->cval.value.u.ts = ts;
		}
	| '(' a_expr ')'		{ $$ = $2; }
	;

opt_args:
	%empty					{ $$ = expr_list_append(ps, NULL, NULL); }
	| expr_list				{ $$ = $1; }
	;

expr_list:
	a_expr					{ $$ = expr_list_append(ps, NULL, $1); }
	| expr_list ',' a_expr	{ $$ = expr_list_append(ps, $1, $3); }
	;

literal:
	NUMBER					{ $$ = make_const_num(ps, $1.value, $1.written, $1.style, EXPR_NUMBER); CHECK($$); }
	| INTERVAL				{ $$ = make_const_num(ps, $1.value, $1.written, $1.style, EXPR_INTERVAL); CHECK($$); }
	| STRING
		{
			$$ = make_node(ps, OP_CONST, 0, 0, NULL, NULL, NULL);
			CHECK($$);
			$$->cval.kind = EXPR_TEXT;
			$$->cval.value.kind = EXPR_TEXT;
			$$->cval.value.u.str = $1.ptr;
			$$->cval.value.len = $1.len;
		}
	| TRUE_P				{ $$ = make_node(ps, OP_CONST, 0, 0, NULL, NULL, NULL); CHECK($$);
							  $$->cval.kind = EXPR_BOOL; $$->cval.value.kind = EXPR_BOOL; $$->cval.value.u.b = true; }
	| FALSE_P				{ $$ = make_node(ps, OP_CONST, 0, 0, NULL, NULL, NULL); CHECK($$);
							  $$->cval.kind = EXPR_BOOL; $$->cval.value.kind = EXPR_BOOL; $$->cval.value.u.b = false; }
	| NULL_P				{ $$ = make_node(ps, OP_CONST, 0, 0, NULL, NULL, NULL); CHECK($$);
							  $$->cval.kind = EXPR_NULL; $$->cval.value.kind = EXPR_NULL; }
	;

%%

/*
 * make_node
 *		Build a node with up to three children (depth-checked).
 */
static ExprNode *
make_node(ExprParseState *ps, int op, int aux, int nargs, ExprNode *a, ExprNode *b, ExprNode *c)
{
	ExprNode   *args[3] = {a, b, c};

	return expr_node_make(ps->arena, op, aux, nargs, args, ps->err);
}

/*
 * make_list_node
 *		Build an IN node (subject first, then the list) or a call node.
 */
static ExprNode *
make_list_node(ExprParseState *ps, int op, int aux, ExprNode *first, ExprNodeList *list)
{
	int			n = list->n + (first ? 1 : 0);
	ExprNode  **args = expr_arena_alloc(ps->arena, sizeof(ExprNode *) * (n + 1));
	int			i = 0;

	if (first)
		args[i++] = first;
	memcpy(args + i, list->items, sizeof(ExprNode *) * list->n);
	return expr_node_make(ps->arena, op, aux, n, args, ps->err);
}

/*
 * make_const_num
 *		A number or interval literal node.
 */
static ExprNode *
make_const_num(ExprParseState *ps, double value, double written, int style, int kind)
{
	ExprNode   *n = make_node(ps, OP_CONST, 0, 0, NULL, NULL, NULL);

	if (n == NULL)
		return NULL;
	n->cval.kind = kind;
	n->cval.style = style;
	n->cval.written = written;
	n->cval.value.kind = kind;
	if (kind == EXPR_INTERVAL)
		n->cval.value.u.ts = (int64_t) value;
	else
		n->cval.value.u.num = value;
	return n;
}

/*
 * expr_yyerror
 *		Bison's other error hook: only "memory exhausted" (the parser stack
 *		limit) reaches it with parse.error custom.
 */
static void
expr_yyerror(yyscan_t scanner, ExprParseState *ps, const char *msg)
{
	expr_set_error(ps->err, EXPR_ERR_LIMIT, 0, "condition is too complex to parse (%s)", msg);
}

/*
 * yyreport_syntax_error
 *		Bison's hook for syntax errors: say where, what was found and what
 *		would have been accepted there.
 */
static int
yyreport_syntax_error(const yypcontext_t *ctx, yyscan_t scanner, ExprParseState *ps)
{
	yysymbol_kind_t expected[12];
	int			nexp = yypcontext_expected_tokens(ctx, expected, 12);
	yysymbol_kind_t got = yypcontext_token(ctx);
	char		exp[400];
	size_t		elen = 0;
	bool		want_value = false;
	int			i;

	exp[0] = '\0';
	switch (got)
	{
		case YYSYMBOL_INVALID:
			expr_set_error(ps->err, EXPR_ERR_SYNTAX, ps->tok_start + 1,
						   "invalid character \"%.*s\" in condition", ps->tok_len, ps->src + ps->tok_start);
			expr_caret_detail(ps, ps->tok_start, NULL);
			return 0;
		case YYSYMBOL_BADNUMBER:
			expr_set_error(ps->err, EXPR_ERR_SYNTAX, ps->tok_start + 1,
						   "number out of range: \"%.*s\"", ps->tok_len > 60 ? 60 : ps->tok_len, ps->src + ps->tok_start);
			expr_caret_detail(ps, ps->tok_start, NULL);
			return 0;
		case YYSYMBOL_UNTERMINATED_STRING:
			expr_set_error(ps->err, EXPR_ERR_SYNTAX, ps->tok_start + 1, "unterminated quoted string in condition");
			expr_caret_detail(ps, ps->tok_start, "a closing ' (write '' for a quote inside a string)");
			return 0;
		case YYSYMBOL_UNTERMINATED_IDENT:
			expr_set_error(ps->err, EXPR_ERR_SYNTAX, ps->tok_start + 1, "unterminated quoted field name in condition");
			expr_caret_detail(ps, ps->tok_start, "a closing \"");
			return 0;
		default:
			break;
	}

	/* Summarise the expected tokens: "a value" stands for all operand starters. */
	for (i = 0; i < nexp; i++)
		if (expected[i] == YYSYMBOL_FIELD || expected[i] == YYSYMBOL_NUMBER)
			want_value = true;
	if (want_value)
		elen += snprintf(exp + elen, sizeof(exp) - elen, "a value (field, number, string, function call or \"(\")");
	for (i = 0; i < nexp && elen < sizeof(exp) - 40; i++)
	{
		yysymbol_kind_t k = expected[i];
		const char *name;
		char		quoted[16];

		if (want_value && (k == YYSYMBOL_FIELD || k == YYSYMBOL_NUMBER || k == YYSYMBOL_STRING ||
						   k == YYSYMBOL_INTERVAL || k == YYSYMBOL_TRUE_P || k == YYSYMBOL_FALSE_P ||
						   k == YYSYMBOL_NULL_P || strcmp(yysymbol_name(k), "'('") == 0 ||
						   strcmp(yysymbol_name(k), "'-'") == 0 || k == YYSYMBOL_NOT))
			continue;
		if (k == YYSYMBOL_YYEOF)
			name = "the end of the condition";
		else
		{
			name = yysymbol_name(k);
			if (name[0] == '\'' && strlen(name) == 3)
			{
				snprintf(quoted, sizeof(quoted), "\"%c\"", name[1]);
				name = quoted;
			}
		}
		elen += snprintf(exp + elen, sizeof(exp) - elen, "%s%s", elen > 0 ? ", " : "", name);
	}
	if (nexp == 0)
		snprintf(exp, sizeof(exp), "something else");
	expr_parse_error_at(ps, ps->tok_start, ps->tok_len, exp);
	return 0;
}

/*
 * expr_parse
 *		Parse a condition into a syntax tree; NULL with *err set on failure.
 */
ExprNode *
expr_parse(const char *src, size_t len, ExprArena *arena, ExprError *err)
{
	ExprParseState ps;
	const char *nul;

	memset(&ps, 0, sizeof(ps));
	ps.arena = arena;
	ps.err = err;
	ps.src = src;
	ps.srclen = len;

	if (len > 1024 * 1024)
	{
		expr_set_error(err, EXPR_ERR_LIMIT, 0, "condition is too long (%zu bytes; the limit is 1 MB)", len);
		return NULL;
	}
	nul = memchr(src, '\0', len);
	if (nul != NULL)
	{
		expr_set_error(err, EXPR_ERR_SYNTAX, (int) (nul - src) + 1, "invalid character NUL in condition");
		return NULL;
	}
	if (expr_scan_run(&ps) != 0 || ps.result == NULL)
	{
		if (err->kind == EXPR_OK)
			expr_set_error(err, EXPR_ERR_LIMIT, 0, "condition is too complex to parse");
		return NULL;
	}
	return ps.result;
}
