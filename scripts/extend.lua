-- Keep an order's hold past its release time: a delayed payment method
-- (bank debit) is on its way and the async event will settle the order.
--
-- KEYS: epoch, hold:<order>, holds_by_release, done:<order>
-- ARGV: order, release_after_ms
-- Returns 'extended' | 'released' | 'committed' | 'missing' | 'rebuilding'
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 'rebuilding'
end
if redis.call('EXISTS', KEYS[2]) == 0 then
  return redis.call('GET', KEYS[4]) or 'missing'
end
redis.call('HSET', KEYS[2], 'release_after', ARGV[2])
redis.call('ZADD', KEYS[3], ARGV[2], ARGV[1])
local fields = redis.call('HGETALL', KEYS[2])
for i = 1, #fields, 2 do
  if string.sub(fields[i], 1, 4) == 'sku:' then
    redis.call('ZADD', by_sku_key(string.sub(fields[i], 5)), ARGV[2], ARGV[1])
  end
end
return 'extended'
