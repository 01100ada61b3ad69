#include "server/option_table.h"

#include <Poco/NumberParser.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <type_traits>
#include <utility>

#include "server/cors.h"
#include "server/forwarded.h"
#include "server/processing_policy.h"
#include "webdav/url_space.h"

namespace keepdav::server {

using storage::Status;

namespace {

// Decimal (Poco's parser, as AbstractConfiguration::getInt used it) or 0x-prefixed hex.
bool ParseInteger(const std::string& text, int64_t* value) {
  if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    Poco::UInt64 u = 0;
    if (!Poco::NumberParser::tryParseHex64(text.substr(2), u)) return false;
    if (u > static_cast<Poco::UInt64>(std::numeric_limits<int64_t>::max())) return false;
    *value = static_cast<int64_t>(u);
    return true;
  }
  Poco::Int64 v = 0;
  if (!Poco::NumberParser::tryParse64(text, v)) return false;
  *value = v;
  return true;
}

// `field` is a generic lambda returning a reference to the bound field of a KeepdavOptions (const
// or not), e.g. [](auto& o) -> auto& { return o.server.port; }.
template <typename Field>
OptionDefinition Integer(const char* name, const char* argument, const char* description,
                         int64_t min, int64_t max, Field field) {
  using T = std::remove_reference_t<decltype(field(std::declval<KeepdavOptions&>()))>;
  OptionDefinition option{name, argument, description, nullptr, nullptr};
  option.format_default = [field](const KeepdavOptions& d) { return std::to_string(field(d)); };
  option.apply = [field, name = std::string(name), min, max](const std::string& text,
                                                             KeepdavOptions* options) {
    int64_t v = 0;
    if (!ParseInteger(text, &v) || v < min || v > max) {
      return Status::InvalidArgument("--" + name + " must be an integer from " +
                                     std::to_string(min) + " to " + std::to_string(max) +
                                     ", not '" + text + "'");
    }
    field(*options) = static_cast<T>(v);
    return Status::Ok();
  };
  return option;
}

template <typename Field>
OptionDefinition Boolean(const char* name, const char* argument, const char* description,
                         Field field) {
  OptionDefinition option{name, argument, description, nullptr, nullptr};
  const bool flag = *argument == '\0';
  option.format_default = [field, flag](const KeepdavOptions& d) -> std::string {
    if (flag) return field(d) ? "on" : "off";
    return field(d) ? "true" : "false";
  };
  option.apply = [field, name = std::string(name)](const std::string& text,
                                                   KeepdavOptions* options) {
    bool v = false;
    if (!Poco::NumberParser::tryParseBool(text, v)) {
      return Status::InvalidArgument("--" + name + " must be true or false, not '" + text + "'");
    }
    field(*options) = v;
    return Status::Ok();
  };
  return option;
}

template <typename Field>
OptionDefinition Text(const char* name, const char* argument, const char* description,
                      Field field) {
  OptionDefinition option{name, argument, description, nullptr, nullptr};
  option.format_default = [field](const KeepdavOptions& d) { return field(d); };
  option.apply = [field](const std::string& text, KeepdavOptions* options) {
    field(*options) = text;
    return Status::Ok();
  };
  return option;
}

// The same option, with its default shown as `format` makes it (for a sentinel such as "empty:
// computed at start-up").
OptionDefinition ShowingDefault(OptionDefinition option,
                                std::function<std::string(const KeepdavOptions&)> format) {
  option.format_default = std::move(format);
  return option;
}

constexpr int64_t kDay = 86400;
constexpr int64_t kMaxInt = std::numeric_limits<int>::max();

// Where to serve from and on which address: the options a first run needs.
void AddServingOptions(std::vector<OptionDefinition>& t) {
  t.push_back(Text(
      "root", "DIR", "directory to serve (required)",
      [](auto& o) -> auto& { return o.server.root; }));
  t.push_back(Integer(
      "port", "N", "TCP port; 0 picks a free one", 0, 65535,
      [](auto& o) -> auto& { return o.server.port; }));
  t.push_back(Text(
      "bind", "ADDR", "address to listen on", [](auto& o) -> auto& { return o.server.bind; }));
  t.push_back(Text(
      "tls-cert", "FILE",
      "serve HTTPS with this PEM certificate (its chain after it); needs --tls-key; SIGHUP "
      "reloads both",
      [](auto& o) -> auto& { return o.server.tls_cert; }));
  t.push_back(Text(
      "tls-key", "FILE", "the PEM private key of --tls-cert (unencrypted)",
      [](auto& o) -> auto& { return o.server.tls_key; }));
  t.push_back(ShowingDefault(Text(
                                 "db", "FILE",
                                 "SQLite database for dead properties and locks, outside the root "
                                 "($XDG_STATE_HOME unset: ~/.local/state); a postgresql:// URI: "
                                 "PostgreSQL, shared by several instances (README \"Several "
                                 "instances\")",
                                 [](auto& o) -> auto& { return o.server.db_path; }),
                             [](const KeepdavOptions& d) {
                               // DavServer::Create computes it (DefaultDatabasePath) when the field
                               // is empty.
                               return d.server.db_path.empty()
                                          ? "$XDG_STATE_HOME/keepdav/<root name>-<hash>.sqlite"
                                          : d.server.db_path;
                             }));
  t.push_back(Integer(
      "db-pool-size", "N",
      "PostgreSQL connections this instance opens at most (the server's max_connections is "
      "shared by every instance)",
      1, 1000, [](auto& o) -> auto& { return o.server.db_pool_size; }));
  t.push_back(ShowingDefault(
      Text(
          "instance-id", "ID",
          "with PostgreSQL: this instance's name, under which it owns its journal entries; "
          "unique per instance, the same across restarts",
          [](auto& o) -> auto& { return o.server.instance_id; }),
      [](const KeepdavOptions& d) {
        return d.server.instance_id.empty() ? "<host name>:<port>" : d.server.instance_id;
      }));
  t.push_back(Integer(
      "instance-lease", "SECONDS",
      "with PostgreSQL: a dead instance's unfinished COPY/MOVE is finished or undone by a live "
      "one this long after its last renewal",
      3, kDay, [](auto& o) -> auto& { return o.server.instance_lease_s; }));
  t.push_back(Text(
      "access", "FILE",
      "access rules: per-user roots and read/write/none by path (README \"Access rules\")",
      [](auto& o) -> auto& { return o.server.access_file; }));
  OptionDefinition base = Text(
      "base-path", "PATH", "serve under this URL prefix, e.g. /dav (other paths: 404)",
      [](auto& o) -> auto& { return o.server.dav.base_path; });
  base.apply = [](const std::string& text, KeepdavOptions* options) {
    std::string error;
    if (!webdav::ParseBasePath(text, &options->server.dav.base_path, &error)) {
      return Status::InvalidArgument("--base-path=" + text + ": " + error);
    }
    return Status::Ok();
  };
  t.push_back(std::move(base));
  t.push_back(Boolean(
      "read-only", "", "answer every modifying method with 403",
      [](auto& o) -> auto& { return o.server.dav.read_only; }));
  t.push_back(Text(
      "port-file", "FILE", "write the bound port number to FILE once listening",
      [](auto& o) -> auto& { return o.port_file; }));
}

// Users and passwords (issue 11).
void AddAuthenticationOptions(std::vector<OptionDefinition>& t) {
  t.push_back(Text(
      "users", "FILE",
      "htpasswd file of the users (bcrypt, SHA-crypt, yescrypt, apr1, {SHA}); re-read on SIGHUP "
      "and when it changes; without it, no authentication",
      [](auto& o) -> auto& { return o.server.auth.users_file; }));
  t.push_back(Integer(
      "auth-cache-seconds", "N", "seconds a verified user and password are remembered (0: never)",
      0, 86400, [](auto& o) -> auto& { return o.server.auth.cache_seconds; }));
  t.push_back(Integer(
      "auth-fail-limit", "N",
      "failed logins per minute from one address before it gets 429 Too Many Requests", 1, 1000000,
      [](auto& o) -> auto& { return o.server.auth.fail_limit; }));
  t.push_back(Boolean(
      "allow-basic-over-http", "",
      "accept passwords over plain HTTP from other machines (they travel in clear)",
      [](auto& o) -> auto& { return o.server.auth.allow_basic_over_http; }));
}

// Operators (issue 11): the access log and CORS.
void AddOperatorOptions(std::vector<OptionDefinition>& t) {
  t.push_back(Text(
      "access-log", "FILE",
      "one line per request (Combined Log Format plus microseconds) to FILE, '-' for stderr; "
      "SIGHUP reopens it",
      [](auto& o) -> auto& { return o.server.access_log; }));
  OptionDefinition cors = Text(
      "cors-origins", "LIST",
      "CORS for browser clients: comma-separated exact origins (https://app.example.org) or *; "
      "empty: no CORS headers",
      [](auto& o) -> auto& { return o.server.cors_origins; });
  cors.apply = [](const std::string& text, KeepdavOptions* options) {
    CorsPolicy parsed;
    Status status = CorsPolicy::Parse(text, &parsed);
    if (status.ok()) options->server.cors_origins = text;
    return status;
  };
  t.push_back(std::move(cors));
  t.push_back(Integer(
      "cors-max-age", "SECONDS", "how long a browser may cache a CORS preflight's answer", 0, kDay,
      [](auto& o) -> auto& { return o.server.cors_max_age_s; }));
}

// The connection layer: threads, limits, timeouts.
void AddConnectionOptions(std::vector<OptionDefinition>& t) {
  t.push_back(Integer(
      "threads", "N", "requests served at once; more wait on their connection's thread", 1, 4096,
      [](auto& o) -> auto& { return o.server.threads; }));
  t.push_back(Integer(
      "max-connections", "N",
      "connections served at once, each on a thread of its own (idle ones too); "
      "as many more (at least 64) wait for one to close, beyond that they are closed",
      1, 1 << 20, [](auto& o) -> auto& { return o.server.max_connections; }));
  t.push_back(Integer(
      "max-connections-per-client", "N",
      "open connections from one client address; more are closed unanswered", 1, 1 << 20,
      [](auto& o) -> auto& { return o.server.max_connections_per_client; }));
  OptionDefinition proxies = Text(
      "trusted-proxies", "CIDRS",
      "reverse proxies (addresses, CIDRs, comma-separated) whose X-Forwarded-For/-Proto/-Host "
      "or Forwarded headers are believed; no per-client connection cap for them",
      [](auto& o) -> auto& { return o.server.trusted_proxies; });
  proxies.apply = [](const std::string& text, KeepdavOptions* options) {
    TrustedProxies parsed;
    Status status = TrustedProxies::Parse(text, &parsed);
    if (status.ok()) options->server.trusted_proxies = text;
    return status;
  };
  t.push_back(std::move(proxies));
  t.push_back(Integer(
      "max-request-head", "BYTES",
      "largest request line plus headers; larger is 431 (Poco refuses a field over 8192 "
      "bytes or more than 100 fields with 400 first)",
      256, 16 << 20, [](auto& o) -> auto& { return o.server.max_request_head; }));
  t.push_back(Integer(
      "keep-alive-timeout", "SECONDS",
      "idle time before a keep-alive connection closes (and frees its thread)", 1, kDay,
      [](auto& o) -> auto& { return o.server.keep_alive_timeout_s; }));
  t.push_back(Integer(
      "timeout", "SECONDS", "socket send/receive timeout", 1, kDay,
      [](auto& o) -> auto& { return o.server.timeout_s; }));
}

// WebDAV: XML and upload limits, tree operations, locks.
void AddDavOptions(std::vector<OptionDefinition>& t) {
  t.push_back(Integer(
      "max-xml-body", "BYTES", "largest XML request body (PROPFIND, PROPPATCH)", 0, 1 << 30,
      [](auto& o) -> auto& { return o.server.dav.xml.max_body_bytes; }));
  t.push_back(Integer(
      "max-xml-depth", "N", "deepest element nesting in an XML request body", 1, 10000,
      [](auto& o) -> auto& { return o.server.dav.xml.max_depth; }));
  t.push_back(Integer(
      "max-upload", "BYTES", "largest PUT body; 0 means no limit", 0,
      std::numeric_limits<int64_t>::max(),
      [](auto& o) -> auto& { return o.server.dav.max_upload_bytes; }));
  t.push_back(Integer(
      "max-tree-depth", "N", "deepest level COPY, DELETE and PROPFIND recurse into", 0, 65536,
      [](auto& o) -> auto& { return o.server.dav.max_tree_depth; }));
  t.push_back(Boolean(
      "propfind-infinity", "BOOL", "allow PROPFIND with Depth: infinity",
      [](auto& o) -> auto& { return o.server.dav.allow_propfind_infinity; }));
  t.push_back(Boolean(
      "partial-updates", "BOOL",
      "PATCH with X-Update-Range (SabreDAV) and PUT with Content-Range into existing files",
      [](auto& o) -> auto& { return o.server.dav.partial_updates; }));
  t.push_back(Integer(
      "checksum-listing-budget", "BYTES",
      "most file bytes one PROPFIND reads to compute oc:checksums not yet stored (beyond: "
      "404 for that property); 0: only stored sums",
      0, std::numeric_limits<int64_t>::max(),
      [](auto& o) -> auto& { return o.server.dav.checksum_listing_budget_bytes; }));
  t.push_back(Integer(
      "checksum-cache-rows", "N",
      "stored checksums kept in memory for listings (a snapshot per folder, about 300 bytes a "
      "row); 0: every listing reads them from the database",
      0, std::numeric_limits<int64_t>::max(),
      [](auto& o) -> auto& { return o.server.dav.checksum_cache_rows; }));
  OptionDefinition compact{
      "compact-allprop-agents", "LIST",
      "User-Agent parts (comma-separated) whose allprop PROPFIND leaves out displayname, "
      "getcontenttype, supportedlock and an empty lockdiscovery (Explorer's 1 MB limit)",
      nullptr, nullptr};
  compact.format_default = [](const KeepdavOptions& d) {
    std::string joined;
    for (const std::string& a : d.server.dav.compact_allprop_agents) {
      joined += (joined.empty() ? "" : ",") + a;
    }
    return joined;
  };
  compact.apply = [](const std::string& text, KeepdavOptions* options) {
    std::vector<std::string> agents;
    size_t start = 0;
    while (start <= text.size()) {
      size_t comma = text.find(',', start);
      if (comma == std::string::npos) comma = text.size();
      std::string part = text.substr(start, comma - start);
      const size_t b = part.find_first_not_of(" \t");
      const size_t e = part.find_last_not_of(" \t");
      if (b != std::string::npos) agents.push_back(part.substr(b, e - b + 1));
      start = comma + 1;
    }
    options->server.dav.compact_allprop_agents = std::move(agents);
    return Status::Ok();
  };
  t.push_back(std::move(compact));
  t.push_back(Boolean(
      "fsync", "BOOL", "fsync uploaded files before they replace the old ones",
      [](auto& o) -> auto& { return o.server.fsync; }));
  t.push_back(Integer(
      "open-file-cache", "N",
      "descriptors of recently read files kept open (0: none); changes made "
      "outside keepdav are seen within a second",
      0, 1 << 20, [](auto& o) -> auto& { return o.server.open_file_cache; }));
  t.push_back(Integer(
      "tree-threads", "N",
      "threads working on one deep COPY or DELETE; above 1, large listings stat "
      "on two threads",
      1, 64, [](auto& o) -> auto& { return o.server.tree_threads; }));
  // RFC 4918 §10.7: a DAVTimeOutVal is at most 2^32 - 1.
  t.push_back(Integer(
      "lock-timeout-max", "SECONDS",
      "longest lock timeout granted; Infinite and longer requests get this", 1, 4294967295LL,
      [](auto& o) -> auto& { return o.server.dav.locks.timeout_max_s; }));
  t.push_back(Integer(
      "max-locks-per-resource", "N", "most active locks on one resource (shared locks)", 1,
      1000000000, [](auto& o) -> auto& { return o.server.dav.locks.max_locks_per_resource; }));
  t.push_back(Integer(
      "max-locks", "N", "most active locks in total; beyond, LOCK answers 507", 1, 1000000000,
      [](auto& o) -> auto& { return o.server.dav.locks.max_locks; }));
}

// Long operations, 102 Processing, shutdown; testing aid and logging.
void AddProcessingOptions(std::vector<OptionDefinition>& t) {
  t.push_back(Text(
      "processing", "MODE",
      "102 Processing during long operations: auto (per client, see README), always "
      "or never",
      [](auto& o) -> auto& { return o.server.processing.mode; }));
  t.push_back(Integer(
      "processing-interval-ms", "MS", "time between two 102 Processing responses", 1, kDay * 1000,
      [](auto& o) -> auto& { return o.server.processing.interval_ms; }));
  t.push_back(ShowingDefault(
      Integer(
          "processing-first-ms", "MS", "delay before the first 102 (-1: the interval)", -1,
          kDay * 1000, [](auto& o) -> auto& { return o.server.processing.first_ms; }),
      [](const KeepdavOptions& d) {
        int v = d.server.processing.first_ms;
        return v < 0 ? std::string("the interval") : std::to_string(v);
      }));
  t.push_back(Integer(
      "processing-max", "N", "most 102s for one request; -1: no cap beyond the client's", -1,
      kMaxInt, [](auto& o) -> auto& { return o.server.processing.max_per_request; }));
  OptionDefinition clients = ShowingDefault(
      Text(
          "processing-clients", "RULES",
          "User-Agent substring=max 102s, first match wins, e.g. 'rclone=5,curl=-1,*=0'; "
          "empty: the built-in list (in the README)",
          [](auto& o) -> auto& { return o.server.processing.client_rules; }),
      [](const KeepdavOptions& d) {
        const std::string& v = d.server.processing.client_rules;
        return v == ProcessingPolicy::DefaultClientRules() ? std::string("built in") : v;
      });
  clients.apply = [](const std::string& text, KeepdavOptions* options) {
    if (!text.empty()) options->server.processing.client_rules = text;
    return Status::Ok();
  };
  t.push_back(std::move(clients));
  t.push_back(Integer(
      "long-workers", "N",
      "long operations (deep COPY/MOVE/DELETE/PROPFIND) watched at once for 102s "
      "and hang-ups",
      1, 4096, [](auto& o) -> auto& { return o.server.processing.workers; }));
  t.push_back(Integer(
      "shutdown-timeout", "SECONDS",
      "on SIGTERM, wait this long for running requests, then cancel long "
      "operations",
      0, kDay, [](auto& o) -> auto& { return o.server.processing.shutdown_timeout_s; }));
  t.push_back(Integer(
      "test-delay-us", "US",
      "testing aid: sleep this long per copied, removed or listed resource, to "
      "make tree operations long (never in production)",
      0, 60 * 1000 * 1000, [](auto& o) -> auto& { return o.server.test_delay_us; }));
  t.push_back(Text(
      "log-level", "LEVEL", "fatal, critical, error, warning, notice, information, debug or trace",
      [](auto& o) -> auto& { return o.log_level; }));
}

std::vector<OptionDefinition> BuildTable() {
  std::vector<OptionDefinition> t;
  AddServingOptions(t);
  AddAuthenticationOptions(t);
  AddOperatorOptions(t);
  AddConnectionOptions(t);
  AddDavOptions(t);
  AddProcessingOptions(t);
  return t;
}

}  // namespace

const std::vector<OptionDefinition>& OptionTable() {
  static const std::vector<OptionDefinition> table = BuildTable();
  return table;
}

const OptionDefinition* FindOption(const std::string& name) {
  for (const OptionDefinition& option : OptionTable()) {
    if (option.name == name) return &option;
  }
  return nullptr;
}

const OptionDefinition& NearestOption(const std::string& name) {
  // Levenshtein distance, one row at a time.
  auto distance = [](const std::string& a, const std::string& b) {
    std::vector<size_t> row(b.size() + 1);
    for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
      size_t diagonal = row[0];
      row[0] = i;
      for (size_t j = 1; j <= b.size(); ++j) {
        size_t substitute = diagonal + (a[i - 1] == b[j - 1] ? 0 : 1);
        diagonal = row[j];
        row[j] = std::min({row[j] + 1, row[j - 1] + 1, substitute});
      }
    }
    return row[b.size()];
  };
  const OptionDefinition* nearest = &OptionTable().front();
  size_t best = distance(name, nearest->name);
  for (const OptionDefinition& option : OptionTable()) {
    size_t d = distance(name, option.name);
    if (d < best) {
      best = d;
      nearest = &option;
    }
  }
  return *nearest;
}

std::string DefaultText(const OptionDefinition& option) {
  static const KeepdavOptions defaults;
  return option.format_default(defaults);
}

}  // namespace keepdav::server
