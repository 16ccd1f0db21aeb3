//! The promotions report: per promotion and currency, the orders and units it took, the benefit
//! it gave at intake and the benefit that returns and cancellations have withdrawn since (its
//! part of `W` in the order's refund target, as the refund rule computes it today).

use crate::tables::{money, Filters, Period, Table};
use dropship_core::money::Money;
use dropship_core::order::Order;
use dropship_core::pricing::{withdrawn_by_benefit, Promotion, PromotionKind};
use dropship_core::refund::line_units;
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};

#[derive(Default)]
struct Tally {
    orders: u32,
    units: u32,
    given: Money,
    withdrawn: Money,
}

/// The codes of `o`'s discount shares that promotions gave: every share code but the channel's
/// own discounts (the order records those in `discounts`).
fn promotion_codes(o: &Order) -> BTreeSet<&str> {
    let channel_discounts: BTreeSet<&str> = o.discounts.iter().map(|d| d.code.as_str()).collect();
    o.lines
        .iter()
        .flat_map(|l| l.discount_shares.iter())
        .map(|s| s.code.as_str())
        .filter(|c| !channel_discounts.contains(c))
        .collect()
}

fn kind_name(k: &PromotionKind) -> &'static str {
    match k {
        PromotionKind::PercentOff { .. } => "percent_off",
        PromotionKind::MultiBuy { .. } => "multi_buy",
        PromotionKind::OrderThreshold { .. } => "order_threshold",
    }
}

/// Orders created in the period (channel and country filters apply). `known`: the promotions
/// as stored, for their name and kind.
pub fn promotions(
    orders: &[Order],
    known: &BTreeMap<String, Promotion>,
    p: &Period,
    f: &Filters,
) -> Table {
    let mut by: BTreeMap<(String, String), Tally> = BTreeMap::new();
    for o in orders
        .iter()
        .filter(|o| o.promotions.is_some() && p.contains(o.created_at) && f.order(o))
    {
        let kept: Vec<u32> = line_units(o).iter().map(|u| u.kept).collect();
        let withdrawn: BTreeMap<String, Money> =
            withdrawn_by_benefit(&o.lines, &o.discounts, o.promotions.as_ref(), &kept)
                .into_iter()
                .collect();
        for code in promotion_codes(o) {
            let t = by
                .entry((code.to_string(), o.currency.to_string()))
                .or_default();
            let mut gave = false;
            for l in &o.lines {
                let share = l.share_of(code);
                if share != Money::ZERO {
                    gave = true;
                    t.units += l.quantity;
                    t.given += share;
                }
            }
            t.orders += u32::from(gave);
            t.withdrawn += withdrawn.get(code).copied().unwrap_or(Money::ZERO);
        }
    }
    Table {
        columns: &[
            "promotionId",
            "name",
            "kind",
            "currency",
            "orders",
            "units",
            "benefitGiven",
            "benefitWithdrawn",
        ],
        rows: by
            .into_iter()
            .map(|((id, currency), t)| {
                let promotion = known.get(&id);
                vec![
                    json!(id),
                    json!(promotion.map(|p| p.name.as_str())),
                    json!(promotion.map(|p| kind_name(&p.kind))),
                    json!(currency),
                    json!(t.orders),
                    json!(t.units),
                    money(t.given),
                    money(t.withdrawn),
                ]
            })
            .collect(),
    }
}
