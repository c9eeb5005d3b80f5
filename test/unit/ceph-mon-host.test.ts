import { describe, expect, it } from 'vitest';
import { monitorsFromCephConf } from '../../daemon/drivers/ceph/mon-host.ts';
import { thrown } from '../helpers/thrown.ts';

describe('monitorsFromCephConf', () => {
  it('reads the v1 address of each address vector', () => {
    const conf = '[global]\nfsid = x\nmon host = [v2:127.0.0.1:3300,v1:127.0.0.1:6789] [v2:10.0.0.2:3300,v1:10.0.0.2:6790]\n';
    expect(monitorsFromCephConf(conf, 'c')).toEqual([{ host: '127.0.0.1', port: 6789 }, { host: '10.0.0.2', port: 6790 }]);
  });

  it('reads plain lists, with or without ports, in any spelling of the key', () => {
    expect(monitorsFromCephConf('mon_host = 10.0.0.1,10.0.0.2:6800', 'c')).toEqual([{ host: '10.0.0.1', port: 6789 }, { host: '10.0.0.2', port: 6800 }]);
    expect(monitorsFromCephConf('[global]\n  mon-host = mon1.example ; comment\n', 'c')).toEqual([{ host: 'mon1.example', port: 6789 }]);
  });

  it('ignores other sections and names the file when the line is missing', () => {
    expect(thrown(() => monitorsFromCephConf('[client]\nmon host = 1.2.3.4\n', '/etc/ceph/ceph.conf')).message).toBe('ceph config /etc/ceph/ceph.conf has no "mon host" line');
  });

  it('refuses an address it cannot read, naming it', () => {
    expect(thrown(() => monitorsFromCephConf('mon host = [v2:bad host]', 'c')).message).toContain('cannot read monitor address');
  });
});
