//! Dates as pages write them, normalised to ISO 8601 (RFC 3339).
//!
//! Owns every date parse the article and comment extractors do: machine dates
//! (`<time datetime>`, JSON-LD, `article:published_time`), the human forms comment sections
//! show ("14 March 2024 at 09:30", "March 14, 2024 9:30 pm", "14/03/2024"), and relative
//! ones ("4h ago", "2 days ago", "yesterday"), which only make sense against the capture
//! time. A date without a zone is taken as UTC: pages rarely say, and a stable answer beats
//! a guess.

use chrono::{DateTime, Duration, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, Utc};

/// `s` as an RFC 3339 string (seconds precision), or `None` when it is not a date.
/// Dates with an offset keep it; bare dates get midnight UTC.
pub fn normalize_date(s: &str, captured_at: DateTime<Utc>) -> Option<String> {
    parse_date(s, captured_at).map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, false))
}

/// Parses `s` (machine, human or relative form) into a date with offset.
pub fn parse_date(s: &str, captured_at: DateTime<Utc>) -> Option<DateTime<FixedOffset>> {
    let s = s.trim();
    if s.is_empty() || s.len() > 80 {
        return None;
    }
    parse_iso(s)
        .or_else(|| parse_relative(s, captured_at))
        .or_else(|| parse_human(s))
}

fn utc(n: NaiveDateTime) -> DateTime<FixedOffset> {
    n.and_utc().fixed_offset()
}

fn parse_iso(s: &str) -> Option<DateTime<FixedOffset>> {
    if let Ok(d) = DateTime::parse_from_rfc3339(s) {
        return Some(d);
    }
    // Common near-misses of RFC 3339: no seconds, "+0000" offsets, a space for the "T".
    for f in [
        "%Y-%m-%dT%H:%M%:z",
        "%Y-%m-%dT%H:%M:%S%z",
        "%Y-%m-%d %H:%M:%S%:z",
    ] {
        if let Ok(d) = DateTime::parse_from_str(s, f) {
            return Some(d);
        }
    }
    for f in [
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(n) = NaiveDateTime::parse_from_str(s.trim_end_matches('Z'), f) {
            return Some(utc(n));
        }
    }
    // Fractional seconds without zone, e.g. "2024-03-14T09:30:00.000".
    if let Some((head, _)) = s.split_once('.')
        && let Ok(n) = NaiveDateTime::parse_from_str(head, "%Y-%m-%dT%H:%M:%S")
    {
        return Some(utc(n));
    }
    if let Ok(d) = DateTime::parse_from_rfc2822(s) {
        return Some(d);
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(utc)
}

/// "4h ago", "3 minutes ago", "2 days ago", "a week ago", "yesterday", "just now".
fn parse_relative(s: &str, now: DateTime<Utc>) -> Option<DateTime<FixedOffset>> {
    let lower = s.to_lowercase();
    let lower = lower.trim().trim_end_matches('.');
    let at = |d: Duration| now.checked_sub_signed(d).map(|t| t.fixed_offset());
    match lower {
        "just now" | "now" | "moments ago" | "a moment ago" => return at(Duration::zero()),
        "yesterday" => return at(Duration::days(1)),
        _ => {}
    }
    let rest = lower.strip_suffix("ago")?.trim();
    // "4h", "4 h", "4 hours", "an hour", "a day"
    let split = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    let (num, unit) = rest.split_at(split);
    let n: i64 = if num.is_empty() {
        let (article, unit_rest) = unit.trim().split_once(' ')?;
        if !matches!(article, "a" | "an" | "one") {
            return None;
        }
        return unit_duration(unit_rest.trim(), 1).and_then(at);
    } else {
        num.parse().ok()?
    };
    unit_duration(unit.trim(), n).and_then(at)
}

fn unit_duration(unit: &str, n: i64) -> Option<Duration> {
    let unit = unit.trim_end_matches('s');
    let d = match unit {
        "" | "sec" | "second" => Duration::try_seconds(n)?,
        "m" | "min" | "minute" | "mn" => Duration::try_minutes(n)?,
        "h" | "hr" | "hour" => Duration::try_hours(n)?,
        "d" | "day" => Duration::try_days(n)?,
        "w" | "wk" | "week" => Duration::try_weeks(n)?,
        // Months and years are approximate on every site that shows them.
        "mo" | "month" => Duration::try_days(n.checked_mul(30)?)?,
        "y" | "yr" | "year" => Duration::try_days(n.checked_mul(365)?)?,
        _ => return None,
    };
    Some(d)
}

/// Human dates: day-month-year or month-day-year with month names, numeric day/month/year,
/// each optionally followed by a time ("at 09:30", "9:30 pm", "21:05").
fn parse_human(s: &str) -> Option<DateTime<FixedOffset>> {
    let cleaned: String = s
        .replace(" at ", " ")
        .replace([',', '|', '@'], " ")
        .replace("&nbsp;", " ");
    let words: Vec<&str> = cleaned.split_whitespace().collect();
    let (date, used) = human_date(&words)?;
    let time = human_time(&words[used..]).unwrap_or(NaiveTime::MIN);
    Some(utc(date.and_time(time)))
}

fn month(word: &str) -> Option<u32> {
    const MONTHS: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let w = word.to_lowercase();
    let w = w.trim_end_matches('.');
    if w.len() < 3 {
        return None;
    }
    let pos = MONTHS.iter().position(|m| w.starts_with(m))?;
    u32::try_from(pos + 1).ok()
}

fn day(word: &str) -> Option<u32> {
    let w = word.trim_end_matches(|c: char| c.is_ascii_alphabetic() || c == '.');
    w.parse().ok().filter(|d| (1..=31).contains(d))
}

/// The date at the start of `words` (skipping a leading weekday) and how many words it used.
fn human_date(words: &[&str]) -> Option<(NaiveDate, usize)> {
    let skip = usize::from(words.first().is_some_and(|w| {
        let w = w.to_lowercase();
        ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
            .iter()
            .any(|d| w.starts_with(d))
            && month(&w).is_none()
    }));
    let w = words.get(skip..)?;
    let year = |x: &str| x.parse::<i32>().ok().filter(|y| (1000..=9999).contains(y));
    // 14 March 2024
    if let (Some(d), Some(m), Some(y)) = (
        w.first().and_then(|x| day(x)),
        w.get(1).and_then(|x| month(x)),
        w.get(2).and_then(|x| year(x)),
    ) {
        return NaiveDate::from_ymd_opt(y, m, d).map(|n| (n, skip + 3));
    }
    // March 14 2024
    if let (Some(m), Some(d), Some(y)) = (
        w.first().and_then(|x| month(x)),
        w.get(1).and_then(|x| day(x)),
        w.get(2).and_then(|x| year(x)),
    ) {
        return NaiveDate::from_ymd_opt(y, m, d).map(|n| (n, skip + 3));
    }
    // 14/03/2024, 14.03.2024 (day first, as most of the world writes it), 2024/03/14
    let first = w.first()?;
    let parts: Vec<&str> = first.split(['/', '.', '-']).collect();
    if let [a, b, c] = parts.as_slice() {
        let (a, b, c): (u32, u32, i32) = (a.parse().ok()?, b.parse().ok()?, c.parse().ok()?);
        let date = if a > 999 {
            NaiveDate::from_ymd_opt(i32::try_from(a).ok()?, b, u32::try_from(c).ok()?)
        } else {
            NaiveDate::from_ymd_opt(c, b, a).or_else(|| NaiveDate::from_ymd_opt(c, a, b))
        };
        return date.map(|n| (n, skip + 1));
    }
    None
}

fn human_time(words: &[&str]) -> Option<NaiveTime> {
    let t = words.first()?.to_lowercase();
    let (t, mut pm) = match t.strip_suffix("pm") {
        Some(x) => (x.to_owned(), Some(true)),
        None => match t.strip_suffix("am") {
            Some(x) => (x.to_owned(), Some(false)),
            None => (t.clone(), None),
        },
    };
    if pm.is_none() {
        pm = match words.get(1).map(|w| w.to_lowercase()).as_deref() {
            Some("pm" | "p.m.") => Some(true),
            Some("am" | "a.m.") => Some(false),
            _ => None,
        };
    }
    let (h, m) = t.split_once(':')?;
    let (mut h, m): (u32, u32) = (h.parse().ok()?, m.get(..2)?.parse().ok()?);
    match pm {
        Some(true) if h < 12 => h += 12,
        Some(false) if h == 12 => h = 0,
        _ => {}
    }
    NaiveTime::from_hms_opt(h, m, 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cap() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2024-05-01T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn table() {
        let cases = [
            (
                "2024-03-14T09:30:00+00:00",
                Some("2024-03-14T09:30:00+00:00"),
            ),
            ("2024-03-14T09:30:00Z", Some("2024-03-14T09:30:00+00:00")),
            ("2024-03-14T09:30+01:00", Some("2024-03-14T09:30:00+01:00")),
            ("2024-03-14T09:30:00.000", Some("2024-03-14T09:30:00+00:00")),
            ("2024-03-14", Some("2024-03-14T00:00:00+00:00")),
            ("14 March 2024 at 09:30", Some("2024-03-14T09:30:00+00:00")),
            ("March 14, 2024 9:05 pm", Some("2024-03-14T21:05:00+00:00")),
            (
                "Thu Mar 14, 2024 8:15 am",
                Some("2024-03-14T08:15:00+00:00"),
            ),
            ("14/03/2024 21:00", Some("2024-03-14T21:00:00+00:00")),
            ("4h ago", Some("2024-05-01T08:00:00+00:00")),
            ("2 days ago", Some("2024-04-29T12:00:00+00:00")),
            ("an hour ago", Some("2024-05-01T11:00:00+00:00")),
            ("yesterday", Some("2024-04-30T12:00:00+00:00")),
            ("Reply", None),
            ("says:", None),
            ("99999999999999999999 days ago", None),
            ("", None),
        ];
        for (input, want) in cases {
            assert_eq!(normalize_date(input, cap()).as_deref(), want, "{input}");
        }
    }
}
