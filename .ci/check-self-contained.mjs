// Fails when a tracked file reads or points outside the repository (a clone must stand
// alone, wherever it is placed and whatever lies beside it), or when a relative link in
// the documentation leads nowhere.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const files = execFileSync(
  'git',
  ['ls-files', '-z', '--cached', '--others', '--exclude-standard'],
  { cwd: root, encoding: 'utf8' },
)
  .split('\0')
  .filter((f) => f && !f.startsWith('libs/proto/src/gen/') && f !== 'package-lock.json')
  .filter((f) => /\.(ts|mts|js|mjs|cjs|json|md|ya?ml|sh|py|proto|toml)$|^\.ci\//.test(f));

// Names of folders that only exist beside a checkout, never inside a user's clone.
const outsideNames = [
  /shared project folder/i,
  /(^|[^\w.-])\.\.\/shared\b/,
  /\bshared\/vectors\b/,
  /\/work\/(main|shared)\b/,
];
// A relative path that climbs: followed from the file's folder, it must stay in the repo.
const climbing = /(?:^|['"`(\s])((?:\.\.\/){2,}[\w./-]*)/g;

// A relative link in Markdown: `[text](path)` or `[text](path#anchor)`.
const markdownLink = /\]\((?!https?:|mailto:|#)([^)\s#]+)(?:#[^)\s]*)?\)/g;

const problems = [];
for (const file of files) {
  if (file === '.ci/check-self-contained.mjs') continue;
  const lines = readFileSync(join(root, file), 'utf8').split('\n');
  lines.forEach((line, i) => {
    const at = `${file}:${i + 1}`;
    for (const pattern of outsideNames) {
      if (pattern.test(line)) problems.push(`${at}: names a folder outside the repository`);
    }
    if (file.endsWith('.md')) {
      for (const match of line.matchAll(markdownLink)) {
        if (!existsSync(resolve(root, dirname(file), match[1]))) {
          problems.push(`${at}: link to ${match[1]}, which does not exist`);
        }
      }
    }
    for (const match of line.matchAll(climbing)) {
      const target = relative(root, resolve(root, dirname(file), match[1]));
      if (target === '..' || target.startsWith(`..${sep}`)) {
        problems.push(`${at}: ${match[1]} leads outside the repository`);
      }
    }
  });
}

if (problems.length > 0) {
  console.error('The repository must stand alone, its links intact; these are not:');
  for (const problem of problems) console.error(`  ${problem}`);
  process.exit(1);
}
console.log(`self-contained: ${files.length} files checked`);
