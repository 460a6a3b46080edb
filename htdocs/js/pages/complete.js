import { h } from '../dom.js';
export async function render(ctx) { ctx.setTitle('complete'); ctx.view.append(h('h1', { tabindex: '-1' }, 'complete')); }
export const renderOne = render;
export const renderExplorer = render;
