// The signer built from the [[dkim]] keys of a loaded configuration (the
// loader has already read and checked every key). Used at start and, on a
// reload, to hand the new keys to net::DkimService::set_signer().
#pragma once

#include <memory>

#include "config/config.hpp"
#include "mailauth/outgoing_signer.hpp"

namespace postern::app {

std::shared_ptr<const mailauth::OutgoingSigner> outgoing_signer(const config::Config& config);

}  // namespace postern::app
