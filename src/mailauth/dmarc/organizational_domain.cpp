#include "mailauth/dmarc/organizational_domain.hpp"

#include <libpsl.h>

#include "core/text.hpp"

namespace postern::mailauth::dmarc {
namespace {

const psl_ctx_t* ctx_of(const void* p) {
  return static_cast<const psl_ctx_t*>(p);
}

}  // namespace

PublicSuffixList::PublicSuffixList() {
  // psl_latest(NULL): the newer of the distribution's file (Debian:
  // /usr/share/publicsuffix/public_suffix_list.dafsa, which the
  // publicsuffix package keeps current) and the list compiled into libpsl.
  if (psl_ctx_t* latest = psl_latest(nullptr)) {
    ctx_ = latest;
    owned_ = true;
    const char* dist = psl_dist_filename();
    source_ = dist != nullptr && *dist != '\0' ? dist : "libpsl";
    return;
  }
  ctx_ = psl_builtin();
  source_ = "libpsl built-in list";
}

PublicSuffixList::~PublicSuffixList() {
  if (owned_) psl_free(const_cast<psl_ctx_t*>(ctx_of(ctx_)));
}

const PublicSuffixList& PublicSuffixList::system() {
  static const PublicSuffixList list;  // thread-safe initialisation (C++11 "magic statics")
  return list;
}

std::string PublicSuffixList::organizational_domain(std::string_view domain) const {
  std::string d = ascii_lower(domain);
  while (!d.empty() && d.back() == '.') d.pop_back();
  if (d.empty() || ctx_ == nullptr) return d;
  // psl_registrable_domain() applies the list's rules, wildcards and
  // exceptions, with the implicit "*" rule for unknown top-level domains
  // (§3.2 step 3); it returns NULL when `d` is itself a public suffix.
  if (const char* r = psl_registrable_domain(ctx_of(ctx_), d.c_str())) return r;
  return d;
}

std::string organizational_domain(std::string_view domain) {
  return PublicSuffixList::system().organizational_domain(domain);
}

}  // namespace postern::mailauth::dmarc
