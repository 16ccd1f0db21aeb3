//! The Standard Webhooks signature (docs/api.md "Webhooks"): `webhook-signature: v1,<base64
//! HMAC-SHA256 over "{webhook-id}.{webhook-timestamp}.{body}">`, keyed with the secret's
//! base64-decoded bytes. Each attempt is signed anew with its own timestamp; the id stays.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::Sha256;
use std::fmt;
use std::ops::RangeInclusive;

/// How the secret is written: `whsec_` and the base64 (standard alphabet, padded) of its bytes.
pub const SECRET_PREFIX: &str = "whsec_";

/// How many random bytes a secret has (docs/api.md: 24 to 64).
pub const SECRET_BYTES: RangeInclusive<usize> = 24..=64;

/// How far a signature's timestamp may be from the verifier's clock: the specification's five
/// minutes, which keeps a captured request from being replayed later.
pub const TOLERANCE_SECS: i64 = 5 * 60;

/// A subscription's signing secret. Its `Debug` never shows it (a subscription printed in a log
/// must not leak what signs its deliveries); serde writes and reads the `whsec_` form, for the
/// stored subscription and the one answer that creates it, and reading checks it as `parse` does.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Vec<u8>);

/// A secret that is not `whsec_` + base64 of 24..=64 bytes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BadSecret {
    #[error("a webhook secret starts with whsec_")]
    Prefix,
    #[error("a webhook secret is whsec_ and standard base64")]
    Base64,
    #[error("a webhook secret has 24 to 64 bytes, not {0}")]
    Length(usize),
}

impl Secret {
    /// The secret of `bytes`, which the caller draws from a secure random source (this crate
    /// does no I/O, so it cannot draw them itself).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, BadSecret> {
        if SECRET_BYTES.contains(&bytes.len()) {
            Ok(Self(bytes.to_vec()))
        } else {
            Err(BadSecret::Length(bytes.len()))
        }
    }

    /// Reads the `whsec_` form back (a stored subscription's secret).
    pub fn parse(s: &str) -> Result<Self, BadSecret> {
        let encoded = s.strip_prefix(SECRET_PREFIX).ok_or(BadSecret::Prefix)?;
        let bytes = STANDARD.decode(encoded).map_err(|_| BadSecret::Base64)?;
        Self::from_bytes(&bytes)
    }

    /// The `whsec_` form, the only one a subscriber is ever shown.
    pub fn reveal(&self) -> String {
        format!("{SECRET_PREFIX}{}", STANDARD.encode(&self.0))
    }

    fn mac(&self, webhook_id: &str, timestamp_secs: i64, body: &[u8]) -> Hmac<Sha256> {
        // HMAC pads a key shorter than SHA-256's 64-byte block with zeros (RFC 2104), and a
        // secret never has more than 64 bytes: so the padded key is the same key, and the
        // fixed-size constructor cannot fail (no Result to unwrap).
        let mut key = [0u8; 64];
        key.iter_mut().zip(&self.0).for_each(|(k, b)| *k = *b);
        let mut mac = <Hmac<Sha256> as Mac>::new(&key.into());
        mac.update(webhook_id.as_bytes());
        mac.update(b".");
        mac.update(timestamp_secs.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        mac
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.reveal())
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// The `webhook-signature` header of one attempt: `v1,<base64 HMAC-SHA256>` over
/// `{webhook_id}.{timestamp_secs}.{body}`, `body` being exactly the bytes sent.
pub fn sign(secret: &Secret, webhook_id: &str, timestamp_secs: i64, body: &[u8]) -> String {
    let tag = secret
        .mac(webhook_id, timestamp_secs, body)
        .finalize()
        .into_bytes();
    format!("v1,{}", STANDARD.encode(tag))
}

/// Why a delivery's signature is not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Unverified {
    #[error("the timestamp is more than five minutes from now")]
    Stale,
    #[error("no v1 signature matches")]
    NoMatch,
}

/// Checks a delivery as a receiver does: the timestamp within `TOLERANCE_SECS` of `now_secs`,
/// and one of the space-separated signatures of `header` (a sender may send several while it
/// rotates secrets) a `v1` that matches, compared in constant time.
pub fn verify(
    secret: &Secret,
    webhook_id: &str,
    timestamp_secs: i64,
    body: &[u8],
    header: &str,
    now_secs: i64,
) -> Result<(), Unverified> {
    if now_secs.abs_diff(timestamp_secs) > TOLERANCE_SECS.unsigned_abs() {
        return Err(Unverified::Stale);
    }
    let matches = header
        .split(' ')
        .filter_map(|s| s.strip_prefix("v1,"))
        .filter_map(|b64| STANDARD.decode(b64).ok())
        .any(|tag| {
            secret
                .mac(webhook_id, timestamp_secs, body)
                .verify_slice(&tag)
                .is_ok()
        });
    if matches {
        Ok(())
    } else {
        Err(Unverified::NoMatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    // The example the Standard Webhooks specification and its reference libraries publish (their
    // `sign function works` test); checked independently with Python's hmac module as well.
    const SPEC_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const SPEC_ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const SPEC_TIMESTAMP: i64 = 1614265330;
    const SPEC_BODY: &[u8] = br#"{"test": 2432232314}"#;
    const SPEC_SIGNATURE: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    #[test]
    fn signs_the_specifications_example_exactly() {
        let secret = Secret::parse(SPEC_SECRET).unwrap();
        assert_eq!(
            sign(&secret, SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY),
            SPEC_SIGNATURE
        );
        assert_eq!(
            verify(
                &secret,
                SPEC_ID,
                SPEC_TIMESTAMP,
                SPEC_BODY,
                SPEC_SIGNATURE,
                SPEC_TIMESTAMP + 10
            ),
            Ok(())
        );
    }

    #[test]
    fn a_changed_id_timestamp_body_or_secret_does_not_verify() {
        let secret = Secret::parse(SPEC_SECRET).unwrap();
        let check = |id: &str, ts: i64, body: &[u8], s: &Secret| {
            verify(s, id, ts, body, SPEC_SIGNATURE, SPEC_TIMESTAMP)
        };
        let other = Secret::from_bytes(&[7; 24]).unwrap();
        assert_eq!(
            check("msg_other", SPEC_TIMESTAMP, SPEC_BODY, &secret),
            Err(Unverified::NoMatch)
        );
        assert_eq!(
            check(SPEC_ID, SPEC_TIMESTAMP + 1, SPEC_BODY, &secret),
            Err(Unverified::NoMatch)
        );
        assert_eq!(
            check(SPEC_ID, SPEC_TIMESTAMP, br#"{"test":2432232314}"#, &secret),
            Err(Unverified::NoMatch)
        );
        assert_eq!(
            check(SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY, &other),
            Err(Unverified::NoMatch)
        );
    }

    #[test]
    fn verification_takes_any_of_several_signatures_and_refuses_a_stale_timestamp() {
        let secret = Secret::parse(SPEC_SECRET).unwrap();
        let several = format!("v1,bm90IGl0 v2,abc {SPEC_SIGNATURE}");
        let at = |now| verify(&secret, SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY, &several, now);
        assert_eq!(at(SPEC_TIMESTAMP), Ok(()));
        assert_eq!(at(SPEC_TIMESTAMP - TOLERANCE_SECS), Ok(()));
        assert_eq!(
            at(SPEC_TIMESTAMP + TOLERANCE_SECS + 1),
            Err(Unverified::Stale)
        );
        assert_eq!(
            at(SPEC_TIMESTAMP - TOLERANCE_SECS - 1),
            Err(Unverified::Stale)
        );
        // The bare base64 without its version is not a signature.
        let bare = SPEC_SIGNATURE.trim_start_matches("v1,");
        assert_eq!(
            verify(
                &secret,
                SPEC_ID,
                SPEC_TIMESTAMP,
                SPEC_BODY,
                bare,
                SPEC_TIMESTAMP
            ),
            Err(Unverified::NoMatch)
        );
    }

    #[test]
    fn a_secret_is_whsec_and_base64_of_24_to_64_bytes() {
        for n in [24, 32, 64] {
            let s = Secret::from_bytes(&vec![0xAB; n]).unwrap();
            let written = s.reveal();
            assert!(written.starts_with("whsec_"), "{written}");
            assert_eq!(Secret::parse(&written).unwrap(), s);
        }
        for n in [0, 23, 65] {
            assert_eq!(
                Secret::from_bytes(&vec![1; n]),
                Err(BadSecret::Length(n)),
                "{n}"
            );
        }
        assert_eq!(
            Secret::parse("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
            Err(BadSecret::Prefix)
        );
        assert_eq!(Secret::parse("whsec_not base64!"), Err(BadSecret::Base64));
        // 16 bytes: a well-formed secret, too short for docs/api.md.
        assert_eq!(
            Secret::parse(&format!("whsec_{}", STANDARD.encode([1u8; 16]))),
            Err(BadSecret::Length(16))
        );
    }

    #[test]
    fn debug_never_shows_the_secret_and_serde_keeps_the_whsec_form() {
        let s = Secret::parse(SPEC_SECRET).unwrap();
        let shown = format!("{s:?} {:?}", Some(&s));
        assert!(!shown.contains("MfKQ9r8"), "{shown}");
        assert_eq!(shown, "Secret(***) Some(Secret(***))");
        let json = serde_json::to_value(&s).unwrap();
        assert_eq!(json, serde_json::json!(SPEC_SECRET));
        assert_eq!(serde_json::from_value::<Secret>(json).unwrap(), s);
        assert!(serde_json::from_value::<Secret>(serde_json::json!("whsec_AAAA")).is_err());
    }

    proptest! {
        #[test]
        fn what_is_signed_verifies_and_one_changed_byte_does_not(
            key in proptest::collection::vec(any::<u8>(), 24..=64),
            id in "[A-Za-z0-9_]{1,40}",
            ts in 0i64..4_000_000_000,
            body in proptest::collection::vec(any::<u8>(), 0..300),
            flip in any::<prop::sample::Index>(),
        ) {
            let secret = Secret::from_bytes(&key).unwrap();
            prop_assert_eq!(Secret::parse(&secret.reveal()).unwrap(), secret.clone());
            let header = sign(&secret, &id, ts, &body);
            prop_assert!(header.starts_with("v1,"));
            prop_assert_eq!(verify(&secret, &id, ts, &body, &header, ts), Ok(()));
            if !body.is_empty() {
                let mut changed = body.clone();
                changed[flip.index(body.len())] ^= 1;
                prop_assert_eq!(
                    verify(&secret, &id, ts, &changed, &header, ts),
                    Err(Unverified::NoMatch)
                );
            }
        }
    }
}
