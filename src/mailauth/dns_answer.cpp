#include "mailauth/dns_answer.hpp"

namespace postern::mailauth {

const char* rr_type_name(RrType type) {
  switch (type) {
    case RrType::a:
      return "A";
    case RrType::aaaa:
      return "AAAA";
    case RrType::mx:
      return "MX";
    case RrType::txt:
      return "TXT";
    case RrType::ptr:
      return "PTR";
  }
  return "?";
}

}  // namespace postern::mailauth
