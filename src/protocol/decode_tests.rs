//! Decoder tests: data-driven cases, byte-at-a-time feeding, and a proptest over random bytes.

use bytes::BytesMut;
use proptest::prelude::*;

use super::*;

/// Decodes everything in `input`; returns the requests and the first error, if any.
fn decode_all(input: &[u8], limits: Limits) -> (Vec<Vec<String>>, Option<ProtocolError>) {
    let mut dec = Decoder::new(limits);
    let mut buf = BytesMut::from(input);
    let mut out = Vec::new();
    loop {
        match dec.decode(&mut buf) {
            Ok(Some(argv)) => out.push(
                argv.iter()
                    .map(|a| String::from_utf8_lossy(a).into_owned())
                    .collect(),
            ),
            Ok(None) => return (out, None),
            Err(e) => return (out, Some(e)),
        }
    }
}

fn check(input: &str, want: &[&[&str]], err: Option<ProtocolError>) {
    let (got, got_err) = decode_all(input.as_bytes(), Limits::default());
    let want: Vec<Vec<String>> = want
        .iter()
        .map(|r| r.iter().map(|s| s.to_string()).collect())
        .collect();
    assert_eq!((got, got_err), (want, err), "input {input:?}");
}

#[test]
fn decodes_requests() {
    use ProtocolError::*;
    check("*1\r\n$4\r\nPING\r\n", &[&["PING"]], None);
    check(
        "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*1\r\n$4\r\nPING\r\n",
        &[&["GET", "k"], &["PING"]],
        None,
    );
    check("*2\r\n$3\r\nGET\r\n$0\r\n\r\n", &[&["GET", ""]], None);
    check("*0\r\n*-1\r\n*1\r\n$1\r\na\r\n", &[&["a"]], None);
    check("PING\r\n", &[&["PING"]], None);
    check("PING\n", &[&["PING"]], None);
    check(
        "\r\n\n  \r\nset a \"b c\"\r\n",
        &[&["set", "a", "b c"]],
        None,
    );
    check("*1\r\n$4\r\nPI", &[], None);
    check("PING", &[], None);
    check(
        "*1\r\n$4\r\nPING\r\nGET \"x\r\n",
        &[&["PING"]],
        Some(UnbalancedQuotes),
    );
    check("*x\r\n", &[], Some(InvalidMultibulkLength));
    check("*99999999999\r\n", &[], Some(InvalidMultibulkLength));
    check("*1\r\n:1\r\n", &[], Some(ExpectedDollar(b':')));
    check("*1\r\n$-1\r\n", &[], Some(InvalidBulkLength));
    check("*1\r\n$x\r\n", &[], Some(InvalidBulkLength));
    check("*1\r\n$536870913\r\n", &[], Some(InvalidBulkLength));
    check("*1\r\n$1\r\nab\r\n", &[], Some(ExpectedCrlf));
}

#[test]
fn enforces_limits() {
    let small = Limits {
        max_bulk: 4,
        max_inline: 8,
        max_multibulk: 2,
    };
    let cases: &[(&str, ProtocolError)] = &[
        ("123456789", ProtocolError::TooBigInline),
        ("123456789\r\n", ProtocolError::TooBigInline),
        ("*111111111", ProtocolError::TooBigMultibulkCount),
        ("*1\r\n$111111111", ProtocolError::TooBigBulkCount),
        ("*3\r\n", ProtocolError::InvalidMultibulkLength),
        ("*1\r\n$5\r\n", ProtocolError::InvalidBulkLength),
    ];
    for (input, want) in cases {
        assert_eq!(
            decode_all(input.as_bytes(), small).1.as_ref(),
            Some(want),
            "{input:?}"
        );
    }
    let unauth = |input: &[u8]| {
        let mut dec = Decoder::default();
        dec.set_authenticated(false);
        let mut buf = BytesMut::from(input);
        dec.decode(&mut buf).map(|r| r.map(|a| a.len()))
    };
    assert_eq!(
        unauth(b"*11\r\n"),
        Err(ProtocolError::UnauthenticatedMultibulkLength)
    );
    assert_eq!(
        unauth(b"*1\r\n$16385\r\n"),
        Err(ProtocolError::UnauthenticatedBulkLength)
    );
    assert_eq!(unauth(b"*2\r\n$4\r\nAUTH\r\n$2\r\npw\r\n"), Ok(Some(2)));
}

#[test]
fn byte_at_a_time_gives_the_same_requests() {
    let input: &[u8] = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhello\r\nPING\r\n*1\r\n$4\r\nPING\r\n";
    let (whole, _) = decode_all(input, Limits::default());
    let mut dec = Decoder::default();
    let mut buf = BytesMut::new();
    let mut got: Vec<Vec<String>> = Vec::new();
    for &b in input {
        buf.extend_from_slice(&[b]);
        while let Some(argv) = dec.decode(&mut buf).unwrap() {
            got.push(
                argv.iter()
                    .map(|a| String::from_utf8_lossy(a).into_owned())
                    .collect(),
            );
        }
    }
    assert_eq!(got, whole);
    assert_eq!(whole.len(), 3);
    assert!(buf.is_empty());
}

#[test]
fn huge_declared_lengths_are_not_buffered() {
    // Declared 512 MiB, sent 3 bytes: the decoder waits without reserving anything.
    let mut dec = Decoder::default();
    let mut buf = BytesMut::from(&b"*1\r\n$536870912\r\nabc"[..]);
    let cap = buf.capacity();
    assert_eq!(dec.decode(&mut buf).unwrap(), None);
    assert!(buf.capacity() <= cap);
    let mut dec = Decoder::default();
    let mut buf = BytesMut::from(&b"*1048576\r\n"[..]);
    assert_eq!(dec.decode(&mut buf).unwrap(), None);
}

#[test]
fn large_argument_buffers_are_freed_before_the_next_request() {
    let mut dec = Decoder::default();
    let mut wire = BytesMut::new();
    encode_command(
        &[b"SET".to_vec(), b"k".to_vec(), vec![b'x'; 1 << 20]],
        &mut wire,
    );
    let mut buf = wire.clone();
    assert_eq!(
        dec.decode(&mut buf).unwrap().map(|a| a[2].len()),
        Some(1 << 20)
    );
    assert_eq!(dec.last_request().len(), 3);
    assert!(dec.held_bytes() >= 1 << 20);
    // The next call frees them even when no further request has arrived.
    assert_eq!(dec.decode(&mut buf).unwrap(), None);
    assert!(dec.held_bytes() <= 64 * 1024, "{}", dec.held_bytes());
    // Many small arguments: at most KEEP_ARGS_BYTES and KEEP_ARGS buffers are kept.
    let argv: Vec<Vec<u8>> = (0..5000).map(|i| vec![b'a'; 100 + i % 7]).collect();
    let mut buf = BytesMut::new();
    encode_command(&argv, &mut buf);
    assert_eq!(dec.decode(&mut buf).unwrap().map(<[_]>::len), Some(5000));
    assert_eq!(dec.decode(&mut buf).unwrap(), None);
    assert!(dec.held_bytes() <= 256 * 1024, "{}", dec.held_bytes());
    // Small requests still reuse what is kept.
    let mut buf = BytesMut::from(&b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"[..]);
    assert_eq!(dec.decode(&mut buf).unwrap().map(<[_]>::len), Some(2));
    assert_eq!(dec.last_request()[1], b"k");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn random_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = decode_all(&data, Limits::default());
        let _ = decode_all(&data, Limits { max_bulk: 8, max_inline: 16, max_multibulk: 4 });
        let _ = parse_reply(&data);
    }

    #[test]
    fn resp_shaped_noise_never_panics(
        parts in proptest::collection::vec(
            prop_oneof![
                Just(b"*".to_vec()), Just(b"$".to_vec()), Just(b"\r\n".to_vec()),
                Just(b"-1".to_vec()), Just(b"3".to_vec()), Just(b"99999999999999999999".to_vec()),
                Just(b"\"".to_vec()), Just(b"'".to_vec()), Just(b"abc".to_vec()), Just(b" ".to_vec()),
                proptest::collection::vec(any::<u8>(), 0..4),
            ],
            0..40,
        )
    ) {
        let data: Vec<u8> = parts.concat();
        let _ = decode_all(&data, Limits::default());
        let _ = parse_reply(&data);
    }

    #[test]
    fn encoded_commands_decode_back(
        argv in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..20), 1..6),
        split in 0usize..200,
    ) {
        let mut bytes = BytesMut::new();
        encode_command(&argv, &mut bytes);
        let split = split.min(bytes.len());
        let mut dec = Decoder::default();
        let mut buf = BytesMut::from(&bytes[..split]);
        let first = dec.decode(&mut buf).unwrap().map(|a| a.to_vec());
        let got = match first {
            Some(a) => a,
            None => {
                buf.extend_from_slice(&bytes[split..]);
                dec.decode(&mut buf).unwrap().map(|a| a.to_vec()).unwrap_or_default()
            }
        };
        prop_assert_eq!(got, argv);
    }
}
