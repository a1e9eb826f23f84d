import type { DescEnum } from '@bufbuild/protobuf';
import { describe, expect, it } from 'vitest';
import {
  accessActions,
  artifactKinds,
  artifactStates,
  type EnumWords,
  findingStatuses,
  requestStates,
  severities,
  slaStates,
} from '../src/enum-words.js';
import { ActionSchema, RequestStateSchema } from '../src/gen/vitrine/access/v1/access_pb.js';
import {
  ArtifactKind,
  ArtifactKindSchema,
  ArtifactStateSchema,
} from '../src/gen/vitrine/registry/v1/artifact_pb.js';
import {
  FindingStatus,
  FindingStatusSchema,
  SeveritySchema,
  SlaStateSchema,
} from '../src/gen/vitrine/registry/v1/finding_pb.js';

const TABLES: [string, EnumWords<string, number>, DescEnum][] = [
  ['artifactKinds', artifactKinds, ArtifactKindSchema],
  ['artifactStates', artifactStates, ArtifactStateSchema],
  ['severities', severities, SeveritySchema],
  ['findingStatuses', findingStatuses, FindingStatusSchema],
  ['slaStates', slaStates, SlaStateSchema],
  ['accessActions', accessActions, ActionSchema],
  ['requestStates', requestStates, RequestStateSchema],
];

describe('the enum-word table', () => {
  it.each(TABLES)(
    '%s names every declared value by its name, prefix dropped, lower-case',
    (_, table, schema) => {
      const declared = schema.values.filter((v) => v.number !== 0);
      expect(table.words).toEqual(declared.map((v) => v.localName.toLowerCase()));
      for (const v of declared) {
        const word = v.localName.toLowerCase();
        expect(table.word(v.number)).toBe(word);
        expect(table.valueOf(word)).toBe(v.number);
      }
    },
  );

  it('has no word for unspecified or unknown values, and labels them for people', () => {
    expect(severities.word(0)).toBeUndefined();
    expect(severities.word(99)).toBeUndefined();
    expect(severities.label(0)).toBe('unspecified');
    expect(severities.label(99)).toBe('unknown(99)');
    expect(findingStatuses.label(FindingStatus.IN_PROGRESS)).toBe('in_progress');
  });

  it('turns words back into values, refusing words it does not hold', () => {
    expect(artifactKinds.value('rules')).toBe(ArtifactKind.RULES);
    expect(artifactKinds.valueOf('binary')).toBeUndefined();
    expect(() => artifactKinds.value('binary' as 'rules')).toThrow('unknown word binary');
  });
});
