-- Reserve every line of one order, all or none.
--
-- KEYS: epoch, holds_by_release, hold:<order>, done:<order>,
--       then per line: stock:<sku> (its reservations_by_sku index shares
--       the {inv} tag and is named from the SKU)
-- ARGV: order, now_ms, expires_at_ms, release_after_ms, done_ttl_s,
--       then per line: sku, quantity (SKUs distinct)
-- Returns the epoch, a plain string, when the hold was taken now; else
--         {'held', epoch} (this order already holds its stock) |
--         {'committed', epoch} (already sold) | {'rebuilding'} |
--         {'short', sku, available, sku, available, ...}
-- The epoch lets the caller notice a rebuild that happened after the hold
-- was taken but before Postgres recorded it.
--
-- This is the shop's hottest path: a fresh one-line hold with stock enough
-- costs six redis.calls (each costs, as does every argument and a table
-- reply), and the rarer outcomes pay for what they need.
local epoch = redis.call('GET', KEYS[1])
if not epoch then
  return {'rebuilding'}
end
-- One call answers "never seen this order" for both keys.
local ended = false
if redis.call('EXISTS', KEYS[3], KEYS[4]) > 0 then
  if redis.call('EXISTS', KEYS[3]) == 1 then
    return {'held', epoch}
  end
  -- Sold, or sold and then refunded with its units put back: never held
  -- again, or a late Restock would put them back twice.
  local ended_as = redis.call('GET', KEYS[4])
  if ended_as == 'committed' or ended_as == 'restocked' then
    return {'committed', epoch}
  end
  ended = true -- released before: a late payment reserves again
end

local lines = (#ARGV - 5) / 2

-- take decrements every line, then gives all back if any went below zero:
-- with stock enough that is one call per line instead of a read and a write.
-- Returns nil when every line fits, else the short lines as line number,
-- units available.
local function take()
  local short
  for i = 1, lines do
    local left = redis.call('DECRBY', KEYS[4 + i], ARGV[5 + 2 * i])
    if left < 0 then
      short = short or {}
      short[#short + 1] = i
      short[#short + 1] = left + tonumber(ARGV[5 + 2 * i])
    end
  end
  if short then
    for i = 1, lines do
      redis.call('INCRBY', KEYS[4 + i], ARGV[5 + 2 * i])
    end
  end
  return short
end

-- Holds on these SKUs that nobody can pay for any more (past
-- release_after) go back before the order is refused, so their stock is sold
-- now rather than when cleanup next runs. The outcome is the same as giving
-- them back first, but with stock enough the hot path reads no index: they
-- wait for cleanup. They go in batches, earliest first, until the order fits
-- or none is left, so a backlog costs only what this order needs.
local function release_for(short)
  local released = 0
  for j = 1, #short, 2 do
    released = released + release_lapsed(ARGV[4 + 2 * short[j]], ARGV[2], ARGV[5], 100)
  end
  return released
end

local short = take()
while short and release_for(short) > 0 do
  short = take()
end
if short then
  local reply = {'short'}
  for j = 1, #short, 2 do
    reply[#reply + 1] = ARGV[4 + 2 * short[j]]
    reply[#reply + 1] = short[j + 1]
  end
  return reply
end

-- One HSET for the whole hold.
local fields = {'expires_at', ARGV[3], 'release_after', ARGV[4]}
for i = 1, lines do
  fields[#fields + 1] = 'sku:' .. ARGV[4 + 2 * i]
  fields[#fields + 1] = ARGV[5 + 2 * i]
  redis.call('ZADD', by_sku_key(ARGV[4 + 2 * i]), ARGV[4], ARGV[1])
end
redis.call('HSET', KEYS[3], unpack(fields))
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[1])
if ended then
  redis.call('DEL', KEYS[4])
end
return epoch
