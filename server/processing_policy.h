// ProcessingPolicy: how many "102 Processing" interim responses (RFC 2518 §10.1) one request may
// get, decided from the settings, the HTTP version and the User-Agent.
//
// Facts this is built on (measured, see issue 4 and README "Long operations"):
// - RFC 9110 §15.2: never send a 1xx response to an HTTP/1.0 request.
// - Python's http.client (requests, urllib) takes a 102 as the final response: none for them.
// - Go's net/http before 1.24 (rclone 1.60) aborts after more than 5 interim responses.
// - neon 0.32 (cadaver, davfs2, litmus) fails at the 128th interim response.
// - curl and Node (http, fetch/undici) accept any number.
// Unknown clients (including requests without a User-Agent, which is what bare Python
// http.client sends) get none under `auto`: a client that cannot parse 102 breaks, while one that
// could have used it only loses an optimisation. `--processing-clients` widens the list.
//
// Value type; thread-compatible (read-only after construction).
#pragma once

#include <string>
#include <vector>

#include "storage/status.h"

namespace keepdav::server {

class ProcessingPolicy {
 public:
  enum class Mode { kAuto, kAlways, kNever };
  static constexpr int kUnlimited = -1;

  // The default client rules: substring of the User-Agent (case-insensitive) = allowed count,
  // first match wins, "*" matches anything; -1 means no per-client limit.
  static const char* DefaultClientRules();

  // Parses "auto"/"always"/"never" and a rules list such as "python-requests=0,rclone=5,*=0".
  // kInvalidArgument with a message naming the bad part.
  static storage::Result<ProcessingPolicy> Create(const std::string& mode,
                                                  const std::string& client_rules,
                                                  int max_per_request);

  // The number of 102s this request may get: 0 for none, kUnlimited, or a positive cap (always
  // at most max_per_request when that is >= 0).
  int Allowed(const std::string& user_agent, bool http10) const;

  Mode mode() const { return mode_; }

 private:
  struct Rule {
    std::string pattern;  // lower-case; "*" matches anything
    int allowed;
  };
  Mode mode_ = Mode::kAuto;
  std::vector<Rule> rules_;
  int max_per_request_ = kUnlimited;
};

}  // namespace keepdav::server
