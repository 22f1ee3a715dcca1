import { registerDriver } from '@brokerkit/core';
import { registerConformanceTests } from '../src/node-test.js';
import { driverFactory } from '@brokerkit/memory';

registerDriver(driverFactory);
registerConformanceTests({ backend: 'memory', url: 'memory://conformance' });
