// Slows and then refuses repeated AUTH failures (SPEC §1.3, §1.10), per
// client address and per user, so a password cannot be guessed at network
// speed. Pure: it says which shared counters an attempt reads and changes
// (limits::Request, answered by a state backend, in-process or Redis, so a
// lock-out earned on one node holds on every node) and what their counts
// mean. docs/limits.md, "AUTH throttling", explains the design.
//
// Against victim lock-out: a per-user lock-out that anyone can trigger
// would let a stranger lock the real user out by typing ten wrong
// passwords. So the user's count is kept twice: for the user as a whole,
// and per (user, client network) — the /24 of an IPv4 client, the /64 of an
// IPv6 one. A network from which the user logged in successfully in the
// last 30 days is "known" for that user: there only the (user, network)
// count can lock the user out. Everywhere else the user's whole count
// does. Guesses spread over many addresses (a botnet, case variants of the
// name) still add up to one user's count; the user's own clients keep
// working. The per-address limit applies everywhere.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "limits/counters.hpp"
#include "limits/rate.hpp"

namespace postern::auth {

struct ThrottlePolicy {
  limits::Rate per_ip{10, std::chrono::minutes(15)};    // [limits] auth_failures_per_ip
  limits::Rate per_user{10, std::chrono::minutes(15)};  // [limits] auth_failures_per_user
  std::size_t free_failures = 3;                        // failures before delays start
  std::chrono::milliseconds delay_step{500};            // added delay per further failure
  // How long a successful login makes its client network known for the user.
  std::chrono::seconds known_network_memory{30 * 24 * 3600};
};

// The network a client's address belongs to for the per-(user, network)
// count: "192.0.2.0/24", "2001:db8:1:2::/64". Anything unparsable is its
// own network.
std::string client_network(std::string_view ip);

class AuthThrottle {
 public:
  explicit AuthThrottle(ThrottlePolicy policy = {});

  // `user` is the canonical name (auth::normalize_address): "Dave@LOCAL.test"
  // and "dave@local.test" are one user with one count.
  limits::Request check_request(std::string_view ip, std::string_view user) const;

  struct Verdict {
    bool refused = false;                // answer 454 without checking
    std::chrono::milliseconds delay{0};  // wait this long before answering a failure
    std::string_view why;                // "address", "user", "user_network"; empty if not refused
  };
  // What the answer to check_request() means.
  Verdict judge(const limits::Outcome& counts) const;

  // A wrong password: counted for the address, the user and (user, network).
  limits::Request failure_request(std::string_view ip, std::string_view user) const;
  // A success: the (user, network) count restarts and the network becomes
  // known for the user. The address keeps its count (one address that tries
  // many users and hits one stays throttled), and so does the user's whole
  // count (the guesses from elsewhere did happen).
  std::vector<limits::Request> success_requests(std::string_view ip, std::string_view user) const;

  const ThrottlePolicy& policy() const { return policy_; }

 private:
  limits::Counter ip_counter(std::string_view ip) const;
  limits::Counter user_counter(std::string_view user) const;
  limits::Counter user_network_counter(std::string_view user, const std::string& net) const;
  limits::Counter known_counter(std::string_view user, const std::string& net) const;

  ThrottlePolicy policy_;
};

}  // namespace postern::auth
