#include "mailauth/dkim/key_record.hpp"

#include <fmt/format.h>

#include "mailauth/dkim/base64.hpp"
#include "mailauth/dkim/tag_list.hpp"

namespace postern::mailauth::dkim {
namespace {

// Items of a colon-separated list (h=, s=, t=), white space trimmed.
std::vector<std::string_view> colon_list(std::string_view v) {
  std::vector<std::string_view> out;
  std::size_t pos = 0;
  while (pos <= v.size()) {
    std::size_t end = v.find(':', pos);
    if (end == std::string_view::npos) end = v.size();
    std::string_view item = v.substr(pos, end - pos);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t' || item.front() == '\r' ||
                             item.front() == '\n')) {
      item.remove_prefix(1);
    }
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t' || item.back() == '\r' ||
                             item.back() == '\n')) {
      item.remove_suffix(1);
    }
    out.push_back(item);
    pos = end + 1;
  }
  return out;
}

}  // namespace

KeyRecordResult parse_key_record(std::string_view txt) {
  KeyRecordResult r;
  const TagList tags = parse_tag_list(txt);
  if (!tags.ok()) {
    r.error = "the key record is not a tag list: " + tags.error;
    return r;
  }
  KeyRecord rec;
  // v= is optional, but when present it must come first and be DKIM1.
  if (auto v = tags.get("v")) {
    if (tags.tags.front().name != "v" || *v != "DKIM1") {
      r.error = "v= must be the first tag and say DKIM1";
      return r;
    }
  }
  if (auto k = tags.get("k")) {
    auto type = parse_key_type(*k);
    if (!type) {
      r.error = fmt::format("k={} is not a key type this verifier knows (rsa, ed25519)", *k);
      return r;
    }
    rec.key_type = *type;
  }
  if (auto h = tags.get("h")) {
    rec.allows_sha256 = false;
    for (auto item : colon_list(*h)) rec.allows_sha256 = rec.allows_sha256 || item == "sha256";
  }
  if (auto s = tags.get("s")) {
    rec.allows_email = false;
    for (auto item : colon_list(*s))
      rec.allows_email = rec.allows_email || item == "*" || item == "email";
  }
  if (auto t = tags.get("t")) {
    for (auto item : colon_list(*t)) {
      if (item == "y") rec.testing = true;
      if (item == "s") rec.strict_identity = true;
    }
  }
  const auto p = tags.get("p");
  if (!p) {
    r.error = "the key record has no p= tag";
    return r;
  }
  auto decoded = base64_decode(*p);
  if (!decoded) {
    r.error = "the p= value is not base64 (a quote or a split in the wrong place?)";
    return r;
  }
  for (char c : *p) {
    if (c != ' ' && c != '\t' && c != '\r' && c != '\n') rec.public_key_base64.push_back(c);
  }
  rec.public_key = std::move(*decoded);
  r.record = std::move(rec);
  return r;
}

std::string key_record_name(std::string_view selector, std::string_view domain) {
  return fmt::format("{}._domainkey.{}", selector, domain);
}

std::vector<std::string> split_txt_strings(std::string_view record) {
  constexpr std::size_t max_string = 255;  // RFC 1035 §3.3.14 character-string
  std::vector<std::string> out;
  std::string current;
  // Cut after "; " separators first (each piece is then a run of whole
  // tags), and a long p= value into 255-octet pieces.
  std::size_t pos = 0;
  while (pos < record.size()) {
    std::size_t end = record.find("; ", pos);
    end = end == std::string_view::npos ? record.size() : end + 2;
    std::string_view piece = record.substr(pos, end - pos);
    pos = end;
    if (current.size() + piece.size() <= max_string) {
      current.append(piece);
      continue;
    }
    if (!current.empty()) out.push_back(std::move(current));
    current.clear();
    while (piece.size() > max_string) {
      out.emplace_back(piece.substr(0, max_string));
      piece.remove_prefix(max_string);
    }
    current.assign(piece);
  }
  if (!current.empty() || out.empty()) out.push_back(std::move(current));
  return out;
}

std::string zone_file_line(std::string_view selector, std::string_view domain,
                           std::string_view record) {
  std::string line = fmt::format("{}. 3600 IN TXT (", key_record_name(selector, domain));
  for (const std::string& s : split_txt_strings(record)) line += fmt::format(" \"{}\"", s);
  line += " )";
  return line;
}

}  // namespace postern::mailauth::dkim
