//! Splitting a REPL line into arguments the way redis-cli does: whitespace separates, double
//! quotes allow escapes (`\n`, `\t`, `\"`, `\\`, `\xHH`), single quotes are literal (with `\'`).

/// Split `line` into arguments; an error names the problem (unbalanced quotes).
pub fn split_args(line: &str) -> Result<Vec<Vec<u8>>, String> {
    let b = line.as_bytes();
    let mut args = Vec::new();
    let mut i = 0;
    loop {
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= b.len() {
            return Ok(args);
        }
        let mut cur = Vec::new();
        let (mut in_dq, mut in_sq) = (false, false);
        loop {
            let c = b.get(i).copied();
            if in_dq {
                match c {
                    None => return Err("unbalanced quotes in request".into()),
                    Some(b'\\')
                        if i + 3 < b.len()
                            && b[i + 1] == b'x'
                            && hex(b[i + 2]).is_some()
                            && hex(b[i + 3]).is_some() =>
                    {
                        cur.push(hex(b[i + 2]).unwrap_or(0) * 16 + hex(b[i + 3]).unwrap_or(0));
                        i += 3;
                    }
                    Some(b'\\') if i + 1 < b.len() => {
                        i += 1;
                        cur.push(match b[i] {
                            b'n' => b'\n',
                            b'r' => b'\r',
                            b't' => b'\t',
                            b'b' => 8,
                            b'a' => 7,
                            other => other,
                        });
                    }
                    Some(b'"') => {
                        if b.get(i + 1).is_some_and(|n| !n.is_ascii_whitespace()) {
                            return Err("closing quote must be followed by a space".into());
                        }
                        i += 1;
                        break;
                    }
                    Some(other) => cur.push(other),
                }
            } else if in_sq {
                match c {
                    None => return Err("unbalanced quotes in request".into()),
                    Some(b'\\') if b.get(i + 1) == Some(&b'\'') => {
                        cur.push(b'\'');
                        i += 1;
                    }
                    Some(b'\'') => {
                        if b.get(i + 1).is_some_and(|n| !n.is_ascii_whitespace()) {
                            return Err("closing quote must be followed by a space".into());
                        }
                        i += 1;
                        break;
                    }
                    Some(other) => cur.push(other),
                }
            } else {
                match c {
                    None => break,
                    Some(w) if w.is_ascii_whitespace() => break,
                    Some(b'"') => in_dq = true,
                    Some(b'\'') => in_sq = true,
                    Some(other) => cur.push(other),
                }
            }
            i += 1;
        }
        args.push(cur);
    }
}

fn hex(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

#[cfg(test)]
mod tests {
    use super::split_args;

    fn check(line: &str, expected: &[&str]) {
        let got = split_args(line).unwrap();
        let want: Vec<Vec<u8>> = expected.iter().map(|s| s.as_bytes().to_vec()).collect();
        assert_eq!(got, want, "line {line:?}");
    }

    #[test]
    fn splitting() {
        check("SET a b", &["SET", "a", "b"]);
        check("  SET   a   b  ", &["SET", "a", "b"]);
        check(
            "SET greeting \"hello world\"",
            &["SET", "greeting", "hello world"],
        );
        check("SET e \"a\\nb\\x41\"", &["SET", "e", "a\nbA"]);
        check("SET s 'don\\'t'", &["SET", "s", "don't"]);
        check("SET empty \"\"", &["SET", "empty", ""]);
        check("", &[]);
        assert!(split_args("SET a \"open").is_err());
        assert!(split_args("SET a 'open").is_err());
        assert!(split_args("SET a \"x\"y").is_err());
    }
}
