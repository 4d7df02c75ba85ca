#!/usr/bin/env python3
"""Replay a warcrow crawl in pywb (a replay tool we did not write) and report what replays.

usage:
  replay_check.py serve ROOT PORT
      Runs `wayback` for the pywb directory ROOT on 127.0.0.1:PORT until standard input closes,
      then stops it. The test holds the other end of stdin, so wayback ends with the test even
      when the test process dies without running its destructors.
  replay_check.py check BASE COLL CRAWL_DIR
      Asks the pywb at BASE (http://127.0.0.1:PORT) about every capture in CRAWL_DIR's
      captures.jsonl and compares the answers with the records in the WARCs (read with warcio).

`check` prints one JSON summary on its last line and exits 0 even when replay problems were
found: the Rust test decides which problems fail it, so every kind of problem is reported at
once. A non-zero exit means the check itself could not run.
"""
import gzip
import html
import http.client
import json
import os
import re
import subprocess
import sys
import threading
import zlib
from urllib.parse import urljoin, urlsplit

from warcio.archiveiterator import ArchiveIterator

REVISIT_PROFILE = "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"
TITLE_RX = re.compile(rb"<title[^>]*>(.*?)</title>", re.I | re.S)


def serve(root, port):
    wayback = os.path.join(os.path.dirname(sys.executable), "wayback")
    # Same process group as this launcher: the test's last-resort kill of the group ends both.
    child = subprocess.Popen(
        [wayback, "-p", str(port), "-b", "127.0.0.1", "-t", "4"],
        cwd=root,
        stdin=subprocess.DEVNULL,
    )

    def stop_on_eof():
        sys.stdin.buffer.read()  # returns when the test closes the pipe or dies
        child.terminate()

    threading.Thread(target=stop_on_eof, daemon=True).start()
    try:
        code = child.wait()
    finally:
        if child.poll() is None:
            child.kill()
    sys.exit(code)


class Record:
    """What one WARC record at (file, offset) holds, read with a fresh warcio reader."""

    def __init__(self, path, offset):
        with open(path, "rb") as f:
            f.seek(offset)
            rec = next(iter(ArchiveIterator(f)))
            self.type = rec.rec_type
            self.headers = {k.lower(): v for k, v in rec.rec_headers.headers}
            self.status = int(rec.http_headers.get_statuscode()) if rec.http_headers else None
            # De-chunked and content-decoded, as a reader of the page sees it.
            self.payload = rec.content_stream().read()


def ts14(fetched_at):
    digits = re.sub(r"\D", "", fetched_at[:19])
    if len(digits) != 14:
        raise ValueError("bad fetched_at " + fetched_at)
    return digits


def decode(headers, body):
    coding = (headers.get("content-encoding") or "identity").lower()
    if coding in ("gzip", "x-gzip"):
        return gzip.decompress(body)
    if coding == "deflate":
        return zlib.decompress(body)
    return body


class Replay:
    def __init__(self, base, coll):
        parts = urlsplit(base)
        self.host, self.port = parts.hostname, parts.port
        self.base = base.rstrip("/")
        self.coll = coll
        self.ts_adjusted = 0

    def get(self, path):
        """One GET, redirects not followed. Returns (status, lower-cased headers, decoded body)."""
        conn = http.client.HTTPConnection(self.host, self.port, timeout=20)
        try:
            conn.request("GET", path, headers={"Accept-Encoding": "identity"})
            resp = conn.getresponse()
            headers = {k.lower(): v for k, v in resp.getheaders()}
            return resp.status, headers, decode(headers, resp.read())
        finally:
            conn.close()

    def path(self, ts, mode, url):
        return "/%s/%s%s/%s" % (self.coll, ts, mode, url)

    def memento(self, ts, mode, url):
        """GET of a memento. pywb redirects to the capture's own timestamp when the one asked
        for differs (fetched_at and WARC-Date may straddle a second); that hop is followed once,
        and only when it stays on the same URL and mode, so a captured redirect still shows."""
        status, headers, body = self.get(self.path(ts, mode, url))
        loc = headers.get("location", "")
        m = re.match(r"^/%s/(\d{14})%s/(.*)$" % (re.escape(self.coll), re.escape(mode)),
                     urlsplit(urljoin(self.base + "/", loc)).path + self._query(loc))
        if 300 <= status < 400 and m and m.group(2) == url and m.group(1) != ts:
            self.ts_adjusted += 1
            status, headers, body = self.get(self.path(m.group(1), mode, url))
        return status, headers, body

    @staticmethod
    def _query(loc):
        q = urlsplit(loc).query
        return "?" + q if q else ""


def title_of(payload):
    m = TITLE_RX.search(payload)
    return m.group(1).strip() if m else None


def media_type(value):
    return (value or "").split(";")[0].strip().lower()


def check(base, coll, crawl_dir):
    with open(os.path.join(crawl_dir, "captures.jsonl")) as f:
        caps = [json.loads(line) for line in f if line.strip()]
    warc_dir = os.path.join(crawl_dir, "warc")
    recs = {}
    for c in caps:
        if c.get("warc_file") is not None and c.get("warc_offset") is not None:
            recs[c["url"]] = Record(os.path.join(warc_dir, c["warc_file"]), c["warc_offset"])
    # The first full response of each digest, in WARC order: what a revisit must point at.
    originals = {}
    for c in sorted((c for c in caps if c["url"] in recs),
                    key=lambda c: (c["warc_file"], c["warc_offset"])):
        if recs[c["url"]].type == "response":
            originals.setdefault(c["payload_digest"], c)

    def payload(c):
        rec = recs[c["url"]]
        if rec.type == "revisit":
            orig = originals.get(c["payload_digest"])
            return recs[orig["url"]].payload if orig else None
        return rec.payload

    rp = Replay(base, coll)
    problems = {"pages": [], "redirects": [], "assets": [], "revisits": []}
    titles = {}

    # 1. Pages: raw (id_) and rewritten replay both hold the page's <title>.
    pages = [c for c in caps if c["url"] in recs and c["status"] == 200
             and media_type(c["content_type"]) == "text/html"]
    replayed = 0
    for c in pages:
        url, ts = c["url"], ts14(c["fetched_at"])
        body = payload(c)
        title = title_of(body) if body is not None else None
        if not title:
            problems["pages"].append("%s: no <title> in the captured payload" % url)
            continue
        titles[url] = html.unescape(title.decode("utf-8", "replace"))
        ok = True
        for mode in ("id_", ""):
            status, _, got = rp.memento(ts, mode, url)
            if status != 200 or title not in got:
                ok = False
                problems["pages"].append("%s (%s): status %s, title %s" % (
                    url, mode or "rewritten", status, "found" if title in got else "missing"))
            elif mode == "id_" and got != body:
                ok = False
                problems["pages"].append("%s (id_): %d bytes differ from the %d captured" % (
                    url, len(got), len(body)))
        replayed += ok

    # 2. Redirects: pywb answers a 3xx capture with a 3xx to the target's replay URL, and the
    # chain ends at a page that replays.
    redirects = [c for c in caps if c["url"] in recs and 300 <= (c["status"] or 0) < 400]
    redirects_ok = 0
    for c in redirects:
        url, ts, target = c["url"], ts14(c["fetched_at"]), c.get("redirect_to")
        status, headers, _ = rp.memento(ts, "", url)
        loc = urljoin(rp.base + "/", headers.get("location", ""))
        want_prefix = "%s/%s/" % (rp.base, coll)
        if not (300 <= status < 400 and target and loc.startswith(want_prefix)
                and loc.endswith("/" + target)):
            problems["redirects"].append("%s: status %s, Location %r, want a replay URL of %s" % (
                url, status, headers.get("location"), target))
            continue
        hops, final = 0, None
        while 300 <= status < 400 and hops < 10:
            hops += 1
            status, headers, body = rp.get(urlsplit(loc).path + Replay._query(loc))
            final = loc
            loc = urljoin(loc, headers.get("location", ""))
        if status != 200 or not title_of(body):
            problems["redirects"].append("%s: chain ended at %s with status %s" % (
                url, final, status))
            continue
        redirects_ok += 1

    # 3. Images and stylesheets: id_ gives the captured bytes with the captured media type.
    assets = [c for c in caps if c["url"] in recs and c["status"] == 200
              and (media_type(c["content_type"]).startswith("image/")
                   or media_type(c["content_type"]) == "text/css")]
    assets_ok = 0
    for c in assets:
        status, headers, got = rp.memento(ts14(c["fetched_at"]), "id_", c["url"])
        want = payload(c)
        if status != 200 or media_type(headers.get("content-type")) != media_type(
                c["content_type"]) or got != want:
            problems["assets"].append("%s: status %s, type %r (captured %r), %s bytes (captured %s)"
                                      % (c["url"], status, headers.get("content-type"),
                                         c["content_type"], len(got),
                                         None if want is None else len(want)))
            continue
        assets_ok += 1

    # 4. Revisits: each names its original the way pywb resolves it, and replays its bytes.
    revisits = [c for c in caps if c["url"] in recs and recs[c["url"]].type == "revisit"]
    revisits_ok = 0
    for c in revisits:
        h = recs[c["url"]].headers
        orig = originals.get(c["payload_digest"])
        bad = []
        if orig is None:
            bad.append("no response record with digest %s" % c["payload_digest"])
        else:
            oh = recs[orig["url"]].headers
            expect = {
                "warc-profile": REVISIT_PROFILE,
                "warc-refers-to-target-uri": orig["url"],
                "warc-refers-to-date": oh.get("warc-date"),
                "warc-refers-to": oh.get("warc-record-id"),
                "warc-payload-digest": oh.get("warc-payload-digest"),
            }
            bad += ["%s is %r, want %r" % (k, h.get(k), v)
                    for k, v in expect.items() if h.get(k) != v]
            if recs[c["url"]].status != c["status"]:
                bad.append("block has HTTP status %s, captured %s" % (
                    recs[c["url"]].status, c["status"]))
            status, _, got = rp.memento(ts14(c["fetched_at"]), "id_", c["url"])
            if status != c["status"] or got != recs[orig["url"]].payload:
                bad.append("id_ replay: status %s, %d bytes, want the %d bytes of %s" % (
                    status, len(got), len(recs[orig["url"]].payload), orig["url"]))
        if bad:
            problems["revisits"].append("%s: %s" % (c["url"], "; ".join(bad)))
        else:
            revisits_ok += 1

    print(json.dumps({
        "pages": {"captured": len(pages), "replayed": replayed},
        "redirects": {"captured": len(redirects), "replayed": redirects_ok},
        "assets": {"captured": len(assets), "replayed": assets_ok,
                   "images": sum(media_type(c["content_type"]).startswith("image/")
                                 for c in assets),
                   "css": sum(media_type(c["content_type"]) == "text/css" for c in assets)},
        "revisits": {"records": len(revisits), "replayed": revisits_ok,
                     "urls": [c["url"] for c in revisits]},
        "ts_adjusted": rp.ts_adjusted,
        "titles": titles,
        "problems": problems,
    }))


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "serve":
        serve(sys.argv[2], int(sys.argv[3]))
    elif len(sys.argv) == 5 and sys.argv[1] == "check":
        check(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        sys.exit(__doc__)
