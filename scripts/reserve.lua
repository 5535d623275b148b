-- Reserve every line of one order, all or none.
--
-- KEYS: epoch, holds_by_release, hold:<order>, done:<order>,
--       then per line: stock:<sku>, reservations_by_sku:<sku>
-- ARGV: order, now_ms, expires_at_ms, release_after_ms, done_ttl_s,
--       then per line: sku, quantity (SKUs distinct)
-- Returns {'ok', epoch} | {'held', epoch} (this order already holds its
--         stock) | {'committed', epoch} (already sold) | {'rebuilding'} |
--         {'short', sku, available, sku, available, ...}
-- The epoch lets the caller notice a rebuild that happened after the hold
-- was taken but before Postgres recorded it.
local epoch = redis.call('GET', KEYS[1])
if not epoch then
  return {'rebuilding'}
end
local order = ARGV[1]
local now = tonumber(ARGV[2])
local done_ttl = tonumber(ARGV[5])
if redis.call('EXISTS', KEYS[3]) == 1 then
  return {'held', epoch}
end
local done = redis.call('GET', KEYS[4])
if done == 'committed' then
  return {'committed', epoch}
end

local lines = (#ARGV - 5) / 2

-- Holds nobody can pay for any more go back first, so their stock can be
-- sold now rather than when cleanup next runs. Each SKU's index is scored by
-- release_after, so only the lapsed holds are read, however many are live.
for i = 1, lines do
  local lapsed = redis.call('ZRANGEBYSCORE', KEYS[4 + 2 * i], '-inf', now)
  for _, other in ipairs(lapsed) do
    if redis.call('EXISTS', hold_key(other)) == 1 then
      drop_hold(other, true, 'released', done_ttl)
    else
      redis.call('ZREM', KEYS[4 + 2 * i], other)
    end
  end
end

-- Take every line, then give all back if any went below zero: in the usual
-- case (stock enough) that is one call per line instead of a read and a
-- write, on the shop's hottest path.
local short = {}
local left = {}
for i = 1, lines do
  left[i] = redis.call('DECRBY', KEYS[3 + 2 * i], ARGV[5 + 2 * i])
  if left[i] < 0 then
    short[#short + 1] = ARGV[4 + 2 * i]
    short[#short + 1] = left[i] + tonumber(ARGV[5 + 2 * i])
  end
end
if #short > 0 then
  for i = 1, lines do
    redis.call('INCRBY', KEYS[3 + 2 * i], ARGV[5 + 2 * i])
  end
  table.insert(short, 1, 'short')
  return short
end

-- One HSET for the whole hold: each redis.call costs, and this is the
-- shop's hottest path.
local fields = {'expires_at', ARGV[3], 'release_after', ARGV[4]}
for i = 1, lines do
  local sku, quantity = ARGV[4 + 2 * i], ARGV[5 + 2 * i]
  redis.call('ZADD', KEYS[4 + 2 * i], ARGV[4], order)
  fields[#fields + 1] = 'sku:' .. sku
  fields[#fields + 1] = quantity
end
redis.call('HSET', KEYS[3], unpack(fields))
redis.call('ZADD', KEYS[2], ARGV[4], order)
if done then
  redis.call('DEL', KEYS[4])
end
return {'ok', epoch}
