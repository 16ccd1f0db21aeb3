//! Keeps the crate layered: every module uses only modules below it, tests included. Reads the
//! crate's own sources, builds the graph of `crate::<module>` uses between top-level modules
//! (a file under `order/` belongs to `order`; `super::` never leaves a top-level module) and
//! fails on any cycle, naming it. A cycle means two modules cannot be understood, or moved, one
//! without the other.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Top-level module -> the modules it uses (itself left out).
type Graph = BTreeMap<String, BTreeSet<String>>;

/// Test-only (`#[cfg(test)]` in lib.rs): the crate's own source directory is always readable
/// where its tests run, so an unreadable file is a broken checkout and may fail the test.
fn sources(dir: &Path, out: &mut Vec<(String, String)>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            sources(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push((
                p.display().to_string(),
                std::fs::read_to_string(&p).unwrap(),
            ));
        }
    }
}

/// The identifiers right after each `crate::`, a `crate::{a, b::c}` group giving each item's
/// first one. Line comments are dropped first (doc comments name modules freely).
fn crate_uses(text: &str) -> Vec<String> {
    let code: String = text
        .lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n");
    let ident = |s: &str| -> String {
        s.trim_start()
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect()
    };
    let mut out = Vec::new();
    for (at, _) in code.match_indices("crate::") {
        let rest = &code[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let (mut depth, mut item) = (0, String::new());
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        out.push(ident(&item));
                        item.clear();
                        continue;
                    }
                    _ => {}
                }
                item.push(c);
            }
            out.push(ident(&item));
        } else {
            out.push(ident(rest));
        }
    }
    out
}

fn graph() -> Graph {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let lib = std::fs::read_to_string(src.join("lib.rs")).unwrap();
    let mut modules = BTreeSet::new();
    // `pub use error::{ApiError, ErrorCode};` at the root: `crate::ApiError` uses `error`.
    let mut reexports = BTreeMap::new();
    for line in lib.lines().map(str::trim) {
        let line = line.trim_start_matches("pub ");
        if let Some(m) = line.strip_prefix("mod ") {
            modules.insert(m.trim_end_matches(';').to_string());
        } else if let Some(u) = line.strip_prefix("use ") {
            let (module, items) = u.trim_end_matches(';').split_once("::").unwrap_or((u, ""));
            for item in items.trim_matches(['{', '}']).split(',') {
                reexports.insert(item.trim().to_string(), module.to_string());
            }
        }
    }
    let mut files = Vec::new();
    sources(&src, &mut files);
    let mut graph = Graph::new();
    for (path, text) in files {
        let rel = Path::new(&path).strip_prefix(&src).unwrap();
        let first = rel.components().next().unwrap().as_os_str();
        let module = Path::new(first)
            .file_stem()
            .unwrap()
            .to_string_lossy()
            .to_string();
        if !modules.contains(&module) || module == "layering" {
            continue;
        }
        let uses = graph.entry(module.clone()).or_default();
        for used in crate_uses(&text) {
            let used = reexports.get(&used).cloned().unwrap_or(used);
            if modules.contains(&used) && used != module {
                uses.insert(used);
            }
        }
    }
    graph
}

/// The cycles, one per group of modules that all reach each other: a shortest path `a -> b ->
/// ... -> a` and every use inside the group (each one has to go for the group to come apart).
fn cycles(graph: &Graph) -> Vec<String> {
    let reaches = |from: &str| -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut todo = vec![from.to_string()];
        while let Some(m) = todo.pop() {
            for n in graph.get(&m).into_iter().flatten() {
                if seen.insert(n.clone()) {
                    todo.push(n.clone());
                }
            }
        }
        seen
    };
    let mut done = BTreeSet::new();
    let mut out = Vec::new();
    for m in graph.keys() {
        if done.contains(m) || !reaches(m).contains(m) {
            continue;
        }
        let group: BTreeSet<String> = reaches(m)
            .into_iter()
            .filter(|n| reaches(n).contains(m))
            .collect();
        done.extend(group.iter().cloned());
        // A shortest way back to `m` within the group, by breadth-first search.
        let mut back: BTreeMap<String, String> = BTreeMap::new();
        let mut frontier = vec![m.clone()];
        'search: while !frontier.is_empty() {
            let mut next = Vec::new();
            for a in frontier {
                for b in graph.get(&a).into_iter().flatten() {
                    if b == m {
                        back.insert(format!("{m}!"), a.clone());
                        break 'search;
                    }
                    if group.contains(b) && !back.contains_key(b) {
                        back.insert(b.clone(), a.clone());
                        next.push(b.clone());
                    }
                }
            }
            frontier = next;
        }
        let mut path = vec![m.clone()];
        let mut at = back[&format!("{m}!")].clone();
        while at != *m {
            path.push(at.clone());
            at = back[&at].clone();
        }
        path[1..].reverse();
        path.push(m.clone());
        let members: Vec<_> = group.iter().cloned().collect();
        let uses: Vec<String> = members
            .iter()
            .map(|a| {
                let within: Vec<_> = graph[a].intersection(&group).cloned().collect();
                format!("{a} uses {}", within.join(", "))
            })
            .collect();
        out.push(format!(
            "{}; within {{{}}}: {}",
            path.join(" -> "),
            members.join(", "),
            uses.join("; ")
        ));
    }
    out
}

/// Each module's layer: one above the highest module it uses (`--nocapture` prints them).
fn layers(graph: &Graph) -> BTreeMap<usize, Vec<String>> {
    fn level(m: &str, graph: &Graph, memo: &mut BTreeMap<String, usize>) -> usize {
        if let Some(l) = memo.get(m) {
            return *l;
        }
        let l = graph
            .get(m)
            .into_iter()
            .flatten()
            .map(|n| level(n, graph, memo) + 1)
            .max()
            .unwrap_or(0);
        memo.insert(m.to_string(), l);
        l
    }
    let mut memo = BTreeMap::new();
    let mut out: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    for m in graph.keys() {
        let l = level(m, graph, &mut memo);
        out.entry(l).or_default().push(m.clone());
    }
    out
}

#[test]
fn no_module_cycle() {
    let graph = graph();
    let cycles = cycles(&graph);
    assert!(
        cycles.is_empty(),
        "module cycles in dropship-core:\n{}",
        cycles.join("\n")
    );
    for (l, modules) in layers(&graph) {
        println!("layer {l}: {}", modules.join(", "));
    }
}

#[test]
fn the_check_sees_a_cycle_and_a_group_import() {
    assert_eq!(
        crate_uses("use crate::{a::B, c}; x(crate::d::e); // crate::f"),
        ["a", "c", "d"]
    );
    let mut g = Graph::new();
    for (x, y) in [("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")] {
        g.entry(x.to_string()).or_default().insert(y.to_string());
    }
    assert_eq!(
        cycles(&g),
        ["a -> b -> c -> a; within {a, b, c}: a uses b; b uses c; c uses a"]
    );
}
