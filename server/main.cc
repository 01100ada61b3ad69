#include <malloc.h>

#include <iostream>  // POCO_SERVER_MAIN writes to std::cerr

#include "server/keepdav_app.h"

namespace {

// glibc returns the free top of a thread's malloc arena to the kernel (madvise MADV_DONTNEED)
// once it exceeds M_TRIM_THRESHOLD: 128 KiB at start, raised to twice the size of the largest
// mmap'd block freed so far (up to 32 MiB). SQLite frees a 64 KiB temporary b-tree after every
// UPDATE of a path range (a MOVE updates two: properties and checksums), so until some request
// had freed a large block, every MOVE gave pages back and faulted them in again, with a TLB
// shoot-down across the cores each time: 0.41 ms a MOVE of a 420-entry tree against 0.13 ms
// (bench/ MOVE tree 0.77x of the binary before issue 9). Fixing the two thresholds at what
// glibc's own rule reaches after one 4 MiB block starts the process there. Setting only the trim
// threshold would stop the rule and leave every block over 128 KiB to mmap/munmap (PUT and GET
// of 1 GiB measured 0.8x so).
[[maybe_unused]] const bool kMallocThresholdsSet =
    mallopt(M_MMAP_THRESHOLD, 4 << 20) == 1 && mallopt(M_TRIM_THRESHOLD, 8 << 20) == 1;

}  // namespace

POCO_SERVER_MAIN(keepdav::server::KeepdavApp)
