import { NEWCOMER } from '@vitrine/access';
import { generateSigningKeyPair } from '@vitrine/crypto';
import type { Partner } from '@vitrine/proto/access';
import type { Command } from 'commander';
import { type AccessFlags, accessTarget, connectAccess } from './access-client.js';
import { addAccessOptions, run } from './access-commands.js';
import { CliError, usageError } from './cli-error.js';
import type { CliIo } from './cli-io.js';
import type { CommandGroup } from './command-group.js';
import { vitrineHome } from './endpoints.js';
import { writeResult } from './output.js';
import { isoTime } from './plain-values.js';
import { createProfile, profileExists, profileNameOf } from './profile.js';
import { explainRpcError } from './rpc-errors.js';
import { collect } from './target-options.js';
import { formatFields } from './text-table.js';

/** The flags of `vitrine partner register`. */
interface RegisterOptions extends AccessFlags {
  readonly org: string;
  readonly jurisdiction: readonly string[];
  readonly contact: string;
}

/**
 * `vitrine partner register`: a partner organisation signs up. The CLI makes the
 * partner's Ed25519 key; only its public half leaves the machine, and the registration is
 * signed by it, which is the proof the partner holds it.
 */
export const partnerCommands: CommandGroup = (program, io) => {
  const partner = program
    .command('partner')
    .description('register as a partner organisation')
    .addHelpText(
      'after',
      '\nExample:\n  $ vitrine partner register --org "Bundesamt Review" --jurisdiction EU --contact sec@bund.example',
    );
  const register = partner
    .command('register')
    .description('create a key in a new profile and register the organisation with it')
    .requiredOption('--org <name>', 'organisation name')
    .requiredOption(
      '--jurisdiction <code>',
      'jurisdiction you review in (repeat for several)',
      collect,
    )
    .requiredOption('--contact <text>', 'who to reach about the registration (e-mail)');
  addAccessOptions(register)
    .addHelpText(
      'after',
      `
The profile (--profile, default: partner) keeps the key (0600) and, later, your credential.
Example:
  $ vitrine partner register --org "Bundesamt Review" --jurisdiction EU --contact sec@bund.example --profile bund`,
    )
    .action((options: RegisterOptions, command: Command) =>
      run(io, options, command, (flags) => registerPartner(io, flags)),
    );
};

async function registerPartner(io: CliIo, options: RegisterOptions): Promise<void> {
  const home = vitrineHome(options, io.env, io.cwd);
  const name = profileNameOf(options, io.env, 'partner');
  if (await profileExists(home, name)) {
    throw usageError(`profile '${name}' exists already; choose another with --profile`);
  }
  const target = await accessTarget(io, options);
  const key = await generateSigningKeyPair();
  const newcomer = { name, home, dir: '', principal: NEWCOMER, key, credential: undefined };
  let partner: Partner | undefined;
  try {
    const response = await connectAccess(target.url, newcomer).registerPartner({
      organisation: options.org,
      jurisdictions: options.jurisdiction.map((code) => code.toUpperCase()),
      contact: options.contact,
      publicKey: key.publicKey,
    });
    partner = response.partner;
  } catch (err) {
    throw explainRpcError(err, target);
  }
  if (!partner) throw new CliError('INTERNAL', 'access sent an incomplete answer');
  await createProfile(home, name, `partner:${partner.id}`, key);
  const registered = partner;
  writeResult(io, options.json === true, {
    json: () => ({
      partner: {
        id: registered.id,
        organisation: registered.organisation,
        jurisdictions: [...registered.jurisdictions],
        contact: registered.contact,
        registeredAt: isoTime(registered.registeredAt),
      },
      profile: name,
    }),
    human: () => [
      ...formatFields([
        ['partner', registered.id],
        ['organisation', registered.organisation],
        ['jurisdictions', registered.jurisdictions.join(', ')],
        ['profile', name],
      ]),
      '',
      `next: vitrine access request --profile ${name} --jurisdiction ${registered.jurisdictions[0]} --for 72h --justification "…"`,
    ],
  });
}
