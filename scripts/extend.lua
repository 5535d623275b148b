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
extend_hold(ARGV[1], ARGV[2])
return 'extended'
