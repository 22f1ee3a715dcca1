export { driverFactory } from './driver.js';
export { natsCapabilities } from './capabilities.js';
export { consumerOf, streamOf, subjectOf } from './names.js';
