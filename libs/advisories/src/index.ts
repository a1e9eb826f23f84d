export * from './cvss.js';
export * from './sarif-import.js';
