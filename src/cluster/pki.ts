// SPDX-License-Identifier: Apache-2.0
/**
 * Throw-away PKI for a local cluster: a CA, the apiserver's serving certificate for
 * loopback, the apiserver's client certificate towards kubelets, the service-account signing
 * key, and (for the real node) the kubelet's client and serving certificates. Uses the openssl
 * command line.
 */
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Paths of the files {@link createPki} wrote. */
export interface Pki {
  caCert: string;
  caKey: string;
  serverCert: string;
  serverKey: string;
  serviceAccountKey: string;
  serviceAccountPub: string;
  /** The apiserver's client certificate towards kubelets (`--kubelet-client-certificate`). */
  kubeletClientCert: string;
  kubeletClientKey: string;
}

/** The real node's certificates, from {@link createNodePki}. */
export interface NodePki {
  /** Client certificate (CN=system:node:<node>, O=system:nodes). */
  clientCert: string;
  clientKey: string;
  /** Serving certificate of the kubelet's port (SAN: node name, node IP, loopback). */
  servingCert: string;
  servingKey: string;
}

function openssl(args: string[], cwd: string): void {
  try {
    execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    const e = err as { code?: string; stderr?: Buffer };
    if (e.code === 'ENOENT') throw new Error("openssl is needed to make the local cluster's certificates; install it (e.g. 'apt-get install openssl')", { cause: err });
    throw new Error(`openssl ${args[0]} failed: ${e.stderr?.toString().trim()}`, { cause: err });
  }
}

/** Issues `<base>.crt`/`<base>.key` in `dir`, signed by the CA there, unless present. */
function issue(dir: string, base: string, subject: string, ext: string): void {
  if (existsSync(join(dir, `${base}.crt`))) return;
  writeFileSync(join(dir, `${base}.cnf`), `[ext]\n${ext}\n`);
  openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${base}.key`, '-out', `${base}.csr`, '-subj', subject], dir);
  openssl(['x509', '-req', '-in', `${base}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${base}.crt`, '-days', '3650', '-extfile', `${base}.cnf`, '-extensions', 'ext'], dir);
}

/**
 * Creates the kubelet's certificates for node `node` at `nodeIp` in `dir`, the directory of
 * {@link createPki} (same CA). Idempotent like it.
 */
export function createNodePki(dir: string, node: string, nodeIp: string): NodePki {
  issue(dir, 'kubelet-client', `/O=system:nodes/CN=system:node:${node}`, 'extendedKeyUsage=clientAuth');
  issue(dir, 'kubelet-serving', `/CN=${node}`, `subjectAltName=DNS:${node},IP:${nodeIp},IP:127.0.0.1\nextendedKeyUsage=serverAuth`);
  return {
    clientCert: join(dir, 'kubelet-client.crt'), clientKey: join(dir, 'kubelet-client.key'),
    servingCert: join(dir, 'kubelet-serving.crt'), servingKey: join(dir, 'kubelet-serving.key'),
  };
}

/**
 * Creates the PKI in `dir` (idempotent: existing files are kept, so a restarted
 * cluster keeps its identity).
 */
export function createPki(dir: string): Pki {
  const pki: Pki = {
    caCert: join(dir, 'ca.crt'),
    caKey: join(dir, 'ca.key'),
    serverCert: join(dir, 'apiserver.crt'),
    serverKey: join(dir, 'apiserver.key'),
    serviceAccountKey: join(dir, 'sa.key'),
    serviceAccountPub: join(dir, 'sa.pub'),
    kubeletClientCert: join(dir, 'apiserver-kubelet-client.crt'),
    kubeletClientKey: join(dir, 'apiserver-kubelet-client.key'),
  };
  if (!existsSync(pki.caCert)) {
    openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '3650', '-subj', '/CN=panalysis-local-ca'], dir);
  }
  if (!existsSync(pki.serverCert)) {
    writeFileSync(join(dir, 'san.cnf'), '[ext]\nsubjectAltName=DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,IP:127.0.0.1,IP:10.96.0.1\nextendedKeyUsage=serverAuth\n');
    openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'apiserver.key', '-out', 'apiserver.csr', '-subj', '/CN=kube-apiserver'], dir);
    openssl(['x509', '-req', '-in', 'apiserver.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'apiserver.crt', '-days', '3650', '-extfile', 'san.cnf', '-extensions', 'ext'], dir);
  }
  if (!existsSync(pki.serviceAccountKey)) {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    writeFileSync(pki.serviceAccountKey, privateKey.export({ type: 'pkcs1', format: 'pem' }), { mode: 0o600 });
    writeFileSync(pki.serviceAccountPub, publicKey.export({ type: 'spki', format: 'pem' }));
  }
  issue(dir, 'apiserver-kubelet-client', '/O=system:masters/CN=kube-apiserver-kubelet-client', 'extendedKeyUsage=clientAuth');
  return pki;
}
