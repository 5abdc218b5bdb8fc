// Lua run by Redis (one round trip, atomic). Non-cluster Redis or Valkey 6.2 or later: the admit
// script reads the lease keys of other instances, which a cluster would not allow.

/**
 * KEYS: the key's slot counts (a hash: instance → slots), its rate bucket (a hash).
 * ARGV: this instance, slots per key (0: none), bucket capacity (0: no rate limit), refill
 * per second, "1" to hold a slot, the lease key prefix, ms the counts live, ms the bucket lives.
 * Returns 0 (admitted; a slot held if asked), 1 (rate limited), 2 (the key holds its most).
 */
export const ADMIT_SCRIPT = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local capacity = tonumber(ARGV[3])
if capacity > 0 then
  local bucket = redis.call('HMGET', KEYS[2], 'tokens', 'at')
  local tokens = tonumber(bucket[1]) or capacity
  local at = tonumber(bucket[2]) or now
  tokens = math.min(capacity, tokens + math.max(0, now - at) / 1000 * tonumber(ARGV[4]))
  local allowed = tokens >= 1
  if allowed then tokens = tokens - 1 end
  redis.call('HSET', KEYS[2], 'tokens', tostring(tokens), 'at', tostring(math.max(now, at)))
  redis.call('PEXPIRE', KEYS[2], ARGV[8])
  if not allowed then return 1 end
end
if ARGV[5] ~= '1' then return 0 end
local most = tonumber(ARGV[2])
if most > 0 then
  local counts = redis.call('HGETALL', KEYS[1])
  local sum = 0
  for i = 1, #counts, 2 do
    local owner = counts[i]
    if owner ~= ARGV[1] and redis.call('EXISTS', ARGV[6] .. owner) == 0 then
      redis.call('HDEL', KEYS[1], owner)
    else
      sum = sum + tonumber(counts[i + 1])
    end
  end
  if sum >= most then return 2 end
end
redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
redis.call('PEXPIRE', KEYS[1], ARGV[7])
return 0
`;

/** KEYS: the key's slot counts. ARGV: this instance. Gives one slot back. */
export const RELEASE_SCRIPT = `
local left = redis.call('HINCRBY', KEYS[1], ARGV[1], -1)
if left <= 0 then redis.call('HDEL', KEYS[1], ARGV[1]) end
return left
`;
