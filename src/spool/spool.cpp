// The one way to a spool: the write-ahead-log implementation
// (spool/wal_spool.hpp) is the only one, and callers never name it.
#include "spool/spool.hpp"

#include "spool/wal_spool.hpp"

namespace postern::spool {

std::string last_reply_text(const RecipientStatus& r) {
  if (!r.bounce_owed) return r.last_reply;
  std::string out = "bounce pending: ";
  if (!r.bounce_owed->where.empty()) out += "(" + r.bounce_owed->where + ") ";
  return out + r.bounce_owed->reply;
}

std::unique_ptr<Spool> Spool::open(const std::filesystem::path& spool_dir, SpoolOptions options) {
  auto spool = std::make_unique<wal::WalSpool>(spool_dir, std::move(options));
  spool->start();
  return spool;
}

}  // namespace postern::spool
