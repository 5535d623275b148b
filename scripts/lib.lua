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
    local field = fields[i]
    if string.sub(field, 1, 4) == 'sku:' then
      local sku = string.sub(field, 5)
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
