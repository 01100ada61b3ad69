// KeepdavApp: the keepdav executable, on Poco::Util::ServerApplication.
//
// Options come from the command line or from a Poco properties file given with --config=FILE
// (keys are the option names: "root = /srv/dav"); the command line wins. Both go through the
// option table (option_table.h), which holds every default. Exit codes (Poco's, from sysexits):
// 64 for a bad option (unknown — also as a config-file key —, out of range, missing --root), 78
// for a missing config file or when the server cannot start (root or database unusable), 70 for
// an unexpected exception. Logs go to stderr.
// SIGINT/SIGTERM stop the server cleanly.
#pragma once

#include <Poco/Util/ServerApplication.h>

#include <cstdint>

#include <string>
#include <vector>

#include "server/option_table.h"
#include "storage/status.h"

namespace keepdav::server {

class KeepdavApp : public Poco::Util::ServerApplication {
 protected:
  void initialize(Poco::Util::Application& self) override;
  void defineOptions(Poco::Util::OptionSet& options) override;
  void handleOption(const std::string& name, const std::string& value) override;
  int main(const std::vector<std::string>& args) override;

 private:
  void DisplayHelp();
  void SetUpLogging();
  // Applies every option given (command line or config file) to `options`. kInvalidArgument
  // naming the option for a bad value or a missing --root.
  storage::Status ReadOptions(KeepdavOptions* options);
  // Reads a --config file (`key = value` lines, whatever the file is called) beneath the command
  // line. kNotFound when it is missing or unreadable; kInvalidArgument naming the line and the
  // nearest option for a key that is not an option (a silently ignored "read_only = true"
  // would serve read-write).
  storage::Status LoadConfigFile(const std::string& path);
  // Runs the server until SIGINT/SIGTERM; the exit code. Throws Poco::Exception when the
  // address cannot be bound.
  int Serve(const KeepdavOptions& options);
  static void WritePortFile(const std::string& path, uint16_t port);
  bool help_requested_ = false;
  std::vector<std::string> config_files_;  // --config, in command-line order
};

}  // namespace keepdav::server
