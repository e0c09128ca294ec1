-- Forgetting processed notification ids by age (see payments/src/retention.rs).
CREATE INDEX processed_notifications_by_age ON processed_notifications (processed_at_ms);
