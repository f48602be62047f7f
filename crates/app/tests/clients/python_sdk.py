"""Lists and calls tools through the official MCP Python SDK (PyPI `mcp`), as the Rust test
mcp_gateway::official_python_sdk_* asks: python_sdk.py URL KEY [TOOL ARGUMENTS_JSON].
Prints {"protocolVersion", "tools": [sorted names], "call": result} as JSON."""
import asyncio, json, sys
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

async def main(url, key, tool, arguments):
    async with create_mcp_http_client(headers={"Authorization": f"Bearer {key}"}) as http:
        async with streamable_http_client(url, http_client=http) as streams:
            async with ClientSession(streams[0], streams[1]) as session:
                init = await session.initialize()
                tools = await session.list_tools()
                out = {"protocolVersion": init.model_dump(mode="json", by_alias=True)["protocolVersion"],
                       "tools": sorted(t.name for t in tools.tools)}
                if tool:
                    result = await session.call_tool(tool, arguments)
                    out["call"] = result.model_dump(mode="json", by_alias=True)
    print(json.dumps(out))

if __name__ == "__main__":
    tool = sys.argv[3] if len(sys.argv) > 3 else None
    arguments = json.loads(sys.argv[4]) if len(sys.argv) > 4 else None
    asyncio.run(main(sys.argv[1], sys.argv[2], tool, arguments))
