//! The architecture invariants (ARCHITECTURE.md) as a test over the source tree:
//! - `store`, `command` and `protocol` name none of napi, tokio, rustyline or clap;
//! - only `server` and `client` use tokio;
//! - only `node` uses napi;
//! - no transport (`client`, `server`) nor a lower layer names `cli` (the REPL);
//! - no two files of a module folder import each other in a circle;
//! - the hash table's crates and raw bucket access (dashmap, hashbrown, `RawTable`, shards,
//!   buckets, control bytes) appear only in `src/store/table/`.
//!
//! It reads code lines only (comments may name anything), and looks for a crate used as a
//! path (`tokio::`), imported (`use tokio`) or as an attribute (`#[tokio::main]`).
use std::path::{Path, PathBuf};

/// Every `.rs` file under `dir`.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let p = entry.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|e| e == "rs") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// The lines of `file` that use crate `name`, with their numbers.
fn uses(file: &Path, name: &str) -> Vec<(usize, String)> {
    let text = std::fs::read_to_string(file).unwrap();
    let path = format!("{name}::");
    let import = format!("use {name}");
    text.lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.split("//").next().unwrap_or("").to_string()))
        .filter(|(_, code)| {
            // `tokio::` but not `my_tokio::`: the crate name must start a path segment.
            let as_path = code.match_indices(&path).any(|(at, _)| {
                code[..at]
                    .chars()
                    .last()
                    .is_none_or(|c| !(c.is_alphanumeric() || c == '_'))
            });
            as_path || code.trim_start().starts_with(&import)
        })
        .collect()
}

/// The files under `src/` outside `allowed` (paths relative to `src/`) that use `name`.
fn offenders(name: &str, allowed: &[&str]) -> Vec<String> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut out = Vec::new();
    for file in rust_files(&src) {
        // `/`-separated on every platform, as `allowed` is written.
        let rel = file
            .strip_prefix(&src)
            .unwrap()
            .to_string_lossy()
            .replace(std::path::MAIN_SEPARATOR, "/");
        if allowed
            .iter()
            .any(|a| rel == *a || rel.starts_with(&format!("{a}/")))
        {
            continue;
        }
        for (n, line) in uses(&file, name) {
            out.push(format!("src/{rel}:{n}: {}", line.trim()));
        }
    }
    out
}

#[test]
fn the_engine_command_and_protocol_layers_name_no_runtime_binding_or_terminal_crate() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    for layer in ["store", "command", "protocol"] {
        for file in rust_files(&src.join(layer)) {
            for name in ["napi", "napi_derive", "tokio", "rustyline", "clap"] {
                let found = uses(&file, name);
                assert!(
                    found.is_empty(),
                    "{} uses {name}: {found:?}",
                    file.display()
                );
            }
        }
    }
}

#[test]
fn only_the_server_and_the_client_use_tokio() {
    let found = offenders("tokio", &["server", "client.rs"]);
    assert!(
        found.is_empty(),
        "tokio outside server/client:\n{}",
        found.join("\n")
    );
}

#[test]
fn only_the_addon_uses_napi() {
    for name in ["napi", "napi_derive"] {
        let found = offenders(name, &["node"]);
        assert!(
            found.is_empty(),
            "{name} outside src/node:\n{}",
            found.join("\n")
        );
    }
}

#[test]
fn the_checker_sees_a_use_it_is_meant_to_catch() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("x.rs");
    std::fs::write(
        &f,
        "// tokio:: in a comment is fine\nuse tokio::net;\nlet a = my_tokio::x;\n#[tokio::main]\n",
    )
    .unwrap();
    let lines: Vec<usize> = uses(&f, "tokio").into_iter().map(|(n, _)| n).collect();
    assert_eq!(lines, vec![2, 4]);
}

/// The code of `file` before its `#[cfg(test)]` module, comments dropped, as one string.
fn code_of(file: &Path) -> String {
    let text = std::fs::read_to_string(file).unwrap();
    let mut out = String::new();
    for line in text.lines() {
        if line.trim_start().starts_with("#[cfg(test)]") {
            break;
        }
        out.push_str(line.split("//").next().unwrap_or(""));
        out.push('\n');
    }
    out
}

/// The first path segment of every path that starts right after each `prefix` in `code`
/// (`prefix::a::b` gives `a`; `prefix::{a, b::c}` gives `a` and `b`).
fn names_after(code: &str, prefix: &str) -> Vec<String> {
    let ident = |s: &str| -> String {
        s.trim_start()
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect()
    };
    let mut out = Vec::new();
    for (at, _) in code.match_indices(prefix) {
        let before = code[..at].chars().last();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
            continue;
        }
        let rest = &code[at + prefix.len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let (mut depth, mut start) = (0usize, 0usize);
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => {
                        out.push(ident(&group[start..i]));
                        break;
                    }
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        out.push(ident(&group[start..i]));
                        start = i + 1;
                    }
                    _ => {}
                }
            }
        } else {
            out.push(ident(rest));
        }
    }
    out
}

/// The import graph among the files of the module folder `dir` (whose path from the crate root
/// is `module`, e.g. `server`): a file `x.rs` or a folder `x/` is node `x` (`mod.rs` is the
/// folder itself and no node); an edge `x -> y` is `super::y` (from `x.rs` or `x/mod.rs`),
/// `super::super::y` (from `x/z.rs`) or `crate::module::y` in `x`'s code.
fn import_graph(
    dir: &Path,
    module: &str,
) -> std::collections::BTreeMap<String, std::collections::BTreeSet<String>> {
    use std::collections::{BTreeMap, BTreeSet};
    let files = rust_files(dir);
    let node_of = |f: &Path| -> Option<(String, usize)> {
        let rel = f.strip_prefix(dir).unwrap();
        let parts: Vec<String> = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        if parts.len() == 1 && parts[0] == "mod.rs" {
            return None;
        }
        let node = parts[0].trim_end_matches(".rs").to_string();
        let depth = parts.len() - usize::from(parts.last().is_some_and(|p| p == "mod.rs"));
        Some((node, depth))
    };
    let nodes: BTreeSet<String> = files
        .iter()
        .filter_map(|f| node_of(f))
        .map(|n| n.0)
        .collect();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in &files {
        let Some((node, depth)) = node_of(f) else {
            continue;
        };
        let code = code_of(f);
        let mut names = names_after(&code, &format!("crate::{module}::"));
        names.extend(names_after(&code, &"super::".repeat(depth)));
        let edges = graph.entry(node.clone()).or_default();
        edges.extend(
            names
                .into_iter()
                .filter(|n| n != &node && nodes.contains(n)),
        );
    }
    graph
}

/// A cycle in `graph`, as the path of nodes that closes it, if there is one.
fn find_cycle(
    graph: &std::collections::BTreeMap<String, std::collections::BTreeSet<String>>,
) -> Option<Vec<String>> {
    // Depth-first search; a node on the current path reached again closes a cycle.
    fn visit<'a>(
        node: &'a str,
        graph: &'a std::collections::BTreeMap<String, std::collections::BTreeSet<String>>,
        path: &mut Vec<&'a str>,
        done: &mut std::collections::BTreeSet<&'a str>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| *n == node) {
            let mut cycle: Vec<String> = path[at..].iter().map(|s| s.to_string()).collect();
            cycle.push(node.to_string());
            return Some(cycle);
        }
        if !done.insert(node) {
            return None;
        }
        path.push(node);
        for next in graph.get(node).into_iter().flatten() {
            if let Some(c) = visit(next, graph, path, done) {
                return Some(c);
            }
        }
        path.pop();
        None
    }
    let mut done = std::collections::BTreeSet::new();
    for node in graph.keys() {
        if let Some(c) = visit(node, graph, &mut Vec::new(), &mut done) {
            return Some(c);
        }
    }
    None
}

#[test]
fn no_two_files_of_a_module_folder_import_each_other_in_a_circle() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    for module in [
        "server",
        "command",
        "store",
        "store/table",
        "cli",
        "protocol",
    ] {
        let graph = import_graph(&src.join(module), &module.replace('/', "::"));
        assert!(
            find_cycle(&graph).is_none(),
            "src/{module}/ has an import circle: {}",
            find_cycle(&graph).unwrap_or_default().join(" -> ")
        );
    }
}

#[test]
fn the_cycle_checker_sees_a_circle_it_is_meant_to_catch() {
    let dir = tempfile::tempdir().unwrap();
    let write = |rel: &str, code: &str| {
        let p = dir.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, code).unwrap();
    };
    write("mod.rs", "mod a; mod b; mod c;\n");
    write("a.rs", "use super::{b::X, Config};\n");
    write(
        "b.rs",
        "// use super::a; in a comment is fine\nuse crate::m::c;\n",
    );
    write("c/mod.rs", "mod d;\n");
    write(
        "c/d.rs",
        "use super::super::a::Y;\n#[cfg(test)]\nmod tests { use super::super::b; }\n",
    );
    let graph = import_graph(dir.path(), "m");
    assert_eq!(
        find_cycle(&graph),
        Some(vec!["a".into(), "b".into(), "c".into(), "a".into()])
    );
    // Without the last edge there is no circle.
    write("c/d.rs", "use super::Y;\n");
    assert_eq!(find_cycle(&import_graph(dir.path(), "m")), None);
}

#[test]
fn no_transport_depends_on_the_repl() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = vec![src.join("client.rs")];
    for dir in ["server", "protocol", "command", "store"] {
        files.extend(rust_files(&src.join(dir)));
    }
    for file in files {
        let found: Vec<String> = code_of(&file)
            .lines()
            .filter(|l| l.contains("crate::cli"))
            .map(str::to_string)
            .collect();
        assert!(found.is_empty(), "{} uses cli: {found:?}", file.display());
    }
}

/// Code that reaches into the hash table's buckets: its crates, and the raw-table calls.
const RAW_TABLE_ACCESS: [&str; 9] = [
    "RawTable",
    ".shards()",
    "SharedValue",
    "is_bucket_full",
    ".bucket(",
    "iter_hash",
    "data_end()",
    "bucket_index",
    "clear_no_drop",
];

/// The lines of `file` (code only, numbered, each once) that touch the table's buckets or
/// name its crates.
fn raw_table_access(file: &Path) -> Vec<(usize, String)> {
    let mut found: Vec<(usize, String)> = ["dashmap", "hashbrown"]
        .iter()
        .flat_map(|c| uses(file, c))
        .collect();
    let text = std::fs::read_to_string(file).unwrap();
    for (i, line) in text.lines().enumerate() {
        let code = line.split("//").next().unwrap_or("");
        if RAW_TABLE_ACCESS.iter().any(|t| code.contains(t)) {
            found.push((i + 1, code.to_string()));
        }
    }
    found.sort();
    found.dedup_by_key(|(n, _)| *n);
    found
}

#[test]
fn only_the_table_module_touches_buckets() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let table = src.join("store").join("table");
    let mut found = Vec::new();
    for file in rust_files(&src) {
        if !file.starts_with(&table) {
            let lines = raw_table_access(&file).into_iter();
            found.extend(lines.map(|(n, l)| format!("{}:{n}: {}", file.display(), l.trim())));
        }
    }
    assert!(
        found.is_empty(),
        "raw table access outside src/store/table/:\n{}",
        found.join("\n")
    );
    // The table module itself is where it all is.
    let inside: usize = rust_files(&table)
        .iter()
        .map(|f| raw_table_access(f).len())
        .sum();
    assert!(
        inside > 10,
        "the checker found only {inside} uses in the table"
    );
}

#[test]
fn the_table_checker_sees_bucket_access_it_is_meant_to_catch() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("x.rs");
    std::fs::write(
        &f,
        "// RawTable in a comment is fine\nuse hashbrown::raw::RawTable;\nlet s = map.shards();\nlet e = unsafe { t.bucket(i) };\nuse dashmap::SharedValue;\n",
    )
    .unwrap();
    let lines: Vec<usize> = raw_table_access(&f).into_iter().map(|(n, _)| n).collect();
    assert_eq!(lines, vec![2, 3, 4, 5]);
}
