//! The console's cookies and CSRF tokens (`dropship_web::security`, with the console's own
//! path and CSRF label: a portal token is worthless here and the other way round).

use dropship_web::security::Site;
pub use dropship_web::security::{cookie, is_secret, nonce};

pub const SITE: Site = Site {
    path: "/console",
    csrf_label: b"dropship-console-csrf-v1",
};

/// The session cookie: the secret of the session's token (`ConsoleSessions`).
pub const SESSION_COOKIE: &str = "console_session";
/// Before sign-in: the secret the sign-in forms' CSRF tokens belong to.
pub const PRE_COOKIE: &str = "console_pre";
/// The language a person picked (`de` or `en`), else the retailer's.
pub const LANG_COOKIE: &str = "console_lang";
/// A working day; the token ends with it.
pub const SESSION_HOURS: i64 = 12;
pub const PRE_SECONDS: i64 = 3600;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn console_cookies_stay_under_console_and_its_csrf_tokens_are_its_own() {
        let c = SITE.set_cookie(SESSION_COOKIE, "v", 60);
        assert!(
            c.starts_with("console_session=v;") && c.contains("Path=/console;"),
            "{c}"
        );
        let secret = "a".repeat(64);
        let portal = Site {
            path: "/portal",
            csrf_label: b"dropship-portal-csrf-v1",
        };
        assert!(!SITE.csrf_ok(&secret, Some(&portal.csrf_token(&secret))));
    }
}
