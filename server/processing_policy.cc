#include "server/processing_policy.h"

#include <cstdlib>
#include <string_view>

#include "storage/ascii.h"

namespace keepdav::server {

namespace ascii = storage::ascii;

const char* ProcessingPolicy::DefaultClientRules() {
  // neon fails at 128 interim responses; 120 keeps a margin. Go before 1.24 allows 5.
  return "python-requests=0,python-urllib=0,python-httpx=0,aiohttp=0,"
         "go-http-client=5,rclone=5,"
         "neon=120,cadaver=120,davfs2=120,litmus=120,"
         "curl=-1,node=-1,undici=-1,"
         "*=0";
}

storage::Result<ProcessingPolicy> ProcessingPolicy::Create(const std::string& mode,
                                                           const std::string& client_rules,
                                                           int max_per_request) {
  ProcessingPolicy policy;
  if (mode == "auto") {
    policy.mode_ = Mode::kAuto;
  } else if (mode == "always") {
    policy.mode_ = Mode::kAlways;
  } else if (mode == "never") {
    policy.mode_ = Mode::kNever;
  } else {
    return storage::Status::InvalidArgument("--processing must be auto, always or never, not '" +
                                            mode + "'");
  }
  policy.max_per_request_ = max_per_request;
  size_t pos = 0;
  while (pos <= client_rules.size()) {
    size_t comma = client_rules.find(',', pos);
    if (comma == std::string::npos) comma = client_rules.size();
    std::string item(ascii::Trim(std::string_view(client_rules).substr(pos, comma - pos)));
    pos = comma + 1;
    if (item.empty()) continue;
    size_t eq = item.rfind('=');
    char* end = nullptr;
    long n = eq == std::string::npos ? 0 : std::strtol(item.c_str() + eq + 1, &end, 10);
    if (eq == std::string::npos || eq == 0 || end == item.c_str() + eq + 1 || *end != '\0' ||
        n < -1) {
      return storage::Status::InvalidArgument(
          "--processing-clients: expected PATTERN=N (N >= -1), got '" + item + "'");
    }
    policy.rules_.push_back(
        {ascii::ToLower(std::string(ascii::Trim(std::string_view(item).substr(0, eq)))),
         static_cast<int>(n)});
  }
  return policy;
}

int ProcessingPolicy::Allowed(const std::string& user_agent, bool http10) const {
  if (http10 || mode_ == Mode::kNever) return 0;  // RFC 9110 §15.2
  int allowed = kUnlimited;
  if (mode_ == Mode::kAuto) {
    allowed = 0;  // an unknown client gets none (see the header comment)
    std::string ua = ascii::ToLower(user_agent);
    for (const Rule& rule : rules_) {
      if (rule.pattern == "*" || ua.find(rule.pattern) != std::string::npos) {
        allowed = rule.allowed;
        break;
      }
    }
  }
  if (max_per_request_ >= 0 && (allowed == kUnlimited || allowed > max_per_request_)) {
    allowed = max_per_request_;
  }
  return allowed;
}

}  // namespace keepdav::server
