/*-------------------------------------------------------------------------
 *
 * expr_compile.c
 *		Syntax tree -> postfix program (with short-circuit jumps for AND and
 *		OR), and the inverse, program -> syntax tree, used to print a stored
 *		condition and to validate stored bytes.
 *
 *-------------------------------------------------------------------------
 */
#include "expr/expr_core.h"

#include <stdio.h>

typedef struct CompileState
{
	ExprArena  *arena;
	ExprError  *err;
	ExprInstr  *code;
	int			ninstr;
	int			capinstr;
	ExprConst  *consts;
	int			nconst;
	int			capconst;
	ExprStr    *fields;
	int			nfields;
	int			capfields;
	int			depth;
	int			maxdepth;
} CompileState;

/* Static result class of a node, for the "is this a condition?" check. */
typedef enum StaticType
{
	ST_ANY,						/* field, coalesce(...), NULL: decided at runtime */
	ST_BOOL,
	ST_NUMBER,
	ST_TEXT,
	ST_TIME,
	ST_INTERVAL
} StaticType;

static const char *const static_type_names[] = {
	"value", "boolean", "number", "string", "timestamp", "interval"
};

/*
 * static_type
 *		What a node certainly yields, when that is known before evaluation.
 */
static StaticType
static_type(const ExprNode *n)
{
	switch (n->op)
	{
		case OP_CONST:
			switch (n->cval.kind)
			{
				case EXPR_NUMBER:
					return ST_NUMBER;
				case EXPR_TEXT:
					return ST_TEXT;
				case EXPR_BOOL:
					return ST_BOOL;
				case EXPR_TIMESTAMP:
					return ST_TIME;
				case EXPR_INTERVAL:
					return ST_INTERVAL;
				default:
					return ST_ANY;
			}
		case OP_NEG:
		case OP_ADD:
		case OP_SUB:
		case OP_MUL:
		case OP_DIV:
			return ST_NUMBER;	/* or time/interval; never boolean */
		case OP_EQ:
		case OP_NE:
		case OP_LT:
		case OP_LE:
		case OP_GT:
		case OP_GE:
		case OP_NOT:
		case OP_AND:
		case OP_OR:
		case OP_ISNULL:
		case OP_IN:
		case OP_BETWEEN:
			return ST_BOOL;
		case OP_CALL:
			switch (n->aux)
			{
				case FN_NOW:
					return ST_TIME;
				case FN_LOWER:
				case FN_UPPER:
					return ST_TEXT;
				case FN_COALESCE:
				case FN_LEAST:
				case FN_GREATEST:
					return ST_ANY;
				default:
					return ST_NUMBER;
			}
		default:
			return ST_ANY;
	}
}

/*
 * check_condition
 *		Reject operands of AND, OR, NOT (and the whole condition) that can
 *		never be true or false, such as "spend + 1".
 */
static bool
check_condition(const ExprNode *n, const char *where, ExprError *err)
{
	StaticType t = static_type(n);

	if (t == ST_BOOL || t == ST_ANY)
		return true;
	expr_set_error(err, EXPR_ERR_INVALID, 0, "%s must be a boolean condition, not a %s", where, static_type_names[t]);
	snprintf(err->hint, sizeof(err->hint),
			 "Compare the value with something, e.g. \"x > 0\", or test it with IS NOT NULL.");
	return false;
}

/*
 * emit
 *		Append one instruction and track the stack depth it leaves.
 */
static int
emit(CompileState *cs, int op, int aux, int arg, int pops)
{
	if (cs->ninstr == cs->capinstr)
	{
		int			ncap = cs->capinstr ? cs->capinstr * 2 : 32;
		ExprInstr  *nc = expr_arena_alloc(cs->arena, sizeof(ExprInstr) * ncap);

		if (cs->ninstr)
			memcpy(nc, cs->code, sizeof(ExprInstr) * cs->ninstr);
		cs->code = nc;
		cs->capinstr = ncap;
	}
	cs->code[cs->ninstr].op = op;
	cs->code[cs->ninstr].aux = aux;
	cs->code[cs->ninstr].arg = arg;
	cs->depth += 1 - pops;
	if (cs->depth > cs->maxdepth)
		cs->maxdepth = cs->depth;
	return cs->ninstr++;
}

/*
 * add_const / add_field
 *		Constant pool entries are kept in order of use; field paths are
 *		deduplicated so that a field used twice gets one slot.
 */
static int
add_const(CompileState *cs, const ExprConst *c)
{
	if (cs->nconst == cs->capconst)
	{
		int			ncap = cs->capconst ? cs->capconst * 2 : 8;
		ExprConst  *nc = expr_arena_alloc(cs->arena, sizeof(ExprConst) * ncap);

		if (cs->nconst)
			memcpy(nc, cs->consts, sizeof(ExprConst) * cs->nconst);
		cs->consts = nc;
		cs->capconst = ncap;
	}
	cs->consts[cs->nconst] = *c;
	return cs->nconst++;
}

static int
add_field(CompileState *cs, ExprStr path)
{
	int			i;

	for (i = 0; i < cs->nfields; i++)
		if (cs->fields[i].len == path.len && memcmp(cs->fields[i].ptr, path.ptr, path.len) == 0)
			return i;
	if (cs->nfields == cs->capfields)
	{
		int			ncap = cs->capfields ? cs->capfields * 2 : 8;
		ExprStr    *nf = expr_arena_alloc(cs->arena, sizeof(ExprStr) * ncap);

		if (cs->nfields)
			memcpy(nf, cs->fields, sizeof(ExprStr) * cs->nfields);
		cs->fields = nf;
		cs->capfields = ncap;
	}
	cs->fields[cs->nfields] = path;
	return cs->nfields++;
}

/*
 * compile_node
 *		Emit the postfix code of one subtree.
 */
static bool
compile_node(CompileState *cs, const ExprNode *n)
{
	int			i;
	int			j;

	if (cs->ninstr > EXPR_MAX_INSTR)
	{
		expr_set_error(cs->err, EXPR_ERR_LIMIT, 0, "condition is too long (more than %d operations)", EXPR_MAX_INSTR);
		return false;
	}
	switch (n->op)
	{
		case OP_CONST:
			emit(cs, OP_CONST, 0, add_const(cs, &n->cval), 0);
			return true;
		case OP_FIELD:
			emit(cs, OP_FIELD, 0, add_field(cs, n->path), 0);
			return true;
		case OP_AND:
		case OP_OR:
			if (!check_condition(n->args[0], n->op == OP_AND ? "argument of AND" : "argument of OR", cs->err) ||
				!check_condition(n->args[1], n->op == OP_AND ? "argument of AND" : "argument of OR", cs->err))
				return false;
			if (!compile_node(cs, n->args[0]))
				return false;
			j = emit(cs, n->op == OP_AND ? OP_JUMP_FALSE : OP_JUMP_TRUE, 0, 0, 0);
			if (!compile_node(cs, n->args[1]))
				return false;
			emit(cs, n->op, 0, 0, 2);
			cs->code[j].arg = cs->ninstr;
			return true;
		case OP_NOT:
			if (!check_condition(n->args[0], "argument of NOT", cs->err))
				return false;
			break;
		default:
			break;
	}
	for (i = 0; i < n->nargs; i++)
		if (!compile_node(cs, n->args[i]))
			return false;
	switch (n->op)
	{
		case OP_IN:
			emit(cs, OP_IN, n->aux, n->nargs - 1, n->nargs);
			break;
		case OP_CALL:
			emit(cs, OP_CALL, n->aux, n->nargs, n->nargs);
			break;
		default:
			emit(cs, n->op, n->aux, 0, n->nargs);
			break;
	}
	if (cs->maxdepth > EXPR_MAX_STACK)
	{
		expr_set_error(cs->err, EXPR_ERR_LIMIT, 0, "condition is too complex (it needs more than %d evaluation stack slots)", EXPR_MAX_STACK);
		return false;
	}
	return true;
}

/*
 * expr_compile
 *		Compile a syntax tree into a program; NULL with *err set on failure.
 */
ExprCompiled *
expr_compile(ExprNode *tree, ExprArena *arena, ExprError *err)
{
	CompileState cs;
	ExprCompiled *prog;

	memset(&cs, 0, sizeof(cs));
	cs.arena = arena;
	cs.err = err;
	if (!check_condition(tree, "the whole condition", err) || !compile_node(&cs, tree))
		return NULL;
	prog = expr_arena_alloc(arena, sizeof(ExprCompiled));
	prog->ninstr = cs.ninstr;
	prog->code = cs.code;
	prog->nconst = cs.nconst;
	prog->consts = cs.consts;
	prog->nfields = cs.nfields;
	prog->fields = cs.fields;
	prog->maxstack = cs.maxdepth;
	return prog;
}

/*
 * expr_compile_text
 *		Parse and compile in one step.
 */
ExprCompiled *
expr_compile_text(const char *src, size_t len, ExprArena *arena, ExprError *err)
{
	ExprNode   *tree = expr_parse(src, len, arena, err);

	if (tree == NULL)
		return NULL;
	return expr_compile(tree, arena, err);
}

/*
 * aux_limit
 *		The largest aux an instruction may carry.  Only a few operators have
 *		a flag (or, for a call, a function id); any other aux would survive
 *		decompile and recompile unchanged but be lost in the printed text.
 */
static int
aux_limit(int op)
{
	switch (op)
	{
		case OP_CALL:
			return FN_COUNT_ - 1;
		case OP_MUL:
		case OP_ISNULL:
		case OP_IN:
		case OP_BETWEEN:
			return 1;
		default:
			return 0;
	}
}

/*
 * expr_decompile
 *		Rebuild the syntax tree of a program.  Robust against arbitrary
 *		input (it only checks what it needs not to crash); expr_decode
 *		recompiles the tree and compares to catch everything else.
 */
ExprNode *
expr_decompile(const ExprCompiled *prog, ExprArena *arena, ExprError *err)
{
	ExprNode  **stack;
	int			sp = 0;
	int			pc;

	stack = expr_arena_alloc(arena, sizeof(ExprNode *) * (prog->ninstr + 1));
	for (pc = 0; pc < prog->ninstr; pc++)
	{
		const ExprInstr *in = &prog->code[pc];
		int			nargs;
		ExprNode   *n;

		switch (in->op)
		{
			case OP_JUMP_FALSE:
			case OP_JUMP_TRUE:
				continue;
			case OP_CONST:
				if (in->arg < 0 || in->arg >= prog->nconst)
					goto corrupt;
				n = expr_node_make(arena, OP_CONST, 0, 0, NULL, err);
				if (n == NULL)
					return NULL;
				n->cval = prog->consts[in->arg];
				stack[sp++] = n;
				continue;
			case OP_FIELD:
				if (in->arg < 0 || in->arg >= prog->nfields)
					goto corrupt;
				n = expr_node_make(arena, OP_FIELD, 0, 0, NULL, err);
				if (n == NULL)
					return NULL;
				n->path = prog->fields[in->arg];
				stack[sp++] = n;
				continue;
			case OP_NEG:
			case OP_NOT:
			case OP_ISNULL:
				nargs = 1;
				break;
			case OP_ADD:
			case OP_SUB:
			case OP_MUL:
			case OP_DIV:
			case OP_EQ:
			case OP_NE:
			case OP_LT:
			case OP_LE:
			case OP_GT:
			case OP_GE:
			case OP_AND:
			case OP_OR:
				nargs = 2;
				break;
			case OP_BETWEEN:
				nargs = 3;
				break;
			case OP_IN:
				if (in->arg < 1)
					goto corrupt;
				nargs = in->arg + 1;
				break;
			case OP_CALL:
				if (in->aux >= FN_COUNT_ || in->arg < expr_functions[in->aux].minargs ||
					(expr_functions[in->aux].maxargs >= 0 && in->arg > expr_functions[in->aux].maxargs))
					goto corrupt;
				nargs = in->arg;
				break;
			default:
				goto corrupt;
		}
		if (nargs > sp || in->aux > aux_limit(in->op))
			goto corrupt;
		n = expr_node_make(arena, in->op, in->aux, nargs, stack + sp - nargs, err);
		if (n == NULL)
			return NULL;
		sp -= nargs;
		stack[sp++] = n;
	}
	if (sp != 1)
		goto corrupt;
	return stack[0];

corrupt:
	expr_set_error(err, EXPR_ERR_CORRUPT, 0, "invalid stored condition");
	snprintf(err->detail, sizeof(err->detail), "The compiled program is malformed at instruction %d.", pc);
	return NULL;
}
