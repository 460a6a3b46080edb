import { h } from '../dom.js';
export async function render(ctx) { ctx.setTitle('csrs'); ctx.view.append(h('h1', { tabindex: '-1' }, 'csrs')); }
export const renderOne = render;
export const renderExplorer = render;
