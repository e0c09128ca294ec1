-- Each payment speaks one provider's protocol (the app the shopper scans with). Payments made
-- before there was a choice were WeChat Pay-shaped.
ALTER TABLE payments ADD COLUMN method TEXT NOT NULL DEFAULT 'wechatpay';

-- The provider simulator's books left the merchant's store: the sandbox (its own crate) keeps its
-- own, as a real provider does.
DROP TABLE IF EXISTS sim_notifications;
DROP TABLE IF EXISTS sim_trades;
