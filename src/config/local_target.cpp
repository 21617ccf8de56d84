#include "config/local_target.hpp"

#include "config/host_port.hpp"

namespace postern::config {

std::string LocalTarget::text() const {
  switch (kind) {
    case Kind::maildir:
      return "maildir";
    case Kind::lmtp_unix:
      return "lmtp:unix:" + socket.string();
    case Kind::lmtp_tcp:
      return "lmtp:" + (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" +
             std::to_string(port);
  }
  return "maildir";
}

std::optional<LocalTarget> parse_local_target(std::string_view text, std::string& why) {
  LocalTarget t;
  if (text == "maildir") return t;
  constexpr std::string_view kLmtp = "lmtp:";
  if (text.substr(0, kLmtp.size()) != kLmtp) {
    why = "it is neither \"maildir\" nor starts with \"lmtp:\"";
    return std::nullopt;
  }
  const std::string_view rest = text.substr(kLmtp.size());
  constexpr std::string_view kUnix = "unix:";
  if (rest.substr(0, kUnix.size()) == kUnix) {
    const std::string_view path = rest.substr(kUnix.size());
    if (path.empty()) {
      why = "the socket path after \"lmtp:unix:\" is missing";
      return std::nullopt;
    }
    t.kind = LocalTarget::Kind::lmtp_unix;
    t.socket = std::filesystem::path(std::string(path));
    return t;
  }
  auto hp = parse_host_port(rest, why);
  if (!hp) return std::nullopt;
  t.kind = LocalTarget::Kind::lmtp_tcp;
  t.host = hp->host;
  t.port = hp->port;
  return t;
}

}  // namespace postern::config
