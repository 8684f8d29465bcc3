/*-------------------------------------------------------------------------
 *
 * slack_format.c
 *		Message templates for Slack actions: "{{profile.email}} bought
 *		{{event.properties.product}}".  A placeholder names a field of the
 *		condition language's "event" context (event.*, profile.*); it is
 *		replaced by the value in the document {"event": ..., "profile": ...}
 *		(missing: empty), escaped as Slack's mrkdwn requires (&, <, >), so a
 *		value can never inject a link or a mention.  The message is sent as
 *		{"text": ..., "channel": ...} to the incoming webhook (api-notes.md).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "nodes/pg_list.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"

#include "stream/stream.h"

PG_FUNCTION_INFO_V1(stratum_stream_render);
PG_FUNCTION_INFO_V1(stratum_stream_template_check);

#define MAX_PATH_SEGS 16

/*
 * next_placeholder
 *		Find the next "{{ path }}" at or after *pos: sets the path bounds and
 *		the end of the placeholder.  Returns false when there is none; an
 *		unclosed "{{" is an error.
 */
static bool
next_placeholder(const char *tmpl, size_t *pos, size_t *start, size_t *pstart, size_t *plen, size_t *end)
{
	const char *open = strstr(tmpl + *pos, "{{");
	const char *close;
	const char *a;
	const char *b;

	if (open == NULL)
		return false;
	close = strstr(open + 2, "}}");
	if (close == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unclosed placeholder in message template at character %d", (int) (open - tmpl) + 1),
				 errhint("Write placeholders as {{profile.email}}.")));
	a = open + 2;
	b = close;
	while (a < b && isspace((unsigned char) *a))
		a++;
	while (b > a && isspace((unsigned char) b[-1]))
		b--;
	*start = open - tmpl;
	*pstart = a - tmpl;
	*plen = b - a;
	*end = close + 2 - tmpl;
	*pos = *end;
	return true;
}

/*
 * split_simple_path
 *		Split "profile.traits.plan" at dots into segments.
 */
static int
split_simple_path(const char *p, size_t len, ExprStr *segs)
{
	int			n = 0;
	size_t		i = 0;

	while (i <= len && n < MAX_PATH_SEGS)
	{
		size_t		j = i;

		while (j < len && p[j] != '.')
			j++;
		segs[n].ptr = p + i;
		segs[n].len = j - i;
		n++;
		i = j + 1;
	}
	return n;
}

/*
 * check_path
 *		Error unless the path is a field of the "event" context.
 */
static void
check_path(const char *p, size_t len)
{
	const ExprContextDef *ctx = expr_find_context("event");

	if (len == 0 || ctx == NULL || expr_lookup_field(ctx, p, len) == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("unknown field \"%.*s\" in message template", (int) len, p),
				 errhint("Placeholders name event or profile fields, e.g. {{profile.email}}, {{profile.traits.plan}}, {{event.event_type}}, {{event.properties.url}}.")));
}

/*
 * append_escaped
 *		Append text escaped for Slack mrkdwn.
 */
static void
append_escaped(StringInfo out, const char *s, int len)
{
	int			i;

	for (i = 0; i < len; i++)
	{
		switch (s[i])
		{
			case '&':
				appendStringInfoString(out, "&amp;");
				break;
			case '<':
				appendStringInfoString(out, "&lt;");
				break;
			case '>':
				appendStringInfoString(out, "&gt;");
				break;
			default:
				appendStringInfoChar(out, s[i]);
		}
	}
}

/*
 * stream_render_template
 *		Fill a template from a document.
 */
char *
stream_render_template(const char *tmpl, Jsonb *doc)
{
	StringInfoData out;
	size_t		pos = 0,
				copied = 0,
				start,
				pstart,
				plen,
				end;

	initStringInfo(&out);
	while (next_placeholder(tmpl, &pos, &start, &pstart, &plen, &end))
	{
		ExprStr		segs[MAX_PATH_SEGS];
		int			n = split_simple_path(tmpl + pstart, plen, segs);
		JsonbValue	buf;
		JsonbValue *jv = stream_doc_lookup(doc, segs, n, &buf);

		append_escaped(&out, tmpl + copied, start - copied);
		copied = end;
		if (jv == NULL)
			continue;
		switch (jv->type)
		{
			case jbvString:
				append_escaped(&out, jv->val.string.val, jv->val.string.len);
				break;
			case jbvNumeric:
				appendStringInfoString(&out, DatumGetCString(DirectFunctionCall1(numeric_out,
																				 NumericGetDatum(jv->val.numeric))));
				break;
			case jbvBool:
				appendStringInfoString(&out, jv->val.boolean ? "true" : "false");
				break;
			case jbvBinary:
				{
					char	   *s = JsonbToCString(NULL, jv->val.binary.data, jv->val.binary.len);

					append_escaped(&out, s, strlen(s));
					break;
				}
			default:
				break;
		}
	}
	append_escaped(&out, tmpl + copied, strlen(tmpl) - copied);
	return out.data;
}

/*
 * stratum_stream_render
 *		SQL: render a template against a document.
 */
Datum
stratum_stream_render(PG_FUNCTION_ARGS)
{
	char	   *tmpl = text_to_cstring(PG_GETARG_TEXT_PP(0));
	Jsonb	   *doc = PG_GETARG_JSONB_P(1);

	PG_RETURN_TEXT_P(cstring_to_text(stream_render_template(tmpl, doc)));
}

/*
 * stratum_stream_template_check
 *		SQL: the placeholder paths of a template, after checking each.
 */
Datum
stratum_stream_template_check(PG_FUNCTION_ARGS)
{
	char	   *tmpl = text_to_cstring(PG_GETARG_TEXT_PP(0));
	size_t		pos = 0,
				start,
				pstart,
				plen,
				end;
	List	   *paths = NIL;
	Datum	   *elems;
	ListCell   *lc;
	int			n = 0;

	while (next_placeholder(tmpl, &pos, &start, &pstart, &plen, &end))
	{
		check_path(tmpl + pstart, plen);
		paths = lappend(paths, pnstrdup(tmpl + pstart, plen));
	}
	elems = palloc(sizeof(Datum) * (list_length(paths) + 1));
	foreach(lc, paths)
		elems[n++] = CStringGetTextDatum((char *) lfirst(lc));
	PG_RETURN_ARRAYTYPE_P(construct_array(elems, n, TEXTOID, -1, false, TYPALIGN_INT));
}
