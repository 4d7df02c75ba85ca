//! Crawler traps: URL shapes that multiply without end, and URLs that differ from one
//! already seen only in ways that do not change the page.
//!
//! [`Traps::check`] rejects a URL for the first rule it breaks, in this order (the reason
//! is the manifest counter `counts.rejected."trap:<rule>"`):
//!
//! * `trap:reject_param`: a query parameter named in `reject_params`. WordPress's
//!   `?replytocom=5` link repeats the whole article once per comment.
//! * `trap:query_params`: more than `max_query_params` query pairs. Faceted search
//!   (`?color=red&size=m&brand=x&...`) links every combination of filters to every other.
//! * `trap:path_depth`: more than `max_path_depth` non-empty path segments. Generated
//!   paths (`/1/2/3/4/...`) nest without end.
//! * `trap:repeated_segments`: one non-empty segment occurring more than
//!   `max_segment_repeats` times (`/a/b/a/b/a/` with 2). A relative link resolved against
//!   the wrong base (`href="a/b/"` on a page that serves every path) appends itself forever.
//! * `trap:pagination`: a page number above `max_page_number`: a query parameter `page`,
//!   `paged`, `pg` or `pagenum` (`?page=9999`), a path `/page/N/`, or WordPress's
//!   `/comment-page-N/`. Listings that answer any page number ("next" past the end)
//!   never run out. `?p=123` is a WordPress post id, not a page, and is not looked at.
//! * `trap:calendar`: a date whose year is more than `calendar_years_back` years before
//!   the current year or more than `calendar_years_ahead` after it. Calendar widgets link
//!   "next month" forever (`/events/2031-05/`, `?date=1970-01-01`). Dates are recognised as
//!   a path `/YYYY/MM/` (two-digit month 01-12), a whole segment or query value
//!   `YYYY-MM`, `YYYY-MM-DD` (optionally followed by `T` or a space and a time) or
//!   `YYYYMMDD`, and the value of a query parameter named `year`, `month`, `day`, `date`,
//!   `week`, `cal`, `calendar` or `ical` that is one of those or a bare `YYYY` or `YYYYMM`.
//!   A bare number in a path (`/news/2019/`, `/news/123456/`) is an id, not a date.
//!   The unlabelled numeric shapes (`/YYYY/MM/`, `YYYYMMDD`) are also how ids look, so
//!   there only years 1800-2999 count as years: a calendar is walked one step at a time
//!   and crosses the window's edge (by default 30 years back, 2 ahead) long before it
//!   leaves that range.
//!
//! Segments are compared as they are written in the URL (percent-escapes as serialised);
//! empty segments (`//`) are ignored. Parameter names match case-insensitively.
//!
//! [`Traps::seen_key`] is the key of the crawl's seen set: [`canonical_key`] without the
//! `session_params` (query parameters and `;name=value` path parameters such as
//! `;jsessionid=...`) and the `ignore_params`, with the remaining query pairs sorted by
//! name (stable, so repeated names keep their order) and empty pairs (`&&`) dropped.
//!
//! Invariants, kept by tests: neither function panics on any URL; `seen_key(u).1` is `None`
//! exactly when the key equals `canonical_key(u)`; the key does not depend on the order of
//! differently named query parameters; a key parsed back as a URL gives itself as its key.
//!
//! [`canonical_key`]: crate::canonical::canonical_key

use std::borrow::Cow;
use std::collections::HashMap;
use std::ops::RangeInclusive;

use url::{Url, form_urlencoded};

use crate::canonical::canonicalize;
use crate::config::TrapsSection;

/// Query parameters whose numeric value is a page number.
const PAGE_PARAMS: &[&str] = &["page", "paged", "pg", "pagenum"];

/// Query parameters whose value, when it holds a year, is a calendar position.
const CALENDAR_PARAMS: &[&str] = &[
    "year", "month", "day", "date", "week", "cal", "calendar", "ical",
];

/// The years an unlabelled number (`/YYYY/MM/`, `YYYYMMDD`) may stand for; see the module doc.
const UNLABELLED_YEARS: RangeInclusive<i64> = 1800..=2999;

/// The trap rules of one crawl, compiled from `[traps]`.
pub struct Traps {
    max_segment_repeats: u32,
    max_path_depth: usize,
    max_query_params: usize,
    /// Years in this range are not a calendar trap (i64: `this_year - back` cannot overflow).
    calendar_years: RangeInclusive<i64>,
    max_page_number: u64,
    reject_params: Vec<String>,
    session_params: Vec<String>,
    ignore_params: Vec<String>,
}

impl Traps {
    /// `this_year`: the current year (passed in so tests are deterministic).
    pub fn new(section: &TrapsSection, this_year: i32) -> Traps {
        let lower = |v: &[String]| -> Vec<String> {
            v.iter()
                .map(|s| s.trim().to_ascii_lowercase())
                .filter(|s| !s.is_empty())
                .collect()
        };
        let year = i64::from(this_year);
        Traps {
            max_segment_repeats: section.max_segment_repeats,
            max_path_depth: usize::try_from(section.max_path_depth).unwrap_or(usize::MAX),
            max_query_params: usize::try_from(section.max_query_params).unwrap_or(usize::MAX),
            calendar_years: year - i64::from(section.calendar_years_back)
                ..=year + i64::from(section.calendar_years_ahead),
            max_page_number: section.max_page_number,
            reject_params: lower(&section.reject_params),
            session_params: lower(&section.session_params),
            ignore_params: lower(&section.ignore_params),
        }
    }

    /// Err(reason) when the URL is a trap; reasons are stable strings used as manifest counters:
    /// "trap:repeated_segments", "trap:path_depth", "trap:query_params", "trap:calendar",
    /// "trap:pagination", "trap:reject_param".
    pub fn check(&self, url: &Url) -> Result<(), &'static str> {
        let pairs: Vec<(Cow<'_, str>, Cow<'_, str>)> = url.query_pairs().collect();
        if pairs.iter().any(|(n, _)| named(&self.reject_params, n)) {
            return Err("trap:reject_param");
        }
        if pairs.len() > self.max_query_params {
            return Err("trap:query_params");
        }
        let segments: Vec<&str> = url
            .path_segments()
            .map(|s| s.filter(|s| !s.is_empty()).collect())
            .unwrap_or_default();
        if segments.len() > self.max_path_depth {
            return Err("trap:path_depth");
        }
        let mut counts: HashMap<&str, u32> = HashMap::new();
        for s in &segments {
            let n = counts.entry(*s).or_insert(0);
            *n += 1;
            if *n > self.max_segment_repeats {
                return Err("trap:repeated_segments");
            }
        }
        if self.is_pagination(&segments, &pairs) {
            return Err("trap:pagination");
        }
        if self.is_calendar(&segments, &pairs) {
            return Err("trap:calendar");
        }
        Ok(())
    }

    fn is_pagination(&self, segments: &[&str], pairs: &[(Cow<'_, str>, Cow<'_, str>)]) -> bool {
        let too_far = |n: Option<u64>| n.is_some_and(|n| n > self.max_page_number);
        let in_query = pairs
            .iter()
            .any(|(n, v)| named(PAGE_PARAMS, n) && too_far(number(v)));
        let in_path = segments.windows(2).any(|w| {
            segment_core(w[0]).eq_ignore_ascii_case("page") && too_far(number(segment_core(w[1])))
        });
        let comment_page = segments.iter().any(|s| {
            let core = segment_core(s);
            core.get(..13)
                .is_some_and(|p| p.eq_ignore_ascii_case("comment-page-"))
                && too_far(core.get(13..).and_then(number))
        });
        in_query || in_path || comment_page
    }

    fn is_calendar(&self, segments: &[&str], pairs: &[(Cow<'_, str>, Cow<'_, str>)]) -> bool {
        let outside = |y: Option<i64>| y.is_some_and(|y| !self.calendar_years.contains(&y));
        // `/YYYY/MM/`: WordPress and Blogger archives, calendar month pages.
        let year_month = segments.windows(2).any(|w| {
            let (y, m) = (segment_core(w[0]), segment_core(w[1]));
            let year = four_digit_year(y).filter(|y| UNLABELLED_YEARS.contains(y));
            m.len() == 2 && month(m).is_some() && outside(year)
        });
        let in_segment = segments.iter().any(|s| {
            // `2031-05-01.html` is the date 2031-05-01.
            let core = segment_core(s);
            let core = core.split('.').next().unwrap_or(core);
            outside(date_year(core))
        });
        let in_query = pairs.iter().any(|(n, v)| {
            let year = if named(CALENDAR_PARAMS, n) {
                labelled_year(v)
            } else {
                date_year(v)
            };
            outside(year)
        });
        year_month || in_segment || in_query
    }

    /// The key of the crawl's seen set: crate::canonical::canonical_key(url), but with the
    /// session-id params (and `;jsessionid=...` path parameters) and the ignore params removed,
    /// and the remaining query params sorted (stable sort by name, keeping the order of equal
    /// names). The second value says why the key differs from canonical_key(url):
    /// Some("trap:session_id") if a session param was removed, else Some("trap:permutation") if an
    /// ignore param was removed or params were reordered, else None.
    pub fn seen_key(&self, url: &Url) -> (String, Option<&'static str>) {
        let canon = canonicalize(url);
        let plain = canon.as_str();
        let mut session = false;

        let path = if canon.cannot_be_a_base() {
            Cow::Borrowed(canon.path())
        } else {
            self.strip_path_sessions(canon.path(), &mut session)
        };

        // Work on the serialised query so that the key keeps the canonical escapes.
        let mut pieces: Vec<&str> = canon
            .query()
            .unwrap_or_default()
            .split('&')
            .filter(|p| !p.is_empty())
            .collect();
        pieces.retain(|p| {
            let name = piece_name(p);
            if named(&self.session_params, &name) {
                session = true;
                false
            } else {
                !named(&self.ignore_params, &name)
            }
        });
        // `sort_by_key` is stable: `?tag=b&tag=a` keeps its order, which may matter.
        pieces.sort_by_key(|p| p.split('=').next().unwrap_or_default());

        let query = pieces.join("&");
        let query = (!query.is_empty()).then_some(query.as_str());
        let key = if path == canon.path() && query == canon.query() {
            plain.to_owned()
        } else {
            // Through `Url` again rather than by pasting strings: removing `;sid=1` from
            // `/.;sid=1` leaves a dot segment, which the parser removes; pasting would give
            // a key that is not the key of itself.
            let mut out = canon.clone();
            out.set_path(&path);
            out.set_query(query);
            canonicalize(&out).into()
        };
        let why = if session {
            Some("trap:session_id")
        } else if key != plain {
            Some("trap:permutation")
        } else {
            None
        };
        (key, why)
    }

    /// `path` without the `;name=value` path parameters that name a session
    /// (`/cart;jsessionid=ABC/item` → `/cart/item`).
    fn strip_path_sessions<'a>(&self, path: &'a str, session: &mut bool) -> Cow<'a, str> {
        if !path.contains(';') {
            return Cow::Borrowed(path);
        }
        let mut out = String::with_capacity(path.len());
        let mut removed = false;
        for (i, segment) in path.split('/').enumerate() {
            if i > 0 {
                out.push('/');
            }
            let mut parts = segment.split(';');
            // The text before the first `;` is the segment itself and always stays.
            out.push_str(parts.next().unwrap_or_default());
            for param in parts {
                let name = param.split('=').next().unwrap_or_default();
                if named(&self.session_params, name) {
                    removed = true;
                } else {
                    out.push(';');
                    out.push_str(param);
                }
            }
        }
        if removed {
            *session = true;
            Cow::Owned(out)
        } else {
            Cow::Borrowed(path)
        }
    }
}

/// Whether `name` is one of `list` (lower-case), ignoring ASCII case.
fn named<S: AsRef<str>>(list: &[S], name: &str) -> bool {
    list.iter().any(|n| n.as_ref().eq_ignore_ascii_case(name))
}

/// The decoded name of one serialised `name=value` query piece.
fn piece_name(piece: &str) -> Cow<'_, str> {
    form_urlencoded::parse(piece.as_bytes())
        .next()
        .map_or(Cow::Borrowed(""), |(name, _)| name)
}

/// A segment without its `;` path parameters: `/page/3;jsessionid=x/` is page 3.
fn segment_core(segment: &str) -> &str {
    segment.split(';').next().unwrap_or(segment)
}

/// A non-empty run of ASCII digits as a number; one too large for u64 is u64::MAX (it is
/// still a number, and a very large one).
fn number(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(s.parse().unwrap_or(u64::MAX))
}

/// Exactly four ASCII digits, as a year.
fn four_digit_year(s: &str) -> Option<i64> {
    if s.len() != 4 {
        return None;
    }
    number(s).and_then(|n| i64::try_from(n).ok())
}

/// Two digits 01-12.
fn month(s: &str) -> Option<u64> {
    number(s)
        .filter(|_| s.len() == 2)
        .filter(|m| (1..=12).contains(m))
}

/// Two digits 01-31.
fn day(s: &str) -> Option<u64> {
    number(s)
        .filter(|_| s.len() == 2)
        .filter(|d| (1..=31).contains(d))
}

/// The year of a whole value shaped `YYYY-MM`, `YYYY-MM-DD` (optionally followed by `T` or
/// a space and a time) or `YYYYMMDD` (a year in [`UNLABELLED_YEARS`] only).
fn date_year(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    // Slices below are at ASCII positions checked first, so never inside a character.
    let dashed = |len: usize| b.len() >= len && b[4] == b'-' && s.is_char_boundary(len);
    if dashed(7) && (b.len() == 7 || (dashed(10) && b[7] == b'-')) {
        let year = four_digit_year(&s[..4])?;
        month(&s[5..7])?;
        if b.len() == 7 {
            return Some(year);
        }
        day(&s[8..10])?;
        return match b.get(10) {
            None | Some(b'T' | b't' | b' ') => Some(year),
            Some(_) => None,
        };
    }
    if b.len() == 8 && number(s).is_some() {
        let year = four_digit_year(&s[..4]).filter(|y| UNLABELLED_YEARS.contains(y))?;
        month(&s[4..6])?;
        day(&s[6..8])?;
        return Some(year);
    }
    None
}

/// The year in the value of a calendar parameter: a date (any year), `YYYY` or `YYYYMM`.
fn labelled_year(s: &str) -> Option<i64> {
    match s.len() {
        4 => four_digit_year(s),
        6 => {
            month(s.get(4..)?)?;
            four_digit_year(s.get(..4)?)
        }
        8 if number(s).is_some() => {
            month(&s[4..6])?;
            day(&s[6..8])?;
            four_digit_year(&s[..4])
        }
        _ => date_year(s),
    }
}

#[cfg(test)]
mod tests;
