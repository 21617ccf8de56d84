#include "auth/throttle.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <algorithm>
#include <array>

namespace postern::auth {
namespace {

// A delay longer than this only ties up the client's connection; the
// lock-out does the rest.
constexpr std::chrono::milliseconds kMaxDelay{5000};

// Indexes of check_request()'s counters.
constexpr std::size_t kIp = 0;
constexpr std::size_t kUser = 1;
constexpr std::size_t kUserNetwork = 2;
constexpr std::size_t kKnown = 3;

}  // namespace

std::string client_network(std::string_view ip) {
  const std::string text(ip);
  std::array<unsigned char, 16> bytes{};
  char out[INET6_ADDRSTRLEN] = {};
  if (::inet_pton(AF_INET, text.c_str(), bytes.data()) == 1) {
    bytes[3] = 0;
    ::inet_ntop(AF_INET, bytes.data(), out, sizeof out);
    return std::string(out) + "/24";
  }
  if (::inet_pton(AF_INET6, text.c_str(), bytes.data()) == 1) {
    std::fill(bytes.begin() + 8, bytes.end(), 0);
    ::inet_ntop(AF_INET6, bytes.data(), out, sizeof out);
    return std::string(out) + "/64";
  }
  return text;
}

AuthThrottle::AuthThrottle(ThrottlePolicy policy) : policy_(policy) {}

limits::Counter AuthThrottle::ip_counter(std::string_view ip) const {
  return {fmt::format("authfail:ip:{}:{}", policy_.per_ip.window.count(), ip), policy_.per_ip};
}
limits::Counter AuthThrottle::user_counter(std::string_view user) const {
  return {fmt::format("authfail:user:{}:{}", policy_.per_user.window.count(), user),
          policy_.per_user};
}
limits::Counter AuthThrottle::user_network_counter(std::string_view user,
                                                   const std::string& net) const {
  return {fmt::format("authfail:usernet:{}:{}:{}", policy_.per_user.window.count(), user, net),
          policy_.per_user};
}
limits::Counter AuthThrottle::known_counter(std::string_view user, const std::string& net) const {
  // Only "any at all" matters; the count is there to share the machinery.
  return {fmt::format("authgood:{}:{}", user, net),
          limits::Rate{limits::kMaxCount, policy_.known_network_memory}};
}

limits::Request AuthThrottle::check_request(std::string_view ip, std::string_view user) const {
  const std::string net = client_network(ip);
  limits::Request r;
  r.op = limits::Op::peek;
  r.counters = {ip_counter(ip), user_counter(user), user_network_counter(user, net),
                known_counter(user, net)};
  return r;
}

AuthThrottle::Verdict AuthThrottle::judge(const limits::Outcome& counts) const {
  Verdict v;
  if (counts.counters.size() != 4) return v;
  const std::uint64_t ip = counts.counters[kIp].count;
  const bool known = counts.counters[kKnown].count > 0;
  // On a network the user is known on, strangers' guesses elsewhere do not
  // lock the user out; the network's own failures still do.
  const std::uint64_t user =
      known ? counts.counters[kUserNetwork].count : counts.counters[kUser].count;
  if (ip >= policy_.per_ip.count) {
    v.refused = true;
    v.why = "address";
  } else if (user >= policy_.per_user.count) {
    v.refused = true;
    v.why = known ? "user_network" : "user";
  }
  const std::uint64_t failures = std::max(ip, user);
  if (failures >= policy_.free_failures) {
    const auto extra = static_cast<long>(failures - policy_.free_failures + 1);
    v.delay = std::min(kMaxDelay, policy_.delay_step * extra);
  }
  return v;
}

limits::Request AuthThrottle::failure_request(std::string_view ip, std::string_view user) const {
  limits::Request r;
  r.op = limits::Op::add;
  r.counters = {ip_counter(ip), user_counter(user), user_network_counter(user, client_network(ip))};
  return r;
}

std::vector<limits::Request> AuthThrottle::success_requests(std::string_view ip,
                                                            std::string_view user) const {
  const std::string net = client_network(ip);
  limits::Request clear;
  clear.op = limits::Op::clear;
  clear.counters = {user_network_counter(user, net)};
  limits::Request known;
  known.op = limits::Op::add;
  known.counters = {known_counter(user, net)};
  return {std::move(clear), std::move(known)};
}

}  // namespace postern::auth
