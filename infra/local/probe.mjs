// Answers whether the local broker and registry really serve requests, with no
// dependencies so that it runs before `npm install`:
//   node probe.mjs kafka 127.0.0.1:19092     -> a Metadata (v4) round trip, prints broker count
//   node probe.mjs registry http://host/apis/ccompat/v7 -> HTTP 200 from /subjects
//   node probe.mjs tls 127.0.0.1:19094 ca.pem -> a TLS handshake whose certificate the CA signed
// Exit 0 when it answers, 1 otherwise; one line on stdout either way.
import { readFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';

const [what, target] = process.argv.slice(2);
const TIMEOUT_MS = 3000;

function kafkaMetadata(hostPort) {
  const [host, portText] = hostPort.split(':');
  const clientId = Buffer.from('churn-probe');
  const body = Buffer.alloc(2 + 2 + 4 + 2 + clientId.length + 4 + 1);
  let o = 0;
  o = body.writeInt16BE(3, o); // api key: Metadata
  o = body.writeInt16BE(4, o); // version 4: not flexible, still served by Kafka 4.x
  o = body.writeInt32BE(7, o); // correlation id
  o = body.writeInt16BE(clientId.length, o);
  o += clientId.copy(body, o);
  o = body.writeInt32BE(-1, o); // all topics
  body.writeInt8(0, o); // allow_auto_topic_creation = false
  const frame = Buffer.concat([Buffer.alloc(4), body]);
  frame.writeInt32BE(body.length, 0);

  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port: Number(portText) });
    let received = Buffer.alloc(0);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('no answer within 3 s'));
    }, TIMEOUT_MS);
    socket.on('connect', () => socket.write(frame));
    socket.on('data', (chunk) => {
      received = Buffer.concat([received, chunk]);
      if (received.length < 4 || received.length < 4 + received.readInt32BE(0)) return;
      clearTimeout(timer);
      socket.end();
      const correlation = received.readInt32BE(4);
      const brokers = received.readInt32BE(12); // after throttle_time_ms
      if (correlation !== 7) reject(new Error(`unexpected correlation id ${correlation}`));
      else resolve(brokers);
    });
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

function tlsHandshake(hostPort, caFile) {
  const [host, portText] = hostPort.split(':');
  const ca = readFileSync(caFile, 'utf8');
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      host,
      port: Number(portText),
      ca,
      servername: host === '127.0.0.1' ? undefined : host,
    });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('no TLS handshake within 3 s'));
    }, TIMEOUT_MS);
    socket.on('secureConnect', () => {
      clearTimeout(timer);
      const cert = socket.getPeerCertificate();
      socket.end();
      resolve(cert.subjectaltname ?? cert.subject?.CN ?? '?');
    });
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

try {
  if (what === 'kafka') {
    const brokers = await kafkaMetadata(target);
    if (brokers < 1) throw new Error('metadata lists no broker yet');
    console.log(`kafka answers: ${brokers} broker(s)`);
  } else if (what === 'registry') {
    const res = await fetch(`${target}/subjects`, { signal: AbortSignal.timeout(TIMEOUT_MS) });
    if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
    console.log('registry answers: HTTP 200');
  } else if (what === 'tls') {
    const names = await tlsHandshake(target, process.argv[4]);
    console.log(`TLS answers at ${target}, certificate for ${names} signed by the local CA`);
  } else {
    throw new Error('usage: probe.mjs kafka HOST:PORT | registry URL | tls HOST:PORT CA_FILE');
  }
} catch (err) {
  console.log(`${what} does not answer: ${err.message}`);
  process.exit(1);
}
