import { strict as assert } from 'node:assert';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { renderVideo } from '../../../lib/world/render';
import { decodeVideos, encodeGif, encodeVideos, readVideoFile, writeVideoWithPreview } from '../../../lib/world/video-io';

const spec = { subjects: [{ kind: 'bird' as const, color: 'yellow' as const, size: 'medium' as const, action: 'circle' as const }], scene: 'ocean' as const, style: 'neon' as const, speed: 'normal' as const };
const video = renderVideo(spec, { seed: 1 });
let dir = '';
after(async () => dir && rm(dir, { recursive: true, force: true }));

test('raw tensors round-trip exactly (float32) or to 1/255 (uint8), with ids', () => {
  const other = renderVideo(spec, { seed: 2 });
  const { videos, header } = decodeVideos(encodeVideos([video, other], { ids: ['a', 'b'], meta: { note: 'x' } }));
  assert.deepEqual(header.shape, [2, 16, 32, 32, 3]);
  assert.deepEqual(header.ids, ['a', 'b']);
  assert.deepEqual(videos[0]!.data, video.data);
  assert.deepEqual(videos[1]!.data, other.data);
  const small = decodeVideos(encodeVideos([video], { dtype: 'uint8' }));
  assert.ok(small.videos[0]!.data.every((v, i) => Math.abs(v - video.data[i]!) <= 0.5 / 255 + 1e-6));
  assert.throws(() => decodeVideos(Buffer.from('nope nope')), /bad magic/);
  assert.throws(() => encodeVideos([video, renderVideo(spec, { seed: 1, size: 48 })]), /differs from videos\[0\]/);
});

test('writes a GIF people can open beside the raw file, atomically', async () => {
  dir = await mkdtemp(join(tmpdir(), 'world-io-'));
  const { raw, gif } = await writeVideoWithPreview(join(dir, 'clip'), video, { id: 'clip' });
  const bytes = await readFile(gif);
  assert.equal(bytes.subarray(0, 6).toString('ascii'), 'GIF89a');
  assert.equal(bytes.readUInt16LE(6), 128, '4x upscaled width');
  const frames = [...bytes].filter((b, i) => b === 0x21 && bytes[i + 1] === 0xf9).length;
  assert.ok(frames >= 16, `${frames} frame headers`);
  const back = await readVideoFile(raw);
  assert.deepEqual(back.header.ids, ['clip']);
  assert.deepEqual(back.videos[0]!.data, video.data);
  assert.deepEqual((await readdir(dir)).sort(), ['clip.dipv', 'clip.gif'], 'no temporary files left');
  assert.ok(encodeGif(video, { scale: 1 }).length > 100);
});
