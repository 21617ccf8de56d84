#include "dovecot/userdb_dialogue.hpp"

#include <fmt/format.h>

namespace postern::dovecot {

UserdbDialogue::UserdbDialogue(std::string user, unsigned request_id)
    : user_(std::move(user)), id_(request_id) {
  // Both lines at once: the auth-master server does not wait for its own
  // VERSION to be read before taking requests.
  output_ = fmt::format("VERSION\t1\t0\nUSER\t{}\t{}\tservice=smtp\n", id_, tab_escape(user_));
}

std::string UserdbDialogue::take_output() {
  std::string out = std::move(output_);
  output_.clear();
  return out;
}

void UserdbDialogue::feed(std::string_view bytes) {
  if (done()) return;
  reader_.feed(bytes);
  while (!done()) {
    bool too_long = false;
    auto line = reader_.next_line(too_long);
    if (too_long) return finish(UserVerdict::temporary, "protocol error: line too long");
    if (!line) return;
    on_line(*line);
  }
}

void UserdbDialogue::peer_closed() {
  if (!done()) finish(UserVerdict::temporary, "connection closed before the answer");
}

void UserdbDialogue::on_line(std::string_view line) {
  const auto f = split_fields(line);
  if (f[0] == "VERSION") {
    if (f.size() < 2 || f[1] != "1") {
      return finish(UserVerdict::temporary, "unsupported auth-master protocol version");
    }
    version_ok_ = true;
    return;
  }
  if (!version_ok_) return finish(UserVerdict::temporary, "protocol error: no VERSION line");
  if (f.size() < 2 || f[1] != std::to_string(id_)) return;  // SPID, or not ours
  if (f[0] == "USER") return finish(UserVerdict::exists, "");
  if (f[0] == "NOTFOUND") return finish(UserVerdict::not_found, "");
  if (f[0] == "FAIL") {
    std::string reason;
    for (std::size_t i = 2; i < f.size(); ++i) {
      if (f[i].substr(0, 7) == "reason=") reason = tab_unescape(f[i].substr(7));
    }
    return finish(UserVerdict::temporary,
                  reason.empty() ? "userdb lookup failed in Dovecot" : std::move(reason));
  }
}

void UserdbDialogue::finish(UserVerdict verdict, std::string reason) {
  verdict_ = verdict;
  reason_ = std::move(reason);
}

}  // namespace postern::dovecot
