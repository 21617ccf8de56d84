#include "mailauth/dkim/hashing.hpp"

#include <openssl/evp.h>

#include <memory>

namespace postern::mailauth::dkim {
namespace {

// SHA-256 fetched from the provider once, not at every init: OpenSSL 3's
// implicit fetch (EVP_sha256()) looks it up, under a lock, per message.
const EVP_MD* sha256_md() {
  static EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  return md != nullptr ? md : EVP_sha256();
}

class Sha256 {
 public:
  Sha256() : ctx_(EVP_MD_CTX_new(), EVP_MD_CTX_free) {
    EVP_DigestInit_ex(ctx_.get(), sha256_md(), nullptr);
  }
  void update(std::string_view s) { EVP_DigestUpdate(ctx_.get(), s.data(), s.size()); }
  std::string finish() {
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_DigestFinal_ex(ctx_.get(), out, &len);
    return std::string(reinterpret_cast<const char*>(out), len);
  }

 private:
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx_;
};

}  // namespace

std::string body_hash(Canon canon, std::string_view body, std::optional<std::uint64_t> limit,
                      std::uint64_t* canonical_length) {
  Sha256 sha;
  BodyCanonicalizer c(
      canon, [&sha](std::string_view s) { sha.update(s); }, limit);
  c.update(body);
  c.finish();
  if (canonical_length) *canonical_length = c.length();
  return sha.finish();
}

std::string selected_headers(Canon canon, const std::vector<HeaderField>& fields,
                             const std::vector<std::string>& names) {
  // The n-th time a name comes up in h=, it takes the n-th field of that
  // name from the bottom. h= lists are short (a few dozen names at most),
  // so counting earlier occurrences beats building a map per message.
  std::string out;
  for (std::size_t i = 0; i < names.size(); ++i) {
    std::size_t skip = 0;
    for (std::size_t j = 0; j < i; ++j) skip += iequals(names[j], names[i]) ? 1 : 0;
    for (auto f = fields.rbegin(); f != fields.rend(); ++f) {
      if (!iequals(f->name, names[i])) continue;
      if (skip > 0) {
        --skip;
        continue;
      }
      canonicalize_header(canon, f->text, out);
      break;
    }
  }
  return out;
}

std::string header_hash_with(Canon canon, std::string_view selected,
                             std::string_view signature_field) {
  Sha256 sha;
  sha.update(selected);
  std::string buf;
  canonicalize_header(canon, signature_field, buf);
  buf.resize(buf.size() - 2);  // no CRLF after the signature field (§3.7)
  sha.update(buf);
  return sha.finish();
}

std::string header_hash(Canon canon, const std::vector<HeaderField>& fields,
                        const std::vector<std::string>& names, std::string_view signature_field) {
  return header_hash_with(canon, selected_headers(canon, fields, names), signature_field);
}

}  // namespace postern::mailauth::dkim
