"""Lua scripts of the Redis store: each one atomic step over keys of one hash slot.

Outbox entries are hashes `paperbot:{outbox}:e:<id>` with the fields dest, paper,
subs, terms, due, attempts, lease, err; `paperbot:{outbox}:due` scores each entry by
the time it next becomes available (its due time, or its lease expiry).
"""

from __future__ import annotations

# KEYS: data, seqs, order, counter. ARGV: triples (id, expected-json-or-"", new-json).
# Returns one status per paper: "new", "updated" or "conflict" (someone changed it).
PUT_PAPERS = """
local out = {}
for i = 1, #ARGV, 3 do
  local id, expected, new = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local current = redis.call('HGET', KEYS[1], id)
  if not current then
    if expected ~= '' then
      out[#out + 1] = 'conflict'
    else
      local seq = redis.call('INCR', KEYS[4])
      redis.call('HSET', KEYS[1], id, new)
      redis.call('HSET', KEYS[2], id, seq)
      redis.call('ZADD', KEYS[3], seq, id)
      out[#out + 1] = 'new'
    end
  elseif current ~= expected then
    out[#out + 1] = 'conflict'
  else
    redis.call('HSET', KEYS[1], id, new)
    out[#out + 1] = 'updated'
  end
end
return out
"""

# KEYS: counter, due-zset, prefix (string, not a key: entries are prefix..id).
# ARGV: claim flag, then 6-tuples (dest, paper, subs, terms, due, ledger-key).
# Returns the new entry ids, 0 for a pair that was claimed before.
ENQUEUE = """
local claim = ARGV[1] == '1'
local out = {}
for i = 2, #ARGV, 6 do
  local dest, paper, subs, terms, due, ledger =
    ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4], ARGV[i + 5]
  if claim and redis.call('SADD', ledger, paper) == 0 then
    out[#out + 1] = 0
  else
    local id = redis.call('INCR', KEYS[1])
    redis.call('HSET', KEYS[3] .. 'e:' .. id, 'dest', dest, 'paper', paper, 'subs', subs,
      'terms', terms, 'due', due, 'attempts', 0)
    redis.call('ZADD', KEYS[2], due, id)
    redis.call('SADD', KEYS[3] .. 'dest:' .. dest, id)
    out[#out + 1] = id
  end
end
return out
"""

# KEYS: due-zset, prefix. ARGV: now, lease seconds, limit. Returns leased ids.
LEASE = """
local now, secs, limit = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, limit * 2 + 10)
local out = {}
for _, id in ipairs(ids) do
  if #out >= limit then break end
  local key = KEYS[2] .. 'e:' .. id
  local lease = redis.call('HGET', key, 'lease')
  if redis.call('EXISTS', key) == 1 and (not lease or lease == '' or tonumber(lease) < now) then
    local untl = now + secs
    redis.call('HSET', key, 'lease', string.format('%.6f', untl))
    redis.call('HINCRBY', key, 'attempts', 1)
    redis.call('ZADD', KEYS[1], untl, id)
    out[#out + 1] = id
  end
end
return out
"""

# KEYS: due-zset, prefix. ARGV: ids.
ACK = """
for _, id in ipairs(ARGV) do
  local key = KEYS[2] .. 'e:' .. id
  local dest = redis.call('HGET', key, 'dest')
  if dest then
    redis.call('SREM', KEYS[2] .. 'dest:' .. dest, id)
    redis.call('DEL', key)
  end
  redis.call('ZREM', KEYS[1], id)
end
return 1
"""

# KEYS: due-zset, prefix. ARGV: id, due, error.
RETRY = """
local key = KEYS[2] .. 'e:' .. ARGV[1]
if redis.call('EXISTS', key) == 0 then return 0 end
redis.call('HSET', key, 'lease', '', 'due', ARGV[2], 'err', ARGV[3])
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
return 1
"""

# KEYS: due-zset, prefix. ARGV: dest, due. Returns how many entries moved.
RESCHEDULE = """
local ids = redis.call('SMEMBERS', KEYS[2] .. 'dest:' .. ARGV[1])
for _, id in ipairs(ids) do
  local key = KEYS[2] .. 'e:' .. id
  redis.call('HSET', key, 'due', ARGV[2])
  local lease = redis.call('HGET', key, 'lease')
  local score = tonumber(ARGV[2])
  if lease and lease ~= '' and tonumber(lease) > score then score = tonumber(lease) end
  redis.call('ZADD', KEYS[1], score, id)
end
return #ids
"""
