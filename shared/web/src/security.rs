//! Cookies and CSRF tokens. A site's session cookie holds a random secret (stored only hashed);
//! a form's CSRF token is an HMAC of that secret, keyed per site, so only a page rendered for
//! this session of this site can carry a valid one. Before sign-in, a pre-session cookie plays
//! the secret's part (double submit).

use hmac::{Hmac, Mac};
use lambda_http::Request;
use sha2::Sha256;

/// One server-rendered site: where its cookies apply and what its CSRF tokens are keyed with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Site {
    /// The path its cookies are sent to (`/portal`).
    pub path: &'static str,
    /// Mixed into every CSRF token, so a token of one site is worthless on another.
    pub csrf_label: &'static [u8],
}

impl Site {
    /// `Set-Cookie` for one of the site's cookies: only for its path, never readable by
    /// scripts, only over HTTPS, and not sent along with other sites' POSTs.
    pub fn set_cookie(&self, name: &str, value: &str, max_age_seconds: i64) -> String {
        format!(
            "{name}={value}; Path={}; Max-Age={max_age_seconds}; HttpOnly; Secure; SameSite=Lax",
            self.path
        )
    }

    pub fn clear_cookie(&self, name: &str) -> String {
        self.set_cookie(name, "", 0)
    }

    fn mac(&self, secret: &str) -> Option<Hmac<Sha256>> {
        // HMAC takes keys of any length, so this is always Some; no panic path either way.
        let mut m = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).ok()?;
        m.update(self.csrf_label);
        Some(m)
    }

    /// The CSRF token forms of this session (or pre-session) carry.
    pub fn csrf_token(&self, secret: &str) -> String {
        self.mac(secret)
            .map(|m| hex::encode(m.finalize().into_bytes()))
            .unwrap_or_default()
    }

    /// Whether a presented CSRF token belongs to this secret (compared in constant time).
    pub fn csrf_ok(&self, secret: &str, presented: Option<&str>) -> bool {
        match (
            self.mac(secret),
            presented.and_then(|p| hex::decode(p).ok()),
        ) {
            (Some(m), Some(bytes)) => m.verify_slice(&bytes).is_ok(),
            _ => false,
        }
    }
}

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

/// The pre-session secret of a visitor (cookie `name`) that sign-in forms' CSRF tokens belong
/// to, and whether it is new (no such cookie: the page sets it).
pub fn pre_session(req: &Request, name: &str) -> (String, bool) {
    match cookie(req, name).filter(|s| is_secret(s)) {
        Some(p) => (p, false),
        None => (dropship_aws::repo::tokens::new_secret(), true),
    }
}

/// A secret as `new_secret` makes them: 64 lowercase hex characters. Anything else is not
/// looked up at all.
pub fn is_secret(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// A fresh random value for CSP nonces and form ids.
pub fn nonce() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: Site = Site {
        path: "/a",
        csrf_label: b"a-csrf-v1",
    };
    const B: Site = Site {
        path: "/b",
        csrf_label: b"b-csrf-v1",
    };

    #[test]
    fn csrf_tokens_belong_to_their_secret_and_site_only() {
        let a = "a".repeat(64);
        let b = "b".repeat(64);
        let ta = A.csrf_token(&a);
        assert!(A.csrf_ok(&a, Some(&ta)));
        assert!(!A.csrf_ok(&b, Some(&ta)));
        assert!(!B.csrf_ok(&a, Some(&ta)), "another site's token");
        assert!(!A.csrf_ok(&a, None));
        assert!(!A.csrf_ok(&a, Some("")));
        assert!(!A.csrf_ok(&a, Some("zz")));
        assert!(!A.csrf_ok(&a, Some(&ta[..62])));
        assert_ne!(ta, A.csrf_token(&b));
    }

    #[test]
    fn cookies_are_read_by_name_and_set_safely() {
        let req = http::Request::builder()
            .header("cookie", "x=1; s=abc ; p=def")
            .body(lambda_http::Body::Empty)
            .unwrap_or_default();
        assert_eq!(cookie(&req, "s").as_deref(), Some("abc"));
        assert_eq!(cookie(&req, "p").as_deref(), Some("def"));
        assert_eq!(cookie(&req, "nope"), None);
        let c = A.set_cookie("s", "v", 60);
        for part in [
            "HttpOnly",
            "Secure",
            "SameSite=Lax",
            "Path=/a",
            "Max-Age=60",
        ] {
            assert!(c.contains(part), "{c}");
        }
        assert!(A.clear_cookie("s").contains("Max-Age=0"));
    }

    #[test]
    fn only_secret_shaped_values_are_looked_up() {
        assert!(is_secret(&"0a".repeat(32)));
        assert!(!is_secret(&"0A".repeat(32)));
        assert!(!is_secret("abc"));
        assert!(!is_secret(&"g".repeat(64)));
    }
}
