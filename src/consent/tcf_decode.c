/*-------------------------------------------------------------------------
 *
 * tcf_decode.c
 *		Decode IAB TCF v2.x TC strings (TCF v2.2 "Consent string and vendor
 *		list formats"): the core segment with vendor consents and legitimate
 *		interests in bitfield or range encoding and publisher restrictions,
 *		then the optional disclosed-vendors (1), allowed-vendors (2) and
 *		publisher-TC (3) segments, separated by dots.
 *
 *		Each segment is base64url without padding; bits are read most
 *		significant first straight from the characters, so no buffer is
 *		needed.  Nothing here allocates or depends on PostgreSQL: the fuzzer
 *		links this file alone.
 *
 *-------------------------------------------------------------------------
 */
#include "consent/tcf_decode.h"

#include <stdio.h>
#include <string.h>

/* A bit reader over one segment's characters. */
typedef struct BitReader
{
	const char *seg;			/* segment characters */
	size_t		nbits;			/* 6 per character */
	size_t		pos;			/* next bit */
	int			seg_offset;		/* segment start in the whole input */
	TcfError   *err;
} BitReader;

/*
 * b64_value
 *		Value of a base64url character, or -1.  Standard base64's '+' and '/'
 *		are accepted too, as some CMPs emit them.
 */
static int
b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-' || c == '+')
		return 62;
	if (c == '_' || c == '/')
		return 63;
	return -1;
}

/*
 * fail
 *		Record the first error (later ones are consequences) and its position.
 */
static void
fail(TcfError *err, TcfStatus status, int position, const char *detail)
{
	if (err->status != TCF_OK)
		return;
	err->status = status;
	err->position = position;
	snprintf(err->detail, sizeof(err->detail), "%s", detail);
}

/*
 * read_bits
 *		Read n (<= 36) bits as an unsigned number; on running off the end,
 *		record TCF_ERR_TRUNCATED and return 0.
 */
static int64_t
read_bits(BitReader *r, int n, const char *field)
{
	int64_t		v = 0;

	if (r->err->status != TCF_OK)
		return 0;
	if (r->pos + n > r->nbits)
	{
		char		msg[200];

		snprintf(msg, sizeof(msg),
				 "The string ends inside field %s: it needs bits %zu to %zu but the segment has %zu bits.",
				 field, r->pos, r->pos + n - 1, r->nbits);
		fail(r->err, TCF_ERR_TRUNCATED, r->seg_offset + (int) (r->nbits / 6) + 1, msg);
		return 0;
	}
	for (int i = 0; i < n; i++)
	{
		size_t		bit = r->pos + i;
		int			c = b64_value(r->seg[bit / 6]);

		v = (v << 1) | ((c >> (5 - bit % 6)) & 1);
	}
	r->pos += n;
	return v;
}

/*
 * reader_position
 *		1-based character position of the reader's current bit.
 */
static int
reader_position(const BitReader *r)
{
	return r->seg_offset + (int) (r->pos / 6) + 1;
}

/*
 * read_letters
 *		Two 6-bit letters (0 = 'A'), as in ConsentLanguage and PublisherCC.
 */
static void
read_letters(BitReader *r, char out[3], const char *field)
{
	for (int i = 0; i < 2; i++)
	{
		int			pos = reader_position(r);
		int			v = (int) read_bits(r, 6, field);

		if (v > 25)
		{
			char		msg[200];

			snprintf(msg, sizeof(msg), "Field %s holds letter number %d; letters are 0 (A) to 25 (Z).", field, v);
			fail(r->err, TCF_ERR_LANGUAGE, pos, msg);
		}
		out[i] = (char) ('A' + (v > 25 ? 0 : v));
	}
	out[2] = '\0';
}

/*
 * set_vendor
 *		Add vendor v to a set.
 */
static void
set_vendor(TcfVendorSet *set, int v)
{
	set->bits[v >> 3] |= (uint8_t) (1 << (v & 7));
}

/*
 * read_range_entry
 *		One range entry (IsARange, StartOrOnlyVendorId[, EndVendorId]),
 *		checked against MaxVendorId.  Returns false on error.
 */
static bool
read_range_entry(BitReader *r, int max_vendor_id, int *start, int *end, const char *field)
{
	int			pos = reader_position(r);
	bool		is_range = read_bits(r, 1, field) != 0;
	char		msg[200];

	*start = (int) read_bits(r, 16, field);
	*end = is_range ? (int) read_bits(r, 16, field) : *start;
	if (r->err->status != TCF_OK)
		return false;
	if (*start < 1 || *end < *start || (max_vendor_id >= 0 && *end > max_vendor_id))
	{
		snprintf(msg, sizeof(msg),
				 "%s has the vendor range %d-%d; ranges must start at 1 or above, not run backwards%s.",
				 field, *start, *end, max_vendor_id >= 0 ? " and end at or below MaxVendorId" : "");
		fail(r->err, TCF_ERR_VENDOR_RANGE, pos, msg);
		return false;
	}
	return true;
}

/*
 * read_vendor_section
 *		MaxVendorId, IsRangeEncoding, then a bitfield or NumEntries ranges.
 */
static void
read_vendor_section(BitReader *r, TcfVendorSet *set, const char *field)
{
	memset(set, 0, sizeof(*set));
	set->present = true;
	set->max_vendor_id = (int) read_bits(r, 16, field);
	set->range_encoded = read_bits(r, 1, field) != 0;
	if (r->err->status != TCF_OK)
		return;
	if (!set->range_encoded)
	{
		for (int v = 1; v <= set->max_vendor_id && r->err->status == TCF_OK; v++)
			if (read_bits(r, 1, field))
				set_vendor(set, v);
	}
	else
	{
		int			n = (int) read_bits(r, 12, field);

		for (int i = 0; i < n && r->err->status == TCF_OK; i++)
		{
			int			start,
						end;

			if (!read_range_entry(r, set->max_vendor_id, &start, &end, field))
				return;
			for (int v = start; v <= end; v++)
				set_vendor(set, v);
		}
	}
}

/*
 * read_restrictions
 *		NumPubRestrictions entries of PurposeId, RestrictionType and vendor
 *		ranges; each range is kept as one TcfRestriction.
 */
static void
read_restrictions(BitReader *r, TcfModel *m)
{
	int			n = (int) read_bits(r, 12, "NumPubRestrictions");

	for (int i = 0; i < n && r->err->status == TCF_OK; i++)
	{
		int			purpose = (int) read_bits(r, 6, "PurposeId");
		int			type = (int) read_bits(r, 2, "RestrictionType");
		int			entries = (int) read_bits(r, 12, "NumEntries");

		for (int j = 0; j < entries && r->err->status == TCF_OK; j++)
		{
			int			start,
						end;

			if (!read_range_entry(r, -1, &start, &end, "PubRestrictionEntry"))
				return;
			if (m->n_restrictions >= TCF_MAX_RESTRICTIONS)
			{
				char		msg[200];

				snprintf(msg, sizeof(msg), "The string has more than %d publisher restriction ranges.",
						 TCF_MAX_RESTRICTIONS);
				fail(r->err, TCF_ERR_TOO_MANY_RESTRICTIONS, reader_position(r), msg);
				return;
			}
			m->restrictions[m->n_restrictions].purpose = (uint8_t) purpose;
			m->restrictions[m->n_restrictions].type = (uint8_t) type;
			m->restrictions[m->n_restrictions].start = (uint16_t) start;
			m->restrictions[m->n_restrictions].end = (uint16_t) end;
			m->n_restrictions++;
		}
	}
}

/*
 * read_core
 *		The core segment, which starts with the version (no segment type).
 */
static void
read_core(BitReader *r, TcfModel *m)
{
	int			pos = reader_position(r);

	m->version = (int) read_bits(r, 6, "Version");
	if (r->err->status == TCF_OK && m->version != 2)
	{
		char		msg[200];

		snprintf(msg, sizeof(msg), "The string is TCF version %d; only version 2 (TCF v2.0 to v2.3) is supported.",
				 m->version);
		fail(r->err, TCF_ERR_VERSION, pos, msg);
		return;
	}
	m->created = read_bits(r, 36, "Created");
	m->last_updated = read_bits(r, 36, "LastUpdated");
	m->cmp_id = (int) read_bits(r, 12, "CmpId");
	m->cmp_version = (int) read_bits(r, 12, "CmpVersion");
	m->consent_screen = (int) read_bits(r, 6, "ConsentScreen");
	read_letters(r, m->consent_language, "ConsentLanguage");
	m->vendor_list_version = (int) read_bits(r, 12, "VendorListVersion");
	m->policy_version = (int) read_bits(r, 6, "TcfPolicyVersion");
	m->is_service_specific = read_bits(r, 1, "IsServiceSpecific") != 0;
	m->use_non_standard_texts = read_bits(r, 1, "UseNonStandardTexts") != 0;
	m->special_features = 0;
	for (int i = 0; i < 12; i++)
		if (read_bits(r, 1, "SpecialFeatureOptIns"))
			m->special_features |= 1u << i;
	m->purposes_consent = 0;
	for (int i = 0; i < 24; i++)
		if (read_bits(r, 1, "PurposesConsent"))
			m->purposes_consent |= 1u << i;
	m->purposes_li = 0;
	for (int i = 0; i < 24; i++)
		if (read_bits(r, 1, "PurposesLITransparency"))
			m->purposes_li |= 1u << i;
	m->purpose_one_treatment = read_bits(r, 1, "PurposeOneTreatment") != 0;
	read_letters(r, m->publisher_cc, "PublisherCC");
	read_vendor_section(r, &m->vendor_consents, "VendorConsents");
	read_vendor_section(r, &m->vendor_li, "VendorLegitimateInterests");
	read_restrictions(r, m);
}

/*
 * read_publisher_tc
 *		Segment type 3: publisher purposes and custom purposes.
 */
static void
read_publisher_tc(BitReader *r, TcfModel *m)
{
	m->has_publisher_tc = true;
	for (int i = 0; i < 24; i++)
		if (read_bits(r, 1, "PubPurposesConsent"))
			m->pub_purposes_consent |= 1u << i;
	for (int i = 0; i < 24; i++)
		if (read_bits(r, 1, "PubPurposesLITransparency"))
			m->pub_purposes_li |= 1u << i;
	m->num_custom_purposes = (int) read_bits(r, 6, "NumCustomPurposes");
	for (int i = 0; i < m->num_custom_purposes; i++)
		if (read_bits(r, 1, "CustomPurposesConsent"))
			m->custom_purposes_consent |= UINT64_C(1) << i;
	for (int i = 0; i < m->num_custom_purposes; i++)
		if (read_bits(r, 1, "CustomPurposesLITransparency"))
			m->custom_purposes_li |= UINT64_C(1) << i;
}

const char *
tcf_status_message(TcfStatus status)
{
	switch (status)
	{
		case TCF_OK:
			return "valid";
		case TCF_ERR_EMPTY:
			return "empty TC string";
		case TCF_ERR_TOO_LONG:
			return "TC string too long";
		case TCF_ERR_BASE64:
			return "invalid character in TC string";
		case TCF_ERR_TRUNCATED:
			return "TC string is truncated";
		case TCF_ERR_VERSION:
			return "unsupported TC string version";
		case TCF_ERR_LANGUAGE:
			return "invalid letter code in TC string";
		case TCF_ERR_VENDOR_RANGE:
			return "invalid vendor range in TC string";
		case TCF_ERR_TOO_MANY_RESTRICTIONS:
			return "too many publisher restrictions in TC string";
		case TCF_ERR_SEGMENT_TYPE:
			return "invalid segment type in TC string";
		case TCF_ERR_DUPLICATE_SEGMENT:
			return "duplicate segment in TC string";
	}
	return "invalid TC string";
}

/*
 * tcf_decode
 *		Decode a whole TC string.  On error the model is partly filled and
 *		must not be used.
 */
TcfError
tcf_decode(const char *s, size_t len, TcfModel *out)
{
	TcfError	err;
	size_t		seg_start = 0;
	int			nseg = 0;
	bool		seen[4] = {false, false, false, false};

	memset(&err, 0, sizeof(err));
	memset(out, 0, sizeof(*out));

	if (len == 0)
	{
		fail(&err, TCF_ERR_EMPTY, 0, "A TC string has at least a core segment.");
		return err;
	}
	if (len > TCF_MAX_INPUT)
	{
		char		msg[200];

		snprintf(msg, sizeof(msg), "The string has %zu characters; at most %d are accepted.",
				 len, TCF_MAX_INPUT);
		fail(&err, TCF_ERR_TOO_LONG, 0, msg);
		return err;
	}
	for (size_t i = 0; i < len; i++)
	{
		if (s[i] != '.' && b64_value(s[i]) < 0)
		{
			char		msg[200];
			unsigned char c = (unsigned char) s[i];

			if (c >= 0x20 && c < 0x7f)
				snprintf(msg, sizeof(msg), "Character \"%c\" is not base64url (A-Z, a-z, 0-9, \"-\", \"_\") or a segment separator \".\".", c);
			else
				snprintf(msg, sizeof(msg), "Byte 0x%02x is not base64url (A-Z, a-z, 0-9, \"-\", \"_\") or a segment separator \".\".", c);
			fail(&err, TCF_ERR_BASE64, (int) i + 1, msg);
			return err;
		}
	}

	while (seg_start <= len)
	{
		size_t		seg_end = seg_start;
		BitReader	r;

		while (seg_end < len && s[seg_end] != '.')
			seg_end++;
		r.seg = s + seg_start;
		r.nbits = (seg_end - seg_start) * 6;
		r.pos = 0;
		r.seg_offset = (int) seg_start;
		r.err = &err;

		if (seg_end == seg_start)
		{
			fail(&err, TCF_ERR_TRUNCATED, (int) seg_start + 1, "A segment is empty (two dots in a row, or a dot at either end).");
			return err;
		}
		if (nseg == 0)
			read_core(&r, out);
		else
		{
			int			type = (int) read_bits(&r, 3, "SegmentType");

			if (err.status != TCF_OK)
				return err;
			if (type < 1 || type > 3)
			{
				char		msg[200];

				snprintf(msg, sizeof(msg), "Segment %d has type %d; after the core segment only types 1 (disclosed vendors), 2 (allowed vendors) and 3 (publisher TC) may follow.",
						 nseg + 1, type);
				fail(&err, TCF_ERR_SEGMENT_TYPE, (int) seg_start + 1, msg);
				return err;
			}
			if (seen[type])
			{
				char		msg[200];

				snprintf(msg, sizeof(msg), "Segment type %d appears more than once.", type);
				fail(&err, TCF_ERR_DUPLICATE_SEGMENT, (int) seg_start + 1, msg);
				return err;
			}
			seen[type] = true;
			if (type == 1)
				read_vendor_section(&r, &out->disclosed_vendors, "DisclosedVendors");
			else if (type == 2)
				read_vendor_section(&r, &out->allowed_vendors, "AllowedVendors");
			else
				read_publisher_tc(&r, out);
		}
		if (err.status != TCF_OK)
			return err;
		nseg++;
		seg_start = seg_end + 1;
	}
	return err;
}
