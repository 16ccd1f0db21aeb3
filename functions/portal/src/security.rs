//! The portal's cookies and CSRF tokens: the shared rules (`dropship_web::security`) for the
//! site `/portal`.

use dropship_web::security::Site;
pub use dropship_web::security::{cookie, is_secret, nonce};

/// The portal as a site: cookies only for /portal, CSRF tokens keyed as before.
pub const SITE: Site = Site {
    path: "/portal",
    csrf_label: b"dropship-portal-csrf-v1",
};

pub const SESSION_COOKIE: &str = "portal_session";
pub const PRE_COOKIE: &str = "portal_pre";
/// How long a session lasts (a working day and a bit); signing in again is cheap.
pub const SESSION_HOURS: i64 = 12;
/// How long a pre-session (an open sign-in form) lasts.
pub const PRE_SECONDS: i64 = 3600;

pub fn set_cookie(name: &str, value: &str, max_age_seconds: i64) -> String {
    SITE.set_cookie(name, value, max_age_seconds)
}

pub fn clear_cookie(name: &str) -> String {
    SITE.clear_cookie(name)
}

pub fn csrf_token(secret: &str) -> String {
    SITE.csrf_token(secret)
}

pub fn csrf_ok(secret: &str, presented: Option<&str>) -> bool {
    SITE.csrf_ok(secret, presented)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn portal_cookies_stay_under_portal() {
        let c = set_cookie(SESSION_COOKIE, "v", 60);
        assert!(
            c.starts_with("portal_session=v;") && c.contains("Path=/portal;"),
            "{c}"
        );
    }
}
