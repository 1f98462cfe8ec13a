/* sciloop/version.h — version numbers, ABI numbers and symbol-visibility macros of the SDK. */
#ifndef SCILOOP_VERSION_H
#define SCILOOP_VERSION_H

/* Release of the SDK these headers belong to (semantic versioning). */
#define SL_VERSION_MAJOR 0
#define SL_VERSION_MINOR 1
#define SL_VERSION_PATCH 0
#define SL_VERSION_STRING "0.1.0"
/* One integer that orders releases: 0.1.0 -> 100. */
#define SL_VERSION_NUMBER (SL_VERSION_MAJOR * 10000 + SL_VERSION_MINOR * 100 + SL_VERSION_PATCH)

/* Plugin ABI implemented by these headers. A host refuses a plugin whose major differs;
 * minors only append fields (readers check struct_size before touching a newer field). */
#define SL_ABI_MAJOR 1
#define SL_ABI_MINOR 1 /* 1.1 added sl_host.write_output */

/* SL_API marks the functions a sciloop shared library exports; everything else is hidden.
 * SL_PLUGIN_EXPORT marks the one entry symbol a plugin exports. */
#if defined(_WIN32)
#  define SL_VISIBLE __declspec(dllexport)
#elif defined(__GNUC__) || defined(__clang__)
#  define SL_VISIBLE __attribute__((visibility("default")))
#else
#  define SL_VISIBLE
#endif
#ifndef SL_API
#  define SL_API SL_VISIBLE
#endif
#define SL_PLUGIN_EXPORT SL_VISIBLE

#if defined(__GNUC__) || defined(__clang__)
#  define SL_PRINTF(fmt_index, first_arg) __attribute__((format(printf, fmt_index, first_arg)))
#else
#  define SL_PRINTF(fmt_index, first_arg)
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Version of the libsciloop library loaded at run time, as SL_VERSION_NUMBER would spell it.
 * Compare with SL_VERSION_NUMBER to detect a header/library mismatch. Thread-safe. */
SL_API int sl_version_number(void);

/* Version of the loaded libsciloop as "MAJOR.MINOR.PATCH". Static storage; thread-safe. */
SL_API const char *sl_version_string(void);

#ifdef __cplusplus
}
#endif
#endif /* SCILOOP_VERSION_H */
