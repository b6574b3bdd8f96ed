#!/usr/bin/python3
"""Feed corpus harness: runs the feed parser over every file of the feed test
corpus (tests/data/feeds, from Python feedparser's own test suite) and
evaluates each file's `Expect:` line over the JSON the parser prints.

    feeds_corpus_test.py --cmd "/path/to/sentinel feeds parse" --corpus tests/data/feeds/tests

The command gets one argument, a file path or (for files whose path contains
"http") a URL served by a local HTTP server with the file's `Header:` lines
as response headers, and must print the parse result as JSON. The result is
evaluated the way feedparser's tests do (tests/helpers.py, test_*.py):

- `eval(expect, {"datetime": datetime}, result)`, with dicts that also allow
  attribute access and feedparser's key aliases (description -> summary,
  copyright -> rights, url -> href, ...; `category`, `enclosures` and
  `license` are derived from tags and links), and JSON arrays of numbers
  turned into tuples (time tuples, coordinates);
- wellformed/**: `bozo` must also be False; illformed/** over HTTP: `bozo`
  must be True; entities/**: `bozo` must be 1 (an undeclared entity makes the
  XML ill-formed);
- `SkipUnless:` is evaluated (for illformed/ and encoding/, as feedparser's
  tests do); a file whose condition raises is skipped.

The expectations name the test server as 127.0.0.1:8097; the server here
listens on an ephemeral port, which is substituted into them.

Prints per-folder pass rates and a closing "N passed, N failed, N skipped"
line. Exits 1 if any file under the required folders fails (wellformed/rss,
wellformed/atom, wellformed/atom10, wellformed/rdf, illformed); the other
folders are reported only.
"""

import argparse
import concurrent.futures
import datetime
import http.server
import json
import os
import pathlib
import posixpath
import re
import shlex
import subprocess
import sys
import threading
import urllib.parse

REQUIRED = ("wellformed/rss", "wellformed/atom", "wellformed/atom10", "wellformed/rdf", "illformed")

SKIP_RE = re.compile(r"SkipUnless:\s*(.*?)\n")
DESC_RE = re.compile(r"Description:\s*(.*?)\s*Expect:\s*(.*)\s*-->")
HEADERS_RE = re.compile(r"^Header:\s+([^:]+):(.*)$", re.MULTILINE)


class FeedParserDict(dict):
    """A dict with feedparser's key aliases and attribute access."""

    keymap = {
        "channel": "feed",
        "items": "entries",
        "guid": "id",
        "date": "updated",
        "date_parsed": "updated_parsed",
        "description": ["summary", "subtitle"],
        "description_detail": ["summary_detail", "subtitle_detail"],
        "url": ["href"],
        "modified": "updated",
        "modified_parsed": "updated_parsed",
        "issued": "published",
        "issued_parsed": "published_parsed",
        "copyright": "rights",
        "copyright_detail": "rights_detail",
        "tagline": "subtitle",
        "tagline_detail": "subtitle_detail",
    }

    def __getitem__(self, key):
        if key == "category":
            try:
                return dict.__getitem__(self, "tags")[0]["term"]
            except (KeyError, IndexError):
                raise KeyError("object doesn't have key 'category'")
        if key == "enclosures":
            return [
                FeedParserDict((k, v) for k, v in link.items() if k != "rel")
                for link in dict.__getitem__(self, "links")
                if link.get("rel") == "enclosure"
            ]
        if key == "license":
            for link in dict.get(self, "links", []):
                if link.get("rel") == "license" and "href" in link:
                    return link["href"]
        else:
            realkey = self.keymap.get(key, key)
            if isinstance(realkey, list):
                for k in realkey:
                    if dict.__contains__(self, k):
                        return dict.__getitem__(self, k)
            elif dict.__contains__(self, realkey):
                return dict.__getitem__(self, realkey)
        return dict.__getitem__(self, key)

    def __contains__(self, key):
        if key in ("updated", "updated_parsed"):
            return dict.__contains__(self, key)
        try:
            self.__getitem__(key)
        except KeyError:
            return False
        return True

    has_key = __contains__

    def get(self, key, default=None):
        try:
            return self.__getitem__(key)
        except KeyError:
            return default

    def __getattr__(self, key):
        try:
            return self.__getitem__(key)
        except KeyError:
            raise AttributeError("object has no attribute '%s'" % key)

    def __hash__(self):
        return id(self)


def convert(value):
    """JSON -> the Python shapes feedparser returns."""
    if isinstance(value, dict):
        return FeedParserDict((k, convert(v)) for k, v in value.items())
    if isinstance(value, list):
        items = [convert(v) for v in value]
        if items and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in items):
            return tuple(items)
        return items
    return value


def file_text(data):
    """Decodes a test file by its byte order mark (as feedparser's helpers do)."""
    if data[:4] == b"\x00\x00\xfe\xff":
        return data.decode("utf-32be")
    if data[:4] == b"\xff\xfe\x00\x00":
        return data.decode("utf-32le")
    if data[:4] == b"\x00\x00\x00\x3c":
        return data.decode("utf-32be")
    if data[:4] == b"\x3c\x00\x00\x00":
        return data.decode("utf-32le")
    if data[:4] == b"\x00\x3c\x00\x3f":
        return data.decode("utf-16be")
    if data[:4] == b"\x3c\x00\x3f\x00":
        return data.decode("utf-16le")
    if data[:2] == b"\xfe\xff" and data[2:4] != b"\x00\x00":
        return data[2:].decode("utf-16be")
    if data[:2] == b"\xff\xfe" and data[2:4] != b"\x00\x00":
        return data[2:].decode("utf-16le")
    if data[:3] == b"\xef\xbb\xbf":
        return data[3:].decode("utf-8", errors="ignore")
    return data.decode("utf-8", errors="ignore")


class CorpusHandler(http.server.BaseHTTPRequestHandler):
    """Serves corpus files with the `Header:` lines of each file."""

    corpus = None  # pathlib.Path, set before serving

    def do_GET(self):
        rel = urllib.parse.unquote(urllib.parse.urlsplit(self.path).path).lstrip("/")
        path = (self.corpus / rel).resolve()
        if self.corpus.resolve() not in path.parents or not path.is_file():
            self.send_error(404)
            return
        data = path.read_bytes()
        headers = {k.strip(): v.strip() for k, v in HEADERS_RE.findall(file_text(data))}
        content_type = "text/xml"
        for k in list(headers):
            if k.lower() == "content-type":
                content_type = headers.pop(k)
        status = 200
        if self.headers.get("If-None-Match") and self.headers.get("If-None-Match") == headers.get("ETag"):
            status = 304
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data) if status == 200 else 0))
        for k, v in headers.items():
            self.send_header(k, v)
        self.end_headers()
        if status == 200:
            self.wfile.write(data)

    def log_message(self, *args):
        pass


def folder_of(rel):
    return posixpath.dirname(rel)


def is_required(folder):
    return any(folder == r or folder.startswith(r + "/") for r in REQUIRED)


def run_one(cmd, corpus, rel, base_url, timeout):
    """Returns (status, detail): status is 'pass', 'fail' or 'skip'."""
    path = corpus / rel
    data = path.read_bytes()
    text = file_text(data)
    m = DESC_RE.search(text)
    if m is None:
        return "skip", "no Description/Expect metadata"
    description, expect = m.group(1).strip(), m.group(2).strip()
    top = rel.split("/")[0]
    skip = SKIP_RE.search(text)
    if skip and top in ("illformed", "encoding"):
        try:
            eval(skip.group(1).strip(), {}, {})
        except Exception as e:  # the test's precondition does not hold here
            return "skip", "SkipUnless: %s (%s)" % (skip.group(1).strip(), e)
    over_http = "http" in rel
    target = base_url + "/" + urllib.parse.quote(rel) if over_http else str(path)
    if over_http:
        expect = expect.replace("127.0.0.1:8097", urllib.parse.urlsplit(base_url).netloc)
    try:
        proc = subprocess.run(cmd + [target], capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return "fail", "parser timed out after %ss" % timeout
    if proc.returncode != 0:
        return "fail", "parser exited %d: %s" % (proc.returncode, proc.stderr.decode("utf-8", "replace").strip()[:300])
    try:
        result = convert(json.loads(proc.stdout.decode("utf-8")))
    except (ValueError, UnicodeDecodeError) as e:
        return "fail", "output is not JSON: %s" % e
    if top == "wellformed" and result.get("bozo") is not False:
        return "fail", "bozo is %r (%s)" % (result.get("bozo"), result.get("bozo_exception"))
    if top == "illformed" and over_http and result.get("bozo") is not True:
        return "fail", "bozo is %r, expected True" % result.get("bozo")
    if top == "entities" and result.get("bozo") != 1:
        return "fail", "bozo is %r, expected 1" % result.get("bozo")
    try:
        ok = eval(expect, {"datetime": datetime}, result)
    except Exception as e:
        return "fail", "%s: Expect raised %s: %s" % (description, type(e).__name__, e)
    if not ok:
        return "fail", "%s: not %s" % (description, expect)
    return "pass", ""


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cmd", required=True, help="command that prints the parse result of its argument as JSON")
    parser.add_argument("--corpus", required=True, help="corpus root (the folder holding wellformed/, illformed/, ...)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds per file")
    parser.add_argument("--filter", default="", help="only files whose path contains this")
    parser.add_argument("-v", "--verbose", action="store_true", help="list every failure, also outside required folders")
    args = parser.parse_args()

    cmd = shlex.split(args.cmd)
    corpus = pathlib.Path(args.corpus)
    files = sorted(str(p.relative_to(corpus)).replace(os.sep, "/") for p in corpus.rglob("*.xml"))
    files = [f for f in files if args.filter in f]
    if not files:
        print("no corpus files found under %s" % corpus, file=sys.stderr)
        return 2

    CorpusHandler.corpus = corpus
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), CorpusHandler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base_url = "http://127.0.0.1:%d" % server.server_address[1]
    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
            outcomes = list(pool.map(lambda rel: run_one(cmd, corpus, rel, base_url, args.timeout), files))
    finally:
        server.shutdown()
        server.server_close()

    folders = {}
    for rel, (status, detail) in zip(files, outcomes):
        folders.setdefault(folder_of(rel), []).append((rel, status, detail))

    print("%-28s %8s %7s %8s  %s" % ("folder", "passed", "total", "rate", ""))
    totals = {"pass": 0, "fail": 0, "skip": 0}
    required_failures = []
    for folder in sorted(folders):
        rows = folders[folder]
        counts = {s: sum(1 for _, st, _ in rows if st == s) for s in ("pass", "fail", "skip")}
        for s in totals:
            totals[s] += counts[s]
        run = counts["pass"] + counts["fail"]
        rate = "%.1f%%" % (100.0 * counts["pass"] / run) if run else "-"
        note = "required" if is_required(folder) else "report only"
        if counts["skip"]:
            note += ", %d skipped" % counts["skip"]
        print("%-28s %8d %7d %8s  %s" % (folder, counts["pass"], run, rate, note))
        for rel, status, detail in rows:
            if status == "fail" and is_required(folder):
                required_failures.append((rel, detail))
            if status == "fail" and (args.verbose or is_required(folder)):
                print("    FAIL %s: %s" % (rel, detail))
            elif status == "skip" and args.verbose:
                print("    skip %s: %s" % (rel, detail))

    run = totals["pass"] + totals["fail"]
    print("overall: %d of %d files pass (%.1f%%); required folders: %s"
          % (totals["pass"], run, 100.0 * totals["pass"] / max(run, 1),
             "all pass" if not required_failures else "%d failing" % len(required_failures)))
    print("%d passed, %d failed, %d skipped" % (totals["pass"], totals["fail"], totals["skip"]))
    return 1 if required_failures else 0


if __name__ == "__main__":
    sys.exit(main())
