import { h } from '../dom.js';
export async function render(ctx) { ctx.setTitle('shop'); ctx.view.append(h('h1', { tabindex: '-1' }, 'shop')); }
export const renderOne = render;
export const renderExplorer = render;
