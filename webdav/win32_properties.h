// The Win32 properties Windows' WebDAV client (Microsoft-WebDAV-MiniRedir, behind Explorer and
// Office) sets with PROPPATCH after every upload and on every folder it creates, in the namespace
// urn:schemas-microsoft-com: (MS-WDV §2.2.2 lists them): Win32CreationTime,
// Win32LastAccessTime, Win32LastModifiedTime (RFC 1123 dates) and Win32FileAttributes (8 hex
// digits).
//
// keepdav keeps them as dead properties, so Explorer reads back what it set, except
// Win32LastModifiedTime: that one sets the resource's real modification time (what
// getlastmodified, the ETag and every other client see) and is not stored, so it can never
// disagree with the file after a later PUT. A POSIX file system has no settable creation time,
// and an access time nobody relies on: those two stay dead properties.
//
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "storage/property_store.h"

namespace keepdav::webdav {

inline constexpr char kMicrosoftNamespace[] = "urn:schemas-microsoft-com:";

// True for {urn:schemas-microsoft-com:}Win32LastModifiedTime.
bool IsWin32LastModifiedTime(const storage::PropertyName& name);

// The time in a set value of a Win32 time property, in seconds since the epoch: `element_xml` is
// the whole property element as PROPPATCH parsing keeps it (e.g.
// `<Z:Win32LastModifiedTime xmlns:Z="urn:schemas-microsoft-com:">Fri, 06 Mar 2015 07:08:09
// GMT</Z:Win32LastModifiedTime>`). Its text, trimmed, must be an HTTP date (RFC 9110 §5.6.7);
// nullopt otherwise.
std::optional<int64_t> ParseWin32Time(const std::string& element_xml);

}  // namespace keepdav::webdav
