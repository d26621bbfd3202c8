// A real MCP client (the official TypeScript SDK, @modelcontextprotocol/sdk)
// for crates/atelier-server/tests/mcp.rs: connects to an Atelier server's
// /mcp endpoint over streamable HTTP with a bearer token, then runs the
// calls given as JSON on stdin and prints one JSON object:
//   {"tools": [{name, annotations, inputSchema}], "results": [CallToolResult, ...]}
// Usage: node peers/mcp-client.mjs URL TOKEN < '[{"name": "...", "arguments": {...}}]'
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

const [url, token] = process.argv.slice(2);
const chunks = [];
for await (const c of process.stdin) chunks.push(c);
const calls = JSON.parse(Buffer.concat(chunks).toString('utf8') || '[]');

const transport = new StreamableHTTPClientTransport(new URL(url), {
  requestInit: { headers: token ? { Authorization: `Bearer ${token}` } : {} },
});
const client = new Client({ name: 'atelier-test-agent', version: '1.0.0' });
try {
  await client.connect(transport);
  const { tools } = await client.listTools();
  const results = [];
  for (const call of calls) {
    results.push(await client.callTool(call));
  }
  process.stdout.write(JSON.stringify({
    tools: tools.map((t) => ({ name: t.name, annotations: t.annotations ?? null, inputSchema: t.inputSchema })),
    results,
  }));
  await client.close();
} catch (e) {
  process.stdout.write(JSON.stringify({ error: String(e && e.stack || e) }));
  process.exitCode = 1;
}
