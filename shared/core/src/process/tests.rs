use serde_json::json;

use super::bpmn::to_bpmn;
use super::layout::layout;
use super::model::{order_process, NodeKind, ProcessModel, TaskKind};
use super::settings::*;
use super::svg::to_svg;
use crate::error::ErrorCode;

fn parse(v: serde_json::Value) -> Result<ProcessSettings, crate::ApiError> {
    ProcessSettings::parse(&v, "settings")
}

/// Every setting on: reroute on silence after a day, backorders cancelled after a week.
fn all_on() -> ProcessSettings {
    parse(json!({"acceptance": {"rerouteIfSilentHours": 24}, "backorders": {"maxDays": 7}}))
        .unwrap()
}

#[test]
fn left_out_keys_take_the_defaults_and_every_key_is_written() {
    let s = parse(json!({})).unwrap();
    assert_eq!(s, ProcessSettings::default());
    assert_eq!(
        serde_json::to_value(s).unwrap(),
        json!({
            "acceptance": {"rerouteIfSilentHours": 0},
            "routing": {"strategy": "fewest_splits", "preferOwnWarehouses": true},
            "customerMails": {"orderConfirmation": true, "shipment": true, "delay": true,
                              "returnAuthorized": true, "refund": true},
            "returns": {"windowDays": 14},
            "cancellation": {"customerMayCancelUntil": "shipped"},
            "escalation": {"remindFulfillerAfterHours": 48, "escalateToOpsAfterMinutes": 240},
            "backorders": {"maxDays": 0}
        })
    );
    // Partly given: the rest of the section keeps its defaults.
    let s = parse(json!({"routing": {"strategy": "priority"}, "customerMails": {"delay": false}}))
        .unwrap();
    assert_eq!(s.routing.strategy, RoutingStrategy::Priority);
    assert!(s.routing.prefer_own_warehouses);
    assert!(!s.customer_mails.delay && s.customer_mails.refund);
    // What is written reads back the same.
    let again = parse(serde_json::to_value(all_on()).unwrap()).unwrap();
    assert_eq!(again, all_on());
}

#[test]
fn the_defaults_are_todays_values() {
    let d = ProcessSettings::default();
    // The return window's default equals the refund policy's: catalogue/tests.rs checks it
    // (the catalogue reads the process settings, not the other way round).
    assert_eq!(d.returns.window_days, 14);
    assert_eq!(d.escalation.escalate_to_ops_after_minutes, 240);
    assert_eq!(d.escalation.remind_fulfiller_after_hours, 48);
    assert_eq!(
        d.cancellation.customer_may_cancel_until,
        CancelUntil::Shipped
    );
    assert_eq!(
        (d.acceptance.reroute_if_silent_hours, d.backorders.max_days),
        (0, 0)
    );
    // The names the API writes are serde's.
    let names = [
        (
            serde_json::to_value(RoutingStrategy::FewestSplits).unwrap(),
            RoutingStrategy::FewestSplits.as_str(),
        ),
        (
            serde_json::to_value(RoutingStrategy::Priority).unwrap(),
            RoutingStrategy::Priority.as_str(),
        ),
        (
            serde_json::to_value(CancelUntil::Shipped).unwrap(),
            CancelUntil::Shipped.as_str(),
        ),
        (
            serde_json::to_value(CancelUntil::Accepted).unwrap(),
            CancelUntil::Accepted.as_str(),
        ),
        (
            serde_json::to_value(CancelUntil::Routed).unwrap(),
            CancelUntil::Routed.as_str(),
        ),
    ];
    for (value, name) in names {
        assert!(!name.is_empty());
        assert_eq!(value, name);
    }
    // A stored version from before a key existed reads with that key's default.
    let stored: ProcessSettings =
        serde_json::from_value(json!({"returns": {"windowDays": 30}})).unwrap();
    assert_eq!(stored.returns.window_days, 30);
    assert_eq!(stored.escalation, Escalation::default());
}

#[test]
fn each_bad_value_is_a_422_naming_its_path() {
    let cases = [
        (
            json!({"acceptance": {"rerouteIfSilentHours": -1}}),
            "settings.acceptance.rerouteIfSilentHours",
        ),
        (
            json!({"acceptance": {"rerouteIfSilentHours": 2161}}),
            "settings.acceptance.rerouteIfSilentHours",
        ),
        (
            json!({"acceptance": {"rerouteIfSilentHours": 1.5}}),
            "settings.acceptance.rerouteIfSilentHours",
        ),
        (
            json!({"routing": {"strategy": "cheapest"}}),
            "settings.routing.strategy",
        ),
        (
            json!({"routing": {"strategy": 1}}),
            "settings.routing.strategy",
        ),
        (
            json!({"routing": {"preferOwnWarehouses": "yes"}}),
            "settings.routing.preferOwnWarehouses",
        ),
        (
            json!({"customerMails": {"orderConfirmation": null}}),
            "settings.customerMails.orderConfirmation",
        ),
        (
            json!({"customerMails": {"shipment": 0}}),
            "settings.customerMails.shipment",
        ),
        (
            json!({"customerMails": {"delay": "false"}}),
            "settings.customerMails.delay",
        ),
        (
            json!({"customerMails": {"returnAuthorized": []}}),
            "settings.customerMails.returnAuthorized",
        ),
        (
            json!({"customerMails": {"refund": {}}}),
            "settings.customerMails.refund",
        ),
        (
            json!({"returns": {"windowDays": -1}}),
            "settings.returns.windowDays",
        ),
        (
            json!({"returns": {"windowDays": 366}}),
            "settings.returns.windowDays",
        ),
        (
            json!({"cancellation": {"customerMayCancelUntil": "delivered"}}),
            "settings.cancellation.customerMayCancelUntil",
        ),
        (
            json!({"escalation": {"remindFulfillerAfterHours": 0}}),
            "settings.escalation.remindFulfillerAfterHours",
        ),
        (
            json!({"escalation": {"escalateToOpsAfterMinutes": "240"}}),
            "settings.escalation.escalateToOpsAfterMinutes",
        ),
        (
            json!({"backorders": {"maxDays": 4294967296u64}}),
            "settings.backorders.maxDays",
        ),
        (json!({"routing": "priority"}), "settings.routing"),
        (json!([]), "settings"),
    ];
    for (body, path) in cases {
        let e = parse(body.clone()).unwrap_err();
        assert_eq!(
            (e.status, e.code, e.field.as_deref()),
            (422, ErrorCode::ValidationFailed, Some(path)),
            "{body}"
        );
        assert!(e.message.starts_with(path), "{}", e.message);
    }
}

#[test]
fn an_unknown_key_is_refused_at_its_path() {
    let e = parse(json!({"routing": {"strategy": "priority", "fastest": true}})).unwrap_err();
    assert_eq!(
        (e.status, e.field.as_deref()),
        (422, Some("settings.routing.fastest"))
    );
    let e = parse(json!({"shipping": {}})).unwrap_err();
    assert_eq!(e.field.as_deref(), Some("settings.shipping"));
    let e = ProcessUpdate::parse(&json!({"expectedVersion": 0, "settings": {}, "force": true}))
        .unwrap_err();
    assert_eq!((e.status, e.field.as_deref()), (422, Some("force")));
}

#[test]
fn an_update_names_the_version_it_read() {
    let u = ProcessUpdate::parse(
        &json!({"expectedVersion": 3, "settings": {"returns": {"windowDays": 30}}}),
    )
    .unwrap();
    assert_eq!(u.expected_version, 3);
    assert_eq!(u.settings.returns.window_days, 30);
    let e = ProcessUpdate::parse(&json!({"settings": {}})).unwrap_err();
    assert_eq!(e.field.as_deref(), Some("expectedVersion"));
    let e = ProcessUpdate::parse(&json!({"expectedVersion": "3", "settings": {}})).unwrap_err();
    assert_eq!(e.field.as_deref(), Some("expectedVersion"));
    let e = ProcessUpdate::parse(&json!({"expectedVersion": 3})).unwrap_err();
    assert_eq!(e.field.as_deref(), Some("settings"));
    let e = ProcessUpdate::parse(
        &json!({"expectedVersion": 3, "settings": {"returns": {"windowDays": -2}}}),
    )
    .unwrap_err();
    assert_eq!(e.field.as_deref(), Some("settings.returns.windowDays"));
    assert_eq!(ProcessUpdate::parse(&json!("x")).unwrap_err().status, 422);
}

#[test]
fn a_write_on_an_old_version_is_a_version_conflict() {
    let t0 = chrono::DateTime::parse_from_rfc3339("2026-12-01T10:00:00Z")
        .unwrap()
        .to_utc();
    let t1 = t0 + chrono::Duration::hours(1);
    let v0 = ProcessVersion::initial(t0);
    assert_eq!((v0.version, v0.settings), (0, ProcessSettings::default()));
    let update = |expected_version| ProcessUpdate {
        expected_version,
        settings: all_on(),
    };
    let v1 = v0.next(update(0), "admin-1", t1).unwrap();
    assert_eq!(
        (
            v1.version,
            v1.updated_by.as_str(),
            v1.updated_at,
            v1.settings
        ),
        (1, "admin-1", t1, all_on())
    );
    // A second writer who also read version 0 loses.
    let e = v1.next(update(0), "admin-2", t1).unwrap_err();
    assert_eq!((e.status, e.code), (409, ErrorCode::VersionConflict));
    assert!(
        e.body().contains(r#""code":"version_conflict""#),
        "{}",
        e.body()
    );
    assert_eq!(
        v1.next(update(2), "admin-2", t1).unwrap_err().code,
        ErrorCode::VersionConflict
    );
    assert_eq!(v1.next(update(1), "admin-2", t1).unwrap().version, 2);
    let written = serde_json::to_value(&v1).unwrap();
    assert_eq!(written["updatedBy"], "admin-1");
    assert_eq!(written["settings"]["backorders"]["maxDays"], 7);
}

fn is_task(k: &NodeKind) -> bool {
    matches!(k, NodeKind::Task(_))
}
fn is_send(k: &NodeKind) -> bool {
    matches!(k, NodeKind::Task(TaskKind::Send))
}
fn is_timer(k: &NodeKind) -> bool {
    matches!(k, NodeKind::Timer { .. })
}

/// Nodes reachable from `from` over the flows and from a host to its boundary events.
fn reachable(m: &ProcessModel, from: &str) -> std::collections::BTreeSet<&'static str> {
    let mut seen = std::collections::BTreeSet::new();
    let mut todo = vec![m.node(from).unwrap().id];
    while let Some(id) = todo.pop() {
        if !seen.insert(id) {
            continue;
        }
        todo.extend(m.flows.iter().filter(|f| f.source == id).map(|f| f.target));
        todo.extend(
            m.nodes
                .iter()
                .filter(
                    |n| matches!(n.kind, NodeKind::Timer { attached_to: Some(h), .. } if h == id),
                )
                .map(|n| n.id),
        );
    }
    seen
}

fn durations(m: &ProcessModel) -> Vec<(&'static str, String)> {
    m.nodes
        .iter()
        .filter_map(|n| match &n.kind {
            NodeKind::Timer { duration, .. } => Some((n.id, duration.clone())),
            _ => None,
        })
        .collect()
}

#[test]
fn with_everything_on_the_model_has_every_step() {
    let m = order_process(&all_on());
    assert_eq!(m.nodes.len(), 39);
    assert_eq!(m.count(is_task), 23);
    assert_eq!(m.count(is_send), 7);
    assert_eq!(m.count(is_timer), 5);
    assert_eq!(m.count(|k| matches!(k, NodeKind::Gateway)), 3);
    assert_eq!(m.count(|k| matches!(k, NodeKind::Start)), 2);
    assert_eq!(m.count(|k| matches!(k, NodeKind::End)), 6);
    // Every node lies on a way from one of the two starts.
    let mut all = reachable(&m, "Start_Order");
    all.extend(reachable(&m, "Start_Cancel"));
    assert_eq!(all.len(), m.nodes.len());
    // Every flow joins nodes that exist; ids are unique.
    for f in &m.flows {
        assert!(
            m.node(f.source).is_some() && m.node(f.target).is_some(),
            "{}",
            f.id
        );
    }
    let mut ids: Vec<&str> = m
        .nodes
        .iter()
        .map(|n| n.id)
        .chain(m.flows.iter().map(|f| f.id.as_str()))
        .collect();
    let n = ids.len();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), n);
}

#[test]
fn a_mail_switched_off_is_one_task_fewer_and_the_flow_goes_past_it() {
    for mail in [
        "orderConfirmation",
        "shipment",
        "delay",
        "returnAuthorized",
        "refund",
    ] {
        let s = parse(
            json!({"acceptance": {"rerouteIfSilentHours": 24}, "backorders": {"maxDays": 7},
                             "customerMails": {mail: false}}),
        )
        .unwrap();
        let (on, off) = (order_process(&all_on()), order_process(&s));
        assert_eq!(off.count(is_task), on.count(is_task) - 1, "{mail}");
        assert_eq!(off.count(is_send), on.count(is_send) - 1, "{mail}");
        assert_eq!(off.flows.len(), on.flows.len() - 1, "{mail}");
        let ends = reachable(&off, "Start_Order");
        for end in [
            "End_Refunded",
            "End_Escalated",
            "End_Complete",
            "End_BackorderCancelled",
        ] {
            assert!(ends.contains(end), "{mail}: {end} cut off");
        }
    }
    let m = order_process(&parse(json!({"customerMails": {"shipment": false}})).unwrap());
    assert!(m.node("Task_MailShipment").is_none());
    assert!(m
        .flows
        .iter()
        .any(|f| f.source == "Task_Invoice" && f.target == "Task_AwaitReturn"));
}

#[test]
fn timers_carry_their_durations_and_zero_means_absent() {
    let m = order_process(&all_on());
    assert_eq!(
        durations(&m),
        [
            ("Timer_Remind", "PT48H".to_string()),
            ("Timer_Escalate", "PT240M".to_string()),
            ("Timer_Silent", "PT24H".to_string()),
            ("Timer_ReturnWindow", "P14D".to_string()),
            ("Timer_Backorder", "P7D".to_string()),
        ]
    );
    let d = order_process(&ProcessSettings::default());
    assert_eq!(
        d.nodes.len(),
        39 - 6,
        "no silence timer, withdrawal, backorder timer, cancel, mail, end"
    );
    assert!(d.node("Timer_Silent").is_none() && d.node("Task_Withdraw").is_none());
    assert!(d.node("Timer_Backorder").is_none() && d.node("Task_WaitStock").is_some());
    let s = parse(
        json!({"escalation": {"remindFulfillerAfterHours": 12, "escalateToOpsAfterMinutes": 0},
                         "returns": {"windowDays": 30}}),
    )
    .unwrap();
    let m = order_process(&s);
    assert_eq!(
        durations(&m),
        [
            ("Timer_Remind", "PT12H".to_string()),
            ("Timer_ReturnWindow", "P30D".to_string())
        ]
    );
    // Escalation at once: straight from the reminder.
    assert!(m
        .flows
        .iter()
        .any(|f| f.source == "Task_Remind" && f.target == "Task_Escalate"));
    assert!(m
        .node("Timer_Remind")
        .is_some_and(|n| n.name.contains("PT12H")));
}

#[test]
fn the_settings_show_in_the_names() {
    let s = parse(
        json!({"routing": {"strategy": "priority", "preferOwnWarehouses": false},
                         "cancellation": {"customerMayCancelUntil": "accepted"}}),
    )
    .unwrap();
    let m = order_process(&s);
    assert_eq!(
        m.node("Task_Route").unwrap().name,
        "Route the order (priority)"
    );
    assert_eq!(
        m.node("Gateway_MayCancel").unwrap().name,
        "Not accepted by its fulfiller yet?"
    );
    let d = order_process(&ProcessSettings::default());
    assert_eq!(
        d.node("Task_Route").unwrap().name,
        "Route the order (fewest splits, own warehouses first)"
    );
}

#[test]
fn the_layout_places_every_node_without_overlap_left_to_right() {
    for s in [all_on(), ProcessSettings::default()] {
        let m = order_process(&s);
        let l = layout(&m);
        assert_eq!(l.shapes.len(), m.nodes.len());
        let hosts: Vec<_> = m
            .nodes
            .iter()
            .filter(|n| {
                !matches!(
                    n.kind,
                    NodeKind::Timer {
                        attached_to: Some(_),
                        ..
                    }
                )
            })
            .collect();
        for (i, a) in hosts.iter().enumerate() {
            for b in &hosts[i + 1..] {
                assert!(
                    !l.shapes[a.id].overlaps(&l.shapes[b.id]),
                    "{} overlaps {}",
                    a.id,
                    b.id
                );
            }
        }
        for n in &m.nodes {
            let b = l.shapes[n.id];
            assert!(
                b.x >= 0 && b.y >= 0 && b.x + b.width <= l.width && b.y + b.height <= l.height,
                "{}",
                n.id
            );
        }
        // The main way runs left to right.
        let x = |id: &str| l.shapes[id].x;
        assert!(x("Start_Order") < x("Task_Intake") && x("Task_Intake") < x("Task_Route"));
        assert!(x("Task_Fulfil") < x("Task_Invoice") && x("Task_Refund") < x("End_Refunded"));
        // Each flow starts on its source and ends on its target's left side, in straight
        // horizontal and vertical pieces.
        for (f, points) in m.flows.iter().zip(&l.edges) {
            assert!(points.len() >= 2, "{}", f.id);
            let t = l.shapes[f.target];
            assert_eq!(*points.last().unwrap(), (t.x, t.center().1), "{}", f.id);
            for w in points.windows(2) {
                assert!(
                    w[0].0 == w[1].0 || w[0].1 == w[1].1,
                    "{}: {:?}",
                    f.id,
                    points
                );
            }
        }
    }
}

/// The elements of the BPMN namespace, parsed back.
fn bpmn_doc(xml: &str) -> roxmltree::Document<'_> {
    roxmltree::Document::parse(xml).unwrap()
}

const BPMN: &str = "http://www.omg.org/spec/BPMN/20100524/MODEL";

#[test]
fn the_bpmn_is_well_formed_with_unique_ids_and_resolvable_references() {
    let m = order_process(&all_on());
    let xml = to_bpmn(&m);
    let doc = bpmn_doc(&xml);
    let root = doc.root_element();
    assert_eq!(
        (root.tag_name().namespace(), root.tag_name().name()),
        (Some(BPMN), "definitions")
    );
    let ids: Vec<&str> = doc
        .descendants()
        .filter_map(|n| n.attribute("id"))
        .collect();
    let unique: std::collections::BTreeSet<_> = ids.iter().copied().collect();
    assert_eq!(unique.len(), ids.len(), "duplicate ids");
    let process = doc
        .descendants()
        .find(|n| n.has_tag_name((BPMN, "process")))
        .unwrap();
    let flows: Vec<_> = process
        .children()
        .filter(|n| n.has_tag_name((BPMN, "sequenceFlow")))
        .collect();
    assert_eq!(flows.len(), m.flows.len());
    for f in &flows {
        for end in ["sourceRef", "targetRef"] {
            let r = f.attribute(end).unwrap();
            let target = doc
                .descendants()
                .find(|n| n.attribute("id") == Some(r))
                .unwrap();
            assert_eq!(target.parent(), Some(process), "{end} {r}");
        }
    }
    let nodes = process
        .children()
        .filter(|n| n.is_element() && !n.has_tag_name((BPMN, "sequenceFlow")))
        .count();
    assert_eq!(nodes, m.nodes.len());
    // Timers with their ISO 8601 durations, boundary ones on an existing activity.
    let durations: Vec<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name((BPMN, "timeDuration")))
        .filter_map(|n| n.text())
        .collect();
    assert_eq!(durations, ["PT48H", "PT240M", "PT24H", "P14D", "P7D"]);
    for b in process
        .children()
        .filter(|n| n.has_tag_name((BPMN, "boundaryEvent")))
    {
        let host = b.attribute("attachedToRef").unwrap();
        assert!(unique.contains(host));
    }
    let silent = process
        .children()
        .find(|n| n.attribute("id") == Some("Timer_Silent"))
        .unwrap();
    assert_eq!(silent.attribute("cancelActivity"), Some("true"));
    let remind = process
        .children()
        .find(|n| n.attribute("id") == Some("Timer_Remind"))
        .unwrap();
    assert_eq!(remind.attribute("cancelActivity"), Some("false"));
    // The diagram: a shape per node and an edge per flow, each naming its element.
    let di = "http://www.omg.org/spec/BPMN/20100524/DI";
    let shapes: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name((di, "BPMNShape")))
        .collect();
    let edges: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name((di, "BPMNEdge")))
        .collect();
    assert_eq!((shapes.len(), edges.len()), (m.nodes.len(), m.flows.len()));
    for e in shapes.iter().chain(&edges) {
        assert!(unique.contains(e.attribute("bpmnElement").unwrap()));
    }
}

#[test]
fn names_are_escaped_in_bpmn_and_svg() {
    let mut m = order_process(&ProcessSettings::default());
    m.nodes[1].name = r#"Tom & Jerry's <"order">"#.to_string();
    for xml in [to_bpmn(&m), to_svg(&m)] {
        let doc = bpmn_doc(&xml);
        // In the BPMN a name, in the SVG the words of a label over its lines.
        let text: Vec<&str> = doc
            .descendants()
            .filter(|n| n.is_element())
            .filter_map(|n| n.text())
            .collect();
        let found = doc
            .descendants()
            .any(|n| n.attribute("name") == Some(r#"Tom & Jerry's <"order">"#))
            || text.join(" ").contains(r#"Tom & Jerry's <"order">"#);
        assert!(found, "{xml}");
        assert!(!xml.contains("Tom & Jerry"));
    }
}

#[test]
fn the_svg_draws_the_same_layout() {
    let m = order_process(&all_on());
    let svg = to_svg(&m);
    let doc = bpmn_doc(&svg);
    let l = layout(&m);
    let svg_ns = "http://www.w3.org/2000/svg";
    assert_eq!(
        doc.root_element().attribute("width"),
        Some(l.width.to_string().as_str())
    );
    let rects: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name((svg_ns, "rect")) && n.attribute("id").is_some())
        .collect();
    assert_eq!(rects.len(), m.count(is_task));
    for r in rects {
        let b = l.shapes[r.attribute("id").unwrap()];
        assert_eq!(r.attribute("x"), Some(b.x.to_string().as_str()));
        assert_eq!(r.attribute("y"), Some(b.y.to_string().as_str()));
    }
    assert_eq!(
        doc.descendants()
            .filter(|n| n.has_tag_name((svg_ns, "polyline")))
            .count(),
        m.flows.len()
    );
    assert_eq!(
        doc.descendants()
            .filter(|n| n.has_tag_name((svg_ns, "polygon")))
            .count(),
        3
    );
    // Timers are labelled with their duration.
    let text: String = doc
        .descendants()
        .filter_map(|n| n.text())
        .collect::<Vec<_>>()
        .join(" ");
    for d in ["PT48H", "PT240M", "PT24H", "P14D", "P7D"] {
        assert!(text.contains(d), "{d}");
    }
}

#[test]
fn the_version_in_force_is_the_last_that_took_effect_at_or_before() {
    let t0 = chrono::DateTime::parse_from_rfc3339("2026-12-01T10:00:00Z")
        .unwrap()
        .to_utc();
    let hour = chrono::Duration::hours(1);
    let version = |n: u32, at, hours| {
        let mut v = ProcessVersion {
            version: n,
            updated_at: at,
            ..ProcessVersion::default()
        };
        v.settings.acceptance.reroute_if_silent_hours = hours;
        v
    };
    let versions = [version(1, t0, 24), version(2, t0 + hour * 2, 48)];
    let in_force = |at| in_force_at(&versions, at);
    assert_eq!(in_force(t0 - hour), ProcessVersion::default());
    assert_eq!(in_force(t0 - hour).version, 0);
    assert_eq!(in_force(t0), versions[0]);
    assert_eq!(in_force(t0 + hour), versions[0]);
    assert_eq!(in_force(t0 + hour * 2), versions[1]);
    assert_eq!(in_force(t0 + hour * 100), versions[1]);
    assert_eq!(in_force_at(&[], t0), ProcessVersion::default());
}
