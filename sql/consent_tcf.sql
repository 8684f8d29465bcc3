-- IAB TCF v2.x TC strings: known-answer vectors from the public test suite
-- of the GDPR::IAB::TCFv2 decoder (CPAN, t/01-parse.t and t/05-tcf-v23.t),
-- checked field by field; malformed strings are refused with a position.
\set SHOW_CONTEXT never

-- Bitfield vendor encoding (t/01-parse.t "valid tcf v2 consent string using bitfield").
\set bitfield 'CLcVDxRMWfGmWAVAHCENAXCkAKDAADnAABRgA5mdfCKZuYJez-NQm0TBMYA4oCAAGQYIAAAAAAEAIAEgAA'
SELECT d ->> 'version' AS version, d ->> 'cmp_id' AS cmp_id, d ->> 'cmp_version' AS cmp_version,
	   d ->> 'consent_screen' AS screen, d ->> 'consent_language' AS lang,
	   d ->> 'vendor_list_version' AS vlv, d ->> 'policy_version' AS policy,
	   d ->> 'is_service_specific' AS service_specific, d ->> 'use_non_standard_texts' AS non_standard,
	   d ->> 'purpose_one_treatment' AS p1_treatment, d ->> 'publisher_cc' AS cc
FROM (SELECT stratum_tcf_decode(:'bitfield') AS d) x;
-- created 1228644257.7 s, last updated 1326215413.4 s after the epoch
SELECT extract(epoch FROM stratum_tcf_created(:'bitfield')) AS created,
	   extract(epoch FROM stratum_tcf_last_updated(:'bitfield')) AS last_updated;
SELECT stratum_tcf_purposes_consent(:'bitfield') AS purposes_consent,		-- 1, 3, 9, 10
	   stratum_tcf_purposes_li(:'bitfield') AS purposes_li,					-- 3, 4, 5, 8, 9, 10
	   stratum_tcf_special_features(:'bitfield') AS special_features;		-- 2
SELECT stratum_tcf_vendor_consents(:'bitfield') = '{2,3,6,7,8,10,12,13,14,15,16,21,25,27,30,31,34,35,37,38,39,42,43,49,52,54,55,56,57,59,60,63,64,65,66,67,68,69,73,74,76,78,83,86,87,89,90,92,96,99,100,106,109,110,114,115}' AS vendor_consents_match,
	   stratum_tcf_vendor_li(:'bitfield') AS vendor_li,						-- 1 9 26 27 30 36 37 43 86 97 110 113
	   stratum_tcf_decode(:'bitfield') -> 'vendor_consents' ->> 'max_vendor_id' AS max_vendor_consent,	-- 115
	   stratum_tcf_decode(:'bitfield') -> 'vendor_li' ->> 'max_vendor_id' AS max_vendor_li,			-- 113
	   stratum_tcf_decode(:'bitfield') -> 'vendor_consents' ->> 'encoding' AS encoding,
	   stratum_tcf_vendor_consent(:'bitfield', 2) AS v2, stratum_tcf_vendor_consent(:'bitfield', 1) AS v1,
	   stratum_tcf_vendor_consent(:'bitfield', 120) AS v120,
	   stratum_tcf_restriction(:'bitfield', 1, 284) AS restriction,
	   stratum_tcf_decode(:'bitfield') -> 'publisher_tc' AS publisher_tc,
	   stratum_tcf_disclosed_vendors(:'bitfield') AS disclosed;

-- Publisher TC segment without and with custom purposes.
SELECT stratum_tcf_decode((:'bitfield' || '.argAC0gAAAAAAAAAAAA')::stratum.tcf_string) -> 'publisher_tc' AS without_custom;	-- consent 2 4 6 8 9 10; LI 2 4 5 7 10
SELECT stratum_tcf_decode((:'bitfield' || '.YAAAAAAAAXA')::stratum.tcf_string) -> 'publisher_tc' AS with_custom;		-- 2 custom: consent 1 2; LI 1

-- Range vendor encoding (t/01-parse.t "valid tcf v2 consent string using range").
\set range 'COyfVVoOyfVVoADACHENAwCAAAAAAAAAAAAAE5QBgALgAqgD8AQACSwEygJyAnSAMABgAFkAgQCDASeAmYBOgAA'
SELECT extract(epoch FROM stratum_tcf_created(:'range')) AS created,	-- 1587946020
	   d ->> 'cmp_id' AS cmp_id, d ->> 'cmp_version' AS cmp_version, d ->> 'consent_screen' AS screen,
	   d ->> 'consent_language' AS lang, d ->> 'vendor_list_version' AS vlv, d ->> 'publisher_cc' AS cc,
	   d -> 'vendor_consents' ->> 'encoding' AS encoding,
	   d -> 'vendor_consents' ->> 'max_vendor_id' AS max_consent, d -> 'vendor_li' ->> 'max_vendor_id' AS max_li
FROM (SELECT stratum_tcf_decode(:'range') AS d) x;
SELECT stratum_tcf_vendor_consents(:'range') AS vendor_consents,	-- 23 42 126 127 128 587 613 626
	   stratum_tcf_vendor_li(:'range') AS vendor_li,				-- 24 44 129 130 131 591 614 628
	   stratum_tcf_purposes_consent(:'range') AS purposes;

-- Publisher restrictions (t/01-parse.t "check publisher restriction #1, #2, #3").
\set r1 'COwAdDhOwAdDhN4ABAENAPCgAAQAAv___wAAAFP_AAp_4AI6ACACAA'
\set r2 'COxPe2TOxPe2TALABAENAPCgAAAAAAAAAAAAAFAAAAoAAA4IACACAIABgACAFA4ADACAAIygAGADwAQBIAIAIB0AEAEBSACACAA'
SELECT stratum_tcf_restriction(:'r1', 7, 32) AS r1_p7_v32,		-- {1}
	   stratum_tcf_restriction(:'r1', 7, 7) AS r1_p7_v7,		-- {}
	   stratum_tcf_restriction(:'r1', 5, 32) AS r1_p5_v32,		-- {}
	   stratum_tcf_restriction(:'r1', 1, 284) AS r1_p1_v284;	-- {}
SELECT p AS purpose, stratum_tcf_restriction(:'r2', p, 32) AS vendor_32, stratum_tcf_restriction(:'r2', p, 5) AS vendor_5,
	   stratum_tcf_restriction(:'r2', p, 11) AS vendor_11, stratum_tcf_restriction(:'r2', p, 44) AS vendor_44,
	   stratum_tcf_restriction(:'r2', p, 500) AS vendor_500
FROM unnest(ARRAY[1, 2, 7, 10]) p;
SELECT stratum_tcf_decode(:'r2') -> 'publisher_restrictions' AS r2_restrictions,
	   stratum_tcf_decode(:'r2') ->> 'purpose_one_treatment' AS p1_treatment;
SELECT stratum_tcf_decode('COzSDo9OzSDo9B9AAAENAiCAALAAAAAAAAAACOQAQCOAAAAA') -> 'publisher_restrictions' AS r3;

-- Disclosed-vendors segment (t/05-tcf-v23.t): vendor 284 disclosed, 9999 not.
\set dv 'COwAdDhOwAdDhN4ABAENAPCgAAQAAv___wAAAFP_AAp_4AI6ACACAA.ILrtR_G__bXlv-bb36ftkeYxf9_hr7sQxBgbJs24FzLvW7JwX32E7NEzatqYKmRIAu3TBIQNtHJjURVChKIgVrzDsaEyUoTtKJ-BkiHMRY2NYCFxvm4tjWQCZ5vr_91d9mT-N7dr-2dzyy7hnv3a9_-S1WJidKYetHfv8bBKT-_IU9_x-_4v4_N7pE2-eS1v_tGvt639-4vP_dpvxt-7yffz____73_e7X__d_______Xf_7____________4AAA'
SELECT 284 = ANY (stratum_tcf_disclosed_vendors(:'dv')) AS disclosed_284,
	   9999 = ANY (stratum_tcf_disclosed_vendors(:'dv')) AS disclosed_9999,
	   stratum_tcf_decode(:'dv') -> 'allowed_vendors' AS allowed_vendors;
-- TCF v2.2/v2.3 string (policy version 5) with a publisher TC segment.
SELECT d ->> 'policy_version' AS policy, d -> 'vendor_consents' ->> 'max_vendor_id' AS max_vendor,
	   d -> 'publisher_tc' IS NOT NULL AS has_publisher_tc, stratum_tcf_vendor_consent(t, 46) AS vendor_46_consent,
	   46 = ANY (stratum_tcf_vendor_li(t)) AS vendor_46_li
FROM (SELECT t, stratum_tcf_decode(t) AS d FROM (SELECT 'CP188cAQKFpAAAHABBENBSFsAP_gAEPgAAiQKqNX_H__bW9r8X73aft0eY1P9_j77uQxBhfJE-4FzLvW_JwXx2ExNA36tqIKmRIEu3bBIQNlHJHUTVigaogVryHMak2cpTNKJ6BkiFMRM2dYCF5vm4tj-QKY5_r993dx2D-t_dv83dzyz81Hn3f5_2e0eLCdQ5-tDfv9bROb-9IPd_78v4v8_l_rk2_eT1n_tevr7D_-ft8__XW_9_fff_9Pn_-uB_-_3_vf_EFUwCTDQqIA-wJCQg0DCKBACoKwgIoFAQAAJA0QEAJgwKdgYALrCRACAFAAMEAIAAQZAAgAAAgAQiACQAoEAAEAgUAAYAEAwEABAwAAgAsBAIAAQHQMUwIIFAsIEjMioUwIQoEggJbKhBICgQVwhCLPAIgERMFAAgAAAVgACAsFgcSSAlQkECXUG0AABAAgFEIFQgk9MAAwJmy1B4MG0ZWmAYPmCRDTAMgCIIyEAAAA.f_wACHwAAAAA'::stratum.tcf_string AS t) y) x;

-- The type round-trips.
SELECT :'bitfield'::stratum.tcf_string::text = :'bitfield' AS round_trip;

-- Malformed strings (the first three from t/01-parse.t).
SELECT 'BOEFEAyOEFEAyAHABDENAI4AAAB9vABAASAAAAAAAAAA'::stratum.tcf_string;		-- TCF v1
SELECT 'Clc'::stratum.tcf_string;
SELECT 'COyfVVoOyfVVoADACHENAwCAAAAAAAAAAAAAE5QBgALgAqgD8AQACSwEygJyAnSAMABgAFkAgQCDASeAmYBOgA!A'::stratum.tcf_string;
SELECT 'COvcSpYOvcSpYC9AAAENAPCAAAAAAAAAAAAAAFAAAAA'::stratum.tcf_string;		-- declares vendors it does not carry
SELECT 'COvcSpYOvcSpYC9AAAENAPCAAAAAAAAAAAAAAFQBgAAgABAACAAEAAQAAgAA'::stratum.tcf_string;
SELECT ''::stratum.tcf_string;
SELECT (:'bitfield' || '..argAC0gAAAAAAAAAAAA')::stratum.tcf_string;				-- empty segment
SELECT (:'bitfield' || '.argAC0gAAAAAAAAAAAA.argAC0gAAAAAAAAAAAA')::stratum.tcf_string;	-- segment type 3 twice
SELECT (:'bitfield' || '.AAAA')::stratum.tcf_string;							-- segment type 0 after the core
SELECT 'CLcVDxRMWfGmWAVAHCENAXCkAKDAADnAABRgA5mdfCKZuYJez-NQm0TBMYA4oCAAGQYIAAAAAA'::stratum.tcf_string;	-- truncated
-- A range entry that runs backwards (hand-made: core with MaxVendorId 10, range 5-3).
SELECT 'COyhZIAOyhZIAAKABAENAUCAAAAAAAAAAAAAAFQAYACgAGAAAAA'::stratum.tcf_string;
