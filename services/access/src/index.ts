export { type AccessConfig, type AccessConfigInput, accessConfigSchema } from './config.js';
export { type RunningAccess, startAccess } from './main.js';
