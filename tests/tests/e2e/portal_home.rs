//! `GET /portal/` as people type it (issue 15, defect 7): API Gateway matches `/portal` exactly,
//! so before the greedy `/portal/{path+}` route in template.yaml it answered a bare 404. Now it
//! leads to the sign-in page without a session, and shows the very page `/portal` shows with
//! one; any other unknown page below /portal is the portal's own 404 page.

use crate::setup;

use crate::support::Stack;

/// The value of `name="<field>" value="..."` in a page (the sign-in form's CSRF token).
fn form_value(html: &str, field: &str) -> Option<String> {
    let at = html.find(&format!("name=\"{field}\" value=\""))?;
    let rest = &html[at + field.len() + 15..];
    Some(rest[..rest.find('"')?].to_string())
}

/// `name=value` of a Set-Cookie header of the answer.
fn cookie(resp: &reqwest::Response, name: &str) -> Option<String> {
    resp.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with(&format!("{name}=")))
        .and_then(|c| c.split(';').next())
        .map(String::from)
}

#[tokio::test]
async fn portal_with_a_trailing_slash_is_the_portal() {
    let stack = Stack::start().await;
    let world = setup::configure(&stack).await;
    let http = stack.http();
    let url = |path: &str| format!("{}{path}", stack.api);

    // Without a session: to the sign-in page, as /portal does.
    for path in ["/portal", "/portal/"] {
        let resp = http.get(url(path)).send().await.unwrap();
        assert_eq!(resp.status().as_u16(), 303, "{path}");
        assert_eq!(
            resp.headers()["location"].to_str().unwrap(),
            "/portal/sign-in",
            "{path}"
        );
    }

    // Signed in with acme's API token: the same page at both addresses.
    let page = http.get(url("/portal/sign-in")).send().await.unwrap();
    let pre = cookie(&page, "portal_pre").expect("a pre-session cookie");
    let csrf = form_value(&page.text().await.unwrap(), "csrf").expect("the form's CSRF token");
    let signed_in = http
        .post(url("/portal/sign-in"))
        .header("cookie", &pre)
        .form(&[("csrf", csrf.as_str()), ("token", world.acme.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status().as_u16(), 303);
    let session = cookie(&signed_in, "portal_session").expect("a session cookie");
    let mut pages = Vec::new();
    for path in ["/portal", "/portal/"] {
        let resp = http
            .get(url(path))
            .header("cookie", &session)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 200, "{path}");
        let html = resp.text().await.unwrap();
        // The page without its per-answer nonces and tokens.
        let title = html
            .split("<title>")
            .nth(1)
            .and_then(|t| t.split("</title>").next())
            .unwrap_or_default()
            .to_string();
        let h1 = html
            .split("<h1")
            .nth(1)
            .and_then(|t| t.split("</h1>").next())
            .unwrap_or_default()
            .to_string();
        pages.push((title, h1));
    }
    assert!(!pages[0].0.is_empty(), "{pages:?}");
    assert_eq!(pages[0], pages[1]);

    // Anything else below /portal is not a page: the portal says so in its own look.
    let resp = http
        .get(url("/portal/no-such-page"))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 404);
    assert!(resp.text().await.unwrap().contains("<html"));
}
