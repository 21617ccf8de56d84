// The Lua script that answers a limits::Request inside Redis, atomically:
// Redis runs a script as one step, so concurrent nodes never lose an
// update. It is limits::SlidingWindow's arithmetic (a window of buckets,
// an event held as if at its bucket's end) on a hash per counter: field =
// bucket index, value = events; the key expires when its last bucket stops
// counting. Time is Redis's own clock (TIME), so nodes whose clocks differ
// still count in one timeline.
//
// KEYS: the counters. ARGV[1] = take|add|peek|clear, ARGV[2] = amount,
// then per key: limit, window_ms, bucket_ms.
// Returns {allowed, count_1, retry_ms_1, count_2, retry_ms_2, ...}.
#pragma once

#include <string_view>

namespace postern::state {

inline constexpr std::string_view kCounterScript = R"lua(
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local op = ARGV[1]
local amount = tonumber(ARGV[2])
local allowed = 1
local counts, retries, buckets = {}, {}, {}
for i = 1, #KEYS do
  local limit = tonumber(ARGV[3 * i])
  local window = tonumber(ARGV[3 * i + 1])
  local width = tonumber(ARGV[3 * i + 2])
  counts[i], retries[i] = 0, 0
  if op == 'clear' then
    redis.call('DEL', KEYS[i])
  else
    local fields = redis.call('HGETALL', KEYS[i])
    local live, sum = {}, 0
    for j = 1, #fields, 2 do
      local b, c = tonumber(fields[j]), tonumber(fields[j + 1])
      if (b + 1) * width + window > now then
        live[#live + 1] = {b, c}
        sum = sum + c
      else
        redis.call('HDEL', KEYS[i], fields[j])
      end
    end
    counts[i] = sum
    if sum + amount > limit then
      if amount > limit then
        retries[i] = window
      else
        table.sort(live, function(x, y) return x[1] < y[1] end)
        local left = sum
        for _, e in ipairs(live) do
          left = left - e[2]
          if left + amount <= limit then
            retries[i] = (e[1] + 1) * width + window - now
            break
          end
        end
      end
      if op ~= 'add' then allowed = 0 end
    end
  end
end
if op == 'add' or (op == 'take' and allowed == 1) then
  for i = 1, #KEYS do
    local window = tonumber(ARGV[3 * i + 1])
    local width = tonumber(ARGV[3 * i + 2])
    local b = math.floor(now / width)
    redis.call('HINCRBY', KEYS[i], b, amount)
    redis.call('PEXPIRE', KEYS[i], (b + 1) * width + window - now)
    counts[i] = counts[i] + amount
  end
end
local out = {allowed}
for i = 1, #KEYS do
  out[#out + 1] = counts[i]
  out[#out + 1] = retries[i]
end
return out
)lua";

}  // namespace postern::state
