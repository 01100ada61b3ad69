#include "server/keepdav_app.h"

#include <Poco/AutoPtr.h>
#include <Poco/ConsoleChannel.h>
#include <Poco/FormattingChannel.h>
#include <Poco/Logger.h>
#include <Poco/Path.h>
#include <Poco/PatternFormatter.h>
#include <Poco/Util/HelpFormatter.h>
#include <Poco/Util/Option.h>
#include <Poco/Util/OptionSet.h>
#include <Poco/Util/PropertyFileConfiguration.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <vector>

#include "server/access_log.h"
#include "server/dav_server.h"
#include "server/option_table.h"
#include "server/tls_context.h"
#include "server/tls_reload_signal.h"
#include "storage/ascii.h"

namespace keepdav::server {

using Poco::Util::Option;
using Poco::Util::OptionSet;

void KeepdavApp::initialize(Poco::Util::Application& self) {
  ServerApplication::initialize(self);
}

void KeepdavApp::defineOptions(OptionSet& options) {
  ServerApplication::defineOptions(options);
  options.addOption(Option("help", "h", "show the options and their defaults").required(false));
  options.addOption(Option("config", "", "read options from a properties file (key = value)")
                        .required(false)
                        .argument("FILE"));
  for (const OptionDefinition& definition : OptionTable()) {
    Option o(definition.name, "", definition.description);
    o.required(false).binding(definition.name);
    if (!definition.argument.empty()) o.argument(definition.argument);
    options.addOption(o);
  }
}

void KeepdavApp::handleOption(const std::string& name, const std::string& value) {
  ServerApplication::handleOption(name, value);
  if (name == "help") {
    help_requested_ = true;
    stopOptionsProcessing();
  } else if (name == "config") {
    config_files_.push_back(value);  // read in main(), where errors can be reported
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
  for (const OptionDefinition& definition : OptionTable()) {
    std::string left =
        "--" + definition.name + (definition.argument.empty() ? "" : "=" + definition.argument);
    std::cout << "  " << left;
    for (size_t i = left.size(); i < 21; ++i) std::cout << ' ';
    std::cout << "  " << definition.description;
    std::string fallback = DefaultText(definition);
    if (!fallback.empty()) std::cout << " (default: " << fallback << ")";
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
  std::string level = config().getString("log-level", KeepdavOptions().log_level);
  Poco::Logger::root().setChannel(channel);
  Poco::Logger::root().setLevel(level);
  for (const char* name : {"keepdav", "keepdav.dav", "keepdav.http", "keepdav.server"}) {
    Poco::Logger::get(name).setChannel(channel);
    Poco::Logger::get(name).setLevel(level);
  }
}

storage::Status KeepdavApp::ReadOptions(KeepdavOptions* options) {
  // The command line and the config file, merged by Poco's layered configuration (the command
  // line has the higher priority), go through the same table.
  for (const OptionDefinition& definition : OptionTable()) {
    if (!config().has(definition.name)) continue;
    std::string text;
    try {
      text = config().getString(definition.name);
    } catch (const Poco::Exception& e) {  // e.g. a ${reference} that cannot be expanded
      return storage::Status::InvalidArgument("--" + definition.name + ": " + e.displayText());
    }
    storage::Status applied = definition.apply(text, options);
    if (!applied.ok()) return applied;
  }
  if (options->server.root.empty()) {
    return storage::Status::InvalidArgument("--root=DIR is required (see --help)");
  }
  return storage::Status::Ok();
}

storage::Status KeepdavApp::LoadConfigFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return storage::Status::NotFound("--config=" + path + ": no such file or not readable");
  Poco::AutoPtr<Poco::Util::PropertyFileConfiguration> file;
  try {
    file = new Poco::Util::PropertyFileConfiguration(in);
  } catch (const Poco::Exception& e) {
    return storage::Status::NotFound("--config=" + path + ": " + e.displayText());
  }
  Poco::Util::AbstractConfiguration::Keys keys;
  file->keys(keys);  // a dotted key "a.b" shows as "a": no option has a dot either
  for (const std::string& key : keys) {
    if (FindOption(key)) continue;
    // The line it is on, for the message: the first one that starts with the key.
    in.clear();
    in.seekg(0);
    std::string line;
    int number = 0;
    int found = 0;
    while (found == 0 && std::getline(in, line)) {
      ++number;
      std::string_view text = storage::ascii::TrimLeading(line, storage::ascii::kWhitespace);
      if (text.substr(0, key.size()) == key &&
          (text.size() == key.size() || std::strchr(" \t=:.", text[key.size()]))) {
        found = number;
      }
    }
    return storage::Status::InvalidArgument(path + ":" + std::to_string(found) +
                                            ": unknown option '" + key + "' (did you mean '" +
                                            NearestOption(key).name + "'?)");
  }
  // Beneath the command line: Poco keeps command-line values at PRIO_APPLICATION.
  config().add(file, PRIO_DEFAULT);
  return storage::Status::Ok();
}

int KeepdavApp::main(const std::vector<std::string>& args) {
  if (help_requested_) {
    DisplayHelp();
    return EXIT_OK;
  }
  storage::Status loaded = storage::Status::Ok();
  for (const std::string& path : config_files_) {
    loaded = LoadConfigFile(path);
    if (!loaded.ok()) break;
  }
  try {
    SetUpLogging();
  } catch (const Poco::Exception& e) {
    std::cerr << "keepdav: bad --log-level: " << e.displayText() << "\n";
    return EXIT_USAGE;
  }
  Poco::Logger& log = Poco::Logger::get("keepdav.server");
  if (!loaded.ok()) {
    log.error("%s", loaded.message());
    return loaded.code() == storage::StatusCode::kNotFound ? EXIT_CONFIG : EXIT_USAGE;
  }
  if (!args.empty()) {
    log.error("unexpected argument '%s' (see --help)", args[0]);
    return EXIT_USAGE;
  }
  KeepdavOptions options;
  storage::Status read = ReadOptions(&options);
  if (!read.ok()) {
    log.error("%s", read.message());
    return EXIT_USAGE;
  }
  try {
    return Serve(options);
  } catch (const Poco::Exception& e) {
    log.error("fatal: %s", e.displayText());
    return EXIT_SOFTWARE;
  }
}

int KeepdavApp::Serve(const KeepdavOptions& options) {
  Poco::Logger& log = Poco::Logger::get("keepdav.server");
  const ServerConfig& cfg = options.server;
  // SIGHUP (TLS reload) and the stop signals are taken by the wait below only: block them before
  // any thread exists, so that every thread inherits the mask.
  BlockServerSignals();
  auto server = DavServer::Create(cfg);
  if (!server.ok()) {
    log.error("cannot start: %s", server.status().ToString());
    return EXIT_CONFIG;
  }
  DavServer& dav = *server.value();
  dav.Start();
  log.information("serving %s on %s://%s:%hu%s/ (database %s%s)", dav.root(),
                  std::string(dav.tls() ? "https" : "http"), cfg.bind, dav.port(),
                  cfg.dav.base_path, dav.database_description(),
                  std::string(cfg.dav.read_only ? ", read-only" : ""));
  if (!options.port_file.empty()) WritePortFile(options.port_file, dav.port());
  Authenticator& authenticator = dav.authenticator();
  if (authenticator.enabled()) {
    log.information("users from %s: %z; passwords over plain HTTP %s", cfg.auth.users_file,
                    authenticator.UserCount(),
                    std::string(cfg.auth.allow_basic_over_http ? "accepted from anywhere"
                                                               : "accepted from loopback only"));
  } else {
    log.information("no --users: no authentication, every client is served anonymously");
  }
  if (!cfg.cors_origins.empty()) {
    log.information("CORS for %s (preflights answered without authentication)", cfg.cors_origins);
  }
  TlsContext* tls = dav.tls();
  std::vector<std::function<void()>> on_hangup;
  if (tls != nullptr) {
    on_hangup.push_back([&] {
      storage::Status reloaded = tls->Reload();
      if (reloaded.ok()) {
        log.information("reloaded the TLS certificate: %s", tls->CurrentSubject());
      } else {
        log.error("TLS reload failed, the old certificate stays in use: %s", reloaded.message());
      }
    });
  }
  // Logs its own outcome; a bad file keeps the old users.
  if (authenticator.enabled()) on_hangup.push_back([&] { authenticator.Reload(); });
  // After the users: the rules' check of the users they name sees the new users file.
  if (!cfg.access_file.empty()) on_hangup.push_back([&] { dav.ReloadAccessRules(); });
  if (AccessLog* access_log = dav.access_log()) {
    log.information("access log: %s", access_log->path());
    // logrotate renames the file, then sends SIGHUP: the next line goes to a new file.
    on_hangup.push_back([access_log, &log] {
      storage::Status reopened = access_log->Reopen();
      if (!reopened.ok()) {
        log.error("reopening the access log failed, still writing to the old file: %s",
                  reopened.message());
      }
    });
  }
  WaitForTerminationRunningOnHangup(on_hangup);
  log.information("stopping");
  dav.Stop();
  log.information("stopped");
  return EXIT_OK;
}

void KeepdavApp::WritePortFile(const std::string& path, uint16_t port) {
  // Written beside and renamed into place, so a reader never sees a half-written number.
  std::string tmp = path + ".tmp";
  std::ofstream(tmp) << port << "\n";
  std::rename(tmp.c_str(), path.c_str());
}

}  // namespace keepdav::server
