#!/usr/bin/env python3
"""agree.py — field agreement of litparse with independent extractors on the shared corpus.

  * JATS (jats/plos, jats/elife, jats/pmc) and MEDLINE (pubmed/) against pubmed_parser (pip):
    title, abstract text, author count, affiliation count, reference count, PMID, DOI;
  * GROBID TEI (tei/) against the S2ORC JSON that s2orc-doc2json made from the same TEI:
    title, abstract, section titles, paragraph count, bibliography entries;
  * BibTeX (bibtex/) against Zotero's imports (*.expected.json): title, creators, DOI, year, item type.

litparse runs through its command-line driver (tests/bench/litparse/lp_dump.c, target litparse_dump);
the documents it prints are compared field by field. Every disagreement is put in a class by the
rules in CLASSES below (each rule names its reason and who is right); one that no rule explains is
reported as "unexplained" and makes the script exit 1.

Usage (from the repository root, after building litparse_dump):

    python3 -m venv /tmp/lp-venv && /tmp/lp-venv/bin/pip install -r tests/reference/litparse/requirements.txt
    /tmp/lp-venv/bin/python tests/reference/litparse/agree.py --dump build/tests/litparse_dump \
        --corpus ../shared/corpus --out tests/reference/litparse

writes AGREEMENT.md (the summary table) and disagreements.tsv (one line per disagreement).
"""
import argparse
import collections
import glob
import gzip
import io
import itertools
import json
import os
import re
import subprocess
import sys
import unicodedata

# --------------------------------------------------------------------------------------------
# normalisation shared by all comparisons


def norm_tokens(s):
    """NFKC, case-folded word tokens (letters and digits), markup removed."""
    if not s:
        return []
    s = re.sub(r"</?[a-zA-Z][^>]*>", " ", s)
    s = unicodedata.normalize("NFKC", s).casefold()
    return re.findall(r"\w+", s)


def norm_text(s):
    return " ".join(norm_tokens(s))


def compact(s):
    """Letters and digits only, NFKC and case-folded: text compared regardless of white space and
    punctuation (pubmed_parser joins the text pieces of inline markup with spaces, "p27 Kip1" for
    p27<sup>Kip1</sup>; such joins are not a difference in the extracted text)."""
    if not s:
        return ""
    s = re.sub(r"</?[a-zA-Z][^>]*>", "", s)
    return re.sub(r"[\W_]+", "", unicodedata.normalize("NFKC", s).casefold())


def norm_doi(s):
    if not s:
        return ""
    s = s.strip()
    s = re.sub(r"^(https?://(dx\.)?doi\.org/|doi:\s*)", "", s, flags=re.I)
    return s.lower()


def run_dump(dump, files, extra=()):
    """Documents litparse makes of `files`, grouped by source file."""
    out = collections.defaultdict(list)
    if not files:
        return out
    p = subprocess.run([dump, *extra, *files], capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit("litparse_dump failed:\n" + p.stderr)
    for line in p.stdout.splitlines():
        d = json.loads(line)
        out[d["sources"][0]["file"]].append(d)
    return out


# --------------------------------------------------------------------------------------------
# result bookkeeping

Result = collections.namedtuple("Result", "fmt field file item agree ours theirs cls who")


class Tally:
    def __init__(self):
        self.rows = []

    def add(self, fmt, field, file, item, agree, ours, theirs, classify=None):
        cls, who = "", ""
        if not agree:
            cls, who = ("unexplained", "?")
            if classify:
                got = classify()
                if got:
                    cls, who = got
        self.rows.append(Result(fmt, field, os.path.basename(file), item, agree, ours, theirs, cls, who))


# --------------------------------------------------------------------------------------------
# JATS against pubmed_parser.parse_pubmed_xml / parse_pubmed_references


def jats_family(docs):
    """The article and its sub-articles (children follow their parent in the output)."""
    return docs


def abstract_blocks(docs):
    """Every abstract-like block of the file in litparse's documents: main abstracts and summaries
    (digests, author summaries, teasers) of the article and of its sub-articles, each with its
    title and section labels, as compact strings."""
    blocks = []
    for d in docs:
        parts, last = [], None
        for p in d.get("abstract", []):
            if p.get("label") and p.get("label") != last:
                parts.append(p["label"])
            last = p.get("label")
            parts.append(p["text"])
        if parts:
            blocks.append(compact(" ".join(parts)))
        for s in d.get("summaries", []):
            parts, last = [s.get("title") or ""], None
            for p in s.get("paragraphs", []):
                if p.get("label") and p.get("label") != last:
                    parts.append(p["label"])
                last = p.get("label")
                parts.append(p["text"])
            blocks.append(compact(" ".join(parts)))
    return blocks


def same_blocks(blocks, theirs):
    """True when `theirs` (compact) is our blocks joined in some order: pubmed_parser keeps the
    file's order of <abstract> elements, our documents keep the main abstract apart from the others."""
    if len(blocks) > 7:
        return "".join(blocks) == theirs
    return any("".join(p) == theirs for p in itertools.permutations(blocks))


def sorted_chars(s, remove):
    return "".join(sorted(s.replace(remove, "") if remove else s))


def raw_abstract_tokens(path, strip_label=True):
    """Tokens of every <abstract> element's text, read with lxml the same way pubmed_parser does,
    but without the label/title elements (used to tell what their extra text is)."""
    from lxml import etree
    tree = etree.parse(path)
    toks = []
    for a in tree.iter("{*}abstract", "abstract"):
        for t in a.itertext():
            toks += norm_tokens(t)
    return toks


def their_jats(pp, path):
    """pubmed_parser.parse_pubmed_xml; version 0.5.1 raises KeyError('year') on files dated only with
    <pub-date date-type="pub"> (eLife): then its date parser is given an empty year, which touches
    no compared field."""
    try:
        return pp.parse_pubmed_xml(path)
    except KeyError:
        from pubmed_parser import pubmed_oa_parser as oa
        orig = oa.parse_date

        def parse_date(tree, date_type):
            d = orig(tree, date_type)
            d.setdefault("year", None)
            return d
        oa.parse_date = parse_date
        try:
            r = pp.parse_pubmed_xml(path)
        finally:
            oa.parse_date = orig
        return r


def jats_compare(t, dump, files):
    import pubmed_parser as pp
    from lxml import etree
    ours_all = run_dump(dump, files)
    for f in files:
        docs = ours_all.get(f, [])
        main = docs[0]
        theirs = their_jats(pp, f)
        try:
            refs = pp.parse_pubmed_references(f) or []
        except Exception:  # pubmed_parser raises on some reference lists
            refs = None
        tree = etree.parse(f)

        # title: article-title plus subtitle, as pubmed_parser composes it
        ours_title = " ".join(x for x in (main.get("title"), main.get("subtitle")) if x)
        their_title = theirs["full_title"]

        def title_cls():
            tt = tree.find(".//title-group/article-title")
            if tt is not None and any(isinstance(n, etree._Entity) for n in tt.iter()):
                return ("their text drops character entities (&ndash; ...) their parser leaves unexpanded", "ours")
            return None
        t.add("jats", "title", f, main["id"], compact(ours_title) == compact(their_title), ours_title, their_title, title_cls)

        # abstract text: pubmed_parser joins the text of every <abstract> in the file (summaries,
        # digests and sub-articles' abstracts included), so ours is every abstract-like block too
        blocks = abstract_blocks(docs)
        their_ab = theirs["abstract"]
        ours_ab = " | ".join(blocks)

        def abstract_cls():
            th = compact(their_ab)
            for a in tree.iter("abstract"):
                for o in a.iter("object-id"):
                    th = th.replace(compact(o.text), "", 1)
            if same_blocks(blocks, th):
                return ("their text includes the DOI of the abstract (<object-id>, eLife), which is not abstract text", "ours")
            has_ent = any(isinstance(n, etree._Entity) for a in tree.iter("abstract") for n in a.iter())
            if has_ent:
                return ("their text drops character entities their parser leaves unexpanded", "ours")
            return None
        t.add("jats", "abstract", f, main["id"], same_blocks(blocks, compact(their_ab)), ours_ab[:300], their_ab[:300], abstract_cls)

        # author count. pubmed_parser's author_list has one row per (author, affiliation xref) pair, so
        # an author with three affiliations is three rows and one without an xref is none; the count
        # compared is that of the authors it selects, `.//contrib-group/contrib[@contrib-type="author"]`
        # (the list parse_pubmed_xml zips with affiliations), over the whole file like theirs.
        ours_n = sum(len(d.get("authors", [])) for d in docs)
        their_n = len(tree.xpath('.//contrib-group/contrib[@contrib-type="author"]'))

        def authors_cls():
            return None
        t.add("jats", "author count", f, main["id"], ours_n == their_n, ours_n, their_n, authors_cls)

        # affiliation count: pubmed_parser lists every <aff id=...> of the file
        ours_aff = sum(len([a for a in d.get("affiliations", []) if a.get("id")]) for d in docs)
        their_aff = len([a for a in theirs["affiliation_list"] if a and a[0]])

        def aff_cls():
            ids = [a.get("id") for a in tree.iter("aff") if a.get("id")]
            editor_affs = set()
            for c in tree.iter("contrib"):
                if c.get("contrib-type") not in (None, "author"):
                    for x in c.findall("xref"):
                        if x.get("ref-type") == "aff":
                            editor_affs.update((x.get("rid") or "").split())
                    editor_affs.update(a.get("id") for a in c.findall("aff") if a.get("id"))
            if their_aff - ours_aff == len(editor_affs & set(ids)) and editor_affs:
                return ("their list includes the affiliations of editors and reviewers; ours those of authors", "ours")
            texts = collections.Counter(" ".join(norm_tokens(etree.tostring(a, method="text", encoding="unicode"))) for a in tree.iter("aff") if a.get("id"))
            dup = sum(n - 1 for n in texts.values() if n > 1)
            if dup and their_aff - ours_aff == dup:
                return ("the same affiliation text appears under two ids; we keep it once", "ambiguous")
            return None
        t.add("jats", "affiliation count", f, main["id"], ours_aff == their_aff, ours_aff, their_aff, aff_cls)

        # reference count: <ref id=...> of every ref-list with a typed citation
        ours_r = sum(len(d.get("references", [])) for d in docs)
        their_r = len(refs) if refs is not None else None

        def refs_cls():
            if their_r is None:
                return ("pubmed_parser raised an exception on the reference list", "ours")
            n_ref = len([r for r in tree.iter("ref")])
            if ours_r == n_ref:
                return ("they skip <ref>s whose citation has no publication-type/citation-type attribute", "ours")
            return None
        t.add("jats", "reference count", f, main["id"], ours_r == their_r, ours_r, their_r, refs_cls)

        t.add("jats", "PMID", f, main["id"], (main.get("ids", {}).get("pmid") or "") == (theirs["pmid"] or ""),
              main.get("ids", {}).get("pmid"), theirs["pmid"])
        t.add("jats", "DOI", f, main["id"], norm_doi(main.get("ids", {}).get("doi")) == norm_doi(theirs["doi"]),
              main.get("ids", {}).get("doi"), theirs["doi"])


# --------------------------------------------------------------------------------------------
# MEDLINE against pubmed_parser.medline_parser.parse_article_info


def medline_records(path):
    """Each record element as pubmed_parser's parse_medline_xml would see it. Their iterator only
    knows <PubmedArticle> and only gzip files; <MedlineCitation> records of a MedlineCitationSet are
    wrapped in a <PubmedArticle> so their own parse_article_info can read them."""
    from lxml import etree
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as fh:
        data = fh.read()
    root = etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True))
    for el in root:
        if el.tag == "PubmedArticle":
            yield el
        elif el.tag == "MedlineCitation":
            wrap = etree.Element("PubmedArticle")
            wrap.append(el)
            yield wrap


def medline_compare(t, dump, files):
    from pubmed_parser import medline_parser as mp
    ours_all = run_dump(dump, files)
    for f in files:
        ours = {d["ids"]["pmid"]: d for d in ours_all.get(f, [])}
        for rec in medline_records(f):
            th = mp.parse_article_info(rec, year_info_only=True, nlm_category=False, author_list=True, reference_list=True)
            pmid = th["pmid"]
            d = ours.get(pmid, {})
            t.add("medline", "PMID", f, pmid, bool(d), pmid if d else None, pmid)
            art = rec.find("MedlineCitation/Article")

            def title_cls():
                at = art.find("ArticleTitle")
                if at is not None and any(len(c) for c in at):
                    return ("markup nested two levels deep in the title (<i><sub>): their stringify_children keeps only one level", "ours")
                return None
            t.add("medline", "title", f, pmid, norm_text(d.get("title")) == norm_text(th["title"]), d.get("title"), th["title"], title_cls)

            # abstract: their structured form prefixes each section with its Label (unless UNASSIGNED)
            sec = d.get("abstract", [])
            toks = []
            for p in sec:
                if len(sec) > 1 and p.get("label") and p.get("label") != "UNASSIGNED":
                    toks += norm_tokens(p["label"])
                toks += norm_tokens(p["text"])
            theirs_ab = norm_tokens(th["abstract"])

            def abs_cls():
                a = art.find("Abstract")
                if a is not None and any(len(c) for x in a.findall("AbstractText") for c in x):
                    return ("markup nested two levels deep in the abstract (MathML, <i><sup>): their stringify_children keeps only one level", "ours")
                return None
            t.add("medline", "abstract", f, pmid, toks == theirs_ab, " ".join(toks)[:300], " ".join(theirs_ab)[:300], abs_cls)

            ours_n = len(d.get("authors", []))
            their_n = len(th["authors"])
            t.add("medline", "author count", f, pmid, ours_n == their_n, ours_n, their_n)

            # authors with an affiliation (they keep the first affiliation of each author)
            ours_aff = len([a for a in d.get("authors", []) if a.get("affiliations")])
            their_aff = len([a for a in th["authors"] if a.get("affiliation")])
            t.add("medline", "affiliation count", f, pmid, ours_aff == their_aff, ours_aff, their_aff)

            ours_r = len(d.get("references", []))
            their_r = len(th["references"]) if isinstance(th["references"], list) else 0
            t.add("medline", "reference count", f, pmid, ours_r == their_r, ours_r, their_r)

            od = norm_doi(d.get("ids", {}).get("doi"))
            td = norm_doi(th["doi"])

            def doi_cls():
                els = art.findall("ELocationID")
                if len(els) > 1 and els[-1].get("EIdType") != "doi" and any(e.get("EIdType") == "doi" for e in els):
                    return ("several ELocationIDs: their loop keeps only the last one, which is not the DOI", "ours")
                if not td and od:
                    return ("DOI only in PubmedData/ArticleIdList, which they read only without any ELocationID", "ours")
                return None
            t.add("medline", "DOI", f, pmid, od == td, od, td, doi_cls)


# --------------------------------------------------------------------------------------------
# TEI against the S2ORC JSON


def tei_compare(t, dump, files):
    ours_all = run_dump(dump, files)
    for f in files:
        d = ours_all[f][0]
        s2 = json.load(open(f.replace(".tei.xml", ".json")))
        pdf = s2["pdf_parse"]
        t.add("tei", "title", f, "", compact(d.get("title")) == compact(s2.get("title")), d.get("title"), s2.get("title"))
        ours_ab = " ".join(p["text"] for p in d.get("abstract", []))
        their_ab = " ".join(p["text"] for p in pdf.get("abstract", []))
        t.add("tei", "abstract", f, "", compact(ours_ab) == compact(their_ab), ours_ab[:200], their_ab[:200])

        # S2ORC's body_text: paragraphs of the body's divisions plus the footnotes (section "")
        body = [s for s in d.get("sections", []) if s.get("type") not in ("ack", "appendix")]
        ours_text = compact(" ".join(p["text"] for s in body for p in s.get("paragraphs", [])))

        def other_run():
            missing = [p["text"] for p in pdf["body_text"] if compact(p["text"]) not in ours_text]
            if missing:
                return (f"the S2ORC JSON comes from another GROBID run of the PDF: {len(missing)} of its paragraphs are "
                        "not in this TEI as such (split, merged or moved to footnotes differently)", "ambiguous")
            return None
        ours_secs = []
        for s in body:
            if s.get("paragraphs") and s.get("title") and (not ours_secs or ours_secs[-1] != s["title"]):
                ours_secs.append(s["title"])
        their_secs = []
        for p in pdf["body_text"]:
            if p.get("section") and (not their_secs or their_secs[-1] != p["section"]):
                their_secs.append(p["section"])
        t.add("tei", "section titles", f, "", [compact(x) for x in ours_secs] == [compact(x) for x in their_secs],
              " | ".join(ours_secs)[-300:], " | ".join(their_secs)[-300:], other_run)

        ours_p = sum(len(s.get("paragraphs", [])) for s in body)
        t.add("tei", "paragraph count", f, "", ours_p == len(pdf["body_text"]), ours_p, len(pdf["body_text"]), other_run)

        def bib_cls():
            from lxml import etree
            ns = {"t": "http://www.tei-c.org/ns/1.0"}
            empty = 0
            for b in etree.parse(f).iterfind(".//t:listBibl/t:biblStruct", ns):
                first = b.find("t:analytic/t:title", ns)
                if first is None:
                    first = b.find("t:monogr/t:title", ns)
                empty += first is not None and not "".join(first.itertext()).strip()
            if len(d.get("references", [])) - empty == len(pdf["bib_entries"]):
                return (f"S2ORC leaves out the {empty} bibliography entries whose title GROBID left empty; they still "
                        "have authors and year", "ours")
            return None
        t.add("tei", "bibliography entries", f, "", len(d.get("references", [])) == len(pdf["bib_entries"]),
              len(d.get("references", [])), len(pdf["bib_entries"]), bib_cls)


# --------------------------------------------------------------------------------------------
# BibTeX against Zotero (Better BibTeX) imports


def citation_key(item):
    if item.get("citationKey"):
        return item["citationKey"]
    extra = item.get("extra") or []
    if isinstance(extra, str):
        extra = extra.split("\n")
    for line in extra:
        if line.startswith("Citation Key: "):
            return line[len("Citation Key: "):]
    return None


def their_doi(item):
    if item.get("DOI"):
        return item["DOI"]
    extra = item.get("extra") or []
    if isinstance(extra, str):
        extra = extra.split("\n")
    for line in extra:
        if line.startswith("DOI: "):
            return line[5:]
    return None


def name_key(family, given):
    return " ".join(norm_tokens(f"{family or ''} {given or ''}"))


def our_creators(d):
    names = []
    for a in d.get("authors", []):
        given = a.get("given") or ""
        if a.get("suffix"):
            given = f"{given}, {a['suffix']}"
        names.append(name_key(a.get("family") or a.get("collab"), given))
    if d.get("authors_et_al"):
        names.append(name_key("others", ""))
    for role in ("editors", "contributors"):
        for a in d.get(role, []):
            if a.get("role") == "holder":  # a patent's assignee is not a creator in Zotero
                continue
            given = a.get("given") or ""
            if a.get("suffix"):
                given = f"{given}, {a['suffix']}"
            names.append(name_key(a.get("family") or a.get("literal"), given))
    return names


def their_creators(item):
    out = []
    for c in item.get("creators", []):
        if "name" in c:
            out.append(name_key(c["name"], ""))
        else:
            out.append(name_key(c.get("lastName"), c.get("firstName")))
    return out


def year_of(s):
    m = re.search(r"\d{4}", s or "")
    return int(m.group(0)) if m else 0


def raw_creators(item):
    return " ".join(f"{c.get('lastName', '')} {c.get('firstName', '')} {c.get('name', '')}" for c in item.get("creators", []))


def bib_classify(field, fname, key, ours, theirs, d, item):
    """Known reasons, found by reading each disagreement (explained in docs/plugins/litparse.md)."""
    if "Jabref_groups_import_does_not_work__717.3.8" in fname:
        return ("the expected file lists the items of another variant of the library (JabRef 2.10's), not this file's", "ours")
    if field == "creators":
        raw = raw_creators(item)

        def bare(x):
            return "".join(ch for ch in unicodedata.normalize("NFD", " ".join(x)) if not unicodedata.combining(ch))
        if "\u030c" in unicodedata.normalize("NFD", raw) and bare(ours) == bare(theirs):
            return ("TeX caron \\v{} put on the wrong letter (or on none) by Zotero", "ours")
        if "\\" in raw or "^" in raw or "\u0131\u0301" in unicodedata.normalize("NFD", raw):
            return ("TeX accent left unconverted by Zotero (\\'e, \\^i, {\\'{\\i}})", "ours")
        if re.search(r"(^|\s)[\u0300-\u036f\u1dc0-\u1dff\u0323]", unicodedata.normalize("NFD", raw)) and \
                bare(ours).replace(" ", "") == bare(theirs).replace(" ", ""):
            return ("an accent command applied to no letter ({\\d}); we drop it, Zotero keeps a lone combining mark", "ambiguous")
        if len(ours) == len(theirs) and sorted(" ".join(sorted(x.split())) for x in ours) == \
                sorted(" ".join(sorted(x.split())) for x in theirs):
            return ("the same name words split differently between family and given (\"Merle, J., C.\" is von Last, Jr, First)",
                    "ambiguous")
    if field == "doi":
        if ours and not theirs and "doi.org/" in (d.get("url") or ""):
            return ("DOI read from the entry's doi.org URL (no doi field); Zotero keeps only the URL", "ours")
        if ours and not theirs and "Maintain_the_JabRef_group" in fname:
            return ("DOI present in the entry; this Zotero import dropped it", "ours")
        if not ours and theirs and not theirs.startswith("10."):
            return ("the doi field holds something that is not a DOI (no 10. prefix); we leave it out, Zotero keeps the text",
                    "ambiguous")
    if field == "item type":
        if d.get("type") == "misc" and theirs == "journalArticle":
            return ("@misc web page imported as a journal article by Zotero", "ours")
        if d.get("type") == "legmaterial":
            return ("@legmaterial with type=report: a report (BibLaTeX-Chicago convention)", "theirs")
        if d.get("type") == "book" and theirs == "bookSection":
            return ("@book whose booktitle equals its title", "ambiguous")
    if field == "title":
        if d.get("type") == "inreference":
            return ("BibLaTeX-Chicago @inreference with the article title in `lista`", "theirs")
        if d.get("title") and ":" in d["title"] and "." in d["title"]:
            return ("subtitle and titleaddon order (BibLaTeX prints Title: Subtitle. Addon)", "ambiguous")
    return None


def bibtex_compare(t, dump, files):
    ours_all = run_dump(dump, files)
    for f in files:
        exp = f[:-4] + ".expected.json"
        if not os.path.exists(exp):
            continue
        docs = ours_all.get(f, [])
        used = set()
        for item in json.load(open(exp))["items"]:
            if item.get("itemType") == "note":
                continue
            key = citation_key(item)
            d = None
            for i, x in enumerate(docs):
                if i not in used and key is not None and x["sources"][0].get("key") == key:
                    d, _ = x, used.add(i)
                    break
            if d is None:  # an entry without a key: Zotero invents one; take the next keyless entry
                for i, x in enumerate(docs):
                    if i not in used and not x["sources"][0].get("key"):
                        d, _ = x, used.add(i)
                        break
            d = d or {}
            fname = os.path.basename(f)

            def add(field, agree, ours, theirs):
                t.add("bibtex", field, f, key or "", agree, ours, theirs,
                      lambda: bib_classify(field, fname, key, ours, theirs, d, item))
            add("title", bool(d) and norm_text(d.get("title")).replace(" ", "") == norm_text(item.get("title")).replace(" ", ""),
                d.get("title"), item.get("title"))
            oc, tc = our_creators(d), their_creators(item)
            add("creators", bool(d) and collections.Counter(oc) == collections.Counter(tc) and (oc[:1] == tc[:1]), oc, tc)
            od, td = norm_doi(d.get("ids", {}).get("doi")), norm_doi(their_doi(item))
            add("doi", od == td, od or None, td or None)
            add("year", (d.get("year") or 0) == year_of(item.get("date")), d.get("year"), item.get("date"))
            add("item type", d.get("item_type") == item.get("itemType"), d.get("item_type"), item.get("itemType"))


# --------------------------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dump", default="build/tests/litparse_dump", help="path of the litparse_dump program")
    ap.add_argument("--corpus", default=os.path.join(os.environ.get("SCILOOP_SHARED_DIR", "../shared"), "corpus"))
    ap.add_argument("--out", default=None, help="folder for AGREEMENT.md and disagreements.tsv")
    args = ap.parse_args()
    c = args.corpus
    t = Tally()
    jats = sorted(glob.glob(f"{c}/jats/*/*.xml") + glob.glob(f"{c}/jats/*/*.nxml"))
    jats_compare(t, args.dump, jats)
    medline_compare(t, args.dump, sorted(glob.glob(f"{c}/pubmed/*.xml") + glob.glob(f"{c}/pubmed/*.xml.gz")))
    tei_compare(t, args.dump, sorted(glob.glob(f"{c}/tei/*.tei.xml")))
    bibtex_compare(t, args.dump, sorted(glob.glob(f"{c}/bibtex/*.bib")))

    # summary
    order = collections.OrderedDict()
    for r in t.rows:
        order.setdefault((r.fmt, r.field), []).append(r)
    lines = ["| format | field | agree | of | agreement | ours right | theirs right | ambiguous | unexplained | agree or ours right |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    unexplained = 0
    for (fmt, field), rows in order.items():
        n = len(rows)
        a = sum(r.agree for r in rows)
        who = collections.Counter(r.who for r in rows if not r.agree)
        unexplained += who["?"]
        lines.append(f"| {fmt} | {field} | {a} | {n} | {100.0 * a / n:.1f} % | {who['ours']} | {who['theirs']} | "
                     f"{who['ambiguous']} | {who['?']} | {100.0 * (a + who['ours']) / n:.1f} % |")
    classes = collections.Counter((r.fmt, r.field, r.cls, r.who) for r in t.rows if not r.agree)
    lines += ["", "| format | field | class | who is right | items |", "|---|---|---|---|---|"]
    for (fmt, field, cls, who), n in sorted(classes.items()):
        lines.append(f"| {fmt} | {field} | {cls} | {who} | {n} |")
    summary = "\n".join(lines)
    print(summary)
    if args.out:
        with open(os.path.join(args.out, "AGREEMENT.md"), "w") as fh:
            fh.write("# litparse field agreement (generated by agree.py; do not edit)\n\n")
            fh.write(f"pubmed_parser {__import__('pubmed_parser').__version__ if hasattr(__import__('pubmed_parser'), '__version__') else ''}"
                     .strip() + "; corpus: ../shared/corpus\n\n")
            fh.write(summary + "\n")
        with open(os.path.join(args.out, "disagreements.tsv"), "w") as fh:
            fh.write("format\tfield\tfile\titem\tclass\twho\tours\ttheirs\n")
            for r in t.rows:
                if not r.agree:
                    fh.write("\t".join(str(x).replace("\t", " ").replace("\n", " ")[:400]
                                       for x in (r.fmt, r.field, r.file, r.item, r.cls, r.who, r.ours, r.theirs)) + "\n")
    return 1 if unexplained else 0


if __name__ == "__main__":
    sys.exit(main())
