#include <iostream>  // POCO_SERVER_MAIN writes to std::cerr

#include "server/keepdav_app.h"

POCO_SERVER_MAIN(keepdav::server::KeepdavApp)
