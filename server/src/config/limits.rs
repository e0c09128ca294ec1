//! What the server refuses to a hostile internet (see `crate::limits`, which applies them): body
//! sizes, requests in flight, requests and live-update streams per client, and how long a client
//! may take. The defaults are sized so that a real shop's peak is never refused: 10,000 shoppers
//! from distinct addresses, each polling or streaming at most about once a second, and the
//! benchmarks' 64–256 concurrent requests (BENCHMARKS.md).
use super::{parse_positive, parse_secs, var, ConfigError};
use ipnet::IpNet;
use std::net::IpAddr;
use std::time::Duration;

/// Real REST and server-function bodies are under 1 KB.
const DEFAULT_API_BODY_BYTES: u64 = 16 * 1024;
/// Provider notifications are a few KB (WeChat Pay's encrypted resource, Alipay's form).
const DEFAULT_CALLBACK_BODY_BYTES: u64 = 64 * 1024;
/// Four times the benchmarks' 256 concurrent requests: only a server far past its capacity sheds.
const DEFAULT_MAX_IN_FLIGHT: u64 = 1024;
/// A page load (page, scripts, styles, first reads) is about ten requests; a waiting page asks
/// about once a second at most.
const DEFAULT_RATE_BURST: u64 = 60;
const DEFAULT_RATE_PER_SEC: u64 = 10;
/// A shopper has one stream per open payment page; a few tabs, or a few shoppers behind one NAT.
const DEFAULT_STREAMS_PER_CLIENT: u64 = 16;
/// 10,000 concurrent shoppers with room to spare (an open stream costs ~19 KiB, BENCHMARKS.md).
const DEFAULT_STREAMS_TOTAL: u64 = 20_000;
const DEFAULT_HEADER_READ_TIMEOUT_SECS: u64 = 10;
const DEFAULT_BODY_READ_TIMEOUT_SECS: u64 = 10;
/// A client that reads nothing of its answer for this long has stopped reading (a phone on a bad
/// network still takes a few KB in seconds).
const DEFAULT_WRITE_TIMEOUT_SECS: u64 = 30;
/// Longer than a provider call's timeout (5 s) with its retries; long-polls and event streams
/// have their own bounds and are not cut by it.
const DEFAULT_RESPONSE_TIMEOUT_SECS: u64 = 30;

#[derive(Debug, Clone)]
pub struct LimitSettings {
    /// `SCANPAY_API_BODY_LIMIT_BYTES`: the REST API, server functions, pages (413 above it).
    pub api_body_bytes: usize,
    /// `SCANPAY_CALLBACK_BODY_LIMIT_BYTES`: the providers' notifications (413 above it).
    pub callback_body_bytes: usize,
    /// `SCANPAY_MAX_IN_FLIGHT`: requests being answered at once, streams and long-polls aside;
    /// beyond it 503 at once instead of a queue without bound.
    pub max_in_flight: usize,
    /// Requests per client address (429 beyond it); `None`: `SCANPAY_RATE_LIMIT=off`.
    pub rate: Option<RateLimit>,
    /// `SCANPAY_TRUSTED_PROXIES`: peers whose `X-Forwarded-For` names the client.
    pub trusted_proxies: Vec<IpNet>,
    /// `SCANPAY_STREAMS_PER_CLIENT`: open event streams and long-polls per client address.
    pub streams_per_client: usize,
    /// `SCANPAY_STREAMS_TOTAL`: open event streams and long-polls in all.
    pub streams_total: usize,
    /// `SCANPAY_HEADER_READ_TIMEOUT_SECS`: a request head (and a keep-alive connection's next
    /// one) must arrive within this.
    pub header_read_timeout: Duration,
    /// `SCANPAY_BODY_READ_TIMEOUT_SECS`: the longest pause between two pieces of a body (408).
    pub body_read_timeout: Duration,
    /// `SCANPAY_RESPONSE_TIMEOUT_SECS`: the longest a request may take, body read included (503).
    pub response_timeout: Duration,
    /// `SCANPAY_WRITE_TIMEOUT_SECS`: the longest a write to a client may make no progress
    /// (the connection is then closed).
    pub write_timeout: Duration,
}

/// A token bucket per client address: `burst` requests at once, refilled at `per_second`.
#[derive(Debug, Clone, Copy)]
pub struct RateLimit {
    pub burst: u32,
    pub per_second: u32,
}

fn parse_count(var_name: &'static str, default: u64) -> Result<usize, ConfigError> {
    let n = parse_positive(var_name, default, "a whole number > 0")?;
    usize::try_from(n).map_err(|_| ConfigError::new(var_name, n.to_string(), "a smaller number"))
}

fn parse_u32(var_name: &'static str, default: u64) -> Result<u32, ConfigError> {
    let n = parse_positive(var_name, default, "a whole number > 0")?;
    u32::try_from(n).map_err(|_| ConfigError::new(var_name, n.to_string(), "at most 4294967295"))
}

/// `127.0.0.1, 10.0.0.0/8, ::1`: addresses and networks.
fn parse_trusted_proxies(list: &str) -> Result<Vec<IpNet>, ConfigError> {
    list.split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .map(|entry| {
            entry
                .parse::<IpNet>()
                .or_else(|_| entry.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| {
                    ConfigError::new(
                        "SCANPAY_TRUSTED_PROXIES",
                        entry,
                        "comma-separated IP addresses or networks, like 127.0.0.1,10.0.0.0/8",
                    )
                })
        })
        .collect()
}

impl LimitSettings {
    pub fn from_env() -> Result<Self, ConfigError> {
        let rate = match var("SCANPAY_RATE_LIMIT").as_deref().map(str::trim) {
            None | Some("on") => Some(RateLimit {
                burst: parse_u32("SCANPAY_RATE_LIMIT_BURST", DEFAULT_RATE_BURST)?,
                per_second: parse_u32("SCANPAY_RATE_LIMIT_PER_SEC", DEFAULT_RATE_PER_SEC)?,
            }),
            Some("off") => None,
            Some(other) => return Err(ConfigError::new("SCANPAY_RATE_LIMIT", other, "on or off")),
        };
        Ok(Self {
            api_body_bytes: parse_count("SCANPAY_API_BODY_LIMIT_BYTES", DEFAULT_API_BODY_BYTES)?,
            callback_body_bytes: parse_count(
                "SCANPAY_CALLBACK_BODY_LIMIT_BYTES",
                DEFAULT_CALLBACK_BODY_BYTES,
            )?,
            max_in_flight: parse_count("SCANPAY_MAX_IN_FLIGHT", DEFAULT_MAX_IN_FLIGHT)?,
            rate,
            trusted_proxies: var("SCANPAY_TRUSTED_PROXIES")
                .map_or(Ok(Vec::new()), |list| parse_trusted_proxies(&list))?,
            streams_per_client: parse_count(
                "SCANPAY_STREAMS_PER_CLIENT",
                DEFAULT_STREAMS_PER_CLIENT,
            )?,
            streams_total: parse_count("SCANPAY_STREAMS_TOTAL", DEFAULT_STREAMS_TOTAL)?,
            header_read_timeout: parse_secs(
                "SCANPAY_HEADER_READ_TIMEOUT_SECS",
                DEFAULT_HEADER_READ_TIMEOUT_SECS,
            )?,
            body_read_timeout: parse_secs(
                "SCANPAY_BODY_READ_TIMEOUT_SECS",
                DEFAULT_BODY_READ_TIMEOUT_SECS,
            )?,
            response_timeout: parse_secs(
                "SCANPAY_RESPONSE_TIMEOUT_SECS",
                DEFAULT_RESPONSE_TIMEOUT_SECS,
            )?,
            write_timeout: parse_secs("SCANPAY_WRITE_TIMEOUT_SECS", DEFAULT_WRITE_TIMEOUT_SECS)?,
        })
    }

    pub fn connection_timeouts(&self) -> crate::serve::ConnectionTimeouts {
        crate::serve::ConnectionTimeouts {
            header_read: self.header_read_timeout,
            write: self.write_timeout,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::parse_trusted_proxies;

    #[test]
    fn trusted_proxies_are_addresses_or_networks() {
        let proxies = parse_trusted_proxies(" 127.0.0.1, 10.0.0.0/8,::1 ,").unwrap();
        let shown: Vec<String> = proxies.iter().map(ToString::to_string).collect();
        assert_eq!(shown, ["127.0.0.1/32", "10.0.0.0/8", "::1/128"]);
        assert!(parse_trusted_proxies("10.0.0.0/33").is_err());
        assert!(parse_trusted_proxies("proxy.example").is_err());
    }
}
