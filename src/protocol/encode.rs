//! Encoding: replies to RESP2/RESP3 bytes (server side), argv to multibulk bytes (client side).
//!
//! RESP2 has no map, double or null types: maps become flat arrays, doubles become bulk strings,
//! nulls become `$-1`/`*-1`. Simple strings and errors cannot carry CR or LF, so those bytes are
//! replaced by spaces: a reply can never inject a second reply into the stream.
//!
//! Besides [`encode_reply`], the pieces are public ([`write_bulk`], [`write_int_bulk`],
//! [`write_nil`]) with the sizes they append ([`bulk_len`], [`int_bulk_len`], [`nil_len`]), so the
//! daemon can copy a stored value straight into its output buffer, after checking the reply's
//! size against its output cap, instead of building a [`Reply`] and encoding it a second time.

use bytes::{BufMut, BytesMut};

use super::Resp;
use crate::command::Reply;

/// Appends `reply` to `out` in the given protocol version.
pub fn encode_reply(reply: &Reply, proto: Resp, out: &mut BytesMut) {
    match reply {
        Reply::Simple(s) => write_line(b'+', s.as_bytes(), out),
        Reply::Error(s) => write_line(b'-', s.as_bytes(), out),
        Reply::Int(n) => write_int_line(b':', *n, out),
        Reply::Bulk(b) => write_bulk(b, out),
        Reply::Nil => write_nil(proto, out),
        Reply::NilArray => out.put_slice(if proto == Resp::V3 {
            b"_\r\n"
        } else {
            b"*-1\r\n"
        }),
        Reply::Array(items) => {
            write_int_line(b'*', items.len() as i64, out);
            for item in items {
                encode_reply(item, proto, out);
            }
        }
        Reply::Double(d) => {
            let text = format_double(*d);
            if proto == Resp::V3 {
                write_line(b',', text.as_bytes(), out);
            } else {
                write_bulk(text.as_bytes(), out);
            }
        }
        Reply::Map(pairs) => {
            if proto == Resp::V3 {
                write_int_line(b'%', pairs.len() as i64, out);
            } else {
                write_int_line(b'*', pairs.len() as i64 * 2, out);
            }
            for (k, v) in pairs {
                encode_reply(k, proto, out);
                encode_reply(v, proto, out);
            }
        }
    }
}

/// The error for a reply larger than the output cap (Redis's wording for a too-large string,
/// "ERR string exceeds maximum allowed size (proto-max-bulk-len)", naming TinyKV's setting).
pub const REPLY_TOO_BIG: &str = "ERR reply exceeds maximum allowed size (max-output-buffer)";

/// The bytes [`encode_reply`] appends for `reply`, counted without encoding it, so a reply can
/// be weighed against an output cap before it is written.
pub fn encoded_len(reply: &Reply, proto: Resp) -> usize {
    let line = |text_len: usize| 1 + text_len + 2;
    let int_line = |n: i64| line(digits(n.unsigned_abs() as usize) + usize::from(n < 0));
    match reply {
        Reply::Simple(s) | Reply::Error(s) => line(s.len()),
        Reply::Int(n) => int_line(*n),
        Reply::Bulk(b) => bulk_len(b.len()),
        Reply::Nil => nil_len(proto),
        Reply::NilArray => {
            if proto == Resp::V3 {
                3
            } else {
                5
            }
        }
        Reply::Array(items) => items.iter().fold(int_line(items.len() as i64), |n, item| {
            n.saturating_add(encoded_len(item, proto))
        }),
        Reply::Double(d) => {
            let text = format_double(*d).len();
            if proto == Resp::V3 {
                line(text)
            } else {
                bulk_len(text)
            }
        }
        Reply::Map(pairs) => {
            let header = if proto == Resp::V3 {
                int_line(pairs.len() as i64)
            } else {
                int_line(pairs.len() as i64 * 2)
            };
            pairs.iter().fold(header, |n, (k, v)| {
                n.saturating_add(encoded_len(k, proto))
                    .saturating_add(encoded_len(v, proto))
            })
        }
    }
}

/// Appends `argv` as a multibulk request (what clients send).
pub fn encode_command<A: AsRef<[u8]>>(argv: &[A], out: &mut BytesMut) {
    write_int_line(b'*', argv.len() as i64, out);
    for arg in argv {
        write_bulk(arg.as_ref(), out);
    }
}

/// Appends `<prefix><n>\r\n` without going through `fmt`.
pub fn write_int_line(prefix: u8, n: i64, out: &mut BytesMut) {
    let mut buf = [0u8; 24];
    let mut i = format_int(n, &mut buf);
    i -= 1;
    buf[i] = prefix;
    out.reserve(buf.len() - i + 2);
    out.put_slice(&buf[i..]);
    out.put_slice(b"\r\n");
}

/// Writes the decimal text of `n` at the end of `buf`; returns where it starts (at least 3, so
/// a prefix byte fits in front).
fn format_int(n: i64, buf: &mut [u8; 24]) -> usize {
    let mut i = buf.len();
    let neg = n < 0;
    let mut v = n.unsigned_abs();
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    if neg {
        i -= 1;
        buf[i] = b'-';
    }
    i
}

/// Number of decimal digits in `n`.
fn digits(mut n: usize) -> usize {
    let mut d = 1;
    while n >= 10 {
        n /= 10;
        d += 1;
    }
    d
}

/// Appends `data` as a bulk string: `$<len>\r\n<data>\r\n`, [`bulk_len`] bytes.
pub fn write_bulk(data: &[u8], out: &mut BytesMut) {
    write_int_line(b'$', data.len() as i64, out);
    out.reserve(data.len() + 2);
    out.put_slice(data);
    out.put_slice(b"\r\n");
}

/// How many bytes [`write_bulk`] appends for `len` bytes of data.
pub fn bulk_len(len: usize) -> usize {
    1 + digits(len) + 2 + len + 2
}

/// Appends the decimal text of `n` as a bulk string (how an integer value reads back), without
/// allocating; [`int_bulk_len`] bytes.
pub fn write_int_bulk(n: i64, out: &mut BytesMut) {
    let mut buf = [0u8; 24];
    let i = format_int(n, &mut buf);
    write_bulk(&buf[i..], out);
}

/// How many bytes [`write_int_bulk`] appends for `n`.
pub fn int_bulk_len(n: i64) -> usize {
    bulk_len(digits(n.unsigned_abs() as usize) + usize::from(n < 0))
}

/// Appends the null bulk string: `$-1` in RESP2, `_` in RESP3.
pub fn write_nil(proto: Resp, out: &mut BytesMut) {
    out.put_slice(if proto == Resp::V3 {
        b"_\r\n"
    } else {
        b"$-1\r\n"
    });
}

/// How many bytes [`write_nil`] appends.
pub fn nil_len(proto: Resp) -> usize {
    if proto == Resp::V3 {
        3
    } else {
        5
    }
}

fn write_line(prefix: u8, text: &[u8], out: &mut BytesMut) {
    out.reserve(text.len() + 3);
    out.put_u8(prefix);
    if text.iter().any(|&b| b == b'\r' || b == b'\n') {
        out.extend(
            text.iter()
                .map(|&b| if b == b'\r' || b == b'\n' { b' ' } else { b }),
        );
    } else {
        out.put_slice(text);
    }
    out.put_slice(b"\r\n");
}

/// Redis's double formatting: `inf`, `-inf`, `nan`, integers without a fraction, otherwise the
/// shortest text that reads back to the same double.
fn format_double(d: f64) -> String {
    if d.is_nan() {
        "nan".to_string()
    } else if d.is_infinite() {
        if d > 0.0 { "inf" } else { "-inf" }.to_string()
    } else if d.fract() == 0.0 && d.abs() < 1e17 {
        format!("{d:.0}")
    } else {
        format!("{d:?}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Any reply, nested up to three levels.
    fn reply() -> impl Strategy<Value = Reply> {
        let leaf = prop_oneof![
            ".{0,20}".prop_map(Reply::Simple),
            "[a-z\r\n ]{0,20}".prop_map(Reply::Error),
            any::<i64>().prop_map(Reply::Int),
            prop::collection::vec(any::<u8>(), 0..200).prop_map(Reply::Bulk),
            Just(Reply::Nil),
            Just(Reply::NilArray),
            any::<f64>().prop_map(Reply::Double),
        ];
        leaf.prop_recursive(3, 64, 8, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..8).prop_map(Reply::Array),
                prop::collection::vec((inner.clone(), inner), 0..4).prop_map(Reply::Map),
            ]
        })
    }

    proptest! {
        #[test]
        fn encoded_len_is_what_encode_writes(r in reply(), v3 in any::<bool>()) {
            let proto = if v3 { Resp::V3 } else { Resp::V2 };
            let mut out = BytesMut::new();
            encode_reply(&r, proto, &mut out);
            prop_assert_eq!(encoded_len(&r, proto), out.len());
        }
    }

    fn check(reply: Reply, v2: &str, v3: &str) {
        for (proto, want) in [(Resp::V2, v2), (Resp::V3, v3)] {
            let mut out = BytesMut::new();
            encode_reply(&reply, proto, &mut out);
            assert_eq!(
                String::from_utf8_lossy(&out),
                want,
                "{reply:?} in {proto:?}"
            );
        }
    }

    #[test]
    fn encodes_every_reply_kind() {
        check(Reply::Simple("OK".into()), "+OK\r\n", "+OK\r\n");
        check(Reply::Simple("a\r\nb".into()), "+a  b\r\n", "+a  b\r\n");
        check(Reply::Error("ERR x".into()), "-ERR x\r\n", "-ERR x\r\n");
        check(Reply::Int(0), ":0\r\n", ":0\r\n");
        check(Reply::Int(-42), ":-42\r\n", ":-42\r\n");
        check(
            Reply::Int(i64::MIN),
            ":-9223372036854775808\r\n",
            ":-9223372036854775808\r\n",
        );
        check(
            Reply::Int(i64::MAX),
            ":9223372036854775807\r\n",
            ":9223372036854775807\r\n",
        );
        check(Reply::Bulk(b"hi".to_vec()), "$2\r\nhi\r\n", "$2\r\nhi\r\n");
        check(Reply::Bulk(Vec::new()), "$0\r\n\r\n", "$0\r\n\r\n");
        check(Reply::Nil, "$-1\r\n", "_\r\n");
        check(Reply::NilArray, "*-1\r\n", "_\r\n");
        check(Reply::Array(vec![]), "*0\r\n", "*0\r\n");
        check(
            Reply::Array(vec![Reply::Int(1), Reply::Nil]),
            "*2\r\n:1\r\n$-1\r\n",
            "*2\r\n:1\r\n_\r\n",
        );
        check(Reply::Double(1.5), "$3\r\n1.5\r\n", ",1.5\r\n");
        check(Reply::Double(3.0), "$1\r\n3\r\n", ",3\r\n");
        check(Reply::Double(f64::INFINITY), "$3\r\ninf\r\n", ",inf\r\n");
        check(
            Reply::Double(f64::NEG_INFINITY),
            "$4\r\n-inf\r\n",
            ",-inf\r\n",
        );
        check(
            Reply::Map(vec![(Reply::Bulk(b"k".to_vec()), Reply::Int(1))]),
            "*2\r\n$1\r\nk\r\n:1\r\n",
            "%1\r\n$1\r\nk\r\n:1\r\n",
        );
    }

    #[test]
    fn piece_sizes_match_what_is_written() {
        for len in [0, 1, 9, 10, 99, 100, 12345] {
            let mut out = BytesMut::new();
            write_bulk(&vec![b'x'; len], &mut out);
            assert_eq!(out.len(), bulk_len(len), "bulk of {len}");
        }
        for n in [0, 7, -7, 10, -10, 123456, i64::MAX, i64::MIN] {
            let mut out = BytesMut::new();
            write_int_bulk(n, &mut out);
            assert_eq!(out.len(), int_bulk_len(n), "int {n}");
            assert_eq!(
                out,
                format!("${}\r\n{n}\r\n", n.to_string().len()).as_bytes()
            );
        }
        for proto in [Resp::V2, Resp::V3] {
            let mut out = BytesMut::new();
            write_nil(proto, &mut out);
            assert_eq!(out.len(), nil_len(proto));
        }
    }

    #[test]
    fn encodes_commands_as_multibulk() {
        let mut out = BytesMut::new();
        encode_command(&["SET", "k", ""], &mut out);
        assert_eq!(&out[..], b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n");
    }
}
