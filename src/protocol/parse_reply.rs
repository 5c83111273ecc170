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
