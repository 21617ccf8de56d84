#include "mailauth/author_domain.hpp"

#include "mailauth/dkim/message_view.hpp"

namespace postern::mailauth {
namespace {

std::string lowercase(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

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

std::string address_domain(std::string_view address) {
  const std::size_t at = address.rfind('@');
  if (at == std::string_view::npos) return "";
  std::string_view d = address.substr(at + 1);
  while (!d.empty() && d.front() == ' ') d.remove_prefix(1);
  const std::size_t end = d.find_first_of(" >,;");
  if (end != std::string_view::npos) d = d.substr(0, end);
  if (d.ends_with('.')) d.remove_suffix(1);
  return lowercase(d);
}

std::vector<std::string> from_domains(std::string_view message) {
  std::vector<std::string> out;
  for (const dkim::HeaderField& f : dkim::parse_message(message).fields) {
    if (dkim::iequals(f.name, "From")) out.push_back(first_mailbox_domain(f.value()));
  }
  return out;
}

}  // namespace postern::mailauth
