//! Report jobs: a report file over more than 92 days is made in the background. The request
//! answers 202 with the job; the job's progress counts the days read; once ready its link serves
//! the same rows as the report read inline. Staff of every role may ask for one (it is a read).

use crate::setup;
use crate::support::Stack;
use chrono::{Duration, Utc};
use serde_json::json;
use std::time::Duration as Wait;

#[tokio::test]
async fn a_long_report_is_a_job_whose_file_has_the_reports_rows() {
    let stack = Stack::start().await;
    let world = setup::configure(&stack).await;
    for (i, email) in ["ada@example.com", "bo@example.com"].iter().enumerate() {
        let mut body = setup::order(
            &format!("WEB-JOB-{i}"),
            json!([{"lineId": "L1", "sku": "CHAIR-TEAK", "quantity": 1, "unitPrice": "10.00"}]),
            "10.00",
        );
        body["customer"]["email"] = json!(email);
        let (status, created) = stack
            .post_idempotent("/orders", Some(&world.web), &format!("job-{i}"), &body)
            .await;
        assert_eq!(status, 201, "{created}");
    }
    // The retailer's day (Europe/Berlin): near midnight UTC the orders are already tomorrow's.
    let today = dropship_core::catalogue::local_date(Utc::now(), "Europe/Berlin");
    let range = format!("from={}&to={today}", today - Duration::days(199));
    let admin = Some(stack.admin_token.as_str());
    let (status, inline) = stack
        .get(&format!("/admin/reports/customers?{range}"), admin)
        .await;
    assert_eq!(status, 200, "{inline}");
    let rows = inline["items"].as_array().unwrap().len();
    assert!(rows >= 2, "{inline}");

    // A finance member asks for the file: a job, queued, over the 200 days.
    let (status, member) = stack
        .put(
            "/admin/staff/fiona",
            admin,
            &json!({"name": "Fiona", "email": "fiona@lindenhof.example", "role": "finance"}),
        )
        .await;
    assert_eq!(status, 200, "{member}");
    let (_, token) = stack
        .post("/admin/tokens", admin, &json!({"principal": "staff:fiona"}))
        .await;
    let fiona = token["token"].as_str().unwrap().to_string();
    let (status, job) = stack
        .get(
            &format!("/admin/reports/customers?{range}&format=csv&delimiter=semicolon"),
            Some(&fiona),
        )
        .await;
    assert_eq!(status, 202, "{job}");
    assert_eq!(
        (job["status"].as_str(), job["progress"]["total"].as_i64()),
        (Some("queued"), Some(200)),
        "{job}"
    );
    assert_eq!(job["createdBy"], "staff:fiona (Fiona)", "{job}");
    let id = job["id"].as_str().unwrap().to_string();

    let done = stack
        .eventually("the job ready", Wait::from_secs(60), || async {
            let (status, j) = stack
                .get(&format!("/admin/report-jobs/{id}"), Some(&fiona))
                .await;
            assert_eq!(status, 200, "{j}");
            let progress = &j["progress"];
            assert!(
                progress["done"].as_i64() <= progress["total"].as_i64(),
                "{j}"
            );
            (j["status"] == "ready").then_some(j)
        })
        .await;
    assert_eq!(done["progress"]["done"], 200, "{done}");
    assert_eq!(done["rows"].as_u64(), Some(rows as u64), "{done}");
    assert!(done.get("fileKey").is_none(), "{done}");
    let url = done["url"].as_str().expect("a link once ready");
    let file = stack
        .http()
        .get(url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let lines: Vec<&str> = file.trim_end().lines().collect();
    assert_eq!(
        lines.len(),
        rows + 1,
        "a header and the report's rows: {file}"
    );
    assert!(lines[0].contains(';'), "semicolons as asked: {}", lines[0]);
    assert!(
        file.contains("ada@example.com") && file.contains("bo@example.com"),
        "{file}"
    );

    // A short period is still answered within the request; an unknown job is 404.
    let (status, link) = stack
        .get(
            &format!("/admin/reports/customers?from={today}&to={today}&format=csv"),
            admin,
        )
        .await;
    assert_eq!(status, 200, "{link}");
    let (status, _) = stack
        .get(&format!("/admin/report-jobs/{}", "0".repeat(32)), admin)
        .await;
    assert_eq!(status, 404);
    let (status, _) = stack.get("/admin/report-jobs/nonsense", admin).await;
    assert_eq!(status, 404);
}
