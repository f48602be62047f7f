# Sourced by scripts/test.sh: installs the published MCP servers the tests run as upstreams
# (npm @modelcontextprotocol/server-everything, PyPI mcp-server-time) and the third-party MCP
# clients they test the gateway with (npm @modelcontextprotocol/inspector; PyPI mcp, which
# mcp-server-time brings) and an OpenAPI mock server for OpenAPI tool servers (npm
# @stoplight/prism-cli) into target/test-deps,
# once, and exports TOOLHUB_TEST_DEPS.

deps="$(pwd)/target/test-deps"
mkdir -p "$deps"
if [ ! -x "$deps/node_modules/.bin/mcp-server-everything" ]; then
  echo "installing @modelcontextprotocol/server-everything into $deps" >&2
  (cd "$deps" && npm install --silent --no-audit --no-fund @modelcontextprotocol/server-everything@2026.8.31 >&2)
fi
if [ ! -x "$deps/node_modules/.bin/mcp-inspector" ]; then
  echo "installing @modelcontextprotocol/inspector into $deps" >&2
  (cd "$deps" && npm install --silent --no-audit --no-fund @modelcontextprotocol/inspector@0.21.1 >&2)
fi
if [ ! -x "$deps/node_modules/.bin/prism" ]; then
  echo "installing @stoplight/prism-cli into $deps" >&2
  (cd "$deps" && npm install --silent --no-audit --no-fund @stoplight/prism-cli@5.16.0 >&2)
fi
if [ ! -x "$deps/venv/bin/python" ] || ! "$deps/venv/bin/python" -c 'import mcp_server_time' 2>/dev/null; then
  echo "installing mcp-server-time into $deps/venv" >&2
  python3 -m venv "$deps/venv"
  "$deps/venv/bin/pip" install --quiet --disable-pip-version-check mcp-server-time >&2
fi
export TOOLHUB_TEST_DEPS="$deps"
