#include "limits/counters.hpp"

#include <algorithm>

namespace postern::limits {

Outcome CounterTable::apply(const Request& request, std::int64_t now_ms) {
  if (windows_.size() >= sweep_at_) {
    sweep(now_ms);
    // Sweep again only once the table doubled, so a table of live counters
    // does not sweep on every request.
    sweep_at_ = std::max<std::size_t>(4096, windows_.size() * 2);
  }
  Outcome out;
  out.counters.resize(request.counters.size());
  if (request.op == Op::clear) {
    for (const auto& c : request.counters) windows_.erase(c.key);
    return out;
  }
  std::vector<Entry*> entries;
  entries.reserve(request.counters.size());
  for (std::size_t i = 0; i < request.counters.size(); ++i) {
    const Counter& c = request.counters[i];
    Entry& e = windows_[c.key];
    e.rate = c.rate;
    entries.push_back(&e);
    const auto v = e.window.look(now_ms, c.rate, request.amount);
    out.counters[i] = {v.count, v.retry_after};
    if (v.retry_after.count() > 0 && request.op != Op::add) out.allowed = false;
  }
  const bool count_it = request.op == Op::add || (request.op == Op::take && out.allowed);
  if (count_it) {
    for (std::size_t i = 0; i < entries.size(); ++i) {
      entries[i]->window.add(now_ms, request.counters[i].rate, request.amount);
      out.counters[i].count += request.amount;
    }
    return out;
  }
  // A peek or a refused take leaves no empty counter behind.
  for (const auto& c : request.counters) {
    auto it = windows_.find(c.key);
    if (it != windows_.end() && it->second.window.empty()) windows_.erase(it);
  }
  return out;
}

void CounterTable::sweep(std::int64_t now_ms) {
  std::erase_if(windows_, [&](const auto& kv) {
    return kv.second.window.empty() || kv.second.window.expires_at(kv.second.rate) <= now_ms;
  });
}

}  // namespace postern::limits
