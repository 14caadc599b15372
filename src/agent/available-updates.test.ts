// The agent asks the real apt-get what it would upgrade, against a root with its own package
// lists (a local repository offering a newer libuuid1), and says so when it cannot tell.
import { beforeAll, describe, expect, it } from 'vitest';
import { debianRoot, rootWithAptRepository } from '../../test/control-plane-fixtures.js';
import { requireTool } from '../../test/required-tools.js';
import { collectAvailableUpdates } from './available-updates.js';

describe('collectAvailableUpdates with apt-get', () => {
  beforeAll(() => {
    requireTool('apt');
  });

  it('lists the upgrade the root\'s repositories offer', async () => {
    const log: string[] = [];
    const updates = await collectAvailableUpdates(rootWithAptRepository(), 'dpkg-status', [], (message) => log.push(message));
    expect(updates).toEqual([{ name: 'libuuid1', arch: 'amd64', installedVersion: '2.38.1-5+deb12u3', candidateVersion: '2.38.1-5+deb12u4', repository: 'localhost' }]);
    expect(log).toEqual([]);
  });

  it('reports nothing, and says why, when apt has no package lists', async () => {
    const log: string[] = [];
    expect(await collectAvailableUpdates(debianRoot(), 'dpkg-status', [], (message) => log.push(message))).toBeUndefined();
    expect(log[0]).toMatch(/no apt package lists .* available updates not reported/);
  });
});
