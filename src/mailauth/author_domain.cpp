#include "mailauth/author_domain.hpp"

#include "core/text.hpp"
#include "mailauth/dkim/message_view.hpp"

namespace postern::mailauth {
namespace {

// The value with comments (nested, RFC 5322 §3.2.2) and quoted strings
// (§3.2.4) blanked out, folding removed.
std::string strip_comments_and_quotes(std::string_view v) {
  std::string out;
  int depth = 0;
  bool quoted = false;
  for (std::size_t i = 0; i < v.size(); ++i) {
    const char c = v[i];
    if (c == '\\' && (quoted || depth > 0)) {
      ++i;
      continue;
    }
    if (quoted) {
      if (c == '"') quoted = false;
      continue;
    }
    if (c == '(') {
      ++depth;
      continue;
    }
    if (depth > 0) {
      if (c == ')') --depth;
      continue;
    }
    if (c == '"') {
      quoted = true;
      out.push_back(' ');
      continue;
    }
    out.push_back(c == '\r' || c == '\n' || c == '\t' ? ' ' : c);
  }
  return out;
}

std::string first_mailbox_domain(std::string_view value) {
  const std::string v = strip_comments_and_quotes(value);
  std::string_view addr = v;
  if (const std::size_t lt = addr.find('<'); lt != std::string_view::npos) {
    addr = addr.substr(lt + 1);
    addr = addr.substr(0, addr.find('>'));
  } else {
    // A group ("team: a@x, b@y;") or a bare addr-spec list.
    if (const std::size_t colon = addr.find(':'); colon != std::string_view::npos) {
      addr = addr.substr(colon + 1);
    }
    addr = addr.substr(0, addr.find_first_of(",;"));
  }
  return address_domain(addr);
}

}  // namespace

std::vector<std::string> mailbox_domains(std::string_view field_value) {
  const std::string v = strip_comments_and_quotes(field_value);
  std::vector<std::string> out;
  const auto take = [&out](std::string_view item) {
    std::string_view addr = item;
    if (const std::size_t lt = addr.find('<'); lt != std::string_view::npos) {
      addr = addr.substr(lt + 1);
      addr = addr.substr(0, addr.find('>'));
      // obs-route (RFC 5322 §4.4): "<@relay1,@relay2:user@domain>".
      if (const std::size_t colon = addr.rfind(':'); colon != std::string_view::npos) {
        addr = addr.substr(colon + 1);
      }
    } else if (const std::size_t colon = addr.find(':'); colon != std::string_view::npos) {
      addr = addr.substr(colon + 1);  // the first member of a group
    }
    if (const std::size_t semi = addr.find(';'); semi != std::string_view::npos) {
      addr = addr.substr(0, semi);  // the end of a group
    }
    while (!addr.empty() && (addr.front() == ' ' || addr.front() == '\t')) addr.remove_prefix(1);
    while (!addr.empty() && (addr.back() == ' ' || addr.back() == '\t')) addr.remove_suffix(1);
    if (addr.empty()) return;  // an empty group, or a stray comma
    out.push_back(address_domain(addr));
  };
  int angle = 0;
  std::size_t start = 0;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (v[i] == '<') ++angle;
    if (v[i] == '>' && angle > 0) --angle;
    if (v[i] == ',' && angle == 0) {
      take(std::string_view(v).substr(start, i - start));
      start = i + 1;
    }
  }
  take(std::string_view(v).substr(start));
  return out;
}

std::string address_domain(std::string_view address) {
  const std::size_t at = address.rfind('@');
  if (at == std::string_view::npos) return "";
  std::string_view d = address.substr(at + 1);
  while (!d.empty() && d.front() == ' ') d.remove_prefix(1);
  const std::size_t end = d.find_first_of(" >,;");
  if (end != std::string_view::npos) d = d.substr(0, end);
  if (d.ends_with('.')) d.remove_suffix(1);
  return ascii_lower(d);
}

std::vector<std::string> from_domains(std::string_view message) {
  return from_domains(dkim::parse_message(message));
}

std::vector<std::string> from_domains(const dkim::MessageView& view) {
  std::vector<std::string> out;
  for (const dkim::HeaderField& f : view.fields) {
    if (dkim::iequals(f.name, "From")) out.push_back(first_mailbox_domain(f.value()));
  }
  return out;
}

}  // namespace postern::mailauth
