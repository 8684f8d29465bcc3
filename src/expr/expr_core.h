/*-------------------------------------------------------------------------
 *
 * expr_core.h
 *		The backend-independent core of the condition language: parser,
 *		compiler, program encoding, printer, field registry and evaluator.
 *
 * Everything declared here builds both inside the server (as part of
 * stratum.so, allocating with palloc) and standalone (with -DEXPR_STANDALONE,
 * allocating with malloc) so that the fuzzing harnesses and the benchmark
 * driver can link it without a server.  The core never calls ereport: it
 * reports errors through an ExprError struct, and the backend wrapper
 * (expr_type.c) turns them into ereport(ERROR).
 *
 *-------------------------------------------------------------------------
 */
#ifndef EXPR_CORE_H
#define EXPR_CORE_H

#ifdef EXPR_STANDALONE
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#define EXPR_MALLOC(n)	malloc(n)
#define EXPR_FREE(p)	free(p)
#else
#include "postgres.h"
#define EXPR_MALLOC(n)	palloc(n)
#define EXPR_FREE(p)	pfree(p)
#endif

#include <stdint.h>

/* Limits that keep parsing, printing and evaluation bounded. */
#define EXPR_MAX_DEPTH		200		/* nesting depth of the syntax tree */
#define EXPR_MAX_STACK		1024	/* evaluation stack slots */
#define EXPR_MAX_INSTR		65536	/* instructions in one program */
#define EXPR_FORMAT_VERSION	1

/* Microseconds, as PostgreSQL's TimestampTz (epoch 2000-01-01 UTC). */
typedef int64_t ExprTimestamp;
#define EXPR_USECS_PER_SEC	INT64_C(1000000)
#define EXPR_USECS_PER_DAY	INT64_C(86400000000)

/*
 * A runtime value.  Text values point at bytes owned by the caller (a jsonb
 * datum, a tuple, the program's string pool) and are never copied; "fold"
 * records a pending lower()/upper() so that evaluation never allocates.
 */
typedef enum ExprKind
{
	EXPR_NULL = 0,				/* missing or SQL NULL; also "unknown" */
	EXPR_NUMBER,
	EXPR_TEXT,
	EXPR_BOOL,
	EXPR_TIMESTAMP,
	EXPR_INTERVAL				/* microseconds; only from literals/arithmetic */
} ExprKind;

#define EXPR_FOLD_NONE	0
#define EXPR_FOLD_LOWER	1
#define EXPR_FOLD_UPPER	2

typedef struct ExprValue
{
	uint8_t		kind;			/* ExprKind */
	uint8_t		fold;			/* EXPR_FOLD_* for text */
	int32_t		len;			/* text length in bytes */
	union
	{
		double		num;
		int64_t		ts;			/* timestamp or interval, microseconds */
		const char *str;
		bool		b;
	}			u;
} ExprValue;

/* Instruction set (postfix program over a value stack). */
typedef enum ExprOp
{
	OP_CONST = 1,				/* arg = constant index */
	OP_FIELD,					/* arg = field index (slot after binding) */
	OP_NEG,
	OP_ADD,
	OP_SUB,
	OP_MUL,						/* aux 1: written as "of" */
	OP_DIV,
	OP_EQ,
	OP_NE,
	OP_LT,
	OP_LE,
	OP_GT,
	OP_GE,
	OP_NOT,
	OP_AND,
	OP_OR,
	OP_ISNULL,					/* aux 1: IS NOT NULL */
	OP_IN,						/* arg = number of list items; aux 1: NOT IN */
	OP_BETWEEN,					/* aux 1: NOT BETWEEN */
	OP_CALL,					/* aux = function id, arg = number of args */
	OP_JUMP_FALSE,				/* arg = target; jump if top is FALSE */
	OP_JUMP_TRUE,				/* arg = target; jump if top is TRUE */
	OP_CMP_FC,					/* bound programs only: field op const */
	OP_END_
} ExprOp;

typedef struct ExprInstr
{
	uint8_t		op;
	uint8_t		aux;
	uint16_t	aux2;			/* OP_CMP_FC: the comparison op */
	int32_t		arg;
	int32_t		arg2;			/* OP_CMP_FC: constant index */
} ExprInstr;

/* Functions callable from conditions (the allow-list). */
typedef enum ExprFunc
{
	FN_NOW = 0,
	FN_DAYS_SINCE,
	FN_HOURS_SINCE,
	FN_HOUR_OF_DAY,
	FN_DAY_OF_WEEK,
	FN_LOWER,
	FN_UPPER,
	FN_LENGTH,
	FN_COALESCE,
	FN_ABS,
	FN_ROUND,
	FN_LEAST,
	FN_GREATEST,
	FN_COUNT_
} ExprFunc;

typedef struct ExprFuncInfo
{
	const char *name;
	int			minargs;
	int			maxargs;		/* -1: any number */
} ExprFuncInfo;

extern const ExprFuncInfo expr_functions[FN_COUNT_];

/* How a numeric, interval or timestamp literal was written. */
#define EXPR_STYLE_PLAIN	0
#define EXPR_STYLE_PERCENT	1	/* 50% */
#define EXPR_STYLE_MONEY	2	/* $1000 */
#define EXPR_STYLE_DATE		3	/* date '2024-01-01' */
#define EXPR_STYLE_TIMESTAMP 4	/* timestamp '2024-01-01 10:00:00+00' */
/* intervals: style = unit index (EXPR_UNIT_*) */
#define EXPR_UNIT_SECOND	0
#define EXPR_UNIT_MINUTE	1
#define EXPR_UNIT_HOUR		2
#define EXPR_UNIT_DAY		3
#define EXPR_UNIT_WEEK		4
#define EXPR_UNIT_COUNT_	5

/* A literal in the constant pool. */
typedef struct ExprConst
{
	uint8_t		kind;			/* ExprKind */
	uint8_t		style;			/* EXPR_STYLE_* or EXPR_UNIT_* */
	double		written;		/* the number as written (50 for 50%) */
	ExprValue	value;			/* the value used at runtime */
} ExprConst;

/* A length-counted string (not necessarily NUL-terminated). */
typedef struct ExprStr
{
	const char *ptr;
	int32_t		len;
} ExprStr;

/* Syntax tree node, produced by the parser and by the decompiler. */
typedef struct ExprNode
{
	uint8_t		op;				/* ExprOp (never a jump) */
	uint8_t		aux;			/* as for ExprInstr */
	int			depth;
	int			nargs;
	struct ExprNode **args;
	ExprConst	cval;			/* OP_CONST */
	ExprStr		path;			/* OP_FIELD: canonical dotted path */
} ExprNode;

/* An error reported by the core. */
typedef enum ExprErrorKind
{
	EXPR_OK = 0,
	EXPR_ERR_SYNTAX,			/* message, detail, position */
	EXPR_ERR_INVALID,			/* semantic error in the text (bad function, ...) */
	EXPR_ERR_LIMIT,				/* too deep / too long */
	EXPR_ERR_CORRUPT,			/* stored program fails validation */
	EXPR_ERR_FIELD				/* unknown field for a context */
} ExprErrorKind;

typedef struct ExprError
{
	ExprErrorKind kind;
	int			position;		/* 1-based character offset, 0 if none */
	char		message[256];
	char		detail[512];
	char		hint[512];
} ExprError;

/* Allocation arena: every core allocation for one operation lives here. */
typedef struct ExprArenaBlock
{
	struct ExprArenaBlock *next;
	size_t		used;
	size_t		size;
	/* data follows, maximally aligned */
} ExprArenaBlock;

typedef struct ExprArena
{
	ExprArenaBlock *head;
} ExprArena;

extern void *expr_arena_alloc(ExprArena *arena, size_t size);
extern char *expr_arena_strdup(ExprArena *arena, const char *s, size_t len);
extern void expr_arena_free(ExprArena *arena);

/* A compiled program in memory (decoded from or encoded to a varlena). */
typedef struct ExprCompiled
{
	int			ninstr;
	ExprInstr  *code;
	int			nconst;
	ExprConst  *consts;
	int			nfields;
	ExprStr    *fields;			/* canonical dotted paths, first-use order */
	int			maxstack;
} ExprCompiled;

/* A growable byte buffer used by the printer and the encoder. */
typedef struct ExprBuf
{
	ExprArena  *arena;
	char	   *data;
	size_t		len;
	size_t		cap;
} ExprBuf;

extern void expr_buf_init(ExprBuf *buf, ExprArena *arena);
extern void expr_buf_append(ExprBuf *buf, const char *s, size_t len);
extern void expr_buf_puts(ExprBuf *buf, const char *s);
extern void expr_buf_printf(ExprBuf *buf, const char *fmt,...);

/* expr_parse.c: text -> syntax tree (NULL and *err set on failure) */
extern ExprNode *expr_parse(const char *src, size_t len, ExprArena *arena, ExprError *err);
extern ExprNode *expr_node_make(ExprArena *arena, int op, int aux, int nargs, ExprNode **args, ExprError *err);
extern const char *expr_unit_names[EXPR_UNIT_COUNT_];
extern const int64_t expr_unit_usecs[EXPR_UNIT_COUNT_];
extern bool expr_is_keyword(const char *s, size_t len);
extern int	expr_lookup_function(const char *name, size_t len);

/* expr_compile.c: syntax tree <-> program */
extern ExprCompiled *expr_compile(ExprNode *tree, ExprArena *arena, ExprError *err);
extern ExprNode *expr_decompile(const ExprCompiled *prog, ExprArena *arena, ExprError *err);

/* expr_encode.c: program <-> flat bytes (the varlena payload) */
extern char *expr_encode(const ExprCompiled *prog, ExprArena *arena, size_t *len);
extern ExprCompiled *expr_decode(const char *data, size_t len, ExprArena *arena, ExprError *err);

/* expr_print.c: syntax tree -> canonical text (NUL-terminated) */
extern char *expr_print(const ExprNode *tree, ExprArena *arena);
extern void expr_print_path_segment(ExprBuf *buf, const char *s, size_t len);
extern int	expr_format_timestamp(ExprTimestamp ts, bool date_only, char *out, size_t outlen);
extern bool expr_parse_timestamp(const char *s, size_t len, bool date_only, ExprTimestamp *out);
extern void expr_format_number(double v, char *out, size_t outlen);

/* expr_fields.c: field registry and context resolution */
typedef enum ExprFieldType
{
	EXPR_FT_ANY = 0,
	EXPR_FT_NUMBER,
	EXPR_FT_TEXT,
	EXPR_FT_BOOL,
	EXPR_FT_TIMESTAMP
} ExprFieldType;

typedef struct ExprFieldDef
{
	const char *name;			/* canonical path; "prefix.*" matches any key below */
	ExprFieldType type;
} ExprFieldDef;

typedef struct ExprContextDef
{
	const char *name;			/* profile, event, campaign, lead */
	const char *default_ns;		/* namespace for unqualified names, or NULL */
	const char *self_ns;		/* "campaign.spend" means "spend" here, or NULL */
	const ExprFieldDef *fields;
	int			nfields;
} ExprContextDef;

extern const ExprContextDef *expr_find_context(const char *name);
extern const ExprContextDef *expr_context_at(int i);
extern int	expr_context_count(void);
extern const char *expr_field_type_name(ExprFieldType t);
extern bool expr_resolve_tree(ExprNode *tree, const ExprContextDef *ctx, ExprArena *arena, ExprError *err);
extern const ExprFieldDef *expr_lookup_field(const ExprContextDef *ctx, const char *path, size_t len);
extern int	expr_levenshtein(const char *a, size_t alen, const char *b, size_t blen);
extern int	expr_path_split(const char *path, size_t len, ExprStr *segs, int maxsegs, ExprArena *arena);

/* expr_eval.c: binding to slots and evaluation */
typedef struct ExprProgram
{
	int			ninstr;
	ExprInstr  *code;
	ExprValue  *consts;
	int			maxstack;
	int			nslots;
} ExprProgram;

/*
 * The time zone in which hour_of_day() and day_of_week() read a timestamp:
 * offset() gives local time minus UTC, in microseconds, at a UTC instant.
 * A NULL zone is UTC.  The core knows no time zone database; the server
 * supplies one (expr_type.c).
 */
typedef struct ExprZone ExprZone;
struct ExprZone
{
	int64_t		(*offset) (const ExprZone *zone, ExprTimestamp utc);
	const void *arg;
};

extern ExprProgram *expr_program_bind(const ExprCompiled *prog, const int *field_slot, int nslots, ExprArena *arena);
extern bool expr_program_eval(const ExprProgram *prog, const ExprValue *slots, ExprTimestamp now,
							  const ExprZone *zone);
extern bool expr_program_uses_zone(const ExprProgram *prog);
extern int	expr_value_compare_text(const ExprValue *a, const ExprValue *b);

/* convenience for standalone users: text -> compiled program */
extern ExprCompiled *expr_compile_text(const char *src, size_t len, ExprArena *arena, ExprError *err);

/* Set an error (printf-style message). */
extern void expr_set_error(ExprError *err, ExprErrorKind kind, int position, const char *fmt,...);

#endif							/* EXPR_CORE_H */
