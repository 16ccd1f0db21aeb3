//! A scenario: the profile and the template with changes applied (the template read with the
//! scenario's parameters, quotas raised, template settings, cached configuration, keys spread
//! over shards sized for a target rate, warm throughput for it where the template sets none),
//! so that the figures show what is left after the recommendations.

use crate::model::{self, PerOrder};
use crate::profile::{Profile, Scenario};
use crate::template::Infra;

/// What a scenario sized from the load: shards per hot key (and the promoted sku), and warm
/// throughput (read, write units per second) per table and index.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Sized {
    pub shards: Vec<Shards>,
    pub warm: Vec<Warm>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Shards {
    /// A hot key of the profile, or `promoted sku`.
    pub key: String,
    pub shards: f64,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Warm {
    /// `Table` or `Table/index`.
    pub name: String,
    /// What the load at the scenario's rate needs, with its headroom.
    pub read_units_per_second: f64,
    pub write_units_per_second: f64,
    /// What the template sets (read with the scenario's parameters), which the scenario then
    /// models instead; a direction it leaves out is 0 (the on-demand baseline).
    pub template: Option<(f64, f64)>,
}

/// Rounded up to the next thousand, at least one thousand.
fn thousands(x: f64) -> f64 {
    ((x / 1000.0).ceil() * 1000.0).max(1000.0)
}

/// Shards one hot key needs at `rate` so that each stays within `target` of a key's limits.
fn shards_for(
    load: &PerOrder,
    profile: &Profile,
    name: &str,
    cycle: Option<f64>,
    rate: f64,
) -> f64 {
    let q = &profile.quotas;
    let target = profile.hot_sku.target_utilisation;
    let hot = load.hot_keys.get(name).cloned().unwrap_or_default();
    let mut n = model::shards_needed(rate, hot.write_units, q.partition_write_units, target).max(
        model::shards_needed(rate, hot.read_units, q.partition_read_units, target),
    );
    if let Some(cycle) = cycle {
        n = n.max(model::shards_needed(
            rate,
            hot.writes,
            1000.0 / cycle,
            target,
        ));
    }
    n
}

pub fn apply(
    profile: &Profile,
    infra: &Infra,
    s: &Scenario,
) -> Result<(Profile, Infra, Sized), String> {
    let mut p = profile.clone();
    let mut quotas = serde_json::to_value(&p.quotas).map_err(|e| format!("quotas: {e}"))?;
    for (name, value) in &s.quotas {
        match quotas.get_mut(name) {
            Some(v) => *v = (*value).into(),
            None => return Err(format!("scenario {}: no quota {name}", s.name)),
        }
    }
    p.quotas = serde_json::from_value(quotas).map_err(|e| format!("quotas: {e}"))?;
    for key in &s.cached_hot_keys {
        if !p.hot_keys.iter().any(|h| &h.name == key) {
            return Err(format!("scenario {}: no hot key {key}", s.name));
        }
    }
    let cached = |key: &Option<String>| key.as_ref().is_some_and(|k| s.cached_hot_keys.contains(k));
    for op in &mut p.operations {
        op.dynamodb
            .retain(|a| !(cached(&a.hot_key) && a.kind.is_read()));
    }
    p.hot_keys.retain(|h| !s.cached_hot_keys.contains(&h.name));

    let mut i = infra
        .with_parameters(&s.template_parameters)
        .map_err(|e| format!("scenario {}: {e}", s.name))?;
    if s.route_throttle.is_some() {
        i.route_throttle = s.route_throttle;
    }
    for (name, n) in &s.reserved_concurrency {
        let f = i.functions.iter_mut().find(|f| &f.binary == name);
        f.ok_or_else(|| format!("scenario {}: no function {name}", s.name))?
            .reserved_concurrency = Some(*n);
    }
    for (name, n) in &s.max_concurrency {
        let trigger = i
            .functions
            .iter_mut()
            .find(|f| &f.binary == name)
            .and_then(|f| f.queue.as_mut());
        trigger
            .ok_or_else(|| format!("scenario {}: no SQS-triggered function {name}", s.name))?
            .max_concurrency = Some(*n);
    }

    let load = model::per_order(&p, &i)?;
    let mut sized = Sized::default();
    let rate = s.sized_for;
    for h in &mut p.hot_keys {
        h.shards = shards_for(&load, profile, &h.name, h.serial_cycle_ms, rate);
        sized.shards.push(Shards {
            key: h.name.clone(),
            shards: h.shards,
        });
    }
    let sku = &mut p.hot_sku;
    sku.shards = model::shards_needed(
        rate * sku.share_of_orders,
        sku.write_units_per_reservation,
        p.quotas.partition_write_units,
        sku.target_utilisation,
    );
    sized.shards.push(Shards {
        key: "promoted sku".into(),
        shards: sku.shards,
    });
    for (key, t) in &load.tables {
        let (r, w) = (
            thousands(t.read_units * rate * s.warm_headroom),
            thousands(t.write_units * rate * s.warm_headroom),
        );
        // The template's own setting is what would be deployed: modelled as it is, so that a
        // value too low shows as a limit reached. The sized one stands in where it has none.
        let template = i.warm.get(key).copied();
        if template.is_none() {
            i.warm.insert(key.clone(), (r, w));
        }
        sized.warm.push(Warm {
            name: key.clone(),
            read_units_per_second: r,
            write_units_per_second: w,
            template,
        });
    }
    Ok((p, i, sized))
}
