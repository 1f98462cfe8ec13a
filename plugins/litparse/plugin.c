/* plugin.c — the litparse plugin descriptor: ops, ports, params and published values. */
#include <sciloop/plugin.h>
#include <sciloop/version.h>

#include "ops.h"

#define P(name, type, def, min, max, choices, doc) {sizeof(sl_param_desc), name, type, def, min, max, choices, doc}
#define IN(name, type, flags, doc) {sizeof(sl_port_desc), name, type, flags, doc, NULL}
#define OUT(name, type, doc) {sizeof(sl_port_desc), name, type, 0, doc, NULL}

static const sl_port_desc parse_in[] = {
    IN("source", "any", SL_PORT_MULTI | SL_PORT_OPTIONAL,
       "Files, folders (read recursively) or .gz files to parse; globs in path= are expanded by the workflow.")};
static const sl_port_desc parse_out[] = {
    OUT("documents", "documents", "One JSON document per line (docs/documents-schema.md)."),
    OUT("files", "table", "One row per input file: file, format, status (ok, skipped, ignored, api-error, empty), documents, "
                          "deletions, warnings, message.")};
static const sl_param_desc parse_params[] = {
    P("paths", SL_PARAM_LIST, "", NULL, NULL, NULL,
      "More files, folders or glob patterns to parse, in addition to the 'source' port (relative to the working directory)."),
    P("format", SL_PARAM_ENUM, "auto", NULL, NULL, "auto|jats|medline|tei|atom|bibtex|delimited|text",
      "Format of every file; 'auto' detects it per file from the content (XML root element, BibTeX '@type{', delimiters)."),
    P("on_error", SL_PARAM_ENUM, "fail", NULL, NULL, "fail|skip",
      "A file that cannot be parsed fails the step ('fail') or is listed in the 'files' table and the log and left out ('skip')."),
    P("columns", SL_PARAM_STRING, "", NULL, NULL, NULL,
      "Delimited files: which column holds which field, by 0-based index or header name, e.g. 'pmid=0,year=1,title=2,abstract=3'. "
      "Without it a header row naming the fields is required."),
    P("delimiter", SL_PARAM_ENUM, "auto", NULL, NULL, "auto|comma|tab|pipe|semicolon",
      "Delimited files: the field separator ('auto': from the extension .csv/.tsv/.psv, else from the content)."),
    P("header", SL_PARAM_ENUM, "auto", NULL, NULL, "auto|yes|no",
      "Delimited files: whether the first row names the columns ('auto': when most of its cells are known field names)."),
    P("include", SL_PARAM_LIST, "", NULL, NULL, NULL,
      "In folders, parse only files whose name matches one of these globs (e.g. '*.xml, *.bib'); empty: every file."),
    P("exclude", SL_PARAM_LIST, "", NULL, NULL, NULL, "In folders, skip files whose name matches one of these globs (e.g. 'README*')."),
    P("max_record_mb", SL_PARAM_INT, "256", "1", "65536", NULL,
      "Most memory one record (an article, a citation) may take; larger ones fail as malformed.")};

static const sl_port_desc docs_in[] = {IN("documents", "documents", SL_PORT_MULTI, "Document sets (JSON Lines).")};
static const sl_port_desc merge_out[] = {
    OUT("documents", "documents", "The deduplicated set: one document per work, with every id and source it came from."),
    OUT("duplicates", "table", "One row per merged group: id, documents, matched_by, sources.")};
static const sl_param_desc merge_params[] = {
    P("by", SL_PARAM_LIST, "doi,pmid,pmcid,arxiv,title", NULL, NULL, NULL,
      "Keys that identify the same work, tried in this order: doi, pmid, pmcid, arxiv, title (normalised title + first author's "
      "family name + year)."),
    P("min_title_chars", SL_PARAM_INT, "20", "1", "1000", NULL,
      "Titles shorter than this (after normalisation) never match by title alone (\"Editorial\", \"Reply\")."),
    P("max_record_mb", SL_PARAM_INT, "256", "1", "65536", NULL, "Longest document line accepted.")};

static const sl_port_desc filter_out[] = {OUT("documents", "documents", "The documents that pass every condition, unchanged.")};
static const sl_param_desc filter_params[] = {
    P("year_min", SL_PARAM_INT, "0", "0", "9999", NULL,
      "Keep documents published in or after this year; 0: no lower bound. With either bound set, documents without a year are dropped."),
    P("year_max", SL_PARAM_INT, "9999", "0", "9999", NULL, "Keep documents published in or before this year; 9999: no upper bound."),
    P("venue", SL_PARAM_LIST, "", NULL, NULL, NULL,
      "Keep documents whose venue or journal abbreviation contains one of these (case-insensitive)."),
    P("require", SL_PARAM_LIST, "", NULL, NULL, NULL,
      "Fields that must be present and non-empty, e.g. 'abstract, doi, mesh' (any top-level field or an id: doi, pmid, pmcid, arxiv)."),
    P("title_regex", SL_PARAM_STRING, "", NULL, NULL, NULL, "POSIX extended regular expression the title must match (case-insensitive)."),
    P("abstract_regex", SL_PARAM_STRING, "", NULL, NULL, NULL, "Regular expression the abstract must match (case-insensitive)."),
    P("text_regex", SL_PARAM_STRING, "", NULL, NULL, NULL, "Regular expression the title or the abstract must match (case-insensitive)."),
    P("language", SL_PARAM_LIST, "", NULL, NULL, NULL, "Keep documents in these languages (ISO 639-1 like 'en', or 639-2 like 'eng')."),
    P("parents_only", SL_PARAM_BOOL, "false", NULL, NULL, NULL, "Drop child documents (decision letters and replies of JATS sub-articles)."),
    P("max_record_mb", SL_PARAM_INT, "256", "1", "65536", NULL, "Longest document line accepted.")};

static const sl_port_desc stats_out[] = {
    OUT("table", "table", "source, field, documents, present, percent, items: how many documents of each source have each field.")};
static const sl_param_desc stats_params[] = {
    P("by", SL_PARAM_ENUM, "format", NULL, NULL, "format|file|none",
      "Group counts by the documents' source format, by source file, or not at all (only the 'all' rows)."),
    P("max_record_mb", SL_PARAM_INT, "256", "1", "65536", NULL, "Longest document line accepted.")};

#define N(a) (sizeof(a) / sizeof *(a))

static const sl_op_desc ops[] = {
    {sizeof(sl_op_desc), "parse", "Parse literature files (JATS, PubMed/MEDLINE, TEI, arXiv Atom, BibTeX, CSV/TSV/PSV, text) into documents",
     "Reads every file given on the 'source' port or in 'paths' (folders recursively, .gz transparently), detects each file's "
     "format from its content, and writes one JSON document per article, citation, entry or row. XML is read without DTDs, "
     "network access or entity expansion. A MEDLINE DeleteCitation removes the PMID from documents parsed before it.",
     parse_in, N(parse_in), parse_out, N(parse_out), parse_params, N(parse_params), SL_OP_DETERMINISTIC, lp_op_parse,
     "documents,failed"},
    {sizeof(sl_op_desc), "merge", "Merge document sets and remove duplicates by DOI, PMID, PMCID, arXiv id and title",
     "Documents that share an identifier (or, failing that, a normalised title with the same first author and year) become one "
     "document that keeps every identifier, the richest version of each field and the list of sources it came from.",
     docs_in, N(docs_in), merge_out, N(merge_out), merge_params, N(merge_params), SL_OP_DETERMINISTIC, lp_op_merge, "documents,merged"},
    {sizeof(sl_op_desc), "filter", "Keep the documents that match year, venue, field, language and text conditions", NULL, docs_in,
     N(docs_in), filter_out, N(filter_out), filter_params, N(filter_params), SL_OP_DETERMINISTIC, lp_op_filter, "documents"},
    {sizeof(sl_op_desc), "stats", "Count, per source, how many documents carry each field", NULL, docs_in, N(docs_in), stats_out,
     N(stats_out), stats_params, N(stats_params), SL_OP_DETERMINISTIC, lp_op_stats, "documents"},
};

static const sl_plugin plugin = {sizeof(sl_plugin), SL_ABI_MAJOR, SL_ABI_MINOR, "litparse", "1.0.0", "MIT",
                                 "Literature parsing: papers and records of many formats into one document set", ops, N(ops)};

SL_PLUGIN_DEFINE(plugin)
