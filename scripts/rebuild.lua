-- Replace the inventory in Redis with a snapshot taken from Postgres.
--
-- KEYS: epoch, holds_by_release, rebuilding
-- ARGV: token, epoch value, snapshot JSON:
--   {"base": {sku: on hand for sale − units of reservations still held},
--    "holds": [{"order", "expires_at", "release_after", "lines": {sku: n}}],
--    "pending": [order, ...], "restocked": [order, ...], "done_ttl": seconds}
-- Returns {'ok', skus, holds} | {'superseded'}
--
-- Reservations have been refused since the caller deleted the epoch and set
-- `rebuilding` to its token, before reading Postgres. A rebuild that started
-- later owns the token now; this older snapshot then gives way to it.
if redis.call('GET', KEYS[3]) ~= ARGV[1] then
  return {'superseded'}
end
local snapshot = cjson.decode(ARGV[3])

local stock = {}
local skus = 0
for sku, available in pairs(snapshot.base) do
  stock[sku] = available
  redis.call('DEL', by_sku_key(sku))
  skus = skus + 1
end

-- A pending reservation's row was written before Redis took its hold; only
-- Redis knows whether it did, so such holds are kept and counted. Every other
-- hold is replaced by what Postgres says.
local pending = {}
for _, order in ipairs(snapshot.pending) do
  pending[order] = true
end
local holds = 0
for _, order in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
  if pending[order] then
    local fields = redis.call('HGETALL', hold_key(order))
    for i = 1, #fields, 2 do
      if string.sub(fields[i], 1, 4) == 'sku:' then
        local sku = string.sub(fields[i], 5)
        stock[sku] = (stock[sku] or 0) - tonumber(fields[i + 1])
        redis.call('ZADD', by_sku_key(sku), redis.call('HGET', hold_key(order), 'release_after'), order)
      end
    end
    holds = holds + 1
  else
    redis.call('DEL', hold_key(order))
    redis.call('ZREM', KEYS[2], order)
  end
end

for _, hold in ipairs(snapshot.holds) do
  -- Committed in Redis but not yet in Postgres: its units are already
  -- subtracted from base (the row still says held), and it must not come
  -- back as a hold that a lazy release would later return.
  if redis.call('GET', done_key(hold.order)) ~= 'committed' then
    local fields = {'expires_at', hold.expires_at, 'release_after', hold.release_after}
    for sku, quantity in pairs(hold.lines) do
      fields[#fields + 1] = 'sku:' .. sku
      fields[#fields + 1] = quantity
      redis.call('ZADD', by_sku_key(sku), hold.release_after, hold.order)
    end
    redis.call('HSET', hold_key(hold.order), unpack(fields))
    redis.call('ZADD', KEYS[2], hold.release_after, hold.order)
    holds = holds + 1
  end
end

for sku, available in pairs(stock) do
  redis.call('SET', stock_key(sku), available)
end
-- Refunds whose units this snapshot already counts must not add them again.
for _, order in ipairs(snapshot.restocked) do
  redis.call('SET', done_key(order), 'restocked', 'EX', snapshot.done_ttl)
end
redis.call('SET', KEYS[1], ARGV[2])
redis.call('DEL', KEYS[3])
return {'ok', skus, holds}
