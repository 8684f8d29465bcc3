/*-------------------------------------------------------------------------
 *
 * consent_check.c
 *		The one consent check: does a profile allow a category under the
 *		regime that applies to it?  Used by the event trigger
 *		(consent_trigger.c), the outbox and, through consent.h, by every
 *		later send/sync path; stratum_consent_allows() is its SQL face.
 *
 *		Cost matters (it runs for every stored event), so:
 *		 - the profile's current consent is read from stratum.profiles
 *		   through its primary-key index with a direct index scan, and the
 *		   row is locked FOR KEY SHARE (a withdrawal locks it FOR UPDATE, so
 *		   the two are ordered; see stratum_consent_record);
 *		 - answers are memoised for the rest of the current command, so a
 *		   bulk INSERT of many events of one profile looks it up once;
 *		 - each tenant's regime configuration is cached per backend and
 *		   dropped by a relcache callback when stratum.consent_settings or
 *		   stratum.consent_regions change (their triggers send the
 *		   invalidation, which other backends receive at commit).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/skey.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_collation.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "storage/proc.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "consent/consent.h"

#define TENANT_KEY_LEN	64		/* tenant keys are at most 63 characters */
#define REGION_LEN		16

/* Where things are; found on first use, forgotten on relcache invalidation. */
typedef struct ConsentCatalog
{
	bool		valid;
	Oid			profiles_relid;
	Oid			profiles_pkey;
	Oid			settings_relid;
	Oid			regions_relid;
	AttrNumber	att_granted;
	AttrNumber	att_denied;
	AttrNumber	att_region;
	AttrNumber	att_traits;
} ConsentCatalog;

/* A tenant's regime configuration. */
typedef struct TenantRegimes
{
	char		tenant[TENANT_KEY_LEN];	/* hash key */
	ConsentRegime default_regime;
	int			nregions;
	char		(*regions)[REGION_LEN];
	ConsentRegime *regimes;
} TenantRegimes;

/* A profile's consent as read for the current command. */
typedef struct ProfileKey
{
	char		tenant[TENANT_KEY_LEN];
	int64		profile_id;
} ProfileKey;

typedef struct ProfileConsent
{
	ProfileKey	key;			/* hash key */
	bool		locked;
	bool		exists;
	bool		deleted;
	ConsentSet	granted;
	ConsentSet	denied;
	ConsentRegime regime;
} ProfileConsent;

static ConsentCatalog catalog;
static bool callback_registered = false;
static MemoryContext consent_cache_cxt = NULL;
static HTAB *tenant_cache = NULL;
static MemoryContext profile_cache_cxt = NULL;
static HTAB *profile_cache = NULL;
static LocalTransactionId profile_cache_lxid = InvalidLocalTransactionId;
static CommandId profile_cache_cid = InvalidCommandId;
static SPIPlanPtr tenant_plan = NULL;
static SPIPlanPtr deleted_plan = NULL;

/*
 * consent_relcache_callback
 *		Forget cached configuration when a table it came from changes (the
 *		settings triggers send these), and forget the catalog when the
 *		profiles table changes (DROP EXTENSION, ALTER TABLE).
 */
static void
consent_relcache_callback(Datum arg, Oid relid)
{
	if (!catalog.valid)
		return;
	if (relid == InvalidOid || relid == catalog.settings_relid ||
		relid == catalog.regions_relid || relid == catalog.profiles_relid)
	{
		if (tenant_cache != NULL)
		{
			MemoryContextReset(consent_cache_cxt);
			tenant_cache = NULL;
		}
		profile_cache = NULL;
		profile_cache_lxid = InvalidLocalTransactionId;
		if (relid == InvalidOid || relid == catalog.profiles_relid)
			catalog.valid = false;
	}
}

/*
 * attnum_of
 *		Column number of a column of stratum.profiles; an error if missing.
 */
static AttrNumber
attnum_of(Oid relid, const char *name)
{
	AttrNumber	att = get_attnum(relid, name);

	if (att == InvalidAttrNumber)
		elog(ERROR, "stratum.profiles has no column \"%s\"; is the extension installed completely?", name);
	return att;
}

/*
 * consent_catalog_load
 *		Find the tables and columns the check reads.
 */
static void
consent_catalog_load(void)
{
	Oid			nsp;
	Relation	rel;

	if (catalog.valid)
		return;
	if (!callback_registered)
	{
		CacheRegisterRelcacheCallback(consent_relcache_callback, (Datum) 0);
		callback_registered = true;
	}
	nsp = get_namespace_oid("stratum", false);
	catalog.profiles_relid = get_relname_relid("profiles", nsp);
	catalog.settings_relid = get_relname_relid("consent_settings", nsp);
	catalog.regions_relid = get_relname_relid("consent_regions", nsp);
	if (!OidIsValid(catalog.profiles_relid) || !OidIsValid(catalog.settings_relid) ||
		!OidIsValid(catalog.regions_relid))
		elog(ERROR, "stratum consent tables are missing; is the extension installed completely?");
	rel = table_open(catalog.profiles_relid, AccessShareLock);
	catalog.profiles_pkey = RelationGetPrimaryKeyIndex(rel);
	table_close(rel, AccessShareLock);
	catalog.att_granted = attnum_of(catalog.profiles_relid, "consent_granted");
	catalog.att_denied = attnum_of(catalog.profiles_relid, "consent_denied");
	catalog.att_region = attnum_of(catalog.profiles_relid, "consent_region");
	catalog.att_traits = attnum_of(catalog.profiles_relid, "traits");
	catalog.valid = true;
}

/*
 * parse_regime
 *		'opt_in' or 'opt_out' as stored in the settings tables.
 */
static ConsentRegime
parse_regime(const char *s)
{
	return strcmp(s, "opt_in") == 0 ? CONSENT_REGIME_OPT_IN : CONSENT_REGIME_OPT_OUT;
}

/*
 * tenant_regimes
 *		The tenant's regime configuration, from the cache or loaded with
 *		stratum_internal.consent_tenant_regimes() (SECURITY DEFINER, so the
 *		caller needs no rights on the settings tables).
 */
static TenantRegimes *
tenant_regimes(const char *tenant)
{
	TenantRegimes *tr;
	bool		found;
	char		key[TENANT_KEY_LEN];
	Datum		arg;
	int			rc;

	if (tenant_cache == NULL)
	{
		HASHCTL		ctl;

		if (consent_cache_cxt == NULL)
			consent_cache_cxt = AllocSetContextCreate(CacheMemoryContext, "stratum consent config",
													  ALLOCSET_SMALL_SIZES);
		ctl.keysize = TENANT_KEY_LEN;
		ctl.entrysize = sizeof(TenantRegimes);
		ctl.hcxt = consent_cache_cxt;
		tenant_cache = hash_create("stratum consent tenants", 16, &ctl,
								   HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
	}
	memset(key, 0, sizeof(key));
	strlcpy(key, tenant, sizeof(key));
	tr = hash_search(tenant_cache, key, HASH_FIND, NULL);
	if (tr != NULL)
		return tr;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (tenant_plan == NULL)
	{
		Oid			argtypes[1] = {TEXTOID};

		tenant_plan = SPI_prepare("SELECT region, regime FROM stratum_internal.consent_tenant_regimes($1)",
								  1, argtypes);
		if (tenant_plan == NULL)
			elog(ERROR, "could not prepare the consent configuration query");
		SPI_keepplan(tenant_plan);
	}
	arg = CStringGetTextDatum(tenant);
	rc = SPI_execute_plan(tenant_plan, &arg, NULL, true, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "consent configuration query failed: %s", SPI_result_code_string(rc));

	/* The cache may have been reset by invalidations processed meanwhile. */
	if (tenant_cache == NULL)
	{
		SPI_finish();
		return tenant_regimes(tenant);
	}
	tr = hash_search(tenant_cache, key, HASH_ENTER, &found);
	tr->default_regime = CONSENT_REGIME_OPT_OUT;
	tr->nregions = 0;
	tr->regions = MemoryContextAllocZero(consent_cache_cxt, sizeof(*tr->regions) * Max(SPI_processed, 1));
	tr->regimes = MemoryContextAllocZero(consent_cache_cxt, sizeof(ConsentRegime) * Max(SPI_processed, 1));
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		char	   *region = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);
		char	   *regime = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2);

		if (region == NULL || regime == NULL)
			continue;
		if (strcmp(region, "*") == 0)
			tr->default_regime = parse_regime(regime);
		else
		{
			strlcpy(tr->regions[tr->nregions], region, REGION_LEN);
			tr->regimes[tr->nregions] = parse_regime(regime);
			tr->nregions++;
		}
	}
	SPI_finish();
	return tr;
}

/*
 * regime_for_region
 *		Exact region ('US-CA'), then its country ('US'), then the default.
 */
static ConsentRegime
regime_for_region(const TenantRegimes *tr, const char *region, int len)
{
	int			country_len = 0;

	if (len <= 0 || tr->nregions == 0)
		return tr->default_regime;
	while (country_len < len && region[country_len] != '-')
		country_len++;
	for (int pass = 0; pass < 2; pass++)
	{
		int			want = pass == 0 ? len : country_len;

		if (pass == 1 && country_len == len)
			break;
		for (int i = 0; i < tr->nregions; i++)
			if ((int) strlen(tr->regions[i]) == want &&
				pg_strncasecmp(tr->regions[i], region, want) == 0)
				return tr->regimes[i];
	}
	return tr->default_regime;
}

/*
 * profile_was_deleted
 *		Whether the id is in stratum.profile_deletions (erased on request).
 */
static bool
profile_was_deleted(const char *tenant, int64 profile_id)
{
	Datum		args[2];
	bool		result;
	bool		isnull;
	int			rc;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (deleted_plan == NULL)
	{
		Oid			argtypes[2] = {TEXTOID, INT8OID};

		deleted_plan = SPI_prepare("SELECT stratum_internal.profile_was_deleted($1, $2)", 2, argtypes);
		if (deleted_plan == NULL)
			elog(ERROR, "could not prepare the deleted-profile query");
		SPI_keepplan(deleted_plan);
	}
	args[0] = CStringGetTextDatum(tenant);
	args[1] = Int64GetDatum(profile_id);
	rc = SPI_execute_plan(deleted_plan, args, NULL, true, 1);
	if (rc != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "deleted-profile query failed: %s", SPI_result_code_string(rc));
	result = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	SPI_finish();
	return !isnull && result;
}

/*
 * profile_scan
 *		Find the profile row through the primary key with the given
 *		snapshot; true and its TID in *tid if found.
 */
static bool
profile_scan(Relation rel, Relation idx, Snapshot snapshot, const char *tenant, int64 profile_id,
			 TupleTableSlot *slot)
{
	ScanKeyData keys[2];
	IndexScanDesc scan;
	bool		found;

	ScanKeyInit(&keys[0], 1, BTEqualStrategyNumber, F_TEXTEQ, CStringGetTextDatum(tenant));
	keys[0].sk_collation = idx->rd_indcollation[0];
	ScanKeyInit(&keys[1], 2, BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(profile_id));
	scan = index_beginscan(rel, idx, snapshot, 2, 0);
	index_rescan(scan, keys, 2, NULL, 0);
	found = index_getnext_slot(scan, ForwardScanDirection, slot);
	index_endscan(scan);
	return found;
}

/*
 * profile_read
 *		Look the profile up, locking it FOR KEY SHARE if asked, and fill in
 *		its consent and the regime that applies to it.
 */
static void
profile_read(const char *tenant, int64 profile_id, bool lock, ProfileConsent *pc)
{
	Relation	rel;
	Relation	idx;
	TupleTableSlot *slot;
	Snapshot	snapshot = ActiveSnapshotSet() ? GetActiveSnapshot() : GetTransactionSnapshot();
	LOCKMODE	lockmode = lock ? RowShareLock : AccessShareLock;
	bool		found;

	consent_catalog_load();
	rel = table_open(catalog.profiles_relid, lockmode);
	idx = index_open(catalog.profiles_pkey, AccessShareLock);
	slot = table_slot_create(rel, NULL);

	found = profile_scan(rel, idx, snapshot, tenant, profile_id, slot);
	if (found && lock)
	{
		ItemPointerData tid = slot->tts_tid;
		TM_FailureData tmfd;
		TM_Result	res;

		res = table_tuple_lock(rel, &tid, snapshot, slot, GetCurrentCommandId(false),
							   LockTupleKeyShare, LockWaitBlock,
							   IsolationUsesXactSnapshot() ? 0 : TUPLE_LOCK_FLAG_FIND_LAST_VERSION,
							   &tmfd);
		switch (res)
		{
			case TM_Ok:
				break;
			case TM_SelfModified:
				/* changed by this very command: read our own latest version */
				found = profile_scan(rel, idx, SnapshotSelf, tenant, profile_id, slot);
				break;
			case TM_Deleted:
				if (IsolationUsesXactSnapshot())
					ereport(ERROR,
							(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
							 errmsg("could not serialize access due to concurrent delete"),
							 errdetail("Profile %lld was deleted by a concurrent transaction.",
									   (long long) profile_id)));
				found = false;
				pc->deleted = true;
				break;
			case TM_Updated:
				ereport(ERROR,
						(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
						 errmsg("could not serialize access due to concurrent update"),
						 errdetail("Profile %lld was changed by a concurrent transaction.",
								   (long long) profile_id)));
				break;
			default:
				elog(ERROR, "unexpected result %d locking profile %lld", (int) res,
					 (long long) profile_id);
		}
	}

	pc->exists = found;
	pc->locked = lock;
	pc->granted = 0;
	pc->denied = 0;
	pc->regime = CONSENT_REGIME_OPT_OUT;
	if (found)
	{
		bool		isnull;
		Datum		d;
		TenantRegimes *tr;

		d = slot_getattr(slot, catalog.att_granted, &isnull);
		pc->granted = isnull ? 0 : DatumGetConsentSet(d);
		d = slot_getattr(slot, catalog.att_denied, &isnull);
		pc->denied = isnull ? 0 : DatumGetConsentSet(d);

		tr = tenant_regimes(tenant);
		pc->regime = tr->default_regime;
		if (tr->nregions > 0)
		{
			d = slot_getattr(slot, catalog.att_region, &isnull);
			if (!isnull)
			{
				text	   *t = DatumGetTextPP(d);

				pc->regime = regime_for_region(tr, VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
			}
			else
			{
				d = slot_getattr(slot, catalog.att_traits, &isnull);
				if (!isnull)
				{
					Jsonb	   *jb = DatumGetJsonbP(d);
					JsonbValue *v = getKeyJsonValueFromContainer(&jb->root, "country", 7, NULL);

					if (v != NULL && v->type == jbvString)
						pc->regime = regime_for_region(tr, v->val.string.val, v->val.string.len);
				}
			}
		}
	}
	ExecDropSingleTupleTableSlot(slot);
	index_close(idx, AccessShareLock);
	table_close(rel, NoLock);	/* keep the lock until the end of the transaction */

	if (!found && !pc->deleted)
		pc->deleted = profile_was_deleted(tenant, profile_id);
}

/*
 * profile_consent
 *		The profile's consent, memoised for the current command.
 */
static ProfileConsent *
profile_consent(const char *tenant, int64 profile_id, bool lock)
{
	ProfileKey	key;
	ProfileConsent *pc;
	bool		found;
	CommandId	cid = GetCurrentCommandId(false);

	if (profile_cache == NULL || profile_cache_lxid != MyProc->lxid || profile_cache_cid != cid)
	{
		HASHCTL		ctl;

		if (profile_cache_cxt == NULL)
			profile_cache_cxt = AllocSetContextCreate(TopMemoryContext, "stratum consent profiles",
													  ALLOCSET_DEFAULT_SIZES);
		else
			MemoryContextReset(profile_cache_cxt);
		ctl.keysize = sizeof(ProfileKey);
		ctl.entrysize = sizeof(ProfileConsent);
		ctl.hcxt = profile_cache_cxt;
		profile_cache = hash_create("stratum consent profiles", 256, &ctl,
									HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
		profile_cache_lxid = MyProc->lxid;
		profile_cache_cid = cid;
	}
	memset(&key, 0, sizeof(key));
	strlcpy(key.tenant, tenant, sizeof(key.tenant));
	key.profile_id = profile_id;
	pc = hash_search(profile_cache, &key, HASH_FIND, NULL);
	if (pc != NULL && (pc->locked || !lock))
		return pc;

	{
		ProfileConsent fresh;

		memset(&fresh, 0, sizeof(fresh));
		fresh.key = key;
		profile_read(tenant, profile_id, lock, &fresh);
		/* profile_read may have run SPI, whose invalidations reset the cache */
		if (profile_cache == NULL || profile_cache_lxid != MyProc->lxid || profile_cache_cid != cid)
		{
			static ProfileConsent last;

			last = fresh;
			return &last;
		}
		pc = hash_search(profile_cache, &key, HASH_ENTER, &found);
		*pc = fresh;
	}
	return pc;
}

/*
 * stratum_consent_check
 *		See consent.h.
 */
ConsentVerdict
stratum_consent_check(const char *tenant, int64 profile_id, ConsentCategory category, bool lock)
{
	ProfileConsent *pc;
	ConsentSet	bit = CONSENT_BIT(category);

	if (strlen(tenant) >= TENANT_KEY_LEN)
		return CONSENT_UNKNOWN_PROFILE;
	pc = profile_consent(tenant, profile_id, lock);
	if (!pc->exists)
		return pc->deleted ? CONSENT_DENIED_PROFILE_DELETED : CONSENT_UNKNOWN_PROFILE;
	if (pc->denied & bit)
		return CONSENT_DENIED_WITHDRAWN;
	if (pc->regime == CONSENT_REGIME_OPT_IN && !(pc->granted & bit))
		return CONSENT_DENIED_NOT_GRANTED;
	return CONSENT_ALLOWED;
}

/*
 * consent_verdict_reason
 *		Reason code counted in stratum.consent_enforcement_stats, e.g.
 *		'analytics_withdrawn', 'marketing_not_granted', 'profile_deleted'.
 */
const char *
consent_verdict_reason(ConsentVerdict verdict, ConsentCategory category)
{
	static char buf[64];

	switch (verdict)
	{
		case CONSENT_ALLOWED:
			return "allowed";
		case CONSENT_DENIED_WITHDRAWN:
			snprintf(buf, sizeof(buf), "%s_withdrawn", consent_category_names[category]);
			return buf;
		case CONSENT_DENIED_NOT_GRANTED:
			snprintf(buf, sizeof(buf), "%s_not_granted", consent_category_names[category]);
			return buf;
		case CONSENT_DENIED_PROFILE_DELETED:
			return "profile_deleted";
		case CONSENT_UNKNOWN_PROFILE:
			return "unknown_profile";
	}
	return "unknown";
}

/*
 * category_arg
 *		A category named by text, or an error.
 */
static ConsentCategory
category_arg(text *t)
{
	char	   *name = text_to_cstring(t);
	int			cat = consent_category_from_name(name, strlen(name));

	if (cat < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown consent category \"%s\"", name),
				 errhint("The categories are marketing, analytics, personalization, advertising and third_party.")));
	return (ConsentCategory) cat;
}

PG_FUNCTION_INFO_V1(stratum_consent_check_sql);
/*
 * stratum_consent_check_sql
 *		stratum_internal.consent_check(tenant, profile, category, lock)
 *		-> reason text ('allowed', 'analytics_withdrawn', ...).
 */
Datum
stratum_consent_check_sql(PG_FUNCTION_ARGS)
{
	char	   *tenant = text_to_cstring(PG_GETARG_TEXT_PP(0));
	int64		profile_id = PG_GETARG_INT64(1);
	ConsentCategory cat = category_arg(PG_GETARG_TEXT_PP(2));
	bool		lock = PG_GETARG_BOOL(3);

	PG_RETURN_TEXT_P(cstring_to_text(consent_verdict_reason(
		stratum_consent_check(tenant, profile_id, cat, lock), cat)));
}

PG_FUNCTION_INFO_V1(stratum_consent_allowed_set);
/*
 * stratum_consent_allowed_set
 *		stratum_internal.consent_allowed_set(granted, denied, regime): the
 *		categories allowed for a profile in that state, for the dashboard
 *		views (no lookup; the caller passes the row's columns).
 */
Datum
stratum_consent_allowed_set(PG_FUNCTION_ARGS)
{
	ConsentSet	granted = PG_GETARG_CONSENTSET(0);
	ConsentSet	denied = PG_GETARG_CONSENTSET(1);
	char	   *regime = text_to_cstring(PG_GETARG_TEXT_PP(2));

	if (parse_regime(regime) == CONSENT_REGIME_OPT_IN)
		PG_RETURN_CONSENTSET(granted & ~denied);
	PG_RETURN_CONSENTSET(CONSENT_ALL & ~denied);
}

PG_FUNCTION_INFO_V1(stratum_consent_settings_changed);
/*
 * stratum_consent_settings_changed
 *		Statement trigger on the settings tables: invalidate the table's
 *		relcache entry so every backend drops its cached configuration
 *		(this backend at the next command, others when we commit).
 */
Datum
stratum_consent_settings_changed(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "stratum_consent_settings_changed must be called as a trigger");
	CacheInvalidateRelcache(td->tg_relation);
	return PointerGetDatum(NULL);
}

PG_FUNCTION_INFO_V1(stratum_backend_slot);
/*
 * stratum_backend_slot
 *		This backend's id: a shard for counters that concurrent sessions
 *		update, so they never wait for each other's row locks.
 */
Datum
stratum_backend_slot(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(MyBackendId);
}
