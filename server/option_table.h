// The option table: every keepdav setting, with its name, its description and a typed binding to
// the field of KeepdavOptions it sets. The one source of truth for option defaults:
//
// - the defaults ARE a default-constructed KeepdavOptions (ServerConfig with the webdav and
//   processing settings structs inside it); `--help` prints them by formatting those fields, and
//   the README's options table is checked against `--help` (tests/server/options_readme_test.sh);
// - the same table applies command-line and config-file values (KeepdavApp reads both through
//   Poco's layered configuration, the command line winning), with one parser per type and a
//   range for every number.
//
// Errors are values: Apply() returns kInvalidArgument with a message that names the option and,
// for numbers, its range ("--port must be an integer from 0 to 65535, not '70000'"); KeepdavApp
// turns it into exit code 64 (EX_USAGE).
//
// The table is built once and read-only afterwards: thread-safe.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "server/dav_server.h"
#include "storage/status.h"

namespace keepdav::server {

// Everything the keepdav executable can be told. Default-constructed: the defaults.
struct KeepdavOptions {
  ServerConfig server;
  std::string port_file;  // empty: none written
  std::string log_level = "information";
};

struct OptionDefinition {
  std::string name;         // "port": the command-line option (--port) and the config-file key
  std::string argument;     // "N"; empty for a flag (--read-only)
  std::string description;  // one line for --help
  // The default as --help and the README show it, formatted from a field of `defaults`; empty
  // when there is none (--root, --port-file).
  std::function<std::string(const KeepdavOptions& defaults)> format_default;
  // Parses `text` into the bound field. kInvalidArgument naming the option (and its range).
  std::function<storage::Status(const std::string& text, KeepdavOptions* options)> apply;
};

// Every setting, in the order --help lists them (not --help and --config themselves).
const std::vector<OptionDefinition>& OptionTable();

// The entry named `name`, or null.
const OptionDefinition* FindOption(const std::string& name);

// The default of `option` as text (empty: none).
std::string DefaultText(const OptionDefinition& option);

// The option whose name is closest to `name` (fewest single-character edits), for "did you
// mean" in the error about an unknown config-file key.
const OptionDefinition& NearestOption(const std::string& name);

}  // namespace keepdav::server
