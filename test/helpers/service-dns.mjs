// Loaded with `node --import` into the processes the Kubernetes contract test starts: the names
// in MNIST_LR_TEST_HOSTS (JSON, {"mnist-lr-coordinator": "127.0.0.1"}) resolve to their address,
// as a cluster's DNS resolves a Service's name; every other name goes to the system's resolver.
// The processes keep the manifests' arguments as written (ws://mnist-lr-coordinator:7070), and
// a TLS certificate is checked against the name they were given.
import dns from 'node:dns';

const hosts = JSON.parse(process.env.MNIST_LR_TEST_HOSTS ?? '{}');
const lookup = dns.lookup;

dns.lookup = function lookupService(hostname, options, callback) {
  if (typeof options === 'function') {
    callback = options;
    options = {};
  }
  const address = Object.hasOwn(hosts, hostname) ? hosts[hostname] : undefined;
  if (address === undefined) return lookup.call(this, hostname, options, callback);
  const family = address.includes(':') ? 6 : 4;
  const all = typeof options === 'object' && options !== null && options.all === true;
  process.nextTick(() => (all ? callback(null, [{ address, family }]) : callback(null, address, family)));
  return {};
};
