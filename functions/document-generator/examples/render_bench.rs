//! Size and render time of a delivery note for a three-line order (`make bench-documents`),
//! release build, warm (fonts parsed once per process, as in a warm Lambda).

use chrono::Utc;
use document_generator::render::delivery_note;
use dropship_core::catalogue::Branding;
use dropship_core::delivery::DeliveryOrder;
use dropship_core::order::Order;
use serde_json::json;
use std::time::Instant;

fn main() -> anyhow::Result<()> {
    let address = json!({"name": "Jörg Weiß", "street": "Straße des 17. Juni 1", "postalCode": "10623", "city": "Berlin", "country": "DE"});
    let retailer = json!({"name": "Lindenhof Living GmbH", "street": "Lindenstraße 12", "postalCode": "10969", "city": "Berlin", "country": "DE"});
    let branding: Branding = serde_json::from_value(json!({
        "companyName": "Lindenhof Living GmbH", "address": retailer, "vatId": "DE123456789", "primaryColor": "#2E5E4E",
        "footer": "Lindenhof Living GmbH · Amtsgericht Charlottenburg HRB 123456 · USt-IdNr. DE123456789",
        "emailFrom": "service@lindenhof.example", "locale": "de", "timeZone": "Europe/Berlin"}))?;
    let order: Order = serde_json::from_value(json!({
        "id": "o1", "channelId": "web", "externalId": "WEB-100234", "status": "routed", "currency": "EUR",
        "customer": {"email": "c@example.com", "name": "Jörg Weiß"}, "shippingAddress": address,
        "orderedAt": Utc::now(), "createdAt": Utc::now(), "lines": [], "discounts": [], "shippingCost": "0.00",
        "payments": [], "history": [],
        "totals": {"merchandise": "0.00", "discount": "0.00", "shipping": "0.00", "shippingTax": "0.00", "total": "0.00",
                   "tax": [], "refunded": "0.00", "due": "0.00"}}))?;
    let delivery: DeliveryOrder = serde_json::from_value(json!({
        "id": "DO-3C0A944DB535215729D4", "orderId": "o1", "fulfillerId": "acme", "status": "open", "shipTo": address,
        "lines": [
            {"lineId": "L1", "sku": "LAMP-OAK", "name": "Tischleuchte Eiche", "quantity": 2, "shipped": 0},
            {"lineId": "L2", "sku": "CUSHION-LINEN", "name": "Kissen Leinen 50×50", "quantity": 1, "shipped": 0},
            {"lineId": "L3", "sku": "MUG-STONE", "name": "Becher Steinzeug – 4er-Set", "quantity": 4, "shipped": 0}],
        "createdAt": Utc::now(), "dueAt": Utc::now(), "createdKey": "k"}))?;
    let mut times = Vec::new();
    let mut size = 0;
    for _ in 0..200 {
        let started = Instant::now();
        size = delivery_note(&branding, &order, &delivery)?.len();
        times.push(started.elapsed());
    }
    times.sort();
    // `SAMPLE=path` keeps one rendered document, e.g. for docs/samples/.
    if let Ok(path) = std::env::var("SAMPLE") {
        std::fs::write(path, delivery_note(&branding, &order, &delivery)?)?;
    }
    println!(
        "| delivery note, 3 lines | {size} bytes | p50 {:.2} ms | max {:.2} ms |",
        times[100].as_secs_f64() * 1e3,
        times[199].as_secs_f64() * 1e3
    );
    Ok(())
}
