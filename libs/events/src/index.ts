export { type Hlc, hlcToDate, nextHlc, packHlc } from './hlc.js';
export {
  assertChained,
  EVENT_SIGNATURE_DOMAIN,
  type HeaderFields,
  type HeldEvent,
  type OpenedEvents,
  openEvent,
  openEvents,
  type ReceivedEvent,
  type SealedEvent,
  sealEvent,
} from './signed-event.js';
