// The tagged template every component renders with: htm bound to Preact's h, so markup reads like
// HTML without a build step, and every interpolated value becomes a text node or a property, never
// parsed markup (no component uses dangerouslySetInnerHTML; keep it that way).
import { h } from 'preact';
import htm from 'htm';

export const html = htm.bind(h);
