import { h } from '../dom.js';
export async function render(ctx) { ctx.setTitle('folders'); ctx.view.append(h('h1', { tabindex: '-1' }, 'folders')); }
export const renderOne = render;
export const renderExplorer = render;
