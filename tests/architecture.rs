//! The architecture invariants (ARCHITECTURE.md) as a test over the source tree:
//! - `store`, `command` and `protocol` name none of napi, tokio, rustyline or clap;
//! - only `server` and `client` use tokio;
//! - only `node` uses napi.
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
        let rel = file
            .strip_prefix(&src)
            .unwrap()
            .to_string_lossy()
            .into_owned();
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
