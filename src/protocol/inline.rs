//! Splitting an inline command line into arguments, with Redis's `sdssplitargs` rules.
//!
//! Unquoted words end at whitespace; `"..."` understands `\n \r \t \b \a \\ \" \xHH`; `'...'`
//! understands only `\'`. A closing quote must be followed by whitespace or the end of the line.
//! The REPL and the client's one-shot mode use the same rules, so a line means the same thing
//! typed at the REPL, sent inline to the daemon, or typed at redis-cli.

/// Splits `line` into arguments; `None` on unbalanced quotes.
pub fn split_args(line: &[u8]) -> Option<Vec<Vec<u8>>> {
    let mut args = Vec::new();
    let mut i = 0;
    loop {
        while i < line.len() && is_space(line[i]) {
            i += 1;
        }
        if i == line.len() {
            return Some(args);
        }
        let mut cur = Vec::new();
        match line[i] {
            b'"' => {
                i += 1;
                loop {
                    match line.get(i) {
                        None => return None,
                        Some(b'\\') => {
                            if let Some(v) = hex_escape(line.get(i + 1..i + 4)) {
                                cur.push(v);
                                i += 4;
                            } else if let Some(&c) = line.get(i + 1) {
                                cur.push(match c {
                                    b'n' => b'\n',
                                    b'r' => b'\r',
                                    b't' => b'\t',
                                    b'b' => 0x08,
                                    b'a' => 0x07,
                                    other => other,
                                });
                                i += 2;
                            } else {
                                return None;
                            }
                        }
                        Some(b'"') => {
                            i += 1;
                            if i < line.len() && !is_space(line[i]) {
                                return None;
                            }
                            break;
                        }
                        Some(&c) => {
                            cur.push(c);
                            i += 1;
                        }
                    }
                }
            }
            b'\'' => {
                i += 1;
                loop {
                    match line.get(i) {
                        None => return None,
                        Some(b'\\') if line.get(i + 1) == Some(&b'\'') => {
                            cur.push(b'\'');
                            i += 2;
                        }
                        Some(b'\'') => {
                            i += 1;
                            if i < line.len() && !is_space(line[i]) {
                                return None;
                            }
                            break;
                        }
                        Some(&c) => {
                            cur.push(c);
                            i += 1;
                        }
                    }
                }
            }
            _ => {
                while i < line.len() && !is_space(line[i]) {
                    cur.push(line[i]);
                    i += 1;
                }
            }
        }
        args.push(cur);
    }
}

/// C's `isspace`: space, \t, \n, \v, \f, \r.
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// `xHH` after a backslash, as one byte.
fn hex_escape(s: Option<&[u8]>) -> Option<u8> {
    match s? {
        [b'x', h, l] => {
            let h = char::from(*h).to_digit(16)?;
            let l = char::from(*l).to_digit(16)?;
            u8::try_from(h * 16 + l).ok()
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(line: &str, want: Option<&[&str]>) {
        let got = split_args(line.as_bytes());
        let want: Option<Vec<Vec<u8>>> =
            want.map(|w| w.iter().map(|s| s.as_bytes().to_vec()).collect());
        assert_eq!(got, want, "line {line:?}");
    }

    #[test]
    fn splits_like_sdssplitargs() {
        check("", Some(&[]));
        check("   ", Some(&[]));
        check("PING", Some(&["PING"]));
        check("set  a\tb ", Some(&["set", "a", "b"]));
        check(r#"set "a b" c"#, Some(&["set", "a b", "c"]));
        check(r#"set "a\nb""#, Some(&["set", "a\nb"]));
        check(r#"set "\x41\x4a""#, Some(&["set", "AJ"]));
        check(r#"set "\xZZ""#, Some(&["set", "xZZ"]));
        check(r#"set 'it\'s' x"#, Some(&["set", "it's", "x"]));
        check(r#"set 'a\nb'"#, Some(&["set", "a\\nb"]));
        check(r#"set "" x"#, Some(&["set", "", "x"]));
        check(r#"set "abc"#, None);
        check(r#"set 'abc"#, None);
        check(r#"set "a"b"#, None);
        check(r#"set 'a'b"#, None);
        check(r#"set "a\"#, None);
    }
}
