/*-------------------------------------------------------------------------
 *
 * tcf_type.c
 *		The stratum.tcf_string type: an IAB TCF v2.x TC string, checked by
 *		the decoder on input and stored as given (so it round-trips and
 *		dumps as text), with accessor functions that decode it.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"

#include "consent/tcf_decode.h"

/*
 * tcf_decode_or_error
 *		Decode, raising the decoder's error with its position.
 */
static TcfModel *
tcf_decode_or_error(const char *s, size_t len)
{
	TcfModel   *m = palloc(sizeof(TcfModel));
	TcfError	err = tcf_decode(s, len, m);

	if (err.status != TCF_OK)
	{
		if (err.position > 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
					 errmsg("invalid input syntax for type %s: %s", "tcf_string",
							tcf_status_message(err.status)),
					 errdetail("At character %d: %s", err.position, err.detail),
					 errhint("Pass the TC string exactly as the CMP produced it (the euconsent-v2 cookie or __tcfapi tcString).")));
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid input syntax for type %s: %s", "tcf_string",
						tcf_status_message(err.status)),
				 errdetail("%s", err.detail)));
	}
	return m;
}

/*
 * arg_model
 *		Decode a tcf_string argument.
 */
static TcfModel *
arg_model(FunctionCallInfo fcinfo, int n)
{
	text	   *t = PG_GETARG_TEXT_PP(n);

	return tcf_decode_or_error(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
}

PG_FUNCTION_INFO_V1(stratum_tcf_string_in);
/*
 * stratum_tcf_string_in
 *		Accept a TC string the decoder accepts; store it unchanged.
 */
Datum
stratum_tcf_string_in(PG_FUNCTION_ARGS)
{
	char	   *s = PG_GETARG_CSTRING(0);

	tcf_decode_or_error(s, strlen(s));
	PG_RETURN_TEXT_P(cstring_to_text(s));
}

PG_FUNCTION_INFO_V1(stratum_tcf_string_out);
/*
 * stratum_tcf_string_out
 *		The string as given.
 */
Datum
stratum_tcf_string_out(PG_FUNCTION_ARGS)
{
	PG_RETURN_CSTRING(text_to_cstring(PG_GETARG_TEXT_PP(0)));
}

/*
 * bits_array
 *		int4[] of the 1-based positions of the set bits of a mask.
 */
static ArrayType *
bits_array(uint64 mask, int nbits)
{
	Datum	   *elems = palloc(sizeof(Datum) * nbits);
	int			n = 0;

	for (int i = 0; i < nbits; i++)
		if (mask & (UINT64CONST(1) << i))
			elems[n++] = Int32GetDatum(i + 1);
	return construct_array(elems, n, INT4OID, 4, true, TYPALIGN_INT);
}

/*
 * vendors_array
 *		int4[] of the vendor ids in a set.
 */
static ArrayType *
vendors_array(const TcfVendorSet *set)
{
	Datum	   *elems = palloc(sizeof(Datum) * (set->max_vendor_id + 1));
	int			n = 0;

	for (int v = 1; v <= set->max_vendor_id; v++)
		if (tcf_vendor_in(set, v))
			elems[n++] = Int32GetDatum(v);
	return construct_array(elems, n, INT4OID, 4, true, TYPALIGN_INT);
}

/*
 * append_ids
 *		JSON array of the set bits of a mask.
 */
static void
append_ids(StringInfo buf, uint64 mask, int nbits)
{
	bool		first = true;

	appendStringInfoChar(buf, '[');
	for (int i = 0; i < nbits; i++)
		if (mask & (UINT64CONST(1) << i))
		{
			appendStringInfo(buf, first ? "%d" : ", %d", i + 1);
			first = false;
		}
	appendStringInfoChar(buf, ']');
}

/*
 * append_vendors
 *		JSON object describing a vendor section.
 */
static void
append_vendors(StringInfo buf, const TcfVendorSet *set)
{
	bool		first = true;

	if (!set->present)
	{
		appendStringInfoString(buf, "null");
		return;
	}
	appendStringInfo(buf, "{\"max_vendor_id\": %d, \"encoding\": \"%s\", \"ids\": [",
					 set->max_vendor_id, set->range_encoded ? "range" : "bitfield");
	for (int v = 1; v <= set->max_vendor_id; v++)
		if (tcf_vendor_in(set, v))
		{
			appendStringInfo(buf, first ? "%d" : ", %d", v);
			first = false;
		}
	appendStringInfoString(buf, "]}");
}

/*
 * deciseconds_to_iso
 *		A TCF timestamp (deciseconds since the epoch) as ISO 8601 text.
 */
static const char *
deciseconds_to_iso(int64 ds)
{
	TimestampTz ts = (TimestampTz) (ds * 100000) -
		((TimestampTz) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY);
	struct pg_tm tm;
	fsec_t		fsec;

	if (timestamp2tm(ts, NULL, &tm, &fsec, NULL, NULL) != 0)
		return "null";
	return psprintf("\"%04d-%02d-%02dT%02d:%02d:%02d.%dZ\"", tm.tm_year, tm.tm_mon, tm.tm_mday,
					tm.tm_hour, tm.tm_min, tm.tm_sec, (int) (fsec / 100000));
}

PG_FUNCTION_INFO_V1(stratum_tcf_decode_json);
/*
 * stratum_tcf_decode_json
 *		stratum_tcf_decode(tcf_string) -> jsonb with every decoded field.
 */
Datum
stratum_tcf_decode_json(PG_FUNCTION_ARGS)
{
	TcfModel   *m = arg_model(fcinfo, 0);
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfo(&buf, "{\"version\": %d, \"created\": %s, \"last_updated\": %s, "
					 "\"cmp_id\": %d, \"cmp_version\": %d, \"consent_screen\": %d, "
					 "\"consent_language\": \"%s\", \"vendor_list_version\": %d, "
					 "\"policy_version\": %d, \"is_service_specific\": %s, "
					 "\"use_non_standard_texts\": %s, \"purpose_one_treatment\": %s, "
					 "\"publisher_cc\": \"%s\", \"special_features\": ",
					 m->version, deciseconds_to_iso(m->created), deciseconds_to_iso(m->last_updated),
					 m->cmp_id, m->cmp_version, m->consent_screen, m->consent_language,
					 m->vendor_list_version, m->policy_version,
					 m->is_service_specific ? "true" : "false",
					 m->use_non_standard_texts ? "true" : "false",
					 m->purpose_one_treatment ? "true" : "false", m->publisher_cc);
	append_ids(&buf, m->special_features, 12);
	appendStringInfoString(&buf, ", \"purposes_consent\": ");
	append_ids(&buf, m->purposes_consent, 24);
	appendStringInfoString(&buf, ", \"purposes_li\": ");
	append_ids(&buf, m->purposes_li, 24);
	appendStringInfoString(&buf, ", \"vendor_consents\": ");
	append_vendors(&buf, &m->vendor_consents);
	appendStringInfoString(&buf, ", \"vendor_li\": ");
	append_vendors(&buf, &m->vendor_li);
	appendStringInfoString(&buf, ", \"publisher_restrictions\": [");
	for (int i = 0; i < m->n_restrictions; i++)
		appendStringInfo(&buf, "%s{\"purpose\": %d, \"type\": %d, \"vendors\": [%d, %d]}",
						 i ? ", " : "", m->restrictions[i].purpose, m->restrictions[i].type,
						 m->restrictions[i].start, m->restrictions[i].end);
	appendStringInfoString(&buf, "], \"disclosed_vendors\": ");
	append_vendors(&buf, &m->disclosed_vendors);
	appendStringInfoString(&buf, ", \"allowed_vendors\": ");
	append_vendors(&buf, &m->allowed_vendors);
	appendStringInfoString(&buf, ", \"publisher_tc\": ");
	if (!m->has_publisher_tc)
		appendStringInfoString(&buf, "null");
	else
	{
		appendStringInfoString(&buf, "{\"purposes_consent\": ");
		append_ids(&buf, m->pub_purposes_consent, 24);
		appendStringInfoString(&buf, ", \"purposes_li\": ");
		append_ids(&buf, m->pub_purposes_li, 24);
		appendStringInfo(&buf, ", \"num_custom_purposes\": %d, \"custom_purposes_consent\": ",
						 m->num_custom_purposes);
		append_ids(&buf, m->custom_purposes_consent, m->num_custom_purposes);
		appendStringInfoString(&buf, ", \"custom_purposes_li\": ");
		append_ids(&buf, m->custom_purposes_li, m->num_custom_purposes);
		appendStringInfoChar(&buf, '}');
	}
	appendStringInfoChar(&buf, '}');
	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data)));
}

PG_FUNCTION_INFO_V1(stratum_tcf_purposes_consent);
/* stratum_tcf_purposes_consent(tcf) -> int[]: purposes with consent. */
Datum
stratum_tcf_purposes_consent(PG_FUNCTION_ARGS)
{
	PG_RETURN_ARRAYTYPE_P(bits_array(arg_model(fcinfo, 0)->purposes_consent, 24));
}

PG_FUNCTION_INFO_V1(stratum_tcf_purposes_li);
/* stratum_tcf_purposes_li(tcf) -> int[]: purposes with legitimate interest. */
Datum
stratum_tcf_purposes_li(PG_FUNCTION_ARGS)
{
	PG_RETURN_ARRAYTYPE_P(bits_array(arg_model(fcinfo, 0)->purposes_li, 24));
}

PG_FUNCTION_INFO_V1(stratum_tcf_special_features);
/* stratum_tcf_special_features(tcf) -> int[]: special features opted in. */
Datum
stratum_tcf_special_features(PG_FUNCTION_ARGS)
{
	PG_RETURN_ARRAYTYPE_P(bits_array(arg_model(fcinfo, 0)->special_features, 12));
}

PG_FUNCTION_INFO_V1(stratum_tcf_vendor_consents);
/* stratum_tcf_vendor_consents(tcf) -> int[]: vendors with consent. */
Datum
stratum_tcf_vendor_consents(PG_FUNCTION_ARGS)
{
	PG_RETURN_ARRAYTYPE_P(vendors_array(&arg_model(fcinfo, 0)->vendor_consents));
}

PG_FUNCTION_INFO_V1(stratum_tcf_vendor_li);
/* stratum_tcf_vendor_li(tcf) -> int[]: vendors with legitimate interest. */
Datum
stratum_tcf_vendor_li(PG_FUNCTION_ARGS)
{
	PG_RETURN_ARRAYTYPE_P(vendors_array(&arg_model(fcinfo, 0)->vendor_li));
}

PG_FUNCTION_INFO_V1(stratum_tcf_disclosed_vendors);
/* stratum_tcf_disclosed_vendors(tcf) -> int[] or NULL without that segment. */
Datum
stratum_tcf_disclosed_vendors(PG_FUNCTION_ARGS)
{
	TcfModel   *m = arg_model(fcinfo, 0);

	if (!m->disclosed_vendors.present)
		PG_RETURN_NULL();
	PG_RETURN_ARRAYTYPE_P(vendors_array(&m->disclosed_vendors));
}

PG_FUNCTION_INFO_V1(stratum_tcf_vendor_consent);
/* stratum_tcf_vendor_consent(tcf, vendor) -> bool. */
Datum
stratum_tcf_vendor_consent(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(tcf_vendor_in(&arg_model(fcinfo, 0)->vendor_consents, PG_GETARG_INT32(1)));
}

PG_FUNCTION_INFO_V1(stratum_tcf_restriction);
/*
 * stratum_tcf_restriction(tcf, purpose, vendor) -> int[] of restriction
 * types the publisher set for that vendor and purpose (empty if none).
 */
Datum
stratum_tcf_restriction(PG_FUNCTION_ARGS)
{
	TcfModel   *m = arg_model(fcinfo, 0);
	int			purpose = PG_GETARG_INT32(1);
	int			vendor = PG_GETARG_INT32(2);
	uint64		types = 0;

	for (int i = 0; i < m->n_restrictions; i++)
		if (m->restrictions[i].purpose == purpose &&
			vendor >= m->restrictions[i].start && vendor <= m->restrictions[i].end)
			types |= UINT64CONST(1) << m->restrictions[i].type;
	/* types are 0..3; report them as themselves, not 1-based */
	{
		Datum		elems[4];
		int			n = 0;

		for (int t = 0; t < 4; t++)
			if (types & (UINT64CONST(1) << t))
				elems[n++] = Int32GetDatum(t);
		PG_RETURN_ARRAYTYPE_P(construct_array(elems, n, INT4OID, 4, true, TYPALIGN_INT));
	}
}

PG_FUNCTION_INFO_V1(stratum_tcf_created);
/* stratum_tcf_created(tcf) -> timestamptz. */
Datum
stratum_tcf_created(PG_FUNCTION_ARGS)
{
	TcfModel   *m = arg_model(fcinfo, 0);

	PG_RETURN_TIMESTAMPTZ((TimestampTz) (m->created * 100000) -
						  ((TimestampTz) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY));
}

PG_FUNCTION_INFO_V1(stratum_tcf_last_updated);
/* stratum_tcf_last_updated(tcf) -> timestamptz. */
Datum
stratum_tcf_last_updated(PG_FUNCTION_ARGS)
{
	TcfModel   *m = arg_model(fcinfo, 0);

	PG_RETURN_TIMESTAMPTZ((TimestampTz) (m->last_updated * 100000) -
						  ((TimestampTz) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY));
}
