//! Intake with the price memory and promotions: lines priced from the list, promotions in
//! force applied and recorded, the channel's price check, and the refund that follows the
//! record (docs/api.md's 3-for-2 example).

use super::*;
use crate::catalogue::{from_body, ProductInput, TaxRatesInput};
use crate::pricing::{Price, PromotionInput};
use serde_json::json;

fn products() -> BTreeMap<Sku, Product> {
    ["CHAIR", "TABLE"]
        .into_iter()
        .map(|sku| {
            let p = from_body::<ProductInput>(json!({"name": sku, "taxClass": "standard",
                "group": "garden", "sources": [{"fulfillerId": "wh", "priority": 1}]}))
            .unwrap()
            .validate(sku, |_| true)
            .unwrap();
            (p.sku.clone(), p)
        })
        .collect()
}

fn tax() -> BTreeMap<(CountryCode, TaxClass), TaxRates> {
    let rates =
        from_body::<TaxRatesInput>(json!({"rates": [{"rate": "0.19", "validFrom": "2007-01-01"}]}))
            .unwrap()
            .validate("DE", "standard")
            .unwrap();
    BTreeMap::from([(
        (CountryCode::try_from("DE").unwrap(), TaxClass::Standard),
        rates,
    )])
}

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 12, d).unwrap()
}

/// CHAIR: 10.00 from the 1st, 12.00 from the 10th; TABLE has no price.
fn list() -> BTreeMap<Sku, PriceHistory> {
    let price = |amount: &str, from: NaiveDate| Price {
        amount: Money::parse_given("amount", Some(amount)).unwrap(),
        valid_from: from,
        created_at: Utc::now(),
        created_by: "Erika".into(),
    };
    BTreeMap::from([(
        Sku::try_from("CHAIR").unwrap(),
        PriceHistory::new(vec![price("10.00", day(1)), price("12.00", day(10))]),
    )])
}

fn body(lines: Value, paid: &str) -> Value {
    json!({"externalId": "e1", "customer": {"email": "c@example.com", "name": "Carla"},
        "shippingAddress": {"name": "Carla", "street": "Hauptstr. 1", "postalCode": "10115",
            "city": "Berlin", "country": "DE"},
        "currency": "EUR", "lines": lines, "payments": [{"method": "card", "amount": paid}]})
}

fn promotion(id: &str, v: Value) -> Promotion {
    from_body::<PromotionInput>(v)
        .unwrap()
        .validate(id)
        .unwrap()
}

fn price_on(
    date: NaiveDate,
    promotions: &[Promotion],
    check: PriceCheck,
    v: Value,
) -> Result<Order, ApiError> {
    let (products, tax, list) = (products(), tax(), list());
    let mut ctx = PricingContext::new(&products, &tax, date);
    ctx.list_prices = &list;
    ctx.promotions = promotions;
    ctx.price_check = check;
    OrderRequest::parse(&v)?.price(
        &ctx,
        "o1".try_into().unwrap(),
        "web".try_into().unwrap(),
        Utc::now(),
        "channel:web".into(),
    )
}

#[test]
fn a_line_without_a_price_takes_the_list_price_of_its_order_date() {
    let lines = json!([{"lineId": "L1", "sku": "CHAIR", "quantity": 2}]);
    let o = price_on(day(5), &[], PriceCheck::None, body(lines.clone(), "20.00")).unwrap();
    assert_eq!(o.lines[0].unit_price.to_string(), "10.00");
    assert_eq!(o.totals.total.to_string(), "20.00");
    assert!(o.promotions.is_none(), "no promotion applied");
    let o = price_on(day(10), &[], PriceCheck::None, body(lines, "24.00")).unwrap();
    assert_eq!(
        o.lines[0].unit_price.to_string(),
        "12.00",
        "the new price from the 10th"
    );

    let e = price_on(
        day(5),
        &[],
        PriceCheck::None,
        body(
            json!([{"lineId": "L1", "sku": "TABLE", "quantity": 1}]),
            "1.00",
        ),
    )
    .unwrap_err();
    assert_eq!(
        (e.status, e.code.as_str(), e.field.as_deref()),
        (422, "no_price", Some("lines[0].unitPrice"))
    );
}

#[test]
fn a_channel_that_checks_prices_refuses_another_price() {
    let given = json!([{"lineId": "L1", "sku": "CHAIR", "quantity": 1, "unitPrice": "9.00"}]);
    let o = price_on(day(5), &[], PriceCheck::None, body(given.clone(), "9.00")).unwrap();
    assert_eq!(o.lines[0].unit_price.to_string(), "9.00", "kept as given");
    let e = price_on(day(5), &[], PriceCheck::Reject, body(given, "9.00")).unwrap_err();
    assert_eq!(
        (e.code.as_str(), e.field.as_deref()),
        ("price_mismatch", Some("lines[0].unitPrice"))
    );
}

#[test]
fn promotions_in_force_apply_and_the_refund_follows_their_record() {
    let three_for_two = promotion(
        "3FOR2",
        json!({"name": "3 for 2", "kind": "multi_buy",
        "buy": 3, "pay": 2, "skus": ["CHAIR"], "validFrom": "2026-12-01"}),
    );
    let later = promotion(
        "LATER",
        json!({"name": "later", "kind": "percent_off", "percent": "50",
        "validFrom": "2026-12-20"}),
    );
    let other_channel = promotion(
        "SHOP2",
        json!({"name": "shop2", "kind": "percent_off",
        "percent": "50", "channels": ["shop2"], "validFrom": "2026-12-01"}),
    );
    let promotions = [three_for_two, later, other_channel];
    let lines = json!([{"lineId": "L1", "sku": "CHAIR", "quantity": 3}]);
    let o = price_on(day(5), &promotions, PriceCheck::None, body(lines, "20.00")).unwrap();
    let l = &o.lines[0];
    assert_eq!(
        (l.gross.to_string(), l.paid.to_string()),
        ("30.00".into(), "20.00".into())
    );
    assert_eq!(l.discount_shares.len(), 1, "{:?}", l.discount_shares);
    assert_eq!(l.discount_shares[0].code, "3FOR2");
    assert_eq!(o.totals.discount.to_string(), "10.00");
    assert!(o.promotions.is_some(), "the record refunds need");
}

/// docs/api.md's 3-for-2 order (3 x 10.00, 20.00 paid), priced at intake (for refund tests).
pub(crate) fn three_for_two_order() -> Order {
    let promotion = promotion(
        "3FOR2",
        json!({"name": "3 for 2", "kind": "multi_buy",
        "buy": 3, "pay": 2, "validFrom": "2026-12-01"}),
    );
    let lines = json!([{"lineId": "L1", "sku": "CHAIR", "quantity": 3}]);
    price_on(day(5), &[promotion], PriceCheck::None, body(lines, "20.00")).unwrap()
}
