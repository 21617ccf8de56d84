// The stable names of stages, diagnoses and TLS modes (JSON schema 1,
// docs/troubleshooting.md) and the exit status per diagnosis group.
#include "probe/probe.hpp"

namespace postern::probe {

std::string_view to_string(Stage stage) {
  switch (stage) {
    case Stage::dns:
      return "dns";
    case Stage::connect:
      return "connect";
    case Stage::banner:
      return "banner";
    case Stage::ehlo:
      return "ehlo";
    case Stage::tls:
      return "tls";
    case Stage::certificate:
      return "certificate";
    case Stage::auth:
      return "auth";
    case Stage::mail:
      return "mail";
    case Stage::rcpt:
      return "rcpt";
    case Stage::data:
      return "data";
  }
  return "unknown";
}

std::string_view to_string(Diagnosis diagnosis) {
  switch (diagnosis) {
    case Diagnosis::ok:
      return "ok";
    case Diagnosis::name_not_found:
      return "name_not_found";
    case Diagnosis::dns_failure:
      return "dns_failure";
    case Diagnosis::connect_timeout:
      return "connect_timeout";
    case Diagnosis::connect_refused:
      return "connect_refused";
    case Diagnosis::network_unreachable:
      return "network_unreachable";
    case Diagnosis::banner_timeout:
      return "banner_timeout";
    case Diagnosis::expects_implicit_tls:
      return "expects_implicit_tls";
    case Diagnosis::expects_plaintext:
      return "expects_plaintext";
    case Diagnosis::server_busy:
      return "server_busy";
    case Diagnosis::banner_rejected:
      return "banner_rejected";
    case Diagnosis::ehlo_rejected:
      return "ehlo_rejected";
    case Diagnosis::starttls_not_offered:
      return "starttls_not_offered";
    case Diagnosis::tls_handshake_failed:
      return "tls_handshake_failed";
    case Diagnosis::certificate_expired:
      return "certificate_expired";
    case Diagnosis::certificate_not_yet_valid:
      return "certificate_not_yet_valid";
    case Diagnosis::certificate_self_signed:
      return "certificate_self_signed";
    case Diagnosis::certificate_name_mismatch:
      return "certificate_name_mismatch";
    case Diagnosis::certificate_untrusted:
      return "certificate_untrusted";
    case Diagnosis::auth_not_offered_before_tls:
      return "auth_not_offered_before_tls";
    case Diagnosis::auth_not_offered:
      return "auth_not_offered";
    case Diagnosis::auth_mechanism_unsupported:
      return "auth_mechanism_unsupported";
    case Diagnosis::auth_failed:
      return "auth_failed";
    case Diagnosis::auth_temporary:
      return "auth_temporary";
    case Diagnosis::sender_rejected:
      return "sender_rejected";
    case Diagnosis::relay_denied:
      return "relay_denied";
    case Diagnosis::recipient_refused:
      return "recipient_refused";
    case Diagnosis::temporary_rejection:
      return "temporary_rejection";
    case Diagnosis::message_rejected:
      return "message_rejected";
    case Diagnosis::protocol_error:
      return "protocol_error";
  }
  return "unknown";
}

std::string_view to_string(TlsFound found) {
  switch (found) {
    case TlsFound::unknown:
      return "unknown";
    case TlsFound::plaintext:
      return "plaintext";
    case TlsFound::starttls:
      return "starttls";
    case TlsFound::implicit:
      return "implicit";
  }
  return "unknown";
}

int exit_status(Diagnosis diagnosis) {
  switch (diagnosis) {
    case Diagnosis::ok:
      return 0;
    case Diagnosis::name_not_found:
    case Diagnosis::dns_failure:
      return 3;
    case Diagnosis::connect_timeout:
    case Diagnosis::connect_refused:
    case Diagnosis::network_unreachable:
      return 4;
    case Diagnosis::banner_timeout:
    case Diagnosis::expects_implicit_tls:
    case Diagnosis::expects_plaintext:
    case Diagnosis::server_busy:
    case Diagnosis::banner_rejected:
    case Diagnosis::ehlo_rejected:
      return 5;
    case Diagnosis::starttls_not_offered:
    case Diagnosis::tls_handshake_failed:
    case Diagnosis::certificate_expired:
    case Diagnosis::certificate_not_yet_valid:
    case Diagnosis::certificate_self_signed:
    case Diagnosis::certificate_name_mismatch:
    case Diagnosis::certificate_untrusted:
      return 6;
    case Diagnosis::auth_not_offered_before_tls:
    case Diagnosis::auth_not_offered:
    case Diagnosis::auth_mechanism_unsupported:
    case Diagnosis::auth_failed:
    case Diagnosis::auth_temporary:
      return 7;
    case Diagnosis::sender_rejected:
    case Diagnosis::relay_denied:
    case Diagnosis::recipient_refused:
      return 8;
    case Diagnosis::message_rejected:
      return 9;
    case Diagnosis::temporary_rejection:
    case Diagnosis::protocol_error:
      return 10;
  }
  return 10;
}

}  // namespace postern::probe
