// Parsing of WebDAV request bodies (PROPFIND, PROPPATCH, LOCK) into plain structs with pugixml.
//
// Namespaces are resolved by hand (pugixml is not namespace-aware). Safety: the body is bounded
// by the caller (ReadBody), a document type declaration anywhere in a body is refused with 400
// (RFC 4918 §20.6: no entity is ever declared, let alone expanded), a reference to any entity
// but the five predefined ones (&amp; &lt; &gt; &quot; &apos;) or a character reference is
// refused with 400 too (XML 1.0 §4.1 WFC: Entity Declared; pugixml would leave "&lol;" in the
// text as literal characters), and element nesting is bounded by `max_depth`. Any malformed or
// unexpected document is an error that maps to 400 Bad Request.
#pragma once

#include <istream>
#include <string>
#include <vector>

#include "storage/property_store.h"
#include "webdav/dav_error.h"

namespace keepdav::webdav {

using storage::PropertyName;

struct XmlLimits {
  size_t max_body_bytes = 1 << 20;
  int max_depth = 64;
};

// Reads at most limits.max_body_bytes of `in` into `out`. 413 when the body is larger.
DavError ReadBody(std::istream& in, int64_t content_length, const XmlLimits& limits,
                  std::string* out);

struct PropfindRequest {
  enum class Kind { kAllProp, kPropName, kProp };
  Kind kind = Kind::kAllProp;
  std::vector<PropertyName> props;    // kProp: the requested names
  std::vector<PropertyName> include;  // kAllProp: DAV:include names
};

// An empty body means allprop (RFC 4918 §9.1).
DavError ParsePropfind(const std::string& body, const XmlLimits& limits, PropfindRequest* out);

// The changes of a PROPPATCH in document order. A set's value is a verbatim, self-contained XML
// fragment: the property element itself with every namespace declaration in scope (and an
// inherited xml:lang) copied onto it, so it can be written back anywhere unchanged. A value
// with an undeclared prefix anywhere inside is 400: written into a 207 it could be bound to the
// multistatus's own namespaces and change its meaning.
DavError ParseProppatch(const std::string& body, const XmlLimits& limits,
                        std::vector<storage::PropertyChange>* out);

// A LOCK request body (RFC 4918 §14.11 DAV:lockinfo).
struct LockInfo {
  bool exclusive = true;  // DAV:lockscope: exclusive or shared
  // The DAV:owner element, verbatim and self-contained like a dead property value (see
  // ParseProppatch); "" when the body has none.
  std::string owner;
};

// DAV:lockscope and DAV:locktype are required; a locktype other than DAV:write is 422 (it is
// well-formed, but write is the only lock type there is). Anything malformed is 400.
DavError ParseLockinfo(const std::string& body, const XmlLimits& limits, LockInfo* out);

// Escapes text for element content and attribute values, and makes any byte string safe to
// write into an XML 1.0 document: a byte sequence that is not valid UTF-8 (RFC 3629: overlong
// forms, surrogates and code points above U+10FFFF included) becomes U+FFFD, one per maximal
// invalid subpart (the Unicode "substitution of maximal subparts" practice), and so does a
// character XML 1.0 §2.2 does not allow at all (C0 controls other than tab, LF and CR, U+FFFE,
// U+FFFF), which no character reference could carry either. This is how names on disk that are
// not UTF-8 (a Latin-1 "caf\xE9.txt") appear in DAV:displayname and the HTML listing: shown
// with U+FFFD, while the href, percent-encoded byte by byte (href.h), stays lossless.
void AppendXmlEscaped(std::string* out, std::string_view text);

}  // namespace keepdav::webdav
