#!/usr/bin/env python3
"""bench.py — litparse speed against pubmed_parser on the same files, and memory while streaming 1 GB.

Measures, in one run on one machine:
  1. JATS: every file of corpus/jats. litparse (metadata, abstract, sections, paragraphs with
     sentences, captions, references, JSON Lines) against pubmed_parser's parse_pubmed_xml +
     parse_pubmed_references + parse_pubmed_paragraph(all_paragraph=True) + parse_pubmed_caption
     (the same kinds of content; each of its functions reads the file again, as a user calling them
     would).
  2. MEDLINE: every file of corpus/pubmed. litparse against pubmed_parser's parse_medline_xml
     (the .gz file) and its parse_article_info over iterparse (the plain files, which
     parse_medline_xml cannot open).
  3. Peak RSS of litparse streaming a 1 GB MEDLINE file made by repeating the citations of
     medline16n0902.xml.gz (written to --tmp, removed afterwards; never committed).

Prints documents/s and MB/s (uncompressed XML) for both and the ratio.

    python3 -m venv /tmp/lp-venv && /tmp/lp-venv/bin/pip install -r tests/reference/litparse/requirements.txt
    /tmp/lp-venv/bin/python tests/bench/litparse/bench.py --dump build/tests/litparse_dump --corpus ../shared/corpus
"""
import argparse
import glob
import gzip
import io
import os
import re
import subprocess
import sys
import time


def xml_bytes(path):
    if path.endswith(".gz"):
        with gzip.open(path, "rb") as f:
            return len(f.read())
    return os.path.getsize(path)


def run_ours(dump, files, repeat, threads=1):
    """Seconds per pass and documents per pass of litparse_dump over `files`."""
    args = [dump, "--quiet", "--threads", str(threads)] + files * repeat
    t0 = time.perf_counter()
    p = subprocess.run(args, capture_output=True, text=True)
    dt = time.perf_counter() - t0
    if p.returncode != 0:
        sys.exit("litparse_dump failed: " + p.stderr[-2000:])
    docs = int(re.search(r"(\d+) documents", p.stderr).group(1))
    return dt / repeat, docs // repeat


def best_of(fn, n):
    best = None
    for _ in range(n):
        t0 = time.perf_counter()
        out = fn()
        dt = time.perf_counter() - t0
        if best is None or dt < best[0]:
            best = (dt, out)
    return best


def theirs_jats(files):
    import pubmed_parser as pp
    n = 0
    for f in files:
        for fn in (pp.parse_pubmed_xml, pp.parse_pubmed_references, lambda x: pp.parse_pubmed_paragraph(x, all_paragraph=True),
                   pp.parse_pubmed_caption):
            try:
                fn(f)
            except Exception:
                # pubmed_parser 0.5.1 raises on some files (KeyError 'year' on eLife dates); the work
                # done up to the exception is still timed
                pass
        n += 1
    return n


def theirs_medline(files):
    """What pubmed_parser's parse_medline_xml does per record (iterparse, parse_article_info,
    parse_grant_id, clear). Its own function opens only gzip files and only yields <PubmedArticle>,
    so plain files and the <MedlineCitation>s of a MedlineCitationSet are handed to its
    parse_article_info the same way."""
    from lxml import etree
    from pubmed_parser import medline_parser as mp
    n = 0
    for f in files:
        opener = gzip.open if f.endswith(".gz") else open
        with opener(f, "rb") as fh:
            for _, el in etree.iterparse(fh, events=("end",)):
                if el.tag == "PubmedArticle":
                    rec = el
                elif el.tag == "MedlineCitation" and el.getparent() is not None and el.getparent().tag == "MedlineCitationSet":
                    rec = etree.Element("PubmedArticle")
                    rec.append(el)
                else:
                    continue
                res = mp.parse_article_info(rec, False, False, True, True)
                res["grant_ids"] = mp.parse_grant_id(rec)
                rec.clear()
                n += 1
    return n


def make_big_medline(sample, path, target):
    """A MedlineCitationSet of `target` bytes or more: the sample's citations repeated."""
    with gzip.open(sample, "rb") as f:
        data = f.read()
    start = data.index(b"<MedlineCitation ")
    end = data.rindex(b"</MedlineCitationSet>")
    head, body, tail = data[:start], data[start:end], data[end:]
    written = 0
    with open(path, "wb") as out:
        out.write(head)
        written += len(head)
        while written < target:
            out.write(body)
            written += len(body)
        out.write(tail)
        written += len(tail)
    return written


def run_big(dump, path):
    """Documents, seconds and peak RSS (bytes, the child's own VmHWM as litparse_dump reports it)."""
    t0 = time.perf_counter()
    p = subprocess.run([dump, "--quiet", path], capture_output=True, text=True)
    dt = time.perf_counter() - t0
    if p.returncode != 0:
        sys.exit("litparse_dump failed: " + p.stderr[-2000:])
    m = re.search(r"(\d+) documents, peak RSS (-?\d+) KiB", p.stderr)
    return int(m.group(1)), dt, int(m.group(2)) * 1024


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dump", default="build/tests/litparse_dump")
    ap.add_argument("--corpus", default=os.path.join(os.environ.get("SCILOOP_SHARED_DIR", "../shared"), "corpus"))
    ap.add_argument("--tmp", default="/tmp", help="where the 1 GB file is written (and removed)")
    ap.add_argument("--big-mb", type=int, default=1024, help="size of the streamed MEDLINE file")
    ap.add_argument("--repeat", type=int, default=10, help="passes of litparse over the small sets")
    ap.add_argument("--peer-runs", type=int, default=3, help="runs of pubmed_parser (the best is kept)")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1,
                    help="threads for the second litparse measurement (litparse.parse uses the step's CPU budget)")
    args = ap.parse_args()
    c = args.corpus

    jats = sorted(glob.glob(f"{c}/jats/*/*.xml") + glob.glob(f"{c}/jats/*/*.nxml"))
    med = sorted(glob.glob(f"{c}/pubmed/*.xml") + glob.glob(f"{c}/pubmed/*.xml.gz"))
    rows = []
    for name, files, peer in (("JATS", jats, theirs_jats), ("MEDLINE", med, theirs_medline)):
        mb = sum(xml_bytes(f) for f in files) / 1e6
        run_ours(args.dump, files, 1)  # warm the page cache
        peer_dt, peer_docs = best_of(lambda: peer(files), args.peer_runs)
        for th in sorted({1, args.threads}):
            ours_dt, ours_docs = min(run_ours(args.dump, files, args.repeat, th) for _ in range(3))
            rows.append((name, th, len(files), mb, ours_docs, ours_dt, peer_docs, peer_dt))

    print(f"{'set':8} {'threads':>7} {'files':>5} {'MB':>6} | {'litparse docs/s':>15} {'MB/s':>7} | "
          f"{'pubmed_parser docs/s':>20} {'MB/s':>6} | {'speed-up':>8}")
    for name, th, nf, mb, od, ot, pd, pt in rows:
        # documents/s counts the articles/citations of the files (sub-articles not counted extra)
        arts = nf if name == "JATS" else pd
        print(f"{name:8} {th:7d} {nf:5d} {mb:6.2f} | {arts / ot:15.0f} {mb / ot:7.1f} | {arts / pt:20.1f} {mb / pt:6.2f} | "
              f"{pt / ot:7.1f}x")
    print(f"(litparse: best of 3 processes each running {args.repeat} passes, JSON written to /dev/null, sentences split; "
          f"{rows[0][4]} JATS documents per pass incl. sub-articles; pubmed_parser: best of {args.peer_runs} runs, one thread; "
          f"{os.cpu_count()} CPUs)")

    big = os.path.join(args.tmp, "litparse-bench-medline.xml")
    try:
        size = make_big_medline(f"{c}/pubmed/medline16n0902.xml.gz", big, args.big_mb << 20)
        docs, dt, rss = run_big(args.dump, big)
        print(f"streaming {size / 1e9:.2f} GB of MEDLINE XML: {docs} documents in {dt:.1f} s "
              f"({docs / dt:.0f} docs/s, {size / 1e6 / dt:.0f} MB/s), peak RSS {rss / 2**20:.1f} MiB")
    finally:
        if os.path.exists(big):
            os.remove(big)


if __name__ == "__main__":
    main()
