// First, before anything that could start a thread (seal-addon-first.ts).
import '../../seal/seal-addon-first';

import { mkdirSync } from 'node:fs';
import { Socket } from 'node:net';
import { relative, resolve } from 'node:path';

import { isInstallPackageReply, isModelsReply } from '../../core/annotate-messages';
import { AiBridgeError } from '../../core/ai-bridge-error';
import { writeLogEvent } from '../../core/log-event';
import type { Frame } from '../../core/frame-codec';
import { FrameChannel } from '../../core/frame-channel';
import { sealShortfall } from '../../core/seal-report';
import type { UplinkInitRequest, UplinkReady } from '../../core/uplink-messages';
import { runAfterSealHook } from '../../seal/after-seal-hook';
import { runtimeReadablePaths } from '../../seal/runtime-paths';
import { sealProcess } from '../../seal/seal-process';
import { CentralLink } from './central-link';
import { installError, type ModelInstaller } from './model-installer';

/**
 * The uplink: the only process of the site that talks to the central server
 * (de-identified zone). It seals itself on the init request: TCP client
 * sockets only, connecting only to the central server's port (Landlock), no
 * DNS (the gateway resolved the host), reads only central/ (the upload queue
 * the annotator filled, its link state, the request progress), the token and
 * registry key files and its own code; writes only central/. It downloads
 * packages into central/staging/ and asks the annotator, through the gateway,
 * to install them: it cannot write models/, the annotator cannot reach the
 * network.
 */
const channel = new FrameChannel(new Socket({ fd: 3, readable: true, writable: true }));
let link: CentralLink | undefined;

channel.on('request', (frame) => {
  if (frame.header.k === 'init') void initialise(frame);
  else channel.reply(frame, { k: 'error', message: `unknown request ${frame.header.k}` });
});
channel.on('closed', () => { link?.stop(); process.exit(0); });

function defaultPort(url: URL): number {
  if (url.port !== '') return Number(url.port);
  return url.protocol === 'https:' ? 443 : 80;
}

async function initialise(frame: Frame): Promise<void> {
  try {
    if (link !== undefined) throw new Error('already initialised');
    const init = frame.header as unknown as UplinkInitRequest;
    const centralDirectory = resolve(init.centralDirectory);
    mkdirSync(centralDirectory, { recursive: true, mode: 0o700 });
    const { central } = init;
    // Synchronous up to the seal: no thread may start before it (seal-process.ts).
    const seal = sealProcess({
      // The token is read on every request (rewritten in place, it needs no restart); the key once.
      readablePaths: [...runtimeReadablePaths(), central.siteTokenFile, central.registryPublicKeyFile],
      writablePaths: [centralDirectory],
      tcpConnectPorts: [defaultPort(new URL(central.url))],
    });
    const shortfall = sealShortfall('uplink', seal);
    if (shortfall !== undefined) throw new AiBridgeError('AIB_SEAL_INCOMPLETE', `sealed incompletely: ${shortfall}`);
    link = new CentralLink(central, gatewayInstaller(centralDirectory), centralDirectory, (line) => { writeLogEvent('uplink', 'info', 'central-link', { stage: 'central-link', message: line }); },
      init.addresses);
    await runAfterSealHook('uplink', centralDirectory);
    link.start();
    const ready: UplinkReady = { k: 'ready', seal };
    channel.reply(frame, { ...ready });
  } catch (error) {
    const code = error instanceof AiBridgeError ? error.code : 'AIB_SEAL_FAILED';
    channel.reply(frame, { k: 'initFailed', code, message: error instanceof Error ? error.message : String(error) });
    setTimeout(() => { process.exit(1); }, 100);
  }
}

/** Installation through the gateway, which relays the two requests to an annotator as they are. */
function gatewayInstaller(centralDirectory: string): ModelInstaller {
  return {
    versions: async (modelId) => {
      const reply = (await channel.request({ k: 'list-models' })).header;
      if (!isModelsReply(reply)) throw installError('AIB_CENTRAL_UNREACHABLE', 'the annotator did not list its models (is annotation on?)', true);
      return reply.models.find((m) => m.id === modelId)?.versions.map((v) => v.version) ?? [];
    },
    install: async (stagingDir, author) => {
      const reply = (await channel.request({
        k: 'install-package', staging: relative(centralDirectory, stagingDir), authorKeyId: author.keyId, authorKeyPem: author.publicKeyPem,
      })).header;
      if (!isInstallPackageReply(reply)) throw installError('AIB_CENTRAL_UNREACHABLE', 'the annotator did not answer the installation', true);
      if (!reply.ok) throw installError(reply.code, reply.message, reply.transient);
      return { commissioningFraction: reply.commissioningFraction };
    },
  };
}
