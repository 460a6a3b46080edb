import { h } from '../dom.js';
export async function render(ctx) { ctx.setTitle('seal'); ctx.view.append(h('h1', { tabindex: '-1' }, 'seal')); }
export const renderOne = render;
export const renderExplorer = render;
