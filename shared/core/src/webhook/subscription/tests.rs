use super::*;
use crate::ErrorCode;
use serde_json::json;

fn channel() -> Principal {
    Principal::Channel {
        id: ChannelId::try_from("web-de").unwrap(),
    }
}

fn fulfiller() -> Principal {
    Principal::Fulfiller {
        id: FulfillerId::try_from("acme").unwrap(),
    }
}

fn admin() -> Principal {
    Principal::Admin {
        name: "Erika".into(),
    }
}

fn put(caller: &Principal, body: Value) -> Result<SubscriptionRequest, ApiError> {
    validate("erp-1", caller, &body, false)
}

/// The field and message of a refusal, which must be a 422 validation_failed.
fn refused(r: Result<SubscriptionRequest, ApiError>) -> (String, String) {
    let e = r.unwrap_err();
    assert_eq!(
        (e.status, e.code),
        (422, ErrorCode::ValidationFailed),
        "{e:?}"
    );
    (e.field.unwrap_or_default(), e.message)
}

#[test]
fn a_channel_subscribes_itself_to_channel_events() {
    let r = put(
        &channel(),
        json!({"url": "https://erp.example.com/hooks", "events": ["order.shipped", "refund.issued", "order.shipped"]}),
    )
    .unwrap();
    assert_eq!(r.id, "erp-1");
    assert_eq!(r.subscriber.notation(), "channel:web-de");
    assert_eq!(r.target.url, "https://erp.example.com/hooks");
    assert_eq!(r.events, [EventType::OrderShipped, EventType::RefundIssued]);
    // Giving its own principal is the same request.
    let again = put(
        &channel(),
        json!({"url": "https://erp.example.com/hooks", "principal": "channel:web-de",
            "events": ["order.shipped", "refund.issued"]}),
    )
    .unwrap();
    assert_eq!(again, r);
}

#[test]
fn a_fulfiller_subscribes_to_fulfiller_events_only() {
    let r = put(
        &fulfiller(),
        json!({"url": "https://wms.acme.example/in", "events": ["delivery_order.created", "return.announced"]}),
    )
    .unwrap();
    assert_eq!(
        (r.subscriber.kind(), r.events.len()),
        (SubscriberKind::Fulfiller, 2)
    );
    let (field, message) = refused(put(
        &fulfiller(),
        json!({"url": "https://wms.acme.example/in", "events": ["delivery_order.created", "order.shipped"]}),
    ));
    assert_eq!(field, "events[1]");
    assert_eq!(
        message,
        "events[1] must be one of a fulfiller's events: delivery_order.created, \
         delivery_order.changed, delivery_order.cancelled, return.announced"
    );
    let (field, _) = refused(put(
        &channel(),
        json!({"url": "https://erp.example.com/h", "events": ["order.shipped", "delivery_order.created"]}),
    ));
    assert_eq!(field, "events[1]");
}

#[test]
fn admin_names_the_principal_and_nobody_else_names_another() {
    let body = |principal: Value| {
        json!({"url": "https://erp.example.com/h", "events": ["return.announced"],
            "principal": principal})
    };
    let r = put(&admin(), body(json!("fulfiller:acme"))).unwrap();
    assert_eq!(
        r.subscriber,
        Subscriber::Fulfiller("acme".try_into().unwrap())
    );
    assert!(r.subscriber.is_managed_by(&admin()));
    assert!(r.subscriber.is_managed_by(&fulfiller()));
    assert!(!r.subscriber.is_managed_by(&channel()));
    assert!(!r.subscriber.is_managed_by(&Principal::Fulfiller {
        id: "other".try_into().unwrap()
    }));

    let words = "principal must be channel:<channelId> or fulfiller:<fulfillerId>";
    for bad in [
        json!("admin"),
        json!("staff:1"),
        json!("channel:a b"),
        json!(5),
    ] {
        assert_eq!(
            refused(put(&admin(), body(bad.clone()))),
            ("principal".into(), words.into()),
            "{bad}"
        );
    }
    let e = put(
        &admin(),
        json!({"url": "https://erp.example.com/h", "events": ["order.shipped"]}),
    )
    .unwrap_err();
    assert_eq!(
        (e.field.as_deref(), e.message.as_str(), e.invalid),
        (
            Some("principal"),
            "principal is required",
            Some(crate::error::Invalid::Required)
        )
    );
    assert_eq!(
        refused(put(&fulfiller(), body(json!("fulfiller:other")))),
        (
            "principal".into(),
            "principal is given only by admin: leave it out or give your own (fulfiller:acme)"
                .into()
        )
    );
}

#[test]
fn events_must_be_a_non_empty_list_of_known_names() {
    let body = |events: Value| json!({"url": "https://erp.example.com/h", "events": events});
    for (events, field, message) in [
        (json!([]), "events", "events must name at least one event"),
        (
            json!("order.shipped"),
            "events",
            "events must be an array of event names",
        ),
        (
            json!({"a": 1}),
            "events",
            "events must be an array of event names",
        ),
        (json!(["order.shipped", "order.exploded"]), "events[1]", ""),
        (json!([7]), "events[0]", ""),
        (json!(["*"]), "events[0]", ""),
        (json!(["ORDER.SHIPPED"]), "events[0]", ""),
    ] {
        let (f, m) = refused(put(&channel(), body(events.clone())));
        assert_eq!(f, field, "{events}");
        if message.is_empty() {
            assert!(
                m.starts_with(&format!(
                    "{field} must be one of a channel's events: order.routed, "
                )),
                "{m}"
            );
        } else {
            assert_eq!(m, message);
        }
    }
    assert_eq!(
        refused(put(&channel(), json!({"url": "https://erp.example.com/h"}))),
        ("events".into(), "events is required".into())
    );
}

#[test]
fn the_url_is_required_and_must_pass_the_guard() {
    let body = |url: Value| json!({"url": url, "events": ["order.shipped"]});
    assert_eq!(
        refused(put(&channel(), json!({"events": ["order.shipped"]}))),
        ("url".into(), "url is required".into())
    );
    assert_eq!(
        refused(put(&channel(), body(json!(42)))),
        ("url".into(), "url must be a string".into())
    );
    for (url, message) in [
        ("http://erp.example.com/h", "url must use https"),
        ("not a url", "url must be an absolute https URL"),
        (
            "https://u:p@erp.example.com/",
            "url must not contain a user name or password",
        ),
        (
            "https://169.254.169.254/latest",
            "url's host is 169.254.169.254, in 169.254.0.0/16 (link-local, cloud metadata): \
             only public addresses are allowed",
        ),
        (
            "https://[fd00::1]/",
            "url's host is fd00::1, in fc00::/7 (unique-local): only public addresses are allowed",
        ),
    ] {
        assert_eq!(
            refused(put(&channel(), body(json!(url)))),
            ("url".into(), message.into()),
            "{url}"
        );
    }
    // The local stack's receiver, only with its setting.
    let local = json!({"url": "http://127.0.0.1:9900/h", "events": ["order.shipped"]});
    assert!(
        validate("erp-1", &channel(), &local, true)
            .unwrap()
            .target
            .plain_http
    );
    assert!(validate("erp-1", &channel(), &local, false).is_err());
}

#[test]
fn the_id_and_the_body_shape_are_checked_with_the_apis_words() {
    let body = json!({"url": "https://erp.example.com/h", "events": ["order.shipped"]});
    let e = validate("erp 1", &channel(), &body, false).unwrap_err();
    assert_eq!(
        (e.status, e.field.as_deref(), e.message.as_str()),
        (
            422,
            Some("subscriptionId"),
            "subscriptionId must match [A-Za-z0-9._-]{1,64}"
        )
    );
    assert_eq!(
        refused(put(&channel(), json!(["https://erp.example.com/h"]))),
        ("body".into(), "body must be an object".into())
    );
    let (field, _) = refused(put(
        &channel(),
        json!({"url": "https://erp.example.com/h", "events": ["order.shipped"], "secret": "x"}),
    ));
    assert_eq!(field, "secret");
}

#[test]
fn the_secret_is_shown_only_when_asked_and_kept_on_update() {
    let request = put(
        &channel(),
        json!({"url": "https://erp.example.com/h", "events": ["order.shipped"]}),
    )
    .unwrap();
    let secret = Secret::from_bytes(&[9; 32]).unwrap();
    let s = Subscription::new(request, secret.clone(), "g1".into());
    assert_eq!(
        s.view(false),
        json!({"id": "erp-1", "url": "https://erp.example.com/h", "events": ["order.shipped"],
            "principal": "channel:web-de"})
    );
    assert_eq!(s.view(true)["secret"], json!(secret.reveal()));
    assert!(s.wants(EventType::OrderShipped) && !s.wants(EventType::OrderRouted));
    assert!(!format!("{s:?}").contains(&secret.reveal()[6..]));
    // Kept as JSON and read back, the secret included.
    let stored = serde_json::to_value(&s).unwrap();
    assert_eq!(serde_json::from_value::<Subscription>(stored).unwrap(), s);

    let changed = put(
        &channel(),
        json!({"url": "https://erp2.example.com/h", "events": ["order.routed"]}),
    )
    .unwrap();
    let u = s.updated(changed).unwrap();
    assert_eq!(
        (u.url.as_str(), u.events.as_slice(), &u.secret),
        (
            "https://erp2.example.com/h",
            &[EventType::OrderRouted][..],
            &secret
        )
    );
    assert_eq!(u.generation, "g1", "a change is the same subscription");
    let moved = put(
        &admin(),
        json!({"url": "https://erp.example.com/h", "events": ["order.routed"],
            "principal": "channel:other"}),
    )
    .unwrap();
    let e = s.updated(moved).unwrap_err();
    assert_eq!((e.status, e.code), (409, ErrorCode::InvalidState));
}
