/*-------------------------------------------------------------------------
 *
 * expr_fields.c
 *		The field registry: which field paths a condition may use in each
 *		context (profile, event, campaign, lead), with their types, and the
 *		resolution of unqualified names.  Table-driven: to add a field, add a
 *		line to the context's array.  A name ending in ".*" admits any key
 *		below that prefix (profile.traits.plan, event.properties.url, ...).
 *
 *-------------------------------------------------------------------------
 */
#include "expr/expr_core.h"

#include <stdio.h>

#define N	EXPR_FT_NUMBER
#define T	EXPR_FT_TEXT
#define B	EXPR_FT_BOOL
#define TS	EXPR_FT_TIMESTAMP
#define ANY	EXPR_FT_ANY

#define PROFILE_FIELDS \
	{"profile.profile_id", T}, {"profile.email", T}, {"profile.phone", T}, \
	{"profile.external_id", T}, {"profile.first_name", T}, {"profile.last_name", T}, \
	{"profile.company", T}, {"profile.job_title", T}, {"profile.lifecycle_stage", T}, \
	{"profile.created_at", TS}, {"profile.updated_at", TS}, {"profile.first_seen_at", TS}, \
	{"profile.last_seen_at", TS}, {"profile.total_spend", N}, {"profile.days_since_purchase", N}, \
	{"profile.churn_probability", N}, {"profile.open_tickets", N}, {"profile.email_open_rate", N}, \
	{"profile.nps", N}, {"profile.tenure_days", N}, {"profile.sessions_30d", N}, \
	{"profile.traits.*", ANY}

static const ExprFieldDef profile_fields[] = {
	PROFILE_FIELDS
};

static const ExprFieldDef event_fields[] = {
	{"event.event_type", T}, {"event.occurred_at", TS}, {"event.properties.*", ANY},
	PROFILE_FIELDS
};

static const ExprFieldDef campaign_fields[] = {
	{"spend", N}, {"revenue", N}, {"roas", N}, {"cpa", N}, {"ctr", N}, {"cvr", N},
	{"cpm", N}, {"cpc", N}, {"impressions", N}, {"clicks", N}, {"conversions", N},
	{"daily_budget", N}, {"days_active", N}, {"days_since_change", N},
	{"hour_of_day", N}, {"day_of_week", N}, {"signal_health", N}, {"emq_score", N},
	{"attribution_variance", N}, {"platform", T}, {"campaign_type", T}, {"status", T},
	{"is_brand", B}, {"is_retargeting", B}, {"campaign_name", T}, {"campaign_id", T},
	{"account.avg_cpm", N}, {"account.avg_ctr", N}, {"account.avg_roas", N},
	{"account.avg_cpa", N}, {"account.avg_cpc", N}, {"account.avg_cvr", N},
	{"account.spend", N}, {"account.revenue", N}, {"account.roas", N},
	{"account.daily_budget", N}, {"account.platform", T}, {"account.currency", T},
	{"goal.roas", N}, {"goal.cpa", N}, {"goal.ctr", N}, {"goal.cvr", N}, {"goal.cpm", N},
	{"goal.cpc", N}, {"goal.spend", N}, {"goal.revenue", N}, {"goal.conversions", N},
	{"goal.daily_budget", N},
	{"benchmark.*", ANY}
};

static const ExprFieldDef lead_fields[] = {
	{"form_name", T}, {"form_id", T}, {"campaign_name", T},
	{"lead.email", T}, {"lead.first_name", T}, {"lead.last_name", T}, {"lead.company", T},
	{"lead.job_title", T}, {"lead.phone", T}, {"lead.country", T}, {"lead.submitted_at", TS},
	{"lead.*", ANY}
};

#define LEN(a) ((int) (sizeof(a) / sizeof((a)[0])))

static const ExprContextDef contexts[] = {
	{"profile", "profile", NULL, profile_fields, LEN(profile_fields)},
	{"event", "event", NULL, event_fields, LEN(event_fields)},
	{"campaign", NULL, "campaign", campaign_fields, LEN(campaign_fields)},
	{"lead", NULL, NULL, lead_fields, LEN(lead_fields)},
};

/*
 * expr_find_context / expr_context_at / expr_context_count
 *		Look up a context by name, or enumerate them.
 */
const ExprContextDef *
expr_find_context(const char *name)
{
	int			i;

	for (i = 0; i < LEN(contexts); i++)
		if (strcmp(contexts[i].name, name) == 0)
			return &contexts[i];
	return NULL;
}

const ExprContextDef *
expr_context_at(int i)
{
	return (i >= 0 && i < LEN(contexts)) ? &contexts[i] : NULL;
}

int
expr_context_count(void)
{
	return LEN(contexts);
}

/*
 * expr_field_type_name
 *		SQL-facing name of a field type.
 */
const char *
expr_field_type_name(ExprFieldType t)
{
	switch (t)
	{
		case EXPR_FT_NUMBER:
			return "number";
		case EXPR_FT_TEXT:
			return "text";
		case EXPR_FT_BOOL:
			return "boolean";
		case EXPR_FT_TIMESTAMP:
			return "timestamp";
		default:
			return "any";
	}
}

/*
 * expr_lookup_field
 *		The registry entry matching a canonical path exactly or by a ".*"
 *		prefix, or NULL.
 */
const ExprFieldDef *
expr_lookup_field(const ExprContextDef *ctx, const char *path, size_t len)
{
	int			i;

	for (i = 0; i < ctx->nfields; i++)
	{
		const char *name = ctx->fields[i].name;
		size_t		nlen = strlen(name);

		if (nlen >= 2 && name[nlen - 1] == '*' && name[nlen - 2] == '.')
		{
			if (len > nlen - 1 && memcmp(path, name, nlen - 1) == 0)
				return &ctx->fields[i];
		}
		else if (nlen == len && memcmp(path, name, len) == 0)
			return &ctx->fields[i];
	}
	return NULL;
}

/*
 * expr_levenshtein
 *		Edit distance (insert, delete, substitute each cost 1); inputs are
 *		capped at 100 bytes, which is plenty for field names.
 */
int
expr_levenshtein(const char *a, size_t alen, const char *b, size_t blen)
{
	int			prev[101];
	int			cur[101];
	size_t		i,
				j;

	if (alen > 100)
		alen = 100;
	if (blen > 100)
		blen = 100;
	for (j = 0; j <= blen; j++)
		prev[j] = (int) j;
	for (i = 1; i <= alen; i++)
	{
		cur[0] = (int) i;
		for (j = 1; j <= blen; j++)
		{
			int			v = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);

			if (prev[j] + 1 < v)
				v = prev[j] + 1;
			if (cur[j - 1] + 1 < v)
				v = cur[j - 1] + 1;
			cur[j] = v;
		}
		memcpy(prev, cur, sizeof(int) * (blen + 1));
	}
	return prev[blen];
}

/*
 * resolve_path
 *		The canonical path for a name in a context, or NULL if unknown.
 */
static const char *
resolve_path(const ExprContextDef *ctx, ExprStr path, ExprArena *arena, int *outlen)
{
	char	   *q;
	size_t		nslen;

	if (expr_lookup_field(ctx, path.ptr, path.len))
	{
		*outlen = path.len;
		return path.ptr;
	}
	if (ctx->default_ns)
	{
		nslen = strlen(ctx->default_ns);
		q = expr_arena_alloc(arena, nslen + 1 + path.len + 1);
		memcpy(q, ctx->default_ns, nslen);
		q[nslen] = '.';
		memcpy(q + nslen + 1, path.ptr, path.len);
		if (expr_lookup_field(ctx, q, nslen + 1 + path.len))
		{
			*outlen = (int) (nslen + 1 + path.len);
			return q;
		}
	}
	if (ctx->self_ns)
	{
		nslen = strlen(ctx->self_ns);
		if ((size_t) path.len > nslen + 1 && memcmp(path.ptr, ctx->self_ns, nslen) == 0 &&
			path.ptr[nslen] == '.' &&
			expr_lookup_field(ctx, path.ptr + nslen + 1, path.len - nslen - 1))
		{
			*outlen = (int) (path.len - nslen - 1);
			return path.ptr + nslen + 1;
		}
	}
	return NULL;
}

/*
 * unknown_field_error
 *		Name the unknown field and suggest the closest valid names.
 */
static void
unknown_field_error(const ExprContextDef *ctx, ExprStr path, ExprError *err)
{
	int			best[3] = {-1, -1, -1};
	int			bestd[3] = {1000, 1000, 1000};
	int			i;
	int			limit = path.len / 3 > 2 ? path.len / 3 : 2;
	size_t		n = 0;
	size_t		nslen = ctx->default_ns ? strlen(ctx->default_ns) : 0;

	for (i = 0; i < ctx->nfields; i++)
	{
		const char *name = ctx->fields[i].name;
		int			d = expr_levenshtein(path.ptr, path.len, name, strlen(name));
		int			k;

		/* compare an unqualified name with the unqualified part as well */
		if (nslen && strncmp(name, ctx->default_ns, nslen) == 0 && name[nslen] == '.')
		{
			int			d2 = expr_levenshtein(path.ptr, path.len, name + nslen + 1, strlen(name + nslen + 1));

			if (d2 < d)
				d = d2;
		}
		if (d > limit)
			continue;
		for (k = 0; k < 3; k++)
			if (d < bestd[k])
			{
				memmove(best + k + 1, best + k, sizeof(int) * (2 - k));
				memmove(bestd + k + 1, bestd + k, sizeof(int) * (2 - k));
				best[k] = i;
				bestd[k] = d;
				break;
			}
	}
	expr_set_error(err, EXPR_ERR_FIELD, 0, "unknown field \"%.*s\" in context \"%s\"",
				   path.len > 100 ? 100 : path.len, path.ptr, ctx->name);
	if (best[0] >= 0)
	{
		n += snprintf(err->hint + n, sizeof(err->hint) - n, "Did you mean ");
		for (i = 0; i < 3 && best[i] >= 0; i++)
			n += snprintf(err->hint + n, sizeof(err->hint) - n, "%s\"%s\"",
						  i == 0 ? "" : (i + 1 < 3 && best[i + 1] >= 0 ? ", " : " or "),
						  ctx->fields[best[i]].name);
		snprintf(err->hint + n, sizeof(err->hint) - n, "?");
	}
	else
	{
		n += snprintf(err->hint + n, sizeof(err->hint) - n, "Fields of context \"%s\": ", ctx->name);
		for (i = 0; i < ctx->nfields && n < sizeof(err->hint) - 40; i++)
			n += snprintf(err->hint + n, sizeof(err->hint) - n, "%s%s", i ? ", " : "", ctx->fields[i].name);
		if (i < ctx->nfields)
			snprintf(err->hint + n, sizeof(err->hint) - n, ", ...");
		else
			snprintf(err->hint + n, sizeof(err->hint) - n, ".");
	}
}

/*
 * expr_resolve_tree
 *		Check every field of a condition against a context and replace
 *		unqualified names by their canonical paths.
 */
bool
expr_resolve_tree(ExprNode *tree, const ExprContextDef *ctx, ExprArena *arena, ExprError *err)
{
	int			i;

	if (tree->op == OP_FIELD)
	{
		int			len;
		const char *p = resolve_path(ctx, tree->path, arena, &len);

		if (p == NULL)
		{
			unknown_field_error(ctx, tree->path, err);
			return false;
		}
		tree->path.ptr = p;
		tree->path.len = len;
		return true;
	}
	for (i = 0; i < tree->nargs; i++)
		if (!expr_resolve_tree(tree->args[i], ctx, arena, err))
			return false;
	return true;
}

/*
 * expr_path_split
 *		Split a canonical dotted path into its (unquoted) segments; at most
 *		maxsegs are stored.  Returns the number of segments, or -1 if the
 *		path is not in canonical form.
 */
int
expr_path_split(const char *path, size_t len, ExprStr *segs, int maxsegs, ExprArena *arena)
{
	size_t		i = 0;
	int			nseg = 0;
	ExprBuf		canon;

	expr_buf_init(&canon, arena);
	while (i < len)
	{
		char	   *seg = expr_arena_alloc(arena, len + 1);
		int			slen = 0;

		if (nseg > 0)
		{
			if (path[i] != '.')
				return -1;
			expr_buf_append(&canon, ".", 1);
			i++;
			if (i >= len)
				return -1;
		}
		if (path[i] == '"')
		{
			i++;
			for (;;)
			{
				if (i >= len)
					return -1;
				if (path[i] == '"')
				{
					if (i + 1 < len && path[i + 1] == '"')
						i++;
					else
						break;
				}
				seg[slen++] = path[i++];
			}
			i++;
		}
		else
		{
			while (i < len && path[i] != '.')
				seg[slen++] = path[i++];
			if (slen == 0)
				return -1;
		}
		if (nseg < maxsegs)
		{
			segs[nseg].ptr = seg;
			segs[nseg].len = slen;
		}
		expr_print_path_segment(&canon, seg, slen);
		nseg++;
	}
	if (nseg == 0 || canon.len != len || memcmp(canon.data, path, len) != 0)
		return -1;
	return nseg;
}
