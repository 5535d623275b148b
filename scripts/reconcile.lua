-- Repair drift between Redis and what Postgres implies, from the holds
-- actually present, in one atomic step.
--
-- KEYS: epoch, holds_by_release, orphans (order -> first seen, ms)
-- ARGV: epoch the snapshot was read under, snapshot JSON, '1' to apply or
--       '0' to count only (a dry run):
--   {"now": ms, "grace": ms, "done_ttl": s,
--    "base": {sku: on hand for sale},
--    "listed": [order, ...]      holds Redis had before Postgres was read,
--    "orders": {order: {"state": "pending"|"held"|"committed"|"returned"|"released",
--                       "unsettled": bool, "release_after": ms, "expires_at": ms,
--                       "lines": {sku: n}}},
--    "restocked": [order, ...]}
-- Returns {'ok', skus, drifted, drift_units, holds, restored, phantoms,
--          orphans_waiting, orphans_dropped, restocked, extended} |
--         {'rebuilding'} | {'superseded'}
--
-- Availability is recomputed, not patched: on hand for sale, less every hold
-- Redis keeps, less the units of orders Redis already committed but Postgres
-- has not recorded as sold yet (paid's Redis commit comes first). Postgres
-- may have moved on since the snapshot; each change it can make keeps this
-- sum right, because Redis follows Postgres and the tombstones say how.
local epoch = redis.call('GET', KEYS[1])
if not epoch then
  return {'rebuilding'}
end
if epoch ~= ARGV[1] then
  return {'superseded'}
end
local snap = cjson.decode(ARGV[2])
local apply = ARGV[3] == '1'
local now, grace, done_ttl = snap.now, snap.grace, snap.done_ttl

local listed = {}
for _, order in ipairs(snap.listed) do
  listed[order] = true
end

local taken = {}
local function take(sku, n)
  taken[sku] = (taken[sku] or 0) + n
end
local function take_hold(order)
  local fields = redis.call('HGETALL', hold_key(order))
  for i = 1, #fields, 2 do
    if string.sub(fields[i], 1, 4) == 'sku:' then
      take(string.sub(fields[i], 5), tonumber(fields[i + 1]))
    end
  end
end

local holds, restored, phantoms, waiting, dropped, restocked, extended = 0, 0, 0, 0, 0, 0, 0
local orphans = {}
for _, order in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
  local o = snap.orders[order]
  local state = o and o.state or (listed[order] and 'none' or 'new')
  if redis.call('EXISTS', hold_key(order)) == 0 then
    -- An index entry without its hold.
    if apply then redis.call('ZREM', KEYS[2], order) end
  elseif state == 'held' or state == 'pending' or state == 'new' then
    -- Postgres knows the hold, or it was taken after Postgres was read.
    take_hold(order)
    holds = holds + 1
    -- Postgres keeps it longer (a delayed payment under way) than Redis,
    -- which missed the extension: without it the units would go back on
    -- sale at the session's release time while the money is on its way.
    local release_after = tonumber(redis.call('HGET', hold_key(order), 'release_after'))
    if o and release_after and o.release_after > release_after then
      extended = extended + 1
      if apply then extend_hold(order, o.release_after) end
    end
  elseif state == 'committed' or state == 'returned' then
    -- Sold: a rebuild restored the hold before paid's Postgres transaction
    -- recorded the sale. Postgres's stock already counts it, so it goes
    -- without giving units back (a lapse would oversell them).
    phantoms = phantoms + 1
    if apply then
      drop_hold(order, false, state == 'returned' and 'restocked' or 'committed', done_ttl)
    end
  else
    -- Postgres holds nothing for it. A request may still be on its way
    -- (a late payment re-reserving, say), so it waits out the grace period
    -- from when a run first saw it before its units go back.
    orphans[order] = true
    local first = redis.call('ZSCORE', KEYS[3], order)
    if first and now - tonumber(first) >= grace then
      dropped = dropped + 1
      if apply then
        drop_hold(order, true, 'released', done_ttl)
        redis.call('ZREM', KEYS[3], order)
      end
    else
      waiting = waiting + 1
      take_hold(order)
      if apply and not first then
        redis.call('ZADD', KEYS[3], now, order)
      end
    end
  end
end
if apply then
  for _, order in ipairs(redis.call('ZRANGE', KEYS[3], 0, -1)) do
    if not orphans[order] then
      redis.call('ZREM', KEYS[3], order)
    end
  end
end

for order, o in pairs(snap.orders) do
  if not orphans[order] and redis.call('EXISTS', hold_key(order)) == 0 then
    local done = redis.call('GET', done_key(order))
    if o.state == 'held' and not done and o.release_after > now then
      -- Postgres holds it, Redis lost it, and no release or commit
      -- happened in between (that would have left a tombstone).
      restored = restored + 1
      for sku, n in pairs(o.lines) do
        take(sku, n)
      end
      if apply then
        local fields = {'expires_at', o.expires_at, 'release_after', o.release_after}
        for sku, n in pairs(o.lines) do
          fields[#fields + 1] = 'sku:' .. sku
          fields[#fields + 1] = n
          redis.call('ZADD', by_sku_key(sku), o.release_after, order)
        end
        redis.call('HSET', hold_key(order), unpack(fields))
        redis.call('ZADD', KEYS[2], o.release_after, order)
      end
    elseif o.unsettled and done == 'committed' then
      -- Sold in Redis, not yet in Postgres: the units are gone all the same.
      for sku, n in pairs(o.lines) do
        take(sku, n)
      end
    end
  end
end

-- Refunds Postgres already put back on hand: a Restock still on its way
-- must not add them twice.
for _, order in ipairs(snap.restocked) do
  if redis.call('GET', done_key(order)) ~= 'restocked' then
    restocked = restocked + 1
    if apply then
      redis.call('SET', done_key(order), 'restocked', 'EX', done_ttl)
    end
  end
end

local skus, drifted, units = 0, 0, 0
for sku, on_hand in pairs(snap.base) do
  skus = skus + 1
  local want = on_hand - (taken[sku] or 0)
  local have = tonumber(redis.call('GET', stock_key(sku)))
  if have ~= want then
    drifted = drifted + 1
    units = units + math.abs((have or 0) - want)
    if apply then
      redis.call('SET', stock_key(sku), want)
    end
  end
end
return {'ok', skus, drifted, units, holds, restored, phantoms, waiting, dropped, restocked, extended}
