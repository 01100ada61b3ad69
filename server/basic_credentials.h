// BasicCredentials: the HTTP Basic authentication scheme (RFC 7617) — parsing the
// `Authorization: Basic <token68>` request header and building the `WWW-Authenticate` challenge.
//
// Parsing follows RFC 7617 §2: the scheme name is case-insensitive (RFC 9110 §11.1); the token is
// strict base64 (RFC 4648 §4: the standard alphabet, length a multiple of 4, "=" padding only at
// the end, no whitespace inside); the decoded bytes are user-id ":" password, split at the FIRST
// colon (a user-id cannot contain ':', a password can); the charset we announce is UTF-8, and
// decoded bytes that are not valid UTF-8 are read as ISO-8859-1 (clients that ignore the charset
// parameter) and converted, so `user` and `password` are always UTF-8; control characters (RFC
// 7617 §2: CTLs are not allowed in either part; C1 ones in Latin-1 too) are refused. An empty
// user-id is refused; an empty password is allowed (the password file decides). Any failure is a
// Status kInvalidArgument; the caller answers 401 with the challenge (never 400: a client that sent
// garbage gets the chance to retry properly).
//
// Wired by server/authenticator.h (issue 11), which runs the whole pipeline per request.
//
// Value type; the functions are pure and thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "storage/status.h"

namespace keepdav::server {

struct BasicCredentials {
  std::string user;
  std::string password;

  // Parses the whole value of an Authorization header, e.g. "Basic dXNlcjpwYXNz".
  static storage::Result<BasicCredentials> Parse(std::string_view header_value);

  // The WWW-Authenticate value: `Basic realm="<realm>", charset="UTF-8"`. '"' and '\' in the
  // realm are escaped as a quoted-string requires (RFC 9110 §5.6.4); CR/LF/other CTLs are dropped.
  static std::string Challenge(std::string_view realm);
};

// Strict RFC 4648 §4 base64 decoding; false on any character outside the alphabet, a length that
// is not a multiple of 4, misplaced padding or non-zero padding bits.
bool DecodeBase64Strict(std::string_view encoded, std::string* decoded);

// True when `text` is well-formed UTF-8 (no overlongs, no surrogates, at most U+10FFFF).
bool IsValidUtf8(std::string_view text);

}  // namespace keepdav::server
