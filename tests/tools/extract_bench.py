#!/usr/bin/env python3
"""Extraction benchmark: our extractor vs trafilatura on the same pages, same scoring.

Reads target/tmp/extract-bench/ours.json (written by `cargo test --test extract_quality`:
every case's expectation and our extraction) and the pages beside it, runs trafilatura's
bare_extraction(include_comments=True) on each page, and prints one table.

Scoring is the one in tests/extract_quality.rs: precision/recall/F1 over bags of tokens
(lowercased runs of letters and digits, with multiplicity); comment text F1 over all
comment texts of a page together; comment author/date/parent accuracy over the expected
comments matched by id. trafilatura returns comments as one text without authors, dates,
ids or threading, so those accuracies are n/a for it.
"""
import json
import re
import sys
from collections import Counter
from pathlib import Path

import trafilatura

BENCH = Path(__file__).resolve().parents[2] / "target" / "tmp" / "extract-bench"


def tokens(s):
    return Counter(t.lower() for t in re.findall(r"[^\W_]+", s or ""))


def prf(got, want):
    g, w = tokens(got), tokens(want)
    gn, wn = sum(g.values()), sum(w.values())
    if gn == 0 and wn == 0:
        return 1.0, 1.0, 1.0
    common = sum((g & w).values())
    p = common / gn if gn else 0.0
    r = common / wn if wn else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def comment_acc(got_comments, want_comments, field):
    if not want_comments:
        return 1.0
    by_id = {c["id"]: c for c in got_comments}
    ok = sum(1 for w in want_comments if w["id"] in by_id and by_id[w["id"]].get(field) == w.get(field))
    return ok / len(want_comments)


def score_ours(exp, got):
    if exp.get("article") is False:
        return {"article_ok": got is None}
    if got is None:
        return {"article_ok": False}
    wc = exp.get("comments", [])
    return {
        "article_ok": True,
        "text_f1": prf(got["text"], exp["text"])[2],
        "comment_text_f1": prf("\n\n".join(c["text"] for c in got["comments"]), "\n\n".join(c["text"] for c in wc))[2],
        "comment_author_acc": comment_acc(got["comments"], wc, "author"),
        "comment_date_acc": comment_acc(got["comments"], wc, "published"),
        "comment_parent_acc": comment_acc(got["comments"], wc, "parent"),
    }


def score_trafilatura(exp, html):
    doc = trafilatura.bare_extraction(html, url=exp["url"], include_comments=True, with_metadata=True)
    if doc is not None and not isinstance(doc, dict):
        doc = doc.as_dict()
    if exp.get("article") is False:
        # trafilatura has no "not an article" answer; any main text counts as one.
        return {"article_ok": not (doc and (doc.get("text") or "").strip())}
    if not doc:
        return {"article_ok": False, "text_f1": 0.0, "comment_text_f1": 0.0 if exp.get("comments") else 1.0}
    wc = exp.get("comments", [])
    return {
        "article_ok": True,
        "text_f1": prf(doc.get("text") or "", exp["text"])[2],
        "comment_text_f1": prf(doc.get("comments") or "", "\n\n".join(c["text"] for c in wc))[2],
        "comment_author_acc": None,
        "comment_date_acc": None,
        "comment_parent_acc": None,
    }


def main():
    cases = json.loads((BENCH / "ours.json").read_text())
    cols = ["text_f1", "comment_text_f1", "comment_author_acc", "comment_date_acc", "comment_parent_acc"]
    rows, totals = [], {"ours": {c: [] for c in cols + ["article_ok"]}, "trafilatura": {c: [] for c in cols + ["article_ok"]}}
    for case in cases:
        html = (BENCH / "pages" / f"{case['name']}.html").read_text()
        both = {"ours": score_ours(case["expected"], case["got"]), "trafilatura": score_trafilatura(case["expected"], html)}
        rows.append({"case": case["name"], **both})
        for who, s in both.items():
            for k, v in s.items():
                if v is not None and case["expected"].get("article") is not False or k == "article_ok":
                    totals[who][k].append(float(v))
    fmt = lambda v: "  n/a" if v is None else f"{v:5.3f}"
    print(f"{'case':52} {'who':11} " + " ".join(f"{c[:14]:>14}" for c in cols) + "  article_ok")
    for r in rows:
        for who in ("ours", "trafilatura"):
            s = r[who]
            print(f"{r['case'][:52]:52} {who:11} " + " ".join(f"{fmt(s.get(c)):>14}" for c in cols) + f"  {s['article_ok']}")
    print("\nmean over cases (article pages; article_ok over all):")
    summary = {who: {k: (sum(v) / len(v) if v else None) for k, v in t.items()} for who, t in totals.items()}
    for who, s in summary.items():
        print(f"  {who:11} " + " ".join(f"{k}={fmt(v)}" for k, v in s.items()))
    (BENCH / "scores.json").write_text(json.dumps({"cases": rows, "mean": summary}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
