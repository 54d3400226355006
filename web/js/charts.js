/*
 * charts.js — draws one aggregate's chart from its rows (Chart.js for lines and bars, an
 * HTML grid for the weekday × hour heatmap). A chart is updated in place when new rows
 * arrive (no animation, no re-creation), so a poll never makes the page flicker.
 */
'use strict';
var tpc = window.tpc = window.tpc || {};

tpc.charts = (function () {
	var i18n = tpc.i18n, format = tpc.format;
	var palette = ['#2f5d8a', '#e07b39', '#3a9d5d', '#c9485b', '#8a63b8', '#b8953a',
	    '#3aa6b8', '#6b6b6b', '#d46fa8', '#7a9a2a'];

	function colIndex(body, name) {
		for (var i = 0; i < body.columns.length; i++)
			if (body.columns[i].name === name)
				return i;
		throw new Error('no column ' + name + ' in ' + body.aggregate);
	}

	function distinct(rows, i) {
		var seen = {}, out = [];
		rows.forEach(function (r) {
			var k = String(r[i]);
			if (!seen[k]) {
				seen[k] = true;
				out.push(r[i]);
			}
		});
		return out;
	}

	function colMeta(meta, name) {
		return meta.columns.filter(function (c) { return c.name === name; })[0] ||
		    { name: name };
	}

	/* Chart.js data for a spec: labels and datasets. */
	function chartData(spec, meta, body) {
		var rows = body.rows, xi = colIndex(body, spec.x);

		if (spec.kind === 'stacked') {
			var gi = colIndex(body, spec.group), yi = colIndex(body, spec.y);
			var xs = distinct(rows, xi), gs = distinct(rows, gi);
			var pos = {};
			xs.forEach(function (x, k) { pos[String(x)] = k; });
			return { labels: xs.map(String), datasets: gs.map(function (g, k) {
				var d = xs.map(function () { return 0; });
				rows.forEach(function (r) {
					if (String(r[gi]) === String(g))
						d[pos[String(r[xi])]] += r[yi] || 0;
				});
				return { label: String(g), data: d, backgroundColor:
				    palette[k % palette.length], stack: 's' };
			}) };
		}
		if (spec.top)
			rows = rows.slice().sort(function (a, b) {
				return (b[colIndex(body, spec.y[0])] || 0) -
				    (a[colIndex(body, spec.y[0])] || 0);
			}).slice(0, spec.top);
		return { labels: rows.map(function (r) { return String(r[xi]); }),
		    datasets: spec.y.map(function (name, k) {
			var yi = colIndex(body, name), c = palette[k % palette.length];
			return { label: format.heading(colMeta(meta, name)),
			    data: rows.map(function (r) { return r[yi]; }),
			    borderColor: c, backgroundColor: c, pointRadius: 0,
			    borderWidth: spec.kind === 'line' ? 2 : 0 };
		}) };
	}

	function chartOptions(spec, meta) {
		var stacked = spec.kind === 'stacked';
		var o = {
			animation: false, responsive: true, maintainAspectRatio: false,
			interaction: { mode: 'index', intersect: false },
			plugins: { legend: { position: 'bottom' } },
			scales: {
				x: { stacked: stacked, ticks: { autoSkip: true, maxTicksLimit: 14,
				    maxRotation: 0 } },
				y: { stacked: stacked, beginAtZero: true, ticks: {
				    callback: function (v) { return format.number(v, 2); } } }
			}
		};
		if (stacked) {
			var m = colMeta(meta, spec.y), u = format.unit(m.unit);
			o.plugins.title = { display: true, text: i18n.title(m) + (u ? ' (' + u + ')' :
			    '') };
		}
		if (spec.kind === 'bars' && spec.top) {
			o.indexAxis = 'y';
			o.scales = { x: o.scales.y, y: { ticks: { autoSkip: false } } };
		}
		return o;
	}

	/* The weekday × hour grid: one row per weekday, one cell per hour, shaded by value. */
	function heatmap(el, spec, meta, body) {
		var ri = colIndex(body, spec.row), li = colIndex(body, spec.rowLabel);
		var ci = colIndex(body, spec.col), vi = colIndex(body, spec.value);
		var rows = distinct(body.rows, ri).sort(function (a, b) { return a - b; });
		var cols = distinct(body.rows, ci).sort(function (a, b) { return a - b; });
		var val = {}, label = {}, max = 0;
		var t = document.createElement('table'), tr, th, td;

		body.rows.forEach(function (r) {
			val[r[ri] + ':' + r[ci]] = r[vi];
			label[r[ri]] = r[li];
			max = Math.max(max, r[vi] || 0);
		});
		t.className = 'heat';
		var cap = document.createElement('caption');
		cap.textContent = i18n.t('weekday_hour') + ': ' + format.heading(colMeta(meta,
		    spec.value));
		t.appendChild(cap);
		tr = t.insertRow();
		tr.appendChild(document.createElement('th'));
		cols.forEach(function (c) {
			th = document.createElement('th');
			th.scope = 'col';
			th.textContent = c;
			tr.appendChild(th);
		});
		rows.forEach(function (r) {
			tr = t.insertRow();
			th = document.createElement('th');
			th.scope = 'row';
			th.textContent = label[r];
			tr.appendChild(th);
			cols.forEach(function (c) {
				var v = val[r + ':' + c] || 0, f = max > 0 ? v / max : 0;
				td = tr.insertCell();
				td.title = label[r] + ' ' + c + ': ' + format.number(v, 0);
				td.style.backgroundColor = 'rgba(47, 93, 138, ' + (0.06 + 0.94 * f)
				    .toFixed(3) + ')';
				if (f > 0.55)
					td.className = 'dark';
			});
		});
		el.textContent = '';
		el.appendChild(t);
	}

	/*
	 * Draws body into el (an empty element) and returns a handle whose update(body)
	 * redraws in place and destroy() frees the chart.
	 */
	function render(el, spec, meta, body) {
		if (spec.kind === 'heatmap') {
			el.classList.add('heatwrap');
			heatmap(el, spec, meta, body);
			return { update: function (b) { heatmap(el, spec, meta, b); },
			    destroy: function () { el.textContent = ''; } };
		}
		var canvas = document.createElement('canvas');
		canvas.setAttribute('role', 'img');
		canvas.setAttribute('aria-label', i18n.title(meta));
		el.appendChild(canvas);
		var chart = new window.Chart(canvas, { type: spec.kind === 'line' ? 'line' : 'bar',
		    data: chartData(spec, meta, body), options: chartOptions(spec, meta) });
		return {
			update: function (b) {
				var d = chartData(spec, meta, b);
				chart.data.labels = d.labels;
				chart.data.datasets = d.datasets;
				chart.update('none');
			},
			destroy: function () { chart.destroy(); }
		};
	}

	return { render: render };
})();
