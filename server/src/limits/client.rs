//! Who a request comes from, for the per-client limits: the connection's peer address, or, when
//! that peer is one of the configured trusted proxies, the client its `X-Forwarded-For` names.
//! Anyone can send that header, so without trusted proxies it is ignored.
use axum::http::HeaderMap;
use ipnet::IpNet;
use std::net::IpAddr;

const FORWARDED_FOR: &str = "x-forwarded-for";

/// The client a request is counted against (put in the request's extensions by the limits).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientAddr(pub IpAddr);

#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    pub fn new(networks: Vec<IpNet>) -> Self {
        Self(networks)
    }

    fn trusts(&self, addr: IpAddr) -> bool {
        self.0.iter().any(|net| net.contains(&addr))
    }

    /// The connection's peer; behind trusted proxies, the nearest address in `X-Forwarded-For`
    /// that is not one of them: each proxy appends the address it got the request from, so the
    /// entries left of the last trusted hop are the client's word.
    pub fn client_of(&self, peer: IpAddr, headers: &HeaderMap) -> ClientAddr {
        ClientAddr(self.forwarded_client(peer, headers))
    }

    fn forwarded_client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let mut client = peer;
        if !self.trusts(peer) {
            return client;
        }
        // Several header lines are one list, in order.
        let hops = headers
            .get_all(FORWARDED_FOR)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .collect::<Vec<_>>();
        for hop in hops.iter().rev() {
            // Unreadable: the trusted hop that passed it on is as far as we can tell.
            let Ok(addr) = hop.trim().parse::<IpAddr>() else {
                break;
            };
            client = addr;
            if !self.trusts(addr) {
                break;
            }
        }
        client
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn forwarded(proxies: &[&str], peer: &str, header: &str) -> String {
        let proxies = TrustedProxies::new(proxies.iter().map(|p| p.parse().unwrap()).collect());
        let mut headers = HeaderMap::new();
        headers.insert(FORWARDED_FOR, header.parse().unwrap());
        proxies
            .forwarded_client(peer.parse().unwrap(), &headers)
            .to_string()
    }

    #[test]
    fn forwarded_for_counts_only_from_trusted_proxies() {
        // No trusted proxies: the header is anyone's to write.
        assert_eq!(forwarded(&[], "203.0.113.9", "198.51.100.1"), "203.0.113.9");
        // Behind a trusted proxy: the address it appended.
        let lb = ["10.0.0.0/8"];
        assert_eq!(forwarded(&lb, "10.0.0.2", "198.51.100.1"), "198.51.100.1");
        // What the client wrote itself (left of the proxy's entry) is not believed.
        assert_eq!(
            forwarded(&lb, "10.0.0.2", "1.2.3.4, 198.51.100.1, 10.0.0.7"),
            "198.51.100.1"
        );
        assert_eq!(forwarded(&lb, "10.0.0.2", "garbage"), "10.0.0.2");
        assert_eq!(forwarded(&lb, "10.0.0.2", "x, 10.0.0.3"), "10.0.0.3");
    }
}
