import { randomBytes } from 'node:crypto';
import { createReadStream, readdirSync, readFileSync } from 'node:fs';
import { InvalidArgumentError } from '@vitrine/errors';
import { describe, expect, it } from 'vitest';
import {
  readSarif,
  SarifError,
  type SarifFinding,
  type SarifLimits,
  type SarifSummary,
} from '../src/sarif-import.js';

const samples = new URL('./vectors/sarif/samples/', import.meta.url);
const sample = (name: string) => new URL(name, samples);

async function readAll(
  source: AsyncIterable<Uint8Array | string>,
  limits?: SarifLimits,
): Promise<{ findings: SarifFinding[]; summary: SarifSummary }> {
  const findings: SarifFinding[] = [];
  const reader = readSarif(source, limits);
  for (;;) {
    const next = await reader.next();
    if (next.done) return { findings, summary: next.value };
    findings.push(next.value);
  }
}

async function* textSource(text: string, chunk = 65_536): AsyncGenerator<Uint8Array> {
  const bytes = Buffer.from(text);
  for (let i = 0; i < bytes.length; i += chunk) yield bytes.subarray(i, i + chunk);
}

async function refusal(
  source: AsyncIterable<Uint8Array | string>,
  limits?: SarifLimits,
): Promise<SarifError> {
  try {
    await readAll(source, limits);
  } catch (err) {
    expect(err).toBeInstanceOf(SarifError);
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect((err as SarifError).code).toBe('invalid_argument');
    return err as SarifError;
  }
  throw new Error('the log was accepted');
}

const log = (runs: unknown, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ version: '2.1.0', ...extra, runs });
const run = (results: unknown[], rules: unknown[] = [{ id: 'R1', name: 'RuleOne' }]) => ({
  tool: { driver: { name: 'scanner', version: '1.0', rules } },
  results,
});

describe('official samples', () => {
  it('reads every sample with as many results as the file holds', async () => {
    const files = readdirSync(samples);
    expect(files.length).toBe(6);
    for (const file of files) {
      const whole = JSON.parse(readFileSync(sample(file), 'utf8')) as {
        runs: Array<{ results?: unknown[] }>;
      };
      const expected = whole.runs.reduce((n, r) => n + (r.results?.length ?? 0), 0);
      const { findings, summary } = await readAll(createReadStream(sample(file)));
      expect([file, findings.length, summary.results, summary.runs]).toEqual([
        file,
        expected,
        expected,
        whole.runs.length,
      ]);
      for (const f of findings) expect(f.fingerprint).toMatch(/^[0-9a-f]{64}$/);
    }
  });

  it('normalises the ESLint example: rule, message, file URI, level error', async () => {
    const { findings } = await readAll(
      createReadStream(sample('sarif-tutorials_eslint-simple-example.sarif')),
    );
    const [f] = findings as [SarifFinding];
    expect(f.run.tool.name).toBe('ESLint');
    expect(f.ruleId).toBe('no-unused-vars');
    expect(f.rule?.shortDescription).toBe('disallow unused variables');
    expect(f.rule?.helpUri).toBe('https://eslint.org/docs/rules/no-unused-vars');
    expect(f.message).toBe("'x' is assigned a value but never used.");
    expect(f.locations).toEqual([
      {
        path: '/C:/dev/sarif/sarif-tutorials/samples/Introduction/simple-example.js',
        startLine: 1,
        endLine: 1,
      },
    ]);
    expect(f.level).toBe('error');
    expect(f.severity).toBe('high');
    expect(f.fingerprintBasis).toBe('location');
    expect(f.jsonPath).toBe('$.runs[0].results[0]');
  });

  it('keys CodeQL results by partialFingerprints and takes the level from the rule', async () => {
    const { findings } = await readAll(createReadStream(sample('codeql-action_valid-sarif.sarif')));
    expect(findings.map((f) => [f.run.index, f.run.tool.name, f.ruleId])).toEqual([
      [0, 'LGTM.com', 'js/unused-local-variable'],
      [1, 'CodeQL command-line toolchain', 'js/unused-local-variable'],
      [1, 'CodeQL command-line toolchain', 'js/inconsistent-use-of-new'],
    ]);
    const [first, second] = findings as [SarifFinding, SarifFinding];
    expect(first.fingerprintBasis).toBe('partialFingerprints');
    // The same result from two tools is two findings; the same tool would key it alike.
    expect(first.fingerprint).not.toBe(second.fingerprint);
    expect(first.level).toBe('note');
    expect(first.severity).toBe('low');
    expect(first.rule?.fullDescription).toMatch(/^Unused variables/);
    expect(findings[2]?.locations).toEqual([
      { path: 'src/promiseUtils.js', startLine: 2, endLine: 2 },
    ]);
  });

  it('reads Semgrep logs, whose results come before the tool, with fingerprints and suppressions', async () => {
    const { findings } = await readAll(createReadStream(sample('semgrep_include-nosemgrep.sarif')));
    expect(findings).toHaveLength(2);
    expect(findings.map((f) => f.fingerprintBasis)).toEqual(['fingerprints', 'fingerprints']);
    expect(findings.map((f) => f.suppressed)).toEqual([true, false]);
    expect(findings[0]?.run.tool.name).toBe('Semgrep OSS');
    expect(findings[0]?.rule?.id).toBe('rules.regex.detected-aws-account-id');
  });

  it('gives the same results whatever the chunking, down to one byte at a time', async () => {
    const text = readFileSync(sample('codeql-action_valid-sarif.sarif'), 'utf8');
    const whole = await readAll(textSource(text, 1 << 20));
    const bytewise = await readAll(textSource(text, 1));
    expect(bytewise.findings).toEqual(whole.findings);
  });

  it('reads escapes, brackets inside strings and multi-byte text split across chunks', async () => {
    const tricky = 'he said "hi" \\ {[ ]} \u00e9 — ünïcödé 🛡️ \\"';
    const text = log([run([{ ruleId: 'R1', message: { text: tricky } }])]);
    for (const size of [1, 2, 3, 7]) {
      const { findings } = await readAll(textSource(text, size));
      expect([size, findings[0]?.message]).toEqual([size, tricky]);
    }
  });

  it('refuses the invalid codeql-action sample at the path and rule it breaks', async () => {
    const err = await refusal(
      createReadStream(
        new URL('./vectors/sarif/invalid/codeql-action_invalid-sarif.sarif', import.meta.url),
      ),
    );
    expect(err.path).toBe('$.runs[0].results');
    expect(err.rule).toBe('#/definitions/run/properties/results/type');
    expect(err.message).toMatch(/must be array/);
  });
});

describe('normalisation rules', () => {
  it('resolves message ids with arguments, levels by kind, security-severity and baselineState', async () => {
    const rules = [
      {
        id: 'R1',
        messageStrings: { default: { text: 'Variable {0} is unused in {1}.' } },
        defaultConfiguration: { level: 'error' },
        properties: { 'security-severity': '9.1' },
        help: { text: 'plain', markdown: '**md**' },
      },
      { id: 'R2', properties: { 'security-severity': '' } },
    ];
    const results = [
      { ruleId: 'R1', message: { id: 'default', arguments: ['x', 'main'] }, baselineState: 'new' },
      { ruleId: 'R2', ruleIndex: 1, message: { text: 'pass' }, kind: 'pass' },
      {
        ruleId: 'R2/sub',
        message: { text: 'child rule' },
        level: 'warning',
        baselineState: 'unchanged',
      },
      {
        ruleId: 'R2',
        message: { text: 'indexed artifact' },
        locations: [
          {
            physicalLocation: {
              artifactLocation: { index: 0 },
              region: { startLine: 3, endLine: 5 },
            },
          },
        ],
        partialFingerprints: { b: '2', a: '1' },
      },
    ];
    const { findings } = await readAll(
      textSource(
        log([{ ...run(results, rules), artifacts: [{ location: { uri: 'src/a%20b.c' } }] }]),
      ),
    );
    const [a, b, c, d] = findings as [SarifFinding, SarifFinding, SarifFinding, SarifFinding];
    expect(a.message).toBe('Variable x is unused in main.');
    expect(a.level).toBe('error');
    expect([a.severity, a.severitySource]).toEqual(['critical', 'security-severity']);
    expect(a.rule?.help).toBe('**md**');
    expect(a.baselineState).toBe('new');
    expect([b.level, b.severity]).toEqual(['none', 'info']);
    expect(c.rule?.id).toBe('R2');
    expect(c.ruleId).toBe('R2/sub');
    // An empty security-severity is no score: the level decides.
    expect([c.level, c.severity, c.baselineState]).toEqual(['warning', 'medium', 'unchanged']);
    expect(c.severitySource).toBe('level');
    expect(d.locations).toEqual([{ path: 'src/a b.c', startLine: 3, endLine: 5 }]);
    expect(d.fingerprintBasis).toBe('partialFingerprints');
    // Key order inside partialFingerprints does not change the key.
    const again = await readAll(
      textSource(
        log([
          run(
            [{ ruleId: 'R2', message: { text: 'moved' }, partialFingerprints: { a: '1', b: '2' } }],
            rules,
          ),
        ]),
      ),
    );
    expect(again.findings[0]?.fingerprint).toBe(d.fingerprint);
  });

  it('resolves rules of tool extensions by toolComponent, and refuses an unknown one', async () => {
    const tool = {
      driver: { name: 'scanner', rules: [{ id: 'D1' }] },
      extensions: [{ name: 'plugin', rules: [{ id: 'P1', name: 'PluginRule' }, { id: 'P2' }] }],
    };
    const results = [
      {
        ruleId: 'P2',
        rule: { id: 'P2', index: 1, toolComponent: { index: 0 } },
        message: { text: 'a' },
      },
      { rule: { id: 'P1', toolComponent: { name: 'plugin' } }, message: { text: 'b' } },
      {
        ruleId: 'D1',
        rule: { id: 'D1', toolComponent: { name: 'scanner' } },
        message: { text: 'c' },
      },
    ];
    const { findings } = await readAll(textSource(log([{ tool, results }])));
    expect(findings.map((f) => [f.ruleId, f.rule?.id, f.rule?.name])).toEqual([
      ['P2', 'P2', undefined],
      ['P1', 'P1', 'PluginRule'],
      ['D1', 'D1', undefined],
    ]);
    const err = await refusal(
      textSource(
        log([
          {
            tool,
            results: [
              {
                ruleId: 'X',
                rule: { id: 'X', toolComponent: { name: 'other' } },
                message: { text: 'd' },
              },
            ],
          },
        ]),
      ),
    );
    expect(err.path).toBe('$.runs[0].results[0].rule.toolComponent');
    expect(err.message).toMatch(/tool component the run does not have/);
  });

  it('keys results without fingerprints by tool, rule, path, line and message', async () => {
    const at = (line: number, tool = 'scanner') => ({
      tool: { driver: { name: tool } },
      results: [
        {
          ruleId: 'R1',
          message: { text: 'm' },
          locations: [
            { physicalLocation: { artifactLocation: { uri: 'a.c' }, region: { startLine: line } } },
          ],
        },
      ],
    });
    const key = async (r: unknown) =>
      (await readAll(textSource(log([r])))).findings[0]?.fingerprint;
    expect(await key(at(3))).toBe(await key(at(3)));
    expect(await key(at(3))).not.toBe(await key(at(4)));
    expect(await key(at(3))).not.toBe(await key(at(3, 'other')));
  });

  it('streams: the first result arrives before the source has been read to its end', async () => {
    let produced = 0;
    const total = 2_000;
    async function* source(): AsyncGenerator<string> {
      yield '{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"s"}},"results":[';
      for (let i = 0; i < total; i++) {
        produced++;
        yield `${i ? ',' : ''}{"ruleId":"R","message":{"text":"result ${i} ${'x'.repeat(200)}"}}`;
      }
      yield ']}]}';
    }
    const reader = readSarif(source());
    const first = await reader.next();
    expect(first.done).toBe(false);
    expect(produced).toBeLessThan(total);
    let count = 1;
    for await (const _ of reader) count++;
    expect(count).toBe(total);
  });
});

describe('bad input', () => {
  const result = { ruleId: 'R1', message: { text: 'ok' } };

  it('refuses a wrong version as soon as it is read', async () => {
    const err = await refusal(textSource(JSON.stringify({ version: '2.0.0', runs: [] })));
    expect([err.path, err.rule]).toEqual(['$.version', '#/properties/version/enum']);
    expect(err.message).toMatch(/version "2.0.0" is not supported/);
  });

  it('refuses a log without runs', async () => {
    const err = await refusal(textSource(JSON.stringify({ version: '2.1.0' })));
    expect([err.path, err.rule]).toEqual(['$', '#/required']);
    expect(err.message).toMatch(/runs/);
  });

  it('refuses runs that are not an array, and a run that is not an object', async () => {
    const a = await refusal(textSource('{"version":"2.1.0","runs":42}'));
    expect([a.path, a.rule]).toEqual(['$.runs', '#/properties/runs/type']);
    const b = await refusal(textSource('{"version":"2.1.0","runs":[[]]}'));
    expect([b.path, b.rule]).toEqual(['$.runs[0]', '#/definitions/run/type']);
  });

  it('refuses a result without a message, naming the result and the schema rule', async () => {
    const err = await refusal(textSource(log([run([result, { ruleId: 'R1' }])])));
    expect(err.path).toBe('$.runs[0].results[1]');
    expect(err.rule).toBe('#/definitions/result/required');
    expect(err.message).toMatch(/message/);
  });

  it('refuses a message with neither text nor a known id', async () => {
    const a = await refusal(textSource(log([run([{ ruleId: 'R1', message: {} }])])));
    expect(a.path).toBe('$.runs[0].results[0].message');
    const b = await refusal(textSource(log([run([{ ruleId: 'R1', message: { id: 'nope' } }])])));
    expect(b.path).toBe('$.runs[0].results[0].message.id');
    expect(b.message).toMatch(/messageStrings/);
  });

  it('refuses a bad level, a bad line and an unknown property at their paths', async () => {
    const level = await refusal(textSource(log([run([{ ...result, level: 'fatal' }])])));
    expect([level.path, level.rule]).toEqual([
      '$.runs[0].results[0].level',
      '#/definitions/result/properties/level/enum',
    ]);
    const line = await refusal(
      textSource(
        log([
          run([
            {
              ...result,
              locations: [
                { physicalLocation: { artifactLocation: { uri: 'a' }, region: { startLine: 0 } } },
              ],
            },
          ]),
        ]),
      ),
    );
    expect([line.path, line.rule]).toEqual([
      '$.runs[0].results[0].locations[0].physicalLocation.region.startLine',
      '#/definitions/region/properties/startLine/minimum',
    ]);
    const unknown = await refusal(textSource(log([run([{ ...result, message: { txt: 'x' } }])])));
    expect(unknown.path).toBe('$.runs[0].results[0].message');
    expect(unknown.rule).toBe('#/definitions/message/anyOf');
    expect(unknown.message).toMatch(/required property 'text', or .*required property 'id'/);
    const extra = await refusal(textSource(log([run([{ ...result, colour: 'red' }])])));
    expect([extra.path, extra.rule]).toEqual([
      '$.runs[0].results[0]',
      '#/definitions/result/additionalProperties',
    ]);
    expect(extra.message).toMatch(/unknown property "colour"/);
  });

  it('refuses a run without a tool, and a rule index out of range', async () => {
    const noTool = await refusal(textSource(log([{ results: [result] }])));
    expect([noTool.path, noTool.rule]).toEqual(['$.runs[0]', '#/definitions/run/required']);
    const index = await refusal(textSource(log([run([{ ...result, ruleIndex: 5 }])])));
    expect(index.path).toBe('$.runs[0].results[0].ruleIndex');
  });

  it('refuses 10 MB of random bytes and 10 MB of text that is not JSON', async () => {
    const bytes = await refusal(
      (async function* () {
        for (let i = 0; i < 160; i++) yield randomBytes(65_536);
      })(),
    );
    expect(bytes.path).toBe('$');
    expect(bytes.message).toMatch(/not UTF-8|not JSON|must be a JSON object/);
    const garbage = await refusal(textSource('garbage '.repeat(1_310_720)));
    expect([garbage.path, garbage.rule]).toEqual(['$', 'json']);
    expect(garbage.message).toMatch(/not JSON .* at character 0/);
  });

  it('refuses deep nesting by the depth limit', async () => {
    const deep = `{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"s","properties":{"x":${'['.repeat(100_000)}`;
    const err = await refusal(textSource(deep));
    expect([err.path, err.rule]).toEqual(['$.runs[0].tool', 'limit']);
    expect(err.message).toMatch(/nested deeper than allowed \(nested deeper than 64\)/);
  });

  it('refuses a file over the size limit, a long string, a large result, too many results', async () => {
    const text = log([run([result, result, result])]);
    const size = await refusal(textSource(text, 16), { maxBytes: 64 });
    expect(size.message).toMatch(/larger than 64 bytes/);
    const string = await refusal(
      textSource(log([run([{ ...result, message: { text: 'x'.repeat(10_000) } }])]), 1_000),
      { maxStringLength: 1_000 },
    );
    expect(string.path).toBe('$.runs[0].results[0]');
    expect(string.message).toMatch(/a string is longer than 1000 characters/);
    const big = await refusal(
      textSource(log([run([{ ...result, properties: { a: 'y'.repeat(5_000) } }])])),
      { maxResultSize: 1_000 },
    );
    expect([big.path, big.rule]).toEqual(['$.runs[0].results[0]', 'limit']);
    expect(big.message).toMatch(/the result is larger than 1000 characters/);
    const shell = await refusal(textSource(text), { maxShellSize: 40 });
    expect([shell.path, shell.rule]).toEqual(['$.runs[0].tool', 'limit']);
    expect(shell.message).toMatch(/the log outside its results is larger than 40 characters/);
    const many = await refusal(textSource(text), { maxResults: 2 });
    expect(many.path).toBe('$.runs[0].results[2]');
    const pending = await refusal(
      textSource(
        JSON.stringify({
          version: '2.1.0',
          runs: [{ results: [result, result], tool: { driver: { name: 's' } } }],
        }),
      ),
      { maxPendingResults: 1 },
    );
    expect(pending.message).toMatch(/before the run's tool/);
    const noArtifacts = await refusal(
      textSource(
        log([
          run([
            {
              ...result,
              locations: [{ physicalLocation: { artifactLocation: { index: 2 } } }],
            },
          ]),
        ]),
      ),
    );
    expect(noArtifacts.path).toBe(
      '$.runs[0].results[0].locations[0].physicalLocation.artifactLocation.index',
    );
  });

  it('refuses a result that is not JSON, and text after the log, at their places', async () => {
    const broken = await refusal(
      textSource(
        '{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"s"}},"results":[{"ruleId": x}]}]}',
      ),
    );
    expect([broken.path, broken.rule]).toEqual(['$.runs[0].results[0]', 'json']);
    expect(broken.message).toMatch(/at character 70/);
    const trailing = await refusal(textSource(`${log([])} {}`));
    expect(trailing.message).toMatch(/unexpected text after the end/);
  });

  it('refuses truncated JSON, an empty file, a log that is not an object', async () => {
    const text = log([run([result])]);
    expect((await refusal(textSource(text.slice(0, -3)))).message).toMatch(/ends early/);
    expect((await refusal(textSource(''))).message).toMatch(/empty/);
    expect((await refusal(textSource('[1,2]'))).message).toMatch(/must be a JSON object/);
  });
});
