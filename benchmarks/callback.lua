-- wrk script: every request is a distinct callback (fresh authorizationAttemptId), as Vipps sends them.
-- With SIGNED_FILE set, requests come pre-signed from that file (wrk's Lua has no HMAC): one per line,
-- "authorization<TAB>date<TAB>content-sha256<TAB>body". STOP_AFTER stops the thread after that many answers.
local counter = 0
local answered = 0
-- RUN_ID (set by run.py per wrk process) keeps attempt ids fresh across runs: LuaJIT's math.random
-- is not seeded, and two runs can start within the same second.
local prefix = os.getenv("RUN_ID") or (tostring(os.time()) .. "-" .. tostring(math.random(1, 1000000000)))
local signed = {}
local stop_after = tonumber(os.getenv("STOP_AFTER") or "0")
local template = os.getenv("BODY_TEMPLATE")
local path = os.getenv("CALLBACK_PATH") or "/psp-makepayment"

function init(args)
  local file = os.getenv("SIGNED_FILE")
  if file then
    for line in io.lines(file) do
      local auth, date, sha, body = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
      signed[#signed + 1] = wrk.format("POST", path, {
        ["Content-Type"] = "application/json",
        ["Authorization"] = auth, ["X-Ms-Date"] = date, ["X-Ms-Content-Sha256"] = sha,
      }, body)
    end
  end
end

function request()
  counter = counter + 1
  if #signed > 0 then
    return signed[((counter - 1) % #signed) + 1]
  end
  local body = string.gsub(template, "ATTEMPT_ID", prefix .. "-" .. counter)
  return wrk.format("POST", path, {["Content-Type"] = "application/json"}, body)
end

function response(status, headers, body)
  answered = answered + 1
  if stop_after > 0 and answered >= stop_after then
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "non_2xx": %d, "socket_errors": %d, "p50_us": %d, "p99_us": %d, "max_us": %d}\n',
    summary.requests, summary.duration, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50), latency:percentile(99), latency.max))
end
