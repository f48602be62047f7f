//! The upstream adapter against real MCP servers on this machine: our rmcp fixture (for
//! faults), npm `@modelcontextprotocol/server-everything` and PyPI `mcp-server-time`.

mod credentials;
mod fixture;
mod harness;
mod oauth;
mod third_party;
