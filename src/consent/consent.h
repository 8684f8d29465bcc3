/*-------------------------------------------------------------------------
 *
 * consent.h
 *		Consent categories, the stratum.consent_set type and the one consent
 *		check every send, sync and personalisation path must call.
 *
 * Later capabilities (stream, rules, sync) include this header and call
 * stratum_consent_check() before they act for a profile; the outbox also
 * refuses items whose category the profile does not allow (see
 * stratum_internal.outbox_enqueue), as a safety net for a forgotten check.
 *
 *-------------------------------------------------------------------------
 */
#ifndef STRATUM_CONSENT_H
#define STRATUM_CONSENT_H

#include "postgres.h"

/*
 * A set of consent categories, stored as a bitmask in an int2-sized,
 * pass-by-value datum.  Bit order is the order the categories are listed in
 * everywhere (text output, documentation).
 */
typedef uint16 ConsentSet;

typedef enum ConsentCategory
{
	CONSENT_MARKETING = 0,
	CONSENT_ANALYTICS,
	CONSENT_PERSONALIZATION,
	CONSENT_ADVERTISING,
	CONSENT_THIRD_PARTY,
	CONSENT_NCATEGORIES
} ConsentCategory;

#define CONSENT_BIT(c)		((ConsentSet) (1 << (c)))
#define CONSENT_ALL			((ConsentSet) ((1 << CONSENT_NCATEGORIES) - 1))
/* What a Global Privacy Control signal (Sec-GPC: 1) opts out of. */
#define CONSENT_GPC_OPT_OUT	(CONSENT_BIT(CONSENT_ADVERTISING) | CONSENT_BIT(CONSENT_THIRD_PARTY))

#define DatumGetConsentSet(X)	((ConsentSet) DatumGetUInt16(X))
#define ConsentSetGetDatum(X)	UInt16GetDatum(X)
#define PG_GETARG_CONSENTSET(n)	DatumGetConsentSet(PG_GETARG_DATUM(n))
#define PG_RETURN_CONSENTSET(x)	return ConsentSetGetDatum(x)

/* The legal regime that applies to a profile. */
typedef enum ConsentRegime
{
	CONSENT_REGIME_OPT_OUT = 0,	/* CCPA/CPRA: allowed until opted out */
	CONSENT_REGIME_OPT_IN		/* GDPR: nothing allowed until granted */
} ConsentRegime;

/* Why a check came out as it did. */
typedef enum ConsentVerdict
{
	CONSENT_ALLOWED = 0,
	CONSENT_DENIED_WITHDRAWN,	/* the person withdrew (or sent GPC) */
	CONSENT_DENIED_NOT_GRANTED,	/* opt-in regime and no grant recorded */
	CONSENT_DENIED_PROFILE_DELETED,	/* erased by stratum_profiles_delete_batch */
	CONSENT_UNKNOWN_PROFILE		/* no such profile (and never deleted) */
} ConsentVerdict;

/* consent_set.c */
extern const char *const consent_category_names[CONSENT_NCATEGORIES];
extern int	consent_category_from_name(const char *name, int len);
extern char *consent_set_to_cstring(ConsentSet set);

/*
 * consent_check.c
 *
 * stratum_consent_check: whether the profile allows the category under the
 * regime that applies to it.  With lock = true the profile row is locked
 * FOR KEY SHARE until the end of the transaction, so a concurrent withdrawal
 * (which locks it FOR UPDATE) is ordered before or after the caller's
 * writes; callers that write on the strength of the answer must lock.
 * CONSENT_UNKNOWN_PROFILE is returned for ids that never existed; callers
 * decide (the event trigger and the outbox let such rows through, since
 * there is no person whose consent is known; stratum_consent_allows()
 * answers false).  Erased ids give CONSENT_DENIED_PROFILE_DELETED.
 */
extern ConsentVerdict stratum_consent_check(const char *tenant, int64 profile_id,
											ConsentCategory category, bool lock);
extern const char *consent_verdict_reason(ConsentVerdict verdict, ConsentCategory category);

#endif							/* STRATUM_CONSENT_H */
