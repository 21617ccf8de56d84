#include "mailauth/dkim/verifier.hpp"

#include <fmt/format.h>

#include <charconv>

#include "core/text.hpp"
#include "mailauth/dkim/base64.hpp"
#include "mailauth/dkim/hashing.hpp"
#include "mailauth/dkim/key_record.hpp"
#include "mailauth/dkim/message_view.hpp"
#include "mailauth/dkim/tag_list.hpp"

namespace postern::mailauth::dkim {
namespace {

std::string without_wsp(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c != ' ' && c != '\t' && c != '\r' && c != '\n') out.push_back(c);
  }
  return out;
}

template <typename T>
std::optional<T> number(std::string_view s) {
  T v{};
  // At most 12 digits for t= and x=, 76 bits for l= (§3.5); anything
  // longer is not a number we can use.
  if (s.empty() || s.size() > 18) return std::nullopt;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

Signature parse_signature(const HeaderField& f) {
  Signature s;
  s.field = f.text;
  const std::string_view value = f.value();
  const TagList tags = parse_tag_list(value);
  if (!tags.ok()) {
    s.error = "the signature is not a tag list: " + tags.error;
    return s;
  }
  for (const char* required : {"v", "a", "b", "bh", "d", "h", "s"}) {
    if (!tags.get(required)) {
      s.error = fmt::format("the signature has no {}= tag", required);
      return s;
    }
  }
  s.domain = ascii_lower(*tags.get("d"));
  s.selector = std::string(*tags.get("s"));
  if (*tags.get("v") != "1") {
    s.error = fmt::format("v={} is not a DKIM version this verifier knows", *tags.get("v"));
    return s;
  }
  const auto a = parse_algorithm(*tags.get("a"));
  if (!a) {
    // rsa-sha1 included: it never passes (RFC 8301 §3.1).
    s.error = fmt::format("a={} is not an algorithm accepted here", *tags.get("a"));
    return s;
  }
  s.algorithm = *a;
  if (auto c = tags.get("c")) {
    const std::size_t slash = c->find('/');
    const std::string_view head = c->substr(0, slash);
    const std::string_view body =
        slash == std::string_view::npos ? std::string_view("simple") : c->substr(slash + 1);
    auto canon = [](std::string_view v) -> std::optional<Canon> {
      if (v == "simple") return Canon::simple;
      if (v == "relaxed") return Canon::relaxed;
      return std::nullopt;
    };
    const auto hc = canon(head), bc = canon(body);
    if (!hc || !bc) {
      s.error = fmt::format("c={} is not a canonicalisation", *c);
      return s;
    }
    s.header_canon = *hc;
    s.body_canon = *bc;
  }
  std::size_t pos = 0;
  const std::string_view h = *tags.get("h");
  while (pos <= h.size()) {
    std::size_t end = h.find(':', pos);
    if (end == std::string_view::npos) end = h.size();
    s.headers.push_back(without_wsp(h.substr(pos, end - pos)));
    pos = end + 1;
  }
  bool from_signed = false;
  for (const std::string& name : s.headers) from_signed = from_signed || iequals(name, "from");
  if (!from_signed) {
    s.error = "h= does not include From (RFC 6376 §5.4)";
    return s;
  }
  auto bh = base64_decode(*tags.get("bh"));
  auto b = base64_decode(*tags.get("b"));
  if (!bh || !b) {
    s.error = "bh= or b= is not base64";
    return s;
  }
  s.body_hash = std::move(*bh);
  s.signature = std::move(*b);
  const std::string_view b_value = *tags.get("b");
  // Where b='s value sits in the field, from just after its "=" (white space
  // included, §3.7) to the end of the value.
  const std::size_t value_offset = static_cast<std::size_t>(b_value.data() - f.text.data());
  std::size_t eq = value_offset;
  while (eq > 0 && f.text[eq - 1] != '=') --eq;
  s.b_begin = eq;
  s.b_end = value_offset + b_value.size();
  s.identity = tags.get("i") ? std::string(*tags.get("i")) : "@" + s.domain;
  const std::size_t at = s.identity.rfind('@');
  const std::string i_domain =
      at == std::string::npos ? "" : ascii_lower(s.identity.substr(at + 1));
  if (at == std::string::npos || (i_domain != s.domain && !i_domain.ends_with("." + s.domain))) {
    s.error = fmt::format("i={} is not within d={}", s.identity, s.domain);
    return s;
  }
  if (auto l = tags.get("l")) {
    s.body_length = number<std::uint64_t>(*l);
    if (!s.body_length) {
      s.error = "l= is not a number";
      return s;
    }
  }
  if (auto t = tags.get("t")) {
    s.timestamp = number<std::int64_t>(*t);
    if (!s.timestamp) {
      s.error = "t= is not a number";
      return s;
    }
  }
  if (auto x = tags.get("x")) {
    s.expiration = number<std::int64_t>(*x);
    if (!s.expiration || (s.timestamp && *s.expiration < *s.timestamp)) {
      s.error = "x= is not a number after t=";
      return s;
    }
  }
  if (auto q = tags.get("q"); q && without_wsp(*q).find("dns/txt") == std::string::npos) {
    s.error = fmt::format("q={} names no key lookup method this verifier knows", *q);
  }
  return s;
}

Verdict result(Outcome o, std::string reason) {
  Verdict v;
  v.outcome = o;
  v.reason = std::move(reason);
  return v;
}

}  // namespace

std::string Signature::key_query_name() const {
  return key_record_name(selector, domain);
}

std::vector<Signature> find_signatures(std::string_view message) {
  std::vector<Signature> out;
  for (const HeaderField& f : parse_message(message).fields) {
    if (iequals(f.name, "DKIM-Signature")) out.push_back(parse_signature(f));
  }
  return out;
}

std::string_view to_string(Outcome o) {
  switch (o) {
    case Outcome::pass:
      return "pass";
    case Outcome::fail:
      return "fail";
    case Outcome::neutral:
      return "neutral";
    case Outcome::temperror:
      return "temperror";
    case Outcome::permerror:
      return "permerror";
  }
  return "permerror";
}

Verdict verify(std::string_view message, const Signature& sig, const KeyAnswer& key,
               std::int64_t now) {
  if (!sig.error.empty()) return result(Outcome::permerror, sig.error);
  if (sig.expiration && now > *sig.expiration) {
    return result(Outcome::fail, "the signature has expired (x=)");
  }
  // §6.1.2: the key.
  if (key.status == KeyAnswer::Status::temporary_failure) {
    return result(Outcome::temperror, "the key record could not be looked up");
  }
  if (key.status == KeyAnswer::Status::no_record || key.records.empty()) {
    return result(Outcome::permerror, fmt::format("no key record at {}", sig.key_query_name()));
  }
  if (key.records.size() > 1) {
    return result(Outcome::permerror, fmt::format("{} TXT records at {}; there must be one",
                                                  key.records.size(), sig.key_query_name()));
  }
  const KeyRecordResult rec = parse_key_record(key.records.front());
  if (!rec.record) return result(Outcome::permerror, rec.error);
  if (rec.record->revoked())
    return result(Outcome::permerror, "the key has been revoked (p= empty)");
  if (rec.record->key_type != sig.algorithm) {
    return result(Outcome::permerror,
                  fmt::format("the key is k={} but the signature a={}",
                              key_type(rec.record->key_type), to_string(sig.algorithm)));
  }
  if (!rec.record->allows_sha256 || !rec.record->allows_email) {
    return result(Outcome::permerror, "the key record does not allow sha256 e-mail signatures");
  }
  if (rec.record->strict_identity) {
    const std::string i_domain = ascii_lower(sig.identity.substr(sig.identity.rfind('@') + 1));
    if (i_domain != sig.domain) {
      return result(Outcome::permerror, "the key record (t=s) requires i= to be in d= itself");
    }
  }
  const PublicKeyResult pk = parse_public_key(rec.record->key_type, rec.record->public_key);
  if (!pk.key) return result(Outcome::permerror, pk.error);
  if (pk.key->algorithm() == Algorithm::rsa_sha256 && pk.key->bits() < min_rsa_bits) {
    return result(Outcome::permerror,
                  fmt::format("the RSA key has {} bits; under {} never passes (RFC 8301)",
                              pk.key->bits(), min_rsa_bits));
  }
  // §6.1.3: body hash, then header hash and signature.
  const MessageView view = parse_message(message);
  std::uint64_t canonical_length = 0;
  const std::string bh = body_hash(sig.body_canon, view.body, sig.body_length, &canonical_length);
  Verdict v;
  v.testing = rec.record->testing;
  v.key_bits = pk.key->bits();
  if (sig.body_length && *sig.body_length > canonical_length) {
    v.outcome = Outcome::permerror;
    v.reason = "l= is longer than the body";
    return v;
  }
  if (sig.body_length) v.unsigned_body_bytes = canonical_length - *sig.body_length;
  if (bh != sig.body_hash) {
    v.outcome = Outcome::fail;
    v.reason = "body hash did not verify (the body was changed)";
    return v;
  }
  std::string field(sig.field.substr(0, sig.b_begin));
  field.append(sig.field.substr(sig.b_end));
  const std::string hash = header_hash(sig.header_canon, view.fields, sig.headers, field);
  if (!pk.key->verify_digest(hash, sig.signature)) {
    v.outcome = Outcome::fail;
    v.reason = "signature did not verify (a signed header field was changed)";
    return v;
  }
  v.outcome = Outcome::pass;
  return v;
}

}  // namespace postern::mailauth::dkim
