//! The outbound-address guard: a webhook goes only over https to public addresses (docs/api.md
//! "Webhooks"), so that nobody can point the system at its own network, the cloud's metadata
//! service (169.254.169.254) above all. Decisions only: `check_url` on the url a subscriber
//! gives, `check_addresses` on what its host resolved to (by the caller, at subscribe and again
//! at every attempt, which then connects to the very address it checked and follows no
//! redirect, so that a DNS answer that changes cannot steer it elsewhere).
//!
//! An IPv6 address can carry an IPv4 one (IPv4-mapped `::ffff:a.b.c.d`, IPv4-compatible
//! `::a.b.c.d`, 6to4 `2002:aabb:ccdd::/48`, NAT64 `64:ff9b::a.b.c.d` and the local-use
//! `64:ff9b:1::/48`, Teredo `2001::/32`) that the network turns back into IPv4: each is judged
//! by the address it carries. Beyond the listed ranges, an IPv6 address outside global unicast
//! (2000::/3) is refused as reserved: nothing else is routable on the internet.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The longest url a subscription keeps.
pub const MAX_URL_CHARS: usize = 2048;

/// A refused IPv4 range: its network, prefix length and what it is.
struct V4Range {
    net: [u8; 4],
    prefix: u8,
    what: &'static str,
}

const fn v4(net: [u8; 4], prefix: u8, what: &'static str) -> V4Range {
    V4Range { net, prefix, what }
}

/// The refused IPv4 ranges (RFC 6890 and its updates), narrowest first where they overlap,
/// so that a refusal names the most telling one (broadcast before reserved).
const V4_REFUSED: &[V4Range] = &[
    v4([0, 0, 0, 0], 8, "this network"),
    v4([10, 0, 0, 0], 8, "private"),
    v4(
        [100, 64, 0, 0],
        10,
        "shared address space, carrier-grade NAT",
    ),
    v4([127, 0, 0, 0], 8, "loopback"),
    v4([169, 254, 0, 0], 16, "link-local, cloud metadata"),
    v4([172, 16, 0, 0], 12, "private"),
    v4([192, 0, 0, 0], 24, "IETF protocol assignments"),
    v4([192, 0, 2, 0], 24, "documentation, TEST-NET-1"),
    v4([192, 88, 99, 0], 24, "6to4 relay anycast, deprecated"),
    v4([192, 168, 0, 0], 16, "private"),
    v4([198, 18, 0, 0], 15, "benchmarking"),
    v4([198, 51, 100, 0], 24, "documentation, TEST-NET-2"),
    v4([203, 0, 113, 0], 24, "documentation, TEST-NET-3"),
    v4([224, 0, 0, 0], 4, "multicast"),
    v4([255, 255, 255, 255], 32, "broadcast"),
    v4([240, 0, 0, 0], 4, "reserved"),
];

/// A refused IPv6 range, after the embedded IPv4 forms were looked into.
struct V6Range {
    net: u128,
    prefix: u8,
    what: &'static str,
}

const fn v6(segments: [u16; 8], prefix: u8, what: &'static str) -> V6Range {
    let mut net = 0u128;
    let mut i = 0;
    while i < 8 {
        net = (net << 16) | segments[i] as u128;
        i += 1;
    }
    V6Range { net, prefix, what }
}

const V6_REFUSED: &[V6Range] = &[
    v6([0; 8], 128, "unspecified"),
    v6([0, 0, 0, 0, 0, 0, 0, 1], 128, "loopback"),
    v6([0xfc00, 0, 0, 0, 0, 0, 0, 0], 7, "unique-local"),
    v6([0xfe80, 0, 0, 0, 0, 0, 0, 0], 10, "link-local"),
    v6([0xfec0, 0, 0, 0, 0, 0, 0, 0], 10, "site-local, deprecated"),
    v6([0xff00, 0, 0, 0, 0, 0, 0, 0], 8, "multicast"),
    v6([0x2001, 0xdb8, 0, 0, 0, 0, 0, 0], 32, "documentation"),
    v6([0x3fff, 0, 0, 0, 0, 0, 0, 0], 20, "documentation"),
    v6([0x2001, 0, 0, 0, 0, 0, 0, 0], 32, "Teredo"),
    v6([0x2001, 2, 0, 0, 0, 0, 0, 0], 48, "benchmarking"),
    v6([0x0100, 0, 0, 0, 0, 0, 0, 0], 64, "discard-only"),
    v6([0x0064, 0xff9b, 1, 0, 0, 0, 0, 0], 48, "local-use NAT64"),
    v6([0, 0, 0, 0, 0, 0, 0, 0], 96, "IPv4-compatible, deprecated"),
];

/// Global unicast (2000::/3): the only IPv6 space the internet routes.
const V6_GLOBAL: V6Range = v6([0x2000, 0, 0, 0, 0, 0, 0, 0], 3, "");

fn in_v4(a: Ipv4Addr, r: &V4Range) -> bool {
    let mask = u32::MAX.checked_shl(32 - u32::from(r.prefix)).unwrap_or(0);
    u32::from(a) & mask == u32::from_be_bytes(r.net) & mask
}

fn in_v6(a: Ipv6Addr, r: &V6Range) -> bool {
    let mask = u128::MAX
        .checked_shl(128 - u32::from(r.prefix))
        .unwrap_or(0);
    u128::from(a) & mask == r.net & mask
}

fn v4_cidr(r: &V4Range) -> String {
    format!("{}/{}", Ipv4Addr::from(r.net), r.prefix)
}

fn v6_cidr(r: &V6Range) -> String {
    format!("{}/{}", Ipv6Addr::from(r.net), r.prefix)
}

/// How an IPv6 address carries an IPv4 one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Embedding {
    Mapped,
    Compatible,
    SixToFour,
    Nat64,
    LocalNat64,
    /// Teredo's client address (stored inverted) or its server's.
    Teredo,
}

impl Embedding {
    fn words(self) -> &'static str {
        match self {
            Self::Mapped => "IPv4-mapped",
            Self::Compatible => "IPv4-compatible",
            Self::SixToFour => "6to4",
            Self::Nat64 => "NAT64",
            Self::LocalNat64 => "local-use NAT64",
            Self::Teredo => "Teredo",
        }
    }
}

/// The IPv4 addresses `a` carries, and how. Teredo carries two (server and client).
fn embedded(a: Ipv6Addr) -> Vec<(Embedding, Ipv4Addr)> {
    let bits = u128::from(a);
    let low = Ipv4Addr::from(bits as u32);
    let s = a.segments();
    match s {
        [0, 0, 0, 0, 0, 0xffff, _, _] => vec![(Embedding::Mapped, low)],
        // `::` and `::1` are named in their own right, not as 0.0.0.0 and 0.0.0.1.
        [0, 0, 0, 0, 0, 0, _, _] if bits > 1 => vec![(Embedding::Compatible, low)],
        [0x0064, 0xff9b, 0, 0, 0, 0, _, _] => vec![(Embedding::Nat64, low)],
        // RFC 8215 lets a network put its prefix anywhere in the /48; the /96 layout is the
        // one to name. The whole /48 is refused as local-use in any case.
        [0x0064, 0xff9b, 1, ..] => vec![(Embedding::LocalNat64, low)],
        [0x2002, hi, lo, ..] => vec![(
            Embedding::SixToFour,
            Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo)),
        )],
        [0x2001, 0, hi, lo, ..] => vec![
            (
                Embedding::Teredo,
                Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo)),
            ),
            (Embedding::Teredo, Ipv4Addr::from(!(bits as u32))),
        ],
        _ => vec![],
    }
}

/// Why an outbound address or url is refused; `Display` is the 422 message for `url`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    NotAUrl,
    TooLong,
    /// Neither https nor the local stack's `http://127.0.0.1:<port>`.
    NotHttps,
    UserInfo,
    BadPort,
    /// `localhost` and its subdomains, which always mean this machine.
    LocalName,
    /// The host resolved to nothing at all.
    NoAddress,
    /// An address in a refused range: `range` in CIDR, `what` it is, and the IPv4 address
    /// inside an IPv6 one when that is what was refused.
    Address {
        address: IpAddr,
        range: String,
        what: &'static str,
        carried: Option<(Embedding, Ipv4Addr)>,
    },
    /// An IPv6 address in none of the named ranges and outside global unicast (2000::/3):
    /// reserved space the internet does not route.
    NotGlobalUnicast {
        address: Ipv6Addr,
    },
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotAUrl => f.write_str("url must be an absolute https URL"),
            Self::TooLong => write!(f, "url is longer than {MAX_URL_CHARS} characters"),
            Self::NotHttps => f.write_str("url must use https"),
            Self::UserInfo => f.write_str("url must not contain a user name or password"),
            Self::BadPort => f.write_str("url must not use port 0"),
            Self::LocalName => f.write_str("url must not name localhost"),
            Self::NoAddress => f.write_str("url's host resolves to no address"),
            Self::NotGlobalUnicast { address } => write!(
                f,
                "url's host is {address}, outside global unicast 2000::/3 (reserved): only \
                 public addresses are allowed"
            ),
            Self::Address {
                address,
                range,
                what,
                carried: None,
            } => write!(
                f,
                "url's host is {address}, in {range} ({what}): only public addresses are allowed"
            ),
            Self::Address {
                address,
                range,
                what,
                carried: Some((how, inner)),
            } => write!(
                f,
                "url's host is {address}, the {} form of {inner}, in {range} ({what}): only public \
                 addresses are allowed",
                how.words()
            ),
        }
    }
}

impl std::error::Error for Refusal {}

impl Refusal {
    /// The 422 a subscribe answers with: `validation_failed` on `url`, naming the range.
    pub fn to_api_error(&self) -> crate::ApiError {
        crate::ApiError::invalid("url", self.to_string())
    }
}

/// The local stack's one exception (`http://127.0.0.1:<port>`, behind a setting the template
/// never turns on): the receiver the tests run on this machine.
const LOCAL_RECEIVER: Ipv4Addr = Ipv4Addr::LOCALHOST;

fn refused_v4(a: Ipv4Addr) -> Option<&'static V4Range> {
    V4_REFUSED.iter().find(|r| in_v4(a, r))
}

/// Why `address` is refused, if it is.
pub fn check_address(address: IpAddr, allow_local_http: bool) -> Result<(), Refusal> {
    let refusal = |range, what, carried| Refusal::Address {
        address,
        range,
        what,
        carried,
    };
    match address {
        IpAddr::V4(a) if allow_local_http && a == LOCAL_RECEIVER => Ok(()),
        IpAddr::V4(a) => match refused_v4(a) {
            Some(r) => Err(refusal(v4_cidr(r), r.what, None)),
            None => Ok(()),
        },
        IpAddr::V6(a) => {
            // The carried IPv4 address first: its range says more than "IPv4-mapped".
            for (how, inner) in embedded(a) {
                if let Some(r) = refused_v4(inner) {
                    return Err(refusal(v4_cidr(r), r.what, Some((how, inner))));
                }
            }
            // A public IPv4 address in its mapped form is that public address (the kernel
            // sends IPv4), and in the well-known NAT64 prefix it is how an IPv6-only network
            // reaches it. A 6to4 address is global unicast and passes below; the compatible,
            // local-use NAT64 and Teredo forms are refused below whatever they carry.
            if let Some((Embedding::Mapped | Embedding::Nat64, _)) = embedded(a).first() {
                return Ok(());
            }
            if let Some(r) = V6_REFUSED.iter().find(|r| in_v6(a, r)) {
                return Err(refusal(v6_cidr(r), r.what, None));
            }
            if in_v6(a, &V6_GLOBAL) {
                Ok(())
            } else {
                Err(Refusal::NotGlobalUnicast { address: a })
            }
        }
    }
}

/// Every address a host resolved to must be public (docs/api.md): one private answer among
/// public ones is enough to refuse, since the connection could be made to any of them.
pub fn check_addresses(addresses: &[IpAddr], allow_local_http: bool) -> Result<(), Refusal> {
    if addresses.is_empty() {
        return Err(Refusal::NoAddress);
    }
    addresses
        .iter()
        .try_for_each(|a| check_address(*a, allow_local_http))
}

/// The host of a webhook url, as the connection will use it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Host {
    /// A name the sender resolves (then checks with `check_addresses`), in ASCII (an
    /// internationalised name in its punycode form).
    Domain(String),
    /// An address written in the url: already checked.
    Ip(IpAddr),
}

/// A url the guard accepted: what the sender connects to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The url as normalised by the parser (fragment dropped: it is never sent).
    pub url: String,
    /// True only for the local stack's `http://127.0.0.1:<port>`.
    pub plain_http: bool,
    pub host: Host,
    pub port: u16,
}

/// Checks a webhook url before anything is resolved: https (or, with `allow_local_http`, exactly
/// `http://127.0.0.1:<port>`), no user name or password, a port other than 0, not `localhost`,
/// and a host written as an address must be public. The parser is the WHATWG one the HTTP
/// client uses, so `https://0x7f.1/` is seen as 127.0.0.1, as the client would connect to it.
pub fn check_url(url: &str, allow_local_http: bool) -> Result<Target, Refusal> {
    if url.chars().count() > MAX_URL_CHARS {
        return Err(Refusal::TooLong);
    }
    let mut parsed = url::Url::parse(url).map_err(|_| Refusal::NotAUrl)?;
    if !matches!(parsed.scheme(), "https" | "http") {
        return Err(Refusal::NotHttps);
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(Refusal::UserInfo);
    }
    let host = match parsed.host() {
        Some(url::Host::Domain(d)) => Host::Domain(d.to_string()),
        Some(url::Host::Ipv4(a)) => Host::Ip(IpAddr::V4(a)),
        Some(url::Host::Ipv6(a)) => Host::Ip(IpAddr::V6(a)),
        None => return Err(Refusal::NotAUrl),
    };
    let plain_http = match parsed.scheme() {
        "https" => false,
        "http" if allow_local_http && host == Host::Ip(IpAddr::V4(LOCAL_RECEIVER)) => true,
        _ => return Err(Refusal::NotHttps),
    };
    let port = parsed.port_or_known_default().ok_or(Refusal::NotHttps)?;
    if port == 0 {
        return Err(Refusal::BadPort);
    }
    match &host {
        Host::Domain(d) => {
            let name = d.trim_end_matches('.');
            if name == "localhost" || name.ends_with(".localhost") {
                return Err(Refusal::LocalName);
            }
        }
        Host::Ip(a) => check_address(*a, allow_local_http)?,
    }
    parsed.set_fragment(None);
    Ok(Target {
        url: parsed.into(),
        plain_http,
        host,
        port,
    })
}

#[cfg(test)]
mod tests;
