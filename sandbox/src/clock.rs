//! Time as the two providers write it: unix milliseconds inside, Beijing time (+08:00) outside.
use chrono::{DateTime, FixedOffset, NaiveDateTime, TimeZone, Utc};

pub fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

pub fn beijing() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("+08:00 is a valid offset")
}

fn at(ms: i64) -> DateTime<FixedOffset> {
    Utc.timestamp_millis_opt(ms)
        .single()
        .unwrap_or_default()
        .with_timezone(&beijing())
}

/// WeChat Pay's times: RFC 3339 with the offset, whole seconds (`2026-12-02T10:34:56+08:00`).
pub fn rfc3339(ms: i64) -> String {
    at(ms).format("%Y-%m-%dT%H:%M:%S%:z").to_string()
}

/// Parses an RFC 3339 time (any offset) into unix milliseconds.
pub fn parse_rfc3339(text: &str) -> Option<i64> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.timestamp_millis())
}

/// Alipay's times: `yyyy-MM-dd HH:mm:ss`, Beijing time.
pub fn alipay_time(ms: i64) -> String {
    at(ms).format("%Y-%m-%d %H:%M:%S").to_string()
}

pub fn parse_alipay_time(text: &str) -> Option<i64> {
    let naive = NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S").ok()?;
    beijing()
        .from_local_datetime(&naive)
        .single()
        .map(|t| t.timestamp_millis())
}

/// `yyyyMMdd` in Beijing: the first digits of an Alipay trade_no.
pub fn beijing_date(ms: i64) -> String {
    at(ms).format("%Y%m%d").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_beijing_times() {
        let ms = parse_rfc3339("2026-12-02T02:34:56Z").unwrap();
        assert_eq!(rfc3339(ms), "2026-12-02T10:34:56+08:00");
        assert_eq!(alipay_time(ms), "2026-12-02 10:34:56");
        assert_eq!(parse_alipay_time("2026-12-02 10:34:56"), Some(ms));
        assert_eq!(beijing_date(ms), "20261202");
        assert_eq!(parse_rfc3339("20221021191948"), None);
    }
}
