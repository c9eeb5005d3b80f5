// Template rendering: zoo.cfg as the ensemble harness renders it, and the guard rails of
// renderTemplate (strict values, safe names).
import { describe, expect, it } from 'vitest';
import { PvcError } from '../../common/errors.ts';
import { renderTemplate } from '../../common/templates.ts';

const servers = [1, 2, 3].map((id) => ({ id, host: '127.0.0.1', quorumPort: 22887 + id, electionPort: 23887 + id }));
const context = {
  tickTimeMs: 500,
  initLimit: 10,
  syncLimit: 5,
  dataDir: '/srv/zk/zk1/data',
  clientPort: 22181,
  clientPortAddress: '127.0.0.1',
  minSessionTimeoutMs: 1000,
  maxSessionTimeoutMs: 30000,
  servers,
};

/** Only the settings: comments and blank lines are for people. */
function settings(text: string): string[] {
  return text.split('\n').filter((line) => line !== '' && !line.startsWith('#'));
}

describe('zoo.cfg', () => {
  it('renders every setting of a 3-server ensemble', () => {
    expect(settings(renderTemplate('zoo.cfg', context))).toEqual([
      'tickTime=500',
      'initLimit=10',
      'syncLimit=5',
      'dataDir=/srv/zk/zk1/data',
      'clientPort=22181',
      'clientPortAddress=127.0.0.1',
      'admin.enableServer=false',
      '4lw.commands.whitelist=*',
      'minSessionTimeout=1000',
      'maxSessionTimeout=30000',
      'server.1=127.0.0.1:22888:23888',
      'server.2=127.0.0.1:22889:23889',
      'server.3=127.0.0.1:22890:23890',
    ]);
  });

  it('renders no server lines for a standalone server', () => {
    expect(settings(renderTemplate('zoo.cfg', { ...context, servers: [] })).filter((line) => line.startsWith('server.'))).toEqual([]);
  });

  it('does not escape values (a config file, not HTML)', () => {
    expect(renderTemplate('zoo.cfg', { ...context, dataDir: "/srv/a&b/<zk>'" })).toContain("dataDir=/srv/a&b/<zk>'\n");
  });

  it('refuses a context that lacks a value instead of writing an empty setting', () => {
    const { tickTimeMs: _omitted, ...partial } = context;
    expect(() => renderTemplate('zoo.cfg', partial)).toThrow(/tickTimeMs/);
  });
});

describe('renderTemplate', () => {
  it.each(['../package.json', '/etc/passwd', 'Zoo.cfg', 'a/../b', ''])('refuses the name %j', (name) => {
    let error: unknown;
    try {
      renderTemplate(name, {});
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(PvcError);
    expect((error as PvcError).message).toContain(JSON.stringify(name));
  });

  it('says which template is missing', () => {
    expect(() => renderTemplate('no-such-template', {})).toThrow(/"no-such-template" not found/);
  });
});
