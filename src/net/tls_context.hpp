// Server TLS contexts. A context is immutable once built; SIGHUP builds a new
// one and new sessions use it, so certificates change without dropping
// sessions in progress.
#pragma once

#include <asio/ssl/context.hpp>
#include <filesystem>
#include <memory>
#include <string>

#include "smtp/server_session.hpp"

namespace postern::net {

// Throws std::runtime_error with an operator-facing message when the
// certificate or key cannot be loaded.
std::shared_ptr<asio::ssl::context> make_server_tls_context(const std::filesystem::path& cert,
                                                            const std::filesystem::path& key);

smtp::TlsInfo describe_tls(SSL* ssl);

}  // namespace postern::net
