export { driverFactory } from './driver.js';
export { rabbitCapabilities } from './capabilities.js';
export { retryBucketMs } from './topology.js';
