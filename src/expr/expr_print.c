/*-------------------------------------------------------------------------
 *
 * expr_print.c
 *		Canonical text of a condition: keywords in upper case, one space
 *		around binary operators, parentheses only where the grammar needs
 *		them, numbers in their shortest exact form, literals as written
 *		(50%, $1000, 7 days, date '2024-01-01').  Parsing the output gives
 *		back the same program.  Also the timestamp and number formatting
 *		shared with the scanner and evaluator.
 *
 *-------------------------------------------------------------------------
 */
#include "expr/expr_core.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

/* Binding strength of each construct when printed (higher binds tighter). */
#define PREC_OR			1
#define PREC_AND		2
#define PREC_NOT		3
#define PREC_IS			4
#define PREC_CMP		5
#define PREC_IN			6
#define PREC_ADD		7
#define PREC_MUL		8
#define PREC_NEG		9
#define PREC_PRIMARY	10

static void print_node(ExprBuf *buf, const ExprNode *n, int minprec);

/*
 * node_prec
 *		Printing precedence of a node.
 */
static int
node_prec(const ExprNode *n)
{
	switch (n->op)
	{
		case OP_OR:
			return PREC_OR;
		case OP_AND:
			return PREC_AND;
		case OP_NOT:
			return PREC_NOT;
		case OP_ISNULL:
			return PREC_IS;
		case OP_EQ:
		case OP_NE:
		case OP_LT:
		case OP_LE:
		case OP_GT:
		case OP_GE:
			return PREC_CMP;
		case OP_IN:
		case OP_BETWEEN:
			return PREC_IN;
		case OP_ADD:
		case OP_SUB:
			return PREC_ADD;
		case OP_MUL:
		case OP_DIV:
			return PREC_MUL;
		case OP_NEG:
			return PREC_NEG;
		default:
			return PREC_PRIMARY;
	}
}

/*
 * expr_format_number
 *		Shortest decimal text that reads back as exactly v.
 */
void
expr_format_number(double v, char *out, size_t outlen)
{
	int			prec;

	if (v == floor(v) && fabs(v) < 1e15)
	{
		snprintf(out, outlen, "%.0f", v);
		return;
	}
	for (prec = 1; prec <= 17; prec++)
	{
		snprintf(out, outlen, "%.*g", prec, v);
		if (strtod(out, NULL) == v)
			return;
	}
}

/*
 * days_from_civil / civil_from_days
 *		Proleptic Gregorian calendar <-> days since 1970-01-01.
 */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	int64_t		era;
	int64_t		yoe;
	int64_t		doy;
	int64_t		doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void
civil_from_days(int64_t z, int *y, int *m, int *d)
{
	int64_t		era;
	int64_t		doe;
	int64_t		yoe;
	int64_t		doy;
	int64_t		mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int) (doy - (153 * mp + 2) / 5 + 1);
	*m = (int) (mp < 10 ? mp + 3 : mp - 9);
	*y = (int) (yoe + era * 400 + (*m <= 2));
}

/* Days between 1970-01-01 and 2000-01-01 (PostgreSQL's epoch). */
#define PG_EPOCH_DAYS	10957
/* Valid range: 0001-01-01 .. 9999-12-31 */
#define MIN_DAYS		(days_from_civil(1, 1, 1) - PG_EPOCH_DAYS)
#define MAX_DAYS		(days_from_civil(9999, 12, 31) - PG_EPOCH_DAYS)

/*
 * expr_format_timestamp
 *		'YYYY-MM-DD' or 'YYYY-MM-DD HH:MM:SS[.ffffff]+00' (UTC); returns the
 *		length, or -1 when ts is outside years 1..9999.
 */
int
expr_format_timestamp(ExprTimestamp ts, bool date_only, char *out, size_t outlen)
{
	int64_t		days;
	int64_t		rem;
	int			y,
				m,
				d;
	int			hh,
				mi,
				ss,
				us;

	days = ts / EXPR_USECS_PER_DAY;
	rem = ts % EXPR_USECS_PER_DAY;
	if (rem < 0)
	{
		rem += EXPR_USECS_PER_DAY;
		days--;
	}
	if (days < MIN_DAYS || days > MAX_DAYS)
		return -1;
	civil_from_days(days + PG_EPOCH_DAYS, &y, &m, &d);
	if (date_only)
		return snprintf(out, outlen, "%04d-%02d-%02d", y, m, d);
	us = (int) (rem % EXPR_USECS_PER_SEC);
	rem /= EXPR_USECS_PER_SEC;
	ss = (int) (rem % 60);
	mi = (int) ((rem / 60) % 60);
	hh = (int) (rem / 3600);
	if (us != 0)
		return snprintf(out, outlen, "%04d-%02d-%02d %02d:%02d:%02d.%06d+00", y, m, d, hh, mi, ss, us);
	return snprintf(out, outlen, "%04d-%02d-%02d %02d:%02d:%02d+00", y, m, d, hh, mi, ss);
}

/*
 * digits
 *		Read exactly n digits at s[*i]; -1 if they are not there.
 */
static int
digits(const char *s, size_t len, size_t *i, int n)
{
	int			v = 0;
	int			k;

	for (k = 0; k < n; k++)
	{
		if (*i >= len || !isdigit((unsigned char) s[*i]))
			return -1;
		v = v * 10 + (s[*i] - '0');
		(*i)++;
	}
	return v;
}

/*
 * expr_parse_timestamp
 *		ISO 8601: YYYY-MM-DD, optionally followed (unless date_only) by
 *		[T or space]HH:MM[:SS[.frac]] and Z or +-HH[:MM] / +-HHMM (default
 *		UTC).  Also used at runtime to compare text values with timestamps.
 */
bool
expr_parse_timestamp(const char *s, size_t len, bool date_only, ExprTimestamp *out)
{
	size_t		i = 0;
	int			y,
				m,
				d,
				hh = 0,
				mi = 0,
				ss = 0;
	int64_t		us = 0;
	int			offset = 0;		/* seconds east of UTC */
	static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int64_t		days;

	if ((y = digits(s, len, &i, 4)) < 1 || i >= len || s[i++] != '-' ||
		(m = digits(s, len, &i, 2)) < 1 || m > 12 || i >= len || s[i++] != '-' ||
		(d = digits(s, len, &i, 2)) < 1 || d > mdays[m - 1])
		return false;
	if (m == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return false;
	if (i < len && !date_only)
	{
		if (s[i] != 'T' && s[i] != 't' && s[i] != ' ')
			return false;
		i++;
		if ((hh = digits(s, len, &i, 2)) < 0 || hh > 23 || i >= len || s[i++] != ':' ||
			(mi = digits(s, len, &i, 2)) < 0 || mi > 59)
			return false;
		if (i < len && s[i] == ':')
		{
			i++;
			if ((ss = digits(s, len, &i, 2)) < 0 || ss > 59)
				return false;
			if (i < len && s[i] == '.')
			{
				int			k = 0;

				i++;
				if (i >= len || !isdigit((unsigned char) s[i]))
					return false;
				while (i < len && isdigit((unsigned char) s[i]))
				{
					if (k < 6)
						us = us * 10 + (s[i] - '0');
					k++;
					i++;
				}
				for (; k < 6; k++)
					us *= 10;
			}
		}
		if (i < len && (s[i] == 'Z' || s[i] == 'z'))
			i++;
		else if (i < len && (s[i] == '+' || s[i] == '-'))
		{
			int			sign = s[i] == '-' ? -1 : 1;
			int			oh,
						om = 0;

			i++;
			if ((oh = digits(s, len, &i, 2)) < 0 || oh > 15)
				return false;
			if (i < len && s[i] == ':')
				i++;
			if (i < len && (om = digits(s, len, &i, 2)) < 0)
				return false;
			if (om > 59)
				return false;
			offset = sign * (oh * 3600 + om * 60);
		}
	}
	if (i != len)
		return false;
	days = days_from_civil(y, m, d) - PG_EPOCH_DAYS;
	*out = days * EXPR_USECS_PER_DAY +
		((int64_t) hh * 3600 + mi * 60 + ss - offset) * EXPR_USECS_PER_SEC + us;
	return true;
}

/*
 * expr_print_path_segment
 *		One segment of a field path, double-quoted unless it is a plain
 *		identifier that is not a keyword.
 */
void
expr_print_path_segment(ExprBuf *buf, const char *s, size_t len)
{
	bool		plain = len > 0 && (isalpha((unsigned char) s[0]) || s[0] == '_');
	size_t		i;

	for (i = 0; plain && i < len; i++)
		if (!(isalnum((unsigned char) s[i]) || s[i] == '_') || (unsigned char) s[i] >= 0x80)
			plain = false;
	if (plain && !expr_is_keyword(s, len))
	{
		expr_buf_append(buf, s, len);
		return;
	}
	expr_buf_append(buf, "\"", 1);
	for (i = 0; i < len; i++)
	{
		if (s[i] == '"')
			expr_buf_append(buf, "\"", 1);
		expr_buf_append(buf, s + i, 1);
	}
	expr_buf_append(buf, "\"", 1);
}

/*
 * print_const
 *		A literal as written.
 */
static void
print_const(ExprBuf *buf, const ExprConst *c)
{
	char		tmp[64];
	int			i;

	switch (c->kind)
	{
		case EXPR_NULL:
			expr_buf_puts(buf, "NULL");
			break;
		case EXPR_BOOL:
			expr_buf_puts(buf, c->value.u.b ? "TRUE" : "FALSE");
			break;
		case EXPR_NUMBER:
			expr_format_number(c->written, tmp, sizeof(tmp));
			if (c->style == EXPR_STYLE_MONEY)
				expr_buf_puts(buf, "$");
			expr_buf_puts(buf, tmp);
			if (c->style == EXPR_STYLE_PERCENT)
				expr_buf_puts(buf, "%");
			break;
		case EXPR_INTERVAL:
			expr_format_number(c->written, tmp, sizeof(tmp));
			expr_buf_printf(buf, "%s %s%s", tmp, expr_unit_names[c->style], c->written == 1 ? "" : "s");
			break;
		case EXPR_TIMESTAMP:
			expr_format_timestamp(c->value.u.ts, c->style == EXPR_STYLE_DATE, tmp, sizeof(tmp));
			expr_buf_printf(buf, "%s '%s'", c->style == EXPR_STYLE_DATE ? "date" : "timestamp", tmp);
			break;
		case EXPR_TEXT:
			expr_buf_append(buf, "'", 1);
			for (i = 0; i < c->value.len; i++)
			{
				if (c->value.u.str[i] == '\'')
					expr_buf_append(buf, "'", 1);
				expr_buf_append(buf, c->value.u.str + i, 1);
			}
			expr_buf_append(buf, "'", 1);
			break;
	}
}

static const char *
binop_text(const ExprNode *n)
{
	switch (n->op)
	{
		case OP_OR:
			return " OR ";
		case OP_AND:
			return " AND ";
		case OP_EQ:
			return " = ";
		case OP_NE:
			return " <> ";
		case OP_LT:
			return " < ";
		case OP_LE:
			return " <= ";
		case OP_GT:
			return " > ";
		case OP_GE:
			return " >= ";
		case OP_ADD:
			return " + ";
		case OP_SUB:
			return " - ";
		case OP_MUL:
			return n->aux ? " of " : " * ";
		case OP_DIV:
			return " / ";
		default:
			return " ? ";
	}
}

/*
 * print_node
 *		Print n, in parentheses if it binds less tightly than minprec.
 */
static void
print_node(ExprBuf *buf, const ExprNode *n, int minprec)
{
	int			prec = node_prec(n);
	bool		paren = prec < minprec;
	int			i;

	if (paren)
		expr_buf_append(buf, "(", 1);
	switch (n->op)
	{
		case OP_CONST:
			print_const(buf, &n->cval);
			break;
		case OP_FIELD:
			expr_buf_append(buf, n->path.ptr, n->path.len);
			break;
		case OP_CALL:
			expr_buf_puts(buf, expr_functions[n->aux].name);
			expr_buf_append(buf, "(", 1);
			for (i = 0; i < n->nargs; i++)
			{
				if (i > 0)
					expr_buf_append(buf, ", ", 2);
				print_node(buf, n->args[i], 0);
			}
			expr_buf_append(buf, ")", 1);
			break;
		case OP_NOT:
			expr_buf_puts(buf, "NOT ");
			print_node(buf, n->args[0], PREC_NOT);
			break;
		case OP_NEG:
			expr_buf_puts(buf, "-");
			/* "-(-5)" rather than "--5" */
			print_node(buf, n->args[0], n->args[0]->op == OP_NEG ? PREC_PRIMARY + 1 : PREC_NEG);
			break;
		case OP_ISNULL:
			print_node(buf, n->args[0], PREC_CMP);
			expr_buf_puts(buf, n->aux ? " IS NOT NULL" : " IS NULL");
			break;
		case OP_IN:
			print_node(buf, n->args[0], PREC_ADD);
			expr_buf_puts(buf, n->aux ? " NOT IN (" : " IN (");
			for (i = 1; i < n->nargs; i++)
			{
				if (i > 1)
					expr_buf_append(buf, ", ", 2);
				print_node(buf, n->args[i], 0);
			}
			expr_buf_append(buf, ")", 1);
			break;
		case OP_BETWEEN:
			print_node(buf, n->args[0], PREC_ADD);
			expr_buf_puts(buf, n->aux ? " NOT BETWEEN " : " BETWEEN ");
			print_node(buf, n->args[1], PREC_ADD);
			expr_buf_puts(buf, " AND ");
			print_node(buf, n->args[2], PREC_ADD);
			break;
		case OP_EQ:
		case OP_NE:
		case OP_LT:
		case OP_LE:
		case OP_GT:
		case OP_GE:
			/* non-associative: both sides must bind tighter */
			print_node(buf, n->args[0], PREC_CMP + 1);
			expr_buf_puts(buf, binop_text(n));
			print_node(buf, n->args[1], PREC_CMP + 1);
			break;
		default:
			/* left-associative binary operators */
			print_node(buf, n->args[0], prec);
			expr_buf_puts(buf, binop_text(n));
			print_node(buf, n->args[1], prec + 1);
			break;
	}
	if (paren)
		expr_buf_append(buf, ")", 1);
}

/*
 * expr_print
 *		Canonical text of a syntax tree (NUL-terminated, in the arena).
 */
char *
expr_print(const ExprNode *tree, ExprArena *arena)
{
	ExprBuf		buf;

	expr_buf_init(&buf, arena);
	print_node(&buf, tree, 0);
	return buf.data;
}
