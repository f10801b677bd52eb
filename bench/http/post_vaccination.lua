-- wrk script: POST /v1/vaccinations, each request for another patient (a valid INSZ), so that no
-- registration is a duplicate. TOKEN comes from the environment, and POST_DATE (default
-- 2026-11-20), the date of every registration: a run on a data directory that an earlier run
-- loaded needs another date, or every POST is a duplicate (409).
local token = os.getenv("TOKEN")
local date = os.getenv("POST_DATE") or "2026-11-20"
local counter = 0
local next_thread = 0

-- Runs in the main Lua state; sets the global `thread_id` in each thread's own state.
function setup(thread)
  thread:set("thread_id", next_thread)
  next_thread = next_thread + 1
end

local function insz(n)
  -- born 19YY-MM-DD with serial 1..997; check digits 97 - (first 9 digits mod 97)
  local serial = n % 997 + 1
  n = math.floor(n / 997)
  local day = n % 28 + 1
  n = math.floor(n / 28)
  local month = n % 12 + 1
  local year = math.floor(n / 12) % 70 + 30
  local base = string.format("%02d%02d%02d%03d", year, month, day, serial)
  local check = 97 - (tonumber(base) % 97)
  return base .. string.format("%02d", check)
end

request = function()
  counter = counter + 1
  local patient = insz((thread_id or 0) * 5000000 + counter)
  local body = '{"patient":{"insz":"' .. patient .. '"},"product":"EU/1/20/1528","lot":"FK5127",'
    .. '"dose":1,"date":"' .. date .. '","consent":{"decision":"given","date":"' .. date .. '"}}'
  return wrk.format("POST", "/v1/vaccinations",
    {["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json"}, body)
end
