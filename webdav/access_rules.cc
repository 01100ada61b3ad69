#include "webdav/access_rules.h"

#include <fstream>
#include <sstream>

namespace keepdav::webdav {

using storage::ResourcePath;
using storage::Status;

const char* AccessName(Access access) {
  switch (access) {
    case Access::kNone:
      return "none";
    case Access::kRead:
      return "read";
    case Access::kWrite:
      return "write";
  }
  return "none";
}

std::string AccessPathText(const ResourcePath& path) {
  std::string text = path.str();
  char last = text.back();
  if (!path.IsRoot() && (last == ' ' || last == '\t' || last == '\r')) text += '/';
  return text;
}

namespace {

bool IsBlank(char c) {
  return c == ' ' || c == '\t';
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (IsBlank(s.front()) || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (IsBlank(s.back()) || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

class Parser {
 public:
  Parser(const std::string& file_name, AccessRules* out) : file_(file_name), out_(out) {}

  Status Line(int number, std::string_view raw) {
    line_ = number;
    std::string_view line = Trim(raw);
    if (line.empty() || line.front() == '#') return Status::Ok();
    if (line.front() == '[') return Section(line);
    size_t blank = 0;
    while (blank < line.size() && !IsBlank(line[blank])) ++blank;
    std::string_view keyword = line.substr(0, blank);
    std::string_view argument = Trim(line.substr(blank));
    if (keyword == "root") return Root(argument);
    Access access;
    if (keyword == "read") {
      access = Access::kRead;
    } else if (keyword == "write") {
      access = Access::kWrite;
    } else if (keyword == "none") {
      access = Access::kNone;
    } else {
      return Error("unknown keyword '" + std::string(keyword) +
                   "' (a line is 'read PATH', 'write PATH', 'none PATH', 'root PATH' or a "
                   "[section])");
    }
    return Rule(access, argument);
  }

 private:
  Status Error(const std::string& message) const {
    return Status::InvalidArgument(file_ + ":" + std::to_string(line_) + ": " + message);
  }

  Status Section(std::string_view line) {
    if (line.back() != ']') return Error("a section line must end with ']'");
    std::string_view name = Trim(line.substr(1, line.size() - 2));
    AccessSection* section = nullptr;
    std::string label = "[" + std::string(name) + "]";
    if (name == "authenticated") {
      section = &out_->authenticated;
    } else if (name == "anonymous") {
      section = &out_->anonymous;
    } else if (name.substr(0, 4) == "user" && name.size() > 4 && IsBlank(name[4])) {
      std::string_view user = Trim(name.substr(5));
      for (char c : user) {
        if (IsBlank(c) || c == ':' || static_cast<unsigned char>(c) < 0x20) {
          return Error("user name '" + std::string(user) +
                       "' has a blank, ':' or control character (htpasswd names cannot)");
        }
      }
      label = "[user " + std::string(user) + "]";
      section = &out_->users[std::string(user)];
    } else {
      return Error("unknown section " + label +
                   " (sections are [authenticated], [anonymous] and [user NAME])");
    }
    auto [it, inserted] = seen_.emplace(label, line_);
    if (!inserted) {
      return Error("section " + label + " appears twice (first at line " +
                   std::to_string(it->second) + "); write its rules in one place");
    }
    section_ = section;
    section_->line = line_;
    return Status::Ok();
  }

  Status PathArgument(std::string_view argument, ResourcePath* out) const {
    if (argument.empty()) return Error("missing path");
    if (argument.front() != '/') {
      return Error("path '" + std::string(argument) +
                   "' must start with '/' (paths are in the user's view: '/' is the user's root)");
    }
    auto parsed = ResourcePath::Parse(argument);
    if (!parsed.ok()) {
      return Error("bad path '" + std::string(argument) + "': " + parsed.status().message());
    }
    *out = parsed.value();
    return Status::Ok();
  }

  Status Root(std::string_view argument) {
    if (!section_) return Error("'root' before any [section]");
    ResourcePath root;
    Status s = PathArgument(argument, &root);
    if (!s.ok()) return s;
    if (section_->root) return Error("a second 'root' in this section");
    section_->root = root;
    return Status::Ok();
  }

  Status Rule(Access access, std::string_view argument) {
    if (!section_) return Error("a rule before any [section]");
    ResourcePath path;
    Status s = PathArgument(argument, &path);
    if (!s.ok()) return s;
    for (const AccessRule& r : section_->rules) {
      if (r.path == path) {
        return Error("a second rule for " + AccessPathText(path) +
                     " in this section (first at line " + std::to_string(r.line) + ")");
      }
    }
    section_->rules.push_back({path, access, line_});
    return Status::Ok();
  }

  const std::string& file_;
  AccessRules* out_;
  AccessSection* section_ = nullptr;
  std::map<std::string, int> seen_;
  int line_ = 0;
};

}  // namespace

Status ParseAccessRules(std::string_view text, const std::string& file_name, AccessRules* out) {
  // Parsed into a local: a refused file leaves `*out` empty whichever line refuses it (the fuzz
  // target found the NUL-byte refusal leaving earlier lines' rules behind).
  *out = AccessRules();
  AccessRules parsed;
  Parser parser(file_name, &parsed);
  int number = 0;
  while (!text.empty()) {
    size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    ++number;
    if (line.find('\0') != std::string_view::npos) {
      return Status::InvalidArgument(file_name + ":" + std::to_string(number) +
                                     ": NUL byte in the line");
    }
    Status s = parser.Line(number, line);
    if (!s.ok()) return s;
  }
  *out = std::move(parsed);
  return Status::Ok();
}

Status LoadAccessRules(const std::string& file, AccessRules* out) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return Status::InvalidArgument(file + ": cannot be read");
  std::string text;
  char buf[64 * 1024];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    text.append(buf, static_cast<size_t>(in.gcount()));
    if (text.size() > kMaxAccessFileBytes) {
      return Status::InvalidArgument(file + ": larger than " + std::to_string(kMaxAccessFileBytes) +
                                     " bytes");
    }
  }
  if (in.bad()) return Status::InvalidArgument(file + ": read error");
  return ParseAccessRules(text, file, out);
}

}  // namespace keepdav::webdav
