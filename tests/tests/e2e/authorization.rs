//! The authorization matrix: every operation of openapi.yaml (so none is forgotten) against
//! every kind of caller: no token, a bad token, admin, staff in each role (admin, service,
//! finance), the owning channel, another channel, the owning fulfiller, another fulfiller. The expected answer comes from one table of rules per
//! role (docs/api.md "Auth"): 401 without a known token, 403 for a role that may not use the
//! endpoint, 404 for someone else's resource, otherwise the endpoint's own answer (never 401,
//! 403 or a 5xx).

use crate::setup;

use crate::support::Stack;
use serde_json::json;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Caller {
    NoToken,
    BadToken,
    Admin,
    OwningChannel,
    OtherChannel,
    OwningFulfiller,
    OtherFulfiller,
    StaffAdmin,
    StaffService,
    StaffFinance,
}

const CALLERS: [Caller; 10] = [
    Caller::NoToken,
    Caller::BadToken,
    Caller::OtherChannel,
    Caller::OtherFulfiller,
    Caller::StaffFinance,
    Caller::StaffService,
    Caller::Admin,
    Caller::StaffAdmin,
    Caller::OwningChannel,
    Caller::OwningFulfiller,
];

/// The changes customer service may make (docs/api.md "Staff, roles"): the order actions and
/// resolving alerts.
const SERVICE_CHANGES: [&str; 10] = [
    "POST /admin/orders/{orderId}/cancel",
    "POST /admin/orders/{orderId}/returns",
    "POST /admin/returns/{returnId}/reject",
    "POST /admin/delivery-orders/{deliveryOrderId}/reroute",
    "POST /admin/orders/{orderId}/goodwill",
    "POST /admin/orders/{orderId}/replacements",
    "POST /admin/orders/{orderId}/payments-received",
    "POST /admin/orders/{orderId}/chargebacks",
    "POST /admin/orders/{orderId}/contacts",
    "POST /admin/alerts/{alertId}/resolve",
];

/// The changes finance may make.
const FINANCE_CHANGES: [&str; 2] = [
    "POST /admin/orders/{orderId}/payments-received",
    "POST /admin/orders/{orderId}/chargebacks",
];

/// What a staff member of a role may expect on the retailer's side (`admin` and `webhooks`
/// operations): reads but tokens for every role, changes as the role's list says.
fn expect_staff(caller: Caller, method: &str, template: &str) -> Expect {
    let route = format!("{method} {template}");
    let allowed = match caller {
        Caller::StaffAdmin => true,
        _ if template.starts_with("/admin/tokens") => false,
        _ if method == "GET" => true,
        Caller::StaffService => SERVICE_CHANGES.contains(&route.as_str()),
        Caller::StaffFinance => FINANCE_CHANGES.contains(&route.as_str()),
        _ => false,
    };
    if allowed {
        Expect::Allowed
    } else {
        Expect::Status(403)
    }
}

/// What a caller may expect: exactly a status, or "allowed" (the endpoint's own answer).
#[derive(Debug, PartialEq, Eq)]
enum Expect {
    Status(u16),
    Allowed,
}

/// The rules, by the operation's role (its openapi tag) and whether its path names a resource
/// that belongs to someone.
fn expect(
    role: &str,
    owned_resource: bool,
    caller: Caller,
    method: &str,
    template: &str,
) -> Expect {
    use Caller::*;
    match (caller, role) {
        (NoToken | BadToken, _) => Expect::Status(401),
        (StaffAdmin | StaffService | StaffFinance, "admin" | "webhooks") => {
            expect_staff(caller, method, template)
        }
        (StaffAdmin | StaffService | StaffFinance, _) => Expect::Status(403),
        (Admin, "admin") => Expect::Allowed,
        (_, "admin") => Expect::Status(403),
        (OwningChannel, "channel") => Expect::Allowed,
        (OtherChannel, "channel") if owned_resource => Expect::Status(404),
        (OtherChannel, "channel") => Expect::Allowed,
        (_, "channel") => Expect::Status(403),
        (OwningFulfiller, "fulfiller") => Expect::Allowed,
        (OtherFulfiller, "fulfiller") if owned_resource => Expect::Status(404),
        (OtherFulfiller, "fulfiller") => Expect::Allowed,
        (_, "fulfiller") => Expect::Status(403),
        // Webhooks: every principal manages its own subscriptions, admin everyone's.
        (Admin | OwningChannel, "webhooks") => Expect::Allowed,
        (_, "webhooks") if owned_resource => Expect::Status(404),
        (_, "webhooks") => Expect::Allowed,
        (_, other) => panic!("no rule for role {other}"),
    }
}

/// The operations to check: (method, path template, role). Public operations (a document link
/// is its own capability) and the portal's and console's HTML pages (cookie sessions) have
/// their own tests.
fn operations() -> Vec<(String, String, String)> {
    let path = crate::support::workspace_root().join("openapi.yaml");
    let doc: serde_norway::Value =
        serde_norway::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut ops = Vec::new();
    for (p, item) in doc["paths"].as_mapping().unwrap() {
        for (m, op) in item.as_mapping().unwrap() {
            let m = m.as_str().unwrap();
            if !["get", "put", "post", "delete", "patch"].contains(&m) {
                continue;
            }
            let role = op["tags"][0].as_str().unwrap_or("").to_string();
            if role == "public"
                || role == "portal"
                || role == "console"
                || p.as_str() == Some("/documents/{linkId}")
            {
                continue;
            }
            ops.push((m.to_uppercase(), p.as_str().unwrap().to_string(), role));
        }
    }
    ops
}

#[tokio::test]
async fn every_endpoint_answers_every_caller_as_the_rules_say() {
    let stack = Stack::start().await;
    let world = setup::configure(&stack).await;
    // An order of the web channel, shipped by acme, with a return: resources to own.
    let body = setup::order(
        "WEB-AUTHZ",
        json!([{"lineId": "L1", "sku": "CHAIR-TEAK", "quantity": 2, "unitPrice": "10.00"}]),
        "20.00",
    );
    let (status, created) = stack
        .post_idempotent("/orders", Some(&world.web), "authz-1", &body)
        .await;
    assert_eq!(status, 201, "{created}");
    let order_id = created["orderId"].as_str().unwrap().to_string();
    let delivery_id = stack
        .eventually("acme's delivery order", Duration::from_secs(30), || async {
            let (_, l) = stack
                .get("/fulfiller/delivery-orders", Some(&world.acme))
                .await;
            l["items"].as_array()?.first()?["id"]
                .as_str()
                .map(String::from)
        })
        .await;
    let (status, _) = stack
        .post(
            &format!("/fulfiller/delivery-orders/{delivery_id}/shipments"),
            Some(&world.acme),
            &json!({"carrier": "DHL", "trackingNumber": "1", "lines": [{"lineId": "L1", "quantity": 1}]}),
        )
        .await;
    assert_eq!(status, 200);
    let (status, r) = stack
        .post(
            &format!("/orders/{order_id}/returns"),
            Some(&world.web),
            &json!({"lines": [{"lineId": "L1", "quantity": 1}]}),
        )
        .await;
    assert_eq!(status, 201, "{r}");
    let return_id = r["returnId"].as_str().unwrap().to_string();
    let (_, spare) = stack
        .post(
            "/admin/tokens",
            Some(&stack.admin_token),
            &json!({"principal": "channel:marketplace", "name": "spare"}),
        )
        .await;
    let spare_token = spare["tokenId"].as_str().unwrap().to_string();
    let (status, hook) = stack
        .put(
            "/webhooks/authz-hooks",
            Some(&world.web),
            &json!({"url": "http://127.0.0.1:9/hooks", "events": ["order.cancelled"]}),
        )
        .await;
    assert_eq!(status, 201, "{hook}");

    // A staff member of each role, with a token.
    let mut staff_tokens = std::collections::HashMap::new();
    for role in ["admin", "service", "finance"] {
        let id = format!("authz-{role}");
        let (status, member) = stack
            .put(
                &format!("/admin/staff/{id}"),
                Some(&stack.admin_token),
                &json!({"name": format!("Authz {role}"), "email": format!("{id}@lindenhof.example"), "role": role}),
            )
            .await;
        assert_eq!(status, 200, "{member}");
        let (status, t) = stack
            .post(
                "/admin/tokens",
                Some(&stack.admin_token),
                &json!({"principal": format!("staff:{id}")}),
            )
            .await;
        assert_eq!(status, 201, "{t}");
        staff_tokens.insert(role, t["token"].as_str().unwrap().to_string());
    }
    let token = |c: Caller| -> Option<String> {
        match c {
            Caller::NoToken => None,
            Caller::BadToken => Some("not-a-token-at-all".to_string()),
            Caller::Admin => Some(stack.admin_token.clone()),
            Caller::OwningChannel => Some(world.web.clone()),
            Caller::OtherChannel => Some(world.marketplace.clone()),
            Caller::OwningFulfiller => Some(world.acme.clone()),
            Caller::OtherFulfiller => Some(world.nordic.clone()),
            Caller::StaffAdmin => Some(staff_tokens["admin"].clone()),
            Caller::StaffService => Some(staff_tokens["service"].clone()),
            Caller::StaffFinance => Some(staff_tokens["finance"].clone()),
        }
    };
    let ops = operations();
    assert!(
        ops.len() >= 30,
        "openapi.yaml lists {} operations",
        ops.len()
    );
    let mut checked = 0;
    let mut failures = Vec::new();
    for (method, template, role) in &ops {
        let owned = ["{orderId}", "{id}", "{returnId}", "{subscriptionId}"]
            .iter()
            .any(|p| template.contains(p));
        let path = template
            .replace("{orderId}", &order_id)
            .replace("{deliveryOrderId}", &delivery_id)
            .replace("{id}", &delivery_id)
            .replace("{returnId}", &return_id)
            .replace("{tokenId}", &spare_token)
            .replace("{channelId}", "web-de")
            .replace("{fulfillerId}", "acme-garden")
            .replace("{sku}", "CHAIR-TEAK")
            .replace("{country}", "DE")
            .replace("{taxClass}", "standard")
            .replace("{kind}", "sales")
            .replace("{alertId}", "chargeback%23none")
            .replace("{promotionId}", "SPRING-10")
            .replace("{subscriptionId}", "authz-hooks")
            .replace("{deliveryId}", "none~20260101000000000000~000")
            .replace("{staffId}", "authz-nobody")
            .replace("{email}", "carla%40example.com");
        assert!(
            !path.contains('{'),
            "no value for a parameter of {template}"
        );
        // An empty object: enough to pass authorization, never a valid change.
        let body = (method != "GET" && method != "DELETE").then(|| json!({}));
        for caller in CALLERS {
            let (status, answer) = stack
                .request(method, &path, token(caller).as_deref(), body.as_ref(), &[])
                .await;
            checked += 1;
            let want = expect(role, owned, caller, method, template);
            let ok = match &want {
                Expect::Status(s) => status == *s && answer["error"]["code"].is_string(),
                Expect::Allowed => ![401, 403].contains(&status) && status < 500,
            };
            if !ok {
                failures.push(format!(
                    "{method} {template} as {caller:?}: {status} (want {want:?}) {answer}"
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // Every function's log lines went through the runner; none holds a token or the
    // customer's e-mail address.
    let logs = stack.output.text();
    assert!(
        logs.contains("order split"),
        "function logs are not captured"
    );
    for secret in [
        &stack.admin_token,
        &staff_tokens["admin"],
        &staff_tokens["service"],
        &staff_tokens["finance"],
        &world.web,
        &world.marketplace,
        &world.acme,
        &world.nordic,
    ] {
        assert!(
            !logs.contains(secret.as_str()),
            "a token appears in the logs"
        );
    }
    assert!(
        !logs.contains("carla@example.com"),
        "an e-mail address appears in the logs"
    );
    assert_eq!(checked, ops.len() * CALLERS.len());
}
