import { h } from '../dom.js';
export async function render(ctx) { ctx.setTitle('cart'); ctx.view.append(h('h1', { tabindex: '-1' }, 'cart')); }
export const renderOne = render;
export const renderExplorer = render;
