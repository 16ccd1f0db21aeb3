//! The change feed's reads: a channel's orders by the stamp of their last write.
//! GSI byChannelUpdated (sparse: only order items carry `updatedKey`): channelId,
//! updatedKey = `<updatedAt, fixed width>#<id>`, KEYS_ONLY. An order is in it once, at its
//! latest write; a page reads the orders whole after it, strongly consistent, and lists each
//! one only as that write left it.

use super::super::{batch_get_consistent, decode_next_token, encode_next_token, s, Item, Page};
use super::{sort_time, Orders, UPDATED_KEY};
use anyhow::Context;
use dropship_core::change_feed::Window;
use dropship_core::order::Order;

/// The index of the change feed.
pub const INDEX: &str = "byChannelUpdated";

/// The bounds of `window` on the index's sort key (both included): "#~" sorts after every id
/// at the window's last microsecond.
fn key_bounds(window: &Window) -> (String, String) {
    (
        sort_time(window.since),
        format!("{}#~", sort_time(window.until)),
    )
}

/// The position a `nextToken` names in `channel`'s feed, if it is one: exactly the index's key
/// attributes of an order of this channel, within the bounds of the poll it continues (so a
/// token cannot be replayed against another channel, or with another `updatedSince`).
fn feed_position(token: &str, channel: &str, bounds: &(String, String)) -> Option<Item> {
    let key = decode_next_token(token)?;
    let text = |name: &str| key.get(name).and_then(|v| v.as_s().ok());
    let updated = text(UPDATED_KEY)?;
    // `<27 characters of time>#<id>`
    let id = updated
        .get(28..)
        .filter(|_| updated.get(27..28) == Some("#"))?;
    let fits = key.len() == 3
        && text("channelId")? == channel
        && *text("pk")? == format!("ORDER#{id}")
        && dropship_core::ids::is_valid_id(id)
        && bounds.0 <= *updated
        && *updated <= bounds.1;
    fits.then_some(key)
}

impl Orders {
    /// One page of `channel`'s orders changed within `window`, oldest change first, each with
    /// the `updated_at` of that change; `None` when `next_token` is not a position in this poll.
    /// An order written again since the index entry was read is left out of this page: it
    /// comes again later, at its new change (a page may so hold fewer than `limit`, or none).
    pub async fn changed(
        &self,
        channel: &str,
        window: &Window,
        limit: i32,
        next_token: Option<&str>,
    ) -> anyhow::Result<Option<Page<Order>>> {
        let bounds = key_bounds(window);
        let start = match next_token {
            Some(t) => match feed_position(t, channel, &bounds) {
                Some(k) => Some(k),
                None => return Ok(None),
            },
            None => None,
        };
        let page = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(INDEX)
            .key_condition_expression("channelId = :c AND #k BETWEEN :lo AND :hi")
            .expression_attribute_names("#k", UPDATED_KEY)
            .expression_attribute_values(":c", s(channel))
            .expression_attribute_values(":lo", s(&bounds.0))
            .expression_attribute_values(":hi", s(&bounds.1))
            .limit(limit)
            .set_exclusive_start_key(start)
            .send()
            .await
            .with_context(|| format!("listing the changed orders of {channel}"))?;
        let entries = page.items.unwrap_or_default();
        let keys: Vec<Item> = entries
            .iter()
            .filter_map(|e| Some(Item::from([("pk".to_string(), e.get("pk")?.clone())])))
            .collect();
        // Consistent: the order is at least as new as its index entry, never older.
        let mut found: std::collections::HashMap<String, Item> =
            batch_get_consistent(&self.client, &self.table, keys)
                .await?
                .into_iter()
                .filter_map(|i| Some((i.get("pk")?.as_s().ok()?.clone(), i)))
                .collect();
        let mut orders = Vec::new();
        for entry in &entries {
            let (Some(pk), Some(key)) = (
                entry.get("pk").and_then(|v| v.as_s().ok()),
                entry.get(UPDATED_KEY),
            ) else {
                continue;
            };
            let Some(item) = found.remove(pk) else {
                continue;
            };
            if item.get(UPDATED_KEY) != Some(key)
                || item
                    .get("channelId")
                    .and_then(|v| v.as_s().ok())
                    .map(String::as_str)
                    != Some(channel)
            {
                continue;
            }
            orders.push(super::super::from_item::<Order>(item)?);
        }
        Ok(Some(Page {
            items: orders,
            next_token: page.last_evaluated_key.as_ref().map(encode_next_token),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, Utc};

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().to_utc()
    }

    fn window() -> Window {
        Window {
            since: t("2026-03-01T10:00:00Z"),
            until: t("2026-03-01T11:00:00.5Z"),
        }
    }

    fn token(pairs: &[(&str, &str)]) -> String {
        encode_next_token(
            &pairs
                .iter()
                .map(|(k, v)| (k.to_string(), s(*v)))
                .collect::<Item>(),
        )
    }

    #[test]
    fn the_window_bounds_include_both_ends_to_the_microsecond() {
        let (lo, hi) = key_bounds(&window());
        assert_eq!(lo, "2026-03-01T10:00:00.000000Z");
        assert_eq!(hi, "2026-03-01T11:00:00.500000Z#~");
        for (key, inside) in [
            ("2026-03-01T10:00:00.000000Z#o-1", true),
            ("2026-03-01T09:59:59.999999Z#zz", false),
            ("2026-03-01T11:00:00.500000Z#ZZZ.z_9-", true),
            ("2026-03-01T11:00:00.500001Z#a", false),
        ] {
            assert_eq!(lo.as_str() <= key && key <= hi.as_str(), inside, "{key}");
        }
    }

    #[test]
    fn a_next_token_is_a_position_in_this_channels_poll_only() {
        let bounds = key_bounds(&window());
        let good = [
            ("pk", "ORDER#o-1"),
            ("channelId", "web-de"),
            ("updatedKey", "2026-03-01T10:30:00.000000Z#o-1"),
        ];
        assert!(feed_position(&token(&good), "web-de", &bounds).is_some());
        let mut refused: Vec<(String, String)> = vec![
            ("not base64 json".into(), "garbage".into()),
            (token(&good), "another channel's poll".into()),
        ];
        let variants: [(&str, &[(&str, &str)]); 6] = [
            (
                "another channel's position",
                &[
                    ("pk", "ORDER#o-1"),
                    ("channelId", "marketplace"),
                    ("updatedKey", "2026-03-01T10:30:00.000000Z#o-1"),
                ],
            ),
            (
                "before updatedSince",
                &[
                    ("pk", "ORDER#o-1"),
                    ("channelId", "web-de"),
                    ("updatedKey", "2026-03-01T09:30:00.000000Z#o-1"),
                ],
            ),
            (
                "after the window",
                &[
                    ("pk", "ORDER#o-1"),
                    ("channelId", "web-de"),
                    ("updatedKey", "2026-03-01T11:30:00.000000Z#o-1"),
                ],
            ),
            (
                "key of another order",
                &[
                    ("pk", "ORDER#o-2"),
                    ("channelId", "web-de"),
                    ("updatedKey", "2026-03-01T10:30:00.000000Z#o-1"),
                ],
            ),
            (
                "not an order's key",
                &[
                    ("pk", "ORDER#o-1"),
                    ("channelId", "web-de"),
                    ("updatedKey", "2026-03-01T10:30:00Z#o-1"),
                ],
            ),
            (
                "another list's token",
                &[("pk", "ORDER#o-1"), ("gsi1pk", "ORDERS"), ("gsi1sk", "x")],
            ),
        ];
        for (why, pairs) in variants {
            refused.push((token(pairs), why.into()));
        }
        let mut extra = good.to_vec();
        extra.push(("gsi1pk", "ORDERS"));
        refused.push((token(&extra), "more than the index's keys".into()));
        for (tok, why) in refused {
            let channel = if why == "another channel's poll" {
                "marketplace"
            } else {
                "web-de"
            };
            assert!(feed_position(&tok, channel, &bounds).is_none(), "{why}");
        }
    }
}
