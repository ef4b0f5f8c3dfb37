-- (f): POST /vault with BATCH_NAMES names (demo, then batch-1 .. batch-9), all cached after the first call.
local names = { '"demo"' }
for i = 1, 9 do
  names[#names + 1] = '"batch-' .. i .. '"'
end
wrk.method = "POST"
wrk.body = '{"names":[' .. table.concat(names, ",") .. ']}'
wrk.headers["Content-Type"] = "application/json"
