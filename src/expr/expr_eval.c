/*-------------------------------------------------------------------------
 *
 * expr_eval.c
 *		Binding a compiled condition to value slots, and evaluating it.
 *
 * Semantics (SQL three-valued logic, final unknown -> no match):
 *	- a missing field is NULL; a comparison, IN or BETWEEN with a NULL or
 *	  with values of incomparable kinds is UNKNOWN;
 *	- AND, OR and NOT follow SQL (Kleene) logic: FALSE AND UNKNOWN is FALSE,
 *	  TRUE OR UNKNOWN is TRUE, NOT UNKNOWN is UNKNOWN;
 *	- the condition matches only if the result is TRUE, so neither
 *	  "x > 0" nor "NOT (x > 0)" matches when x is missing;
 *	- arithmetic with NULL, division by zero and overflow give NULL.
 * Evaluation never allocates and never fails.
 *
 *-------------------------------------------------------------------------
 */
#include "expr/expr_core.h"

#include <math.h>

#define TRI_FALSE	0
#define TRI_TRUE	1
#define TRI_UNKNOWN	(-1)

/*
 * fold_char
 *		A byte as seen through a pending lower()/upper() (ASCII only).
 */
static inline unsigned char
fold_char(unsigned char c, int fold)
{
	if (fold == EXPR_FOLD_LOWER && c >= 'A' && c <= 'Z')
		return c + ('a' - 'A');
	if (fold == EXPR_FOLD_UPPER && c >= 'a' && c <= 'z')
		return c - ('a' - 'A');
	return c;
}

/*
 * expr_value_compare_text
 *		Byte-wise comparison of two text values (after folding).
 */
int
expr_value_compare_text(const ExprValue *a, const ExprValue *b)
{
	int			n = a->len < b->len ? a->len : b->len;
	int			i;

	if (a->fold == EXPR_FOLD_NONE && b->fold == EXPR_FOLD_NONE)
	{
		int			r = memcmp(a->u.str, b->u.str, n);

		if (r != 0)
			return r < 0 ? -1 : 1;
	}
	else
	{
		for (i = 0; i < n; i++)
		{
			unsigned char ca = fold_char((unsigned char) a->u.str[i], a->fold);
			unsigned char cb = fold_char((unsigned char) b->u.str[i], b->fold);

			if (ca != cb)
				return ca < cb ? -1 : 1;
		}
	}
	return a->len < b->len ? -1 : (a->len > b->len ? 1 : 0);
}

/*
 * as_timestamp
 *		A timestamp, or text holding an ISO 8601 timestamp (as jsonb has).
 */
static inline bool
as_timestamp(const ExprValue *v, int64_t *out)
{
	if (v->kind == EXPR_TIMESTAMP)
	{
		*out = v->u.ts;
		return true;
	}
	if (v->kind == EXPR_TEXT)
		return expr_parse_timestamp(v->u.str, v->len, false, out);
	return false;
}

/*
 * compare_values
 *		Three-way comparison; false when the values are not comparable
 *		(a NULL, or kinds that do not go together).
 */
static inline bool
compare_values(const ExprValue *a, const ExprValue *b, int *cmp)
{
	if (a->kind == EXPR_NUMBER && b->kind == EXPR_NUMBER)
	{
		*cmp = a->u.num < b->u.num ? -1 : (a->u.num > b->u.num ? 1 : 0);
		return true;
	}
	if (a->kind == EXPR_NULL || b->kind == EXPR_NULL)
		return false;
	if (a->kind == EXPR_TEXT && b->kind == EXPR_TEXT)
	{
		*cmp = expr_value_compare_text(a, b);
		return true;
	}
	if (a->kind == EXPR_BOOL && b->kind == EXPR_BOOL)
	{
		*cmp = (int) a->u.b - (int) b->u.b;
		return true;
	}
	if ((a->kind == EXPR_TIMESTAMP && (b->kind == EXPR_TIMESTAMP || b->kind == EXPR_TEXT)) ||
		(a->kind == EXPR_TEXT && b->kind == EXPR_TIMESTAMP))
	{
		int64_t		ta,
					tb;

		if (!as_timestamp(a, &ta) || !as_timestamp(b, &tb))
			return false;
		*cmp = ta < tb ? -1 : (ta > tb ? 1 : 0);
		return true;
	}
	if (a->kind == EXPR_INTERVAL && b->kind == EXPR_INTERVAL)
	{
		*cmp = a->u.ts < b->u.ts ? -1 : (a->u.ts > b->u.ts ? 1 : 0);
		return true;
	}
	return false;
}

static inline void
set_tri(ExprValue *v, int t)
{
	if (t == TRI_UNKNOWN)
		v->kind = EXPR_NULL;
	else
	{
		v->kind = EXPR_BOOL;
		v->u.b = (t == TRI_TRUE);
	}
}

static inline int
get_tri(const ExprValue *v)
{
	return v->kind == EXPR_BOOL ? (v->u.b ? TRI_TRUE : TRI_FALSE) : TRI_UNKNOWN;
}

/*
 * do_compare
 *		out := a <op> b as TRUE/FALSE/UNKNOWN.
 */
static inline void
do_compare(int op, const ExprValue *a, const ExprValue *b, ExprValue *out)
{
	int			c;
	bool		r;

	if (!compare_values(a, b, &c))
	{
		out->kind = EXPR_NULL;
		return;
	}
	switch (op)
	{
		case OP_EQ:
			r = c == 0;
			break;
		case OP_NE:
			r = c != 0;
			break;
		case OP_LT:
			r = c < 0;
			break;
		case OP_LE:
			r = c <= 0;
			break;
		case OP_GT:
			r = c > 0;
			break;
		default:
			r = c >= 0;
			break;
	}
	out->kind = EXPR_BOOL;
	out->u.b = r;
}

static inline void
set_number(ExprValue *v, double d)
{
	if (isfinite(d))
	{
		v->kind = EXPR_NUMBER;
		v->u.num = d;
	}
	else
		v->kind = EXPR_NULL;
}

static inline void
set_time(ExprValue *v, int kind, double d)
{
	/* keep within +-290000 years so that later arithmetic cannot overflow */
	if (d > -9.0e18 && d < 9.0e18)
	{
		v->kind = kind;
		v->u.ts = (int64_t) d;
	}
	else
		v->kind = EXPR_NULL;
}

/*
 * do_arith
 *		out := a <op> b for numbers, timestamps and intervals; NULL for
 *		anything else, division by zero or overflow.
 */
static void
do_arith(int op, const ExprValue *a, const ExprValue *b, ExprValue *out)
{
	int			ka = a->kind;
	int			kb = b->kind;
	ExprValue	ta,
				tb;

	/* text holding a timestamp (as in jsonb) takes part in date arithmetic */
	if (ka == EXPR_TEXT && (kb == EXPR_TIMESTAMP || kb == EXPR_INTERVAL))
	{
		if (!as_timestamp(a, &ta.u.ts))
		{
			out->kind = EXPR_NULL;
			return;
		}
		ta.kind = ka = EXPR_TIMESTAMP;
		a = &ta;
	}
	else if (kb == EXPR_TEXT && ka == EXPR_TIMESTAMP)
	{
		if (!as_timestamp(b, &tb.u.ts))
		{
			out->kind = EXPR_NULL;
			return;
		}
		tb.kind = kb = EXPR_TIMESTAMP;
		b = &tb;
	}

	if (ka == EXPR_NUMBER && kb == EXPR_NUMBER)
	{
		switch (op)
		{
			case OP_ADD:
				set_number(out, a->u.num + b->u.num);
				return;
			case OP_SUB:
				set_number(out, a->u.num - b->u.num);
				return;
			case OP_MUL:
				set_number(out, a->u.num * b->u.num);
				return;
			default:
				if (b->u.num == 0)
					out->kind = EXPR_NULL;
				else
					set_number(out, a->u.num / b->u.num);
				return;
		}
	}
	if (op == OP_ADD && ka == EXPR_TIMESTAMP && kb == EXPR_INTERVAL)
		set_time(out, EXPR_TIMESTAMP, (double) a->u.ts + (double) b->u.ts);
	else if (op == OP_ADD && ka == EXPR_INTERVAL && kb == EXPR_TIMESTAMP)
		set_time(out, EXPR_TIMESTAMP, (double) a->u.ts + (double) b->u.ts);
	else if (op == OP_SUB && ka == EXPR_TIMESTAMP && kb == EXPR_INTERVAL)
		set_time(out, EXPR_TIMESTAMP, (double) a->u.ts - (double) b->u.ts);
	else if (op == OP_SUB && ka == EXPR_TIMESTAMP && kb == EXPR_TIMESTAMP)
		set_time(out, EXPR_INTERVAL, (double) a->u.ts - (double) b->u.ts);
	else if ((op == OP_ADD || op == OP_SUB) && ka == EXPR_INTERVAL && kb == EXPR_INTERVAL)
		set_time(out, EXPR_INTERVAL, op == OP_ADD ? (double) a->u.ts + (double) b->u.ts : (double) a->u.ts - (double) b->u.ts);
	else if (op == OP_MUL && ka == EXPR_INTERVAL && kb == EXPR_NUMBER)
		set_time(out, EXPR_INTERVAL, (double) a->u.ts * b->u.num);
	else if (op == OP_MUL && ka == EXPR_NUMBER && kb == EXPR_INTERVAL)
		set_time(out, EXPR_INTERVAL, a->u.num * (double) b->u.ts);
	else if (op == OP_DIV && ka == EXPR_INTERVAL && kb == EXPR_NUMBER && b->u.num != 0)
		set_time(out, EXPR_INTERVAL, (double) a->u.ts / b->u.num);
	else
		out->kind = EXPR_NULL;
}

/* Floor division and modulo for possibly negative microsecond counts. */
static inline int64_t
floordiv(int64_t a, int64_t b)
{
	int64_t		q = a / b;

	return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

/*
 * do_call
 *		Allowed functions; args[0..n) are replaced by the result in args[0].
 */
static void
do_call(int fn, ExprValue *args, int n, ExprTimestamp now, const ExprZone *zone)
{
	ExprValue  *out = &args[0];
	int64_t		ts;
	int			i;

	switch (fn)
	{
		case FN_NOW:
			out->kind = EXPR_TIMESTAMP;
			out->u.ts = now;
			return;
		case FN_DAYS_SINCE:
		case FN_HOURS_SINCE:
			if (!as_timestamp(&args[0], &ts))
				out->kind = EXPR_NULL;
			else
				set_number(out, (double) floordiv(now - ts, fn == FN_DAYS_SINCE ? EXPR_USECS_PER_DAY :
												  INT64_C(3600000000)));
			return;
		case FN_HOUR_OF_DAY:
		case FN_DAY_OF_WEEK:
			if (n == 0)
				ts = now;
			else if (!as_timestamp(&args[0], &ts))
			{
				out->kind = EXPR_NULL;
				return;
			}
			if (zone)
				ts += zone->offset(zone, ts);
			if (fn == FN_HOUR_OF_DAY)
				set_number(out, (double) (floordiv(ts, INT64_C(3600000000)) -
										  floordiv(ts, EXPR_USECS_PER_DAY) * 24));
			else
			{
				/* 2000-01-01 was a Saturday (6); 0 = Sunday as in PostgreSQL */
				int64_t		days = floordiv(ts, EXPR_USECS_PER_DAY);

				set_number(out, (double) (((days + 6) % 7 + 7) % 7));
			}
			return;
		case FN_LOWER:
		case FN_UPPER:
			if (out->kind == EXPR_TEXT)
				out->fold = fn == FN_LOWER ? EXPR_FOLD_LOWER : EXPR_FOLD_UPPER;
			else
				out->kind = EXPR_NULL;
			return;
		case FN_LENGTH:
			if (out->kind == EXPR_TEXT)
			{
				int			chars = 0;

				for (i = 0; i < out->len; i++)
					if (((unsigned char) out->u.str[i] & 0xC0) != 0x80)
						chars++;
				set_number(out, chars);
			}
			else
				out->kind = EXPR_NULL;
			return;
		case FN_COALESCE:
			for (i = 0; i < n; i++)
				if (args[i].kind != EXPR_NULL)
				{
					*out = args[i];
					return;
				}
			out->kind = EXPR_NULL;
			return;
		case FN_ABS:
			if (out->kind == EXPR_NUMBER)
				out->u.num = fabs(out->u.num);
			else if (out->kind == EXPR_INTERVAL)
				out->u.ts = out->u.ts < 0 ? -out->u.ts : out->u.ts;
			else
				out->kind = EXPR_NULL;
			return;
		case FN_ROUND:
			if (out->kind == EXPR_NUMBER)
				out->u.num = round(out->u.num);
			else
				out->kind = EXPR_NULL;
			return;
		case FN_LEAST:
		case FN_GREATEST:
			{
				/* NULLs are ignored, as in PostgreSQL */
				ExprValue	best;

				best.kind = EXPR_NULL;
				for (i = 0; i < n; i++)
				{
					int			c;

					if (args[i].kind == EXPR_NULL)
						continue;
					if (best.kind == EXPR_NULL)
						best = args[i];
					else if (!compare_values(&args[i], &best, &c))
					{
						out->kind = EXPR_NULL;
						return;
					}
					else if ((fn == FN_LEAST && c < 0) || (fn == FN_GREATEST && c > 0))
						best = args[i];
				}
				*out = best;
				return;
			}
		default:
			out->kind = EXPR_NULL;
			return;
	}
}

/*
 * expr_program_uses_zone
 *		Whether the program reads a local time (hour_of_day, day_of_week), so
 *		callers look a time zone up only when it matters.
 */
bool
expr_program_uses_zone(const ExprProgram *prog)
{
	int			pc;

	for (pc = 0; pc < prog->ninstr; pc++)
		if (prog->code[pc].op == OP_CALL &&
			(prog->code[pc].aux == FN_HOUR_OF_DAY || prog->code[pc].aux == FN_DAY_OF_WEEK))
			return true;
	return false;
}

/*
 * expr_program_eval
 *		Run a bound program over slot values; true only if the condition is
 *		TRUE (UNKNOWN counts as no match).  hour_of_day() and day_of_week()
 *		read timestamps in the zone (NULL: UTC).
 */
bool
expr_program_eval(const ExprProgram *prog, const ExprValue *slots, ExprTimestamp now,
				  const ExprZone *zone)
{
	ExprValue	stack[EXPR_MAX_STACK];
	ExprValue  *sp = stack;		/* next free slot */
	const ExprInstr *code = prog->code;
	const ExprValue *consts = prog->consts;
	int			pc = 0;
	int			n = prog->ninstr;

	while (pc < n)
	{
		const ExprInstr *in = &code[pc++];

		switch (in->op)
		{
			case OP_CMP_FC:
				{
					const ExprValue *a = &slots[in->arg];
					const ExprValue *b = &consts[in->arg2];

					if (a->kind == EXPR_NUMBER && b->kind == EXPR_NUMBER)
					{
						double		x = a->u.num;
						double		y = b->u.num;
						bool		r;

						switch (in->aux2)
						{
							case OP_EQ:
								r = x == y;
								break;
							case OP_NE:
								r = x != y;
								break;
							case OP_LT:
								r = x < y;
								break;
							case OP_LE:
								r = x <= y;
								break;
							case OP_GT:
								r = x > y;
								break;
							default:
								r = x >= y;
								break;
						}
						sp->kind = EXPR_BOOL;
						sp->u.b = r;
					}
					else
						do_compare(in->aux2, a, b, sp);
					sp++;
					break;
				}
			case OP_JUMP_FALSE:
				if (sp[-1].kind == EXPR_BOOL && !sp[-1].u.b)
					pc = in->arg;
				break;
			case OP_JUMP_TRUE:
				if (sp[-1].kind == EXPR_BOOL && sp[-1].u.b)
					pc = in->arg;
				break;
			case OP_AND:
				{
					int			a = get_tri(&sp[-2]);
					int			b = get_tri(&sp[-1]);

					sp--;
					set_tri(&sp[-1], (a == TRI_FALSE || b == TRI_FALSE) ? TRI_FALSE :
							(a == TRI_TRUE && b == TRI_TRUE) ? TRI_TRUE : TRI_UNKNOWN);
					break;
				}
			case OP_OR:
				{
					int			a = get_tri(&sp[-2]);
					int			b = get_tri(&sp[-1]);

					sp--;
					set_tri(&sp[-1], (a == TRI_TRUE || b == TRI_TRUE) ? TRI_TRUE :
							(a == TRI_FALSE && b == TRI_FALSE) ? TRI_FALSE : TRI_UNKNOWN);
					break;
				}
			case OP_CONST:
				*sp++ = consts[in->arg];
				break;
			case OP_FIELD:
				*sp++ = slots[in->arg];
				break;
			case OP_EQ:
			case OP_NE:
			case OP_LT:
			case OP_LE:
			case OP_GT:
			case OP_GE:
				sp--;
				do_compare(in->op, &sp[-1], &sp[0], &sp[-1]);
				break;
			case OP_NOT:
				{
					int			a = get_tri(&sp[-1]);

					set_tri(&sp[-1], a == TRI_UNKNOWN ? TRI_UNKNOWN : !a);
					break;
				}
			case OP_ISNULL:
				{
					bool		isnull = sp[-1].kind == EXPR_NULL;

					sp[-1].kind = EXPR_BOOL;
					sp[-1].u.b = in->aux ? !isnull : isnull;
					break;
				}
			case OP_NEG:
				if (sp[-1].kind == EXPR_NUMBER)
					sp[-1].u.num = -sp[-1].u.num;
				else if (sp[-1].kind == EXPR_INTERVAL)
					sp[-1].u.ts = -sp[-1].u.ts;
				else
					sp[-1].kind = EXPR_NULL;
				break;
			case OP_ADD:
			case OP_SUB:
			case OP_MUL:
			case OP_DIV:
				sp--;
				do_arith(in->op, &sp[-1], &sp[0], &sp[-1]);
				break;
			case OP_IN:
				{
					ExprValue  *x = sp - in->arg - 1;
					int			result = TRI_FALSE;
					int			i;

					if (x->kind == EXPR_NULL)
						result = TRI_UNKNOWN;
					else
						for (i = 1; i <= in->arg; i++)
						{
							int			c;

							if (!compare_values(x, &x[i], &c))
								result = TRI_UNKNOWN;
							else if (c == 0)
							{
								result = TRI_TRUE;
								break;
							}
						}
					if (in->aux && result != TRI_UNKNOWN)
						result = !result;
					sp = x + 1;
					set_tri(x, result);
					break;
				}
			case OP_BETWEEN:
				{
					ExprValue  *x = sp - 3;
					int			c1,
								c2;
					int			lo = compare_values(x, &x[1], &c1) ? (c1 >= 0) : TRI_UNKNOWN;
					int			hi = compare_values(x, &x[2], &c2) ? (c2 <= 0) : TRI_UNKNOWN;
					int			result = (lo == TRI_FALSE || hi == TRI_FALSE) ? TRI_FALSE :
						(lo == TRI_TRUE && hi == TRI_TRUE) ? TRI_TRUE : TRI_UNKNOWN;

					if (in->aux && result != TRI_UNKNOWN)
						result = !result;
					sp = x + 1;
					set_tri(x, result);
					break;
				}
			case OP_CALL:
				{
					ExprValue  *args = sp - in->arg;

					do_call(in->aux, args, in->arg, now, zone);
					sp = args + 1;
					break;
				}
			default:
				return false;	/* cannot happen: programs are validated */
		}
	}
	return sp > stack && sp[-1].kind == EXPR_BOOL && sp[-1].u.b;
}

/*
 * expr_program_bind
 *		Prepare a program for evaluation: field i reads slot field_slot[i]
 *		(-1: the field is always NULL), constants become runtime values, and
 *		"field <cmp> constant" triples are fused into one instruction.
 */
ExprProgram *
expr_program_bind(const ExprCompiled *prog, const int *field_slot, int nslots, ExprArena *arena)
{
	ExprProgram *bp = expr_arena_alloc(arena, sizeof(ExprProgram));
	int		   *newpc = expr_arena_alloc(arena, sizeof(int) * (prog->ninstr + 1));
	ExprInstr  *code = expr_arena_alloc(arena, sizeof(ExprInstr) * prog->ninstr);
	int			nullconst = prog->nconst;
	int			n = 0;
	int			pc;

	bp->consts = expr_arena_alloc(arena, sizeof(ExprValue) * (prog->nconst + 1));
	for (pc = 0; pc < prog->nconst; pc++)
		bp->consts[pc] = prog->consts[pc].value;
	bp->consts[nullconst].kind = EXPR_NULL;

	for (pc = 0; pc < prog->ninstr; pc++)
	{
		const ExprInstr *in = &prog->code[pc];

		newpc[pc] = n;
		if (in->op == OP_FIELD && pc + 2 < prog->ninstr &&
			field_slot[in->arg] >= 0 && field_slot[in->arg] < nslots &&
			prog->code[pc + 1].op == OP_CONST &&
			prog->code[pc + 2].op >= OP_EQ && prog->code[pc + 2].op <= OP_GE)
		{
			code[n].op = OP_CMP_FC;
			code[n].aux2 = prog->code[pc + 2].op;
			code[n].arg = field_slot[in->arg];
			code[n].arg2 = prog->code[pc + 1].arg;
			newpc[pc + 1] = newpc[pc + 2] = n;
			n++;
			pc += 2;
			continue;
		}
		code[n] = *in;
		if (in->op == OP_FIELD)
		{
			if (field_slot[in->arg] >= 0 && field_slot[in->arg] < nslots)
				code[n].arg = field_slot[in->arg];
			else
			{
				code[n].op = OP_CONST;
				code[n].arg = nullconst;
			}
		}
		n++;
	}
	newpc[prog->ninstr] = n;
	for (pc = 0; pc < n; pc++)
		if (code[pc].op == OP_JUMP_FALSE || code[pc].op == OP_JUMP_TRUE)
			code[pc].arg = newpc[code[pc].arg];
	bp->code = code;
	bp->ninstr = n;
	bp->maxstack = prog->maxstack;
	bp->nslots = nslots;
	return bp;
}
