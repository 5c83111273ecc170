//! Redis-style glob matching for KEYS and SCAN MATCH: `*`, `?`, `[abc]`, `[^a]`, `[a-z]` and
//! `\x` escapes, with the semantics of Redis's `stringmatchlen`. Iterative with backtracking to
//! the last `*`, so hostile patterns cost O(pattern x text), never exponential time.

/// Does `text` match the glob `pattern`?
pub fn matches(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0usize, 0usize);
    // Position after the last `*` seen, and the text position it was tried at.
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() {
            match pattern[p] {
                b'*' => {
                    star = Some((p + 1, t));
                    p += 1;
                    continue;
                }
                b'?' => {
                    p += 1;
                    t += 1;
                    continue;
                }
                b'[' => {
                    if let Some((hit, next)) = class(pattern, p, text[t]) {
                        if hit {
                            p = next;
                            t += 1;
                            continue;
                        }
                    } else if text[t] == b'[' {
                        // An unterminated class matches a literal '['.
                        p += 1;
                        t += 1;
                        continue;
                    }
                }
                b'\\' if p + 1 < pattern.len() => {
                    if pattern[p + 1] == text[t] {
                        p += 2;
                        t += 1;
                        continue;
                    }
                }
                c => {
                    if c == text[t] {
                        p += 1;
                        t += 1;
                        continue;
                    }
                }
            }
        }
        match star {
            Some((sp, st)) => {
                p = sp;
                t = st + 1;
                star = Some((sp, st + 1));
            }
            None => return false,
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

/// Evaluate the class starting at `pattern[start] == b'['` against `c`. Returns whether it
/// matched and the index just past the closing `]`, or `None` if the class is unterminated.
fn class(pattern: &[u8], start: usize, c: u8) -> Option<(bool, usize)> {
    let mut i = start + 1;
    let negate = pattern.get(i) == Some(&b'^');
    if negate {
        i += 1;
    }
    let mut hit = false;
    let mut first = true;
    loop {
        let pc = *pattern.get(i)?;
        if pc == b']' && !first {
            return Some((hit != negate, i + 1));
        }
        first = false;
        if pc == b'\\' && i + 1 < pattern.len() {
            hit |= pattern[i + 1] == c;
            i += 2;
        } else if i + 2 < pattern.len() && pattern[i + 1] == b'-' && pattern[i + 2] != b']' {
            let (lo, hi) = (pc.min(pattern[i + 2]), pc.max(pattern[i + 2]));
            hit |= (lo..=hi).contains(&c);
            i += 3;
        } else {
            hit |= pc == c;
            i += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::matches;

    fn check(pattern: &str, text: &str, expected: bool) {
        assert_eq!(
            matches(pattern.as_bytes(), text.as_bytes()),
            expected,
            "pattern {pattern:?} text {text:?}"
        );
    }

    #[test]
    fn glob_cases() {
        check("*", "", true);
        check("*", "anything", true);
        check("user:*", "user:42", true);
        check("user:*", "users:42", false);
        check("h?llo", "hello", true);
        check("h?llo", "hllo", false);
        check("h[ae]llo", "hallo", true);
        check("h[ae]llo", "hillo", false);
        check("h[^e]llo", "hallo", true);
        check("h[^e]llo", "hello", false);
        check("h[a-c]llo", "hbllo", true);
        check("h[a-c]llo", "hdllo", false);
        check("h\\*llo", "h*llo", true);
        check("h\\*llo", "hello", false);
        check("*a*b*c*", "xxaxxbxxcxx", true);
        check("*a*b*c*", "xxaxxcxxbxx", false);
        check("a*", "b", false);
        check("", "", true);
        check("", "a", false);
        check("[", "[", true);
        check("k[]]", "k]", true);
    }

    #[test]
    fn pathological_pattern_is_fast() {
        let text = "a".repeat(10_000);
        let pattern = "*a".repeat(50) + "b";
        assert!(!matches(pattern.as_bytes(), text.as_bytes()));
    }
}
