export { driverFactory } from './driver.js';
export { kafkaCapabilities } from './capabilities.js';
export { PartitionTracker } from './tracker.js';
