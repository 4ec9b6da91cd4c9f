-- wrk script for the benchmark: random contest, player and request id per request;
-- counts statuses and winning answers, and prints one JSON line in done().
--
--   wrk ... -s bench/play.lua http://127.0.0.1:PORT -- CONFIG_FILE
--
-- CONFIG_FILE has one setting per line:
--   path /bench/baseline/        a fixed path (the baseline), or
--   contest CODE                 one line per contest, picked at random per request
--   users N                      add &user=pN with N random players (0: no user)
--   token TOKEN                  send Authorization: Bearer TOKEN
--   close 1                      send Connection: close (a new connection, and TLS
--                                handshake through Nginx, for every request)

local threads = {}
local counter = 0

function setup(thread)
   counter = counter + 1
   thread:set("id", counter)
   table.insert(threads, thread)
end

function init(args)
   codes = {}
   users = 0
   fixed_path = nil
   statuses = {}
   wins = 0
   sent = 0
   headers = {["X-Forwarded-Proto"] = "https"}  -- as Nginx always sends
   for line in io.lines(args[1]) do
      local key, value = line:match("^(%S+)%s+(.+)$")
      if key == "path" then fixed_path = value
      elseif key == "contest" then table.insert(codes, value)
      elseif key == "users" then users = tonumber(value)
      elseif key == "token" then headers["Authorization"] = "Bearer " .. value
      elseif key == "close" then headers["Connection"] = "close"
      end
   end
   math.randomseed(os.time() * 100 + id)
end

function request()
   sent = sent + 1
   headers["X-Request-ID"] = string.format("b%d-%d", id, sent)
   local path = fixed_path
   if path == nil then
      path = "/play/?contest=" .. codes[math.random(#codes)]
      if users > 0 then
         path = path .. "&user=p" .. math.random(users)
      end
   end
   return wrk.format("GET", path, headers)
end

function response(status, hdrs, body)
   statuses[status] = (statuses[status] or 0) + 1
   if status == 200 and body:find('"winner": true', 1, true) then
      wins = wins + 1
   end
end

function done(summary, latency, requests)
   local total = {}
   local won = 0
   for _, thread in ipairs(threads) do
      for status, count in pairs(thread:get("statuses")) do
         total[status] = (total[status] or 0) + count
      end
      won = won + thread:get("wins")
   end
   local parts = {}
   for status, count in pairs(total) do
      table.insert(parts, string.format('"%d": %d', status, count))
   end
   local e = summary.errors
   io.write(string.format(
      'BENCH-JSON {"requests": %d, "duration_us": %d, "p50_us": %d, "p90_us": %d, ' ..
      '"p99_us": %d, "max_us": %d, "mean_us": %.1f, "wins": %d, "statuses": {%s}, ' ..
      '"socket_errors": {"connect": %d, "read": %d, "write": %d, "timeout": %d}}\n',
      summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
      latency:percentile(99), latency.max, latency.mean, won, table.concat(parts, ", "),
      e.connect, e.read, e.write, e.timeout))
end
