//! RESP (REdis Serialization Protocol) codec, sans-I/O.
//!
//! This module turns bytes into request argv frames ([`Decoder`]), [`Reply`](crate::command::Reply)
//! values into RESP2 or RESP3 bytes ([`encode_reply`]), requests into bytes for the client
//! ([`encode_command`]) and reply bytes back into replies ([`parse_reply`]).
//!
//! Invariants:
//! - No I/O and no async: callers own the sockets and the buffers; this module only looks at bytes.
//! - Input never makes it panic and never makes it allocate more than the bytes it has actually
//!   received: declared lengths are checked against [`Limits`] and are never used to pre-size buffers.
//! - Every decoding failure is a [`ProtocolError`] whose `Display` is Redis's wording
//!   (`Protocol error: ...`), so the server can send it as `-ERR <error>` and close the connection.
//! - A request whose command name is an HTTP word ([`is_http_request`]) is recognised, so the
//!   server can drop a connection a web page opened before anything after it runs.

mod decode;
#[cfg(test)]
mod decode_tests;
mod encode;
mod inline;
mod parse_reply;

pub use decode::Decoder;
pub use encode::{
    bulk_len, encode_command, encode_reply, encoded_len, int_bulk_len, nil_len, write_bulk,
    write_int_bulk, write_int_line, write_nil, REPLY_TOO_BIG,
};
pub use inline::split_args;
pub use parse_reply::{parse_reply, ReplyScan};

use std::fmt;

/// Which RESP version a connection speaks; `HELLO 3` switches a connection to [`Resp::V3`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Resp {
    /// RESP2: what every Redis client speaks first.
    #[default]
    V2,
    /// RESP3: adds null, double and map types.
    V3,
}

/// Bounds on what one request may declare, so a peer cannot make the server hold unbounded memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Longest single bulk argument (Redis's `proto-max-bulk-len`, 512 MiB by default).
    pub max_bulk: usize,
    /// Longest inline command line, and longest `*`/`$` header line (Redis: 64 KiB).
    pub max_inline: usize,
    /// Most arguments in one multibulk request.
    pub max_multibulk: usize,
}

impl Limits {
    /// Default longest bulk argument: 512 MiB.
    pub const DEFAULT_MAX_BULK: usize = 512 * 1024 * 1024;
    /// Default longest inline request: 64 KiB.
    pub const DEFAULT_MAX_INLINE: usize = 64 * 1024;
    /// Default most arguments per request: 1 Mi (Redis accepts up to `INT_MAX`; we are stricter).
    pub const DEFAULT_MAX_MULTIBULK: usize = 1024 * 1024;
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bulk: Self::DEFAULT_MAX_BULK,
            max_inline: Self::DEFAULT_MAX_INLINE,
            max_multibulk: Self::DEFAULT_MAX_MULTIBULK,
        }
    }
}

/// A malformed frame. After one, the stream cannot be resynchronised: reply once and close.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProtocolError {
    /// An inline request longer than [`Limits::max_inline`] without a newline.
    TooBigInline,
    /// An inline request with an unterminated quote, or a closing quote not followed by a space.
    UnbalancedQuotes,
    /// A `*` header line longer than [`Limits::max_inline`].
    TooBigMultibulkCount,
    /// A `*` count that is not a number, or is above [`Limits::max_multibulk`].
    InvalidMultibulkLength,
    /// A `*` count above the unauthenticated limit.
    UnauthenticatedMultibulkLength,
    /// A `$` header line longer than [`Limits::max_inline`].
    TooBigBulkCount,
    /// Something other than `$` where a bulk argument must start.
    ExpectedDollar(u8),
    /// A `$` length that is not a number, is negative, or is above [`Limits::max_bulk`].
    InvalidBulkLength,
    /// A `$` length above the unauthenticated limit.
    UnauthenticatedBulkLength,
    /// A bulk payload not followed by CRLF.
    ExpectedCrlf,
    /// A reply (client side) that does not parse: unknown type byte or bad number.
    InvalidReply(String),
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Protocol error: ")?;
        match self {
            ProtocolError::TooBigInline => f.write_str("too big inline request"),
            ProtocolError::UnbalancedQuotes => f.write_str("unbalanced quotes in request"),
            ProtocolError::TooBigMultibulkCount => f.write_str("too big mbulk count string"),
            ProtocolError::InvalidMultibulkLength => f.write_str("invalid multibulk length"),
            ProtocolError::UnauthenticatedMultibulkLength => {
                f.write_str("unauthenticated multibulk length")
            }
            ProtocolError::TooBigBulkCount => f.write_str("too big bulk count string"),
            ProtocolError::ExpectedDollar(b) => {
                write!(f, "expected '$', got '{}'", char::from(*b).escape_default())
            }
            ProtocolError::InvalidBulkLength => f.write_str("invalid bulk length"),
            ProtocolError::UnauthenticatedBulkLength => f.write_str("unauthenticated bulk length"),
            ProtocolError::ExpectedCrlf => f.write_str("expected CRLF after bulk data"),
            ProtocolError::InvalidReply(what) => write!(f, "invalid reply: {what}"),
        }
    }
}

impl std::error::Error for ProtocolError {}

/// Parses a RESP integer the way Redis's `string2ll` does: optional `-`, digits, no leading
/// zeros, no `+`, no spaces, no overflow. `None` for anything else.
pub fn parse_i64(s: &[u8]) -> Option<i64> {
    let (neg, digits) = match s.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, s),
    };
    if digits.is_empty() || digits.len() > 19 || (digits.len() > 1 && digits[0] == b'0') {
        return None;
    }
    if neg && digits == b"0" {
        return None;
    }
    let mut v: i64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        let d = i64::from(d - b'0');
        v = if neg {
            v.checked_mul(10)?.checked_sub(d)?
        } else {
            v.checked_mul(10)?.checked_add(d)?
        };
    }
    Some(v)
}

/// Is `name` (a request's first word) `POST` or `Host:`, in any case? Such a "command" is an HTTP
/// request that a web page made a browser send to the server (cross-protocol scripting: the
/// headers arrive as inline commands, the body as more commands). Redis drops the connection
/// when it sees one, before running anything that follows; so does the daemon. Cheap on the hot
/// path: a length check first.
pub fn is_http_request(name: &[u8]) -> bool {
    match name.len() {
        4 => name.eq_ignore_ascii_case(b"POST"),
        5 => name.eq_ignore_ascii_case(b"Host:"),
        _ => false,
    }
}

/// Position of the first `\r\n` in `buf`, if any.
pub(crate) fn find_crlf(buf: &[u8]) -> Option<usize> {
    let mut from = 0;
    while let Some(i) = memchr(b'\r', &buf[from..]) {
        let at = from + i;
        if buf.get(at + 1) == Some(&b'\n') {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

/// Position of the first `needle` byte in `hay` (the std slice search is fast enough here).
pub(crate) fn memchr(needle: u8, hay: &[u8]) -> Option<usize> {
    hay.iter().position(|&b| b == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_i64_matches_string2ll() {
        let cases: &[(&[u8], Option<i64>)] = &[
            (b"0", Some(0)),
            (b"12", Some(12)),
            (b"-3", Some(-3)),
            (b"9223372036854775807", Some(i64::MAX)),
            (b"-9223372036854775808", Some(i64::MIN)),
            (b"9223372036854775808", None),
            (b"-0", None),
            (b"01", None),
            (b"+1", None),
            (b" 1", None),
            (b"1 ", None),
            (b"", None),
            (b"-", None),
            (b"1x", None),
        ];
        for (input, want) in cases {
            assert_eq!(
                parse_i64(input),
                *want,
                "{:?}",
                String::from_utf8_lossy(input)
            );
        }
    }

    #[test]
    fn error_wording_is_redis_wording() {
        assert_eq!(
            ProtocolError::ExpectedDollar(b'x').to_string(),
            "Protocol error: expected '$', got 'x'"
        );
        assert_eq!(
            ProtocolError::InvalidBulkLength.to_string(),
            "Protocol error: invalid bulk length"
        );
    }

    #[test]
    fn http_words_are_recognised_in_any_case() {
        for (name, want) in [
            (&b"POST"[..], true),
            (b"post", true),
            (b"PoSt", true),
            (b"Host:", true),
            (b"HOST:", true),
            (b"host:", true),
            (b"Host", false),
            (b"POSTS", false),
            (b"GET", false),
            (b"", false),
        ] {
            assert_eq!(is_http_request(name), want, "{name:?}");
        }
    }

    #[test]
    fn find_crlf_skips_lone_cr() {
        assert_eq!(find_crlf(b"ab\rc\r\n"), Some(4));
        assert_eq!(find_crlf(b"ab\r"), None);
        assert_eq!(find_crlf(b""), None);
    }
}
