//! DynamoDB on-demand capacity units, estimated from the items a call reads or writes, for
//! the cost model (`PUT /_local/calls {"capacity": true}`). The emulator reports no real
//! consumed capacity, so the proxy applies DynamoDB's published rules itself: item size =
//! attribute names + values; a read unit covers 4 KB (half for an eventually consistent read),
//! a write unit 1 KB; transactions cost double; a write also writes every global secondary
//! index whose keys the old or new item carries (twice when the index key changes).
//!
//! Writes need the item as it was (and, for updates, as it became), so in this mode the proxy
//! reads those items straight from the emulator around the call; that extra work is why the
//! mode is separate from timing measurements.

use std::collections::HashMap;

use serde_json::{json, Map, Value};

use crate::instrument::Instrument;

/// One global secondary index: its key attributes and what it projects.
#[derive(Debug, Clone)]
pub struct Gsi {
    pub keys: Vec<String>,
    pub projection: Projection,
}

#[derive(Debug, Clone)]
pub enum Projection {
    All,
    KeysOnly,
    Include(Vec<String>),
}

#[derive(Debug, Clone)]
pub struct TableInfo {
    pub keys: Vec<String>,
    pub gsis: Vec<Gsi>,
}

impl TableInfo {
    pub fn from_describe(v: &Value) -> Option<TableInfo> {
        let t = v.get("Table")?;
        let key_names = |schema: &Value| -> Vec<String> {
            schema
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|k| k.get("AttributeName")?.as_str().map(str::to_string))
                .collect()
        };
        let keys = key_names(t.get("KeySchema")?);
        let gsis = t
            .get("GlobalSecondaryIndexes")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|g| {
                let projection = match g
                    .pointer("/Projection/ProjectionType")
                    .and_then(Value::as_str)
                {
                    Some("KEYS_ONLY") => Projection::KeysOnly,
                    Some("INCLUDE") => Projection::Include(
                        g.pointer("/Projection/NonKeyAttributes")
                            .and_then(Value::as_array)
                            .into_iter()
                            .flatten()
                            .filter_map(|a| a.as_str().map(str::to_string))
                            .collect(),
                    ),
                    _ => Projection::All,
                };
                Gsi {
                    keys: key_names(g.get("KeySchema").unwrap_or(&Value::Null)),
                    projection,
                }
            })
            .collect();
        Some(TableInfo { keys, gsis })
    }
}

/// The size DynamoDB bills for one attribute value (`{"S": "..."}` etc.).
pub fn value_size(v: &Value) -> usize {
    let Some((ty, inner)) = v.as_object().and_then(|o| o.iter().next()) else {
        return 0;
    };
    match (ty.as_str(), inner) {
        ("S", Value::String(s)) => s.len(),
        ("N", Value::String(n)) => number_size(n),
        ("B", Value::String(b)) => base64_len(b),
        ("BOOL", _) | ("NULL", _) => 1,
        ("SS", Value::Array(a)) => a.iter().filter_map(Value::as_str).map(str::len).sum(),
        ("NS", Value::Array(a)) => a.iter().filter_map(Value::as_str).map(number_size).sum(),
        ("BS", Value::Array(a)) => a.iter().filter_map(Value::as_str).map(base64_len).sum(),
        ("L", Value::Array(a)) => 3 + a.iter().map(|e| value_size(e) + 1).sum::<usize>(),
        ("M", Value::Object(m)) => {
            3 + m
                .iter()
                .map(|(k, e)| k.len() + value_size(e) + 1)
                .sum::<usize>()
        }
        _ => 0,
    }
}

/// Numbers take about one byte per two significant digits, plus one.
fn number_size(n: &str) -> usize {
    let digits: String = n.chars().filter(char::is_ascii_digit).collect();
    let significant = digits.trim_start_matches('0').trim_end_matches('0').len();
    (significant.div_ceil(2) + 1).min(21)
}

fn base64_len(b: &str) -> usize {
    let pad = b.chars().rev().take_while(|c| *c == '=').count();
    (b.len() * 3 / 4).saturating_sub(pad)
}

pub fn item_size(item: &Map<String, Value>) -> usize {
    item.iter().map(|(k, v)| k.len() + value_size(v)).sum()
}

/// The attributes of `item` that the index holds.
fn projected<'a>(
    item: &'a Map<String, Value>,
    table: &TableInfo,
    gsi: &Gsi,
) -> Vec<(&'a String, &'a Value)> {
    let keep = |name: &str| {
        table.keys.iter().any(|k| k == name)
            || gsi.keys.iter().any(|k| k == name)
            || match &gsi.projection {
                Projection::All => true,
                Projection::KeysOnly => false,
                Projection::Include(extra) => extra.iter().any(|e| e == name),
            }
    };
    item.iter().filter(|(k, _)| keep(k)).collect()
}

fn projected_size(item: &Map<String, Value>, table: &TableInfo, gsi: &Gsi) -> usize {
    projected(item, table, gsi)
        .into_iter()
        .map(|(k, v)| k.len() + value_size(v))
        .sum()
}

pub fn read_units(size: usize, consistent: bool) -> f64 {
    let units = size.div_ceil(4096).max(1) as f64;
    if consistent {
        units
    } else {
        units / 2.0
    }
}

pub fn write_units(size: usize) -> f64 {
    size.div_ceil(1024).max(1) as f64
}

/// The write units a change of one item costs on the table's indexes.
pub fn index_write_units(
    table: &TableInfo,
    old: Option<&Map<String, Value>>,
    new: Option<&Map<String, Value>>,
) -> f64 {
    let mut units = 0.0;
    for gsi in &table.gsis {
        let key_of = |item: Option<&Map<String, Value>>| -> Option<Vec<Value>> {
            let item = item?;
            gsi.keys.iter().map(|k| item.get(k).cloned()).collect()
        };
        let (old_key, new_key) = (key_of(old), key_of(new));
        let size = |item: Option<&Map<String, Value>>| {
            item.map(|i| write_units(projected_size(i, table, gsi)))
                .unwrap_or(0.0)
        };
        units += match (&old_key, &new_key) {
            (None, None) => 0.0,
            (Some(_), None) => size(old),
            (None, Some(_)) => size(new),
            // An update that leaves the index's key and projected attributes as they were
            // does not write the index ("no write to the index" in DynamoDB's GSI docs).
            (Some(a), Some(b)) if a == b => match (old, new) {
                (Some(o), Some(n)) if projected(o, table, gsi) == projected(n, table, gsi) => 0.0,
                _ => size(new),
            },
            (Some(_), Some(_)) => size(old) + size(new),
        };
    }
    units
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum WriteKind {
    Put,
    Update,
    Delete,
    Check,
}

/// One item a write call touches, with its image before the call.
struct Target {
    table: String,
    key: Map<String, Value>,
    kind: WriteKind,
    put_item: Option<Map<String, Value>>,
    transactional: bool,
    old: Option<Map<String, Value>>,
}

/// What the proxy prepared before forwarding a DynamoDB call.
#[derive(Default)]
pub struct Plan {
    targets: Vec<Target>,
}

fn obj(v: Option<&Value>) -> Option<Map<String, Value>> {
    v.and_then(Value::as_object).cloned()
}

fn key_from_item(item: &Map<String, Value>, info: &TableInfo) -> Map<String, Value> {
    info.keys
        .iter()
        .filter_map(|k| item.get(k).map(|v| (k.clone(), v.clone())))
        .collect()
}

impl Instrument {
    async fn table_info(&self, table: &str) -> Option<TableInfo> {
        if let Some(t) = self.tables_cache().get(table) {
            return Some(t.clone());
        }
        let described = self
            .dynamodb("DescribeTable", &json!({"TableName": table}))
            .await?;
        let info = TableInfo::from_describe(&described)?;
        self.tables_cache().insert(table.to_string(), info.clone());
        Some(info)
    }

    async fn current_item(
        &self,
        table: &str,
        key: &Map<String, Value>,
    ) -> Option<Map<String, Value>> {
        let out = self
            .dynamodb(
                "GetItem",
                &json!({"TableName": table, "Key": key, "ConsistentRead": true}),
            )
            .await?;
        obj(out.get("Item"))
    }

    fn tables_cache(&self) -> std::sync::MutexGuard<'_, HashMap<String, TableInfo>> {
        // A poisoned cache still holds valid table descriptions.
        self.tables.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Reads the items a write call is about to change (nothing for reads).
pub async fn before(inst: &Instrument, operation: &str, req: &Value) -> Plan {
    let mut targets = Vec::new();
    let mut push = |table: &str,
                    kind: WriteKind,
                    key: Option<Map<String, Value>>,
                    item: Option<Map<String, Value>>,
                    tx: bool| {
        targets.push((table.to_string(), kind, key, item, tx));
    };
    let table_of = |v: &Value| {
        v.get("TableName")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    match operation {
        "PutItem" => push(
            &table_of(req),
            WriteKind::Put,
            None,
            obj(req.get("Item")),
            false,
        ),
        "UpdateItem" => push(
            &table_of(req),
            WriteKind::Update,
            obj(req.get("Key")),
            None,
            false,
        ),
        "DeleteItem" => push(
            &table_of(req),
            WriteKind::Delete,
            obj(req.get("Key")),
            None,
            false,
        ),
        "BatchWriteItem" => {
            for (table, reqs) in req
                .get("RequestItems")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                for r in reqs.as_array().into_iter().flatten() {
                    if let Some(p) = r.get("PutRequest") {
                        push(table, WriteKind::Put, None, obj(p.get("Item")), false);
                    } else if let Some(d) = r.get("DeleteRequest") {
                        push(table, WriteKind::Delete, obj(d.get("Key")), None, false);
                    }
                }
            }
        }
        "TransactWriteItems" => {
            for a in req
                .get("TransactItems")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(p) = a.get("Put") {
                    push(&table_of(p), WriteKind::Put, None, obj(p.get("Item")), true);
                } else if let Some(u) = a.get("Update") {
                    push(
                        &table_of(u),
                        WriteKind::Update,
                        obj(u.get("Key")),
                        None,
                        true,
                    );
                } else if let Some(d) = a.get("Delete") {
                    push(
                        &table_of(d),
                        WriteKind::Delete,
                        obj(d.get("Key")),
                        None,
                        true,
                    );
                } else if let Some(c) = a.get("ConditionCheck") {
                    push(
                        &table_of(c),
                        WriteKind::Check,
                        obj(c.get("Key")),
                        None,
                        true,
                    );
                }
            }
        }
        _ => {}
    }
    let mut plan = Plan::default();
    for (table, kind, key, put_item, transactional) in targets {
        let Some(info) = inst.table_info(&table).await else {
            continue;
        };
        let key = match (key, &put_item) {
            (Some(k), _) => k,
            (None, Some(item)) => key_from_item(item, &info),
            (None, None) => continue,
        };
        let old = inst.current_item(&table, &key).await;
        plan.targets.push(Target {
            table,
            key,
            kind,
            put_item,
            transactional,
            old,
        });
    }
    plan
}

/// The read and write units of a finished call: `(rru, wru)`.
pub async fn after(
    inst: &Instrument,
    plan: Plan,
    operation: &str,
    req: &Value,
    ok: bool,
    resp: &Value,
) -> (f64, f64) {
    let mut wru = 0.0;
    for t in plan.targets {
        let old_size = t.old.as_ref().map(item_size).unwrap_or(0);
        let factor = if t.transactional { 2.0 } else { 1.0 };
        if t.kind == WriteKind::Check || !ok {
            // A check, or a write that did not happen (failed condition, cancelled
            // transaction), is still charged for the item it looked at.
            wru += factor * write_units(old_size);
            continue;
        }
        let new = match t.kind {
            WriteKind::Put => t.put_item.clone(),
            WriteKind::Update => inst.current_item(&t.table, &t.key).await,
            WriteKind::Delete | WriteKind::Check => None,
        };
        let new_size = new.as_ref().map(item_size).unwrap_or(0);
        wru += factor * write_units(old_size.max(new_size));
        if let Some(info) = inst.table_info(&t.table).await {
            wru += index_write_units(&info, t.old.as_ref(), new.as_ref());
        }
    }
    let rru = if ok {
        read_units_of(operation, req, resp)
    } else {
        0.0
    };
    (rru, wru)
}

fn consistent(v: &Value) -> bool {
    v.get("ConsistentRead").and_then(Value::as_bool) == Some(true)
}

fn read_units_of(operation: &str, req: &Value, resp: &Value) -> f64 {
    let items = |v: Option<&Value>| -> Vec<Map<String, Value>> {
        v.and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|i| i.as_object().cloned())
            .collect()
    };
    match operation {
        "GetItem" => {
            let size = resp
                .get("Item")
                .and_then(Value::as_object)
                .map(item_size)
                .unwrap_or(0);
            read_units(size, consistent(req))
        }
        "BatchGetItem" => {
            let mut units = 0.0;
            for (table, spec) in req
                .get("RequestItems")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                let c = consistent(spec);
                let asked = spec
                    .get("Keys")
                    .and_then(Value::as_array)
                    .map(Vec::len)
                    .unwrap_or(0);
                let got = items(resp.pointer(&format!("/Responses/{}", escape(table))));
                let unprocessed = resp
                    .pointer(&format!("/UnprocessedKeys/{}/Keys", escape(table)))
                    .and_then(Value::as_array)
                    .map(Vec::len)
                    .unwrap_or(0);
                units += got.iter().map(|i| read_units(item_size(i), c)).sum::<f64>();
                // A key that is not there still costs the minimum read.
                let missing = asked.saturating_sub(got.len() + unprocessed);
                units += missing as f64 * read_units(0, c);
            }
            units
        }
        "Query" | "Scan" => {
            let returned = items(resp.get("Items"));
            let mut size: usize = returned.iter().map(item_size).sum();
            // Items a filter dropped were read too: scale by scanned / returned.
            let count = resp.get("Count").and_then(Value::as_u64).unwrap_or(0);
            let scanned = resp
                .get("ScannedCount")
                .and_then(Value::as_u64)
                .unwrap_or(count);
            if count > 0 && scanned > count {
                size = size * scanned as usize / count as usize;
            } else if count == 0 && scanned > 0 {
                size = scanned as usize * 100;
            }
            read_units(size, consistent(req))
        }
        "TransactGetItems" => items(resp.get("Responses"))
            .iter()
            .map(|r| {
                let size = r
                    .get("Item")
                    .and_then(Value::as_object)
                    .map(item_size)
                    .unwrap_or(0);
                2.0 * read_units(size, true)
            })
            .sum(),
        _ => 0.0,
    }
}

/// JSON pointer escaping of a table name.
fn escape(s: &str) -> String {
    s.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn sizes_follow_dynamodb_rules() {
        assert_eq!(value_size(&json!({"S": "abc"})), 3);
        assert_eq!(value_size(&json!({"S": "ß"})), 2);
        assert_eq!(value_size(&json!({"N": "12345"})), 4);
        assert_eq!(value_size(&json!({"N": "-0.00100"})), 2);
        assert_eq!(value_size(&json!({"BOOL": true})), 1);
        assert_eq!(value_size(&json!({"B": "aGVsbG8="})), 5);
        assert_eq!(
            value_size(&json!({"L": [{"S": "ab"}, {"NULL": true}]})),
            3 + 3 + 2
        );
        assert_eq!(value_size(&json!({"M": {"k": {"S": "v"}}})), 3 + 1 + 1 + 1);
        assert_eq!(
            item_size(&item(json!({"pk": {"S": "o-1"}, "n": {"N": "7"}}))),
            2 + 3 + 1 + 2
        );
    }

    #[test]
    fn units_round_up() {
        assert_eq!(read_units(0, false), 0.5);
        assert_eq!(read_units(4096, true), 1.0);
        assert_eq!(read_units(4097, true), 2.0);
        assert_eq!(write_units(1), 1.0);
        assert_eq!(write_units(2048), 2.0);
        assert_eq!(write_units(2049), 3.0);
    }

    #[test]
    fn index_writes_follow_the_index_key() {
        let table = TableInfo {
            keys: vec!["id".into()],
            gsis: vec![
                Gsi {
                    keys: vec!["status".into(), "createdKey".into()],
                    projection: Projection::All,
                },
                Gsi {
                    keys: vec!["fulfillerId".into()],
                    projection: Projection::KeysOnly,
                },
            ],
        };
        let open =
            item(json!({"id": {"S": "d"}, "status": {"S": "open"}, "createdKey": {"S": "k"}}));
        let shipped =
            item(json!({"id": {"S": "d"}, "status": {"S": "shipped"}, "createdKey": {"S": "k"}}));
        // New item in the status index only.
        assert_eq!(index_write_units(&table, None, Some(&open)), 1.0);
        // Status changes: delete + put in that index.
        assert_eq!(index_write_units(&table, Some(&open), Some(&shipped)), 2.0);
        // Same key, a projected attribute changed: one update.
        let noted = item(
            json!({"id": {"S": "d"}, "status": {"S": "open"}, "createdKey": {"S": "k"}, "note": {"S": "n"}}),
        );
        assert_eq!(index_write_units(&table, Some(&open), Some(&noted)), 1.0);
        // Nothing the index holds changed: no index write.
        assert_eq!(index_write_units(&table, Some(&open), Some(&open)), 0.0);
        let keys_only = TableInfo {
            keys: vec!["id".into()],
            gsis: vec![Gsi {
                keys: vec!["status".into(), "createdKey".into()],
                projection: Projection::KeysOnly,
            }],
        };
        assert_eq!(
            index_write_units(&keys_only, Some(&open), Some(&noted)),
            0.0
        );
        assert_eq!(index_write_units(&table, Some(&open), None), 1.0);
    }

    #[test]
    fn reads_are_priced_from_the_response() {
        let req = json!({"RequestItems": {"T": {"Keys": [{}, {}, {}], "ConsistentRead": true}}});
        let resp = json!({"Responses": {"T": [{"a": {"S": "x"}}]}, "UnprocessedKeys": {}});
        // One item found (1 unit), two missing (1 each, consistent).
        assert_eq!(read_units_of("BatchGetItem", &req, &resp), 3.0);
        let resp = json!({"Items": [{"a": {"S": "x"}}], "Count": 1, "ScannedCount": 1});
        assert_eq!(read_units_of("Query", &json!({}), &resp), 0.5);
        assert_eq!(read_units_of("GetItem", &json!({}), &json!({})), 0.5);
    }
}
