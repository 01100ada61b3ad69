// The WebDAV If header (RFC 4918 §10.4): a pure parser into plain data, and an evaluator that is
// handed everything it needs to know about resources, so both are testable without a server.
//
//   If = "If" ":" ( 1*No-tag-list | 1*Tagged-list )
//   No-tag-list = List
//   Tagged-list = Resource-Tag 1*List
//   List = "(" 1*Condition ")"
//   Condition = ["Not"] (State-token | "[" entity-tag "]")
//   State-token = Coded-URL = "<" absolute-URI ">"
//   Resource-Tag = "<" Simple-ref ">"
//
// Evaluation (§10.4.3, §10.4.4): a Condition is true when the resource matches it ("Not"
// reverses that); a List is the AND of its Conditions; the Lists after one Resource-Tag (or the
// untagged Lists) are an OR; the header is true when any group is true. Untagged Lists apply to
// the Request-URI, tagged ones to the resource their tag names, whatever the method touches. An
// entity tag matches by weak comparison; a state token matches when it names a lock whose scope
// includes the resource. An unmapped URL has no entity tag, so "Not [etag]" is true for it
// (§10.4.4); its state tokens are those of locks whose scope includes the URL, which is how a new
// member of a depth-infinity locked collection is in that lock (§7.4). "DAV:no-lock" never
// matches. Independently of evaluation, every state token anywhere in the header counts as
// submitted (§10.4.1).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "storage/resource_path.h"

namespace keepdav::webdav {

struct IfCondition {
  enum class Kind { kStateToken, kEntityTag };
  bool negated = false;
  Kind kind = Kind::kStateToken;
  // A state token without its angle brackets ("urn:uuid:..."), or an entity tag as written,
  // quotes and any "W/" included ("W/\"x\"").
  std::string value;

  bool operator==(const IfCondition& o) const {
    return negated == o.negated && kind == o.kind && value == o.value;
  }
};

// A List: true when every condition is.
using IfList = std::vector<IfCondition>;

// The Lists that follow one Resource-Tag, or the untagged Lists.
struct IfGroup {
  // The Resource-Tag without its angle brackets (an absolute URI or an absolute path, still
  // percent-encoded); empty for untagged Lists.
  std::string resource_tag;
  std::vector<IfList> lists;

  bool operator==(const IfGroup& o) const {
    return resource_tag == o.resource_tag && lists == o.lists;
  }
};

struct IfHeader {
  // Untagged headers have exactly one group with an empty tag.
  std::vector<IfGroup> groups;
  bool tagged = false;

  // Every state token in the header, in order, without duplicates: all of them count as
  // submitted (§10.4.1), whether negated or not and whatever the evaluation says.
  std::vector<std::string> StateTokens() const;
};

// Parses the value of an If header. Returns false and sets `error` for a malformed value, which
// the caller answers with 400 Bad Request. Mixing tagged and untagged Lists is malformed.
bool ParseIfHeader(std::string_view value, IfHeader* out, std::string* error);

// What evaluation needs to know about one resource.
struct IfResourceState {
  bool exists = false;
  std::string etag;                      // as served in the ETag header; "" when none
  std::vector<std::string> lock_tokens;  // tokens of the active locks whose scope includes it
};

// Maps a Resource-Tag to a resource; nullopt when it names nothing on this server (a foreign
// host, or a path that cannot exist), which makes it an unmapped URL.
using IfTagResolver =
    std::function<std::optional<storage::ResourcePath>(const std::string& resource_tag)>;
using IfStateLookup = std::function<IfResourceState(const storage::ResourcePath&)>;

// Evaluates a parsed header for a request on `request_path`. `lookup` is called at most once per
// distinct resource, `resolve` once per tagged group, and both only as far as needed: evaluation
// stops at the first true List.
bool EvaluateIfHeader(const IfHeader& header, const storage::ResourcePath& request_path,
                      const IfTagResolver& resolve, const IfStateLookup& lookup);

// The state token DAV:no-lock, which is never current (§10.4.8).
inline constexpr std::string_view kNoLockToken = "DAV:no-lock";

}  // namespace keepdav::webdav
