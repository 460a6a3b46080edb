// The order-token page (/otp.html#order=ID&token=TOKEN): the holder of an order token
// sees its order's names and validation state and can ask for a new check.
const params = new URLSearchParams(location.hash.slice(1));
const order = params.get('order');
const token = params.get('token');
const box = document.getElementById('otp-order');
const button = document.getElementById('otp-validate');

function say(text) {
  box.textContent = text;
}

async function call(method, path) {
  const r = await fetch('/v1beta/ssl/orders/' + encodeURIComponent(order) + path, {
    method,
    headers: { Authorization: 'Bearer ' + token, Accept: 'application/json' },
  });
  const body = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error(body.desc || ('HTTP ' + r.status));
  return body.data;
}

function show(o, v) {
  box.replaceChildren();
  const h = document.createElement('h2');
  h.textContent = o.common_name + ' (' + o.status + ')';
  const list = document.createElement('ul');
  for (const n of (v && v.names) || []) {
    const li = document.createElement('li');
    li.textContent = n.host_name + ': ' + n.method + ', ' + n.state;
    list.append(li);
  }
  box.append(h, list);
  button.hidden = false;
}

async function load() {
  if (!order || !/^[0-9]+$/.test(order) || !token) {
    say('This link is incomplete: it needs the order and its token.');
    return;
  }
  try {
    show(await call('GET', ''), await call('GET', '/validation'));
  } catch (e) {
    say('The order cannot be shown: ' + e.message);
  }
}

button.addEventListener('click', async () => {
  try {
    await call('POST', '/validate');
  } catch (e) {
    say('The check failed: ' + e.message);
    return;
  }
  load();
});

load();
