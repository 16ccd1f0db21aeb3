//! What the pages show, computed from the domain's types: times in the retailer's time zone,
//! what is late or due today, the retailer's colours. Pure, so it is tested without AWS.

use crate::i18n::{Lang, Texts};
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use dropship_aws::repo::stock::StockLevel;
use dropship_core::delivery::DeliveryOrder;
use dropship_core::returns::ReturnPart;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// "Now" as the retailer sees it: docs/api.md's dates are in the retailer's time zone.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    pub now: DateTime<Utc>,
    pub tz: Tz,
    pub lang: Lang,
}

impl Clock {
    pub fn time(&self, t: DateTime<Utc>) -> String {
        let local = t.with_timezone(&self.tz);
        match self.lang {
            Lang::De => local.format("%d.%m.%Y, %H:%M").to_string(),
            Lang::En => local.format("%-d %b %Y, %H:%M").to_string(),
        }
    }

    pub fn date(&self, d: NaiveDate) -> String {
        match self.lang {
            Lang::De => d.format("%d.%m.%Y").to_string(),
            Lang::En => d.format("%-d %b %Y").to_string(),
        }
    }

    pub fn today(&self) -> NaiveDate {
        self.now.with_timezone(&self.tz).date_naive()
    }

    fn local_date(&self, t: DateTime<Utc>) -> NaiveDate {
        t.with_timezone(&self.tz).date_naive()
    }
}

/// Past its due time and still to ship.
pub fn is_late(d: &DeliveryOrder, now: DateTime<Utc>) -> bool {
    d.is_active() && d.due_at < now
}

/// Still to ship, due on the retailer's today, not yet late.
pub fn is_due_today(d: &DeliveryOrder, clock: &Clock) -> bool {
    d.is_active() && !is_late(d, clock.now) && clock.local_date(d.due_at) == clock.today()
}

fn status_label(texts: &Texts, lang: Lang, status: &impl serde::Serialize) -> (String, String) {
    let code = serde_json::to_value(status)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    let label = texts.get(lang, &format!("status.{code}"));
    (code, label)
}

/// What a delivery order holds, in a few words: `3 × Teak chair, 1 × Vase`.
fn items(d: &DeliveryOrder) -> String {
    d.lines
        .iter()
        .filter(|l| l.quantity > l.cancelled)
        .map(|l| format!("{} × {}", l.quantity - l.cancelled, l.name))
        .collect::<Vec<_>>()
        .join(", ")
}

/// One row of a delivery order list.
pub fn delivery_row(d: &DeliveryOrder, clock: &Clock, texts: &Texts) -> Value {
    let (status, status_label) = status_label(texts, clock.lang, &d.status);
    json!({
        "id": d.id,
        "ship_to": format!("{}, {}", d.ship_to.name, d.ship_to.city),
        "items": items(d),
        "units": d.lines.iter().map(|l| l.quantity - l.cancelled).sum::<u32>(),
        "open_units": d.lines.iter().map(|l| l.open()).sum::<u32>(),
        "due": clock.time(d.due_at),
        "late": is_late(d, clock.now),
        "status": status,
        "status_label": status_label,
        "shortfall": d.stock_shortfall && d.is_active(),
    })
}

/// A delivery order with its lines and shipments.
pub fn delivery_detail(d: &DeliveryOrder, clock: &Clock, texts: &Texts) -> Value {
    let mut v = delivery_row(d, clock, texts);
    v["created"] = json!(clock.time(d.created_at));
    v["ship_to"] = json!(d.ship_to);
    v["rejection_reason"] = json!(d.rejection_reason);
    v["lines"] = d
        .lines
        .iter()
        .map(|l| {
            json!({"line_id": l.line_id, "sku": l.sku, "name": l.name, "quantity": l.quantity,
                "shipped": l.shipped, "cancelled": l.cancelled, "open": l.open()})
        })
        .collect();
    v["shipments"] = d
        .shipments
        .iter()
        .map(|s| {
            json!({"carrier": s.carrier, "tracking": s.tracking_number, "shipped_at": clock.time(s.shipped_at),
                "units": s.lines.iter().map(|l| l.quantity).sum::<u32>()})
        })
        .collect();
    v
}

/// What the dashboard counts: (late, due today) of the active delivery orders, and the rows
/// of both, most urgent first.
pub fn due(active: &[DeliveryOrder], clock: &Clock, texts: &Texts) -> (usize, usize, Vec<Value>) {
    let mut urgent: Vec<&DeliveryOrder> = active
        .iter()
        .filter(|d| is_late(d, clock.now) || is_due_today(d, clock))
        .collect();
    urgent.sort_by_key(|d| d.due_at);
    let late = urgent.iter().filter(|d| is_late(d, clock.now)).count();
    let rows = urgent
        .iter()
        .map(|d| delivery_row(d, clock, texts))
        .collect();
    (late, urgent.len() - late, rows)
}

/// Stock rows matching `q` (in the sku or the product's name, without case), by sku.
pub fn stock_rows(
    levels: &[StockLevel],
    names: &BTreeMap<String, String>,
    q: &str,
    clock: &Clock,
) -> Vec<Value> {
    let q = q.trim().to_lowercase();
    let mut rows: Vec<&StockLevel> = levels
        .iter()
        .filter(|s| {
            q.is_empty()
                || s.sku.as_str().to_lowercase().contains(&q)
                || names
                    .get(s.sku.as_str())
                    .is_some_and(|n| n.to_lowercase().contains(&q))
        })
        .collect();
    rows.sort_by(|a, b| a.sku.cmp(&b.sku));
    rows.iter()
        .map(|s| {
            json!({"sku": s.sku, "name": names.get(s.sku.as_str()).cloned().unwrap_or_default(),
                "available": s.available, "edit_value": s.available, "reserved": s.reserved,
                "short": s.available < s.reserved, "updated": clock.time(s.updated_at)})
        })
        .collect()
}

/// A return part waiting to be received, with the receive form's starting values (everything
/// announced arrived resellable) or the values sent back after an error.
pub fn return_card(
    part: &ReturnPart,
    clock: &Clock,
    texts: &Texts,
    sent: Option<&BTreeMap<String, (String, String)>>,
) -> Value {
    let (status, status_label) = status_label(texts, clock.lang, &part.status);
    // A line may sit on several delivery orders: the form asks once per order line.
    let mut lines: Vec<Value> = Vec::new();
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for l in &part.lines {
        if let Some(&i) = seen.get(l.line_id.as_str()) {
            let q = lines[i]["quantity"].as_u64().unwrap_or(0) + u64::from(l.quantity);
            lines[i]["quantity"] = json!(q);
            if sent.is_none() {
                lines[i]["good"] = json!(q);
            }
            continue;
        }
        seen.insert(&l.line_id, lines.len());
        let (good, bad) = match sent.and_then(|s| s.get(&l.line_id)) {
            Some((g, b)) => (json!(g), json!(b)),
            None => (json!(l.quantity), json!(0)),
        };
        lines.push(
            json!({"line_id": l.line_id, "sku": l.sku, "name": l.name, "reason": l.reason,
            "quantity": l.quantity, "good": good, "bad": bad}),
        );
    }
    let mut deliveries: Vec<&str> = part
        .lines
        .iter()
        .map(|l| l.delivery_order_id.as_str())
        .collect();
    deliveries.sort_unstable();
    deliveries.dedup();
    json!({"id": part.return_id, "status": status, "status_label": status_label,
        "created": clock.time(part.created_at), "lines": lines, "deliveries": deliveries})
}

pub use dropship_web::brand::{brand, time_zone};

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};
    use dropship_core::catalogue::Address;
    use dropship_core::delivery::{DeliveryLine, DeliveryStatus};

    pub fn delivery(id: &str, status: DeliveryStatus, due_at: DateTime<Utc>) -> DeliveryOrder {
        DeliveryOrder {
            id: id.into(),
            order_id: "o1".try_into().unwrap(),
            fulfiller_id: "acme".try_into().unwrap(),
            status,
            ship_to: Address {
                name: "Carla Beispiel".into(),
                street: "Hauptstraße 1".into(),
                postal_code: "10115".into(),
                city: "Berlin".into(),
                country: "DE".try_into().unwrap(),
            },
            lines: vec![DeliveryLine {
                line_id: "L1".into(),
                sku: "CHAIR".try_into().unwrap(),
                name: "Chair".into(),
                quantity: 3,
                shipped: 1,
                cancelled: 0,
            }],
            created_at: due_at - Duration::hours(48),
            due_at,
            created_key: String::new(),
            documents: vec![],
            carrier: None,
            tracking_number: None,
            version: 0,
            shipments: vec![],
            stock_shortfall: false,
            rejection_reason: None,
            link_key: None,
        }
    }

    fn clock(lang: Lang) -> Clock {
        Clock {
            // 10:00 in Berlin (winter time).
            now: Utc
                .with_ymd_and_hms(2026, 1, 15, 9, 0, 0)
                .single()
                .unwrap_or_default(),
            tz: chrono_tz::Europe::Berlin,
            lang,
        }
    }

    #[test]
    fn late_and_due_today_in_the_retailers_time_zone() {
        let c = clock(Lang::De);
        let texts = crate::i18n::texts().unwrap_or_else(|e| panic!("{e}"));
        let late = delivery("D1", DeliveryStatus::Accepted, c.now - Duration::hours(1));
        // 23:30 Berlin today is 22:30 UTC: today, although it is "tomorrow" nowhere here.
        let tonight = delivery(
            "D2",
            DeliveryStatus::Open,
            Utc.with_ymd_and_hms(2026, 1, 15, 22, 30, 0)
                .single()
                .unwrap_or_default(),
        );
        // 00:30 Berlin tomorrow is 23:30 UTC today: not today for the retailer.
        let tomorrow = delivery(
            "D3",
            DeliveryStatus::Open,
            Utc.with_ymd_and_hms(2026, 1, 15, 23, 30, 0)
                .single()
                .unwrap_or_default(),
        );
        let shipped_late = delivery("D4", DeliveryStatus::Shipped, c.now - Duration::hours(5));
        assert!(is_late(&late, c.now) && !is_due_today(&late, &c));
        assert!(is_due_today(&tonight, &c));
        assert!(!is_due_today(&tomorrow, &c));
        assert!(!is_late(&shipped_late, c.now));
        let (n_late, n_today, rows) = due(&[tomorrow, tonight, late, shipped_late], &c, &texts);
        assert_eq!((n_late, n_today), (1, 1));
        assert_eq!(rows[0]["id"], "D1");
        assert_eq!(rows[0]["late"], true);
        assert_eq!(rows[1]["due"], "15.01.2026, 23:30");
        assert_eq!(rows[1]["status_label"], "Neu");
        assert_eq!(rows[1]["open_units"], 2);
    }

    #[test]
    fn stock_search_looks_at_sku_and_name() {
        let c = clock(Lang::En);
        let level = |sku: &str| StockLevel {
            fulfiller_id: "acme".try_into().unwrap(),
            sku: sku.try_into().unwrap(),
            available: 2,
            reserved: 3,
            free: -1,
            as_of: c.now,
            updated_at: c.now,
            shards: None,
            count_seq: None,
            shard_free: Vec::new(),
        };
        let levels = [level("VASE-BLUE"), level("CHAIR-TEAK")];
        let names = BTreeMap::from([("CHAIR-TEAK".to_string(), "Teak chair".to_string())]);
        let all = stock_rows(&levels, &names, "", &c);
        assert_eq!(all[0]["sku"], "CHAIR-TEAK");
        assert_eq!(all[0]["short"], true);
        assert_eq!(stock_rows(&levels, &names, "teak", &c).len(), 1);
        assert_eq!(stock_rows(&levels, &names, "vase", &c).len(), 1);
        assert_eq!(stock_rows(&levels, &names, "lamp", &c).len(), 0);
        assert_eq!(all[0]["updated"], "15 Jan 2026, 10:00");
    }
}
