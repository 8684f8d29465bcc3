/*-------------------------------------------------------------------------
 *
 * churn_numeric.c
 *		A numeric feature value as a double, without printing it.
 *
 * PostgreSQL converts a numeric to float8 by printing it as text and reading
 * the text back with strtod: about 110 ns and a palloc per value, which made
 * scoring ten numeric columns five times slower than ten float8 ones.  Most
 * values a model sees (money, counts, rates) have at most 15 significant
 * digits and a small scale, and for those the exact decimal value is M x 10^e
 * with M < 2^53 and |e| <= 22: both are exact doubles, so a single IEEE
 * multiplication or division rounds the exact value correctly (Clinger's
 * fast path), which is the double strtod returns.  Every other value (more
 * digits, huge or tiny exponents, NaN, infinities) takes PostgreSQL's own
 * conversion, so the result is always the one numeric_float8 gives.
 *
 * The stored form read here is the on-disk format of numeric (numeric.c:
 * a 2-byte header, a 2-byte weight unless the header is short, then base
 * 10000 digits), which pg_upgrade keeps stable across major versions.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"

#include "churn/churn.h"

/* numeric.c's header bits (not exported) */
#define NUM_SIGN_MASK			0xC000
#define NUM_NEG					0x4000
#define NUM_SHORT				0x8000
#define NUM_SPECIAL				0xC000
#define NUM_SHORT_SIGN_MASK		0x2000
#define NUM_SHORT_WEIGHT_SIGN	0x0040
#define NUM_SHORT_WEIGHT_MASK	0x003F
#define NUM_NBASE				10000
#define NUM_MANTISSA_LIMIT		(UINT64CONST(1) << 53)

static const double exact_pow10[] = {
	1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22
};

/*
 * numeric_fast_double
 *		The value of a numeric by the fast path; false if it does not apply.
 */
static bool
numeric_fast_double(Datum d, double *result)
{
	struct varlena *v = (struct varlena *) DatumGetPointer(d);
	const char *p;
	Size		len;
	uint16		header;
	int			weight;
	bool		negative;
	int			ndigits;
	uint64		mantissa = 0;
	int			exponent;
	int			i;

	if (VARATT_IS_EXTENDED(v) && !VARATT_IS_SHORT(v))
		return false;			/* compressed or out of line */
	p = VARDATA_ANY(v);
	len = VARSIZE_ANY_EXHDR(v);
	if (len < sizeof(uint16))
		return false;
	memcpy(&header, p, sizeof(uint16));
	if ((header & NUM_SIGN_MASK) == NUM_SPECIAL)
		return false;			/* NaN, Infinity */
	if ((header & NUM_SIGN_MASK) == NUM_SHORT)
	{
		negative = (header & NUM_SHORT_SIGN_MASK) != 0;
		weight = (header & NUM_SHORT_WEIGHT_MASK);
		if (header & NUM_SHORT_WEIGHT_SIGN)
			weight |= ~NUM_SHORT_WEIGHT_MASK;
		p += sizeof(uint16);
		len -= sizeof(uint16);
	}
	else
	{
		int16		w;

		if (len < 2 * sizeof(uint16))
			return false;
		negative = (header & NUM_SIGN_MASK) == NUM_NEG;
		memcpy(&w, p + sizeof(uint16), sizeof(int16));
		weight = w;
		p += 2 * sizeof(uint16);
		len -= 2 * sizeof(uint16);
	}
	ndigits = (int) (len / sizeof(int16));
	if (ndigits == 0)
	{
		*result = 0.0;
		return true;
	}
	if (ndigits > 4)
		return false;			/* 10000^4 > 2^53 */
	for (i = 0; i < ndigits; i++)
	{
		int16		digit;

		memcpy(&digit, p + i * sizeof(int16), sizeof(int16));
		if (digit < 0 || digit >= NUM_NBASE)
			return false;
		mantissa = mantissa * NUM_NBASE + (uint64) digit;
	}
	if (mantissa >= NUM_MANTISSA_LIMIT)
		return false;
	/* the last digit is worth NBASE^(weight - ndigits + 1) */
	exponent = 4 * (weight - ndigits + 1);
	if (exponent >= 0 && exponent <= 22)
		*result = (double) mantissa * exact_pow10[exponent];
	else if (exponent < 0 && exponent >= -22)
		*result = (double) mantissa / exact_pow10[-exponent];
	else
		return false;
	if (negative)
		*result = -*result;
	return true;
}

/*
 * churn_numeric_to_double
 *		A numeric as the double numeric_float8 gives (NaN for NaN, +-Inf for
 *		the infinities and for values beyond the double range).
 */
double
churn_numeric_to_double(Datum d)
{
	double		x;

	if (numeric_fast_double(d, &x))
		return x;
	return DatumGetFloat8(DirectFunctionCall1(numeric_float8_no_overflow, d));
}

PG_FUNCTION_INFO_V1(stratum_churn_numeric_double);

/*
 * stratum_churn_numeric_double
 *		SQL access to churn_numeric_to_double, so tests can compare it with
 *		numeric::float8 value by value.
 */
Datum
stratum_churn_numeric_double(PG_FUNCTION_ARGS)
{
	PG_RETURN_FLOAT8(churn_numeric_to_double(PG_GETARG_DATUM(0)));
}
