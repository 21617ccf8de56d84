#include "dovecot/auth_client_dialogue.hpp"

#include <fmt/format.h>
#include <string.h>  // explicit_bzero

#include <algorithm>

#include "sasl/sasl.hpp"

namespace postern::dovecot {
namespace {

// The auth-client protocol major version we speak; a different major is a
// protocol we do not know (Dovecot's auth-client-interface.h).
constexpr std::string_view kMajor = "1";

void wipe(std::string& s) {
  if (!s.empty()) explicit_bzero(s.data(), s.size());
  s.clear();
}

bool has_flag(const std::vector<std::string_view>& f, std::string_view name) {
  return std::find(f.begin() + 2, f.end(), name) != f.end();
}

std::string field_value(const std::vector<std::string_view>& f, std::string_view key) {
  for (std::size_t i = 2; i < f.size(); ++i) {
    if (f[i].size() > key.size() && f[i].substr(0, key.size()) == key && f[i][key.size()] == '=') {
      return tab_unescape(f[i].substr(key.size() + 1));
    }
  }
  return {};
}

}  // namespace

AuthClientDialogue::AuthClientDialogue(AuthRequest request)
    : request_(std::move(request)), user_(request_.user) {
  // The client's half of the handshake goes at once; AUTH waits for DONE so
  // that we know Dovecot offers the mechanism.
  output_ = fmt::format("VERSION\t{}\t2\nCPID\t{}\n", kMajor, request_.client_pid);
}

AuthClientDialogue::~AuthClientDialogue() {
  wipe(request_.password);
  wipe(output_);
}

std::string AuthClientDialogue::take_output() {
  std::string out = std::move(output_);
  output_.clear();
  return out;
}

void AuthClientDialogue::feed(std::string_view bytes) {
  if (done()) return;
  reader_.feed(bytes);
  while (!done()) {
    bool too_long = false;
    auto line = reader_.next_line(too_long);
    if (too_long) return finish(AuthVerdict::temporary, "protocol error: line too long");
    if (!line) return;
    on_line(*line);
  }
}

void AuthClientDialogue::peer_closed() {
  if (done()) return;
  finish(AuthVerdict::temporary, step_ == Step::handshake ? "connection closed during the handshake"
                                                          : "connection closed before the answer");
}

void AuthClientDialogue::on_line(std::string_view line) {
  const auto f = split_fields(line);
  if (step_ == Step::handshake) return on_handshake_line(f);
  on_reply_line(f);
}

void AuthClientDialogue::on_handshake_line(const std::vector<std::string_view>& f) {
  if (f[0] == "VERSION") {
    if (f.size() < 2 || f[1] != kMajor) {
      return finish(AuthVerdict::temporary,
                    fmt::format("unsupported auth protocol version {}",
                                f.size() < 2 ? "(none)" : std::string(f[1])));
    }
    version_ok_ = true;
  } else if (!version_ok_) {
    // The first line must be VERSION: anything else is not Dovecot.
    return finish(AuthVerdict::temporary, "protocol error: no VERSION line");
  } else if (f[0] == "MECH" && f.size() >= 2) {
    mechanisms_.emplace_back(f[1]);
  } else if (f[0] == "DONE") {
    if (std::find(mechanisms_.begin(), mechanisms_.end(), request_.mechanism) ==
        mechanisms_.end()) {
      // A configuration mismatch on Dovecot's side, not the client's fault.
      return finish(AuthVerdict::temporary,
                    fmt::format("Dovecot does not offer {} (auth_mechanisms)", request_.mechanism));
    }
    step_ = Step::waiting;
    send_auth();
  }
  // SPID, CUID, COOKIE and lines a later version adds are not needed.
}

void AuthClientDialogue::send_auth() {
  std::string line =
      fmt::format("AUTH\t{}\t{}\tservice=smtp\tnologin", request_.request_id, request_.mechanism);
  if (!request_.local_ip.empty()) line += "\tlip=" + tab_escape(request_.local_ip);
  if (!request_.client_ip.empty()) line += "\trip=" + tab_escape(request_.client_ip);
  if (request_.secured) line += "\tsecured";
  if (request_.mechanism == "PLAIN") {
    // RFC 4616 §2: [authzid] NUL authcid NUL passwd, as the client sent it
    // (the session already refused an authzid other than the authcid).
    std::string plain;
    plain.reserve(request_.user.size() + request_.password.size() + 2);
    plain += '\0';
    plain += request_.user;
    plain += '\0';
    plain += request_.password;
    line += "\tresp=" + sasl::base64_encode(plain);
    wipe(plain);
    wipe(request_.password);
  }
  // LOGIN is server-first: Dovecot asks for the name, then the password.
  output_ += line;
  output_ += '\n';
  wipe(line);
}

void AuthClientDialogue::send_continuation(std::string_view challenge) {
  (void)challenge;  // "Username:" then "Password:"; the order is the mechanism
  if (request_.mechanism != "LOGIN" || continuations_ >= 2) {
    return finish(AuthVerdict::temporary, "protocol error: unexpected CONT");
  }
  std::string answer = continuations_ == 0 ? request_.user : request_.password;
  output_ += fmt::format("CONT\t{}\t{}\n", request_.request_id, sasl::base64_encode(answer));
  wipe(answer);
  if (continuations_ == 1) wipe(request_.password);
  ++continuations_;
}

void AuthClientDialogue::on_reply_line(const std::vector<std::string_view>& f) {
  if (f.size() < 2 || f[1] != std::to_string(request_.request_id)) return;  // not ours
  if (f[0] == "OK") {
    if (auto name = field_value(f, "user"); !name.empty()) user_ = std::move(name);
    return finish(AuthVerdict::ok, "");
  }
  if (f[0] == "FAIL") {
    std::string reason = field_value(f, "reason");
    // "temp": the passdb could not be asked (database down); 2.3 also
    // says code=temp_fail. Both mean "try again later", never 535.
    const bool temp = has_flag(f, "temp") || field_value(f, "code") == "temp_fail";
    if (reason.empty()) reason = temp ? "temporary failure in Dovecot" : "invalid credentials";
    return finish(temp ? AuthVerdict::temporary : AuthVerdict::invalid, std::move(reason));
  }
  if (f[0] == "CONT") return send_continuation(f.size() > 2 ? f[2] : "");
}

void AuthClientDialogue::finish(AuthVerdict verdict, std::string reason) {
  step_ = Step::finished;
  verdict_ = verdict;
  reason_ = std::move(reason);
  wipe(request_.password);
}

}  // namespace postern::dovecot
