//! Reply parsing for the client: RESP2 and RESP3 reply bytes into [`Reply`] values.
//!
//! Like the request decoder it never trusts a declared length for allocation and never recurses
//! deeper than [`MAX_DEPTH`], so a hostile or broken server cannot crash the client.

use super::{find_crlf, parse_i64, ProtocolError};
use crate::command::Reply;

/// Deepest nesting of aggregates accepted in one reply.
pub const MAX_DEPTH: usize = 128;

/// Parses one reply from the start of `buf`: `Ok(Some((reply, bytes_used)))`, or `Ok(None)` when
/// the reply is not complete yet.
pub fn parse_reply(buf: &[u8]) -> Result<Option<(Reply, usize)>, ProtocolError> {
    let mut pos = 0;
    match parse_at(buf, &mut pos, 0)? {
        Some(reply) => Ok(Some((reply, pos))),
        None => Ok(None),
    }
}

/// Where the first reply of a growing buffer ends, found by scanning headers only and resuming
/// where the last call stopped: a client reading a large reply in chunks looks at each header
/// once, instead of parsing the whole buffer again (allocating every value) after each read.
/// It decides only when to call [`parse_reply`], which still checks and builds the reply.
#[derive(Debug, Default)]
pub struct ReplyScan {
    /// Where the next element's header starts.
    pos: usize,
    /// Elements still to come in each open aggregate, outermost first.
    open: Vec<u64>,
}

impl ReplyScan {
    /// The length of the first reply in `buf` once all of it is there, `None` until then.
    /// `buf` must only have grown since the last call. A malformed header answers at once (the
    /// buffer's length), so that `parse_reply` is called and reports it.
    pub fn complete(&mut self, buf: &[u8]) -> Option<usize> {
        loop {
            let rest = &buf[self.pos..];
            let end = find_crlf(rest)?;
            if end == 0 {
                return Some(buf.len());
            }
            let n = parse_i64(&rest[1..end]);
            let header = end + 2;
            let elements = match (rest[0], n) {
                (b'$' | b'=' | b'!', Some(len)) if len >= 0 => {
                    let need = header.checked_add(len as usize)?.checked_add(2)?;
                    if rest.len() < need {
                        return None;
                    }
                    self.pos += need;
                    0
                }
                (b'*' | b'~' | b'>', Some(k)) => {
                    self.pos += header;
                    k.max(0) as u64
                }
                // A map's pairs; an attribute's pairs and then the reply it annotates.
                (b'%', Some(k)) if k >= 0 => {
                    self.pos += header;
                    2 * k as u64
                }
                (b'|', Some(k)) if k >= 0 => {
                    self.pos += header;
                    2 * k as u64 + 1
                }
                (b'$' | b'=' | b'!' | b'*' | b'~' | b'>' | b'%' | b'|', _) => {
                    // Nil (-1), or a bad length for the parser to report.
                    self.pos += header;
                    0
                }
                _ => {
                    self.pos += header;
                    0
                }
            };
            if elements > 0 {
                if self.open.len() > MAX_DEPTH {
                    return Some(buf.len());
                }
                self.open.push(elements);
                continue;
            }
            // One element is done: close every aggregate it completes.
            loop {
                match self.open.last_mut() {
                    None => return Some(self.pos),
                    Some(left) => {
                        *left -= 1;
                        if *left > 0 {
                            break;
                        }
                        self.open.pop();
                    }
                }
            }
        }
    }
}

fn invalid(what: &str) -> ProtocolError {
    ProtocolError::InvalidReply(what.to_string())
}

/// Reads the header line at `pos`: type byte and the text up to CRLF.
fn line<'a>(buf: &'a [u8], pos: &mut usize) -> Result<Option<(u8, &'a [u8])>, ProtocolError> {
    let rest = &buf[*pos..];
    let Some(end) = find_crlf(rest) else {
        return Ok(None);
    };
    if end == 0 {
        return Err(invalid("empty line"));
    }
    *pos += end + 2;
    Ok(Some((rest[0], &rest[1..end])))
}

fn parse_at(buf: &[u8], pos: &mut usize, depth: usize) -> Result<Option<Reply>, ProtocolError> {
    if depth > MAX_DEPTH {
        return Err(invalid("nested too deeply"));
    }
    let Some((kind, text)) = line(buf, pos)? else {
        return Ok(None);
    };
    let text_str = || String::from_utf8_lossy(text).into_owned();
    let number = || parse_i64(text).ok_or_else(|| invalid("bad length or integer"));
    Ok(Some(match kind {
        b'+' => Reply::Simple(text_str()),
        b'-' => Reply::Error(text_str()),
        b':' => Reply::Int(number()?),
        b'(' => Reply::Bulk(text.to_vec()),
        b'#' => Reply::Int(i64::from(text == b"t")),
        b'_' => Reply::Nil,
        b',' => {
            let t = text_str();
            let d = match t.as_str() {
                "inf" => f64::INFINITY,
                "-inf" => f64::NEG_INFINITY,
                other => other.parse().map_err(|_| invalid("bad double"))?,
            };
            Reply::Double(d)
        }
        b'$' | b'=' | b'!' => {
            let len = number()?;
            if len < 0 {
                return Ok(Some(Reply::Nil));
            }
            let len = len as usize;
            let start = *pos;
            let Some(data) = buf.get(start..start.saturating_add(len).saturating_add(2)) else {
                return Ok(None);
            };
            if &data[len..] != b"\r\n" {
                return Err(invalid("bulk not followed by CRLF"));
            }
            *pos += len + 2;
            let mut data = &data[..len];
            if kind == b'=' && data.len() >= 4 && data[3] == b':' {
                data = &data[4..];
            }
            if kind == b'!' {
                Reply::Error(String::from_utf8_lossy(data).into_owned())
            } else {
                Reply::Bulk(data.to_vec())
            }
        }
        b'*' | b'~' | b'>' => {
            let n = number()?;
            if n < 0 {
                return Ok(Some(Reply::NilArray));
            }
            let mut items = Vec::with_capacity((n as usize).min(1024));
            for _ in 0..n {
                match parse_at(buf, pos, depth + 1)? {
                    Some(item) => items.push(item),
                    None => return Ok(None),
                }
            }
            Reply::Array(items)
        }
        b'%' | b'|' => {
            let n = number()?;
            if n < 0 {
                return Err(invalid("negative map length"));
            }
            let mut pairs = Vec::with_capacity((n as usize).min(1024));
            for _ in 0..n {
                let Some(k) = parse_at(buf, pos, depth + 1)? else {
                    return Ok(None);
                };
                let Some(v) = parse_at(buf, pos, depth + 1)? else {
                    return Ok(None);
                };
                pairs.push((k, v));
            }
            if kind == b'|' {
                // Attributes annotate the reply that follows; the client has no use for them.
                return parse_at(buf, pos, depth + 1);
            }
            Reply::Map(pairs)
        }
        other => {
            return Err(invalid(&format!(
                "unknown type byte '{}'",
                char::from(other).escape_default()
            )))
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{encode_reply, Resp};
    use bytes::BytesMut;

    #[test]
    fn round_trips_through_the_encoder() {
        let replies = vec![
            Reply::Simple("OK".into()),
            Reply::Error("ERR no".into()),
            Reply::Int(-7),
            Reply::Bulk(b"a\r\nb".to_vec()),
            Reply::Nil,
            Reply::Array(vec![
                Reply::Int(1),
                Reply::Array(vec![]),
                Reply::Bulk(vec![]),
            ]),
            Reply::Double(2.5),
            Reply::Map(vec![(Reply::Simple("k".into()), Reply::Int(2))]),
        ];
        for r in replies {
            let mut out = BytesMut::new();
            encode_reply(&r, Resp::V3, &mut out);
            let (got, used) = parse_reply(&out).unwrap().unwrap();
            assert_eq!(got, r);
            assert_eq!(used, out.len());
            for cut in 0..out.len() {
                assert_eq!(
                    parse_reply(&out[..cut]).unwrap(),
                    None,
                    "{r:?} cut at {cut}"
                );
            }
        }
    }

    /// Any reply the encoder can write, nested a few levels.
    fn reply() -> impl proptest::strategy::Strategy<Value = Reply> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            "[a-zA-Z ]{0,8}".prop_map(Reply::Simple),
            "ERR [a-z]{0,8}".prop_map(Reply::Error),
            any::<i64>().prop_map(Reply::Int),
            // Bytes that look like RESP inside a bulk string must not fool the scan.
            prop::collection::vec(
                prop_oneof![
                    any::<u8>(),
                    Just(b'\r'),
                    Just(b'\n'),
                    Just(b'*'),
                    Just(b'$')
                ],
                0..300
            )
            .prop_map(Reply::Bulk),
            Just(Reply::Nil),
            (-1e6f64..1e6).prop_map(Reply::Double),
        ];
        leaf.prop_recursive(4, 64, 8, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..8).prop_map(Reply::Array),
                prop::collection::vec((inner.clone(), inner), 0..4).prop_map(Reply::Map),
            ]
        })
    }

    proptest::proptest! {
        /// The scan (the fast path) against the parser (the plain path): fed any reply a chunk
        /// at a time, in RESP2 and RESP3, with a second reply behind it, it answers nothing
        /// until the first reply is whole and then exactly its length, as `parse_reply` does.
        #[test]
        fn the_scan_finds_the_end_the_parser_finds(
            r in reply(),
            next in reply(),
            cuts in proptest::collection::vec(1usize..64, 1..200),
            v3 in proptest::bool::ANY,
        ) {
            let proto = if v3 { Resp::V3 } else { Resp::V2 };
            let mut out = BytesMut::new();
            encode_reply(&r, proto, &mut out);
            let first = out.len();
            encode_reply(&next, proto, &mut out);
            let mut scan = ReplyScan::default();
            let (mut at, mut cuts) = (0, cuts.into_iter().cycle());
            loop {
                at = (at + cuts.next().unwrap_or(1)).min(out.len());
                let found = scan.complete(&out[..at]);
                let parsed = parse_reply(&out[..at]).unwrap().map(|(_, used)| used);
                proptest::prop_assert_eq!(found, parsed, "at {} of {}", at, out.len());
                if found.is_some() {
                    proptest::prop_assert_eq!(found, Some(first));
                    break;
                }
                proptest::prop_assert!(at < first);
            }
        }
    }

    #[test]
    fn the_scan_hands_malformed_headers_to_the_parser() {
        for bad in [&b"$abc\r\n"[..], b"*x\r\n", b"\r\n", b"%-3\r\n"] {
            let mut scan = ReplyScan::default();
            assert_eq!(scan.complete(bad), Some(bad.len()), "{bad:?}");
            assert!(parse_reply(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn resp2_nulls_and_resp3_extras() {
        let cases: &[(&[u8], Reply)] = &[
            (b"$-1\r\n", Reply::Nil),
            (b"*-1\r\n", Reply::NilArray),
            (b"#t\r\n", Reply::Int(1)),
            (b"=8\r\ntxt:abcd\r\n", Reply::Bulk(b"abcd".to_vec())),
            (b"~1\r\n:1\r\n", Reply::Array(vec![Reply::Int(1)])),
            (b"|1\r\n+a\r\n+b\r\n:5\r\n", Reply::Int(5)),
        ];
        for (input, want) in cases {
            assert_eq!(
                parse_reply(input).unwrap().map(|r| r.0).as_ref(),
                Some(want)
            );
        }
    }

    #[test]
    fn rejects_garbage_and_deep_nesting() {
        assert!(parse_reply(b"?x\r\n").is_err());
        assert!(parse_reply(b":x\r\n").is_err());
        assert!(parse_reply(b"$3\r\nabcde").is_err());
        let deep = "*1\r\n".repeat(MAX_DEPTH + 2);
        assert!(parse_reply(deep.as_bytes()).is_err());
        // A huge declared length with few bytes is "incomplete", not an allocation.
        assert_eq!(parse_reply(b"$9223372036854775807\r\nab").unwrap(), None);
        assert_eq!(parse_reply(b"*9223372036854775807\r\n").unwrap(), None);
    }
}
