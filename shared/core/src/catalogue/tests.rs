use super::*;
use rust_decimal_macros::dec;
use serde_json::json;

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn german_standard() -> TaxRates {
    from_body::<TaxRatesInput>(json!({"rates": [
        {"rate": "0.19", "validFrom": "2007-01-01", "validTo": "2020-06-30"},
        {"rate": "0.16", "validFrom": "2020-07-01", "validTo": "2020-12-31"},
        {"rate": "0.19", "validFrom": "2021-01-01"}
    ]}))
    .unwrap()
    .validate("DE", "standard")
    .unwrap()
}

#[test]
fn tax_rate_periods_include_both_ends() {
    let r = german_standard();
    assert_eq!(r.rate_on(d("2020-06-30")), Some(dec!(0.19)));
    assert_eq!(r.rate_on(d("2020-07-01")), Some(dec!(0.16)));
    assert_eq!(r.rate_on(d("2020-12-31")), Some(dec!(0.16)));
    assert_eq!(r.rate_on(d("2021-01-01")), Some(dec!(0.19)));
    assert_eq!(r.rate_on(d("2006-12-31")), None);
}

#[test]
fn overlapping_periods_are_refused() {
    let e = from_body::<TaxRatesInput>(json!({"rates": [
        {"rate": "0.19", "validFrom": "2007-01-01"},
        {"rate": "0.16", "validFrom": "2020-07-01", "validTo": "2020-12-31"}
    ]}))
    .unwrap()
    .validate("DE", "standard")
    .unwrap_err();
    assert_eq!((e.status, e.field.as_deref()), (422, Some("rates")));
    assert!(from_body::<TaxRatesInput>(json!({"rates": []}))
        .unwrap()
        .validate("XX", "standard")
        .is_err());
}

#[test]
fn product_sources_must_name_known_fulfillers() {
    let input = || {
        from_body::<ProductInput>(
            json!({"name": "Mug", "taxClass": "standard", "group": "kitchen",
            "sources": [{"fulfillerId": "acme", "priority": 1, "purchasePrice": "3.10"}]}),
        )
        .unwrap()
    };
    let p = input().validate("MUG-1", |f| f == "acme").unwrap();
    assert_eq!(p.sources[0].purchase_price.unwrap().to_string(), "3.10");
    assert!(!p.allow_backorder);
    let e = input().validate("MUG-1", |_| false).unwrap_err();
    assert_eq!(e.field.as_deref(), Some("sources[0].fulfillerId"));
}

#[test]
fn fulfiller_defaults_and_checks() {
    let body = json!({"name": "Acme", "kind": "dropshipper", "email": "ops@acme.example",
        "address": {"name": "Acme", "street": "Weg 1", "postalCode": "10115", "city": "Berlin", "country": "DE"}});
    let f = from_body::<FulfillerInput>(body.clone())
        .unwrap()
        .validate("acme")
        .unwrap();
    assert_eq!((f.sla_hours, f.stock_max_age_hours), (None, 24));
    let process = crate::process::ProcessSettings::default();
    assert_eq!(f.due_hours(&process), 48, "the process settings' default");
    let mut bad = body;
    bad["email"] = json!("not-an-address");
    assert_eq!(
        from_body::<FulfillerInput>(bad)
            .unwrap()
            .validate("acme")
            .unwrap_err()
            .field
            .as_deref(),
        Some("email")
    );
    assert!(from_body::<FulfillerInput>(json!({"name": "x"})).is_err());
}

#[test]
fn an_address_country_is_checked_at_the_edge_and_on_read() {
    let body = json!({"name": "Acme", "kind": "dropshipper", "email": "ops@acme.example",
        "address": {"name": "Acme", "street": "Weg 1", "postalCode": "10115", "city": "Berlin", "country": "DE"},
        "returnAddress": {"name": "Acme", "street": "Weg 1", "postalCode": "10115", "city": "Berlin", "country": "Deutschland"}});
    // The body parses; the check names the field, as before the address had a CountryCode.
    let e = from_body::<FulfillerInput>(body)
        .unwrap()
        .validate("acme")
        .unwrap_err();
    assert_eq!(
        (e.field.as_deref(), e.message.as_str()),
        (
            Some("returnAddress.country"),
            "country must be an ISO 3166-1 alpha-2 code"
        )
    );
    let stored =
        json!({"name": "A", "street": "W", "postalCode": "1", "city": "B", "country": "DE"});
    let a: Address = serde_json::from_value(stored.clone()).unwrap();
    assert_eq!(a.country, "DE");
    assert_eq!(serde_json::to_value(&a).unwrap(), stored);
    let mut bad = stored;
    bad["country"] = json!("de");
    assert!(serde_json::from_value::<Address>(bad).is_err());
}

#[test]
fn a_configuration_body_is_refused_in_serdes_words_naming_the_field() {
    let e = from_body::<FulfillerInput>(json!({"name": "x"}))
        .err()
        .unwrap();
    assert_eq!(
        (e.status, e.field.as_deref(), e.message.as_str()),
        (422, Some("kind"), "missing field `kind`")
    );
    let e = from_body::<FulfillerInput>(json!({"name": "x", "kind": "shop"}))
        .err()
        .unwrap();
    assert_eq!(
        (e.field.as_deref(), e.message.as_str()),
        (
            Some("kind"),
            "unknown variant `shop`, expected `warehouse` or `dropshipper`"
        )
    );
    let e = from_body::<FulfillerInput>(json!({"name": "x", "kind": "warehouse",
        "email": "ops@acme.example", "address": {"name": "A", "street": 1}}))
    .err()
    .unwrap();
    assert_eq!(
        (e.field.as_deref(), e.message.as_str()),
        (
            Some("address.street"),
            "invalid type: integer `1`, expected a string"
        )
    );
}

#[test]
fn a_products_sources_are_read_typed_and_their_refusals_name_the_field() {
    let product = |sources: serde_json::Value| {
        from_body::<ProductInput>(
            json!({"name": "Chair", "taxClass": "standard", "group": "g",
            "sources": sources}),
        )
        .and_then(|p| p.validate("CHAIR", |f| f == "acme"))
    };
    let p =
        product(json!([{"fulfillerId": "acme", "priority": 1, "purchasePrice": "12.50"}])).unwrap();
    assert_eq!(
        p.sources[0]
            .purchase_price
            .map(|m| m.to_string())
            .as_deref(),
        Some("12.50")
    );
    for (sources, field, message) in [
        (
            json!([{"fulfillerId": "acme"}]),
            "sources[0].priority",
            "missing field `priority`",
        ),
        (
            json!([{"fulfillerId": "acme", "priority": 1, "cost": 1}]),
            "sources[0].cost",
            "unknown field `cost`, expected one of `fulfillerId`, `priority`, `purchasePrice`",
        ),
        (
            json!([{"fulfillerId": "acme", "priority": 1, "purchasePrice": 12.5}]),
            "sources[0].purchasePrice",
            "sources[0].purchasePrice must be a string amount like \"19.99\"",
        ),
        (
            json!([{"fulfillerId": "nobody", "priority": 1}]),
            "sources[0].fulfillerId",
            "unknown fulfiller nobody",
        ),
    ] {
        let e = product(sources).err().unwrap();
        assert_eq!(
            (e.field.as_deref(), e.message.as_str()),
            (Some(field), message)
        );
    }
}

#[test]
fn the_refund_policys_return_window_defaults_to_the_process_settings() {
    assert_eq!(
        RefundPolicy::default().return_window_days,
        crate::process::ProcessSettings::default()
            .returns
            .window_days
    );
}

mod policy_tests {
    use super::*;

    #[test]
    fn refund_policy_defaults_and_bounds() {
        let p = from_body::<RefundPolicyInput>(serde_json::json!({}))
            .unwrap()
            .validate()
            .unwrap();
        assert_eq!(p, RefundPolicy::default());
        assert!(
            from_body::<RefundPolicyInput>(serde_json::json!({"allocation": "sideways"})).is_err()
        );
        let closed = from_body::<RefundPolicyInput>(serde_json::json!({"returnWindowDays": 0}))
            .unwrap()
            .validate()
            .unwrap();
        assert_eq!(closed.return_window_days, 0, "0 closes returns");
        let e = from_body::<RefundPolicyInput>(serde_json::json!({"returnWindowDays": 366}))
            .unwrap()
            .validate()
            .unwrap_err();
        assert_eq!(e.field.as_deref(), Some("returnWindowDays"));
    }

    #[test]
    fn day_bounds_are_local_days() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let (lo, hi) = day_bounds(
            Some(d("2026-07-01")),
            Some(d("2026-07-01")),
            "Europe/Berlin",
        );
        assert_eq!(lo.unwrap().to_rfc3339(), "2026-06-30T22:00:00+00:00");
        assert_eq!(hi.unwrap().to_rfc3339(), "2026-07-01T21:59:59.999999+00:00");
    }
}

#[test]
fn configuration_is_active_unless_put_inactive_and_items_stored_before_are_active() {
    let channel = from_body::<ChannelInput>(json!({"name": "Web", "kind": "webshop"}))
        .unwrap()
        .validate("web", None)
        .unwrap();
    assert!(channel.active && channel.check_active().is_ok());
    let off = from_body::<ChannelInput>(json!({"name": "Web", "kind": "webshop", "active": false}))
        .unwrap()
        .validate("web", None)
        .unwrap();
    let e = off.check_active().unwrap_err();
    assert_eq!((e.status, e.code.as_str()), (403, "channel_inactive"));
    // Items stored before the flag existed read as active.
    let stored: Channel =
        serde_json::from_value(json!({"id": "old", "name": "Old", "kind": "app"})).unwrap();
    assert!(stored.active);
    let product: Product = serde_json::from_value(json!({"sku": "A", "name": "A",
        "taxClass": "standard", "group": "g", "allowBackorder": false, "sources": []}))
    .unwrap();
    assert!(product.active && product.check_orderable("lines[0].sku").is_ok());
    let off = from_body::<ProductInput>(json!({"name": "A", "taxClass": "standard",
        "group": "g", "sources": [], "active": false}))
    .unwrap()
    .validate("A", |_| true)
    .unwrap();
    let e = off.check_orderable("lines[3].sku").unwrap_err();
    assert_eq!(
        (e.status, e.code.as_str(), e.field.as_deref()),
        (422, "product_inactive", Some("lines[3].sku"))
    );
    let fulfiller = from_body::<FulfillerInput>(json!({"name": "Acme", "kind": "dropshipper",
        "email": "ops@acme.example", "active": false,
        "address": {"name": "Acme", "street": "Weg 1", "postalCode": "10115", "city": "Berlin", "country": "DE"}}))
    .unwrap()
    .validate("acme")
    .unwrap();
    assert!(!fulfiller.active);
}

#[cfg(test)]
mod date_tests {
    use crate::catalogue::*;
    use chrono::TimeZone;

    #[test]
    fn order_dates_are_berlin_dates() {
        // 23:30 UTC on 30 June 2020 is already 1 July in Berlin: the 16% period.
        let at = chrono::Utc
            .with_ymd_and_hms(2020, 6, 30, 23, 30, 0)
            .unwrap();
        assert_eq!(local_date(at, "Europe/Berlin").to_string(), "2020-07-01");
        assert_eq!(local_date(at, "UTC").to_string(), "2020-06-30");
        assert!(is_time_zone("Europe/Vienna") && !is_time_zone("Mars/Olympus"));
    }
}
