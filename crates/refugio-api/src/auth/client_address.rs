//! The client's address for throttling: the socket peer, or the `X-Forwarded-For` hop added by
//! a trusted proxy (only the right-most untrusted hop counts, so clients cannot forge it).

use actix_web::HttpRequest;
use std::net::IpAddr;

pub fn client_address(req: &HttpRequest, trusted_proxies: &[IpAddr]) -> String {
    let Some(peer) = req.peer_addr().map(|a| a.ip()) else {
        return "unknown".into();
    };
    if !trusted_proxies.contains(&peer) {
        return peer.to_string();
    }
    let forwarded: Vec<IpAddr> = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|hop| hop.trim().parse().ok())
        .collect();
    forwarded
        .iter()
        .rev()
        .find(|ip| !trusted_proxies.contains(ip))
        .map_or_else(|| peer.to_string(), ToString::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    #[test]
    fn forwarded_hops_count_only_behind_a_trusted_proxy() {
        let proxy: IpAddr = "10.0.0.1".parse().expect("ip");
        let req = TestRequest::default()
            .peer_addr("10.0.0.1:5000".parse().expect("addr"))
            .insert_header(("x-forwarded-for", "6.6.6.6, 203.0.113.9"))
            .to_http_request();
        assert_eq!(client_address(&req, &[proxy]), "203.0.113.9");
        assert_eq!(client_address(&req, &[]), "10.0.0.1");
    }
}
