//! Benchmark (not part of `make test`; `make bench-console`, also run by `make bench`): the
//! console's page times on the local stack with `BENCH_CONSOLE_ORDERS` orders (10,000), written
//! into BENCHMARKS.md between the `<!-- bench:console -->` markers.
//!
//! The orders (1 to 5 lines, created over the last 360 days, every tenth cancelled) are written
//! straight into the orders table (intake would take hours on the emulator). A service agent
//! signs in and loads, `BENCH_CONSOLE_RUNS` times each (20), in turn: the order search (the
//! newest orders' list, and a search by the shop's order number), the order page, and the sales
//! report of the last 30 days with its chart. Beside each page, the API call it makes most of
//! is timed on its own, so the console's own share (rendering, charts, its session reads) shows.
//! Release builds when `target/release/local-runner` exists (`make bench` builds them), else
//! debug builds; the table says which.

use crate::bench_reports::{bench_order, template_order, write_orders};
use crate::bench_webhooks::{env_usize, pct};
use crate::setup;
use crate::support::{target_dir, Stack};
use chrono::Utc;
use serde_json::json;
use std::time::{Duration, Instant};

/// The value of cookie `name` among a response's Set-Cookie headers.
fn set_cookie(resp: &reqwest::Response, name: &str) -> Option<String> {
    resp.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| c.strip_prefix(&format!("{name}=")))
        .and_then(|c| c.split(';').next())
        .map(str::to_string)
}

/// Signs `token` in to the console; the session cookie's value.
async fn sign_in(http: &reqwest::Client, api: &str, token: &str) -> String {
    let page = http
        .get(format!("{api}/console/sign-in"))
        .send()
        .await
        .expect("the sign-in page");
    let pre = set_cookie(&page, "console_pre").expect("a pre-session cookie");
    let html = page.text().await.expect("the sign-in page's html");
    let csrf = html
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .expect("a CSRF token")
        .to_string();
    let resp = http
        .post(format!("{api}/console/sign-in"))
        .header("cookie", format!("console_pre={pre}"))
        .form(&[("csrf", csrf.as_str()), ("token", token)])
        .send()
        .await
        .expect("signing in");
    assert_eq!(resp.status(), 303, "signed in");
    set_cookie(&resp, "console_session").expect("a session cookie")
}

#[tokio::test]
#[ignore = "benchmark: make bench-console (and make bench)"]
async fn bench_console() {
    let started = Instant::now();
    let n = env_usize("BENCH_CONSOLE_ORDERS", 10_000);
    let runs = env_usize("BENCH_CONSOLE_RUNS", 20);
    let release = target_dir().join("release");
    // The release set is complete once its last binaries are there (the runner names any gap).
    let complete = [
        "local-runner",
        "console",
        "admin-api",
        "reports",
        "authorizer",
    ]
    .iter()
    .all(|b| release.join(b).is_file());
    let (builder, build) = if complete {
        (
            Stack::builder()
                .runner(release.join("local-runner"))
                .bin_dir(&release),
            "release",
        )
    } else {
        (Stack::builder(), "debug")
    };
    let stack = builder
        .env("RUST_LOG", "warn")
        .env("DROPSHIP_LOG", "warn")
        .start()
        .await;
    let world = setup::configure(&stack).await;
    let admin = Some(stack.admin_token.as_str());
    let ddb = aws_sdk_dynamodb::Client::new(&stack.aws_sdk_config().await);

    // One order through intake, as the pattern of the rest.
    let mut template = template_order(&stack, &ddb, &world.web, "WEB-BENCH-1").await;
    let id = template.id.as_str().to_string();
    // The seeded orders are other customers' (the agent's customer page stays one customer's).
    template.customer.email = "bench@example.com".into();
    let write_started = Instant::now();
    write_orders(
        &ddb,
        (0..n).map(|i| bench_order(&template, i, n, 500)).collect(),
    )
    .await;
    let written = write_started.elapsed();

    let (_, member) = stack
        .put(
            "/admin/staff/bench",
            admin,
            &json!({"name": "Bench Agent", "email": "bench@lindenhof.example", "role": "service"}),
        )
        .await;
    assert_eq!(member["id"], "bench", "{member}");
    let (_, token) = stack
        .post("/admin/tokens", admin, &json!({"principal": "staff:bench"}))
        .await;
    let token = token["token"].as_str().expect("a token").to_string();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(120))
        .build()
        .expect("an HTTP client");
    let api = stack.api.clone();
    let session = sign_in(&http, &api, &token).await;

    let pages = [
        (
            "order search: the newest orders (30 days, 50 a page)",
            "/console/orders".to_string(),
            "/admin/orders".to_string(),
        ),
        (
            "order search: by the shop's order number",
            "/console/orders?q=WEB-BENCH-1".to_string(),
            format!("/admin/orders/{id}"),
        ),
        (
            "order page",
            format!("/console/orders/{id}"),
            format!("/admin/orders/{id}"),
        ),
        (
            "sales report, 30 days, with its chart",
            "/console/reports?kind=sales".to_string(),
            "/admin/reports/sales".to_string(),
        ),
    ];
    let mut rows = String::new();
    let session_cookie = format!("console_session={session}");
    for (what, page, call) in &pages {
        // Page and API call in turn, so both meet the same load (the relay works meanwhile).
        let (mut page_times, mut call_times) = (Vec::new(), Vec::new());
        for _ in 0..runs {
            let s = Instant::now();
            let resp = http
                .get(format!("{api}{page}"))
                .header("cookie", &session_cookie)
                .send()
                .await
                .expect("a page");
            let status = resp.status().as_u16();
            let _ = resp.bytes().await;
            page_times.push(s.elapsed().as_secs_f64() * 1000.0);
            // The search by number answers 303 to the order page: timed as that redirect.
            let expected = if page.contains("?q=") { 303 } else { 200 };
            assert_eq!(status, expected, "{page}");
            let s = Instant::now();
            let resp = http
                .get(format!("{api}{call}"))
                .bearer_auth(&token)
                .send()
                .await
                .expect("an API call");
            let status = resp.status().as_u16();
            let _ = resp.bytes().await;
            call_times.push(s.elapsed().as_secs_f64() * 1000.0);
            assert_eq!(status, 200, "{call}");
        }
        page_times.sort_by(f64::total_cmp);
        call_times.sort_by(f64::total_cmp);
        rows.push_str(&format!(
            "| {what} | {:.0} ms | {:.0} ms | {:.0} ms | `{call}`: {:.0} ms |\n",
            pct(&page_times, 0.5),
            pct(&page_times, 0.95),
            pct(&page_times, 1.0),
            pct(&call_times, 0.95),
        ));
    }
    let content = format!(
        "Measured {date} on the local stack ({build} builds, one moto process, 2 instances per \
function), `make bench-console` ({minutes:.1} min): {n} orders of 1 to 5 lines over the last \
360 days written straight into the orders table ({written:.0} s), then {runs} loads of each page \
in turn by a signed-in service agent (the change relay still feeding the report aggregates \
meanwhile). Goal: p95 under 300 ms.\n\n\
| page | p50 | p95 | max | the API call alone, p95 |\n\
|---|---:|---:|---:|---|\n{rows}",
        date = Utc::now().format("%Y-%m-%d"),
        minutes = started.elapsed().as_secs_f64() / 60.0,
        written = written.as_secs_f64(),
    );
    println!("{content}");
    let path = crate::support::workspace_root().join("BENCHMARKS.md");
    let doc = std::fs::read_to_string(&path).expect("BENCHMARKS.md");
    std::fs::write(
        &path,
        crate::bench_system::replace_section(&doc, "console", &content),
    )
    .expect("writing BENCHMARKS.md");
}
