//! DynamoDB repositories, one per table. Each file states the table's access patterns.
//! Items are mapped with serde (serde_dynamo) in one place: the domain types' serde shape.

pub mod aggregates;
pub mod alerts;
pub mod audit;
pub mod catalogue;
pub mod changes;
pub mod console_sessions;
pub mod delivery_orders;
pub mod holds;
pub mod idempotency;
pub mod invoices;
pub mod orders;
pub mod outbox;
pub mod portal_sessions;
pub mod returns;
pub mod sign_in_links;
pub mod stock;
pub mod tokens;
pub mod webhooks;

use anyhow::Context;
use aws_sdk_dynamodb::types::AttributeValue;
use std::collections::HashMap;

pub type Item = HashMap<String, AttributeValue>;

/// Serializes `value` into an item and adds the key attributes.
pub fn to_item<T: serde::Serialize>(value: &T, keys: &[(&str, &str)]) -> anyhow::Result<Item> {
    let mut item: Item =
        serde_dynamo::to_item(value).context("mapping a value to a DynamoDB item")?;
    for (k, v) in keys {
        item.insert((*k).to_string(), AttributeValue::S((*v).to_string()));
    }
    Ok(item)
}

pub fn from_item<T: serde::de::DeserializeOwned>(item: Item) -> anyhow::Result<T> {
    serde_dynamo::from_item(item).context("mapping a DynamoDB item to a value")
}

pub fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

pub fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

/// True when a write failed only because its condition did not hold.
pub fn is_condition_failure<E, R>(err: &aws_sdk_dynamodb::error::SdkError<E, R>) -> bool
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata,
{
    err.as_service_error()
        .and_then(|e| e.code())
        .is_some_and(|c| c == "ConditionalCheckFailedException")
}

/// The outcome of a conditional write: true when written, false when only its condition did
/// not hold, the error (with `what`) otherwise.
pub fn written<T, E>(
    res: Result<
        T,
        aws_sdk_dynamodb::error::SdkError<E, aws_sdk_dynamodb::config::http::HttpResponse>,
    >,
    what: &str,
) -> anyhow::Result<bool>
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match res {
        Ok(_) => Ok(true),
        Err(e) if is_condition_failure(&e) => Ok(false),
        Err(e) => Err(e).context(what.to_string()),
    }
}

/// True when the service answered with a 5xx status (retrying may help).
pub fn is_server_error<E>(
    err: &aws_sdk_dynamodb::error::SdkError<E, aws_sdk_dynamodb::config::http::HttpResponse>,
) -> bool {
    err.raw_response()
        .is_some_and(|r| r.status().is_server_error())
}

/// True when a transaction was cancelled because one of its conditions did not hold.
pub fn is_transaction_condition_failure(
    err: &aws_sdk_dynamodb::error::SdkError<
        aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError,
    >,
) -> Option<Vec<bool>> {
    match err.as_service_error() {
        Some(aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(e)) => Some(
            e.cancellation_reasons()
                .iter()
                .map(|r| r.code() == Some("ConditionalCheckFailed"))
                .collect(),
        ),
        _ => None,
    }
}

/// A transaction was cancelled only because a condition failed (what it read has moved since)
/// or it met another transaction on an item: worth reading and writing again. Any other reason
/// (a validation error, a throttled item) is an error.
pub fn is_retryable_transaction_failure(
    err: &aws_sdk_dynamodb::error::SdkError<
        aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError,
    >,
) -> bool {
    use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
    match err.as_service_error() {
        Some(TransactWriteItemsError::TransactionCanceledException(e)) => {
            let codes: Vec<&str> = e
                .cancellation_reasons()
                .iter()
                .filter_map(|r| r.code())
                .collect();
            codes.iter().any(|c| *c != "None")
                && codes.iter().all(|c| {
                    matches!(
                        *c,
                        "None" | "ConditionalCheckFailed" | "TransactionConflict"
                    )
                })
        }
        _ => false,
    }
}

/// Runs a query to its end, page by page, mapping every item.
pub async fn query_all<T: serde::de::DeserializeOwned>(
    query: aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder,
    what: &str,
) -> anyhow::Result<Vec<T>> {
    query_all_items(query, what)
        .await?
        .into_iter()
        .map(from_item)
        .collect()
}

/// Runs a query of a KEYS_ONLY or INCLUDE index to its end and reads the items behind it whole
/// (`key_names`: the table's key attributes; see `whole_items`), in the index's order.
pub async fn query_all_whole<T: serde::de::DeserializeOwned>(
    client: &aws_sdk_dynamodb::Client,
    query: aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder,
    key_names: &[&str],
    what: &str,
) -> anyhow::Result<Vec<T>> {
    let table = query.get_table_name().clone().unwrap_or_default();
    let keys = query_all_items(query, what).await?;
    whole_items(client, &table, key_names, keys)
        .await?
        .into_iter()
        .map(from_item)
        .collect()
}

/// Runs a query to its end, page by page, as raw items.
pub async fn query_all_items(
    query: aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder,
    what: &str,
) -> anyhow::Result<Vec<Item>> {
    let mut out = Vec::new();
    let mut start = None;
    loop {
        let page = query
            .clone()
            .set_exclusive_start_key(start)
            .send()
            .await
            .with_context(|| what.to_string())?;
        out.extend(page.items.unwrap_or_default());
        start = page.last_evaluated_key;
        if start.is_none() {
            return Ok(out);
        }
    }
}

/// The whole items behind what a KEYS_ONLY or INCLUDE index gave (`key_names`: the table's
/// key attributes), in the index's order: one BatchGetItem per 100. Such indexes are written
/// only when their key or projected attributes change, not on every update of the item.
pub async fn whole_items(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    key_names: &[&str],
    index_items: Vec<Item>,
) -> anyhow::Result<Vec<Item>> {
    let key_text = |item: &Item| -> String {
        key_names
            .iter()
            .map(|k| item.get(*k).and_then(|v| v.as_s().ok()).map_or("", |v| v))
            .collect::<Vec<_>>()
            .join("\u{1f}")
    };
    let order: Vec<String> = index_items.iter().map(key_text).collect();
    let mut seen = std::collections::HashSet::new();
    let keys: Vec<Item> = index_items
        .iter()
        .filter(|i| seen.insert(key_text(i)))
        .map(|i| {
            key_names
                .iter()
                .filter_map(|k| i.get(*k).map(|v| (k.to_string(), v.clone())))
                .collect()
        })
        .collect();
    let mut found: HashMap<String, Item> = batch_get(client, table, keys)
        .await?
        .into_iter()
        .map(|i| (key_text(&i), i))
        .collect();
    // An item deleted between the query and the read is simply not listed.
    Ok(order.iter().filter_map(|k| found.remove(k)).collect())
}

/// Reads many items by key with BatchGetItem: one call per 100 keys, retrying unprocessed keys.
pub async fn batch_get(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    keys: Vec<Item>,
) -> anyhow::Result<Vec<Item>> {
    let mut found = batch_get_tables(client, vec![(table.to_string(), keys)]).await?;
    Ok(found.remove(table).unwrap_or_default())
}

/// Reads items of several tables in shared BatchGetItem calls: one call per 100 keys in all
/// (not one per table), retrying unprocessed keys. Keys must be distinct within a table.
/// Returns what was found, by table.
pub async fn batch_get_tables(
    client: &aws_sdk_dynamodb::Client,
    requests: Vec<(String, Vec<Item>)>,
) -> anyhow::Result<std::collections::HashMap<String, Vec<Item>>> {
    batch_get_reads(client, requests, false).await
}

/// `batch_get` with strongly consistent reads (what was written just before is seen).
pub async fn batch_get_consistent(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    keys: Vec<Item>,
) -> anyhow::Result<Vec<Item>> {
    let mut found = batch_get_reads(client, vec![(table.to_string(), keys)], true).await?;
    Ok(found.remove(table).unwrap_or_default())
}

async fn batch_get_reads(
    client: &aws_sdk_dynamodb::Client,
    requests: Vec<(String, Vec<Item>)>,
    consistent: bool,
) -> anyhow::Result<std::collections::HashMap<String, Vec<Item>>> {
    use aws_sdk_dynamodb::types::KeysAndAttributes;
    let mut out: HashMap<String, Vec<Item>> = HashMap::new();
    let all: Vec<(String, Item)> = requests
        .into_iter()
        .flat_map(|(table, keys)| keys.into_iter().map(move |k| (table.clone(), k)))
        .collect();
    for chunk in all.chunks(100) {
        let mut by_table: HashMap<String, Vec<Item>> = HashMap::new();
        for (table, key) in chunk {
            by_table.entry(table.clone()).or_default().push(key.clone());
        }
        let mut pending = Some(
            by_table
                .into_iter()
                .map(|(table, keys)| {
                    KeysAndAttributes::builder()
                        .set_keys(Some(keys))
                        .consistent_read(consistent)
                        .build()
                        .map(|k| (table, k))
                        .context("batch keys")
                })
                .collect::<anyhow::Result<HashMap<_, _>>>()?,
        );
        let mut attempts = 0;
        while let Some(request) = pending.take() {
            attempts += 1;
            let tables: Vec<String> = request.keys().cloned().collect();
            let resp = client
                .batch_get_item()
                .set_request_items(Some(request))
                .send()
                .await
                .with_context(|| format!("BatchGetItem on {}", tables.join(", ")))?;
            for (table, items) in resp.responses().into_iter().flatten() {
                out.entry(table.clone())
                    .or_default()
                    .extend(items.iter().cloned());
            }
            pending = resp
                .unprocessed_keys()
                .map(|u| {
                    u.iter()
                        .filter(|(_, k)| !k.keys().is_empty())
                        .map(|(t, k)| (t.clone(), k.clone()))
                        .collect::<HashMap<_, _>>()
                })
                .filter(|u| !u.is_empty());
            if pending.is_some() {
                anyhow::ensure!(
                    attempts < 8,
                    "BatchGetItem on {} kept leaving keys unprocessed",
                    tables.join(", ")
                );
                tokio::time::sleep(std::time::Duration::from_millis(25 << attempts)).await;
            }
        }
    }
    Ok(out)
}

/// One page of a list: its items and the token of the next page (absent at the end).
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_token: Option<String>,
}

/// One page of a fulfiller's items from a table's `byFulfiller` index, oldest first, optionally
/// of one exact status; `None` for a next token that is not ours.
/// `whole`: the table's key attributes when the index holds only keys (and status), so the
/// page's items are then read whole; None when the index projects every attribute.
#[allow(clippy::too_many_arguments)]
pub async fn fulfiller_page<T: serde::de::DeserializeOwned>(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    whole: Option<&[&str]>,
    fulfiller_id: &dropship_core::ids::FulfillerId,
    status: Option<&str>,
    limit: i32,
    next_token: Option<&str>,
) -> anyhow::Result<Option<Page<T>>> {
    let start = match next_token {
        Some(t) => match decode_next_token(t) {
            Some(k) => Some(k),
            None => return Ok(None),
        },
        None => None,
    };
    let mut q = client
        .query()
        .table_name(table)
        .index_name("byFulfiller")
        .key_condition_expression("fulfillerId = :f")
        .expression_attribute_values(":f", s(fulfiller_id.as_str()))
        .limit(limit)
        .set_exclusive_start_key(start);
    if let Some(st) = status {
        q = q
            .filter_expression("#st = :st")
            .expression_attribute_names("#st", "status")
            .expression_attribute_values(":st", s(st));
    }
    let page = q
        .send()
        .await
        .with_context(|| format!("listing {table} of {fulfiller_id}"))?;
    let mut items = page.items.unwrap_or_default();
    if let Some(key_names) = whole {
        items = whole_items(client, table, key_names, items).await?;
    }
    let items = items
        .into_iter()
        .map(from_item)
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(Some(Page {
        items,
        next_token: page.last_evaluated_key.as_ref().map(encode_next_token),
    }))
}

/// A list's `nextToken`: the opaque, URL-safe form of DynamoDB's LastEvaluatedKey.
pub fn encode_next_token(key: &Item) -> String {
    use base64::Engine;
    let plain: std::collections::BTreeMap<&str, &str> = key
        .iter()
        .filter_map(|(k, v)| v.as_s().ok().map(|s| (k.as_str(), s.as_str())))
        .collect();
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(serde_json::to_vec(&plain).unwrap_or_default())
}

/// The key back from a `nextToken` of a query on one partition (`pk` = `partition`, any
/// non-empty `sk`); None for anything else, which DynamoDB would refuse as a start key (a 500)
/// or which would start another partition's listing.
pub fn decode_partition_token(token: &str, partition: &str) -> Option<Item> {
    let key = decode_next_token(token)?;
    let is = |name: &str, ok: &dyn Fn(&str) -> bool| {
        key.get(name)
            .and_then(|v| v.as_s().ok())
            .is_some_and(|v| ok(v))
    };
    (key.len() == 2 && is("pk", &|v| v == partition) && is("sk", &|v| !v.is_empty())).then_some(key)
}

/// The key back from a `nextToken`; None when the token is not one of ours.
pub fn decode_next_token(token: &str) -> Option<Item> {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .ok()?;
    let plain: std::collections::BTreeMap<String, String> = serde_json::from_slice(&bytes).ok()?;
    Some(
        plain
            .into_iter()
            .map(|(k, v)| (k, AttributeValue::S(v)))
            .collect(),
    )
}

/// How many reads one filtered page may take before it answers short (with a `nextToken`).
const FILTERED_PAGE_READS: usize = 5;

/// One page of up to `limit` items that `keep` takes, read from a Query or Scan (`fetch`: one
/// read of at most `limit` items from the given start key, answering the items and
/// DynamoDB's LastEvaluatedKey). A filter applied after the read may leave a read short, so
/// further reads follow (at most `FILTERED_PAGE_READS`); the page's `nextToken` is the key
/// (`key_names`) of its last item while more may follow, DynamoDB's own position when the
/// reads ran out first, and absent only at the end of the table or partition.
pub async fn filtered_page<T, Fut>(
    limit: usize,
    mut start: Option<Item>,
    key_names: &[&str],
    mut fetch: impl FnMut(Option<Item>, i32) -> Fut,
    mut keep: impl FnMut(Item) -> anyhow::Result<Option<T>>,
) -> anyhow::Result<Page<T>>
where
    Fut: std::future::Future<Output = anyhow::Result<(Vec<Item>, Option<Item>)>>,
{
    let limit = limit.max(1);
    let read_limit = i32::try_from(limit).unwrap_or(i32::MAX);
    let mut items = Vec::new();
    for _ in 0..FILTERED_PAGE_READS {
        let (read, last) = fetch(start.take(), read_limit).await?;
        let count = read.len();
        for (i, item) in read.into_iter().enumerate() {
            let key: Item = key_names
                .iter()
                .filter_map(|k| item.get(*k).map(|v| ((*k).to_string(), v.clone())))
                .collect();
            if let Some(v) = keep(item)? {
                items.push(v);
                if items.len() == limit {
                    let more = i + 1 < count || last.is_some();
                    return Ok(Page {
                        items,
                        next_token: more.then(|| encode_next_token(&key)),
                    });
                }
            }
        }
        match last {
            Some(k) => start = Some(k),
            None => {
                return Ok(Page {
                    items,
                    next_token: None,
                })
            }
        }
    }
    Ok(Page {
        items,
        next_token: start.as_ref().map(encode_next_token),
    })
}

#[cfg(test)]
mod page_tests {
    use super::*;

    /// One read: its items and DynamoDB's LastEvaluatedKey.
    type Read = anyhow::Result<(Vec<Item>, Option<Item>)>;

    /// A partition of `n` items `sk` "000".."n-1" read `limit` at a time, as DynamoDB would.
    fn partition(n: usize) -> impl FnMut(Option<Item>, i32) -> std::future::Ready<Read> {
        move |start, limit| {
            let after = start
                .and_then(|k| k.get("sk").and_then(|v| v.as_s().ok()).cloned())
                .and_then(|s| s.parse::<usize>().ok());
            let first = after.map_or(0, |a| a + 1);
            let end = (first + usize::try_from(limit).unwrap()).min(n);
            let items: Vec<Item> = (first..end)
                .map(|i| {
                    Item::from([
                        ("pk".to_string(), s("K")),
                        ("sk".to_string(), s(format!("{i:03}"))),
                    ])
                })
                .collect();
            let last = (end < n || usize::try_from(limit).unwrap() == end - first)
                .then(|| items.last().cloned())
                .flatten();
            std::future::ready(Ok((items, last)))
        }
    }

    fn sk(item: Item) -> anyhow::Result<Option<usize>> {
        Ok(item
            .get("sk")
            .and_then(|v| v.as_s().ok())
            .and_then(|s| s.parse().ok()))
    }

    /// Walks every page; answers the items and the number of pages.
    async fn walk(
        n: usize,
        limit: usize,
        keep: impl Fn(usize) -> bool + Copy,
    ) -> (Vec<usize>, usize) {
        let (mut all, mut pages, mut token): (Vec<usize>, usize, Option<String>) =
            (Vec::new(), 0, None);
        loop {
            let start = token.as_deref().map(|t| decode_next_token(t).unwrap());
            let page = filtered_page(limit, start, &["pk", "sk"], partition(n), |i| {
                Ok(sk(i)?.filter(|v| keep(*v)))
            })
            .await
            .unwrap();
            assert!(page.items.len() <= limit);
            all.extend(page.items);
            pages += 1;
            match page.next_token {
                Some(t) => token = Some(t),
                None => return (all, pages),
            }
        }
    }

    #[tokio::test]
    async fn pages_walk_every_item_once() {
        let (all, pages) = walk(7, 3, |_| true).await;
        assert_eq!(all, (0..7).collect::<Vec<_>>());
        assert_eq!(pages, 3);
        let (all, _) = walk(6, 1, |_| true).await;
        assert_eq!(all, (0..6).collect::<Vec<_>>());
    }

    #[tokio::test]
    async fn a_filter_fills_pages_from_further_reads_and_never_loses_an_item() {
        let (all, _) = walk(40, 2, |v| v % 7 == 0).await;
        assert_eq!(all, [0, 7, 14, 21, 28, 35]);
        // Nothing matches in the first reads: a short (empty) page still says more may follow.
        let page = filtered_page(2, None, &["pk", "sk"], partition(100), |i| {
            Ok(sk(i)?.filter(|v| *v >= 90))
        })
        .await
        .unwrap();
        assert!(page.items.is_empty() && page.next_token.is_some());
        let (all, _) = walk(100, 2, |v| v >= 90).await;
        assert_eq!(all, (90..100).collect::<Vec<_>>());
    }
}

#[cfg(test)]
mod token_tests {
    use super::*;

    #[test]
    fn a_partitions_token_is_only_that_partitions_key() {
        let key = |pairs: &[(&str, &str)]| -> Item {
            pairs.iter().map(|(k, v)| (k.to_string(), s(*v))).collect()
        };
        let ok = encode_next_token(&key(&[("pk", "STAFF"), ("sk", "anna")]));
        assert!(decode_partition_token(&ok, "STAFF").is_some());
        assert!(decode_partition_token(&ok, "PROCESS").is_none());
        for bad in [
            key(&[("pk", "STAFF")]),
            key(&[("pk", "STAFF"), ("sk", "")]),
            key(&[("pk", "STAFF"), ("sk", "a"), ("x", "y")]),
            key(&[("id", "STAFF"), ("sk", "a")]),
        ] {
            assert!(decode_partition_token(&encode_next_token(&bad), "STAFF").is_none());
        }
        assert!(decode_partition_token("%%%", "STAFF").is_none());
    }
}
