/*-------------------------------------------------------------------------
 *
 * demo_random.c
 *		Deterministic pseudo-random draws for the demo data generator.
 *
 * stratum_demo_generate() builds its data with set-based SQL
 * (INSERT ... SELECT over generate_series), so every random draw must be a
 * pure function of its coordinates: the seed, a "stream" naming what is
 * drawn (a profile's plan, the time of its n-th purchase, ...) and an index.
 * Then the rows do not depend on the order in which the executor produces
 * them, on parallel plans or on earlier calls in the session, and the same
 * arguments always give the same data.
 *
 * The draws use splitmix64 (Steele, Lea and Flood, "Fast splittable
 * pseudorandom number generators", OOPSLA 2014): the key (seed, stream) is
 * mixed into a 64-bit state, the index is added times the golden-ratio
 * increment, and the result goes through the splitmix64 finaliser.  For a
 * fixed seed and stream the map from index to 64-bit hash is a bijection,
 * which demo_hash relies on to make unique identifiers.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "fmgr.h"

PG_FUNCTION_INFO_V1(stratum_demo_hash);
PG_FUNCTION_INFO_V1(stratum_demo_random);
PG_FUNCTION_INFO_V1(stratum_demo_normal);
PG_FUNCTION_INFO_V1(stratum_demo_poisson);

#define GOLDEN_GAMMA	UINT64CONST(0x9E3779B97F4A7C15)

/*
 * mix64
 *		The splitmix64 finaliser: a bijective avalanche mix of 64 bits.
 */
static inline uint64
mix64(uint64 z)
{
	z = (z ^ (z >> 30)) * UINT64CONST(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64CONST(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

/*
 * demo_hash64
 *		64-bit hash of (seed, stream, i); a bijection in i for fixed seed and
 *		stream.
 */
static inline uint64
demo_hash64(int32 seed, int32 stream, int64 i)
{
	uint64		key;

	key = mix64(((uint64) (uint32) seed << 32 | (uint32) stream) + GOLDEN_GAMMA);
	return mix64(key + (uint64) i * GOLDEN_GAMMA);
}

/*
 * demo_uniform
 *		Uniform double in [0, 1) from the top 53 bits of the hash.
 */
static inline double
demo_uniform(int32 seed, int32 stream, int64 i)
{
	return (double) (demo_hash64(seed, stream, i) >> 11) * (1.0 / 9007199254740992.0);
}

/*
 * demo_gaussian
 *		Standard normal draw by the Box-Muller transform of two uniforms taken
 *		at indexes 2i and 2i+1 of the stream.
 */
static inline double
demo_gaussian(int32 seed, int32 stream, int64 i)
{
	double		u1 = demo_uniform(seed, stream, 2 * i);
	double		u2 = demo_uniform(seed, stream, 2 * i + 1);

	/* 1 - u1 lies in (0, 1], so the logarithm is finite. */
	return sqrt(-2.0 * log(1.0 - u1)) * cos(2.0 * M_PI * u2);
}

/*
 * stratum_demo_hash
 *		SQL: stratum_internal.demo_hash(seed, stream, i) -> bigint.
 *		Distinct i give distinct results for one (seed, stream).
 */
Datum
stratum_demo_hash(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT64((int64) demo_hash64(PG_GETARG_INT32(0), PG_GETARG_INT32(1),
										PG_GETARG_INT64(2)));
}

/*
 * stratum_demo_random
 *		SQL: stratum_internal.demo_random(seed, stream, i) -> uniform double
 *		precision in [0, 1).
 */
Datum
stratum_demo_random(PG_FUNCTION_ARGS)
{
	PG_RETURN_FLOAT8(demo_uniform(PG_GETARG_INT32(0), PG_GETARG_INT32(1),
								  PG_GETARG_INT64(2)));
}

/*
 * stratum_demo_normal
 *		SQL: stratum_internal.demo_normal(seed, stream, i) -> standard normal
 *		draw (mean 0, standard deviation 1).
 */
Datum
stratum_demo_normal(PG_FUNCTION_ARGS)
{
	PG_RETURN_FLOAT8(demo_gaussian(PG_GETARG_INT32(0), PG_GETARG_INT32(1),
								   PG_GETARG_INT64(2)));
}

/*
 * stratum_demo_poisson
 *		SQL: stratum_internal.demo_poisson(seed, stream, i, lambda) -> integer
 *		Poisson draw with mean lambda.  Inversion of the distribution function
 *		with one uniform for lambda up to 64; above that the normal
 *		approximation, rounded and clamped at 0.  lambda <= 0 gives 0.
 */
Datum
stratum_demo_poisson(PG_FUNCTION_ARGS)
{
	int32		seed = PG_GETARG_INT32(0);
	int32		stream = PG_GETARG_INT32(1);
	int64		i = PG_GETARG_INT64(2);
	double		lambda = PG_GETARG_FLOAT8(3);
	double		u,
				p,
				cdf;
	int32		k;

	if (isnan(lambda))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("Poisson mean must not be NaN")));
	if (lambda <= 0.0)
		PG_RETURN_INT32(0);
	if (lambda > 64.0)
	{
		double		x = lambda + sqrt(lambda) * demo_gaussian(seed, stream, i);

		if (x < 0.0)
			x = 0.0;
		if (x > (double) PG_INT32_MAX)
			x = (double) PG_INT32_MAX;
		PG_RETURN_INT32((int32) rint(x));
	}

	u = demo_uniform(seed, stream, i);
	p = exp(-lambda);
	cdf = p;
	k = 0;
	/* The tail beyond k = 1000 is far below double precision for lambda <= 64. */
	while (u >= cdf && k < 1000)
	{
		k++;
		p *= lambda / k;
		cdf += p;
	}
	PG_RETURN_INT32(k);
}
