/*-------------------------------------------------------------------------
 *
 * expr_encode.c
 *		The stored form of a compiled condition: a flat, position-independent
 *		byte string (the payload of the stratum.condition varlena).
 *
 * Layout (native byte order, no alignment assumed; read with memcpy):
 *	 uint8 version, uint8 reserved, uint16 maxstack
 *	 int32 ninstr, int32 nconst, int32 nfields, int32 strbytes
 *	 ninstr x { uint8 op, uint8 aux, int32 arg }
 *	 nconst x { uint8 kind, uint8 style, payload }
 *		number/interval: double written; timestamp: int64; bool: uint8;
 *		text: int32 offset, int32 length; null: nothing
 *	 nfields x { int32 offset, int32 length }
 *	 strbytes of string data (text constants and field paths)
 *
 * Decoding validates everything and finally re-compiles the decompiled tree
 * and requires the identical bytes back, so a stored condition is always
 * exactly what the compiler produces for its canonical text.
 *
 *-------------------------------------------------------------------------
 */
#include "expr/expr_core.h"

#include <math.h>
#include <stdio.h>

#define HEADER_BYTES	20

typedef struct Reader
{
	const char *p;
	size_t		len;
	size_t		off;
	bool		ok;
} Reader;

static void
rd(Reader *r, void *out, size_t n)
{
	if (!r->ok || r->len - r->off < n)
	{
		r->ok = false;
		memset(out, 0, n);
		return;
	}
	memcpy(out, r->p + r->off, n);
	r->off += n;
}

/*
 * expr_encode
 *		Serialize a compiled program into arena memory; returns the bytes.
 */
char *
expr_encode(const ExprCompiled *prog, ExprArena *arena, size_t *len)
{
	ExprBuf		out;
	ExprBuf		strs;
	uint8_t		u8;
	uint16_t	u16;
	int32_t		i32;
	int			i;

	expr_buf_init(&out, arena);
	expr_buf_init(&strs, arena);

	u8 = EXPR_FORMAT_VERSION;
	expr_buf_append(&out, (char *) &u8, 1);
	u8 = 0;
	expr_buf_append(&out, (char *) &u8, 1);
	u16 = (uint16_t) prog->maxstack;
	expr_buf_append(&out, (char *) &u16, 2);
	i32 = prog->ninstr;
	expr_buf_append(&out, (char *) &i32, 4);
	i32 = prog->nconst;
	expr_buf_append(&out, (char *) &i32, 4);
	i32 = prog->nfields;
	expr_buf_append(&out, (char *) &i32, 4);
	i32 = 0;					/* strbytes, patched below */
	expr_buf_append(&out, (char *) &i32, 4);

	for (i = 0; i < prog->ninstr; i++)
	{
		expr_buf_append(&out, (char *) &prog->code[i].op, 1);
		expr_buf_append(&out, (char *) &prog->code[i].aux, 1);
		expr_buf_append(&out, (char *) &prog->code[i].arg, 4);
	}
	for (i = 0; i < prog->nconst; i++)
	{
		const ExprConst *c = &prog->consts[i];

		expr_buf_append(&out, (char *) &c->kind, 1);
		expr_buf_append(&out, (char *) &c->style, 1);
		switch (c->kind)
		{
			case EXPR_NUMBER:
			case EXPR_INTERVAL:
				expr_buf_append(&out, (char *) &c->written, 8);
				break;
			case EXPR_TIMESTAMP:
				expr_buf_append(&out, (char *) &c->value.u.ts, 8);
				break;
			case EXPR_BOOL:
				u8 = c->value.u.b ? 1 : 0;
				expr_buf_append(&out, (char *) &u8, 1);
				break;
			case EXPR_TEXT:
				i32 = (int32_t) strs.len;
				expr_buf_append(&out, (char *) &i32, 4);
				i32 = c->value.len;
				expr_buf_append(&out, (char *) &i32, 4);
				expr_buf_append(&strs, c->value.u.str, c->value.len);
				break;
			default:
				break;
		}
	}
	for (i = 0; i < prog->nfields; i++)
	{
		i32 = (int32_t) strs.len;
		expr_buf_append(&out, (char *) &i32, 4);
		i32 = prog->fields[i].len;
		expr_buf_append(&out, (char *) &i32, 4);
		expr_buf_append(&strs, prog->fields[i].ptr, prog->fields[i].len);
	}
	i32 = (int32_t) strs.len;
	memcpy(out.data + 16, &i32, 4);
	expr_buf_append(&out, strs.data, strs.len);
	*len = out.len;
	return out.data;
}

/*
 * decode_const
 *		Read one constant and recompute its runtime value from what was
 *		written, so that value and printed form can never disagree.
 */
static bool
decode_const(Reader *r, ExprConst *c, const char *strs, int32_t strbytes)
{
	uint8_t		u8;
	int32_t		off;
	int32_t		len;

	memset(c, 0, sizeof(*c));
	rd(r, &c->kind, 1);
	rd(r, &c->style, 1);
	c->value.kind = c->kind;
	switch (c->kind)
	{
		case EXPR_NUMBER:
			rd(r, &c->written, 8);
			if (!isfinite(c->written) || signbit(c->written) || c->style > EXPR_STYLE_MONEY)
				return false;
			c->value.u.num = c->style == EXPR_STYLE_PERCENT ? c->written / 100.0 : c->written;
			break;
		case EXPR_INTERVAL:
			{
				double		v;

				rd(r, &c->written, 8);
				if (!isfinite(c->written) || signbit(c->written) || c->style >= EXPR_UNIT_COUNT_)
					return false;
				v = c->written * (double) expr_unit_usecs[c->style];
				if (fabs(v) >= 9.0e18)
					return false;
				c->value.u.ts = (int64_t) v;
				break;
			}
		case EXPR_TIMESTAMP:
			{
				char		tmp[64];

				rd(r, &c->value.u.ts, 8);
				if ((c->style != EXPR_STYLE_DATE && c->style != EXPR_STYLE_TIMESTAMP) ||
					expr_format_timestamp(c->value.u.ts, c->style == EXPR_STYLE_DATE, tmp, sizeof(tmp)) < 0)
					return false;
				if (c->style == EXPR_STYLE_DATE && c->value.u.ts % EXPR_USECS_PER_DAY != 0)
					return false;
				break;
			}
		case EXPR_BOOL:
			rd(r, &u8, 1);
			if (u8 > 1 || c->style != 0)
				return false;
			c->value.u.b = u8;
			break;
		case EXPR_TEXT:
			rd(r, &off, 4);
			rd(r, &len, 4);
			if (off < 0 || len < 0 || off > strbytes || len > strbytes - off || c->style != 0)
				return false;
			c->value.u.str = strs + off;
			c->value.len = len;
			if (memchr(c->value.u.str, '\0', len) != NULL)
				return false;
			break;
		case EXPR_NULL:
			if (c->style != 0)
				return false;
			break;
		default:
			return false;
	}
	return r->ok;
}

/*
 * expr_decode
 *		Deserialize and validate stored bytes; NULL with *err set if they are
 *		not exactly what the compiler would produce.
 */
ExprCompiled *
expr_decode(const char *data, size_t len, ExprArena *arena, ExprError *err)
{
	Reader		r = {data, len, 0, true};
	ExprCompiled *prog = expr_arena_alloc(arena, sizeof(ExprCompiled));
	uint8_t		version;
	uint8_t		reserved;
	uint16_t	maxstack;
	int32_t		strbytes;
	const char *strs;
	size_t		fixed;
	int			i;
	ExprNode   *tree;
	ExprCompiled *again;
	ExprError	err2;
	char	   *bytes;
	size_t		blen;

	rd(&r, &version, 1);
	rd(&r, &reserved, 1);
	rd(&r, &maxstack, 2);
	rd(&r, &prog->ninstr, 4);
	rd(&r, &prog->nconst, 4);
	rd(&r, &prog->nfields, 4);
	rd(&r, &strbytes, 4);
	if (!r.ok || version != EXPR_FORMAT_VERSION || reserved != 0 ||
		prog->ninstr < 1 || prog->ninstr > EXPR_MAX_INSTR + 16 ||
		prog->nconst < 0 || prog->nconst > prog->ninstr ||
		prog->nfields < 0 || prog->nfields > prog->ninstr ||
		strbytes < 0 || (size_t) strbytes > len)
		goto corrupt;
	fixed = HEADER_BYTES + (size_t) prog->ninstr * 6 + (size_t) prog->nconst * 2 + (size_t) prog->nfields * 8;
	if (fixed + (size_t) strbytes > len)
		goto corrupt;
	strs = data + len - strbytes;
	prog->maxstack = maxstack;

	prog->code = expr_arena_alloc(arena, sizeof(ExprInstr) * prog->ninstr);
	for (i = 0; i < prog->ninstr; i++)
	{
		rd(&r, &prog->code[i].op, 1);
		rd(&r, &prog->code[i].aux, 1);
		rd(&r, &prog->code[i].arg, 4);
	}
	prog->consts = expr_arena_alloc(arena, sizeof(ExprConst) * (prog->nconst + 1));
	for (i = 0; i < prog->nconst; i++)
		if (!decode_const(&r, &prog->consts[i], strs, strbytes))
			goto corrupt;
	prog->fields = expr_arena_alloc(arena, sizeof(ExprStr) * (prog->nfields + 1));
	for (i = 0; i < prog->nfields; i++)
	{
		int32_t		off;
		int32_t		flen;
		ExprStr		segs[1];

		rd(&r, &off, 4);
		rd(&r, &flen, 4);
		if (!r.ok || off < 0 || flen <= 0 || off > strbytes || flen > strbytes - off)
			goto corrupt;
		prog->fields[i].ptr = strs + off;
		prog->fields[i].len = flen;
		/* the path must be in canonical form, without control characters
		 * (the scanner accepts none in a quoted name, so the printed text
		 * could not be read back) */
		for (int k = 0; k < flen; k++)
		{
			unsigned char ch = (unsigned char) strs[off + k];

			if (ch < 0x20 || ch == 0x7f)
				goto corrupt;
		}
		if (expr_path_split(strs + off, flen, segs, 0, arena) < 0)
			goto corrupt;
	}
	if (!r.ok || r.off + strbytes != len)
		goto corrupt;

	/* Round trip: decompile, recompile, re-encode, compare. */
	memset(&err2, 0, sizeof(err2));
	tree = expr_decompile(prog, arena, &err2);
	if (tree == NULL)
		goto corrupt;
	again = expr_compile(tree, arena, &err2);
	if (again == NULL)
		goto corrupt;
	bytes = expr_encode(again, arena, &blen);
	if (blen != len || memcmp(bytes, data, len) != 0)
		goto corrupt;
	return prog;

corrupt:
	expr_set_error(err, EXPR_ERR_CORRUPT, 0, "invalid stored condition");
	snprintf(err->detail, sizeof(err->detail), "The stored bytes are not a valid compiled condition (format version %d).",
			 EXPR_FORMAT_VERSION);
	return NULL;
}
