import { h } from '../dom.js';
export async function render(ctx) { ctx.setTitle('reprocess'); ctx.view.append(h('h1', { tabindex: '-1' }, 'reprocess')); }
export const renderOne = render;
export const renderExplorer = render;
