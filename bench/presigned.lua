-- wrk script: sends pre-signed callbacks from the file in $CALLBRIDGE_BENCH_REQUESTS, written by
-- `callbridge bench -write FILE -n N` (one a line: path TAB "Header: value" TAB ... TAB body).
-- Every line is used once, so every request is a distinct event; thread i of T takes lines
-- i, i+T, i+2T... read as it goes (not held in memory). Should the file run out, it starts
-- again and says so at the end: from then on requests are repeats, which the bridge dedups.
-- Pass the thread count after --:  wrk -t2 ... -s bench/presigned.lua URL -- 2
local threads = {}
local thread_id = 0
local nthreads = 1

setup = function(thread)
  thread:set("tid", thread_id)
  thread_id = thread_id + 1
  table.insert(threads, thread)
end

local file, path
init = function(args)
  path = os.getenv("CALLBRIDGE_BENCH_REQUESTS")
  if not path then
    error("set CALLBRIDGE_BENCH_REQUESTS to a file written by callbridge bench -write")
  end
  file = assert(io.open(path, "r"))
  nthreads = tonumber(args[1]) or 1
  wrapped = 0
  -- skip to this thread's first line
  for _ = 1, tid do file:read("*l") end
end

local function nextline()
  local line = file:read("*l")
  if not line then
    file:close()
    file = assert(io.open(path, "r"))
    wrapped = wrapped + 1
    for _ = 1, tid do file:read("*l") end
    line = file:read("*l")
  end
  -- skip the other threads' lines
  for _ = 1, nthreads - 1 do file:read("*l") end
  return line
end

request = function()
  local line = nextline()
  local fields = {}
  for f in string.gmatch(line, "[^\t]+") do table.insert(fields, f) end
  local headers = {}
  for i = 2, #fields - 1 do
    local k, v = string.match(fields[i], "^([^:]+): (.*)$")
    headers[k] = v
  end
  return wrk.format("POST", fields[1], headers, fields[#fields])
end

done = function(summary, latency, requests)
  for _, t in ipairs(threads) do
    local w = t:get("wrapped")
    if w and w > 0 then
      io.write(string.format("WARNING: thread %d ran out of pre-signed requests %d time(s): later requests were repeats\n", t:get("tid"), w))
    end
  end
end
