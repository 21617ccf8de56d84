#include "mailauth/dkim/hashing.hpp"

#include <openssl/evp.h>

#include <map>
#include <memory>

namespace postern::mailauth::dkim {
namespace {

class Sha256 {
 public:
  Sha256() : ctx_(EVP_MD_CTX_new(), EVP_MD_CTX_free) {
    EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr);
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

std::string lowercase(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

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

std::string header_hash(Canon canon, const std::vector<HeaderField>& fields,
                        const std::vector<std::string>& names, std::string_view signature_field) {
  // Fields of each name, top to bottom; selection takes them from the back.
  std::map<std::string, std::vector<const HeaderField*>> by_name;
  for (const HeaderField& f : fields) by_name[lowercase(f.name)].push_back(&f);
  Sha256 sha;
  std::string buf;
  for (const std::string& name : names) {
    auto it = by_name.find(lowercase(name));
    if (it == by_name.end() || it->second.empty()) continue;
    buf.clear();
    canonicalize_header(canon, it->second.back()->text, buf);
    it->second.pop_back();
    sha.update(buf);
  }
  buf.clear();
  canonicalize_header(canon, signature_field, buf);
  buf.resize(buf.size() - 2);  // no CRLF after the signature field (§3.7)
  sha.update(buf);
  return sha.finish();
}

}  // namespace postern::mailauth::dkim
