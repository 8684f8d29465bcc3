/*-------------------------------------------------------------------------
 *
 * fuzz_condition.c
 *		libFuzzer harness for the condition parser and compiler.
 *
 * For every input that parses, checks the properties the SQL type relies
 * on: compile -> encode -> decode accepts its own output; the canonical
 * text parses back to the identical bytes and prints identically; context
 * resolution and binding/evaluation (over values derived from the input)
 * run without memory errors.  Any violation aborts.
 *
 *-------------------------------------------------------------------------
 */
#include "expr/expr_core.h"

#include <stdio.h>

static void
fail(const char *what, const char *text)
{
	fprintf(stderr, "property violated: %s\n%s\n", what, text ? text : "");
	abort();
}

/*
 * fixed_offset
 *		An ExprZone offset taken from the input's first byte.
 */
static int64_t
fixed_offset(const ExprZone *zone, ExprTimestamp utc)
{
	const uint8_t *d = zone->arg;

	return ((int64_t) d[0] - 128) * INT64_C(731250000);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ExprArena	arena = {NULL};
	ExprError	err;
	ExprNode   *tree;
	ExprCompiled *prog;
	ExprCompiled *dec;
	ExprNode   *tree2;
	char	   *text;
	char	   *text2;
	char	   *bytes;
	char	   *bytes2;
	size_t		blen;
	size_t		blen2;
	int			c;

	memset(&err, 0, sizeof(err));
	tree = expr_parse((const char *) data, size, &arena, &err);
	if (tree == NULL)
	{
		if (err.kind == EXPR_OK || err.message[0] == '\0')
			fail("parse failed without an error message", NULL);
		expr_arena_free(&arena);
		return 0;
	}
	prog = expr_compile(tree, &arena, &err);
	if (prog == NULL)
	{
		if (err.kind == EXPR_OK)
			fail("compile failed without an error", NULL);
		expr_arena_free(&arena);
		return 0;
	}
	bytes = expr_encode(prog, &arena, &blen);
	memset(&err, 0, sizeof(err));
	dec = expr_decode(bytes, blen, &arena, &err);
	if (dec == NULL)
		fail("decode rejected the encoder's output", err.message);
	tree2 = expr_decompile(dec, &arena, &err);
	if (tree2 == NULL)
		fail("decompile failed", err.message);
	text = expr_print(tree2, &arena);

	/* canonical text must parse back to the same program */
	memset(&err, 0, sizeof(err));
	prog = expr_compile_text(text, strlen(text), &arena, &err);
	if (prog == NULL)
		fail("canonical text does not parse", text);
	bytes2 = expr_encode(prog, &arena, &blen2);
	if (blen != blen2 || memcmp(bytes, bytes2, blen) != 0)
		fail("canonical text compiles to different bytes", text);
	text2 = expr_print(expr_decompile(prog, &arena, &err), &arena);
	if (strcmp(text, text2) != 0)
		fail("printing is not stable", text);

	/* context resolution must not crash, whatever it decides */
	for (c = 0; c < expr_context_count(); c++)
	{
		ExprError	e2;
		ExprNode   *t = expr_decompile(dec, &arena, &e2);

		memset(&e2, 0, sizeof(e2));
		if (t && expr_resolve_tree(t, expr_context_at(c), &arena, &e2))
		{
			if (expr_compile(t, &arena, &e2) == NULL)
				fail("resolved tree does not compile", text);
		}
		else if (e2.kind == EXPR_OK)
			fail("resolution failed without an error", text);
	}

	/* bind every field to a slot filled from the input bytes and evaluate */
	{
		int		   *map = expr_arena_alloc(&arena, sizeof(int) * (dec->nfields + 1));
		ExprValue  *slots = expr_arena_alloc(&arena, sizeof(ExprValue) * (dec->nfields + 1));
		ExprProgram *bp;
		int			i;

		for (i = 0; i < dec->nfields; i++)
		{
			uint8_t		b = data[(i * 7) % size];

			map[i] = (b % 5 == 4) ? -1 : i;
			switch (b % 6)
			{
				case 0:
					slots[i].kind = EXPR_NULL;
					break;
				case 1:
					slots[i].kind = EXPR_NUMBER;
					slots[i].u.num = (double) (int8_t) b;
					break;
				case 2:
					slots[i].kind = EXPR_TEXT;
					slots[i].u.str = (const char *) data;
					slots[i].len = (int32_t) (size < 16 ? size : 16);
					break;
				case 3:
					slots[i].kind = EXPR_BOOL;
					slots[i].u.b = b & 1;
					break;
				case 4:
				default:
					slots[i].kind = EXPR_TIMESTAMP;
					slots[i].u.ts = (int64_t) b * INT64_C(86400000000) * 37;
					break;
			}
		}
		bp = expr_program_bind(dec, map, dec->nfields, &arena);
		(void) expr_program_eval(bp, slots, INT64_C(800000000000000), NULL);
		/* and with a zone whose offset the input picks (up to +-26 h) */
		{
			ExprZone	zone = {fixed_offset, data};

			(void) expr_program_eval(bp, slots, INT64_C(800000000000000), &zone);
		}
	}
	expr_arena_free(&arena);
	return 0;
}
