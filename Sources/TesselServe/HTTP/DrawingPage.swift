/// The page at `GET /`: draw a digit on a canvas; on every stroke the page scales it to the
/// model's 28x28, posts it to `/v1/predict` as JSON and shows the label and the probabilities.
let drawingPage = """
<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Tessel: draw a digit</title>
<style>
body { font-family: sans-serif; margin: 24px; color: #222; }
#pad { border: 1px solid #888; background: #000; touch-action: none; cursor: crosshair; }
#label { font-size: 48px; font-weight: bold; margin: 8px 0; }
.bar { display: flex; align-items: center; gap: 8px; font-size: 13px; }
.bar span { display: inline-block; width: 1.5em; }
.bar div { background: #1f5fa8; height: 12px; }
</style></head><body>
<h1>Draw a digit</h1>
<canvas id="pad" width="280" height="280"></canvas>
<p><button id="clear">Clear</button></p>
<div id="label">?</div>
<div id="bars"></div>
<script>
const pad = document.getElementById('pad'), ctx = pad.getContext('2d');
ctx.lineWidth = 20; ctx.lineCap = 'round'; ctx.strokeStyle = '#fff';
let drawing = false;
function point(e) { const r = pad.getBoundingClientRect(); return [e.clientX - r.left, e.clientY - r.top]; }
pad.addEventListener('pointerdown', e => { drawing = true; const [x, y] = point(e); ctx.beginPath(); ctx.moveTo(x, y); });
pad.addEventListener('pointermove', e => { if (!drawing) return; const [x, y] = point(e); ctx.lineTo(x, y); ctx.stroke(); });
window.addEventListener('pointerup', () => { if (drawing) { drawing = false; predict(); } });
document.getElementById('clear').onclick = () => { ctx.fillStyle = '#000'; ctx.fillRect(0, 0, 280, 280); document.getElementById('label').textContent = '?'; document.getElementById('bars').innerHTML = ''; };
async function predict() {
  const small = document.createElement('canvas'); small.width = 28; small.height = 28;
  const s = small.getContext('2d'); s.drawImage(pad, 0, 0, 28, 28);
  const data = s.getImageData(0, 0, 28, 28).data, pixels = [];
  for (let i = 0; i < data.length; i += 4) pixels.push(data[i]);
  const response = await fetch('/v1/predict', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ pixels }) });
  const answer = await response.json();
  if (!response.ok) { document.getElementById('label').textContent = answer.error; return; }
  document.getElementById('label').textContent = answer.label;
  document.getElementById('bars').innerHTML = answer.probabilities.map((p, i) =>
    `<div class="bar"><span>${i}</span><div style="width:${Math.round(p * 300)}px"></div>${p.toFixed(3)}</div>`).join('');
}
document.getElementById('clear').onclick();
// `#stroke`: draw a "1" with real pointer events, as a person's mouse would (what the
// headless-browser test of this page does).
if (location.hash === '#stroke') {
  const r = pad.getBoundingClientRect();
  const at = (x, y) => ({ clientX: r.left + x, clientY: r.top + y, bubbles: true, pointerId: 1 });
  pad.dispatchEvent(new PointerEvent('pointerdown', at(140, 40)));
  for (let y = 40; y <= 240; y += 10) pad.dispatchEvent(new PointerEvent('pointermove', at(140, y)));
  window.dispatchEvent(new PointerEvent('pointerup', at(140, 240)));
}
</script>
</body></html>
"""
