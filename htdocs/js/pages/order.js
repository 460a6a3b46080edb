import { h } from '../dom.js';
export async function render(ctx) { ctx.setTitle('order'); ctx.view.append(h('h1', { tabindex: '-1' }, 'order')); }
export const renderOne = render;
export const renderExplorer = render;
