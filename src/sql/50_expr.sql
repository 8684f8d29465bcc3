-- ---------------------------------------------------------------------------
-- The condition language (src/expr): the stratum.condition type and the
-- functions that compile, check and evaluate conditions.  See
-- docs/conditions.md.
-- ---------------------------------------------------------------------------

CREATE TYPE stratum.condition;

CREATE FUNCTION stratum_internal.condition_in(cstring) RETURNS stratum.condition
	AS 'MODULE_PATHNAME', 'stratum_condition_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION stratum_internal.condition_in(cstring) IS 'Input function of stratum.condition: parses and compiles a condition';

CREATE FUNCTION stratum_internal.condition_out(stratum.condition) RETURNS cstring
	AS 'MODULE_PATHNAME', 'stratum_condition_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION stratum_internal.condition_out(stratum.condition) IS 'Output function of stratum.condition: the canonical text of a condition';

CREATE TYPE stratum.condition (
	INPUT = stratum_internal.condition_in,
	OUTPUT = stratum_internal.condition_out,
	INTERNALLENGTH = VARIABLE,
	ALIGNMENT = int4,
	STORAGE = extended
);
COMMENT ON TYPE stratum.condition IS 'A compiled condition ("when X"): e.g. ''spend > $1000 AND roas < 1.5''; prints in canonical form';

CREATE FUNCTION stratum_internal.condition_eq(stratum.condition, stratum.condition) RETURNS boolean
	AS 'MODULE_PATHNAME', 'stratum_condition_eq' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION stratum_internal.condition_eq(stratum.condition, stratum.condition) IS 'Whether two conditions have the same canonical form';

CREATE FUNCTION stratum_internal.condition_ne(stratum.condition, stratum.condition) RETURNS boolean
	AS 'MODULE_PATHNAME', 'stratum_condition_ne' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION stratum_internal.condition_ne(stratum.condition, stratum.condition) IS 'Whether two conditions differ in canonical form';

CREATE OPERATOR = (
	LEFTARG = stratum.condition, RIGHTARG = stratum.condition,
	FUNCTION = stratum_internal.condition_eq,
	COMMUTATOR = =, NEGATOR = <>, RESTRICT = eqsel, JOIN = eqjoinsel
);
COMMENT ON OPERATOR = (stratum.condition, stratum.condition) IS 'equal canonical forms';

CREATE OPERATOR <> (
	LEFTARG = stratum.condition, RIGHTARG = stratum.condition,
	FUNCTION = stratum_internal.condition_ne,
	COMMUTATOR = <>, NEGATOR = =, RESTRICT = neqsel, JOIN = neqjoinsel
);
COMMENT ON OPERATOR <> (stratum.condition, stratum.condition) IS 'different canonical forms';

CREATE FUNCTION stratum_condition_eval(condition stratum.condition, data jsonb) RETURNS boolean
	AS 'MODULE_PATHNAME', 'stratum_condition_eval' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION stratum_condition_eval(stratum.condition, jsonb) IS 'Evaluate a condition over a JSON document (dotted paths follow nesting); true only if the condition is true, missing values never match';

CREATE FUNCTION stratum_condition_eval_row(condition stratum.condition, data record) RETURNS boolean
	AS 'MODULE_PATHNAME', 'stratum_condition_eval_row' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION stratum_condition_eval_row(stratum.condition, record) IS 'Evaluate a condition over a row: each field is read from the column of that name (dots may be written as underscores); the fast form for WHERE clauses';

CREATE FUNCTION stratum_condition_fields(condition stratum.condition) RETURNS text[]
	AS 'MODULE_PATHNAME', 'stratum_condition_fields' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION stratum_condition_fields(stratum.condition) IS 'The field paths a condition reads, in order of first use';

CREATE FUNCTION stratum_condition_check(condition stratum.condition, context text) RETURNS stratum.condition
	AS 'MODULE_PATHNAME', 'stratum_condition_check' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION stratum_condition_check(stratum.condition, text) IS 'Check a condition''s fields against a context (profile, event, campaign, lead); returns it with unqualified names qualified, or raises an error naming the unknown field and the closest valid ones';

CREATE FUNCTION stratum_condition_compile(source text, context text) RETURNS stratum.condition
	AS 'MODULE_PATHNAME', 'stratum_condition_compile' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION stratum_condition_compile(text, text) IS 'Parse a condition and check it against a context in one step';

CREATE FUNCTION stratum_condition_context_fields(context text, OUT field text, OUT type text) RETURNS SETOF record
	AS 'MODULE_PATHNAME', 'stratum_condition_context_fields' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION stratum_condition_context_fields(text) IS 'The fields a condition may use in a context, with their types ("prefix.*" admits any key below prefix)';
