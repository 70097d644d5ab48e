/*
 * jitgate plugin SDK: masking plugins.
 *
 * A masking profile is compiled once from config and then used from every
 * worker at once, so masking functions must be thread-safe on a compiled
 * profile and keep per-call state in the caller's memory.
 *
 * Two ways in:
 *  - mask_value() masks one whole value: a PostgreSQL field, a JSON string,
 *    a header.  Column and key rules apply here (the value's name is known)
 *    as well as the detectors.
 *  - stream_init() + mask_stream() mask a body that arrives in chunks whose
 *    boundaries may fall anywhere, even inside a value to be masked.  The
 *    plugin holds back a bounded tail that might start a match, so memory
 *    per stream is stream_state_size() bytes whatever the body's size.
 *    Only detectors apply to streams.
 *
 * Output stays well formed for its carrier (enum jg_mask_carrier): masking
 * never splits a UTF-8 sequence or a JSON escape and never emits a control
 * character, a quote or a backslash of its own.
 */
#ifndef JITGATE_MASK_H
#define JITGATE_MASK_H

#include <jitgate/host.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * mask_value() result besides JG_OK, JG_DECLINED and JG_ERROR: the value
 * must be replaced by SQL NULL (PostgreSQL) or JSON null.  Nothing was
 * emitted.  A caller that cannot send a null must fail closed.
 */
#define JG_MASK_NULL 3

/** What the bytes handed to the masker are, so output stays well formed. */
enum jg_mask_carrier {
	/** Raw text: a PostgreSQL text-format value, a header, a log line. */
	JG_MASK_TEXT = 0,
	/** The inside of a JSON string literal, without its quotes, escapes
	 *  as they appear on the wire (\n, \", \u00e9).  Escapes count as
	 *  separators and are never cut. */
	JG_MASK_JSON_STRING = 1
};

/** The value being masked: its name, type and carrier. */
struct jg_mask_field {
	/** "schema.table.column", a JSON key path such as "user.email", or
	 *  NULL when unknown.  Column rules match it case-insensitively. */
	const char *column;
	/** PostgreSQL type name ("text", "int8", "jsonb"...) or NULL.  A
	 *  value whose type cannot carry a replacement string (numbers,
	 *  dates, inet, uuid, bool) becomes NULL when anything in it is
	 *  masked; a json/jsonb value gets a JSON string as replacement. */
	const char *type;
	/** enum jg_mask_carrier */
	int carrier;
};

/** Sink for masked output: called with consecutive pieces.  Return 0 to
 *  go on; anything else stops masking with JG_ERROR. */
typedef int (*jg_mask_emit)(void *ud, const char *data, size_t n);

/** Number of distinct detector names a report keeps. */
#define JG_MASK_REPORT_NAMES 16

/** Report flag: the value became NULL (mask_value returned JG_MASK_NULL). */
#define JG_MASK_REPORT_NULL 0x1
/** Report flag: more than JG_MASK_REPORT_NAMES names; the rest are only
 *  counted in total. */
#define JG_MASK_REPORT_OVERFLOW 0x2

/**
 * What mask calls did, for the record (never the values).  The caller
 * zeroes it once; each call adds to it, so one report can sum a whole row
 * or a whole stream.
 */
struct jg_mask_report {
	uint32_t total;      /**< spans or values masked */
	uint32_t ndetectors; /**< entries used in names/counts */
	/** Detector or rule names ("card", "email", a custom detector's or
	 *  rule's name).  Valid while the profile lives. */
	const char *names[JG_MASK_REPORT_NAMES];
	uint32_t counts[JG_MASK_REPORT_NAMES]; /**< how many each */
	uint32_t flags;                        /**< JG_MASK_REPORT_* */
};

/** Operations of a JG_KIND_MASK plugin (descriptor ops). */
struct jg_mask_ops {
	uint32_t size; /**< sizeof(struct jg_mask_ops) at build time */

	/**
	 * Compile a named profile from its JSON description (detectors,
	 * column rules, strategies; see docs/masking.md).  Called on the
	 * main thread at config load.  On failure write "KEY.PATH: what is
	 * wrong" into err and return JG_ERROR.
	 */
	int (*profile_compile)(void *instance, const char *name,
			       const char *json, void **profile, char *err,
			       size_t errlen);

	/** Free a compiled profile (after every user of it is done). */
	void (*profile_free)(void *profile);

	/**
	 * Mask one whole value.  Thread-safe on a compiled profile.
	 *
	 * Returns JG_DECLINED when nothing was masked and nothing emitted
	 * (send the original), JG_OK when the masked value was emitted in
	 * pieces to emit, JG_MASK_NULL when the value must become NULL
	 * (nothing emitted), JG_ERROR when emit failed or the input cannot
	 * be masked (fail closed: send nothing).  field may be NULL (text
	 * carrier, no name, no type); rep may be NULL.
	 */
	int (*mask_value)(const void *profile,
			  const struct jg_mask_field *field, const char *in,
			  size_t len, jg_mask_emit emit, void *ud,
			  struct jg_mask_report *rep);

	/** Size of the per-stream state (caller-owned memory, any
	 *  alignment suitable for a pointer). */
	size_t (*stream_state_size)(const void *profile);

	/** Prepare state for a new stream of the given carrier
	 *  (enum jg_mask_carrier).  Must be called before mask_stream. */
	int (*stream_init)(const void *profile, void *state, int carrier);

	/**
	 * Mask the next chunk of a stream.  Emits everything that can no
	 * longer be part of a match and holds back the rest (bounded).
	 * Call with in == NULL at the end to flush what is held back; the
	 * state may then be reused after stream_init.  Returns JG_OK or
	 * JG_ERROR (emit failed).  Detectors whose strategy is null redact
	 * in a stream: there is no value to make NULL.
	 */
	int (*mask_stream)(const void *profile, void *state, const char *in,
			   size_t len, jg_mask_emit emit, void *ud,
			   struct jg_mask_report *rep);

	/* ---- appended in ABI 1.3: check size (JG_MASK_OPS_HAS) ---- */

	/**
	 * Whether a column rule of profile matches column (a name as for
	 * struct jg_mask_field's column).  1: one does, so its values must
	 * go to mask_value() with that name; 0: none does, so mask_value()
	 * with a NULL column masks its values exactly the same way
	 * (detectors only) and needs no rule look-up per value; JG_ERROR:
	 * it cannot tell (fail closed).  With a NULL column: 1 if the
	 * profile has any column rule at all, else 0 (for values whose
	 * names cannot be known).  Thread-safe on a compiled profile.
	 * Lets a caller resolve a result's columns once per result instead
	 * of once per value.
	 */
	int (*column_rule)(const void *profile, const char *column);

	/**
	 * Mask the n values of a row in one call (ABI 1.3), as n
	 * mask_value() calls would, for less per value.  Of each v[i] it
	 * reads in, len and type, and column when named is NULL or named[i]
	 * is non-zero (otherwise the value is masked as with no column: the
	 * caller learned from column_rule() that no rule names it).  It sets
	 * v[i].status (JG_OK or JG_MASK_NULL), v[i].changed and, for a
	 * changed JG_OK value, v[i].outlen: how many bytes of masked output
	 * it emitted for that value, after those of the values before it.
	 * v[i].out and v[i].hint stay the caller's.  JG_OK, or JG_ERROR:
	 * emit failed or a value cannot be masked (send none of them).
	 * Thread-safe on a compiled profile; rep may be NULL.
	 */
	int (*mask_values)(const void *profile, struct jg_mask_item *v,
			   size_t n, const uint8_t *named, jg_mask_emit emit,
			   void *ud, struct jg_mask_report *rep);
};

/** Non-zero if mask ops o (from a plugin descriptor) have member. */
#define JG_MASK_OPS_HAS(o, member)                                            \
	((o)->size >= offsetof(struct jg_mask_ops, member) +                  \
			      sizeof((o)->member) &&                          \
	 (o)->member != NULL)

#ifdef __cplusplus
}
#endif

#endif /* JITGATE_MASK_H */
