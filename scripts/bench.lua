-- wrk script for scripts/bench.py. Environment:
--   BENCH_METHOD, BENCH_PATH, BENCH_BODY, BENCH_AUTH (Authorization header value), BENCH_POOL (a file
--   with one single-use item per line: codes, refresh tokens). "ITEM" in the body or the header is
--   replaced by the next pool item; every wrk thread takes its own stride of the pool.
local method = os.getenv("BENCH_METHOD") or "GET"
local path = os.getenv("BENCH_PATH") or "/"
local body = os.getenv("BENCH_BODY")
local auth = os.getenv("BENCH_AUTH")
local pool_file = os.getenv("BENCH_POOL")
local counter = 1

-- scripts/bench.py runs wrk with two threads: thread 1 takes items 1, 3, 5, ... and thread 2 the others.
function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
end

function init(args)
  items = {}
  if pool_file and pool_file ~= "" then
    for line in io.lines(pool_file) do items[#items + 1] = line end
  end
  nextIndex = id
  headers = {}
  if body then headers["Content-Type"] = "application/x-www-form-urlencoded" end
end

function request()
  local item = ""
  if #items > 0 then
    item = items[nextIndex] or "exhausted"
    nextIndex = nextIndex + 2
  end
  local h = {}
  for k, v in pairs(headers) do h[k] = v end
  if auth and auth ~= "" then h["Authorization"] = (auth:gsub("ITEM", item)) end
  local b = body and (body:gsub("ITEM", item)) or nil
  return wrk.format(method, path, h, b)
end
