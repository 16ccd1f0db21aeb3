//! `PUT /webhooks/{subscriptionId}` `{url, events, principal?}`: who subscribes (the caller
//! itself, or the `principal` an admin names), where to (a url the guard accepts) and to what
//! (events of that subscriber's kind). And the subscription as kept and shown.

use super::event::{EventType, SubscriberKind};
use super::guard::{check_url, Target};
use super::signature::Secret;
use crate::ids::{ChannelId, FulfillerId, SubscriptionId};
use crate::input::{self, Lax, List, Object};
use crate::{ApiError, Principal};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

/// Who a subscription delivers to: a channel about its orders, a fulfiller about its delivery
/// orders. Written in docs/api.md's principal notation (`channel:web-de`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Subscriber {
    Channel(ChannelId),
    Fulfiller(FulfillerId),
}

impl Subscriber {
    /// A principal that can subscribe: a channel or a fulfiller, never admin.
    pub fn of(principal: &Principal) -> Option<Self> {
        match principal {
            Principal::Channel { id } => Some(Self::Channel(id.clone())),
            Principal::Fulfiller { id } => Some(Self::Fulfiller(id.clone())),
            Principal::Admin { .. } | Principal::Staff { .. } => None,
        }
    }

    /// `channel:<id>` or `fulfiller:<id>`.
    pub fn parse(s: &str) -> Option<Self> {
        Principal::parse(s, None).as_ref().and_then(Self::of)
    }

    pub fn notation(&self) -> String {
        match self {
            Self::Channel(id) => format!("channel:{id}"),
            Self::Fulfiller(id) => format!("fulfiller:{id}"),
        }
    }

    pub fn kind(&self) -> SubscriberKind {
        match self {
            Self::Channel(_) => SubscriberKind::Channel,
            Self::Fulfiller(_) => SubscriberKind::Fulfiller,
        }
    }

    /// True when `caller` may read, change, delete and retry this subscriber's subscriptions:
    /// admin and the subscriber itself. Anyone else gets the 404 of someone else's resource.
    pub fn is_managed_by(&self, caller: &Principal) -> bool {
        matches!(caller, Principal::Admin { .. }) || Self::of(caller).as_ref() == Some(self)
    }
}

impl Serialize for Subscriber {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.notation())
    }
}

impl<'de> Deserialize<'de> for Subscriber {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).ok_or_else(|| serde::de::Error::custom(PRINCIPAL_WORDS))
    }
}

const PRINCIPAL_WORDS: &str = "principal must be channel:<channelId> or fulfiller:<fulfillerId>";

/// The body as given; every check words its own refusal (`validate`).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Body {
    url: Option<Lax<String>>,
    events: Option<List<Lax<String>>>,
    principal: Option<Lax<String>>,
}

/// A subscription as a valid `PUT` asks for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionRequest {
    pub id: SubscriptionId,
    pub subscriber: Subscriber,
    pub target: Target,
    /// In the order given, each once.
    pub events: Vec<EventType>,
}

/// Checks `PUT /webhooks/{subscription_id}` by `caller` with `body`. A channel or fulfiller
/// subscribes itself (giving `principal` only as its own); admin names the `principal`. The
/// url passes `check_url` (the caller then resolves its host and checks the addresses);
/// `allow_local_http` is the local stack's setting. Each refusal is a 422 naming its field.
pub fn validate(
    subscription_id: &str,
    caller: &Principal,
    body: &Value,
    allow_local_http: bool,
) -> Result<SubscriptionRequest, ApiError> {
    let id = SubscriptionId::parse("subscriptionId", subscription_id)?;
    let Object(body) = input::read::<Object<Body>>(body)?;
    let subscriber = subscriber(caller, body.principal)?;
    let url = match body.url {
        None => return Err(input::required("url")),
        Some(Lax(None)) => return Err(input::not_a_string("url")),
        Some(Lax(Some(url))) => url,
    };
    let target = check_url(&url, allow_local_http).map_err(|r| r.to_api_error())?;
    let events = events(subscriber.kind(), body.events)?;
    Ok(SubscriptionRequest {
        id,
        subscriber,
        target,
        events,
    })
}

fn subscriber(caller: &Principal, given: Option<Lax<String>>) -> Result<Subscriber, ApiError> {
    let named = given
        .map(|Lax(s)| {
            s.as_deref()
                .and_then(Subscriber::parse)
                .ok_or_else(|| ApiError::invalid("principal", PRINCIPAL_WORDS))
        })
        .transpose()?;
    match (Subscriber::of(caller), named) {
        (None, Some(named)) => Ok(named),
        (None, None) => Err(input::required("principal")),
        (Some(own), None) => Ok(own),
        (Some(own), Some(named)) if named == own => Ok(own),
        (Some(own), Some(_)) => Err(ApiError::invalid(
            "principal",
            format!(
                "principal is given only by admin: leave it out or give your own ({})",
                own.notation()
            ),
        )),
    }
}

fn events(
    kind: SubscriberKind,
    given: Option<List<Lax<String>>>,
) -> Result<Vec<EventType>, ApiError> {
    let names = match given {
        None => return Err(input::required("events")),
        Some(List(None)) => {
            return Err(ApiError::invalid(
                "events",
                "events must be an array of event names",
            ))
        }
        Some(List(Some(names))) => names,
    };
    if names.is_empty() {
        return Err(ApiError::invalid(
            "events",
            "events must name at least one event",
        ));
    }
    let allowed = || {
        EventType::all_of(kind)
            .iter()
            .map(|e| e.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let who = match kind {
        SubscriberKind::Channel => "a channel",
        SubscriberKind::Fulfiller => "a fulfiller",
    };
    let mut out = Vec::with_capacity(names.len());
    for (i, Lax(name)) in names.into_iter().enumerate() {
        let field = format!("events[{i}]");
        let event = name
            .as_deref()
            .and_then(|n| EventType::parse(kind, n))
            .ok_or_else(|| {
                ApiError::invalid(
                    &field,
                    format!("{field} must be one of {who}'s events: {}", allowed()),
                )
            })?;
        // The same event twice asks for nothing more: kept once.
        if !out.contains(&event) {
            out.push(event);
        }
    }
    Ok(out)
}

/// A subscription as kept. The secret signs its deliveries; `view` shows it only when asked
/// (the answer that created it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Subscription {
    pub id: SubscriptionId,
    pub principal: Subscriber,
    pub url: String,
    pub events: Vec<EventType>,
    pub secret: Secret,
    /// Which subscription of this id it is: drawn at creation and kept by every change, so the
    /// deliveries made for a deleted subscription never go to (or show in the log of) a later
    /// one that took the same id, perhaps another principal's.
    #[serde(default)]
    pub generation: String,
}

impl Subscription {
    /// A new subscription of `request`, signing with `secret` (from the caller's random bytes),
    /// `generation` a fresh random id.
    pub fn new(request: SubscriptionRequest, secret: Secret, generation: String) -> Self {
        Self {
            id: request.id,
            principal: request.subscriber,
            url: request.target.url,
            events: request.events,
            secret,
            generation,
        }
    }

    /// The same subscription changed by a `PUT` on it: url and events replaced, the secret kept
    /// (a subscriber's receiver keeps verifying while it updates its subscription). The caller
    /// answers 404 before this when the subscription is not the caller's (`is_managed_by`); an
    /// admin naming another principal gets 409 invalid_state, since the deliveries already made
    /// belong to the first one.
    pub fn updated(&self, request: SubscriptionRequest) -> Result<Self, ApiError> {
        if request.subscriber != self.principal {
            return Err(ApiError::conflict(
                crate::ErrorCode::InvalidState,
                format!(
                    "subscription {} belongs to {}: delete it to subscribe another principal",
                    self.id,
                    self.principal.notation()
                ),
            ));
        }
        Ok(Self::new(
            request,
            self.secret.clone(),
            self.generation.clone(),
        ))
    }

    /// True when it wants `event`.
    pub fn wants(&self, event: EventType) -> bool {
        self.events.contains(&event)
    }

    /// `{id, url, events, principal}`, and `secret` when `with_secret`.
    pub fn view(&self, with_secret: bool) -> Value {
        let mut v = serde_json::json!({
            "id": self.id,
            "url": self.url,
            "events": self.events,
            "principal": self.principal,
        });
        if with_secret {
            v["secret"] = Value::String(self.secret.reveal());
        }
        v
    }
}

#[cfg(test)]
mod tests;
