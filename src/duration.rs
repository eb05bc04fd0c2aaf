//! Go's `time.ParseDuration` syntax, which both containerd (`dial_timeout`) and the kubelet
//! (`defaultCacheDuration`) use: `"300ms"`, `"1h30m"`, `"-1.5s"`, `"0"`.

/// Nanoseconds of a Go duration; `1 << 63` is the magnitude of the most negative one.
const LIMIT: u64 = 1 << 63;

/// Parses a Go duration into nanoseconds. `None` when Go would reject the text.
///
/// The arithmetic is Go's own, in unsigned 64-bit integers with the same overflow checks, so
/// a value one nanosecond past the int64 range is rejected exactly where Go rejects it (a
/// float sum rounds `9223372036854775808ns` down into range and would accept it).
pub(crate) fn parse_go_duration(text: &str) -> Option<i64> {
    let (negative, mut rest) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    if rest == "0" {
        return Some(0);
    }
    if rest.is_empty() {
        return None;
    }
    let mut total: u64 = 0;
    while !rest.is_empty() {
        if !rest.starts_with(|c: char| c == '.' || c.is_ascii_digit()) {
            return None;
        }
        let (whole, after) = leading_int(rest)?;
        let mut digits_seen = after.len() != rest.len();
        rest = after;
        let (mut fraction, mut scale) = (0, 1.0);
        if let Some(after_point) = rest.strip_prefix('.') {
            let (f, s, after) = leading_fraction(after_point);
            digits_seen |= after.len() != after_point.len();
            (fraction, scale, rest) = (f, s, after);
        }
        if !digits_seen {
            return None;
        }
        let unit_len = rest
            .find(|c: char| c == '.' || c.is_ascii_digit())
            .unwrap_or(rest.len());
        let unit: u64 = match &rest[..unit_len] {
            "ns" => 1,
            "us" | "µs" | "μs" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            _ => return None,
        };
        rest = &rest[unit_len..];
        if whole > LIMIT / unit {
            return None;
        }
        let mut value = whole * unit;
        if fraction > 0 {
            // As Go: a float is exact enough for the fraction of one unit (at most 3.6e12 ns).
            value += (fraction as f64 * (unit as f64 / scale)) as u64;
            if value > LIMIT {
                return None;
            }
        }
        total += value;
        if total > LIMIT {
            return None;
        }
    }
    match (negative, i64::try_from(total)) {
        (false, Ok(n)) => Some(n),
        (false, Err(_)) => None,
        (true, _) => Some(0i64.wrapping_sub_unsigned(total)),
    }
}

/// Go's `leadingInt`: the leading digits as an integer, `None` past `1 << 63`.
fn leading_int(text: &str) -> Option<(u64, &str)> {
    let end = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let mut value: u64 = 0;
    for digit in text[..end].bytes() {
        if value > LIMIT / 10 {
            return None;
        }
        value = value * 10 + u64::from(digit - b'0');
        if value > LIMIT {
            return None;
        }
    }
    Some((value, &text[end..]))
}

/// Go's `leadingFraction`: the digits after the point and their scale; digits past the
/// precision of a u64 are consumed and ignored, never an error.
fn leading_fraction(text: &str) -> (u64, f64, &str) {
    let end = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (mut value, mut scale) = (0u64, 1.0f64);
    let mut overflow = false;
    for digit in text[..end].bytes() {
        if overflow {
            continue;
        }
        if value > (LIMIT - 1) / 10 {
            overflow = true;
            continue;
        }
        let next = value * 10 + u64::from(digit - b'0');
        if next > LIMIT {
            overflow = true;
            continue;
        }
        value = next;
        scale *= 10.0;
    }
    (value, scale, &text[end..])
}

#[cfg(test)]
mod tests {
    use super::parse_go_duration;

    #[test]
    fn accepts_what_go_accepts() {
        assert_eq!(parse_go_duration("0"), Some(0));
        assert_eq!(parse_go_duration("0s"), Some(0));
        assert_eq!(parse_go_duration("5s"), Some(5_000_000_000));
        assert_eq!(parse_go_duration("1m30s"), Some(90_000_000_000));
        assert_eq!(parse_go_duration("1.5h"), Some(5_400_000_000_000));
        assert_eq!(parse_go_duration("-2ms"), Some(-2_000_000));
        assert_eq!(parse_go_duration("300µs"), Some(300_000));
        assert_eq!(parse_go_duration(".5s"), Some(500_000_000));
        assert_eq!(parse_go_duration("1.s"), Some(1_000_000_000));
        assert_eq!(
            parse_go_duration("9223372036854775807ns"),
            Some(i64::MAX),
            "the largest duration"
        );
        assert_eq!(
            parse_go_duration("-9223372036854775808ns"),
            Some(i64::MIN),
            "the most negative duration"
        );
        assert_eq!(
            parse_go_duration("2562047h47m16.854775807s"),
            Some(i64::MAX)
        );
    }

    #[test]
    fn rejects_what_go_rejects() {
        for bad in [
            "",
            "5",
            "1d",
            "s",
            "1.2.3s",
            "-",
            ".s",
            "1h 30m",
            "1S",
            "12hours",
            "99999999999h",
        ] {
            assert_eq!(parse_go_duration(bad), None, "{bad}");
        }
    }

    #[test]
    fn go_overflow_checks() {
        for past in [
            "9223372036854775808ns",
            "2562047h47m16.854775808s",
            "9223372036854775807ns1ns",
            "-9223372036854775809ns",
            "99999999999999999999ns",
        ] {
            assert_eq!(
                parse_go_duration(past),
                None,
                "{past} is past the int64 range"
            );
        }
    }
}
