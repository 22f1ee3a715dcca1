import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { BACKENDS, CHECKS } from '@brokerkit/conformance';
import { BrokerkitError, registerDriver } from '@brokerkit/core';
import { SCENARIOS } from '@brokerkit/faults';
import { driverFactory as memoryDriver } from '@brokerkit/memory';
import { driverFactory as rabbitmqDriver } from '@brokerkit/rabbitmq';
import { driverFactory as redisDriver } from '@brokerkit/redis';
import { driverFactory as sqsDriver } from '@brokerkit/sqs';
import { driverFactory as kafkaDriver } from '@brokerkit/kafka';
import { driverFactory as natsDriver } from '@brokerkit/nats';
import { driverFactory as pubsubDriver } from '@brokerkit/pubsub';
import { Command, CommanderError, Option } from 'commander';
import { backlog } from './commands/backlog.js';
import { bench } from './commands/bench.js';
import { compare } from './commands/compare.js';
import { conformance } from './commands/conformance.js';
import { dlq } from './commands/dlq.js';
import { doctor } from './commands/doctor.js';
import { faults } from './commands/faults.js';
import { UsageError } from './commands/usage-error.js';

registerDriver(memoryDriver);
registerDriver(redisDriver);
registerDriver(rabbitmqDriver);
registerDriver(sqsDriver);
registerDriver(kafkaDriver);
registerDriver(pubsubDriver);
registerDriver(natsDriver);

const list = (value: string): string[] => value.split(',').map((v) => v.trim()).filter(Boolean);
const collect = (value: string, previous: string[]): string[] => [...previous, value];
const checkIds = CHECKS.map((c) => c.id).join(', ');

function program(setExit: (code: number) => void): Command {
  const cli = new Command('brokerkit')
    .description('One contract over Kafka, RabbitMQ, SQS/SNS, Pub/Sub, Redis and memory — and a suite that measures what each really guarantees.')
    .version('0.1.0')
    .exitOverride()
    .showHelpAfterError();
  cli
    .command('compare')
    .description('run the conformance suite on each backend and print the guarantee matrix')
    .addOption(new Option('-b, --backends <names>', `comma-separated backends (${Object.keys(BACKENDS).join(', ')})`).default(['memory'], 'memory').argParser(list))
    .option('-u, --url <name=url>', 'URL of a backend (repeatable; else BROKERKIT_<NAME>_URL)', collect, [])
    .option('--only <checks>', `only these checks (${checkIds})`, list)
    .option('--json <file>', 'write the matrix as JSON')
    .option('--markdown <file>', 'write the matrix as Markdown')
    .option('--html <file>', 'write a self-contained HTML report with charts')
    .option('--bench <files>', 'brokerkit bench --json files to show what each backend costs (comma-separated)', list)
    .option('--faults <files>', 'brokerkit faults --json files to show how each backend came through (comma-separated)', list)
    .option('--failover <files>', 'brokerkit faults --json files of clusters (node-failover, node-pause): what a node failure cost each (comma-separated)', list)
    .action(async (options) => setExit(await compare(options)));
  cli
    .command('conformance')
    .description('run the conformance suite on one backend, with per-check figures')
    .requiredOption('-b, --backend <name>', `backend (${Object.keys(BACKENDS).join(', ')})`)
    .option('-u, --url <url>', 'broker URL (else BROKERKIT_<NAME>_URL)')
    .option('--only <checks>', `only these checks (${checkIds})`, list)
    .option('--json <file>', 'write the results as JSON')
    .action(async (options) => setExit(await conformance(options)));
  cli
    .command('bench')
    .description('the same workload through brokerkit and through the broker\'s raw client: throughput, latency, memory, ratios')
    .requiredOption('-b, --backend <name>', `backend (${Object.keys(BACKENDS).join(', ')})`)
    .option('-u, --url <url>', 'broker URL (else BROKERKIT_<NAME>_URL)')
    .option('-n, --messages <n>', 'messages per phase; several, comma-separated, run one bench each and compare the cost per message (default: memory and redis 50000, rabbitmq 20000, kafka 100000; the emulators sqs 300, pubsub 2000)')
    .option('-s, --size <bytes>', 'message size in bytes (default 256)')
    .option('-c, --concurrency <n>', 'consumer concurrency (default 16)')
    .option('-r, --rounds <n>', 'brokerkit/raw pairs, order alternating (default 3); medians are reported')
    .option('--same-metadata', "also run the raw client sending brokerkit's metadata (content type; an id where the broker does not name messages): the layer's cost apart from what it carries")
    .option('--batch <n>', 'instead: consume throughput of a batch handler (batches of up to N) against single handlers, with handlers that do nothing and that wait 1 ms a call')
    .option('--json <file>', 'write the figures as JSON')
    .action(async (options) => setExit(await bench(options)));
  cli
    .command('faults')
    .description('crash consumer processes, send poison and bad input to a real broker: nothing lost, duplicates counted')
    .requiredOption('-b, --backend <name>', `backend (${Object.keys(BACKENDS).join(', ')})`)
    .option('-u, --url <url>', 'broker URL (else BROKERKIT_<NAME>_URL)')
    .option('-n, --messages <n>', 'messages of the consumer-crash scenario (default 20000; sqs 2000)')
    .option('--held <counts>', 'crash-recovery: messages the crashed consumer holds, one round each (default 100,1000)', list)
    .option('--only <scenarios>', `only these scenarios (${SCENARIOS.join(', ')})`, list)
    .option('--toxiproxy <url>', 'toxiproxy API for network-cut (else BROKERKIT_TOXIPROXY_URL)')
    .option('--proxy-route <listen=upstream>', 'Kafka network-cut: proxy on LISTEN (the port a broker listener advertises) to UPSTREAM (else BROKERKIT_KAFKA_PROXY_ROUTE)')
    .option('--restart-command <command>', 'shell command that restarts the broker keeping its data, for broker-restart (e.g. "./scripts/brokers bounce kafka")')
    .option('--nodes-command <command>', 'a cluster\'s nodes, for node-failover and node-pause: COMMAND leader QUEUE | signal NODE KILL|STOP|CONT | revive NODE (e.g. "./scripts/brokers node redis-cluster")')
    .option('--runs <n>', 'runs of node-failover and node-pause each (default 3)')
    .option('--down-ms <ms>', 'how long node-failover keeps the killed leader down, and node-pause stopped (default 5000 and 10000)')
    .option('--json <file>', 'write the figures as JSON')
    .action(async (options) => setExit(await faults(options)));
  cli
    .command('backlog')
    .description('what each subscription (topic/subscription) or queue has not settled, as its broker counts it')
    .argument('<names...>', 'subscriptions as topic/subscription, queues by name')
    .option('-u, --url <url>', 'broker URL')
    .option('--json', 'print JSON instead of a table')
    .action(async (names: string[], options) => setExit(await backlog(names, options)));
  cli
    .command('dlq')
    .description('look into a dead-letter queue (peek), send its messages back to their topics (replay), or remove them (purge)')
    .argument('<action>', 'peek, replay or purge')
    .option('-u, --url <url>', 'broker URL')
    .option('-s, --subscription <name>', 'the subscription or queue whose dead letters these are (its dead-letter queue is NAME.dlq)')
    .option('-q, --queue <dlq>', 'a dead-letter queue by its own name (one set with the deadLetter option)')
    .option('--reason <reason>', 'only messages dead-lettered for this reason (max-attempts, explicit, decode-error, validation-error)')
    .option('--limit <n>', 'at most this many (peek: default 10)')
    .option('--to <topic>', 'replay: send to this topic instead of each message\'s original one')
    .option('--idle-ms <ms>', 'stop once nothing new arrived for this long (default 2000)')
    .option('--json', 'print JSON')
    .action(async (action: string, options) => setExit(await dlq(action, options)));
  cli
    .command('doctor')
    .description('which configured brokers answer, and their versions')
    .action(async () => setExit(await doctor()));
  return cli;
}

/** Run the CLI; resolves with the exit code. */
export async function main(argv: string[]): Promise<number> {
  let code = 0;
  try {
    await program((c) => (code = c)).parseAsync(argv);
    return code;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode;
    if (error instanceof UsageError || error instanceof BrokerkitError) {
      process.stderr.write(`brokerkit: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
}

if (process.argv[1] && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url))) {
  process.exitCode = await main(process.argv);
  // Every broker was closed; should a client library still hold a socket or timer, say so and
  // exit rather than hang a CI job (seen once in a four-backend compare, not reproduced).
  setTimeout(() => {
    process.stderr.write(`brokerkit: open handles remained after the run (${process.getActiveResourcesInfo().join(', ')}); exiting\n`);
    process.exit();
  }, 5_000).unref();
}
