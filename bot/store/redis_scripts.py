"""Lua scripts of the Redis store: each one atomic step within one hash slot.

Keys are declared in KEYS where they are known in advance; keys found on the way
(an outbox entry `e:<id>`, a subscription named by the duplicate index) are built
in the script from a prefix that carries the same hash tag, so they live in the
same cluster slot. Times are passed as decimal strings (never as Lua numbers,
which Redis would print with only 14 digits).
"""

from __future__ import annotations

import redis.asyncio as aioredis
from redis.commands.core import AsyncScript

# KEYS: data, order, counter. ARGV: triples (id, expected-json-or-"", new-json).
# One status per paper: "new", "updated", or "conflict" (changed since it was read).
PUT_PAPERS = """
local out = {}
for i = 1, #ARGV, 3 do
  local id, expected, new = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local current = redis.call('HGET', KEYS[1], id)
  if (current or '') ~= expected then
    out[#out + 1] = 'conflict'
  elseif not current then
    local seq = redis.call('INCR', KEYS[3])
    redis.call('HSET', KEYS[1], id, new)
    redis.call('ZADD', KEYS[2], seq, id)
    out[#out + 1] = 'new'
  else
    redis.call('HSET', KEYS[1], id, new)
    out[#out + 1] = 'updated'
  end
end
return out
"""

# KEYS: queries, sub, subs. ARGV: field, id, json, score, tenant prefix.
# Returns the existing record (JSON) when the destination has the query, else nil.
ADD_SUB = """
local existing = redis.call('HGET', KEYS[1], ARGV[1])
if existing then
  local raw = redis.call('GET', ARGV[5] .. 'sub:' .. existing)
  if raw then return raw end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('SET', KEYS[2], ARGV[3])
redis.call('ZADD', KEYS[3], ARGV[4], ARGV[2])
return false
"""

# KEYS: sub, subs, queries. ARGV: id. Returns 1 when something was deleted.
REMOVE_SUB = """
local raw = redis.call('GET', KEYS[1])
if not raw then return 0 end
local sub = cjson.decode(raw)
local field = sub['destination'] .. '\\n' .. sub['query']
if redis.call('HGET', KEYS[3], field) == ARGV[1] then redis.call('HDEL', KEYS[3], field) end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return 1
"""

# KEYS: sub. ARGV: pause ('1'|'0'), has reason ('1'|'0'), reason, 'any'|'only-running',
# resume_at (ISO time, or '' for none). Returns the updated record, or nil (unknown, or
# already paused for only-running).
SET_PAUSED = """
local raw = redis.call('GET', KEYS[1])
if not raw then return false end
local sub = cjson.decode(raw)
if ARGV[4] == 'only-running' and sub['paused'] then return false end
local pause = ARGV[1] == '1'
sub['paused'] = pause
sub['paused_reason'] = cjson.null
sub['resume_at'] = cjson.null
if pause and ARGV[2] == '1' then sub['paused_reason'] = ARGV[3] end
if pause and ARGV[5] ~= '' then sub['resume_at'] = ARGV[5] end
local out = cjson.encode(sub)
redis.call('SET', KEYS[1], out)
return out
"""

# KEYS: sub. ARGV: schedule, tz. Returns the new record, or false for an unknown one.
SET_SCHEDULE = """
local raw = redis.call('GET', KEYS[1])
if not raw then return false end
local sub = cjson.decode(raw)
sub['schedule'] = ARGV[1]
sub['tz'] = ARGV[2]
local out = cjson.encode(sub)
redis.call('SET', KEYS[1], out)
return out
"""

# KEYS: sub. ARGV: ISO time. Unknown subscriptions are left alone.
MARK_POSTED = """
local raw = redis.call('GET', KEYS[1])
if not raw then return 0 end
local sub = cjson.decode(raw)
sub['last_post_at'] = ARGV[1]
redis.call('SET', KEYS[1], cjson.encode(sub))
return 1
"""

# KEYS: counter, ready. ARGV: prefix, claim ('1'|'0'), then 5-tuples
# (destination, paper, subs-json, terms-json, due). Returns new ids; 0 = claimed before.
ENQUEUE = """
local prefix, claim, out = ARGV[1], ARGV[2] == '1', {}
for i = 3, #ARGV, 5 do
  local dest, paper, due = ARGV[i], ARGV[i + 1], ARGV[i + 4]
  if claim and redis.call('SADD', prefix .. 'ledger:' .. dest, paper) == 0 then
    out[#out + 1] = 0
  else
    local id = redis.call('INCR', KEYS[1])
    redis.call('HSET', prefix .. 'e:' .. id, 'dest', dest, 'paper', paper,
      'subs', ARGV[i + 2], 'terms', ARGV[i + 3], 'due', due, 'attempts', 0)
    redis.call('ZADD', KEYS[2], due, id)
    redis.call('SADD', prefix .. 'dest:' .. dest, id)
    out[#out + 1] = id
  end
end
return out
"""

# KEYS: ready, leased. ARGV: prefix, now, lease seconds, limit.
# Expired leases go back to `ready` at their due time; then the oldest due entries
# are leased. Returns {id, {field, value, ...}} per leased entry.
LEASE = """
local prefix, now = ARGV[1], ARGV[2]
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', '(' .. now)) do
  local key = prefix .. 'e:' .. id
  redis.call('ZREM', KEYS[2], id)
  local due = redis.call('HGET', key, 'due')
  if due then
    redis.call('HDEL', key, 'lease')
    redis.call('ZADD', KEYS[1], due, id)
  end
end
local untl = string.format('%.17g', tonumber(now) + tonumber(ARGV[3]))
local out = {}
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, ARGV[4])) do
  local key = prefix .. 'e:' .. id
  redis.call('ZREM', KEYS[1], id)
  if redis.call('EXISTS', key) == 1 then
    redis.call('ZADD', KEYS[2], untl, id)
    redis.call('HSET', key, 'lease', untl)
    redis.call('HINCRBY', key, 'attempts', 1)
    out[#out + 1] = {id, redis.call('HGETALL', key)}
  end
end
return out
"""

# KEYS: ready, leased. ARGV: prefix, ids...
ACK = """
for i = 2, #ARGV do
  local id = ARGV[i]
  local key = ARGV[1] .. 'e:' .. id
  local dest = redis.call('HGET', key, 'dest')
  if dest then
    redis.call('SREM', ARGV[1] .. 'dest:' .. dest, id)
    redis.call('DEL', key)
  end
  redis.call('ZREM', KEYS[1], id)
  redis.call('ZREM', KEYS[2], id)
end
return 1
"""

# KEYS: ready, leased. ARGV: prefix, id, due, error.
RETRY = """
local key = ARGV[1] .. 'e:' .. ARGV[2]
if redis.call('EXISTS', key) == 0 then return 0 end
redis.call('HDEL', key, 'lease')
redis.call('HSET', key, 'due', ARGV[3], 'err', ARGV[4])
redis.call('ZREM', KEYS[2], ARGV[2])
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[2])
return 1
"""

# KEYS: ready, dest-set. ARGV: prefix, due. A leased entry keeps its lease and comes
# back at the new due time if its delivery fails. Returns how many entries it moved.
RESCHEDULE = """
local ids = redis.call('SMEMBERS', KEYS[2])
for _, id in ipairs(ids) do
  redis.call('HSET', ARGV[1] .. 'e:' .. id, 'due', ARGV[2])
  if redis.call('ZSCORE', KEYS[1], id) then redis.call('ZADD', KEYS[1], ARGV[2], id) end
end
return #ids
"""


class Scripts:
    """Every script, registered on one client (EVALSHA, loaded again after a restart)."""

    def __init__(self, client: aioredis.Redis) -> None:
        self.put_papers: AsyncScript = client.register_script(PUT_PAPERS)
        self.add_sub: AsyncScript = client.register_script(ADD_SUB)
        self.remove_sub: AsyncScript = client.register_script(REMOVE_SUB)
        self.set_paused: AsyncScript = client.register_script(SET_PAUSED)
        self.mark_posted: AsyncScript = client.register_script(MARK_POSTED)
        self.set_schedule: AsyncScript = client.register_script(SET_SCHEDULE)
        self.enqueue: AsyncScript = client.register_script(ENQUEUE)
        self.lease: AsyncScript = client.register_script(LEASE)
        self.ack: AsyncScript = client.register_script(ACK)
        self.retry: AsyncScript = client.register_script(RETRY)
        self.reschedule: AsyncScript = client.register_script(RESCHEDULE)
