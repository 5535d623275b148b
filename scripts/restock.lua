-- Put a refunded order's units back on sale, once.
--
-- KEYS: epoch, done:<order>, then per line: stock:<sku>
-- ARGV: done_ttl_s, then per line: quantity
-- Returns 'restocked' | 'already' | 'rebuilding'
--
-- Postgres added the units to stock on hand first. A rebuild whose snapshot
-- already counted them marks the order restocked (see rebuild.lua), so the
-- units are never added twice.
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 'rebuilding'
end
if redis.call('GET', KEYS[2]) == 'restocked' then
  return 'already'
end
for i = 3, #KEYS do
  redis.call('INCRBY', KEYS[i], ARGV[i - 1])
end
redis.call('SET', KEYS[2], 'restocked', 'EX', ARGV[1])
return 'restocked'
