-- Advertising: accounts, campaigns, daily metrics and signal health.

CREATE TABLE stratum.ad_accounts (
	tenant_id		text NOT NULL REFERENCES stratum.tenants ON DELETE CASCADE,
	account_id		text NOT NULL,
	platform		text NOT NULL CHECK (platform IN ('meta', 'google', 'linkedin', 'tiktok', 'microsoft', 'x', 'pinterest', 'snapchat', 'other')),
	name			text NOT NULL,
	currency		text NOT NULL DEFAULT 'USD' CHECK (currency ~ '^[A-Z]{3}$'),
	timezone		text NOT NULL DEFAULT 'UTC',
	created_at		timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (tenant_id, account_id)
);
CREATE TRIGGER ad_accounts_check_timezone BEFORE INSERT OR UPDATE OF timezone ON stratum.ad_accounts
	FOR EACH ROW EXECUTE FUNCTION stratum_internal.check_timezone();
COMMENT ON TABLE stratum.ad_accounts IS 'Ad platform accounts (Meta, Google, LinkedIn, ...)';
COMMENT ON COLUMN stratum.ad_accounts.tenant_id IS 'Tenant';
COMMENT ON COLUMN stratum.ad_accounts.account_id IS 'Account id as the platform knows it';
COMMENT ON COLUMN stratum.ad_accounts.platform IS 'Ad platform: meta, google, linkedin, tiktok, microsoft, x, pinterest, snapchat, other';
COMMENT ON COLUMN stratum.ad_accounts.name IS 'Account name';
COMMENT ON COLUMN stratum.ad_accounts.currency IS 'ISO 4217 currency of the account''s money columns';
COMMENT ON COLUMN stratum.ad_accounts.timezone IS 'Account time zone: the platform''s "day" for metrics and schedules';
COMMENT ON COLUMN stratum.ad_accounts.created_at IS 'When the account was added';

CREATE TABLE stratum.campaigns (
	tenant_id		text NOT NULL,
	campaign_id		text NOT NULL,
	account_id		text NOT NULL,
	name			text NOT NULL,
	campaign_type	text NOT NULL DEFAULT 'conversion'
		CHECK (campaign_type IN ('awareness', 'traffic', 'engagement', 'lead_generation', 'conversion', 'sales', 'app_install', 'video', 'search', 'display', 'shopping', 'performance_max', 'other')),
	status			text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'paused', 'archived', 'deleted')),
	daily_budget	numeric(14, 2) CHECK (daily_budget >= 0),
	bid_amount		numeric(14, 4) CHECK (bid_amount >= 0),
	is_brand		boolean NOT NULL DEFAULT false,
	is_retargeting	boolean NOT NULL DEFAULT false,
	started_on		date,
	created_at		timestamptz NOT NULL DEFAULT now(),
	updated_at		timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (tenant_id, campaign_id),
	FOREIGN KEY (tenant_id, account_id) REFERENCES stratum.ad_accounts ON DELETE CASCADE
);
CREATE INDEX campaigns_account_idx ON stratum.campaigns (tenant_id, account_id);
COMMENT ON TABLE stratum.campaigns IS 'Ad campaigns; platform and time zone come from the account';
COMMENT ON COLUMN stratum.campaigns.tenant_id IS 'Tenant';
COMMENT ON COLUMN stratum.campaigns.campaign_id IS 'Campaign id as the platform knows it';
COMMENT ON COLUMN stratum.campaigns.account_id IS 'Ad account of the campaign';
COMMENT ON COLUMN stratum.campaigns.name IS 'Campaign name';
COMMENT ON COLUMN stratum.campaigns.campaign_type IS 'Objective/type: awareness, traffic, lead_generation, conversion, search, ...';
COMMENT ON COLUMN stratum.campaigns.status IS 'active, paused, archived or deleted';
COMMENT ON COLUMN stratum.campaigns.daily_budget IS 'Daily budget in the account currency';
COMMENT ON COLUMN stratum.campaigns.bid_amount IS 'Bid (cost cap / target) in the account currency, if any';
COMMENT ON COLUMN stratum.campaigns.is_brand IS 'Brand campaign (often excluded from automation)';
COMMENT ON COLUMN stratum.campaigns.is_retargeting IS 'Retargeting campaign (often excluded from automation)';
COMMENT ON COLUMN stratum.campaigns.started_on IS 'First day the campaign ran';
COMMENT ON COLUMN stratum.campaigns.created_at IS 'When the campaign was added';
COMMENT ON COLUMN stratum.campaigns.updated_at IS 'When the campaign was last changed';

CREATE TABLE stratum.campaign_metrics_daily (
	tenant_id		text NOT NULL,
	campaign_id		text NOT NULL,
	day				date NOT NULL,
	device			text NOT NULL DEFAULT 'all' CHECK (device IN ('all', 'desktop', 'mobile', 'tablet', 'other')),
	spend			numeric(14, 2) NOT NULL DEFAULT 0 CHECK (spend >= 0),
	impressions		bigint NOT NULL DEFAULT 0 CHECK (impressions >= 0),
	clicks			bigint NOT NULL DEFAULT 0 CHECK (clicks >= 0),
	conversions		numeric(14, 2) NOT NULL DEFAULT 0 CHECK (conversions >= 0),
	revenue			numeric(14, 2) NOT NULL DEFAULT 0 CHECK (revenue >= 0),
	PRIMARY KEY (tenant_id, campaign_id, day, device),
	FOREIGN KEY (tenant_id, campaign_id) REFERENCES stratum.campaigns ON DELETE CASCADE
);
COMMENT ON TABLE stratum.campaign_metrics_daily IS 'Daily delivery metrics per campaign and device, day in the account time zone';
COMMENT ON COLUMN stratum.campaign_metrics_daily.tenant_id IS 'Tenant';
COMMENT ON COLUMN stratum.campaign_metrics_daily.campaign_id IS 'Campaign';
COMMENT ON COLUMN stratum.campaign_metrics_daily.day IS 'Day in the account''s time zone';
COMMENT ON COLUMN stratum.campaign_metrics_daily.device IS 'Device breakdown: all, desktop, mobile, tablet, other';
COMMENT ON COLUMN stratum.campaign_metrics_daily.spend IS 'Spend in the account currency';
COMMENT ON COLUMN stratum.campaign_metrics_daily.impressions IS 'Impressions';
COMMENT ON COLUMN stratum.campaign_metrics_daily.clicks IS 'Clicks';
COMMENT ON COLUMN stratum.campaign_metrics_daily.conversions IS 'Conversions (may be fractional with modelled attribution)';
COMMENT ON COLUMN stratum.campaign_metrics_daily.revenue IS 'Attributed revenue in the account currency';

CREATE TABLE stratum.signal_health_daily (
	tenant_id				text NOT NULL,
	account_id				text NOT NULL,
	day						date NOT NULL,
	score					numeric(5, 2) NOT NULL CHECK (score BETWEEN 0 AND 100),
	emq_score				numeric(4, 2) CHECK (emq_score BETWEEN 0 AND 10),
	attribution_variance	numeric(6, 4) CHECK (attribution_variance >= 0),
	PRIMARY KEY (tenant_id, account_id, day),
	FOREIGN KEY (tenant_id, account_id) REFERENCES stratum.ad_accounts ON DELETE CASCADE
);
COMMENT ON TABLE stratum.signal_health_daily IS 'Daily tracking-signal health per ad account: can the platform''s numbers be trusted?';
COMMENT ON COLUMN stratum.signal_health_daily.tenant_id IS 'Tenant';
COMMENT ON COLUMN stratum.signal_health_daily.account_id IS 'Ad account';
COMMENT ON COLUMN stratum.signal_health_daily.day IS 'Day in the account''s time zone';
COMMENT ON COLUMN stratum.signal_health_daily.score IS 'Signal health score 0..100';
COMMENT ON COLUMN stratum.signal_health_daily.emq_score IS 'Event match quality 0..10 (Meta''s EMQ or equivalent)';
COMMENT ON COLUMN stratum.signal_health_daily.attribution_variance IS 'Relative gap between platform-reported and stratum-observed conversions, as a fraction (0.15 = 15%)';

-- Derived metrics for BI tools: ratios of sums, NULL where the denominator is 0.
CREATE VIEW stratum.campaign_performance_daily WITH (security_invoker = true) AS
SELECT m.tenant_id, a.platform, c.account_id, m.campaign_id, c.name AS campaign_name, c.campaign_type,
	   m.day, sum(m.spend) AS spend, sum(m.impressions) AS impressions, sum(m.clicks) AS clicks,
	   sum(m.conversions) AS conversions, sum(m.revenue) AS revenue,
	   sum(m.clicks)::numeric / nullif(sum(m.impressions), 0) AS ctr,
	   sum(m.spend) / nullif(sum(m.clicks), 0) AS cpc,
	   1000 * sum(m.spend) / nullif(sum(m.impressions), 0) AS cpm,
	   sum(m.conversions) / nullif(sum(m.clicks), 0) AS cvr,
	   sum(m.spend) / nullif(sum(m.conversions), 0) AS cpa,
	   sum(m.revenue) / nullif(sum(m.spend), 0) AS roas,
	   s.score AS signal_health
FROM stratum.campaign_metrics_daily m
JOIN stratum.campaigns c USING (tenant_id, campaign_id)
JOIN stratum.ad_accounts a USING (tenant_id, account_id)
LEFT JOIN stratum.signal_health_daily s ON s.tenant_id = m.tenant_id AND s.account_id = c.account_id AND s.day = m.day
WHERE m.device = 'all' OR NOT EXISTS (
	SELECT 1 FROM stratum.campaign_metrics_daily m2
	WHERE m2.tenant_id = m.tenant_id AND m2.campaign_id = m.campaign_id AND m2.day = m.day AND m2.device = 'all')
GROUP BY m.tenant_id, a.platform, c.account_id, m.campaign_id, c.name, c.campaign_type, m.day, s.score;
COMMENT ON VIEW stratum.campaign_performance_daily IS 'Campaign metrics per day with derived ratios (device rows summed unless an "all" row exists)';
COMMENT ON COLUMN stratum.campaign_performance_daily.tenant_id IS 'Tenant';
COMMENT ON COLUMN stratum.campaign_performance_daily.platform IS 'Ad platform';
COMMENT ON COLUMN stratum.campaign_performance_daily.account_id IS 'Ad account';
COMMENT ON COLUMN stratum.campaign_performance_daily.campaign_id IS 'Campaign';
COMMENT ON COLUMN stratum.campaign_performance_daily.campaign_name IS 'Campaign name';
COMMENT ON COLUMN stratum.campaign_performance_daily.campaign_type IS 'Campaign type';
COMMENT ON COLUMN stratum.campaign_performance_daily.day IS 'Day in the account time zone';
COMMENT ON COLUMN stratum.campaign_performance_daily.spend IS 'Spend';
COMMENT ON COLUMN stratum.campaign_performance_daily.impressions IS 'Impressions';
COMMENT ON COLUMN stratum.campaign_performance_daily.clicks IS 'Clicks';
COMMENT ON COLUMN stratum.campaign_performance_daily.conversions IS 'Conversions';
COMMENT ON COLUMN stratum.campaign_performance_daily.revenue IS 'Revenue';
COMMENT ON COLUMN stratum.campaign_performance_daily.ctr IS 'Click-through rate, clicks / impressions (fraction)';
COMMENT ON COLUMN stratum.campaign_performance_daily.cpc IS 'Cost per click';
COMMENT ON COLUMN stratum.campaign_performance_daily.cpm IS 'Cost per thousand impressions';
COMMENT ON COLUMN stratum.campaign_performance_daily.cvr IS 'Conversion rate, conversions / clicks (fraction)';
COMMENT ON COLUMN stratum.campaign_performance_daily.cpa IS 'Cost per acquisition, spend / conversions';
COMMENT ON COLUMN stratum.campaign_performance_daily.roas IS 'Return on ad spend, revenue / spend';
COMMENT ON COLUMN stratum.campaign_performance_daily.signal_health IS 'Account signal health score that day (0..100)';
