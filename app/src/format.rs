//! Formatting shared by server render and browser, without pulling a date library into WASM.
//! What the island formats is formatted without `format!` (see [`decimal`]).
pub use payments::money::decimal;

/// Unix milliseconds as `YYYY-MM-DD HH:MM:SS` in China Standard Time (UTC+8, no DST).
pub fn beijing_time(unix_ms: i64) -> String {
    let secs = unix_ms.div_euclid(1000) + 8 * 3600;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Whole seconds as `m:ss`.
pub fn minutes_seconds(total_secs: i64) -> String {
    let s = total_secs.max(0).unsigned_abs();
    [&decimal(s / 60), ":", &decimal(s % 60 + 100)[1..]].concat()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_beijing_time() {
        assert_eq!(beijing_time(0), "1970-01-01 08:00:00");
        // 2026-11-22 00:00:00 UTC
        assert_eq!(beijing_time(1_795_305_600_000), "2026-11-22 08:00:00");
        assert_eq!(beijing_time(951_782_400_000), "2000-02-29 08:00:00");
    }

    #[test]
    fn formats_countdown() {
        assert_eq!(minutes_seconds(300), "5:00");
        assert_eq!(minutes_seconds(6_009), "100:09");
        assert_eq!(minutes_seconds(61), "1:01");
        assert_eq!(minutes_seconds(-3), "0:00");
    }
}
