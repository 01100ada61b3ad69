#include "webdav/if_header.h"

#include <algorithm>
#include <map>

#include "webdav/entity_tag.h"

namespace keepdav::webdav {
namespace {

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

bool IsAlpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// absolute-URI starts with a scheme: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":".
bool HasScheme(std::string_view uri) {
  if (uri.empty() || !IsAlpha(uri[0])) return false;
  for (size_t i = 1; i < uri.size(); ++i) {
    char c = uri[i];
    if (c == ':') return true;
    if (!IsAlpha(c) && !(c >= '0' && c <= '9') && c != '+' && c != '-' && c != '.') return false;
  }
  return false;
}

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  bool Parse(IfHeader* out) {
    SkipSpace();
    if (AtEnd()) return Fail("empty If header");
    while (!AtEnd()) {
      if (Peek() == '<') {
        if (!out->groups.empty() && !out->tagged) {
          return Fail("tagged and untagged lists mixed in one If header");
        }
        out->tagged = true;
        IfGroup group;
        if (!ReadAngle(&group.resource_tag, "resource tag")) return false;
        SkipSpace();
        if (AtEnd() || Peek() != '(') return Fail("resource tag without a list");
        out->groups.push_back(std::move(group));
      } else if (Peek() == '(') {
        if (out->groups.empty()) out->groups.emplace_back();  // untagged
        IfList list;
        if (!ReadList(&list)) return false;
        out->groups.back().lists.push_back(std::move(list));
      } else {
        return Fail(std::string("unexpected '") + Peek() + "' in If header");
      }
      SkipSpace();
    }
    return true;
  }

  const std::string& error() const { return error_; }

 private:
  bool AtEnd() const { return pos_ >= text_.size(); }
  char Peek() const { return text_[pos_]; }
  void SkipSpace() {
    while (!AtEnd() && IsSpace(Peek())) ++pos_;
  }
  bool Fail(std::string message) {
    error_ = std::move(message);
    return false;
  }

  // "<" ... ">" with no whitespace or angle bracket inside; stores what is between.
  bool ReadAngle(std::string* out, const char* what) {
    ++pos_;  // '<'
    size_t start = pos_;
    while (!AtEnd() && Peek() != '>') {
      char c = Peek();
      if (IsSpace(c) || c == '<' || static_cast<unsigned char>(c) < 0x20) {
        return Fail(std::string("bad character in ") + what);
      }
      ++pos_;
    }
    if (AtEnd()) return Fail(std::string("unterminated ") + what);
    *out = std::string(text_.substr(start, pos_ - start));
    ++pos_;  // '>'
    if (out->empty()) return Fail(std::string("empty ") + what);
    return true;
  }

  // "[" ["W/"] DQUOTE *etagc DQUOTE "]", with no whitespace inside (§10.4.2).
  bool ReadEntityTag(std::string* out) {
    ++pos_;  // '['
    size_t start = pos_;
    if (text_.substr(pos_, 2) == "W/") pos_ += 2;
    if (AtEnd() || Peek() != '"') return Fail("entity tag must be a quoted string");
    ++pos_;
    // RFC 9110 etagc has no space, but RFC 4918's own examples ("I am an ETag") do: accept it.
    while (!AtEnd() && Peek() != '"') {
      if (static_cast<unsigned char>(Peek()) < 0x20) return Fail("bad character in entity tag");
      ++pos_;
    }
    if (AtEnd()) return Fail("unterminated entity tag");
    ++pos_;  // closing quote
    if (AtEnd() || Peek() != ']') return Fail("entity tag not closed by ']'");
    *out = std::string(text_.substr(start, pos_ - start));
    ++pos_;  // ']'
    return true;
  }

  bool ReadList(IfList* list) {
    ++pos_;  // '('
    for (;;) {
      SkipSpace();
      if (AtEnd()) return Fail("unterminated list");
      if (Peek() == ')') {
        ++pos_;
        if (list->empty()) return Fail("empty list");
        return true;
      }
      IfCondition cond;
      if (text_.size() - pos_ >= 3 && (text_[pos_] == 'N' || text_[pos_] == 'n') &&
          (text_[pos_ + 1] == 'O' || text_[pos_ + 1] == 'o') &&
          (text_[pos_ + 2] == 'T' || text_[pos_ + 2] == 't')) {
        cond.negated = true;
        pos_ += 3;
        SkipSpace();
        if (AtEnd()) return Fail("'Not' without a condition");
      }
      if (Peek() == '<') {
        cond.kind = IfCondition::Kind::kStateToken;
        if (!ReadAngle(&cond.value, "state token")) return false;
        if (!HasScheme(cond.value)) return Fail("state token is not an absolute URI");
      } else if (Peek() == '[') {
        cond.kind = IfCondition::Kind::kEntityTag;
        if (!ReadEntityTag(&cond.value)) return false;
      } else {
        return Fail(std::string("unexpected '") + Peek() + "' in list");
      }
      list->push_back(std::move(cond));
    }
  }

  std::string_view text_;
  size_t pos_ = 0;
  std::string error_;
};

bool Matches(const IfCondition& cond, const IfResourceState& state) {
  bool match = false;
  if (cond.kind == IfCondition::Kind::kEntityTag) {
    // Weak comparison, which RFC 4918 §10.4.4 allows: a client that saw W/"x" and one that saw
    // "x" mean the same representation here, because keepdav only serves strong tags.
    match = state.exists && !state.etag.empty() &&
            EntityTagOpaque(cond.value) == EntityTagOpaque(state.etag);
  } else {
    match = cond.value != kNoLockToken &&
            std::find(state.lock_tokens.begin(), state.lock_tokens.end(), cond.value) !=
                state.lock_tokens.end();
  }
  return match != cond.negated;
}

}  // namespace

std::vector<std::string> IfHeader::StateTokens() const {
  std::vector<std::string> out;
  for (const IfGroup& group : groups) {
    for (const IfList& list : group.lists) {
      for (const IfCondition& cond : list) {
        if (cond.kind != IfCondition::Kind::kStateToken) continue;
        if (std::find(out.begin(), out.end(), cond.value) == out.end()) out.push_back(cond.value);
      }
    }
  }
  return out;
}

bool ParseIfHeader(std::string_view value, IfHeader* out, std::string* error) {
  *out = IfHeader();
  Parser parser(value);
  if (parser.Parse(out)) return true;
  *error = parser.error();
  *out = IfHeader();
  return false;
}

bool EvaluateIfHeader(const IfHeader& header, const storage::ResourcePath& request_path,
                      const IfTagResolver& resolve, const IfStateLookup& lookup) {
  std::map<std::string, IfResourceState> states;
  const IfResourceState unmapped;
  for (const IfGroup& group : header.groups) {
    std::optional<storage::ResourcePath> target =
        group.resource_tag.empty() ? std::optional<storage::ResourcePath>(request_path)
                                   : resolve(group.resource_tag);
    const IfResourceState* state = &unmapped;
    if (target) {
      auto it = states.find(target->str());
      if (it == states.end()) it = states.emplace(target->str(), lookup(*target)).first;
      state = &it->second;
    }
    for (const IfList& list : group.lists) {
      bool all = std::all_of(list.begin(), list.end(),
                             [&](const IfCondition& c) { return Matches(c, *state); });
      if (all) return true;
    }
  }
  return false;
}

}  // namespace keepdav::webdav
