use crate::pricing::fixtures::money;
use crate::pricing::{check_change, in_force, Promotion, PromotionKind, Refusal};
use chrono::NaiveDate;
use serde_json::json;
use std::str::FromStr;

fn day(s: &str) -> NaiveDate {
    NaiveDate::from_str(s).unwrap()
}

fn promotion(v: serde_json::Value) -> Promotion {
    let mut base = json!({"id": "P1", "name": "Spring", "kind": "percent_off", "percent": "10",
        "validFrom": "2026-03-01"});
    for (k, x) in v.as_object().unwrap() {
        base[k] = x.clone();
    }
    serde_json::from_value(base).unwrap()
}

fn field_of(p: &Promotion) -> Option<String> {
    p.validate().err().map(|e| {
        assert_eq!(e.status, 422);
        e.field.unwrap()
    })
}

#[test]
fn the_kind_and_its_terms_read_and_write_flat_beside_the_other_fields() {
    let p = promotion(
        json!({"kind": "order_threshold", "minOrderValue": "50.00", "amount": "5.00",
        "channels": ["shop"], "groups": ["shoes"], "validTo": "2026-03-31"}),
    );
    assert_eq!(
        p.kind,
        PromotionKind::OrderThreshold {
            min_order_value: money("50.00"),
            amount: money("5.00")
        }
    );
    let v = serde_json::to_value(&p).unwrap();
    assert_eq!(
        v,
        json!({"id": "P1", "name": "Spring", "kind": "order_threshold", "minOrderValue": "50.00",
            "amount": "5.00", "channels": ["shop"], "groups": ["shoes"],
            "validFrom": "2026-03-01", "validTo": "2026-03-31"})
    );
    let m = promotion(json!({"kind": "multi_buy", "buy": 3, "pay": 2}));
    assert_eq!(m.kind, PromotionKind::MultiBuy { buy: 3, pay: 2 });
    assert_eq!(serde_json::to_value(&m).unwrap()["buy"], 3);
}

#[test]
fn validation_names_the_field() {
    assert_eq!(field_of(&promotion(json!({}))), None);
    assert_eq!(field_of(&promotion(json!({"percent": "12.5"}))), None);
    assert_eq!(field_of(&promotion(json!({"percent": "100"}))), None);
    for bad in ["0", "100.01", "12.345"] {
        assert_eq!(
            field_of(&promotion(json!({"percent": bad}))).as_deref(),
            Some("percent"),
            "{bad}"
        );
    }
    for (buy, pay, ok) in [
        (3, 2, true),
        (1, 0, true),
        (2, 2, false),
        (2, 3, false),
        (1000, 1, false),
    ] {
        let p = promotion(json!({"kind": "multi_buy", "buy": buy, "pay": pay}));
        assert_eq!(field_of(&p).is_none(), ok, "{buy} for {pay}");
    }
    let over =
        promotion(json!({"kind": "order_threshold", "minOrderValue": "50.00", "amount": "50.01"}));
    assert_eq!(field_of(&over).as_deref(), Some("amount"));
    let equal =
        promotion(json!({"kind": "order_threshold", "minOrderValue": "50.00", "amount": "50.00"}));
    assert_eq!(field_of(&equal), None);
    let backwards = promotion(json!({"validTo": "2026-02-28"}));
    assert_eq!(field_of(&backwards).as_deref(), Some("validTo"));
    assert_eq!(
        field_of(&promotion(json!({"id": "a b"}))).as_deref(),
        Some("promotionId")
    );
    assert_eq!(
        field_of(&promotion(json!({"name": " "}))).as_deref(),
        Some("name")
    );
    assert_eq!(
        field_of(&promotion(json!({"groups": ["g", ""]}))).as_deref(),
        Some("groups[1]")
    );
}

#[test]
fn a_unit_is_eligible_by_its_sku_or_its_group_and_every_product_when_neither_is_named() {
    let sku = |s: &str| crate::ids::Sku::parse("sku", s).unwrap();
    let all = promotion(json!({}));
    assert!(all.covers(&sku("A"), "g"));
    let named = promotion(json!({"skus": ["A"], "groups": ["shoes"]}));
    assert!(named.covers(&sku("A"), "g"));
    assert!(named.covers(&sku("B"), "shoes"));
    assert!(!named.covers(&sku("B"), "g"));
}

#[test]
fn in_force_on_a_date_for_a_channel() {
    let ch = |s: &str| crate::ids::ChannelId::parse("channel", s).unwrap();
    let ps = vec![
        promotion(json!({"id": "every-channel", "validTo": "2026-03-31"})),
        promotion(json!({"id": "shop-only", "channels": ["shop"]})),
        promotion(json!({"id": "april", "validFrom": "2026-04-01"})),
    ];
    let ids = |c: &str, d: &str| -> Vec<String> {
        in_force(&ps, &ch(c), day(d))
            .iter()
            .map(|p| p.id.clone())
            .collect()
    };
    assert_eq!(ids("shop", "2026-03-31"), ["every-channel", "shop-only"]);
    assert_eq!(ids("app", "2026-03-01"), ["every-channel"]);
    assert_eq!(ids("app", "2026-02-28"), Vec::<String>::new());
    assert_eq!(ids("shop", "2026-04-01"), ["shop-only", "april"]);
}

#[test]
fn a_begun_promotion_keeps_its_terms_only_valid_to_may_end_it() {
    let old = promotion(json!({}));
    let begun = |field: &'static str| {
        Err(Refusal::PromotionBegun {
            id: "P1".into(),
            field,
        })
    };
    // Before it begins anything may change.
    let other = promotion(json!({"percent": "20", "name": "x", "validFrom": "2026-03-05"}));
    assert_eq!(check_change(&old, &other, day("2026-02-28")), Ok(()));
    // From its first day on: only validTo, and only from today on.
    let today = day("2026-03-10");
    assert_eq!(
        check_change(&old, &promotion(json!({"percent": "20"})), today),
        begun("kind")
    );
    assert_eq!(
        check_change(&old, &promotion(json!({"name": "x"})), today),
        begun("name")
    );
    assert_eq!(
        check_change(&old, &promotion(json!({"skus": ["A"]})), today),
        begun("skus")
    );
    assert_eq!(
        check_change(&old, &promotion(json!({"groups": ["g"]})), today),
        begun("groups")
    );
    assert_eq!(
        check_change(&old, &promotion(json!({"channels": ["c"]})), today),
        begun("channels")
    );
    assert_eq!(
        check_change(&old, &promotion(json!({"validFrom": "2026-03-02"})), today),
        begun("validFrom")
    );
    for (to, ok) in [
        ("2026-03-09", true),
        ("2026-03-10", true),
        ("2026-03-08", false),
    ] {
        let r = check_change(&old, &promotion(json!({"validTo": to})), today);
        assert_eq!(r.is_ok(), ok, "{to}");
    }
    // An ended promotion stays ended: reviving it would rewrite the days since its end.
    let ended = promotion(json!({"validTo": "2026-03-05"}));
    assert_eq!(check_change(&ended, &old, today), begun("validTo"));
    assert_eq!(check_change(&ended, &ended, today), Ok(()));
    assert_eq!(
        begun("kind").unwrap_err().code().as_str(),
        "promotion_begun"
    );
}
