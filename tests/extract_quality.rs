//! Extraction quality over hand-written fixtures (`tests/fixtures/extract/NAME.html` with
//! `NAME.expected.json`) and the demo site's article pages, scored and held to per-fixture
//! minimums. Not timed.
//!
//! Scoring (the same in `tests/tools/extract_bench.py`): text precision/recall/F1 over bags
//! of tokens (lowercased runs of letters and digits, counted with multiplicity); comment
//! text F1 the same over all comment texts of a page together; comment author, date and
//! parent accuracy over the expected comments, each matched to the extracted comment with
//! the same id. The score table is printed as JSON (`--nocapture`) and, with everything the
//! benchmark needs (extractions, demo pages), written under `target/tmp/extract-bench/`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use http_body_util::BodyExt;
use scraper::Html;
use serde_json::{Value, json};
use url::Url;
use warcrow::demo::content::{ARTICLES, COMMENTERS, Comment as DemoComment};
use warcrow::extract::article::{Article, try_extract_article};
use warcrow::extract::comments::paging::{article_key, comment_page_links, merge_comment_pages};

fn tokens(s: &str) -> HashMap<String, usize> {
    let mut bag = HashMap::new();
    for t in s
        .split(|c: char| !c.is_alphanumeric())
        .filter(|t| !t.is_empty())
    {
        *bag.entry(t.to_lowercase()).or_insert(0) += 1;
    }
    bag
}

/// (precision, recall, F1); two empty texts agree perfectly.
fn prf(got: &str, want: &str) -> (f64, f64, f64) {
    let (g, w) = (tokens(got), tokens(want));
    let (gn, wn): (usize, usize) = (g.values().sum(), w.values().sum());
    if gn == 0 && wn == 0 {
        return (1.0, 1.0, 1.0);
    }
    let common: usize = g
        .iter()
        .map(|(t, n)| (*n).min(*w.get(t).unwrap_or(&0)))
        .sum();
    let p = if gn == 0 {
        0.0
    } else {
        common as f64 / gn as f64
    };
    let r = if wn == 0 {
        0.0
    } else {
        common as f64 / wn as f64
    };
    let f = if p + r == 0.0 {
        0.0
    } else {
        2.0 * p * r / (p + r)
    };
    (p, r, f)
}

/// Scores of one extraction against its expectation.
fn score(got: Option<&Article>, want: &Value) -> Value {
    let is_article = want["article"].as_bool().unwrap_or(true);
    let Some(got) = got else {
        return json!({ "article_ok": !is_article });
    };
    if !is_article {
        return json!({ "article_ok": false });
    }
    let (p, r, f) = prf(&got.text, want["text"].as_str().unwrap_or(""));
    let wc = want["comments"].as_array().cloned().unwrap_or_default();
    let join = |xs: Vec<&str>| xs.join("\n\n");
    let (cp, cr, cf) = prf(
        &join(got.comments.iter().map(|c| c.text.as_str()).collect()),
        &join(wc.iter().filter_map(|c| c["text"].as_str()).collect()),
    );
    let by_id: HashMap<&str, &warcrow::extract::comments::Comment> =
        got.comments.iter().map(|c| (c.id.as_str(), c)).collect();
    let acc = |field: &str| {
        if wc.is_empty() {
            return 1.0;
        }
        let ok = wc
            .iter()
            .filter(|w| {
                let Some(g) = w["id"].as_str().and_then(|id| by_id.get(id)) else {
                    return false;
                };
                let gv = match field {
                    "author" => json!(g.author),
                    "published" => json!(g.published),
                    _ => json!(g.parent),
                };
                gv == w[field]
            })
            .count();
        ok as f64 / wc.len() as f64
    };
    let opt_eq = |k: &str, v: Value| want.get(k).is_none_or(|w| *w == v);
    json!({
        "article_ok": true,
        "text_p": p, "text_r": r, "text_f1": f,
        "title_ok": opt_eq("title", json!(got.title)),
        "authors_ok": opt_eq("authors", json!(got.authors)),
        "published_ok": opt_eq("published", json!(got.published)),
        "comments_want": wc.len(), "comments_got": got.comments.len(),
        "comment_text_p": cp, "comment_text_r": cr, "comment_text_f1": cf,
        "comment_author_acc": acc("author"), "comment_date_acc": acc("published"),
        "comment_parent_acc": acc("parent"),
    })
}

/// Minimums every case must reach unless its expectation lowers one (`"min": {…}`).
const DEFAULT_MIN: &[(&str, f64)] = &[
    ("text_f1", 0.97),
    ("comment_text_f1", 0.95),
    ("comment_author_acc", 0.95),
    ("comment_date_acc", 0.95),
    ("comment_parent_acc", 0.95),
];

fn failures(name: &str, s: &Value, want: &Value) -> Vec<String> {
    let mut out = Vec::new();
    if s["article_ok"] != json!(true) {
        return vec![format!("{name}: article/non-article decision wrong")];
    }
    if want["article"] == json!(false) {
        return out;
    }
    for k in ["title_ok", "authors_ok", "published_ok"] {
        if s[k] != json!(true) {
            out.push(format!("{name}: {k} false"));
        }
    }
    for (k, default) in DEFAULT_MIN {
        let min = want["min"][k].as_f64().unwrap_or(*default);
        let got = s[k].as_f64().unwrap_or(0.0);
        if got < min {
            out.push(format!("{name}: {k} {got:.3} < {min}"));
        }
    }
    out
}

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/extract")
}

fn bench_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("extract-bench")
}

/// One case: a page, its URL and capture time, and what extraction should give.
struct Case {
    name: String,
    html: String,
    want: Value,
}

fn fixture_cases() -> Vec<Case> {
    let mut names: Vec<PathBuf> = std::fs::read_dir(fixtures_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".expected.json"))
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|p| {
            let name = p
                .file_name()
                .unwrap()
                .to_string_lossy()
                .replace(".expected.json", "");
            let want: Value = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
            let html =
                std::fs::read_to_string(fixtures_dir().join(format!("{name}.html"))).unwrap();
            Case { name, html, want }
        })
        .collect()
}

const DEMO_HOST: &str = "gazette.example";

fn demo_get(path: &str) -> String {
    let req = http::Request::get(path)
        .header("host", DEMO_HOST)
        .body(())
        .unwrap();
    let body = warcrow::demo::respond(&req).into_body();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let bytes = rt.block_on(body.collect()).unwrap().to_bytes();
    String::from_utf8(bytes.to_vec()).unwrap()
}

fn demo_comments(cs: &[DemoComment], parent: Option<u32>, out: &mut Vec<Value>) {
    for c in cs {
        out.push(json!({
            "id": c.id.to_string(),
            "author": COMMENTERS[c.by].name,
            "published": c.date,
            "text": c.paragraphs.join("\n\n"),
            "parent": parent.map(|p| p.to_string()),
            "kind": "comment",
        }));
        demo_comments(c.replies, Some(c.id), out);
    }
}

/// Every comment page of every demo article, expectations from `demo::articles()` (ids,
/// title, author, date) and the demo's content (paragraphs, commenters).
fn demo_cases() -> Vec<Case> {
    let mut cases = Vec::new();
    for (meta, a) in warcrow::demo::articles().iter().zip(ARTICLES) {
        assert_eq!(meta.title, a.title);
        for (i, path) in meta.comment_pages.iter().enumerate() {
            let mut comments = Vec::new();
            demo_comments(
                a.comment_pages.get(i).copied().unwrap_or(&[]),
                None,
                &mut comments,
            );
            let ids: Vec<String> = comments
                .iter()
                .map(|c| c["id"].as_str().unwrap().to_owned())
                .collect();
            let want_ids: Vec<String> = meta
                .comment_ids
                .get(i)
                .cloned()
                .unwrap_or_default()
                .iter()
                .map(u32::to_string)
                .collect();
            assert_eq!(ids, want_ids);
            cases.push(Case {
                name: format!("demo{}", path.replace('/', "_")),
                html: demo_get(path),
                want: json!({
                    "url": format!("http://{DEMO_HOST}{path}"),
                    "captured_at": "2024-06-01T00:00:00Z",
                    "article": true,
                    "title": meta.title,
                    "authors": [meta.author],
                    "published": meta.published,
                    "text": a.paragraphs.join("\n\n"),
                    "comments": comments,
                }),
            });
        }
    }
    cases
}

fn run(case: &Case) -> Option<Article> {
    let url = Url::parse(case.want["url"].as_str().unwrap()).unwrap();
    let at: DateTime<Utc> = case.want["captured_at"].as_str().unwrap().parse().unwrap();
    try_extract_article(&Html::parse_document(&case.html), &url, at).ok()
}

#[test]
fn extraction_quality() {
    let cases: Vec<Case> = fixture_cases().into_iter().chain(demo_cases()).collect();
    assert!(cases.len() >= 10, "fixtures missing");
    let dir = bench_dir();
    std::fs::create_dir_all(dir.join("pages")).unwrap();
    let mut table = serde_json::Map::new();
    let mut dump = Vec::new();
    let mut failed = Vec::new();
    for case in &cases {
        let got = run(case);
        let s = score(got.as_ref(), &case.want);
        failed.extend(failures(&case.name, &s, &case.want));
        std::fs::write(
            dir.join("pages").join(format!("{}.html", case.name)),
            &case.html,
        )
        .unwrap();
        dump.push(json!({ "name": case.name, "expected": case.want, "got": got }));
        table.insert(case.name.clone(), s);
    }
    std::fs::write(
        dir.join("ours.json"),
        serde_json::to_string_pretty(&dump).unwrap(),
    )
    .unwrap();
    println!(
        "{}",
        serde_json::to_string_pretty(&Value::Object(table)).unwrap()
    );
    assert!(failed.is_empty(), "below minimum:\n{}", failed.join("\n"));
}

#[test]
fn demo_comment_pages_link_and_merge() {
    for (meta, a) in warcrow::demo::articles().iter().zip(ARTICLES) {
        let base = format!("http://{DEMO_HOST}");
        let mut pages = Vec::new();
        for path in &meta.comment_pages {
            let url = Url::parse(&format!("{base}{path}")).unwrap();
            let doc = Html::parse_document(&demo_get(path));
            assert_eq!(article_key(&url).path(), meta.path);
            let links: Vec<String> = comment_page_links(&doc, &url)
                .iter()
                .map(|u| u.path().to_owned())
                .collect();
            for l in &links {
                assert!(
                    meta.comment_pages.contains(l),
                    "{path}: stray comment link {l}"
                );
            }
            if meta.comment_pages.len() > 1 {
                assert!(!links.is_empty(), "{path}: no comment page links");
            }
            pages.push(try_extract_article(&doc, &url, Utc::now()).unwrap());
        }
        pages.reverse();
        let merged = merge_comment_pages(pages);
        let mut want = Vec::new();
        for threads in a.comment_pages {
            demo_comments(threads, None, &mut want);
        }
        let got: Vec<&str> = merged.comments.iter().map(|c| c.id.as_str()).collect();
        let want: Vec<&str> = want.iter().map(|c| c["id"].as_str().unwrap()).collect();
        assert_eq!(got, want, "{}", meta.path);
        assert_eq!(merged.comments.len(), meta.comment_count);
        assert!(merged.url.ends_with(&meta.path), "{}", merged.url);
    }
}

#[test]
fn non_html_and_huge_pages_give_reasons() {
    use warcrow::extract::article::{ExtractError, extract_article_from_bytes};
    let url = Url::parse("http://x.example/a/").unwrap();
    let now = Utc::now();
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
    assert!(matches!(
        extract_article_from_bytes(png, Some("image/png"), None, &url, now),
        Err(ExtractError::NotHtml)
    ));
    let bad = extract_article_from_bytes(b"xx", Some("text/html"), Some("gzip"), &url, now);
    assert!(matches!(bad, Err(ExtractError::Decode(_))), "{bad:?}");
    let mut huge = String::from("<html><body><article>");
    for i in 0..40_000 {
        huge.push_str(&format!("<div><p>para {i} <b>x</b></p></div>"));
    }
    let r = extract_article_from_bytes(huge.as_bytes(), Some("text/html"), None, &url, now);
    assert!(r.is_err() || r.is_ok(), "never panics");
    let front = demo_get("/");
    let r = try_extract_article(&Html::parse_document(&front), &url, now);
    assert!(matches!(r, Err(ExtractError::NotArticle(_))), "{r:?}");
}

#[test]
fn later_forum_page_is_all_replies() {
    let html = std::fs::read_to_string(fixtures_dir().join("phpbb-thread.html")).unwrap();
    let url = Url::parse("https://bees.example/forum/viewtopic.php?t=812&start=4").unwrap();
    let got = try_extract_article(&Html::parse_document(&html), &url, Utc::now()).unwrap();
    assert!(got.text.is_empty());
    let ids: Vec<&str> = got.comments.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, ["4409", "4412", "4415", "4420"]);
    assert_eq!(
        article_key(&url).as_str(),
        "https://bees.example/forum/viewtopic.php?t=812"
    );
}
