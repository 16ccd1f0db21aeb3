//! The guard's decisions over addresses and urls given to it. Nothing here resolves a name or
//! opens a connection: a test that showed a refusal by sending traffic would be the very
//! request the guard exists to prevent.

use super::*;
use proptest::prelude::*;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// The range (CIDR) an address is refused for, or "ok".
fn decision(s: &str) -> String {
    match check_address(ip(s), false) {
        Ok(()) => "ok".into(),
        Err(Refusal::Address { range, .. }) => range,
        Err(Refusal::NotGlobalUnicast { .. }) => "outside 2000::/3".into(),
        Err(other) => panic!("{other:?}"),
    }
}

/// An address inside each range of docs/api.md (and of RFC 6890 beside it), with the range
/// the refusal must name. Each range's first and last address, and one inside.
const REFUSED_V4: &[(&str, &str)] = &[
    ("0.0.0.0", "0.0.0.0/8"),
    ("0.255.255.255", "0.0.0.0/8"),
    ("10.0.0.0", "10.0.0.0/8"),
    ("10.1.2.3", "10.0.0.0/8"),
    ("10.255.255.255", "10.0.0.0/8"),
    ("100.64.0.0", "100.64.0.0/10"),
    ("100.127.255.255", "100.64.0.0/10"),
    ("127.0.0.1", "127.0.0.0/8"),
    ("127.255.255.254", "127.0.0.0/8"),
    ("169.254.169.254", "169.254.0.0/16"),
    ("169.254.0.0", "169.254.0.0/16"),
    ("172.16.0.0", "172.16.0.0/12"),
    ("172.31.255.255", "172.16.0.0/12"),
    ("192.168.0.1", "192.168.0.0/16"),
    ("192.168.255.255", "192.168.0.0/16"),
    ("192.0.0.8", "192.0.0.0/24"),
    ("192.0.2.1", "192.0.2.0/24"),
    ("192.88.99.1", "192.88.99.0/24"),
    ("198.18.0.0", "198.18.0.0/15"),
    ("198.19.255.255", "198.18.0.0/15"),
    ("198.51.100.7", "198.51.100.0/24"),
    ("203.0.113.200", "203.0.113.0/24"),
    ("224.0.0.1", "224.0.0.0/4"),
    ("239.255.255.250", "224.0.0.0/4"),
    ("240.0.0.1", "240.0.0.0/4"),
    ("254.1.2.3", "240.0.0.0/4"),
    ("255.255.255.255", "255.255.255.255/32"),
];

/// Public neighbours of the ranges' edges, and well-known public resolvers.
const PUBLIC_V4: &[&str] = &[
    "1.1.1.1",
    "8.8.8.8",
    "9.255.255.255",
    "11.0.0.0",
    "100.63.255.255",
    "100.128.0.0",
    "126.255.255.255",
    "128.0.0.0",
    "169.253.255.255",
    "169.255.0.0",
    "172.15.255.255",
    "172.32.0.0",
    "192.0.1.0",
    "192.0.3.0",
    "192.167.255.255",
    "192.169.0.0",
    "198.17.255.255",
    "198.20.0.0",
    "198.51.99.255",
    "203.0.112.255",
    "223.255.255.255",
];

const REFUSED_V6: &[(&str, &str)] = &[
    ("::", "::/128"),
    ("::1", "::1/128"),
    ("fc00::1", "fc00::/7"),
    ("fd12:3456:789a::1", "fc00::/7"),
    ("fe80::1", "fe80::/10"),
    ("febf:ffff::1", "fe80::/10"),
    ("fec0::1", "fec0::/10"),
    ("ff02::1", "ff00::/8"),
    ("ff0e::fb", "ff00::/8"),
    ("2001:db8::1", "2001:db8::/32"),
    ("3fff::1", "3fff::/20"),
    ("100::1", "100::/64"),
    ("2001:2::1", "2001:2::/48"),
    // Teredo carrying public addresses (server 65.54.227.120, client 8.8.8.8 inverted).
    ("2001:0:4136:e378:8000:63bf:f7f7:f7f7", "2001::/32"),
    ("64:ff9b:1::808:808", "64:ff9b:1::/48"),
    // The compatible form of a public address is never routed.
    ("::808:808", "::/96"),
    // Outside global unicast altogether.
    ("4000::1", "outside 2000::/3"),
    ("::ffff:0:808:808", "outside 2000::/3"),
    ("1::", "outside 2000::/3"),
];

const PUBLIC_V6: &[&str] = &[
    "2606:4700:4700::1111",
    "2a00:1450:4001:81c::200e",
    "2001:4860:4860::8888",
    "3ffe:ffff::1",
    // Public IPv4 addresses in the forms that reach them.
    "::ffff:8.8.8.8",
    "64:ff9b::808:808",
    "2002:808:808::1",
];

#[test]
fn each_refused_ipv4_range_is_named_and_its_public_neighbours_pass() {
    for (a, range) in REFUSED_V4 {
        assert_eq!(decision(a), *range, "{a}");
    }
    for a in PUBLIC_V4 {
        assert_eq!(decision(a), "ok", "{a}");
    }
}

#[test]
fn each_refused_ipv6_range_is_named_and_global_unicast_passes() {
    for (a, range) in REFUSED_V6 {
        assert_eq!(decision(a), *range, "{a}");
    }
    for a in PUBLIC_V6 {
        assert_eq!(decision(a), "ok", "{a}");
    }
}

/// The forms an IPv6 address carries an IPv4 one in, as text.
fn forms(v4: Ipv4Addr) -> Vec<(Embedding, String)> {
    let [a, b, c, d] = v4.octets();
    let hi = u16::from_be_bytes([a, b]);
    let lo = u16::from_be_bytes([c, d]);
    let mut out = vec![
        (Embedding::Mapped, format!("::ffff:{v4}")),
        (Embedding::SixToFour, format!("2002:{hi:x}:{lo:x}::1")),
        (Embedding::SixToFour, format!("2002:{hi:x}:{lo:x}:ab:cd::")),
        (Embedding::Nat64, format!("64:ff9b::{v4}")),
        (Embedding::LocalNat64, format!("64:ff9b:1::{v4}")),
        (
            Embedding::Teredo,
            format!("2001:0:4136:e378:8000:63bf:{:x}:{:x}", !hi, !lo),
        ),
    ];
    // `::` and `::1` are the unspecified and loopback addresses in their own right.
    if u32::from(v4) > 1 {
        out.push((Embedding::Compatible, format!("::{v4}")));
    }
    out
}

#[test]
fn a_refused_ipv4_address_is_refused_in_every_ipv6_form_naming_its_range() {
    for (a, range) in REFUSED_V4 {
        let v4: Ipv4Addr = a.parse().unwrap();
        for (how, text) in forms(v4) {
            match check_address(ip(&text), false) {
                Err(Refusal::Address {
                    range: r,
                    carried: Some((h, inner)),
                    ..
                }) => assert_eq!((r.as_str(), h, inner), (*range, how, v4), "{text}"),
                other => panic!("{text}: {other:?}"),
            }
        }
    }
}

#[test]
fn the_message_names_the_address_its_form_and_the_range() {
    let refusal = check_address(ip("::ffff:169.254.169.254"), false).unwrap_err();
    assert_eq!(
        refusal.to_string(),
        "url's host is ::ffff:169.254.169.254, the IPv4-mapped form of 169.254.169.254, in \
         169.254.0.0/16 (link-local, cloud metadata): only public addresses are allowed"
    );
    assert_eq!(
        check_address(ip("4000::1"), false).unwrap_err().to_string(),
        "url's host is 4000::1, outside global unicast 2000::/3 (reserved): only public \
         addresses are allowed"
    );
    let e = check_address(ip("10.0.0.1"), false)
        .unwrap_err()
        .to_api_error();
    assert_eq!(
        (e.status, e.code, e.field.as_deref(), e.message.as_str()),
        (
            422,
            crate::ErrorCode::ValidationFailed,
            Some("url"),
            "url's host is 10.0.0.1, in 10.0.0.0/8 (private): only public addresses are allowed"
        )
    );
}

#[test]
fn every_resolved_address_must_be_public() {
    let public = [
        ip("93.184.215.14"),
        ip("2606:2800:21f:cb07:6820:80da:af6b:8b2c"),
    ];
    assert_eq!(check_addresses(&public, false), Ok(()));
    // One private answer among public ones is enough: the connection could use it.
    let mixed = [ip("93.184.215.14"), ip("10.0.0.5")];
    assert!(matches!(
        check_addresses(&mixed, false),
        Err(Refusal::Address { range, .. }) if range == "10.0.0.0/8"
    ));
    assert_eq!(check_addresses(&[], false), Err(Refusal::NoAddress));
}

#[test]
fn the_local_stack_allows_127_0_0_1_and_nothing_else() {
    assert_eq!(check_addresses(&[ip("127.0.0.1")], true), Ok(()));
    assert!(check_addresses(&[ip("127.0.0.1")], false).is_err());
    for other in [
        "127.0.0.2",
        "::1",
        "::ffff:127.0.0.1",
        "10.0.0.1",
        "169.254.169.254",
    ] {
        assert!(check_addresses(&[ip(other)], true).is_err(), "{other}");
    }
}

fn target(url: &str, local: bool) -> Result<(Host, u16, bool), Refusal> {
    check_url(url, local).map(|t| (t.host, t.port, t.plain_http))
}

fn domain(d: &str) -> Host {
    Host::Domain(d.into())
}

#[test]
fn a_url_is_https_with_a_host_and_without_user_info() {
    assert_eq!(
        target("https://hooks.example.com/dropship?x=1", false),
        Ok((domain("hooks.example.com"), 443, false))
    );
    assert_eq!(
        target("https://hooks.example.com:8443/", false),
        Ok((domain("hooks.example.com"), 8443, false))
    );
    assert_eq!(
        target("https://8.8.8.8/h", false),
        Ok((Host::Ip(ip("8.8.8.8")), 443, false))
    );
    assert_eq!(
        target("https://[2606:4700:4700::1111]/h", false),
        Ok((Host::Ip(ip("2606:4700:4700::1111")), 443, false))
    );
    // An internationalised name is kept in the form DNS is asked for.
    assert_eq!(
        target("https://bücher.example/h", false),
        Ok((domain("xn--bcher-kva.example"), 443, false))
    );
    let t = check_url("https://Hooks.Example.com/a#frag", false).unwrap();
    assert_eq!(t.url, "https://hooks.example.com/a");

    for (url, refusal) in [
        ("http://hooks.example.com/", Refusal::NotHttps),
        ("ftp://hooks.example.com/", Refusal::NotHttps),
        ("file:///etc/passwd", Refusal::NotHttps),
        ("gopher://hooks.example.com/", Refusal::NotHttps),
        ("hooks.example.com/x", Refusal::NotAUrl),
        ("https://", Refusal::NotAUrl),
        ("", Refusal::NotAUrl),
        ("https://user:pw@hooks.example.com/", Refusal::UserInfo),
        ("https://user@hooks.example.com/", Refusal::UserInfo),
        ("https://:pw@hooks.example.com/", Refusal::UserInfo),
        ("https://hooks.example.com:0/", Refusal::BadPort),
        ("https://hooks.example.com:65536/", Refusal::NotAUrl),
        ("https://localhost/", Refusal::LocalName),
        ("https://LOCALHOST./", Refusal::LocalName),
        ("https://api.localhost/", Refusal::LocalName),
    ] {
        assert_eq!(check_url(url, false), Err(refusal), "{url}");
    }
    let long = format!("https://hooks.example.com/{}", "a".repeat(MAX_URL_CHARS));
    assert_eq!(check_url(&long, false), Err(Refusal::TooLong));
}

#[test]
fn an_address_in_the_url_is_judged_as_the_client_reads_it() {
    // The WHATWG parser reads these as 127.0.0.1 (hex, shortened, one number, octal), and so
    // would the HTTP client: the guard must see them so too.
    for url in [
        "https://127.0.0.1/",
        "https://0x7f.1/",
        "https://127.1/",
        "https://2130706433/",
        "https://0177.0.0.1/",
        "https://[::ffff:127.0.0.1]/",
        "https://[::ffff:7f00:1]/",
        "https://[64:ff9b::127.0.0.1]/",
        "https://[2002:7f00:1::]/",
    ] {
        match check_url(url, false) {
            Err(Refusal::Address { range, .. }) => assert_eq!(range, "127.0.0.0/8", "{url}"),
            other => panic!("{url}: {other:?}"),
        }
    }
    for (url, range) in [
        (
            "https://169.254.169.254/latest/meta-data/",
            "169.254.0.0/16",
        ),
        ("https://[fd00:ec2::254]/", "fc00::/7"),
        ("https://[::]/", "::/128"),
        ("https://[::1]:8443/", "::1/128"),
        ("https://0.0.0.0/", "0.0.0.0/8"),
        ("https://0/", "0.0.0.0/8"),
        ("https://[fe80::1]/", "fe80::/10"),
    ] {
        match check_url(url, false) {
            Err(Refusal::Address { range: r, .. }) => assert_eq!(r, range, "{url}"),
            other => panic!("{url}: {other:?}"),
        }
    }
}

#[test]
fn the_local_setting_allows_exactly_http_127_0_0_1_with_a_port() {
    assert_eq!(
        target("http://127.0.0.1:9900/hooks", true),
        Ok((Host::Ip(ip("127.0.0.1")), 9900, true))
    );
    assert_eq!(
        check_url("http://127.0.0.1:9900/hooks", false),
        Err(Refusal::NotHttps)
    );
    for url in [
        "http://localhost:9900/",
        "http://127.0.0.2:9900/",
        "http://[::1]:9900/",
        "http://10.0.0.1:9900/",
        "http://hooks.example.com/",
    ] {
        assert!(check_url(url, true).is_err(), "{url}");
    }
    // Over https the address is judged as any other: refused without the setting.
    assert!(check_url("https://127.0.0.1:9900/", false).is_err());
}

/// An IPv4 address inside the refused range `i`.
fn refused_v4_in(i: usize, offset: u32) -> Ipv4Addr {
    let r = &V4_REFUSED[i];
    let host_bits = 32 - u32::from(r.prefix);
    let span = 1u64 << host_bits;
    Ipv4Addr::from(u32::from_be_bytes(r.net) + (u64::from(offset) % span) as u32)
}

fn is_listed(a: Ipv4Addr) -> bool {
    REFUSED_V4.iter().any(|(_, range)| {
        let (net, prefix) = range.split_once('/').unwrap();
        let net: Ipv4Addr = net.parse().unwrap();
        let prefix: u32 = prefix.parse().unwrap();
        let mask = u32::MAX.checked_shl(32 - prefix).unwrap_or(0);
        u32::from(a) & mask == u32::from(net) & mask
    })
}

proptest! {
    #[test]
    fn any_refused_ipv4_address_is_refused_in_all_its_ipv6_forms(
        i in 0..V4_REFUSED.len(),
        offset in any::<u32>(),
    ) {
        let v4 = refused_v4_in(i, offset);
        let expected = check_address(IpAddr::V4(v4), false);
        let Err(Refusal::Address { range, .. }) = expected else {
            return Err(TestCaseError::fail(format!("{v4} passed")));
        };
        for (how, text) in forms(v4) {
            match check_address(ip(&text), false) {
                Err(Refusal::Address { range: r, carried: Some((h, inner)), .. }) => {
                    prop_assert_eq!((&r, h, inner), (&range, how, v4), "{}", text);
                }
                other => prop_assert!(false, "{} passed as {:?}", text, other),
            }
        }
    }

    #[test]
    fn an_ipv4_address_outside_the_listed_ranges_passes_and_so_do_its_routable_forms(
        bits in any::<u32>(),
    ) {
        let v4 = Ipv4Addr::from(bits);
        // The oracle is the table of this file (written from docs/api.md), not the guard's own.
        prop_assume!(!is_listed(v4));
        prop_assert_eq!(check_address(IpAddr::V4(v4), false), Ok(()));
        for (how, text) in forms(v4) {
            let routable = matches!(how, Embedding::Mapped | Embedding::Nat64 | Embedding::SixToFour);
            prop_assert_eq!(check_address(ip(&text), false).is_ok(), routable, "{}", text);
        }
    }

    #[test]
    fn check_addresses_refuses_a_list_exactly_when_one_of_its_addresses_is_refused(
        words in proptest::collection::vec(any::<u128>(), 1..5),
    ) {
        let addresses: Vec<IpAddr> = words
            .iter()
            .map(|w| if w % 2 == 0 { IpAddr::V6(Ipv6Addr::from(*w)) } else { IpAddr::V4(Ipv4Addr::from(*w as u32)) })
            .collect();
        let one_refused = addresses.iter().any(|a| check_address(*a, false).is_err());
        prop_assert_eq!(check_addresses(&addresses, false).is_err(), one_refused);
    }
}
