//! Money as integer minor units (fen). Parsed once at the boundary, never a float.
use serde::{Deserialize, Serialize};
use std::fmt;

/// A positive amount in fen (1/100 yuan), at most [`Amount::MAX_FEN`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Amount(i64);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AmountError {
    #[error("the amount must be greater than 0")]
    NotPositive,
    #[error("the amount has more than two decimal places")]
    TooPrecise,
    #[error("the amount exceeds 1,000,000.00 yuan")]
    TooLarge,
    #[error("the amount is not a number")]
    NotANumber,
}

impl Amount {
    /// ¥1,000,000.00: far above any scan-to-pay checkout, far below overflow.
    pub const MAX_FEN: i64 = 100_000_000;

    pub fn from_fen(fen: i64) -> Result<Self, AmountError> {
        if fen <= 0 {
            Err(AmountError::NotPositive)
        } else if fen > Self::MAX_FEN {
            Err(AmountError::TooLarge)
        } else {
            Ok(Self(fen))
        }
    }

    /// Parses a decimal yuan amount as written in JSON (`1299`, `12.99`, `12.5`), exactly:
    /// no float ever holds the value. Exponents are accepted only when the result is whole fen.
    pub fn parse_yuan(text: &str) -> Result<Self, AmountError> {
        let text = text.trim();
        let (negative, unsigned) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
            Some(i) => {
                let exp: i32 = unsigned[i + 1..]
                    .parse()
                    .map_err(|_| AmountError::NotANumber)?;
                (&unsigned[..i], exp)
            }
            None => (unsigned, 0),
        };
        let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if int_part.is_empty() || !all_digits(int_part) || !all_digits(frac_part) {
            return Err(AmountError::NotANumber);
        }
        // value = digits × 10^(exponent − frac_len); in fen: × 10^(exponent − frac_len + 2).
        let digits = format!("{int_part}{frac_part}");
        let digits = digits.trim_start_matches('0');
        // In i64: an exponent near ±2^31 from an attacker cannot overflow it.
        let scale = i64::from(exponent) - frac_part.len() as i64 + 2;
        let fen: i128 = if digits.is_empty() {
            0
        } else if scale >= 0 {
            if digits.len() as i64 + scale > 20 {
                return Err(AmountError::TooLarge);
            }
            digits.parse::<i128>().map_err(|_| AmountError::TooLarge)? * 10i128.pow(scale as u32)
        } else {
            let cut = (-scale) as usize;
            let (whole, dropped) = if cut >= digits.len() {
                ("", digits)
            } else {
                digits.split_at(digits.len() - cut)
            };
            if dropped.bytes().any(|b| b != b'0') {
                return Err(AmountError::TooPrecise);
            }
            if whole.len() > 20 {
                return Err(AmountError::TooLarge);
            }
            whole.parse::<i128>().unwrap_or(0)
        };
        if negative && fen != 0 {
            return Err(AmountError::NotPositive);
        }
        if fen > i128::from(Self::MAX_FEN) {
            return Err(AmountError::TooLarge);
        }
        Self::from_fen(fen as i64)
    }

    /// Parses an amount the way a shopper types it into the order form: full-width digits and
    /// punctuation (`１２．５`, a Chinese keyboard's), thousands separators in their places
    /// (`1,299`, `1，299.50`), one leading `¥`/`￥`, surrounding spaces. The rest is
    /// [`Amount::parse_yuan`]'s decimal without exponents. The REST API keeps the strict form.
    pub fn parse_typed_yuan(text: &str) -> Result<Self, AmountError> {
        let halfwidth: String = text.chars().map(to_halfwidth).collect();
        let text = halfwidth.trim();
        let text = text.strip_prefix('¥').unwrap_or(text).trim_start();
        let allowed = |b: u8| b.is_ascii_digit() || matches!(b, b'.' | b',' | b'-');
        if !text.bytes().all(allowed) {
            return Err(AmountError::NotANumber);
        }
        let (sign, unsigned) = match text.strip_prefix('-') {
            Some(rest) => ("-", rest),
            None => ("", text),
        };
        let (whole, fraction) = match unsigned.split_once('.') {
            Some((whole, fraction)) => (whole, Some(fraction)),
            None => (unsigned, None),
        };
        // Groups of three after a first group of one to three digits: `1,29` is a typo, not 129.
        if whole.contains(',') {
            let mut groups = whole.split(',');
            let first = groups.next().unwrap_or_default();
            let first_ok = (1..=3).contains(&first.len()) && !first.starts_with('0');
            if !first_ok || groups.any(|g| g.len() != 3) {
                return Err(AmountError::NotANumber);
            }
        }
        let whole = whole.replace(',', "");
        match fraction {
            Some(fraction) => Self::parse_yuan(&format!("{sign}{whole}.{fraction}")),
            None => Self::parse_yuan(&format!("{sign}{whole}")),
        }
    }

    pub fn fen(self) -> i64 {
        self.0
    }

    /// The amount in yuan as a JSON number for the tutorial-compatible API (`1299`, `12.99`).
    pub fn yuan_json_text(self) -> String {
        let (whole, cents) = (self.0 / 100, self.0 % 100);
        // By hand rather than `format!`: the status read writes it on every answer.
        let mut text = whole.to_string();
        if cents != 0 {
            let digit = |d: i64| char::from(b'0' + d as u8);
            text.push('.');
            text.push(digit(cents / 10));
            if cents % 10 != 0 {
                text.push(digit(cents % 10));
            }
        }
        text
    }
}

impl Amount {
    /// The amount in yuan with exactly two decimals (`88.88`, `0.10`, `12.00`): Alipay's
    /// `total_amount`.
    pub fn yuan_decimal_text(self) -> String {
        format!("{}.{:02}", self.0 / 100, self.0 % 100)
    }
}

/// A full-width digit, point, comma, minus, yen sign or space as its ASCII (or `¥`) twin.
fn to_halfwidth(c: char) -> char {
    match c {
        '０'..='９' | '．' | '，' | '－' => char::from_u32(u32::from(c) - 0xFEE0).unwrap_or(c),
        '￥' => '¥',
        '\u{3000}' => ' ',
        c => c,
    }
}

/// Formats fen as `¥1,299.00`. (Without `format!`: the payment page's WASM formats its amount
/// with this, and core's formatting machinery would come with it.)
pub fn format_yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-¥" } else { "¥" };
    let fen = fen.unsigned_abs();
    let whole = decimal(fen / 100);
    let mut text = String::with_capacity(sign.len() + whole.len() * 4 / 3 + 3);
    text.push_str(sign);
    for (i, ch) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            text.push(',');
        }
        text.push(ch);
    }
    text.push('.');
    text.push_str(&decimal(fen % 100 + 100)[1..]);
    text
}

/// `n` in decimal digits, without `to_string` or `format!` (see [`format_yuan`]).
pub fn decimal(n: u64) -> String {
    let mut digits = Vec::with_capacity(20);
    let mut rest = n;
    loop {
        digits.push(b'0' + (rest % 10) as u8);
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    digits.iter().rev().map(|&d| char::from(d)).collect()
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_yuan(self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_whole_and_decimal_yuan_exactly() {
        assert_eq!(Amount::parse_yuan("1299").unwrap().fen(), 129_900);
        assert_eq!(Amount::parse_yuan("12.99").unwrap().fen(), 1_299);
        assert_eq!(Amount::parse_yuan("0.01").unwrap().fen(), 1);
        assert_eq!(Amount::parse_yuan("12.5").unwrap().fen(), 1_250);
        assert_eq!(Amount::parse_yuan("12.50").unwrap().fen(), 1_250);
        assert_eq!(Amount::parse_yuan("1.2e1").unwrap().fen(), 1_200);
        assert_eq!(Amount::parse_yuan("1299E-2").unwrap().fen(), 1_299);
        assert_eq!(
            Amount::parse_yuan("1000000").unwrap().fen(),
            Amount::MAX_FEN
        );
    }

    #[test]
    fn extreme_exponents_are_refused_not_overflowed() {
        for text in [
            "1e2147483647",
            "1e-2147483648",
            "0.5e-2147483648",
            "9e-2147483647",
        ] {
            assert!(Amount::parse_yuan(text).is_err(), "{text}");
        }
        assert_eq!(
            Amount::parse_yuan("0e-2147483648"),
            Err(AmountError::NotPositive)
        );
        assert_eq!(
            Amount::parse_yuan("1e99999999999"),
            Err(AmountError::NotANumber)
        );
    }

    #[test]
    fn rejects_bad_amounts_with_the_reason() {
        assert_eq!(Amount::parse_yuan("0"), Err(AmountError::NotPositive));
        assert_eq!(Amount::parse_yuan("0.00"), Err(AmountError::NotPositive));
        assert_eq!(Amount::parse_yuan("-5"), Err(AmountError::NotPositive));
        assert_eq!(Amount::parse_yuan("1.234"), Err(AmountError::TooPrecise));
        assert_eq!(Amount::parse_yuan("0.001"), Err(AmountError::TooPrecise));
        assert_eq!(Amount::parse_yuan("1000000.01"), Err(AmountError::TooLarge));
        assert_eq!(Amount::parse_yuan("1e300"), Err(AmountError::TooLarge));
        assert_eq!(
            Amount::parse_yuan("99999999999999999999999999"),
            Err(AmountError::TooLarge)
        );
        for bad in ["", "abc", "1.2.3", ".5", "1,000", "NaN", "1e", "--1"] {
            assert_eq!(
                Amount::parse_yuan(bad),
                Err(AmountError::NotANumber),
                "{bad}"
            );
        }
    }

    #[test]
    fn typed_amounts_accept_what_shoppers_type() {
        for (typed, fen) in [
            ("1299", 129_900),
            ("１２", 1_200),
            ("１２．５", 1_250),
            ("1,299", 129_900),
            ("1，299.50", 129_950),
            ("1,000,000", Amount::MAX_FEN),
            ("¥12.99", 1_299),
            ("￥ 12", 1_200),
            ("  8.8 ", 880),
            ("\u{3000}１２\u{3000}", 1_200),
            ("0.01", 1),
        ] {
            assert_eq!(
                Amount::parse_typed_yuan(typed).map(Amount::fen),
                Ok(fen),
                "{typed}"
            );
        }
    }

    #[test]
    fn typed_amounts_refuse_typos_with_the_reason() {
        for bad in [
            "",
            " ",
            "¥",
            "1,29",
            "12,99",
            "1,2345",
            ",123",
            "0,123",
            "1,,299",
            "¥¥1",
            "1¥",
            "1e3",
            "12 3",
            "1.2.3",
            ".5",
            "abc",
            "１２元",
            "1.2,3",
        ] {
            assert_eq!(
                Amount::parse_typed_yuan(bad),
                Err(AmountError::NotANumber),
                "{bad}"
            );
        }
        assert_eq!(
            Amount::parse_typed_yuan("1.234"),
            Err(AmountError::TooPrecise)
        );
        assert_eq!(
            Amount::parse_typed_yuan("-5"),
            Err(AmountError::NotPositive)
        );
        assert_eq!(
            Amount::parse_typed_yuan("－５"),
            Err(AmountError::NotPositive)
        );
        assert_eq!(Amount::parse_typed_yuan("0"), Err(AmountError::NotPositive));
        assert_eq!(
            Amount::parse_typed_yuan("1,000,000.01"),
            Err(AmountError::TooLarge)
        );
    }

    #[test]
    fn formats_with_grouping_and_two_decimals() {
        assert_eq!(format_yuan(129_900), "¥1,299.00");
        assert_eq!(format_yuan(1), "¥0.01");
        assert_eq!(format_yuan(100_000_000), "¥1,000,000.00");
        assert_eq!(format_yuan(99_999), "¥999.99");
        assert_eq!(format_yuan(-5), "-¥0.05");
        assert_eq!(format_yuan(100), "¥1.00");
        for n in [0, 7, 10, 99, 100, 1_234_567, u64::MAX] {
            assert_eq!(decimal(n), n.to_string());
        }
    }

    #[test]
    fn yuan_decimal_text_has_two_decimals_and_round_trips() {
        for (fen, text) in [
            (1, "0.01"),
            (10, "0.10"),
            (1_250, "12.50"),
            (8_888, "88.88"),
            (100, "1.00"),
        ] {
            let amount = Amount::from_fen(fen).unwrap();
            assert_eq!(amount.yuan_decimal_text(), text);
            assert_eq!(Amount::parse_yuan(text), Ok(amount));
        }
    }

    #[test]
    fn yuan_json_text_round_trips() {
        for fen in [1, 10, 99, 100, 1_250, 1_299, 129_900, Amount::MAX_FEN] {
            let text = Amount::from_fen(fen).unwrap().yuan_json_text();
            assert_eq!(Amount::parse_yuan(&text).unwrap().fen(), fen, "{text}");
        }
    }
}
