#include "micro/session_driver.hpp"

#include <chrono>
#include <string>
#include <variant>
#include <vector>

namespace postern::bench {
namespace {

constexpr std::string_view kQueued = "250 2.0.0 Ok: queued as ";

smtp::SessionSettings relay_settings() {
  smtp::SessionSettings s;
  s.hostname = "mx.example.com";
  s.listener = "127.0.0.1:25";
  s.role = Role::relay;
  s.tls = TlsMode::none;
  s.tls_available = false;
  s.session_id = "B1";
  s.client_ip = "192.0.2.7";
  s.client_port = 40000;
  // A fixed time: the Received header is the same on every run.
  s.now = std::chrono::system_clock::time_point(std::chrono::seconds(1700000000));
  return s;
}

}  // namespace

SessionDriver::SessionDriver()
    : directory_({"example.com"}, {"alice@example.com"}), settings_(relay_settings()) {}

void SessionDriver::open() {
  session_ = std::make_unique<smtp::ServerSession>(settings_, directory_);
  session_->start();
  drain();
  session_->feed("EHLO client.example.org\r\n");
  drain();
}

bool SessionDriver::transaction(std::string_view data) {
  session_->feed(
      "MAIL FROM:<sender@example.org> SIZE=4096 BODY=8BITMIME\r\n"
      "RCPT TO:<alice@example.com>\r\n"
      "DATA\r\n");
  std::size_t queued = drain();
  session_->feed(data);
  queued += drain();
  return queued == 1;
}

void SessionDriver::close() {
  session_->feed("QUIT\r\n");
  drain();
  session_.reset();
}

bool SessionDriver::deliver(std::string_view data) {
  open();
  const bool ok = transaction(data);
  close();
  return ok;
}

std::size_t SessionDriver::drain() {
  std::size_t queued = 0;
  for (;;) {
    std::vector<smtp::Action> actions = session_->take_actions();
    if (actions.empty()) return queued;
    for (smtp::Action& a : actions) {
      if (const auto* r = std::get_if<smtp::SendReply>(&a)) {
        if (std::string_view(r->bytes).starts_with(kQueued)) ++queued;
      } else if (const auto* c = std::get_if<smtp::CommitMessage>(&a)) {
        committed_bytes_ += c->data.size();
        session_->message_committed("Q1");
      }
    }
  }
}

}  // namespace postern::bench
