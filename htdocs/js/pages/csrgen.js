import { h } from '../dom.js';
export async function render(ctx) { ctx.setTitle('csrgen'); ctx.view.append(h('h1', { tabindex: '-1' }, 'csrgen')); }
export const renderOne = render;
export const renderExplorer = render;
