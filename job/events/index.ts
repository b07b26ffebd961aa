// Events on NATS (JetStream when a stream binds the subject), and the one way actions publish them.
export { checkNatsUrl, natsPublisher, noEvents } from "./nats";
export { publishEvent } from "./publish";
