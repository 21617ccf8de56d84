#include "mailauth/dkim/signer.hpp"

#include <fmt/format.h>

#include "mailauth/dkim/base64.hpp"
#include "mailauth/dkim/hashing.hpp"
#include "mailauth/dkim/message_view.hpp"

namespace postern::mailauth::dkim {
namespace {

// Header lines are kept under 78 characters (RFC 5322 §2.1.1) by folding
// before a tag, inside h= after a colon, and inside b=.
constexpr std::size_t fold_at = 76;

class FieldWriter {
 public:
  explicit FieldWriter(std::string start) : text_(std::move(start)), line_(text_.size()) {}
  // Appends `piece`, first folding when it would make the line too long.
  void add(std::string_view piece, bool space_before) {
    if (line_ + piece.size() + (space_before ? 1 : 0) > fold_at && line_ > 1) {
      text_ += "\r\n\t";
      line_ = 1;
    } else if (space_before) {
      text_ += ' ';
      ++line_;
    }
    text_ += piece;
    line_ += piece.size();
  }
  std::string& text() { return text_; }

 private:
  std::string text_;
  std::size_t line_;
};

}  // namespace

std::vector<std::string> fields_to_sign(std::string_view message) {
  return fields_to_sign(parse_message(message));
}

std::vector<std::string> fields_to_sign(const MessageView& view) {
  std::vector<std::string> names;
  for (std::string_view name : signed_fields) {
    std::size_t count = 0;
    for (const HeaderField& f : view.fields) count += iequals(f.name, name) ? 1 : 0;
    if (name == "from") ++count;  // over-signed (RFC 6376 §8.15)
    for (std::size_t i = 0; i < count; ++i) names.emplace_back(name);
  }
  return names;
}

SignResult sign(std::string_view message, std::span<const SigningKey> keys, std::int64_t now) {
  return sign(parse_message(message), keys, now);
}

SignResult sign(const MessageView& view, std::span<const SigningKey> keys, std::int64_t now) {
  SignResult result;
  if (keys.empty()) return result;
  const std::vector<std::string> names = fields_to_sign(view);
  // Every key uses relaxed canonicalisation and SHA-256, so the body is
  // hashed, and the signed header fields canonicalised, once for all.
  const std::string bh = base64_encode(body_hash(Canon::relaxed, view.body, std::nullopt));
  const std::string selected = selected_headers(Canon::relaxed, view.fields, names);
  std::string h;  // the h= and bh= tags, the same for every key
  for (std::size_t i = 0; i < names.size(); ++i) {
    h += names[i];
    h += i + 1 == names.size() ? ';' : ':';
  }
  for (const SigningKey& k : keys) {
    FieldWriter w("DKIM-Signature:");
    w.add(fmt::format("v=1; a={}; c=relaxed/relaxed;", to_string(k.key.algorithm())), true);
    w.add(fmt::format("d={};", k.domain), true);
    w.add(fmt::format("s={};", k.selector), true);
    w.add(fmt::format("t={};", now), true);
    // h= folds after a colon: each name with its separator is one piece.
    std::size_t pos = 0;
    for (std::size_t i = 0; i < names.size(); ++i) {
      const std::size_t len = names[i].size() + 1;
      const std::string_view piece = std::string_view(h).substr(pos, len);
      pos += len;
      if (i == 0) {
        w.add(fmt::format("h={}", piece), true);
      } else {
        w.add(piece, false);
      }
    }
    w.add(fmt::format("bh={};", bh), true);
    w.add("b=", true);
    // The hash covers this field with b= still empty (§3.7).
    const std::string hash = header_hash_with(Canon::relaxed, selected, w.text());
    const std::string signature = k.key.sign_digest(hash);
    if (signature.empty()) {
      result.header_fields.clear();
      result.error = fmt::format("the key for d={} s={} failed to sign", k.domain, k.selector);
      return result;
    }
    const std::string b = base64_encode(signature);
    for (std::size_t p = 0; p < b.size(); p += 64) {
      w.add(std::string_view(b).substr(p, 64), false);
    }
    result.header_fields += w.text();
    result.header_fields += "\r\n";
  }
  return result;
}

}  // namespace postern::mailauth::dkim
