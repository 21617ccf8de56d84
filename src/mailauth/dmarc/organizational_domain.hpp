// The Organizational Domain (RFC 7489 §3.2): the registrable domain under a
// public suffix, found with the Public Suffix List. The list is Debian's
// (package publicsuffix, /usr/share/publicsuffix) read by libpsl, never a
// list written here: psl_latest() takes the newer of that file and the copy
// built into libpsl, as libpsl's documentation recommends.
#pragma once

#include <string>
#include <string_view>

namespace postern::mailauth::dmarc {

class PublicSuffixList {
 public:
  // The system list, loaded on the first call (a file read: call it once at
  // start-up, outside any event loop; later calls only return it). Safe to
  // call from several threads. Falls back to libpsl's built-in list when
  // the file cannot be read.
  static const PublicSuffixList& system();

  // §3.2: the public suffix that matches the most labels of `domain`, plus
  // one more label. A domain that is itself a public suffix (or has no
  // label beyond one) is its own organizational domain. `domain` is an
  // A-label (ASCII) name, any case, with or without the trailing dot;
  // the result is lowercased, without the dot.
  std::string organizational_domain(std::string_view domain) const;

  // Where the list came from, for the start-up log line.
  const std::string& source() const { return source_; }

  PublicSuffixList(const PublicSuffixList&) = delete;
  PublicSuffixList& operator=(const PublicSuffixList&) = delete;
  ~PublicSuffixList();

 private:
  PublicSuffixList();
  const void* ctx_ = nullptr;  // psl_ctx_t, kept out of this header
  bool owned_ = false;
  std::string source_;
};

// PublicSuffixList::system().organizational_domain(domain).
std::string organizational_domain(std::string_view domain);

}  // namespace postern::mailauth::dmarc
