/*-------------------------------------------------------------------------
 *
 * tcf_decode.h
 *		Decoder for IAB TCF v2.x TC strings.  Pure C with no PostgreSQL
 *		dependency, so it builds on its own for the fuzzer
 *		(test/fuzz/fuzz_tcf.c); errors are returned by value.
 *
 *-------------------------------------------------------------------------
 */
#ifndef STRATUM_TCF_DECODE_H
#define STRATUM_TCF_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TCF_MAX_INPUT			65536	/* characters */
#define TCF_MAX_VENDOR_ID		65535
#define TCF_MAX_RESTRICTIONS	4096	/* (purpose, type, vendor range) triples */

/* A set of vendor ids 1..max_vendor_id, as decoded from either encoding. */
typedef struct TcfVendorSet
{
	bool		present;		/* segment present in the string */
	bool		range_encoded;	/* encoded as ranges rather than a bitfield */
	int			max_vendor_id;
	uint8_t		bits[(TCF_MAX_VENDOR_ID + 1) / 8];	/* bit v set = vendor v */
} TcfVendorSet;

/* One publisher restriction entry: purpose, type, vendors start..end. */
typedef struct TcfRestriction
{
	uint8_t		purpose;
	uint8_t		type;			/* 0 not allowed, 1 require consent, 2 require LI */
	uint16_t	start;
	uint16_t	end;
} TcfRestriction;

typedef struct TcfModel
{
	int			version;
	int64_t		created;		/* deciseconds since 1970-01-01 UTC */
	int64_t		last_updated;
	int			cmp_id;
	int			cmp_version;
	int			consent_screen;
	char		consent_language[3];
	int			vendor_list_version;
	int			policy_version;
	bool		is_service_specific;
	bool		use_non_standard_texts;
	uint32_t	special_features;	/* bit i-1 = special feature i (1..12) */
	uint32_t	purposes_consent;	/* bit i-1 = purpose i (1..24) */
	uint32_t	purposes_li;
	bool		purpose_one_treatment;
	char		publisher_cc[3];
	TcfVendorSet vendor_consents;
	TcfVendorSet vendor_li;
	int			n_restrictions;
	TcfRestriction restrictions[TCF_MAX_RESTRICTIONS];
	TcfVendorSet disclosed_vendors;	/* segment type 1 */
	TcfVendorSet allowed_vendors;	/* segment type 2 (TCF 2.0 only) */
	bool		has_publisher_tc;	/* segment type 3 */
	uint32_t	pub_purposes_consent;
	uint32_t	pub_purposes_li;
	int			num_custom_purposes;
	uint64_t	custom_purposes_consent;	/* bit i-1 = custom purpose i */
	uint64_t	custom_purposes_li;
} TcfModel;

typedef enum TcfStatus
{
	TCF_OK = 0,
	TCF_ERR_EMPTY,
	TCF_ERR_TOO_LONG,
	TCF_ERR_BASE64,
	TCF_ERR_TRUNCATED,
	TCF_ERR_VERSION,
	TCF_ERR_LANGUAGE,
	TCF_ERR_VENDOR_RANGE,
	TCF_ERR_TOO_MANY_RESTRICTIONS,
	TCF_ERR_SEGMENT_TYPE,
	TCF_ERR_DUPLICATE_SEGMENT
} TcfStatus;

typedef struct TcfError
{
	TcfStatus	status;
	int			position;		/* 1-based character position, 0 if none */
	char		detail[200];	/* a full sentence, ending in a period */
} TcfError;

/* Decode s[0..len) into *out (which the caller allocates, ~45 kB). */
extern TcfError tcf_decode(const char *s, size_t len, TcfModel *out);

/* Short description of a status, for error messages. */
extern const char *tcf_status_message(TcfStatus status);

/* Whether vendor v is in the set. */
static inline bool
tcf_vendor_in(const TcfVendorSet *set, int v)
{
	return v >= 1 && v <= set->max_vendor_id && (set->bits[v >> 3] & (1 << (v & 7))) != 0;
}

#endif							/* STRATUM_TCF_DECODE_H */
