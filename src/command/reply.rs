//! Replies, shaped like RESP's types so the daemon can encode them directly and the REPL and
//! client can print them the way redis-cli does.

/// One command's answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// A status line such as OK or PONG.
    Simple(String),
    /// An error line; starts with an upper-case code such as ERR or OOM.
    Error(String),
    /// An integer.
    Int(i64),
    /// A binary-safe string.
    Bulk(Vec<u8>),
    /// The null bulk string (a missing value).
    Nil,
    /// An array of replies.
    Array(Vec<Reply>),
    /// The null array.
    NilArray,
    /// A floating-point number (RESP3; a bulk string in RESP2).
    Double(f64),
    /// Key-value pairs (RESP3; a flat array in RESP2).
    Map(Vec<(Reply, Reply)>),
}

impl Reply {
    /// The `+OK` status.
    pub fn ok() -> Reply {
        Reply::Simple("OK".into())
    }

    /// An error reply; `msg` starts with its code (`ERR`, `NOAUTH`, ...).
    pub fn error(msg: impl Into<String>) -> Reply {
        Reply::Error(msg.into())
    }

    /// A bulk string from text.
    pub fn text(s: impl Into<String>) -> Reply {
        Reply::Bulk(s.into().into_bytes())
    }

    /// Is this an error reply?
    pub fn is_error(&self) -> bool {
        matches!(self, Reply::Error(_))
    }

    /// Render the way redis-cli prints a reply to a terminal: `"quoted"` strings, `(integer) n`,
    /// `(nil)`, `(error) ...`, and numbered array items.
    pub fn to_cli_string(&self) -> String {
        let mut out = String::new();
        self.render(&mut out, 0);
        out
    }

    fn render(&self, out: &mut String, indent: usize) {
        match self {
            Reply::Simple(s) => out.push_str(s),
            Reply::Error(e) => {
                out.push_str("(error) ");
                out.push_str(e);
            }
            Reply::Int(n) => out.push_str(&format!("(integer) {n}")),
            Reply::Bulk(b) => out.push_str(&quote(b)),
            Reply::Nil | Reply::NilArray => out.push_str("(nil)"),
            Reply::Double(d) => out.push_str(&format!("(double) {d}")),
            Reply::Array(items) if items.is_empty() => out.push_str("(empty array)"),
            Reply::Array(items) => render_items(out, indent, items.iter()),
            Reply::Map(pairs) if pairs.is_empty() => out.push_str("(empty hash)"),
            Reply::Map(pairs) => {
                let flat: Vec<&Reply> = pairs.iter().flat_map(|(k, v)| [k, v]).collect();
                render_items(out, indent, flat.into_iter());
            }
        }
    }
}

fn render_items<'a>(
    out: &mut String,
    indent: usize,
    items: impl ExactSizeIterator<Item = &'a Reply>,
) {
    let width = items.len().to_string().len();
    for (i, item) in items.enumerate() {
        if i > 0 {
            out.push('\n');
            out.push_str(&" ".repeat(indent));
        }
        let label = format!("{:>width$}) ", i + 1);
        out.push_str(&label);
        item.render(out, indent + label.len());
    }
}

/// Quote bytes the way redis-cli does: printable ASCII as is, escapes for the rest.
pub fn quote(b: &[u8]) -> String {
    let mut s = String::with_capacity(b.len() + 2);
    s.push('"');
    for &c in b {
        match c {
            b'"' => s.push_str("\\\""),
            b'\\' => s.push_str("\\\\"),
            b'\n' => s.push_str("\\n"),
            b'\r' => s.push_str("\\r"),
            b'\t' => s.push_str("\\t"),
            0x20..=0x7e => s.push(c as char),
            _ => s.push_str(&format!("\\x{c:02x}")),
        }
    }
    s.push('"');
    s
}
