// DKIM signing for the drivers (SMTP connections, the sendmail control
// socket), kept off the event loop when it would hold it too long.
//
// Where signing runs, decided from measurements (bench/micro
// dkim_sign_bench, CPU time on the 2-core development machine): a 4 KiB
// message costs 58 us with Ed25519 and 366 us with RSA-2048, a 64 KiB one
// 193 us with Ed25519; the body goes through canonicalisation and SHA-256
// at about 430 MB/s (a 36 MB message: ~85 ms). There is one event loop
// per core, so a pool adds no throughput, only fairness; handing a message
// over costs two thread switches, which for a small Ed25519-signed message
// is about what the signing costs. (Ed25519 signing has since become
// cheaper: libsodium instead of EVP_DigestSign, 852,000 -> 446,000
// instructions per 4 KiB message, docs/dkim.md; the choice stands.) So
// messages up to kInlineBytes signed
// with Ed25519 keys only are signed on the loop (at most ~0.2 ms); with an
// RSA key, or larger, they go to the pool, so the other sessions of the
// loop do not wait behind them.
#pragma once

#include <asio/thread_pool.hpp>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "mailauth/outgoing_signer.hpp"

namespace postern::net {

class DkimService {
 public:
  static constexpr std::size_t kInlineBytes = 64 * 1024;

  DkimService(std::shared_ptr<const mailauth::OutgoingSigner> signer, std::size_t threads);
  ~DkimService();

  // Replaces the keys (reload); messages being signed keep the old ones.
  void set_signer(std::shared_ptr<const mailauth::OutgoingSigner> signer);
  bool active() const;

  // Signs `message` (which must stay alive until `done` runs) for
  // `envelope_sender`. `done` runs on this thread when the work is cheap,
  // else on a pool thread.
  void sign(const std::string& message, std::string envelope_sender,
            std::function<void(mailauth::OutgoingSignature)> done);

 private:
  std::shared_ptr<const mailauth::OutgoingSigner> signer() const;

  mutable std::mutex mu_;
  std::shared_ptr<const mailauth::OutgoingSigner> signer_;
  asio::thread_pool pool_;
};

}  // namespace postern::net
