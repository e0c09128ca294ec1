//! Values that must never reach a log: a [`Secret`] prints nothing, and [`redact_url`] hides a
//! database URL's password.
use std::fmt;

/// A secret (a signing key, a password). `Debug` and `Display` print `[redacted]`; read it
/// with [`Secret::expose`] where it is used, and nowhere else.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret<T = String>(T);

impl<T> Secret<T> {
    pub fn new(value: T) -> Self {
        Self(value)
    }

    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl<T> From<T> for Secret<T> {
    fn from(value: T) -> Self {
        Self(value)
    }
}

impl<T> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl<T> fmt::Display for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// The URL with its password (in the user info or a `password=` parameter) replaced by `***`,
/// for logs and errors: `postgres://user:pw@host/db` becomes `postgres://user:***@host/db`.
pub fn redact_url(url: &str) -> String {
    let url = redact_user_info(url);
    match url.split_once('?') {
        Some((base, query)) => {
            let params: Vec<&str> = query
                .split('&')
                .map(|p| {
                    if p.starts_with("password=") {
                        "password=***"
                    } else {
                        p
                    }
                })
                .collect();
            format!("{base}?{}", params.join("&"))
        }
        None => url,
    }
}

fn redact_user_info(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return url.to_string();
    };
    let rest = &url[scheme_end..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    // The last '@' of the authority ends the user info (a password may itself contain '@').
    let Some(at) = rest[..authority_end].rfind('@') else {
        return url.to_string();
    };
    match rest[..at].find(':') {
        Some(colon) => format!(
            "{}{}:***{}",
            &url[..scheme_end],
            &rest[..colon],
            &rest[at..]
        ),
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_prints_nothing() {
        let s = Secret::new("hunter2".to_string());
        assert_eq!(format!("{s:?} {s}"), "[redacted] [redacted]");
        assert_eq!(s.expose(), "hunter2");
    }

    #[test]
    fn only_the_password_of_a_url_is_redacted() {
        let cases = [
            ("postgres://user:pw@host/db", "postgres://user:***@host/db"),
            (
                "postgres://u:p@ss@host:5432/db?x=1",
                "postgres://u:***@host:5432/db?x=1",
            ),
            ("postgresql://user@host/db", "postgresql://user@host/db"),
            (
                "postgres://h/db?sslmode=a&password=x",
                "postgres://h/db?sslmode=a&password=***",
            ),
            ("sqlite://data/scanpay.db", "sqlite://data/scanpay.db"),
            ("not a url", "not a url"),
        ];
        for (url, redacted) in cases {
            assert_eq!(redact_url(url), redacted, "{url}");
        }
    }
}
