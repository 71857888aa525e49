#!/usr/bin/env node
// `npx logferry` (the workspace's bin): the CLI on Node 24, or under Node 24 from the npm registry when the Node
// that npx runs is older (scripts/node24.mjs). Plain JavaScript: it must start on that older Node.
process.argv.splice(2, 0, 'cli/src/main.ts');
await import('../../scripts/node24.mjs');
