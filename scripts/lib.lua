-- Shared by every inventory script (prepended when the scripts are loaded).
-- Every key shares the {inv} hash tag, so on Redis Cluster all of them live
-- on one shard and a script may touch holds it was not handed as KEYS.

local function hold_key(order) return '{inv}:hold:' .. order end
local function done_key(order) return '{inv}:done:' .. order end
local function stock_key(sku) return '{inv}:stock:' .. sku end
local function by_sku_key(sku) return '{inv}:reservations_by_sku:' .. sku end
local HOLDS_BY_RELEASE = '{inv}:holds_by_release'

-- drop_hold removes an order's hold and its index entries. With give_back
-- the held units return to availability (a release); without, they stay
-- taken (a commit: the units are sold).
local function drop_hold(order, give_back, outcome, done_ttl)
  local fields = redis.call('HGETALL', hold_key(order))
  for i = 1, #fields, 2 do
    if string.sub(fields[i], 1, 4) == 'sku:' then
      local sku = string.sub(fields[i], 5)
      if give_back then
        redis.call('INCRBY', stock_key(sku), fields[i + 1])
      end
      redis.call('ZREM', by_sku_key(sku), order)
    end
  end
  redis.call('DEL', hold_key(order))
  redis.call('ZREM', HOLDS_BY_RELEASE, order)
  -- The tombstone makes release and commit idempotent per order and tells a
  -- late commit that its hold was released.
  redis.call('SET', done_key(order), outcome, 'EX', done_ttl)
end

-- release_lapsed gives back up to limit holds on sku whose release_after
-- is at or before now, the earliest first: nobody can pay for those any
-- more. Returns how many index entries it went through, each now gone, so
-- a caller looping until it gets 0 ends.
local function release_lapsed(sku, now, done_ttl, limit)
  local lapsed = redis.call('ZRANGEBYSCORE', by_sku_key(sku), '-inf', now, 'LIMIT', 0, limit)
  for _, order in ipairs(lapsed) do
    if redis.call('EXISTS', hold_key(order)) == 1 then
      drop_hold(order, true, 'released', done_ttl)
    else
      redis.call('ZREM', by_sku_key(sku), order)
    end
  end
  return #lapsed
end

-- extend_hold moves an existing hold's release time, in the hold and both
-- indexes.
local function extend_hold(order, release_after)
  redis.call('HSET', hold_key(order), 'release_after', release_after)
  redis.call('ZADD', HOLDS_BY_RELEASE, release_after, order)
  local fields = redis.call('HGETALL', hold_key(order))
  for i = 1, #fields, 2 do
    if string.sub(fields[i], 1, 4) == 'sku:' then
      redis.call('ZADD', by_sku_key(string.sub(fields[i], 5)), release_after, order)
    end
  end
end
