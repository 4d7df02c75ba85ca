#!/usr/bin/env python3
"""Judge WARC files with warcio (not our own reader).

usage: check_warcs.py CRAWL_DIR [EARLIER_CRAWL_DIR...]

EARLIER_CRAWL_DIRs are earlier runs of the same job: their response records may be the
originals of this crawl's revisits (identical-payload-digest or server-not-modified).

1. `warcio check` on every WARC (block and payload digests).
2. A full iteration with warcio's ArchiveIterator: every record parses, every record is its own
   gzip member (warcio reports the member offsets), request/response pairs are adjacent and share
   WARC-Target-URI and WARC-Concurrent-To, each file starts with warcinfo.
3. Every line of captures.jsonl with a warc_offset seeks (by offset, in a fresh reader) to exactly
   the response (or revisit) record it names, and every such record in the WARCs is listed there.
4. Every revisit names, in WARC-Refers-To, a response record of the crawl with the same payload
   digest, WARC-Target-URI (= its WARC-Refers-To-Target-URI) and WARC-Date (= -Refers-To-Date).

Prints a JSON summary on the last line; exits non-zero with a message on the first problem.
"""
import glob, json, os, subprocess, sys
from warcio.archiveiterator import ArchiveIterator


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def main(crawl_dir, earlier_dirs):
    warcs = sorted(glob.glob(os.path.join(crawl_dir, "warc", "*.warc.gz")))
    if not warcs:
        fail("no WARC files in " + crawl_dir)
    leftovers = glob.glob(os.path.join(crawl_dir, "warc", "*.open"))
    if leftovers:
        fail("files left open: %s" % leftovers)
    warcio = os.path.join(os.path.dirname(sys.executable), "warcio")
    res = subprocess.run([warcio, "check", "-v"] + warcs, capture_output=True, text=True)
    if res.returncode != 0:
        fail("warcio check failed:\n" + res.stdout + res.stderr)
    check_output = res.stdout.strip()

    responses = {}  # (file, offset) -> uri
    by_id = {}  # WARC-Record-ID of each response -> (uri, date, digest)
    revisits = []
    counts = {}
    for path in warcs:
        name = os.path.basename(path)
        with open(path, "rb") as f:
            it = ArchiveIterator(f, check_digests="raise")
            prev = None
            first = True
            for rec in it:
                rtype = rec.rec_type
                counts[rtype] = counts.get(rtype, 0) + 1
                rec.content_stream().read()  # full read: decodes chunked/gzip, checks digests
                offset = it.get_record_offset()
                length = it.get_record_length()
                if first and rtype != "warcinfo":
                    fail("%s does not start with warcinfo" % name)
                first = False
                uri = rec.rec_headers.get_header("WARC-Target-URI")
                if uri and (uri.startswith("<") or uri.endswith(">")):
                    fail("angle brackets in WARC-Target-URI: " + uri)
                if rtype in ("response", "revisit"):
                    if prev is None or prev[0] != "request":
                        fail("response at %s:%d not preceded by its request" % (name, offset))
                    if prev[1] != uri:
                        fail("request/response URIs differ at %s:%d" % (name, offset))
                    if prev[2] != rec.rec_headers.get_header("WARC-Record-ID"):
                        fail("request's WARC-Concurrent-To does not name the response at %s:%d" % (name, offset))
                    responses[(name, offset)] = (uri, length)
                    h = rec.rec_headers
                    if rtype == "response":
                        by_id[h.get_header("WARC-Record-ID")] = (
                            uri, h.get_header("WARC-Date"), h.get_header("WARC-Payload-Digest"))
                    else:
                        revisits.append((uri, h.get_header("WARC-Refers-To"),
                                         h.get_header("WARC-Refers-To-Target-URI"),
                                         h.get_header("WARC-Refers-To-Date"),
                                         h.get_header("WARC-Payload-Digest"),
                                         h.get_header("WARC-Profile")))
                prev = (rtype, uri, rec.rec_headers.get_header("WARC-Concurrent-To"))

    for earlier in earlier_dirs:
        for path in sorted(glob.glob(os.path.join(earlier, "warc", "*.warc.gz"))):
            with open(path, "rb") as f:
                for rec in ArchiveIterator(f):
                    if rec.rec_type == "response":
                        h = rec.rec_headers
                        by_id[h.get_header("WARC-Record-ID")] = (
                            h.get_header("WARC-Target-URI"), h.get_header("WARC-Date"),
                            h.get_header("WARC-Payload-Digest"))
    profiles = {}
    for uri, ref_id, ref_uri, ref_date, digest, profile in revisits:
        kind = (profile or "").rsplit("/", 1)[-1]
        if kind not in ("identical-payload-digest", "server-not-modified"):
            fail("revisit of %s has profile %s" % (uri, profile))
        profiles[kind] = profiles.get(kind, 0) + 1
        if ref_id not in by_id:
            fail("revisit of %s refers to %s, not a response of this crawl" % (uri, ref_id))
        if by_id[ref_id] != (ref_uri, ref_date, digest):
            fail("revisit of %s: refers-to fields %s differ from the original %s"
                 % (uri, (ref_uri, ref_date, digest), by_id[ref_id]))

    listed = 0
    with open(os.path.join(crawl_dir, "captures.jsonl")) as f:
        for line in f:
            cap = json.loads(line)
            if cap.get("warc_offset") is None:
                continue
            listed += 1
            key = (cap["warc_file"], cap["warc_offset"])
            if key not in responses:
                fail("captures.jsonl names %s:%s, which is not a response record" % key)
            uri, length = responses.pop(key)
            if uri != cap["url"]:
                fail("captures.jsonl url %s != record URI %s" % (cap["url"], uri))
            if length != cap["warc_length"]:
                fail("warc_length %s != member length %s for %s" % (cap["warc_length"], length, uri))
            # Seek in a fresh reader: the offset alone must find the record.
            with open(os.path.join(crawl_dir, "warc", cap["warc_file"]), "rb") as w:
                w.seek(cap["warc_offset"])
                rec = next(iter(ArchiveIterator(w)))
                if rec.rec_headers.get_header("WARC-Target-URI") != cap["url"]:
                    fail("seeking to %s:%s found another record" % key)
                if rec.rec_headers.get_header("WARC-Payload-Digest") != cap["payload_digest"]:
                    fail("payload digest of %s differs from captures.jsonl" % cap["url"])
    if responses:
        fail("response records missing from captures.jsonl: %s" % list(responses.values())[:5])
    print(json.dumps({"files": len(warcs), "records": counts, "listed": listed,
                      "revisits": len(revisits), "revisit_profiles": profiles,
                      "warcio_check": check_output.splitlines()[-1] if check_output else ""}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
