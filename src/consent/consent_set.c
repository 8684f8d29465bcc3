/*-------------------------------------------------------------------------
 *
 * consent_set.c
 *		The stratum.consent_set type: a set of consent categories kept as a
 *		bitmask, with text input/output ({marketing,analytics}), binary
 *		send/receive, set operators, btree/hash support and a GIN opclass.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/gin.h"
#include "common/hashfn.h"
#include "access/stratnum.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "libpq/pqformat.h"
#include "utils/array.h"
#include "utils/builtins.h"

#include "consent/consent.h"

const char *const consent_category_names[CONSENT_NCATEGORIES] = {
	"marketing", "analytics", "personalization", "advertising", "third_party"
};

/*
 * consent_category_from_name
 *		Category number of a name (exact, lower case), or -1.
 */
int
consent_category_from_name(const char *name, int len)
{
	for (int i = 0; i < CONSENT_NCATEGORIES; i++)
	{
		if ((int) strlen(consent_category_names[i]) == len &&
			strncmp(consent_category_names[i], name, len) == 0)
			return i;
	}
	return -1;
}

/*
 * consent_set_to_cstring
 *		Canonical text form: categories in declaration order in braces.
 */
char *
consent_set_to_cstring(ConsentSet set)
{
	StringInfoData buf;
	bool		first = true;

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '{');
	for (int i = 0; i < CONSENT_NCATEGORIES; i++)
	{
		if (set & CONSENT_BIT(i))
		{
			if (!first)
				appendStringInfoChar(&buf, ',');
			appendStringInfoString(&buf, consent_category_names[i]);
			first = false;
		}
	}
	appendStringInfoChar(&buf, '}');
	return buf.data;
}

/*
 * consent_set_syntax_error
 *		Report bad input with the 1-based character position of the problem.
 */
static void
consent_set_syntax_error(const char *input, const char *at, const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
			 errmsg("invalid input syntax for type %s: \"%s\"", "consent_set", input),
			 errdetail("%s at position %d.", what, (int) (at - input) + 1),
			 errhint("Write a set of categories in braces, e.g. '{marketing,analytics}'; the categories are marketing, analytics, personalization, advertising and third_party.")));
}

PG_FUNCTION_INFO_V1(stratum_consent_set_in);
/*
 * stratum_consent_set_in
 *		Parse '{cat,cat,...}'.  Spaces around names are allowed, names are
 *		case-insensitive, duplicates collapse; '{}' is the empty set.
 */
Datum
stratum_consent_set_in(PG_FUNCTION_ARGS)
{
	const char *input = PG_GETARG_CSTRING(0);
	const char *p = input;
	ConsentSet	set = 0;

	while (*p == ' ' || *p == '\t' || *p == '\n')
		p++;
	if (*p != '{')
		consent_set_syntax_error(input, p, "Expected \"{\"");
	p++;
	while (*p == ' ' || *p == '\t' || *p == '\n')
		p++;
	if (*p != '}')
	{
		for (;;)
		{
			const char *start;
			char		name[32];
			int			len = 0;
			int			cat;

			while (*p == ' ' || *p == '\t' || *p == '\n')
				p++;
			start = p;
			while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '_' || *p == '-')
			{
				if (len < (int) sizeof(name) - 1)
					name[len++] = (*p >= 'A' && *p <= 'Z') ? *p - 'A' + 'a' : (*p == '-' ? '_' : *p);
				p++;
			}
			if (p == start)
				consent_set_syntax_error(input, p, "Expected a category name");
			cat = consent_category_from_name(name, (p - start) < (int) sizeof(name) ? len : -1);
			if (cat < 0)
			{
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
						 errmsg("invalid input syntax for type %s: \"%s\"", "consent_set", input),
						 errdetail("Unknown consent category \"%.*s\" at position %d.",
								   (int) (p - start), start, (int) (start - input) + 1),
						 errhint("The categories are marketing, analytics, personalization, advertising and third_party.")));
			}
			set |= CONSENT_BIT(cat);
			while (*p == ' ' || *p == '\t' || *p == '\n')
				p++;
			if (*p == ',')
			{
				p++;
				continue;
			}
			if (*p == '}')
				break;
			consent_set_syntax_error(input, p, "Expected \",\" or \"}\"");
		}
	}
	p++;
	while (*p == ' ' || *p == '\t' || *p == '\n')
		p++;
	if (*p != '\0')
		consent_set_syntax_error(input, p, "Unexpected text after \"}\"");

	PG_RETURN_CONSENTSET(set);
}

PG_FUNCTION_INFO_V1(stratum_consent_set_out);
/*
 * stratum_consent_set_out
 *		Canonical text form.
 */
Datum
stratum_consent_set_out(PG_FUNCTION_ARGS)
{
	PG_RETURN_CSTRING(consent_set_to_cstring(PG_GETARG_CONSENTSET(0)));
}

PG_FUNCTION_INFO_V1(stratum_consent_set_recv);
/*
 * stratum_consent_set_recv
 *		Binary input: the bitmask as int2; unknown bits are refused.
 */
Datum
stratum_consent_set_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	int			v = pq_getmsgint(buf, 2);

	if (v & ~CONSENT_ALL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid binary value for type %s", "consent_set"),
				 errdetail("Bits 0x%x are not consent categories.", v & ~CONSENT_ALL)));
	PG_RETURN_CONSENTSET((ConsentSet) v);
}

PG_FUNCTION_INFO_V1(stratum_consent_set_send);
/*
 * stratum_consent_set_send
 *		Binary output: the bitmask as int2.
 */
Datum
stratum_consent_set_send(PG_FUNCTION_ARGS)
{
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendint16(&buf, PG_GETARG_CONSENTSET(0));
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/* Comparison and set operators: one-liners over the bitmask. */
#define CONSENT_BINARY_BOOL(fname, expr) \
PG_FUNCTION_INFO_V1(fname); \
Datum fname(PG_FUNCTION_ARGS) \
{ \
	ConsentSet	a = PG_GETARG_CONSENTSET(0); \
	ConsentSet	b = PG_GETARG_CONSENTSET(1); \
	PG_RETURN_BOOL(expr); \
}
#define CONSENT_BINARY_SET(fname, expr) \
PG_FUNCTION_INFO_V1(fname); \
Datum fname(PG_FUNCTION_ARGS) \
{ \
	ConsentSet	a = PG_GETARG_CONSENTSET(0); \
	ConsentSet	b = PG_GETARG_CONSENTSET(1); \
	PG_RETURN_CONSENTSET((ConsentSet) (expr)); \
}

CONSENT_BINARY_BOOL(stratum_consent_set_eq, a == b)
CONSENT_BINARY_BOOL(stratum_consent_set_ne, a != b)
CONSENT_BINARY_BOOL(stratum_consent_set_lt, a < b)
CONSENT_BINARY_BOOL(stratum_consent_set_le, a <= b)
CONSENT_BINARY_BOOL(stratum_consent_set_gt, a > b)
CONSENT_BINARY_BOOL(stratum_consent_set_ge, a >= b)
CONSENT_BINARY_BOOL(stratum_consent_set_contains, (a & b) == b)
CONSENT_BINARY_BOOL(stratum_consent_set_contained, (a & b) == a)
CONSENT_BINARY_BOOL(stratum_consent_set_overlaps, (a & b) != 0)
CONSENT_BINARY_SET(stratum_consent_set_union, a | b)
CONSENT_BINARY_SET(stratum_consent_set_intersect, a & b)
CONSENT_BINARY_SET(stratum_consent_set_minus, a & ~b)

PG_FUNCTION_INFO_V1(stratum_consent_set_cmp);
/*
 * stratum_consent_set_cmp
 *		btree support: order by bitmask value (an arbitrary but total order).
 */
Datum
stratum_consent_set_cmp(PG_FUNCTION_ARGS)
{
	ConsentSet	a = PG_GETARG_CONSENTSET(0);
	ConsentSet	b = PG_GETARG_CONSENTSET(1);

	PG_RETURN_INT32(a < b ? -1 : (a > b ? 1 : 0));
}

PG_FUNCTION_INFO_V1(stratum_consent_set_hash);
/*
 * stratum_consent_set_hash
 *		hash support.
 */
Datum
stratum_consent_set_hash(PG_FUNCTION_ARGS)
{
	return hash_uint32((uint32) PG_GETARG_CONSENTSET(0));
}

PG_FUNCTION_INFO_V1(stratum_consent_set_to_array);
/*
 * stratum_consent_set_to_array
 *		Cast to text[]: the category names in canonical order.
 */
Datum
stratum_consent_set_to_array(PG_FUNCTION_ARGS)
{
	ConsentSet	set = PG_GETARG_CONSENTSET(0);
	Datum		elems[CONSENT_NCATEGORIES];
	int			n = 0;

	for (int i = 0; i < CONSENT_NCATEGORIES; i++)
		if (set & CONSENT_BIT(i))
			elems[n++] = CStringGetTextDatum(consent_category_names[i]);
	PG_RETURN_ARRAYTYPE_P(construct_array(elems, n, TEXTOID, -1, false, TYPALIGN_INT));
}

PG_FUNCTION_INFO_V1(stratum_consent_set_from_array);
/*
 * stratum_consent_set_from_array
 *		Cast from text[]: every element must name a category (NULLs are
 *		refused, so a typo cannot silently shrink a set).
 */
Datum
stratum_consent_set_from_array(PG_FUNCTION_ARGS)
{
	ArrayType  *arr = PG_GETARG_ARRAYTYPE_P(0);
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	ConsentSet	set = 0;

	deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
	for (int i = 0; i < n; i++)
	{
		char	   *name;
		int			cat;

		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("a consent category must not be NULL"),
					 errdetail("Element %d of the array is NULL.", i + 1)));
		name = TextDatumGetCString(elems[i]);
		cat = consent_category_from_name(name, strlen(name));
		if (cat < 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("unknown consent category \"%s\"", name),
					 errdetail("Element %d of the array is not a category.", i + 1),
					 errhint("The categories are marketing, analytics, personalization, advertising and third_party.")));
		set |= CONSENT_BIT(cat);
	}
	PG_RETURN_CONSENTSET(set);
}

PG_FUNCTION_INFO_V1(stratum_consent_set_has);
/*
 * stratum_consent_set_has
 *		Whether the set holds the named category (raises on unknown names).
 */
Datum
stratum_consent_set_has(PG_FUNCTION_ARGS)
{
	ConsentSet	set = PG_GETARG_CONSENTSET(0);
	char	   *name = text_to_cstring(PG_GETARG_TEXT_PP(1));
	int			cat = consent_category_from_name(name, strlen(name));

	if (cat < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown consent category \"%s\"", name),
				 errhint("The categories are marketing, analytics, personalization, advertising and third_party.")));
	PG_RETURN_BOOL((set & CONSENT_BIT(cat)) != 0);
}

/*
 * GIN support.  Keys are category numbers (int4).  Strategies follow the
 * array opclass: 1 = overlaps (&&), 2 = contains (@>), 3 = contained (<@),
 * 4 = equal.
 */
#define CONSENT_GIN_OVERLAP		1
#define CONSENT_GIN_CONTAINS	2
#define CONSENT_GIN_CONTAINED	3
#define CONSENT_GIN_EQUAL		4

/*
 * consent_set_keys
 *		The categories of a set as GIN keys.
 */
static Datum *
consent_set_keys(ConsentSet set, int32 *nkeys)
{
	Datum	   *keys = palloc(sizeof(Datum) * CONSENT_NCATEGORIES);
	int			n = 0;

	for (int i = 0; i < CONSENT_NCATEGORIES; i++)
		if (set & CONSENT_BIT(i))
			keys[n++] = Int32GetDatum(i);
	*nkeys = n;
	return keys;
}

PG_FUNCTION_INFO_V1(stratum_consent_set_gin_extract_value);
/*
 * stratum_consent_set_gin_extract_value
 *		Keys of an indexed value.
 */
Datum
stratum_consent_set_gin_extract_value(PG_FUNCTION_ARGS)
{
	ConsentSet	set = PG_GETARG_CONSENTSET(0);
	int32	   *nkeys = (int32 *) PG_GETARG_POINTER(1);

	PG_RETURN_POINTER(consent_set_keys(set, nkeys));
}

PG_FUNCTION_INFO_V1(stratum_consent_set_gin_extract_query);
/*
 * stratum_consent_set_gin_extract_query
 *		Keys of a query value.  An empty query matches everything for
 *		contains, nothing for overlaps; contained and equal need to see
 *		empty items too, so they scan everything and recheck.
 */
Datum
stratum_consent_set_gin_extract_query(PG_FUNCTION_ARGS)
{
	ConsentSet	set = PG_GETARG_CONSENTSET(0);
	int32	   *nkeys = (int32 *) PG_GETARG_POINTER(1);
	StrategyNumber strategy = PG_GETARG_UINT16(2);
	int32	   *searchMode = (int32 *) PG_GETARG_POINTER(6);
	Datum	   *keys = consent_set_keys(set, nkeys);

	switch (strategy)
	{
		case CONSENT_GIN_OVERLAP:
			break;				/* no keys: nothing overlaps the empty set */
		case CONSENT_GIN_CONTAINS:
			if (*nkeys == 0)
				*searchMode = GIN_SEARCH_MODE_ALL;
			break;
		case CONSENT_GIN_CONTAINED:
			*searchMode = GIN_SEARCH_MODE_INCLUDE_EMPTY;
			break;
		case CONSENT_GIN_EQUAL:
			if (*nkeys == 0)
				*searchMode = GIN_SEARCH_MODE_INCLUDE_EMPTY;
			break;
		default:
			elog(ERROR, "consent_set GIN: unknown strategy %d", strategy);
	}
	PG_RETURN_POINTER(keys);
}

PG_FUNCTION_INFO_V1(stratum_consent_set_gin_consistent);
/*
 * stratum_consent_set_gin_consistent
 *		Whether an item whose present keys are check[] may match.
 */
Datum
stratum_consent_set_gin_consistent(PG_FUNCTION_ARGS)
{
	bool	   *check = (bool *) PG_GETARG_POINTER(0);
	StrategyNumber strategy = PG_GETARG_UINT16(1);
	int32		nkeys = PG_GETARG_INT32(3);
	bool	   *recheck = (bool *) PG_GETARG_POINTER(5);
	bool		result;

	switch (strategy)
	{
		case CONSENT_GIN_OVERLAP:
			*recheck = false;
			result = false;
			for (int i = 0; i < nkeys; i++)
				if (check[i])
					result = true;
			break;
		case CONSENT_GIN_CONTAINS:
			*recheck = false;
			result = true;
			for (int i = 0; i < nkeys; i++)
				if (!check[i])
					result = false;
			break;
		case CONSENT_GIN_EQUAL:
			*recheck = true;
			result = true;
			for (int i = 0; i < nkeys; i++)
				if (!check[i])
					result = false;
			break;
		default:
			/* contained: the item's other keys are unknown here */
			*recheck = true;
			result = true;
			break;
	}
	PG_RETURN_BOOL(result);
}
