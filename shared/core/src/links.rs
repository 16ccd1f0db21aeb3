//! Stateless signed document links: minting one writes nothing. A link id is
//! `<deliveryOrderId>.<kind>.<expiry>.<mac>`: the kind is one letter (`n` delivery note, `l`
//! shipping label, `i` invoice), the expiry is in epoch seconds in base 36, and the mac is the
//! first 16 bytes of HMAC-SHA256 over `<deliveryOrderId>.<kind>.<expiry>`, keyed with the delivery
//! order's own random `linkKey`, in base64url without padding (22 characters). A delivery
//! order's id is 23 characters, so a link id is about 55: within docs/api.md's ids (at most 64).
//!
//! Only the holder of the key (the delivery order's item) can mint a link; changing any part of
//! a link (delivery order, kind, expiry or a character of the mac) makes it fail verification.

use crate::delivery::DocumentKind;
// The key is kept on the delivery order; reached through `links::` as well.
pub use crate::delivery::LinkKey;
use chrono::{DateTime, Duration, Utc};
use sha2::Sha256;

/// How long a minted link works (docs/api.md: 7 days).
pub const VALIDITY_DAYS: i64 = 7;

/// Bytes of the HMAC kept in a link (128 bits).
const MAC_BYTES: usize = 16;
/// Characters of those bytes in base64url without padding.
const MAC_CHARS: usize = 22;

/// The expiry of a link minted at `now`: 7 days later, whole seconds (what the link carries).
pub fn expiry(now: DateTime<Utc>) -> DateTime<Utc> {
    let at = now + Duration::days(VALIDITY_DAYS);
    DateTime::from_timestamp(at.timestamp(), 0).unwrap_or(at)
}

/// The link id of the `kind` document of delivery order `delivery_order_id`, valid until
/// `expires_at` (whole seconds), signed with the delivery order's `key`. None when no valid link
/// can be made: an empty key, an id outside docs/api.md's alphabet, an expiry before 1970.
pub fn mint(
    delivery_order_id: &str,
    kind: DocumentKind,
    expires_at: DateTime<Utc>,
    key: &str,
) -> Option<String> {
    let epoch = expires_at.timestamp();
    if key.is_empty() || epoch <= 0 || !crate::ids::is_valid_id(delivery_order_id) {
        return None;
    }
    let message = format!(
        "{delivery_order_id}.{}.{}",
        kind_letter(kind),
        base36(epoch as u64)
    );
    let id = format!("{message}.{}", mac(key, &message)?);
    crate::ids::is_valid_id(&id).then_some(id)
}

/// The `GET /documents/{linkId}` URLs (under `base_url`) of `documents` of `delivery`, valid
/// until `expires_at`, as `(kind, url)`; None while the delivery order has no link key (it comes
/// with its first documents) or when a link cannot be made.
pub fn document_urls(
    base_url: &str,
    delivery: &crate::delivery::DeliveryOrder,
    documents: &[crate::delivery::DocumentRef],
    expires_at: DateTime<Utc>,
) -> Option<Vec<(DocumentKind, String)>> {
    let key = delivery.link_key.as_deref()?;
    documents
        .iter()
        .map(|d| {
            let id = mint(&delivery.id, d.kind, expires_at, key)?;
            Some((d.kind, format!("{base_url}/documents/{id}")))
        })
        .collect()
}

/// A link id taken apart, not yet verified: which delivery order's key to check it with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedLink {
    pub delivery_order_id: String,
    pub kind: DocumentKind,
    pub expires_at: DateTime<Utc>,
    /// `<deliveryOrderId>.<kind>.<expiry>` exactly as presented: what the mac signs.
    message: String,
    mac: String,
}

impl SignedLink {
    /// Takes a link id apart; None when it is not of the link format (never panics).
    pub fn parse(link_id: &str) -> Option<SignedLink> {
        if !crate::ids::is_valid_id(link_id) {
            return None;
        }
        let mut parts = link_id.rsplitn(4, '.');
        let mac = parts.next()?;
        let expiry = parts.next()?;
        let kind = parts.next()?;
        let delivery_order_id = parts.next()?;
        if mac.len() != MAC_CHARS || delivery_order_id.is_empty() {
            return None;
        }
        let kind = match kind {
            "n" => DocumentKind::DeliveryNote,
            "l" => DocumentKind::ShippingLabel,
            "i" => DocumentKind::Invoice,
            _ => return None,
        };
        let epoch = parse_base36(expiry)?;
        let expires_at = DateTime::from_timestamp(i64::try_from(epoch).ok()?, 0)?;
        Some(SignedLink {
            delivery_order_id: delivery_order_id.to_string(),
            kind,
            expires_at,
            message: link_id[..link_id.len() - MAC_CHARS - 1].to_string(),
            mac: mac.to_string(),
        })
    }

    /// True once the link has expired at `now` (checkable before reading any key).
    pub fn is_expired(&self, now: DateTime<Utc>) -> bool {
        self.expires_at <= now
    }

    /// True when the link was minted with `key` and has not expired at `now`. The mac is
    /// compared in constant time.
    pub fn verify(&self, key: &str, now: DateTime<Utc>) -> bool {
        let Some(expected) = mac(key, &self.message) else {
            return false;
        };
        let same = constant_time_eq(expected.as_bytes(), self.mac.as_bytes());
        same && !key.is_empty() && !self.is_expired(now)
    }
}

fn kind_letter(kind: DocumentKind) -> char {
    match kind {
        DocumentKind::DeliveryNote => 'n',
        DocumentKind::ShippingLabel => 'l',
        DocumentKind::Invoice => 'i',
    }
}

/// The first 16 bytes of HMAC-SHA256(key, message), base64url without padding.
fn mac(key: &str, message: &str) -> Option<String> {
    let full = hmac_sha256(key.as_bytes(), message.as_bytes())?;
    Some(base64url(&full[..MAC_BYTES]))
}

/// HMAC-SHA256 (RFC 2104); None only if the key were refused (HMAC takes any length).
fn hmac_sha256(key: &[u8], message: &[u8]) -> Option<[u8; 32]> {
    use hmac::{Hmac, Mac};
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(key).ok()?;
    m.update(message);
    Some(m.finalize().into_bytes().into())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn base64url(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

const BASE36: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";

fn base36(mut n: u64) -> String {
    let mut digits = Vec::new();
    loop {
        digits.push(BASE36[(n % 36) as usize]);
        n /= 36;
        if n == 0 {
            break;
        }
    }
    digits.reverse();
    String::from_utf8(digits).unwrap_or_default()
}

/// Only the form `base36` writes: lower case, no sign, no leading zero, at most 12 digits.
fn parse_base36(s: &str) -> Option<u64> {
    if s.is_empty() || s.len() > 12 || s.starts_with('0') {
        return None;
    }
    s.bytes().try_fold(0u64, |acc, c| {
        let d = match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'z' => c - b'a' + 10,
            _ => return None,
        };
        acc.checked_mul(36)?.checked_add(u64::from(d))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const KEY: &str = "7f3c9a1e5b2d4c6f8a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f";
    const OTHER_KEY: &str = "0f3c9a1e5b2d4c6f8a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f";

    #[test]
    fn a_link_key_is_stored_as_itself_but_never_printed() {
        let key = LinkKey::new(KEY.to_string());
        assert_eq!(&*key, KEY);
        assert_eq!(serde_json::to_value(&key).unwrap(), serde_json::json!(KEY));
        assert!(!format!("{key:?}").contains(KEY));
        assert!(!format!("{:?}", Some(key)).contains(&KEY[..8]));
    }
    const DO: &str = "DO-7927FD6E93E58F188D9A";

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_760_000_000, 0).unwrap()
    }

    fn link(kind: DocumentKind) -> String {
        mint(DO, kind, expiry(now()), KEY).unwrap()
    }

    #[test]
    fn hmac_matches_rfc_4231() {
        let cases: [(&[u8], &[u8], &str); 3] = [
            (
                &[0x0b; 20],
                b"Hi There",
                "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
            ),
            (
                b"Jefe",
                b"what do ya want for nothing?",
                "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
            ),
            (
                &[0xaa; 131],
                b"Test Using Larger Than Block-Size Key - Hash Key First",
                "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
            ),
        ];
        for (key, message, want) in cases {
            assert_eq!(hex::encode(hmac_sha256(key, message).unwrap()), want);
        }
    }

    #[test]
    fn base64url_and_base36_encode_as_specified() {
        assert_eq!(base64url(b""), "");
        assert_eq!(base64url(b"f"), "Zg");
        assert_eq!(base64url(b"fo"), "Zm8");
        assert_eq!(base64url(b"foo"), "Zm9v");
        assert_eq!(base64url(&[0xfb, 0xff]), "-_8");
        assert_eq!(base64url(&[0u8; 16]).len(), MAC_CHARS);
        assert_eq!(base36(0), "0");
        assert_eq!(base36(35), "z");
        assert_eq!(base36(36), "10");
        assert_eq!(parse_base36(&base36(1_760_604_800)), Some(1_760_604_800));
        for bad in ["", "0", "01", "A", "+1", "-1", "1 ", "zzzzzzzzzzzzz"] {
            assert_eq!(parse_base36(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn a_minted_link_verifies_and_names_its_document() {
        for kind in [
            DocumentKind::DeliveryNote,
            DocumentKind::ShippingLabel,
            DocumentKind::Invoice,
        ] {
            let id = link(kind);
            assert!(crate::ids::is_valid_id(&id) && id.len() <= 64, "{id}");
            let parsed = SignedLink::parse(&id).unwrap();
            assert_eq!(parsed.delivery_order_id, DO);
            assert_eq!(parsed.kind, kind);
            assert_eq!(parsed.expires_at, expiry(now()));
            assert!(parsed.verify(KEY, now()));
            assert!(parsed.verify(KEY, expiry(now()) - Duration::seconds(1)));
        }
        // The same id as Python's hmac and base64 modules make of the same key and message.
        assert_eq!(
            link(DocumentKind::Invoice),
            "DO-7927FD6E93E58F188D9A.i.t47vcw.XHOL1085IT1YX3rbqjsqKA"
        );
        assert_eq!(expiry(now()), now() + Duration::days(7));
    }

    #[test]
    fn an_expired_link_or_one_of_another_key_is_refused() {
        let parsed = SignedLink::parse(&link(DocumentKind::DeliveryNote)).unwrap();
        assert!(parsed.is_expired(expiry(now())));
        assert!(!parsed.verify(KEY, expiry(now())));
        assert!(!parsed.verify(KEY, now() + Duration::days(8)));
        assert!(!parsed.verify(OTHER_KEY, now()));
        assert!(!parsed.verify("", now()));
        assert_eq!(mint(DO, DocumentKind::Invoice, expiry(now()), ""), None);
        assert_eq!(
            mint("DO/1", DocumentKind::Invoice, expiry(now()), KEY),
            None
        );
        assert_eq!(
            mint(&"D".repeat(40), DocumentKind::Invoice, expiry(now()), KEY),
            None,
            "a link id longer than 64 characters is not minted"
        );
    }

    #[test]
    fn a_tampered_link_is_refused() {
        let id = link(DocumentKind::DeliveryNote);
        let (message, mac) = id.rsplit_once('.').unwrap();
        let (rest, expiry_part) = message.rsplit_once('.').unwrap();
        let mut tampered = vec![
            // Another kind, the same mac.
            id.replacen(".n.", ".i.", 1),
            id.replacen(".n.", ".l.", 1),
            // Another expiry, later or earlier.
            format!(
                "{rest}.{}.{mac}",
                base36(parse_base36(expiry_part).unwrap() + 1)
            ),
            format!(
                "{rest}.{}.{mac}",
                base36(parse_base36(expiry_part).unwrap() - 1)
            ),
            // Another delivery order, the same mac.
            id.replacen("DO-7927FD6E93E58F188D9A", "DO-7927FD6E93E58F188D9B", 1),
        ];
        // Every single character of the mac changed.
        for i in 0..mac.len() {
            let mut m = mac.as_bytes().to_vec();
            m[i] = if m[i] == b'A' { b'B' } else { b'A' };
            tampered.push(format!("{message}.{}", String::from_utf8(m).unwrap()));
        }
        for t in tampered {
            assert_ne!(t, id);
            let ok = SignedLink::parse(&t).is_some_and(|l| l.verify(KEY, now()));
            assert!(!ok, "{t} accepted");
        }
    }

    #[test]
    fn malformed_links_are_refused() {
        let id = link(DocumentKind::ShippingLabel);
        let (message, mac) = id.rsplit_once('.').unwrap();
        for bad in [
            String::new(),
            ".".into(),
            "...".into(),
            "....".into(),
            "../../etc/passwd".into(),
            "0".repeat(64),
            format!("{message}."),
            format!("{message}.{}", &mac[1..]),
            format!("{message}.{mac}A"),
            format!(".l.{}", &id[id.len() - 29..]),
            id.replacen(".l.", ".x.", 1),
            id.replacen(".l.", ".L.", 1),
            id.replacen(".l.", "..", 1),
            id.replace('.', "_"),
            format!("{id}.{mac}"),
            format!("{id}/x"),
            "ä".repeat(20),
        ] {
            let ok = SignedLink::parse(&bad).is_some_and(|l| l.verify(KEY, now()));
            assert!(!ok, "{bad:?} accepted");
        }
        // An expiry that is not the canonical base 36 (upper case, a leading zero).
        let (rest, e) = message.rsplit_once('.').unwrap();
        for e in [e.to_uppercase(), format!("0{e}")] {
            assert!(SignedLink::parse(&format!("{rest}.{e}.{mac}")).is_none());
        }
    }

    proptest! {
        #[test]
        fn parsing_any_string_never_panics(s in "\\PC{0,80}") {
            let _ = SignedLink::parse(&s).map(|l| l.verify(KEY, now()));
        }

        #[test]
        fn parsing_link_shaped_strings_never_panics(s in "[A-Za-z0-9._-]{0,64}") {
            let _ = SignedLink::parse(&s).map(|l| l.verify(KEY, now()));
        }

        #[test]
        fn every_minted_link_round_trips(secs in 1i64..4_000_000_000, kind in 0usize..3) {
            let kind = [DocumentKind::DeliveryNote, DocumentKind::ShippingLabel, DocumentKind::Invoice][kind];
            let at = DateTime::from_timestamp(secs, 0).unwrap();
            let id = mint(DO, kind, at, KEY).unwrap();
            prop_assert!(id.len() <= 64);
            let l = SignedLink::parse(&id).unwrap();
            prop_assert_eq!((l.kind, l.expires_at), (kind, at));
            prop_assert!(l.verify(KEY, at - Duration::seconds(1)));
            prop_assert!(!l.verify(KEY, at));
        }
    }
}
