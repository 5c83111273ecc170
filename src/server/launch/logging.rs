//! The daemon's logging: the level filter (tracing's level names and Redis's, unknown names
//! refused) and, for `--log-format json`, one JSON object per line on stderr and stdout alike.
//!
//! Invariants: a level filter that would silently match nothing (`--log-level warning` read as a
//! target named "warning") is refused, never installed; in JSON mode every line the daemon
//! writes is one JSON object with `timestamp`, `level`, `message` and `target`, and a field whose
//! value reads as a JSON array (the `listeners` of "tinykv ready") is written as that array.

use std::fmt;

use serde_json::Value;
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::time::{FormatTime, SystemTime};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

use super::LogFormat;

/// The level names `--log-level` accepts, for error messages and `--help`.
pub const LEVEL_NAMES: &str = "trace, debug, info, warn, error, off, or Redis's debug, verbose, \
                               notice, warning, nothing";

/// tracing's name for a level word: its own names, and Redis's `loglevel` names as aliases
/// (verbose -> debug, notice -> info, warning -> warn, nothing -> off). Case-insensitive.
fn level_name(word: &str) -> Option<&'static str> {
    Some(match word.to_ascii_lowercase().as_str() {
        "trace" => "trace",
        "debug" | "verbose" => "debug",
        "info" | "notice" => "info",
        "warn" | "warning" => "warn",
        "error" => "error",
        "off" | "nothing" => "off",
        _ => return None,
    })
}

/// Rewrites a filter (`warning`, `tinykv=verbose,info`) into tracing's level names. Each
/// comma-separated directive is a level or `TARGET=LEVEL`; anything else is an error naming the
/// known levels, because tracing would read a bare unknown word as a target and log nothing.
/// Directives with span filters (`target[span]=level`) pass through unchanged.
pub fn normalize_filter(spec: &str) -> Result<String, String> {
    let mut out = Vec::new();
    for directive in spec.split(',').map(str::trim).filter(|d| !d.is_empty()) {
        if directive.contains('[') {
            out.push(directive.to_string());
            continue;
        }
        let (target, word) = match directive.rsplit_once('=') {
            Some((t, l)) => (Some(t), l),
            None => (None, directive),
        };
        let level = level_name(word)
            .ok_or_else(|| format!("unknown log level '{word}' (use {LEVEL_NAMES})"))?;
        out.push(match target {
            Some(t) => format!("{t}={level}"),
            None => level.to_string(),
        });
    }
    if out.is_empty() {
        return Err(format!("empty log level (use {LEVEL_NAMES})"));
    }
    Ok(out.join(","))
}

/// Installs the stderr subscriber. The filter is `level` (`--log-level`), else `RUST_LOG` as
/// tracing reads it, else `TINYKV_LOG`, else `info`; `level` and `TINYKV_LOG` go through
/// [`normalize_filter`], so Redis's names work there and a typo is an error.
pub fn init(format: LogFormat, level: Option<&str>) -> Result<(), String> {
    use tracing_subscriber::EnvFilter;
    let parse = |spec: &str, source: &str| {
        normalize_filter(spec)
            .and_then(|f| EnvFilter::try_new(f).map_err(|e| e.to_string()))
            .map_err(|e| format!("bad {source} '{spec}': {e}"))
    };
    let filter = match level {
        Some(l) => parse(l, "--log-level")?,
        None => match EnvFilter::try_from_env("RUST_LOG") {
            Ok(f) => f,
            Err(_) => match std::env::var("TINYKV_LOG") {
                Ok(v) if !v.trim().is_empty() => parse(&v, "TINYKV_LOG")?,
                _ => EnvFilter::new("info"),
            },
        },
    };
    let builder = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(filter);
    // A second init (tests running serve twice in one process) keeps the first subscriber.
    let _ = match format {
        LogFormat::Text => builder
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .try_init(),
        LogFormat::Json => builder.event_format(JsonLines).try_init(),
    };
    Ok(())
}

/// One JSON log line (no newline): `timestamp`, `level`, `message`, then `fields`, then
/// `target`, the shape of every JSON line the daemon writes.
pub fn json_line(level: Level, message: &str, fields: &[(&str, Value)], target: &str) -> String {
    let mut pairs: Vec<(String, Value)> = Vec::with_capacity(fields.len() + 4);
    pairs.push(("timestamp".into(), Value::String(timestamp())));
    pairs.push(("level".into(), Value::String(level.as_str().into())));
    pairs.push(("message".into(), Value::String(message.into())));
    pairs.extend(fields.iter().map(|(k, v)| (k.to_string(), v.clone())));
    pairs.push(("target".into(), Value::String(target.into())));
    object(&pairs)
}

/// `pairs` as one JSON object, in their order.
fn object(pairs: &[(String, Value)]) -> String {
    let body: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{}:{v}", Value::String(k.clone())))
        .collect();
    format!("{{{}}}", body.join(","))
}

/// Now, in RFC 3339 UTC (tracing-subscriber's own timestamp format).
fn timestamp() -> String {
    let mut s = String::new();
    let _ = SystemTime.format_time(&mut Writer::new(&mut s));
    s
}

/// The JSON event format: [`json_line`] for each event, its fields at the top level.
struct JsonLines;

impl<S, N> FormatEvent<S, N> for JsonLines
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        _ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let meta = event.metadata();
        let mut fields = Fields::default();
        event.record(&mut fields);
        let mut pairs = Vec::with_capacity(fields.0.len() + 3);
        pairs.push(("timestamp".to_string(), Value::String(timestamp())));
        pairs.push((
            "level".to_string(),
            Value::String(meta.level().as_str().into()),
        ));
        if let Some(i) = fields.0.iter().position(|(k, _)| k == "message") {
            pairs.push(fields.0.remove(i));
        }
        pairs.append(&mut fields.0);
        pairs.push(("target".to_string(), Value::String(meta.target().into())));
        writeln!(writer, "{}", object(&pairs))
    }
}

/// An event's fields as JSON values, in the order they were recorded.
#[derive(Default)]
struct Fields(Vec<(String, Value)>);

impl Fields {
    fn put(&mut self, field: &Field, value: Value) {
        self.0.push((field.name().to_string(), value));
    }
}

impl Visit for Fields {
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.put(field, serde_json::json!(value));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put(field, value.into());
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.put(field, value.into());
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field, value.into());
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.put(field, value.into());
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        let text = format!("{value:?}");
        // A list recorded with `?` (`listeners = ?names`) prints as `["a", "b"]`: keep it a list.
        let value = match serde_json::from_str::<Value>(&text) {
            Ok(list @ Value::Array(_)) if field.name() != "message" => list,
            _ => Value::String(text),
        };
        self.put(field, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redis_level_names_are_aliases_and_typos_are_refused() {
        for (given, want) in [
            ("warning", "warn"),
            ("NOTICE", "info"),
            ("verbose", "debug"),
            ("debug", "debug"),
            ("nothing", "off"),
            ("tinykv=verbose, warning", "tinykv=debug,warn"),
            ("tinykv::server=info", "tinykv::server=info"),
        ] {
            assert_eq!(normalize_filter(given).as_deref(), Ok(want), "{given}");
        }
        for bad in ["warnin", "tinykv", "tinykv=loud", "", " , "] {
            let err = normalize_filter(bad).unwrap_err();
            assert!(err.contains("notice"), "{bad}: {err}");
        }
    }

    #[test]
    fn json_lines_are_objects_in_order() {
        let line = json_line(
            Level::INFO,
            "tinykv listening",
            &[("listener", "unix:/t \"x\"".into())],
            "tinykv::server",
        );
        let v: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["listener"], "unix:/t \"x\"");
        assert_eq!(v["level"], "INFO");
        assert!(line.starts_with("{\"timestamp\":\""), "{line}");
        assert!(line.ends_with("\"target\":\"tinykv::server\"}"), "{line}");
    }
}
