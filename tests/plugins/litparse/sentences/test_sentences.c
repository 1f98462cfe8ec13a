/* test_sentences.c — sentence splitting on real article text (JATS/PubMed), edge cases and offsets.
 *
 * The article paragraphs below are quoted from ../shared/corpus: eLife and PLOS articles (CC-BY 4.0)
 * and PubMed abstracts (NLM; courtesy of the U.S. National Library of Medicine). */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sentences.h"
#include "sl_test.h"

/* Split `text` and check the sentences are exactly the NULL-terminated list that follows. */
static void expect(const char *text, ...)
{
    lp_spans sp = {0};
    CHECK_EQ_INT(lp_sentences_split(text, strlen(text), &sp), SL_OK);
    va_list ap;
    va_start(ap, text);
    size_t k = 0;
    int ok = 1;
    for (const char *w; (w = va_arg(ap, const char *)) != NULL; k++) {
        if (k >= sp.n || strlen(w) != sp.v[k].end - sp.v[k].start ||
            memcmp(w, text + sp.v[k].start, strlen(w)) != 0) ok = 0;
    }
    va_end(ap);
    if (k != sp.n) ok = 0;
    CHECK_MSG(ok, "split of \"%.80s...\"", text);
    if (!ok) {
        fprintf(stderr, "  got %zu:", sp.n);
        for (size_t i = 0; i < sp.n; i++)
            fprintf(stderr, "\n   [%.*s]", (int)(sp.v[i].end - sp.v[i].start), text + sp.v[i].start);
        fputc('\n', stderr);
    }
    lp_spans_free(&sp);
}

/* Count the sentences of `text`. */
static size_t count(const char *text, size_t len)
{
    lp_spans sp = {0};
    CHECK_EQ_INT(lp_sentences_split(text, len, &sp), SL_OK);
    size_t n = sp.n;
    lp_spans_free(&sp);
    return n;
}

static void test_scientific_abbreviations(void)
{
    /* eLife 00007 (decision letter) */
    expect("The authors clearly show that plants that emit less VOCs attract fewer Geocoris predators "
           "to Manduca herbivores (Fig. 2), and that Manduca mortality is reduced in the presence of "
           "Geocoris (Fig. 3A). The result is that fewer flowers and flower buds are produced, but only "
           "in the presence of Geocoris (Fig. 3B).",
           "The authors clearly show that plants that emit less VOCs attract fewer Geocoris predators "
           "to Manduca herbivores (Fig. 2), and that Manduca mortality is reduced in the presence of "
           "Geocoris (Fig. 3A).",
           "The result is that fewer flowers and flower buds are produced, but only in the presence of "
           "Geocoris (Fig. 3B).", NULL);
    /* eLife 02833 (author response): "et al. (2008)" */
    expect("Thanks for pointing out this oversight. In the revised manuscript, we have included "
           "additional references to Papp and Mueller (2006), Kwong et al. (2008), and Soshikova and "
           "Duboule (2009).",
           "Thanks for pointing out this oversight.",
           "In the revised manuscript, we have included additional references to Papp and Mueller "
           "(2006), Kwong et al. (2008), and Soshikova and Duboule (2009).", NULL);
    /* eLife 02833: "i.e." inside parentheses, "etc." mid-sentence */
    expect("The authors should look minimally at PRC2 binding and RNA Pol II occupancy. These two "
           "profiles would help to clarify whether the 'constitutive' binding of PRC2, PRC1 etc. at "
           "the HOX gene Ubx (i.e. in Ubx OFF and Ubx ON cells) that was reported back in 2006 is a "
           "general principle.",
           "The authors should look minimally at PRC2 binding and RNA Pol II occupancy.",
           "These two profiles would help to clarify whether the 'constitutive' binding of PRC2, PRC1 "
           "etc. at the HOX gene Ubx (i.e. in Ubx OFF and Ubx ON cells) that was reported back in 2006 "
           "is a general principle.", NULL);
    /* eLife 02833: "etc.." ends a sentence; list item "1)" */
    expect("1) The authors should analyze the PRC2 binding profile (e.g. ChIP with antibody against "
           "E(z))in PS4, 5, 6 and 7, or at the minimum, just in PS7 as they did for Ph, CTCF etc.. This "
           "would address the conceptually important point.",
           "1) The authors should analyze the PRC2 binding profile (e.g. ChIP with antibody against "
           "E(z))in PS4, 5, 6 and 7, or at the minimum, just in PS7 as they did for Ph, CTCF etc..",
           "This would address the conceptually important point.", NULL);
    /* eLife 02935: "vs." twice, "e.g." */
    expect("1) Do the authors observe differences between tumor types in terms of the relative "
           "proportion of negatively selected somatic mutations that are hetero- vs. homoplasmic? This "
           "may indicate differential (negative) selective pressures in different tumor types (e.g. "
           "negative selection could be less pronounced in tumors with a low rate of oxidative "
           "phosphorylation).",
           "1) Do the authors observe differences between tumor types in terms of the relative "
           "proportion of negatively selected somatic mutations that are hetero- vs. homoplasmic?",
           "This may indicate differential (negative) selective pressures in different tumor types "
           "(e.g. negative selection could be less pronounced in tumors with a low rate of oxidative "
           "phosphorylation).", NULL);
    /* eLife 02304: "E. coli", decimals, "pH 7.8", units */
    expect("Plasmids were transformed in BL21 DE3 (pLysS) E. coli cells (Invitrogen, Grand Island, NY) "
           "for expression. Cells were grown at 37°C with 225 rpm agitation in 2xYT media supplemented "
           "with 30 mM potassium phosphate, pH 7.8 and 0.1% (wt/vol) glucose. Once cultures reached an "
           "OD600 between 0.5–0.8, cells were induced with 0.5 mM IPTG for 4 hr. Cells were collected "
           "by centrifugation at 10,000×g for 15 min and stored at −80°C.",
           "Plasmids were transformed in BL21 DE3 (pLysS) E. coli cells (Invitrogen, Grand Island, NY) "
           "for expression.",
           "Cells were grown at 37°C with 225 rpm agitation in 2xYT media supplemented with 30 mM "
           "potassium phosphate, pH 7.8 and 0.1% (wt/vol) glucose.",
           "Once cultures reached an OD600 between 0.5–0.8, cells were induced with 0.5 mM IPTG for 4 hr.",
           "Cells were collected by centrifugation at 10,000×g for 15 min and stored at −80°C.", NULL);
    /* eLife 04490 / 06726: "ca. 25%" */
    expect("(A) Photograph of a closed-headspace volatile trapping showing ca. 25% of the experiment in "
           "May of season one. (B) Photograph showing a similar portion of the experiment in June of "
           "season one.",
           "(A) Photograph of a closed-headspace volatile trapping showing ca. 25% of the experiment in "
           "May of season one.",
           "(B) Photograph showing a similar portion of the experiment in June of season one.", NULL);
    /* eLife kitchen sink: panel labels "(A).", initials "S. rosetta", a parenthesised sentence */
    expect("(A). The original culture of S. rosetta, ATCC 50818, contains diverse co-isolated "
           "environmental bacteria and forms rosette colonies (arrowheads) rarely. (B). Treatment of "
           "ATCC50818 with a cocktail of antibiotics reduced the bacterial diversity. (Representative "
           "single cells indicated by arrows.) (C). Addition of A. machipongonensis to RCA cultures was "
           "sufficient to induce rosette development. Scale bar, 20 μm.",
           "(A). The original culture of S. rosetta, ATCC 50818, contains diverse co-isolated "
           "environmental bacteria and forms rosette colonies (arrowheads) rarely.",
           "(B). Treatment of ATCC50818 with a cocktail of antibiotics reduced the bacterial diversity.",
           "(Representative single cells indicated by arrows.)",
           "(C). Addition of A. machipongonensis to RCA cultures was sufficient to induce rosette "
           "development.",
           "Scale bar, 20 μm.", NULL);
    /* eLife kitchen sink: decimals, "Fig. S3", ratios, chemistry */
    expect("Optical rotation:[a][fx1]+6.4 (c = 0.07, MeOH). HRMS m/z calcd for C32H64NO7S (M-H): "
           "606.44035. Found: 606.44027 (M-H)-. A major fragment derived from m/z = 606 (M-H) "
           "corresponds to amino-sulfonic acid, Fig. S3.",
           "Optical rotation:[a][fx1]+6.4 (c = 0.07, MeOH).",
           "HRMS m/z calcd for C32H64NO7S (M-H): 606.44035.",
           "Found: 606.44027 (M-H)-.",
           "A major fragment derived from m/z = 606 (M-H) corresponds to amino-sulfonic acid, Fig. S3.",
           NULL);
    /* eLife 00007: roman-numeral list "(ii)" after a closing parenthesis, ellipsis in quotes */
    expect("Other important points: (i) The statement must be at least changed to: “… the oral "
           "secretions of Manduca convert 3-(Z)-GLVs to the 2-(E)-structures, …” (This is because this "
           "is a rearrangement, not an isomerisation). (ii) The authors should consider whether the "
           "experiments in Fig. 4 regarding the effects of TPI on M. sexta behaviour distract from the "
           "rest of the work. Perhaps they could be omitted from this manuscript?",
           "Other important points: (i) The statement must be at least changed to: “… the oral "
           "secretions of Manduca convert 3-(Z)-GLVs to the 2-(E)-structures, …” (This is because this "
           "is a rearrangement, not an isomerisation).",
           "(ii) The authors should consider whether the experiments in Fig. 4 regarding the effects "
           "of TPI on M. sexta behaviour distract from the rest of the work.",
           "Perhaps they could be omitted from this manuscript?", NULL);
    /* PLOS Biol 1000359: numeric citations after the period's sentence, "[2],[3]." */
    expect("The simplest energy-harvesting photoproteins are the rhodopsins, which consist of a single, "
           "membrane-embedded protein covalently bound to the chromophore retinal (a light-sensitive "
           "pigment) [1]. One class of archaeal photoproteins (called bacteriorhodopsin) was shown to "
           "function as a light-driven proton pump, generating biochemical energy from light [2],[3]. "
           "For many years, these light-driven proton pumps were thought to be found only in "
           "relatively obscure Archaea living in high salinity.",
           "The simplest energy-harvesting photoproteins are the rhodopsins, which consist of a single, "
           "membrane-embedded protein covalently bound to the chromophore retinal (a light-sensitive "
           "pigment) [1].",
           "One class of archaeal photoproteins (called bacteriorhodopsin) was shown to function as a "
           "light-driven proton pump, generating biochemical energy from light [2],[3].",
           "For many years, these light-driven proton pumps were thought to be found only in "
           "relatively obscure Archaea living in high salinity.", NULL);
    /* PLOS ONE caption: "Spalding et al. [25]." then a new sentence */
    expect("Ecoregions according to Spalding et al. [25]. Subregions within each region are shown by "
           "name. Black dots represent the most dived location of each site.",
           "Ecoregions according to Spalding et al. [25].",
           "Subregions within each region are shown by name.",
           "Black dots represent the most dived location of each site.", NULL);
    /* PLOS ONE caption: "(Obs.)" and "(Exp.)", "p<0.0001" */
    expect("The observed partitions (Obs.) are compared with the expected values (Exp.) as predicted by "
           "the null model based on 999 randomizations. Open star symbols: Exp < Obs, p<0.0001. "
           "Filled star symbols: Exp > Obs, p<0.0001.",
           "The observed partitions (Obs.) are compared with the expected values (Exp.) as predicted by "
           "the null model based on 999 randomizations.",
           "Open star symbols: Exp < Obs, p<0.0001.",
           "Filled star symbols: Exp > Obs, p<0.0001.", NULL);
    /* PubMed (Raynaud set): references inside parentheses and brackets do not split */
    expect("LPS preparations were obtained either by phenol-water extraction (according to the method "
           "of Westphal et al., Z. Naturforsch. 7b:148-155, 1952) or by extraction of cells with "
           "hypertonic sodium chloride-sodium citrate (according to the method of Raynaud and Digeon, "
           "C. R. Acad. Sci. (Paris) 229:564-566, 1949), with subsequent chromatographic purification "
           "on Sephadex G200 and Sepharose 4B columns. The cation in highest concentration in the "
           "Westphal extract was Mg(2+) (as much as 30 mug/mg), and the lowest one was Fe (ca. 0.10 "
           "mug/mg).",
           "LPS preparations were obtained either by phenol-water extraction (according to the method "
           "of Westphal et al., Z. Naturforsch. 7b:148-155, 1952) or by extraction of cells with "
           "hypertonic sodium chloride-sodium citrate (according to the method of Raynaud and Digeon, "
           "C. R. Acad. Sci. (Paris) 229:564-566, 1949), with subsequent chromatographic purification "
           "on Sephadex G200 and Sepharose 4B columns.",
           "The cation in highest concentration in the Westphal extract was Mg(2+) (as much as 30 "
           "mug/mg), and the lowest one was Fe (ca. 0.10 mug/mg).", NULL);
    /* PubMed: P-values, "vs." */
    expect("There was statistically an inverse correlation (r=-0.316, P < 0.025) between the increase "
           "in systolic blood pressure and the mean skin temperature. The RBV of iron was: wheat bran, "
           "123 vs. 111%; spinach, 53 vs. 49%. Differences were significant (P < 0.05). Mean age was "
           "52.3 yr.",
           "There was statistically an inverse correlation (r=-0.316, P < 0.025) between the increase "
           "in systolic blood pressure and the mean skin temperature.",
           "The RBV of iron was: wheat bran, 123 vs. 111%; spinach, 53 vs. 49%.",
           "Differences were significant (P < 0.05).",
           "Mean age was 52.3 yr.", NULL);
    /* PubMed: "et al. 1981;" inside parentheses; "No." before a number; "Drs." */
    expect("Previous experiments carried out on rainbow trout (Hung et al. 1981; Cowey et al. 1981, "
           "1983) did not lead to differences in weight gain. Local institutional review board No. "
           "061-14-10032014. Drs. Wang, Koch, and Weikert are consultants.",
           "Previous experiments carried out on rainbow trout (Hung et al. 1981; Cowey et al. 1981, "
           "1983) did not lead to differences in weight gain.",
           "Local institutional review board No. 061-14-10032014.",
           "Drs. Wang, Koch, and Weikert are consultants.", NULL);
}

static void test_more_rules(void)
{
    expect("Smith et al. The results differ.", "Smith et al.", "The results differ.", NULL);
    expect("as shown by Smith et al. [12]. We then", "as shown by Smith et al. [12].", "We then", NULL);
    expect("It was shown.[12] The next one.", "It was shown.[12]", "The next one.", NULL);
    expect("It was shown.[3–5, 9] The next one.", "It was shown.[3–5, 9]", "The next one.", NULL);
    expect("See Figs. 2 and 3. Eq. 4 holds. Table 1. Patients.",
           "See Figs. 2 and 3.", "Eq. 4 holds.", "Table 1.", "Patients.", NULL);
    expect("Growth was measured at 5 p.m. on Monday.", "Growth was measured at 5 p.m. on Monday.", NULL);
    expect("Cells were washed. mRNA levels rose.", "Cells were washed.", "mRNA levels rose.", NULL);
    expect("They used e.g. mRNA. It worked.", "They used e.g. mRNA.", "It worked.", NULL);
    expect("Dr. Who met Prof. X. Smith at St. Paul.", "Dr. Who met Prof. X. Smith at St. Paul.", NULL);
    expect("Write to jane.doe@uni.edu. Or visit https://x.org/a.b?c=1. Done!",
           "Write to jane.doe@uni.edu.", "Or visit https://x.org/a.b?c=1.", "Done!", NULL);
    expect("It rose (P < 0.05). However, n.s. in controls.", "It rose (P < 0.05).",
           "However, n.s. in controls.", NULL);
    expect("Samples were taken in Jan. 2019 and Feb. 2020.",
           "Samples were taken in Jan. 2019 and Feb. 2020.", NULL);
    expect("Use approx. 5 mg, cf. ref. 3, viz. the dose.",
           "Use approx. 5 mg, cf. ref. 3, viz. the dose.", NULL);
    expect("Really?! Yes. “Stop.” He stopped.", "Really?!", "Yes.", "“Stop.”", "He stopped.", NULL);
    expect("Wait… Then it came.", "Wait…", "Then it came.", NULL);
    expect("全部で3つ。次の文。", "全部で3つ。", "次の文。", NULL);
    /* line breaks are white space; an empty line ends a sentence */
    expect("A title without a period\n\nThe body starts here\nand goes on.",
           "A title without a period", "The body starts here\nand goes on.", NULL);
    /* bullets start list items */
    expect("Aims: • Find it • Fix it", "Aims:", "• Find it", "• Fix it", NULL);
}

static void test_edges(void)
{
    lp_spans sp = {0};
    CHECK_EQ_INT(lp_sentences_split("", 0, &sp), SL_OK);
    CHECK_EQ_INT(sp.n, 0);
    CHECK_EQ_INT(lp_sentences_split(NULL, 0, &sp), SL_OK);
    CHECK_EQ_INT(sp.n, 0);
    CHECK_EQ_INT(lp_sentences_split(" \t\n\xc2\xa0\xe3\x80\x80 ", 9, &sp), SL_OK);
    CHECK_EQ_INT(sp.n, 0);
    CHECK_EQ_INT(lp_sentences_split("x", 1, NULL), SL_ERR_INVALID);
    CHECK_EQ_INT(lp_sentences_split(NULL, 3, &sp), SL_ERR_INVALID);
    CHECK_CONTAINS(sl_last_error(), "NULL");

    /* trimming, and no boundary at all */
    expect("  \n just words without an end \t ", "just words without an end", NULL);
    /* a single period, a lone terminator */
    expect(".", ".", NULL);
    expect("?! ...", "?! ...", NULL);

    /* spans append: two paragraphs into one array */
    const char *p1 = "One. Two.", *p2 = "Three. Four. Five.";
    CHECK_EQ_INT(lp_sentences_split(p1, strlen(p1), &sp), SL_OK);
    CHECK_EQ_INT(lp_sentences_split(p2, strlen(p2), &sp), SL_OK);
    CHECK_EQ_INT(sp.n, 5);
    CHECK_EQ_INT(sp.v[2].start, 0);
    CHECK_EQ_INT(sp.v[4].start, 13);
    CHECK_EQ_INT(sp.v[4].end, 18);
    lp_spans_free(&sp);
    CHECK(sp.v == NULL && sp.n == 0 && sp.cap == 0);
    lp_spans_free(&sp);
    lp_spans_free(NULL);

    /* code-point offsets: "Ça" has a two-byte letter, "“" three bytes, "😀" four */
    const char *u = "Ça va. “Très” bien 😀. Fin.";
    CHECK_EQ_INT(lp_sentences_split(u, strlen(u), &sp), SL_OK);
    CHECK_EQ_INT(sp.n, 3);
    if (sp.n == 3) {
        CHECK_EQ_INT(sp.v[0].start, 0);  CHECK_EQ_INT(sp.v[0].end, 7);
        CHECK_EQ_INT(sp.v[0].cp_start, 0); CHECK_EQ_INT(sp.v[0].cp_end, 6);
        CHECK_EQ_INT(sp.v[1].start, 8);  CHECK_EQ_INT(sp.v[1].end, 30);
        CHECK_EQ_INT(sp.v[1].cp_start, 7); CHECK_EQ_INT(sp.v[1].cp_end, 21);
        CHECK_EQ_INT(sp.v[2].start, 31); CHECK_EQ_INT(sp.v[2].cp_start, 22);
        CHECK_EQ_INT(sp.v[2].cp_end, 26);
        CHECK_EQ_INT(lp_utf8_cp_count(u, strlen(u), sp.v[1].end), sp.v[1].cp_end);
    }
    CHECK_EQ_INT(lp_utf8_cp_count(u, strlen(u), 1), 1);      /* inside "Ç": counted */
    CHECK_EQ_INT(lp_utf8_cp_count(u, strlen(u), 1000), 26); /* clamped to the length */
    CHECK_EQ_INT(lp_utf8_cp_count(NULL, 0, 5), 0);
    sp.n = 0;

    /* malformed UTF-8: each bad byte is one code point; NUL bytes are ordinary characters */
    const char bad[] = "A\xff\xc3 bb. C\0d. E.";
    size_t badlen = sizeof bad - 1;
    CHECK_EQ_INT(lp_sentences_split(bad, badlen, &sp), SL_OK);
    CHECK_EQ_INT(sp.n, 3);
    if (sp.n == 3) {
        CHECK_EQ_INT(sp.v[0].end, 7);  CHECK_EQ_INT(sp.v[0].cp_end, 7);
        CHECK_EQ_INT(sp.v[1].start, 8); CHECK_EQ_INT(sp.v[1].end, 12);
        CHECK_EQ_INT(sp.v[1].cp_start, 8);
        CHECK_EQ_INT(sp.v[2].start, 13); CHECK_EQ_INT(sp.v[2].cp_end, 15);
    }
    /* a sequence cut off by the end of the text: two code points, and not a sentence start */
    sp.n = 0;
    CHECK_EQ_INT(lp_sentences_split("Ok. \xe2\x80", 6, &sp), SL_OK);
    CHECK_EQ_INT(sp.n, 1);
    if (sp.n == 1) { CHECK_EQ_INT(sp.v[0].end, 6); CHECK_EQ_INT(sp.v[0].cp_end, 6); }
    lp_spans_free(&sp);
}

/* Hostile shapes must finish (the ctest timeout catches a quadratic rescan) and keep invariants. */
static void test_large_inputs(void)
{
    size_t n = 4u << 20;
    char *buf = malloc(n);
    CHECK(buf != NULL);
    if (!buf) return;
    const char *patterns[] = {"(", ". ", "e.g. ", "A. ", ". . ", "1. A ", "\xe2\x80\xa2 ", " ",
                              "x", "\xff", "[1]. ", "Dr. X. Y. "};
    for (size_t p = 0; p < sizeof patterns / sizeof *patterns; p++) {
        size_t pl = strlen(patterns[p]);
        for (size_t i = 0; i < n; i++) buf[i] = patterns[p][i % pl];
        lp_spans sp = {0};
        CHECK_EQ_INT(lp_sentences_split(buf, n, &sp), SL_OK);
        size_t prev_end = 0, prev_cp = 0;
        int ok = 1;
        for (size_t k = 0; k < sp.n; k++) {
            if (sp.v[k].start < prev_end || sp.v[k].end <= sp.v[k].start || sp.v[k].end > n ||
                sp.v[k].cp_start < prev_cp || sp.v[k].cp_end <= sp.v[k].cp_start) ok = 0;
            prev_end = sp.v[k].end;
            prev_cp = sp.v[k].cp_end;
        }
        CHECK_MSG(ok, "span invariants for pattern %zu", p);
        lp_spans_free(&sp);
    }
    /* a real abstract repeated many times: one span per sentence, none lost */
    const char *abs = "Mean age was 52.3 yr (range 18-80). Differences vs. controls were "
                      "significant (P < 0.05; Fig. 2). Smith et al. [4] reported it. ";
    size_t al = strlen(abs), reps = n / al;
    for (size_t r = 0; r < reps; r++) memcpy(buf + r * al, abs, al);
    CHECK_EQ_INT(count(buf, reps * al), 3 * reps);
    free(buf);
}

int main(void)
{
    test_scientific_abbreviations();
    test_more_rules();
    test_edges();
    test_large_inputs();
    return SL_TEST_DONE();
}
