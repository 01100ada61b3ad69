// KeepdavApp: the keepdav executable, on Poco::Util::ServerApplication.
//
// Options come from the command line or from a Poco properties file given with --config=FILE
// (keys are the option names: "root = /srv/dav"); the command line wins. Logs go to stderr.
// SIGINT/SIGTERM stop the server cleanly.
#pragma once

#include <Poco/Util/ServerApplication.h>

#include <string>
#include <vector>

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
  bool help_requested_ = false;
};

}  // namespace keepdav::server
