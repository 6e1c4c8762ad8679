/* Reading single values out of the JSON files qbench itself writes (run.json,
 * Google Benchmark's JSON): no general parser, just "find the first "key": and read
 * the string or number after it" within a span of text. Enough because those files
 * have fixed, known shapes; callers narrow the span (e.g. to one benchmark object)
 * before asking. */
#ifndef QB_JSON_SCAN_H
#define QB_JSON_SCAN_H

#include <stdbool.h>
#include <stddef.h>

/* The string value of the first "key" in text[0..len): unescaped into buf (\uXXXX
 * outside ASCII becomes '?'). False if absent or not a string. */
bool qb_json_scan_string(const char* text, size_t len, const char* key, char* buf, size_t size);
/* The number value of the first "key"; false if absent, null or not a number. */
bool qb_json_scan_number(const char* text, size_t len, const char* key, double* out);

/* The next flat object {...} at or after *pos inside text[0..len) (strings may hold
 * braces; nested objects are skipped as part of it). Sets [*start, *end) and moves
 * *pos past it. False when there is none. */
bool qb_json_next_object(const char* text, size_t len, size_t* pos, size_t* start, size_t* end);

/* Reads a whole file (NUL-terminated, malloc'd); NULL if unreadable. */
char* qb_read_text_file(const char* path, size_t* len);

#endif
