// Stream pieces every room shares.
export { Sha256Tap, type Sha256TapOptions } from "./sha256";
export { isCorruptCompression } from "./compression";
