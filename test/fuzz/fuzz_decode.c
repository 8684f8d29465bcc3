/*-------------------------------------------------------------------------
 *
 * fuzz_decode.c
 *		libFuzzer harness for the stored form of a condition: arbitrary
 *		bytes must be rejected cleanly or, if accepted, print as text that
 *		compiles back to exactly those bytes.
 *
 *-------------------------------------------------------------------------
 */
#include "expr/expr_core.h"

#include <stdio.h>

static void
dump_bytes(const char *label, const char *b, size_t n)
{
	fprintf(stderr, "%s (%zu bytes):", label, n);
	for (size_t i = 0; i < n; i++)
		fprintf(stderr, " %02x", (unsigned char) b[i]);
	fprintf(stderr, "\n");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ExprArena	arena = {NULL};
	ExprError	err;
	ExprCompiled *dec;
	ExprCompiled *again;
	ExprNode   *tree;
	char	   *text;
	char	   *bytes;
	size_t		blen;

	/*
	 * Inputs that start with "C:" are condition text, compiled first, so the
	 * fuzzer can reach valid programs and then mutate their bytes.
	 */
	memset(&err, 0, sizeof(err));
	if (size > 2 && data[0] == 'C' && data[1] == ':')
	{
		ExprCompiled *p = expr_compile_text((const char *) data + 2, size - 2, &arena, &err);

		if (p == NULL)
		{
			expr_arena_free(&arena);
			return 0;
		}
		bytes = expr_encode(p, &arena, &blen);
		if (blen > 20)
			bytes[20 + (data[size - 1] % (blen - 20))] ^= data[size / 2];
		data = (const uint8_t *) bytes;
		size = blen;
	}
	dec = expr_decode((const char *) data, size, &arena, &err);
	if (dec == NULL)
	{
		if (err.kind != EXPR_ERR_CORRUPT)
			abort();
		expr_arena_free(&arena);
		return 0;
	}
	tree = expr_decompile(dec, &arena, &err);
	if (tree == NULL)
		abort();
	text = expr_print(tree, &arena);
	memset(&err, 0, sizeof(err));
	again = expr_compile_text(text, strlen(text), &arena, &err);
	if (again == NULL)
	{
		fprintf(stderr, "accepted bytes print as unparsable text: %s (%s)\n", text, err.message);
		abort();
	}
	bytes = expr_encode(again, &arena, &blen);
	if (blen != size || memcmp(bytes, data, size) != 0)
	{
		fprintf(stderr, "accepted bytes do not round-trip: %s\n", text);
		dump_bytes("accepted", (const char *) data, size);
		dump_bytes("re-encoded", bytes, blen);
		abort();
	}
	expr_arena_free(&arena);
	return 0;
}
