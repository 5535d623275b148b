-- Turn an order's hold into a sale: the units stay taken, the hold goes.
--
-- KEYS: epoch, hold:<order>, done:<order>
-- ARGV: order, done_ttl_s
-- Returns 'committed' | 'released' (the hold was given back: re-reserve) |
--         'missing' (no hold known: re-reserve) | 'rebuilding'
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 'rebuilding'
end
if redis.call('EXISTS', KEYS[2]) == 1 then
  drop_hold(ARGV[1], false, 'committed', tonumber(ARGV[2]))
  return 'committed'
end
return redis.call('GET', KEYS[3]) or 'missing'
