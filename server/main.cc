#include <malloc.h>

#include <iostream>  // POCO_SERVER_MAIN writes to std::cerr

#include "server/keepdav_app.h"

namespace {

// glibc returns the free top of a thread's malloc arena to the kernel (madvise MADV_DONTNEED)
// once it exceeds M_TRIM_THRESHOLD, 128 KiB by default. SQLite frees a 64 KiB temporary b-tree
// after every UPDATE of a path range (a MOVE updates two: properties and checksums), so every MOVE
// gave pages back and faulted them in again, with a TLB shoot-down across the cores each time:
// 0.41 ms a MOVE of a 420-entry tree against 0.13 ms with 1 MiB (bench/ MOVE tree 0.77x of the
// binary before issue 9). 1 MiB keeps at most that much idle per arena (glibc makes up to 8 per
// core), so memory stays bounded.
[[maybe_unused]] const bool kTrimThresholdSet = mallopt(M_TRIM_THRESHOLD, 1 << 20) == 1;

}  // namespace

POCO_SERVER_MAIN(keepdav::server::KeepdavApp)
