-- Replace the inventory in Redis with a snapshot taken from Postgres.
--
-- ARGV[1]: the new epoch marker value.
-- ARGV[2]: JSON {"stock": {sku: available, ...},
--                "holds": [{"order": id, "expires_at": ms, "release_after": ms,
--                           "lines": {sku: quantity, ...}}, ...]}
--
-- Every key shares the {inv} hash tag, so this one script runs on one Redis
-- Cluster shard and no reservation can interleave with it.
local epoch = ARGV[1]
local snapshot = cjson.decode(ARGV[2])

-- Forget the holds Redis knows of: their truth now comes from the snapshot.
local known = redis.call('ZRANGE', '{inv}:holds_by_release', 0, -1)
for _, order in ipairs(known) do
  local hold = redis.call('HGETALL', '{inv}:hold:' .. order)
  for i = 1, #hold, 2 do
    local field = hold[i]
    if string.sub(field, 1, 4) == 'sku:' then
      redis.call('DEL', '{inv}:reservations_by_sku:' .. string.sub(field, 5))
    end
  end
  redis.call('DEL', '{inv}:hold:' .. order)
end
redis.call('DEL', '{inv}:holds_by_release')

local skus = 0
for sku, available in pairs(snapshot.stock) do
  redis.call('SET', '{inv}:stock:' .. sku, available)
  redis.call('DEL', '{inv}:reservations_by_sku:' .. sku)
  skus = skus + 1
end

local holds = 0
for _, hold in ipairs(snapshot.holds) do
  local key = '{inv}:hold:' .. hold.order
  redis.call('HSET', key, 'expires_at', hold.expires_at, 'release_after', hold.release_after)
  for sku, quantity in pairs(hold.lines) do
    redis.call('HSET', key, 'sku:' .. sku, quantity)
    redis.call('SADD', '{inv}:reservations_by_sku:' .. sku, hold.order)
  end
  redis.call('ZADD', '{inv}:holds_by_release', hold.release_after, hold.order)
  holds = holds + 1
end

redis.call('SET', '{inv}:epoch', epoch)
return {skus, holds}
