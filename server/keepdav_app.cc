#include "server/keepdav_app.h"

#include <Poco/AutoPtr.h>
#include <Poco/ConsoleChannel.h>
#include <Poco/FormattingChannel.h>
#include <Poco/Logger.h>
#include <Poco/Path.h>
#include <Poco/PatternFormatter.h>
#include <Poco/Util/HelpFormatter.h>
#include <Poco/Util/IntValidator.h>
#include <Poco/Util/Option.h>
#include <Poco/Util/OptionSet.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>

#include "server/dav_server.h"

namespace keepdav::server {

using Poco::Util::Option;
using Poco::Util::OptionSet;

namespace {

// Option name, argument name, default value (as text), description. The defaults are also what
// `--help` prints, so the two cannot drift apart.
struct Setting {
  const char* name;
  const char* argument;  // nullptr for flags
  const char* fallback;
  const char* description;
};

const Setting kSettings[] = {
    {"root", "DIR", "", "directory to serve (required)"},
    {"port", "N", "8080", "TCP port; 0 picks a free one"},
    {"bind", "ADDR", "127.0.0.1", "address to listen on"},
    {"db", "FILE", "",
     "SQLite database for dead properties; default: "
     "$XDG_STATE_HOME/keepdav/<root-hash>.sqlite (outside the root)"},
    {"read-only", nullptr, "false", "answer every modifying method with 403"},
    {"port-file", "FILE", "", "write the bound port number to FILE once listening"},
    {"threads", "N", "16",
     "request threads: the most requests served at once (idle connections hold none)"},
    {"max-connections", "N", "1024", "open connections at once; more wait in the listen backlog"},
    {"max-request-head", "BYTES", "65536", "largest request line plus headers; larger is 431"},
    {"keep-alive-timeout", "SECONDS", "15", "idle time before a keep-alive connection closes"},
    {"timeout", "SECONDS", "60", "socket send/receive timeout"},
    {"max-xml-body", "BYTES", "1048576", "largest XML request body (PROPFIND, PROPPATCH)"},
    {"max-xml-depth", "N", "64", "deepest element nesting in an XML request body"},
    {"max-upload", "BYTES", "0", "largest PUT body; 0 means no limit"},
    {"max-tree-depth", "N", "256", "deepest level COPY, DELETE and PROPFIND recurse into"},
    {"propfind-infinity", "BOOL", "true", "allow PROPFIND with Depth: infinity"},
    {"fsync", "BOOL", "false", "fsync uploaded files before they replace the old ones"},
    {"open-file-cache", "N", "128",
     "descriptors of recently read files kept open (0: none); changes made outside keepdav "
     "are seen within a second"},
    {"tree-threads", "N", "2",
     "threads working on one deep COPY or DELETE; above 1, large listings stat on two threads"},
    {"lock-timeout-max", "SECONDS", "3600",
     "longest lock timeout granted; Infinite and longer requests get this"},
    {"max-locks-per-resource", "N", "64", "most active locks on one resource (shared locks)"},
    {"max-locks", "N", "10000", "most active locks in total; beyond, LOCK answers 507"},
    {"processing", "MODE", "auto",
     "102 Processing during long operations: auto (per client, see README), always or never"},
    {"processing-interval-ms", "MS", "20000", "time between two 102 Processing responses"},
    {"processing-first-ms", "MS", "", "delay before the first 102 (default: the interval)"},
    {"processing-max", "N", "-1", "most 102s for one request; -1: no cap beyond the client's"},
    {"processing-clients", "RULES", "",
     "User-Agent substring=max 102s, first match wins, e.g. 'rclone=5,curl=-1,*=0' "
     "(default: the built-in list in README)"},
    {"long-workers", "N", "16",
     "long operations (deep COPY/MOVE/DELETE/PROPFIND) watched at once for 102s and hang-ups"},
    {"shutdown-timeout", "SECONDS", "30",
     "on SIGTERM, wait this long for running requests, then cancel long operations"},
    {"test-delay-us", "US", "0",
     "testing aid: sleep this long per copied, removed or listed resource, to make tree "
     "operations long (never in production)"},
    {"log-level", "LEVEL", "information",
     "fatal, critical, error, warning, notice, information, debug or trace"},
};

}  // namespace

void KeepdavApp::initialize(Poco::Util::Application& self) {
  ServerApplication::initialize(self);
}

void KeepdavApp::defineOptions(OptionSet& options) {
  ServerApplication::defineOptions(options);
  options.addOption(Option("help", "h", "show the options and their defaults").required(false));
  options.addOption(Option("config", "", "read options from a properties file (key = value)")
                        .required(false)
                        .argument("FILE"));
  for (const Setting& s : kSettings) {
    Option o(s.name, "", s.description);
    o.required(false).binding(s.name);
    if (s.argument) o.argument(s.argument);
    options.addOption(o);
  }
}

void KeepdavApp::handleOption(const std::string& name, const std::string& value) {
  ServerApplication::handleOption(name, value);
  if (name == "help") {
    help_requested_ = true;
    stopOptionsProcessing();
  } else if (name == "config") {
    loadConfiguration(value);
  } else if (name == "read-only") {
    config().setString("read-only", "true");
  }
}

void KeepdavApp::DisplayHelp() {
  std::cout << "usage: keepdav --root=DIR [options]\n\n"
               "keepdav serves a directory over WebDAV (RFC 4918 class 1 and 2).\n\nOptions:\n";
  std::cout << "  --help                 show this text\n"
               "  --config=FILE          read options from a properties file (key = value);\n"
               "                         options given on the command line win\n";
  for (const Setting& s : kSettings) {
    std::string left =
        std::string("--") + s.name + (s.argument ? std::string("=") + s.argument : "");
    std::cout << "  " << left;
    for (size_t i = left.size(); i < 21; ++i) std::cout << ' ';
    std::cout << "  " << s.description;
    if (*s.fallback) std::cout << " (default: " << s.fallback << ")";
    std::cout << "\n";
  }
  std::cout << "\nServer-process options of Poco (--daemon, --pidfile=FILE, --umask=MASK) also "
               "apply.\n";
}

void KeepdavApp::SetUpLogging() {
  Poco::AutoPtr<Poco::PatternFormatter> formatter(
      new Poco::PatternFormatter("%Y-%m-%dT%H:%M:%S.%iZ %p %s: %t"));
  formatter->setProperty("times", "UTC");
  Poco::AutoPtr<Poco::ConsoleChannel> console(new Poco::ConsoleChannel(std::cerr));
  Poco::AutoPtr<Poco::FormattingChannel> channel(new Poco::FormattingChannel(formatter, console));
  std::string level = config().getString("log-level", "information");
  Poco::Logger::root().setChannel(channel);
  Poco::Logger::root().setLevel(level);
  for (const char* name : {"keepdav", "keepdav.dav", "keepdav.http", "keepdav.server"}) {
    Poco::Logger::get(name).setChannel(channel);
    Poco::Logger::get(name).setLevel(level);
  }
}

int KeepdavApp::main(const std::vector<std::string>& args) {
  if (help_requested_) {
    DisplayHelp();
    return EXIT_OK;
  }
  try {
    SetUpLogging();
  } catch (const Poco::Exception& e) {
    std::cerr << "keepdav: bad --log-level: " << e.displayText() << "\n";
    return EXIT_USAGE;
  }
  Poco::Logger& log = Poco::Logger::get("keepdav.server");
  if (!args.empty()) {
    log.error("unexpected argument '%s' (see --help)", args[0]);
    return EXIT_USAGE;
  }
  auto get = [this](const char* name) {
    for (const Setting& s : kSettings) {
      if (std::string(s.name) == name) return config().getString(name, s.fallback);
    }
    return config().getString(name, "");
  };
  std::string root_arg = get("root");
  if (root_arg.empty()) {
    log.error("--root=DIR is required (see --help)");
    return EXIT_USAGE;
  }
  ServerConfig cfg;
  try {
    cfg.root = root_arg;
    cfg.db_path = get("db");
    cfg.bind = get("bind");
    cfg.port = static_cast<uint16_t>(config().getInt("port", 8080));
    cfg.threads = config().getInt("threads", 16);
    cfg.max_connections = config().getInt("max-connections", 1024);
    cfg.max_request_head = config().getUInt64("max-request-head", 65536);
    cfg.keep_alive_timeout_s = config().getInt("keep-alive-timeout", 15);
    cfg.timeout_s = config().getInt("timeout", 60);
    cfg.fsync = config().getBool("fsync", false);
    cfg.open_file_cache = config().getInt("open-file-cache", 128);
    cfg.tree_threads = config().getInt("tree-threads", 2);
    if (cfg.open_file_cache < 0 || cfg.tree_threads < 1 || cfg.tree_threads > 64) {
      log.error("--open-file-cache must be at least 0 and --tree-threads between 1 and 64");
      return EXIT_USAGE;
    }
    cfg.dav.read_only = config().getBool("read-only", false);
    cfg.dav.xml.max_body_bytes = config().getUInt64("max-xml-body", 1048576);
    cfg.dav.xml.max_depth = config().getInt("max-xml-depth", 64);
    cfg.dav.max_upload_bytes = config().getUInt64("max-upload", 0);
    cfg.dav.max_tree_depth = config().getInt("max-tree-depth", 256);
    cfg.dav.allow_propfind_infinity = config().getBool("propfind-infinity", true);
    cfg.dav.locks.timeout_max_s = config().getInt64("lock-timeout-max", 3600);
    cfg.dav.locks.max_locks_per_resource = config().getInt64("max-locks-per-resource", 64);
    cfg.dav.locks.max_locks = config().getInt64("max-locks", 10000);
    if (cfg.dav.locks.timeout_max_s < 1 || cfg.dav.locks.max_locks_per_resource < 1 ||
        cfg.dav.locks.max_locks < 1) {
      log.error("--lock-timeout-max, --max-locks-per-resource and --max-locks must be at least 1");
      return EXIT_USAGE;
    }
    if (cfg.threads < 1 || cfg.max_connections < 1 || cfg.keep_alive_timeout_s < 1 ||
        cfg.timeout_s < 1 || cfg.max_request_head < 256) {
      log.error(
          "--threads, --max-connections, --keep-alive-timeout and --timeout must be at least 1, "
          "--max-request-head at least 256");
      return EXIT_USAGE;
    }
    cfg.processing.mode = get("processing");
    cfg.processing.interval_ms = config().getInt("processing-interval-ms", 20000);
    cfg.processing.first_ms = config().getInt("processing-first-ms", -1);
    cfg.processing.max_per_request = config().getInt("processing-max", -1);
    std::string rules = get("processing-clients");
    if (!rules.empty()) cfg.processing.client_rules = rules;
    cfg.processing.workers = config().getInt("long-workers", 16);
    cfg.processing.shutdown_timeout_s = config().getInt("shutdown-timeout", 30);
    cfg.test_delay_us = config().getInt("test-delay-us", 0);
  } catch (const Poco::Exception& e) {
    log.error("bad option value: %s", e.displayText());
    return EXIT_USAGE;
  }
  try {
    auto server = DavServer::Create(cfg);
    if (!server.ok()) {
      log.error("cannot start: %s", server.status().ToString());
      return EXIT_CONFIG;
    }
    DavServer& dav = *server.value();
    dav.Start();
    log.information("serving %s on http://%s:%hu/ (database %s%s)", dav.root(), cfg.bind,
                    dav.port(), dav.db_path(), std::string(cfg.dav.read_only ? ", read-only" : ""));
    std::string port_file = get("port-file");
    if (!port_file.empty()) {
      std::string tmp = port_file + ".tmp";
      std::ofstream(tmp) << dav.port() << "\n";
      std::rename(tmp.c_str(), port_file.c_str());
    }
    waitForTerminationRequest();
    log.information("stopping");
    dav.Stop();
    log.information("stopped");
  } catch (const Poco::Exception& e) {
    log.error("fatal: %s", e.displayText());
    return EXIT_SOFTWARE;
  }
  return EXIT_OK;
}

}  // namespace keepdav::server
