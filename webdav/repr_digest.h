// ReprDigest: the Repr-Digest response header (RFC 9530 §3) a GET or HEAD answers when the
// request carries Want-Repr-Digest (§4), from a file's stored or computed checksums.
//
// Want-Repr-Digest is a Structured Fields dictionary (RFC 8941) of algorithm = preference
// 0..10, 0 meaning "not acceptable" ("sha-256=10, sha=3"). keepdav knows sha-256 (active), sha
// (SHA-1) and md5 (both registered as insecure, §5: sent only when asked by name, for sync
// clients that compare them). The answer lists each known algorithm asked for with a non-zero
// preference, highest first; when the request names none keepdav knows, sha-256 alone; when it
// refuses every known one (all 0) or does not parse, nothing. Plain functions; thread-safe.
#pragma once

#include <string>

#include "storage/checksum_store.h"

namespace keepdav::webdav {

// The Repr-Digest value for `want` (the Want-Repr-Digest value), e.g.
// "sha-256=:ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=:"; "" when none is to be sent.
std::string ReprDigestFor(const std::string& want, const storage::FileChecksums& sums);

// Standard base64 (RFC 4648 §4, with padding) of the bytes the lower-case hex `hex` spells.
std::string HexToBase64(const std::string& hex);

}  // namespace keepdav::webdav
