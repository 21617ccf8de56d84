// DKIM signing cost (SPEC §1.7), to decide where signing runs: on the
// session's event loop or on a pool (see net/dkim_service.hpp).
#include <benchmark/benchmark.h>

#include "mailauth/dkim/signer.hpp"

namespace {

using postern::mailauth::dkim::Algorithm;
using postern::mailauth::dkim::generate_key;
using postern::mailauth::dkim::SigningKey;

std::string message_of(std::size_t body_size) {
  std::string m =
      "From: Alice <alice@example.com>\r\nTo: bob@example.org\r\nSubject: bench\r\n"
      "Date: Mon, 7 Dec 2026 16:00:00 +0000\r\nMessage-ID: <x@example.com>\r\n\r\n";
  while (m.size() < body_size) m += "The quick brown fox jumps over the lazy dog, again.  \r\n";
  return m;
}

void sign_with(benchmark::State& state, Algorithm a) {
  const SigningKey key{"example.com", "s", *generate_key(a, 2048).key};
  const std::string m = message_of(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) {
    benchmark::DoNotOptimize(postern::mailauth::dkim::sign(m, {&key, 1}, 1700000000));
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * m.size()));
}

void BM_SignEd25519(benchmark::State& state) {
  sign_with(state, Algorithm::ed25519_sha256);
}
void BM_SignRsa2048(benchmark::State& state) {
  sign_with(state, Algorithm::rsa_sha256);
}

BENCHMARK(BM_SignEd25519)->Arg(4096)->Arg(65536)->Arg(1 << 20);
BENCHMARK(BM_SignRsa2048)->Arg(4096)->Arg(65536)->Arg(1 << 20);

}  // namespace
