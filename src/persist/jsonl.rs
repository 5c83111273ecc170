//! The JSONL interchange format (`docs/jsonl.md`): one JSON object per line, one entry per
//! object, read and written with serde_json.
//!
//! `{"key":"user:1","value":"...","ns":"sessions","expiresAt":1767225600000}`: `ns` is left
//! out for the default namespace, `expiresAt` (absolute epoch ms) for a key with no TTL; a key
//! or value that is not UTF-8 is base64 with `"keyEncoding":"base64"` / `"encoding":"base64"`;
//! integers are their decimal text. Readers accept any key order and ignore unknown fields.
//!
//! Invariant: [`parse`] reads the whole input before anything is loaded and its errors name the
//! 1-based line and what is wrong; blank lines are allowed and counted.

use crate::store::{LoadBatch, LoadEntry, LoadValue, ValueRef};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::HashMap;

/// The name the store gives its default namespace; lines for it carry no `ns`.
pub const DEFAULT_NS: &str = "default";

/// One line as written.
#[derive(Serialize)]
struct Out<'a> {
    /// The key, as text or base64.
    key: Cow<'a, str>,
    /// The value, as text or base64.
    value: Cow<'a, str>,
    /// The namespace; absent for the default one.
    #[serde(skip_serializing_if = "Option::is_none")]
    ns: Option<&'a str>,
    /// Absolute expiry, epoch ms; absent for none.
    #[serde(rename = "expiresAt", skip_serializing_if = "Option::is_none")]
    expires_at: Option<u64>,
    /// `base64` when the value is not UTF-8.
    #[serde(skip_serializing_if = "Option::is_none")]
    encoding: Option<&'static str>,
    /// `base64` when the key is not UTF-8.
    #[serde(rename = "keyEncoding", skip_serializing_if = "Option::is_none")]
    key_encoding: Option<&'static str>,
}

/// One line as read; unknown fields are ignored.
#[derive(Deserialize)]
struct In<'a> {
    /// The key (required).
    #[serde(borrow)]
    key: Cow<'a, str>,
    /// The value (required): a string, or an integer.
    #[serde(borrow)]
    value: InValue<'a>,
    /// The namespace; the default one when absent.
    #[serde(borrow, default)]
    ns: Option<Cow<'a, str>>,
    /// Absolute expiry, epoch ms.
    #[serde(rename = "expiresAt", default)]
    expires_at: Option<u64>,
    /// `base64` or `utf8` (the default).
    #[serde(borrow, default)]
    encoding: Option<Cow<'a, str>>,
    /// `base64` or `utf8` (the default).
    #[serde(rename = "keyEncoding", borrow, default)]
    key_encoding: Option<Cow<'a, str>>,
}

/// A value field: text, or a JSON integer (what a spreadsheet export may write).
#[derive(Deserialize)]
#[serde(untagged)]
enum InValue<'a> {
    /// A JSON string.
    #[serde(borrow)]
    Text(Cow<'a, str>),
    /// A JSON integer.
    Int(i64),
}

/// `bytes` as text if UTF-8, else base64 and the encoding's name.
fn text_or_base64(bytes: &[u8]) -> (Cow<'_, str>, Option<&'static str>) {
    match std::str::from_utf8(bytes) {
        Ok(s) => (Cow::Borrowed(s), None),
        Err(_) => (Cow::Owned(B64.encode(bytes)), Some("base64")),
    }
}

/// Appends one entry's line (with its newline) to `out`.
pub fn write_line(
    out: &mut Vec<u8>,
    ns: &str,
    key: &[u8],
    value: ValueRef<'_>,
    expires_at_ms: Option<u64>,
) {
    let int_text;
    let (value, encoding) = match value {
        ValueRef::Int(n) => {
            int_text = n.to_string();
            (Cow::Borrowed(int_text.as_str()), None)
        }
        ValueRef::Bytes(b) => text_or_base64(b),
    };
    let (key, key_encoding) = text_or_base64(key);
    let line = Out {
        key,
        value,
        ns: (ns != DEFAULT_NS && ns != "0").then_some(ns),
        expires_at: expires_at_ms,
        encoding,
        key_encoding,
    };
    // Serializing plain strings and integers into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, &line);
    out.push(b'\n');
}

/// A parsed file: the batch, and each entry's 1-based line number (for errors the store
/// reports by entry index).
#[derive(Debug, Default)]
pub struct Parsed<'a> {
    /// The entries and their namespaces.
    pub batch: LoadBatch<'a>,
    /// `lines[i]` is the line of `batch.entries[i]`.
    pub lines: Vec<u64>,
}

/// Decodes a `base64`/`utf8` field into bytes.
fn decode<'a>(
    text: Cow<'a, str>,
    encoding: Option<&str>,
    what: &str,
) -> Result<Cow<'a, [u8]>, String> {
    match encoding {
        None | Some("utf8") | Some("utf-8") => Ok(match text {
            Cow::Borrowed(s) => Cow::Borrowed(s.as_bytes()),
            Cow::Owned(s) => Cow::Owned(s.into_bytes()),
        }),
        Some("base64") => B64
            .decode(text.as_bytes())
            .map(Cow::Owned)
            .map_err(|e| format!("{what} is not valid base64 ({e})")),
        Some(other) => Err(format!(
            "unknown {what} encoding {other:?} (expected \"base64\" or \"utf8\")"
        )),
    }
}

/// Parses a whole JSONL input. `into_ns`, when given, puts every entry in that namespace
/// whatever its `ns` says. The first bad line fails the parse: `line N: what is wrong`.
pub fn parse<'a>(input: &'a [u8], into_ns: Option<&str>) -> Result<Parsed<'a>, String> {
    let mut parsed = Parsed::default();
    let mut ns_index: HashMap<String, u32> = HashMap::new();
    let mut index_of = |name: &str, batch: &mut LoadBatch<'a>| -> Result<u32, String> {
        let name = if name == "0" { DEFAULT_NS } else { name };
        if let Some(i) = ns_index.get(name) {
            return Ok(*i);
        }
        crate::store::check_namespace_name(name).map_err(|e| {
            let msg = e.to_string();
            msg.strip_prefix("ERR ").unwrap_or(&msg).to_string()
        })?;
        let i = batch.namespaces.len() as u32;
        batch.namespaces.push(name.to_string());
        ns_index.insert(name.to_string(), i);
        Ok(i)
    };
    for (n, raw) in input.split(|b| *b == b'\n').enumerate() {
        let line = n as u64 + 1;
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        if raw.iter().all(|b| b.is_ascii_whitespace()) {
            continue;
        }
        let at = |what: String| format!("line {line}: {what}");
        let rec: In<'a> = serde_json::from_slice(raw).map_err(|e| at(e.to_string()))?;
        let key = decode(rec.key, rec.key_encoding.as_deref(), "key").map_err(at)?;
        let value = match rec.value {
            InValue::Int(n) => LoadValue::Int(n),
            InValue::Text(t) => {
                let bytes = decode(t, rec.encoding.as_deref(), "value").map_err(at)?;
                // Decimal text that Redis's INCR would read is stored as an integer, as the
                // store keeps counters.
                match crate::store::parse_i64(&bytes) {
                    Some(n) => LoadValue::Int(n),
                    None => LoadValue::Bytes(bytes),
                }
            }
        };
        let ns_name = into_ns.or(rec.ns.as_deref()).unwrap_or(DEFAULT_NS);
        let ns = index_of(ns_name, &mut parsed.batch).map_err(at)?;
        parsed.batch.entries.push(LoadEntry {
            ns,
            key,
            value,
            expires_at_ms: rec.expires_at,
        });
        parsed.lines.push(line);
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(ns: &str, key: &[u8], value: ValueRef<'_>, exp: Option<u64>) -> String {
        let mut out = Vec::new();
        write_line(&mut out, ns, key, value, exp);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn writes_the_documented_shape() {
        type Case<'a> = (&'a str, &'a [u8], ValueRef<'a>, Option<u64>, &'a str);
        let cases: &[Case<'_>] = &[
            (
                "default",
                b"user:1",
                ValueRef::Bytes(b"x"),
                None,
                r#"{"key":"user:1","value":"x"}"#,
            ),
            (
                "sessions",
                b"k",
                ValueRef::Bytes(b"v"),
                Some(1767225600000),
                r#"{"key":"k","value":"v","ns":"sessions","expiresAt":1767225600000}"#,
            ),
            (
                "default",
                b"n",
                ValueRef::Int(-42),
                None,
                r#"{"key":"n","value":"-42"}"#,
            ),
            (
                "default",
                b"\xff",
                ValueRef::Bytes(b"\x00\xfe"),
                None,
                r#"{"key":"/w==","value":"AP4=","encoding":"base64","keyEncoding":"base64"}"#,
            ),
        ];
        for (ns, k, v, exp, want) in cases {
            assert_eq!(line(ns, k, *v, *exp), format!("{want}\n"));
        }
    }

    #[test]
    fn reads_any_order_and_ignores_unknown_fields() {
        let input = br#"{"expiresAt":5,"value":"7","extra":[1],"ns":"s","key":"a"}

{"key":"/w==","keyEncoding":"base64","value":"AP4=","encoding":"base64"}
{"key":"n","value":12}"#;
        let p = parse(input, None).unwrap();
        assert_eq!(p.lines, vec![1, 3, 4]);
        assert_eq!(p.batch.namespaces, vec!["s", "default"]);
        let e = &p.batch.entries;
        assert_eq!(
            (e[0].key.as_ref(), e[0].expires_at_ms),
            (&b"a"[..], Some(5))
        );
        assert_eq!(e[0].value, LoadValue::Int(7));
        assert_eq!(e[1].key.as_ref(), b"\xff");
        assert_eq!(e[1].value, LoadValue::Bytes(Cow::Owned(vec![0, 0xfe])));
        assert_eq!(e[2].value, LoadValue::Int(12));
    }

    #[test]
    fn errors_name_the_line() {
        let cases: &[(&[u8], &str)] = &[
            (b"{\"key\":\"a\",\"value\":\"b\"}\n{oops", "line 2: "),
            (b"{\"value\":\"b\"}", "line 1: missing field `key`"),
            (b"{\"key\":\"a\"}", "line 1: missing field `value`"),
            (
                b"{\"key\":\"a\",\"value\":\"!!\",\"encoding\":\"base64\"}",
                "line 1: value is not valid base64",
            ),
            (
                b"{\"key\":\"a\",\"value\":\"b\",\"encoding\":\"rot13\"}",
                "line 1: unknown value encoding",
            ),
            (
                b"{\"key\":\"a\",\"value\":\"b\",\"expiresAt\":-1}",
                "line 1: ",
            ),
        ];
        for (input, want) in cases {
            let e = parse(input, None).unwrap_err();
            assert!(e.starts_with(want), "{e} (wanted {want})");
        }
    }
}
