/*-------------------------------------------------------------------------
 *
 * expr_arena.c
 *		Allocation arena, growable buffer and error reporting for the core
 *		of the condition language (usable in and outside the server).
 *
 *-------------------------------------------------------------------------
 */
#include "expr/expr_core.h"

#include <stdarg.h>
#include <stdio.h>

#define ARENA_ALIGN		16
#define ARENA_HDR		((sizeof(ExprArenaBlock) + ARENA_ALIGN - 1) & ~(size_t) (ARENA_ALIGN - 1))
#define ARENA_MIN_BLOCK	8192

/*
 * expr_arena_alloc
 *		Zeroed memory from the arena; freed all at once by expr_arena_free
 *		(or with the memory context, inside the server).
 */
void *
expr_arena_alloc(ExprArena *arena, size_t size)
{
	ExprArenaBlock *blk = arena->head;
	char	   *p;

	size = (size + ARENA_ALIGN - 1) & ~(size_t) (ARENA_ALIGN - 1);
	if (blk == NULL || blk->size - blk->used < size)
	{
		size_t		bsize = size > ARENA_MIN_BLOCK ? size : ARENA_MIN_BLOCK;

		blk = (ExprArenaBlock *) EXPR_MALLOC(ARENA_HDR + bsize);
		blk->next = arena->head;
		blk->used = 0;
		blk->size = bsize;
		arena->head = blk;
	}
	p = (char *) blk + ARENA_HDR + blk->used;
	blk->used += size;
	memset(p, 0, size);
	return p;
}

/*
 * expr_arena_strdup
 *		Copy len bytes into the arena and NUL-terminate them.
 */
char *
expr_arena_strdup(ExprArena *arena, const char *s, size_t len)
{
	char	   *p = expr_arena_alloc(arena, len + 1);

	if (len > 0)
		memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

/*
 * expr_arena_free
 *		Release every block of the arena.
 */
void
expr_arena_free(ExprArena *arena)
{
	ExprArenaBlock *blk = arena->head;

	while (blk)
	{
		ExprArenaBlock *next = blk->next;

		EXPR_FREE(blk);
		blk = next;
	}
	arena->head = NULL;
}

/*
 * expr_buf_init
 *		Start an empty buffer whose storage comes from the arena.
 */
void
expr_buf_init(ExprBuf *buf, ExprArena *arena)
{
	buf->arena = arena;
	buf->cap = 64;
	buf->len = 0;
	buf->data = expr_arena_alloc(arena, buf->cap);
}

/*
 * expr_buf_append
 *		Append len bytes, keeping the buffer NUL-terminated.
 */
void
expr_buf_append(ExprBuf *buf, const char *s, size_t len)
{
	if (buf->len + len + 1 > buf->cap)
	{
		size_t		ncap = buf->cap * 2;
		char	   *nd;

		while (ncap < buf->len + len + 1)
			ncap *= 2;
		nd = expr_arena_alloc(buf->arena, ncap);
		memcpy(nd, buf->data, buf->len);
		buf->data = nd;
		buf->cap = ncap;
	}
	if (len > 0)
		memcpy(buf->data + buf->len, s, len);
	buf->len += len;
	buf->data[buf->len] = '\0';
}

/*
 * expr_buf_puts
 *		Append a NUL-terminated string.
 */
void
expr_buf_puts(ExprBuf *buf, const char *s)
{
	expr_buf_append(buf, s, strlen(s));
}

/*
 * expr_buf_printf
 *		Append formatted text (short pieces only: at most 255 bytes).
 */
void
expr_buf_printf(ExprBuf *buf, const char *fmt,...)
{
	char		tmp[256];
	va_list		ap;
	int			n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (n >= (int) sizeof(tmp))
		n = sizeof(tmp) - 1;
	expr_buf_append(buf, tmp, n);
}

/*
 * expr_set_error
 *		Record the first error of an operation; later ones are ignored so
 *		that the most precise report (usually the earliest) wins.
 */
void
expr_set_error(ExprError *err, ExprErrorKind kind, int position, const char *fmt,...)
{
	va_list		ap;

	if (err->kind != EXPR_OK)
		return;
	err->kind = kind;
	err->position = position;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
}
