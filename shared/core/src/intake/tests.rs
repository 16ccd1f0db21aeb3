use super::*;
use crate::catalogue::Product;
use crate::catalogue::{from_body, ProductInput, TaxRatesInput};
use rust_decimal_macros::dec;
use serde_json::json;

fn catalogue() -> (
    BTreeMap<Sku, Product>,
    BTreeMap<(crate::ids::CountryCode, TaxClass), TaxRates>,
) {
    let mut products = BTreeMap::new();
    for sku in ["L1-SKU", "L2-SKU"] {
        let p =
            from_body::<ProductInput>(json!({"name": sku, "taxClass": "standard", "group": "g",
            "sources": [{"fulfillerId": "wh", "priority": 1}]}))
            .unwrap()
            .validate(sku, |_| true)
            .unwrap();
        products.insert(p.sku.clone(), p);
    }
    let rates =
        from_body::<TaxRatesInput>(json!({"rates": [{"rate": "0.19", "validFrom": "2007-01-01"}]}))
            .unwrap()
            .validate("DE", "standard")
            .unwrap();
    let mut tax = BTreeMap::new();
    tax.insert(
        (
            crate::ids::CountryCode::try_from("DE").unwrap(),
            TaxClass::Standard,
        ),
        rates,
    );
    (products, tax)
}

fn worked_example() -> Value {
    json!({"externalId": "ext-1", "customer": {"email": "c@example.com", "name": "Carla"},
        "shippingAddress": {"name": "Carla", "street": "Hauptstr. 1", "postalCode": "10115", "city": "Berlin", "country": "DE"},
        "currency": "EUR",
        "lines": [{"lineId": "L1", "sku": "L1-SKU", "quantity": 2, "unitPrice": "24.99"},
                  {"lineId": "L2", "sku": "L2-SKU", "quantity": 1, "unitPrice": "15.00"}],
        "discounts": [{"code": "SAVE5", "amount": "5.00"}], "shippingCost": "3.90",
        "payments": [{"method": "card", "amount": "63.88"}]})
}

fn price(v: Value) -> Result<Order, ApiError> {
    let (products, tax_rates) = catalogue();
    let ctx = PricingContext::new(
        &products,
        &tax_rates,
        NaiveDate::from_ymd_opt(2026, 11, 27).unwrap(),
    );
    OrderRequest::parse(&v)?.price(
        &ctx,
        "o1".try_into().unwrap(),
        "web".try_into().unwrap(),
        Utc::now(),
        "channel:web".into(),
    )
}

#[test]
fn the_worked_example_of_api_md() {
    let o = price(worked_example()).unwrap();
    let l1 = &o.lines[0];
    let l2 = &o.lines[1];
    assert_eq!(
        (l1.discount_share.to_string(), l2.discount_share.to_string()),
        ("3.85".into(), "1.15".into())
    );
    assert_eq!(
        (l1.paid.to_string(), l2.paid.to_string()),
        ("46.13".into(), "13.85".into())
    );
    assert_eq!(
        (l1.tax.to_string(), l2.tax.to_string()),
        ("7.37".into(), "2.21".into())
    );
    assert_eq!(o.totals.total.to_string(), "63.88");
    assert_eq!(o.totals.shipping_tax.to_string(), "0.62");
    assert_eq!(o.totals.tax.len(), 1);
    assert_eq!(o.totals.tax[0].tax.to_string(), "10.20");
    assert_eq!(o.totals.tax[0].net.to_string(), "53.68");
}

#[test]
fn allocation_remainder_goes_to_the_largest_line() {
    let w = [
        Money::from_decimal(dec!(10)),
        Money::from_decimal(dec!(10)),
        Money::from_decimal(dec!(10)),
    ];
    let s = allocate(Money::from_decimal(dec!(1.00)), &w);
    assert_eq!(
        s.iter().map(|m| m.to_string()).collect::<Vec<_>>(),
        ["0.34", "0.33", "0.33"]
    );
    let w = [Money::from_decimal(dec!(1)), Money::from_decimal(dec!(2))];
    let s = allocate(Money::from_decimal(dec!(0.01)), &w);
    assert_eq!(s.iter().copied().sum::<Money>().to_string(), "0.01");
}

#[test]
fn refusals_name_their_field() {
    type Mutation = Box<dyn Fn(&mut Value)>;
    let cases: Vec<(Mutation, &str)> = vec![
        (
            Box::new(|v| v["lines"][1]["sku"] = json!("NOPE")),
            "lines[1].sku",
        ),
        (
            Box::new(|v| v["lines"][0]["quantity"] = json!(0)),
            "lines[0].quantity",
        ),
        (
            Box::new(|v| v["lines"][0]["quantity"] = json!(1000)),
            "lines[0].quantity",
        ),
        (
            Box::new(|v| v["lines"][0]["quantity"] = json!(1.5)),
            "lines[0].quantity",
        ),
        (
            Box::new(|v| v["lines"][0]["unitPrice"] = json!("1.999")),
            "lines[0].unitPrice",
        ),
        (
            Box::new(|v| v["lines"][1]["lineId"] = json!("L1")),
            "lines[1].lineId",
        ),
        (Box::new(|v| v["lines"] = json!([])), "lines"),
        (Box::new(|v| v["currency"] = json!("JPY")), "currency"),
        (
            Box::new(|v| v["shippingAddress"]["country"] = json!("XX")),
            "shippingAddress.country",
        ),
        (
            Box::new(|v| v["payments"][0]["amount"] = json!("63.87")),
            "payments",
        ),
        (
            Box::new(|v| v["discounts"][0]["amount"] = json!("100.00")),
            "discounts",
        ),
        (
            Box::new(|v| v["discounts"][0]["minOrderValue"] = json!("70.00")),
            "discounts[0].minOrderValue",
        ),
        (
            Box::new(|v| v["shippingCost"] = json!("-1.00")),
            "shippingCost",
        ),
    ];
    for (mutate, field) in cases {
        let mut v = worked_example();
        mutate(&mut v);
        let e = price(v).unwrap_err();
        assert_eq!(
            (e.status, e.field.as_deref()),
            (422, Some(field)),
            "{}",
            e.message
        );
    }
    let mut v = worked_example();
    v["lines"] = json!((0..101).map(|i| json!({"lineId": format!("L{i}"), "sku": "L1-SKU", "quantity": 1, "unitPrice": "1.00"})).collect::<Vec<_>>());
    assert_eq!(price(v).unwrap_err().field.as_deref(), Some("lines"));
}

#[test]
fn two_discounts_on_the_same_lines_are_allocated_each_on_its_own() {
    let mut v = worked_example();
    v["discounts"] = json!([{"code": "A", "amount": "1.00"}, {"code": "B", "amount": "0.01"}]);
    v["payments"] = json!([{"method": "card", "amount": "67.87"}]);
    let o = price(v).unwrap();
    // A: 1.00 x 49.98/64.98 = 0.769 -> 0.77, 1.00 x 15/64.98 = 0.231 -> 0.23.
    // B: 0.01 x 49.98/64.98 = 0.0077 -> 0.01, 0.01 x 15/64.98 = 0.0023 -> 0.00.
    let shares: Vec<Vec<String>> = o
        .lines
        .iter()
        .map(|l| {
            l.discount_shares
                .iter()
                .map(|s| format!("{}={}", s.code, s.amount))
                .collect()
        })
        .collect();
    assert_eq!(
        shares,
        vec![vec!["A=0.77", "B=0.01"], vec!["A=0.23", "B=0.00"]]
    );
    assert_eq!(
        (o.lines[0].paid.to_string(), o.lines[1].paid.to_string()),
        ("49.20".into(), "14.77".into())
    );
    assert_eq!(o.totals.total.to_string(), "67.87");
}

#[test]
fn mixed_payments_must_add_up_exactly() {
    let mut v = worked_example();
    v["payments"] = json!([
        {"method": "gift_card", "amount": "20.00"}, {"method": "bonus_points", "amount": "3.88"},
        {"method": "paypal", "amount": "30.00"}, {"method": "invoice", "amount": "10.00"}]);
    let o = price(v.clone()).unwrap();
    assert_eq!(
        o.totals.due.to_string(),
        "10.00",
        "only the invoice part is still due"
    );
    v["payments"][3]["amount"] = json!("10.01");
    assert_eq!(
        price(v.clone()).unwrap_err().field.as_deref(),
        Some("payments")
    );
    v["payments"][3]["method"] = json!("cheque");
    assert_eq!(
        price(v).unwrap_err().field.as_deref(),
        Some("payments[3].method")
    );
}

#[test]
fn line_status_is_the_state_of_most_units() {
    let q = Quantities {
        open: 1,
        shipped: 2,
        ..Default::default()
    };
    assert_eq!(q.status(), LineStatus::Shipped);
    let q = Quantities {
        open: 1,
        shipped: 1,
        ..Default::default()
    };
    assert_eq!(q.status(), LineStatus::Open);
}

#[test]
fn a_request_is_read_into_its_typed_fields() {
    let mut v = worked_example();
    v["customer"]["locale"] = json!("en");
    v["billingAddress"] = v["shippingAddress"].clone();
    v["orderedAt"] = json!("2026-11-27T10:00:00Z");
    v["payments"][0]["reference"] = json!("pay-1");
    // Unknown fields are ignored, as before: channels send more than the contract names.
    v["channelNote"] = json!("x");
    v["lines"][0]["colour"] = json!("red");
    let r = OrderRequest::parse(&v).unwrap();
    assert_eq!(r.external_id, "ext-1");
    assert_eq!(r.customer.locale, Some(Locale::En));
    assert_eq!(r.billing_address.as_ref(), Some(&r.shipping_address));
    assert_eq!(r.shipping_address.country, "DE");
    assert_eq!(r.currency, "EUR");
    assert_eq!(
        r.ordered_at.map(|t| t.to_rfc3339()).as_deref(),
        Some("2026-11-27T10:00:00+00:00")
    );
    assert_eq!(
        r.lines[1],
        RequestedLine {
            line_id: "L2".into(),
            sku: Sku::try_from("L2-SKU").unwrap(),
            quantity: 1,
            unit_price: Some(Money::from_decimal(dec!(15.00))),
        }
    );
    assert_eq!(r.discounts[0].code, "SAVE5");
    assert_eq!(r.shipping_cost.to_string(), "3.90");
    assert_eq!(r.payments[0].method, PaymentMethod::Card);
    assert_eq!(r.payments[0].reference.as_deref(), Some("pay-1"));
    // Optional fields may be left out or null.
    let mut v = worked_example();
    v["shippingCost"] = json!(null);
    v["discounts"] = json!(null);
    v["payments"][0]["amount"] = json!("59.98");
    let r = OrderRequest::parse(&v).unwrap();
    assert_eq!((r.shipping_cost, r.discounts.len()), (Money::ZERO, 0));
}

/// Each kind of bad field answers as the hand-written checks did before the input types: the
/// same field path, the same words, `required` where the field is missing.
#[test]
fn a_bad_request_is_refused_with_the_field_and_words_of_before() {
    type Mutation = Box<dyn Fn(&mut Value)>;
    let remove = |v: &mut Value, k: &str| {
        v.as_object_mut().unwrap().remove(k);
    };
    let cases: Vec<(Mutation, &str, &str)> = vec![
        (
            Box::new(|v| *v = json!([1])),
            "body",
            "body must be an object",
        ),
        (
            Box::new(move |v| remove(v, "externalId")),
            "externalId",
            "externalId is required",
        ),
        (
            Box::new(|v| v["externalId"] = json!(null)),
            "externalId",
            "externalId is required",
        ),
        (
            Box::new(|v| v["externalId"] = json!(5)),
            "externalId",
            "externalId must be a string",
        ),
        (
            Box::new(|v| v["externalId"] = json!("a b")),
            "externalId",
            "externalId must match [A-Za-z0-9._-]{1,64}",
        ),
        (
            Box::new(|v| v["customer"] = json!("c")),
            "customer",
            "customer must be an object",
        ),
        // Serde would read a struct from an array of its fields; the API never did.
        (
            Box::new(|v| v["customer"] = json!(["c@example.com", "C"])),
            "customer",
            "customer must be an object",
        ),
        (
            Box::new(move |v| remove(&mut v["customer"], "email")),
            "customer.email",
            "customer.email must be a string",
        ),
        (
            Box::new(|v| v["customer"]["email"] = json!("nope")),
            "customer.email",
            "customer.email is not a valid mail address",
        ),
        (
            Box::new(|v| v["customer"]["name"] = json!(" ")),
            "customer.name",
            "customer.name must not be empty",
        ),
        (
            Box::new(|v| v["customer"]["locale"] = json!(5)),
            "customer.locale",
            "customer.locale must be de or en",
        ),
        (
            Box::new(|v| v["customer"]["locale"] = json!("fr")),
            "customer.locale",
            "customer.locale must be de or en",
        ),
        (
            Box::new(move |v| remove(v, "shippingAddress")),
            "shippingAddress",
            "shippingAddress is required",
        ),
        (
            Box::new(move |v| remove(&mut v["shippingAddress"], "city")),
            "shippingAddress.city",
            "shippingAddress.city is required",
        ),
        (
            Box::new(|v| v["shippingAddress"]["city"] = json!(null)),
            "shippingAddress.city",
            "shippingAddress.city must be a string",
        ),
        (
            Box::new(|v| v["shippingAddress"]["postalCode"] = json!("1".repeat(21))),
            "shippingAddress.postalCode",
            "shippingAddress.postalCode is longer than 20 characters",
        ),
        (
            Box::new(|v| v["billingAddress"] = json!([])),
            "billingAddress",
            "billingAddress must be an object",
        ),
        (
            Box::new(|v| v["currency"] = json!(978)),
            "currency",
            "currency must be a string",
        ),
        (
            Box::new(|v| v["currency"] = json!("JPY")),
            "currency",
            "currency must be an ISO 4217 code with two minor units",
        ),
        (
            Box::new(|v| v["orderedAt"] = json!(1)),
            "orderedAt",
            "orderedAt must be a string",
        ),
        (
            Box::new(|v| v["orderedAt"] = json!("yesterday")),
            "orderedAt",
            "orderedAt must be an RFC 3339 timestamp",
        ),
        (
            Box::new(|v| v["lines"] = json!({})),
            "lines",
            "lines must be an array",
        ),
        (
            Box::new(|v| v["lines"][1] = json!("L2")),
            "lines[1]",
            "lines[1] must be an object",
        ),
        (
            Box::new(move |v| remove(&mut v["lines"][1], "lineId")),
            "lines[1].lineId",
            "lines[1].lineId must be a string",
        ),
        (
            Box::new(|v| v["lines"][1]["lineId"] = json!("L1")),
            "lines[1].lineId",
            "duplicate lineId L1",
        ),
        (
            Box::new(|v| v["lines"][1]["sku"] = json!(7)),
            "lines[1].sku",
            "lines[1].sku must be a string",
        ),
        (
            Box::new(|v| v["lines"][1]["sku"] = json!("a/b")),
            "lines[1].sku",
            "lines[1].sku must match [A-Za-z0-9._-]{1,64}",
        ),
        (
            Box::new(move |v| remove(&mut v["lines"][0], "quantity")),
            "lines[0].quantity",
            "quantity must be an integer 1..999",
        ),
        (
            Box::new(|v| v["lines"][0]["quantity"] = json!("2")),
            "lines[0].quantity",
            "quantity must be an integer 1..999",
        ),
        (
            Box::new(|v| v["lines"][0]["unitPrice"] = json!(24.99)),
            "lines[0].unitPrice",
            "lines[0].unitPrice must be a string amount like \"19.99\"",
        ),
        (
            Box::new(|v| v["lines"][0]["unitPrice"] = json!("1.999")),
            "lines[0].unitPrice",
            "lines[0].unitPrice has more than 2 decimals",
        ),
        (
            Box::new(|v| v["discounts"] = json!("SAVE5")),
            "discounts",
            "discounts must be an array",
        ),
        (
            Box::new(|v| v["discounts"][0]["code"] = json!(null)),
            "discounts[0].code",
            "discounts[0].code must be a string",
        ),
        (
            Box::new(|v| v["discounts"][0]["minOrderValue"] = json!("x")),
            "discounts[0].minOrderValue",
            "discounts[0].minOrderValue is not a decimal amount",
        ),
        (
            Box::new(|v| v["shippingCost"] = json!(3.9)),
            "shippingCost",
            "shippingCost must be a string amount like \"19.99\"",
        ),
        (
            Box::new(move |v| remove(v, "payments")),
            "payments",
            "payments is required",
        ),
        (
            Box::new(|v| v["payments"][0]["method"] = json!("cash")),
            "payments[0].method",
            "method must be card, paypal, invoice, gift_card or bonus_points",
        ),
        (
            Box::new(|v| v["payments"][0]["amount"] = json!("-1.00")),
            "payments[0].amount",
            "payments[0].amount must not be negative",
        ),
        (
            Box::new(|v| v["payments"][0]["reference"] = json!(1)),
            "payments[0].reference",
            "payments[0].reference must be a string",
        ),
    ];
    for (mutate, field, message) in cases {
        let mut v = worked_example();
        mutate(&mut v);
        let e = OrderRequest::parse(&v)
            .err()
            .unwrap_or_else(|| panic!("{field}: accepted"));
        assert_eq!(
            (e.status, e.code, e.field.as_deref(), e.message.as_str()),
            (
                422,
                crate::ErrorCode::ValidationFailed,
                Some(field),
                message
            )
        );
        let required = message.ends_with(" is required");
        assert_eq!(
            e.invalid == Some(crate::error::Invalid::Required),
            required,
            "{field}"
        );
    }
}

#[test]
fn an_inactive_product_is_refused_naming_its_line() {
    let (mut products, tax_rates) = catalogue();
    for p in products.values_mut() {
        p.active = p.sku.as_str() != "L2-SKU";
    }
    let ctx = PricingContext::new(
        &products,
        &tax_rates,
        NaiveDate::from_ymd_opt(2026, 11, 27).unwrap(),
    );
    let e = OrderRequest::parse(&worked_example())
        .unwrap()
        .price(
            &ctx,
            "o1".try_into().unwrap(),
            "web".try_into().unwrap(),
            Utc::now(),
            "channel:web".into(),
        )
        .unwrap_err();
    assert_eq!(
        (e.status, e.code.as_str(), e.field.as_deref()),
        (422, "product_inactive", Some("lines[1].sku"))
    );
}
