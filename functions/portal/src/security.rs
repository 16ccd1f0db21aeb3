//! Cookies and CSRF tokens. The session cookie holds a random secret (stored only hashed); a
//! form's CSRF token is an HMAC of that secret, so only a page rendered for this session can
//! carry a valid one. Before sign-in, a pre-session cookie plays the secret's part (double submit).

use hmac::{Hmac, Mac};
use lambda_http::Request;
use sha2::Sha256;

pub const SESSION_COOKIE: &str = "portal_session";
pub const PRE_COOKIE: &str = "portal_pre";
/// How long a session lasts (a working day and a bit); signing in again is cheap.
pub const SESSION_HOURS: i64 = 12;
/// How long a pre-session (an open sign-in form) lasts.
pub const PRE_SECONDS: i64 = 3600;

/// A value of the request's cookies (API Gateway folds the `cookies` array into one header).
pub fn cookie(req: &Request, name: &str) -> Option<String> {
    req.headers()
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim().to_string())
}

/// A secret as `new_secret` makes them: 64 lowercase hex characters. Anything else is not
/// looked up at all.
pub fn is_secret(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// `Set-Cookie` for a portal cookie: only for /portal, never readable by scripts, only over
/// HTTPS, and not sent along with other sites' POSTs.
pub fn set_cookie(name: &str, value: &str, max_age_seconds: i64) -> String {
    format!(
        "{name}={value}; Path=/portal; Max-Age={max_age_seconds}; HttpOnly; Secure; SameSite=Lax"
    )
}

pub fn clear_cookie(name: &str) -> String {
    set_cookie(name, "", 0)
}

fn mac(secret: &str) -> Option<Hmac<Sha256>> {
    // HMAC takes keys of any length, so this is always Some; no panic path either way.
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).ok()?;
    m.update(b"dropship-portal-csrf-v1");
    Some(m)
}

/// The CSRF token forms of this session (or pre-session) carry.
pub fn csrf_token(secret: &str) -> String {
    mac(secret)
        .map(|m| hex::encode(m.finalize().into_bytes()))
        .unwrap_or_default()
}

/// Whether a presented CSRF token belongs to this secret (compared in constant time).
pub fn csrf_ok(secret: &str, presented: Option<&str>) -> bool {
    match (mac(secret), presented.and_then(|p| hex::decode(p).ok())) {
        (Some(m), Some(bytes)) => m.verify_slice(&bytes).is_ok(),
        _ => false,
    }
}

/// A fresh random value for CSP nonces and form ids.
pub fn nonce() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csrf_tokens_belong_to_their_secret_only() {
        let a = "a".repeat(64);
        let b = "b".repeat(64);
        let ta = csrf_token(&a);
        assert!(csrf_ok(&a, Some(&ta)));
        assert!(!csrf_ok(&b, Some(&ta)));
        assert!(!csrf_ok(&a, None));
        assert!(!csrf_ok(&a, Some("")));
        assert!(!csrf_ok(&a, Some("zz")));
        assert!(!csrf_ok(&a, Some(&ta[..62])));
        assert_ne!(ta, csrf_token(&b));
    }

    #[test]
    fn cookies_are_read_by_name_and_set_safely() {
        let req = http::Request::builder()
            .header("cookie", "x=1; portal_session=abc ; portal_pre=def")
            .body(lambda_http::Body::Empty)
            .unwrap_or_default();
        assert_eq!(cookie(&req, SESSION_COOKIE).as_deref(), Some("abc"));
        assert_eq!(cookie(&req, PRE_COOKIE).as_deref(), Some("def"));
        assert_eq!(cookie(&req, "nope"), None);
        let c = set_cookie(SESSION_COOKIE, "v", 60);
        for part in [
            "HttpOnly",
            "Secure",
            "SameSite=Lax",
            "Path=/portal",
            "Max-Age=60",
        ] {
            assert!(c.contains(part), "{c}");
        }
        assert!(clear_cookie(SESSION_COOKIE).contains("Max-Age=0"));
    }

    #[test]
    fn only_secret_shaped_values_are_looked_up() {
        assert!(is_secret(&"0a".repeat(32)));
        assert!(!is_secret(&"0A".repeat(32)));
        assert!(!is_secret("abc"));
        assert!(!is_secret(&"g".repeat(64)));
    }
}
