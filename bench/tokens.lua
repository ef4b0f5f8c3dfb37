-- Each request carries the next of the tokens in TOKENS_FILE, cycling; each wrk thread
-- starts at its own offset. The benchmark's token cache is smaller than the list, so every
-- request needs a full (cold) verification.
local tokens = {}
for line in io.lines(os.getenv("TOKENS_FILE")) do
  tokens[#tokens + 1] = line
end

local next_thread = 0

function setup(thread)
  thread:set("id", next_thread)
  next_thread = next_thread + 1
end

function init(args)
  i = (id * 7919) % #tokens + 1
end

function request()
  local token = tokens[i]
  i = i % #tokens + 1
  return wrk.format("GET", nil, { ["Authorization"] = "Bearer " .. token })
end
