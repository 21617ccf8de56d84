// The I/O edge of the inbound checks (SPEC §1.8, docs/inbound.md): runs the
// pure cores of src/inbound/ against the resolver, on the connection's
// event loop, without holding a thread while DNS answers are awaited.
//
//  - check_dnsbl: at connect, before the banner, every [inbound] dnsbl list
//    is asked at once (A for the listing, TXT for its reason), bounded by
//    kDnsblTimeout in all; a list that does not answer in time is skipped
//    (logged), never a reason to refuse.
//  - verify_message: at the end of DATA (SPF, DKIM and DMARC together; see
//    inbound/verification.hpp for why then), bounded by kVerifyTimeout.
#pragma once

#include <asio/awaitable.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "core/reply.hpp"
#include "inbound/verification.hpp"
#include "mailauth/dns_answer.hpp"
#include "net/inbound_service.hpp"

namespace postern::net {

// A listed client waits at most this long for its banner; a blocklist
// answers a local resolver in milliseconds.
inline constexpr std::chrono::seconds kDnsblTimeout{3};
// All the DNS of one message's checks together; past it, what is missing
// counts as a temporary failure (temperror). A client waits up to 10
// minutes for the reply to DATA (RFC 5321 §4.5.3.2.6).
inline constexpr std::chrono::seconds kVerifyTimeout{10};
// DKIM hashing of messages up to this size runs on the event loop (about
// 0.15 ms per signature at 430 MB/s, net/dkim_service.hpp); larger ones go
// to the inbound pool.
inline constexpr std::size_t kInlineVerifyBytes = 64 * 1024;

// Asks every question at once; answers in the same order. Each one is
// temporary_failure if not answered by `deadline`.
asio::awaitable<std::vector<mailauth::Answer>> ask_all(
    inbound::AsyncDns& dns, const std::vector<mailauth::Question>& questions,
    std::chrono::steady_clock::time_point deadline);

// The 554 5.7.1 for a client that one of `lists` lists, or nullopt. Logs
// each listing, and each list that failed to answer.
asio::awaitable<std::optional<Reply>> check_dnsbl(InboundService& service,
                                                  const std::string& client_ip,
                                                  const std::vector<std::string>& lists,
                                                  const std::string& session_id);

// Runs the checks of one message (inbound/verification.hpp) to the end;
// `input.message` must stay alive until it returns. Logs nothing: the
// caller logs the outcome with the session's fields.
asio::awaitable<inbound::Outcome> verify_message(InboundService& service, inbound::Input& input,
                                                 bool enforce);

}  // namespace postern::net
