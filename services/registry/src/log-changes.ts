/** The registry's commit wake-ups are the log store's (`@vitrine/tlog-store`). */
export { ChangeWatch, LogChanges } from '@vitrine/tlog-store';
