#include "server/keepdav_app.h"

POCO_SERVER_MAIN(keepdav::server::KeepdavApp)
