// RandomHex: 16 lowercase hex digits (64 random bits) for names keepdav makes up itself: the
// temporary file of an upload (".keepdav-tmp-<hex>") and the staging and trash trees of a COPY or
// MOVE (".keepdav-stage-<hex>", ".keepdav-trash-<hex>").
//
// Uniqueness, not secrecy, is what matters: every caller creates the name exclusively (O_EXCL,
// RENAME_NOREPLACE, mkdir) and retries or fails on a collision. A per-thread xorshift generator
// seeded once from getrandom() saves a system call per name.
//
// Thread-safe (the generator state is per thread). Never fails.
#pragma once

#include <string>

namespace keepdav::storage {

std::string RandomHex();

}  // namespace keepdav::storage
