//! The reports' unit tests: the query, the period, and the handler's answers before anything
//! is read.

use super::*;

fn q(kind: &str, params: &[(&str, &str)]) -> Result<Query, ApiError> {
    let params: BTreeMap<String, String> = params
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    parse_query(kind, |n| params.get(n).cloned())
}

#[test]
fn bad_queries_are_refused_with_the_field() {
    assert_eq!(q("profits", &[]).unwrap_err().status, 404);
    for (params, field) in [
        (vec![("format", "pdf")], "format"),
        (vec![("format", "csv"), ("delimiter", "tab")], "delimiter"),
        (vec![("format", "csv"), ("delimiter", ";")], "delimiter"),
        (vec![("format", "csv"), ("delimiter", "")], "delimiter"),
        (vec![("delimiter", "Semicolon")], "delimiter"),
        (vec![("from", "2026-13-01")], "from"),
        (vec![("from", "2026-03-02"), ("to", "2026-03-01")], "to"),
        (vec![("from", "2025-01-01"), ("to", "2026-03-01")], "to"),
        (vec![("country", "Germany")], "country"),
        (vec![("channel", "web de")], "channel"),
        (vec![("fulfiller", "")], "fulfiller"),
    ] {
        let e = q("orders", &params).unwrap_err();
        assert_eq!(e.status, 422, "{params:?}");
        assert_eq!(e.field.as_deref(), Some(field), "{params:?}");
    }
    let ok = q(
        "settlement",
        &[("format", "csv"), ("fulfiller", "acme"), ("country", "DE")],
    )
    .unwrap();
    assert_eq!(ok.file, Some(FileFormat::Csv(Delimiter::Comma)));
    assert_eq!(ok.kind, Kind::Settlement);
    for (params, file) in [
        (vec![], None),
        (vec![("format", "json")], None),
        (
            vec![("format", "csv"), ("delimiter", "semicolon")],
            Some(FileFormat::Csv(Delimiter::Semicolon)),
        ),
        (
            vec![("format", "csv"), ("delimiter", "comma")],
            Some(FileFormat::Csv(Delimiter::Comma)),
        ),
        (vec![("format", "xlsx")], Some(FileFormat::Xlsx)),
    ] {
        assert_eq!(q("finance", &params).unwrap().file, file, "{params:?}");
    }
}

#[test]
fn the_period_defaults_to_the_last_30_days_in_the_retailers_zone() {
    let now: DateTime<Utc> = "2026-03-01T23:30:00Z".parse().unwrap();
    let p = period(&q("orders", &[]).unwrap(), chrono_tz::Europe::Berlin, now).unwrap();
    // 00:30 on 2 March in Berlin: today is 2 March there.
    assert_eq!(
        p.hi,
        "2026-03-02T22:59:59.999999Z"
            .parse::<DateTime<Utc>>()
            .unwrap()
    );
    assert_eq!(
        p.lo,
        "2026-01-30T23:00:00Z".parse::<DateTime<Utc>>().unwrap()
    );
    let e = period(
        &q("orders", &[("from", "2026-04-01")]).unwrap(),
        chrono_tz::Europe::Berlin,
        now,
    )
    .unwrap_err();
    assert_eq!(e.status, 422);
}

#[cfg(test)]
mod handler_tests {
    use crate::*;

    fn offline() -> Reports {
        let cfg = dropship_aws::config::offline();
        let s3 = aws_sdk_s3::Client::new(&cfg);
        Reports {
            dynamodb: aws_sdk_dynamodb::Client::new(&cfg),
            store: DocumentStore::new(s3.clone(), "documents".into()),
            s3,
            bucket: "documents".into(),
            orders_table: "OrdersTable".into(),
            delivery_orders_table: "DeliveryOrdersTable".into(),
            stock_table: "StockTable".into(),
            catalogue_table: "CatalogueTable".into(),
            returns_table: "ReturnsTable".into(),
            aggregates: Aggregates::new(
                aws_sdk_dynamodb::Client::new(&cfg),
                "ReportAggregatesTable",
            ),
            audit: dropship_aws::repo::audit::AuditLog::new(
                aws_sdk_dynamodb::Client::new(&cfg),
                "AuditTable".into(),
            ),
            jobs: dropship_aws::queue::Queue::new(
                aws_sdk_sqs::Client::new(&cfg),
                "http://127.0.0.1:9/queue".into(),
            ),
        }
    }

    fn sample(edit: impl FnOnce(&mut serde_json::Value)) -> Request {
        let mut v: serde_json::Value =
            serde_json::from_str(include_str!("../../../events/reports.json")).unwrap();
        edit(&mut v);
        lambda_http::request::from_str(&v.to_string()).unwrap()
    }

    async fn status(req: Request) -> (u16, serde_json::Value) {
        let resp = offline().handle(req).await.unwrap();
        let status = resp.status().as_u16();
        let body: serde_json::Value = match resp.body() {
            Body::Text(t) => serde_json::from_str(t).unwrap_or_default(),
            Body::Binary(b) => serde_json::from_slice(b).unwrap_or_default(),
            _ => serde_json::Value::Null,
        };
        (status, body)
    }

    #[tokio::test]
    async fn only_admins_and_only_good_queries_get_through_before_anything_is_read() {
        let (s, body) = status(sample(|v| {
            v["requestContext"]["authorizer"]["lambda"] = json!({"principal": "fulfiller:acme"})
        }))
        .await;
        assert_eq!(
            (s, body["error"]["code"].as_str()),
            (403, Some("forbidden")),
            "{body}"
        );
        let (s, _) = status(sample(|v| {
            v["requestContext"]["authorizer"] = serde_json::Value::Null;
        }))
        .await;
        assert_eq!(s, 401);
        let (s, body) = status(sample(|v| {
            v["queryStringParameters"]["format"] = json!("pdf");
            v["rawQueryString"] = json!("from=2026-11-01&to=2026-11-27&format=pdf");
        }))
        .await;
        assert_eq!(
            (s, body["error"]["field"].as_str()),
            (422, Some("format")),
            "{body}"
        );
        let (s, body) = status(sample(|v| {
            v["queryStringParameters"]["format"] = json!("csv");
            v["queryStringParameters"]["delimiter"] = json!("tab");
            v["rawQueryString"] = json!("from=2026-11-01&to=2026-11-27&format=csv&delimiter=tab");
        }))
        .await;
        assert_eq!(
            (
                s,
                body["error"]["code"].as_str(),
                body["error"]["field"].as_str()
            ),
            (422, Some("validation_failed"), Some("delimiter")),
            "{body}"
        );
        let (s, _) = status(sample(|v| v["pathParameters"]["kind"] = json!("profits"))).await;
        assert_eq!(s, 404);
    }
}
