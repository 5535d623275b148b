-- Return an order's held stock to availability, once.
--
-- KEYS: epoch, hold:<order>, done:<order>
-- ARGV: order, done_ttl_s
-- Returns 'released' | 'committed' (already sold: nothing returned) |
--         'missing' (no hold known) | 'rebuilding'
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 'rebuilding'
end
if redis.call('EXISTS', KEYS[2]) == 1 then
  drop_hold(ARGV[1], true, 'released', tonumber(ARGV[2]))
  return 'released'
end
return redis.call('GET', KEYS[3]) or 'missing'
