//! How a one-shot command's reply is printed, as redis-cli prints it: formatted for people
//! (`"x"`, `(integer) 1`, numbered lists) on a terminal or with `--no-raw`, and raw (the bytes
//! of a value, a bare number, one line per element, nothing for nil) into a pipe or with `--raw`,
//! so `$(tinykv GET k)` is the value itself.

use crate::command::Reply;

/// Which of redis-cli's two renderings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// redis-cli's terminal rendering ([`Reply::to_cli_string`]).
    Tty,
    /// redis-cli's `--raw` rendering ([`raw`]).
    Raw,
}

impl Style {
    /// `--raw` or `--no-raw` when given (the last one wins), else raw unless stdout is a
    /// terminal, as redis-cli decides.
    pub fn pick(raw: bool, no_raw: bool, stdout_is_terminal: bool) -> Style {
        match (raw, no_raw) {
            (true, _) => Style::Raw,
            (_, true) => Style::Tty,
            _ if stdout_is_terminal => Style::Tty,
            _ => Style::Raw,
        }
    }

    /// The reply in this style, ending in a newline.
    pub fn render(self, reply: &Reply) -> Vec<u8> {
        let mut out = match self {
            Style::Tty => reply.to_cli_string().into_bytes(),
            Style::Raw => {
                let mut out = Vec::new();
                raw(reply, &mut out);
                out
            }
        };
        out.push(b'\n');
        out
    }
}

/// redis-cli's raw rendering (`cliFormatReplyRaw`): values as their bytes, numbers bare, nil
/// and empty lists as nothing, errors as their text, list elements one per line, map entries as
/// `key value` lines.
pub fn raw(reply: &Reply, out: &mut Vec<u8>) {
    match reply {
        Reply::Simple(s) => out.extend_from_slice(s.as_bytes()),
        Reply::Error(e) => out.extend_from_slice(e.as_bytes()),
        Reply::Int(n) => out.extend_from_slice(n.to_string().as_bytes()),
        Reply::Bulk(b) => out.extend_from_slice(b),
        Reply::Nil | Reply::NilArray => {}
        Reply::Double(d) => out.extend_from_slice(d.to_string().as_bytes()),
        Reply::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b'\n');
                }
                raw(item, out);
            }
        }
        Reply::Map(pairs) => {
            for (i, (k, v)) in pairs.iter().enumerate() {
                if i > 0 {
                    out.push(b'\n');
                }
                raw(k, out);
                out.push(b' ');
                raw(v, out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(reply: Reply, tty: &str, raw: &[u8]) {
        assert_eq!(Style::Tty.render(&reply), format!("{tty}\n").as_bytes());
        assert_eq!(Style::Raw.render(&reply), [raw, b"\n"].concat(), "{tty}");
    }

    #[test]
    fn renders_like_redis_cli() {
        check(Reply::ok(), "OK", b"OK");
        check(Reply::Bulk(b"a b".to_vec()), "\"a b\"", b"a b");
        check(
            Reply::Bulk(vec![0xff, b'\n']),
            "\"\\xff\\n\"",
            &[0xff, b'\n'],
        );
        check(Reply::Int(7), "(integer) 7", b"7");
        check(Reply::Nil, "(nil)", b"");
        check(Reply::Error("ERR no".into()), "(error) ERR no", b"ERR no");
        check(
            Reply::Array(vec![Reply::Bulk(b"a".to_vec()), Reply::Nil, Reply::Int(2)]),
            "1) \"a\"\n2) (nil)\n3) (integer) 2",
            b"a\n\n2",
        );
        check(Reply::Array(vec![]), "(empty array)", b"");
    }

    #[test]
    fn flags_beat_the_terminal_check() {
        assert_eq!(Style::pick(false, false, true), Style::Tty);
        assert_eq!(Style::pick(false, false, false), Style::Raw);
        assert_eq!(Style::pick(true, false, true), Style::Raw);
        assert_eq!(Style::pick(false, true, false), Style::Tty);
    }
}
