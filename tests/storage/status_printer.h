// Lets GoogleTest print StatusCode values by name in failure messages.
#pragma once

#include <ostream>

#include "storage/status.h"

namespace keepdav::storage {

inline void PrintTo(StatusCode code, std::ostream* os) {
  *os << StatusCodeName(code);
}

}  // namespace keepdav::storage
