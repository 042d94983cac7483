#ifndef PRESIGND_CHTTPPARSER_SHIM_H
#define PRESIGND_CHTTPPARSER_SHIM_H
#include <http_parser.h>

/* Bit-field and macro accessors Swift cannot reach directly. */
static inline unsigned presignd_http_parser_errno(const http_parser *p) { return p->http_errno; }
static inline unsigned presignd_http_parser_method(const http_parser *p) { return p->method; }
static inline unsigned presignd_http_parser_flags(const http_parser *p) { return p->flags; }
#endif
