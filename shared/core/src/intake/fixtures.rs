//! Priced orders for the unit tests of the modules that work on orders.
//! Compiled only for tests (`#[cfg(test)]` in order.rs); the `unwrap`s parse constant literals
//! (products, tax rates, the country `DE`, a date), so they fail only if a fixture itself is
//! wrong, which the failing test then names.

use super::*;
use crate::catalogue::{from_body, ProductInput, TaxRatesInput};
use serde_json::json;

pub(crate) fn order(body: serde_json::Value) -> Order {
    let mut products = BTreeMap::new();
    for sku in ["A", "B", "C"] {
        let p = from_body::<ProductInput>(
            json!({"name": sku, "taxClass": "standard", "group": "g", "sources": []}),
        )
        .unwrap()
        .validate(sku, |_| true)
        .unwrap();
        products.insert(p.sku.clone(), p);
    }
    let rates: TaxRates =
        from_body::<TaxRatesInput>(json!({"rates": [{"rate": "0.19", "validFrom": "2007-01-01"}]}))
            .unwrap()
            .validate("DE", "standard")
            .unwrap();
    let tax = BTreeMap::from([(
        (
            crate::ids::CountryCode::try_from("DE").unwrap(),
            TaxClass::Standard,
        ),
        rates,
    )]);
    let ctx = PricingContext::new(
        &products,
        &tax,
        NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
    );
    priced(&body, &ctx)
}

/// Germany's 2020 rates: 19 %, 16 % from July to December 2020, 19 % again.
pub(crate) fn rates_2020() -> TaxRates {
    from_body::<TaxRatesInput>(json!({"rates": [
        {"rate": "0.19", "validFrom": "2007-01-01", "validTo": "2020-06-30"},
        {"rate": "0.16", "validFrom": "2020-07-01", "validTo": "2020-12-31"},
        {"rate": "0.19", "validFrom": "2021-01-01"}]}))
    .unwrap()
    .validate("DE", "standard")
    .unwrap()
}

pub(crate) fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// An order of 2020-06-30 (19 %) in Germany.
pub(crate) fn order_2020(body: serde_json::Value) -> Order {
    let mut products = BTreeMap::new();
    for sku in ["A", "B"] {
        let p = from_body::<ProductInput>(
            json!({"name": sku, "taxClass": "standard", "group": "g", "sources": []}),
        )
        .unwrap()
        .validate(sku, |_| true)
        .unwrap();
        products.insert(p.sku.clone(), p);
    }
    let tax = BTreeMap::from([(
        (
            crate::ids::CountryCode::try_from("DE").unwrap(),
            TaxClass::Standard,
        ),
        rates_2020(),
    )]);
    let ctx = PricingContext::new(&products, &tax, date(2020, 6, 30));
    priced(&body, &ctx)
}

/// Ships `units` of `line_id` from delivery order DO-1 on `on` (as the fulfiller API records
/// it) and books the rate of that supply date (as the document generator does).
pub(crate) fn ship_on(order: &mut Order, line_id: &str, units: u32, on: NaiveDate) {
    let id = format!("shp-{}-{line_id}-{on}", order.lines.len());
    let l = order
        .lines
        .iter_mut()
        .find(|l| l.line_id == line_id)
        .unwrap();
    l.quantities.open -= units;
    l.quantities.shipped += units;
    l.supplies.push(Supply {
        shipment_id: id.clone(),
        delivery_order_id: "DO-1".into(),
        shipped_at: on.and_hms_opt(12, 0, 0).unwrap().and_utc(),
        units,
        rate: None,
    });
    let rates = rates_2020();
    super::set_supply_rates(order, &id, |_| rates.rate_on(on));
}

pub(crate) fn base(
    lines: serde_json::Value,
    discounts: serde_json::Value,
    shipping: &str,
    total: &str,
) -> serde_json::Value {
    json!({"externalId": "e", "customer": {"email": "c@example.com", "name": "C"},
        "shippingAddress": {"name": "C", "street": "S 1", "postalCode": "1", "city": "B", "country": "DE"},
        "currency": "EUR", "lines": lines, "discounts": discounts, "shippingCost": shipping,
        "payments": [{"method": "card", "amount": total}]})
}

/// The order channel `c` sends with `body`, priced in `ctx`.
fn priced(body: &Value, ctx: &PricingContext<'_>) -> Order {
    OrderRequest::parse(body)
        .unwrap()
        .price(
            ctx,
            "o".try_into().unwrap(),
            "c".try_into().unwrap(),
            Utc::now(),
            "t".into(),
        )
        .unwrap()
}
