//! Staff and their roles (docs/api.md "Staff, roles and the audit log"): members with tokens of
//! their own, what each role may do, who names whom in an order's history, admin power kept by
//! the owner's token, a deactivated member shut out within 60 s, and the audit log of every
//! change and every refusal.

use crate::setup;
use crate::support::Stack;
use serde_json::{json, Value};
use std::time::Duration;

/// A staff member of `role` with a fresh token (made by the principal admin).
async fn member(stack: &Stack, id: &str, name: &str, role: &str) -> String {
    let (status, m) = stack
        .put(
            &format!("/admin/staff/{id}"),
            Some(&stack.admin_token),
            &json!({"name": name, "email": format!("{id}@Lindenhof.example"), "role": role}),
        )
        .await;
    assert_eq!(status, 200, "{m}");
    assert_eq!(
        (m["email"].as_str(), m["active"].as_bool()),
        (Some(format!("{id}@lindenhof.example").as_str()), Some(true)),
        "{m}"
    );
    let (status, t) = stack
        .post(
            "/admin/tokens",
            Some(&stack.admin_token),
            &json!({"principal": format!("staff:{id}")}),
        )
        .await;
    assert_eq!(status, 201, "{t}");
    t["token"].as_str().unwrap().to_string()
}

fn who_did(order: &Value) -> Vec<(String, String)> {
    order["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["who"].as_str().unwrap_or_default().to_string(),
                h["what"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn each_role_does_what_it_may_and_the_audit_log_keeps_it() {
    let stack = Stack::start().await;
    let world = setup::configure(&stack).await;
    let anna = member(&stack, "anna", "Anna Service", "service").await;
    let fin = member(&stack, "fin", "Fin Finance", "finance").await;
    let boss = member(&stack, "boss", "Boss Admin", "admin").await;

    let body = setup::order(
        "WEB-STAFF-1",
        json!([{"lineId": "L1", "sku": "CHAIR-TEAK", "quantity": 1, "unitPrice": "50.00"}]),
        "50.00",
    );
    let (status, created) = stack
        .post_idempotent("/orders", Some(&world.web), "staff-1", &body)
        .await;
    assert_eq!(status, 201, "{created}");
    let order_id = created["orderId"].as_str().unwrap().to_string();
    let goodwill = format!("/admin/orders/{order_id}/goodwill");

    // Every role reads; a role's change outside its list is 403 and writes nothing.
    for token in [&anna, &fin, &boss] {
        let (status, o) = stack
            .get(&format!("/admin/orders/{order_id}"), Some(token))
            .await;
        assert_eq!(status, 200, "{o}");
    }
    let (status, e) = stack
        .post(
            &goodwill,
            Some(&fin),
            &json!({"amount": "5.00", "reason": "late"}),
        )
        .await;
    assert_eq!(
        (status, e["error"]["code"].as_str()),
        (403, Some("forbidden")),
        "{e}"
    );
    let (status, _) = stack
        .put(
            "/admin/channels/web-de",
            Some(&anna),
            &json!({"name": "Web", "kind": "webshop"}),
        )
        .await;
    assert_eq!(status, 403, "service may not change the configuration");
    let (status, _) = stack.get("/admin/staff", Some(&anna)).await;
    assert_eq!(status, 200, "service reads the staff list");

    // Customer service grants goodwill; finance records an invoice payment. The history names them.
    let (status, r) = stack
        .post(
            &goodwill,
            Some(&anna),
            &json!({"amount": "5.00", "reason": "late"}),
        )
        .await;
    assert_eq!(status, 201, "{r}");
    let (status, r) = stack
        .post(
            &format!("/admin/orders/{order_id}/chargebacks"),
            Some(&fin),
            &json!({"paymentReference": "none", "amount": "1.00", "reason": "x"}),
        )
        .await;
    assert!(
        ![401, 403].contains(&status) && status < 500,
        "{status} {r}"
    );
    let (_, o) = stack
        .get(
            &format!("/admin/orders/{order_id}"),
            Some(&stack.admin_token),
        )
        .await;
    assert_eq!(o["totals"]["refunded"], "5.00", "{o}");
    let history = who_did(&o);
    assert!(
        history
            .iter()
            .any(|(who, _)| who == "staff:anna (Anna Service)"),
        "the goodwill names its staff member: {history:?}"
    );

    // Admin power stays with the owner's token: a staff admin may neither mint an admin token
    // nor make anyone an admin, but manages the rest.
    for principal in ["admin", "staff:boss"] {
        let (status, e) = stack
            .post(
                "/admin/tokens",
                Some(&boss),
                &json!({"principal": principal}),
            )
            .await;
        assert_eq!(status, 403, "{principal}: {e}");
    }
    let (status, e) = stack
        .put(
            "/admin/staff/eve",
            Some(&boss),
            &json!({"name": "Eve", "email": "eve@lindenhof.example", "role": "admin"}),
        )
        .await;
    assert_eq!(status, 403, "{e}");
    let (status, e) = stack
        .put(
            "/admin/staff/eve",
            Some(&boss),
            &json!({"name": "Eve", "email": "eve@lindenhof.example", "role": "service"}),
        )
        .await;
    assert_eq!(status, 200, "{e}");
    assert_eq!(e["updatedBy"], "staff:boss (Boss Admin)", "{e}");
    let (status, t) = stack
        .post(
            "/admin/tokens",
            Some(&boss),
            &json!({"principal": "staff:eve", "name": "eve's"}),
        )
        .await;
    assert_eq!(status, 201, "{t}");
    let (status, _) = stack
        .request(
            "DELETE",
            &format!("/admin/tokens/{}", t["tokenId"].as_str().unwrap()),
            Some(&boss),
            None,
            &[],
        )
        .await;
    assert_eq!(status, 204);
    let (status, e) = stack
        .post(
            "/admin/tokens",
            Some(&anna),
            &json!({"principal": "staff:anna"}),
        )
        .await;
    assert_eq!(status, 403, "{e}");

    // The staff list and one member; 404 for nobody; inactive ones are filtered.
    let (status, list) = stack
        .get("/admin/staff?limit=2", Some(&stack.admin_token))
        .await;
    assert_eq!(status, 200, "{list}");
    let mut ids: Vec<String> = Vec::new();
    let mut page = list;
    loop {
        for m in page["items"].as_array().unwrap() {
            ids.push(m["id"].as_str().unwrap().to_string());
        }
        let Some(next) = page["nextToken"].as_str() else {
            break;
        };
        let (_, p) = stack
            .get(
                &format!("/admin/staff?limit=2&nextToken={next}"),
                Some(&stack.admin_token),
            )
            .await;
        page = p;
    }
    assert_eq!(ids, ["anna", "boss", "eve", "fin"]);
    let (status, _) = stack.get("/admin/staff/nobody", Some(&boss)).await;
    assert_eq!(status, 404);

    // Deactivated: Anna's token is refused (401) within 60 s, and she is listed as inactive.
    let (status, m) = stack
        .put(
            "/admin/staff/anna",
            Some(&stack.admin_token),
            &json!({"name": "Anna Service", "email": "anna@lindenhof.example", "role": "service", "active": false}),
        )
        .await;
    assert_eq!((status, m["active"].as_bool()), (200, Some(false)), "{m}");
    stack
        .eventually("anna's token refused", Duration::from_secs(65), || async {
            let (status, _) = stack.get("/admin/orders", Some(&anna)).await;
            (status == 401).then_some(())
        })
        .await;
    let (_, inactive) = stack
        .get("/admin/staff?active=false", Some(&stack.admin_token))
        .await;
    let inactive: Vec<&str> = inactive["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["id"].as_str())
        .collect();
    assert_eq!(inactive, ["anna"]);

    // The audit log: the refused goodwill and the changes, with who, what, on which id and
    // how it ended; reads are not in it.
    let (status, audit) = stack
        .get("/admin/audit?principal=staff:fin", Some(&boss))
        .await;
    assert_eq!(status, 200, "{audit}");
    let entries = audit["items"].as_array().unwrap();
    assert!(
        entries
            .iter()
            .any(|e| e["action"] == "POST /admin/orders/{orderId}/goodwill"
                && e["target"] == order_id.as_str()
                && e["outcome"] == 403
                && e["requestId"].is_string()),
        "{audit}"
    );
    assert!(
        entries.iter().all(|e| e["principal"] == "staff:fin"),
        "{audit}"
    );
    assert!(
        entries
            .iter()
            .any(|e| e["action"] == "POST /admin/orders/{orderId}/chargebacks"),
        "{audit}"
    );
    let (_, all) = stack
        .get("/admin/audit?limit=200", Some(&stack.admin_token))
        .await;
    let all = all["items"].as_array().unwrap();
    let at: Vec<&str> = all.iter().filter_map(|e| e["at"].as_str()).collect();
    let mut newest_first = at.clone();
    newest_first.sort_by(|a, b| b.cmp(a));
    assert_eq!(at, newest_first, "newest first");
    assert!(all.iter().all(
        |e| !e["action"].as_str().unwrap_or_default().starts_with("GET ") || e["outcome"] == 403
    ));
    for (principal, action, target, outcome) in [
        (
            "staff:anna",
            "POST /admin/orders/{orderId}/goodwill",
            order_id.as_str(),
            201,
        ),
        (
            "staff:anna",
            "PUT /admin/channels/{channelId}",
            "web-de",
            403,
        ),
        ("staff:boss", "PUT /admin/staff/{staffId}", "eve", 403),
        ("staff:boss", "PUT /admin/staff/{staffId}", "eve", 200),
        ("admin", "PUT /admin/staff/{staffId}", "anna", 200),
    ] {
        assert!(
            all.iter().any(|e| e["principal"] == principal
                && e["action"] == action
                && e["target"] == target
                && e["outcome"] == outcome),
            "{principal} {action} {target} {outcome} missing: {all:?}"
        );
    }
    // Paging walks the same entries; a date range before today is empty; bad dates are 422.
    let (_, first) = stack
        .get("/admin/audit?limit=3", Some(&stack.admin_token))
        .await;
    let next = first["nextToken"].as_str().expect("more than 3 entries");
    let (_, second) = stack
        .get(
            &format!("/admin/audit?limit=3&nextToken={next}"),
            Some(&stack.admin_token),
        )
        .await;
    assert_eq!(
        second["items"][0], all[3],
        "the second page goes on where the first stopped"
    );
    let (_, old) = stack
        .get(
            "/admin/audit?from=2020-01-01&to=2020-01-31",
            Some(&stack.admin_token),
        )
        .await;
    assert_eq!(old["items"], json!([]), "{old}");
    let (status, e) = stack
        .get("/admin/audit?from=2026-13-01", Some(&stack.admin_token))
        .await;
    assert_eq!((status, e["error"]["field"].as_str()), (422, Some("from")));
}
