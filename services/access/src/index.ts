export { NEWCOMER } from './authentication.js';
export {
  type AccessConfig,
  type AccessConfigInput,
  accessConfigSchema,
  type JurisdictionPolicy,
  type OperatorAccount,
} from './config.js';
export { DECISION_DOMAIN, partnerRef } from './decision-log.js';
export { type RunningAccess, startAccess, trustKeyPath } from './main.js';
export { partnerIdOf } from './partners.js';
