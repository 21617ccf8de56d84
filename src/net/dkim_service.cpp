#include "net/dkim_service.hpp"

#include <asio/post.hpp>
#include <chrono>

namespace postern::net {
namespace {

std::int64_t now_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

DkimService::DkimService(std::shared_ptr<const mailauth::OutgoingSigner> signer,
                         std::size_t threads)
    : signer_(std::move(signer)), pool_(threads) {}

DkimService::~DkimService() {
  pool_.join();
}

void DkimService::set_signer(std::shared_ptr<const mailauth::OutgoingSigner> signer) {
  std::lock_guard lock(mu_);
  signer_ = std::move(signer);
}

std::shared_ptr<const mailauth::OutgoingSigner> DkimService::signer() const {
  std::lock_guard lock(mu_);
  return signer_;
}

bool DkimService::active() const {
  auto s = signer();
  return s && !s->empty();
}

void DkimService::sign(const std::string& message, std::string envelope_sender,
                       std::function<void(mailauth::OutgoingSignature)> done) {
  auto s = signer();
  if (!s || s->empty()) {
    done(mailauth::OutgoingSignature{});
    return;
  }
  if (message.size() <= kInlineBytes && !s->uses_rsa()) {
    done(s->sign(message, envelope_sender, now_seconds()));
    return;
  }
  asio::post(pool_, [s, &message, sender = std::move(envelope_sender), done = std::move(done)] {
    done(s->sign(message, sender, now_seconds()));
  });
}

}  // namespace postern::net
