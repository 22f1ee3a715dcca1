export { driverFactory } from './driver.js';
export { redisCapabilities } from './capabilities.js';
