/*-------------------------------------------------------------------------
 *
 * bench_eval.c
 *		Evaluations per second of a compiled 4-clause condition from C,
 *		through the same bind/eval path other modules use (the core built
 *		standalone), next to the same test written as a C expression.
 *
 *-------------------------------------------------------------------------
 */
#include "expr/expr_core.h"

#include <stdio.h>
#include <time.h>

#define NROWS	(1 << 20)

static double
now_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
	const char *cond = argc > 1 ? argv[1] :
		"spend > $1000 AND roas < 1.5 AND signal_health > 70 AND days_active > 7";
	long		iters = argc > 2 ? atol(argv[2]) : 50000000L;
	ExprArena	arena = {NULL};
	ExprError	err;
	ExprCompiled *prog;
	ExprProgram *bp;
	int			map[8] = {0, 1, 2, 3, 4, 5, 6, 7};
	ExprValue  *rows = malloc(sizeof(ExprValue) * 4 * NROWS);
	double	   *raw = malloc(sizeof(double) * 4 * NROWS);
	unsigned int seed = 12345;
	long		i;
	long		matches = 0;
	long		matches_c = 0;
	double		t0,
				t_expr,
				t_c;

	memset(&err, 0, sizeof(err));
	prog = expr_compile_text(cond, strlen(cond), &arena, &err);
	if (prog == NULL || prog->nfields > 8)
	{
		fprintf(stderr, "cannot compile: %s\n", err.message);
		return 1;
	}
	bp = expr_program_bind(prog, map, prog->nfields, &arena);

	/* fields in order of first use: spend, roas, signal_health, days_active */
	for (i = 0; i < 4L * NROWS; i++)
	{
		seed = seed * 1103515245u + 12345u;
		switch (i % 4)
		{
			case 0:
				raw[i] = (seed >> 8) % 3000;	/* spend */
				break;
			case 1:
				raw[i] = ((seed >> 8) % 400) / 100.0;	/* roas */
				break;
			case 2:
				raw[i] = (seed >> 8) % 100;		/* signal_health */
				break;
			default:
				raw[i] = (seed >> 8) % 30;		/* days_active */
				break;
		}
		rows[i].kind = EXPR_NUMBER;
		rows[i].u.num = raw[i];
	}

	t0 = now_sec();
	for (i = 0; i < iters; i++)
		matches += expr_program_eval(bp, &rows[(i & (NROWS - 1)) * 4], 0, NULL);
	t_expr = now_sec() - t0;

	t0 = now_sec();
	for (i = 0; i < iters; i++)
	{
		const double *r = &raw[(i & (NROWS - 1)) * 4];

		matches_c += ((r[0] > 1000 || r[1] < 1.5) && (r[2] > 70 && r[3] > 7));
	}
	t_c = now_sec() - t0;

	printf("condition: %s\n", cond);
	printf("program: %d instructions after binding (%d before)\n", bp->ninstr, prog->ninstr);
	printf("evaluations: %ld, matches: %ld\n", iters, matches);
	printf("condition evals/s: %.1f M (%.1f ns/eval)\n", iters / t_expr / 1e6, t_expr / iters * 1e9);
	printf("hand-written C (a differently-shaped expression, only for scale; %ld matches): %.1f M/s\n",
		   matches_c, iters / t_c / 1e6);
	expr_arena_free(&arena);
	free(rows);
	free(raw);
	return 0;
}
