// Wire: the byte stream of one client connection, plain TCP or TLS, as the request-body reader,
// the response sink and the 102 watcher see it. Everything keepdav itself reads or writes on a
// connection after Poco has parsed the request head goes through it, so that HTTP and HTTPS share
// one code path (issue 10).
//
// Implementations: PlainWire (the socket's descriptor: writev/sendmsg, sendfile(2), recv) and
// TlsWire (Poco::Net::SecureStreamSocket: TLS records; a file is sent as pread + TLS writes in
// pieces of at most 64 KiB, never whole in memory).
//
// Thread safety: none of its own. One thread reads or writes at a time: the request's thread,
// except that the LongOperations watcher writes "102 Processing" while the request's thread
// runs the operation; the InterimGate (long_operations.h) serialises those two, which over TLS
// matters because both write through one SSL*. The watcher never reads.
// Errors: Write throws std::runtime_error when the client is gone or the send timed out;
// SendFile returns false; Read returns -1 (errno set) or 0 at end of stream.
#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <cstdint>

namespace keepdav::server {

class Wire {
 public:
  virtual ~Wire() = default;
  // The socket's descriptor, for poll(2) (POLLRDHUP: the client hung up) and socket options
  // only. Never read or write it directly: over TLS its bytes are records.
  virtual int fd() const = 0;
  // Writes all of iov[0..count), or throws std::runtime_error. `more`: more bytes follow at
  // once (MSG_MORE on plain TCP; ignored over TLS).
  virtual void Write(const ::iovec* iov, int count, bool more) = 0;
  // Sends `length` bytes of `file_fd` from `offset`. False if the client went away.
  virtual bool SendFile(int file_fd, uint64_t offset, uint64_t length) = 0;
  // Reads at most `max` bytes (blocking, bounded by the socket's receive timeout): the count,
  // 0 at end of stream, -1 on error or timeout.
  virtual long Read(char* dst, size_t max) = 0;
  // Ends the sending side for a lingering close (the reading side stays open so that what the
  // client still sends can be read and dropped): shutdown(SHUT_WR), and over TLS a close_notify
  // alert first, so the client sees the answer end properly rather than a truncation.
  virtual void ShutdownSend() = 0;
  // True over TLS.
  virtual bool secure() const = 0;
};

}  // namespace keepdav::server
