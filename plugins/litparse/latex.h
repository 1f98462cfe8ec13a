/* latex.h — convert the TeX markup found in BibTeX values (accents, symbols, math, braces) to UTF-8. */
#ifndef LP_LATEX_H
#define LP_LATEX_H

#include <stddef.h>
#include <sciloop/status.h>

/* Conversion modes for lp_latex_to_utf8. */
enum {
    LP_LATEX_TEXT = 0,     /* full conversion: accents, commands, ligatures, dashes, quotes, math */
    LP_LATEX_VERBATIM = 1  /* URLs, DOIs, files: drop braces and \url wrappers, unescape \_ \% \& \# \$ \~ \{ \},
                            * fold white space; other backslashes are kept */
};

/* Convert `len` bytes of TeX (valid UTF-8 expected; the caller has already repaired encoding)
 * to plain UTF-8 text in NFC: accents ("\'e", "\"{o}", "{\c c}", "\v{s}", "\k{a}"), letters and
 * symbols ("\ss", "\o", "\ae", "\L", "\i", "\textendash", "\&", "\%", "\S", "\copyright",
 * "\textdegree", "\langle"), ligature dashes and quotes ("--" "–", "---" "—", "``" "“",
 * "''" "”"), "~" (no-break space), Greek letters and common symbols in math mode ("$\alpha$"
 * "α", "$\pm$" "±", "$^{2}$" "²"), font and case commands whose argument is kept
 * ("\emph{x}", "\textbf{x}", "\textit{x}", "\mkbibquote{x}", "\url{x}", "\href{u}{text}" gives
 * "text"), and "\\" (line break, to a space). Unknown commands are dropped but their braced
 * argument is kept. White space is folded to one space and trimmed; a blank line (paragraph
 * break) becomes "\n\n" in LP_LATEX_TEXT mode.
 *
 * On SL_OK `*out` is a malloc'd NUL-terminated string (free with free()) and `*out_len` its
 * length (may be NULL). Returns SL_ERR_NOMEM when memory ran out. Linear time; no recursion;
 * thread-safe. */
sl_status lp_latex_to_utf8(const char *tex, size_t len, int mode, char **out, size_t *out_len);

#endif /* LP_LATEX_H */
