-- wrk script: POST /api/v1/toolservers/access-check as the user in $CHECK_USER.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOOLHUB_KEY")
wrk.body = '{"user_id": "' .. os.getenv("CHECK_USER") .. '", "tool_name": "calculator"}'
