//! Answers every page of a site may end in: a redirect after a form, plain text when not even
//! the site's look can be rendered.

use lambda_http::{Body, Response};

/// 303 to a GET page, setting these cookies (after a form: reloading the page does not send
/// the form again).
pub fn see_other(location: &str, cookies: Vec<String>) -> Result<Response<Body>, http::Error> {
    let mut b = Response::builder()
        .status(303)
        .header("location", location)
        .header("cache-control", "no-store");
    for c in cookies {
        b = b.header("set-cookie", c);
    }
    b.body(Body::Empty)
}

/// A plain-text answer.
pub fn plain(status: u16, text: &str) -> Response<Body> {
    let mut r = Response::new(Body::Text(text.to_string()));
    *r.status_mut() =
        http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
    r.headers_mut().insert(
        "content-type",
        http::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_redirect_is_uncached_and_sets_its_cookies() {
        let r = see_other("/x", vec!["a=1".into(), "b=2".into()]).unwrap();
        assert_eq!(r.status(), 303);
        assert_eq!(r.headers()["location"], "/x");
        assert_eq!(r.headers()["cache-control"], "no-store");
        assert_eq!(r.headers().get_all("set-cookie").iter().count(), 2);
        assert_eq!(plain(1000, "x").status(), 500);
    }
}
