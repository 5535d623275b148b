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
if redis.call('GET', KEYS[4]) == 'committed' then
  return {'committed', epoch}
end

local lines = (#ARGV - 5) / 2

-- Holds nobody can pay for any more go back first, so their stock can be
-- sold now rather than when cleanup next runs.
for i = 1, lines do
  local index = KEYS[4 + 2 * i]
  for _, other in ipairs(redis.call('SMEMBERS', index)) do
    local release_after = tonumber(redis.call('HGET', hold_key(other), 'release_after'))
    if release_after == nil then
      redis.call('SREM', index, other)
    elseif release_after <= now then
      drop_hold(other, true, 'released', done_ttl)
    end
  end
end

local short = {}
for i = 1, lines do
  local available = tonumber(redis.call('GET', KEYS[3 + 2 * i])) or 0
  if available < tonumber(ARGV[5 + 2 * i]) then
    short[#short + 1] = ARGV[4 + 2 * i]
    short[#short + 1] = available
  end
end
if #short > 0 then
  table.insert(short, 1, 'short')
  return short
end

for i = 1, lines do
  local sku, quantity = ARGV[4 + 2 * i], ARGV[5 + 2 * i]
  redis.call('DECRBY', KEYS[3 + 2 * i], quantity)
  redis.call('HSET', KEYS[3], 'sku:' .. sku, quantity)
  redis.call('SADD', KEYS[4 + 2 * i], order)
end
redis.call('HSET', KEYS[3], 'expires_at', ARGV[3], 'release_after', ARGV[4])
redis.call('ZADD', KEYS[2], ARGV[4], order)
redis.call('DEL', KEYS[4])
return {'ok', epoch}
