export { parseConfig, readConfigFile } from './parse-config.js';
