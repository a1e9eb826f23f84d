#!/usr/bin/env node
// The vitrine command. vitrine's packages are TypeScript, loaded through tsx.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../cli/src/index.ts');
process.exitCode = await main(process.argv);
