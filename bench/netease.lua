-- Unique NetEase cloud-player callbacks, so every request is a new event (a retry would be
-- deduplicated by JetStream and measure less work). Unsigned: the bridge runs in embedded
-- development mode; signature cost is measured by BenchmarkCallback.
local n = 0
local thread_id = 0
setup = function(thread)
  thread:set("tid", thread_id)
  thread_id = thread_id + 1
end
request = function()
  n = n + 1
  local body = string.format('{"eventType":503,"data":{"channelId":1144880576163552,"code":200,"idleTimeout":300,"playTs":1712900013,"streamUrl":"http://example.com/a.mp4","taskId":"task-%d-%d","timestamp":%d}}', tid, n, 1712900013002 + n)
  return wrk.format("POST", "/v1/callbacks/netease-nertc", {["Content-Type"] = "application/json"}, body)
end
